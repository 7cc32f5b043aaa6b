/*
 * fuzz_nhs_choices: the nhs-choices connector's parse and poll on
 * arbitrary bytes.
 *
 * A first byte below 16 picks the settings (every organisation of a
 * type, one ODS code, one Choices organisation) and the cursor (0..14),
 * or says the rest is a saved cursor to poll with (15); any other
 * first byte is the response's own, with the first settings and no
 * cursor. A response is a bare 200 body, or a whole "HTTP/..."
 * response as in the .http golden cases; the replay runs every seed
 * under every choice.
 * Whatever comes out must hold up: items well formed and bounded, the
 * cursor JSON without the key, the next request the very one that
 * cursor names when polled, errors that never show the key. Anything
 * else aborts.
 *
 * Built for libFuzzer with HEARD_FUZZ; otherwise replay.c adds a
 * main() that runs every file under the given directories.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "arena.h"
#include "connector.h"
#include "fuzz_util.h"

#define FUZZ_KEY		"FUZZKEY"
#define FUZZ_ORIGIN		"http://fuzz.example.org"

extern const struct connector connector_nhs_choices;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char *const fuzz_cursors[] = {
	NULL,
	"{\"since\":\"2013-07-16\"}",
	"{\"high\":\"2011-07-01T09:00:00Z\","
	    "\"next\":\"/organisations/hospitals/comments.atom?page=1000\"}",
	"{\"since\":\"2013-05-01\",\"high\":\"2013-05-12T10:00:00Z\","
	    "\"next\":\"/organisations/clinics/commentssince/2013/5/1.atom"
	    "?page=3\"}",
	"{\"since\":\"not a day\",\"next\":\"../../etc\",\"high\":7}",
};

static const struct conn_kv fuzz_kv[3][4] = {
	{ { "apikey", FUZZ_KEY }, { "base_url", FUZZ_ORIGIN },
	    { "org_type", "hospitals" }, { "since", "2013-07-16" } },
	{ { "apikey", FUZZ_KEY }, { "base_url", FUZZ_ORIGIN "/nhs/" },
	    { "org_type", "clinics" }, { "ods_code", "RYQ" } },
	{ { "apikey", FUZZ_KEY }, { "base_url", FUZZ_ORIGIN },
	    { "organisation", "43861" }, { "ods_code", "RYQ30" } },
};

#define FUZZ_ID_SET	"abcdefghijklmnopqrstuvwxyz" \
			"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"

static void
fuzz_item(const struct conn_item *it)
{
	fuzz_check(it->external_id != NULL &&
	    fuzz_word(it->external_id, FUZZ_ID_SET, 1, 64), "external_id");
	fuzz_check(it->thread_key != NULL &&
	    fuzz_word(it->thread_key, FUZZ_ID_SET, 1, 64), "thread_key");
	fuzz_check(it->dir == ITEM_IN || it->dir == ITEM_OUT, "dir");
	fuzz_check(it->dir == ITEM_IN || it->removed ||
	    (it->parent_id != NULL &&
	    strcmp(it->parent_id, it->thread_key) == 0), "reply's parent");
	fuzz_check(!it->removed || (it->title == NULL && it->body == NULL),
	    "a deletion says nothing");
	fuzz_text(it->title, 500, 0, "title");
	fuzz_text(it->body, 64 * 1024, 1, "body");
	fuzz_text(it->author_name, 200, 0, "author");
	fuzz_check(it->rating == ITEM_NO_RATING ||
	    (it->rating >= 1 && it->rating <= 5), "rating");
	fuzz_check(it->url == NULL || strncmp(it->url, "http://", 7) == 0 ||
	    strncmp(it->url, "https://", 8) == 0, "url scheme");
	fuzz_check(it->org_hint == NULL || fuzz_word(it->org_hint,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 3, 10), "org_hint");
	if (it->meta != NULL)
		fuzz_json_object(it->meta, "meta");
}

/* A request URL: ours, clean, the key in it exactly once. */
static void
fuzz_url(const char *url)
{
	const char *k = strstr(url, "apikey=" FUZZ_KEY);

	fuzz_check(strncmp(url, FUZZ_ORIGIN "/", strlen(FUZZ_ORIGIN) + 1) ==
	    0, "request to our origin");
	fuzz_check(strpbrk(url, " \t\r\n#") == NULL, "clean url");
	fuzz_check(k != NULL && strstr(k + 1, "apikey=") == NULL &&
	    (k[-1] == '?' || k[-1] == '&') && k[14] == '\0', "key once");
}

/* The page in flight is saved without an apikey parameter. */
static void
fuzz_no_key(const char *cursor)
{
	json_t *v = json_loads(cursor, 0, NULL);
	const char *p = json_string_value(json_object_get(v, "next"));

	for (p = p != NULL ? strchr(p, '?') : NULL; p != NULL;
	    p = strchr(p + 1, '&'))
		fuzz_check(strncasecmp(p + 1, "apikey=", 7) != 0 &&
		    strcasecmp(p + 1, "apikey") != 0 &&
		    strncasecmp(p + 1, "apikey&", 7) != 0, "key in cursor");
	json_decref(v);
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
	fuzz_no_key(b->cursor);
	if (b->next == NULL)
		return;
	fuzz_url(b->next->url);
	memset(&e, 0, sizeof(e));
	fuzz_check(connector_nhs_choices.poll(conf, b->cursor, a, &again,
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
	fuzz_check(connector_nhs_choices.poll(conf, cursor, a, &req, &e) ==
	    0, "poll");
	fuzz_url(req.url);
	memset(&b, 0, sizeof(b));
	if (connector_nhs_choices.parse(conf, cursor, &fr->r, a, &b, &e) ==
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
	conf = connector_nhs_choices.configure(&a, &set, &e);
	fuzz_check(conf != NULL, "configure");
	fuzz_response(&fr, data, size, NULL);
	if (sel == 15) {
		fuzz_check(connector_nhs_choices.poll(conf, fr.copy, &a, &req,
		    &e) == 0, "poll any cursor");
		fuzz_url(req.url);
	} else
		fuzz_parse(conf, fuzz_cursors[sel / 3], &fr, &a);
	free(fr.copy);
	arena_free(&a);
	return 0;
}

/* Replays run each seed once more per value of a leading mode byte. */
const unsigned fuzz_replay_modes = 16;
