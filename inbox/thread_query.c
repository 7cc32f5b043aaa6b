/* thread_query: the thread list, counts and view one user may see. */
#include "thread_query.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "buf.h"
#include "jsonout.h"
#include "orgs.h"
#include "store.h"
#include "thread_list.h"
#include "xmalloc.h"

/*
 * One list item. ?1 is always the caller: unread is "no read of theirs
 * at or after the thread's last activity". The tags come sorted, the
 * snippet from the newest message still shown (messages_thread).
 */
#define TQ_COLS \
    "SELECT t.id, t.reference, t.channel_ref, o.code, o.name," \
    " t.connector, t.source_id, t.subject, t.status, t.severity," \
    " t.assignee_id, u.name, u.email," \
    " (SELECT json_group_array(tag) FROM (SELECT tag FROM thread_tags" \
    "  WHERE thread_id = t.id ORDER BY tag))," \
    " t.message_count, " TQ_UNREAD ", t.first_at, t.last_at," \
    " (SELECT substr(m.body, 1, 160) FROM messages m" \
    "  WHERE m.thread_id = t.id AND m.hidden = 0" \
    "  ORDER BY m.created_at DESC, m.id DESC LIMIT 1)," \
    " t.first_response_at, t.hidden_reason"
#define TQ_JOINS \
    " JOIN organisations o ON o.id = t.org_id" \
    " LEFT JOIN users u ON u.id = t.assignee_id"
#define TQ_UNREAD \
    "NOT EXISTS (SELECT 1 FROM reads r WHERE r.thread_id = t.id" \
    " AND r.user_id = ?1 AND r.read_at >= t.last_at)"

/* Each filter is one bit of the statement's shape (tq_sql). */
enum {
	TQ_RESTRICT = 1 << 0,	/* not an admin: readable orgs only */
	TQ_ORG = 1 << 1,
	TQ_CONNECTOR = 1 << 2,
	TQ_STATUS = 1 << 3,
	TQ_UNREAD_ONLY = 1 << 4,
	TQ_ASSIGNED = 1 << 5,
	TQ_SEVERITY = 1 << 6,
	TQ_TAG = 1 << 7,
	TQ_Q = 1 << 8,
	TQ_CURSOR = 1 << 9,
	TQ_FLOOR = 1 << 10,	/* no older than ?11 (tq_floor) */
	TQ_SHAPES = 1 << 11,
};

/* The WHERE terms, in bit order; parameters are numbered per filter. */
static const char *const tq_terms[] = {
	"t.org_id IN (" ACCESS_READABLE_ORGS_SQL ")",
	"t.org_id = ?2",
	"t.connector = ?3",
	"t.status = ?4",
	TQ_UNREAD,
	"t.assignee_id = ?1",
	"t.severity = ?5",
	"t.id IN (SELECT thread_id FROM thread_tags WHERE tag = ?6)",
	"t.id IN (SELECT m.thread_id FROM messages m WHERE m.id IN"
	" (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?7))",
	"(t.last_at, t.id) < (?8, ?9)",
	"t.last_at >= ?11",
};

/*
 * A floor for the page of many organisations: the newest (limit + 1)-th
 * thread of each readable organisation, the latest of those. Every
 * thread of the page is at least that recent (the org whose (limit +
 * 1)-th it is has limit + 1 threads that recent), and no organisation
 * has more than limit + 1 that recent, so the page is sorted out of at
 * most (limit + 1) x organisations rows found by threads_org_last,
 * instead of every thread a reviewer of an ICB may read. One index
 * seek per organisation. Only for the shapes whose filters it repeats.
 */
#define TQ_FLOOR_SQL(where) \
    "WITH r(id) AS (" ACCESS_READABLE_ORGS_SQL ")" \
    " SELECT max((SELECT t.last_at FROM threads t WHERE t.org_id = r.id" \
    where " ORDER BY t.last_at DESC, t.id DESC LIMIT 1 OFFSET ?10 - 1))" \
    " FROM r"
#define TQ_FLOOR_SHOWN	" AND t.status <> 'hidden'"
#define TQ_FLOOR_STATUS	" AND t.status = ?4"
#define TQ_FLOOR_AFTER	" AND (t.last_at, t.id) < (?8, ?9)"
static const char *const tq_floor_sql[4] = {
	TQ_FLOOR_SQL(TQ_FLOOR_SHOWN),
	TQ_FLOOR_SQL(TQ_FLOOR_SHOWN TQ_FLOOR_AFTER),
	TQ_FLOOR_SQL(TQ_FLOOR_STATUS),
	TQ_FLOOR_SQL(TQ_FLOOR_STATUS TQ_FLOOR_AFTER),
};

static const char tq_sql_admin[] =
    "SELECT role = 'admin' AND disabled = 0 FROM users WHERE id = ?1";
static const char tq_sql_item[] = TQ_COLS " FROM threads t" TQ_JOINS
    " WHERE t.id = ?2";
static const char tq_sql_org_of[] =
    "SELECT org_id FROM threads WHERE id = ?1";
static const char tq_sql_read_by[] =
    "SELECT u.id, u.name, u.email, r.read_at FROM reads r"
    " JOIN users u ON u.id = r.user_id WHERE r.thread_id = ?1"
    " ORDER BY r.read_at DESC, u.id";

/*
 * Counts come from two small groupings instead of a look at every
 * thread's reads: the threads per (organisation, connector), from the
 * covering index threads_org_connector_status alone, and the user's
 * reads that are current, per the same pair. Unread is the difference.
 */
#define TQ_COUNT_ALL(where) \
    "SELECT t.org_id, t.connector, count(*) FROM threads t" \
    " WHERE t.status <> 'hidden'" where " GROUP BY t.org_id, t.connector"
#define TQ_COUNT_READ(where) \
    "SELECT t.org_id, t.connector, count(*) FROM reads r" \
    " JOIN threads t ON t.id = r.thread_id WHERE r.user_id = ?1" \
    " AND r.read_at >= t.last_at AND t.status <> 'hidden'" where \
    " GROUP BY t.org_id, t.connector"
#define TQ_READABLE	" AND t.org_id IN (" ACCESS_READABLE_ORGS_SQL ")"

#define TQ_ONE_ORG	" AND t.org_id = ?2"

/* Every organisation, the readable ones, one, one readable. */
static const char *const tq_sql_count_all[4] = { TQ_COUNT_ALL(""),
	TQ_COUNT_ALL(TQ_READABLE), TQ_COUNT_ALL(TQ_ONE_ORG),
	TQ_COUNT_ALL(TQ_READABLE TQ_ONE_ORG) };
static const char *const tq_sql_count_read[4] = { TQ_COUNT_READ(""),
	TQ_COUNT_READ(TQ_READABLE), TQ_COUNT_READ(TQ_ONE_ORG),
	TQ_COUNT_READ(TQ_READABLE TQ_ONE_ORG) };
static const char tq_sql_org_name[] =
    "SELECT code, name FROM organisations WHERE id = ?1";

static const char *const tq_statuses[] = {
	"new", "open", "in_progress", "resolved", "closed", "hidden", NULL,
};
static const char *const tq_severities[] = {
	"low", "normal", "high", "urgent", NULL,
};

static int
tq_in(const char *const *names, const char *s)
{
	for (; s != NULL && *names != NULL; names++)
		if (strcmp(*names, s) == 0)
			return 1;
	return 0;
}

int
thread_query_status_ok(const char *name)
{
	return tq_in(tq_statuses, name);
}

int
thread_query_severity_ok(const char *name)
{
	return tq_in(tq_severities, name);
}

/*
 * The statement text for a shape, built on first use and kept for the
 * process: store_stmt caches a prepared statement by the address of
 * its text, so each of the shapes in use is prepared once per
 * connection, and each is planned on its own (an org filter walks
 * threads_org_last, a tag thread_tags_tag...) as a single statement
 * full of "?N IS NULL OR" terms could not be.
 *
 * The page is chosen first, by ids alone, and only its rows get their
 * tags, snippet and unread: where the order cannot come from an index
 * (a reviewer's many organisations) the sort then holds small rows,
 * and the subqueries run for one page instead of every match (35 ms
 * instead of 190 ms for 35,000 threads).
 */
static const char *
tq_sql(unsigned shape)
{
	static char *cache[TQ_SHAPES];
	struct buf b;
	size_t i;
	int n = 0;

	if (cache[shape] != NULL)
		return cache[shape];
	buf_init(&b, 0);
	buf_puts(&b, TQ_COLS " FROM (SELECT t.id AS pid FROM threads t WHERE ");
	if (!(shape & TQ_STATUS))
		buf_puts(&b, "t.status <> 'hidden'"), n++;
	for (i = 0; i < sizeof(tq_terms) / sizeof(tq_terms[0]); i++)
		if (shape & (1u << i))
			buf_printf(&b, "%s%s", n++ > 0 ? " AND " : "",
			    tq_terms[i]);
	buf_puts(&b, " ORDER BY t.last_at DESC, t.id DESC LIMIT ?10) pg"
	    " JOIN threads t ON t.id = pg.pid" TQ_JOINS
	    " ORDER BY t.last_at DESC, t.id DESC");
	cache[shape] = b.data;
	return cache[shape];
}

/* 1 if the user is an enabled admin (sees every organisation). */
static int
tq_is_admin(struct store *s, int64_t user_id)
{
	sqlite3_stmt *q;
	int admin = 0;

	if ((q = store_stmt(s, tq_sql_admin)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user_id);
	if (sqlite3_step(q) == SQLITE_ROW)
		admin = sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	return admin;
}

static const char tq_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Unpadded base64url of n bytes of in; out holds 4 * n / 3 + 2. */
static void
tq_b64_encode(const unsigned char *in, size_t n, char *out)
{
	uint32_t v;
	size_t i, k;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		for (k = 0; k < 4 && k <= n - i; k++)
			*out++ = tq_b64[(v >> (18 - 6 * k)) & 63];
	}
	*out = '\0';
}

/* Decodes unpadded base64url into out (max bytes); length or -1. */
static int
tq_b64_decode(const char *in, unsigned char *out, size_t max)
{
	uint32_t v = 0;
	size_t n = 0, bits = 0;
	const char *p;

	for (; *in != '\0'; in++) {
		if ((p = strchr(tq_b64, *in)) == NULL)
			return -1;
		v = (v << 6) | (uint32_t)(p - tq_b64);
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (n == max)
				return -1;
			out[n++] = (unsigned char)(v >> bits);
		}
	}
	/* Left-over bits must be zero, so each cursor has one spelling. */
	if (bits >= 6 || (v & ((1u << bits) - 1)) != 0)
		return -1;
	return (int)n;
}

void
thread_query_cursor(int64_t last_at, int64_t id, char out[48])
{
	char text[44];
	int n;

	n = snprintf(text, sizeof(text), "%" PRId64 ".%" PRId64, last_at, id);
	tq_b64_encode((const unsigned char *)text, (size_t)n, out);
}

/* A decimal without sign or leading zero, at most 18 digits. */
static int
tq_number(const char *s, size_t n, int64_t *out)
{
	size_t i;

	if (n == 0 || n > 18 || (s[0] == '0' && n > 1))
		return -1;
	*out = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*out = *out * 10 + (s[i] - '0');
	}
	return 0;
}

int
thread_query_cursor_parse(const char *s, int64_t *last_at, int64_t *id)
{
	unsigned char raw[40];
	const char *dot;
	int n;

	if (s == NULL || strlen(s) > 52 ||
	    (n = tq_b64_decode(s, raw, sizeof(raw) - 1)) <= 0)
		return -1;
	raw[n] = '\0';
	if (memchr(raw, '\0', (size_t)n) != NULL ||
	    (dot = strchr((const char *)raw, '.')) == NULL)
		return -1;
	if (tq_number((const char *)raw, (size_t)(dot - (const char *)raw),
	    last_at) == -1 || tq_number(dot + 1, strlen(dot + 1), id) == -1 ||
	    *id == 0)
		return -1;
	return 0;
}

/*
 * The user's words as an FTS5 query: each a quoted string (so no word
 * is read as an operator or a column), all required, the last one a
 * prefix as someone still typing means it. -1 if there is no word.
 */
static int
tq_fts_query(const char *text, struct buf *out)
{
	const char *p = text;
	size_t n, words = 0;

	while (*p != '\0') {
		p += strspn(p, " \t\r\n");
		if ((n = strcspn(p, " \t\r\n")) == 0)
			break;
		if (++words > TQ_Q_WORDS)
			return -1;
		buf_puts(out, words > 1 ? " \"" : "\"");
		for (; n > 0; n--, p++)
			buf_append(out, *p == '"' ? "\"\"" : p,
			    *p == '"' ? 2 : 1);
		buf_puts(out, "\"");
	}
	if (words == 0)
		return -1;
	buf_puts(out, "*");
	return 0;
}

/* The list item of the row at q (TQ_SELECT's columns). */
static json_t *
tq_item(sqlite3_stmt *q)
{
	json_t *o = json_object(), *tags;
	const char *text;

	json_object_set_new(o, "id", json_integer(sqlite3_column_int64(q, 0)));
	json_object_set_new(o, "reference", jsonout_col_str(q, 1));
	json_object_set_new(o, "channel_reference", jsonout_col_str(q, 2));
	json_object_set_new(o, "org", json_pack("{s:o, s:o}", "code",
	    jsonout_col_str(q, 3), "name", jsonout_col_str(q, 4)));
	json_object_set_new(o, "connector", jsonout_col_str(q, 5));
	json_object_set_new(o, "source", jsonout_col_int(q, 6));
	json_object_set_new(o, "subject", jsonout_col_str(q, 7));
	json_object_set_new(o, "status", jsonout_col_str(q, 8));
	json_object_set_new(o, "severity", jsonout_col_str(q, 9));
	if (sqlite3_column_type(q, 10) == SQLITE_NULL)
		json_object_set_new(o, "assignee", json_null());
	else
		json_object_set_new(o, "assignee", json_pack("{s:I, s:o}",
		    "id", (json_int_t)sqlite3_column_int64(q, 10), "name",
		    jsonout_col_str(q, (text = store_col_text(q, 11)) != NULL &&
		    *text != '\0' ? 11 : 12)));
	text = store_col_text(q, 13);
	tags = text != NULL ? json_loads(text, 0, NULL) : NULL;
	json_object_set_new(o, "tags", json_is_array(tags) ? tags :
	    (json_decref(tags), json_array()));
	json_object_set_new(o, "messages",
	    json_integer(sqlite3_column_int64(q, 14)));
	json_object_set_new(o, "unread",
	    json_boolean(sqlite3_column_int(q, 15)));
	json_object_set_new(o, "first_at", jsonout_col_time(q, 16));
	json_object_set_new(o, "last_at", jsonout_col_time(q, 17));
	json_object_set_new(o, "snippet", jsonout_col_str(q, 18));
	json_object_set_new(o, "first_response_at", jsonout_col_time(q, 19));
	return o;
}

/* The filter's shape and its checks; -1 with err for a bad filter. */
static int
tq_shape(const struct tq_filter *f, unsigned *shape, char *err,
    size_t errlen)
{
	*shape = 0;
	if (f->status != NULL && !thread_query_status_ok(f->status)) {
		snprintf(err, errlen, "status: '%.40s' is not one of new, "
		    "open, in_progress, resolved, closed, hidden", f->status);
		return -1;
	}
	if (f->severity != NULL && !thread_query_severity_ok(f->severity)) {
		snprintf(err, errlen, "severity: '%.40s' is not one of low, "
		    "normal, high, urgent", f->severity);
		return -1;
	}
	if (f->limit < 0 || f->limit > TQ_LIMIT_MAX) {
		snprintf(err, errlen, "limit: from 1 to %d", TQ_LIMIT_MAX);
		return -1;
	}
	*shape |= f->org != NULL ? TQ_ORG : 0;
	*shape |= f->connector != NULL ? TQ_CONNECTOR : 0;
	*shape |= f->status != NULL ? TQ_STATUS : 0;
	*shape |= f->unread ? TQ_UNREAD_ONLY : 0;
	*shape |= f->assigned_me ? TQ_ASSIGNED : 0;
	*shape |= f->severity != NULL ? TQ_SEVERITY : 0;
	*shape |= f->tag != NULL ? TQ_TAG : 0;
	*shape |= f->q != NULL ? TQ_Q : 0;
	*shape |= f->cursor != NULL ? TQ_CURSOR : 0;
	return 0;
}

/* Binds what the shape names; -1 with err for a bad filter. */
static int
tq_bind(sqlite3_stmt *q, const struct tq_filter *f, int64_t org,
    const char *fts, char *err, size_t errlen)
{
	int64_t at, id;
	int limit = f->limit > 0 ? f->limit : TQ_LIMIT_DEFAULT;

	if (f->cursor != NULL &&
	    thread_query_cursor_parse(f->cursor, &at, &id) == -1) {
		snprintf(err, errlen, "cursor: not one this server gave; "
		    "start again without it");
		return -1;
	}
	sqlite3_bind_int64(q, 1, f->user_id);
	sqlite3_bind_int64(q, 2, org);
	store_bind_text(q, 3, f->connector);
	store_bind_text(q, 4, f->status);
	store_bind_text(q, 5, f->severity);
	store_bind_text(q, 6, f->tag);
	store_bind_text(q, 7, fts);
	if (f->cursor != NULL) {
		sqlite3_bind_int64(q, 8, at);
		sqlite3_bind_int64(q, 9, id);
	}
	/* One more than asked: whether there is a next page. */
	sqlite3_bind_int(q, 10, limit + 1);
	return 0;
}

/*
 * For a non-admin's list with no filter but status and cursor: 1 and
 * *floor (tq_floor_sql), 0 when there is none (no organisation has a
 * page and more), -1 on error. f is known good (tq_bind passed).
 */
static int
tq_floor(struct store *s, const struct tq_filter *f, unsigned shape,
    int64_t *floor)
{
	char err[8];
	sqlite3_stmt *q;
	int rc, found = 0;

	if ((q = store_stmt(s, tq_floor_sql[(shape & TQ_CURSOR ? 1 : 0) +
	    (shape & TQ_STATUS ? 2 : 0)])) == NULL ||
	    tq_bind(q, f, 0, NULL, err, sizeof(err)) == -1)
		return -1;
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_type(q, 0) != SQLITE_NULL) {
		*floor = sqlite3_column_int64(q, 0);
		found = 1;
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? found : -1;
}

/* Steps the list statement into {"items","next_cursor"}; NULL error. */
static json_t *
tq_page(sqlite3_stmt *q, int limit)
{
	json_t *items = json_array();
	int64_t at = 0, id = 0;
	char cursor[48];
	int rc, n = 0;

	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		if (n++ == limit)
			break;
		json_array_append_new(items, tq_item(q));
		at = sqlite3_column_int64(q, 17);
		id = sqlite3_column_int64(q, 0);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		json_decref(items);
		return NULL;
	}
	if (n > limit) {
		thread_query_cursor(at, id, cursor);
		return json_pack("{s:o, s:s}", "items", items, "next_cursor",
		    cursor);
	}
	return json_pack("{s:o, s:n}", "items", items, "next_cursor");
}

json_t *
thread_query_list(struct store *s, const struct tq_filter *f, int *bad,
    char *err, size_t errlen)
{
	struct buf fts;
	sqlite3_stmt *q;
	unsigned shape;
	int64_t org = 0, floor = 0;
	int admin, rc;
	json_t *out = NULL;

	*bad = 1;
	if (tq_shape(f, &shape, err, errlen) == -1)
		return NULL;
	buf_init(&fts, 0);
	if (f->q != NULL && (strlen(f->q) > TQ_Q_MAX ||
	    tq_fts_query(f->q, &fts) == -1)) {
		snprintf(err, errlen, "q: from 1 to %d words, at most %d "
		    "bytes", TQ_Q_WORDS, TQ_Q_MAX);
		goto done;
	}
	*bad = 0;
	if ((admin = tq_is_admin(s, f->user_id)) == -1)
		goto store;
	shape |= admin ? 0 : TQ_RESTRICT;
	/* An organisation heard does not know has no threads. */
	if (f->org != NULL && (org = orgs_id(s, f->org)) == -1)
		org = 0;
	if ((q = store_stmt(s, tq_sql(shape))) == NULL)
		goto store;
	if (tq_bind(q, f, org, fts.data, err, errlen) == -1) {
		*bad = 1;
		sqlite3_reset(q);
		goto done;
	}
	if ((shape & TQ_RESTRICT) && (shape & ~(TQ_RESTRICT | TQ_CURSOR |
	    TQ_STATUS)) == 0 && (rc = tq_floor(s, f, shape, &floor)) != 0) {
		sqlite3_reset(q);
		if (rc == -1 || (q = store_stmt(s, tq_sql(shape |
		    TQ_FLOOR))) == NULL)
			goto store;
		tq_bind(q, f, org, fts.data, err, errlen);
		sqlite3_bind_int64(q, 11, floor);
	}
	if ((out = tq_page(q, f->limit > 0 ? f->limit : TQ_LIMIT_DEFAULT)) !=
	    NULL)
		goto done;
store:
	snprintf(err, errlen, "%s", store_errmsg(s));
done:
	buf_free(&fts);
	return out;
}

/* {"unread","total"} kept under key in o, made on first use. */
static json_t *
tq_tally(json_t *o, const char *key)
{
	json_t *t = json_object_get(o, key);

	if (t == NULL) {
		t = json_pack("{s:i, s:i}", "unread", 0, "total", 0);
		json_object_set_new(o, key, t);
	}
	return t;
}

static void
tq_tally_add(json_t *t, const char *field, json_int_t n)
{
	json_object_set_new(t, field, json_integer(json_integer_value(
	    json_object_get(t, field)) + n));
}

/*
 * Adds each row of a counts statement (org id, connector, n) to the
 * tallies per organisation (by id) and per connector: to "total", or
 * for reads taken from "unread" (which starts as the total). -1 error.
 */
static int
tq_count_rows(struct store *s, const char *sql, int64_t user,
    const int64_t *org, json_t *orgs, json_t *conns, int reads)
{
	char key[24];
	sqlite3_stmt *q;
	json_int_t n;
	int rc;

	if ((q = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	if (org != NULL)
		sqlite3_bind_int64(q, 2, *org);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		snprintf(key, sizeof(key), "%lld",
		    (long long)sqlite3_column_int64(q, 0));
		n = sqlite3_column_int64(q, 2);
		if (reads)
			n = -n;
		tq_tally_add(tq_tally(orgs, key), "unread", n);
		tq_tally_add(tq_tally(conns, store_col_text(q, 1)), "unread",
		    n);
		if (!reads) {
			tq_tally_add(tq_tally(orgs, key), "total", n);
			tq_tally_add(tq_tally(conns, store_col_text(q, 1)),
			    "total", n);
		}
	}
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int
tq_by_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c = strcmp(json_string_value(json_object_get(x, "name")),
	    json_string_value(json_object_get(y, "name")));

	return c != 0 ? c : strcmp(json_string_value(json_object_get(x,
	    "code")), json_string_value(json_object_get(y, "code")));
}

/* The tallies (taken) as a sorted array; orgs get their code and name. */
static json_t *
tq_tally_list(struct store *s, json_t *tallies, int orgs)
{
	json_t *out = json_array(), **v, *t;
	const char *key;
	sqlite3_stmt *q;
	size_t n = 0, i;

	v = xcalloc(json_object_size(tallies) + 1, sizeof(*v));
	json_object_foreach(tallies, key, t) {
		v[n] = json_incref(t);
		if (!orgs)
			json_object_set_new(t, "name", json_string(key));
		else if ((q = store_stmt(s, tq_sql_org_name)) != NULL) {
			sqlite3_bind_int64(q, 1, strtoll(key, NULL, 10));
			if (sqlite3_step(q) == SQLITE_ROW) {
				json_object_set_new(t, "code",
				    jsonout_col_str(q, 0));
				json_object_set_new(t, "name",
				    jsonout_col_str(q, 1));
			}
			sqlite3_reset(q);
		}
		if (!json_is_string(json_object_get(t, "name")))
			json_object_set_new(t, "name", json_string(""));
		if (!json_is_string(json_object_get(t, "code")))
			json_object_set_new(t, "code", json_string(""));
		n++;
	}
	qsort(v, n, sizeof(*v), tq_by_name);
	for (i = 0; i < n; i++) {
		if (!orgs)
			json_object_del(v[i], "code");
		json_array_append_new(out, v[i]);
	}
	free(v);
	json_decref(tallies);
	return out;
}

json_t *
thread_query_counts(struct store *s, int64_t user_id)
{
	return thread_query_counts_of(s, user_id, NULL);
}

json_t *
thread_query_counts_of(struct store *s, int64_t user_id, const int64_t *org)
{
	json_t *orgs = json_object(), *conns = json_object();
	int admin, shape;

	if ((admin = tq_is_admin(s, user_id)) == -1 ||
	    (shape = !admin + (org != NULL ? 2 : 0)) < 0 ||
	    tq_count_rows(s, tq_sql_count_all[shape], user_id, org, orgs,
	    conns, 0) == -1 || tq_count_rows(s, tq_sql_count_read[shape],
	    user_id, org, orgs, conns, 1) == -1) {
		json_decref(orgs);
		json_decref(conns);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "orgs", tq_tally_list(s, orgs, 1),
	    "connectors", tq_tally_list(s, conns, 0));
}

int
thread_query_readable(struct store *s, int64_t user_id, int64_t id,
    int64_t *org_id)
{
	sqlite3_stmt *q;
	int rc;

	*org_id = 0;
	if ((q = store_stmt(s, tq_sql_org_of)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		*org_id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return -1;
	return access_check(s, user_id, *org_id, ACCESS_READ);
}

json_t *
thread_query_item(struct store *s, int64_t user_id, int64_t id)
{
	sqlite3_stmt *q;
	json_t *o = NULL;

	if ((q = store_stmt(s, tq_sql_item)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, user_id);
	sqlite3_bind_int64(q, 2, id);
	if (sqlite3_step(q) == SQLITE_ROW) {
		o = tq_item(q);
		json_object_set_new(o, "hidden_reason", jsonout_col_str(q, 20));
	}
	sqlite3_reset(q);
	return o;
}

/* Who read the thread and when, newest first. */
static json_t *
tq_read_by(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *out;
	const char *name;
	int rc;

	if ((q = store_stmt(s, tq_sql_read_by)) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, id);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		name = store_col_text(q, 1);
		json_array_append_new(out, json_pack("{s:{s:I, s:o}, s:o}",
		    "user", "id", (json_int_t)sqlite3_column_int64(q, 0),
		    "name", jsonout_col_str(q, name != NULL && *name != '\0' ?
		    1 : 2), "read_at", jsonout_col_time(q, 3)));
	}
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

json_t *
thread_query_get(struct store *s, int64_t user_id, int64_t id)
{
	static const char *const keys[] = { "items", "replies", "tasks" };
	json_t *t, *full, *read_by;
	size_t i;

	if ((t = thread_query_item(s, user_id, id)) == NULL)
		return NULL;
	if ((full = threads_get_id(s, id)) == NULL ||
	    (read_by = tq_read_by(s, id)) == NULL) {
		json_decref(full);
		json_decref(t);
		return NULL;
	}
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set(t, keys[i], json_object_get(full, keys[i]));
	json_object_set_new(t, "read_by", read_by);
	json_decref(full);
	return t;
}
