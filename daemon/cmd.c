/* cmd: the command table and what every command shares. */
#include "cmd.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const struct cmd_entry *const cmd_table[] = {
	&cmd_serve_entry,
	&cmd_check_config_entry,
	&cmd_orgs_entry,
	&cmd_connectors_entry,
	&cmd_sources_entry,
	&cmd_poll_entry,
	&cmd_threads_entry,
	&cmd_thread_entry,
	&cmd_reply_entry,
	&cmd_users_entry,
	&cmd_mail_in_entry,
	NULL,
};

const struct cmd_entry *
cmd_find(const char *name)
{
	size_t i;

	for (i = 0; cmd_table[i] != NULL; i++)
		if (strcmp(cmd_table[i]->name, name) == 0)
			return cmd_table[i];
	return NULL;
}

void
cmd_usage(const struct cmd_entry *c, void *stdio_file)
{
	FILE *f = stdio_file;

	fprintf(f, "usage: heard [-c FILE] [--db PATH] %s%s%s\n\n%s\n",
	    c->name, *c->usage ? " " : "", c->usage, c->help);
	if (c->more != NULL)
		fprintf(f, "\n%s", c->more);
}

int
cmd_wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
cmd_fail(const char *fmt, ...)
{
	va_list ap;

	fputs("heard: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}
