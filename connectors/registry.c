/* registry: the one static list of connectors, by name. */
#include "registry.h"

#include <string.h>

#include "arena.h"
#include "connector.h"

extern const struct connector connector_rss;

/* The only global: adding a channel is one line here. */
static const struct connector *const registry[] = {
	&connector_rss,
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

static const struct conn_setting *
registry_setting(const struct connector *c, const char *key)
{
	const struct conn_setting *s;

	for (s = c->settings; s->key != NULL; s++)
		if (strcmp(s->key, key) == 0)
			return s;
	return NULL;
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
	arena_init(&a);
	if (c->configure(&a, set, e) == NULL)
		rc = -1;
	arena_free(&a);
	return rc;
}
