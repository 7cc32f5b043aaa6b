/* api_users: the API's staff accounts and invitations to them. */
#ifndef HEARD_API_USERS_H
#define HEARD_API_USERS_H

#include <stdint.h>

#include "sessions.h"

struct api_req;
struct api_resp;

/* Most organisations set on an account by one request. */
#define API_USERS_ORGS_MAX	100

/* GET /api/v1/users, POST /users, PATCH /users/{id}. */
int	api_users_list(struct api_req *, struct api_resp *);
int	api_users_add(struct api_req *, struct api_resp *);
int	api_users_patch(struct api_req *, struct api_resp *);

/*
 * An invitation for user made by the caller, inside the caller's open
 * transaction; its secret in token. 0 or -1.
 */
int	api_users_invitation(struct api_req *, int64_t user,
	    char token[SESSIONS_SECRET_LEN]);
/*
 * The invitation's mail (notify_mail_invitation), after the commit:
 * the link <base_url>/#/invite/<token>, for orgs (names, NULL: none
 * said). 1 queued, 0 not (no [mail] from, a bad address: logged).
 */
int	api_users_invite_mail(struct api_req *, int64_t user,
	    const char *token, const char *orgs);

#endif
