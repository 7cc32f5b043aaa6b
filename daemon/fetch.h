/* fetch: HTTP(S) transfers on a curl multi handle driven by the libev loop. */
#ifndef HEARD_FETCH_H
#define HEARD_FETCH_H

#include <stddef.h>

struct heard;
struct config;
struct conn_request;
struct conn_response;
struct conn_error;
struct fetch;

/*
 * Called once per transfer, always from the loop, never from inside
 * fetch_start. Either resp is set and err is NULL (any HTTP status,
 * even 500, is a response), or resp is NULL and err says why the
 * transfer failed (time-out, DNS, refused, TLS, redirect loop, body
 * over the cap...), with err->unsent set when the request never left. Both are borrowed until the callback returns. The
 * callback may start or cancel transfers but must not free the fetch.
 */
typedef void (*fetch_done_fn)(void *arg, const struct conn_response *resp,
    const struct conn_error *err);

/* Uses h->loop (borrowed) and a copy of h->cfg's [poll] limits. */
struct fetch	*fetch_new(struct heard *h);
/* Drops every transfer, running or queued, without calling back. */
void		 fetch_free(struct fetch *);
/*
 * New limits (time-outs, caps, User-Agent, CA file, file://) for
 * transfers that start from now on; running ones keep theirs.
 */
void		 fetch_reconfigure(struct fetch *, const struct config *);
/*
 * Queues a transfer; it runs when the global and per-host caps allow,
 * and not before req->min_gap_ms have passed since the last transfer
 * to the same host started (an API's rate limit; the wait is a timer
 * on the loop, and transfers to other hosts go ahead meanwhile).
 * req is copied, so it may be freed on return; arg is borrowed until
 * done is called or the transfer is cancelled. -1 if req has no URL.
 */
int		 fetch_start(struct fetch *, const struct conn_request *req,
		    fetch_done_fn done, void *arg);
/* Drops the transfers started with arg, without calling back; count. */
size_t		 fetch_cancel(struct fetch *, void *arg);
/* Transfers running or waiting for a slot. */
size_t		 fetch_pending(const struct fetch *);

/*
 * Another protocol on the same multi handle and loop (SMTP for the
 * mailer, IMAP for mail in): the caller sets up the easy handle whole
 * (URL, credentials, callbacks) and keeps owning it; fetch only runs
 * it, outside the per-host queues and caps. done is called once, from
 * the loop and never from inside fetch_easy_add, with curl's result
 * and its error text ("" if none), borrowed; the handle is off the
 * multi by then, so done may free or reuse it. CURLOPT_PRIVATE is
 * fetch's. -1 if curl refuses the handle.
 */
typedef void (*fetch_easy_fn)(void *arg, int curl_code, const char *error);
int		 fetch_easy_add(struct fetch *, void *curl_easy,
		    fetch_easy_fn done, void *arg);
/* Takes the handle off without calling back; 0 if it was not running. */
int		 fetch_easy_remove(struct fetch *, void *curl_easy);

#endif
