/* replies: the reply outbox: staff replies on their way to a channel. */
#ifndef HEARD_REPLIES_H
#define HEARD_REPLIES_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

/* Longest reply accepted, in bytes of UTF-8. */
#define REPLY_BODY_MAX	10000

/*
 * A reply's life. queued -> posting (committed before the request
 * goes out) -> posted, failed, or queued again after a transient
 * failure; posting -> unknown when the daemon stopped mid-request and
 * the channel cannot be trusted to drop a second copy. handoff: a
 * "post this" task instead (channels heard cannot post on). Staff may
 * cancel a queued reply, and send a failed or unknown one again.
 * The values are stored by name (reply_state_name).
 */
enum reply_state {
	REPLY_QUEUED,
	REPLY_POSTING,
	REPLY_POSTED,
	REPLY_FAILED,
	REPLY_HANDOFF,
	REPLY_UNKNOWN,
	REPLY_CANCELLED,
};

const char	*reply_state_name(enum reply_state);

/* A thread as a reply needs it; every pointer owned (reply_thread_free). */
struct reply_thread {
	int64_t	 id;
	int64_t	 org_id;
	char	*org_code;
	char	*org_name;
	char	*reference;	/* "H-XXXXXX" */
	char	*connector;
	char	*thread_key;
	int64_t	 source_id;	/* the source to reply through; 0 none */
	char	*settings;	/* its settings (JSON object text), or NULL */
	char	*root_url;	/* link to its first message, or NULL */
};

void	reply_thread_free(struct reply_thread *);
/*
 * The thread ref names (id or reference code), with the source its
 * replies go through: the one that found it, else the organisation's
 * first of that connector. 1 found, 0 none, -1 error.
 */
int	replies_thread(struct store *, const char *ref, struct reply_thread *);

/* Who signs a reply; name owned (free), NULL for none. */
struct reply_author {
	int64_t	 user_id;	/* 0: the operator at the command line */
	char	*name;
};

/*
 * The staff account with that email, if it may reply for org_id: an
 * admin, or a lead of that organisation, not disabled. -1 with the
 * reason in err otherwise.
 */
int	replies_author(struct store *, const char *email, int64_t org_id,
	    const char *org_code, struct reply_author *, char *err,
	    size_t errlen);

/*
 * A reply's text is fit to send: not blank, at most REPLY_BODY_MAX
 * bytes, UTF-8, no control characters but tabs and line breaks. 0, or
 * -1 with the reason in err.
 */
int	replies_check_body(const char *body, char *err, size_t errlen);

/* A reply written by someone; every pointer borrowed. */
struct reply_new {
	const struct reply_thread	*thread;
	const char			*body;	/* checked; trimmed here */
	const struct reply_author	*author;
	const char			*via;	/* cli, web, api, email */
};

/*
 * Puts the reply in the outbox, queued, with a fresh idempotency key,
 * answering the thread's latest message from the public (else its
 * first), and notes it in the audit log: one transaction. Returns the
 * reply's id, or -1 with the reason in err.
 */
int64_t	replies_queue(struct store *, const struct reply_new *, int64_t now,
	    char *err, size_t errlen);
/*
 * For a channel staff post on by hand: the reply as 'handoff', its
 * task (the text to copy and url, borrowed, NULL if none is known) and
 * the audit entry, in one transaction. Returns the reply's id and sets
 * *task_id, or -1 with the reason in err.
 */
int64_t	replies_handoff(struct store *, const struct reply_new *,
	    const char *url, int64_t now, int64_t *task_id, char *err,
	    size_t errlen);
/*
 * Staff actions on one reply, audited: retry sends a failed or unknown
 * reply again (same idempotency key, attempts from zero); cancel stops
 * a queued one. user_id 0: the operator. -1 with the reason in err.
 */
int	replies_retry(struct store *, int64_t id, int64_t user_id,
	    int64_t now, char *err, size_t errlen);
int	replies_cancel(struct store *, int64_t id, int64_t user_id,
	    int64_t now, char *err, size_t errlen);

/* One reply as the replier posts it; pointers owned (reply_row_free). */
struct reply_row {
	int64_t			 id;
	enum reply_state	 state;
	char			*body;
	char			*idempotency_key;
	char			*author;	/* NULL: none */
	char			*in_reply_to;	/* external id, or NULL */
	char			*in_reply_to_author;	/* its author_handle,
							   or NULL */
	char			*in_reply_to_meta;	/* its meta, or NULL */
	int			 attempts;	/* posts begun so far */
	int64_t			 created_at;
	struct reply_thread	 thread;
};

void	reply_row_free(struct reply_row *);
/* 1 found, 0 none, -1 error. */
int	replies_get(struct store *, int64_t id, struct reply_row *);
/*
 * Ids of up to max replies in state: for REPLY_QUEUED those due at now,
 * oldest first, and only the oldest unfinished reply of each thread,
 * so a thread's replies reach the channel in the order written.
 * *n is how many; -1 on error.
 */
int	replies_list(struct store *, enum reply_state, int64_t now,
	    int64_t *ids, size_t max, size_t *n);

/*
 * The replier's transitions, each one committed on return; each is
 * refused (-1) unless the reply is in the state it leaves.
 * begin: queued -> posting, one more attempt.
 */
int	replies_begin(struct store *, int64_t id, int64_t now);
/*
 * posting -> posted, with the channel's id for it (NULL if it gave
 * none); the reply also becomes the thread's outbound message under
 * that id, the one a later poll of the channel knows it by, so the
 * poll updates that message instead of adding another. One
 * transaction, audited. source_id: the source it went through.
 */
int	replies_posted(struct store *, const struct reply_row *,
	    const char *external_id, int64_t source_id, int64_t now);
/* posting (or queued) -> failed or unknown, with the reason; audited. */
int	replies_end(struct store *, int64_t id, enum reply_state,
	    const char *error, int64_t now);
/* posting -> queued, to be tried again at next; error: why not now. */
int	replies_requeue(struct store *, int64_t id, const char *error,
	    int64_t next, int64_t now);

/*
 * New JSON array of the thread's replies, oldest first: {"id",
 * "status", "body", "error", "external_id", "created_at",
 * "updated_at", "via", "author", "attempts", "next_attempt_at",
 * "posted_at", "message"}. NULL on error.
 */
struct json_t	*replies_json(struct store *, int64_t thread_id);

#endif
