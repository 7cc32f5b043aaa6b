/* ods_csv: reads the ODS extracts' CSV one record at a time. */
#include "ods_csv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int
ods_csv_open(struct ods_csv *c, const char *path)
{
	struct stat sb;

	memset(c, 0, sizeof(*c));
	if ((c->fp = fopen(path, "r")) == NULL)
		return -1;
	if (fstat(fileno(c->fp), &sb) == 0 && S_ISREG(sb.st_mode))
		c->total = (size_t)sb.st_size;
	return 0;
}

void
ods_csv_close(struct ods_csv *c)
{
	if (c->fp != NULL)
		fclose(c->fp);
	free(c->line);
	memset(c, 0, sizeof(*c));
}

static int
ods_csv_fail(struct ods_csv *c, const char *why)
{
	snprintf(c->err, sizeof(c->err), "%s", why);
	return -1;
}

/*
 * One quoted field starting at *in (just past the opening quote),
 * copied unquoted to *out. Leaves *in just past the closing quote.
 * The copy never runs ahead of the reading, so it can be in place.
 */
static int
ods_csv_quoted(struct ods_csv *c, char **in, char **out)
{
	char *p = *in, *o = *out;

	for (;;) {
		if (*p == '\0')
			return ods_csv_fail(c, "unterminated quoted field");
		if (*p == '"' && p[1] == '"') {
			*o++ = '"';
			p += 2;
		} else if (*p == '"') {
			p++;
			break;
		} else
			*o++ = *p++;
	}
	if (*p != ',' && *p != '\0')
		return ods_csv_fail(c, "text after a closing quote");
	*in = p;
	*out = o;
	return 0;
}

static int
ods_csv_split(struct ods_csv *c, char *p)
{
	char *o;

	c->nfields = 0;
	for (;;) {
		if (c->nfields == ODS_CSV_MAXFIELDS)
			return ods_csv_fail(c, "too many fields");
		c->field[c->nfields++] = o = p;
		if (*p == '"') {
			p++;
			if (ods_csv_quoted(c, &p, &o) == -1)
				return -1;
		} else {
			while (*p != ',' && *p != '\0') {
				if (*p == '"')
					return ods_csv_fail(c,
					    "quote inside an unquoted field");
				*o++ = *p++;
			}
		}
		if (*p == '\0') {
			*o = '\0';
			return 0;
		}
		*o = '\0';
		p++;
	}
}

int
ods_csv_next(struct ods_csv *c)
{
	ssize_t n;

	for (;;) {
		errno = 0;
		if ((n = getline(&c->line, &c->cap, c->fp)) == -1) {
			if (ferror(c->fp))
				return ods_csv_fail(c, strerror(errno));
			return 0;
		}
		c->lineno++;
		c->done += (size_t)n;
		if ((size_t)n != strlen(c->line))
			return ods_csv_fail(c, "NUL byte in line");
		while (n > 0 && (c->line[n - 1] == '\n' ||
		    c->line[n - 1] == '\r'))
			c->line[--n] = '\0';
		if (n > 0)
			return ods_csv_split(c, c->line) == -1 ? -1 : 1;
	}
}
