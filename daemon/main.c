/* main: global options, then one command from the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "context.h"
#include "heard.h"
#include "log.h"

struct main_opts {
	const char	*config;	/* -c FILE */
	const char	*db;		/* --db PATH */
	int		 verbose;	/* -v */
};

static void
main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: heard [-c FILE] [--db PATH] [-v] COMMAND [ARGS]\n\n"
	    "heard gathers what patients say about an NHS organisation, on\n"
	    "every channel, into one inbox of conversations.\n\n"
	    "global options (anywhere on the line):\n"
	    "  -c FILE      config file (INI); without it, defaults apply\n"
	    "  --db PATH    SQLite database (default ./heard.db)\n"
	    "  -v           log debug lines\n\ncommands:\n");
	for (i = 0; cmd_table[i] != NULL; i++)
		fprintf(f, "  %-13s%s\n", cmd_table[i]->name,
		    cmd_table[i]->help);
	fprintf(f, "\n`heard COMMAND --help` tells more of each.\n");
}

/* Takes the global options out of argv wherever they are; -1 if bad. */
static int
main_globals(int *argc, char **argv, struct main_opts *o)
{
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		const char **slot = NULL;

		if (strcmp(argv[i], "-c") == 0)
			slot = &o->config;
		else if (strcmp(argv[i], "--db") == 0)
			slot = &o->db;
		else if (strncmp(argv[i], "--db=", 5) == 0) {
			o->db = argv[i] + 5;
			continue;
		} else if (strcmp(argv[i], "-v") == 0) {
			o->verbose = 1;
			continue;
		}
		if (slot == NULL) {
			argv[j++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc) {
			cmd_fail("%s needs a value", argv[i]);
			return -1;
		}
		*slot = argv[++i];
	}
	argv[j] = NULL;
	*argc = j;
	return 0;
}

static int
main_run(const struct cmd_entry *c, const struct main_opts *o, int argc,
    char **argv)
{
	struct heard h;
	char err[512];
	int rc;

	if (heard_config(&h, o->config, o->db, err, sizeof(err)) == -1) {
		heard_close(&h);
		cmd_fail("%s", err);
		return c->setup_fail != 0 ? c->setup_fail : 1;
	}
	if (o->verbose)
		log_set_level(LOG_LVL_DEBUG);
	if (c->needs == CMD_NEEDS_STORE &&
	    heard_open_store(&h, err, sizeof(err)) == -1) {
		heard_close(&h);
		cmd_fail("%s", err);
		return c->setup_fail != 0 ? c->setup_fail : 1;
	}
	rc = c->exec(&h, argc, argv);
	heard_close(&h);
	return rc;
}

int
main(int argc, char **argv)
{
	const struct cmd_entry *c;
	struct main_opts o = { 0 };

	log_init(LOG_LVL_INFO, "heard");
	if (main_globals(&argc, argv, &o) == -1)
		return 2;
	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		main_usage(stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("heard %s\n", HEARD_VERSION);
		return 0;
	}
	if ((c = cmd_find(argv[1])) == NULL) {
		cmd_fail("unknown command '%s' (heard --help lists them)",
		    argv[1]);
		return 2;
	}
	if (cmd_wants_help(argc - 1, argv + 1)) {
		cmd_usage(c, stdout);
		return 0;
	}
	return main_run(c, &o, argc - 1, argv + 1);
}
