/* heard: the context every daemon module is handed; no globals. */
#ifndef HEARD_HEARD_H
#define HEARD_HEARD_H

#include "config.h"
#include "metrics.h"

struct ev_loop;
struct store;
struct fetch;
struct poller;
struct replier;
struct mailer;
struct imap;
struct httpd;

struct heard {
	struct config	 cfg;		/* owned; replaced whole on reload */
	char		*config_path;	/* owned or NULL: defaults only */
	char		*db_override;	/* owned or NULL: --db */
	int		 demo;		/* serve --demo: file:// stays allowed
					   across reloads */
	struct store	*store;		/* owned */
	struct ev_loop	*loop;		/* borrowed: ev_default_loop */
	struct fetch	*fetch;		/* owned; curl multi on the loop */
	struct poller	*poller;	/* owned */
	struct replier	*replier;	/* owned; posts the reply outbox */
	struct mailer	*mailer;	/* owned or NULL: no [mail] smtp_url */
	struct imap	*imap;		/* owned or NULL: no [mail] imap_url */
	struct httpd	*httpd;		/* owned or NULL: not serving */
	struct metrics	 metrics;	/* counters since start, for /metrics */
	/* The reply-token key, from [mail] secret_file; owned, NULL none. */
	unsigned char	*secret;
	size_t		 secret_len;
};

#endif
