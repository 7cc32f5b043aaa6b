/* sessions: web log-ins, API tokens and invitations; only hashes stored. */
#ifndef HEARD_SESSIONS_H
#define HEARD_SESSIONS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

/*
 * A secret handed out (session id, CSRF token, API token, invitation):
 * 32 random bytes as unpadded base64url, 43 characters and the NUL.
 * The store keeps only the SHA-256 hex of a session id, token or
 * invitation, so a copy of the database opens no account.
 */
#define SESSIONS_SECRET_LEN	44
/* Longest API token name, in bytes. */
#define SESSIONS_NAME_MAX	100
/* How long an invitation stays good. */
#define SESSIONS_INVITE_TTL	(7 * 86400)

/* A live session as sessions_lookup finds it. */
struct session {
	int64_t	user_id;
	char	csrf[SESSIONS_SECRET_LEN];
	int64_t	expires_at;
	int	refreshed;	/* expiry moved on: send the cookie again */
};

/* A fresh secret from RAND_bytes; -1 if the generator fails. */
int	sessions_secret(char out[SESSIONS_SECRET_LEN]);

/*
 * A new session for user, lasting ttl seconds from now (and from each
 * use after). Writes its id (the cookie) and its CSRF token. 0 or -1.
 */
int	sessions_create(struct store *, int64_t user, int64_t now, long ttl,
	    char id[SESSIONS_SECRET_LEN], char csrf[SESSIONS_SECRET_LEN]);
/*
 * The session with that id if it has not expired and its user is not
 * disabled: 1 and *out. Use slides the expiry to now + ttl, written at
 * most once a minute (then out->refreshed). 0 none, -1 error.
 */
int	sessions_lookup(struct store *, const char *id, int64_t now, long ttl,
	    struct session *out);
/* Ends the session (log-out); 0 also when there was none, -1 error. */
int	sessions_end(struct store *, const char *id);
/* Drops every expired session; the number dropped, or -1. */
int	sessions_purge(struct store *, int64_t now);

/*
 * A new API token for user named name (1 to SESSIONS_NAME_MAX bytes
 * of UTF-8): its id, and its secret in token (shown once). Audited as
 * "token.create" by user. -1 with err.
 */
int64_t	sessions_token_create(struct store *, int64_t user, const char *name,
	    int64_t now, char token[SESSIONS_SECRET_LEN], char *err,
	    size_t errlen);
/*
 * The user a token belongs to (not revoked, user not disabled), noting
 * its use (at most once a minute); 0 none, -1 error.
 */
int64_t	sessions_token_user(struct store *, const char *token, int64_t now);
/*
 * Revokes token id of owner (any user's when owner is 0: an admin);
 * audited as "token.revoke" by actor. 1 done, 0 no such live token,
 * -1 error.
 */
int	sessions_token_revoke(struct store *, int64_t id, int64_t owner,
	    int64_t actor, int64_t now);
/*
 * New JSON array of the user's tokens: {"id","name","created_at",
 * "last_used_at","revoked_at"}, newest first; never the secret.
 */
struct json_t	*sessions_tokens_json(struct store *, int64_t user);

/*
 * An invitation for user (who sets a password through it), made by
 * inviter (0: the operator), good for SESSIONS_INVITE_TTL; the raw
 * token, for the link <base_url>/#/invite/<token>, in token. Joins an
 * open transaction. Audited as "invitation.create". 0 or -1.
 */
int	sessions_invite(struct store *, int64_t user, int64_t inviter,
	    int64_t now, char token[SESSIONS_SECRET_LEN]);
/*
 * Uses an invitation: the password (checked by password_acceptable)
 * and, when not NULL, the name are set on its user, and the invitation
 * is spent, in one transaction. The user's id; 0 when the token is
 * unknown, spent or expired, or the account disabled (err says which
 * for a person), -1 with err for a refused password or a store error
 * (*bad set to 1 when the fault is the caller's input).
 */
int64_t	sessions_invitation_accept(struct store *, const char *token,
	    const char *password, const char *name, int64_t now, int *bad,
	    char *err, size_t errlen);

#endif
