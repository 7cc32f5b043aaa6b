/* poller: due sources -> connector request -> fetch -> parse -> ingest. */
#include "poller.h"

#include <sys/queue.h>
#include <sys/random.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ev.h>

#include "arena.h"
#include "connector.h"
#include "fetch.h"
#include "heard.h"
#include "ingest.h"
#include "log.h"
#include "mailer.h"
#include "registry.h"
#include "poll_sched.h"
#include "settings_json.h"
#include "sources.h"
#include "store.h"
#include "xmalloc.h"

/* Pages followed in one poll; the rest waits for the next (cursor). */
#define POLLER_MAX_PAGES	100

struct poller_job;

/* One source as the poller sees it. */
struct poller_src {
	TAILQ_ENTRY(poller_src)	 entry;
	struct source		 src;	/* owned copy of the row */
	struct poller_job	*job;	/* owned while a poll runs */
	int			 stale;	/* re-read the row when it ends */
	int			 caught_up;	/* its first poll is known done */
	poller_done_fn		 done;	/* poller_poll_now's, or NULL */
	void			*done_arg;	/* borrowed */
};

/* One poll of one source, every page; between pages it owns no arena. */
struct poller_job {
	struct poller		*p;	/* borrowed */
	struct poller_src	*ps;	/* borrowed: ps->job is this */
	const struct connector	*conn;	/* borrowed from the registry */
	ev_timer		 defer;	/* ends a poll that failed early */
	struct conn_error	 early;	/* why it did */
	int			 pages;	/* ingested */
	int			 not_modified;
	long			 interval;	/* the source's own, or 0 */
	int64_t			 min_interval;	/* the server's longest hint */
	struct ingest_stats	 st;	/* summed over pages */
};

struct poller {
	struct heard		*h;	/* borrowed */
	TAILQ_HEAD(poller_srcs, poller_src) srcs;	/* owned, by id */
	size_t			 nsrcs;
	ev_periodic		 tick;	/* at the earliest due source */
	int			 running;	/* started, not stopped */
	int			 stopping;
	int			 busy;	/* jobs */
};

static void	poller_fetched(void *, const struct conn_response *,
		    const struct conn_error *);

/* For jitter only: a failure costs nothing but spread. */
static uint32_t
poller_random(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r = (uint32_t)time(NULL);
	return r;
}

/* "source 3 (RJ1 rss)": how every log line names its source. */
static const char *
poller_name(const struct source *s, char *buf, size_t len)
{
	snprintf(buf, len, "source %lld (%s %s)", (long long)s->id,
	    s->org_code != NULL ? s->org_code : "?",
	    s->connector != NULL ? s->connector : "?");
	return buf;
}

/* Settings -> conf in the arena; also notes the source's interval. */
static const void *
poller_conf(struct poller_job *job, struct arena *a, struct conn_error *e)
{
	struct conn_settings set;

	if (settings_from_json(a, job->ps->src.settings, &set, e) == -1)
		return NULL;
	job->interval = registry_interval(&set);
	return job->conn->configure(a, &set, e);
}

/* A connector that failed without saying how still gets a kind. */
static int
poller_failed(struct conn_error *e, enum conn_err code)
{
	if (e->code == CONN_OK)
		conn_fail(e, code, "%s", "failed without a reason");
	return -1;
}

static int
poller_first_request(struct poller_job *job, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct source *s = &job->ps->src;
	const void *conf;

	if ((job->conn = registry_find(s->connector)) == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "no connector '%s'",
		    s->connector);
	if ((conf = poller_conf(job, a, e)) == NULL)
		return poller_failed(e, CONN_ERR_CONFIG);
	if (job->conn->poll(conf, s->cursor, a, req, e) == -1)
		return poller_failed(e, CONN_ERR_CONFIG);
	return 0;
}

static void
poller_log(const struct poller_job *job, const struct conn_error *e,
    const char *why, int64_t next, int64_t now)
{
	char name[128];

	poller_name(&job->ps->src, name, sizeof(name));
	if (e == NULL && job->not_modified)
		log_info("%s: not modified", name);
	else if (e == NULL && job->pages > 1)
		log_info("%s: %zu new, %zu updated in %d pages", name,
		    job->st.new_items, job->st.updated_items, job->pages);
	else if (e == NULL)
		log_info("%s: %zu new, %zu updated", name,
		    job->st.new_items, job->st.updated_items);
	else if (next == SCHED_NEVER)
		log_warnx("%s: %s; paused until it is fixed and polled "
		    "(heard poll %lld)", name, why,
		    (long long)job->ps->src.id);
	else
		log_warnx("%s: %s, retry in %llds", name, why,
		    (long long)(next - now));
}

/* When the source is next due after this poll, and its failures. */
static int64_t
poller_next(const struct poller_job *job, const struct conn_error *e,
    int64_t now, int *failures)
{
	const struct source *s = &job->ps->src;
	struct sched_policy pol;
	struct sched_state st = { .err = CONN_OK };

	sched_policy_init(&pol, &job->p->h->cfg);
	if (job->interval > 0)
		pol.interval = job->interval;
	st.min_interval = job->min_interval;
	if (e != NULL) {
		st.err = e->code;
		/* A page stored this poll breaks the run of failures. */
		if (job->pages > 0)
			st.failures = 1;
		else
			st.failures = s->failures < INT_MAX ?
			    s->failures + 1 : INT_MAX;
		st.retry_after = e->retry_after;
	}
	*failures = st.failures;
	return sched_next(&pol, &st, now, poller_random());
}

/* A source newly paused needs an admin: they hear of it once. */
static void
poller_alert(struct poller_job *job, const char *why)
{
	const struct source *s = &job->ps->src;
	char name[128], *subject, *text;

	poller_name(s, name, sizeof(name));
	subject = xasprintf("[heard] %s is paused", name);
	text = xasprintf("heard stopped polling %s:\n\n  %s\n\nNothing "
	    "more is fetched from it until its settings are fixed (heard "
	    "sources) or it is polled by hand and succeeds (heard poll "
	    "%lld).\n", name, why, (long long)s->id);
	mailer_alert(job->p->h->mailer, subject, text);
	free(subject);
	free(text);
}

/* The scheduler's verdict, written to the source's row and kept. */
static void
poller_record(struct poller_job *job, const struct conn_error *e,
    const char *why)
{
	struct store *store = job->p->h->store;
	struct source *s = &job->ps->src;
	struct source_health hl = { .ok = e == NULL };
	int64_t now = time(NULL), next;
	char name[128];

	next = poller_next(job, e, now, &hl.failures);
	if (next == SCHED_NEVER && !s->paused)
		poller_alert(job, why);
	hl.error_code = e != NULL ? e->code : CONN_OK;
	hl.error = e != NULL ? why : NULL;
	hl.paused = next == SCHED_NEVER;
	hl.was_paused = s->paused;
	hl.next_poll = hl.paused ? 0 : next;
	if (sources_health(store, s->id, now, &hl) == -1)
		log_warnx("%s: cannot record its health: %s",
		    poller_name(s, name, sizeof(name)), store_errmsg(store));
	s->failures = hl.failures;
	s->paused = hl.paused;
	s->next_poll = hl.next_poll;
	poller_log(job, e, why, next, now);
}

static void
poller_src_free(struct poller *p, struct poller_src *ps)
{
	TAILQ_REMOVE(&p->srcs, ps, entry);
	p->nsrcs--;
	source_free(&ps->src);
	free(ps);
}

/* Takes the row back from the store after a reload during its poll. */
static struct poller_src *
poller_refresh(struct poller *p, struct poller_src *ps)
{
	struct source fresh;
	int rc;

	ps->stale = 0;
	if ((rc = sources_get(p->h->store, ps->src.id, &fresh)) == 0) {
		poller_src_free(p, ps);
		return NULL;
	}
	if (rc == 1) {
		source_free(&ps->src);
		ps->src = fresh;
	}
	return ps;
}

/* Earliest due among idle, unpaused sources; the periodic wakes then. */
static void
poller_arm(struct poller *p)
{
	struct poller_src *ps;
	int64_t due = SCHED_NEVER;

	ev_periodic_stop(p->h->loop, &p->tick);
	if (!p->running)
		return;
	TAILQ_FOREACH(ps, &p->srcs, entry)
		if (ps->job == NULL && !ps->src.paused &&
		    ps->src.next_poll < due)
			due = ps->src.next_poll;
	if (due == SCHED_NEVER)
		return;
	/* Wall-clock time: ev_periodic follows clock changes, ev_timer not. */
	ev_periodic_set(&p->tick, (ev_tstamp)due, 0.0, NULL);
	ev_periodic_start(p->h->loop, &p->tick);
}

/*
 * After one source's poll: only its own next poll can be earlier than
 * the armed one, so a full scan is needed only when nothing is armed.
 * This keeps a cycle over n sources linear, not n squared.
 */
static void
poller_rearm(struct poller *p, const struct poller_src *ps)
{
	if (!p->running)
		return;
	if (!ev_is_active(&p->tick)) {
		poller_arm(p);
		return;
	}
	if (ps->src.paused || ps->stale ||
	    (ev_tstamp)ps->src.next_poll >= ev_periodic_at(&p->tick))
		return;
	ev_periodic_stop(p->h->loop, &p->tick);
	ev_periodic_set(&p->tick, (ev_tstamp)ps->src.next_poll, 0.0, NULL);
	ev_periodic_start(p->h->loop, &p->tick);
}

/* Detaches and frees the job; then tells whoever waited, and re-arms. */
static void
poller_end(struct poller_job *job, const struct conn_error *e)
{
	struct poller *p = job->p;
	struct poller_src *ps = job->ps;
	poller_done_fn done = ps->done;
	void *arg = ps->done_arg;
	int64_t id = ps->src.id;
	char why[sizeof(e->msg) + 32];

	why[0] = '\0';
	if (e != NULL)
		snprintf(why, sizeof(why), "%s: %s", conn_err_name(e->code),
		    e->msg);
	poller_record(job, e, why);
	if (e == NULL)
		p->h->metrics.polls_ok++;
	else
		p->h->metrics.polls_error++;
	ev_timer_stop(p->h->loop, &job->defer);
	ps->job = NULL;
	ps->done = NULL;
	ps->done_arg = NULL;
	p->busy--;
	free(job);
	if (ps->stale)
		ps = poller_refresh(p, ps);	/* NULL: deleted meanwhile */
	if (done != NULL)
		done(arg, id, e == NULL, e != NULL ? why : NULL);
	if (ps != NULL)
		poller_rearm(p, ps);
}

static void
poller_defer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct poller_job *job = w->data;

	(void)loop;
	(void)revents;
	poller_end(job, &job->early);
}

/* A request on the fetcher, paced as its connector asks. */
static int
poller_fetch(struct poller_job *job, const struct conn_request *req)
{
	struct conn_request r = *req;

	if (job->conn->min_gap_ms > r.min_gap_ms)
		r.min_gap_ms = job->conn->min_gap_ms;
	return fetch_start(job->p->h->fetch, &r, poller_fetched, job);
}

/* Starts a poll: the connector's first request, on the fetcher. */
static void
poller_begin(struct poller *p, struct poller_src *ps)
{
	struct poller_job *job = xcalloc(1, sizeof(*job));
	struct conn_request req;
	struct arena a;

	job->p = p;
	job->ps = ps;
	ps->job = job;
	p->busy++;
	ev_timer_init(&job->defer, poller_defer_cb, 0.0, 0.0);
	job->defer.data = job;
	memset(&req, 0, sizeof(req));
	arena_init(&a);
	/* Even an early failure ends on the loop, never in the caller. */
	if (poller_first_request(job, &a, &req, &job->early) == -1 ||
	    poller_fetch(job, &req) == -1) {
		if (job->early.code == CONN_OK)
			conn_fail(&job->early, CONN_ERR_CONFIG,
			    "the connector made a request with no URL");
		ev_timer_start(p->h->loop, &job->defer);
	}
	arena_free(&a);
}

/* Retry-After from the response, when the connector left it unset. */
static void
poller_retry_hint(struct conn_error *e, const struct conn_response *r)
{
	int64_t n;

	if (e->retry_after > 0 || (e->code != CONN_ERR_RATE_LIMITED &&
	    e->code != CONN_ERR_TRANSIENT))
		return;
	n = sched_retry_after(conn_response_header(r, "Retry-After"),
	    time(NULL));
	if (n > 0)
		e->retry_after = n > LONG_MAX ? LONG_MAX : (long)n;
}

/* The longest wait any page asked for: RSS ttl, else max-age. */
static void
poller_interval_hint(struct poller_job *job, const struct conn_response *r,
    const struct conn_batch *b)
{
	int64_t n = b->min_interval;

	if (n <= 0)
		n = sched_max_age(conn_response_header(r, "Cache-Control"));
	if (n > job->min_interval)
		job->min_interval = n;
}

/* One transaction: the page's items and its cursor, or nothing. */
static int
poller_ingest(struct poller_job *job, const struct conn_batch *b,
    struct conn_error *e)
{
	struct source *s = &job->ps->src;
	struct ingest_stats st;
	char err[256];

	if (ingest_batch(job->p->h->store, s, b, time(NULL), &st, err,
	    sizeof(err)) == -1)
		return conn_fail(e, CONN_ERR_TRANSIENT, "store: %s", err);
	job->p->h->metrics.items_stored += st.new_items + st.updated_items;
	job->st.new_items += st.new_items;
	job->st.updated_items += st.updated_items;
	job->st.unchanged_items += st.unchanged_items;
	job->st.new_threads += st.new_threads;
	job->st.skipped += st.skipped;
	job->pages++;
	if (b->cursor != NULL) {
		free(s->cursor);
		s->cursor = xstrdup(b->cursor);
	}
	return 0;
}

/* Follows a next page, unless this poll has followed enough. */
static void
poller_next_page(struct poller_job *job, const struct conn_request *next)
{
	struct conn_error e;
	char name[128];

	memset(&e, 0, sizeof(e));
	if (job->pages >= POLLER_MAX_PAGES) {
		log_warnx("%s: stopped after %d pages; the rest next poll",
		    poller_name(&job->ps->src, name, sizeof(name)),
		    job->pages);
		poller_end(job, NULL);
	} else if (poller_fetch(job, next) == -1) {
		conn_fail(&e, CONN_ERR_MALFORMED, "next page has no URL");
		poller_end(job, &e);
	}
}

/*
 * The poll reached the end of what the source has: its first poll's
 * history is all in, and from now on a new item is news to mail.
 */
static void
poller_caught_up(struct poller_job *job)
{
	struct store *store = job->p->h->store;
	char name[128];

	mailer_wake(job->p->h->mailer);
	/* Once known, never written again: a warm 304 cycle stays cheap. */
	if (job->ps->caught_up)
		return;
	if (ingest_backfill_done(store, job->ps->src.id, time(NULL)) == -1)
		log_warnx("%s: cannot record the end of its first poll: %s",
		    poller_name(&job->ps->src, name, sizeof(name)),
		    store_errmsg(store));
	else
		job->ps->caught_up = 1;
}

/* A parsed page: store it, then follow the next one if there is one. */
static void
poller_batch(struct poller_job *job, const struct conn_response *r,
    const struct conn_batch *b)
{
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	poller_interval_hint(job, r, b);
	if (b->not_modified) {
		job->not_modified = 1;
		poller_caught_up(job);
		poller_end(job, NULL);
		return;
	}
	if (poller_ingest(job, b, &e) == -1) {
		poller_end(job, &e);
		return;
	}
	if (b->next == NULL)
		poller_caught_up(job);
	/* Stopping: this page is stored, the rest waits for next time. */
	if (b->next == NULL || job->p->stopping)
		poller_end(job, NULL);
	else
		poller_next_page(job, b->next);
}

static void
poller_page(struct poller_job *job, const struct conn_response *r)
{
	struct conn_batch b;
	struct conn_error e;
	struct arena a;
	const void *conf;

	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	arena_init(&a);
	/* configure again: it is pure and cheap, and queued polls then
	 * hold no arena while they wait for a transfer slot. */
	if ((conf = poller_conf(job, &a, &e)) == NULL) {
		poller_failed(&e, CONN_ERR_CONFIG);
		poller_end(job, &e);
	} else if (job->conn->parse(conf, job->ps->src.cursor, r, &a, &b,
	    &e) == -1) {
		poller_failed(&e, CONN_ERR_MALFORMED);
		poller_retry_hint(&e, r);
		poller_end(job, &e);
	} else
		poller_batch(job, r, &b);
	arena_free(&a);
}

static void
poller_fetched(void *arg, const struct conn_response *r,
    const struct conn_error *e)
{
	struct poller_job *job = arg;

	if (e != NULL)
		poller_end(job, e);
	else
		poller_page(job, r);
}

/* Starts every idle, unpaused source that is due. */
static void
poller_tick(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct poller *p = w->data;
	struct poller_src *ps;
	int64_t now = time(NULL);

	(void)loop;
	(void)revents;
	TAILQ_FOREACH(ps, &p->srcs, entry)
		if (p->running && ps->job == NULL && !ps->src.paused &&
		    ps->src.next_poll <= now)
			poller_begin(p, ps);
	poller_arm(p);
}

/* Takes over row (zeroing it) as a new source placed before next. */
static struct poller_src *
poller_add(struct poller *p, struct source *row, struct poller_src *next)
{
	struct poller_src *ps = xcalloc(1, sizeof(*ps));

	ps->src = *row;
	memset(row, 0, sizeof(*row));
	if (next != NULL)
		TAILQ_INSERT_BEFORE(next, ps, entry);
	else
		TAILQ_INSERT_TAIL(&p->srcs, ps, entry);
	p->nsrcs++;
	return ps;
}

/* A re-read row replaces ours, unless a poll is using ours. */
static void
poller_update(struct poller_src *ps, struct source *row, int64_t now)
{
	if (ps->job != NULL) {
		ps->stale = 1;
		return;
	}
	/* New settings lift a pause: they may be the admin's fix. */
	if (row->paused && ps->src.paused && ps->src.settings != NULL &&
	    row->settings != NULL &&
	    strcmp(ps->src.settings, row->settings) != 0) {
		row->paused = 0;
		row->next_poll = now;
	}
	source_free(&ps->src);
	ps->src = *row;
	memset(row, 0, sizeof(*row));
}

/* Gone from the store: dropped now, or when its poll ends. */
static struct poller_src *
poller_forget(struct poller *p, struct poller_src *ps)
{
	struct poller_src *next = TAILQ_NEXT(ps, entry);

	if (ps->job != NULL)
		ps->stale = 1;
	else
		poller_src_free(p, ps);
	return next;
}

/* Merges the store's rows (by id) into ours (by id): one pass. */
static int
poller_sync(struct poller *p)
{
	struct poller_src *ps;
	struct source *all;
	size_t n, i = 0;
	int64_t now = time(NULL);

	if (sources_all(p->h->store, &all, &n) == -1) {
		log_warnx("cannot read sources: %s",
		    store_errmsg(p->h->store));
		return -1;
	}
	ps = TAILQ_FIRST(&p->srcs);
	while (ps != NULL || i < n) {
		if (ps == NULL || (i < n && all[i].id < ps->src.id))
			poller_add(p, &all[i++], ps);
		else if (i == n || ps->src.id < all[i].id)
			ps = poller_forget(p, ps);
		else {
			poller_update(ps, &all[i++], now);
			ps = TAILQ_NEXT(ps, entry);
		}
	}
	sources_free_all(all, n);
	return 0;
}

static struct poller_src *
poller_find(struct poller *p, int64_t id)
{
	struct poller_src *ps;

	TAILQ_FOREACH(ps, &p->srcs, entry)
		if (ps->src.id == id)
			return ps;
	return NULL;
}

/* A source not loaded yet (`heard poll` never starts the poller). */
static struct poller_src *
poller_load(struct poller *p, int64_t id)
{
	struct poller_src *ps = TAILQ_LAST(&p->srcs, poller_srcs);
	struct source row;

	if (sources_get(p->h->store, id, &row) != 1)
		return NULL;
	/* Ids mostly come in order: look from the end. */
	while (ps != NULL && ps->src.id > id)
		ps = TAILQ_PREV(ps, poller_srcs, entry);
	return poller_add(p, &row, ps != NULL ? TAILQ_NEXT(ps, entry) :
	    TAILQ_FIRST(&p->srcs));
}

struct poller *
poller_new(struct heard *h)
{
	struct poller *p = xcalloc(1, sizeof(*p));

	p->h = h;
	TAILQ_INIT(&p->srcs);
	ev_periodic_init(&p->tick, poller_tick, 0.0, 0.0, NULL);
	p->tick.data = p;
	return p;
}

void
poller_free(struct poller *p)
{
	struct poller_src *ps;

	if (p == NULL)
		return;
	ev_periodic_stop(p->h->loop, &p->tick);
	while ((ps = TAILQ_FIRST(&p->srcs)) != NULL) {
		if (ps->job != NULL) {
			fetch_cancel(p->h->fetch, ps->job);
			ev_timer_stop(p->h->loop, &ps->job->defer);
			free(ps->job);
		}
		poller_src_free(p, ps);
	}
	free(p);
}

int
poller_start(struct poller *p)
{
	if (p->stopping)
		return -1;
	if (p->running)
		return 0;
	if (poller_sync(p) == -1)
		return -1;
	p->running = 1;
	poller_arm(p);
	return 0;
}

void
poller_reload(struct poller *p)
{
	if (poller_sync(p) == 0)
		poller_arm(p);
}

int
poller_poll_now(struct poller *p, int64_t id, poller_done_fn done,
    void *arg)
{
	struct poller_src *ps;

	if (p->stopping)
		return -1;
	if ((ps = poller_find(p, id)) == NULL &&
	    (ps = poller_load(p, id)) == NULL)
		return -1;
	if (ps->done != NULL)
		return -1;
	ps->done = done;
	ps->done_arg = arg;
	if (ps->job == NULL)
		poller_begin(p, ps);
	return 0;
}

int
poller_poll_all(struct poller *p, poller_done_fn done, void *arg)
{
	struct poller_src *ps;
	int n = 0;

	if (p->stopping || poller_sync(p) == -1)
		return -1;
	TAILQ_FOREACH(ps, &p->srcs, entry) {
		if (ps->src.paused || ps->done != NULL)
			continue;
		ps->done = done;
		ps->done_arg = arg;
		if (ps->job == NULL)
			poller_begin(p, ps);
		n++;
	}
	return n;
}

int
poller_busy(const struct poller *p)
{
	return p->busy;
}

void
poller_stop(struct poller *p)
{
	p->stopping = 1;
	p->running = 0;
	ev_periodic_stop(p->h->loop, &p->tick);
}

size_t
poller_sources(const struct poller *p)
{
	return p->nsrcs;
}
