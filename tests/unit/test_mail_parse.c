/* test_mail_parse: staff reply mails read into what heard needs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mail_parse.h"

#define HDR	"From: Jo Bloggs <jo@trust.nhs.uk>\n" \
		"To: reply+1.2.abc@heard.example\n" \
		"Subject: Re: your feedback\n" \
		"Date: Fri, 28 Nov 2014 12:53:21 -0800\n" \
		"Message-ID: <m1@trust.nhs.uk>\n" \
		"MIME-Version: 1.0\n"

/* One message and what must come out; NULL fields are not checked. */
struct parse_case {
	const char	*name;
	const char	*raw;
	const char	*text;		/* the body text */
	int		 from_html;
	enum mail_auto	 auto_kind;
};

static const struct parse_case body_cases[] = {
	{ "plain", HDR "Content-Type: text/plain; charset=utf-8\n\n"
	    "Thank you.\n", "Thank you.\n", 0, MAIL_AUTO_NONE },
	{ "iso-8859-1", HDR "Content-Type: text/plain; charset=ISO-8859-1\n"
	    "Content-Transfer-Encoding: 8bit\n\n"
	    "Caf\xe9 costs \xa3" "5\n",
	    "Caf\xc3\xa9 costs \xc2\xa3" "5\n", 0, MAIL_AUTO_NONE },
	{ "windows-1252", HDR "Content-Type: text/plain; "
	    "charset=windows-1252\nContent-Transfer-Encoding: 8bit\n\n"
	    "\x93We're sorry\x94 \x80" "10 \x81\n",
	    "\xe2\x80\x9cWe're sorry\xe2\x80\x9d \xe2\x82\xac" "10 "
	    "\xef\xbf\xbd\n", 0, MAIL_AUTO_NONE },
	{ "utf-8 base64", HDR "Content-Type: text/plain; charset=UTF-8\n"
	    "Content-Transfer-Encoding: base64\n\n"
	    "R3LDvMOfZSBhdXMgS8O2bG4KVGhlIHdhcmQg5pel5pysCg==\n",
	    "Gr\xc3\xbc\xc3\x9f" "e aus K\xc3\xb6ln\nThe ward "
	    "\xe6\x97\xa5\xe6\x9c\xac\n", 0, MAIL_AUTO_NONE },
	{ "quoted-printable soft breaks", HDR "Content-Type: text/plain; "
	    "charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"
	    "A long line that the mailer wrapped, softly, at the=\n"
	    " column limit; caf=C3=A9 =3D ok.=20\nNext line.\n",
	    "A long line that the mailer wrapped, softly, at the column "
	    "limit; caf\xc3\xa9 = ok. \nNext line.\n", 0, MAIL_AUTO_NONE },
	{ "format=flowed paragraphs rejoined", HDR "Content-Type: text/plain;"
	    " charset=utf-8; format=flowed\n\nWe have spoken to the ward "
	    "\nand the matron will \ncall you.\n\n From the stuffed line.\n"
	    "-- \nJo\n> quoted and \n> wrapped\n>> deeper \n> not joined\n",
	    "We have spoken to the ward and the matron will call you.\n\n"
	    "From the stuffed line.\n-- \nJo\n> quoted and wrapped\n"
	    ">> deeper \n> not joined\n", 0, MAIL_AUTO_NONE },
	{ "format=flowed delsp=yes", HDR "Content-Type: text/plain; "
	    "format=flowed; delsp=yes\n\nKeep\xc2\xa0no \nspaces.\n",
	    "Keep\xc2\xa0nospaces.\n", 0, MAIL_AUTO_NONE },
	{ "not flowed: trailing spaces stay lines", HDR "Content-Type: "
	    "text/plain\n\nline one \nline two\n", "line one \nline two\n",
	    0, MAIL_AUTO_NONE },
	{ "bad utf-8 replaced", HDR "Content-Type: text/plain; "
	    "charset=utf-8\n\nbad \xff\xfe here \xc3\n",
	    "bad \xef\xbf\xbd\xef\xbf\xbd here \xef\xbf\xbd\n", 0,
	    MAIL_AUTO_NONE },
	{ "ascii declared, utf-8 sent", HDR "Content-Type: text/plain; "
	    "charset=us-ascii\n\ncaf\xc3\xa9\n", "caf\xc3\xa9\n", 0,
	    MAIL_AUTO_NONE },
	{ "ascii declared, latin-1 sent", HDR "Content-Type: text/plain; "
	    "charset=us-ascii\n\ncaf\xe9\n", "caf\xc3\xa9\n", 0,
	    MAIL_AUTO_NONE },
	{ "unknown charset", HDR "Content-Type: text/plain; "
	    "charset=x-no-such-charset\n\nna\xefve\n", "na\xc3\xafve\n", 0,
	    MAIL_AUTO_NONE },
	{ "controls and bidi overrides dropped", HDR "Content-Type: "
	    "text/plain; charset=utf-8\n\npay\x07 \xe2\x80\xae" "evil\t"
	    "ok\n", "pay evil\tok\n", 0, MAIL_AUTO_NONE },
	{ "html only, hostile script", HDR "Content-Type: text/html; "
	    "charset=utf-8\n\n<html><head><script>alert(1)</script>"
	    "</head><body><p>Thanks for telling us.</p>"
	    "<script>document.location='http://evil/'</script>"
	    "<p onclick=\"x()\">We will call you.</p></body></html>\n",
	    "Thanks for telling us.\n\nWe will call you.", 1,
	    MAIL_AUTO_NONE },
	{ "html only: the quoted blockquote goes", HDR "Content-Type: "
	    "text/html; charset=iso-8859-1\n\n<html><head><meta "
	    "charset=\"iso-8859-1\"></head><body><div>Merci, r\xe9gl\xe9."
	    "</div><div class=\"gmail_quote\"><div class=\"gmail_attr\">"
	    "On Fri, 28 Nov 2014 at 12:36, heard &lt;r@h.example&gt; wrote:"
	    "</div><blockquote class=\"gmail_quote\">The patient's post"
	    "<blockquote type=\"cite\">older</blockquote></blockquote>"
	    "</div></body></html>\n",
	    "Merci, r\xc3\xa9gl\xc3\xa9.\nOn Fri, 28 Nov 2014 at 12:36, heard "
	    "<r@h.example> wrote:", 1, MAIL_AUTO_NONE },
	{ "alternative: plain preferred to html", HDR "Content-Type: "
	    "multipart/alternative; boundary=\"b1\"\n\n--b1\n"
	    "Content-Type: text/html\n\n<p>html</p>\n--b1\n"
	    "Content-Type: text/plain\n\nplain\n--b1--\n", "plain", 0,
	    MAIL_AUTO_NONE },
	{ "nested: mixed(alternative(plain, html), attachment)", HDR
	    "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
	    "Content-Type: multipart/alternative; boundary=inner\n\n"
	    "--inner\nContent-Type: text/plain; charset=iso-8859-1\n"
	    "Content-Transfer-Encoding: quoted-printable\n\nOui, c'est r=E9"
	    "gl=E9.\n--inner\nContent-Type: text/html\n\n<p>html</p>\n"
	    "--inner--\n--outer\nContent-Type: text/plain; name=notes.txt\n"
	    "Content-Disposition: attachment; filename=notes.txt\n\n"
	    "attached notes\n--outer--\n",
	    "Oui, c'est r\xc3\xa9gl\xc3\xa9.", 0, MAIL_AUTO_NONE },
	{ "nested: attachment first, then html only", HDR
	    "Content-Type: multipart/mixed; boundary=outer\n\n--outer\n"
	    "Content-Type: text/plain\n"
	    "Content-Disposition: attachment; filename=log.txt\n\n"
	    "not the reply\n--outer\n"
	    "Content-Type: multipart/related; boundary=rel\n\n--rel\n"
	    "Content-Type: text/html; charset=utf-8\n\n<div>The reply</div>"
	    "\n--rel\nContent-Type: image/png\nContent-Transfer-Encoding: "
	    "base64\n\niVBORw0KGgo=\n--rel--\n--outer--\n",
	    "The reply", 1, MAIL_AUTO_NONE },
	{ "attached message is not the body", HDR "Content-Type: "
	    "multipart/mixed; boundary=m\n\n--m\nContent-Type: "
	    "message/rfc822\n\nFrom: x@y.org\nSubject: old\n\nold words\n"
	    "--m--\n", "", 0, MAIL_AUTO_NONE },
	{ "no body", HDR "Content-Type: text/plain\n", "", 0,
	    MAIL_AUTO_NONE },
	{ "crlf", "From: jo@trust.nhs.uk\r\nSubject: x\r\n"
	    "Content-Type: text/plain\r\n\r\none\r\ntwo\r\n\r\nthree\r\n",
	    "one\ntwo\n\nthree\n", 0, MAIL_AUTO_NONE },
};

static void
test_bodies(void **state)
{
	const struct parse_case *c;
	struct mail_msg m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(body_cases) / sizeof(body_cases[0]); i++) {
		c = &body_cases[i];
		err[0] = '\0';
		if (mail_parse(c->raw, strlen(c->raw), &m, err,
		    sizeof(err)) != 0)
			fail_msg("%s: %s", c->name, err);
		if (strcmp(m.text, c->text) != 0)
			fail_msg("%s: text \"%s\", want \"%s\"", c->name,
			    m.text, c->text);
		if (m.text_from_html != c->from_html)
			fail_msg("%s: text_from_html %d", c->name,
			    m.text_from_html);
		if (m.auto_kind != c->auto_kind)
			fail_msg("%s: auto %s", c->name,
			    mail_auto_name(m.auto_kind));
		mail_msg_free(&m);
	}
}

/* The same message with LF and CRLF line ends reads the same. */
static void
test_crlf_lf(void **state)
{
	const char *lf = HDR "Cc: Ward Manager <WARD@trust.nhs.uk>\n"
	    "Content-Type: text/plain\n\nline one\nline two\n";
	struct mail_msg a, b;
	char crlf[1024], err[128];
	size_t i, n = 0;

	(void)state;
	for (i = 0; lf[i] != '\0'; i++) {
		if (lf[i] == '\n')
			crlf[n++] = '\r';
		crlf[n++] = lf[i];
	}
	assert_int_equal(mail_parse(lf, strlen(lf), &a, err, sizeof(err)), 0);
	assert_int_equal(mail_parse(crlf, n, &b, err, sizeof(err)), 0);
	assert_string_equal(a.text, "line one\nline two\n");
	assert_string_equal(a.text, b.text);
	assert_string_equal(a.subject, b.subject);
	assert_string_equal(a.from_addr, b.from_addr);
	assert_int_equal(a.nrcpts, b.nrcpts);
	assert_int_equal(a.date, b.date);
	mail_msg_free(&a);
	mail_msg_free(&b);
}

static void
test_headers(void **state)
{
	const char *raw =
	    "Return-Path: <Jose@Trust.NHS.uk>\n"
	    "Delivered-To: reply+7.3.ff@heard.example\n"
	    "X-Original-To: REPLY+7.3.FF@heard.example\n"
	    "From: =?ISO-8859-1?Q?Jos=E9_Garc=EDa?= <Jose@Trust.NHS.uk>\n"
	    "To: \"Heard\" <Reply+7.3.ff@Heard.Example>, team@trust.nhs.uk\n"
	    "Cc: Ward: a@trust.nhs.uk, b@trust.nhs.uk;\n"
	    "Subject: =?UTF-8?B?UsOpcG9uc2U=?= to your\n feedback\n"
	    "Date: Fri, 28 Nov 2014 12:53:21 -0800\n"
	    "Message-ID: <CAF+x=1@mail.example.org>\n"
	    "In-Reply-To: <t1.n2@heard.example> <other@x.org>\n"
	    "\nbody\n";
	struct mail_msg m;
	char err[128];

	(void)state;
	assert_int_equal(mail_parse(raw, strlen(raw), &m, err,
	    sizeof(err)), 0);
	assert_string_equal(m.from_addr, "jose@trust.nhs.uk");
	assert_string_equal(m.from_name, "Jos\xc3\xa9 Garc\xc3\xad" "a");
	assert_string_equal(m.return_path, "jose@trust.nhs.uk");
	assert_string_equal(m.subject, "R\xc3\xa9ponse to your feedback");
	assert_string_equal(m.message_id, "CAF+x=1@mail.example.org");
	assert_string_equal(m.in_reply_to, "t1.n2@heard.example");
	assert_int_equal(m.date, 1417208001);
	assert_int_equal(m.nrcpts, 4);
	assert_string_equal(m.rcpts[0], "reply+7.3.ff@heard.example");
	assert_string_equal(m.rcpts[1], "team@trust.nhs.uk");
	assert_string_equal(m.rcpts[2], "a@trust.nhs.uk");
	assert_string_equal(m.rcpts[3], "b@trust.nhs.uk");
	assert_int_equal(m.auto_kind, MAIL_AUTO_NONE);
	mail_msg_free(&m);
}

/* Absent headers read as NULL and 0, not as errors. */
static void
test_sparse(void **state)
{
	const char *raw = "Subject: only this\n\nhi\n";
	struct mail_msg m;
	char err[128];

	(void)state;
	assert_int_equal(mail_parse(raw, strlen(raw), &m, err,
	    sizeof(err)), 0);
	assert_null(m.from_addr);
	assert_null(m.from_name);
	assert_null(m.return_path);
	assert_null(m.message_id);
	assert_null(m.in_reply_to);
	assert_int_equal(m.date, 0);
	assert_int_equal(m.nrcpts, 0);
	assert_string_equal(m.text, "hi\n");
	mail_msg_free(&m);
}

struct auto_case {
	const char	*headers;
	enum mail_auto	 want;
};

static const struct auto_case auto_cases[] = {
	{ "Auto-Submitted: auto-replied\n", MAIL_AUTO_SUBMITTED },
	{ "Auto-Submitted: auto-generated; owner-email=x@y.org\n",
	    MAIL_AUTO_SUBMITTED },
	{ "Auto-Submitted: No\n", MAIL_AUTO_NONE },
	{ "Precedence: bulk\n", MAIL_AUTO_PRECEDENCE },
	{ "Precedence: junk\n", MAIL_AUTO_PRECEDENCE },
	{ "Precedence: list\n", MAIL_AUTO_PRECEDENCE },
	{ "Precedence: auto_reply\n", MAIL_AUTO_PRECEDENCE },
	{ "Precedence: first-class\n", MAIL_AUTO_NONE },
	{ "X-Autoreply: yes\n", MAIL_AUTO_AUTOREPLY },
	{ "X-Autorespond: Thank you for your mail\n", MAIL_AUTO_AUTOREPLY },
	{ "X-Autoreply: no\n", MAIL_AUTO_NONE },
	{ "Return-Path: <>\n", MAIL_AUTO_NULL_SENDER },
	{ "List-Id: Ward news <news.trust.nhs.uk>\n", MAIL_AUTO_LIST },
	{ "List-Unsubscribe: <mailto:leave@trust.nhs.uk>\n",
	    MAIL_AUTO_LIST },
	{ "X-Heard-Loop: yes\n", MAIL_AUTO_LOOP },
	/* A loop is named before anything else it also is. */
	{ "X-Heard-Loop: yes\nPrecedence: bulk\n", MAIL_AUTO_LOOP },
	/* An ordinary reply from Outlook: not machine-made. */
	{ "X-Auto-Response-Suppress: All\nThread-Index: AQHX\n"
	    "X-MS-Has-Attach:\nX-MS-TNEF-Correlator:\n", MAIL_AUTO_NONE },
	/* Outlook's out-of-office reply. */
	{ "X-Auto-Response-Suppress: All\nAuto-Submitted: auto-replied\n"
	    "Thread-Topic: Automatic reply: your feedback\n",
	    MAIL_AUTO_SUBMITTED },
};

static void
test_auto(void **state)
{
	struct mail_msg m;
	char raw[2048], err[128];
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < sizeof(auto_cases) / sizeof(auto_cases[0]); i++) {
		n = snprintf(raw, sizeof(raw), "%sFrom: jo@trust.nhs.uk\n"
		    "Subject: x\n\nbody\n", auto_cases[i].headers);
		assert_int_equal(mail_parse(raw, (size_t)n, &m, err,
		    sizeof(err)), 0);
		if (m.auto_kind != auto_cases[i].want)
			fail_msg("%s: got %s, want %s", auto_cases[i].headers,
			    mail_auto_name(m.auto_kind),
			    mail_auto_name(auto_cases[i].want));
		mail_msg_free(&m);
	}
}

/* Senders and structures that mean a bounce or a receipt. */
static void
test_auto_bounces(void **state)
{
	static const struct {
		const char	*raw;
		enum mail_auto	 want;
	} cases[] = {
		{ "From: Mail Delivery System <MAILER-DAEMON@mx.example>\n"
		    "Subject: Undelivered\n\nsorry\n", MAIL_AUTO_DAEMON },
		{ "From: postmaster@trust.nhs.uk\nSubject: x\n\nsorry\n",
		    MAIL_AUTO_DAEMON },
		{ "From: jo@trust.nhs.uk\nSubject: x\nContent-Type: "
		    "multipart/report; report-type=delivery-status; "
		    "boundary=r\n\n--r\nContent-Type: text/plain\n\n"
		    "It bounced.\n--r\nContent-Type: message/delivery-status"
		    "\n\nReporting-MTA: dns; mx.example\n--r--\n",
		    MAIL_AUTO_REPORT },
	};
	struct mail_msg m;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(mail_parse(cases[i].raw,
		    strlen(cases[i].raw), &m, err, sizeof(err)), 0);
		assert_string_equal(mail_auto_name(m.auto_kind),
		    mail_auto_name(cases[i].want));
		mail_msg_free(&m);
	}
	assert_string_equal(mail_auto_name(MAIL_AUTO_NONE), "none");
	assert_string_equal(mail_auto_name(MAIL_AUTO_LOOP), "loop");
}

static const struct {
	const char	*raw;
	const char	*err;	/* a word the reason must have */
} bad_cases[] = {
	{ "hello world\nthis is not mail\n", "not a mail message" },
	{ "\x01\x02\x03\xff\n\n", "not a mail message" },
	{ "From: jo@trust.nhs.uk\nSubj", "cut short" },
	/* A multipart that ends before its closing boundary. */
	{ "From: jo@trust.nhs.uk\nContent-Type: multipart/alternative; "
	    "boundary=XX\n\n--XX\nContent-Type: text/plain\n\nhalf a rep",
	    "truncated" },
	{ "From: jo@trust.nhs.uk\nContent-Type: multipart/mixed; "
	    "boundary=XX\n\n--XX\nContent-Type: text/pl", "truncated" },
};

static void
test_bad(void **state)
{
	struct mail_msg m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		err[0] = '\0';
		assert_int_equal(mail_parse(bad_cases[i].raw,
		    strlen(bad_cases[i].raw), &m, err, sizeof(err)), -1);
		if (strstr(err, bad_cases[i].err) == NULL)
			fail_msg("case %zu: reason \"%s\"", i, err);
		assert_null(m.text);
		assert_null(m.from_addr);
		assert_int_equal(m.nrcpts, 0);
		mail_msg_free(&m);
	}
	assert_int_equal(mail_parse("", 0, &m, err, sizeof(err)), -1);
	assert_string_equal(err, "empty message");
	assert_int_equal(mail_parse(NULL, 0, &m, err, sizeof(err)), -1);
}

/* Too big is refused unread; big headers and many recipients are cut. */
static void
test_bounds(void **state)
{
	struct mail_msg m;
	char *raw, err[256];
	size_t n = 0, i;

	(void)state;
	raw = malloc((size_t)MAIL_MAX_BYTES + 1);
	assert_non_null(raw);
	memset(raw, 'a', (size_t)MAIL_MAX_BYTES + 1);
	assert_int_equal(mail_parse(raw, (size_t)MAIL_MAX_BYTES + 1, &m, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "limit"));

	/* A 200 kB subject, folded, and 300 recipients. */
	n += (size_t)sprintf(raw + n, "From: jo@trust.nhs.uk\nSubject: ");
	for (i = 0; i < 4000; i++)
		n += (size_t)sprintf(raw + n, "forty-nine bytes of a very "
		    "long subject header\n ");
	n += (size_t)sprintf(raw + n, "end\nTo: ");
	for (i = 0; i < 300; i++)
		n += (size_t)sprintf(raw + n, "%sstaff%zu@trust.nhs.uk",
		    i ? ",\n " : "", i);
	n += (size_t)sprintf(raw + n, "\n\nbody\n");
	assert_int_equal(mail_parse(raw, n, &m, err, sizeof(err)), 0);
	assert_non_null(m.subject);
	assert_true(strlen(m.subject) <= 998);
	assert_int_equal(m.nrcpts, MAIL_MAX_RCPTS);
	assert_string_equal(m.rcpts[0], "staff0@trust.nhs.uk");
	assert_string_equal(m.text, "body\n");
	mail_msg_free(&m);
	free(raw);
}

/* A body bigger than MAIL_MAX_TEXT is cut, never on a character. */
static void
test_long_body(void **state)
{
	const char *hdr = "From: jo@trust.nhs.uk\nContent-Type: text/plain; "
	    "charset=utf-8\n\n";
	size_t hl = strlen(hdr), n = hl + 3 * 600000, i;
	struct mail_msg m;
	char *raw, err[128];

	(void)state;
	raw = malloc(n);
	assert_non_null(raw);
	memcpy(raw, hdr, hl);
	for (i = hl; i < n; i += 3)
		memcpy(raw + i, "\xe2\x82\xac", 3);
	assert_int_equal(mail_parse(raw, n, &m, err, sizeof(err)), 0);
	assert_true(strlen(m.text) <= MAIL_MAX_TEXT);
	assert_true(strlen(m.text) > MAIL_MAX_TEXT - 4);
	assert_int_equal(strlen(m.text) % 3, 0);
	mail_msg_free(&m);
	free(raw);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_crlf_lf),
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_auto),
		cmocka_unit_test(test_auto_bounces),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_long_body),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
