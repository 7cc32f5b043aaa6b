/* cmd_poll: polls one source now, every page, and says how it went. */
#include <stdio.h>
#include <stdlib.h>

#include <ev.h>

#include "cmd.h"
#include "context.h"
#include "heard.h"
#include "poller.h"

struct cmd_poll_result {
	struct ev_loop	*loop;
	int		 done;
	int		 ok;
	char		 error[512];
};

static void
cmd_poll_done(void *arg, int64_t source_id, int ok, const char *error)
{
	struct cmd_poll_result *r = arg;

	(void)source_id;
	r->done = 1;
	r->ok = ok;
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	ev_break(r->loop, EVBREAK_ALL);
}

static int
cmd_poll_exec(struct heard *h, int argc, char **argv)
{
	struct cmd_poll_result r = { 0 };
	char *end;
	long long id;

	if (argc != 2)
		return cmd_fail("usage: heard poll SOURCE");
	id = strtoll(argv[1], &end, 10);
	if (*end != '\0' || id <= 0)
		return cmd_fail("poll: '%s' is not a source id (heard sources "
		    "list shows them)", argv[1]);
	heard_runtime_start(h);
	r.loop = h->loop;
	if (poller_poll_now(h->poller, id, cmd_poll_done, &r) == -1)
		return cmd_fail("poll: no source %lld", id);
	if (!r.done)
		ev_run(h->loop, 0);
	if (!r.ok)
		return cmd_fail("source %lld: %s", id, r.error);
	return 0;
}

const struct cmd_entry cmd_poll_entry = {
	.name = "poll",
	.usage = "SOURCE",
	.help = "polls one source now, every page",
	.more = "Exits non-zero with the reason if the source failed; the\n"
	    "source's health is recorded as the daemon would.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_poll_exec,
};
