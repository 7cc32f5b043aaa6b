/* ratelimit: failures counted per key in one-minute windows, in memory. */
#include "ratelimit.h"

#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

void
ratelimit_init(struct ratelimit *r)
{
	r->slots = xcalloc(RATELIMIT_SLOTS, sizeof(*r->slots));
	r->used = 0;
}

void
ratelimit_free(struct ratelimit *r)
{
	free(r->slots);
	r->slots = NULL;
	r->used = 0;
}

/* Keys are compared as truncated to what a slot holds. */
static int
ratelimit_same(const struct ratelimit_slot *sl, const char *key)
{
	return sl->key[0] != '\0' &&
	    strncmp(sl->key, key, RATELIMIT_KEY_MAX - 1) == 0;
}

/* A linear scan: 4096 short keys, only on log-in attempts. */
static struct ratelimit_slot *
ratelimit_find(const struct ratelimit *r, const char *key)
{
	size_t i;

	for (i = 0; i < RATELIMIT_SLOTS; i++)
		if (ratelimit_same(&r->slots[i], key))
			return &r->slots[i];
	return NULL;
}

long
ratelimit_wait(const struct ratelimit *r, const char *key, long limit,
    int64_t now)
{
	const struct ratelimit_slot *sl = ratelimit_find(r, key);
	int64_t left;

	if (sl == NULL || sl->count < limit)
		return 0;
	left = sl->start + RATELIMIT_WINDOW - now;
	return left > 0 ? (long)left : 0;
}

/* A free slot, else an expired one, else the one with the oldest window. */
static struct ratelimit_slot *
ratelimit_take(struct ratelimit *r, int64_t now)
{
	struct ratelimit_slot *best = &r->slots[0];
	size_t i;

	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		if (r->slots[i].key[0] == '\0' ||
		    r->slots[i].start + RATELIMIT_WINDOW <= now)
			return &r->slots[i];
		if (r->slots[i].start < best->start)
			best = &r->slots[i];
	}
	return best;
}

void
ratelimit_fail(struct ratelimit *r, const char *key, int64_t now)
{
	struct ratelimit_slot *sl = ratelimit_find(r, key);

	if (sl != NULL && sl->start + RATELIMIT_WINDOW > now) {
		sl->count++;
		return;
	}
	if (sl == NULL) {
		sl = ratelimit_take(r, now);
		if (sl->key[0] == '\0')
			r->used++;
		strncpy(sl->key, key, RATELIMIT_KEY_MAX - 1);
		sl->key[RATELIMIT_KEY_MAX - 1] = '\0';
	}
	sl->start = now;
	sl->count = 1;
}
