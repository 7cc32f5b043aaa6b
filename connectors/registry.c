/* registry: the one static list of connectors, by name. */
#include "registry.h"

#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "connector.h"

extern const struct connector connector_rss;
extern const struct connector connector_nhs_choices;
extern const struct connector connector_nhs_website;
extern const struct connector connector_care_opinion;
extern const struct connector connector_care_connect;
extern const struct connector connector_mastodon;
extern const struct connector connector_twitter;
extern const struct connector connector_facebook;

/* The only global: adding a channel is one line here. */
static const struct connector *const registry[] = {
	&connector_rss,
	&connector_nhs_choices,
	&connector_nhs_website,
	&connector_care_opinion,
	&connector_care_connect,
	&connector_mastodon,
	&connector_twitter,
	&connector_facebook,
};

const struct connector *
registry_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct connector *
registry_at(size_t i)
{
	if (i >= sizeof(registry) / sizeof(registry[0]))
		return NULL;
	return registry[i];
}

/* Settings every source takes, whatever its connector; the daemon reads them. */
const struct conn_setting registry_generic[] = {
	{ .key = "interval", .help = "time between polls of this source "
	    "(e.g. 300, 5m, 1h); default from the config" },
	{ .key = NULL },
};

static const struct conn_setting *
registry_setting(const struct connector *c, const char *key)
{
	const struct conn_setting *s;

	for (s = c->settings; s->key != NULL; s++)
		if (strcmp(s->key, key) == 0)
			return s;
	for (s = registry_generic; s->key != NULL; s++)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
}

long
registry_interval(const struct conn_settings *set)
{
	const char *v = conn_settings_get(set, "interval");
	char *end;
	long n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (end == v || n <= 0 || n > 7 * 86400)
		return -1;
	if (*end == 'm' && end[1] == '\0')
		n *= 60;
	else if (*end == 'h' && end[1] == '\0')
		n *= 3600;
	else if (!(*end == '\0' || (*end == 's' && end[1] == '\0')))
		return -1;
	return n < 10 || n > 7 * 86400 ? -1 : n;
}

int
registry_check_settings(const struct connector *c,
    const struct conn_settings *set, struct conn_error *e)
{
	const struct conn_setting *s;
	struct arena a;
	size_t i;
	int rc = 0;

	for (i = 0; i < set->n; i++)
		if (registry_setting(c, set->kv[i].key) == NULL)
			return conn_fail(e, CONN_ERR_CONFIG,
			    "%s: unknown setting '%s'", c->name,
			    set->kv[i].key);
	for (s = c->settings; s->key != NULL; s++)
		if (s->required && conn_settings_get(set, s->key) == NULL)
			return conn_fail(e, CONN_ERR_CONFIG,
			    "%s: missing setting '%s'", c->name, s->key);
	if (registry_interval(set) == -1)
		return conn_fail(e, CONN_ERR_CONFIG, "%s: interval '%s' is not "
		    "a duration from 10s to 7d", c->name,
		    conn_settings_get(set, "interval"));
	arena_init(&a);
	if (c->configure(&a, set, e) == NULL)
		rc = -1;
	arena_free(&a);
	return rc;
}
