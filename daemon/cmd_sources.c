/* cmd_sources: adds sources and lists them with their health. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "arena.h"
#include "cmd.h"
#include "connector.h"
#include "heard.h"
#include "orgs.h"
#include "registry.h"
#include "settings_json.h"
#include "sources.h"

static int
cmd_sources_add(struct heard *h, int argc, char **argv)
{
	const struct connector *c;
	struct conn_settings set;
	struct conn_error e = { 0 };
	struct arena a;
	const char *json;
	char err[256];
	int64_t id;

	if (argc < 3)
		return cmd_fail("usage: heard sources add ORG CONNECTOR "
		    "key=value...");
	if ((c = registry_find(argv[2])) == NULL)
		return cmd_fail("unknown connector '%s' (heard connectors "
		    "lists them)", argv[2]);
	if (orgs_id(h->store, argv[1]) == -1)
		return cmd_fail("no organisation with ODS code '%s' (heard "
		    "orgs import loads them; heard orgs search finds one)",
		    argv[1]);
	arena_init(&a);
	if (settings_from_words(&a, argc - 3, argv + 3, &json, &e) == -1 ||
	    settings_from_json(&a, json, &set, &e) == -1 ||
	    registry_check_settings(c, &set, &e) == -1) {
		arena_free(&a);
		return cmd_fail("%s", e.msg);
	}
	id = sources_add(h->store, argv[1], c->name, json, time(NULL), err,
	    sizeof(err));
	arena_free(&a);
	if (id == -1)
		return cmd_fail("%s", err);
	printf("%lld\n", (long long)id);
	return 0;
}

static const char *
cmd_sources_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void
cmd_sources_row(json_t *s)
{
	json_t *paused = json_object_get(s, "paused");

	printf("%-4lld %-8s %-14s %-7s %-20s %-3lld %-20s %s\n",
	    (long long)json_integer_value(json_object_get(s, "id")),
	    cmd_sources_str(s, "org"), cmd_sources_str(s, "connector"),
	    json_is_true(paused) ? "paused" :
	    json_integer_value(json_object_get(s, "failures")) > 0 ?
	    "failing" : "ok", cmd_sources_str(s, "last_ok"),
	    (long long)json_integer_value(json_object_get(s, "failures")),
	    cmd_sources_str(s, "next_poll"),
	    cmd_sources_str(s, "last_error"));
}

static int
cmd_sources_list(struct heard *h, int argc, char **argv)
{
	json_t *all, *s;
	size_t i;

	if ((all = sources_json(h->store)) == NULL)
		return cmd_fail("cannot list sources");
	if (argc > 1 && strcmp(argv[1], "--json") == 0) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%-4s %-8s %-14s %-7s %-20s %-3s %-20s %s\n", "ID",
		    "ORG", "CONNECTOR", "HEALTH", "LAST OK", "F",
		    "NEXT POLL", "LAST ERROR");
		json_array_foreach(all, i, s)
			cmd_sources_row(s);
	}
	json_decref(all);
	return 0;
}

static int
cmd_sources_exec(struct heard *h, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "add") == 0)
		return cmd_sources_add(h, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0)
		return cmd_sources_list(h, argc - 1, argv + 1);
	return cmd_fail("usage: heard sources add ORG CONNECTOR key=value... "
	    "| heard sources list [--json]");
}

const struct cmd_entry cmd_sources_entry = {
	.name = "sources",
	.usage = "add ORG CONNECTOR key=value... | list [--json]",
	.help = "adds a source, or lists sources with their health",
	.more = "add: ORG is an ODS code, CONNECTOR a name from `heard "
	    "connectors`;\n  prints the new source's id alone on stdout.\n"
	    "list: last success, last error, failures in a row, next poll.\n"
	    "  A running daemon reads the sources again every poll.resync\n"
	    "  (30 seconds), and at once on SIGHUP.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_sources_exec,
};
