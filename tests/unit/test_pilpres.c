/*
 * Every complete row of the real 2024 presidential results
 * (../shared/data/pilpres2024_tps.csv) as a PPWP report: the verdict of
 * each row must be the one the rules give, computed here on its own
 * from the numbers, and each flag must name the rule it breaks.
 */

#include <unistd.h>

#include "unit.h"
#include "tally.h"

#define NFIELDS	32

/* Split one CSV line in place; quoted fields may hold commas and "". */
static int
csv_split(char *line, char **f, int max)
{
	char	*p = line, *w;
	int	 n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	while (n < max) {
		f[n++] = w = p;
		if (*p == '"') {
			for (p++; *p != '\0'; p++) {
				if (*p == '"' && p[1] == '"')
					*w++ = *p++;
				else if (*p == '"') {
					p++;
					break;
				} else
					*w++ = *p;
			}
		} else {
			while (*p != '\0' && *p != ',')
				*w++ = *p++;
		}
		if (*p == '\0') {
			*w = '\0';
			break;
		}
		*w = '\0';
		p++;
	}
	return n;
}

static int
col(char **hdr, int n, const char *name)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(hdr[i], name) == 0)
			return i;
	fail_msg("column %s missing", name);
	return -1;
}

static void
test_pilpres(void **state)
{
	static const char *names[] = { "kode_tps", "paslon_01", "paslon_02",
	    "paslon_03", "pengguna_total", "suara_sah", "suara_tidak_sah",
	    "dpt" };
	char			 dir[] = "/tmp/tallypilXXXXXX", db[128], err[512];
	char			 line[4096], hline[4096], text[256], why[1024];
	char			*hdr[NFIELDS], *f[NFIELDS], code[9];
	struct registry		*reg;
	struct election		*el;
	struct key		 root;
	struct verify_ctx	 ctx;
	struct verify_result	 res;
	struct report		 r;
	uint8_t			 kt[TALLY_KEY_LEN];
	FILE			*fp;
	size_t			 nrows = 0, ncomplete = 0, nok = 0, nflag = 0;
	size_t			 nrej = 0, nflags[4] = { 0 }, imported;
	int			 c[8], nh, i, k;

	(void)state;
	assert_int_equal(key_init(), 0);
	assert_non_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	reg = registry_open(db, REGISTRY_CREATE, err, sizeof(err));
	assert_non_null(reg);
	if (registry_import_dpt(reg, unit_shared("pilpres2024_tps.csv"),
	    &imported, err, sizeof(err)) == -1)
		fail_msg("%s", err);
	assert_int_equal(imported, 40855);
	el = election_default();
	assert_non_null(el);
	assert_int_equal(key_generate(&root), 0);
	memset(&ctx, 0, sizeof(ctx));
	ctx.election = el;
	ctx.registry = reg;
	ctx.key = &root;
	ctx.default_dpt = VERIFY_DEFAULT_DPT;

	fp = fopen(unit_shared("pilpres2024_tps.csv"), "r");
	assert_non_null(fp);
	assert_non_null(fgets(hline, sizeof(hline), fp));
	nh = csv_split(hline, hdr, NFIELDS);
	for (i = 0; i < 8; i++)
		c[i] = col(hdr, nh, names[i]);
	while (fgets(line, sizeof(line), fp) != NULL) {
		long	 v[8];
		unsigned exp = 0;
		int	 complete = 1, over = 0, ballots;

		nrows++;
		assert_int_equal(csv_split(line, f, NFIELDS), nh);
		for (i = 1; i < 8; i++) {
			if (*f[c[i]] == '\0')
				complete = 0;
			v[i] = atol(f[c[i]]);
			if (i < 7 && v[i] > 999)
				over = 1;
		}
		if (!complete)
			continue;
		ncomplete++;
		/* PEMILIH, pairs, SAH, TIDAK_SAH; card row 1 or the MAC. */
		snprintf(text, sizeof(text), "PPWP %s 1 %ld %ld %ld %ld %ld %ld",
		    f[c[0]], v[4], v[1], v[2], v[3], v[5], v[6]);
		assert_int_equal(key_derive_tps(&root, strtoull(f[c[0]], NULL,
		    10), kt), 0);
		if (ncomplete % 2)
			key_card(kt, 1, code);
		else
			key_mac(kt, text, code);
		strcat(text, " ");
		strcat(text, code);
		assert_int_equal(verify_report(&ctx, text, strlen(text), NULL,
		    0, &r, &res), 0);
		verify_explain(&res, &r, why, sizeof(why));
		if (over) {
			if (res.verdict != VERDICT_REJECTED ||
			    res.reason != REASON_VALUE_RANGE)
				fail_msg("%s: expected value over 999: %s",
				    f[c[0]], why);
			nrej++;
			continue;
		}
		/* A DPT over the legal 300 is a misreading: 300 is used. */
		ballots = (102 * (v[7] > 0 && v[7] <= 300 ? (int)v[7] : 300) +
		    99) / 100;
		if (v[1] + v[2] + v[3] != v[5])
			exp |= FLAG_SUM;
		if (v[5] + v[6] != v[4])
			exp |= FLAG_TOTAL;
		if (v[4] > ballots)
			exp |= FLAG_DPT;
		if (res.flags != exp || res.verdict != (exp ? VERDICT_FLAGGED :
		    VERDICT_OK))
			fail_msg("%s: expected flags %#x, got %s", f[c[0]], exp,
			    why);
		if (((exp & FLAG_SUM) != 0) != (strstr(why, "SUM: ") != NULL) ||
		    ((exp & FLAG_TOTAL) != 0) !=
		    (strstr(why, "TOTAL: ") != NULL) ||
		    ((exp & FLAG_DPT) != 0) != (strstr(why, "DPT: ") != NULL))
			fail_msg("%s: flags not named: %s", f[c[0]], why);
		if (exp == 0)
			nok++;
		else
			nflag++;
		for (k = 0; k < 3; k++)
			if (exp & (1u << k))
				nflags[k]++;
	}
	fclose(fp);
	print_message("%zu rows, %zu complete: %zu OK, %zu FLAGGED (SUM %zu, "
	    "TOTAL %zu, DPT %zu), %zu REJECTED\n", nrows, ncomplete, nok,
	    nflag, nflags[0], nflags[1], nflags[2], nrej);
	assert_int_equal(nrows, 40855);
	assert_int_equal(nok + nflag + nrej, ncomplete);
	/* The figures: about 21,000 OK and about 2,200 FLAGGED. */
	assert_in_range(nok, 20500, 21500);
	assert_in_range(nflag, 2000, 2400);
	election_free(el);
	registry_close(reg);
	unlink(db);
	snprintf(db, sizeof(db), "rm -rf %s", dir);
	assert_int_equal(system(db), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pilpres),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
