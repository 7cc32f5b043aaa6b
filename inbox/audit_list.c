/* audit_list: the audit log read back, newest first, a page at a time. */
#include "audit_list.h"

#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#include "jsonout.h"
#include "store.h"
#include "thread_query.h"

/*
 * Keyed on (at, id) as the thread list is, so entries written while
 * someone pages never shift a page; audit_log_object (object, at) and
 * audit_log_at (at) each end in the rowid, so both orders are an
 * index walk.
 */
#define AL_SELECT \
    "SELECT a.id, a.at, a.user_id, u.name, u.email, a.action, a.object," \
    " a.detail FROM audit_log a LEFT JOIN users u ON u.id = a.user_id"
#define AL_ORDER	" ORDER BY a.at DESC, a.id DESC LIMIT ?4"
#define AL_AFTER	" (a.at, a.id) < (?2, ?3)"

static const char *const al_sql[4] = {
	AL_SELECT " WHERE ?1 IS NULL" AL_ORDER,
	AL_SELECT " WHERE a.object = ?1" AL_ORDER,
	AL_SELECT " WHERE" AL_AFTER AL_ORDER,
	AL_SELECT " WHERE a.object = ?1 AND" AL_AFTER AL_ORDER,
};

static json_t *
al_row(sqlite3_stmt *q)
{
	json_t *o = json_object(), *detail = NULL, *user = json_null();
	const char *text = store_col_text(q, 7), *name;

	if (sqlite3_column_type(q, 2) != SQLITE_NULL) {
		name = store_col_text(q, 3);
		json_decref(user);
		user = json_pack("{s:I, s:o}", "id",
		    (json_int_t)sqlite3_column_int64(q, 2), "name",
		    jsonout_col_str(q, name != NULL && *name != '\0' ? 3 : 4));
	}
	if (text != NULL)
		detail = json_loads(text, 0, NULL);
	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "at", jsonout_col_time(q, 1));
	json_object_set_new(o, "user", user);
	json_object_set_new(o, "action", jsonout_col_str(q, 5));
	json_object_set_new(o, "object", jsonout_col_str(q, 6));
	json_object_set_new(o, "detail", detail != NULL ? detail :
	    json_null());
	return o;
}

json_t *
audit_list_json(struct store *s, const char *object, int limit,
    const char *cursor, int *bad, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	json_t *items;
	int64_t at = 0, id = 0;
	char next[48];
	int rc, n = 0;

	*bad = 1;
	if (limit < 1 || limit > AUDIT_LIST_MAX) {
		snprintf(err, errlen, "limit: from 1 to %d", AUDIT_LIST_MAX);
		return NULL;
	}
	if (cursor != NULL &&
	    thread_query_cursor_parse(cursor, &at, &id) == -1) {
		snprintf(err, errlen, "cursor: not one this server gave; "
		    "start again without it");
		return NULL;
	}
	*bad = 0;
	if ((q = store_stmt(s, al_sql[(object != NULL) +
	    2 * (cursor != NULL)])) == NULL) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		return NULL;
	}
	store_bind_text(q, 1, object);
	sqlite3_bind_int64(q, 2, at);
	sqlite3_bind_int64(q, 3, id);
	sqlite3_bind_int(q, 4, limit + 1);
	items = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW && n++ < limit) {
		json_array_append_new(items, al_row(q));
		at = sqlite3_column_int64(q, 1);
		id = sqlite3_column_int64(q, 0);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		json_decref(items);
		return NULL;
	}
	if (rc == SQLITE_ROW) {
		thread_query_cursor(at, id, next);
		return json_pack("{s:o, s:s}", "items", items, "next_cursor",
		    next);
	}
	return json_pack("{s:o, s:n}", "items", items, "next_cursor");
}
