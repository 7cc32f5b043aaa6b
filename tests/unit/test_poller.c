/* test_poller: polls through a fake connector, a real store and fetch. */
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
#include "config.h"
#include "connector.h"
#include "fetch.h"
#include "heard.h"
#include "log.h"
#include "orgs.h"
#include "poller.h"
#include "registry.h"
#include "sources.h"
#include "store.h"
#include "tsrv.h"

/*
 * The fake connector. Its body is lines: "item ID TITLE", "next URL",
 * "cursor JSON", "ttl SECONDS"; anything else is malformed. 304 is
 * not modified, 401 auth, 429 rate limited (the poller reads the
 * Retry-After itself), other statuses transient. It is reached through
 * registry_find and registry_interval, defined here: the linker then
 * leaves out the real registry, which is the one global (STYLE.md),
 * so the poller can be tested on paging and errors no channel has.
 */
struct fake_conf {
	const char	*url;
};

/* The cursors parse was handed, in order (tests only). */
static char	fake_cursors[128][64];
static size_t	fake_ncursors;

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
fake_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct fake_conf *c = conf;

	(void)cursor;
	(void)e;
	req->method = "GET";
	req->url = arena_strdup(a, c->url);
	return 0;
}

static int
fake_line(char *line, struct arena *a, struct conn_batch *b)
{
	struct conn_item *it;
	char *id, *title;

	if (strncmp(line, "next ", 5) == 0) {
		b->next = arena_alloc(a, sizeof(*b->next));
		b->next->method = "GET";
		b->next->url = arena_strdup(a, line + 5);
	} else if (strncmp(line, "cursor ", 7) == 0)
		b->cursor = arena_strdup(a, line + 7);
	else if (strncmp(line, "ttl ", 4) == 0)
		b->min_interval = strtol(line + 4, NULL, 10);
	else if (strncmp(line, "item ", 5) == 0 && b->nitems < 16) {
		id = line + 5;
		if ((title = strchr(id, ' ')) == NULL)
			return -1;
		*title++ = '\0';
		it = &b->items[b->nitems++];
		it->external_id = arena_strdup(a, id);
		it->thread_key = it->external_id;
		it->title = arena_strdup(a, title);
		it->body = it->title;
		it->rating = ITEM_NO_RATING;
		it->created_at = 1700000000;
	} else if (*line != '\0')
		return -1;
	return 0;
}

static int
fake_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct conn_batch b = { 0 };
	char *text, *line, *save;

	(void)conf;
	if (fake_ncursors < 128)
		snprintf(fake_cursors[fake_ncursors++], 64, "%s",
		    cursor != NULL ? cursor : "(none)");
	if (r->status == 304) {
		out->not_modified = 1;
		return 0;
	}
	if (r->status == 401)
		return conn_fail(e, CONN_ERR_AUTH, "key refused");
	if (r->status == 429)
		return conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 429");
	if (r->status != 200)
		return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld", r->status);
	b.items = arena_alloc(a, 16 * sizeof(*b.items));
	text = arena_strdup(a, r->body);
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		if (fake_line(line, a, &b) == -1)
			return conn_fail(e, CONN_ERR_MALFORMED, "bad line");
	*out = b;
	return 0;
}

static const struct connector fake_connector = {
	.name = "fake",
	.title = "Fake channel for tests",
	.settings = fake_settings,
	.configure = fake_configure,
	.poll = fake_poll,
	.parse = fake_parse,
};

const struct connector *
registry_find(const char *name)
{
	return strcmp(name, "fake") == 0 ? &fake_connector : NULL;
}

long
registry_interval(const struct conn_settings *set)
{
	const char *v = conn_settings_get(set, "interval");

	return v != NULL ? strtol(v, NULL, 10) : 0;
}

/* The server answers each path with a raw response the test sets. */
struct route {
	char	 path[64];
	char	*raw;		/* whole response; NULL: 404 */
	double	 hold;		/* seconds before answering */
	int	 hits;
};

struct t {
	struct ev_loop	*loop;
	struct heard	 h;
	struct tsrv	 srv;
	char		 db[64];
	struct route	 routes[8];
	ev_timer	 guard;
	ev_timer	 check;
	int		(*until)(struct t *);	/* check's condition */
	int		 timed_out;
	int		 ticks;		/* checks made */
	int		 ndone;
	int		 last_ok;
	int64_t		 last_id;
	char		 last_error[512];
};

static struct route *
route(struct t *t, const char *path)
{
	size_t i;

	for (i = 0; i < sizeof(t->routes) / sizeof(t->routes[0]); i++)
		if (strcmp(t->routes[i].path, path) == 0 ||
		    t->routes[i].path[0] == '\0')
			break;
	assert_true(i < sizeof(t->routes) / sizeof(t->routes[0]));
	snprintf(t->routes[i].path, sizeof(t->routes[i].path), "%s", path);
	return &t->routes[i];
}

/* Serves body with status and extra header lines at path. */
static void
serve(struct t *t, const char *path, int status, const char *headers,
    const char *body)
{
	struct route *r = route(t, path);

	free(r->raw);
	assert_true(asprintf(&r->raw, "HTTP/1.1 %d X\r\n%sContent-Length: "
	    "%zu\r\nConnection: close\r\n\r\n%s", status, headers,
	    status == 304 ? 0 : strlen(body), status == 304 ? "" : body) > 0);
}

static void
respond(struct tsrv *s, struct tsrv_conn *c, const char *req)
{
	struct t *t = s->arg;
	struct route *r;
	char path[64];

	r = route(t, tsrv_path(req, path, sizeof(path)));
	r->hits++;
	tsrv_reply_str(c, r->raw != NULL ? r->raw : "HTTP/1.1 404 X\r\n"
	    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	if (r->hold > 0)
		tsrv_send_after(c, r->hold);
	else
		tsrv_send(c);
}

static char *
url(struct t *t, const char *path)
{
	static char buf[128];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", t->srv.port,
	    path);
	return buf;
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
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	char err[256];
	int fd;

	assert_non_null(t);
	snprintf(t->db, sizeof(t->db), "/tmp/test_poller.XXXXXX");
	assert_true((fd = mkstemp(t->db)) >= 0);
	close(fd);
	t->loop = ev_loop_new(EVFLAG_AUTO);
	config_defaults(&t->h.cfg);
	t->h.cfg.poll_jitter = 0;
	t->h.cfg.backoff_base = 10;
	t->h.cfg.backoff_max = 3600;
	t->h.cfg.timeout = 5;
	t->h.store = store_open(t->db, err, sizeof(err));
	assert_non_null(t->h.store);
	assert_true(orgs_ensure(t->h.store, "RJ1", "Test trust", NULL) > 0);
	t->h.loop = t->loop;
	t->h.fetch = fetch_new(&t->h);
	t->h.poller = poller_new(&t->h);
	assert_int_equal(tsrv_start(&t->srv, t->loop, respond, t), 0);
	ev_timer_init(&t->guard, stop_cb, 20.0, 0.0);
	ev_timer_init(&t->check, stop_cb, 0.01, 0.01);
	t->guard.data = t->check.data = t;
	fake_ncursors = 0;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;
	char path[80];
	size_t i;

	poller_free(t->h.poller);
	fetch_free(t->h.fetch);
	tsrv_stop(&t->srv);
	store_close(t->h.store);
	ev_loop_destroy(t->loop);
	config_free(&t->h.cfg);
	for (i = 0; i < sizeof(t->routes) / sizeof(t->routes[0]); i++)
		free(t->routes[i].raw);
	unlink(t->db);
	snprintf(path, sizeof(path), "%s-wal", t->db);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", t->db);
	unlink(path);
	free(t);
	return 0;
}

/* A source of the fake connector on path, with extra settings. */
static int64_t
add_source(struct t *t, const char *path, const char *extra)
{
	char settings[512], err[256];
	int64_t id;

	snprintf(settings, sizeof(settings), "{\"url\": \"%s\"%s}",
	    url(t, path), extra);
	id = sources_add(t->h.store, "RJ1", "fake", settings, time(NULL),
	    err, sizeof(err));
	assert_true(id > 0);
	return id;
}

static void
on_done(void *arg, int64_t id, int ok, const char *error)
{
	struct t *t = arg;

	t->ndone++;
	t->last_id = id;
	t->last_ok = ok;
	snprintf(t->last_error, sizeof(t->last_error), "%s",
	    error != NULL ? error : "");
}

static int
one_more_done(struct t *t)
{
	return t->ndone > 0 && poller_busy(t->h.poller) == 0;
}

/* poller_poll_now, and the loop until it reported. */
static void
poll_now(struct t *t, int64_t id)
{
	t->ndone = 0;
	assert_int_equal(poller_poll_now(t->h.poller, id, on_done, t), 0);
	assert_int_equal(t->ndone, 0);	/* never before it returns */
	run_until(t, one_more_done);
	assert_int_equal(t->ndone, 1);
	assert_int_equal(t->last_id, id);
}

static struct source
row(struct t *t, int64_t id)
{
	struct source s;

	assert_int_equal(sources_get(t->h.store, id, &s), 1);
	return s;
}

static int
messages(struct t *t)
{
	sqlite3_stmt *q;
	int n;

	assert_int_equal(sqlite3_prepare_v2(store_db(t->h.store),
	    "SELECT count(*) FROM messages", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	n = sqlite3_column_int(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* |got - (now + want)| within a few seconds: the poller reads the clock. */
static void
assert_due_in(int64_t got, int64_t want)
{
	int64_t now = time(NULL);

	if (got < now + want - 5 || got > now + want + 1)
		fail_msg("next poll in %lld s, want about %lld s",
		    (long long)(got - now), (long long)want);
}

static void
test_items_stored_and_scheduled(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	serve(t, "/feed", 200, "", "item a1 First\nitem a2 Second\n"
	    "cursor {\"seen\":2}\n");
	poll_now(t, id);
	assert_true(t->last_ok);
	assert_int_equal(messages(t), 2);
	s = row(t, id);
	assert_int_equal(s.failures, 0);
	assert_true(s.last_ok > 0);
	assert_false(s.paused);
	assert_string_equal(s.cursor, "{\"seen\":2}");
	assert_due_in(s.next_poll, 900);
	source_free(&s);
	/* Polled again, the same items are not stored twice. */
	poll_now(t, id);
	assert_int_equal(messages(t), 2);
	assert_string_equal(fake_cursors[1], "{\"seen\":2}");
}

/* Each page with its cursor; parse of page n sees page n-1's cursor. */
static void
test_pages_followed(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/p1", "");
	char body[256];
	struct source s;

	snprintf(body, sizeof(body), "item a First\nnext %s\ncursor [1]\n",
	    url(t, "/p2"));
	serve(t, "/p1", 200, "", body);
	snprintf(body, sizeof(body), "item b Second\nnext %s\ncursor [2]\n",
	    url(t, "/p3"));
	serve(t, "/p2", 200, "", body);
	serve(t, "/p3", 200, "", "item c Third\ncursor [3]\n");
	poll_now(t, id);
	assert_true(t->last_ok);
	assert_int_equal(messages(t), 3);
	assert_int_equal(fake_ncursors, 3);
	assert_string_equal(fake_cursors[0], "(none)");
	assert_string_equal(fake_cursors[1], "[1]");
	assert_string_equal(fake_cursors[2], "[2]");
	s = row(t, id);
	assert_string_equal(s.cursor, "[3]");
	source_free(&s);
}

/* A listing that never ends stops at 100 pages, as a success. */
static void
test_page_cap(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/loop", "");
	char body[256];

	snprintf(body, sizeof(body), "item x Same\nnext %s\n",
	    url(t, "/loop"));
	serve(t, "/loop", 200, "", body);
	poll_now(t, id);
	assert_true(t->last_ok);
	assert_int_equal(route(t, "/loop")->hits, 100);
	assert_int_equal(messages(t), 1);
}

static void
test_failures_back_off_then_clear(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	serve(t, "/feed", 503, "", "down");
	poll_now(t, id);
	assert_false(t->last_ok);
	assert_string_equal(t->last_error, "transient: HTTP 503");
	s = row(t, id);
	assert_int_equal(s.failures, 1);
	assert_string_equal(s.last_error, "transient: HTTP 503");
	assert_int_equal(s.last_error_code, CONN_ERR_TRANSIENT);
	assert_due_in(s.next_poll, 10);
	source_free(&s);
	poll_now(t, id);
	s = row(t, id);
	assert_int_equal(s.failures, 2);
	assert_due_in(s.next_poll, 20);
	source_free(&s);
	serve(t, "/feed", 200, "", "item a1 First\n");
	poll_now(t, id);
	assert_true(t->last_ok);
	s = row(t, id);
	assert_int_equal(s.failures, 0);
	assert_null(s.last_error);
	assert_due_in(s.next_poll, 900);
	source_free(&s);
}

/* The connector gave no retry_after: the poller reads the header. */
static void
test_retry_after_header(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	serve(t, "/feed", 429, "Retry-After: 1800\r\n", "slow down");
	poll_now(t, id);
	assert_false(t->last_ok);
	assert_string_equal(t->last_error, "rate-limited: HTTP 429");
	s = row(t, id);
	assert_due_in(s.next_poll, 1800);
	source_free(&s);
}

static void
test_server_hints(void **state)
{
	struct t *t = *state;
	int64_t a = add_source(t, "/ttl", "");
	int64_t b = add_source(t, "/maxage", "");
	int64_t c = add_source(t, "/own", ", \"interval\": \"300\"");
	struct source s;

	serve(t, "/ttl", 200, "Cache-Control: max-age=60\r\n", "ttl 7200\n");
	serve(t, "/maxage", 200, "Cache-Control: public, max-age=3600\r\n",
	    "");
	serve(t, "/own", 200, "", "");
	poll_now(t, a);
	poll_now(t, b);
	poll_now(t, c);
	s = row(t, a);
	assert_due_in(s.next_poll, 7200);	/* the feed's ttl first */
	source_free(&s);
	s = row(t, b);
	assert_due_in(s.next_poll, 3600);
	source_free(&s);
	s = row(t, c);
	assert_due_in(s.next_poll, 300);	/* the source's own interval */
	source_free(&s);
}

static void
test_not_modified_keeps_everything(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	serve(t, "/feed", 200, "", "item a1 First\ncursor [1]\n");
	poll_now(t, id);
	serve(t, "/feed", 304, "", "");
	poll_now(t, id);
	assert_true(t->last_ok);
	assert_int_equal(messages(t), 1);
	s = row(t, id);
	assert_string_equal(s.cursor, "[1]");
	assert_int_equal(s.failures, 0);
	assert_due_in(s.next_poll, 900);
	source_free(&s);
}

/* A malformed page stores nothing and keeps the old cursor. */
static void
test_malformed_keeps_cursor(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	serve(t, "/feed", 200, "", "item a1 First\ncursor [1]\n");
	poll_now(t, id);
	serve(t, "/feed", 200, "", "item b1 Second\ncursor [2]\n<html>\n");
	poll_now(t, id);
	assert_false(t->last_ok);
	assert_string_equal(t->last_error, "malformed: bad line");
	assert_int_equal(messages(t), 1);
	s = row(t, id);
	assert_string_equal(s.cursor, "[1]");
	assert_int_equal(s.failures, 1);
	source_free(&s);
}

/* A failure after a stored page starts a new run of failures. */
static void
test_failure_after_a_page(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/p1", "");
	char body[256];
	struct source s;

	serve(t, "/p1", 500, "", "");
	poll_now(t, id);
	poll_now(t, id);
	snprintf(body, sizeof(body), "item a First\nnext %s\ncursor [1]\n",
	    url(t, "/p2"));
	serve(t, "/p1", 200, "", body);
	serve(t, "/p2", 500, "", "");
	poll_now(t, id);
	assert_false(t->last_ok);
	assert_int_equal(messages(t), 1);
	s = row(t, id);
	assert_int_equal(s.failures, 1);
	assert_string_equal(s.cursor, "[1]");
	source_free(&s);
}

static int
all_idle(struct t *t)
{
	return poller_busy(t->h.poller) == 0;
}

static int
three_polled(struct t *t)
{
	return route(t, "/a")->hits + route(t, "/b")->hits +
	    route(t, "/c")->hits == 3 && all_idle(t);
}

/* Started, the poller polls every due source on its own. */
static void
test_scheduled_polls(void **state)
{
	struct t *t = *state;

	add_source(t, "/a", "");
	add_source(t, "/b", "");
	add_source(t, "/c", "");
	serve(t, "/a", 200, "", "item a1 A\n");
	serve(t, "/b", 200, "", "item b1 B\n");
	serve(t, "/c", 503, "", "");
	assert_int_equal(poller_start(t->h.poller), 0);
	assert_int_equal(poller_sources(t->h.poller), 3);
	run_until(t, three_polled);
	assert_int_equal(messages(t), 2);
	/* Nothing is due for a while: nobody is polled twice. */
	assert_int_equal(route(t, "/a")->hits, 1);
	assert_int_equal(route(t, "/c")->hits, 1);
}

static int
d_polled(struct t *t)
{
	return route(t, "/d")->hits == 1 && all_idle(t);
}

/* A source added while running is polled after a reload. */
static void
test_reload_adds_sources(void **state)
{
	struct t *t = *state;

	add_source(t, "/a", "");
	add_source(t, "/b", "");
	add_source(t, "/c", "");
	serve(t, "/a", 200, "", "");
	serve(t, "/b", 200, "", "");
	serve(t, "/c", 200, "", "");
	serve(t, "/d", 200, "", "item d1 D\n");
	assert_int_equal(poller_start(t->h.poller), 0);
	run_until(t, three_polled);
	add_source(t, "/d", "");
	poller_reload(t->h.poller);
	assert_int_equal(poller_sources(t->h.poller), 4);
	run_until(t, d_polled);
	assert_int_equal(messages(t), 1);
	assert_int_equal(route(t, "/a")->hits, 1);
}

static int
briefly(struct t *t)
{
	return ++t->ticks % 30 == 0;	/* about 0.3 s of loop */
}

static void
sql(struct t *t, const char *q)
{
	assert_int_equal(sqlite3_exec(store_db(t->h.store), q, NULL, NULL,
	    NULL), SQLITE_OK);
}

/* Rows changed or deleted mid-poll are taken up when the poll ends. */
static void
test_reload_during_poll(void **state)
{
	struct t *t = *state;
	int64_t a = add_source(t, "/a", ""), b = add_source(t, "/b", "");
	char q[256];

	route(t, "/a")->hold = 0.2;
	route(t, "/b")->hold = 0.2;
	serve(t, "/a", 200, "", "");
	serve(t, "/b", 200, "", "");
	serve(t, "/a2", 200, "", "item n1 New\n");
	assert_int_equal(poller_poll_now(t->h.poller, a, on_done, t), 0);
	assert_int_equal(poller_poll_now(t->h.poller, b, on_done, t), 0);
	snprintf(q, sizeof(q), "UPDATE sources SET settings = "
	    "'{\"url\": \"%s\"}' WHERE id = %lld", url(t, "/a2"),
	    (long long)a);
	sql(t, q);
	snprintf(q, sizeof(q), "DELETE FROM sources WHERE id = %lld",
	    (long long)b);
	sql(t, q);
	poller_reload(t->h.poller);
	assert_int_equal(poller_sources(t->h.poller), 2);
	run_until(t, all_idle);
	assert_int_equal(poller_sources(t->h.poller), 1);
	poll_now(t, a);
	assert_int_equal(route(t, "/a2")->hits, 1);
	assert_int_equal(messages(t), 1);
}

/* Auth failure pauses; the schedule skips it; an explicit poll lifts it. */
static void
test_auth_pauses(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", ", \"key\": \"SECRET-KEY-1\"");
	struct source s;

	serve(t, "/feed", 401, "", "no");
	poll_now(t, id);
	assert_string_equal(t->last_error, "auth: key refused");
	/* Another source due keeps the schedule busy meanwhile. */
	add_source(t, "/other", ", \"interval\": \"1\"");
	serve(t, "/other", 200, "", "");
	s = row(t, id);
	assert_true(s.paused);
	assert_int_equal(s.next_poll, 0);
	assert_int_equal(s.failures, 1);
	source_free(&s);
	assert_int_equal(poller_start(t->h.poller), 0);
	run_until(t, briefly);
	assert_true(route(t, "/other")->hits >= 1);
	assert_int_equal(route(t, "/feed")->hits, 1);
	serve(t, "/feed", 200, "", "item a1 First\n");
	poll_now(t, id);
	assert_true(t->last_ok);
	s = row(t, id);
	assert_false(s.paused);
	assert_due_in(s.next_poll, 900);
	source_free(&s);
}

/* Wrong settings, an unknown connector: paused, without a transfer. */
static void
test_config_errors_pause(void **state)
{
	struct t *t = *state;
	char err[256];
	int64_t a, b;
	struct source s;

	a = sources_add(t->h.store, "RJ1", "fake", "{\"nourl\": \"x\"}",
	    time(NULL), err, sizeof(err));
	b = sources_add(t->h.store, "RJ1", "gone", "{}", time(NULL), err,
	    sizeof(err));
	poll_now(t, a);
	assert_string_equal(t->last_error, "config: fake: no url");
	poll_now(t, b);
	assert_string_equal(t->last_error, "config: no connector 'gone'");
	s = row(t, b);
	assert_true(s.paused);
	source_free(&s);
	assert_int_equal(t->srv.accepted, 0);
}

static void
test_transport_error(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");
	struct source s;

	tsrv_unlisten(&t->srv);
	poll_now(t, id);
	assert_false(t->last_ok);
	assert_true(strncmp(t->last_error, "transient: cannot connect", 25)
	    == 0);
	s = row(t, id);
	assert_int_equal(s.failures, 1);
	source_free(&s);
}

static void
test_poll_now_refusals(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");

	assert_int_equal(poller_poll_now(t->h.poller, 999, on_done, t), -1);
	route(t, "/feed")->hold = 0.2;
	serve(t, "/feed", 200, "", "item a1 First\n");
	assert_int_equal(poller_poll_now(t->h.poller, id, on_done, t), 0);
	/* One waiter per source at a time. */
	assert_int_equal(poller_poll_now(t->h.poller, id, on_done, t), -1);
	assert_int_equal(poller_busy(t->h.poller), 1);
	/* Stopping lets the poll in flight finish, and starts no more. */
	poller_stop(t->h.poller);
	assert_int_equal(poller_poll_now(t->h.poller, id, on_done, t), -1);
	run_until(t, one_more_done);
	assert_true(t->last_ok);
	assert_int_equal(messages(t), 1);
}

/* Freed mid-poll: the transfer is dropped and nobody is called. */
static void
test_free_mid_poll(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", "");

	route(t, "/feed")->hold = 5.0;
	serve(t, "/feed", 200, "", "item a1 First\n");
	assert_int_equal(poller_poll_now(t->h.poller, id, on_done, t), 0);
	run_until(t, briefly);
	poller_free(t->h.poller);
	assert_int_equal(fetch_pending(t->h.fetch), 0);
	t->h.poller = poller_new(&t->h);
	assert_int_equal(t->ndone, 0);
}

/* Runs fn with stderr going to a file; returns what was written. */
static char *
capture_log(struct t *t, int64_t id, void (*fn)(struct t *, int64_t))
{
	char path[] = "/tmp/test_poller_log.XXXXXX", *text;
	int fd, saved;
	FILE *f;
	long len;

	assert_true((fd = mkstemp(path)) >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	fn(t, id);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	assert_non_null(f = fopen(path, "r"));
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	assert_non_null(text = calloc(1, (size_t)len + 1));
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	unlink(path);
	return text;
}

static void
two_polls(struct t *t, int64_t id)
{
	serve(t, "/feed", 200, "", "item a1 First\nitem a2 Second\n");
	poll_now(t, id);
	serve(t, "/feed", 503, "", "");
	poll_now(t, id);
}

/* One line per poll, naming source, organisation and connector; no key. */
static void
test_log_lines(void **state)
{
	struct t *t = *state;
	int64_t id = add_source(t, "/feed", ", \"key\": \"SECRET-KEY-1\"");
	char want[128], *log;

	log = capture_log(t, id, two_polls);
	snprintf(want, sizeof(want), "source %lld (RJ1 fake): 2 new, "
	    "0 updated\n", (long long)id);
	assert_non_null(strstr(log, want));
	snprintf(want, sizeof(want), "source %lld (RJ1 fake): transient: "
	    "HTTP 503, retry in ", (long long)id);
	assert_non_null(strstr(log, want));
	assert_null(strstr(log, "SECRET"));
	free(log);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_items_stored_and_scheduled),
		T(test_pages_followed),
		T(test_page_cap),
		T(test_failures_back_off_then_clear),
		T(test_retry_after_header),
		T(test_server_hints),
		T(test_not_modified_keeps_everything),
		T(test_malformed_keeps_cursor),
		T(test_failure_after_a_page),
		T(test_scheduled_polls),
		T(test_reload_adds_sources),
		T(test_reload_during_poll),
		T(test_auth_pauses),
		T(test_config_errors_pause),
		T(test_transport_error),
		T(test_poll_now_refusals),
		T(test_free_mid_poll),
		T(test_log_lines),
	};

	/* The poller logs at info; the lines are checked in one test. */
	log_init(LOG_LVL_INFO, "heard");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
