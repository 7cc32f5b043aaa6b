/* test_sources: adding sources, loading them, health, and their JSON. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "connector.h"
#include "orgs.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"

#define NOW	INT64_C(1777636800)	/* 2026-05-01T12:00:00Z */

struct fixture {
	char		 dir[TESTDB_DIR];
	char		 path[TESTDB_PATH];
	struct store	*s;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->s = testdb_open("sources", f->dir, f->path);
	assert_true(orgs_ensure(f->s, "RJ1", "GUY'S", "trust") > 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	testdb_close(f->s, f->dir);
	free(f);
	return 0;
}

static void
test_add_checks(void **state)
{
	static const struct {
		const char *org, *connector, *settings;
		const char *err;	/* NULL: accepted */
	} cases[] = {
		{ "RJ1", "rss", "{\"url\": \"https://x/feed\"}", NULL },
		{ "rj1", "rss", NULL, NULL },
		{ "XYZ9", "rss", "{}", "unknown organisation 'XYZ9'" },
		{ NULL, "rss", "{}", "unknown organisation ''" },
		{ "RJ1", "", "{}", "no connector" },
		{ "RJ1", "rss", "{nope", "settings: " },
		{ "RJ1", "rss", "[\"a\"]", "settings: not a JSON object" },
		{ "RJ1", "rss", "{\"n\": 1}", "settings: n is not a string" },
		{ "RJ1", "rss", "{\"a\": \"1\", \"a\": \"2\"}", "settings: " },
	};
	struct fixture *f = *state;
	struct source src;
	char err[256];
	int64_t id;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		id = sources_add(f->s, cases[i].org, cases[i].connector,
		    cases[i].settings, NOW, err, sizeof(err));
		if (cases[i].err == NULL) {
			if (id <= 0)
				fail_msg("case %zu refused: %s", i, err);
			assert_int_equal(sources_get(f->s, id, &src), 1);
			assert_string_equal(src.org_code, "RJ1");
			assert_string_equal(src.settings,
			    cases[i].settings ? cases[i].settings : "{}");
			assert_null(src.cursor);
			assert_int_equal(src.next_poll, NOW);
			assert_int_equal(src.created_at, NOW);
			assert_int_equal(src.last_ok, 0);
			source_free(&src);
			continue;
		}
		assert_int_equal(id, -1);
		if (strncmp(err, cases[i].err, strlen(cases[i].err)) != 0)
			fail_msg("case %zu: '%s'", i, err);
	}
	assert_int_equal(sources_get(f->s, 999, &src), 0);
}

static void
test_all(void **state)
{
	static const char *const connectors[] = { "rss", "twitter", "rss" };
	struct fixture *f = *state;
	struct source *all;
	char err[256];
	size_t i, n;

	for (i = 0; i < 3; i++)
		assert_true(sources_add(f->s, "RJ1", connectors[i], "{}", NOW,
		    err, sizeof(err)) > 0);
	assert_int_equal(sources_all(f->s, &all, &n), 0);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++) {
		assert_int_equal(all[i].id, (int64_t)i + 1);
		assert_string_equal(all[i].connector, connectors[i]);
	}
	sources_free_all(all, n);
}

/* A run of polls and what the row says after each. */
static void
test_health(void **state)
{
	static const struct {
		struct source_health h;
		int64_t last_ok, last_error_at;
		const char *last_error;
	} steps[] = {
		{ { .ok = 0, .error_code = CONN_ERR_TRANSIENT,
		    .error = "transient: 503", .failures = 1,
		    .next_poll = NOW + 60 }, 0, NOW, "transient: 503" },
		{ { .ok = 1, .failures = 0, .next_poll = NOW + 900 }, NOW,
		    NOW, NULL },
		{ { .ok = 0, .error_code = CONN_ERR_AUTH,
		    .error = "auth: 401", .failures = 1, .paused = 1,
		    .next_poll = NOW + 3600 }, NOW, NOW, "auth: 401" },
		/* A poll begun while paused (poll now) lifts the pause. */
		{ { .ok = 1, .failures = 0, .was_paused = 1,
		    .next_poll = NOW + 900 }, NOW, NOW, NULL },
	};
	struct fixture *f = *state;
	struct source src;
	char err[256];
	int64_t id;
	size_t i;

	id = sources_add(f->s, "RJ1", "rss", "{}", NOW, err, sizeof(err));
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(sources_health(f->s, id, NOW, &steps[i].h),
		    0);
		assert_int_equal(sources_get(f->s, id, &src), 1);
		assert_int_equal(src.last_ok, steps[i].last_ok);
		assert_int_equal(src.last_error_at, steps[i].last_error_at);
		if (steps[i].last_error == NULL)
			assert_null(src.last_error);
		else
			assert_string_equal(src.last_error,
			    steps[i].last_error);
		assert_int_equal(src.last_error_code,
		    steps[i].h.ok ? 0 : steps[i].h.error_code);
		assert_int_equal(src.failures, steps[i].h.failures);
		assert_int_equal(src.paused, steps[i].h.paused);
		assert_int_equal(src.next_poll, steps[i].h.next_poll);
		source_free(&src);
	}
	assert_int_equal(sources_health(f->s, 999, NOW, &steps[1].h), -1);
}

/* An admin's pause during a poll outlives that poll's success. */
static void
test_health_keeps_a_pause_set_meanwhile(void **state)
{
	struct fixture *f = *state;
	struct source_health ok = { .ok = 1, .next_poll = NOW + 900 };
	struct source src;
	char err[256];
	int64_t id;

	id = sources_add(f->s, "RJ1", "rss", "{}", NOW, err, sizeof(err));
	assert_int_equal(sources_update(f->s, id, NULL, 1, NOW, err,
	    sizeof(err)), 1);
	assert_int_equal(sources_health(f->s, id, NOW, &ok), 0);
	assert_int_equal(sources_get(f->s, id, &src), 1);
	assert_int_equal(src.paused, 1);
	assert_int_equal(src.last_ok, NOW);
	source_free(&src);
}

static void
test_json(void **state)
{
	struct fixture *f = *state;
	struct source_health h = { .ok = 0, .error_code = CONN_ERR_MALFORMED,
	    .error = "malformed: not XML", .failures = 2,
	    .next_poll = NOW + 120 };
	json_t *a, *o;
	char err[256], *dump;
	int64_t id;

	id = sources_add(f->s, "RJ1", "rss", "{\"api_key\": \"s3cret\"}",
	    NOW, err, sizeof(err));
	assert_true(id > 0);
	a = sources_json(f->s);
	o = json_array_get(a, 0);
	assert_int_equal(json_integer_value(json_object_get(o, "id")), id);
	assert_string_equal(json_string_value(json_object_get(o, "org")),
	    "RJ1");
	assert_string_equal(json_string_value(json_object_get(o,
	    "connector")), "rss");
	assert_true(json_is_false(json_object_get(o, "paused")));
	assert_true(json_is_null(json_object_get(o, "last_ok")));
	assert_true(json_is_null(json_object_get(o, "last_error")));
	assert_string_equal(json_string_value(json_object_get(o,
	    "next_poll")), "2026-05-01T12:00:00Z");
	/* Settings may hold keys: never in the list. */
	assert_null(json_object_get(o, "settings"));
	dump = json_dumps(a, 0);
	assert_null(strstr(dump, "s3cret"));
	free(dump);
	json_decref(a);
	assert_int_equal(sources_health(f->s, id, NOW + 5, &h), 0);
	a = sources_json(f->s);
	o = json_array_get(a, 0);
	assert_string_equal(json_string_value(json_object_get(o,
	    "last_error")), "malformed: not XML");
	assert_string_equal(json_string_value(json_object_get(o,
	    "last_error_at")), "2026-05-01T12:00:05Z");
	assert_int_equal(json_integer_value(json_object_get(o, "failures")),
	    2);
	assert_string_equal(json_string_value(json_object_get(o,
	    "next_poll")), "2026-05-01T12:02:00Z");
	json_decref(a);
}

int
main(void)
{
#define T(fn)	cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_checks),
		T(test_all),
		T(test_health),
		T(test_health_keeps_a_pause_set_meanwhile),
		T(test_json),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
