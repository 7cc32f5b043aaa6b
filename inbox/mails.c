/* mails: the queue of built mails the mailer sends, and their fate. */
#include "mails.h"

#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "xmalloc.h"

static const char mails_sql_due[] =
    "SELECT id, rcpt, kind, body, attempts FROM mails"
    " WHERE status = 'queued' AND next_attempt_at <= ?1"
    " ORDER BY next_attempt_at, id LIMIT ?2";
/*
 * Each guarded by status = 'queued', so a mail settled once (sent) is
 * never turned back by a late answer about it.
 */
static const char mails_sql_sent[] =
    "UPDATE mails SET status = 'sent', sent_at = ?2, last_error = NULL,"
    " attempts = attempts + 1 WHERE id = ?1 AND status = 'queued'";
static const char mails_sql_retry[] =
    "UPDATE mails SET attempts = attempts + 1, next_attempt_at = ?2,"
    " last_error = ?3 WHERE id = ?1 AND status = 'queued'";
static const char mails_sql_failed[] =
    "UPDATE mails SET status = 'failed', attempts = attempts + 1,"
    " last_error = ?2 WHERE id = ?1 AND status = 'queued'";
static const char mails_sql_queued[] =
    "SELECT count(*) FROM mails WHERE status = 'queued'";

void
mails_out_free(struct mails_out *m)
{
	free(m->rcpt);
	free(m->kind);
	free(m->body);
	memset(m, 0, sizeof(*m));
}

static int
mails_skipped(int64_t id, const int64_t *skip, size_t nskip)
{
	size_t i;

	for (i = 0; i < nskip; i++)
		if (skip[i] == id)
			return 1;
	return 0;
}

static void
mails_row(sqlite3_stmt *q, struct mails_out *m)
{
	int n = sqlite3_column_bytes(q, 3);

	m->id = sqlite3_column_int64(q, 0);
	m->rcpt = store_col_strdup(q, 1);
	m->kind = store_col_strdup(q, 2);
	m->len = n > 0 ? (size_t)n : 0;
	m->body = xmalloc(m->len + 1);
	if (m->len > 0)
		memcpy(m->body, sqlite3_column_blob(q, 3), m->len);
	m->body[m->len] = '\0';
	m->attempts = sqlite3_column_int(q, 4);
}

int
mails_due(struct store *s, int64_t now, const int64_t *skip, size_t nskip,
    struct mails_out *out, size_t max)
{
	sqlite3_stmt *q;
	size_t n = 0;
	int rc;

	if ((q = store_stmt(s, mails_sql_due)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	sqlite3_bind_int64(q, 2, (int64_t)(max + nskip));
	while (n < max && (rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (mails_skipped(sqlite3_column_int64(q, 0), skip, nskip) ||
		    sqlite3_column_type(q, 1) == SQLITE_NULL)
			continue;
		mails_row(q, &out[n++]);
	}
	sqlite3_reset(q);
	return (int)n;
}

static int
mails_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
mails_sent(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, mails_sql_sent)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	return mails_run(q);
}

int
mails_retry(struct store *s, int64_t id, const char *why, int64_t next)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, mails_sql_retry)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, next);
	store_bind_text(q, 3, why);
	return mails_run(q);
}

int
mails_failed(struct store *s, int64_t id, const char *why)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, mails_sql_failed)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, why);
	return mails_run(q);
}

int64_t
mails_queued(struct store *s)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	if ((q = store_stmt(s, mails_sql_queued)) == NULL)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return n;
}
