/*
 * truth: the expected outcome of a simulated officer's message, from
 * what the officer meant and the one mistake made, by the rules of
 * docs/protocol.md written down here on their own (never by asking the
 * gateway's verify stage, which is what the oracle judges). It keeps
 * what the protocol's decisions depend on: the accepted reports of each
 * TPS (SEQ rules, corrections, the PARTY check), the registry's facts
 * and the bad codes of each sender (lockout). See docs/scenario.md.
 */

#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "truth.h"

#define TRUTH_BUCKETS	4096
#define TRUTH_DPT_MAX	300	/* the legal maximum of voters per TPS */
#define TRUTH_FAILS	64	/* bad codes kept per sender (section 15) */

/* An accepted report (OK or FLAGGED), as the SEQ rules need it. */
struct truth_rep {
	unsigned	 seq;
	enum contest	 contest;
	int		 page;
	size_t		 n;
	uint16_t	*v;
	char		*canon;
	char		 receipt[TALLY_CODE_LEN + 1];
};

/* Bad codes of one sender for one TPS (section 15). */
struct truth_sender {
	SLIST_ENTRY(truth_sender) entry;
	char		*sender;
	time_t		 fails[TRUTH_FAILS];	/* since the last lockout */
	size_t		 nfails;
	time_t		 until;		/* locked out before this; 0 never */
};

/* Everything the protocol's decisions about one TPS depend on. */
struct truth_tps {
	SLIST_ENTRY(truth_tps) entry;
	uint64_t	 tps;
	int		 looked;	/* the registry was asked */
	int		 known;		/* in the registry (or none loaded) */
	int		 dpt;		/* from the registry, 0 unknown */
	struct truth_rep *reps;
	size_t		 nreps, cap;
	SLIST_HEAD(, truth_sender) senders;
};

struct truth {
	struct truth_conf conf;
	SLIST_HEAD(, truth_tps) bucket[TRUTH_BUCKETS];
};

static const char *truth_contests[] = {
	[CONTEST_PPWP] = "PPWP",
	[CONTEST_DPR] = "DPR",
	[CONTEST_DPD] = "DPD",
	[CONTEST_DPRDP] = "DPRDP",
	[CONTEST_DPRDK] = "DPRDK",
};

/* The flags in the order they are printed (section 14). */
static const char *truth_flags[] = {
	"SUM", "TOTAL", "DPT", "PARTY", "SENDER", "STALE",
};

struct truth *
truth_new(const struct truth_conf *conf)
{
	struct truth	*t;
	size_t		 i;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->conf = *conf;
	for (i = 0; i < TRUTH_BUCKETS; i++)
		SLIST_INIT(&t->bucket[i]);
	return (t);
}

void
truth_free(struct truth *t)
{
	struct truth_tps	*tp;
	struct truth_sender	*s;
	size_t			 i, k;

	if (t == NULL)
		return;
	for (i = 0; i < TRUTH_BUCKETS; i++) {
		while ((tp = SLIST_FIRST(&t->bucket[i])) != NULL) {
			SLIST_REMOVE_HEAD(&t->bucket[i], entry);
			for (k = 0; k < tp->nreps; k++) {
				free(tp->reps[k].v);
				free(tp->reps[k].canon);
			}
			free(tp->reps);
			while ((s = SLIST_FIRST(&tp->senders)) != NULL) {
				SLIST_REMOVE_HEAD(&tp->senders, entry);
				free(s->sender);
				free(s);
			}
			free(tp);
		}
	}
	free(t);
}

const char *
truth_verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_OK:
		return ("OK");
	case VERDICT_FLAGGED:
		return ("FLAGGED");
	case VERDICT_DUPLICATE:
		return ("DUPLICATE");
	case VERDICT_REJECTED:
		return ("REJECTED");
	}
	return ("?");
}

/* The name of flag bit i (FLAG_SUM is bit 0), or NULL. */
const char *
truth_flag_name(unsigned i)
{
	if (i >= sizeof(truth_flags) / sizeof(truth_flags[0]))
		return (NULL);
	return (truth_flags[i]);
}

/* "SUM,TOTAL": the flags' names in their printed order. */
int
truth_flags_text(unsigned flags, char *buf, size_t len)
{
	const char	*name;
	size_t		 off = 0;
	unsigned	 i;
	int		 n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	for (i = 0; (name = truth_flag_name(i)) != NULL; i++) {
		if ((flags & (1u << i)) == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    name);
		if (n < 0 || (size_t)n >= len - off)
			return (-1);
		off += (size_t)n;
	}
	return (0);
}

/* Section 5: keyword, 13-digit TPS, SEQ, [PAGE,] values, one space. */
int
truth_canon(enum contest ct, uint64_t tps, unsigned seq, int page,
    const uint16_t *v, size_t n, char *buf, size_t len)
{
	size_t	 i, off;
	int	 w;

	if (ct < CONTEST_PPWP || ct > CONTEST_DPRDK)
		return (-1);
	w = snprintf(buf, len, "%s %013llu %u", truth_contests[ct],
	    (unsigned long long)tps, seq);
	if (w < 0 || (size_t)w >= len)
		return (-1);
	off = (size_t)w;
	if (page >= 0) {
		w = snprintf(buf + off, len - off, " %d", page);
		if (w < 0 || (size_t)w >= len - off)
			return (-1);
		off += (size_t)w;
	}
	for (i = 0; i < n; i++) {
		w = snprintf(buf + off, len - off, " %u", v[i]);
		if (w < 0 || (size_t)w >= len - off)
			return (-1);
		off += (size_t)w;
	}
	return (0);
}

/* The values as the officer typed them: the mistake applied. */
size_t
truth_typed(const struct truth_msg *m, uint16_t *v)
{
	size_t	 i, n = 0;

	for (i = 0; i < m->nmeant && i < TALLY_MAXVALUES; i++) {
		if (m->slip == TRUTH_VALUE_MISSING && i == m->k)
			continue;
		v[n++] = m->slip == TRUTH_TYPO && i == m->k ? m->typed :
		    m->meant[i];
	}
	return (n);
}

/* This TPS's record, made on first use. */
static struct truth_tps *
truth_tps(struct truth *t, uint64_t tps)
{
	struct truth_tps	*tp;
	size_t			 b = (size_t)(tps % TRUTH_BUCKETS);

	SLIST_FOREACH(tp, &t->bucket[b], entry)
		if (tp->tps == tps)
			return (tp);
	if ((tp = calloc(1, sizeof(*tp))) == NULL)
		return (NULL);
	tp->tps = tps;
	SLIST_INIT(&tp->senders);
	SLIST_INSERT_HEAD(&t->bucket[b], tp, entry);
	return (tp);
}

/* This sender's bad codes for the TPS, made on first use. */
static struct truth_sender *
truth_sender(struct truth_tps *tp, const char *sender)
{
	struct truth_sender	*s;

	SLIST_FOREACH(s, &tp->senders, entry)
		if (strcmp(s->sender, sender) == 0)
			return (s);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (NULL);
	if ((s->sender = strdup(sender)) == NULL) {
		free(s);
		return (NULL);
	}
	SLIST_INSERT_HEAD(&tp->senders, s, entry);
	return (s);
}

/*
 * Section 15: a bad code counts while it is less than the window old,
 * as seen from the time of this one; the one that makes
 * LOCKOUT_MAX_FAILURES locks the sender out for the duration, and the
 * count starts again from zero. Every bad code is kept (the last
 * TRUTH_FAILS): a scenario's times need not grow (a USSD report's
 * 1 KIRIM may come before the one of a report begun earlier), so one
 * too old for a later code may count again for an earlier one.
 */
static void
truth_fail(struct truth_sender *s, time_t at)
{
	size_t	 i, n = 0;

	if (s->nfails == TRUTH_FAILS) {
		memmove(s->fails, s->fails + 1, (TRUTH_FAILS - 1) *
		    sizeof(*s->fails));
		s->nfails--;
	}
	s->fails[s->nfails++] = at;
	for (i = 0; i < s->nfails; i++)
		if (at - s->fails[i] < LOCKOUT_WINDOW)
			n++;
	if (n >= LOCKOUT_MAX_FAILURES) {
		s->until = at + LOCKOUT_DURATION;
		s->nfails = 0;
	}
}

/* The accepted report of this TPS with this SEQ, or NULL. */
static const struct truth_rep *
truth_by_seq(const struct truth_tps *tp, unsigned seq)
{
	size_t	 i;

	for (i = 0; i < tp->nreps; i++)
		if (tp->reps[i].seq == seq)
			return (&tp->reps[i]);
	return (NULL);
}

/* The accepted report with the highest SEQ of (contest, page), or NULL. */
static const struct truth_rep *
truth_latest(const struct truth_tps *tp, enum contest ct, int page)
{
	const struct truth_rep	*best = NULL;
	size_t			 i;

	for (i = 0; i < tp->nreps; i++)
		if (tp->reps[i].contest == ct && tp->reps[i].page == page &&
		    (best == NULL || tp->reps[i].seq > best->seq))
			best = &tp->reps[i];
	return (best);
}

static int
truth_record(struct truth_tps *tp, const struct truth_msg *m,
    const struct truth_expect *x)
{
	struct truth_rep	*r, *nv;

	if (tp->nreps == tp->cap) {
		tp->cap = tp->cap ? tp->cap * 2 : 16;
		if ((nv = reallocarray(tp->reps, tp->cap, sizeof(*nv))) ==
		    NULL)
			return (-1);
		tp->reps = nv;
	}
	r = &tp->reps[tp->nreps];
	memset(r, 0, sizeof(*r));
	r->seq = m->seq;
	r->contest = m->contest;
	r->page = m->page;
	r->n = x->nvalues;
	if ((r->v = calloc(x->nvalues + 1, sizeof(*r->v))) == NULL ||
	    (r->canon = strdup(x->canon)) == NULL) {
		free(r->v);
		return (-1);
	}
	memcpy(r->v, x->values, x->nvalues * sizeof(*r->v));
	memcpy(r->receipt, x->receipt, sizeof(r->receipt));
	tp->nreps++;
	return (0);
}

/*
 * Section 14 on a summary form: the choices add up to SAH, SAH +
 * TIDAK_SAH to PEMILIH, PEMILIH within DPT + 2% (the legal maximum
 * when the registry does not know the DPT or gives more than it).
 */
static unsigned
truth_summary_flags(const uint16_t *v, size_t n, int dpt)
{
	unsigned	 flags = 0, sum = 0, limit;
	size_t		 i;

	if (n < 3)
		return (0);
	for (i = 1; i < n - 2; i++)
		sum += v[i];
	if (sum != v[n - 2])
		flags |= FLAG_SUM;
	if ((unsigned)v[n - 2] + v[n - 1] != v[0])
		flags |= FLAG_TOTAL;
	if (dpt <= 0 || dpt > TRUTH_DPT_MAX)
		dpt = TRUTH_DPT_MAX;
	limit = (102u * (unsigned)dpt + 99) / 100;
	if (v[0] > limit)
		flags |= FLAG_DPT;
	return (flags);
}

/*
 * Section 14 on a party page: PARTAI and the candidates add up to the
 * party's column of the latest page 0 already recorded; unchecked when
 * there is none.
 */
static unsigned
truth_party_flags(const struct truth *t, const struct truth_tps *tp,
    const struct truth_msg *m, const uint16_t *v, size_t n)
{
	const struct truth_rep	*p0;
	struct form		 f0;
	enum reason		 why;
	unsigned		 sum = 0;
	size_t			 i, col;

	if ((p0 = truth_latest(tp, m->contest, 0)) == NULL)
		return (0);
	if (election_form(t->conf.election, m->contest, m->tps, 0, &f0,
	    &why) == -1)
		return (0);
	for (col = 0; col < f0.nchoices; col++)
		if (f0.choices[col] == m->page)
			break;
	if (col == f0.nchoices || 1 + col >= p0->n)
		return (0);
	for (i = 0; i < n; i++)
		sum += v[i];
	return (sum != p0->v[1 + col] ? FLAG_PARTY : 0);
}

static int
truth_reject(struct truth_expect *x, enum reason why)
{
	x->verdict = VERDICT_REJECTED;
	x->reason = why;
	return (0);
}

/*
 * Section 11, step by step, on what the officer typed: the first step
 * that fails decides. Returns 0 with *x filled, -1 if a lookup failed
 * (registry) or memory ran out.
 */
int
truth_judge(struct truth *t, const struct truth_msg *m,
    struct truth_expect *x)
{
	struct truth_tps	*tp;
	struct truth_sender	*s;
	const struct truth_rep	*prior;
	struct tps_info		 info;
	struct form		 form;
	enum reason		 why;
	uint8_t			 kt[TALLY_KEY_LEN];
	size_t			 n;
	unsigned		 flags;

	memset(x, 0, sizeof(*x));
	n = x->nvalues = truth_typed(m, x->values);
	if (truth_canon(m->contest, m->tps, m->seq, m->page, x->values, n,
	    x->canon, sizeof(x->canon)) == -1)
		return (-1);
	if ((tp = truth_tps(t, m->tps)) == NULL ||
	    (s = truth_sender(tp, m->sender)) == NULL)
		return (-1);
	/*
	 * 1. Decode (section 3): without its code the last value stands
	 * in the code's place, and a value has at most 3 digits, not 8;
	 * one value alone is too few tokens (one value and the code).
	 */
	x->decoded = m->slip != TRUTH_CODE_MISSING;
	if (!x->decoded) {
		x->nvalues = 0;
		x->canon[0] = '\0';
		return (truth_reject(x, n < 2 ? REASON_COUNT :
		    REASON_CODE_FORMAT));
	}
	/* 2. Registry. */
	if (!tp->looked) {
		tp->known = 1;
		if (t->conf.registry != NULL) {
			switch (registry_lookup(t->conf.registry, m->tps,
			    &info)) {
			case -1:
				return (-1);
			case 0:
				tp->known = 0;
				break;
			default:
				tp->dpt = info.dpt;
				break;
			}
		}
		tp->looked = 1;
	}
	if (!tp->known)
		return (truth_reject(x, REASON_TPS_UNKNOWN));
	/* 3. Form. */
	if (election_form(t->conf.election, m->contest, m->tps, m->page,
	    &form, &why) == -1)
		return (truth_reject(x, why));
	/* 4. Value count; PEMILIH where SEQ goes has a name of its own. */
	if (n != form.nvalues) {
		if ((m->contest == CONTEST_PPWP || m->contest ==
		    CONTEST_DPD) && n + 1 == form.nvalues && n >= 2 &&
		    (unsigned)x->values[n - 2] + x->values[n - 1] == m->seq)
			return (truth_reject(x, REASON_SEQ_MISSING));
		return (truth_reject(x, REASON_COUNT));
	}
	/* 5. Lockout: the code is not even looked at. */
	if (s->until != 0 && m->at < s->until)
		return (truth_reject(x, REASON_LOCKED));
	/* 6. Key. */
	if (key_derive_tps(t->conf.key, m->tps, kt) == -1)
		return (truth_reject(x, REASON_NO_KEY));
	/* 7. Code: the card row or the helper's MAC, unless miscopied. */
	if (m->slip == TRUTH_CODE_WRONG) {
		key_wipe(kt, sizeof(kt));
		truth_fail(s, m->at);
		return (truth_reject(x, REASON_CODE_BAD));
	}
	x->auth = m->mode;
	key_receipt(kt, x->canon, x->receipt);
	key_wipe(kt, sizeof(kt));
	/* 8. SEQ rules (section 13). */
	if ((prior = truth_by_seq(tp, m->seq)) != NULL) {
		if (strcmp(prior->canon, x->canon) == 0) {
			x->verdict = VERDICT_DUPLICATE;
			memcpy(x->receipt, prior->receipt, sizeof(x->receipt));
			return (0);
		}
		x->receipt[0] = '\0';
		memcpy(x->quoted, prior->receipt, sizeof(x->quoted));
		return (truth_reject(x, REASON_SEQ_USED));
	}
	if ((prior = truth_latest(tp, m->contest, m->page)) != NULL) {
		if (prior->seq < m->seq)
			x->supersedes = prior->seq;
		else {
			x->superseded_by = prior->seq;
			x->flags |= FLAG_STALE;
		}
	}
	/* 9. Consistency flags (section 14). */
	if (m->page > 0)
		flags = truth_party_flags(t, tp, m, x->values, n);
	else
		flags = truth_summary_flags(x->values, n, tp->dpt);
	x->flags |= flags;
	x->verdict = flags != 0 ? VERDICT_FLAGGED : VERDICT_OK;
	if (truth_record(tp, m, x) == -1)
		return (-1);
	return (0);
}
