/* test_ratelimit: failed log-ins per key a minute, and a full table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"

#define NOW	INT64_C(1777636800)

static void
test_window(void **state)
{
	struct ratelimit r;

	(void)state;
	ratelimit_init(&r);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 3, NOW), 0);
	ratelimit_fail(&r, "addr:1", NOW);
	ratelimit_fail(&r, "addr:1", NOW + 10);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 3, NOW + 10), 0);
	ratelimit_fail(&r, "addr:1", NOW + 20);
	/* Three in the window that began at NOW: wait till it ends. */
	assert_int_equal(ratelimit_wait(&r, "addr:1", 3, NOW + 20), 40);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 4, NOW + 20), 0);
	assert_int_equal(ratelimit_wait(&r, "addr:2", 3, NOW + 20), 0);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 3, NOW + 60), 0);
	/* A failure after the window starts a new one. */
	ratelimit_fail(&r, "addr:1", NOW + 61);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 1, NOW + 61), 60);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 2, NOW + 61), 0);
	ratelimit_free(&r);
}

/* Full of live windows: the oldest goes, the table never grows. */
static void
test_full_table(void **state)
{
	struct ratelimit r;
	char key[32];
	int i;

	(void)state;
	ratelimit_init(&r);
	for (i = 0; i < RATELIMIT_SLOTS; i++) {
		snprintf(key, sizeof(key), "addr:%d", i);
		ratelimit_fail(&r, key, NOW + (i == 0 ? 0 : 1));
	}
	assert_int_equal(r.used, RATELIMIT_SLOTS);
	assert_int_equal(ratelimit_wait(&r, "addr:0", 1, NOW + 1), 59);
	ratelimit_fail(&r, "user:new", NOW + 2);
	assert_int_equal(r.used, RATELIMIT_SLOTS);
	assert_int_equal(ratelimit_wait(&r, "user:new", 1, NOW + 2), 60);
	assert_int_equal(ratelimit_wait(&r, "addr:0", 1, NOW + 2), 0);
	assert_int_equal(ratelimit_wait(&r, "addr:1", 1, NOW + 2), 59);
	ratelimit_free(&r);
}

/* An overlong key is kept truncated and still found. */
static void
test_long_key(void **state)
{
	char key[RATELIMIT_KEY_MAX * 2];
	struct ratelimit r;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	ratelimit_init(&r);
	ratelimit_fail(&r, key, NOW);
	assert_int_equal(ratelimit_wait(&r, key, 1, NOW), 60);
	ratelimit_free(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_long_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
