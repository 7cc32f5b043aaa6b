/* feed: RSS 0.9x, 1.0 (RDF), 2.0 and Atom 0.3, 1.0 documents, one shape. */
#include "feed.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "arena.h"
#include "buf.h"
#include "date.h"
#include "htmltext.h"

#define NS_ATOM10	"http://www.w3.org/2005/Atom"
#define NS_ATOM03	"http://purl.org/atom/ns#"
#define NS_RDF		"http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_RSS10	"http://purl.org/rss/1.0/"
#define NS_RSS090	"http://my.netscape.com/rdf/simple/0.9/"
#define NS_DC		"http://purl.org/dc/elements/1.1/"
#define NS_DCTERMS	"http://purl.org/dc/terms/"
#define NS_CONTENT	"http://purl.org/rss/1.0/modules/content/"
#define NS_XHTML	"http://www.w3.org/1999/xhtml"

#define FEED_MAX_AUTHORS	16
#define FEED_MAX_DEPTH		256
#define FEED_MAX_VISITS		(8 * 1024 * 1024)

/*
 * Never XML_PARSE_NOENT, DTDLOAD or DTDATTR: no external entity or DTD
 * is read, so a feed cannot make us open a file or a URL. NOCDATA turns
 * CDATA into text, so serialised markup reaches HTML parsers escaped.
 */
#define FEED_XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | \
				 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)

/* Which vocabulary an element is from. */
enum feed_ns {
	FNS_CORE,	/* the format's own */
	FNS_DC,
	FNS_DCTERMS,
	FNS_CONTENT,
	FNS_XHTML,
	FNS_OTHER,
};

struct feed_ctx {
	struct feed		*f;
	struct arena		*a;
	const xmlChar		*core;	/* root's namespace, or NULL */
	int			 atom;
	size_t			 budget;	/* text bytes left, in all */
	size_t			 visits;	/* nodes left to read */
	struct feed_person	*feed_authors;	/* Atom: entries inherit */
	size_t			 nfeed_authors;
};

/* The entry being read, and what only its end can settle. */
struct feed_cur {
	struct feed_entry	*e;
	const xmlChar		*summary_tag;	/* element that set summary */
	const char		*permalink;	/* guid that may be the link */
	int			 alt_link;	/* link is rel="alternate" */
	struct feed_person	 people[FEED_MAX_AUTHORS];
	size_t			 npeople;
};

struct feed_entry_rule {
	enum feed_ns	 ns;
	const char	*name;
	void		(*fn)(struct feed_ctx *, struct feed_cur *, xmlNode *);
};

struct feed_head_rule {
	enum feed_ns	 ns;
	const char	*name;
	void		(*fn)(struct feed_ctx *, xmlNode *);
};

/* Marks, in node->_private, an element whose end tag was read. */
static const char feed_closed;

const char *
feed_format_name(enum feed_format fmt)
{
	static const char *const names[] = {
		[FEED_NONE] = "none",
		[FEED_RSS09X] = "rss09x",
		[FEED_RSS20] = "rss20",
		[FEED_RDF] = "rdf",
		[FEED_ATOM03] = "atom03",
		[FEED_ATOM10] = "atom10",
	};

	if ((size_t)fmt >= sizeof(names) / sizeof(names[0]))
		return "none";
	return names[fmt];
}

static int
feed_streq(const xmlChar *a, const char *b)
{
	return a != NULL && strcmp((const char *)a, b) == 0;
}

/* Keeps the first error as "line L:C: message", on one clean line. */
static void
feed_note(struct feed *f, int line, int col, const char *msg)
{
	char *clean;

	f->bozo = 1;
	if (f->error[0] != '\0' || msg == NULL)
		return;
	clean = htmltext_plain(msg, strlen(msg), 120, HTMLTEXT_ONELINE);
	if (line > 0)
		snprintf(f->error, sizeof(f->error), "line %d:%d: %s", line,
		    col, clean);
	else
		snprintf(f->error, sizeof(f->error), "%s", clean);
	free(clean);
}

/* One parse's view of its errors, in the parser's _private. */
struct feed_read_state {
	struct feed	*f;
	int		 hostile;	/* entity expansion attack */
};

/* libxml2's structured errors; data is the parser context. */
static void
feed_xml_error(void *data, xmlErrorPtr err)
{
	xmlParserCtxtPtr ctxt = data;
	struct feed_read_state *st = ctxt->_private;

	/* Namespace errors count too: feeds with undeclared prefixes. */
	if (err == NULL || err->level < XML_ERR_ERROR)
		return;
	if (err->code == XML_ERR_ENTITY_LOOP)
		st->hostile = 1;
	feed_note(st->f, err->line, err->int2, err->message);
}

/* Errors libxml2 raises outside a parser context (encoders). */
static void
feed_generic_error(void *data, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	feed_note(data, 0, 0, msg);
}

/*
 * Entities the document never declared: HTML's named entities are what
 * feeds mean by them (RSS 0.91 with Netscape's DTD, which we never
 * load, or no DTD at all). Each is declared as met, as a character
 * reference, so the text survives; the feed is bozo all the same.
 */
static xmlEntityPtr
feed_get_entity(void *data, const xmlChar *name)
{
	xmlParserCtxtPtr ctxt = data;
	struct feed_read_state *st = ctxt->_private;
	const htmlEntityDesc *h;
	xmlEntityPtr ent;
	xmlDocPtr doc = ctxt->myDoc;
	char ref[16], msg[96];

	if ((ent = xmlSAX2GetEntity(data, name)) != NULL || doc == NULL ||
	    ctxt->inSubset != 0 || (h = htmlEntityLookup(name)) == NULL)
		return ent;
	if (doc->intSubset == NULL &&
	    xmlCreateIntSubset(doc, NULL, NULL, NULL) == NULL)
		return NULL;
	snprintf(ref, sizeof(ref), "&#%u;", h->value);
	snprintf(msg, sizeof(msg), "Entity '%.40s' not defined, read as "
	    "HTML's", (const char *)name);
	feed_note(st->f, ctxt->input->line, ctxt->input->col, msg);
	return xmlAddDocEntity(doc, name, XML_INTERNAL_GENERAL_ENTITY, NULL,
	    NULL, (const xmlChar *)ref);
}

static void
feed_quiet(void *data, const char *fmt, ...)
{
	(void)data;
	(void)fmt;
}

/* Records which elements were closed by an end tag (see feed_read). */
static void
feed_end_element(void *data, const xmlChar *localname,
    const xmlChar *prefix, const xmlChar *uri)
{
	xmlParserCtxtPtr ctxt = data;
	xmlNodePtr cur = ctxt->node;

	xmlSAX2EndElementNs(data, localname, prefix, uri);
	if (cur != NULL)
		cur->_private = (void *)&feed_closed;
}

static xmlDocPtr
feed_read(struct feed *f, const char *buf, size_t len, const char *enc,
    int recover, int *hostile)
{
	struct feed_read_state st = { f, 0 };
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;

	if ((ctxt = xmlNewParserCtxt()) == NULL) {
		feed_note(f, 0, 0, "out of memory");
		return NULL;
	}
	ctxt->_private = &st;
	ctxt->sax->serror = feed_xml_error;
	ctxt->sax->endElementNs = feed_end_element;
	ctxt->sax->getEntity = feed_get_entity;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, enc,
	    FEED_XML_OPTIONS | (recover ? XML_PARSE_RECOVER : 0));
	if (!ctxt->wellFormed || !ctxt->nsWellFormed)
		feed_note(f, 0, 0, "not well-formed");
	xmlFreeParserCtxt(ctxt);
	*hostile = st.hostile;
	return doc;
}

/* Whether the bytes say their own encoding (BOM, UTF-16, declaration). */
static int
feed_self_described(const char *buf, size_t len)
{
	const unsigned char *u = (const unsigned char *)buf;
	const char *end;

	if (len >= 2 && ((u[0] == 0xfe && u[1] == 0xff) ||
	    (u[0] == 0xff && u[1] == 0xfe) || u[0] == 0 || u[1] == 0))
		return 1;
	if (len >= 3 && u[0] == 0xef && u[1] == 0xbb && u[2] == 0xbf)
		return 1;
	if (len < 5 || memcmp(buf, "<?xml", 5) != 0)
		return 0;
	if ((end = memchr(buf, '>', len < 512 ? len : 512)) == NULL)
		return 0;
	return memmem(buf, (size_t)(end - buf), "encoding", 8) != NULL;
}

/* The HTTP charset, if it is needed and looks like a charset name. */
static const char *
feed_charset(const char *buf, size_t len, const char *charset)
{
	size_t i, n;

	if (charset == NULL || feed_self_described(buf, len))
		return NULL;
	n = strlen(charset);
	if (n == 0 || n > 40)
		return NULL;
	for (i = 0; i < n; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:", charset[i]) ==
		    NULL)
			return NULL;
	return charset;
}

static enum feed_ns
feed_ns_of(const struct feed_ctx *ctx, const xmlNode *n)
{
	static const struct {
		const char	*href;
		enum feed_ns	 ns;
	} known[] = {
		{ NS_DC, FNS_DC }, { NS_DCTERMS, FNS_DCTERMS },
		{ NS_CONTENT, FNS_CONTENT }, { NS_XHTML, FNS_XHTML },
	};
	const xmlChar *href = n->ns != NULL ? n->ns->href : NULL;
	size_t i;

	if (href == NULL)
		return ctx->core == NULL || !ctx->atom ? FNS_CORE : FNS_OTHER;
	if (ctx->core != NULL && xmlStrEqual(href, ctx->core))
		return FNS_CORE;
	if (ctx->atom && (feed_streq(href, NS_ATOM10) ||
	    feed_streq(href, NS_ATOM03)))
		return FNS_CORE;
	if (!ctx->atom && (feed_streq(href, NS_RSS10) ||
	    feed_streq(href, NS_RSS090)))
		return FNS_CORE;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (feed_streq(href, known[i].href))
			return known[i].ns;
	return FNS_OTHER;
}

static int
feed_is(const struct feed_ctx *ctx, const xmlNode *n, enum feed_ns ns,
    const char *name)
{
	return n->type == XML_ELEMENT_NODE && feed_streq(n->name, name) &&
	    feed_ns_of(ctx, n) == ns;
}

/* Appends up to the cap, cutting on a UTF-8 boundary. */
static void
feed_put(struct feed_ctx *ctx, struct buf *b, const char *s, size_t n)
{
	size_t room = FEED_MAX_TEXT - b->len;

	if (room > ctx->budget)
		room = ctx->budget;
	if (n > room) {
		n = room;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	}
	buf_append(b, s, n);
	ctx->budget -= n;
}

/*
 * Text of n's children, with internal entities expanded, bounded in
 * depth, nodes visited and bytes, whatever the entities multiply to.
 */
static void
feed_collect(struct feed_ctx *ctx, struct buf *b, xmlNode *n, int depth)
{
	xmlEntity *ent;

	for (; n != NULL && ctx->visits > 0; n = n->next) {
		ctx->visits--;
		if ((n->type == XML_TEXT_NODE ||
		    n->type == XML_CDATA_SECTION_NODE) && n->content != NULL)
			feed_put(ctx, b, (const char *)n->content,
			    strlen((const char *)n->content));
		else if (depth >= FEED_MAX_DEPTH)
			continue;
		else if (n->type == XML_ELEMENT_NODE)
			feed_collect(ctx, b, n->children, depth + 1);
		else if (n->type == XML_ENTITY_REF_NODE &&
		    (ent = (xmlEntity *)n->children) != NULL &&
		    ent->type == XML_ENTITY_DECL)
			feed_collect(ctx, b, ent->children, depth + 1);
	}
}

static const char *
feed_buf_done(struct feed_ctx *ctx, struct buf *b)
{
	const char *s;

	s = arena_strndup(ctx->a, b->data != NULL ? b->data : "", b->len);
	buf_free(b);
	return s;
}

/* Text content of an element, one level of XML decoding. */
static const char *
feed_text(struct feed_ctx *ctx, xmlNode *n)
{
	struct buf b;

	buf_init(&b, 0);
	feed_collect(ctx, &b, n->children, 0);
	return feed_buf_done(ctx, &b);
}

static int
feed_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Text content without surrounding blanks; NULL if nothing is left. */
static const char *
feed_token(struct feed_ctx *ctx, xmlNode *n)
{
	const char *s = feed_text(ctx, n);
	size_t len;

	while (feed_is_space(*s))
		s++;
	len = strlen(s);
	while (len > 0 && feed_is_space(s[len - 1]))
		len--;
	return len == 0 ? NULL : arena_strndup(ctx->a, s, len);
}

/* Children serialised as markup, as `xmllint --xpath 'x/node()'`. */
static const char *
feed_inner(struct feed_ctx *ctx, xmlNode *n)
{
	xmlBufferPtr xb = xmlBufferCreate();
	struct buf b;
	xmlNode *c;

	buf_init(&b, 0);
	for (c = n->children; c != NULL && xb != NULL; c = c->next) {
		xmlBufferEmpty(xb);
		if (xmlNodeDump(xb, n->doc, c, 0, 0) < 0)
			continue;
		feed_put(ctx, &b, (const char *)xmlBufferContent(xb),
		    (size_t)xmlBufferLength(xb));
	}
	if (xb != NULL)
		xmlBufferFree(xb);
	return feed_buf_done(ctx, &b);
}

static int
feed_has_elements(const xmlNode *n)
{
	for (n = n->children; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE)
			return 1;
	return 0;
}

/*
 * RSS text: markup written straight into the element is kept as
 * markup; otherwise the decoded text, of the field's usual type.
 */
static const char *
feed_rss_text(struct feed_ctx *ctx, xmlNode *n, enum feed_text *type,
    enum feed_text deftype)
{
	if (feed_has_elements(n)) {
		*type = FEED_TEXT_XHTML;
		return feed_inner(ctx, n);
	}
	*type = deftype;
	return feed_text(ctx, n);
}

static int
feed_b64_value(char c)
{
	static const char set[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const char *p;

	if (c == '\0' || (p = strchr(set, c)) == NULL)
		return -1;
	return (int)(p - set);
}

/* Base64 text as UTF-8; NULL if it is not base64 or not text. */
static const char *
feed_base64(struct feed_ctx *ctx, const char *s)
{
	size_t n = 0, bits = 0;
	unsigned long acc = 0;
	char *out = arena_alloc(ctx->a, strlen(s) / 4 * 3 + 4);
	int v;

	for (; *s != '\0'; s++) {
		if (feed_is_space(*s))
			continue;
		if (*s == '=')
			break;
		if ((v = feed_b64_value(*s)) == -1)
			return NULL;
		acc = (acc << 6) | (unsigned long)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[n++] = (char)((acc >> bits) & 0xff);
		}
	}
	out[n] = '\0';
	if (memchr(out, '\0', n) != NULL ||
	    !xmlCheckUTF8((const unsigned char *)out))
		return NULL;
	return out;
}

/* Kind of an Atom type attribute (1.0 names or 0.3 MIME types). */
static enum feed_text
feed_atom_kind(const xmlChar *type, int *base64)
{
	const char *t = (const char *)type;
	size_t n = t != NULL ? strlen(t) : 0;

	*base64 = 0;
	if (n == 0 || strcmp(t, "text") == 0 || strcmp(t, "text/plain") == 0)
		return FEED_TEXT_PLAIN;
	if (strcmp(t, "html") == 0 || strcmp(t, "text/html") == 0)
		return FEED_TEXT_HTML;
	if (strcmp(t, "xhtml") == 0 || (n >= 4 && (strcmp(t + n - 4,
	    "/xml") == 0 || strcmp(t + n - 4, "+xml") == 0)))
		return FEED_TEXT_XHTML;
	/* Atom 1.0 3.1.1 / 4.1.3.3: other media types are base64. */
	*base64 = strncmp(t, "text/", 5) != 0;
	return FEED_TEXT_PLAIN;
}

/* The div an Atom xhtml construct must be wrapped in, if it is. */
static xmlNode *
feed_xhtml_div(xmlNode *n)
{
	xmlNode *c, *div = NULL;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (div != NULL || !feed_streq(c->name, "div") ||
			    c->ns == NULL ||
			    !feed_streq(c->ns->href, NS_XHTML))
				return NULL;
			div = c;
		} else if (c->type == XML_TEXT_NODE && !xmlIsBlankNode(c))
			return NULL;
	}
	return div;
}

/* An Atom text construct (title, summary, content), either version. */
static const char *
feed_atom_text(struct feed_ctx *ctx, xmlNode *n, enum feed_text *type)
{
	xmlChar *t = xmlGetProp(n, (const xmlChar *)"type");
	xmlChar *mode = xmlGetProp(n, (const xmlChar *)"mode");
	int base64;
	xmlNode *div;

	*type = feed_atom_kind(t, &base64);
	/* Atom 0.3 says base64 with mode="base64", whatever the type. */
	if (ctx->f->format == FEED_ATOM03)
		base64 = feed_streq(mode, "base64");
	xmlFree(t);
	if (base64 || (mode != NULL && feed_streq(mode, "escaped"))) {
		xmlFree(mode);
		return base64 ? feed_base64(ctx, feed_text(ctx, n)) :
		    feed_text(ctx, n);
	}
	xmlFree(mode);
	if (*type == FEED_TEXT_XHTML) {
		div = feed_xhtml_div(n);
		return feed_inner(ctx, div != NULL ? div : n);
	}
	/* Atom 0.3's default mode is xml: markup written in stays markup. */
	if (ctx->f->format == FEED_ATOM03 && feed_has_elements(n)) {
		*type = FEED_TEXT_XHTML;
		return feed_inner(ctx, n);
	}
	return feed_text(ctx, n);
}

/*
 * "Name (me@example.com)", "Name <me@example.com>",
 * "me@example.com (Name)" or just either: the RSS author forms.
 */
static void
feed_person_split(struct feed_ctx *ctx, const char *s,
    struct feed_person *p)
{
	const char *at = strchr(s, '@'), *b, *e;
	char *rest;
	size_t n;

	memset(p, 0, sizeof(*p));
	if (at == NULL) {
		p->name = s;
		return;
	}
	for (b = at; b > s && strchr(" \t\r\n(<[\"", b[-1]) == NULL; b--)
		;
	for (e = at; *e != '\0' && strchr(" \t\r\n)>]\"", *e) == NULL; e++)
		;
	rest = arena_printf(ctx->a, "%.*s%s", (int)(b - s), s, e);
	if (strncmp(b, "mailto:", 7) == 0)
		b += 7;
	p->email = arena_strndup(ctx->a, b, (size_t)(e - b));
	/* What is left, less the brackets that held the address. */
	for (;;) {
		while (feed_is_space(*rest))
			rest++;
		n = strlen(rest);
		while (n > 0 && feed_is_space(rest[n - 1]))
			rest[--n] = '\0';
		if (n >= 2 && strchr("(<[\"", rest[0]) != NULL &&
		    strchr(")>]\"", rest[n - 1]) != NULL) {
			rest[n - 1] = '\0';
			rest++;
		} else if (n >= 2 && strchr("(<[", rest[n - 2]) != NULL &&
		    strchr(")>]", rest[n - 1]) != NULL)
			rest[n - 2] = '\0';
		else
			break;
	}
	p->name = rest[0] != '\0' ? rest : NULL;
}

static void
feed_add_person(struct feed_cur *cur, const struct feed_person *p)
{
	if (cur->npeople < FEED_MAX_AUTHORS &&
	    (p->name != NULL || p->email != NULL))
		cur->people[cur->npeople++] = *p;
}

static void
feed_date(struct feed_ctx *ctx, xmlNode *n, int64_t *t, int *has)
{
	const char *s = feed_token(ctx, n);
	int64_t v;

	/* Unreadable dates are left out; a later good one still counts. */
	if (s != NULL && date_parse(s, &v) == 0) {
		*t = v;
		*has = 1;
	}
}

static void
feed_e_published(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	feed_date(ctx, n, &cur->e->published, &cur->e->has_published);
}

static void
feed_e_updated(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	feed_date(ctx, n, &cur->e->updated, &cur->e->has_updated);
}

static void
feed_rss_title(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->title = feed_rss_text(ctx, n, &cur->e->title_type,
	    FEED_TEXT_PLAIN);
}

static void
feed_rss_link(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	const char *s = feed_token(ctx, n);

	if (s != NULL)
		cur->e->link = s;
}

static void
feed_rss_guid(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	xmlChar *perma = xmlGetProp(n, (const xmlChar *)"isPermaLink");
	const char *s = feed_token(ctx, n);

	if (s != NULL) {
		cur->e->id = s;
		/*
		 * RSS 2.0: isPermaLink defaults to true, but a guid that is
		 * no URL ("story-12") is no link, whatever it claims.
		 */
		cur->permalink = feed_streq(perma, "false") ||
		    strstr(s, "://") == NULL ? NULL : s;
	}
	xmlFree(perma);
}

/*
 * description and a stray summary both mean summary; when an item has
 * both, the later one is taken as the content (as feedparser does).
 */
static void
feed_rss_summary(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	struct feed_entry *e = cur->e;

	if (e->summary != NULL && cur->summary_tag != NULL &&
	    !xmlStrEqual(cur->summary_tag, n->name) && e->content == NULL) {
		e->content = feed_rss_text(ctx, n, &e->content_type,
		    FEED_TEXT_HTML);
		return;
	}
	e->summary = feed_rss_text(ctx, n, &e->summary_type, FEED_TEXT_HTML);
	cur->summary_tag = n->name;
}

static void
feed_rss_content(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->content = feed_rss_text(ctx, n, &cur->e->content_type,
	    FEED_TEXT_HTML);
}

static void
feed_xhtml_body(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->content = feed_inner(ctx, n);
	cur->e->content_type = FEED_TEXT_XHTML;
}

static void
feed_rss_author(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	struct feed_person p;
	const char *s = feed_token(ctx, n);

	if (s == NULL)
		return;
	feed_person_split(ctx, s, &p);
	feed_add_person(cur, &p);
}

static const struct feed_entry_rule feed_rss_item_rules[] = {
	{ FNS_CORE, "title", feed_rss_title },
	{ FNS_DC, "title", feed_rss_title },
	{ FNS_CORE, "link", feed_rss_link },
	{ FNS_CORE, "guid", feed_rss_guid },
	{ FNS_CORE, "description", feed_rss_summary },
	{ FNS_CORE, "summary", feed_rss_summary },
	{ FNS_DC, "description", feed_rss_summary },
	{ FNS_CONTENT, "encoded", feed_rss_content },
	{ FNS_CORE, "fullitem", feed_rss_content },
	{ FNS_XHTML, "body", feed_xhtml_body },
	{ FNS_CORE, "author", feed_rss_author },
	{ FNS_DC, "creator", feed_rss_author },
	{ FNS_DC, "author", feed_rss_author },
	{ FNS_CORE, "pubDate", feed_e_published },
	{ FNS_DCTERMS, "issued", feed_e_published },
	{ FNS_DC, "date", feed_e_updated },
	{ FNS_DCTERMS, "modified", feed_e_updated },
	{ 0, NULL, NULL },
};

static void
feed_atom_title(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->title = feed_atom_text(ctx, n, &cur->e->title_type);
}

static void
feed_atom_summary(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->summary = feed_atom_text(ctx, n, &cur->e->summary_type);
}

static void
feed_atom_content(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	cur->e->content = feed_atom_text(ctx, n, &cur->e->content_type);
}

static void
feed_atom_id(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	const char *s = feed_token(ctx, n);

	if (s != NULL)
		cur->e->id = s;
}

/* An Atom link's target: href, or (Atom 0.3 drafts) its text. */
static const char *
feed_atom_href(struct feed_ctx *ctx, xmlNode *n)
{
	xmlChar *href = xmlGetProp(n, (const xmlChar *)"href");
	const char *s;

	if (href == NULL)
		return feed_token(ctx, n);
	s = arena_strdup(ctx->a, (const char *)href);
	xmlFree(href);
	while (feed_is_space(*s))
		s++;
	return s[0] != '\0' ? s : NULL;
}

/* rel="alternate" or no rel: the first one is the entry's link. */
static int
feed_atom_alternate(xmlNode *n)
{
	xmlChar *rel = xmlGetProp(n, (const xmlChar *)"rel");
	int alt = rel == NULL || feed_streq(rel, "alternate") ||
	    feed_streq(rel, "http://www.iana.org/assignments/relation/"
	    "alternate");

	xmlFree(rel);
	return alt;
}

static void
feed_atom_link(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	const char *href;

	if (cur->alt_link || !feed_atom_alternate(n))
		return;
	if ((href = feed_atom_href(ctx, n)) != NULL) {
		cur->e->link = href;
		cur->alt_link = 1;
	}
}

/* An Atom person construct: name, email, uri (0.3: url). */
static void
feed_atom_person(struct feed_ctx *ctx, xmlNode *n, struct feed_person *p)
{
	xmlNode *c;

	memset(p, 0, sizeof(*p));
	for (c = n->children; c != NULL; c = c->next) {
		if (feed_is(ctx, c, FNS_CORE, "name"))
			p->name = feed_token(ctx, c);
		else if (feed_is(ctx, c, FNS_CORE, "email"))
			p->email = feed_token(ctx, c);
		else if (feed_is(ctx, c, FNS_CORE, "uri") ||
		    feed_is(ctx, c, FNS_CORE, "url"))
			p->uri = feed_token(ctx, c);
	}
}

static void
feed_atom_author(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *n)
{
	struct feed_person p;

	feed_atom_person(ctx, n, &p);
	feed_add_person(cur, &p);
}

static const struct feed_entry_rule feed_atom_entry_rules[] = {
	{ FNS_CORE, "title", feed_atom_title },
	{ FNS_CORE, "id", feed_atom_id },
	{ FNS_CORE, "link", feed_atom_link },
	{ FNS_CORE, "summary", feed_atom_summary },
	{ FNS_CORE, "content", feed_atom_content },
	{ FNS_CORE, "author", feed_atom_author },
	{ FNS_CORE, "published", feed_e_published },
	{ FNS_CORE, "issued", feed_e_published },
	{ FNS_CORE, "updated", feed_e_updated },
	{ FNS_CORE, "modified", feed_e_updated },
	{ FNS_DC, "creator", feed_rss_author },
	{ 0, NULL, NULL },
};

static void
feed_entry_child(struct feed_ctx *ctx, struct feed_cur *cur, xmlNode *c,
    const struct feed_entry_rule *rules)
{
	enum feed_ns ns = feed_ns_of(ctx, c);
	const struct feed_entry_rule *r;

	for (r = rules; r->name != NULL; r++)
		if (r->ns == ns && feed_streq(c->name, r->name)) {
			r->fn(ctx, cur, c);
			return;
		}
}

/* What only the whole entry settles: link fallback, authors. */
static void
feed_entry_finish(struct feed_ctx *ctx, struct feed_cur *cur)
{
	struct feed_entry *e = cur->e;

	if (e->link == NULL && cur->permalink != NULL)
		e->link = cur->permalink;
	if (cur->npeople > 0) {
		e->nauthors = cur->npeople;
		e->authors = arena_alloc(ctx->a,
		    cur->npeople * sizeof(*e->authors));
		memcpy(e->authors, cur->people,
		    cur->npeople * sizeof(*e->authors));
	} else if (ctx->nfeed_authors > 0) {
		/* Atom 1.0 4.2.1: the feed's authors apply to the entry. */
		e->authors = ctx->feed_authors;
		e->nauthors = ctx->nfeed_authors;
	}
	if (e->nauthors > 0)
		e->author = e->authors[0];
}

static void
feed_entry(struct feed_ctx *ctx, xmlNode *n, struct feed_entry *e)
{
	const struct feed_entry_rule *rules = ctx->atom ?
	    feed_atom_entry_rules : feed_rss_item_rules;
	struct feed_cur cur;
	xmlChar *about;
	xmlNode *c;

	memset(&cur, 0, sizeof(cur));
	memset(e, 0, sizeof(*e));
	cur.e = e;
	/* RSS 1.0 and 0.90 name an item by its rdf:about. */
	if ((about = xmlGetNsProp(n, (const xmlChar *)"about",
	    (const xmlChar *)NS_RDF)) != NULL) {
		e->id = arena_strdup(ctx->a, (const char *)about);
		xmlFree(about);
	}
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			feed_entry_child(ctx, &cur, c, rules);
	feed_entry_finish(ctx, &cur);
}

static void
feed_h_title(struct feed_ctx *ctx, xmlNode *n)
{
	struct feed *f = ctx->f;

	f->title = ctx->atom ? feed_atom_text(ctx, n, &f->title_type) :
	    feed_rss_text(ctx, n, &f->title_type, FEED_TEXT_PLAIN);
}

static void
feed_h_link(struct feed_ctx *ctx, xmlNode *n)
{
	const char *s;

	if (ctx->atom) {
		if (ctx->f->link == NULL && feed_atom_alternate(n))
			ctx->f->link = feed_atom_href(ctx, n);
	} else if ((s = feed_token(ctx, n)) != NULL)
		ctx->f->link = s;
}

static void
feed_h_ttl(struct feed_ctx *ctx, xmlNode *n)
{
	const char *s = feed_token(ctx, n);
	char *end;
	long v;

	if (s == NULL)
		return;
	v = strtol(s, &end, 10);
	if (*end == '\0' && v > 0 && v <= 525600)	/* up to a year */
		ctx->f->ttl = v;
}

static void
feed_h_author(struct feed_ctx *ctx, xmlNode *n)
{
	struct feed_person *p;

	p = arena_alloc(ctx->a, (ctx->nfeed_authors + 1) * sizeof(*p));
	if (ctx->nfeed_authors > 0)
		memcpy(p, ctx->feed_authors, ctx->nfeed_authors * sizeof(*p));
	feed_atom_person(ctx, n, &p[ctx->nfeed_authors]);
	if (p[ctx->nfeed_authors].name == NULL &&
	    p[ctx->nfeed_authors].email == NULL)
		return;
	if (ctx->nfeed_authors < FEED_MAX_AUTHORS) {
		ctx->feed_authors = p;
		ctx->nfeed_authors++;
	}
}

static const struct feed_head_rule feed_rss_head_rules[] = {
	{ FNS_CORE, "title", feed_h_title },
	{ FNS_DC, "title", feed_h_title },
	{ FNS_CORE, "link", feed_h_link },
	{ FNS_CORE, "ttl", feed_h_ttl },
	{ 0, NULL, NULL },
};

static const struct feed_head_rule feed_atom_head_rules[] = {
	{ FNS_CORE, "title", feed_h_title },
	{ FNS_CORE, "link", feed_h_link },
	{ FNS_CORE, "author", feed_h_author },
	{ 0, NULL, NULL },
};

static void
feed_head(struct feed_ctx *ctx, xmlNode *parent)
{
	const struct feed_head_rule *rules = ctx->atom ?
	    feed_atom_head_rules : feed_rss_head_rules;
	const struct feed_head_rule *r;
	xmlNode *c;

	for (c = parent->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (r = rules; r->name != NULL; r++)
			if (feed_is(ctx, c, r->ns, r->name)) {
				r->fn(ctx, c);
				break;
			}
	}
}

/* Entries under parent (RSS: channel, and root for RDF; Atom: root). */
static size_t
feed_scan(struct feed_ctx *ctx, xmlNode *parent, struct feed_entry *out,
    size_t n, size_t max)
{
	const char *tag = ctx->atom ? "entry" : "item";
	xmlNode *c;

	for (c = parent != NULL ? parent->children : NULL; c != NULL;
	    c = c->next) {
		if (!feed_is(ctx, c, FNS_CORE, tag))
			continue;
		/* A cut-off entry would come back whole under another id. */
		if (ctx->f->recovered && c->_private != &feed_closed)
			continue;
		if (n >= max) {
			ctx->f->truncated = 1;
			break;
		}
		if (out != NULL)
			feed_entry(ctx, c, &out[n]);
		n++;
	}
	return n;
}

static xmlNode *
feed_child(struct feed_ctx *ctx, xmlNode *parent, const char *name)
{
	xmlNode *c;

	for (c = parent->children; c != NULL; c = c->next)
		if (feed_is(ctx, c, FNS_CORE, name))
			return c;
	return NULL;
}

static void
feed_body(struct feed_ctx *ctx, xmlNode *root)
{
	struct feed *f = ctx->f;
	xmlNode *chan = ctx->atom ? root : feed_child(ctx, root, "channel");
	size_t n;

	if (chan != NULL)
		feed_head(ctx, chan);
	n = feed_scan(ctx, chan, NULL, 0, FEED_MAX_ENTRIES);
	if (!ctx->atom)
		n = feed_scan(ctx, root, NULL, n, FEED_MAX_ENTRIES);
	if (n == 0)
		return;
	f->entries = arena_alloc(ctx->a, n * sizeof(*f->entries));
	f->nentries = feed_scan(ctx, chan, f->entries, 0, n);
	if (!ctx->atom)
		f->nentries = feed_scan(ctx, root, f->entries, f->nentries,
		    n);
}

static enum feed_format
feed_detect(xmlNode *root)
{
	const xmlChar *ns = root->ns != NULL ? root->ns->href : NULL;
	xmlChar *v;
	enum feed_format fmt = FEED_RSS20;

	if (feed_streq(root->name, "feed"))
		return feed_streq(ns, NS_ATOM10) ? FEED_ATOM10 : FEED_ATOM03;
	if (feed_streq(root->name, "RDF"))
		return FEED_RDF;
	if (!feed_streq(root->name, "rss"))
		return FEED_NONE;
	v = xmlGetProp(root, (const xmlChar *)"version");
	if (v != NULL && strncmp((const char *)v, "0.9", 3) == 0)
		fmt = FEED_RSS09X;
	xmlFree(v);
	return fmt;
}

static int
feed_fail(struct feed *f, const char *msg)
{
	if (f->error[0] == '\0')
		snprintf(f->error, sizeof(f->error), "%s", msg);
	return -1;
}

/* Parses once; on a fatal error, again in recovery mode. */
static xmlDocPtr
feed_load(struct feed *f, const char *buf, size_t len, const char *cs)
{
	xmlDocPtr doc;
	int hostile = 0;

	doc = feed_read(f, buf, len, cs, 0, &hostile);
	/* Nothing from a document built to blow up is worth salvaging. */
	if (doc == NULL && f->bozo && !hostile) {
		f->recovered = 1;
		doc = feed_read(f, buf, len, cs, 1, &hostile);
	}
	return doc;
}

static int
feed_doc(struct feed *f, xmlDocPtr doc, size_t len, struct arena *a)
{
	struct feed_ctx ctx;
	xmlNode *root = xmlDocGetRootElement(doc);

	if (root == NULL)
		return feed_fail(f, "no root element");
	f->root = arena_strndup(a, (const char *)root->name,
	    strnlen((const char *)root->name, 64));
	if ((f->format = feed_detect(root)) == FEED_NONE) {
		/* Says more than the syntax error an HTML page also has. */
		snprintf(f->error, sizeof(f->error),
		    "root element <%s> is not RSS, RDF or Atom", f->root);
		return -1;
	}
	memset(&ctx, 0, sizeof(ctx));
	ctx.f = f;
	ctx.a = a;
	ctx.atom = f->format == FEED_ATOM03 || f->format == FEED_ATOM10;
	if (f->format != FEED_RDF && root->ns != NULL)
		ctx.core = root->ns->href;
	ctx.budget = 4 * len + FEED_MAX_TEXT;
	ctx.visits = FEED_MAX_VISITS;
	feed_body(&ctx, root);
	return 0;
}

int
feed_parse(struct feed *f, const char *buf, size_t len, const char *charset,
    struct arena *a)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;
	xmlDocPtr doc;
	int rc = -1;

	memset(f, 0, sizeof(*f));
	if (len == 0)
		return feed_fail(f, "empty document");
	if (len > FEED_MAX_BYTES)
		return feed_fail(f, "document too large");
	xmlInitParser();
	/* Encoders report outside any parser: they count, off stderr. */
	xmlSetGenericErrorFunc(f, feed_generic_error);
	/*
	 * A UTF-8 BOM is the encoder's own word and wins over a declaration
	 * that says otherwise (editors add one to "ISO-8859-1" feeds).
	 */
	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		doc = feed_load(f, buf + 3, len - 3, "UTF-8");
	else
		doc = feed_load(f, buf, len, feed_charset(buf, len, charset));
	/* Serialising may grumble at what recovery let through: silence. */
	xmlSetGenericErrorFunc(NULL, feed_quiet);
	if (doc == NULL)
		feed_fail(f, "not XML");
	else {
		rc = feed_doc(f, doc, len, a);
		xmlFreeDoc(doc);
	}
	xmlSetGenericErrorFunc(oldctx, old);
	return rc;
}
