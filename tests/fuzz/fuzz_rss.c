/*
 * fuzz_rss: the rss connector's configure and parse on arbitrary bytes.
 *
 * The input is a response body for a 200, or, when it starts "HTTP/",
 * a whole response (status line, headers, blank line, body) as in the
 * .http golden cases, so headers get fuzzed too. Every item that comes
 * out must be a good one; anything else aborts.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "connector.h"
#include "fuzz_util.h"

extern const struct connector connector_rss;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_item(const struct conn_item *it)
{
	fuzz_check(it->external_id != NULL && it->external_id[0] != '\0' &&
	    strlen(it->external_id) <= 512, "external_id");
	fuzz_check(it->thread_key != NULL, "thread_key");
	fuzz_check(it->dir == ITEM_IN, "dir");
	fuzz_text(it->title, 500, 0, "title");
	fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->author_name, 200, 0, "author");
	fuzz_check(it->url == NULL || strncmp(it->url, "http://", 7) == 0 ||
	    strncmp(it->url, "https://", 8) == 0, "url scheme");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[] = {
		{ "url", "https://fuzz.example.org/feeds/feed.xml" },
	};
	struct conn_settings set = { kv, 1 };
	struct fuzz_resp fr;
	struct conn_batch b;
	struct conn_error e;
	struct arena a;
	const void *conf;
	size_t i;

	arena_init(&a);
	memset(&e, 0, sizeof(e));
	conf = connector_rss.configure(&a, &set, &e);
	fuzz_check(conf != NULL, "configure");
	fuzz_response(&fr, data, size, "https://fuzz.example.org/feed.xml");
	memset(&b, 0, sizeof(b));
	if (connector_rss.parse(conf, "{\"etag\":\"\\\"x\\\"\"}", &fr.r, &a,
	    &b, &e) == 0) {
		fuzz_check(b.nitems <= 10000, "nitems");
		for (i = 0; i < b.nitems; i++)
			fuzz_item(&b.items[i]);
	} else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0', "error");
	free(fr.copy);
	arena_free(&a);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 0;
