/* settings_json: a source's settings as stored (a JSON object of strings). */
#ifndef HEARD_SETTINGS_JSON_H
#define HEARD_SETTINGS_JSON_H

struct arena;
struct conn_settings;
struct conn_error;

/* JSON object text -> settings in the arena; -1 (CONN_ERR_CONFIG) if bad. */
int	settings_from_json(struct arena *, const char *json,
	    struct conn_settings *out, struct conn_error *);
/*
 * "key=value" words (from the command line) -> JSON object text in the
 * arena; -1 if a word has no '=' or a key repeats.
 */
int	settings_from_words(struct arena *, int n, char *const *words,
	    const char **json_out, struct conn_error *);

#endif
