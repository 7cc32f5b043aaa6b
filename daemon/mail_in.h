/* mail_in: one staff reply that came by mail, checked, recorded, relayed. */
#ifndef HEARD_MAIL_IN_H
#define HEARD_MAIL_IN_H

#include <stddef.h>
#include <stdint.h>

#include "mail_accept.h"

struct heard;

/*
 * A mail_in row claimed as accepted but not yet tied to its reply is
 * another reader's work in progress for this long; after that it is a
 * reader that died between the two, and the mail is settled again.
 */
#define MAIL_IN_CLAIM_WAIT	120

enum mail_in_status {
	MAIL_IN_HANDLED,	/* accepted, refused, dropped or seen */
	MAIL_IN_TEMPFAIL,	/* cannot be settled now: offer it again */
	MAIL_IN_NOT_MAIL,	/* the bytes are not a message */
};

/* What became of one mail, for the caller to show. */
struct mail_in_report {
	enum mail_outcome	 outcome;
	int			 duplicate;	/* seen: nothing done */
	char			 message_id[256];	/* or "" */
	char			 reason[MAIL_REASON_MAX];	/* why not
							   accepted, or why
							   it failed */
	int64_t			 reply_id;	/* when accepted */
	int64_t			 thread_id;
};

/*
 * Takes one message (len bytes, borrowed) that came via "imap" or
 * "pipe" and runs the checks of mail_accept in their order, recording
 * the outcome in mail_in once per Message-ID (a mail without one is
 * known by a hash of its bytes). An accepted mail goes to reply_submit
 * as its user's reply; a refused one is logged and its sender told
 * why (notify_mail_refusal); a machine-made one is only logged.
 */
enum mail_in_status mail_in_process(struct heard *, const char *bytes,
	    size_t len, const char *via, int64_t now,
	    struct mail_in_report *);

#endif
