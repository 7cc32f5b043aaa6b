/* api_threads: the API's threads: list, view, reads, replies, actions. */
#include "api_threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "api.h"
#include "heard.h"
#include "reads.h"
#include "replies.h"
#include "reply_submit.h"
#include "tasks.h"
#include "thread_actions.h"
#include "thread_query.h"
#include "users.h"

/* Longest query value read for a name-like filter (org, tag...). */
#define API_THREADS_WORD_MAX	100

/* The query value of key, at most max bytes; -1 and 400 if longer. */
static int
api_threads_word(struct api_req *req, struct api_resp *resp,
    const char *key, size_t max, const char **out)
{
	*out = req->query(req, key);
	if (*out != NULL && strlen(*out) > max) {
		api_error(resp, 400, "bad_request", "%s: at most %zu bytes",
		    key, max);
		return -1;
	}
	if (*out != NULL && **out == '\0')
		*out = NULL;
	return 0;
}

/* A flag in the query: absent, "0"/"false" or "1"/"true". */
static int
api_threads_flag(struct api_req *req, struct api_resp *resp,
    const char *key, const char *yes, int *out)
{
	const char *v = req->query(req, key);

	*out = 0;
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0 ||
	    strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, yes) == 0 || (yes[0] == '1' && strcmp(v, "true") == 0)) {
		*out = 1;
		return 0;
	}
	api_error(resp, 400, "bad_request", "%s: only %s is understood", key,
	    yes);
	return -1;
}

/* limit=: 1 to max, else 400; absent: 0 (the default). */
static int
api_threads_limit(struct api_req *req, struct api_resp *resp, int max,
    int *out)
{
	const char *v = req->query(req, "limit");
	char *end;
	long n;

	*out = 0;
	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (*v < '0' || *v > '9' || *end != '\0' || n < 1 || n > max) {
		api_error(resp, 400, "bad_request", "limit: a number from 1 "
		    "to %d", max);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* The filter from the query string; -1 and 400 if a value is bad. */
static int
api_threads_filter(struct api_req *req, struct api_resp *resp,
    struct tq_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->user_id = req->user_id;
	if (api_threads_word(req, resp, "org", 16, &f->org) == -1 ||
	    api_threads_word(req, resp, "connector", 40, &f->connector) ==
	    -1 || api_threads_word(req, resp, "status", 20, &f->status) ==
	    -1 || api_threads_word(req, resp, "severity", 20, &f->severity) ==
	    -1 || api_threads_word(req, resp, "tag", API_THREADS_WORD_MAX,
	    &f->tag) == -1 || api_threads_word(req, resp, "q", TQ_Q_MAX,
	    &f->q) == -1 || api_threads_word(req, resp, "cursor", 64,
	    &f->cursor) == -1 ||
	    api_threads_flag(req, resp, "unread", "1", &f->unread) == -1 ||
	    api_threads_flag(req, resp, "assigned", "me", &f->assigned_me) ==
	    -1 || api_threads_limit(req, resp, TQ_LIMIT_MAX, &f->limit) == -1)
		return -1;
	return 0;
}

int
api_threads_list(struct api_req *req, struct api_resp *resp)
{
	struct tq_filter f;
	char err[256];
	json_t *page;
	int bad;

	if (api_threads_filter(req, resp, &f) == -1)
		return 0;
	/* Names the store does not know are well-formed but unacceptable. */
	if (f.status != NULL && !thread_query_status_ok(f.status))
		return api_error(resp, 422, "invalid", "status: '%s' is not "
		    "one of new, open, in_progress, resolved, closed, "
		    "hidden", f.status);
	if (f.severity != NULL && !thread_query_severity_ok(f.severity))
		return api_error(resp, 422, "invalid", "severity: '%s' is not "
		    "one of low, normal, high, urgent", f.severity);
	if ((page = thread_query_list(req->h->store, &f, &bad, err,
	    sizeof(err))) != NULL)
		return api_ok(resp, 200, page);
	if (!bad)
		return -1;
	return api_error(resp, 400, "bad_request", "%s", err);
}

int
api_threads_counts(struct api_req *req, struct api_resp *resp)
{
	json_t *counts;

	if ((counts = thread_query_counts(req->h->store, req->user_id)) ==
	    NULL)
		return -1;
	return api_ok(resp, 200, counts);
}

/*
 * The thread of the path's {id} if the caller may do need to it: 1
 * and *id, *org; else resp is set (404 when it cannot be read, the
 * same as when there is no such thread; 403 when it can be read but
 * not written) and 0; -1 on a store error.
 */
static int
api_threads_find(struct api_req *req, struct api_resp *resp,
    enum access_need need, int64_t *id, int64_t *org)
{
	int rc;

	if (api_param_id(req, resp, 0, id) == -1)
		return 0;
	if ((rc = thread_query_readable(req->h->store, req->user_id, *id,
	    org)) <= 0) {
		if (rc == 0)
			api_error(resp, 404, "not_found", "no thread %lld",
			    (long long)*id);
		return rc;
	}
	if (need == ACCESS_READ)
		return 1;
	if ((rc = access_check(req->h->store, req->user_id, *org, need)) ==
	    1)
		return 1;
	if (rc == 0)
		api_error(resp, 403, "forbidden", "your role may read this "
		    "thread but not change it");
	return rc;
}

/* The thread as the API shows it, with how a reply travels and "can". */
static json_t *
api_threads_view(struct api_req *req, int64_t id, int64_t org)
{
	json_t *t;
	enum reply_mode mode;
	int write;

	if ((t = thread_query_get(req->h->store, req->user_id, id)) == NULL)
		return NULL;
	if ((write = access_check(req->h->store, req->user_id, org,
	    ACCESS_WRITE)) == -1) {
		json_decref(t);
		return NULL;
	}
	mode = reply_mode_of(json_string_value(json_object_get(t,
	    "connector")));
	json_object_set_new(t, "reply_mode", json_string(
	    reply_mode_name(mode)));
	json_object_set_new(t, "can", json_pack("{s:b, s:b}", "reply",
	    write && mode != REPLY_MODE_NONE, "write", write));
	return t;
}

/* 200 with the thread as it is now. */
static int
api_threads_answer(struct api_req *req, struct api_resp *resp, int64_t id,
    int64_t org)
{
	json_t *t;

	if ((t = api_threads_view(req, id, org)) == NULL)
		return -1;
	return api_ok(resp, 200, t);
}

int
api_threads_get(struct api_req *req, struct api_resp *resp)
{
	int64_t id, org;
	int rc;

	if ((rc = api_threads_find(req, resp, ACCESS_READ, &id, &org)) <= 0)
		return rc;
	return api_threads_answer(req, resp, id, org);
}

/*
 * A read receipt is the reader's own record, not a change to the
 * thread: anyone who may read the thread may mark it, reviewers too,
 * and it is kept in reads (who, when) rather than the audit log.
 */
int
api_threads_read(struct api_req *req, struct api_resp *resp)
{
	int64_t id, org;
	int rc;

	if (api_body_check(req, resp, (const char *const[]){ NULL }, 1) ==
	    -1)
		return 0;
	if ((rc = api_threads_find(req, resp, ACCESS_READ, &id, &org)) <= 0)
		return rc;
	if (reads_mark(req->h->store, id, req->user_id, req->now) == -1)
		return -1;
	return api_ok(resp, 204, NULL);
}

int
api_threads_unread(struct api_req *req, struct api_resp *resp)
{
	int64_t id, org;
	int rc;

	if ((rc = api_threads_find(req, resp, ACCESS_READ, &id, &org)) <= 0)
		return rc;
	if (reads_unmark(req->h->store, id, req->user_id) == -1)
		return -1;
	return api_ok(resp, 204, NULL);
}

/* The element of a JSON array whose "id" is id, a new reference; or null. */
static json_t *
api_threads_pick(json_t *all, int64_t id)
{
	json_t *o, *found = json_null();
	size_t i;

	json_array_foreach(all, i, o)
		if (json_integer_value(json_object_get(o, "id")) == id) {
			json_decref(found);
			found = json_incref(o);
		}
	json_decref(all);
	return found;
}

/* The caller as a reply's author (rights checked by replies_author). */
static int
api_threads_author(struct api_req *req, const struct reply_thread *t,
    struct reply_author *au, char *err, size_t errlen)
{
	struct user u;
	int rc;

	if (users_get(req->h->store, req->user_id, &u) != 1) {
		snprintf(err, errlen, "your account is gone");
		return -1;
	}
	rc = replies_author(req->h->store, u.email, t->org_id, t->org_code,
	    au, err, errlen);
	user_free(&u);
	return rc;
}

/* 202 {"reply","mode","task"} for what reply_submit did. */
static int
api_threads_replied(struct api_req *req, struct api_resp *resp, int64_t id,
    const struct reply_submitted *done)
{
	json_t *reply, *task = json_null();

	reply = api_threads_pick(replies_json(req->h->store, id),
	    done->reply_id);
	if (done->task_id > 0)
		task = api_threads_pick(tasks_json(req->h->store, id),
		    done->task_id);
	return api_ok(resp, 202, json_pack("{s:o, s:s, s:o}", "reply", reply,
	    "mode", reply_mode_name(done->mode), "task", task));
}

int
api_threads_reply(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "body", NULL };
	struct reply_submitted done;
	struct reply_thread t;
	struct reply_author au = { 0, NULL };
	const char *body;
	char ref[24], err[512];
	int64_t id, org;
	int rc;

	if (api_body_check(req, resp, allowed, 0) == -1 ||
	    api_body_str(req, resp, "body", 1, &body) == -1)
		return 0;
	if ((rc = api_threads_find(req, resp, ACCESS_WRITE, &id, &org)) <= 0)
		return rc;
	snprintf(ref, sizeof(ref), "%lld", (long long)id);
	if (replies_thread(req->h->store, ref, &t) != 1)
		return -1;
	rc = api_threads_author(req, &t, &au, err, sizeof(err));
	if (rc == 0)
		rc = reply_submit(req->h, &t, body, &au, req->session ? "web" :
		    "api", req->now, &done, err, sizeof(err));
	reply_thread_free(&t);
	free(au.name);
	if (rc == -1)
		return api_error(resp, 422, "invalid", "%s", err);
	return api_threads_replied(req, resp, id, &done);
}

/* The answer to a thread action: the thread, or the fault's status. */
static int
api_threads_acted(struct api_req *req, struct api_resp *resp,
    enum ta_fault f, const char *err, int64_t id, int64_t org)
{
	switch (f) {
	case TA_OK:
		return api_threads_answer(req, resp, id, org);
	case TA_INVALID:
		return api_error(resp, 422, "invalid", "%s", err);
	case TA_CONFLICT:
		return api_error(resp, 409, "conflict", "%s", err);
	case TA_MISSING:
		return api_error(resp, 404, "not_found", "no thread %lld",
		    (long long)id);
	case TA_STORE:
	default:
		return -1;
	}
}

/* A write's preamble: the body's keys, then the thread and the right. */
static int
api_threads_write(struct api_req *req, struct api_resp *resp,
    const char *const *allowed, int64_t *id, int64_t *org)
{
	if (api_body_check(req, resp, allowed, allowed[0] == NULL) == -1)
		return 0;
	return api_threads_find(req, resp, ACCESS_WRITE, id, org);
}

/* POST .../status and .../severity: one string field, one action. */
static int
api_threads_set(struct api_req *req, struct api_resp *resp, const char *key,
    enum ta_fault (*set)(struct store *, int64_t, const char *, int64_t,
    int64_t, char *, size_t))
{
	const char *allowed[] = { key, NULL };
	const char *value;
	char err[256];
	int64_t id, org;
	int rc;

	if ((rc = api_threads_write(req, resp, allowed, &id, &org)) <= 0)
		return rc;
	if (api_body_str(req, resp, key, 1, &value) == -1)
		return 0;
	return api_threads_acted(req, resp, set(req->h->store, id, value,
	    req->user_id, req->now, err, sizeof(err)), err, id, org);
}

int
api_threads_status(struct api_req *req, struct api_resp *resp)
{
	return api_threads_set(req, resp, "status", thread_set_status);
}

int
api_threads_severity(struct api_req *req, struct api_resp *resp)
{
	return api_threads_set(req, resp, "severity", thread_set_severity);
}

int
api_threads_assign(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "user_id", NULL };
	int64_t id, org, user;
	char err[256];
	int rc;

	if ((rc = api_threads_write(req, resp, allowed, &id, &org)) <= 0)
		return rc;
	if (json_object_get(req->body, "user_id") == NULL)
		return api_error(resp, 400, "bad_request", "missing field "
		    "'user_id' (null unassigns)");
	if (api_body_int(req, resp, "user_id", 0, &user) == -1)
		return 0;
	if (user < 0)
		return api_error(resp, 422, "invalid", "user_id: no such "
		    "user");
	return api_threads_acted(req, resp, thread_assign(req->h->store, id,
	    user, req->user_id, req->now, err, sizeof(err)), err, id, org);
}

int
api_threads_tags(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "tags", NULL };
	const char *tags[TA_TAGS_MAX];
	json_t *arr, *v;
	int64_t id, org;
	char err[256];
	size_t i;
	int rc;

	if ((rc = api_threads_write(req, resp, allowed, &id, &org)) <= 0)
		return rc;
	if (!json_is_array(arr = json_object_get(req->body, "tags")))
		return api_error(resp, 400, "bad_request", "'tags' must be an "
		    "array of strings");
	if (json_array_size(arr) > TA_TAGS_MAX)
		return api_error(resp, 422, "invalid", "at most %d tags",
		    TA_TAGS_MAX);
	json_array_foreach(arr, i, v) {
		if (!json_is_string(v))
			return api_error(resp, 400, "bad_request", "tags[%zu] "
			    "must be a string", i);
		tags[i] = json_string_value(v);
	}
	return api_threads_acted(req, resp, thread_set_tags(req->h->store, id,
	    tags, json_array_size(arr), req->user_id, req->now, err,
	    sizeof(err)), err, id, org);
}

int
api_threads_hide(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { "reason", NULL };
	const char *reason;
	int64_t id, org;
	char err[256];
	int rc;

	if ((rc = api_threads_write(req, resp, allowed, &id, &org)) <= 0)
		return rc;
	if (api_body_str(req, resp, "reason", 1, &reason) == -1)
		return 0;
	return api_threads_acted(req, resp, thread_hide(req->h->store, id,
	    reason, req->user_id, req->now, err, sizeof(err)), err, id, org);
}

int
api_threads_unhide(struct api_req *req, struct api_resp *resp)
{
	static const char *const allowed[] = { NULL };
	int64_t id, org;
	char err[256];
	int rc;

	if ((rc = api_threads_write(req, resp, allowed, &id, &org)) <= 0)
		return rc;
	return api_threads_acted(req, resp, thread_unhide(req->h->store, id,
	    req->user_id, req->now, err, sizeof(err)), err, id, org);
}
