/* test_threads: thread list and thread JSON, filters, references, plans. */
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
#include "orgs.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"
#include "thread_list.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
};

#define ITEM(...)	((struct conn_item){ .rating = ITEM_NO_RATING, \
			    __VA_ARGS__ })
#define RATED(r, ...)	((struct conn_item){ .rating = (r), __VA_ARGS__ })

static void
feed(struct store *s, const char *org, const char *connector,
    struct conn_item *items, size_t n)
{
	struct conn_batch b = { .items = items, .nitems = n };
	struct ingest_stats st;
	struct source src;
	char err[256];
	int64_t id;

	id = sources_add(s, org, connector, "{}", NOW, err, sizeof(err));
	if (id == -1)
		fail_msg("sources_add: %s", err);
	assert_int_equal(sources_get(s, id, &src), 1);
	if (ingest_batch(s, &src, &b, NOW, &st, err, sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
	source_free(&src);
}

/*
 * RJ1 by rss: "Parking" (2 messages, a reply), "Food" (1).
 * RAL by twitter: "Thanks" (1, rated, by handle only).
 */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct conn_item rj1[] = {
		ITEM(.external_id = "p1", .thread_key = "park",
		    .title = "Parking", .body = "No spaces",
		    .author_name = "Ann", .url = "https://x/p1",
		    .created_at = NOW - 3600),
		ITEM(.external_id = "p2", .thread_key = "park",
		    .dir = ITEM_OUT, .body = "Sorry, Ann",
		    .author_name = "PALS", .parent_id = "p1",
		    .created_at = NOW - 1800, .updated_at = NOW - 1700),
		ITEM(.external_id = "f1", .thread_key = "food",
		    .title = "Food", .body = "Cold", .created_at = NOW - 7200),
	};
	struct conn_item ral[] = {
		RATED(5, .external_id = "t1", .thread_key = "t1",
		    .body = "Thanks to ward 4", .author_handle = "@bob",
		    .created_at = NOW - 60),
	};

	f->s = testdb_open("threads", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "GUY'S", "trust") > 0);
	assert_true(orgs_ensure(f->s, "RAL", "ROYAL FREE", "trust") > 0);
	feed(f->s, "RJ1", "rss", rj1, 3);
	feed(f->s, "RAL", "twitter", ral, 1);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", key);
	return json_string_value(v);
}

static json_int_t
jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		fail_msg("\"%s\" is not an integer", key);
	return json_integer_value(v);
}

static void
exec(struct store *s, const char *sql)
{
	assert_int_equal(sqlite3_exec(store_db(s), sql, NULL, NULL, NULL),
	    SQLITE_OK);
}

/* The documented shape, field by field, of the newest thread. */
static void
test_list_shape(void **state)
{
	struct fixture *f = *state;
	struct threads_filter flt = { 0 };
	json_t *a, *t;

	a = threads_list(f->s, &flt);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 3);
	t = json_array_get(a, 0);
	assert_true(jint(t, "id") > 0);
	assert_string_equal(jstr(t, "org"), "RAL");
	assert_string_equal(jstr(t, "connector"), "twitter");
	assert_int_equal(jint(t, "source"), 2);
	assert_int_equal(strlen(jstr(t, "reference")), 8);
	assert_string_equal(jstr(t, "subject"), "Thanks to ward 4");
	assert_string_equal(jstr(t, "status"), "new");
	assert_int_equal(jint(t, "messages"), 1);
	assert_string_equal(jstr(t, "first_at"), "2026-05-01T11:59:00Z");
	assert_string_equal(jstr(t, "last_at"), "2026-05-01T11:59:00Z");
	assert_true(json_is_null(json_object_get(t, "first_response_at")));
	t = json_array_get(a, 1);
	assert_string_equal(jstr(t, "subject"), "Parking");
	assert_string_equal(jstr(t, "first_at"), "2026-05-01T11:00:00Z");
	assert_string_equal(jstr(t, "last_at"), "2026-05-01T11:30:00Z");
	assert_string_equal(jstr(t, "first_response_at"),
	    "2026-05-01T11:30:00Z");
	assert_int_equal(jint(t, "messages"), 2);
	assert_string_equal(jstr(json_array_get(a, 2), "subject"), "Food");
	json_decref(a);
}

static void
test_list_filters(void **state)
{
	static const struct {
		const char *org, *status;
		int limit;
		int n;		/* -1: error */
		const char *first;
	} cases[] = {
		{ NULL, NULL, 0, 3, "Thanks to ward 4" },
		{ NULL, NULL, 1, 1, "Thanks to ward 4" },
		{ "RJ1", NULL, 0, 2, "Parking" },
		{ "rj1", NULL, 0, 2, "Parking" },
		{ "RJ1", "open", 0, 1, "Food" },
		{ NULL, "open", 0, 1, "Food" },
		{ NULL, "new", 0, 2, "Thanks to ward 4" },
		{ "RAL", "open", 0, 0, NULL },
		{ NULL, "hidden", 0, 0, NULL },
		{ "NOPE1", NULL, 0, 0, NULL },
		{ NULL, "bogus", 0, -1, NULL },
	};
	struct fixture *f = *state;
	struct threads_filter flt;
	json_t *a;
	size_t i;

	exec(f->s, "UPDATE threads SET status = 'open'"
	    " WHERE subject = 'Food'");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		flt = (struct threads_filter){ .org = cases[i].org,
		    .status = cases[i].status, .limit = cases[i].limit };
		a = threads_list(f->s, &flt);
		if (cases[i].n == -1) {
			assert_null(a);
			continue;
		}
		assert_non_null(a);
		if ((int)json_array_size(a) != cases[i].n)
			fail_msg("case %zu: %zu threads", i,
			    json_array_size(a));
		if (cases[i].first != NULL)
			assert_string_equal(jstr(json_array_get(a, 0),
			    "subject"), cases[i].first);
		json_decref(a);
	}
}

/* Moderated threads leave the default list but stay reachable. */
static void
test_hidden(void **state)
{
	struct fixture *f = *state;
	struct threads_filter all = { 0 }, hidden = { .status = "hidden" };
	json_t *a;

	exec(f->s, "UPDATE threads SET status = 'hidden'"
	    " WHERE subject = 'Food'");
	a = threads_list(f->s, &all);
	assert_int_equal(json_array_size(a), 2);
	json_decref(a);
	a = threads_list(f->s, &hidden);
	assert_int_equal(json_array_size(a), 1);
	assert_string_equal(jstr(json_array_get(a, 0), "subject"), "Food");
	json_decref(a);
}

static int64_t
thread_id(struct store *s, const char *subject)
{
	sqlite3_stmt *st;
	int64_t id = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), "SELECT id FROM"
	    " threads WHERE subject = ?", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, subject, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static void
test_get_shape(void **state)
{
	struct fixture *f = *state;
	json_t *t, *items, *m;
	char id[32];

	snprintf(id, sizeof(id), "%lld",
	    (long long)thread_id(f->s, "Parking"));
	t = threads_get(f->s, id);
	assert_non_null(t);
	assert_string_equal(jstr(t, "subject"), "Parking");
	assert_string_equal(jstr(t, "org"), "RJ1");
	assert_string_equal(jstr(t, "connector"), "rss");
	assert_int_equal(jint(t, "messages"), 2);
	items = json_object_get(t, "items");
	assert_true(json_is_array(items));
	assert_int_equal(json_array_size(items), 2);
	/* Oldest first. */
	m = json_array_get(items, 0);
	assert_true(jint(m, "id") > 0);
	assert_string_equal(jstr(m, "external_id"), "p1");
	assert_string_equal(jstr(m, "direction"), "in");
	assert_string_equal(jstr(m, "author"), "Ann");
	assert_string_equal(jstr(m, "body"), "No spaces");
	assert_string_equal(jstr(m, "url"), "https://x/p1");
	assert_true(json_is_null(json_object_get(m, "rating")));
	assert_string_equal(jstr(m, "created_at"), "2026-05-01T11:00:00Z");
	assert_string_equal(jstr(m, "updated_at"), "2026-05-01T11:00:00Z");
	assert_false(json_is_true(json_object_get(m, "hidden")));
	m = json_array_get(items, 1);
	assert_string_equal(jstr(m, "external_id"), "p2");
	assert_string_equal(jstr(m, "direction"), "out");
	assert_string_equal(jstr(m, "author"), "PALS");
	assert_true(json_is_null(json_object_get(m, "url")));
	assert_string_equal(jstr(m, "parent_external_id"), "p1");
	assert_string_equal(jstr(m, "updated_at"), "2026-05-01T11:31:40Z");
	json_decref(t);
	/* A handle stands in for a missing name; a rating is a number. */
	snprintf(id, sizeof(id), "%lld",
	    (long long)thread_id(f->s, "Thanks to ward 4"));
	t = threads_get(f->s, id);
	m = json_array_get(json_object_get(t, "items"), 0);
	assert_string_equal(jstr(m, "author"), "@bob");
	assert_int_equal(jint(m, "rating"), 5);
	json_decref(t);
}

static void
test_get_by_reference(void **state)
{
	static const struct {
		const char *ref;
		int found;
	} cases[] = {
		{ "H-10ABCD", 1 }, { "h-10abcd", 1 }, { "H10ABCD", 1 },
		{ "10abcd", 1 }, { "h-lOabcd", 1 }, { "H-IOABCD", 1 },
		{ "H 10 AB CD", 1 }, { "H-10ABC", 0 }, { "X-10ABCD", 0 },
		{ "H-10ABCDE", 0 }, { "nope", 0 }, { "", 0 }, { "0", 0 },
		{ "999", 0 }, { "1x", 0 }, { "H-10AB%D", 0 },
	};
	struct fixture *f = *state;
	int64_t want = thread_id(f->s, "Food");
	json_t *t;
	size_t i;

	exec(f->s, "UPDATE threads SET reference = 'H-10ABCD'"
	    " WHERE subject = 'Food'");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		t = threads_get(f->s, cases[i].ref);
		if (!cases[i].found) {
			if (t != NULL)
				fail_msg("'%s' found a thread", cases[i].ref);
			continue;
		}
		if (t == NULL)
			fail_msg("'%s' not found", cases[i].ref);
		assert_int_equal(jint(t, "id"), want);
		assert_string_equal(jstr(t, "reference"), "H-10ABCD");
		json_decref(t);
	}
}

/* Plan lines that mean a statement reads a whole table or sorts. */
static int
plan_bad(const char *sql, const char *detail)
{
	if (strncmp(detail, "SCAN ", 5) == 0 &&
	    strstr(detail, " USING ") == NULL &&
	    strstr(detail, "VIRTUAL TABLE") == NULL)
		return 1;
	return strstr(sql, "ORDER BY t.last_at") != NULL &&
	    strstr(detail, "TEMP B-TREE") != NULL;
}

/* The plan of sql as one string, lines joined by " / ". */
static void
plan_of(struct store *s, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	char *q;
	size_t o = 0;

	q = sqlite3_mprintf("EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(store_db(s), q, -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_free(q);
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		if (plan_bad(sql, d))
			fail_msg("full scan or sort: %s\n  in: %s", d, sql);
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s / ",
		    d);
	}
	sqlite3_finalize(st);
}

/*
 * Every statement the inbox has prepared on this connection, after
 * each list filter, a thread, a re-ingest and an edit, is planned on
 * an index; the ones that matter most use the index made for them.
 */
/* The channel's own reference: kept, shown, and found when heard's
 * id or H- code does not match first. */
static void
test_get_by_channel_reference(void **state)
{
	struct fixture *f = *state;
	struct conn_item open311[] = {
		ITEM(.external_id = "req:638344", .thread_key = "638344",
		    .reference = "638344", .title = "Dirty ward",
		    .body = "The floor was dirty.", .created_at = NOW - 60),
		ITEM(.external_id = "upd:9", .thread_key = "638344",
		    .reference = "638344", .dir = ITEM_OUT,
		    .body = "Cleaned today.", .created_at = NOW - 30),
	};
	json_t *t;

	feed(f->s, "RJ1", "care-connect", open311, 2);
	t = threads_get(f->s, "638344");
	assert_non_null(t);
	assert_string_equal(jstr(t, "subject"), "Dirty ward");
	assert_string_equal(jstr(t, "channel_reference"), "638344");
	assert_int_equal(json_array_size(json_object_get(t, "items")), 2);
	json_decref(t);
	/* heard's own numeric id wins over a channel reference. */
	t = threads_get(f->s, "1");
	assert_non_null(t);
	assert_int_equal(jint(t, "id"), 1);
	assert_true(json_is_null(json_object_get(t, "channel_reference")));
	json_decref(t);
	assert_null(threads_get(f->s, "638345"));
}

static void
test_query_plans(void **state)
{
	static const struct {
		const char *sql_has;
		const char *plan_has;
	} want[] = {
		{ "FROM messages WHERE connector = ?1",
		    "USING INDEX sqlite_autoindex_messages_1" },
		{ "WHERE t.status <> 'hidden' ORDER BY",
		    "USING INDEX threads_last" },
		{ "WHERE t.org_id = ?1 AND t.status <> 'hidden'",
		    "USING INDEX threads_org_last (org_id=?)" },
		{ "WHERE t.status = ?2 ORDER BY",
		    "USING INDEX threads_status_last (status=?)" },
		{ "WHERE t.org_id = ?1 AND t.status = ?2",
		    "USING INDEX threads_org_status_last (org_id=? AND "
		    "status=?)" },
		{ "FROM messages WHERE thread_id = ?1",
		    "USING INDEX messages_thread (thread_id=?)" },
		{ "WHERE org_id = ?1 AND connector = ?2 AND thread_key",
		    "(org_id=? AND connector=? AND thread_key=?)" },
	};
	struct fixture *f = *state;
	struct threads_filter flt[] = { { 0 }, { .org = "RJ1" },
	    { .status = "new" }, { .org = "RJ1", .status = "new" } };
	struct conn_item again[] = { ITEM(.external_id = "z1",
	    .thread_key = "park", .body = "me too") };
	char *sqls[64], plan[2048];
	sqlite3_stmt *st = NULL;
	size_t i, j, n = 0;
	json_t *j1;

	for (i = 0; i < sizeof(flt) / sizeof(flt[0]); i++)
		json_decref(threads_list(f->s, &flt[i]));
	json_decref(threads_get(f->s, "1"));
	feed(f->s, "RJ1", "rss", again, 1);
	/* Collect first: explaining prepares statements of its own. */
	while ((st = sqlite3_next_stmt(store_db(f->s), st)) != NULL &&
	    n < sizeof(sqls) / sizeof(sqls[0]))
		sqls[n++] = strdup(sqlite3_sql(st));
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		for (j = 0; j < n; j++)
			if (strstr(sqls[j], want[i].sql_has) != NULL)
				break;
		if (j == n)
			fail_msg("no statement with '%s'", want[i].sql_has);
		plan_of(f->s, sqls[j], plan, sizeof(plan));
		if (strstr(plan, want[i].plan_has) == NULL)
			fail_msg("%s\n  planned as: %s", sqls[j], plan);
	}
	for (j = 0; j < n; j++) {
		plan_of(f->s, sqls[j], plan, sizeof(plan));
		free(sqls[j]);
	}
	j1 = threads_list(f->s, &flt[0]);
	assert_int_equal(json_array_size(j1), 3);
	json_decref(j1);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_list_shape),
		T(test_list_filters),
		T(test_hidden),
		T(test_get_shape),
		T(test_get_by_reference),
		T(test_get_by_channel_reference),
		T(test_query_plans),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
