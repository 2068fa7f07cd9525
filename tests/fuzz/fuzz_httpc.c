/*
 * libFuzzer target: tallyctl's HTTP client (gateway/ctl/httpc.c) reading
 * an answer, which --url lets come from any server. The first byte says
 * where the input is cut into two reads; the body must never be handed
 * on in more bytes than the input had.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int
fuzz_httpc_body(const char *p, size_t n, void *arg)
{
	size_t	*total = arg;

	if (p == NULL || n == 0)
		abort();
	*total += n;
	return (0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct httpc	 h;
	size_t		 cut, total = 0;
	int		 rc;

	if (size == 0)
		return (0);
	cut = data[0] % size;
	data++;
	size--;
	if (cut > size)
		cut = size;
	httpc_init(&h, fuzz_httpc_body, &total);
	rc = httpc_feed(&h, (const char *)data, cut);
	if (rc == 0)
		rc = httpc_feed(&h, (const char *)data + cut, size - cut);
	if (rc == 0)
		(void)httpc_eof(&h);
	if (total > size)
		abort();
	return (0);
}
