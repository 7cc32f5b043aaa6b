/* test_fetch: real transfers against a tiny HTTP server on the same loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>
#include <ev.h>

#include "config.h"
#include "connector.h"
#include "fetch.h"
#include "heard.h"
#include "tsrv.h"

static const char gz_body[] =
    "\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03\xcb\x48\xcd\xc9\xc9\x57"
    "\x48\xaf\xca\x2c\xd0\x51\xc8\xc0\xca\x06\x00\xba\x31\x8e\x26\x22"
    "\x00\x00\x00";
#define GZ_LEN		35
#define GZ_PLAIN	"hello gzip, hello gzip, hello gzip"
#define BIG		65536
#define CLOSE		"Connection: close\r\n"

/* What the server answers, by path; every answer closes the connection. */
static const struct srv_route {
	const char	*path;
	const char	*head;	/* status line and headers, no blank line */
	int		 body;	/* 0 none, 1 "hello", 2 BIG x's, 3 gzip,
				   4 echo the request */
	int		 hold;	/* answer after a while */
	int		 silent;	/* never answer */
} srv_routes[] = {
	{ "/ok", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
	    "ETag: \"v1\"\r\nX-Test:  yes  \r\nContent-Length: 5\r\n" CLOSE,
	    1, 0, 0 },
	{ "/notmod", "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n" CLOSE,
	    0, 0, 0 },
	{ "/redir", "HTTP/1.1 302 Found\r\nLocation: /ok\r\nX-Old: 1\r\n"
	    "Content-Length: 0\r\n" CLOSE, 0, 0, 0 },
	{ "/loop", "HTTP/1.1 302 Found\r\nLocation: /loop\r\n"
	    "Content-Length: 0\r\n" CLOSE, 0, 0, 0 },
	{ "/ftp", "HTTP/1.1 302 Found\r\nLocation: ftp://127.0.0.1:1/x\r\n"
	    "Content-Length: 0\r\n" CLOSE, 0, 0, 0 },
	{ "/file", "HTTP/1.1 302 Found\r\nLocation: file:///etc/passwd\r\n"
	    "Content-Length: 0\r\n" CLOSE, 0, 0, 0 },
	{ "/big", "HTTP/1.1 200 OK\r\nContent-Length: 65536\r\n" CLOSE,
	    2, 0, 0 },
	{ "/bignolen", "HTTP/1.1 200 OK\r\n" CLOSE, 2, 0, 0 },
	{ "/gzip", "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
	    "Content-Length: 35\r\n" CLOSE, 3, 0, 0 },
	{ "/echo", "HTTP/1.1 200 OK\r\n" CLOSE, 4, 0, 0 },
	{ "/hold", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" CLOSE,
	    1, 1, 0 },
	{ "/slow", NULL, 0, 0, 1 },
	{ "/503", "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 120\r\n"
	    "Content-Length: 5\r\n" CLOSE, 1, 0, 0 },
};

static void	srv_seen(struct tsrv *, const char *);

/* Answers by path from the table above. */
static void
srv_respond(struct tsrv *s, struct tsrv_conn *c, const char *req)
{
	const struct srv_route *r = NULL;
	char path[256], *big;
	size_t i;

	srv_seen(s, req);
	tsrv_path(req, path, sizeof(path));
	for (i = 0; i < sizeof(srv_routes) / sizeof(srv_routes[0]); i++)
		if (strcmp(srv_routes[i].path, path) == 0)
			r = &srv_routes[i];
	assert_non_null(r);
	if (r->silent)
		return;
	tsrv_reply_str(c, r->head);
	tsrv_reply_str(c, "\r\n");
	if (r->body == 1)
		tsrv_reply_str(c, "hello");
	else if (r->body == 2) {
		assert_non_null(big = malloc(BIG));
		memset(big, 'x', BIG);
		tsrv_reply(c, big, BIG);
		free(big);
	} else if (r->body == 3)
		tsrv_reply(c, gz_body, GZ_LEN);
	else if (r->body == 4)
		tsrv_reply(c, c->in, c->inlen);
	if (r->hold)
		tsrv_send_after(c, 0.3);
	else
		tsrv_send(c);
}

struct t;

/* The client side: what each callback saw, copied out of borrowed memory. */
struct result {
	struct t	*t;
	int		 called;
	long		 status;
	char		 body[1024];
	size_t		 body_len;
	char		 etag[64];
	char		 xtest[64];
	int		 has_location;
	int		 has_old;
	size_t		 nheaders;
	char		 eff[256];
	int		 redirected;
	enum conn_err	 code;
	char		 msg[256];
	int		 unsent;
	double		 done_at;	/* ev_time() at the callback */
};

struct t {
	struct ev_loop	*loop;
	struct heard	 h;
	struct tsrv	 srv;
	struct fetch	*f;
	ev_timer	 guard;
	int		 ndone;
	int		 want;
	struct result	 res[8];
	char		 tmp[64];	/* a file for file:// cases */
	double		 seen[16];	/* ev_time() of each request */
	char		 seen_host[16][32];	/* its Host header */
	int		 nseen;
	int		 chain;		/* requests a chain still makes */
	unsigned	 gap_ms;	/* the chain's */
	ev_timer	 later;		/* starts the chain's next request */
	struct result	*next;		/* what it is for */
};

/* When each request reached the server, and for which host. */
static void
srv_seen(struct tsrv *s, const char *req)
{
	struct t *t = s->arg;
	const char *h = strcasestr(req, "\r\nHost: ");

	if (t->nseen >= (int)(sizeof(t->seen) / sizeof(t->seen[0])))
		return;
	t->seen[t->nseen] = ev_time();
	if (h != NULL)
		snprintf(t->seen_host[t->nseen], sizeof(t->seen_host[0]),
		    "%.*s", (int)strcspn(h + 8, ":\r"), h + 8);
	t->nseen++;
}

static void
copy_header(const struct conn_response *r, const char *name, char *dst,
    size_t len)
{
	const char *v = conn_response_header(r, name);

	snprintf(dst, len, "%s", v != NULL ? v : "");
}

static void
on_done(void *arg, const struct conn_response *r, const struct conn_error *e)
{
	struct result *res = arg;

	res->called++;
	res->done_at = ev_time();
	if (++res->t->ndone == res->t->want)
		ev_break(res->t->loop, EVBREAK_ALL);
	if (e != NULL) {
		assert_null(r);
		res->code = e->code;
		res->unsent = e->unsent;
		snprintf(res->msg, sizeof(res->msg), "%s", e->msg);
		return;
	}
	assert_non_null(r);
	assert_int_equal(r->body[r->body_len], '\0');
	res->code = CONN_OK;
	res->status = r->status;
	res->body_len = r->body_len;
	snprintf(res->body, sizeof(res->body), "%s", r->body);
	copy_header(r, "etag", res->etag, sizeof(res->etag));
	copy_header(r, "X-TEST", res->xtest, sizeof(res->xtest));
	res->has_location = conn_response_header(r, "Location") != NULL;
	res->has_old = conn_response_header(r, "X-Old") != NULL;
	res->nheaders = r->nheaders;
	snprintf(res->eff, sizeof(res->eff), "%s", r->effective_url);
	res->redirected = r->redirected;
}

static void
guard_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));
	size_t i;

	assert_non_null(t);
	t->loop = ev_loop_new(EVFLAG_AUTO);
	assert_non_null(t->loop);
	config_defaults(&t->h.cfg);
	free(t->h.cfg.user_agent);
	t->h.cfg.user_agent = strdup("heard-test/1");
	t->h.cfg.timeout = 10;
	t->h.loop = t->loop;
	assert_int_equal(tsrv_start(&t->srv, t->loop, srv_respond, t), 0);
	t->f = fetch_new(&t->h);
	for (i = 0; i < sizeof(t->res) / sizeof(t->res[0]); i++)
		t->res[i].t = t;
	ev_timer_init(&t->guard, guard_cb, 20.0, 0.0);
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	fetch_free(t->f);
	tsrv_stop(&t->srv);
	ev_loop_destroy(t->loop);
	config_free(&t->h.cfg);
	if (t->tmp[0] != '\0')
		unlink(t->tmp);
	free(t);
	return 0;
}

/* Runs the loop until n callbacks came, or fails after 20 seconds. */
static void
run_until(struct t *t, int n)
{
	t->want = n;
	ev_timer_start(t->loop, &t->guard);
	if (t->ndone < n)
		ev_run(t->loop, 0);
	ev_timer_stop(t->loop, &t->guard);
	assert_int_equal(t->ndone, n);
}

static void
get(struct t *t, const char *path, struct result *res)
{
	struct conn_request req = { .method = "GET" };
	char url[256];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", t->srv.port, path);
	req.url = url;
	assert_int_equal(fetch_start(t->f, &req, on_done, res), 0);
}

/* A GET of /ok on host (127.0.0.1 or localhost) asking for a gap. */
static void
get_paced_cb(struct t *t, const char *host, unsigned gap_ms,
    fetch_done_fn done, struct result *res)
{
	struct conn_request req = { .method = "GET", .min_gap_ms = gap_ms };
	char url[256];

	snprintf(url, sizeof(url), "http://%s:%d/ok", host, t->srv.port);
	req.url = url;
	assert_int_equal(fetch_start(t->f, &req, done, res), 0);
}

static void
get_paced(struct t *t, const char *host, unsigned gap_ms,
    struct result *res)
{
	get_paced_cb(t, host, gap_ms, on_done, res);
}

static void
reconfigure(struct t *t)
{
	fetch_reconfigure(t->f, &t->h.cfg);
}

static int
ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);

	return a >= b && strcmp(s + a - b, tail) == 0;
}

static void
test_ok_with_headers(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];

	get(t, "/ok", r);
	/* Starting never completes synchronously. */
	assert_int_equal(r->called, 0);
	assert_int_equal(fetch_pending(t->f), 1);
	run_until(t, 1);
	assert_int_equal(r->called, 1);
	assert_int_equal(r->code, CONN_OK);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "hello");
	assert_int_equal(r->body_len, 5);
	assert_string_equal(r->etag, "\"v1\"");
	assert_string_equal(r->xtest, "yes");
	assert_true(r->nheaders >= 5);
	assert_false(r->redirected);
	assert_true(ends_with(r->eff, "/ok"));
	assert_int_equal(fetch_pending(t->f), 0);
}

static void
test_not_modified(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];

	get(t, "/notmod", r);
	run_until(t, 1);
	assert_int_equal(r->code, CONN_OK);
	assert_int_equal(r->status, 304);
	assert_int_equal(r->body_len, 0);
	assert_string_equal(r->body, "");
	assert_string_equal(r->etag, "\"v1\"");
}

/* An HTTP error is a response for the connector to judge, not ours. */
static void
test_server_error_is_a_response(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];

	get(t, "/503", r);
	run_until(t, 1);
	assert_int_equal(r->code, CONN_OK);
	assert_int_equal(r->status, 503);
}

static void
test_redirect_keeps_last_headers(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];

	get(t, "/redir", r);
	run_until(t, 1);
	assert_int_equal(r->code, CONN_OK);
	assert_int_equal(r->status, 200);
	assert_string_equal(r->body, "hello");
	assert_true(r->redirected);
	assert_true(ends_with(r->eff, "/ok"));
	assert_false(r->has_location);
	assert_false(r->has_old);
	assert_string_equal(r->xtest, "yes");
}

static void
test_redirect_loop(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];

	t->h.cfg.max_redirects = 3;
	reconfigure(t);
	get(t, "/loop", r);
	run_until(t, 1);
	assert_int_equal(r->code, CONN_ERR_TRANSIENT);
	assert_non_null(strstr(r->msg, "redirect loop"));
	/* The first request and three redirects, then curl gives up. */
	assert_int_equal(t->srv.accepted, 4);
}

/* A server may not redirect us to other protocols, file:// least of all. */
static void
test_redirect_to_other_protocols(void **state)
{
	struct t *t = *state;

	t->h.cfg.allow_file_urls = 1;
	reconfigure(t);
	get(t, "/ftp", &t->res[0]);
	get(t, "/file", &t->res[1]);
	run_until(t, 2);
	/* Transient: the server is wrong, not the source's settings. */
	assert_int_equal(t->res[0].code, CONN_ERR_TRANSIENT);
	assert_int_equal(t->res[1].code, CONN_ERR_TRANSIENT);
	assert_non_null(strstr(t->res[0].msg, "redirect refused"));
	assert_non_null(strstr(t->res[1].msg, "redirect refused"));
	assert_int_equal(t->res[1].called, 1);
	assert_null(strstr(t->res[1].body, "root:"));
}

static void
test_body_over_cap(void **state)
{
	struct t *t = *state;
	int i;

	t->h.cfg.max_body = 2048;
	reconfigure(t);
	get(t, "/big", &t->res[0]);	/* Content-Length says too much */
	get(t, "/bignolen", &t->res[1]);	/* only counting tells */
	run_until(t, 2);
	for (i = 0; i < 2; i++) {
		assert_int_equal(t->res[i].code, CONN_ERR_MALFORMED);
		assert_string_equal(t->res[i].msg,
		    "body larger than 2048 bytes");
	}
}

static void
test_body_at_cap(void **state)
{
	struct t *t = *state;

	t->h.cfg.max_body = BIG;
	reconfigure(t);
	get(t, "/bignolen", &t->res[0]);
	run_until(t, 1);
	assert_int_equal(t->res[0].code, CONN_OK);
	assert_int_equal(t->res[0].body_len, BIG);
}

static void
test_time_out(void **state)
{
	struct t *t = *state;
	struct result *r = &t->res[0];
	ev_tstamp start;

	t->h.cfg.timeout = 1;
	reconfigure(t);
	ev_now_update(t->loop);
	start = ev_now(t->loop);
	get(t, "/slow", r);
	run_until(t, 1);
	assert_int_equal(r->code, CONN_ERR_TRANSIENT);
	assert_non_null(strstr(r->msg, "time-out"));
	assert_false(r->unsent);	/* it may have arrived */
	ev_now_update(t->loop);
	/* Generous bounds: the point is that it ended, and not at once. */
	assert_true(ev_now(t->loop) - start >= 0.5);
	assert_true(ev_now(t->loop) - start < 15.0);
}

static void
test_refused(void **state)
{
	struct t *t = *state;
	struct conn_request req = { .method = "GET" };
	char url[64];
	int port = t->srv.port;

	/* The server's own port, once nobody listens on it. */
	tsrv_unlisten(&t->srv);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/ok", port);
	req.url = url;
	assert_int_equal(fetch_start(t->f, &req, on_done, &t->res[0]), 0);
	run_until(t, 1);
	assert_int_equal(t->res[0].code, CONN_ERR_TRANSIENT);
	assert_non_null(strstr(t->res[0].msg, "cannot connect"));
	assert_true(t->res[0].unsent);	/* never left: safe to resend */
}

/* Count connections at the server: never more than the cap at once. */
static void
caps_case(struct t *t, long per_host, long max_transfers, int want_max)
{
	int i;

	t->h.cfg.per_host = per_host;
	t->h.cfg.max_transfers = max_transfers;
	reconfigure(t);
	for (i = 0; i < 6; i++)
		get(t, "/hold", &t->res[i]);
	assert_int_equal(fetch_pending(t->f), 6);
	run_until(t, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(t->res[i].code, CONN_OK);
		assert_int_equal(t->res[i].status, 200);
	}
	assert_int_equal(t->srv.accepted, 6);
	assert_int_equal(t->srv.max_open, want_max);
}

static void
test_per_host_cap(void **state)
{
	caps_case(*state, 2, 32, 2);
}

static void
test_global_cap(void **state)
{
	caps_case(*state, 8, 3, 3);
}

static void
test_request_headers_and_body(void **state)
{
	struct t *t = *state;
	struct conn_request req = { .method = "POST", .body = "a=1&b=2",
	    .body_len = 7 };
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", t->srv.port);
	req.url = url;
	req.headers[req.nheaders++] = "X-Api-Key: k1";
	req.headers[req.nheaders++] = "Content-Type: "
	    "application/x-www-form-urlencoded";
	assert_int_equal(fetch_start(t->f, &req, on_done, &t->res[0]), 0);
	run_until(t, 1);
	assert_int_equal(t->res[0].code, CONN_OK);
	assert_true(strncmp(t->srv.last, "POST /echo ", 11) == 0);
	assert_non_null(strstr(t->srv.last, "\r\nX-Api-Key: k1\r\n"));
	assert_non_null(strstr(t->srv.last,
	    "\r\nUser-Agent: heard-test/1\r\n"));
	assert_non_null(strstr(t->srv.last, "\r\nAccept-Encoding: "));
	assert_non_null(strstr(t->srv.last, "gzip"));
	assert_null(strcasestr(t->srv.last, "Expect:"));
	assert_true(ends_with(t->srv.last, "\r\n\r\na=1&b=2"));
	assert_true(ends_with(t->res[0].body, "\r\n\r\na=1&b=2"));
}

static void
test_request_user_agent_wins(void **state)
{
	struct t *t = *state;
	struct conn_request req = { .method = "GET" };
	char url[64];

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/echo", t->srv.port);
	req.url = url;
	req.headers[req.nheaders++] = "User-Agent: connector/2";
	assert_int_equal(fetch_start(t->f, &req, on_done, &t->res[0]), 0);
	run_until(t, 1);
	assert_non_null(strstr(t->srv.last,
	    "\r\nUser-Agent: connector/2\r\n"));
	assert_null(strstr(t->srv.last, "heard-test"));
}

static void
test_gzip_is_decoded(void **state)
{
	struct t *t = *state;

	get(t, "/gzip", &t->res[0]);
	run_until(t, 1);
	assert_int_equal(t->res[0].code, CONN_OK);
	assert_string_equal(t->res[0].body, GZ_PLAIN);
}

static void
file_get(struct t *t, const char *path, struct result *r)
{
	struct conn_request req = { .method = "GET" };
	char url[128];

	snprintf(url, sizeof(url), "file://%s", path);
	req.url = url;
	assert_int_equal(fetch_start(t->f, &req, on_done, r), 0);
}

static void
test_file_urls(void **state)
{
	struct t *t = *state;
	int fd;

	snprintf(t->tmp, sizeof(t->tmp), "/tmp/test_fetch.XXXXXX");
	assert_true((fd = mkstemp(t->tmp)) >= 0);
	assert_int_equal(write(fd, "<rss/>", 6), 6);
	close(fd);
	file_get(t, t->tmp, &t->res[0]);	/* off by default */
	run_until(t, 1);
	assert_int_equal(t->res[0].code, CONN_ERR_CONFIG);
	t->h.cfg.allow_file_urls = 1;
	reconfigure(t);
	file_get(t, t->tmp, &t->res[1]);
	file_get(t, "/nonexistent/heard/feed.rss", &t->res[2]);
	run_until(t, 3);
	assert_int_equal(t->res[1].code, CONN_OK);
	assert_int_equal(t->res[1].status, 200);
	assert_string_equal(t->res[1].body, "<rss/>");
	assert_false(t->res[1].redirected);
	assert_int_equal(t->res[2].code, CONN_ERR_NOT_FOUND);
}

/* A cancelled transfer never calls back, and its slot goes to the next. */
static void
test_cancel(void **state)
{
	struct t *t = *state;

	t->h.cfg.per_host = 1;
	reconfigure(t);
	get(t, "/hold", &t->res[0]);
	get(t, "/ok", &t->res[1]);
	get(t, "/ok", &t->res[2]);
	assert_int_equal(fetch_pending(t->f), 3);
	assert_int_equal(fetch_cancel(t->f, &t->res[0]), 1);
	assert_int_equal(fetch_cancel(t->f, &t->res[2]), 1);
	assert_int_equal(fetch_cancel(t->f, &t->res[2]), 0);
	assert_int_equal(fetch_pending(t->f), 1);
	run_until(t, 1);
	assert_int_equal(t->res[0].called, 0);
	assert_int_equal(t->res[1].called, 1);
	assert_int_equal(t->res[1].status, 200);
	assert_int_equal(t->res[2].called, 0);
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)w;
	(void)revents;
	ev_break(loop, EVBREAK_ALL);
}

/* Freeing with transfers running and queued calls nobody back. */
static void
test_free_with_transfers(void **state)
{
	struct t *t = *state;
	ev_timer stop;

	t->h.cfg.per_host = 1;
	reconfigure(t);
	get(t, "/slow", &t->res[0]);
	get(t, "/slow", &t->res[1]);
	ev_timer_init(&stop, stop_cb, 0.3, 0.0);
	ev_timer_start(t->loop, &stop);
	ev_run(t->loop, 0);
	assert_int_equal(t->srv.accepted, 1);
	fetch_free(t->f);
	t->f = fetch_new(&t->h);
	assert_int_equal(t->ndone, 0);
	assert_int_equal(t->res[0].called + t->res[1].called, 0);
}

static void
test_start_needs_url(void **state)
{
	struct t *t = *state;
	struct conn_request req = { .method = "GET" };

	assert_int_equal(fetch_start(t->f, &req, on_done, &t->res[0]), -1);
	assert_int_equal(fetch_start(t->f, NULL, on_done, &t->res[0]), -1);
	assert_int_equal(fetch_pending(t->f), 0);
}

/* Every gap between two arrivals at the server, from the first. */
static void
assert_gaps(struct t *t, int from, int n, double min)
{
	int i;

	assert_true(t->nseen >= from + n);
	for (i = from + 1; i < from + n; i++)
		assert_true(t->seen[i] - t->seen[i - 1] >= min);
}

/*
 * Six requests queued at once with a 200 ms gap: the caps would let
 * them all run together, the pace spreads them over a second, and the
 * wait is a timer (a busy loop would run many thousand iterations).
 */
static void
test_pace_queue(void **state)
{
	struct t *t = *state;
	unsigned iters = ev_iteration(t->loop);
	double start = ev_time();
	int i;

	t->h.cfg.per_host = 8;
	reconfigure(t);
	for (i = 0; i < 6; i++)
		get_paced(t, "127.0.0.1", 200, &t->res[i]);
	run_until(t, 6);
	for (i = 0; i < 6; i++)
		assert_int_equal(t->res[i].status, 200);
	/* Generous bounds: five gaps of 0.2 s, not a timing benchmark. */
	assert_true(ev_time() - start >= 0.95);
	assert_true(ev_time() - start < 10.0);
	assert_int_equal(t->nseen, 6);
	assert_gaps(t, 0, 6, 0.15);
	assert_int_equal(t->srv.max_open, 1);
	assert_true(ev_iteration(t->loop) - iters < 1000);
}

static void	on_chain(void *, const struct conn_response *,
		    const struct conn_error *);

static void
chain_later_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct t *t = w->data;

	(void)loop;
	(void)revents;
	get_paced_cb(t, "127.0.0.1", t->gap_ms, on_chain, t->next);
}

/* The next request of the chain, 50 ms after this one is done. */
static void
on_chain(void *arg, const struct conn_response *r,
    const struct conn_error *e)
{
	struct result *res = arg;
	struct t *t = res->t;

	on_done(arg, r, e);
	if (t->chain-- <= 0)
		return;
	t->next = res + 1;
	ev_timer_init(&t->later, chain_later_cb, 0.05, 0.0);
	t->later.data = t;
	ev_timer_start(t->loop, &t->later);
}

/*
 * The poller's pattern: the next request starts after the last one is
 * done, so for a while no transfer names the host; the gap must still
 * count from the last start.
 */
static void
test_pace_chain(void **state)
{
	struct t *t = *state;
	int i;

	t->gap_ms = 300;
	t->chain = 3;
	get_paced_cb(t, "127.0.0.1", t->gap_ms, on_chain, &t->res[0]);
	run_until(t, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(t->res[i].status, 200);
	assert_gaps(t, 0, 4, 0.25);
}

/* One host waiting for its gap holds up no other host. */
static void
test_pace_other_hosts(void **state)
{
	struct t *t = *state;
	double last = 0;
	int i, n;

	t->h.cfg.per_host = 8;
	reconfigure(t);
	for (i = 0; i < 4; i++)
		get_paced(t, "127.0.0.1", 400, &t->res[i]);
	get_paced(t, "localhost", 0, &t->res[4]);
	run_until(t, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(t->res[i].status, 200);
	/* Queued last, done long before the paced ones (1.2 s of gaps). */
	assert_true(t->res[4].done_at < t->res[2].done_at);
	assert_true(t->res[3].done_at - t->res[0].done_at >= 1.0);
	for (i = 0, n = 0; i < t->nseen; i++) {
		if (strcmp(t->seen_host[i], "127.0.0.1") != 0)
			continue;
		if (n++ > 0)
			assert_true(t->seen[i] - last >= 0.3);
		last = t->seen[i];
	}
	assert_int_equal(n, 4);
}

/* A gap of 0 paces nothing: the caps alone decide. */
static void
test_pace_none(void **state)
{
	struct t *t = *state;
	int i;

	t->h.cfg.per_host = 8;
	reconfigure(t);
	for (i = 0; i < 6; i++)
		get(t, "/hold", &t->res[i]);
	run_until(t, 6);
	assert_true(t->srv.max_open > 1);
}

#define T(f)	cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_ok_with_headers),
		T(test_not_modified),
		T(test_server_error_is_a_response),
		T(test_redirect_keeps_last_headers),
		T(test_redirect_loop),
		T(test_redirect_to_other_protocols),
		T(test_body_over_cap),
		T(test_body_at_cap),
		T(test_time_out),
		T(test_refused),
		T(test_per_host_cap),
		T(test_global_cap),
		T(test_request_headers_and_body),
		T(test_request_user_agent_wins),
		T(test_gzip_is_decoded),
		T(test_file_urls),
		T(test_cancel),
		T(test_free_with_transfers),
		T(test_start_needs_url),
		T(test_pace_queue),
		T(test_pace_chain),
		T(test_pace_other_hosts),
		T(test_pace_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
