/* jsonout: the inbox's JSON values for times, text and nullable columns. */
#include "jsonout.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "date.h"
#include "xmalloc.h"

json_t *
jsonout_time(int64_t t)
{
	char buf[DATE_ISO_SIZE];

	if (t == 0 || date_format(t, buf, sizeof(buf)) == -1)
		return json_null();
	return json_string(buf);
}

/* Length of the valid UTF-8 sequence at p, or 0 if it is not one. */
static size_t
jsonout_utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], cp;
	size_t n, i;

	if (c < 0x80)
		return 1;
	if (c < 0xc2 || c > 0xf4)
		return 0;	/* a continuation, or an overlong 2-byte lead */
	n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
	cp = c & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates and beyond U+10FFFF are not UTF-8. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

char *
jsonout_utf8_repair(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, o = 0;
	char *out;

	if (s == NULL)
		return NULL;
	while (*p != '\0' && (n = jsonout_utf8_len(p)) != 0)
		p += n;
	if (*p == '\0')
		return NULL;
	out = xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p += n) {
		if ((n = jsonout_utf8_len(p)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			n = 1;
		} else {
			memcpy(out + o, p, n);
			o += n;
		}
	}
	out[o] = '\0';
	return out;
}

json_t *
jsonout_str(const char *s)
{
	json_t *j;
	char *fixed;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	fixed = jsonout_utf8_repair(s);
	j = json_string(fixed != NULL ? fixed : "");
	free(fixed);
	return j;
}

json_t *
jsonout_col_str(sqlite3_stmt *st, int i)
{
	return jsonout_str((const char *)sqlite3_column_text(st, i));
}

json_t *
jsonout_col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

json_t *
jsonout_col_time(sqlite3_stmt *st, int i)
{
	return jsonout_time(sqlite3_column_int64(st, i));
}
