/* password: hashing staff passwords with scrypt (OpenSSL). */
#include "password.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>

/*
 * N = 2^15, r = 8, p = 1: 32 MiB and some 50 to 100 ms a hash on one
 * core, the figures RFC 7914 and OWASP give for interactive log-in.
 * Dearer would let a burst of log-ins exhaust the daemon's memory.
 */
#define PASSWORD_LN		15
#define PASSWORD_R		8
#define PASSWORD_P		1
#define PASSWORD_SALT_LEN	16
#define PASSWORD_KEY_LEN	32

/*
 * What a stored hash may ask for. A hash in the database is trusted
 * only so far: a tampered row must not make a log-in allocate
 * gigabytes or spin for minutes.
 */
#define PASSWORD_LN_MIN		10
#define PASSWORD_LN_MAX		20
#define PASSWORD_R_MAX		32
#define PASSWORD_P_MAX		16
#define PASSWORD_MEM_MAX	(256UL * 1024 * 1024)
#define PASSWORD_BYTES_MIN	8
#define PASSWORD_BYTES_MAX	64
#define PASSWORD_B64	\
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
#define PASSWORD_STR1(x)	#x
#define PASSWORD_STR(x)		PASSWORD_STR1(x)

struct password_params {
	unsigned	ln, r, p;
	unsigned char	salt[PASSWORD_BYTES_MAX];
	size_t		saltlen;
	unsigned char	key[PASSWORD_BYTES_MAX];
	size_t		keylen;
};

/* Bytes scrypt's working set needs: V (128rN) and B (128rp). */
static uint64_t
password_mem(unsigned ln, unsigned r, unsigned p)
{
	return 128ULL * r * ((1ULL << ln) + p);
}

static int
password_derive(const char *pw, const struct password_params *pp,
    unsigned char *out, size_t outlen)
{
	EVP_KDF *kdf;
	EVP_KDF_CTX *ctx;
	OSSL_PARAM par[7], *x = par;
	uint64_t n = 1ULL << pp->ln;
	/* OpenSSL counts its own overhead against maxmem: leave room. */
	uint64_t maxmem = password_mem(pp->ln, pp->r, pp->p) + (1 << 20);
	uint32_t r = pp->r, p = pp->p;
	int rc;

	if ((kdf = EVP_KDF_fetch(NULL, "SCRYPT", NULL)) == NULL)
		return -1;
	ctx = EVP_KDF_CTX_new(kdf);
	EVP_KDF_free(kdf);
	if (ctx == NULL)
		return -1;
	*x++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
	    (void *)pw, strlen(pw));
	*x++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT,
	    (void *)pp->salt, pp->saltlen);
	*x++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n);
	*x++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r);
	*x++ = OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p);
	*x++ = OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM,
	    &maxmem);
	*x = OSSL_PARAM_construct_end();
	rc = EVP_KDF_derive(ctx, out, outlen, par) == 1 ? 0 : -1;
	EVP_KDF_CTX_free(ctx);
	return rc;
}

/* Unpadded base64, as PHC strings write it; the length written. */
static size_t
password_b64(const unsigned char *in, size_t len, char *out)
{
	int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);

	while (n > 0 && out[n - 1] == '=')
		out[--n] = '\0';
	return (size_t)n;
}

/*
 * Decodes len characters of unpadded base64 at in into out (at most
 * PASSWORD_BYTES_MAX bytes); the bytes, or -1 if it is not base64.
 */
static int
password_unb64(const char *in, size_t len, unsigned char *out)
{
	char buf[((PASSWORD_BYTES_MAX + 2) / 3) * 4 + 1];
	unsigned char tmp[sizeof(buf)];
	size_t i, padded = (len + 3) / 4 * 4;
	int n;

	if (len == 0 || len % 4 == 1 || padded >= sizeof(buf))
		return -1;
	for (i = 0; i < len; i++)
		if (in[i] == '\0' || strchr(PASSWORD_B64, in[i]) == NULL)
			return -1;
	memcpy(buf, in, len);
	memset(buf + len, '=', padded - len);
	buf[padded] = '\0';
	if ((n = EVP_DecodeBlock(tmp, (unsigned char *)buf,
	    (int)padded)) < 0)
		return -1;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	n -= (int)(padded - len);
	if (n > PASSWORD_BYTES_MAX)
		return -1;
	memcpy(out, tmp, (size_t)n);
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return n;
}

int
password_hash(const char *password, char out[PASSWORD_HASH_MAX])
{
	struct password_params pp = { .ln = PASSWORD_LN, .r = PASSWORD_R,
	    .p = PASSWORD_P, .saltlen = PASSWORD_SALT_LEN,
	    .keylen = PASSWORD_KEY_LEN };
	char salt[PASSWORD_BYTES_MAX * 2], key[PASSWORD_BYTES_MAX * 2];
	int n;

	if (password == NULL || RAND_bytes(pp.salt, (int)pp.saltlen) != 1 ||
	    password_derive(password, &pp, pp.key, pp.keylen) == -1)
		return -1;
	password_b64(pp.salt, pp.saltlen, salt);
	password_b64(pp.key, pp.keylen, key);
	OPENSSL_cleanse(pp.key, sizeof(pp.key));
	n = snprintf(out, PASSWORD_HASH_MAX, "$scrypt$ln=%u,r=%u,p=%u$%s$%s",
	    pp.ln, pp.r, pp.p, salt, key);
	return n > 0 && n < PASSWORD_HASH_MAX ? 0 : -1;
}

/* A decimal in [1, max] at *s, up to stop; advances *s past it. */
static int
password_num(const char **s, const char *name, char stop, unsigned max,
    unsigned *out)
{
	size_t nl = strlen(name);
	unsigned long v = 0;
	const char *p = *s;

	if (strncmp(p, name, nl) != 0 || p[nl] != '=')
		return -1;
	p += nl + 1;
	if (*p < '1' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++)
		if ((v = v * 10 + (unsigned long)(*p - '0')) > max)
			return -1;
	if (*p != stop)
		return -1;
	*out = (unsigned)v;
	*s = p + 1;
	return 0;
}

/* Reads "$scrypt$ln=L,r=R,p=P$salt$key" within the bounds above. */
static int
password_parse(const char *h, struct password_params *pp)
{
	const char *salt, *dollar;
	int n;

	if (strnlen(h, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX ||
	    strncmp(h, "$scrypt$", 8) != 0)
		return -1;
	h += 8;
	if (password_num(&h, "ln", ',', PASSWORD_LN_MAX, &pp->ln) == -1 ||
	    password_num(&h, "r", ',', PASSWORD_R_MAX, &pp->r) == -1 ||
	    password_num(&h, "p", '$', PASSWORD_P_MAX, &pp->p) == -1)
		return -1;
	if (pp->ln < PASSWORD_LN_MIN ||
	    password_mem(pp->ln, pp->r, pp->p) > PASSWORD_MEM_MAX)
		return -1;
	salt = h;
	if ((dollar = strchr(salt, '$')) == NULL ||
	    (n = password_unb64(salt, (size_t)(dollar - salt),
	    pp->salt)) < PASSWORD_BYTES_MIN)
		return -1;
	pp->saltlen = (size_t)n;
	if ((n = password_unb64(dollar + 1, strlen(dollar + 1),
	    pp->key)) < PASSWORD_BYTES_MIN)
		return -1;
	pp->keylen = (size_t)n;
	return 0;
}

int
password_verify(const char *password, const char *hash)
{
	struct password_params pp;
	unsigned char key[PASSWORD_BYTES_MAX];
	int rc;

	memset(&pp, 0, sizeof(pp));
	if (hash == NULL || password_parse(hash, &pp) == -1)
		return -1;
	if (password == NULL ||
	    password_derive(password, &pp, key, pp.keylen) == -1)
		return -1;
	rc = CRYPTO_memcmp(key, pp.key, pp.keylen) == 0;
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

int
password_acceptable(const char *password, const char **why)
{
	size_t n = password != NULL ? strnlen(password,
	    PASSWORD_MAX_LEN + 1) : 0;

	if (n < PASSWORD_MIN_LEN) {
		*why = "the password is shorter than "
		    PASSWORD_STR(PASSWORD_MIN_LEN) " characters";
		return -1;
	}
	if (n > PASSWORD_MAX_LEN) {
		*why = "the password is longer than "
		    PASSWORD_STR(PASSWORD_MAX_LEN) " bytes";
		return -1;
	}
	if (strspn(password, (char[]){ password[0], '\0' }) == n) {
		*why = "the password is one character repeated";
		return -1;
	}
	return 0;
}
