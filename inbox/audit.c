/* audit: the audit log of staff actions (and heard's own on their behalf). */
#include "audit.h"

#include <stdlib.h>

#include <jansson.h>
#include <sqlite3.h>

#include "store.h"

static const char audit_sql_add[] =
    "INSERT INTO audit_log (at, user_id, action, object, detail)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";

int
audit_add(struct store *s, int64_t now, int64_t user, const char *action,
    const char *object, json_t *detail)
{
	sqlite3_stmt *q;
	char *text = NULL;
	int rc;

	if ((q = store_stmt(s, audit_sql_add)) == NULL) {
		json_decref(detail);
		return -1;
	}
	if (detail != NULL)
		text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	sqlite3_bind_int64(q, 1, now);
	if (user > 0)
		sqlite3_bind_int64(q, 2, user);
	sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 4, object, -1, SQLITE_STATIC);
	store_bind_text(q, 5, text);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	free(text);
	return rc == SQLITE_DONE ? 0 : -1;
}
