/* test_openapi: docs/openapi.yaml and api_routes describe the same API. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "api.h"

#define OPS_MAX	256

struct op {
	char	method[8];
	char	path[160];
};

/*
 * The operations under "paths:": a path is a key indented two spaces,
 * its methods keys indented four. Enough of YAML for the file we write
 * (a Python check in test_api_auth.py loads it as real YAML).
 */
static size_t
openapi_ops(const char *file, struct op *ops)
{
	static const char *const methods[] = { "get", "put", "post", "delete",
	    "patch", "head", "options", NULL };
	char line[512], path[160] = "";
	FILE *f = fopen(file, "r");
	size_t n = 0, i, len;
	int in = 0;

	if (f == NULL)
		fail_msg("%s: cannot open", file);
	while (fgets(line, sizeof(line), f) != NULL) {
		len = strcspn(line, "\n");
		line[len] = '\0';
		if (line[0] != ' ' && line[0] != '\0' && line[0] != '#')
			in = strcmp(line, "paths:") == 0;
		if (!in)
			continue;
		if (strncmp(line, "  /", 3) == 0 && line[len - 1] == ':') {
			snprintf(path, sizeof(path), "%.*s", (int)(len - 3),
			    line + 2);
			continue;
		}
		for (i = 0; methods[i] != NULL; i++) {
			size_t m = strlen(methods[i]);

			if (strncmp(line, "    ", 4) != 0 || line[4] == ' ' ||
			    strncmp(line + 4, methods[i], m) != 0 ||
			    line[4 + m] != ':')
				continue;
			assert_true(n < OPS_MAX);
			snprintf(ops[n].method, sizeof(ops[n].method), "%s",
			    methods[i]);
			snprintf(ops[n].path, sizeof(ops[n].path), "%s", path);
			n++;
		}
	}
	fclose(f);
	return n;
}

static void
test_routes_and_spec_agree(void **state)
{
	static struct op ops[OPS_MAX];
	const struct api_route *r;
	const char *dir = getenv("HEARD_SOURCE_DIR");
	char file[1024];
	size_t n, i, routes = 0;
	int found, bad = 0;

	(void)state;
	snprintf(file, sizeof(file), "%s/docs/openapi.yaml",
	    dir != NULL ? dir : HEARD_SOURCE_DIR);
	n = openapi_ops(file, ops);
	assert_true(n > 0);
	for (r = api_routes; r->pattern != NULL; r++, routes++) {
		for (found = 0, i = 0; i < n && !found; i++)
			found = strcasecmp(ops[i].method, r->method) == 0 &&
			    strcmp(ops[i].path, r->pattern) == 0;
		if (!found) {
			print_error("route %s %s is not in %s\n", r->method,
			    r->pattern, file);
			bad++;
		}
	}
	for (i = 0; i < n; i++) {
		for (found = 0, r = api_routes; r->pattern != NULL && !found;
		    r++)
			found = strcasecmp(ops[i].method, r->method) == 0 &&
			    strcmp(ops[i].path, r->pattern) == 0;
		if (!found) {
			print_error("%s %s in %s is no route\n", ops[i].method,
			    ops[i].path, file);
			bad++;
		}
	}
	assert_int_equal(bad, 0);
	assert_int_equal(n, routes);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_and_spec_agree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
