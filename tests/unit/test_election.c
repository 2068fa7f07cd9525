/*
 * Unit tests of the election definition (gateway/election.c): the
 * sample, the forms it gives at real TPS, longest-prefix districts,
 * every parse error, and a district for every village of the registry.
 */

#include "unit.h"

#include "tally.h"

#define SAMPLE		"docs/examples/election-2024.conf"

static const char inline_def[] =
	"# a small definition\n"
	"election \"Test election\"\n"
	"pairs 2\n"
	"\n"
	"party 1 ALPHA\n"
	"party 2 BETA\t# comment after a directive\n"
	"party 3 \"GAMMA # not a comment\" only 11,12\n"
	"dpd 11 4\r\n"
	"district DPR \"WIDE\" seats 5 area 11\n"
	"district DPR \"NORTH\" seats 5 area 12\n"
	"district DPR \"REGENCY\" seats 4 area 1101\n"
	"candidates 1=2 2=0\n"
	"district DPR \"KECAMATAN\" seats 3 area 110101\n"
	"district DPR \"VILLAGE\" seats 3 area 1101012001\n"
	"district DPRDP \"ACEH\" seats 6 area 11\n"
	"candidates 3=1\n"
	"district DPRDP \"SUMUT\" seats 7 area 12\n"
	"district DPRDK \"WIDE\" seats 9 area 1101"; /* no final newline */

static struct election *
parse_inline(void)
{
	struct election	*el;
	char		 err[256];

	el = election_parse(inline_def, sizeof(inline_def) - 1, "t.conf",
	    err, sizeof(err));
	if (el == NULL)
		fail_msg("inline definition: %s", err);
	return (el);
}

/* Form of (contest, tps, page) that must exist. */
static struct form
form_ok(const struct election *el, enum contest c, uint64_t tps, int page)
{
	struct form	 f;
	enum reason	 r = REASON_MAX;

	if (election_form(el, c, tps, page, &f, &r) != 0)
		fail_msg("contest %d tps %013llu page %d: reason %d", c,
		    (unsigned long long)tps, page, r);
	assert_int_equal(r, REASON_NONE);
	return (f);
}

static enum reason
form_bad(const struct election *el, enum contest c, uint64_t tps, int page)
{
	struct form	 f;
	enum reason	 r = REASON_NONE;

	assert_int_equal(election_form(el, c, tps, page, &f, &r), -1);
	return (r);
}

static void
test_default(void **state)
{
	struct election	*el;
	int		 i;
	static const char *const names[] = { NULL, "PKB", "GERINDRA",
	    "PDIP", "GOLKAR", "NASDEM", "BURUH", "GELORA", "PKS", "PKN",
	    "HANURA", "GARUDA", "PAN", "PBB", "DEMOKRAT", "PSI", "PERINDO",
	    "PPP", "PNA", "GABTHAT", "PDA", "PA", "PAS", "SIRA", "UMMAT" };

	(void)state;
	el = election_default();
	assert_non_null(el);
	assert_string_equal(election_name(el), "Pemilu 2024");
	for (i = 1; i <= 24; i++)
		assert_string_equal(election_party_name(el, i), names[i]);
	assert_null(election_party_name(el, 0));
	assert_null(election_party_name(el, 25));
	assert_null(election_party_name(el, 100));
	assert_null(election_party_name(el, -1));
	election_free(el);
	election_free(NULL);
}

/* The file and the embedded copy give the same forms. */
static void
test_load_file(void **state)
{
	struct election	*a, *b;
	struct form	 fa, fb;
	char		 err[256];
	static const uint64_t tps[] = { 3201012001001ULL, 1101012001001ULL,
	    3171011001001ULL, 9601011001001ULL, 5301011001001ULL };
	size_t		 i;
	int		 c, page;

	(void)state;
	a = election_load(SAMPLE, err, sizeof(err));
	if (a == NULL)
		fail_msg("%s", err);
	b = election_default();
	assert_non_null(b);
	assert_string_equal(election_name(a), election_name(b));
	for (i = 0; i < sizeof(tps) / sizeof(tps[0]); i++)
		for (c = CONTEST_DPR; c <= CONTEST_DPRDK; c++) {
			if (c == CONTEST_DPD)
				continue;
			for (page = 0; page <= 24; page++) {
				int ra = election_form(a, c, tps[i], page,
				    &fa, NULL);
				int rb = election_form(b, c, tps[i], page,
				    &fb, NULL);
				assert_int_equal(ra, rb);
				if (ra != 0)
					continue;
				assert_int_equal(fa.kind, fb.kind);
				assert_int_equal(fa.nvalues, fb.nvalues);
				assert_string_equal(fa.district, fb.district);
			}
		}
	election_free(a);
	election_free(b);

	assert_null(election_load("/nonexistent/election.conf", err,
	    sizeof(err)));
	assert_string_equal(err,
	    "/nonexistent/election.conf: No such file or directory");
	assert_null(election_load("/", err, sizeof(err)));
	assert_non_null(strstr(err, "not a regular file"));
}

static void
test_ppwp_dpd(void **state)
{
	struct election	*el = election_default();
	struct form	 f;

	(void)state;
	assert_non_null(el);
	f = form_ok(el, CONTEST_PPWP, 3201012001001ULL, -1);
	assert_int_equal(f.kind, FORM_SUMMARY);
	assert_int_equal(f.nchoices, 3);
	assert_int_equal(f.nvalues, 6);
	assert_int_equal(f.choices[0], 1);
	assert_int_equal(f.choices[2], 3);
	assert_null(f.district);
	assert_int_equal(form_bad(el, CONTEST_PPWP, 3201012001001ULL, 0),
	    REASON_PAGE_UNKNOWN);

	/* Jawa Barat has the longest DPD ballot of the sample. */
	f = form_ok(el, CONTEST_DPD, 3201012001001ULL, -1);
	assert_int_equal(f.kind, FORM_SUMMARY);
	assert_int_equal(f.nchoices, 54);
	assert_int_equal(f.nvalues, 57);
	assert_null(f.district);
	f = form_ok(el, CONTEST_DPD, 9601011001001ULL, -1);
	assert_true(f.nchoices >= 10 && f.nchoices < 54);
	assert_int_equal(form_bad(el, CONTEST_DPD, 3201012001001ULL, 1),
	    REASON_PAGE_UNKNOWN);
	/* Abroad (99) is not in the sample: PPWP yes, DPD no. */
	form_ok(el, CONTEST_PPWP, 9901012001001ULL, -1);
	assert_int_equal(form_bad(el, CONTEST_DPD, 9901012001001ULL, -1),
	    REASON_NOT_HELD);
	assert_int_equal(form_bad(el, CONTEST_DPR, 9901012001001ULL, 0),
	    REASON_NOT_HELD);
	election_free(el);
}

static void
test_dpr_pages(void **state)
{
	struct election	*el = election_default();
	struct form	 f;
	int		 i;

	(void)state;
	assert_non_null(el);
	/* 3201 (Kab. Bogor) is JAWA BARAT I, 10 seats; the sample has
	 * "candidates 2=5 9=6 10=8 12=7" there. */
	f = form_ok(el, CONTEST_DPR, 3201012001001ULL, 0);
	assert_int_equal(f.kind, FORM_SUMMARY);
	assert_int_equal(f.nchoices, 18);
	assert_int_equal(f.nvalues, 21);
	for (i = 0; i < 17; i++)
		assert_int_equal(f.choices[i], i + 1);
	assert_int_equal(f.choices[17], 24);
	assert_string_equal(f.district, "JAWA BARAT I");

	f = form_ok(el, CONTEST_DPR, 3201012001001ULL, 1);
	assert_int_equal(f.kind, FORM_PARTY);
	assert_int_equal(f.nchoices, 10);
	assert_int_equal(f.nvalues, 11);
	assert_string_equal(f.district, "JAWA BARAT I");
	f = form_ok(el, CONTEST_DPR, 3201012001001ULL, 2);
	assert_int_equal(f.nchoices, 5);
	assert_int_equal(f.nvalues, 6);
	f = form_ok(el, CONTEST_DPR, 3201012001001ULL, 24);
	assert_int_equal(f.nvalues, 11);

	/* 3274 is JAWA BARAT X, 5 seats: "candidates 3=0 5=1 ...". */
	f = form_ok(el, CONTEST_DPR, 3274010001001ULL, 3);
	assert_string_equal(f.district, "JAWA BARAT X");
	assert_int_equal(f.kind, FORM_PARTY);
	assert_int_equal(f.nchoices, 0);
	assert_int_equal(f.nvalues, 1);
	f = form_ok(el, CONTEST_DPR, 3274010001001ULL, 5);
	assert_int_equal(f.nvalues, 2);

	/* Local parties are not on a DPR ballot. */
	for (i = 18; i <= 23; i++)
		assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL,
		    i), REASON_PAGE_UNKNOWN);
	election_free(el);
}

static void
test_aceh_local(void **state)
{
	struct election	*el = election_default();
	struct form	 f;
	int		 i;

	(void)state;
	assert_non_null(el);
	f = form_ok(el, CONTEST_DPR, 1101012001001ULL, 0);
	assert_int_equal(f.nchoices, 18);
	assert_string_equal(f.district, "ACEH I");
	f = form_ok(el, CONTEST_DPRDP, 1101012001001ULL, 0);
	assert_int_equal(f.nchoices, 24);
	assert_int_equal(f.nvalues, 27);
	for (i = 0; i < 24; i++)
		assert_int_equal(f.choices[i], i + 1);
	assert_string_equal(f.district, "ACEH 1");
	f = form_ok(el, CONTEST_DPRDK, 1101012001001ULL, 0);
	assert_int_equal(f.nchoices, 24);
	assert_string_equal(f.district, "ACEH SELATAN 1");
	/* "candidates ... 19=6 20=1 ..." in ACEH 1 (7 seats). */
	f = form_ok(el, CONTEST_DPRDP, 1101012001001ULL, 19);
	assert_int_equal(f.kind, FORM_PARTY);
	assert_int_equal(f.nvalues, 7);
	f = form_ok(el, CONTEST_DPRDP, 1101012001001ULL, 18);
	assert_int_equal(f.nvalues, 8);
	/* Outside Aceh the local parties are on no ballot. */
	f = form_ok(el, CONTEST_DPRDP, 3201012001001ULL, 0);
	assert_int_equal(f.nchoices, 18);
	assert_int_equal(form_bad(el, CONTEST_DPRDP, 3201012001001ULL, 18),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 3201012001001ULL, 23),
	    REASON_PAGE_UNKNOWN);
	election_free(el);
}

static void
test_dki(void **state)
{
	struct election	*el = election_default();
	struct form	 f;

	(void)state;
	assert_non_null(el);
	f = form_ok(el, CONTEST_DPR, 3171011001001ULL, 0);
	assert_non_null(strstr(f.district, "DKI JAKARTA"));
	f = form_ok(el, CONTEST_DPRDP, 3171011001001ULL, 0);
	assert_non_null(strstr(f.district, "DKI JAKARTA"));
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 3171011001001ULL, 0),
	    REASON_NOT_HELD);
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 3171011001001ULL, 1),
	    REASON_NOT_HELD);
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 3101011001001ULL, 0),
	    REASON_NOT_HELD);
	election_free(el);
}

static void
test_longest_prefix(void **state)
{
	struct election	*el = parse_inline();
	struct form	 f;

	(void)state;
	assert_string_equal(election_name(el), "Test election");
	assert_string_equal(election_party_name(el, 3),
	    "GAMMA # not a comment");
	f = form_ok(el, CONTEST_DPR, 1101012001001ULL, 0);
	assert_string_equal(f.district, "VILLAGE");
	f = form_ok(el, CONTEST_DPR, 1101012001999ULL, 0);
	assert_string_equal(f.district, "VILLAGE");
	f = form_ok(el, CONTEST_DPR, 1101012002001ULL, 0);
	assert_string_equal(f.district, "KECAMATAN");
	f = form_ok(el, CONTEST_DPR, 1101020001001ULL, 0);
	assert_string_equal(f.district, "REGENCY");
	f = form_ok(el, CONTEST_DPR, 1102010001001ULL, 0);
	assert_string_equal(f.district, "WIDE");
	f = form_ok(el, CONTEST_DPR, 1201010001001ULL, 0);
	assert_string_equal(f.district, "NORTH");
	assert_int_equal(form_bad(el, CONTEST_DPR, 1301010001001ULL, 0),
	    REASON_NOT_HELD);
	assert_int_equal(form_bad(el, CONTEST_DPR, 1001010001001ULL, 0),
	    REASON_NOT_HELD);

	/* Two national parties on DPR; 3 is local to 11 and 12. */
	f = form_ok(el, CONTEST_DPR, 1101020001001ULL, 0);
	assert_int_equal(f.nchoices, 2);
	assert_int_equal(f.nvalues, 5);
	f = form_ok(el, CONTEST_DPR, 1101020001001ULL, 1);
	assert_int_equal(f.kind, FORM_PARTY);
	assert_int_equal(f.nvalues, 3);
	assert_int_equal(f.choices[1], 2);
	f = form_ok(el, CONTEST_DPR, 1101020001001ULL, 2);
	assert_int_equal(f.nvalues, 1);
	f = form_ok(el, CONTEST_DPR, 1101012001001ULL, 2);
	assert_int_equal(f.nvalues, 4);
	assert_int_equal(form_bad(el, CONTEST_DPR, 1101020001001ULL, 3),
	    REASON_PAGE_UNKNOWN);

	f = form_ok(el, CONTEST_DPRDP, 1101020001001ULL, 0);
	assert_string_equal(f.district, "ACEH");
	assert_int_equal(f.nchoices, 3);
	assert_int_equal(f.choices[2], 3);
	f = form_ok(el, CONTEST_DPRDP, 1101020001001ULL, 3);
	assert_int_equal(f.nvalues, 2);
	f = form_ok(el, CONTEST_DPRDP, 1201020001001ULL, 3);
	assert_string_equal(f.district, "SUMUT");
	assert_int_equal(f.nvalues, 8);

	/* Same name in another contest is no clash. */
	f = form_ok(el, CONTEST_DPRDK, 1101020001001ULL, 1);
	assert_string_equal(f.district, "WIDE");
	assert_int_equal(f.nvalues, 10);
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 1102020001001ULL, 0),
	    REASON_NOT_HELD);

	f = form_ok(el, CONTEST_PPWP, 1101020001001ULL, -1);
	assert_int_equal(f.nvalues, 5);
	f = form_ok(el, CONTEST_DPD, 1101020001001ULL, -1);
	assert_int_equal(f.nvalues, 7);
	assert_int_equal(form_bad(el, CONTEST_DPD, 1201020001001ULL, -1),
	    REASON_NOT_HELD);
	election_free(el);
}

static void
test_page_unknown(void **state)
{
	struct election	*el = election_default();

	(void)state;
	assert_non_null(el);
	assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL, 25),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL, 99),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL, 100),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL, 1000),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPR, 3201012001001ULL, -1),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_DPRDK, 3201012001001ULL, -5),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_PPWP, 3201012001001ULL, 1),
	    REASON_PAGE_UNKNOWN);
	assert_int_equal(form_bad(el, CONTEST_NONE, 3201012001001ULL, -1),
	    REASON_CONTEST);
	assert_int_equal(form_bad(el, (enum contest)9, 3201012001001ULL, -1),
	    REASON_CONTEST);
	assert_int_equal(form_bad(el, CONTEST_PPWP, 320101200100ULL, -1),
	    REASON_TPS_FORMAT);
	assert_int_equal(form_bad(el, CONTEST_PPWP, 10000000000000ULL, -1),
	    REASON_TPS_FORMAT);
	election_free(el);
}

#define E	"election \"T\"\n"
#define P	"party 1 A\nparty 2 B\nparty 18 L only 11\n"

static const struct bad {
	const char	*text;
	const char	*err;
} bad[] = {
	{ "bogus 1\n", "t.conf:1: unknown directive \"bogus\"" },
	{ "# c\n\n  \tElection \"x\"\n",
	    "t.conf:3: unknown directive \"Election\"" },
	{ "pairs 3\n", "t.conf:1: no election directive naming the "
	    "election" },
	{ "", "t.conf:1: no election directive naming the election" },
	{ E "election \"U\"\n", "t.conf:2: election: already named at "
	    "line 1" },
	{ "election\n", "t.conf:1: election: needs 1 argument, got 0" },
	{ "election A B\n", "t.conf:1: election: needs 1 argument, got 2" },
	{ "election \"\"\n", "t.conf:1: election: name is empty" },
	{ "election \"" "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789" "0123456789\"\n",
	    "t.conf:1: election: name is longer than 127 bytes" },
	{ "election \"A\n", "t.conf:1: unterminated quoted string" },
	{ "election \"A\"x\n", "t.conf:1: text after a closing quote" },
	{ "election A\"B\"\n", "t.conf:1: quote inside a word" },
	{ E "pairs\n", "t.conf:2: pairs: needs 1 argument, got 0" },
	{ E "pairs x\n", "t.conf:2: pairs: count \"x\" is not a number" },
	{ E "pairs -1\n", "t.conf:2: pairs: count \"-1\" is not a number" },
	{ E "pairs 126\n", "t.conf:2: pairs: count 126 is out of range "
	    "0..125" },
	{ E "pairs 99999999999999999999999\n", "t.conf:2: pairs: count "
	    "99999999999999999999999 is out of range 0..125" },
	{ E "pairs 3\npairs 3\n", "t.conf:3: pairs: already set at line 2" },
	{ E "party 1\n", "t.conf:2: party: needs 2 to 4 arguments, got 1" },
	{ E "party 1 A only 11 x\n", "t.conf:2: party: needs 2 to 4 "
	    "arguments, got 5" },
	{ E "party 100 X\n", "t.conf:2: party: ballot number 100 is out of "
	    "range 1..99" },
	{ E "party 0 X\n", "t.conf:2: party: ballot number 0 is out of "
	    "range 1..99" },
	{ E "party one X\n", "t.conf:2: party: ballot number \"one\" is not "
	    "a number" },
	{ E "party 1 A\nparty 1 B\n", "t.conf:3: party: ballot number 1 "
	    "already defined at line 2" },
	{ E "party 1 A\nparty 2 a\n", "t.conf:3: party: name a already used "
	    "by party 1" },
	{ E "party 1 \"\"\n", "t.conf:2: party: name is empty" },
	{ E "party 1 ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\n", "t.conf:2: party: "
	    "name is longer than 31 bytes" },
	{ E "party 18 PNA only\n", "t.conf:2: party: \"only\" needs a "
	    "province list" },
	{ E "party 18 PNA except 11\n", "t.conf:2: party: expected \"only\", "
	    "got \"except\"" },
	{ E "party 18 PNA only 11,1\n", "t.conf:2: party: province \"1\" is "
	    "not a 2-digit province code 11..99" },
	{ E "party 18 PNA only 11,\n", "t.conf:2: party: province \"\" is "
	    "not a 2-digit province code 11..99" },
	{ E "party 18 PNA only 10\n", "t.conf:2: party: province \"10\" is "
	    "not a 2-digit province code 11..99" },
	{ E "dpd 32\n", "t.conf:2: dpd: needs 2 arguments, got 1" },
	{ E "dpd 1 10\n", "t.conf:2: dpd: province \"1\" is not a 2-digit "
	    "province code 11..99" },
	{ E "dpd 3a 10\n", "t.conf:2: dpd: province \"3a\" is not a 2-digit "
	    "province code 11..99" },
	{ E "dpd 32 0\n", "t.conf:2: dpd: candidate count 0 is out of range "
	    "1..125" },
	{ E "dpd 32 10\n\ndpd 32 11\n", "t.conf:4: dpd: province 32 already "
	    "defined at line 2" },
	{ E "district DPR \"X\" seats 3\n", "t.conf:2: district: needs at "
	    "least 6 arguments, got 4" },
	{ E "district PPWP \"X\" seats 3 area 32\n", "t.conf:2: district: "
	    "contest \"PPWP\" has no districts (DPR, DPRDP or DPRDK)" },
	{ E "district dpr \"X\" seats 3 area 32\n", "t.conf:2: district: "
	    "contest \"dpr\" has no districts (DPR, DPRDP or DPRDK)" },
	{ E "district DPR \"\" seats 3 area 32\n", "t.conf:2: district: name "
	    "is empty" },
	{ E "district DPR \"X\" seat 3 area 32\n", "t.conf:2: district: "
	    "expected \"seats\", got \"seat\"" },
	{ E "district DPR \"X\" seats 0 area 32\n", "t.conf:2: district: "
	    "seats 0 is out of range 1..127" },
	{ E "district DPR \"X\" seats 3 areas 32\n", "t.conf:2: district: "
	    "expected \"area\", got \"areas\"" },
	{ E "district DPR \"X\" seats 3 area 320\n", "t.conf:2: district: "
	    "area \"320\" is not a code of 2, 4, 6 or 10 digits" },
	{ E "district DPR \"X\" seats 3 area 32x1\n", "t.conf:2: district: "
	    "area \"32x1\" is not a code of 2, 4, 6 or 10 digits" },
	{ E "district DPR \"X\" seats 3 area 0901\n", "t.conf:2: district: "
	    "area 0901 is not in a province 11..99" },
	{ E "district DPR \"X\" seats 3 area 32 3301\n", "t.conf:2: "
	    "district: area 3301 is in province 33, not 32" },
	{ E "district DPR \"X\" seats 3 area 3201\n"
	    "district DPR \"Y\" seats 3 area 3202 3201\n",
	    "t.conf:3: district: area 3201 of DPR \"Y\" already belongs to "
	    "\"X\" (line 2)" },
	{ E "district DPRDK \"X\" seats 3 area 3201010001\n"
	    "district DPRDK \"Y\" seats 3 area 3202\n"
	    "district DPRDK \"Z\" seats 3 area 3201010001\n",
	    "t.conf:4: district: area 3201010001 of DPRDK \"Z\" already "
	    "belongs to \"X\" (line 2)" },
	{ E "district DPR \"X\" seats 3 area 3201 3202 3201\n",
	    "t.conf:2: district: area 3201 is listed twice" },
	{ E "district DPR \"X\" seats 3 area 3201\n"
	    "district DPRDP \"X\" seats 3 area 3201\n"
	    "district DPR \"X\" seats 3 area 3202\n",
	    "t.conf:4: district: DPR \"X\" already defined at line 2" },
	{ E "candidates 1=2\n", "t.conf:2: candidates: no district before "
	    "it" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates\n", "t.conf:6: "
	    "candidates: needs at least 1 argument, got 0" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 1\n",
	    "t.conf:6: candidates: \"1\" is not PARTY=COUNT" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 5=1\n",
	    "t.conf:6: candidates: party 5 is not defined" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates x=1\n",
	    "t.conf:6: candidates: party \"x\" is not a number" },
	{ E P "district DPR \"X\" seats 3 area 11\ncandidates 18=1\n",
	    "t.conf:6: candidates: party 18 is not on the DPR ballot of "
	    "\"X\"" },
	{ E P "district DPRDP \"X\" seats 3 area 32\ncandidates 18=1\n",
	    "t.conf:6: candidates: party 18 is not on the DPRDP ballot of "
	    "\"X\"" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 1=128\n",
	    "t.conf:6: candidates: count 128 is out of range 0..127" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 1=\n",
	    "t.conf:6: candidates: count is empty" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 1=2 2=1 1=3\n",
	    "t.conf:6: candidates: party 1 already given for \"X\"" },
	{ E P "district DPR \"X\" seats 3 area 32\ncandidates 1=2\n"
	    "candidates 1=3\n",
	    "t.conf:7: candidates: party 1 already given for \"X\"" },
};

/* Every error names file, line and problem, exactly. */
static void
test_errors(void **state)
{
	struct election	*el;
	char		 err[256];
	size_t		 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(err, 'x', sizeof(err));
		el = election_parse(bad[i].text, strlen(bad[i].text), "t.conf",
		    err, sizeof(err));
		if (el != NULL)
			fail_msg("case %zu parsed: %s", i, bad[i].text);
		if (strcmp(err, bad[i].err) != 0)
			fail_msg("case %zu:\n got  %s\n want %s", i, err,
			    bad[i].err);
	}

	/* A NUL byte is an error, not the end of the text. */
	el = election_parse(E "pairs 3\0\n", sizeof(E "pairs 3\0\n") - 1,
	    "t.conf", err, sizeof(err));
	assert_null(el);
	assert_string_equal(err, "t.conf:2: NUL byte in line");

	/* A small error buffer is truncated, never overrun. */
	memset(err, 'x', sizeof(err));
	assert_null(election_parse("bogus\n", 6, "t.conf", err, 8));
	assert_string_equal(err, "t.conf:");
	assert_int_equal(err[8], 'x');
	assert_null(election_parse("bogus\n", 6, "t.conf", NULL, 0));
}

/*
 * Every village of the registry resolves to a district in every paged
 * contest (except DPRDK in DKI Jakarta, which has none), and to the
 * right one: the sample names DPR/DPRDP districts after the province
 * and DPRDK districts after the regency.
 */
static void
test_every_village(void **state)
{
	struct election	*el = election_default();
	struct form	 f;
	FILE		*fp;
	char		 line[1024], prov[128], kab[128], *fld[7], *s, *rest;
	unsigned long long desa;
	uint64_t	 tps;
	size_t		 rows = 0, lookups = 0, dki = 0, n;
	int		 c, ext;

	(void)state;
	assert_non_null(el);
	if ((fp = fopen(unit_shared("desa_tps_2024.csv"), "r")) == NULL)
		fail_msg("%s: cannot open", unit_shared("desa_tps_2024.csv"));
	assert_non_null(fgets(line, sizeof(line), fp));	/* header */
	while (fgets(line, sizeof(line), fp) != NULL) {
		/* Quoted village names may hold commas: only the first
		 * seven fields and the last four are used. */
		line[strcspn(line, "\r\n")] = '\0';
		for (n = 0, s = line; n < 7; n++) {
			fld[n] = s;
			s = strchr(s, ',');
			assert_non_null(s);
			*s++ = '\0';
		}
		rest = s;
		for (n = 0; n < 3; n++) {	/* total, ext_last, ext_first */
			s = strrchr(rest, ',');
			assert_non_null(s);
			*s = '\0';
		}
		ext = atoi(s + 1);
		if (strcmp(fld[1], "99") == 0)
			continue;
		desa = strtoull(fld[0], NULL, 10);
		snprintf(prov, sizeof(prov), "%s ", fld[2]);
		snprintf(kab, sizeof(kab), "%s ", fld[4]);
		rows++;
		for (n = 0; n < 2; n++) {
			tps = desa * 1000 + (n == 0 ? 1 : (unsigned)ext);
			if (n == 1 && ext == 0)
				break;
			form_ok(el, CONTEST_PPWP, tps, -1);
			form_ok(el, CONTEST_DPD, tps, -1);
			for (c = CONTEST_DPR; c <= CONTEST_DPRDK; c++) {
				if (c == CONTEST_DPD)
					continue;
				lookups++;
				if (c == CONTEST_DPRDK &&
				    strcmp(fld[1], "31") == 0) {
					assert_int_equal(form_bad(el, c, tps,
					    0), REASON_NOT_HELD);
					dki++;
					continue;
				}
				f = form_ok(el, c, tps, 0);
				if (strncmp(f.district, c == CONTEST_DPRDK ?
				    kab : prov, strlen(c == CONTEST_DPRDK ?
				    kab : prov)) != 0)
					fail_msg("%013llu contest %d: district "
					    "\"%s\" outside %s", (unsigned long
					    long)tps, c, f.district,
					    c == CONTEST_DPRDK ? kab : prov);
				assert_int_equal(f.nchoices,
				    strcmp(fld[1], "11") == 0 &&
				    c != CONTEST_DPR ? 24 : 18);
			}
		}
	}
	fclose(fp);
	print_message("# %zu villages, %zu district lookups, %zu DKI "
	    "without DPRDK\n", rows, lookups, dki);
	assert_true(rows > 80000);
	assert_true(dki > 250);
	election_free(el);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_default),
	cmocka_unit_test(test_load_file),
	cmocka_unit_test(test_ppwp_dpd),
	cmocka_unit_test(test_dpr_pages),
	cmocka_unit_test(test_aceh_local),
	cmocka_unit_test(test_dki),
	cmocka_unit_test(test_longest_prefix),
	cmocka_unit_test(test_page_unknown),
	cmocka_unit_test(test_errors),
	cmocka_unit_test(test_every_village),
};

UNIT_MAIN(tests)
