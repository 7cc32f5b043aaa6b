/* tasks: "post this" tasks, for channels where staff post replies by hand. */
#ifndef HEARD_TASKS_H
#define HEARD_TASKS_H

#include <stdint.h>

struct store;
struct json_t;

/*
 * How far before a task an organisation's reply on the channel may be
 * dated and still close it: some channels date a post by its day only,
 * so a reply posted an hour after the task may read as midnight.
 */
#define TASKS_DATE_SLACK	(24 * 3600)

/*
 * Opens a task on the thread: text to copy (borrowed), url where the
 * organisation responds (borrowed; NULL if none is known), and the
 * reply it stands for (0 none). Runs in the caller's transaction if
 * one is open. Returns the task's id, or -1.
 */
int64_t		 tasks_open(struct store *, int64_t thread_id,
		    int64_t reply_id, const char *text, const char *url,
		    int64_t now);
/*
 * The organisation's own reply, message_id, dated created_at, has just
 * appeared in the thread on the channel: it closes the oldest open
 * task made before it (within TASKS_DATE_SLACK), at now, and notes the
 * message. One message closes one task. Returns the task's id, 0 if
 * none was open, -1 on error.
 */
int64_t		 tasks_close_seen(struct store *, int64_t thread_id,
		    int64_t message_id, int64_t created_at, int64_t now);
/*
 * New JSON array of the thread's tasks, oldest first: {"id", "text",
 * "url", "created_at", "closed_at", "reply", "closed_by"} (closed_by:
 * the message that closed it). NULL on error.
 */
struct json_t	*tasks_json(struct store *, int64_t thread_id);

#endif
