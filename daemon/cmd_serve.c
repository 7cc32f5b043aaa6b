/* cmd_serve: runs the daemon; --demo seeds a demo trust first. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "context.h"
#include "demo.h"
#include "heard.h"
#include "poller.h"
#include "serve.h"
#include "xmalloc.h"

/* The demo keeps its own database unless --db or a config names one. */
#define DEMO_DB	"./heard-demo.db"

static int
cmd_serve_demo(struct heard *h, char *err, size_t errlen)
{
	if (h->db_override == NULL && h->config_path == NULL) {
		free(h->cfg.db_path);
		h->cfg.db_path = xstrdup(DEMO_DB);
	}
	h->demo = 1;
	h->cfg.allow_file_urls = 1;
	if (heard_open_store(h, err, errlen) == -1)
		return -1;
	return demo_seed(h, err, errlen);
}

static int
cmd_serve_exec(struct heard *h, int argc, char **argv)
{
	char err[512];
	int demo = 0, i;

	/* A signal before the loop's handlers exist waits for them. */
	serve_hold_signals();
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--demo") != 0)
			return cmd_fail("serve: unknown argument '%s'",
			    argv[i]);
		demo = 1;
	}
	if (demo && cmd_serve_demo(h, err, sizeof(err)) == -1)
		return cmd_fail("demo: %s", err);
	if (!demo && heard_open_store(h, err, sizeof(err)) == -1)
		return cmd_fail("%s", err);
	heard_runtime_start(h);
	if (poller_start(h->poller) == -1)
		return cmd_fail("cannot start polling");
	return serve_run(h) == 0 ? 0 : 1;
}

const struct cmd_entry cmd_serve_entry = {
	.name = "serve",
	.usage = "[--demo]",
	.help = "runs the daemon: polls, serves the inbox, mails staff",
	.more = "Polls every source, posts queued replies, serves the web inbox\n"
	    "and JSON API on [http] listen, mails notifications when\n"
	    "[mail] smtp_url is set and reads replies from [mail] imap_url.\n"
	    "--demo  files three sample feeds (shipped in data/demo) under\n"
	    "        Guy's and St Thomas' (RJ1) and polls them with no network;\n"
	    "        uses ./heard-demo.db unless --db or -c names a database;\n"
	    "        makes the admin demo-admin@example.nhs.uk and prints a\n"
	    "        fresh password for it at each start.\n"
	    "Signals: SIGTERM/SIGINT finish in-flight polls, sends and posts\n"
	    "and exit; SIGHUP reloads the config file (all or nothing) and\n"
	    "the sources.\n",
	.needs = CMD_NEEDS_CONFIG,
	.exec = cmd_serve_exec,
};
