/* api_sources: the API's sources (list, add, edit, poll) and connectors. */
#ifndef HEARD_API_SOURCES_H
#define HEARD_API_SOURCES_H

#include <stddef.h>
#include <stdint.h>

struct api_req;
struct api_resp;
struct connector;
struct json_t;
struct store;

/* Most settings a source takes from a request, longest key and value. */
#define API_SETTINGS_MAX	32
#define API_SETTING_KEY_MAX	64
#define API_SETTING_VALUE_MAX	2048
/* What a secret setting shows instead of its value, and stands for. */
#define API_SECRET_MASK		"***"

/* GET /api/v1/sources?org=, POST /sources, PATCH /sources/{id}. */
int	api_sources_list(struct api_req *, struct api_resp *);
int	api_sources_add(struct api_req *, struct api_resp *);
int	api_sources_patch(struct api_req *, struct api_resp *);
/* POST /api/v1/sources/{id}/poll. */
int	api_sources_poll(struct api_req *, struct api_resp *);
/* GET /api/v1/connectors. */
int	api_sources_connectors(struct api_req *, struct api_resp *);

/*
 * The value a secret setting key of c already has in another source of
 * c that talks to the same server as settings (a JSON object: its
 * base_url, url or endpoint, else the connector's default); owned,
 * NULL if none.
 */
char	*api_sources_reuse(struct store *, const struct connector *c,
	    const char *key, struct json_t *settings);
/*
 * settings (a request's JSON object, borrowed) made ready for c: each
 * value a string within bounds; a secret given as API_SECRET_MASK is
 * the one kept (in existing, a source's stored settings text, else
 * api_sources_reuse); then registry_check_settings. 0 and *out (owned
 * JSON text), or -1 with a 400 or 422 in resp whose detail starts with
 * where and names the connector and the setting.
 */
int	api_sources_settings(struct api_req *, struct api_resp *,
	    const char *where, const struct connector *c,
	    struct json_t *settings, const char *existing, char **out);

/*
 * Adds a source of c for org with settings (ready: api_sources_settings)
 * and audits it as the caller, in one transaction (joining the
 * caller's when one is open). The id; -2 with err when the same
 * source (org, connector, settings) exists already; -1 with err.
 */
int64_t	api_sources_create(struct api_req *, const char *org,
	    const struct connector *c, const char *settings, char *err,
	    size_t errlen);

#endif
