/* reply_submit: a staff reply from any door (command line, web, mail) on its way. */
#ifndef HEARD_REPLY_SUBMIT_H
#define HEARD_REPLY_SUBMIT_H

#include <stddef.h>
#include <stdint.h>

struct heard;
struct reply_thread;
struct reply_author;

enum reply_mode {
	REPLY_MODE_NONE,	/* the channel takes no replies (rss) */
	REPLY_MODE_API,		/* heard posts it */
	REPLY_MODE_HANDOFF,	/* staff post it by hand: a task */
};

/* "none", "api", "handoff". */
const char	*reply_mode_name(enum reply_mode);
/* How a reply on that connector travels; NONE for an unknown one. */
enum reply_mode	 reply_mode_of(const char *connector);

struct reply_submitted {
	int64_t		 reply_id;
	int64_t		 task_id;	/* handoff: its task; else 0 */
	enum reply_mode	 mode;
};

/*
 * Checks the text (replies_check_body), that the channel takes
 * replies and that the thread has a source whose settings configure,
 * then queues the reply for the replier (api; the replier is woken
 * when the daemon runs) or makes its "post this" task (handoff). t and
 * author are borrowed (author NULL: the operator); via is cli, web,
 * api or email. 0 and *out, or -1 with a one-line reason in err.
 */
int	reply_submit(struct heard *, const struct reply_thread *t,
	    const char *body, const struct reply_author *author,
	    const char *via, int64_t now, struct reply_submitted *out,
	    char *err, size_t errlen);

#endif
