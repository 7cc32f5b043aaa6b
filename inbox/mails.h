/* mails: the queue of built mails the mailer sends, and their fate. */
#ifndef HEARD_MAILS_H
#define HEARD_MAILS_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* One mail due to go; pointers owned (mails_out_free). */
struct mails_out {
	int64_t	 id;
	char	*rcpt;		/* envelope recipient */
	char	*kind;		/* notification, digest... for the log */
	char	*body;		/* the whole message, CRLF */
	size_t	 len;
	int	 attempts;	/* before this one */
};

void	mails_out_free(struct mails_out *);

/*
 * Up to max queued mails due by now, oldest due first, leaving out the
 * ids in skip (being sent). Fills out[0..n); returns n, or -1.
 */
int	mails_due(struct store *, int64_t now, const int64_t *skip,
	    size_t nskip, struct mails_out *out, size_t max);
/*
 * After a send: sent; queued again for next with why kept; or failed
 * for good. Each counts the attempt. -1 on a store error.
 */
int	mails_sent(struct store *, int64_t id, int64_t now);
int	mails_retry(struct store *, int64_t id, const char *why, int64_t next);
int	mails_failed(struct store *, int64_t id, const char *why);
/* Mails queued (due or waiting for a retry), or -1. */
int64_t	mails_queued(struct store *);

#endif
