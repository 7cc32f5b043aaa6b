/* test_thread_query: the thread list, pages, access, reads, actions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "audit_list.h"
#include "reads.h"
#include "sources.h"
#include "stats.h"
#include "store.h"
#include "testdb.h"
#include "thread_actions.h"
#include "thread_query.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */

/*
 * Real ODS shapes: two trusts of two ICBs, a GP practice whose ICB is
 * QHM. Users: an admin, a lead of RTD, a lead of RJ1, a reviewer of
 * the ICB QHM, a disabled lead of RTD.
 */
static const char fixture_sql[] =
    "INSERT INTO organisations (id, code, name, type, parent_code,"
    " icb_code, updated_at) VALUES"
    " (1, 'QHM', 'North East and North Cumbria ICB', 'icb', NULL, NULL, 0),"
    " (2, 'QKK', 'South East London ICB', 'icb', NULL, NULL, 0),"
    " (4, 'RTD', 'Newcastle upon Tyne Hospitals', 'trust', 'QHM', 'QHM', 0),"
    " (5, 'RJ1', 'Guy''s and St Thomas''', 'trust', 'QKK', 'QKK', 0),"
    " (6, 'A81001', 'The Densham Surgery', 'gp-practice', '16C', 'QHM', 0);"
    "INSERT INTO users (id, email, name, role, created_at, disabled) VALUES"
    " (1, 'admin@nhs.net', 'Ada Admin', 'admin', 0, 0),"
    " (2, 'lead.rtd@nhs.net', 'Lee Lead', 'lead', 0, 0),"
    " (3, 'lead.rj1@nhs.net', '', 'lead', 0, 0),"
    " (4, 'rev.qhm@nhs.net', 'Rae Reviewer', 'reviewer', 0, 0),"
    " (5, 'gone@nhs.net', 'Gone', 'lead', 0, 1);"
    "INSERT INTO memberships (user_id, org_id) VALUES"
    " (2, 4), (3, 5), (4, 1), (5, 4);"
    "INSERT INTO sources (id, org_id, connector, settings, created_at) VALUES"
    " (1, 4, 'rss', '{\"url\":\"http://x/feed\"}', 0),"
    " (2, 5, 'care-opinion', '{\"nacs\":\"RJ1\",\"subscription_key\":"
    "\"s3cret\"}', 0),"
    " (3, 6, 'nhs-website', '{\"ods_code\":\"A81001\"}', 0);";

#define ADMIN	1
#define LEAD	2
#define LEAD2	3
#define REV	4

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	int		 next;	/* thread ids and keys */
};

static void
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
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

/*
 * A thread of org (id) on source with one message of body at last_at;
 * returns its id.
 */
static int64_t
thread_add(struct fixture *f, int org, int source, const char *connector,
    int64_t last_at, const char *body)
{
	char *sql;
	int n = ++f->next;

	sql = sqlite3_mprintf(
	    "INSERT INTO threads (id, org_id, source_id, connector,"
	    " thread_key, reference, subject, first_at, last_at,"
	    " message_count, created_at, updated_at) VALUES (%d, %d, %d, %Q,"
	    " 'k%d', 'H-%06d', 'Subject %d', %lld, %lld, 1, 0, 0);"
	    "INSERT INTO messages (thread_id, org_id, source_id, connector,"
	    " external_id, direction, body, created_at, updated_at,"
	    " first_seen_at, content_hash) VALUES (%d, %d, %d, %Q, 'm%d',"
	    " 'in', %Q, %lld, %lld, %lld, x'00');", n, org, source, connector,
	    n, n, n, (long long)last_at, (long long)last_at, n, org, source,
	    connector, n, body, (long long)last_at, (long long)last_at,
	    (long long)last_at);
	exec(f->s, sql);
	sqlite3_free(sql);
	return n;
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->s = testdb_open("thread_query", f->dir, f->path);
	exec(f->s, fixture_sql);
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

/* The page for filter f; fails the test on error. */
static json_t *
page(struct fixture *fx, const struct tq_filter *f)
{
	char err[256];
	json_t *p;
	int bad;

	if ((p = thread_query_list(fx->s, f, &bad, err, sizeof(err))) == NULL)
		fail_msg("list: %s (bad %d)", err, bad);
	return p;
}

/* The ids of a page's items, as "1 2 3". */
static const char *
ids(json_t *p, char *buf, size_t len)
{
	json_t *it;
	size_t i, o = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(p, "items"), i, it)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld",
		    o > 0 ? " " : "",
		    (long long)json_integer_value(json_object_get(it, "id")));
	return buf;
}

/* The ids filter f lists, then frees the page. */
static const char *
list_ids(struct fixture *fx, struct tq_filter f, char *buf, size_t len)
{
	json_t *p = page(fx, &f);

	ids(p, buf, len);
	json_decref(p);
	return buf;
}

/* Threads: 1 RTD rss, 2 RJ1 care-opinion, 3 A81001, 4 RTD, 5 RJ1. */
static void
five(struct fixture *f)
{
	thread_add(f, 4, 1, "rss", NOW - 500, "The ward was spotless");
	thread_add(f, 5, 2, "care-opinion", NOW - 400, "Parking was awful");
	thread_add(f, 6, 3, "nhs-website", NOW - 300, "Kind receptionist");
	thread_add(f, 4, 1, "rss", NOW - 200, "Long wait in A&E, parking");
	thread_add(f, 5, 2, "care-opinion", NOW - 100, "Nurses were kind");
}

static void
test_filters(void **state)
{
	struct fixture *f = *state;
	char b[256];

	five(f);
	exec(f->s, "UPDATE threads SET status = 'resolved' WHERE id = 2;"
	    "UPDATE threads SET status = 'hidden' WHERE id = 4;"
	    "UPDATE threads SET severity = 'urgent', assignee_id = 1"
	    " WHERE id = 5;"
	    "INSERT INTO thread_tags VALUES (1, 'parking'), (5, 'parking'),"
	    " (5, 'staff');");
	/* Newest first; hidden only when asked for. */
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN },
	    b, sizeof(b)), "5 3 2 1");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .status = "hidden" }, b, sizeof(b)), "4");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .org = "rj1" }, b, sizeof(b)), "5 2");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .org = "NOPE" }, b, sizeof(b)), "");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .connector = "rss" }, b, sizeof(b)), "1");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .status = "resolved" }, b, sizeof(b)), "2");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .severity = "urgent" }, b, sizeof(b)), "5");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .tag = "parking" }, b, sizeof(b)), "5 1");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .assigned_me = 1 }, b, sizeof(b)), "5");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .assigned_me = 1 }, b, sizeof(b)), "");
	/* Words: all of them, any case, the last one a prefix. */
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .q = "PARKING" }, b, sizeof(b)), "2");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .q = "kin" }, b, sizeof(b)), "5 3");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .q = "nurses kind" }, b, sizeof(b)), "5");
	/* Query syntax in the words is only text. */
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .q = "\"kind OR NEAR(" }, b, sizeof(b)), "");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = ADMIN,
	    .org = "RJ1", .status = "resolved", .tag = "parking" }, b,
	    sizeof(b)), "");
}

static void
test_item_shape(void **state)
{
	struct fixture *f = *state;
	json_t *p, *it;

	five(f);
	exec(f->s, "UPDATE threads SET assignee_id = 3 WHERE id = 5;"
	    "INSERT INTO thread_tags VALUES (5, 'staff'), (5, 'nursing');");
	p = page(f, &(struct tq_filter){ .user_id = ADMIN, .limit = 1 });
	it = json_array_get(json_object_get(p, "items"), 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    it, "org"), "code")), "RJ1");
	assert_string_equal(json_string_value(json_object_get(it,
	    "snippet")), "Nurses were kind");
	assert_string_equal(json_string_value(json_object_get(it,
	    "severity")), "normal");
	/* An assignee with no name shows the address. */
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    it, "assignee"), "name")), "lead.rj1@nhs.net");
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(it, "tags"), 0)), "nursing");
	assert_true(json_is_true(json_object_get(it, "unread")));
	assert_string_equal(json_string_value(json_object_get(it,
	    "last_at")), "2026-05-01T11:58:20Z");
	assert_true(json_is_string(json_object_get(p, "next_cursor")));
	json_decref(p);
}

/* Each user's list is what access_check lets them read. */
static void
test_access(void **state)
{
	struct fixture *f = *state;
	int64_t org;
	char b[256];

	five(f);
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD },
	    b, sizeof(b)), "4 1");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD2 },
	    b, sizeof(b)), "5 2");
	/* The ICB's reviewer: its trust and its practice. */
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = REV },
	    b, sizeof(b)), "4 3 1");
	/* Asking for another trust by name gives nothing. */
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .org = "RJ1" }, b, sizeof(b)), "");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = 5 },
	    b, sizeof(b)), "");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = 99 },
	    b, sizeof(b)), "");
	/* By id: another trust's thread looks like no thread. */
	assert_int_equal(thread_query_readable(f->s, LEAD, 1, &org), 1);
	assert_int_equal(org, 4);
	assert_int_equal(thread_query_readable(f->s, LEAD, 2, &org), 0);
	assert_int_equal(thread_query_readable(f->s, LEAD, 999, &org), 0);
	assert_int_equal(thread_query_readable(f->s, REV, 3, &org), 1);
	assert_int_equal(thread_query_readable(f->s, REV, 5, &org), 0);
}

/*
 * Pages of 4 over 19 threads, several sharing a time: every thread
 * once, in order, even with threads arriving between the pages: one
 * newer than the page boundary waits for a fresh first page, one
 * older is met in its place; nothing is seen twice or skipped.
 */
static void
test_cursor_pages(void **state)
{
	struct fixture *f = *state;
	struct tq_filter flt = { .user_id = ADMIN, .limit = 4 };
	char seen[64] = { 0 }, cursor[64] = "", b[256];
	int64_t prev_at = INT64_MAX, prev_id = INT64_MAX, at, id;
	json_t *p, *it;
	size_t i;
	int k, pages = 0, total = 0;

	for (k = 1; k <= 19; k++)
		thread_add(f, k % 2 ? 4 : 5, k % 2 ? 1 : 2, "rss",
		    NOW - 1000 + (k / 3) * 10, "x");
	do {
		flt.cursor = cursor[0] != '\0' ? cursor : NULL;
		p = page(f, &flt);
		json_array_foreach(json_object_get(p, "items"), i, it) {
			id = json_integer_value(json_object_get(it, "id"));
			at = one(f->s, sqlite3_snprintf(sizeof(b), b,
			    "SELECT last_at FROM threads WHERE id = %lld",
			    (long long)id));
			assert_true(at < prev_at || (at == prev_at &&
			    id < prev_id));
			prev_at = at;
			prev_id = id;
			assert_true(id >= 1 && id <= 21);
			assert_int_equal(seen[id], 0);
			seen[id] = 1;
			total++;
		}
		if (pages++ == 1) {
			thread_add(f, 4, 1, "rss", NOW, "late");
			thread_add(f, 5, 2, "rss", NOW - 990, "late");
		}
		cursor[0] = '\0';
		if (json_is_string(json_object_get(p, "next_cursor")))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(json_object_get(p,
			    "next_cursor")));
		json_decref(p);
	} while (cursor[0] != '\0');
	assert_int_equal(total, 20);
	assert_int_equal(pages, 5);
	assert_int_equal(seen[20], 0);
	assert_int_equal(seen[21], 1);
}

static const char *prepared(struct store *, const char *, const char *,
    const char *);

/* The ids of every page of f, one after the other, as "1 2 3". */
static const char *
walk(struct fixture *fx, struct tq_filter f, char *buf, size_t len)
{
	char cursor[64] = "", one_page[512];
	size_t o = 0;
	json_t *p;

	buf[0] = '\0';
	do {
		f.cursor = cursor[0] != '\0' ? cursor : NULL;
		p = page(fx, &f);
		ids(p, one_page, sizeof(one_page));
		if (one_page[0] != '\0')
			o += (size_t)snprintf(buf + o, len - o, "%s%s",
			    o > 0 ? " " : "", one_page);
		cursor[0] = '\0';
		if (json_is_string(json_object_get(p, "next_cursor")))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(json_object_get(p,
			    "next_cursor")));
		json_decref(p);
	} while (cursor[0] != '\0');
	return buf;
}

/* What SQL lists, as "1 2 3". */
static const char *
sql_ids(struct store *s, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *q;
	size_t o = 0;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL),
	    SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		o += (size_t)snprintf(buf + o, len - o, "%s%lld",
		    o > 0 ? " " : "", (long long)sqlite3_column_int64(q, 0));
	sqlite3_finalize(q);
	return buf;
}

/*
 * A reviewer's inbox over two organisations, one busy and one quiet,
 * is paged through the floor (tq_floor): the same threads in the same
 * order as a plain sort of everything they may read, with or without
 * a status, whatever the page size.
 */
static void
test_many_orgs_pages(void **state)
{
	struct fixture *f = *state;
	char got[2048], want[2048];
	int k, limit;

	for (k = 0; k < 40; k++)
		thread_add(f, k % 5 == 0 ? 6 : k % 7 == 0 ? 5 : 4,
		    k % 5 == 0 ? 3 : k % 7 == 0 ? 2 : 1, "rss",
		    NOW - 5000 + (k * 37) % 900, "x");
	exec(f->s, "UPDATE threads SET status = 'hidden' WHERE id % 9 = 0;"
	    "UPDATE threads SET status = 'open' WHERE id % 4 = 0;");
	sql_ids(f->s, "SELECT id FROM threads WHERE org_id IN (4, 6) AND"
	    " status <> 'hidden' ORDER BY last_at DESC, id DESC", want,
	    sizeof(want));
	for (limit = 1; limit <= 9; limit += 4)
		assert_string_equal(walk(f, (struct tq_filter){
		    .user_id = REV, .limit = limit }, got, sizeof(got)), want);
	sql_ids(f->s, "SELECT id FROM threads WHERE org_id IN (4, 6) AND"
	    " status = 'open' ORDER BY last_at DESC, id DESC", want,
	    sizeof(want));
	assert_string_equal(walk(f, (struct tq_filter){ .user_id = REV,
	    .limit = 2, .status = "open" }, got, sizeof(got)), want);
	/* The floor was used. */
	prepared(f->s, "t.last_at >= ?11", "ORDER BY", NULL);
}

static void
test_cursor_tampered(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = { "!!!", "MTc3NzYzNTgwMC4", "eA",
	    "MTc3NzYzNTgwMC4w", "LTEuMw", "MTIzLjQ1Ng==", "" };
	char c[48], err[256];
	int64_t at, id;
	json_t *p;
	size_t i;
	int badflag;

	thread_query_cursor(1777635800, 42, c);
	assert_int_equal(thread_query_cursor_parse(c, &at, &id), 0);
	assert_int_equal(at, 1777635800);
	assert_int_equal(id, 42);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(thread_query_cursor_parse(bad[i], &at, &id),
		    -1);
	five(f);
	p = thread_query_list(f->s, &(struct tq_filter){ .user_id = ADMIN,
	    .cursor = "not*a*cursor" }, &badflag, err, sizeof(err));
	assert_null(p);
	assert_int_equal(badflag, 1);
	assert_non_null(strstr(err, "cursor"));
	p = thread_query_list(f->s, &(struct tq_filter){ .user_id = ADMIN,
	    .status = "bogus" }, &badflag, err, sizeof(err));
	assert_null(p);
	assert_int_equal(badflag, 1);
	p = thread_query_list(f->s, &(struct tq_filter){ .user_id = ADMIN,
	    .q = "   " }, &badflag, err, sizeof(err));
	assert_null(p);
	assert_int_equal(badflag, 1);
}

static void
test_unread(void **state)
{
	struct fixture *f = *state;
	char b[256];
	json_t *t;

	five(f);
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .unread = 1 }, b, sizeof(b)), "4 1");
	assert_int_equal(reads_mark(f->s, 4, LEAD, NOW), 0);
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .unread = 1 }, b, sizeof(b)), "1");
	/* Another user's read changes nothing for the lead. */
	assert_int_equal(reads_mark(f->s, 1, ADMIN, NOW), 0);
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .unread = 1 }, b, sizeof(b)), "1");
	/* A new message makes it unread again. */
	exec(f->s, "UPDATE threads SET last_at = 1777636900 WHERE id = 4");
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .unread = 1 }, b, sizeof(b)), "4 1");
	assert_int_equal(reads_mark(f->s, 4, LEAD, NOW + 200), 0);
	/* An older read never moves the time back. */
	assert_int_equal(reads_mark(f->s, 4, LEAD, NOW), 0);
	assert_int_equal(one(f->s, "SELECT read_at FROM reads WHERE"
	    " thread_id = 4 AND user_id = 2"), NOW + 200);
	t = thread_query_get(f->s, LEAD, 4);
	assert_non_null(t);
	assert_true(json_is_false(json_object_get(t, "unread")));
	assert_int_equal(json_array_size(json_object_get(t, "read_by")), 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(t, "read_by"), 0), "user"),
	    "name")), "Lee Lead");
	assert_int_equal(json_array_size(json_object_get(t, "items")), 1);
	json_decref(t);
	assert_int_equal(reads_unmark(f->s, 4, LEAD), 0);
	assert_string_equal(list_ids(f, (struct tq_filter){ .user_id = LEAD,
	    .unread = 1 }, b, sizeof(b)), "4 1");
}

/* The plan of sql, lines joined by " / ". */
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
	while (sqlite3_step(st) == SQLITE_ROW)
		o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s / ",
		    sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
}

/*
 * The page's ids come from an index walk with no sort and no scan of
 * threads; only the page itself (after "SCAN pg") may be sorted.
 * Cuts plan at the page.
 */
static void
page_plan(char *plan)
{
	char *outer = strstr(plan, "SCAN pg");

	assert_non_null(strstr(plan, "pg / "));
	assert_non_null(outer);
	*outer = '\0';
	if (strstr(plan, "TEMP B-TREE FOR ORDER BY") != NULL ||
	    strstr(plan, "SCAN t ") != NULL)
		fail_msg("the page is sorted or scanned: %s", plan);
}

/* The text of the prepared statement holding every one of needles. */
static const char *
prepared(struct store *s, const char *a, const char *b, const char *c)
{
	sqlite3_stmt *st = NULL;
	const char *sql;

	while ((st = sqlite3_next_stmt(store_db(s), st)) != NULL) {
		sql = sqlite3_sql(st);
		if (strstr(sql, a) != NULL && strstr(sql, b) != NULL &&
		    (c == NULL || strstr(sql, c) != NULL))
			return sql;
	}
	fail_msg("no statement with %s and %s", a, b);
	return NULL;
}

/*
 * The organisation's list, for an admin and for a lead (whose list is
 * also limited to what they may read), walks threads_org_last in
 * order: no scan of threads, no sort; a page of a search or a tag
 * starts from its own index.
 */
static void
test_query_plans(void **state)
{
	struct fixture *f = *state;
	char plan[4096], b[64], c[48];
	const char *sql;

	five(f);
	thread_query_cursor(NOW, 99, c);
	list_ids(f, (struct tq_filter){ .user_id = ADMIN, .org = "RTD" }, b,
	    sizeof(b));
	list_ids(f, (struct tq_filter){ .user_id = LEAD, .org = "RTD",
	    .cursor = c }, b, sizeof(b));
	list_ids(f, (struct tq_filter){ .user_id = LEAD, .tag = "x" }, b,
	    sizeof(b));
	sql = prepared(f->s, "t.org_id = ?2", "ORDER BY t.last_at",
	    "WHERE t.status <> 'hidden' AND t.org_id = ?2 ORDER");
	plan_of(f->s, sql, plan, sizeof(plan));
	page_plan(plan);
	assert_non_null(strstr(plan, "USING INDEX threads_org_last (org_id=?)"));
	sql = prepared(f->s, "t.org_id = ?2", "(t.last_at, t.id) < (?8, ?9)",
	    "t.org_id IN (");
	plan_of(f->s, sql, plan, sizeof(plan));
	page_plan(plan);
	assert_non_null(strstr(plan, "USING INDEX threads_org_last (org_id=? "
	    "AND last_at<?)"));
	sql = prepared(f->s, "FROM thread_tags WHERE tag = ?6", "ORDER BY",
	    NULL);
	plan_of(f->s, sql, plan, sizeof(plan));
	assert_non_null(strstr(plan, "thread_tags_tag (tag=?)"));
}

/* The audit rows of an object, as "action detail; ...". */
static const char *
audits(struct store *s, const char *object, char *buf, size_t len)
{
	sqlite3_stmt *q;
	size_t o = 0;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(s), "SELECT user_id,"
	    " action, detail FROM audit_log WHERE object = ?1 ORDER BY id", -1,
	    &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, object, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		o += (size_t)snprintf(buf + o, o < len ? len - o : 0,
		    "%d %s %s; ", sqlite3_column_int(q, 0),
		    sqlite3_column_text(q, 1), sqlite3_column_text(q, 2));
	sqlite3_finalize(q);
	return buf;
}

static void
test_actions(void **state)
{
	struct fixture *f = *state;
	const char *tags[] = { "  Waiting  Times ", "parking", "PARKING",
	    "Äpfel" };
	const char *bad_tags[] = { "ok", "bad\001tag" };
	char err[256], b[2048];

	five(f);
	assert_int_equal(thread_set_status(f->s, 1, "in_progress", LEAD, NOW,
	    err, sizeof(err)), TA_OK);
	assert_int_equal(thread_set_status(f->s, 1, "hidden", LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_int_equal(thread_set_status(f->s, 1, "done", LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_int_equal(thread_set_status(f->s, 77, "open", LEAD, NOW, err,
	    sizeof(err)), TA_MISSING);
	assert_int_equal(thread_set_severity(f->s, 1, "high", LEAD, NOW, err,
	    sizeof(err)), TA_OK);
	assert_int_equal(thread_set_severity(f->s, 1, "HIGH", LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	/* An assignee must be able to read the thread. */
	assert_int_equal(thread_assign(f->s, 1, LEAD2, LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_non_null(strstr(err, "cannot read"));
	assert_int_equal(thread_assign(f->s, 1, 5, LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_int_equal(thread_assign(f->s, 1, REV, LEAD, NOW, err,
	    sizeof(err)), TA_OK);
	assert_int_equal(thread_assign(f->s, 1, 0, LEAD, NOW, err,
	    sizeof(err)), TA_OK);
	assert_int_equal(one(f->s, "SELECT assignee_id IS NULL FROM threads"
	    " WHERE id = 1"), 1);
	assert_int_equal(thread_set_tags(f->s, 1, tags, 4, LEAD, NOW, err,
	    sizeof(err)), TA_OK);
	assert_int_equal(one(f->s, "SELECT count(*) FROM thread_tags WHERE"
	    " thread_id = 1 AND tag IN ('waiting times', 'parking',"
	    " 'Äpfel')"), 3);
	assert_int_equal(one(f->s, "SELECT count(*) FROM thread_tags WHERE"
	    " thread_id = 1"), 3);
	/* A bad tag changes nothing. */
	assert_int_equal(thread_set_tags(f->s, 1, bad_tags, 2, LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_int_equal(one(f->s, "SELECT count(*) FROM thread_tags WHERE"
	    " thread_id = 1"), 3);
	assert_int_equal(thread_hide(f->s, 1, "  ", LEAD, NOW, err,
	    sizeof(err)), TA_INVALID);
	assert_int_equal(thread_hide(f->s, 1, "Abusive to named staff", LEAD,
	    NOW, err, sizeof(err)), TA_OK);
	assert_int_equal(thread_hide(f->s, 1, "again", LEAD, NOW, err,
	    sizeof(err)), TA_CONFLICT);
	assert_int_equal(thread_set_status(f->s, 1, "open", LEAD, NOW, err,
	    sizeof(err)), TA_CONFLICT);
	assert_int_equal(thread_unhide(f->s, 1, LEAD, NOW, err, sizeof(err)),
	    TA_OK);
	assert_int_equal(thread_unhide(f->s, 1, LEAD, NOW, err, sizeof(err)),
	    TA_CONFLICT);
	assert_int_equal(one(f->s, "SELECT status = 'in_progress' AND"
	    " hidden_reason IS NULL FROM threads WHERE id = 1"), 1);
	/* Every change audited as the user; no message text in it. */
	audits(f->s, "thread:1", b, sizeof(b));
	assert_string_equal(b,
	    "2 thread.status {\"from\":\"new\",\"to\":\"in_progress\"}; "
	    "2 thread.severity {\"from\":\"normal\",\"to\":\"high\"}; "
	    "2 thread.assign {\"from\":null,\"to\":4}; "
	    "2 thread.assign {\"from\":4,\"to\":null}; "
	    "2 thread.tags {\"from\":[],\"to\":[\"parking\",\"waiting times\","
	    "\"Äpfel\"]}; "
	    "2 thread.hide {\"from\":\"in_progress\",\"reason\":"
	    "\"Abusive to named staff\"}; "
	    "2 thread.unhide {\"to\":\"in_progress\"}; ");
	assert_null(strstr(b, "spotless"));
}

static void
test_tag_normal(void **state)
{
	char out[TA_TAG_LEN + 1], long_tag[64];

	(void)state;
	assert_int_equal(thread_tag_normal(" A\tB  c ", out), 0);
	assert_string_equal(out, "a b c");
	assert_int_equal(thread_tag_normal("", out), -1);
	assert_int_equal(thread_tag_normal(" \t ", out), -1);
	assert_int_equal(thread_tag_normal("\xff\xfe", out), -1);
	assert_int_equal(thread_tag_normal("a\x7f", out), -1);
	memset(long_tag, 'x', TA_TAG_LEN);
	long_tag[TA_TAG_LEN] = '\0';
	assert_int_equal(thread_tag_normal(long_tag, out), 0);
	long_tag[TA_TAG_LEN] = 'x';
	long_tag[TA_TAG_LEN + 1] = '\0';
	assert_int_equal(thread_tag_normal(long_tag, out), -1);
}

static void
test_counts_and_stats(void **state)
{
	struct fixture *f = *state;
	json_t *c, *st, *o;

	five(f);
	exec(f->s, "UPDATE threads SET status = 'hidden' WHERE id = 4;"
	    "UPDATE threads SET first_response_at = first_at + 60 WHERE id = 1;"
	    "UPDATE threads SET first_response_at = first_at + 600"
	    " WHERE id = 2;"
	    "UPDATE threads SET first_response_at = first_at + 100"
	    " WHERE id = 3;");
	assert_int_equal(reads_mark(f->s, 1, LEAD, NOW), 0);
	c = thread_query_counts(f->s, LEAD);
	assert_int_equal(json_array_size(json_object_get(c, "orgs")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(c, "orgs"), 0), "total")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(c, "orgs"), 0), "unread")), 0);
	json_decref(c);
	/* A read before the last message does not count; one after does. */
	assert_int_equal(reads_mark(f->s, 2, ADMIN, NOW - 450), 0);
	assert_int_equal(reads_mark(f->s, 5, ADMIN, NOW), 0);
	c = thread_query_counts(f->s, ADMIN);
	assert_int_equal(json_array_size(json_object_get(c, "orgs")), 3);
	assert_int_equal(json_array_size(json_object_get(c, "connectors")), 3);
	/* By name: Guy's (RJ1), Newcastle (RTD), The Densham (A81001). */
	o = json_array_get(json_object_get(c, "orgs"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "code")),
	    "RJ1");
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "unread")), 1);
	o = json_array_get(json_object_get(c, "connectors"), 0);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "care-opinion");
	assert_null(json_object_get(o, "code"));
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 2);
	assert_int_equal(json_integer_value(json_object_get(o, "unread")), 1);
	o = json_array_get(json_object_get(c, "connectors"), 2);
	assert_string_equal(json_string_value(json_object_get(o, "name")),
	    "rss");
	/* Thread 4 is hidden: RTD's rss counts thread 1 only. */
	assert_int_equal(json_integer_value(json_object_get(o, "total")), 1);
	json_decref(c);
	st = stats_json(f->s, ADMIN, NULL, NOW);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "threads"), "new")), 4);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(
	    st, "threads"), "hidden")), 1);
	assert_int_equal(json_integer_value(json_object_get(st, "unread")), 3);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "messages_7d")), 5);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "median_first_response_s")), 100);
	json_decref(st);
	st = stats_json(f->s, LEAD, NULL, NOW);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "median_first_response_s")), 60);
	assert_int_equal(json_integer_value(json_object_get(st, "unread")), 0);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "messages_7d")), 2);
	json_decref(st);
	/* Another trust by name: nothing, not its figures. */
	st = stats_json(f->s, LEAD, "RJ1", NOW);
	assert_int_equal(json_integer_value(json_object_get(st,
	    "messages_7d")), 0);
	assert_true(json_is_null(json_object_get(st,
	    "median_first_response_s")));
	json_decref(st);
}

static void
test_sources_view(void **state)
{
	struct fixture *f = *state;
	char err[256];
	json_t *all, *s;

	all = sources_json_for(f->s, ADMIN, NULL, 0);
	assert_int_equal(json_array_size(all), 3);
	s = json_array_get(all, 1);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    s, "settings"), "subscription_key")), "***");
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    s, "settings"), "nacs")), "RJ1");
	assert_string_equal(json_string_value(json_object_get(s, "health")),
	    "new");
	json_decref(all);
	/* A lead sees their own; the ICB reviewer its trust and practice. */
	all = sources_json_for(f->s, LEAD, NULL, 0);
	assert_int_equal(json_array_size(all), 1);
	json_decref(all);
	all = sources_json_for(f->s, REV, NULL, 0);
	assert_int_equal(json_array_size(all), 2);
	json_decref(all);
	all = sources_json_for(f->s, LEAD, "RJ1", 0);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	exec(f->s, "UPDATE sources SET failures = 3, last_error_at = 5"
	    " WHERE id = 1");
	assert_int_equal(sources_update(f->s, 1, NULL, 1, NOW, err,
	    sizeof(err)), 1);
	all = sources_json_for(f->s, ADMIN, NULL, 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    all, 0), "health")), "paused");
	json_decref(all);
	/* Un-pausing clears the failures and makes it due now. */
	assert_int_equal(sources_update(f->s, 1, NULL, 0, NOW, err,
	    sizeof(err)), 1);
	assert_int_equal(one(f->s, "SELECT paused + failures FROM sources"
	    " WHERE id = 1"), 0);
	assert_int_equal(one(f->s, "SELECT next_poll FROM sources WHERE"
	    " id = 1"), NOW);
	assert_int_equal(sources_update(f->s, 1, "[1]", -1, NOW, err,
	    sizeof(err)), -1);
	assert_int_equal(sources_update(f->s, 99, NULL, 1, NOW, err,
	    sizeof(err)), 0);
	/* The same channel twice is found by its exact settings. */
	assert_int_equal(sources_same(f->s, "rj1", "care-opinion",
	    "{\"nacs\":\"RJ1\",\"subscription_key\":\"s3cret\"}"), 2);
	assert_int_equal(sources_same(f->s, "RJ1", "care-opinion",
	    "{\"nacs\":\"RJ1\"}"), 0);
	assert_int_equal(sources_same(f->s, "RTD", "care-opinion",
	    "{\"nacs\":\"RJ1\",\"subscription_key\":\"s3cret\"}"), 0);
}

static void
test_audit_pages(void **state)
{
	struct fixture *f = *state;
	char err[256], cursor[64] = "", plan[2048];
	json_t *p;
	int bad, k, total = 0, pages = 0;

	five(f);
	for (k = 0; k < 7; k++)
		thread_set_severity(f->s, 1 + k % 2, k % 2 ? "low" : "high",
		    LEAD, NOW + k / 2, err, sizeof(err));
	do {
		p = audit_list_json(f->s, NULL, 3, cursor[0] ? cursor : NULL,
		    &bad, err, sizeof(err));
		assert_non_null(p);
		total += (int)json_array_size(json_object_get(p, "items"));
		pages++;
		cursor[0] = '\0';
		if (json_is_string(json_object_get(p, "next_cursor")))
			snprintf(cursor, sizeof(cursor), "%s",
			    json_string_value(json_object_get(p,
			    "next_cursor")));
		json_decref(p);
	} while (cursor[0] != '\0');
	assert_int_equal(total, 7);
	assert_int_equal(pages, 3);
	p = audit_list_json(f->s, "thread:2", 50, NULL, &bad, err,
	    sizeof(err));
	assert_int_equal(json_array_size(json_object_get(p, "items")), 3);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    json_array_get(json_object_get(p, "items"), 0), "user"), "name")),
	    "Lee Lead");
	json_decref(p);
	assert_null(audit_list_json(f->s, NULL, 3, "zz*", &bad, err,
	    sizeof(err)));
	assert_int_equal(bad, 1);
	/* Both orders are index walks, with or without an object. */
	p = audit_list_json(f->s, "thread:2", 1, cursor[0] ? cursor : NULL,
	    &bad, err, sizeof(err));
	json_decref(p);
	plan_of(f->s, prepared(f->s, "FROM audit_log a", "a.object = ?1",
	    NULL), plan, sizeof(plan));
	assert_non_null(strstr(plan, "USING INDEX audit_log_object (object=?)"));
	assert_null(strstr(plan, "TEMP B-TREE"));
	plan_of(f->s, prepared(f->s, "FROM audit_log a", "WHERE ?1 IS NULL",
	    NULL), plan, sizeof(plan));
	assert_non_null(strstr(plan, "audit_log_at"));
	assert_null(strstr(plan, "TEMP B-TREE"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_item_shape, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cursor_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_many_orgs_pages, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_cursor_tampered, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_unread, setup, teardown),
		cmocka_unit_test_setup_teardown(test_query_plans, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_actions, setup, teardown),
		cmocka_unit_test(test_tag_normal),
		cmocka_unit_test_setup_teardown(test_counts_and_stats, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sources_view, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_audit_pages, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
