/* tasks: "post this" tasks, for channels where staff post replies by hand. */
#include "tasks.h"

#include <jansson.h>
#include <sqlite3.h>

#include "jsonout.h"
#include "store.h"

static const char tasks_sql_open[] =
    "INSERT INTO tasks (thread_id, reply_id, text, url, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
/* The oldest first: staff post them in the order they wrote them. */
static const char tasks_sql_oldest[] =
    "SELECT id FROM tasks WHERE thread_id = ?1 AND closed_at IS NULL"
    " AND created_at <= ?2 ORDER BY created_at, id LIMIT 1";
static const char tasks_sql_close[] =
    "UPDATE tasks SET closed_at = ?2, closed_by_message_id = ?3"
    " WHERE id = ?1 AND closed_at IS NULL";
static const char tasks_sql_list[] =
    "SELECT id, text, url, created_at, closed_at, reply_id,"
    " closed_by_message_id FROM tasks WHERE thread_id = ?1"
    " ORDER BY created_at, id";

int64_t
tasks_open(struct store *s, int64_t thread_id, int64_t reply_id,
    const char *text, const char *url, int64_t now)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, tasks_sql_open)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread_id);
	if (reply_id > 0)
		sqlite3_bind_int64(q, 2, reply_id);
	store_bind_text(q, 3, text);
	store_bind_text(q, 4, url);
	sqlite3_bind_int64(q, 5, now);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_last_insert_rowid(store_db(s));
}

/* The task a reply dated created_at would answer; 0 none, -1 error. */
static int64_t
tasks_oldest(struct store *s, int64_t thread_id, int64_t created_at)
{
	sqlite3_stmt *q;
	int64_t id = 0;
	int rc;

	if ((q = store_stmt(s, tasks_sql_oldest)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, thread_id);
	sqlite3_bind_int64(q, 2, created_at > INT64_MAX - TASKS_DATE_SLACK ?
	    INT64_MAX : created_at + TASKS_DATE_SLACK);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return id;
}

int64_t
tasks_close_seen(struct store *s, int64_t thread_id, int64_t message_id,
    int64_t created_at, int64_t now)
{
	sqlite3_stmt *q;
	int64_t id;
	int rc;

	if ((id = tasks_oldest(s, thread_id, created_at)) <= 0)
		return id;
	if ((q = store_stmt(s, tasks_sql_close)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, message_id);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? id : -1;
}

static json_t *
tasks_row(sqlite3_stmt *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "text", jsonout_col_str(q, 1));
	json_object_set_new(o, "url", jsonout_col_str(q, 2));
	json_object_set_new(o, "created_at", jsonout_col_time(q, 3));
	json_object_set_new(o, "closed_at", jsonout_col_time(q, 4));
	json_object_set_new(o, "reply", jsonout_col_int(q, 5));
	json_object_set_new(o, "closed_by", jsonout_col_int(q, 6));
	return o;
}

json_t *
tasks_json(struct store *s, int64_t thread_id)
{
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if ((q = store_stmt(s, tasks_sql_list)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, thread_id);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, tasks_row(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}
