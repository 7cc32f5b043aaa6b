/* cmd_thread: one conversation with its messages, oldest first. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd.h"
#include "heard.h"
#include "thread_list.h"

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
		printf(", rated %lld/5\n",
		    (long long)json_integer_value(rating));
	if (*cmd_thread_str(m, "url"))
		printf("    %s\n", cmd_thread_str(m, "url"));
	printf("%s\n", cmd_thread_str(m, "body"));
}

/* A "post this" task: open ones with the link and the text to copy. */
static void
cmd_thread_task(json_t *k)
{
	long long id = json_integer_value(json_object_get(k, "id"));

	if (*cmd_thread_str(k, "closed_at")) {
		printf("\n=== task %lld done: the reply was seen on the "
		    "channel at %s\n", id, cmd_thread_str(k, "closed_at"));
		return;
	}
	printf("\n=== task %lld, open since %s: post this reply on the "
	    "channel yourself\n", id, cmd_thread_str(k, "created_at"));
	if (*cmd_thread_str(k, "url"))
		printf("    %s\n", cmd_thread_str(k, "url"));
	printf("%s\n", cmd_thread_str(k, "text"));
}

/* A reply not (yet) on the channel; posted ones are messages above. */
static void
cmd_thread_reply(json_t *r)
{
	const char *st = cmd_thread_str(r, "status");

	if (strcmp(st, "posted") == 0 || strcmp(st, "handoff") == 0)
		return;
	printf("\n=== reply %lld, written %s: %s",
	    (long long)json_integer_value(json_object_get(r, "id")),
	    cmd_thread_str(r, "created_at"), st);
	if (*cmd_thread_str(r, "error"))
		printf(": %s", cmd_thread_str(r, "error"));
	if (strcmp(st, "queued") == 0 && *cmd_thread_str(r, "next_attempt_at"))
		printf(" (next attempt %s)", cmd_thread_str(r,
		    "next_attempt_at"));
	printf("\n%s\n", cmd_thread_str(r, "body"));
}

static void
cmd_thread_text(json_t *t)
{
	json_t *m;
	size_t k;

	printf("%s  %s  [%s]  %s via %s%s%s\n", cmd_thread_str(t,
	    "reference"), cmd_thread_str(t, "subject"),
	    cmd_thread_str(t, "status"), cmd_thread_str(t, "org"),
	    cmd_thread_str(t, "connector"),
	    *cmd_thread_str(t, "channel_reference") ? ", reference " : "",
	    cmd_thread_str(t, "channel_reference"));
	json_array_foreach(json_object_get(t, "items"), k, m)
		cmd_thread_item(m);
	json_array_foreach(json_object_get(t, "replies"), k, m)
		cmd_thread_reply(m);
	json_array_foreach(json_object_get(t, "tasks"), k, m)
		cmd_thread_task(m);
}

static int
cmd_thread_exec(struct heard *h, int argc, char **argv)
{
	const char *ref = NULL;
	int as_json = 0, i;
	json_t *t;

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
	} else
		cmd_thread_text(t);
	json_decref(t);
	return 0;
}

const struct cmd_entry cmd_thread_entry = {
	.name = "thread",
	.usage = "ID|REFERENCE [--json]",
	.help = "shows one conversation with its messages, oldest first",
	.more = "--json prints the thread object of `heard threads --json` "
	    "plus\n  items: [{id, external_id, direction (in|out), author, "
	    "body, url,\n  rating, created_at, updated_at, meta}],\n"
	    "  replies: [{id, status, body, error, external_id, created_at,\n"
	    "  updated_at, via}] and tasks: [{id, text, url, created_at,\n"
	    "  closed_at}]. The text shows replies not on the channel yet, "
	    "with\n  their status and reason, and open tasks with the text "
	    "to post.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_thread_exec,
};
