/* test_feed: feed_parse bounds, recovery, encodings, authors, refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "feed.h"

static int
parse(struct feed *f, struct arena *a, const char *doc, const char *cs)
{
	return feed_parse(f, doc, strlen(doc), cs, a);
}

/* An RSS 2.0 document with n items, each with the given description. */
static char *
rss_with(size_t n, const char *desc)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	buf_puts(&b, "<rss version=\"2.0\"><channel><title>t</title>");
	for (i = 0; i < n; i++)
		buf_printf(&b, "<item><guid>g%zu</guid><description>%s"
		    "</description></item>", i, desc);
	buf_puts(&b, "</channel></rss>");
	return b.data;
}

static void
test_entry_cap(void **state)
{
	struct arena a;
	struct feed f;
	char *doc = rss_with(FEED_MAX_ENTRIES + 5, "x");

	(void)state;
	arena_init(&a);
	assert_int_equal(parse(&f, &a, doc, NULL), 0);
	assert_int_equal(f.nentries, FEED_MAX_ENTRIES);
	assert_true(f.truncated);
	assert_string_equal(f.entries[FEED_MAX_ENTRIES - 1].id, "g9999");
	arena_free(&a);
	free(doc);
}

/* One field holds at most FEED_MAX_TEXT bytes, cut between characters. */
static void
test_text_cap(void **state)
{
	size_t n = FEED_MAX_TEXT + 7, i;
	char *big = malloc(n + 1), *doc;
	struct arena a;
	struct feed f;
	const char *s;

	(void)state;
	/* 'a' then two-byte characters, so the cap falls inside one. */
	big[0] = 'a';
	for (i = 1; i + 1 < n; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);
	big[i] = '\0';
	doc = rss_with(1, big);
	arena_init(&a);
	assert_int_equal(parse(&f, &a, doc, NULL), 0);
	s = f.entries[0].summary;
	assert_true(strlen(s) <= FEED_MAX_TEXT);
	assert_true(strlen(s) >= FEED_MAX_TEXT - 1);
	assert_true(((unsigned char)s[strlen(s) - 1] & 0xc0) == 0x80);
	arena_free(&a);
	free(doc);
	free(big);
}

/* Recovery keeps entries whose end tag came, and drops the cut one. */
static void
test_recovery(void **state)
{
	static const char doc[] = "<rss version=\"2.0\"><channel>"
	    "<item><guid>a</guid></item><item><guid>b</guid></item>"
	    "<item><title>cut</title><guid>c";
	static const char junk[] = "<rss><channel><item><guid>a</guid>"
	    "</item></chanel></rss>";
	struct arena a;
	struct feed f;

	(void)state;
	arena_init(&a);
	assert_int_equal(parse(&f, &a, doc, NULL), 0);
	assert_true(f.bozo);
	assert_true(f.recovered);
	assert_int_equal(f.nentries, 2);
	assert_string_equal(f.entries[1].id, "b");
	assert_non_null(strstr(f.error, "line 1:"));
	assert_int_equal(parse(&f, &a, junk, NULL), 0);
	assert_true(f.bozo);
	assert_int_equal(f.nentries, 1);
	arena_free(&a);
}

static void
test_encodings(void **state)
{
	static const char latin1[] = "<rss><channel><title>caf\xe9</title>"
	    "</channel></rss>";
	static const char declared[] = "<?xml version=\"1.0\" encoding="
	    "\"UTF-8\"?><rss><channel><title>caf\xc3\xa9</title></channel>"
	    "</rss>";
	static const char bom[] = "\xef\xbb\xbf<?xml version=\"1.0\" "
	    "encoding=\"ISO-8859-1\"?><rss><channel><title>caf\xc3\xa9"
	    "</title></channel></rss>";
	struct arena a;
	struct feed f;

	(void)state;
	arena_init(&a);
	/* The HTTP charset, when the bytes say nothing themselves. */
	assert_int_equal(parse(&f, &a, latin1, "ISO-8859-1"), 0);
	assert_string_equal(f.title, "caf\xc3\xa9");
	assert_false(f.bozo);
	/* Without it, Latin-1 is not UTF-8: bozo. */
	assert_int_equal(parse(&f, &a, latin1, NULL), 0);
	assert_true(f.bozo);
	/* A declaration beats the HTTP charset; a BOM beats both. */
	assert_int_equal(parse(&f, &a, declared, "ISO-8859-1"), 0);
	assert_string_equal(f.title, "caf\xc3\xa9");
	assert_int_equal(parse(&f, &a, bom, NULL), 0);
	assert_string_equal(f.title, "caf\xc3\xa9");
	/* A charset name that is no name is ignored. */
	assert_int_equal(parse(&f, &a, declared, "x\"; evil"), 0);
	assert_false(f.bozo);
	arena_free(&a);
}

static void
test_authors(void **state)
{
	static const struct {
		const char	*in;
		const char	*name;
		const char	*email;
	} cases[] = {
		{ "Jo Bloggs", "Jo Bloggs", NULL },
		{ "jo@example.com", NULL, "jo@example.com" },
		{ "jo@example.com (Jo Bloggs)", "Jo Bloggs",
		    "jo@example.com" },
		{ "Jo Bloggs (jo@example.com)", "Jo Bloggs",
		    "jo@example.com" },
		{ "Jo Bloggs &lt;jo@example.com&gt;", "Jo Bloggs",
		    "jo@example.com" },
		{ "mailto:jo@example.com", NULL, "jo@example.com" },
		{ "  Jo  ", "Jo", NULL },
	};
	struct arena a;
	struct feed f;
	char *doc;
	size_t i;

	(void)state;
	arena_init(&a);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (asprintf(&doc, "<rss><channel><item><author>%s</author>"
		    "</item></channel></rss>", cases[i].in) < 0)
			fail();
		assert_int_equal(parse(&f, &a, doc, NULL), 0);
		assert_int_equal(f.nentries, 1);
		if (cases[i].name == NULL)
			assert_null(f.entries[0].author.name);
		else
			assert_string_equal(f.entries[0].author.name,
			    cases[i].name);
		if (cases[i].email == NULL)
			assert_null(f.entries[0].author.email);
		else
			assert_string_equal(f.entries[0].author.email,
			    cases[i].email);
		free(doc);
	}
	arena_free(&a);
}

/* What is no feed: -1, with the root named when there is one. */
static void
test_refusals(void **state)
{
	static const char bomb[] = "<!DOCTYPE rss [<!ENTITY a \"aaaaaaaaaa\">"
	    "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
	    "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">"
	    "<!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">"
	    "<!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">"
	    "<!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">"
	    "<!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">"
	    "<!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">]>"
	    "<rss><channel><item><guid>x</guid><title>&h;</title></item>"
	    "</channel></rss>";
	struct arena a;
	struct feed f;

	(void)state;
	arena_init(&a);
	assert_int_equal(parse(&f, &a, "<html><head><title>x</title></head>"
	    "</html>", NULL), -1);
	assert_string_equal(f.root, "html");
	assert_int_equal(parse(&f, &a, "{\"items\": []}", NULL), -1);
	assert_null(f.root);
	assert_true(f.bozo);
	assert_int_equal(feed_parse(&f, "", 0, NULL, &a), -1);
	/* Entities that multiply: refused outright, nothing salvaged. */
	assert_int_equal(parse(&f, &a, bomb, NULL), -1);
	assert_true(f.bozo);
	assert_false(f.recovered);
	assert_non_null(strstr(f.error, "entity"));
	arena_free(&a);
}

static void
test_base64(void **state)
{
	static const struct {
		const char	*content;
		const char	*want;	/* NULL: no content */
	} cases[] = {
		{ "SGVsbG8=", "Hello" },
		{ " SGVs\nbG8= ", "Hello" },
		{ "SGVsbG8", "Hello" },
		{ "SGV*bG8=", NULL },		/* not base64 */
		{ "AP8A", NULL },		/* NUL bytes: not text */
		{ "/w==", NULL },		/* 0xff: not UTF-8 */
	};
	struct arena a;
	struct feed f;
	char *doc;
	size_t i;

	(void)state;
	arena_init(&a);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (asprintf(&doc, "<feed xmlns=\"http://www.w3.org/2005/"
		    "Atom\"><entry><content type=\"application/octet-"
		    "stream\">%s</content></entry></feed>",
		    cases[i].content) < 0)
			fail();
		assert_int_equal(parse(&f, &a, doc, NULL), 0);
		if (cases[i].want == NULL)
			assert_null(f.entries[0].content);
		else
			assert_string_equal(f.entries[0].content,
			    cases[i].want);
		free(doc);
	}
	arena_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_entry_cap),
		cmocka_unit_test(test_text_cap),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_encodings),
		cmocka_unit_test(test_authors),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_base64),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
