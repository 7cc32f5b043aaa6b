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

#define FUZZ_MAX_HEADERS	16

extern const struct connector connector_rss;

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
		fprintf(stderr, "fuzz_rss: broken invariant: %s\n", what);
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
	fr->r.effective_url = "https://fuzz.example.org/feed.xml";
	if (size > 5 && memcmp(data, "HTTP/", 5) == 0) {
		fuzz_http(fr, fr->copy, fr->copy + size);
		return;
	}
	fr->r.status = 200;
	fr->r.body = fr->copy;
	fr->r.body_len = size;
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
	fuzz_response(&fr, data, size);
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
