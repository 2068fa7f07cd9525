/*
 * Unit tests of csv: RFC 4180 records (quotes, doubled quotes, commas
 * and line ends inside quotes, CRLF, blank lines), headers (byte order
 * mark, case, missing and repeated columns), and malformed records named
 * by the line where they start.
 */

#include <unistd.h>

#include "csv.h"
#include "unit.h"

/* Write text to a temporary file and open a reader on it. */
static void
open_text(struct csv *c, char *path, size_t len, const char *text)
{
	FILE	*fp;
	int	 fd;

	snprintf(path, len, "/tmp/tallycsvXXXXXX");
	fd = mkstemp(path);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(csv_open(c, path), 0);
}

static void
close_text(struct csv *c, const char *path)
{
	csv_close(c);
	unlink(path);
}

static void
test_records(void **state)
{
	struct csv	 c;
	char		 path[64];

	(void)state;
	open_text(&c, path, sizeof(path),
	    "a,b,c\r\n"
	    "\n"
	    "1,\"two, three\",\"say \"\"hi\"\"\"\n"
	    "x,\"line\nbreak\",\n"
	    ",,\n"
	    "last,no,newline");
	assert_int_equal(csv_read(&c), 1);
	assert_int_equal(c.nf, 3);
	assert_string_equal(csv_field(&c, 2), "c");	/* no \r */
	assert_int_equal(csv_read(&c), 1);		/* blank passed */
	assert_int_equal(c.lineno, 3);
	assert_string_equal(csv_field(&c, 1), "two, three");
	assert_string_equal(csv_field(&c, 2), "say \"hi\"");
	assert_int_equal(csv_read(&c), 1);
	assert_int_equal(c.lineno, 4);
	assert_string_equal(csv_field(&c, 1), "line\nbreak");
	assert_string_equal(csv_field(&c, 2), "");
	assert_int_equal(csv_read(&c), 1);
	assert_int_equal(c.lineno, 6);			/* after 2 lines */
	assert_int_equal(c.nf, 3);
	assert_string_equal(csv_field(&c, 0), "");
	assert_int_equal(csv_read(&c), 1);
	assert_string_equal(csv_field(&c, 2), "newline");
	assert_int_equal(csv_read(&c), 0);
	close_text(&c, path);
}

static void
test_header(void **state)
{
	static const struct csv_column cols[] = { { "kode_tps", 1 },
	    { "dpt", 1 }, { "nama", 0 } };
	struct csv	 c;
	char		 path[64];
	int		 idx[3];

	(void)state;
	open_text(&c, path, sizeof(path),
	    "\xef\xbb\xbfKODE_TPS,other,dpt\n1101012001001,x,250\n");
	assert_int_equal(csv_header(&c, cols, 3, idx), 0);
	assert_int_equal(idx[0], 0);
	assert_int_equal(idx[1], 2);
	assert_int_equal(idx[2], -1);
	assert_int_equal(csv_read(&c), 1);
	assert_string_equal(csv_col(&c, idx, 1), "250");
	assert_string_equal(csv_col(&c, idx, 2), "");	/* optional */
	close_text(&c, path);

	open_text(&c, path, sizeof(path), "kode_tps,nama\n");
	assert_int_equal(csv_header(&c, cols, 3, idx), -1);
	assert_non_null(strstr(c.err, "missing column \"dpt\""));
	close_text(&c, path);

	open_text(&c, path, sizeof(path), "dpt,kode_tps,dpt\n");
	assert_int_equal(csv_header(&c, cols, 3, idx), -1);
	assert_non_null(strstr(c.err, "twice"));
	close_text(&c, path);

	open_text(&c, path, sizeof(path), "");
	assert_int_equal(csv_header(&c, cols, 3, idx), -1);
	assert_int_equal(c.lineno, 1);
	assert_non_null(strstr(c.err, "empty file"));
	close_text(&c, path);
}

static void
test_malformed(void **state)
{
	struct csv	 c;
	char		 path[64], big[80 * 3 + 16];
	int		 i;

	(void)state;
	open_text(&c, path, sizeof(path), "ok,1\nab\"c,2\n");
	assert_int_equal(csv_read(&c), 1);
	assert_int_equal(csv_read(&c), -1);
	assert_int_equal(c.lineno, 2);
	assert_non_null(strstr(c.err, "quote inside an unquoted field"));
	close_text(&c, path);

	open_text(&c, path, sizeof(path), "\"a\"b,1\n");
	assert_int_equal(csv_read(&c), -1);
	assert_non_null(strstr(c.err, "after the closing quote"));
	close_text(&c, path);

	open_text(&c, path, sizeof(path), "x\n\"never closed,1\n2\n");
	assert_int_equal(csv_read(&c), 1);
	assert_int_equal(csv_read(&c), -1);
	assert_int_equal(c.lineno, 2);
	assert_non_null(strstr(c.err, "not closed"));
	close_text(&c, path);

	/* More fields than CSV_MAXFIELDS. */
	for (i = 0; i < 80; i++)
		memcpy(big + i * 3, "a,,", 3);
	memcpy(big + 80 * 3, "\n", 2);
	open_text(&c, path, sizeof(path), big);
	assert_int_equal(csv_read(&c), -1);
	assert_non_null(strstr(c.err, "more than"));
	close_text(&c, path);

	assert_int_equal(csv_open(&c, "/nonexistent/tally.csv"), -1);
	assert_non_null(strstr(c.err, "No such file"));
	csv_close(&c);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_records),
	cmocka_unit_test(test_header),
	cmocka_unit_test(test_malformed),
};

UNIT_MAIN(tests)
