/* test_sessions: sessions, API tokens and invitations, and what is stored. */
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

#include "sessions.h"
#include "store.h"
#include "testdb.h"
#include "users.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */
#define TTL	3600L
#define PW	"correct horse battery"

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
	int64_t		 admin;
	int64_t		 invited;
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

/* Rows of sql with the text bound as ?1. */
static int64_t
count_with(struct store *s, const char *sql, const char *arg)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	sqlite3_bind_text(q, 1, arg, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/*
 * The newest row of a table whose col holds a hashed secret:
 * here we check what is stored is 64 hex digits and never the secret
 * (the exact SHA-256 is checked against Python's in test_api_auth.py).
 */
static void
assert_hashed(struct store *s, const char *table, const char *col,
    const char *secret)
{
	char sql[160];
	sqlite3_stmt *q;
	const unsigned char *v;
	size_t i;

	snprintf(sql, sizeof(sql), "SELECT %s FROM %s ORDER BY rowid DESC "
	    "LIMIT 1", col, table);
	if (sqlite3_prepare_v2(store_db(s), sql, -1, &q, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(store_db(s)));
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	v = sqlite3_column_text(q, 0);
	assert_int_equal(strlen((const char *)v), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", v[i]));
	assert_null(strstr((const char *)v, secret));
	sqlite3_finalize(q);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct user_new admin = { .email = "admin@trust.nhs.uk",
	    .role = ROLE_ADMIN, .password = PW };
	struct user_new lead = { .email = "new@trust.nhs.uk",
	    .role = ROLE_ADMIN };

	f->s = testdb_open("sessions", f->dir, f->path);
	f->admin = users_add(f->s, &admin, 0, NOW, f->err, sizeof(f->err));
	f->invited = users_add(f->s, &lead, 0, NOW, f->err, sizeof(f->err));
	assert_true(f->admin > 0 && f->invited > 0);
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

static void
test_secret_shape(void **state)
{
	char a[SESSIONS_SECRET_LEN], b[SESSIONS_SECRET_LEN];
	size_t i;

	(void)state;
	assert_int_equal(sessions_secret(a), 0);
	assert_int_equal(sessions_secret(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	for (i = 0; i < 43; i++)
		assert_non_null(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij"
		    "klmnopqrstuvwxyz0123456789-_", a[i]));
}

static void
test_session_lifecycle(void **state)
{
	struct fixture *f = *state;
	char id[SESSIONS_SECRET_LEN], csrf[SESSIONS_SECRET_LEN];
	struct session ses;

	assert_int_equal(sessions_create(f->s, f->admin, NOW, TTL, id, csrf),
	    0);
	/* Only the hash of the id is kept. */
	assert_int_equal(count_with(f->s, "SELECT count(*) FROM sessions "
	    "WHERE id_hash = ?1 OR csrf = ?1", id), 0);
	assert_int_equal(count_with(f->s, "SELECT count(*) FROM sessions "
	    "WHERE length(id_hash) = 64 AND csrf = ?1", csrf), 1);
	assert_int_equal(sessions_lookup(f->s, id, NOW + 10, TTL, &ses), 1);
	assert_int_equal(ses.user_id, f->admin);
	assert_string_equal(ses.csrf, csrf);
	/* Used within the minute: not written again. */
	assert_int_equal(ses.refreshed, 0);
	assert_int_equal(ses.expires_at, NOW + TTL);
	/* Used later: the expiry slides. */
	assert_int_equal(sessions_lookup(f->s, id, NOW + 1800, TTL, &ses), 1);
	assert_int_equal(ses.refreshed, 1);
	assert_int_equal(ses.expires_at, NOW + 1800 + TTL);
	/* Past the slid expiry, gone; a wrong id finds nothing. */
	assert_int_equal(sessions_lookup(f->s, id, NOW + 1800 + TTL, TTL,
	    &ses), 0);
	assert_int_equal(sessions_lookup(f->s, "nope", NOW, TTL, &ses), 0);
	assert_int_equal(sessions_lookup(f->s, NULL, NOW, TTL, &ses), 0);
	assert_int_equal(sessions_purge(f->s, NOW + 1800 + TTL), 1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM sessions"), 0);
}

static void
test_session_end_and_disabled_user(void **state)
{
	struct fixture *f = *state;
	char id[SESSIONS_SECRET_LEN], csrf[SESSIONS_SECRET_LEN];
	char id2[SESSIONS_SECRET_LEN];
	struct session ses;
	int off = 1;

	assert_int_equal(sessions_create(f->s, f->admin, NOW, TTL, id, csrf),
	    0);
	assert_int_equal(sessions_create(f->s, f->invited, NOW, TTL, id2,
	    csrf), 0);
	assert_int_equal(sessions_end(f->s, id), 0);
	assert_int_equal(sessions_lookup(f->s, id, NOW, TTL, &ses), 0);
	/* Disabling an account ends its way in. */
	assert_int_equal(users_update(f->s, f->invited, NULL, NULL, &off,
	    f->admin, NOW, f->err, sizeof(f->err)), 0);
	assert_int_equal(sessions_lookup(f->s, id2, NOW, TTL, &ses), 0);
}

static void
test_tokens(void **state)
{
	struct fixture *f = *state;
	char tok[SESSIONS_SECRET_LEN], tok2[SESSIONS_SECRET_LEN];
	char name[SESSIONS_NAME_MAX + 2];
	int64_t id, id2;
	json_t *list;

	id = sessions_token_create(f->s, f->admin, "nightly export", NOW, tok,
	    f->err, sizeof(f->err));
	assert_true(id > 0);
	assert_hashed(f->s, "api_tokens", "token_hash", tok);
	assert_int_equal(sessions_token_user(f->s, tok, NOW + 5), f->admin);
	assert_int_equal(one(f->s, "SELECT last_used_at FROM api_tokens"),
	    NOW + 5);
	/* Written at most once a minute. */
	assert_int_equal(sessions_token_user(f->s, tok, NOW + 30), f->admin);
	assert_int_equal(one(f->s, "SELECT last_used_at FROM api_tokens"),
	    NOW + 5);
	assert_int_equal(sessions_token_user(f->s, tok, NOW + 65), f->admin);
	assert_int_equal(one(f->s, "SELECT last_used_at FROM api_tokens"),
	    NOW + 65);
	assert_int_equal(sessions_token_user(f->s, "forged", NOW), 0);
	/* Names are bounded and printable. */
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(sessions_token_create(f->s, f->admin, name, NOW, tok2,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(sessions_token_create(f->s, f->admin, "", NOW, tok2,
	    f->err, sizeof(f->err)), -1);
	assert_int_equal(sessions_token_create(f->s, f->admin, "a\nb", NOW,
	    tok2, f->err, sizeof(f->err)), -1);
	id2 = sessions_token_create(f->s, f->invited, "theirs", NOW, tok2,
	    f->err, sizeof(f->err));
	/* One's own only, unless an admin asks (owner 0). */
	assert_int_equal(sessions_token_revoke(f->s, id2, f->admin, f->admin,
	    NOW), 0);
	assert_int_equal(sessions_token_revoke(f->s, id, f->admin, f->admin,
	    NOW + 9), 1);
	assert_int_equal(sessions_token_revoke(f->s, id, f->admin, f->admin,
	    NOW + 9), 0);
	assert_int_equal(sessions_token_user(f->s, tok, NOW + 10), 0);
	assert_int_equal(sessions_token_revoke(f->s, id2, 0, f->admin, NOW),
	    1);
	list = sessions_tokens_json(f->s, f->admin);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 0), "name")), "nightly export");
	assert_string_equal(json_string_value(json_object_get(
	    json_array_get(list, 0), "revoked_at")), "2026-05-01T12:00:09Z");
	assert_null(json_object_get(json_array_get(list, 0), "token"));
	json_decref(list);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'token.create'"), 2);
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'token.revoke'"), 2);
}

static void
test_invitation(void **state)
{
	struct fixture *f = *state;
	char tok[SESSIONS_SECRET_LEN];
	int bad;

	assert_int_equal(sessions_invite(f->s, f->invited, f->admin, NOW, tok),
	    0);
	assert_int_equal(one(f->s, "SELECT expires_at FROM invitations"),
	    NOW + 7 * 86400);
	assert_int_equal(count_with(f->s, "SELECT count(*) FROM invitations "
	    "WHERE token_hash = ?1 OR length(token_hash) != 64", tok), 0);
	/* A refused password spends nothing. */
	assert_int_equal(sessions_invitation_accept(f->s, tok, "short", NULL,
	    NOW, &bad, f->err, sizeof(f->err)), -1);
	assert_int_equal(bad, 1);
	assert_int_equal(one(f->s, "SELECT count(*) FROM invitations WHERE "
	    "used_at IS NULL"), 1);
	assert_int_equal(sessions_invitation_accept(f->s, "forged", PW, NULL,
	    NOW, &bad, f->err, sizeof(f->err)), 0);
	assert_int_equal(sessions_invitation_accept(f->s, tok, PW, "Nia", NOW,
	    &bad, f->err, sizeof(f->err)), f->invited);
	assert_int_equal(users_check_password(f->s, "new@trust.nhs.uk", PW),
	    f->invited);
	assert_int_equal(sessions_invitation_accept(f->s, tok, PW, NULL, NOW,
	    &bad, f->err, sizeof(f->err)), 0);
	assert_non_null(strstr(f->err, "used"));
	/* Expired: refused, with the reason. */
	assert_int_equal(sessions_invite(f->s, f->invited, 0, NOW, tok), 0);
	assert_int_equal(sessions_invitation_accept(f->s, tok, PW, NULL,
	    NOW + 7 * 86400, &bad, f->err, sizeof(f->err)), 0);
	assert_non_null(strstr(f->err, "expired"));
	assert_int_equal(one(f->s, "SELECT count(*) FROM audit_log WHERE "
	    "action = 'invitation.create'"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_shape),
		cmocka_unit_test_setup_teardown(test_session_lifecycle, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_session_end_and_disabled_user, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invitation, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
