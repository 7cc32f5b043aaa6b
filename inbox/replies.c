/* replies: the reply outbox: staff replies on their way to a channel. */
#include "replies.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "access.h"
#include "jsonout.h"
#include "store.h"
#include "tasks.h"
#include "thread_list.h"
#include "xmalloc.h"

#define REPLIES_WS	" \t\r\n"
#define REPLIES_KEY_LEN	37	/* a UUID's 36 characters and the NUL */

static const char *const replies_states[] = {
	[REPLY_QUEUED] = "queued",
	[REPLY_POSTING] = "posting",
	[REPLY_POSTED] = "posted",
	[REPLY_FAILED] = "failed",
	[REPLY_HANDOFF] = "handoff",
	[REPLY_UNKNOWN] = "unknown",
	[REPLY_CANCELLED] = "cancelled",
};

/*
 * The source replies go through: the one that found the thread, else
 * (it was removed) the organisation's first working one of the same
 * connector.
 */
static const char replies_sql_thread[] =
    "SELECT t.id, t.org_id, o.code, o.name, t.reference, t.connector,"
    " t.thread_key, s.id, s.settings, (SELECT url FROM messages"
    "  WHERE thread_id = t.id ORDER BY created_at, id LIMIT 1)"
    " FROM threads t JOIN organisations o ON o.id = t.org_id"
    " LEFT JOIN sources s ON s.id = coalesce(t.source_id,"
    "  (SELECT id FROM sources WHERE org_id = t.org_id"
    "   AND connector = t.connector ORDER BY paused, id LIMIT 1))"
    " WHERE t.id = ?1";
static const char replies_sql_author[] =
    "SELECT u.id, u.name, u.role, u.disabled FROM users u"
    " WHERE u.email = ?1";
/* It answers the latest word from the public still up, else the first. */
static const char replies_sql_insert[] =
    "INSERT INTO reply_outbox (thread_id, in_reply_to, user_id, author,"
    " body, via, status, idempotency_key, next_attempt_at, created_at,"
    " updated_at) VALUES (?1, coalesce("
    "  (SELECT id FROM messages WHERE thread_id = ?1 AND direction = 'in'"
    "   AND removed_at_source IS NULL ORDER BY created_at DESC, id DESC"
    "   LIMIT 1),"
    "  (SELECT id FROM messages WHERE thread_id = ?1"
    "   ORDER BY created_at, id LIMIT 1)),"
    " ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)";
/* The row as it is after the change it records. */
static const char replies_sql_audit[] =
    "INSERT INTO audit_log (at, user_id, action, object, detail)"
    " SELECT ?1, ?2, ?3, 'thread:' || thread_id, json_object('reply', id,"
    " 'status', status, 'via', via, 'external_id', external_id,"
    " 'error', error) FROM reply_outbox WHERE id = ?4";
static const char replies_sql_status[] =
    "SELECT status FROM reply_outbox WHERE id = ?1";
static const char replies_sql_retry[] =
    "UPDATE reply_outbox SET status = 'queued', attempts = 0,"
    " error = NULL, next_attempt_at = ?2, updated_at = ?2"
    " WHERE id = ?1 AND status IN ('failed', 'unknown')";
static const char replies_sql_cancel[] =
    "UPDATE reply_outbox SET status = 'cancelled', next_attempt_at = NULL,"
    " updated_at = ?2 WHERE id = ?1 AND status = 'queued'";
static const char replies_sql_get[] =
    "SELECT r.id, r.status, r.body, r.idempotency_key, r.author,"
    " m.external_id, r.attempts, r.created_at, r.thread_id,"
    " m.author_handle, m.meta"
    " FROM reply_outbox r LEFT JOIN messages m ON m.id = r.in_reply_to"
    " WHERE r.id = ?1";
static const char replies_sql_due[] =
    "SELECT r.id FROM reply_outbox r"
    " WHERE r.status = 'queued' AND r.next_attempt_at <= ?1"
    " AND NOT EXISTS (SELECT 1 FROM reply_outbox o"
    "  WHERE o.thread_id = r.thread_id AND o.id < r.id"
    "  AND o.status IN ('queued', 'posting'))"
    " ORDER BY r.next_attempt_at, r.id LIMIT ?2";
static const char replies_sql_in_state[] =
    "SELECT id FROM reply_outbox WHERE status = ?1 ORDER BY id LIMIT ?2";
static const char replies_sql_begin[] =
    "UPDATE reply_outbox SET status = 'posting', attempts = attempts + 1,"
    " updated_at = ?2 WHERE id = ?1 AND status = 'queued'";
static const char replies_sql_end[] =
    "UPDATE reply_outbox SET status = ?2, error = ?3, updated_at = ?4,"
    " next_attempt_at = NULL"
    " WHERE id = ?1 AND status IN ('queued', 'posting')";
static const char replies_sql_requeue[] =
    "UPDATE reply_outbox SET status = 'queued', error = ?2,"
    " next_attempt_at = ?3, updated_at = ?4"
    " WHERE id = ?1 AND status = 'posting'";
/*
 * The posted reply as the thread's message. Its content hash is empty,
 * which no content hashes to: the first poll that sees it on the
 * channel takes it for an edit and fills in what the channel shows
 * (its link, its author), on this same row.
 */
static const char replies_sql_message[] =
    "INSERT INTO messages (thread_id, org_id, source_id, connector,"
    " external_id, direction, parent_external_id, author_name, body,"
    " created_at, updated_at, first_seen_at, content_hash)"
    " SELECT r.thread_id, t.org_id, ?2, t.connector, ?3, 'out',"
    " m.external_id, coalesce(r.author, o.name), r.body, ?4, ?4, ?4, X''"
    " FROM reply_outbox r JOIN threads t ON t.id = r.thread_id"
    " JOIN organisations o ON o.id = t.org_id"
    " LEFT JOIN messages m ON m.id = r.in_reply_to WHERE r.id = ?1"
    " ON CONFLICT (connector, external_id, org_id) DO NOTHING";
static const char replies_sql_message_id[] =
    "SELECT m.id FROM messages m JOIN threads t ON t.id = ?1"
    " WHERE m.connector = t.connector AND m.external_id = ?2"
    " AND m.org_id = t.org_id";
static const char replies_sql_touch[] =
    "UPDATE threads SET message_count = message_count + ?2,"
    " last_at = max(last_at, ?3),"
    " first_response_at = min(coalesce(first_response_at, ?3), ?3),"
    " updated_at = ?3 WHERE id = ?1";
static const char replies_sql_posted[] =
    "UPDATE reply_outbox SET status = 'posted', external_id = ?2,"
    " message_id = ?3, posted_at = ?4, updated_at = ?4, error = NULL,"
    " next_attempt_at = NULL WHERE id = ?1 AND status = 'posting'";
static const char replies_sql_list[] =
    "SELECT id, status, body, error, external_id, created_at, updated_at,"
    " via, author, attempts, next_attempt_at, posted_at, message_id"
    " FROM reply_outbox WHERE thread_id = ?1 ORDER BY id";

const char *
reply_state_name(enum reply_state st)
{
	if ((size_t)st >= sizeof(replies_states) / sizeof(replies_states[0]))
		return "?";
	return replies_states[st];
}

/* The state stored as name; -1 if it is none of ours. */
static int
replies_state_parse(const char *name, enum reply_state *out)
{
	size_t i;

	for (i = 0; name != NULL &&
	    i < sizeof(replies_states) / sizeof(replies_states[0]); i++) {
		if (strcmp(replies_states[i], name) == 0) {
			*out = (enum reply_state)i;
			return 0;
		}
	}
	return -1;
}

static int
replies_fail(char *err, size_t errlen, const char *why, const char *more)
{
	snprintf(err, errlen, "%s%s%s", why, more != NULL ? ": " : "",
	    more != NULL ? more : "");
	return -1;
}

/* Steps a statement that returns no row, and resets it; 0 or -1. */
static int
replies_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* An UPDATE of one row that must change it: 0, or -1 if it did not. */
static int
replies_run_one(struct store *s, sqlite3_stmt *q)
{
	if (replies_run(q) == -1)
		return -1;
	return sqlite3_changes(store_db(s)) == 1 ? 0 : -1;
}

static void
replies_bind_user(sqlite3_stmt *q, int i, int64_t user_id)
{
	if (user_id > 0)
		sqlite3_bind_int64(q, i, user_id);
	else
		sqlite3_bind_null(q, i);
}

static int
replies_audit(struct store *s, int64_t id, int64_t user_id,
    const char *action, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, replies_sql_audit)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	replies_bind_user(q, 2, user_id);
	store_bind_text(q, 3, action);
	sqlite3_bind_int64(q, 4, id);
	return replies_run_one(s, q);
}

void
reply_thread_free(struct reply_thread *t)
{
	free(t->org_code);
	free(t->org_name);
	free(t->reference);
	free(t->connector);
	free(t->thread_key);
	free(t->settings);
	free(t->root_url);
	memset(t, 0, sizeof(*t));
}

static int
replies_thread_load(struct store *s, int64_t id, struct reply_thread *t)
{
	sqlite3_stmt *q;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((q = store_stmt(s, replies_sql_thread)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		t->id = sqlite3_column_int64(q, 0);
		t->org_id = sqlite3_column_int64(q, 1);
		t->org_code = store_col_strdup(q, 2);
		t->org_name = store_col_strdup(q, 3);
		t->reference = store_col_strdup(q, 4);
		t->connector = store_col_strdup(q, 5);
		t->thread_key = store_col_strdup(q, 6);
		t->source_id = sqlite3_column_int64(q, 7);
		t->settings = store_col_strdup(q, 8);
		t->root_url = store_col_strdup(q, 9);
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int
replies_thread(struct store *s, const char *ref, struct reply_thread *t)
{
	int64_t id;

	memset(t, 0, sizeof(*t));
	if (ref == NULL || (id = threads_id(s, ref)) == 0)
		return 0;
	return replies_thread_load(s, id, t);
}

/*
 * Whether the account found may reply for the organisation: the rule
 * is access_check's (ACCESS_WRITE), so mail, web and command line
 * agree; this only words the refusal.
 */
static int
replies_may(struct store *s, int64_t id, const char *role, int disabled,
    int64_t org_id, const char *email, const char *org_code, char *err,
    size_t errlen)
{
	int ok;

	if (disabled)
		return replies_fail(err, errlen, email, "the account is "
		    "disabled");
	if ((ok = access_check(s, id, org_id, ACCESS_WRITE)) == -1)
		return replies_fail(err, errlen, "store", store_errmsg(s));
	if (ok)
		return 0;
	snprintf(err, errlen, "%s may not reply for %s (%s)", email,
	    org_code, strcmp(role, "lead") == 0 ?
	    "not one of their organisations" : "a read-only reviewer");
	return -1;
}

int
replies_author(struct store *s, const char *email, int64_t org_id,
    const char *org_code, struct reply_author *a, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	const char *name;
	char role[16];
	int64_t id;
	int rc, disabled;

	memset(a, 0, sizeof(*a));
	if ((q = store_stmt(s, replies_sql_author)) == NULL)
		return replies_fail(err, errlen, "store", store_errmsg(s));
	store_bind_text(q, 1, email);
	if ((rc = sqlite3_step(q)) != SQLITE_ROW) {
		sqlite3_reset(q);
		if (rc != SQLITE_DONE)
			return replies_fail(err, errlen, "store",
			    store_errmsg(s));
		return replies_fail(err, errlen, "no staff account", email);
	}
	id = sqlite3_column_int64(q, 0);
	name = store_col_text(q, 1);
	if (name != NULL && name[strspn(name, REPLIES_WS)] != '\0')
		a->name = xstrdup(name);
	snprintf(role, sizeof(role), "%s", store_col_text(q, 2));
	disabled = sqlite3_column_int(q, 3);
	sqlite3_reset(q);
	if (replies_may(s, id, role, disabled, org_id, email, org_code, err,
	    errlen) == -1) {
		free(a->name);
		a->name = NULL;
		return -1;
	}
	a->user_id = id;
	return 0;
}

int
replies_check_body(const char *body, char *err, size_t errlen)
{
	const unsigned char *p;
	size_t n;
	char *fixed;

	if (body == NULL || body[strspn(body, REPLIES_WS)] == '\0')
		return replies_fail(err, errlen, "the reply is empty", NULL);
	if ((n = strlen(body)) > REPLY_BODY_MAX) {
		snprintf(err, errlen, "the reply is %zu bytes long; at most "
		    "%d are sent", n, REPLY_BODY_MAX);
		return -1;
	}
	if ((fixed = jsonout_utf8_repair(body)) != NULL) {
		free(fixed);
		return replies_fail(err, errlen, "the reply is not UTF-8 text",
		    NULL);
	}
	for (p = (const unsigned char *)body; *p != '\0'; p++)
		if ((*p < 0x20 && strchr(REPLIES_WS, *p) == NULL) ||
		    *p == 0x7f) {
			snprintf(err, errlen, "the reply holds a control "
			    "character (byte 0x%02x)", *p);
			return -1;
		}
	return 0;
}

/* A random (version 4) UUID: a key no other reply will ever have. */
static int
replies_uuid(char out[REPLIES_KEY_LEN])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char r[16];
	size_t i, o = 0;

	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	for (i = 0; i < sizeof(r); i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[r[i] >> 4];
		out[o++] = hex[r[i] & 15];
	}
	out[o] = '\0';
	return 0;
}

/* The text without the blank lines and spaces around it. Owned. */
static char *
replies_trim(const char *body)
{
	size_t n;

	body += strspn(body, REPLIES_WS);
	n = strlen(body);
	while (n > 0 && strchr(REPLIES_WS, body[n - 1]) != NULL)
		n--;
	return xstrndup(body, n);
}

/* The outbox row for r, in state; its id, or -1. */
static int64_t
replies_insert(struct store *s, const struct reply_new *r,
    enum reply_state st, int64_t now)
{
	char key[REPLIES_KEY_LEN], *body;
	sqlite3_stmt *q;
	int rc;

	if (replies_uuid(key) == -1 ||
	    (q = store_stmt(s, replies_sql_insert)) == NULL)
		return -1;
	body = replies_trim(r->body);
	sqlite3_bind_int64(q, 1, r->thread->id);
	replies_bind_user(q, 2, r->author != NULL ? r->author->user_id : 0);
	store_bind_text(q, 3, r->author != NULL ? r->author->name : NULL);
	store_bind_text(q, 4, body);
	store_bind_text(q, 5, r->via);
	store_bind_text(q, 6, reply_state_name(st));
	store_bind_text(q, 7, key);
	if (st == REPLY_QUEUED)
		sqlite3_bind_int64(q, 8, now);
	sqlite3_bind_int64(q, 9, now);
	rc = replies_run(q);
	free(body);
	return rc == 0 ? sqlite3_last_insert_rowid(store_db(s)) : -1;
}

/* The reply (and for a handoff its task) and the audit entry. */
static int64_t
replies_write(struct store *s, const struct reply_new *r,
    enum reply_state st, const char *url, int64_t now, int64_t *task_id)
{
	int64_t id, user = r->author != NULL ? r->author->user_id : 0;
	char *text;

	if ((id = replies_insert(s, r, st, now)) == -1)
		return -1;
	if (st == REPLY_HANDOFF) {
		text = replies_trim(r->body);
		*task_id = tasks_open(s, r->thread->id, id, text, url, now);
		free(text);
		if (*task_id == -1)
			return -1;
	}
	if (replies_audit(s, id, user, st == REPLY_HANDOFF ?
	    "reply.handoff" : "reply.queue", now) == -1)
		return -1;
	return id;
}

static int64_t
replies_add(struct store *s, const struct reply_new *r,
    enum reply_state st, const char *url, int64_t now, int64_t *task_id,
    char *err, size_t errlen)
{
	int64_t id;

	if (replies_check_body(r->body, err, errlen) == -1)
		return -1;
	if (store_begin(s) == -1)
		return replies_fail(err, errlen, "store", store_errmsg(s));
	if ((id = replies_write(s, r, st, url, now, task_id)) == -1 ||
	    store_commit(s) == -1) {
		replies_fail(err, errlen, "store", store_errmsg(s));
		store_rollback(s);
		return -1;
	}
	return id;
}

int64_t
replies_queue(struct store *s, const struct reply_new *r, int64_t now,
    char *err, size_t errlen)
{
	return replies_add(s, r, REPLY_QUEUED, NULL, now, NULL, err, errlen);
}

int64_t
replies_handoff(struct store *s, const struct reply_new *r, const char *url,
    int64_t now, int64_t *task_id, char *err, size_t errlen)
{
	return replies_add(s, r, REPLY_HANDOFF, url, now, task_id, err,
	    errlen);
}

/* The reply's state now; 1, 0 if there is no such reply, -1 error. */
static int
replies_state(struct store *s, int64_t id, enum reply_state *st)
{
	sqlite3_stmt *q;
	int rc, found = 0;

	if ((q = store_stmt(s, replies_sql_status)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		found = replies_state_parse(store_col_text(q, 0), st) == 0;
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return found;
}

/* A staff action moving one reply on: sql's UPDATE, then the audit. */
static int
replies_staff(struct store *s, int64_t id, int64_t user_id,
    const char *sql, const char *action, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	if (replies_run_one(s, q) == -1 ||
	    replies_audit(s, id, user_id, action, now) == -1)
		return -1;
	return 0;
}

/* Checks the reply is in one of the states allowed, then acts. */
static int
replies_act(struct store *s, int64_t id, int64_t user_id, int64_t now,
    unsigned allowed, const char *sql, const char *action, char *err,
    size_t errlen)
{
	enum reply_state st = REPLY_QUEUED;
	int found, rc;

	if (store_begin(s) == -1)
		return replies_fail(err, errlen, "store", store_errmsg(s));
	if ((found = replies_state(s, id, &st)) == 1 &&
	    (allowed & (1u << st)) != 0)
		rc = replies_staff(s, id, user_id, sql, action, now);
	else
		rc = -1;
	if (rc == 0 && store_commit(s) == 0)
		return 0;
	if (found == 1 && (allowed & (1u << st)) == 0)
		snprintf(err, errlen, "reply %lld is %s", (long long)id,
		    reply_state_name(st));
	else if (found == 0)
		snprintf(err, errlen, "no reply %lld", (long long)id);
	else
		replies_fail(err, errlen, "store", store_errmsg(s));
	store_rollback(s);
	return -1;
}

int
replies_retry(struct store *s, int64_t id, int64_t user_id, int64_t now,
    char *err, size_t errlen)
{
	return replies_act(s, id, user_id, now, 1u << REPLY_FAILED |
	    1u << REPLY_UNKNOWN, replies_sql_retry, "reply.retry", err,
	    errlen);
}

int
replies_cancel(struct store *s, int64_t id, int64_t user_id, int64_t now,
    char *err, size_t errlen)
{
	return replies_act(s, id, user_id, now, 1u << REPLY_QUEUED,
	    replies_sql_cancel, "reply.cancel", err, errlen);
}

void
reply_row_free(struct reply_row *r)
{
	free(r->body);
	free(r->idempotency_key);
	free(r->author);
	free(r->in_reply_to);
	free(r->in_reply_to_author);
	free(r->in_reply_to_meta);
	reply_thread_free(&r->thread);
	memset(r, 0, sizeof(*r));
}

static void
replies_row(sqlite3_stmt *q, struct reply_row *r)
{
	r->id = sqlite3_column_int64(q, 0);
	if (replies_state_parse(store_col_text(q, 1), &r->state) == -1)
		r->state = REPLY_FAILED;	/* the CHECK allows no other */
	r->body = store_col_strdup(q, 2);
	r->idempotency_key = store_col_strdup(q, 3);
	r->author = store_col_strdup(q, 4);
	r->in_reply_to = store_col_strdup(q, 5);
	r->attempts = sqlite3_column_int(q, 6);
	r->created_at = sqlite3_column_int64(q, 7);
}

int
replies_get(struct store *s, int64_t id, struct reply_row *r)
{
	sqlite3_stmt *q;
	int64_t thread = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if ((q = store_stmt(s, replies_sql_get)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		replies_row(q, r);
		thread = sqlite3_column_int64(q, 8);
		r->in_reply_to_author = store_col_strdup(q, 9);
		r->in_reply_to_meta = store_col_strdup(q, 10);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE ? 0 : -1;
	if ((rc = replies_thread_load(s, thread, &r->thread)) != 1) {
		reply_row_free(r);
		return -1;	/* a reply's thread is a foreign key */
	}
	return 1;
}

int
replies_list(struct store *s, enum reply_state st, int64_t now,
    int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *q;
	int rc;

	*n = 0;
	if ((q = store_stmt(s, st == REPLY_QUEUED ? replies_sql_due :
	    replies_sql_in_state)) == NULL)
		return -1;
	if (st == REPLY_QUEUED)
		sqlite3_bind_int64(q, 1, now);
	else
		store_bind_text(q, 1, reply_state_name(st));
	sqlite3_bind_int64(q, 2, (sqlite3_int64)max);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

int
replies_begin(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, replies_sql_begin)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	return replies_run_one(s, q);
}

/* The posted reply as a message of its thread; its id, or -1. */
static int64_t
replies_message(struct store *s, const struct reply_row *r,
    const char *external_id, int64_t source_id, int64_t now)
{
	sqlite3_stmt *q;
	int64_t id = -1;
	int added;

	if ((q = store_stmt(s, replies_sql_message)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, r->id);
	if (source_id > 0)
		sqlite3_bind_int64(q, 2, source_id);
	store_bind_text(q, 3, external_id);
	sqlite3_bind_int64(q, 4, now);
	if (replies_run(q) == -1)
		return -1;
	/* 0: a poll met it on the channel first, and filed it already. */
	if ((added = sqlite3_changes(store_db(s))) == 1)
		id = sqlite3_last_insert_rowid(store_db(s));
	else if ((q = store_stmt(s, replies_sql_message_id)) != NULL) {
		sqlite3_bind_int64(q, 1, r->thread.id);
		store_bind_text(q, 2, external_id);
		if (sqlite3_step(q) == SQLITE_ROW)
			id = sqlite3_column_int64(q, 0);
		sqlite3_reset(q);
	}
	if (id == -1 || (q = store_stmt(s, replies_sql_touch)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, r->thread.id);
	sqlite3_bind_int(q, 2, added);
	sqlite3_bind_int64(q, 3, now);
	return replies_run(q) == 0 ? id : -1;
}

/* The thread's first response, for a post the channel named no id. */
static int
replies_touch(struct store *s, int64_t thread_id, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, replies_sql_touch)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread_id);
	sqlite3_bind_int(q, 2, 0);
	sqlite3_bind_int64(q, 3, now);
	return replies_run(q);
}

static int
replies_posted_all(struct store *s, const struct reply_row *r,
    const char *external_id, int64_t source_id, int64_t now)
{
	sqlite3_stmt *q;
	int64_t msg = 0;

	if (external_id != NULL && *external_id != '\0') {
		if ((msg = replies_message(s, r, external_id, source_id,
		    now)) == -1)
			return -1;
	} else if (replies_touch(s, r->thread.id, now) == -1)
		return -1;
	if ((q = store_stmt(s, replies_sql_posted)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, r->id);
	store_bind_text(q, 2, msg > 0 ? external_id : NULL);
	if (msg > 0)
		sqlite3_bind_int64(q, 3, msg);
	sqlite3_bind_int64(q, 4, now);
	if (replies_run_one(s, q) == -1)
		return -1;
	return replies_audit(s, r->id, 0, "reply.posted", now);
}

int
replies_posted(struct store *s, const struct reply_row *r,
    const char *external_id, int64_t source_id, int64_t now)
{
	if (store_begin(s) == -1)
		return -1;
	if (replies_posted_all(s, r, external_id, source_id, now) == -1 ||
	    store_commit(s) == -1) {
		store_rollback(s);
		return -1;
	}
	return 0;
}

int
replies_end(struct store *s, int64_t id, enum reply_state st,
    const char *error, int64_t now)
{
	sqlite3_stmt *q;
	char action[32];

	if (st != REPLY_FAILED && st != REPLY_UNKNOWN)
		return -1;
	if (store_begin(s) == -1)
		return -1;
	snprintf(action, sizeof(action), "reply.%s", reply_state_name(st));
	if ((q = store_stmt(s, replies_sql_end)) == NULL)
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, reply_state_name(st));
	store_bind_text(q, 3, error);
	sqlite3_bind_int64(q, 4, now);
	if (replies_run_one(s, q) == -1 ||
	    replies_audit(s, id, 0, action, now) == -1 ||
	    store_commit(s) == -1)
		goto fail;
	return 0;
fail:
	store_rollback(s);
	return -1;
}

int
replies_requeue(struct store *s, int64_t id, const char *error,
    int64_t next, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, replies_sql_requeue)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, error);
	sqlite3_bind_int64(q, 3, next);
	sqlite3_bind_int64(q, 4, now);
	return replies_run_one(s, q);
}

static json_t *
replies_json_row(sqlite3_stmt *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "status", jsonout_col_str(q, 1));
	json_object_set_new(o, "body", jsonout_col_str(q, 2));
	json_object_set_new(o, "error", jsonout_col_str(q, 3));
	json_object_set_new(o, "external_id", jsonout_col_str(q, 4));
	json_object_set_new(o, "created_at", jsonout_col_time(q, 5));
	json_object_set_new(o, "updated_at", jsonout_col_time(q, 6));
	json_object_set_new(o, "via", jsonout_col_str(q, 7));
	json_object_set_new(o, "author", jsonout_col_str(q, 8));
	json_object_set_new(o, "attempts", jsonout_col_int(q, 9));
	json_object_set_new(o, "next_attempt_at", jsonout_col_time(q, 10));
	json_object_set_new(o, "posted_at", jsonout_col_time(q, 11));
	json_object_set_new(o, "message", jsonout_col_int(q, 12));
	return o;
}

json_t *
replies_json(struct store *s, int64_t thread_id)
{
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if ((q = store_stmt(s, replies_sql_list)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, thread_id);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, replies_json_row(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}
