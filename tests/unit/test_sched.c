/* test_sched: the scheduler's pure core, one table per function. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "config.h"
#include "poll_sched.h"

#define NOW	INT64_C(1700000000)

/* The defaults of config.c, written out so a change there shows here. */
static const struct sched_policy policy = {
	.interval = 900,
	.jitter = 60,
	.backoff_base = 60,
	.backoff_max = 6 * 3600,
	.hint_max = SCHED_HINT_MAX,
};

struct next_case {
	const char		*name;
	struct sched_policy	 p;
	struct sched_state	 s;
	int64_t			 now;
	uint32_t		 rnd;
	int64_t			 want;
};

#define OK	{ .failures = 0, .err = CONN_OK }
#define FAIL(n, e)	{ .failures = (n), .err = (e) }

static const struct next_case next_cases[] = {
	{ "success waits the interval", policy, OK, NOW, 0, NOW + 900 },
	{ "jitter is added", policy, OK, NOW, 7, NOW + 907 },
	{ "jitter reaches its maximum", policy, OK, NOW, 60, NOW + 960 },
	{ "jitter wraps at jitter + 1", policy, OK, NOW, 61, NOW + 900 },
	{ "largest rnd stays within jitter", policy, OK, NOW, UINT32_MAX,
	    NOW + 900 + UINT32_MAX % 61 },
	{ "server ttl above interval wins", policy,
	    { .err = CONN_OK, .min_interval = 3600 }, NOW, 0, NOW + 3600 },
	{ "server ttl below interval is ignored", policy,
	    { .err = CONN_OK, .min_interval = 300 }, NOW, 0, NOW + 900 },
	{ "server ttl is capped at the hint maximum", policy,
	    { .err = CONN_OK, .min_interval = 10 * 86400 }, NOW, 0,
	    NOW + SCHED_HINT_MAX },
	{ "negative ttl is ignored", policy,
	    { .err = CONN_OK, .min_interval = -5 }, NOW, 0, NOW + 900 },
	{ "retry_after means nothing on success", policy,
	    { .err = CONN_OK, .retry_after = 5000 }, NOW, 0, NOW + 900 },
	{ "first failure waits the base", policy,
	    FAIL(1, CONN_ERR_TRANSIENT), NOW, 0, NOW + 60 },
	{ "second failure doubles", policy,
	    FAIL(2, CONN_ERR_TRANSIENT), NOW, 0, NOW + 120 },
	{ "third failure doubles again", policy,
	    FAIL(3, CONN_ERR_TRANSIENT), NOW, 0, NOW + 240 },
	{ "back-off stops at the ceiling", policy,
	    FAIL(10, CONN_ERR_TRANSIENT), NOW, 0, NOW + 6 * 3600 },
	{ "1000 failures stay at the ceiling", policy,
	    FAIL(1000, CONN_ERR_TRANSIENT), NOW, 0, NOW + 6 * 3600 },
	{ "INT_MAX failures stay at the ceiling", policy,
	    FAIL(INT_MAX, CONN_ERR_TRANSIENT), NOW, 0, NOW + 6 * 3600 },
	{ "failure gets jitter too", policy,
	    FAIL(1, CONN_ERR_TRANSIENT), NOW, 5, NOW + 65 },
	{ "malformed backs off", policy,
	    FAIL(2, CONN_ERR_MALFORMED), NOW, 0, NOW + 120 },
	{ "not found backs off, never gives up", policy,
	    FAIL(1000, CONN_ERR_NOT_FOUND), NOW, 0, NOW + 6 * 3600 },
	{ "error without a count is one failure", policy,
	    FAIL(0, CONN_ERR_TRANSIENT), NOW, 0, NOW + 60 },
	{ "count without an error is a failure", policy,
	    FAIL(3, CONN_OK), NOW, 0, NOW + 240 },
	{ "rate limited waits retry_after", policy,
	    { .failures = 1, .err = CONN_ERR_RATE_LIMITED,
	    .retry_after = 300 }, NOW, 0, NOW + 300 },
	{ "rate limited: back-off when longer", policy,
	    { .failures = 3, .err = CONN_ERR_RATE_LIMITED,
	    .retry_after = 30 }, NOW, 0, NOW + 240 },
	{ "rate limited: no retry_after backs off", policy,
	    FAIL(2, CONN_ERR_RATE_LIMITED), NOW, 0, NOW + 120 },
	{ "retry_after above the ceiling is honoured", policy,
	    { .failures = 1, .err = CONN_ERR_RATE_LIMITED,
	    .retry_after = 12 * 3600 }, NOW, 0, NOW + 12 * 3600 },
	{ "retry_after is capped at the hint maximum", policy,
	    { .failures = 1, .err = CONN_ERR_RATE_LIMITED,
	    .retry_after = 7 * 86400 }, NOW, 0, NOW + SCHED_HINT_MAX },
	{ "retry_after plus jitter", policy,
	    { .failures = 1, .err = CONN_ERR_RATE_LIMITED,
	    .retry_after = 300 }, NOW, 9, NOW + 309 },
	{ "503 with Retry-After is honoured", policy,
	    { .failures = 1, .err = CONN_ERR_TRANSIENT,
	    .retry_after = 120 }, NOW, 0, NOW + 120 },
	{ "auth failure pauses", policy, FAIL(1, CONN_ERR_AUTH), NOW, 0,
	    SCHED_NEVER },
	{ "config failure pauses", policy, FAIL(1, CONN_ERR_CONFIG), NOW, 0,
	    SCHED_NEVER },
	{ "paused stays paused", policy,
	    { .err = CONN_OK, .paused = 1 }, NOW, 0, SCHED_NEVER },
	{ "zero interval still waits a second",
	    { .interval = 0, .jitter = 0 }, OK, NOW, 12345, NOW + 1 },
	{ "negative jitter is none",
	    { .interval = 10, .jitter = -3 }, OK, NOW, 12345, NOW + 10 },
	{ "huge jitter uses all of rnd",
	    { .interval = 10, .jitter = INT64_MAX }, OK, NOW, UINT32_MAX,
	    NOW + 10 + UINT32_MAX },
	{ "base above ceiling: the base",
	    { .backoff_base = 100, .backoff_max = 10 },
	    FAIL(5, CONN_ERR_TRANSIENT), NOW, 0, NOW + 100 },
	{ "no base: one second, doubling",
	    { .backoff_base = 0, .backoff_max = 3600 },
	    FAIL(4, CONN_ERR_TRANSIENT), NOW, 0, NOW + 8 },
	{ "unbounded ceiling with 1000 failures saturates",
	    { .backoff_base = 60, .backoff_max = INT64_MAX },
	    FAIL(1000, CONN_ERR_TRANSIENT), NOW, 0, SCHED_NEVER - 1 },
	{ "huge interval saturates below never",
	    { .interval = INT64_MAX, .jitter = INT64_MAX }, OK, NOW,
	    UINT32_MAX, SCHED_NEVER - 1 },
	{ "now near the end of time saturates", policy,
	    FAIL(1000, CONN_ERR_TRANSIENT), INT64_MAX - 10, UINT32_MAX,
	    SCHED_NEVER - 1 },
	{ "negative now still moves forward", policy, OK, -1000, 0,
	    -1000 + 900 },
};

static void
test_next(void **state)
{
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < sizeof(next_cases) / sizeof(next_cases[0]); i++) {
		const struct next_case *c = &next_cases[i];

		got = sched_next(&c->p, &c->s, c->now, c->rnd);
		if (got != c->want)
			fail_msg("%s: got %lld, want %lld", c->name,
			    (long long)got, (long long)c->want);
	}
}

/* Whatever rnd is, the jitter stays in [0, jitter]. */
static void
test_next_jitter_bounds(void **state)
{
	struct sched_state s = OK;
	uint32_t rnd;
	int64_t d, seen_max = 0;

	(void)state;
	for (rnd = 0; rnd < 100000; rnd += 7) {
		d = sched_next(&policy, &s, NOW, rnd) - NOW - 900;
		assert_true(d >= 0 && d <= 60);
		if (d > seen_max)
			seen_max = d;
	}
	assert_int_equal(seen_max, 60);
}

/* The back-off never shrinks as failures grow, and never exceeds. */
static void
test_next_backoff_monotonic(void **state)
{
	struct sched_state s = FAIL(1, CONN_ERR_TRANSIENT);
	int64_t prev = 0, got;

	(void)state;
	for (s.failures = 1; s.failures <= 2000; s.failures++) {
		got = sched_next(&policy, &s, NOW, 0) - NOW;
		assert_true(got >= prev);
		assert_true(got <= policy.backoff_max);
		prev = got;
	}
	assert_int_equal(prev, policy.backoff_max);
}

static void
test_policy_from_config(void **state)
{
	struct sched_policy p;
	struct config cfg;

	(void)state;
	config_defaults(&cfg);
	cfg.poll_interval = 300;
	cfg.poll_jitter = 5;
	cfg.backoff_base = 30;
	cfg.backoff_max = 600;
	sched_policy_init(&p, &cfg);
	assert_int_equal(p.interval, 300);
	assert_int_equal(p.jitter, 5);
	assert_int_equal(p.backoff_base, 30);
	assert_int_equal(p.backoff_max, 600);
	assert_int_equal(p.hint_max, SCHED_HINT_MAX);
	config_free(&cfg);
}

struct str_case {
	const char	*in;
	int64_t		 want;
};

static const struct str_case max_age_cases[] = {
	{ "max-age=300", 300 },
	{ "public, max-age=60", 60 },
	{ "MAX-AGE=10", 10 },
	{ "max-age = 10", 10 },
	{ "max-age=\"120\"", 120 },
	{ "max-age=0", 0 },
	{ "private,max-age=5,must-revalidate", 5 },
	{ "max-age=1, max-age=2", 2 },
	{ "max-age=99999999999999999999999999", INT64_C(1) << 40 },
	{ "no-cache, max-age=60", -1 },
	{ "max-age=60, no-store", -1 },
	{ "no-cache=\"Set-Cookie\", max-age=60", -1 },
	{ "no-cachex, max-age=5", 5 },
	{ "s-maxage=100", -1 },
	{ "max-ages=5", -1 },
	{ "max-age=", -1 },
	{ "max-age=abc", -1 },
	{ "max-age", -1 },
	{ "private", -1 },
	{ "", -1 },
	{ NULL, -1 },
};

static void
test_max_age(void **state)
{
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < sizeof(max_age_cases) / sizeof(max_age_cases[0]);
	    i++) {
		got = sched_max_age(max_age_cases[i].in);
		if (got != max_age_cases[i].want)
			fail_msg("'%s': got %lld, want %lld",
			    max_age_cases[i].in ? max_age_cases[i].in : "NULL",
			    (long long)got, (long long)max_age_cases[i].want);
	}
}

/* 2015-10-21T07:28:00Z, the date in RFC 9110's examples. */
#define DATE	INT64_C(1445412480)

struct retry_case {
	const char	*in;
	int64_t		 now;
	int64_t		 want;
};

static const struct retry_case retry_cases[] = {
	{ "120", NOW, 120 },
	{ " 120 ", NOW, 120 },
	{ "0", NOW, 0 },
	{ "99999999999999999999999", NOW, INT64_C(1) << 40 },
	{ "-5", NOW, -1 },
	{ "12a", NOW, -1 },
	{ "1.5", NOW, -1 },
	{ "", NOW, -1 },
	{ "soon", NOW, -1 },
	{ NULL, NOW, -1 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", DATE - 100, 100 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT", DATE + 100, 0 },
	{ "Wednesday, 21-Oct-15 07:28:00 GMT", DATE - 7, 7 },
	{ "Wed Oct 21 07:28:00 2015", DATE - 3600, 3600 },
	{ "Wed, 21 Oct 2015 07:28:00 GMT trailing", DATE - 1, -1 },
	{ "Wed, 32 Oct 2015 07:28:00 GMT", DATE - 1, -1 },
};

static void
test_retry_after(void **state)
{
	size_t i;
	int64_t got;

	(void)state;
	for (i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
		const struct retry_case *c = &retry_cases[i];

		got = sched_retry_after(c->in, c->now);
		if (got != c->want)
			fail_msg("'%s': got %lld, want %lld",
			    c->in ? c->in : "NULL", (long long)got,
			    (long long)c->want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_next_jitter_bounds),
		cmocka_unit_test(test_next_backoff_monotonic),
		cmocka_unit_test(test_policy_from_config),
		cmocka_unit_test(test_max_age),
		cmocka_unit_test(test_retry_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
