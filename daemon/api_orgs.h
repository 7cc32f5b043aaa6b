/* api_orgs: the API's organisations: search, channels, sign-up. */
#ifndef HEARD_API_ORGS_H
#define HEARD_API_ORGS_H

struct api_req;
struct api_resp;

/* Longest search text; most results; most sources and leads a sign-up. */
#define API_ORGS_Q_MAX		100
#define API_ORGS_LIMIT_MAX	50
#define API_ORGS_SIGNUP_MAX	20

/* GET /api/v1/organisations?q=, /organisations/{code}. */
int	api_orgs_search(struct api_req *, struct api_resp *);
int	api_orgs_get(struct api_req *, struct api_resp *);
/* POST /api/v1/organisations/{code}/signup (admin). */
int	api_orgs_signup(struct api_req *, struct api_resp *);

#endif
