/* replier: posts the reply outbox through each channel's connector. */
#ifndef HEARD_REPLIER_H
#define HEARD_REPLIER_H

struct heard;
struct replier;

/* Seconds between two looks at the outbox for replies due. */
#define REPLIER_TICK		2.0
/* Posts begun for one reply before it is given up as failed. */
#define REPLIER_MAX_ATTEMPTS	8
/* Replies being posted at once. */
#define REPLIER_MAX_BUSY	4

/*
 * Needs h->loop, h->fetch and h->store; h is borrowed, and h->cfg's
 * back-off settings are read at each retry. NULL never (xmalloc).
 */
struct replier	*replier_new(struct heard *);
/*
 * Drops posts in flight without recording them: they stay 'posting',
 * and the next start settles them as a stop mid-post.
 */
void		 replier_free(struct replier *);
/*
 * Settles what a stopped daemon left 'posting' (sent again only if its
 * connector declares idempotent replies, else 'unknown': a person must
 * look at the channel first), then posts due replies, looking again
 * every REPLIER_TICK seconds. -1 if the outbox cannot be read.
 */
int		 replier_start(struct replier *);
/* Looks for due replies at once (a reply was written, a reload). */
void		 replier_wake(struct replier *);
/* Starts no more posts; those in flight finish and are recorded. */
void		 replier_stop(struct replier *);
/* Posts in flight. */
int		 replier_busy(const struct replier *);

#endif
