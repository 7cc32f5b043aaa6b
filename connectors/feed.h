/* feed: RSS 0.9x, 1.0 (RDF), 2.0 and Atom 0.3, 1.0 documents, one shape. */
#ifndef HEARD_FEED_H
#define HEARD_FEED_H

#include <stddef.h>
#include <stdint.h>

struct arena;

#define FEED_MAX_BYTES		(16 * 1024 * 1024)	/* input */
#define FEED_MAX_ENTRIES	10000
#define FEED_MAX_TEXT		(1024 * 1024)		/* one field */

enum feed_format {
	FEED_NONE = 0,		/* not a feed */
	FEED_RSS09X,		/* <rss version="0.9x"> */
	FEED_RSS20,		/* <rss version="2.x"> or no version */
	FEED_RDF,		/* <rdf:RDF>: RSS 1.0 and RSS 0.90 */
	FEED_ATOM03,		/* <feed> in any namespace but Atom 1.0's */
	FEED_ATOM10,		/* <feed> in http://www.w3.org/2005/Atom */
};

/* What a text field holds, so a reader knows whether to strip tags. */
enum feed_text {
	FEED_TEXT_PLAIN = 0,
	FEED_TEXT_HTML,		/* escaped HTML */
	FEED_TEXT_XHTML,	/* inline markup, serialised */
};

struct feed_person {
	const char	*name;	/* arena; NULL if absent */
	const char	*email;	/* arena; NULL if absent */
	const char	*uri;	/* arena; NULL if absent */
};

/*
 * One item or entry. Strings are in the arena, UTF-8, after one level
 * of XML decoding with whitespace as in the document (ids, links,
 * names and emails trimmed); NULL if absent.
 */
struct feed_entry {
	const char		*id;	/* guid, Atom id, rdf:about */
	const char		*title;
	const char		*link;	/* alternate link, or permalink guid */
	const char		*summary;	/* description, Atom summary */
	const char		*content;	/* content:encoded, Atom's */
	enum feed_text		 title_type;
	enum feed_text		 summary_type;
	enum feed_text		 content_type;
	struct feed_person	 author;	/* authors[0], or all NULL */
	struct feed_person	*authors;	/* arena, document order */
	size_t			 nauthors;
	int64_t			 published;	/* unix seconds UTC */
	int64_t			 updated;
	int			 has_published;
	int			 has_updated;
};

struct feed {
	enum feed_format	 format;
	const char		*root;	/* root's local name, or NULL */
	const char		*title;	/* arena */
	enum feed_text		 title_type;
	const char		*link;	/* arena */
	long			 ttl;	/* RSS <ttl>, minutes; 0 none */
	struct feed_entry	*entries;	/* arena, document order */
	size_t			 nentries;
	int			 truncated;	/* over FEED_MAX_ENTRIES */
	int			 bozo;		/* not well-formed XML */
	int			 recovered;	/* read again, RECOVER */
	char			 error[160];	/* "line L:C: ...", first */
};

/*
 * Reads a feed from bytes. charset is the HTTP one, used only when the
 * document declares none (no BOM, no encoding="..."); may be NULL.
 * External entities and DTDs are never loaded, nor anything from the
 * network. Ill-formed XML sets bozo; what recovery salvages is kept,
 * less any entry whose end tag never came.
 * 0 with f filled, or -1 if no feed could be read (f->error says why,
 * f->root names the root element if there was one).
 */
int	feed_parse(struct feed *f, const char *buf, size_t len,
	    const char *charset, struct arena *);

/* "rss20", "atom10"..., for messages and tests. */
const char	*feed_format_name(enum feed_format);

#endif
