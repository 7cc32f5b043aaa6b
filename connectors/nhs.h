/* nhs: what the NHS Choices and NHS website connectors share. */
#ifndef HEARD_NHS_H
#define HEARD_NHS_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct conn_error;
struct conn_response;

#define NHS_MAX_BODY	(16 * 1024 * 1024)	/* bytes of a response */
#define NHS_MAX_ITEMS	10000		/* items of one page */
#define NHS_TITLE_MAX	500		/* bytes of an item title */
#define NHS_BODY_MAX	(64 * 1024)	/* bytes of an item body */
#define NHS_NAME_MAX	200		/* author, organisation name */
#define NHS_ID_MAX	64		/* longer ids are refused */
#define NHS_URL_MAX	2048
#define NHS_KEY_MAX	256		/* API keys */

/*
 * Classifies a status other than 2xx, for `what` (the connector's
 * name): 401 and 403 refuse the key, 429 (and 503 with Retry-After)
 * rate-limit, 404 and 410 are not-found, 408 and 5xx transient, any
 * other 4xx a settings error. 0 for 2xx, else -1 with e filled.
 */
int		 nhs_status(const struct conn_response *, const char *what,
		    struct conn_error *);

/*
 * Text a reader sees, in the arena: with unescape, one more level of
 * character references decoded first (the Choices API escapes twice),
 * then controls and invalid UTF-8 removed, blanks collapsed, at most
 * max bytes. flags as htmltext's. NULL if nothing is left.
 */
const char	*nhs_text(struct arena *, const char *s, size_t max,
		    int flags, int unescape);

/* Ids we store and put in URLs: 1..NHS_ID_MAX of [A-Za-z0-9_.-]. */
int		 nhs_id_ok(const char *);

/* A key fit for a query or a header: 1..NHS_KEY_MAX unreserved bytes. */
int		 nhs_key_ok(const char *);

/*
 * An http(s) base URL without query, fragment, blanks or controls, at
 * most NHS_URL_MAX bytes; the trailing '/' dropped. In the arena, or
 * NULL.
 */
const char	*nhs_base_url(struct arena *, const char *);

/* scheme://host[:port] of a base URL checked by nhs_base_url. */
const char	*nhs_origin(struct arena *, const char *base);

/* An absolute http(s) link, clean and bounded, or NULL. */
const char	*nhs_link(struct arena *, const char *);

/* "YYYY-MM-DDTHH:MM:SSZ" in the arena; NULL if t is out of range. */
const char	*nhs_iso(struct arena *, int64_t t);

/* The UTC day of t as "YYYY-MM-DD", days days earlier; or NULL. */
const char	*nhs_day(struct arena *, int64_t t, int days);

/*
 * Blanks out every copy of secret in e's message: a parser may quote
 * the body, and the Choices API echoes the key in its links.
 */
void		 nhs_scrub(struct conn_error *, const char *secret);

/* JSON text of obj (compact, keys sorted) in the arena; obj is freed. */
struct json_t;
const char	*nhs_json_text(struct arena *, struct json_t *obj);

#endif
