/* test_reply_strip: the writer's words kept, quoted mail and furniture not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reply_strip.h"

struct strip_case {
	const char	*name;
	const char	*in;
	const char	*want;
};

static const struct strip_case cases[] = {
	{ "plain text stays", "We are sorry.\n\nThe ward will call you.\n",
	    "We are sorry.\n\nThe ward will call you." },
	{ "blank lines at both ends", "\n\n  \nHello\n\n\n", "Hello" },
	{ "empty", "", "" },
	{ "crlf", "one\r\ntwo\r\n\r\nthree\r\n", "one\ntwo\n\nthree" },
	{ "lone cr", "one\rtwo\r", "one\ntwo" },

	/* Reply headers, and what follows them. */
	{ "top-post over a quote", "Thank you.\n\nOn Tue, 3 May 2022 at "
	    "10:15, heard <reply+1.2.ab@heard.example> wrote:\n> Patient "
	    "post\n> more\n", "Thank you." },
	{ "header over three lines", "Done.\n\nOn Dec 16, 2011, at 12:47 "
	    "PM, Corey\n<reply@heard.example>\nwrote:\n\n> old\n", "Done." },
	{ "header with the verb glued", "Yes\n\nOn Tue, Sep 25, 2012 at "
	    "8:59 AM, Chris\n<n@github.com>wrote:\n> old\n", "Yes" },
	{ "unquoted original under the header", "Fine by me.\n\n"
	    "On Sun, Feb 7, 2016 at 12:12 AM -0800, \"A\" <a@x.org> wrote:"
	    "\n\nThe original\nmessage, unquoted\n", "Fine by me." },
	{ "bottom-post under a quote", "On Mon, Aug 19, 2013 at 2:36 AM, "
	    "Jo <\njo@x.org> wrote:\n\n> the question\n>\n\nthe answer\n",
	    "the answer" },
	{ "interleaved answers keep their quotes", "> first question\n\n"
	    "first answer\n\n> second question\n\nsecond answer\n\n"
	    "> trailing quote\n",
	    "> first question\n\nfirst answer\n\n> second question\n\n"
	    "second answer" },
	{ "quote only stays", "> just a quote\n", "> just a quote" },
	{ "a quoted message alone is nothing", "> On Thu, Apr 30, 2020 at "
	    "10:07 AM, \"x\" <x@y.org> wrote:\n>\n>> hello\n", "" },
	{ "Thanks above a loose header stays", "Thanks,\nJo <jo@x.org> "
	    "wrote:\n> old\n", "Thanks," },
	{ "German", "Gut.\n\nAm 03.02.2016 3:35 nachm. schrieb Max "
	    "<m@x.de>:\n\n> alt\n", "Gut." },
	{ "French, no-break space", "Super !\n\nLe 2016-11-16 02:22, Erlend "
	    "a \xc3\xa9" "crit\xc2\xa0:\n> vieux\n", "Super !" },
	{ "Dutch, wrapped", "Ok\nOp 16 aug. 2014 05:13 schreef \"c\" "
	    "<i@d.org> het\nvolgende geschreven:\n\n> oud\n", "Ok" },
	{ "Polish", "Tak\n\nDnia 14 lip 2015 o godz. 00:25 Michael "
	    "<i@d.org> napisa\xc5\x82(a):\n\n> stare\n", "Tak" },
	{ "Gmail date line", "Before\n\n2016-03-03 17:21 GMT+01:00 Some "
	    "One\n\nAfter\n", "Before" },
	{ "original message line", "Gru\xc3\x9f\n\n-----Urspr\xc3\xbc"
	    "ngliche Nachricht-----\nVon: a@b.de\nAn: c@d.de\n\nalt\n",
	    "Gru\xc3\x9f" },
	{ "forwarded", "See below.\n\n---------- Forwarded message "
	    "---------\nFrom: A <a@b.org>\nDate: Tue, Jan 01, 2019\n"
	    "Subject: x\nTo: <c@d.org>\n\nforwarded words\n", "See below." },
	{ "forward with nothing above keeps its words",
	    "---------- Forwarded message ----------\nFrom: A <a@b.org>\n"
	    "Date: Thu, Jan 28, 2016 at 4:00 PM\nSubject: a subject that\n"
	    "spans two lines\nTo: c@d.org\n\n\nThe forwarded words.\n",
	    "The forwarded words." },
	{ "Outlook block", "Outlook reply\n\nFrom: CRM [crm@example.com]\n"
	    "Sent: Friday, 23 March 2012 5:08 p.m.\nTo: John\nSubject: x\n"
	    "\nthe original\n", "Outlook reply" },
	{ "Outlook block in bold, Swedish", "Hej\n\n*Fr\xc3\xa5n:* Foo\n"
	    "*Skickat:* den 5 juni 2017\n*Till:* a@b.se\n*\xc3\x84mne:* x\n"
	    "\noriginal\n", "Hej" },
	{ "Outlook rule", "Reply above the line\n____________________\n"
	    "From: x\nold\n", "Reply above the line" },

	/* Signatures. */
	{ "dash dash space", "Regards\n\n-- \nJo Bloggs\nWard 7\n",
	    "Regards" },
	{ "dash dash", "Regards\n--\nJo\n", "Regards" },
	{ "mid-line dashes stay", "a fix -- not a signature\n",
	    "a fix -- not a signature" },
	{ "rule alone on top is dropped, not the rest", "-----\nHello\n",
	    "Hello" },
	{ "iPhone", "Yes.\n\nSent from my iPhone\n", "Yes." },
	{ "device with an excuse", "Yes.\nSent from my cell, please excuse "
	    "any typos.\n", "Yes." },
	{ "Outlook mobile", "Ok\n\nGet Outlook for Android\n", "Ok" },
	{ "German mobile", "Ja\n\nVon meinem iPhone gesendet\n", "Ja" },
	{ "a sentence that starts alike stays", "Here\n\nSent from my desk, "
	    "is much easier then my mobile phone.\n", "Here\n\nSent from my "
	    "desk, is much easier then my mobile phone." },
	{ "no device named stays", "Hi\n\nSent from a magnificent torch of "
	    "pixels\n", "Hi\n\nSent from a magnificent torch of pixels" },
	{ "-Name at the end", "Question?\n\n-Abhishek Kona\n", "Question?" },
	{ "-Name in the middle stays", "-Jo said yes\nand more\n",
	    "-Jo said yes\nand more" },

	/* What must not be taken for mail furniture. */
	{ "a sentence with wrote", "I wrote to the ward manager on 3 May "
	    "2023 about this:\nshe will call.\n", "I wrote to the ward "
	    "manager on 3 May 2023 about this:\nshe will call." },
	{ "prose that looks like a header stays", "Dear Mr Smith,\n\n"
	    "On 12 May 2023, Dr Jones wrote:\nwe will call you.\n\nRegards\n",
	    "Dear Mr Smith,\n\nOn 12 May 2023, Dr Jones wrote:\nwe will call "
	    "you.\n\nRegards" },
	{ "the same over a quote is a header", "Yes.\n\nOn 12 May 2023, Jo "
	    "wrote:\n> old\n", "Yes." },
	{ "with a time it is a header", "Yes.\n\nOn 12 May 2023 at 10:15, "
	    "Jo wrote:\nthe original, unquoted\n", "Yes." },
	{ "On without a date", "On Monday, Dr Smith wrote:\nthe plan.\n",
	    "On Monday, Dr Smith wrote:\nthe plan." },
	{ "On as the first word", "On your visit you can ask:\n\n   x\n",
	    "On your visit you can ask:\n\n   x" },
	{ "code blocks are text", "Code:\n\n```\n# comment\n#\n----\n```\n"
	    "\nEnd.\n", "Code:\n\n```\n# comment\n#\n----\n```\n\nEnd." },
	{ "a table row is not a quote", "| ward | wait |\n| 7 | 2h |\n",
	    "| ward | wait |\n| 7 | 2h |" },
	{ "indentation kept", "List:\n\n   - one\n   - two\n",
	    "List:\n\n   - one\n   - two" },
	{ "supercite quotes", "Answer\n\nC> old\nC> older\n", "Answer" },
};

static void
test_cases(void **state)
{
	char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = reply_strip(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", cases[i].name,
			    got, cases[i].want);
		free(got);
	}
}

static void
test_null(void **state)
{
	char *got;

	(void)state;
	got = reply_strip(NULL);
	assert_string_equal(got, "");
	free(got);
}

/* Text past REPLY_STRIP_MAX is not read; the cut falls on a line end. */
static void
test_bounds(void **state)
{
	size_t n = REPLY_STRIP_MAX + 4096, i;
	char *in, *got;

	(void)state;
	in = malloc(n + 1);
	assert_non_null(in);
	for (i = 0; i < n; i++)
		in[i] = i % 64 == 63 ? '\n' : 'x';
	in[n] = '\0';
	got = reply_strip(in);
	assert_true(strlen(got) <= REPLY_STRIP_MAX);
	assert_true(strlen(got) > REPLY_STRIP_MAX - 128);
	assert_int_equal(got[strlen(got) - 1], 'x');
	free(got);

	/* One long line with no end at all: cut at the cap. */
	memset(in, 'y', n);
	got = reply_strip(in);
	assert_int_equal(strlen(got), REPLY_STRIP_MAX);
	free(got);
	free(in);
}

/* Many short lines, each a near-header: linear, and no line lost. */
static void
test_many_lines(void **state)
{
	const char *line = "On 3 May 2020 Jo <jo@x.org> said\n";
	size_t n = 5000, i, l = strlen(line);
	char *in, *got;

	(void)state;
	in = malloc(n * l + 1);
	assert_non_null(in);
	for (i = 0; i < n; i++)
		memcpy(in + i * l, line, l);
	in[n * l] = '\0';
	got = reply_strip(in);
	assert_int_equal(strlen(got), n * l - 1);
	free(got);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_null),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_many_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
