/* test_replies: the reply outbox's states, tasks and their close rule. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "connector.h"
#include "ingest.h"
#include "migrations.h"
#include "orgs.h"
#include "replies.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"
#include "tasks.h"
#include "thread_list.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */

#define ITEM(...)	((struct conn_item){ .rating = ITEM_NO_RATING, \
			    __VA_ARGS__ })

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	struct source	 src;		/* RJ1, connector "fakeapi" */
	int64_t		 thread;	/* key "c1": q1 in, o1 out, q2 in */
};

static void
feed_at(struct fixture *f, struct conn_item *items, size_t n, int64_t now)
{
	struct conn_batch b = { .items = items, .nitems = n };
	struct ingest_stats st;
	char err[256];

	if (ingest_batch(f->s, &f->src, &b, now, &st, err, sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
}

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

/* The first column of the first row as text, in buf ("" if NULL). */
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

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct conn_item items[] = {
		ITEM(.external_id = "q1", .thread_key = "c1",
		    .body = "The ward was cold", .created_at = NOW - 3600),
		ITEM(.external_id = "o1", .thread_key = "c1", .dir = ITEM_OUT,
		    .body = "We are sorry", .created_at = NOW - 1800),
		ITEM(.external_id = "q2", .thread_key = "c1",
		    .body = "Still cold", .created_at = NOW - 600),
	};
	char err[256];
	int64_t id;

	assert_non_null(f);
	f->s = testdb_open("replies", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "Guy's and St Thomas'",
	    "trust") > 0);
	id = sources_add(f->s, "RJ1", "fakeapi", "{\"url\": \"x\"}", NOW, err,
	    sizeof(err));
	assert_true(id > 0);
	assert_int_equal(sources_get(f->s, id, &f->src), 1);
	feed_at(f, items, 3, NOW);
	f->thread = one(f->s,
	    "SELECT id FROM threads WHERE thread_key = 'c1'");
	assert_true(f->thread > 0);
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

/* Queues body on the fixture's thread as the operator; the id. */
static int64_t
queue(struct fixture *f, const char *body, int64_t now)
{
	struct reply_thread t;
	struct reply_new r = { .thread = &t, .body = body, .via = "cli" };
	char ref[32], err[256];
	int64_t id;

	snprintf(ref, sizeof(ref), "%lld", (long long)f->thread);
	assert_int_equal(replies_thread(f->s, ref, &t), 1);
	id = replies_queue(f->s, &r, now, err, sizeof(err));
	if (id == -1)
		fail_msg("replies_queue: %s", err);
	reply_thread_free(&t);
	return id;
}

static const char *
state_of(struct fixture *f, int64_t id, char *buf, size_t len)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT status FROM reply_outbox"
	    " WHERE id = %lld", (long long)id);
	return text(f->s, sql, buf, len);
}

static size_t
due(struct fixture *f, int64_t now, int64_t *ids)
{
	size_t n;

	assert_int_equal(replies_list(f->s, REPLY_QUEUED, now, ids, 8, &n), 0);
	return n;
}

static void
test_body_checks(void **state)
{
	static char big[REPLY_BODY_MAX + 2];
	static const struct {
		const char *body;
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ "Thank you.", NULL },
		{ "Dear Ann,\n\n\tThank you.\r\n", NULL },
		{ "Caf\xc3\xa9 \xe2\x80\x94 merci", NULL },
		{ "", "the reply is empty" },
		{ " \n\t\r\n", "the reply is empty" },
		{ "bad \xff byte", "the reply is not UTF-8 text" },
		{ "over\xc0\xaflong", "the reply is not UTF-8 text" },
		{ "bell\a",
		    "the reply holds a control character (byte 0x07)" },
		{ "del\x7f",
		    "the reply holds a control character (byte 0x7f)" },
	};
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (cases[i].err == NULL) {
			if (replies_check_body(cases[i].body, err,
			    sizeof(err)) != 0)
				fail_msg("case %zu refused: %s", i, err);
			continue;
		}
		assert_int_equal(replies_check_body(cases[i].body, err,
		    sizeof(err)), -1);
		assert_string_equal(err, cases[i].err);
	}
	memset(big, 'x', REPLY_BODY_MAX);
	assert_int_equal(replies_check_body(big, err, sizeof(err)), 0);
	big[REPLY_BODY_MAX] = 'x';
	assert_int_equal(replies_check_body(big, err, sizeof(err)), -1);
	assert_string_equal(err, "the reply is 10001 bytes long; at most "
	    "10000 are sent");
	assert_int_equal(replies_check_body(NULL, err, sizeof(err)), -1);
}

/* Queued: trimmed, a UUID key, answering q2, audited, then due. */
static void
test_queue(void **state)
{
	struct fixture *f = *state;
	struct reply_row row;
	int64_t id, ids[8];
	char buf[256];
	size_t i;

	id = queue(f, "\n  Please call us on 020 7188 7188.  \n\n", NOW);
	assert_int_equal(replies_get(f->s, id, &row), 1);
	assert_int_equal(row.state, REPLY_QUEUED);
	assert_string_equal(row.body, "Please call us on 020 7188 7188.");
	assert_string_equal(row.in_reply_to, "q2");
	assert_int_equal(row.attempts, 0);
	assert_int_equal(row.created_at, NOW);
	assert_null(row.author);
	assert_int_equal(strlen(row.idempotency_key), 36);
	for (i = 0; i < 36; i++)
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(row.idempotency_key[i], '-');
		else
			assert_non_null(strchr("0123456789abcdef",
			    row.idempotency_key[i]));
	assert_int_equal(row.idempotency_key[14], '4');
	assert_string_equal(row.thread.org_code, "RJ1");
	assert_string_equal(row.thread.connector, "fakeapi");
	assert_string_equal(row.thread.thread_key, "c1");
	assert_int_equal(row.thread.source_id, f->src.id);
	assert_string_equal(row.thread.settings, "{\"url\": \"x\"}");
	reply_row_free(&row);
	/* A second reply has a key of its own. */
	assert_int_equal(one(f->s, "SELECT count(DISTINCT idempotency_key)"
	    " FROM reply_outbox"), 1);
	queue(f, "Another", NOW);
	assert_int_equal(one(f->s, "SELECT count(DISTINCT idempotency_key)"
	    " FROM reply_outbox"), 2);
	assert_string_equal(text(f->s, "SELECT action || ' ' || object || ' '"
	    " || json_extract(detail, '$.status') || ' ' ||"
	    " json_extract(detail, '$.via') FROM audit_log"
	    " ORDER BY id LIMIT 1",
	    buf, sizeof(buf)), "reply.queue thread:1 queued cli");
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE"
	    " user_id IS NULL"), 2);
	/* Due from its creation; only the thread's oldest at a time. */
	assert_int_equal(due(f, NOW - 1, ids), 0);
	assert_int_equal(due(f, NOW, ids), 1);
	assert_int_equal(ids[0], id);
}

/* queued -> posting -> queued (later) -> posting -> posted, once each. */
static void
test_state_machine(void **state)
{
	struct fixture *f = *state;
	struct reply_row row;
	int64_t id = queue(f, "We will call you today.", NOW), ids[8];
	char buf[64];
	size_t n;

	assert_int_equal(replies_begin(f->s, id, NOW + 1), 0);
	assert_string_equal(state_of(f, id, buf, sizeof(buf)), "posting");
	/* Never begun twice, and not due while posting. */
	assert_int_equal(replies_begin(f->s, id, NOW + 1), -1);
	assert_int_equal(due(f, NOW + 100, ids), 0);
	assert_int_equal(replies_list(f->s, REPLY_POSTING, 0, ids, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(ids[0], id);
	assert_int_equal(replies_requeue(f->s, id, "transient: HTTP 503",
	    NOW + 60, NOW + 2), 0);
	assert_int_equal(replies_requeue(f->s, id, "x", NOW, NOW), -1);
	assert_string_equal(state_of(f, id, buf, sizeof(buf)), "queued");
	assert_int_equal(due(f, NOW + 59, ids), 0);
	assert_int_equal(due(f, NOW + 60, ids), 1);
	assert_int_equal(replies_begin(f->s, id, NOW + 60), 0);
	assert_int_equal(replies_get(f->s, id, &row), 1);
	assert_int_equal(row.attempts, 2);
	assert_int_equal(replies_posted(f->s, &row, "api-77", f->src.id,
	    NOW + 61), 0);
	/* Posted is final: no second post, no failure after it. */
	assert_int_equal(replies_posted(f->s, &row, "api-78", f->src.id,
	    NOW + 62), -1);
	assert_int_equal(replies_end(f->s, id, REPLY_FAILED, "late",
	    NOW + 62), -1);
	reply_row_free(&row);
	assert_string_equal(state_of(f, id, buf, sizeof(buf)), "posted");
	assert_int_equal(one(f->s, "SELECT count(*) FROM messages"
	    " WHERE external_id = 'api-78'"), 0);
	assert_string_equal(text(f->s, "SELECT external_id || ' ' ||"
	    " posted_at || ' ' || (error IS NULL) FROM reply_outbox",
	    buf, sizeof(buf)), "api-77 1777636861 1");
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE"
	    " action = 'reply.posted' AND json_extract(detail,"
	    " '$.external_id') = 'api-77'"), 1);
}

/* The posted reply is the thread's outbound message, keyed as polled. */
static void
test_posted_message(void **state)
{
	struct fixture *f = *state;
	struct conn_item seen[] = {
		ITEM(.external_id = "api-77", .thread_key = "c1",
		    .dir = ITEM_OUT, .parent_id = "q2",
		    .author_name = "Patient Experience Team",
		    .body = "We will call you today.",
		    .url = "https://channel/r/77", .created_at = NOW + 30),
	};
	struct reply_row row;
	int64_t id = queue(f, "We will call you today.", NOW);
	char buf[256];

	assert_int_equal(replies_begin(f->s, id, NOW), 0);
	assert_int_equal(replies_get(f->s, id, &row), 1);
	assert_int_equal(replies_posted(f->s, &row, "api-77", f->src.id,
	    NOW + 5), 0);
	reply_row_free(&row);
	assert_string_equal(text(f->s, "SELECT direction || ' ' ||"
	    " parent_external_id || ' ' || author_name || ' ' || body"
	    " FROM messages WHERE external_id = 'api-77'", buf, sizeof(buf)),
	    "out q2 Guy's and St Thomas' We will call you today.");
	assert_int_equal(one(f->s, "SELECT message_count FROM threads"), 4);
	assert_int_equal(one(f->s, "SELECT first_response_at FROM threads"),
	    NOW - 1800);
	assert_int_equal(one(f->s, "SELECT last_at FROM threads"), NOW + 5);
	assert_int_equal(one(f->s, "SELECT r.message_id = m.id FROM"
	    " reply_outbox r, messages m WHERE m.external_id = 'api-77'"), 1);
	/* A poll meets it on the channel: the same row, filled in. */
	feed_at(f, seen, 1, NOW + 100);
	assert_int_equal(one(f->s, "SELECT count(*) FROM messages"), 4);
	assert_int_equal(one(f->s, "SELECT message_count FROM threads"), 4);
	assert_string_equal(text(f->s, "SELECT url || ' ' || author_name FROM"
	    " messages WHERE external_id = 'api-77'", buf, sizeof(buf)),
	    "https://channel/r/77 Patient Experience Team");
	/* And again: unchanged now. */
	feed_at(f, seen, 1, NOW + 200);
	assert_int_equal(one(f->s, "SELECT updated_at FROM messages WHERE"
	    " external_id = 'api-77'"), NOW + 100);
}

/* A poll that saw the reply before the post was recorded: no twin. */
static void
test_posted_after_poll_saw_it(void **state)
{
	struct fixture *f = *state;
	struct conn_item seen[] = {
		ITEM(.external_id = "api-9", .thread_key = "c1",
		    .dir = ITEM_OUT, .body = "Hello", .created_at = NOW + 1),
	};
	struct reply_row row;
	int64_t id = queue(f, "Hello", NOW);

	assert_int_equal(replies_begin(f->s, id, NOW), 0);
	feed_at(f, seen, 1, NOW + 2);
	assert_int_equal(replies_get(f->s, id, &row), 1);
	assert_int_equal(replies_posted(f->s, &row, "api-9", f->src.id,
	    NOW + 3), 0);
	reply_row_free(&row);
	assert_int_equal(one(f->s, "SELECT count(*) FROM messages WHERE"
	    " external_id = 'api-9'"), 1);
	assert_int_equal(one(f->s, "SELECT message_count FROM threads"), 4);
	assert_int_equal(one(f->s, "SELECT r.message_id = m.id FROM"
	    " reply_outbox r, messages m WHERE m.external_id = 'api-9'"), 1);
}

/* A channel that names no id: posted, no message (a poll brings it). */
static void
test_posted_without_id(void **state)
{
	struct fixture *f = *state;
	struct reply_row row;
	int64_t id = queue(f, "Hello", NOW);
	char buf[64];

	assert_int_equal(replies_begin(f->s, id, NOW), 0);
	assert_int_equal(replies_get(f->s, id, &row), 1);
	assert_int_equal(replies_posted(f->s, &row, NULL, f->src.id, NOW), 0);
	reply_row_free(&row);
	assert_string_equal(state_of(f, id, buf, sizeof(buf)), "posted");
	assert_int_equal(one(f->s, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(one(f->s, "SELECT message_id IS NULL FROM"
	    " reply_outbox"), 1);
}

/* failed and unknown keep the reason; retry and cancel, audited. */
static void
test_fail_retry_cancel(void **state)
{
	struct fixture *f = *state;
	int64_t a = queue(f, "One", NOW), ids[8];
	char buf[256], err[128];
	json_t *all, *r;

	assert_int_equal(replies_begin(f->s, a, NOW), 0);
	assert_int_equal(replies_end(f->s, a, REPLY_POSTED, "x", NOW), -1);
	assert_int_equal(replies_end(f->s, a, REPLY_FAILED,
	    "refused: HTTP 400: closed to updates", NOW + 1), 0);
	assert_int_equal(replies_end(f->s, a, REPLY_UNKNOWN, "x", NOW), -1);
	all = replies_json(f->s, f->thread);
	r = json_array_get(all, 0);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
	    "failed");
	assert_string_equal(json_string_value(json_object_get(r, "error")),
	    "refused: HTTP 400: closed to updates");
	json_decref(all);
	assert_int_equal(replies_cancel(f->s, a, 0, NOW, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "reply 1 is failed");
	assert_int_equal(replies_retry(f->s, a, 0, NOW + 10, err,
	    sizeof(err)), 0);
	assert_string_equal(state_of(f, a, buf, sizeof(buf)), "queued");
	assert_int_equal(one(f->s, "SELECT attempts FROM reply_outbox"), 0);
	assert_int_equal(due(f, NOW + 10, ids), 1);
	assert_int_equal(replies_cancel(f->s, a, 0, NOW + 11, err,
	    sizeof(err)), 0);
	assert_string_equal(state_of(f, a, buf, sizeof(buf)), "cancelled");
	assert_int_equal(due(f, NOW + 100, ids), 0);
	assert_int_equal(replies_retry(f->s, a, 0, NOW, err, sizeof(err)), -1);
	assert_string_equal(err, "reply 1 is cancelled");
	assert_int_equal(replies_retry(f->s, 99, 0, NOW, err, sizeof(err)),
	    -1);
	assert_string_equal(err, "no reply 99");
	assert_string_equal(text(f->s, "SELECT group_concat(action, ',')"
	    " FROM (SELECT action FROM audit_log ORDER BY id)", buf,
	    sizeof(buf)), "reply.queue,reply.failed,reply.retry,reply.cancel");
	/* A stop mid-post, settled as unknown, may be retried by staff. */
	a = queue(f, "Two", NOW);
	assert_int_equal(replies_begin(f->s, a, NOW), 0);
	assert_int_equal(replies_end(f->s, a, REPLY_UNKNOWN, "stopped", NOW),
	    0);
	assert_string_equal(state_of(f, a, buf, sizeof(buf)), "unknown");
	assert_int_equal(replies_retry(f->s, a, 0, NOW, err, sizeof(err)), 0);
}

/* A thread's replies go out in the order written; threads in parallel. */
static void
test_order_per_thread(void **state)
{
	struct fixture *f = *state;
	struct conn_item other[] = { ITEM(.external_id = "z1",
	    .thread_key = "c2", .body = "Other", .created_at = NOW) };
	struct reply_thread t;
	struct reply_new r = { .thread = &t, .body = "For c2", .via = "web" };
	int64_t a, b, c, ids[8];
	struct reply_row row;
	char err[128];

	a = queue(f, "First", NOW);
	b = queue(f, "Second", NOW);
	feed_at(f, other, 1, NOW);
	assert_int_equal(replies_thread(f->s, "2", &t), 1);
	c = replies_queue(f->s, &r, NOW, err, sizeof(err));
	reply_thread_free(&t);
	assert_int_equal(due(f, NOW, ids), 2);
	assert_int_equal(ids[0], a);
	assert_int_equal(ids[1], c);
	assert_int_equal(replies_begin(f->s, a, NOW), 0);
	assert_int_equal(due(f, NOW, ids), 1);
	assert_int_equal(ids[0], c);
	/* A retry pending on the first still holds the second back. */
	assert_int_equal(replies_requeue(f->s, a, "transient", NOW + 50, NOW),
	    0);
	assert_int_equal(due(f, NOW + 10, ids), 1);
	assert_int_equal(ids[0], c);
	assert_int_equal(replies_begin(f->s, a, NOW + 50), 0);
	assert_int_equal(replies_get(f->s, a, &row), 1);
	assert_int_equal(replies_posted(f->s, &row, "p-a", 0, NOW + 51), 0);
	reply_row_free(&row);
	assert_int_equal(due(f, NOW + 51, ids), 2);
	assert_int_equal(ids[0], b);
}

/* A handoff reply is a task with the text and link, and no post. */
static void
test_handoff(void **state)
{
	struct fixture *f = *state;
	struct reply_thread t;
	struct reply_new r = { .thread = &t, .body = "  Thank you, Ann.\n",
	    .via = "cli" };
	int64_t id, task = 0, ids[8];
	char err[128], buf[256];
	json_t *j, *k;

	assert_int_equal(replies_thread(f->s, "1", &t), 1);
	id = replies_handoff(f->s, &r, "https://provider/respond/c1", NOW,
	    &task, err, sizeof(err));
	reply_thread_free(&t);
	assert_true(id > 0);
	assert_true(task > 0);
	assert_string_equal(state_of(f, id, buf, sizeof(buf)), "handoff");
	assert_int_equal(due(f, NOW + 1000, ids), 0);
	j = tasks_json(f->s, f->thread);
	assert_int_equal(json_array_size(j), 1);
	k = json_array_get(j, 0);
	assert_int_equal(json_integer_value(json_object_get(k, "id")), task);
	assert_string_equal(json_string_value(json_object_get(k, "text")),
	    "Thank you, Ann.");
	assert_string_equal(json_string_value(json_object_get(k, "url")),
	    "https://provider/respond/c1");
	assert_string_equal(json_string_value(json_object_get(k,
	    "created_at")), "2026-05-01T12:00:00Z");
	assert_true(json_is_null(json_object_get(k, "closed_at")));
	assert_int_equal(json_integer_value(json_object_get(k, "reply")), id);
	json_decref(j);
	assert_string_equal(text(f->s, "SELECT action FROM audit_log", buf,
	    sizeof(buf)), "reply.handoff");
	r.body = " \n";
	assert_int_equal(replies_handoff(f->s, &r, NULL, NOW, &task, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "the reply is empty");
}

static int64_t
handoff(struct fixture *f, int64_t now)
{
	struct reply_thread t;
	struct reply_new r = { .thread = &t, .body = "Sorry", .via = "cli" };
	int64_t task = 0;
	char err[128];

	assert_int_equal(replies_thread(f->s, "1", &t), 1);
	assert_true(replies_handoff(f->s, &r, NULL, now, &task, err,
	    sizeof(err)) > 0);
	reply_thread_free(&t);
	return task;
}

static int64_t
closed_at(struct fixture *f, int64_t task)
{
	char sql[128];

	snprintf(sql, sizeof(sql), "SELECT coalesce(closed_at, 0) FROM tasks"
	    " WHERE id = %lld", (long long)task);
	return one(f->s, sql);
}

/*
 * The close rule: the organisation's reply newly seen on the channel,
 * dated after the task (a day's slack for day-only dates), closes the
 * oldest open task, noting the message; nothing else does.
 */
static void
test_task_close_rule(void **state)
{
	struct fixture *f = *state;
	struct conn_item patient[] = { ITEM(.external_id = "q3",
	    .thread_key = "c1", .body = "Any news?", .created_at = NOW + 60) };
	struct conn_item old[] = { ITEM(.external_id = "o0",
	    .thread_key = "c1", .dir = ITEM_OUT, .body = "Old answer",
	    .created_at = NOW - TASKS_DATE_SLACK - 1) };
	struct conn_item edited[] = { ITEM(.external_id = "o1",
	    .thread_key = "c1", .dir = ITEM_OUT, .body = "We are so sorry",
	    .created_at = NOW - 1800) };
	struct conn_item day_only[] = { ITEM(.external_id = "o2",
	    .thread_key = "c1", .dir = ITEM_OUT, .body = "Sorry",
	    .created_at = NOW - 12 * 3600) };
	struct conn_item later[] = { ITEM(.external_id = "o3",
	    .thread_key = "c1", .dir = ITEM_OUT, .body = "Sorry again",
	    .created_at = NOW + 7200) };
	int64_t t1 = handoff(f, NOW), t2 = handoff(f, NOW + 10);

	feed_at(f, patient, 1, NOW + 100);	/* from the public */
	feed_at(f, old, 1, NOW + 100);		/* dated well before */
	feed_at(f, edited, 1, NOW + 100);	/* known, only edited */
	assert_int_equal(closed_at(f, t1), 0);
	assert_int_equal(closed_at(f, t2), 0);
	feed_at(f, day_only, 1, NOW + 200);
	assert_int_equal(closed_at(f, t1), NOW + 200);
	assert_int_equal(closed_at(f, t2), 0);
	assert_int_equal(one(f->s, "SELECT m.external_id = 'o2' FROM tasks t"
	    " JOIN messages m ON m.id = t.closed_by_message_id"
	    " WHERE t.id = 1"),
	    1);
	feed_at(f, day_only, 1, NOW + 300);	/* seen again: nothing */
	assert_int_equal(closed_at(f, t2), 0);
	feed_at(f, later, 1, NOW + 400);
	assert_int_equal(closed_at(f, t1), NOW + 200);
	assert_int_equal(closed_at(f, t2), NOW + 400);
	assert_int_equal(one(f->s, "SELECT count(*) FROM tasks WHERE"
	    " closed_at IS NULL"), 0);
}

/* A task in a batch that fails is not closed: all or nothing. */
static void
test_task_close_rolls_back(void **state)
{
	struct fixture *f = *state;
	struct conn_item items[] = {
		ITEM(.external_id = "o5", .thread_key = "c1", .dir = ITEM_OUT,
		    .body = "Reply", .created_at = NOW + 5),
		{ .external_id = "bad", .thread_key = "c1", .rating = 9 },
	};
	struct conn_batch b = { .items = items, .nitems = 2 };
	struct ingest_stats st;
	int64_t task = handoff(f, NOW);
	char err[256];

	assert_int_equal(ingest_batch(f->s, &f->src, &b, NOW + 10, &st, err,
	    sizeof(err)), -1);
	assert_int_equal(closed_at(f, task), 0);
}

/* meta kept as an object; thread_status applied when the item moves. */
static void
test_ingest_meta_and_status(void **state)
{
	struct fixture *f = *state;
	struct conn_item items[] = {
		ITEM(.external_id = "m1", .thread_key = "c3", .body = "Story",
		    .meta = "{\"tags\": [\"food\"], \"criticality\": 2}",
		    .thread_status = "closed", .created_at = NOW),
		ITEM(.external_id = "m2", .thread_key = "c4", .body = "x",
		    .meta = "not json", .thread_status = "weird",
		    .created_at = NOW),
		ITEM(.external_id = "m3", .thread_key = "c5", .body = "y",
		    .meta = "[1, 2]", .created_at = NOW),
	};
	json_t *t, *it;
	char buf[128];

	feed_at(f, items, 3, NOW);
	t = threads_get(f->s, "2");
	it = json_array_get(json_object_get(t, "items"), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    it, "meta"), "criticality")), 2);
	assert_string_equal(json_string_value(json_object_get(t, "status")),
	    "closed");
	json_decref(t);
	assert_string_equal(text(f->s, "SELECT meta FROM messages WHERE"
	    " external_id = 'm1'", buf, sizeof(buf)),
	    "{\"tags\":[\"food\"],\"criticality\":2}");
	assert_int_equal(one(f->s, "SELECT count(*) FROM messages WHERE"
	    " meta IS NOT NULL"), 1);
	t = threads_get(f->s, "3");
	assert_null(json_object_get(json_array_get(json_object_get(t,
	    "items"), 0), "meta"));
	assert_string_equal(json_string_value(json_object_get(t, "status")),
	    "new");
	json_decref(t);
	/* Staff move it on; the same item again does not undo that. */
	exec(f->s, "UPDATE threads SET status = 'in_progress' WHERE id = 2");
	feed_at(f, items, 1, NOW + 10);
	assert_string_equal(text(f->s, "SELECT status FROM threads WHERE"
	    " id = 2", buf, sizeof(buf)), "in_progress");
	/* The channel's status changes: that is news, and applies. */
	items[0].thread_status = "resolved";
	feed_at(f, items, 1, NOW + 20);
	assert_string_equal(text(f->s, "SELECT status FROM threads WHERE"
	    " id = 2", buf, sizeof(buf)), "resolved");
	/* So does a change of meta alone (an edit, in place). */
	items[0].meta = "{\"change\": \"made\"}";
	feed_at(f, items, 1, NOW + 30);
	assert_string_equal(text(f->s, "SELECT json_extract(meta, '$.change')"
	    " FROM messages WHERE external_id = 'm1'", buf, sizeof(buf)),
	    "made");
}

/* --as: an admin anywhere, a lead of the organisation; no one else. */
static void
test_author(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *email;
		const char *err;	/* NULL: may reply */
		const char *name;
	} cases[] = {
		{ "admin@nhs.net", NULL, "Ada Admin" },
		{ "LEAD@nhs.net", NULL, NULL },
		{ "other@nhs.net", "other@nhs.net may not reply for RJ1 (not "
		    "one of their organisations)", NULL },
		{ "rev@nhs.net", "rev@nhs.net may not reply for RJ1 (a "
		    "read-only reviewer)", NULL },
		{ "gone@nhs.net", "gone@nhs.net: the account is disabled",
		    NULL },
		{ "who@nhs.net", "no staff account: who@nhs.net", NULL },
	};
	struct reply_author a;
	char err[160];
	size_t i;

	exec(f->s, "INSERT INTO users (email, name, role, created_at,"
	    " disabled) VALUES ('admin@nhs.net', 'Ada Admin', 'admin', 0, 0),"
	    " ('lead@nhs.net', '', 'lead', 0, 0),"
	    " ('other@nhs.net', 'O', 'lead', 0, 0),"
	    " ('rev@nhs.net', 'R', 'reviewer', 0, 0),"
	    " ('gone@nhs.net', 'G', 'admin', 0, 1);"
	    "INSERT INTO memberships (user_id, org_id) VALUES (2, 1), (4, 1)");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		if (cases[i].err != NULL) {
			assert_int_equal(replies_author(f->s, cases[i].email,
			    1, "RJ1", &a, err, sizeof(err)), -1);
			assert_string_equal(err, cases[i].err);
			continue;
		}
		if (replies_author(f->s, cases[i].email, 1, "RJ1", &a, err,
		    sizeof(err)) != 0)
			fail_msg("%s: %s", cases[i].email, err);
		assert_true(a.user_id > 0);
		if (cases[i].name == NULL)
			assert_null(a.name);
		else
			assert_string_equal(a.name, cases[i].name);
		free(a.name);
	}
}

/* The thread JSON carries replies and tasks; threads by reference. */
static void
test_thread_json(void **state)
{
	struct fixture *f = *state;
	char ref[16], buf[64];
	json_t *t, *r;
	int64_t id;

	id = queue(f, "Queued one", NOW);
	handoff(f, NOW);
	text(f->s, "SELECT reference FROM threads WHERE id = 1", ref,
	    sizeof(ref));
	t = threads_get(f->s, ref);
	assert_non_null(t);
	assert_int_equal(json_array_size(json_object_get(t, "tasks")), 1);
	assert_int_equal(json_array_size(json_object_get(t, "replies")), 2);
	r = json_array_get(json_object_get(t, "replies"), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "id")), id);
	assert_string_equal(json_string_value(json_object_get(r, "via")),
	    "cli");
	assert_string_equal(json_string_value(json_object_get(r,
	    "updated_at")), "2026-05-01T12:00:00Z");
	assert_true(json_is_null(json_object_get(r, "external_id")));
	assert_true(json_is_null(json_object_get(r, "error")));
	assert_int_equal(json_integer_value(json_object_get(r, "attempts")),
	    0);
	r = json_array_get(json_object_get(t, "replies"), 1);
	assert_string_equal(json_string_value(json_object_get(r, "status")),
	    "handoff");
	json_decref(t);
	snprintf(buf, sizeof(buf), "%s", ref + 2);
	assert_int_equal(threads_id(f->s, buf), 1);
	assert_int_equal(threads_id(f->s, "H-ZZZZZZ"), 0);
}

/*
 * A version 1 database with replies and tasks in it: migration 2
 * rebuilds the outbox without losing a row or a task's link to it.
 */
static void
test_migration_from_v1(void **state)
{
	struct fixture *f = *state;
	char path[128], err[256], buf[160];
	struct store *s;
	sqlite3 *db;

	(void)f;
	snprintf(path, sizeof(path), "%s/v1.db", f->dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA foreign_keys = ON; BEGIN",
	    NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, migrations_sql(1), NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 1;"
	    "INSERT INTO organisations (code, name, type, updated_at)"
	    " VALUES ('RJ1', 'Trust', 'trust', 0);"
	    "INSERT INTO threads (org_id, connector, thread_key, reference,"
	    " first_at, last_at, created_at, updated_at)"
	    " VALUES (1, 'x', 'k', 'H-000001', 0, 0, 0, 0);"
	    "INSERT INTO reply_outbox (thread_id, body, via, status,"
	    " idempotency_key, created_at, updated_at)"
	    " VALUES (1, 'Posted', 'web', 'posted', 'k1', 5, 6),"
	    " (1, 'By hand', 'cli', 'handoff', 'k2', 7, 8);"
	    "INSERT INTO tasks (thread_id, reply_id, text, created_at)"
	    " VALUES (1, 2, 'By hand', 7); COMMIT", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	if ((s = store_open(path, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	assert_int_equal(store_version(s), migrations_count());
	assert_string_equal(text(s, "SELECT group_concat(id || ':' || status"
	    " || ':' || idempotency_key, ',') FROM reply_outbox", buf,
	    sizeof(buf)), "1:posted:k1,2:handoff:k2");
	assert_int_equal(one(s, "SELECT reply_id FROM tasks"), 2);
	assert_int_equal(one(s,
	    "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	exec(s, "UPDATE reply_outbox SET status = 'unknown' WHERE id = 1");
	assert_int_equal(sqlite3_exec(store_db(s), "UPDATE reply_outbox SET"
	    " status = 'lost' WHERE id = 1", NULL, NULL, NULL),
	    SQLITE_CONSTRAINT_CHECK);
	assert_int_equal(one(s, "SELECT count(*) FROM sqlite_temp_master"), 0);
	store_close(s);
	unlink(path);
	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
}

/* The outbox's statements are planned on its indexes. */
static void
test_query_plans(void **state)
{
	static const struct {
		const char *sql_has;
		const char *plan_has;
	} want[] = {
		{ "WHERE r.status = 'queued' AND r.next_attempt_at",
		    "USING INDEX reply_outbox_due (status=? AND "
		    "next_attempt_at<?)" },
		{ "FROM tasks WHERE thread_id = ?1 AND closed_at IS NULL",
		    "USING INDEX tasks_thread (thread_id=? AND closed_at=?)" },
		{ "FROM reply_outbox WHERE thread_id = ?1",
		    "USING INDEX reply_outbox_thread (thread_id=?)" },
	};
	struct fixture *f = *state;
	sqlite3_stmt *st = NULL, *q;
	char sql[4096], plan[1024];
	const char *d;
	int64_t ids[8];
	size_t i, found = 0;

	queue(f, "One", NOW);
	handoff(f, NOW);
	due(f, NOW, ids);
	json_decref(threads_get(f->s, "1"));
	tasks_close_seen(f->s, f->thread, 1, NOW, NOW);
	while ((st = sqlite3_next_stmt(store_db(f->s), st)) != NULL) {
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (strstr(sqlite3_sql(st), want[i].sql_has) != NULL)
				break;
		if (i == sizeof(want) / sizeof(want[0]))
			continue;
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		    sqlite3_sql(st));
		assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1,
		    &q, NULL), SQLITE_OK);
		plan[0] = '\0';
		while (sqlite3_step(q) == SQLITE_ROW) {
			d = (const char *)sqlite3_column_text(q, 3);
			strncat(plan, d, sizeof(plan) - strlen(plan) - 4);
			strcat(plan, " / ");
		}
		sqlite3_finalize(q);
		if (strstr(plan, want[i].plan_has) == NULL)
			fail_msg("%s\n  planned as: %s", sqlite3_sql(st),
			    plan);
		found++;
	}
	assert_int_equal(found, sizeof(want) / sizeof(want[0]));
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_body_checks),
		T(test_queue),
		T(test_state_machine),
		T(test_posted_message),
		T(test_posted_after_poll_saw_it),
		T(test_posted_without_id),
		T(test_fail_retry_cancel),
		T(test_order_per_thread),
		T(test_handoff),
		T(test_task_close_rule),
		T(test_task_close_rolls_back),
		T(test_ingest_meta_and_status),
		T(test_author),
		T(test_thread_json),
		T(test_migration_from_v1),
		T(test_query_plans),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
