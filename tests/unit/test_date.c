/* test_date: RFC 822 and ISO 8601 parsing, formatting, the day count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "date.h"

struct parse_case {
	const char	*in;
	const char	*want;	/* formatted UTC, or NULL: must fail */
};

/* Epoch values checked against Python's calendar.timegm. */
static const struct {
	int64_t		 t;
	const char	*iso;
} format_cases[] = {
	{ 0, "1970-01-01T00:00:00Z" },
	{ -1, "1969-12-31T23:59:59Z" },
	{ -86400, "1969-12-31T00:00:00Z" },
	{ 951868800, "2000-03-01T00:00:00Z" },
	{ 951868799, "2000-02-29T23:59:59Z" },
	{ 1078012800, "2004-02-29T00:00:00Z" },
	{ 2147483648LL, "2038-01-19T03:14:08Z" },
	{ -2203891200LL, "1900-03-01T00:00:00Z" },
	{ 253402300799LL, "9999-12-31T23:59:59Z" },
	{ -62135596800LL, "0001-01-01T00:00:00Z" },
	{ -62167219200LL, "0000-01-01T00:00:00Z" },
};

static const struct parse_case rfc822_cases[] = {
	{ "Thu, 01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Thu, 01 Jan 2004 19:48:21 +0000", "2004-01-01T19:48:21Z" },
	{ "Thu, 1 Jan 2004 19:48:21 -0500", "2004-01-02T00:48:21Z" },
	{ "Thu, 01 Jan 2004 19:48:21 +0530", "2004-01-01T14:18:21Z" },
	{ "Thu, 01 Jan 2004 19:48:21 +05:30", "2004-01-01T14:18:21Z" },
	{ "Thu, 01 Jan 2004 19:48 GMT", "2004-01-01T19:48:00Z" },
	{ "01 Jan 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Thursday, 01 January 2004 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Thu, 01 Jan 04 19:48:21 GMT", "2004-01-01T19:48:21Z" },
	{ "Fri, 31 Dec 99 23:00:00 GMT", "1999-12-31T23:00:00Z" },
	{ "Thu, 01 Jan 49 00:00:00 GMT", "2049-01-01T00:00:00Z" },
	{ "Sun, 01 Jan 50 00:00:00 GMT", "1950-01-01T00:00:00Z" },
	{ "Sun, 01 Jan 104 00:00:00 GMT", "2004-01-01T00:00:00Z" },
	{ "Thu, 01 Jan 2004 19:48:21 EST", "2004-01-02T00:48:21Z" },
	{ "Thu, 01 Jul 2004 12:00:00 EDT", "2004-07-01T16:00:00Z" },
	{ "Thu, 01 Jul 2004 12:00:00 PDT", "2004-07-01T19:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 PST", "2004-01-01T20:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 CST", "2004-01-01T18:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 MDT", "2004-01-01T18:00:00Z" },
	{ "Thu, 01 Jul 2004 12:00:00 BST", "2004-07-01T11:00:00Z" },
	{ "Thu, 01 Jul 2004 12:00:00 CEST", "2004-07-01T10:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 UT", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 utc", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 Z", "2004-01-01T12:00:00Z" },
	/* Military letters are read as -0000 (RFC 2822 4.3). */
	{ "Thu, 01 Jan 2004 12:00:00 A", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 N", "2004-01-01T12:00:00Z" },
	/* Unknown zone names after the time: UTC rather than no date. */
	{ "Thu, 01 Jan 2004 12:00:00 J", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 XYZT", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 GMT+0100", "2004-01-01T11:00:00Z" },
	{ "Thu, 01 Jan 2004 12:00:00 +0100 (CET)", "2004-01-01T11:00:00Z" },
	{ "  Thu,01 Jan 2004 12:00:00 GMT  ", "2004-01-01T12:00:00Z" },
	{ "Thu, 01 Jan 2004", "2004-01-01T00:00:00Z" },
	{ "Thu, 01 Jan 2004 23:59:60 GMT", "2004-01-02T00:00:00Z" },
	/* RFC 850 and asctime, the other two HTTP-date forms. */
	{ "Sunday, 06-Nov-94 08:49:37 GMT", "1994-11-06T08:49:37Z" },
	{ "Sun Nov  6 08:49:37 1994", "1994-11-06T08:49:37Z" },
	{ "Sun, 06 Nov 1994 08:49:37 GMT", "1994-11-06T08:49:37Z" },
	{ "Nov 6 1994 08:49:37 GMT", "1994-11-06T08:49:37Z" },
	{ "Tue, 29 Feb 2000 00:00:00 GMT", "2000-02-29T00:00:00Z" },
	{ "Mon, 29 Feb 1900 00:00:00 GMT", NULL },
	{ "Thu, 31 Apr 2004 00:00:00 GMT", NULL },
	{ "Thu, 00 Jan 2004 00:00:00 GMT", NULL },
	{ "Thu, 01 Foo 2004 00:00:00 GMT", NULL },
	{ "Thu, 01 Jan 2004 24:00:00 GMT", NULL },
	{ "Thu, 01 Jan 2004 12:60:00 GMT", NULL },
	{ "Thu, 01 Jan 2004 12:00:00 +2500", NULL },
	{ "Thu, 01 Jan 2004 12:00:00 GMT GMT", NULL },
	{ "Thu, 01 Jan 12:00:00 GMT", NULL },
	{ "Thu, 01 Jan 20040 12:00:00 GMT", NULL },
	{ "", NULL },
	{ "yesterday", NULL },
	{ "12:00", NULL },
};

static const struct parse_case iso_cases[] = {
	{ "2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31t10:14:55Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31 10:14:55Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55.123Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55,5Z", "2003-12-31T10:14:55Z" },
	{ "2003-12-31T10:14:55-08:00", "2003-12-31T18:14:55Z" },
	{ "2003-12-31T10:14:55+01:00", "2003-12-31T09:14:55Z" },
	{ "2003-12-31T23:14:55-0800", "2004-01-01T07:14:55Z" },
	{ "2003-12-31T10:14:55+05", "2003-12-31T05:14:55Z" },
	{ "2003-12-31T10:14:55.999999999+05:45", "2003-12-31T04:29:55Z" },
	{ "2003-12-31T10:14Z", "2003-12-31T10:14:00Z" },
	{ "2003-12-31T10:14:55", "2003-12-31T10:14:55Z" },
	{ "2003-12-31 10:14:55 +01:00", "2003-12-31T09:14:55Z" },
	{ "2003-12-31", "2003-12-31T00:00:00Z" },
	{ "2003-12", "2003-12-01T00:00:00Z" },
	{ "2003", "2003-01-01T00:00:00Z" },
	{ "20031231T101455Z", "2003-12-31T10:14:55Z" },
	{ "20031231T1014Z", "2003-12-31T10:14:00Z" },
	{ "20031231", "2003-12-31T00:00:00Z" },
	{ " 2003-12-31T10:14:55Z\n", "2003-12-31T10:14:55Z" },
	{ "1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z" },
	{ "2004-02-29T00:00:00Z", "2004-02-29T00:00:00Z" },
	{ "2003-02-29T00:00:00Z", NULL },
	{ "2003-13-01T00:00:00Z", NULL },
	{ "2003-00-01", NULL },
	{ "2003-12-32", NULL },
	{ "2003-12-31T25:00:00Z", NULL },
	{ "2003-12-31T10:14:55+24:00", NULL },
	{ "2003-12-31T10:14:55Q", NULL },
	{ "2003-12-31T10", NULL },
	{ "2003-1-31", NULL },
	{ "03-12-31", NULL },
	{ "Thu, 01 Jan 2004 19:48:21 GMT", NULL },
	{ "", NULL },
};

static void
check_parse(const struct parse_case *c, size_t n,
    int (*parse)(const char *, int64_t *))
{
	char got[DATE_ISO_SIZE];
	int64_t t;
	size_t i;

	for (i = 0; i < n; i++) {
		t = 42;
		if (c[i].want == NULL) {
			if (parse(c[i].in, &t) != -1)
				fail_msg("'%s' parsed, should fail", c[i].in);
			assert_int_equal(t, 42);
			continue;
		}
		if (parse(c[i].in, &t) != 0)
			fail_msg("'%s' did not parse", c[i].in);
		assert_int_equal(date_format(t, got, sizeof(got)), 0);
		if (strcmp(got, c[i].want) != 0)
			fail_msg("'%s': got %s, want %s", c[i].in, got,
			    c[i].want);
	}
}

static void
test_rfc822(void **state)
{
	(void)state;
	check_parse(rfc822_cases,
	    sizeof(rfc822_cases) / sizeof(rfc822_cases[0]),
	    date_parse_rfc822);
}

static void
test_iso8601(void **state)
{
	(void)state;
	check_parse(iso_cases, sizeof(iso_cases) / sizeof(iso_cases[0]),
	    date_parse_iso8601);
}

/* date_parse takes both forms. */
static void
test_either(void **state)
{
	static const struct parse_case cases[] = {
		{ "2003-12-31T10:14:55Z", "2003-12-31T10:14:55Z" },
		{ "Wed, 31 Dec 2003 10:14:55 GMT", "2003-12-31T10:14:55Z" },
		{ "31 Dec 2003 10:14:55 +0100", "2003-12-31T09:14:55Z" },
		{ "not a date", NULL },
	};

	(void)state;
	check_parse(cases, sizeof(cases) / sizeof(cases[0]), date_parse);
}

static void
test_format(void **state)
{
	char got[DATE_ISO_SIZE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(format_cases) / sizeof(format_cases[0]);
	    i++) {
		assert_int_equal(date_format(format_cases[i].t, got,
		    sizeof(got)), 0);
		assert_string_equal(got, format_cases[i].iso);
	}
	assert_int_equal(date_format(-62167219201LL, got, sizeof(got)), -1);
	assert_string_equal(got, "");
	assert_int_equal(date_format(253402300800LL, got, sizeof(got)), -1);
	assert_int_equal(date_format(INT64_MIN, got, sizeof(got)), -1);
	assert_int_equal(date_format(INT64_MAX, got, sizeof(got)), -1);
	assert_int_equal(date_format(0, got, DATE_ISO_SIZE - 1), -1);
}

static void
test_days(void **state)
{
	(void)state;
	assert_int_equal(date_days_from_civil(1970, 1, 1), 0);
	assert_int_equal(date_days_from_civil(1969, 12, 31), -1);
	assert_int_equal(date_days_from_civil(2000, 3, 1), 11017);
	assert_int_equal(date_days_from_civil(2000, 2, 29), 11016);
	assert_int_equal(date_days_from_civil(1, 1, 1), -719162);
	assert_int_equal(date_days_from_civil(0, 3, 1), -719468);
	assert_int_equal(date_days_from_civil(-1, 12, 31), -719529);
}

/* Every 7919 s over 0000..9999: format then parse gives t back. */
static void
test_round_trip(void **state)
{
	char s[DATE_ISO_SIZE];
	int64_t t, back;

	(void)state;
	for (t = -62167219200LL; t <= 253402300799LL; t += 7919 * 1009) {
		assert_int_equal(date_format(t, s, sizeof(s)), 0);
		assert_int_equal(date_parse_iso8601(s, &back), 0);
		if (back != t)
			fail_msg("%lld -> %s -> %lld", (long long)t, s,
			    (long long)back);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc822),
		cmocka_unit_test(test_iso8601),
		cmocka_unit_test(test_either),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_days),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
