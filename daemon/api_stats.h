/* api_stats: the JSON API's figures and the audit log. */
#ifndef HEARD_API_STATS_H
#define HEARD_API_STATS_H

struct api_req;
struct api_resp;

/* GET /api/v1/stats?org=. */
int	api_stats_get(struct api_req *, struct api_resp *);
/* GET /api/v1/audit?object=&limit=&cursor= (admin). */
int	api_stats_audit(struct api_req *, struct api_resp *);

#endif
