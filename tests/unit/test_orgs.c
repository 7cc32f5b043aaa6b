/* test_orgs: ODS import of the shipped extracts, errors, search. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "orgs.h"
#include "store.h"
#include "testdb.h"

#define ODS		HEARD_SOURCE_DIR "/data/ods/"
#define MAY_2026	INT64_C(1777636800)	/* 2026-05-01 12:00 UTC */
#define JUN_29_2026	INT64_C(1782734400)
#define JUN_30_2026	INT64_C(1782820800)

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->s = testdb_open("orgs", f->dir, f->path);
	*state = f;
	return 0;
}

static void
rm(const char *dir, const char *name)
{
	char p[160];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	unlink(p);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	static const char *const names[] = { "bad.csv", "trusts.csv",
	    "epraccur.csv" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		rm(f->dir, names[i]);
	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

static int
count(struct store *s, const char *where)
{
	char sql[512];
	sqlite3_stmt *st;
	int n = -1;

	snprintf(sql, sizeof(sql), "SELECT count(*) FROM organisations%s%s",
	    where != NULL ? " WHERE " : "", where != NULL ? where : "");
	assert_int_equal(sqlite3_prepare_v2(store_db(s), sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void
import(struct store *s, const char *path, int64_t now,
    struct orgs_import_stats *st)
{
	char err[512];

	if (orgs_import_at(s, path, now, NULL, NULL, st, err,
	    sizeof(err)) == -1)
		fail_msg("import %s: %s", path, err);
}

/* Rows, inserted first time, then all unchanged the second time. */
static void
test_import_idempotent(void **state)
{
	static const struct {
		const char *file;
		size_t rows;
	} files[] = {
		{ ODS "icb_names_codes_dec_2024.csv", 42 },
		{ ODS "etr.csv", 274 },
		{ ODS "eccg.csv", 320 },
		{ ODS "epraccur.csv", 15389 },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	size_t i, total = 0;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		import(f->s, files[i].file, MAY_2026, &st);
		assert_int_equal(st.rows, files[i].rows);
		assert_int_equal(st.inserted, files[i].rows);
		assert_int_equal(st.updated + st.unchanged, 0);
		total += files[i].rows;
	}
	assert_int_equal(count(f->s, NULL), total);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		import(f->s, files[i].file, MAY_2026, &st);
		assert_int_equal(st.rows, files[i].rows);
		assert_int_equal(st.inserted, 0);
		assert_int_equal(st.updated, 0);
		assert_int_equal(st.unchanged, files[i].rows);
	}
	assert_int_equal(count(f->s, NULL), total);
}

/* Facts from data/ods/README.md and the ODS file descriptions. */
static void
test_import_facts(void **state)
{
	static const struct {
		const char *code, *name, *type, *parent, *status;
		int open;
	} want[] = {
		{ "RJ1", "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST", "trust",
		    "QKK", NULL, 1 },
		{ "RAP", "NORTH MIDDLESEX UNIVERSITY HOSPITAL NHS TRUST",
		    "trust", "Z9B2Z", NULL, 0 },
		{ "RY9",
		    "HOUNSLOW AND RICHMOND COMMUNITY HEALTHCARE NHS TRUST",
		    "trust", "QWE", NULL, 0 },
		{ "RVJ", "NORTH BRISTOL NHS TRUST", "trust", "QUY", NULL, 1 },
		{ "RA7", "BRISTOL NHS FOUNDATION TRUST", "trust", NULL, NULL,
		    1 },
		{ "QKK", "NHS South East London Integrated Care Board", "icb",
		    NULL, NULL, 1 },
		{ "72Q", NULL, "sub-icb", "QKK", NULL, 1 },
		{ "00C", "NHS DARLINGTON CCG", "ccg", "QHM", NULL, 0 },
		{ "A81001", "THE DENSHAM SURGERY", "gp-practice", "16C",
		    "active", 1 },
		{ "A81003", "VICTORIA MEDICAL PRACTICE", "gp-practice", "00K",
		    "closed", 0 },
		/* ACTIVE, but its close date has passed. */
		{ "A91034", NULL, NULL, NULL, "active", 0 },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	sqlite3_stmt *q;
	size_t i;

	import(f->s, ODS "icb_names_codes_dec_2024.csv", MAY_2026, &st);
	import(f->s, ODS "etr.csv", MAY_2026, &st);
	import(f->s, ODS "eccg.csv", MAY_2026, &st);
	import(f->s, ODS "epraccur.csv", MAY_2026, &st);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), "SELECT name,"
	    " type, parent_code, status, open FROM organisations"
	    " WHERE code = ?", -1, &q, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		sqlite3_reset(q);
		sqlite3_bind_text(q, 1, want[i].code, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_ROW)
			fail_msg("%s not imported", want[i].code);
#define COL(n)	((const char *)sqlite3_column_text(q, n))
		if (want[i].name != NULL)
			assert_string_equal(COL(0), want[i].name);
		if (want[i].type != NULL)
			assert_string_equal(COL(1), want[i].type);
		if (want[i].parent != NULL)
			assert_string_equal(COL(2), want[i].parent);
		if (want[i].status != NULL)
			assert_string_equal(COL(3), want[i].status);
#undef COL
		if (sqlite3_column_int(q, 4) != want[i].open)
			fail_msg("%s: open %d", want[i].code, want[i].open);
	}
	sqlite3_finalize(q);
}

/* Counts per kind, from data/ods/README.md. */
static void
test_import_counts(void **state)
{
	static const struct {
		const char *where;
		int n;
	} want[] = {
		{ "type = 'trust'", 274 },
		{ "type = 'trust' AND open", 203 },
		{ "type = 'trust' AND close_date IS NOT NULL", 72 },
		{ "type = 'sub-icb'", 106 },
		{ "type = 'reporting-entity'", 37 },
		{ "type = 'hub'", 35 },
		{ "type = 'hub' AND open", 16 },
		{ "type = 'ccg'", 142 },
		{ "type = 'ccg' AND open", 0 },
		{ "source_file = 'eccg.csv' AND open", 159 },
		{ "type = 'icb'", 42 },
		{ "status = 'active'", 12515 },
		{ "status = 'closed'", 2680 },
		{ "status = 'dormant'", 194 },
		{ "role = 'RO76' AND status = 'active'", 6599 },
		{ "role = 'RO76|RO268'", 6 },
		{ "type = 'gp-practice' AND status = 'active'", 6604 },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	size_t i;
	int n;

	import(f->s, ODS "icb_names_codes_dec_2024.csv", MAY_2026, &st);
	import(f->s, ODS "etr.csv", MAY_2026, &st);
	import(f->s, ODS "eccg.csv", MAY_2026, &st);
	import(f->s, ODS "epraccur.csv", MAY_2026, &st);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if ((n = count(f->s, want[i].where)) != want[i].n)
			fail_msg("%s: %d, want %d", want[i].where, n,
			    want[i].n);
}

/* The classic epraccur values: A/C/D/P and a numeric setting. */
static void
test_import_legacy_epraccur(void **state)
{
	static const struct {
		const char *where;
		int n;
	} want[] = {
		{ "status = 'active'", 12440 },
		{ "status = 'closed'", 4024 },
		{ "status = 'dormant'", 218 },
		{ "status = 'proposed'", 3 },
		{ "status = 'proposed' AND open", 0 },
		{ "type = 'gp-practice' AND status = 'active'", 6618 },
		{ "code = 'A81001' AND role = '4'"
		    " AND parent_code = '16C'", 1 },
		{ "code = 'A81003' AND NOT open", 1 },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	size_t i;
	int n;

	import(f->s, ODS "legacy-format-2025-09/epraccur.csv", MAY_2026, &st);
	assert_int_equal(st.rows, 16685);
	assert_int_equal(st.inserted, 16685);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if ((n = count(f->s, want[i].where)) != want[i].n)
			fail_msg("%s: %d, want %d", want[i].where, n,
			    want[i].n);
	/* The newer file over the classic one changes values, not rows. */
	import(f->s, ODS "epraccur.csv", MAY_2026, &st);
	assert_int_equal(st.rows, 15389);
	assert_true(st.updated > 0);
	assert_int_equal(st.inserted + st.updated + st.unchanged, 15389);
}

/* A close date set ahead closes on the day, not before. */
static void
test_close_date_ahead(void **state)
{
	static const struct {
		int64_t now;
		int open;
		size_t updated;
	} days[] = {
		{ MAY_2026, 1, 0 },
		{ JUN_29_2026, 1, 0 },
		{ JUN_30_2026, 0, 1 },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	size_t i;

	for (i = 0; i < sizeof(days) / sizeof(days[0]); i++) {
		import(f->s, ODS "etr.csv", days[i].now, &st);
		assert_int_equal(count(f->s, "code = 'RVJ' AND open"),
		    days[i].open);
		if (i > 0)
			assert_int_equal(st.updated, days[i].updated);
	}
}

static void
write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

#define GOOD	"\"RJ1\",\"GUYS\",\"Y56\",\"QKK\",\"\",\"\",\"\",\"\",\"\"," \
	"\"SE1 7EH\",\"19930401\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"," \
	"\"\",\"\",\"1\",\"\",\"H\",\"\",\"\",\"\"\r\n"

/* A bad record anywhere: file:line: reason, and nothing stored. */
static void
test_malformed(void **state)
{
	static const struct {
		const char *name;
		const char *text;
		const char *want;	/* after "<path>:" */
	} cases[] = {
		{ "bad.csv", GOOD "\"RJ2\",\"X\"\r\n",
		    "2: expected 27 fields, found 2" },
		{ "bad.csv", GOOD GOOD "\"RJ3\",\"X\r\n",
		    "3: unterminated quoted field" },
		{ "bad.csv", "\"RJ1\"x,\"X\"\r\n" GOOD,
		    "1: text after a closing quote" },
		{ "trusts.csv", GOOD "\"RJ4\",\"GUYS\",\"\",\"\",\"\",\"\","
		    "\"\",\"\",\"\",\"\",\"19931301\",\"\",\"\",\"\","
		    "\"\",\"\","
		    "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"H\",\"\",\"\",\"\"",
		    "2: bad date '19931301'" },
		{ "epraccur.csv", "\"A1\",\"X\",\"\",\"\",\"\",\"\",\"\",\"\","
		    "\"\",\"\",\"\",\"\",\"OPEN\",\"\",\"\",\"\",\"\","
		    "\"\",\"\","
		    "\"\",\"\",\"\",\"\",\"\",\"\",\"4\",\"\"",
		    "1: unknown status 'OPEN'" },
		{ "bad.csv", GOOD "\"R-1\",\"X\",\"\",\"\",\"\",\"\",\"\","
		    "\"\","
		    "\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
		    "\"\",\"\",\"\",\"\",\"H\",\"\",\"\",\"\"",
		    "2: bad organisation code 'R-1'" },
	};
	struct fixture *f = *state;
	struct orgs_import_stats st;
	char path[160], want[256], err[512];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", f->dir, cases[i].name);
		write_file(path, cases[i].text);
		snprintf(want, sizeof(want), "%s:%s", path, cases[i].want);
		err[0] = '\0';
		assert_int_equal(orgs_import_at(f->s, path, MAY_2026, NULL,
		    NULL, &st, err, sizeof(err)), -1);
		assert_string_equal(err, want);
		assert_int_equal(count(f->s, NULL), 0);
		assert_int_equal(st.inserted, 0);
	}
	assert_int_equal(orgs_import_at(f->s, "/nonexistent.csv", MAY_2026,
	    NULL, NULL, &st, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent.csv: "));
}

/* A file named otherwise is still told by its data. */
static void
test_kind_from_data(void **state)
{
	struct fixture *f = *state;
	struct orgs_import_stats st;
	char path[160];

	snprintf(path, sizeof(path), "%s/trusts.csv", f->dir);
	write_file(path, GOOD);
	import(f->s, path, MAY_2026, &st);
	assert_int_equal(st.inserted, 1);
	assert_int_equal(count(f->s, "code = 'RJ1' AND type = 'trust'"
	    " AND parent_code = 'QKK' AND open_date = '1993-04-01'"
	    " AND postcode = 'SE1 7EH' AND region_code = 'Y56'"), 1);
}

/* The 2018 etrust layout: trusts and their sites, by code length. */
static void
test_etrust_sites(void **state)
{
	struct fixture *f = *state;
	struct orgs_import_stats st;
	char path[160];

	snprintf(path, sizeof(path), "%s/etrust.csv", f->dir);
	write_file(path, GOOD "\"RJ122\",\"ST THOMAS' HOSPITAL\",\"Y56\","
	    "\"QKK\",\"\",\"\",\"\",\"\",\"\",\"SE1 7EH\",\"19930401\","
	    "\"20180731\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\","
	    "\"1\",\"\",\"H\",\"\",\"\",\"\"\r\n");
	import(f->s, path, MAY_2026, &st);
	assert_int_equal(st.inserted, 2);
	assert_int_equal(count(f->s, "code = 'RJ1' AND type = 'trust'"), 1);
	assert_int_equal(count(f->s, "code = 'RJ122' AND type = 'trust-site'"
	    " AND parent_code = 'RJ1' AND icb_code = 'QKK' AND NOT open"),
	    1);
	rm(f->dir, "etrust.csv");
}

struct progress {
	size_t	calls;
	size_t	last_done;
	size_t	total;
	int	backwards;
};

static void
on_progress(void *arg, size_t done, size_t total)
{
	struct progress *p = arg;

	if (done < p->last_done)
		p->backwards = 1;
	p->calls++;
	p->last_done = done;
	p->total = total;
}

static void
test_progress(void **state)
{
	struct fixture *f = *state;
	struct orgs_import_stats st;
	struct progress p = { 0 };
	char err[256];

	assert_int_equal(orgs_import_at(f->s, ODS "epraccur.csv", MAY_2026,
	    on_progress, &p, &st, err, sizeof(err)), 0);
	assert_true(p.calls > 10);
	assert_false(p.backwards);
	assert_int_equal(p.total, 3249814);	/* the file's size */
	assert_int_equal(p.last_done, p.total);
}

static void
import_all(struct store *s)
{
	struct orgs_import_stats st;

	import(s, ODS "icb_names_codes_dec_2024.csv", MAY_2026, &st);
	import(s, ODS "etr.csv", MAY_2026, &st);
	import(s, ODS "eccg.csv", MAY_2026, &st);
	import(s, ODS "epraccur.csv", MAY_2026, &st);
}

static const char *
jstr(json_t *a, size_t i, const char *key)
{
	return json_string_value(json_object_get(json_array_get(a, i), key));
}

static void
test_search(void **state)
{
	static const struct {
		const char *text;
		const char *first;	/* code of the first hit */
		size_t min, max;	/* hits */
	} cases[] = {
		{ "RJ1", "RJ1", 1, 20 },
		{ "rj1", "RJ1", 1, 20 },
		{ "guy's thomas", "RJ1", 1, 3 },
		{ "GUYS AND ST THOMAS", NULL, 0, 0 },
		{ "st thomas' foundation", "RJ1", 1, 3 },
		{ "densham", "A81001", 1, 1 },
		{ "north bristol nhs trust", "RVJ", 1, 1 },
		{ "north bristol nhs", NULL, 3, 3 },
		{ "\"); DROP TABLE organisations; --", NULL, 0, 0 },
		{ "* OR NEAR(", NULL, 0, 0 },
		{ "", NULL, 0, 0 },
		{ "zzzzqqq", NULL, 0, 0 },
	};
	struct fixture *f = *state;
	json_t *a;
	size_t i, n;

	import_all(f->s);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if ((a = orgs_search(f->s, cases[i].text, 20)) == NULL)
			fail_msg("search '%s' failed", cases[i].text);
		n = json_array_size(a);
		if (n < cases[i].min || n > cases[i].max)
			fail_msg("'%s': %zu hits", cases[i].text, n);
		if (cases[i].first != NULL)
			assert_string_equal(jstr(a, 0, "code"),
			    cases[i].first);
		json_decref(a);
	}
	assert_int_equal(count(f->s, NULL), 42 + 274 + 320 + 15389);
}

static void
test_search_shape_and_order(void **state)
{
	struct fixture *f = *state;
	json_t *a, *o;
	size_t i;
	int seen_closed = 0;

	import_all(f->s);
	/* Code prefix first, exact before prefix. */
	a = orgs_search(f->s, "RJ", 50);
	assert_non_null(a);
	for (i = 0; i < json_array_size(a); i++)
		if (strncmp(jstr(a, i, "code"), "RJ", 2) != 0)
			break;
	assert_true(i >= 2);
	json_decref(a);
	/* Open ones first within name matches. */
	a = orgs_search(f->s, "north", 0);
	assert_true(json_array_size(a) > 20);
	for (i = 0; i < json_array_size(a); i++) {
		o = json_array_get(a, i);
		if (!json_is_true(json_object_get(o, "open")))
			seen_closed = 1;
		else if (seen_closed)
			fail_msg("open %s after a closed one",
			    jstr(a, i, "code"));
	}
	assert_true(seen_closed);
	json_decref(a);
	a = orgs_search(f->s, "RJ1", 1);
	assert_int_equal(json_array_size(a), 1);
	o = json_array_get(a, 0);
	assert_string_equal(jstr(a, 0, "name"),
	    "GUY'S AND ST THOMAS' NHS FOUNDATION TRUST");
	assert_string_equal(jstr(a, 0, "type"), "trust");
	assert_string_equal(jstr(a, 0, "parent"), "QKK");
	assert_string_equal(jstr(a, 0, "parent_name"),
	    "NHS South East London Integrated Care Board");
	assert_string_equal(jstr(a, 0, "postcode"), "SE1 7EH");
	assert_true(json_is_true(json_object_get(o, "open")));
	json_decref(a);
}

static void
test_id_and_ensure(void **state)
{
	struct fixture *f = *state;
	int64_t id, id2;

	assert_int_equal(orgs_id(f->s, "RJ1"), -1);
	id = orgs_ensure(f->s, "rj1", "Guy's", "trust");
	assert_true(id > 0);
	assert_int_equal(orgs_id(f->s, "RJ1"), id);
	assert_int_equal(orgs_id(f->s, "rj1"), id);
	id2 = orgs_ensure(f->s, "RJ1", "Other name", "trust");
	assert_int_equal(id2, id);
	assert_int_equal(count(f->s, "name = 'Guy''s'"), 1);
	assert_int_equal(orgs_ensure(f->s, "X1", "X", "spaceship"), -1);
	assert_int_equal(orgs_ensure(f->s, "not a code", "X", "trust"), -1);
	assert_int_equal(orgs_id(f->s, NULL), -1);
	assert_int_equal(orgs_id(f->s, "'; --"), -1);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_import_idempotent),
		T(test_import_facts),
		T(test_import_counts),
		T(test_import_legacy_epraccur),
		T(test_close_date_ahead),
		T(test_malformed),
		T(test_kind_from_data),
		T(test_etrust_sites),
		T(test_progress),
		T(test_search),
		T(test_search_shape_and_order),
		T(test_id_and_ensure),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
