/* tsrv: a tiny HTTP/1.1 server on a test's own libev loop (tests only). */
#ifndef HEARD_TSRV_H
#define HEARD_TSRV_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ev.h>

/*
 * Accepts on 127.0.0.1, reads one request (head and Content-Length
 * body), hands it to the test's respond function and closes once the
 * answer is written, so "connections open" is "transfers in progress".
 * Static inline so each test takes only what it uses.
 */
struct tsrv;
struct tsrv_conn;

/* Answer with tsrv_reply() then tsrv_send() or tsrv_send_after(). */
typedef void (*tsrv_fn)(struct tsrv *, struct tsrv_conn *,
    const char *req);

struct tsrv {
	LIST_HEAD(, tsrv_conn) conns;
	struct ev_loop	*loop;		/* borrowed */
	int		 fd;		/* listening, or -1 */
	int		 port;
	ev_io		 accept_w;
	int		 open;		/* connections open now */
	int		 max_open;	/* most at once */
	int		 accepted;
	char		 last[8192];	/* last request, head and body */
	tsrv_fn		 respond;
	void		*arg;		/* the test's */
};

struct tsrv_conn {
	LIST_ENTRY(tsrv_conn) entry;
	struct tsrv	*s;
	int		 fd;
	ev_io		 rio;
	ev_io		 wio;
	ev_timer	 hold;
	char		 in[8192];
	size_t		 inlen;
	int		 answered;
	char		*out;
	size_t		 outlen;
	size_t		 outoff;
};

static inline void
tsrv_close(struct tsrv_conn *c)
{
	ev_io_stop(c->s->loop, &c->rio);
	ev_io_stop(c->s->loop, &c->wio);
	ev_timer_stop(c->s->loop, &c->hold);
	close(c->fd);
	LIST_REMOVE(c, entry);
	c->s->open--;
	free(c->out);
	free(c);
}

static inline void
tsrv_write_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tsrv_conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
	    MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->outoff += (size_t)n) == c->outlen)
		tsrv_close(c);
}

/* Appends bytes to the answer. */
static inline void
tsrv_reply(struct tsrv_conn *c, const void *p, size_t n)
{
	char *out = realloc(c->out, c->outlen + n + 1);

	if (out == NULL)
		abort();
	c->out = out;
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
}

static inline void
tsrv_reply_str(struct tsrv_conn *c, const char *s)
{
	tsrv_reply(c, s, strlen(s));
}

/* Writes the answer, then closes. */
static inline void
tsrv_send(struct tsrv_conn *c)
{
	ev_io_start(c->s->loop, &c->wio);
}

static inline void
tsrv_hold_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	tsrv_send(w->data);
}

/* Writes the answer after secs seconds, holding the connection. */
static inline void
tsrv_send_after(struct tsrv_conn *c, double secs)
{
	ev_timer_set(&c->hold, secs, 0.0);
	ev_timer_start(c->s->loop, &c->hold);
}

/* 1 once the head and Content-Length bytes of body are in. */
static inline int
tsrv_complete(struct tsrv_conn *c)
{
	const char *end, *cl;
	size_t head, len = 0;

	c->in[c->inlen] = '\0';
	if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
		return 0;
	head = (size_t)(end + 4 - c->in);
	if ((cl = strcasestr(c->in, "\r\nContent-Length:")) != NULL &&
	    cl < end)
		len = strtoul(cl + 17, NULL, 10);
	return c->inlen >= head + len;
}

static inline void
tsrv_read_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tsrv_conn *c = w->data;
	ssize_t n;

	(void)loop;
	(void)revents;
	n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - 1 - c->inlen, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		tsrv_close(c);
		return;
	}
	c->inlen += (size_t)n;
	if (!c->answered && tsrv_complete(c)) {
		c->answered = 1;
		snprintf(c->s->last, sizeof(c->s->last), "%s", c->in);
		c->s->respond(c->s, c, c->in);
	}
}

static inline void
tsrv_accept_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	struct tsrv *s = w->data;
	struct tsrv_conn *c;
	int fd;

	(void)revents;
	if ((fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK)) == -1)
		return;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		abort();
	c->s = s;
	c->fd = fd;
	LIST_INSERT_HEAD(&s->conns, c, entry);
	ev_io_init(&c->rio, tsrv_read_cb, fd, EV_READ);
	ev_io_init(&c->wio, tsrv_write_cb, fd, EV_WRITE);
	ev_timer_init(&c->hold, tsrv_hold_cb, 0.0, 0.0);
	c->rio.data = c->wio.data = c->hold.data = c;
	ev_io_start(loop, &c->rio);
	s->accepted++;
	if (++s->open > s->max_open)
		s->max_open = s->open;
}

/* 0, or -1 if it cannot listen. */
static inline int
tsrv_start(struct tsrv *s, struct ev_loop *loop, tsrv_fn respond,
    void *arg)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	memset(s, 0, sizeof(*s));
	LIST_INIT(&s->conns);
	s->loop = loop;
	s->respond = respond;
	s->arg = arg;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) == -1 ||
	    bind(s->fd, (struct sockaddr *)&sin, len) == -1 ||
	    listen(s->fd, 64) == -1 ||
	    getsockname(s->fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	s->port = ntohs(sin.sin_port);
	ev_io_init(&s->accept_w, tsrv_accept_cb, s->fd, EV_READ);
	s->accept_w.data = s;
	ev_io_start(loop, &s->accept_w);
	return 0;
}

/* Stops listening; connections already open go on. */
static inline void
tsrv_unlisten(struct tsrv *s)
{
	ev_io_stop(s->loop, &s->accept_w);
	if (s->fd != -1)
		close(s->fd);
	s->fd = -1;
}

static inline void
tsrv_stop(struct tsrv *s)
{
	tsrv_unlisten(s);
	while (!LIST_EMPTY(&s->conns))
		tsrv_close(LIST_FIRST(&s->conns));
}

/* The request's path ("/x" of "GET /x HTTP/1.1") into buf. */
static inline const char *
tsrv_path(const char *req, char *buf, size_t len)
{
	const char *p = strchr(req, ' '), *e;

	if (p == NULL || (e = strchr(++p, ' ')) == NULL ||
	    (size_t)(e - p) >= len)
		return "";
	memcpy(buf, p, (size_t)(e - p));
	buf[e - p] = '\0';
	return buf;
}

#endif
