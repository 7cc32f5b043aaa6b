/* mailer: turns the notification outbox into mails and sends them by SMTP. */
#ifndef HEARD_MAILER_H
#define HEARD_MAILER_H

#include <stddef.h>

struct heard;
struct mailer;
struct notify_opts;

/* Seconds between two looks at the outbox and the mail queue. */
#define MAILER_TICK		2.0
/* Mails being sent at once. */
#define MAILER_MAX_BUSY		4
/* Sends of one mail before it is given up: any failure, and 5xx ones. */
#define MAILER_MAX_ATTEMPTS	16
#define MAILER_MAX_REFUSED	3
/* First wait after a failed send, doubled each time up to the ceiling. */
#define MAILER_BACKOFF_BASE	30
#define MAILER_BACKOFF_MAX	3600

/*
 * The mail options of h's config, with h's reply-token key; pointers
 * borrowed from h until its config is replaced (a reload).
 */
void		 mailer_opts(const struct heard *, struct notify_opts *);
/*
 * Needs h->loop, h->fetch, h->store and h->secret (heard_load_secret);
 * h borrowed. NULL with err "" when [mail] smtp_url is unset (no mail
 * is sent), NULL with the reason when the mail settings do not hold
 * together (no from, no key, an unreadable password file).
 */
struct mailer	*mailer_new(struct heard *, char *err, size_t errlen);
/*
 * What mailer_new would refuse, without starting anything: 0 when
 * smtp_url is unset or the settings hold together (the key and the
 * password file are read; h->secret is loaded). For check-config.
 */
int		 mailer_check_config(struct heard *, char *err, size_t errlen);
/* Drops sends in flight unrecorded: they stay queued and go again. */
void		 mailer_free(struct mailer *);
/*
 * Composes what is due and sends what is queued, at once and every
 * MAILER_TICK seconds. -1 if the store cannot be read.
 */
int		 mailer_start(struct mailer *);
/* Looks at once (new items, a reply settled). NULL: no mailer, no-op. */
void		 mailer_wake(struct mailer *);
/* A config reload: the password file is read again. */
void		 mailer_reload(struct mailer *);
/* Starts no more sends; those in flight finish and are recorded. */
void		 mailer_stop(struct mailer *);
/* Sends in flight; 0 for NULL. */
int		 mailer_busy(const struct mailer *);
/*
 * One mail to every admin (a source paused, say), queued and woken.
 * NULL (no mailer): nothing is sent, the caller has logged it anyway.
 */
void		 mailer_alert(struct mailer *, const char *subject,
		    const char *text);

#endif
