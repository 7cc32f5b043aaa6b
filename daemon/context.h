/* context: building and tearing down struct heard for a command. */
#ifndef HEARD_CONTEXT_H
#define HEARD_CONTEXT_H

#include <stddef.h>

struct heard;

/*
 * Loads the config (defaults if config_path is NULL), applies --db,
 * and sets up logging. -1 with "file:line: reason" in err.
 */
int	heard_config(struct heard *, const char *config_path,
	    const char *db_override, char *err, size_t errlen);
/* Opens the database named by the config. -1 with a reason in err. */
int	heard_open_store(struct heard *, char *err, size_t errlen);
/* Creates the loop, the fetcher, the poller and the replier. */
void	heard_runtime_start(struct heard *);
/* Frees everything heard_* made. */
void	heard_close(struct heard *);

/*
 * Path of a file shipped in data/ (ODS lists, demo feeds): under
 * $HEARD_DATA_DIR if set, else the source tree's data/. Owned by caller.
 */
char	*heard_data_path(const char *name);
/*
 * The shipped web inbox's folder: $HEARD_WEB_DIR if set, else the
 * source tree's web/ ([http] web_root overrides both). Owned by caller.
 */
char	*heard_web_path(void);

#endif
