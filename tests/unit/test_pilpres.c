/*
 * Every complete row of the real 2024 presidential results
 * (../shared/data/pilpres2024_tps.csv) as a PPWP report: the verdict of
 * each row must be the one the rules give, computed here on its own
 * from the numbers, and each flag must name the rule it breaks.
 */

#include <unistd.h>

#include "csv.h"
#include "unit.h"
#include "tally.h"

static void
test_pilpres(void **state)
{
	static const struct csv_column cols[] = { { "kode_tps", 1 },
	    { "paslon_01", 1 }, { "paslon_02", 1 }, { "paslon_03", 1 },
	    { "pengguna_total", 1 }, { "suara_sah", 1 },
	    { "suara_tidak_sah", 1 }, { "dpt", 1 } };
	char			 dir[] = "/tmp/tallypilXXXXXX", db[128], err[512];
	char			 text[256], why[1024], code[9];
	const char		*f[8];
	struct csv		 csv;
	struct registry		*reg;
	struct election		*el;
	struct key		 root;
	struct verify_ctx	 ctx;
	struct verify_result	 res;
	struct report		 r;
	uint8_t			 kt[TALLY_KEY_LEN];
	size_t			 nrows = 0, ncomplete = 0, nok = 0, nflag = 0;
	size_t			 nrej = 0, nflags[4] = { 0 }, imported;
	int			 c[8], i, k, rc;
	size_t			 nh;

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

	if (csv_open(&csv, unit_shared("pilpres2024_tps.csv")) == -1 ||
	    csv_header(&csv, cols, 8, c) == -1)
		fail_msg("pilpres2024_tps.csv:%lu: %s", csv.lineno, csv.err);
	nh = csv.nf;
	while ((rc = csv_read(&csv)) == 1) {
		long	 v[8];
		unsigned exp = 0;
		int	 complete = 1, over = 0, ballots;

		nrows++;
		assert_int_equal(csv.nf, nh);
		for (i = 0; i < 8; i++)
			f[i] = csv_col(&csv, c, i);
		for (i = 1; i < 8; i++) {
			if (*f[i] == '\0')
				complete = 0;
			v[i] = atol(f[i]);
			if (i < 7 && v[i] > 999)
				over = 1;
		}
		if (!complete)
			continue;
		ncomplete++;
		/* PEMILIH, pairs, SAH, TIDAK_SAH; card row 1 or the MAC. */
		snprintf(text, sizeof(text), "PPWP %s 1 %ld %ld %ld %ld %ld %ld",
		    f[0], v[4], v[1], v[2], v[3], v[5], v[6]);
		assert_int_equal(key_derive_tps(&root, strtoull(f[0], NULL,
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
				    f[0], why);
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
			fail_msg("%s: expected flags %#x, got %s", f[0], exp,
			    why);
		if (((exp & FLAG_SUM) != 0) != (strstr(why, "SUM: ") != NULL) ||
		    ((exp & FLAG_TOTAL) != 0) !=
		    (strstr(why, "TOTAL: ") != NULL) ||
		    ((exp & FLAG_DPT) != 0) != (strstr(why, "DPT: ") != NULL))
			fail_msg("%s: flags not named: %s", f[0], why);
		if (exp == 0)
			nok++;
		else
			nflag++;
		for (k = 0; k < 3; k++)
			if (exp & (1u << k))
				nflags[k]++;
	}
	assert_int_equal(rc, 0);
	csv_close(&csv);
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
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
