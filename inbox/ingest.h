/* ingest: a parsed batch into threads and messages, one transaction. */
#ifndef HEARD_INGEST_H
#define HEARD_INGEST_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct source;
struct conn_batch;

struct ingest_stats {
	size_t	new_items;
	size_t	updated_items;
	size_t	unchanged_items;
	size_t	new_threads;
	size_t	skipped;	/* no organisation for the hint, etc. */
};

/*
 * Stores every item of the batch (upsert by connector + external id,
 * an edit updates the message in place), files each in the thread its
 * thread_key names for the organisation (the source's, or org_hint's),
 * saves batch->cursor when set, and marks the source healthy, all in
 * one transaction. On error nothing is stored and err says why.
 *
 * An unchanged item (same content hash) is not written at all. A
 * removed item hides its message, which is kept; one never seen is
 * skipped. An item without a thread key is a thread of its own; one
 * whose org_hint names no known organisation is skipped. A new thread
 * is "new"; a new message from the public reopens a resolved or
 * closed one. An item's meta is kept when it is a JSON object. An
 * item new or changed that carries a thread_status sets its thread's
 * status to it (after the reopening above). An organisation's reply
 * (ITEM_OUT) first seen here closes the thread's oldest open "post
 * this" task made before it (tasks.h).
 *
 * A new message from the public is put in the notification outbox,
 * in the same transaction, for each member of its organisation whose
 * choice of mail covers it (notify.h). While the source's first poll
 * has not ended (sources.backfill_done_at unset) what it brings is
 * history: it only counts, into one 'backfill' row per user and
 * source, which becomes one summary mail.
 */
int	ingest_batch(struct store *, const struct source *,
	    const struct conn_batch *, int64_t now, struct ingest_stats *,
	    char *err, size_t errlen);

/*
 * A batch the channel pushed (a webhook delivery), stored as
 * ingest_batch stores a polled one, notifications included, in one
 * transaction; but the source's row (cursor, health, failures) is
 * left alone: a delivery says nothing about whether polling works,
 * and must not hide why a paused source was paused. Nor is it ever
 * history: its items are mailed as news even during the source's
 * first poll. b->cursor must be NULL.
 */
int	ingest_pushed(struct store *, const struct source *,
	    const struct conn_batch *, int64_t now, struct ingest_stats *,
	    char *err, size_t errlen);
/*
 * The source's first poll has stored its last page: what it brings
 * from now on is news, and its backfill summary may go. Once only;
 * -1 on a store error.
 */
int	ingest_backfill_done(struct store *, int64_t source_id, int64_t now);

#endif
