/* test_api: route matching, 405's Allow, and the body and path helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "api.h"

static void
test_route_find(void **state)
{
	struct api_match m;
	char path[API_PATH_MAX + 8];

	(void)state;
	assert_int_equal(api_route_find("POST", "/api/v1/login", &m), 1);
	assert_string_equal(m.route->pattern, "/api/v1/login");
	assert_int_equal(m.nparams, 0);
	assert_int_equal(api_route_find("DELETE", "/api/v1/tokens/42", &m), 1);
	assert_string_equal(m.route->pattern, "/api/v1/tokens/{id}");
	assert_int_equal(m.nparams, 1);
	assert_string_equal(m.params[0], "42");
	/* HEAD is GET. */
	assert_int_equal(api_route_find("HEAD", "/api/v1/me", &m), 1);
	assert_string_equal(m.route->method, "GET");
	/* The path is known, the method is not: the methods it has. */
	assert_int_equal(api_route_find("DELETE", "/api/v1/me", &m), 0);
	assert_string_equal(m.allow, "GET");
	assert_int_equal(api_route_find("PATCH", "/api/v1/tokens", &m), 0);
	assert_non_null(strstr(m.allow, "GET"));
	assert_non_null(strstr(m.allow, "POST"));
	/* Segments are whole: no prefix, no empty capture, no extra. */
	assert_int_equal(api_route_find("GET", "/api/v1/mee", &m), -1);
	assert_int_equal(api_route_find("GET", "/api/v1/me/", &m), -1);
	assert_int_equal(api_route_find("DELETE", "/api/v1/tokens/", &m), -1);
	assert_int_equal(api_route_find("DELETE", "/api/v1/tokens/1/2", &m),
	    -1);
	assert_int_equal(api_route_find("GET", "/api/v1", &m), -1);
	memset(path, 'a', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memcpy(path, "/api/v1/tokens/", 15);
	assert_int_equal(api_route_find("DELETE", path, &m), -1);
}

/* Every pattern is well formed and no two routes are the same. */
static void
test_route_table(void **state)
{
	const struct api_route *r, *o;
	struct api_match m;

	(void)state;
	for (r = api_routes; r->pattern != NULL; r++) {
		assert_non_null(r->handle);
		assert_true(strncmp(r->pattern, "/api/v1/", 8) == 0);
		for (o = api_routes; o != r; o++)
			assert_false(strcmp(o->method, r->method) == 0 &&
			    strcmp(o->pattern, r->pattern) == 0);
		/* Each route is reachable: nothing before it shadows it. */
		assert_int_equal(api_route_find(r->method, r->pattern, &m), 1);
		assert_ptr_equal(m.route, r);
	}
}

static void
test_body_helpers(void **state)
{
	static const char *const keys[] = { "name", "n", "on", NULL };
	struct api_req req;
	struct api_resp resp;
	const char *s;
	int64_t n;
	int b;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.body = json_pack("{s:s, s:I, s:b}", "name", "x", "n",
	    (json_int_t)7, "on", 1);
	assert_int_equal(api_body_check(&req, &resp, keys, 0), 0);
	assert_int_equal(api_body_str(&req, &resp, "name", 1, &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(api_body_int(&req, &resp, "n", 1, &n), 0);
	assert_int_equal(n, 7);
	assert_int_equal(api_body_bool(&req, &resp, "on", 1, &b), 0);
	assert_int_equal(b, 1);
	assert_int_equal(api_body_str(&req, &resp, "missing", 0, &s), 0);
	assert_null(s);
	assert_int_equal(resp.status, 0);
	assert_int_equal(api_body_str(&req, &resp, "n", 1, &s), -1);
	assert_int_equal(resp.status, 400);
	assert_non_null(strstr(json_string_value(json_object_get(resp.body,
	    "detail")), "'n' must be a string"));
	assert_int_equal(api_body_int(&req, &resp, "name", 1, &n), -1);
	assert_int_equal(api_body_bool(&req, &resp, "n", 1, &b), -1);
	assert_int_equal(api_body_str(&req, &resp, "gone", 1, &s), -1);
	assert_non_null(strstr(json_string_value(json_object_get(resp.body,
	    "detail")), "missing field 'gone'"));
	json_object_set_new(req.body, "typo", json_true());
	assert_int_equal(api_body_check(&req, &resp, keys, 0), -1);
	assert_string_equal(json_string_value(json_object_get(resp.body,
	    "error")), "bad_request");
	assert_non_null(strstr(json_string_value(json_object_get(resp.body,
	    "detail")), "unknown field 'typo'"));
	json_decref(req.body);
	req.body = NULL;
	assert_int_equal(api_body_check(&req, &resp, keys, 1), 0);
	assert_int_equal(api_body_check(&req, &resp, keys, 0), -1);
	json_decref(resp.body);
}

static void
test_param_id(void **state)
{
	static const char *const good[] = { "1", "42", "999999999999999999" };
	static const char *const bad[] = { "0", "-1", "01", "1x", "", "abc",
	    "9999999999999999999", " 1" };
	struct api_req req;
	struct api_resp resp;
	int64_t id;
	size_t i;

	(void)state;
	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	req.nparams = 1;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		req.params[0] = good[i];
		assert_int_equal(api_param_id(&req, &resp, 0, &id), 0);
		assert_int_equal(id, strtoll(good[i], NULL, 10));
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req.params[0] = bad[i];
		assert_int_equal(api_param_id(&req, &resp, 0, &id), -1);
		assert_int_equal(resp.status, 404);
	}
	assert_int_equal(api_param_id(&req, &resp, 1, &id), -1);
	json_decref(resp.body);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_find),
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_body_helpers),
		cmocka_unit_test(test_param_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
