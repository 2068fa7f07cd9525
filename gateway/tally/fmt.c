/*
 * fmt: a string copied and a number in decimal, as snprintf would
 * write them, and a time in ISO 8601 (include/fmt.h).
 */

#include <stddef.h>
#include <string.h>
#include <time.h>

#include "fmt.h"

/* snprintf(dst, len, "%s", src). */
size_t
fmt_copy(char *dst, size_t len, const char *src)
{
	size_t	 n = strlen(src);

	if (len > 0) {
		memcpy(dst, src, n < len ? n : len - 1);
		dst[n < len ? n : len - 1] = '\0';
	}
	return (n);
}

/* snprintf(dst, len, "%0*llu", width, v): at least width digits. */
size_t
fmt_uint(char *dst, size_t len, unsigned long long v, int width)
{
	char	 d[64];
	size_t	 i = sizeof(d) - 1;

	d[i] = '\0';
	do
		d[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	if (width > (int)(sizeof(d) - 1))
		width = (int)(sizeof(d) - 1);
	while (sizeof(d) - 1 - i < (size_t)width)
		d[--i] = '0';
	return (fmt_copy(dst, len, d + i));
}

/*
 * sep, then the number (at least width digits), onto the text of buf at
 * *off, which moves past them: a list built piece by piece. -1 if they
 * do not fit (buf then holds what fitted).
 */
int
fmt_add_uint(char *buf, size_t len, size_t *off, const char *sep,
    unsigned long long v, int width)
{
	size_t	 n;

	if (*off >= len)
		return (-1);
	n = fmt_copy(buf + *off, len - *off, sep);
	if (n >= len - *off)
		return (-1);
	*off += n;
	n = fmt_uint(buf + *off, len - *off, v, width);
	if (n >= len - *off)
		return (-1);
	*off += n;
	return (0);
}

int
fmt_iso(char *buf, size_t len, time_t t)
{
	struct tm	 tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
		if (len > 0)
			buf[0] = '\0';
		return (-1);
	}
	return (0);
}
