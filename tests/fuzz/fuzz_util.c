/* fuzz_util: what every connector's fuzz harness needs: a response
 * from raw bytes, and the checks that abort on a broken invariant. */
#include "fuzz_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

void
fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz: broken invariant: %s\n", what);
		abort();
	}
}

void
fuzz_text(const char *s, size_t max, int lines, const char *what)
{
	size_t i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	fuzz_check(n > 0 && n <= max, what);
	for (i = 0; i < n; i++)
		fuzz_check((unsigned char)s[i] >= 0x20 ||
		    (lines && s[i] == '\n'), what);
}

void
fuzz_json_object(const char *s, const char *what)
{
	json_t *v = s != NULL ? json_loads(s, 0, NULL) : NULL;

	fuzz_check(json_is_object(v), what);
	json_decref(v);
}

int
fuzz_word(const char *s, const char *set, size_t lo, size_t hi)
{
	size_t n = strspn(s, set);

	return s[n] == '\0' && n >= lo && n <= hi;
}

/* "HTTP/1.1 200 OK", headers, blank line, body; cut in place. */
static void
fuzz_http(struct fuzz_resp *fr, char *p, char *end)
{
	char *nl, *colon;

	fr->r.status = strtol(p + strcspn(p, " "), NULL, 10);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0' && p != fr->copy) {
			p = nl + 1;
			break;
		}
		if ((colon = strchr(p, ':')) != NULL &&
		    fr->r.nheaders < FUZZ_MAX_HEADERS && p != fr->copy) {
			*colon = '\0';
			fr->hdr[fr->r.nheaders].name = p;
			fr->hdr[fr->r.nheaders++].value = colon + 1 +
			    strspn(colon + 1, " \t");
		}
		p = nl + 1;
	}
	fr->r.body = p;
	fr->r.body_len = (size_t)(end - p);
}

void
fuzz_response(struct fuzz_resp *fr, const uint8_t *data, size_t size,
    const char *effective_url)
{
	memset(fr, 0, sizeof(*fr));
	fr->copy = malloc(size + 1);
	fuzz_check(fr->copy != NULL, "malloc");
	memcpy(fr->copy, data, size);
	fr->copy[size] = '\0';
	fr->r.headers = fr->hdr;
	fr->r.effective_url = effective_url;
	if (size > 5 && memcmp(data, "HTTP/", 5) == 0) {
		fuzz_http(fr, fr->copy, fr->copy + size);
		return;
	}
	fr->r.status = 200;
	fr->r.body = fr->copy;
	fr->r.body_len = size;
}
