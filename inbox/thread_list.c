/* thread_list: conversations per organisation, listed and shown. */
#include "thread_list.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "jsonout.h"
#include "orgs.h"
#include "replies.h"
#include "store.h"
#include "tasks.h"

#define THREADS_SELECT \
    "SELECT t.id, o.code, t.connector, t.source_id, t.reference," \
    " t.subject, t.status, t.message_count, t.first_at, t.last_at," \
    " t.first_response_at, t.assignee_id, t.channel_ref" \
    " FROM threads t JOIN organisations o ON o.id = t.org_id"
#define THREADS_ORDER	" ORDER BY t.last_at DESC, t.id DESC LIMIT ?3"

/*
 * One statement per filter, each walking its own index in last_at
 * order, so a page of the newest threads never sorts or scans the
 * table. Without a status filter, hidden (moderated) threads are
 * left out; asking for status "hidden" shows them.
 */
static const char threads_sql_all[] = THREADS_SELECT
    " WHERE t.status <> 'hidden'" THREADS_ORDER;
static const char threads_sql_org[] = THREADS_SELECT
    " WHERE t.org_id = ?1 AND t.status <> 'hidden'" THREADS_ORDER;
static const char threads_sql_status[] = THREADS_SELECT
    " WHERE t.status = ?2" THREADS_ORDER;
static const char threads_sql_org_status[] = THREADS_SELECT
    " WHERE t.org_id = ?1 AND t.status = ?2" THREADS_ORDER;
static const char *const threads_sql_list[] = {
	threads_sql_all, threads_sql_org, threads_sql_status,
	threads_sql_org_status,
};

static const char threads_sql_one[] = THREADS_SELECT " WHERE t.id = ?1";
static const char threads_sql_exists[] =
    "SELECT 1 FROM threads WHERE id = ?1";
static const char threads_sql_by_ref[] =
    "SELECT id FROM threads WHERE reference = ?1";
/* The oldest thread a channel reference names (it is not unique). */
static const char threads_sql_by_channel_ref[] =
    "SELECT id FROM threads WHERE channel_ref = ?1 ORDER BY id LIMIT 1";
static const char threads_sql_items[] =
    "SELECT id, external_id, direction, author_name, author_handle, body,"
    " url, rating, created_at, updated_at, title, parent_external_id,"
    " channel_status, hidden, hidden_reason, removed_at_source, meta"
    " FROM messages WHERE thread_id = ?1 ORDER BY created_at, id";

static const char *const threads_statuses[] = {
	"new", "open", "in_progress", "resolved", "closed", "hidden", NULL,
};

static int
threads_status_ok(const char *status)
{
	size_t i;

	for (i = 0; threads_statuses[i] != NULL; i++)
		if (strcmp(threads_statuses[i], status) == 0)
			return 1;
	return 0;
}

static json_t *
threads_row(sqlite3_stmt *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "org", jsonout_col_str(q, 1));
	json_object_set_new(o, "connector", jsonout_col_str(q, 2));
	json_object_set_new(o, "source", jsonout_col_int(q, 3));
	json_object_set_new(o, "reference", jsonout_col_str(q, 4));
	json_object_set_new(o, "subject", jsonout_col_str(q, 5));
	json_object_set_new(o, "status", jsonout_col_str(q, 6));
	json_object_set_new(o, "messages",
	    json_integer(sqlite3_column_int64(q, 7)));
	json_object_set_new(o, "first_at", jsonout_col_time(q, 8));
	json_object_set_new(o, "last_at", jsonout_col_time(q, 9));
	json_object_set_new(o, "first_response_at", jsonout_col_time(q, 10));
	json_object_set_new(o, "assignee", jsonout_col_int(q, 11));
	json_object_set_new(o, "channel_reference", jsonout_col_str(q, 12));
	return o;
}

/* Every row of a stepped statement, each through fn; NULL on error. */
static json_t *
threads_rows(sqlite3_stmt *q, json_t *(*fn)(sqlite3_stmt *))
{
	json_t *out = json_array();
	int rc;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, fn(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *
threads_list(struct store *s, const struct threads_filter *f)
{
	int64_t org = 0;
	sqlite3_stmt *q;
	int variant = 0;

	if (f->org != NULL) {
		/* An organisation we do not know has no threads. */
		if ((org = orgs_id(s, f->org)) == -1)
			return json_array();
		variant |= 1;
	}
	if (f->status != NULL) {
		if (!threads_status_ok(f->status))
			return NULL;
		variant |= 2;
	}
	if ((q = store_stmt(s, threads_sql_list[variant])) == NULL)
		return NULL;
	if (variant & 1)
		sqlite3_bind_int64(q, 1, org);
	if (variant & 2)
		store_bind_text(q, 2, f->status);
	sqlite3_bind_int(q, 3, f->limit > 0 ? f->limit : -1);
	return threads_rows(q, threads_row);
}

/* What the channel adds, as the object it is; left out when none. */
static void
threads_meta(json_t *o, sqlite3_stmt *q, int i)
{
	const char *text = store_col_text(q, i);
	json_t *meta;

	if (text == NULL ||
	    (meta = json_loads(text, JSON_REJECT_DUPLICATES, NULL)) == NULL)
		return;
	if (json_is_object(meta))
		json_object_set_new(o, "meta", meta);
	else
		json_decref(meta);
}

static json_t *
threads_item(sqlite3_stmt *q)
{
	json_t *o = json_object();
	int author = sqlite3_column_type(q, 3) != SQLITE_NULL ? 3 : 4;

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "external_id", jsonout_col_str(q, 1));
	json_object_set_new(o, "direction", jsonout_col_str(q, 2));
	json_object_set_new(o, "author", jsonout_col_str(q, author));
	json_object_set_new(o, "author_handle", jsonout_col_str(q, 4));
	json_object_set_new(o, "title", jsonout_col_str(q, 10));
	json_object_set_new(o, "body", jsonout_col_str(q, 5));
	json_object_set_new(o, "url", jsonout_col_str(q, 6));
	json_object_set_new(o, "rating", jsonout_col_int(q, 7));
	json_object_set_new(o, "created_at", jsonout_col_time(q, 8));
	json_object_set_new(o, "updated_at", jsonout_col_time(q, 9));
	json_object_set_new(o, "parent_external_id", jsonout_col_str(q, 11));
	json_object_set_new(o, "channel_status", jsonout_col_str(q, 12));
	json_object_set_new(o, "hidden",
	    json_boolean(sqlite3_column_int(q, 13)));
	json_object_set_new(o, "hidden_reason", jsonout_col_str(q, 14));
	json_object_set_new(o, "removed_at_source", jsonout_col_time(q, 15));
	threads_meta(o, q, 16);
	return o;
}

/*
 * A reference as a patient reads it out: any case, with or without
 * the "H-" (or just the H), O for 0 and I or L for 1 (Crockford).
 */
static int
threads_ref_normal(const char *in, char out[9])
{
	char raw[8];
	size_t n = 0, i, skip;
	int ch;

	for (; *in != '\0'; in++) {
		ch = toupper((unsigned char)*in);
		if (ch == '-' || ch == ' ')
			continue;
		if (n == sizeof(raw) || !isalnum(ch))
			return -1;
		raw[n++] = (char)ch;
	}
	if (n == 7 && raw[0] == 'H')
		skip = 1;
	else if (n == 6)
		skip = 0;
	else
		return -1;
	out[0] = 'H';
	out[1] = '-';
	for (i = 0; i < 6; i++) {
		ch = raw[skip + i];
		out[2 + i] = ch == 'O' ? '0' : ch == 'I' || ch == 'L' ? '1' :
		    (char)ch;
	}
	out[8] = '\0';
	return 0;
}

int64_t
threads_id(struct store *s, const char *ref)
{
	char norm[9], *end;
	sqlite3_stmt *q;
	long long id;
	int64_t out = 0;

	if (ref[strspn(ref, "0123456789")] == '\0') {
		id = strtoll(ref, &end, 10);
		return *ref != '\0' && id > 0 ? (int64_t)id : 0;
	}
	if (threads_ref_normal(ref, norm) == -1 ||
	    (q = store_stmt(s, threads_sql_by_ref)) == NULL)
		return 0;
	store_bind_text(q, 1, norm);
	if (sqlite3_step(q) == SQLITE_ROW)
		out = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return out;
}

/* The thread's replies and tasks added to t; NULL (t freed) on error. */
static json_t *
threads_outbox(struct store *s, json_t *t, int64_t id)
{
	json_t *tasks, *replies;

	if ((tasks = tasks_json(s, id)) == NULL ||
	    (replies = replies_json(s, id)) == NULL) {
		json_decref(tasks);
		json_decref(t);
		return NULL;
	}
	json_object_set_new(t, "tasks", tasks);
	json_object_set_new(t, "replies", replies);
	return t;
}

/* The thread row with that id, or NULL. */
static json_t *
threads_one(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *t = NULL;

	if (id <= 0 || (q = store_stmt(s, threads_sql_one)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, id);
	if (sqlite3_step(q) == SQLITE_ROW)
		t = threads_row(q);
	sqlite3_reset(q);
	return t;
}

/* 1 if thread id exists. */
static int
threads_exists(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	int found;

	if ((q = store_stmt(s, threads_sql_exists)) == NULL)
		return 0;
	sqlite3_bind_int64(q, 1, id);
	found = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_reset(q);
	return found;
}

/* Id of the thread a channel's own reference names; 0 none. */
static int64_t
threads_channel_id(struct store *s, const char *ref)
{
	sqlite3_stmt *q;
	int64_t id = 0;

	if ((q = store_stmt(s, threads_sql_by_channel_ref)) == NULL)
		return 0;
	store_bind_text(q, 1, ref);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id;
}

json_t *
threads_get(struct store *s, const char *ref)
{
	int64_t id;

	if (ref == NULL)
		return NULL;
	/* heard's id or H- code first, then the channel's reference. */
	if ((id = threads_id(s, ref)) > 0 && threads_exists(s, id))
		return threads_get_id(s, id);
	if ((id = threads_channel_id(s, ref)) > 0)
		return threads_get_id(s, id);
	return NULL;
}

json_t *
threads_get_id(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *t, *items;

	t = threads_one(s, id);
	if (t == NULL || (q = store_stmt(s, threads_sql_items)) == NULL) {
		json_decref(t);
		return NULL;
	}
	sqlite3_bind_int64(q, 1, id);
	if ((items = threads_rows(q, threads_item)) == NULL) {
		json_decref(t);
		return NULL;
	}
	json_object_set_new(t, "items", items);
	return threads_outbox(s, t, id);
}
