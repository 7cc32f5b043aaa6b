/*
 * fuzz_ods_csv: the ODS extract reader on arbitrary bytes.
 *
 * The ODS lists are downloaded files an admin imports; a broken or
 * hostile one must end in a clean "line N: reason", never a crash, and
 * every record it does return must hold what the importer relies on.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ods_csv.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
fuzz_check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_ods_csv: broken invariant: %s\n", what);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ods_csv c;
	size_t last = 0, i;
	int rc;

	if (size == 0)
		return 0;
	memset(&c, 0, sizeof(c));
	/* fmemopen reads the bytes as the importer's fopen would. */
	if ((c.fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	c.total = size;
	while ((rc = ods_csv_next(&c)) == 1) {
		fuzz_check(c.lineno > last, "line numbers go forward");
		last = c.lineno;
		fuzz_check(c.nfields > 0 && c.nfields <= ODS_CSV_MAXFIELDS,
		    "field count in range");
		for (i = 0; i < c.nfields; i++)
			fuzz_check(c.field[i] != NULL, "every field is set");
	}
	fuzz_check(rc == 0 || (rc == -1 && c.err[0] != '\0'),
	    "a failure says why");
	ods_csv_close(&c);
	return 0;
}

/* Replays run each seed once as it is; no mode byte. */
const unsigned fuzz_replay_modes = 0;
