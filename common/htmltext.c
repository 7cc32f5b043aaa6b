/* htmltext: HTML (or untrusted plain text) to safe plain text, UTF-8. */
#include "htmltext.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "buf.h"
#include "xmalloc.h"

#define HT_ELLIPSIS	"\xe2\x80\xa6"	/* U+2026 */

/* What an element does to the text around it. */
enum ht_kind {
	HT_INLINE = 0,
	HT_SKIP,	/* drop it and all it holds */
	HT_LINE,	/* starts and ends a line */
	HT_PARA,	/* a paragraph: a blank line around it */
	HT_BR,		/* one more line break */
	HT_CELL,	/* a space between table cells */
	HT_IMG,		/* its alt text */
	HT_PRE,		/* a paragraph whose line breaks are kept */
};

struct ht_tag {
	const char	*name;
	enum ht_kind	 kind;
};

static const struct ht_tag ht_tags[] = {
	{ "script", HT_SKIP }, { "style", HT_SKIP }, { "head", HT_SKIP },
	{ "title", HT_SKIP }, { "noscript", HT_SKIP },
	{ "template", HT_SKIP }, { "iframe", HT_SKIP },
	{ "object", HT_SKIP }, { "embed", HT_SKIP }, { "applet", HT_SKIP },
	{ "frameset", HT_SKIP }, { "svg", HT_SKIP }, { "math", HT_SKIP },
	{ "canvas", HT_SKIP }, { "audio", HT_SKIP }, { "video", HT_SKIP },
	{ "select", HT_SKIP }, { "textarea", HT_SKIP },
	{ "br", HT_BR }, { "img", HT_IMG },
	{ "td", HT_CELL }, { "th", HT_CELL },
	{ "p", HT_PARA }, { "h1", HT_PARA }, { "h2", HT_PARA },
	{ "h3", HT_PARA }, { "h4", HT_PARA }, { "h5", HT_PARA },
	{ "h6", HT_PARA }, { "blockquote", HT_PARA }, { "ul", HT_PARA },
	{ "ol", HT_PARA }, { "dl", HT_PARA }, { "table", HT_PARA },
	{ "figure", HT_PARA }, { "pre", HT_PRE }, { "listing", HT_PRE },
	{ "li", HT_LINE }, { "tr", HT_LINE }, { "div", HT_LINE },
	{ "dt", HT_LINE }, { "dd", HT_LINE }, { "hr", HT_LINE },
	{ "address", HT_LINE }, { "caption", HT_LINE },
	{ "figcaption", HT_LINE }, { "section", HT_LINE },
	{ "article", HT_LINE }, { "header", HT_LINE },
	{ "footer", HT_LINE }, { "nav", HT_LINE }, { "aside", HT_LINE },
	{ "main", HT_LINE }, { "form", HT_LINE }, { "fieldset", HT_LINE },
	{ "legend", HT_LINE }, { "center", HT_LINE },
	{ "details", HT_LINE }, { "summary", HT_LINE },
};

/* The text being written; breaks and spaces wait for the next glyph. */
struct ht_out {
	struct buf	 b;
	size_t		 max;
	int		 flags;
	int		 brk;	/* line breaks owed: 0, 1 or 2 */
	int		 space;	/* a space owed */
	int		 pre;	/* inside <pre>: newlines are breaks */
	int		 full;	/* something did not fit */
};

static void
ht_init(struct ht_out *o, size_t max, int flags)
{
	memset(o, 0, sizeof(*o));
	buf_init(&o->b, 0);
	buf_append(&o->b, "", 0);
	o->max = max;
	o->flags = flags;
}

static void
ht_break(struct ht_out *o, int n)
{
	if (n > o->brk)
		o->brk = n;
}

/* Appends bytes if they fit in max; else marks the output full. */
static int
ht_raw(struct ht_out *o, const char *s, size_t n)
{
	if (o->full || o->b.len + n > o->max) {
		o->full = 1;
		return -1;
	}
	return buf_append(&o->b, s, n);
}

/* Writes one glyph, after the break or space it is owed. */
static void
ht_glyph(struct ht_out *o, const char *s, size_t n)
{
	if (o->b.len > 0 && o->brk > 0) {
		if (o->flags & HTMLTEXT_ONELINE)
			ht_raw(o, " ", 1);
		else
			ht_raw(o, "\n\n", (size_t)o->brk);
	} else if (o->b.len > 0 && o->space)
		ht_raw(o, " ", 1);
	o->brk = o->space = 0;
	ht_raw(o, s, n);
}

/* Decodes one UTF-8 sequence; invalid input gives U+FFFD, 1 byte. */
static size_t
ht_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	size_t len, i;
	uint32_t c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		goto bad;
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min[len] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

static int
ht_is_space(uint32_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\f' || c == '\v' || c == 0x85 || c == 0xa0 ||
	    (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
	    c == 0x202f || c == 0x205f || c == 0x3000;
}

/*
 * Characters that must not reach a reader: controls, and the invisible
 * and bidi-override ones that can make text lie about what it says.
 */
static int
ht_is_hidden(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f) ||
	    (c >= 0x200b && c <= 0x200f) || (c >= 0x202a && c <= 0x202e) ||
	    (c >= 0x2060 && c <= 0x206f) || c == 0xfeff ||
	    (c >= 0xfff9 && c <= 0xfffb);
}

static void
ht_put_space(struct ht_out *o, uint32_t c, int keep_lines)
{
	if (c == '\r')
		return;
	if (keep_lines && (c == '\n' || c == 0x2028 || c == 0x2029)) {
		if (o->brk < 2)
			o->brk++;
	} else
		o->space = 1;
}

/* Text as it stands in the document; keep_lines for <pre> and plain. */
static void
ht_text(struct ht_out *o, const char *s, size_t n, int keep_lines)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;
	uint32_t c;

	while (i < n && !o->full) {
		k = ht_utf8(p + i, n - i, &c);
		if (ht_is_space(c))
			ht_put_space(o, c, keep_lines);
		else if (!ht_is_hidden(c)) {
			if (c == 0xfffd && k == 1)
				ht_glyph(o, "\xef\xbf\xbd", 3);
			else
				ht_glyph(o, s + i, k);
		}
		i += k;
	}
}

/* Ends the text: trims a cut to fit the ellipsis; hands the string. */
static char *
ht_finish(struct ht_out *o)
{
	size_t el = sizeof(HT_ELLIPSIS) - 1;
	if (o->full && o->max >= el) {
		while (o->b.len > 0 && o->b.len + el > o->max) {
			o->b.len--;
			while (o->b.len > 0 &&
			    (o->b.data[o->b.len] & 0xc0) == 0x80)
				o->b.len--;
		}
		while (o->b.len > 0 && (o->b.data[o->b.len - 1] == ' ' ||
		    o->b.data[o->b.len - 1] == '\n'))
			o->b.len--;
		o->b.data[o->b.len] = '\0';
		buf_append(&o->b, HT_ELLIPSIS, el);
	}
	return o->b.data;
}

static enum ht_kind
ht_kind(const xmlNode *n)
{
	size_t i;

	for (i = 0; i < sizeof(ht_tags) / sizeof(ht_tags[0]); i++)
		if (strcmp((const char *)n->name, ht_tags[i].name) == 0)
			return ht_tags[i].kind;
	return HT_INLINE;
}

static void
ht_alt(struct ht_out *o, xmlNode *n)
{
	xmlChar *alt = xmlGetProp(n, (const xmlChar *)"alt");

	if (alt == NULL)
		return;
	o->space = 1;
	ht_text(o, (const char *)alt, strlen((const char *)alt), 0);
	o->space = 1;
	xmlFree(alt);
}

/* Entering an element; 1 if its children are to be read. */
static int
ht_enter(struct ht_out *o, xmlNode *n)
{
	switch (ht_kind(n)) {
	case HT_SKIP:
		return 0;
	case HT_BR:
		if (o->brk < 2)
			o->brk++;
		return 0;
	case HT_IMG:
		ht_alt(o, n);
		return 0;
	case HT_CELL:
		o->space = 1;
		return 1;
	case HT_LINE:
		ht_break(o, 1);
		return 1;
	case HT_PRE:
		o->pre++;
		/* FALLTHROUGH */
	case HT_PARA:
		ht_break(o, 2);
		return 1;
	case HT_INLINE:
		break;
	}
	return 1;
}

static void
ht_leave(struct ht_out *o, xmlNode *n)
{
	switch (ht_kind(n)) {
	case HT_LINE:
		ht_break(o, 1);
		break;
	case HT_PRE:
		o->pre--;
		/* FALLTHROUGH */
	case HT_PARA:
		ht_break(o, 2);
		break;
	case HT_CELL:
		o->space = 1;
		break;
	default:
		break;
	}
}

/* Whether to go into n: elements by their kind, nothing else. */
static int
ht_visit(struct ht_out *o, xmlNode *n)
{
	const char *s = (const char *)n->content;

	if (n->type == XML_ELEMENT_NODE)
		return ht_enter(o, n);
	if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
	    && s != NULL)
		ht_text(o, s, strlen(s), o->pre > 0);
	return 0;
}

/* Walks the tree without recursion, so depth costs no stack. */
static void
ht_walk(struct ht_out *o, xmlNode *top)
{
	xmlNode *n = top;

	while (n != NULL && !o->full) {
		if (ht_visit(o, n) && n->children != NULL) {
			n = n->children;
			continue;
		}
		for (;;) {
			if (n->type == XML_ELEMENT_NODE)
				ht_leave(o, n);
			if (n == top) {
				n = NULL;
				break;
			}
			if (n->next != NULL) {
				n = n->next;
				break;
			}
			n = n->parent;
		}
	}
}

static htmlDocPtr
ht_parse(const char *html, size_t len)
{
	if (len > HTMLTEXT_MAX_IN)
		len = HTMLTEXT_MAX_IN;
	if (len == 0)
		return NULL;
	/* Never NOBLANKS: "<b>a</b> <i>b</i>" needs its lone space. */
	return htmlReadMemory(html, (int)len, NULL, "UTF-8",
	    HTML_PARSE_NONET | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
	    HTML_PARSE_COMPACT);
}

char *
htmltext(const char *html, size_t len, size_t max_out, int flags)
{
	struct ht_out o;
	htmlDocPtr doc;
	xmlNode *n;

	ht_init(&o, max_out, flags);
	if ((doc = ht_parse(html, len)) != NULL) {
		for (n = doc->children; n != NULL && !o.full; n = n->next)
			ht_walk(&o, n);
		xmlFreeDoc(doc);
	}
	return ht_finish(&o);
}

char *
htmltext_plain(const char *text, size_t len, size_t max_out, int flags)
{
	struct ht_out o;

	ht_init(&o, max_out, flags);
	ht_text(&o, text, len, !(flags & HTMLTEXT_ONELINE));
	return ht_finish(&o);
}

/* First <title> element, searched in document order. */
static xmlNode *
ht_find_title(xmlNode *n)
{
	xmlNode *t;

	for (; n != NULL; n = n->next) {
		if (n->type != XML_ELEMENT_NODE)
			continue;
		if (strcmp((const char *)n->name, "title") == 0)
			return n;
		/* Only html and head can hold the title: a shallow search. */
		if ((strcmp((const char *)n->name, "html") == 0 ||
		    strcmp((const char *)n->name, "head") == 0) &&
		    (t = ht_find_title(n->children)) != NULL)
			return t;
	}
	return NULL;
}

char *
htmltext_title(const char *html, size_t len, size_t max_out)
{
	struct ht_out o;
	htmlDocPtr doc;
	xmlNode *t, *c;
	char *s;

	if ((doc = ht_parse(html, len)) == NULL)
		return NULL;
	if ((t = ht_find_title(doc->children)) == NULL) {
		xmlFreeDoc(doc);
		return NULL;
	}
	ht_init(&o, max_out, HTMLTEXT_ONELINE);
	for (c = t->children; c != NULL; c = c->next)
		ht_visit(&o, c);
	xmlFreeDoc(doc);
	s = ht_finish(&o);
	if (s[0] == '\0') {
		free(s);
		return NULL;
	}
	return s;
}
