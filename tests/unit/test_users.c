/* test_users: accounts, memberships, passwords and their audit trail. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "orgs.h"
#include "store.h"
#include "testdb.h"
#include "users.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */
#define PW	"correct horse battery"

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	char		 err[256];
};

static int64_t
one(struct store *s, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static const char *
text(struct store *s, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *q;

	buf[0] = '\0';
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(buf, len, "%s", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return buf;
}

static void
exec(struct store *s, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(store_db(s), sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->s = testdb_open("users", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "Guy's and St Thomas'",
	    "trust") > 0);
	assert_true(orgs_ensure(f->s, "RTD", "Newcastle upon Tyne",
	    "trust") > 0);
	assert_true(orgs_ensure(f->s, "QHM", "North East and North Cumbria",
	    "icb") > 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

static int64_t
add(struct fixture *f, const char *email, enum user_role role,
    const char *org, enum user_notify n, const char *pw)
{
	const char *orgs[] = { org };
	struct user_new nu = { .email = email, .role = role, .orgs = orgs,
	    .norgs = org != NULL, .notify = n, .password = pw };

	return users_add(f->s, &nu, 0, NOW, f->err, sizeof(f->err));
}

static void
test_names(void **state)
{
	enum user_role r;
	enum user_notify n;

	(void)state;
	assert_int_equal(user_role_parse("lead", &r), 0);
	assert_int_equal(r, ROLE_LEAD);
	assert_string_equal(user_role_name(ROLE_REVIEWER), "reviewer");
	assert_int_equal(user_role_parse("Lead", &r), -1);
	assert_int_equal(user_role_parse(NULL, &r), -1);
	assert_int_equal(user_notify_parse("digest", &n), 0);
	assert_int_equal(n, NOTIFY_DIGEST);
	assert_string_equal(user_notify_name(NOTIFY_MESSAGE), "message");
	assert_int_equal(user_notify_parse("each", &n), -1);
	assert_string_equal(user_role_name((enum user_role)7), "?");
}

static void
test_add(void **state)
{
	struct fixture *f = *state;
	const char *orgs[] = { "rj1", "RTD" };
	struct user_new nu = { .email = "Pat.Lead@NHS.net", .name = "Pat",
	    .role = ROLE_LEAD, .orgs = orgs, .norgs = 2,
	    .notify = NOTIFY_DIGEST };
	struct user u;
	char buf[256];
	int64_t id;

	id = users_add(f->s, &nu, 0, NOW, f->err, sizeof(f->err));
	assert_true(id > 0);
	assert_int_equal(users_find(f->s, "pat.lead@nhs.net", &u), 1);
	assert_int_equal(u.id, id);
	assert_string_equal(u.email, "Pat.Lead@NHS.net");
	assert_string_equal(u.name, "Pat");
	assert_int_equal(u.role, ROLE_LEAD);
	assert_false(u.disabled);
	assert_false(u.has_password);
	user_free(&u);
	assert_int_equal(users_get(f->s, id, &u), 1);
	user_free(&u);
	assert_int_equal(users_get(f->s, id + 1, &u), 0);
	assert_int_equal(users_find(f->s, "nobody@nhs.net", &u), 0);
	assert_int_equal(one(f->s, "SELECT count(*) FROM memberships"
	    " WHERE notify = 'digest'"), 2);
	text(f->s, "SELECT detail FROM audit_log WHERE action = 'user.add'",
	    buf, sizeof(buf));
	assert_string_equal(buf, "{\"email\":\"Pat.Lead@NHS.net\","
	    "\"notify\":\"digest\",\"orgs\":[\"RJ1\",\"RTD\"],"
	    "\"password\":false,\"role\":\"lead\"}");
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE"
	    " user_id IS NULL AND object = 'user:1'"), 1);
}

static void
test_add_refused(void **state)
{
	struct fixture *f = *state;
	const char *two[] = { "RJ1", "NOPE1" };
	struct user_new nu = { .email = "x@nhs.net", .role = ROLE_REVIEWER,
	    .orgs = two, .norgs = 2 };

	assert_true(add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, NULL) > 0);
	/* Any case is the same address. */
	assert_int_equal(add(f, "A@NHS.NET", ROLE_ADMIN, NULL, 0, NULL), -1);
	assert_non_null(strstr(f->err, "already exists"));
	/* Leads and reviewers need an organisation. */
	assert_int_equal(add(f, "l@nhs.net", ROLE_LEAD, NULL, 0, NULL), -1);
	assert_non_null(strstr(f->err, "at least one organisation"));
	/* An unknown code is named, and nothing of the account stays. */
	assert_int_equal(users_add(f->s, &nu, 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "'NOPE1'"));
	assert_int_equal(one(f->s, "SELECT count(*) FROM users"), 1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM memberships"), 0);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log"), 1);
	/* A weak password is refused before anything is written. */
	assert_int_equal(add(f, "w@nhs.net", ROLE_ADMIN, NULL, 0,
	    "aaaaaaaaaa"), -1);
	assert_non_null(strstr(f->err, "repeated"));
	assert_int_equal(one(f->s, "SELECT count(*) FROM users"), 1);
}

static void
test_bad_email_name(void **state)
{
	static const char *const bad[] = {
		"", "nobody", "a@@b.org", "a@b@c.org", "@nhs.net", "a@",
		"a b@nhs.net", " a@nhs.net", "a@nhs.net\r\nBcc: x@y.org",
		"a@nhs..net", "a@.nhs.net", "a@nhs.net.", "<a@nhs.net>",
		"\"a\"@nhs.net", "a,b@nhs.net", "a\x01@nhs.net",
		"\xc3\xa9@nhs.net",
	};
	struct fixture *f = *state;
	char big[300];
	struct user_new nu = { .role = ROLE_ADMIN };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (add(f, bad[i], ROLE_ADMIN, NULL, 0, NULL) != -1)
			fail_msg("accepted email %zu '%s'", i, bad[i]);
		assert_non_null(strstr(f->err, "email"));
	}
	memset(big, 'a', sizeof(big));
	memcpy(big + 250, "@x.org", 7);		/* 256 bytes */
	assert_int_equal(add(f, big, ROLE_ADMIN, NULL, 0, NULL), -1);
	assert_non_null(strstr(f->err, "254"));
	memcpy(big, "b@", 2);			/* domain of 254 */
	assert_int_equal(add(f, big + 2, ROLE_ADMIN, NULL, 0, NULL), -1);
	assert_int_equal(add(f, NULL, ROLE_ADMIN, NULL, 0, NULL), -1);
	/* Names go into mail headers. */
	nu.email = "n@nhs.net";
	nu.name = "Pat\r\nBcc: x@y.org";
	assert_int_equal(users_add(f->s, &nu, 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "control"));
	nu.name = "Pat \xff";
	assert_int_equal(users_add(f->s, &nu, 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "UTF-8"));
	memset(big, 'n', 201);
	big[201] = '\0';
	nu.name = big;
	assert_int_equal(users_add(f->s, &nu, 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM users"), 0);
	nu.name = "Zoë O'Brien";
	assert_true(users_add(f->s, &nu, 0, NOW, f->err,
	    sizeof(f->err)) > 0);
}

static void
test_password(void **state)
{
	struct fixture *f = *state;
	int64_t id, lead;
	struct user u;
	char buf[512], big[1100];

	id = add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, PW);
	assert_true(id > 0);
	lead = add(f, "l@nhs.net", ROLE_LEAD, "RJ1", 0, NULL);
	assert_int_equal(users_check_password(f->s, "A@nhs.net", PW), id);
	assert_int_equal(users_check_password(f->s, "a@nhs.net", "wrong one!"),
	    0);
	assert_int_equal(users_check_password(f->s, "x@nhs.net", PW), 0);
	assert_int_equal(users_check_password(f->s, NULL, PW), 0);
	assert_int_equal(users_check_password(f->s, "a@nhs.net", NULL), 0);
	memset(big, 'p', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(users_check_password(f->s, "a@nhs.net", big), 0);
	/* No password yet: nothing matches, not even an empty one. */
	assert_int_equal(users_check_password(f->s, "l@nhs.net", ""), 0);
	assert_int_equal(users_set_password(f->s, lead, "short", id, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(users_set_password(f->s, 99, PW, id, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "99"));
	assert_int_equal(users_set_password(f->s, lead, PW " 2", id, NOW,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(users_check_password(f->s, "l@nhs.net", PW " 2"),
	    lead);
	assert_int_equal(users_get(f->s, lead, &u), 1);
	assert_true(u.has_password);
	user_free(&u);
	/* Audited as done by the admin, with no secret in the detail. */
	assert_int_equal(one(f->s, "SELECT user_id FROM audit_log"
	    " WHERE action = 'user.password'"), id);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE"
	    " instr(coalesce(detail, ''), 'scrypt') OR instr(coalesce(detail,"
	    " ''), 'horse')"), 0);
	text(f->s, "SELECT password_hash FROM users WHERE id = 2", buf,
	    sizeof(buf));
	assert_int_equal(strncmp(buf, "$scrypt$ln=15,r=8,p=1$", 22), 0);
	/* A disabled account logs in no more. */
	assert_int_equal(users_update(f->s, lead, NULL, NULL, &(int){ 1 }, id,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(users_check_password(f->s, "l@nhs.net", PW " 2"), 0);
	assert_int_equal(users_logged_in(f->s, id, NOW + 5), 0);
	assert_int_equal(one(f->s, "SELECT last_login_at FROM users"
	    " WHERE id = 1"), NOW + 5);
}

static void
test_update(void **state)
{
	struct fixture *f = *state;
	enum user_role lead = ROLE_LEAD, admin = ROLE_ADMIN;
	int64_t a, b, r;
	char buf[256];

	a = add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, NULL);
	b = add(f, "b@nhs.net", ROLE_ADMIN, NULL, 0, NULL);
	r = add(f, "r@nhs.net", ROLE_REVIEWER, "QHM", 0, NULL);
	assert_int_equal(users_update(f->s, r, "Rev", &lead, NULL, a, NOW,
	    f->err, sizeof(f->err)), 0);
	text(f->s, "SELECT group_concat(action || ' ' || detail, '; ') FROM"
	    " (SELECT * FROM audit_log WHERE object = 'user:3' AND"
	    " action != 'user.add' ORDER BY id)", buf, sizeof(buf));
	assert_string_equal(buf, "user.name {\"from\":\"\",\"to\":\"Rev\"}; "
	    "user.role {\"from\":\"reviewer\",\"to\":\"lead\"}");
	/* Nothing changed, nothing audited. */
	assert_int_equal(users_update(f->s, r, "Rev", &lead, &(int){ 0 }, a,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log"), 5);
	/* An admin has no organisations: it cannot become a lead. */
	assert_int_equal(users_update(f->s, b, NULL, &lead, NULL, a, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "at least one organisation"));
	/* The last admin stays one, and enabled. */
	assert_int_equal(users_update(f->s, b, NULL, NULL, &(int){ 1 }, a,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(users_update(f->s, a, NULL, NULL, &(int){ 1 }, a,
	    NOW, f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "last enabled admin"));
	assert_int_equal(users_set_org(f->s, a, "RJ1", NOTIFY_NONE, 0, NOW,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(users_update(f->s, a, NULL, &lead, NULL, a, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM users"
	    " WHERE role = 'admin' AND disabled = 0"), 1);
	assert_int_equal(users_update(f->s, b, NULL, &admin, &(int){ 0 }, a,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(users_update(f->s, a, NULL, &lead, NULL, a, NOW,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(users_update(f->s, 42, "x", NULL, NULL, a, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(users_update(f->s, r, "a\nb", NULL, NULL, a, NOW,
	    f->err, sizeof(f->err)), -1);
}

static void
test_disable_ends_sessions(void **state)
{
	struct fixture *f = *state;
	int64_t a, l;

	a = add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, NULL);
	l = add(f, "l@nhs.net", ROLE_LEAD, "RJ1", 0, NULL);
	exec(f->s, "INSERT INTO sessions VALUES ('h1', 2, 'c', 1, 1, 9e9);"
	    "INSERT INTO sessions VALUES ('h2', 1, 'c', 1, 1, 9e9);"
	    "INSERT INTO api_tokens (user_id, name, token_hash, created_at)"
	    " VALUES (2, 'script', 't1', 1);");
	assert_int_equal(users_update(f->s, l, NULL, NULL, &(int){ 1 }, a,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(one(f->s, "SELECT count(*) FROM sessions"), 1);
	assert_int_equal(one(f->s, "SELECT revoked_at FROM api_tokens"), NOW);
	assert_int_equal(one(f->s, "SELECT action = 'user.disable' FROM"
	    " audit_log ORDER BY id DESC LIMIT 1"), 1);
	assert_int_equal(users_update(f->s, l, NULL, NULL, &(int){ 0 }, a,
	    NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(one(f->s, "SELECT action = 'user.enable' FROM"
	    " audit_log ORDER BY id DESC LIMIT 1"), 1);
}

static void
test_orgs(void **state)
{
	struct fixture *f = *state;
	char buf[256];
	int64_t r;

	r = add(f, "r@nhs.net", ROLE_REVIEWER, "QHM", NOTIFY_NONE, NULL);
	assert_int_equal(users_set_org(f->s, r, "rtd", NOTIFY_MESSAGE, 0, NOW,
	    f->err, sizeof(f->err)), 0);
	assert_int_equal(users_set_org(f->s, r, "RTD", NOTIFY_DIGEST, 0, NOW,
	    f->err, sizeof(f->err)), 0);
	/* The same again is no change. */
	assert_int_equal(users_set_org(f->s, r, "RTD", NOTIFY_DIGEST, 0, NOW,
	    f->err, sizeof(f->err)), 0);
	text(f->s, "SELECT group_concat(detail, '; ') FROM (SELECT * FROM"
	    " audit_log WHERE action = 'user.org' ORDER BY id)", buf,
	    sizeof(buf));
	assert_string_equal(buf, "{\"notify\":\"message\",\"org\":\"RTD\","
	    "\"was\":null}; {\"notify\":\"digest\",\"org\":\"RTD\","
	    "\"was\":\"message\"}");
	assert_int_equal(users_set_org(f->s, r, "ZZZ", NOTIFY_DIGEST, 0, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "'ZZZ'"));
	assert_int_equal(users_set_org(f->s, 77, "RJ1", NOTIFY_DIGEST, 0, NOW,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(users_remove_org(f->s, r, "RJ1", 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "not a member"));
	assert_int_equal(users_remove_org(f->s, r, "QHM", 0, NOW, f->err,
	    sizeof(f->err)), 0);
	/* The last one stays. */
	assert_int_equal(users_remove_org(f->s, r, "RTD", 0, NOW, f->err,
	    sizeof(f->err)), -1);
	assert_non_null(strstr(f->err, "only organisation"));
	assert_int_equal(one(f->s, "SELECT count(*) FROM memberships"), 1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log"
	    " WHERE action = 'user.org.remove'"), 1);
}

static void
test_json(void **state)
{
	struct fixture *f = *state;
	json_t *all, *u, *o;
	int64_t l;

	add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, NULL);
	l = add(f, "l@nhs.net", ROLE_LEAD, "RTD", NOTIFY_MESSAGE, PW);
	assert_int_equal(users_set_org(f->s, l, "RJ1", NOTIFY_NONE, 0, NOW,
	    f->err, sizeof(f->err)), 0);
	all = users_json(f->s, 0);
	assert_int_equal(json_array_size(all), 2);
	json_decref(all);
	all = users_json(f->s, l);
	assert_int_equal(json_array_size(all), 1);
	u = json_array_get(all, 0);
	assert_string_equal(json_string_value(json_object_get(u, "role")),
	    "lead");
	assert_true(json_is_true(json_object_get(u, "has_password")));
	assert_true(json_is_false(json_object_get(u, "disabled")));
	assert_string_equal(json_string_value(json_object_get(u,
	    "created_at")), "2026-05-01T12:00:00Z");
	assert_true(json_is_null(json_object_get(u, "last_login_at")));
	assert_null(json_object_get(u, "password_hash"));
	o = json_object_get(u, "orgs");
	assert_int_equal(json_array_size(o), 2);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(o, 0), "code")), "RJ1");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(o, 0), "notify")), "none");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(o, 1), "notify")), "message");
	json_decref(all);
	all = users_json(f->s, 99);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
}

/* A caller's transaction is joined, and its rollback undoes the add. */
static void
test_joins_transaction(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(store_begin(f->s), 0);
	assert_true(add(f, "a@nhs.net", ROLE_ADMIN, NULL, 0, NULL) > 0);
	store_rollback(f->s);
	assert_int_equal(one(f->s, "SELECT count(*) FROM users"), 0);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_add, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bad_email_name, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_password, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_update, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_ends_sessions,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_orgs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_joins_transaction, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
