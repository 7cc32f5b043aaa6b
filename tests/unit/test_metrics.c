/* test_metrics: counters, the histogram and sources by health as text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sqlite3.h>

#include "buf.h"
#include "metrics.h"
#include "orgs.h"
#include "sources.h"
#include "store.h"
#include "testdb.h"

#define NOW	INT64_C(1777636800)

static void
has(const char *text, const char *line)
{
	if (strstr(text, line) == NULL)
		fail_msg("no line '%s' in:\n%s", line, text);
}

/* Takes the mails table away, as a broken store would. */
static int
break_store(struct store *s)
{
	return sqlite3_exec(store_db(s), "ALTER TABLE mails RENAME TO gone",
	    NULL, NULL, NULL);
}

static void
test_histogram(void **state)
{
	struct metrics m;

	(void)state;
	memset(&m, 0, sizeof(m));
	metrics_http(&m, 200, 0.001);
	metrics_http(&m, 204, 0.005);	/* on a bound: in it */
	metrics_http(&m, 404, 0.3);
	metrics_http(&m, 503, 42.0);	/* past the last: only +Inf */
	metrics_http(&m, 302, 0.02);
	assert_int_equal(m.http[0], 2);
	assert_int_equal(m.http[1], 1);
	assert_int_equal(m.http[2], 1);
	assert_int_equal(m.http[3], 1);
	assert_int_equal(m.http_buckets[0], 2);
	assert_int_equal(m.http_buckets[2], 1);
	assert_int_equal(m.http_buckets[6], 1);
	assert_int_equal(m.http_count, 5);
}

static void
test_render(void **state)
{
	struct source_health fail = { .ok = 0, .error_code = 4,
	    .error = "HTTP 500", .failures = 2, .next_poll = NOW + 60 };
	struct source_health paused = { .ok = 0, .error_code = 2,
	    .error = "HTTP 401", .paused = 1, .failures = 1 };
	struct source_health ok = { .ok = 1, .next_poll = NOW + 900 };
	char dir[TESTDB_DIR], path[TESTDB_PATH], err[256], file[1024];
	struct orgs_import_stats st;
	struct store *s = testdb_open("metrics", dir, path);
	struct metrics m;
	struct buf out;
	int64_t id[4];
	int i;

	(void)state;
	snprintf(file, sizeof(file), "%s/data/ods/etr.csv", HEARD_SOURCE_DIR);
	memset(&st, 0, sizeof(st));
	assert_int_equal(orgs_import(s, file, NULL, NULL, &st, err,
	    sizeof(err)), 0);
	for (i = 0; i < 4; i++) {
		id[i] = sources_add(s, "RJ1", "rss", "{\"url\":"
		    "\"http://127.0.0.1/x\"}", NOW, err, sizeof(err));
		assert_true(id[i] > 0);
	}
	assert_int_equal(sources_health(s, id[0], NOW, &ok), 0);
	assert_int_equal(sources_health(s, id[1], NOW, &fail), 0);
	assert_int_equal(sources_health(s, id[2], NOW, &paused), 0);
	memset(&m, 0, sizeof(m));
	m.polls_ok = 3;
	m.polls_error = 1;
	m.items_stored = 17;
	m.replies_posted = 2;
	metrics_http(&m, 200, 0.002);
	buf_init(&out, 1 << 20);
	assert_int_equal(metrics_render(&m, s, &out), 0);
	has(out.data, "# TYPE heard_sources gauge\n");
	has(out.data, "heard_sources{health=\"ok\"} 1\n");
	has(out.data, "heard_sources{health=\"failing\"} 1\n");
	has(out.data, "heard_sources{health=\"paused\"} 1\n");
	has(out.data, "heard_sources{health=\"new\"} 1\n");
	has(out.data, "# TYPE heard_polls_total counter\n"
	    "heard_polls_total{result=\"ok\"} 3\n"
	    "heard_polls_total{result=\"error\"} 1\n");
	has(out.data, "heard_items_stored_total 17\n");
	has(out.data, "heard_replies_relayed_total{result=\"posted\"} 2\n");
	has(out.data, "heard_mails_sent_total 0\n");
	has(out.data, "heard_http_requests_total{code=\"2xx\"} 1\n");
	has(out.data, "# TYPE heard_http_request_duration_seconds histogram\n");
	has(out.data, "heard_http_request_duration_seconds_bucket{le=\"0.005\"}"
	    " 1\n");
	has(out.data, "heard_http_request_duration_seconds_bucket{le=\"+Inf\"}"
	    " 1\nheard_http_request_duration_seconds_sum 0.002000\n"
	    "heard_http_request_duration_seconds_count 1\n");
	/* Text format: ends with a newline, no blank lines. */
	assert_int_equal(out.data[out.len - 1], '\n');
	assert_null(strstr(out.data, "\n\n"));
	/* A store that cannot answer: an error, not a half page. */
	assert_int_equal(break_store(s), 0);
	buf_reset(&out);
	assert_int_equal(metrics_render(&m, s, &out), -1);
	buf_free(&out);
	testdb_close(s, dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram),
		cmocka_unit_test(test_render),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
