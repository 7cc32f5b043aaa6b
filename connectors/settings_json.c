/* settings_json: a source's settings as stored (a JSON object of strings). */
#include "settings_json.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "arena.h"
#include "connector.h"

int
settings_from_json(struct arena *a, const char *json,
    struct conn_settings *out, struct conn_error *e)
{
	struct conn_kv *kv;
	json_error_t jerr;
	const char *key;
	json_t *obj, *v;
	size_t i = 0;

	obj = json_loads(json != NULL ? json : "{}", 0, &jerr);
	if (obj == NULL || !json_is_object(obj)) {
		json_decref(obj);
		return conn_fail(e, CONN_ERR_CONFIG,
		    "settings are not a JSON object");
	}
	kv = arena_alloc(a, sizeof(*kv) * (json_object_size(obj) + 1));
	json_object_foreach(obj, key, v) {
		if (!json_is_string(v)) {
			conn_fail(e, CONN_ERR_CONFIG,
			    "setting '%s' is not a string", key);
			json_decref(obj);
			return -1;
		}
		kv[i].key = arena_strdup(a, key);
		kv[i].value = arena_strdup(a, json_string_value(v));
		i++;
	}
	json_decref(obj);
	out->kv = kv;
	out->n = i;
	return 0;
}

int
settings_from_words(struct arena *a, int n, char *const *words,
    const char **json_out, struct conn_error *e)
{
	json_t *obj = json_object();
	char *text, *eq, *key;
	int i;

	for (i = 0; i < n; i++) {
		if ((eq = strchr(words[i], '=')) == NULL || eq == words[i]) {
			json_decref(obj);
			return conn_fail(e, CONN_ERR_CONFIG,
			    "'%s' is not key=value", words[i]);
		}
		key = arena_strndup(a, words[i], (size_t)(eq - words[i]));
		if (json_object_get(obj, key) != NULL) {
			json_decref(obj);
			return conn_fail(e, CONN_ERR_CONFIG,
			    "setting '%s' given twice", key);
		}
		json_object_set_new(obj, key, json_string(eq + 1));
	}
	text = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(obj);
	if (text == NULL)
		return conn_fail(e, CONN_ERR_CONFIG,
		    "settings are not valid UTF-8");
	*json_out = arena_strdup(a, text);
	free(text);
	return 0;
}
