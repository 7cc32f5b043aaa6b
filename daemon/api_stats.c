/* api_stats: the JSON API's figures and the audit log. */
#include "api_stats.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "access.h"
#include "api.h"
#include "audit_list.h"
#include "heard.h"
#include "stats.h"

#define API_STATS_OBJECT_MAX	64
#define API_STATS_LIMIT		50

int
api_stats_get(struct api_req *req, struct api_resp *resp)
{
	const char *org = req->query(req, "org");
	json_t *st;

	if (org != NULL && strlen(org) > 16)
		return api_error(resp, 400, "bad_request", "org: an ODS code");
	if ((st = stats_json(req->h->store, req->user_id,
	    org != NULL && *org != '\0' ? org : NULL, req->now)) == NULL)
		return -1;
	return api_ok(resp, 200, st);
}

int
api_stats_audit(struct api_req *req, struct api_resp *resp)
{
	const char *object = req->query(req, "object");
	const char *lim = req->query(req, "limit");
	const char *cursor = req->query(req, "cursor");
	long limit = API_STATS_LIMIT;
	char err[256], *end;
	json_t *page;
	int rc, bad;

	if ((rc = access_check(req->h->store, req->user_id, 0,
	    ACCESS_ADMIN)) <= 0)
		return rc == 0 ? api_error(resp, 403, "forbidden", "only an "
		    "admin reads the audit log") : -1;
	if (object != NULL && (*object == '\0' ||
	    strlen(object) > API_STATS_OBJECT_MAX))
		return api_error(resp, 400, "bad_request", "object: like "
		    "thread:12, at most %d bytes", API_STATS_OBJECT_MAX);
	if (lim != NULL && ((limit = strtol(lim, &end, 10)) < 1 ||
	    limit > AUDIT_LIST_MAX || *end != '\0' || *lim < '0' ||
	    *lim > '9'))
		return api_error(resp, 400, "bad_request", "limit: a number "
		    "from 1 to %d", AUDIT_LIST_MAX);
	if (cursor != NULL && strlen(cursor) > 64)
		cursor = "!";	/* too long to be ours: refused below */
	if ((page = audit_list_json(req->h->store, object, (int)limit, cursor,
	    &bad, err, sizeof(err))) != NULL)
		return api_ok(resp, 200, page);
	return bad ? api_error(resp, 400, "bad_request", "%s", err) : -1;
}
