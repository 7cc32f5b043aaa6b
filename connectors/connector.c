/* connector: helpers every connector shares (errors, settings, headers). */
#include "connector.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arena.h"
#include "date.h"

const char *
conn_err_name(enum conn_err code)
{
	static const char *const names[] = {
		[CONN_OK] = "ok",
		[CONN_ERR_MALFORMED] = "malformed",
		[CONN_ERR_AUTH] = "auth",
		[CONN_ERR_RATE_LIMITED] = "rate-limited",
		[CONN_ERR_TRANSIENT] = "transient",
		[CONN_ERR_CONFIG] = "config",
		[CONN_ERR_NOT_FOUND] = "not-found",
		[CONN_ERR_REFUSED] = "refused",
	};

	if ((size_t)code >= sizeof(names) / sizeof(names[0]) ||
	    names[code] == NULL)
		return "unknown";
	return names[code];
}

int
conn_fail(struct conn_error *e, enum conn_err code, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *
conn_settings_get(const struct conn_settings *set, const char *key)
{
	size_t i;

	if (set == NULL)
		return NULL;
	for (i = 0; i < set->n; i++)
		if (strcmp(set->kv[i].key, key) == 0)
			return set->kv[i].value;
	return NULL;
}

int
conn_request_header(struct conn_request *r, struct arena *a,
    const char *name, const char *value)
{
	if (r->nheaders >= CONN_MAX_HEADERS)
		return -1;
	r->headers[r->nheaders++] = arena_printf(a, "%s: %s", name, value);
	return 0;
}

int
conn_retry_after(const struct conn_response *r, long *secs)
{
	const char *v = conn_response_header(r, "Retry-After");
	const char *now = conn_response_header(r, "Date");
	int64_t when, t0;
	char *end;
	long n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (end != v && v[0] >= '0' && v[0] <= '9' &&
	    strspn(end, " \t") == strlen(end)) {
		*secs = n > CONN_RETRY_MAX ? CONN_RETRY_MAX : n;
		return 1;
	}
	if (date_parse_rfc822(v, &when) == -1)
		return 0;
	if (now == NULL || date_parse_rfc822(now, &t0) == -1)
		return -1;
	when -= t0;
	*secs = when < 0 ? 0 : when > CONN_RETRY_MAX ? CONN_RETRY_MAX :
	    (long)when;
	return 1;
}

const char *
conn_response_header(const struct conn_response *r, const char *name)
{
	const char *v = NULL;
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			v = r->headers[i].value;
	return v;
}
