/* serve: the daemon's main loop: polling, signals, reload, clean exit. */
#include "serve.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "config.h"
#include "secret_file.h"
#include "fetch.h"
#include "heard.h"
#include "httpd.h"
#include "imap.h"
#include "log.h"
#include "mailer.h"
#include "poller.h"
#include "replier.h"
#include "xmalloc.h"

/* SIGTERM waits this long for polls and posts in flight, then leaves. */
#define SERVE_GRACE	5.0
/* How often it looks whether they are done. */
#define SERVE_CHECK	0.05

struct serve {
	struct heard	*h;		/* borrowed */
	ev_signal	 sigterm;
	ev_signal	 sigint;
	ev_signal	 sighup;
	ev_timer	 drain;		/* while stopping */
	ev_timer	 resync;	/* re-reads the sources */
	ev_tstamp	 deadline;	/* of the drain */
	int		 stopping;
};

static void
serve_drain_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct serve *s = w->data;
	int busy = poller_busy(s->h->poller);
	int posts = replier_busy(s->h->replier);
	int mails = mailer_busy(s->h->mailer);
	int imap = s->h->imap != NULL ? imap_busy(s->h->imap) : 0;

	(void)revents;
	if (busy + posts + mails + imap > 0 && ev_now(loop) < s->deadline)
		return;
	if (busy > 0)
		log_warnx("heard: %d polls unfinished; they run again at the "
		    "next start", busy);
	/* Left 'posting': the next start marks them for a person to check. */
	if (posts > 0)
		log_warnx("heard: %d replies still posting; their outcome is "
		    "unknown", posts);
	/* Still queued: sent again at the next start (at least once). */
	if (mails > 0)
		log_warnx("heard: %d mails still sending; they go again at "
		    "the next start", mails);
	ev_break(loop, EVBREAK_ALL);
}

/* One pass over the sources table; new ones are scheduled at once. */
static void
serve_resync_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct serve *s = w->data;

	(void)loop;
	(void)revents;
	if (s->stopping)
		return;
	poller_reload(s->h->poller);
	/* A reload may have changed poll.resync. */
	w->repeat = (ev_tstamp)s->h->cfg.resync;
	ev_timer_again(loop, w);
}

/* First signal: finish what is in flight. Second: leave now. */
static void
serve_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct serve *s = w->data;

	(void)revents;
	if (s->stopping) {
		log_info("heard: signal %d again: leaving now", w->signum);
		ev_break(loop, EVBREAK_ALL);
		return;
	}
	s->stopping = 1;
	ev_timer_stop(loop, &s->resync);
	poller_stop(s->h->poller);
	replier_stop(s->h->replier);
	mailer_stop(s->h->mailer);
	/* No new requests; answers already queued go with the server. */
	httpd_free(s->h->httpd);
	s->h->httpd = NULL;
	if (s->h->imap != NULL)
		imap_stop(s->h->imap);
	log_info("heard: signal %d: stopping, %d polls in flight", w->signum,
	    poller_busy(s->h->poller));
	s->deadline = ev_now(loop) + SERVE_GRACE;
	ev_timer_start(loop, &s->drain);
}

/* What a reload may not change under a running daemon. */
static void
serve_keep(struct heard *h, struct config *next)
{
	const char *now = h->cfg.db_path != NULL ? h->cfg.db_path : "";

	/* The store stays open on the file it was opened on. */
	if (h->db_override == NULL && (next->db_path == NULL ||
	    strcmp(next->db_path, now) != 0))
		log_warnx("heard: store.path changed; it takes effect at "
		    "the next start");
	free(next->db_path);
	next->db_path = xstrdup(now);
	/* So do the HTTP server's socket and web root. */
	if (next->listen != NULL && h->cfg.listen != NULL &&
	    strcmp(next->listen, h->cfg.listen) != 0) {
		log_warnx("heard: http.listen changed; it takes effect at "
		    "the next start");
		free(next->listen);
		next->listen = xstrdup(h->cfg.listen);
	}
	if (h->demo)
		next->allow_file_urls = 1;
}

/* All or nothing: a config that does not load leaves the old in place. */
static void
serve_reload(struct heard *h)
{
	struct config next;
	char err[512];

	if (h->config_path == NULL) {
		log_info("heard: SIGHUP: no config file; re-reading sources");
		poller_reload(h->poller);
		replier_wake(h->replier);
		return;
	}
	memset(&next, 0, sizeof(next));
	if (config_load(h->config_path, &next, err, sizeof(err)) == -1) {
		log_warnx("%s (reload refused; the old config stays)", err);
		return;
	}
	serve_keep(h, &next);
	config_free(&h->cfg);
	h->cfg = next;
	log_set_level((enum log_level)h->cfg.log_level);
	fetch_reconfigure(h->fetch, &h->cfg);
	poller_reload(h->poller);
	replier_wake(h->replier);
	mailer_reload(h->mailer);
	mailer_wake(h->mailer);
	log_info("heard: reloaded %s; serving %zu sources", h->config_path,
	    poller_sources(h->poller));
}

static void
serve_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	struct serve *s = w->data;

	(void)loop;
	(void)revents;
	if (!s->stopping)
		serve_reload(s->h);
}

static void
serve_watch(struct serve *s, ev_signal *w, void (*cb)(struct ev_loop *,
    ev_signal *, int), int signum)
{
	ev_signal_init(w, cb, signum);
	w->data = s;
	ev_signal_start(s->h->loop, w);
}

static void
serve_signals(int how)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(how, &set, NULL);
}

void
serve_hold_signals(void)
{
	serve_signals(SIG_BLOCK);
}

static void
serve_unwatch(struct serve *s)
{
	ev_timer_stop(s->h->loop, &s->drain);
	ev_timer_stop(s->h->loop, &s->resync);
	ev_signal_stop(s->h->loop, &s->sigterm);
	ev_signal_stop(s->h->loop, &s->sigint);
	ev_signal_stop(s->h->loop, &s->sighup);
}

/* The mailer, when [mail] smtp_url is set; -1 if its settings are bad. */
static int
serve_mail(struct heard *h)
{
	char err[512];

	if (h->mailer != NULL)
		return 0;
	if (h->cfg.smtp_url != NULL && heard_load_secret(h, err,
	    sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	if ((h->mailer = mailer_new(h, err, sizeof(err))) != NULL)
		return 0;
	if (err[0] != '\0') {
		log_warnx("%s", err);
		return -1;
	}
	log_info("heard: no [mail] smtp_url: no mail is sent; "
	    "notifications wait in the outbox");
	return 0;
}

/* Replies by IMAP, when [mail] imap_url is set; -1 if it cannot be. */
static int
serve_imap(struct heard *h)
{
	char err[512];

	if (h->cfg.imap_url == NULL || h->imap != NULL)
		return 0;
	if (h->cfg.reply_domain == NULL || h->cfg.secret_file == NULL) {
		log_warnx("heard: [mail] imap_url needs reply_domain and "
		    "secret_file to check the replies it reads");
		return -1;
	}
	if (heard_load_secret(h, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return -1;
	}
	h->imap = imap_new(h);
	imap_start(h->imap);
	return 0;
}

/* The web inbox and the API; -1 (logged) if it cannot listen. */
static int
serve_http(struct heard *h)
{
	char err[512];

	if (h->httpd != NULL)
		return 0;
	if ((h->httpd = httpd_start(h, err, sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return -1;
	}
	return 0;
}

int
serve_run(struct heard *h)
{
	struct serve s;

	memset(&s, 0, sizeof(s));
	s.h = h;
	/* A peer that hangs up is an error on its transfer, not our end. */
	signal(SIGPIPE, SIG_IGN);
	serve_watch(&s, &s.sigterm, serve_stop_cb, SIGTERM);
	serve_watch(&s, &s.sigint, serve_stop_cb, SIGINT);
	serve_watch(&s, &s.sighup, serve_hup_cb, SIGHUP);
	ev_timer_init(&s.drain, serve_drain_cb, SERVE_CHECK, SERVE_CHECK);
	s.drain.data = &s;
	/* Sources added or changed from the command line while we run. */
	ev_timer_init(&s.resync, serve_resync_cb, (ev_tstamp)h->cfg.resync,
	    (ev_tstamp)h->cfg.resync);
	s.resync.data = &s;
	/* Watchers are in place: what arrived meanwhile is handled now. */
	serve_signals(SIG_UNBLOCK);
	if (serve_http(h) == -1 ||
	    serve_mail(h) == -1 || serve_imap(h) == -1 ||
	    poller_start(h->poller) == -1 ||
	    replier_start(h->replier) == -1 ||
	    (h->mailer != NULL && mailer_start(h->mailer) == -1)) {
		serve_unwatch(&s);
		return -1;
	}
	ev_timer_start(h->loop, &s.resync);
	log_info("heard: serving %zu sources", poller_sources(h->poller));
	ev_run(h->loop, 0);
	serve_unwatch(&s);
	log_info("heard: stopped");
	return 0;
}
