/* poller: due sources -> connector request -> fetch -> parse -> ingest. */
#ifndef HEARD_POLLER_H
#define HEARD_POLLER_H

#include <stddef.h>
#include <stdint.h>

struct heard;
struct poller;

/*
 * Called once when a poll of one source has finished, every page;
 * error is "kind: reason" when !ok, borrowed until the call returns.
 * It may poll again or break the loop, but not free the poller.
 */
typedef void (*poller_done_fn)(void *arg, int64_t source_id, int ok,
    const char *error);

/*
 * Needs h->loop, h->fetch and h->store set; h is borrowed and h->cfg
 * is read afresh at each poll. NULL never (xmalloc).
 */
struct poller	*poller_new(struct heard *);
/* Cancels polls in flight without calling back. */
void		 poller_free(struct poller *);
/*
 * Loads every source and keeps polling them on the loop, each when
 * due (scheduler: interval, jitter, per-host cap, back-off, hints).
 * -1 if the sources cannot be read.
 */
int		 poller_start(struct poller *);
/*
 * Re-reads sources and h->cfg (after SIGHUP or a new source). A
 * source being polled keeps its poll and is re-read when it ends.
 */
void		 poller_reload(struct poller *);
/*
 * Polls one source now, all pages, paused or not, then calls done
 * (never before this returns). If that source is being polled, done
 * gets that poll's outcome. -1 if there is no such source, the poller
 * is stopping, or someone already waits on that source.
 */
int		 poller_poll_now(struct poller *, int64_t source_id,
		    poller_done_fn, void *arg);
/*
 * Polls every unpaused source now, in one pass over the store; done is
 * called once per source. Returns how many were started, or -1.
 */
int		 poller_poll_all(struct poller *, poller_done_fn, void *arg);
/* Polls in flight, transfers and ingests (SIGTERM waits for them). */
int		 poller_busy(const struct poller *);
/*
 * Stops starting new polls; in-flight ones finish after the page
 * they are on (the rest of a long listing waits for the next poll).
 */
void		 poller_stop(struct poller *);
/* Sources known (polled or paused). */
size_t		 poller_sources(const struct poller *);

#endif
