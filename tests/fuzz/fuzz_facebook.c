/*
 * fuzz_facebook: the facebook connector's parse, webhook_parse and
 * reply_parse on arbitrary bytes.
 *
 * The input is a response body for a 200, or, when it starts "HTTP/",
 * a whole response as in the .http golden cases, so the usage headers
 * get fuzzed too. It is parsed under a first run, a run in its window,
 * a run under way on the feed and one on a post's comments; the same
 * bytes go through webhook_parse (as a delivery) and reply_parse.
 * Whatever comes out must be well-formed: ids of digits and '_', text
 * bounded, a cursor that reads back, a next page on graph_base with
 * the token in a header only, an error with a reason and no token.
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

#define FUZZ_BASE	"https://graph.facebook.com/v19.0"
#define FUZZ_ORIGIN	"https://graph.facebook.com/"
#define FUZZ_TOKEN	"EAAB-fuzz-token"
#define FUZZ_ID		"0123456789_"

extern const struct connector connector_facebook;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_id(const char *s)
{
	return s != NULL && fuzz_word(s, FUZZ_ID, 1, 64) && s[0] != '_';
}

static void
fuzz_item(const struct conn_item *it)
{
	fuzz_check(fuzz_id(it->external_id), "external_id");
	fuzz_check(fuzz_id(it->thread_key), "thread_key");
	fuzz_check(it->parent_id == NULL || fuzz_id(it->parent_id), "parent");
	fuzz_check(it->author_handle == NULL || fuzz_id(it->author_handle),
	    "handle");
	fuzz_check(it->dir == ITEM_IN || it->dir == ITEM_OUT, "dir");
	fuzz_text(it->author_name, 201, 0, "author_name");
	fuzz_check(it->removed || it->body != NULL, "body");
	if (it->body != NULL && it->body[0] != '\0')
		fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_check(it->url != NULL && strncmp(it->url,
	    "https://www.facebook.com/", 25) == 0, "url");
	fuzz_check(it->rating == ITEM_NO_RATING && it->org_hint == NULL &&
	    it->thread_status == NULL, "unused fields");
	if (it->meta != NULL)
		fuzz_json_object(it->meta, "meta");
}

/* 1 if the URL's query has a parameter named name. */
static int
fuzz_has_param(const char *url, const char *name)
{
	const char *p = strchr(url, '?');
	size_t n = strlen(name);

	while (p != NULL) {
		p++;
		if (strncmp(p, name, n) == 0 && (p[n] == '=' || p[n] == '&' ||
		    p[n] == '\0'))
			return 1;
		p = strchr(p, '&');
	}
	return 0;
}

static void
fuzz_request(const struct conn_request *r)
{
	size_t i;

	fuzz_check(strncmp(r->url, FUZZ_ORIGIN, strlen(FUZZ_ORIGIN)) == 0,
	    "next on graph_base");
	fuzz_check(strstr(r->url, FUZZ_TOKEN) == NULL, "token in url");
	fuzz_check(!fuzz_has_param(r->url, "access_token"), "access_token");
	for (i = 0; i < r->nheaders; i++)
		fuzz_check(strstr(r->headers[i], FUZZ_TOKEN) == NULL ||
		    strcmp(r->headers[i], "Authorization: Bearer "
		    FUZZ_TOKEN) == 0, "token header");
}

static void
fuzz_batch(const struct conn_batch *b, int pushed)
{
	json_t *cur;
	size_t i;

	for (i = 0; i < b->nitems; i++)
		fuzz_item(&b->items[i]);
	if (pushed) {
		fuzz_check(b->cursor == NULL && b->next == NULL, "pushed");
		return;
	}
	fuzz_check(b->cursor != NULL && strstr(b->cursor, FUZZ_TOKEN) ==
	    NULL, "cursor");
	cur = json_loads(b->cursor, 0, NULL);
	fuzz_check(json_is_object(cur), "cursor object");
	fuzz_check(json_array_size(json_object_get(cur, "more")) <= 500,
	    "more");
	json_decref(cur);
	fuzz_check(b->min_interval >= 0 && b->min_interval <= 7 * 86400,
	    "min_interval");
	if (b->next != NULL)
		fuzz_request(b->next);
}

static void
fuzz_error(const struct conn_error *e)
{
	fuzz_check(e->code != CONN_OK && e->msg[0] != '\0' &&
	    e->retry_after >= 0 && strstr(e->msg, FUZZ_TOKEN) == NULL,
	    "error");
}

static void
fuzz_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	static const char *const cursors[] = { NULL, "{\"since\":1626000000}",
	    "{\"next\":\"" FUZZ_BASE "/4/feed?until=1&access_token=x\","
	    "\"top\":5}", "{\"more\":[[\"4_1\",\"QVFI\"],[\"4_2\",\"x\"]]}",
	    "{\"more\":[[\"4/../1\",\"a\"],7],"
	    "\"next\":\"https://e.example/\"}",
	    "[]" };
	struct conn_batch b;
	struct conn_error e;
	size_t i;

	for (i = 0; i < sizeof(cursors) / sizeof(cursors[0]); i++) {
		memset(&b, 0, sizeof(b));
		memset(&e, 0, sizeof(e));
		if (connector_facebook.parse(conf, cursors[i], r, a, &b,
		    &e) == 0)
			fuzz_batch(&b, 0);
		else
			fuzz_error(&e);
	}
}

static void
fuzz_webhook(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	struct conn_batch b;
	struct conn_error e;

	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	if (connector_facebook.webhook_parse(conf, r->body, r->body_len, a,
	    &b, &e) == 0)
		fuzz_batch(&b, 1);
	else
		fuzz_error(&e);
}

static void
fuzz_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	const char *id = NULL;
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	if (connector_facebook.reply_parse(conf, r, a, &id, &e) == 0)
		fuzz_check(fuzz_id(id), "reply id");
	else {
		fuzz_error(&e);
		fuzz_check(id == NULL, "reply id on error");
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[2][3] = {
		{ { "page_id", "1234567890321" }, { "page_token", FUZZ_TOKEN },
		    { "graph_base", FUZZ_BASE } },
		{ { "page_id", "4" }, { "page_token", FUZZ_TOKEN },
		    { "graph_base", FUZZ_BASE "/" } },
	};
	struct fuzz_resp fr;
	struct conn_error e;
	struct arena a;
	const void *conf;
	int i;

	fuzz_response(&fr, data, size, NULL);
	for (i = 0; i < 2; i++) {
		struct conn_settings set = { kv[i], 3 };

		arena_init(&a);
		memset(&e, 0, sizeof(e));
		conf = connector_facebook.configure(&a, &set, &e);
		fuzz_check(conf != NULL, "configure");
		fuzz_parse(conf, &fr.r, &a);
		fuzz_webhook(conf, &fr.r, &a);
		fuzz_reply_parse(conf, &fr.r, &a);
		arena_free(&a);
	}
	free(fr.copy);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 0;
