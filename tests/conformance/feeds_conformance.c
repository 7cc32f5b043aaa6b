/* feeds_conformance: feed_parse against the feedparser-derived corpus. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "date.h"
#include "feed.h"

/* Below this share of expectations met, the test fails. */
#define PASS_PERMILLE	990

struct tally {
	size_t	met;
	size_t	total;
};

/* A value as found: absent, a string, or a boolean. */
struct got {
	int		 present;
	const char	*s;
	char		 date[DATE_ISO_SIZE];
};

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *p = NULL;
	long n;

	if (fp == NULL)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) &&
	    fread(p, 1, (size_t)n, fp) == (size_t)n) {
		p[n] = '\0';
		*len = (size_t)n;
	} else {
		free(p);
		p = NULL;
	}
	fclose(fp);
	return p;
}

static void
got_str(struct got *g, const char *s)
{
	g->present = s != NULL;
	g->s = s;
}

static void
got_date(struct got *g, int has, int64_t t)
{
	g->present = has;
	if (has && date_format(t, g->date, sizeof(g->date)) == 0)
		g->s = g->date;
	else
		g->s = has ? "(out of range)" : NULL;
}

static int
person_field(const struct feed_person *p, const char *field,
    struct got *g)
{
	if (strcmp(field, "name") == 0)
		got_str(g, p->name);
	else if (strcmp(field, "email") == 0)
		got_str(g, p->email);
	else
		return -1;
	return 0;
}

/* entries[N].<rest>; -1 if the key is not one we know. */
static int
entry_field(const struct feed *f, size_t i, const char *rest,
    struct got *g)
{
	const struct feed_entry *e;
	char field[32];
	size_t k;

	if (i >= f->nentries) {
		g->present = 0;
		return 0;
	}
	e = &f->entries[i];
	if (strncmp(rest, "author.", 7) == 0)
		return person_field(&e->author, rest + 7, g);
	if (sscanf(rest, "authors[%zu].%31s", &k, field) == 2) {
		if (k >= e->nauthors) {
			g->present = 0;
			return 0;
		}
		return person_field(&e->authors[k], field, g);
	}
	if (strcmp(rest, "id") == 0)
		got_str(g, e->id);
	else if (strcmp(rest, "title") == 0)
		got_str(g, e->title);
	else if (strcmp(rest, "link") == 0)
		got_str(g, e->link);
	else if (strcmp(rest, "summary") == 0)
		got_str(g, e->summary);
	else if (strcmp(rest, "content") == 0)
		got_str(g, e->content);
	else if (strcmp(rest, "published") == 0)
		got_date(g, e->has_published, e->published);
	else if (strcmp(rest, "updated") == 0)
		got_date(g, e->has_updated, e->updated);
	else
		return -1;
	return 0;
}

static int
lookup(const struct feed *f, const char *key, struct got *g)
{
	size_t i;
	int n = 0;

	memset(g, 0, sizeof(*g));
	if (strcmp(key, "feed.title") == 0)
		got_str(g, f->title);
	else if (strcmp(key, "feed.link") == 0)
		got_str(g, f->link);
	else if (sscanf(key, "entries[%zu].%n", &i, &n) == 1 && n > 0)
		return entry_field(f, i, key + n, g);
	else
		return -1;
	return 0;
}

static void
show(const char *s)
{
	if (s == NULL) {
		printf("(absent)");
		return;
	}
	putchar('"');
	for (; *s != '\0'; s++)
		if (*s == '\n')
			printf("\\n");
		else if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else
			putchar(*s);
	putchar('"');
}

/* One expectation; prints it if it fails. 1 met, 0 not. */
static int
check(const char *file, const struct feed *f, int parsed,
    const char *key, json_t *want)
{
	const char *ws = json_string_value(want);
	struct got g;

	if (strcmp(key, "bozo") == 0) {
		if (json_boolean_value(want) == (!parsed || f->bozo))
			return 1;
		printf("FAIL %s: bozo: expected %s, got %s (%s)\n", file,
		    json_is_true(want) ? "true" : "false",
		    json_is_true(want) ? "false" : "true", f->error);
		return 0;
	}
	if (lookup(f, key, &g) == -1) {
		printf("FAIL %s: %s: unknown key\n", file, key);
		return 0;
	}
	if (json_is_null(want) ? !g.present :
	    ws != NULL && g.present && strcmp(ws, g.s) == 0)
		return 1;
	printf("FAIL %s: %s: expected ", file, key);
	show(ws);
	printf(", got ");
	show(g.present ? g.s : NULL);
	printf("\n");
	return 0;
}

static void
run_case(const char *dir, json_t *c, struct tally *t)
{
	const char *file = json_string_value(json_object_get(c, "file"));
	const char *key;
	struct arena a;
	struct feed f;
	json_t *want;
	char *path, *bytes;
	size_t len = 0;
	int parsed;

	if (asprintf(&path, "%s/%s", dir, file) < 0)
		abort();
	if ((bytes = slurp(path, &len)) == NULL) {
		printf("FAIL %s: cannot read: %s\n", path, strerror(errno));
		t->total += json_object_size(json_object_get(c, "expect"));
		free(path);
		return;
	}
	arena_init(&a);
	parsed = feed_parse(&f, bytes, len, NULL, &a) == 0;
	json_object_foreach(json_object_get(c, "expect"), key, want) {
		t->total++;
		t->met += check(file, &f, parsed, key, want);
	}
	arena_free(&a);
	free(bytes);
	free(path);
}

int
main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : getenv("HEARD_FEEDS_CORPUS");
	struct tally t = { 0, 0 };
	json_error_t err;
	json_t *m, *c;
	char *path;
	size_t i;

	if (dir == NULL) {
		fprintf(stderr, "usage: feeds_conformance CORPUS_DIR\n");
		return 2;
	}
	if (asprintf(&path, "%s/manifest.json", dir) < 0)
		abort();
	if ((m = json_load_file(path, 0, &err)) == NULL ||
	    !json_is_array(m) || json_array_size(m) == 0) {
		fprintf(stderr, "%s: %s\n", path, err.text);
		return 2;
	}
	json_array_foreach(m, i, c)
		run_case(dir, c, &t);
	printf("conformance: %zu of %zu expectations met (%.1f%%)\n", t.met,
	    t.total, 100.0 * (double)t.met / (double)t.total);
	json_decref(m);
	free(path);
	return t.met * 1000 >= t.total * PASS_PERMILLE ? 0 : 1;
}
