/*
 * Unit tests of fmt: each call against the C library's snprintf with
 * the same arguments (the oracle: what fmt replaces), for numbers at
 * every length and power of ten, widths, and buffers from 0 bytes up
 * (cut texts, the length returned, the NUL).
 */

#include <limits.h>
#include <stdio.h>

#include "unit.h"
#include "fmt.h"

/* dst and snprintf's text agree, in full and cut to every length. */
static void
same_uint(unsigned long long v, int width)
{
	char	 want[80], got[80];
	size_t	 len;
	int	 n;

	for (len = 0; len <= 24; len++) {
		memset(want, 'x', sizeof(want));
		memset(got, 'x', sizeof(got));
		n = snprintf(want, len, "%0*llu", width, v);
		assert_int_equal(fmt_uint(got, len, v, width), (size_t)n);
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void
test_uint(void **state)
{
	unsigned long long	 p;
	int			 w;

	for (w = 0; w <= 20; w++) {
		same_uint(0, w);
		same_uint(ULLONG_MAX, w);
		for (p = 1; p <= 10000000000000000000ULL; p *= 10) {
			same_uint(p - 1, w);
			same_uint(p, w);
			same_uint(p + 1, w);
			if (p == 10000000000000000000ULL)
				break;
		}
	}
	same_uint(65535, 0);
	same_uint(42, 8);
	same_uint(6571021002004ULL, 13);
	same_uint(1101010001ULL, 13);
}

static void
same_copy(const char *s)
{
	char	 want[40], got[40];
	size_t	 len;
	int	 n;

	for (len = 0; len <= 32; len++) {
		memset(want, 'x', sizeof(want));
		memset(got, 'x', sizeof(got));
		n = snprintf(want, len, "%s", s);
		assert_int_equal(fmt_copy(got, len, s), (size_t)n);
		assert_memory_equal(got, want, sizeof(want));
	}
}

static void
test_copy(void **state)
{
	same_copy("");
	same_copy("m0");
	same_copy("+6281234567890");
	same_copy("PPWP 6571021002004 1 269 63 181 16 260 9 12345678");
}

/* The times as `date -u -d @T +%Y-%m-%dT%H:%M:%SZ` writes them. */
static void
test_iso(void **state)
{
	char	 buf[32];

	(void)state;
	assert_int_equal(fmt_iso(buf, sizeof(buf), 0), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00Z");
	assert_int_equal(fmt_iso(buf, sizeof(buf), 1707879721), 0);
	assert_string_equal(buf, "2024-02-14T03:02:01Z");
	assert_int_equal(fmt_iso(buf, 21, 1707879721), 0);
	assert_int_equal(fmt_iso(buf, 20, 1707879721), -1);
	assert_string_equal(buf, "");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_uint),
	cmocka_unit_test(test_copy),
	cmocka_unit_test(test_iso),
};

UNIT_MAIN(tests)
