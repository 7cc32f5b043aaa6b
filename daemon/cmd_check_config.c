/* cmd_check_config: validates the config file and every source's settings. */
#include <stdio.h>
#include <unistd.h>

#include "arena.h"
#include "cmd.h"
#include "connector.h"
#include "context.h"
#include "heard.h"
#include "imap.h"
#include "mailer.h"
#include "registry.h"
#include "settings_json.h"
#include "sources.h"

/* 0 if the source's connector exists and takes its settings. */
static int
cmd_check_source(const struct source *s)
{
	const struct connector *c = registry_find(s->connector);
	struct conn_error e = { 0 };
	struct conn_settings set;
	struct arena a;
	int rc = 0;

	if (c == NULL) {
		fprintf(stderr, "source %lld (%s): unknown connector '%s'\n",
		    (long long)s->id, s->org_code, s->connector);
		return -1;
	}
	arena_init(&a);
	if (settings_from_json(&a, s->settings, &set, &e) == -1 ||
	    registry_check_settings(c, &set, &e) == -1) {
		fprintf(stderr, "source %lld (%s %s): %s\n", (long long)s->id,
		    s->org_code, s->connector, e.msg);
		rc = -1;
	}
	arena_free(&a);
	return rc;
}

static int
cmd_check_sources(struct heard *h)
{
	struct source *all;
	char err[512];
	size_t n, i;
	int bad = 0;

	if (access(h->cfg.db_path, F_OK) == -1) {
		printf("%s: no database yet, no sources to check\n",
		    h->cfg.db_path);
		return 0;
	}
	if (heard_open_store(h, err, sizeof(err)) == -1)
		return cmd_fail("%s", err);
	if (sources_all(h->store, &all, &n) == -1)
		return cmd_fail("%s: cannot read sources", h->cfg.db_path);
	for (i = 0; i < n; i++)
		if (cmd_check_source(&all[i]) == -1)
			bad++;
	sources_free_all(all, n);
	printf("%s: %zu sources, %d with bad settings\n", h->cfg.db_path, n,
	    bad);
	return bad ? 1 : 0;
}

/* The mail loop's settings as serve would judge them, files read. */
static int
cmd_check_mail(struct heard *h)
{
	char err[512];

	if (mailer_check_config(h, err, sizeof(err)) == -1 ||
	    imap_check_config(h, err, sizeof(err)) == -1) {
		fprintf(stderr, "%s: %s\n", h->config_path ? h->config_path :
		    "(defaults)", err);
		return -1;
	}
	return 0;
}

static int
cmd_check_config_exec(struct heard *h, int argc, char **argv)
{
	int mail;

	if (argc > 1 && argv[1][0] == '-' && argv[1][1] == 'p') {
		config_print(&h->cfg, stdout);
		return 0;
	}
	if ((mail = cmd_check_mail(h)) == 0)
		printf("%s: ok\n", h->config_path ? h->config_path :
		    "(no config file: defaults)");
	return cmd_check_sources(h) != 0 || mail != 0 ? 1 : 0;
}

const struct cmd_entry cmd_check_config_entry = {
	.name = "check-config",
	.usage = "[-p]",
	.help = "validates the config and every source's settings",
	.more = "A bad line is reported as file:line: reason. The mail\n"
	    "settings are checked as serve would (from, the key file, the\n"
	    "password files are read). -p prints the effective\n"
	    "configuration, every option with its meaning.\n",
	.needs = CMD_NEEDS_CONFIG,
	.exec = cmd_check_config_exec,
};
