/* thread_query: the thread list, counts and view one user may see. */
#ifndef HEARD_THREAD_QUERY_H
#define HEARD_THREAD_QUERY_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

#define TQ_LIMIT_DEFAULT	50
#define TQ_LIMIT_MAX		200
/* Longest search text, and most words in it. */
#define TQ_Q_MAX		200
#define TQ_Q_WORDS		12
/* Characters of the newest message shown in a list item. */
#define TQ_SNIPPET		160

/* What to list; every pointer borrowed, NULL for "any". */
struct tq_filter {
	int64_t		 user_id;	/* the caller: access and unread */
	const char	*org;		/* ODS code */
	const char	*connector;
	const char	*status;	/* NULL: every status but hidden */
	int		 unread;	/* only those unread by the caller */
	int		 assigned_me;	/* only those assigned to the caller */
	const char	*severity;	/* low, normal, high, urgent */
	const char	*tag;
	const char	*q;		/* words to find in the messages */
	const char	*cursor;	/* next_cursor of the page before */
	int		 limit;		/* 1..TQ_LIMIT_MAX; 0: the default */
};

/*
 * A page of the threads the user may read that match f, newest
 * activity first: {"items": [...], "next_cursor": "..." | null}, each
 * item {"id","reference","channel_reference","org":{"code","name"},
 * "connector","source","subject","status","severity","assignee":
 * {"id","name"}|null,"tags":[],"messages","unread","first_at",
 * "last_at","snippet","first_response_at"}. Pages are keyed on
 * (last_at, id), so threads arriving meanwhile never shift a page.
 * NULL and err on failure; *bad is 1 when the fault is f's (an
 * unknown status or severity, a cursor heard did not make, a search
 * with no words), 0 for a store error.
 */
struct json_t	*thread_query_list(struct store *, const struct tq_filter *,
		    int *bad, char *err, size_t errlen);
/*
 * Unread and total threads (hidden ones aside) per organisation and
 * per connector over what the user may read: {"orgs":[{"code","name",
 * "unread","total"}],"connectors":[{"name","unread","total"}]}, NULL
 * on error.
 */
struct json_t	*thread_query_counts(struct store *, int64_t user_id);
/* The same for one organisation (its row id) when org is not NULL. */
struct json_t	*thread_query_counts_of(struct store *, int64_t user_id,
		    const int64_t *org);
/*
 * The organisation of thread id if the user may read it (1 and
 * *org_id), 0 if there is no such thread or the user may not read it
 * (the two look the same from outside), -1 on error.
 */
int		 thread_query_readable(struct store *, int64_t user_id,
		    int64_t id, int64_t *org_id);
/*
 * One thread as the list shows it plus "items", "replies", "tasks"
 * (threads_get_id's), "read_by": [{"user":{"id","name"},"read_at"}]
 * newest first, and "hidden_reason". The caller has checked access.
 * NULL if there is none, or on error.
 */
struct json_t	*thread_query_get(struct store *, int64_t user_id,
		    int64_t id);
/* The list item alone (no messages), NULL if none. */
struct json_t	*thread_query_item(struct store *, int64_t user_id,
		    int64_t id);

/*
 * The cursor for a page ending at (last_at, id): opaque text (base64url
 * of the two numbers) in out. Exposed for the tests.
 */
void		 thread_query_cursor(int64_t last_at, int64_t id,
		    char out[48]);
/* 0 and the two numbers, or -1 if s is not a cursor this code makes. */
int		 thread_query_cursor_parse(const char *s, int64_t *last_at,
		    int64_t *id);
/* 1 if name is a thread status (new ... hidden), a severity. */
int		 thread_query_status_ok(const char *name);
int		 thread_query_severity_ok(const char *name);

#endif
