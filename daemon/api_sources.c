/* api_sources: the API's sources (list, add, edit, poll) and connectors. */
#include "api_sources.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "access.h"
#include "api.h"
#include "arena.h"
#include "connector.h"
#include "heard.h"
#include "log.h"
#include "orgs.h"
#include "poller.h"
#include "registry.h"
#include "settings_json.h"
#include "sources.h"
#include "store.h"

/* 1 if the caller is an admin; else 0 with 403 set (-1 store error). */
static int
api_sources_admin(struct api_req *req, struct api_resp *resp)
{
	int rc = access_check(req->h->store, req->user_id, 0, ACCESS_ADMIN);

	if (rc == 0)
		api_error(resp, 403, "forbidden", "only an admin may change "
		    "sources");
	return rc;
}

static int
api_sources_is_address(const char *key)
{
	return strcmp(key, "base_url") == 0 || strcmp(key, "url") == 0 ||
	    strcmp(key, "endpoint") == 0;
}

/*
 * The server a source of c talks to, by its address setting or that
 * setting's default: "" when c has no such setting (one server for
 * all), NULL when it has one but it is unknown.
 */
static const char *
api_sources_server(const struct connector *c, json_t *settings)
{
	const struct conn_setting *s;
	const char *v;

	for (s = c->settings; s->key != NULL; s++) {
		if (!api_sources_is_address(s->key))
			continue;
		v = json_string_value(json_object_get(settings, s->key));
		return v != NULL ? v : s->def;
	}
	return "";
}

char *
api_sources_reuse(struct store *st, const struct connector *c,
    const char *key, json_t *settings)
{
	const char *want = api_sources_server(c, settings), *have, *v;
	struct source *all;
	char *found = NULL;
	json_t *o;
	size_t n, i;

	if (want == NULL || sources_all(st, &all, &n) == -1)
		return NULL;
	for (i = 0; i < n && found == NULL; i++) {
		if (strcmp(all[i].connector, c->name) != 0 ||
		    (o = json_loads(all[i].settings, 0, NULL)) == NULL)
			continue;
		have = api_sources_server(c, o);
		v = json_string_value(json_object_get(o, key));
		if (have != NULL && strcmp(have, want) == 0 && v != NULL &&
		    strcmp(v, API_SECRET_MASK) != 0)
			found = strdup(v);
		json_decref(o);
	}
	sources_free_all(all, n);
	return found;
}

/* Bounds and types of a request's settings; -1 and 400 if not. */
static int
api_sources_shape(struct api_resp *resp, const char *where, json_t *settings)
{
	const char *k;
	json_t *v;

	if (!json_is_object(settings)) {
		api_error(resp, 400, "bad_request", "%s: settings must be an "
		    "object of strings", where);
		return -1;
	}
	if (json_object_size(settings) > API_SETTINGS_MAX) {
		api_error(resp, 400, "bad_request", "%s: at most %d settings",
		    where, API_SETTINGS_MAX);
		return -1;
	}
	json_object_foreach(settings, k, v) {
		if (strlen(k) > API_SETTING_KEY_MAX || !json_is_string(v) ||
		    json_string_length(v) > API_SETTING_VALUE_MAX) {
			api_error(resp, 400, "bad_request", "%s: setting "
			    "'%.64s' must be a string of at most %d bytes",
			    where, k, API_SETTING_VALUE_MAX);
			return -1;
		}
	}
	return 0;
}

/* Each masked secret replaced by the value kept; -1 and 422 if none. */
static int
api_sources_unmask(struct api_req *req, struct api_resp *resp,
    const char *where, const struct connector *c, json_t *set,
    json_t *old)
{
	const char *k, *kept;
	char *reused;
	json_t *v;
	void *tmp;

	json_object_foreach_safe(set, tmp, k, v) {
		if (strcmp(json_string_value(v), API_SECRET_MASK) != 0)
			continue;
		kept = json_string_value(json_object_get(old, k));
		if (kept != NULL) {
			json_object_set_new(set, k, json_string(kept));
			continue;
		}
		if ((reused = api_sources_reuse(req->h->store, c, k, set)) ==
		    NULL) {
			api_error(resp, 422, "invalid", "%s (%s): setting "
			    "'%s': heard keeps no %s for this server; type it",
			    where, c->name, k, k);
			return -1;
		}
		json_object_set_new(set, k, json_string(reused));
		free(reused);
	}
	return 0;
}

int
api_sources_settings(struct api_req *req, struct api_resp *resp,
    const char *where, const struct connector *c, json_t *settings,
    const char *existing, char **out)
{
	struct conn_settings cs;
	struct conn_error e = { 0 };
	json_t *set, *old;
	struct arena a;
	int rc;

	*out = NULL;
	if (api_sources_shape(resp, where, settings) == -1)
		return -1;
	set = json_deep_copy(settings);
	old = existing != NULL ? json_loads(existing, 0, NULL) : NULL;
	rc = api_sources_unmask(req, resp, where, c, set, old);
	json_decref(old);
	if (rc == 0)
		*out = json_dumps(set, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(set);
	if (rc == -1)
		return -1;
	arena_init(&a);
	if (settings_from_json(&a, *out, &cs, &e) == -1 ||
	    registry_check_settings(c, &cs, &e) == -1) {
		/* The connector's message names it and the setting. */
		api_error(resp, 422, "invalid", "%s (%s): %s", where, c->name,
		    e.msg);
		free(*out);
		*out = NULL;
		rc = -1;
	}
	arena_free(&a);
	return rc;
}

int
api_sources_list(struct api_req *req, struct api_resp *resp)
{
	const char *org = req->query(req, "org");
	json_t *all;

	if (org != NULL && strlen(org) > 16)
		return api_error(resp, 400, "bad_request", "org: an ODS code");
	if ((all = sources_json_for(req->h->store, req->user_id,
	    org != NULL && *org != '\0' ? org : NULL, 0)) == NULL)
		return -1;
	return api_ok(resp, 200, json_pack("{s:o, s:n}", "items", all,
	    "next_cursor"));
}

/* The source as the list shows it, with status. */
static int
api_sources_answer(struct api_req *req, struct api_resp *resp, int status,
    int64_t id)
{
	json_t *one;

	if ((one = sources_json_for(req->h->store, req->user_id, NULL, id)) ==
	    NULL)
		return -1;
	if (json_array_size(one) == 0) {
		json_decref(one);
		return api_error(resp, 404, "not_found", "no source %lld",
		    (long long)id);
	}
	api_ok(resp, status, json_incref(json_array_get(one, 0)));
	json_decref(one);
	return 0;
}

/* The poller reads the sources again, so a change is polled at once. */
static void
api_sources_reload(struct api_req *req)
{
	if (req->h->poller != NULL)
		poller_reload(req->h->poller);
}

int64_t
api_sources_create(struct api_req *req, const char *org,
    const struct connector *c, const char *settings, char *err,
    size_t errlen)
{
	char object[32];
	int64_t id;
	int own = sqlite3_get_autocommit(store_db(req->h->store));

	if (own && store_begin(req->h->store) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		return -1;
	}
	if ((id = sources_same(req->h->store, org, c->name, settings)) > 0) {
		snprintf(err, errlen, "%s is linked for %s already, with these "
		    "settings: source %lld", c->name, org, (long long)id);
		if (own)
			store_rollback(req->h->store);
		return -2;
	}
	id = sources_add(req->h->store, org, c->name, settings, req->now, err,
	    errlen);
	snprintf(object, sizeof(object), "source:%lld", (long long)id);
	if (id != -1 && api_audit(req, "source.add", object,
	    json_pack("{s:s, s:s}", "org", org, "connector", c->name)) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		id = -1;
	}
	if (own && id != -1 && store_commit(req->h->store) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		id = -1;
	}
	if (own && id == -1)
		store_rollback(req->h->store);
	return id;
}

int
api_sources_add(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "org", "connector", "settings",
	    NULL };
	const struct connector *c;
	const char *org, *name;
	char err[256], *json;
	json_t *set, *empty = NULL;
	int64_t id;
	int rc;

	if ((rc = api_sources_admin(req, resp)) <= 0)
		return rc;
	if (api_body_check(req, resp, allowed, 0) == -1 ||
	    api_body_str(req, resp, "org", 1, &org) == -1 ||
	    api_body_str(req, resp, "connector", 1, &name) == -1)
		return 0;
	if ((c = registry_find(name)) == NULL)
		return api_error(resp, 422, "invalid", "connector: no "
		    "connector '%.40s' (GET /api/v1/connectors)", name);
	if (orgs_id(req->h->store, org) == -1)
		return api_error(resp, 422, "invalid", "org: no organisation "
		    "with ODS code '%.16s'", org);
	if ((set = json_object_get(req->body, "settings")) == NULL)
		set = empty = json_object();
	rc = api_sources_settings(req, resp, "settings", c, set, NULL, &json);
	json_decref(empty);
	if (rc == -1)
		return 0;
	id = api_sources_create(req, org, c, json, err, sizeof(err));
	free(json);
	if (id == -2)
		return api_error(resp, 409, "conflict", "%s", err);
	if (id == -1)
		return api_error(resp, 422, "invalid", "%s", err);
	api_sources_reload(req);
	return api_sources_answer(req, resp, 201, id);
}

/* The stored settings of source id, owned; NULL and 404 if none. */
static char *
api_sources_stored(struct api_req *req, struct api_resp *resp, int64_t id,
    char **connector)
{
	struct source src;
	char *settings;
	int rc;

	if ((rc = sources_get(req->h->store, id, &src)) != 1) {
		if (rc == 0)
			api_error(resp, 404, "not_found", "no source %lld",
			    (long long)id);
		return NULL;
	}
	settings = src.settings;
	*connector = src.connector;
	src.settings = src.connector = NULL;
	source_free(&src);
	return settings;
}

/* The audit detail of a change: which settings, never their values. */
static json_t *
api_sources_change(json_t *settings, int paused)
{
	json_t *o = json_object(), *keys;
	const char *k;
	json_t *v;

	if (settings != NULL) {
		keys = json_array();
		json_object_foreach(settings, k, v)
			json_array_append_new(keys, json_string(k));
		json_object_set_new(o, "settings", keys);
	}
	if (paused != -1)
		json_object_set_new(o, "paused", json_boolean(paused));
	return o;
}

/* Writes the change and its audit in one transaction; 0 or -1 err. */
static int
api_sources_apply(struct api_req *req, int64_t id, const char *json,
    json_t *settings, int paused, char *err, size_t errlen)
{
	char object[32];
	int rc;

	snprintf(object, sizeof(object), "source:%lld", (long long)id);
	if (store_begin(req->h->store) == -1) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		return -1;
	}
	rc = sources_update(req->h->store, id, json, paused, req->now, err,
	    errlen);
	if (rc == 1 && (api_audit(req, "source.update", object,
	    api_sources_change(settings, paused)) == -1 ||
	    store_commit(req->h->store) == -1)) {
		snprintf(err, errlen, "%s", store_errmsg(req->h->store));
		rc = -1;
	}
	if (rc != 1)
		store_rollback(req->h->store);
	return rc == 1 ? 0 : -1;
}

int
api_sources_patch(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "settings", "paused", NULL };
	const struct connector *c;
	char *stored, *connector = NULL, *json = NULL, err[256];
	json_t *settings;
	int64_t id;
	int rc, paused = -1;

	if ((rc = api_sources_admin(req, resp)) <= 0)
		return rc;
	if (api_param_id(req, resp, 0, &id) == -1 ||
	    api_body_check(req, resp, allowed, 0) == -1)
		return 0;
	if (json_object_size(req->body) == 0)
		return api_error(resp, 400, "bad_request", "nothing to change: "
		    "give settings, paused or both");
	if (json_object_get(req->body, "paused") != NULL &&
	    api_body_bool(req, resp, "paused", 1, &paused) == -1)
		return 0;
	if ((stored = api_sources_stored(req, resp, id, &connector)) == NULL)
		return resp->status != 0 ? 0 : -1;
	settings = json_object_get(req->body, "settings");
	rc = 0;
	if (settings != NULL && (c = registry_find(connector)) == NULL) {
		api_error(resp, 409, "conflict", "source %lld is of '%s', a "
		    "connector this heard does not know", (long long)id,
		    connector);
		rc = -1;
	} else if (settings != NULL)
		rc = api_sources_settings(req, resp, "settings", c, settings,
		    stored, &json);
	free(stored);
	free(connector);
	if (rc == 0 && (rc = api_sources_apply(req, id, json, settings,
	    paused, err, sizeof(err))) == -1)
		log_warnx("source %lld: cannot change it: %s", (long long)id,
		    err);
	free(json);
	if (rc == -1)
		return resp->status != 0 ? 0 : -1;
	api_sources_reload(req);
	return api_sources_answer(req, resp, 200, id);
}

/* How a poll started from the API went, for the log only. */
static void
api_sources_polled(void *arg, int64_t source_id, int ok, const char *error)
{
	(void)arg;
	if (ok)
		log_info("source %lld: polled at an admin's request",
		    (long long)source_id);
	else
		log_warnx("source %lld: poll at an admin's request failed: %s",
		    (long long)source_id, error != NULL ? error : "?");
}

int
api_sources_poll(struct api_req *req, struct api_resp *resp)
{
	struct source src;
	int64_t id;
	int rc;

	if ((rc = api_sources_admin(req, resp)) <= 0)
		return rc;
	if (api_param_id(req, resp, 0, &id) == -1 ||
	    api_body_check(req, resp, (const char *const[]){ NULL }, 1) == -1)
		return 0;
	if ((rc = sources_get(req->h->store, id, &src)) != 1)
		return rc == 0 ? api_error(resp, 404, "not_found", "no source "
		    "%lld", (long long)id) : -1;
	source_free(&src);
	if (req->h->poller == NULL)
		return api_error(resp, 503, "unavailable", "no poller runs in "
		    "this process");
	/* -1 here: a poll of it is already waited on, which is as good. */
	if (poller_poll_now(req->h->poller, id, api_sources_polled, NULL) ==
	    -1)
		log_info("source %lld: poll asked for while one is pending",
		    (long long)id);
	return api_ok(resp, 202, json_pack("{s:I, s:s}", "id", (json_int_t)id,
	    "status", "polling"));
}

static const char *
api_sources_mode(enum conn_reply_mode m)
{
	return m == CONN_REPLY_API ? "api" : m == CONN_REPLY_HANDOFF ?
	    "handoff" : "none";
}

/* One connector: its settings and how it replies. */
static json_t *
api_sources_connector(const struct connector *c)
{
	const struct conn_setting *s;
	json_t *set = json_array();

	for (s = c->settings; s->key != NULL; s++)
		json_array_append_new(set, json_pack("{s:s, s:s, s:b, s:s?, "
		    "s:b}", "key", s->key, "help", s->help, "required",
		    s->required, "default", s->def, "secret", s->secret ||
		    sources_setting_secret(s->key)));
	for (s = registry_generic; s->key != NULL; s++)
		json_array_append_new(set, json_pack("{s:s, s:s, s:b, s:s?, "
		    "s:b}", "key", s->key, "help", s->help, "required", 0,
		    "default", s->def, "secret", 0));
	return json_pack("{s:s, s:s, s:s, s:o}", "name", c->name, "title",
	    c->title, "reply", api_sources_mode(c->reply_mode), "settings",
	    set);
}

int
api_sources_connectors(struct api_req *req, struct api_resp *resp)
{
	const struct connector *c;
	json_t *all = json_array();
	size_t i;

	(void)req;
	for (i = 0; (c = registry_at(i)) != NULL; i++)
		json_array_append_new(all, api_sources_connector(c));
	return api_ok(resp, 200, json_pack("{s:o, s:n}", "items", all,
	    "next_cursor"));
}
