/* Unit tests of decode: tokenizer, grammar, canonical text. */

#include "unit.h"
#include "tally.h"

static void
test_tokens_split(void **state)
{
	struct tokens	t;

	(void)state;
	assert_int_equal(decode_tokens("1*32.01,ab-cd\n#x", 16, &t), 6);
	assert_string_equal(t.tok[0], "1");
	assert_string_equal(t.tok[1], "32");
	assert_string_equal(t.tok[2], "01");
	assert_string_equal(t.tok[3], "AB");
	assert_string_equal(t.tok[4], "CD");
	assert_string_equal(t.tok[5], "X");
	assert_int_equal(decode_tokens("  **##  ", 8, &t), 0);
	assert_int_equal(decode_tokens("", 0, &t), 0);
	/* Non-ASCII bytes separate too. */
	assert_int_equal(decode_tokens("a\xc3\xa9" "b", 4, &t), 2);
}

static void
test_tokens_overflow(void **state)
{
	struct tokens	 t;
	char		*big;
	size_t		 i, n = 3 * (TALLY_MAXTOKENS + 10);

	(void)state;
	big = malloc(n + 1);
	assert_non_null(big);
	for (i = 0; i < n; i += 3)
		memcpy(big + i, "12 ", 3);
	big[n] = '\0';
	decode_tokens(big, n, &t);
	assert_int_equal(t.n, TALLY_MAXTOKENS);
	assert_true(t.truncated);
	free(big);
	/* One token longer than the buffer. */
	n = 2 * sizeof(t.buf);
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'A', n);
	decode_tokens(big, n, &t);
	assert_true(t.truncated);
	assert_true(strlen(t.tok[0]) < sizeof(t.buf));
	free(big);
}

static void
test_number(void **state)
{
	unsigned long	v;

	(void)state;
	assert_int_equal(decode_number("0O1IL9", &v, 9), 6);
	assert_int_equal(v, 1119);
	assert_int_equal(decode_number("12A", &v, 9), -1);
	assert_int_equal(decode_number("", &v, 9), -1);
	assert_int_equal(decode_number("1234", &v, 3), -1);
}

static void
test_contest(void **state)
{
	(void)state;
	assert_int_equal(decode_contest("PPWP"), CONTEST_PPWP);
	assert_int_equal(decode_contest("1"), CONTEST_PPWP);
	assert_int_equal(decode_contest("01"), CONTEST_PPWP);
	assert_int_equal(decode_contest("DPR"), CONTEST_DPR);
	assert_int_equal(decode_contest("2"), CONTEST_DPR);
	assert_int_equal(decode_contest("DPD"), CONTEST_DPD);
	assert_int_equal(decode_contest("DPRDP"), CONTEST_DPRDP);
	assert_int_equal(decode_contest("DPRDK"), CONTEST_DPRDK);
	assert_int_equal(decode_contest("5"), CONTEST_DPRDK);
	assert_int_equal(decode_contest("6"), CONTEST_NONE);
	assert_int_equal(decode_contest("0"), CONTEST_NONE);
	assert_int_equal(decode_contest("I"), CONTEST_NONE);
	assert_int_equal(decode_contest("PILPRES"), CONTEST_NONE);
	assert_string_equal(decode_contest_name(CONTEST_DPRDP), "DPRDP");
	assert_true(decode_contest_paged(CONTEST_DPR));
	assert_false(decode_contest_paged(CONTEST_DPD));
}

/* The example, and the same report typed differently. */
static void
test_canonical(void **state)
{
	static const char *same[] = {
		"1*3201012001001*01*255*120*95*36*251*4*43058167",
		"PPWP 3201012001001 1 255 120 95 36 251 4 43058167",
		"ppwp.32010120O1OO1.I.255.12O.95.36.25L.4.43058167",
		"  #1#3201012001001#0001#0255#120#095#036#251#004#43058167# ",
		"1\n3201012001001\n1\n255 120 95 36\n251 4\n43058167\n",
	};
	struct report		r;
	struct decode_error	e;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		assert_int_equal(decode_report(same[i], strlen(same[i]), &r,
		    &e), 0);
		assert_string_equal(r.canon,
		    "PPWP 3201012001001 1 255 120 95 36 251 4");
		assert_string_equal(r.code, "43058167");
		assert_int_equal(r.contest, CONTEST_PPWP);
		assert_int_equal(r.tps, 3201012001001ULL);
		assert_int_equal(r.seq, 1);
		assert_int_equal(r.page, -1);
		assert_int_equal(r.nvalues, 6);
	}
}

static void
test_paged(void **state)
{
	const char		*t = "2*3201012001001*7*05*12*3*4*0*0*00000001";
	struct report		 r;
	struct decode_error	 e;

	(void)state;
	assert_int_equal(decode_report(t, strlen(t), &r, &e), 0);
	assert_string_equal(r.canon, "DPR 3201012001001 7 5 12 3 4 0 0");
	assert_int_equal(r.page, 5);
	assert_int_equal(r.nvalues, 5);
	assert_string_equal(r.code, "00000001");
	t = "DPRDK 3201012001001 8 0 1 00000001";
	assert_int_equal(decode_report(t, strlen(t), &r, &e), 0);
	assert_string_equal(r.canon, "DPRDK 3201012001001 8 0 1");
}

static const struct {
	const char	*text;
	enum reason	 reason;
	int		 token;
} decode_bad[] = {
	{ "",						REASON_EMPTY, 0 },
	{ "*#* .",					REASON_EMPTY, 0 },
	{ "PILPRES 3201012001001 1 1 1 1 1 1 1 12345678",
							REASON_CONTEST, 1 },
	{ "CEK 3201012001001",				REASON_CONTEST, 1 },
	{ "1",						REASON_TPS_FORMAT, 2 },
	{ "1 320101200100 1 1 1 1 1 1 1 12345678",	REASON_TPS_FORMAT, 2 },
	{ "1 32010120010011 1 1 1 1 1 1 1 12345678",	REASON_TPS_FORMAT, 2 },
	{ "1 32010120010X1 1 1 1 1 1 1 1 12345678",	REASON_TPS_FORMAT, 2 },
	{ "1 3201012001001",				REASON_SEQ, 3 },
	{ "1 3201012001001 0 1 1 1 1 1 1 12345678",	REASON_SEQ, 3 },
	{ "1 3201012001001 10000 1 1 1 1 1 1 12345678", REASON_SEQ, 3 },
	{ "1 3201012001001 A 1 1 1 1 1 1 12345678",	REASON_SEQ, 3 },
	{ "2 3201012001001 1",				REASON_PAGE, 4 },
	{ "2 3201012001001 1 X 1 1 12345678",		REASON_PAGE, 4 },
	{ "1 3201012001001 1 12345678",			REASON_COUNT, 0 },
	{ "1 3201012001001 1 255 120 95 36 251 4",	REASON_CODE_FORMAT, 9 },
	{ "1 3201012001001 1 255 120 95 36 251 4 1234567",
							REASON_CODE_FORMAT, 10 },
	{ "1 3201012001001 1 255 120 95 36 251 4 123456789",
							REASON_CODE_FORMAT, 10 },
	{ "1 3201012001001 1 255 120 9X 36 251 4 12345678",
							REASON_VALUE_FORMAT, 6 },
	{ "1 3201012001001 1 255 1000 95 36 251 4 12345678",
							REASON_VALUE_RANGE, 5 },
	{ "1 3201012001001 1 255 12345678901 95 36 251 4 12345678",
							REASON_VALUE_RANGE, 5 },
	/* The code where SEQ or the page goes. */
	{ "1 3201012001001 43058167 255 120 95 36 251 4",
							REASON_CODE_PLACE, 3 },
	{ "2 3401012001001 7 54653405 0 250 1 2 3 4",
							REASON_CODE_PLACE, 4 },
	{ "2 3401012001001 7 05825051 0 250 1 2 3 4",
							REASON_CODE_PLACE, 4 },
	/* Page 0 where SEQ goes: the SEQ was left out. */
	{ "2 3401012001001 0 250 1 2 3 4 54653405",
							REASON_SEQ_MISSING, 3 },
	{ "1 3201012001001 0 255 120 95 36 251 4 12345678", REASON_SEQ, 3 },
	{ "1 3201012001001 10000 255 12345678",		REASON_SEQ, 3 },
};

static void
test_errors(void **state)
{
	struct report		r;
	struct decode_error	e;
	size_t			i;

	(void)state;
	for (i = 0; i < sizeof(decode_bad) / sizeof(decode_bad[0]); i++) {
		const char *t = decode_bad[i].text;

		if (decode_report(t, strlen(t), &r, &e) != -1 ||
		    e.reason != decode_bad[i].reason ||
		    e.token != decode_bad[i].token)
			fail_msg("'%s': reason %d token %d, expected %d %d", t,
			    e.reason, e.token, decode_bad[i].reason,
			    decode_bad[i].token);
	}
}

/* A NUL byte is a separator like '*': the length decides, not the NUL. */
static void
test_nul_separator(void **state)
{
	static const char	 text[] = "1\0" "3201012001001\0\0" "01 255\0"
	    "120*95*36*251*4\0" "43058167";
	struct report		 r;
	struct decode_error	 e;
	struct tokens		 t;

	(void)state;
	assert_int_equal(decode_tokens("a\0b", 3, &t), 2);
	assert_string_equal(t.tok[1], "B");
	assert_int_equal(decode_report(text, sizeof(text) - 1, &r, &e), 0);
	assert_string_equal(r.canon, "PPWP 3201012001001 1 255 120 95 36 251 4");
	assert_string_equal(r.code, "43058167");
	/* A trailing NUL, as a C string's terminator, changes nothing. */
	assert_int_equal(decode_report(text, sizeof(text), &r, &e), 0);
	assert_string_equal(r.code, "43058167");
}

/* Digits of other scripts: rejected as such, never a separator. */
static void
test_foreign_digits(void **state)
{
	static const struct {
		const char	*text;
		int		 value;
	} digit[] = {
		{ "\xd9\xa1", 1 },		/* U+0661 Arabic-Indic one */
		{ "\xdb\xb9", 9 },		/* U+06F9 Extended Arabic-Indic */
		{ "\xef\xbc\x90", 0 },		/* U+FF10 full-width zero */
		{ "\xef\xbc\x99", 9 },		/* U+FF19 full-width nine */
		{ "\xe0\xa5\xa8", 2 },		/* U+0968 Devanagari two */
		{ "\xea\xa7\x93", 3 },		/* U+A9D3 Javanese three */
		{ "\xe1\xad\x97", 7 },		/* U+1B57 Balinese seven */
		{ "\xf0\x9d\x9f\x8e", 0 },	/* U+1D7CE bold zero */
	};
	static const char *const notdigit[] = {
		"\xc3\xa9",			/* U+00E9 e acute */
		"\xc2\xb2",			/* U+00B2 superscript two: No */
		"\xe2\x91\xa0",			/* U+2460 circled one: No */
		"\xd9",				/* a broken sequence */
		"\xef\xbc",
	};
	struct report		 r;
	struct decode_error	 e;
	char			 buf[128];
	size_t			 i, n;

	(void)state;
	for (i = 0; i < sizeof(digit) / sizeof(digit[0]); i++) {
		if (decode_foreign_digit(digit[i].text, strlen(digit[i].text),
		    &n) != digit[i].value || n != strlen(digit[i].text))
			fail_msg("digit %zu not read as %d", i, digit[i].value);
		snprintf(buf, sizeof(buf), "1*3201012001001*1*25%s*120*95*36*"
		    "251*4*43058167", digit[i].text);
		assert_int_equal(decode_report(buf, strlen(buf), &r, &e), -1);
		assert_int_equal(e.reason, REASON_DIGITS);
	}
	for (i = 0; i < sizeof(notdigit) / sizeof(notdigit[0]); i++)
		assert_int_equal(decode_foreign_digit(notdigit[i],
		    strlen(notdigit[i]), &n), -1);
	assert_int_equal(decode_foreign_digit("7", 1, &n), -1);
	/* Only Arabic-Indic digits: no token at all, still DIGITS. */
	strcpy(buf, "\xd9\xa1 \xd9\xa3\xd9\xa2");
	assert_int_equal(decode_report(buf, strlen(buf), &r, &e), -1);
	assert_int_equal(e.reason, REASON_DIGITS);
	/* An accented letter still separates, as before. */
	strcpy(buf, "1\xc3\xa9" "3201012001001*1*255*120*95*36*251*4*43058167");
	assert_int_equal(decode_report(buf, strlen(buf), &r, &e), 0);
}

static void
test_too_long(void **state)
{
	struct report		 r;
	struct decode_error	 e;
	char			*buf;
	size_t			 i, off;

	(void)state;
	buf = malloc(8192);
	assert_non_null(buf);
	off = (size_t)sprintf(buf, "3 3201012001001 1");
	for (i = 0; i < TALLY_MAXVALUES + 1; i++)
		off += (size_t)sprintf(buf + off, " 1");
	sprintf(buf + off, " 12345678");
	assert_int_equal(decode_report(buf, strlen(buf), &r, &e), -1);
	assert_int_equal(e.reason, REASON_TOO_LONG);
	/* Exactly the maximum fits. */
	off = (size_t)sprintf(buf, "3 3201012001001 1");
	for (i = 0; i < TALLY_MAXVALUES; i++)
		off += (size_t)sprintf(buf + off, " 999");
	sprintf(buf + off, " 12345678");
	assert_int_equal(decode_report(buf, strlen(buf), &r, &e), 0);
	assert_int_equal(r.nvalues, TALLY_MAXVALUES);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens_split),
		cmocka_unit_test(test_tokens_overflow),
		cmocka_unit_test(test_number),
		cmocka_unit_test(test_contest),
		cmocka_unit_test(test_canonical),
		cmocka_unit_test(test_paged),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_nul_separator),
		cmocka_unit_test(test_foreign_digits),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
