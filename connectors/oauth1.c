/* oauth1: OAuth 1.0a HMAC-SHA1 request signatures (RFC 5849), pure. */
#include "oauth1.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "arena.h"
#include "buf.h"
#include "conn_text.h"

/* One parameter, encoded, for sorting. */
struct oauth1_enc {
	char	*key;	/* owned */
	char	*value;	/* owned */
};

void
oauth1_encode(struct buf *b, const char *s)
{
	conn_url_encode(b, s, 0);
}

static char *
oauth1_enc_dup(const char *s)
{
	struct buf b;

	buf_init(&b, 0);
	oauth1_encode(&b, s);
	buf_append(&b, "", 1);
	return b.data;
}

/* RFC 5849 3.4.1.3.2: by encoded key, then by encoded value. */
static int
oauth1_cmp(const void *x, const void *y)
{
	const struct oauth1_enc *a = x, *b = y;
	int c = strcmp(a->key, b->key);

	return c != 0 ? c : strcmp(a->value, b->value);
}

/* The normalised parameters, "k=v&k=v", onto out. */
static void
oauth1_params(struct buf *out, const struct oauth1_param *p, size_t n)
{
	struct oauth1_enc e[OAUTH1_PARAMS_MAX];
	size_t i;

	for (i = 0; i < n; i++) {
		e[i].key = oauth1_enc_dup(p[i].key);
		e[i].value = oauth1_enc_dup(p[i].value);
	}
	qsort(e, n, sizeof(e[0]), oauth1_cmp);
	for (i = 0; i < n; i++) {
		buf_printf(out, "%s%s=%s", i > 0 ? "&" : "", e[i].key,
		    e[i].value);
		free(e[i].key);
		free(e[i].value);
	}
}

char *
oauth1_base_string(struct arena *a, const char *method, const char *url,
    const struct oauth1_param *p, size_t n)
{
	struct buf params, out;
	char *s;

	if (n > OAUTH1_PARAMS_MAX)
		return NULL;
	buf_init(&params, 0);
	buf_append(&params, "", 0);
	oauth1_params(&params, p, n);
	buf_append(&params, "", 1);
	buf_init(&out, 0);
	buf_printf(&out, "%s&", method);
	oauth1_encode(&out, url);
	buf_puts(&out, "&");
	oauth1_encode(&out, params.data);
	buf_append(&out, "", 1);
	s = arena_strdup(a, out.data);
	buf_free(&params);
	buf_free(&out);
	return s;
}

char *
oauth1_signature(struct arena *a, const char *base,
    const char *consumer_secret, const char *token_secret)
{
	unsigned char mac[EVP_MAX_MD_SIZE], b64[4 * EVP_MAX_MD_SIZE / 3 + 4];
	unsigned int len = 0;
	struct buf key;
	char *s;

	buf_init(&key, 0);
	buf_append(&key, "", 0);
	oauth1_encode(&key, consumer_secret);
	buf_puts(&key, "&");
	oauth1_encode(&key, token_secret);
	if (HMAC(EVP_sha1(), key.data, (int)key.len,
	    (const unsigned char *)base, strlen(base), mac, &len) == NULL)
		len = 0;
	/* Not to linger in freed memory: it is the secrets. */
	OPENSSL_cleanse(key.data, key.len);
	buf_free(&key);
	EVP_EncodeBlock(b64, mac, (int)len);
	s = arena_strdup(a, (const char *)b64);
	return s;
}

/* ", name=\"value\"" with the value encoded, onto b. */
static void
oauth1_field(struct buf *b, const char *name, const char *value)
{
	buf_printf(b, "%s%s=\"", b->len > 6 ? ", " : "", name);
	oauth1_encode(b, value);
	buf_puts(b, "\"");
}

char *
oauth1_header(struct arena *a, const char *method, const char *url,
    const struct oauth1_param *req, size_t n, const struct oauth1_keys *k,
    int64_t timestamp, const char *nonce)
{
	struct oauth1_param p[OAUTH1_PARAMS_MAX];
	char ts[24], *base, *sig, *out;
	struct buf h;

	if (n > OAUTH1_PARAMS_MAX - 6)
		return NULL;
	snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
	if (n > 0)	/* req may be NULL then */
		memcpy(p, req, n * sizeof(*p));
	p[n++] = (struct oauth1_param){ "oauth_consumer_key",
	    k->consumer_key };
	p[n++] = (struct oauth1_param){ "oauth_nonce", nonce };
	p[n++] = (struct oauth1_param){ "oauth_signature_method",
	    "HMAC-SHA1" };
	p[n++] = (struct oauth1_param){ "oauth_timestamp", ts };
	p[n++] = (struct oauth1_param){ "oauth_token", k->token };
	p[n++] = (struct oauth1_param){ "oauth_version", "1.0" };
	base = oauth1_base_string(a, method, url, p, n);
	sig = oauth1_signature(a, base, k->consumer_secret, k->token_secret);
	buf_init(&h, 0);
	buf_puts(&h, "OAuth ");
	oauth1_field(&h, "oauth_consumer_key", k->consumer_key);
	oauth1_field(&h, "oauth_nonce", nonce);
	oauth1_field(&h, "oauth_signature", sig);
	oauth1_field(&h, "oauth_signature_method", "HMAC-SHA1");
	oauth1_field(&h, "oauth_timestamp", ts);
	oauth1_field(&h, "oauth_token", k->token);
	oauth1_field(&h, "oauth_version", "1.0");
	buf_append(&h, "", 1);
	out = arena_strdup(a, h.data);
	buf_free(&h);
	return out;
}
