/* sources: one connector instance for one organisation, cursor and health. */
#include "sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "jsonout.h"
#include "orgs.h"
#include "store.h"
#include "xmalloc.h"

#define SOURCES_SELECT \
    "SELECT s.id, s.org_id, o.code, s.connector, s.settings, s.cursor," \
    " s.paused, s.last_ok, s.last_error_at, s.last_error," \
    " s.last_error_code, s.failures, s.next_poll, s.created_at" \
    " FROM sources s JOIN organisations o ON o.id = s.org_id"

static const char sources_sql_get[] = SOURCES_SELECT " WHERE s.id = ?1";
static const char sources_sql_all[] = SOURCES_SELECT " ORDER BY s.id";
static const char sources_sql_add[] =
    "INSERT INTO sources (org_id, connector, settings, next_poll,"
    " created_at) VALUES (?1, ?2, ?3, ?4, ?4)";
#define SOURCES_PAUSE \
    " paused = (?3 = 1 OR (paused = 1 AND ?8 = 0)),"
static const char sources_sql_ok[] =
    "UPDATE sources SET last_ok = ?2, last_error = NULL,"
    " last_error_code = 0," SOURCES_PAUSE " failures = ?4, next_poll = ?5"
    " WHERE id = ?1";
static const char sources_sql_failed[] =
    "UPDATE sources SET last_error_at = ?2, last_error = ?6,"
    " last_error_code = ?7," SOURCES_PAUSE " failures = ?4,"
    " next_poll = ?5 WHERE id = ?1";

/*
 * The API's list: one statement per shape (readable orgs or all, one
 * org or any), each through sources_org or the rowid.
 */
#define SOURCES_API(where) SOURCES_SELECT " WHERE 1" where " ORDER BY s.id"
#define SOURCES_READABLE \
    " AND s.org_id IN (" ACCESS_READABLE_ORGS_SQL ")"
static const char *const sources_sql_api[] = {
	SOURCES_API(" AND (?3 = 0 OR s.id = ?3)"),
	SOURCES_API(SOURCES_READABLE " AND (?3 = 0 OR s.id = ?3)"),
	SOURCES_API(" AND s.org_id = ?2 AND (?3 = 0 OR s.id = ?3)"),
	SOURCES_API(SOURCES_READABLE " AND s.org_id = ?2"
	    " AND (?3 = 0 OR s.id = ?3)"),
};
static const char sources_sql_same[] =
    "SELECT id FROM sources WHERE org_id = ?1 AND connector = ?2"
    " AND settings = ?3 ORDER BY id LIMIT 1";
static const char sources_sql_admin[] =
    "SELECT role = 'admin' AND disabled = 0 FROM users WHERE id = ?1";
static const char sources_sql_settings[] =
    "UPDATE sources SET settings = ?2, paused = 0, failures = 0,"
    " next_poll = ?3 WHERE id = ?1";
static const char sources_sql_pause[] =
    "UPDATE sources SET paused = 1 WHERE id = ?1";
static const char sources_sql_unpause[] =
    "UPDATE sources SET paused = 0, failures = 0, next_poll = ?2"
    " WHERE id = ?1";

void
source_free(struct source *src)
{
	if (src == NULL)
		return;
	free(src->org_code);
	free(src->connector);
	free(src->settings);
	free(src->cursor);
	free(src->last_error);
	memset(src, 0, sizeof(*src));
}

static void
sources_row(sqlite3_stmt *q, struct source *src)
{
	src->id = sqlite3_column_int64(q, 0);
	src->org_id = sqlite3_column_int64(q, 1);
	src->org_code = store_col_strdup(q, 2);
	src->connector = store_col_strdup(q, 3);
	src->settings = store_col_strdup(q, 4);
	src->cursor = store_col_strdup(q, 5);
	src->paused = sqlite3_column_int(q, 6);
	src->last_ok = sqlite3_column_int64(q, 7);
	src->last_error_at = sqlite3_column_int64(q, 8);
	src->last_error = store_col_strdup(q, 9);
	src->last_error_code = sqlite3_column_int(q, 10);
	src->failures = sqlite3_column_int(q, 11);
	src->next_poll = sqlite3_column_int64(q, 12);
	src->created_at = sqlite3_column_int64(q, 13);
}

/* A JSON object whose every value is a string. */
static int
sources_settings_ok(const char *settings, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o, *v;
	const char *k;
	int ok = 1;

	if ((o = json_loads(settings, JSON_REJECT_DUPLICATES, &jerr)) ==
	    NULL) {
		snprintf(err, errlen, "settings: %s", jerr.text);
		return 0;
	}
	if (!json_is_object(o)) {
		snprintf(err, errlen, "settings: not a JSON object");
		ok = 0;
	}
	json_object_foreach(o, k, v) {
		if (ok && !json_is_string(v)) {
			snprintf(err, errlen, "settings: %s is not a string",
			    k);
			ok = 0;
		}
	}
	json_decref(o);
	return ok;
}

int64_t
sources_add(struct store *s, const char *org_code, const char *connector,
    const char *settings, int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int64_t org;

	if ((org = orgs_id(s, org_code)) == -1) {
		snprintf(err, errlen, "unknown organisation '%s'",
		    org_code != NULL ? org_code : "");
		return -1;
	}
	if (connector == NULL || *connector == '\0') {
		snprintf(err, errlen, "no connector");
		return -1;
	}
	if (settings == NULL)
		settings = "{}";
	if (!sources_settings_ok(settings, err, errlen))
		return -1;
	if ((q = store_stmt(s, sources_sql_add)) == NULL)
		goto fail;
	sqlite3_bind_int64(q, 1, org);
	store_bind_text(q, 2, connector);
	store_bind_text(q, 3, settings);
	sqlite3_bind_int64(q, 4, now);	/* due at once */
	if (sqlite3_step(q) != SQLITE_DONE)
		goto fail;
	sqlite3_reset(q);
	return sqlite3_last_insert_rowid(store_db(s));
fail:
	snprintf(err, errlen, "%s", store_errmsg(s));
	if (q != NULL)
		sqlite3_reset(q);
	return -1;
}

int
sources_get(struct store *s, int64_t id, struct source *out)
{
	sqlite3_stmt *q;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((q = store_stmt(s, sources_sql_get)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		sources_row(q, out);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

int64_t
sources_same(struct store *s, const char *org_code, const char *connector,
    const char *settings)
{
	sqlite3_stmt *q;
	int64_t org, id = 0;
	int rc;

	if ((org = orgs_id(s, org_code)) == -1)
		return 0;
	if ((q = store_stmt(s, sources_sql_same)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, org);
	store_bind_text(q, 2, connector);
	store_bind_text(q, 3, settings);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? id : -1;
}

int
sources_all(struct store *s, struct source **out, size_t *n)
{
	struct source *all = NULL;
	size_t len = 0, cap = 0;
	sqlite3_stmt *q;
	int rc;

	*out = NULL;
	*n = 0;
	if ((q = store_stmt(s, sources_sql_all)) == NULL)
		return -1;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			all = xrealloc(all, cap * sizeof(*all));
		}
		sources_row(q, &all[len++]);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		sources_free_all(all, len);
		return -1;
	}
	*out = all;
	*n = len;
	return 0;
}

void
sources_free_all(struct source *all, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		source_free(&all[i]);
	free(all);
}

/*
 * Success clears the error text and code but keeps last_error_at, so
 * `sources list` can still tell a flapping source from a steady one.
 */
int
sources_health(struct store *s, int64_t id, int64_t now,
    const struct source_health *h)
{
	sqlite3_stmt *q;
	int rc;

	q = store_stmt(s, h->ok ? sources_sql_ok : sources_sql_failed);
	if (q == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int(q, 3, h->paused ? 1 : 0);
	sqlite3_bind_int(q, 4, h->failures);
	sqlite3_bind_int64(q, 5, h->next_poll);
	sqlite3_bind_int(q, 8, h->was_paused ? 1 : 0);
	if (!h->ok) {
		store_bind_text(q, 6, h->error != NULL ? h->error : "error");
		sqlite3_bind_int(q, 7, h->error_code);
	}
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(store_db(s)) == 1 ? 0 : -1;
}

/* Settings are left out: they may hold API keys. */
static json_t *
sources_row_json(sqlite3_stmt *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "org", jsonout_col_str(q, 2));
	json_object_set_new(o, "connector", jsonout_col_str(q, 3));
	json_object_set_new(o, "paused",
	    json_boolean(sqlite3_column_int(q, 6)));
	json_object_set_new(o, "last_ok", jsonout_col_time(q, 7));
	json_object_set_new(o, "last_error", jsonout_col_str(q, 9));
	json_object_set_new(o, "last_error_at", jsonout_col_time(q, 8));
	json_object_set_new(o, "last_error_code",
	    json_integer(sqlite3_column_int(q, 10)));
	json_object_set_new(o, "failures",
	    json_integer(sqlite3_column_int(q, 11)));
	json_object_set_new(o, "next_poll", jsonout_col_time(q, 12));
	json_object_set_new(o, "created_at", jsonout_col_time(q, 13));
	return o;
}

json_t *
sources_json(struct store *s)
{
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if ((q = store_stmt(s, sources_sql_all)) == NULL)
		return NULL;
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, sources_row_json(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* Steps an UPDATE of one source; 1 changed, 0 none, -1 error. */
static int
sources_run_update(struct store *s, sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	return sqlite3_changes(store_db(s)) > 0 ? 1 : 0;
}

/* One of the UPDATEs above: ?1 the id, ?2 text or time, ?3 time. */
static int
sources_do(struct store *s, const char *sql, int64_t id, const char *text,
    int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (text != NULL) {
		store_bind_text(q, 2, text);
		sqlite3_bind_int64(q, 3, now);
	} else if (sqlite3_bind_parameter_count(q) >= 2)
		sqlite3_bind_int64(q, 2, now);
	return sources_run_update(s, q);
}

int
sources_update(struct store *s, int64_t id, const char *settings,
    int paused, int64_t now, char *err, size_t errlen)
{
	int rc = 1;

	if (settings != NULL && !sources_settings_ok(settings, err, errlen))
		return -1;
	if (settings != NULL)
		rc = sources_do(s, sources_sql_settings, id, settings, now);
	/* A pause asked for wins over the lift new settings bring. */
	if (rc == 1 && paused == 1)
		rc = sources_do(s, sources_sql_pause, id, NULL, now);
	else if (rc == 1 && paused == 0)
		rc = sources_do(s, sources_sql_unpause, id, NULL, now);
	if (rc == -1)
		snprintf(err, errlen, "%s", store_errmsg(s));
	else if (rc == 0)
		snprintf(err, errlen, "no such source");
	return rc;
}

int
sources_setting_secret(const char *name)
{
	static const char *const words[] = { "key", "token", "secret",
	    "password" };
	size_t i;

	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (strstr(name, words[i]) != NULL)
			return 1;
	return 0;
}

/* The stored settings with each secret as "***". */
static json_t *
sources_masked(const char *text)
{
	json_t *o = text != NULL ? json_loads(text, 0, NULL) : NULL;
	const char *k;
	json_t *v;

	if (!json_is_object(o)) {
		json_decref(o);
		return json_object();
	}
	json_object_foreach(o, k, v)
		if (sources_setting_secret(k))
			json_object_set_new(o, k, json_string("***"));
	return o;
}

static const char *
sources_health_name(sqlite3_stmt *q)
{
	if (sqlite3_column_int(q, 6))
		return "paused";
	if (sqlite3_column_int(q, 11) > 0)
		return "failing";
	if (sqlite3_column_type(q, 7) == SQLITE_NULL &&
	    sqlite3_column_type(q, 8) == SQLITE_NULL)
		return "new";
	return "ok";
}

static int
sources_is_admin(struct store *s, int64_t user)
{
	sqlite3_stmt *q;
	int admin = 0;

	if ((q = store_stmt(s, sources_sql_admin)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	if (sqlite3_step(q) == SQLITE_ROW)
		admin = sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	return admin;
}

json_t *
sources_json_for(struct store *s, int64_t user, const char *org, int64_t id)
{
	sqlite3_stmt *q;
	json_t *out, *o;
	int admin, rc;

	if ((admin = sources_is_admin(s, user)) == -1 ||
	    (q = store_stmt(s, sources_sql_api[(admin ? 0 : 1) +
	    (org != NULL ? 2 : 0)])) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_int64(q, 2, org != NULL ? orgs_id(s, org) : 0);
	sqlite3_bind_int64(q, 3, id);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		o = sources_row_json(q);
		json_object_del(o, "last_error_code");
		json_object_set_new(o, "settings",
		    sources_masked(store_col_text(q, 4)));
		json_object_set_new(o, "health",
		    json_string(sources_health_name(q)));
		json_array_append_new(out, o);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}
