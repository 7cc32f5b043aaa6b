/* imap: polls a mailbox for staff replies, by UID, on the daemon's loop. */
#ifndef HEARD_IMAP_H
#define HEARD_IMAP_H

#include <stddef.h>

struct heard;
struct imap;

/* New messages fetched in one round; more start the next at once. */
#define IMAP_BATCH	200

/*
 * Uses h->loop, h->fetch and h->store, and reads h->cfg's [mail]
 * imap_* options afresh at every round, so a reload applies at the
 * next look. h is borrowed. NULL never (xmalloc).
 */
struct imap	*imap_new(struct heard *);
/* Drops a transfer in flight without recording it. */
void		 imap_free(struct imap *);
/*
 * 0 when [mail] imap_url is unset or what reading replies needs is
 * there: reply_domain, the key (h->secret loaded), a password file
 * with a password. For check-config; serve checks the same.
 */
int		 imap_check_config(struct heard *, char *err, size_t errlen);
/* The first look at once, then one every [mail] imap_interval. */
void		 imap_start(struct imap *);
/* Starts no more transfers; the one in flight finishes. */
void		 imap_stop(struct imap *);
/* 1 while a transfer is in flight. */
int		 imap_busy(const struct imap *);

#endif
