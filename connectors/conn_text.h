/* conn_text: checks and encodings every API connector's requests need. */
#ifndef HEARD_CONN_TEXT_H
#define HEARD_CONN_TEXT_H

#include <stddef.h>

struct buf;

/* Printable, no blanks, bounded, not empty: fit for a header or a form. */
int	conn_word(const char *s, size_t max);
/* 1 if the host part (n bytes) is 127.0.0.1, localhost or [::1]. */
int	conn_loopback(const char *host, size_t n);
/* 1 if s is a decimal id of 1 to max digits (no sign), as APIs send them. */
int	conn_decimal_id(const char *s, size_t max);
/* Decimal ids compared as numbers, without their limits: -1, 0 or 1. */
int	conn_decimal_cmp(const char *a, const char *b);
/*
 * s percent-encoded onto b as RFC 3986 says (unreserved kept, the rest
 * %XX upper case); with form, a blank becomes "+" (a form value).
 */
void	conn_url_encode(struct buf *b, const char *s, int form);

#endif
