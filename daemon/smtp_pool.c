/* smtp_pool: SMTP sends on worker threads, their outcome back on the loop. */
#include "smtp_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "xmalloc.h"

/*
 * Why threads, in a daemon that is otherwise one loop: libcurl waits
 * for the server's reply to the end of DATA blocking, even on a multi
 * handle (its "done" phase; curl issue #8555, a known limitation). A
 * relay that scans a mail for seconds before its 250 would stall
 * polling, the web API and signals for as long. So each send runs
 * curl_easy_perform on a worker; the loop keeps the store and every
 * decision, and hears of each outcome through an ev_async.
 */
struct smtp_pool {
	struct ev_loop		*loop;		/* borrowed */
	smtp_done_fn		 done;
	void			*arg;		/* borrowed */
	ev_async		 wake;		/* a send came back */
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct smtp_send	*todo, *todo_tail;	/* owned, under mu */
	struct smtp_send	*back;		/* owned, under mu */
	atomic_int		 quit;		/* also aborts sends */
	pthread_t		*threads;
	int			 nthreads;
};

void
smtp_send_free(struct smtp_send *s)
{
	if (s == NULL)
		return;
	free(s->url);
	free(s->user);
	if (s->password != NULL)
		explicit_bzero(s->password, strlen(s->password));
	free(s->password);
	free(s->ca_file);
	free(s->mail_from);
	free(s->rcpt);
	free(s);
}

static size_t
smtp_pool_read(char *out, size_t size, size_t n, void *arg)
{
	struct smtp_send *s = arg;
	size_t left = s->len - s->off, want = size * n;

	if (want > left)
		want = left;
	memcpy(out, s->body + s->off, want);
	s->off += want;
	return want;
}

/* Called about once a second even while curl blocks: the way out. */
static int
smtp_pool_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c,
    curl_off_t d)
{
	struct smtp_pool *p = arg;

	(void)a;
	(void)b;
	(void)c;
	(void)d;
	return atomic_load(&p->quit) ? 1 : 0;
}

static int
smtp_pool_setup(struct smtp_pool *p, CURL *e, struct smtp_send *s,
    struct curl_slist *rcpt)
{
	int rc = 0;

	curl_easy_reset(e);	/* keeps the connection for the next mail */
	rc |= curl_easy_setopt(e, CURLOPT_URL, s->url);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
	rc |= curl_easy_setopt(e, CURLOPT_MAIL_FROM, s->mail_from);
	rc |= curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rcpt);
	rc |= curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_READFUNCTION, smtp_pool_read);
	rc |= curl_easy_setopt(e, CURLOPT_READDATA, s);
	rc |= curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)s->len);
	rc |= curl_easy_setopt(e, CURLOPT_USE_SSL, s->use_ssl);
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT, s->timeout);
	rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->error);
	rc |= curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	rc |= curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, smtp_pool_progress);
	rc |= curl_easy_setopt(e, CURLOPT_XFERINFODATA, p);
	if (s->ca_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	if (s->user != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_USERNAME, s->user);
		rc |= curl_easy_setopt(e, CURLOPT_PASSWORD, s->password != NULL ?
		    s->password : "");
	}
	return rc == CURLE_OK ? 0 : -1;
}

static void
smtp_pool_run(struct smtp_pool *p, CURL *e, struct smtp_send *s)
{
	struct curl_slist *rcpt = curl_slist_append(NULL, s->rcpt);

	s->error[0] = '\0';
	s->off = 0;
	if (rcpt == NULL || smtp_pool_setup(p, e, s, rcpt) == -1)
		s->code = CURLE_FAILED_INIT;
	else
		s->code = curl_easy_perform(e);
	if (s->code != CURLE_OK && s->error[0] == '\0')
		snprintf(s->error, sizeof(s->error), "%s",
		    curl_easy_strerror((CURLcode)s->code));
	s->smtp = 0;
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &s->smtp);
	/* The buffer is the send's, which goes back to the loop now. */
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(rcpt);
}

/* The next send, or NULL when the pool is closing. */
static struct smtp_send *
smtp_pool_take(struct smtp_pool *p)
{
	struct smtp_send *s = NULL;

	pthread_mutex_lock(&p->mu);
	while (!atomic_load(&p->quit) && p->todo == NULL)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!atomic_load(&p->quit) && (s = p->todo) != NULL) {
		p->todo = s->next;
		if (p->todo == NULL)
			p->todo_tail = NULL;
		s->next = NULL;
	}
	pthread_mutex_unlock(&p->mu);
	return s;
}

static void *
smtp_pool_worker(void *arg)
{
	struct smtp_pool *p = arg;
	struct smtp_send *s;
	CURL *e = curl_easy_init();

	while ((s = smtp_pool_take(p)) != NULL) {
		if (e == NULL) {
			s->code = CURLE_FAILED_INIT;
			snprintf(s->error, sizeof(s->error), "no curl handle");
		} else
			smtp_pool_run(p, e, s);
		pthread_mutex_lock(&p->mu);
		s->next = p->back;
		p->back = s;
		pthread_mutex_unlock(&p->mu);
		ev_async_send(p->loop, &p->wake);
	}
	if (e != NULL)
		curl_easy_cleanup(e);
	return NULL;
}

/* On the loop: every send that came back, to the caller, oldest first. */
static void
smtp_pool_wake_cb(struct ev_loop *loop, ev_async *w, int revents)
{
	struct smtp_pool *p = w->data;
	struct smtp_send *s, *rev = NULL, *next;

	(void)loop;
	(void)revents;
	pthread_mutex_lock(&p->mu);
	s = p->back;
	p->back = NULL;
	pthread_mutex_unlock(&p->mu);
	for (; s != NULL; s = next) {
		next = s->next;
		s->next = rev;
		rev = s;
	}
	for (s = rev; s != NULL; s = next) {
		next = s->next;
		s->next = NULL;
		p->done(p->arg, s);
	}
}

struct smtp_pool *
smtp_pool_new(struct ev_loop *loop, int nthreads, smtp_done_fn done,
    void *arg)
{
	struct smtp_pool *p = xcalloc(1, sizeof(*p));

	p->loop = loop;
	p->done = done;
	p->arg = arg;
	atomic_init(&p->quit, 0);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	ev_async_init(&p->wake, smtp_pool_wake_cb);
	p->wake.data = p;
	ev_async_start(loop, &p->wake);
	p->threads = xcalloc((size_t)nthreads, sizeof(*p->threads));
	for (; p->nthreads < nthreads; p->nthreads++) {
		if (pthread_create(&p->threads[p->nthreads], NULL,
		    smtp_pool_worker, p) != 0) {
			smtp_pool_free(p);
			return NULL;
		}
	}
	return p;
}

static void
smtp_pool_free_list(struct smtp_send *s)
{
	struct smtp_send *next;

	for (; s != NULL; s = next) {
		next = s->next;
		smtp_send_free(s);
	}
}

void
smtp_pool_free(struct smtp_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	atomic_store(&p->quit, 1);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	ev_async_stop(p->loop, &p->wake);
	smtp_pool_free_list(p->todo);
	smtp_pool_free_list(p->back);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	free(p->threads);
	free(p);
}

void
smtp_pool_send(struct smtp_pool *p, struct smtp_send *s)
{
	s->next = NULL;
	pthread_mutex_lock(&p->mu);
	if (p->todo_tail != NULL)
		p->todo_tail->next = s;
	else
		p->todo = s;
	p->todo_tail = s;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}
