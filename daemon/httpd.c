/* httpd: the web inbox, the JSON API, /healthz and /metrics on the loop. */
#include "httpd.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <ev.h>
#include <jansson.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "api.h"
#include "api_auth.h"
#include "buf.h"
#include "context.h"
#include "heard.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "store.h"
#include "xmalloc.h"

/* No inline script or style, nothing from elsewhere, never framed. */
#define HTTPD_CSP	"default-src 'self'; frame-ancestors 'none'; " \
			"object-src 'none'; base-uri 'none'"
#define HTTPD_JSON	"application/json; charset=utf-8"
/* Idle connections are closed after this many seconds. */
#define HTTPD_IDLE	30
#define HTTPD_CONNS	512
/* Header bytes a connection may hold (MHD's buffer per connection). */
#define HTTPD_CONN_MEM	(64 * 1024)
#define HTTPD_METRICS_MAX	(1024 * 1024)

struct httpd {
	struct heard		*h;		/* borrowed */
	struct MHD_Daemon	*mhd;		/* owned */
	ev_io			 io;		/* MHD's epoll fd */
	ev_timer		 timer;		/* MHD's next time-out */
	char			*root;	/* owned; realpath of the web root */
	struct ratelimit	 logins;	/* failed log-ins */
};

/* One request while it arrives; freed when MHD says it is done. */
struct httpd_req {
	struct httpd	*hd;		/* borrowed */
	struct buf	 body;		/* up to [http] max_body */
	int		 too_large;
	int		 status;	/* as answered, for the log */
	ev_tstamp	 start;
	char		 addr[INET6_ADDRSTRLEN];
	char		 method[16];
	char		*path;		/* owned; for the log */
};

/* Trivial, but it reads the file, so a store that cannot be read shows. */
static const char httpd_sql_health[] = "SELECT count(*) FROM"
    " (SELECT 1 FROM sources LIMIT 1)";

static const struct {
	const char	*ext;
	const char	*type;
} httpd_types[] = {
	{ "html", "text/html; charset=utf-8" },
	{ "js", "text/javascript; charset=utf-8" },
	{ "mjs", "text/javascript; charset=utf-8" },
	{ "css", "text/css; charset=utf-8" },
	{ "svg", "image/svg+xml" },
	{ "png", "image/png" },
	{ "jpg", "image/jpeg" },
	{ "ico", "image/x-icon" },
	{ "json", "application/json; charset=utf-8" },
	{ "webmanifest", "application/manifest+json" },
	{ "txt", "text/plain; charset=utf-8" },
	{ "woff2", "font/woff2" },
	{ "map", "application/json; charset=utf-8" },
	{ NULL, NULL },
};

static void
httpd_arm(struct httpd *hd)
{
	MHD_UNSIGNED_LONG_LONG ms;

	ev_timer_stop(hd->h->loop, &hd->timer);
	if (MHD_get_timeout(hd->mhd, &ms) != MHD_YES)
		return;
	/* A 0 ms time-out is a 0-second timer: never a re-entrant run. */
	ev_timer_set(&hd->timer, (ev_tstamp)ms / 1000.0, 0.);
	ev_timer_start(hd->h->loop, &hd->timer);
}

static void
httpd_io_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct httpd *hd = w->data;

	(void)loop;
	(void)revents;
	MHD_run(hd->mhd);
	httpd_arm(hd);
}

static void
httpd_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct httpd *hd = w->data;

	(void)loop;
	(void)revents;
	MHD_run(hd->mhd);
	httpd_arm(hd);
}

/* Headers every answer carries. */
static void
httpd_secure(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", HTTPD_CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

static enum MHD_Result
httpd_queue(struct httpd_req *rq, struct MHD_Connection *c, int status,
    struct MHD_Response *r)
{
	enum MHD_Result rc;

	if (r == NULL)
		return MHD_NO;
	httpd_secure(r);
	rq->status = status;
	rc = MHD_queue_response(c, (unsigned int)status, r);
	MHD_destroy_response(r);
	return rc;
}

/* A copy of text as the body; type its Content-Type. */
static struct MHD_Response *
httpd_text(const char *text, size_t len, const char *type)
{
	struct MHD_Response *r;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)text,
	    MHD_RESPMEM_MUST_COPY);
	if (r != NULL && type != NULL)
		MHD_add_response_header(r, "Content-Type", type);
	return r;
}

/* body (taken) as JSON, or no body; never cached. */
static struct MHD_Response *
httpd_json(json_t *body)
{
	struct MHD_Response *r;
	char *text = NULL;

	if (body != NULL)
		text = json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(body);
	r = httpd_text(text != NULL ? text : "", text != NULL ?
	    strlen(text) : 0, text != NULL ? HTTPD_JSON : NULL);
	free(text);
	if (r != NULL)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return r;
}

static enum MHD_Result
httpd_error(struct httpd_req *rq, struct MHD_Connection *c, int status,
    const char *code, const char *detail, const char *allow)
{
	struct MHD_Response *r;

	r = httpd_json(json_pack("{s:s, s:s}", "error", code, "detail",
	    detail));
	if (r != NULL && allow != NULL)
		MHD_add_response_header(r, "Allow", allow);
	return httpd_queue(rq, c, status, r);
}

static enum MHD_Result
httpd_healthz(struct httpd_req *rq, struct MHD_Connection *c)
{
	sqlite3_stmt *q;
	int ok = 0;

	if ((q = store_stmt(rq->hd->h->store, httpd_sql_health)) != NULL) {
		ok = sqlite3_step(q) == SQLITE_ROW;
		sqlite3_reset(q);
	}
	if (!ok)
		return httpd_queue(rq, c, 503, httpd_json(json_pack(
		    "{s:s, s:s, s:s}", "status", "unavailable", "error",
		    "internal", "detail", "the store does not answer")));
	return httpd_queue(rq, c, 200, httpd_json(json_pack("{s:s}",
	    "status", "ok")));
}

static enum MHD_Result
httpd_metrics(struct httpd_req *rq, struct MHD_Connection *c)
{
	struct heard *h = rq->hd->h;
	struct MHD_Response *r;
	struct buf out;

	buf_init(&out, HTTPD_METRICS_MAX);
	if (metrics_render(&h->metrics, h->store, &out) == -1) {
		buf_free(&out);
		log_warnx("http: /metrics: cannot read the store: %s",
		    store_errmsg(h->store));
		return httpd_error(rq, c, 500, "internal", "the store does "
		    "not answer", NULL);
	}
	r = httpd_text(out.data, out.len, "text/plain; version=0.0.4; "
	    "charset=utf-8");
	buf_free(&out);
	if (r != NULL)
		MHD_add_response_header(r, "Cache-Control", "no-store");
	return httpd_queue(rq, c, 200, r);
}

static const char *
httpd_query(const struct api_req *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    key);
}

static const char *
httpd_header(const struct api_req *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

/* The media type is application/json, whatever its parameters. */
static int
httpd_is_json(const char *ctype)
{
	size_t n = strlen("application/json");

	if (ctype == NULL)
		return 0;
	while (*ctype == ' ')
		ctype++;
	return strncasecmp(ctype, "application/json", n) == 0 &&
	    (ctype[n] == '\0' || ctype[n] == ';' || ctype[n] == ' ');
}

/*
 * The body as a JSON object in *out (NULL when there is none); else
 * the 4xx answer is queued and -1 returned (*rc says how it went).
 */
static int
httpd_body(struct httpd_req *rq, struct MHD_Connection *c, json_t **out,
    enum MHD_Result *rc)
{
	const char *ctype;
	json_error_t e;
	char detail[256];

	*out = NULL;
	if (rq->body.len == 0)
		return 0;
	ctype = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_TYPE);
	if (!httpd_is_json(ctype)) {
		*rc = httpd_error(rq, c, 415, "unsupported_media_type",
		    "a body must be JSON (Content-Type: application/json)",
		    NULL);
		return -1;
	}
	*out = json_loadb(rq->body.data, rq->body.len, JSON_REJECT_DUPLICATES,
	    &e);
	if (*out == NULL) {
		snprintf(detail, sizeof(detail), "malformed JSON at line %d, "
		    "column %d: %s", e.line, e.column, e.text);
		*rc = httpd_error(rq, c, 400, "bad_request", detail, NULL);
		return -1;
	}
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		*rc = httpd_error(rq, c, 400, "bad_request", "the body must "
		    "be a JSON object", NULL);
		return -1;
	}
	return 0;
}

static void
httpd_cred(struct MHD_Connection *c, struct api_cred *cred)
{
	cred->cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND,
	    "heard_session");
	cred->authorization = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	cred->csrf = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "X-CSRF-Token");
}

/* The handler's answer, with what it asked for in headers. */
static enum MHD_Result
httpd_api_send(struct httpd_req *rq, struct MHD_Connection *c,
    struct api_resp *resp)
{
	struct MHD_Response *r;
	char n[32];
	int status = resp->status;

	if (resp->text != NULL) {
		json_decref(resp->body);
		resp->body = NULL;
		r = httpd_text(resp->text, strlen(resp->text),
		    "text/plain; charset=utf-8");
		if (r != NULL)
			MHD_add_response_header(r, "Cache-Control",
			    "no-store");
		free(resp->text);
		resp->text = NULL;
	} else
		r = httpd_json(status == 204 ? NULL : resp->body);
	if (status == 204)
		json_decref(resp->body);
	resp->body = NULL;
	if (r != NULL && resp->set_cookie != NULL)
		MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE,
		    resp->set_cookie);
	if (r != NULL && resp->retry_after > 0) {
		snprintf(n, sizeof(n), "%ld", resp->retry_after);
		MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, n);
	}
	free(resp->set_cookie);
	resp->set_cookie = NULL;
	return httpd_queue(rq, c, status, r);
}

/* Says who calls, then runs the route's handler. */
static enum MHD_Result
httpd_api_run(struct httpd_req *rq, struct MHD_Connection *c,
    const struct api_match *m, json_t *body)
{
	struct api_req req;
	struct api_resp resp;
	struct api_cred cred;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.h = rq->hd->h;
	req.method = rq->method;
	req.path = rq->path;
	memcpy(req.params, m->params, sizeof(req.params));
	req.nparams = m->nparams;
	req.body = body;
	req.client_addr = rq->addr;
	req.now = (int64_t)time(NULL);
	req.query = httpd_query;
	req.header = httpd_header;
	req.conn = c;
	if (m->route->auth == API_HOOK) {
		req.raw = rq->body.data != NULL ? rq->body.data : "";
		req.raw_len = rq->body.len;
	}
	httpd_cred(c, &cred);
	/* A webhook proves itself by its body's signature, not a session. */
	if ((m->route->auth == API_HOOK || api_auth_caller(&req, &resp,
	    m->route, &cred) == 0) && m->route->handle(&req, &resp) == -1) {
		log_warnx("http: %s %s: the handler failed", rq->method,
		    rq->path);
		api_error(&resp, 500, "internal", "something went wrong on "
		    "our side; it is in the log");
	}
	if (resp.status == 0)
		api_error(&resp, 500, "internal", "no answer was made");
	return httpd_api_send(rq, c, &resp);
}

static enum MHD_Result
httpd_api(struct httpd_req *rq, struct MHD_Connection *c)
{
	struct api_match *m = xmalloc(sizeof(*m));
	enum MHD_Result rc;
	json_t *body;
	char detail[256];
	int found = api_route_find(rq->method, rq->path, m);

	if (found == -1) {
		snprintf(detail, sizeof(detail), "no route %.16s %.80s",
		    rq->method, rq->path);
		rc = httpd_error(rq, c, 404, "not_found", detail, NULL);
	} else if (found == 0) {
		snprintf(detail, sizeof(detail), "%.80s takes %s", rq->path,
		    m->allow);
		rc = httpd_error(rq, c, 405, "method_not_allowed", detail,
		    m->allow);
	} else if (rq->too_large) {
		snprintf(detail, sizeof(detail), "the body is over %ld bytes",
		    rq->hd->h->cfg.http_max_body);
		rc = httpd_error(rq, c, 413, "too_large", detail, NULL);
	} else if (m->route->auth == API_HOOK)
		rc = httpd_api_run(rq, c, m, NULL);
	else if (httpd_body(rq, c, &body, &rc) == 0) {
		rc = httpd_api_run(rq, c, m, body);
		json_decref(body);
	}
	free(m);
	return rc;
}

static const char *
httpd_type(const char *path)
{
	const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
	size_t i;

	if (dot == NULL || (slash != NULL && dot < slash))
		return "application/octet-stream";
	for (i = 0; httpd_types[i].ext != NULL; i++)
		if (strcasecmp(dot + 1, httpd_types[i].ext) == 0)
			return httpd_types[i].type;
	return "application/octet-stream";
}

/* No ".." or "." segment, no hidden file, no empty segment inside. */
static int
httpd_path_ok(const char *path)
{
	const char *p = path;
	size_t n;

	if (*p != '/' || strlen(p) > 512)
		return 0;
	while (*p == '/') {
		p++;
		n = strcspn(p, "/");
		if (n == 0 && p[0] == '/')
			return 0;
		if (n > 0 && p[0] == '.')
			return 0;
		if (memchr(p, '\\', n) != NULL)
			return 0;
		p += n;
	}
	return *p == '\0';
}

/*
 * An open regular file for the request path inside the web root; a
 * directory gives its index.html. -1 when there is none to serve
 * (missing, outside the root through a symlink, not a regular file).
 */
static int
httpd_open(struct httpd *hd, const char *path, struct stat *st,
    char real[PATH_MAX])
{
	char *want;
	size_t rl = strlen(hd->root);
	int fd;

	want = xasprintf("%s%s%s", hd->root, path, path[strlen(path) - 1] ==
	    '/' ? "index.html" : "");
	if (realpath(want, real) == NULL) {
		free(want);
		return -1;
	}
	free(want);
	/* Symlinks are followed only where they stay inside the root. */
	if (strncmp(real, hd->root, rl) != 0 || real[rl] != '/')
		return -1;
	if ((fd = open(real, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return -1;
	if (fstat(fd, st) == -1 || !S_ISREG(st->st_mode)) {
		close(fd);
		return -1;
	}
	return fd;
}

static enum MHD_Result
httpd_static(struct httpd_req *rq, struct MHD_Connection *c)
{
	struct MHD_Response *r;
	struct stat st;
	char real[PATH_MAX];
	int fd = -1;

	if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0)
		return httpd_error(rq, c, 405, "method_not_allowed", "the web "
		    "inbox's files take GET and HEAD", "GET, HEAD");
	if (httpd_path_ok(rq->path))
		fd = httpd_open(rq->hd, rq->path, &st, real);
	if (fd == -1) {
		static const char nf[] = "not found\n";

		return httpd_queue(rq, c, 404, httpd_text(nf, sizeof(nf) - 1,
		    "text/plain; charset=utf-8"));
	}
	/* MHD owns the descriptor from here. */
	if ((r = MHD_create_response_from_fd((uint64_t)st.st_size, fd)) ==
	    NULL) {
		close(fd);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", httpd_type(real));
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	return httpd_queue(rq, c, 200, r);
}

static enum MHD_Result
httpd_route(struct httpd_req *rq, struct MHD_Connection *c)
{
	int get = strcmp(rq->method, "GET") == 0 ||
	    strcmp(rq->method, "HEAD") == 0;

	if (strcmp(rq->path, "/healthz") == 0 ||
	    strcmp(rq->path, "/metrics") == 0) {
		if (!get)
			return httpd_error(rq, c, 405, "method_not_allowed",
			    "this takes GET and HEAD", "GET, HEAD");
		return rq->path[1] == 'h' ? httpd_healthz(rq, c) :
		    httpd_metrics(rq, c);
	}
	if (strncmp(rq->path, "/api/", 5) == 0 ||
	    strcmp(rq->path, "/api") == 0)
		return httpd_api(rq, c);
	return httpd_static(rq, c);
}

static void
httpd_addr(struct MHD_Connection *c, char out[INET6_ADDRSTRLEN])
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	strcpy(out, "?");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)
		    sa)->sin_addr, out, INET6_ADDRSTRLEN);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, out, INET6_ADDRSTRLEN);
}

static struct httpd_req *
httpd_req_new(struct httpd *hd, struct MHD_Connection *c, const char *url,
    const char *method)
{
	struct httpd_req *rq = xcalloc(1, sizeof(*rq));
	const char *len;
	char *end;
	unsigned long long n;

	rq->hd = hd;
	rq->start = ev_time();
	buf_init(&rq->body, (size_t)hd->h->cfg.http_max_body);
	snprintf(rq->method, sizeof(rq->method), "%s", method);
	rq->path = xstrdup(url);
	httpd_addr(c, rq->addr);
	len = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_CONTENT_LENGTH);
	if (len != NULL) {
		n = strtoull(len, &end, 10);
		if (n > (unsigned long long)hd->h->cfg.http_max_body)
			rq->too_large = 1;
	}
	return rq;
}

static enum MHD_Result
httpd_access(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct httpd_req *rq = *con_cls;
	char detail[96];

	(void)version;
	if (rq == NULL) {
		*con_cls = rq = httpd_req_new(cls, c, url, method);
		/* Declared too large: answered before the body is sent. */
		if (!rq->too_large)
			return MHD_YES;
		snprintf(detail, sizeof(detail), "the body is over %ld "
		    "bytes", rq->hd->h->cfg.http_max_body);
		return httpd_error(rq, c, 413, "too_large", detail, NULL);
	}
	if (*upload_size > 0) {
		if (!rq->too_large && buf_append(&rq->body, upload,
		    *upload_size) == -1)
			rq->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	return httpd_route(rq, c);
}

static void
httpd_completed(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct httpd_req *rq = *con_cls;
	struct httpd *hd = cls;
	double secs;

	(void)c;
	if (rq == NULL)
		return;
	*con_cls = NULL;
	secs = ev_time() - rq->start;
	if (rq->status != 0) {
		metrics_http(&hd->h->metrics, rq->status, secs);
		if (rq->status >= 500)
			log_warnx("http: %s %s %s %d %.1fms", rq->addr,
			    rq->method, rq->path, rq->status, secs * 1000);
		else
			log_debug("http: %s %s %s %d %.1fms", rq->addr,
			    rq->method, rq->path, rq->status, secs * 1000);
	} else if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
		log_debug("http: %s %s %s: closed unanswered (%d)", rq->addr,
		    rq->method, rq->path, (int)toe);
	buf_free(&rq->body);
	free(rq->path);
	free(rq);
}

static void
httpd_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[256];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	while (n > 0 && line[n - 1] == '\n')
		line[--n] = '\0';
	log_debug("http: %s", line);
}

/* The listening socket, bound here so a failure says why. */
static int
httpd_listen(const char *listen_on, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	unsigned int len;
	char why[160];
	int fd, one = 1;

	if (config_listen_addr(listen_on, &ss, &len, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "http.listen: %s", why);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1) {
		snprintf(err, errlen, "http.listen %s: socket: %s", listen_on,
		    strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    listen(fd, 128) == -1) {
		snprintf(err, errlen, "http.listen %s: cannot listen: %s",
		    listen_on, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* The web root as a real path, so files can be checked to be inside. */
static char *
httpd_root(struct heard *h, char *err, size_t errlen)
{
	char *want = h->cfg.web_root != NULL ? xstrdup(h->cfg.web_root) :
	    heard_web_path();
	char real[PATH_MAX];
	struct stat st;

	if (realpath(want, real) == NULL || stat(real, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "http.web_root %s: %s", want,
		    errno != 0 ? strerror(errno) : "not a folder");
		free(want);
		return NULL;
	}
	free(want);
	return xstrdup(real);
}

static struct MHD_Daemon *
httpd_mhd(struct httpd *hd, int fd)
{
	return MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0, NULL,
	    NULL, httpd_access, hd,
	    MHD_OPTION_EXTERNAL_LOGGER, httpd_mhd_log, hd,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd,
	    MHD_OPTION_NOTIFY_COMPLETED, httpd_completed, hd,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTPD_IDLE,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTPD_CONNS,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTPD_CONN_MEM,
	    MHD_OPTION_END);
}

struct httpd *
httpd_start(struct heard *h, char *err, size_t errlen)
{
	const union MHD_DaemonInfo *di;
	struct httpd *hd = xcalloc(1, sizeof(*hd));
	int fd;

	hd->h = h;
	errno = 0;
	if ((hd->root = httpd_root(h, err, errlen)) == NULL ||
	    (fd = httpd_listen(h->cfg.listen, err, errlen)) == -1) {
		free(hd->root);
		free(hd);
		return NULL;
	}
	if ((hd->mhd = httpd_mhd(hd, fd)) == NULL ||
	    (di = MHD_get_daemon_info(hd->mhd, MHD_DAEMON_INFO_EPOLL_FD)) ==
	    NULL) {
		snprintf(err, errlen, "http.listen %s: the HTTP server did "
		    "not start", h->cfg.listen);
		if (hd->mhd != NULL)
			MHD_stop_daemon(hd->mhd);
		else
			close(fd);
		free(hd->root);
		free(hd);
		return NULL;
	}
	ratelimit_init(&hd->logins);
	ev_io_init(&hd->io, httpd_io_cb, di->epoll_fd, EV_READ);
	hd->io.data = hd;
	ev_io_start(h->loop, &hd->io);
	ev_timer_init(&hd->timer, httpd_timer_cb, 0., 0.);
	hd->timer.data = hd;
	httpd_arm(hd);
	log_info("http: serving on %s, web inbox from %s", h->cfg.listen,
	    hd->root);
	return hd;
}

void
httpd_free(struct httpd *hd)
{
	if (hd == NULL)
		return;
	ev_io_stop(hd->h->loop, &hd->io);
	ev_timer_stop(hd->h->loop, &hd->timer);
	MHD_stop_daemon(hd->mhd);
	ratelimit_free(&hd->logins);
	free(hd->root);
	free(hd);
}

struct ratelimit *
httpd_ratelimit(struct httpd *hd)
{
	return &hd->logins;
}
