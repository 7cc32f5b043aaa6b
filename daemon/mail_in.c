/* mail_in: one staff reply that came by mail, checked, recorded, relayed. */
#include "mail_in.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heard.h"
#include "log.h"
#include "mail_parse.h"
#include "mailin.h"
#include "notify.h"
#include "replies.h"
#include "reply_submit.h"
#include "store.h"
#include "users.h"

/* One mail on its way through; everything owned is freed at the end. */
struct mail_in_job {
	struct heard		*h;		/* borrowed */
	const char		*via;		/* borrowed */
	int64_t			 now;
	struct mail_msg		 msg;		/* owned */
	struct mail_verdict	 v;		/* owned */
	struct reply_thread	 t;		/* owned; if accepted */
	int64_t			 row;	/* its mail_in id */
	int64_t			 claimed_at;	/* old claim */
	struct mail_in_report	*rep;		/* borrowed */
};

static const char *
mail_in_sender(const struct mail_in_job *j)
{
	return j->msg.from_addr != NULL ? j->msg.from_addr : "(no From)";
}

/*
 * Whether the mail was seen before: 1 done (a duplicate, skipped), 0
 * go on (j->row set when a dead reader's claim is to be finished), -1
 * try again later.
 */
static int
mail_in_seen(struct mail_in_job *j)
{
	struct mailin_row r;
	int rc;

	if ((rc = mailin_seen(j->h->store, j->rep->message_id, &r)) != 1)
		return rc;
	j->row = r.id;
	j->claimed_at = r.received_at;
	if (strcmp(r.outcome, "accepted") != 0 || r.reply_id != 0) {
		j->rep->duplicate = 1;
		j->rep->reply_id = r.reply_id;
		j->rep->thread_id = r.thread_id;
		snprintf(j->rep->reason, sizeof(j->rep->reason), "%s",
		    r.reason != NULL ? r.reason : "");
		mailin_row_free(&r);
		j->row = 0;
		log_debug("mail-in: %s seen before; skipped",
		    j->rep->message_id);
		return 1;
	}
	mailin_row_free(&r);
	if (j->now - j->claimed_at < MAIL_IN_CLAIM_WAIT) {
		snprintf(j->rep->reason, sizeof(j->rep->reason), "another "
		    "reader is relaying it now");
		return -1;
	}
	return 0;
}

/* Turns an accepted verdict into a refusal: reason as given. */
static void
mail_in_deny(struct mail_in_job *j, const char *reason)
{
	j->v.outcome = MAIL_REFUSED;
	snprintf(j->v.reason, sizeof(j->v.reason), "%s", reason);
	free(j->v.text);
	j->v.text = NULL;
}

/*
 * What the reply outbox will refuse, found before anything is
 * recorded as accepted: the thread as a reply needs it, a channel that
 * takes replies, a text fit to send. -1 only when the store fails.
 */
static int
mail_in_relayable(struct mail_in_job *j)
{
	char id[24], err[MAIL_REASON_MAX];
	int rc;

	snprintf(id, sizeof(id), "%lld", (long long)j->v.thread_id);
	if ((rc = replies_thread(j->h->store, id, &j->t)) == -1)
		return -1;
	if (rc == 0)
		mail_in_deny(j, "the conversation this reply address names "
		    "no longer exists");
	else if (reply_mode_of(j->t.connector) == REPLY_MODE_NONE) {
		snprintf(err, sizeof(err), "%s takes no replies from heard; "
		    "answer the patient on the channel itself",
		    j->t.connector);
		mail_in_deny(j, err);
	} else if (replies_check_body(j->v.text, err, sizeof(err)) == -1)
		mail_in_deny(j, err);
	return 0;
}

/* The checks; -1 when the store cannot answer them now. */
static int
mail_in_judge(struct mail_in_job *j)
{
	struct mail_accept_ctx c = {
		.reply_domain = j->h->cfg.reply_domain,
		.key = j->h->secret,
		.keylen = j->h->secret_len,
		.lookup = mailin_lookup,
		.lookup_arg = j->h->store,
	};

	if (mail_accept_check(&c, &j->msg, &j->v) == -1)
		return -1;
	if (j->v.outcome == MAIL_ACCEPTED)
		return mail_in_relayable(j);
	return 0;
}

/*
 * Claims the Message-ID with the verdict: 1 claimed (or a dead
 * reader's claim taken over), 0 someone else recorded it meanwhile,
 * -1 error.
 */
static int
mail_in_claim(struct mail_in_job *j)
{
	struct mailin_rec r = {
		.message_id = j->rep->message_id,
		.via = j->via,
		.sender = j->msg.from_addr,
		.thread_id = j->v.thread_id,
		.user_id = j->v.user_id,
		.outcome = mail_outcome_name(j->v.outcome),
		.reason = j->v.outcome == MAIL_ACCEPTED ? NULL : j->v.reason,
		.received_at = j->now,
	};

	if (j->row != 0) {
		/* Finishing a dead reader's claim: the row is there. */
		if (j->v.outcome == MAIL_ACCEPTED)
			return 1;
		return mailin_unaccept(j->h->store, j->row, j->v.reason) == 0 ?
		    1 : -1;
	}
	if ((j->row = mailin_record(j->h->store, &r)) == -1)
		return -1;
	return j->row > 0 ? 1 : 0;
}

static void
mail_in_notify_opts(const struct heard *h, struct notify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->from = h->cfg.mail_from;
	o->reply_domain = h->cfg.reply_domain;
	o->base_url = h->cfg.base_url;
	o->key = h->secret;
	o->key_len = h->secret_len;
	o->per_hour = h->cfg.mail_per_hour;
	o->digest_hour = h->cfg.digest_hour;
}

/* Logs a refusal (never the body) and tells the sender why. */
static void
mail_in_answer(struct mail_in_job *j)
{
	struct notify_opts o;

	if (j->v.outcome == MAIL_DROPPED) {
		log_info("mail-in: %s from %s dropped: %s", j->rep->message_id,
		    mail_in_sender(j), j->v.reason);
		return;
	}
	log_warnx("mail-in: %s from %s refused: %s", j->rep->message_id,
	    mail_in_sender(j), j->v.reason);
	if (j->msg.from_addr == NULL)
		return;
	mail_in_notify_opts(j->h, &o);
	if (notify_mail_refusal(j->h->store, &o, j->msg.from_addr,
	    j->v.reason, j->msg.subject, j->msg.message_id, j->now) == -1)
		log_warnx("mail-in: %s: the refusal to %s cannot be queued: "
		    "%s", j->rep->message_id, j->msg.from_addr,
		    store_errmsg(j->h->store));
}

/* The reply as its author signs it: the user's name, if any. */
static int
mail_in_author(struct mail_in_job *j, struct reply_author *a)
{
	struct user u;
	int rc;

	memset(a, 0, sizeof(*a));
	if ((rc = users_get(j->h->store, j->v.user_id, &u)) != 1)
		return -1;
	a->user_id = u.id;
	if (u.name != NULL && u.name[strspn(u.name, " \t")] != '\0') {
		a->name = u.name;
		u.name = NULL;
	}
	user_free(&u);
	return 0;
}

/*
 * The reply goes to the outbox, then the claim is tied to it. Two
 * transactions, as reply_submit commits its own; the order keeps a
 * crash between them from posting twice: the claim is written first,
 * so a second reader of the mail (IMAP after a restart, the pipe
 * retried by the MTA) finds it and waits; once it is older than
 * MAIL_IN_CLAIM_WAIT the reader that made it is dead, and the reply it
 * may have queued is looked for (same thread, user and text, made
 * since the claim, not tied to another mail) before any is submitted.
 */
static int
mail_in_relay(struct mail_in_job *j)
{
	struct reply_submitted out;
	struct reply_author a;
	char err[MAIL_REASON_MAX] = "";
	int64_t rid = 0;

	if (j->claimed_at != 0 && (rid = mailin_find_reply(j->h->store,
	    j->v.thread_id, j->v.user_id, j->claimed_at, j->v.text)) == -1)
		return -1;
	if (rid == 0) {
		if (mail_in_author(j, &a) == -1)
			return -1;
		if (reply_submit(j->h, &j->t, j->v.text, &a, "email", j->now,
		    &out, err, sizeof(err)) == 0)
			rid = out.reply_id;
		free(a.name);
	}
	if (rid == 0) {
		/* The outbox said no (its source's settings, the store). */
		mail_in_deny(j, err);
		if (mailin_unaccept(j->h->store, j->row, err) == -1)
			return -1;
		mail_in_answer(j);
		return 0;
	}
	if (mailin_settle(j->h->store, j->row, rid) == -1)
		return -1;
	j->rep->reply_id = rid;
	log_info("mail-in: %s from %s accepted: reply %lld on thread %s",
	    j->rep->message_id, mail_in_sender(j), (long long)rid,
	    j->t.reference);
	return 0;
}

/* Everything after parsing; the status for the caller. */
static enum mail_in_status
mail_in_run(struct mail_in_job *j)
{
	int rc;

	if ((rc = mail_in_seen(j)) != 0)
		return rc == 1 ? MAIL_IN_HANDLED : MAIL_IN_TEMPFAIL;
	if (mail_in_judge(j) == -1)
		return MAIL_IN_TEMPFAIL;
	j->rep->outcome = j->v.outcome;
	j->rep->thread_id = j->v.thread_id;
	if ((rc = mail_in_claim(j)) != 1) {
		j->rep->duplicate = rc == 0;
		return rc == 0 ? MAIL_IN_HANDLED : MAIL_IN_TEMPFAIL;
	}
	if (j->v.outcome != MAIL_ACCEPTED) {
		snprintf(j->rep->reason, sizeof(j->rep->reason), "%s",
		    j->v.reason);
		mail_in_answer(j);
		return MAIL_IN_HANDLED;
	}
	if (mail_in_relay(j) == -1)
		return MAIL_IN_TEMPFAIL;
	j->rep->outcome = j->v.outcome;
	snprintf(j->rep->reason, sizeof(j->rep->reason), "%s", j->v.reason);
	return MAIL_IN_HANDLED;
}

/* The mail loop needs its key and domain; without them, wait. */
static int
mail_in_ready(struct heard *h, struct mail_in_report *rep)
{
	if (h->secret != NULL && h->secret_len > 0 &&
	    h->cfg.reply_domain != NULL && h->cfg.reply_domain[0] != '\0')
		return 0;
	snprintf(rep->reason, sizeof(rep->reason), "[mail] reply_domain "
	    "and secret_file must be set to take replies by mail");
	return -1;
}

enum mail_in_status
mail_in_process(struct heard *h, const char *bytes, size_t len,
    const char *via, int64_t now, struct mail_in_report *rep)
{
	struct mail_in_job j;
	enum mail_in_status st;

	memset(rep, 0, sizeof(*rep));
	memset(&j, 0, sizeof(j));
	j.h = h;
	j.via = via;
	j.now = now;
	j.rep = rep;
	if (mail_in_ready(h, rep) == -1)
		return MAIL_IN_TEMPFAIL;
	if (len > MAIL_MAX_BYTES) {
		snprintf(rep->reason, sizeof(rep->reason), "the message is "
		    "over %d bytes", MAIL_MAX_BYTES);
		return MAIL_IN_NOT_MAIL;
	}
	if (mail_parse(bytes, len, &j.msg, rep->reason,
	    sizeof(rep->reason)) == -1)
		return MAIL_IN_NOT_MAIL;
	if (mail_accept_key(&j.msg, bytes, len, rep->message_id,
	    sizeof(rep->message_id)) == -1)
		st = MAIL_IN_TEMPFAIL;
	else if ((st = mail_in_run(&j)) == MAIL_IN_TEMPFAIL &&
	    rep->reason[0] == '\0')
		snprintf(rep->reason, sizeof(rep->reason), "store: %s",
		    store_errmsg(h->store));
	mail_verdict_free(&j.v);
	reply_thread_free(&j.t);
	mail_msg_free(&j.msg);
	return st;
}
