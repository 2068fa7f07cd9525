/*
 * callback: the body of a USSD aggregator's callback, outside input.
 * An application/x-www-form-urlencoded body with the fields sessionId,
 * serviceCode, phoneNumber, networkCode and text (docs/ussd.md). Pure,
 * so that a fuzz target reads it as the daemon does.
 */
#include <sys/types.h>

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "gw.h"

/* Where each field of the form lands, and what it may hold. */
static const struct callback_field {
	const char	*name;
	size_t		 off;
	size_t		 size;
	int		 required;
} callback_fields[] = {
#define CB(n, f, r) { n, offsetof(struct callback, f), \
	sizeof(((struct callback *)0)->f), r }
	CB("sessionId",		session,	1),
	CB("serviceCode",	service,	0),
	CB("phoneNumber",	phone,		1),
	CB("networkCode",	network,	0),
	CB("text",		text,		0),
#undef CB
};
#define CALLBACK_NFIELDS \
	(sizeof(callback_fields) / sizeof(callback_fields[0]))

static int
callback_hex(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/*
 * Decode one percent-encoded value into dst; '+' is a space except in
 * the phone number, where aggregators send +62... unencoded. -1 on a
 * bad escape, a NUL or a control character, or a value too long. (The
 * admin API's query strings are read with it too: query.c.)
 */
int
callback_decode(const char *s, size_t n, int plus_is_space, char *dst,
    size_t size)
{
	size_t	 i, o = 0;
	int	 c, hi, lo;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return (-1);
			if ((hi = callback_hex(s[i + 1])) < 0 ||
			    (lo = callback_hex(s[i + 2])) < 0)
				return (-1);
			c = hi * 16 + lo;
			i += 2;
		} else if (c == '+' && plus_is_space)
			c = ' ';
		if (c < ' ' || c == 0x7f || o + 1 >= size)
			return (-1);
		dst[o++] = (char)c;
	}
	dst[o] = '\0';
	return (0);
}

/* One name=value pair of the body; unknown names are passed over. */
static int
callback_pair(struct callback *cb, const char *p, size_t n,
    unsigned *seen, char *err, size_t errlen)
{
	const struct callback_field	*f;
	const char			*eq = memchr(p, '=', n);
	size_t				 nlen, i;

	nlen = eq != NULL ? (size_t)(eq - p) : n;
	for (i = 0; i < CALLBACK_NFIELDS; i++) {
		f = &callback_fields[i];
		if (strlen(f->name) == nlen && memcmp(f->name, p, nlen) == 0)
			break;
	}
	if (i == CALLBACK_NFIELDS)
		return (0);
	if (*seen & (1U << i)) {
		snprintf(err, errlen, "%s given twice", f->name);
		return (-1);
	}
	*seen |= 1U << i;
	if (eq == NULL)
		return (0);
	if (callback_decode(eq + 1, n - nlen - 1, strcmp(f->name,
	    "phoneNumber") != 0, (char *)cb + f->off, f->size) == -1) {
		snprintf(err, errlen, "%s: bad or too long value", f->name);
		return (-1);
	}
	return (0);
}

/* The form body into cb; -1 with what is wrong in err. */
int
callback_parse(const char *body, size_t len, struct callback *cb, char *err,
    size_t errlen)
{
	const char	*p = body, *end = body + len, *amp;
	unsigned	 seen = 0;
	size_t		 i;

	memset(cb, 0, sizeof(*cb));
	if (len > CALLBACK_BODY_MAX) {
		snprintf(err, errlen, "body over %d bytes", CALLBACK_BODY_MAX);
		return (-1);
	}
	while (p < end) {
		if ((amp = memchr(p, '&', end - p)) == NULL)
			amp = end;
		if (amp > p && callback_pair(cb, p, amp - p, &seen, err,
		    errlen) == -1)
			return (-1);
		p = amp + 1;
	}
	for (i = 0; i < CALLBACK_NFIELDS; i++)
		if (callback_fields[i].required && ((char *)cb +
		    callback_fields[i].off)[0] == '\0') {
			snprintf(err, errlen, "%s missing",
			    callback_fields[i].name);
			return (-1);
		}
	return (0);
}
