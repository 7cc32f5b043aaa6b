/* log: one place for diagnostics, to stderr (journald) with a level. */
#ifndef HEARD_LOG_H
#define HEARD_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LVL_WARN = 0,
	LOG_LVL_INFO = 1,
	LOG_LVL_DEBUG = 2,
};

void	log_init(enum log_level, const char *progname);
void	log_set_level(enum log_level);
/* Parses "warn", "info" or "debug"; -1 if unknown. */
int	log_level_parse(const char *, enum log_level *);
/* log_warn appends strerror(errno); log_warnx does not. */
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Only at start-up or for a broken invariant: never for network bytes. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
