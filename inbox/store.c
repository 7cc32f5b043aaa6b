/* store: the SQLite database: open, migrate, statements, transactions. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "migrations.h"
#include "xmalloc.h"

#define STORE_BUSY_MS	5000

/* A statement prepared once, found again by the address of its SQL. */
struct store_cached {
	const char	*sql;	/* borrowed: static storage */
	sqlite3_stmt	*stmt;	/* owned */
};

struct store {
	sqlite3			*db;		/* owned */
	struct store_cached	*cache;		/* owned array */
	size_t			 ncache;
	size_t			 capcache;
	int			 version;
};

/* Runs sql that returns no rows; -1 with the reason in err. */
static int
store_exec(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	snprintf(err, errlen, "%s", msg != NULL ? msg :
	    sqlite3_errmsg(s->db));
	sqlite3_free(msg);
	return -1;
}

/* An integer-valued PRAGMA (or any one-value query); -1 on error. */
static int
store_query_int(struct store *s, const char *sql, int *out)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * The journal mode, switched to WAL when asked; SQLITE_BUSY while
 * another process holds the file (that switch and the first read of a
 * file being created do not wait on the busy handler).
 */
static int
store_journal_mode(struct store *s, int to_wal, char *mode, size_t len)
{
	sqlite3_stmt *st;
	int rc;

	rc = sqlite3_prepare_v2(s->db, to_wal ? "PRAGMA journal_mode = WAL" :
	    "PRAGMA journal_mode", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		snprintf(mode, len, "%s", sqlite3_column_text(st, 0) != NULL ?
		    (const char *)sqlite3_column_text(st, 0) : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * WAL on, waiting up to STORE_BUSY_MS for a daemon that is creating or
 * migrating the same file (a CLI started beside it must not fail).
 * Asks first: a database already in WAL needs no switch.
 */
static int
store_want_wal(struct store *s, char *mode, size_t len)
{
	int waited, rc = SQLITE_BUSY;

	for (waited = 0; waited <= STORE_BUSY_MS; waited += 20) {
		rc = store_journal_mode(s, 0, mode, len);
		if (rc == SQLITE_OK && strcmp(mode, "wal") != 0)
			rc = store_journal_mode(s, 1, mode, len);
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		sqlite3_sleep(20);
	}
	return rc;
}

/*
 * WAL lets the API read while the loop writes; NORMAL is durable
 * enough under WAL (a power cut may lose the last batch, which is
 * then fetched again, never a corrupt file).
 */
static int
store_pragmas(struct store *s, char *err, size_t errlen)
{
	char mode[32];
	int fk = 0;

	if (store_want_wal(s, mode, sizeof(mode)) != SQLITE_OK) {
		snprintf(err, errlen, "journal_mode: %s",
		    sqlite3_errmsg(s->db));
		return -1;
	}
	/* An in-memory database (tests) keeps "memory"; a file must be WAL. */
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		snprintf(err, errlen, "cannot turn on WAL");
		return -1;
	}
	if (store_exec(s, "PRAGMA foreign_keys = ON;"
	    "PRAGMA synchronous = NORMAL;", err, errlen) == -1)
		return -1;
	if (store_query_int(s, "PRAGMA foreign_keys", &fk) == -1 || fk != 1) {
		snprintf(err, errlen, "SQLite without foreign keys");
		return -1;
	}
	return 0;
}

/*
 * Applies migration n in its own transaction with the version bump.
 * The version is read again inside the write lock, so two processes
 * starting at once never apply a step twice.
 */
static int
store_migrate_one(struct store *s, int n, char *err, size_t errlen)
{
	char bump[64];
	int v;

	if (store_exec(s, "BEGIN IMMEDIATE", err, errlen) == -1)
		return -1;
	if (store_query_int(s, "PRAGMA user_version", &v) == -1)
		goto fail;
	if (v >= n) {
		s->version = v;
		return store_exec(s, "COMMIT", err, errlen);
	}
	snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", n);
	if (store_exec(s, migrations_sql(n), err, errlen) == -1 ||
	    store_exec(s, bump, err, errlen) == -1 ||
	    store_exec(s, "COMMIT", err, errlen) == -1) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	s->version = n;
	return 0;
fail:
	snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

static int
store_migrate(struct store *s, char *err, size_t errlen)
{
	char why[200];
	int n, last = migrations_count();

	if (store_query_int(s, "PRAGMA user_version", &s->version) == -1) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(s->db));
		return -1;
	}
	if (s->version > last) {
		snprintf(err, errlen, "database schema version %d is newer "
		    "than this heard knows (%d)", s->version, last);
		return -1;
	}
	for (n = s->version + 1; n <= last; n++) {
		if (store_migrate_one(s, n, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "migration %d: %s", n, why);
			return -1;
		}
	}
	return 0;
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;
	char why[320];

	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "out of memory");
		store_close(s);
		return NULL;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, STORE_BUSY_MS);
	if (store_pragmas(s, why, sizeof(why)) == -1 ||
	    store_migrate(s, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "%s: %s", path, why);
		store_close(s);
		return NULL;
	}
	return s;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].stmt);
	free(s->cache);
	sqlite3_close(s->db);
	free(s);
}

struct sqlite3 *
store_db(struct store *s)
{
	return s->db;
}

int
store_version(struct store *s)
{
	return s->version;
}

const char *
store_errmsg(struct store *s)
{
	return sqlite3_errmsg(s->db);
}

int
store_schema_version(void)
{
	return migrations_count();
}

/*
 * A few dozen statements at most, so a linear search over pointers
 * costs less than hashing the SQL text would.
 */
sqlite3_stmt *
store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	size_t i;

	for (i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			st = s->cache[i].stmt;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL) != SQLITE_OK)
		return NULL;
	if (s->ncache == s->capcache) {
		s->capcache = s->capcache ? s->capcache * 2 : 32;
		s->cache = xrealloc(s->cache,
		    s->capcache * sizeof(s->cache[0]));
	}
	s->cache[s->ncache].sql = sql;
	s->cache[s->ncache].stmt = st;
	s->ncache++;
	return st;
}

static int
store_simple(struct store *s, const char *sql)
{
	sqlite3_stmt *st;
	int rc;

	if ((st = store_stmt(s, sql)) == NULL)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
store_begin(struct store *s)
{
	return store_simple(s, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *s)
{
	return store_simple(s, "COMMIT");
}

void
store_rollback(struct store *s)
{
	/* After some errors SQLite has already rolled back by itself. */
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
}

int
store_bind_time(sqlite3_stmt *st, int i, int64_t v)
{
	if (v == 0)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_int64(st, i, v);
}

const char *
store_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

char *
store_col_strdup(sqlite3_stmt *st, int i)
{
	const char *v = store_col_text(st, i);

	return v != NULL ? xstrdup(v) : NULL;
}
