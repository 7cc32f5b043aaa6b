/* cmd_thread: one conversation with its messages, oldest first. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "heard.h"
#include "threads.h"

static const char *
cmd_thread_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "";
}

static void
cmd_thread_item(json_t *m)
{
	json_t *rating = json_object_get(m, "rating");

	printf("\n--- %s %s, %s%s", strcmp(cmd_thread_str(m, "direction"),
	    "out") == 0 ? "reply by" : "from", cmd_thread_str(m, "author"),
	    cmd_thread_str(m, "created_at"),
	    json_is_integer(rating) ? "" : "\n");
	if (json_is_integer(rating))
		printf(", rated %lld/5\n", (long long)json_integer_value(rating));
	if (*cmd_thread_str(m, "url"))
		printf("    %s\n", cmd_thread_str(m, "url"));
	printf("%s\n", cmd_thread_str(m, "body"));
}

static int
cmd_thread_exec(struct heard *h, int argc, char **argv)
{
	const char *ref = NULL;
	int as_json = 0, i;
	json_t *t, *m;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else
			ref = argv[i];
	}
	if (ref == NULL)
		return cmd_fail("usage: heard thread ID [--json]");
	if ((t = threads_get(h->store, ref)) == NULL)
		return cmd_fail("no thread '%s'", ref);
	if (as_json) {
		json_dumpf(t, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%s  %s  [%s]  %s via %s\n", cmd_thread_str(t,
		    "reference"), cmd_thread_str(t, "subject"),
		    cmd_thread_str(t, "status"), cmd_thread_str(t, "org"),
		    cmd_thread_str(t, "connector"));
		json_array_foreach(json_object_get(t, "items"), k, m)
			cmd_thread_item(m);
	}
	json_decref(t);
	return 0;
}

const struct cmd_entry cmd_thread_entry = {
	.name = "thread",
	.usage = "ID|REFERENCE [--json]",
	.help = "shows one conversation with its messages, oldest first",
	.more = "--json prints the thread object of `heard threads --json` "
	    "plus\n  items: [{id, external_id, direction (in|out), author, "
	    "body, url,\n  rating, created_at, updated_at}].\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_thread_exec,
};
