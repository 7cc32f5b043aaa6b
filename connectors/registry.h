/* registry: the one static list of connectors, by name. */
#ifndef HEARD_REGISTRY_H
#define HEARD_REGISTRY_H

#include <stddef.h>

#include "connector.h"

/* NULL if no connector has that name. */
const struct connector	*registry_find(const char *name);
/* The i-th connector, or NULL past the end. */
const struct connector	*registry_at(size_t i);
/*
 * Checks settings against the connector's table (unknown keys,
 * missing required ones) and then its configure(); 0 or -1 with e.
 */
int	registry_check_settings(const struct connector *,
	    const struct conn_settings *, struct conn_error *);

/* Settings every source takes (interval), ending with .key NULL. */
extern const struct conn_setting registry_generic[];
/*
 * The source's own poll interval in seconds: 0 if not set (use the
 * config's), -1 if malformed.
 */
long	registry_interval(const struct conn_settings *);

#endif
