/* mail_compose: an outgoing mail as RFC 5322 bytes, built with GMime. */
#ifndef HEARD_MAIL_COMPOSE_H
#define HEARD_MAIL_COMPOSE_H

#include <stddef.h>
#include <stdint.h>

/* What one mail says; every pointer borrowed, UTF-8. */
struct mail_out {
	const char	*from;		/* "heard <heard@example.nhs.uk>" */
	const char	*to;		/* addr-spec */
	const char	*to_name;	/* NULL: none */
	const char	*reply_to;	/* addr-spec; NULL: none */
	const char	*subject;
	const char	*message_id;	/* without <> */
	const char	*in_reply_to;	/* without <>; NULL: none */
	const char	*references;	/* ids without <>, space-separated */
	const char	*list_unsubscribe;	/* URL; NULL: none */
	int		 one_click;	/* List-Unsubscribe-Post (RFC 8058):
					   only when a POST to the URL itself
					   unsubscribes */
	const char	*text;		/* the plain-text part */
	const char	*html;		/* the HTML part, built safe by the
					   caller (mail_html_escape); NULL:
					   text only */
	int64_t		 date;		/* unix seconds */
	int		 auto_generated;	/* Auto-Submitted: auto-generated */
};

/*
 * The whole message, CRLF line ends, NUL-terminated, *len without the
 * NUL: multipart/alternative (text, then HTML) when html is set,
 * UTF-8 with quoted-printable or base64 as GMime picks, headers
 * encoded per RFC 2047, and always "X-Heard-Loop: yes" so heard's
 * mail-in drops its own mail come back. Owned by the caller; NULL if
 * a required field (from, to, subject, message_id, text) is missing,
 * or an address or id is not of its shape (a header field may never
 * carry a line break: that is how headers are injected).
 */
char	*mail_compose(const struct mail_out *, size_t *len);
/*
 * The addr-spec of a mailbox "Name <local@domain>" or "local@domain"
 * into out: 0, or -1 if there is none of a sane shape or it does not
 * fit. The envelope sender of a mail, and the domain of its ids.
 */
int	mail_addr_spec(const char *mailbox, char *out, size_t outlen);
/* s with & < > " ' escaped for HTML text or attributes; new string. */
char	*mail_html_escape(const char *s);

#endif
