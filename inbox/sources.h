/* sources: one connector instance for one organisation, its cursor and health. */
#ifndef HEARD_SOURCES_H
#define HEARD_SOURCES_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

/* A source as loaded; every pointer owned by the struct (source_free). */
struct source {
	int64_t	 id;
	int64_t	 org_id;
	char	*org_code;
	char	*connector;
	char	*settings;	/* JSON object text of key: value strings */
	char	*cursor;	/* JSON object text, or NULL */
	int	 paused;	/* 1: auth/config failure, not polled */
	int64_t	 last_ok;	/* unix seconds; 0 never */
	int64_t	 last_error_at;
	char	*last_error;	/* "kind: reason" or NULL */
	int	 last_error_code;	/* enum conn_err */
	int	 failures;	/* in a row */
	int64_t	 next_poll;	/* unix seconds */
	int64_t	 created_at;
};

void	source_free(struct source *);

/*
 * Adds a source; settings is a JSON object of strings. The caller has
 * checked them against the connector. Returns the new id, or -1.
 */
int64_t	sources_add(struct store *, const char *org_code,
	    const char *connector, const char *settings, int64_t now,
	    char *err, size_t errlen);
/* 1 found, 0 none, -1 error. */
int	sources_get(struct store *, int64_t id, struct source *out);
/*
 * The id of a source of org (ODS code) and connector whose settings
 * are exactly settings (the same text), 0 if none, -1 on error: the
 * same channel twice would be polled and filed twice.
 */
int64_t	sources_same(struct store *, const char *org_code,
	    const char *connector, const char *settings);
/* Every source, by id; *out is an owned array of n (sources_free_all). */
int	sources_all(struct store *, struct source **out, size_t *n);
void	sources_free_all(struct source *, size_t n);

/* What one poll came to, for the source's own row. */
struct source_health {
	int	 ok;		/* 1 success (incl. 304) */
	int	 error_code;	/* enum conn_err when !ok */
	const char *error;	/* one line when !ok */
	int	 paused;	/* set/clear the pause */
	int	 was_paused;	/* the pause as the poll began: a pause
				   set since (an admin, during the poll)
				   is kept, not cleared by a success */
	int	 failures;	/* failures in a row after this poll */
	int64_t	 next_poll;
};

/*
 * Touches nothing but the source's own row (a 304 costs one UPDATE).
 * Success clears last_error and its code but keeps last_error_at.
 * -1 on error or if there is no such source.
 */
int	sources_health(struct store *, int64_t id, int64_t now,
	    const struct source_health *);
/*
 * JSON array of {"id","org","connector","paused","last_ok",
 * "last_error","last_error_at","failures","next_poll"} plus
 * "last_error_code" and "created_at"; times ISO 8601, null for never.
 * Settings are left out: they may hold keys.
 */
struct json_t	*sources_json(struct store *);

/*
 * A source's settings changed and/or its pause set: settings (JSON
 * object of strings; NULL: unchanged) replace the old ones whole, and
 * new settings lift a pause, as they may be the fix; paused 1 pauses,
 * 0 un-pauses (-1: unchanged). Lifting a pause clears the failures in
 * a row and makes the source due at once. The caller has checked the
 * settings against the connector. 1 done, 0 no such source, -1 error.
 */
int	sources_update(struct store *, int64_t id, const char *settings,
	    int paused, int64_t now, char *err, size_t errlen);
/* 1 if a setting of that name holds a secret (key, token, secret, password). */
int	sources_setting_secret(const char *name);
/*
 * The sources of the organisations user may read (ACCESS_READ; admins
 * all), of org (ODS code) when not NULL, by id: a JSON array of
 * {"id","org","connector","settings","paused","health","last_ok",
 * "last_error","last_error_at","failures","next_poll","created_at"}.
 * settings shows each secret (sources_setting_secret) as "***";
 * health is new (never polled), paused, failing (failures > 0) or ok.
 * One source alone when id > 0. NULL on error.
 */
struct json_t	*sources_json_for(struct store *, int64_t user,
		    const char *org, int64_t id);

#endif
