/* cmd_poll: polls one source now, every page, and says how it went. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "cmd.h"
#include "context.h"
#include "heard.h"
#include "poller.h"
#include "sources.h"

struct cmd_poll_result {
	struct ev_loop	*loop;
	size_t		 pending;	/* polls not finished yet */
	size_t		 failed;
	char		 error[512];	/* the last failure's reason */
};

static void
cmd_poll_done(void *arg, int64_t source_id, int ok, const char *error)
{
	struct cmd_poll_result *r = arg;

	(void)source_id;
	if (!ok) {
		r->failed++;
		snprintf(r->error, sizeof(r->error), "%s",
		    error ? error : "failed");
	}
	if (--r->pending == 0)
		ev_break(r->loop, EVBREAK_ALL);
}

/* Polls every source that is not paused, at once (caps still apply). */
static int
cmd_poll_all(struct heard *h, struct cmd_poll_result *r)
{
	struct source *all;
	size_t n, i;

	if (sources_all(h->store, &all, &n) == -1)
		return cmd_fail("poll: cannot read sources");
	r->pending = 1;		/* held until every poll is started */
	for (i = 0; i < n; i++) {
		if (all[i].paused)
			continue;
		r->pending++;
		if (poller_poll_now(h->poller, all[i].id, cmd_poll_done,
		    r) == -1)
			r->pending--;
	}
	sources_free_all(all, n);
	if (--r->pending > 0)
		ev_run(h->loop, 0);
	printf("polled %zu sources, %zu failed\n", n, r->failed);
	return r->failed ? 1 : 0;
}

static int
cmd_poll_exec(struct heard *h, int argc, char **argv)
{
	struct cmd_poll_result r = { 0 };
	char *end;
	long long id;

	if (argc != 2)
		return cmd_fail("usage: heard poll SOURCE|--all");
	heard_runtime_start(h);
	r.loop = h->loop;
	if (strcmp(argv[1], "--all") == 0)
		return cmd_poll_all(h, &r);
	id = strtoll(argv[1], &end, 10);
	if (*end != '\0' || id <= 0)
		return cmd_fail("poll: '%s' is not a source id (heard sources "
		    "list shows them)", argv[1]);
	r.pending = 2;		/* held until the poll is started */
	if (poller_poll_now(h->poller, id, cmd_poll_done, &r) == -1)
		return cmd_fail("poll: no source %lld", id);
	if (--r.pending > 0)
		ev_run(h->loop, 0);
	if (r.failed)
		return cmd_fail("source %lld: %s", id, r.error);
	return 0;
}

const struct cmd_entry cmd_poll_entry = {
	.name = "poll",
	.usage = "SOURCE|--all",
	.help = "polls one source (or every unpaused one) now, every page",
	.more = "Exits non-zero with the reason if a source failed; each\n"
	    "source's health is recorded as the daemon would.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_poll_exec,
};
