/* test_ingest: batches into threads and messages, in one transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "connector.h"
#include "ingest.h"
#include "jsonout.h"
#include "orgs.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01 12:00 UTC */

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	struct source	 src;		/* rss for RJ1 */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];
	int64_t id;

	f->s = testdb_open("ingest", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "GUY'S", "trust") > 0);
	assert_true(orgs_ensure(f->s, "RAL", "ROYAL FREE", "trust") > 0);
	id = sources_add(f->s, "RJ1", "rss", "{\"url\": \"http://x/\"}", NOW,
	    err, sizeof(err));
	assert_true(id > 0);
	assert_int_equal(sources_get(f->s, id, &f->src), 1);
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

/* One value from one row; "" for NULL, "?" for no row. */
static const char *
q1(struct store *s, const char *sql)
{
	static char out[512];
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		snprintf(out, sizeof(out), "%s", sqlite3_column_text(st, 0) ?
		    (const char *)sqlite3_column_text(st, 0) : "");
	else
		snprintf(out, sizeof(out), "?");
	sqlite3_finalize(st);
	return out;
}

static long long
qn(struct store *s, const char *sql)
{
	return atoll(q1(s, sql));
}

#define ITEM(...)	((struct conn_item){ .rating = ITEM_NO_RATING, \
			    __VA_ARGS__ })
#define RATED(r, ...)	((struct conn_item){ .rating = (r), __VA_ARGS__ })

static int
put(struct fixture *f, struct conn_item *items, size_t n,
    const char *cursor, struct ingest_stats *st, char *err, size_t errlen)
{
	struct conn_batch b = { .items = items, .nitems = n,
	    .cursor = cursor };

	return ingest_batch(f->s, &f->src, &b, NOW, st, err, errlen);
}

static void
put_ok(struct fixture *f, struct conn_item *items, size_t n,
    const char *cursor, struct ingest_stats *st)
{
	char err[256];

	if (put(f, items, n, cursor, st, err, sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
}

/* Steps of one story, each with the counts it must give. */
static void
test_stats_story(void **state)
{
	struct fixture *f = *state;
	struct conn_item first[] = {
		ITEM(.external_id = "a", .thread_key = "t1",
		    .title = "Parking", .body = "No spaces",
		    .created_at = NOW - 300),
		ITEM(.external_id = "b", .thread_key = "t1", .body = "Agreed",
		    .parent_id = "a", .created_at = NOW - 200),
		RATED(5, .external_id = "c", .thread_key = "t2",
		    .body = "Kind nurses", .created_at = NOW - 100),
	};
	struct conn_item edited[] = {
		ITEM(.external_id = "a", .thread_key = "t1",
		    .title = "Parking", .body = "No spaces at all",
		    .created_at = NOW - 300, .updated_at = NOW - 10),
		ITEM(.external_id = "b", .thread_key = "t1", .body = "Agreed",
		    .parent_id = "a", .created_at = NOW - 200),
	};
	struct conn_item removed[] = {
		ITEM(.external_id = "c", .thread_key = "t2", .removed = 1),
		ITEM(.external_id = "never-seen", .thread_key = "t3",
		    .removed = 1),
	};
	static const struct {
		int batch;	/* 0 first, 1 edited, 2 removed */
		struct ingest_stats want;
	} steps[] = {
		{ 0, { .new_items = 3, .new_threads = 2 } },
		{ 0, { .unchanged_items = 3 } },
		{ 1, { .updated_items = 1, .unchanged_items = 1 } },
		{ 1, { .unchanged_items = 2 } },
		{ 2, { .updated_items = 1, .skipped = 1 } },
		{ 2, { .unchanged_items = 1, .skipped = 1 } },
		{ 0, { .updated_items = 1, .unchanged_items = 2 } },
	};
	struct { struct conn_item *items; size_t n; } batches[] = {
		{ first, 3 }, { edited, 2 }, { removed, 2 },
	};
	struct ingest_stats st;
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		put_ok(f, batches[steps[i].batch].items,
		    batches[steps[i].batch].n, NULL, &st);
		if (memcmp(&st, &steps[i].want, sizeof(st)) != 0)
			fail_msg("step %zu: new %zu updated %zu unchanged %zu"
			    " threads %zu skipped %zu", i, st.new_items,
			    st.updated_items, st.unchanged_items,
			    st.new_threads, st.skipped);
	}
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM threads"), 2);
}

static void
test_threads_filed(void **state)
{
	struct fixture *f = *state;
	struct conn_item items[] = {
		ITEM(.external_id = "a", .thread_key = "t1",
		    .title = "Parking", .body = "No spaces",
		    .created_at = NOW - 300),
		ITEM(.external_id = "b", .thread_key = "t1", .body = "Agreed",
		    .created_at = NOW - 200),
		ITEM(.external_id = "c", .thread_key = "t2",
		    .body = "Kind nurses", .created_at = NOW - 100),
		ITEM(.external_id = "d", .body = "no key of its own",
		    .created_at = NOW - 50),
	};
	struct ingest_stats st;

	put_ok(f, items, 4, NULL, &st);
	assert_int_equal(st.new_threads, 3);
	assert_string_equal(q1(f->s, "SELECT message_count || ' ' ||"
	    " subject || ' ' || status || ' ' || (last_at - first_at) ||"
	    " ' ' || connector FROM threads WHERE thread_key = 't1'"),
	    "2 Parking new 100 rss");
	assert_int_equal(qn(f->s, "SELECT count(*) FROM threads WHERE"
	    " thread_key = 'd' AND message_count = 1"), 1);
	/* References: H- and six Crockford digits, all different. */
	assert_int_equal(qn(f->s, "SELECT count(*) FROM threads WHERE"
	    " reference GLOB 'H-[0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]"
	    "[0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z][0-9A-HJKMNP-TV-Z]"
	    "[0-9A-HJKMNP-TV-Z]'"), 3);
	assert_int_equal(qn(f->s, "SELECT count(DISTINCT reference) FROM"
	    " threads"), 3);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages WHERE"
	    " source_id IS NOT NULL AND first_seen_at = 1777636800"), 4);
}

/*
 * A new key whose parent is stored joins the parent's thread (a comment
 * under a patient's own post); a parent elsewhere, or none, does not.
 */
static void
test_answer_joins_its_parents_thread(void **state)
{
	struct fixture *f = *state;
	struct conn_item items[] = {
		ITEM(.external_id = "post", .thread_key = "post",
		    .body = "Ward 4 was cold", .created_at = NOW - 300),
		ITEM(.external_id = "post_c1", .thread_key = "post_c1",
		    .parent_id = "post", .body = "and the food",
		    .created_at = NOW - 200),
		ITEM(.external_id = "post_c2", .thread_key = "post_c1",
		    .parent_id = "post_c1", .body = "same here",
		    .created_at = NOW - 150),
		ITEM(.external_id = "other", .thread_key = "other",
		    .parent_id = "unseen", .body = "Thanks all",
		    .created_at = NOW - 100),
	};
	struct ingest_stats st;

	put_ok(f, items, 4, NULL, &st);
	assert_int_equal(st.new_threads, 2);
	assert_int_equal(qn(f->s, "SELECT message_count FROM threads WHERE"
	    " thread_key = 'post'"), 3);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM threads WHERE"
	    " thread_key = 'other'"), 1);
}

static void
test_edit_in_place(void **state)
{
	struct fixture *f = *state;
	struct conn_item v1[] = { ITEM(.external_id = "a", .thread_key = "t",
	    .body = "the car park was full", .created_at = NOW - 300) };
	struct conn_item v2[] = { ITEM(.external_id = "a", .thread_key = "t",
	    .body = "the nurses were kind", .created_at = NOW - 300) };
	struct ingest_stats st;
	long long id;

	put_ok(f, v1, 1, NULL, &st);
	id = qn(f->s, "SELECT id FROM messages");
	assert_int_equal(qn(f->s, "SELECT updated_at FROM messages"),
	    NOW - 300);
	put_ok(f, v2, 1, NULL, &st);
	assert_int_equal(st.updated_items, 1);
	assert_int_equal(qn(f->s, "SELECT id FROM messages"), id);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages"), 1);
	assert_string_equal(q1(f->s, "SELECT body FROM messages"),
	    "the nurses were kind");
	/* No updated time from the channel: the time we saw the edit. */
	assert_int_equal(qn(f->s, "SELECT updated_at FROM messages"), NOW);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages_fts WHERE"
	    " messages_fts MATCH 'car'"), 0);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages_fts WHERE"
	    " messages_fts MATCH 'nurses'"), 1);
	/* An edit is not new activity. */
	assert_int_equal(qn(f->s, "SELECT message_count FROM threads"), 1);
}

static void
test_removed_kept_hidden(void **state)
{
	struct fixture *f = *state;
	struct conn_item v1[] = { ITEM(.external_id = "a", .thread_key = "t",
	    .body = "rude words", .created_at = NOW - 300) };
	struct conn_item gone[] = { ITEM(.external_id = "a",
	    .thread_key = "t", .removed = 1) };
	struct ingest_stats st;

	put_ok(f, v1, 1, NULL, &st);
	put_ok(f, gone, 1, NULL, &st);
	assert_int_equal(st.updated_items, 1);
	assert_string_equal(q1(f->s, "SELECT body || '|' || hidden || '|' ||"
	    " hidden_reason || '|' || removed_at_source FROM messages"),
	    "rude words|1|removed at source|1777636800");
}

static void
test_org_hint(void **state)
{
	struct fixture *f = *state;
	struct conn_item items[] = {
		ITEM(.external_id = "p1", .thread_key = "k", .body = "both",
		    .org_hint = "RJ1"),
		ITEM(.external_id = "p1", .thread_key = "k", .body = "both",
		    .org_hint = "ral"),
		ITEM(.external_id = "p2", .thread_key = "k2", .body = "?",
		    .org_hint = "NOPE1"),
		ITEM(.external_id = "p3", .thread_key = "k3", .body = "mine"),
		/* Trust sites (5 characters) roll up to their trust. */
		ITEM(.external_id = "p4", .thread_key = "k4", .body = "site",
		    .org_hint = "RJ121"),
		ITEM(.external_id = "p5", .thread_key = "k5", .body = "site",
		    .org_hint = "ral01"),
	};
	struct ingest_stats st;

	put_ok(f, items, 6, NULL, &st);
	assert_int_equal(st.new_items, 5);
	assert_int_equal(st.skipped, 1);
	assert_string_equal(q1(f->s, "SELECT group_concat(o.code, ',') FROM"
	    " (SELECT o.code FROM threads t JOIN organisations o ON"
	    " o.id = t.org_id WHERE t.thread_key IN ('k4', 'k5')"
	    " ORDER BY t.thread_key) o"), "RJ1,RAL");
	/* One post naming two organisations: a conversation in each. */
	assert_string_equal(q1(f->s, "SELECT group_concat(o.code, ',') FROM"
	    " (SELECT o.code FROM messages m JOIN threads t ON"
	    " t.id = m.thread_id JOIN organisations o ON o.id = t.org_id"
	    " WHERE m.external_id = 'p1' AND m.org_id = t.org_id"
	    " ORDER BY o.code) o"), "RAL,RJ1");
	assert_string_equal(q1(f->s, "SELECT o.code FROM threads t JOIN"
	    " organisations o ON o.id = t.org_id WHERE thread_key = 'k3'"),
	    "RJ1");
}

/* A reply listed before the post it answers: the post names the thread. */
static void
test_subject_from_the_patient(void **state)
{
	struct fixture *f = *state;
	struct conn_item reply[] = {
		ITEM(.external_id = "80452R", .thread_key = "80452",
		    .dir = ITEM_OUT, .title = "The trust replies:",
		    .body = "Thank you."),
	};
	struct conn_item post[] = {
		ITEM(.external_id = "80452", .thread_key = "80452",
		    .title = "Kind staff", .body = "They were kind."),
		ITEM(.external_id = "80453", .thread_key = "80452",
		    .title = "Also", .body = "And quick."),
	};
	struct ingest_stats st;

	put_ok(f, reply, 1, NULL, &st);
	assert_string_equal(q1(f->s, "SELECT subject FROM threads"),
	    "The trust replies:");
	put_ok(f, post, 1, NULL, &st);
	assert_string_equal(q1(f->s, "SELECT subject FROM threads"),
	    "Kind staff");
	/* A second post from the public keeps the first one's subject. */
	put_ok(f, post + 1, 1, NULL, &st);
	assert_string_equal(q1(f->s, "SELECT subject FROM threads"),
	    "Kind staff");
}

/* Any failure stores nothing: not the items before it, not the cursor. */
static void
test_rollback(void **state)
{
	struct fixture *f = *state;
	struct conn_item bad_rating[] = {
		ITEM(.external_id = "x1", .thread_key = "t", .body = "ok"),
		ITEM(.external_id = "x2", .thread_key = "t", .body = "ok"),
		RATED(9, .external_id = "x3", .thread_key = "t"),
		ITEM(.external_id = "x4", .thread_key = "t", .body = "ok"),
	};
	struct conn_item good[] = {
		ITEM(.external_id = "x1", .thread_key = "t", .body = "ok"),
	};
	static const struct {
		int items;	/* 0 bad_rating, 1 good */
		const char *cursor;
		const char *err;
	} cases[] = {
		{ 0, "{\"since\": \"9\"}", "item 'x3': rating out of 1..5" },
		{ 1, "not json", "cursor: " },
	};
	struct ingest_stats st;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(put(f, cases[i].items ? good : bad_rating,
		    cases[i].items ? 1 : 4, cases[i].cursor, &st, err,
		    sizeof(err)), -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: '%s'", i, err);
		assert_int_equal(st.new_items, 0);
		assert_int_equal(qn(f->s, "SELECT count(*) FROM messages"), 0);
		assert_int_equal(qn(f->s, "SELECT count(*) FROM threads"), 0);
		assert_string_equal(q1(f->s, "SELECT coalesce(cursor, 'none')"
		    " || coalesce(last_ok, 'never') FROM sources"),
		    "nonenever");
	}
	/* A source that has gone: nothing stored either. */
	f->src.id = 999;
	assert_int_equal(put(f, good, 1, NULL, &st, err, sizeof(err)), -1);
	assert_int_equal(qn(f->s, "SELECT count(*) FROM messages"), 0);
	/* And the store still works afterwards. */
	f->src.id = 1;
	put_ok(f, good, 1, "{}", &st);
	assert_int_equal(st.new_items, 1);
}

static void
test_cursor_and_health(void **state)
{
	struct fixture *f = *state;
	struct source_health h = { .ok = 0, .error_code = CONN_ERR_TRANSIENT,
	    .error = "transient: 503", .failures = 3, .next_poll = NOW + 60 };
	struct ingest_stats st;

	assert_int_equal(sources_health(f->s, f->src.id, NOW - 60, &h), 0);
	assert_string_equal(q1(f->s, "SELECT failures || last_error FROM"
	    " sources"), "3transient: 503");
	put_ok(f, NULL, 0, "{\"etag\": \"\\\"abc\\\"\"}", &st);
	assert_string_equal(q1(f->s, "SELECT cursor FROM sources"),
	    "{\"etag\": \"\\\"abc\\\"\"}");
	assert_string_equal(q1(f->s, "SELECT failures || '|' ||"
	    " coalesce(last_error, '') || '|' || last_error_code || '|' ||"
	    " last_ok || '|' || last_error_at FROM sources"),
	    "0||0|1777636800|1777636740");
	/* No new cursor: the old one stays. */
	put_ok(f, NULL, 0, NULL, &st);
	assert_string_equal(q1(f->s, "SELECT cursor FROM sources"),
	    "{\"etag\": \"\\\"abc\\\"\"}");
}

static void
test_responses_and_reopen(void **state)
{
	struct fixture *f = *state;
	struct conn_item b1[] = {
		ITEM(.external_id = "q", .thread_key = "t", .body = "help",
		    .created_at = NOW - 500),
		ITEM(.external_id = "r1", .thread_key = "t", .dir = ITEM_OUT,
		    .body = "sorry", .created_at = NOW - 400),
	};
	struct conn_item b2[] = {
		ITEM(.external_id = "r2", .thread_key = "t", .dir = ITEM_OUT,
		    .body = "more", .created_at = NOW - 300),
	};
	struct conn_item b3[] = {
		ITEM(.external_id = "q2", .thread_key = "t", .body = "again",
		    .created_at = NOW - 200),
	};
	struct ingest_stats st;

	put_ok(f, b1, 2, NULL, &st);
	assert_int_equal(qn(f->s, "SELECT first_response_at FROM threads"),
	    NOW - 400);
	put_ok(f, b2, 1, NULL, &st);
	assert_int_equal(qn(f->s, "SELECT first_response_at FROM threads"),
	    NOW - 400);
	assert_string_equal(q1(f->s, "SELECT status FROM threads"), "new");
	assert_int_equal(sqlite3_exec(store_db(f->s), "UPDATE threads SET"
	    " status = 'resolved'", NULL, NULL, NULL), SQLITE_OK);
	put_ok(f, b3, 1, NULL, &st);
	assert_string_equal(q1(f->s, "SELECT status || ' ' || message_count"
	    " || ' ' || (last_at - first_at) FROM threads"), "open 4 300");
	assert_string_equal(q1(f->s, "SELECT direction FROM messages WHERE"
	    " external_id = 'r2'"), "out");
}

static void
test_subjects(void **state)
{
	static const struct {
		const char *title, *body, *want;
	} cases[] = {
		{ "Parking", "ignored", "Parking" },
		{ "  ", "  Short   body\nwith lines  ",
		    "Short body with lines" },
		{ NULL, "The appointment letter arrived after the date of the "
		    "appointment itself, which happened twice", "The "
		    "appointment letter arrived after the date of the "
		    "appointment\xe2\x80\xa6" },
		{ NULL, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
		    "\xc3\xa9\xc3\xa9\xc3\xa9x", NULL },
		{ NULL, "bad \xff byte", "bad \xef\xbf\xbd byte" },
		{ NULL, NULL, "" },
	};
	struct fixture *f = *state;
	struct conn_item it;
	struct ingest_stats st;
	char key[16], sql[128];
	const char *got;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(key, sizeof(key), "s%zu", i);
		it = ITEM(.external_id = key, .thread_key = key,
		    .title = cases[i].title, .body = cases[i].body);
		put_ok(f, &it, 1, NULL, &st);
		snprintf(sql, sizeof(sql), "SELECT subject FROM threads WHERE"
		    " thread_key = '%s'", key);
		got = q1(f->s, sql);
		if (cases[i].want != NULL) {
			assert_string_equal(got, cases[i].want);
			continue;
		}
		/* Cut between characters, never inside one. */
		assert_int_equal(strlen(got), 72 + 3);
		assert_memory_equal(got + 72, "\xe2\x80\xa6", 3);
	}
	/* Text that was not UTF-8 is stored repaired. */
	assert_string_equal(q1(f->s, "SELECT body FROM messages WHERE"
	    " external_id = 's4'"), "bad \xef\xbf\xbd byte");
}

/* What ingest keeps of text that should have been UTF-8. */
static void
test_utf8_repair(void **state)
{
	static const struct {
		const char *in;
		const char *want;	/* NULL: valid, kept as it is */
	} cases[] = {
		{ "plain", NULL },
		{ "caf\xc3\xa9 \xe2\x80\xa6 \xf0\x9f\x98\x80", NULL },
		{ "\xed\x9f\xbf \xf4\x8f\xbf\xbf", NULL },
		{ "\xc0\x80", "\xef\xbf\xbd\xef\xbf\xbd" },	/* overlong */
		{ "a\xe0\x80\x80", "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
		{ "\xf4\x90\x80\x80!", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
		    "\xef\xbf\xbd!" },
		{ "end \xc3", "end \xef\xbf\xbd" },
		{ "latin1 \xe9t\xe9", "latin1 \xef\xbf\xbdt\xef\xbf\xbd" },
	};
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = jsonout_utf8_repair(cases[i].in);
		if (cases[i].want == NULL) {
			if (got != NULL)
				fail_msg("case %zu changed", i);
			continue;
		}
		if (got == NULL)
			fail_msg("case %zu kept", i);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_stats_story),
		T(test_threads_filed),
		T(test_edit_in_place),
		T(test_removed_kept_hidden),
		T(test_org_hint),
		T(test_subject_from_the_patient),
		T(test_answer_joins_its_parents_thread),
		T(test_rollback),
		T(test_cursor_and_health),
		T(test_responses_and_reopen),
		T(test_subjects),
		cmocka_unit_test(test_utf8_repair),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
