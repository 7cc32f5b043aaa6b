/* twitter: mentions of an organisation's X account, and replies to them. */
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
#include "oauth1.h"

#define TWITTER_DEFAULT_BASE	"https://api.x.com"
#define TWITTER_URL_MAX		2048
#define TWITTER_ID_MAX		20	/* digits of a 64-bit id */
#define TWITTER_TOKEN_MAX	1024	/* a bearer or access token */
#define TWITTER_PAGE_TOKEN_MAX	256	/* a meta.next_token */
#define TWITTER_HANDLE_MAX	15	/* X's own limit on a username */
#define TWITTER_NAME_MAX	200
#define TWITTER_BODY_MAX	(64 * 1024)
#define TWITTER_SAID_MAX	200	/* X's error text we repeat */
#define TWITTER_REPLY_MAX	(32 * 1024)	/* bytes; X counts further */
/* A page asks for X's maximum; one longer than this is refused whole. */
#define TWITTER_MAX_RESULTS	100
#define TWITTER_PAGE_MAX	200
/* X's windows are 15 minutes: the wait when a reset cannot be placed. */
#define TWITTER_RATE_WINDOW	900
#define TWITTER_FIELDS							\
	"tweet.fields=author_id,conversation_id,created_at,"		\
	"in_reply_to_user_id,referenced_tweets,lang"			\
	"&expansions=author_id,referenced_tweets.id"			\
	"&user.fields=username,name"

struct twitter_conf {
	const char		*base;	/* arena, scheme://host[:port] */
	const char		*user_id;	/* arena, decimal */
	const char		*username;	/* arena, no '@', or NULL */
	const char		*bearer;	/* arena; secret */
	struct oauth1_keys	 keys;	/* arena, all NULL or all set;
					   secret */
	const char		*user_token;	/* arena or NULL; secret */
};

/*
 * The saved cursor. since_id is where the next run starts: every
 * mention up to it is stored. While a run pages back (next, the
 * pagination token of the page to ask for), newest holds its first
 * page's newest_id, which becomes since_id only once the last page is
 * read, so a run cut short starts again and skips nothing.
 */
struct twitter_cursor {
	char	since[TWITTER_ID_MAX + 1];
	char	newest[TWITTER_ID_MAX + 1];
	char	next[TWITTER_PAGE_TOKEN_MAX + 1];
};

static const struct conn_setting twitter_settings[] = {
	{ .key = "user_id", .required = 1,
	    .help = "the organisation's X account's numeric id (not its "
	    "@handle); its own posts are outbound" },
	{ .key = "username",
	    .help = "the organisation's @handle, for links and messages" },
	{ .key = "bearer_token", .required = 1, .secret = 1,
	    .help = "the app's bearer token (app-only), to read mentions" },
	{ .key = "consumer_key", .secret = 1,
	    .help = "to reply (OAuth 1.0a): the app's API key" },
	{ .key = "consumer_secret", .secret = 1,
	    .help = "to reply (OAuth 1.0a): the app's API key secret" },
	{ .key = "access_token", .secret = 1,
	    .help = "to reply (OAuth 1.0a): the organisation account's "
	    "access token" },
	{ .key = "access_token_secret", .secret = 1,
	    .help = "to reply (OAuth 1.0a): that access token's secret" },
	{ .key = "user_token", .secret = 1,
	    .help = "to reply instead with OAuth 2.0: a user-context access "
	    "token with tweet.write (not refreshed by heard)" },
	{ .key = "api_base", .def = TWITTER_DEFAULT_BASE,
	    .help = "the API's address (http:// only for 127.0.0.1 or "
	    "localhost, for tests)" },
	{ .key = NULL },
};

/* 1 if s is a decimal id as X writes them: a string, never a number. */
static int
twitter_is_id(const char *s)
{
	return conn_decimal_id(s, TWITTER_ID_MAX);
}

/* A pagination token goes into a URL as it is: letters and digits. */
static int
twitter_page_token_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");
	return n > 0 && n <= TWITTER_PAGE_TOKEN_MAX && s[n] == '\0';
}

/* An X username: 1 to 15 letters, digits and '_'. */
static int
twitter_handle_ok(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");
	return n > 0 && n <= TWITTER_HANDLE_MAX && s[n] == '\0';
}

/*
 * api_base -> c->base: an origin alone, lower case (it is signed, and
 * OAuth signs the host in lower case). Never echoed in errors.
 */
static int
twitter_check_base(const char *url, struct twitter_conf *c,
    struct arena *a, struct conn_error *e)
{
	int https = strncasecmp(url, "https://", 8) == 0;
	size_t skip, n, hlen, i;
	char *low;

	if (!https && strncasecmp(url, "http://", 7) != 0)
		return conn_fail(e, CONN_ERR_CONFIG,
		    "twitter: api_base must start with https://");
	skip = https ? 8 : 7;
	n = strlen(url);
	while (n > skip && url[n - 1] == '/')
		n--;
	hlen = strcspn(url + skip, ":/?#@");
	if (!conn_word(url, TWITTER_URL_MAX) || hlen == 0 ||
	    strcspn(url + skip, "/?#@") < n - skip)
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: api_base must "
		    "be an address alone, e.g. " TWITTER_DEFAULT_BASE);
	if (!https && !conn_loopback(url + skip, hlen))
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: api_base must "
		    "be https:// (http:// is for 127.0.0.1 and localhost "
		    "only)");
	/* The scheme's own port is left out of the signed URL (RFC 5849). */
	if (n == skip + hlen + 4 && strncmp(url + skip + hlen, ":443", 4) ==
	    0 && https)
		n -= 4;
	else if (n == skip + hlen + 3 && strncmp(url + skip + hlen, ":80",
	    3) == 0 && !https)
		n -= 3;
	low = arena_strndup(a, url, n);
	for (i = 0; i < skip + hlen; i++)
		if (low[i] >= 'A' && low[i] <= 'Z')
			low[i] += 'a' - 'A';
	c->base = low;
	return 0;
}

/* A secret setting: absent is NULL, present must be a clean word. */
static int
twitter_secret(const struct conn_settings *set, const char *key,
    const char **out, struct arena *a, struct conn_error *e)
{
	const char *v = conn_settings_get(set, key);

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		return 0;
	if (!conn_word(v, TWITTER_TOKEN_MAX))
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: %s is too "
		    "long or has blanks or control characters", key);
	*out = arena_strdup(a, v);
	return 0;
}

/* The four OAuth 1.0a credentials: none, or all of them. */
static int
twitter_check_keys(const struct conn_settings *set, struct twitter_conf *c,
    struct arena *a, struct conn_error *e)
{
	static const char *const names[] = { "consumer_key",
	    "consumer_secret", "access_token", "access_token_secret" };
	const char **k[4] = { &c->keys.consumer_key,
	    &c->keys.consumer_secret, &c->keys.token, &c->keys.token_secret };
	int i, have = 0;

	for (i = 0; i < 4; i++) {
		if (twitter_secret(set, names[i], k[i], a, e) == -1)
			return -1;
		have += *k[i] != NULL;
	}
	for (i = 0; have > 0 && have < 4 && i < 4; i++)
		if (*k[i] == NULL)
			return conn_fail(e, CONN_ERR_CONFIG, "twitter: "
			    "missing setting '%s' (replies with OAuth 1.0a "
			    "need all four of consumer_key, consumer_secret, "
			    "access_token and access_token_secret)", names[i]);
	return twitter_secret(set, "user_token", &c->user_token, a, e);
}

static int
twitter_check_ids(const struct conn_settings *set, struct twitter_conf *c,
    struct arena *a, struct conn_error *e)
{
	const char *id = conn_settings_get(set, "user_id");
	const char *name = conn_settings_get(set, "username");

	if (id == NULL || id[0] == '\0')
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: missing "
		    "setting 'user_id'");
	if (!twitter_is_id(id))
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: user_id must "
		    "be the account's numeric id (digits), not its @handle");
	c->user_id = arena_strdup(a, id);
	if (name != NULL && name[0] == '@')
		name++;
	if (name != NULL && name[0] != '\0' && !twitter_handle_ok(name))
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: username must "
		    "be an X handle (1 to 15 letters, digits or _)");
	c->username = name != NULL && name[0] != '\0' ?
	    arena_strdup(a, name) : NULL;
	return 0;
}

static void *
twitter_configure(struct arena *a, const struct conn_settings *set,
    struct conn_error *e)
{
	const char *base = conn_settings_get(set, "api_base");
	struct twitter_conf c, *out;

	memset(&c, 0, sizeof(c));
	if (twitter_check_ids(set, &c, a, e) == -1 ||
	    twitter_secret(set, "bearer_token", &c.bearer, a, e) == -1)
		return NULL;
	if (c.bearer == NULL) {
		conn_fail(e, CONN_ERR_CONFIG, "twitter: missing setting "
		    "'bearer_token'");
		return NULL;
	}
	if (twitter_check_keys(set, &c, a, e) == -1 ||
	    twitter_check_base(base != NULL && base[0] != '\0' ? base :
	    TWITTER_DEFAULT_BASE, &c, a, e) == -1)
		return NULL;
	out = arena_alloc(a, sizeof(*out));
	*out = c;
	return out;
}

static const char *
twitter_str(json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

/* A saved cursor; anything unreadable in it reads as absent. */
static void
twitter_cursor_read(const char *text, struct twitter_cursor *cur)
{
	json_t *obj = text != NULL ? json_loads(text, 0, NULL) : NULL;
	const char *s;

	memset(cur, 0, sizeof(*cur));
	if (twitter_is_id(s = twitter_str(obj, "since_id")))
		strcpy(cur->since, s);
	if (twitter_is_id(s = twitter_str(obj, "newest")))
		strcpy(cur->newest, s);
	if (twitter_page_token_ok(s = twitter_str(obj, "next")))
		strcpy(cur->next, s);
	json_decref(obj);
}

static const char *
twitter_cursor_text(const struct twitter_cursor *cur, struct arena *a)
{
	json_t *obj = json_object();
	const char *out;
	char *s;

	if (cur->since[0] != '\0')
		json_object_set_new(obj, "since_id", json_string(cur->since));
	if (cur->next[0] != '\0') {
		json_object_set_new(obj, "next", json_string(cur->next));
		if (cur->newest[0] != '\0')
			json_object_set_new(obj, "newest",
			    json_string(cur->newest));
	}
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

/* The page of mentions the cursor stands at, newest first. */
static void
twitter_get(const struct twitter_conf *c, const struct twitter_cursor *cur,
    struct arena *a, struct conn_request *req)
{
	memset(req, 0, sizeof(*req));
	req->method = "GET";
	req->url = arena_printf(a, "%s/2/users/%s/mentions?max_results=%d&"
	    TWITTER_FIELDS "%s%s%s%s", c->base, c->user_id,
	    TWITTER_MAX_RESULTS, cur->since[0] != '\0' ? "&since_id=" : "",
	    cur->since, cur->next[0] != '\0' ? "&pagination_token=" : "",
	    cur->next);
	conn_request_header(req, a, "Accept", "application/json");
	conn_request_header(req, a, "Authorization",
	    arena_printf(a, "Bearer %s", c->bearer));
}

static int
twitter_poll(const void *conf, const char *cursor, struct arena *a,
    struct conn_request *req, struct conn_error *e)
{
	struct twitter_cursor cur;

	(void)e;
	twitter_cursor_read(cursor, &cur);
	twitter_get(conf, &cur, a, req);
	return 0;
}

/*
 * Post text as the patient wrote it: X escapes &, < and > (and only
 * those) as entities, decoded here once, so "&amp;lt;" stays "&lt;".
 * Control characters become blanks (a newline stays if lines). The
 * result is cut at max bytes, on a character's start.
 */
static char *
twitter_text(struct arena *a, const char *s, size_t max, int lines)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' } };
	size_t n = 0, i, k, len = strlen(s);
	char *out = arena_alloc(a, len + 1);
	unsigned char u;

	for (i = 0; i < len && n < max;) {
		for (k = 0; k < 3; k++)
			if (strncmp(s + i, ents[k].ent,
			    strlen(ents[k].ent)) == 0)
				break;
		if (k < 3) {
			out[n++] = ents[k].c;
			i += strlen(ents[k].ent);
			continue;
		}
		u = (unsigned char)s[i++];
		if (u == '\r')
			continue;
		out[n++] = u < 0x20 && !(lines && u == '\n') ? ' ' :
		    u == 0x7f ? ' ' : (char)u;
	}
	/* Cut short: drop the last character, which may be a part. */
	if (i < len) {
		while (n > 0 && ((unsigned char)out[n - 1] & 0xc0) == 0x80)
			n--;
		if (n > 0 && (unsigned char)out[n - 1] >= 0xc0)
			n--;
	}
	out[n] = '\0';
	return out;
}

/* X's own words on an error, one line, into out; "" if none. */
static void
twitter_said(const struct conn_response *r, char *out, size_t size)
{
	const char *title, *detail;
	struct arena a;
	json_t *v, *err;
	char *t;

	out[0] = '\0';
	if (r->body == NULL || (v = json_loadb(r->body, r->body_len, 0,
	    NULL)) == NULL)
		return;
	/* v2: a problem object; v1.1 (and some 429s): errors[0]. */
	title = twitter_str(v, "title");
	detail = twitter_str(v, "detail");
	err = json_array_get(json_object_get(v, "errors"), 0);
	if (title == NULL && detail == NULL) {
		title = twitter_str(err, "title");
		detail = twitter_str(err, "detail");
	}
	if (detail == NULL)
		detail = twitter_str(err, "message");
	arena_init(&a);
	if (title != NULL && detail != NULL && strcmp(title, detail) != 0)
		t = arena_printf(&a, "%s: %s", title, detail);
	else
		t = arena_strdup(&a, detail != NULL ? detail : title != NULL ?
		    title : "");
	t = twitter_text(&a, t, TWITTER_SAID_MAX, 0);
	if (json_is_integer(json_object_get(err, "code")) && t[0] != '\0')
		snprintf(out, size, "%s (code %lld)", t, (long long)
		    json_integer_value(json_object_get(err, "code")));
	else
		snprintf(out, size, "%s", t);
	arena_free(&a);
	json_decref(v);
}

/* A number header, or -1 if absent or unreadable. */
static long long
twitter_header_num(const struct conn_response *r, const char *name)
{
	const char *v = conn_response_header(r, name);
	char *end;
	long long n;

	if (v == NULL || *v < '0' || *v > '9' || strlen(v) > 18)
		return -1;
	n = strtoll(v, &end, 10);
	return *end == '\0' || *end == ' ' ? n : -1;
}

/*
 * Seconds from the response's Date to x-rate-limit-reset (epoch
 * seconds): a connector has no clock, the Date is "now". A window's
 * length when either is missing or unreadable.
 */
static long
twitter_reset_wait(const struct conn_response *r)
{
	const char *now = conn_response_header(r, "Date");
	long long reset = twitter_header_num(r, "x-rate-limit-reset");
	int64_t t0;

	/*
	 * Posting has a daily cap per user beside the 15-minute window;
	 * when that is spent, its reset is the one to wait for (else the
	 * retries spend themselves against it within the hour).
	 */
	if (twitter_header_num(r, "x-user-limit-24hour-remaining") == 0 &&
	    twitter_header_num(r, "x-user-limit-24hour-reset") > reset)
		reset = twitter_header_num(r, "x-user-limit-24hour-reset");

	if (reset < 0 || now == NULL || date_parse_rfc822(now, &t0) == -1)
		return TWITTER_RATE_WINDOW;
	/* A second more: the reset is whole seconds, the Date too. */
	if (reset < t0)
		return 1;
	return reset - t0 >= CONN_RETRY_MAX ? CONN_RETRY_MAX :
	    (long)(reset - t0 + 1);
}

static int
twitter_rate_limited(const struct conn_response *r, const char *said,
    struct conn_error *e)
{
	long secs = 0;

	if (conn_response_header(r, "x-rate-limit-reset") != NULL ||
	    conn_retry_after(r, &secs) != 1)
		secs = twitter_reset_wait(r);
	conn_fail(e, CONN_ERR_RATE_LIMITED, "HTTP 429: rate limited%s%s",
	    said[0] != '\0' ? ": " : "", said);
	e->retry_after = secs;
	return -1;
}

/*
 * Statuses other than 2xx, classified. To a poll, a 4xx is the
 * settings at fault (403: the app's access, which an admin must see
 * to); to a reply it is X refusing that reply, for good, with X's
 * reason (a conversation the account may not join, a duplicate).
 */
static int
twitter_status(const struct conn_response *r, int reply,
    struct conn_error *e)
{
	char said[TWITTER_SAID_MAX + 32];
	const char *sep;
	long s = r->status;

	if (s >= 200 && s <= 299)
		return 0;
	twitter_said(r, said, sizeof(said));
	sep = said[0] != '\0' ? ": " : "";
	if (s == 429)
		return twitter_rate_limited(r, said, e);
	if (s == 401)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP 401: %s refused%s%s",
		    reply ? "the reply credentials were" : "bearer_token was",
		    sep, said);
	if (s == 403 && !reply)
		return conn_fail(e, CONN_ERR_AUTH, "HTTP 403: X refused the "
		    "app's access%s%s", sep, said);
	if (!reply && (s == 404 || s == 410))
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: no such "
		    "account or API%s%s", s, sep, said);
	if (s >= 400 && s <= 499 && s != 408)
		return conn_fail(e, reply ? CONN_ERR_REFUSED : CONN_ERR_CONFIG,
		    "HTTP %ld%s%s", s, sep, said);
	if (s >= 300 && s <= 399)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: a redirect "
		    "that was not followed", s);
	return conn_fail(e, CONN_ERR_TRANSIENT, "HTTP %ld%s%s", s, sep, said);
}

/* Controls (jansson quotes the bytes it stopped at) become blanks. */
static void
twitter_oneline(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

/* The body as a JSON object, or a classified error. */
static json_t *
twitter_json(const struct conn_response *r, const char *what,
    struct conn_error *e)
{
	json_error_t je;
	json_t *v;

	if (r->body == NULL || r->body_len == 0) {
		conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: an empty body for "
		    "%s", r->status, what);
		return NULL;
	}
	if ((v = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES,
	    &je)) == NULL) {
		twitter_oneline(je.text);
		conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %s is not JSON: "
		    "line %d: %.80s", r->status, what, je.line, je.text);
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

/*
 * A 200 with errors[] and no data: nothing was read (the account is
 * gone or suspended); with data, errors concern other resources (a
 * referenced post deleted) and only the data counts.
 */
static int
twitter_only_errors(const struct conn_response *r, json_t *v,
    struct conn_error *e)
{
	char said[TWITTER_SAID_MAX + 32];
	const char *type;

	if (json_object_get(v, "data") != NULL ||
	    json_array_size(json_object_get(v, "errors")) == 0 ||
	    json_object_get(v, "meta") != NULL)
		return 0;
	twitter_said(r, said, sizeof(said));
	type = twitter_str(json_array_get(json_object_get(v, "errors"), 0),
	    "type");
	if (type != NULL && strstr(type, "resource-not-found") != NULL)
		return conn_fail(e, CONN_ERR_NOT_FOUND, "HTTP %ld: %s",
		    r->status, said);
	return conn_fail(e, CONN_ERR_CONFIG, "HTTP %ld: %s", r->status, said);
}

/* includes.users' entry for id, or NULL. */
static json_t *
twitter_user(json_t *users, const char *id)
{
	json_t *u;
	size_t i;

	if (id == NULL)
		return NULL;
	json_array_foreach(users, i, u)
		if (json_is_string(json_object_get(u, "id")) &&
		    strcmp(twitter_str(u, "id"), id) == 0)
			return u;
	return NULL;
}

/* The id the post answers: referenced_tweets (or _posts) replied_to. */
static const char *
twitter_parent(json_t *tw)
{
	static const char *const keys[] = { "referenced_tweets",
	    "referenced_posts" };
	const char *type;
	json_t *ref;
	size_t i, k;

	for (k = 0; k < 2; k++)
		json_array_foreach(json_object_get(tw, keys[k]), i, ref) {
			type = twitter_str(ref, "type");
			if (type != NULL && strcmp(type, "replied_to") == 0 &&
			    twitter_is_id(twitter_str(ref, "id")))
				return twitter_str(ref, "id");
		}
	return NULL;
}

/* What the channel adds, as a JSON object's text. */
static const char *
twitter_meta(json_t *tw, struct arena *a)
{
	static const char *const ids[] = { "author_id", "conversation_id",
	    "in_reply_to_user_id" };
	json_t *obj = json_object();
	const char *v, *out;
	size_t i;
	char *s;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		if (twitter_is_id(v = twitter_str(tw, ids[i])))
			json_object_set_new(obj, ids[i], json_string(v));
	if ((v = twitter_str(tw, "lang")) != NULL && conn_word(v, 20))
		json_object_set_new(obj, "lang", json_string(v));
	s = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

static int64_t
twitter_time(const char *s)
{
	int64_t t;

	if (s == NULL || date_parse_iso8601(s, &t) == -1)
		return 0;
	return t;
}

/* The author's name and @handle, from includes.users. */
static void
twitter_author(json_t *users, const char *author_id, struct arena *a,
    struct conn_item *it)
{
	json_t *u = twitter_user(users, author_id);
	const char *handle = twitter_str(u, "username");
	const char *name = twitter_str(u, "name");

	if (twitter_handle_ok(handle))
		it->author_handle = arena_printf(a, "@%s", handle);
	if (name != NULL)
		it->author_name = twitter_text(a, name, TWITTER_NAME_MAX, 0);
	if (it->author_name != NULL && it->author_name[0] == '\0')
		it->author_name = NULL;
	if (it->author_name == NULL)
		it->author_name = it->author_handle;
}

/* One post of data[] as an item; -1 if it has no id or text. */
static int
twitter_item_from_tweet(const struct twitter_conf *c, json_t *tw,
    json_t *users, struct arena *a, struct conn_item *it)
{
	const char *id = twitter_str(tw, "id");
	const char *text = twitter_str(tw, "text");
	const char *conv = twitter_str(tw, "conversation_id");
	const char *author = twitter_str(tw, "author_id"), *parent;

	if (!twitter_is_id(id) || text == NULL)
		return -1;
	memset(it, 0, sizeof(*it));
	it->external_id = arena_strdup(a, id);
	/* Without conversation_id (not asked for) a post stands alone. */
	it->thread_key = arena_strdup(a, twitter_is_id(conv) ? conv : id);
	parent = twitter_parent(tw);
	it->parent_id = parent != NULL ? arena_strdup(a, parent) : NULL;
	it->dir = twitter_is_id(author) && strcmp(author, c->user_id) == 0 ?
	    ITEM_OUT : ITEM_IN;
	twitter_author(users, author, a, it);
	/* The organisation's own post: its handle even if not expanded. */
	if (it->dir == ITEM_OUT && it->author_handle == NULL &&
	    c->username != NULL) {
		it->author_handle = arena_printf(a, "@%s", c->username);
		it->author_name = it->author_handle;
	}
	it->body = twitter_text(a, text, TWITTER_BODY_MAX, 1);
	it->url = it->author_handle != NULL ? arena_printf(a,
	    "https://x.com/%s/status/%s", it->author_handle + 1, id) :
	    arena_printf(a, "https://x.com/i/web/status/%s", id);
	it->rating = ITEM_NO_RATING;
	it->created_at = twitter_time(twitter_str(tw, "created_at"));
	it->updated_at = it->created_at;
	it->meta = twitter_meta(tw, a);
	return 0;
}

/* The page's posts as items, oldest first: a thread opens with its root. */
static void
twitter_items(const struct twitter_conf *c, json_t *v, struct arena *a,
    struct conn_batch *b)
{
	json_t *data = json_object_get(v, "data");
	json_t *users = json_object_get(json_object_get(v, "includes"),
	    "users");
	size_t i, n = json_array_size(data);

	if (n == 0)
		return;
	b->items = arena_alloc(a, n * sizeof(*b->items));
	for (i = n; i-- > 0;)
		if (twitter_item_from_tweet(c, json_array_get(data, i), users,
		    a, &b->items[b->nitems]) == 0)
			b->nitems++;
}

/* meta.newest_id, else the largest id on the page; "" if none. */
static void
twitter_newest(json_t *v, char *out)
{
	const char *id = twitter_str(json_object_get(v, "meta"), "newest_id");
	json_t *tw;
	size_t i;

	out[0] = '\0';
	if (twitter_is_id(id)) {
		strcpy(out, id);
		return;
	}
	json_array_foreach(json_object_get(v, "data"), i, tw)
		if (twitter_is_id(id = twitter_str(tw, "id")) &&
		    (out[0] == '\0' || conn_decimal_cmp(id, out) > 0))
			strcpy(out, id);
}

/*
 * Moves the cursor past a page; 1 if the run goes on. Pages go back
 * in time from the newest, so since_id may move only when the last
 * page (no next_token) is read, and then to the first page's newest.
 */
static int
twitter_advance(struct twitter_cursor *cur, json_t *v)
{
	const char *tok = twitter_str(json_object_get(v, "meta"),
	    "next_token");
	char newest[TWITTER_ID_MAX + 1];

	if (cur->next[0] == '\0') {
		twitter_newest(v, newest);
		memcpy(cur->newest, newest, sizeof(newest));
	}
	/*
	 * Paged until next_token is absent, even past an empty page (X
	 * drops deleted and protected posts from a page, not the page);
	 * a token that does not move on would page for ever.
	 */
	if (twitter_page_token_ok(tok) && strcmp(tok, cur->next) != 0) {
		strcpy(cur->next, tok);
		return 1;
	}
	if (cur->newest[0] != '\0' && (cur->since[0] == '\0' ||
	    conn_decimal_cmp(cur->newest, cur->since) > 0))
		memcpy(cur->since, cur->newest, sizeof(cur->since));
	cur->newest[0] = '\0';
	cur->next[0] = '\0';
	return 0;
}

/*
 * Limits honoured before they are hit: the mentions window is this
 * endpoint's own (replies count elsewhere), so none left means no
 * next page now and no poll before the reset.
 */
static long
twitter_pace(const struct conn_response *r)
{
	if (twitter_header_num(r, "x-rate-limit-remaining") != 0)
		return 0;
	return twitter_reset_wait(r);
}

/*
 * A 400 to a page asked for with a pagination token: the token is
 * stale (a run cut short long ago). The run starts again from
 * since_id, which skips nothing: the store keeps each post once.
 */
static int
twitter_restart(const struct twitter_conf *c, struct twitter_cursor *cur,
    struct arena *a, struct conn_batch *out)
{
	struct conn_batch b;

	cur->next[0] = '\0';
	cur->newest[0] = '\0';
	memset(&b, 0, sizeof(b));
	b.next = arena_alloc(a, sizeof(*b.next));
	twitter_get(c, cur, a, b.next);
	b.cursor = twitter_cursor_text(cur, a);
	*out = b;
	return 0;
}

/* A page fit to read: data an array, not too long, not errors alone. */
static int
twitter_page_check(const struct conn_response *r, json_t *v,
    struct conn_error *e)
{
	json_t *data = json_object_get(v, "data");

	if (twitter_only_errors(r, v, e) == -1)
		return -1;
	if (data != NULL && !json_is_array(data))
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: the "
		    "mentions page's data is not an array", r->status);
	if (json_array_size(data) > TWITTER_PAGE_MAX)
		return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld: %zu posts "
		    "on one page (at most %d)", r->status,
		    json_array_size(data), TWITTER_PAGE_MAX);
	return 0;
}

static int
twitter_parse_page(const struct twitter_conf *c, struct twitter_cursor *cur,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct conn_batch b;
	json_t *v;
	int more;

	if (r->status == 400 && cur->next[0] != '\0')
		return twitter_restart(c, cur, a, out);
	if (twitter_status(r, 0, e) == -1 ||
	    (v = twitter_json(r, "the mentions page", e)) == NULL)
		return -1;
	if (twitter_page_check(r, v, e) == -1) {
		json_decref(v);
		return -1;
	}
	memset(&b, 0, sizeof(b));
	twitter_items(c, v, a, &b);
	more = twitter_advance(cur, v);
	json_decref(v);
	b.min_interval = twitter_pace(r);
	if (more && b.min_interval == 0) {
		b.next = arena_alloc(a, sizeof(*b.next));
		twitter_get(c, cur, a, b.next);
	}
	b.cursor = twitter_cursor_text(cur, a);
	*out = b;
	return 0;
}

static int
twitter_parse(const void *conf, const char *cursor,
    const struct conn_response *r, struct arena *a, struct conn_batch *out,
    struct conn_error *e)
{
	struct twitter_cursor cur;

	e->retry_after = 0;
	twitter_cursor_read(cursor, &cur);
	return twitter_parse_page(conf, &cur, r, a, out, e);
}

static int
twitter_reply_check(const struct twitter_conf *c, const struct conn_reply *rp,
    struct conn_error *e)
{
	if (!twitter_is_id(rp->in_reply_to))
		return conn_fail(e, CONN_ERR_REFUSED, "no post to reply to "
		    "(the thread has no patient's post with an X id)");
	if (rp->body == NULL || rp->body[strspn(rp->body, " \t\r\n")] == '\0')
		return conn_fail(e, CONN_ERR_REFUSED, "an empty reply");
	if (strlen(rp->body) > TWITTER_REPLY_MAX)
		return conn_fail(e, CONN_ERR_REFUSED, "the reply is too long "
		    "for X");
	if (c->user_token == NULL && c->keys.consumer_key == NULL)
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: replies need "
		    "consumer_key, consumer_secret, access_token and "
		    "access_token_secret (or user_token)");
	if (c->user_token == NULL && (rp->now <= 0 || rp->nonce == NULL ||
	    !conn_word(rp->nonce, 64)))
		return conn_fail(e, CONN_ERR_CONFIG, "twitter: a signed reply "
		    "needs the daemon's clock and a nonce");
	return 0;
}

/* {"text": ..., "reply": {"in_reply_to_tweet_id": ...}}, or NULL. */
static char *
twitter_reply_body(const struct conn_reply *rp, struct arena *a)
{
	json_t *obj, *reply, *text = json_string(rp->body);
	char *s, *out;

	/* jansson takes UTF-8 only: other bytes would post no text. */
	if (text == NULL)
		return NULL;
	obj = json_object();
	reply = json_object();
	json_object_set_new(obj, "text", text);
	json_object_set_new(reply, "in_reply_to_tweet_id",
	    json_string(rp->in_reply_to));
	json_object_set_new(obj, "reply", reply);
	s = json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(obj);
	out = arena_strdup(a, s != NULL ? s : "{}");
	free(s);
	return out;
}

/*
 * POST /2/tweets as JSON. The user's own OAuth 2.0 token if set, else
 * OAuth 1.0a: with a JSON body there are no parameters to sign but
 * the oauth_* ones.
 */
static int
twitter_reply(const void *conf, const struct conn_reply *rp,
    struct arena *a, struct conn_request *req, struct conn_error *e)
{
	const struct twitter_conf *c = conf;
	const char *url, *auth, *body;

	if (twitter_reply_check(c, rp, e) == -1)
		return -1;
	if ((body = twitter_reply_body(rp, a)) == NULL)
		return conn_fail(e, CONN_ERR_REFUSED, "the reply is not "
		    "UTF-8 text");
	url = arena_printf(a, "%s/2/tweets", c->base);
	if (c->user_token != NULL)
		auth = arena_printf(a, "Bearer %s", c->user_token);
	else
		auth = oauth1_header(a, "POST", url, NULL, 0, &c->keys,
		    rp->now, rp->nonce);
	memset(req, 0, sizeof(*req));
	req->method = "POST";
	req->url = url;
	req->body = body;
	req->body_len = strlen(body);
	conn_request_header(req, a, "Content-Type", "application/json");
	conn_request_header(req, a, "Accept", "application/json");
	conn_request_header(req, a, "Authorization", auth);
	return 0;
}

/* A 2xx to a reply without the post: X's errors[] refuse it. */
static int
twitter_reply_errors(const struct conn_response *r, struct conn_error *e)
{
	char said[TWITTER_SAID_MAX + 32];

	twitter_said(r, said, sizeof(said));
	if (said[0] != '\0')
		return conn_fail(e, CONN_ERR_REFUSED, "HTTP %ld: %s",
		    r->status, said);
	return conn_fail(e, CONN_ERR_MALFORMED, "HTTP %ld to a reply "
	    "without the post's id", r->status);
}

/* The created post's id (201 Created): what a poll would call it too. */
static int
twitter_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a, const char **external_id, struct conn_error *e)
{
	const char *id;
	json_t *v;

	(void)conf;
	e->retry_after = 0;
	if (twitter_status(r, 1, e) == -1 ||
	    (v = twitter_json(r, "the posted reply", e)) == NULL)
		return -1;
	id = twitter_str(json_object_get(v, "data"), "id");
	if (!twitter_is_id(id)) {
		json_decref(v);
		return twitter_reply_errors(r, e);
	}
	*external_id = arena_strdup(a, id);
	json_decref(v);
	return 0;
}

const struct connector connector_twitter = {
	.name = "twitter",
	.title = "X / Twitter (mentions of the organisation's account, "
	    "answered in the conversation)",
	.settings = twitter_settings,
	.reply_mode = CONN_REPLY_API,
	.configure = twitter_configure,
	.poll = twitter_poll,
	.parse = twitter_parse,
	.reply = twitter_reply,
	.reply_parse = twitter_reply_parse,
	/* X takes no idempotency key: a post cut short waits for a person. */
	.idempotent_replies = 0,
};
