/* notify: who hears of what, and the mails that tell them. */
#ifndef HEARD_NOTIFY_H
#define HEARD_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* What the mails need from the config; every pointer borrowed. */
struct notify_opts {
	const char		*from;		/* [mail] from */
	const char		*reply_domain;	/* [mail] reply_domain */
	const char		*base_url;	/* [http] base_url */
	const unsigned char	*key;		/* reply-token key */
	size_t			 key_len;
	long			 per_hour;	/* [mail] per_hour */
	long			 digest_hour;	/* [mail] digest_hour, UTC */
	/* A connector's title ("Care Opinion"); NULL, or NULL back: the
	   connector's name. The inbox cannot read the registry itself. */
	const char		*(*channel_title)(const char *connector);
};

/*
 * Turns what is due into rows of the mails table, each in its own
 * transaction: pending notifications (one mail each while the user is
 * under per_hour, else kept for the digest), digests at digest_hour,
 * a backfill's one summary once its source's first poll is done,
 * confirmations of emailed replies that were posted, failed or handed
 * off. Returns the number of mails made, -1 on error (err says why).
 * A row whose mail cannot be built (an address of the wrong shape) is
 * dropped, and err names it even when the return is not -1; err is ""
 * otherwise. Ids are "heard.t<thread>.m<mail>@<reply_domain>" (the
 * domain of from when reply_domain is NULL); from is required.
 */
int	notify_compose(struct store *, const struct notify_opts *,
	    int64_t now, char *err, size_t errlen);

/*
 * One short mail to the sender of a refused reply, saying why (never
 * for a machine-made mail: the caller checks). At most one an hour to
 * one address, so two heard instances cannot loop. Returns the mail's
 * id, 0 if held back by that limit, -1 on error.
 */
int64_t	notify_mail_refusal(struct store *, const struct notify_opts *,
	    const char *rcpt, const char *reason, const char *subject,
	    const char *in_reply_to, int64_t now);
/*
 * An invitation to set a password at link (which carries the token),
 * from inviter (a name, NULL: heard) for the named organisations.
 * Returns the mail's id, -1 on error.
 */
int64_t	notify_mail_invitation(struct store *, const struct notify_opts *,
	    int64_t user_id, const char *inviter, const char *orgs,
	    const char *link, int64_t now);
/*
 * Tells every admin (a source paused on an auth error, say): subject
 * and text as given. Returns mails made, -1 on error.
 */
int	notify_mail_admins(struct store *, const struct notify_opts *,
	    const char *subject, const char *text, int64_t now);

#endif
