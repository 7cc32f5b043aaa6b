/*
 * fuzz_nhs_website: the nhs-website connector's parse and poll on
 * arbitrary bytes.
 *
 * A first byte below 16 picks the settings (default paging, two to a
 * page with no rescan, one to a page) and the cursor (0..14),
 * or says the rest is a saved cursor to poll with (15); any other
 * first byte is the response's own, with the first settings and no
 * cursor. A response is a bare 200 body, or a whole "HTTP/..."
 * response as in the .http golden cases; the replay runs every seed
 * under every choice.
 * Whatever comes out must hold up: items well formed and bounded, a
 * response in its comment's thread, the cursor JSON without the key,
 * the next request the very one that cursor names when polled, the
 * key in its header only, errors that never show it. Anything else
 * aborts.
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

#define FUZZ_KEY		"FUZZKEY"
#define FUZZ_BASE		"https://fuzz.example.org/comments"

extern const struct connector connector_nhs_website;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_cursors[] = {
	NULL,
	"{\"from\":\"2023-05-03\",\"sweeps\":3}",
	"{\"from\":\"2023-08-31\",\"high\":\"2023-09-05T00:00:00Z\","
	    "\"offset\":2,\"sweeps\":1}",
	"{\"full\":true,\"offset\":50,\"sweeps\":30,\"from\":\"2023-01-01\"}",
	"{\"from\":\"2023-02-30\",\"offset\":-5,\"high\":7,\"sweeps\":\"x\"}",
};

static const struct conn_kv fuzz_kv[3][4] = {
	{ { "subscription_key", FUZZ_KEY }, { "base_url", FUZZ_BASE },
	    { "ods_code", "RRV03" }, { "rescan", "24" } },
	{ { "subscription_key", FUZZ_KEY }, { "base_url", FUZZ_BASE "/" },
	    { "ods_code", "rj1" }, { "limit", "2" } },
	{ { "subscription_key", FUZZ_KEY }, { "base_url", FUZZ_BASE },
	    { "ods_code", "RRV03" }, { "limit", "1" } },
};

#define FUZZ_ID_SET	"abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static void
fuzz_item(const struct conn_item *it)
{
	size_t n;

	fuzz_check(it->external_id != NULL &&
	    fuzz_word(it->external_id, FUZZ_ID_SET, 1, 65), "external_id");
	fuzz_check(it->thread_key != NULL &&
	    fuzz_word(it->thread_key, FUZZ_ID_SET, 1, 64), "thread_key");
	n = strlen(it->thread_key);
	if (it->dir == ITEM_OUT)
		fuzz_check(it->parent_id != NULL &&
		    strcmp(it->parent_id, it->thread_key) == 0 &&
		    strncmp(it->external_id, it->thread_key, n) == 0 &&
		    strcmp(it->external_id + n, "R") == 0, "response");
	else
		fuzz_check(it->dir == ITEM_IN && strcmp(it->external_id,
		    it->thread_key) == 0 && it->parent_id == NULL, "comment");
	fuzz_text(it->title, 500, 0, "title");
	fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->author_name, 200, 0, "author");
	fuzz_text(it->channel_status, 200, 0, "status");
	fuzz_check(it->rating == ITEM_NO_RATING ||
	    (it->rating >= 1 && it->rating <= 5), "rating");
	fuzz_check(it->url == NULL || strncmp(it->url, "http://", 7) == 0 ||
	    strncmp(it->url, "https://", 8) == 0, "url scheme");
	fuzz_check(it->org_hint == NULL || fuzz_word(it->org_hint,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 3, 10), "org_hint");
	if (it->meta != NULL)
		fuzz_json_object(it->meta, "meta");
}

/* A request: ours, clean, the key in its header and nowhere else. */
static void
fuzz_request(const struct conn_request *r)
{
	size_t i, keys = 0;

	fuzz_check(strncmp(r->url, FUZZ_BASE "/Comments?odsCode=",
	    strlen(FUZZ_BASE) + 18) == 0, "request to our API");
	fuzz_check(strpbrk(r->url, " \t\r\n#") == NULL, "clean url");
	fuzz_check(strstr(r->url, FUZZ_KEY) == NULL, "key in url");
	for (i = 0; i < r->nheaders; i++)
		if (strcmp(r->headers[i], "subscription-key: " FUZZ_KEY) == 0)
			keys++;
	fuzz_check(keys == 1, "key header once");
}

/* The saved cursor names the very request the batch asks next. */
static void
fuzz_batch(const void *conf, const struct conn_batch *b, struct arena *a)
{
	struct conn_request again;
	struct conn_error e;
	size_t i;

	fuzz_check(b->nitems <= 10000, "nitems");
	for (i = 0; i < b->nitems; i++)
		fuzz_item(&b->items[i]);
	fuzz_check(b->cursor != NULL, "cursor");
	fuzz_json_object(b->cursor, "cursor");
	fuzz_check(strstr(b->cursor, FUZZ_KEY) == NULL, "key in cursor");
	if (b->next == NULL)
		return;
	fuzz_request(b->next);
	memset(&e, 0, sizeof(e));
	fuzz_check(connector_nhs_website.poll(conf, b->cursor, a, &again,
	    &e) == 0, "poll the saved cursor");
	fuzz_check(strcmp(again.url, b->next->url) == 0, "cursor names next");
}

static void
fuzz_parse(const void *conf, const char *cursor, struct fuzz_resp *fr,
    struct arena *a)
{
	struct conn_request req;
	struct conn_batch b;
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	fuzz_check(connector_nhs_website.poll(conf, cursor, a, &req, &e) ==
	    0, "poll");
	fuzz_request(&req);
	memset(&b, 0, sizeof(b));
	if (connector_nhs_website.parse(conf, cursor, &fr->r, a, &b, &e) ==
	    0)
		fuzz_batch(conf, &b, a);
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
		    strstr(e.msg, FUZZ_KEY) == NULL, "error");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conn_settings set;
	struct conn_request req;
	struct fuzz_resp fr;
	struct conn_error e;
	struct arena a;
	const void *conf;
	unsigned sel = 0;

	if (size > 0 && data[0] < 16) {
		sel = data[0];
		data++;
		size--;
	}
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	set.kv = fuzz_kv[sel % 3];
	set.n = 4;
	conf = connector_nhs_website.configure(&a, &set, &e);
	fuzz_check(conf != NULL, "configure");
	fuzz_response(&fr, data, size, NULL);
	if (sel == 15) {
		fuzz_check(connector_nhs_website.poll(conf, fr.copy, &a, &req,
		    &e) == 0, "poll any cursor");
		fuzz_request(&req);
	} else
		fuzz_parse(conf, fuzz_cursors[sel / 3], &fr, &a);
	free(fr.copy);
	arena_free(&a);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 16;
