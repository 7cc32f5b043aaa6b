/* reply_token: the signed token in a notification's Reply-To address. */
#include "reply_token.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#define REPLY_TOKEN_PREFIX	"reply+"

static int
reply_token_mac(const unsigned char *key, size_t keylen, int64_t thread_id,
    int64_t user_id, unsigned char mac[EVP_MAX_MD_SIZE])
{
	char msg[64];
	unsigned int maclen = 0;
	int n;

	n = snprintf(msg, sizeof(msg), "heard-reply-v1:%" PRId64 ".%" PRId64,
	    thread_id, user_id);
	if (key == NULL || keylen == 0 || n < 0 || (size_t)n >= sizeof(msg))
		return -1;
	if (HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg,
	    (size_t)n, mac, &maclen) == NULL ||
	    maclen < REPLY_TOKEN_MAC_BYTES)
		return -1;
	return 0;
}

int
reply_token_make(const unsigned char *key, size_t keylen, int64_t thread_id,
    int64_t user_id, char out[REPLY_TOKEN_MAX])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t i, n;

	if (thread_id <= 0 || user_id <= 0 ||
	    reply_token_mac(key, keylen, thread_id, user_id, mac) == -1)
		return -1;
	n = (size_t)snprintf(out, REPLY_TOKEN_MAX, "%" PRId64 ".%" PRId64 ".",
	    thread_id, user_id);
	for (i = 0; i < REPLY_TOKEN_MAC_BYTES; i++)
		snprintf(out + n + 2 * i, REPLY_TOKEN_MAX - n - 2 * i, "%02x",
		    mac[i]);
	return 0;
}

/* A positive decimal id with no sign, no leading zero, that fits. */
static int
reply_token_id(const char *s, size_t len, int64_t *id)
{
	int64_t v = 0;
	size_t i;

	if (len == 0 || len > 18 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return 0;
}

static int
reply_token_hex(const char *s, unsigned char *out, size_t n)
{
	size_t i;
	unsigned int b;

	for (i = 0; i < n; i++) {
		if (!isxdigit((unsigned char)s[2 * i]) ||
		    !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (unsigned char)b;
	}
	return 0;
}

enum reply_token_check
reply_token_check(const unsigned char *key, size_t keylen, const char *token,
    int64_t *thread_id, int64_t *user_id)
{
	unsigned char want[EVP_MAX_MD_SIZE], got[REPLY_TOKEN_MAC_BYTES];
	const char *d1, *d2;
	int64_t t, u;

	if (token == NULL || (d1 = strchr(token, '.')) == NULL ||
	    (d2 = strchr(d1 + 1, '.')) == NULL ||
	    strlen(d2 + 1) != 2 * REPLY_TOKEN_MAC_BYTES ||
	    reply_token_id(token, (size_t)(d1 - token), &t) == -1 ||
	    reply_token_id(d1 + 1, (size_t)(d2 - d1 - 1), &u) == -1 ||
	    reply_token_hex(d2 + 1, got, sizeof(got)) == -1)
		return REPLY_TOKEN_MALFORMED;
	if (reply_token_mac(key, keylen, t, u, want) == -1 ||
	    CRYPTO_memcmp(want, got, sizeof(got)) != 0)
		return REPLY_TOKEN_FORGED;
	*thread_id = t;
	*user_id = u;
	return REPLY_TOKEN_OK;
}

int
reply_token_from_addr(const char *addr, const char *domain,
    char tok[REPLY_TOKEN_MAX])
{
	const char *at, *start;
	size_t plen = strlen(REPLY_TOKEN_PREFIX), n;

	if (addr == NULL || domain == NULL ||
	    strncasecmp(addr, REPLY_TOKEN_PREFIX, plen) != 0 ||
	    (at = strrchr(addr, '@')) == NULL ||
	    strcasecmp(at + 1, domain) != 0)
		return -1;
	start = addr + plen;
	n = (size_t)(at - start);
	if (n == 0 || n >= REPLY_TOKEN_MAX)
		return -1;
	memcpy(tok, start, n);
	tok[n] = '\0';
	return 0;
}
