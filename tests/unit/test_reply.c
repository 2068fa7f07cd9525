/*
 * Unit tests of reply: every text fits one SMS in the GSM 7-bit
 * alphabet, but a card-coded report's confirmation and BANTU, which fit
 * 4 parts of a long SMS; a confirmation carries its receipt's 8 digits
 * once and echoes the numbers (a card-coded one every number, with its
 * name; a MAC-coded one in one SMS, or leading ones and the sum); a
 * rejection has no
 * run of exactly 8 digits (SEQ_USED may quote the used receipt); merge,
 * CEK, BANTU and the classification of incoming texts.
 */

#include "unit.h"
#include "memhist.h"
#include "reply.h"

#define RCPT		"58331817"
#define OTHER_RCPT	"87654321"
#define TPS		3201012001001ULL

static const enum reply_lang langs[] = { REPLY_ID, REPLY_EN };

/* Runs of exactly 8 digits, as the oracle finds them; the first too. */
static size_t
runs8(const char *s, char *first)
{
	const char	*p = s, *start;
	size_t		 n = 0;

	while (*p != '\0') {
		if (*p < '0' || *p > '9') {
			p++;
			continue;
		}
		for (start = p; *p >= '0' && *p <= '9'; p++)
			;
		if (p - start == 8) {
			if (n == 0 && first != NULL) {
				memcpy(first, start, 8);
				first[8] = '\0';
			}
			n++;
		}
	}
	return (n);
}

/* Occurrences of a string. */
static size_t
count(const char *s, const char *what)
{
	size_t	 n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return (n);
}

static void
check_sms(const char *text)
{
	size_t	 n = reply_gsm_length(text);

	if (n == (size_t)-1 || n > REPLY_MAX)
		fail_msg("%zu GSM characters: \"%s\"", n, text);
	if (text[0] == '\0')
		fail_msg("empty reply");
}

/*
 * The SMS parts an ASCII text takes without characters of the extension
 * table: one up to 160, else 153 a part (3GPP TS 23.040, 8-bit UDH).
 */
static size_t
sms_parts(const char *text)
{
	size_t	 n = strlen(text);

	return (n <= 160 ? 1 : (n + 152) / 153);
}

/* A long SMS: 4 parts at most, plain ASCII, not empty. */
static void
check_long(const char *text)
{
	const char	*p;

	for (p = text; *p != '\0'; p++)
		if (*p < ' ' || *p > '~' || strchr("[\\]^{|}~`", *p) != NULL)
			fail_msg("not plain GSM: \"%s\"", text);
	if (text[0] == '\0' || sms_parts(text) > 4)
		fail_msg("%zu parts: \"%s\"", sms_parts(text), text);
}

/* A confirmation: in one SMS, or (long) up to 4 parts. */
static void
check_confirm_in(const char *text, const char *rcpt, int islong)
{
	char	 first[9];

	if (islong)
		check_long(text);
	else
		check_sms(text);
	if (runs8(text, first) != 1 || strcmp(first, rcpt) != 0)
		fail_msg("confirmation must carry %s once: \"%s\"", rcpt, text);
}

static void
check_confirm(const char *text, const char *rcpt)
{
	check_confirm_in(text, rcpt, 0);
}

/* A card-coded report's confirmation. */
static void
check_confirm_long(const char *text, const char *rcpt)
{
	check_confirm_in(text, rcpt, 1);
}

static void
check_reject(const char *text, const char *allowed)
{
	char	 first[9];
	size_t	 n;

	check_sms(text);
	n = runs8(text, first);
	if (n == 0)
		return;
	if (n > 1 || allowed == NULL || strcmp(first, allowed) != 0)
		fail_msg("rejection with an 8-digit run: \"%s\"", text);
}

/*
 * The values echoed after the header, each maybe after its name and
 * "=": all in order and a full stop, or leading ones in order, "..",
 * and the sum of all. Returns how many.
 */
static size_t
check_echo(enum reply_lang lang, const char *text, const struct report *r)
{
	const char	*p, *q, *sumword = lang == REPLY_EN ? ".. sum of all " :
			    ".. jml semua ";
	unsigned long	 v, sum = 0;
	char		*end;
	size_t		 i, k = 0;

	for (i = 0; i < r->nvalues; i++)
		sum += r->values[i];
	if ((p = strchr(text, ':')) == NULL)
		fail_msg("no header: \"%s\"", text);
	p++;
	for (;;) {
		if (p[0] != ' ')
			fail_msg("echo broken at \"%s\" in \"%s\"", p, text);
		p++;
		if (strncmp(p, sumword, strlen(sumword)) == 0) {
			v = strtoul(p + strlen(sumword), &end, 10);
			if (v != sum || *end != '.')
				fail_msg("sum %lu, want %lu: \"%s\"", v, sum,
				    text);
			if (k == r->nvalues)
				fail_msg("sum although all values fit: \"%s\"",
				    text);
			return (k);
		}
		q = p + strspn(p, "ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789");
		if (*q == '=')
			p = q + 1;
		v = strtoul(p, &end, 10);
		if (end == p || k >= r->nvalues || v != r->values[k])
			fail_msg("value %zu wrong at \"%s\" in \"%s\"", k, p,
			    text);
		k++;
		p = end;
		if (*p == '.') {
			if (k != r->nvalues)
				fail_msg("echo ends after %zu of %zu values: "
				    "\"%s\"", k, r->nvalues, text);
			return (k);
		}
	}
}

static void
make_msg(struct reply_msg *m, enum contest c, int page, unsigned seq,
    size_t n, unsigned value)
{
	size_t	 i;

	memset(m, 0, sizeof(*m));
	m->id = 42;
	m->decoded = 1;
	m->report.contest = c;
	m->report.tps = TPS;
	m->report.seq = seq;
	m->report.page = decode_contest_paged(c) ? page : -1;
	m->report.nvalues = n;
	for (i = 0; i < n; i++)
		m->report.values[i] = (uint16_t)(value == 1000 ?
		    (i * 37) % 1000 : value);
	assert_int_equal(decode_canon(&m->report), 0);
	memcpy(m->receipt, RCPT, sizeof(m->receipt));
}

/* A report with the values given, in order. */
static void
make_vals(struct reply_msg *m, enum contest c, int page, unsigned seq,
    const uint16_t *v, size_t n)
{
	make_msg(m, c, page, seq, n, 0);
	memcpy(m->report.values, v, n * sizeof(*v));
	assert_int_equal(decode_canon(&m->report), 0);
}

static void
test_gsm_length(void **state)
{
	(void)state;
	assert_int_equal(reply_gsm_length(""), 0);
	assert_int_equal(reply_gsm_length("DITERIMA 123"), 12);
	/* The extension table takes two septets. */
	assert_int_equal(reply_gsm_length("[a]"), 5);
	assert_int_equal(reply_gsm_length("{}^~|\\"), 12);
	assert_int_equal(reply_gsm_length("\xe2\x82\xac"), 2);	/* euro */
	/* The basic table outside ASCII: one each. */
	assert_int_equal(reply_gsm_length("\xc3\xa9\xc3\xbc\xce\x94@$_"), 6);
	/* Not in the alphabet, or broken UTF-8. */
	assert_true(reply_gsm_length("`") == (size_t)-1);
	assert_true(reply_gsm_length("a\tb") == (size_t)-1);
	assert_true(reply_gsm_length("\xe4\xb8\xad") == (size_t)-1);
	assert_true(reply_gsm_length("\xc3") == (size_t)-1);
	assert_true(reply_gsm_length("\xff") == (size_t)-1);
	assert_true(reply_gsm_length(NULL) == (size_t)-1);
}

/*
 * MAC-coded: one SMS, and a brief to merge. Card-coded: every value of
 * a real form (57 at most), named; a brief only when short and not
 * FLAGGED, with every value named.
 */
static void
check_by_auth(const struct verify_result *res, const struct report *r,
    const char *text, const char *brief, size_t echoed)
{
	if (res->auth == AUTH_MAC) {
		check_confirm(text, RCPT);
		check_confirm(brief, RCPT);
		if (strlen(brief) > 70)
			fail_msg("brief too long to merge: \"%s\"", brief);
		return;
	}
	check_confirm_long(text, RCPT);
	if (r->nvalues <= 57 && echoed != r->nvalues)
		fail_msg("not every value: \"%s\"", text);
	if (r->nvalues <= 57 && strstr(text, r->page > 0 ? " PARTAI=" :
	    " PEMILIH=") == NULL)
		fail_msg("values without names: \"%s\"", text);
	if (brief[0] == '\0')
		return;
	if (res->verdict == VERDICT_FLAGGED || strlen(brief) > 70 ||
	    count(brief, "=") != r->nvalues)
		fail_msg("brief \"%s\"", brief);
	check_confirm(brief, RCPT);
}

/* Every flag combination, verdict and form shape, in both languages. */
static void
test_confirm_all_flags(void **state)
{
	static const struct {
		enum contest	 c;
		int		 page;
		unsigned	 seq;
		size_t		 n;
		unsigned	 value;
	} shapes[] = {
		{ CONTEST_PPWP, -1, 1, 6, 999 },
		{ CONTEST_PPWP, -1, 9999, 6, 7 },
		{ CONTEST_DPD, -1, 9999, 57, 999 },
		{ CONTEST_DPR, 0, 9999, 21, 1000 },
		{ CONTEST_DPR, 99, 9999, 128, 999 },
		{ CONTEST_DPRDK, 12, 321, 128, 1000 },
		{ CONTEST_DPRDP, 3, 45, 1, 0 },
	};
	static const enum verdict verdicts[] = { VERDICT_OK, VERDICT_FLAGGED,
	    VERDICT_DUPLICATE };
	static const enum auth auths[] = { AUTH_MAC, AUTH_CARD };
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];
	size_t			 s, v, l, k, a;
	unsigned		 flags;

	(void)state;
	for (s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++)
	for (v = 0; v < 3; v++)
	for (l = 0; l < 2; l++)
	for (a = 0; a < 2; a++)
	for (flags = 0; flags <= FLAG_ALL; flags++) {
		make_msg(&m, shapes[s].c, shapes[s].page, shapes[s].seq,
		    shapes[s].n, shapes[s].value);
		memset(&res, 0, sizeof(res));
		res.verdict = verdicts[v];
		res.auth = auths[a];
		res.flags = flags;
		res.supersedes = flags & 1 ? 9998 : 0;
		res.superseded_by = 9999;
		memcpy(res.receipt, RCPT, sizeof(res.receipt));
		assert_int_equal(reply_report(langs[l], &m, &res, text,
		    sizeof(text), brief, sizeof(brief)), 0);
		k = check_echo(langs[l], text, &m.report);
		check_by_auth(&res, &m.report, text, brief, k);
		/* Even the longest page still shows some values. */
		if (k < 1)
			fail_msg("no value echoed: \"%s\"", text);
		/* Header: contest, TPS, SEQ. */
		assert_non_null(strstr(text, "3201012001001"));
		assert_non_null(strstr(text, decode_contest_name(
		    shapes[s].c)));
		if (res.verdict == VERDICT_DUPLICATE)
			assert_non_null(strstr(text, langs[l] == REPLY_EN ?
			    "ALREADY RECEIVED" : "SUDAH DITERIMA"));
		else
			assert_true(strncmp(text, langs[l] == REPLY_EN ?
			    "RECEIVED " : "DITERIMA ", 9) == 0);
		if (res.verdict == VERDICT_FLAGGED) {
			/* What to do if the numbers are wrong. */
			assert_non_null(strstr(text, "SEQ"));
			assert_non_null(strstr(text, langs[l] == REPLY_EN ?
			    "CHECK" : "PERIKSA"));
		}
	}
}

/* The verbose texts of a single flag on a short report. */
static void
test_flag_words(void **state)
{
	static const struct {
		unsigned	 flag;
		const char	*id, *en;
	} words[] = {
		{ FLAG_SUM, "PERIKSA: jumlah suara semua pasangan tidak sama "
		    "dgn SAH.", "CHECK: the pair votes do not add up to SAH." },
		{ FLAG_TOTAL, "PERIKSA: SAH ditambah TIDAK SAH tidak sama dgn "
		    "PEMILIH.", "CHECK: SAH plus TIDAK SAH is not PEMILIH." },
		{ FLAG_DPT, "PERIKSA: PEMILIH lebih banyak dari DPT ditambah "
		    "2%.", "CHECK: PEMILIH is more than DPT plus 2%." },
		{ FLAG_PARTY, "PERIKSA: PARTAI ditambah suara caleg tidak sama "
		    "dgn angka partai ini di hal 0.", "CHECK: PARTAI plus the "
		    "candidates is not this party's number on page 0." },
		{ FLAG_SENDER, "PERIKSA: nomor HP ini tidak terdaftar utk TPS "
		    "ini, hubungi PPK.", "CHECK: this phone is not registered "
		    "for this TPS, call the PPK." },
	};
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		make_msg(&m, CONTEST_PPWP, -1, 2, 6, 100);
		memset(&res, 0, sizeof(res));
		res.verdict = VERDICT_FLAGGED;
		res.auth = AUTH_CARD;
		res.flags = words[i].flag;
		assert_int_equal(reply_report(REPLY_ID, &m, &res, text,
		    sizeof(text), brief, sizeof(brief)), 0);
		if (strstr(text, words[i].id) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", text, words[i].id);
		assert_non_null(strstr(text, "kirim ulang dgn SEQ baru"));
		assert_int_equal(reply_report(REPLY_EN, &m, &res, text,
		    sizeof(text), brief, sizeof(brief)), 0);
		if (strstr(text, words[i].en) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", text, words[i].en);
		assert_non_null(strstr(text, "new SEQ"));
		/* MAC-coded: one SMS, and the brief says what to check. */
		res.auth = AUTH_MAC;
		assert_int_equal(reply_report(REPLY_ID, &m, &res, text,
		    sizeof(text), brief, sizeof(brief)), 0);
		assert_non_null(strstr(brief, " cek "));
	}
	/* OK but stale: says the newer SEQ counts. */
	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_OK;
	res.flags = FLAG_STALE;
	res.superseded_by = 7;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_non_null(strstr(text, "#7"));
	assert_null(strstr(text, "PERIKSA"));
	/* A correction names what it corrects. */
	res.flags = 0;
	res.supersedes = 1;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_non_null(strstr(text, "koreksi #1"));
	/* Falls back to the receipt verify computed. */
	m.receipt[0] = '\0';
	memcpy(res.receipt, OTHER_RCPT, sizeof(res.receipt));
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	check_confirm(text, OTHER_RCPT);
	/* No receipt at all, or no report: no confirmation. */
	res.receipt[0] = '\0';
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), -1);
	memcpy(m.receipt, RCPT, sizeof(m.receipt));
	m.decoded = 0;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), -1);
	/* Too small a buffer is an error, never a cut text. */
	m.decoded = 1;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, 20, brief,
	    sizeof(brief)), -1);
}

/*
 * A long page: MAC-coded, leading values, "..", the sum of all values;
 * card-coded, every value (128 do not fit with their names).
 */
static void
test_long_page(void **state)
{
	static const uint16_t ppwp[] = { 255, 120, 95, 36, 251, 4 };
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];
	size_t			 k;

	(void)state;
	make_msg(&m, CONTEST_DPR, 17, 9999, TALLY_MAXVALUES, 999);
	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_OK;
	res.auth = AUTH_CARD;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	check_confirm_long(text, RCPT);
	assert_int_equal(check_echo(REPLY_ID, text, &m.report), 128);
	assert_null(strstr(text, "="));
	assert_string_equal(brief, "");
	res.auth = AUTH_MAC;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	check_confirm(text, RCPT);
	assert_non_null(strstr(text, ".. jml semua 127872."));
	k = check_echo(REPLY_ID, text, &m.report);
	assert_true(k >= 10);
	assert_non_null(strstr(text, "hal 17 #9999"));
	assert_string_equal(brief, "DPR h17 #9999 " RCPT);
	/* A PPWP report fits whole. */
	make_vals(&m, CONTEST_PPWP, -1, 1, ppwp, 6);
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_non_null(strstr(text, ": PEMILIH=255 1=120 2=95 3=36 SAH=251 "
	    "TDK SAH=4."));
	assert_null(strstr(text, ".."));
	assert_string_equal(brief, "PPWP #1 " RCPT);
}

/* Every reason, with hostile details, in both languages. */
static void
test_reject_all_reasons(void **state)
{
	static const char *const texts[] = {
		"", "X", "12345678", "ABCDEFGHIJKLMNOPQRSTUVW",
		"1234567812345678", "0000000000001", "1OOOOOOO",
	};
	static const unsigned locks[] = { 0, LOCKOUT_FAIL_LOCKED };
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_MAX + 1], brief[REPLY_MAX + 1];
	char			 seen[REASON_MAX][REPLY_MAX + 1];
	size_t			 l, t, d, k;
	int			 reason, pg;

	(void)state;
	for (l = 0; l < 2; l++) {
		memset(seen, 0, sizeof(seen));
		for (reason = REASON_EMPTY; reason < REASON_MAX + 1; reason++)
		for (t = 0; t < sizeof(texts) / sizeof(texts[0]); t++)
		for (d = 0; d < 2; d++)
		for (pg = 0; pg < 3; pg++)
		for (k = 0; k < 2; k++) {
			static const int pages[] = { -1, 12345678, 99 };

			make_msg(&m, pg == 0 ? CONTEST_PPWP : CONTEST_DPRDK,
			    pages[pg], 9999, 5, 1);
			m.decoded = (int)d;
			m.receipt[0] = '\0';
			memset(&res, 0, sizeof(res));
			res.verdict = VERDICT_REJECTED;
			res.reason = (enum reason)reason;
			res.err.reason = res.reason;
			res.err.token = 131;
			res.err.expected = k ? 128 : 0;
			res.err.got = 127;
			res.form.kind = k ? FORM_PARTY : FORM_SUMMARY;
			res.form.nchoices = 125;
			res.form.nvalues = 128;
			res.lockout = (int)locks[k];
			snprintf(res.err.text, sizeof(res.err.text), "%s",
			    texts[t]);
			if (reason == REASON_SEQ_USED && k)
				memcpy(res.receipt, OTHER_RCPT,
				    sizeof(res.receipt));
			strcpy(brief, "junk");
			assert_int_equal(reply_report(langs[l], &m, &res,
			    text, sizeof(text), brief, sizeof(brief)), 0);
			check_reject(text, reason == REASON_SEQ_USED ?
			    OTHER_RCPT : NULL);
			assert_string_equal(brief, "");
			assert_true(strncmp(text, langs[l] == REPLY_EN ?
			    "REJECTED" : "DITOLAK", 7) == 0);
			/* Never the last-resort text for a known reason. */
			if (reason < REASON_MAX && strstr(text, langs[l] ==
			    REPLY_EN ? "cannot be processed" :
			    "tidak bisa diproses") != NULL)
				fail_msg("reason %d: \"%s\"", reason, text);
			if (reason < REASON_MAX && t == 1 && d == 1 &&
			    pg == 0 && k == 1)
				memcpy(seen[reason], text, sizeof(text));
		}
		/* Each reason has its own text. */
		for (reason = REASON_EMPTY; reason < REASON_MAX; reason++)
			for (k = REASON_EMPTY; k < (size_t)reason; k++)
				if (strcmp(seen[reason], seen[k]) == 0)
					fail_msg("reasons %d and %zu share "
					    "\"%s\"", reason, k, seen[reason]);
	}
}

/* The details the officer needs, in the rejection texts. */
static void
test_reject_details(void **state)
{
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_MAX + 1];

	(void)state;
	make_msg(&m, CONTEST_PPWP, -1, 5, 5, 1);
	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_REJECTED;

	res.reason = REASON_COUNT;
	res.err.expected = 6;
	res.err.got = 5;
	res.form.kind = FORM_SUMMARY;
	res.form.nchoices = 3;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "perlu 6 angka (PEMILIH, 3 pasangan, "
	    "SAH, TDK SAH), ada 5"));
	assert_non_null(strstr(text, "DITOLAK PPWP #5:"));
	assert_int_equal(reply_report(REPLY_EN, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "needs 6 numbers (PEMILIH, 3 pairs"));

	memset(&res.err, 0, sizeof(res.err));
	res.reason = REASON_VALUE_RANGE;
	res.err.token = 7;
	snprintf(res.err.text, sizeof(res.err.text), "1000");
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "ke-7 '1000'"));

	/* An 8-digit TPS typed by mistake is never echoed as 8 digits. */
	m.decoded = 0;
	res.reason = REASON_TPS_FORMAT;
	snprintf(res.err.text, sizeof(res.err.text), "32010120");
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	check_reject(text, NULL);
	assert_non_null(strstr(text, "'3201012..'"));
	assert_non_null(strstr(text, "13 angka"));
	m.decoded = 1;

	res.reason = REASON_CODE_BAD;
	res.lockout = LOCKOUT_FAIL_LOCKED;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "kode salah"));
	assert_non_null(strstr(text, "baris 5"));
	assert_non_null(strstr(text, "diblokir"));

	res.reason = REASON_LOCKED;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "diblokir"));
	assert_non_null(strstr(text, "3201012001001"));
	assert_non_null(strstr(text, "PPK"));

	res.reason = REASON_SEQ_USED;
	memcpy(res.receipt, OTHER_RCPT, sizeof(res.receipt));
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_int_equal(count(text, OTHER_RCPT), 1);
	assert_non_null(strstr(text, "SEQ berikutnya"));
	assert_int_equal(reply_report(REPLY_EN, &m, &res, text, sizeof(text),
	    NULL, 0), 0);
	assert_non_null(strstr(text, "next SEQ"));
}

struct vfix {
	struct election		*el;
	struct key		 root;
	struct memhist		*mh;
	struct lockout		*lk;
	struct verify_ctx	 ctx;
};

/* Append the MAC (card == 0) or a card row's code, like a phone. */
static const char *
sign(struct vfix *f, const char *text, int card, const char *bad)
{
	static char		 buf[1024];
	struct report		 r;
	struct decode_error	 e;
	uint8_t			 kt[TALLY_KEY_LEN];
	char			 code[9];

	snprintf(buf, sizeof(buf), "%s 00000000", text);
	if (decode_report(buf, strlen(buf), &r, &e) == -1)
		fail_msg("cannot decode '%s'", text);
	assert_int_equal(key_derive_tps(&f->root, r.tps, kt), 0);
	if (card)
		key_card(kt, (unsigned)card, code);
	else
		key_mac(kt, r.canon, code);
	snprintf(buf, sizeof(buf), "%s %s", text, bad != NULL ? bad : code);
	return (buf);
}

/* Verify like the gateway, then reply; accepted reports are recorded. */
static enum verdict
verify_reply(struct vfix *f, const char *sms, char *text, char *brief,
    struct verify_result *res)
{
	struct reply_msg	 m;

	memset(&m, 0, sizeof(m));
	assert_int_equal(verify_report(&f->ctx, sms, strlen(sms), "+62811",
	    1000000, &m.report, res), 0);
	m.decoded = res->verdict != VERDICT_REJECTED;
	memcpy(m.receipt, res->receipt, sizeof(m.receipt));
	if (res->verdict == VERDICT_OK || res->verdict == VERDICT_FLAGGED)
		memhist_add(f->mh, &m.report, res->receipt);
	assert_int_equal(reply_report(REPLY_ID, &m, res, text, REPLY_TEXT_MAX,
	    brief, REPLY_MAX + 1), 0);
	if (res->verdict == VERDICT_REJECTED)
		check_reject(text, res->reason == REASON_SEQ_USED ?
		    res->receipt : NULL);
	else if (res->auth == AUTH_CARD)
		check_confirm_long(text, res->receipt);
	else
		check_confirm(text, res->receipt);
	return (res->verdict);
}

/* The fixture of test_through_verify: check-vector key, 2024 election. */
static void
vfix_init(struct vfix *f)
{
	int	 i;

	memset(f, 0, sizeof(*f));
	assert_int_equal(key_init(), 0);
	assert_non_null(f->el = election_default());
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
}

/* Through verify, with the check-vector key and the 2024 election. */
static void
test_through_verify(void **state)
{
	struct vfix		 f;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];
	int			 i;

	(void)state;
	vfix_init(&f);

	/* The check vector: MAC 43058167, receipt 58331817. */
	assert_int_equal(verify_reply(&f, "1*3201012001001*01*255*120*95*36*"
	    "251*4*43058167", text, brief, &res), VERDICT_OK);
	assert_string_equal(res.receipt, "58331817");
	assert_string_equal(text, "DITERIMA PPWP 3201012001001 #1: "
	    "PEMILIH=255 1=120 2=95 3=36 SAH=251 TDK SAH=4. Tanda terima "
	    "58331817, tulis di C.Hasil.");
	assert_string_equal(brief, "PPWP #1 58331817");
	/* Sent again: a duplicate, the same receipt. */
	assert_int_equal(verify_reply(&f, "PPWP 3201012001001 1 255 120 95 36 "
	    "251 4 43058167", text, brief, &res), VERDICT_DUPLICATE);
	assert_non_null(strstr(text, "SUDAH DITERIMA"));
	assert_non_null(strstr(brief, "58331817"));
	/* SEQ 1 again with other numbers: quotes the receipt once. */
	assert_int_equal(verify_reply(&f, sign(&f, "PPWP 3201012001001 1 255 "
	    "121 95 35 251 4", 0, NULL), text, brief, &res),
	    VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_SEQ_USED);
	assert_int_equal(count(text, "58331817"), 1);
	/* A correction with SEQ 2, inconsistent: flagged. */
	assert_int_equal(verify_reply(&f, sign(&f, "PPWP 3201012001001 2 255 "
	    "121 95 36 251 4", 2, NULL), text, brief, &res),
	    VERDICT_FLAGGED);
	assert_non_null(strstr(text, "koreksi #1"));
	assert_non_null(strstr(text, ": PEMILIH=255 1=121 2=95 3=36 SAH=251 "
	    "TDK SAH=4. "));
	assert_non_null(strstr(text, "PERIKSA: jumlah suara semua pasangan "
	    "tidak sama dgn SAH."));
	assert_string_equal(brief, "");
	/* Wrong count: names the form. */
	assert_int_equal(verify_reply(&f, sign(&f, "PPWP 3201012001001 3 255 "
	    "120 95 36 251", 3, NULL), text, brief, &res),
	    VERDICT_REJECTED);
	assert_non_null(strstr(text, "perlu 6 angka"));
	assert_non_null(strstr(text, "ada 5"));
	/* Five bad codes lock the sender; the sixth is LOCKED. */
	for (i = 0; i < 5; i++)
		assert_int_equal(verify_reply(&f, sign(&f, "PPWP 3201012001001 "
		    "4 255 120 95 36 251 4", 0, "12345678"), text, brief,
		    &res), VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_CODE_BAD);
	assert_non_null(strstr(text, "diblokir"));
	assert_int_equal(verify_reply(&f, sign(&f, "PPWP 3201012001001 4 255 "
	    "120 95 36 251 4", 4, NULL), text, brief, &res),
	    VERDICT_REJECTED);
	assert_int_equal(res.reason, REASON_LOCKED);
	/* A whole DPD report of Jawa Barat: 57 values. */
	{
		char	 sms[600];
		size_t	 off;

		off = (size_t)snprintf(sms, sizeof(sms),
		    "DPD 3201012001002 1 280");
		for (i = 0; i < 54; i++)
			off += (size_t)snprintf(sms + off, sizeof(sms) - off,
			    " %d", 5);
		snprintf(sms + off, sizeof(sms) - off, " 270 10");
		assert_int_equal(verify_reply(&f, sign(&f, sms, 0, NULL), text,
		    brief, &res), VERDICT_OK);
		assert_non_null(strstr(text, ".. jml semua 830."));
	}
	election_free(f.el);
	memhist_free(f.mh);
	lockout_free(f.lk);
}

/* The literal texts an officer reads for a card-coded report. */
static void
test_card_echo(void **state)
{
	static const uint16_t dpd[57] = { 380,
	    12, 7, 30, 0, 5, 18, 9, 3, 41, 6, 2, 15, 8, 11, 4, 1, 22, 10,
	    0, 3, 7, 5, 9, 14, 2, 6, 1, 0, 4, 8, 13, 2, 5, 3, 7, 1, 0, 9,
	    6, 2, 4, 11, 3, 5, 0, 1, 8, 2, 6, 3, 4, 1, 2, 7,
	    368, 12 };
	static const uint16_t ppwp[] = { 255, 120, 95, 30, 251, 3 };
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];

	(void)state;
	/* DPD of Jawa Barat, 54 candidates: every value, in order. */
	make_vals(&m, CONTEST_DPD, -1, 3, dpd, 57);
	memset(&res, 0, sizeof(res));
	res.verdict = VERDICT_OK;
	res.auth = AUTH_CARD;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_string_equal(text, "DITERIMA DPD 3201012001001 #3: "
	    "PEMILIH=380 1=12 2=7 3=30 4=0 5=5 6=18 7=9 8=3 9=41 10=6 11=2 "
	    "12=15 13=8 14=11 15=4 16=1 17=22 18=10 19=0 20=3 21=7 22=5 23=9 "
	    "24=14 25=2 26=6 27=1 28=0 29=4 30=8 31=13 32=2 33=5 34=3 35=7 "
	    "36=1 37=0 38=9 39=6 40=2 41=4 42=11 43=3 44=5 45=0 46=1 47=8 "
	    "48=2 49=6 50=3 51=4 52=1 53=2 54=7 SAH=368 TDK SAH=12. Tanda "
	    "terima 58331817, tulis di C.Hasil.");
	assert_int_equal(sms_parts(text), 3);
	assert_string_equal(brief, "");
	/* Its USSD screen: one SMS, leading values and the sum. */
	assert_int_equal(reply_screen(REPLY_ID, &m, &res, text,
	    sizeof(text)), 0);
	check_confirm(text, RCPT);
	assert_non_null(strstr(text, ".. jml semua 1128."));

	/* FLAGGED PPWP: the numbers, then what looks wrong in words. */
	make_vals(&m, CONTEST_PPWP, -1, 2, ppwp, 6);
	res.verdict = VERDICT_FLAGGED;
	res.flags = FLAG_SUM | FLAG_TOTAL;
	res.supersedes = 1;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_string_equal(text, "DITERIMA PPWP 3201012001001 #2 (koreksi "
	    "#1): PEMILIH=255 1=120 2=95 3=30 SAH=251 TDK SAH=3. Tanda "
	    "terima 58331817. PERIKSA: jumlah suara semua pasangan tidak "
	    "sama dgn SAH; SAH ditambah TIDAK SAH tidak sama dgn PEMILIH. "
	    "Jika angka salah, kirim ulang dgn SEQ baru.");
	assert_int_equal(sms_parts(text), 2);
	assert_int_equal(reply_report(REPLY_EN, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_string_equal(text, "RECEIVED PPWP 3201012001001 #2 (corrects "
	    "#1): PEMILIH=255 1=120 2=95 3=30 SAH=251 TIDAK SAH=3. Receipt "
	    "58331817. CHECK: the pair votes do not add up to SAH; SAH plus "
	    "TIDAK SAH is not PEMILIH. If a number is wrong, resend with a "
	    "new SEQ.");
}

/* Pages of a card-coded report: named, short ones merged. */
/*
 * Each value's name as every reply shows it (and the USSD review, which
 * asks reply_label_value): PEMILIH, SAH, TDK SAH, PARTAI in words, a
 * choice by its ballot number, on a summary page the party's.
 */
static void
labels(enum reply_lang lang, const struct report *r, const struct form *f,
    const char *want)
{
	char	 all[512], one[24];
	size_t	 i, off = 0;

	all[0] = '\0';
	for (i = 0; i < r->nvalues; i++) {
		assert_int_equal(reply_label_value(lang, r, f, i, one,
		    sizeof(one)), 0);
		off += snprintf(all + off, sizeof(all) - off, "%s%s",
		    i ? "," : "", one);
	}
	assert_string_equal(all, want);
}

static void
test_label_value(void **state)
{
	struct report	 r;
	struct form	 f;
	char		 tiny[2];

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(&f, 0, sizeof(f));
	r.contest = CONTEST_PPWP;
	r.page = -1;
	r.nvalues = 6;
	labels(REPLY_ID, &r, NULL, "PEMILIH,1,2,3,SAH,TDK SAH");
	labels(REPLY_EN, &r, NULL, "PEMILIH,1,2,3,SAH,TIDAK SAH");
	r.contest = CONTEST_DPD;
	r.nvalues = 8;
	labels(REPLY_ID, &r, NULL, "PEMILIH,1,2,3,4,5,SAH,TDK SAH");
	/* A party page: the party's votes, then its candidates. */
	r.contest = CONTEST_DPR;
	r.page = 2;
	r.nvalues = 4;
	labels(REPLY_ID, &r, NULL, "PARTAI,1,2,3");
	/* A summary page: each party by its ballot number. */
	r.page = 0;
	r.nvalues = 5;
	f.kind = FORM_SUMMARY;
	f.nvalues = 5;
	f.nchoices = 2;
	f.choices[0] = 7;
	f.choices[1] = 24;
	labels(REPLY_ID, &r, &f, "PEMILIH,7,24,SAH,TDK SAH");
	/* Without the form, by place. */
	labels(REPLY_ID, &r, NULL, "PEMILIH,1,2,SAH,TDK SAH");
	assert_int_equal(reply_label_value(REPLY_ID, &r, &f, 0, tiny,
	    sizeof(tiny)), -1);
}

static void
test_card_pages(void **state)
{
	static const uint16_t page2[] = { 12, 30, 11, 7 };
	static const uint16_t page0[] = { 250, 100, 140, 240, 10 };
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 text[REPLY_TEXT_MAX], brief[REPLY_MAX + 1];
	char			 briefs[1][REPLY_MAX + 1];
	const char		*bp[2];

	(void)state;
	/* A party page: PARTAI, then the candidates by number. */
	make_vals(&m, CONTEST_DPR, 2, 4, page2, 4);
	memset(&res, 0, sizeof(res));
	res.auth = AUTH_CARD;
	res.verdict = VERDICT_DUPLICATE;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_string_equal(text, "SUDAH DITERIMA DPR 3201012001001 hal 2 #4: "
	    "PARTAI=12 1=30 2=11 3=7. Tanda terima tetap 58331817. Tidak "
	    "perlu kirim lagi.");
	/* Short and not FLAGGED: a brief with every number, to merge. */
	assert_string_equal(brief, "DPR h2 #4: PARTAI=12 1=30 2=11 3=7, "
	    "58331817 ulang");
	memcpy(briefs[0], brief, sizeof(brief));
	/* A summary page names each party by its ballot number. */
	make_vals(&m, CONTEST_DPR, 0, 5, page0, 5);
	res.verdict = VERDICT_OK;
	res.form.kind = FORM_SUMMARY;
	res.form.nvalues = 5;
	res.form.nchoices = 2;
	res.form.choices[0] = 7;
	res.form.choices[1] = 24;
	assert_int_equal(reply_report(REPLY_ID, &m, &res, text, sizeof(text),
	    brief, sizeof(brief)), 0);
	assert_string_equal(text, "DITERIMA DPR 3201012001001 hal 0 #5: "
	    "PEMILIH=250 7=100 24=140 SAH=240 TDK SAH=10. Tanda terima "
	    "58331817, tulis di C.Hasil.");
	assert_string_equal(brief, "DPR h0 #5: PEMILIH=250 7=100 24=140 "
	    "SAH=240 TDK SAH=10, 58331817");
	bp[0] = briefs[0];
	bp[1] = brief;
	assert_int_equal(reply_merge(REPLY_ID, bp, 2, text, REPLY_MAX + 1),
	    2);
	assert_string_equal(text, "DITERIMA: DPR h2 #4: PARTAI=12 1=30 2=11 "
	    "3=7, 58331817 ulang; DPR h0 #5: PEMILIH=250 7=100 24=140 SAH=240 "
	    "TDK SAH=10, 58331817. Tulis tanda terima di C.Hasil.");
}

static void
test_merge(void **state)
{
	struct reply_msg	 m;
	struct verify_result	 res;
	char			 briefs[30][REPLY_MAX + 1], out[REPLY_MAX + 1];
	char			 first[9];
	const char		*bp[30];
	size_t			 i, k, used, total = 0, rounds = 0;

	(void)state;
	memset(&res, 0, sizeof(res));
	res.auth = AUTH_MAC;		/* only MAC-coded ones are merged */
	for (i = 0; i < 30; i++) {
		char	 text[REPLY_TEXT_MAX];

		make_msg(&m, CONTEST_DPR, (int)i, (unsigned)(i + 100), 4, 9);
		snprintf(m.receipt, sizeof(m.receipt), "%08zu",
		    10000000 + i * 1234567);
		res.verdict = i % 7 == 3 ? VERDICT_FLAGGED : i % 5 == 4 ?
		    VERDICT_DUPLICATE : VERDICT_OK;
		res.flags = res.verdict == VERDICT_FLAGGED ? FLAG_PARTY : 0;
		assert_int_equal(reply_report(REPLY_ID, &m, &res, text,
		    sizeof(text), briefs[i], sizeof(briefs[i])), 0);
		bp[i] = briefs[i];
	}
	while (total < 30) {
		used = reply_merge(REPLY_ID, bp + total, 30 - total, out,
		    sizeof(out));
		assert_true(used >= 1);
		check_sms(out);
		assert_true(strncmp(out, "DITERIMA: ", 10) == 0);
		assert_int_equal(runs8(out, first), used);
		for (k = 0; k < used; k++)
			assert_int_equal(count(out, bp[total + k]), 1);
		/* Full: the next one would not have fitted. */
		if (total + used < 30)
			assert_true(reply_gsm_length(out) +
			    strlen(bp[total + used]) + 2 > REPLY_MAX);
		total += used;
		rounds++;
	}
	assert_int_equal(total, 30);
	assert_true(rounds <= 6);	/* several per SMS */
	assert_int_equal(reply_merge(REPLY_ID, bp, 0, out, sizeof(out)), 0);
	assert_string_equal(out, "");
	used = reply_merge(REPLY_EN, bp, 2, out, sizeof(out));
	assert_int_equal(used, 2);
	assert_true(strncmp(out, "RECEIVED: ", 10) == 0);
	/* A brief that cannot fit is not used. */
	{
		char		 big[200];
		const char	*one[1] = { big };

		memset(big, 'A', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		assert_int_equal(reply_merge(REPLY_ID, one, 1, out,
		    sizeof(out)), 0);
	}
}

static void
test_cek(void **state)
{
	struct reply_latest	 l[40];
	char			 text[REPLY_MAX + 1], more[32];
	size_t			 i, n;
	size_t			 ln;

	(void)state;
	assert_int_equal(reply_cek(REPLY_ID, TPS, NULL, 0, text, sizeof(text)),
	    0);
	check_reject(text, NULL);
	assert_non_null(strstr(text, "3201012001001"));
	assert_non_null(strstr(text, "belum ada"));
	memset(l, 0, sizeof(l));
	for (i = 0; i < 40; i++) {
		l[i].contest = i == 0 ? CONTEST_PPWP : i == 1 ? CONTEST_DPD :
		    CONTEST_DPR;
		l[i].page = (int)i - 2;
		l[i].seq = (unsigned)(i + 1) * 250;
		snprintf(l[i].receipt, sizeof(l[i].receipt), "%08zu",
		    12345678 + i * 1111111);
		l[i].verdict = i == 1 ? VERDICT_FLAGGED : VERDICT_OK;
	}
	assert_int_equal(reply_cek(REPLY_ID, TPS, l, 3, text, sizeof(text)),
	    0);
	check_sms(text);
	assert_int_equal(runs8(text, NULL), 3);
	assert_non_null(strstr(text, "PPWP #250 12345678"));
	assert_non_null(strstr(text, "DPD #500 13456789!"));
	assert_non_null(strstr(text, "DPR h0 #750 14567900"));
	assert_null(strstr(text, "lagi"));
	for (ln = 0; ln < 2; ln++) {
		assert_int_equal(reply_cek(langs[ln], TPS, l, 40, text,
		    sizeof(text)), 0);
		check_sms(text);
		n = runs8(text, NULL);
		assert_true(n >= 3 && n < 40);
		snprintf(more, sizeof(more), ln ? "+%zu more" : "+%zu lagi",
		    40 - n);
		if (strstr(text, more) == NULL)
			fail_msg("\"%s\" lacks \"%s\"", text, more);
		/* The last listed is n-1, in order. */
		assert_non_null(strstr(text, l[n - 1].receipt));
		assert_null(strstr(text, l[n].receipt));
	}
}

static void
test_fixed_texts(void **state)
{
	char	 text[REPLY_TEXT_MAX];
	size_t	 l;

	(void)state;
	/* BANTU: the format, and what each word after PERIKSA means. */
	assert_int_equal(reply_bantu(REPLY_ID, text, sizeof(text)), 0);
	assert_string_equal(text, "Format: PPWP <TPS 13 angka> <SEQ> "
	    "<PEMILIH> <01> <02> <03> <SAH> <TDK SAH> <KODE>. DPR/DPRDP/DPRDK: "
	    "<HAL> stlh SEQ. Pisah spasi atau *. CEK <TPS>. Arti PERIKSA: "
	    "jumlah = suara pasangan/calon/partai dijumlah tidak sama dgn SAH; "
	    "PEMILIH = SAH + TDK SAH tidak sama dgn PEMILIH; DPT = PEMILIH "
	    "lebih dari DPT + 2%; hal 0 = PARTAI + caleg tidak sama dgn angka "
	    "partai di hal 0; nomor = nomor HP ini tidak terdaftar, hubungi "
	    "PPK; lama = SEQ lebih baru yg berlaku. Angka beda dgn C.Hasil? "
	    "Kirim ulang dgn SEQ baru.");
	for (l = 0; l < 2; l++) {
		assert_int_equal(reply_bantu(langs[l], text, sizeof(text)), 0);
		check_long(text);
		assert_int_equal(runs8(text, NULL), 0);
		assert_true(sms_parts(text) >= 2);
		assert_non_null(strstr(text, "PPWP"));
		assert_non_null(strstr(text, "CEK"));
		assert_non_null(strstr(text, "DPR"));
		assert_int_equal(reply_other(langs[l], text, sizeof(text)), 0);
		check_reject(text, NULL);
		assert_non_null(strstr(text, "BANTU"));
		/* An undecodable SMS: one SMS, saying to send it again. */
		assert_int_equal(reply_unreadable(langs[l], text,
		    sizeof(text)), 0);
		check_reject(text, NULL);
		assert_non_null(strstr(text, l == 0 ? "Kirim lagi" :
		    "Send it again"));
		assert_int_equal(reply_tps_unknown(langs[l], "12345678", text,
		    sizeof(text)), 0);
		check_reject(text, NULL);
		assert_int_equal(reply_tps_unknown(langs[l],
		    "\xef\xbc\xa3\xef\xbc\xa5 [x] `99999999999999999999`", text,
		    sizeof(text)), 0);
		check_reject(text, NULL);
		assert_int_equal(reply_tps_unknown(langs[l], NULL, text,
		    sizeof(text)), 0);
		check_reject(text, NULL);
		/* The whole message: the word CEK is not the TPS. */
		assert_int_equal(reply_tps_unknown(langs[l], "cek 320101200",
		    text, sizeof(text)), 0);
		assert_non_null(strstr(text, "'320101200'"));
		assert_int_equal(reply_tps_unknown(langs[l], "CEK", text,
		    sizeof(text)), 0);
		assert_null(strstr(text, "'"));
		assert_int_equal(reply_tps_unknown(langs[l], "CEK123", text,
		    sizeof(text)), 0);
		assert_non_null(strstr(text, "'123'"));
	}
	assert_int_equal(reply_bantu(REPLY_ID, text, 10), -1);
	assert_int_equal(reply_bantu(REPLY_ID, text, REPLY_MAX + 1), -1);
}

/* The text tables: whole in both languages, and every rejection fits. */
static void
test_text_tables(void **state)
{
	char	 why[256];

	(void)state;
	why[0] = '\0';
	if (reply_check_texts(why, sizeof(why)) != 0)
		fail_msg("%s", why);
}

/* What a tired officer gets for the slips the hostile texts showed. */
static void
test_officer_slips(void **state)
{
	static const struct {
		const char	*sms;
		enum reason	 reason;
		const char	*id;
		const char	*en;
	} slip[] = {
	    { "1*3201012001001*1*\xd9\xa2\xd9\xa5\xd9\xa5*120*95*36*251*4*"
	      "43058167", REASON_DIGITS,
	      "DITOLAK: angka Arab/lain tdk terbaca. Ketik semua angka dgn "
	      "angka biasa HP 0-9 (ganti bahasa keyboard), kirim lagi dgn SEQ "
	      "sama.",
	      "REJECTED: Arabic or other digits cannot be read. Type all "
	      "numbers with the phone's normal digits 0-9 (change the keyboard "
	      "language), send again, same SEQ." },
	    { "\xef\xbc\x91*3201012001001", REASON_DIGITS,
	      "DITOLAK: angka Arab/lain tdk terbaca. Ketik semua angka dgn "
	      "angka biasa HP 0-9 (ganti bahasa keyboard), kirim lagi dgn SEQ "
	      "sama.",
	      "REJECTED: Arabic or other digits cannot be read. Type all "
	      "numbers with the phone's normal digits 0-9 (change the keyboard "
	      "language), send again, same SEQ." },
	    { "Lapor: 1*3201012001001*01*255*120*95*36*251*4*43058167",
	      REASON_CONTEST,
	      "DITOLAK: 'LAPOR' bukan jenis pemilihan. Awali dgn 1 PPWP, 2 DPR, "
	      "3 DPD, 4 DPRDP atau 5 DPRDK. Ketik BANTU.",
	      "REJECTED: 'LAPOR' is not a contest. Start with 1 PPWP, 2 DPR, "
	      "3 DPD, 4 DPRDP or 5 DPRDK. Text BANTU." },
	    { "6*3201012001001*1*255*120*95*36*251*4*43058167",
	      REASON_CONTEST,
	      "DITOLAK: '6' bukan jenis pemilihan. Awali dgn 1 PPWP, 2 DPR, "
	      "3 DPD, 4 DPRDP atau 5 DPRDK. Ketik BANTU.",
	      "REJECTED: '6' is not a contest. Start with 1 PPWP, 2 DPR, 3 DPD, "
	      "4 DPRDP or 5 DPRDK. Text BANTU." },
	    { "O1 3201012001001 1 255 120 95 36 251 4 43058167",
	      REASON_CONTEST,
	      "DITOLAK: 'O1' bukan jenis pemilihan. Awali dgn 1 PPWP, 2 DPR, "
	      "3 DPD, 4 DPRDP atau 5 DPRDK. Ketik BANTU.",
	      "REJECTED: 'O1' is not a contest. Start with 1 PPWP, 2 DPR, "
	      "3 DPD, 4 DPRDP or 5 DPRDK. Text BANTU." },
	    { "2*3201012001001*1*257*120*95*36*251*4*43058167",
	      REASON_LIKE_PPWP,
	      "DITOLAK DPR hal 257 #1: angka ini spt laporan PPWP, bukan DPR: "
	      "utk PPWP angka pertama harus 1. Kirim lagi dgn SEQ sama.",
	      "REJECTED DPR page 257 #1: these numbers look like a PPWP report, "
	      "not DPR: for PPWP the first number must be 1. Send again, same "
	      "SEQ." },
	    { "1*3201012001001*255*120*95*36*251*4*43058167",
	      REASON_SEQ_MISSING,
	      "DITOLAK: SEQ tidak ada: stlh kode TPS tulis no urut pesan (= "
	      "baris kartu), lalu sisanya. Kirim lagi.",
	      "REJECTED: the SEQ is missing: after the TPS code put the message "
	      "number (= card row), then the rest. Send again." },
	    { "2*3201012001001*0*250*1*2*3*4*54653405",
	      REASON_SEQ_MISSING,
	      "DITOLAK: SEQ tidak ada: stlh kode TPS tulis no urut pesan (= "
	      "baris kartu), lalu sisanya. Kirim lagi.",
	      "REJECTED: the SEQ is missing: after the TPS code put the message "
	      "number (= card row), then the rest. Send again." },
	    { "2*3401012001001*7*54653405*0*250*1*2*3*4",
	      REASON_CODE_PLACE,
	      "DITOLAK: kata ke-4 '5465340..' spt kode 8 angka, di tempat "
	      "SEQ/halaman. Kode ditulis paling akhir. Kirim lagi dgn SEQ sama.",
	      "REJECTED: word 4 '5465340..' looks like the 8-digit code, where "
	      "the SEQ/page goes. The code goes last. Send again, same SEQ." },
	    { "1*3201012001001*43058167*255*120*95*36*251*4",
	      REASON_CODE_PLACE,
	      "DITOLAK: kata ke-3 '4305816..' spt kode 8 angka, di tempat "
	      "SEQ/halaman. Kode ditulis paling akhir. Kirim lagi dgn SEQ sama.",
	      "REJECTED: word 3 '4305816..' looks like the 8-digit code, where "
	      "the SEQ/page goes. The code goes last. Send again, same SEQ." },
	};
	struct vfix		 f;
	struct verify_result	 res;
	struct reply_msg	 m;
	char			 text[REPLY_MAX + 1];
	size_t			 i;

	(void)state;
	vfix_init(&f);
	for (i = 0; i < sizeof(slip) / sizeof(slip[0]); i++) {
		memset(&m, 0, sizeof(m));
		assert_int_equal(reply_classify(slip[i].sms, NULL, NULL),
		    MSG_REPORT);
		assert_int_equal(verify_report(&f.ctx, slip[i].sms,
		    strlen(slip[i].sms), "+62811", 1000000, &m.report, &res), 0);
		m.decoded = m.report.canon[0] != '\0';
		if (res.verdict != VERDICT_REJECTED ||
		    res.reason != slip[i].reason)
			fail_msg("%zu: verdict %d reason %d", i, res.verdict,
			    res.reason);
		assert_int_equal(reply_report(REPLY_ID, &m, &res, text,
		    sizeof(text), NULL, 0), 0);
		check_reject(text, NULL);
		if (strcmp(text, slip[i].id) != 0)
			fail_msg("%zu: \"%s\"", i, text);
		assert_int_equal(reply_report(REPLY_EN, &m, &res, text,
		    sizeof(text), NULL, 0), 0);
		check_reject(text, NULL);
		if (strcmp(text, slip[i].en) != 0)
			fail_msg("%zu: \"%s\"", i, text);
	}
	election_free(f.el);
	memhist_free(f.mh);
	lockout_free(f.lk);
}

static void
test_classify(void **state)
{
	static const struct {
		const char	*text;
		enum msg_kind	 kind;
		int		 ok;
		uint64_t	 tps;
	} cases[] = {
		{ "CEK 3201012001001", MSG_CEK, 1, TPS },
		{ "  cek  3201012001001 ", MSG_CEK, 1, TPS },
		{ "Cek*32010I20O1001#", MSG_CEK, 1, TPS },
		{ "CEK3201012001001", MSG_CEK, 1, TPS },
		{ "cek 3201012001001 ppwp", MSG_CEK, 1, TPS },
		{ "CEK 320101200100", MSG_CEK, 0, 0 },
		{ "CEK 0000000000001", MSG_CEK, 0, 0 },
		{ "CEK", MSG_CEK, 0, 0 },
		{ "CEK12", MSG_CEK, 0, 0 },
		{ "CEK TPS", MSG_CEK, 0, 0 },
		{ "BANTU", MSG_BANTU, 0, 0 },
		{ "bantu dong", MSG_BANTU, 0, 0 },
		{ "Help", MSG_BANTU, 0, 0 },
		{ "info", MSG_BANTU, 0, 0 },
		{ "?", MSG_BANTU, 0, 0 },
		{ " ?? ", MSG_BANTU, 0, 0 },
		{ "PPWP 3201012001001 1 255 120 95 36 251 4 43058167",
		    MSG_REPORT, 0, 0 },
		{ "1*3201012001001*01*255*120*95*36*251*4*43058167",
		    MSG_REPORT, 0, 0 },
		{ "02#3201012001001#3#0#1", MSG_REPORT, 0, 0 },
		{ "dprdk", MSG_REPORT, 0, 0 },
		{ "5", MSG_REPORT, 0, 0 },
		{ "6 3201012001001", MSG_REPORT, 0, 0 },
		{ "6", MSG_REPORT, 0, 0 },
		{ "O1*3201012001001*1*255", MSG_REPORT, 0, 0 },
		{ "PILPRES 3201012001001 1 255 120 95 36 251 4 43058167",
		    MSG_REPORT, 0, 0 },
		{ "Lapor: 1*3201012001001*01*255*120*95*36*251*4*43058167",
		    MSG_REPORT, 0, 0 },
		{ "Lapor ppwp 3201012001001", MSG_REPORT, 0, 0 },
		{ "\xd9\xa1*\xd9\xa3\xd9\xa2", MSG_REPORT, 0, 0 },
		{ "\xef\xbc\x91 PPWP", MSG_REPORT, 0, 0 },
		{ "halo", MSG_OTHER, 0, 0 },
		{ "terima kasih", MSG_OTHER, 0, 0 },
		{ "ok 2", MSG_OTHER, 0, 0 },
		{ "PILPRES", MSG_OTHER, 0, 0 },
		{ "Pak, nomor saya 081234567", MSG_OTHER, 0, 0 },
		{ "PPWPX 1", MSG_OTHER, 0, 0 },
		{ "CEKAP", MSG_OTHER, 0, 0 },
		{ "Halo, selamat pagi", MSG_OTHER, 0, 0 },
		{ "", MSG_OTHER, 0, 0 },
		{ "  *#  ", MSG_OTHER, 0, 0 },
	};
	uint64_t	 tps;
	size_t		 i;
	int		 ok;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tps = 77;
		ok = 77;
		if (reply_classify(cases[i].text, &tps, &ok) != cases[i].kind)
			fail_msg("\"%s\": kind %d, want %d", cases[i].text,
			    reply_classify(cases[i].text, &tps, &ok),
			    cases[i].kind);
		if (ok != cases[i].ok || tps != cases[i].tps)
			fail_msg("\"%s\": ok %d tps %llu", cases[i].text, ok,
			    (unsigned long long)tps);
	}
	assert_int_equal(reply_classify(NULL, NULL, NULL), MSG_OTHER);
	assert_int_equal(reply_classify("CEK 3201012001001", NULL, NULL),
	    MSG_CEK);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_gsm_length),
	cmocka_unit_test(test_confirm_all_flags),
	cmocka_unit_test(test_flag_words),
	cmocka_unit_test(test_long_page),
	cmocka_unit_test(test_reject_all_reasons),
	cmocka_unit_test(test_reject_details),
	cmocka_unit_test(test_through_verify),
	cmocka_unit_test(test_card_echo),
	cmocka_unit_test(test_card_pages),
	cmocka_unit_test(test_label_value),
	cmocka_unit_test(test_merge),
	cmocka_unit_test(test_cek),
	cmocka_unit_test(test_fixed_texts),
	cmocka_unit_test(test_classify),
	cmocka_unit_test(test_officer_slips),
	cmocka_unit_test(test_text_tables),
};

UNIT_MAIN(tests)
