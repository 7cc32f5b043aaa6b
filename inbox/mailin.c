/* mailin: the store's record of mail that came in, and the facts it needs. */
#include "mailin.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "access.h"
#include "mail_accept.h"
#include "store.h"
#include "users.h"
#include "xmalloc.h"

static const char mailin_sql_org[] =
    "SELECT o.id, o.code FROM threads t"
    " JOIN organisations o ON o.id = t.org_id WHERE t.id = ?1";
static const char mailin_sql_seen[] =
    "SELECT id, outcome, reason, thread_id, user_id, reply_id, received_at"
    " FROM mail_in WHERE message_id = ?1";
/* The unique index on message_id is the lock: the loser inserts nothing. */
static const char mailin_sql_insert[] =
    "INSERT INTO mail_in (message_id, via, sender, thread_id, user_id,"
    " outcome, reason, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    " ON CONFLICT (message_id) WHERE message_id IS NOT NULL DO NOTHING";
static const char mailin_sql_settle[] =
    "UPDATE mail_in SET reply_id = ?2 WHERE id = ?1"
    " AND outcome = 'accepted' AND reply_id IS NULL";
static const char mailin_sql_unaccept[] =
    "UPDATE mail_in SET outcome = 'refused', reason = ?2 WHERE id = ?1"
    " AND outcome = 'accepted' AND reply_id IS NULL";
/* The outbox keeps the text trimmed of these, as replies_trim does. */
static const char mailin_sql_find_reply[] =
    "SELECT r.id FROM reply_outbox r WHERE r.thread_id = ?1"
    " AND r.user_id = ?2 AND r.via = 'email' AND r.created_at >= ?3"
    " AND r.body = trim(?4, ' ' || char(9, 13, 10))"
    " AND NOT EXISTS (SELECT 1 FROM mail_in m WHERE m.reply_id = r.id)"
    " ORDER BY r.id LIMIT 1";
static const char mailin_sql_imap_get[] =
    "SELECT uidvalidity, last_uid FROM imap_state WHERE mailbox = ?1";
static const char mailin_sql_imap_set[] =
    "INSERT INTO imap_state (mailbox, uidvalidity, last_uid, updated_at)"
    " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (mailbox) DO UPDATE SET"
    " uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
    " updated_at = excluded.updated_at";

/* The thread's organisation: 1 and its id and code, 0 none, -1 error. */
static int
mailin_thread_org(struct store *s, int64_t thread_id, int64_t *org_id,
    char **org_code)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, mailin_sql_org)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*org_id = sqlite3_column_int64(q, 0);
		*org_code = store_col_strdup(q, 1);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
mailin_lookup(void *arg, int64_t thread_id, int64_t user_id,
    struct mail_facts *f)
{
	struct store *s = arg;
	struct user u;
	int64_t org_id = 0;
	int rc;

	if ((rc = mailin_thread_org(s, thread_id, &org_id,
	    &f->org_code)) == -1)
		return -1;
	f->thread_found = rc;
	if ((rc = users_get(s, user_id, &u)) == -1)
		return -1;
	if (rc == 0)
		return 0;
	f->user_found = 1;
	f->user_email = u.email;
	u.email = NULL;
	f->user_disabled = u.disabled;
	f->user_reviewer = u.role == ROLE_REVIEWER;
	user_free(&u);
	if (!f->thread_found || f->user_disabled)
		return 0;
	if ((rc = access_check(s, user_id, org_id, ACCESS_WRITE)) == -1)
		return -1;
	f->may_write = rc;
	return 0;
}

void
mailin_row_free(struct mailin_row *r)
{
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

int
mailin_seen(struct store *s, const char *message_id, struct mailin_row *r)
{
	sqlite3_stmt *q;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((q = store_stmt(s, mailin_sql_seen)) == NULL)
		return -1;
	store_bind_text(q, 1, message_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		r->id = sqlite3_column_int64(q, 0);
		snprintf(r->outcome, sizeof(r->outcome), "%s",
		    store_col_text(q, 1));
		r->reason = store_col_strdup(q, 2);
		r->thread_id = sqlite3_column_int64(q, 3);
		r->user_id = sqlite3_column_int64(q, 4);
		r->reply_id = sqlite3_column_int64(q, 5);
		r->received_at = sqlite3_column_int64(q, 6);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
mailin_bind_id(sqlite3_stmt *q, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(q, i, id);
	else
		sqlite3_bind_null(q, i);
}

int64_t
mailin_record(struct store *s, const struct mailin_rec *r)
{
	sqlite3_stmt *q;
	int rc;

	if (r->message_id == NULL ||
	    (q = store_stmt(s, mailin_sql_insert)) == NULL)
		return -1;
	store_bind_text(q, 1, r->message_id);
	store_bind_text(q, 2, r->via);
	store_bind_text(q, 3, r->sender);
	mailin_bind_id(q, 4, r->thread_id);
	mailin_bind_id(q, 5, r->user_id);
	store_bind_text(q, 6, r->outcome);
	store_bind_text(q, 7, r->reason);
	sqlite3_bind_int64(q, 8, r->received_at);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	if (sqlite3_changes(store_db(s)) == 0)
		return 0;
	return sqlite3_last_insert_rowid(store_db(s));
}

/* An UPDATE of the one row id: 0 if it changed, else -1. */
static int
mailin_update(struct store *s, const char *sql, int64_t id, int64_t v,
    const char *text)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (text != NULL)
		store_bind_text(q, 2, text);
	else
		sqlite3_bind_int64(q, 2, v);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(store_db(s)) == 1 ? 0 : -1;
}

int
mailin_settle(struct store *s, int64_t id, int64_t reply_id)
{
	return mailin_update(s, mailin_sql_settle, id, reply_id, NULL);
}

int
mailin_unaccept(struct store *s, int64_t id, const char *reason)
{
	return mailin_update(s, mailin_sql_unaccept, id, 0,
	    reason != NULL ? reason : "not relayed");
}

int64_t
mailin_find_reply(struct store *s, int64_t thread_id, int64_t user_id,
    int64_t since, const char *text)
{
	sqlite3_stmt *q;
	int64_t id = 0;
	int rc;

	if ((q = store_stmt(s, mailin_sql_find_reply)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread_id);
	sqlite3_bind_int64(q, 2, user_id);
	sqlite3_bind_int64(q, 3, since);
	store_bind_text(q, 4, text);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return id;
}

int
mailin_imap_get(struct store *s, const char *mailbox, int64_t *uidvalidity,
    int64_t *last_uid)
{
	sqlite3_stmt *q;
	int rc;

	*uidvalidity = *last_uid = 0;
	if ((q = store_stmt(s, mailin_sql_imap_get)) == NULL)
		return -1;
	store_bind_text(q, 1, mailbox);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*uidvalidity = sqlite3_column_int64(q, 0);
		*last_uid = sqlite3_column_int64(q, 1);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
mailin_imap_set(struct store *s, const char *mailbox, int64_t uidvalidity,
    int64_t last_uid, int64_t now)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, mailin_sql_imap_set)) == NULL)
		return -1;
	store_bind_text(q, 1, mailbox);
	sqlite3_bind_int64(q, 2, uidvalidity);
	sqlite3_bind_int64(q, 3, last_uid);
	sqlite3_bind_int64(q, 4, now);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}
