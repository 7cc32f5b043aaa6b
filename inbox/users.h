/* users: staff accounts, their organisations and what mail they want. */
#ifndef HEARD_USERS_H
#define HEARD_USERS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

enum user_role {
	ROLE_ADMIN,	/* organisations, sources, users, everything */
	ROLE_LEAD,	/* read, reply, status, assign, hide: own orgs */
	ROLE_REVIEWER,	/* read only: own orgs and those they commission */
};

/* Per organisation; stored by name (user_notify_name). */
enum user_notify {
	NOTIFY_CONVERSATION,	/* a mail for each new conversation */
	NOTIFY_MESSAGE,		/* a mail for each new message */
	NOTIFY_DIGEST,		/* one mail a day */
	NOTIFY_NONE,
};

const char	*user_role_name(enum user_role);
/* 0 and *out, or -1 if s names no role. */
int		 user_role_parse(const char *s, enum user_role *out);
const char	*user_notify_name(enum user_notify);
int		 user_notify_parse(const char *s, enum user_notify *out);

/* One account; pointers owned (user_free). */
struct user {
	int64_t		 id;
	char		*email;		/* as given; compared without case */
	char		*name;		/* "" if none */
	enum user_role	 role;
	int		 disabled;
	int		 has_password;
};

void	user_free(struct user *);

/* A new account; pointers borrowed. */
struct user_new {
	const char	*email;		/* checked: one @, no spaces */
	const char	*name;		/* NULL: "" */
	enum user_role	 role;
	const char	**orgs;		/* ODS codes, each must exist */
	size_t		 norgs;
	enum user_notify notify;	/* for each of orgs */
	const char	*password;	/* NULL: none (invited, or mail only) */
};

/*
 * Every change below is audited as done by actor (0: the operator at
 * the command line, stored as NULL) and made in one transaction; when
 * the caller already has one open (store_begin), the change joins it
 * and on error the caller must roll it back. Audit details never hold
 * a password or a hash.
 *
 * Adds the account and its memberships. A lead or a reviewer needs at
 * least one organisation; an admin none. Returns the id, or -1 with
 * the reason in err (a duplicate email, an unknown organisation...).
 */
int64_t	users_add(struct store *, const struct user_new *, int64_t actor,
	    int64_t now, char *err, size_t errlen);
/* By id or by email (any case). 1 found, 0 none, -1 error. */
int	users_get(struct store *, int64_t id, struct user *);
int	users_find(struct store *, const char *email, struct user *);
/* Sets the password (scrypt, password.h); audited. -1 with err. */
int	users_set_password(struct store *, int64_t id, const char *password,
	    int64_t actor, int64_t now, char *err, size_t errlen);
/*
 * The id of the account with that email and password, not disabled;
 * 0 if none matches (the same time is spent either way), -1 error.
 */
int64_t	users_check_password(struct store *, const char *email,
	    const char *password);
/* Records a successful log-in's time (users.last_login_at). */
int	users_logged_in(struct store *, int64_t id, int64_t now);
/*
 * Role, name or disabled changed (NULL: unchanged); audited. The last
 * enabled admin can be neither demoted nor disabled; a lead or a
 * reviewer keeps at least one organisation. Disabling also ends the
 * account's sessions and revokes its API tokens. -1 with err.
 */
int	users_update(struct store *, int64_t id, const char *name,
	    const enum user_role *role, const int *disabled, int64_t actor,
	    int64_t now, char *err, size_t errlen);
/*
 * Membership of org (ODS code) with that choice of mail, added or
 * changed; remove drops it, but not a lead's or reviewer's last one.
 * Audited. -1 with err.
 */
int	users_set_org(struct store *, int64_t id, const char *org_code,
	    enum user_notify, int64_t actor, int64_t now, char *err,
	    size_t errlen);
int	users_remove_org(struct store *, int64_t id, const char *org_code,
	    int64_t actor, int64_t now, char *err, size_t errlen);
/*
 * New JSON array of {"id","email","name","role","disabled",
 * "has_password","created_at","last_login_at","orgs":[{"code","name",
 * "notify"}]}; all accounts (id 0) or one. NULL on error.
 */
struct json_t	*users_json(struct store *, int64_t id);

#endif
