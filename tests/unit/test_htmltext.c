/* test_htmltext: HTML and plain text to safe, bounded plain text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "htmltext.h"

struct text_case {
	const char	*in;
	size_t		 max;
	int		 flags;
	const char	*want;
};

static const struct text_case html_cases[] = {
	{ "Hello", 100, 0, "Hello" },
	{ "<p>Hello <b>world</b></p>", 100, 0, "Hello world" },
	{ "<p>One</p><p>Two</p>", 100, 0, "One\n\nTwo" },
	{ "<p>One</p><p>Two</p>", 100, HTMLTEXT_ONELINE, "One Two" },
	{ "a<br>b", 100, 0, "a\nb" },
	{ "a<br/><br/><br/><br/>b", 100, 0, "a\n\nb" },
	{ "<div>a</div><div>b</div>", 100, 0, "a\nb" },
	{ "<h1>Title</h1>Text", 100, 0, "Title\n\nText" },
	{ "<ul><li>one</li><li>two</li></ul>after", 100, 0,
	    "one\ntwo\n\nafter" },
	{ "<blockquote>quoted</blockquote>reply", 100, 0, "quoted\n\nreply" },
	{ "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr>"
	    "</table>", 100, 0, "a b\nc" },
	{ "<b>a</b> <i>b</i>", 100, 0, "a b" },
	{ "<b>a</b><i>b</i>", 100, 0, "ab" },
	{ "  lots \t of\n\n   space  ", 100, 0, "lots of space" },
	{ "<pre>x = 1\ny = 2</pre>z", 100, 0, "x = 1\ny = 2\n\nz" },
	/* Content a reader never sees, and markup that runs code. */
	{ "<script>alert(1)</script>safe", 100, 0, "safe" },
	{ "<style>p { color: red }</style>safe", 100, 0, "safe" },
	{ "<head><title>T</title><meta charset=\"iso-8859-1\"></head>"
	    "<body>caf\xc3\xa9</body>", 100, 0, "caf\xc3\xa9" },
	{ "<img src=x onerror=\"alert(1)\">hi", 100, 0, "hi" },
	{ "<img src=x alt=\"a cat\">hi", 100, 0, "a cat hi" },
	{ "<a href=\"javascript:alert(1)\" onclick=\"x()\">link text</a>",
	    100, 0, "link text" },
	{ "<iframe src=\"http://evil/\">inside</iframe>out", 100, 0, "out" },
	{ "<noscript><img src=track></noscript>ok", 100, 0, "ok" },
	{ "<svg><text>drawn</text></svg>ok", 100, 0, "ok" },
	{ "<!-- a comment -->ok", 100, 0, "ok" },
	/* Entities, and characters that hide or reorder text. */
	{ "Fish &amp; chips &lt;3 &eacute; &#8364; &#x263A;", 100, 0,
	    "Fish & chips <3 \xc3\xa9 \xe2\x82\xac \xe2\x98\xba" },
	{ "a&nbsp;&nbsp;&nbsp;b", 100, 0, "a b" },
	{ "pay &#8238;evil&#8236; now", 100, 0, "pay evil now" },
	{ "zero&#8203;width", 100, 0, "zerowidth" },
	{ "bell\x07here", 100, 0, "bellhere" },
	{ "bad \xff\xfe bytes", 100, 0,
	    "bad \xef\xbf\xbd\xef\xbf\xbd bytes" },
	/* Bounds: a cut ends in U+2026 and never splits a character. */
	{ "<p>aaaa bbbb cccc dddd</p>", 10, 0, "aaaa bb\xe2\x80\xa6" },
	{ "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 6, 0,
	    "\xc3\xa9\xe2\x80\xa6" },
	{ "exactly10!", 10, 0, "exactly10!" },
	{ "<p>one</p><p>two</p>", 6, 0, "one\xe2\x80\xa6" },
	{ "abcdef", 2, 0, "ab" },
	{ "abcdef", 0, 0, "" },
	{ "", 100, 0, "" },
	{ "<p></p><div> </div>", 100, 0, "" },
};

static const struct text_case plain_cases[] = {
	{ "History of the <blink> tag", 100, 0,
	    "History of the <blink> tag" },
	{ "&amp; stays", 100, 0, "&amp; stays" },
	{ "a  b\t\tc", 100, 0, "a b c" },
	{ "line1\nline2\r\n\r\n\r\n\r\nline3", 100, 0,
	    "line1\nline2\n\nline3" },
	{ "line1\nline2", 100, HTMLTEXT_ONELINE, "line1 line2" },
	{ "\n\n  trimmed  \n\n", 100, 0, "trimmed" },
	{ "nul\x01" "and\x1b[31mesc", 100, 0, "nuland[31mesc" },
	{ "c1 \xc2\x85\xc2\x9b x", 100, 0, "c1 x" },
	{ "over\xe2\x80\xaeride", 100, 0, "override" },
	{ "overlong \xc0\xaf and \xed\xa0\x80", 100, 0,
	    "overlong \xef\xbf\xbd\xef\xbf\xbd and "
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "truncated \xe2\x82", 100, 0,
	    "truncated \xef\xbf\xbd\xef\xbf\xbd" },
	{ "0123456789", 5, 0, "01\xe2\x80\xa6" },
};

static void
check_cases(const struct text_case *c, size_t n, int html)
{
	size_t i;
	char *got;

	for (i = 0; i < n; i++) {
		got = html ? htmltext(c[i].in, strlen(c[i].in), c[i].max,
		    c[i].flags) : htmltext_plain(c[i].in, strlen(c[i].in),
		    c[i].max, c[i].flags);
		assert_non_null(got);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("case %zu '%s': got '%s', want '%s'", i,
			    c[i].in, got, c[i].want);
		if (strlen(got) > c[i].max)
			fail_msg("case %zu: %zu bytes over %zu", i,
			    strlen(got), c[i].max);
		free(got);
	}
}

static void
test_html(void **state)
{
	(void)state;
	check_cases(html_cases, sizeof(html_cases) / sizeof(html_cases[0]),
	    1);
}

static void
test_plain(void **state)
{
	(void)state;
	check_cases(plain_cases,
	    sizeof(plain_cases) / sizeof(plain_cases[0]), 0);
}

static void
test_title(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: no title */
	} cases[] = {
		{ "<!DOCTYPE html><html><head><title> Sign\n in </title>"
		    "</head><body>x</body></html>", "Sign in" },
		{ "<title>Fish &amp; chips</title>", "Fish & chips" },
		{ "<html><body><p>no title</p></body></html>", NULL },
		{ "<title>  </title>", NULL },
		{ "", NULL },
	};
	size_t i;
	char *got;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = htmltext_title(cases[i].in, strlen(cases[i].in), 100);
		if (cases[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].want);
		free(got);
	}
}

/* Big or deep input: bounded output, no crash, no stack exhaustion. */
static void
test_bounds(void **state)
{
	const char *unit = "<div><p>paragraph &amp; text</p>";
	size_t n = 100000, ul = strlen(unit), i;
	char *in = malloc(n * ul + 1), *got;

	(void)state;
	assert_non_null(in);
	for (i = 0; i < n; i++)
		memcpy(in + i * ul, unit, ul);
	in[n * ul] = '\0';
	got = htmltext(in, n * ul, 1000, 0);
	assert_true(strlen(got) <= 1000);
	assert_true(strlen(got) > 900);
	assert_memory_equal(got, "paragraph & text\n\nparagraph", 27);
	free(got);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html),
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
