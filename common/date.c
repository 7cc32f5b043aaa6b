/* date: RFC 822 / HTTP and ISO 8601 dates to unix seconds UTC, and back. */
#include "date.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A broken-down time as read, before it is checked. */
struct date_tm {
	int64_t	year;
	int	mon;		/* 1..12; 0 not seen */
	int	day;		/* 1..31; 0 not seen */
	int	hour;
	int	min;
	int	sec;
	int	off;		/* seconds east of UTC */
	int	have_year;
	int	have_time;
	int	have_zone;
};

struct date_zone {
	const char	*name;
	int		 minutes;	/* east of UTC */
};

/*
 * Zone names seen in feeds. RFC 822 has the US ones; the European ones
 * matter to a UK service (BST). CST keeps its RFC 822 meaning; names
 * used for several zones (IST) are left out and read as UTC.
 */
static const struct date_zone date_zones[] = {
	{ "UT", 0 }, { "UTC", 0 }, { "GMT", 0 }, { "Z", 0 },
	{ "EST", -300 }, { "EDT", -240 }, { "CST", -360 }, { "CDT", -300 },
	{ "MST", -420 }, { "MDT", -360 }, { "PST", -480 }, { "PDT", -420 },
	{ "AST", -240 }, { "ADT", -180 }, { "AKST", -540 }, { "AKDT", -480 },
	{ "HST", -600 }, { "NST", -210 }, { "NDT", -150 },
	{ "WET", 0 }, { "WEST", 60 }, { "BST", 60 },
	{ "CET", 60 }, { "CEST", 120 }, { "MET", 60 }, { "MEST", 120 },
	{ "EET", 120 }, { "EEST", 180 }, { "MSK", 180 },
	{ "JST", 540 }, { "KST", 540 }, { "AEST", 600 }, { "AEDT", 660 },
	{ "ACST", 570 }, { "AWST", 480 }, { "NZST", 720 }, { "NZDT", 780 },
};

static const char *const date_months[] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec",
};

int64_t
date_days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	/* Count years from March, so the leap day ends the year. */
	if (m <= 2)
		y--;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	/* 719468: days from 0000-03-01 to 1970-01-01. */
	return era * 146097 + doe - 719468;
}

static int
date_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
date_mdays(int64_t y, int m)
{
	static const int mdays[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31,
	};

	return m == 2 && date_leap(y) ? 29 : mdays[m - 1];
}

/* Checks the fields and folds them into seconds; -1 if out of range. */
static int
date_fold(const struct date_tm *tm, int64_t *t)
{
	if (tm->year < 0 || tm->year > 9999 || tm->mon < 1 || tm->mon > 12)
		return -1;
	if (tm->day < 1 || tm->day > date_mdays(tm->year, tm->mon))
		return -1;
	/* 60: a leap second, folded into the next minute as POSIX does. */
	if (tm->hour > 23 || tm->min > 59 || tm->sec > 60)
		return -1;
	*t = date_days_from_civil(tm->year, tm->mon, tm->day) * 86400 +
	    tm->hour * 3600 + tm->min * 60 + tm->sec - tm->off;
	return 0;
}

/* Reads 1..max digits; their count, or 0 if there is none. */
static int
date_num(const char **pp, int max, int *v)
{
	const char *p = *pp;
	int n = 0, val = 0;

	while (n < max && p[n] >= '0' && p[n] <= '9') {
		val = val * 10 + (p[n] - '0');
		n++;
	}
	if (n > 0) {
		*v = val;
		*pp = p + n;
	}
	return n;
}

/* Exactly n digits, or -1. */
static int
date_fixed(const char **pp, int n, int *v)
{
	const char *p = *pp;

	if (date_num(&p, n, v) != n)
		return -1;
	*pp = p;
	return 0;
}

static const char *
date_skip_space(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
		p++;
	return p;
}

static int
date_isalpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
date_isdigit(char c)
{
	return c >= '0' && c <= '9';
}

/* Month from a name ("Jan", "January", "Sept"); 0 if it is none. */
static int
date_month(const char *w, size_t n)
{
	size_t i;

	if (n < 3)
		return 0;
	for (i = 0; i < 12; i++)
		if (strncasecmp(w, date_months[i], 3) == 0)
			return (int)i + 1;
	return 0;
}

/* Zone offset in seconds from a name; -1 if unknown. */
static int
date_zone_name(const char *w, size_t n, int *off)
{
	size_t i;

	for (i = 0; i < sizeof(date_zones) / sizeof(date_zones[0]); i++)
		if (strlen(date_zones[i].name) == n &&
		    strncasecmp(w, date_zones[i].name, n) == 0) {
			*off = date_zones[i].minutes * 60;
			return 0;
		}
	return -1;
}

/* "+hhmm", "+hh:mm" or "+hh"; p at the sign. -1 if malformed. */
static int
date_offset(const char **pp, int *off)
{
	const char *p = *pp, *q;
	int sign = *p == '-' ? -1 : 1, h, m = 0, n;

	p++;
	n = date_num(&p, 4, &h);
	if (n == 4) {
		m = h % 100;
		h /= 100;
	} else if (n == 2 || n == 1) {
		q = p + 1;
		if (*p == ':' && date_fixed(&q, 2, &m) == 0)
			p = q;
	} else
		return -1;
	if (h > 23 || m > 59)
		return -1;
	*off = sign * (h * 3600 + m * 60);
	*pp = p;
	return 0;
}

/* "hh:mm[:ss[.frac]]"; p at the hour. -1 if malformed. */
static int
date_clock(const char **pp, struct date_tm *tm)
{
	const char *p = *pp;

	if (date_num(&p, 2, &tm->hour) == 0 || *p++ != ':' ||
	    date_fixed(&p, 2, &tm->min) == -1)
		return -1;
	tm->sec = 0;
	if (*p == ':') {
		p++;
		if (date_fixed(&p, 2, &tm->sec) == -1)
			return -1;
		if ((*p == '.' || *p == ',') && date_isdigit(p[1]))
			for (p++; date_isdigit(*p); p++)
				;
	}
	tm->have_time = 1;
	*pp = p;
	return 0;
}

/* A word in an RFC 822 date: month, zone, or a weekday to skip. */
static int
date_822_word(const char **pp, struct date_tm *tm)
{
	const char *w = *pp, *p = *pp;
	size_t n;
	int mon;

	while (date_isalpha(*p))
		p++;
	n = (size_t)(p - w);
	*pp = p;
	if (tm->mon == 0 && (mon = date_month(w, n)) != 0) {
		tm->mon = mon;
		return 0;
	}
	if (tm->mon == 0 && tm->day == 0)
		return 0;			/* weekday, any spelling */
	if ((!tm->have_time && !tm->have_year) || tm->have_zone)
		return -1;
	tm->have_zone = 1;
	/*
	 * An unknown name after the date: a zone we do not know; UTC. That
	 * is also what RFC 2822 (4.3) asks for military letters but Z, as
	 * RFC 822 gave them the wrong sign and no one knows which a sender
	 * meant.
	 */
	if (date_zone_name(w, n, &tm->off) == -1)
		tm->off = 0;
	if ((*p == '+' || *p == '-') && date_isdigit(p[1]))
		return date_offset(pp, &tm->off);	/* "GMT+0100" */
	return 0;
}

/* A number in an RFC 822 date: day, year or the time. */
static int
date_822_number(const char **pp, struct date_tm *tm)
{
	const char *p = *pp;
	int v = 0, n;

	n = date_num(&p, 5, &v);
	if (*p == ':') {
		if (tm->have_time)
			return -1;
		return date_clock(pp, tm);
	}
	*pp = p;
	if (tm->day == 0 && n <= 2 && v >= 1) {
		tm->day = v;
		return 0;
	}
	if (tm->have_year || n > 4)
		return -1;
	/* RFC 2822 4.3: 2 digits 00-49 are 20xx, 50-99 and 3 digits 19xx. */
	if (n == 2)
		v += v < 50 ? 2000 : 1900;
	else if (n == 3)
		v += 1900;
	tm->year = v;
	tm->have_year = 1;
	return 0;
}

/* A comment "(...)" as in "+0000 (UTC)"; skipped. */
static void
date_skip_comment(const char **pp)
{
	const char *p = *pp;

	while (*p != '\0' && *p != ')')
		p++;
	*pp = *p == ')' ? p + 1 : p;
}

static int
date_822_token(const char **pp, struct date_tm *tm)
{
	const char *p = *pp;

	if (date_isalpha(*p))
		return date_822_word(pp, tm);
	if (date_isdigit(*p))
		return date_822_number(pp, tm);
	if ((*p == '+' || *p == '-') && date_isdigit(p[1]) &&
	    tm->have_time && tm->have_year && !tm->have_zone) {
		tm->have_zone = 1;
		return date_offset(pp, &tm->off);
	}
	if (*p == '(') {
		date_skip_comment(pp);
		return 0;
	}
	/* Separators: "Thu, 01-Jan-04", "Jan. 1". */
	if (*p == ',' || *p == '-' || *p == '.' || *p == '/') {
		*pp = p + 1;
		return 0;
	}
	return -1;
}

int
date_parse_rfc822(const char *s, int64_t *t)
{
	struct date_tm tm;
	const char *p = s;

	memset(&tm, 0, sizeof(tm));
	for (p = date_skip_space(p); *p != '\0'; p = date_skip_space(p))
		if (date_822_token(&p, &tm) == -1)
			return -1;
	if (!tm.have_year)
		return -1;
	return date_fold(&tm, t);
}

/* Date part: "YYYY", "YYYY-MM", "YYYY-MM-DD" or "YYYYMMDD". */
static int
date_iso_day(const char **pp, struct date_tm *tm)
{
	const char *p = *pp;
	int y;

	if (date_fixed(&p, 4, &y) == -1)
		return -1;
	tm->year = y;
	tm->mon = tm->day = 1;
	if (*p == '-') {
		p++;
		if (date_fixed(&p, 2, &tm->mon) == -1)
			return -1;
		if (*p == '-') {
			p++;
			if (date_fixed(&p, 2, &tm->day) == -1)
				return -1;
		}
	} else if (date_isdigit(*p)) {
		if (date_fixed(&p, 2, &tm->mon) == -1 ||
		    date_fixed(&p, 2, &tm->day) == -1)
			return -1;
	}
	*pp = p;
	return 0;
}

/* Time part after 'T': "hh:mm[:ss[.f]]" or basic "hhmm[ss[.f]]". */
static int
date_iso_time(const char **pp, struct date_tm *tm)
{
	const char *p = *pp;

	if (p[0] != '\0' && p[1] != '\0' && p[2] == ':')
		return date_clock(pp, tm);
	if (date_fixed(&p, 2, &tm->hour) == -1 ||
	    date_fixed(&p, 2, &tm->min) == -1)
		return -1;
	if (date_isdigit(*p)) {
		if (date_fixed(&p, 2, &tm->sec) == -1)
			return -1;
		if ((*p == '.' || *p == ',') && date_isdigit(p[1]))
			for (p++; date_isdigit(*p); p++)
				;
	}
	tm->have_time = 1;
	*pp = p;
	return 0;
}

static int
date_iso_zone(const char **pp, struct date_tm *tm)
{
	const char *p = date_skip_space(*pp);

	/* "2004-01-01 19:48:21 +01:00", as PHP writes them. */
	if (*p == 'Z' || *p == 'z') {
		*pp = p + 1;
		return 0;
	}
	if (*p == '+' || *p == '-') {
		*pp = p;
		return date_offset(pp, &tm->off);
	}
	return 0;			/* no zone: read as UTC */
}

int
date_parse_iso8601(const char *s, int64_t *t)
{
	struct date_tm tm;
	const char *p = date_skip_space(s);

	memset(&tm, 0, sizeof(tm));
	if (date_iso_day(&p, &tm) == -1)
		return -1;
	if ((*p == 'T' || *p == 't' || *p == ' ') && date_isdigit(p[1])) {
		p++;
		if (date_iso_time(&p, &tm) == -1 ||
		    date_iso_zone(&p, &tm) == -1)
			return -1;
	}
	if (*date_skip_space(p) != '\0')
		return -1;
	return date_fold(&tm, t);
}

int
date_parse(const char *s, int64_t *t)
{
	if (date_parse_iso8601(s, t) == 0)
		return 0;
	return date_parse_rfc822(s, t);
}

int
date_format(int64_t t, char *buf, size_t size)
{
	int64_t days, secs, era, doe, yoe, doy, mp, y;
	int m, d;

	if (size > 0)
		buf[0] = '\0';
	/* Years 0 to 9999 only, which also keeps the sums below in range. */
	if (t < -62167219200LL || t > 253402300799LL || size < DATE_ISO_SIZE)
		return -1;
	days = (t >= 0 ? t : t - 86399) / 86400;
	secs = t - days * 86400;
	/* The inverse of date_days_from_civil, from 0000-03-01. */
	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = (int)(doy - (153 * mp + 2) / 5 + 1);
	m = (int)(mp < 10 ? mp + 3 : mp - 9);
	y = yoe + era * 400 + (m <= 2);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, m, d,
	    (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
	return 0;
}
