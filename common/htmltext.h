/* htmltext: HTML (or untrusted plain text) to safe plain text, UTF-8. */
#ifndef HEARD_HTMLTEXT_H
#define HEARD_HTMLTEXT_H

#include <stddef.h>

/* Line breaks become single spaces: for titles, subjects, log lines. */
#define HTMLTEXT_ONELINE	0x1

/* Input beyond this many bytes is ignored, so work stays bounded. */
#define HTMLTEXT_MAX_IN		(16 * 1024 * 1024)

/*
 * The text a reader sees in an HTML fragment or document (UTF-8 in):
 * script, style, head and other non-text content dropped, block
 * elements as line breaks (paragraphs as a blank line), whitespace
 * collapsed, entities decoded, link text and image alt text kept,
 * control and bidi-override characters removed. At most max_out bytes,
 * cut on a character boundary and ended with "..." (U+2026) when cut.
 * Never NULL; owned by the caller, free() it.
 */
char	*htmltext(const char *html, size_t len, size_t max_out, int flags);

/*
 * The same cleaning for text that is not HTML ("<" stays "<"): invalid
 * UTF-8 replaced, controls removed, runs of blanks collapsed, at most
 * one blank line kept. Never NULL; owned by the caller.
 */
char	*htmltext_plain(const char *text, size_t len, size_t max_out,
	    int flags);

/* The <title> of an HTML page, on one line; NULL if it has none. */
char	*htmltext_title(const char *html, size_t len, size_t max_out);

#endif
