/* api: the JSON API's route table, route matching and handler helpers. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api_auth.h"
#include "api_orgs.h"
#include "api_sources.h"
#include "api_stats.h"
#include "api_threads.h"
#include "api_users.h"
#include "audit.h"
#include "heard.h"
#include "log.h"
#include "webhook_facebook.h"

/*
 * Every route, grouped by the file that handles it. First match wins,
 * so a literal segment ("/threads/counts") goes before a capture at
 * the same place ("/threads/{id}").
 */
const struct api_route api_routes[] = {
	/* api_auth.c: sessions, tokens, invitations */
	{ "POST", "/api/v1/login", API_PUBLIC, api_auth_login },
	{ "POST", "/api/v1/logout", API_USER, api_auth_logout },
	{ "GET", "/api/v1/me", API_USER, api_auth_me },
	{ "PUT", "/api/v1/me/notify", API_USER, api_auth_notify },
	{ "GET", "/api/v1/tokens", API_USER, api_auth_tokens },
	{ "POST", "/api/v1/tokens", API_USER, api_auth_token_new },
	{ "DELETE", "/api/v1/tokens/{id}", API_USER, api_auth_token_revoke },
	{ "POST", "/api/v1/invitations/accept", API_PUBLIC,
	    api_auth_invitation_accept },
	/* api_threads.c: conversations */
	{ "GET", "/api/v1/threads", API_USER, api_threads_list },
	{ "GET", "/api/v1/threads/counts", API_USER, api_threads_counts },
	{ "GET", "/api/v1/threads/{id}", API_USER, api_threads_get },
	{ "POST", "/api/v1/threads/{id}/read", API_USER, api_threads_read },
	{ "DELETE", "/api/v1/threads/{id}/read", API_USER,
	    api_threads_unread },
	{ "POST", "/api/v1/threads/{id}/replies", API_USER,
	    api_threads_reply },
	{ "POST", "/api/v1/threads/{id}/status", API_USER,
	    api_threads_status },
	{ "POST", "/api/v1/threads/{id}/assign", API_USER,
	    api_threads_assign },
	{ "POST", "/api/v1/threads/{id}/severity", API_USER,
	    api_threads_severity },
	{ "PUT", "/api/v1/threads/{id}/tags", API_USER, api_threads_tags },
	{ "POST", "/api/v1/threads/{id}/hide", API_USER, api_threads_hide },
	{ "POST", "/api/v1/threads/{id}/unhide", API_USER,
	    api_threads_unhide },
	/* api_orgs.c: the ODS list and sign-up */
	{ "GET", "/api/v1/organisations", API_USER, api_orgs_search },
	{ "GET", "/api/v1/organisations/{code}", API_USER, api_orgs_get },
	{ "POST", "/api/v1/organisations/{code}/signup", API_USER,
	    api_orgs_signup },
	/* api_sources.c: sources and connectors */
	{ "GET", "/api/v1/sources", API_USER, api_sources_list },
	{ "POST", "/api/v1/sources", API_USER, api_sources_add },
	{ "PATCH", "/api/v1/sources/{id}", API_USER, api_sources_patch },
	{ "POST", "/api/v1/sources/{id}/poll", API_USER, api_sources_poll },
	{ "GET", "/api/v1/connectors", API_USER, api_sources_connectors },
	/* api_users.c: staff accounts */
	{ "GET", "/api/v1/users", API_USER, api_users_list },
	{ "POST", "/api/v1/users", API_USER, api_users_add },
	{ "PATCH", "/api/v1/users/{id}", API_USER, api_users_patch },
	/* api_stats.c: figures and the audit log */
	{ "GET", "/api/v1/stats", API_USER, api_stats_get },
	{ "GET", "/api/v1/audit", API_USER, api_stats_audit },
	/* webhook_facebook.c: Meta's webhook (signed, no session) */
	{ "GET", "/api/v1/webhooks/facebook", API_HOOK,
	    webhook_facebook_verify },
	{ "POST", "/api/v1/webhooks/facebook", API_HOOK,
	    webhook_facebook_deliver },
	{ NULL, NULL, API_PUBLIC, NULL },
};

/* Segment of a pattern or path: its start and length; *p moves past. */
static size_t
api_segment(const char **p, const char **start)
{
	const char *s = *p;
	size_t n;

	if (*s == '/')
		s++;
	*start = s;
	n = strcspn(s, "/");
	*p = s + n;
	return n;
}

/*
 * 1 if path fits pattern; captures are copied, NUL-ended, into m->buf
 * (which holds at least the whole path) and pointed to by m->params.
 */
static int
api_pattern_match(const char *pattern, const char *path, struct api_match *m)
{
	const char *ps, *xs;
	size_t pn, xn, used = 0;

	m->nparams = 0;
	while (*pattern != '\0' || *path != '\0') {
		if (*pattern == '\0' || *path == '\0')
			return 0;
		pn = api_segment(&pattern, &ps);
		xn = api_segment(&path, &xs);
		if (pn > 1 && ps[0] == '{' && ps[pn - 1] == '}') {
			if (xn == 0 || m->nparams == API_MAX_PARAMS ||
			    used + xn + 1 > sizeof(m->buf))
				return 0;
			memcpy(m->buf + used, xs, xn);
			m->buf[used + xn] = '\0';
			m->params[m->nparams++] = m->buf + used;
			used += xn + 1;
		} else if (pn != xn || memcmp(ps, xs, pn) != 0)
			return 0;
	}
	return 1;
}

/* Adds method to the Allow list once. */
static void
api_allow_add(struct api_match *m, const char *method)
{
	size_t len = strlen(m->allow);
	const char *p = m->allow;
	size_t n = strlen(method);

	while ((p = strstr(p, method)) != NULL) {
		if ((p == m->allow || p[-1] == ' ') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
		p += n;
	}
	snprintf(m->allow + len, sizeof(m->allow) - len, "%s%s",
	    len > 0 ? ", " : "", method);
}

int
api_route_find(const char *method, const char *path, struct api_match *m)
{
	const struct api_route *r;
	struct api_match probe;
	int seen = 0;

	memset(m, 0, sizeof(*m));
	if (strlen(path) >= sizeof(m->buf))
		return -1;
	/* HEAD is GET without the body; the server drops the body. */
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (r = api_routes; r->pattern != NULL; r++) {
		if (!api_pattern_match(r->pattern, path, &probe))
			continue;
		seen = 1;
		if (strcmp(r->method, method) == 0 && m->route == NULL) {
			memcpy(m->params, probe.params, sizeof(m->params));
			memcpy(m->buf, probe.buf, sizeof(m->buf));
			/* The pointers point into probe; move them to m. */
			for (size_t i = 0; i < probe.nparams; i++)
				m->params[i] = m->buf +
				    (probe.params[i] - probe.buf);
			m->nparams = probe.nparams;
			m->route = r;
		}
		api_allow_add(m, r->method);
	}
	if (m->route != NULL)
		return 1;
	return seen ? 0 : -1;
}

int
api_error(struct api_resp *resp, int status, const char *code,
    const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_decref(resp->body);
	resp->status = status;
	resp->body = json_pack("{s:s, s:s}", "error", code, "detail", detail);
	return 0;
}

int
api_ok(struct api_resp *resp, int status, json_t *body)
{
	json_decref(resp->body);
	resp->status = status;
	resp->body = body;
	return 0;
}

static int
api_allowed(const char *key, const char *const *allowed)
{
	for (; *allowed != NULL; allowed++)
		if (strcmp(*allowed, key) == 0)
			return 1;
	return 0;
}

int
api_body_check(struct api_req *req, struct api_resp *resp,
    const char *const *allowed, int may_be_empty)
{
	const char *key;
	json_t *v;

	if (req->body == NULL) {
		if (may_be_empty)
			return 0;
		api_error(resp, 400, "bad_request", "a JSON object body is "
		    "needed (Content-Type: application/json)");
		return -1;
	}
	if (!json_is_object(req->body)) {
		api_error(resp, 400, "bad_request", "the body must be a "
		    "JSON object");
		return -1;
	}
	json_object_foreach(req->body, key, v) {
		if (!api_allowed(key, allowed)) {
			api_error(resp, 400, "bad_request", "unknown field "
			    "'%.64s'", key);
			return -1;
		}
	}
	return 0;
}

/*
 * The body's value for key: 1 and *v, 0 when absent or null and not
 * required, -1 (400 set) when absent and required.
 */
static int
api_body_get(struct api_req *req, struct api_resp *resp, const char *key,
    int required, json_t **v)
{
	*v = req->body != NULL ? json_object_get(req->body, key) : NULL;
	if (*v != NULL && !json_is_null(*v))
		return 1;
	if (!required)
		return 0;
	api_error(resp, 400, "bad_request", "missing field '%s'", key);
	return -1;
}

int
api_body_str(struct api_req *req, struct api_resp *resp, const char *key,
    int required, const char **out)
{
	json_t *v;
	int rc;

	*out = NULL;
	if ((rc = api_body_get(req, resp, key, required, &v)) <= 0)
		return rc;
	if (!json_is_string(v)) {
		api_error(resp, 400, "bad_request", "'%s' must be a string",
		    key);
		return -1;
	}
	*out = json_string_value(v);
	return 0;
}

int
api_body_int(struct api_req *req, struct api_resp *resp, const char *key,
    int required, int64_t *out)
{
	json_t *v;
	int rc;

	*out = 0;
	if ((rc = api_body_get(req, resp, key, required, &v)) <= 0)
		return rc;
	if (!json_is_integer(v)) {
		api_error(resp, 400, "bad_request", "'%s' must be an integer",
		    key);
		return -1;
	}
	*out = (int64_t)json_integer_value(v);
	return 0;
}

int
api_body_bool(struct api_req *req, struct api_resp *resp, const char *key,
    int required, int *out)
{
	json_t *v;
	int rc;

	*out = 0;
	if ((rc = api_body_get(req, resp, key, required, &v)) <= 0)
		return rc;
	if (!json_is_boolean(v)) {
		api_error(resp, 400, "bad_request", "'%s' must be true or "
		    "false", key);
		return -1;
	}
	*out = json_is_true(v);
	return 0;
}

int
api_param_id(struct api_req *req, struct api_resp *resp, size_t i,
    int64_t *out)
{
	const char *s = i < req->nparams ? req->params[i] : NULL;
	char *end;
	long long v;

	*out = 0;
	if (s != NULL && *s >= '1' && *s <= '9' && strlen(s) <= 18) {
		v = strtoll(s, &end, 10);
		if (*end == '\0' && v > 0) {
			*out = v;
			return 0;
		}
	}
	api_error(resp, 404, "not_found", "no such id '%.32s'",
	    s != NULL ? s : "");
	return -1;
}

int
api_audit(struct api_req *req, const char *action, const char *object,
    json_t *detail)
{
	return audit_add(req->h->store, req->now, req->user_id, action,
	    object, detail);
}
