/* api_orgs: the API's organisations: search, channels, sign-up. */
#include "api_orgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "access.h"
#include "api.h"
#include "api_sources.h"
#include "api_users.h"
#include "connector.h"
#include "heard.h"
#include "log.h"
#include "orgs.h"
#include "poller.h"
#include "registry.h"
#include "sources.h"
#include "store.h"
#include "users.h"

/* A sign-up as checked, before anything is written. */
struct api_signup {
	const char		*code;	/* borrowed: the org's JSON */
	const char		*name;	/* borrowed: the org's JSON */
	size_t			 nsources;
	const struct connector	*conn[API_ORGS_SIGNUP_MAX];
	/* owned JSON text, ready for sources_add */
	char			*settings[API_ORGS_SIGNUP_MAX];
	int64_t			 ids[API_ORGS_SIGNUP_MAX];
	size_t			 nleads;
	/* borrowed from the request's body */
	const char		*leads[API_ORGS_SIGNUP_MAX];
	int64_t			 lead_ids[API_ORGS_SIGNUP_MAX];
	int			 lead_new[API_ORGS_SIGNUP_MAX];
	/* "" when that lead needs no invitation */
	char	 tokens[API_ORGS_SIGNUP_MAX][SESSIONS_SECRET_LEN];
};

int
api_orgs_search(struct api_req *req, struct api_resp *resp)
{
	const char *q = req->query(req, "q"), *lim = req->query(req, "limit");
	long limit = 20;
	char *end;
	json_t *all, *o;
	size_t i;

	if (q == NULL || q[strspn(q, " \t")] == '\0' ||
	    strlen(q) > API_ORGS_Q_MAX)
		return api_error(resp, 400, "bad_request", "q: part of a name "
		    "or an ODS code, 1 to %d bytes", API_ORGS_Q_MAX);
	if (lim != NULL && ((limit = strtol(lim, &end, 10)) < 1 ||
	    limit > API_ORGS_LIMIT_MAX || *end != '\0' || *lim == '+'))
		return api_error(resp, 400, "bad_request", "limit: a number "
		    "from 1 to %d", API_ORGS_LIMIT_MAX);
	if ((all = orgs_search(req->h->store, q, (int)limit)) == NULL)
		return -1;
	/* The contract's name for the ODS parent. */
	json_array_foreach(all, i, o) {
		json_object_set(o, "parent_code", json_object_get(o, "parent"));
		json_object_del(o, "parent");
	}
	return api_ok(resp, 200, json_pack("{s:o, s:n}", "items", all,
	    "next_cursor"));
}

/* What heard knows of a setting for org: its ODS code and kind. */
static const char *
api_orgs_known(const struct connector *c, const char *key, json_t *org)
{
	const char *type = json_string_value(json_object_get(org, "type"));

	if (strcmp(key, "ods_code") == 0 || strcmp(key, "nacs") == 0)
		return json_string_value(json_object_get(org, "code"));
	/* NHS Choices files GP practices under their own path. */
	if (strcmp(c->name, "nhs-choices") == 0 &&
	    strcmp(key, "org_type") == 0 && type != NULL &&
	    strcmp(type, "gp-practice") == 0)
		return "gppractices";
	return NULL;
}

static const char *
api_orgs_mode(enum conn_reply_mode m)
{
	return m == CONN_REPLY_API ? "api" : m == CONN_REPLY_HANDOFF ?
	    "handoff" : "none";
}

/* The ids of org's sources of connector name (sources_json_for's). */
static json_t *
api_orgs_linked(json_t *sources, const char *name)
{
	json_t *ids = json_array(), *s;
	size_t i;

	json_array_foreach(sources, i, s)
		if (strcmp(json_string_value(json_object_get(s, "connector")),
		    name) == 0)
			json_array_append(ids, json_object_get(s, "id"));
	return ids;
}

/*
 * One channel heard can link for org: each setting prefilled from what
 * heard knows (the ODS code, a key another source of that server
 * uses, shown masked), and the required ones it cannot fill in needs.
 */
static json_t *
api_orgs_channel(struct api_req *req, const struct connector *c, json_t *org,
    json_t *sources)
{
	json_t *set = json_object(), *needs = json_array();
	const struct conn_setting *s;
	const char *v;
	char *kept;

	for (s = c->settings; s->key != NULL; s++) {
		if ((v = api_orgs_known(c, s->key, org)) != NULL)
			json_object_set_new(set, s->key, json_string(v));
		else if ((s->secret || sources_setting_secret(s->key)) &&
		    (kept = api_sources_reuse(req->h->store, c, s->key,
		    set)) != NULL) {
			json_object_set_new(set, s->key,
			    json_string(API_SECRET_MASK));
			free(kept);
		} else if (s->required && s->def == NULL)
			json_array_append_new(needs, json_string(s->key));
	}
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o}", "connector",
	    c->name, "title", c->title, "reply", api_orgs_mode(c->reply_mode),
	    "settings", set, "needs", needs, "linked",
	    api_orgs_linked(sources, c->name));
}

int
api_orgs_get(struct api_req *req, struct api_resp *resp)
{
	const char *code = req->nparams > 0 ? req->params[0] : "";
	const struct connector *c;
	json_t *org, *sources, *chans;
	size_t i;

	if ((org = orgs_get(req->h->store, code)) == NULL)
		return api_error(resp, 404, "not_found", "no organisation "
		    "with ODS code '%.16s'", code);
	code = json_string_value(json_object_get(org, "code"));
	json_object_set(org, "parent_code", json_object_get(org, "parent"));
	json_object_del(org, "parent");
	json_object_del(org, "id");
	/* Only the sources of an organisation the caller may read. */
	if ((sources = sources_json_for(req->h->store, req->user_id, code,
	    0)) == NULL) {
		json_decref(org);
		return -1;
	}
	chans = json_array();
	for (i = 0; (c = registry_at(i)) != NULL; i++)
		json_array_append_new(chans, api_orgs_channel(req, c, org,
		    sources));
	json_object_set_new(org, "sources", sources);
	json_object_set_new(org, "channels", chans);
	return api_ok(resp, 200, org);
}

static void
api_signup_free(struct api_signup *su)
{
	size_t i;

	for (i = 0; i < su->nsources; i++)
		free(su->settings[i]);
}

/* sources[i] of the body: its connector and settings made ready. */
static int
api_signup_source(struct api_req *req, struct api_resp *resp,
    struct api_signup *su, size_t i, json_t *src)
{
	const char *k, *name, *bad = NULL;
	char where[32];
	json_t *v, *set, *empty = NULL;
	int rc;

	snprintf(where, sizeof(where), "sources[%zu]", i);
	if (!json_is_object(src))
		bad = "must be an object {\"connector\", \"settings\"}";
	json_object_foreach(src, k, v)
		if (strcmp(k, "connector") != 0 && strcmp(k, "settings") != 0)
			bad = "has a field that is neither connector nor "
			    "settings";
	if (bad != NULL) {
		api_error(resp, 400, "bad_request", "%s %s", where, bad);
		return -1;
	}
	name = json_string_value(json_object_get(src, "connector"));
	if (name == NULL || (su->conn[i] = registry_find(name)) == NULL) {
		api_error(resp, 422, "invalid", "%s: no connector '%.40s' (GET "
		    "/api/v1/connectors)", where, name != NULL ? name : "");
		return -1;
	}
	if ((set = json_object_get(src, "settings")) == NULL)
		set = empty = json_object();
	rc = api_sources_settings(req, resp, where, su->conn[i], set, NULL,
	    &su->settings[i]);
	json_decref(empty);
	if (rc == 0)
		su->nsources = i + 1;
	return rc;
}

/* The body's sources and leads, each checked; -1 with resp set. */
static int
api_signup_read(struct api_req *req, struct api_resp *resp,
    struct api_signup *su)
{
	static const char *const allowed[] = { "sources", "leads", NULL };
	json_t *srcs, *leads, *v;
	size_t i;

	if (api_body_check(req, resp, allowed, 0) == -1)
		return -1;
	srcs = json_object_get(req->body, "sources");
	leads = json_object_get(req->body, "leads");
	if ((srcs != NULL && !json_is_array(srcs)) ||
	    (leads != NULL && !json_is_array(leads)) ||
	    json_array_size(srcs) > API_ORGS_SIGNUP_MAX ||
	    json_array_size(leads) > API_ORGS_SIGNUP_MAX) {
		api_error(resp, 400, "bad_request", "sources and leads must be "
		    "arrays of at most %d", API_ORGS_SIGNUP_MAX);
		return -1;
	}
	if (json_array_size(srcs) + json_array_size(leads) == 0) {
		api_error(resp, 422, "invalid", "nothing to do: give sources, "
		    "leads or both");
		return -1;
	}
	json_array_foreach(leads, i, v) {
		if (!json_is_string(v) || json_string_length(v) > 254) {
			api_error(resp, 400, "bad_request", "leads[%zu] must "
			    "be an email address", i);
			return -1;
		}
		su->leads[su->nleads++] = json_string_value(v);
	}
	json_array_foreach(srcs, i, v)
		if (api_signup_source(req, resp, su, i, v) == -1)
			return -1;
	return 0;
}

/* 1 if the account (users_json's) is a member of code. */
static int
api_signup_member(json_t *u, const char *code)
{
	json_t *o;
	size_t i;

	json_array_foreach(json_object_get(u, "orgs"), i, o)
		if (strcasecmp(json_string_value(json_object_get(o, "code")),
		    code) == 0)
			return 1;
	return 0;
}

/*
 * Lead i: a new account (lead of the organisation), or the membership
 * added to an existing one; an invitation unless they have a password.
 */
static int
api_signup_lead(struct api_req *req, struct api_signup *su, size_t i,
    char *err, size_t errlen)
{
	const char *orgs[1] = { su->code };
	struct user_new nu = { .email = su->leads[i], .role = ROLE_LEAD,
	    .orgs = orgs, .norgs = 1, .notify = NOTIFY_CONVERSATION };
	struct user u;
	json_t *one;
	int rc, member, has_password;

	if ((rc = users_find(req->h->store, su->leads[i], &u)) == -1)
		return -1;
	if (rc == 0) {
		su->lead_new[i] = 1;
		if ((su->lead_ids[i] = users_add(req->h->store, &nu,
		    req->user_id, req->now, err, errlen)) == -1)
			return -1;
		return api_users_invitation(req, su->lead_ids[i],
		    su->tokens[i]);
	}
	su->lead_ids[i] = u.id;
	has_password = u.has_password;
	user_free(&u);
	if ((one = users_json(req->h->store, su->lead_ids[i])) == NULL)
		return -1;
	member = api_signup_member(json_array_get(one, 0), su->code);
	json_decref(one);
	if (!member && users_set_org(req->h->store, su->lead_ids[i], su->code,
	    NOTIFY_CONVERSATION, req->user_id, req->now, err, errlen) == -1)
		return -1;
	if (has_password)
		return 0;
	return api_users_invitation(req, su->lead_ids[i], su->tokens[i]);
}

/* The audit entry of the whole sign-up. */
static int
api_signup_audit(struct api_req *req, struct api_signup *su)
{
	json_t *ids = json_array(), *leads = json_array();
	char object[32];
	size_t i;

	for (i = 0; i < su->nsources; i++)
		json_array_append_new(ids, json_integer(su->ids[i]));
	for (i = 0; i < su->nleads; i++)
		json_array_append_new(leads, json_integer(su->lead_ids[i]));
	snprintf(object, sizeof(object), "org:%s", su->code);
	return api_audit(req, "org.signup", object, json_pack("{s:o, s:o}",
	    "sources", ids, "leads", leads));
}

/* Sources, accounts, invitations and the audit: one transaction. */
static int
api_signup_write(struct api_req *req, struct api_signup *su, char *err,
    size_t errlen)
{
	struct store *s = req->h->store;
	size_t i;
	int rc = 0;

	snprintf(err, errlen, "the store failed");
	if (store_begin(s) == -1)
		return -1;
	for (i = 0; i < su->nsources && rc == 0; i++)
		if ((su->ids[i] = api_sources_create(req, su->code, su->conn[i],
		    su->settings[i], err, errlen)) < 0)
			rc = (int)su->ids[i];
	for (i = 0; i < su->nleads && rc == 0; i++)
		rc = api_signup_lead(req, su, i, err, errlen);
	if (rc == 0 && (api_signup_audit(req, su) == -1 ||
	    store_commit(s) == -1))
		rc = -1;
	if (rc < 0)
		store_rollback(s);
	return rc;
}

/* After the commit: the first polls, the mails, and the answer. */
static json_t *
api_signup_after(struct api_req *req, struct api_signup *su)
{
	json_t *ids = json_array(), *invited = json_array();
	size_t i;
	int mailed;

	if (req->h->poller != NULL)
		poller_reload(req->h->poller);
	for (i = 0; i < su->nsources; i++) {
		if (req->h->poller != NULL)
			poller_poll_now(req->h->poller, su->ids[i], NULL,
			    NULL);
		json_array_append_new(ids, json_integer(su->ids[i]));
	}
	for (i = 0; i < su->nleads; i++) {
		mailed = su->tokens[i][0] != '\0' && api_users_invite_mail(req,
		    su->lead_ids[i], su->tokens[i], su->name);
		json_array_append_new(invited, json_pack("{s:s, s:I, s:b, "
		    "s:b}", "email", su->leads[i], "user_id",
		    (json_int_t)su->lead_ids[i], "new", su->lead_new[i],
		    "mailed", mailed));
	}
	return json_pack("{s:o, s:o}", "sources", ids, "invited", invited);
}

int
api_orgs_signup(struct api_req *req, struct api_resp *resp)
{
	struct api_signup su;
	char err[256];
	json_t *org;
	int rc;

	if ((rc = access_check(req->h->store, req->user_id, 0,
	    ACCESS_ADMIN)) <= 0)
		return rc == 0 ? api_error(resp, 403, "forbidden", "only an "
		    "admin signs organisations up") : -1;
	if ((org = orgs_get(req->h->store, req->nparams > 0 ?
	    req->params[0] : "")) == NULL)
		return api_error(resp, 404, "not_found", "no organisation "
		    "with ODS code '%.16s'", req->nparams > 0 ?
		    req->params[0] : "");
	memset(&su, 0, sizeof(su));
	su.code = json_string_value(json_object_get(org, "code"));
	su.name = json_string_value(json_object_get(org, "name"));
	if ((rc = api_signup_read(req, resp, &su)) == 0 &&
	    (rc = api_signup_write(req, &su, err, sizeof(err))) < 0)
		api_error(resp, rc == -2 ? 409 : 422, rc == -2 ? "conflict" :
		    "invalid", "%s", err);
	if (rc == 0)
		api_ok(resp, 201, api_signup_after(req, &su));
	api_signup_free(&su);
	json_decref(org);
	return 0;
}
