/* test_common: arena, bounded buffer, settings and the registry's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "registry.h"
#include "settings_json.h"

static void
test_arena(void **state)
{
	struct arena a;
	char *big, *s;
	int i;

	(void)state;
	arena_init(&a);
	for (i = 0; i < 10000; i++) {
		s = arena_printf(&a, "item-%d", i);
		assert_string_equal(s, arena_strdup(&a, s));
		assert_int_equal((uintptr_t)arena_alloc(&a, 3) %
		    _Alignof(max_align_t), 0);
	}
	big = arena_alloc(&a, 1 << 20);	/* larger than a chunk */
	assert_int_equal(big[(1 << 20) - 1], 0);
	assert_null(arena_strdup(&a, NULL));
	arena_free(&a);
	assert_null(a.head);
}

static void
test_buf_cap(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 10);
	assert_int_equal(buf_puts(&b, "hello"), 0);
	assert_int_equal(buf_puts(&b, "world"), 0);
	assert_int_equal(buf_puts(&b, "!"), -1);	/* over the cap */
	assert_string_equal(b.data, "helloworld");	/* untouched */
	assert_int_equal(b.len, 10);
	buf_reset(&b);
	assert_int_equal(buf_printf(&b, "%d-%s", 42, "x"), 0);
	assert_string_equal(b.data, "42-x");
	buf_free(&b);
}

static void
test_settings_words(void **state)
{
	char *words[] = { "url=http://a/?x=1", "interval=5m" };
	char *dup[] = { "url=a", "url=b" };
	char *bare[] = { "url" };
	struct conn_error e = { 0 };
	struct conn_settings set;
	const char *json;
	struct arena a;

	(void)state;
	arena_init(&a);
	assert_int_equal(settings_from_words(&a, 2, words, &json, &e), 0);
	assert_string_equal(json, "{\"interval\":\"5m\",\"url\":"
	    "\"http://a/?x=1\"}");
	assert_int_equal(settings_from_json(&a, json, &set, &e), 0);
	assert_int_equal(set.n, 2);
	assert_string_equal(conn_settings_get(&set, "url"), "http://a/?x=1");
	assert_null(conn_settings_get(&set, "nope"));
	assert_int_equal(settings_from_words(&a, 2, dup, &json, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	assert_int_equal(settings_from_words(&a, 1, bare, &json, &e), -1);
	assert_int_equal(e.code, CONN_ERR_CONFIG);
	assert_int_equal(settings_from_json(&a, "[1]", &set, &e), -1);
	assert_int_equal(settings_from_json(&a, "{\"a\":1}", &set, &e), -1);
	arena_free(&a);
}

struct interval_case {
	const char	*value;
	long		 want;
};

static void
test_registry_checks(void **state)
{
	static const struct interval_case cases[] = {
		{ "300", 300 }, { "5m", 300 }, { "2h", 7200 }, { "45s", 45 },
		{ "5", -1 }, { "8d", -1 }, { "soon", -1 }, { "5x", -1 },
	};
	const struct connector *rss = registry_find("rss");
	struct conn_error e = { 0 };
	struct conn_kv kv[2];
	struct conn_settings set = { .kv = kv, .n = 2 };
	size_t i;

	(void)state;
	assert_non_null(rss);
	assert_null(registry_find("no-such"));
	assert_ptr_equal(registry_at(0), rss);
	kv[0] = (struct conn_kv){ "url", "https://example.org/feed" };
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		kv[1] = (struct conn_kv){ "interval", cases[i].value };
		assert_int_equal(registry_interval(&set), cases[i].want);
		assert_int_equal(registry_check_settings(rss, &set, &e),
		    cases[i].want > 0 ? 0 : -1);
	}
	kv[1] = (struct conn_kv){ "colour", "blue" };
	assert_int_equal(registry_check_settings(rss, &set, &e), -1);
	assert_non_null(strstr(e.msg, "unknown setting 'colour'"));
	set.n = 0;
	assert_int_equal(registry_check_settings(rss, &set, &e), -1);
	assert_non_null(strstr(e.msg, "missing setting 'url'"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_arena),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_settings_words),
		cmocka_unit_test(test_registry_checks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
