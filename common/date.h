/* date: RFC 822 / HTTP and ISO 8601 dates to unix seconds UTC, and back. */
#ifndef HEARD_DATE_H
#define HEARD_DATE_H

#include <stddef.h>
#include <stdint.h>

/* "YYYY-MM-DDTHH:MM:SSZ" and its NUL. */
#define DATE_ISO_SIZE	21

/*
 * Days from 1970-01-01 to the given proleptic Gregorian date; month
 * 1..12, day 1..31 (not checked against the month).
 */
int64_t	date_days_from_civil(int64_t year, int month, int day);

/*
 * RFC 822 / 2822 / 1123 dates and the variants feeds use: optional
 * weekday, missing seconds, 2-digit years, dashes (RFC 850), named
 * and numeric zones. Also asctime() ("Sun Nov  6 08:49:37 1994").
 * 0 and *t set, or -1 (and *t untouched).
 */
int	date_parse_rfc822(const char *, int64_t *t);

/*
 * ISO 8601 / RFC 3339 / W3C-DTF: date only, minutes, seconds,
 * fractions (dropped), Z or an offset (none: UTC); extended or basic.
 * 0 and *t set, or -1.
 */
int	date_parse_iso8601(const char *, int64_t *t);

/* Either of the above, as feeds mix them. 0 or -1. */
int	date_parse(const char *, int64_t *t);

/*
 * Writes t as "YYYY-MM-DDTHH:MM:SSZ" into buf (at least DATE_ISO_SIZE
 * bytes). -1 if the year is outside 0..9999 (buf then holds "").
 */
int	date_format(int64_t t, char *buf, size_t size);

#endif
