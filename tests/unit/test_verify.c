/*
 * Unit tests of verify: authenticity, form shape, consistency flags and
 * the SEQ rules, on a small inline election definition.
 */

#include "unit.h"
#include "memhist.h"
#include "tally.h"

static const char election_text[] =
    "election \"Test\"\n"
    "pairs 3\n"
    "party 1 AAA\n"
    "party 2 BBB\n"
    "party 3 CCC\n"
    "party 4 LOC only 11\n"
    "dpd 32 4\n"
    "dpd 11 3\n"
    "district DPR JABAR seats 3 area 32\n"
    "candidates 2=1 3=0\n"
    "district DPR ACEH seats 3 area 11\n"
    "district DPRDP JABAR-P seats 2 area 32\n"
    "district DPRDK BDG seats 2 area 3201\n";

#define TPS	"3201012001001"

struct fixture {
	struct election		*el;
	struct key		 root;
	struct memhist		*mh;
	struct lockout		*lk;
	struct verify_ctx	 ctx;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[256];
	int		 i;

	if (f == NULL || key_init() == -1)
		return (-1);
	f->el = election_parse(election_text, sizeof(election_text) - 1,
	    "test", err, sizeof(err));
	if (f->el == NULL) {
		fprintf(stderr, "%s\n", err);
		return (-1);
	}
	f->root.kind = KEY_ROOT;
	for (i = 0; i < TALLY_KEY_LEN; i++)
		f->root.k[i] = (uint8_t)i;
	f->mh = memhist_new();
	f->lk = lockout_new(NULL);
	f->ctx.election = f->el;
	f->ctx.key = &f->root;
	f->ctx.history = memhist_history(f->mh);
	f->ctx.lockout = f->lk;
	f->ctx.default_dpt = VERIFY_DEFAULT_DPT;
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	election_free(f->el);
	memhist_free(f->mh);
	lockout_free(f->lk);
	free(f);
	return (0);
}

/* Append a code to a canonical-looking text: 0 = MAC, else card row. */
static const char *
signed_text(struct fixture *f, const char *text, int card)
{
	static char		 buf[1024];
	struct report		 r;
	struct decode_error	 e;
	uint8_t			 kt[TALLY_KEY_LEN];
	char			 code[9];

	snprintf(buf, sizeof(buf), "%s 00000000", text);
	if (decode_report(buf, strlen(buf), &r, &e) == -1)
		fail_msg("cannot decode '%s'", text);
	if (key_derive_tps(&f->root, r.tps, kt) == -1)
		fail_msg("no key");
	if (card)
		key_card(kt, (unsigned)card, code);
	else
		key_mac(kt, r.canon, code);
	snprintf(buf, sizeof(buf), "%s %s", text, code);
	return (buf);
}

/* Verify; record accepted reports like the gateway would. */
static enum verdict
run(struct fixture *f, const char *text, const char *sender,
    struct verify_result *res, struct report *r)
{
	struct verify_result	 rr;
	struct report		 rp;

	if (res == NULL)
		res = &rr;
	if (r == NULL)
		r = &rp;
	assert_int_equal(verify_report(&f->ctx, text, strlen(text), sender,
	    1000000, r, res), 0);
	if (res->verdict == VERDICT_OK || res->verdict == VERDICT_FLAGGED)
		memhist_add(f->mh, r, res->receipt);
	return (res->verdict);
}

static void
test_ok_mac_and_card(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 line[512];

	assert_int_equal(run(f, "1*" TPS "*01*255*120*95*36*251*4*43058167",
	    "+6281", &res, &r), VERDICT_OK);
	assert_int_equal(res.auth, AUTH_MAC);
	assert_string_equal(res.receipt, "58331817");
	assert_int_equal(verify_explain(&res, &r, line, sizeof(line)), 0);
	assert_string_equal(line, "OK PPWP " TPS " 1 255 120 95 36 251 4");
	/* Card row 2 for SEQ 2 (DPD). */
	assert_int_equal(run(f, signed_text(f, "3 " TPS " 2 10 1 2 3 4 10 0",
	    2), "+6281", &res, NULL), VERDICT_OK);
	assert_int_equal(res.auth, AUTH_CARD);
	/* Card row 1 is not valid for SEQ 3. */
	assert_int_equal(run(f, signed_text(f, "3 " TPS " 3 10 1 2 3 4 10 0",
	    1), "+6281", &res, NULL), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_CODE_BAD);
}

static void
test_flags(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 line[512];

	/* Pairs add to 250, SAH 251. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 5 255 120 94 36 251"
	    " 4", 0), NULL, &res, &r), VERDICT_FLAGGED);
	assert_int_equal(res.flags, FLAG_SUM);
	verify_explain(&res, &r, line, sizeof(line));
	assert_non_null(strstr(line, "SUM: choices add up to 250, SAH is 251"));
	/* SAH + TIDAK_SAH != PEMILIH. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 6 254 120 95 36 251"
	    " 4", 0), NULL, &res, &r), VERDICT_FLAGGED);
	assert_int_equal(res.flags, FLAG_TOTAL);
	assert_int_equal(res.supersedes, 5);
	/* Over the ballots of the default DPT 300: 306 allowed, 307 not. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 7 306 100 100 100 "
	    "300 6", 0), NULL, &res, &r), VERDICT_OK);
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 8 307 100 100 101 "
	    "301 6", 0), NULL, &res, &r), VERDICT_FLAGGED);
	assert_int_equal(res.flags, FLAG_DPT);
	verify_explain(&res, &r, line, sizeof(line));
	assert_non_null(strstr(line, "DPT: PEMILIH 307 is over 306 ballots"));
}

static void
test_shape(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 line[512];

	/* One value short. */
	assert_int_equal(run(f, "1*" TPS "*9*255*120*95*36*251*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_COUNT);
	assert_int_equal(res.err.expected, 6);
	assert_int_equal(res.err.got, 5);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED PPWP needs 6 values (PEMILIH, 3 "
	    "choices, SAH, TIDAK_SAH), got 5");
	/* DPRDK is not held outside 3201. */
	assert_int_equal(run(f, "5 3202012001001 1 0 1 2 3 4 5 12345678", NULL,
	    &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_NOT_HELD);
	/* Party 4 is local to province 11. */
	assert_int_equal(run(f, "2 " TPS " 1 4 1 2 12345678", NULL, &res, &r),
	    VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_PAGE_UNKNOWN);
	/* Party pages have PARTAI + candidates: 2 fields 1, 3 fields 0. */
	assert_int_equal(run(f, "2 " TPS " 1 2 1 1 1 12345678", NULL, &res, &r),
	    VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_COUNT);
	assert_int_equal(res.err.expected, 2);
	assert_int_equal(run(f, signed_text(f, "2 " TPS " 11 3 5", 0), NULL,
	    &res, &r), VERDICT_OK);
}

static void
test_party_page(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 line[512];

	/* Page 0: PEMILIH 100, parties 40 30 20, SAH 90, TIDAK_SAH 10. */
	assert_int_equal(run(f, signed_text(f, "2 " TPS " 20 0 100 40 30 20 "
	    "90 10", 0), NULL, &res, &r), VERDICT_OK);
	/* Party 1: PARTAI 10 + 10 + 15 + 5 = 40. */
	assert_int_equal(run(f, signed_text(f, "2 " TPS " 21 1 10 10 15 5", 0),
	    NULL, &res, &r), VERDICT_OK);
	assert_int_equal(res.party_total, 40);
	/* Party 2: 20 + 5 != 30. */
	assert_int_equal(run(f, signed_text(f, "2 " TPS " 22 2 20 5", 0),
	    NULL, &res, &r), VERDICT_FLAGGED);
	assert_int_equal(res.flags, FLAG_PARTY);
	verify_explain(&res, &r, line, sizeof(line));
	assert_non_null(strstr(line, "PARTY: PARTAI + candidates = 25, page 0 "
	    "total is 30"));
	/* Before any page 0 arrived (DPRDP), no PARTY check is possible. */
	assert_int_equal(run(f, signed_text(f, "4 " TPS " 23 1 99 1 1", 0),
	    NULL, &res, &r), VERDICT_OK);
}

static void
test_seq_rules(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 text[256], line[512], receipt[9];

	strcpy(text, signed_text(f, "1 " TPS " 30 255 120 95 36 251 4", 0));
	assert_int_equal(run(f, text, NULL, &res, &r), VERDICT_OK);
	memcpy(receipt, res.receipt, sizeof(receipt));
	/* The same SMS again: duplicate, same receipt. */
	assert_int_equal(run(f, text, NULL, &res, &r), VERDICT_DUPLICATE);
	assert_string_equal(res.receipt, receipt);
	/* Typed differently, same canonical text: still a duplicate. */
	strcpy(text, signed_text(f, "PPWP." TPS ".030.255.120.095.036.251.004",
	    0));
	assert_int_equal(run(f, text, NULL, &res, &r), VERDICT_DUPLICATE);
	/* Same SEQ, other numbers: the number is used up. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 30 255 121 94 36 251"
	    " 4", 0), NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_SEQ_USED);
	/* Also across contests: SEQ is per TPS. */
	assert_int_equal(run(f, signed_text(f, "3 " TPS " 30 10 1 2 3 4 10 0",
	    0), NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_SEQ_USED);
	/* Higher SEQ: a correction of 30. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 40 255 121 94 36 251"
	    " 4", 0), NULL, &res, &r), VERDICT_OK);
	assert_int_equal(res.supersedes, 30);
	verify_explain(&res, &r, line, sizeof(line));
	assert_non_null(strstr(line, "(corrects SEQ 30)"));
	/* Lower SEQ arriving late: accepted, but stale. */
	assert_int_equal(run(f, signed_text(f, "1 " TPS " 35 255 122 93 36 251"
	    " 4", 0), NULL, &res, &r), VERDICT_OK);
	assert_true(res.flags & FLAG_STALE);
	assert_int_equal(res.superseded_by, 40);
	assert_int_equal(res.supersedes, 0);
}

static void
test_lockout(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	const char		*good;
	int			 i;

	for (i = 0; i < 5; i++) {
		assert_int_equal(run(f, "1 " TPS " 50 255 120 95 36 251 4 "
		    "11111111", "+628999", &res, NULL), VERDICT_REJECTED);
		assert_int_equal(res.reason, REASON_CODE_BAD);
	}
	assert_true(res.lockout & LOCKOUT_FAIL_LOCKED);
	good = signed_text(f, "1 " TPS " 50 255 120 95 36 251 4", 0);
	assert_int_equal(run(f, good, "+628999", &res, NULL), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_LOCKED);
	/* Another phone of the same TPS is not locked. */
	assert_int_equal(run(f, good, "+628111", &res, NULL), VERDICT_OK);
}

static void
test_province_key(void **state)
{
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct key		 prov;
	const char		*t;

	t = signed_text(f, "1 1101012001001 1 10 1 2 3 6 4", 0);
	assert_int_equal(key_derive_province(&f->root, 32, &prov), 0);
	f->ctx.key = &prov;
	assert_int_equal(run(f, t, NULL, &res, NULL), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_NO_KEY);
	assert_int_equal(key_derive_province(&f->root, 11, &prov), 0);
	assert_int_equal(run(f, t, NULL, &res, NULL), VERDICT_OK);
	f->ctx.key = &f->root;
}

/* The slips an officer makes in the header, each named as such. */
static void
test_officer_slips(void **state)
{
	static const char	 nul[] = "1\0" TPS "\0" "1\0" "255\0" "120\0"
	    "95\0" "36\0" "251\0" "4\0" "43058167";
	struct fixture		*f = *state;
	struct verify_result	 res;
	struct report		 r;
	char			 line[256];

	/* NUL bytes separate: the check vector is accepted. */
	assert_int_equal(verify_report(&f->ctx, nul, sizeof(nul) - 1, "+62811",
	    1000000, &r, &res), 0);
	assert_int_equal(res.verdict, VERDICT_OK);
	assert_string_equal(res.receipt, "58331817");
	/* Arabic-Indic digits. */
	assert_int_equal(run(f, "1*" TPS "*1*\xd9\xa2\xd9\xa5\xd9\xa5*120*95*"
	    "36*251*4*43058167", NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_DIGITS);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED digits other than 0-9 (Arabic, "
	    "full-width, ...): the numbers must be typed as 0-9");
	/* PPWP numbers under DPR: page 255 is PEMILIH. */
	assert_int_equal(run(f, "2*" TPS "*1*255*120*95*36*251*4*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_LIKE_PPWP);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED page 255: no such party on the "
	    "DPR ballot of TPS 3201012001001, and the numbers fit a PPWP "
	    "report (contest 1)");
	/* The same under DPRDP (4 is below 1 on the keypad). */
	assert_int_equal(run(f, "4*" TPS "*1*255*120*95*36*251*4*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_LIKE_PPWP);
	/* An unknown page with a count that is not PPWP's: as before. */
	assert_int_equal(run(f, "2*" TPS "*1*255*120*95*36*251*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_PAGE_UNKNOWN);
	/* A party number (4, local to Aceh) with PPWP's count: as before. */
	assert_int_equal(run(f, "2 " TPS " 1 4 1 2 3 4 5 12345678", NULL,
	    &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_PAGE_UNKNOWN);
	/* ... unless its numbers add up as PPWP's: 20+15+10=45, 45+15=60. */
	assert_int_equal(run(f, "2 " TPS " 1 60 20 15 10 45 15 12345678", NULL,
	    &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_LIKE_PPWP);
	/* No SEQ: 255 stands where SEQ goes, and 251 + 4 = 255. */
	assert_int_equal(run(f, "1*" TPS "*255*120*95*36*251*4*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_SEQ_MISSING);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED no message number: the numbers "
	    "start right after the TPS code");
	/* A value left out instead (PEMILIH): still COUNT. */
	assert_int_equal(run(f, "1*" TPS "*3*120*95*36*251*4*43058167",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_COUNT);
	/* Page 0 where SEQ goes. */
	assert_int_equal(run(f, "2*" TPS "*0*250*1*2*3*4*12345678", NULL,
	    &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_SEQ_MISSING);
	/* The code where the page goes, and where SEQ goes. */
	assert_int_equal(run(f, "2*" TPS "*7*54653405*0*250*1*2*3*4", NULL,
	    &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_CODE_PLACE);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED token 4 '54653405' is an 8-digit "
	    "code where the page goes; the code goes last");
	assert_int_equal(run(f, "1*" TPS "*43058167*255*120*95*36*251*4",
	    NULL, &res, &r), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_CODE_PLACE);
	verify_explain(&res, &r, line, sizeof(line));
	assert_string_equal(line, "REJECTED token 3 '43058167' is an 8-digit "
	    "code where the message number goes; the code goes last");
	assert_string_equal(verify_reason_text(REASON_DIGITS),
	    "digits other than 0-9");
	assert_string_equal(verify_reason_text(REASON_LIKE_PPWP),
	    "PPWP numbers under a paged contest");
	assert_string_equal(verify_reason_text(REASON_SEQ_MISSING),
	    "message number missing");
	assert_string_equal(verify_reason_text(REASON_CODE_PLACE),
	    "code where the message number or page goes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ok_mac_and_card, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shape, setup, teardown),
		cmocka_unit_test_setup_teardown(test_party_page, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_seq_rules, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lockout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_officer_slips, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_province_key, setup,
		    teardown),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
