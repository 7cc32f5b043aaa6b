/* orgs: NHS organisations from the ODS extracts: import and search. */
#include "orgs.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <sqlite3.h>

#include "date.h"
#include "jsonout.h"
#include "ods_csv.h"
#include "store.h"

#define ORGS_CODE_MAX	12	/* ODS codes are 3 to 6 characters */
#define ORGS_ODS_FIELDS	27
#define ORGS_PROGRESS	512	/* records between progress calls */

/* One organisation as a row of the table; strings borrowed or NULL. */
struct orgs_row {
	const char	*code;
	const char	*name;
	const char	*type;
	const char	*role;
	const char	*parent;
	const char	*icb;
	const char	*region;
	const char	*postcode;
	const char	*status;
	char		 open_date[11];
	char		 close_date[11];
	char		 parent_buf[8];	/* a site's trust */
	int		 open;
};

struct orgs_ctx;

/* One kind of extract: how its file is named and how a record maps. */
struct orgs_kind {
	const char	*name;
	const char	*prefix;	/* of the file's base name */
	int		 header;	/* first line names the columns */
	int		 (*row)(struct orgs_ctx *, struct orgs_row *);
};

/* One file's import. */
struct orgs_ctx {
	struct store		*store;		/* borrowed */
	const char		*path;		/* borrowed */
	const char		*base;		/* borrowed, into path */
	const struct orgs_kind	*kind;
	struct ods_csv		 csv;
	char			 today[11];	/* YYYY-MM-DD, UTC */
	int64_t			 now;
	int			 col_code;	/* ICB names file only */
	int			 col_name;
	char			 why[160];	/* what was wrong */
};

static int	orgs_row_etr(struct orgs_ctx *, struct orgs_row *);
static int	orgs_row_etrust(struct orgs_ctx *, struct orgs_row *);
static int	orgs_row_eccg(struct orgs_ctx *, struct orgs_row *);
static int	orgs_row_epraccur(struct orgs_ctx *, struct orgs_row *);
static int	orgs_row_icb(struct orgs_ctx *, struct orgs_row *);

/* Longest prefix first: "etrust" must win over "etr". */
static const struct orgs_kind orgs_kinds[] = {
	{ .name = "etrust", .prefix = "etrust", .row = orgs_row_etrust },
	{ .name = "etr", .prefix = "etr", .row = orgs_row_etr },
	{ .name = "eccg", .prefix = "eccg", .row = orgs_row_eccg },
	{ .name = "epraccur", .prefix = "epraccur",
	    .row = orgs_row_epraccur },
	{ .name = "icb", .prefix = "icb", .header = 1,
	    .row = orgs_row_icb },
};

#define ORGS_NKINDS	(sizeof(orgs_kinds) / sizeof(orgs_kinds[0]))

/* The types an organisation may have; kept in C so adding one is easy. */
static const char *const orgs_types[] = {
	"trust", "trust-site", "icb", "sub-icb", "reporting-entity", "hub",
	"ccg", "commissioner", "gp-practice", "prescribing-cost-centre",
	"region", "other", NULL,
};

static int
orgs_bad(struct orgs_ctx *c, const char *fmt, const char *arg)
{
	snprintf(c->why, sizeof(c->why), fmt, arg);
	return -1;
}

static const char *
orgs_opt(const char *s)
{
	return s != NULL && *s != '\0' ? s : NULL;
}

static int
orgs_code_ok(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if (!isalnum((unsigned char)s[n]))
			return 0;
	return n > 0 && n <= ORGS_CODE_MAX;
}

/* "YYYYMMDD" -> "YYYY-MM-DD"; "" stays "". */
static int
orgs_date(struct orgs_ctx *c, const char *in, char out[11])
{
	int i;

	out[0] = '\0';
	if (*in == '\0')
		return 0;
	for (i = 0; i < 8; i++)
		if (!isdigit((unsigned char)in[i]))
			return orgs_bad(c, "bad date '%s'", in);
	if (in[8] != '\0' || strncmp(in + 4, "00", 2) == 0 ||
	    strncmp(in + 4, "12", 2) > 0 || strncmp(in + 6, "00", 2) == 0 ||
	    strncmp(in + 6, "31", 2) > 0)
		return orgs_bad(c, "bad date '%s'", in);
	snprintf(out, 11, "%.4s-%.2s-%.2s", in, in + 4, in + 6);
	return 0;
}

/* The columns every 27-field ODS record shares. */
static int
orgs_row_common(struct orgs_ctx *c, struct orgs_row *r)
{
	char **f = c->csv.field;
	char n[16];

	if (c->csv.nfields != ORGS_ODS_FIELDS) {
		snprintf(n, sizeof(n), "%zu", c->csv.nfields);
		return orgs_bad(c, "expected 27 fields, found %s", n);
	}
	if (!orgs_code_ok(f[0]))
		return orgs_bad(c, "bad organisation code '%s'", f[0]);
	if (*f[1] == '\0')
		return orgs_bad(c, "%s has no name", f[0]);
	if (orgs_date(c, f[10], r->open_date) == -1 ||
	    orgs_date(c, f[11], r->close_date) == -1)
		return -1;
	r->code = f[0];
	r->name = f[1];
	r->region = orgs_opt(f[2]);
	r->icb = orgs_opt(f[3]);
	r->parent = r->icb;
	r->postcode = orgs_opt(f[9]);
	/* A close date may be set ahead; it closes only once reached. */
	r->open = r->close_date[0] == '\0' ||
	    strcmp(r->close_date, c->today) > 0;
	return 0;
}

static int
orgs_row_etr(struct orgs_ctx *c, struct orgs_row *r)
{
	if (orgs_row_common(c, r) == -1)
		return -1;
	r->type = "trust";
	return 0;
}

/* The 2018 etrust has trusts (3 characters) and their sites (5). */
static int
orgs_row_etrust(struct orgs_ctx *c, struct orgs_row *r)
{
	if (orgs_row_common(c, r) == -1)
		return -1;
	if (strlen(r->code) == 3) {
		r->type = "trust";
		return 0;
	}
	if (strlen(r->code) != 5)
		return orgs_bad(c, "'%s' is neither a trust nor a site",
		    r->code);
	snprintf(r->parent_buf, sizeof(r->parent_buf), "%.3s", r->code);
	r->type = "trust-site";
	r->parent = r->parent_buf;
	return 0;
}

/* eccg tells its kinds apart by the non-primary role in column 14. */
static int
orgs_row_eccg(struct orgs_ctx *c, struct orgs_row *r)
{
	static const struct {
		const char *role;
		const char *type;
	} roles[] = {
		{ .role = "RO319", .type = "sub-icb" },
		{ .role = "RO327", .type = "reporting-entity" },
		{ .role = "RO218", .type = "hub" },
	};
	const char *role;
	size_t i;

	if (orgs_row_common(c, r) == -1)
		return -1;
	role = c->csv.field[13];
	r->role = orgs_opt(role);
	r->type = *role == '\0' ? "ccg" : "commissioner";
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		if (strncmp(role, roles[i].role, strlen(roles[i].role)) == 0) {
			r->type = roles[i].type;
			break;
		}
	}
	return 0;
}

/* Both status vocabularies: classic letters and the newer words. */
static int
orgs_status(struct orgs_ctx *c, const char *s, struct orgs_row *r)
{
	static const struct {
		const char *in;
		const char *status;
		int open;
	} st[] = {
		{ "A", "active", 1 }, { "ACTIVE", "active", 1 },
		{ "D", "dormant", 1 }, { "DORMANT", "dormant", 1 },
		{ "C", "closed", 0 }, { "INACTIVE", "closed", 0 },
		{ "P", "proposed", 0 }, { "PROPOSED", "proposed", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		if (strcmp(s, st[i].in) == 0) {
			r->status = st[i].status;
			r->open = r->open && st[i].open;
			return 0;
		}
	}
	return orgs_bad(c, "unknown status '%s'", s);
}

/* Setting 4 (classic) or role RO76 (newer) is a GP practice. */
static int
orgs_is_practice(const char *setting)
{
	const char *p = setting;
	size_t n;

	if (strcmp(setting, "4") == 0)
		return 1;
	while (*p != '\0') {
		n = strcspn(p, "|");
		if (n == 4 && strncmp(p, "RO76", 4) == 0)
			return 1;
		p += n;
		if (*p == '|')
			p++;
	}
	return 0;
}

static int
orgs_row_epraccur(struct orgs_ctx *c, struct orgs_row *r)
{
	char **f = c->csv.field;

	if (orgs_row_common(c, r) == -1 || orgs_status(c, f[12], r) == -1)
		return -1;
	r->role = orgs_opt(f[25]);
	r->type = orgs_is_practice(f[25]) ? "gp-practice" :
	    "prescribing-cost-centre";
	/* The commissioner; Welsh practices have a health board there. */
	if (*f[14] != '\0')
		r->parent = f[14];
	return 0;
}

/* ONS names file: a header row names the ODS code and name columns. */
static int
orgs_icb_header(struct orgs_ctx *c)
{
	size_t i, n;
	const char *h;

	c->col_code = c->col_name = -1;
	for (i = 0; i < c->csv.nfields; i++) {
		h = c->csv.field[i];
		n = strlen(h);
		if (n > 3 && strcmp(h + n - 3, "CDH") == 0)
			c->col_code = (int)i;
		else if (n > 2 && strcmp(h + n - 2, "NM") == 0)
			c->col_name = (int)i;
	}
	if (c->col_code == -1 || c->col_name == -1)
		return orgs_bad(c, "%s", "no ODS code (..CDH) and name (..NM) "
		    "columns in the header");
	return 0;
}

static int
orgs_row_icb(struct orgs_ctx *c, struct orgs_row *r)
{
	char **f = c->csv.field;

	if (c->csv.nfields <= (size_t)c->col_code ||
	    c->csv.nfields <= (size_t)c->col_name)
		return orgs_bad(c, "%s", "missing fields");
	if (!orgs_code_ok(f[c->col_code]))
		return orgs_bad(c, "bad ICB code '%s'", f[c->col_code]);
	if (*f[c->col_name] == '\0')
		return orgs_bad(c, "%s has no name", f[c->col_code]);
	r->code = f[c->col_code];
	r->name = f[c->col_name];
	r->type = "icb";
	r->open = 1;
	return 0;
}

static const struct orgs_kind *
orgs_kind_named(const char *name)
{
	size_t i;

	for (i = 0; i < ORGS_NKINDS; i++)
		if (strcmp(orgs_kinds[i].name, name) == 0)
			return &orgs_kinds[i];
	return NULL;
}

/* By file name, else by the first record's shape. */
static const struct orgs_kind *
orgs_kind_guess(const char *base, const struct ods_csv *csv)
{
	char *const *f = csv->field;
	size_t i;

	for (i = 0; i < ORGS_NKINDS; i++)
		if (strncasecmp(base, orgs_kinds[i].prefix,
		    strlen(orgs_kinds[i].prefix)) == 0)
			return &orgs_kinds[i];
	if (csv->nfields != ORGS_ODS_FIELDS)
		return orgs_kind_named(strncmp(f[0], "ICB", 3) == 0 ?
		    "icb" : "none");
	if (*f[12] != '\0')
		return orgs_kind_named("epraccur");	/* has a status */
	if (*f[23] != '\0')
		return orgs_kind_named("etr");	/* has a GOR code */
	return orgs_kind_named("eccg");
}

static const char orgs_sql_exists[] =
    "SELECT id FROM organisations WHERE code = ?1";

/*
 * The WHERE makes an unchanged record a no-op: no write, no FTS churn,
 * and sqlite3_changes() tells unchanged from updated. source_file is
 * not compared, so the same record in another file is "unchanged".
 */
static const char orgs_sql_upsert[] =
    "INSERT INTO organisations (code, name, type, role, parent_code,"
    " icb_code, region_code, postcode, status, open, open_date,"
    " close_date, source_file, updated_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    " ON CONFLICT (code) DO UPDATE SET name = excluded.name,"
    " type = excluded.type, role = excluded.role,"
    " parent_code = excluded.parent_code, icb_code = excluded.icb_code,"
    " region_code = excluded.region_code, postcode = excluded.postcode,"
    " status = excluded.status, open = excluded.open,"
    " open_date = excluded.open_date, close_date = excluded.close_date,"
    " source_file = excluded.source_file,"
    " updated_at = excluded.updated_at"
    " WHERE name IS NOT excluded.name OR type IS NOT excluded.type"
    " OR role IS NOT excluded.role"
    " OR parent_code IS NOT excluded.parent_code"
    " OR icb_code IS NOT excluded.icb_code"
    " OR region_code IS NOT excluded.region_code"
    " OR postcode IS NOT excluded.postcode"
    " OR status IS NOT excluded.status OR open IS NOT excluded.open"
    " OR open_date IS NOT excluded.open_date"
    " OR close_date IS NOT excluded.close_date";

/* 1 the code is known, 0 not, -1 error. */
static int
orgs_exists(struct store *s, const char *code)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, orgs_sql_exists)) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, code, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_ROW)
		return 1;
	return rc == SQLITE_DONE ? 0 : -1;
}

static void
orgs_bind_row(struct orgs_ctx *c, sqlite3_stmt *q, const struct orgs_row *r)
{
	store_bind_text(q, 1, r->code);
	store_bind_text(q, 2, r->name);
	store_bind_text(q, 3, r->type);
	store_bind_text(q, 4, r->role);
	store_bind_text(q, 5, r->parent);
	store_bind_text(q, 6, r->icb);
	store_bind_text(q, 7, r->region);
	store_bind_text(q, 8, r->postcode);
	store_bind_text(q, 9, r->status);
	sqlite3_bind_int(q, 10, r->open);
	store_bind_text(q, 11, orgs_opt(r->open_date));
	store_bind_text(q, 12, orgs_opt(r->close_date));
	store_bind_text(q, 13, c->base);
	sqlite3_bind_int64(q, 14, c->now);
}

static int
orgs_put(struct orgs_ctx *c, const struct orgs_row *r,
    struct orgs_import_stats *st)
{
	sqlite3_stmt *q;
	int exists, rc, changed;

	if ((exists = orgs_exists(c->store, r->code)) == -1 ||
	    (q = store_stmt(c->store, orgs_sql_upsert)) == NULL)
		return -1;
	orgs_bind_row(c, q, r);
	rc = sqlite3_step(q);
	changed = sqlite3_changes(store_db(c->store));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE)
		return -1;
	if (!changed)
		st->unchanged++;
	else if (exists)
		st->updated++;
	else
		st->inserted++;
	return 0;
}

/* The first record decides the kind; a header is consumed here. */
static int
orgs_first(struct orgs_ctx *c)
{
	c->kind = orgs_kind_guess(c->base, &c->csv);
	if (c->kind == NULL)
		return orgs_bad(c, "%s", "neither an ODS extract (27 fields) "
		    "nor an ICB names file");
	if (c->kind->header)
		return orgs_icb_header(c) == -1 ? -1 : 1;
	return 0;
}

static int
orgs_fail(struct orgs_ctx *c, char *err, size_t errlen, const char *why)
{
	snprintf(err, errlen, "%s:%zu: %s", c->path, c->csv.lineno, why);
	return -1;
}

static int
orgs_records(struct orgs_ctx *c, orgs_progress_fn fn, void *arg,
    struct orgs_import_stats *st, char *err, size_t errlen)
{
	struct orgs_row r;
	int n, first;

	while ((n = ods_csv_next(&c->csv)) == 1) {
		if (c->kind == NULL) {
			if ((first = orgs_first(c)) == -1)
				return orgs_fail(c, err, errlen, c->why);
			if (first == 1)
				continue;
		}
		memset(&r, 0, sizeof(r));
		if (c->kind->row(c, &r) == -1)
			return orgs_fail(c, err, errlen, c->why);
		if (orgs_put(c, &r, st) == -1)
			return orgs_fail(c, err, errlen,
			    store_errmsg(c->store));
		if (++st->rows % ORGS_PROGRESS == 0 && fn != NULL)
			fn(arg, c->csv.done, c->csv.total);
	}
	if (n == -1)
		return orgs_fail(c, err, errlen, c->csv.err);
	if (fn != NULL)
		fn(arg, c->csv.done, c->csv.total);
	return 0;
}

static void
orgs_ctx_init(struct orgs_ctx *c, struct store *s, const char *path,
    int64_t now)
{
	const char *slash = strrchr(path, '/');
	char iso[DATE_ISO_SIZE];

	memset(c, 0, sizeof(*c));
	c->store = s;
	c->path = path;
	c->base = slash != NULL ? slash + 1 : path;
	c->now = now;
	if (date_format(now, iso, sizeof(iso)) == 0)
		snprintf(c->today, sizeof(c->today), "%.10s", iso);
}

int
orgs_import_at(struct store *s, const char *path, int64_t now,
    orgs_progress_fn fn, void *arg, struct orgs_import_stats *stats,
    char *err, size_t errlen)
{
	struct orgs_import_stats st = { 0 };
	struct orgs_ctx c;
	int rc;

	memset(stats, 0, sizeof(*stats));
	orgs_ctx_init(&c, s, path, now);
	if (ods_csv_open(&c.csv, path) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (store_begin(s) == -1) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(s));
		ods_csv_close(&c.csv);
		return -1;
	}
	rc = orgs_records(&c, fn, arg, &st, err, errlen);
	if (rc == 0 && store_commit(s) == -1) {
		snprintf(err, errlen, "%s: %s", path, store_errmsg(s));
		rc = -1;
	}
	if (rc == -1)
		store_rollback(s);
	else
		*stats = st;
	ods_csv_close(&c.csv);
	return rc;
}

int
orgs_import(struct store *s, const char *path, orgs_progress_fn fn,
    void *arg, struct orgs_import_stats *stats, char *err, size_t errlen)
{
	return orgs_import_at(s, path, (int64_t)time(NULL), fn, arg, stats,
	    err, errlen);
}

/*
 * Code matches first (exact, then prefix by a range on the code's
 * index), then name matches through the FTS table, each group open
 * first, then by relevance (bm25: lower is better). "Open" is checked
 * again against today, since a close date set ahead may have passed
 * since the import.
 */
static const char orgs_sql_search[] =
    "WITH hits(id, rank, score) AS ("
    " SELECT id, 0, 0 FROM organisations WHERE code = ?1"
    " UNION ALL"
    " SELECT id, 1, 0 FROM organisations WHERE code > ?1 AND code < ?2"
    " UNION ALL"
    " SELECT rowid, 2, bm25(organisations_fts) FROM organisations_fts"
    "  WHERE organisations_fts MATCH ?3)"
    " SELECT o.code, o.name, o.type, o.parent_code, p.name, o.postcode,"
    "  o.open AND (o.close_date IS NULL OR o.close_date > date('now')),"
    "  min(h.rank) AS r, min(h.score) AS sc"
    " FROM hits h JOIN organisations o ON o.id = h.id"
    " LEFT JOIN organisations p ON p.code = o.parent_code"
    " GROUP BY o.id"
    " ORDER BY r, 7 DESC, sc, o.name LIMIT ?4";

#define ORGS_QUERY_MAX	256

/* An ODS code is short and alphanumeric; upper-cased into out. */
static int
orgs_code_query(const char *text, char *out, size_t len)
{
	size_t i;

	if (!orgs_code_ok(text) || strlen(text) >= len)
		return 0;
	for (i = 0; text[i] != '\0'; i++)
		out[i] = (char)toupper((unsigned char)text[i]);
	out[i] = '\0';
	return 1;
}

static int
orgs_word_ok(const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)w[i];

		if (isalnum(ch) || ch >= 0x80)
			return 1;
	}
	return 0;
}

/*
 * Each word as a quoted FTS5 prefix query ("guy"* "thom"*), so the
 * user's punctuation is never read as query syntax. 0 if no word.
 */
static int
orgs_fts_query(const char *text, char *out, size_t len)
{
	size_t n, o = 0, i;
	const char *p = text;

	for (;;) {
		p += strspn(p, " \t\r\n");
		if ((n = strcspn(p, " \t\r\n")) == 0)
			break;
		if (orgs_word_ok(p, n)) {
			if (o + 2 * n + 4 >= len)
				break;
			out[o++] = '"';
			for (i = 0; i < n; i++) {
				if (p[i] == '"')
					out[o++] = '"';
				out[o++] = p[i];
			}
			memcpy(out + o, "\"* ", 3);
			o += 3;
		}
		p += n;
	}
	out[o] = '\0';
	return o > 0;
}

static json_t *
orgs_search_row(sqlite3_stmt *q)
{
	json_t *o = json_object();

	json_object_set_new(o, "code", jsonout_col_str(q, 0));
	json_object_set_new(o, "name", jsonout_col_str(q, 1));
	json_object_set_new(o, "type", jsonout_col_str(q, 2));
	json_object_set_new(o, "parent", jsonout_col_str(q, 3));
	json_object_set_new(o, "parent_name", jsonout_col_str(q, 4));
	json_object_set_new(o, "postcode", jsonout_col_str(q, 5));
	json_object_set_new(o, "open",
	    json_boolean(sqlite3_column_int(q, 6)));
	return o;
}

json_t *
orgs_search(struct store *s, const char *text, int limit)
{
	char code[ORGS_CODE_MAX + 2], fts[ORGS_QUERY_MAX * 2 + 8];
	sqlite3_stmt *q;
	json_t *out;
	int rc;

	if (text == NULL || strlen(text) > ORGS_QUERY_MAX)
		return NULL;
	if ((q = store_stmt(s, orgs_sql_search)) == NULL)
		return NULL;
	if (orgs_code_query(text, code, sizeof(code) - 1)) {
		store_bind_text(q, 1, code);
		strcat(code, "~");	/* after every alphanumeric code */
		store_bind_text(q, 2, code);
	}
	/* No word: a phrase no name can hold, rather than no query. */
	store_bind_text(q, 3, orgs_fts_query(text, fts, sizeof(fts)) ?
	    fts : "\"\"");
	sqlite3_bind_int(q, 4, limit > 0 ? limit : -1);
	out = json_array();
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(out, orgs_search_row(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static const char orgs_sql_id[] =
    "SELECT id FROM organisations WHERE code = ?1";
/* orgs_search's columns, for one organisation by its code. */
static const char orgs_sql_get[] =
    "SELECT o.code, o.name, o.type, o.parent_code, p.name, o.postcode,"
    " o.open AND (o.close_date IS NULL OR o.close_date > date('now')),"
    " o.icb_code, o.id"
    " FROM organisations o LEFT JOIN organisations p"
    " ON p.code = o.parent_code WHERE o.code = ?1";

json_t *
orgs_get(struct store *s, const char *code)
{
	char up[ORGS_CODE_MAX + 1];
	sqlite3_stmt *q;
	json_t *o = NULL;

	if (code == NULL || !orgs_code_query(code, up, sizeof(up)) ||
	    (q = store_stmt(s, orgs_sql_get)) == NULL)
		return NULL;
	store_bind_text(q, 1, up);
	if (sqlite3_step(q) == SQLITE_ROW) {
		o = orgs_search_row(q);
		json_object_set_new(o, "icb", jsonout_col_str(q, 7));
		json_object_set_new(o, "id",
		    json_integer(sqlite3_column_int64(q, 8)));
	}
	sqlite3_reset(q);
	return o;
}

int64_t
orgs_id(struct store *s, const char *code)
{
	char up[ORGS_CODE_MAX + 1];
	sqlite3_stmt *q;
	int64_t id = -1;

	if (code == NULL || !orgs_code_query(code, up, sizeof(up)))
		return -1;
	if ((q = store_stmt(s, orgs_sql_id)) == NULL)
		return -1;
	store_bind_text(q, 1, up);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id;
}

/* A trust site's trust: its ODS parent, or the site code's first three. */
static const char orgs_sql_site_trust[] =
    "SELECT t.id FROM organisations t WHERE t.type = 'trust' AND"
    " t.code = coalesce((SELECT s.parent_code FROM organisations s"
    " WHERE s.code = ?1 AND s.type = 'trust-site'), substr(?1, 1, 3))";

int64_t
orgs_filing_id(struct store *s, const char *code)
{
	char up[ORGS_CODE_MAX + 1];
	sqlite3_stmt *q;
	int64_t id = -1;

	if (code == NULL || !orgs_code_query(code, up, sizeof(up)))
		return -1;
	/* ODS: a trust site's code is its trust's three and two more. */
	if (strlen(up) != 5 || (q = store_stmt(s, orgs_sql_site_trust)) == NULL)
		return orgs_id(s, code);
	store_bind_text(q, 1, up);
	if (sqlite3_step(q) == SQLITE_ROW)
		id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return id > 0 ? id : orgs_id(s, code);
}

static int
orgs_type_ok(const char *type)
{
	size_t i;

	for (i = 0; orgs_types[i] != NULL; i++)
		if (strcmp(orgs_types[i], type) == 0)
			return 1;
	return 0;
}

/* An existing organisation is left as the ODS import made it. */
static const char orgs_sql_ensure[] =
    "INSERT INTO organisations (code, name, type, open, updated_at)"
    " VALUES (?1, ?2, ?3, 1, ?4) ON CONFLICT (code) DO NOTHING";

int64_t
orgs_ensure(struct store *s, const char *code, const char *name,
    const char *type)
{
	char up[ORGS_CODE_MAX + 1];
	sqlite3_stmt *q;
	int rc;

	if (type == NULL)
		type = "other";
	if (code == NULL || name == NULL || *name == '\0' ||
	    !orgs_code_query(code, up, sizeof(up)) || !orgs_type_ok(type))
		return -1;
	if ((q = store_stmt(s, orgs_sql_ensure)) == NULL)
		return -1;
	store_bind_text(q, 1, up);
	store_bind_text(q, 2, name);
	store_bind_text(q, 3, type);
	sqlite3_bind_int64(q, 4, (int64_t)time(NULL));
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? orgs_id(s, up) : -1;
}
