/* mail_compose: an outgoing mail as RFC 5322 bytes, built with GMime. */
#include "mail_compose.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmime/gmime.h>

#include "buf.h"
#include "xmalloc.h"

/* Characters an addr-spec or a msg-id of ours never holds. */
#define MAIL_COMPOSE_SPECIALS	"<>()[]\\,;:\" "
/* References kept: the first id and the latest ones (RFC 5322 3.6.4). */
#define MAIL_COMPOSE_REFS_MAX	20

/* The buffer's bytes as a string of the caller's; "" when empty. */
static char *
mail_compose_take(struct buf *b)
{
	return b->data != NULL ? b->data : xstrdup("");
}

/* No control character at all: a CR or LF here would inject headers. */
static int
mail_compose_clean(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f)
			return 0;
	return 1;
}

/* "local@domain": printable ASCII, one @, neither side empty. */
static int
mail_compose_addr_ok(const char *s)
{
	const char *at;
	const unsigned char *u;

	if (s == NULL || *s == '\0' || strlen(s) > 254)
		return 0;
	for (u = (const unsigned char *)s; *u != '\0'; u++)
		if (*u <= 0x20 || *u >= 0x7f ||
		    strchr(MAIL_COMPOSE_SPECIALS, *u) != NULL)
			return 0;
	at = strchr(s, '@');
	return at != NULL && at != s && at[1] != '\0' &&
	    strchr(at + 1, '@') == NULL;
}

/* A list of ids, each "left@right" by the same rules, space-separated. */
static int
mail_compose_ids_ok(const char *s, size_t *count)
{
	char *copy, *tok, *save = NULL;
	int ok = 1;

	*count = 0;
	if (s == NULL)
		return 1;
	copy = xstrdup(s);
	for (tok = strtok_r(copy, " ", &save); tok != NULL && ok;
	    tok = strtok_r(NULL, " ", &save)) {
		ok = mail_compose_addr_ok(tok);
		(*count)++;
	}
	free(copy);
	return ok;
}

static int
mail_compose_check(const struct mail_out *m)
{
	size_t n;

	if (m->from == NULL || m->subject == NULL || m->text == NULL ||
	    !mail_compose_addr_ok(m->to) ||
	    !mail_compose_addr_ok(m->message_id))
		return -1;
	if (!mail_compose_clean(m->from) ||
	    (m->to_name != NULL && !mail_compose_clean(m->to_name)))
		return -1;
	if (m->reply_to != NULL && !mail_compose_addr_ok(m->reply_to))
		return -1;
	if (m->in_reply_to != NULL && !mail_compose_addr_ok(m->in_reply_to))
		return -1;
	if (!mail_compose_ids_ok(m->references, &n))
		return -1;
	if (m->list_unsubscribe != NULL &&
	    (!mail_compose_clean(m->list_unsubscribe) ||
	    strpbrk(m->list_unsubscribe, "<> ") != NULL))
		return -1;
	return 0;
}

/* The subject on one line: a line break there is a header injected. */
static char *
mail_compose_subject(const char *s)
{
	char *out = xstrdup(s);
	unsigned char *u;

	for (u = (unsigned char *)out; *u != '\0'; u++)
		if (*u < 0x20 || *u == 0x7f)
			*u = ' ';
	return out;
}

/* "<a> <b>...": the first and the latest MAIL_COMPOSE_REFS_MAX - 1. */
static char *
mail_compose_refs(const char *refs)
{
	char *copy = xstrdup(refs), *tok, *save = NULL;
	char *ids[256];
	size_t n = 0, i;
	struct buf b;

	buf_init(&b, 0);
	for (tok = strtok_r(copy, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		if (n == sizeof(ids) / sizeof(ids[0])) {
			memmove(ids + 1, ids + 2, (n - 2) * sizeof(ids[0]));
			n--;
		}
		ids[n++] = tok;
	}
	for (i = 0; i < n; i++) {
		if (i > 0 && i + (MAIL_COMPOSE_REFS_MAX - 1) < n)
			continue;
		buf_printf(&b, "%s<%s>", b.len > 0 ? " " : "", ids[i]);
	}
	free(copy);
	return mail_compose_take(&b);
}

static void
mail_compose_id_header(GMimeObject *o, const char *name, const char *id)
{
	char *v = xasprintf("<%s>", id);

	g_mime_object_set_header(o, name, v, NULL);
	free(v);
}

static void
mail_compose_headers(GMimeMessage *msg, const struct mail_out *m)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	InternetAddressList *from;
	GDateTime *date;
	char *subject, *v;

	from = internet_address_list_parse(NULL, m->from);
	if (from != NULL) {
		internet_address_list_append(g_mime_message_get_from(msg),
		    from);
		g_object_unref(from);
	}
	g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_TO,
	    m->to_name != NULL ? m->to_name : "", m->to);
	if (m->reply_to != NULL)
		g_mime_message_add_mailbox(msg, GMIME_ADDRESS_TYPE_REPLY_TO,
		    "", m->reply_to);
	subject = mail_compose_subject(m->subject);
	g_mime_message_set_subject(msg, subject, "utf-8");
	free(subject);
	date = g_date_time_new_from_unix_utc(m->date);
	g_mime_message_set_date(msg, date);
	g_date_time_unref(date);
	g_mime_message_set_message_id(msg, m->message_id);
	if (m->in_reply_to != NULL)
		mail_compose_id_header(o, "In-Reply-To", m->in_reply_to);
	if (m->references != NULL && *m->references != '\0') {
		v = mail_compose_refs(m->references);
		g_mime_object_set_header(o, "References", v, NULL);
		free(v);
	}
	if (m->auto_generated)
		g_mime_object_set_header(o, "Auto-Submitted",
		    "auto-generated", NULL);
	if (m->list_unsubscribe != NULL) {
		v = xasprintf("<%s>", m->list_unsubscribe);
		g_mime_object_set_header(o, "List-Unsubscribe", v, NULL);
		free(v);
		if (m->one_click)
			g_mime_object_set_header(o, "List-Unsubscribe-Post",
			    "List-Unsubscribe=One-Click", NULL);
	}
	g_mime_object_set_header(o, "X-Heard-Loop", "yes", NULL);
}

/* One text/<subtype> part of UTF-8, in the transfer encoding that fits. */
static GMimeObject *
mail_compose_part(const char *subtype, const char *text)
{
	GMimeTextPart *part = g_mime_text_part_new_with_subtype(subtype);
	GMimeStream *st;
	GMimeDataWrapper *w;
	GMimeContentEncoding enc;

	st = g_mime_stream_mem_new_with_buffer(text, strlen(text));
	w = g_mime_data_wrapper_new_with_stream(st,
	    GMIME_CONTENT_ENCODING_DEFAULT);
	g_mime_part_set_content(GMIME_PART(part), w);
	g_object_unref(w);
	g_object_unref(st);
	g_mime_object_set_content_type_parameter(GMIME_OBJECT(part),
	    "charset", "utf-8");
	/*
	 * 7bit where it can, so no relay has to convert 8bit for us; else
	 * quoted-printable, never base64: base64 would carry our LF line
	 * ends as they are, where text wants CRLF, and staff's words are
	 * mostly ASCII, which QP leaves readable.
	 */
	enc = g_mime_part_get_best_content_encoding(GMIME_PART(part),
	    GMIME_ENCODING_CONSTRAINT_7BIT);
	if (enc == GMIME_CONTENT_ENCODING_BASE64)
		enc = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;
	g_mime_part_set_content_encoding(GMIME_PART(part), enc);
	return GMIME_OBJECT(part);
}

static GMimeObject *
mail_compose_body(const struct mail_out *m)
{
	GMimeMultipart *alt;
	GMimeObject *part;

	if (m->html == NULL)
		return mail_compose_part("plain", m->text);
	alt = g_mime_multipart_new_with_subtype("alternative");
	/* Least faithful first: clients show the last they can render. */
	part = mail_compose_part("plain", m->text);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	part = mail_compose_part("html", m->html);
	g_mime_multipart_add(alt, part);
	g_object_unref(part);
	return GMIME_OBJECT(alt);
}

/* The message's bytes with CRLF line ends, as a new NUL-ended string. */
static char *
mail_compose_write(GMimeMessage *msg, size_t *len)
{
	GMimeFormatOptions *fo = g_mime_format_options_new();
	GMimeStream *st = g_mime_stream_mem_new();
	GByteArray *ba;
	char *out = NULL;

	g_mime_format_options_set_newline_format(fo,
	    GMIME_NEWLINE_FORMAT_DOS);
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fo, st) != -1) {
		ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(st));
		out = xmalloc(ba->len + 1);
		memcpy(out, ba->data, ba->len);
		out[ba->len] = '\0';
		*len = ba->len;
	}
	g_object_unref(st);
	g_mime_format_options_free(fo);
	return out;
}

char *
mail_compose(const struct mail_out *m, size_t *len)
{
	GMimeMessage *msg;
	GMimeObject *body;
	char *out;

	if (mail_compose_check(m) == -1)
		return NULL;
	g_mime_init();
	msg = g_mime_message_new(TRUE);
	mail_compose_headers(msg, m);
	if (internet_address_list_length(g_mime_message_get_from(msg)) == 0) {
		g_object_unref(msg);
		return NULL;
	}
	body = mail_compose_body(m);
	g_mime_message_set_mime_part(msg, body);
	g_object_unref(body);
	out = mail_compose_write(msg, len);
	g_object_unref(msg);
	return out;
}

int
mail_addr_spec(const char *mailbox, char *out, size_t outlen)
{
	const char *p = mailbox, *q;
	size_t n;

	if (mailbox == NULL)
		return -1;
	if ((q = strrchr(mailbox, '<')) != NULL) {
		p = q + 1;
		if ((q = strchr(p, '>')) == NULL)
			return -1;
		n = (size_t)(q - p);
	} else {
		p += strspn(p, " \t");
		n = strcspn(p, " \t");
		if (p[n + strspn(p + n, " \t")] != '\0')
			return -1;
	}
	if (n == 0 || n >= outlen)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return mail_compose_addr_ok(out) ? 0 : -1;
}

char *
mail_html_escape(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	for (; s != NULL && *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_append(&b, "&amp;", 5);
			break;
		case '<':
			buf_append(&b, "&lt;", 4);
			break;
		case '>':
			buf_append(&b, "&gt;", 4);
			break;
		case '"':
			buf_append(&b, "&quot;", 6);
			break;
		case '\'':
			buf_append(&b, "&#39;", 5);
			break;
		default:
			buf_append(&b, s, 1);
			break;
		}
	}
	return mail_compose_take(&b);
}
