/* serve: the daemon's main loop: polling, signals, reload, clean exit. */
#ifndef HEARD_SERVE_H
#define HEARD_SERVE_H

struct heard;

/*
 * Runs the loop until SIGTERM or SIGINT, then lets in-flight polls
 * and reply posts finish (a few seconds at most) and returns 0. SIGHUP
 * reloads the config file, all or nothing, and the sources. Needs
 * h->loop, h->fetch, h->poller (started or not), h->replier and
 * h->store. -1 if the sources or the reply outbox cannot be read at
 * start.
 */
int	serve_run(struct heard *h);
/*
 * Holds SIGTERM, SIGINT and SIGHUP pending until serve_run handles
 * them; call it first thing, so a signal during start-up (seeding the
 * demo, opening the store) ends in a clean stop instead of death.
 */
void	serve_hold_signals(void);

#endif
