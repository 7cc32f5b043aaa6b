/* users: staff accounts, their organisations and what mail they want. */
#include "users.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <sqlite3.h>

#include "jsonout.h"
#include "orgs.h"
#include "password.h"
#include "store.h"
#include "xmalloc.h"

#define USERS_EMAIL_MAX	254	/* RFC 5321's path limit, less <> */
#define USERS_LOCAL_MAX	64
#define USERS_NAME_MAX	200
#define USERS_ORGS_MAX	1000
#define USERS_CODE_MAX	16	/* an ODS code and its NUL */

static const char *const users_roles[] = {
	[ROLE_ADMIN] = "admin",
	[ROLE_LEAD] = "lead",
	[ROLE_REVIEWER] = "reviewer",
};

static const char *const users_notifies[] = {
	[NOTIFY_CONVERSATION] = "conversation",
	[NOTIFY_MESSAGE] = "message",
	[NOTIFY_DIGEST] = "digest",
	[NOTIFY_NONE] = "none",
};

/*
 * A hash of a password nobody knows, verified when the email names no
 * account (or one without a password, or a disabled one), so that the
 * time a log-in takes does not tell which addresses have accounts.
 * Its salt and key are random bytes: no password derives that key.
 */
static const char users_dummy_hash[] =
    "$scrypt$ln=15,r=8,p=1$Gy53Hi5Y9zGqRVeMvrXvFQ"
    "$lLGgBElrDRkv6IypADkFErLjGKg4KEyILyMlHzjQkw0";

static const char users_sql_insert[] =
    "INSERT INTO users (email, name, role, password_hash, created_at)"
    " VALUES (?1, ?2, ?3, ?4, ?5)";
static const char users_sql_member_set[] =
    "INSERT INTO memberships (user_id, org_id, notify) VALUES (?1, ?2, ?3)"
    " ON CONFLICT (user_id, org_id) DO UPDATE SET notify = excluded.notify";
static const char users_sql_member_get[] =
    "SELECT notify FROM memberships WHERE user_id = ?1 AND org_id = ?2";
static const char users_sql_member_del[] =
    "DELETE FROM memberships WHERE user_id = ?1 AND org_id = ?2";
static const char users_sql_member_count[] =
    "SELECT count(*) FROM memberships WHERE user_id = ?1";
static const char users_sql_audit[] =
    "INSERT INTO audit_log (at, user_id, action, object, detail)"
    " VALUES (?1, ?2, ?3, 'user:' || ?4, ?5)";
static const char users_sql_get[] =
    "SELECT id, email, name, role, disabled, password_hash IS NOT NULL"
    " FROM users WHERE id = ?1";
/* users.email is COLLATE NOCASE: = compares without case. */
static const char users_sql_find[] =
    "SELECT id, email, name, role, disabled, password_hash IS NOT NULL"
    " FROM users WHERE email = ?1";
static const char users_sql_hash[] =
    "SELECT id, password_hash, disabled FROM users WHERE email = ?1";
static const char users_sql_set_hash[] =
    "UPDATE users SET password_hash = ?2 WHERE id = ?1";
static const char users_sql_set_name[] =
    "UPDATE users SET name = ?2 WHERE id = ?1";
static const char users_sql_set_role[] =
    "UPDATE users SET role = ?2 WHERE id = ?1";
static const char users_sql_set_disabled[] =
    "UPDATE users SET disabled = ?2 WHERE id = ?1";
/* A disabled account's ways in end with it. */
static const char users_sql_end_sessions[] =
    "DELETE FROM sessions WHERE user_id = ?1";
static const char users_sql_revoke_tokens[] =
    "UPDATE api_tokens SET revoked_at = ?2"
    " WHERE user_id = ?1 AND revoked_at IS NULL";
static const char users_sql_admins[] =
    "SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0"
    " AND id != ?1";
static const char users_sql_login[] =
    "UPDATE users SET last_login_at = ?2 WHERE id = ?1";
static const char users_sql_list[] =
    "SELECT id, email, name, role, disabled, password_hash IS NOT NULL,"
    " created_at, last_login_at FROM users WHERE ?1 = 0 OR id = ?1"
    " ORDER BY id";
static const char users_sql_list_orgs[] =
    "SELECT o.code, o.name, m.notify FROM memberships m"
    " JOIN organisations o ON o.id = m.org_id WHERE m.user_id = ?1"
    " ORDER BY o.code";

const char *
user_role_name(enum user_role r)
{
	if ((size_t)r >= sizeof(users_roles) / sizeof(users_roles[0]))
		return "?";
	return users_roles[r];
}

/* The index of s in names, or -1. */
static int
users_lookup(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int
user_role_parse(const char *s, enum user_role *out)
{
	int i = users_lookup(users_roles,
	    sizeof(users_roles) / sizeof(users_roles[0]), s);

	if (i == -1)
		return -1;
	*out = (enum user_role)i;
	return 0;
}

const char *
user_notify_name(enum user_notify n)
{
	if ((size_t)n >= sizeof(users_notifies) / sizeof(users_notifies[0]))
		return "?";
	return users_notifies[n];
}

int
user_notify_parse(const char *s, enum user_notify *out)
{
	int i = users_lookup(users_notifies,
	    sizeof(users_notifies) / sizeof(users_notifies[0]), s);

	if (i == -1)
		return -1;
	*out = (enum user_notify)i;
	return 0;
}

void
user_free(struct user *u)
{
	if (u == NULL)
		return;
	free(u->email);
	free(u->name);
	u->email = u->name = NULL;
}

static int
users_fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
users_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int
users_store_fail(struct store *s, char *err, size_t errlen)
{
	return users_fail(err, errlen, "store: %s", store_errmsg(s));
}

/*
 * Why email is no address we would mail, or NULL. Quoted local parts
 * and non-ASCII addresses are refused: the address goes into mail
 * headers and SMTP commands, where they would need care nobody needs.
 */
static const char *
users_email_bad(const char *email)
{
	const char *at, *p;
	size_t n;

	if (email == NULL || (n = strnlen(email, USERS_EMAIL_MAX + 1)) == 0)
		return "is empty";
	if (n > USERS_EMAIL_MAX)
		return "is longer than 254 bytes";
	for (p = email; *p != '\0'; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return "holds a space, a control character or a "
			    "non-ASCII character";
		if (strchr("<>()[]\\,;:\"", *p) != NULL)
			return "holds a character an address may only "
			    "have quoted";
	}
	if ((at = strchr(email, '@')) == NULL || strchr(at + 1, '@') != NULL)
		return "must have exactly one @";
	if (at == email || (size_t)(at - email) > USERS_LOCAL_MAX)
		return "needs 1 to 64 characters before the @";
	if (at[1] == '\0' || at[1] == '.' || email[n - 1] == '.' ||
	    strstr(at, "..") != NULL || email[n - 1] == '-')
		return "has no well-formed domain after the @";
	return NULL;
}

/* Names end up in mail headers: no line breaks, and bounded. */
static const char *
users_name_bad(const char *name)
{
	const unsigned char *p;
	char *fixed;

	if (strnlen(name, USERS_NAME_MAX + 1) > USERS_NAME_MAX)
		return "is longer than 200 bytes";
	if ((fixed = jsonout_utf8_repair(name)) != NULL) {
		free(fixed);
		return "is not UTF-8 text";
	}
	for (p = (const unsigned char *)name; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "holds a control character";
	return NULL;
}

/*
 * Starts a transaction unless the caller has one open, so that a
 * caller may join an account's change to its own (a sign-up that
 * also writes an invitation). 1 started, 0 joined, -1 error.
 */
static int
users_tx_begin(struct store *s)
{
	if (!sqlite3_get_autocommit(store_db(s)))
		return 0;
	return store_begin(s) == 0 ? 1 : -1;
}

static int
users_tx_end(struct store *s, int started, int rc)
{
	if (!started)
		return rc;
	if (rc == 0 && store_commit(s) == 0)
		return 0;
	store_rollback(s);
	return -1;
}

/* Steps a statement that returns no row, and resets it; 0 or -1. */
static int
users_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The first column of the one row q returns, or -1. */
static int64_t
users_one(sqlite3_stmt *q)
{
	int64_t v = -1;

	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return v;
}

/* detail is a JSON object (taken); never a password or a hash. */
static int
users_audit(struct store *s, int64_t now, int64_t actor, const char *action,
    int64_t id, json_t *detail)
{
	sqlite3_stmt *q;
	char *text = NULL;
	int rc;

	if ((q = store_stmt(s, users_sql_audit)) == NULL) {
		json_decref(detail);
		return -1;
	}
	if (detail != NULL)
		text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(detail);
	sqlite3_bind_int64(q, 1, now);
	if (actor > 0)
		sqlite3_bind_int64(q, 2, actor);
	sqlite3_bind_text(q, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 4, id);
	store_bind_text(q, 5, text);
	rc = users_run(q);
	free(text);
	return rc;
}

/*
 * The organisation's id, and its code as stored (upper case) in up
 * for the audit; -1 with err naming the code.
 */
static int64_t
users_org(struct store *s, const char *code, char up[USERS_CODE_MAX],
    char *err, size_t errlen)
{
	int64_t org;
	size_t i;

	if (code == NULL || (org = orgs_id(s, code)) == -1) {
		users_fail(err, errlen, "no organisation with ODS code "
		    "'%.40s' (heard orgs import loads them; heard orgs search "
		    "finds one)", code != NULL ? code : "");
		return -1;
	}
	for (i = 0; i + 1 < USERS_CODE_MAX && code[i] != '\0'; i++)
		up[i] = (char)toupper((unsigned char)code[i]);
	up[i] = '\0';
	return org;
}

static int
users_member_put(struct store *s, int64_t id, int64_t org,
    enum user_notify n)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, users_sql_member_set)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, org);
	sqlite3_bind_text(q, 3, user_notify_name(n), -1, SQLITE_STATIC);
	return users_run(q);
}

static int
users_check_new(const struct user_new *nu, char *err, size_t errlen)
{
	const char *why;

	if ((why = users_email_bad(nu->email)) != NULL)
		return users_fail(err, errlen, "email %s: '%.100s'", why,
		    nu->email != NULL ? nu->email : "");
	if (nu->name != NULL && (why = users_name_bad(nu->name)) != NULL)
		return users_fail(err, errlen, "name %s", why);
	if (user_role_name(nu->role)[0] == '?')
		return users_fail(err, errlen, "no such role");
	if (user_notify_name(nu->notify)[0] == '?')
		return users_fail(err, errlen, "no such choice of mail");
	if (nu->norgs == 0 && nu->role != ROLE_ADMIN)
		return users_fail(err, errlen, "a %s needs at least one "
		    "organisation", user_role_name(nu->role));
	if (nu->norgs > USERS_ORGS_MAX)
		return users_fail(err, errlen, "more than %d organisations",
		    USERS_ORGS_MAX);
	if (nu->password != NULL &&
	    password_acceptable(nu->password, &why) == -1)
		return users_fail(err, errlen, "%s", why);
	return 0;
}

/* The row itself; -1 with err (a duplicate email is named). */
static int64_t
users_insert(struct store *s, const struct user_new *nu, const char *hash,
    int64_t now, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, users_sql_insert)) == NULL)
		return users_store_fail(s, err, errlen);
	store_bind_text(q, 1, nu->email);
	store_bind_text(q, 2, nu->name != NULL ? nu->name : "");
	sqlite3_bind_text(q, 3, user_role_name(nu->role), -1, SQLITE_STATIC);
	store_bind_text(q, 4, hash);
	sqlite3_bind_int64(q, 5, now);
	rc = sqlite3_step(q);
	sqlite3_reset(q);
	if (rc == SQLITE_DONE)
		return sqlite3_last_insert_rowid(store_db(s));
	if (sqlite3_extended_errcode(store_db(s)) == SQLITE_CONSTRAINT_UNIQUE)
		return users_fail(err, errlen, "an account with email '%s' "
		    "already exists", nu->email);
	return users_store_fail(s, err, errlen);
}

/* Memberships of a new account, and the audit detail's "orgs". */
static int
users_add_orgs(struct store *s, int64_t id, const struct user_new *nu,
    json_t *codes, char *err, size_t errlen)
{
	char code[USERS_CODE_MAX];
	int64_t org;
	size_t i;

	for (i = 0; i < nu->norgs; i++) {
		if ((org = users_org(s, nu->orgs[i], code, err,
		    errlen)) == -1)
			return -1;
		if (users_member_put(s, id, org, nu->notify) == -1)
			return users_store_fail(s, err, errlen);
		json_array_append_new(codes, json_string(code));
	}
	return 0;
}

/* The body of users_add, inside its transaction. */
static int64_t
users_add_tx(struct store *s, const struct user_new *nu, const char *hash,
    int64_t actor, int64_t now, char *err, size_t errlen)
{
	json_t *codes = json_array();
	int64_t id;

	if ((id = users_insert(s, nu, hash, now, err, errlen)) == -1 ||
	    users_add_orgs(s, id, nu, codes, err, errlen) == -1) {
		json_decref(codes);
		return -1;
	}
	if (users_audit(s, now, actor, "user.add", id,
	    json_pack("{s:s, s:s, s:o, s:s, s:b}", "email", nu->email,
	    "role", user_role_name(nu->role), "orgs", codes, "notify",
	    user_notify_name(nu->notify), "password",
	    nu->password != NULL)) == -1)
		return users_store_fail(s, err, errlen);
	return id;
}

int64_t
users_add(struct store *s, const struct user_new *nu, int64_t actor,
    int64_t now, char *err, size_t errlen)
{
	char hash[PASSWORD_HASH_MAX] = "";
	int64_t id;
	int tx;

	if (users_check_new(nu, err, errlen) == -1)
		return -1;
	/* Hashed before the transaction: it takes a tenth of a second. */
	if (nu->password != NULL && password_hash(nu->password, hash) == -1)
		return users_fail(err, errlen, "cannot hash the password");
	if ((tx = users_tx_begin(s)) == -1)
		return users_store_fail(s, err, errlen);
	id = users_add_tx(s, nu, nu->password != NULL ? hash : NULL, actor,
	    now, err, errlen);
	if (users_tx_end(s, tx, id == -1 ? -1 : 0) == -1) {
		if (id != -1)
			users_store_fail(s, err, errlen);
		return -1;
	}
	return id;
}

/* Fills u from a row of users_sql_get's columns. */
static void
users_from_row(sqlite3_stmt *q, struct user *u)
{
	enum user_role r = ROLE_REVIEWER;

	/* The CHECK constraint keeps role to the three names. */
	user_role_parse(store_col_text(q, 3), &r);
	u->id = sqlite3_column_int64(q, 0);
	u->email = store_col_strdup(q, 1);
	u->name = store_col_strdup(q, 2);
	if (u->name == NULL)
		u->name = xstrdup("");
	u->role = r;
	u->disabled = sqlite3_column_int(q, 4) != 0;
	u->has_password = sqlite3_column_int(q, 5) != 0;
}

static int
users_load(sqlite3_stmt *q, struct user *u)
{
	int rc = sqlite3_step(q);

	memset(u, 0, sizeof(*u));
	if (rc == SQLITE_ROW)
		users_from_row(q, u);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int
users_get(struct store *s, int64_t id, struct user *u)
{
	sqlite3_stmt *q;

	memset(u, 0, sizeof(*u));
	if ((q = store_stmt(s, users_sql_get)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	return users_load(q, u);
}

int
users_find(struct store *s, const char *email, struct user *u)
{
	sqlite3_stmt *q;

	memset(u, 0, sizeof(*u));
	if (email == NULL || strnlen(email, USERS_EMAIL_MAX + 1) >
	    USERS_EMAIL_MAX)
		return 0;
	if ((q = store_stmt(s, users_sql_find)) == NULL)
		return -1;
	store_bind_text(q, 1, email);
	return users_load(q, u);
}

/* An account that must exist for a change; -1 with err if not. */
static int
users_need(struct store *s, int64_t id, struct user *u, char *err,
    size_t errlen)
{
	int rc = users_get(s, id, u);

	if (rc == 1)
		return 0;
	if (rc == 0)
		return users_fail(err, errlen, "no account with id %lld",
		    (long long)id);
	return users_store_fail(s, err, errlen);
}

static int
users_set_hash(struct store *s, int64_t id, const char *hash, int64_t actor,
    int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, users_sql_set_hash)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	store_bind_text(q, 2, hash);
	if (users_run(q) == -1)
		return -1;
	return users_audit(s, now, actor, "user.password", id, NULL);
}

int
users_set_password(struct store *s, int64_t id, const char *password,
    int64_t actor, int64_t now, char *err, size_t errlen)
{
	char hash[PASSWORD_HASH_MAX];
	struct user u;
	const char *why;
	int tx, rc;

	if (password_acceptable(password, &why) == -1)
		return users_fail(err, errlen, "%s", why);
	if (users_need(s, id, &u, err, errlen) == -1)
		return -1;
	user_free(&u);
	if (password_hash(password, hash) == -1)
		return users_fail(err, errlen, "cannot hash the password");
	if ((tx = users_tx_begin(s)) == -1)
		return users_store_fail(s, err, errlen);
	rc = users_set_hash(s, id, hash, actor, now);
	OPENSSL_cleanse(hash, sizeof(hash));
	if (users_tx_end(s, tx, rc) == -1)
		return users_store_fail(s, err, errlen);
	return 0;
}

int64_t
users_check_password(struct store *s, const char *email,
    const char *password)
{
	sqlite3_stmt *q;
	const char *hash = users_dummy_hash;
	char *stored = NULL;
	int64_t id = 0;
	int usable = 0, rc;

	if (email != NULL && strnlen(email, USERS_EMAIL_MAX + 1) <=
	    USERS_EMAIL_MAX) {
		if ((q = store_stmt(s, users_sql_hash)) == NULL)
			return -1;
		store_bind_text(q, 1, email);
		if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
		    (stored = store_col_strdup(q, 1)) != NULL) {
			id = sqlite3_column_int64(q, 0);
			usable = sqlite3_column_int(q, 2) == 0;
			hash = stored;
		}
		sqlite3_reset(q);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return -1;
	}
	/*
	 * Always one scrypt, whatever was found; a password longer than
	 * any that can be set is not hashed, so it costs no more.
	 */
	if (password == NULL || strnlen(password, PASSWORD_MAX_LEN + 1) >
	    PASSWORD_MAX_LEN) {
		password = "";
		usable = 0;
	}
	rc = password_verify(password, hash);
	free(stored);
	return rc == 1 && usable && hash != users_dummy_hash ? id : 0;
}

int
users_logged_in(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, users_sql_login)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	return users_run(q);
}

/* Runs one of the single-field UPDATEs with a text or an integer. */
static int
users_set_field(struct store *s, const char *sql, int64_t id,
    const char *text, int64_t v)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	if (text != NULL)
		store_bind_text(q, 2, text);
	else
		sqlite3_bind_int64(q, 2, v);
	return users_run(q);
}

/* Takes away an admin's rights: refused for the last one. */
static int
users_last_admin(struct store *s, const struct user *u, char *err,
    size_t errlen)
{
	sqlite3_stmt *q;
	int64_t others;

	if (u->role != ROLE_ADMIN || u->disabled)
		return 0;
	if ((q = store_stmt(s, users_sql_admins)) == NULL)
		return users_store_fail(s, err, errlen);
	sqlite3_bind_int64(q, 1, u->id);
	if ((others = users_one(q)) == -1)
		return users_store_fail(s, err, errlen);
	if (others == 0)
		return users_fail(err, errlen, "%s is the last enabled admin; "
		    "make another admin first", u->email);
	return 0;
}

static int
users_count_orgs(struct store *s, int64_t id)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, users_sql_member_count)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	return (int)users_one(q);
}

static int
users_update_name(struct store *s, const struct user *u, const char *name,
    int64_t actor, int64_t now)
{
	if (strcmp(u->name, name) == 0)
		return 0;
	if (users_set_field(s, users_sql_set_name, u->id, name, 0) == -1)
		return -1;
	return users_audit(s, now, actor, "user.name", u->id,
	    json_pack("{s:s, s:s}", "from", u->name, "to", name));
}

static int
users_update_role(struct store *s, const struct user *u, enum user_role r,
    int64_t actor, int64_t now, char *err, size_t errlen)
{
	int n;

	if (u->role == r)
		return 0;
	if (users_last_admin(s, u, err, errlen) == -1)
		return -1;
	if (r != ROLE_ADMIN && (n = users_count_orgs(s, u->id)) <= 0)
		return n == -1 ? users_store_fail(s, err, errlen) :
		    users_fail(err, errlen, "a %s needs at least one "
		    "organisation: add one to %s first", user_role_name(r),
		    u->email);
	if (users_set_field(s, users_sql_set_role, u->id,
	    user_role_name(r), 0) == -1 ||
	    users_audit(s, now, actor, "user.role", u->id,
	    json_pack("{s:s, s:s}", "from", user_role_name(u->role), "to",
	    user_role_name(r))) == -1)
		return users_store_fail(s, err, errlen);
	return 0;
}

/* Disabling also ends the account's sessions and revokes its tokens. */
static int
users_update_disabled(struct store *s, const struct user *u, int disabled,
    int64_t actor, int64_t now, char *err, size_t errlen)
{
	if (!u->disabled == !disabled)
		return 0;
	if (disabled && users_last_admin(s, u, err, errlen) == -1)
		return -1;
	if (users_set_field(s, users_sql_set_disabled, u->id, NULL,
	    disabled != 0) == -1)
		return users_store_fail(s, err, errlen);
	if (disabled && (users_set_field(s, users_sql_end_sessions, u->id,
	    NULL, 0) == -1 || users_set_field(s, users_sql_revoke_tokens,
	    u->id, NULL, now) == -1))
		return users_store_fail(s, err, errlen);
	if (users_audit(s, now, actor, disabled ? "user.disable" :
	    "user.enable", u->id, NULL) == -1)
		return users_store_fail(s, err, errlen);
	return 0;
}

static int
users_update_tx(struct store *s, const struct user *u, const char *name,
    const enum user_role *role, const int *disabled, int64_t actor,
    int64_t now, char *err, size_t errlen)
{
	if (name != NULL && users_update_name(s, u, name, actor, now) == -1)
		return users_store_fail(s, err, errlen);
	if (role != NULL && users_update_role(s, u, *role, actor, now, err,
	    errlen) == -1)
		return -1;
	if (disabled != NULL && users_update_disabled(s, u, *disabled, actor,
	    now, err, errlen) == -1)
		return -1;
	return 0;
}

int
users_update(struct store *s, int64_t id, const char *name,
    const enum user_role *role, const int *disabled, int64_t actor,
    int64_t now, char *err, size_t errlen)
{
	struct user u;
	const char *why;
	int tx, rc;

	if (name != NULL && (why = users_name_bad(name)) != NULL)
		return users_fail(err, errlen, "name %s", why);
	if (role != NULL && user_role_name(*role)[0] == '?')
		return users_fail(err, errlen, "no such role");
	if ((tx = users_tx_begin(s)) == -1)
		return users_store_fail(s, err, errlen);
	if ((rc = users_need(s, id, &u, err, errlen)) == 0)
		rc = users_update_tx(s, &u, name, role, disabled, actor, now,
		    err, errlen);
	user_free(&u);
	if (users_tx_end(s, tx, rc) == -1)
		return rc == -1 ? -1 : users_store_fail(s, err, errlen);
	return 0;
}

/* The notify stored for (id, org): 1 and *was, 0 none, -1 error. */
static int
users_member_get(struct store *s, int64_t id, int64_t org, char *was,
    size_t waslen)
{
	sqlite3_stmt *q;
	int rc;

	if ((q = store_stmt(s, users_sql_member_get)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, org);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW)
		snprintf(was, waslen, "%s", store_col_text(q, 0));
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int
users_set_org_tx(struct store *s, int64_t id, const char *code, int64_t org,
    enum user_notify n, int64_t actor, int64_t now)
{
	char was[16];
	int had;

	if ((had = users_member_get(s, id, org, was, sizeof(was))) == -1)
		return -1;
	if (had && strcmp(was, user_notify_name(n)) == 0)
		return 0;
	if (users_member_put(s, id, org, n) == -1)
		return -1;
	return users_audit(s, now, actor, "user.org", id,
	    json_pack("{s:s, s:s, s:s?}", "org", code, "notify",
	    user_notify_name(n), "was", had ? was : NULL));
}

int
users_set_org(struct store *s, int64_t id, const char *org_code,
    enum user_notify n, int64_t actor, int64_t now, char *err,
    size_t errlen)
{
	char code[USERS_CODE_MAX];
	struct user u;
	int64_t org;
	int tx, rc;

	if (user_notify_name(n)[0] == '?')
		return users_fail(err, errlen, "no such choice of mail");
	if ((org = users_org(s, org_code, code, err, errlen)) == -1 ||
	    users_need(s, id, &u, err, errlen) == -1)
		return -1;
	user_free(&u);
	if ((tx = users_tx_begin(s)) == -1)
		return users_store_fail(s, err, errlen);
	rc = users_set_org_tx(s, id, code, org, n, actor, now);
	if (users_tx_end(s, tx, rc) == -1)
		return users_store_fail(s, err, errlen);
	return 0;
}

static int
users_remove_org_tx(struct store *s, const struct user *u,
    const char *code, int64_t org, int64_t actor, int64_t now, char *err,
    size_t errlen)
{
	char was[16];
	sqlite3_stmt *q;
	int had;

	if ((had = users_member_get(s, u->id, org, was, sizeof(was))) == -1)
		return users_store_fail(s, err, errlen);
	if (!had)
		return users_fail(err, errlen, "%s is not a member of %s",
		    u->email, code);
	if (u->role != ROLE_ADMIN && users_count_orgs(s, u->id) == 1)
		return users_fail(err, errlen, "%s is the only organisation "
		    "of %s %s; add another first, or disable the account",
		    code, user_role_name(u->role), u->email);
	if ((q = store_stmt(s, users_sql_member_del)) == NULL)
		return users_store_fail(s, err, errlen);
	sqlite3_bind_int64(q, 1, u->id);
	sqlite3_bind_int64(q, 2, org);
	if (users_run(q) == -1 || users_audit(s, now, actor,
	    "user.org.remove", u->id, json_pack("{s:s, s:s}", "org", code,
	    "was", was)) == -1)
		return users_store_fail(s, err, errlen);
	return 0;
}

int
users_remove_org(struct store *s, int64_t id, const char *org_code,
    int64_t actor, int64_t now, char *err, size_t errlen)
{
	char code[USERS_CODE_MAX];
	struct user u;
	int64_t org;
	int tx, rc;

	if ((org = users_org(s, org_code, code, err, errlen)) == -1)
		return -1;
	if ((tx = users_tx_begin(s)) == -1)
		return users_store_fail(s, err, errlen);
	if ((rc = users_need(s, id, &u, err, errlen)) == 0)
		rc = users_remove_org_tx(s, &u, code, org, actor, now,
		    err, errlen);
	user_free(&u);
	if (users_tx_end(s, tx, rc) == -1)
		return rc == -1 ? -1 : users_store_fail(s, err, errlen);
	return 0;
}

static json_t *
users_json_orgs(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *a;
	int rc;

	if ((q = store_stmt(s, users_sql_list_orgs)) == NULL)
		return NULL;
	a = json_array();
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:o, s:o, s:o}",
		    "code", jsonout_col_str(q, 0), "name",
		    jsonout_col_str(q, 1), "notify", jsonout_col_str(q, 2)));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *
users_json_row(sqlite3_stmt *q)
{
	return json_pack("{s:I, s:o, s:o, s:o, s:b, s:b, s:o, s:o}",
	    "id", (json_int_t)sqlite3_column_int64(q, 0),
	    "email", jsonout_col_str(q, 1), "name", jsonout_col_str(q, 2),
	    "role", jsonout_col_str(q, 3), "disabled",
	    sqlite3_column_int(q, 4), "has_password",
	    sqlite3_column_int(q, 5), "created_at", jsonout_col_time(q, 6),
	    "last_login_at", jsonout_col_time(q, 7));
}

/*
 * Two statements: the accounts, then each one's organisations, the
 * first stepped to the end before the second runs (store_stmt hands
 * out one cursor per SQL text).
 */
json_t *
users_json(struct store *s, int64_t id)
{
	sqlite3_stmt *q;
	json_t *all, *u, *orgs;
	size_t i;
	int rc;

	if ((q = store_stmt(s, users_sql_list)) == NULL)
		return NULL;
	all = json_array();
	sqlite3_bind_int64(q, 1, id);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(all, users_json_row(q));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(all);
		return NULL;
	}
	json_array_foreach(all, i, u) {
		orgs = users_json_orgs(s, json_integer_value(
		    json_object_get(u, "id")));
		if (orgs == NULL) {
			json_decref(all);
			return NULL;
		}
		json_object_set_new(u, "orgs", orgs);
	}
	return all;
}
