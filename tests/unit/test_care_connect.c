/* test_care_connect: the Open311 reply both ways, statuses, error text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "date.h"
#include "open311_doc.h"
#include "registry.h"

#define REPLY_DIR	\
	HEARD_SOURCE_DIR "/tests/connectors/care-connect/reply/"
#define ENDPOINT	"https://open311.example.org/open311/v2"

static char *
slurp(const char *path)
{
	struct buf b;
	char chunk[4096];
	size_t n;
	FILE *fp = fopen(path, "rb");

	assert_non_null(fp);
	buf_init(&b, 0);
	buf_append(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(&b, chunk, n);
	fclose(fp);
	return b.data;
}

static const struct connector *
cc(void)
{
	const struct connector *c = registry_find("care-connect");

	assert_non_null(c);
	assert_int_equal(c->reply_mode, CONN_REPLY_API);
	return c;
}

static const void *
configure(struct arena *a, const struct conn_kv *kv, size_t n)
{
	struct conn_settings set = { kv, n };
	struct conn_error e;
	const void *conf;

	memset(&e, 0, sizeof(e));
	conf = cc()->configure(a, &set, &e);
	if (conf == NULL)
		fail_msg("configure: %s", e.msg);
	return conf;
}

/* The shared folder's reconstructed POST, its form body only. */
static char *
reconstructed_body(void)
{
	char *all = slurp(REPLY_DIR
	    "post-servicerequestupdate-request-reconstructed.http");
	char *body = strstr(all, "\n\n"), *out;

	assert_non_null(body);
	out = strdup(body + 2);
	out[strcspn(out, "\r\n")] = '\0';
	free(all);
	return out;
}

/*
 * The request matches the reconstruction parameter for parameter, in
 * its order and encoding. Its time is written in UTC ("Z"), the same
 * instant as the reconstruction's +01:00 (open311-adapter's own test
 * posts updated_datetime in that form).
 */
static void
test_reply_request(void **state)
{
	static const struct conn_kv kv[] = {
		{ "endpoint", ENDPOINT "/" }, { "api_key", "KEY" },
		{ "jurisdiction_id", "example" },
		{ "reply_status", "investigating" },
		{ "reply_email", "pat.responder@example.org" },
	};
	struct conn_reply rp = { .thread_key = "638344",
	    .in_reply_to = "req:638344",
	    .body = "We have asked the ward manager to look into this.",
	    .idempotency_key = "9876", .org_code = "RJ1",
	    .author_name = "Pat Responder" };
	const char *from = "2024-05-01T10%3A15%3A00%2B01%3A00";
	const char *to = "2024-05-01T09%3A15%3A00Z";
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	char *want = reconstructed_body(), *at;
	struct buf w;

	(void)state;
	assert_int_equal(date_parse_iso8601("2024-05-01T10:15:00+01:00",
	    &rp.created_at), 0);
	at = strstr(want, from);
	assert_non_null(at);
	buf_init(&w, 0);
	buf_append(&w, want, (size_t)(at - want));
	buf_puts(&w, to);
	buf_puts(&w, at + strlen(from));
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	assert_int_equal(cc()->reply(configure(&a, kv, 5), &rp, &a, &req,
	    &e), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, ENDPOINT "/servicerequestupdates.xml");
	assert_string_equal(req.body, w.data);
	assert_int_equal(req.body_len, w.len);
	assert_string_equal(req.headers[0],
	    "Content-Type: application/x-www-form-urlencoded");
	arena_free(&a);
	buf_free(&w);
	free(want);
}

static const char *
reply_body(const struct conn_kv *kv, size_t n, const char *author,
    struct conn_error *e, struct arena *a)
{
	struct conn_reply rp = { .thread_key = "0", .body = "Thank you",
	    .idempotency_key = "heard-1", .author_name = author,
	    .created_at = 1388577600 };
	struct conn_request req;

	memset(e, 0, sizeof(*e));
	memset(&req, 0, sizeof(req));
	if (cc()->reply(configure(a, kv, n), &rp, a, &req, e) == -1)
		return NULL;
	return req.body;
}

static void
test_reply_names_and_refusals(void **state)
{
	static const struct conn_kv kv[] = {
		{ "endpoint", ENDPOINT }, { "api_key", "KEY" },
		{ "format", "json" },
	};
	static const char tail[] = "&description=Thank+you";
	const char *body;
	struct conn_error e;
	struct arena a;

	(void)state;
	arena_init(&a);
	body = reply_body(kv, 3, "Pat", &e, &a);
	assert_non_null(strstr(body, "&status=OPEN&"));
	assert_non_null(strstr(body, "&updated_datetime=2014-01-01T12%3A00"
	    "%3A00Z&"));
	assert_non_null(strstr(body, "&first_name=Pat&last_name=-"));
	body = reply_body(kv, 3, "  Mary  Ann Smith ", &e, &a);
	assert_non_null(strstr(body, "&first_name=Mary&last_name=Ann+Smith"));
	body = reply_body(kv, 3, NULL, &e, &a);
	assert_string_equal(body + strlen(body) - strlen(tail), tail);
	/* Without the key there is no reply to make. */
	assert_null(reply_body(kv, 1, NULL, &e, &a));
	assert_int_equal(e.code, CONN_ERR_CONFIG);
	assert_non_null(strstr(e.msg, "api_key"));
	arena_free(&a);
}

/* A GET never carries the key; only the reply's POST body does. */
static void
test_key_only_on_post(void **state)
{
	static const struct conn_kv kv[] = {
		{ "endpoint", ENDPOINT }, { "api_key", "S3CRET-KEY" },
		{ "jurisdiction_id", "rj1" },
	};
	static const char *const cursors[] = { NULL,
	    "{\"step\":\"updates\","
	    "\"updates_since\":\"2014-01-01T00:00:00Z\"}",
	};
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	const void *conf;
	size_t i, h;

	(void)state;
	arena_init(&a);
	conf = configure(&a, kv, 3);
	for (i = 0; i < 2; i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(cc()->poll(conf, cursors[i], &a, &req, &e),
		    0);
		assert_string_equal(req.method, "GET");
		assert_null(strstr(req.url, "S3CRET"));
		assert_non_null(strstr(req.url, "jurisdiction_id=rj1"));
		for (h = 0; h < req.nheaders; h++)
			assert_null(strstr(req.headers[h], "S3CRET"));
		assert_null(req.body);
	}
	assert_non_null(strstr(reply_body(kv, 3, NULL, &e, &a),
	    "api_key=S3CRET-KEY"));
	arena_free(&a);
}

struct reply_case {
	long		 status;
	const char	*file;		/* under reply/, or NULL */
	const char	*body;		/* when no file */
	const char	*retry_after;	/* header, or NULL */
	int		 json;		/* the source asks for JSON */
	const char	*id;		/* external id; NULL: it fails */
	enum conn_err	 code;
	const char	*msg;		/* the failure's message */
	long		 retry;
};

static const struct reply_case reply_cases[] = {
	{ 200, "post-servicerequestupdate-response-sample.xml", NULL, NULL,
	    0, "upd:248", CONN_OK, NULL, 0 },
	{ 200, "post-update-response-adapter.xml", NULL, NULL, 0,
	    "upd:123", CONN_OK, NULL, 0 },
	{ 201, "post-update-response-json.json", NULL, NULL, 1, "upd:123",
	    CONN_OK, NULL, 0 },
	{ 200, "post-update-token-derived.xml", NULL, NULL, 0,
	    "token:TOKEN", CONN_OK, NULL, 0 },
	{ 400, "errors-fms.xml", NULL, NULL, 0, NULL, CONN_ERR_REFUSED,
	    "HTTP 400: Service Code cannot be null -- can't proceed with the "
	    "request.", 0 },
	{ 400, NULL, "[{\"code\":400,\"description\":\"update_id already "
	    "used\"},{\"code\":400,\"description\":\"status\"}]", NULL, 1,
	    NULL, CONN_ERR_REFUSED, "HTTP 400: 400: update_id already used; "
	    "400: status", 0 },
	{ 404, NULL, "Bad extension. We support .xml and .json", NULL, 0,
	    NULL, CONN_ERR_REFUSED, "HTTP 404: Bad extension. We support "
	    ".xml and .json", 0 },
	{ 401, NULL, "", NULL, 0, NULL, CONN_ERR_AUTH,
	    "HTTP 401: access refused", 0 },
	{ 403, NULL, "<!DOCTYPE html><html><head><title>Forbidden</title>"
	    "</head></html>", NULL, 0, NULL, CONN_ERR_AUTH,
	    "HTTP 403: access refused: Forbidden", 0 },
	{ 429, NULL, "", "30", 0, NULL, CONN_ERR_RATE_LIMITED,
	    "HTTP 429: rate limited", 30 },
	{ 500, NULL, "", NULL, 0, NULL, CONN_ERR_TRANSIENT, "HTTP 500", 0 },
	{ 503, NULL, "503 - service unavailable", NULL, 0, NULL,
	    CONN_ERR_TRANSIENT, "HTTP 503: 503 - service unavailable", 0 },
	{ 200, NULL, "<html><head><title>Sign in</title></head></html>",
	    NULL, 0, NULL, CONN_ERR_MALFORMED,
	    "HTTP 200 to a reply: got an HTML page (\"Sign in\")", 0 },
	{ 200, NULL, "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_req"
	    "uest_updates><request_update><update_id>24", NULL, 0, NULL,
	    CONN_ERR_MALFORMED, NULL, 0 },
	{ 200, NULL, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<service_re"
	    "quest_updates>\n</service_request_updates>\n", NULL, 0, NULL,
	    CONN_ERR_MALFORMED,
	    "HTTP 200 to a reply without an update_id", 0 },
};

static void
reply_case_run(const struct reply_case *t)
{
	static const struct conn_kv xml[] = { { "endpoint", ENDPOINT } };
	static const struct conn_kv json[] = { { "endpoint", ENDPOINT },
	    { "format", "json" } };
	struct conn_header hdr = { "Retry-After", t->retry_after };
	struct conn_response r;
	const char *id = "untouched";
	struct conn_error e;
	struct arena a;
	char *body = t->file != NULL ? NULL : strdup(t->body);
	char path[512];
	int rc;

	if (t->file != NULL) {
		snprintf(path, sizeof(path), "%s%s", REPLY_DIR, t->file);
		body = slurp(path);
	}
	memset(&r, 0, sizeof(r));
	r.status = t->status;
	r.body = body;
	r.body_len = strlen(body);
	r.headers = &hdr;
	r.nheaders = t->retry_after != NULL;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	rc = cc()->reply_parse(configure(&a, t->json ? json : xml, t->json ?
	    2 : 1), &r, &a, &id, &e);
	if (t->id != NULL) {
		assert_int_equal(rc, 0);
		assert_string_equal(id, t->id);
	} else {
		assert_int_equal(rc, -1);
		assert_string_equal(id, "untouched");
		assert_int_equal(e.code, t->code);
		if (t->msg != NULL)
			assert_string_equal(e.msg, t->msg);
		assert_int_equal(e.retry_after, t->retry);
	}
	arena_free(&a);
	free(body);
}

static void
test_reply_parse(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(reply_cases) / sizeof(reply_cases[0]); i++) {
		printf("# reply case %zu (HTTP %ld)\n", i,
		    reply_cases[i].status);
		reply_case_run(&reply_cases[i]);
	}
}

static void
test_thread_status(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;
	} t[] = {
		{ "open", "open" }, { "OPEN", "open" }, { "reopen", "open" },
		{ "for_triage", "open" },
		{ "investigating", "in_progress" },
		{ "IN_PROGRESS", "in_progress" },
		{ "in progress", "in_progress" },
		{ "action scheduled", "in_progress" },
		{ "ACTION_SCHEDULED", "in_progress" },
		{ "planned", "in_progress" },
		{ "fixed", "resolved" }, { "FIXED", "resolved" },
		{ "fixed - council", "resolved" }, { "resolved", "resolved" },
		{ "closed", "closed" }, { "duplicate", "closed" },
		{ "not_councils_responsibility", "closed" },
		{ "NO_FURTHER_ACTION", "closed" },
		{ "unable to fix", "closed" },
		{ "internal_referral", "closed" },
		{ "hidden", "hidden" },
		{ "  Hidden ", "hidden" },
		{ "wontfix", NULL }, { "", NULL }, { "open-ish", NULL },
		{ NULL, NULL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const char *got = open311_thread_status(t[i].in);

		if (t[i].want == NULL)
			assert_null(got);
		else
			assert_string_equal(got, t[i].want);
	}
	assert_true(open311_post_status("INVESTIGATING"));
	assert_false(open311_post_status("investigating"));
	assert_false(open311_post_status("HIDDEN"));
}

static void
test_error_text(void **state)
{
	static const struct {
		const char	*body;
		const char	*want;
	} t[] = {
		{ "<?xml version=\"1.0\"?><errors><error><code>403</code>"
		    "<description>Invalid api_key</description></error>"
		    "<error><code>400</code><description>\nno\tstatus\n"
		    "</description></error></errors>",
		    "403: Invalid api_key; 400: no status" },
		{ "{\"errors\":[{\"code\":\"400\",\"description\":\"bad\"}]}",
		    "400: bad" },
		{ "first line\nsecond line", "first line" },
		{ "<!doctype html><title>Bad Gateway</title>", "Bad Gateway" },
		{ "", "" },
		{ "{\"error\":\"not an Open311 list\"}", "" },
	};
	char out[80];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(open311_doc_errors(t[i].body,
		    strlen(t[i].body), out, sizeof(out)),
		    t[i].want[0] != '\0' ? 0 : -1);
		assert_string_equal(out, t[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_request),
		cmocka_unit_test(test_reply_names_and_refusals),
		cmocka_unit_test(test_key_only_on_post),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_thread_status),
		cmocka_unit_test(test_error_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
