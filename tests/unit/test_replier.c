/* test_replier: replies posted through fake channels, a real store, fetch. */
#include <sys/stat.h>

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>
#include <sqlite3.h>

#include "arena.h"
#include "cmd.h"
#include "config.h"
#include "connector.h"
#include "fetch.h"
#include "heard.h"
#include "ingest.h"
#include "log.h"
#include "orgs.h"
#include "registry.h"
#include "replier.h"
#include "replies.h"
#include "sources.h"
#include "store.h"
#include "tsrv.h"

/*
 * The fake channel. A reply is a POST to <url>/replies of
 * "thread=KEY&to=ID&key=IDEMPOTENCY&text=BODY"; the answer "id=X" names
 * the posted reply X. 400 is refused (with the body as the reason),
 * 401 auth, 429 rate limited, other non-2xx transient, a 2xx without
 * "id=" malformed. "fakeapi" posts; "fakeidem" also declares that the
 * channel drops a repeated key; "fakehand" and "fakehand2" are handoff
 * channels, with and without a link of their own; "fakenone" takes no
 * replies. Reached through registry_find, defined here, so the linker
 * leaves the real registry out (as test_poller does).
 */
struct fake_conf {
	const char	*url;
};

static const struct conn_setting fake_settings[] = {
	{ .key = "url", .required = 1 },
	{ .key = "key", .secret = 1 },
	{ .key = NULL },
};

static void *
fake_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	struct fake_conf *c;
	const char *url = conn_settings_get(set, "url");

	if (url == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "fake: no url");
		return NULL;
	}
	c = arena_alloc(a, sizeof(*c));
	c->url = arena_strdup(a, url);
	return c;
}

static int
fake_reply(const void *conf, const struct conn_reply *rp, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct fake_conf *c = conf;

	if (rp->thread_key == NULL || rp->idempotency_key == NULL ||
	    rp->created_at <= 0 || rp->org_code == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "fake: reply incomplete");
	req->method = "POST";
	req->url = arena_printf(a, "%s/replies", c->url);
	req->body = arena_printf(a, "thread=%s&to=%s&key=%s&org=%s&as=%s"
	    "&text=%s", rp->thread_key, rp->in_reply_to != NULL ?
	    rp->in_reply_to : "", rp->idempotency_key, rp->org_code,
	    rp->author_name != NULL ? rp->author_name : "", rp->body);
	req->body_len = strlen(req->body);
	return 0;
}

static int
fake_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a, const char **external_id, struct conn_error *e)
{
	const char *id;

	(void)conf;
	if (r->status == 400)
		return conn_fail(e, CONN_ERR_REFUSED, "HTTP 400: %s", r->body);
	if (r->status == 401)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP 401");
	if (r->status == 429)
		return conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 429");
	if (r->status < 200 || r->status > 299)
		return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld", r->status);
	if ((id = strstr(r->body, "id=")) == NULL)
		return conn_fail(e, CONN_ERR_MALFORMED, "no id");
	*external_id = arena_strdup(a, id + 3);
	return 0;
}

static const char *
fake_handoff_url(const void *conf, const char *thread_key, struct arena *a)
{
	(void)conf;
	return arena_printf(a, "https://provider.example/respond/%s",
	    thread_key);
}

#define FAKE(...) { .title = "Fake channel", .settings = fake_settings, \
	.configure = fake_configure, __VA_ARGS__ }

static const struct connector fake_connectors[] = {
	FAKE(.name = "fakeapi", .reply_mode = CONN_REPLY_API,
	    .reply = fake_reply, .reply_parse = fake_reply_parse),
	FAKE(.name = "fakeidem", .reply_mode = CONN_REPLY_API,
	    .reply = fake_reply, .reply_parse = fake_reply_parse,
	    .idempotent_replies = 1),
	FAKE(.name = "fakehand", .reply_mode = CONN_REPLY_HANDOFF,
	    .handoff_url = fake_handoff_url),
	FAKE(.name = "fakehand2", .reply_mode = CONN_REPLY_HANDOFF),
	FAKE(.name = "fakenone", .reply_mode = CONN_REPLY_NONE),
};

const struct connector *
registry_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(fake_connectors) / sizeof(fake_connectors[0]);
	    i++)
		if (strcmp(fake_connectors[i].name, name) == 0)
			return &fake_connectors[i];
	return NULL;
}

/* The poller (linked for the pause an auth refusal makes) asks this. */
long
registry_interval(const struct conn_settings *set)
{
	(void)set;
	return 0;
}

/* cmd_reply's one-line reasons, kept for the test to read. */
static char cmd_error[512];

int
cmd_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd_error, sizeof(cmd_error), fmt, ap);
	va_end(ap);
	return 1;
}

#define NSTATUS	8

/* The server answers POST /replies with the next status in its list. */
struct t {
	struct ev_loop	*loop;
	struct heard	 h;
	struct tsrv	 srv;
	char		 db[64];
	int		 status[NSTATUS];	/* 0 ends: the last repeats */
	const char	*body;		/* of a 2xx; NULL: "id=r-<hits>" */
	const char	*extra;		/* header lines */
	int		 hangup;	/* close without answering */
	double		 hold;
	int		 hits;
	char		 last[8192];	/* the last request */
	ev_timer	 guard;
	ev_timer	 check;
	int		(*until)(struct t *);
	int		 timed_out;
	int		 ticks;
	int64_t		 thread;
	int64_t		 source;
};

static void
respond(struct tsrv *s, struct tsrv_conn *c, const char *req)
{
	struct t *t = s->arg;
	int i = t->hits < NSTATUS ? t->hits : NSTATUS - 1, st;
	char body[256], *head;

	snprintf(t->last, sizeof(t->last), "%s", req);
	while (i > 0 && t->status[i] == 0)
		i--;
	st = t->status[i];
	t->hits++;
	if (t->hangup) {
		tsrv_close(c);
		return;
	}
	if (st >= 200 && st <= 299 && t->body == NULL)
		snprintf(body, sizeof(body), "id=r-%d", t->hits);
	else
		snprintf(body, sizeof(body), "%s", t->body != NULL ? t->body :
		    "no");
	assert_true(asprintf(&head, "HTTP/1.1 %d X\r\n%sContent-Length: %zu"
	    "\r\nConnection: close\r\n\r\n%s", st, t->extra != NULL ?
	    t->extra : "", strlen(body), body) > 0);
	tsrv_reply_str(c, head);
	free(head);
	if (t->hold > 0)
		tsrv_send_after(c, t->hold);
	else
		tsrv_send(c);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct t *t = w->data;

	(void)revents;
	if (w == &t->guard)
		t->timed_out = 1;
	else if (!t->until(t))
		return;
	ev_break(loop, EVBREAK_ALL);
}

/* Runs the loop until cond holds (looked at every 10 ms), 20 s at most. */
static void
run_until(struct t *t, int (*cond)(struct t *))
{
	t->until = cond;
	t->timed_out = 0;
	ev_timer_start(t->loop, &t->guard);
	ev_timer_start(t->loop, &t->check);
	if (!cond(t))
		ev_run(t->loop, 0);
	ev_timer_stop(t->loop, &t->guard);
	ev_timer_stop(t->loop, &t->check);
	assert_false(t->timed_out);
}

static int
briefly(struct t *t)
{
	return ++t->ticks % 30 == 0;	/* about 0.3 s of loop */
}

/* The server has the request, and the replier is done with it. */
static int
answered(struct t *t)
{
	return t->hits > 0 && replier_busy(t->h.replier) == 0;
}

/* The server has the request (it may still be holding the answer). */
static int
reached(struct t *t)
{
	return t->hits > 0;
}

static int64_t
one(struct t *t, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = -1;

	assert_int_equal(sqlite3_prepare_v2(store_db(t->h.store), sql, -1, &q,
	    NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

static const char *
text(struct t *t, const char *sql)
{
	static char buf[512];
	sqlite3_stmt *q;

	buf[0] = '\0';
	assert_int_equal(sqlite3_prepare_v2(store_db(t->h.store), sql, -1, &q,
	    NULL), SQLITE_OK);
	if (sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
		snprintf(buf, sizeof(buf), "%s", sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return buf;
}

/* A source of connector and a thread "k1": a post, a reply, a post. */
static void
add_thread(struct t *t, const char *connector)
{
	struct conn_item items[] = {
		{ .external_id = "p1", .thread_key = "k1", .body = "Cold ward",
		    .url = "https://channel/p1", .rating = ITEM_NO_RATING,
		    .created_at = 1700000000 },
		{ .external_id = "o1", .thread_key = "k1", .dir = ITEM_OUT,
		    .body = "Sorry", .rating = ITEM_NO_RATING,
		    .created_at = 1700000100 },
		{ .external_id = "p2", .thread_key = "k1", .body = "Still",
		    .rating = ITEM_NO_RATING, .created_at = 1700000200 },
	};
	struct conn_batch b = { .items = items, .nitems = 3 };
	struct ingest_stats st;
	struct source src;
	char settings[256], err[256];

	snprintf(settings, sizeof(settings), "{\"url\": \"http://127.0.0.1:"
	    "%d\", \"key\": \"SECRET-KEY-1\"}", t->srv.port);
	t->source = sources_add(t->h.store, "RJ1", connector, settings,
	    time(NULL), err, sizeof(err));
	assert_true(t->source > 0);
	assert_int_equal(sources_get(t->h.store, t->source, &src), 1);
	if (ingest_batch(t->h.store, &src, &b, time(NULL), &st, err,
	    sizeof(err)) == -1)
		fail_msg("ingest: %s", err);
	source_free(&src);
	t->thread = one(t, "SELECT max(id) FROM threads");
}

static int64_t
queue(struct t *t, const char *body)
{
	struct reply_thread th;
	struct reply_new r = { .thread = &th, .body = body, .via = "cli" };
	char ref[32], err[256];
	int64_t id;

	snprintf(ref, sizeof(ref), "%lld", (long long)t->thread);
	assert_int_equal(replies_thread(t->h.store, ref, &th), 1);
	id = replies_queue(t->h.store, &r, time(NULL), err, sizeof(err));
	reply_thread_free(&th);
	assert_true(id > 0);
	return id;
}

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char err[256];
	int fd;

	assert_non_null(t);
	snprintf(t->db, sizeof(t->db), "/tmp/test_replier.XXXXXX");
	assert_true((fd = mkstemp(t->db)) >= 0);
	close(fd);
	t->loop = ev_loop_new(EVFLAG_AUTO);
	config_defaults(&t->h.cfg);
	t->h.cfg.poll_jitter = 0;
	t->h.cfg.backoff_base = 1;
	t->h.cfg.backoff_max = 3600;
	t->h.cfg.timeout = 5;
	t->h.store = store_open(t->db, err, sizeof(err));
	assert_non_null(t->h.store);
	assert_true(orgs_ensure(t->h.store, "RJ1", "Test trust", NULL) > 0);
	t->h.loop = t->loop;
	t->h.fetch = fetch_new(&t->h);
	t->h.replier = replier_new(&t->h);
	assert_int_equal(tsrv_start(&t->srv, t->loop, respond, t), 0);
	ev_timer_init(&t->guard, stop_cb, 20.0, 0.0);
	ev_timer_init(&t->check, stop_cb, 0.01, 0.01);
	t->guard.data = t->check.data = t;
	t->status[0] = 201;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;
	char path[80];

	replier_free(t->h.replier);
	fetch_free(t->h.fetch);
	tsrv_stop(&t->srv);
	store_close(t->h.store);
	ev_loop_destroy(t->loop);
	config_free(&t->h.cfg);
	unlink(t->db);
	snprintf(path, sizeof(path), "%s-wal", t->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", t->db);
	unlink(path);
	free(t);
	return 0;
}

static int
settled(struct t *t)
{
	return one(t, "SELECT count(*) FROM reply_outbox WHERE status IN"
	    " ('queued', 'posting')") == 0 && replier_busy(t->h.replier) == 0;
}

/* A fresh replier, as a daemon restarted on the same database. */
static void
restart(struct t *t)
{
	replier_free(t->h.replier);
	t->h.replier = replier_new(&t->h);
	assert_int_equal(replier_start(t->h.replier), 0);
}

/* Posted once, with what the channel needs, and filed as a message. */
static void
test_posted_once(void **state)
{
	struct t *t = *state;
	char want[256];

	add_thread(t, "fakeapi");
	queue(t, "We will call you today.");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_int_equal(t->hits, 1);
	assert_non_null(strstr(t->last, "POST /replies HTTP/1.1"));
	snprintf(want, sizeof(want), "thread=k1&to=p2&key=%s&org=RJ1&as=&"
	    "text=We will call you today.", text(t, "SELECT idempotency_key"
	    " FROM reply_outbox"));
	assert_non_null(strstr(t->last, want));
	assert_string_equal(text(t, "SELECT status || ' ' || external_id ||"
	    " ' ' || attempts FROM reply_outbox"), "posted r-1 1");
	assert_string_equal(text(t, "SELECT direction || ' ' || body FROM"
	    " messages WHERE external_id = 'r-1'"),
	    "out We will call you today.");
	assert_int_equal(one(t, "SELECT message_count FROM threads"), 4);
	/* Woken again, or started again: nothing more is sent. */
	replier_wake(t->h.replier);
	run_until(t, briefly);
	restart(t);
	run_until(t, briefly);
	assert_int_equal(t->hits, 1);
}

static void
test_transient_retried(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->status[0] = 503;
	t->status[1] = 201;
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_int_equal(t->hits, 2);
	assert_string_equal(text(t, "SELECT status || ' ' || external_id ||"
	    " ' ' || attempts || ' ' || (error IS NULL) FROM reply_outbox"),
	    "posted r-2 2 1");
	assert_int_equal(one(t, "SELECT count(*) FROM messages WHERE"
	    " direction = 'out'"), 2);
}

/* A 429's Retry-After sets the next attempt; the reason is kept. */
static void
test_rate_limited_waits(void **state)
{
	struct t *t = *state;
	int64_t next;

	add_thread(t, "fakeapi");
	t->status[0] = 429;
	t->extra = "Retry-After: 600\r\n";
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, answered);
	assert_string_equal(text(t, "SELECT status || ' ' || error FROM"
	    " reply_outbox"), "queued rate-limited: HTTP 429");
	next = one(t, "SELECT next_attempt_at FROM reply_outbox");
	assert_true(next >= time(NULL) + 590 && next <= time(NULL) + 601);
	assert_int_equal(t->hits, 1);
}

/* Refused for good: failed, with the channel's reason, never resent. */
static void
test_refused_fails_with_reason(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->status[0] = 400;
	t->body = "request 638344 is closed to updates";
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_string_equal(text(t, "SELECT status || ': ' || error FROM"
	    " reply_outbox"), "failed: refused: HTTP 400: request 638344 is"
	    " closed to updates");
	assert_int_equal(one(t, "SELECT count(*) FROM messages WHERE"
	    " direction = 'out'"), 1);
	replier_wake(t->h.replier);
	run_until(t, briefly);
	assert_int_equal(t->hits, 1);
	assert_int_equal(one(t, "SELECT count(*) FROM audit_log WHERE"
	    " action = 'reply.failed'"), 1);
}

/* The last of REPLIER_MAX_ATTEMPTS still transient: given up. */
static void
test_gives_up(void **state)
{
	struct t *t = *state;
	char want[128];

	add_thread(t, "fakeapi");
	t->status[0] = 503;
	queue(t, "Hello");
	assert_int_equal(sqlite3_exec(store_db(t->h.store), "UPDATE"
	    " reply_outbox SET attempts = 7", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	snprintf(want, sizeof(want), "failed gave up after %d attempts: "
	    "transient: HTTP 503", REPLIER_MAX_ATTEMPTS);
	assert_string_equal(text(t, "SELECT status || ' ' || error FROM"
	    " reply_outbox"), want);
	assert_int_equal(t->hits, 1);
}

/* A 2xx the connector cannot read may hide a taken reply: unknown. */
static void
test_unreadable_answer_unknown(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->body = "<html>thanks</html>";
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "unknown");
	assert_non_null(strstr(text(t, "SELECT error FROM reply_outbox"),
	    "check the channel before retrying"));
	assert_int_equal(t->hits, 1);
}

/* Nobody listening: nothing was sent, so it is tried again later. */
static void
test_unsent_is_retried(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->h.cfg.backoff_base = 60;	/* no second try within the test */
	tsrv_unlisten(&t->srv);
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, briefly);
	assert_int_equal(replier_busy(t->h.replier), 0);
	assert_string_equal(text(t, "SELECT status || ' ' || attempts FROM"
	    " reply_outbox"), "queued 1");
	assert_int_equal(strncmp(text(t, "SELECT error FROM reply_outbox"),
	    "transient: cannot connect", 25), 0);
}

/* The server took the request and hung up: it may be on the channel. */
static void
test_no_answer_is_unknown(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->hangup = 1;
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, answered);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "unknown");
	assert_non_null(strstr(text(t, "SELECT error FROM reply_outbox"),
	    "no answer after the reply was sent"));
	replier_wake(t->h.replier);
	run_until(t, briefly);
	assert_int_equal(t->hits, 1);
}

/* ...unless the channel drops repeats: then it is simply sent again. */
static void
test_no_answer_idempotent_resent(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeidem");
	t->hangup = 1;
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, answered);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "queued");
	t->hangup = 0;
	run_until(t, settled);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "posted");
	assert_int_equal(t->hits, 2);
}

/* A daemon that stopped mid-post: the reply is not sent blindly. */
static void
test_stopped_while_posting_not_resent(void **state)
{
	struct t *t = *state;
	int64_t id;

	add_thread(t, "fakeapi");
	id = queue(t, "Hello");
	assert_int_equal(replies_begin(t->h.store, id, time(NULL)), 0);
	assert_int_equal(replier_start(t->h.replier), 0);
	assert_string_equal(text(t, "SELECT status || ': ' || error FROM"
	    " reply_outbox"), "unknown: the daemon stopped while posting;"
	    " check the channel before retrying");
	run_until(t, briefly);
	assert_int_equal(t->hits, 0);
	assert_int_equal(one(t, "SELECT count(*) FROM audit_log WHERE"
	    " action = 'reply.unknown'"), 1);
}

static void
test_stopped_while_posting_idempotent(void **state)
{
	struct t *t = *state;
	int64_t id;

	add_thread(t, "fakeidem");
	id = queue(t, "Hello");
	assert_int_equal(replies_begin(t->h.store, id, time(NULL)), 0);
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_string_equal(text(t, "SELECT status || ' ' || attempts FROM"
	    " reply_outbox"), "posted 2");
	assert_int_equal(t->hits, 1);
}

/* Freed mid-post (a hard stop): left posting, settled at next start. */
static void
test_freed_mid_post(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->hold = 5.0;
	queue(t, "Hello");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, reached);
	assert_int_equal(replier_busy(t->h.replier), 1);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "posting");
	restart(t);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "unknown");
	assert_int_equal(fetch_pending(t->h.fetch), 0);
}

static int
idle(struct t *t)
{
	return replier_busy(t->h.replier) == 0;
}

/* Stopping lets a post in flight finish and be recorded. */
static void
test_stop_lets_post_finish(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	t->hold = 0.2;
	queue(t, "One");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, reached);
	replier_stop(t->h.replier);
	assert_int_equal(replier_busy(t->h.replier), 1);
	queue(t, "Two");
	run_until(t, idle);
	assert_string_equal(text(t, "SELECT group_concat(status, ',') FROM"
	    " (SELECT status FROM reply_outbox ORDER BY id)"),
	    "posted,queued");
	replier_wake(t->h.replier);
	run_until(t, briefly);
	assert_int_equal(t->hits, 1);
}

/* Nowhere to post: failed at once, with why, without a request. */
static void
test_cannot_post(void **state)
{
	struct t *t = *state;

	add_thread(t, "fakeapi");
	queue(t, "Hello");
	assert_int_equal(sqlite3_exec(store_db(t->h.store), "DELETE FROM"
	    " sources", NULL, NULL, NULL), SQLITE_OK);
	add_thread(t, "fakehand");
	queue(t, "Hello");	/* queued by hand on a handoff channel */
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	assert_string_equal(text(t, "SELECT group_concat(error, ' | ') FROM"
	    " (SELECT error FROM reply_outbox ORDER BY id)"),
	    "config: no fakeapi source for RJ1 to reply through | "
	    "config: fakehand cannot post replies");
	assert_int_equal(t->hits, 0);
}

/* Runs fn with stderr going to a file; returns what was written. */
static char *
capture(struct t *t, int fd_to, void (*fn)(struct t *))
{
	char path[] = "/tmp/test_replier_out.XXXXXX", *out;
	int fd, saved;
	FILE *f;
	long len;

	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stdout);
	fflush(stderr);
	saved = dup(fd_to);
	dup2(fd, fd_to);
	fn(t);
	fflush(stdout);
	fflush(stderr);
	dup2(saved, fd_to);
	close(saved);
	close(fd);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_non_null(out = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(out, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	return out;
}

static void
post_then_refuse(struct t *t)
{
	queue(t, "One");
	assert_int_equal(replier_start(t->h.replier), 0);
	run_until(t, settled);
	t->status[0] = 400;
	t->body = "closed";
	queue(t, "Two");
	replier_wake(t->h.replier);
	run_until(t, settled);
}

/* One line per outcome: reply, thread, source, connector; no secret. */
static void
test_log_lines(void **state)
{
	struct t *t = *state;
	char want[160], *log;

	add_thread(t, "fakeapi");
	log = capture(t, 2, post_then_refuse);
	snprintf(want, sizeof(want), "reply 1 on %s (source %lld, RJ1 "
	    "fakeapi): posted as r-1\n", text(t, "SELECT reference FROM"
	    " threads"), (long long)t->source);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), "reply 2 on %s (source %lld, RJ1 "
	    "fakeapi): failed: refused: HTTP 400: closed\n", text(t,
	    "SELECT reference FROM threads"), (long long)t->source);
	assert_non_null(strstr(log, want));
	assert_null(strstr(log, "SECRET"));
	assert_null(strstr(log, "One"));	/* nor what staff wrote */
	free(log);
}

/* `heard reply` by the command table's entry, on the test's store. */
static int
cmd(struct t *t, int argc, char **argv)
{
	cmd_error[0] = '\0';
	return cmd_reply_entry.exec(&t->h, argc, argv);
}

static char	*cmd_argv[8];
static int	 cmd_argc;
static int	 cmd_rc;

static void
cmd_captured(struct t *t)
{
	cmd_rc = cmd(t, cmd_argc, cmd_argv);
}

static char *
cmd_out(struct t *t, int argc, ...)
{
	va_list ap;
	int i;

	va_start(ap, argc);
	for (i = 0; i < argc; i++)
		cmd_argv[i] = va_arg(ap, char *);
	va_end(ap);
	cmd_argv[argc] = NULL;
	cmd_argc = argc;
	return capture(t, 1, cmd_captured);
}

/* A handoff channel: the id, then the task with its link and text. */
static void
test_cmd_handoff(void **state)
{
	struct t *t = *state;
	char *out, want[512];

	add_thread(t, "fakehand");
	out = cmd_out(t, 4, "reply", "1", "--body", "  Thank you, Ann. ");
	assert_int_equal(cmd_rc, 0);
	snprintf(want, sizeof(want), "1\ntask 1 on %s: Fake channel takes no "
	    "replies from heard; post this there yourself:\n  https://"
	    "provider.example/respond/k1\n\nThank you, Ann.\n", text(t,
	    "SELECT reference FROM threads"));
	assert_string_equal(out, want);
	free(out);
	assert_string_equal(text(t, "SELECT status || ' ' || via FROM"
	    " reply_outbox"), "handoff cli");
	/* Without a link of its own: the post itself. */
	add_thread(t, "fakehand2");
	out = cmd_out(t, 4, "reply", "2", "--body", "Hi");
	assert_int_equal(cmd_rc, 0);
	assert_non_null(strstr(out, "\n  https://channel/p1\n\nHi\n"));
	free(out);
}

static void
test_cmd_api_and_refusals(void **state)
{
	struct t *t = *state;
	char *out, ref[16], body[REPLY_BODY_MAX + 8];

	add_thread(t, "fakeapi");
	snprintf(ref, sizeof(ref), "%s", text(t, "SELECT lower(reference)"
	    " FROM threads"));
	out = cmd_out(t, 4, "reply", ref, "--body", "Hello");
	assert_int_equal(cmd_rc, 0);
	assert_string_equal(out, "1\n");
	free(out);
	assert_string_equal(text(t, "SELECT status FROM reply_outbox"),
	    "queued");
	add_thread(t, "fakenone");
	out = cmd_out(t, 4, "reply", "2", "--body", "Hello");
	assert_int_equal(cmd_rc, 1);
	assert_string_equal(out, "");
	free(out);
	assert_non_null(strstr(cmd_error, "fakenone cannot relay replies"));
	out = cmd_out(t, 4, "reply", "99", "--body", "Hello");
	assert_string_equal(cmd_error, "no thread '99'");
	free(out);
	out = cmd_out(t, 4, "reply", "1", "--body", " ");
	assert_string_equal(cmd_error, "reply: the reply is empty");
	free(out);
	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	out = cmd_out(t, 4, "reply", "1", "--body", body);
	assert_string_equal(cmd_error, "reply: the reply is 10007 bytes long;"
	    " at most 10000 are sent");
	free(out);
	out = cmd_out(t, 2, "reply", "1");
	assert_string_equal(cmd_error, "reply: give the text with --body TEXT"
	    " or --body-file FILE");
	free(out);
	out = cmd_out(t, 6, "reply", "1", "--body", "x", "--as",
	    "nobody@nhs.net");
	assert_string_equal(cmd_error, "reply: no staff account: "
	    "nobody@nhs.net");
	free(out);
	assert_int_equal(one(t, "SELECT count(*) FROM reply_outbox"), 1);
	/* Cancel the queued one; it cannot be cancelled twice. */
	out = cmd_out(t, 3, "reply", "--cancel", "1");
	assert_int_equal(cmd_rc, 0);
	free(out);
	out = cmd_out(t, 3, "reply", "--cancel", "1");
	assert_string_equal(cmd_error, "reply: reply 1 is cancelled");
	free(out);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_posted_once),
		T(test_transient_retried),
		T(test_rate_limited_waits),
		T(test_refused_fails_with_reason),
		T(test_gives_up),
		T(test_unreadable_answer_unknown),
		T(test_unsent_is_retried),
		T(test_no_answer_is_unknown),
		T(test_no_answer_idempotent_resent),
		T(test_stopped_while_posting_not_resent),
		T(test_stopped_while_posting_idempotent),
		T(test_freed_mid_post),
		T(test_stop_lets_post_finish),
		T(test_cannot_post),
		T(test_log_lines),
		T(test_cmd_handoff),
		T(test_cmd_api_and_refusals),
	};

	/* The replier logs outcomes at info; one test reads them. */
	log_init(LOG_LVL_INFO, "heard");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
