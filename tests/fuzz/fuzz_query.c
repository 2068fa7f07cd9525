/*
 * libFuzzer target: the query strings of the admin API (query.c), as
 * admin.c hands them from a request's URI: every parser of them, and
 * the time parser alone.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct store_msg_query	 m;
	struct query_coverage	 c;
	struct query_export	 e;
	struct query_retry	 r;
	char			 err[256], t[GW_ISO_MAX], *qs;

	/* A URI's query never holds a NUL: it ends the string. */
	if ((qs = malloc(size + 1)) == NULL)
		return (0);
	memcpy(qs, data, size);
	qs[size] = '\0';
	if (query_messages(qs, &m, err, sizeof(err)) == 0 &&
	    (m.limit < 1 || m.limit > QUERY_LIMIT_MAX))
		abort();
	if (query_coverage(qs, &c, err, sizeof(err)) == 0 &&
	    c.in_digits >= c.digits)
		abort();
	(void)query_export(qs, &e, err, sizeof(err));
	(void)query_retry(qs, &r, err, sizeof(err));
	if (query_time(qs, t, sizeof(t)) == 0 && strlen(t) != 24)
		abort();
	free(qs);
	return (0);
}
