/*
 * golden: replays recorded responses through a connector's configure,
 * poll and parse, and diffs the canonical dump with <case>.expected.
 *
 *	connector_golden [-u] CONNECTOR DIR
 *
 * A case is DIR/<case>.http (status line, headers, blank line, body)
 * or DIR/<case>.xml (a bare 200 body), or DIR/<case>.webhook (a
 * delivery the channel pushed, through webhook_parse), with optional
 * DIR/<case>.settings
 * (key=value lines; default url=https://feeds.example.org/feed.xml) and
 * DIR/<case>.cursor (the saved cursor). -u, or HEARD_GOLDEN_UPDATE=1,
 * rewrites the .expected files: read every one of them before a commit.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "date.h"
#include "registry.h"

#define GOLDEN_MAX_KV		32
#define GOLDEN_DEFAULT_URL	"https://feeds.example.org/feed.xml"

struct golden_case {
	char			*body;		/* owned: the whole file */
	size_t			 body_len;
	long			 status;
	struct conn_header	 hdr[64];	/* into body */
	size_t			 nhdr;
	char			*settings;	/* owned, or NULL */
	struct conn_kv		 kv[GOLDEN_MAX_KV];
	size_t			 nkv;
	char			*cursor;	/* owned, or NULL */
	const char		*payload;	/* into body */
	size_t			 payload_len;
	int			 webhook;	/* a .webhook case */
};

static char *
golden_slurp(const char *path, size_t *len)
{
	struct buf b;
	FILE *fp;
	char chunk[65536];
	size_t n;

	if ((fp = fopen(path, "rb")) == NULL)
		return NULL;
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	if (len != NULL)
		*len = b.len;
	return b.data;
}

/* One header line, cut in place; -1 if it has no colon. */
static int
golden_header(struct golden_case *c, char *line)
{
	char *colon = strchr(line, ':'), *v;

	if (colon == NULL || c->nhdr >= sizeof(c->hdr) / sizeof(c->hdr[0]))
		return -1;
	*colon = '\0';
	for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
		;
	c->hdr[c->nhdr].name = line;
	c->hdr[c->nhdr].value = v;
	c->nhdr++;
	return 0;
}

/* Next line of the head, NUL-terminated in place, CR dropped. */
static char *
golden_line(char **p, char *end)
{
	char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));

	if (nl == NULL)
		return NULL;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return line;
}

/* "HTTP/1.1 200 OK", headers, blank line, body; -1 if malformed. */
static int
golden_http(struct golden_case *c)
{
	char *p = c->body, *end = c->body + c->body_len, *line;

	if ((line = golden_line(&p, end)) == NULL ||
	    sscanf(line, "HTTP/%*s %ld", &c->status) != 1)
		return -1;
	while ((line = golden_line(&p, end)) != NULL && line[0] != '\0')
		if (golden_header(c, line) == -1)
			return -1;
	if (line == NULL)
		return -1;
	c->payload = p;
	c->payload_len = (size_t)(end - p);
	return 0;
}

static void
golden_settings(struct golden_case *c, const char *base)
{
	char *path, *line, *save = NULL, *eq;

	if (asprintf(&path, "%s.settings", base) < 0)
		abort();
	c->settings = golden_slurp(path, NULL);
	free(path);
	if (c->settings == NULL) {
		c->kv[c->nkv].key = "url";
		c->kv[c->nkv++].value = GOLDEN_DEFAULT_URL;
		return;
	}
	for (line = strtok_r(c->settings, "\n", &save); line != NULL &&
	    c->nkv < GOLDEN_MAX_KV; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || (eq = strchr(line, '=')) == NULL)
			continue;
		*eq = '\0';
		c->kv[c->nkv].key = line;
		c->kv[c->nkv++].value = eq + 1;
	}
}

static void
golden_cursor(struct golden_case *c, const char *base)
{
	char *path;
	size_t n = 0;

	if (asprintf(&path, "%s.cursor", base) < 0)
		abort();
	c->cursor = golden_slurp(path, &n);
	free(path);
	while (c->cursor != NULL && n > 0 && c->cursor[n - 1] == '\n')
		c->cursor[--n] = '\0';
}

static int
golden_load(struct golden_case *c, const char *dir, const char *file)
{
	char *path, *base;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (asprintf(&path, "%s/%s", dir, file) < 0)
		abort();
	base = strndup(path, strrchr(path, '.') - path);
	if ((c->body = golden_slurp(path, &c->body_len)) == NULL)
		rc = -1;
	else if (strcmp(strrchr(file, '.'), ".http") == 0)
		rc = golden_http(c);
	else {
		c->webhook = strcmp(strrchr(file, '.'), ".webhook") == 0;
		c->status = 200;
		c->payload = c->body;
		c->payload_len = c->body_len;
	}
	if (rc == 0) {
		golden_settings(c, base);
		golden_cursor(c, base);
	}
	free(path);
	free(base);
	return rc;
}

static void
golden_free(struct golden_case *c)
{
	free(c->body);
	free(c->settings);
	free(c->cursor);
}

/* A string, quoted, every byte a reader could miss escaped. */
static void
golden_str(struct buf *out, const char *key, const char *s)
{
	const unsigned char *p;

	buf_printf(out, "%s: ", key);
	if (s == NULL) {
		buf_puts(out, "(null)\n");
		return;
	}
	buf_puts(out, "\"");
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\n')
			buf_puts(out, "\\n");
		else if (*p == '\t')
			buf_puts(out, "\\t");
		else if (*p == '"' || *p == '\\')
			buf_printf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			buf_printf(out, "\\x%02x", *p);
		else
			buf_append(out, p, 1);
	}
	buf_puts(out, "\"\n");
}

static void
golden_time(struct buf *out, const char *key, int64_t t)
{
	char iso[DATE_ISO_SIZE];

	if (t == 0)
		buf_printf(out, "%s: 0\n", key);
	else if (date_format(t, iso, sizeof(iso)) == 0)
		buf_printf(out, "%s: %s\n", key, iso);
	else
		buf_printf(out, "%s: %lld\n", key, (long long)t);
}

static void
golden_request(struct buf *out, const char *what,
    const struct conn_request *r)
{
	size_t i;

	buf_printf(out, "%s: %s %s\n", what, r->method, r->url);
	for (i = 0; i < r->nheaders; i++)
		golden_str(out, "  header", r->headers[i]);
	if (r->body != NULL)
		golden_str(out, "  body", r->body);
}

static void
golden_item(struct buf *out, size_t i, const struct conn_item *it)
{
	buf_printf(out, "item %zu\n", i);
	golden_str(out, "  external_id", it->external_id);
	golden_str(out, "  thread_key", it->thread_key);
	golden_str(out, "  parent_id", it->parent_id);
	buf_printf(out, "  dir: %s\n", it->dir == ITEM_IN ? "in" : "out");
	golden_str(out, "  author_name", it->author_name);
	golden_str(out, "  author_handle", it->author_handle);
	golden_str(out, "  title", it->title);
	golden_str(out, "  body", it->body);
	golden_str(out, "  url", it->url);
	buf_printf(out, "  rating: %d\n", it->rating);
	golden_str(out, "  channel_status", it->channel_status);
	golden_time(out, "  created_at", it->created_at);
	golden_time(out, "  updated_at", it->updated_at);
	golden_str(out, "  org_hint", it->org_hint);
	buf_printf(out, "  removed: %d\n", it->removed);
	golden_str(out, "  meta", it->meta);
	golden_str(out, "  thread_status", it->thread_status);
	/* Only where a channel gives one, so older cases stay as they were. */
	if (it->reference != NULL)
		golden_str(out, "  reference", it->reference);
}

static void
golden_batch(struct buf *out, const struct conn_batch *b)
{
	size_t i;

	buf_printf(out, "not_modified: %d\n", b->not_modified);
	buf_printf(out, "min_interval: %ld\n", b->min_interval);
	golden_str(out, "cursor", b->cursor);
	golden_str(out, "title", b->title);
	if (b->next != NULL)
		golden_request(out, "next", b->next);
	buf_printf(out, "items: %zu\n", b->nitems);
	for (i = 0; i < b->nitems; i++)
		golden_item(out, i, &b->items[i]);
}

static void
golden_error(struct buf *out, const char *what, const struct conn_error *e)
{
	buf_printf(out, "%s: error %s (retry_after %ld)\n", what,
	    conn_err_name(e->code), e->retry_after);
	golden_str(out, "  message", e->msg);
}

/* A connector must leave its outputs alone when it fails. */
static int
golden_untouched(struct buf *out, const void *p, size_t n)
{
	const unsigned char *u = p;
	size_t i;

	for (i = 0; i < n; i++)
		if (u[i] != 0xa5) {
			buf_puts(out, "BUG: outputs changed on failure\n");
			return -1;
		}
	return 0;
}

static void
golden_parse(struct buf *out, const struct connector *cn, const void *conf,
    const struct golden_case *c, struct arena *a)
{
	struct conn_response r;
	struct conn_batch b;
	struct conn_error e;

	memset(&r, 0, sizeof(r));
	r.status = c->status;
	r.body = c->payload;
	r.body_len = c->payload_len;
	r.headers = c->hdr;
	r.nheaders = c->nhdr;
	r.effective_url = conn_settings_get(&(struct conn_settings){ c->kv,
	    c->nkv }, "url");
	memset(&e, 0, sizeof(e));
	memset(&b, 0xa5, sizeof(b));
	if (cn->parse(conf, c->cursor, &r, a, &b, &e) == 0) {
		buf_puts(out, "parse: ok\n");
		golden_batch(out, &b);
		return;
	}
	golden_error(out, "parse", &e);
	golden_untouched(out, &b, sizeof(b));
}

/* A pushed delivery through webhook_parse. */
static void
golden_webhook(struct buf *out, const struct connector *cn,
    const void *conf, const struct golden_case *c, struct arena *a)
{
	struct conn_batch b;
	struct conn_error e;

	buf_printf(out, "webhook: %zu bytes\n", c->payload_len);
	if (cn->webhook_parse == NULL) {
		buf_puts(out, "webhook: the connector takes none\n");
		return;
	}
	memset(&e, 0, sizeof(e));
	memset(&b, 0xa5, sizeof(b));
	if (cn->webhook_parse(conf, c->payload, c->payload_len, a, &b,
	    &e) == 0) {
		buf_puts(out, "webhook: ok\n");
		golden_batch(out, &b);
		return;
	}
	golden_error(out, "webhook", &e);
	golden_untouched(out, &b, sizeof(b));
}

/* The whole dump of one case. */
static void
golden_run(struct buf *out, const struct connector *cn,
    const struct golden_case *c)
{
	struct conn_settings set = { c->kv, c->nkv };
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	void *conf;

	arena_init(&a);
	memset(&e, 0, sizeof(e));
	if ((conf = cn->configure(&a, &set, &e)) == NULL) {
		golden_error(out, "configure", &e);
		arena_free(&a);
		return;
	}
	if (c->webhook) {
		golden_webhook(out, cn, conf, c, &a);
		arena_free(&a);
		return;
	}
	golden_str(out, "cursor in", c->cursor);
	memset(&req, 0xa5, sizeof(req));
	if (cn->poll(conf, c->cursor, &a, &req, &e) == 0)
		golden_request(out, "request", &req);
	else {
		golden_error(out, "poll", &e);
		golden_untouched(out, &req, sizeof(req));
	}
	buf_printf(out, "response: %ld, %zu headers, %zu bytes\n", c->status,
	    c->nhdr, c->payload_len);
	golden_parse(out, cn, conf, c, &a);
	arena_free(&a);
}

static int
golden_write(const char *path, const struct buf *b)
{
	FILE *fp = fopen(path, "wb");
	int rc = 0;

	if (fp == NULL || fwrite(b->data, 1, b->len, fp) != b->len)
		rc = -1;
	if (fp != NULL && fclose(fp) != 0)
		rc = -1;
	return rc;
}

/* Prints the first line that differs; 0 if none does. */
static int
golden_diff(const char *name, const char *want, const char *got)
{
	size_t line = 1, n;

	if (want != NULL && strcmp(want, got) == 0)
		return 0;
	if (want == NULL) {
		printf("FAIL %s: no .expected file (run with -u)\n", name);
		return -1;
	}
	while (*want != '\0' && *want == *got) {
		if (*want == '\n')
			line++;
		want++;
		got++;
	}
	while (line > 1 && want[-1] != '\n') {
		want--;
		got--;
	}
	n = strcspn(want, "\n");
	printf("FAIL %s: line %zu\n  want: %.*s\n", name, line, (int)n, want);
	n = strcspn(got, "\n");
	printf("  got:  %.*s\n", (int)n, got);
	return -1;
}

static int
golden_case(const struct connector *cn, const char *dir, const char *file,
    int update)
{
	struct golden_case c;
	struct buf out;
	char *exp_path, *want;
	int rc = 0;

	if (golden_load(&c, dir, file) == -1) {
		printf("FAIL %s: cannot read the case\n", file);
		golden_free(&c);
		return -1;
	}
	buf_init(&out, 0);
	buf_printf(&out, "# %s through %s\n", file, cn->name);
	golden_run(&out, cn, &c);
	if (asprintf(&exp_path, "%s/%.*s.expected", dir,
	    (int)(strrchr(file, '.') - file), file) < 0)
		abort();
	if (update)
		rc = golden_write(exp_path, &out);
	else {
		want = golden_slurp(exp_path, NULL);
		rc = golden_diff(file, want, out.data);
		free(want);
	}
	free(exp_path);
	buf_free(&out);
	golden_free(&c);
	return rc;
}

static int
golden_exists(const char *base, const char *ext)
{
	char *path;
	int ok;

	if (asprintf(&path, "%s%s", base, ext) < 0)
		abort();
	ok = access(path, F_OK) == 0;
	free(path);
	return ok;
}

static int
golden_is_case(const char *name)
{
	const char *dot = strrchr(name, '.');

	return name[0] != '.' && dot != NULL && (strcmp(dot, ".http") == 0 ||
	    strcmp(dot, ".xml") == 0 || strcmp(dot, ".webhook") == 0);
}

/* An .expected file whose case is gone would never be checked. */
static int
golden_orphans(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char *base;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		if (strlen(de->d_name) < 10 || strcmp(de->d_name +
		    strlen(de->d_name) - 9, ".expected") != 0)
			continue;
		if (asprintf(&base, "%s/%.*s", dir,
		    (int)strlen(de->d_name) - 9, de->d_name) < 0)
			abort();
		if (!golden_exists(base, ".http") &&
		    !golden_exists(base, ".xml") &&
		    !golden_exists(base, ".webhook")) {
			printf("FAIL %s: no case for it\n", de->d_name);
			n++;
		}
		free(base);
	}
	closedir(d);
	return n;
}

static int
golden_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Case files in dir, sorted; NULL-terminated, owned by the caller. */
static char **
golden_list(const char *dir, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;

	*n = 0;
	if (d == NULL)
		return NULL;
	while ((de = readdir(d)) != NULL) {
		if (!golden_is_case(de->d_name))
			continue;
		names = realloc(names, (*n + 2) * sizeof(*names));
		if (names == NULL)
			abort();
		names[(*n)++] = strdup(de->d_name);
	}
	closedir(d);
	if (names != NULL)
		qsort(names, *n, sizeof(*names), golden_cmp);
	return names;
}

int
main(int argc, char **argv)
{
	const char *env = getenv("HEARD_GOLDEN_UPDATE");
	int update = env != NULL && strcmp(env, "1") == 0, failed = 0, ch;
	const struct connector *cn;
	char **names;
	size_t n, i;

	while ((ch = getopt(argc, argv, "u")) != -1)
		if (ch == 'u')
			update = 1;
		else
			return 2;
	if (argc - optind != 2) {
		fprintf(stderr,
		    "usage: connector_golden [-u] CONNECTOR DIR\n");
		return 2;
	}
	if ((cn = registry_find(argv[optind])) == NULL) {
		fprintf(stderr, "%s: no such connector\n", argv[optind]);
		return 2;
	}
	if ((names = golden_list(argv[optind + 1], &n)) == NULL || n == 0) {
		fprintf(stderr, "%s: no cases\n", argv[optind + 1]);
		return 1;
	}
	for (i = 0; i < n; i++) {
		if (golden_case(cn, argv[optind + 1], names[i], update) == -1)
			failed++;
		free(names[i]);
	}
	free(names);
	failed += golden_orphans(argv[optind + 1]);
	printf("golden %s: %zu cases, %d failed%s\n", cn->name, n, failed,
	    update ? " (expected files rewritten)" : "");
	return failed > 0;
}
