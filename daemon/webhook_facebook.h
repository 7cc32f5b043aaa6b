/* webhook_facebook: Meta's webhook for the facebook sources, on the API. */
#ifndef HEARD_WEBHOOK_FACEBOOK_H
#define HEARD_WEBHOOK_FACEBOOK_H

#include <stddef.h>

struct api_req;
struct api_resp;

/*
 * GET /api/v1/webhooks/facebook: the subscription handshake. With
 * hub.mode=subscribe and a hub.verify_token equal to some facebook
 * source's verify_token, 200 and hub.challenge as text/plain; else 403.
 */
int	webhook_facebook_verify(struct api_req *, struct api_resp *);
/*
 * POST /api/v1/webhooks/facebook: a delivery. Its X-Hub-Signature-256
 * must be the HMAC-SHA256 of the raw body under some facebook source's
 * app_secret, checked before the body is read at all; else 403 and
 * nothing is stored. Each source whose secret signed it gets what the
 * delivery carries for its page (ingest_pushed); 200 also when no
 * page is one heard has (logged), as Meta sends again what is not 200.
 */
int	webhook_facebook_deliver(struct api_req *, struct api_resp *);

/*
 * 1 if header is "sha256=" and the lowercase or uppercase hex of
 * HMAC-SHA256(secret, body), compared in constant time; else 0.
 */
int	webhook_facebook_signed(const char *header, const void *body,
	    size_t len, const char *secret);
/*
 * 1 if token equals want, in time that depends on neither (both are
 * hashed first, so not even the length shows); 0 otherwise or if
 * either is NULL.
 */
int	webhook_facebook_token_eq(const char *token, const char *want);

#endif
