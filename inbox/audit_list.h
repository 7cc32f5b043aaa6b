/* audit_list: the audit log read back, newest first, a page at a time. */
#ifndef HEARD_AUDIT_LIST_H
#define HEARD_AUDIT_LIST_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

#define AUDIT_LIST_MAX	200

/*
 * {"items":[{"id","at","user":{"id","name"}|null,"action","object",
 * "detail"}],"next_cursor":"..."|null}, newest first, of object (NULL:
 * every object), limit (1..AUDIT_LIST_MAX) at most, after cursor (the
 * previous page's next_cursor, or NULL). NULL and err on failure,
 * *bad set when the cursor or limit is the fault.
 */
struct json_t	*audit_list_json(struct store *, const char *object,
		    int limit, const char *cursor, int *bad, char *err,
		    size_t errlen);

#endif
