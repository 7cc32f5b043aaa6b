/* cmd_connectors: lists connectors, their settings and how they reply. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "connector.h"
#include "registry.h"

static const char *
cmd_connectors_mode(enum conn_reply_mode m)
{
	switch (m) {
	case CONN_REPLY_API:
		return "api";
	case CONN_REPLY_HANDOFF:
		return "handoff";
	case CONN_REPLY_NONE:
	default:
		return "none";
	}
}

static json_t *
cmd_connectors_json(const struct connector *c)
{
	const struct conn_setting *s;
	json_t *set = json_array();

	for (s = c->settings; s->key != NULL; s++)
		json_array_append_new(set, json_pack("{s:s, s:s, s:b, s:s?}",
		    "key", s->key, "help", s->help, "required", s->required,
		    "default", s->def));
	return json_pack("{s:s, s:s, s:s, s:o}", "name", c->name,
	    "title", c->title, "reply", cmd_connectors_mode(c->reply_mode),
	    "settings", set);
}

static void
cmd_connectors_text(const struct connector *c)
{
	const struct conn_setting *s;

	printf("%s: %s (replies: %s)\n", c->name, c->title,
	    cmd_connectors_mode(c->reply_mode));
	for (s = c->settings; s->key != NULL; s++)
		printf("    %-16s %s%s%s%s\n", s->key, s->help,
		    s->required ? " (required)" : "",
		    s->def ? "; default " : "", s->def ? s->def : "");
}

static void
cmd_connectors_generic(void)
{
	const struct conn_setting *s;

	printf("every source also takes:\n");
	for (s = registry_generic; s->key != NULL; s++)
		printf("    %-16s %s\n", s->key, s->help);
}

static int
cmd_connectors_exec(struct heard *h, int argc, char **argv)
{
	const struct connector *c;
	json_t *all = json_array();
	int as_json = argc > 1 && strcmp(argv[1], "--json") == 0;
	size_t i;

	(void)h;
	if (argc > 2 || (argc == 2 && !as_json)) {
		json_decref(all);
		return cmd_fail("usage: heard connectors [--json]");
	}
	for (i = 0; (c = registry_at(i)) != NULL; i++) {
		if (as_json)
			json_array_append_new(all, cmd_connectors_json(c));
		else
			cmd_connectors_text(c);
	}
	if (as_json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else
		cmd_connectors_generic();
	json_decref(all);
	return 0;
}

const struct cmd_entry cmd_connectors_entry = {
	.name = "connectors",
	.usage = "[--json]",
	.help = "lists connectors, their settings and how they reply",
	.more = "Replies: api (heard posts the reply on the channel), handoff\n"
	    "(heard makes a 'post this' task) or none.\n",
	.needs = CMD_NEEDS_CONFIG,
	.exec = cmd_connectors_exec,
};
