/* cmd_mail_in: one staff reply on stdin, from an MTA's pipe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "context.h"
#include "secret_file.h"
#include "heard.h"
#include "mail_in.h"
#include "mail_parse.h"
#include "xmalloc.h"

/*
 * sysexits(3), which Postfix, Exim and sendmail read from a pipe: 0
 * delivered, 75 try again later, 65 bounce, 64 wrong use.
 */
#define CMD_MAIL_IN_OK		0
#define CMD_MAIL_IN_USAGE	64
#define CMD_MAIL_IN_DATAERR	65
#define CMD_MAIL_IN_TEMPFAIL	75

/* The message on stdin, at most MAIL_MAX_BYTES; NULL if over or unread. */
static char *
cmd_mail_in_read(size_t *len, int *over)
{
	char *buf = xmalloc(MAIL_MAX_BYTES + 1);
	size_t n = 0, r;

	*over = 0;
	while (n <= MAIL_MAX_BYTES &&
	    (r = fread(buf + n, 1, MAIL_MAX_BYTES + 1 - n, stdin)) > 0)
		n += r;
	if (ferror(stdin) || n > MAIL_MAX_BYTES) {
		*over = n > MAIL_MAX_BYTES;
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* One line on stdout saying what became of the mail. */
static void
cmd_mail_in_say(const struct mail_in_report *r)
{
	if (r->duplicate)
		printf("duplicate: %s was seen before; nothing done\n",
		    r->message_id);
	else if (r->outcome == MAIL_ACCEPTED)
		printf("accepted: %s is reply %lld on thread %lld\n",
		    r->message_id, (long long)r->reply_id,
		    (long long)r->thread_id);
	else
		printf("%s: %s: %s\n", mail_outcome_name(r->outcome),
		    r->message_id, r->reason);
}

static int
cmd_mail_in_run(struct heard *h, const char *bytes, size_t len)
{
	struct mail_in_report rep;

	switch (mail_in_process(h, bytes, len, "pipe", (int64_t)time(NULL),
	    &rep)) {
	case MAIL_IN_HANDLED:
		cmd_mail_in_say(&rep);
		return CMD_MAIL_IN_OK;
	case MAIL_IN_NOT_MAIL:
		cmd_fail("mail-in: not a mail heard can read: %s", rep.reason);
		return CMD_MAIL_IN_DATAERR;
	case MAIL_IN_TEMPFAIL:
	default:
		cmd_fail("mail-in: %s%s%s (try again later)",
		    rep.message_id, rep.message_id[0] != '\0' ? ": " : "",
		    rep.reason);
		return CMD_MAIL_IN_TEMPFAIL;
	}
}

static int
cmd_mail_in(struct heard *h, int argc, char **argv)
{
	char err[512], *bytes;
	size_t len = 0;
	int over, rc;

	if (argc > 1) {
		cmd_fail("mail-in: it takes no arguments ('%s'); the mail "
		    "comes on stdin", argv[1]);
		return CMD_MAIL_IN_USAGE;
	}
	if ((bytes = cmd_mail_in_read(&len, &over)) == NULL) {
		if (!over) {
			cmd_fail("mail-in: stdin cannot be read");
			return CMD_MAIL_IN_TEMPFAIL;
		}
		cmd_fail("mail-in: the message is over %d bytes",
		    MAIL_MAX_BYTES);
		return CMD_MAIL_IN_DATAERR;
	}
	/* The store or the key missing now is the operator's to fix: retry. */
	if (heard_open_store(h, err, sizeof(err)) == -1 ||
	    heard_load_secret(h, err, sizeof(err)) == -1) {
		free(bytes);
		cmd_fail("mail-in: %s (try again later)", err);
		return CMD_MAIL_IN_TEMPFAIL;
	}
	rc = cmd_mail_in_run(h, bytes, len);
	free(bytes);
	return rc;
}

const struct cmd_entry cmd_mail_in_entry = {
	.name = "mail-in",
	.usage = "< MESSAGE",
	.help = "takes one staff reply by mail (RFC 5322) on stdin, from "
	    "an MTA",
	.more =
	    "The mail is checked (it is not machine-made; it is addressed to\n"
	    "a reply+TOKEN address of [mail] reply_domain whose token\n"
	    "verifies; its sender is the staff member the token was made\n"
	    "for, allowed to reply for the thread's organisation; text is\n"
	    "left once quotes and signature are taken out), then relayed to\n"
	    "the channel by the running daemon. A mail is done once per\n"
	    "Message-ID, so one read both here and by IMAP is relayed once.\n"
	    "\n"
	    "Prints one line: accepted, refused (the sender is told why by\n"
	    "mail), dropped (an auto-reply or bounce) or duplicate.\n"
	    "\n"
	    "Exit status, as an MTA reads it: 0 handled (accepted, refused,\n"
	    "dropped or a duplicate: never bounce it), 75 (EX_TEMPFAIL) the\n"
	    "config, the store or the key cannot be used now (the MTA tries\n"
	    "again: fix the config and the mail still comes through), 65\n"
	    "(EX_DATAERR) not a message, or over 8 MiB (the MTA bounces it),\n"
	    "64 wrong use.\n"
	    "\n"
	    "Postfix, with [mail] reply_domain = reply.example.nhs.uk routed\n"
	    "to this host: in /etc/aliases\n"
	    "    reply: \"|/usr/bin/heard -c /etc/heard.conf mail-in\"\n"
	    "then `newaliases`, and in main.cf\n"
	    "    recipient_delimiter = +\n"
	    "so that reply+TOKEN@ reaches the alias \"reply\". It must run\n"
	    "as the account that owns the database and the key file: aliases\n"
	    "run as default_privs, so put the pipe in that account's\n"
	    ".forward (alias reply: heard), or use a pipe(8) transport with\n"
	    "user=heard. Exim: a router for local part \"reply\", suffix\n"
	    "\"+*\", and a pipe transport running the same command.\n"
	    "docs/mail-in.md tells more.\n",
	.needs = CMD_NEEDS_CONFIG,
	.setup_fail = CMD_MAIL_IN_TEMPFAIL,
	.exec = cmd_mail_in,
};
