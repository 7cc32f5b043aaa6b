/* threads: conversations per organisation, listed and shown. */
#ifndef HEARD_THREADS_H
#define HEARD_THREADS_H

#include <stdint.h>

struct store;
struct json_t;

struct threads_filter {
	const char	*org;		/* ODS code or NULL */
	const char	*status;	/* new, open, ... or NULL */
	int		 limit;		/* 0: no limit */
};

/*
 * New JSON array, newest activity first, of {"id","org","connector",
 * "source","reference","subject","status","messages","first_at",
 * "last_at","first_response_at","assignee"}; NULL on error or an
 * unknown status. Hidden threads are listed only when status is
 * "hidden"; an unknown organisation has none.
 */
struct json_t	*threads_list(struct store *, const struct threads_filter *);
/*
 * That object plus "items": [{"id","external_id","direction","author",
 * "body","url","rating","created_at","updated_at"}], oldest first,
 * each also with "author_handle", "title", "parent_external_id",
 * "channel_status", "hidden", "hidden_reason", "removed_at_source".
 * ref may be the numeric id or the public reference code.
 * NULL if there is no such thread.
 */
struct json_t	*threads_get(struct store *, const char *ref);

#endif
