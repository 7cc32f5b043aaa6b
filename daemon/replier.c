/* replier: posts the reply outbox through each channel's connector. */
#include "replier.h"

#include <sys/queue.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>
#include <openssl/rand.h>

#include "arena.h"
#include "connector.h"
#include "fetch.h"
#include "heard.h"
#include "log.h"
#include "mailer.h"
#include "poll_sched.h"
#include "poller.h"
#include "registry.h"
#include "replies.h"
#include "settings_json.h"
#include "sources.h"
#include "store.h"
#include "xmalloc.h"

/* Replies settled per query when a stopped daemon left many posting. */
#define REPLIER_BATCH	64

#define REPLIER_STOPPED	"the daemon stopped while posting; check the " \
			"channel before retrying"

/* One reply being posted. */
struct replier_job {
	LIST_ENTRY(replier_job)	 entry;
	struct replier		*r;	/* borrowed */
	struct reply_row	 row;	/* owned */
	const struct connector	*conn;	/* borrowed from the registry */
	char			 name[192];	/* how logs name it */
};

struct replier {
	struct heard		*h;	/* borrowed */
	LIST_HEAD(, replier_job) jobs;	/* owned: posts in flight */
	int			 busy;
	ev_timer		 tick;	/* every REPLIER_TICK */
	ev_timer		 soon;	/* a wake-up, on the loop */
	int			 running;
};

/* "reply 5 on H-7KQ2ZP (source 3, RJ1 care-connect)". */
static void
replier_name(struct replier_job *job)
{
	const struct reply_row *w = &job->row;

	snprintf(job->name, sizeof(job->name), "reply %lld on %s (source "
	    "%lld, %s %s)", (long long)w->id, w->thread.reference,
	    (long long)w->thread.source_id, w->thread.org_code,
	    w->thread.connector);
}

static void
replier_job_free(struct replier_job *job)
{
	reply_row_free(&job->row);
	free(job);
}

/* The source's settings -> the connector's conf in the arena. */
static const void *
replier_conf(struct replier_job *job, struct arena *a, struct conn_error *e)
{
	struct conn_settings set;
	const void *conf;

	if (settings_from_json(a, job->row.thread.settings, &set, e) == -1)
		return NULL;
	if ((conf = job->conn->configure(a, &set, e)) == NULL &&
	    e->code == CONN_OK)
		conn_fail(e, CONN_ERR_CONFIG, "%s", "settings refused");
	return conf;
}

/* Whether the thread's channel can take a reply from heard at all. */
static int
replier_check(struct replier_job *job, struct conn_error *e)
{
	const struct reply_thread *t = &job->row.thread;

	if ((job->conn = registry_find(t->connector)) == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "no connector '%s'",
		    t->connector);
	if (job->conn->reply_mode != CONN_REPLY_API ||
	    job->conn->reply == NULL || job->conn->reply_parse == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "%s cannot post replies",
		    t->connector);
	if (t->source_id == 0 || t->settings == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "no %s source for %s to "
		    "reply through", t->connector, t->org_code);
	return 0;
}

/* 32 random hex digits; -1 if OpenSSL has no randomness to give. */
static int
replier_nonce(char out[33])
{
	unsigned char raw[16];
	size_t i;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	for (i = 0; i < sizeof(raw); i++)
		snprintf(out + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* The request that posts the reply, in the arena. */
static int
replier_request(struct replier_job *job, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct reply_row *w = &job->row;
	struct conn_reply cr = {
		.thread_key = w->thread.thread_key,
		.in_reply_to = w->in_reply_to,
		.body = w->body,
		.idempotency_key = w->idempotency_key,
		.org_code = w->thread.org_code,
		.author_name = w->author,
		.created_at = w->created_at,
		.in_reply_to_author = w->in_reply_to_author,
		.in_reply_to_meta = w->in_reply_to_meta,
		.now = (int64_t)time(NULL),
	};
	const void *conf;
	char nonce[33];

	if (replier_check(job, e) == -1 ||
	    (conf = replier_conf(job, a, e)) == NULL)
		return -1;
	if (replier_nonce(nonce) == -1)
		return conn_fail(e, CONN_ERR_TRANSIENT, "no random bytes");
	cr.nonce = nonce;
	memset(req, 0, sizeof(*req));
	if (job->conn->reply(conf, &cr, a, req, e) == -1) {
		if (e->code == CONN_OK)
			conn_fail(e, CONN_ERR_CONFIG, "%s", "the connector "
			    "made no request");
		return -1;
	}
	if (req->url == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "the connector made a "
		    "request with no URL");
	if (job->conn->min_gap_ms > req->min_gap_ms)
		req->min_gap_ms = job->conn->min_gap_ms;
	return 0;
}

/* A terminal outcome, recorded and logged once. */
static void
replier_end(struct replier_job *job, enum reply_state st, const char *why)
{
	struct store *s = job->r->h->store;

	if (replies_end(s, job->row.id, st, why, time(NULL)) == -1) {
		log_warnx("%s: %s: %s; cannot record it: %s", job->name,
		    reply_state_name(st), why, store_errmsg(s));
		return;
	}
	job->r->h->metrics.replies_failed++;
	log_warnx("%s: %s: %s", job->name, reply_state_name(st), why);
}

static void
replier_end_error(struct replier_job *job, enum reply_state st,
    const struct conn_error *e)
{
	char why[sizeof(e->msg) + 32];

	snprintf(why, sizeof(why), "%s: %s", conn_err_name(e->code), e->msg);
	replier_end(job, st, why);
}

/* When to try again after attempts posts, by the poll back-off. */
static int64_t
replier_next(struct replier_job *job, const struct conn_error *e,
    int64_t now)
{
	struct sched_policy pol;
	struct sched_state st = { .err = e->code };

	sched_policy_init(&pol, &job->r->h->cfg);
	st.failures = job->row.attempts;
	st.retry_after = e->retry_after;
	/* No jitter: a few replies need no spreading out. */
	return sched_next(&pol, &st, now, 0);
}

/* Not taken this time, for a reason that may pass: later, or give up. */
static void
replier_retry(struct replier_job *job, const struct conn_error *e)
{
	struct store *s = job->r->h->store;
	int64_t now = time(NULL), next;
	char why[sizeof(e->msg) + 64];

	snprintf(why, sizeof(why), "%s: %s", conn_err_name(e->code), e->msg);
	if (job->row.attempts >= REPLIER_MAX_ATTEMPTS) {
		snprintf(why, sizeof(why), "gave up after %d attempts: %s: %s",
		    job->row.attempts, conn_err_name(e->code), e->msg);
		replier_end(job, REPLY_FAILED, why);
		return;
	}
	next = replier_next(job, e, now);
	if (replies_requeue(s, job->row.id, why, next, now) == -1) {
		log_warnx("%s: %s; cannot queue it again: %s", job->name, why,
		    store_errmsg(s));
		return;
	}
	log_warnx("%s: %s; attempt %d of %d, next in %llds", job->name, why,
	    job->row.attempts, REPLIER_MAX_ATTEMPTS,
	    (long long)(next - now));
}

static void
replier_posted(struct replier_job *job, const char *external_id)
{
	struct store *s = job->r->h->store;

	if (replies_posted(s, &job->row, external_id,
	    job->row.thread.source_id, time(NULL)) == -1) {
		/* Left 'posting': the next start marks it unknown. */
		log_warnx("%s: posted as %s, but cannot record it: %s",
		    job->name, external_id != NULL ? external_id : "(no id)",
		    store_errmsg(s));
		return;
	}
	job->r->h->metrics.replies_posted++;
	log_info("%s: posted as %s", job->name, external_id != NULL ?
	    external_id : "(the channel gave no id)");
}

/*
 * The channel refused the source's key: the reply fails (a person
 * retries it once the key is fixed) and the source is paused with the
 * admins told, as a poll refused so would, so that the next poll does
 * not have to meet the same refusal first.
 */
static void
replier_auth_failed(struct replier_job *job, const struct conn_error *e)
{
	struct heard *h = job->r->h;
	int64_t src = job->row.thread.source_id;
	char why[sizeof(e->msg) + 200], err[256] = "", *subject, *text;
	struct source row;
	int paused;

	snprintf(why, sizeof(why), "auth: %s; the source is paused: fix its "
	    "settings, then retry this reply (heard reply --retry %lld)",
	    e->msg, (long long)job->row.id);
	replier_end(job, REPLY_FAILED, why);
	/* Paused already (a poll, or an earlier reply): told once. */
	if (sources_get(h->store, src, &row) != 1)
		return;
	paused = row.paused;
	source_free(&row);
	if (paused)
		return;
	if (sources_update(h->store, src, NULL, 1, time(NULL), err,
	    sizeof(err)) != 1) {
		log_warnx("%s: cannot pause source %lld: %s", job->name,
		    (long long)src, err);
		return;
	}
	if (h->poller != NULL)
		poller_reload(h->poller);
	subject = xasprintf("[heard] source %lld (%s %s) is paused",
	    (long long)src, job->row.thread.org_code,
	    job->row.thread.connector);
	text = xasprintf("%s refused heard's key when posting %s:\n\n  %s"
	    "\n\nNothing more is fetched from it until its settings are "
	    "fixed; replies through it fail the same way meanwhile (heard "
	    "reply --retry sends them again).\n", job->row.thread.connector,
	    job->name, e->msg);
	mailer_alert(h->mailer, subject, text);
	free(subject);
	free(text);
}

/*
 * The channel answered and the connector read its answer as a failure.
 * An answer it could not read at all may hide a reply that was taken.
 */
static void
replier_refused(struct replier_job *job, const struct conn_error *e)
{
	char why[sizeof(e->msg) + 128];

	switch (e->code) {
	case CONN_ERR_TRANSIENT:
	case CONN_ERR_RATE_LIMITED:
		replier_retry(job, e);
		break;
	case CONN_ERR_MALFORMED:
		snprintf(why, sizeof(why), "the channel's answer cannot be "
		    "read (%s); it may have taken the reply: check the "
		    "channel before retrying", e->msg);
		replier_end(job, REPLY_UNKNOWN, why);
		break;
	case CONN_ERR_AUTH:
		replier_auth_failed(job, e);
		break;
	default:
		replier_end_error(job, REPLY_FAILED, e);
		break;
	}
}

/* Retry-After from the answer, when the connector left it unset. */
static void
replier_retry_hint(struct conn_error *e, const struct conn_response *resp)
{
	int64_t n;

	if (e->retry_after > 0)
		return;
	n = sched_retry_after(conn_response_header(resp, "Retry-After"),
	    time(NULL));
	if (n > 0)
		e->retry_after = n > LONG_MAX ? LONG_MAX : (long)n;
}

static void
replier_response(struct replier_job *job, const struct conn_response *resp)
{
	const char *external_id = NULL;
	struct conn_error e;
	struct arena a;
	const void *conf;

	memset(&e, 0, sizeof(e));
	arena_init(&a);
	/* configure again: pure and cheap, and nothing held meanwhile. */
	if ((conf = replier_conf(job, &a, &e)) == NULL)
		replier_end(job, REPLY_UNKNOWN, "sent, but the source's "
		    "settings no longer load to read the answer; check the "
		    "channel before retrying");
	else if (job->conn->reply_parse(conf, resp, &a, &external_id,
	    &e) == 0)
		replier_posted(job, external_id);
	else {
		if (e.code == CONN_OK)
			conn_fail(&e, CONN_ERR_MALFORMED, "HTTP %ld",
			    resp->status);
		replier_retry_hint(&e, resp);
		replier_refused(job, &e);
	}
	arena_free(&a);
}

/* No answer: sent again only if it cannot have arrived, or may. */
static void
replier_transport(struct replier_job *job, const struct conn_error *e)
{
	struct conn_error t = *e;
	char why[sizeof(e->msg) + 128];

	/* The fetcher knows whether the request ever left. */
	if (e->unsent || job->conn->idempotent_replies) {
		t.code = CONN_ERR_TRANSIENT;
		replier_retry(job, &t);
		return;
	}
	snprintf(why, sizeof(why), "no answer after the reply was sent "
	    "(%s: %s); it may be on the channel: check before retrying",
	    conn_err_name(e->code), e->msg);
	replier_end(job, REPLY_UNKNOWN, why);
}

static void
replier_fetched(void *arg, const struct conn_response *resp,
    const struct conn_error *e)
{
	struct replier_job *job = arg;
	struct replier *r = job->r;

	LIST_REMOVE(job, entry);
	r->busy--;
	if (e != NULL)
		replier_transport(job, e);
	else
		replier_response(job, resp);
	replier_job_free(job);
	/* The thread's next reply may be waiting on this one. */
	replier_wake(r);
}

/*
 * Sends one queued reply: 'posting' is committed before the request
 * goes out, so a stop at any point can never lead to a blind resend.
 * -1 if it is not in flight (its outcome is recorded already).
 */
static int
replier_send(struct replier_job *job)
{
	struct heard *h = job->r->h;
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	int rc = -1;

	memset(&e, 0, sizeof(e));
	arena_init(&a);
	if (replier_request(job, &a, &req, &e) == -1)
		replier_end_error(job, REPLY_FAILED, &e);
	else if (replies_begin(h->store, job->row.id, time(NULL)) == -1)
		log_warnx("%s: not sent: no longer queued, or the store "
		    "failed (%s)", job->name, store_errmsg(h->store));
	else {
		job->row.attempts++;
		if ((rc = fetch_start(h->fetch, &req, replier_fetched,
		    job)) == -1)
			replier_end(job, REPLY_FAILED, "the request has no "
			    "URL");
	}
	arena_free(&a);
	return rc;
}

static void
replier_begin(struct replier *r, int64_t id)
{
	struct replier_job *job = xcalloc(1, sizeof(*job));

	job->r = r;
	if (replies_get(r->h->store, id, &job->row) != 1) {
		log_warnx("reply %lld: cannot read it: %s", (long long)id,
		    store_errmsg(r->h->store));
		replier_job_free(job);
		return;
	}
	replier_name(job);
	if (replier_send(job) == -1) {
		replier_job_free(job);
		return;
	}
	LIST_INSERT_HEAD(&r->jobs, job, entry);
	r->busy++;
}

/* Starts the due replies, as many as there is room for. */
static void
replier_scan(struct replier *r)
{
	int64_t ids[REPLIER_MAX_BUSY];
	size_t n, i;

	if (!r->running || r->busy >= REPLIER_MAX_BUSY)
		return;
	if (replies_list(r->h->store, REPLY_QUEUED, time(NULL), ids,
	    (size_t)(REPLIER_MAX_BUSY - r->busy), &n) == -1) {
		log_warnx("replies: cannot read the outbox: %s",
		    store_errmsg(r->h->store));
		return;
	}
	for (i = 0; i < n; i++)
		replier_begin(r, ids[i]);
}

static void
replier_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	replier_scan(w->data);
}

/* One reply a stopped daemon left posting: sent again, or unknown. */
static int
replier_settle(struct replier *r, int64_t id)
{
	struct replier_job job;
	int64_t now = time(NULL);
	int rc;

	memset(&job, 0, sizeof(job));
	job.r = r;
	if (replies_get(r->h->store, id, &job.row) != 1)
		return -1;
	replier_name(&job);
	job.conn = registry_find(job.row.thread.connector);
	if (job.conn != NULL && job.conn->idempotent_replies) {
		if ((rc = replies_requeue(r->h->store, id, "the daemon "
		    "stopped while posting; sent again (the channel drops "
		    "repeats)", now, now)) == 0)
			log_info("%s: the daemon stopped while posting it; "
			    "sending it again", job.name);
	} else if ((rc = replies_end(r->h->store, id, REPLY_UNKNOWN,
	    REPLIER_STOPPED, now)) == 0)
		log_warnx("%s: unknown: %s (heard reply --retry %lld)",
		    job.name, REPLIER_STOPPED, (long long)id);
	reply_row_free(&job.row);
	return rc;
}

/* Every reply left posting; each settled moves out of 'posting'. */
static int
replier_recover(struct replier *r)
{
	int64_t ids[REPLIER_BATCH];
	size_t n, i;

	do {
		if (replies_list(r->h->store, REPLY_POSTING, 0, ids,
		    REPLIER_BATCH, &n) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (replier_settle(r, ids[i]) == -1)
				return -1;
	} while (n == REPLIER_BATCH);
	return 0;
}

struct replier *
replier_new(struct heard *h)
{
	struct replier *r = xcalloc(1, sizeof(*r));

	r->h = h;
	LIST_INIT(&r->jobs);
	ev_timer_init(&r->tick, replier_timer_cb, REPLIER_TICK, REPLIER_TICK);
	ev_timer_init(&r->soon, replier_timer_cb, 0.0, 0.0);
	r->tick.data = r->soon.data = r;
	return r;
}

void
replier_free(struct replier *r)
{
	struct replier_job *job;

	if (r == NULL)
		return;
	replier_stop(r);
	while ((job = LIST_FIRST(&r->jobs)) != NULL) {
		fetch_cancel(r->h->fetch, job);
		LIST_REMOVE(job, entry);
		replier_job_free(job);
	}
	free(r);
}

int
replier_start(struct replier *r)
{
	if (r->running)
		return 0;
	if (replier_recover(r) == -1) {
		log_warnx("replies: cannot settle those left posting: %s",
		    store_errmsg(r->h->store));
		return -1;
	}
	r->running = 1;
	ev_timer_start(r->h->loop, &r->tick);
	replier_wake(r);
	return 0;
}

void
replier_wake(struct replier *r)
{
	if (r->running && !ev_is_active(&r->soon))
		ev_timer_start(r->h->loop, &r->soon);
}

void
replier_stop(struct replier *r)
{
	r->running = 0;
	ev_timer_stop(r->h->loop, &r->tick);
	ev_timer_stop(r->h->loop, &r->soon);
}

int
replier_busy(const struct replier *r)
{
	return r->busy;
}
