/* poll_sched: when a source is next due, from state, policy and now. */
#ifndef HEARD_POLL_SCHED_H
#define HEARD_POLL_SCHED_H

#include <stdint.h>

#include "connector.h"

struct config;

/* Returned for a paused source: it is not polled until someone acts. */
#define SCHED_NEVER	INT64_MAX
/* Longest server hint (Retry-After, ttl, max-age) honoured, seconds. */
#define SCHED_HINT_MAX	(24 * 3600)

struct sched_policy {
	int64_t	interval;	/* seconds between two good polls */
	int64_t	jitter;		/* up to this many seconds added */
	int64_t	backoff_base;	/* first wait after a failure */
	int64_t	backoff_max;	/* ceiling of the doubling */
	int64_t	hint_max;	/* longest server hint honoured */
};

/* What the poll that just ended came to. */
struct sched_state {
	int		failures;	/* in a row, this poll included */
	enum conn_err	err;		/* this poll's; CONN_OK on success */
	int64_t		retry_after;	/* server's Retry-After; 0 none */
	int64_t		min_interval;	/* server's ttl or max-age; 0 none */
	int		paused;		/* already paused by an admin or
					   an earlier auth failure */
};

/* The policy heard's [poll] settings describe. */
void	sched_policy_init(struct sched_policy *, const struct config *);
/*
 * Unix time of the next poll, never before now + 1, or SCHED_NEVER
 * when the source is paused or failed on auth or config. rnd is a
 * random number for the jitter. Saturates instead of overflowing.
 */
int64_t	sched_next(const struct sched_policy *, const struct sched_state *,
	    int64_t now, uint32_t rnd);
/*
 * The max-age of a Cache-Control header value in seconds, or -1 when
 * it has none or forbids caching (no-cache, no-store).
 */
int64_t	sched_max_age(const char *cache_control);
/*
 * A Retry-After header value (delta-seconds or an HTTP date) as
 * seconds from now, at least 0; -1 if it is neither.
 */
int64_t	sched_retry_after(const char *value, int64_t now);

#endif
