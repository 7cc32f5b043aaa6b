/* jsonout: the inbox's JSON values for times, text and nullable columns. */
#ifndef HEARD_JSONOUT_H
#define HEARD_JSONOUT_H

#include <stddef.h>
#include <stdint.h>

struct json_t;
struct sqlite3_stmt;

/* New JSON string of the ISO 8601 UTC time, or null for 0 ("never"). */
struct json_t	*jsonout_time(int64_t);
/*
 * New JSON string, or null for NULL. Text that is not UTF-8 (it should
 * never be; ingest repairs it) comes out repaired rather than lost.
 */
struct json_t	*jsonout_str(const char *);
/* Column i of a row as a JSON string / integer / time, null if NULL. */
struct json_t	*jsonout_col_str(struct sqlite3_stmt *, int);
struct json_t	*jsonout_col_int(struct sqlite3_stmt *, int);
struct json_t	*jsonout_col_time(struct sqlite3_stmt *, int);

/*
 * A copy of s with every byte that is not part of valid UTF-8 replaced
 * by U+FFFD; NULL if s is already valid (nothing to do) or NULL.
 */
char		*jsonout_utf8_repair(const char *s);

#endif
