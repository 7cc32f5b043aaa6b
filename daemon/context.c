/* context: building and tearing down struct heard for a command. */
#include "context.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ev.h>

#include "fetch.h"
#include "heard.h"
#include "imap.h"
#include "httpd.h"
#include "log.h"
#include "mailer.h"
#include "poller.h"
#include "replier.h"
#include "reply_token.h"
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

/* Longest reply-token key file read; a key is 32 to 4096 bytes. */
#define HEARD_SECRET_MAX	4096

static int
heard_secret_fail(const char *path, const char *why, char *err,
    size_t errlen)
{
	snprintf(err, errlen, "[mail] secret_file %s: %s", path, why);
	return -1;
}

/* The whole file, after checking that only its owner can read it. */
static int
heard_secret_read(struct heard *h, int fd, const char *path, char *err,
    size_t errlen)
{
	unsigned char buf[HEARD_SECRET_MAX + 1];
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) == -1)
		return heard_secret_fail(path, strerror(errno), err, errlen);
	if (!S_ISREG(st.st_mode))
		return heard_secret_fail(path, "not a regular file", err,
		    errlen);
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		return heard_secret_fail(path, "group or others may read it; "
		    "chmod 600 it", err, errlen);
	if ((n = read(fd, buf, sizeof(buf))) < 0)
		return heard_secret_fail(path, strerror(errno), err, errlen);
	if (n < REPLY_TOKEN_KEY_MIN || n > HEARD_SECRET_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return heard_secret_fail(path, n < REPLY_TOKEN_KEY_MIN ?
		    "shorter than 32 bytes (make one with: head -c 32 "
		    "/dev/urandom > FILE)" : "longer than 4096 bytes", err,
		    errlen);
	}
	h->secret = xmalloc((size_t)n);
	memcpy(h->secret, buf, (size_t)n);
	h->secret_len = (size_t)n;
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

int
heard_load_secret(struct heard *h, char *err, size_t errlen)
{
	const char *path = h->cfg.secret_file;
	int fd, rc;

	if (h->secret != NULL || path == NULL)
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1)
		return heard_secret_fail(path, strerror(errno), err, errlen);
	rc = heard_secret_read(h, fd, path, err, errlen);
	close(fd);
	return rc;
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
