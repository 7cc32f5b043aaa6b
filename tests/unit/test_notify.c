/* test_notify: who hears of what, and the mails that tell them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "connector.h"
#include "ingest.h"
#include "mails.h"
#include "notify.h"
#include "orgs.h"
#include "reply_token.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"
#include "users.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01 12:00 UTC */
#define HOUR	3600
#define DOMAIN	"reply.example.nhs.uk"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";

/* The org's staff, each with a different choice of mail. */
enum who { W_CONV, W_MSG, W_DIGEST, W_NONE, W_REVIEWER, W_OFF, W_ADMIN,
	W_N };

struct fixture {
	char			 dir[TESTDB_DIR];
	char			 path[TESTDB_PATH];
	struct store		*s;
	struct source		 src;	/* RJ1, first poll done */
	int64_t			 user[W_N];
	struct notify_opts	 o;
};

static const char *
title(const char *connector)
{
	return strcmp(connector, "care-opinion") == 0 ? "Care Opinion" : NULL;
}

static int64_t
add_user(struct store *s, const char *email, enum user_role role,
    enum user_notify n)
{
	const char *orgs[] = { "RJ1" };
	struct user_new u = { .email = email, .name = "Sam Staff",
	    .role = role, .orgs = orgs, .norgs = role == ROLE_ADMIN ? 0 : 1,
	    .notify = n };
	char err[256];
	int64_t id = users_add(s, &u, 0, NOW - 10 * HOUR, err, sizeof(err));

	if (id <= 0)
		fail_msg("users_add %s: %s", email, err);
	return id;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int64_t id;
	int off = 1;

	f->s = testdb_open("notify", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "GUY'S AND ST THOMAS'",
	    "trust") > 0);
	id = sources_add(f->s, "RJ1", "care-opinion", "{}", NOW - 10 * HOUR,
	    err, sizeof(err));
	assert_true(id > 0);
	assert_int_equal(ingest_backfill_done(f->s, id, NOW - 9 * HOUR), 0);
	assert_int_equal(sources_get(f->s, id, &f->src), 1);
	f->user[W_CONV] = add_user(f->s, "conv@x.nhs.uk", ROLE_LEAD,
	    NOTIFY_CONVERSATION);
	f->user[W_MSG] = add_user(f->s, "msg@x.nhs.uk", ROLE_LEAD,
	    NOTIFY_MESSAGE);
	f->user[W_DIGEST] = add_user(f->s, "digest@x.nhs.uk", ROLE_LEAD,
	    NOTIFY_DIGEST);
	f->user[W_NONE] = add_user(f->s, "none@x.nhs.uk", ROLE_LEAD,
	    NOTIFY_NONE);
	f->user[W_REVIEWER] = add_user(f->s, "icb@x.nhs.uk", ROLE_REVIEWER,
	    NOTIFY_CONVERSATION);
	f->user[W_OFF] = add_user(f->s, "gone@x.nhs.uk", ROLE_LEAD,
	    NOTIFY_MESSAGE);
	f->user[W_ADMIN] = add_user(f->s, "admin@x.nhs.uk", ROLE_ADMIN,
	    NOTIFY_NONE);
	assert_int_equal(users_update(f->s, f->user[W_OFF], NULL, NULL, &off,
	    0, NOW - 10 * HOUR, err, sizeof(err)), 0);
	f->o = (struct notify_opts){ .from = "heard <heard@x.nhs.uk>",
	    .reply_domain = DOMAIN, .base_url = "https://heard.x.nhs.uk",
	    .key = key, .key_len = sizeof(key), .per_hour = 12,
	    .digest_hour = 8, .channel_title = title };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	source_free(&f->src);
	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

static long long
qn(struct store *s, const char *fmt, ...)
{
	char sql[1024];
	sqlite3_stmt *st;
	long long v = -1;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* One text value (owned) from one row; NULL if none. */
static char *
qs(struct store *s, const char *fmt, ...)
{
	char sql[1024], *v = NULL;
	sqlite3_stmt *st;
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		n = sqlite3_column_bytes(st, 0);
		v = malloc((size_t)n + 1);
		memcpy(v, sqlite3_column_blob(st, 0), (size_t)n);
		v[n] = '\0';
	}
	sqlite3_finalize(st);
	return v;
}

#define ITEM(...)	((struct conn_item){ .rating = ITEM_NO_RATING, \
			    __VA_ARGS__ })

static void
put(struct fixture *f, struct conn_item *items, size_t n, int64_t now)
{
	struct conn_batch b = { .items = items, .nitems = n };
	struct ingest_stats st;
	char err[256];

	if (ingest_batch(f->s, &f->src, &b, now, &st, err, sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
}

static int
compose(struct fixture *f, int64_t now)
{
	char err[256];
	int n = notify_compose(f->s, &f->o, now, err, sizeof(err));

	if (n == -1)
		fail_msg("notify_compose: %s", err);
	assert_string_equal(err, "");
	return n;
}

static long long
rows(struct fixture *f, enum who w, const char *state)
{
	return qn(f->s, "SELECT count(*) FROM notification_outbox WHERE "
	    "user_id = %lld AND state = '%s'", (long long)f->user[w], state);
}

static long long
mails_to(struct fixture *f, enum who w, const char *kind)
{
	return qn(f->s, "SELECT count(*) FROM mails WHERE user_id = %lld "
	    "AND kind = '%s'", (long long)f->user[w], kind);
}

/* A header's value (unfolded) in a stored mail's bytes; owned or NULL. */
static char *
header(const char *mail, const char *name)
{
	size_t n = strlen(name), o = 0;
	const char *p, *end = strstr(mail, "\r\n\r\n");
	char *v;

	for (p = mail; p != NULL && p < end; p = strstr(p, "\r\n") + 2) {
		if (strncasecmp(p, name, n) != 0 || p[n] != ':')
			continue;
		v = malloc(4096);
		for (p += n + 1; *p == ' '; p++)
			;
		while (o < 4095 && !(p[0] == '\r' && p[1] == '\n' &&
		    p[2] != ' ' && p[2] != '\t')) {
			if (*p != '\r' && *p != '\n')
				v[o++] = *p == '\t' ? ' ' : *p;
			p++;
		}
		v[o] = '\0';
		return v;
	}
	return NULL;
}

/* Quoted-printable undone over the whole mail (headers pass as they are). */
static char *
unqp(const char *s)
{
	char *out = malloc(strlen(s) + 1), *o = out;
	unsigned int c;

	while (*s != '\0') {
		if (s[0] == '=' && s[1] == '\r' && s[2] == '\n')
			s += 3;
		else if (s[0] == '=' && sscanf(s + 1, "%2X", &c) == 1 &&
		    strchr("0123456789ABCDEF", s[1]) != NULL &&
		    strchr("0123456789ABCDEF", s[2]) != NULL) {
			*o++ = (char)c;
			s += 3;
		} else
			*o++ = *s++;
	}
	*o = '\0';
	return out;
}

static char *
mail_body(struct fixture *f, long long id)
{
	return qs(f->s, "SELECT body FROM mails WHERE id = %lld", id);
}

/* Each choice of mail, for a new conversation and a later message. */
static void
test_preferences(void **state)
{
	struct fixture *f = *state;
	struct conn_item first[] = { ITEM(.external_id = "s1",
	    .thread_key = "t1", .body = "Kind nurses", .created_at = NOW) };
	struct conn_item more[] = {
		ITEM(.external_id = "s2", .thread_key = "t1",
		    .body = "And another thing", .created_at = NOW + 60),
		ITEM(.external_id = "r1", .thread_key = "t1", .dir = ITEM_OUT,
		    .body = "Thank you", .created_at = NOW + 90),
	};

	put(f, first, 1, NOW);
	assert_int_equal(rows(f, W_CONV, "pending"), 1);
	assert_int_equal(rows(f, W_MSG, "pending"), 1);
	assert_int_equal(rows(f, W_REVIEWER, "pending"), 1);
	assert_int_equal(rows(f, W_DIGEST, "digest"), 1);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox "
	    "WHERE user_id IN (%lld, %lld, %lld)", (long long)f->user[W_NONE],
	    (long long)f->user[W_OFF], (long long)f->user[W_ADMIN]), 0);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox "
	    "WHERE kind <> 'new_thread'"), 0);

	/* A second word from the public: only "every message" and digest. */
	put(f, more, 2, NOW + 100);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox "
	    "WHERE kind = 'new_message'"), 2);
	assert_int_equal(rows(f, W_MSG, "pending"), 2);
	assert_int_equal(rows(f, W_DIGEST, "digest"), 2);
	assert_int_equal(rows(f, W_CONV, "pending"), 1);

	/* Four mails: conversation, message x2, reviewer; the digest waits. */
	assert_int_equal(compose(f, NOW + 120), 4);
	assert_int_equal(mails_to(f, W_CONV, "notification"), 1);
	assert_int_equal(mails_to(f, W_MSG, "notification"), 2);
	assert_int_equal(mails_to(f, W_REVIEWER, "notification"), 1);
	assert_int_equal(mails_to(f, W_DIGEST, "notification"), 0);
	assert_int_equal(rows(f, W_DIGEST, "digest"), 2);
	/* Nothing is made twice. */
	assert_int_equal(compose(f, NOW + 130), 0);
}

/* The subject, the quoted words (escaped in HTML), the link, the token. */
static void
test_mail_content(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[] = { { .external_id = "s1", .thread_key = "t1",
	    .title = "Ward 5", .author_name = "A patient", .rating = 2,
	    .body = "</p><script>alert(1)</script> & more",
	    .url = "https://www.careopinion.org.uk/1", .created_at = NOW } };
	long long thread, id;
	char *body, *dec, *v, tok[REPLY_TOKEN_MAX], want[256];
	int64_t t = 0, u = 0;

	put(f, it, 1, NOW);
	assert_int_equal(compose(f, NOW + 1), 3);
	thread = qn(f->s, "SELECT id FROM threads");
	id = qn(f->s, "SELECT id FROM mails WHERE user_id = %lld",
	    (long long)f->user[W_CONV]);
	body = mail_body(f, id);
	assert_non_null(body);
	v = header(body, "Message-Id");
	snprintf(want, sizeof(want), "<heard.t%lld.m%lld@" DOMAIN ">", thread,
	    id);
	assert_string_equal(v, want);
	free(v);
	v = qs(f->s, "SELECT reference FROM threads");
	snprintf(want, sizeof(want), "[%s] New conversation at GUY'S AND ST "
	    "THOMAS': Care Opinion", v);
	free(v);
	v = qs(f->s, "SELECT subject FROM mails WHERE id = %lld", id);
	assert_string_equal(v, want);
	free(v);
	v = header(body, "Reply-To");
	assert_non_null(v);
	assert_int_equal(reply_token_from_addr(v, DOMAIN, tok), 0);
	assert_int_equal(reply_token_check(key, sizeof(key), tok, &t, &u),
	    REPLY_TOKEN_OK);
	assert_int_equal(t, thread);
	assert_int_equal(u, f->user[W_CONV]);
	free(v);
	v = header(body, "List-Unsubscribe");
	assert_string_equal(v, "<https://heard.x.nhs.uk/#/settings>");
	free(v);
	v = header(body, "Auto-Submitted");
	assert_string_equal(v, "auto-generated");
	free(v);
	assert_null(header(body, "In-Reply-To"));
	dec = unqp(body);
	assert_non_null(strstr(dec, "> </p><script>alert(1)</script> & more"));
	assert_non_null(strstr(dec, "&lt;/p&gt;&lt;script&gt;alert(1)"
	    "&lt;/script&gt; &amp; more"));
	assert_int_equal(strstr(strstr(dec, "text/html"), "<script>") == NULL,
	    1);
	snprintf(want, sizeof(want), "https://heard.x.nhs.uk/#/threads/%lld",
	    thread);
	assert_non_null(strstr(dec, want));
	assert_non_null(strstr(dec, "Rating: 2 out of 5"));
	free(dec);
	free(body);

	/* The reviewer reads but may not answer: no Reply-To at all. */
	id = qn(f->s, "SELECT id FROM mails WHERE user_id = %lld",
	    (long long)f->user[W_REVIEWER]);
	body = mail_body(f, id);
	assert_null(header(body, "Reply-To"));
	assert_non_null(strstr(body, "X-Heard-Loop: yes"));
	free(body);
}

/* Each mail of a thread to one user answers the one before it. */
static void
test_threading_chain(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[3];
	char ext[3][8], *ids[3], *body, *v, want[512];
	long long id;
	int i;

	for (i = 0; i < 3; i++) {
		snprintf(ext[i], sizeof(ext[i]), "s%d", i);
		it[i] = ITEM(.external_id = ext[i], .thread_key = "t1",
		    .body = "more", .created_at = NOW + i);
		put(f, &it[i], 1, NOW + i);
		compose(f, NOW + i);
		id = qn(f->s, "SELECT max(id) FROM mails WHERE user_id = %lld",
		    (long long)f->user[W_MSG]);
		ids[i] = qs(f->s, "SELECT message_id FROM mails WHERE id = %lld",
		    id);
	}
	body = mail_body(f, id);
	v = header(body, "In-Reply-To");
	snprintf(want, sizeof(want), "<%s>", ids[1]);
	assert_string_equal(v, want);
	free(v);
	v = header(body, "References");
	snprintf(want, sizeof(want), "<%s> <%s>", ids[0], ids[1]);
	assert_string_equal(v, want);
	free(v);
	free(body);
	/* Another user's chain is their own. */
	id = qn(f->s, "SELECT id FROM mails WHERE user_id = %lld",
	    (long long)f->user[W_CONV]);
	body = mail_body(f, id);
	assert_null(header(body, "References"));
	free(body);
	for (i = 0; i < 3; i++)
		free(ids[i]);
}

/* Past per_hour in the hour, the rest go in the day's digest. */
static void
test_cap_then_digest(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[5];
	char ext[5][8], *body, *dec;
	int64_t morning = NOW - 5 * HOUR;	/* 07:00, before the digest */
	long long id;
	int i;

	f->o.per_hour = 2;
	for (i = 0; i < 5; i++) {
		snprintf(ext[i], sizeof(ext[i]), "c%d", i);
		it[i] = ITEM(.external_id = ext[i], .thread_key = ext[i],
		    .body = "Story", .author_name = "Pat", .created_at = morning);
	}
	put(f, it, 5, morning);
	compose(f, morning);
	assert_int_equal(mails_to(f, W_CONV, "notification"), 2);
	assert_int_equal(rows(f, W_CONV, "digest"), 3);
	assert_int_equal(mails_to(f, W_CONV, "digest"), 0);

	/* 08:00: the digest goes, once, with the three and the other's 5. */
	compose(f, NOW - 4 * HOUR);
	assert_int_equal(mails_to(f, W_CONV, "digest"), 1);
	assert_int_equal(rows(f, W_CONV, "digest"), 0);
	assert_int_equal(rows(f, W_CONV, "mailed"), 5);
	assert_int_equal(mails_to(f, W_DIGEST, "digest"), 1);
	id = qn(f->s, "SELECT id FROM mails WHERE user_id = %lld AND kind = "
	    "'digest'", (long long)f->user[W_CONV]);
	body = mail_body(f, id);
	dec = unqp(body);
	assert_non_null(strstr(dec, "Subject: [heard] Digest: 3 messages"));
	assert_non_null(strstr(dec, "Pat wrote"));
	free(dec);
	free(body);
	compose(f, NOW - 3 * HOUR);
	assert_int_equal(mails_to(f, W_CONV, "digest"), 1);

	/* An hour on, the cap has room again. */
	snprintf(ext[0], sizeof(ext[0]), "later");
	it[0] = ITEM(.external_id = ext[0], .thread_key = ext[0],
	    .body = "Later", .created_at = NOW);
	put(f, it, 1, NOW);
	compose(f, NOW);
	assert_int_equal(mails_to(f, W_CONV, "notification"), 3);
}

/* A first poll's history becomes one summary, once the poll has ended. */
static void
test_backfill_summary(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[30];
	struct source fresh;
	char ext[30][8], err[256], *subject;
	int64_t id;
	int i;

	id = sources_add(f->s, "RJ1", "care-opinion", "{\"a\":\"b\"}", NOW,
	    err, sizeof(err));
	assert_true(id > 0);
	assert_int_equal(sources_get(f->s, id, &fresh), 1);
	for (i = 0; i < 30; i++) {
		snprintf(ext[i], sizeof(ext[i]), "old%d", i);
		it[i] = ITEM(.external_id = ext[i], .thread_key = ext[i],
		    .body = "Old story", .created_at = NOW - 86400 * i);
	}
	source_free(&f->src);
	f->src = fresh;
	put(f, it, 20, NOW);		/* two pages */
	put(f, it + 20, 10, NOW);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox "
	    "WHERE kind <> 'backfill'"), 0);
	/* A webhook's delivery meanwhile is news, not history. */
	{
		struct conn_item live = ITEM(.external_id = "live",
		    .thread_key = "live", .body = "Happening now",
		    .created_at = NOW);
		struct conn_batch b = { .items = &live, .nitems = 1 };
		struct ingest_stats st;

		assert_int_equal(ingest_pushed(f->s, &f->src, &b, NOW, &st,
		    err, sizeof(err)), 0);
		assert_true(qn(f->s, "SELECT count(*) FROM "
		    "notification_outbox WHERE kind <> 'backfill'") > 0);
		assert_int_equal(qn(f->s, "SELECT max(items) FROM "
		    "notification_outbox WHERE kind = 'backfill'"), 30);
		sqlite3_exec(store_db(f->s), "DELETE FROM notification_outbox "
		    "WHERE kind <> 'backfill'", NULL, NULL, NULL);
	}
	/* conversation, message, digest and reviewer: one row each. */
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox"),
	    4);
	assert_int_equal(qn(f->s, "SELECT min(items) FROM notification_outbox"),
	    30);
	assert_int_equal(compose(f, NOW), 0);	/* not done yet */

	assert_int_equal(ingest_backfill_done(f->s, id, NOW + 1), 0);
	assert_int_equal(compose(f, NOW + 2), 4);
	assert_int_equal(mails_to(f, W_CONV, "backfill"), 1);
	subject = qs(f->s, "SELECT subject FROM mails WHERE user_id = %lld",
	    (long long)f->user[W_CONV]);
	assert_string_equal(subject, "[heard] RJ1 Care Opinion: 30 earlier "
	    "stories were imported; nothing was mailed for each");
	free(subject);
	assert_int_equal(compose(f, NOW + 3), 0);

	/* From now on what comes is news. */
	snprintf(ext[0], sizeof(ext[0]), "new");
	it[0] = ITEM(.external_id = ext[0], .thread_key = ext[0],
	    .body = "New", .created_at = NOW + 5);
	put(f, it, 1, NOW + 5);
	assert_int_equal(rows(f, W_CONV, "pending"), 1);
}

/* Moderated before it was mailed: dropped, not mailed. */
static void
test_hidden_dropped(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[] = { ITEM(.external_id = "s1", .thread_key = "t1",
	    .body = "Abuse", .created_at = NOW) };
	struct conn_item held[] = { ITEM(.external_id = "s2",
	    .thread_key = "t2", .body = "Held", .thread_status = "hidden",
	    .created_at = NOW) };

	put(f, it, 1, NOW);
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE threads SET "
	    "status = 'hidden'", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(compose(f, NOW), 0);
	assert_int_equal(rows(f, W_CONV, "dropped"), 1);
	/* A channel that hides it at once: no row at all. */
	put(f, held, 1, NOW);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM notification_outbox "
	    "WHERE thread_id = (SELECT id FROM threads WHERE thread_key = "
	    "'t2')"), 0);
}

static void
reply_row(struct fixture *f, long long thread, enum who w,
    const char *status, const char *error)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO reply_outbox (thread_id, "
	    "user_id, body, via, status, idempotency_key, error, created_at, "
	    "updated_at) VALUES (%lld, %lld, 'We are sorry <b>', 'email', "
	    "'%s', hex(randomblob(16)), %s, %lld, %lld)", thread,
	    (long long)f->user[w], status, error, (long long)NOW,
	    (long long)NOW);
	assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* The author of an emailed reply hears how it went, once. */
static void
test_confirmations(void **state)
{
	struct fixture *f = *state;
	struct conn_item it[] = { ITEM(.external_id = "s1", .thread_key = "t1",
	    .body = "Hello", .created_at = NOW) };
	long long thread, id;
	char *body, *dec, *v;

	put(f, it, 1, NOW);
	compose(f, NOW);
	thread = qn(f->s, "SELECT id FROM threads");
	reply_row(f, thread, W_CONV, "queued", "NULL");
	reply_row(f, thread, W_MSG, "failed", "'refused: request closed'");
	assert_int_equal(compose(f, NOW + 10), 1);
	assert_int_equal(mails_to(f, W_MSG, "confirmation"), 1);
	id = qn(f->s, "SELECT id FROM mails WHERE kind = 'confirmation'");
	body = mail_body(f, id);
	dec = unqp(body);
	assert_non_null(strstr(dec, "could not be posted on Care Opinion: "
	    "refused: request closed"));
	assert_non_null(strstr(dec, "We are sorry &lt;b&gt;"));
	/* It answers the notification that user had of the thread. */
	v = header(body, "In-Reply-To");
	assert_non_null(v);
	assert_non_null(strstr(v, "heard.t"));
	free(v);
	free(dec);
	free(body);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM reply_outbox WHERE "
	    "confirmed_at IS NOT NULL"), 1);

	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE reply_outbox SET"
	    " status = 'posted' WHERE status = 'queued'", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(compose(f, NOW + 20), 1);
	assert_int_equal(mails_to(f, W_CONV, "confirmation"), 1);
	assert_int_equal(compose(f, NOW + 30), 0);
}

/* One refusal an hour to one address, whatever its case. */
static void
test_refusal_limit(void **state)
{
	struct fixture *f = *state;
	int64_t a, b, c;
	char *body;

	a = notify_mail_refusal(f->s, &f->o, "Stranger@Example.com",
	    "you are not a member of heard", "Re: [H-ABC123] New",
	    "CAF=x@mail.example.com", NOW);
	assert_true(a > 0);
	b = notify_mail_refusal(f->s, &f->o, "stranger@example.com", "again",
	    NULL, NULL, NOW + 60);
	assert_int_equal(b, 0);
	c = notify_mail_refusal(f->s, &f->o, "stranger@example.com", "again",
	    NULL, NULL, NOW + HOUR + 1);
	assert_true(c > a);
	body = mail_body(f, a);
	assert_non_null(strstr(body, "In-Reply-To: <CAF=x@mail.example.com>"));
	assert_non_null(strstr(body, "Auto-Submitted: auto-generated"));
	free(body);
	/* An id of a shape heard will not repeat is left out, not fatal. */
	c = notify_mail_refusal(f->s, &f->o, "other@example.com", "no",
	    "hi", "bad id\r\nBcc: x@y", NOW);
	assert_true(c > 0);
	body = mail_body(f, c);
	assert_null(strstr(body, "Bcc"));
	assert_null(strstr(body, "In-Reply-To"));
	free(body);
}

static void
test_admins_and_invitation(void **state)
{
	struct fixture *f = *state;
	int64_t id;
	char *body, *dec;

	assert_int_equal(notify_mail_admins(f->s, &f->o, "[heard] source 1 "
	    "is paused", "auth: 401", NOW), 1);
	assert_int_equal(mails_to(f, W_ADMIN, "alert"), 1);
	id = notify_mail_invitation(f->s, &f->o, f->user[W_CONV], "Ann Admin",
	    "RJ1", "https://heard.x.nhs.uk/#/invite/abc", NOW);
	assert_true(id > 0);
	body = mail_body(f, id);
	dec = unqp(body);
	assert_non_null(strstr(dec, "Ann Admin invites you"));
	assert_non_null(strstr(dec, "https://heard.x.nhs.uk/#/invite/abc"));
	free(dec);
	free(body);
	/* A disabled account is not invited. */
	assert_int_equal(notify_mail_invitation(f->s, &f->o, f->user[W_OFF],
	    NULL, "RJ1", "https://x/", NOW), -1);
}

/* The mailer's queue: due order, skip, and each outcome counted. */
static void
test_mail_queue(void **state)
{
	struct fixture *f = *state;
	struct mails_out out[4];
	int64_t a, b, skip[1];
	int n, i;

	a = notify_mail_refusal(f->s, &f->o, "a@example.com", "no", NULL,
	    NULL, NOW);
	b = notify_mail_refusal(f->s, &f->o, "b@example.com", "no", NULL,
	    NULL, NOW);
	skip[0] = a;
	n = mails_due(f->s, NOW, skip, 1, out, 4);
	assert_int_equal(n, 1);
	assert_int_equal(out[0].id, b);
	assert_int_equal(out[0].len, strlen(out[0].body));
	mails_out_free(&out[0]);
	assert_int_equal(mails_retry(f->s, a, "421 busy", NOW + 30), 0);
	assert_int_equal(mails_sent(f->s, b, NOW), 0);
	assert_int_equal(mails_due(f->s, NOW + 29, NULL, 0, out, 4), 0);
	n = mails_due(f->s, NOW + 30, NULL, 0, out, 4);
	assert_int_equal(n, 1);
	for (i = 0; i < n; i++)
		mails_out_free(&out[i]);
	assert_int_equal(mails_failed(f->s, a, "550 no such user"), 0);
	assert_int_equal(mails_queued(f->s), 0);
	assert_int_equal(qn(f->s, "SELECT attempts FROM mails WHERE id = "
	    "%lld", (long long)a), 2);
	/* A late answer cannot turn a settled mail back. */
	assert_int_equal(mails_sent(f->s, a, NOW), 0);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM mails WHERE status = "
	    "'failed'"), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_preferences, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mail_content, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threading_chain, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cap_then_digest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_backfill_summary, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_hidden_dropped, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_confirmations, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refusal_limit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_admins_and_invitation,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mail_queue, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
