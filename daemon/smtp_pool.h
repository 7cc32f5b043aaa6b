/* smtp_pool: SMTP sends on worker threads, their outcome back on the loop. */
#ifndef HEARD_SMTP_POOL_H
#define HEARD_SMTP_POOL_H

#include <stddef.h>

#include <curl/curl.h>

struct ev_loop;
struct smtp_pool;

/*
 * One mail to send. The caller fills the settings (strings owned:
 * smtp_send_free frees them) and body (borrowed until the send comes
 * back); the worker fills the outcome.
 */
struct smtp_send {
	char		*url;		/* smtp:// or smtps:// */
	char		*user;		/* NULL: no AUTH */
	char		*password;	/* NULL: "" */
	char		*ca_file;	/* NULL: the system's */
	char		*mail_from;	/* "<addr>" */
	char		*rcpt;		/* "<addr>" */
	const char	*body;		/* borrowed: the whole message, CRLF */
	size_t		 len;
	long		 use_ssl;	/* CURLUSESSL_* */
	long		 connect_timeout;	/* seconds */
	long		 timeout;	/* seconds for the whole send */
	void		*arg;		/* borrowed: the caller's */
	/* The outcome. */
	int		 code;		/* CURLcode */
	long		 smtp;		/* the last SMTP reply code, 0 none */
	char		 error[CURL_ERROR_SIZE];
	/* The worker's. */
	size_t		 off;
	struct smtp_send *next;
};

void	smtp_send_free(struct smtp_send *);

/* Called on the loop with a finished send, which it owns again. */
typedef void (*smtp_done_fn)(void *arg, struct smtp_send *);

/*
 * nthreads workers, each keeping its own curl handle (and so its
 * connection to the server between mails). done and arg borrowed.
 * NULL if a thread cannot be started.
 */
struct smtp_pool	*smtp_pool_new(struct ev_loop *, int nthreads,
			    smtp_done_fn done, void *arg);
/*
 * Sends in flight are aborted (within a second), the workers joined;
 * sends not handed back are freed without calling done.
 */
void			 smtp_pool_free(struct smtp_pool *);
/* Takes s until done hands it back, from the loop, never from here. */
void			 smtp_pool_send(struct smtp_pool *, struct smtp_send *);

#endif
