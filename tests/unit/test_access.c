/* test_access: who may read, write and administer, every way it is asked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "access.h"
#include "replies.h"
#include "store.h"
#include "testdb.h"

/*
 * Real ODS codes, filled in as inbox/orgs.c files them: a trust's
 * parent and ICB are both its ICB (etr column 4); a GP practice's
 * parent is its sub-ICB location (epraccur column 15) and its ICB
 * column 4; a trust site's parent is its trust.
 */
static const char fixture_sql[] =
    "INSERT INTO organisations (id, code, name, type, parent_code,"
    " icb_code, updated_at) VALUES"
    " (1, 'QHM', 'North East and North Cumbria ICB', 'icb', NULL, NULL, 0),"
    " (2, 'QKK', 'South East London ICB', 'icb', NULL, NULL, 0),"
    " (3, '16C', 'NENC ICB - 16C', 'sub-icb', 'QHM', 'QHM', 0),"
    " (4, 'RTD', 'Newcastle upon Tyne Hospitals', 'trust', 'QHM', 'QHM', 0),"
    " (5, 'RJ1', 'Guy''s and St Thomas''', 'trust', 'QKK', 'QKK', 0),"
    " (6, 'A81001', 'The Densham Surgery', 'gp-practice', '16C', 'QHM', 0),"
    " (7, 'A81002', 'Queens Park Medical Centre', 'gp-practice', '16C',"
    "  'QHM', 0),"
    " (8, 'RJ121', 'St Thomas'' Hospital', 'trust-site', 'RJ1', 'QKK', 0),"
    " (9, 'Y56', 'London', 'region', NULL, NULL, 0);"
    "INSERT INTO users (id, email, role, created_at, disabled) VALUES"
    " (1, 'admin@nhs.net', 'admin', 0, 0),"
    " (2, 'lead.rtd@nhs.net', 'lead', 0, 0),"
    " (3, 'rev.qhm@nhs.net', 'reviewer', 0, 0),"
    " (4, 'rev.16c@nhs.net', 'reviewer', 0, 0),"
    " (5, 'lead.16c@nhs.net', 'lead', 0, 0),"
    " (6, 'gone.rev@nhs.net', 'reviewer', 0, 1),"
    " (7, 'gone.admin@nhs.net', 'admin', 0, 1),"
    " (8, 'rev.rj1@nhs.net', 'reviewer', 0, 0),"
    " (9, 'lead.two@nhs.net', 'lead', 0, 0);"
    "INSERT INTO memberships (user_id, org_id) VALUES"
    " (2, 4), (3, 1), (4, 3), (5, 3), (6, 1), (8, 5), (9, 4), (9, 5);";

#define NORGS	9

/* What each user may do, by organisation code; "*" is every one. */
static const struct {
	int64_t		 user;
	const char	*read;
	const char	*write;
	int		 admin;
} rules[] = {
	{ 1, "*", "*", 1 },
	{ 2, "RTD", "RTD", 0 },
	/* An ICB's reviewer: its sub-ICB and trust by parent, the
	 * practices by ICB. */
	{ 3, "QHM 16C RTD A81001 A81002", "", 0 },
	/* A sub-ICB's reviewer: its practices by parent, not its ICB. */
	{ 4, "16C A81001 A81002", "", 0 },
	/* A lead reads no more than it answers for. */
	{ 5, "16C", "16C", 0 },
	{ 6, "", "", 0 },
	{ 7, "", "", 0 },
	{ 8, "RJ1 RJ121", "", 0 },
	{ 9, "RTD RJ1", "RTD RJ1", 0 },
	{ 99, "", "", 0 },		/* no such user */
};

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	char		*codes[NORGS + 1];	/* by organisation id */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	sqlite3_stmt *q;
	char *msg = NULL;

	f->s = testdb_open("access", f->dir, f->path);
	if (sqlite3_exec(store_db(f->s), fixture_sql, NULL, NULL, &msg) !=
	    SQLITE_OK)
		fail_msg("fixture: %s", msg);
	assert_int_equal(sqlite3_prepare_v2(store_db(f->s),
	    "SELECT id, code FROM organisations", -1, &q, NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW)
		f->codes[sqlite3_column_int(q, 0)] =
		    strdup((const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int i;

	for (i = 0; i <= NORGS; i++)
		free(f->codes[i]);
	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

/* Whether code is a word of list, or list is "*". */
static int
listed(const char *list, const char *code)
{
	size_t n = strlen(code);
	const char *p;

	if (strcmp(list, "*") == 0)
		return 1;
	for (p = list; (p = strstr(p, code)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			return 1;
	return 0;
}

static void
test_check(void **state)
{
	struct fixture *f = *state;
	size_t i;
	int org;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		for (org = 1; org <= NORGS; org++) {
			if (access_check(f->s, rules[i].user, org,
			    ACCESS_READ) != listed(rules[i].read,
			    f->codes[org]))
				fail_msg("user %lld read %s", (long long)
				    rules[i].user, f->codes[org]);
			if (access_check(f->s, rules[i].user, org,
			    ACCESS_WRITE) != listed(rules[i].write,
			    f->codes[org]))
				fail_msg("user %lld write %s", (long long)
				    rules[i].user, f->codes[org]);
			assert_int_equal(access_check(f->s, rules[i].user,
			    org, ACCESS_ADMIN), rules[i].admin);
		}
		/* No organisation in particular: admins only. */
		assert_int_equal(access_check(f->s, rules[i].user, 0,
		    ACCESS_ADMIN), rules[i].admin);
		assert_int_equal(access_check(f->s, rules[i].user, 0,
		    ACCESS_READ), rules[i].admin);
	}
	assert_int_equal(access_check(f->s, 0, 4, ACCESS_READ), 0);
	assert_int_equal(access_check(f->s, -1, 4, ACCESS_READ), 0);
}

/* The macro's set is exactly access_check's, for every user. */
static const char macro_sql[] = "SELECT o.code FROM organisations o"
    " WHERE o.id IN (" ACCESS_READABLE_ORGS_SQL ") ORDER BY o.id";

static void
test_macro(void **state)
{
	struct fixture *f = *state;
	char got[256], want[256];
	sqlite3_stmt *q;
	size_t i, n;
	int org;

	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), macro_sql, -1,
	    &q, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		got[0] = want[0] = '\0';
		sqlite3_bind_int64(q, 1, rules[i].user);
		while (sqlite3_step(q) == SQLITE_ROW) {
			n = strlen(got);
			snprintf(got + n, sizeof(got) - n, "%s ",
			    sqlite3_column_text(q, 0));
		}
		sqlite3_reset(q);
		for (org = 1; org <= NORGS; org++) {
			if (access_check(f->s, rules[i].user, org,
			    ACCESS_READ) != 1)
				continue;
			n = strlen(want);
			snprintf(want + n, sizeof(want) - n, "%s ",
			    f->codes[org]);
		}
		if (strcmp(got, want) != 0)
			fail_msg("user %lld: SQL '%s', access_check '%s'",
			    (long long)rules[i].user, got, want);
	}
	sqlite3_finalize(q);
}

/*
 * Each arm is an index lookup: the commissioned organisations come by
 * organisations_parent and organisations_icb, and the one full scan
 * of organisations is the admin arm's, under the user's row.
 */
static void
test_macro_plan(void **state)
{
	static const char plan_sql[] = "EXPLAIN QUERY PLAN "
	    ACCESS_READABLE_ORGS_SQL;
	struct fixture *f = *state;
	char plan[4096] = "", *p;
	sqlite3_stmt *q;
	size_t n, scans = 0;

	assert_int_equal(sqlite3_prepare_v2(store_db(f->s), plan_sql, -1, &q,
	    NULL), SQLITE_OK);
	while (sqlite3_step(q) == SQLITE_ROW) {
		n = strlen(plan);
		snprintf(plan + n, sizeof(plan) - n, "%s\n",
		    sqlite3_column_text(q, 3));
	}
	sqlite3_finalize(q);
	assert_non_null(strstr(plan, "organisations_parent (parent_code=?)"));
	assert_non_null(strstr(plan, "organisations_icb (icb_code=?)"));
	assert_non_null(strstr(plan,
	    "SEARCH m USING PRIMARY KEY (user_id=?)"));
	for (p = plan; (p = strstr(p, "SCAN ")) != NULL; p += 5) {
		if (strncmp(p, "SCAN o", 6) != 0 ||
		    (p[6] != ' ' && p[6] != '\n'))
			fail_msg("a scan other than the admin arm's:\n%s",
			    plan);
		scans++;
	}
	assert_int_equal(scans, 1);
}

/* The reply outbox asks the same question and gets the same answer. */
static void
test_replies_agree(void **state)
{
	static const char *const emails[] = { "admin@nhs.net",
	    "lead.rtd@nhs.net", "rev.qhm@nhs.net", "rev.16c@nhs.net",
	    "lead.16c@nhs.net", "gone.rev@nhs.net", "gone.admin@nhs.net",
	    "rev.rj1@nhs.net", "lead.two@nhs.net" };
	struct fixture *f = *state;
	struct reply_author a;
	char err[256];
	size_t i;
	int org, rc;

	for (i = 0; i < sizeof(emails) / sizeof(emails[0]); i++) {
		for (org = 1; org <= NORGS; org++) {
			rc = replies_author(f->s, emails[i], org,
			    f->codes[org], &a, err, sizeof(err));
			if ((rc == 0) != access_check(f->s, (int64_t)i + 1,
			    org, ACCESS_WRITE))
				fail_msg("%s for %s: replies_author %d",
				    emails[i], f->codes[org], rc);
			if (rc == 0)
				assert_int_equal(a.user_id, (int64_t)i + 1);
			else if (i == 2 || i == 3 || i == 7)
				assert_non_null(strstr(err, "reviewer"));
			free(a.name);
		}
	}
	/* Any case of the address is the account. */
	assert_int_equal(replies_author(f->s, "LEAD.RTD@nhs.net", 4, "RTD",
	    &a, err, sizeof(err)), 0);
	free(a.name);
	assert_int_equal(replies_author(f->s, "nobody@nhs.net", 4, "RTD", &a,
	    err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macro, setup, teardown),
		cmocka_unit_test_setup_teardown(test_macro_plan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replies_agree, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
