/* access: who may read or act on an organisation's conversations. */
#include "access.h"

#include <string.h>

#include <sqlite3.h>

#include "store.h"

/*
 * The account and how it stands to the organisation: a member of it,
 * or a member of its ODS parent or ICB (how a commissioner's staff
 * see the providers they commission).
 */
static const char access_sql[] =
    "SELECT u.role, u.disabled,"
    " EXISTS (SELECT 1 FROM memberships m"
    "  WHERE m.user_id = u.id AND m.org_id = ?2),"
    " EXISTS (SELECT 1 FROM organisations o CROSS JOIN organisations p"
    "  CROSS JOIN memberships m WHERE o.id = ?2"
    "  AND p.code IN (o.parent_code, o.icb_code)"
    "  AND m.user_id = u.id AND m.org_id = p.id)"
    " FROM users u WHERE u.id = ?1";

/* The rule itself, from what access_sql found. */
static int
access_rule(const char *role, int member, int commissioner,
    int64_t org_id, enum access_need need)
{
	if (strcmp(role, "admin") == 0)
		return 1;
	if (need == ACCESS_ADMIN || org_id <= 0)
		return 0;
	if (strcmp(role, "lead") == 0)
		return member;
	if (strcmp(role, "reviewer") == 0)
		return need == ACCESS_READ && (member || commissioner);
	return 0;
}

int
access_check(struct store *s, int64_t user_id, int64_t org_id,
    enum access_need need)
{
	sqlite3_stmt *q;
	const char *role;
	int rc, ok = 0;

	if (user_id <= 0)
		return 0;
	if ((q = store_stmt(s, access_sql)) == NULL)
		return -1;
	sqlite3_bind_int64(q, 1, user_id);
	sqlite3_bind_int64(q, 2, org_id);
	if ((rc = sqlite3_step(q)) == SQLITE_ROW &&
	    sqlite3_column_int(q, 1) == 0 &&
	    (role = store_col_text(q, 0)) != NULL)
		ok = access_rule(role, sqlite3_column_int(q, 2),
		    sqlite3_column_int(q, 3), org_id, need);
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return -1;
	return ok;
}
