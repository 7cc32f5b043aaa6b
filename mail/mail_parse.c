/* mail_parse: one RFC 5322 message (a staff reply) read with GMime. */
#include "mail_parse.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmime/gmime.h>
#include <libxml/HTMLparser.h>
#include <libxml/HTMLtree.h>

#include "htmltext.h"
#include "xmalloc.h"

/* Longest subject, display name and message id kept, in bytes. */
#define MAIL_MAX_FIELD	998
/* An address longer than this is not one (RFC 5321: 254 usable). */
#define MAIL_MAX_ADDR	320

struct mail_ctx {
	int	 truncated;	/* GMime saw the input end too early */
	int	 nesting;	/* MIME nested past GMime's limit */
};

static const char *const mail_auto_names[] = {
	[MAIL_AUTO_NONE] = "none",
	[MAIL_AUTO_SUBMITTED] = "auto-submitted",
	[MAIL_AUTO_PRECEDENCE] = "precedence",
	[MAIL_AUTO_AUTOREPLY] = "autoreply",
	[MAIL_AUTO_NULL_SENDER] = "null-sender",
	[MAIL_AUTO_DAEMON] = "daemon",
	[MAIL_AUTO_REPORT] = "report",
	[MAIL_AUTO_LIST] = "list",
	[MAIL_AUTO_LOOP] = "loop",
};

const char *
mail_auto_name(enum mail_auto a)
{
	if ((size_t)a >= sizeof(mail_auto_names) / sizeof(mail_auto_names[0]))
		return "unknown";
	return mail_auto_names[a];
}

static void
mail_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* GMime keeps global tables; it is set up on first use and never torn down. */
static void
mail_init(void)
{
	static int done;

	if (!done) {
		g_mime_init();
		done = 1;
	}
}

/* Only the warnings that mean the bytes cannot be trusted are kept. */
static void
mail_warning(gint64 off, GMimeParserWarning code, const gchar *item,
    gpointer arg)
{
	struct mail_ctx *ctx = arg;

	(void)off;
	(void)item;
	if (code == GMIME_WARN_TRUNCATED_MESSAGE)
		ctx->truncated = 1;
	else if (code == GMIME_CRIT_NESTING_OVERFLOW)
		ctx->nesting = 1;
}

/* s cut to at most max bytes, on a UTF-8 character boundary. */
static char *
mail_strndup_utf8(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max) {
		n = max;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(s, n);
}

/*
 * A header value made safe to keep: valid UTF-8 (GMime decoded any
 * RFC 2047 words), controls turned into spaces, ends trimmed, bounded.
 */
static char *
mail_field(const char *v)
{
	char *s, *p, *t;
	size_t n;

	if (v == NULL)
		return NULL;
	s = mail_strndup_utf8(v, MAIL_MAX_FIELD);
	if (!g_utf8_validate(s, -1, NULL)) {
		t = g_utf8_make_valid(s, -1);
		free(s);
		s = mail_strndup_utf8(t, MAIL_MAX_FIELD);
		g_free(t);
	}
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	for (p = s; *p == ' '; p++)
		;
	n = strlen(p);
	while (n > 0 && p[n - 1] == ' ')
		n--;
	if (n == 0) {
		free(s);
		return NULL;
	}
	memmove(s, p, n);
	s[n] = '\0';
	return s;
}

/*
 * An addr-spec as heard compares it: lower case (ASCII), no brackets,
 * no blanks or controls inside; NULL if it is not one.
 */
static char *
mail_addr(const char *a)
{
	size_t i, n;
	char *s;

	if (a == NULL)
		return NULL;
	while (*a == ' ' || *a == '\t' || *a == '<')
		a++;
	n = strlen(a);
	while (n > 0 && (a[n - 1] == ' ' || a[n - 1] == '\t' ||
	    a[n - 1] == '>'))
		n--;
	if (n == 0 || n > MAIL_MAX_ADDR)
		return NULL;
	s = xstrndup(a, n);
	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f ||
		    s[i] == '<' || s[i] == '>') {
			free(s);
			return NULL;
		}
		if (s[i] >= 'A' && s[i] <= 'Z')
			s[i] = (char)(s[i] - 'A' + 'a');
	}
	if (strchr(s, '@') == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

static void
mail_rcpt_add(struct mail_msg *m, const char *addr)
{
	char *a;
	size_t i;

	if (m->nrcpts >= MAIL_MAX_RCPTS || (a = mail_addr(addr)) == NULL)
		return;
	for (i = 0; i < m->nrcpts; i++)
		if (strcmp(m->rcpts[i], a) == 0) {
			free(a);
			return;
		}
	m->rcpts[m->nrcpts++] = a;
}

/* Every mailbox of a list, groups opened, into the recipients. */
static void
mail_rcpts_list(struct mail_msg *m, InternetAddressList *l, int depth)
{
	InternetAddress *ia;
	int i, n;

	if (l == NULL || depth > 2)
		return;
	n = internet_address_list_length(l);
	for (i = 0; i < n && m->nrcpts < MAIL_MAX_RCPTS; i++) {
		ia = internet_address_list_get_address(l, i);
		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			mail_rcpt_add(m, internet_address_mailbox_get_addr(
			    INTERNET_ADDRESS_MAILBOX(ia)));
		else if (INTERNET_ADDRESS_IS_GROUP(ia))
			mail_rcpts_list(m, internet_address_group_get_members(
			    INTERNET_ADDRESS_GROUP(ia)), depth + 1);
	}
}

/* To and Cc as GMime read them, then every Delivered-To, X-Original-To. */
static void
mail_rcpts(struct mail_msg *m, GMimeMessage *msg)
{
	static const char *const trace[] = { "Delivered-To", "X-Original-To" };
	GMimeHeaderList *hl;
	GMimeHeader *h;
	InternetAddressList *l;
	size_t t;
	int i, n;

	mail_rcpts_list(m, g_mime_message_get_addresses(msg,
	    GMIME_ADDRESS_TYPE_TO), 0);
	mail_rcpts_list(m, g_mime_message_get_addresses(msg,
	    GMIME_ADDRESS_TYPE_CC), 0);
	hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n; i++) {
		h = g_mime_header_list_get_header_at(hl, i);
		for (t = 0; t < sizeof(trace) / sizeof(trace[0]); t++) {
			if (strcasecmp(g_mime_header_get_name(h), trace[t]))
				continue;
			l = internet_address_list_parse(NULL,
			    g_mime_header_get_value(h));
			mail_rcpts_list(m, l, 0);
			if (l != NULL)
				g_object_unref(l);
		}
	}
}

static void
mail_from(struct mail_msg *m, GMimeMessage *msg)
{
	InternetAddressList *l = g_mime_message_get_from(msg);
	InternetAddress *ia;
	int i, n;

	n = l != NULL ? internet_address_list_length(l) : 0;
	for (i = 0; i < n; i++) {
		ia = internet_address_list_get_address(l, i);
		if (!INTERNET_ADDRESS_IS_MAILBOX(ia))
			continue;
		m->from_addr = mail_addr(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(ia)));
		if (m->from_addr == NULL)
			continue;
		m->from_name = mail_field(internet_address_get_name(ia));
		return;
	}
}

/* "" for the null path <>, the address otherwise, NULL when absent. */
static void
mail_return_path(struct mail_msg *m, GMimeMessage *msg)
{
	const char *v = g_mime_object_get_header(GMIME_OBJECT(msg),
	    "Return-Path");
	const char *p;

	if (v == NULL)
		return;
	for (p = v; *p != '\0'; p++)
		if (*p != ' ' && *p != '\t' && *p != '<' && *p != '>')
			break;
	if (*p == '\0') {
		m->return_path = xstrdup("");
		return;
	}
	m->return_path = mail_addr(v);
}

/* A message id without <>, bounded; NULL when there is none. */
static char *
mail_msgid(const char *v)
{
	char *id, *s;

	if (v == NULL || (id = g_mime_utils_decode_message_id(v)) == NULL)
		return NULL;
	s = id[0] != '\0' ? mail_field(id) : NULL;
	g_free(id);
	if (s != NULL && strpbrk(s, " <>") != NULL) {
		free(s);
		s = NULL;
	}
	return s;
}

static void
mail_headers(struct mail_msg *m, GMimeMessage *msg)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	GDateTime *d;

	mail_from(m, msg);
	mail_return_path(m, msg);
	mail_rcpts(m, msg);
	m->message_id = mail_msgid(g_mime_object_get_header(o, "Message-ID"));
	m->in_reply_to = mail_msgid(g_mime_object_get_header(o,
	    "In-Reply-To"));
	m->subject = mail_field(g_mime_message_get_subject(msg));
	if ((d = g_mime_message_get_date(msg)) != NULL)
		m->date = g_date_time_to_unix(d);
}

/* Auto-Submitted: anything but "no" (RFC 3834), whatever follows ";". */
static int
mail_is_submitted(const char *v)
{
	size_t n;

	v += strspn(v, " \t");
	n = strcspn(v, " \t;(");
	return n > 0 && !(n == 2 && strncasecmp(v, "no", 2) == 0);
}

static int
mail_is_precedence(const char *v)
{
	static const char *const bulk[] = {
		"bulk", "junk", "list", "auto_reply", "auto-reply",
	};
	size_t i, n;

	v += strspn(v, " \t");
	n = strcspn(v, " \t;(");
	for (i = 0; i < sizeof(bulk) / sizeof(bulk[0]); i++)
		if (n == strlen(bulk[i]) && strncasecmp(v, bulk[i], n) == 0)
			return 1;
	return 0;
}

/* X-Autoreply: yes and its kin; an explicit "no" is taken at its word. */
static int
mail_is_yes(const char *v)
{
	static const char *const no[] = { "no", "false", "0" };
	size_t i, n;

	v += strspn(v, " \t");
	n = strcspn(v, " \t;(");
	for (i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		if (n == strlen(no[i]) && strncasecmp(v, no[i], n) == 0)
			return 0;
	return 1;
}

static int
mail_is_present(const char *v)
{
	(void)v;
	return 1;
}

/*
 * The headers that mark a message as machine-made, in the order they
 * are looked for. X-Auto-Response-Suppress is deliberately absent:
 * Outlook and Exchange put it on ordinary mail a person wrote (it asks
 * others not to auto-answer), while their out-of-office replies carry
 * Auto-Submitted: auto-replied, which is caught.
 */
static const struct mail_auto_rule {
	const char	*name;
	int		(*match)(const char *);
	enum mail_auto	 kind;
} mail_auto_rules[] = {
	{ "X-Heard-Loop",	mail_is_present,	MAIL_AUTO_LOOP },
	{ "Auto-Submitted",	mail_is_submitted,	MAIL_AUTO_SUBMITTED },
	{ "X-Autoreply",	mail_is_yes,		MAIL_AUTO_AUTOREPLY },
	{ "X-Autorespond",	mail_is_yes,		MAIL_AUTO_AUTOREPLY },
	{ "X-Autoresponder",	mail_is_yes,		MAIL_AUTO_AUTOREPLY },
	{ "X-Autogenerated",	mail_is_yes,		MAIL_AUTO_AUTOREPLY },
	{ "X-AutoReply-From",	mail_is_present,	MAIL_AUTO_AUTOREPLY },
	{ "X-Mail-Autoreply",	mail_is_present,	MAIL_AUTO_AUTOREPLY },
	{ "Precedence",		mail_is_precedence,	MAIL_AUTO_PRECEDENCE },
};

/* The local part is MAILER-DAEMON or postmaster: a bounce. */
static int
mail_is_daemon(const char *addr)
{
	static const char *const daemons[] = { "mailer-daemon", "postmaster" };
	size_t i, n;

	if (addr == NULL)
		return 0;
	n = strcspn(addr, "@");
	for (i = 0; i < sizeof(daemons) / sizeof(daemons[0]); i++)
		if (n == strlen(daemons[i]) &&
		    strncmp(addr, daemons[i], n) == 0)
			return 1;
	return 0;
}

static enum mail_auto
mail_auto_headers(GMimeMessage *msg)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	const struct mail_auto_rule *r;
	GMimeHeader *h;
	const char *v;
	size_t k;
	int i, n;

	n = g_mime_header_list_get_count(hl);
	for (k = 0; k < sizeof(mail_auto_rules) / sizeof(mail_auto_rules[0]);
	    k++) {
		r = &mail_auto_rules[k];
		for (i = 0; i < n; i++) {
			h = g_mime_header_list_get_header_at(hl, i);
			if (strcasecmp(g_mime_header_get_name(h), r->name))
				continue;
			v = g_mime_header_get_value(h);
			if (r->match(v != NULL ? v : ""))
				return r->kind;
		}
	}
	return MAIL_AUTO_NONE;
}

static enum mail_auto
mail_auto_kind(const struct mail_msg *m, GMimeMessage *msg)
{
	GMimeObject *o = GMIME_OBJECT(msg);
	GMimeContentType *ct;
	enum mail_auto a;

	if ((a = mail_auto_headers(msg)) != MAIL_AUTO_NONE)
		return a;
	if (m->return_path != NULL && m->return_path[0] == '\0')
		return MAIL_AUTO_NULL_SENDER;
	if (mail_is_daemon(m->from_addr) || mail_is_daemon(m->return_path))
		return MAIL_AUTO_DAEMON;
	if ((o = g_mime_message_get_mime_part(msg)) != NULL &&
	    (ct = g_mime_object_get_content_type(o)) != NULL &&
	    (g_mime_content_type_is_type(ct, "multipart", "report") ||
	    g_mime_content_type_is_type(ct, "message", "delivery-status")))
		return MAIL_AUTO_REPORT;
	o = GMIME_OBJECT(msg);
	if (g_mime_object_get_header(o, "List-Id") != NULL ||
	    g_mime_object_get_header(o, "List-Unsubscribe") != NULL)
		return MAIL_AUTO_LIST;
	return MAIL_AUTO_NONE;
}

struct mail_grow {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static void
mail_grow_put(struct mail_grow *o, const char *p, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->s = xrealloc(o->s, o->cap);
	}
	if (n > 0)
		memcpy(o->s + o->len, p, n);
	o->len += n;
	o->s[o->len] = '\0';
}

/* U+FFFD for every byte the charset does not define: never give up. */
static void
mail_iconv(iconv_t cd, const char *in, size_t len, struct mail_grow *o)
{
	char chunk[4096], *ip = (char *)in, *op;
	size_t il = len, ol, r;

	while (il > 0) {
		op = chunk;
		ol = sizeof(chunk);
		r = iconv(cd, &ip, &il, &op, &ol);
		mail_grow_put(o, chunk, (size_t)(op - chunk));
		if (r != (size_t)-1 || errno == E2BIG)
			continue;
		if (il == 0)
			break;
		/* EILSEQ or EINVAL (cut short): skip a byte, mark it. */
		mail_grow_put(o, "\xef\xbf\xbd", 3);
		ip++;
		il--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	op = chunk;
	ol = sizeof(chunk);
	iconv(cd, NULL, NULL, &op, &ol);
	mail_grow_put(o, chunk, (size_t)(op - chunk));
}

static int
mail_charset_is(const char *cs, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(cs, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * Bytes in the part's declared charset to UTF-8 (not yet checked). No
 * charset or ASCII declared but 8-bit bytes sent is the common lie:
 * such text is taken as UTF-8 when it is valid UTF-8, else as
 * Windows-1252 (the superset of ISO-8859-1 that mailers which lie this
 * way write). An unknown charset gets the same guess. Declared UTF-8
 * stays UTF-8; its bad bytes are replaced later.
 */
static void
mail_to_utf8(const char *in, size_t len, const char *charset,
    struct mail_grow *o)
{
	static const char *const ascii[] = {
		"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us",
	};
	static const char *const utf8[] = { "utf-8", "utf8" };
	iconv_t cd = (iconv_t)-1;

	if (len == 0)
		return;
	if (charset != NULL && mail_charset_is(charset, utf8, 2)) {
		mail_grow_put(o, in, len);
		return;
	}
	if (charset != NULL && !mail_charset_is(charset, ascii, 4))
		cd = g_mime_iconv_open("UTF-8", charset);
	if (cd == (iconv_t)-1 && !g_utf8_validate(in, (gssize)len, NULL))
		cd = g_mime_iconv_open("UTF-8", "windows-1252");
	if (cd == (iconv_t)-1) {
		mail_grow_put(o, in, len);
		return;
	}
	mail_iconv(cd, in, len, o);
	g_mime_iconv_close(cd);
}

/*
 * Characters a reply to a patient must not carry: C0 and C1 controls
 * (but tab and newline) and the bidi overrides and isolates that can
 * make text read differently from what it says.
 */
static int
mail_char_dropped(gunichar c)
{
	if (c == '\t' || c == '\n')
		return 0;
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0xfeff;
}

/*
 * Converted bytes to the text heard keeps: \n line ends (CRLF and a
 * lone CR both), bad UTF-8 as U+FFFD, dropped characters gone, at most
 * MAIL_MAX_TEXT bytes, cut on a character boundary.
 */
static char *
mail_clean(const char *s, size_t len)
{
	struct mail_grow o = { NULL, 0, 0 };
	gunichar c;
	size_t i = 0, n;

	mail_grow_put(&o, "", 0);
	while (i < len && o.len + 4 <= MAIL_MAX_TEXT) {
		if (s[i] == '\r') {
			mail_grow_put(&o, "\n", 1);
			i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
			continue;
		}
		c = g_utf8_get_char_validated(s + i, (gssize)(len - i));
		if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0) {
			if (s[i] != '\0')
				mail_grow_put(&o, "\xef\xbf\xbd", 3);
			i++;
			continue;
		}
		n = (size_t)(g_utf8_next_char(s + i) - (s + i));
		if (!mail_char_dropped(c))
			mail_grow_put(&o, s + i, n);
		i += n;
	}
	return o.s;
}

/* Parts deeper than this are not looked into (GMime stops sooner). */
#define MAIL_MAX_DEPTH	32

struct mail_body {
	GMimePart	*plain;	/* borrowed from the message */
	GMimePart	*html;	/* borrowed from the message */
};

/*
 * The first text/plain and the first text/html that are not
 * attachments, depth first. An attached message (message/rfc822) is
 * someone else's words, so it is not entered.
 */
static void
mail_body_find(GMimeObject *o, struct mail_body *b, int depth)
{
	GMimeContentType *ct;
	GMimePart *p;
	int i, n;

	if (o == NULL || depth > MAIL_MAX_DEPTH)
		return;
	if (GMIME_IS_MULTIPART(o)) {
		n = g_mime_multipart_get_count(GMIME_MULTIPART(o));
		for (i = 0; i < n && b->plain == NULL; i++)
			mail_body_find(g_mime_multipart_get_part(
			    GMIME_MULTIPART(o), i), b, depth + 1);
		return;
	}
	if (!GMIME_IS_PART(o))
		return;
	p = GMIME_PART(o);
	ct = g_mime_object_get_content_type(o);
	if (ct == NULL || g_mime_part_is_attachment(p))
		return;
	if (b->plain == NULL && g_mime_content_type_is_type(ct, "text",
	    "plain"))
		b->plain = p;
	else if (b->html == NULL && g_mime_content_type_is_type(ct, "text",
	    "html"))
		b->html = p;
}

/* The part's content, transfer encoding undone, in UTF-8 (unchecked). */
static void
mail_part_text(GMimePart *p, struct mail_grow *o)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(p);
	GMimeStream *s;
	GByteArray *ba;
	size_t n;

	if (dw == NULL)
		return;
	s = g_mime_stream_mem_new();
	g_mime_data_wrapper_write_to_stream(dw, s);
	ba = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(s));
	/* Room for the text kept and for what cleaning takes out. */
	n = ba->len < 2 * MAIL_MAX_TEXT ? ba->len : 2 * MAIL_MAX_TEXT;
	mail_to_utf8((const char *)ba->data, n,
	    g_mime_object_get_content_type_parameter(GMIME_OBJECT(p),
	    "charset"), o);
	g_object_unref(s);
}

static int
mail_param_is(GMimePart *p, const char *name, const char *value)
{
	const char *v = g_mime_object_get_content_type_parameter(
	    GMIME_OBJECT(p), name);

	return v != NULL && strcasecmp(v, value) == 0;
}

/* The ">"s that start a flowed line; *body past them and any stuffing. */
static size_t
mail_flowed_depth(const char *line, const char **body)
{
	size_t d = 0;

	while (line[d] == '>')
		d++;
	*body = line + d + (line[d] == ' ' ? 1 : 0);
	return d;
}

/*
 * format=flowed (RFC 3676): a line that ends in a space goes on in the
 * next one of the same quote depth, so paragraphs come back whole
 * instead of cut at the sender's 72 columns. "-- " stays a line of its
 * own; with delsp=yes the space at the join was added by the sender
 * and goes.
 */
static char *
mail_unflow(const char *text, int delsp)
{
	struct mail_grow o = { NULL, 0, 0 };
	const char *line = text, *end, *body, *next;
	size_t depth, n;
	int soft = 0;

	mail_grow_put(&o, "", 0);
	while (*line != '\0') {
		end = strchr(line, '\n');
		n = end != NULL ? (size_t)(end - line) : strlen(line);
		depth = mail_flowed_depth(line, &body);
		if (!soft && depth > 0) {
			mail_grow_put(&o, line, depth);
			mail_grow_put(&o, " ", 1);
		}
		n -= (size_t)(body - line);
		soft = n > 0 && body[n - 1] == ' ' && !(n == 3 &&
		    strncmp(body, "-- ", 3) == 0) && end != NULL;
		if (soft)
			soft = end[1] != '\0' &&
			    mail_flowed_depth(end + 1, &next) == depth;
		mail_grow_put(&o, body, soft && delsp ? n - 1 : n);
		if (!soft && end != NULL)
			mail_grow_put(&o, "\n", 1);
		if (end == NULL)
			break;
		line = end + 1;
	}
	return o.s;
}

/* Elements below this depth are left alone (libxml2 stops sooner). */
#define MAIL_MAX_HTML_DEPTH	256

static void
mail_html_prune(xmlNodePtr n, int depth)
{
	xmlNodePtr c, next;

	if (depth > MAIL_MAX_HTML_DEPTH)
		return;
	for (c = n->children; c != NULL; c = next) {
		next = c->next;
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (xmlStrcasecmp(c->name, BAD_CAST "blockquote") == 0) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		} else
			mail_html_prune(c, depth + 1);
	}
}

/*
 * An HTML reply's text without its <blockquote>s: Gmail, Apple Mail
 * and Thunderbird put the quoted mail there, and as text it would lose
 * the "> " that tells reply_strip it is quoted. The "On ... wrote:"
 * line above it stays for reply_strip to drop.
 */
static char *
mail_html_text(const char *html, size_t len)
{
	htmlDocPtr doc;
	xmlChar *out = NULL;
	int n = 0;
	char *t;

	doc = htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_COMPACT);
	if (doc == NULL || xmlDocGetRootElement(doc) == NULL) {
		xmlFreeDoc(doc);
		return htmltext(html, len, MAIL_MAX_TEXT, 0);
	}
	mail_html_prune((xmlNodePtr)doc, 0);
	/* Dumped as UTF-8 whatever a <meta> in it claims. */
	htmlSetMetaEncoding(doc, BAD_CAST "UTF-8");
	htmlDocDumpMemoryFormat(doc, &out, &n, 0);
	xmlFreeDoc(doc);
	t = htmltext(out != NULL ? (const char *)out : "",
	    out != NULL ? (size_t)n : 0, MAIL_MAX_TEXT, 0);
	xmlFree(out);
	return t;
}

static void
mail_body(struct mail_msg *m, GMimeMessage *msg)
{
	struct mail_body b = { NULL, NULL };
	struct mail_grow o = { NULL, 0, 0 };
	char *clean;

	mail_body_find(g_mime_message_get_mime_part(msg), &b, 0);
	if (b.plain != NULL)
		mail_part_text(b.plain, &o);
	else if (b.html != NULL)
		mail_part_text(b.html, &o);
	clean = mail_clean(o.s != NULL ? o.s : "", o.len);
	free(o.s);
	if (b.plain != NULL && mail_param_is(b.plain, "format", "flowed")) {
		o.s = mail_unflow(clean, mail_param_is(b.plain, "delsp",
		    "yes"));
		free(clean);
		clean = o.s;
	}
	if (b.plain == NULL && b.html != NULL) {
		m->text = mail_html_text(clean, strlen(clean));
		m->text_from_html = 1;
		free(clean);
	} else
		m->text = clean;
}

/* Some header a message has: garbage that GMime read leniently has none. */
static int
mail_has_headers(GMimeMessage *msg)
{
	static const char *const any[] = {
		"From", "Sender", "Return-Path", "To", "Date", "Message-ID",
		"Subject",
	};
	size_t i;

	for (i = 0; i < sizeof(any) / sizeof(any[0]); i++)
		if (g_mime_object_get_header(GMIME_OBJECT(msg),
		    any[i]) != NULL)
			return 1;
	return 0;
}

/* A blank line ends the header section: the message has a body. */
static int
mail_has_body(const char *bytes, size_t len)
{
	return memmem(bytes, len, "\n\n", 2) != NULL ||
	    memmem(bytes, len, "\n\r\n", 3) != NULL;
}

static GMimeMessage *
mail_read(const char *bytes, size_t len, struct mail_ctx *ctx)
{
	GMimeParserOptions *opt;
	GMimeStream *s;
	GMimeParser *p;
	GMimeMessage *msg;

	s = g_mime_stream_mem_new_with_buffer(bytes, len);
	p = g_mime_parser_new_with_stream(s);
	g_mime_parser_set_format(p, GMIME_FORMAT_MESSAGE);
	opt = g_mime_parser_options_new();
	g_mime_parser_options_set_warning_callback(opt, mail_warning, ctx);
	msg = g_mime_parser_construct_message(p, opt);
	g_mime_parser_options_free(opt);
	g_object_unref(p);
	g_object_unref(s);
	return msg;
}

int
mail_parse(const char *bytes, size_t len, struct mail_msg *out, char *err,
    size_t errlen)
{
	struct mail_ctx ctx = { 0, 0 };
	GMimeMessage *msg;

	memset(out, 0, sizeof(*out));
	if (bytes == NULL || len == 0) {
		mail_err(err, errlen, "empty message");
		return -1;
	}
	if (len > MAIL_MAX_BYTES) {
		mail_err(err, errlen, "message of %zu bytes is over the "
		    "%d-byte limit", len, MAIL_MAX_BYTES);
		return -1;
	}
	mail_init();
	if ((msg = mail_read(bytes, len, &ctx)) == NULL) {
		mail_err(err, errlen, "not a mail message: no header section "
		    "can be read (cut short, or not RFC 5322)");
		return -1;
	}
	if (!mail_has_headers(msg)) {
		mail_err(err, errlen, "not a mail message: none of From, To, "
		    "Date, Subject or Message-ID");
		g_object_unref(msg);
		return -1;
	}
	/*
	 * GMime also says "truncated" when the headers are all there is and
	 * no blank line ends them, which RFC 5322 allows; only a cut body
	 * (a multipart without its closing boundary) is refused.
	 */
	if (ctx.nesting || (ctx.truncated && mail_has_body(bytes, len))) {
		mail_err(err, errlen, "%s", ctx.nesting ?
		    "MIME parts nested too deep" :
		    "truncated message: it ends inside a MIME part");
		g_object_unref(msg);
		return -1;
	}
	mail_headers(out, msg);
	out->auto_kind = mail_auto_kind(out, msg);
	mail_body(out, msg);
	g_object_unref(msg);
	return 0;
}

void
mail_msg_free(struct mail_msg *m)
{
	size_t i;

	if (m == NULL)
		return;
	free(m->from_addr);
	free(m->from_name);
	free(m->return_path);
	for (i = 0; i < m->nrcpts; i++)
		free(m->rcpts[i]);
	free(m->message_id);
	free(m->in_reply_to);
	free(m->subject);
	free(m->text);
	memset(m, 0, sizeof(*m));
}
