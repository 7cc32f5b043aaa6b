/* ratelimit: failures counted per key in one-minute windows, in memory. */
#ifndef HEARD_RATELIMIT_H
#define HEARD_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

/* Keys remembered at once; beyond, the oldest window is forgotten. */
#define RATELIMIT_SLOTS		4096
/* Longest key kept ("addr:" + an IPv6 address, "user:" + an email). */
#define RATELIMIT_KEY_MAX	272
#define RATELIMIT_WINDOW	60

struct ratelimit_slot {
	char	key[RATELIMIT_KEY_MAX];	/* "" free */
	int64_t	start;		/* the window's first failure */
	long	count;
};

struct ratelimit {
	struct ratelimit_slot	*slots;	/* owned; RATELIMIT_SLOTS */
	size_t			 used;
};

void	ratelimit_init(struct ratelimit *);
void	ratelimit_free(struct ratelimit *);
/*
 * 0 if key may try again now (fewer than limit failures in its
 * window), else the seconds until it may (for Retry-After).
 */
long	ratelimit_wait(const struct ratelimit *, const char *key, long limit,
	    int64_t now);
/* Counts one failure of key at now. */
void	ratelimit_fail(struct ratelimit *, const char *key, int64_t now);

#endif
