/*
 * libFuzzer target: the registry's CSV importers (KPU lists are outside
 * input). The input goes to a file, imported as a village list and as a
 * DPT list into one scratch registry. Build with 'make fuzz'.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "tally.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char		 dir[64], csv[96], db[96];

/* At exit: the scratch directory goes (make check runs this often). */
static void
fuzz_cleanup(void)
{
	static const char *const tails[] = { "", "-wal", "-shm", "-journal" };
	char		 p[128];
	size_t		 i;

	unlink(csv);
	for (i = 0; i < sizeof(tails) / sizeof(tails[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", db, tails[i]);
		unlink(p);
	}
	rmdir(dir);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct registry	*reg;
	struct tps_info		 info;
	char			 err[512];
	size_t			 n;
	FILE			*fp;

	if (reg == NULL) {
		snprintf(dir, sizeof(dir), "/tmp/fuzzregXXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
		snprintf(csv, sizeof(csv), "%s/in.csv", dir);
		snprintf(db, sizeof(db), "%s/reg.db", dir);
		reg = registry_open(db, REGISTRY_CREATE, err, sizeof(err));
		if (reg == NULL)
			abort();
		atexit(fuzz_cleanup);
	}
	if ((fp = fopen(csv, "w")) == NULL)
		abort();
	if (size > 0 && fwrite(data, size, 1, fp) != 1)
		abort();
	fclose(fp);
	registry_import_desa(reg, csv, &n, err, sizeof(err));
	registry_import_dpt(reg, csv, &n, err, sizeof(err));
	registry_lookup(reg, 1101012001001ULL, &info);
	return (0);
}
