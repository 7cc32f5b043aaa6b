/*
 * fuzz_care_opinion: the care-opinion connector's parse and poll on
 * arbitrary bytes.
 *
 * The first byte picks what the rest is: a response (a bare 200 body,
 * or a whole "HTTP/..." response as in the .http golden cases) to the
 * request one of several cursors names; a saved cursor itself; or the
 * Markdown body of a story. Whatever comes out must hold up: items
 * well formed and bounded, the cursor JSON, and the next request the
 * very one that cursor names when polled. Anything else aborts.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <ctype.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "fuzz_util.h"

#define FUZZ_BASE		"https://fuzz.example.org/api/v2"
#define FUZZ_OPINIONS		FUZZ_BASE "/opinions"
#define FUZZ_WEB		"https://fuzz.example.org/"

extern const struct connector connector_care_opinion;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Cursors naming each kind of request the connector makes. */
static const char *const fuzz_cursors[] = {
	NULL,
	"{\"nacs\":\"RXX\",\"since\":\"2026-03-17T08:05:00Z\","
	    "\"rsince\":\"2026-11-17T09:00:00Z\","
	    "\"scan_at\":\"2026-11-17T09:00:00Z\"}",
	"{\"nacs\":\"RXX\",\"pass\":{\"phase\":\"ops\",\"skip\":1,"
	    "\"queue\":[{\"op\":{\"id\":\"1\",\"title\":\"t\"},"
	    "\"full\":true},{\"op\":{\"id\":\"2\"},\"full\":false}]}}",
	"{\"nacs\":\"RXX\",\"pass\":{\"phase\":\"ops\",\"skip\":1,"
	    "\"queue\":[{\"op\":{\"id\":\"1\"},\"full\":true,\"hs\":[]}]}}",
	"{\"nacs\":\"RXX\",\"pass\":{\"phase\":\"scan\",\"skip\":1,"
	    "\"queue\":[{\"op\":{\"id\":\"1\"},\"full\":true,\"hs\":[],"
	    "\"tags\":[]}]},\"scan\":{\"skip\":0}}",
	"{\"nacs\":\"RXX\",\"rsince\":\"2026-11-17T09:00:00Z\","
	    "\"pass\":{\"phase\":\"resp\",\"skip\":0,\"queue\":[],"
	    "\"after\":\"2026-11-17T09:00:00Z\"}}",
	"{\"nacs\":\"RXX\",\"pass\":{\"phase\":\"resp\",\"skip\":2,"
	    "\"queue\":[{\"resp\":{\"id\":\"9\"},\"of\":\"1\"},"
	    "{\"resp\":{\"id\":\"10\"},\"of\":\"2\"}]}}",
	"{\"nacs\":\"RXX\",\"scan_at\":\"2026-01-01T00:00:00Z\","
	    "\"rsince\":\"2026-11-17T09:00:00Z\",\"pass\":{\"phase\":"
	    "\"resp\",\"skip\":0,\"queue\":[]}}",
};
#define FUZZ_NCURSORS	(sizeof(fuzz_cursors) / sizeof(fuzz_cursors[0]))

static const char fuzz_listing[] =
    "[{\"id\":1,\"title\":\"t\",\"dateOfPublication\":"
    "\"2026-03-17T08:05:00Z\",\"tags\":[],\"healthServices\":[]}]";

static void
fuzz_id(const char *s, const char *what)
{
	size_t i, n = strlen(s);

	fuzz_check(n > 0 && n <= 40, what);
	for (i = 0; i < n; i++)
		fuzz_check(isalnum((unsigned char)s[i]) || s[i] == '-' ||
		    s[i] == '_', what);
}

static void
fuzz_item(const void *conf, const struct conn_item *it, struct arena *a)
{
	int story = strncmp(it->external_id, "op:", 3) == 0;
	const char *h;
	size_t i;

	fuzz_check(story || strncmp(it->external_id, "resp:", 5) == 0,
	    "external_id");
	fuzz_id(it->external_id + (story ? 3 : 5), "external_id");
	fuzz_check(it->thread_key != NULL &&
	    strncmp(it->thread_key, "op:", 3) == 0, "thread_key");
	fuzz_id(it->thread_key + 3, "thread_key");
	fuzz_check(story ? it->dir == ITEM_IN && it->parent_id == NULL &&
	    strcmp(it->thread_key, it->external_id) == 0 :
	    it->dir == ITEM_OUT && it->parent_id != NULL &&
	    strcmp(it->parent_id, it->thread_key) == 0, "direction");
	fuzz_text(it->title, 500, 0, "title");
	fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->channel_status, 200, 0, "channel_status");
	fuzz_check(it->url != NULL && strncmp(it->url, FUZZ_WEB,
	    strlen(FUZZ_WEB)) == 0, "url");
	fuzz_check(it->rating == ITEM_NO_RATING, "rating");
	if (it->org_hint != NULL) {
		fuzz_check(strlen(it->org_hint) <= 32, "org_hint");
		for (i = 0; it->org_hint[i] != '\0'; i++)
			fuzz_check(isdigit((unsigned char)it->org_hint[i]) ||
			    isupper((unsigned char)it->org_hint[i]),
			    "org_hint");
	}
	if (it->meta != NULL)
		fuzz_json_object(it->meta, "meta");
	h = connector_care_opinion.handoff_url(conf, it->thread_key, a);
	fuzz_check(h != NULL && strncmp(h, FUZZ_WEB, strlen(FUZZ_WEB)) == 0,
	    "handoff_url");
}

static void
fuzz_request(const struct conn_request *r, const char *what)
{
	fuzz_check(r->url != NULL && strncmp(r->url, FUZZ_BASE "/",
	    strlen(FUZZ_BASE) + 1) == 0, what);
	fuzz_check(r->nheaders >= 1 && strcmp(r->headers[0],
	    "Authorization: SUBSCRIPTION_KEY fuzz-key") == 0, what);
}

/* The saved cursor must name the very request the batch asks next. */
static void
fuzz_batch(const void *conf, const struct conn_batch *b, struct arena *a)
{
	struct conn_request again;
	struct conn_error e;
	size_t i;

	fuzz_check(b->nitems <= 100 * 101, "nitems");
	for (i = 0; i < b->nitems; i++)
		fuzz_item(conf, &b->items[i], a);
	fuzz_check(b->cursor != NULL, "cursor");
	if (b->cursor != NULL)
		fuzz_json_object(b->cursor, "cursor");
	if (b->next == NULL)
		return;
	fuzz_request(b->next, "next");
	memset(&e, 0, sizeof(e));
	fuzz_check(connector_care_opinion.poll(conf, b->cursor, a, &again,
	    &e) == 0, "poll the saved cursor");
	fuzz_check(strcmp(again.url, b->next->url) == 0, "cursor names next");
}

/* A story listing whose one story has the input as its body. */
static char *
fuzz_story(const uint8_t *data, size_t size)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_puts(&b, "[{\"id\":7,\"tags\":[],\"healthservices\":[],"
	    "\"body\":\"");
	for (i = 0; i < size; i++) {
		if (data[i] == '"' || data[i] == '\\')
			buf_printf(&b, "\\%c", data[i]);
		else if (data[i] < 0x20)
			buf_printf(&b, "\\u%04x", data[i]);
		else
			buf_append(&b, &data[i], 1);
	}
	buf_puts(&b, "\"}]");
	return b.data;
}

static void
fuzz_parse(const void *conf, const char *cursor, struct fuzz_resp *fr,
    struct arena *a)
{
	struct conn_request req;
	struct conn_batch b;
	struct conn_error e;

	memset(&e, 0, sizeof(e));
	fuzz_check(connector_care_opinion.poll(conf, cursor, a, &req,
	    &e) == 0, "poll");
	fuzz_request(&req, "request");
	memset(&b, 0, sizeof(b));
	if (connector_care_opinion.parse(conf, cursor, &fr->r, a, &b,
	    &e) == 0)
		fuzz_batch(conf, &b, a);
	else
		fuzz_check(e.code != CONN_OK && e.msg[0] != '\0', "error");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct conn_kv kv[] = {
		{ "url", FUZZ_BASE "/" },
		{ "subscription_key", "fuzz-key" },
		{ "nacs", "RXX,ryy" },
		{ "take", "3" },
	};
	struct conn_settings set = { kv, sizeof(kv) / sizeof(kv[0]) };
	struct fuzz_resp fr;
	struct conn_error e;
	struct arena a;
	const void *conf;
	char *text = NULL;
	size_t mode;

	if (size == 0)
		return 0;
	mode = data[0] % (FUZZ_NCURSORS + 2);
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	conf = connector_care_opinion.configure(&a, &set, &e);
	fuzz_check(conf != NULL, "configure");
	if (mode < FUZZ_NCURSORS) {
		fuzz_response(&fr, data + 1, size - 1, FUZZ_OPINIONS);
		fuzz_parse(conf, fuzz_cursors[mode], &fr, &a);
	} else if (mode == FUZZ_NCURSORS) {
		text = strndup((const char *)data + 1, size - 1);
		fuzz_response(&fr, (const uint8_t *)fuzz_listing,
		    sizeof(fuzz_listing) - 1, FUZZ_OPINIONS);
		fuzz_parse(conf, text, &fr, &a);
	} else {
		text = fuzz_story(data + 1, size - 1);
		fuzz_response(&fr, (const uint8_t *)text, strlen(text),
		    FUZZ_OPINIONS);
		fuzz_parse(conf, fuzz_cursors[1], &fr, &a);
	}
	free(text);
	free(fr.copy);
	arena_free(&a);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = FUZZ_NCURSORS + 2;
