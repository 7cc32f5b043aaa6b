/* stats: figures over the conversations one user may read. */
#include "stats.h"

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "orgs.h"
#include "store.h"
#include "thread_query.h"

/*
 * Each figure comes in four shapes: every organisation (an admin),
 * the readable ones, one organisation, one readable organisation.
 * ?1 is the user, ?2 the organisation, ?3 the time bound.
 */
#define ST_T_READABLE	" AND t.org_id IN (" ACCESS_READABLE_ORGS_SQL ")"
#define ST_T_ORG	" AND t.org_id = ?2"
#define ST_M_READABLE	" AND m.org_id IN (" ACCESS_READABLE_ORGS_SQL ")"
#define ST_M_ORG	" AND m.org_id = ?2"
#define ST_SHAPES(macro, readable, org) { macro(""), macro(readable), \
	macro(org), macro(readable org) }

#define ST_STATUS(w) "SELECT t.status, count(*) FROM threads t" \
    " WHERE 1" w " GROUP BY t.status ORDER BY t.status"
/*
 * Through messages_org (org_id, created_at): one range per
 * organisation, never a scan of every message.
 */
#define ST_MESSAGES(w) "SELECT count(*) FROM messages m" \
    " WHERE m.org_id IN (SELECT id FROM organisations)" \
    " AND m.created_at >= ?3" w
#define ST_RESPONDED(w) "SELECT count(*) FROM threads t" \
    " WHERE t.first_response_at IS NOT NULL" w
/* Over every organisation, threads_response walks d in order. */
#define ST_MEDIAN(w) "SELECT t.first_response_at - t.first_at AS d" \
    " FROM threads t WHERE t.first_response_at IS NOT NULL" w \
    " ORDER BY t.first_response_at - t.first_at LIMIT 2 OFFSET ?3"

static const char *const st_status[4] =
    ST_SHAPES(ST_STATUS, ST_T_READABLE, ST_T_ORG);
static const char *const st_messages[4] =
    ST_SHAPES(ST_MESSAGES, ST_M_READABLE, ST_M_ORG);
static const char *const st_responded[4] =
    ST_SHAPES(ST_RESPONDED, ST_T_READABLE, ST_T_ORG);
static const char *const st_median[4] =
    ST_SHAPES(ST_MEDIAN, ST_T_READABLE, ST_T_ORG);

static const char st_sql_admin[] =
    "SELECT role = 'admin' AND disabled = 0 FROM users WHERE id = ?1";

/* What every statement is bound with. */
struct st_ctx {
	struct store	*s;
	int		 shape;	/* index into the arrays above */
	int64_t		 user;
	int64_t		 org;
};

static sqlite3_stmt *
st_stmt(const struct st_ctx *c, const char *const *sqls, int64_t third)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(c->s, sqls[c->shape])) == NULL)
		return NULL;
	sqlite3_bind_int64(q, 1, c->user);
	if (c->shape >= 2)
		sqlite3_bind_int64(q, 2, c->org);
	if (sqlite3_bind_parameter_count(q) >= 3)
		sqlite3_bind_int64(q, 3, third);
	return q;
}

/* {"<name>": n} from rows of (name, count); NULL on error. */
static json_t *
st_by_name(const struct st_ctx *c, const char *const *sqls)
{
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if ((q = st_stmt(c, sqls, 0)) == NULL)
		return NULL;
	out = json_object();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_object_set_new(out, store_col_text(q, 0),
		    json_integer(sqlite3_column_int64(q, 1)));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

/* The one number a statement gives; -1 on error. */
static int64_t
st_count(const struct st_ctx *c, const char *const *sqls, int64_t third)
{
	sqlite3_stmt *q;
	int64_t n = -1;

	if ((q = st_stmt(c, sqls, third)) == NULL)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return n;
}

/* The median first response in seconds, null when none; NULL error. */
static json_t *
st_median_json(const struct st_ctx *c)
{
	sqlite3_stmt *q;
	int64_t n, v[2] = { 0, 0 };
	int rc, got = 0;

	if ((n = st_count(c, st_responded, 0)) == -1)
		return NULL;
	if (n == 0)
		return json_null();
	if ((q = st_stmt(c, st_median, (n - 1) / 2)) == NULL)
		return NULL;
	while (got < 2 && (rc = sqlite3_step(q)) == SQLITE_ROW)
		v[got++] = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	if (got == 0)
		return NULL;
	/* An even count has two middles: their mean. */
	if (n % 2 == 0 && got == 2)
		return json_integer((v[0] + v[1]) / 2);
	return json_integer(v[0]);
}

static int
st_is_admin(struct store *s, int64_t user)
{
	sqlite3_stmt *q;
	int admin = 0;

	if ((q = store_stmt(s, st_sql_admin)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	if (sqlite3_step(q) == SQLITE_ROW)
		admin = sqlite3_column_int(q, 0);
	sqlite3_reset(q);
	return admin;
}

/*
 * The threads per connector and the unread ones, from the web's
 * counts (thread_query_counts_of: two groupings on an index, not a
 * look at every thread). -1 on error.
 */
static int
st_tallies(const struct st_ctx *c, json_t **conns, int64_t *unread)
{
	json_t *counts, *v;
	size_t i;

	*conns = NULL;
	*unread = 0;
	if ((counts = thread_query_counts_of(c->s, c->user, c->shape >= 2 ?
	    &c->org : NULL)) == NULL)
		return -1;
	*conns = json_object();
	json_array_foreach(json_object_get(counts, "connectors"), i, v)
		json_object_set(*conns, json_string_value(json_object_get(v,
		    "name")), json_object_get(v, "total"));
	json_array_foreach(json_object_get(counts, "orgs"), i, v)
		*unread += json_integer_value(json_object_get(v, "unread"));
	json_decref(counts);
	return 0;
}

json_t *
stats_json(struct store *s, int64_t user_id, const char *org, int64_t now)
{
	struct st_ctx c = { .s = s, .user = user_id };
	json_t *status, *conns = NULL, *median;
	int64_t unread = 0, msgs;
	int admin, tallied;

	if ((admin = st_is_admin(s, user_id)) == -1)
		return NULL;
	c.shape = admin ? 0 : 1;
	if (org != NULL) {
		c.shape += 2;
		/* No such organisation: ids start at 1, so nothing matches. */
		if ((c.org = orgs_id(s, org)) == -1)
			c.org = 0;
	}
	status = st_by_name(&c, st_status);
	tallied = st_tallies(&c, &conns, &unread);
	median = st_median_json(&c);
	msgs = st_count(&c, st_messages, now - 7 * 86400);
	if (status == NULL || tallied == -1 || median == NULL || msgs == -1) {
		json_decref(status);
		json_decref(conns);
		json_decref(median);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:I, s:I, s:o}", "threads", status,
	    "connectors", conns, "unread", (json_int_t)unread, "messages_7d",
	    (json_int_t)msgs, "median_first_response_s", median);
}
