/* test_config: defaults, every option type, and file:line errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static char *
write_file(const char *text)
{
	char *path = strdup("/tmp/heard-test-config-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void
test_defaults(void **state)
{
	struct config c;

	(void)state;
	config_defaults(&c);
	assert_string_equal(c.db_path, "./heard.db");
	assert_string_equal(c.listen, "127.0.0.1:8080");
	assert_int_equal(c.poll_interval, 900);
	assert_true(c.backoff_base <= c.backoff_max);
	assert_int_equal(c.allow_file_urls, 0);
	config_free(&c);
}

static void
test_values_with_units(void **state)
{
	char *path = write_file("; comment\n[store]\npath = /tmp/x.db\n"
	    "[poll]\ninterval = 10m\njitter = 30s\nbackoff_max = 2h\n"
	    "max_body = 512K\nper_host = 4\nallow_file_urls = yes\n"
	    "[log]\nlevel = debug\n");
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c.db_path, "/tmp/x.db");
	assert_int_equal(c.poll_interval, 600);
	assert_int_equal(c.poll_jitter, 30);
	assert_int_equal(c.backoff_max, 7200);
	assert_int_equal(c.max_body, 512 * 1024);
	assert_int_equal(c.per_host, 4);
	assert_int_equal(c.allow_file_urls, 1);
	assert_int_equal(c.log_level, 2);
	assert_string_equal(c.path, path);
	config_free(&c);
	unlink(path);
	free(path);
}

struct bad_case {
	const char	*text;
	int		 line;
	const char	*reason;
};

static const struct bad_case bad_cases[] = {
	{ "[poll]\ninterval = soon\n", 2, "poll.interval: 'soon'" },
	{ "[poll]\ninterval = 5\n", 2, "from 10 to" },
	{ "[poll]\nper_host = 1000\n", 2, "poll.per_host" },
	{ "[poll]\nmax_body = 10X\n", 2, "size (K, M, G)" },
	{ "\n\n[store]\ncolour = blue\n", 4, "unknown option 'store.colour'" },
	{ "[log]\nlevel = loud\n", 2, "not warn, info or debug" },
	{ "[poll]\nallow_file_urls = maybe\n", 2, "not yes or no" },
	{ "[poll\n", 1, "syntax error" },
	{ "[store]\njust words\n", 2, "syntax error" },
	{ "[poll]\ninterval = 99999999999999999999\n", 2, "poll.interval" },
	{ "[poll]\nbackoff_base = 2h\nbackoff_max = 1h\n", 0,
	    "backoff_base is above" },
};

static void
test_bad_lines(void **state)
{
	struct config c;
	char err[512], want[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		char *path = write_file(bad_cases[i].text);

		config_defaults(&c);
		assert_int_equal(config_load(path, &c, err, sizeof(err)), -1);
		if (bad_cases[i].line > 0) {
			snprintf(want, sizeof(want), "%s:%d: ", path,
			    bad_cases[i].line);
			if (strncmp(err, want, strlen(want)) != 0)
				fail_msg("case %zu: '%s' does not start '%s'",
				    i, err, want);
		}
		if (strstr(err, bad_cases[i].reason) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err,
			    bad_cases[i].reason);
		/* A failed load leaves the old config as it was. */
		assert_int_equal(c.poll_interval, 900);
		config_free(&c);
		unlink(path);
		free(path);
	}
}

static void
test_missing_file(void **state)
{
	struct config c;
	char err[256];

	(void)state;
	config_defaults(&c);
	assert_int_equal(config_load("/nonexistent/heard.conf", &c, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/heard.conf: cannot open"));
	config_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_values_with_units),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
