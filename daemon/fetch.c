/* fetch: HTTP(S) transfers on a curl multi handle driven by the libev loop. */
#include "fetch.h"

#include <sys/queue.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <ev.h>

#include "buf.h"
#include "connector.h"
#include "heard.h"
#include "log.h"
#include "xmalloc.h"

/* Response headers kept per response; more are dropped (bounded input). */
#define FETCH_MAX_HEADERS	64
#define FETCH_MAX_HEADER_BYTES	(64 * 1024)

struct fetch_limits {
	long	 timeout;
	long	 connect_timeout;
	long	 max_body;
	long	 max_redirects;
	long	 per_host;
	long	 max_transfers;
	int	 allow_file;
	char	*user_agent;	/* owned or NULL */
	char	*ca_file;	/* owned or NULL: the system's CAs */
};

/*
 * One host's share of the caps. It lives while a transfer names it,
 * and a paced host a little longer: until its gap has passed, or the
 * next transfer of a one-at-a-time chain would start at once.
 */
struct fetch_xfer;
TAILQ_HEAD(fetch_queue, fetch_xfer);

struct fetch_host {
	LIST_ENTRY(fetch_host)	 entry;
	TAILQ_ENTRY(fetch_host)	 wentry;	/* in fetch.busy while it
						   has transfers waiting */
	struct fetch_queue	 waiting;	/* owned, oldest first */
	char			*name;	/* owned; lower case, "" for file:// */
	long			 running;
	long			 refs;	/* transfers queued or running */
	ev_tstamp		 last_start;	/* 0: never paced */
	ev_tstamp		 hold_until;	/* kept unreferenced until */
};

/* The ev_io curl asked for on one of its sockets. */
struct fetch_sock {
	LIST_ENTRY(fetch_sock)	 entry;
	ev_io			 io;	/* io.data: this struct */
	struct fetch		*f;	/* borrowed */
};

/* Where one response header's name and value start in hdr_buf. */
struct fetch_hdr_at {
	size_t	name;
	size_t	value;
};

struct fetch_xfer {
	TAILQ_ENTRY(fetch_xfer)	 entry;
	struct fetch_host	*host;		/* borrowed, counted in refs */
	CURL			*easy;		/* owned; NULL while queued */
	struct curl_slist	*slist;		/* owned: request headers */
	char			*method;	/* owned or NULL: GET */
	char			*url;		/* owned */
	char			*headers[CONN_MAX_HEADERS];	/* owned */
	size_t			 nheaders;
	char			*body;		/* owned or NULL */
	size_t			 body_len;
	ev_tstamp		 gap;		/* seconds after the host's
						   last start; 0 none */
	struct buf		 resp_body;	/* owned; capped at max_body */
	struct buf		 hdr_buf;	/* owned: name\0value\0... */
	struct fetch_hdr_at	 hdr_at[FETCH_MAX_HEADERS];
	size_t			 nhdr;
	int			 too_big;	/* the body cap was hit */
	char			 errbuf[CURL_ERROR_SIZE];
	fetch_done_fn		 done;
	void			*arg;		/* borrowed */
};

/* A caller's own easy handle (fetch_easy_add). */
struct fetch_raw {
	LIST_ENTRY(fetch_raw)	 entry;
	CURL			*easy;		/* borrowed: the caller's */
	fetch_easy_fn		 done;
	void			*arg;		/* borrowed */
	char			 errbuf[CURL_ERROR_SIZE];
};

/*
 * Waiting transfers queue per host, and the hosts with any waiting
 * queue in fetch.busy, so starting the next transfer costs no more
 * than the hosts that are at their cap, not every queued transfer.
 */
struct fetch {
	struct ev_loop		*loop;		/* borrowed */
	CURLM			*multi;		/* owned */
	ev_timer		 timer;		/* curl's one time-out */
	ev_timer		 pace;		/* when a paced transfer may
						   start */
	struct fetch_limits	 lim;
	TAILQ_HEAD(, fetch_host) busy;		/* borrowed: hosts with
						   transfers waiting */
	struct fetch_queue	 running;	/* owned, on the multi */
	long			 nrunning;
	size_t			 nwaiting;
	LIST_HEAD(, fetch_host)	 hosts;		/* owned */
	LIST_HEAD(, fetch_sock)	 socks;		/* owned */
	LIST_HEAD(, fetch_raw)	 raws;		/* owned, on the multi */
};

/*
 * How a failed transfer is reported; anything else is transient.
 * unsent: curl fails so before a byte of the request is out, so a
 * reply that failed so cannot be on the channel (the replier resends).
 */
static const struct {
	CURLcode	 rc;
	enum conn_err	 code;
	const char	*what;
	int		 unsent;
} fetch_errors[] = {
	{ CURLE_OPERATION_TIMEDOUT, CONN_ERR_TRANSIENT, "time-out", 0 },
	{ CURLE_COULDNT_RESOLVE_HOST, CONN_ERR_TRANSIENT, "DNS", 1 },
	{ CURLE_COULDNT_RESOLVE_PROXY, CONN_ERR_TRANSIENT, "DNS", 1 },
	{ CURLE_COULDNT_CONNECT, CONN_ERR_TRANSIENT, "cannot connect", 1 },
	{ CURLE_PEER_FAILED_VERIFICATION, CONN_ERR_TRANSIENT, "TLS", 1 },
	{ CURLE_SSL_CONNECT_ERROR, CONN_ERR_TRANSIENT, "TLS", 1 },
	{ CURLE_SSL_CERTPROBLEM, CONN_ERR_TRANSIENT, "TLS", 1 },
	/* Our CA file, not the source's settings: a reload can fix it. */
	{ CURLE_SSL_CACERT_BADFILE, CONN_ERR_TRANSIENT, "TLS CA file", 1 },
	{ CURLE_TOO_MANY_REDIRECTS, CONN_ERR_TRANSIENT, "redirect loop", 0 },
	{ CURLE_UNSUPPORTED_PROTOCOL, CONN_ERR_CONFIG, "scheme not allowed",
	    0 },
	{ CURLE_URL_MALFORMAT, CONN_ERR_CONFIG, "bad URL", 0 },
	{ CURLE_FILE_COULDNT_READ_FILE, CONN_ERR_NOT_FOUND, "cannot read", 0 },
	{ CURLE_BAD_CONTENT_ENCODING, CONN_ERR_MALFORMED, "bad encoding", 0 },
	{ CURLE_GOT_NOTHING, CONN_ERR_TRANSIENT, "empty reply", 0 },
	{ CURLE_PARTIAL_FILE, CONN_ERR_TRANSIENT, "truncated", 0 },
	{ CURLE_RECV_ERROR, CONN_ERR_TRANSIENT, "receive", 0 },
	{ CURLE_SEND_ERROR, CONN_ERR_TRANSIENT, "send", 0 },
};

static void	fetch_pump(struct fetch *);

static void
fetch_limits_set(struct fetch_limits *l, const struct config *cfg)
{
	free(l->user_agent);
	free(l->ca_file);
	l->timeout = cfg->timeout;
	l->connect_timeout = cfg->connect_timeout;
	l->max_body = cfg->max_body > 0 ? cfg->max_body : 1;
	l->max_redirects = cfg->max_redirects;
	l->per_host = cfg->per_host > 0 ? cfg->per_host : 1;
	l->max_transfers = cfg->max_transfers > 0 ? cfg->max_transfers : 1;
	l->allow_file = cfg->allow_file_urls;
	l->user_agent = cfg->user_agent ? xstrdup(cfg->user_agent) : NULL;
	l->ca_file = cfg->ca_file ? xstrdup(cfg->ca_file) : NULL;
}

/* The host part of url, lower case; "" when it has none (file://). */
static char *
fetch_host_name(const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *name, *p;

	if (u == NULL)
		fatal("curl_url: out of memory");
	if (curl_url_set(u, CURLUPART_URL, url,
	    CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
		host = NULL;
	name = xstrdup(host != NULL ? host : "");
	curl_free(host);
	curl_url_cleanup(u);
	for (p = name; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return name;
}

static void
fetch_host_free(struct fetch_host *fh)
{
	LIST_REMOVE(fh, entry);
	free(fh->name);
	free(fh);
}

/* Paced hosts nobody names any more, once their gap has passed. */
static void
fetch_host_sweep(struct fetch *f)
{
	struct fetch_host *fh, *next;
	ev_tstamp now = ev_now(f->loop);

	for (fh = LIST_FIRST(&f->hosts); fh != NULL; fh = next) {
		next = LIST_NEXT(fh, entry);
		if (fh->refs == 0 && fh->hold_until <= now)
			fetch_host_free(fh);
	}
}

static struct fetch_host *
fetch_host_get(struct fetch *f, const char *url)
{
	struct fetch_host *fh;
	char *name = fetch_host_name(url);

	fetch_host_sweep(f);
	LIST_FOREACH(fh, &f->hosts, entry) {
		if (strcmp(fh->name, name) == 0) {
			free(name);
			fh->refs++;
			return fh;
		}
	}
	fh = xcalloc(1, sizeof(*fh));
	TAILQ_INIT(&fh->waiting);
	fh->name = name;
	fh->refs = 1;
	LIST_INSERT_HEAD(&f->hosts, fh, entry);
	return fh;
}

/* A paced host stays for fetch_host_sweep, so its gap outlives it. */
static void
fetch_host_put(struct fetch_host *fh)
{
	if (--fh->refs > 0 || fh->hold_until > 0)
		return;
	fetch_host_free(fh);
}

/* A queued transfer owning a copy of req, so the caller's may go. */
static struct fetch_xfer *
fetch_xfer_new(const struct conn_request *req)
{
	struct fetch_xfer *x = xcalloc(1, sizeof(*x));
	size_t i;

	x->method = req->method ? xstrdup(req->method) : NULL;
	x->url = xstrdup(req->url);
	for (i = 0; i < req->nheaders && i < CONN_MAX_HEADERS; i++)
		x->headers[x->nheaders++] = xstrdup(req->headers[i]);
	if (req->body != NULL) {
		x->body = xmalloc(req->body_len + 1);
		memcpy(x->body, req->body, req->body_len);
		x->body[req->body_len] = '\0';
		x->body_len = req->body_len;
	}
	x->gap = (ev_tstamp)req->min_gap_ms / 1000.0;
	buf_init(&x->resp_body, 0);	/* capped when it runs */
	buf_init(&x->hdr_buf, FETCH_MAX_HEADER_BYTES);
	return x;
}

static void
fetch_xfer_free(struct fetch_xfer *x)
{
	size_t i;

	if (x->easy != NULL)
		curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->slist);
	for (i = 0; i < x->nheaders; i++)
		free(x->headers[i]);
	free(x->method);
	free(x->url);
	free(x->body);
	buf_free(&x->resp_body);
	buf_free(&x->hdr_buf);
	fetch_host_put(x->host);
	free(x);
}

static void
fetch_enqueue(struct fetch *f, struct fetch_xfer *x)
{
	struct fetch_host *fh = x->host;

	if (TAILQ_EMPTY(&fh->waiting))
		TAILQ_INSERT_TAIL(&f->busy, fh, wentry);
	TAILQ_INSERT_TAIL(&fh->waiting, x, entry);
	f->nwaiting++;
}

static void
fetch_unqueue(struct fetch *f, struct fetch_xfer *x)
{
	struct fetch_host *fh = x->host;

	TAILQ_REMOVE(&fh->waiting, x, entry);
	f->nwaiting--;
	if (TAILQ_EMPTY(&fh->waiting))
		TAILQ_REMOVE(&f->busy, fh, wentry);
}

/* Takes x off whichever list holds it and frees it, calling nobody. */
static void
fetch_drop(struct fetch *f, struct fetch_xfer *x)
{
	if (x->easy != NULL) {
		curl_multi_remove_handle(f->multi, x->easy);
		TAILQ_REMOVE(&f->running, x, entry);
		f->nrunning--;
		x->host->running--;
	} else
		fetch_unqueue(f, x);
	fetch_xfer_free(x);
}

/* Refusing bytes past the cap makes curl abort with CURLE_WRITE_ERROR. */
static size_t
fetch_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;

	if (buf_append(&x->resp_body, p, size * n) == -1) {
		x->too_big = 1;
		return 0;
	}
	return size * n;
}

static size_t
fetch_trim(const char *s, size_t len)
{
	while (len > 0 && (s[len - 1] == '\r' || s[len - 1] == '\n' ||
	    s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return len;
}

/* Keeps "Name: value" of the last response only (not of redirects). */
static size_t
fetch_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct fetch_xfer *x = arg;
	size_t len = size * n, nlen, vlen;
	const char *colon, *v;

	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		x->nhdr = 0;
		buf_reset(&x->hdr_buf);
		return len;
	}
	colon = memchr(p, ':', len);
	/* No name, or an obsolete folded line: dropped. */
	if (colon == NULL || colon == p || p[0] == ' ' || p[0] == '\t' ||
	    x->nhdr == FETCH_MAX_HEADERS)
		return len;
	nlen = fetch_trim(p, (size_t)(colon - p));
	for (v = colon + 1; v < p + len && (*v == ' ' || *v == '\t'); v++)
		;
	vlen = fetch_trim(v, (size_t)(p + len - v));
	if (x->hdr_buf.len + nlen + vlen + 2 > FETCH_MAX_HEADER_BYTES)
		return len;
	x->hdr_at[x->nhdr].name = x->hdr_buf.len;
	buf_append(&x->hdr_buf, p, nlen);
	buf_append(&x->hdr_buf, "", 1);
	x->hdr_at[x->nhdr].value = x->hdr_buf.len;
	buf_append(&x->hdr_buf, v, vlen);
	buf_append(&x->hdr_buf, "", 1);
	x->nhdr++;
	return len;
}

static struct curl_slist *
fetch_slist_add(struct curl_slist *l, const char *s)
{
	struct curl_slist *n = curl_slist_append(l, s);

	if (n == NULL)
		fatal("curl_slist_append: out of memory");
	return n;
}

/* What every transfer gets, whatever the connector asked for. */
static int
fetch_easy_limits(const struct fetch_limits *l, struct fetch_xfer *x)
{
	CURL *e = x->easy;
	int rc = 0;

	rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	rc |= curl_easy_setopt(e, CURLOPT_URL, x->url);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT, l->timeout);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, l->connect_timeout);
	rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, l->max_redirects);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (l->ca_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, l->ca_file);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	    l->allow_file ? "http,https,file" : "http,https");
	/* A server may never send us to a file, whatever the config. */
	rc |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)l->max_body);
	rc |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	return rc;
}

static int
fetch_easy_io(struct fetch_xfer *x)
{
	CURL *e = x->easy;
	int rc = 0;

	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, fetch_write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, fetch_header_cb);
	rc |= curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	return rc;
}

/* The method, where curl would not pick it from the body alone. */
static int
fetch_easy_method(struct fetch_xfer *x)
{
	const char *m = x->method;

	if (m == NULL || (strcmp(m, "GET") == 0 && x->body == NULL) ||
	    (strcmp(m, "POST") == 0 && x->body != NULL))
		return 0;
	if (strcmp(m, "HEAD") == 0)
		return curl_easy_setopt(x->easy, CURLOPT_NOBODY, 1L);
	return curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, m);
}

/* Method, headers and body from the connector's request. */
static int
fetch_easy_request(const struct fetch_limits *l, struct fetch_xfer *x)
{
	CURL *e = x->easy;
	int rc = 0, has_ua = 0;
	size_t i;

	for (i = 0; i < x->nheaders; i++) {
		x->slist = fetch_slist_add(x->slist, x->headers[i]);
		if (strncasecmp(x->headers[i], "User-Agent:", 11) == 0)
			has_ua = 1;
	}
	if (x->body != NULL) {
		/* APIs answer at once: skip the 100-continue round trip. */
		x->slist = fetch_slist_add(x->slist, "Expect:");
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)x->body_len);
		rc |= curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
	}
	rc |= fetch_easy_method(x);
	if (!has_ua && l->user_agent != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, l->user_agent);
	if (x->slist != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->slist);
	return rc;
}

/* Moves x from the queue onto the multi handle; curl starts it later. */
static void
fetch_run(struct fetch *f, struct fetch_xfer *x, ev_tstamp now)
{
	CURLMcode mc;

	if ((x->easy = curl_easy_init()) == NULL)
		fatal("curl_easy_init failed");
	x->resp_body.max = (size_t)f->lim.max_body;
	if (fetch_easy_limits(&f->lim, x) != 0 || fetch_easy_io(x) != 0 ||
	    fetch_easy_request(&f->lim, x) != 0)
		fatal("this libcurl lacks an option heard needs");
	if ((mc = curl_multi_add_handle(f->multi, x->easy)) != CURLM_OK)
		fatal("curl_multi_add_handle: %s", curl_multi_strerror(mc));
	TAILQ_INSERT_TAIL(&f->running, x, entry);
	f->nrunning++;
	x->host->running++;
	x->host->last_start = now;
	if (x->gap > 0 && now + x->gap > x->host->hold_until)
		x->host->hold_until = now + x->gap;
}

/*
 * When x may start by its host's pace: now or later. A gap counts
 * from the last start, so a chain of one request at a time is paced
 * as well as a queue of many.
 */
static ev_tstamp
fetch_paced_at(const struct fetch_xfer *x)
{
	if (x->gap <= 0 || x->host->last_start == 0)
		return 0;
	return x->host->last_start + x->gap;
}

/* Wakes the pump when the first paced transfer may start; else not. */
static void
fetch_pace_arm(struct fetch *f, ev_tstamp wake, ev_tstamp now)
{
	ev_timer_stop(f->loop, &f->pace);
	if (wake == 0)
		return;
	/* Never a 0 s timer: a clock that lags would spin the loop. */
	ev_timer_set(&f->pace, wake - now > 0.001 ? wake - now : 0.001, 0.0);
	ev_timer_start(f->loop, &f->pace);
}

/*
 * Starts one host's queued transfers, oldest first, while the caps
 * allow; returns when its head may start by its pace (0: not paced).
 */
static ev_tstamp
fetch_pump_host(struct fetch *f, struct fetch_host *fh, ev_tstamp now)
{
	struct fetch_xfer *x;
	ev_tstamp at;

	while ((x = TAILQ_FIRST(&fh->waiting)) != NULL &&
	    fh->running < f->lim.per_host &&
	    f->nrunning < f->lim.max_transfers) {
		if ((at = fetch_paced_at(x)) > now)
			return at;
		fetch_unqueue(f, x);
		fetch_run(f, x, now);
	}
	return 0;
}

/*
 * Starts queued transfers host by host while the caps allow. A host
 * whose gap has not passed waits for the pace timer and holds up no
 * other host.
 */
static void
fetch_pump(struct fetch *f)
{
	struct fetch_host *fh, *next;
	ev_tstamp now, at, wake = 0;

	ev_now_update(f->loop);
	now = ev_now(f->loop);
	for (fh = TAILQ_FIRST(&f->busy); fh != NULL &&
	    f->nrunning < f->lim.max_transfers; fh = next) {
		next = TAILQ_NEXT(fh, wentry);	/* fh may leave busy */
		if ((at = fetch_pump_host(f, fh, now)) > 0 &&
		    (wake == 0 || at < wake))
			wake = at;
	}
	fetch_pace_arm(f, wake, now);
}

static void
fetch_pace_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	fetch_pump(w->data);
}

static long
fetch_redirects(struct fetch_xfer *x)
{
	long n = 0;

	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &n);
	return n;
}

static void
fetch_respond(struct fetch_xfer *x)
{
	struct conn_header hdrs[FETCH_MAX_HEADERS];
	struct conn_response r;
	char *eff = NULL;
	size_t i;

	memset(&r, 0, sizeof(r));
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &r.status);
	/* file:// has no status line: curl succeeding is the 200. */
	if (r.status == 0)
		r.status = 200;
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	for (i = 0; i < x->nhdr; i++) {
		hdrs[i].name = x->hdr_buf.data + x->hdr_at[i].name;
		hdrs[i].value = x->hdr_buf.data + x->hdr_at[i].value;
	}
	r.body = x->resp_body.data != NULL ? x->resp_body.data : "";
	r.body_len = x->resp_body.len;
	r.headers = hdrs;
	r.nheaders = x->nhdr;
	r.effective_url = eff != NULL ? eff : x->url;
	r.redirected = fetch_redirects(x) > 0;
	x->done(x->arg, &r, NULL);
}

/* Fills e with the kind of failure rc is and a one-line reason. */
static void
fetch_classify(struct fetch_xfer *x, CURLcode rc, struct conn_error *e)
{
	enum conn_err code = CONN_ERR_TRANSIENT;
	const char *what = "transfer";
	int unsent = 0;
	size_t i;

	for (i = 0; i < sizeof(fetch_errors) / sizeof(fetch_errors[0]); i++) {
		if (fetch_errors[i].rc == rc) {
			code = fetch_errors[i].code;
			what = fetch_errors[i].what;
			unsent = fetch_errors[i].unsent;
			break;
		}
	}
	/* The server sent us there, not the source's settings: no pause. */
	if (code == CONN_ERR_CONFIG && fetch_redirects(x) > 0) {
		code = CONN_ERR_TRANSIENT;
		what = "redirect refused";
	}
	conn_fail(e, code, "%s: %s", what,
	    x->errbuf[0] != '\0' ? x->errbuf : curl_easy_strerror(rc));
	/* After a redirect the first request did go out. */
	e->unsent = unsent && fetch_redirects(x) == 0;
}

static void
fetch_fail(struct fetch_xfer *x, CURLcode rc)
{
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	if (x->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		conn_fail(&e, CONN_ERR_MALFORMED, "body larger than %zu bytes",
		    x->resp_body.max);
	else
		fetch_classify(x, rc, &e);
	x->done(x->arg, NULL, &e);
}

/* x is off every list before its callback, so it may start or cancel. */
static void
fetch_finish(struct fetch *f, struct fetch_xfer *x, CURLcode rc)
{
	curl_multi_remove_handle(f->multi, x->easy);
	TAILQ_REMOVE(&f->running, x, entry);
	f->nrunning--;
	x->host->running--;
	if (rc == CURLE_OK)
		fetch_respond(x);
	else
		fetch_fail(x, rc);
	fetch_xfer_free(x);
}

static struct fetch_raw *
fetch_raw_find(struct fetch *f, CURL *easy)
{
	struct fetch_raw *r;

	LIST_FOREACH(r, &f->raws, entry)
		if (r->easy == easy)
			return r;
	return NULL;
}

/* Off the multi and freed before the callback, which may re-add it. */
static void
fetch_raw_finish(struct fetch *f, struct fetch_raw *r, CURLcode rc)
{
	char error[CURL_ERROR_SIZE];
	fetch_easy_fn done = r->done;
	void *arg = r->arg;

	snprintf(error, sizeof(error), "%s", rc == CURLE_OK ? "" :
	    r->errbuf[0] != '\0' ? r->errbuf : curl_easy_strerror(rc));
	fetch_easy_remove(f, r->easy);
	done(arg, (int)rc, error);
}

/* Hands finished transfers to their callbacks, then fills free slots. */
static void
fetch_reap(struct fetch *f)
{
	struct fetch_raw *r;
	CURLMsg *m;
	CURLcode rc;
	char *priv;
	int left;

	while ((m = curl_multi_info_read(f->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE)
			continue;
		rc = m->data.result;
		if ((r = fetch_raw_find(f, m->easy_handle)) != NULL) {
			fetch_raw_finish(f, r, rc);
			continue;
		}
		priv = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
		fetch_finish(f, (struct fetch_xfer *)(void *)priv, rc);
	}
	fetch_pump(f);
}

static void
fetch_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct fetch_sock *fs = w->data;
	struct fetch *f = fs->f;
	int fd = w->fd, flags = 0, running;

	(void)loop;
	if (revents & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (revents & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	/* fs may be freed in here (CURL_POLL_REMOVE): use the copies. */
	curl_multi_socket_action(f->multi, fd, flags, &running);
	fetch_reap(f);
}

static void
fetch_sock_free(struct fetch *f, struct fetch_sock *fs)
{
	ev_io_stop(f->loop, &fs->io);
	LIST_REMOVE(fs, entry);
	free(fs);
}

/* CURLMOPT_SOCKETFUNCTION: one ev_io per socket, watching what curl asks. */
static int
fetch_socket_cb(CURL *easy, curl_socket_t s, int what, void *userp,
    void *sockp)
{
	struct fetch *f = userp;
	struct fetch_sock *fs = sockp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (fs != NULL)
			fetch_sock_free(f, fs);
		return 0;
	}
	if (fs == NULL) {
		fs = xcalloc(1, sizeof(*fs));
		fs->f = f;
		ev_init(&fs->io, fetch_io_cb);
		fs->io.data = fs;
		LIST_INSERT_HEAD(&f->socks, fs, entry);
		curl_multi_assign(f->multi, s, fs);
	}
	events |= (what & CURL_POLL_IN) ? EV_READ : 0;
	events |= (what & CURL_POLL_OUT) ? EV_WRITE : 0;
	ev_io_stop(f->loop, &fs->io);
	ev_io_set(&fs->io, s, events);
	if (events != 0)
		ev_io_start(f->loop, &fs->io);
	return 0;
}

static void
fetch_timer_fire(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct fetch *f = w->data;
	int running;

	(void)loop;
	(void)revents;
	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	fetch_reap(f);
}

/*
 * CURLMOPT_TIMERFUNCTION. A 0 ms time-out becomes a 0 s timer that
 * fires on the next loop iteration: calling curl back from here would
 * re-enter it, and would make fetch_start complete synchronously.
 */
static int
fetch_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;

	(void)multi;
	ev_timer_stop(f->loop, &f->timer);
	if (timeout_ms >= 0) {
		ev_timer_set(&f->timer, (double)timeout_ms / 1000.0, 0.0);
		ev_timer_start(f->loop, &f->timer);
	}
	return 0;
}

struct fetch *
fetch_new(struct heard *h)
{
	struct fetch *f = xcalloc(1, sizeof(*f));
	int rc = 0;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (f->multi = curl_multi_init()) == NULL)
		fatal("cannot initialise libcurl");
	f->loop = h->loop;
	ev_init(&f->timer, fetch_timer_fire);
	f->timer.data = f;
	ev_init(&f->pace, fetch_pace_fire);
	f->pace.data = f;
	TAILQ_INIT(&f->busy);
	TAILQ_INIT(&f->running);
	LIST_INIT(&f->hosts);
	LIST_INIT(&f->socks);
	LIST_INIT(&f->raws);
	fetch_limits_set(&f->lim, &h->cfg);
	rc |= curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION,
	    fetch_socket_cb);
	rc |= curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	rc |= curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION,
	    fetch_timer_cb);
	rc |= curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	if (rc != 0)
		fatal("cannot set up the curl multi handle");
	return f;
}

void
fetch_free(struct fetch *f)
{
	struct fetch_sock *fs;
	struct fetch_host *fh;

	if (f == NULL)
		return;
	while (!TAILQ_EMPTY(&f->running))
		fetch_drop(f, TAILQ_FIRST(&f->running));
	while (!TAILQ_EMPTY(&f->busy))
		fetch_drop(f, TAILQ_FIRST(&TAILQ_FIRST(&f->busy)->waiting));
	while (!LIST_EMPTY(&f->raws))
		fetch_easy_remove(f, LIST_FIRST(&f->raws)->easy);
	curl_multi_cleanup(f->multi);
	while ((fs = LIST_FIRST(&f->socks)) != NULL)
		fetch_sock_free(f, fs);
	ev_timer_stop(f->loop, &f->timer);
	ev_timer_stop(f->loop, &f->pace);
	/* Paced hosts outlive their transfers. */
	while ((fh = LIST_FIRST(&f->hosts)) != NULL)
		fetch_host_free(fh);
	free(f->lim.user_agent);
	free(f->lim.ca_file);
	free(f);
	curl_global_cleanup();
}

void
fetch_reconfigure(struct fetch *f, const struct config *cfg)
{
	fetch_limits_set(&f->lim, cfg);
	/* Larger caps may let queued transfers start now. */
	fetch_pump(f);
}

int
fetch_start(struct fetch *f, const struct conn_request *req,
    fetch_done_fn done, void *arg)
{
	struct fetch_xfer *x;

	if (req == NULL || req->url == NULL || done == NULL)
		return -1;
	x = fetch_xfer_new(req);
	x->done = done;
	x->arg = arg;
	x->host = fetch_host_get(f, x->url);
	fetch_enqueue(f, x);
	fetch_pump(f);
	return 0;
}

/* Removes the matching transfers of one list. */
static size_t
fetch_cancel_in(struct fetch *f, struct fetch_queue *q, void *arg)
{
	struct fetch_xfer *x, *next;
	size_t n = 0;

	for (x = TAILQ_FIRST(q); x != NULL; x = next) {
		next = TAILQ_NEXT(x, entry);
		if (x->arg != arg)
			continue;
		fetch_drop(f, x);
		n++;
	}
	return n;
}

size_t
fetch_cancel(struct fetch *f, void *arg)
{
	struct fetch_host *fh, *next;
	size_t n;

	n = fetch_cancel_in(f, &f->running, arg);
	for (fh = TAILQ_FIRST(&f->busy); fh != NULL; fh = next) {
		next = TAILQ_NEXT(fh, wentry);	/* fh may leave busy */
		n += fetch_cancel_in(f, &fh->waiting, arg);
	}
	if (n > 0)
		fetch_pump(f);
	return n;
}

size_t
fetch_pending(const struct fetch *f)
{
	return (size_t)f->nrunning + f->nwaiting;
}

int
fetch_easy_add(struct fetch *f, void *curl_easy, fetch_easy_fn done,
    void *arg)
{
	struct fetch_raw *r;

	if (curl_easy == NULL || done == NULL)
		return -1;
	r = xcalloc(1, sizeof(*r));
	r->easy = curl_easy;
	r->done = done;
	r->arg = arg;
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, (char *)r);
	/* Added after the list, since adding may call the socket callback. */
	LIST_INSERT_HEAD(&f->raws, r, entry);
	if (curl_multi_add_handle(f->multi, r->easy) != CURLM_OK) {
		LIST_REMOVE(r, entry);
		free(r);
		return -1;
	}
	return 0;
}

int
fetch_easy_remove(struct fetch *f, void *curl_easy)
{
	struct fetch_raw *r = fetch_raw_find(f, curl_easy);

	if (r == NULL)
		return 0;
	curl_multi_remove_handle(f->multi, r->easy);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, NULL);
	LIST_REMOVE(r, entry);
	free(r);
	return 1;
}
