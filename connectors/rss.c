/* rss: RSS and Atom feeds, polled with conditional GETs, one item each. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "arena.h"
#include "date.h"
#include "feed.h"
#include "htmltext.h"

#define RSS_TITLE_MAX		500		/* bytes of an item title */
#define RSS_BODY_MAX		(64 * 1024)	/* bytes of an item body */
#define RSS_NAME_MAX		200		/* author, feed title */
#define RSS_ID_MAX		512		/* longer ids are hashed */
#define RSS_URL_MAX		2048
#define RSS_VALIDATOR_MAX	512		/* ETag, Last-Modified */
#define RSS_INTERVAL_MAX	86400		/* ttl, max-age ceiling */

#define RSS_ACCEPT	"application/rss+xml, application/atom+xml, " \
			"application/rdf+xml;q=0.9, application/xml;q=0.8, " \
			"text/xml;q=0.8, */*;q=0.5"

enum rss_thread {
	RSS_THREAD_ITEM = 0,	/* each item its own conversation */
	RSS_THREAD_FEED,	/* the whole feed one conversation */
};

struct rss_conf {
	const char	*url;		/* arena */
	enum rss_thread	 thread;
	size_t		 max_size;	/* bytes */
};

/* What every item of one response is made with. */
struct rss_job {
	const struct rss_conf	*conf;
	const struct feed	*feed;
	const char		*base;	/* relative links resolve against it */
	struct arena		*a;
};

/* The validators a conditional GET sends back. */
struct rss_cursor {
	const char	*etag;		/* arena, or NULL */
	const char	*last_modified;	/* arena, or NULL */
};

static const struct conn_setting rss_settings[] = {
	{ .key = "url", .required = 1,
	    .help = "feed address: http://, https:// or file://" },
	{ .key = "thread", .def = "item",
	    .help = "item: each item its own conversation; "
	    "feed: the whole feed one conversation" },
	{ .key = "max_size", .def = "16M",
	    .help = "largest feed accepted, in bytes (K or M suffix)" },
	{ .key = NULL },
};

/* Printable ASCII only: what may go back into a request header. */
static int
rss_header_safe(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || (unsigned char)s[n] > 0x7e)
			return 0;
	return n > 0 && n <= RSS_VALIDATOR_MAX;
}

/* No blanks or controls, bounded: a URL we may store and hand out. */
static int
rss_url_clean(const char *s)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || s[n] == 0x7f)
			return 0;
	return n > 0 && n <= RSS_URL_MAX;
}

/* Length of "http://" or "https://" at the start of s, else 0. */
static size_t
rss_web_scheme(const char *s)
{
	if (strncasecmp(s, "http://", 7) == 0)
		return 7;
	if (strncasecmp(s, "https://", 8) == 0)
		return 8;
	return 0;
}

static int
rss_check_url(const char *url, struct conn_error *e)
{
	size_t n;

	/* The URL itself is never echoed: it may carry a token. */
	if (!rss_url_clean(url))
		return conn_fail(e, CONN_ERR_CONFIG, "rss: url is empty, "
		    "too long or has blanks or control characters");
	if ((n = rss_web_scheme(url)) != 0) {
		if (strchr("/?#:@", url[n]) != NULL)
			return conn_fail(e, CONN_ERR_CONFIG,
			    "rss: url has no host");
		return 0;
	}
	if (strncasecmp(url, "file:///", 8) == 0 ||
	    strncasecmp(url, "file://localhost/", 17) == 0)
		return 0;
	return conn_fail(e, CONN_ERR_CONFIG,
	    "rss: url must be http://, https:// or file:///path");
}

/* "16M", "512K", "100000": bytes, within 1K..FEED_MAX_BYTES; else 0. */
static size_t
rss_size(const char *s)
{
	unsigned long long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return 0;
	v = strtoull(s, &end, 10);
	if (v > FEED_MAX_BYTES)
		return 0;		/* before a suffix can wrap it */
	if ((*end == 'K' || *end == 'k') && end[1] == '\0')
		v *= 1024;
	else if ((*end == 'M' || *end == 'm') && end[1] == '\0')
		v *= 1024 * 1024;
	else if (*end != '\0')
		return 0;
	if (v < 1024 || v > FEED_MAX_BYTES)
		return 0;
	return (size_t)v;
}

static void *
rss_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "url");
	const char *thread = conn_settings_get(set, "thread");
	const char *size = conn_settings_get(set, "max_size");
	struct rss_conf c = { NULL, RSS_THREAD_ITEM, FEED_MAX_BYTES };
	struct rss_conf *out;

	if (url == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "rss: missing setting 'url'");
		return NULL;
	}
	if (rss_check_url(url, e) == -1)
		return NULL;
	if (thread != NULL && strcmp(thread, "feed") == 0)
		c.thread = RSS_THREAD_FEED;
	else if (thread != NULL && strcmp(thread, "item") != 0) {
		conn_fail(e, CONN_ERR_CONFIG,
		    "rss: thread must be 'item' or 'feed'");
		return NULL;
	}
	if (size != NULL && (c.max_size = rss_size(size)) == 0) {
		conn_fail(e, CONN_ERR_CONFIG, "rss: max_size must be 1K to "
		    "%dM", FEED_MAX_BYTES / (1024 * 1024));
		return NULL;
	}
	out = arena_alloc(a, sizeof(*out));
	*out = c;
	out->url = arena_strdup(a, url);
	return out;
}

static const char *
rss_json_str(json_t *obj, const char *key, struct arena *a)
{
	const char *s = json_string_value(json_object_get(obj, key));

	return s != NULL && rss_header_safe(s) ? arena_strdup(a, s) : NULL;
}

/* A saved cursor; anything unreadable reads as no validators. */
static void
rss_cursor_read(const char *text, struct arena *a, struct rss_cursor *cur)
{
	json_t *obj;

	memset(cur, 0, sizeof(*cur));
	if (text == NULL || (obj = json_loads(text, 0, NULL)) == NULL)
		return;
	if (json_is_object(obj)) {
		cur->etag = rss_json_str(obj, "etag", a);
		cur->last_modified = rss_json_str(obj, "last_modified", a);
	}
	json_decref(obj);
}

/* Canonical JSON text of a cursor, in the arena. */
static const char *
rss_cursor_text(const struct rss_cursor *cur, struct arena *a)
{
	json_t *obj = json_object();
	const char *out;
	char *s;

	if (cur->etag != NULL)
		json_object_set_new(obj, "etag", json_string(cur->etag));
	if (cur->last_modified != NULL)
		json_object_set_new(obj, "last_modified",
		    json_string(cur->last_modified));
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

static int
rss_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct rss_conf *c = conf;
	struct conn_request r;
	struct rss_cursor cur;

	(void)e;
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.url = c->url;
	rss_cursor_read(cursor, a, &cur);
	conn_request_header(&r, a, "Accept", RSS_ACCEPT);
	if (cur.etag != NULL)
		conn_request_header(&r, a, "If-None-Match", cur.etag);
	if (cur.last_modified != NULL)
		conn_request_header(&r, a, "If-Modified-Since",
		    cur.last_modified);
	*req = r;
	return 0;
}

/* A response header fit to save as a validator, or NULL. */
static const char *
rss_validator(const struct conn_response *r, const char *name,
    struct arena *a)
{
	const char *v = conn_response_header(r, name);

	return v != NULL && rss_header_safe(v) ? arena_strdup(a, v) : NULL;
}

/*
 * The cursor after a response: its validators. A 304 may refresh
 * them; when it does not, NULL keeps the saved cursor as it is.
 */
static const char *
rss_cursor_next(const char *old, const struct conn_response *r,
    struct arena *a)
{
	struct rss_cursor cur, was;

	cur.etag = rss_validator(r, "ETag", a);
	cur.last_modified = rss_validator(r, "Last-Modified", a);
	if (r->status != 304)
		return rss_cursor_text(&cur, a);
	if (cur.etag == NULL && cur.last_modified == NULL)
		return NULL;
	rss_cursor_read(old, a, &was);
	if (cur.etag == NULL)
		cur.etag = was.etag;
	if (cur.last_modified == NULL)
		cur.last_modified = was.last_modified;
	return rss_cursor_text(&cur, a);
}

/* 429, and 503 that says when to come back. */
static int
rss_rate_limited(const struct conn_response *r, struct conn_error *e)
{
	long secs = 0;
	int rc = conn_retry_after(r, &secs);

	if (rc == -1)
		return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld with a "
		    "Retry-After date and no Date header", r->status);
	if (rc == 0 && r->status == 503)
		return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP 503");
	conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP %ld: rate limited",
	    r->status);
	e->retry_after = secs;
	return -1;
}

/* Statuses other than 2xx and 304, classified. */
static int
rss_status(const struct conn_response *r, struct conn_error *e)
{
	long s = r->status;

	if (s == 304 || (s >= 200 && s <= 299))
		return 0;
	if (s == 429 || s == 503)
		return rss_rate_limited(r, e);
	if (s == 401 || s == 403)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP %ld: access refused",
		    s);
	if (s == 404 || s == 410)
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: no feed "
		    "there", s);
	/* The server's own time-out says nothing about the settings. */
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, CONN_ERR_CONFIG, "HTTP %ld", s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld", s);
}

/* Cache-Control max-age in seconds; 0 if none. */
static long
rss_max_age(const struct conn_response *r)
{
	const char *v = conn_response_header(r, "Cache-Control"), *p;
	long n;
	int word;

	if (v == NULL)
		return 0;
	for (p = v; (p = strcasestr(p, "max-age")) != NULL;) {
		/* Not s-maxage or another directive ending the same way. */
		word = p == v || strchr(", \t", p[-1]) != NULL;
		p += 7;
		p += strspn(p, " \t");
		if (!word || *p != '=')
			continue;
		p++;
		p += strspn(p, " \t\"");
		if (*p < '0' || *p > '9')
			return 0;
		n = strtol(p, NULL, 10);
		return n > RSS_INTERVAL_MAX ? RSS_INTERVAL_MAX : n;
	}
	return 0;
}

/* The charset parameter of Content-Type, in the arena, or NULL. */
static const char *
rss_charset(const struct conn_response *r, struct arena *a)
{
	const char *v = conn_response_header(r, "Content-Type"), *p;
	size_t n;

	if (v == NULL || (p = strcasestr(v, "charset=")) == NULL)
		return NULL;
	p += 8;
	if (*p == '"')
		p++;
	n = strcspn(p, "\"; \t");
	return n > 0 ? arena_strndup(a, p, n) : NULL;
}

/* Whether a body is an HTML page, from its first tag. */
static int
rss_looks_html(const char *b, size_t len)
{
	const char *end = b + len;

	if (len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		b += 3;
	while (b < end && *b != '\0' && strchr(" \t\r\n", *b) != NULL)
		b++;
	return (size_t)(end - b) >= 5 && (strncasecmp(b, "<html", 5) == 0 ||
	    ((size_t)(end - b) >= 14 &&
	    strncasecmp(b, "<!doctype html", 14) == 0));
}

/* Not a feed at all: say what it is, as far as we can tell. */
static int
rss_not_feed(const struct feed *f, const struct conn_response *r,
    struct conn_error *e)
{
	char *title;
	int rc;

	if ((f->root != NULL && strcasecmp(f->root, "html") == 0) ||
	    rss_looks_html(r->body, r->body_len)) {
		title = htmltext_title(r->body, r->body_len, 80);
		rc = conn_fail(e, CONN_ERR_MALFORMED, "not a feed: got an "
		    "HTML page%s%s%s", title != NULL ? " (\"" : "",
		    title != NULL ? title : "", title != NULL ? "\")" : "");
		free(title);
		return rc;
	}
	if (r->body_len > 0 && strchr("{[", r->body[0]) != NULL)
		return conn_fail(e, CONN_ERR_MALFORMED,
		    "not a feed: got JSON");
	if (f->root != NULL)
		return conn_fail(e, CONN_ERR_MALFORMED,
		    "not a feed: root element <%s>", f->root);
	return conn_fail(e, CONN_ERR_MALFORMED, "%s: %s", f->bozo ?
	    "ill-formed feed" : "not a feed", f->error);
}

/* Body -> feed; what cannot be read is an error, with its place. */
static int
rss_read(const struct rss_conf *c, const struct conn_response *r,
    struct arena *a, struct feed *f, struct conn_error *e)
{
	if (r->body_len > c->max_size)
		return conn_fail(e, CONN_ERR_MALFORMED, "feed larger than "
		    "%zu bytes", c->max_size);
	if (r->body_len == 0)
		return conn_fail(e, CONN_ERR_MALFORMED, "empty body");
	if (feed_parse(f, r->body, r->body_len, rss_charset(r, a), a) == -1)
		return rss_not_feed(f, r, e);
	/* Recovery that salvaged no whole entry: nothing to trust. */
	if (f->recovered && f->nentries == 0)
		return conn_fail(e, CONN_ERR_MALFORMED, "ill-formed feed: %s",
		    f->error);
	return 0;
}

/* Clean text in the arena, or NULL if there is none. */
static const char *
rss_text(struct arena *a, const char *s, enum feed_text type, size_t max,
    int flags)
{
	const char *out;
	char *t;

	if (s == NULL)
		return NULL;
	t = type == FEED_TEXT_PLAIN ?
	    htmltext_plain(s, strlen(s), max, flags) :
	    htmltext(s, strlen(s), max, flags);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

/* "sha256:" and the hex digest of the bytes, in the arena. */
static const char *
rss_hash(struct arena *a, const char *s, size_t n)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0, i;
	char *out;

	if (EVP_Digest(s, n, md, &len, EVP_sha256(), NULL) != 1)
		return NULL;
	out = arena_alloc(a, 7 + 2 * len + 1);
	memcpy(out, "sha256:", 7);
	for (i = 0; i < len; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
	return out;
}

/* An id as given if it is short and clean, else its hash. */
static const char *
rss_id_or_hash(struct arena *a, const char *s)
{
	size_t i, n = strlen(s);

	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (i == n && n <= RSS_ID_MAX)
		return s;
	return rss_hash(a, s, n);
}

/*
 * guid / id, else the link, else a hash of the title and body as the
 * feed wrote them: stable while the item is, which an upsert needs.
 */
static const char *
rss_external_id(struct arena *a, const struct feed_entry *fe)
{
	const char *title = fe->title != NULL ? fe->title : "";
	const char *body = fe->content != NULL ? fe->content :
	    fe->summary != NULL ? fe->summary : "";
	size_t tn, bn;
	char *both;

	if (fe->id != NULL)
		return rss_id_or_hash(a, fe->id);
	if (fe->link != NULL)
		return rss_id_or_hash(a, fe->link);
	/* A NUL between them: "ab" + "c" and "a" + "bc" differ. */
	tn = strlen(title);
	bn = strlen(body);
	both = arena_alloc(a, tn + 1 + bn);
	memcpy(both, title, tn);
	memcpy(both + tn + 1, body, bn);
	return rss_hash(a, both, tn + 1 + bn);
}

/* Whether a reference starts with a scheme ("mailto:", "data:"). */
static int
rss_has_scheme(const char *s)
{
	size_t n = strcspn(s, ":/?#");

	return n > 0 && s[n] == ':';
}

/* link against base, an absolute http(s) URL; both clean. */
static char *
rss_resolve(struct arena *a, const char *base, const char *link)
{
	size_t n = rss_web_scheme(base), path;

	if (link[0] == '/' && link[1] == '/')
		return arena_printf(a, "%.*s%s", (int)n - 2, base, link);
	path = n + strcspn(base + n, "/?#");
	if (link[0] == '/')
		return arena_printf(a, "%.*s%s", (int)path, base, link);
	/* Page-relative: after the last '/' of the path, less any query. */
	n = path + strcspn(base + path, "?#");
	while (n > path && base[n - 1] != '/')
		n--;
	return arena_printf(a, "%.*s%s%s", (int)n, base, n == path ? "/" :
	    "", link);
}

/*
 * Links a reader may follow: absolute http(s), or relative ones made
 * so against the feed's address; any other scheme is dropped.
 */
static const char *
rss_link(const struct rss_job *job, const char *link)
{
	char *abs;
	size_t i;

	if (link == NULL || !rss_url_clean(link))
		return NULL;
	if (rss_web_scheme(link) != 0)
		abs = arena_strdup(job->a, link);
	else if (rss_has_scheme(link) || job->base == NULL)
		return NULL;
	else
		abs = rss_resolve(job->a, job->base, link);
	if (strlen(abs) > RSS_URL_MAX)
		return NULL;
	/* "HTTPS://" is as good, but readers of ours look for "https://". */
	for (i = 0; abs[i] != ':'; i++)
		if (abs[i] >= 'A' && abs[i] <= 'Z')
			abs[i] += 'a' - 'A';
	return abs;
}

/* Content if it has text, else the summary. */
static const char *
rss_body(struct arena *a, const struct feed_entry *fe)
{
	const char *body;

	body = rss_text(a, fe->content, fe->content_type, RSS_BODY_MAX, 0);
	if (body == NULL)
		body = rss_text(a, fe->summary, fe->summary_type,
		    RSS_BODY_MAX, 0);
	return body;
}

static const char *
rss_author(struct arena *a, const struct feed_person *p)
{
	const char *who = p->name != NULL ? p->name : p->email;

	return rss_text(a, who, FEED_TEXT_PLAIN, RSS_NAME_MAX,
	    HTMLTEXT_ONELINE);
}

/* RSS titles carry entities and tags in practice, whatever 2.0 says. */
static enum feed_text
rss_title_type(const struct feed *f, enum feed_text type)
{
	if (f->format == FEED_ATOM03 || f->format == FEED_ATOM10)
		return type;
	return FEED_TEXT_HTML;
}

/*
 * One entry -> one item; -1 if there is nothing to show and nothing
 * to know it by (no id, no link, no text).
 */
static int
rss_item_from_entry(const struct rss_job *job, const struct feed_entry *fe,
    struct conn_item *it)
{
	const struct rss_conf *c = job->conf;
	struct arena *a = job->a;

	memset(it, 0, sizeof(*it));
	it->title = rss_text(a, fe->title,
	    rss_title_type(job->feed, fe->title_type), RSS_TITLE_MAX,
	    HTMLTEXT_ONELINE);
	it->body = rss_body(a, fe);
	if (fe->id == NULL && fe->link == NULL && it->title == NULL &&
	    it->body == NULL)
		return -1;
	if ((it->external_id = rss_external_id(a, fe)) == NULL)
		return -1;
	it->thread_key = c->thread == RSS_THREAD_ITEM ? it->external_id :
	    arena_printf(a, "feed:%s", c->url);
	it->dir = ITEM_IN;
	it->rating = ITEM_NO_RATING;
	it->url = rss_link(job, fe->link);
	it->author_name = rss_author(a, &fe->author);
	it->created_at = fe->has_published ? fe->published :
	    fe->has_updated ? fe->updated : 0;
	it->updated_at = fe->has_updated ? fe->updated : it->created_at;
	return 0;
}

/* The address the document came from, after redirects, if web. */
static const char *
rss_base(const struct rss_conf *c, const struct conn_response *r)
{
	const char *u = r->effective_url;

	if (u != NULL && rss_url_clean(u) && rss_web_scheme(u) != 0)
		return u;
	return rss_web_scheme(c->url) != 0 ? c->url : NULL;
}

static void
rss_items(const struct rss_job *job, struct conn_batch *b)
{
	const struct feed *f = job->feed;
	size_t i;

	if (f->nentries == 0)
		return;
	b->items = arena_alloc(job->a, f->nentries * sizeof(*b->items));
	for (i = 0; i < f->nentries; i++)
		if (rss_item_from_entry(job, &f->entries[i],
		    &b->items[b->nitems]) == 0)
			b->nitems++;
}

static int
rss_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	const struct rss_conf *c = conf;
	struct conn_batch b;
	struct rss_job job;
	struct feed f;

	e->retry_after = 0;
	if (rss_status(r, e) == -1)
		return -1;
	memset(&b, 0, sizeof(b));
	b.min_interval = rss_max_age(r);
	b.cursor = rss_cursor_next(cursor, r, a);
	if (r->status == 304) {
		b.not_modified = 1;
		*out = b;
		return 0;
	}
	if (rss_read(c, r, a, &f, e) == -1)
		return -1;
	if (f.ttl * 60 > b.min_interval)
		b.min_interval = f.ttl * 60 > RSS_INTERVAL_MAX ?
		    RSS_INTERVAL_MAX : f.ttl * 60;
	b.title = rss_text(a, f.title, rss_title_type(&f, f.title_type),
	    RSS_NAME_MAX, HTMLTEXT_ONELINE);
	job.conf = c;
	job.feed = &f;
	job.base = rss_base(c, r);
	job.a = a;
	rss_items(&job, &b);
	*out = b;
	return 0;
}

const struct connector connector_rss = {
	.name = "rss",
	.title = "RSS or Atom feed",
	.settings = rss_settings,
	.reply_mode = CONN_REPLY_NONE,
	.configure = rss_configure,
	.poll = rss_poll,
	.parse = rss_parse,
};
