/* buf: a growable byte buffer with a hard cap, for bodies off the wire. */
#ifndef HEARD_BUF_H
#define HEARD_BUF_H

#include <stddef.h>

struct buf {
	char	*data;	/* owned; always NUL-terminated after len */
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: no cap */
};

void	buf_init(struct buf *, size_t max);
void	buf_free(struct buf *);
void	buf_reset(struct buf *);
/* -1 if the cap would be exceeded; the buffer is then left as it was. */
int	buf_append(struct buf *, const void *, size_t);
int	buf_puts(struct buf *, const char *);
int	buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
