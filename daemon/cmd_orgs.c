/* cmd_orgs: loads the NHS ODS lists and finds organisations in them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "cmd.h"
#include "context.h"
#include "heard.h"
#include "orgs.h"

/* The extracts shipped in data/ods, imported when no file is named. */
static const char *const cmd_orgs_shipped[] = {
	"ods/icb_names_codes_dec_2024.csv",
	"ods/eccg.csv",
	"ods/etr.csv",
	"ods/epraccur.csv",
	NULL,
};

struct cmd_orgs_bar {
	const char	*file;
	int		 last;	/* last percentage drawn */
};

static void
cmd_orgs_progress(void *arg, size_t done, size_t total)
{
	struct cmd_orgs_bar *bar = arg;
	int pct = total ? (int)(done * 100 / total) : 100;

	if (pct == bar->last)
		return;
	bar->last = pct;
	fprintf(stderr, "\r%-40s [%-25.*s] %3d%%", bar->file, pct / 4,
	    "#########################", pct);
	fflush(stderr);
}

static int
cmd_orgs_import_one(struct heard *h, const char *path)
{
	struct orgs_import_stats st = { 0 };
	struct cmd_orgs_bar bar = { .file = path, .last = -1 };
	int tty = isatty(STDERR_FILENO);
	char err[512];

	if (orgs_import(h->store, path, tty ? cmd_orgs_progress : NULL,
	    &bar, &st, err, sizeof(err)) == -1) {
		if (tty)
			fputc('\n', stderr);
		return cmd_fail("%s", err);
	}
	if (tty)
		fputc('\n', stderr);
	printf("%s: %zu rows: %zu new, %zu updated, %zu unchanged\n", path,
	    st.rows, st.inserted, st.updated, st.unchanged);
	return 0;
}

static int
cmd_orgs_import(struct heard *h, int argc, char **argv)
{
	char *path;
	int i, rc = 0;

	if (argc > 1) {
		for (i = 1; i < argc && rc == 0; i++)
			rc = cmd_orgs_import_one(h, argv[i]);
		return rc;
	}
	for (i = 0; cmd_orgs_shipped[i] != NULL && rc == 0; i++) {
		path = heard_data_path(cmd_orgs_shipped[i]);
		rc = cmd_orgs_import_one(h, path);
		free(path);
	}
	return rc;
}

static int
cmd_orgs_search(struct heard *h, int argc, char **argv)
{
	const char *text = NULL;
	int as_json = 0, limit = 20, i;
	json_t *found, *o;
	size_t k;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_json = 1;
		else if (strcmp(argv[i], "--limit") == 0 && i + 1 < argc)
			limit = atoi(argv[++i]);
		else
			text = argv[i];
	}
	if (text == NULL || *text == '\0' || limit <= 0)
		return cmd_fail("usage: heard orgs search TEXT [--limit N] "
		    "[--json]");
	if ((found = orgs_search(h->store, text, limit)) == NULL)
		return cmd_fail("search failed");
	if (as_json) {
		json_dumpf(found, stdout, JSON_INDENT(2));
		putchar('\n');
	} else
		json_array_foreach(found, k, o)
			printf("%-7s %-6s %-22s %s\n",
			    json_string_value(json_object_get(o, "code")),
			    json_is_true(json_object_get(o, "open")) ?
			    "open" : "closed",
			    json_string_value(json_object_get(o, "type")),
			    json_string_value(json_object_get(o, "name")));
	k = json_array_size(found);
	json_decref(found);
	return k > 0 ? 0 : cmd_fail("no organisation matches '%s'", text);
}

static int
cmd_orgs_exec(struct heard *h, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "import") == 0)
		return cmd_orgs_import(h, argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "search") == 0)
		return cmd_orgs_search(h, argc - 1, argv + 1);
	return cmd_fail("usage: heard orgs import [FILE...] | heard orgs "
	    "search TEXT");
}

const struct cmd_entry cmd_orgs_entry = {
	.name = "orgs",
	.usage = "import [FILE...] | search TEXT [--limit N] [--json]",
	.help = "loads the NHS ODS lists, or finds an organisation",
	.more = "import: ODS CSV extracts (etr.csv trusts, eccg.csv "
	    "commissioners,\n  epraccur.csv GP practices, in the classic or "
	    "the newer format; the\n  ONS ICB names file). Without FILE, the "
	    "lists shipped in data/ods.\n  Idempotent: importing again "
	    "changes only what changed.\nsearch: by ODS code (exact or "
	    "prefix) or words of the name.\n",
	.needs = CMD_NEEDS_STORE,
	.exec = cmd_orgs_exec,
};
