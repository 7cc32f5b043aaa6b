/* webhook_facebook: Meta's webhook for the facebook sources, on the API. */
#include "webhook_facebook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "api.h"
#include "arena.h"
#include "connector.h"
#include "heard.h"
#include "httpd.h"
#include "ingest.h"
#include "log.h"
#include "mailer.h"
#include "ratelimit.h"
#include "registry.h"
#include "settings_json.h"
#include "sources.h"
#include "store.h"
#include "xmalloc.h"

#define WH_PREFIX	"sha256="
#define WH_CHALLENGE_MAX	256
#define WH_CONNECTOR	"facebook"
/*
 * Refusals one address may have a minute before it is answered 429
 * unheard: the hook needs no log-in, so guessing verify tokens and
 * sending bodies to be hashed are what it must not let run free.
 * Meta itself is refused only when a secret is wrong.
 */
#define WH_REFUSALS_PER_MIN	20

/* One facebook source as a delivery sees it; strings in the arena. */
struct wh_src {
	const struct source	*src;	/* borrowed */
	const void		*conf;	/* arena: the connector's */
	const char		*page;	/* settings' page_id */
	const char		*secret;	/* app_secret, or NULL */
	const char		*verify;	/* verify_token, or NULL */
};

struct wh_all {
	struct source	*rows;	/* owned (sources_free_all) */
	size_t		 nrows;
	struct wh_src	*v;	/* owned */
	size_t		 n;
	struct arena	 a;
};

static int
wh_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
webhook_facebook_signed(const char *header, const void *body, size_t len,
    const char *secret)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[32];
	unsigned int wlen = 0;
	size_t i, plen = strlen(WH_PREFIX);
	int hi, lo;

	if (header == NULL || secret == NULL || secret[0] == '\0' ||
	    strncmp(header, WH_PREFIX, plen) != 0 ||
	    strlen(header + plen) != 2 * sizeof(got))
		return 0;
	for (i = 0; i < sizeof(got); i++) {
		hi = wh_hexval((unsigned char)header[plen + 2 * i]);
		lo = wh_hexval((unsigned char)header[plen + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		got[i] = (unsigned char)(hi << 4 | lo);
	}
	if (HMAC(EVP_sha256(), secret, (int)strlen(secret), body, len, want,
	    &wlen) == NULL || wlen != sizeof(got))
		return 0;
	return CRYPTO_memcmp(want, got, sizeof(got)) == 0;
}

int
webhook_facebook_token_eq(const char *token, const char *want)
{
	unsigned char a[32], b[32];
	unsigned int n = 0;

	if (token == NULL || want == NULL || want[0] == '\0')
		return 0;
	if (EVP_Digest(token, strlen(token), a, &n, EVP_sha256(), NULL) != 1 ||
	    EVP_Digest(want, strlen(want), b, &n, EVP_sha256(), NULL) != 1)
		return 0;
	return CRYPTO_memcmp(a, b, sizeof(a)) == 0;
}

static void
wh_all_free(struct wh_all *w)
{
	sources_free_all(w->rows, w->nrows);
	free(w->v);
	arena_free(&w->a);
}

/* Every facebook source whose settings configure; -1 on a store error. */
static int
wh_all_load(struct heard *h, struct wh_all *w)
{
	const struct connector *cn = registry_find(WH_CONNECTOR);
	struct conn_settings set;
	struct conn_error e;
	struct wh_src *s;
	size_t i;

	memset(w, 0, sizeof(*w));
	arena_init(&w->a);
	if (cn == NULL || sources_all(h->store, &w->rows, &w->nrows) == -1)
		return -1;
	w->v = xcalloc(w->nrows + 1, sizeof(*w->v));
	for (i = 0; i < w->nrows; i++) {
		if (strcmp(w->rows[i].connector, WH_CONNECTOR) != 0)
			continue;
		memset(&e, 0, sizeof(e));
		s = &w->v[w->n];
		if (settings_from_json(&w->a, w->rows[i].settings, &set,
		    &e) == -1 || (s->conf = cn->configure(&w->a, &set,
		    &e)) == NULL)
			continue;
		s->src = &w->rows[i];
		s->page = conn_settings_get(&set, "page_id");
		s->secret = conn_settings_get(&set, "app_secret");
		s->verify = conn_settings_get(&set, "verify_token");
		w->n++;
	}
	return 0;
}

/* The per-address key in the server's failure table. */
static void
wh_key(const struct api_req *req, char key[RATELIMIT_KEY_MAX])
{
	snprintf(key, RATELIMIT_KEY_MAX, "hook:%s", req->client_addr);
}

/* The server's failure table; NULL for a handler called without one. */
static struct ratelimit *
wh_rl(const struct api_req *req)
{
	return req->h->httpd != NULL ? httpd_ratelimit(req->h->httpd) : NULL;
}

/* 1 (and 429 in resp) when the address has been refused too often. */
static int
wh_limited(struct api_req *req, struct api_resp *resp)
{
	char key[RATELIMIT_KEY_MAX];
	long wait;

	if (wh_rl(req) == NULL)
		return 0;
	wh_key(req, key);
	wait = ratelimit_wait(wh_rl(req), key, WH_REFUSALS_PER_MIN, req->now);
	if (wait == 0)
		return 0;
	resp->retry_after = wait;
	api_error(resp, 429, "rate_limited", "too many refused webhook "
	    "requests; try again in %ld s", wait);
	return 1;
}

/* 403, counted against the address; logged once a window, then not. */
static int
wh_forbidden(struct api_req *req, struct api_resp *resp, const char *why)
{
	char key[RATELIMIT_KEY_MAX];

	wh_key(req, key);
	if (why != NULL && (wh_rl(req) == NULL ||
	    ratelimit_wait(wh_rl(req), key, 1, req->now) == 0))
		log_warnx("webhook facebook: %s: %s; refused",
		    req->client_addr, why);
	if (wh_rl(req) != NULL)
		ratelimit_fail(wh_rl(req), key, req->now);
	return api_error(resp, 403, "forbidden", "not a subscription or a "
	    "delivery this server takes");
}

/* "sha256=" and 64 hex digits: worth hashing a body for. */
static int
wh_sig_shaped(const char *sig)
{
	size_t plen = strlen(WH_PREFIX);

	return sig != NULL && strncmp(sig, WH_PREFIX, plen) == 0 &&
	    strlen(sig + plen) == 64 &&
	    strspn(sig + plen, "0123456789abcdefABCDEF") == 64;
}

int
webhook_facebook_verify(struct api_req *req, struct api_resp *resp)
{
	const char *mode = req->query(req, "hub.mode");
	const char *token = req->query(req, "hub.verify_token");
	const char *ch = req->query(req, "hub.challenge");
	struct wh_all w;
	size_t i;
	int ok = 0;

	if (wh_limited(req, resp))
		return 0;
	if (mode == NULL || strcmp(mode, "subscribe") != 0 || ch == NULL ||
	    ch[0] == '\0' || strlen(ch) > WH_CHALLENGE_MAX ||
	    ch[strcspn(ch, "\r\n")] != '\0')
		return wh_forbidden(req, resp, "not a subscription request");
	if (wh_all_load(req->h, &w) == -1) {
		wh_all_free(&w);
		return -1;
	}
	for (i = 0; i < w.n; i++)
		ok |= webhook_facebook_token_eq(token, w.v[i].verify);
	wh_all_free(&w);
	if (!ok)
		return wh_forbidden(req, resp, "a subscription with a verify "
		    "token no facebook source has");
	log_info("webhook facebook: %s: subscription verified",
	    req->client_addr);
	resp->status = 200;
	resp->text = xstrdup(ch);
	return 0;
}

/* Stores what the delivery holds for one source; -1 on a store error. */
static int
wh_store(struct heard *h, const struct wh_src *s, const char *body,
    size_t len, size_t *stored)
{
	const struct connector *cn = registry_find(WH_CONNECTOR);
	struct ingest_stats st;
	struct conn_batch b;
	struct conn_error e;
	struct arena a;
	char err[256];
	int rc = 0;

	arena_init(&a);
	memset(&e, 0, sizeof(e));
	memset(&b, 0, sizeof(b));
	if (cn->webhook_parse(s->conf, body, len, &a, &b, &e) == -1)
		log_warnx("webhook facebook: source %lld (%s): %s",
		    (long long)s->src->id, s->src->org_code, e.msg);
	else if (b.nitems > 0 && ingest_pushed(h->store, s->src, &b,
	    time(NULL), &st, err, sizeof(err)) == -1) {
		log_warnx("webhook facebook: source %lld (%s): store: %s",
		    (long long)s->src->id, s->src->org_code, err);
		rc = -1;
	} else if (b.nitems > 0) {
		h->metrics.items_stored += st.new_items + st.updated_items;
		*stored += st.new_items + st.updated_items;
		log_info("webhook facebook: source %lld (%s): %zu new, %zu "
		    "updated", (long long)s->src->id, s->src->org_code,
		    st.new_items, st.updated_items);
	}
	arena_free(&a);
	return rc;
}

/* Logs each page of the delivery that no signing source has. */
static void
wh_unknown_pages(const struct wh_all *w, const int *signed_by,
    const char *body, size_t len)
{
	json_t *v = json_loadb(body, len, 0, NULL), *entry;
	char page[32];
	size_t i, k;
	int known;

	json_array_foreach(json_object_get(v, "entry"), i, entry) {
		json_t *id = json_object_get(entry, "id");

		if (json_is_integer(id))
			snprintf(page, sizeof(page), "%lld",
			    (long long)json_integer_value(id));
		else
			snprintf(page, sizeof(page), "%.30s",
			    json_is_string(id) ? json_string_value(id) : "?");
		for (k = 0, known = 0; k < w->n; k++)
			known |= signed_by[k] && w->v[k].page != NULL &&
			    strcmp(w->v[k].page, page) == 0;
		if (!known)
			log_info("webhook facebook: page %s: no facebook "
			    "source for it; ignored", page);
	}
	json_decref(v);
}

int
webhook_facebook_deliver(struct api_req *req, struct api_resp *resp)
{
	const char *sig = req->header(req, "X-Hub-Signature-256");
	struct wh_all w;
	size_t i, k, stored = 0;
	int *by, any = 0, rc = 0;

	if (wh_limited(req, resp))
		return 0;
	/* A header that cannot be a signature costs no store or hashing. */
	if (!wh_sig_shaped(sig))
		return wh_forbidden(req, resp, sig == NULL ? "a delivery "
		    "without a signature" : "a malformed signature");
	if (wh_all_load(req->h, &w) == -1) {
		wh_all_free(&w);
		return -1;
	}
	/*
	 * The signature first: nothing of an unsigned body is read. One
	 * HMAC per distinct secret (sources of one app share theirs).
	 */
	by = xcalloc(w.n + 1, sizeof(*by));
	for (i = 0; i < w.n; i++) {
		for (k = 0; k < i; k++)
			if (w.v[k].secret != NULL && w.v[i].secret != NULL &&
			    strcmp(w.v[k].secret, w.v[i].secret) == 0)
				break;
		by[i] = k < i ? by[k] : webhook_facebook_signed(sig,
		    req->raw, req->raw_len, w.v[i].secret);
		any |= by[i];
	}
	if (!any) {
		free(by);
		wh_all_free(&w);
		return wh_forbidden(req, resp, "a delivery whose signature "
		    "matches no facebook source's app_secret");
	}
	for (i = 0; i < w.n && rc == 0; i++)
		if (by[i])
			rc = wh_store(req->h, &w.v[i], req->raw, req->raw_len,
			    &stored);
	wh_unknown_pages(&w, by, req->raw, req->raw_len);
	free(by);
	wh_all_free(&w);
	if (rc == -1)	/* Meta sends it again. */
		return api_error(resp, 503, "unavailable", "the store is "
		    "busy; send it again");
	mailer_wake(req->h->mailer);
	return api_ok(resp, 200, json_pack("{s:I}", "stored",
	    (json_int_t)stored));
}
