/* mail_parse: one RFC 5322 message (a staff reply) read with GMime. */
#ifndef HEARD_MAIL_PARSE_H
#define HEARD_MAIL_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* Largest message read; a bigger one is refused unread (bounded input). */
#define MAIL_MAX_BYTES		(8 * 1024 * 1024)
/* Longest body text kept (bytes of UTF-8); the rest is cut off. */
#define MAIL_MAX_TEXT		(1024 * 1024)
/* Recipient addresses kept per message. */
#define MAIL_MAX_RCPTS		64

/*
 * Why a message is machine-made, and so never relayed nor answered.
 * Append only: stored by name (mail_auto_name).
 */
enum mail_auto {
	MAIL_AUTO_NONE = 0,
	MAIL_AUTO_SUBMITTED,	/* Auto-Submitted other than "no" */
	MAIL_AUTO_PRECEDENCE,	/* Precedence: bulk, auto_reply, list, junk */
	MAIL_AUTO_AUTOREPLY,	/* X-Autoreply, X-Autorespond and kin */
	MAIL_AUTO_NULL_SENDER,	/* Return-Path: <> */
	MAIL_AUTO_DAEMON,	/* From MAILER-DAEMON or postmaster */
	MAIL_AUTO_REPORT,	/* multipart/report: a bounce or receipt */
	MAIL_AUTO_LIST,		/* List-Id or List-Unsubscribe: a list */
	MAIL_AUTO_LOOP,		/* our own mail come back (X-Heard-Loop) */
};

/* "auto-submitted", "precedence"...; "none" for MAIL_AUTO_NONE. */
const char	*mail_auto_name(enum mail_auto);

/* A message as heard needs it; every pointer owned (mail_msg_free). */
struct mail_msg {
	char		*from_addr;	/* addr-spec, lower case; NULL none */
	char		*from_name;	/* display name, UTF-8; NULL none */
	/* Return-Path as given: "" for <>, NULL when absent. */
	char		*return_path;
	/* To, Cc, Delivered-To, X-Original-To, lower case, deduplicated. */
	char		*rcpts[MAIL_MAX_RCPTS];
	size_t		 nrcpts;
	char		*message_id;	/* without <>; NULL none */
	char		*in_reply_to;	/* first id, without <>; NULL none */
	char		*subject;	/* decoded UTF-8; NULL none */
	int64_t		 date;		/* unix seconds; 0 unknown */
	enum mail_auto	 auto_kind;	/* the first reason found */
	/*
	 * The body as UTF-8 text with \n line ends: the first text/plain
	 * part that is not an attachment, else the first text/html part
	 * turned into text (text_from_html set). Charsets, quoted-
	 * printable and base64 decoded. "" when there is none.
	 */
	char		*text;
	int		 text_from_html;
};

/*
 * Reads len bytes (LF or CRLF line ends). 0 and *out filled, or -1
 * with a one-line reason in err and *out empty. Never trusts sizes or
 * charsets named in the message.
 */
int	mail_parse(const char *bytes, size_t len, struct mail_msg *out,
	    char *err, size_t errlen);
void	mail_msg_free(struct mail_msg *);

#endif
