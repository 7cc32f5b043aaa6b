/* mastodon: mentions of an organisation's account, and replies to them. */
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

#define MASTODON_URL_MAX	2048
#define MASTODON_ID_MAX		30	/* digits of a status's id */
#define MASTODON_TOKEN_MAX	512
#define MASTODON_ACCT_MAX	300	/* user@domain */
#define MASTODON_NAME_MAX	200
#define MASTODON_BODY_MAX	(64 * 1024)
#define MASTODON_SAID_MAX	200	/* the server's error text we repeat */
#define MASTODON_ORGS_MAX	32	/* accounts one source files for */
#define MASTODON_FORM_MAX	(128 * 1024)
/* What one page may be asked for; Mastodon's own maximum is 80. */
#define MASTODON_LIMIT		40
/*
 * A page longer than this is refused whole rather than cut: the
 * notifications come newest first, so cutting would drop the oldest
 * and the cursor would pass over them.
 */
#define MASTODON_PAGE_MAX	400
/*
 * Requests kept in hand in each rate-limit window: below this many
 * left, the run stops and the next poll waits for the window's reset,
 * leaving room for replies and a person's own client.
 */
#define MASTODON_RATE_RESERVE	5
/* Mastodon's windows are 5 minutes: the wait when a reset cannot be placed. */
#define MASTODON_RATE_WINDOW	300
#define MASTODON_ACCEPT		"application/json"
#define MASTODON_NOTIFICATIONS	"/api/v1/notifications"

/* One other organisation's account this source files mentions for. */
struct mastodon_org {
	const char	*acct;	/* arena, lower case, no leading '@' */
	const char	*ods;	/* arena, the org_hint */
};

struct mastodon_conf {
	const char		*base;	/* arena, scheme://host[:port] */
	const char		*token;	/* arena; secret */
	const char		*account;	/* arena: acct (lower case,
						   no '@') or an id */
	int			 account_is_id;
	const char		*host;	/* arena: the instance's host, lower
					   case, to read "user@host" */
	struct mastodon_org	 orgs[MASTODON_ORGS_MAX];
	size_t			 norgs;
};

/* Roots remembered from earlier pages, so a reply to one costs nothing. */
#define MASTODON_ROOTS_MAX	200

/*
 * The saved cursor: min_id is the newest notification of the last
 * run that reached the end; next, while a run is under way, is the
 * min_id its next page asks from (every notification up to it is
 * stored). Both are decimal ids, or "" for none. The rest serves the
 * threading rule: roots, statuses lately seen to answer nothing; ask,
 * the statuses of the page in hand whose root is being looked up
 * (their context, one request each), and found, what those lookups
 * gave (status id -> root id, "" when no ancestor was visible).
 */
struct mastodon_cursor {
	char	 min_id[MASTODON_ID_MAX + 1];
	char	 next[MASTODON_ID_MAX + 1];
	json_t	*roots;	/* owned: array of ids, oldest first */
	json_t	*ask;	/* owned: array of ids */
	json_t	*found;	/* owned: object, id -> id or "" */
};

/* One status of a page, as the threading rule reads it. */
struct mastodon_link {
	const char	*id;	/* borrowed from the JSON */
	const char	*parent;	/* in_reply_to_id, or NULL */
};

static const struct conn_setting mastodon_settings[] = {
	{ .key = "url", .required = 1,
	    .help = "the instance's base URL, https:// (http:// only for "
	    "127.0.0.1 or localhost, for tests), e.g. "
	    "https://mastodon.social" },
	{ .key = "token", .required = 1, .secret = 1,
	    .help = "access token of the organisation's account, with the "
	    "read:notifications and write:statuses scopes" },
	{ .key = "account", .required = 1,
	    .help = "the organisation's own account, as acct (nhstrust, or "
	    "nhstrust@instance) or numeric id; its posts are outbound" },
	{ .key = "orgs",
	    .help = "other organisations' accounts this source files for, "
	    "acct=ODS pairs, comma separated (a mention of one becomes a "
	    "conversation in that organisation's inbox too)" },
	{ .key = NULL },
};

/* 1 if s is a decimal id as Mastodon writes them (no sign, bounded). */
static int
mastodon_is_id(const char *s)
{
	return conn_decimal_id(s, MASTODON_ID_MAX);
}

/*
 * url -> c->base and c->host. Only an origin: the API's paths are
 * fixed, and a path, query or user part would be a mistake or a trick.
 * Never echoed in errors, as an operator may have pasted a token in.
 */
static int
mastodon_check_url(const char *url, struct mastodon_conf *c,
    struct arena *a, struct conn_error *e)
{
	size_t skip, n, hlen;
	int https = strncasecmp(url, "https://", 8) == 0;
	char *low;

	if (!https && strncasecmp(url, "http://", 7) != 0)
		return conn_fail(e, CONN_ERR_CONFIG,
		    "mastodon: url must start with https://");
	skip = https ? 8 : 7;
	n = strlen(url);
	while (n > skip && url[n - 1] == '/')
		n--;
	hlen = strcspn(url + skip, ":/?#@");
	if (!conn_word(url, MASTODON_URL_MAX) || hlen == 0 ||
	    strcspn(url + skip, "/?#@") < n - skip)
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: url must be "
		    "the instance's address alone, e.g. "
		    "https://example.social");
	if (!https && !conn_loopback(url + skip, hlen))
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: url must be "
		    "https:// (http:// is for 127.0.0.1 and localhost only)");
	c->base = arena_strndup(a, url, n);
	low = arena_strndup(a, url + skip, hlen);
	for (n = 0; low[n] != '\0'; n++)
		if (low[n] >= 'A' && low[n] <= 'Z')
			low[n] += 'a' - 'A';
	c->host = low;
	return 0;
}

/* An acct as compared: no leading '@', lower case, in the arena. */
static char *
mastodon_acct_norm(struct arena *a, const char *s, size_t n)
{
	char *out;
	size_t i;

	if (n > 0 && s[0] == '@') {
		s++;
		n--;
	}
	out = arena_strndup(a, s, n);
	for (i = 0; out[i] != '\0'; i++)
		if (out[i] >= 'A' && out[i] <= 'Z')
			out[i] += 'a' - 'A';
	return out;
}

/* A user name, or user@domain: what an acct setting may be. */
static int
mastodon_acct_ok(const char *s)
{
	const char *at;

	if (s[0] == '\0' || s[0] == '@' || !conn_word(s,
	    MASTODON_ACCT_MAX) || strpbrk(s, ",=/?#:") != NULL)
		return 0;
	at = strchr(s, '@');
	return at == NULL || (at > s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL);
}

static int
mastodon_check_account(const char *v, struct mastodon_conf *c,
    struct arena *a, struct conn_error *e)
{
	if (v[0] == '@')
		v++;
	if (mastodon_is_id(v)) {
		c->account = arena_strdup(a, v);
		c->account_is_id = 1;
		return 0;
	}
	if (!mastodon_acct_ok(v))
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: account must "
		    "be an acct (name or name@instance) or a numeric id");
	c->account = mastodon_acct_norm(a, v, strlen(v));
	return 0;
}

/* An ODS code as org_hint takes it: 3 to 10 letters and digits. */
static int
mastodon_ods_ok(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return n >= 3 && n <= 10;
}

/* One "acct=ODS" of the orgs setting into c. */
static int
mastodon_org_add(const char *p, size_t n, struct mastodon_conf *c,
    struct arena *a, struct conn_error *e)
{
	const char *eq = memchr(p, '=', n);
	char *acct, *ods;
	size_t i;

	if (eq == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: orgs: '%.*s' "
		    "is not acct=ODS", (int)(n > 60 ? 60 : n), p);
	acct = mastodon_acct_norm(a, p, (size_t)(eq - p));
	ods = arena_strndup(a, eq + 1, n - (size_t)(eq - p) - 1);
	if (!mastodon_acct_ok(acct) || !mastodon_ods_ok(ods, strlen(ods)))
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: orgs: '%.*s' "
		    "is not acct=ODS", (int)(n > 60 ? 60 : n), p);
	if (c->norgs >= MASTODON_ORGS_MAX)
		return conn_fail(e, CONN_ERR_CONFIG, "mastodon: orgs: more "
		    "than %d accounts", MASTODON_ORGS_MAX);
	for (i = 0; ods[i] != '\0'; i++)
		if (ods[i] >= 'a' && ods[i] <= 'z')
			ods[i] -= 'a' - 'A';
	c->orgs[c->norgs].acct = acct;
	c->orgs[c->norgs++].ods = ods;
	return 0;
}

static int
mastodon_check_orgs(const char *v, struct mastodon_conf *c,
    struct arena *a, struct conn_error *e)
{
	size_t n;

	while (v != NULL && *v != '\0') {
		v += strspn(v, " ,");
		if ((n = strcspn(v, ",")) == 0)
			break;
		while (n > 0 && v[n - 1] == ' ')
			n--;
		if (mastodon_org_add(v, n, c, a, e) == -1)
			return -1;
		v += n;
		v += strcspn(v, ",");
	}
	return 0;
}

static void *
mastodon_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *url = conn_settings_get(set, "url");
	const char *token = conn_settings_get(set, "token");
	const char *account = conn_settings_get(set, "account");
	struct mastodon_conf c, *out;

	memset(&c, 0, sizeof(c));
	if (url == NULL || token == NULL || account == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "mastodon: missing setting "
		    "'%s'", url == NULL ? "url" : token == NULL ? "token" :
		    "account");
		return NULL;
	}
	if (!conn_word(token, MASTODON_TOKEN_MAX)) {
		conn_fail(e, CONN_ERR_CONFIG, "mastodon: token is empty, too "
		    "long or has blanks or control characters");
		return NULL;
	}
	if (mastodon_check_url(url, &c, a, e) == -1 ||
	    mastodon_check_account(account, &c, a, e) == -1 ||
	    mastodon_check_orgs(conn_settings_get(set, "orgs"), &c, a,
	    e) == -1)
		return NULL;
	c.token = arena_strdup(a, token);
	out = arena_alloc(a, sizeof(*out));
	*out = c;
	return out;
}

static void
mastodon_cursor_id(json_t *obj, const char *key, char *out)
{
	const char *s = json_string_value(json_object_get(obj, key));

	out[0] = '\0';
	if (mastodon_is_id(s))
		strcpy(out, s);
}

/* The ids of a saved array, at most max of them (the newest). */
static json_t *
mastodon_cursor_ids(json_t *arr, size_t max)
{
	json_t *out = json_array(), *v;
	size_t i, n = json_array_size(arr);

	for (i = n > max ? n - max : 0; i < n; i++)
		if (mastodon_is_id(json_string_value(v = json_array_get(arr,
		    i))))
			json_array_append(out, v);
	return out;
}

static json_t *
mastodon_cursor_found(json_t *obj)
{
	json_t *out = json_object(), *v;
	const char *k, *r;

	json_object_foreach(obj, k, v) {
		r = json_string_value(v);
		if (json_object_size(out) < MASTODON_PAGE_MAX &&
		    mastodon_is_id(k) && r != NULL && (r[0] == '\0' ||
		    mastodon_is_id(r)))
			json_object_set(out, k, v);
	}
	return out;
}

static void
mastodon_cursor_free(struct mastodon_cursor *cur)
{
	json_decref(cur->roots);
	json_decref(cur->ask);
	json_decref(cur->found);
}

/*
 * A saved cursor; anything unreadable reads as a first run, and
 * anything in it that is not an id is dropped. Free it after.
 */
static void
mastodon_cursor_read(const char *text, struct mastodon_cursor *cur)
{
	json_t *obj = text != NULL ? json_loads(text, 0, NULL) : NULL;

	memset(cur, 0, sizeof(*cur));
	if (json_is_object(obj)) {
		mastodon_cursor_id(obj, "min_id", cur->min_id);
		mastodon_cursor_id(obj, "next", cur->next);
	}
	cur->roots = mastodon_cursor_ids(json_object_get(obj, "roots"),
	    MASTODON_ROOTS_MAX);
	cur->ask = mastodon_cursor_ids(json_object_get(obj, "ask"),
	    MASTODON_PAGE_MAX);
	cur->found = mastodon_cursor_found(json_object_get(obj, "found"));
	json_decref(obj);
}

static const char *
mastodon_cursor_text(const struct mastodon_cursor *cur, struct arena *a)
{
	json_t *obj = json_object();
	const char *out;
	char *s;

	if (cur->min_id[0] != '\0')
		json_object_set_new(obj, "min_id", json_string(cur->min_id));
	if (cur->next[0] != '\0')
		json_object_set_new(obj, "next", json_string(cur->next));
	if (json_array_size(cur->roots) > 0)
		json_object_set(obj, "roots", cur->roots);
	if (json_array_size(cur->ask) > 0)
		json_object_set(obj, "ask", cur->ask);
	if (json_object_size(cur->found) > 0)
		json_object_set(obj, "found", cur->found);
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

/*
 * The page of mentions right after min_id. A first run asks from 0,
 * so it reads the account's whole history oldest first, as every
 * later page is read: min_id pages forward with no gap.
 */
static void
mastodon_get(const struct mastodon_conf *c, const char *min_id,
    struct arena *a, struct conn_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = arena_printf(a, "%s" MASTODON_NOTIFICATIONS
	    "?types%%5B%%5D=mention&min_id=%s&limit=%d", c->base,
	    min_id[0] != '\0' ? min_id : "0", MASTODON_LIMIT);
	conn_request_header(req, a, "Accept", MASTODON_ACCEPT);
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->token));
}

/* Where a status sits in its conversation: its ancestors, oldest first. */
static void
mastodon_get_context(const struct mastodon_conf *c, const char *id,
    struct arena *a, struct conn_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = arena_printf(a, "%s/api/v1/statuses/%s/context", c->base,
	    id);
	conn_request_header(req, a, "Accept", MASTODON_ACCEPT);
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->token));
}

/* The request the cursor stands at: a lookup, else a page. */
static void
mastodon_request(const struct mastodon_conf *c,
    const struct mastodon_cursor *cur, struct arena *a,
    struct conn_request *req)
{
	if (json_array_size(cur->ask) > 0)
		mastodon_get_context(c, json_string_value(json_array_get(
		    cur->ask, 0)), a, req);
	else
		mastodon_get(c, cur->next[0] != '\0' ? cur->next :
		    cur->min_id, a, req);
}

static int
mastodon_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	struct mastodon_cursor cur;

	(void)e;
	mastodon_cursor_read(cursor, &cur);
	mastodon_request(conf, &cur, a, req);
	mastodon_cursor_free(&cur);
	return 0;
}

/* Clean text in the arena, or NULL if there is none. */
static const char *
mastodon_text(struct arena *a, const char *s, size_t max, int html,
    int flags)
{
	const char *out;
	char *t;

	if (s == NULL)
		return NULL;
	t = html ? htmltext(s, strlen(s), max, flags) :
	    htmltext_plain(s, strlen(s), max, flags);
	out = t[0] != '\0' ? arena_strdup(a, t) : NULL;
	free(t);
	return out;
}

/* The server's {"error": ...} text, cleaned, into out; "" if none. */
static void
mastodon_said(const struct conn_response *r, char *out, size_t size)
{
	const char *s;
	json_t *v;
	char *t;

	out[0] = '\0';
	if (r->body == NULL || (v = json_loadb(r->body, r->body_len, 0,
	    NULL)) == NULL)
		return;
	if ((s = json_string_value(json_object_get(v, "error"))) != NULL) {
		t = htmltext_plain(s, strlen(s), MASTODON_SAID_MAX,
		    HTMLTEXT_ONELINE);
		snprintf(out, size, "%s", t);
		free(t);
	}
	json_decref(v);
}

/*
 * Seconds from the response's Date to its X-RateLimit-Reset (an ISO
 * 8601 time); a connector has no clock. A window's length when either
 * is missing or unreadable.
 */
static long
mastodon_reset_wait(const struct conn_response *r)
{
	const char *reset = conn_response_header(r, "X-RateLimit-Reset");
	const char *now = conn_response_header(r, "Date");
	int64_t t1, t0;

	if (reset == NULL || now == NULL || date_parse_iso8601(reset,
	    &t1) == -1 || date_parse_rfc822(now, &t0) == -1)
		return MASTODON_RATE_WINDOW;
	/* A second more, as the reset's fraction was dropped. */
	if (t1 < t0)
		return 1;
	return t1 - t0 >= CONN_RETRY_MAX ? CONN_RETRY_MAX : (long)(t1 - t0 + 1);
}

/* X-RateLimit-Remaining, or -1 if absent or unreadable. */
static long
mastodon_remaining(const struct conn_response *r)
{
	const char *v = conn_response_header(r, "X-RateLimit-Remaining");
	char *end;
	long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	n = strtol(v, &end, 10);
	return *end == '\0' || *end == ' ' ? n : -1;
}

static int
mastodon_rate_limited(const struct conn_response *r, const char *said,
    struct conn_error *e)
{
	long secs = 0;

	if (conn_retry_after(r, &secs) != 1)
		secs = mastodon_reset_wait(r);
	conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 429: rate limited%s%s",
	    said[0] != '\0' ? ": " : "", said);
	e->retry_after = secs;
	return -1;
}

/*
 * Statuses other than 2xx, classified. A 4xx to a poll is our request
 * (settings) at fault; to a reply it is the instance refusing that
 * reply (a deleted status, text too long), for good, with its reason.
 */
static int
mastodon_status(const struct conn_response *r, int reply,
    struct conn_error *e)
{
	long s = r->status;
	char said[MASTODON_SAID_MAX + 8];
	const char *sep;

	if (s >= 200 && s <= 299)
		return 0;
	mastodon_said(r, said, sizeof(said));
	sep = said[0] != '\0' ? ": " : "";
	if (s == 429)
		return mastodon_rate_limited(r, said, e);
	if (s == 401 || s == 403)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP %ld: token refused%s"
		    "%s", s, sep, said);
	if (!reply && (s == 404 || s == 410))
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: no Mastodon "
		    "API at that url%s%s", s, sep, said);
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, reply ? CONN_ERR_REFUSED : CONN_ERR_CONFIG,
		    "HTTP %ld%s%s", s, sep, said);
	if (s >= 300 && s <= 399)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: a redirect "
		    "that was not followed", s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld%s%s", s, sep, said);
}

/* The body as JSON of the given type, or a classified error. */
static json_t *
mastodon_json(const struct conn_response *r, int array, const char *what,
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
		if (title != NULL || r->body[strspn(r->body, " \t\r\n")] == '<')
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
	if (array ? !json_is_array(v) : !json_is_object(v)) {
		json_decref(v);
		conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %s is not a JSON "
		    "%s", r->status, what, array ? "array" : "object");
		return NULL;
	}
	return v;
}

static const char *
mastodon_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* 1 if acct (as an account or a mention gives it) names want. */
static int
mastodon_acct_is(const struct mastodon_conf *c, const char *acct,
    const char *want)
{
	const char *at;

	if (acct == NULL)
		return 0;
	if (acct[0] == '@')
		acct++;
	if (strcasecmp(acct, want) == 0)
		return 1;
	/* Local accounts come without their domain: name@our-host. */
	at = strchr(want, '@');
	if (at != NULL && strchr(acct, '@') == NULL &&
	    strcmp(at + 1, c->host) == 0 && strlen(acct) == (size_t)(at -
	    want) && strncasecmp(acct, want, (size_t)(at - want)) == 0)
		return 1;
	return 0;
}

/* 1 if the account object is the organisation's own. */
static int
mastodon_is_ours(const struct mastodon_conf *c, json_t *account)
{
	if (c->account_is_id)
		return json_is_string(json_object_get(account, "id")) &&
		    strcmp(mastodon_str(account, "id"), c->account) == 0;
	return mastodon_acct_is(c, mastodon_str(account, "acct"),
	    c->account);
}

/* The index of the status id on the page, or n. */
static size_t
mastodon_find(const struct mastodon_link *l, size_t n, const char *id)
{
	size_t j;

	for (j = 0; j < n; j++)
		if (strcmp(l[j].id, id) == 0)
			break;
	return j;
}

/* l[i]'s furthest ancestor on the page; bounded, so a cycle ends. */
static size_t
mastodon_top(const struct mastodon_link *l, size_t n, size_t i)
{
	size_t steps, j;

	for (steps = 0; steps < n && l[i].parent != NULL; steps++) {
		if ((j = mastodon_find(l, n, l[i].parent)) == n)
			break;
		i = j;
	}
	return i;
}

static int
mastodon_has(json_t *arr, const char *id)
{
	json_t *v;
	size_t i;

	json_array_foreach(arr, i, v)
		if (strcmp(json_string_value(v), id) == 0)
			return 1;
	return 0;
}

/*
 * The thread key, the root of the conversation (docs/mastodon.md):
 * the in_reply_to_id chain is followed through the page; a status
 * that answers nothing is its own root; one whose parent is off the
 * page takes the parent when that is a thread key lately used, else
 * the root its context lookup found (the parent if it found none).
 * NULL when the lookup is still to be made: it is added to ask.
 */
static const char *
mastodon_key(const struct mastodon_link *l, size_t n, size_t i,
    struct mastodon_cursor *cur)
{
	const struct mastodon_link *top = &l[mastodon_top(l, n, i)];
	const char *r;

	if (top->parent == NULL)
		return top->id;
	if (mastodon_has(cur->roots, top->parent))
		return top->parent;
	r = json_string_value(json_object_get(cur->found, top->id));
	if (r != NULL)
		return r[0] != '\0' ? r : top->parent;
	if (!mastodon_has(cur->ask, top->id))
		json_array_append_new(cur->ask, json_string(top->id));
	return NULL;
}

/* What the channel adds: visibility decides the reply's. */
static const char *
mastodon_meta(json_t *n, json_t *st, json_t *acct, struct arena *a)
{
	static const char *const keys[] = { "visibility", "language",
	    "spoiler_text", "in_reply_to_account_id" };
	json_t *obj = json_object(), *ment = json_array(), *m;
	const char *v, *out;
	size_t i;
	char *s;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if ((v = mastodon_str(st, keys[i])) != NULL && v[0] != '\0' &&
		    strlen(v) <= MASTODON_NAME_MAX)
			json_object_set_new(obj, keys[i], json_string(v));
	if ((v = mastodon_str(n, "id")) != NULL && mastodon_is_id(v))
		json_object_set_new(obj, "notification_id", json_string(v));
	if ((v = mastodon_str(acct, "id")) != NULL && mastodon_is_id(v))
		json_object_set_new(obj, "account_id", json_string(v));
	json_array_foreach(json_object_get(st, "mentions"), i, m)
		if (i < MASTODON_ORGS_MAX * 2 && (v = mastodon_str(m,
		    "acct")) != NULL && mastodon_acct_ok(v))
			json_array_append_new(ment, json_string(v));
	json_object_set_new(obj, "mentions", ment);
	json_object_set_new(obj, "media", json_integer((json_int_t)
	    json_array_size(json_object_get(st, "media_attachments"))));
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(obj);
	out = s != NULL ? arena_strdup(a, s) : NULL;
	free(s);
	return out;
}

/* A link to the status: http(s), bounded, printable; else NULL. */
static const char *
mastodon_url(struct arena *a, const char *s)
{
	if (s == NULL || (strncasecmp(s, "https://", 8) != 0 &&
	    strncasecmp(s, "http://", 7) != 0) ||
	    !conn_word(s, MASTODON_URL_MAX))
		return NULL;
	return arena_strdup(a, s);
}

static int64_t
mastodon_time(const char *s)
{
	int64_t t;

	if (s == NULL || date_parse_iso8601(s, &t) == -1)
		return 0;
	return t;
}

/* One mention notification's status as an item, for the source's org. */
static int
mastodon_item_from_status(const struct mastodon_conf *c, json_t *n,
    json_t *st, const char *key, struct arena *a, struct conn_item *it)
{
	json_t *acct = json_object_get(st, "account");
	const char *id = mastodon_str(st, "id");
	const char *parent = mastodon_str(st, "in_reply_to_id");
	const char *handle = mastodon_str(acct, "acct");

	if (!mastodon_is_id(id) || handle == NULL ||
	    !mastodon_acct_ok(handle[0] == '@' ? handle + 1 : handle))
		return -1;
	memset(it, 0, sizeof(*it));
	it->external_id = arena_strdup(a, id);
	it->thread_key = arena_strdup(a, key);
	it->parent_id = mastodon_is_id(parent) ? arena_strdup(a, parent) :
	    NULL;
	it->dir = mastodon_is_ours(c, acct) ? ITEM_OUT : ITEM_IN;
	it->author_handle = arena_printf(a, "@%s", handle[0] == '@' ?
	    handle + 1 : handle);
	it->author_name = mastodon_text(a, mastodon_str(acct,
	    "display_name"), MASTODON_NAME_MAX, 0, HTMLTEXT_ONELINE);
	if (it->author_name == NULL)
		it->author_name = it->author_handle;
	it->title = mastodon_text(a, mastodon_str(st, "spoiler_text"),
	    MASTODON_NAME_MAX, 0, HTMLTEXT_ONELINE);
	it->body = mastodon_text(a, mastodon_str(st, "content"),
	    MASTODON_BODY_MAX, 1, 0);
	if (it->body == NULL)
		it->body = "";	/* a status of media alone */
	it->url = mastodon_url(a, mastodon_str(st, "url"));
	if (it->url == NULL)
		it->url = mastodon_url(a, mastodon_str(st, "uri"));
	it->rating = ITEM_NO_RATING;
	it->channel_status = mastodon_str(st, "visibility") != NULL ?
	    mastodon_text(a, mastodon_str(st, "visibility"), 40, 0,
	    HTMLTEXT_ONELINE) : NULL;
	it->created_at = mastodon_time(mastodon_str(st, "created_at"));
	it->updated_at = mastodon_time(mastodon_str(st, "edited_at"));
	if (it->updated_at == 0)
		it->updated_at = it->created_at;
	it->meta = mastodon_meta(n, st, acct, a);
	return 0;
}

/* Of the orgs setting, the one whose account a mention names; or -1. */
static int
mastodon_org_of(const struct mastodon_conf *c, json_t *mention)
{
	const char *acct = mastodon_str(mention, "acct");
	size_t i;

	for (i = 0; i < c->norgs; i++)
		if (mastodon_acct_is(c, acct, c->orgs[i].acct))
			return (int)i;
	return -1;
}

/*
 * The item again for each other organisation (orgs) the status
 * mentions, each with its org_hint: one conversation per inbox. The
 * source's own organisation keeps the first copy.
 */
static size_t
mastodon_copies(const struct mastodon_conf *c, json_t *st,
    const struct conn_item *it, struct conn_item *out, size_t room)
{
	int used[MASTODON_ORGS_MAX] = { 0 };
	json_t *m;
	size_t i, k = 0;
	int o;

	json_array_foreach(json_object_get(st, "mentions"), i, m) {
		if (k >= room || (o = mastodon_org_of(c, m)) == -1 || used[o])
			continue;
		used[o] = 1;
		out[k] = *it;
		out[k++].org_hint = c->orgs[o].ods;
	}
	return k;
}

/* The statuses of a page and their parents, for the threading rule. */
static size_t
mastodon_links(json_t *page, struct mastodon_link *l)
{
	json_t *n, *st;
	size_t i, k = 0;

	json_array_foreach(page, i, n) {
		st = json_object_get(n, "status");
		if (!mastodon_is_id(mastodon_str(st, "id")))
			continue;
		l[k].id = mastodon_str(st, "id");
		l[k].parent = mastodon_str(st, "in_reply_to_id");
		if (!mastodon_is_id(l[k].parent))
			l[k].parent = NULL;
		k++;
	}
	return k;
}

/* A mention notification's status, or NULL for anything else. */
static json_t *
mastodon_mention(json_t *n)
{
	const char *type = mastodon_str(n, "type");

	if (type == NULL || strcmp(type, "mention") != 0)
		return NULL;
	return json_is_object(json_object_get(n, "status")) ?
	    json_object_get(n, "status") : NULL;
}

static void
mastodon_items(const struct mastodon_conf *c, struct mastodon_cursor *cur,
    json_t *page, struct arena *a, struct conn_batch *b)
{
	size_t n = json_array_size(page), nl, i, room;
	struct mastodon_link *l;
	const char *id, *key;
	json_t *nt, *st;

	if (n == 0)
		return;
	l = arena_alloc(a, n * sizeof(*l));
	nl = mastodon_links(page, l);
	room = n * (c->norgs + 1);
	b->items = arena_alloc(a, room * sizeof(*b->items));
	/* Oldest first, as they were written: a thread opens with its root. */
	for (i = n; i-- > 0;) {
		nt = json_array_get(page, i);
		if ((st = mastodon_mention(nt)) == NULL ||
		    !mastodon_is_id(id = mastodon_str(st, "id")) ||
		    (key = mastodon_key(l, nl, mastodon_find(l, nl, id),
		    cur)) == NULL ||
		    mastodon_item_from_status(c, nt, st, key, a,
		    &b->items[b->nitems]) == -1)
			continue;
		b->nitems++;
		b->nitems += mastodon_copies(c, st, &b->items[b->nitems - 1],
		    &b->items[b->nitems], room - b->nitems);
	}
}

/* The largest notification id of a page into out ("" if none). */
static void
mastodon_newest(json_t *page, char *out)
{
	const char *id;
	json_t *n;
	size_t i;

	out[0] = '\0';
	json_array_foreach(page, i, n)
		if (mastodon_is_id(id = mastodon_str(n, "id")) &&
		    (out[0] == '\0' || conn_decimal_cmp(id, out) > 0))
			strcpy(out, id);
}

/*
 * The min_id of the Link header's rel="prev", the page after this
 * one, if it points at our instance's notifications; else "". The
 * bearer token goes nowhere else, so a link elsewhere is not followed.
 */
static void
mastodon_link_prev(const struct mastodon_conf *c,
    const struct conn_response *r, char *out)
{
	const char *h = conn_response_header(r, "Link"), *lt, *gt, *q, *p;
	size_t nb = strlen(c->base), n;

	out[0] = '\0';
	for (lt = h != NULL ? strchr(h, '<') : NULL; lt != NULL;
	    lt = strchr(gt, '<')) {
		if ((gt = strchr(lt, '>')) == NULL)
			return;
		p = gt + strcspn(gt, ",");
		q = strstr(gt, "rel=");
		if (q == NULL || q > p || (strncmp(q, "rel=\"prev\"",
		    10) != 0 && strncmp(q, "rel=prev", 8) != 0))
			continue;
		if ((size_t)(gt - lt - 1) <= nb || strncasecmp(lt + 1, c->base,
		    nb) != 0 || strncmp(lt + 1 + nb, MASTODON_NOTIFICATIONS "?",
		    sizeof(MASTODON_NOTIFICATIONS)) != 0)
			return;
		for (q = lt + 1 + nb; q < gt && (q = strstr(q, "min_id=")) !=
		    NULL && q < gt; q += 7) {
			if (q[-1] != '?' && q[-1] != '&')
				continue;
			n = strspn(q + 7, "0123456789");
			if (n > 0 && n <= MASTODON_ID_MAX && q + 7 + n <= gt &&
			    strchr("&>", q[7 + n]) != NULL) {
				memcpy(out, q + 7, n);
				out[n] = '\0';
			}
			return;
		}
		return;
	}
}

/*
 * Moves the cursor past a page; 1 if the run goes on to the next one.
 * A page is the notifications right after the min_id asked for, so
 * what it holds is older than anything not yet read: the run's
 * position (next) may move to its newest id at once. min_id, where a
 * run starts, moves only when the run reaches its end (an empty or
 * short page), so a run cut short resumes where it stood and one that
 * makes no progress ends instead of looping.
 */
static int
mastodon_advance(const struct mastodon_conf *c, struct mastodon_cursor *cur,
    json_t *page, const struct conn_response *r)
{
	char newest[MASTODON_ID_MAX + 1], link[MASTODON_ID_MAX + 1];
	const char *from = cur->next[0] != '\0' ? cur->next : cur->min_id;

	mastodon_newest(page, newest);
	if (newest[0] == '\0' || (from[0] != '\0' &&
	    conn_decimal_cmp(newest, from) <= 0)) {
		if (from != cur->min_id)
			memcpy(cur->min_id, from, sizeof(cur->min_id));
		cur->next[0] = '\0';
		return 0;
	}
	mastodon_link_prev(c, r, link);
	/* The link's place if it moves on and skips nothing, else ours. */
	if (link[0] == '\0' || conn_decimal_cmp(link, newest) > 0 ||
	    (from[0] != '\0' && conn_decimal_cmp(link, from) <= 0))
		memcpy(link, newest, sizeof(link));
	if (json_array_size(page) < MASTODON_LIMIT) {
		memcpy(cur->min_id, link, sizeof(cur->min_id));
		cur->next[0] = '\0';
		return 0;
	}
	memcpy(cur->next, link, sizeof(cur->next));
	return 1;
}

/*
 * Rate limits honoured before they are hit: with few requests left
 * in the window, no next page now and no poll before the reset.
 */
static long
mastodon_pace(const struct conn_response *r)
{
	long left = mastodon_remaining(r);

	if (left < 0 || left >= MASTODON_RATE_RESERVE)
		return 0;
	return mastodon_reset_wait(r);
}

/*
 * The keys of a page's threads are remembered, so that a reply to one
 * polled later joins it with no lookup; the oldest are forgotten.
 */
static void
mastodon_remember(struct mastodon_cursor *cur, const struct conn_batch *b)
{
	size_t i, n;

	for (i = 0; i < b->nitems; i++)
		if (!mastodon_has(cur->roots, b->items[i].thread_key))
			json_array_append_new(cur->roots,
			    json_string(b->items[i].thread_key));
	n = json_array_size(cur->roots);
	for (i = MASTODON_ROOTS_MAX; i < n; i++)
		json_array_remove(cur->roots, 0);
	json_object_clear(cur->found);
}

/*
 * A page of notifications. While a status's root is unknown the page
 * gives no items: its lookups come next, then the page again (the
 * same min_id, so the same notifications), filed whole.
 */
static int
mastodon_parse_page(const struct mastodon_conf *c,
    struct mastodon_cursor *cur, const struct conn_response *r,
    struct arena *a, struct conn_batch *out, struct conn_error *e)
{
	struct conn_batch b;
	json_t *page;
	size_t n;
	int more = 1;

	if (mastodon_status(r, 0, e) == -1 || (page = mastodon_json(r, 1,
	    "the notifications page", e)) == NULL)
		return -1;
	if ((n = json_array_size(page)) > MASTODON_PAGE_MAX) {
		json_decref(page);
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %zu "
		    "notifications on one page (at most %d)", r->status, n,
		    MASTODON_PAGE_MAX);
	}
	memset(&b, 0, sizeof(b));
	mastodon_items(c, cur, page, a, &b);
	if (json_array_size(cur->ask) > 0) {
		b.items = NULL;
		b.nitems = 0;
	} else {
		more = mastodon_advance(c, cur, page, r);
		mastodon_remember(cur, &b);
	}
	json_decref(page);
	b.min_interval = mastodon_pace(r);
	if (more && b.min_interval == 0) {
		b.next = arena_alloc(a, sizeof(*b.next));
		mastodon_request(c, cur, a, b.next);
	}
	b.cursor = mastodon_cursor_text(cur, a);
	*out = b;
	return 0;
}

/*
 * The context of the first status in ask: its first ancestor is the
 * root. A status gone or hidden from us (404, 410) has none to give,
 * and its parent stands in; other failures fail the poll, and the
 * next one asks again.
 */
static int
mastodon_parse_lookup(const struct mastodon_conf *c,
    struct mastodon_cursor *cur, const struct conn_response *r,
    struct arena *a, struct conn_batch *out, struct conn_error *e)
{
	const char *id = json_string_value(json_array_get(cur->ask, 0));
	char root[MASTODON_ID_MAX + 1] = "";
	struct conn_batch b;
	json_t *v;

	if (r->status != 404 && r->status != 410) {
		if (mastodon_status(r, 0, e) == -1 || (v = mastodon_json(r, 0,
		    "a status's context", e)) == NULL)
			return -1;
		mastodon_cursor_id(json_array_get(json_object_get(v,
		    "ancestors"), 0), "id", root);
		json_decref(v);
	}
	json_object_set_new(cur->found, id, json_string(root));
	json_array_remove(cur->ask, 0);
	memset(&b, 0, sizeof(b));
	b.min_interval = mastodon_pace(r);
	if (b.min_interval == 0) {
		b.next = arena_alloc(a, sizeof(*b.next));
		mastodon_request(c, cur, a, b.next);
	}
	b.cursor = mastodon_cursor_text(cur, a);
	*out = b;
	return 0;
}

static int
mastodon_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct mastodon_cursor cur;
	int rc;

	e->retry_after = 0;
	mastodon_cursor_read(cursor, &cur);
	if (json_array_size(cur.ask) > 0)
		rc = mastodon_parse_lookup(conf, &cur, r, a, out, e);
	else
		rc = mastodon_parse_page(conf, &cur, r, a, out, e);
	mastodon_cursor_free(&cur);
	return rc;
}

/*
 * The reply's visibility: never wider than the patient's, and never
 * public, so an answer about someone's care stays out of the public
 * timelines: direct stays direct, private (followers only) stays
 * private, public and unlisted become unlisted. Without the patient's
 * (an older message) it is direct, the narrowest that still reaches
 * them through the mention.
 */
static const char *
mastodon_visibility(const char *meta)
{
	const char *v, *out = "direct";
	json_t *obj;

	if (meta == NULL || (obj = json_loads(meta, 0, NULL)) == NULL)
		return out;
	if ((v = mastodon_str(obj, "visibility")) != NULL) {
		if (strcmp(v, "public") == 0 || strcmp(v, "unlisted") == 0)
			out = "unlisted";
		else if (strcmp(v, "private") == 0)
			out = "private";
	}
	json_decref(obj);
	return out;
}

static int
mastodon_reply_check(const struct conn_reply *rp, struct conn_error *e)
{
	const char *h = rp->in_reply_to_author;

	if (!mastodon_is_id(rp->in_reply_to))
		return conn_fail(e, CONN_ERR_REFUSED, "no status to reply to "
		    "(the thread has no patient's post with a Mastodon id)");
	if (h == NULL || h[0] != '@' || !mastodon_acct_ok(h + 1))
		return conn_fail(e, CONN_ERR_REFUSED, "the status answered has "
		    "no author's acct to address the reply to");
	if (rp->idempotency_key == NULL ||
	    !conn_word(rp->idempotency_key, 200))
		return conn_fail(e, CONN_ERR_CONFIG, "a reply needs an "
		    "idempotency key to send as Idempotency-Key");
	if (rp->body == NULL || rp->body[strspn(rp->body, " \t\r\n")] == '\0')
		return conn_fail(e, CONN_ERR_REFUSED, "an empty reply");
	return 0;
}

/*
 * The status text: the patient's @acct first, so the reply reaches
 * them (a direct one reaches no one else), unless staff began with it.
 */
static void
mastodon_reply_text(struct buf *f, const struct conn_reply *rp)
{
	const char *h = rp->in_reply_to_author, *body = rp->body;
	size_t n = strlen(h);

	body += strspn(body, " \t\r\n");
	buf_puts(f, "status=");
	if (strncasecmp(body, h, n) != 0 || (body[n] != '\0' &&
	    strchr(" \t\r\n,:", body[n]) == NULL)) {
		conn_url_encode(f, h, 1);
		buf_puts(f, "+");
	}
	conn_url_encode(f, body, 1);
}

/* POST /api/v1/statuses, form-encoded, as Mastodon's own clients do. */
static int
mastodon_reply(const void *conf, const struct conn_reply *rp,
    struct arena *a, struct conn_request *req, struct conn_error *e)
{
	const struct mastodon_conf *c = conf;
	struct buf f;

	if (mastodon_reply_check(rp, e) == -1)
		return -1;
	/* Uncapped, as a capped buf would drop appends and post the rest. */
	buf_init(&f, 0);
	mastodon_reply_text(&f, rp);
	buf_printf(&f, "&in_reply_to_id=%s&visibility=%s", rp->in_reply_to,
	    mastodon_visibility(rp->in_reply_to_meta));
	if (f.len > MASTODON_FORM_MAX) {
		buf_free(&f);
		return conn_fail(e, CONN_ERR_REFUSED, "the reply is too long");
	}
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = arena_printf(a, "%s/api/v1/statuses", c->base);
	req->body = arena_strndup(a, f.data, f.len);
	req->body_len = f.len;
	buf_free(&f);
	conn_request_header(req, a, "Content-Type",
	    "application/x-www-form-urlencoded");
	conn_request_header(req, a, "Accept", MASTODON_ACCEPT);
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->token));
	/* Mastodon keeps a key an hour: a resend inside it posts nothing. */
	conn_request_header(req, a, "Idempotency-Key", rp->idempotency_key);
	return 0;
}

/* The created status's id: what a poll would call it too. */
static int
mastodon_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a, const char **external_id, struct conn_error *e)
{
	const char *id;
	json_t *st;

	(void)conf;
	e->retry_after = 0;
	if (mastodon_status(r, 1, e) == -1 ||
	    (st = mastodon_json(r, 0, "the posted status", e)) == NULL)
		return -1;
	id = mastodon_str(st, "id");
	if (!mastodon_is_id(id)) {
		json_decref(st);
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld to a reply "
		    "without a status id", r->status);
	}
	*external_id = arena_strdup(a, id);
	json_decref(st);
	return 0;
}

const struct connector connector_mastodon = {
	.name = "mastodon",
	.title = "Mastodon (mentions of the organisation's account, "
	    "answered in the thread)",
	.settings = mastodon_settings,
	.reply_mode = CONN_REPLY_API,
	.configure = mastodon_configure,
	.poll = mastodon_poll,
	.parse = mastodon_parse,
	.reply = mastodon_reply,
	.reply_parse = mastodon_reply_parse,
	.idempotent_replies = 1,
};
