/* demo: seeds a demo organisation (RJ1) with sample sources shipped in data/. */
#ifndef HEARD_DEMO_H
#define HEARD_DEMO_H

#include <stddef.h>

struct heard;

/* The trust the demo files its sources under. */
#define DEMO_ORG	"RJ1"
/* The demo's admin account; its password is printed at each start. */
#define DEMO_ADMIN	"demo-admin@example.nhs.uk"

/*
 * Imports the shipped trust and commissioner lists, then adds the demo
 * feeds as rss sources of RJ1 unless they are there already.
 * Idempotent. -1 with a reason in err.
 */
int	demo_seed(struct heard *, char *err, size_t errlen);

#endif
