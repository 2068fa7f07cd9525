/*
 * Two readings of docs/protocol.md side by side: the scenario's
 * expected outcomes (sim/truth.c, from what each simulated officer
 * meant and the one mistake made) and the gateway's verify stage
 * (gateway/tally/verify.c, from the text). Neither is asked for the
 * other's answer. This suite alone may call both: it is the judge.
 *
 * - Literal cases, each expectation written by hand from the protocol,
 *   are run through both: among them every disagreement the
 *   comparison below has found, with the side that was wrong.
 * - Whole scenarios (many seeds, quiet and busy nights, bad codes
 *   enough to lock officers out, with and without a registry) are
 *   verified message by message in the order each phone sends them;
 *   every disagreement is printed, and any fails the suite.
 *
 * Needs sim/scenario.c, sim/truth.c, build/libtally.a and
 * ../shared/data (or $SHARED).
 */

#include <sys/queue.h>
#include <sys/stat.h>

#include <limits.h>
#include <unistd.h>

#include "unit.h"
#include "memhist.h"
#include "scenario.h"
#include "tally.h"
#include "truth.h"

#define EPOCH		1707886800	/* 2024-02-14 05:00 UTC */
#define T_JABAR		3201012001001ULL	/* check vectors, 9 */
#define T_DIY		3401012001001ULL	/* the DPR vector */
#define T_KALTARA	6501011001001ULL	/* the worked example */
#define PHONE_A		"+6281100000001"
#define PHONE_B		"+6281100000002"

/*
 * Scenarios compared, of each kind. Under the sanitizers (make check
 * runs this suite twice) a few suffice: that run looks for memory
 * errors, the plain one for disagreements.
 */
#ifdef __SANITIZE_ADDRESS__
#define NDEFAULT	4
#define NBUSY		2
#define NLOCKOUT	1
#else
#define NDEFAULT	20
#define NBUSY		4
#define NLOCKOUT	3
#endif

static struct key	 root;
static struct election	*el;
static char		 tmpdir[PATH_MAX];
static char		 csv[PATH_MAX], desa[PATH_MAX];
static char		 national[PATH_MAX + 32];	/* every TPS */
static char		 dptonly[PATH_MAX + 32];	/* pilpres rows only */

/* One message of a literal case: its intent, and what must come of it. */
struct step {
	const char	*what;
	const char	*sender;
	unsigned	 at;		/* seconds after EPOCH */
	enum contest	 contest;
	uint64_t	 tps;
	int		 page;
	unsigned	 seq;
	const uint16_t	*meant;
	size_t		 nmeant;
	enum truth_slip	 slip;
	size_t		 k;
	uint16_t	 typed;
	enum auth	 mode;
	/* By hand, from docs/protocol.md: */
	enum verdict	 verdict;
	enum reason	 reason;
	unsigned	 flags;
	unsigned	 supersedes;
	const char	*receipt;	/* NULL: not checked; "" none */
	const char	*quoted;	/* SEQ_USED: the earlier receipt */
};

#define V(...)	(const uint16_t[]){ __VA_ARGS__ },			\
		sizeof((const uint16_t[]){ __VA_ARGS__ }) / sizeof(uint16_t)

/* Section 9: 120 + 95 + 36 = 251 = SAH; 251 + 4 = 255 = PEMILIH. */
#define PPWP_OK		V(255, 120, 95, 36, 251, 4)
/* Section 9's DPR page 0: 1 + ... + 18 = 171 = SAH; 171 + 4 != 250. */
#define DPR_P0		V(250, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,	\
			    13, 14, 15, 16, 17, 18, 171, 4)

static const struct step steps[] = {
	{ "a clean card report", PHONE_A, 100, CONTEST_PPWP, T_JABAR, -1,
	  1, PPWP_OK, TRUTH_NONE, 0, 0, AUTH_CARD,
	  VERDICT_OK, REASON_NONE, 0, 0, "58331817", "" },
	{ "the same text again", PHONE_A, 400, CONTEST_PPWP, T_JABAR, -1,
	  1, PPWP_OK, TRUTH_NONE, 0, 0, AUTH_CARD,
	  VERDICT_DUPLICATE, REASON_NONE, 0, 0, "58331817", "" },
	{ "the same SEQ, a digit mistyped", PHONE_A, 700, CONTEST_PPWP,
	  T_JABAR, -1, 1, PPWP_OK, TRUTH_TYPO, 2, 59, AUTH_CARD,
	  VERDICT_REJECTED, REASON_SEQ_USED, 0, 0, "", "58331817" },
	{ "a typo under a new SEQ, by MAC", PHONE_A, 800, CONTEST_PPWP,
	  T_JABAR, -1, 2, PPWP_OK, TRUTH_TYPO, 2, 59, AUTH_MAC,
	  VERDICT_FLAGGED, REASON_NONE, FLAG_SUM, 1, NULL, "" },
	{ "TIDAK_SAH left out", PHONE_A, 900, CONTEST_PPWP, T_JABAR, -1,
	  3, PPWP_OK, TRUTH_VALUE_MISSING, 5, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_COUNT, 0, 0, "", "" },
	{ "the code left out", PHONE_A, 1000, CONTEST_PPWP, T_JABAR, -1,
	  3, PPWP_OK, TRUTH_CODE_MISSING, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_CODE_FORMAT, 0, 0, "", "" },
	{ "PEMILIH where SEQ goes: 251 + 4 = 255", PHONE_A, 1100,
	  CONTEST_PPWP, T_JABAR, -1, 255, PPWP_OK, TRUTH_VALUE_MISSING, 0, 0,
	  AUTH_CARD, VERDICT_REJECTED, REASON_SEQ_MISSING, 0, 0, "", "" },
	{ "the correction of the typo", PHONE_A, 1200, CONTEST_PPWP,
	  T_JABAR, -1, 3, PPWP_OK, TRUTH_NONE, 0, 0, AUTH_CARD,
	  VERDICT_OK, REASON_NONE, 0, 2, NULL, "" },
	{ "a party page before its page 0: not checked", PHONE_A, 1300,
	  CONTEST_DPR, T_JABAR, 2, 4, V(9, 9, 9, 9, 9, 9), TRUTH_NONE, 0, 0,
	  AUTH_CARD, VERDICT_OK, REASON_NONE, 0, 0, NULL, "" },
	{ "307 voters, no registry: over 306", PHONE_A, 100, CONTEST_PPWP,
	  T_KALTARA, -1, 1, V(307, 120, 95, 36, 251, 56), TRUTH_NONE, 0, 0,
	  AUTH_MAC, VERDICT_FLAGGED, REASON_NONE, FLAG_DPT, 0, NULL, "" },
	{ "DPR page 0, SEQ 9", PHONE_A, 100, CONTEST_DPR, T_DIY, 0, 9,
	  DPR_P0, TRUTH_NONE, 0, 0, AUTH_CARD,
	  VERDICT_FLAGGED, REASON_NONE, FLAG_TOTAL, 0, NULL, "" },
	{ "section 9's DPR report, late: SEQ 7 after 9", PHONE_A, 200,
	  CONTEST_DPR, T_DIY, 0, 7, DPR_P0, TRUTH_NONE, 0, 0, AUTH_MAC,
	  VERDICT_FLAGGED, REASON_NONE, FLAG_TOTAL | FLAG_STALE, 0,
	  "08502698", "" },
	{ "GERINDRA's page adds up to its 2 on page 0", PHONE_A, 300,
	  CONTEST_DPR, T_DIY, 2, 10, V(1, 1, 0, 0), TRUTH_NONE, 0, 0,
	  AUTH_CARD, VERDICT_OK, REASON_NONE, 0, 0, NULL, "" },
	{ "GERINDRA's page corrected to 3: not 2", PHONE_A, 400,
	  CONTEST_DPR, T_DIY, 2, 11, V(1, 1, 0, 0), TRUTH_TYPO, 0, 2,
	  AUTH_CARD, VERDICT_FLAGGED, REASON_NONE, FLAG_PARTY, 10, NULL, "" },
	/*
	 * Found by the comparison (truth.c was wrong): a USSD officer's
	 * reports reach the gateway in the order they are begun (dial.c),
	 * and the 1 KIRIM of one whose sessions run long can be later
	 * than that of the next. A bad code 3,828 s before the latest is
	 * out of that one's window, but only 2,709 s before the next, for
	 * which it counts again: 5 in the window, locked (section 15).
	 * truth.c had forgotten it and said CODE_BAD, then OK.
	 */
	{ "bad code 1", PHONE_B, 420, CONTEST_PPWP, T_JABAR, -1, 20,
	  PPWP_OK, TRUTH_CODE_WRONG, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_CODE_BAD, 0, 0, "", "" },
	{ "bad code 2", PHONE_B, 1713, CONTEST_PPWP, T_JABAR, -1, 20,
	  PPWP_OK, TRUTH_CODE_WRONG, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_CODE_BAD, 0, 0, "", "" },
	{ "bad code 3", PHONE_B, 3092, CONTEST_PPWP, T_JABAR, -1, 20,
	  PPWP_OK, TRUTH_CODE_WRONG, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_CODE_BAD, 0, 0, "", "" },
	{ "bad code 4, 3,828 s after the first", PHONE_B, 4248, CONTEST_PPWP,
	  T_JABAR, -1, 20, PPWP_OK, TRUTH_CODE_WRONG, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_CODE_BAD, 0, 0, "", "" },
	{ "bad code 5, sent before 4: the fifth in the window", PHONE_B,
	  3129, CONTEST_PPWP, T_JABAR, -1, 20, PPWP_OK, TRUTH_CODE_WRONG, 0,
	  0, AUTH_CARD, VERDICT_REJECTED, REASON_CODE_BAD, 0, 0, "", "" },
	{ "the right code while locked out", PHONE_B, 3381, CONTEST_PPWP,
	  T_JABAR, -1, 20, PPWP_OK, TRUTH_NONE, 0, 0, AUTH_CARD,
	  VERDICT_REJECTED, REASON_LOCKED, 0, 0, "", "" },
	{ "another phone of the TPS is not locked out", PHONE_A, 3400,
	  CONTEST_PPWP, T_JABAR, -1, 21, PPWP_OK, TRUTH_NONE, 0, 0,
	  AUTH_CARD, VERDICT_OK, REASON_NONE, 0, 3, NULL, "" },
	{ "the lock ends an hour after the fifth", PHONE_B, 3129 + 3600,
	  CONTEST_PPWP, T_JABAR, -1, 22, PPWP_OK, TRUTH_NONE, 0, 0,
	  AUTH_CARD, VERDICT_OK, REASON_NONE, 0, 21, NULL, "" },
};

static int
setup(void **state)
{
	struct registry	*reg;
	char		 err[512];
	size_t		 n;
	int		 i;

	if (key_init() == -1 || (el = election_default()) == NULL)
		return (-1);
	root.kind = KEY_ROOT;
	for (i = 0; i < TALLY_KEY_LEN; i++)
		root.k[i] = (uint8_t)i;
	snprintf(csv, sizeof(csv), "%s", unit_shared("pilpres2024_tps.csv"));
	snprintf(desa, sizeof(desa), "%s", unit_shared("desa_tps_2024.csv"));
	snprintf(tmpdir, sizeof(tmpdir), "%s/test_truth.XXXXXX",
	    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(tmpdir) == NULL)
		return (-1);
	/* The national registry, as tallysim world builds it. */
	snprintf(national, sizeof(national), "%s/national.db", tmpdir);
	if ((reg = registry_open(national, REGISTRY_CREATE, err,
	    sizeof(err))) == NULL ||
	    registry_import_desa(reg, desa, &n, err, sizeof(err)) == -1 ||
	    registry_import_dpt(reg, csv, &n, err, sizeof(err)) == -1) {
		fprintf(stderr, "registry: %s\n", err);
		return (-1);
	}
	registry_close(reg);
	/* Without the villages: the long-DPD TPS are unknown. */
	snprintf(dptonly, sizeof(dptonly), "%s/dptonly.db", tmpdir);
	if ((reg = registry_open(dptonly, REGISTRY_CREATE, err,
	    sizeof(err))) == NULL ||
	    registry_import_dpt(reg, csv, &n, err, sizeof(err)) == -1) {
		fprintf(stderr, "registry: %s\n", err);
		return (-1);
	}
	registry_close(reg);
	*state = NULL;
	return (0);
}

static int
teardown(void **state)
{
	static const char *const files[] = { "national.db",
	    "national.db-wal", "national.db-shm", "dptonly.db",
	    "dptonly.db-wal", "dptonly.db-shm" };
	char	 path[PATH_MAX + 32];
	size_t	 i;

	/* SQLite leaves the WAL files of a read-only open. */
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	if (rmdir(tmpdir) == -1)
		fprintf(stderr, "# could not remove %s\n", tmpdir);
	election_free(el);
	return (0);
}

/* A step as the truth model reads it. */
static void
step_msg(const struct step *s, struct truth_msg *tm)
{
	memset(tm, 0, sizeof(*tm));
	tm->sender = s->sender;
	tm->tps = s->tps;
	tm->contest = s->contest;
	tm->page = s->page;
	tm->seq = s->seq;
	tm->meant = s->meant;
	tm->nmeant = s->nmeant;
	tm->slip = s->slip;
	tm->k = s->k;
	tm->typed = s->typed;
	tm->mode = s->mode;
	tm->at = EPOCH + (time_t)s->at;
}

/* The text an officer types for a step: digits and '*'. */
static void
step_text(const struct step *s, char *buf, size_t len)
{
	struct truth_msg tm;
	uint16_t	 v[TALLY_MAXVALUES];
	uint8_t		 kt[TALLY_KEY_LEN];
	char		 canon[TALLY_CANON_MAX], code[TALLY_CODE_LEN + 1];
	size_t		 n, i, off;

	step_msg(s, &tm);
	n = truth_typed(&tm, v);
	assert_int_equal(key_derive_tps(&root, s->tps, kt), 0);
	assert_int_equal(truth_canon(s->contest, s->tps, s->seq, s->page, v,
	    n, canon, sizeof(canon)), 0);
	if (s->mode == AUTH_CARD)
		key_card(kt, s->seq, code);
	else
		key_mac(kt, canon, code);
	if (s->slip == TRUTH_CODE_WRONG)
		code[7] = code[7] == '9' ? '0' : (char)(code[7] + 1);
	off = (size_t)snprintf(buf, len, "%d*%013llu*%u", (int)s->contest,
	    (unsigned long long)s->tps, s->seq);
	if (s->page >= 0)
		off += (size_t)snprintf(buf + off, len - off, "*%d", s->page);
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(buf + off, len - off, "*%u", v[i]);
	if (s->slip != TRUTH_CODE_MISSING)
		snprintf(buf + off, len - off, "*%s", code);
	assert_true(off < len);
}

/* The gateway's verify stage, with a history and a lockout of its own. */
struct gate {
	struct verify_ctx	 ctx;
	struct memhist		*mh;
};

static void
gate_open(struct gate *g, struct registry *reg)
{
	memset(g, 0, sizeof(*g));
	assert_non_null(g->mh = memhist_new());
	g->ctx.election = el;
	g->ctx.registry = reg;
	g->ctx.key = &root;
	g->ctx.history = memhist_history(g->mh);
	assert_non_null(g->ctx.lockout = lockout_new(NULL));
	g->ctx.default_dpt = VERIFY_DEFAULT_DPT;
}

/* Verify a text; an accepted report is recorded, as the store would. */
static void
gate_verify(struct gate *g, const char *text, const char *sender, time_t at,
    struct verify_result *res)
{
	struct report	 rep;

	assert_int_equal(verify_report(&g->ctx, text, strlen(text), sender,
	    at, &rep, res), 0);
	if (res->verdict == VERDICT_OK || res->verdict == VERDICT_FLAGGED)
		assert_int_equal(memhist_add(g->mh, &rep, res->receipt), 0);
}

static void
gate_close(struct gate *g)
{
	lockout_free(g->ctx.lockout);
	memhist_free(g->mh);
}

/* What a step must give, whichever side gave it. */
static void
step_check(const struct step *s, const char *side, enum verdict verdict,
    enum reason reason, unsigned flags, unsigned supersedes,
    const char *receipt, const char *quoted)
{
	if (verdict == s->verdict && reason == s->reason && flags ==
	    s->flags && supersedes == s->supersedes && (s->receipt == NULL ?
	    strlen(receipt) == TALLY_CODE_LEN : strcmp(receipt,
	    s->receipt) == 0) && strcmp(quoted, s->quoted) == 0)
		return;
	fail_msg("%s: %s: %s %s flags %#x supersedes %u receipt '%s' "
	    "quoted '%s'; by hand: %s %s flags %#x supersedes %u receipt "
	    "'%s' quoted '%s'", s->what, side, verify_verdict_name(verdict),
	    scenario_reason_name(reason), flags, supersedes, receipt, quoted,
	    verify_verdict_name(s->verdict), scenario_reason_name(s->reason),
	    s->flags, s->supersedes, s->receipt != NULL ? s->receipt :
	    "(any)", s->quoted);
}

/* The literal cases through both sides, in order, against the hand. */
static void
test_literal(void **state)
{
	struct truth_conf	 tc = { el, NULL, &root };
	struct truth		*t;
	struct gate		 g;
	struct verify_result	 res;
	struct truth_expect	 x;
	struct truth_msg	 tm;
	char			 text[1024];
	const char		*quoted;
	size_t			 i;

	assert_non_null(t = truth_new(&tc));
	gate_open(&g, NULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];

		step_msg(s, &tm);
		assert_int_equal(truth_judge(t, &tm, &x), 0);
		step_check(s, "truth", x.verdict, x.reason, x.flags,
		    x.supersedes, x.receipt, x.quoted);
		if (x.verdict != VERDICT_REJECTED)
			assert_int_equal(x.auth, s->mode);
		step_text(s, text, sizeof(text));
		gate_verify(&g, text, s->sender, tm.at, &res);
		quoted = res.verdict == VERDICT_REJECTED && res.reason ==
		    REASON_SEQ_USED ? res.receipt : "";
		step_check(s, "verify", res.verdict, res.verdict ==
		    VERDICT_REJECTED ? res.reason : REASON_NONE, res.flags,
		    res.supersedes, res.verdict == VERDICT_REJECTED ? "" :
		    res.receipt, quoted);
	}
	gate_close(&g);
	truth_free(t);
}

/* The check vectors of sections 9 and 10, and a typed report. */
static void
test_vectors(void **state)
{
	static const struct {
		enum contest	 contest;
		uint64_t	 tps;
		unsigned	 seq;
		int		 page;
		uint16_t	 v[24];
		size_t		 n;
		const char	*canon, *receipt;
	} vec[] = {
		{ CONTEST_PPWP, T_JABAR, 1, -1, { 255, 120, 95, 36, 251, 4 },
		  6, "PPWP 3201012001001 1 255 120 95 36 251 4", "58331817" },
		{ CONTEST_DPR, T_DIY, 7, 0, { 250, 1, 2, 3, 4, 5, 6, 7, 8, 9,
		  10, 11, 12, 13, 14, 15, 16, 17, 18, 171, 4 }, 21,
		  "DPR 3401012001001 7 0 250 1 2 3 4 5 6 7 8 9 10 11 12 13 14 "
		  "15 16 17 18 171 4", "08502698" },
		{ CONTEST_PPWP, T_KALTARA, 1, -1, { 269, 63, 181, 16, 260, 9 },
		  6, "PPWP 6501011001001 1 269 63 181 16 260 9", "58388817" },
	};
	static const uint16_t meant[] = { 255, 120, 95, 36, 251, 4 };
	struct truth_msg tm;
	uint16_t	 v[TALLY_MAXVALUES];
	uint8_t		 kt[TALLY_KEY_LEN];
	char		 canon[TALLY_CANON_MAX], code[TALLY_CODE_LEN + 1];
	size_t		 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		assert_int_equal(truth_canon(vec[i].contest, vec[i].tps,
		    vec[i].seq, vec[i].page, vec[i].v, vec[i].n, canon,
		    sizeof(canon)), 0);
		assert_string_equal(canon, vec[i].canon);
		assert_int_equal(key_derive_tps(&root, vec[i].tps, kt), 0);
		key_receipt(kt, canon, code);
		assert_string_equal(code, vec[i].receipt);
	}
	assert_int_equal(truth_canon(CONTEST_PPWP, T_JABAR, 1, -1, vec[0].v,
	    6, canon, 20), -1);
	memset(&tm, 0, sizeof(tm));
	tm.meant = meant;
	tm.nmeant = 6;
	tm.slip = TRUTH_TYPO;
	tm.k = 2;
	tm.typed = 59;
	assert_int_equal(truth_typed(&tm, v), 6);
	assert_int_equal(v[1], 120);
	assert_int_equal(v[2], 59);
	tm.slip = TRUTH_VALUE_MISSING;
	tm.k = 0;
	assert_int_equal(truth_typed(&tm, v), 5);
	assert_int_equal(v[0], 120);
	assert_int_equal(v[4], 4);
	assert_string_equal(truth_verdict_name(VERDICT_DUPLICATE),
	    "DUPLICATE");
	assert_int_equal(truth_flags_text(FLAG_SUM | FLAG_STALE, canon,
	    sizeof(canon)), 0);
	assert_string_equal(canon, "SUM,STALE");
}

/* The one line a disagreement prints: the message, both answers. */
static void
report_disagreement(const char *label, const struct scenario_conf *c,
    const struct sc_msg *m, const struct verify_result *res,
    const char *what)
{
	const struct sc_expect *x = &m->expect;
	char	 a[64], b[64];

	truth_flags_text(x->flags, a, sizeof(a));
	verify_flags_text(res->flags, b, sizeof(b));
	printf("# %s seed %llu msg %zu %s %013llu %s page %d seq %u %s "
	    "(%s): %s: truth %s %s [%s] supersedes %u, verify %s %s [%s] "
	    "supersedes %u: %s\n", label, (unsigned long long)c->seed, m->id,
	    m->phone->msisdn, (unsigned long long)m->tps,
	    decode_contest_name(m->contest), m->page, m->seq,
	    scenario_kind_name(m->kind), m->ussd != NULL ? "ussd" : "sms",
	    what, verify_verdict_name(x->verdict),
	    scenario_reason_name(x->reason), a, x->supersedes,
	    verify_verdict_name(res->verdict), res->verdict ==
	    VERDICT_REJECTED ? scenario_reason_name(res->reason) : "NONE", b,
	    res->supersedes, m->text);
}

/* Where verify's answer differs from the scenario's, or NULL. */
static const char *
differs(const struct sc_msg *m, const struct verify_result *res,
    const char *text)
{
	const struct sc_expect	*x = &m->expect;
	struct report		 rep;
	struct decode_error	 e;
	int			 decoded;

	if (res->verdict != x->verdict)
		return ("verdict");
	if (res->verdict == VERDICT_REJECTED && res->reason != x->reason)
		return ("reason");
	if (res->flags != x->flags)
		return ("flags");
	if (res->verdict != VERDICT_REJECTED && res->auth != x->auth)
		return ("auth");
	if (res->supersedes != x->supersedes)
		return ("supersedes");
	if (res->verdict != VERDICT_REJECTED ? strcmp(res->receipt,
	    x->receipt) != 0 : res->reason == REASON_SEQ_USED ?
	    strcmp(res->receipt, x->quoted) != 0 : res->receipt[0] != '\0')
		return ("receipt");
	decoded = decode_report(text, strlen(text), &rep, &e) == 0;
	if (decoded != (x->canon != NULL))
		return ("decoded");
	if (decoded && (strcmp(rep.canon, x->canon) != 0 || rep.nvalues !=
	    x->nvalues || memcmp(rep.values, x->values, rep.nvalues *
	    sizeof(*rep.values)) != 0))
		return ("canonical text");
	return (NULL);
}

/* What the scenarios compared have covered: reasons and flags. */
struct cover {
	size_t	 msgs;
	size_t	 bad;
	size_t	 reason[REASON_MAX];
	size_t	 flag[8];
};

/*
 * Verify every message of a scenario in each phone's send order (the
 * gateway's order: an SMS phone sends in it, the dialer plays a USSD
 * officer's reports in it), with the scenario's clock, and count the
 * disagreements with the scenario's expectations.
 */
static void
compare(const char *label, struct scenario_conf *c, struct cover *cv)
{
	struct scenario		*sc;
	struct registry		*reg = NULL;
	struct gate		 g;
	struct verify_result	 res;
	const struct sc_phone	*ph;
	const struct sc_msg	*m;
	const char		*what;
	char			 err[512];
	unsigned		 i;

	if (scenario_build(c, &sc, err, sizeof(err)) == -1)
		fail_msg("%s seed %llu: %s", label,
		    (unsigned long long)c->seed, err);
	if (c->registry != NULL)
		assert_non_null(reg = registry_open(c->registry,
		    REGISTRY_RDONLY, err, sizeof(err)));
	gate_open(&g, reg);
	TAILQ_FOREACH(ph, &sc->phones, entry) {
		TAILQ_FOREACH(m, &ph->msgs, pentry) {
			gate_verify(&g, m->text, ph->msisdn, c->epoch +
			    (time_t)scenario_sent_at(m), &res);
			if ((what = differs(m, &res, m->text)) != NULL) {
				report_disagreement(label, c, m, &res, what);
				cv->bad++;
			}
			cv->reason[m->expect.reason]++;
			for (i = 0; i < 8; i++)
				cv->flag[i] += (m->expect.flags >> i) & 1;
			cv->msgs++;
		}
	}
	gate_close(&g);
	registry_close(reg);
	scenario_free(sc);
}

static void
cover_print(const char *label, const struct cover *cv)
{
	unsigned	 i;

	printf("# %s: %zu messages, %zu disagreements; rejected:", label,
	    cv->msgs, cv->bad);
	for (i = 1; i < REASON_MAX; i++)
		if (cv->reason[i] > 0)
			printf(" %s %zu", scenario_reason_name((enum reason)i),
			    cv->reason[i]);
	printf("; flags:");
	for (i = 0; truth_flag_name(i) != NULL; i++)
		printf(" %s %zu", truth_flag_name(i), cv->flag[i]);
	printf("\n");
}

/*
 * Compare n nights from seed first on: 300 TPS, a quarter of the
 * officers on USSD, the national registry, as tune changes them.
 */
static void
compare_nights(const char *label, uint64_t first, uint64_t n,
    void (*tune)(struct scenario_conf *, uint64_t), struct cover *cv)
{
	struct scenario_conf	 c;
	uint64_t		 seed;

	memset(cv, 0, sizeof(*cv));
	for (seed = first; seed < first + n; seed++) {
		scenario_defaults(&c);
		c.csv = csv;
		c.desa_csv = desa;
		c.election = el;
		c.key = &root;
		c.seed = seed;
		c.ntps = 300;
		c.ussd.share = 0.25;
		c.registry = national;
		tune(&c, seed);
		compare(label, &c, cv);
	}
	cover_print(label, cv);
}

/* The demo's night and world.sh's; a quarter without a registry (the
   DPT is then 300 everywhere). */
static void
tune_default(struct scenario_conf *c, uint64_t seed)
{
	if (seed % 4 == 0)
		c->registry = NULL;
}

static void
test_compare_default(void **state)
{
	struct cover	 cv;

	compare_nights("default", 1, NDEFAULT, tune_default, &cv);
	assert_true(cv.msgs > NDEFAULT * 3000);
	assert_true(cv.reason[REASON_CODE_BAD] > 0 &&
	    cv.reason[REASON_SEQ_USED] > 0 && cv.reason[REASON_COUNT] > 0 &&
	    cv.reason[REASON_CODE_FORMAT] > 0);
	assert_true(cv.flag[0] > 0 && cv.flag[1] > 0 && cv.flag[2] > 0 &&
	    cv.flag[3] > 0);
	assert_int_equal(cv.bad, 0);
}

/*
 * Busy nights: every mistake frequent, more party pages (PARTY), more
 * long DPD ballots; some with the long-DPD TPS unknown to the registry.
 */
static void
tune_busy(struct scenario_conf *c, uint64_t seed)
{
	c->long_share = 0.1;
	c->party_pages = 4;
	c->err.typo_digit = 0.08;
	c->err.typo_swap = 0.06;
	c->err.code_wrong = 0.08;
	c->err.code_missing = 0.04;
	c->err.value_missing = 0.06;
	c->err.resend = 0.12;
	c->err.seq_reuse = 0.3;
	c->ussd.share = 0.35;
	c->ussd.abandon = 0.2;
	if (seed % 2 == 0)
		c->registry = dptonly;
}

static void
test_compare_busy(void **state)
{
	struct cover	 cv;

	compare_nights("busy", 101, NBUSY, tune_busy, &cv);
	assert_true(cv.reason[REASON_TPS_UNKNOWN] > 0);
	assert_int_equal(cv.bad, 0);
}

/*
 * An hour's night with half the first attempts miscoded and no cap on
 * them: officers are locked out (section 15), and USSD reports sent
 * out of their clock's order test the window.
 */
static void
tune_lockout(struct scenario_conf *c, uint64_t seed)
{
	c->night = 3600;
	c->err.code_wrong = 0.5;
	c->err.max_bad_codes = 20;
	c->ussd.share = 0.3;
}

static void
test_compare_lockout(void **state)
{
	struct cover	 cv;

	compare_nights("lockout", 201, NLOCKOUT, tune_lockout, &cv);
	assert_true(cv.reason[REASON_LOCKED] > 0);
	assert_int_equal(cv.bad, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_literal),
		cmocka_unit_test(test_compare_default),
		cmocka_unit_test(test_compare_busy),
		cmocka_unit_test(test_compare_lockout),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
