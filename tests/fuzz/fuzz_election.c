/*
 * libFuzzer target: the election definition parser (an operator's file,
 * so outside input). Build with 'make fuzz'.
 */

#include <stdint.h>
#include <stdlib.h>

#include "tally.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct election	*el;
	struct form	 f;
	enum reason	 why;
	char		 err[512];
	int		 c;

	el = election_parse((const char *)data, size, "fuzz", err, sizeof(err));
	if (el == NULL)
		return (0);
	for (c = CONTEST_PPWP; c <= CONTEST_DPRDK; c++) {
		election_form(el, (enum contest)c, 3201012001001ULL,
		    decode_contest_paged((enum contest)c) ? 0 : -1, &f, &why);
		election_form(el, (enum contest)c, 1101012001001ULL,
		    decode_contest_paged((enum contest)c) ? 1 : -1, &f, &why);
	}
	election_free(el);
	return (0);
}
