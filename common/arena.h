/* arena: bump allocation for one request's outputs, freed all at once. */
#ifndef HEARD_ARENA_H
#define HEARD_ARENA_H

#include <stddef.h>

struct arena_chunk;

struct arena {
	struct arena_chunk	*head;	/* owned: list of chunks */
	size_t			 used;	/* bytes handed out, for caps */
};

void	 arena_init(struct arena *);
/* Frees every chunk; the arena may be used again. */
void	 arena_free(struct arena *);
/* Zeroed memory aligned for any type, owned by the arena. */
void	*arena_alloc(struct arena *, size_t);
char	*arena_strdup(struct arena *, const char *);
char	*arena_strndup(struct arena *, const char *, size_t);
char	*arena_printf(struct arena *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
