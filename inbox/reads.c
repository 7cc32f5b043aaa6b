/* reads: read receipts: who opened which conversation, and when. */
#include "reads.h"

#include <sqlite3.h>

#include "store.h"

static const char reads_sql_mark[] =
    "INSERT INTO reads (thread_id, user_id, read_at) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (thread_id, user_id)"
    " DO UPDATE SET read_at = max(read_at, excluded.read_at)";
static const char reads_sql_unmark[] =
    "DELETE FROM reads WHERE thread_id = ?1 AND user_id = ?2";

/* Steps a statement that returns no row, and resets it; 0 or -1. */
static int
reads_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
reads_mark(struct store *s, int64_t thread, int64_t user, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, reads_sql_mark)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, user);
	sqlite3_bind_int64(q, 3, now);
	return reads_run(q);
}

int
reads_unmark(struct store *s, int64_t thread, int64_t user)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, reads_sql_unmark)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread);
	sqlite3_bind_int64(q, 2, user);
	return reads_run(q);
}
