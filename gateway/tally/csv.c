/*
 * csv: an RFC 4180 reader shared by the registry's imports, the
 * simulator's scenario data and the KPPS number list (include/csv.h).
 */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#include "csv.h"

/* Record what is wrong with the current record; always -1. */
int
csv_fail(struct csv *c, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return (-1);
}

int
csv_open(struct csv *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	c->path = path;
	if ((c->fp = fopen(path, "r")) == NULL)
		return (csv_fail(c, "%s", strerror(errno)));
	return (0);
}

void
csv_close(struct csv *c)
{
	if (c->fp != NULL)
		fclose(c->fp);
	free(c->line);
	free(c->rec);
	c->fp = NULL;
	c->line = c->rec = NULL;
}

static int
csv_putc(struct csv *c, char ch)
{
	char	*p;
	size_t	 ncap;

	if (c->reclen >= CSV_MAXRECORD)
		return (csv_fail(c, "record longer than %d bytes",
		    CSV_MAXRECORD));
	if (c->reclen == c->reccap) {
		ncap = c->reccap == 0 ? 256 : c->reccap * 2;
		if ((p = realloc(c->rec, ncap)) == NULL)
			return (csv_fail(c, "%s", strerror(errno)));
		c->rec = p;
		c->reccap = ncap;
	}
	c->rec[c->reclen++] = ch;
	return (0);
}

/* Close the current field and, if more follow, open the next. */
static int
csv_endfield(struct csv *c, int more)
{
	if (csv_putc(c, '\0') == -1)
		return (-1);
	if (!more)
		return (0);
	if (c->nf == CSV_MAXFIELDS)
		return (csv_fail(c, "more than %d fields", CSV_MAXFIELDS));
	c->off[c->nf++] = c->reclen;
	return (0);
}

/* Read one physical line without its line end; -1 at end of file. */
static ssize_t
csv_getline(struct csv *c)
{
	ssize_t	 n;

	if ((n = getline(&c->line, &c->linecap, c->fp)) == -1)
		return (-1);
	c->nlines++;
	if (n > 0 && c->line[n - 1] == '\n')
		n--;
	if (n > 0 && c->line[n - 1] == '\r')
		n--;
	c->line[n] = '\0';
	return (n);
}

/*
 * Read one record: fields split on commas, a field in double quotes may
 * hold commas, doubled quotes and line ends.  Blank lines carry no data
 * and are passed over.  1 read, 0 end of file, -1 malformed (c->err).
 */
int
csv_read(struct csv *c)
{
	enum { F_START, F_PLAIN, F_QUOTED, F_QUOTE_END } st = F_START;
	ssize_t	 n, i;
	char	 ch;

	c->nf = 0;
	c->reclen = 0;
	c->err[0] = '\0';
	do {
		if ((n = csv_getline(c)) == -1) {
			if (ferror(c->fp))
				return (csv_fail(c, "read error: %s",
				    strerror(errno)));
			return (0);
		}
	} while (n == 0);
	c->lineno = c->nlines;
	c->off[c->nf++] = 0;

	for (;;) {
		for (i = 0; i < n; i++) {
			ch = c->line[i];
			if (ch == '\0')
				return (csv_fail(c, "NUL byte in line %lu",
				    c->nlines));
			switch (st) {
			case F_START:
				if (ch == '"') {
					st = F_QUOTED;
					continue;
				}
				if (ch == ',') {
					if (csv_endfield(c, 1) == -1)
						return (-1);
					continue;
				}
				st = F_PLAIN;
				break;
			case F_PLAIN:
				if (ch == ',') {
					if (csv_endfield(c, 1) == -1)
						return (-1);
					st = F_START;
					continue;
				}
				if (ch == '"')
					return (csv_fail(c, "field %zu: quote "
					    "inside an unquoted field", c->nf));
				break;
			case F_QUOTED:
				if (ch == '"') {
					st = F_QUOTE_END;
					continue;
				}
				break;
			case F_QUOTE_END:
				if (ch == '"') {
					st = F_QUOTED;
					break;	/* a doubled quote */
				}
				if (ch == ',') {
					if (csv_endfield(c, 1) == -1)
						return (-1);
					st = F_START;
					continue;
				}
				return (csv_fail(c, "field %zu: text after the "
				    "closing quote", c->nf));
			}
			if (csv_putc(c, ch) == -1)
				return (-1);
		}
		if (st != F_QUOTED)
			break;
		/* A quoted field goes on to the next line. */
		if (csv_putc(c, '\n') == -1)
			return (-1);
		if ((n = csv_getline(c)) == -1)
			return (csv_fail(c, "field %zu: quoted field not "
			    "closed before the end of the file", c->nf));
	}
	if (csv_endfield(c, 0) == -1)
		return (-1);
	return (1);
}

const char *
csv_field(const struct csv *c, size_t i)
{
	return (c->rec + c->off[i]);
}

/*
 * Read the header and find each wanted column by name; idx[i] is the
 * field number or -1.  Columns the importer does not know are ignored.
 */
int
csv_header(struct csv *c, const struct csv_column *cols, size_t ncols,
    int *idx)
{
	const char	*f;
	size_t		 i, j;
	int		 rc;

	if ((rc = csv_read(c)) == -1)
		return (-1);
	if (rc == 0) {
		c->lineno = 1;
		return (csv_fail(c, "empty file, expected a header line"));
	}
	for (j = 0; j < ncols; j++)
		idx[j] = -1;
	for (i = 0; i < c->nf; i++) {
		f = csv_field(c, i);
		if (i == 0 && strncmp(f, "\xef\xbb\xbf", 3) == 0)
			f += 3;		/* a UTF-8 byte order mark */
		for (j = 0; j < ncols; j++) {
			if (strcasecmp(f, cols[j].name) != 0)
				continue;
			if (idx[j] != -1)
				return (csv_fail(c, "column \"%s\" appears "
				    "twice in the header", cols[j].name));
			idx[j] = (int)i;
		}
	}
	for (j = 0; j < ncols; j++)
		if (cols[j].required && idx[j] == -1)
			return (csv_fail(c, "missing column \"%s\" in the "
			    "header", cols[j].name));
	return (0);
}

/* A field of an optional column: "" when the file has no such column. */
const char *
csv_col(const struct csv *c, const int *idx, int col)
{
	if (idx[col] < 0)
		return ("");
	return (csv_field(c, (size_t)idx[col]));
}
