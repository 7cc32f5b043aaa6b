/* mailer: turns the notification outbox into mails and sends them by SMTP. */
#include "mailer.h"

#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <ev.h>

#include "connector.h"
#include "heard.h"
#include "log.h"
#include "mail_compose.h"
#include "mails.h"
#include "notify.h"
#include "registry.h"
#include "secret_file.h"
#include "smtp_pool.h"
#include "store.h"
#include "xmalloc.h"

/* Longest SMTP password file read; a password is a line. */
#define MAILER_PASSWORD_MAX	1024
/* Longest pause of all sending while the server cannot be reached. */
#define MAILER_DOWN_MAX		600

/* One mail being sent. */
struct mailer_job {
	LIST_ENTRY(mailer_job)	 entry;
	struct mailer		*m;	/* borrowed */
	struct mails_out	 mail;	/* owned; its body lent to the pool */
};

struct mailer {
	struct heard		*h;	/* borrowed */
	LIST_HEAD(, mailer_job)	 jobs;	/* owned: sends in flight */
	int			 busy;
	ev_timer		 tick;	/* every MAILER_TICK */
	ev_timer		 soon;	/* a wake-up, on the loop */
	struct smtp_pool	*pool;	/* owned; made at start */
	int			 running;
	char			*password;	/* owned or NULL */
	char			 envelope[260];	/* MAIL FROM, <> */
	int			 down;	/* sends in a row the server missed */
	int64_t			 resume_at;	/* no sends before, while down */
};

/* The server for logs: the URL without any user:password@ in it. */
static const char *
mailer_where(const struct mailer *m, char *buf, size_t len)
{
	const char *url = m->h->cfg.smtp_url, *host, *at;
	size_t n;

	host = strstr(url, "://");
	host = host != NULL ? host + 3 : url;
	n = strcspn(host, "/?#");
	at = memchr(host, '@', n);
	snprintf(buf, len, "%.*s%s", (int)(host - url), url,
	    at != NULL ? at + 1 : host);
	return buf;
}

static const char *
mailer_channel_title(const char *connector)
{
	const struct connector *c = registry_find(connector);

	return c != NULL ? c->title : NULL;
}

void
mailer_opts(const struct heard *h, struct notify_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->from = h->cfg.mail_from;
	o->reply_domain = h->cfg.reply_domain;
	o->base_url = h->cfg.base_url;
	o->key = h->secret;
	o->key_len = h->secret_len;
	o->per_hour = h->cfg.mail_per_hour;
	o->digest_hour = h->cfg.digest_hour;
	o->channel_title = mailer_channel_title;
}

/* The first line of the password file; NULL with err on failure. */
static char *
mailer_password(const char *path, char *err, size_t errlen)
{
	char buf[MAILER_PASSWORD_MAX + 1];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "[mail] smtp_password_file %s: %s", path,
		    strerror(errno));
		return NULL;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > MAILER_PASSWORD_MAX) {
		snprintf(err, errlen, "[mail] smtp_password_file %s: %s", path,
		    n < 0 ? strerror(errno) : "longer than 1024 bytes");
		return NULL;
	}
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	return xstrdup(buf);
}

static int
mailer_check(struct heard *h, char *envelope, size_t len, char *err,
    size_t errlen)
{
	if (h->cfg.mail_from == NULL ||
	    mail_addr_spec(h->cfg.mail_from, envelope, len) == -1) {
		snprintf(err, errlen, "[mail] smtp_url is set but from is %s",
		    h->cfg.mail_from == NULL ? "not" : "not an address");
		return -1;
	}
	if (h->secret == NULL) {
		snprintf(err, errlen, "[mail] smtp_url is set but secret_file "
		    "is not: it signs the Reply-To address of every mail");
		return -1;
	}
	if (strncasecmp(h->cfg.smtp_url, "smtp://", 7) != 0 &&
	    strncasecmp(h->cfg.smtp_url, "smtps://", 8) != 0) {
		snprintf(err, errlen, "[mail] smtp_url must be smtp:// or "
		    "smtps://");
		return -1;
	}
	return 0;
}

int
mailer_check_config(struct heard *h, char *err, size_t errlen)
{
	char envelope[256], *pw;

	if (h->cfg.smtp_url == NULL || *h->cfg.smtp_url == '\0')
		return 0;
	if (heard_load_secret(h, err, errlen) == -1 ||
	    mailer_check(h, envelope, sizeof(envelope), err, errlen) == -1)
		return -1;
	if (h->cfg.smtp_password_file == NULL)
		return 0;
	if ((pw = mailer_password(h->cfg.smtp_password_file, err,
	    errlen)) == NULL)
		return -1;
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return 0;
}

static void	mailer_tick_cb(struct ev_loop *, ev_timer *, int);
static void	mailer_soon_cb(struct ev_loop *, ev_timer *, int);

struct mailer *
mailer_new(struct heard *h, char *err, size_t errlen)
{
	struct mailer *m;
	char envelope[256], *pw = NULL;

	if (errlen > 0)
		err[0] = '\0';
	if (h->cfg.smtp_url == NULL || *h->cfg.smtp_url == '\0')
		return NULL;
	if (mailer_check(h, envelope, sizeof(envelope), err, errlen) == -1)
		return NULL;
	if (h->cfg.smtp_password_file != NULL &&
	    (pw = mailer_password(h->cfg.smtp_password_file, err,
	    errlen)) == NULL)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->h = h;
	m->password = pw;
	snprintf(m->envelope, sizeof(m->envelope), "<%s>", envelope);
	LIST_INIT(&m->jobs);
	ev_timer_init(&m->tick, mailer_tick_cb, MAILER_TICK, MAILER_TICK);
	m->tick.data = m;
	ev_timer_init(&m->soon, mailer_soon_cb, 0.0, 0.0);
	m->soon.data = m;
	return m;
}

static void
mailer_job_free(struct mailer_job *job)
{
	mails_out_free(&job->mail);
	free(job);
}

void
mailer_free(struct mailer *m)
{
	struct mailer_job *job;

	if (m == NULL)
		return;
	ev_timer_stop(m->h->loop, &m->tick);
	ev_timer_stop(m->h->loop, &m->soon);
	/* First the workers: they may still be reading the jobs' bodies. */
	smtp_pool_free(m->pool);
	while ((job = LIST_FIRST(&m->jobs)) != NULL) {
		LIST_REMOVE(job, entry);
		mailer_job_free(job);
	}
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	free(m);
}

/* STARTTLS required when asked (smtps:// is TLS from the start). */
static long
mailer_tls(const struct config *cfg)
{
	if (cfg->smtp_starttls ||
	    strncasecmp(cfg->smtp_url, "smtps://", 8) == 0)
		return (long)CURLUSESSL_ALL;
	return (long)CURLUSESSL_TRY;
}

static char *
mailer_dup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* The send, with copies of today's settings: a reload may free them. */
static struct smtp_send *
mailer_send_new(struct mailer *m, struct mailer_job *job)
{
	const struct config *cfg = &m->h->cfg;
	struct smtp_send *s = xcalloc(1, sizeof(*s));

	s->url = xstrdup(cfg->smtp_url);
	s->user = mailer_dup(cfg->smtp_user);
	s->password = mailer_dup(m->password);
	s->ca_file = mailer_dup(cfg->ca_file);
	s->mail_from = xstrdup(m->envelope);
	s->rcpt = xasprintf("<%s>", job->mail.rcpt);
	s->body = job->mail.body;
	s->len = job->mail.len;
	s->use_ssl = mailer_tls(cfg);
	s->connect_timeout = cfg->connect_timeout;
	s->timeout = cfg->timeout;
	s->arg = job;
	return s;
}

/* The wait before the next try after attempts sends have failed. */
static int64_t
mailer_backoff(int attempts)
{
	int64_t wait = MAILER_BACKOFF_BASE;

	while (--attempts > 0 && wait < MAILER_BACKOFF_MAX)
		wait *= 2;
	return wait < MAILER_BACKOFF_MAX ? wait : MAILER_BACKOFF_MAX;
}

static void
mailer_record(struct mailer_job *job, int rc, const char *what)
{
	struct store *s = job->m->h->store;

	if (rc == -1)
		log_warnx("mail %lld to %s: %s, but cannot record it: %s",
		    (long long)job->mail.id, job->mail.rcpt, what,
		    store_errmsg(s));
}

/*
 * Not sent. A 5xx answer is the server saying no for good, but is
 * tried MAILER_MAX_REFUSED times (a misconfigured relay mends); any
 * other failure is tried again, backing off, MAILER_MAX_ATTEMPTS times.
 */
static void
mailer_failed(struct mailer_job *job, long smtp, const char *error)
{
	struct store *s = job->m->h->store;
	int attempts = job->mail.attempts + 1;
	int refused = smtp >= 500 && smtp < 600;
	int64_t next;
	char why[CURL_ERROR_SIZE + 64];

	if (smtp > 0)
		snprintf(why, sizeof(why), "%s (SMTP %ld)", error, smtp);
	else
		snprintf(why, sizeof(why), "%s", error);
	if (attempts >= (refused ? MAILER_MAX_REFUSED : MAILER_MAX_ATTEMPTS)) {
		mailer_record(job, mails_failed(s, job->mail.id, why), "failed");
		log_warnx("mail %lld (%s) to %s: %s; given up after %d "
		    "attempts", (long long)job->mail.id, job->mail.kind,
		    job->mail.rcpt, why, attempts);
		return;
	}
	next = time(NULL) + mailer_backoff(attempts);
	mailer_record(job, mails_retry(s, job->mail.id, why, next), "retry");
	log_warnx("mail %lld (%s) to %s: %s; attempt %d, next in %llds",
	    (long long)job->mail.id, job->mail.kind, job->mail.rcpt, why,
	    attempts, (long long)(next - time(NULL)));
}

/*
 * No SMTP answer at all (refused, DNS, TLS, time-out) or a 421: the
 * server, not this mail, is the trouble, so every send waits, rather
 * than each queued mail failing in turn against a server that is down.
 */
static void
mailer_server_state(struct mailer *m, int code, long smtp)
{
	char where[256];
	int64_t wait;

	if (code == CURLE_OK || (smtp > 0 && smtp != 421)) {
		m->down = 0;
		return;
	}
	m->down++;
	wait = mailer_backoff(m->down);
	m->resume_at = time(NULL) + (wait < MAILER_DOWN_MAX ? wait :
	    MAILER_DOWN_MAX);
	log_warnx("mailer: %s unreachable; sending again in %llds",
	    mailer_where(m, where, sizeof(where)),
	    (long long)(m->resume_at - time(NULL)));
}

static void	mailer_drain(struct mailer *);

static void
mailer_done(void *arg, struct smtp_send *s)
{
	struct mailer *m = arg;
	struct mailer_job *job = s->arg;
	int code = s->code;
	long smtp = s->smtp;
	const char *error = s->error;

	LIST_REMOVE(job, entry);
	m->busy--;
	mailer_server_state(m, code, smtp);
	if (code == CURLE_OK) {
		mailer_record(job, mails_sent(m->h->store, job->mail.id,
		    time(NULL)), "sent");
		log_info("mail %lld (%s) to %s: sent", (long long)job->mail.id,
		    job->mail.kind, job->mail.rcpt);
	} else
		mailer_failed(job, smtp, error);
	smtp_send_free(s);
	mailer_job_free(job);
	if (m->running)
		mailer_drain(m);
}

static void
mailer_send(struct mailer *m, struct mails_out *mail)
{
	struct mailer_job *job = xcalloc(1, sizeof(*job));

	job->m = m;
	job->mail = *mail;
	memset(mail, 0, sizeof(*mail));
	LIST_INSERT_HEAD(&m->jobs, job, entry);
	m->busy++;
	smtp_pool_send(m->pool, mailer_send_new(m, job));
}

/* Starts sends of due mails while there is room. */
static void
mailer_drain(struct mailer *m)
{
	struct mails_out due[MAILER_MAX_BUSY];
	int64_t skip[MAILER_MAX_BUSY];
	struct mailer_job *job;
	size_t nskip = 0;
	int n, i;

	if (m->busy >= MAILER_MAX_BUSY || time(NULL) < m->resume_at)
		return;
	LIST_FOREACH(job, &m->jobs, entry)
		if (nskip < MAILER_MAX_BUSY)
			skip[nskip++] = job->mail.id;
	n = mails_due(m->h->store, time(NULL), skip, nskip, due,
	    (size_t)(MAILER_MAX_BUSY - m->busy));
	if (n == -1) {
		log_warnx("mailer: cannot read the mail queue: %s",
		    store_errmsg(m->h->store));
		return;
	}
	for (i = 0; i < n; i++)
		mailer_send(m, &due[i]);
}

/* What is due becomes mails, then mails go. */
static void
mailer_run(struct mailer *m)
{
	struct notify_opts o;
	char err[512];
	int n;

	mailer_opts(m->h, &o);
	n = notify_compose(m->h->store, &o, time(NULL), err, sizeof(err));
	if (n == -1)
		log_warnx("mailer: %s", err);
	else if (err[0] != '\0')
		log_warnx("mailer: %s", err);
	if (n > 0)
		log_debug("mailer: %d mails composed", n);
	mailer_drain(m);
	/* A batch was made: there may be more; look again on the loop. */
	if (n > 0)
		mailer_wake(m);
}

static void
mailer_tick_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	mailer_run(w->data);
}

static void
mailer_soon_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	mailer_run(w->data);
}

int
mailer_start(struct mailer *m)
{
	char where[256];
	int64_t queued;

	if ((queued = mails_queued(m->h->store)) == -1) {
		log_warnx("mailer: cannot read the mail queue: %s",
		    store_errmsg(m->h->store));
		return -1;
	}
	if (m->pool == NULL && (m->pool = smtp_pool_new(m->h->loop,
	    MAILER_MAX_BUSY, mailer_done, m)) == NULL) {
		log_warnx("mailer: cannot start its threads");
		return -1;
	}
	m->running = 1;
	log_info("mailer: sending through %s; %lld mails queued",
	    mailer_where(m, where, sizeof(where)), (long long)queued);
	ev_timer_start(m->h->loop, &m->tick);
	mailer_wake(m);
	return 0;
}

void
mailer_wake(struct mailer *m)
{
	if (m == NULL || !m->running || ev_is_active(&m->soon))
		return;
	ev_timer_set(&m->soon, 0.0, 0.0);
	ev_timer_start(m->h->loop, &m->soon);
}

void
mailer_reload(struct mailer *m)
{
	char err[512], *pw;

	if (m == NULL || m->h->cfg.smtp_password_file == NULL)
		return;
	if ((pw = mailer_password(m->h->cfg.smtp_password_file, err,
	    sizeof(err))) == NULL) {
		log_warnx("mailer: %s; the old password stays", err);
		return;
	}
	if (m->password != NULL)
		explicit_bzero(m->password, strlen(m->password));
	free(m->password);
	m->password = pw;
}

void
mailer_stop(struct mailer *m)
{
	if (m == NULL)
		return;
	m->running = 0;
	ev_timer_stop(m->h->loop, &m->tick);
	ev_timer_stop(m->h->loop, &m->soon);
}

int
mailer_busy(const struct mailer *m)
{
	return m != NULL ? m->busy : 0;
}

void
mailer_alert(struct mailer *m, const char *subject, const char *text)
{
	struct notify_opts o;

	if (m == NULL)
		return;
	mailer_opts(m->h, &o);
	if (notify_mail_admins(m->h->store, &o, subject, text,
	    time(NULL)) == -1)
		log_warnx("mailer: cannot queue a mail to the admins: %s",
		    store_errmsg(m->h->store));
	mailer_wake(m);
}
