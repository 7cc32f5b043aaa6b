/* test_mail_compose: outgoing mails, built and then read back with GMime. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gmime/gmime.h>

#include "mail_compose.h"

#define SUBJECT	"[H-ABC123] New conversation at Guy\xe2\x80\x99s: " \
		"Care Opinion \xe2\x80\x94 A&E"
#define WORDS	"</p><script>alert(1)</script> & \"quoted\" it's " \
		"caf\xc3\xa9\nsecond line"

static struct mail_out
base(void)
{
	struct mail_out m = {
		.from = "heard <heard@example.nhs.uk>",
		.to = "lead@example.nhs.uk",
		.to_name = "P\xc3\xa9ter Lead",
		.reply_to = "reply+12.3.00112233445566778899aabbccddeeff@"
		    "reply.example.nhs.uk",
		.subject = SUBJECT,
		.message_id = "heard.t12.m7@reply.example.nhs.uk",
		.in_reply_to = "heard.t12.m5@reply.example.nhs.uk",
		.references = "heard.t12.m1@reply.example.nhs.uk "
		    "heard.t12.m5@reply.example.nhs.uk",
		.list_unsubscribe = "https://heard.example/#/settings",
		.text = "The patient wrote:\n> " WORDS "\n",
		.date = 1700000000,
		.auto_generated = 1,
	};
	return m;
}

static GMimeMessage *
parse(const char *bytes, size_t len)
{
	GMimeStream *st = g_mime_stream_mem_new_with_buffer(bytes, len);
	GMimeParser *p = g_mime_parser_new_with_stream(st);
	GMimeMessage *msg = g_mime_parser_construct_message(p, NULL);

	g_object_unref(p);
	g_object_unref(st);
	assert_non_null(msg);
	return msg;
}

static const char *
header(GMimeMessage *msg, const char *name)
{
	return g_mime_object_get_header(GMIME_OBJECT(msg), name);
}

/* The decoded content of a text part, as a new string. */
static char *
part_text(GMimeObject *o)
{
	GMimeDataWrapper *w = g_mime_part_get_content(GMIME_PART(o));
	GMimeStream *st = g_mime_stream_mem_new();
	GByteArray *ba;
	char *out;

	g_mime_data_wrapper_write_to_stream(w, st);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
	out = strndup((const char *)ba->data, ba->len);
	g_object_unref(st);
	return out;
}

static void
no_bare_lf(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (s[i] == '\n')
			assert_true(i > 0 && s[i - 1] == '\r');
		if (s[i] == '\r')
			assert_true(i + 1 < len && s[i + 1] == '\n');
	}
}

static void
test_headers_and_parts(void **state)
{
	struct mail_out m = base();
	GMimeMessage *msg;
	GMimeObject *body, *text, *html;
	char *bytes, *t;
	size_t len = 0;
	const char *v;

	(void)state;
	m.html = "<p>" "&lt;/p&gt;&lt;script&gt;" "</p>";
	bytes = mail_compose(&m, &len);
	assert_non_null(bytes);
	assert_int_equal(strlen(bytes), len);
	no_bare_lf(bytes, len);
	/* Only ASCII on the wire: the subject is an encoded-word. */
	assert_non_null(strcasestr(bytes, "=?utf-8?"));
	assert_non_null(strstr(bytes, "\r\nX-Heard-Loop: yes\r\n"));

	msg = parse(bytes, len);
	assert_string_equal(g_mime_message_get_subject(msg), SUBJECT);
	assert_string_equal(g_mime_message_get_message_id(msg),
	    "heard.t12.m7@reply.example.nhs.uk");
	assert_string_equal(header(msg, "In-Reply-To"),
	    "<heard.t12.m5@reply.example.nhs.uk>");
	v = header(msg, "References");
	assert_non_null(v);
	assert_non_null(strstr(v, "<heard.t12.m1@reply.example.nhs.uk>"));
	assert_non_null(strstr(v, "<heard.t12.m5@reply.example.nhs.uk>"));
	assert_string_equal(header(msg, "Auto-Submitted"), "auto-generated");
	assert_string_equal(header(msg, "List-Unsubscribe"),
	    "<https://heard.example/#/settings>");
	assert_null(header(msg, "List-Unsubscribe-Post"));
	assert_non_null(header(msg, "Date"));
	assert_non_null(strstr(header(msg, "Date"), "14 Nov 2023 22:13:20"));
	t = internet_address_list_to_string(g_mime_message_get_reply_to(msg),
	    NULL, FALSE);
	assert_string_equal(t, m.reply_to);
	g_free(t);
	t = internet_address_list_to_string(g_mime_message_get_addresses(msg,
	    GMIME_ADDRESS_TYPE_TO), NULL, FALSE);
	assert_non_null(strstr(t, "lead@example.nhs.uk"));
	assert_non_null(strstr(t, "P\xc3\xa9ter Lead"));
	g_free(t);

	body = g_mime_message_get_mime_part(msg);
	assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(body), "multipart", "alternative"));
	assert_int_equal(g_mime_multipart_get_count(GMIME_MULTIPART(body)), 2);
	text = g_mime_multipart_get_part(GMIME_MULTIPART(body), 0);
	html = g_mime_multipart_get_part(GMIME_MULTIPART(body), 1);
	assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(text), "text", "plain"));
	assert_true(g_mime_content_type_is_type(
	    g_mime_object_get_content_type(html), "text", "html"));
	assert_string_equal(g_mime_object_get_content_type_parameter(text,
	    "charset"), "utf-8");
	t = part_text(text);
	/* The words come back whole, line ends as CRLF. */
	assert_non_null(strstr(t, "caf\xc3\xa9\r\nsecond line"));
	assert_non_null(strstr(t, "</p><script>"));
	free(t);
	t = part_text(html);
	assert_non_null(strstr(t, "&lt;/p&gt;&lt;script&gt;"));
	assert_null(strstr(t, "<script>"));
	free(t);
	g_object_unref(msg);
	free(bytes);
}

static void
test_text_only_and_one_click(void **state)
{
	struct mail_out m = base();
	GMimeMessage *msg;
	char *bytes;
	size_t len;

	(void)state;
	m.in_reply_to = NULL;
	m.references = NULL;
	m.reply_to = NULL;
	m.auto_generated = 0;
	m.one_click = 1;
	bytes = mail_compose(&m, &len);
	assert_non_null(bytes);
	msg = parse(bytes, len);
	assert_true(g_mime_content_type_is_type(g_mime_object_get_content_type(
	    g_mime_message_get_mime_part(msg)), "text", "plain"));
	assert_null(header(msg, "In-Reply-To"));
	assert_null(header(msg, "References"));
	assert_null(header(msg, "Auto-Submitted"));
	assert_string_equal(header(msg, "List-Unsubscribe-Post"),
	    "List-Unsubscribe=One-Click");
	assert_string_equal(header(msg, "X-Heard-Loop"), "yes");
	g_object_unref(msg);
	free(bytes);
}

/* A long chain keeps its first id and the latest ones, no more. */
static void
test_references_bounded(void **state)
{
	struct mail_out m = base();
	char refs[8192], *bytes;
	size_t len, o = 0;
	GMimeMessage *msg;
	const char *v;
	int i, n = 0;

	(void)state;
	for (i = 1; i <= 60; i++)
		o += (size_t)snprintf(refs + o, sizeof(refs) - o,
		    "%sheard.t12.m%d@r.example", i > 1 ? " " : "", i);
	m.references = refs;
	bytes = mail_compose(&m, &len);
	assert_non_null(bytes);
	msg = parse(bytes, len);
	v = header(msg, "References");
	assert_non_null(strstr(v, "<heard.t12.m1@r.example>"));
	assert_non_null(strstr(v, "<heard.t12.m60@r.example>"));
	assert_non_null(strstr(v, "<heard.t12.m42@r.example>"));
	assert_null(strstr(v, "<heard.t12.m41@r.example>"));
	for (; (v = strchr(v, '<')) != NULL; v++)
		n++;
	assert_int_equal(n, 20);
	g_object_unref(msg);
	free(bytes);
}

/* Line breaks in a header field are refused or flattened, never sent. */
static void
test_injection_refused(void **state)
{
	struct mail_out m;
	GMimeMessage *msg;
	char *bytes;
	size_t len;

	(void)state;
	m = base();
	m.to = "a@b.example\r\nBcc: victim@x.example";
	assert_null(mail_compose(&m, &len));
	m = base();
	m.message_id = "x@y\nBcc: v@x";
	assert_null(mail_compose(&m, &len));
	m = base();
	m.in_reply_to = "<x@y>";
	assert_null(mail_compose(&m, &len));
	m = base();
	m.list_unsubscribe = "https://x/\r\nBcc: v@x";
	assert_null(mail_compose(&m, &len));
	m = base();
	m.to = "no-at-sign";
	assert_null(mail_compose(&m, &len));
	m = base();
	m.text = NULL;
	assert_null(mail_compose(&m, &len));
	m = base();
	m.from = "not an address";
	assert_null(mail_compose(&m, &len));

	m = base();
	m.subject = "Hello\r\nBcc: victim@x.example";
	bytes = mail_compose(&m, &len);
	assert_non_null(bytes);
	assert_null(strstr(bytes, "\r\nBcc:"));
	msg = parse(bytes, len);
	assert_null(header(msg, "Bcc"));
	g_object_unref(msg);
	free(bytes);
}

static void
test_html_escape(void **state)
{
	char *s;

	(void)state;
	s = mail_html_escape("</p><script>alert('x')</script> & \"y\"");
	assert_string_equal(s, "&lt;/p&gt;&lt;script&gt;alert(&#39;x&#39;)"
	    "&lt;/script&gt; &amp; &quot;y&quot;");
	free(s);
	s = mail_html_escape("");
	assert_string_equal(s, "");
	free(s);
	s = mail_html_escape("caf\xc3\xa9");
	assert_string_equal(s, "caf\xc3\xa9");
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers_and_parts),
		cmocka_unit_test(test_text_only_and_one_click),
		cmocka_unit_test(test_references_bounded),
		cmocka_unit_test(test_injection_refused),
		cmocka_unit_test(test_html_escape),
	};

	g_mime_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
