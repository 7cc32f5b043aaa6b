/* open311_doc: Open311 GeoReport v2 documents, XML or JSON, as records. */
#ifndef HEARD_OPEN311_DOC_H
#define HEARD_OPEN311_DOC_H

#include <stddef.h>

struct arena;

#define OPEN311_MAX_RECORDS	10000
#define OPEN311_MAX_FIELD	(256 * 1024)	/* bytes of one value */

/* Which list a document holds. */
enum open311_kind {
	OPEN311_REQUESTS = 0,	/* <service_requests><request> */
	OPEN311_UPDATES,	/* <service_request_updates><request_update> */
};

/* The elements heard reads; any other is skipped. */
enum open311_field {
	O311_ID = 0,		/* service_request_id */
	O311_UPDATE_ID,
	O311_TOKEN,		/* stands in for an id not yet given */
	O311_STATUS,
	O311_STATUS_NOTES,
	O311_SERVICE_NAME,
	O311_SERVICE_CODE,
	O311_DESCRIPTION,
	O311_AGENCY,		/* agency_responsible */
	O311_SERVICE_NOTICE,
	O311_ADDRESS,
	O311_ZIPCODE,
	O311_LAT,
	O311_LONG,
	O311_MEDIA_URL,
	O311_REQUESTED,		/* requested_datetime */
	O311_UPDATED,		/* updated_datetime */
	O311_EXPECTED,		/* expected_datetime */
	O311_EXTERNAL_STATUS,	/* external_status_code (the adapter) */
	O311_NFIELDS
};

/*
 * One request or update: each value in the arena, blanks trimmed,
 * NULL when the element is absent or empty (the adapter writes every
 * element, empty ones included).
 */
struct open311_rec {
	const char	*f[O311_NFIELDS];
};

struct open311_doc {
	struct open311_rec	*recs;	/* arena, document order */
	size_t			 nrecs;
	int			 json;	/* read as JSON, else XML */
	int			 truncated;	/* over the record cap */
	char			 error[160];	/* why not read */
};

/* The name of a field's element, for messages and meta. */
const char	*open311_field_name(enum open311_field);

/*
 * Reads a list of kind from bytes, XML or JSON, whichever they are.
 * XML: the root names the list (both spellings of the updates root);
 * JSON: a bare array (the spec, the adapter) or an object holding the
 * list under the root's name (FixMyStreet). No DTD, entity or network
 * access. 0 with d filled, or -1 (d->error says why).
 */
int	open311_doc_parse(struct open311_doc *d, enum open311_kind kind,
	    const char *buf, size_t len, struct arena *);

/*
 * What a server said in an error body, on one line, into out: an
 * Open311 <errors> list or its JSON form as "400: text; ...", else an
 * HTML page's title, else the first line of a short plain text.
 * 0, or -1 (out is "") if the body says nothing readable.
 */
int	open311_doc_errors(const char *buf, size_t len, char *out,
	    size_t size);

/*
 * heard's thread status for an Open311 status, the standard two and
 * FixMyStreet's extended ones in any case, '_' or ' ' alike: "open",
 * "in_progress", "resolved", "closed", "hidden", or NULL if unknown.
 */
const char	*open311_thread_status(const char *status);

/* Whether s is one of the statuses an update may be POSTed with. */
int	open311_post_status(const char *s);

#endif
