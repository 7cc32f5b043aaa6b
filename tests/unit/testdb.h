/* testdb: a fresh database in a folder of its own, for one unit test. */
#ifndef HEARD_TESTDB_H
#define HEARD_TESTDB_H

struct store;

#define TESTDB_DIR	64
#define TESTDB_PATH	96

/*
 * Makes /tmp/heard-test-NAME.XXXXXX, writes its name into dir and the
 * database's into path, and opens a fresh store there; fails the test
 * (cmocka) if it cannot.
 */
struct store	*testdb_open(const char *name, char dir[TESTDB_DIR],
		    char path[TESTDB_PATH]);
/* Closes the store and removes the database's files and the folder. */
void		 testdb_close(struct store *, const char *dir);

#endif
