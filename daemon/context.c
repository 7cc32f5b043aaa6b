/* context: building and tearing down struct heard for a command. */
#include "context.h"


#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "fetch.h"
#include "heard.h"
#include "imap.h"
#include "httpd.h"
#include "log.h"
#include "mailer.h"
#include "poller.h"
#include "replier.h"
#include "store.h"
#include "xmalloc.h"

int
heard_config(struct heard *h, const char *config_path,
    const char *db_override, char *err, size_t errlen)
{
	memset(h, 0, sizeof(*h));
	config_defaults(&h->cfg);
	if (config_path != NULL) {
		if (config_load(config_path, &h->cfg, err, errlen) == -1)
			return -1;
		h->config_path = xstrdup(config_path);
	}
	if (db_override != NULL) {
		h->db_override = xstrdup(db_override);
		free(h->cfg.db_path);
		h->cfg.db_path = xstrdup(db_override);
	}
	log_set_level((enum log_level)h->cfg.log_level);
	return 0;
}

int
heard_open_store(struct heard *h, char *err, size_t errlen)
{
	h->store = store_open(h->cfg.db_path, err, errlen);
	return h->store == NULL ? -1 : 0;
}

void
heard_runtime_start(struct heard *h)
{
	h->loop = ev_default_loop(EVFLAG_AUTO);
	if (h->loop == NULL)
		fatal("cannot start the event loop");
	h->fetch = fetch_new(h);
	h->poller = poller_new(h);
	h->replier = replier_new(h);
}

void
heard_close(struct heard *h)
{
	if (h->mailer != NULL)
		mailer_free(h->mailer);
	httpd_free(h->httpd);
	if (h->imap != NULL)
		imap_free(h->imap);
	if (h->replier != NULL)
		replier_free(h->replier);
	if (h->poller != NULL)
		poller_free(h->poller);
	if (h->fetch != NULL)
		fetch_free(h->fetch);
	if (h->store != NULL)
		store_close(h->store);
	if (h->secret != NULL)
		explicit_bzero(h->secret, h->secret_len);
	free(h->secret);
	config_free(&h->cfg);
	free(h->config_path);
	free(h->db_override);
	memset(h, 0, sizeof(*h));
}

char *
heard_data_path(const char *name)
{
	const char *dir = getenv("HEARD_DATA_DIR");

	if (dir == NULL || *dir == '\0')
		dir = HEARD_SOURCE_DIR "/data";
	return xasprintf("%s/%s", dir, name);
}

char *
heard_web_path(void)
{
	const char *dir = getenv("HEARD_WEB_DIR");

	if (dir == NULL || *dir == '\0')
		dir = HEARD_SOURCE_DIR "/web";
	return xstrdup(dir);
}
