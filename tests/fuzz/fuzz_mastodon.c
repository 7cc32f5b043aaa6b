/*
 * fuzz_mastodon: the mastodon connector's parse, reply_parse and reply
 * on arbitrary bytes.
 *
 * The input is a response body for a 200, or, when it starts "HTTP/",
 * a whole response (status line, headers, blank line, body) as in the
 * .http golden cases, so the Link and X-RateLimit-* headers get fuzzed
 * too. Each input is parsed under a first run, a saved min_id and a
 * run under way, with and without other organisations' accounts, and
 * its bytes are also used as a message's meta for a reply. Whatever
 * comes out must be well-formed: ids decimal, items bounded, a cursor
 * that reads back, a next page on the instance with the token only
 * there, an error with a reason.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "connector.h"
#include "fuzz_util.h"

#define FUZZ_BASE	"https://fuzz.example.social"
#define FUZZ_DIGITS	"0123456789"
#define FUZZ_NEXT	\
	FUZZ_BASE "/api/v1/notifications?types%5B%5D=mention&min_id="
#define FUZZ_CONTEXT	FUZZ_BASE "/api/v1/statuses/"

extern const struct connector connector_mastodon;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_id(const char *s)
{
	return s != NULL && fuzz_word(s, FUZZ_DIGITS, 1, 30);
}

static void
fuzz_item(const struct conn_item *it)
{
	fuzz_check(fuzz_id(it->external_id), "external_id");
	fuzz_check(fuzz_id(it->thread_key), "thread_key");
	fuzz_check(it->parent_id == NULL || fuzz_id(it->parent_id), "parent");
	fuzz_check(it->dir == ITEM_IN || it->dir == ITEM_OUT, "dir");
	fuzz_check(it->author_handle != NULL &&
	    it->author_handle[0] == '@', "handle");
	fuzz_text(it->author_handle, 301, 0, "handle");
	fuzz_text(it->author_name, 301, 0, "author_name");
	fuzz_text(it->title, 200, 0, "title");
	fuzz_check(it->body != NULL, "body");
	if (it->body[0] != '\0')
		fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->url, 2048, 0, "url");
	fuzz_check(it->url == NULL || strncmp(it->url, "http", 4) == 0,
	    "url scheme");
	fuzz_check(it->org_hint == NULL || strcmp(it->org_hint, "RJZ") == 0,
	    "org_hint");
	fuzz_check(it->rating == ITEM_NO_RATING && it->removed == 0 &&
	    it->thread_status == NULL, "unused fields");
	fuzz_json_object(it->meta, "meta");
}

/* Every id of the cursor is decimal, found's roots may be "". */
static void
fuzz_cursor(const char *text, int *asking)
{
	json_t *cur = json_loads(text, 0, NULL), *v, *w;
	const char *k, *s;
	size_t i;

	fuzz_check(json_is_object(cur), "cursor object");
	json_object_foreach(cur, k, v) {
		if (json_is_string(v)) {
			fuzz_check(fuzz_id(json_string_value(v)), "cursor id");
			continue;
		}
		json_array_foreach(v, i, w)
			fuzz_check(fuzz_id(json_string_value(w)), "cursor ids");
		json_object_foreach(v, s, w)
			fuzz_check(fuzz_id(s) && json_is_string(w) &&
			    (json_string_length(w) == 0 ||
			    fuzz_id(json_string_value(w))), "found");
		fuzz_check(json_is_array(v) || json_is_object(v), "cursor");
	}
	fuzz_check(json_array_size(json_object_get(cur, "roots")) <= 200,
	    "roots");
	*asking = json_array_size(json_object_get(cur, "ask")) > 0;
	json_decref(cur);
}

/* The cursor reads back; a next page or lookup stays on the instance. */
static void
fuzz_batch(const struct conn_batch *b)
{
	int asking;
	size_t i;

	fuzz_check(b->nitems <= 400 * 2, "nitems");
	for (i = 0; i < b->nitems; i++)
		fuzz_item(&b->items[i]);
	fuzz_check(b->cursor != NULL, "cursor");
	fuzz_cursor(b->cursor, &asking);
	fuzz_check(!asking || b->nitems == 0, "items while asking");
	fuzz_check(b->min_interval >= 0 && b->min_interval <= 7 * 86400,
	    "min_interval");
	fuzz_check(b->next == NULL || b->next->body == NULL, "next body");
	fuzz_check(b->next == NULL || (asking ? strncmp(b->next->url,
	    FUZZ_CONTEXT, strlen(FUZZ_CONTEXT)) == 0 :
	    strncmp(b->next->url, FUZZ_NEXT, strlen(FUZZ_NEXT)) == 0), "next");
}

static void
fuzz_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	static const char *const cursors[] = { NULL, "{\"min_id\":\"21\"}",
	    "{\"min_id\":\"10\",\"next\":\"140\"}", "[1,2]",
	    "{\"ask\":[\"117020577157694002\",\"x\"],\"min_id\":\"39\"}",
	    "{\"found\":{\"117020577157694002\":\"\",\"1\":7},"
	    "\"roots\":[\"117020577157693600\",-1],\"min_id\":\"39\"}" };
	struct conn_batch b;
	struct conn_error e;
	size_t i;

	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		memset(&b, 0, sizeof(b));
		memset(&e, 0, sizeof(e));
		if (connector_mastodon.parse(conf, cursors[i], r, a, &b,
		    &e) == 0)
			fuzz_batch(&b);
		else
			fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
			    e.retry_after >= 0, "error");
	}
}

static void
fuzz_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	const char *id = NULL;
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	if (connector_mastodon.reply_parse(conf, r, a, &id, &e) == 0)
		fuzz_check(fuzz_id(id), "reply id");
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
		    id == NULL, "reply error");
}

/* The input as the answered message's meta: a visibility comes out. */
static void
fuzz_reply(const void *conf, const char *meta, struct arena *a)
{
	struct conn_reply rp = { .thread_key = "1", .in_reply_to = "2",
	    .body = "Thank you", .idempotency_key = "k",
	    .in_reply_to_author = "@pat", .in_reply_to_meta = meta };
	struct conn_request req;
	struct conn_error e;
	const char *v;

	memset(&e, 0, sizeof(e));
	fuzz_check(connector_mastodon.reply(conf, &rp, a, &req, &e) == 0,
	    "reply");
	v = strstr(req.body, "&visibility=");
	fuzz_check(v != NULL && (strcmp(v + 12, "direct") == 0 ||
	    strcmp(v + 12, "private") == 0 ||
	    strcmp(v + 12, "unlisted") == 0), "visibility");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[2][4] = {
		{ { "url", FUZZ_BASE }, { "token", "t" },
		    { "account", "mastodonpy_test" } },
		{ { "url", FUZZ_BASE "/" }, { "token", "t" },
		    { "account", "117020565966271100" },
		    { "orgs", "kingstrust@fuzz.example.social=RJZ" } },
	};
	struct fuzz_resp fr;
	struct conn_error e;
	struct arena a;
	const void *conf;
	int i;

	fuzz_response(&fr, data, size, NULL);
	for (i = 0; i < 2; i++) {
		struct conn_settings set = { kv[i], i == 0 ? 3 : 4 };

		arena_init(&a);
		memset(&e, 0, sizeof(e));
		conf = connector_mastodon.configure(&a, &set, &e);
		fuzz_check(conf != NULL, "configure");
		fuzz_parse(conf, &fr.r, &a);
		fuzz_reply_parse(conf, &fr.r, &a);
		fuzz_reply(conf, fr.r.body, &a);
		arena_free(&a);
	}
	free(fr.copy);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 0;
