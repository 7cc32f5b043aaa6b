/* api: the JSON API under /api/v1/: the route table and what handlers share. */
#ifndef HEARD_API_H
#define HEARD_API_H

#include <stddef.h>
#include <stdint.h>

#include "users.h"

struct heard;
struct json_t;

#define API_MAX_PARAMS	4

/* One request as a handler sees it; everything borrowed from the server. */
struct api_req {
	struct heard	*h;
	const char	*method;		/* "GET", "POST", ... */
	const char	*path;			/* without the query */
	/* The {name} captures of the route's pattern, in order. */
	const char	*params[API_MAX_PARAMS];
	size_t		 nparams;
	/* The body parsed as JSON (an object), or NULL when it had none. */
	struct json_t	*body;
	/* The caller; id 0 on API_PUBLIC routes with nobody logged in. */
	int64_t		 user_id;
	enum user_role	 role;
	int64_t		 session;		/* 1: by cookie, 0: by token */
	const char	*client_addr;		/* "127.0.0.1" */
	int64_t		 now;			/* unix seconds */
	/* Query string value of key (decoded), or NULL. */
	const char	*(*query)(const struct api_req *, const char *key);
	void		*conn;			/* the server's, for query */
	/* When session: the cookie's session id and its CSRF token. */
	const char	*sid;
	const char	*csrf;
	/* API_HOOK routes only: the body as received, not parsed. */
	const char	*raw;
	size_t		 raw_len;
	/* Request header name's value, or NULL. */
	const char	*(*header)(const struct api_req *, const char *name);
};

/* What a handler answers; the server sends and frees it. */
struct api_resp {
	int		 status;		/* 200, 201, 204, 4xx... */
	struct json_t	*body;			/* owned; NULL: none */
	char		*set_cookie;		/* owned; NULL: none */
	long		 retry_after;		/* seconds; 0: no header */
	char		*text;			/* owned; set: a text/plain
						   body instead of JSON */
};

enum api_auth {
	API_PUBLIC,	/* anyone (log-in, invitation) */
	API_USER,	/* a logged-in user or a token; handler checks access */
	API_HOOK,	/* a channel's webhook: no session or token is read,
			   the body reaches the handler raw (req->raw) for it
			   to authenticate (a signature) before parsing */
};

/*
 * A route: method and pattern ("/api/v1/threads/{id}/read"; {x}
 * matches one path segment). The handler fills resp and returns 0;
 * -1 only for an internal failure (the server answers 500 then).
 */
struct api_route {
	const char	*method;
	const char	*pattern;
	enum api_auth	 auth;
	int		(*handle)(struct api_req *, struct api_resp *);
};

/* Every route, NULL-terminated (api.c); first match wins. */
extern const struct api_route api_routes[];

/* {"error": code, "detail": printf(fmt)} with status; returns 0. */
int	api_error(struct api_resp *, int status, const char *code,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* status and body (owned, taken); returns 0. */
int	api_ok(struct api_resp *, int status, struct json_t *body);
/*
 * The body is an object whose keys are all in allowed (NULL-ended);
 * else 400 in resp and -1. A NULL body counts as {} when may_be_empty.
 */
int	api_body_check(struct api_req *, struct api_resp *,
	    const char *const *allowed, int may_be_empty);
/*
 * Field of the body as a string / integer / boolean, with type checks:
 * 0 and *out (NULL/0 when absent and !required), or -1 and 400 set.
 */
int	api_body_str(struct api_req *, struct api_resp *, const char *key,
	    int required, const char **out);
int	api_body_int(struct api_req *, struct api_resp *, const char *key,
	    int required, int64_t *out);
int	api_body_bool(struct api_req *, struct api_resp *, const char *key,
	    int required, int *out);
/* A path capture as a positive id; else 404 and -1. */
int	api_param_id(struct api_req *, struct api_resp *, size_t i,
	    int64_t *out);

/*
 * Audits a staff action as the caller (req->user_id, req->now):
 * action "thread.status", object "thread:12", detail a JSON object
 * (taken; may be NULL; never a secret). Joins an open transaction.
 */
int	api_audit(struct api_req *, const char *action, const char *object,
	    struct json_t *detail);

/* Longest request path the API looks at (longer: 404). */
#define API_PATH_MAX	1024

/* What api_route_find found; the captures live in buf. */
struct api_match {
	const struct api_route	*route;		/* borrowed: api_routes */
	const char	*params[API_MAX_PARAMS];	/* into buf */
	size_t		 nparams;
	char		 buf[API_PATH_MAX];
	char		 allow[64];	/* the path's methods, for 405 */
};

/*
 * The route for method (HEAD counts as GET) and path (decoded, no
 * query): 1 found; 0 the path is a route but not with this method
 * (m->allow lists those it has); -1 no route.
 */
int	api_route_find(const char *method, const char *path,
	    struct api_match *m);

#endif
