/*
 * Benchmark of the TPS registry: import the national village list and
 * the DPT file into a new registry, then time lookups as the gateway
 * makes them.  Prints one figure per line for tests/bench.sh.
 *
 * usage: bench_registry DB DESA.csv [DPT.csv]
 */

#include <sys/resource.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "tally.h"

#define BENCH_LOOKUPS	1000000

static double
now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* Peak resident set size of this process so far, in KiB. */
static long
peak_rss(void)
{
	struct rusage	 ru;

	if (getrusage(RUSAGE_SELF, &ru) == -1)
		return (-1);
	return (ru.ru_maxrss);
}

/* A cheap generator for the lookup keys, the same on every run. */
static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (*s);
}

/* The village codes of a desa file (first field), abroad left out. */
static size_t
village_codes(const char *path, uint64_t **out)
{
	FILE		*fp;
	char		 line[1024];
	uint64_t	*v = NULL, *p, code;
	size_t		 n = 0, cap = 0;
	char		*end;

	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), fp) != NULL) {
		code = strtoull(line, &end, 10);
		if (end - line != 10 || *end != ',' || code / 100000000 == 99)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if ((p = realloc(v, cap * sizeof(*v))) == NULL)
				break;
			v = p;
		}
		v[n++] = code;
	}
	fclose(fp);
	*out = v;
	return (n);
}

int
main(int argc, char *argv[])
{
	struct registry	*reg;
	struct tps_info	 info;
	char		 err[512];
	size_t		 n, ntps, i, found = 0;
	uint64_t	 seed = 0x9e3779b97f4a7c15ULL, tps, *vil = NULL;
	size_t		 nvil;
	double		 t0, t1;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: bench_registry DB DESA.csv "
		    "[DPT.csv]\n");
		return (2);
	}
	log_init("bench_registry", LOG_TO_STDERR, 0);

	t0 = now();
	if ((reg = registry_open(argv[1], REGISTRY_CREATE, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "bench_registry: %s\n", err);
		return (1);
	}
	if (registry_import_desa(reg, argv[2], &ntps, err,
	    sizeof(err)) == -1) {
		fprintf(stderr, "bench_registry: %s\n", err);
		return (1);
	}
	t1 = now();
	printf("registry: import desa: %zu TPS in %.2f s (%.0f TPS/s)\n",
	    ntps, t1 - t0, ntps / (t1 - t0));

	if (argc == 4) {
		t0 = now();
		if (registry_import_dpt(reg, argv[3], &n, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "bench_registry: %s\n", err);
			return (1);
		}
		t1 = now();
		printf("registry: import dpt: %zu rows in %.2f s\n", n,
		    t1 - t0);
	}

	t0 = now();
	if (registry_import_desa(reg, argv[2], &n, err, sizeof(err)) == -1) {
		fprintf(stderr, "bench_registry: %s\n", err);
		return (1);
	}
	t1 = now();
	printf("registry: re-import desa (no change): %zu TPS in %.2f s\n",
	    n, t1 - t0);

	if (registry_count(reg, &n) == -1)
		return (1);
	printf("registry: TPS in registry: %zu\n", n);

	/* Lookups as reports arrive: TPS 001 of random villages (hits). */
	if ((nvil = village_codes(argv[2], &vil)) == 0) {
		fprintf(stderr, "bench_registry: no village codes\n");
		return (1);
	}
	t0 = now();
	for (i = 0; i < BENCH_LOOKUPS; i++) {
		tps = vil[xorshift(&seed) % nvil] * 1000 + 1;
		switch (registry_lookup(reg, tps, &info)) {
		case 1:
			found++;
			break;
		case 0:
			break;
		default:
			return (1);
		}
	}
	t1 = now();
	printf("registry: %d lookups (%zu found) in %.2f s: %.2f us each\n",
	    BENCH_LOOKUPS, found, t1 - t0, (t1 - t0) * 1e6 / BENCH_LOOKUPS);
	free(vil);
	printf("registry: peak RSS %ld KiB\n", peak_rss());
	registry_close(reg);
	return (0);
}
