/* nhs: what the NHS Choices and NHS website connectors share. */
#include "nhs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "connector.h"
#include "date.h"
#include "htmltext.h"

static int
nhs_rate_limited(const struct conn_response *r, const char *what,
    struct conn_error *e)
{
	long secs = 0;
	int rc = conn_retry_after(r, &secs);

	if (rc == -1)
		return conn_fail(e, CONN_ERR_TRANSIENT, "%s: HTTP %ld with a "
		    "Retry-After date and no Date header", what, r->status);
	/* A 503 that does not say when is an outage, not a limit. */
	if (rc == 0 && r->status == 503)
		return conn_fail(e, CONN_ERR_TRANSIENT, "%s: HTTP 503", what);
	conn_fail(e, CONN_ERR_RATE_LIMITED, "%s: HTTP %ld: rate limited",
	    what, r->status);
	e->retry_after = secs;
	return -1;
}

int
nhs_status(const struct conn_response *r, const char *what,
    struct conn_error *e)
{
	long s = r->status;

	e->retry_after = 0;
	if (s >= 200 && s <= 299)
		return 0;
	if (s == 429 || s == 503)
		return nhs_rate_limited(r, what, e);
	/* The key is never echoed: it may be in the URL. */
	if (s == 401 || s == 403)
		return conn_fail(e, CONN_ERR_AUTH, "%s: HTTP %ld: the API key "
		    "was refused", what, s);
	if (s == 404 || s == 410)
		return conn_fail(e, CONN_ERR_NOT_FOUND, "%s: HTTP %ld: "
		    "no such resource", what, s);
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, CONN_ERR_CONFIG, "%s: HTTP %ld", what, s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "%s: HTTP %ld", what, s);
}

/* Writes code point c as UTF-8 at out; the bytes written. */
static size_t
nhs_utf8(unsigned long c, char *out)
{
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		out[0] = (char)(0xc0 | (c >> 6));
		out[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		out[0] = (char)(0xe0 | (c >> 12));
		out[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (c >> 18));
	out[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	out[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

/* "&#39;", "&#x27;": the code point, or 0 if not a good one. */
static unsigned long
nhs_charref(const char *p, size_t n)
{
	unsigned long c;
	char *end;
	int base = 10;

	if (n > 1 && (p[0] == 'x' || p[0] == 'X')) {
		base = 16;
		p++;
		n--;
	}
	if (n == 0 || n > 8 || strchr("0123456789abcdefABCDEF", *p) == NULL)
		return 0;
	c = strtoul(p, &end, base);
	if (end != p + n || c == 0 || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return 0;
	return c;
}

/*
 * The reference at s ("&amp;", "&#39;"...) decoded into out; its
 * length in s, or 0 if it is not one we know (it is then kept).
 */
static size_t
nhs_entity(const char *s, char *out, size_t *outlen)
{
	static const struct {
		const char	*name;
		char		 c;
	} named[] = {
		{ "amp", '&' }, { "lt", '<' }, { "gt", '>' },
		{ "quot", '"' }, { "apos", '\'' },
	};
	size_t n = strcspn(s + 1, ";& \t\r\n<"), i;
	unsigned long c;

	if (s[1 + n] != ';' || n == 0)
		return 0;
	if (s[1] == '#') {
		if ((c = nhs_charref(s + 2, n - 1)) == 0)
			return 0;
		*outlen = nhs_utf8(c, out);
		return n + 2;
	}
	for (i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		if (strlen(named[i].name) == n &&
		    strncmp(s + 1, named[i].name, n) == 0) {
			out[0] = named[i].c;
			*outlen = 1;
			return n + 2;
		}
	return 0;
}

/* One level of XML's references decoded; HTML's names are kept. */
static char *
nhs_unescape(struct arena *a, const char *s)
{
	char *out = arena_alloc(a, strlen(s) + 1), *o = out;
	size_t used, n;

	/* No reference is shorter than what it stands for. */
	while (*s != '\0') {
		if (*s == '&' && (used = nhs_entity(s, o, &n)) > 0) {
			s += used;
			o += n;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

const char *
nhs_text(struct arena *a, const char *s, size_t max, int flags,
    int unescape)
{
	const char *in, *out;
	char *t;

	if (s == NULL)
		return NULL;
	in = unescape ? nhs_unescape(a, s) : s;
	t = htmltext_plain(in, strlen(in), max, flags);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

int
nhs_id_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

	return n > 0 && n <= NHS_ID_MAX && s[n] == '\0';
}

int
nhs_key_ok(const char *s)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~-");

	return n > 0 && n <= NHS_KEY_MAX && s[n] == '\0';
}

/* No blanks or controls, bounded. */
static int
nhs_clean(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f)
			return 0;
	return n > 0 && n <= NHS_URL_MAX;
}

/* Length of "http://" or "https://" at the start of s, else 0. */
static size_t
nhs_scheme(const char *s)
{
	if (strncasecmp(s, "http://", 7) == 0)
		return 7;
	if (strncasecmp(s, "https://", 8) == 0)
		return 8;
	return 0;
}

const char *
nhs_base_url(struct arena *a, const char *url)
{
	size_t n, len;

	if (!nhs_clean(url) || (n = nhs_scheme(url)) == 0 ||
	    strchr("/?#:@", url[n]) != NULL || strpbrk(url, "?#") != NULL)
		return NULL;
	len = strlen(url);
	while (len > n && url[len - 1] == '/')
		len--;
	return arena_strndup(a, url, len);
}

const char *
nhs_origin(struct arena *a, const char *base)
{
	size_t n = nhs_scheme(base);

	return arena_strndup(a, base, n + strcspn(base + n, "/"));
}

const char *
nhs_link(struct arena *a, const char *s)
{
	char *out;
	size_t i;

	if (s == NULL || !nhs_clean(s) || nhs_scheme(s) == 0 ||
	    strchr("/?#:@", s[nhs_scheme(s)]) != NULL)
		return NULL;
	out = arena_strdup(a, s);
	/* "HTTPS://" is as good, but readers of ours look for "https://". */
	for (i = 0; out[i] != ':'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] += 'a' - 'A';
	return out;
}

const char *
nhs_iso(struct arena *a, int64_t t)
{
	char iso[DATE_ISO_SIZE];

	if (date_format(t, iso, sizeof(iso)) == -1)
		return NULL;
	return arena_strdup(a, iso);
}

const char *
nhs_day(struct arena *a, int64_t t, int days)
{
	char iso[DATE_ISO_SIZE];

	if (date_format(t - (int64_t)days * 86400, iso, sizeof(iso)) == -1)
		return NULL;
	return arena_strndup(a, iso, 10);
}

void
nhs_scrub(struct conn_error *e, const char *secret)
{
	char out[sizeof(e->msg)], *p, *m = e->msg;
	size_t n = strlen(secret), len = 0;

	if (n == 0 || strstr(m, secret) == NULL)
		return;
	while ((p = strstr(m, secret)) != NULL) {
		len += snprintf(out + len, sizeof(out) - len, "%.*s[key]",
		    (int)(p - m), m);
		if (len >= sizeof(out))
			break;
		m = p + n;
	}
	if (len < sizeof(out))
		snprintf(out + len, sizeof(out) - len, "%s", m);
	snprintf(e->msg, sizeof(e->msg), "%s", out);
}

const char *
nhs_json_text(struct arena *a, json_t *obj)
{
	const char *out;
	char *s;

	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}
