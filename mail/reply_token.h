/* reply_token: the signed token in a notification's Reply-To address. */
#ifndef HEARD_REPLY_TOKEN_H
#define HEARD_REPLY_TOKEN_H

#include <stddef.h>
#include <stdint.h>

/*
 * A token is "<thread id>.<user id>.<mac>" in lower case, where mac is
 * the first REPLY_TOKEN_MAC_BYTES of HMAC-SHA256(key, "heard-reply-v1:"
 * "<thread id>.<user id>") in hex. It names one thread and the one
 * user the mail went to; changing either breaks the mac. The address
 * is "reply+<token>@<reply domain>", well under the 64 characters a
 * local part may have.
 */
#define REPLY_TOKEN_MAC_BYTES	16
#define REPLY_TOKEN_MAX		80	/* with the NUL */
/* Shortest key accepted: 32 bytes, as HMAC-SHA256's block wants. */
#define REPLY_TOKEN_KEY_MIN	32

enum reply_token_check {
	REPLY_TOKEN_OK = 0,
	REPLY_TOKEN_MALFORMED = -1,	/* not the shape of a token */
	REPLY_TOKEN_FORGED = -2,	/* shape right, mac wrong */
};

/* Writes the token into out; -1 if the ids are not positive. */
int	reply_token_make(const unsigned char *key, size_t keylen,
	    int64_t thread_id, int64_t user_id, char out[REPLY_TOKEN_MAX]);
/*
 * Checks token (any case) and sets the ids when it verifies. The mac
 * is compared in constant time.
 */
enum reply_token_check reply_token_check(const unsigned char *key,
	    size_t keylen, const char *token, int64_t *thread_id,
	    int64_t *user_id);
/*
 * The token of an address "reply+TOKEN@DOMAIN" when its domain is
 * domain (any case): 0 and the token in tok, else -1.
 */
int	reply_token_from_addr(const char *addr, const char *domain,
	    char tok[REPLY_TOKEN_MAX]);

#endif
