/* stats: figures over the conversations one user may read. */
#ifndef HEARD_STATS_H
#define HEARD_STATS_H

#include <stdint.h>

struct store;
struct json_t;

/*
 * {"threads":{"<status>":n},"connectors":{"<name>":n},"unread":n,
 * "messages_7d":n,"median_first_response_s":n|null} over the threads
 * the user may read, of org (an ODS code; NULL: all of them).
 * connectors and unread leave hidden threads out; messages_7d counts
 * messages dated in the 7 days before now; the median is over threads
 * that have had a first response (first_response_at - first_at).
 * An organisation heard does not know counts nothing. NULL on error.
 */
struct json_t	*stats_json(struct store *, int64_t user_id, const char *org,
		    int64_t now);

#endif
