/* store: the SQLite database: open, migrate, prepared statements, transactions. */
#ifndef HEARD_STORE_H
#define HEARD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct sqlite3;
struct sqlite3_stmt;

/*
 * Opens (creating if need be) the database, turns on WAL and foreign
 * keys, and applies every migration newer than PRAGMA user_version.
 * NULL on failure with a one-line reason in err.
 */
struct store	*store_open(const char *path, char *err, size_t errlen);
void		 store_close(struct store *);
/* The handle, for the inbox's own modules only. Borrowed. */
struct sqlite3	*store_db(struct store *);
/* Schema version after migrations. */
int		 store_version(struct store *);
/* Last error text of the connection, borrowed. */
const char	*store_errmsg(struct store *);

/* Number of migrations this build knows: the version it migrates to. */
int		 store_schema_version(void);

/*
 * The statement for sql, prepared on first use and kept for the life
 * of the connection; returned reset with its bindings cleared. sql
 * must have static storage: its address is the cache key. Borrowed
 * (never finalize it); NULL if it does not prepare (store_errmsg).
 */
struct sqlite3_stmt *store_stmt(struct store *, const char *sql);
/* BEGIN IMMEDIATE, so a batch never fails half-way on SQLITE_BUSY. */
int		 store_begin(struct store *);
int		 store_commit(struct store *);
/* Safe to call after a failed statement or commit. */
void		 store_rollback(struct store *);

/* Binds s as text, or NULL when s is NULL. Returns an SQLite code. */
int		 store_bind_text(struct sqlite3_stmt *, int, const char *);
/* Binds v, or NULL when v is 0 ("never", "unknown"). */
int		 store_bind_time(struct sqlite3_stmt *, int, int64_t);
/* Column i as text, borrowed until the next step; NULL if NULL. */
const char	*store_col_text(struct sqlite3_stmt *, int);
/* Column i as a new string (xstrdup), or NULL if NULL. */
char		*store_col_strdup(struct sqlite3_stmt *, int);

#endif
