/*
 * libFuzzer target: the report parser and verifier on arbitrary SMS
 * text. Build with 'make fuzz'; run build/fuzz/fuzz_decode CORPUS.
 */

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "memhist.h"
#include "tally.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct election	*el;
	static struct memhist	*mh;
	static struct lockout	*lk;
	static struct key	 root;
	struct verify_ctx	 ctx;
	struct verify_result	 res;
	struct report		 r;
	struct tokens		 t;
	struct decode_error	 e;
	char			 line[2048];
	int			 i;

	if (el == NULL) {
		if (key_init() == -1 || (el = election_default()) == NULL)
			abort();
		root.kind = KEY_ROOT;
		for (i = 0; i < TALLY_KEY_LEN; i++)
			root.k[i] = (uint8_t)i;
		mh = memhist_new();
		lk = lockout_new(NULL);
	}
	decode_tokens((const char *)data, size, &t);
	if (decode_report((const char *)data, size, &r, &e) == 0 &&
	    strlen(r.canon) >= sizeof(r.canon))
		abort();
	memset(&ctx, 0, sizeof(ctx));
	ctx.election = el;
	ctx.key = &root;
	ctx.history = memhist_history(mh);
	ctx.lockout = lk;
	ctx.default_dpt = VERIFY_DEFAULT_DPT;
	if (verify_report(&ctx, (const char *)data, size, "+6281", 0, &r,
	    &res) == 0) {
		verify_explain(&res, &r, line, sizeof(line));
		if ((res.verdict == VERDICT_OK ||
		    res.verdict == VERDICT_FLAGGED) &&
		    memhist_count(mh) < 100000)
			memhist_add(mh, &r, res.receipt);
	}
	return (0);
}
