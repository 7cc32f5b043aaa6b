/* poller: due sources -> connector request -> fetch -> parse -> ingest. */
#ifndef HEARD_POLLER_H
#define HEARD_POLLER_H

#include <stdint.h>

struct heard;
struct poller;

/* Called once when a poll of one source has finished, every page. */
typedef void (*poller_done_fn)(void *arg, int64_t source_id, int ok,
    const char *error);

/* Needs h->loop, h->fetch and h->store set. NULL never (xmalloc). */
struct poller	*poller_new(struct heard *);
void		 poller_free(struct poller *);
/*
 * Loads every source and keeps polling them on the loop, each when
 * due (scheduler: interval, jitter, per-host cap, back-off, hints).
 */
int		 poller_start(struct poller *);
/* Re-reads sources and h->cfg (after SIGHUP or a new source). */
void		 poller_reload(struct poller *);
/* Polls one source now, all pages, then calls done. -1 if unknown. */
int		 poller_poll_now(struct poller *, int64_t source_id,
		    poller_done_fn, void *arg);
/* Transfers and ingests in flight (SIGTERM waits for them). */
int		 poller_busy(const struct poller *);
/* Stops starting new polls; in-flight ones finish. */
void		 poller_stop(struct poller *);

#endif
