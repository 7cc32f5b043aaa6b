/* open311_doc: Open311 GeoReport v2 documents, XML or JSON, as records. */
#include "open311_doc.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "arena.h"
#include "buf.h"
#include "htmltext.h"

/*
 * Never XML_PARSE_NOENT, DTDLOAD or DTDATTR, and a document with a DTD
 * is refused: an API list has no use for one, so no entity a server
 * declares is ever expanded, and nothing is read from the network.
 */
#define OPEN311_XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOERROR | \
				 XML_PARSE_NOWARNING | XML_PARSE_NOCDATA)
#define OPEN311_ERRORS_MAX	8	/* <error>s quoted in one message */
#define OPEN311_ERROR_TEXT	600	/* bytes of error text gathered */

static const char *const open311_names[O311_NFIELDS] = {
	[O311_ID] = "service_request_id",
	[O311_UPDATE_ID] = "update_id",
	[O311_TOKEN] = "token",
	[O311_STATUS] = "status",
	[O311_STATUS_NOTES] = "status_notes",
	[O311_SERVICE_NAME] = "service_name",
	[O311_SERVICE_CODE] = "service_code",
	[O311_DESCRIPTION] = "description",
	[O311_AGENCY] = "agency_responsible",
	[O311_SERVICE_NOTICE] = "service_notice",
	[O311_ADDRESS] = "address",
	[O311_ZIPCODE] = "zipcode",
	[O311_LAT] = "lat",
	[O311_LONG] = "long",
	[O311_MEDIA_URL] = "media_url",
	[O311_REQUESTED] = "requested_datetime",
	[O311_UPDATED] = "updated_datetime",
	[O311_EXPECTED] = "expected_datetime",
	[O311_EXTERNAL_STATUS] = "external_status_code",
};

/* A list's root names (FixMyStreet's and the endpoint's spelling). */
struct open311_list {
	const char	*root;
	const char	*root_alt;	/* or NULL */
	const char	*record;
	const char	*what;		/* for messages */
};

static const struct open311_list open311_lists[] = {
	[OPEN311_REQUESTS] = { "service_requests", NULL, "request",
	    "service requests" },
	[OPEN311_UPDATES] = { "service_request_updates",
	    "servicerequestupdates", "request_update", "request updates" },
};

/* FixMyStreet's statuses, normalised (lower case, one blank). */
static const struct {
	const char	*word;
	const char	*thread;
} open311_statuses[] = {
	{ "open", "open" },
	{ "reopen", "open" },
	{ "reopened", "open" },
	{ "for triage", "open" },
	{ "confirmed", "open" },
	{ "investigating", "in_progress" },
	{ "in progress", "in_progress" },
	{ "action scheduled", "in_progress" },
	{ "planned", "in_progress" },
	{ "fixed", "resolved" },
	{ "fixed council", "resolved" },
	{ "fixed user", "resolved" },
	{ "resolved", "resolved" },
	{ "closed", "closed" },
	{ "duplicate", "closed" },
	{ "not councils responsibility", "closed" },
	{ "not responsible", "closed" },
	{ "no further action", "closed" },
	{ "unable to fix", "closed" },
	{ "internal referral", "closed" },
	{ "hidden", "hidden" },
};

/* What POST servicerequestupdates takes (open311-adapter's enum). */
static const char *const open311_post_statuses[] = {
	"OPEN", "CLOSED", "FIXED", "IN_PROGRESS", "ACTION_SCHEDULED",
	"INVESTIGATING", "DUPLICATE", "NOT_COUNCILS_RESPONSIBILITY",
	"NO_FURTHER_ACTION", "INTERNAL_REFERRAL", "REOPEN", "FOR_TRIAGE",
};

const char *
open311_field_name(enum open311_field f)
{
	if ((size_t)f >= O311_NFIELDS)
		return "?";
	return open311_names[f];
}

static int
open311_doc_fail(struct open311_doc *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Keeps the first reason only, on one line. */
static int
open311_doc_fail(struct open311_doc *d, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (d->error[0] != '\0')
		return -1;
	va_start(ap, fmt);
	vsnprintf(d->error, sizeof(d->error), fmt, ap);
	va_end(ap);
	for (p = d->error; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	while (p > d->error && p[-1] == ' ')
		*--p = '\0';	/* libxml2 ends messages with a newline */
	return -1;
}

static int
open311_doc_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first byte that is not a BOM or a blank, or NULL. */
static const char *
open311_doc_start(const char *buf, size_t len)
{
	const char *end = buf + len;

	if (len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		buf += 3;
	while (buf < end && open311_doc_blank(*buf))
		buf++;
	return buf < end ? buf : NULL;
}

static int
open311_doc_is_html(const char *buf, size_t len)
{
	const char *p = open311_doc_start(buf, len);
	size_t n;

	if (p == NULL)
		return 0;
	n = (size_t)(buf + len - p);
	return (n >= 5 && strncasecmp(p, "<html", 5) == 0) ||
	    (n >= 14 && strncasecmp(p, "<!doctype html", 14) == 0);
}

/* A value, blanks trimmed, bounded; empty ones stay NULL. */
static void
open311_doc_set(struct open311_rec *r, enum open311_field f, const char *s,
    size_t n, struct arena *a)
{
	if (r->f[f] != NULL)
		return;		/* the first of repeats wins */
	while (n > 0 && open311_doc_blank(*s)) {
		s++;
		n--;
	}
	while (n > 0 && open311_doc_blank(s[n - 1]))
		n--;
	if (n == 0)
		return;
	r->f[f] = arena_strndup(a, s, n > OPEN311_MAX_FIELD ?
	    OPEN311_MAX_FIELD : n);
}

static int
open311_doc_field(const char *name)
{
	int f;

	for (f = 0; f < O311_NFIELDS; f++)
		if (strcmp(open311_names[f], name) == 0)
			return f;
	return -1;
}

/* libxml2's messages from outside a parser (encoders): not ours. */
static void
open311_doc_quiet(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

static xmlDocPtr
open311_doc_xml_read(struct open311_doc *d, const char *buf, size_t len)
{
	xmlGenericErrorFunc old = xmlGenericError;
	void *oldctx = xmlGenericErrorContext;
	xmlParserCtxtPtr ctxt;
	xmlErrorPtr err;
	xmlDocPtr doc;

	xmlInitParser();
	if (len > INT_MAX || (ctxt = xmlNewParserCtxt()) == NULL) {
		open311_doc_fail(d, "document too large");
		return NULL;
	}
	xmlSetGenericErrorFunc(NULL, open311_doc_quiet);
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
	    OPEN311_XML_OPTIONS);
	if (doc != NULL && !ctxt->wellFormed) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc == NULL) {
		err = xmlCtxtGetLastError(ctxt);
		open311_doc_fail(d, "not well-formed XML: line %d: %s",
		    err != NULL ? err->line : 0, err != NULL &&
		    err->message != NULL ? err->message : "unknown error");
	}
	xmlFreeParserCtxt(ctxt);
	xmlSetGenericErrorFunc(oldctx, old);
	return doc;
}

static int
open311_doc_named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && name != NULL &&
	    strcmp((const char *)n->name, name) == 0;
}

/* One <request> or <request_update>: its known children's text. */
static void
open311_doc_xml_rec(xmlNode *rec, struct open311_rec *r, struct arena *a)
{
	xmlNode *c;
	xmlChar *text;
	int f;

	for (c = rec->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE ||
		    (f = open311_doc_field((const char *)c->name)) == -1)
			continue;
		if ((text = xmlNodeGetContent(c)) == NULL)
			continue;
		open311_doc_set(r, f, (const char *)text,
		    strlen((const char *)text), a);
		xmlFree(text);
	}
}

/* "code: description" of each <error>, joined, into b. */
static void
open311_doc_xml_errors(xmlNode *root, struct buf *b)
{
	xmlNode *e, *c;
	xmlChar *code, *desc;
	int n = 0;

	for (e = root->children; e != NULL && n < OPEN311_ERRORS_MAX;
	    e = e->next) {
		if (!open311_doc_named(e, "error"))
			continue;
		code = desc = NULL;
		for (c = e->children; c != NULL; c = c->next)
			if (open311_doc_named(c, "code") && code == NULL)
				code = xmlNodeGetContent(c);
			else if (open311_doc_named(c, "description") &&
			    desc == NULL)
				desc = xmlNodeGetContent(c);
		buf_printf(b, "%s%s%s%s", n++ > 0 ? "; " : "",
		    code != NULL ? (char *)code : "",
		    code != NULL && desc != NULL ? ": " : "",
		    desc != NULL ? (char *)desc : "");
		xmlFree(code);
		xmlFree(desc);
	}
}

static int
open311_doc_xml_list(struct open311_doc *d, const struct open311_list *l,
    xmlNode *root, struct arena *a)
{
	xmlNode *c;
	size_t n = 0;

	for (c = root->children; c != NULL; c = c->next)
		if (open311_doc_named(c, l->record))
			n++;
	if (n > OPEN311_MAX_RECORDS) {
		d->truncated = 1;
		n = OPEN311_MAX_RECORDS;
	}
	if (n > 0)
		d->recs = arena_alloc(a, n * sizeof(*d->recs));
	for (c = root->children; c != NULL && d->nrecs < n; c = c->next)
		if (open311_doc_named(c, l->record))
			open311_doc_xml_rec(c, &d->recs[d->nrecs++], a);
	return 0;
}

/* Text gathered in b, cleaned onto one line, into out. */
static void
open311_doc_line(const struct buf *b, char *out, size_t size)
{
	char *t;

	out[0] = '\0';
	if (b->len == 0 || size == 0)
		return;
	t = htmltext_plain(b->data, b->len, size - 1, HTMLTEXT_ONELINE);
	snprintf(out, size, "%s", t);
	free(t);
}

static int
open311_doc_xml(struct open311_doc *d, enum open311_kind kind,
    const char *buf, size_t len, struct arena *a)
{
	const struct open311_list *l = &open311_lists[kind];
	xmlDocPtr doc;
	xmlNode *root;
	struct buf b;
	char text[120];
	int rc = -1;

	if ((doc = open311_doc_xml_read(d, buf, len)) == NULL)
		return -1;
	root = xmlDocGetRootElement(doc);
	if (root == NULL)
		open311_doc_fail(d, "no root element");
	else if (doc->intSubset != NULL)
		open311_doc_fail(d, "a DTD in an Open311 list");
	else if (open311_doc_named(root, "errors")) {
		buf_init(&b, OPEN311_ERROR_TEXT);
		open311_doc_xml_errors(root, &b);
		open311_doc_line(&b, text, sizeof(text));
		buf_free(&b);
		open311_doc_fail(d, "the server sent errors: %s", text);
	} else if (!open311_doc_named(root, l->root) &&
	    !open311_doc_named(root, l->root_alt))
		open311_doc_fail(d, "root element <%.40s> is not a list of "
		    "%s", (const char *)root->name, l->what);
	else
		rc = open311_doc_xml_list(d, l, root, a);
	xmlFreeDoc(doc);
	return rc;
}

static void
open311_doc_json_value(struct open311_rec *r, enum open311_field f,
    json_t *v, struct arena *a)
{
	char num[64];

	if (json_is_string(v))
		open311_doc_set(r, f, json_string_value(v),
		    strlen(json_string_value(v)), a);
	else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
		    json_integer_value(v));
		open311_doc_set(r, f, num, strlen(num), a);
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.15g", json_real_value(v));
		open311_doc_set(r, f, num, strlen(num), a);
	}
}

static void
open311_doc_json_rec(json_t *obj, struct open311_rec *r, struct arena *a)
{
	int f;

	for (f = 0; f < O311_NFIELDS; f++)
		open311_doc_json_value(r, f, json_object_get(obj,
		    open311_names[f]), a);
}

/* "code: description" of each error object in arr, joined, into b. */
static void
open311_doc_json_errors(json_t *arr, struct buf *b)
{
	json_t *e, *code, *desc;
	size_t i;
	int n = 0;

	json_array_foreach(arr, i, e) {
		if (n >= OPEN311_ERRORS_MAX)
			break;
		code = json_object_get(e, "code");
		desc = json_object_get(e, "description");
		if (!json_is_string(desc))
			continue;
		if (json_is_integer(code))
			buf_printf(b, "%s%" JSON_INTEGER_FORMAT ": %s",
			    n > 0 ? "; " : "", json_integer_value(code),
			    json_string_value(desc));
		else
			buf_printf(b, "%s%s%s%s", n > 0 ? "; " : "",
			    json_is_string(code) ? json_string_value(code) :
			    "", json_is_string(code) ? ": " : "",
			    json_string_value(desc));
		n++;
	}
}

/* The array that holds the list: bare, or under the root's name. */
static json_t *
open311_doc_json_list(json_t *root, const struct open311_list *l)
{
	json_t *v;

	if (json_is_array(root))
		return root;
	if ((v = json_object_get(root, l->root)) == NULL && l->root_alt)
		v = json_object_get(root, l->root_alt);
	return json_is_array(v) ? v : NULL;
}

static int
open311_doc_json_fill(struct open311_doc *d, json_t *list, struct arena *a)
{
	json_t *v;
	size_t i, n = json_array_size(list);

	if (n > OPEN311_MAX_RECORDS) {
		d->truncated = 1;
		n = OPEN311_MAX_RECORDS;
	}
	if (n > 0)
		d->recs = arena_alloc(a, n * sizeof(*d->recs));
	for (i = 0; i < n; i++)
		if (json_is_object(v = json_array_get(list, i)))
			open311_doc_json_rec(v, &d->recs[d->nrecs++], a);
	return 0;
}

static int
open311_doc_json(struct open311_doc *d, enum open311_kind kind,
    const char *buf, size_t len, struct arena *a)
{
	const struct open311_list *l = &open311_lists[kind];
	json_error_t jerr;
	json_t *root, *list, *errs;
	struct buf b;
	char text[120];
	int rc = -1;

	d->json = 1;
	if ((root = json_loadb(buf, len, 0, &jerr)) == NULL)
		return open311_doc_fail(d, "not JSON: line %d: %s",
		    jerr.line, jerr.text);
	if (json_is_array(errs = json_object_get(root, "errors"))) {
		buf_init(&b, OPEN311_ERROR_TEXT);
		open311_doc_json_errors(errs, &b);
		open311_doc_line(&b, text, sizeof(text));
		buf_free(&b);
		open311_doc_fail(d, "the server sent errors: %s", text);
	} else if ((list = open311_doc_json_list(root, l)) == NULL)
		open311_doc_fail(d, "JSON is not a list of %s", l->what);
	else
		rc = open311_doc_json_fill(d, list, a);
	json_decref(root);
	return rc;
}

int
open311_doc_parse(struct open311_doc *d, enum open311_kind kind,
    const char *buf, size_t len, struct arena *a)
{
	const char *p;
	char *title;

	memset(d, 0, sizeof(*d));
	if ((p = open311_doc_start(buf, len)) == NULL)
		return open311_doc_fail(d, "empty body");
	if (open311_doc_is_html(buf, len)) {
		title = htmltext_title(buf, len, 80);
		open311_doc_fail(d, "got an HTML page%s%s%s", title != NULL ?
		    " (\"" : "", title != NULL ? title : "", title != NULL ?
		    "\")" : "");
		free(title);
		return -1;
	}
	len -= (size_t)(p - buf);
	if (*p == '[' || *p == '{')
		return open311_doc_json(d, kind, p, len, a);
	if (*p == '<')
		return open311_doc_xml(d, kind, p, len, a);
	return open311_doc_fail(d, "neither XML nor JSON");
}

/* An Open311 errors body, XML or JSON, gathered into b. */
static void
open311_doc_error_list(const char *p, size_t len, struct buf *b)
{
	struct open311_doc d;
	json_t *root, *arr;
	xmlDocPtr doc;
	xmlNode *root_el;

	memset(&d, 0, sizeof(d));
	if (*p == '<' && (doc = open311_doc_xml_read(&d, p, len)) != NULL) {
		root_el = xmlDocGetRootElement(doc);
		if (root_el != NULL && doc->intSubset == NULL &&
		    open311_doc_named(root_el, "errors"))
			open311_doc_xml_errors(root_el, b);
		xmlFreeDoc(doc);
	} else if (*p == '[' || *p == '{') {
		if ((root = json_loadb(p, len, 0, NULL)) == NULL)
			return;
		arr = json_is_array(root) ? root :
		    json_object_get(root, "errors");
		if (json_is_array(arr))
			open311_doc_json_errors(arr, b);
		json_decref(root);
	}
}

int
open311_doc_errors(const char *buf, size_t len, char *out, size_t size)
{
	const char *p = open311_doc_start(buf, len);
	struct buf b;
	char *title;

	if (size > 0)
		out[0] = '\0';
	if (p == NULL || size == 0)
		return -1;
	len -= (size_t)(p - buf);
	buf_init(&b, OPEN311_ERROR_TEXT);
	if (open311_doc_is_html(p, len)) {
		if ((title = htmltext_title(p, len, 120)) != NULL)
			buf_puts(&b, title);
		free(title);
	} else if (strchr("<[{", *p) != NULL)
		open311_doc_error_list(p, len, &b);
	else	/* "503 - service unavailable", in FixMyStreet's tests */
		buf_append(&b, p, strcspn(p, "\r\n") < 120 ?
		    strcspn(p, "\r\n") : 120);
	open311_doc_line(&b, out, size);
	buf_free(&b);
	return out[0] != '\0' ? 0 : -1;
}

/* Lower case, '_' '-' and blanks as one blank; 0, or -1 if too long. */
static int
open311_doc_norm(const char *s, char *out, size_t size)
{
	size_t o = 0;
	int gap = 0;

	for (; *s != '\0'; s++) {
		if (*s == '_' || *s == '-' || open311_doc_blank(*s)) {
			gap = o > 0;
			continue;
		}
		if (o + 2 >= size)
			return -1;
		if (gap)
			out[o++] = ' ';
		gap = 0;
		out[o++] = (*s >= 'A' && *s <= 'Z') ? *s + ('a' - 'A') : *s;
	}
	out[o] = '\0';
	return 0;
}

const char *
open311_thread_status(const char *status)
{
	char norm[40];
	size_t i;

	if (status == NULL || open311_doc_norm(status, norm,
	    sizeof(norm)) == -1)
		return NULL;
	for (i = 0; i < sizeof(open311_statuses) /
	    sizeof(open311_statuses[0]); i++)
		if (strcmp(open311_statuses[i].word, norm) == 0)
			return open311_statuses[i].thread;
	return NULL;
}

int
open311_post_status(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(open311_post_statuses) /
	    sizeof(open311_post_statuses[0]); i++)
		if (strcmp(open311_post_statuses[i], s) == 0)
			return 1;
	return 0;
}
