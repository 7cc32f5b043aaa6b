/* heard: the context every daemon module is handed; no globals. */
#ifndef HEARD_HEARD_H
#define HEARD_HEARD_H

#include "config.h"

struct ev_loop;
struct store;
struct fetch;
struct poller;
struct replier;

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
};

#endif
