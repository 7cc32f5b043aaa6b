/*
 * fuzz_care_connect: the care-connect connector's parse and reply_parse
 * on arbitrary bytes.
 *
 * The input is a response body for a 200, or, when it starts "HTTP/",
 * a whole response (status line, headers, blank line, body) as in the
 * .http golden cases. Each input goes through parse as a requests page
 * and as an updates page, with the XML and the JSON settings, and
 * through reply_parse. Whatever comes out must be well-formed: items
 * keyed and bounded, a cursor that reads back, an error with a reason.
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

#define FUZZ_ENDPOINT		"https://fuzz.example.org/open311"

extern const struct connector connector_care_connect;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_one_of(const char *s, const char *const *words)
{
	for (; *words != NULL; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static void
fuzz_item(const struct conn_item *it, int updates)
{
	static const char *const statuses[] = { "open", "in_progress",
	    "resolved", "closed", "hidden", NULL };
	json_t *meta;

	fuzz_check(it->external_id != NULL && strncmp(it->external_id,
	    updates ? "upd:" : "req:", 4) == 0 &&
	    strlen(it->external_id) > 4, "external_id");
	fuzz_text(it->thread_key, 200, 0, "thread_key");
	fuzz_check(it->thread_key != NULL, "thread_key");
	fuzz_check(it->dir == (updates ? ITEM_OUT : ITEM_IN), "dir");
	fuzz_check(!updates || (it->parent_id != NULL &&
	    strcmp(it->parent_id + 4, it->thread_key) == 0), "parent");
	fuzz_text(it->title, 500, 0, "title");
	fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->channel_status, 500, 0, "channel_status");
	fuzz_check(it->thread_status == NULL ||
	    fuzz_one_of(it->thread_status, statuses), "thread_status");
	fuzz_check(it->removed == (it->thread_status != NULL && !updates &&
	    strcmp(it->thread_status, "hidden") == 0), "removed");
	fuzz_check(it->url == NULL, "url without report_url");
	if (it->meta != NULL) {
		meta = json_loads(it->meta, 0, NULL);
		fuzz_check(json_is_object(meta), "meta");
		json_decref(meta);
	}
}

/* The cursor reads back, and a next request stays on the endpoint. */
static void
fuzz_batch(const struct conn_batch *b, int updates)
{
	json_t *cur;
	size_t i;

	fuzz_check(b->nitems <= 10000, "nitems");
	for (i = 0; i < b->nitems; i++)
		fuzz_item(&b->items[i], updates);
	fuzz_check(b->cursor != NULL, "cursor");
	cur = json_loads(b->cursor, 0, NULL);
	fuzz_check(json_is_string(json_object_get(cur, "step")), "step");
	json_decref(cur);
	fuzz_check(b->next == NULL || (strncmp(b->next->url, FUZZ_ENDPOINT
	    "/", sizeof(FUZZ_ENDPOINT)) == 0 && b->next->body == NULL),
	    "next");
	fuzz_check(!updates || b->next == NULL ||
	    strstr(b->next->url, "servicerequestupdates") != NULL,
	    "updates page down");
}

static void
fuzz_parse(const void *conf, const struct conn_response *r, int updates,
    struct arena *a)
{
	static const char *const cursors[] = {
		"{\"step\":\"requests\",\"requests_since\":"
		"\"2014-01-01T00:00:00Z\",\"until\":\"2014-02-01T00:00:00Z\"}",
		"{\"step\":\"updates\",\"updates_since\":"
		"\"2014-01-01T00:00:00Z\"}",
	};
	struct conn_batch b;
	struct conn_error e;

	memset(&b, 0, sizeof(b));
	memset(&e, 0, sizeof(e));
	if (connector_care_connect.parse(conf, cursors[updates], r, a, &b,
	    &e) == 0)
		fuzz_batch(&b, updates);
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0', "error");
}

static void
fuzz_reply_parse(const void *conf, const struct conn_response *r,
    struct arena *a)
{
	const char *id = NULL;
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	if (connector_care_connect.reply_parse(conf, r, a, &id, &e) == 0)
		fuzz_check(id != NULL && (strncmp(id, "upd:", 4) == 0 ||
		    strncmp(id, "token:", 6) == 0), "reply id");
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0' &&
		    id == NULL, "reply error");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[2][3] = {
		{ { "endpoint", FUZZ_ENDPOINT }, { "page_size", "2" },
		    { "format", "xml" } },
		{ { "endpoint", FUZZ_ENDPOINT "/" }, { "page_size", "1000" },
		    { "format", "json" } },
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
		conf = connector_care_connect.configure(&a, &set, &e);
		fuzz_check(conf != NULL, "configure");
		fuzz_parse(conf, &fr.r, 0, &a);
		fuzz_parse(conf, &fr.r, 1, &a);
		fuzz_reply_parse(conf, &fr.r, &a);
		arena_free(&a);
	}
	free(fr.copy);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 0;
