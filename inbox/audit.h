/* audit: the audit log of staff actions (and heard's own on their behalf). */
#ifndef HEARD_AUDIT_H
#define HEARD_AUDIT_H

#include <stdint.h>

struct store;
struct json_t;

/*
 * One audit_log row: at now, by user (0: heard itself or the operator,
 * stored as NULL), action ("login", "token.create"...), object
 * ("user:3", "thread:12"), detail a JSON object (taken, may be NULL;
 * never a password, a hash or a token). Joins the caller's
 * transaction if one is open. 0 or -1.
 */
int	audit_add(struct store *, int64_t now, int64_t user,
	    const char *action, const char *object, struct json_t *detail);

#endif
