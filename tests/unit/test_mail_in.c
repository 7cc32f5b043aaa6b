/* test_mail_in: the checks on a reply by mail, their order and the record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "config.h"
#include "connector.h"
#include "heard.h"
#include "ingest.h"
#include "mail_accept.h"
#include "mail_in.h"
#include "mail_parse.h"
#include "mailin.h"
#include "orgs.h"
#include "reply_token.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"
#include "users.h"
#include "xmalloc.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */
#define DOMAIN	"reply.example.nhs.uk"
#define FIXTURES	\
	HEARD_SOURCE_DIR "/tests/fixtures/email/replies/discourse"

#define ITEM(...)	((struct conn_item){ .rating = ITEM_NO_RATING, \
			    __VA_ARGS__ })

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct heard	 h;
	int64_t		 t1, t2;	/* RJ1's care-connect threads */
	int64_t		 trss;		/* an rss thread of RJ1 */
	int64_t		 lead, other, reviewer, gone, admin;
};

static int64_t
one(struct store *s, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static const char *
text(struct store *s, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *q;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return buf;
}

static void
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static int64_t
add_user(struct fixture *f, const char *email, enum user_role role,
    const char *org)
{
	const char *orgs[] = { org };
	struct user_new u = { .email = email, .name = "Ann Lead", .role = role,
	    .orgs = orgs, .norgs = org != NULL ? 1 : 0,
	    .notify = NOTIFY_CONVERSATION };
	char err[256];
	int64_t id = users_add(f->h.store, &u, 0, NOW, err, sizeof(err));

	if (id <= 0)
		fail_msg("users_add %s: %s", email, err);
	return id;
}

/* A source of connector for RJ1 and one thread (key) in it. */
static int64_t
add_thread(struct fixture *f, const char *connector, const char *settings,
    const char *tkey)
{
	struct conn_item it = ITEM(.external_id = tkey, .thread_key = tkey,
	    .body = "Nobody called me back", .created_at = NOW - 3600);
	struct conn_batch b = { .items = &it, .nitems = 1 };
	struct ingest_stats st;
	struct source src;
	char err[256], sql[128];
	int64_t sid;

	sid = sources_add(f->h.store, "RJ1", connector, settings, NOW, err,
	    sizeof(err));
	assert_true(sid > 0);
	assert_int_equal(sources_get(f->h.store, sid, &src), 1);
	if (ingest_batch(f->h.store, &src, &b, NOW, &st, err,
	    sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
	source_free(&src);
	snprintf(sql, sizeof(sql), "SELECT id FROM threads WHERE "
	    "thread_key = '%s'", tkey);
	return one(f->h.store, sql);
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	static const char cc[] = "{\"endpoint\": "
	    "\"http://127.0.0.1:9/open311/v2\", \"api_key\": \"k\"}";
	int disabled = 1;
	char err[256];

	f->h.store = testdb_open("mail_in", f->dir, f->path);
	config_defaults(&f->h.cfg);
	f->h.cfg.reply_domain = xstrdup(DOMAIN);
	f->h.cfg.mail_from = xstrdup("heard <heard@example.nhs.uk>");
	f->h.secret = (unsigned char *)key;
	f->h.secret_len = sizeof(key);
	assert_true(orgs_ensure(f->h.store, "RJ1", "Guy's and St Thomas'",
	    "trust") > 0);
	assert_true(orgs_ensure(f->h.store, "RJZ", "King's College",
	    "trust") > 0);
	f->t1 = add_thread(f, "care-connect", cc, "638344");
	f->t2 = add_thread(f, "care-connect", cc, "638345");
	f->trss = add_thread(f, "rss", "{\"url\": \"http://127.0.0.1:9/f\"}",
	    "rss-1");
	f->lead = add_user(f, "lead@example.nhs.uk", ROLE_LEAD, "RJ1");
	f->other = add_user(f, "other@example.nhs.uk", ROLE_LEAD, "RJZ");
	f->reviewer = add_user(f, "rev@example.nhs.uk", ROLE_REVIEWER, "RJ1");
	f->gone = add_user(f, "gone@example.nhs.uk", ROLE_LEAD, "RJ1");
	f->admin = add_user(f, "admin@example.nhs.uk", ROLE_ADMIN, NULL);
	if (users_update(f->h.store, f->gone, NULL, NULL, &disabled, 0, NOW,
	    err, sizeof(err)) == -1)
		fail_msg("disable: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	testdb_close(f->h.store, f->dir);
	config_free(&f->h.cfg);
	free(f);
	return 0;
}

/* "reply+TOKEN@DOMAIN" for the thread and user, in out. */
static const char *
addr(int64_t thread, int64_t user, char *out, size_t len)
{
	char tok[REPLY_TOKEN_MAX];

	assert_int_equal(reply_token_make(key, sizeof(key), thread, user,
	    tok), 0);
	snprintf(out, len, "reply+%s@" DOMAIN, tok);
	return out;
}

/* A plain reply written above the quoted notification. */
static char *
mail(const char *from, const char *to, const char *msgid, const char *body)
{
	return xasprintf("From: Ann Lead <%s>\r\nTo: %s\r\n"
	    "Subject: Re: [H-ABC123] Outpatients\r\n"
	    "Message-ID: <%s>\r\nIn-Reply-To: <n1.1@example.nhs.uk>\r\n"
	    "Date: Fri, 01 May 2026 12:00:00 +0000\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=utf-8\r\n\r\n%s", from, to,
	    msgid, body);
}

static const char body_ok[] = "Thank you, we have called you back today."
    "\r\n\r\nOn Fri, 1 May 2026 at 11:00, heard <heard@example.nhs.uk> "
    "wrote:\r\n> Nobody called me back\r\n";

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf;

	if (fp == NULL)
		fail_msg("%s: cannot open", path);
	buf = xmalloc(1 << 20);
	*len = fread(buf, 1, (1 << 20) - 1, fp);
	buf[*len] = '\0';
	fclose(fp);
	return buf;
}

/* Whether header line p (at a line start) is one of names. */
static int
named(const char *p, const char *const *names)
{
	size_t n;

	for (; *names != NULL; names++) {
		n = strlen(*names);
		if (strncasecmp(p, *names, n) == 0 && p[n] == ':')
			return 1;
	}
	return 0;
}

/*
 * A real client's mail with only its To, From, Message-ID and
 * In-Reply-To replaced (folded lines of those go too).
 */
static char *
readdress(const char *file, const char *from, const char *to,
    const char *msgid, size_t *len)
{
	static const char *const drop[] = { "To", "From", "Message-ID",
	    "In-Reply-To", NULL };
	char path[512], *raw, *out, *o;
	const char *p;
	size_t n;
	int skip = 0;

	snprintf(path, sizeof(path), "%s/%s", FIXTURES, file);
	raw = slurp(path, &n);
	out = xmalloc(n + 1024);
	o = out + sprintf(out, "From: %s\nTo: %s\nMessage-ID: <%s>\n"
	    "In-Reply-To: <n1.1@example.nhs.uk>\n", from, to, msgid);
	for (p = raw; *p != '\0';) {
		const char *eol = strchr(p, '\n');
		size_t l = eol != NULL ? (size_t)(eol - p) + 1 : strlen(p);

		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			memcpy(o, p, strlen(p));
			o += strlen(p);
			break;
		}
		if (*p != ' ' && *p != '\t')
			skip = named(p, drop);
		if (!skip) {
			memcpy(o, p, l);
			o += l;
		}
		p += l;
	}
	*o = '\0';
	*len = (size_t)(o - out);
	free(raw);
	return out;
}

static enum mail_in_status
run(struct fixture *f, const char *bytes, struct mail_in_report *rep)
{
	return mail_in_process(&f->h, bytes, strlen(bytes), "pipe", NOW, rep);
}

static int64_t
count(struct fixture *f, const char *sql)
{
	return one(f->h.store, sql);
}

/*
 * The mail from sender is refused with a reason holding want; nothing
 * is queued, and the sender has been told (at most once an hour).
 */
static void
refused(struct fixture *f, const char *sender, const char *bytes,
    const char *want)
{
	struct mail_in_report rep;
	char sql[256];

	assert_int_equal(run(f, bytes, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_REFUSED);
	assert_false(rep.duplicate);
	if (strstr(rep.reason, want) == NULL)
		fail_msg("reason '%s' lacks '%s'", rep.reason, want);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 0);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM mails WHERE kind ="
	    " 'refusal' AND lower(rcpt) = lower('%s')", sender);
	assert_int_equal(count(f, sql), 1);
}

static void
test_accepted_gmail(void **state)
{
	struct fixture *f = *state;
	struct mail_in_report rep;
	char to[128], buf[4096], *m, *want;
	size_t len, wlen;

	m = readdress("android_gmail.eml", "Ann Lead <lead@example.nhs.uk>",
	    addr(f->t1, f->lead, to, sizeof(to)), "g1@mail.gmail.com", &len);
	assert_int_equal(mail_in_process(&f->h, m, len, "imap", NOW, &rep),
	    MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	assert_string_equal(rep.message_id, "g1@mail.gmail.com");
	assert_true(rep.reply_id > 0);
	assert_int_equal(rep.thread_id, f->t1);
	want = slurp(FIXTURES "/expected/android_gmail.txt", &wlen);
	while (wlen > 0 && strchr(" \r\n", want[wlen - 1]) != NULL)
		want[--wlen] = '\0';
	assert_string_equal(text(f->h.store, "SELECT body FROM reply_outbox",
	    buf, sizeof(buf)), want);
	assert_string_equal(text(f->h.store, "SELECT via || ' ' || status ||"
	    " ' ' || user_id || ' ' || author FROM reply_outbox", buf,
	    sizeof(buf)), "email queued 1 Ann Lead");
	assert_string_equal(text(f->h.store, "SELECT via || ' ' || outcome ||"
	    " ' ' || reply_id || ' ' || sender FROM mail_in", buf,
	    sizeof(buf)), "imap accepted 1 lead@example.nhs.uk");
	/* Read again (IMAP after a restart, or the pipe too): done once. */
	assert_int_equal(mail_in_process(&f->h, m, len, "pipe", NOW + 60,
	    &rep), MAIL_IN_HANDLED);
	assert_true(rep.duplicate);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM mail_in"), 1);
	assert_int_equal(count(f, "SELECT count(*) FROM mails"), 0);
	free(want);
	free(m);
}

static void
test_sender_any_case(void **state)
{
	struct fixture *f = *state;
	struct mail_in_report rep;
	char to[128], *m;

	m = mail("LEAD@Example.NHS.uk", addr(f->t1, f->lead, to, sizeof(to)),
	    "case@x", body_ok);
	assert_int_equal(run(f, m, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	free(m);
	/* An admin may answer for any organisation. */
	m = mail("admin@example.nhs.uk", addr(f->t2, f->admin, to,
	    sizeof(to)), "admin@x", body_ok);
	assert_int_equal(run(f, m, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 2);
	free(m);
}

/* Hex digit i of the token's mac turned into another. */
static void
flip(char *a, size_t i)
{
	char *at = strchr(a, '@'), *mac;

	*at = '\0';
	mac = strrchr(a, '.') + 1;
	*at = '@';

	mac[i] = mac[i] == '0' ? '1' : '0';
}

static void
test_forged_and_altered(void **state)
{
	struct fixture *f = *state;
	char to[128], t2[128], *m, *dot;

	addr(f->t1, f->lead, to, sizeof(to));
	flip(to, 5);
	m = mail("lead@example.nhs.uk", to, "forged@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "signature does not verify");
	free(m);
	/* The thread's id changed, the mac kept: another thread. */
	addr(f->t1, f->lead, to, sizeof(to));
	dot = strchr(to, '.');
	snprintf(t2, sizeof(t2), "reply+%lld%s", (long long)f->t2, dot);
	m = mail("lead@example.nhs.uk", t2, "altered@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "signature does not verify");
	free(m);
	/* The user's id changed: someone else's name on it. */
	addr(f->t1, f->lead, to, sizeof(to));
	dot = strchr(to, '.');
	snprintf(t2, sizeof(t2), "%.*s.%lld%s", (int)(dot - to), to,
	    (long long)f->other, strchr(dot + 1, '.'));
	m = mail("other@example.nhs.uk", t2, "altered-user@x", body_ok);
	refused(f, "other@example.nhs.uk", m, "signature does not verify");
	free(m);
	m = mail("lead@example.nhs.uk", "reply+not-a-token@" DOMAIN,
	    "malformed@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "malformed");
	free(m);
	m = mail("lead@example.nhs.uk", "patient.experience@example.nhs.uk",
	    "elsewhere@x", body_ok);
	refused(f, "lead@example.nhs.uk", m,
	    "not addressed to a reply address");
	free(m);
	/* The right token under another domain is not ours either. */
	addr(f->t1, f->lead, to, sizeof(to));
	strcpy(strchr(to, '@') + 1, "evil.example.com");
	m = mail("lead@example.nhs.uk", to, "domain@x", body_ok);
	refused(f, "lead@example.nhs.uk", m,
	    "not addressed to a reply address");
	free(m);
	assert_int_equal(count(f, "SELECT count(*) FROM mail_in WHERE "
	    "outcome = 'refused'"), 6);
}

static void
test_wrong_sender(void **state)
{
	struct fixture *f = *state;
	char to[128], *m;

	/* A genuine token of the lead's, sent by a stranger. */
	m = mail("stranger@example.com", addr(f->t1, f->lead, to,
	    sizeof(to)), "stranger@x", body_ok);
	refused(f, "stranger@example.com", m,
	    "not the staff member this reply address was made for");
	free(m);
	/* Another staff member's genuine token, replayed by the lead. */
	m = mail("lead@example.nhs.uk", addr(f->t1, f->admin, to,
	    sizeof(to)), "replayed@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "not the staff member");
	free(m);
	m = mail("rev@example.nhs.uk", addr(f->t1, f->reviewer, to,
	    sizeof(to)), "reviewer@x", body_ok);
	refused(f, "rev@example.nhs.uk", m, "a read-only reviewer");
	free(m);
	m = mail("gone@example.nhs.uk", addr(f->t1, f->gone, to, sizeof(to)),
	    "disabled@x", body_ok);
	refused(f, "gone@example.nhs.uk", m, "disabled");
	free(m);
	m = mail("other@example.nhs.uk", addr(f->t1, f->other, to,
	    sizeof(to)), "notours@x", body_ok);
	refused(f, "other@example.nhs.uk", m,
	    "may not reply for RJ1 (not one of their");
	free(m);
	m = mail("lead@example.nhs.uk", addr(f->t1 + 1000, f->lead, to,
	    sizeof(to)), "nothread@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "no longer exists");
	free(m);
}

static void
test_text_and_channel(void **state)
{
	struct fixture *f = *state;
	char to[128], *m;

	m = mail("lead@example.nhs.uk", addr(f->t1, f->lead, to, sizeof(to)),
	    "empty@x", "\r\nOn Fri, 1 May 2026 at 11:00, heard "
	    "<heard@example.nhs.uk> wrote:\r\n> Nobody called me back\r\n");
	refused(f, "lead@example.nhs.uk", m, "nothing is left to send");
	free(m);
	m = mail("lead@example.nhs.uk", addr(f->trss, f->lead, to,
	    sizeof(to)), "rss@x", body_ok);
	refused(f, "lead@example.nhs.uk", m, "rss takes no replies");
	free(m);
}

static void
test_auto_replies_dropped(void **state)
{
	struct fixture *f = *state;
	static const char *const files[] = { "auto_reply.eml",
	    "auto_generated_header.eml" };
	struct mail_in_report rep;
	char to[128], id[32], buf[256], *m;
	size_t i, len;

	for (i = 0; i < 2; i++) {
		/* Even with a genuine token and sender: never answered. */
		snprintf(id, sizeof(id), "auto%zu@x", i);
		m = readdress(files[i], "lead@example.nhs.uk",
		    addr(f->t1, f->lead, to, sizeof(to)), id, &len);
		assert_int_equal(mail_in_process(&f->h, m, len, "imap", NOW,
		    &rep), MAIL_IN_HANDLED);
		assert_int_equal(rep.outcome, MAIL_DROPPED);
		assert_non_null(strstr(rep.reason, "machine-made (auto"));
		free(m);
	}
	assert_string_equal(text(f->h.store, "SELECT group_concat(outcome)"
	    " FROM mail_in", buf, sizeof(buf)), "dropped,dropped");
	assert_int_equal(count(f, "SELECT count(*) FROM mails"), 0);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 0);
}

static void
test_no_message_id(void **state)
{
	struct fixture *f = *state;
	struct mail_in_report rep;
	char to[128], *m;

	m = xasprintf("From: lead@example.nhs.uk\r\nTo: %s\r\n"
	    "Subject: Re: x\r\n\r\nWe will call today.\r\n",
	    addr(f->t1, f->lead, to, sizeof(to)));
	assert_int_equal(run(f, m, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	assert_int_equal(strncmp(rep.message_id, "sha256-", 7), 0);
	assert_int_equal(run(f, m, &rep), MAIL_IN_HANDLED);
	assert_true(rep.duplicate);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 1);
	free(m);
}

/*
 * A reader that died between claiming the mail and tying it to its
 * reply: while the claim is young another reader waits; once it is
 * stale the reply it made is found, never queued twice.
 */
static void
test_dead_reader(void **state)
{
	struct fixture *f = *state;
	struct mail_in_report rep;
	struct mailin_rec r = { .message_id = "dead@x", .via = "imap",
	    .sender = "lead@example.nhs.uk", .outcome = "accepted",
	    .received_at = NOW };
	char to[128], *m;

	r.thread_id = f->t1;
	r.user_id = f->lead;
	m = mail("lead@example.nhs.uk", addr(f->t1, f->lead, to, sizeof(to)),
	    "dead@x", body_ok);
	/* First the reply it queued, as reply_submit would have. */
	assert_int_equal(run(f, m, &rep), MAIL_IN_HANDLED);
	exec(f->h.store, "DELETE FROM mail_in");
	assert_true(mailin_record(f->h.store, &r) > 0);
	assert_int_equal(mail_in_process(&f->h, m, strlen(m), "pipe",
	    NOW + 10, &rep), MAIL_IN_TEMPFAIL);
	assert_non_null(strstr(rep.reason, "another reader"));
	assert_int_equal(mail_in_process(&f->h, m, strlen(m), "pipe",
	    NOW + MAIL_IN_CLAIM_WAIT, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 1);
	assert_int_equal(count(f, "SELECT reply_id FROM mail_in"),
	    count(f, "SELECT id FROM reply_outbox"));
	/* A dead claim with no reply behind it: the reply is made now. */
	exec(f->h.store, "DELETE FROM mail_in");
	exec(f->h.store, "DELETE FROM audit_log");
	exec(f->h.store, "DELETE FROM reply_outbox");
	assert_true(mailin_record(f->h.store, &r) > 0);
	assert_int_equal(mail_in_process(&f->h, m, strlen(m), "pipe",
	    NOW + MAIL_IN_CLAIM_WAIT, &rep), MAIL_IN_HANDLED);
	assert_int_equal(rep.outcome, MAIL_ACCEPTED);
	assert_int_equal(count(f, "SELECT count(*) FROM reply_outbox"), 1);
	free(m);
}

static void
test_not_configured(void **state)
{
	struct fixture *f = *state;
	struct mail_in_report rep;
	char to[128], *m;

	m = mail("lead@example.nhs.uk", addr(f->t1, f->lead, to, sizeof(to)),
	    "nokey@x", body_ok);
	f->h.secret = NULL;
	assert_int_equal(run(f, m, &rep), MAIL_IN_TEMPFAIL);
	assert_non_null(strstr(rep.reason, "secret_file"));
	assert_int_equal(count(f, "SELECT count(*) FROM mail_in"), 0);
	free(m);
}

/* The pure checks: a lookup that must not be asked, one that fails. */
static int lookups;

static int
lookup_fails(void *arg, int64_t thread, int64_t user, struct mail_facts *fa)
{
	(void)arg;
	(void)thread;
	(void)user;
	(void)fa;
	lookups++;
	return -1;
}

static void
test_order_pure(void **state)
{
	struct fixture *f = *state;
	struct mail_accept_ctx c = { .reply_domain = DOMAIN, .key = key,
	    .keylen = sizeof(key), .lookup = lookup_fails };
	struct mail_verdict v;
	struct mail_msg msg;
	char to[128], err[256], *m;

	m = mail("x@example.com", "reply+1.1.00@" DOMAIN, "p1@x", body_ok);
	assert_int_equal(mail_parse(m, strlen(m), &msg, err, sizeof(err)), 0);
	lookups = 0;
	assert_int_equal(mail_accept_check(&c, &msg, &v), 0);
	assert_int_equal(v.outcome, MAIL_REFUSED);
	assert_int_equal(lookups, 0);
	/* Machine-made first, whatever else is wrong. */
	msg.auto_kind = MAIL_AUTO_PRECEDENCE;
	assert_int_equal(mail_accept_check(&c, &msg, &v), 0);
	assert_int_equal(v.outcome, MAIL_DROPPED);
	assert_string_equal(v.reason, "machine-made (precedence)");
	mail_msg_free(&msg);
	free(m);
	/* A verified token asks the store; its failure is no verdict. */
	m = mail("lead@example.nhs.uk", addr(f->t1, f->lead, to, sizeof(to)),
	    "p2@x", body_ok);
	assert_int_equal(mail_parse(m, strlen(m), &msg, err, sizeof(err)), 0);
	assert_int_equal(mail_accept_check(&c, &msg, &v), -1);
	assert_int_equal(lookups, 1);
	mail_verdict_free(&v);
	mail_msg_free(&msg);
	free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accepted_gmail, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sender_any_case, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forged_and_altered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrong_sender, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_text_and_channel, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_auto_replies_dropped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_message_id, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_dead_reader, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_not_configured, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order_pure, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
