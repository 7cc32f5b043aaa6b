/* thread_list: conversations per organisation, listed and shown. */
#ifndef HEARD_THREAD_LIST_H
#define HEARD_THREAD_LIST_H

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
 * "last_at","first_response_at","assignee","channel_reference"};
 * NULL on error or an unknown status. Hidden threads are listed only
 * when status is "hidden"; an unknown organisation has none.
 */
struct json_t	*threads_list(struct store *, const struct threads_filter *);
/*
 * ref is heard's id, its H- reference code, or else the channel's own
 * reference ("channel_reference", e.g. an Open311 service request id).
 * That object plus "items": [{"id","external_id","direction","author",
 * "body","url","rating","created_at","updated_at"}], oldest first,
 * each also with "author_handle", "title", "parent_external_id",
 * "channel_status", "hidden", "hidden_reason", "removed_at_source".
 * Each item also has "meta", the channel's extras, when it has any.
 * Then "tasks" (tasks.h: what staff are to post by hand) and
 * "replies" (replies.h: the thread's outbox), oldest first.
 * NULL if there is no such thread.
 */
struct json_t	*threads_get(struct store *, const char *ref);
/*
 * The same for heard's id alone (never a reference code or the
 * channel's), as the web API asks; NULL if there is no such thread.
 */
struct json_t	*threads_get_id(struct store *, int64_t id);
/*
 * The id of the thread ref names (numeric id, or reference code as a
 * patient reads it out); 0 if it names none.
 */
int64_t		 threads_id(struct store *, const char *ref);

#endif
