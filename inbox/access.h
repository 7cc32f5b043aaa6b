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
 * read, for "org_id IN (...)"; a string literal, so that it can be
 * pasted into a static query for store_stmt. Admins see all. Agrees
 * with access_check (test_access checks every organisation).
 *
 * A UNION of one arm per way in, so that each arm is an index lookup
 * from the user's row: the user by rowid, then memberships by its
 * primary key (user_id, org_id), then the organisations commissioned
 * by organisations_parent and organisations_icb. CROSS JOIN pins
 * users as the outer loop of the admin arm, so a non-admin never
 * scans the organisations table.
 */
#define ACCESS_READABLE_ORGS_SQL \
	"SELECT o.id FROM users u CROSS JOIN organisations o" \
	" WHERE u.id = ?1 AND u.disabled = 0 AND u.role = 'admin'" \
	" UNION SELECT m.org_id FROM users u CROSS JOIN memberships m" \
	" WHERE u.id = ?1 AND u.disabled = 0 AND m.user_id = u.id" \
	" UNION SELECT o.id FROM users u CROSS JOIN memberships m" \
	" CROSS JOIN organisations p CROSS JOIN organisations o" \
	" WHERE u.id = ?1 AND u.disabled = 0 AND u.role = 'reviewer'" \
	" AND m.user_id = u.id AND p.id = m.org_id" \
	" AND o.parent_code = p.code" \
	" UNION SELECT o.id FROM users u CROSS JOIN memberships m" \
	" CROSS JOIN organisations p CROSS JOIN organisations o" \
	" WHERE u.id = ?1 AND u.disabled = 0 AND u.role = 'reviewer'" \
	" AND m.user_id = u.id AND p.id = m.org_id" \
	" AND o.icb_code = p.code"

#endif
