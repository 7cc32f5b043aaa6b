/* oauth1: OAuth 1.0a HMAC-SHA1 request signatures (RFC 5849), pure. */
#ifndef HEARD_OAUTH1_H
#define HEARD_OAUTH1_H

#include <stddef.h>
#include <stdint.h>

struct arena;
struct buf;

/* A request parameter as signed: raw (not yet encoded) text. */
struct oauth1_param {
	const char	*key;	/* borrowed */
	const char	*value;	/* borrowed */
};

/* The app's and the user's credentials; all borrowed, all secret. */
struct oauth1_keys {
	const char	*consumer_key;
	const char	*consumer_secret;
	const char	*token;
	const char	*token_secret;
};

#define OAUTH1_PARAMS_MAX	16	/* request's and oauth_* together */

/* s percent-encoded as RFC 3986 (all but A-Z a-z 0-9 - . _ ~) onto b. */
void	 oauth1_encode(struct buf *b, const char *s);
/*
 * The signature base string (RFC 5849 3.4.1): METHOD&url&params, the
 * params encoded, sorted by key then value, and encoded again. url is
 * the base URL, without its query. NULL if there are too many params.
 */
char	*oauth1_base_string(struct arena *, const char *method,
	    const char *url, const struct oauth1_param *, size_t n);
/* HMAC-SHA1 of base under consumer_secret&token_secret, base64. */
char	*oauth1_signature(struct arena *, const char *base,
	    const char *consumer_secret, const char *token_secret);
/*
 * The Authorization header's value, "OAuth oauth_consumer_key=...",
 * for a request with the given query and form parameters (a JSON body
 * has none: it is not signed). timestamp and nonce are the caller's,
 * so the result is deterministic. NULL if there are too many params.
 */
char	*oauth1_header(struct arena *, const char *method, const char *url,
	    const struct oauth1_param *, size_t n, const struct oauth1_keys *,
	    int64_t timestamp, const char *nonce);

#endif
