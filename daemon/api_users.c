/* api_users: the API's staff accounts and invitations to them. */
#include "api_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "api.h"
#include "heard.h"
#include "log.h"
#include "mailer.h"
#include "notify.h"
#include "store.h"
#include "users.h"
#include "xmalloc.h"

/* 1 if the caller is an admin; else 0 with 403 set (-1 store error). */
static int
api_users_admin(struct api_req *req, struct api_resp *resp)
{
	int rc = access_check(req->h->store, req->user_id, 0, ACCESS_ADMIN);

	if (rc == 0)
		api_error(resp, 403, "forbidden", "only an admin may do that");
	return rc;
}

/* 1 if user u (users_json's) is a member of one of codes (an array). */
static int
api_users_shares(json_t *u, json_t *codes)
{
	json_t *o, *c;
	size_t i, j;

	json_array_foreach(json_object_get(u, "orgs"), i, o)
		json_array_foreach(codes, j, c)
			if (json_equal(json_object_get(o, "code"), c))
				return 1;
	return 0;
}

/*
 * What a lead sees to assign a thread: the accounts of their own
 * organisations, by name and role, without mail settings or log-ins.
 */
static json_t *
api_users_for_lead(json_t *all, int64_t me)
{
	json_t *codes = json_array(), *out = json_array(), *u, *o;
	size_t i;

	json_array_foreach(all, i, u)
		if (json_integer_value(json_object_get(u, "id")) == me)
			json_array_foreach(json_object_get(u, "orgs"), i, o)
				json_array_append(codes,
				    json_object_get(o, "code"));
	json_array_foreach(all, i, u) {
		if (json_is_true(json_object_get(u, "disabled")) ||
		    !api_users_shares(u, codes))
			continue;
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O}",
		    "id", json_object_get(u, "id"), "email",
		    json_object_get(u, "email"), "name",
		    json_object_get(u, "name"), "role",
		    json_object_get(u, "role")));
	}
	json_decref(codes);
	json_decref(all);
	return out;
}

int
api_users_list(struct api_req *req, struct api_resp *resp)
{
	json_t *all;

	if (req->role == ROLE_REVIEWER)
		return api_error(resp, 403, "forbidden", "a reviewer assigns "
		    "nothing and manages no accounts");
	if ((all = users_json(req->h->store, 0)) == NULL)
		return -1;
	if (req->role != ROLE_ADMIN)
		all = api_users_for_lead(all, req->user_id);
	return api_ok(resp, 200, json_pack("{s:o, s:n}", "items", all,
	    "next_cursor"));
}

/* "orgs" of the body as an array of codes in out (borrowed); -1 400. */
static int
api_users_orgs(struct api_req *req, struct api_resp *resp,
    const char **out, size_t *n)
{
	json_t *arr = json_object_get(req->body, "orgs"), *v;
	size_t i;

	*n = 0;
	if (arr == NULL)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > API_USERS_ORGS_MAX) {
		api_error(resp, 400, "bad_request", "'orgs' must be an array "
		    "of at most %d ODS codes", API_USERS_ORGS_MAX);
		return -1;
	}
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v) || json_string_length(v) > 16) {
			api_error(resp, 400, "bad_request", "orgs[%zu] must be "
			    "an ODS code", i);
			return -1;
		}
		out[i] = json_string_value(v);
	}
	*n = json_array_size(arr);
	return 0;
}

/* The role named in the body; -1 and 422 when it names none. */
static int
api_users_role(struct api_req *req, struct api_resp *resp, int required,
    enum user_role *role, int *given)
{
	const char *name;

	*given = 0;
	if (api_body_str(req, resp, "role", required, &name) == -1)
		return -1;
	if (name == NULL)
		return 0;
	if (user_role_parse(name, role) == -1) {
		api_error(resp, 422, "invalid", "role: '%.20s' is not admin, "
		    "lead or reviewer", name);
		return -1;
	}
	*given = 1;
	return 0;
}

/* The account as users_json shows it, plus fields; status. */
static int
api_users_answer(struct api_req *req, struct api_resp *resp, int status,
    int64_t id, json_t *extra)
{
	json_t *one, *u;

	if ((one = users_json(req->h->store, id)) == NULL ||
	    (u = json_array_get(one, 0)) == NULL) {
		json_decref(one);
		json_decref(extra);
		return -1;
	}
	json_incref(u);
	json_decref(one);
	if (extra != NULL)
		json_object_update(u, extra);
	json_decref(extra);
	return api_ok(resp, status, u);
}

int
api_users_invitation(struct api_req *req, int64_t user,
    char token[SESSIONS_SECRET_LEN])
{
	return sessions_invite(req->h->store, user, req->user_id, req->now,
	    token);
}

int
api_users_invite_mail(struct api_req *req, int64_t user, const char *token,
    const char *orgs)
{
	struct notify_opts o;
	struct user me;
	char *link;
	const char *base = req->h->cfg.base_url;
	int64_t mail;

	mailer_opts(req->h, &o);
	if (base == NULL || *base == '\0')
		link = xasprintf("http://%s/#/invite/%s", req->h->cfg.listen,
		    token);
	else
		link = xasprintf("%s%s#/invite/%s", base,
		    base[strlen(base) - 1] == '/' ? "" : "/", token);
	if (users_get(req->h->store, req->user_id, &me) != 1)
		memset(&me, 0, sizeof(me));
	mail = notify_mail_invitation(req->h->store, &o, user,
	    me.name != NULL && *me.name != '\0' ? me.name : me.email, orgs,
	    link, req->now);
	user_free(&me);
	free(link);
	if (mail == -1) {
		log_warnx("user %lld: the invitation's mail could not be made "
		    "(is [mail] from set?)", (long long)user);
		return 0;
	}
	mailer_wake(req->h->mailer);
	return 1;
}

/* users_add and, without a password, an invitation: one transaction. */
static int64_t
api_users_create(struct api_req *req, const struct user_new *nu,
    char token[SESSIONS_SECRET_LEN], char *err, size_t errlen)
{
	int64_t id;

	token[0] = '\0';
	if (store_begin(req->h->store) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		return -1;
	}
	id = users_add(req->h->store, nu, req->user_id, req->now, err, errlen);
	if (id > 0 && nu->password == NULL &&
	    api_users_invitation(req, id, token) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		id = -1;
	}
	if (id > 0 && store_commit(req->h->store) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		id = -1;
	}
	if (id <= 0)
		store_rollback(req->h->store);
	return id;
}

int
api_users_add(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "email", "name", "role",
	    "orgs", "password", NULL };
	const char *orgs[API_USERS_ORGS_MAX];
	char token[SESSIONS_SECRET_LEN], err[256];
	struct user_new nu = { .notify = NOTIFY_CONVERSATION };
	int64_t id;
	int rc, given, mailed = 0;

	if ((rc = api_users_admin(req, resp)) <= 0)
		return rc;
	if (api_body_check(req, resp, allowed, 0) == -1 ||
	    api_body_str(req, resp, "email", 1, &nu.email) == -1 ||
	    api_body_str(req, resp, "name", 0, &nu.name) == -1 ||
	    api_body_str(req, resp, "password", 0, &nu.password) == -1 ||
	    api_users_role(req, resp, 1, &nu.role, &given) == -1 ||
	    api_users_orgs(req, resp, orgs, &nu.norgs) == -1)
		return 0;
	nu.orgs = orgs;
	if ((id = api_users_create(req, &nu, token, err, sizeof(err))) <= 0)
		return api_error(resp, strstr(err, "already") != NULL ? 409 :
		    422, strstr(err, "already") != NULL ? "conflict" :
		    "invalid", "%s", err);
	if (token[0] != '\0')
		mailed = api_users_invite_mail(req, id, token, NULL);
	return api_users_answer(req, resp, 201, id, json_pack("{s:b, s:b}",
	    "invited", token[0] != '\0', "mailed", mailed));
}

/* 1 if code is among the n codes (any case). */
static int
api_users_listed(const char *code, const char *const *codes, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/*
 * The account's organisations become exactly codes: new ones first,
 * then the others dropped, so a lead never passes through none.
 */
static int
api_users_set_orgs(struct api_req *req, int64_t id, const char *const *codes,
    size_t n, char *err, size_t errlen)
{
	json_t *one, *mine, *o;
	const char *code;
	size_t i, j;
	int rc = 0, had;

	if ((one = users_json(req->h->store, id)) == NULL) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		return -1;
	}
	mine = json_object_get(json_array_get(one, 0), "orgs");
	/* A membership kept keeps its choice of mail. */
	for (i = 0; i < n && rc == 0; i++) {
		had = 0;
		json_array_foreach(mine, j, o)
			if ((code = json_string_value(json_object_get(o,
			    "code"))) != NULL &&
			    strcasecmp(code, codes[i]) == 0)
				had = 1;
		if (!had)
			rc = users_set_org(req->h->store, id, codes[i],
			    NOTIFY_CONVERSATION, req->user_id, req->now, err,
			    errlen);
	}
	json_array_foreach(mine, i, o) {
		code = json_string_value(json_object_get(o, "code"));
		if (rc == 0 && code != NULL &&
		    !api_users_listed(code, codes, n))
			rc = users_remove_org(req->h->store, id, code,
			    req->user_id, req->now, err, errlen);
	}
	json_decref(one);
	return rc;
}

/* The body's changes, made in one transaction; 0 or -1 with err. */
static int
api_users_change(struct api_req *req, int64_t id, const char *name,
    const enum user_role *role, const int *disabled, const char *const *orgs,
    size_t norgs, int set_orgs, char *err, size_t errlen)
{
	struct store *s = req->h->store;
	int rc = 0;

	if (store_begin(s) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		return -1;
	}
	/* Organisations before the role, so a new lead has one. */
	if (set_orgs)
		rc = api_users_set_orgs(req, id, orgs, norgs, err, errlen);
	if (rc == 0 && (name != NULL || role != NULL || disabled != NULL))
		rc = users_update(s, id, name, role, disabled, req->user_id,
		    req->now, err, errlen);
	if (rc == 0 && store_commit(s) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(s));
		rc = -1;
	}
	if (rc == -1)
		store_rollback(s);
	return rc;
}

int
api_users_patch(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "name", "role", "disabled",
	    "orgs", NULL };
	const char *orgs[API_USERS_ORGS_MAX], *name;
	enum user_role role;
	struct user u;
	char err[256];
	int64_t id;
	size_t norgs;
	int rc, given, disabled;

	if ((rc = api_users_admin(req, resp)) <= 0)
		return rc;
	if (api_param_id(req, resp, 0, &id) == -1 ||
	    api_body_check(req, resp, allowed, 0) == -1 ||
	    api_body_str(req, resp, "name", 0, &name) == -1 ||
	    api_users_role(req, resp, 0, &role, &given) == -1 ||
	    (json_object_get(req->body, "disabled") != NULL &&
	    api_body_bool(req, resp, "disabled", 1, &disabled) == -1) ||
	    api_users_orgs(req, resp, orgs, &norgs) == -1)
		return 0;
	if (json_object_size(req->body) == 0)
		return api_error(resp, 400, "bad_request", "nothing to change: "
		    "give name, role, disabled or orgs");
	if ((rc = users_get(req->h->store, id, &u)) != 1)
		return rc == 0 ? api_error(resp, 404, "not_found", "no user "
		    "%lld", (long long)id) : -1;
	user_free(&u);
	if (api_users_change(req, id, name, given ? &role : NULL,
	    json_object_get(req->body, "disabled") != NULL ? &disabled : NULL,
	    orgs, norgs, json_object_get(req->body, "orgs") != NULL, err,
	    sizeof(err)) == -1)
		return api_error(resp, 422, "invalid", "%s", err);
	return api_users_answer(req, resp, 200, id, NULL);
}
