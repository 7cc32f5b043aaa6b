/* xmalloc: allocation that cannot fail; inputs are bounded at the edge. */
#ifndef HEARD_XMALLOC_H
#define HEARD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* Returns a newly allocated string, owned by the caller. */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

#endif
