/* facebook: a Page's posts and comments (Graph API), replies, webhooks. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "conn_text.h"
#include "date.h"
#include "htmltext.h"

#define FB_DEFAULT_BASE	"https://graph.facebook.com/v19.0"
#define FB_URL_MAX	2048
#define FB_ID_MAX	64	/* "{page}_{post}_..." digits and '_' */
#define FB_TOKEN_MAX	1024
#define FB_SECRET_MAX	256
#define FB_AFTER_MAX	512	/* an opaque paging cursor */
#define FB_NAME_MAX	200
#define FB_BODY_MAX	(64 * 1024)
#define FB_SAID_MAX	200	/* Graph's error text we repeat */
#define FB_FORM_MAX	(64 * 1024)
/* Posts asked for a page, and comments nested under each of them. */
#define FB_POSTS	25
#define FB_COMMENTS	100
/* Larger pages than asked are refused whole, never cut. */
#define FB_PAGE_MAX	100
/* Posts whose further comment pages wait in the cursor. */
#define FB_MORE_MAX	500
/*
 * How far before the newest post of the last complete run a poll
 * looks again: comments on a post keep coming for days after it.
 */
#define FB_LOOKBACK	(14 * 86400)
/*
 * Usage in percent (X-App-Usage, X-Page-Usage, X-Business-Use-Case-
 * Usage) at which a run stops after the page in hand and the next
 * poll waits, so heard never reaches Graph's limit itself.
 */
#define FB_USAGE_SLOW	80
#define FB_SLOW_WAIT	900	/* seconds; Graph counts by the hour */
#define FB_RATE_WAIT	900	/* a rate limit with no time to wait */
#define FB_POST_FIELDS	"id,message,created_time,from{id,name}," \
			"comments.filter(stream).limit(100)"
#define FB_COMMENT_FIELDS "id,message,created_time,from{id,name}," \
			"parent{id}"

struct fb_conf {
	const char	*base;	/* arena: graph_base, no '/' after */
	const char	*origin;	/* arena: scheme://host[:port] */
	const char	*page;	/* arena: the page's id */
	const char	*token;	/* arena; secret */
};

/*
 * The saved cursor. since: created time of the newest post of the
 * last run that reached the end (0: none yet); a run reads the posts
 * created since FB_LOOKBACK before it. While a run is under way, top
 * is its newest post so far, next the feed's next page (its URL, the
 * token removed) and more the posts whose further comments are still
 * to read, [post id, after] each; every post and comment before them
 * is stored. since moves to top only at the run's end, so a run cut
 * short leaves no gap.
 */
struct fb_cursor {
	int64_t	 since;
	int64_t	 top;
	char	 next[FB_URL_MAX + 1];
	json_t	*more;	/* owned: array of [post, after] */
};

static const struct conn_setting facebook_settings[] = {
	{ .key = "page_id", .required = 1,
	    .help = "the Page's numeric id; its posts and comments are the "
	    "organisation's own (outbound)" },
	{ .key = "page_token", .required = 1, .secret = 1,
	    .help = "a Page access token with pages_read_engagement, "
	    "pages_read_user_content and pages_manage_engagement" },
	{ .key = "app_secret", .secret = 1,
	    .help = "the Meta app's secret: webhook deliveries signed with "
	    "it are taken for this source" },
	{ .key = "verify_token", .secret = 1,
	    .help = "the verify token typed into the app's webhook "
	    "subscription" },
	{ .key = "graph_base",
	    .def = FB_DEFAULT_BASE,
	    .help = "the Graph API's base URL with its version (http:// only "
	    "for 127.0.0.1 or localhost, for tests)" },
	{ .key = NULL },
};

/* A Graph id as heard takes one: digits and '_', bounded. */
static int
facebook_id_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "0123456789_");
	return n > 0 && n <= FB_ID_MAX && s[n] == '\0' && s[0] != '_';
}

/*
 * graph_base -> c->base and c->origin. The token goes with every
 * request, so only https (http for loopback, for tests), no query
 * and no user part. Never echoed: a token may have been pasted in.
 */
static int
facebook_check_base(const char *url, struct fb_conf *c, struct arena *a,
    struct conn_error *e)
{
	int https = strncasecmp(url, "https://", 8) == 0;
	size_t skip = https ? 8 : 7, n, hlen, olen;

	if (!https && strncasecmp(url, "http://", 7) != 0)
		return conn_fail(e, CONN_ERR_CONFIG,
		    "facebook: graph_base must start with https://");
	n = strlen(url);
	while (n > skip && url[n - 1] == '/')
		n--;
	hlen = strcspn(url + skip, ":/?#@");
	olen = skip + strcspn(url + skip, "/?#@");
	if (!conn_word(url, FB_URL_MAX - 200) || hlen == 0 ||
	    strpbrk(url + skip, "?#@%") != NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "facebook: graph_base "
		    "must be like " FB_DEFAULT_BASE);
	if (!https && !conn_loopback(url + skip, hlen))
		return conn_fail(e, CONN_ERR_CONFIG, "facebook: graph_base "
		    "must be https:// (http:// is for 127.0.0.1 and "
		    "localhost only)");
	c->base = arena_strndup(a, url, n);
	c->origin = arena_strndup(a, url, olen < n ? olen : n);
	return 0;
}

static void *
facebook_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *page = conn_settings_get(set, "page_id");
	const char *token = conn_settings_get(set, "page_token");
	const char *base = conn_settings_get(set, "graph_base");
	const char *k[] = { "app_secret", "verify_token" }, *v;
	struct fb_conf c, *out;
	size_t i;

	memset(&c, 0, sizeof(c));
	if (page == NULL || token == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "facebook: missing setting "
		    "'%s'", page == NULL ? "page_id" : "page_token");
		return NULL;
	}
	if (!facebook_id_ok(page) || strchr(page, '_') != NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "facebook: page_id must be the "
		    "Page's numeric id");
		return NULL;
	}
	if (!conn_word(token, FB_TOKEN_MAX)) {
		conn_fail(e, CONN_ERR_CONFIG, "facebook: page_token is empty, "
		    "too long or has blanks or control characters");
		return NULL;
	}
	for (i = 0; i < 2; i++)
		if ((v = conn_settings_get(set, k[i])) != NULL &&
		    !conn_word(v, FB_SECRET_MAX)) {
			conn_fail(e, CONN_ERR_CONFIG, "facebook: %s is empty, "
			    "too long or has blanks", k[i]);
			return NULL;
		}
	if (facebook_check_base(base != NULL ? base : FB_DEFAULT_BASE, &c, a,
	    e) == -1)
		return NULL;
	c.page = arena_strdup(a, page);
	c.token = arena_strdup(a, token);
	out = arena_alloc(a, sizeof(*out));
	*out = c;
	return out;
}

static const char *
facebook_enc(struct arena *a, const char *s)
{
	struct buf b;
	const char *out;

	buf_init(&b, 0);
	conn_url_encode(&b, s, 0);
	out = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return out;
}

/*
 * A next page Graph gave, fit to follow: on graph_base's origin,
 * bounded, printable. Its access_token is dropped (heard sends the
 * token as a header, and the cursor must not hold it); one with the
 * token anywhere else is unfit. NULL if unfit.
 */
static char *
facebook_next_url(const struct fb_conf *c, const char *url,
    struct arena *a)
{
	size_t olen = strlen(c->origin), n;
	const char *q, *p;
	struct buf b;
	char *out;
	int first = 1;

	if (url == NULL || !conn_word(url, FB_URL_MAX) ||
	    strncmp(url, c->origin, olen) != 0 || url[olen] != '/' ||
	    strpbrk(url, "#\\") != NULL)
		return NULL;
	if ((q = strchr(url, '?')) == NULL)
		return strstr(url, c->token) == NULL ? arena_strdup(a, url) :
		    NULL;
	buf_init(&b, 0);
	buf_append(&b, url, (size_t)(q - url) + 1);
	for (p = q + 1; *p != '\0'; p += n + (p[n] == '&')) {
		n = strcspn(p, "&");
		if (n == 0 || strncmp(p, "access_token=", 13) == 0 ||
		    (n == 12 && strncmp(p, "access_token", 12) == 0))
			continue;
		if (!first)
			buf_append(&b, "&", 1);
		buf_append(&b, p, n);
		first = 0;
	}
	out = arena_strndup(a, b.data, b.len);
	buf_free(&b);
	return strstr(out, c->token) == NULL ? out : NULL;
}

/* One [post, after] of the cursor's more, if well-formed. */
static int
facebook_more_ok(json_t *v)
{
	const char *post = json_string_value(json_array_get(v, 0));
	const char *after = json_string_value(json_array_get(v, 1));

	return json_array_size(v) == 2 && facebook_id_ok(post) &&
	    after != NULL && conn_word(after, FB_AFTER_MAX);
}

static int64_t
facebook_cursor_time(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return 0;
	return json_integer_value(v);
}

/* A saved cursor; what is unreadable reads as not there. Free after. */
static void
facebook_cursor_read(const struct fb_conf *c, const char *text,
    struct fb_cursor *cur, struct arena *a)
{
	json_t *obj = text != NULL ? json_loads(text, 0, NULL) : NULL, *v;
	const char *next;
	size_t i;

	memset(cur, 0, sizeof(*cur));
	cur->more = json_array();
	if (!json_is_object(obj)) {
		json_decref(obj);
		return;
	}
	cur->since = facebook_cursor_time(obj, "since");
	cur->top = facebook_cursor_time(obj, "top");
	next = facebook_next_url(c, json_string_value(json_object_get(obj,
	    "next")), a);
	if (next != NULL)
		snprintf(cur->next, sizeof(cur->next), "%s", next);
	json_array_foreach(json_object_get(obj, "more"), i, v)
		if (facebook_more_ok(v) && json_array_size(cur->more) <
		    FB_MORE_MAX)
			json_array_append(cur->more, v);
	json_decref(obj);
}

static const char *
facebook_cursor_text(const struct fb_cursor *cur, struct arena *a)
{
	json_t *obj = json_object();
	const char *out;
	char *s;

	if (cur->since > 0)
		json_object_set_new(obj, "since", json_integer(cur->since));
	if (cur->top > 0)
		json_object_set_new(obj, "top", json_integer(cur->top));
	if (cur->next[0] != '\0')
		json_object_set_new(obj, "next", json_string(cur->next));
	if (json_array_size(cur->more) > 0)
		json_object_set(obj, "more", cur->more);
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

static void
facebook_get(const struct fb_conf *c, const char *url, struct arena *a,
    struct conn_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = url;
	conn_request_header(req, a, "Accept", "application/json");
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->token));
}

/* The page's feed, newest first, with each post's first comments. */
static void
facebook_feed_request(const struct fb_conf *c, int64_t since,
    struct arena *a, struct conn_request *req)
{
	const char *fields = arena_printf(a, "%s%%7B%s%%7D",
	    facebook_enc(a, FB_POST_FIELDS), facebook_enc(a,
	    FB_COMMENT_FIELDS));
	const char *url = arena_printf(a, "%s/%s/feed?fields=%s&limit=%d",
	    c->base, c->page, fields, FB_POSTS);

	if (since > FB_LOOKBACK)
		url = arena_printf(a, "%s&since=%lld", url,
		    (long long)(since - FB_LOOKBACK));
	facebook_get(c, url, a, req);
}

/* A post's comments after the cursor, in the order they were made. */
static void
facebook_comments_request(const struct fb_conf *c, json_t *more,
    struct arena *a, struct conn_request *req)
{
	const char *post = json_string_value(json_array_get(more, 0));
	const char *after = json_string_value(json_array_get(more, 1));

	facebook_get(c, arena_printf(a, "%s/%s/comments?filter=stream&"
	    "fields=%s&limit=%d&after=%s", c->base, post, facebook_enc(a,
	    FB_COMMENT_FIELDS), FB_COMMENTS, facebook_enc(a, after)), a, req);
}

/* The request the cursor stands at: more comments, the feed's next page
 * or the first page of a new run. */
static void
facebook_request(const struct fb_conf *c, const struct fb_cursor *cur,
    struct arena *a, struct conn_request *req)
{
	if (json_array_size(cur->more) > 0)
		facebook_comments_request(c, json_array_get(cur->more, 0), a,
		    req);
	else if (cur->next[0] != '\0')
		facebook_get(c, arena_strdup(a, cur->next), a, req);
	else
		facebook_feed_request(c, cur->since, a, req);
}

static int
facebook_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	struct fb_cursor cur;

	(void)e;
	facebook_cursor_read(conf, cursor, &cur, a);
	facebook_request(conf, &cur, a, req);
	json_decref(cur.more);
	return 0;
}

/* Clean one-line or multi-line text in the arena, or NULL if none. */
static const char *
facebook_text(struct arena *a, const char *s, size_t max, int flags)
{
	const char *out;
	char *t;

	if (s == NULL)
		return NULL;
	t = htmltext_plain(s, strlen(s), max, flags);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

/* Graph's own words for an error, cleaned and bounded, with no token. */
static void
facebook_said(const struct fb_conf *c, const char *s, char *out,
    size_t size)
{
	char *t;

	out[0] = '\0';
	if (s == NULL)
		return;
	t = htmltext_plain(s, strlen(s), FB_SAID_MAX, HTMLTEXT_ONELINE);
	if (c != NULL && strstr(t, c->token) != NULL)
		snprintf(out, size, "(a message that quoted the token)");
	else
		snprintf(out, size, "%s", t);
	free(t);
}

/* Graph's error codes, by what heard does about them. */
static enum conn_err
facebook_kind(long code, long http, int reply)
{
	if (code == 190 || code == 102)
		return CONN_ERR_AUTH;	/* the token is dead */
	if (code == 10 || (code >= 200 && code <= 299))
		return CONN_ERR_AUTH;	/* a permission is missing */
	if (code == 4 || code == 17 || code == 32 || code == 613 ||
	    (code >= 80001 && code <= 80014))
		return CONN_ERR_RATE_LIMITED;
	if (code == 1 || code == 2 || http >= 500)
		return CONN_ERR_TRANSIENT;
	if (http == 401 || http == 403)
		return CONN_ERR_AUTH;
	if (http == 429)
		return CONN_ERR_RATE_LIMITED;
	if (reply)
		return CONN_ERR_REFUSED;
	if (code == 803 || http == 404 || http == 410)
		return CONN_ERR_NOT_FOUND;
	return CONN_ERR_CONFIG;
}

/* A usage header's largest percentage, and the wait it names. */
static void
facebook_usage_walk(json_t *v, int depth, long *pct, long *wait)
{
	const char *k;
	json_t *w;
	size_t i;
	double d;
	long n;

	if (depth > 4)
		return;
	json_object_foreach(v, k, w) {
		/* Clamped as a double: a cast of 1e300 to long is undefined. */
		d = json_is_number(w) ? json_number_value(w) : -1;
		n = d != d || d < 0 ? -1 : d > 1000000 ? 1000000 : (long)d;
		if (n >= 0 && (strcmp(k, "call_count") == 0 ||
		    strcmp(k, "total_time") == 0 ||
		    strcmp(k, "total_cputime") == 0) && n > *pct)
			*pct = n;
		else if (n > 0 && strcmp(k,
		    "estimated_time_to_regain_access") == 0 &&
		    n * 60 > *wait)
			*wait = n * 60;	/* minutes */
		else if (json_is_object(w) || json_is_array(w))
			facebook_usage_walk(w, depth + 1, pct, wait);
	}
	json_array_foreach(v, i, w)
		facebook_usage_walk(w, depth + 1, pct, wait);
}

/* How close to its limits Graph says heard is: percent and a wait. */
static void
facebook_usage(const struct conn_response *r, long *pct, long *wait)
{
	static const char *const names[] = { "X-App-Usage", "X-Page-Usage",
	    "X-Business-Use-Case-Usage" };
	const char *h;
	json_t *v;
	size_t i;

	*pct = 0;
	*wait = 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((h = conn_response_header(r, names[i])) == NULL ||
		    (v = json_loads(h, 0, NULL)) == NULL)
			continue;
		facebook_usage_walk(v, 0, pct, wait);
		json_decref(v);
	}
	if (*wait > CONN_RETRY_MAX)
		*wait = CONN_RETRY_MAX;
}

/* The wait of a rate limit: Retry-After, the usage headers, or ours. */
static long
facebook_rate_wait(const struct conn_response *r)
{
	long pct, wait, ra;

	if (conn_retry_after(r, &ra) == 1 && ra > 0)
		return ra;
	facebook_usage(r, &pct, &wait);
	return wait > 0 ? wait : FB_RATE_WAIT;
}

/*
 * An answer that is not a success, classified: Graph's error envelope
 * {"error": {message, type, code, error_subcode, fbtrace_id}} when it
 * has one, else the HTTP status. 0 for a success.
 */
static int
facebook_status(const struct fb_conf *c, const struct conn_response *r,
    json_t *v, int reply, struct conn_error *e)
{
	json_t *err = json_object_get(v, "error");
	long code = -1, sub = 0;
	enum conn_err kind;
	char said[FB_SAID_MAX + 8];
	const char *type;

	if (r->status >= 200 && r->status <= 299 && err == NULL)
		return 0;
	if (r->status >= 300 && r->status <= 399)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: a redirect "
		    "that was not followed", r->status);
	if (json_is_integer(json_object_get(err, "code")))
		code = (long)json_integer_value(json_object_get(err, "code"));
	if (json_is_integer(json_object_get(err, "error_subcode")))
		sub = (long)json_integer_value(json_object_get(err,
		    "error_subcode"));
	type = json_string_value(json_object_get(err, "type"));
	facebook_said(c, json_string_value(json_object_get(err, "message")),
	    said, sizeof(said));
	kind = facebook_kind(code, r->status, reply);
	if (kind == CONN_ERR_RATE_LIMITED) {
		conn_fail(e, kind, "HTTP %ld: Graph rate limit (code %ld): %s",
		    r->status, code, said);
		e->retry_after = facebook_rate_wait(r);
		return -1;
	}
	if (code < 0)
		return conn_fail(e, kind, "HTTP %ld%s", r->status,
		    kind == CONN_ERR_AUTH ? ": the Page token was refused" :
		    "");
	return conn_fail(e, kind, "HTTP %ld: Graph error %ld%s%.0ld (%s)%s%s",
	    r->status, code, sub != 0 ? "/" : "", sub, type != NULL &&
	    conn_word(type, 40) ? type : "?", said[0] != '\0' ? ": " : "",
	    said);
}

/* The body as a JSON object; what it is if it is not one. */
static json_t *
facebook_json(const struct conn_response *r, const char *what,
    struct conn_error *e)
{
	json_error_t je;
	json_t *v;
	char *title;

	if (r->body == NULL || r->body_len == 0) {
		conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: an empty body for "
		    "%s", r->status, what);
		return NULL;
	}
	if ((v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		title = htmltext_title(r->body, r->body_len, 80);
		if (title != NULL ||
		    r->body[strspn(r->body, " \t\r\n")] == '<')
			conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: got an "
			    "HTML page (\"%s\") for %s", r->status,
			    title != NULL ? title : "", what);
		else
			conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %s is not "
			    "JSON: line %d: %.80s", r->status, what, je.line,
			    je.text);
		free(title);
		return NULL;
	}
	if (!json_is_object(v)) {
		json_decref(v);
		conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %s is not a JSON "
		    "object", r->status, what);
		return NULL;
	}
	return v;
}

/* The body, read and checked: a JSON object with no error in it. */
static json_t *
facebook_answer(const struct fb_conf *c, const struct conn_response *r,
    int reply, const char *what, struct conn_error *e)
{
	json_t *v = NULL;

	if (r->status >= 200 && r->status <= 299) {
		if ((v = facebook_json(r, what, e)) == NULL)
			return NULL;
	} else if (r->body != NULL)
		v = json_loadb(r->body, r->body_len, 0, NULL);
	if (facebook_status(c, r, v, reply, e) == -1) {
		json_decref(v);
		return NULL;
	}
	return v;
}

/*
 * A failure whose text holds the token (a server that echoed it in a
 * page's title, say) keeps its kind and loses its words.
 */
static int
facebook_scrub(const struct fb_conf *c, struct conn_error *e)
{
	if (strstr(e->msg, c->token) != NULL)
		snprintf(e->msg, sizeof(e->msg), "%s (the server's words "
		    "quoted the token and are left out)",
		    conn_err_name(e->code));
	return -1;
}

static const char *
facebook_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* An id Graph may write as a number (older webhooks) or a string. */
static const char *
facebook_idval(json_t *v, struct arena *a)
{
	if (json_is_integer(v) && json_integer_value(v) > 0)
		return arena_printf(a, "%lld",
		    (long long)json_integer_value(v));
	return facebook_id_ok(json_string_value(v)) ?
	    json_string_value(v) : NULL;
}

/* The part of "{a}_{b}" after its last '_'. */
static const char *
facebook_tail(const char *id)
{
	const char *u = strrchr(id, '_');

	return u != NULL ? u + 1 : id;
}

/*
 * A link to a post or a comment, built from the ids alone so a poll
 * and a webhook give the same one: Graph's permalink_url is not in a
 * webhook.
 */
static const char *
facebook_link(struct arena *a, const char *post, const char *comment,
    const char *parent)
{
	if (comment == NULL)
		return arena_printf(a, "https://www.facebook.com/%s", post);
	if (parent == NULL || strcmp(parent, post) == 0)
		return arena_printf(a, "https://www.facebook.com/%s?"
		    "comment_id=%s", post, facebook_tail(comment));
	return arena_printf(a, "https://www.facebook.com/%s?comment_id=%s&"
	    "reply_comment_id=%s", post, facebook_tail(parent),
	    facebook_tail(comment));
}

/* What a post or comment says about its author. */
struct fb_who {
	const char	*id;	/* arena or JSON, or NULL */
	const char	*name;
};

/* from{id,name}, else the older sender_id / sender_name. */
static void
facebook_who(json_t *obj, struct arena *a, struct fb_who *w)
{
	json_t *from = json_object_get(obj, "from");

	w->id = facebook_idval(json_object_get(from, "id"), a);
	w->name = facebook_str(from, "name");
	if (w->id == NULL)
		w->id = facebook_idval(json_object_get(obj, "sender_id"), a);
	if (w->name == NULL)
		w->name = facebook_str(obj, "sender_name");
}

/* A time as Graph writes it: "2021-08-10T18:45:03+0000", or unix. */
static int64_t
facebook_time(json_t *v)
{
	int64_t t = 0;

	if (json_is_integer(v) && json_integer_value(v) > 0)
		return json_integer_value(v);
	if (json_string_value(v) != NULL &&
	    date_parse_iso8601(json_string_value(v), &t) == 0)
		return t;
	return 0;
}

/* One post or comment, as both a poll and a webhook read it. */
struct fb_thing {
	const char	*post;		/* the post, or the one above */
	const char	*comment;	/* NULL for a post */
	const char	*parent;	/* comment replied to, or NULL */
	struct fb_who	 who;
	const char	*message;
	int64_t		 created;
	int		 removed;
};

/*
 * The item, or 0 when there is none to file. Threads: a visitor's
 * post is one; a top-level comment is one (each visitor commenting on
 * the Page's post is a conversation of their own); a reply joins the
 * thread of the comment it answers. The Page's own posts are not
 * filed: they are broadcasts no visitor is in yet.
 */
static int
facebook_item(const struct fb_conf *c, const struct fb_thing *t,
    struct arena *a, struct conn_item *it)
{
	int page = t->who.id != NULL && strcmp(t->who.id, c->page) == 0;

	const char *post, *cm, *parent;

	memset(it, 0, sizeof(*it));
	if (t->comment == NULL && page)
		return 0;
	/* Copies: the JSON they come from is freed before the batch is. */
	post = arena_strdup(a, t->post);
	cm = t->comment != NULL ? arena_strdup(a, t->comment) : NULL;
	parent = t->parent != NULL ? arena_strdup(a, t->parent) : NULL;
	it->external_id = cm != NULL ? cm : post;
	it->parent_id = cm == NULL ? NULL : parent != NULL ? parent : post;
	it->thread_key = cm != NULL && parent != NULL &&
	    strcmp(parent, post) != 0 ? parent : it->external_id;
	it->dir = page ? ITEM_OUT : ITEM_IN;
	it->author_name = facebook_text(a, t->who.name, FB_NAME_MAX,
	    HTMLTEXT_ONELINE);
	it->author_handle = t->who.id != NULL ? arena_strdup(a, t->who.id) :
	    NULL;
	it->body = t->removed ? NULL : facebook_text(a, t->message,
	    FB_BODY_MAX, 0);
	if (!t->removed && it->body == NULL)
		it->body = "";
	it->url = facebook_link(a, post, cm, parent);
	it->rating = ITEM_NO_RATING;
	it->created_at = t->created;
	it->removed = t->removed;
	if (cm != NULL)
		it->meta = arena_printf(a, "{\"post_id\":\"%s\"}", post);
	return 1;
}

/* A comment as Graph's API gives it, under post. */
static int
facebook_comment(const struct fb_conf *c, json_t *cm, const char *post,
    struct arena *a, struct conn_item *it)
{
	struct fb_thing t;

	memset(&t, 0, sizeof(t));
	t.post = post;
	t.comment = facebook_str(cm, "id");
	t.parent = facebook_str(json_object_get(cm, "parent"), "id");
	if (!facebook_id_ok(t.comment) || (t.parent != NULL &&
	    !facebook_id_ok(t.parent)))
		return 0;
	facebook_who(cm, a, &t.who);
	t.message = facebook_str(cm, "message");
	t.created = facebook_time(json_object_get(cm, "created_time"));
	return facebook_item(c, &t, a, it);
}

static int
facebook_post(const struct fb_conf *c, json_t *p, struct arena *a,
    struct conn_item *it)
{
	struct fb_thing t;

	memset(&t, 0, sizeof(t));
	t.post = facebook_str(p, "id");
	if (!facebook_id_ok(t.post))
		return 0;
	facebook_who(p, a, &t.who);
	t.message = facebook_str(p, "message");
	t.created = facebook_time(json_object_get(p, "created_time"));
	return facebook_item(c, &t, a, it);
}

/* A page's data[], bounded; NULL (and the error) if it is not one. */
static json_t *
facebook_data(json_t *page, const char *what, struct conn_error *e)
{
	json_t *d = json_object_get(page, "data");

	if (!json_is_array(d)) {
		conn_fail(e, CONN_ERR_MALFORMED, "%s has no data array", what);
		return NULL;
	}
	if (json_array_size(d) > FB_PAGE_MAX) {
		conn_fail(e, CONN_ERR_MALFORMED, "%s has %zu entries, more "
		    "than %d", what, json_array_size(d), FB_PAGE_MAX);
		return NULL;
	}
	return d;
}

/* Where comments continue: the after cursor, if Graph gave a next. */
static const char *
facebook_after(json_t *comments)
{
	json_t *paging = json_object_get(comments, "paging");
	const char *after = facebook_str(json_object_get(paging, "cursors"),
	    "after");

	if (facebook_str(paging, "next") == NULL || after == NULL ||
	    !conn_word(after, FB_AFTER_MAX))
		return NULL;
	return after;
}

/* Items being gathered from one page. */
struct fb_items {
	struct conn_item	*v;	/* arena */
	size_t			 n, cap;
};

static void
facebook_comments_into(const struct fb_conf *c, json_t *data,
    const char *post, struct arena *a, struct fb_items *out)
{
	json_t *cm;
	size_t i;

	json_array_foreach(data, i, cm)
		if (out->n < out->cap && facebook_comment(c, cm, post, a,
		    &out->v[out->n]))
			out->n++;
}

/*
 * A feed page: its posts and their first comments; a post with more
 * comments goes on the cursor's more. -1 if malformed.
 */
static int
facebook_feed_page(const struct fb_conf *c, json_t *page,
    struct fb_cursor *cur, struct arena *a, struct fb_items *out,
    int64_t *oldest, struct conn_error *e)
{
	json_t *data, *p, *cd;
	const char *post, *after;
	size_t i;
	int64_t t;

	if ((data = facebook_data(page, "the feed page", e)) == NULL)
		return -1;
	json_array_foreach(data, i, p) {
		cd = json_object_get(json_object_get(p, "comments"), "data");
		if (cd != NULL && (!json_is_array(cd) ||
		    json_array_size(cd) > FB_PAGE_MAX))
			return conn_fail(e, CONN_ERR_MALFORMED, "post %zu's "
			    "comments are not a list of at most %d", i,
			    FB_PAGE_MAX);
		out->cap += 1 + json_array_size(cd);
	}
	out->v = arena_alloc(a, (out->cap + 1) * sizeof(*out->v));
	json_array_foreach(data, i, p) {
		post = facebook_str(p, "id");
		if (!facebook_id_ok(post))
			continue;
		t = facebook_time(json_object_get(p, "created_time"));
		if (t > cur->top)
			cur->top = t;
		if (t > 0 && (*oldest == 0 || t < *oldest))
			*oldest = t;
		if (facebook_post(c, p, a, &out->v[out->n]))
			out->n++;
		facebook_comments_into(c, json_object_get(json_object_get(p,
		    "comments"), "data"), post, a, out);
		after = facebook_after(json_object_get(p, "comments"));
		if (after != NULL && json_array_size(cur->more) < FB_MORE_MAX)
			json_array_append_new(cur->more, json_pack("[s,s]",
			    post, after));
	}
	return 0;
}

/* A page of one post's comments: the head of the cursor's more. */
static int
facebook_comments_page(const struct fb_conf *c, json_t *page,
    struct fb_cursor *cur, struct arena *a, struct fb_items *out,
    struct conn_error *e)
{
	json_t *data, *head = json_array_get(cur->more, 0);
	const char *post = json_string_value(json_array_get(head, 0));
	const char *after;

	if ((data = facebook_data(page, "the comments page", e)) == NULL)
		return -1;
	out->cap = json_array_size(data);
	out->v = arena_alloc(a, (out->cap + 1) * sizeof(*out->v));
	post = arena_strdup(a, post);
	facebook_comments_into(c, data, post, a, out);
	after = facebook_after(page);
	/* An empty page, or one that stands still, ends that post. */
	if (after != NULL && json_array_size(data) > 0 && strcmp(after,
	    json_string_value(json_array_get(head, 1))) != 0)
		json_array_set_new(cur->more, 0, json_pack("[s,s]", post,
		    after));
	else
		json_array_remove(cur->more, 0);
	return 0;
}

/*
 * Where the feed goes on: Graph's next page, unless this one was empty
 * or reached posts older than the run's window (Graph's time paging
 * may drop since from its next link). -1 if the link is unfit.
 */
static int
facebook_feed_next(const struct fb_conf *c, json_t *page, int64_t oldest,
    struct fb_cursor *cur, struct arena *a, struct conn_error *e)
{
	const char *link = facebook_str(json_object_get(page, "paging"),
	    "next");
	const char *url;

	cur->next[0] = '\0';
	if (link == NULL || json_array_size(json_object_get(page,
	    "data")) == 0 || (cur->since > FB_LOOKBACK && oldest > 0 &&
	    oldest < cur->since - FB_LOOKBACK))
		return 0;
	if ((url = facebook_next_url(c, link, a)) == NULL)
		return conn_fail(e, CONN_ERR_MALFORMED, "the feed's next page "
		    "is not on graph_base's host, or carries the token");
	snprintf(cur->next, sizeof(cur->next), "%s", url);
	return 0;
}

/* Fills the batch: items, the cursor, and the next request if any. */
static void
facebook_batch(const struct fb_conf *c, struct fb_cursor *cur,
    const struct fb_items *items, const struct conn_response *r,
    struct arena *a, struct conn_batch *b)
{
	long pct, wait;

	memset(b, 0, sizeof(*b));
	b->items = items->v;
	b->nitems = items->n;
	facebook_usage(r, &pct, &wait);
	if (json_array_size(cur->more) == 0 && cur->next[0] == '\0') {
		/* The run reached its end: the next starts from its top. */
		if (cur->top > cur->since)
			cur->since = cur->top;
		cur->top = 0;
	} else if (pct < FB_USAGE_SLOW) {
		b->next = arena_alloc(a, sizeof(*b->next));
		facebook_request(c, cur, a, b->next);
	}
	if (pct >= FB_USAGE_SLOW)
		b->min_interval = wait > FB_SLOW_WAIT ? wait : FB_SLOW_WAIT;
	b->cursor = facebook_cursor_text(cur, a);
}

static int
facebook_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *b,
    struct conn_error *e)
{
	const struct fb_conf *c = conf;
	struct fb_cursor cur;
	struct fb_items items;
	int64_t oldest = 0;
	json_t *page;
	int rc;

	e->retry_after = 0;
	memset(&items, 0, sizeof(items));
	if ((page = facebook_answer(c, r, 0, "the page", e)) == NULL)
		return facebook_scrub(c, e);
	facebook_cursor_read(c, cursor, &cur, a);
	if (json_array_size(cur.more) > 0)
		rc = facebook_comments_page(c, page, &cur, a, &items, e);
	else if ((rc = facebook_feed_page(c, page, &cur, a, &items, &oldest,
	    e)) == 0)
		rc = facebook_feed_next(c, page, oldest, &cur, a, e);
	if (rc == 0)
		facebook_batch(c, &cur, &items, r, a, b);
	json_decref(cur.more);
	json_decref(page);
	return rc == 0 ? 0 : facebook_scrub(c, e);
}

/* A webhook change's value as a post or comment; 0 if it is neither. */
static int
facebook_change(json_t *v, struct arena *a, struct fb_thing *t)
{
	const char *item = facebook_str(v, "item");
	const char *verb = facebook_str(v, "verb");

	memset(t, 0, sizeof(*t));
	if (item == NULL || verb == NULL || (strcmp(verb, "add") != 0 &&
	    strcmp(verb, "edited") != 0 && strcmp(verb, "edit") != 0 &&
	    strcmp(verb, "remove") != 0))
		return 0;
	t->post = facebook_idval(json_object_get(v, "post_id"), a);
	if (t->post == NULL)
		return 0;
	if (strcmp(item, "comment") == 0) {
		t->comment = facebook_idval(json_object_get(v, "comment_id"),
		    a);
		t->parent = facebook_idval(json_object_get(v, "parent_id"), a);
		if (t->comment == NULL)
			return 0;
	} else if (strcmp(item, "post") != 0 && strcmp(item, "status") != 0 &&
	    strcmp(item, "photo") != 0 && strcmp(item, "video") != 0 &&
	    strcmp(item, "share") != 0)
		return 0;	/* reactions, likes, events... */
	t->removed = strcmp(verb, "remove") == 0;
	facebook_who(v, a, &t->who);
	t->message = facebook_str(v, "message");
	t->created = facebook_time(json_object_get(v, "created_time"));
	return 1;
}

/* The changes of one entry (one page) into out. */
static void
facebook_entry(const struct fb_conf *c, json_t *entry, struct arena *a,
    struct fb_items *out)
{
	json_t *ch, *v;
	const char *field;
	struct fb_thing t;
	size_t i;

	json_array_foreach(json_object_get(entry, "changes"), i, ch) {
		field = facebook_str(ch, "field");
		v = json_object_get(ch, "value");
		if (field == NULL || (strcmp(field, "feed") != 0 &&
		    strcmp(field, "mention") != 0) || !facebook_change(v, a,
		    &t) || out->n >= out->cap)
			continue;
		if (t.created == 0)
			t.created = facebook_time(json_object_get(entry,
			    "time"));
		if (facebook_item(c, &t, a, &out->v[out->n]))
			out->n++;
	}
}

static int
facebook_webhook_parse(const void *conf, const char *body, size_t len,
    struct arena *a, struct conn_batch *b, struct conn_error *e)
{
	const struct fb_conf *c = conf;
	struct conn_response r = { .status = 200, .body = body,
	    .body_len = len };
	struct fb_items items;
	json_t *v, *entry;
	const char *id;
	size_t i;

	if ((v = facebook_json(&r, "the webhook delivery", e)) == NULL)
		return facebook_scrub(c, e);
	if (!json_is_array(json_object_get(v, "entry"))) {
		json_decref(v);
		return conn_fail(e, CONN_ERR_MALFORMED, "the webhook delivery "
		    "has no entry array");
	}
	memset(&items, 0, sizeof(items));
	json_array_foreach(json_object_get(v, "entry"), i, entry)
		items.cap += json_array_size(json_object_get(entry,
		    "changes"));
	items.v = arena_alloc(a, (items.cap + 1) * sizeof(*items.v));
	json_array_foreach(json_object_get(v, "entry"), i, entry) {
		id = facebook_idval(json_object_get(entry, "id"), a);
		if (id != NULL && strcmp(id, c->page) == 0)
			facebook_entry(c, entry, a, &items);
	}
	json_decref(v);
	memset(b, 0, sizeof(*b));
	b->items = items.v;
	b->nitems = items.n;
	return 0;
}

/* POST /{comment-id}/comments: a reply under the patient's comment. */
static int
facebook_reply(const void *conf, const struct conn_reply *rp,
    struct arena *a, struct conn_request *req, struct conn_error *e)
{
	const struct fb_conf *c = conf;
	struct buf f;

	if (!facebook_id_ok(rp->in_reply_to))
		return conn_fail(e, CONN_ERR_REFUSED, "the message answered "
		    "has no Facebook id");
	if (rp->body == NULL || rp->body[strspn(rp->body, " \t\r\n")] == '\0')
		return conn_fail(e, CONN_ERR_REFUSED, "an empty reply");
	buf_init(&f, 0);
	buf_puts(&f, "message=");
	conn_url_encode(&f, rp->body, 1);
	if (f.len > FB_FORM_MAX) {
		buf_free(&f);
		return conn_fail(e, CONN_ERR_REFUSED, "the reply is too long");
	}
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = arena_printf(a, "%s/%s/comments", c->base,
	    rp->in_reply_to);
	req->body = arena_strndup(a, f.data, f.len);
	req->body_len = f.len;
	buf_free(&f);
	conn_request_header(req, a, "Content-Type",
	    "application/x-www-form-urlencoded");
	conn_request_header(req, a, "Accept", "application/json");
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->token));
	return 0;
}

/* {"id": "..."}: the new comment's id, as a poll will give it. */
static int
facebook_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a, const char **external_id, struct conn_error *e)
{
	const char *id;
	json_t *v;

	e->retry_after = 0;
	if ((v = facebook_answer(conf, r, 1, "the posted comment", e)) ==
	    NULL)
		return facebook_scrub(conf, e);
	id = facebook_str(v, "id");
	if (!facebook_id_ok(id)) {
		json_decref(v);
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld to a reply "
		    "without a comment id", r->status);
	}
	*external_id = arena_strdup(a, id);
	json_decref(v);
	return 0;
}

const struct connector connector_facebook = {
	.name = "facebook",
	.title = "Facebook Page (visitors' posts and comments, answered "
	    "in the comment thread; webhooks)",
	.settings = facebook_settings,
	.reply_mode = CONN_REPLY_API,
	.configure = facebook_configure,
	.poll = facebook_poll,
	.parse = facebook_parse,
	.reply = facebook_reply,
	.reply_parse = facebook_reply_parse,
	/* Graph takes no idempotency key: a post cut short waits for a
	 * person, rather than risk a second comment. */
	.idempotent_replies = 0,
	.webhook_parse = facebook_webhook_parse,
};
