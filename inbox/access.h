/* access: who may read or act on an organisation's conversations. */
#ifndef HEARD_ACCESS_H
#define HEARD_ACCESS_H

#include <stdint.h>

struct store;

enum access_need {
	ACCESS_READ,	/* see threads, messages, "read by" */
	ACCESS_WRITE,	/* reply, status, assign, tags, hide */
	ACCESS_ADMIN,	/* sources, users, sign-up */
};

/*
 * 1 if the user may do it for org_id, 0 if not, -1 on error.
 * admin: everything. lead: read and write for their organisations.
 * reviewer: read for their organisations and every organisation whose
 * ODS parent (or ICB) is one of them. A disabled or unknown user: 0.
 * org_id 0 asks about no organisation in particular (ACCESS_ADMIN).
 */
int	access_check(struct store *, int64_t user_id, int64_t org_id,
	    enum access_need);
/*
 * SQL for the ids of the organisations the user (bound as ?1) may
 * read, for "org_id IN (...)"; static storage, fit for store_stmt
 * when pasted into a query at build time as a macro. Admins see all.
 */
#define ACCESS_READABLE_ORGS_SQL \
	"SELECT o.id FROM organisations o JOIN users u ON u.id = ?1" \
	" AND u.disabled = 0 WHERE u.role = 'admin'" \
	" OR o.id IN (SELECT m.org_id FROM memberships m" \
	"  WHERE m.user_id = u.id)" \
	" OR (u.role = 'reviewer' AND EXISTS (SELECT 1 FROM memberships m" \
	"  JOIN organisations p ON p.id = m.org_id WHERE m.user_id = u.id" \
	"  AND (o.parent_code = p.code OR o.icb_code = p.code)))"

#endif
