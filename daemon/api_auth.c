/* api_auth: log-in, sessions, CSRF, API tokens and invitations on the web. */
#include "api_auth.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "api.h"
#include "audit.h"
#include "heard.h"
#include "httpd.h"
#include "log.h"
#include "ratelimit.h"
#include "sessions.h"
#include "store.h"
#include "users.h"
#include "xmalloc.h"

#define API_AUTH_COOKIE	"heard_session"
/* An email is at most 254 bytes; keys for the log-in limit hold one. */
#define API_AUTH_EMAIL_MAX	254

/* The cookie that carries a session (id NULL: the one that ends it). */
static char *
api_auth_cookie(const struct api_req *req, const char *id, long max_age)
{
	return xasprintf("%s=%s; Path=/; Max-Age=%ld; HttpOnly; "
	    "SameSite=Strict%s", API_AUTH_COOKIE, id != NULL ? id : "",
	    max_age, req->h->cfg.cookie_secure ? "; Secure" : "");
}

/* The user behind a Bearer token; 0 and 401 set when there is none. */
static int
api_auth_bearer(struct api_req *req, struct api_resp *resp,
    const char *authorization)
{
	const char *tok;
	int64_t uid;

	if (strncasecmp(authorization, "Bearer ", 7) != 0) {
		api_error(resp, 401, "unauthenticated", "only 'Authorization: "
		    "Bearer <token>' is understood");
		return -1;
	}
	for (tok = authorization + 7; *tok == ' '; tok++)
		;
	if ((uid = sessions_token_user(req->h->store, tok, req->now)) == -1)
		return -1;
	if (uid == 0) {
		api_error(resp, 401, "unauthenticated", "the token is unknown "
		    "or revoked");
		return -1;
	}
	req->user_id = uid;
	req->session = 0;
	return 0;
}

/* The session behind the cookie, if it is live; its expiry slides. */
static int
api_auth_session(struct api_req *req, struct api_resp *resp,
    struct api_cred *cred)
{
	const char *cookie = cred->cookie;
	struct session ses;
	int rc;

	rc = sessions_lookup(req->h->store, cookie, req->now,
	    req->h->cfg.session_ttl, &ses);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return 0;	/* as if logged out; the route decides */
	req->user_id = ses.user_id;
	req->session = 1;
	req->sid = cookie;
	snprintf(cred->session_csrf, sizeof(cred->session_csrf), "%s",
	    ses.csrf);
	req->csrf = cred->session_csrf;
	if (ses.refreshed)
		resp->set_cookie = api_auth_cookie(req, cookie,
		    req->h->cfg.session_ttl);
	return 0;
}

/* A write by cookie must echo the session's CSRF token. */
static int
api_auth_csrf_ok(const struct api_req *req, const char *sent)
{
	size_t n;

	if (!req->session || strcmp(req->method, "GET") == 0 ||
	    strcmp(req->method, "HEAD") == 0)
		return 1;
	n = strlen(req->csrf);
	return sent != NULL && strlen(sent) == n &&
	    CRYPTO_memcmp(sent, req->csrf, n) == 0;
}

/* The caller's role, from the account (a disabled one is nobody). */
static int
api_auth_role(struct api_req *req)
{
	struct user u;
	int rc;

	if ((rc = users_get(req->h->store, req->user_id, &u)) != 1)
		return rc == 0 ? 0 : -1;
	if (!u.disabled)
		req->role = u.role;
	else
		req->user_id = 0;
	user_free(&u);
	return 0;
}

int
api_auth_caller(struct api_req *req, struct api_resp *resp,
    const struct api_route *route, struct api_cred *cred)
{
	int rc = 0;

	req->user_id = 0;
	req->session = 0;
	if (cred->authorization != NULL)
		rc = api_auth_bearer(req, resp, cred->authorization);
	else if (cred->cookie != NULL)
		rc = api_auth_session(req, resp, cred);
	if (rc == 0 && req->user_id != 0)
		rc = api_auth_role(req);
	if (rc == -1) {
		if (resp->status == 0)
			api_error(resp, 500, "internal", "the store does not "
			    "answer");
		return -1;
	}
	if (route->auth == API_PUBLIC)
		return 0;
	if (req->user_id == 0)
		return api_error(resp, 401, "unauthenticated", "log in first"),
		    -1;
	if (!api_auth_csrf_ok(req, cred->csrf))
		return api_error(resp, 403, "csrf", "a write needs the "
		    "X-CSRF-Token header of the session"), -1;
	return 0;
}

/* What /me and log-in show of the caller; NULL on a store error. */
static json_t *
api_auth_user_json(struct api_req *req, int64_t uid)
{
	json_t *all = users_json(req->h->store, uid), *u, *me;

	if (all == NULL || (u = json_array_get(all, 0)) == NULL) {
		json_decref(all);
		return NULL;
	}
	me = json_pack("{s:O, s:O, s:O, s:O, s:O}", "id",
	    json_object_get(u, "id"), "email", json_object_get(u, "email"),
	    "name", json_object_get(u, "name"), "role",
	    json_object_get(u, "role"), "orgs", json_object_get(u, "orgs"));
	json_decref(all);
	return me;
}

/* A new session: its cookie and {"user", "csrf"}; audited as action. */
static int
api_auth_begin(struct api_req *req, struct api_resp *resp, int64_t uid,
    const char *action)
{
	char id[SESSIONS_SECRET_LEN], csrf[SESSIONS_SECRET_LEN], obj[48];
	struct heard *h = req->h;
	json_t *user;

	sessions_purge(h->store, req->now);
	if (sessions_create(h->store, uid, req->now, h->cfg.session_ttl, id,
	    csrf) == -1 || (user = api_auth_user_json(req, uid)) == NULL)
		return -1;
	users_logged_in(h->store, uid, req->now);
	snprintf(obj, sizeof(obj), "user:%lld", (long long)uid);
	if (audit_add(h->store, req->now, uid, action, obj, json_pack("{s:s}",
	    "addr", req->client_addr)) == -1)
		log_warnx("http: %s of user %lld not audited: %s", action,
		    (long long)uid, store_errmsg(h->store));
	free(resp->set_cookie);
	resp->set_cookie = api_auth_cookie(req, id, h->cfg.session_ttl);
	explicit_bzero(id, sizeof(id));
	return api_ok(resp, 200, json_pack("{s:o, s:s}", "user", user,
	    "csrf", csrf));
}

/* The limit's keys: the address, and the account as typed (any case). */
static void
api_auth_keys(const struct api_req *req, const char *email,
    char addr[RATELIMIT_KEY_MAX], char acct[RATELIMIT_KEY_MAX])
{
	size_t i;

	snprintf(addr, RATELIMIT_KEY_MAX, "addr:%s", req->client_addr);
	snprintf(acct, RATELIMIT_KEY_MAX, "user:%.*s", API_AUTH_EMAIL_MAX,
	    email);
	for (i = 5; acct[i] != '\0'; i++)
		acct[i] = (char)tolower((unsigned char)acct[i]);
}

static void
api_auth_failed(struct api_req *req, const char *email)
{
	if (audit_add(req->h->store, req->now, 0, "login.failed", "login",
	    json_pack("{s:s%, s:s}", "email", email, strnlen(email,
	    API_AUTH_EMAIL_MAX), "addr", req->client_addr)) == -1)
		log_warnx("http: failed log-in not audited: %s",
		    store_errmsg(req->h->store));
	log_info("http: failed log-in from %s", req->client_addr);
}

int
api_auth_login(struct api_req *req, struct api_resp *resp)
{
	static const char *const keys[] = { "email", "password", NULL };
	struct ratelimit *rl = httpd_ratelimit(req->h->httpd);
	char addr[RATELIMIT_KEY_MAX], acct[RATELIMIT_KEY_MAX];
	const char *email, *password;
	long limit = req->h->cfg.login_per_min, wa, wu;
	int64_t uid;

	if (api_body_check(req, resp, keys, 0) == -1 ||
	    api_body_str(req, resp, "email", 1, &email) == -1 ||
	    api_body_str(req, resp, "password", 1, &password) == -1)
		return 0;
	api_auth_keys(req, email, addr, acct);
	wa = ratelimit_wait(rl, addr, limit, req->now);
	wu = ratelimit_wait(rl, acct, limit, req->now);
	if (wa > 0 || wu > 0) {
		resp->retry_after = wa > wu ? wa : wu;
		return api_error(resp, 429, "rate_limited", "too many failed "
		    "log-ins; try again in %ld s", resp->retry_after);
	}
	if ((uid = users_check_password(req->h->store, email, password)) ==
	    -1)
		return -1;
	if (uid == 0) {
		ratelimit_fail(rl, addr, req->now);
		ratelimit_fail(rl, acct, req->now);
		api_auth_failed(req, email);
		return api_error(resp, 401, "unauthenticated", "wrong email "
		    "or password");
	}
	return api_auth_begin(req, resp, uid, "login");
}

int
api_auth_logout(struct api_req *req, struct api_resp *resp)
{
	static const char *const keys[] = { NULL };
	char obj[48];

	if (api_body_check(req, resp, keys, 1) == -1)
		return 0;
	if (req->session && sessions_end(req->h->store, req->sid) == -1)
		return -1;
	snprintf(obj, sizeof(obj), "user:%lld", (long long)req->user_id);
	if (api_audit(req, "logout", obj, json_pack("{s:s}", "addr",
	    req->client_addr)) == -1)
		log_warnx("http: log-out not audited: %s",
		    store_errmsg(req->h->store));
	free(resp->set_cookie);
	resp->set_cookie = api_auth_cookie(req, NULL, 0);
	return api_ok(resp, 204, NULL);
}

int
api_auth_me(struct api_req *req, struct api_resp *resp)
{
	json_t *me = api_auth_user_json(req, req->user_id);

	if (me == NULL)
		return -1;
	json_object_set_new(me, "csrf", req->session ?
	    json_string(req->csrf) : json_null());
	return api_ok(resp, 200, me);
}

/* 1 if the caller is a member of org (an ODS code, any case). */
static int
api_auth_member(json_t *me, const char *org)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(me, "orgs"), i, o)
		if (json_is_string(json_object_get(o, "code")) &&
		    strcasecmp(json_string_value(json_object_get(o, "code")),
		    org) == 0)
			return 1;
	return 0;
}

int
api_auth_notify(struct api_req *req, struct api_resp *resp)
{
	static const char *const keys[] = { "org", "notify", NULL };
	const char *org, *how;
	enum user_notify n;
	char err[256];
	json_t *me;
	int member;

	if (api_body_check(req, resp, keys, 0) == -1 ||
	    api_body_str(req, resp, "org", 1, &org) == -1 ||
	    api_body_str(req, resp, "notify", 1, &how) == -1)
		return 0;
	if (user_notify_parse(how, &n) == -1)
		return api_error(resp, 422, "invalid", "notify is one of "
		    "conversation, message, digest, none");
	if ((me = api_auth_user_json(req, req->user_id)) == NULL)
		return -1;
	member = api_auth_member(me, org);
	json_decref(me);
	/* Only an admin may join an organisation this way. */
	if (!member && req->role != ROLE_ADMIN)
		return api_error(resp, 404, "not_found", "you are not a "
		    "member of '%.16s'", org);
	if (users_set_org(req->h->store, req->user_id, org, n, req->user_id,
	    req->now, err, sizeof(err)) == -1)
		return api_error(resp, 422, "invalid", "%s", err);
	return api_auth_me(req, resp);
}

int
api_auth_tokens(struct api_req *req, struct api_resp *resp)
{
	json_t *items = sessions_tokens_json(req->h->store, req->user_id);

	if (items == NULL)
		return -1;
	return api_ok(resp, 200, json_pack("{s:o, s:n}", "items", items,
	    "next_cursor"));
}

int
api_auth_token_new(struct api_req *req, struct api_resp *resp)
{
	static const char *const keys[] = { "name", NULL };
	char token[SESSIONS_SECRET_LEN], err[256];
	const char *name;
	int64_t id;
	int rc;

	if (api_body_check(req, resp, keys, 0) == -1 ||
	    api_body_str(req, resp, "name", 1, &name) == -1)
		return 0;
	id = sessions_token_create(req->h->store, req->user_id, name, req->now,
	    token, err, sizeof(err));
	if (id == -1)
		return api_error(resp, 422, "invalid", "%s", err);
	rc = api_ok(resp, 201, json_pack("{s:I, s:s, s:s}", "id",
	    (json_int_t)id, "name", name, "token", token));
	explicit_bzero(token, sizeof(token));
	return rc;
}

int
api_auth_token_revoke(struct api_req *req, struct api_resp *resp)
{
	int64_t id;
	int rc;

	if (api_param_id(req, resp, 0, &id) == -1)
		return 0;
	rc = sessions_token_revoke(req->h->store, id, req->role == ROLE_ADMIN ?
	    0 : req->user_id, req->user_id, req->now);
	if (rc == -1)
		return -1;
	if (rc == 0)
		return api_error(resp, 404, "not_found", "no live token %lld",
		    (long long)id);
	return api_ok(resp, 204, NULL);
}

int
api_auth_invitation_accept(struct api_req *req, struct api_resp *resp)
{
	static const char *const keys[] = { "token", "password", "name",
	    NULL };
	const char *token, *password, *name;
	char err[256];
	int64_t uid;
	int bad;

	if (api_body_check(req, resp, keys, 0) == -1 ||
	    api_body_str(req, resp, "token", 1, &token) == -1 ||
	    api_body_str(req, resp, "password", 1, &password) == -1 ||
	    api_body_str(req, resp, "name", 0, &name) == -1)
		return 0;
	uid = sessions_invitation_accept(req->h->store, token, password, name,
	    req->now, &bad, err, sizeof(err));
	if (uid == 0)
		return api_error(resp, 404, "not_found", "%s", err);
	if (uid == -1 && bad)
		return api_error(resp, 422, "invalid", "%s", err);
	if (uid == -1) {
		log_warnx("http: invitation: %s", err);
		return -1;
	}
	return api_auth_begin(req, resp, uid, "login");
}
