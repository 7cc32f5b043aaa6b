/* httpd: the web inbox, the JSON API, /healthz and /metrics on the loop. */
#ifndef HEARD_HTTPD_H
#define HEARD_HTTPD_H

#include <stddef.h>

struct heard;
struct ratelimit;

/*
 * Listens on [http] listen and serves from the loop (h->loop, one
 * thread: libmicrohttpd in epoll mode, its epoll fd watched by an
 * ev_io, its time-outs by an ev_timer). NULL with a reason naming the
 * option in err (a bad address, a port in use, no web root).
 */
struct httpd	*httpd_start(struct heard *h, char *err, size_t errlen);
/* Closes the listening socket and every connection; NULL is fine. */
void		 httpd_free(struct httpd *);
/* The failed log-ins it remembers (api_auth). Borrowed. */
struct ratelimit *httpd_ratelimit(struct httpd *);

#endif
