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
	oracle_print(stderr, &rep, 0);
	fp = open_memstream(&buf, &len);
	oracle_print(fp, &rep, 1);
	fclose(fp);
	assert_non_null(strstr(buf, "\"discrepancies\":0"));
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
	char			*ib = NULL, *cb = NULL, err[256], tps[16];
	size_t			 il = 0, cl = 0, i;
	FILE			*ifp = open_memstream(&ib, &il);
	FILE			*cfp = open_memstream(&cb, &cl);
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
		o = json_pack("{s:s, s:s, s:s, s:o, s:i, s:o, s:o, s:s, s:s}",
		    "idempotency_key", c->idempotency_key, "tps", tps,
		    "contest", decode_contest_name(c->contest), "page",
		    c->page >= 0 ? json_integer(c->page) : json_null(),
		    "seq", (int)c->seq, "values", v, "flags", fa,
		    "receipt", c->receipt, "verdict", "OK");
		json_dumpf(o, cfp, JSON_COMPACT);
		fputc('\n', cfp);
		json_decref(o);
	}
	fclose(ifp);
	fclose(cfp);
	back = oracle_input_new();
	ifp = fmemopen(ib, il, "r");
	cfp = fmemopen(cb, cl, "r");
	assert_int_equal(oracle_load_inbox_jsonl(back, ifp, err, sizeof(err)),
	    0);
	assert_int_equal(oracle_load_central_jsonl(back, cfp, err,
	    sizeof(err)), 0);
	fclose(ifp);
	fclose(cfp);
	assert_int_equal(back->nreplies, in->nreplies);
	assert_int_equal(back->nrecords, in->nrecords);
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
	oracle_input_free(in);
	free(ib);
	free(cb);
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
		cmocka_unit_test(test_oracle_perfect),
		cmocka_unit_test(test_oracle_loaders),
		cmocka_unit_test(test_oracle_broken),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
