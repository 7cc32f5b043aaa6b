/* connector: the contract every channel implements; pure, bytes in, items out. */
#ifndef HEARD_CONNECTOR_H
#define HEARD_CONNECTOR_H

#include <stddef.h>
#include <stdint.h>

struct arena;

/*
 * Why a connector call failed; decides what the daemon does next.
 * Append only: the values are stored in the database and never renumbered.
 */
enum conn_err {
	CONN_OK = 0,
	CONN_ERR_MALFORMED = 1,		/* bytes we cannot read: back off */
	CONN_ERR_AUTH = 2,		/* key refused: pause, tell an admin */
	CONN_ERR_RATE_LIMITED = 3,	/* wait retry_after */
	CONN_ERR_TRANSIENT = 4,		/* 5xx, time-out: back off */
	CONN_ERR_CONFIG = 5,		/* settings wrong: pause */
	CONN_ERR_NOT_FOUND = 6,		/* 404 / 410 for the whole source */
	CONN_ERR_REFUSED = 7,		/* channel refused a reply for good */
};

struct conn_error {
	enum conn_err	code;
	long		retry_after;	/* seconds; 0 if the server gave none */
	char		msg[256];	/* one line, no secrets */
	int		unsent;		/* set by the daemon's fetch only: the
					   request never left this host, so
					   sending it again is safe */
};

/* "Why" in one word, for logs and `sources list`. */
const char	*conn_err_name(enum conn_err);
/* Fills e and returns -1, so a connector can `return conn_fail(...)`. */
int		 conn_fail(struct conn_error *e, enum conn_err code,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* One setting a connector takes, so sources can be validated and listed. */
struct conn_setting {
	const char	*key;
	const char	*help;
	int		 required;
	const char	*def;		/* default value or NULL */
	int		 secret;	/* never printed back */
};

struct conn_kv {
	const char	*key;	/* borrowed */
	const char	*value;	/* borrowed */
};

struct conn_settings {
	const struct conn_kv	*kv;	/* borrowed */
	size_t			 n;
};

/* Value of key, or NULL. */
const char	*conn_settings_get(const struct conn_settings *, const char *key);

#define CONN_MAX_HEADERS	16

/* A request the daemon should make; every string lives in the arena. */
struct conn_request {
	const char	*method;	/* "GET", "POST" */
	const char	*url;
	const char	*headers[CONN_MAX_HEADERS];	/* "Name: value" */
	size_t		 nheaders;
	const char	*body;		/* NULL for none */
	size_t		 body_len;
	unsigned	 min_gap_ms;	/* at least this long after the last
					   start to the same host; the poller
					   sets it from the connector's */
};

/* Adds "Name: value" to a request; -1 if it is full. */
int	conn_request_header(struct conn_request *, struct arena *,
	    const char *name, const char *value);

struct conn_header {
	const char	*name;	/* borrowed */
	const char	*value;	/* borrowed */
};

/* What came back; every pointer is borrowed from the daemon. */
struct conn_response {
	long				 status;	/* HTTP status */
	const char			*body;		/* NUL-terminated */
	size_t				 body_len;
	const struct conn_header	*headers;
	size_t				 nheaders;
	const char			*effective_url;	/* after redirects */
	int				 redirected;	/* followed >= 1 */
};

/* Case-insensitive header lookup (last one wins); NULL if absent. */
const char	*conn_response_header(const struct conn_response *,
		    const char *name);

#define CONN_RETRY_MAX	(7 * 86400)	/* a Retry-After is capped here */

/*
 * Retry-After in seconds, capped at CONN_RETRY_MAX: 1 with *secs, 0 if
 * absent or unreadable, -1 for an HTTP-date that cannot be placed. A
 * connector has no clock, so the response's own Date header is "now";
 * without one the daemon, which has a clock, must place it.
 */
int		 conn_retry_after(const struct conn_response *, long *secs);

enum item_dir {
	ITEM_IN = 0,	/* from the public */
	ITEM_OUT = 1,	/* the organisation's own reply, seen on the channel */
};

#define ITEM_NO_RATING	(-1)

/* A normalised item; strings live in the parse arena, UTF-8, may be NULL. */
struct conn_item {
	const char	*external_id;	/* unique per connector; required */
	const char	*thread_key;	/* items with one key share a thread */
	const char	*parent_id;	/* external id replied to, or NULL */
	enum item_dir	 dir;
	const char	*author_name;
	const char	*author_handle;
	const char	*title;
	const char	*body;		/* plain text, HTML already stripped */
	const char	*url;		/* link to the original */
	int		 rating;	/* 1..5, or ITEM_NO_RATING */
	const char	*channel_status;	/* the channel's own word */
	int64_t		 created_at;	/* unix seconds UTC; 0 unknown */
	int64_t		 updated_at;	/* unix seconds UTC; 0 unknown */
	const char	*org_hint;	/* ODS code or handle, if one source
					   covers several organisations */
	int		 removed;	/* taken down at the source */
	const char	*meta;		/* JSON object text of what the channel
					   adds (tags, criticality, a change
					   signal...), or NULL */
	const char	*thread_status;	/* status the channel sets for the
					   thread (open, in_progress, resolved,
					   closed, hidden), or NULL */
	const char	*reference;	/* the channel's own public reference
					   for the thread (an Open311 service
					   request id), or NULL */
};

/* The result of one parse. */
struct conn_batch {
	struct conn_item	*items;		/* in the arena */
	size_t			 nitems;
	const char		*cursor;	/* new cursor to save; NULL: keep */
	struct conn_request	*next;		/* next page, or NULL */
	int			 not_modified;	/* 304: nothing to do */
	long			 min_interval;	/* seconds before the next poll
						   the server asks for (RSS ttl,
						   max-age); 0 none */
	const char		*title;		/* channel's own title, if any */
};

enum conn_reply_mode {
	CONN_REPLY_NONE = 0,
	CONN_REPLY_API = 1,	/* heard posts the reply */
	CONN_REPLY_HANDOFF = 2,	/* heard makes a "post this" task */
};

/* A reply to relay: the thread's item being answered and the text. */
struct conn_reply {
	const char	*thread_key;
	const char	*in_reply_to;	/* external id of the item answered */
	const char	*body;
	const char	*idempotency_key;	/* stable across retries */
	const char	*org_code;	/* ODS code of the thread's organisation */
	const char	*author_name;	/* staff member's name, or NULL */
	int64_t		 created_at;	/* when it was written (unix UTC) */
	const char	*in_reply_to_author;	/* that item's author_handle,
					   or NULL: who a channel that needs
					   it (Mastodon) addresses */
	const char	*in_reply_to_meta;	/* that item's meta (JSON object
					   text), or NULL: to answer in kind
					   (a Mastodon visibility) */
	int64_t		 now;		/* when this request is made (unix
					   UTC): the daemon's clock, for a
					   channel that signs requests */
	const char	*nonce;		/* 32 random hex digits, new for
					   every request (OAuth 1.0a) */
};

/*
 * A connector is a table. It is pure: no sockets, clock, SQLite or
 * logging. Outputs live in the arena it is handed; on failure the
 * outputs stay untouched and the error says why.
 */
struct connector {
	const char			*name;
	const char			*title;
	const struct conn_setting	*settings;	/* ends with .key NULL */
	enum conn_reply_mode		 reply_mode;
	unsigned			 min_gap_ms;	/* at least this long
					   between two requests to one host
					   (an API's rate limit); 0 none */

	/* settings -> opaque conf in the arena */
	void	*(*configure)(struct arena *, const struct conn_settings *,
		    struct conn_error *);
	/* conf + saved cursor (JSON object text or NULL) -> first request */
	int	 (*poll)(const void *conf, const char *cursor, struct arena *,
		    struct conn_request *, struct conn_error *);
	/* response -> items, new cursor, next page */
	int	 (*parse)(const void *conf, const char *cursor,
		    const struct conn_response *, struct arena *,
		    struct conn_batch *, struct conn_error *);
	/* optional: a reply -> the request that posts it */
	int	 (*reply)(const void *conf, const struct conn_reply *,
		    struct arena *, struct conn_request *,
		    struct conn_error *);
	/* optional: the reply's response -> the posted reply's external id */
	int	 (*reply_parse)(const void *conf, const struct conn_response *,
		    struct arena *, const char **external_id,
		    struct conn_error *);
	/* optional: a handoff task's link (where the provider responds) */
	const char *(*handoff_url)(const void *conf, const char *thread_key,
		    struct arena *);
	/*
	 * 1 if the channel makes one reply of two posts with the same
	 * idempotency_key: a post cut short (a stop, a time-out) is then
	 * sent again; otherwise it waits for a person to check.
	 */
	int	 idempotent_replies;
	/*
	 * optional: a delivery the channel pushed to heard (a webhook),
	 * body as received, its signature already checked by the daemon,
	 * -> the items it carries for this source, with the external_id
	 * and thread_key a poll gives the same post, so a post both pushed
	 * and polled is one message. Parts of the delivery about another
	 * source (another page) are left out; none is an empty batch. The
	 * batch never has a cursor or a next page: a delivery does not
	 * move the poll's place.
	 */
	int	 (*webhook_parse)(const void *conf, const char *body,
		    size_t len, struct arena *, struct conn_batch *,
		    struct conn_error *);
};

#endif
