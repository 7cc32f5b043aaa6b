/* fuzz_util: what every connector's fuzz harness needs: a response
 * from raw bytes, and the checks that abort on a broken invariant. */
#ifndef HEARD_FUZZ_UTIL_H
#define HEARD_FUZZ_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "connector.h"

#define FUZZ_MAX_HEADERS	16

struct fuzz_resp {
	struct conn_response	r;
	struct conn_header	hdr[FUZZ_MAX_HEADERS];
	char			*copy;	/* owned: NUL-terminated input */
};

/*
 * The input as a response: a body for a 200, or, when it starts
 * "HTTP/", a whole response (status line, headers, blank line, body)
 * as in the .http golden cases, so headers get fuzzed too. The caller
 * frees fr->copy.
 */
void	fuzz_response(struct fuzz_resp *, const uint8_t *, size_t,
	    const char *effective_url);
/* Aborts, naming what broke, unless ok. */
void	fuzz_check(int ok, const char *what);
/* Text a reader sees: no controls (but newline if lines), 1..max bytes. */
void	fuzz_text(const char *s, size_t max, int lines, const char *what);
/* s is a JSON object (NULL is not). */
void	fuzz_json_object(const char *s, const char *what);
/* 1 if s is lo..hi characters, all from set. */
int	fuzz_word(const char *s, const char *set, size_t lo, size_t hi);

#endif
