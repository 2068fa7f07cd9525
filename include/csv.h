/*
 * csv: CSV files read record by record (RFC 4180): the registry's
 * imports, the simulator's scenario data and the KPPS number list all
 * read their files through this one reader. A record's fields live in
 * the reader until the next csv_read; csv_fail records what is wrong
 * with the current record, csv->lineno says where it starts.
 */
#ifndef CSV_H
#define CSV_H

#include <stddef.h>
#include <stdio.h>

#define CSV_MAXFIELDS		64
#define CSV_MAXRECORD		65536	/* bytes of one record */

struct csv {
	FILE		*fp;
	const char	*path;
	char		*line;
	size_t		 linecap;
	char		*rec;		/* the fields, each NUL-terminated */
	size_t		 reclen;
	size_t		 reccap;
	size_t		 nf;
	size_t		 off[CSV_MAXFIELDS];
	unsigned long	 lineno;	/* first line of the current record */
	unsigned long	 nlines;	/* physical lines read so far */
	char		 err[384];	/* what is wrong, without the place */
};

/* A column a reader looks for in a header. */
struct csv_column {
	const char	*name;
	int		 required;
};

int		 csv_open(struct csv *, const char *);
void		 csv_close(struct csv *);
int		 csv_read(struct csv *);
const char	*csv_field(const struct csv *, size_t);
int		 csv_header(struct csv *, const struct csv_column *, size_t,
		    int *);
const char	*csv_col(const struct csv *, const int *, int);
int		 csv_fail(struct csv *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));

#endif /* CSV_H */
