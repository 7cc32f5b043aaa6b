/* thread_actions: staff changes to a thread: status, assignee, tags... */
#ifndef HEARD_THREAD_ACTIONS_H
#define HEARD_THREAD_ACTIONS_H

#include <stddef.h>
#include <stdint.h>

struct store;

/* Most tags on a thread, and longest tag in bytes once normalised. */
#define TA_TAGS_MAX	20
#define TA_TAG_LEN	40
/* Longest reason for hiding a thread, in bytes. */
#define TA_REASON_MAX	500

/* Why an action was refused. */
enum ta_fault {
	TA_OK,
	TA_INVALID,	/* the value is not acceptable (bad status, blank) */
	TA_CONFLICT,	/* the thread is not in a state for it */
	TA_MISSING,	/* no such thread */
	TA_STORE,	/* the database failed */
};

/*
 * Each action below is one transaction: it checks the thread's state,
 * changes it, and writes an audit_log row by user (action "thread.*",
 * object "thread:<id>", a detail naming what changed, never message
 * text or a patient's details). The caller has checked the user's
 * access. TA_OK, or the fault with a one-line reason in err.
 *
 * status: any status but hidden (hide does that), and not while the
 * thread is hidden (unhide first).
 */
enum ta_fault	thread_set_status(struct store *, int64_t id,
		    const char *status, int64_t user, int64_t now, char *err,
		    size_t errlen);
/*
 * assignee 0 unassigns; otherwise an enabled account that may read the
 * thread's organisation (access_check), else TA_INVALID.
 */
enum ta_fault	thread_assign(struct store *, int64_t id, int64_t assignee,
		    int64_t user, int64_t now, char *err, size_t errlen);
/* low, normal, high or urgent. */
enum ta_fault	thread_set_severity(struct store *, int64_t id,
		    const char *severity, int64_t user, int64_t now, char *err,
		    size_t errlen);
/*
 * Replaces the thread's tags with tags (n of them, each normalised by
 * thread_tag_normal; duplicates after that count once).
 */
enum ta_fault	thread_set_tags(struct store *, int64_t id,
		    const char *const *tags, size_t n, int64_t user,
		    int64_t now, char *err, size_t errlen);
/*
 * Hides the thread (status hidden) for reason (required, not blank,
 * at most TA_REASON_MAX bytes), keeping the status it had for unhide.
 * Nothing is deleted. Unhide puts that status back.
 */
enum ta_fault	thread_hide(struct store *, int64_t id, const char *reason,
		    int64_t user, int64_t now, char *err, size_t errlen);
enum ta_fault	thread_unhide(struct store *, int64_t id, int64_t user,
		    int64_t now, char *err, size_t errlen);

/*
 * A tag as stored: blanks trimmed, runs of blanks one space, ASCII
 * letters in lower case; 1 to TA_TAG_LEN bytes of UTF-8 without
 * control characters. 0 and out (TA_TAG_LEN + 1 bytes), or -1.
 */
int		thread_tag_normal(const char *in, char *out);

#endif
