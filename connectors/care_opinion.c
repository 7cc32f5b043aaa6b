/* care_opinion: Care Opinion API v2 stories and their responses, JSON. */
#include "connector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "date.h"
#include "htmltext.h"

/*
 * No genuine payload of this API was found: the shapes rest on its
 * documentation and on public client code (tests/connectors/
 * care-opinion/README.md). So any field may be missing, ids may be
 * numbers or strings, field names are matched in any case, and a
 * link may be {rel, id, href} as the docs say or {relation, id, link}
 * as the clients read it.
 *
 * A story's entry in a listing has neither its health services (which
 * decide the organisation it is filed under) nor its tags nor its
 * responses: each is a sub-collection, one request. So a poll is a
 * "pass" of small requests, and the cursor names the one in flight:
 * poll() and parse() derive the request from the cursor alike, and
 * each page saves the cursor of the next, so a pass cut short (the
 * poller's page cap, a 5xx, a restart) resumes where it stopped.
 *
 *   ops   /opinions?nacs=..&take=..&skip=..&publishedafter=<since>:
 *	   new stories, oldest first; each then gets /healthservices and
 *	   /tags (and /responses in a full pass) and is emitted complete.
 *	   publishedafter, not submittedonafter: a story submitted long
 *	   ago may be published (moderated) today.
 *   resp  /responses?nacs=..&take=..&skip=..&publishedafter=<rsince>:
 *	   responses to old stories too (how a provider's reply shows up);
 *	   each needs its story's /healthservices, so it is filed under
 *	   the same organisation and thread as the story.
 *   scan  the re-scan: /opinions with no date, in full, one page a
 *	   pass after the two above, so edits and a later change-made
 *	   signal come back without holding up new stories.
 *
 * An empty page ends a listing. Dates at or before the watermark are
 * dropped here too, whether the server's "after" is strict or not.
 * The first pass has no watermark: it reads every story in full and
 * counts as a re-scan. A re-scan starts when `rescan` has passed since
 * the last one began, by the server's clock (its Date header; lacking
 * one, the newest publication seen), as a connector has no clock.
 *
 * Withdrawals: the API documents no sign of one, and a story missing
 * from a re-scan cannot be told from a page that shifted, so only a
 * 404 or 410 for a listed story's sub-collection marks it removed.
 */

#define CO_DEFAULT_URL	"https://www.careopinion.org.uk/api/v2"
#define CO_API_PATH	"/api/v2"
#define CO_URL_MAX	512
#define CO_KEY_MAX	256
#define CO_CODE_MAX	32	/* a NACS / ODS code */
#define CO_CODES_MAX	8	/* codes in the nacs setting */
#define CO_ID_MAX	40
#define CO_TAKE_MAX	100
#define CO_TITLE_MAX	500	/* bytes of a title */
#define CO_BODY_MAX	(64 * 1024)	/* bytes of a body, as text */
#define CO_FIELD_MAX	1024	/* bytes of any other field kept */
#define CO_WORD_MAX	200	/* a status word */
#define CO_LIST_MAX	50	/* services, tags of one story */
#define CO_REPLY_MAX	100	/* responses kept of one story */
#define CO_RESCAN_MIN	3600
#define CO_RESCAN_MAX	(365 * 86400)
#define CO_MD_SPAN	512	/* bytes an emphasis or link may span */
#define CO_MD_DEPTH	4	/* emphasis nested deeper stays as typed */

struct care_opinion_conf {
	const char	*base;		/* arena: API root, no '/' to end */
	const char	*web;		/* arena: the site, for story pages */
	const char	*auth;		/* arena: the Authorization value */
	const char	*nacs;		/* arena: "RJ1,RYJ", as the cursor
					   records it */
	const char	*query;		/* arena: "nacs=RJ1&nacs=RYJ" */
	const char	*codes[CO_CODES_MAX];	/* arena, upper case */
	size_t		 ncodes;
	long		 take;
	int64_t		 rescan;	/* seconds; 0 never */
};

/* The request in flight, as the cursor names it. */
enum care_opinion_step {
	CO_STEP_LIST = 0,	/* the phase's listing page */
	CO_STEP_SERVICES,	/* a story's health services */
	CO_STEP_TAGS,		/* a story's tags */
	CO_STEP_REPLIES,	/* a story's responses */
	CO_STEP_LOOKUP,		/* the services of a response's story */
};

/* One response being turned into a batch. */
struct care_opinion_job {
	const struct care_opinion_conf	*conf;
	struct arena			*a;
	json_t				*cur;	/* owned: the cursor */
	json_t				*pass;	/* borrowed from cur */
	json_t				*queue;	/* borrowed from pass */
	struct conn_item		*items;	/* arena */
	size_t				 nitems;
	size_t				 cap;
	int				 listed_none;	/* an empty page */
};

static const char *const care_opinion_sub[] = {
	[CO_STEP_SERVICES] = "healthservices",
	[CO_STEP_TAGS] = "tags",
	[CO_STEP_REPLIES] = "responses",
	[CO_STEP_LOOKUP] = "healthservices",
};

/* The fields kept of each kind of record; others are dropped. */
static const char *const care_opinion_story_keys[] = { "id", "title",
	"body", "dateOfSubmission", "dateOfPublication", "criticality",
	"progress", "authorRole", "authorAgeGroup", "submissionRoute",
	NULL };
static const char *const care_opinion_reply_keys[] = { "id", "body",
	"dateOfPublication", "changeScore", "changeInt", NULL };
static const char *const care_opinion_service_keys[] = { "nacs", "name",
	"type", "siteNacs", "organisation", NULL };
static const char *const care_opinion_tag_keys[] = { "name", "group",
	"polarity", NULL };
/* What a story's meta repeats of it. */
static const char *const care_opinion_meta_keys[] = { "criticality",
	"progress", "authorRole", "authorAgeGroup", "submissionRoute",
	NULL };

static const struct conn_setting care_opinion_settings[] = {
	{ .key = "url", .def = CO_DEFAULT_URL,
	    .help = "API root (http:// or https://); stories link to the "
	    "site it is under" },
	{ .key = "subscription_key", .required = 1, .secret = 1,
	    .help = "the subscription's API key, sent as "
	    "'Authorization: SUBSCRIPTION_KEY <key>'" },
	{ .key = "nacs", .required = 1,
	    .help = "NACS / ODS code(s) of the services to read, comma "
	    "separated (a trust's code takes its sites); each story is "
	    "filed under its own service's code" },
	{ .key = "rescan", .def = "7d",
	    .help = "how often a full re-scan starts, to catch edits and "
	    "change-made signals (1h to 365d, or 'off'); it reads one page "
	    "a poll after the new stories" },
	{ .key = "take", .def = "20",
	    .help = "stories or responses asked for per page (1 to 100)" },
	{ .key = NULL },
};

/* ---- small helpers ---- */

/* Printable ASCII without blanks, 1..max bytes. */
static int
care_opinion_token(const char *s, size_t max)
{
	size_t n;

	for (n = 0; s[n] != '\0'; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f)
			return 0;
	return n > 0 && n <= max;
}

/* Letters and digits, 1..CO_CODE_MAX: a NACS, ODS or ONS code. */
static int
care_opinion_code_ok(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || n > CO_CODE_MAX)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

static char *
care_opinion_upper(struct arena *a, const char *s, size_t n)
{
	char *out = arena_strndup(a, s, n);
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
	return out;
}

/* obj[key], else the first key equal but for case; NULL if none. */
static json_t *
care_opinion_get(const json_t *obj, const char *key)
{
	const char *k;
	json_t *v;

	if ((v = json_object_get(obj, key)) != NULL || !json_is_object(obj))
		return v;
	json_object_foreach((json_t *)obj, k, v)
		if (strcasecmp(k, key) == 0)
			return v;
	return NULL;
}

static const char *
care_opinion_str(const json_t *obj, const char *key)
{
	return json_string_value(care_opinion_get(obj, key));
}

/*
 * An id as text, whether the API sent 1234567 or "1234567"; NULL if
 * it is neither a whole number nor a short token fit for a URL path.
 */
static const char *
care_opinion_id(struct arena *a, const json_t *v)
{
	const char *s;
	double d;
	size_t i, n;

	if (json_is_integer(v) && json_integer_value(v) >= 0)
		return arena_printf(a, "%lld",
		    (long long)json_integer_value(v));
	if (json_is_real(v) && (d = json_real_value(v)) >= 0 && d < 1e15 &&
	    d == (double)(long long)d)
		return arena_printf(a, "%lld", (long long)d);
	if ((s = json_string_value(v)) == NULL)
		return NULL;
	n = strlen(s);
	if (n == 0 || n > CO_ID_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '_')
			return NULL;
	return arena_strdup(a, s);
}

/* An ISO 8601 date field as unix seconds; 0 if absent or unreadable. */
static int64_t
care_opinion_time(const json_t *obj, const char *key)
{
	const char *s = care_opinion_str(obj, key);
	int64_t t;

	if (s == NULL || date_parse_iso8601(s, &t) == -1 || t <= 0)
		return 0;
	return t;
}

/* Stores t as "YYYY-MM-DDTHH:MM:SSZ"; 0 deletes the key. */
static void
care_opinion_set_time(json_t *obj, const char *key, int64_t t)
{
	char iso[DATE_ISO_SIZE];

	if (t > 0 && date_format(t, iso, sizeof(iso)) == 0)
		json_object_set_new(obj, key, json_string(iso));
	else
		json_object_del(obj, key);
}

/* Raises obj[key] to t if t is later. */
static void
care_opinion_max_time(json_t *obj, const char *key, int64_t t)
{
	if (t > care_opinion_time(obj, key))
		care_opinion_set_time(obj, key, t);
}

static long long
care_opinion_int(const json_t *obj, const char *key)
{
	json_int_t v = json_integer_value(json_object_get(obj, key));

	return v < 0 ? 0 : v > 1000000000 ? 1000000000 : v;
}

/* Text cut to at most max bytes, on a UTF-8 character boundary. */
static json_t *
care_opinion_cut(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return json_stringn(s, n);
}

/* Clean one-line text in the arena, or NULL if there is none. */
static const char *
care_opinion_line(struct arena *a, const char *s, size_t max)
{
	const char *out;
	char *t;

	if (s == NULL)
		return NULL;
	t = htmltext_plain(s, strlen(s), max, HTMLTEXT_ONELINE);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

/* ---- Markdown to plain text ---- */

static void	care_opinion_md_inline(struct buf *, const char *, size_t,
		    int);

/* s[i], or a blank outside s: the edges of a line act as blanks. */
static char
care_opinion_md_at(const char *s, size_t n, size_t i)
{
	return i < n ? s[i] : ' ';
}

static int
care_opinion_md_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static size_t
care_opinion_md_run(const char *s, size_t n, size_t i, char c)
{
	size_t k = 0;

	while (i + k < n && s[i + k] == c)
		k++;
	return k;
}

/* Where the run that closes k c's opened at s[0] starts; 0 if none. */
static size_t
care_opinion_md_closer(const char *s, size_t n, char c, size_t k)
{
	size_t j, m, end = n < CO_MD_SPAN ? n : CO_MD_SPAN;

	for (j = k + 1; j < end; j += m) {
		m = 1;
		if (s[j] == '\\') {
			m = 2;
			continue;
		}
		if (s[j] != c)
			continue;
		m = care_opinion_md_run(s, n, j, c);
		if (m == k && !care_opinion_md_blank(s[j - 1]) &&
		    (c != '_' || !isalnum((unsigned char)
		    care_opinion_md_at(s, n, j + m))))
			return j;
	}
	return 0;
}

/*
 * Emphasis at s[i] ("*a*", "__b__"): writes its text and returns the
 * bytes it took, or 0 if the run there does not open one.
 */
static size_t
care_opinion_md_emph(struct buf *b, const char *s, size_t n, size_t i,
    int depth)
{
	char c = s[i];
	size_t k = care_opinion_md_run(s, n, i, c), j;

	if (k > 3 || depth >= CO_MD_DEPTH ||
	    care_opinion_md_blank(care_opinion_md_at(s, n, i + k)) ||
	    (c == '_' && i > 0 && isalnum((unsigned char)s[i - 1])))
		return 0;
	if ((j = care_opinion_md_closer(s + i, n - i, c, k)) == 0)
		return 0;
	care_opinion_md_inline(b, s + i + k, j - k, depth + 1);
	return j + k;
}

/* `code` at s[0]: its text as typed; 0 if no run closes it. */
static size_t
care_opinion_md_code(struct buf *b, const char *s, size_t n)
{
	size_t k = care_opinion_md_run(s, n, 0, '`'), j, m;
	size_t end = n < CO_MD_SPAN ? n : CO_MD_SPAN;

	for (j = k; j < end; j += m) {
		if ((m = care_opinion_md_run(s, n, j, '`')) == 0) {
			m = 1;
			continue;
		}
		if (m == k) {
			buf_append(b, s + k, j - k);
			return j + k;
		}
	}
	return 0;
}

/*
 * "[text](url)" at s[0], or "![alt](url)" when image: the text, then
 * the address in brackets if it adds anything; 0 if not a link.
 */
static size_t
care_opinion_md_link(struct buf *b, const char *s, size_t n, int image,
    int depth)
{
	size_t end = n < CO_MD_SPAN ? n : CO_MD_SPAN, t, u, ul;
	const char *close, *paren;

	if ((close = memchr(s + 1, ']', end - 1)) == NULL)
		return 0;
	t = (size_t)(close - s);
	if (t + 1 >= n || s[t + 1] != '(')
		return 0;
	u = t + 2;
	if ((paren = memchr(s + u, ')', (n - u) < CO_MD_SPAN ? n - u :
	    CO_MD_SPAN)) == NULL)
		return 0;
	ul = strcspn(s + u, " \t\")");
	if (u + ul > (size_t)(paren - s))
		ul = (size_t)(paren - s) - u;
	care_opinion_md_inline(b, s + 1, t - 1, depth + 1);
	if (!image && ul > 0 && (ul != t - 1 || memcmp(s + 1, s + u,
	    ul) != 0)) {
		buf_puts(b, " (");
		buf_append(b, s + u, ul);
		buf_puts(b, ")");
	}
	return (size_t)(paren - s) + 1;
}

/* "<https://...>" at s[0]: the address alone; 0 if not one. */
static size_t
care_opinion_md_autolink(struct buf *b, const char *s, size_t n)
{
	size_t k = 0, end = n < CO_MD_SPAN ? n : CO_MD_SPAN;

	while (1 + k < end && strchr(" \t<>", s[1 + k]) == NULL)
		k++;
	if (1 + k >= end || s[1 + k] != '>' ||
	    (strncasecmp(s + 1, "http://", 7) != 0 &&
	    strncasecmp(s + 1, "https://", 8) != 0 &&
	    strncasecmp(s + 1, "mailto:", 7) != 0))
		return 0;
	buf_append(b, s + 1, k);
	return k + 2;
}

/* The few entities text from an HTML form brings along. */
static size_t
care_opinion_md_entity(struct buf *b, const char *s, size_t n)
{
	static const struct {
		const char	*name;
		const char	*text;
	} ents[] = {
		{ "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&#39;", "'" }, { "&apos;", "'" },
		{ "&nbsp;", " " },
	};
	size_t i, k;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		k = strlen(ents[i].name);
		if (k <= n && strncmp(s, ents[i].name, k) == 0) {
			buf_puts(b, ents[i].text);
			return k;
		}
	}
	return 0;
}

/* The markup that can start at s[i]; bytes taken, 0 if none did. */
static size_t
care_opinion_md_markup(struct buf *b, const char *s, size_t n, size_t i,
    int depth)
{
	size_t k;

	switch (s[i]) {
	case '\\':
		if (i + 1 < n && ispunct((unsigned char)s[i + 1])) {
			buf_append(b, s + i + 1, 1);
			return 2;
		}
		return 0;
	case '`':
		return care_opinion_md_code(b, s + i, n - i);
	case '!':
		if (i + 1 >= n || s[i + 1] != '[')
			return 0;
		k = care_opinion_md_link(b, s + i + 1, n - i - 1, 1, depth);
		return k > 0 ? k + 1 : 0;
	case '[':
		return care_opinion_md_link(b, s + i, n - i, 0, depth);
	case '<':
		return care_opinion_md_autolink(b, s + i, n - i);
	case '&':
		return care_opinion_md_entity(b, s + i, n - i);
	case '*':
	case '_':
		return care_opinion_md_emph(b, s, n, i, depth);
	}
	return 0;
}

/* One line's inline markup: dropped, keeping what it marks. */
static void
care_opinion_md_inline(struct buf *b, const char *s, size_t n, int depth)
{
	size_t i = 0, k, m;

	while (i < n) {
		if ((k = care_opinion_md_markup(b, s, n, i, depth)) > 0) {
			i += k;
			continue;
		}
		/* A run that did not open stays whole, as typed. */
		m = s[i] == '*' || s[i] == '_' || s[i] == '`' ?
		    care_opinion_md_run(s, n, i, s[i]) : 1;
		buf_append(b, s + i, m);
		i += m;
	}
}

/* "---", "* * *", "===": a rule or a heading's underline. */
static int
care_opinion_md_rule(const char *s, size_t n)
{
	size_t i, marks = 0;
	char c = n > 0 ? s[0] : 0;

	if (c != '-' && c != '*' && c != '_' && c != '=')
		return 0;
	for (i = 0; i < n; i++) {
		if (s[i] == c)
			marks++;
		else if (!care_opinion_md_blank(s[i]))
			return 0;
	}
	return marks >= 3;
}

/* Block markers at the start of a line: quotes, then a heading. */
static size_t
care_opinion_md_lead(const char *s, size_t *n)
{
	size_t i = 0, k;

	while (i < *n && care_opinion_md_blank(s[i]))
		i++;
	while (i < *n && s[i] == '>') {
		i++;
		while (i < *n && care_opinion_md_blank(s[i]))
			i++;
	}
	k = care_opinion_md_run(s, *n, i, '#');
	if (k < 1 || k > 6 || !care_opinion_md_blank(care_opinion_md_at(s,
	    *n, i + k)))
		return i;
	i += k;
	/* A closing run of '#' goes, but not the one of "C#". */
	while (*n > i && care_opinion_md_blank(s[*n - 1]))
		(*n)--;
	for (k = *n; k > i && s[k - 1] == '#'; k--)
		;
	if (k == i || care_opinion_md_blank(s[k - 1]))
		*n = k;
	return i;
}

static void
care_opinion_md_line(struct buf *b, const char *s, size_t n, int *fence)
{
	size_t i = 0;

	while (i < n && care_opinion_md_blank(s[i]))
		i++;
	if (n - i >= 3 && (strncmp(s + i, "```", 3) == 0 ||
	    strncmp(s + i, "~~~", 3) == 0)) {
		*fence = !*fence;
		return;
	}
	if (*fence)
		buf_append(b, s, n);
	else if (!care_opinion_md_rule(s + i, n - i)) {
		i = care_opinion_md_lead(s, &n);
		/* A backslash ending a line is a hard break: a newline. */
		if (n > i && s[n - 1] == '\\')
			n--;
		care_opinion_md_inline(b, s + i, n - i, 0);
	}
	buf_puts(b, "\n");
}

/*
 * Markdown (what stories and responses are written in) to the text a
 * reader sees: markers dropped, paragraphs and list items kept, a
 * link's address after its text. NULL if nothing is left.
 */
static const char *
care_opinion_md(struct arena *a, const char *md)
{
	const char *p = md, *end, *nl;
	const char *out;
	struct buf b;
	int fence = 0;
	size_t n;
	char *t;

	if (md == NULL)
		return NULL;
	end = md + strlen(md);
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	for (; p < end; p += n + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		care_opinion_md_line(&b, p, n, &fence);
	}
	t = htmltext_plain(b.data, b.len, CO_BODY_MAX, 0);
	buf_free(&b);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

/* ---- settings ---- */

static int
care_opinion_check_url(const char *url, struct conn_error *e)
{
	size_t n = strncasecmp(url, "https://", 8) == 0 ? 8 :
	    strncasecmp(url, "http://", 7) == 0 ? 7 : 0;

	/* Never echoed: a URL may carry a token. */
	if (!care_opinion_token(url, CO_URL_MAX))
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: url is "
		    "empty, too long or has blanks or control characters");
	if (n == 0 || strchr("/?#:@", url[n]) != NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: url must "
		    "be http:// or https:// and name a host");
	if (strpbrk(url, "?#") != NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: url is "
		    "the API root and takes no query");
	return 0;
}

/*
 * The API root without a '/' at the end, and the site it is under:
 * "https://www.careopinion.org.uk/api/v2" is on the site
 * "https://www.careopinion.org.uk", where story <id> is at "/<id>".
 */
static void
care_opinion_roots(struct care_opinion_conf *c, struct arena *a,
    const char *url)
{
	size_t n = strlen(url), k = strlen(CO_API_PATH), host;

	while (n > 0 && url[n - 1] == '/')
		n--;
	c->base = arena_strndup(a, url, n);
	if (n > k && strncasecmp(url + n - k, CO_API_PATH, k) == 0) {
		c->web = arena_strndup(a, url, n - k);
		return;
	}
	host = (size_t)(strstr(url, "://") - url) + 3;
	host += strcspn(url + host, "/");
	c->web = arena_strndup(a, url, host);
}

/* "RJ1, RYJ" -> codes, the cursor's "RJ1,RYJ" and the query. */
static int
care_opinion_nacs(struct care_opinion_conf *c, struct arena *a,
    const char *v, struct conn_error *e)
{
	char norm[CO_CODES_MAX * (CO_CODE_MAX + 1)] = "";
	char query[CO_CODES_MAX * (CO_CODE_MAX + 6)] = "";
	size_t n;

	for (c->ncodes = 0; *v != '\0'; v += n + (v[n] == ',')) {
		v += strspn(v, " \t");
		n = strcspn(v, ", \t");
		if (!care_opinion_code_ok(v, n) ||
		    c->ncodes == CO_CODES_MAX)
			return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: "
			    "nacs must be 1 to %d codes of letters and "
			    "digits, comma separated", CO_CODES_MAX);
		c->codes[c->ncodes] = care_opinion_upper(a, v, n);
		snprintf(norm + strlen(norm), sizeof(norm) - strlen(norm),
		    "%s%s", c->ncodes > 0 ? "," : "", c->codes[c->ncodes]);
		snprintf(query + strlen(query), sizeof(query) - strlen(query),
		    "%snacs=%s", c->ncodes > 0 ? "&" : "",
		    c->codes[c->ncodes]);
		c->ncodes++;
		n += strspn(v + n, " \t");
	}
	if (c->ncodes == 0)
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: nacs is "
		    "empty");
	c->nacs = arena_strdup(a, norm);
	c->query = arena_strdup(a, query);
	return 0;
}

/* "7d", "12h", "90m", "3600", or "off": seconds (0 never); -1 if bad. */
static int64_t
care_opinion_rescan(const char *s)
{
	long long n;
	char *end;

	if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0)
		return 0;
	if (*s < '0' || *s > '9')
		return -1;
	n = strtoll(s, &end, 10);
	if (n > CO_RESCAN_MAX)
		return -1;
	if (strcmp(end, "d") == 0)
		n *= 86400;
	else if (strcmp(end, "h") == 0)
		n *= 3600;
	else if (strcmp(end, "m") == 0)
		n *= 60;
	else if (strcmp(end, "s") != 0 && *end != '\0')
		return -1;
	return n < CO_RESCAN_MIN || n > CO_RESCAN_MAX ? -1 : n;
}

static int
care_opinion_numbers(struct care_opinion_conf *c,
    const struct conn_settings *set, struct conn_error *e)
{
	const char *rescan = conn_settings_get(set, "rescan");
	const char *take = conn_settings_get(set, "take");
	char *end;

	c->rescan = care_opinion_rescan(rescan != NULL ? rescan : "7d");
	if (c->rescan == -1)
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: rescan "
		    "must be from 1h to 365d (s, m, h or d), or 'off'");
	c->take = 20;
	if (take != NULL && (take[0] < '1' || take[0] > '9' ||
	    (c->take = strtol(take, &end, 10)) > CO_TAKE_MAX || *end != '\0'))
		return conn_fail(e, CONN_ERR_CONFIG, "care-opinion: take must "
		    "be 1 to %d", CO_TAKE_MAX);
	return 0;
}

static void *
care_opinion_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "url");
	const char *key = conn_settings_get(set, "subscription_key");
	const char *nacs = conn_settings_get(set, "nacs");
	struct care_opinion_conf *c = arena_alloc(a, sizeof(*c));

	if (url == NULL)
		url = CO_DEFAULT_URL;
	if (key == NULL || nacs == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "care-opinion: missing setting "
		    "'%s'", key == NULL ? "subscription_key" : "nacs");
		return NULL;
	}
	if (!care_opinion_token(key, CO_KEY_MAX)) {
		conn_fail(e, CONN_ERR_CONFIG, "care-opinion: subscription_key "
		    "must be printable, without blanks, at most %d bytes",
		    CO_KEY_MAX);
		return NULL;
	}
	if (care_opinion_check_url(url, e) == -1 ||
	    care_opinion_nacs(c, a, nacs, e) == -1 ||
	    care_opinion_numbers(c, set, e) == -1)
		return NULL;
	care_opinion_roots(c, a, url);
	c->auth = arena_printf(a, "SUBSCRIPTION_KEY %s", key);
	return c;
}

/* ---- the cursor ---- */

/* A queued record: a story with what is fetched of it, or a response. */
static int
care_opinion_record_ok(const json_t *rec)
{
	const json_t *op = json_object_get(rec, "op");
	static const char *const lists[] = { "hs", "tags", "resps" };
	size_t i;

	if (json_is_string(json_object_get(rec, "of")))
		return json_is_object(json_object_get(rec, "resp")) &&
		    json_is_string(json_object_get(json_object_get(rec,
		    "resp"), "id"));
	if (!json_is_object(op) || !json_is_string(json_object_get(op, "id")))
		return 0;
	for (i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		if (json_object_get(rec, lists[i]) != NULL &&
		    !json_is_array(json_object_get(rec, lists[i])))
			return 0;
	return 1;
}

/* A date kept as canonical text, or dropped if it does not read. */
static void
care_opinion_date_check(json_t *obj, const char *key)
{
	if (json_object_get(obj, key) != NULL)
		care_opinion_set_time(obj, key, care_opinion_time(obj, key));
}

/* The pass under way, if it reads; else it is dropped and redone. */
static void
care_opinion_pass_check(json_t *cur)
{
	json_t *pass = json_object_get(cur, "pass"), *q, *rec;
	const char *ph = json_string_value(json_object_get(pass, "phase"));
	size_t i;

	if (ph == NULL || (strcmp(ph, "ops") != 0 && strcmp(ph, "resp") != 0 &&
	    strcmp(ph, "scan") != 0) ||
	    !json_is_array(q = json_object_get(pass, "queue"))) {
		json_object_del(cur, "pass");
		return;
	}
	for (i = 0; i < json_array_size(q);) {
		rec = json_array_get(q, i);
		if (care_opinion_record_ok(rec))
			i++;
		else
			json_array_remove(q, i);
	}
	json_object_set_new(pass, "skip", json_integer(care_opinion_int(pass,
	    "skip")));
	care_opinion_date_check(pass, "after");
	care_opinion_date_check(pass, "began");
	care_opinion_date_check(pass, "top");
	care_opinion_date_check(pass, "rtop");
	if (strcmp(ph, "scan") == 0 && !json_is_object(json_object_get(cur,
	    "scan")))
		json_object_del(cur, "pass");
}

/* A pass begins with the new stories. */
static void
care_opinion_pass_new(json_t *cur)
{
	json_t *pass = json_object();

	json_object_set_new(pass, "phase", json_string("ops"));
	json_object_set_new(pass, "skip", json_integer(0));
	json_object_set_new(pass, "queue", json_array());
	care_opinion_set_time(pass, "after", care_opinion_time(cur, "since"));
	json_object_set_new(cur, "pass", pass);
}

/*
 * The saved cursor, read. One that does not read, or was made for
 * other codes, starts afresh: its watermarks say nothing of these.
 */
static json_t *
care_opinion_cursor(const struct care_opinion_conf *c, const char *text)
{
	json_t *cur = text != NULL ? json_loads(text, 0, NULL) : NULL, *scan;
	const char *nacs = json_string_value(json_object_get(cur, "nacs"));

	if (!json_is_object(cur) || nacs == NULL ||
	    strcmp(nacs, c->nacs) != 0) {
		json_decref(cur);
		cur = json_object();
		json_object_set_new(cur, "nacs", json_string(c->nacs));
	}
	care_opinion_date_check(cur, "since");
	care_opinion_date_check(cur, "rsince");
	care_opinion_date_check(cur, "scan_at");
	if (json_is_object(scan = json_object_get(cur, "scan"))) {
		json_object_set_new(scan, "skip", json_integer(
		    care_opinion_int(scan, "skip")));
		care_opinion_date_check(scan, "began");
	} else
		json_object_del(cur, "scan");
	care_opinion_pass_check(cur);
	if (json_object_get(cur, "pass") == NULL)
		care_opinion_pass_new(cur);
	return cur;
}

static const char *
care_opinion_phase(const json_t *pass)
{
	const char *ph = json_string_value(json_object_get(pass, "phase"));

	return ph != NULL ? ph : "ops";
}

/* The step the queue's head needs, and the story id it is for. */
static enum care_opinion_step
care_opinion_step(const json_t *pass, const char **id)
{
	json_t *head = json_array_get(json_object_get(pass, "queue"), 0);

	*id = NULL;
	if (head == NULL)
		return CO_STEP_LIST;
	if ((*id = json_string_value(json_object_get(head, "of"))) != NULL)
		return CO_STEP_LOOKUP;
	*id = json_string_value(json_object_get(json_object_get(head, "op"),
	    "id"));
	if (json_object_get(head, "hs") == NULL)
		return CO_STEP_SERVICES;
	if (json_object_get(head, "tags") == NULL)
		return CO_STEP_TAGS;
	return CO_STEP_REPLIES;
}

static const char *
care_opinion_list_url(const struct care_opinion_conf *c,
    const json_t *pass, struct arena *a)
{
	const char *ph = care_opinion_phase(pass);
	const char *after = json_string_value(json_object_get(pass, "after"));
	int dated = after != NULL && strcmp(ph, "scan") != 0;

	return arena_printf(a, "%s/%s?%s&take=%ld&skip=%lld%s%s", c->base,
	    strcmp(ph, "resp") == 0 ? "responses" : "opinions", c->query,
	    c->take, care_opinion_int(pass, "skip"),
	    dated ? "&publishedafter=" : "", dated ? after : "");
}

/* The request the cursor names. */
static void
care_opinion_request(const struct care_opinion_conf *c, const json_t *cur,
    struct arena *a, struct conn_request *req)
{
	const json_t *pass = json_object_get(cur, "pass");
	enum care_opinion_step step;
	const char *id;

	memset(req, 0, sizeof(*req));
	req->method = "GET";
	step = care_opinion_step(pass, &id);
	if (step == CO_STEP_LIST)
		req->url = care_opinion_list_url(c, pass, a);
	else
		req->url = arena_printf(a, "%s/opinions/%s/%s", c->base, id,
		    care_opinion_sub[step]);
	conn_request_header(req, a, "Authorization", c->auth);
	conn_request_header(req, a, "Accept", "application/json");
}

static int
care_opinion_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	json_t *cur = care_opinion_cursor(conf, cursor);

	(void)e;
	care_opinion_request(conf, cur, a, req);
	json_decref(cur);
	return 0;
}

/* ---- statuses ---- */

/* Whether a URL's path (or a relative one) is a sign-in page. */
static int
care_opinion_login_url(const char *u)
{
	const char *p;

	if (u == NULL)
		return 0;
	if ((p = strstr(u, "://")) != NULL)
		p += 3 + strcspn(p + 3, "/");
	else
		p = u;
	return strcasestr(p, "login") != NULL ||
	    strcasestr(p, "signin") != NULL ||
	    strcasestr(p, "sign-in") != NULL;
}

/* The body after a byte order mark and blanks. */
static const char *
care_opinion_lead(const struct conn_response *r)
{
	const char *b = r->body, *end = r->body + r->body_len;

	if (r->body_len >= 3 && memcmp(b, "\xef\xbb\xbf", 3) == 0)
		b += 3;
	while (b < end && *b != '\0' && strchr(" \t\r\n", *b) != NULL)
		b++;
	return b;
}

static int
care_opinion_html(const struct conn_response *r)
{
	const char *ct = conn_response_header(r, "Content-Type");
	const char *b = care_opinion_lead(r);
	size_t n = r->body_len - (size_t)(b - r->body);

	if (ct != NULL && strcasestr(ct, "html") != NULL)
		return 1;
	return (n >= 5 && strncasecmp(b, "<html", 5) == 0) ||
	    (n >= 14 && strncasecmp(b, "<!doctype html", 14) == 0);
}

/*
 * A refused key is not answered 401: the API redirects to the site's
 * sign-in page, which the fetch follows, so a login page in any form
 * means the key was refused.
 */
static int
care_opinion_login(const struct conn_response *r)
{
	char *title;
	int login;

	if (r->status >= 300 && r->status <= 399)
		return care_opinion_login_url(conn_response_header(r,
		    "Location"));
	if (r->status < 200 || r->status > 299)
		return 0;
	if (r->redirected && care_opinion_login_url(r->effective_url))
		return 1;
	if (!care_opinion_html(r))
		return 0;
	if (r->redirected)
		return 1;
	title = htmltext_title(r->body, r->body_len, 200);
	login = title != NULL && (strcasestr(title, "log in") != NULL ||
	    strcasestr(title, "login") != NULL ||
	    strcasestr(title, "sign in") != NULL);
	free(title);
	return login;
}

/* 429, and a 503 that says when to come back. */
static int
care_opinion_rate_limited(const struct conn_response *r,
    struct conn_error *e)
{
	const char *v = conn_response_header(r, "Retry-After");
	long n = 0;

	if (conn_retry_after(r, &n) != 1)
		n = 0;
	if (r->status == 503 && v == NULL)
		return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP 503");
	if (r->status == 503)
		conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 503: unavailable, "
		    "come back later");
	else
		conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 429: rate limited "
		    "(5 requests a second at most)");
	/* A date with no Date beside it is left to the daemon's clock. */
	e->retry_after = n;
	return -1;
}

/* 0 to read the body, 1 if a story's sub-collection is gone, or -1. */
static int
care_opinion_status(const struct conn_response *r, int sub,
    struct conn_error *e)
{
	long s = r->status;

	if (care_opinion_login(r))
		return conn_fail(e, CONN_ERR_AUTH, "subscription key refused "
		    "(redirected to the login page)");
	if (s >= 200 && s <= 299)
		return 0;
	if (s == 401 || s == 403)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP %ld: subscription "
		    "key refused", s);
	if (s == 429 || s == 503)
		return care_opinion_rate_limited(r, e);
	if (sub && (s == 404 || s == 410))
		return 1;
	if (s == 404 || s == 410)
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: no Care "
		    "Opinion API at that url", s);
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, CONN_ERR_CONFIG, "HTTP %ld: the API "
		    "refused the request", s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld", s);
}

/* A body that is markup, not JSON: -1 and what it is; else 0. */
static int
care_opinion_markup(const struct conn_response *r, struct conn_error *e)
{
	char *title;
	int rc;

	if (care_opinion_html(r)) {
		title = htmltext_title(r->body, r->body_len, 80);
		rc = conn_fail(e, CONN_ERR_MALFORMED, "not JSON: got an HTML "
		    "page%s%s%s", title != NULL ? " (\"" : "",
		    title != NULL ? title : "", title != NULL ? "\")" : "");
		free(title);
		return rc;
	}
	if (*care_opinion_lead(r) == '<')
		return conn_fail(e, CONN_ERR_MALFORMED, "not JSON: got XML "
		    "(the retired v1 API, or format=xml)");
	return 0;
}

/* The body as a JSON array, or NULL and why. */
static json_t *
care_opinion_body(const struct conn_response *r, struct conn_error *e)
{
	json_error_t je;
	const char *near;
	json_t *v;

	if (r->status == 204)
		return json_array();
	if (care_opinion_markup(r, e) == -1)
		return NULL;
	if ((v = json_loadb(r->body, r->body_len, 0, &je)) == NULL) {
		/* jansson quotes the text "near" the fault: a patient's. */
		near = strstr(je.text, " near ");
		conn_fail(e, CONN_ERR_MALFORMED, "ill-formed or truncated "
		    "JSON: %.*s (byte %d of %zu)", near != NULL ?
		    (int)(near - je.text) : (int)strlen(je.text), je.text,
		    je.position, r->body_len);
		return NULL;
	}
	if (!json_is_array(v)) {
		conn_fail(e, CONN_ERR_MALFORMED, "expected a JSON array, got "
		    "%s", json_is_object(v) ? "an object" : "a value");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ---- records ---- */

/* The kept fields of an object; strings cut to their bounds. */
static json_t *
care_opinion_trim(const json_t *src, const char *const *keys)
{
	json_t *out = json_object(), *v;
	const char *s;

	for (; *keys != NULL; keys++) {
		v = care_opinion_get(src, *keys);
		if ((s = json_string_value(v)) != NULL)
			json_object_set_new(out, *keys, care_opinion_cut(s,
			    strcmp(*keys, "body") == 0 ? CO_BODY_MAX :
			    CO_FIELD_MAX));
		else if (json_is_number(v) || json_is_boolean(v))
			json_object_set(out, *keys, v);
	}
	return out;
}

/* The same, with its id as text; NULL if it has no usable id. */
static json_t *
care_opinion_trim_id(struct arena *a, const json_t *src,
    const char *const *keys)
{
	const char *id = care_opinion_id(a, care_opinion_get(src, "id"));
	json_t *out;

	if (id == NULL)
		return NULL;
	out = care_opinion_trim(src, keys);
	json_object_set_new(out, "id", json_string(id));
	return out;
}

/* How a sub-collection is kept, by the step that fetches it. */
static const struct {
	const char		*as;	/* its key in a queued story */
	const char *const	*keys;
	size_t			 max;
	int			 ids;	/* records without an id dropped */
} care_opinion_lists[] = {
	[CO_STEP_SERVICES] = { "hs", care_opinion_service_keys,
	    CO_LIST_MAX, 0 },
	[CO_STEP_TAGS] = { "tags", care_opinion_tag_keys, CO_LIST_MAX, 0 },
	[CO_STEP_REPLIES] = { "resps", care_opinion_reply_keys,
	    CO_REPLY_MAX, 1 },
};

/* The kept fields of each object of a list, as step keeps them. */
static json_t *
care_opinion_trim_list(struct arena *a, const json_t *list,
    enum care_opinion_step step)
{
	const char *const *keys = care_opinion_lists[step].keys;
	json_t *out = json_array(), *v;
	size_t i;

	json_array_foreach((json_t *)list, i, v) {
		if (json_array_size(out) == care_opinion_lists[step].max)
			break;
		if (!json_is_object(v))
			continue;
		if (care_opinion_lists[step].ids)
			v = care_opinion_trim_id(a, v, keys);
		else
			v = care_opinion_trim(v, keys);
		if (json_object_size(v) > 0)
			json_array_append(out, v);
		json_decref(v);
	}
	return out;
}

/* A link's relation, id and address, in either spelling. */
static void
care_opinion_link(const json_t *l, const char **rel, const json_t **id,
    const char **href)
{
	*rel = care_opinion_str(l, "rel");
	if (*rel == NULL)
		*rel = care_opinion_str(l, "relation");
	*id = care_opinion_get(l, "id");
	*href = care_opinion_str(l, "href");
	if (*href == NULL)
		*href = care_opinion_str(l, "link");
}

/* The story id at the end of ".../opinions/<id>", or NULL. */
static const char *
care_opinion_id_in(struct arena *a, const char *href)
{
	const char *p;
	json_t *s;
	const char *id;

	if (href == NULL || (p = strcasestr(href, "/opinions/")) == NULL)
		return NULL;
	p += 10;
	s = json_stringn(p, strcspn(p, "/?#"));
	id = care_opinion_id(a, s);
	json_decref(s);
	return id;
}

/* The story a response answers: opinionId, else its "opinion" link. */
static const char *
care_opinion_story_of(struct arena *a, const json_t *resp)
{
	const json_t *links = care_opinion_get(resp, "links"), *l, *lid;
	const char *id, *rel, *href;
	size_t i;

	if ((id = care_opinion_id(a, care_opinion_get(resp,
	    "opinionId"))) != NULL)
		return id;
	json_array_foreach((json_t *)links, i, l) {
		care_opinion_link(l, &rel, &lid, &href);
		if (rel == NULL || strcasecmp(rel, "opinion") != 0)
			continue;
		if ((id = care_opinion_id(a, lid)) != NULL ||
		    (id = care_opinion_id_in(a, href)) != NULL)
			return id;
	}
	return NULL;
}

/*
 * A story as queued: its kept fields, and whatever sub-collection the
 * listing already carried (then it is not fetched). NULL if no id.
 */
static json_t *
care_opinion_story_record(struct care_opinion_job *job, const json_t *op,
    int full)
{
	static const enum care_opinion_step subs[] = { CO_STEP_SERVICES,
	    CO_STEP_TAGS, CO_STEP_REPLIES };
	json_t *rec, *kept, *v;
	size_t i;

	if ((kept = care_opinion_trim_id(job->a, op,
	    care_opinion_story_keys)) == NULL)
		return NULL;
	rec = json_object();
	json_object_set_new(rec, "op", kept);
	json_object_set_new(rec, "full", json_boolean(full));
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		v = care_opinion_get(op, care_opinion_sub[subs[i]]);
		if (json_is_array(v))
			json_object_set_new(rec,
			    care_opinion_lists[subs[i]].as,
			    care_opinion_trim_list(job->a, v, subs[i]));
	}
	return rec;
}

/* ---- items ---- */

static struct conn_item *
care_opinion_item(struct care_opinion_job *job)
{
	struct conn_item *more;

	if (job->nitems == job->cap) {
		job->cap = job->cap > 0 ? job->cap * 2 : 16;
		more = arena_alloc(job->a, job->cap * sizeof(*more));
		if (job->nitems > 0)
			memcpy(more, job->items, job->nitems * sizeof(*more));
		job->items = more;
	}
	memset(&job->items[job->nitems], 0, sizeof(*job->items));
	job->items[job->nitems].rating = ITEM_NO_RATING;
	return &job->items[job->nitems++];
}

/* How well a service fits the nacs setting: 3 named, 2 under, 1 not. */
static int
care_opinion_fit(const struct care_opinion_conf *c, const json_t *svc)
{
	static const char *const keys[] = { "siteNacs", "nacs",
	    "organisation" };
	const char *v;
	size_t i, k, n;
	int fit = 1;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = json_string_value(json_object_get(svc,
		    keys[i]))) == NULL)
			continue;
		for (k = 0; k < c->ncodes; k++) {
			n = strlen(c->codes[k]);
			if (strcasecmp(v, c->codes[k]) == 0)
				return 3;
			if (strncasecmp(v, c->codes[k], n) == 0)
				fit = 2;
		}
	}
	return fit;
}

/*
 * The code a story is filed under: of its services, the one the nacs
 * setting names or holds (an ODS site code starts with its trust's),
 * else the first; its site's code if it has one, else its own. A site
 * code is handed on as it is: the inbox rolls it up to the trust.
 */
static const char *
care_opinion_hint(const struct care_opinion_conf *c, const json_t *hs,
    struct arena *a)
{
	const char *code, *best = NULL;
	const json_t *svc;
	int fit, best_fit = 0;
	size_t i;

	json_array_foreach((json_t *)hs, i, svc) {
		code = json_string_value(json_object_get(svc, "siteNacs"));
		if (code == NULL || !care_opinion_code_ok(code, strlen(code)))
			code = json_string_value(json_object_get(svc, "nacs"));
		if (code == NULL || !care_opinion_code_ok(code, strlen(code)))
			continue;
		if ((fit = care_opinion_fit(c, svc)) > best_fit) {
			best = code;
			best_fit = fit;
		}
	}
	return best != NULL ? care_opinion_upper(a, best, strlen(best)) :
	    NULL;
}

/* JSON text of obj in the arena, or NULL if it holds nothing. */
static const char *
care_opinion_dump(struct arena *a, json_t *obj)
{
	const char *out = NULL;
	char *s;

	if (json_object_size(obj) > 0 &&
	    (s = json_dumps(obj, JSON_COMPACT)) != NULL) {
		out = arena_strdup(a, s);
		free(s);
	}
	json_decref(obj);
	return out;
}

/* Criticality, progress, the author's role and age, tags, services. */
static const char *
care_opinion_story_meta(struct arena *a, const json_t *rec)
{
	const json_t *op = json_object_get(rec, "op"), *v;
	const char *const *k;
	json_t *m = json_object();

	for (k = care_opinion_meta_keys; *k != NULL; k++)
		if ((v = json_object_get(op, *k)) != NULL)
			json_object_set(m, *k, (json_t *)v);
	if (json_array_size(v = json_object_get(rec, "tags")) > 0)
		json_object_set(m, "tags", (json_t *)v);
	if (json_array_size(v = json_object_get(rec, "hs")) > 0)
		json_object_set(m, "healthServices", (json_t *)v);
	return care_opinion_dump(a, m);
}

/* The change-planned / change-made signal: text and number. */
static const char *
care_opinion_reply_meta(struct arena *a, const json_t *resp)
{
	json_t *m = json_object(), *v;

	if ((v = json_object_get(resp, "changeScore")) != NULL)
		json_object_set(m, "changeScore", v);
	if ((v = json_object_get(resp, "changeInt")) != NULL)
		json_object_set(m, "changeInt", v);
	return care_opinion_dump(a, m);
}

/* A response: the organisation's reply, in its story's thread. */
static void
care_opinion_reply_item(struct care_opinion_job *job, const json_t *resp,
    const char *story, const char *hint, int removed)
{
	struct arena *a = job->a;
	struct conn_item *it = care_opinion_item(job);

	it->external_id = arena_printf(a, "resp:%s",
	    json_string_value(json_object_get(resp, "id")));
	it->thread_key = arena_printf(a, "op:%s", story);
	it->parent_id = it->thread_key;
	it->dir = ITEM_OUT;
	it->body = care_opinion_md(a, care_opinion_str(resp, "body"));
	it->url = arena_printf(a, "%s/%s", job->conf->web, story);
	it->channel_status = care_opinion_line(a, care_opinion_str(resp,
	    "changeScore"), CO_WORD_MAX);
	it->created_at = care_opinion_time(resp, "dateOfPublication");
	it->org_hint = hint;
	it->removed = removed;
	it->meta = care_opinion_reply_meta(a, resp);
}

/* A story, and the responses fetched with it. */
static void
care_opinion_story_item(struct care_opinion_job *job, const json_t *rec,
    int removed)
{
	const json_t *op = json_object_get(rec, "op"), *resp;
	const char *id = json_string_value(json_object_get(op, "id"));
	const char *hint;
	struct arena *a = job->a;
	struct conn_item *it;
	size_t i;

	hint = care_opinion_hint(job->conf, json_object_get(rec, "hs"), a);
	it = care_opinion_item(job);
	it->external_id = arena_printf(a, "op:%s", id);
	it->thread_key = it->external_id;
	it->dir = ITEM_IN;
	it->title = care_opinion_line(a, care_opinion_str(op, "title"),
	    CO_TITLE_MAX);
	it->body = care_opinion_md(a, care_opinion_str(op, "body"));
	it->url = arena_printf(a, "%s/%s", job->conf->web, id);
	it->channel_status = care_opinion_line(a, care_opinion_str(op,
	    "progress"), CO_WORD_MAX);
	it->updated_at = care_opinion_time(op, "dateOfPublication");
	it->created_at = care_opinion_time(op, "dateOfSubmission");
	if (it->created_at == 0)
		it->created_at = it->updated_at;
	it->org_hint = hint;
	it->removed = removed;
	it->meta = care_opinion_story_meta(a, rec);
	json_array_foreach(json_object_get(rec, "resps"), i, resp)
		care_opinion_reply_item(job, resp, id, hint, removed);
}

/* ---- steps ---- */

static int
care_opinion_complete(const json_t *rec)
{
	return json_object_get(rec, "op") != NULL &&
	    json_object_get(rec, "hs") != NULL &&
	    json_object_get(rec, "tags") != NULL &&
	    (!json_is_true(json_object_get(rec, "full")) ||
	    json_object_get(rec, "resps") != NULL);
}

/* Emits the complete stories at the head of the queue, in order. */
static void
care_opinion_drain(struct care_opinion_job *job)
{
	json_t *head;

	while ((head = json_array_get(job->queue, 0)) != NULL &&
	    care_opinion_complete(head)) {
		care_opinion_story_item(job, head, 0);
		json_array_remove(job->queue, 0);
	}
}

/* Listed items at most take of a page (a server may ignore it). */
static size_t
care_opinion_page_size(const struct care_opinion_job *job,
    const json_t *list)
{
	size_t n = json_array_size(list);

	return n > (size_t)job->conf->take ? (size_t)job->conf->take : n;
}

/* Whether a listed date is at or before the pass's watermark. */
static int
care_opinion_seen(const struct care_opinion_job *job, int64_t t)
{
	int64_t after = care_opinion_time(job->pass, "after");

	return after > 0 && t > 0 && t <= after;
}

/* A page of stories: queued, each to be completed by its own steps. */
static void
care_opinion_list_stories(struct care_opinion_job *job, const json_t *list)
{
	int full = strcmp(care_opinion_phase(job->pass), "scan") == 0 ||
	    json_object_get(job->pass, "after") == NULL;
	size_t i, n = care_opinion_page_size(job, list);
	const json_t *op;
	json_t *rec;
	int64_t t;

	for (i = 0; i < n; i++) {
		op = json_array_get(list, i);
		t = care_opinion_time(op, "dateOfPublication");
		care_opinion_max_time(job->pass, "top", t);
		if (!json_is_object(op) || care_opinion_seen(job, t))
			continue;
		if ((rec = care_opinion_story_record(job, op, full)) != NULL)
			json_array_append_new(job->queue, rec);
	}
}

/* A page of responses: queued, to look their stories' services up. */
static void
care_opinion_list_replies(struct care_opinion_job *job, const json_t *list)
{
	size_t i, n = care_opinion_page_size(job, list);
	const json_t *resp;
	const char *story;
	json_t *rec, *kept;
	int64_t t;

	for (i = 0; i < n; i++) {
		resp = json_array_get(list, i);
		t = care_opinion_time(resp, "dateOfPublication");
		care_opinion_max_time(job->pass, "rtop", t);
		if (!json_is_object(resp) || care_opinion_seen(job, t) ||
		    (story = care_opinion_story_of(job->a, resp)) == NULL ||
		    (kept = care_opinion_trim_id(job->a, resp,
		    care_opinion_reply_keys)) == NULL)
			continue;
		rec = json_object();
		json_object_set_new(rec, "resp", kept);
		json_object_set_new(rec, "of", json_string(story));
		json_array_append_new(job->queue, rec);
	}
}

static void
care_opinion_list(struct care_opinion_job *job, const json_t *list)
{
	json_t *pass = job->pass;

	if (json_array_size(list) == 0) {
		job->listed_none = 1;
		return;
	}
	if (strcmp(care_opinion_phase(pass), "resp") == 0)
		care_opinion_list_replies(job, list);
	else
		care_opinion_list_stories(job, list);
	json_object_set_new(pass, "skip", json_integer(care_opinion_int(pass,
	    "skip") + (long long)care_opinion_page_size(job, list)));
}

/* Emits the queued responses to one story, filed as it is, and drops
 * them; gone: the story was withdrawn, so they are marked removed. */
static void
care_opinion_lookup(struct care_opinion_job *job, const json_t *hs,
    int gone)
{
	json_t *head = json_array_get(job->queue, 0);
	const char *story, *hint;

	story = arena_strdup(job->a, json_string_value(json_object_get(head,
	    "of")));
	hint = gone ? NULL : care_opinion_hint(job->conf, hs, job->a);
	while ((head = json_array_get(job->queue, 0)) != NULL &&
	    json_is_string(json_object_get(head, "of")) &&
	    strcmp(json_string_value(json_object_get(head, "of")),
	    story) == 0) {
		care_opinion_reply_item(job, json_object_get(head, "resp"),
		    story, hint, gone);
		json_array_remove(job->queue, 0);
	}
}

/* A sub-collection fetched for the story at the head of the queue. */
static void
care_opinion_sub_list(struct care_opinion_job *job,
    enum care_opinion_step step, const json_t *list)
{
	json_t *head = json_array_get(job->queue, 0);
	json_t *kept = care_opinion_trim_list(job->a, list, step);
	const json_t *resp;
	size_t i;

	json_object_set_new(head, care_opinion_lists[step].as, kept);
	if (step == CO_STEP_REPLIES)
		json_array_foreach(kept, i, resp)
			care_opinion_max_time(job->pass, "rtop",
			    care_opinion_time(resp, "dateOfPublication"));
}

static void
care_opinion_apply(struct care_opinion_job *job, enum care_opinion_step step,
    const json_t *list, int gone)
{
	json_t *head = json_array_get(job->queue, 0);

	if (step == CO_STEP_LIST)
		care_opinion_list(job, list);
	else if (step == CO_STEP_LOOKUP)
		care_opinion_lookup(job, list, gone);
	else if (gone) {
		/* Listed a moment ago, gone now: withdrawn or unpublished. */
		care_opinion_story_item(job, head, 1);
		json_array_remove(job->queue, 0);
	} else
		care_opinion_sub_list(job, step, list);
}

/* ---- the pass ---- */

/* The server's time: its Date at the pass's start, else what we saw. */
static int64_t
care_opinion_now(const struct care_opinion_job *job)
{
	int64_t t = care_opinion_time(job->pass, "began");

	return t > 0 ? t : care_opinion_time(job->cur, "since");
}

static void
care_opinion_phase_start(struct care_opinion_job *job, const char *phase,
    long long skip, int64_t after)
{
	json_object_set_new(job->pass, "phase", json_string(phase));
	json_object_set_new(job->pass, "skip", json_integer(skip));
	care_opinion_set_time(job->pass, "after", after);
}

/*
 * The first pass read every story in full, responses with them: it is
 * a re-scan, and the response listing need only go back to its start.
 */
static void
care_opinion_backfilled(struct care_opinion_job *job)
{
	int64_t began = care_opinion_time(job->pass, "began");

	care_opinion_set_time(job->cur, "scan_at", care_opinion_now(job));
	if (care_opinion_time(job->cur, "rsince") == 0)
		care_opinion_set_time(job->cur, "rsince", began > 0 ? began :
		    care_opinion_time(job->pass, "rtop"));
}

/* Whether a re-scan goes on or is due now; starts one if due. */
static int
care_opinion_scan_due(struct care_opinion_job *job)
{
	int64_t now = care_opinion_now(job), last;
	json_t *scan;

	if (json_object_get(job->cur, "scan") != NULL)
		return 1;
	if (job->conf->rescan == 0 || now == 0)
		return 0;
	if ((last = care_opinion_time(job->cur, "scan_at")) == 0) {
		care_opinion_set_time(job->cur, "scan_at", now);
		return 0;
	}
	if (now - last < job->conf->rescan)
		return 0;
	scan = json_object();
	json_object_set_new(scan, "skip", json_integer(0));
	care_opinion_set_time(scan, "began", now);
	json_object_set_new(job->cur, "scan", scan);
	return 1;
}

/* A listing came back empty: on to the next phase, or the end. */
static void
care_opinion_phase_end(struct care_opinion_job *job)
{
	const char *ph = care_opinion_phase(job->pass);
	json_t *scan = json_object_get(job->cur, "scan");

	if (strcmp(ph, "ops") == 0) {
		care_opinion_max_time(job->cur, "since",
		    care_opinion_time(job->pass, "top"));
		if (json_object_get(job->pass, "after") == NULL)
			care_opinion_backfilled(job);
		json_object_del(job->pass, "top");
		json_object_del(job->pass, "rtop");
		care_opinion_phase_start(job, "resp", 0,
		    care_opinion_time(job->cur, "rsince"));
	} else if (strcmp(ph, "resp") == 0) {
		care_opinion_max_time(job->cur, "rsince",
		    care_opinion_time(job->pass, "rtop"));
		if (care_opinion_scan_due(job))
			care_opinion_phase_start(job, "scan",
			    care_opinion_int(json_object_get(job->cur, "scan"),
			    "skip"), 0);
		else
			json_object_del(job->cur, "pass");
	} else {
		care_opinion_set_time(job->cur, "scan_at",
		    care_opinion_time(scan, "began"));
		json_object_del(job->cur, "scan");
		json_object_del(job->cur, "pass");
	}
}

/* A re-scan reads one page a pass, so new stories never wait on it. */
static void
care_opinion_scan_step(struct care_opinion_job *job)
{
	json_t *scan = json_object_get(job->cur, "scan");
	long long skip = care_opinion_int(job->pass, "skip");

	if (skip <= care_opinion_int(scan, "skip"))
		return;
	json_object_set_new(scan, "skip", json_integer(skip));
	json_object_del(job->cur, "pass");
}

/* The cursor after this page, and the request it names, if any. */
static void
care_opinion_batch(struct care_opinion_job *job, struct conn_batch *out)
{
	struct conn_batch b;
	char *s;

	memset(&b, 0, sizeof(b));
	care_opinion_drain(job);
	if (json_array_size(job->queue) == 0) {
		if (job->listed_none)
			care_opinion_phase_end(job);
		else if (strcmp(care_opinion_phase(job->pass), "scan") == 0)
			care_opinion_scan_step(job);
	}
	s = json_dumps(job->cur, JSON_COMPACT);
	b.cursor = arena_strdup(job->a, s != NULL ? s : "{}");
	free(s);
	if (json_object_get(job->cur, "pass") != NULL) {
		b.next = arena_alloc(job->a, sizeof(*b.next));
		care_opinion_request(job->conf, job->cur, job->a, b.next);
	}
	b.items = job->items;
	b.nitems = job->nitems;
	*out = b;
}

static int
care_opinion_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct care_opinion_job job;
	enum care_opinion_step step;
	const char *id, *date;
	json_t *body = NULL;
	int64_t t;
	int gone;

	e->retry_after = 0;
	memset(&job, 0, sizeof(job));
	job.conf = conf;
	job.a = a;
	job.cur = care_opinion_cursor(conf, cursor);
	job.pass = json_object_get(job.cur, "pass");
	job.queue = json_object_get(job.pass, "queue");
	step = care_opinion_step(job.pass, &id);
	if ((gone = care_opinion_status(r, step != CO_STEP_LIST, e)) == -1 ||
	    (gone == 0 && (body = care_opinion_body(r, e)) == NULL)) {
		json_decref(job.cur);
		return -1;
	}
	date = conn_response_header(r, "Date");
	if (json_object_get(job.pass, "began") == NULL && date != NULL &&
	    date_parse_rfc822(date, &t) == 0)
		care_opinion_set_time(job.pass, "began", t);
	care_opinion_apply(&job, step, body, gone);
	json_decref(body);
	care_opinion_batch(&job, out);
	json_decref(job.cur);
	return 0;
}

/* Where the provider responds: the story's page on the site. */
static const char *
care_opinion_handoff_url(const void *conf, const char *thread_key,
    struct arena *a)
{
	const struct care_opinion_conf *c = conf;
	const char *id;
	json_t *s;

	if (thread_key == NULL || strncmp(thread_key, "op:", 3) != 0)
		return NULL;
	s = json_string(thread_key + 3);
	id = care_opinion_id(a, s);
	json_decref(s);
	return id != NULL ? arena_printf(a, "%s/%s", c->web, id) : NULL;
}

const struct connector connector_care_opinion = {
	.name = "care-opinion",
	.title = "Care Opinion (API v2): stories and responses",
	.settings = care_opinion_settings,
	.reply_mode = CONN_REPLY_HANDOFF,
	.min_gap_ms = 200,	/* the API allows 5 requests a second */
	.configure = care_opinion_configure,
	.poll = care_opinion_poll,
	.parse = care_opinion_parse,
	.handoff_url = care_opinion_handoff_url,
};
