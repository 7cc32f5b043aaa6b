/* store: the SQLite database: open, migrate, prepared statements, transactions. */
#ifndef HEARD_STORE_H
#define HEARD_STORE_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct sqlite3;

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

#endif
