/*
 * test_facebook: the webhook's signature check and subscription
 * handshake (daemon/webhook_facebook.c), and the connector's reply
 * both ways, against the vectors and payloads in
 * tests/connectors/facebook/.
 */
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
#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "heard.h"
#include "orgs.h"
#include "registry.h"
#include "sources.h"
#include "testdb.h"
#include "webhook_facebook.h"

#define DIR	HEARD_SOURCE_DIR "/tests/connectors/facebook/"
#define NOW	1700000000

static char *
slurp(const char *path, size_t *len)
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
	if (len != NULL)
		*len = b.len;
	return b.data;
}

/* The reconstructed vector file, read as JSON. */
static json_t *
vector(void)
{
	json_t *v = json_load_file(DIR "webhook-signed-delivery-"
	    "reconstructed.json", 0, NULL);

	assert_non_null(v);
	return v;
}

static void
test_known_answer(void **state)
{
	json_t *v = vector(), *ka = json_object_get(v, "known_answer_vector");
	char *hdr;

	(void)state;
	hdr = NULL;
	assert_true(asprintf(&hdr, "sha256=%s", json_string_value(
	    json_object_get(ka, "hmac_sha256_hex"))) > 0);
	assert_string_equal(json_string_value(json_object_get(ka, "key")),
	    "secret");
	assert_true(webhook_facebook_signed(hdr, "test", 4, "secret"));
	assert_false(webhook_facebook_signed(hdr, "test", 4, "secreT"));
	assert_false(webhook_facebook_signed(hdr, "test ", 5, "secret"));
	assert_true(webhook_facebook_signed("sha256=0329A06B62CD16B33EB6792BE8"
	    "C60B158D89A2EE3A876FCE9A881EBB488C0914", "test", 4, "secret"));
	free(hdr);
	json_decref(v);
}

static void
test_signed_delivery(void **state)
{
	json_t *v = vector();
	const char *sig = json_string_value(json_object_get(json_object_get(v,
	    "headers"), "X-Hub-Signature-256"));
	const char *secret = json_string_value(json_object_get(v,
	    "app_secret"));
	size_t len;
	char *body = slurp(DIR "webhook-feed-comment-add-211-restfb.json",
	    &len);

	(void)state;
	assert_int_equal(len, json_integer_value(json_object_get(v,
	    "body_length")));
	assert_true(webhook_facebook_signed(sig, body, len, secret));
	/* One byte changed, the body cut, another secret: all refused. */
	body[100] ^= 1;
	assert_false(webhook_facebook_signed(sig, body, len, secret));
	body[100] ^= 1;
	assert_false(webhook_facebook_signed(sig, body, len - 1, secret));
	assert_false(webhook_facebook_signed(sig, body, len, "other"));
	free(body);
	json_decref(v);
}

static void
test_malformed_headers(void **state)
{
	static const char *const bad[] = { NULL, "", "sha256=",
	    "sha1=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c0914",
	    "sha256=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c091",
	    "sha256=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c09144",
	    "sha256=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c091g",
	    "SHA256=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c0914",
	    " sha256=0329a06b62cd16b33eb6792be8"
	    "c60b158d89a2ee3a876fce9a881ebb488c0914",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(webhook_facebook_signed(bad[i], "test", 4,
		    "secret"));
	/* No secret: nothing is signed by it, not even an empty one. */
	assert_false(webhook_facebook_signed("sha256=0329a06b62cd16b33eb6792b"
	    "e8c60b158d89a2ee3a876fce9a881ebb488c0914", "test", 4, NULL));
	assert_false(webhook_facebook_signed("sha256=0329a06b62cd16b33eb6792b"
	    "e8c60b158d89a2ee3a876fce9a881ebb488c0914", "test", 4, ""));
}

static void
test_token_eq(void **state)
{
	(void)state;
	assert_true(webhook_facebook_token_eq("meatyhamhock", "meatyhamhock"));
	assert_false(webhook_facebook_token_eq("meatyhamhock", "meatyhamhoc"));
	assert_false(webhook_facebook_token_eq("meatyhamhoc", "meatyhamhock"));
	assert_false(webhook_facebook_token_eq(NULL, "meatyhamhock"));
	assert_false(webhook_facebook_token_eq("", ""));
	assert_false(webhook_facebook_token_eq("x", NULL));
}

/* The handshake against a real store with two facebook sources. */
struct hs {
	struct heard	 h;
	char		 dir[TESTDB_DIR], path[TESTDB_PATH];
	const char	*q[3][2];	/* the query: key, value */
};

static const char *
hs_query(const struct api_req *req, const char *key)
{
	const struct hs *t = req->conn;
	size_t i;

	for (i = 0; i < 3; i++)
		if (t->q[i][0] != NULL && strcmp(t->q[i][0], key) == 0)
			return t->q[i][1];
	return NULL;
}

static int
hs_setup(void **state)
{
	struct hs *t = calloc(1, sizeof(*t));
	char err[128];

	t->h.store = testdb_open("facebook", t->dir, t->path);
	assert_true(orgs_ensure(t->h.store, "RJ1", "GUY'S", "trust") > 0);
	assert_true(orgs_ensure(t->h.store, "RJZ", "KING'S", "trust") > 0);
	assert_true(sources_add(t->h.store, "RJ1", "facebook", "{\"page_id\":"
	    "\"1\",\"page_token\":\"t\",\"verify_token\":\"meatyhamhock\"}",
	    NOW, err, sizeof(err)) > 0);
	assert_true(sources_add(t->h.store, "RJZ", "facebook", "{\"page_id\":"
	    "\"2\",\"page_token\":\"t\",\"verify_token\":\"other-token\"}",
	    NOW, err, sizeof(err)) > 0);
	/* Not facebook, and a verify_token: never a match. */
	assert_true(sources_add(t->h.store, "RJ1", "rss", "{\"url\":"
	    "\"https://x.example/f\",\"verify_token\":\"rss-token\"}", NOW,
	    err, sizeof(err)) > 0);
	*state = t;
	return 0;
}

static int
hs_teardown(void **state)
{
	struct hs *t = *state;

	testdb_close(t->h.store, t->dir);
	free(t);
	return 0;
}

/* The docs' sample request, with this token; the status answered. */
static int
hs_run(struct hs *t, const char *mode, const char *token,
    const char *challenge, char **text)
{
	struct api_req req;
	struct api_resp resp;

	memset(&req, 0, sizeof(req));
	memset(&resp, 0, sizeof(resp));
	t->q[0][0] = "hub.mode";
	t->q[0][1] = mode;
	t->q[1][0] = "hub.challenge";
	t->q[1][1] = challenge;
	t->q[2][0] = "hub.verify_token";
	t->q[2][1] = token;
	req.h = &t->h;
	req.method = "GET";
	req.query = hs_query;
	req.conn = t;
	req.client_addr = "127.0.0.1";
	assert_int_equal(webhook_facebook_verify(&req, &resp), 0);
	*text = resp.text;
	json_decref(resp.body);
	return resp.status;
}

static void
test_handshake(void **state)
{
	struct hs *t = *state;
	char *text;

	/* webhook-verification-request-docs-example.txt */
	assert_int_equal(hs_run(t, "subscribe", "meatyhamhock", "1158201444",
	    &text), 200);
	assert_string_equal(text, "1158201444");
	free(text);
	assert_int_equal(hs_run(t, "subscribe", "other-token", "42", &text),
	    200);
	assert_string_equal(text, "42");
	free(text);
	assert_int_equal(hs_run(t, "subscribe", "meatyhamhocK", "1", &text),
	    403);
	assert_null(text);
	assert_int_equal(hs_run(t, "subscribe", "rss-token", "1", &text), 403);
	assert_int_equal(hs_run(t, "subscribe", NULL, "1", &text), 403);
	assert_int_equal(hs_run(t, "unsubscribe", "meatyhamhock", "1", &text),
	    403);
	assert_int_equal(hs_run(t, NULL, "meatyhamhock", "1", &text), 403);
	assert_int_equal(hs_run(t, "subscribe", "meatyhamhock", NULL, &text),
	    403);
	assert_int_equal(hs_run(t, "subscribe", "meatyhamhock", "a\r\nb",
	    &text), 403);
	assert_null(text);
}

static const struct conn_kv settings[] = {
	{ "page_id", "245628824887810" },
	{ "page_token", "EAAB-page-token-not-real" },
	{ "graph_base", "https://graph.facebook.com/v19.0/" },
};

static const void *
configure(struct arena *a, const struct connector **cn)
{
	struct conn_settings set = { settings, 3 };
	struct conn_error e;
	const void *conf;

	*cn = registry_find("facebook");
	assert_non_null(*cn);
	assert_int_equal((*cn)->reply_mode, CONN_REPLY_API);
	assert_int_equal((*cn)->idempotent_replies, 0);
	memset(&e, 0, sizeof(e));
	conf = (*cn)->configure(a, &set, &e);
	assert_non_null(conf);
	return conf;
}

static void
test_reply_request(void **state)
{
	struct conn_reply rp = { .thread_key = "245778718206154_1",
	    .in_reply_to = "245778718206154_229887283291835",
	    .body = "Sorry to hear that & thank you: please call "
	    "020 7188 7188" };
	const struct connector *cn;
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	const void *conf;
	size_t i;
	int auth = 0;

	(void)state;
	arena_init(&a);
	conf = configure(&a, &cn);
	memset(&e, 0, sizeof(e));
	assert_int_equal(cn->reply(conf, &rp, &a, &req, &e), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "https://graph.facebook.com/v19.0/"
	    "245778718206154_229887283291835/comments");
	assert_string_equal(req.body, "message=Sorry+to+hear+that+%26+thank+"
	    "you%3A+please+call+020+7188+7188");
	assert_int_equal(req.body_len, strlen(req.body));
	for (i = 0; i < req.nheaders; i++)
		auth |= strcmp(req.headers[i], "Authorization: Bearer "
		    "EAAB-page-token-not-real") == 0;
	assert_true(auth);
	/* Never a token in the URL. */
	assert_null(strstr(req.url, "access_token"));
	rp.in_reply_to = "1/../../me";
	assert_int_equal(cn->reply(conf, &rp, &a, &req, &e), -1);
	assert_int_equal(e.code, CONN_ERR_REFUSED);
	rp.in_reply_to = "1_2";
	rp.body = " \n";
	assert_int_equal(cn->reply(conf, &rp, &a, &req, &e), -1);
	assert_int_equal(e.code, CONN_ERR_REFUSED);
	arena_free(&a);
}

static int
reply_parse(long status, const char *body, const char **id,
    struct conn_error *e)
{
	const struct connector *cn;
	struct conn_response r;
	struct arena a;
	const void *conf;
	int rc;

	arena_init(&a);
	conf = configure(&a, &cn);
	memset(&r, 0, sizeof(r));
	memset(e, 0, sizeof(*e));
	r.status = status;
	r.body = body;
	r.body_len = strlen(body);
	*id = NULL;
	rc = cn->reply_parse(conf, &r, &a, id, e);
	if (*id != NULL)
		*id = strdup(*id);
	arena_free(&a);
	return rc;
}

static void
test_reply_parse(void **state)
{
	char *resp = slurp(DIR "graph-comments-create_resp-sns-sdks.json",
	    NULL), *err = slurp(DIR "graph-error-sns-sdks.json", NULL);
	const char *id;
	struct conn_error e;

	(void)state;
	assert_int_equal(reply_parse(200, resp, &id, &e), 0);
	assert_string_equal(id, "245778718206154_229887283291835");
	free((char *)id);
	assert_int_equal(reply_parse(200, "{\"id\":\"1_2\"}", &id, &e), 0);
	assert_string_equal(id, "1_2");
	free((char *)id);
	assert_int_equal(reply_parse(400, err, &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_REFUSED);
	assert_non_null(strstr(e.msg, "Pages Public Content Access"));
	assert_int_equal(reply_parse(400, "{\"error\":{\"message\":\"Error "
	    "validating access token\",\"type\":\"OAuthException\",\"code\":"
	    "190,\"error_subcode\":467}}", &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_AUTH);
	assert_int_equal(reply_parse(400, "{\"error\":{\"message\":\"(#32) "
	    "Page request limit reached\",\"code\":32}}", &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_RATE_LIMITED);
	assert_true(e.retry_after > 0);
	assert_int_equal(reply_parse(503, "", &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_TRANSIENT);
	assert_int_equal(reply_parse(200, "{\"id\":\"x/../1\"}", &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_MALFORMED);
	assert_null(id);
	free(resp);
	free(err);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_signed_delivery),
		cmocka_unit_test(test_malformed_headers),
		cmocka_unit_test(test_token_eq),
		cmocka_unit_test_setup_teardown(test_handshake, hs_setup,
		    hs_teardown),
		cmocka_unit_test(test_reply_request),
		cmocka_unit_test(test_reply_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
