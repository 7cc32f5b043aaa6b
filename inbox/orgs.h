/* orgs: NHS organisations from the ODS extracts: import and search. */
#ifndef HEARD_ORGS_H
#define HEARD_ORGS_H

#include <stddef.h>
#include <stdint.h>

struct store;
struct json_t;

struct orgs_import_stats {
	size_t	rows;		/* records read */
	size_t	inserted;
	size_t	updated;
	size_t	unchanged;
};

/* Called every few hundred rows with bytes done and total, for a bar. */
typedef void (*orgs_progress_fn)(void *arg, size_t done, size_t total);

/*
 * Imports one ODS CSV extract (etr, eccg, epraccur in either format,
 * the 2018 etrust with sites, or the ONS ICB names file; the kind is
 * told from the file name, else from the data). Idempotent: stats
 * count rows inserted, updated and unchanged (an unchanged row is not
 * written).
 * One transaction per file; on error nothing of that file is stored
 * and err says "file:line: reason".
 */
int	orgs_import(struct store *, const char *path, orgs_progress_fn,
	    void *arg, struct orgs_import_stats *, char *err, size_t errlen);
/*
 * The same, with "today" given: a close date on or before now's UTC
 * day closes an organisation (ODS sets close dates in advance).
 * orgs_import passes time(NULL).
 */
int	orgs_import_at(struct store *, const char *path, int64_t now,
	    orgs_progress_fn, void *arg, struct orgs_import_stats *,
	    char *err, size_t errlen);
/*
 * Organisations whose name or code matches text (code exact or prefix
 * first, then name words), open ones first, at most limit (0: all).
 * Returns a new JSON array of {"code","name","type","parent",
 * "parent_name","postcode","open"}; NULL on error.
 */
struct json_t	*orgs_search(struct store *, const char *text, int limit);
/*
 * The organisation with that ODS code (any case) as orgs_search shows
 * one, plus "icb" and "id"; NULL if there is none.
 */
struct json_t	*orgs_get(struct store *, const char *code);
/* Row id of the organisation with that ODS code; -1 none. */
int64_t		 orgs_id(struct store *, const char *code);
/*
 * Where an item naming that code is filed: a trust site (5 characters,
 * e.g. RJ121) rolls up to its trust (RJ1), through its ODS parent when
 * the site was imported, else by the code's first three characters;
 * any other code is itself. -1 if neither is known.
 */
int64_t		 orgs_filing_id(struct store *, const char *code);
/*
 * Makes sure an organisation exists (for the demo and tests, when the
 * ODS list was not imported); returns its id or -1.
 */
int64_t		 orgs_ensure(struct store *, const char *code,
		    const char *name, const char *type);

#endif
