/* secret_file: the reply-token key, from a file only its owner reads. */
#ifndef HEARD_SECRET_FILE_H
#define HEARD_SECRET_FILE_H

#include <stddef.h>

struct heard;

/*
 * Reads the reply-token key from [mail] secret_file into h->secret:
 * the file must be a regular file only its owner may read, of at
 * least REPLY_TOKEN_KEY_MIN bytes. 0 when no file is set (h->secret
 * stays NULL) or the key is already loaded; -1 with the reason in err.
 */
int	heard_load_secret(struct heard *, char *err, size_t errlen);

#endif
