/* demo: seeds a demo organisation (RJ1) with sample sources shipped in data/. */
#include "demo.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "context.h"
#include "heard.h"
#include "log.h"
#include "orgs.h"
#include "sessions.h"
#include "sources.h"
#include "store.h"
#include "users.h"
#include "xmalloc.h"

/* Small lists only, so the demo is up in a second; GP practices are
 * one `heard orgs import` away. */
static const char *const demo_lists[] = {
	"ods/icb_names_codes_dec_2024.csv",
	"ods/eccg.csv",
	"ods/etr.csv",
	NULL,
};

static const char *const demo_feeds[] = {
	"demo/patient-stories.rss",
	"demo/ward-reviews.atom",
	"demo/healthwatch.rdf",
	NULL,
};

static int
demo_import(struct heard *h, char *err, size_t errlen)
{
	struct orgs_import_stats st;
	char *path;
	int i, rc = 0;

	for (i = 0; demo_lists[i] != NULL && rc == 0; i++) {
		memset(&st, 0, sizeof(st));
		path = heard_data_path(demo_lists[i]);
		rc = orgs_import(h->store, path, NULL, NULL, &st, err, errlen);
		free(path);
	}
	return rc;
}

/* 1 if some source already has these settings. */
static int
demo_has_source(struct heard *h, const char *settings)
{
	struct source *all;
	size_t n, i;
	int found = 0;

	if (sources_all(h->store, &all, &n) == -1)
		return 0;
	for (i = 0; i < n; i++)
		if (strcmp(all[i].settings, settings) == 0)
			found = 1;
	sources_free_all(all, n);
	return found;
}

static int
demo_add_feed(struct heard *h, const char *name, char *err, size_t errlen)
{
	char *rel = heard_data_path(name), abs[PATH_MAX], *settings;
	json_t *obj;
	int rc = 0;

	if (realpath(rel, abs) == NULL) {
		snprintf(err, errlen, "%s: demo feed missing", rel);
		free(rel);
		return -1;
	}
	free(rel);
	obj = json_pack("{s:s+, s:s}", "url", "file://", abs, "interval",
	    "60");
	settings = json_dumps(obj, JSON_SORT_KEYS | JSON_COMPACT);
	json_decref(obj);
	if (!demo_has_source(h, settings) && sources_add(h->store, DEMO_ORG,
	    "rss", settings, time(NULL), err, errlen) == -1)
		rc = -1;
	free(settings);
	return rc;
}

/*
 * The demo's admin, so the web inbox can be tried at once. A fresh
 * password each start, printed on stdout (never to the log): there is
 * no other way to learn it, and a demo database holds nothing real.
 */
static int
demo_admin(struct heard *h, char *err, size_t errlen)
{
	struct user_new nu = {
		.email = DEMO_ADMIN,
		.name = "Demo admin",
		.role = ROLE_ADMIN,
	};
	char pw[SESSIONS_SECRET_LEN];
	struct user u;
	int64_t id;
	int rc;

	if (sessions_secret(pw) == -1) {
		snprintf(err, errlen, "no random bytes for a password");
		return -1;
	}
	pw[20] = '\0';
	if ((rc = users_find(h->store, DEMO_ADMIN, &u)) == -1) {
		snprintf(err, errlen, "users: %s", store_errmsg(h->store));
		return -1;
	}
	id = rc == 1 ? u.id : users_add(h->store, &nu, 0, time(NULL), err,
	    errlen);
	if (rc == 1)
		user_free(&u);
	if (id == -1 || users_set_password(h->store, id, pw, 0, time(NULL),
	    err, errlen) == -1)
		return -1;
	printf("demo: web inbox at http://%s/; log in as %s with password "
	    "%s\n",
	    h->cfg.listen, DEMO_ADMIN, pw);
	fflush(stdout);
	explicit_bzero(pw, sizeof(pw));
	return 0;
}

int
demo_seed(struct heard *h, char *err, size_t errlen)
{
	int i;

	if (demo_import(h, err, errlen) == -1)
		return -1;
	if (orgs_id(h->store, DEMO_ORG) == -1) {
		snprintf(err, errlen, "%s is not in the trust list", DEMO_ORG);
		return -1;
	}
	for (i = 0; demo_feeds[i] != NULL; i++)
		if (demo_add_feed(h, demo_feeds[i], err, errlen) == -1)
			return -1;
	if (demo_admin(h, err, errlen) == -1)
		return -1;
	log_info("demo: %s (Guy's and St Thomas') with %d sample feeds in %s",
	    DEMO_ORG, i, h->cfg.db_path);
	return 0;
}
