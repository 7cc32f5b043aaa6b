/* mailin: the store's record of mail that came in, and the facts it needs. */
#ifndef HEARD_MAILIN_H
#define HEARD_MAILIN_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct mail_facts;

/*
 * A mail_lookup_fn (mail_accept.h) over the store, arg the store: the
 * thread's organisation, the user's email, role and state, and
 * access_check's ACCESS_WRITE answer. 0, or -1 if the store fails.
 */
int	mailin_lookup(void *store, int64_t thread_id, int64_t user_id,
	    struct mail_facts *);

/* One row of mail_in; reason owned (mailin_row_free). */
struct mailin_row {
	int64_t	 id;
	char	 outcome[12];	/* "accepted", "refused", "dropped" */
	char	*reason;	/* NULL if none */
	int64_t	 thread_id;	/* 0 if none */
	int64_t	 user_id;
	int64_t	 reply_id;	/* 0: none (yet) */
	int64_t	 received_at;
};

void	mailin_row_free(struct mailin_row *);
/* The row of that Message-ID: 1 found, 0 none, -1 error. */
int	mailin_seen(struct store *, const char *message_id,
	    struct mailin_row *);

/* A row to write; every pointer borrowed. */
struct mailin_rec {
	const char	*message_id;	/* without <>; required */
	const char	*via;		/* "imap" or "pipe" */
	const char	*sender;	/* From's address, or NULL */
	int64_t		 thread_id;	/* 0: none */
	int64_t		 user_id;	/* 0: none */
	const char	*outcome;	/* mail_outcome_name */
	const char	*reason;	/* NULL for an accepted mail */
	int64_t		 received_at;
};

/*
 * Writes the row, its own transaction. Returns its id, 0 if a row of
 * that Message-ID is there already (another reader won), -1 on error.
 */
int64_t	mailin_record(struct store *, const struct mailin_rec *);
/* An accepted row gets the reply it became. -1 unless it changed. */
int	mailin_settle(struct store *, int64_t id, int64_t reply_id);
/* An accepted row without a reply becomes refused, with the reason. */
int	mailin_unaccept(struct store *, int64_t id, const char *reason);
/*
 * The reply an accepted mail of that thread and user became, written
 * by mail (via 'email') at since or later with that text (compared as
 * the outbox stores it, trimmed) and not yet claimed by any mail_in
 * row: its id, 0 if there is none, -1 on error.
 */
int64_t	mailin_find_reply(struct store *, int64_t thread_id,
	    int64_t user_id, int64_t since, const char *text);

/*
 * A mailbox's UIDVALIDITY and the last UID done: 1 found, 0 never
 * seen, -1 error.
 */
int	mailin_imap_get(struct store *, const char *mailbox,
	    int64_t *uidvalidity, int64_t *last_uid);
int	mailin_imap_set(struct store *, const char *mailbox,
	    int64_t uidvalidity, int64_t last_uid, int64_t now);

#endif
