/* reply_strip: the words of a reply, without quoted mail and signatures. */
#ifndef HEARD_REPLY_STRIP_H
#define HEARD_REPLY_STRIP_H

/*
 * Text past this many bytes is not read (a reply that long is quoted
 * history below): cut at the last line end before it.
 */
#define REPLY_STRIP_MAX		(256 * 1024)

/*
 * The new text of a reply written above, below or between quotes:
 * drops quoted lines ("> "), "On ... wrote:" headers (in the languages
 * of the test corpus), Outlook "From:/Sent:" blocks and rules,
 * forwarded-message blocks, "-- " signatures and "Sent from my ..."
 * lines, then trims blank lines at both ends. text is UTF-8 with LF or
 * CRLF line ends; the result is a new string with \n line ends ("" if
 * nothing is left), owned by the caller.
 */
char	*reply_strip(const char *text);

#endif
