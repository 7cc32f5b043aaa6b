/* api_auth: log-in, sessions, CSRF, API tokens and invitations on the web. */
#ifndef HEARD_API_AUTH_H
#define HEARD_API_AUTH_H

struct api_req;
struct api_resp;
struct api_route;

/*
 * What a request brought to say who it is (borrowed, NULL absent), and
 * room for what api_auth_caller points req at; lives as long as req.
 */
struct api_cred {
	const char	*cookie;	/* the heard_session cookie's value */
	const char	*authorization;	/* the Authorization header */
	const char	*csrf;		/* the X-CSRF-Token header */
	char		 session_csrf[48];	/* the session's token */
};

/*
 * Says who is calling: fills req->user_id, role, session, sid and csrf
 * (nobody: user_id 0), and checks what the route needs: 401 without a
 * caller on an API_USER route or with a bad token, 403 "csrf" for a
 * write by cookie without the session's token. 0 go on; -1 resp is
 * the answer. A session whose expiry slid gets its cookie again.
 */
int	api_auth_caller(struct api_req *, struct api_resp *,
	    const struct api_route *, struct api_cred *);

int	api_auth_login(struct api_req *, struct api_resp *);
int	api_auth_logout(struct api_req *, struct api_resp *);
int	api_auth_me(struct api_req *, struct api_resp *);
int	api_auth_notify(struct api_req *, struct api_resp *);
int	api_auth_tokens(struct api_req *, struct api_resp *);
int	api_auth_token_new(struct api_req *, struct api_resp *);
int	api_auth_token_revoke(struct api_req *, struct api_resp *);
int	api_auth_invitation_accept(struct api_req *, struct api_resp *);

#endif
