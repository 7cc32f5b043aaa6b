/* secret_file: the reply-token key, from a file only its owner reads. */
#include "secret_file.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "heard.h"
#include "reply_token.h"
#include "xmalloc.h"

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
