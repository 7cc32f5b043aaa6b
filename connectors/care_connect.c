/* care_connect: Open311 GeoReport v2 and FixMyStreet's updates, both ways. */
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
#include "open311_doc.h"

#define CARE_CONNECT_URL_MAX	2048
#define CARE_CONNECT_ID_MAX	200	/* bytes of an id */
#define CARE_CONNECT_WORD_MAX	512	/* a key, jurisdiction, code */
#define CARE_CONNECT_TITLE_MAX	500
#define CARE_CONNECT_BODY_MAX	(64 * 1024)
#define CARE_CONNECT_META_MAX	1000	/* bytes of one meta value */
#define CARE_CONNECT_FORM_MAX	(1024 * 1024)
/*
 * Each poll asks again for the last hour before the newest item seen:
 * a back-office system that syncs late can publish an update dated
 * before it became visible. Asked twice, an item is upserted, never
 * duplicated.
 */
#define CARE_CONNECT_OVERLAP	3600

#define CARE_CONNECT_ACCEPT_XML	\
	"text/xml, application/xml;q=0.9, */*;q=0.1"
#define CARE_CONNECT_ACCEPT_JSON \
	"application/json, */*;q=0.1"

/* The two requests of one poll, chained with batch.next. */
enum care_connect_step {
	CARE_CONNECT_REQUESTS = 0,	/* GET requests.xml */
	CARE_CONNECT_UPDATES,		/* GET servicerequestupdates */
};

struct care_connect_conf {
	const char	*endpoint;	/* arena, without a trailing '/' */
	const char	*api_key;	/* arena or NULL; secret, POSTs */
	const char	*jurisdiction;	/* arena or NULL */
	const char	*service_code;	/* arena or NULL */
	const char	*report_url;	/* arena or NULL; has "{id}" */
	const char	*reply_status;	/* arena, upper case */
	const char	*reply_email;	/* arena or NULL */
	int		 json;		/* ask for .json, else .xml */
	size_t		 page_size;
};

/*
 * The saved cursor. The step names the request poll() makes and
 * parse() reads; *_since is the start_date of each list (0: none yet);
 * until and pending are set only while a full page is followed by the
 * older part of its window (end_date = until), pending keeping the
 * newest time seen in that window until the window is done.
 */
struct care_connect_cursor {
	enum care_connect_step	 step;
	int64_t			 requests_since;
	int64_t			 updates_since;
	int64_t			 until;
	int64_t			 pending;
};

static const struct conn_setting care_connect_settings[] = {
	{ .key = "endpoint", .required = 1,
	    .help = "Open311 base URL, http:// or https:// "
	    "(requests.xml and servicerequestupdates.xml live under it)" },
	{ .key = "api_key", .secret = 1,
	    .help = "key sent as api_key with each reply (POST only); "
	    "needed to reply" },
	{ .key = "jurisdiction_id",
	    .help = "jurisdiction_id, when the endpoint serves several "
	    "organisations (one source each)" },
	{ .key = "format", .def = "xml", .help = "xml or json" },
	{ .key = "service_code",
	    .help = "only requests of these services (service_code, "
	    "comma-separated); the updates list has no such filter" },
	{ .key = "page_size", .def = "1000",
	    .help = "most requests the server returns at once; a full "
	    "page is followed by the older rest of its window" },
	{ .key = "report_url",
	    .help = "a request's public page, {id} standing for its id" },
	{ .key = "reply_status", .def = "OPEN",
	    .help = "status posted with each reply (OPEN, IN_PROGRESS, "
	    "INVESTIGATING, ACTION_SCHEDULED...)" },
	{ .key = "reply_email",
	    .help = "email address posted with each reply" },
	{ .key = NULL },
};

/* Printable, bounded, not empty: fit for a query or a form. */
static int
care_connect_word(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] < 0x20 || s[n] == 0x7f)
			return 0;
	return n > 0 && n <= max;
}

/* An absolute http(s) URL with a host and no blanks; 1 if so. */
static int
care_connect_web_url(const char *s)
{
	size_t n, i;

	if (strncasecmp(s, "https://", 8) == 0)
		n = 8;
	else if (strncasecmp(s, "http://", 7) == 0)
		n = 7;
	else
		return 0;
	for (i = 0; s[i] != '\0'; i++)
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
			return 0;
	return i <= CARE_CONNECT_URL_MAX && strchr("/?#:@", s[n]) == NULL &&
	    s[n] != '\0';
}

static int
care_connect_check_endpoint(const char *url, struct conn_error *e)
{
	/* Never echoed: an operator may have put a token in it. */
	if (!care_connect_web_url(url))
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: endpoint "
		    "must be an http:// or https:// URL with a host");
	if (strpbrk(url, "?#") != NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: endpoint "
		    "must not have a query or fragment");
	return 0;
}

/* Settings that are one printable word each, if given. */
static int
care_connect_check_words(const struct conn_settings *set,
    struct conn_error *e)
{
	static const char *const keys[] = { "api_key", "jurisdiction_id",
	    "service_code", "reply_email" };
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = conn_settings_get(set, keys[i])) != NULL &&
		    !care_connect_word(v, CARE_CONNECT_WORD_MAX))
			return conn_fail(e, CONN_ERR_CONFIG, "care-connect: "
			    "%s is empty, too long or has control characters",
			    keys[i]);
	v = conn_settings_get(set, "reply_email");
	if (v != NULL && (strchr(v, '@') == NULL || strchr(v, ' ') != NULL))
		return conn_fail(e, CONN_ERR_CONFIG,
		    "care-connect: reply_email is not an email address");
	return 0;
}

/* format and page_size into c. */
static int
care_connect_check_format(const struct conn_settings *set,
    struct care_connect_conf *c, struct conn_error *e)
{
	const char *fmt = conn_settings_get(set, "format");
	const char *size = conn_settings_get(set, "page_size");
	char *end;
	long n;

	if (fmt != NULL && strcmp(fmt, "json") != 0 && strcmp(fmt, "xml"))
		return conn_fail(e, CONN_ERR_CONFIG,
		    "care-connect: format must be 'xml' or 'json'");
	c->json = fmt != NULL && strcmp(fmt, "json") == 0;
	if (size == NULL)
		return 0;
	n = strtol(size, &end, 10);
	if (end == size || *end != '\0' || n < 1 || n > OPEN311_MAX_RECORDS)
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: "
		    "page_size must be 1 to %d", OPEN311_MAX_RECORDS);
	c->page_size = (size_t)n;
	return 0;
}

/* report_url and reply_status (upper case) into c. */
static int
care_connect_check_links(const struct conn_settings *set,
    struct care_connect_conf *c, struct arena *a, struct conn_error *e)
{
	const char *link = conn_settings_get(set, "report_url");
	const char *st = conn_settings_get(set, "reply_status");
	char *up;
	size_t i;

	if (link != NULL && (!care_connect_web_url(link) ||
	    strstr(link, "{id}") == NULL))
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: "
		    "report_url must be an http(s) URL with {id} in it");
	c->report_url = link != NULL ? arena_strdup(a, link) : NULL;
	up = arena_strdup(a, st != NULL ? st : "OPEN");
	for (i = 0; up[i] != '\0'; i++)
		if (up[i] >= 'a' && up[i] <= 'z')
			up[i] -= 'a' - 'A';
	if (!open311_post_status(up))
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: "
		    "reply_status must be an Open311 status such as OPEN, "
		    "IN_PROGRESS or INVESTIGATING");
	c->reply_status = up;
	return 0;
}

static const char *
care_connect_dup(struct arena *a, const struct conn_settings *set,
    const char *key)
{
	const char *v = conn_settings_get(set, key);

	return v != NULL ? arena_strdup(a, v) : NULL;
}

static void *
care_connect_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "endpoint");
	struct care_connect_conf c, *out;
	size_t n;

	memset(&c, 0, sizeof(c));
	c.page_size = 1000;
	if (url == NULL) {
		conn_fail(e, CONN_ERR_CONFIG,
		    "care-connect: missing setting 'endpoint'");
		return NULL;
	}
	if (care_connect_check_endpoint(url, e) == -1 ||
	    care_connect_check_words(set, e) == -1 ||
	    care_connect_check_format(set, &c, e) == -1 ||
	    care_connect_check_links(set, &c, a, e) == -1)
		return NULL;
	n = strlen(url);
	while (n > 0 && url[n - 1] == '/')
		n--;
	c.endpoint = arena_strndup(a, url, n);
	c.api_key = care_connect_dup(a, set, "api_key");
	c.jurisdiction = care_connect_dup(a, set, "jurisdiction_id");
	c.service_code = care_connect_dup(a, set, "service_code");
	c.reply_email = care_connect_dup(a, set, "reply_email");
	out = arena_alloc(a, sizeof(*out));
	*out = c;
	return out;
}

/* A time from the cursor; 0 if absent or unreadable. */
static int64_t
care_connect_cursor_time(json_t *obj, const char *key)
{
	const char *s = json_string_value(json_object_get(obj, key));
	int64_t t;

	if (s == NULL || date_parse_iso8601(s, &t) == -1 || t <= 0)
		return 0;
	return t;
}

/* A saved cursor; anything unreadable reads as a fresh start. */
static void
care_connect_cursor_read(const char *text, struct care_connect_cursor *cur)
{
	const char *step;
	json_t *obj;

	memset(cur, 0, sizeof(*cur));
	if (text == NULL || (obj = json_loads(text, 0, NULL)) == NULL)
		return;
	if (json_is_object(obj)) {
		step = json_string_value(json_object_get(obj, "step"));
		if (step != NULL && strcmp(step, "updates") == 0)
			cur->step = CARE_CONNECT_UPDATES;
		cur->requests_since = care_connect_cursor_time(obj,
		    "requests_since");
		cur->updates_since = care_connect_cursor_time(obj,
		    "updates_since");
		cur->until = care_connect_cursor_time(obj, "until");
		cur->pending = care_connect_cursor_time(obj, "pending");
	}
	json_decref(obj);
}

static void
care_connect_cursor_put(json_t *obj, const char *key, int64_t t)
{
	char iso[DATE_ISO_SIZE];

	if (t > 0 && date_format(t, iso, sizeof(iso)) == 0)
		json_object_set_new(obj, key, json_string(iso));
}

/* Canonical JSON text of a cursor, in the arena. */
static const char *
care_connect_cursor_text(const struct care_connect_cursor *cur,
    struct arena *a)
{
	json_t *obj = json_object();
	const char *out;
	char *s;

	json_object_set_new(obj, "step", json_string(cur->step ==
	    CARE_CONNECT_UPDATES ? "updates" : "requests"));
	care_connect_cursor_put(obj, "requests_since", cur->requests_since);
	care_connect_cursor_put(obj, "updates_since", cur->updates_since);
	care_connect_cursor_put(obj, "until", cur->until);
	care_connect_cursor_put(obj, "pending", cur->pending);
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

/* "&key=value", or "key=value" first; nothing for a NULL value. */
static void
care_connect_param(struct buf *b, const char *key, const char *value)
{
	if (value == NULL)
		return;
	if (b->len > 0)
		buf_append(b, "&", 1);
	buf_puts(b, key);
	buf_append(b, "=", 1);
	conn_url_encode(b, value, 1);
}

static void
care_connect_param_time(struct buf *b, const char *key, int64_t t)
{
	char iso[DATE_ISO_SIZE];

	if (t > 0 && date_format(t, iso, sizeof(iso)) == 0)
		care_connect_param(b, key, iso);
}

/* The GET for the cursor's step: its list since, up to until. */
static void
care_connect_get(const struct care_connect_conf *c,
    const struct care_connect_cursor *cur, struct arena *a,
    struct conn_request *req)
{
	int upd = cur->step == CARE_CONNECT_UPDATES;
	struct buf q;

	memset(req, 0, sizeof(*req));
	buf_init(&q, 0);
	care_connect_param(&q, "jurisdiction_id", c->jurisdiction);
	if (!upd)
		care_connect_param(&q, "service_code", c->service_code);
	care_connect_param_time(&q, "start_date", upd ? cur->updates_since :
	    cur->requests_since);
	care_connect_param_time(&q, "end_date", cur->until);
	req->method = "GET";
	req->url = arena_printf(a, "%s/%s.%s%s%s", c->endpoint, upd ?
	    "servicerequestupdates" : "requests", c->json ? "json" : "xml",
	    q.len > 0 ? "?" : "", q.len > 0 ? q.data : "");
	buf_free(&q);
	conn_request_header(req, a, "Accept", c->json ?
	    CARE_CONNECT_ACCEPT_JSON : CARE_CONNECT_ACCEPT_XML);
}

static int
care_connect_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	struct care_connect_cursor cur;

	(void)e;
	care_connect_cursor_read(cursor, &cur);
	care_connect_get(conf, &cur, a, req);
	return 0;
}

/*
 * What the server said, after "HTTP 400: ", without the code it
 * repeats ("400: text" reads "HTTP 400: text"); "" if nothing.
 */
static void
care_connect_said(const struct conn_response *r, char *out, size_t size)
{
	char lead[24];
	size_t n;

	if (r->body == NULL || open311_doc_errors(r->body, r->body_len, out,
	    size) == -1)
		return;
	n = (size_t)snprintf(lead, sizeof(lead), "%ld: ", r->status);
	if (strncmp(out, lead, n) == 0 && strchr(out + n, ';') == NULL)
		memmove(out, out + n, strlen(out + n) + 1);
}

/* Retry-After in seconds; a date with no Date beside it is left to
 * the daemon's clock. */
static int
care_connect_rate_limited(const struct conn_response *r, const char *said,
    struct conn_error *e)
{
	long secs = 0;

	if (conn_retry_after(r, &secs) != 1)
		secs = 0;
	conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP %ld: rate limited%s%s",
	    r->status, said[0] != '\0' ? ": " : "", said);
	e->retry_after = secs;
	return -1;
}

/*
 * Statuses other than 2xx, classified. A 4xx to a poll is our request
 * (settings) at fault; to a reply it is the channel refusing that
 * reply, for good, with its reason.
 */
static int
care_connect_status(const struct conn_response *r, int reply,
    struct conn_error *e)
{
	long s = r->status;
	char said[160];
	const char *sep;

	if (s >= 200 && s <= 299)
		return 0;
	said[0] = '\0';
	care_connect_said(r, said, sizeof(said));
	sep = said[0] != '\0' ? ": " : "";
	if (s == 429)
		return care_connect_rate_limited(r, said, e);
	if (s == 401 || s == 403)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP %ld: access refused%s"
		    "%s", s, sep, said);
	if (!reply && (s == 404 || s == 410))
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: no Open311 "
		    "endpoint there%s%s", s, sep, said);
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, reply ? CONN_ERR_REFUSED : CONN_ERR_CONFIG,
		    "HTTP %ld%s%s", s, sep, said);
	if (s >= 300 && s <= 399)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: a redirect "
		    "that was not followed", s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld%s%s", s, sep, said);
}

/* An id fit for an external id and a thread key, or NULL. */
static const char *
care_connect_id(const char *s)
{
	if (s == NULL || !care_connect_word(s, CARE_CONNECT_ID_MAX))
		return NULL;
	return s;
}

/* Clean text in the arena, or NULL if there is none. */
static const char *
care_connect_text(struct arena *a, const char *s, size_t max, int flags)
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

static int64_t
care_connect_time(const char *s)
{
	int64_t t;

	if (s == NULL || date_parse_iso8601(s, &t) == -1)
		return 0;
	return t;
}

/* What the channel adds, as a JSON object's text; NULL if nothing. */
static const char *
care_connect_meta(const struct open311_rec *r, const enum open311_field *f,
    size_t n, struct arena *a)
{
	json_t *obj = json_object();
	const char *v, *out = NULL;
	char *s;
	size_t i;

	for (i = 0; i < n; i++)
		if ((v = care_connect_text(a, r->f[f[i]],
		    CARE_CONNECT_META_MAX, HTMLTEXT_ONELINE)) != NULL)
			json_object_set_new(obj, open311_field_name(f[i]),
			    json_string(v));
	if (json_object_size(obj) > 0 && (s = json_dumps(obj, JSON_COMPACT |
	    JSON_SORT_KEYS)) != NULL) {
		out = arena_strdup(a, s);
		free(s);
	}
	json_decref(obj);
	return out;
}

/* report_url with {id} replaced by the encoded id, or NULL. */
static const char *
care_connect_link(const struct care_connect_conf *c, const char *id,
    struct arena *a)
{
	const char *at;
	struct buf b;
	const char *out;

	if (c->report_url == NULL)
		return NULL;
	at = strstr(c->report_url, "{id}");
	buf_init(&b, 0);
	buf_append(&b, c->report_url, (size_t)(at - c->report_url));
	conn_url_encode(&b, id, 1);
	buf_puts(&b, at + 4);
	out = b.len <= CARE_CONNECT_URL_MAX ? arena_strdup(a, b.data) : NULL;
	buf_free(&b);
	return out;
}

/* A request: the patient's post that opens its thread. */
static int
care_connect_item_from_request(const struct care_connect_conf *c,
    const struct open311_rec *r, struct arena *a, struct conn_item *it)
{
	static const enum open311_field extra[] = { O311_SERVICE_CODE,
	    O311_STATUS_NOTES, O311_AGENCY, O311_SERVICE_NOTICE,
	    O311_ADDRESS, O311_ZIPCODE, O311_LAT, O311_LONG, O311_EXPECTED,
	    O311_MEDIA_URL };
	const char *id = care_connect_id(r->f[O311_ID]);

	if (id == NULL)
		return -1;	/* a token still waiting for its id, say */
	memset(it, 0, sizeof(*it));
	it->external_id = arena_printf(a, "req:%s", id);
	it->thread_key = id;
	it->reference = id;	/* the number the patient was given */
	it->dir = ITEM_IN;
	it->rating = ITEM_NO_RATING;
	it->title = care_connect_text(a, r->f[O311_SERVICE_NAME],
	    CARE_CONNECT_TITLE_MAX, HTMLTEXT_ONELINE);
	it->body = care_connect_text(a, r->f[O311_DESCRIPTION],
	    CARE_CONNECT_BODY_MAX, 0);
	it->url = care_connect_link(c, id, a);
	it->channel_status = care_connect_text(a, r->f[O311_STATUS],
	    CARE_CONNECT_TITLE_MAX, HTMLTEXT_ONELINE);
	it->thread_status = open311_thread_status(r->f[O311_STATUS]);
	/* FixMyStreet's 'hidden': moderated away, kept here as such. */
	it->removed = it->thread_status != NULL &&
	    strcmp(it->thread_status, "hidden") == 0;
	it->created_at = care_connect_time(r->f[O311_REQUESTED]);
	it->updated_at = care_connect_time(r->f[O311_UPDATED]);
	if (it->updated_at == 0)
		it->updated_at = it->created_at;
	it->meta = care_connect_meta(r, extra, sizeof(extra) /
	    sizeof(extra[0]), a);
	return 0;
}

/*
 * An update: the organisation's word on a request. The extension has
 * no author: every update is the body's (FixMyStreet files them all
 * under the body's own user), heard's replies among them.
 */
static int
care_connect_item_from_update(const struct open311_rec *r,
    struct arena *a, struct conn_item *it)
{
	static const enum open311_field extra[] = { O311_MEDIA_URL,
	    O311_EXTERNAL_STATUS };
	const char *id = care_connect_id(r->f[O311_UPDATE_ID]);
	const char *req = care_connect_id(r->f[O311_ID]);

	if (id == NULL || req == NULL)
		return -1;
	memset(it, 0, sizeof(*it));
	it->external_id = arena_printf(a, "upd:%s", id);
	it->thread_key = req;
	it->reference = req;
	it->parent_id = arena_printf(a, "req:%s", req);
	it->dir = ITEM_OUT;
	it->rating = ITEM_NO_RATING;
	it->body = care_connect_text(a, r->f[O311_DESCRIPTION],
	    CARE_CONNECT_BODY_MAX, 0);
	it->channel_status = care_connect_text(a, r->f[O311_STATUS],
	    CARE_CONNECT_TITLE_MAX, HTMLTEXT_ONELINE);
	it->thread_status = open311_thread_status(r->f[O311_STATUS]);
	it->created_at = care_connect_time(r->f[O311_UPDATED]);
	it->updated_at = it->created_at;
	it->meta = care_connect_meta(r, extra, sizeof(extra) /
	    sizeof(extra[0]), a);
	return 0;
}

static void
care_connect_items(const struct care_connect_conf *c, enum care_connect_step
    step, const struct open311_doc *d, struct arena *a, struct conn_batch *b)
{
	size_t i;
	int rc;

	if (d->nrecs == 0)
		return;
	b->items = arena_alloc(a, d->nrecs * sizeof(*b->items));
	for (i = 0; i < d->nrecs; i++) {
		rc = step == CARE_CONNECT_UPDATES ?
		    care_connect_item_from_update(&d->recs[i], a,
		    &b->items[b->nitems]) :
		    care_connect_item_from_request(c, &d->recs[i], a,
		    &b->items[b->nitems]);
		if (rc == 0)
			b->nitems++;
	}
}

/* The oldest and newest times a page holds; 0 for none. */
static void
care_connect_span(const struct open311_doc *d, enum open311_field f,
    int64_t *lo, int64_t *hi)
{
	int64_t t;
	size_t i;

	*lo = *hi = 0;
	for (i = 0; i < d->nrecs; i++) {
		if ((t = care_connect_time(d->recs[i].f[f])) <= 0)
			continue;
		if (*lo == 0 || t < *lo)
			*lo = t;
		if (t > *hi)
			*hi = t;
	}
}

/*
 * Moves the cursor on past a page; 1 if the page was full, so the
 * older rest of its window is asked for next (servers answer newest
 * first, FixMyStreet's among them, and stop at their page size). The
 * next end_date is a second after the page's oldest time, as servers
 * differ on whether it is included and a time the page shares with
 * what it cut off must not fall between pages. Each such window ends
 * strictly before the last, so paging ends, even on a page whose
 * items all share one second.
 */
static int
care_connect_window(const struct care_connect_conf *c,
    struct care_connect_cursor *cur, const struct open311_doc *d)
{
	int upd = cur->step == CARE_CONNECT_UPDATES;
	int64_t *since = upd ? &cur->updates_since : &cur->requests_since;
	int64_t lo, hi;

	care_connect_span(d, upd ? O311_UPDATED : O311_REQUESTED, &lo, &hi);
	if (hi > cur->pending)
		cur->pending = hi;
	if ((d->nrecs >= c->page_size || d->truncated) && lo > *since &&
	    (cur->until == 0 || lo + 1 < cur->until)) {
		cur->until = lo + 1;
		return 1;
	}
	if (cur->pending - CARE_CONNECT_OVERLAP > *since)
		*since = cur->pending - CARE_CONNECT_OVERLAP;
	cur->until = cur->pending = 0;
	return 0;
}

static int
care_connect_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	const struct care_connect_conf *c = conf;
	struct care_connect_cursor cur;
	enum care_connect_step step;
	struct open311_doc d;
	struct conn_batch b;

	e->retry_after = 0;
	if (care_connect_status(r, 0, e) == -1)
		return -1;
	care_connect_cursor_read(cursor, &cur);
	step = cur.step;
	if (open311_doc_parse(&d, step == CARE_CONNECT_UPDATES ?
	    OPEN311_UPDATES : OPEN311_REQUESTS, r->body, r->body_len,
	    a) == -1)
		return conn_fail(e, CONN_ERR_MALFORMED, "%s", d.error);
	memset(&b, 0, sizeof(b));
	care_connect_items(c, step, &d, a, &b);
	/* A window done: requests lead on to updates, updates end it. */
	if (care_connect_window(c, &cur, &d) == 0)
		cur.step = step == CARE_CONNECT_REQUESTS ?
		    CARE_CONNECT_UPDATES : CARE_CONNECT_REQUESTS;
	if (cur.step == CARE_CONNECT_UPDATES ||
	    step == CARE_CONNECT_REQUESTS) {
		b.next = arena_alloc(a, sizeof(*b.next));
		care_connect_get(c, &cur, a, b.next);
	}
	b.cursor = care_connect_cursor_text(&cur, a);
	*out = b;
	return 0;
}

/* first_name, last_name from a display name, as FixMyStreet splits. */
static void
care_connect_names(struct buf *b, const char *name, struct arena *a)
{
	const char *last;
	size_t n;

	if (name == NULL)
		return;
	name += strspn(name, " \t");
	if ((n = strcspn(name, " \t")) == 0)
		return;
	last = name + n + strspn(name + n, " \t");
	care_connect_param(b, "first_name", arena_strndup(a, name, n));
	/* Its servers may want a last name; FixMyStreet sends "-". */
	n = strlen(last);
	while (n > 0 && (last[n - 1] == ' ' || last[n - 1] == '\t'))
		n--;
	care_connect_param(b, "last_name", n > 0 ?
	    arena_strndup(a, last, n) : "-");
}

static int
care_connect_reply_check(const struct care_connect_conf *c,
    const struct conn_reply *rp, struct conn_error *e)
{
	if (c->api_key == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "care-connect: replies "
		    "need the source's api_key");
	if (care_connect_id(rp->thread_key) == NULL)
		return conn_fail(e, CONN_ERR_REFUSED, "no service request id "
		    "to reply to");
	if (rp->idempotency_key == NULL ||
	    care_connect_id(rp->idempotency_key) == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "a reply needs an "
		    "idempotency key to send as update_id");
	if (rp->body == NULL || rp->body[strspn(rp->body, " \t\r\n")] == '\0')
		return conn_fail(e, CONN_ERR_REFUSED, "an empty reply");
	if (rp->created_at <= 0)
		return conn_fail(e, CONN_ERR_CONFIG, "a reply needs the time "
		    "it was written");
	return 0;
}

/* The form FixMyStreet posts, in its order; -1 if it is too long. */
static int
care_connect_form(const struct care_connect_conf *c,
    const struct conn_reply *rp, const char *when, struct arena *a,
    struct buf *f)
{
	care_connect_param(f, "jurisdiction_id", c->jurisdiction);
	care_connect_param(f, "api_key", c->api_key);
	care_connect_param(f, "service_request_id", rp->thread_key);
	care_connect_param(f, "update_id", rp->idempotency_key);
	care_connect_param(f, "updated_datetime", when);
	care_connect_param(f, "status", c->reply_status);
	care_connect_param(f, "description", rp->body);
	care_connect_names(f, rp->author_name, a);
	care_connect_param(f, "email", c->reply_email);
	return f->len <= CARE_CONNECT_FORM_MAX ? 0 : -1;
}

/* POST servicerequestupdates, form-encoded, as FixMyStreet sends it. */
static int
care_connect_reply(const void *conf, const struct conn_reply *rp,
    struct arena *a, struct conn_request *req, struct conn_error *e)
{
	const struct care_connect_conf *c = conf;
	char when[DATE_ISO_SIZE];
	struct buf f;

	if (care_connect_reply_check(c, rp, e) == -1)
		return -1;
	if (date_format(rp->created_at, when, sizeof(when)) == -1)
		return conn_fail(e, CONN_ERR_CONFIG, "the reply's time is out "
		    "of range");
	/* Uncapped, as a capped buf would drop appends and post the rest. */
	buf_init(&f, 0);
	if (care_connect_form(c, rp, when, a, &f) == -1) {
		buf_free(&f);
		return conn_fail(e, CONN_ERR_REFUSED, "the reply is too long");
	}
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = arena_printf(a, "%s/servicerequestupdates.%s",
	    c->endpoint, c->json ? "json" : "xml");
	req->body = arena_strndup(a, f.data, f.len);
	req->body_len = f.len;
	buf_free(&f);
	conn_request_header(req, a, "Content-Type",
	    "application/x-www-form-urlencoded");
	conn_request_header(req, a, "Accept", c->json ?
	    CARE_CONNECT_ACCEPT_JSON : CARE_CONNECT_ACCEPT_XML);
	return 0;
}

/*
 * The server's update_id for the posted reply: "upd:<id>", the id a
 * later poll of the updates knows it by, so the two are one message.
 * A server that answers with a token has taken the update but named
 * it only by that token.
 */
static int
care_connect_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a, const char **external_id, struct conn_error *e)
{
	struct open311_doc d;
	const char *id;
	size_t i;

	(void)conf;
	e->retry_after = 0;
	if (care_connect_status(r, 1, e) == -1)
		return -1;
	if (open311_doc_parse(&d, OPEN311_UPDATES, r->body, r->body_len,
	    a) == -1)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld to a reply: "
		    "%s", r->status, d.error);
	for (i = 0; i < d.nrecs; i++) {
		if ((id = care_connect_id(d.recs[i].f[O311_UPDATE_ID])) !=
		    NULL) {
			*external_id = arena_printf(a, "upd:%s", id);
			return 0;
		}
		if ((id = care_connect_id(d.recs[i].f[O311_TOKEN])) != NULL) {
			*external_id = arena_printf(a, "token:%s", id);
			return 0;
		}
	}
	return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld to a reply "
	    "without an update_id", r->status);
}

const struct connector connector_care_connect = {
	.name = "care-connect",
	.title = "Care Connect / Open311 (GeoReport v2 with "
	    "FixMyStreet's request updates)",
	.settings = care_connect_settings,
	.reply_mode = CONN_REPLY_API,
	.configure = care_connect_configure,
	.poll = care_connect_poll,
	.parse = care_connect_parse,
	.reply = care_connect_reply,
	.reply_parse = care_connect_reply_parse,
};
