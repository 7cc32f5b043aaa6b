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
 * "last_at"}; NULL on error.
 */
struct json_t	*threads_list(struct store *, const struct threads_filter *);
/*
 * That object plus "items": [{"id","external_id","direction","author",
 * "body","url","rating","created_at","updated_at"}], oldest first.
 * ref may be the numeric id or the public reference code.
 * NULL if there is no such thread.
 */
struct json_t	*threads_get(struct store *, const char *ref);

#endif
