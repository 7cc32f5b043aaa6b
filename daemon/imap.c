/* imap: polls a mailbox for staff replies, by UID, on the daemon's loop. */
#include "imap.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <ev.h>

#include "fetch.h"
#include "heard.h"
#include "log.h"
#include "mail_in.h"
#include "mail_parse.h"
#include "mailin.h"
#include "secret_file.h"
#include "xmalloc.h"

/* Bytes kept of a password file's first line. */
#define IMAP_PASSWORD_MAX	1024
/* Soonest next round when a batch was cut at IMAP_BATCH. */
#define IMAP_AGAIN		0.05

/*
 * A round: EXAMINE (UIDVALIDITY, UIDNEXT), UID SEARCH for the UIDs past
 * the last one done, then each new message fetched and settled, its
 * UID saved as done before the next is fetched.
 */
enum imap_step {
	IMAP_IDLE,
	IMAP_EXAMINE,
	IMAP_SEARCH,
	IMAP_FETCH,
};

/* A response body, bounded by MAIL_MAX_BYTES. */
struct imap_buf {
	char	*data;		/* owned */
	size_t	 len;
	size_t	 cap;
	int	 over;		/* the bound was hit: it stopped */
};

struct imap {
	struct heard	*h;		/* borrowed */
	/* Owned; reused, so that curl keeps the connection and login. */
	CURL		*easy;
	ev_timer	 timer;		/* next round */
	enum imap_step	 step;
	int		 stopping;
	struct imap_buf	 buf;
	/* This round's mailbox, from [mail] imap_url; all owned. */
	char		*base;		/* "imap://host:port/" */
	char		*host;		/* as in the URL ([::1]) */
	char		*box;		/* its name, decoded */
	char		*box_url;	/* its name, URL-escaped */
	char		*key;	/* imap_state's; no password */
	int64_t		 uidvalidity;
	int64_t		 uidnext;	/* 0: the server did not say */
	int64_t		 last_uid;	/* the last UID settled */
	int64_t		*uids;	/* owned; new, ascending */
	size_t		 nuids;
	size_t		 next;		/* the one being fetched */
	int		 more;		/* the batch was cut */
	int		 failures;	/* rounds failed in a row */
};

static void	imap_round(struct imap *);

static size_t
imap_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct imap_buf *b = arg;

	n *= size;
	if (b->len + n > MAIL_MAX_BYTES) {
		b->over = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		b->cap = b->cap * 2 > b->len + n + 1 ? b->cap * 2 :
		    b->len + n + 1;
		b->data = xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return n;
}

static void
imap_buf_reset(struct imap_buf *b)
{
	b->len = 0;
	b->over = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
imap_forget(struct imap *im)
{
	free(im->base);
	free(im->host);
	free(im->box);
	free(im->box_url);
	free(im->key);
	free(im->uids);
	im->base = im->host = im->box = im->box_url = im->key = NULL;
	im->uids = NULL;
	im->nuids = im->next = 0;
	im->more = 0;
}

/* Seconds to the next round after a failure: doubling, capped. */
static double
imap_backoff(const struct imap *im)
{
	const struct config *c = &im->h->cfg;
	double d = (double)c->backoff_base;
	int i;

	for (i = 1; i < im->failures && d < (double)c->backoff_max; i++)
		d *= 2;
	if (d > (double)c->backoff_max)
		d = (double)c->backoff_max;
	return d > (double)c->imap_interval ? d : (double)c->imap_interval;
}

static void
imap_schedule(struct imap *im, double after)
{
	im->step = IMAP_IDLE;
	if (im->stopping)
		return;
	ev_timer_stop(im->h->loop, &im->timer);
	ev_timer_set(&im->timer, after, 0.);
	ev_timer_start(im->h->loop, &im->timer);
}

/* The round failed: logged once per streak, then backed off. */
static void
imap_fail(struct imap *im, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
imap_fail(struct imap *im, const char *fmt, ...)
{
	char why[512];
	va_list ap;
	double d;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	im->failures++;
	d = imap_backoff(im);
	if (im->failures == 1)
		log_warnx("imap: %s: %s; trying again in %.0fs, backing off "
		    "while it fails (said once)", im->key != NULL ? im->key :
		    "[mail] imap_url", why, d);
	else
		log_debug("imap: %s: %s (failure %d in a row)",
		    im->key != NULL ? im->key : "[mail] imap_url", why,
		    im->failures);
	imap_forget(im);
	imap_schedule(im, d);
}

/* The round went through: the next one after the interval. */
static void
imap_succeed(struct imap *im)
{
	double d = im->more ? IMAP_AGAIN : (double)im->h->cfg.imap_interval;

	if (im->failures > 0)
		log_info("imap: %s: working again after %d failed rounds",
		    im->key, im->failures);
	log_debug("imap: %s: round done, UID %lld settled", im->key,
	    (long long)im->last_uid);
	im->failures = 0;
	imap_forget(im);
	imap_schedule(im, d);
}

static int
imap_loopback(const char *host)
{
	return strcmp(host, "localhost") == 0 ||
	    strncmp(host, "127.", 4) == 0 || strcmp(host, "[::1]") == 0;
}

/* An IMAP quoted string can carry the name: ASCII, no quote, backslash. */
static int
imap_box_ok(const char *box)
{
	const unsigned char *p;

	for (p = (const unsigned char *)box; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e || *p == '"' || *p == '\\')
			return 0;
	return *box != '\0';
}

/* The mailbox of the URL's path: decoded, up to any ";" parameter. */
static int
imap_box_from_path(struct imap *im, const char *path)
{
	char *raw, *dec;
	size_t n;

	while (*path == '/')
		path++;
	n = strcspn(path, ";/?");
	raw = n > 0 ? xstrndup(path, n) : xstrdup("INBOX");
	dec = curl_easy_unescape(im->easy, raw, 0, NULL);
	if (dec == NULL || !imap_box_ok(dec)) {
		if (dec != NULL)
			curl_free(dec);
		free(raw);
		return -1;
	}
	im->box = xstrdup(dec);
	curl_free(dec);
	im->box_url = raw;
	return 0;
}

/* This round's base URL, mailbox and key from [mail] imap_url. */
static int
imap_parse_url(struct imap *im, const char *url, char *err, size_t errlen)
{
	char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
	CURLU *u = curl_url();
	int rc = -1;

	if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK || curl_url_get(u, CURLUPART_PATH, &path, 0) !=
	    CURLUE_OK)
		snprintf(err, errlen, "[mail] imap_url is not a URL");
	else if (strcmp(scheme, "imap") != 0 && strcmp(scheme, "imaps") != 0)
		snprintf(err, errlen, "[mail] imap_url must be imap:// or "
		    "imaps://");
	else if (imap_box_from_path(im, path) == -1)
		snprintf(err, errlen, "[mail] imap_url names a mailbox heard "
		    "cannot quote (ASCII names only)");
	else {
		im->base = xasprintf("%s://%s:%s/", scheme, host, port);
		im->host = xstrdup(host);
		im->key = xasprintf("%s%s", im->base, im->box_url);
		rc = 0;
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_free(path);
	curl_url_cleanup(u);
	return rc;
}

/* The first line of the password file; NULL (and err) if unreadable. */
static char *
imap_password(const char *path, char *err, size_t errlen)
{
	char line[IMAP_PASSWORD_MAX + 2];
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0') {
		snprintf(err, errlen, "%s: no password in its first line",
		    path);
		return NULL;
	}
	return xstrdup(line);
}

int
imap_check_config(struct heard *h, char *err, size_t errlen)
{
	const struct config *c = &h->cfg;
	char *pw;

	if (c->imap_url == NULL)
		return 0;
	if (c->reply_domain == NULL || c->secret_file == NULL) {
		snprintf(err, errlen, "[mail] imap_url needs reply_domain and "
		    "secret_file to check the replies it reads");
		return -1;
	}
	if (heard_load_secret(h, err, errlen) == -1)
		return -1;
	if (c->imap_password_file == NULL)
		return 0;
	if ((pw = imap_password(c->imap_password_file, err, errlen)) == NULL)
		return -1;
	explicit_bzero(pw, strlen(pw));
	free(pw);
	return 0;
}

/* What every transfer of the round shares: credentials, TLS, limits. */
static int
imap_setup(struct imap *im, const char *host_tls, char *err, size_t errlen)
{
	const struct config *c = &im->h->cfg;
	CURL *e = im->easy;
	char *pw = NULL;
	int rc = 0;

	if (c->imap_password_file != NULL &&
	    (pw = imap_password(c->imap_password_file, err, errlen)) == NULL)
		return -1;
	rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "imap,imaps");
	rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT, c->timeout);
	rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, c->connect_timeout);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
	rc |= curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
	if (c->ca_file != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_CAINFO, c->ca_file);
	/* Off the machine, a password never travels in clear. */
	rc |= curl_easy_setopt(e, CURLOPT_USE_SSL, imap_loopback(host_tls) ?
	    (long)CURLUSESSL_TRY : (long)CURLUSESSL_ALL);
	if (c->imap_user != NULL)
		rc |= curl_easy_setopt(e, CURLOPT_USERNAME, c->imap_user);
	if (pw != NULL) {
		rc |= curl_easy_setopt(e, CURLOPT_PASSWORD, pw);
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, imap_write_cb);
	rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, &im->buf);
	if (rc != 0)
		snprintf(err, errlen, "curl refuses the IMAP options");
	return rc != 0 ? -1 : 0;
}

static void	imap_done(void *arg, int code, const char *error);

/* One transfer of the round: url, and command (NULL: fetch the URL). */
static void
imap_transfer(struct imap *im, enum imap_step step, const char *url,
    const char *command)
{
	imap_buf_reset(&im->buf);
	im->step = step;
	if (curl_easy_setopt(im->easy, CURLOPT_URL, url) != CURLE_OK ||
	    curl_easy_setopt(im->easy, CURLOPT_CUSTOMREQUEST, command) !=
	    CURLE_OK || fetch_easy_add(im->h->fetch, im->easy, imap_done,
	    im) == -1)
		imap_fail(im, "curl refuses the transfer");
}

/* The number after "[NAME " in the EXAMINE answer; 0 if absent. */
static int64_t
imap_code(const char *text, const char *name)
{
	const char *p = strstr(text, name);
	long long v;

	if (p == NULL)
		return 0;
	v = strtoll(p + strlen(name), NULL, 10);
	return v > 0 && v <= UINT32_MAX ? (int64_t)v : 0;
}

static int
imap_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The UIDs of "* SEARCH" lines past last_uid, ascending, capped. */
static void
imap_parse_search(struct imap *im, const char *text)
{
	const char *p = text;
	size_t cap = 0;
	long long v;
	char *end;

	while ((p = strstr(p, "* SEARCH")) != NULL) {
		p += 8;
		while (*p == ' ') {
			v = strtoll(p + 1, &end, 10);
			if (end == p + 1)
				break;
			p = end;
			if (v <= im->last_uid || v > UINT32_MAX)
				continue;
			if (im->nuids == cap) {
				cap = cap ? cap * 2 : 64;
				im->uids = xrealloc(im->uids, cap *
				    sizeof(*im->uids));
			}
			im->uids[im->nuids++] = v;
		}
	}
	if (im->nuids > 1)
		qsort(im->uids, im->nuids, sizeof(*im->uids), imap_cmp);
	if (im->nuids > IMAP_BATCH) {
		im->nuids = IMAP_BATCH;
		im->more = 1;
	}
}

/* The next new message, or the end of the round. */
static void
imap_fetch_next(struct imap *im)
{
	char *url;

	if (im->stopping || im->next >= im->nuids) {
		imap_succeed(im);
		return;
	}
	url = xasprintf("%s%s;UIDVALIDITY=%lld;UID=%lld", im->base,
	    im->box_url, (long long)im->uidvalidity,
	    (long long)im->uids[im->next]);
	imap_transfer(im, IMAP_FETCH, url, NULL);
	free(url);
}

/* After EXAMINE: what the store remembers, then the search. */
static void
imap_examined(struct imap *im)
{
	int64_t validity, last;
	char cmd[64], *url;
	int rc;

	im->uidvalidity = imap_code(im->buf.data, "[UIDVALIDITY ");
	im->uidnext = imap_code(im->buf.data, "[UIDNEXT ");
	if (im->uidvalidity == 0) {
		imap_fail(im, "EXAMINE %s gave no UIDVALIDITY", im->box);
		return;
	}
	if ((rc = mailin_imap_get(im->h->store, im->key, &validity,
	    &last)) == -1) {
		imap_fail(im, "the store cannot be read");
		return;
	}
	if (rc == 1 && validity != im->uidvalidity)
		log_info("imap: %s: UIDVALIDITY is %lld, was %lld: reading "
		    "it again from UID 1 (mail already seen is skipped by "
		    "its Message-ID)", im->key, (long long)im->uidvalidity,
		    (long long)validity);
	im->last_uid = rc == 1 && validity == im->uidvalidity ? last : 0;
	if (im->uidnext != 0 && im->uidnext <= im->last_uid + 1) {
		imap_succeed(im);
		return;
	}
	snprintf(cmd, sizeof(cmd), "UID SEARCH UID %lld:*",
	    (long long)im->last_uid + 1);
	url = xasprintf("%s%s", im->base, im->box_url);
	imap_transfer(im, IMAP_SEARCH, url, cmd);
	free(url);
}

/* The UID is done with: saved, so it is never fetched again. */
static int
imap_advance(struct imap *im, int64_t uid)
{
	im->last_uid = uid;
	im->next++;
	if (mailin_imap_set(im->h->store, im->key, im->uidvalidity, uid,
	    (int64_t)time(NULL)) == -1) {
		imap_fail(im, "the store cannot record UID %lld",
		    (long long)uid);
		return -1;
	}
	return 0;
}

/* After one message's fetch: settle it, then the next. */
static void
imap_fetched(struct imap *im)
{
	struct mail_in_report rep;
	int64_t uid = im->uids[im->next];
	enum mail_in_status st;

	st = mail_in_process(im->h, im->buf.data != NULL ? im->buf.data : "",
	    im->buf.len, "imap", (int64_t)time(NULL), &rep);
	if (st == MAIL_IN_TEMPFAIL) {
		imap_fail(im, "UID %lld cannot be settled now: %s",
		    (long long)uid, rep.reason);
		return;
	}
	if (st == MAIL_IN_NOT_MAIL)
		log_warnx("imap: %s: UID %lld is not a mail heard can read "
		    "(%s); skipped", im->key, (long long)uid, rep.reason);
	if (imap_advance(im, uid) == 0)
		imap_fetch_next(im);
}

static void
imap_done(void *arg, int code, const char *error)
{
	struct imap *im = arg;
	int64_t uid;

	if (code == CURLE_WRITE_ERROR && im->buf.over &&
	    im->step == IMAP_FETCH) {
		uid = im->uids[im->next];
		log_warnx("imap: %s: UID %lld is over %d bytes; skipped",
		    im->key, (long long)uid, MAIL_MAX_BYTES);
		if (imap_advance(im, uid) == 0)
			imap_fetch_next(im);
		return;
	}
	if (code != CURLE_OK) {
		imap_fail(im, "%s", error != NULL && *error != '\0' ? error :
		    curl_easy_strerror((CURLcode)code));
		return;
	}
	if (im->step == IMAP_EXAMINE)
		imap_examined(im);
	else if (im->step == IMAP_SEARCH) {
		imap_parse_search(im, im->buf.data != NULL ? im->buf.data :
		    "");
		imap_fetch_next(im);
	} else
		imap_fetched(im);
}

/* A round: the config as it is now, then EXAMINE. */
static void
imap_round(struct imap *im)
{
	const char *url = im->h->cfg.imap_url;
	char err[512], cmd[300];

	if (im->stopping)
		return;
	if (url == NULL) {
		imap_schedule(im, (double)im->h->cfg.imap_interval);
		return;
	}
	imap_forget(im);
	if (imap_parse_url(im, url, err, sizeof(err)) == -1) {
		imap_fail(im, "%s", err);
		return;
	}
	if (imap_setup(im, im->host, err, sizeof(err)) == -1) {
		imap_fail(im, "%s", err);
		return;
	}
	snprintf(cmd, sizeof(cmd), "EXAMINE \"%s\"", im->box);
	imap_transfer(im, IMAP_EXAMINE, im->base, cmd);
}

static void
imap_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)loop;
	(void)revents;
	imap_round(w->data);
}

struct imap *
imap_new(struct heard *h)
{
	struct imap *im = xcalloc(1, sizeof(*im));

	im->h = h;
	if ((im->easy = curl_easy_init()) == NULL)
		fatal("imap: curl_easy_init failed");
	ev_timer_init(&im->timer, imap_timer_cb, 0., 0.);
	im->timer.data = im;
	return im;
}

void
imap_free(struct imap *im)
{
	if (im == NULL)
		return;
	ev_timer_stop(im->h->loop, &im->timer);
	if (im->step != IMAP_IDLE)
		fetch_easy_remove(im->h->fetch, im->easy);
	curl_easy_cleanup(im->easy);
	imap_forget(im);
	free(im->buf.data);
	free(im);
}

void
imap_start(struct imap *im)
{
	im->stopping = 0;
	imap_schedule(im, 0.);
}

void
imap_stop(struct imap *im)
{
	im->stopping = 1;
	ev_timer_stop(im->h->loop, &im->timer);
}

int
imap_busy(const struct imap *im)
{
	return im->step != IMAP_IDLE;
}
