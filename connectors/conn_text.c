/* conn_text: checks and encodings every API connector's requests need. */
#include "conn_text.h"

#include <string.h>
#include <strings.h>

#include "buf.h"

int
conn_word(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f)
			return 0;
	return n > 0 && n <= max;
}

int
conn_loopback(const char *host, size_t n)
{
	static const char *const names[] = { "127.0.0.1", "localhost",
	    "[::1]" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (n == strlen(names[i]) &&
		    strncasecmp(host, names[i], n) == 0)
			return 1;
	return 0;
}

int
conn_decimal_id(const char *s, size_t max)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "0123456789");
	return n > 0 && n <= max && s[n] == '\0';
}

int
conn_decimal_cmp(const char *a, const char *b)
{
	size_t na, nb;
	int c;

	a += strspn(a, "0");
	b += strspn(b, "0");
	na = strlen(a);
	nb = strlen(b);
	if (na != nb)
		return na < nb ? -1 : 1;
	c = strcmp(a, b);
	return c < 0 ? -1 : c > 0;
}

void
conn_url_encode(struct buf *b, const char *s, int form)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char esc[3];

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~", *p) != NULL)
			buf_append(b, p, 1);
		else if (*p == ' ' && form)
			buf_append(b, "+", 1);
		else {
			esc[0] = '%';
			esc[1] = hex[*p >> 4];
			esc[2] = hex[*p & 15];
			buf_append(b, esc, 3);
		}
	}
}
