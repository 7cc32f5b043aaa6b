/*
 * test_twitter: the OAuth 1.0a signature against X's worked example,
 * and the reply both ways against tweepy's recording and X's docs.
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

#include "arena.h"
#include "buf.h"
#include "connector.h"
#include "oauth1.h"
#include "registry.h"

#define REPLY_DIR	HEARD_SOURCE_DIR "/tests/connectors/twitter/reply/"

/*
 * X's "Creating a signature" page (docs.x.com, fundamentals/
 * authentication/oauth-1-0a/creating-a-signature): its credentials,
 * request and, below, its base string and signature.
 */
#define DOC_CONSUMER_KEY	"xvz1evFS4wEEPTGEFPHBog"
#define DOC_CONSUMER_SECRET	"kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
#define DOC_TOKEN	"370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
#define DOC_TOKEN_SECRET	"LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
#define DOC_NONCE	"kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
#define DOC_TIMESTAMP	1318622958
#define DOC_URL		"https://api.x.com/1.1/statuses/update.json"
#define DOC_STATUS	"Hello Ladies + Gentlemen, a signed OAuth request!"
#define DOC_BASE							\
	"POST&https%3A%2F%2Fapi.x.com%2F1.1%2Fstatuses%2Fupdate.json&"	\
	"include_entities%3Dtrue%26oauth_consumer_key%3Dxvz1evFS4wEEPTGE" \
	"FPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4" \
	"cg%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D131" \
	"8622958%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9Ey" \
	"MZeS9weJAEb%26oauth_version%3D1.0%26status%3DHello%2520Ladies%25" \
	"20%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520reque" \
	"st%2521"
#define DOC_SIGNATURE	"Ls93hJiZbQ3akF3HF3x1Bz8/zU4="

static const struct conn_kv settings_oauth1[] = {
	{ "user_id", "2244994945" },
	{ "username", "XDevelopers" },
	{ "bearer_token", "AAAA-app-bearer" },
	{ "consumer_key", DOC_CONSUMER_KEY },
	{ "consumer_secret", DOC_CONSUMER_SECRET },
	{ "access_token", DOC_TOKEN },
	{ "access_token_secret", DOC_TOKEN_SECRET },
};

static const struct conn_kv settings_user_token[] = {
	{ "user_id", "2244994945" },
	{ "bearer_token", "AAAA-app-bearer" },
	{ "user_token", "user-ctx-token-1" },
	{ "api_base", "http://127.0.0.1:8080/" },
};

static const struct conn_kv settings_read_only[] = {
	{ "user_id", "2244994945" },
	{ "bearer_token", "AAAA-app-bearer" },
};

#define NKV(kv)	(sizeof(kv) / sizeof((kv)[0]))

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
tw(void)
{
	const struct connector *c = registry_find("twitter");

	assert_non_null(c);
	assert_int_equal(c->reply_mode, CONN_REPLY_API);
	/* X has no idempotency key: a resend could post twice. */
	assert_int_equal(c->idempotent_replies, 0);
	return c;
}

static const void *
configure(struct arena *a, const struct conn_kv *kv, size_t n)
{
	struct conn_settings set = { kv, n };
	struct conn_error e;
	const void *conf;

	memset(&e, 0, sizeof(e));
	if ((conf = tw()->configure(a, &set, &e)) == NULL)
		fail_msg("configure: %s", e.msg);
	return conf;
}

static const char *
header(const struct conn_request *r, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < r->nheaders; i++)
		if (strncmp(r->headers[i], name, n) == 0 &&
		    r->headers[i][n] == ':')
			return r->headers[i] + n + 2;
	return NULL;
}

/* X's worked example, step by step: base string, then signature. */
static void
test_oauth1_docs_example(void **state)
{
	static const struct oauth1_param p[] = {
		{ "status", DOC_STATUS },
		{ "include_entities", "true" },
		{ "oauth_consumer_key", DOC_CONSUMER_KEY },
		{ "oauth_nonce", DOC_NONCE },
		{ "oauth_signature_method", "HMAC-SHA1" },
		{ "oauth_timestamp", "1318622958" },
		{ "oauth_token", DOC_TOKEN },
		{ "oauth_version", "1.0" },
	};
	struct arena a;
	char *base;

	(void)state;
	arena_init(&a);
	base = oauth1_base_string(&a, "POST", DOC_URL, p, NKV(p));
	assert_string_equal(base, DOC_BASE);
	assert_string_equal(oauth1_signature(&a, base, DOC_CONSUMER_SECRET,
	    DOC_TOKEN_SECRET), DOC_SIGNATURE);
	arena_free(&a);
}

/* The whole header for the same request: its signature and its form. */
static void
test_oauth1_docs_header(void **state)
{
	static const struct oauth1_param p[] = {
		{ "include_entities", "true" }, { "status", DOC_STATUS } };
	static const struct oauth1_keys k = { DOC_CONSUMER_KEY,
	    DOC_CONSUMER_SECRET, DOC_TOKEN, DOC_TOKEN_SECRET };
	struct arena a;

	(void)state;
	arena_init(&a);
	assert_string_equal(oauth1_header(&a, "POST", DOC_URL, p, 2, &k,
	    DOC_TIMESTAMP, DOC_NONCE), "OAuth "
	    "oauth_consumer_key=\"" DOC_CONSUMER_KEY "\", "
	    "oauth_nonce=\"" DOC_NONCE "\", "
	    "oauth_signature=\"Ls93hJiZbQ3akF3HF3x1Bz8%2FzU4%3D\", "
	    "oauth_signature_method=\"HMAC-SHA1\", "
	    "oauth_timestamp=\"1318622958\", "
	    "oauth_token=\"" DOC_TOKEN "\", "
	    "oauth_version=\"1.0\"");
	arena_free(&a);
}

/* RFC 3986: only unreserved characters stay; UTF-8 byte by byte. */
static void
test_oauth1_encode(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 0);
	oauth1_encode(&b, "Ladies + Gentlemen, a*b~c!'()\xc3\xa9/");
	buf_append(&b, "", 1);
	assert_string_equal(b.data, "Ladies%20%2B%20Gentlemen%2C%20a%2Ab~c"
	    "%21%27%28%29%C3%A9%2F");
	buf_free(&b);
}

/*
 * The reply: the documented body, signed with OAuth 1.0a over no
 * parameters but the oauth_* ones (a JSON body is not signed). The
 * signature was computed independently with Python's hmac and
 * urllib.parse.quote(safe="-._~") over the same base string.
 */
static void
test_reply_request_oauth1(void **state)
{
	char *doc = slurp(REPLY_DIR "create-reply-request-docs-example.json");
	struct conn_reply rp = { .thread_key = "1234567890",
	    .in_reply_to = "1234567890", .body = "This is a reply!",
	    .idempotency_key = "k-1", .now = 1700000000,
	    .nonce = "0123456789abcdef0123456789abcdef" };
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	json_t *want, *got;

	(void)state;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	assert_int_equal(tw()->reply(configure(&a, settings_oauth1,
	    NKV(settings_oauth1)), &rp, &a, &req, &e), 0);
	assert_string_equal(req.method, "POST");
	assert_string_equal(req.url, "https://api.x.com/2/tweets");
	want = json_loads(doc, 0, NULL);
	got = json_loads(req.body, 0, NULL);
	assert_non_null(got);
	assert_true(json_equal(want, got));
	assert_int_equal(req.body_len, strlen(req.body));
	assert_string_equal(req.body, "{\"text\":\"This is a reply!\","
	    "\"reply\":{\"in_reply_to_tweet_id\":\"1234567890\"}}");
	assert_string_equal(header(&req, "Content-Type"), "application/json");
	assert_string_equal(header(&req, "Authorization"), "OAuth "
	    "oauth_consumer_key=\"" DOC_CONSUMER_KEY "\", "
	    "oauth_nonce=\"0123456789abcdef0123456789abcdef\", "
	    "oauth_signature=\"W%2FKlG8bO6aPki2Yl8ghEQc9cF%2FI%3D\", "
	    "oauth_signature_method=\"HMAC-SHA1\", "
	    "oauth_timestamp=\"1700000000\", "
	    "oauth_token=\"" DOC_TOKEN "\", "
	    "oauth_version=\"1.0\"");
	/* The scheme's own port is not signed (RFC 5849 3.4.1.2). */
	{
		struct conn_kv kv[NKV(settings_oauth1) + 1];

		memcpy(kv, settings_oauth1, sizeof(settings_oauth1));
		kv[NKV(settings_oauth1)].key = "api_base";
		kv[NKV(settings_oauth1)].value = "https://API.x.com:443/";
		assert_int_equal(tw()->reply(configure(&a, kv, NKV(kv)), &rp,
		    &a, &req, &e), 0);
		assert_string_equal(req.url, "https://api.x.com/2/tweets");
		assert_non_null(strstr(header(&req, "Authorization"),
		    "W%2FKlG8bO6aPki2Yl8ghEQc9cF%2FI%3D"));
	}
	/* Another nonce, another signature: nothing is cached. */
	rp.nonce = "ffffffffffffffffffffffffffffffff";
	assert_int_equal(tw()->reply(configure(&a, settings_oauth1,
	    NKV(settings_oauth1)), &rp, &a, &req, &e), 0);
	assert_null(strstr(header(&req, "Authorization"),
	    "W%2FKlG8bO6aPki2Yl8ghEQc9cF%2FI%3D"));
	json_decref(want);
	json_decref(got);
	arena_free(&a);
	free(doc);
}

/* With user_token the reply goes as Bearer; text is JSON-escaped. */
static void
test_reply_request_user_token(void **state)
{
	struct conn_reply rp = { .in_reply_to = "42",
	    .body = "Sorry \"Pat\" \xe2\x80\x94 call 0207\n& ask for ward 5",
	    .now = 1, .nonce = "00000000000000000000000000000000" };
	struct conn_request req;
	struct conn_error e;
	struct arena a;

	(void)state;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	assert_int_equal(tw()->reply(configure(&a, settings_user_token,
	    NKV(settings_user_token)), &rp, &a, &req, &e), 0);
	assert_string_equal(req.url, "http://127.0.0.1:8080/2/tweets");
	assert_string_equal(header(&req, "Authorization"),
	    "Bearer user-ctx-token-1");
	assert_string_equal(req.body, "{\"text\":\"Sorry \\\"Pat\\\" "
	    "\xe2\x80\x94 call 0207\\n& ask for ward 5\",\"reply\":"
	    "{\"in_reply_to_tweet_id\":\"42\"}}");
	arena_free(&a);
}

/* Nothing to answer, nothing to say, no way to sign: why, and no request. */
static void
test_reply_refusals(void **state)
{
	static const struct {
		const struct conn_kv	*kv;
		size_t			 nkv;
		struct conn_reply	 rp;
		enum conn_err		 code;
	} bad[] = {
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to = NULL,
		    .body = "x", .now = 1, .nonce = "ab" }, CONN_ERR_REFUSED },
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to =
		    "1.5e18", .body = "x", .now = 1, .nonce = "ab" },
		    CONN_ERR_REFUSED },
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to = "5",
		    .body = " \n", .now = 1, .nonce = "ab" },
		    CONN_ERR_REFUSED },
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to = "5",
		    .body = "caf\xe9", .now = 1, .nonce = "ab" },
		    CONN_ERR_REFUSED },
		{ settings_read_only, NKV(settings_read_only), {
		    .in_reply_to = "5", .body = "x", .now = 1, .nonce = "ab" },
		    CONN_ERR_CONFIG },
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to = "5",
		    .body = "x", .now = 0, .nonce = "ab" }, CONN_ERR_CONFIG },
		{ settings_oauth1, NKV(settings_oauth1), { .in_reply_to = "5",
		    .body = "x", .now = 1, .nonce = NULL }, CONN_ERR_CONFIG },
	};
	struct conn_request req;
	struct conn_error e;
	struct arena a;
	size_t i;

	(void)state;
	for (i = 0; i < NKV(bad); i++) {
		printf("# refusal %zu\n", i);
		arena_init(&a);
		memset(&e, 0, sizeof(e));
		memset(&req, 0xa5, sizeof(req));
		assert_int_equal(tw()->reply(configure(&a, bad[i].kv,
		    bad[i].nkv), &bad[i].rp, &a, &req, &e), -1);
		assert_int_equal(e.code, bad[i].code);
		assert_true(e.msg[0] != '\0');
		assert_null(strstr(e.msg, DOC_CONSUMER_SECRET));
		assert_int_equal(((unsigned char *)&req)[0], 0xa5);
		arena_free(&a);
	}
}

#define NOT_ENGAGED	"Reply to this conversation is not allowed because " \
	"you have not been mentioned or otherwise engaged by the author of " \
	"the post you are replying to."

struct parse_case {
	long		 status;
	const char	*file;		/* under reply/, or NULL */
	const char	*body;
	const char	*hname, *hvalue;	/* one header, or NULL */
	const char	*id;		/* NULL: it fails */
	enum conn_err	 code;
	const char	*msg;
	long		 retry;
};

static const struct parse_case parse_cases[] = {
	{ 201, "create-tweet-response-tweepy-cassette.json", NULL, NULL,
	    NULL, "1456012973835788293", CONN_OK, NULL, 0 },
	{ 201, "create-tweet-response-docs-example.json", NULL, NULL, NULL,
	    "1445880548472328192", CONN_OK, NULL, 0 },
	{ 403, NULL, "{\"detail\":\"" NOT_ENGAGED "\",\"type\":"
	    "\"about:blank\",\"title\":\"Forbidden\",\"status\":403}", NULL,
	    NULL, NULL, CONN_ERR_REFUSED, "HTTP 403: Forbidden: "
	    NOT_ENGAGED, 0 },
	{ 403, NULL, "{\"detail\":\"You are not allowed to create a Tweet "
	    "with duplicate content.\",\"type\":\"about:blank\",\"title\":"
	    "\"Forbidden\",\"status\":403}", NULL, NULL, NULL,
	    CONN_ERR_REFUSED, "HTTP 403: Forbidden: You are not allowed to "
	    "create a Tweet with duplicate content.", 0 },
	{ 401, NULL, "{\"title\":\"Unauthorized\",\"type\":\"about:blank\","
	    "\"status\":401,\"detail\":\"Unauthorized\"}", NULL, NULL, NULL,
	    CONN_ERR_AUTH, "HTTP 401: the reply credentials were refused: "
	    "Unauthorized", 0 },
	{ 429, NULL, "{\"title\":\"Too Many Requests\",\"detail\":\"Too Many "
	    "Requests\",\"type\":\"about:blank\",\"status\":429}",
	    "Retry-After", "45", NULL, CONN_ERR_RATE_LIMITED,
	    "HTTP 429: rate limited: Too Many Requests", 45 },
	{ 400, "../error-invalid-request-docs-example.json", NULL, NULL, NULL,
	    NULL, CONN_ERR_REFUSED, "HTTP 400: Invalid Request: The 'query' "
	    "parameter is required.", 0 },
	{ 503, NULL, "<html>Over capacity</html>", NULL, NULL, NULL,
	    CONN_ERR_TRANSIENT, "HTTP 503", 0 },
	{ 201, NULL, "{\"data\":{\"id\":1456012973835788293}}", NULL, NULL,
	    NULL, CONN_ERR_MALFORMED, "HTTP 201 to a reply without the "
	    "post's id", 0 },
	{ 200, NULL, "{\"errors\":[{\"title\":\"Not Found Error\",\"detail\":"
	    "\"Could not find tweet with id: [1].\"}]}", NULL, NULL, NULL,
	    CONN_ERR_REFUSED, "HTTP 200: Not Found Error: Could not find "
	    "tweet with id: [1].", 0 },
	{ 201, NULL, "{\"data\":{\"id\":\"14", NULL, NULL, NULL,
	    CONN_ERR_MALFORMED, NULL, 0 },
	{ 201, NULL, "", NULL, NULL, NULL, CONN_ERR_MALFORMED, NULL, 0 },
};

static void
parse_case_run(const struct parse_case *t)
{
	struct conn_header hdr = { t->hname, t->hvalue };
	struct conn_response r;
	const char *id = "untouched";
	struct conn_error e;
	struct arena a;
	char path[512], *body;
	int rc;

	if (t->file != NULL) {
		snprintf(path, sizeof(path), "%s%s", REPLY_DIR, t->file);
		body = slurp(path);
	} else
		body = strdup(t->body);
	memset(&r, 0, sizeof(r));
	r.status = t->status;
	r.body = body;
	r.body_len = strlen(body);
	r.headers = &hdr;
	r.nheaders = t->hname != NULL;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	rc = tw()->reply_parse(configure(&a, settings_oauth1,
	    NKV(settings_oauth1)), &r, &a, &id, &e);
	if (t->id != NULL) {
		assert_int_equal(rc, 0);
		assert_string_equal(id, t->id);
	} else {
		assert_int_equal(rc, -1);
		assert_string_equal(id, "untouched");
		assert_int_equal(e.code, t->code);
		if (t->msg != NULL)
			assert_string_equal(e.msg, t->msg);
		assert_true(e.msg[0] != '\0');
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
	for (i = 0; i < NKV(parse_cases); i++) {
		printf("# reply response case %zu (HTTP %ld)\n", i,
		    parse_cases[i].status);
		parse_case_run(&parse_cases[i]);
	}
}

/*
 * A post refused for the daily cap waits for that cap's reset, not the
 * 15-minute window's (header names as X sends them on POST /2/tweets).
 */
static void
test_reply_daily_cap(void **state)
{
	struct conn_header hdr[] = {
		{ "date", "Fri, 07 Oct 2022 22:43:18 GMT" },	/* 1665182598 */
		{ "x-rate-limit-remaining", "99" },
		{ "x-rate-limit-reset", "1665183378" },	/* +780 s */
		{ "x-user-limit-24hour-limit", "17" },
		{ "x-user-limit-24hour-remaining", "0" },
		{ "x-user-limit-24hour-reset", "1665240000" },	/* +57,402 s */
	};
	const char *body = "{\"title\":\"Too Many Requests\",\"detail\":"
	    "\"Too Many Requests\",\"type\":\"about:blank\",\"status\":429}";
	struct conn_response r = { .status = 429, .body = body,
	    .body_len = strlen(body), .headers = hdr, .nheaders = 6 };
	const char *id = NULL;
	struct conn_error e;
	struct arena a;

	(void)state;
	arena_init(&a);
	memset(&e, 0, sizeof(e));
	assert_int_equal(tw()->reply_parse(configure(&a, settings_oauth1,
	    NKV(settings_oauth1)), &r, &a, &id, &e), -1);
	assert_int_equal(e.code, CONN_ERR_RATE_LIMITED);
	assert_int_equal(e.retry_after, 1665240000 - 1665182598 + 1);
	/* With the day's posts left, the window's reset it is. */
	hdr[4].value = "5";
	memset(&e, 0, sizeof(e));
	assert_int_equal(tw()->reply_parse(configure(&a, settings_oauth1,
	    NKV(settings_oauth1)), &r, &a, &id, &e), -1);
	assert_int_equal(e.retry_after, 780 + 1);
	arena_free(&a);
}

/* No secret shows in an error, nor an api_base that may carry one. */
static void
test_configure_quiet(void **state)
{
	static const struct conn_kv bad[][3] = {
		{ { "user_id", "1" }, { "bearer_token", "t" },
		    { "api_base", "http://s3cret@example.org" } },
		{ { "user_id", "1" }, { "bearer_token", "t" },
		    { "api_base", "https://example.org/s3cret" } },
		{ { "user_id", "1" }, { "bearer_token", "s3cret x" },
		    { "api_base", "https://api.x.com" } },
		{ { "user_id", "1" }, { "bearer_token", "t" },
		    { "consumer_secret", "s3cret" } },
		{ { "user_id", "s3cret" }, { "bearer_token", "t" },
		    { "username", "x" } },
	};
	struct conn_error e;
	struct arena a;
	size_t i;

	(void)state;
	for (i = 0; i < NKV(bad); i++) {
		struct conn_settings set = { bad[i], 3 };

		arena_init(&a);
		memset(&e, 0, sizeof(e));
		assert_null(tw()->configure(&a, &set, &e));
		assert_int_equal(e.code, CONN_ERR_CONFIG);
		assert_null(strstr(e.msg, "s3cret"));
		arena_free(&a);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_oauth1_docs_example),
		cmocka_unit_test(test_oauth1_docs_header),
		cmocka_unit_test(test_oauth1_encode),
		cmocka_unit_test(test_reply_request_oauth1),
		cmocka_unit_test(test_reply_request_user_token),
		cmocka_unit_test(test_reply_refusals),
		cmocka_unit_test(test_reply_parse),
		cmocka_unit_test(test_reply_daily_cap),
		cmocka_unit_test(test_configure_quiet),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
