/*
 * Unit tests of the scenario (what simulated KPPS phones send, and the
 * outcome the protocol gives each message) and of the oracle that
 * judges a gateway run against it: a perfect simulated gateway gives no
 * discrepancy, and each way of breaking it is found and named.
 *
 * Needs sim/scenario.c, sim/oracle.c, build/libtally.a, jansson, and
 * ../shared/data (or $SHARED).
 */

#include <sys/queue.h>

#include <jansson.h>

#include "unit.h"
#include "memhist.h"
#include "oracle.h"
#include "scenario.h"
#include "tally.h"

#define NTPS	60

struct fixture {
	struct election		*el;
	struct key		 root;
	struct scenario_conf	 conf;
	struct scenario		*sc;
	char			 csv[4096];
	char			 desa[4096];
};

/* A busy night: every kind of mistake is frequent enough to test. */
static void
busy_conf(struct fixture *f, uint64_t seed)
{
	scenario_defaults(&f->conf);
	f->conf.csv = f->csv;
	f->conf.desa_csv = f->desa;
	f->conf.election = f->el;
	f->conf.key = &f->root;
	f->conf.seed = seed;
	f->conf.ntps = NTPS;
	f->conf.long_share = 0.1;
	f->conf.err.typo_digit = 0.08;
	f->conf.err.typo_swap = 0.06;
	f->conf.err.code_wrong = 0.08;
	f->conf.err.code_missing = 0.04;
	f->conf.err.value_missing = 0.06;
	f->conf.err.resend = 0.12;
	f->conf.err.seq_reuse = 0.3;
	f->conf.style.boxes = 0.5;
	f->conf.ussd.share = 0.35;
	f->conf.ussd.wrong_key = 0.25;
	f->conf.ussd.back = 0.2;
	f->conf.ussd.restart = 0.1;
	f->conf.ussd.drop = 0.12;
	f->conf.ussd.timeout = 0.08;
	f->conf.ussd.abandon = 0.08;
	f->conf.ussd.retry = 0.15;
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[512];
	int		 i;

	if (f == NULL || key_init() == -1)
		return (-1);
	snprintf(f->csv, sizeof(f->csv), "%s", unit_shared(
	    "pilpres2024_tps.csv"));
	snprintf(f->desa, sizeof(f->desa), "%s", unit_shared(
	    "desa_tps_2024.csv"));
	if ((f->el = election_default()) == NULL)
		return (-1);
	f->root.kind = KEY_ROOT;
	for (i = 0; i < TALLY_KEY_LEN; i++)
		f->root.k[i] = (uint8_t)i;
	busy_conf(f, 7);
	if (scenario_build(&f->conf, &f->sc, err, sizeof(err)) == -1) {
		fprintf(stderr, "scenario: %s\n", err);
		return (-1);
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	scenario_free(f->sc);
	election_free(f->el);
	free(f);
	return (0);
}

/* The JSON lines of a scenario, as one malloc'd string. */
static char *
dump(const struct scenario *sc)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp = open_memstream(&buf, &len);

	assert_non_null(fp);
	assert_int_equal(scenario_write(fp, sc), 0);
	fclose(fp);
	return (buf);
}

static void
test_determinism(void **state)
{
	struct fixture	*f = *state;
	struct scenario	*a, *b;
	char		 err[512], *ja, *jb, *j0;

	busy_conf(f, 7);
	assert_int_equal(scenario_build(&f->conf, &a, err, sizeof(err)), 0);
	busy_conf(f, 8);
	assert_int_equal(scenario_build(&f->conf, &b, err, sizeof(err)), 0);
	ja = dump(a);
	jb = dump(b);
	j0 = dump(f->sc);
	assert_true(strlen(ja) > 1000);
	assert_string_equal(ja, j0);
	assert_true(strcmp(ja, jb) != 0);
	/* Every line is a JSON object with the fields a runner needs. */
	{
		char	*line = ja, *nl;
		size_t	 n = 0;

		while ((nl = strchr(line, '\n')) != NULL) {
			json_t *o = json_loadb(line, (size_t)(nl - line), 0,
			    NULL);

			assert_non_null(o);
			assert_non_null(json_object_get(o, "phone"));
			assert_non_null(json_object_get(o, "text"));
			assert_non_null(json_object_get(o, "expect"));
			json_decref(o);
			line = nl + 1;
			n++;
		}
		assert_int_equal(n, a->nmsgs);
	}
	free(ja);
	free(jb);
	free(j0);
	scenario_free(a);
	scenario_free(b);
}

static void
test_contests(void **state)
{
	struct fixture		*f = *state;
	const struct sc_msg	*m;
	size_t			 seen[CONTEST_MAX + 1] = { 0 }, party = 0;
	size_t			 prov[100] = { 0 }, nprov = 0, card = 0, i;
	unsigned		 last = 0;
	const struct sc_phone	*ph;

	for (m = scenario_first(f->sc); m != NULL; m = scenario_next(m)) {
		seen[m->contest]++;
		if (m->page > 0)
			party++;
		assert_true(m->t >= last);	/* time order */
		last = m->t;
		prov[m->tps / 100000000000ULL]++;
	}
	for (i = CONTEST_PPWP; i <= CONTEST_MAX; i++)
		assert_true(seen[i] > 0);
	assert_true(party > 0);
	for (i = 0; i < 100; i++)
		nprov += prov[i] > 0;
	/* The six provinces of the real data, plus the long-DPD ones. */
	assert_true(nprov >= 7);
	TAILQ_FOREACH(ph, &f->sc->phones, entry) {
		assert_true(strncmp(ph->msisdn, "+628", 4) == 0);
		card += ph->mode == SC_MODE_CARD;
	}
	assert_true(card > 0 && card < f->sc->nphones);
	scenario_summary(stderr, f->sc);
}

/* The receipt of the accepted message with this phone and SEQ. */
static const struct sc_msg *
accepted(const struct sc_msg *m)
{
	const struct sc_msg	*o;

	TAILQ_FOREACH(o, &m->phone->msgs, pentry)
		if (o->seq == m->seq && o->expect.forward)
			return (o);
	return (NULL);
}

static void
test_verdicts(void **state)
{
	struct fixture		*f = *state;
	const struct sc_msg	*m, *o;
	size_t			 kinds[SC_KIND_MAX] = { 0 }, flagged_typo = 0;
	size_t			 typo = 0;

	for (m = scenario_first(f->sc); m != NULL; m = scenario_next(m)) {
		const struct sc_expect *x = &m->expect;

		kinds[m->kind]++;
		assert_int_not_equal(x->reason, REASON_LOCKED);
		assert_int_equal(x->forward, x->verdict == VERDICT_OK ||
		    x->verdict == VERDICT_FLAGGED);
		switch (m->kind) {
		case SC_CLEAN:
		case SC_REFIX:
			assert_true(x->verdict == VERDICT_OK ||
			    x->verdict == VERDICT_FLAGGED);
			assert_int_equal(strlen(x->receipt), 8);
			break;
		case SC_TYPO_DIGIT:
		case SC_TYPO_SWAP:
			assert_true(x->verdict == VERDICT_OK ||
			    x->verdict == VERDICT_FLAGGED);
			typo++;
			flagged_typo += x->verdict == VERDICT_FLAGGED;
			break;
		case SC_CODE_WRONG:
			assert_int_equal(x->verdict, VERDICT_REJECTED);
			assert_int_equal(x->reason, REASON_CODE_BAD);
			assert_string_equal(x->receipt, "");
			break;
		case SC_CODE_MISSING:
			assert_int_equal(x->verdict, VERDICT_REJECTED);
			/* A one-value page without its code is too short. */
			assert_true(x->reason == REASON_CODE_FORMAT ||
			    (x->reason == REASON_COUNT && m->page > 0));
			break;
		case SC_VALUE_MISSING:
			assert_int_equal(x->verdict, VERDICT_REJECTED);
			assert_int_equal(x->reason, REASON_COUNT);
			break;
		case SC_RESEND:
			assert_int_equal(x->verdict, VERDICT_DUPLICATE);
			o = accepted(m);
			assert_non_null(o);
			assert_true(o->t < m->t);
			assert_string_equal(o->expect.receipt, x->receipt);
			assert_string_equal(o->text, m->text);
			break;
		case SC_CORRECTION:
			assert_true(x->verdict == VERDICT_OK ||
			    x->verdict == VERDICT_FLAGGED);
			assert_true(x->supersedes > 0);
			assert_true(x->supersedes < m->seq);
			break;
		case SC_SEQ_REUSE:
			assert_int_equal(x->verdict, VERDICT_REJECTED);
			assert_int_equal(x->reason, REASON_SEQ_USED);
			o = accepted(m);
			assert_non_null(o);
			assert_string_equal(o->expect.receipt, x->quoted);
			break;
		default:
			fail_msg("unknown kind %d", m->kind);
		}
		if (m->kind == SC_REFIX) {
			/* The rejected attempt had the same SEQ, earlier. */
			TAILQ_FOREACH(o, &m->phone->msgs, pentry)
				if (o->seq == m->seq && o->expect.verdict ==
				    VERDICT_REJECTED && o->t < m->t)
					break;
			assert_non_null(o);
		}
	}
	for (size_t k = 0; k < SC_KIND_MAX; k++)
		if (kinds[k] == 0)
			fail_msg("no message of kind %s",
			    scenario_kind_name((enum sc_kind)k));
	/* A typo in a consistent report breaks a sum: mostly FLAGGED. */
	assert_true(flagged_typo * 10 >= typo * 7);
	assert_int_equal(scenario_count(f->sc, -1, -1), f->sc->nmsgs);
	assert_int_equal(scenario_count(f->sc, SC_CODE_WRONG,
	    VERDICT_REJECTED), kinds[SC_CODE_WRONG]);
}

static void
test_seq_unique(void **state)
{
	struct fixture		*f = *state;
	const struct sc_phone	*ph;
	const struct sc_msg	*m, *o;

	TAILQ_FOREACH(ph, &f->sc->phones, entry) {
		TAILQ_FOREACH(m, &ph->msgs, pentry) {
			assert_true(m->seq >= 1 && m->seq <= 9999);
			TAILQ_FOREACH(o, &ph->msgs, pentry) {
				if (o == m || o->seq != m->seq)
					continue;
				/* One SEQ, one contest and page. */
				if (m->kind != SC_SEQ_REUSE &&
				    o->kind != SC_SEQ_REUSE) {
					assert_int_equal(o->contest,
					    m->contest);
					assert_int_equal(o->page, m->page);
				}
				/* One SEQ, one accepted content. */
				if (o->expect.forward && m->expect.forward)
					fail_msg("%s seq %u accepted twice",
					    ph->msisdn, m->seq);
			}
		}
	}
}

static void
test_long(void **state)
{
	struct fixture		*f = *state;
	const struct sc_msg	*m;
	size_t			 nlong = 0, ok = 0;

	for (m = scenario_first(f->sc); m != NULL; m = scenario_next(m)) {
		if (m->ussd != NULL)	/* no SMS parts: test_ussd */
			continue;
		if (m->parts > 1) {
			assert_true(strlen(m->text) > 160);
			assert_int_equal(m->contest, CONTEST_DPD);
			nlong++;
			ok += m->expect.forward;
		} else
			assert_true(strlen(m->text) <= 160);
	}
	assert_true(nlong > 0);
	assert_true(ok > 0);
}

/*
 * The USSD menu as docs/ussd.md describes it, written again here (not
 * gateway/menu.c): the steps in their order, the inputs each takes, 0
 * back and 00 to the start (# and ## where 0 is an answer).
 */
enum tm_step { TM_CONTEST, TM_TPS, TM_PAGE, TM_VALUES, TM_SEQ, TM_CODE,
    TM_REVIEW };

struct tmenu {
	enum tm_step	 step;
	int		 contest, page;
	char		 tps[16], seq[8], code[16];
	char		 values[TALLY_MAXVALUES][8];
	size_t		 nv, nform;
};

static int
tm_digits(const char *s, size_t min, size_t max)
{
	size_t	 n = strspn(s, "0123456789");

	return (s[n] == '\0' && n >= min && n <= max);
}

/* One input; 0 if the menu refuses it (the screen comes again). */
static int
tm_input(struct tmenu *t, const char *in)
{
	int	 zero = t->step == TM_PAGE || t->step == TM_VALUES;
	char	 buf[700], *p, *tok;
	size_t	 n;

	if (strcmp(in, zero ? "##" : "00") == 0) {
		t->step = TM_CONTEST;
		t->nv = 0;
		return (1);
	}
	if (strcmp(in, zero ? "#" : "0") == 0) {
		switch (t->step) {
		case TM_CONTEST:
			break;
		case TM_VALUES:
			if (t->nv > 0)
				t->nv--;
			else
				t->step = t->page >= 0 ? TM_PAGE : TM_TPS;
			break;
		case TM_SEQ:
			t->nv--;
			t->step = TM_VALUES;
			break;
		default:
			t->step--;
		}
		return (1);
	}
	switch (t->step) {
	case TM_CONTEST:
		if (!tm_digits(in, 1, 1) || in[0] < '1' || in[0] > '5')
			return (0);
		t->contest = in[0] - '0';
		t->page = -1;
		t->step = TM_TPS;
		return (1);
	case TM_TPS:
		if (!tm_digits(in, 13, 13))
			return (0);
		snprintf(t->tps, sizeof(t->tps), "%s", in);
		t->step = decode_contest_paged((enum contest)t->contest) ?
		    TM_PAGE : TM_VALUES;
		return (1);
	case TM_PAGE:
		if (!tm_digits(in, 1, 2))
			return (0);
		t->page = atoi(in);
		t->step = TM_VALUES;
		return (1);
	case TM_VALUES:
		snprintf(buf, sizeof(buf), "%s", in);
		for (n = 0, p = buf; (tok = strsep(&p, "*")) != NULL; n++)
			if (!tm_digits(tok, 1, 3) || t->nv + n >= t->nform)
				return (0);
		snprintf(buf, sizeof(buf), "%s", in);
		for (p = buf; (tok = strsep(&p, "*")) != NULL; )
			snprintf(t->values[t->nv++], sizeof(t->values[0]), "%d",
			    atoi(tok));
		if (t->nv == t->nform)
			t->step = TM_SEQ;
		return (1);
	case TM_SEQ:
		if (!tm_digits(in, 1, 4) || atoi(in) == 0)
			return (0);
		snprintf(t->seq, sizeof(t->seq), "%d", atoi(in));
		t->step = TM_CODE;
		return (1);
	case TM_CODE:
		if (!tm_digits(in, 8, 8))
			return (0);
		snprintf(t->code, sizeof(t->code), "%s", in);
		t->step = TM_REVIEW;
		return (1);
	case TM_REVIEW:
		return (strcmp(in, "1") == 0);
	}
	return (0);
}

/* The session's inputs through the model; the wrong key refused. */
static void
tm_session(struct tmenu *t, const struct sc_session *ss, size_t from)
{
	size_t	 i;

	for (i = from; i < ss->ninputs; i++) {
		if (tm_input(t, ss->inputs[i]) != ((int)i != ss->wrong))
			fail_msg("input %zu \"%s\": %s", i, ss->inputs[i],
			    (int)i == ss->wrong ? "wrong key taken" :
			    "refused");
	}
}

/*
 * The USSD officers' reports: one or two sessions, the last sends; a
 * cut session stops once the TPS is in (the gateway keeps the report);
 * a redial after a drop or a timeout begins with 9 and goes on from
 * the cut, after an abandon begins afresh; every session's inputs,
 * through the documented menu, give the report the scenario verified.
 */
static void
test_ussd(void **state)
{
	struct fixture		*f = *state;
	const struct sc_msg	*m;
	const struct sc_phone	*ph;
	const struct sc_ussd	*u;
	size_t			 phones = 0, n = 0, end[SC_END_MAX] = { 0 };
	size_t			 slip[SC_SLIP_MAX] = { 0 }, retry = 0, k;
	char			 text[2048];

	TAILQ_FOREACH(ph, &f->sc->phones, entry) {
		phones += ph->ussd != 0;
		TAILQ_FOREACH(m, &ph->msgs, pentry)
			assert_int_equal(m->ussd != NULL, ph->ussd != 0);
	}
	/* 35% of 60 phones; both channels on the same night. */
	assert_true(phones >= 10 && phones <= 35);
	for (m = scenario_first(f->sc); m != NULL; m = scenario_next(m)) {
		struct tmenu	 t;

		if ((u = m->ussd) == NULL)
			continue;
		n++;
		slip[u->slip]++;
		assert_true(u->nsessions >= 1 && u->nsessions <= 2);
		assert_true(u->sent > m->t);
		assert_true(m->kind != SC_CODE_MISSING &&
		    m->kind != SC_VALUE_MISSING);
		for (k = 0; k < u->nsessions; k++) {
			end[u->sessions[k].end]++;
			retry += u->sessions[k].retry != 0;
			assert_int_equal(u->sessions[k].end == SC_END_SUBMIT,
			    k + 1 == u->nsessions);
		}
		memset(&t, 0, sizeof(t));
		t.nform = m->expect.nvalues;
		assert_true(t.nform > 0);
		tm_session(&t, &u->sessions[0], 0);
		if (u->nsessions == 2) {
			const struct sc_session *cut = &u->sessions[0];
			const struct sc_session *ss = &u->sessions[1];

			/* Cut once the TPS is in: kept to resume. */
			assert_true(t.step > TM_TPS);
			assert_int_equal(ss->resume,
			    cut->end != SC_END_ABANDON);
			assert_true(ss->gap >= (cut->end == SC_END_ABANDON ?
			    600 : cut->end == SC_END_TIMEOUT ?
			    SC_USSD_WAIT_SEC : 20));
			if (ss->resume) {
				assert_string_equal(ss->inputs[0], "9");
				tm_session(&t, ss, 1);
			} else {
				assert_true(ss->ninputs >= cut->ninputs);
				memset(&t, 0, sizeof(t));
				t.nform = m->expect.nvalues;
				tm_session(&t, ss, 0);
			}
		}
		assert_int_equal(t.step, TM_REVIEW);
		snprintf(text, sizeof(text), "%d*%s*%s", t.contest, t.tps,
		    t.seq);
		if (t.page >= 0)
			snprintf(text + strlen(text), sizeof(text) -
			    strlen(text), "*%d", t.page);
		for (k = 0; k < t.nv; k++)
			snprintf(text + strlen(text), sizeof(text) -
			    strlen(text), "*%s", t.values[k]);
		snprintf(text + strlen(text), sizeof(text) - strlen(text),
		    "*%s", t.code);
		assert_string_equal(text, m->text);
		assert_string_equal(t.code, m->code);
	}
	/* Every slip and every cut happens on a busy night. */
	for (k = SC_SLIP_KEY; k < SC_SLIP_MAX; k++)
		if (slip[k] == 0)
			fail_msg("no USSD slip %s", scenario_slip_name(
			    (enum sc_slip)k));
	for (k = 0; k < SC_END_MAX; k++)
		if (end[k] == 0)
			fail_msg("no USSD session that ends %s",
			    scenario_end_name((enum sc_end)k));
	assert_true(retry > 0);
	assert_int_equal(end[SC_END_SUBMIT], n);
}

static void
test_finals(void **state)
{
	struct fixture		*f = *state;
	const struct sc_final	*fi;
	const struct sc_msg	*m;
	size_t			 n = 0;

	TAILQ_FOREACH(fi, &f->sc->finals, entry) {
		n++;
		assert_non_null(fi->msg);
		assert_string_equal(fi->receipt, fi->msg->expect.receipt);
		for (m = scenario_first(f->sc); m != NULL;
		    m = scenario_next(m))
			if (m->tps == fi->tps && m->contest == fi->contest &&
			    m->page == fi->page && m->expect.forward)
				assert_true(m->seq <= fi->seq);
	}
	assert_int_equal(n, f->sc->nfinals);
	assert_true(n >= NTPS * 5);
}

/* The END screen a correct gateway shows for a report (reply.c's words). */
static void
end_screen(const struct sc_msg *m, char *buf, size_t len)
{
	const struct sc_expect	*x = &m->expect;

	switch (x->verdict) {
	case VERDICT_REJECTED:
		if (x->reason == REASON_SEQ_USED)
			snprintf(buf, len, "DITOLAK %s #%u: SEQ sudah dipakai "
			    "(tanda terima %s). Pakai SEQ berikutnya.",
			    decode_contest_name(m->contest), m->seq, x->quoted);
		else
			snprintf(buf, len, "DITOLAK %s #%u: kode salah. Pakai "
			    "kode kartu baris %u.", decode_contest_name(
			    m->contest), m->seq, m->seq);
		break;
	case VERDICT_DUPLICATE:
		snprintf(buf, len, "SUDAH DITERIMA %s %013llu #%u: Tanda "
		    "terima tetap %s.", decode_contest_name(m->contest),
		    (unsigned long long)m->tps, m->seq, x->receipt);
		break;
	default:
		snprintf(buf, len, "DITERIMA %s %013llu #%u: 1 2 3. Tanda "
		    "terima %s.%s", decode_contest_name(m->contest),
		    (unsigned long long)m->tps, m->seq, x->receipt,
		    x->verdict == VERDICT_FLAGGED ? " PERIKSA: jumlah." : "");
		break;
	}
}

/*
 * The screens a correct gateway shows each USSD session: the menu, the
 * kept report offered to a redial, a wrong key refused, and for the
 * session that sends, review and the END screen (again, the same, for
 * a retried last step). A cut session just stops.
 */
static void
perfect_ussd(const struct scenario *sc, struct oracle_input *in)
{
	const struct sc_msg	*m;
	char			 text[512];
	size_t			 k, i;

	for (m = scenario_first(sc); m != NULL; m = scenario_next(m)) {
		if (m->ussd == NULL)
			continue;
		for (k = 0; k < m->ussd->nsessions; k++) {
			const struct sc_session *ss = &m->ussd->sessions[k];
			const char *ph = m->phone->msisdn;

			snprintf(text, sizeof(text), "Lapor hasil TPS. Pilih "
			    "jenis:\n1 PPWP\n2 DPR%s%013llu", ss->resume ?
			    "\n9 Lanjut DPR TPS " : "", ss->resume ?
			    (unsigned long long)m->tps : 0ULL);
			if (!ss->resume)
				text[strlen(text) - 13] = '\0';
			assert_int_equal(oracle_add_screen(in, m->id, k, ph,
			    -1, 0, "CON", text), 0);
			for (i = 0; i < ss->ninputs; i++)
				assert_int_equal(oracle_add_screen(in, m->id,
				    k, ph, (int)i, 0, "CON", (int)i ==
				    ss->wrong ? "Salah: pilih 1 sampai 5.\n"
				    "Ketik lagi" : "Ketik berikutnya"), 0);
			if (ss->end != SC_END_SUBMIT) {
				assert_int_equal(oracle_end_session(in, m->id,
				    k, ph, ss->end == SC_END_TIMEOUT ?
				    "timeout" : "dropped", NULL), 0);
				continue;
			}
			end_screen(m, text, sizeof(text));
			assert_int_equal(oracle_add_screen(in, m->id, k, ph,
			    (int)ss->ninputs, 0, "END", text), 0);
			if (ss->retry)
				assert_int_equal(oracle_add_screen(in, m->id,
				    k, ph, (int)ss->ninputs, 1, "END", text),
				    0);
			assert_int_equal(oracle_end_session(in, m->id, k, ph,
			    "END", NULL), 0);
		}
	}
}

/* What a correct gateway does: one reply per message, forward once. */
static struct oracle_input *
perfect(const struct scenario *sc, int merge)
{
	struct oracle_input	*in = oracle_input_new();
	const struct sc_msg	*m;
	struct oracle_record	 rec;
	char			 text[512], held[512] = "";
	const char		*heldphone = NULL;

	assert_non_null(in);
	for (m = scenario_first(sc); m != NULL; m = scenario_next(m)) {
		const struct sc_expect *x = &m->expect;

		if (x->verdict == VERDICT_REJECTED) {
			/* Echo the code typed, quote the used SEQ's receipt. */
			snprintf(text, sizeof(text), "Ditolak: %s%s%s. Kirim "
			    "ulang no %u.", scenario_reason_name(x->reason),
			    m->code[0] ? " kode " : "", m->code, m->seq);
			if (x->quoted[0])
				snprintf(text, sizeof(text), "Ditolak: no %u "
				    "sudah dipakai (bukti %s). Pakai no baru.",
				    m->seq, x->quoted);
		} else
			snprintf(text, sizeof(text), "Diterima %s TPS %013llu "
			    "no %u. Bukti %s", decode_contest_name(m->contest),
			    (unsigned long long)m->tps, m->seq, x->receipt);
		if (merge && x->receipt[0] && m->page > 0 &&
		    heldphone == NULL) {
			/* Keep it, to merge with this phone's next one. */
			snprintf(held, sizeof(held), "%s", text);
			heldphone = m->phone->msisdn;
		} else if (merge && heldphone != NULL && x->receipt[0] &&
		    strcmp(heldphone, m->phone->msisdn) == 0) {
			char both[1100];

			snprintf(both, sizeof(both), "%s; %s", held, text);
			assert_int_equal(oracle_add_reply(in, heldphone,
			    "+6281100000001", both, "2024-02-14T10:00:00Z"), 0);
			heldphone = NULL;
		} else
			assert_int_equal(oracle_add_reply(in, m->phone->msisdn,
			    "+6281100000001", text, "2024-02-14T10:00:00Z"), 0);
		if (!x->forward)
			continue;
		memset(&rec, 0, sizeof(rec));
		rec.tps = m->tps;
		rec.contest = m->contest;
		rec.page = m->page;
		rec.seq = m->seq;
		rec.nvalues = x->nvalues;
		memcpy(rec.values, x->values, x->nvalues * sizeof(*x->values));
		rec.flags = x->flags;
		memcpy(rec.receipt, x->receipt, sizeof(rec.receipt));
		snprintf(rec.idempotency_key, sizeof(rec.idempotency_key),
		    "%013llu-%u-%s", (unsigned long long)m->tps, m->seq,
		    x->receipt);
		assert_int_equal(oracle_add_record(in, &rec), 0);
	}
	if (heldphone != NULL)
		assert_int_equal(oracle_add_reply(in, heldphone,
		    "+6281100000001", held, "2024-02-14T10:00:00Z"), 0);
	perfect_ussd(sc, in);
	return (in);
}

/* Judge; return how many discrepancies of this kind were found. */
static size_t
judge(const struct scenario *sc, struct oracle_input *in,
    enum oracle_check what, size_t *total)
{
	struct oracle_report	 rep;
	size_t			 n;

	assert_int_equal(oracle_judge(sc, in, &rep), 0);
	n = rep.count[what];
	*total = rep.ndisc;
	if (what < ORACLE_CHECK_MAX && n > 0)
		oracle_print(stderr, &rep, 0);
	oracle_report_free(&rep);
	return (n);
}

static void
test_oracle_perfect(void **state)
{
	struct fixture		*f = *state;
	struct oracle_input	*in;
	struct oracle_report	 rep;
	char			*buf = NULL;
	size_t			 len = 0;
	FILE			*fp;

	in = perfect(f->sc, 0);
	assert_int_equal(oracle_judge(f->sc, in, &rep), 0);
	if (rep.ndisc != 0)
		oracle_print(stderr, &rep, 0);
	assert_int_equal(rep.ndisc, 0);
	assert_int_equal(rep.sent, f->sc->nmsgs);
	assert_int_equal(rep.forwarded, rep.expect[VERDICT_OK] +
	    rep.expect[VERDICT_FLAGGED]);
	assert_int_equal(rep.confirmed, rep.expect[VERDICT_OK] +
	    rep.expect[VERDICT_FLAGGED] + rep.expect[VERDICT_DUPLICATE]);
	assert_int_equal(rep.answered, rep.expect[VERDICT_REJECTED]);
	/* Both channels, every USSD session judged. */
	assert_true(rep.bysms > 0 && rep.byussd > 0);
	assert_int_equal(rep.bysms + rep.byussd, rep.sent);
	assert_int_equal(rep.phones_sms + rep.phones_ussd, f->sc->nphones);
	assert_int_equal(rep.screens, rep.byussd);
	assert_int_equal(rep.screens_right, rep.byussd);
	assert_int_equal(rep.played, rep.sessions);
	assert_true(rep.sessions > rep.byussd);
	assert_true(rep.cut > 0);
	assert_int_equal(rep.cut_right, rep.cut);
	assert_true(rep.resumed > 0);
	assert_int_equal(rep.resumed_right, rep.resumed);
	oracle_print(stderr, &rep, 0);
	fp = open_memstream(&buf, &len);
	oracle_print(fp, &rep, 1);
	fclose(fp);
	assert_non_null(strstr(buf, "\"discrepancies\":0"));
	assert_non_null(strstr(buf, "\"cut_right\":"));
	free(buf);
	oracle_report_free(&rep);
	oracle_input_free(in);

	/* Merged confirmations count once per receipt they carry. */
	in = perfect(f->sc, 1);
	assert_int_equal(oracle_judge(f->sc, in, &rep), 0);
	assert_int_equal(rep.ndisc, 0);
	assert_true(in->nreplies < f->sc->nmsgs);
	oracle_report_free(&rep);
	oracle_input_free(in);
}

/* The perfect run through the JSON-lines loaders. */
static void
test_oracle_loaders(void **state)
{
	struct fixture		*f = *state;
	struct oracle_input	*in = perfect(f->sc, 0), *back;
	struct oracle_reply	*r;
	struct oracle_record	*c;
	struct oracle_report	 rep;
	struct oracle_session	*u;
	char			*ib = NULL, *cb = NULL, *ub = NULL, err[256];
	char			 tps[16];
	size_t			 il = 0, cl = 0, ul = 0, i;
	FILE			*ifp = open_memstream(&ib, &il);
	FILE			*cfp = open_memstream(&cb, &cl);
	FILE			*ufp = open_memstream(&ub, &ul);
	static const char *fl[] = { "SUM", "TOTAL", "DPT", "PARTY", "SENDER",
	    "STALE" };

	TAILQ_FOREACH(r, &in->replies, entry) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "to", r->phone,
		    "from", r->from, "text", r->text, "time", r->time);

		json_dumpf(o, ifp, JSON_COMPACT);
		fputc('\n', ifp);
		json_decref(o);
	}
	TAILQ_FOREACH(c, &in->records, entry) {
		json_t *v = json_array(), *fa = json_array(), *o;

		for (i = 0; i < c->nvalues; i++)
			json_array_append_new(v, json_integer(c->values[i]));
		for (i = 0; i < 6; i++)
			if (c->flags & (1u << i))
				json_array_append_new(fa, json_string(fl[i]));
		snprintf(tps, sizeof(tps), "%013llu",
		    (unsigned long long)c->tps);
		o = json_pack("{s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:s, s:s, "
		    "s:b}",
		    "idempotency_key", c->idempotency_key, "tps", tps,
		    "contest", decode_contest_name(c->contest), "page",
		    c->page >= 0 ? json_integer(c->page) : json_null(),
		    "seq", (int)c->seq, "values", v, "flags", fa,
		    "receipt", c->receipt, "verdict", "OK", "signature_ok", 1);
		json_dumpf(o, cfp, JSON_COMPACT);
		fputc('\n', cfp);
		json_decref(o);
	}
	/* The lines of RUNDIR/ussd.jsonl, as dial.c writes them. */
	TAILQ_FOREACH(u, &in->sessions, entry) {
		for (i = 0; i < u->nscreens; i++) {
			const struct oracle_screen *sc = &u->screens[i];

			fprintf(ufp, "{\"msg\":%zu,\"k\":%zu,\"session\":"
			    "\"s\",\"phone\":\"%s\",\"n\":%zu,\"i\":%d%s,"
			    "\"type\":\"%s\",\"text\":", u->msg, u->k,
			    u->phone, i + 1, sc->i, sc->retry ?
			    ",\"retry\":true" : "", sc->end ? "END" : "CON");
			json_t *t = json_string(sc->text);

			json_dumpf(t, ufp, JSON_ENCODE_ANY);
			json_decref(t);
			fputs("}\n", ufp);
		}
		fprintf(ufp, "{\"msg\":%zu,\"k\":%zu,\"session\":\"s\","
		    "\"phone\":\"%s\",\"end\":\"%s\",\"screens\":%zu}\n",
		    u->msg, u->k, u->phone, u->end, u->nscreens);
	}
	fclose(ifp);
	fclose(cfp);
	fclose(ufp);
	back = oracle_input_new();
	ifp = fmemopen(ib, il, "r");
	cfp = fmemopen(cb, cl, "r");
	ufp = fmemopen(ub, ul, "r");
	assert_int_equal(oracle_load_inbox_jsonl(back, ifp, err, sizeof(err)),
	    0);
	assert_int_equal(oracle_load_central_jsonl(back, cfp, err,
	    sizeof(err)), 0);
	assert_int_equal(oracle_load_ussd_jsonl(back, ufp, err, sizeof(err)),
	    0);
	fclose(ifp);
	fclose(cfp);
	fclose(ufp);
	assert_int_equal(back->nreplies, in->nreplies);
	assert_int_equal(back->nrecords, in->nrecords);
	assert_int_equal(back->nsessions, in->nsessions);
	assert_int_equal(oracle_judge(f->sc, back, &rep), 0);
	assert_int_equal(rep.ndisc, 0);
	oracle_report_free(&rep);
	oracle_input_free(back);
	/* A broken line is named. */
	back = oracle_input_new();
	ifp = fmemopen((char *)(uintptr_t)"{\"to\":\"+62\",\"text\":\"x\"}\n"
	    "{oops\n", 31, "r");
	assert_int_equal(oracle_load_inbox_jsonl(back, ifp, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 2"));
	fclose(ifp);
	oracle_input_free(back);
	/* A USSD line without its message. */
	back = oracle_input_new();
	ufp = fmemopen((char *)(uintptr_t)"{\"k\":0,\"i\":1}\n", 16, "r");
	assert_int_equal(oracle_load_ussd_jsonl(back, ufp, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "line 1"));
	fclose(ufp);
	oracle_input_free(back);
	oracle_input_free(in);
	free(ib);
	free(cb);
	free(ub);
}

/* The first message matching a predicate. */
static const struct sc_msg *
find(const struct scenario *sc, int kind, int verdict, int corrected)
{
	const struct sc_msg	*m;

	for (m = scenario_first(sc); m != NULL; m = scenario_next(m))
		if ((kind < 0 || (int)m->kind == kind) &&
		    (verdict < 0 || (int)m->expect.verdict == verdict) &&
		    (!corrected || m->expect.supersedes > 0))
			return (m);
	fail_msg("no message of kind %d verdict %d", kind, verdict);
	return (NULL);
}

static struct oracle_record *
record_of(struct oracle_input *in, const struct sc_msg *m)
{
	struct oracle_record	*c;

	TAILQ_FOREACH(c, &in->records, entry)
		if (c->tps == m->tps && c->seq == m->seq)
			return (c);
	fail_msg("no record");
	return (NULL);
}

/* The reply of a message in a perfect input: the one with its text. */
static struct oracle_reply *
reply_of(struct oracle_input *in, const struct sc_msg *m, const char *needle)
{
	struct oracle_reply	*r;

	TAILQ_FOREACH(r, &in->replies, entry)
		if (strcmp(r->phone, m->phone->msisdn) == 0 &&
		    strstr(r->text, needle) != NULL)
			return (r);
	fail_msg("no reply with %s", needle);
	return (NULL);
}

/* The discrepancy list names the message. */
static void
named(const struct scenario *sc, struct oracle_input *in,
    enum oracle_check what, const struct sc_msg *m)
{
	struct oracle_report	 rep;
	struct oracle_disc	*d;
	int			 found = 0;

	assert_int_equal(oracle_judge(sc, in, &rep), 0);
	TAILQ_FOREACH(d, &rep.discs, entry)
		if (d->what == what && (m == NULL || d->msg == m ||
		    (d->tps == m->tps && strcmp(d->phone,
		    m->phone->msisdn) == 0)))
			found = 1;
	if (!found) {
		oracle_print(stderr, &rep, 0);
		fail_msg("%s not found", oracle_check_name(what));
	}
	oracle_print(stderr, &rep, 0);
	oracle_report_free(&rep);
}

static void
test_oracle_broken(void **state)
{
	struct fixture		*f = *state;
	const struct scenario	*sc = f->sc;
	struct oracle_input	*in;
	struct oracle_record	*c, copy;
	struct oracle_reply	*r;
	const struct sc_msg	*m, *dup, *rej, *corr;
	size_t			 total;

	m = find(sc, SC_CLEAN, VERDICT_OK, 0);
	dup = find(sc, SC_RESEND, VERDICT_DUPLICATE, 0);
	rej = find(sc, SC_CODE_WRONG, VERDICT_REJECTED, 0);
	corr = find(sc, SC_CORRECTION, -1, 1);

	/* Drop a forward. */
	in = perfect(sc, 0);
	c = record_of(in, m);
	TAILQ_REMOVE(&in->records, c, entry);
	free(c);
	in->nrecords--;
	named(sc, in, ORACLE_FORWARD_MISSING, m);
	oracle_input_free(in);

	/* A duplicate forwarded as a second record. */
	in = perfect(sc, 0);
	copy = *record_of(in, dup);
	assert_int_equal(oracle_add_record(in, &copy), 0);
	named(sc, in, ORACLE_FORWARD_TWICE, accepted(dup));
	oracle_input_free(in);

	/* A rejected report forwarded. */
	in = perfect(sc, 0);
	memset(&copy, 0, sizeof(copy));
	copy.tps = rej->tps;
	copy.contest = rej->contest;
	copy.page = rej->page;
	copy.seq = rej->seq + 5000;
	assert_int_equal(oracle_add_record(in, &copy), 0);
	assert_int_equal(judge(sc, in, ORACLE_FORWARD_UNEXPECTED, &total), 1);
	oracle_input_free(in);

	/* Wrong values, wrong flags, wrong receipt at central. */
	in = perfect(sc, 0);
	record_of(in, m)->values[1]++;
	named(sc, in, ORACLE_FORWARD_VALUES, m);
	oracle_input_free(in);
	in = perfect(sc, 0);
	record_of(in, m)->flags ^= FLAG_SUM;
	named(sc, in, ORACLE_FORWARD_FLAGS, m);
	in->ignore_flags = FLAG_SUM;
	assert_int_equal(judge(sc, in, ORACLE_FORWARD_FLAGS, &total), 0);
	assert_int_equal(total, 0);
	oracle_input_free(in);
	in = perfect(sc, 0);
	record_of(in, m)->receipt[0] ^= 1;
	named(sc, in, ORACLE_FORWARD_RECEIPT, m);
	oracle_input_free(in);

	/* The latest of a corrected page lost: central shows the old one. */
	in = perfect(sc, 0);
	c = record_of(in, corr);
	TAILQ_REMOVE(&in->records, c, entry);
	free(c);
	in->nrecords--;
	named(sc, in, ORACLE_FORWARD_MISSING, corr);
	oracle_input_free(in);

	/* Wrong receipt in a reply. */
	in = perfect(sc, 0);
	r = reply_of(in, m, m->expect.receipt);
	{
		char *p = strstr(r->text, m->expect.receipt);

		p[7] = p[7] == '9' ? '0' : (char)(p[7] + 1);
	}
	named(sc, in, ORACLE_RECEIPT_WRONG, m);
	oracle_input_free(in);

	/* A confirmation missing; the DUPLICATE's second one missing. */
	in = perfect(sc, 0);
	r = reply_of(in, m, m->expect.receipt);
	TAILQ_REMOVE(&in->replies, r, entry);
	free(r->text);
	free(r);
	in->nreplies--;
	named(sc, in, ORACLE_CONFIRM_MISSING, m);
	oracle_input_free(in);
	in = perfect(sc, 0);
	r = reply_of(in, dup, dup->expect.receipt);
	TAILQ_REMOVE(&in->replies, r, entry);
	free(r->text);
	free(r);
	in->nreplies--;
	named(sc, in, ORACLE_CONFIRM_MISSING, dup);
	oracle_input_free(in);

	/* A rejection unanswered. */
	in = perfect(sc, 0);
	r = reply_of(in, rej, "Ditolak");
	TAILQ_REMOVE(&in->replies, r, entry);
	free(r->text);
	free(r);
	in->nreplies--;
	named(sc, in, ORACLE_REJECT_UNANSWERED, rej);
	oracle_input_free(in);

	/* Extra replies: a second confirmation, a stray rejection. */
	in = perfect(sc, 0);
	r = reply_of(in, m, m->expect.receipt);
	assert_int_equal(oracle_add_reply(in, r->phone, r->from, r->text,
	    r->time), 0);
	named(sc, in, ORACLE_CONFIRM_EXTRA, m);
	oracle_input_free(in);
	in = perfect(sc, 0);
	assert_int_equal(oracle_add_reply(in, m->phone->msisdn, "+62811",
	    "Format salah. Ketik BANTU.", "2024-02-14T10:00:00Z"), 0);
	named(sc, in, ORACLE_REPLY_EXTRA, NULL);
	oracle_input_free(in);

	/* A reply to a number that never sent anything. */
	in = perfect(sc, 0);
	assert_int_equal(oracle_add_reply(in, "+6289900000000", "+62811",
	    "Diterima", "2024-02-14T10:00:00Z"), 0);
	assert_int_equal(judge(sc, in, ORACLE_REPLY_UNEXPECTED, &total), 1);
	assert_int_equal(total, 1);
	oracle_input_free(in);
}

/* The first USSD report whose session k ends so, and (if > -1) verdict. */
static const struct sc_msg *
ussd_find(const struct scenario *sc, int end, int verdict, int retry)
{
	const struct sc_msg	*m;
	size_t			 k;

	for (m = scenario_first(sc); m != NULL; m = scenario_next(m)) {
		if (m->ussd == NULL || (verdict >= 0 &&
		    (int)m->expect.verdict != verdict))
			continue;
		for (k = 0; k < m->ussd->nsessions; k++)
			if ((int)m->ussd->sessions[k].end == end &&
			    (!retry || m->ussd->sessions[k].retry))
				return (m);
	}
	fail_msg("no USSD report with a session ending %d", end);
	return (NULL);
}

static struct oracle_session *
session_of(struct oracle_input *in, const struct sc_msg *m, size_t k)
{
	struct oracle_session	*u;

	TAILQ_FOREACH(u, &in->sessions, entry)
		if (u->msg == m->id && u->k == k)
			return (u);
	fail_msg("no session %zu of msg %zu", k, m->id);
	return (NULL);
}

/* Screen i of a session (from the end if negative) says text now. */
static void
screen_says(struct oracle_input *in, const struct sc_msg *m, size_t k,
    int i, const char *text)
{
	struct oracle_session	*u = session_of(in, m, k);
	struct oracle_screen	*sc;

	sc = &u->screens[i >= 0 ? (size_t)i : u->nscreens - (size_t)-i];
	free(sc->text);
	sc->text = strdup(text);
	assert_non_null(sc->text);
}

/* The END screen of the report, with one word changed. */
static void
end_says(struct oracle_input *in, const struct sc_msg *m, const char *from,
    const char *to)
{
	char	 text[512], out[600], *p;

	end_screen(m, text, sizeof(text));
	assert_non_null(p = strstr(text, from));
	snprintf(out, sizeof(out), "%.*s%s%s", (int)(p - text), text, to,
	    p + strlen(from));
	screen_says(in, m, m->ussd->nsessions - 1, m->ussd->sessions[
	    m->ussd->nsessions - 1].retry ? -2 : -1, out);
}

/*
 * The oracle fails a USSD run that is wrong in any of these ways, and
 * names the report: a wrong verdict, reason or receipt on the END
 * screen; a report stored twice (its sessions and the redial); a cut
 * session that got a verdict; a redial not offered its kept report; a
 * wrong key taken; a session not played, or failed; a retried last
 * step answered otherwise; a record the receiver could not verify.
 */
static void
test_oracle_ussd_broken(void **state)
{
	struct fixture		*f = *state;
	const struct scenario	*sc = f->sc;
	struct oracle_input	*in;
	struct oracle_session	*u;
	struct oracle_record	 copy;
	struct oracle_reply	*r;
	const struct sc_msg	*ok, *flag, *rej, *res, *cut, *wk, *rt;
	size_t			 k, total;
	char			 text[512];

	ok = ussd_find(sc, SC_END_SUBMIT, VERDICT_OK, 0);
	flag = ussd_find(sc, SC_END_SUBMIT, VERDICT_FLAGGED, 0);
	rej = ussd_find(sc, SC_END_SUBMIT, VERDICT_REJECTED, 0);
	res = ussd_find(sc, SC_END_DROP, VERDICT_OK, 0);
	cut = ussd_find(sc, SC_END_ABANDON, -1, 0);
	rt = ussd_find(sc, SC_END_SUBMIT, -1, 1);
	for (wk = scenario_first(sc); wk != NULL; wk = scenario_next(wk))
		if (wk->ussd != NULL && wk->ussd->sessions[0].wrong >= 0)
			break;
	assert_non_null(wk);

	/* An OK report's END screen says DITOLAK; a FLAGGED one OK. */
	in = perfect(sc, 0);
	end_says(in, ok, "DITERIMA", "DITOLAK");
	named(sc, in, ORACLE_USSD_VERDICT, ok);
	oracle_input_free(in);
	in = perfect(sc, 0);
	end_says(in, flag, " PERIKSA: jumlah.", "");
	named(sc, in, ORACLE_USSD_VERDICT, flag);
	oracle_input_free(in);
	/* A rejection that does not say why. */
	in = perfect(sc, 0);
	end_screen(rej, text, sizeof(text));
	end_says(in, rej, strchr(text, ':'), ": coba lagi.");
	named(sc, in, ORACLE_USSD_VERDICT, rej);
	oracle_input_free(in);
	/* The END screen's receipt off by one digit. */
	in = perfect(sc, 0);
	end_screen(ok, text, sizeof(text));
	{
		char wrong[TALLY_CODE_LEN + 1];

		memcpy(wrong, ok->expect.receipt, sizeof(wrong));
		wrong[7] = wrong[7] == '9' ? '0' : (char)(wrong[7] + 1);
		end_says(in, ok, ok->expect.receipt, wrong);
	}
	named(sc, in, ORACLE_USSD_RECEIPT, ok);
	oracle_input_free(in);

	/* The resumed report stored twice: two SMS, two records. */
	in = perfect(sc, 0);
	r = reply_of(in, res, res->expect.receipt);
	assert_int_equal(oracle_add_reply(in, r->phone, r->from, r->text,
	    r->time), 0);
	copy = *record_of(in, res);
	assert_int_equal(oracle_add_record(in, &copy), 0);
	named(sc, in, ORACLE_CONFIRM_EXTRA, res);
	named(sc, in, ORACLE_FORWARD_TWICE, res);
	oracle_input_free(in);
	/* The abandoned session got a verdict: it stored something. */
	in = perfect(sc, 0);
	end_screen(cut, text, sizeof(text));
	assert_int_equal(oracle_add_screen(in, cut->id, 0,
	    cut->phone->msisdn, (int)cut->ussd->sessions[0].ninputs, 0, "END",
	    text), 0);
	named(sc, in, ORACLE_USSD_ENDED, cut);
	oracle_input_free(in);
	/* The redial not offered the kept report. */
	in = perfect(sc, 0);
	screen_says(in, res, 1, 0, "Lapor hasil TPS. Pilih jenis:\n1 PPWP");
	named(sc, in, ORACLE_USSD_RESUME, res);
	oracle_input_free(in);
	/* A wrong key taken as an answer. */
	in = perfect(sc, 0);
	screen_says(in, wk, 0, wk->ussd->sessions[0].wrong + 1,
	    "Ketik berikutnya");
	named(sc, in, ORACLE_USSD_WRONG_KEY, wk);
	oracle_input_free(in);
	/* A session never played; one that broke the network's rules. */
	in = perfect(sc, 0);
	u = session_of(in, res, 1);
	TAILQ_REMOVE(&in->sessions, u, entry);
	in->nsessions--;
	for (k = 0; k < u->nscreens; k++)
		free(u->screens[k].text);
	free(u->screens);
	free(u);
	named(sc, in, ORACLE_USSD_MISSING, res);
	oracle_input_free(in);
	in = perfect(sc, 0);
	assert_int_equal(oracle_end_session(in, ok->id, ok->ussd->nsessions -
	    1, ok->phone->msisdn, "error", "screen of 200 characters, over "
	    "182"), 0);
	named(sc, in, ORACLE_USSD_FAILED, ok);
	oracle_input_free(in);
	/* The retried last step got another screen. */
	in = perfect(sc, 0);
	screen_says(in, rt, rt->ussd->nsessions - 1, -1,
	    "END Sesi sudah selesai.");
	named(sc, in, ORACLE_USSD_RETRY, rt);
	oracle_input_free(in);
	/* A USSD officer's record the receiver could not verify. */
	in = perfect(sc, 0);
	record_of(in, ok)->unverified = 1;
	assert_int_equal(judge(sc, in, ORACLE_FORWARD_UNSIGNED, &total), 1);
	assert_int_equal(total, 1);
	oracle_input_free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_contests),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_seq_unique),
		cmocka_unit_test(test_long),
		cmocka_unit_test(test_finals),
		cmocka_unit_test(test_ussd),
		cmocka_unit_test(test_oracle_perfect),
		cmocka_unit_test(test_oracle_loaders),
		cmocka_unit_test(test_oracle_broken),
		cmocka_unit_test(test_oracle_ussd_broken),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
