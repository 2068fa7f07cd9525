/*
 * fmt: the few texts the receive stage writes for every message,
 * without printf: a string copied and a number in decimal. Each is a
 * call of snprintf ("%s", "%0*llu") and gives what it gives: the length
 * the whole text needs; at most len - 1 bytes written, then a NUL
 * (nothing when len is 0). snprintf costs 600 to 1,000 instructions a
 * call, about 20,000 a report (docs/bench.md, "The pipeline"). And the
 * one form every program writes a time in, ISO 8601 UTC.
 */
#ifndef FMT_H
#define FMT_H

#include <stddef.h>
#include <time.h>

size_t	fmt_copy(char *, size_t, const char *);
size_t	fmt_uint(char *, size_t, unsigned long long, int);
int	fmt_add_uint(char *, size_t, size_t *, const char *,
	    unsigned long long, int);
/* t as ISO 8601 UTC, "YYYY-MM-DDTHH:MM:SSZ"; -1 and "" if it cannot be. */
int	fmt_iso(char *, size_t, time_t);

#endif
