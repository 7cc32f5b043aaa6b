/* nhs_choices: NHS Choices v1 syndication comments (Atom), by sweeps. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "arena.h"
#include "buf.h"
#include "date.h"
#include "htmltext.h"
#include "nhs.h"

/*
 * The API (tests/connectors/nhs-choices/README.md) lists comments,
 * the organisation's replies ("<id>R", thr:in-reply-to) and deletions
 * as Atom entries, newest first, in pages linked by rel="next", with
 * the key in ?apikey=. Two listings matter:
 *
 *   /organisations/<type>[/<id>]/comments	every comment there is
 *   /organisations/<type>/commentssince/<y>/<m>/<d>
 *		whatever changed since that day, deletions included; the
 *		only listing that says a comment was taken down
 *
 * A poll is a sweep of one listing, page by page. The cursor says
 * where the sweep is: "next", the page in flight (path and query, no
 * key), and "high", the newest time seen so far; when the last page is
 * in, "since" becomes the day of "high" less a day of overlap (the
 * API's days are UK days, its inclusiveness unknown, and moderation
 * lags) and the next sweep is a commentssince from there. poll() and
 * parse() read the page in flight from the cursor alike, so a sweep
 * cut short (the poller's page cap, a 5xx, a restart) resumes there.
 *
 * commentssince was only ever seen for a whole organisation type, so
 * increments always use it, and `organisation` and `ods_code` filter
 * the entries of other organisations out here. Without either, the
 * source takes every organisation of the type, each entry filed by
 * its org_hint.
 *
 * An empty result is the syndication's HTML 404 page, not an empty
 * feed (mySociety: "confirmed that this is the intended behaviour").
 */

#define NHSC_DEFAULT_URL	"http://v1.syndication.nhschoices.nhs.uk"
#define NHSC_WEBSITE		"http://www.nhs.uk"
#define NHSC_OVERLAP_DAYS	1
#define NHSC_PATH_MAX		1024
#define NHSC_MAX_RATINGS	32
#define NHSC_MAX_TAGS		64
#define NHSC_NAME		"nhs-choices"

#define NHSC_XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | \
				 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

#define NS_ATOM		"http://www.w3.org/2005/Atom"
#define NS_THR		"http://purl.org/syndication/thread/1.0"
#define NS_FH		"http://purl.org/syndication/history/1.0"
#define NS_RATINGS	"http://syndication.nhschoices.nhs.uk/schemas/" \
			"ratingsandcomments"
#define NS_COMMENTS	"http://syndication.nhschoices.nhs.uk/schemas/comments"

struct nhs_choices_conf {
	const char	*prefix;	/* arena: the base URL's path, or "" */
	const char	*origin;	/* arena: scheme://host[:port] */
	const char	*apikey;	/* arena; secret */
	const char	*org_type;	/* arena: "hospitals", "clinics"... */
	const char	*org_id;	/* arena: Choices id, or NULL */
	const char	*ods;		/* arena: upper case, or NULL */
	const char	*since;		/* arena: first day, or NULL */
	const char	*reviews_url;	/* arena, or NULL */
};

/* Where a sweep is; every string in the arena, or NULL. */
struct nhs_choices_cursor {
	const char	*since;	/* "YYYY-MM-DD": the next sweep's start */
	const char	*next;	/* path?query of the page in flight */
	int64_t		 high;	/* newest time seen in the sweep; 0 none */
};

enum nhs_choices_kind {
	NHSC_COMMENT = 0,
	NHSC_REPLY,
	NHSC_DELETION,
	NHSC_UNKNOWN,
};

/* One entry as read; strings in the arena (raw, not yet cleaned). */
struct nhs_choices_entry {
	enum nhs_choices_kind	 kind;
	int			 has_kind;	/* a commentType said */
	const char		*id;
	const char		*title;
	const char		*author;
	const char		*url;		/* rel="alternate", checked */
	const char		*ods;		/* url's id=, upper case */
	const char		*org;		/* Choices organisation id */
	const char		*reply_to;	/* thr:in-reply-to ref */
	const char		*text;		/* content as text */
	struct buf		 body;		/* labelled parts, owned */
	int			 rating;
	int64_t			 published;
	int64_t			 updated;
	json_t			*meta;		/* owned */
};

/* What every entry of one page is read with. */
struct nhs_choices_job {
	const struct nhs_choices_conf	*conf;	/* borrowed */
	struct arena			*a;	/* borrowed */
	int64_t				 high;	/* newest time on the page */
};

/* The labelled parts of a comment, as its form asked for them. */
static const struct {
	const char	*id;
	const char	*label;
} nhs_choices_sections[] = {
	{ "liked", "What I liked" },
	{ "improved", "What could be improved" },
	{ "anythingElse", "Anything else" },
};

static const struct conn_setting nhs_choices_settings[] = {
	{ .key = "base_url", .def = NHSC_DEFAULT_URL,
	    .help = "the syndication API's address" },
	{ .key = "apikey", .required = 1, .secret = 1,
	    .help = "API key, sent as ?apikey=" },
	{ .key = "org_type", .def = "hospitals",
	    .help = "organisation type in the API's paths: hospitals, "
	    "gppractices, clinics..." },
	{ .key = "organisation",
	    .help = "Choices OrganisationId (digits): the first sweep lists "
	    "its comments, later ones keep only its entries" },
	{ .key = "ods_code",
	    .help = "keep only entries whose ODS code is this one or one "
	    "of its sites" },
	{ .key = "since",
	    .help = "YYYY-MM-DD: the first sweep lists what changed since "
	    "that day instead of every comment" },
	{ .key = "reviews_url",
	    .help = "where staff respond, for handoff tasks; default the "
	    "ods_code's reviews page on www.nhs.uk" },
	{ .key = NULL },
};

static int
nhs_choices_word(const char *s, const char *set, size_t max)
{
	size_t n = strspn(s, set);

	return n > 0 && n <= max && s[n] == '\0';
}

#define NHSC_ALNUM	"ABCDEFGHIJKLMNOPQRSTUVWXYZ" \
			"abcdefghijklmnopqrstuvwxyz0123456789"

/* "YYYY-MM-DD" that is a real day, or 0. */
static int
nhs_choices_day_ok(const char *s)
{
	int64_t t;
	char back[DATE_ISO_SIZE];

	if (strlen(s) != 10 || date_parse_iso8601(s, &t) == -1 ||
	    date_format(t, back, sizeof(back)) == -1)
		return 0;
	return strncmp(back, s, 10) == 0;
}

static char *
nhs_choices_upper(struct arena *a, const char *s)
{
	char *u = arena_strdup(a, s), *p;

	for (p = u; *p != '\0'; p++)
		if (*p >= 'a' && *p <= 'z')
			*p -= 'a' - 'A';
	return u;
}

/* The optional settings, checked; -1 with e if one is bad. */
static int
nhs_choices_configure_more(struct arena *a, const struct conn_settings *set,
    struct nhs_choices_conf *c, struct conn_error *e)
{
	const char *id = conn_settings_get(set, "organisation");
	const char *ods = conn_settings_get(set, "ods_code");
	const char *since = conn_settings_get(set, "since");
	const char *rev = conn_settings_get(set, "reviews_url");

	if (id != NULL && !nhs_choices_word(id, "0123456789", 12))
		return conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": "
		    "organisation must be the Choices OrganisationId, digits");
	if (ods != NULL && !nhs_choices_word(ods, NHSC_ALNUM, 10))
		return conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": "
		    "ods_code must be an ODS code (letters and digits)");
	if (since != NULL && !nhs_choices_day_ok(since))
		return conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": "
		    "since must be a day, YYYY-MM-DD");
	if (rev != NULL && (c->reviews_url = nhs_link(a, rev)) == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": "
		    "reviews_url must be an http(s) address");
	c->org_id = id != NULL ? arena_strdup(a, id) : NULL;
	c->ods = ods != NULL ? nhs_choices_upper(a, ods) : NULL;
	c->since = since != NULL ? arena_strdup(a, since) : NULL;
	return 0;
}

static void *
nhs_choices_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "base_url");
	const char *key = conn_settings_get(set, "apikey");
	const char *type = conn_settings_get(set, "org_type");
	struct nhs_choices_conf *c = arena_alloc(a, sizeof(*c));
	const char *base;

	if ((base = nhs_base_url(a, url != NULL ? url :
	    NHSC_DEFAULT_URL)) == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": base_url must be "
		    "http(s)://host[/path], with no query");
		return NULL;
	}
	/* The key goes in a query: it must need no escaping. */
	if (key == NULL || !nhs_key_ok(key)) {
		conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": apikey is missing "
		    "or has characters an API key does not have");
		return NULL;
	}
	if (type != NULL && !nhs_choices_word(type, NHSC_ALNUM, 40)) {
		conn_fail(e, CONN_ERR_CONFIG, NHSC_NAME ": org_type must be "
		    "a word such as hospitals or gppractices");
		return NULL;
	}
	if (nhs_choices_configure_more(a, set, c, e) == -1)
		return NULL;
	c->origin = nhs_origin(a, base);
	c->prefix = base + strlen(c->origin);
	c->apikey = arena_strdup(a, key);
	c->org_type = arena_strdup(a, type != NULL ? type : "hospitals");
	return c;
}

/* A path we built or took from a link: [A-Za-z0-9/._~%-], bounded. */
static int
nhs_choices_path_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > NHSC_PATH_MAX || p[0] != '/')
		return 0;
	for (i = 0; i < n; i++)
		if (strchr(NHSC_ALNUM "/._~%-", p[i]) == NULL || p[i] == '\0')
			return 0;
	/* No dot segments: a page of the API, not a walk around it. */
	return memmem(p, n, "/..", 3) == NULL;
}

/* A page as the cursor saves it: a clean path, a query of ours. */
static int
nhs_choices_page_ok(const char *s)
{
	size_t n = strcspn(s, "?");

	return nhs_choices_path_ok(s, n) && strlen(s) <= NHSC_PATH_MAX &&
	    strspn(s + n, NHSC_ALNUM "?&._~%=+-") == strlen(s + n);
}

/* One query parameter kept, unless it is the key. */
static void
nhs_choices_query_param(struct buf *b, const char *p, size_t n)
{
	size_t i;

	if (n == 0 || (n >= 7 && strncasecmp(p, "apikey=", 7) == 0) ||
	    (n == 6 && strncasecmp(p, "apikey", 6) == 0))
		return;
	for (i = 0; i < n; i++)
		if (p[i] == '\0' || strchr(NHSC_ALNUM "._~%=+-", p[i]) == NULL)
			return;
	buf_puts(b, b->len == 0 ? "?" : "&");
	buf_append(b, p, n);
}

/*
 * A next link as the page to resume at: its path (with ".atom", which
 * pins the format whatever Accept says) and query, without the key,
 * so no secret sits in the cursor. NULL if it is not a link we follow.
 */
static const char *
nhs_choices_resume(struct arena *a, const char *href)
{
	const char *p = href, *q;
	struct buf b, qs;
	const char *out;
	size_t n, len;

	if (strncasecmp(p, "http://", 7) == 0 ||
	    strncasecmp(p, "https://", 8) == 0) {
		p = strstr(p, "//") + 2;
		p += strcspn(p, "/?#");
	}
	n = strcspn(p, "?#");
	if (!nhs_choices_path_ok(p, n))
		return NULL;
	buf_init(&b, 0);
	buf_init(&qs, 0);
	buf_append(&b, p, n);
	if (n < 5 || strncasecmp(p + n - 5, ".atom", 5) != 0)
		buf_puts(&b, ".atom");
	for (q = p + n; *q == '?' || *q == '&'; q += 1 + len) {
		len = strcspn(q + 1, "&#");
		nhs_choices_query_param(&qs, q + 1, len);
	}
	buf_append(&b, qs.data != NULL ? qs.data : "", qs.len);
	out = b.len <= NHSC_PATH_MAX ? arena_strndup(a, b.data, b.len) :
	    NULL;
	buf_free(&b);
	buf_free(&qs);
	return out;
}

static const char *
nhs_choices_json_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A saved cursor; what is unreadable counts as absent. */
static void
nhs_choices_cursor_read(const char *text, struct arena *a,
    struct nhs_choices_cursor *cur)
{
	const char *s;
	json_t *obj;

	memset(cur, 0, sizeof(*cur));
	if (text == NULL || (obj = json_loads(text, 0, NULL)) == NULL)
		return;
	if ((s = nhs_choices_json_str(obj, "since")) != NULL &&
	    nhs_choices_day_ok(s))
		cur->since = arena_strdup(a, s);
	if ((s = nhs_choices_json_str(obj, "next")) != NULL &&
	    nhs_choices_page_ok(s))
		cur->next = arena_strdup(a, s);
	if ((s = nhs_choices_json_str(obj, "high")) != NULL &&
	    date_parse_iso8601(s, &cur->high) == -1)
		cur->high = 0;
	json_decref(obj);
}

static const char *
nhs_choices_cursor_text(const struct nhs_choices_cursor *cur, struct arena *a)
{
	json_t *obj = json_object();
	const char *high;

	if (cur->since != NULL)
		json_object_set_new(obj, "since", json_string(cur->since));
	if (cur->next != NULL)
		json_object_set_new(obj, "next", json_string(cur->next));
	if (cur->high != 0 && (high = nhs_iso(a, cur->high)) != NULL)
		json_object_set_new(obj, "high", json_string(high));
	return nhs_json_text(a, obj);
}

/* The page a cursor has in flight: path and query, without the key. */
static const char *
nhs_choices_page(const struct nhs_choices_conf *c,
    const struct nhs_choices_cursor *cur, struct arena *a)
{
	const char *since = cur->since != NULL ? cur->since : c->since;

	if (cur->next != NULL)
		return cur->next;
	if (since != NULL)
		return arena_printf(a, "%s/organisations/%s/commentssince/"
		    "%d/%d/%d.atom", c->prefix, c->org_type, atoi(since),
		    atoi(since + 5), atoi(since + 8));
	if (c->org_id != NULL)
		return arena_printf(a, "%s/organisations/%s/%s/comments.atom",
		    c->prefix, c->org_type, c->org_id);
	return arena_printf(a, "%s/organisations/%s/comments.atom",
	    c->prefix, c->org_type);
}

static struct conn_request *
nhs_choices_request(const struct nhs_choices_conf *c, const char *page,
    struct arena *a)
{
	struct conn_request *r = arena_alloc(a, sizeof(*r));

	r->method = "GET";
	r->url = arena_printf(a, "%s%s%capikey=%s", c->origin, page,
	    strchr(page, '?') != NULL ? '&' : '?', c->apikey);
	conn_request_header(r, a, "Accept", "application/atom+xml");
	return r;
}

static int
nhs_choices_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	const struct nhs_choices_conf *c = conf;
	struct nhs_choices_cursor cur;

	(void)e;
	nhs_choices_cursor_read(cursor, a, &cur);
	*req = *nhs_choices_request(c, nhs_choices_page(c, &cur, a), a);
	return 0;
}

/* ?page=N of a path, 1 if it has none. */
static long
nhs_choices_page_no(const char *page)
{
	const char *q = strchr(page, '?'), *p;

	for (p = q; p != NULL; p = strchr(p + 1, '&'))
		if (strncasecmp(p + 1, "page=", 5) == 0)
			return strtol(p + 6, NULL, 10);
	return 1;
}

static int
nhs_choices_is(const xmlNode *n, const char *ns, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	    strcmp((const char *)n->name, name) == 0 && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, ns) == 0;
}

static const char *
nhs_choices_attr(struct arena *a, const xmlNode *n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	const char *s;

	if (v == NULL)
		return NULL;
	s = arena_strdup(a, (const char *)v);
	xmlFree(v);
	return s;
}

/* Text of n and its descendants (no DTD, so no entity nodes). */
static void
nhs_choices_collect(struct buf *b, const xmlNode *n)
{
	for (n = n->children; n != NULL; n = n->next)
		if ((n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) && n->content != NULL)
			buf_puts(b, (const char *)n->content);
		else if (n->type == XML_ELEMENT_NODE)
			nhs_choices_collect(b, n);
}

static const char *
nhs_choices_node_text(struct arena *a, const xmlNode *n)
{
	struct buf b;
	const char *s;

	buf_init(&b, 0);
	nhs_choices_collect(&b, n);
	s = arena_strndup(a, b.data != NULL ? b.data : "", b.len);
	buf_free(&b);
	return s;
}

/* Surrounding blanks dropped; NULL if nothing is left. */
static const char *
nhs_choices_token(struct arena *a, const xmlNode *n)
{
	const char *s = nhs_choices_node_text(a, n);
	size_t len;

	s += strspn(s, " \t\r\n");
	len = strlen(s);
	while (len > 0 && strchr(" \t\r\n", s[len - 1]) != NULL)
		len--;
	return len > 0 ? arena_strndup(a, s, len) : NULL;
}

static int64_t
nhs_choices_time(struct arena *a, const xmlNode *n)
{
	const char *s = nhs_choices_token(a, n);
	int64_t t;

	return s != NULL && date_parse(s, &t) == 0 ? t : 0;
}

/*
 * The ODS code in a website link's id= ("DefaultView.aspx?id=RYQ30"):
 * letters and digits with at least one letter, as the numeric ids the
 * site also takes (CommentUrl ...?id=1893) are no ODS codes.
 */
static const char *
nhs_choices_link_ods(struct arena *a, const char *url)
{
	const char *p = strchr(url, '?');
	size_t n;

	for (; p != NULL; p = strchr(p + 1, '&')) {
		if (strncasecmp(p + 1, "id=", 3) != 0)
			continue;
		n = strspn(p + 4, NHSC_ALNUM);
		if (n < 3 || n > 10 || strchr("&#", p[4 + n]) == NULL ||
		    strspn(p + 4, "0123456789") == n)
			return NULL;
		return nhs_choices_upper(a, arena_strndup(a, p + 4, n));
	}
	return NULL;
}

/* "/organisations/<type>/<digits>" and nothing after: its id. */
static const char *
nhs_choices_link_org(struct arena *a, const char *url)
{
	const char *p = strstr(url, "/organisations/");
	size_t n;

	if (p == NULL)
		return NULL;
	p += 15;
	p += strcspn(p, "/?#");
	if (*p != '/')
		return NULL;
	n = strspn(++p, "0123456789");
	if (n == 0 || n > 12 || strchr("?#", p[n]) == NULL)
		return NULL;
	return arena_strndup(a, p, n);
}

static void
nhs_choices_e_link(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n)
{
	const char *rel = nhs_choices_attr(job->a, n, "rel");
	const char *href = nhs_choices_attr(job->a, n, "href");

	if (rel == NULL || href == NULL)
		return;
	if (strcmp(rel, "alternate") == 0 && en->url == NULL &&
	    (en->url = nhs_link(job->a, href)) != NULL)
		en->ods = nhs_choices_link_ods(job->a, en->url);
	else if (strcmp(rel, "related") == 0 && en->org == NULL)
		en->org = nhs_choices_link_org(job->a, href);
}

static void
nhs_choices_e_category(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n)
{
	static const char *const terms[] = {
		[NHSC_COMMENT] = "comment",
		[NHSC_REPLY] = "reply",
		[NHSC_DELETION] = "deletion",
	};
	const char *scheme = nhs_choices_attr(job->a, n, "scheme");
	const char *term = nhs_choices_attr(job->a, n, "term");
	size_t i;

	if (scheme == NULL || strcmp(scheme, "commentType") != 0)
		return;
	en->has_kind = 1;
	en->kind = NHSC_UNKNOWN;
	for (i = 0; term != NULL && i < sizeof(terms) / sizeof(terms[0]);
	    i++)
		if (strcmp(term, terms[i]) == 0)
			en->kind = (enum nhs_choices_kind)i;
}

/* The commentTags list: each tag's link text, into meta. */
static void
nhs_choices_tags(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *div)
{
	json_t *tags = json_array();
	const char *t;
	xmlNode *ul, *li;

	for (ul = div->children; ul != NULL; ul = ul->next)
		for (li = ul->children; li != NULL; li = li->next) {
			if (li->type != XML_ELEMENT_NODE ||
			    json_array_size(tags) >= NHSC_MAX_TAGS)
				continue;
			t = nhs_text(job->a, nhs_choices_node_text(job->a, li),
			    NHS_NAME_MAX, HTMLTEXT_ONELINE, 1);
			if (t != NULL)
				json_array_append_new(tags, json_string(t));
		}
	if (json_array_size(tags) > 0)
		json_object_set_new(en->meta, "tags", tags);
	else
		json_decref(tags);
}

/* One part of the comment as "Label:\ntext", after any before it. */
static void
nhs_choices_section(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const char *label, const char *raw)
{
	const char *t = nhs_text(job->a, raw, NHS_BODY_MAX, 0, 1);

	if (t == NULL)
		return;
	if (en->body.len > 0)
		buf_puts(&en->body, "\n\n");
	if (label != NULL)
		buf_printf(&en->body, "%s:\n", label);
	buf_puts(&en->body, t);
}

static void
nhs_choices_div(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n)
{
	const char *id = nhs_choices_attr(job->a, n, "id");
	size_t i;

	if (id != NULL && strcmp(id, "commentTags") == 0) {
		nhs_choices_tags(job, en, n);
		return;
	}
	for (i = 0; id != NULL && i < sizeof(nhs_choices_sections) /
	    sizeof(nhs_choices_sections[0]); i++)
		if (strcmp(id, nhs_choices_sections[i].id) == 0) {
			nhs_choices_section(job, en,
			    nhs_choices_sections[i].label,
			    nhs_choices_node_text(job->a, n));
			return;
		}
	/* A part we do not know: its text, unlabelled, not lost. */
	nhs_choices_section(job, en, NULL, nhs_choices_node_text(job->a, n));
}

/*
 * type="xhtml": the form's parts as divs, anything else in there as
 * unlabelled text; other types: the text as it is.
 */
static void
nhs_choices_e_content(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n)
{
	const char *type = nhs_choices_attr(job->a, n, "type");
	const xmlNode *c;

	if (type == NULL || strcmp(type, "xhtml") != 0) {
		en->text = nhs_choices_node_text(job->a, n);
		return;
	}
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, "div") == 0)
			nhs_choices_div(job, en, c);
		else if (c->type == XML_ELEMENT_NODE)
			nhs_choices_section(job, en, NULL,
			    nhs_choices_node_text(job->a, c));
		else if (c->type == XML_TEXT_NODE && c->content != NULL)
			nhs_choices_section(job, en, NULL,
			    (const char *)c->content);
}

/* answerMetric's attributes into r; the value, or -1. */
static long
nhs_choices_metric(const struct nhs_choices_job *job, const xmlNode *m,
    json_t *r)
{
	static const char *const attrs[] = { "minValue", "maxValue" };
	static const char *const keys[] = { "min", "max" };
	const char *v, *type = nhs_choices_attr(job->a, m, "type");
	long value = -1;
	char *end;
	size_t i;

	if (type != NULL && strlen(type) <= 40)
		json_object_set_new(r, "type", json_string(type));
	if ((v = nhs_choices_attr(job->a, m, "value")) != NULL &&
	    (value = strtol(v, &end, 10)) >= 0 && value <= 100 &&
	    *end == '\0' && end != v)
		json_object_set_new(r, "value", json_integer(value));
	else
		value = -1;
	for (i = 0; i < 2; i++)
		if ((v = nhs_choices_attr(job->a, m, attrs[i])) != NULL &&
		    nhs_choices_word(v, "0123456789", 3))
			json_object_set_new(r, keys[i],
			    json_integer(atol(v)));
	return value;
}

/*
 * The headline rating: Friends and Family (1 extremely unlikely to
 * recommend .. 5 extremely likely, as the questions feed says), which
 * mySociety took as a review's main score. "Overall rating" is a yes
 * or no (1 would recommend, 2 would not), kept as meta's "recommend".
 */
static void
nhs_choices_headline(struct nhs_choices_entry *en, const char *q, long value)
{
	if (q == NULL || value < 0)
		return;
	if (strcasecmp(q, "Friends and Family") == 0 && value >= 1 &&
	    value <= 5)
		en->rating = (int)value;
	else if (strcasecmp(q, "Overall rating") == 0 && (value == 1 ||
	    value == 2))
		json_object_set_new(en->meta, "recommend",
		    json_boolean(value == 1));
}

static void
nhs_choices_rating(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n, json_t *all)
{
	json_t *r = json_object();
	const char *q = NULL, *ans;
	long value = -1;
	xmlNode *c;

	for (c = n->children; c != NULL; c = c->next) {
		if (nhs_choices_is(c, NS_RATINGS, "questionText"))
			q = nhs_text(job->a, nhs_choices_node_text(job->a, c),
			    NHS_TITLE_MAX, HTMLTEXT_ONELINE, 1);
		else if (nhs_choices_is(c, NS_RATINGS, "answerText") && (ans =
		    nhs_text(job->a, nhs_choices_node_text(job->a, c),
		    NHS_NAME_MAX, HTMLTEXT_ONELINE, 1)) != NULL)
			json_object_set_new(r, "answer", json_string(ans));
		else if (nhs_choices_is(c, NS_RATINGS, "answerMetric"))
			value = nhs_choices_metric(job, c, r);
	}
	if (q != NULL)
		json_object_set_new(r, "question", json_string(q));
	nhs_choices_headline(en, q, value);
	json_array_append_new(all, r);
}

static void
nhs_choices_e_ratings(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n)
{
	json_t *all = json_array();
	xmlNode *c;

	for (c = n->children; c != NULL; c = c->next)
		if (nhs_choices_is(c, NS_RATINGS, "rating") &&
		    json_array_size(all) < NHSC_MAX_RATINGS)
			nhs_choices_rating(job, en, c, all);
	if (json_array_size(all) > 0)
		json_object_set_new(en->meta, "ratings", all);
	else
		json_decref(all);
}

/* A short token of the comments namespace, kept in meta as given. */
static void
nhs_choices_e_posting(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *n, const char *key)
{
	const char *s = nhs_text(job->a, nhs_choices_node_text(job->a, n),
	    NHS_NAME_MAX, HTMLTEXT_ONELINE, 1);

	if (s != NULL)
		json_object_set_new(en->meta, key, json_string(s));
}

static void
nhs_choices_e_atom(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *c)
{
	const xmlNode *p;

	if (nhs_choices_is(c, NS_ATOM, "id"))
		en->id = nhs_choices_token(job->a, c);
	else if (nhs_choices_is(c, NS_ATOM, "title"))
		en->title = nhs_choices_node_text(job->a, c);
	else if (nhs_choices_is(c, NS_ATOM, "published"))
		en->published = nhs_choices_time(job->a, c);
	else if (nhs_choices_is(c, NS_ATOM, "updated"))
		en->updated = nhs_choices_time(job->a, c);
	else if (nhs_choices_is(c, NS_ATOM, "link"))
		nhs_choices_e_link(job, en, c);
	else if (nhs_choices_is(c, NS_ATOM, "category"))
		nhs_choices_e_category(job, en, c);
	else if (nhs_choices_is(c, NS_ATOM, "content"))
		nhs_choices_e_content(job, en, c);
	else if (nhs_choices_is(c, NS_ATOM, "author"))
		for (p = c->children; p != NULL; p = p->next)
			if (nhs_choices_is(p, NS_ATOM, "name"))
				en->author = nhs_choices_node_text(job->a, p);
}

static void
nhs_choices_e_child(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, const xmlNode *c)
{
	if (c->ns != NULL && strcmp((const char *)c->ns->href, NS_ATOM) == 0)
		nhs_choices_e_atom(job, en, c);
	else if (nhs_choices_is(c, NS_THR, "in-reply-to"))
		en->reply_to = nhs_choices_attr(job->a, c, "ref");
	else if (nhs_choices_is(c, NS_RATINGS, "ratings"))
		nhs_choices_e_ratings(job, en, c);
	else if (nhs_choices_is(c, NS_COMMENTS, "postingorganisationid"))
		nhs_choices_e_posting(job, en, c, "posting_organisation");
	else if (nhs_choices_is(c, NS_COMMENTS, "commentattribution"))
		nhs_choices_e_posting(job, en, c, "attribution");
}

/* "80452R" -> "80452": the comment a reply or a deletion is about. */
static const char *
nhs_choices_comment_of(struct arena *a, const char *id)
{
	size_t n = strlen(id);

	if (n > 1 && (id[n - 1] == 'R' || id[n - 1] == 'r'))
		return arena_strndup(a, id, n - 1);
	return id;
}

/* Whether an entry is about the organisation(s) the source covers. */
static int
nhs_choices_wanted(const struct nhs_choices_conf *c,
    const struct nhs_choices_entry *en)
{
	size_t n;

	if (c->org_id != NULL && en->org != NULL &&
	    strcmp(c->org_id, en->org) != 0)
		return 0;
	if (c->ods == NULL || en->ods == NULL)
		return 1;
	/* The code itself, or one of its sites: the code and two more. */
	n = strlen(c->ods);
	return strncmp(en->ods, c->ods, n) == 0 &&
	    (en->ods[n] == '\0' || strlen(en->ods + n) == 2);
}

static const char *
nhs_choices_meta(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en)
{
	if (en->org != NULL)
		json_object_set_new(en->meta, "organisation",
		    json_string(en->org));
	if (json_object_size(en->meta) == 0)
		return NULL;
	return nhs_json_text(job->a, json_incref(en->meta));
}

static const char *
nhs_choices_body(const struct nhs_choices_job *job,
    const struct nhs_choices_entry *en)
{
	if (en->body.len > 0)
		return nhs_text(job->a, en->body.data, NHS_BODY_MAX, 0, 0);
	return nhs_text(job->a, en->text, NHS_BODY_MAX, 0, 1);
}

/* A comment or a reply: what it says, who said it, where. */
static void
nhs_choices_words(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, struct conn_item *it)
{
	struct arena *a = job->a;

	if (en->kind == NHSC_REPLY) {
		it->dir = ITEM_OUT;
		if (en->reply_to != NULL && nhs_id_ok(en->reply_to))
			it->thread_key = en->reply_to;
		it->parent_id = it->thread_key;
	} else
		it->rating = en->rating;
	it->title = nhs_text(a, en->title, NHS_TITLE_MAX, HTMLTEXT_ONELINE, 1);
	it->body = nhs_choices_body(job, en);
	it->author_name = nhs_text(a, en->author, NHS_NAME_MAX,
	    HTMLTEXT_ONELINE, 1);
	it->url = en->url;
	it->org_hint = en->ods;
	it->meta = nhs_choices_meta(job, en);
}

/* The entry as an item; -1 if it is none we can keep. */
static int
nhs_choices_item(const struct nhs_choices_job *job,
    struct nhs_choices_entry *en, struct conn_item *it)
{
	memset(it, 0, sizeof(*it));
	if (en->id == NULL || !nhs_id_ok(en->id) ||
	    en->kind == NHSC_UNKNOWN || !nhs_choices_wanted(job->conf, en))
		return -1;
	it->external_id = en->id;
	it->thread_key = nhs_choices_comment_of(job->a, en->id);
	it->rating = ITEM_NO_RATING;
	it->created_at = en->published != 0 ? en->published : en->updated;
	it->updated_at = en->updated != 0 ? en->updated : en->published;
	if (en->kind != NHSC_DELETION) {
		nhs_choices_words(job, en, it);
		return 0;
	}
	/* Hides what it names; its own words are boilerplate. */
	it->dir = strcmp(en->id, it->thread_key) != 0 ? ITEM_OUT : ITEM_IN;
	it->removed = 1;
	it->channel_status = "deleted";
	return 0;
}

/*
 * One entry; 0 and *it filled, or -1. Its times count toward the
 * sweep's high mark whether or not the source keeps it.
 */
static int
nhs_choices_entry(struct nhs_choices_job *job, const xmlNode *n,
    struct conn_item *it)
{
	struct nhs_choices_entry en;
	const xmlNode *c;
	int rc;

	memset(&en, 0, sizeof(en));
	en.rating = ITEM_NO_RATING;
	en.meta = json_object();
	buf_init(&en.body, 0);
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			nhs_choices_e_child(job, &en, c);
	/* No category: what thr:in-reply-to says, else a comment. */
	if (!en.has_kind && en.reply_to != NULL)
		en.kind = NHSC_REPLY;
	if (en.updated > job->high)
		job->high = en.updated;
	if (en.published > job->high)
		job->high = en.published;
	rc = nhs_choices_item(job, &en, it);
	json_decref(en.meta);
	buf_free(&en.body);
	return rc;
}

/* 0 comments, 1 replies, 2 deletions: the order a batch keeps. */
static int
nhs_choices_rank(const struct conn_item *it)
{
	return it->removed ? 2 : it->dir == ITEM_OUT ? 1 : 0;
}

/*
 * The page's items, comments before replies before deletions, each in
 * the feed's order: a thread takes its subject from its first message,
 * and the feed lists a reply before the (older) comment it answers.
 */
static void
nhs_choices_entries(struct nhs_choices_job *job, const xmlNode *root,
    struct conn_batch *b)
{
	struct conn_item *tmp;
	const xmlNode *c;
	size_t n = 0, got = 0, i;
	int rank;

	for (c = root->children; c != NULL; c = c->next)
		if (nhs_choices_is(c, NS_ATOM, "entry"))
			n++;
	if ((n = n > NHS_MAX_ITEMS ? NHS_MAX_ITEMS : n) == 0)
		return;
	tmp = arena_alloc(job->a, n * sizeof(*tmp));
	for (c = root->children; c != NULL && got < n; c = c->next)
		if (nhs_choices_is(c, NS_ATOM, "entry") &&
		    nhs_choices_entry(job, c, &tmp[got]) == 0)
			got++;
	b->items = arena_alloc(job->a, n * sizeof(*b->items));
	for (rank = 0; rank <= 2; rank++)
		for (i = 0; i < got; i++)
			if (nhs_choices_rank(&tmp[i]) == rank)
				b->items[b->nitems++] = tmp[i];
}

/* rel="next", unless the feed says it is complete (RFC 5005). */
static const char *
nhs_choices_next_href(struct arena *a, const xmlNode *root)
{
	const char *href = NULL, *rel;
	const xmlNode *c;

	for (c = root->children; c != NULL; c = c->next) {
		if (nhs_choices_is(c, NS_FH, "complete"))
			return NULL;
		if (href == NULL && nhs_choices_is(c, NS_ATOM, "link") &&
		    (rel = nhs_choices_attr(a, c, "rel")) != NULL &&
		    strcmp(rel, "next") == 0)
			href = nhs_choices_attr(a, c, "href");
	}
	return href;
}

static void
nhs_choices_quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* Whether a body is an HTML page, from its first tag. */
static int
nhs_choices_looks_html(const char *b, size_t len)
{
	const char *end = b + len;

	if (len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		b += 3;
	while (b < end && strchr(" \t\r\n", *b) != NULL && *b != '\0')
		b++;
	return (size_t)(end - b) >= 5 && (strncasecmp(b, "<html", 5) == 0 ||
	    ((size_t)(end - b) >= 9 && strncasecmp(b, "<!doctype", 9) == 0));
}

/* Not a feed: say what it is, as far as we can tell. */
static int
nhs_choices_not_feed(const struct conn_response *r, const char *why,
    struct conn_error *e)
{
	char *title;
	int rc;

	if (!nhs_choices_looks_html(r->body, r->body_len))
		return conn_fail(e, CONN_ERR_MALFORMED, NHSC_NAME ": %s", why);
	title = htmltext_title(r->body, r->body_len, 80);
	rc = conn_fail(e, CONN_ERR_MALFORMED, NHSC_NAME ": not an Atom "
	    "feed: got an HTML page%s%s%s", title != NULL ? " (\"" : "",
	    title != NULL ? title : "", title != NULL ? "\")" : "");
	free(title);
	return rc;
}

/* The document is a feed we read: an Atom root, no DTD. */
static int
nhs_choices_check_doc(xmlDocPtr doc, const struct conn_response *r,
    struct conn_error *e)
{
	xmlNode *root = xmlDocGetRootElement(doc);
	char why[120];

	if (root == NULL)
		return nhs_choices_not_feed(r, "no root element", e);
	if (!nhs_choices_is(root, NS_ATOM, "feed")) {
		snprintf(why, sizeof(why), "not an Atom feed: root element "
		    "<%.40s>", (const char *)root->name);
		return nhs_choices_not_feed(r, why, e);
	}
	/* The API sends none; a DTD is only good for entity tricks. */
	if (doc->intSubset != NULL)
		return conn_fail(e, CONN_ERR_MALFORMED, NHSC_NAME ": a DTD in "
		    "the feed, refused");
	return 0;
}

/* The parser's first error, on one line. */
static int
nhs_choices_xml_error(xmlParserCtxtPtr ctxt, const struct conn_response *r,
    struct conn_error *e)
{
	const xmlError *x = &ctxt->lastError;
	char why[160];
	char *msg;

	msg = htmltext_plain(x->message != NULL ? x->message : "unreadable",
	    x->message != NULL ? strlen(x->message) : 10, 100,
	    HTMLTEXT_ONELINE);
	snprintf(why, sizeof(why), "%s XML at line %d: %s",
	    x->code == XML_ERR_DOCUMENT_END || x->code ==
	    XML_ERR_TAG_NOT_FINISHED ? "truncated" : "ill-formed", x->line,
	    msg);
	free(msg);
	return nhs_choices_not_feed(r, why, e);
}

/* Body -> document; -1 with e if it is no Atom feed we can read. */
static int
nhs_choices_read(const struct conn_response *r, xmlDocPtr *out,
    struct conn_error *e)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	int rc;

	if (r->body_len > NHS_MAX_BODY)
		return conn_fail(e, CONN_ERR_MALFORMED, NHSC_NAME ": response "
		    "larger than %d bytes", NHS_MAX_BODY);
	if (r->body_len == 0)
		return conn_fail(e, CONN_ERR_MALFORMED, NHSC_NAME ": empty "
		    "body");
	xmlInitParser();
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		return conn_fail(e, CONN_ERR_TRANSIENT, NHSC_NAME ": out of "
		    "memory");
	xmlSetGenericErrorFunc(NULL, nhs_choices_quiet);
	doc = xmlCtxtReadMemory(ctxt, r->body, (int)r->body_len, NULL, NULL,
	    NHSC_XML_OPTIONS);
	xmlSetGenericErrorFunc(oldctx, old);
	if (doc == NULL || !ctxt->wellFormed)
		rc = nhs_choices_xml_error(ctxt, r, e);
	else
		rc = nhs_choices_check_doc(doc, r, e);
	xmlFreeParserCtxt(ctxt);
	if (rc == -1 && doc != NULL)
		xmlFreeDoc(doc);
	*out = rc == 0 ? doc : NULL;
	return rc;
}

/* The syndication's own "Status Code 404" page: an empty result. */
static int
nhs_choices_empty_result(const struct conn_response *r)
{
	char *title;
	int yes;

	if (r->status != 404 || !nhs_choices_looks_html(r->body, r->body_len))
		return 0;
	title = htmltext_title(r->body, r->body_len, 80);
	yes = title != NULL && strncmp(title, "NHS Choices Syndication",
	    23) == 0;
	free(title);
	return yes;
}

/*
 * The cursor after a page: the next page in flight, or, at the end of
 * the sweep, the day the next one starts from.
 */
static const char *
nhs_choices_cursor_next(const struct nhs_choices_cursor *cur, int64_t high,
    const char *next, struct arena *a)
{
	struct nhs_choices_cursor out = *cur;
	const char *day;

	if (high > out.high)
		out.high = high;
	out.next = next;
	if (next != NULL)
		return nhs_choices_cursor_text(&out, a);
	/* Never back: a sweep of old pages leaves the day where it is. */
	if (out.high != 0 && (day = nhs_day(a, out.high,
	    NHSC_OVERLAP_DAYS)) != NULL && (out.since == NULL ||
	    strcmp(day, out.since) > 0))
		out.since = day;
	out.high = 0;
	return nhs_choices_cursor_text(&out, a);
}

/* The next page to fetch, if it is a link we follow and moves on. */
static const char *
nhs_choices_next_page(const struct nhs_choices_conf *c,
    const struct nhs_choices_cursor *cur, const char *href, struct arena *a)
{
	const char *next, *page;

	if (href == NULL || (next = nhs_choices_resume(a, href)) == NULL)
		return NULL;
	page = nhs_choices_page(c, cur, a);
	/* The same page again, or back: a loop, not more pages. */
	if (strcmp(next, page) == 0 || nhs_choices_page_no(next) <=
	    nhs_choices_page_no(page))
		return NULL;
	return next;
}

static int
nhs_choices_parse_page(const struct nhs_choices_conf *c, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct nhs_choices_job job = { c, a, 0 };
	struct nhs_choices_cursor cur;
	struct conn_batch b;
	const char *next = NULL;
	xmlDocPtr doc;
	xmlNode *root;

	memset(&b, 0, sizeof(b));
	nhs_choices_cursor_read(cursor, a, &cur);
	if (nhs_choices_empty_result(r)) {
		b.cursor = nhs_choices_cursor_next(&cur, 0, NULL, a);
		*out = b;
		return 0;
	}
	if (nhs_status(r, NHSC_NAME, e) == -1 ||
	    nhs_choices_read(r, &doc, e) == -1)
		return -1;
	root = xmlDocGetRootElement(doc);
	nhs_choices_entries(&job, root, &b);
	next = nhs_choices_next_page(c, &cur, nhs_choices_next_href(a, root),
	    a);
	xmlFreeDoc(doc);
	if (next != NULL)
		b.next = nhs_choices_request(c, next, a);
	b.cursor = nhs_choices_cursor_next(&cur, job.high, next, a);
	*out = b;
	return 0;
}

static int
nhs_choices_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	const struct nhs_choices_conf *c = conf;

	if (nhs_choices_parse_page(c, cursor, r, a, out, e) == 0)
		return 0;
	nhs_scrub(e, c->apikey);
	return -1;
}

/*
 * Where staff answer: the organisation's reviews page on the website,
 * the page each entry's rel="alternate" link names ("Original comment
 * on NHS Choices website"), for the configured code; reviews_url if
 * set. Comments have no page of their own there.
 */
static const char *
nhs_choices_handoff_url(const void *conf, const char *thread_key,
    struct arena *a)
{
	const struct nhs_choices_conf *c = conf;

	(void)thread_key;
	if (c->reviews_url != NULL)
		return c->reviews_url;
	if (c->ods == NULL)
		return NULL;
	return arena_printf(a, NHSC_WEBSITE "/Services/%s/ReviewsAndRatings/"
	    "DefaultView.aspx?id=%s", c->org_type, c->ods);
}

const struct connector connector_nhs_choices = {
	.name = NHSC_NAME,
	.title = "NHS Choices comments (v1 syndication API)",
	.settings = nhs_choices_settings,
	.reply_mode = CONN_REPLY_HANDOFF,
	.min_gap_ms = 1000,
	.configure = nhs_choices_configure,
	.poll = nhs_choices_poll,
	.parse = nhs_choices_parse,
	.handoff_url = nhs_choices_handoff_url,
};
