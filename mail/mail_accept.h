/* mail_accept: whether a staff reply that came by mail may be relayed. */
#ifndef HEARD_MAIL_ACCEPT_H
#define HEARD_MAIL_ACCEPT_H

#include <stddef.h>
#include <stdint.h>

struct mail_msg;

/* What is done with one mail that came in; stored by name. */
enum mail_outcome {
	MAIL_ACCEPTED,	/* relayed to the channel */
	MAIL_REFUSED,	/* logged and answered with the reason */
	MAIL_DROPPED,	/* machine-made: logged, never answered */
};

/* "accepted", "refused", "dropped". */
const char	*mail_outcome_name(enum mail_outcome);

/*
 * What the store knows of the thread and the user a verified token
 * names; the caller's lookup fills it. Every field starts at zero.
 */
struct mail_facts {
	int	 thread_found;
	char	*org_code;	/* the thread's organisation; owned */
	int	 user_found;
	char	*user_email;	/* as stored; owned */
	int	 user_disabled;
	int	 user_reviewer;	/* for the refusal's wording only */
	int	 may_write;	/* access_check(ACCESS_WRITE), org */
};

void	mail_facts_free(struct mail_facts *);

/*
 * Fills facts for the thread and user ids of a verified token: 0, or
 * -1 if the store cannot be read (the mail is then tried again later,
 * never refused).
 */
typedef int (*mail_lookup_fn)(void *arg, int64_t thread_id,
    int64_t user_id, struct mail_facts *facts);

/* What the checks need besides the mail; every pointer borrowed. */
struct mail_accept_ctx {
	const char		*reply_domain;	/* [mail] */
	const unsigned char	*key;		/* reply-token key */
	size_t			 keylen;
	mail_lookup_fn		 lookup;
	void			*lookup_arg;
};

/*
 * The key a mail is known by, so that one read twice is done once:
 * its Message-ID, else "sha256-<hex>@heard.invalid", the SHA-256 of
 * its bytes. 0 and out, or -1 if out is too small.
 */
int	mail_accept_key(const struct mail_msg *, const char *bytes,
	    size_t len, char *out, size_t outlen);

#define MAIL_REASON_MAX	256

/* The verdict on one mail; text owned (mail_verdict_free). */
struct mail_verdict {
	enum mail_outcome	 outcome;
	/* Why not accepted; "" when accepted. */
	char			 reason[MAIL_REASON_MAX];
	int64_t			 thread_id;	/* 0: not verified */
	int64_t			 user_id;
	/* Accepted: the stripped reply, owned; else NULL. */
	char			*text;
};

void	mail_verdict_free(struct mail_verdict *);

/*
 * Runs the checks in their order, each stopping at the first that
 * fails: a machine-made mail is dropped; then it must be addressed to
 * reply+TOKEN@reply_domain, the token must verify and its thread
 * exist, the From address must be the email of the user the token was
 * made for (any case), that user not disabled and allowed to write for
 * the thread's organisation, and the text left once quotes and
 * signatures are stripped not empty. 0 and *v, or -1 if the lookup
 * failed (v then says nothing).
 */
int	mail_accept_check(const struct mail_accept_ctx *,
	    const struct mail_msg *, struct mail_verdict *v);

#endif
