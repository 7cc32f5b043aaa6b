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

#define FUZZ_MAX_HEADERS	16
#define FUZZ_ENDPOINT		"https://fuzz.example.org/open311"

extern const struct connector connector_care_connect;

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct fuzz_resp {
	struct conn_response	r;
	struct conn_header	hdr[FUZZ_MAX_HEADERS];
	char			*copy;	/* owned: NUL-terminated input */
};

static void
fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_care_connect: broken invariant: %s\n",
		    what);
		abort();
	}
}

/* Text a reader sees: no controls (but newline in bodies), bounded. */
static void
fuzz_text(const char *s, size_t max, int lines, const char *what)
{
	size_t i, n;

	if (s == NULL)
		return;
	n = strlen(s);
	fuzz_check(n > 0 && n <= max, what);
	for (i = 0; i < n; i++)
		fuzz_check((unsigned char)s[i] >= 0x20 ||
		    (lines && s[i] == '\n'), what);
}

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

/* "HTTP/1.1 200 OK", headers, blank line, body; cut in place. */
static void
fuzz_http(struct fuzz_resp *fr, char *p, char *end)
{
	char *nl, *colon;

	fr->r.status = strtol(p + strcspn(p, " "), NULL, 10);
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		if (*p == '\0' && p != fr->copy) {
			p = nl + 1;
			break;
		}
		if ((colon = strchr(p, ':')) != NULL &&
		    fr->r.nheaders < FUZZ_MAX_HEADERS && p != fr->copy) {
			*colon = '\0';
			fr->hdr[fr->r.nheaders].name = p;
			fr->hdr[fr->r.nheaders++].value = colon + 1 +
			    strspn(colon + 1, " \t");
		}
		p = nl + 1;
	}
	fr->r.body = p;
	fr->r.body_len = (size_t)(end - p);
}

static void
fuzz_response(struct fuzz_resp *fr, const uint8_t *data, size_t size)
{
	memset(fr, 0, sizeof(*fr));
	fr->copy = malloc(size + 1);
	fuzz_check(fr->copy != NULL, "malloc");
	memcpy(fr->copy, data, size);
	fr->copy[size] = '\0';
	fr->r.headers = fr->hdr;
	if (size > 5 && memcmp(data, "HTTP/", 5) == 0) {
		fuzz_http(fr, fr->copy, fr->copy + size);
		return;
	}
	fr->r.status = 200;
	fr->r.body = fr->copy;
	fr->r.body_len = size;
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

	fuzz_response(&fr, data, size);
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
