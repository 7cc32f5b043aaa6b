/* thread_actions: staff changes to a thread: status, assignee, tags... */
#include "thread_actions.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "audit.h"
#include "jsonout.h"
#include "store.h"
#include "thread_query.h"

/* The thread as an action finds it, inside its transaction. */
struct ta_thread {
	int64_t	 id;
	int64_t	 org_id;
	char	 status[16];
	char	 severity[8];
	int64_t	 assignee;	/* 0: none */
	char	 before_hide[16];	/* "" when not hidden */
};

static const char ta_sql_load[] =
    "SELECT org_id, status, severity, assignee_id,"
    " coalesce(status_before_hide, '') FROM threads WHERE id = ?1";
static const char ta_sql_status[] =
    "UPDATE threads SET status = ?2, updated_at = ?3 WHERE id = ?1";
static const char ta_sql_assign[] =
    "UPDATE threads SET assignee_id = ?2, updated_at = ?3 WHERE id = ?1";
static const char ta_sql_severity[] =
    "UPDATE threads SET severity = ?2, updated_at = ?3 WHERE id = ?1";
static const char ta_sql_hide[] =
    "UPDATE threads SET status_before_hide = status, status = 'hidden',"
    " hidden_reason = ?2, updated_at = ?3 WHERE id = ?1";
/* A thread hidden by its channel has no status to go back to: open. */
static const char ta_sql_unhide[] =
    "UPDATE threads SET status = coalesce(status_before_hide, 'open'),"
    " status_before_hide = NULL, hidden_reason = NULL, updated_at = ?2"
    " WHERE id = ?1";
/* ?2 is unused: ta_update's shape. */
static const char ta_sql_touch[] =
    "UPDATE threads SET updated_at = ?3 WHERE id = ?1 AND ?2 IS NULL";
static const char ta_sql_tags_get[] =
    "SELECT tag FROM thread_tags WHERE thread_id = ?1 ORDER BY tag";
static const char ta_sql_tags_clear[] =
    "DELETE FROM thread_tags WHERE thread_id = ?1";
static const char ta_sql_tag_add[] =
    "INSERT OR IGNORE INTO thread_tags (thread_id, tag) VALUES (?1, ?2)";
static const char ta_sql_user[] =
    "SELECT disabled FROM users WHERE id = ?1";

static enum ta_fault
ta_fail(enum ta_fault f, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return f;
}

static enum ta_fault
ta_store(struct store *s, char *err, size_t errlen)
{
	return ta_fail(TA_STORE, err, errlen, store_errmsg(s));
}

/* Steps a statement that returns no row, and resets it; 0 or -1. */
static int
ta_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Opens the transaction and loads the thread. */
static enum ta_fault
ta_begin(struct store *s, int64_t id, struct ta_thread *t, char *err,
    size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	memset(t, 0, sizeof(*t));
	t->id = id;
	if (store_begin(s) == -1)
		return ta_store(s, err, errlen);
	if ((q = store_stmt(s, ta_sql_load)) == NULL) {
		store_rollback(s);
		return ta_store(s, err, errlen);
	}
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		t->org_id = sqlite3_column_int64(q, 0);
		snprintf(t->status, sizeof(t->status), "%s",
		    store_col_text(q, 1));
		snprintf(t->severity, sizeof(t->severity), "%s",
		    store_col_text(q, 2));
		t->assignee = sqlite3_column_int64(q, 3);
		snprintf(t->before_hide, sizeof(t->before_hide), "%s",
		    store_col_text(q, 4));
	}
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return TA_OK;
	store_rollback(s);
	if (rc == SQLITE_DONE)
		return ta_fail(TA_MISSING, err, errlen, "no such thread");
	return ta_store(s, err, errlen);
}

/* Audits and commits when f is TA_OK, else rolls back; detail taken. */
static enum ta_fault
ta_end(struct store *s, enum ta_fault f, const struct ta_thread *t,
    int64_t user, int64_t now, const char *action, json_t *detail,
    char *err, size_t errlen)
{
	char object[32];

	if (f == TA_OK) {
		snprintf(object, sizeof(object), "thread:%lld",
		    (long long)t->id);
		if (audit_add(s, now, user, action, object, detail) == -1 ||
		    store_commit(s) == -1)
			f = ta_store(s, err, errlen);
		detail = NULL;
	}
	json_decref(detail);
	if (f != TA_OK)
		store_rollback(s);
	return f;
}

/* Runs an UPDATE of the thread: ?1 id, ?2 text value (or NULL), ?3 now. */
static enum ta_fault
ta_update(struct store *s, const char *sql, int64_t id, const char *value,
    int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sql)) == NULL)
		return ta_store(s, err, errlen);
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, value);
	sqlite3_bind_int64(q, 3, now);
	return ta_run(q) == 0 ? TA_OK : ta_store(s, err, errlen);
}

enum ta_fault
thread_set_status(struct store *s, int64_t id, const char *status,
    int64_t user, int64_t now, char *err, size_t errlen)
{
	struct ta_thread t;
	enum ta_fault f;

	if (status == NULL || !thread_query_status_ok(status) ||
	    strcmp(status, "hidden") == 0)
		return ta_fail(TA_INVALID, err, errlen, "status must be one of "
		    "new, open, in_progress, resolved, closed (hiding takes a "
		    "reason: use hide)");
	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	if (strcmp(t.status, "hidden") == 0)
		f = ta_fail(TA_CONFLICT, err, errlen, "the thread is hidden; "
		    "unhide it first");
	else
		f = ta_update(s, ta_sql_status, id, status, now, err, errlen);
	return ta_end(s, f, &t, user, now, "thread.status",
	    json_pack("{s:s, s:s}", "from", t.status, "to", status), err,
	    errlen);
}

enum ta_fault
thread_set_severity(struct store *s, int64_t id, const char *severity,
    int64_t user, int64_t now, char *err, size_t errlen)
{
	struct ta_thread t;
	enum ta_fault f;

	if (severity == NULL || !thread_query_severity_ok(severity))
		return ta_fail(TA_INVALID, err, errlen, "severity must be one "
		    "of low, normal, high, urgent");
	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	f = ta_update(s, ta_sql_severity, id, severity, now, err, errlen);
	return ta_end(s, f, &t, user, now, "thread.severity",
	    json_pack("{s:s, s:s}", "from", t.severity, "to", severity), err,
	    errlen);
}

/* The assignee may be given the thread: enabled, and may read it. */
static enum ta_fault
ta_assignee_ok(struct store *s, int64_t assignee, int64_t org_id, char *err,
    size_t errlen)
{
	sqlite3_stmt *q;
	int rc, disabled = 1;

	if ((q = store_stmt(s, ta_sql_user)) == NULL)
		return ta_store(s, err, errlen);
	sqlite3_bind_int64(q, 1, assignee);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		disabled = sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return ta_store(s, err, errlen);
	if (rc == SQLITE_DONE || disabled) {
		snprintf(err, errlen, "user %lld: no such account, or it is "
		    "disabled", (long long)assignee);
		return TA_INVALID;
	}
	if ((rc = access_check(s, assignee, org_id, ACCESS_READ)) == -1)
		return ta_store(s, err, errlen);
	if (rc == 0) {
		snprintf(err, errlen, "user %lld cannot read this thread's "
		    "organisation", (long long)assignee);
		return TA_INVALID;
	}
	return TA_OK;
}

static json_t *
ta_user_json(int64_t id)
{
	return id > 0 ? json_integer(id) : json_null();
}

enum ta_fault
thread_assign(struct store *s, int64_t id, int64_t assignee, int64_t user,
    int64_t now, char *err, size_t errlen)
{
	struct ta_thread t;
	sqlite3_stmt *q;
	enum ta_fault f;

	if (assignee < 0)
		return ta_fail(TA_INVALID, err, errlen, "no such user");
	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	if (assignee > 0)
		f = ta_assignee_ok(s, assignee, t.org_id, err, errlen);
	if (f == TA_OK && (q = store_stmt(s, ta_sql_assign)) == NULL)
		f = ta_store(s, err, errlen);
	else if (f == TA_OK) {
		sqlite3_bind_int64(q, 1, id);
		if (assignee > 0)
			sqlite3_bind_int64(q, 2, assignee);
		sqlite3_bind_int64(q, 3, now);
		if (ta_run(q) == -1)
			f = ta_store(s, err, errlen);
	}
	return ta_end(s, f, &t, user, now, "thread.assign",
	    json_pack("{s:o, s:o}", "from", ta_user_json(t.assignee), "to",
	    ta_user_json(assignee)), err, errlen);
}

/* Appends the UTF-8 sequence at *p to out if it is one; its length. */
static size_t
ta_tag_char(const unsigned char *p)
{
	char one[5] = { 0 }, *fixed;
	size_t n = *p < 0x80 ? 1 : *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p[i] == '\0')
			return 0;
		one[i] = (char)p[i];
	}
	if ((fixed = jsonout_utf8_repair(one)) != NULL) {
		free(fixed);
		return 0;
	}
	return n;
}

int
thread_tag_normal(const char *in, char *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t o = 0, n;
	int blank = 0;

	p += strspn((const char *)p, " \t");
	for (; *p != '\0'; p += n) {
		if (*p == ' ' || *p == '\t') {
			blank = 1;
			n = 1;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f || (n = ta_tag_char(p)) == 0)
			return -1;
		if (o + (size_t)blank + n > TA_TAG_LEN)
			return -1;
		if (blank)
			out[o++] = ' ';
		blank = 0;
		memcpy(out + o, p, n);
		if (n == 1)
			out[o] = (char)tolower(*p);
		o += n;
	}
	out[o] = '\0';
	return o > 0 ? 0 : -1;
}

/* The thread's tags now, as a JSON array; NULL on error. */
static json_t *
ta_tags(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if ((q = store_stmt(s, ta_sql_tags_get)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, id);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, jsonout_col_str(q, 0));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Clears the thread's tags and adds each of tags, normalised. */
static enum ta_fault
ta_tags_write(struct store *s, int64_t id, const char *const *tags,
    size_t n, char *err, size_t errlen)
{
	char tag[TA_TAG_LEN + 1];
	sqlite3_stmt *q;
	size_t i;

	if ((q = store_stmt(s, ta_sql_tags_clear)) == NULL)
		return ta_store(s, err, errlen);
	sqlite3_bind_int64(q, 1, id);
	if (ta_run(q) == -1)
		return ta_store(s, err, errlen);
	for (i = 0; i < n; i++) {
		if (thread_tag_normal(tags[i], tag) == -1) {
			snprintf(err, errlen, "tags[%zu]: a tag is 1 to %d "
			    "bytes of text, no control characters", i,
			    TA_TAG_LEN);
			return TA_INVALID;
		}
		if ((q = store_stmt(s, ta_sql_tag_add)) == NULL)
			return ta_store(s, err, errlen);
		sqlite3_bind_int64(q, 1, id);
		store_bind_text(q, 2, tag);
		if (ta_run(q) == -1)
			return ta_store(s, err, errlen);
	}
	return TA_OK;
}

enum ta_fault
thread_set_tags(struct store *s, int64_t id, const char *const *tags,
    size_t n, int64_t user, int64_t now, char *err, size_t errlen)
{
	struct ta_thread t;
	enum ta_fault f;
	json_t *before = NULL, *after = NULL;

	if (n > TA_TAGS_MAX) {
		snprintf(err, errlen, "at most %d tags", TA_TAGS_MAX);
		return TA_INVALID;
	}
	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	if ((before = ta_tags(s, id)) == NULL)
		f = ta_store(s, err, errlen);
	if (f == TA_OK)
		f = ta_tags_write(s, id, tags, n, err, errlen);
	if (f == TA_OK && ((after = ta_tags(s, id)) == NULL ||
	    ta_update(s, ta_sql_touch, id, NULL, now, err, errlen) != TA_OK))
		f = ta_store(s, err, errlen);
	return ta_end(s, f, &t, user, now, "thread.tags",
	    json_pack("{s:o?, s:o?}", "from", before, "to", after), err,
	    errlen);
}

enum ta_fault
thread_hide(struct store *s, int64_t id, const char *reason, int64_t user,
    int64_t now, char *err, size_t errlen)
{
	struct ta_thread t;
	enum ta_fault f;
	char *fixed;

	if (reason == NULL || reason[strspn(reason, " \t\r\n")] == '\0')
		return ta_fail(TA_INVALID, err, errlen, "a reason is required "
		    "to hide a thread");
	if (strlen(reason) > TA_REASON_MAX) {
		snprintf(err, errlen, "the reason is at most %d bytes",
		    TA_REASON_MAX);
		return TA_INVALID;
	}
	if ((fixed = jsonout_utf8_repair(reason)) != NULL) {
		free(fixed);
		return ta_fail(TA_INVALID, err, errlen, "the reason is not "
		    "UTF-8 text");
	}
	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	if (strcmp(t.status, "hidden") == 0)
		f = ta_fail(TA_CONFLICT, err, errlen, "the thread is hidden "
		    "already");
	else
		f = ta_update(s, ta_sql_hide, id, reason, now, err, errlen);
	return ta_end(s, f, &t, user, now, "thread.hide",
	    json_pack("{s:s, s:s}", "from", t.status, "reason", reason), err,
	    errlen);
}

enum ta_fault
thread_unhide(struct store *s, int64_t id, int64_t user, int64_t now,
    char *err, size_t errlen)
{
	struct ta_thread t;
	sqlite3_stmt *q;
	enum ta_fault f;

	if ((f = ta_begin(s, id, &t, err, errlen)) != TA_OK)
		return f;
	if (strcmp(t.status, "hidden") != 0)
		f = ta_fail(TA_CONFLICT, err, errlen, "the thread is not "
		    "hidden");
	else if ((q = store_stmt(s, ta_sql_unhide)) == NULL)
		f = ta_store(s, err, errlen);
	else {
		sqlite3_bind_int64(q, 1, id);
		sqlite3_bind_int64(q, 2, now);
		if (ta_run(q) == -1)
			f = ta_store(s, err, errlen);
	}
	return ta_end(s, f, &t, user, now, "thread.unhide",
	    json_pack("{s:s}", "to", t.before_hide[0] != '\0' ?
	    t.before_hide : "open"), err, errlen);
}
