/*
 * fuzz_twitter: the twitter connector's parse, reply_parse and reply
 * on arbitrary bytes.
 *
 * The input is a response body for a 200, or, when it starts "HTTP/",
 * a whole response (status line, headers, blank line, body) as in the
 * .http golden cases, so x-rate-limit-* and Date get fuzzed too. Each
 * input is parsed under a first run, a saved since_id and a run under
 * way, and its bytes are also the text of a reply. Whatever comes out
 * must be well-formed: ids decimal strings, text without controls, a
 * cursor that reads back, a next page on the API with the bearer
 * token, a reply body that is JSON carrying the text unchanged.
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

#define FUZZ_BASE	"https://api.x.com"
#define FUZZ_DIGITS	"0123456789"
#define FUZZ_NEXT	FUZZ_BASE "/2/users/783214/mentions?max_results=100&"

extern const struct connector connector_twitter;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_id(const char *s)
{
	return s != NULL && fuzz_word(s, FUZZ_DIGITS, 1, 20);
}

static void
fuzz_item(const struct conn_item *it)
{
	fuzz_check(fuzz_id(it->external_id), "external_id");
	fuzz_check(fuzz_id(it->thread_key), "thread_key");
	fuzz_check(it->parent_id == NULL || fuzz_id(it->parent_id), "parent");
	fuzz_check(it->dir == ITEM_IN || it->dir == ITEM_OUT, "dir");
	fuzz_check(it->author_handle == NULL ||
	    it->author_handle[0] == '@', "handle");
	fuzz_text(it->author_handle, 16, 0, "handle");
	fuzz_text(it->author_name, 200, 0, "author_name");
	fuzz_check(it->body != NULL, "body");
	if (it->body[0] != '\0')
		fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_check(it->url != NULL && strncmp(it->url, "https://x.com/",
	    14) == 0 && strstr(it->url, it->external_id) != NULL, "url");
	fuzz_check(it->org_hint == NULL && it->title == NULL, "org_hint");
	fuzz_check(it->rating == ITEM_NO_RATING && it->removed == 0 &&
	    it->thread_status == NULL, "unused fields");
	fuzz_json_object(it->meta, "meta");
}

/* Ids decimal strings; a token only while a run is under way. */
static void
fuzz_cursor(const char *text)
{
	json_t *cur = json_loads(text, 0, NULL);
	const char *s;

	fuzz_check(json_is_object(cur), "cursor object");
	s = json_string_value(json_object_get(cur, "since_id"));
	fuzz_check(json_object_get(cur, "since_id") == NULL || fuzz_id(s),
	    "since_id");
	s = json_string_value(json_object_get(cur, "newest"));
	fuzz_check(json_object_get(cur, "newest") == NULL || (fuzz_id(s) &&
	    json_object_get(cur, "next") != NULL), "newest");
	json_decref(cur);
}

static void
fuzz_batch(const struct conn_batch *b)
{
	size_t i;

	fuzz_check(b->nitems <= 200, "nitems");
	for (i = 0; i < b->nitems; i++)
		fuzz_item(&b->items[i]);
	fuzz_check(b->cursor != NULL, "cursor");
	fuzz_cursor(b->cursor);
	fuzz_check(b->min_interval >= 0 && b->min_interval <= 7 * 86400,
	    "min_interval");
	fuzz_check(b->next == NULL || (b->next->body == NULL &&
	    strncmp(b->next->url, FUZZ_NEXT, strlen(FUZZ_NEXT)) == 0 &&
	    strcmp(b->next->headers[1], "Authorization: Bearer t") == 0),
	    "next");
	fuzz_check(b->next == NULL || b->min_interval == 0, "next paced");
}

static void
fuzz_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	static const char *const cursors[] = { NULL,
	    "{\"since_id\":\"1578516000000000000\"}",
	    "{\"since_id\":\"10\",\"newest\":\"99\",\"next\":\"abc\"}",
	    "[1,2]", "{\"since_id\":1.5e18,\"next\":\"a b\"}" };
	struct conn_batch b;
	struct conn_error e;
	size_t i;

	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		memset(&b, 0, sizeof(b));
		memset(&e, 0, sizeof(e));
		if (connector_twitter.parse(conf, cursors[i], r, a, &b,
		    &e) == 0)
			fuzz_batch(&b);
		else
			fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
			    strchr(e.msg, '\n') == NULL &&
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
	if (connector_twitter.reply_parse(conf, r, a, &id, &e) == 0)
		fuzz_check(fuzz_id(id), "reply id");
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
		    id == NULL, "reply error");
}

/* The input as the reply's text: JSON that carries it unchanged. */
static void
fuzz_reply(const void *conf, const char *text, struct arena *a)
{
	struct conn_reply rp = { .thread_key = "1", .in_reply_to = "2",
	    .body = text, .now = 1700000000,
	    .nonce = "0123456789abcdef0123456789abcdef" };
	struct conn_request req;
	struct conn_error e;
	json_t *v;

	memset(&e, 0, sizeof(e));
	if (connector_twitter.reply(conf, &rp, a, &req, &e) == -1) {
		fuzz_check(e.code == CONN_ERR_REFUSED, "reply refused");
		return;
	}
	v = json_loads(req.body, 0, NULL);
	fuzz_check(v != NULL, "reply body");
	fuzz_check(json_string_value(json_object_get(v, "text")) != NULL &&
	    strcmp(json_string_value(json_object_get(v, "text")), text) == 0,
	    "reply text");
	fuzz_check(strncmp(req.headers[2], "Authorization: OAuth ", 21) == 0,
	    "reply signed");
	json_decref(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[] = {
		{ "user_id", "783214" }, { "username", "Twitter" },
		{ "bearer_token", "t" }, { "consumer_key", "ck" },
		{ "consumer_secret", "cs" }, { "access_token", "at" },
		{ "access_token_secret", "ats" },
	};
	struct conn_settings set = { kv, sizeof(kv) / sizeof(kv[0]) };
	struct fuzz_resp fr;
	struct conn_error e;
	struct arena a;
	const void *conf;

	fuzz_response(&fr, data, size, NULL);
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	conf = connector_twitter.configure(&a, &set, &e);
	fuzz_check(conf != NULL, "configure");
	fuzz_parse(conf, &fr.r, &a);
	fuzz_reply_parse(conf, &fr.r, &a);
	fuzz_reply(conf, fr.r.body, &a);
	arena_free(&a);
	free(fr.copy);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 0;
