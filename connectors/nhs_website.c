/* nhs_website: the NHS website's comments API (JSON), by ODS code. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "date.h"
#include "htmltext.h"
#include "nhs.h"

/*
 * No genuine payload of this API was found: the one sample is a
 * reconstruction from client code, and the organisation's `response`
 * fields come from another client (tests/connectors/nhs-website/
 * README.md). So every field may be missing, ids may be numbers or
 * strings, names are matched in any case, a root that is the list
 * itself is taken, and an entry with no "comment" object is read as
 * the comment.
 *
 * A poll is a sweep: GET <base>/Comments?odsCode=..&offset=..&limit=..
 * page after page until one comes back with fewer than limit; later
 * sweeps add fromDate, the day of the newest time seen less a day of
 * overlap. Whether fromDate filters on submission or on the last
 * update is not known, so every `rescan` sweeps one goes without it,
 * to see takedowns and responses on older comments. The cursor names
 * the page in flight, so poll() and parse() agree on it and a sweep
 * cut short resumes there.
 */

#define NHSW_DEFAULT_URL	"https://api.nhs.uk/comments"
#define NHSW_NAME		"nhs-website"
#define NHSW_OVERLAP_DAYS	1
#define NHSW_MAX_OFFSET		1000000L
#define NHSW_MAX_RATINGS	32

struct nhs_website_conf {
	const char	*base;		/* arena, no trailing '/' */
	const char	*key;		/* arena; secret */
	const char	*ods;		/* arena, upper case */
	long		 limit;
	long		 rescan;	/* sweeps between full ones; 0 never */
	const char	*reviews_url;	/* arena, or NULL */
};

/* Where the sweeps are. */
struct nhs_website_cursor {
	const char	*from;	/* arena "YYYY-MM-DD", or NULL: none yet */
	int		 busy;	/* a sweep is in flight */
	int		 full;	/* ... without fromDate */
	long		 offset;	/* ... at this offset */
	int64_t		 high;	/* newest time it has seen; 0 none */
	long		 sweeps;	/* since the last full one */
};

/* One page's job. */
struct nhs_website_job {
	const struct nhs_website_conf	*conf;
	struct arena			*a;
	int64_t				 high;
};

static const struct conn_setting nhs_website_settings[] = {
	{ .key = "base_url", .def = NHSW_DEFAULT_URL,
	    .help = "the comments API's address" },
	{ .key = "subscription_key", .required = 1, .secret = 1,
	    .help = "API subscription key, sent as subscription-key:" },
	{ .key = "ods_code", .required = 1,
	    .help = "ODS code of the organisation (odsCode=)" },
	{ .key = "limit", .def = "50",
	    .help = "comments per page, 1 to 1000" },
	{ .key = "rescan", .def = "24",
	    .help = "every this many sweeps, one without fromDate; 0 never" },
	{ .key = "reviews_url",
	    .help = "the organisation's ratings-and-reviews page on "
	    "www.nhs.uk, for handoff tasks" },
	{ .key = NULL },
};

/* A whole number in lo..hi, or -1. */
static long
nhs_website_number(const char *s, long lo, long hi)
{
	char *end;
	long v;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	v = strtol(s, &end, 10);
	return *end == '\0' && v >= lo && v <= hi ? v : -1;
}

static int
nhs_website_ods_ok(const char *s)
{
	size_t n = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789");

	return n >= 3 && n <= 10 && s[n] == '\0';
}

static char *
nhs_website_upper(struct arena *a, const char *s)
{
	char *u = arena_strdup(a, s), *p;

	for (p = u; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	return u;
}

static int
nhs_website_configure_more(struct arena *a, const struct conn_settings *set,
    struct nhs_website_conf *c, struct conn_error *e)
{
	const char *limit = conn_settings_get(set, "limit");
	const char *rescan = conn_settings_get(set, "rescan");
	const char *rev = conn_settings_get(set, "reviews_url");

	c->limit = limit != NULL ? nhs_website_number(limit, 1, 1000) : 50;
	c->rescan = rescan != NULL ? nhs_website_number(rescan, 0, 100000) :
	    24;
	if (c->limit == -1)
		return conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": limit must "
		    "be 1 to 1000");
	if (c->rescan == -1)
		return conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": rescan must "
		    "be a number of sweeps, 0 for never");
	if (rev != NULL && (c->reviews_url = nhs_link(a, rev)) == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": "
		    "reviews_url must be an http(s) address");
	return 0;
}

static void *
nhs_website_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "base_url");
	const char *key = conn_settings_get(set, "subscription_key");
	const char *ods = conn_settings_get(set, "ods_code");
	struct nhs_website_conf *c = arena_alloc(a, sizeof(*c));

	if ((c->base = nhs_base_url(a, url != NULL ? url :
	    NHSW_DEFAULT_URL)) == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": base_url must be "
		    "http(s)://host[/path], with no query");
		return NULL;
	}
	/* The key goes in a header: no blanks, no controls. */
	if (key == NULL || !nhs_key_ok(key)) {
		conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": subscription_key "
		    "is missing or has characters a key does not have");
		return NULL;
	}
	if (ods == NULL || !nhs_website_ods_ok(ods)) {
		conn_fail(e, CONN_ERR_CONFIG, NHSW_NAME ": ods_code must be "
		    "an ODS code (letters and digits)");
		return NULL;
	}
	if (nhs_website_configure_more(a, set, c, e) == -1)
		return NULL;
	c->key = arena_strdup(a, key);
	c->ods = nhs_website_upper(a, ods);
	return c;
}

/* "YYYY-MM-DD" that is a real day. */
static int
nhs_website_day_ok(const char *s)
{
	char back[DATE_ISO_SIZE];
	int64_t t;

	return strlen(s) == 10 && date_parse_iso8601(s, &t) == 0 &&
	    date_format(t, back, sizeof(back)) == 0 &&
	    strncmp(back, s, 10) == 0;
}

static long
nhs_website_json_long(json_t *obj, const char *key, long lo, long hi)
{
	json_t *v = json_object_get(obj, key);

	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi)
		return 0;
	return (long)json_integer_value(v);
}

/* A saved cursor; what is unreadable counts as absent. */
static void
nhs_website_cursor_read(const char *text, struct arena *a,
    struct nhs_website_cursor *cur)
{
	const char *s;
	json_t *obj;

	memset(cur, 0, sizeof(*cur));
	if (text == NULL || (obj = json_loads(text, 0, NULL)) == NULL)
		return;
	s = json_string_value(json_object_get(obj, "from"));
	if (s != NULL && nhs_website_day_ok(s))
		cur->from = arena_strdup(a, s);
	cur->busy = json_is_integer(json_object_get(obj, "offset"));
	cur->offset = nhs_website_json_long(obj, "offset", 0,
	    NHSW_MAX_OFFSET);
	cur->full = json_is_true(json_object_get(obj, "full"));
	cur->sweeps = nhs_website_json_long(obj, "sweeps", 0, 1000000);
	s = json_string_value(json_object_get(obj, "high"));
	if (s == NULL || date_parse_iso8601(s, &cur->high) == -1)
		cur->high = 0;
	json_decref(obj);
}

static const char *
nhs_website_cursor_text(const struct nhs_website_cursor *cur,
    struct arena *a)
{
	json_t *obj = json_object();
	const char *high;

	if (cur->from != NULL)
		json_object_set_new(obj, "from", json_string(cur->from));
	if (cur->busy) {
		json_object_set_new(obj, "offset",
		    json_integer(cur->offset));
		if (cur->full)
			json_object_set_new(obj, "full", json_true());
	}
	if (cur->high != 0 && (high = nhs_iso(a, cur->high)) != NULL)
		json_object_set_new(obj, "high", json_string(high));
	if (cur->sweeps > 0)
		json_object_set_new(obj, "sweeps", json_integer(cur->sweeps));
	return nhs_json_text(a, obj);
}

/*
 * The page in flight: a sweep's next offset, or the first page of a
 * new sweep, full when there is no day yet or a rescan is due.
 */
static void
nhs_website_page(const struct nhs_website_conf *c,
    struct nhs_website_cursor *cur)
{
	if (cur->busy)
		return;
	cur->busy = 1;
	cur->offset = 0;
	cur->high = 0;
	cur->full = cur->from == NULL ||
	    (c->rescan > 0 && cur->sweeps >= c->rescan);
}

static struct conn_request *
nhs_website_request(const struct nhs_website_conf *c,
    const struct nhs_website_cursor *cur, struct arena *a)
{
	struct conn_request *r = arena_alloc(a, sizeof(*r));

	r->method = "GET";
	r->url = arena_printf(a, "%s/Comments?odsCode=%s&offset=%ld"
	    "&limit=%ld%s%s", c->base, c->ods, cur->offset, c->limit,
	    cur->full ? "" : "&fromDate=", cur->full ? "" : cur->from);
	conn_request_header(r, a, "Accept", "application/json");
	conn_request_header(r, a, "subscription-key", c->key);
	return r;
}

static int
nhs_website_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct nhs_website_conf *c = conf;
	struct nhs_website_cursor cur;

	(void)e;
	nhs_website_cursor_read(cursor, a, &cur);
	nhs_website_page(c, &cur);
	*req = *nhs_website_request(c, &cur, a);
	return 0;
}

/* obj's member named key in any case ("responseID", "responseId"). */
static json_t *
nhs_website_get(json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if (!json_is_object(obj))
		return NULL;
	if ((v = json_object_get(obj, key)) != NULL)
		return v;
	json_object_foreach(obj, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

static const char *
nhs_website_str(json_t *obj, const char *key)
{
	return json_string_value(nhs_website_get(obj, key));
}

/* An id, string or number, fit to store; else NULL. */
static const char *
nhs_website_id(struct arena *a, json_t *obj, const char *key)
{
	json_t *v = nhs_website_get(obj, key);
	const char *s;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return arena_printf(a, "%lld",
		    (long long)json_integer_value(v));
	s = json_string_value(v);
	return s != NULL && nhs_id_ok(s) ? arena_strdup(a, s) : NULL;
}

static const char *
nhs_website_text(struct arena *a, json_t *obj, const char *key, size_t max,
    int flags)
{
	return nhs_text(a, nhs_website_str(obj, key), max, flags, 0);
}

static int64_t
nhs_website_time(struct nhs_website_job *job, json_t *obj, const char *key)
{
	const char *s = nhs_website_str(obj, key);
	int64_t t;

	if (s == NULL || date_parse(s, &t) == -1)
		return 0;
	if (t > job->high)
		job->high = t;
	return t;
}

/* Copies a short string member into meta under name. */
static void
nhs_website_meta_str(struct arena *a, json_t *meta, json_t *obj,
    const char *key, const char *name)
{
	const char *s = nhs_website_text(a, obj, key, NHS_NAME_MAX,
	    HTMLTEXT_ONELINE);

	if (s != NULL)
		json_object_set_new(meta, name, json_string(s));
}

/* A small whole number, given as a number or as digits; else -1. */
static long
nhs_website_int(json_t *v)
{
	const char *s = json_string_value(v);

	if (json_is_integer(v))
		return json_integer_value(v) >= 0 &&
		    json_integer_value(v) <= 1000 ?
		    (long)json_integer_value(v) : -1;
	return s != NULL ? nhs_website_number(s, 0, 1000) : -1;
}

/*
 * The ratings, kept in meta; the overall one (or lacking it the first
 * of 1..5) is the item's.
 */
static int
nhs_website_ratings(struct arena *a, json_t *list, json_t *meta)
{
	json_t *all = json_array(), *r, *v;
	const char *q;
	int rating = ITEM_NO_RATING;
	size_t i;
	long n;

	json_array_foreach(list, i, r) {
		v = nhs_website_get(r, "rating");
		if (i >= NHSW_MAX_RATINGS || (n = nhs_website_int(v)) < 0)
			continue;
		q = nhs_website_text(a, r, "question", NHS_TITLE_MAX,
		    HTMLTEXT_ONELINE);
		json_array_append_new(all, json_pack("{s:s?,s:I}",
		    "question", q, "value", (json_int_t)n));
		if (n >= 1 && n <= 5 && (rating == ITEM_NO_RATING ||
		    (q != NULL && strcasecmp(q, "Overall rating") == 0)))
			rating = (int)n;
	}
	if (json_array_size(all) > 0)
		json_object_set_new(meta, "ratings", all);
	else
		json_decref(all);
	return rating;
}

/* "visit": {"month": 4, "year": 2023} as "2023-04". */
static void
nhs_website_visit(json_t *meta, json_t *visit)
{
	long m = nhs_website_json_long(visit, "month", 1, 12);
	long y = nhs_website_json_long(visit, "year", 1900, 9999);

	if (m != 0 && y != 0)
		json_object_set_new(meta, "visit",
		    json_sprintf("%04ld-%02ld", y, m));
}

static const char *
nhs_website_meta(struct arena *a, json_t *c, int *rating)
{
	json_t *meta = json_object(), *v;

	*rating = nhs_website_ratings(a, nhs_website_get(c, "ratings"), meta);
	nhs_website_visit(meta, nhs_website_get(c, "visit"));
	nhs_website_meta_str(a, meta, c, "commentRef", "ref");
	nhs_website_meta_str(a, meta, c, "department", "department");
	nhs_website_meta_str(a, meta, c, "publisherID", "publisher");
	nhs_website_meta_str(a, meta, c, "publishersCommentRef",
	    "publisher_ref");
	if ((v = nhs_website_get(c, "sentimentScore")) != NULL &&
	    json_is_integer(v))
		json_object_set_new(meta, "sentiment", json_copy(v));
	if ((v = nhs_website_get(c, "removeReportLink")) != NULL &&
	    json_is_boolean(v))
		json_object_set_new(meta, "report_link_removed",
		    json_copy(v));
	if (json_object_size(meta) == 0) {
		json_decref(meta);
		return NULL;
	}
	return nhs_json_text(a, meta);
}

/* What every item, comment or response, takes the same way. */
static void
nhs_website_common(struct nhs_website_job *job, json_t *obj,
    struct conn_item *it)
{
	const char *status = nhs_website_text(job->a, obj, "status",
	    NHS_NAME_MAX, HTMLTEXT_ONELINE);
	const char *ods = nhs_website_str(obj, "odsCode");

	it->body = nhs_website_text(job->a, obj, "commentText", NHS_BODY_MAX,
	    0);
	it->created_at = nhs_website_time(job, obj, "dateSubmitted");
	it->updated_at = nhs_website_time(job, obj, "lastUpdated");
	if (it->updated_at == 0)
		it->updated_at = it->created_at;
	if (it->created_at == 0)
		it->created_at = it->updated_at;
	it->channel_status = status;
	it->removed = status != NULL && strcasecmp(status, "removed") == 0;
	if (ods != NULL && nhs_website_ods_ok(ods))
		it->org_hint = nhs_website_upper(job->a, ods);
}

static int
nhs_website_comment(struct nhs_website_job *job, json_t *c,
    struct conn_item *it)
{
	struct arena *a = job->a;

	memset(it, 0, sizeof(*it));
	if ((it->external_id = nhs_website_id(a, c, "commentId")) == NULL)
		return -1;
	it->thread_key = it->external_id;
	it->dir = ITEM_IN;
	nhs_website_common(job, c, it);
	it->title = nhs_website_text(a, c, "title", NHS_TITLE_MAX,
	    HTMLTEXT_ONELINE);
	it->author_name = nhs_website_text(a, c, "screenName", NHS_NAME_MAX,
	    HTMLTEXT_ONELINE);
	it->url = nhs_link(a, nhs_website_str(c, "commentOriginalURL"));
	it->meta = nhs_website_meta(a, c, &it->rating);
	return 0;
}

/*
 * The organisation's response, filed in the comment's thread. Its id
 * is the comment's with "R", as on NHS Choices: the response's own id
 * is not certain to be there, nor to be apart from comments' ids.
 */
static int
nhs_website_response(struct nhs_website_job *job, json_t *r,
    const struct conn_item *c, struct conn_item *it)
{
	const char *rid;

	memset(it, 0, sizeof(*it));
	if (!json_is_object(r) || (nhs_website_get(r, "commentText") ==
	    NULL && nhs_website_get(r, "commentId") == NULL))
		return -1;
	it->external_id = arena_printf(job->a, "%sR", c->external_id);
	it->thread_key = c->external_id;
	it->parent_id = c->external_id;
	it->dir = ITEM_OUT;
	it->rating = ITEM_NO_RATING;
	it->url = c->url;
	nhs_website_common(job, r, it);
	if (it->org_hint == NULL)
		it->org_hint = c->org_hint;
	if ((rid = nhs_website_id(job->a, r, "commentId")) != NULL)
		it->meta = arena_printf(job->a, "{\"response_id\":\"%s\"}",
		    rid);
	return 0;
}

/* One element of the list: a comment, and its response if it has one. */
static size_t
nhs_website_entry(struct nhs_website_job *job, json_t *el,
    struct conn_item *it)
{
	json_t *c = nhs_website_get(el, "comment");

	/* No "comment" object: the element is the comment itself. */
	if (!json_is_object(c))
		c = el;
	if (!json_is_object(c) || nhs_website_comment(job, c, &it[0]) == -1)
		return 0;
	if (nhs_website_response(job, nhs_website_get(el, "response"),
	    &it[0], &it[1]) == -1)
		return 1;
	return 2;
}

/* The list of comments: the root's "comments", or the root itself. */
static json_t *
nhs_website_list(json_t *root)
{
	json_t *v;

	if (json_is_array(root))
		return root;
	v = nhs_website_get(root, "comments");
	return json_is_array(v) ? v : NULL;
}

static void
nhs_website_items(struct nhs_website_job *job, json_t *list,
    struct conn_batch *b)
{
	size_t i, n = json_array_size(list);

	if (n > NHS_MAX_ITEMS / 2)
		n = NHS_MAX_ITEMS / 2;
	if (n == 0)
		return;
	b->items = arena_alloc(job->a, 2 * n * sizeof(*b->items));
	for (i = 0; i < n; i++)
		b->nitems += nhs_website_entry(job, json_array_get(list, i),
		    &b->items[b->nitems]);
}

/* Whether a body is an HTML page, from its first tag. */
static int
nhs_website_html(const char *b, size_t len)
{
	size_t i = 0;

	while (i < len && strchr(" \t\r\n", b[i]) != NULL && b[i] != '\0')
		i++;
	return len - i >= 5 && (strncasecmp(b + i, "<html", 5) == 0 ||
	    (len - i >= 9 && strncasecmp(b + i, "<!doctype", 9) == 0));
}

/* Body -> the list of comments; -1 with e if it is none. */
static int
nhs_website_read(const struct conn_response *r, json_t **root,
    json_t **list, struct conn_error *e)
{
	json_error_t je;

	if (r->body_len > NHS_MAX_BODY)
		return conn_fail(e, CONN_ERR_MALFORMED, NHSW_NAME ": response "
		    "larger than %d bytes", NHS_MAX_BODY);
	if (nhs_website_html(r->body, r->body_len))
		return conn_fail(e, CONN_ERR_MALFORMED, NHSW_NAME ": not "
		    "JSON: got an HTML page");
	if ((*root = json_loadb(r->body, r->body_len, 0, &je)) == NULL)
		return conn_fail(e, CONN_ERR_MALFORMED, NHSW_NAME ": %s JSON "
		    "at line %d: %.100s", je.position >= (int)r->body_len ?
		    "truncated" : "ill-formed", je.line, je.text);
	if ((*list = nhs_website_list(*root)) == NULL) {
		json_decref(*root);
		return conn_fail(e, CONN_ERR_MALFORMED, NHSW_NAME ": no list "
		    "of comments in the response");
	}
	return 0;
}

/* The cursor after a page of n elements. */
static const char *
nhs_website_cursor_next(const struct nhs_website_conf *c,
    struct nhs_website_cursor *cur, size_t n, int64_t high,
    struct arena *a)
{
	const char *day;

	if (high > cur->high)
		cur->high = high;
	/* A full page: there may be more, unless we are past all sense. */
	if ((long)n >= c->limit && cur->offset + (long)n <= NHSW_MAX_OFFSET) {
		cur->offset += (long)n;
		return nhs_website_cursor_text(cur, a);
	}
	cur->sweeps = cur->full ? 1 : cur->sweeps + 1;
	if (cur->high != 0 && (day = nhs_day(a, cur->high,
	    NHSW_OVERLAP_DAYS)) != NULL && (cur->from == NULL ||
	    strcmp(day, cur->from) > 0))
		cur->from = day;
	cur->busy = 0;
	cur->high = 0;
	return nhs_website_cursor_text(cur, a);
}

static int
nhs_website_parse_page(const struct nhs_website_conf *c, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct nhs_website_job job = { c, a, 0 };
	struct nhs_website_cursor cur;
	struct conn_batch b;
	json_t *root = NULL, *list = NULL;
	size_t n;

	if (nhs_status(r, NHSW_NAME, e) == -1 ||
	    nhs_website_read(r, &root, &list, e) == -1)
		return -1;
	memset(&b, 0, sizeof(b));
	nhs_website_cursor_read(cursor, a, &cur);
	nhs_website_page(c, &cur);
	nhs_website_items(&job, list, &b);
	n = json_array_size(list);
	json_decref(root);
	b.cursor = nhs_website_cursor_next(c, &cur, n, job.high, a);
	if (cur.busy)
		b.next = nhs_website_request(c, &cur, a);
	*out = b;
	return 0;
}

static int
nhs_website_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	const struct nhs_website_conf *c = conf;

	if (nhs_website_parse_page(c, cursor, r, a, out, e) == 0)
		return 0;
	nhs_scrub(e, c->key);
	return -1;
}

static const char *
nhs_website_handoff_url(const void *conf, const char *thread_key,
    struct arena *a)
{
	const struct nhs_website_conf *c = conf;

	(void)thread_key;
	(void)a;
	return c->reviews_url;
}

const struct connector connector_nhs_website = {
	.name = NHSW_NAME,
	.title = "NHS website comments (NHS.UK comments API)",
	.settings = nhs_website_settings,
	.reply_mode = CONN_REPLY_HANDOFF,
	.min_gap_ms = 1000,
	.configure = nhs_website_configure,
	.poll = nhs_website_poll,
	.parse = nhs_website_parse,
	.handoff_url = nhs_website_handoff_url,
};
