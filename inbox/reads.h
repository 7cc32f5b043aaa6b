/* reads: read receipts: who opened which conversation, and when. */
#ifndef HEARD_READS_H
#define HEARD_READS_H

#include <stdint.h>

struct store;

/*
 * Records that user read thread at now (a later read moves the time
 * on, never back). A thread is unread for a user with no read at or
 * after its last activity, so a new message makes it unread again.
 * 0 or -1.
 */
int	reads_mark(struct store *, int64_t thread, int64_t user,
	    int64_t now);
/* Forgets the user's read of thread: unread again, for them. 0 or -1. */
int	reads_unmark(struct store *, int64_t thread, int64_t user);

#endif
