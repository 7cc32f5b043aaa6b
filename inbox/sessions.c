/* sessions: web log-ins, API tokens and invitations; only hashes stored. */
#include "sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "audit.h"
#include "jsonout.h"
#include "password.h"
#include "store.h"
#include "users.h"

#define SESSIONS_RAW	32
#define SESSIONS_HEX	65	/* SHA-256 in hex and the NUL */
/* A session's expiry is written again only after this long. */
#define SESSIONS_SLIDE	60

static const char sessions_sql_create[] =
    "INSERT INTO sessions (id_hash, user_id, csrf, created_at,"
    " last_seen_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?4, ?5)";
static const char sessions_sql_lookup[] =
    "SELECT s.user_id, s.csrf, s.expires_at, s.last_seen_at"
    " FROM sessions s JOIN users u ON u.id = s.user_id"
    " WHERE s.id_hash = ?1 AND s.expires_at > ?2 AND u.disabled = 0";
static const char sessions_sql_slide[] =
    "UPDATE sessions SET last_seen_at = ?2, expires_at = ?3"
    " WHERE id_hash = ?1";
static const char sessions_sql_end[] =
    "DELETE FROM sessions WHERE id_hash = ?1";
static const char sessions_sql_purge[] =
    "DELETE FROM sessions WHERE expires_at <= ?1";
static const char sessions_sql_token_new[] =
    "INSERT INTO api_tokens (user_id, name, token_hash, created_at)"
    " VALUES (?1, ?2, ?3, ?4)";
static const char sessions_sql_token_user[] =
    "SELECT t.id, t.user_id, t.last_used_at FROM api_tokens t JOIN users u"
    " ON u.id = t.user_id WHERE t.token_hash = ?1"
    " AND t.revoked_at IS NULL AND u.disabled = 0";
static const char sessions_sql_token_used[] =
    "UPDATE api_tokens SET last_used_at = ?2 WHERE id = ?1";
static const char sessions_sql_token_revoke[] =
    "UPDATE api_tokens SET revoked_at = ?3 WHERE id = ?1"
    " AND (?2 = 0 OR user_id = ?2) AND revoked_at IS NULL";
static const char sessions_sql_tokens[] =
    "SELECT id, name, created_at, last_used_at, revoked_at"
    " FROM api_tokens WHERE user_id = ?1 ORDER BY id DESC";
static const char sessions_sql_invite[] =
    "INSERT INTO invitations (token_hash, user_id, invited_by,"
    " created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)";
static const char sessions_sql_invitation[] =
    "SELECT i.user_id, i.expires_at, i.used_at, u.disabled"
    " FROM invitations i JOIN users u ON u.id = i.user_id"
    " WHERE i.token_hash = ?1";
static const char sessions_sql_invitation_use[] =
    "UPDATE invitations SET used_at = ?2 WHERE token_hash = ?1"
    " AND used_at IS NULL";

int
sessions_secret(char out[SESSIONS_SECRET_LEN])
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[SESSIONS_RAW + 1];
	size_t i, o = 0;
	uint32_t v;

	if (RAND_bytes(raw, SESSIONS_RAW) != 1)
		return -1;
	raw[SESSIONS_RAW] = 0;
	/* 32 bytes: ten groups of three, then two bytes as three digits. */
	for (i = 0; i < SESSIONS_RAW; i += 3) {
		v = (uint32_t)raw[i] << 16 | (uint32_t)raw[i + 1] << 8;
		if (i + 2 < SESSIONS_RAW)
			v |= raw[i + 2];
		out[o++] = b64url[v >> 18 & 63];
		out[o++] = b64url[v >> 12 & 63];
		out[o++] = b64url[v >> 6 & 63];
		if (i + 2 < SESSIONS_RAW)
			out[o++] = b64url[v & 63];
	}
	out[o] = '\0';
	OPENSSL_cleanse(raw, sizeof(raw));
	return 0;
}

/* SHA-256 hex of a secret as handed out; a NULL or overlong one hashes
 * as "" (matches nothing that was stored). */
static void
sessions_hash(const char *secret, char hex[SESSIONS_HEX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0, i;
	size_t len = 0;

	if (secret != NULL)
		len = strnlen(secret, SESSIONS_SECRET_LEN);
	if (len >= SESSIONS_SECRET_LEN)
		len = 0;
	EVP_Digest(secret != NULL ? secret : "", len, md, &n, EVP_sha256(),
	    NULL);
	for (i = 0; i < n && i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[64] = '\0';
}

static int
sessions_run(sqlite3_stmt *q)
{
	int rc = sqlite3_step(q);

	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : -1;
}

int
sessions_create(struct store *s, int64_t user, int64_t now, long ttl,
    char id[SESSIONS_SECRET_LEN], char csrf[SESSIONS_SECRET_LEN])
{
	char hex[SESSIONS_HEX];
	sqlite3_stmt *q;

	if (sessions_secret(id) == -1 || sessions_secret(csrf) == -1)
		return -1;
	if ((q = store_stmt(s, sessions_sql_create)) == NULL)
		return -1;
	sessions_hash(id, hex);
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, user);
	sqlite3_bind_text(q, 3, csrf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int64(q, 5, now + ttl);
	return sessions_run(q);
}

/* Moves the expiry on, if the last write is a minute old. */
static int
sessions_slide(struct store *s, const char *hex, int64_t last, int64_t now,
    long ttl, struct session *out)
{
	sqlite3_stmt *q;

	if (now - last < SESSIONS_SLIDE)
		return 0;
	if ((q = store_stmt(s, sessions_sql_slide)) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, now);
	sqlite3_bind_int64(q, 3, now + ttl);
	if (sessions_run(q) == -1)
		return -1;
	out->expires_at = now + ttl;
	out->refreshed = 1;
	return 0;
}

int
sessions_lookup(struct store *s, const char *id, int64_t now, long ttl,
    struct session *out)
{
	char hex[SESSIONS_HEX];
	sqlite3_stmt *q;
	const char *csrf;
	int64_t last = 0;
	int rc, found = 0;

	memset(out, 0, sizeof(*out));
	if ((q = store_stmt(s, sessions_sql_lookup)) == NULL)
		return -1;
	sessions_hash(id, hex);
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, now);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    (csrf = store_col_text(q, 1)) != NULL &&
	    strlen(csrf) < sizeof(out->csrf)) {
		out->user_id = sqlite3_column_int64(q, 0);
		strcpy(out->csrf, csrf);
		out->expires_at = sqlite3_column_int64(q, 2);
		last = sqlite3_column_int64(q, 3);
		found = 1;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	if (!found)
		return 0;
	return sessions_slide(s, hex, last, now, ttl, out) == -1 ? -1 : 1;
}

int
sessions_end(struct store *s, const char *id)
{
	char hex[SESSIONS_HEX];
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sessions_sql_end)) == NULL)
		return -1;
	sessions_hash(id, hex);
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	return sessions_run(q);
}

int
sessions_purge(struct store *s, int64_t now)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sessions_sql_purge)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, now);
	if (sessions_run(q) == -1)
		return -1;
	return sqlite3_changes(store_db(s));
}

/* A token's name: printable, 1 to SESSIONS_NAME_MAX bytes. */
static int
sessions_name_bad(const char *name)
{
	size_t n, i;

	if (name == NULL || (n = strnlen(name, SESSIONS_NAME_MAX + 1)) == 0 ||
	    n > SESSIONS_NAME_MAX)
		return 1;
	for (i = 0; i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return 1;
	return 0;
}

static int64_t
sessions_token_insert(struct store *s, int64_t user, const char *name,
    int64_t now, const char *hex)
{
	sqlite3_stmt *q;
	char object[48];
	int64_t id;

	if ((q = store_stmt(s, sessions_sql_token_new)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user);
	sqlite3_bind_text(q, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(q, 3, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 4, now);
	if (sessions_run(q) == -1)
		return -1;
	id = sqlite3_last_insert_rowid(store_db(s));
	snprintf(object, sizeof(object), "user:%lld", (long long)user);
	if (audit_add(s, now, user, "token.create", object,
	    json_pack("{s:I, s:s}", "token", (json_int_t)id, "name",
	    name)) == -1)
		return -1;
	return id;
}

int64_t
sessions_token_create(struct store *s, int64_t user, const char *name,
    int64_t now, char token[SESSIONS_SECRET_LEN], char *err, size_t errlen)
{
	char hex[SESSIONS_HEX];
	int64_t id;

	if (sessions_name_bad(name)) {
		snprintf(err, errlen, "a token's name is 1 to %d printable "
		    "bytes", SESSIONS_NAME_MAX);
		return -1;
	}
	if (sessions_secret(token) == -1) {
		snprintf(err, errlen, "no random bytes for a token");
		return -1;
	}
	sessions_hash(token, hex);
	if (store_begin(s) == -1 ||
	    (id = sessions_token_insert(s, user, name, now, hex)) == -1 ||
	    store_commit(s) == -1) {
		snprintf(err, errlen, "store: %s", store_errmsg(s));
		store_rollback(s);
		return -1;
	}
	return id;
}

int64_t
sessions_token_user(struct store *s, const char *token, int64_t now)
{
	char hex[SESSIONS_HEX];
	sqlite3_stmt *q;
	int64_t id = 0, user = 0;
	int rc, fresh = 0;

	if ((q = store_stmt(s, sessions_sql_token_user)) == NULL)
		return -1;
	sessions_hash(token, hex);
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		id = sqlite3_column_int64(q, 0);
		user = sqlite3_column_int64(q, 1);
		fresh = sqlite3_column_type(q, 2) != SQLITE_NULL &&
		    sqlite3_column_int64(q, 2) > now - 60;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	/* At most one write a minute: a busy script costs no writes. */
	if (user == 0 || fresh)
		return user;
	if ((q = store_stmt(s, sessions_sql_token_used)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, now);
	return sessions_run(q) == -1 ? -1 : user;
}

int
sessions_token_revoke(struct store *s, int64_t id, int64_t owner,
    int64_t actor, int64_t now)
{
	sqlite3_stmt *q;
	char object[48];
	int changed;

	if (store_begin(s) == -1)
		return -1;
	if ((q = store_stmt(s, sessions_sql_token_revoke)) == NULL)
		goto fail;
	sqlite3_bind_int64(q, 1, id);
	sqlite3_bind_int64(q, 2, owner);
	sqlite3_bind_int64(q, 3, now);
	if (sessions_run(q) == -1)
		goto fail;
	if ((changed = sqlite3_changes(store_db(s))) == 0) {
		store_rollback(s);
		return 0;
	}
	snprintf(object, sizeof(object), "token:%lld", (long long)id);
	if (audit_add(s, now, actor, "token.revoke", object, NULL) == -1 ||
	    store_commit(s) == -1)
		goto fail;
	return 1;
fail:
	store_rollback(s);
	return -1;
}

json_t *
sessions_tokens_json(struct store *s, int64_t user)
{
	sqlite3_stmt *q;
	json_t *a;
	int rc;

	if ((q = store_stmt(s, sessions_sql_tokens)) == NULL)
		return NULL;
	a = json_array();
	sqlite3_bind_int64(q, 1, user);
	while ((rc = sqlite3_step(q)) == SQLITE_ROW)
		json_array_append_new(a, json_pack("{s:I, s:o, s:o, s:o, s:o}",
		    "id", (json_int_t)sqlite3_column_int64(q, 0),
		    "name", jsonout_col_str(q, 1),
		    "created_at", jsonout_col_time(q, 2),
		    "last_used_at", jsonout_col_time(q, 3),
		    "revoked_at", jsonout_col_time(q, 4)));
	sqlite3_reset(q);
	if (rc != SQLITE_DONE) {
		json_decref(a);
		return NULL;
	}
	return a;
}

int
sessions_invite(struct store *s, int64_t user, int64_t inviter,
    int64_t now, char token[SESSIONS_SECRET_LEN])
{
	char hex[SESSIONS_HEX], object[48];
	sqlite3_stmt *q;

	if (sessions_secret(token) == -1 ||
	    (q = store_stmt(s, sessions_sql_invite)) == NULL)
		return -1;
	sessions_hash(token, hex);
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, user);
	if (inviter > 0)
		sqlite3_bind_int64(q, 3, inviter);
	sqlite3_bind_int64(q, 4, now);
	sqlite3_bind_int64(q, 5, now + SESSIONS_INVITE_TTL);
	if (sessions_run(q) == -1)
		return -1;
	snprintf(object, sizeof(object), "user:%lld", (long long)user);
	return audit_add(s, now, inviter, "invitation.create", object,
	    json_pack("{s:I}", "expires_at",
	    (json_int_t)(now + SESSIONS_INVITE_TTL)));
}

/*
 * The invitation's user if it can be used now: 1; 0 with err saying
 * why not; -1 store error.
 */
static int
sessions_invitation_get(struct store *s, const char *hex, int64_t now,
    int64_t *user, char *err, size_t errlen)
{
	sqlite3_stmt *q;
	int rc, ok = 0;

	if ((q = store_stmt(s, sessions_sql_invitation)) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	snprintf(err, errlen, "no such invitation");
	if ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		*user = sqlite3_column_int64(q, 0);
		if (sqlite3_column_type(q, 2) != SQLITE_NULL)
			snprintf(err, errlen, "the invitation was used");
		else if (sqlite3_column_int64(q, 1) <= now)
			snprintf(err, errlen, "the invitation has expired");
		else if (sqlite3_column_int(q, 3) != 0)
			snprintf(err, errlen, "the account is disabled");
		else
			ok = 1;
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return ok;
}

/* In the open transaction: spends the invitation, sets what it sets. */
static int
sessions_invitation_use(struct store *s, const char *hex, int64_t user,
    const char *password, const char *name, int64_t now, char *err,
    size_t errlen)
{
	sqlite3_stmt *q;

	if ((q = store_stmt(s, sessions_sql_invitation_use)) == NULL)
		return -1;
	sqlite3_bind_text(q, 1, hex, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(q, 2, now);
	if (sessions_run(q) == -1 || sqlite3_changes(store_db(s)) != 1) {
		snprintf(err, errlen, "the invitation was used");
		return -1;
	}
	if (name != NULL && users_update(s, user, name, NULL, NULL, user, now,
	    err, errlen) == -1)
		return -1;
	return users_set_password(s, user, password, user, now, err, errlen);
}

int64_t
sessions_invitation_accept(struct store *s, const char *token,
    const char *password, const char *name, int64_t now, int *bad,
    char *err, size_t errlen)
{
	char hex[SESSIONS_HEX];
	const char *why;
	int64_t user = 0;
	int rc;

	*bad = 0;
	sessions_hash(token, hex);
	if ((rc = sessions_invitation_get(s, hex, now, &user, err,
	    errlen)) <= 0)
		return rc;
	if (password == NULL || password_acceptable(password, &why) == -1) {
		snprintf(err, errlen, "password: %s", password == NULL ?
		    "missing" : why);
		*bad = 1;
		return -1;
	}
	if (store_begin(s) == -1) {
		snprintf(err, errlen, "store: %s", store_errmsg(s));
		return -1;
	}
	if (sessions_invitation_use(s, hex, user, password, name, now, err,
	    errlen) == -1 || store_commit(s) == -1) {
		store_rollback(s);
		*bad = 1;
		return -1;
	}
	return user;
}
