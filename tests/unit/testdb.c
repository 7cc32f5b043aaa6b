/* testdb: a fresh database in a folder of its own, for one unit test. */
#include "testdb.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cmocka.h>

#include "store.h"

struct store *
testdb_open(const char *name, char dir[TESTDB_DIR], char path[TESTDB_PATH])
{
	struct store *s;
	char err[256];

	snprintf(dir, TESTDB_DIR, "/tmp/heard-test-%s.XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	snprintf(path, TESTDB_PATH, "%s/heard.db", dir);
	if ((s = store_open(path, err, sizeof(err))) == NULL)
		fail_msg("store_open: %s", err);
	return s;
}

void
testdb_close(struct store *s, const char *dir)
{
	static const char *const names[] = { "heard.db", "heard.db-wal",
	    "heard.db-shm" };
	char p[TESTDB_DIR + 16];
	size_t i;

	store_close(s);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}
