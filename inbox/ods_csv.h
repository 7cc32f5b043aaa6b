/* ods_csv: reads the ODS extracts' CSV one record at a time. */
#ifndef HEARD_ODS_CSV_H
#define HEARD_ODS_CSV_H

#include <stddef.h>
#include <stdio.h>

/* ODS records have 27 fields; anything wider is not an ODS file. */
#define ODS_CSV_MAXFIELDS	32

struct ods_csv {
	FILE	*fp;		/* owned */
	char	*line;		/* owned; the fields point into it */
	size_t	 cap;
	size_t	 lineno;	/* of the record just read, from 1 */
	size_t	 done;		/* bytes read so far */
	size_t	 total;		/* file size, for progress */
	char	*field[ODS_CSV_MAXFIELDS];	/* borrowed from line */
	size_t	 nfields;
	char	 err[128];	/* why ods_csv_next failed */
};

/* -1 with errno set if the file cannot be opened. */
int	ods_csv_open(struct ods_csv *, const char *path);
/*
 * Reads the next record, unquoting fields in place: 1 a record, 0 end
 * of file, -1 malformed (err says why, lineno says where). Blank lines
 * are skipped; CRLF and LF endings are both accepted.
 */
int	ods_csv_next(struct ods_csv *);
void	ods_csv_close(struct ods_csv *);

#endif
