/* cmd_threads: lists conversations, newest activity first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "heard.h"
#include "thread_list.h"

static const char *
cmd_threads_str(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s != NULL ? s : "-";
}

static void
cmd_threads_row(json_t *t)
{
	printf("%-5lld %-10s %-11s %-7s %-13s %4lld  %-20s %.60s\n",
	    (long long)json_integer_value(json_object_get(t, "id")),
	    cmd_threads_str(t, "reference"), cmd_threads_str(t, "status"),
	    cmd_threads_str(t, "org"), cmd_threads_str(t, "connector"),
	    (long long)json_integer_value(json_object_get(t, "messages")),
	    cmd_threads_str(t, "last_at"), cmd_threads_str(t, "subject"));
}

/* The statuses DESIGN.md names, for a clear error on a typo. */
static int
cmd_threads_status_ok(const char *s)
{
	static const char *const ok[] = { "new", "open", "in_progress",
	    "resolved", "closed", "hidden" };
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(s, ok[i]) == 0)
			return 1;
	return 0;
}

static int
cmd_threads_exec(struct heard *h, int argc, char **argv)
{
	struct threads_filter f = { 0 };
	int as_json = 0, i;
	json_t *all, *t;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "--org") == 0 && i + 1 < argc)
			f.org = argv[++i];
		else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
			f.status = argv[++i];
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			f.limit = atoi(argv[++i]);
		else
			return cmd_fail("threads: unknown argument '%s'",
			    argv[i]);
	}
	if (f.status != NULL && !cmd_threads_status_ok(f.status))
		return cmd_fail("threads: unknown status '%s' (new, open, "
		    "in_progress, resolved, closed, hidden)", f.status);
	if ((all = threads_list(h->store, &f)) == NULL)
		return cmd_fail("cannot list threads");
	if (as_json) {
		json_dumpf(all, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		printf("%-5s %-10s %-11s %-7s %-13s %4s  %-20s %s\n", "ID",
		    "REF", "STATUS", "ORG", "CONNECTOR", "MSGS", "LAST",
		    "SUBJECT");
		json_array_foreach(all, k, t)
			cmd_threads_row(t);
	}
	json_decref(all);
	return 0;
}

const struct cmd_entry cmd_threads_entry = {
	.name = "threads",
	.usage = "[--org CODE] [--status S] [--limit N] [--json]",
	.help = "lists conversations, newest activity first",
	.more = "Statuses: new, open, in_progress, resolved, closed, hidden.\n"
	    "--json prints [{id, org, connector, source, reference, subject,\n"
	    "  status, messages, first_at, last_at}].\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_threads_exec,
};
