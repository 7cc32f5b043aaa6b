/* test_store: open, migrations, pragmas, statement cache, constraints. */
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

#include "store.h"

struct fixture {
	char		 dir[64];
	char		 path[96];
	struct store	*s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	snprintf(f->dir, sizeof(f->dir), "/tmp/heard-test-store.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/heard.db", f->dir);
	f->s = store_open(f->path, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("store_open: %s", err);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	store_close(f->s);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static int
query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_migrations_idempotent(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int i;

	assert_true(store_schema_version() >= 1);
	assert_int_equal(store_version(f->s), store_schema_version());
	assert_int_equal(query_int(f->s, "PRAGMA user_version"),
	    store_schema_version());
	/* Opening again (twice) applies nothing and keeps the version. */
	for (i = 0; i < 2; i++) {
		store_close(f->s);
		f->s = store_open(f->path, err, sizeof(err));
		if (f->s == NULL)
			fail_msg("reopen: %s", err);
		assert_int_equal(store_version(f->s), store_schema_version());
		assert_int_equal(query_int(f->s, "PRAGMA user_version"),
		    store_schema_version());
	}
}

static void
test_pragmas(void **state)
{
	struct fixture *f = *state;
	sqlite3_stmt *st;

	assert_int_equal(query_int(f->s, "PRAGMA foreign_keys"), 1);
	/* synchronous NORMAL is 1 */
	assert_int_equal(query_int(f->s, "PRAGMA synchronous"), 1);
	assert_true(query_int(f->s, "PRAGMA busy_timeout") > 0);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
	    "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
}

static void
test_schema_objects(void **state)
{
	static const struct {
		const char *type;
		const char *name;
	} want[] = {
		{ "table", "organisations" }, { "table", "sources" },
		{ "table", "threads" }, { "table", "messages" },
		{ "table", "reads" }, { "table", "users" },
		{ "table", "memberships" }, { "table", "notification_outbox" },
		{ "table", "reply_outbox" }, { "table", "tasks" },
		{ "table", "audit_log" }, { "table", "messages_fts" },
		{ "table", "organisations_fts" },
		{ "index", "threads_org_last" },
		{ "index", "messages_thread" },
		{ "trigger", "messages_ai" }, { "trigger", "messages_au" },
		{ "trigger", "messages_ad" },
	};
	struct fixture *f = *state;
	char sql[256];
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM sqlite_schema"
		    " WHERE type = '%s' AND name = '%s'", want[i].type,
		    want[i].name);
		if (query_int(f->s, sql) != 1)
			fail_msg("missing %s %s", want[i].type, want[i].name);
	}
}

/*
 * Writing a parent row makes SQLite look for its children; without an
 * index leading with the child column, that is a scan of the child
 * table on every insert or delete.
 */
static void
test_foreign_keys_indexed(void **state)
{
	static const char sql[] =
	    "SELECT m.name || '.' || f.\"from\" FROM sqlite_schema m"
	    " JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'"
	    " AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il"
	    "  JOIN pragma_index_info(il.name) ii"
	    "  WHERE ii.seqno = 0 AND ii.name = f.\"from\""
	    "  AND NOT il.partial)";
	struct fixture *f = *state;
	sqlite3_stmt *st;
	int n = 0;

	assert_true(query_int(f->s, "SELECT count(*) FROM sqlite_schema m"
	    " JOIN pragma_foreign_key_list(m.name) WHERE m.type = 'table'")
	    > 20);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), sql, -1, &st,
	    NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW) {
		print_error("no index for %s\n", sqlite3_column_text(st, 0));
		n++;
	}
	sqlite3_finalize(st);
	assert_int_equal(n, 0);
}

static void
test_newer_schema_refused(void **state)
{
	struct fixture *f = *state;
	char sql[64], err[256];
	struct store *s2;

	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
	    store_schema_version() + 1);
	assert_int_equal(sqlite3_exec(store_db(f->s), sql, NULL, NULL, NULL),
	    SQLITE_OK);
	err[0] = '\0';
	s2 = store_open(f->path, err, sizeof(err));
	assert_null(s2);
	assert_non_null(strstr(err, "newer"));
}

static void
test_stmt_cache(void **state)
{
	static const char a[] = "SELECT 1";
	static const char b[] = "SELECT 2";
	struct fixture *f = *state;
	sqlite3_stmt *s1, *s2, *s3;

	s1 = store_stmt(f->s, a);
	s2 = store_stmt(f->s, b);
	assert_non_null(s1);
	assert_non_null(s2);
	assert_ptr_not_equal(s1, s2);
	/* Half-stepped, then asked for again: same statement, reset. */
	assert_int_equal(sqlite3_step(s1), SQLITE_ROW);
	s3 = store_stmt(f->s, a);
	assert_ptr_equal(s1, s3);
	assert_int_equal(sqlite3_step(s3), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s3, 0), 1);
	sqlite3_reset(s3);
	assert_null(store_stmt(f->s, "SELECT FROM WHERE"));
}

static void
test_transactions(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);

	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO users (email, role,"
	    " created_at) VALUES ('a@nhs.net', 'admin', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	store_rollback(f->s);
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM users"), 0);
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO users (email, role,"
	    " created_at) VALUES ('a@nhs.net', 'admin', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM users"), 1);
	/* A rollback outside a transaction is harmless. */
	store_rollback(f->s);
}

/* Rows the schema must refuse, each after the same valid base rows. */
static void
test_constraints(void **state)
{
	static const char base[] =
	    "INSERT INTO organisations (id, code, name, type, updated_at)"
	    " VALUES (1, 'RJ1', 'GUYS', 'trust', 1);"
	    "INSERT INTO sources (id, org_id, connector, created_at)"
	    " VALUES (1, 1, 'rss', 1);"
	    "INSERT INTO threads (id, org_id, source_id, connector,"
	    " thread_key, reference, first_at, last_at, created_at,"
	    " updated_at) VALUES (1, 1, 1, 'rss', 'k', 'H-AAAAAA', 1, 1, 1,"
	    " 1);";
	static const struct {
		const char *what;
		const char *sql;
	} bad[] = {
		{ "thread status", "INSERT INTO threads (org_id, connector,"
		    " thread_key, reference, status, first_at, last_at,"
		    " created_at, updated_at) VALUES (1, 'rss', 'k2', 'H-B',"
		    " 'bogus', 1, 1, 1, 1)" },
		{ "thread key per org and connector", "INSERT INTO threads"
		    " (org_id, connector, thread_key, reference, first_at,"
		    " last_at, created_at, updated_at) VALUES (1, 'rss', 'k',"
		    " 'H-C', 1, 1, 1, 1)" },
		{ "reference", "INSERT INTO threads (org_id, connector,"
		    " thread_key, reference, first_at, last_at, created_at,"
		    " updated_at) VALUES (1, 'rss', 'k3', 'H-AAAAAA', 1, 1, 1,"
		    " 1)" },
		{ "unknown organisation", "INSERT INTO sources (org_id,"
		    " connector, created_at) VALUES (99, 'rss', 1)" },
		{ "settings not JSON", "INSERT INTO sources (org_id,"
		    " connector, settings, created_at) VALUES (1, 'rss',"
		    " '{nope', 1)" },
		{ "direction", "INSERT INTO messages (thread_id, org_id,"
		    " connector, external_id, direction, created_at,"
		    " updated_at, first_seen_at, content_hash) VALUES (1, 1,"
		    " 'rss', 'x', 'sideways', 1, 1, 1, x'00')" },
		{ "rating", "INSERT INTO messages (thread_id, org_id,"
		    " connector, external_id, direction, rating, created_at,"
		    " updated_at, first_seen_at, content_hash) VALUES (1, 1,"
		    " 'rss', 'x', 'in', 6, 1, 1, 1, x'00')" },
		{ "user role", "INSERT INTO users (email, role, created_at)"
		    " VALUES ('b@nhs.net', 'god', 1)" },
		{ "reply status", "INSERT INTO reply_outbox (thread_id, body,"
		    " via, status, idempotency_key, created_at, updated_at)"
		    " VALUES (1, 'hi', 'web', 'lost', 'k', 1, 1)" },
	};
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	size_t i;

	assert_int_equal(sqlite3_exec(db, base, NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (sqlite3_exec(db, bad[i].sql, NULL, NULL,
		    NULL) == SQLITE_OK)
			fail_msg("accepted a bad %s", bad[i].what);
	}
	/* The same external id for another organisation is a new row. */
	assert_int_equal(sqlite3_exec(db,
	    "INSERT INTO organisations (id, code, name, type, updated_at)"
	    " VALUES (2, 'RAL', 'FREE', 'trust', 1);"
	    "INSERT INTO threads (id, org_id, connector, thread_key,"
	    " reference, first_at, last_at, created_at, updated_at)"
	    " VALUES (2, 2, 'rss', 'k', 'H-DDDDDD', 1, 1, 1, 1);"
	    "INSERT INTO messages (thread_id, org_id, connector, external_id,"
	    " direction, created_at, updated_at, first_seen_at, content_hash)"
	    " VALUES (1, 1, 'rss', 'x', 'in', 1, 1, 1, x'00'),"
	    " (2, 2, 'rss', 'x', 'in', 1, 1, 1, x'00');", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_not_equal(sqlite3_exec(db, "INSERT INTO messages"
	    " (thread_id, org_id, connector, external_id, direction,"
	    " created_at, updated_at, first_seen_at, content_hash) VALUES"
	    " (1, 1, 'rss', 'x', 'in', 1, 1, 1, x'00')", NULL, NULL, NULL),
	    SQLITE_OK);
}

static void
test_messages_fts_follows(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db = store_db(f->s);
	static const char *const steps[] = {
	    "INSERT INTO organisations (id, code, name, type, updated_at)"
	    " VALUES (1, 'RJ1', 'GUYS', 'trust', 1)",
	    "INSERT INTO threads (id, org_id, connector, thread_key,"
	    " reference, first_at, last_at, created_at, updated_at)"
	    " VALUES (1, 1, 'rss', 'k', 'H-AAAAAA', 1, 1, 1, 1)",
	    "INSERT INTO messages (id, thread_id, org_id, connector,"
	    " external_id, direction, title, body, created_at, updated_at,"
	    " first_seen_at, content_hash) VALUES (1, 1, 1, 'rss', 'x', 'in',"
	    " 'Parking', 'the car park was full', 1, 1, 1, x'00')",
	};
	size_t i;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		assert_int_equal(sqlite3_exec(db, steps[i], NULL, NULL, NULL),
		    SQLITE_OK);
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM messages_fts"
	    " WHERE messages_fts MATCH 'car'"), 1);
	assert_int_equal(sqlite3_exec(db, "UPDATE messages SET body ="
	    " 'the nurses were kind' WHERE id = 1", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM messages_fts"
	    " WHERE messages_fts MATCH 'car'"), 0);
	assert_int_equal(query_int(f->s, "SELECT count(*) FROM messages_fts"
	    " WHERE messages_fts MATCH 'nurses'"), 1);
	/* The index holds what the table holds. */
	assert_int_equal(sqlite3_exec(db, "INSERT INTO messages_fts"
	    "(messages_fts, rank) VALUES ('integrity-check', 1)", NULL, NULL,
	    NULL), SQLITE_OK);
}

static void
test_open_fails_cleanly(void **state)
{
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_null(store_open("/nonexistent-dir/x/heard.db", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent-dir/x/heard.db"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrations_idempotent,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_pragmas, setup, teardown),
		cmocka_unit_test_setup_teardown(test_schema_objects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_foreign_keys_indexed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_stmt_cache, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_constraints, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_messages_fts_follows,
		    setup, teardown),
		cmocka_unit_test(test_open_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
