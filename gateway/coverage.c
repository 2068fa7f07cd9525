/*
 * coverage: which polling stations have reported, by region. For each
 * province, regency, district or village (the first 2, 4, 6 or 10
 * digits of the TPS code) and each contest: the TPS the registry lists
 * where the election holds that contest (expected), those with an
 * accepted report (reported), those whose latest report of some page
 * is FLAGGED (flagged), and the difference (missing). The registry
 * gives the expected side village by village; the store gives the rest
 * (store_coverage). Without a registry only what came in is known.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "log.h"

struct coverage_walk {
	struct coverage		*cv;
	const struct election	*el;
	int			 contests[CONTEST_MAX + 1];	/* asked */
};

/*
 * The registry's side of a coverage (regions, names, expected TPS)
 * only changes with the registry: the dashboard's views (a province's
 * regencies, a district's villages: tens of rows) are kept, so that a
 * refresh every 5 seconds reads only the store. The whole country's
 * village list takes 0.1 s to read; views of more rows are not kept.
 */
#define COVERAGE_MEMOS		8	/* views kept, the least used goes */
#define COVERAGE_MEMO_ROWS	256	/* rows of a view that is kept */

struct coverage_memo {
	const struct registry	*reg;		/* NULL: slot free */
	const struct election	*el;
	int64_t			 version;	/* registry_version */
	int			 digits, in_digits;
	uint64_t		 in;
	enum contest		 contest;
	struct coverage_row	*rows;
	size_t			 nrows;
	struct coverage_row	 total;
	unsigned long		 used;		/* the last use's tick */
};

static struct coverage_memo	 coverage_memos[COVERAGE_MEMOS];
static unsigned long		 coverage_tick;

static uint64_t
coverage_scale(int from, int to)
{
	uint64_t	 s = 1;

	for (; to < from; to++)
		s *= 10;
	return (s);
}

/* The row of region code: the last one, or a new one after it. */
static struct coverage_row *
coverage_row(struct coverage *cv, uint64_t code)
{
	struct coverage_row	*r, *tmp;
	size_t			 lo = 0, hi = cv->nrows, mid;

	if (cv->nrows > 0 && cv->rows[cv->nrows - 1].code == code)
		return (&cv->rows[cv->nrows - 1]);
	/* The store's regions come in order too, but between the
	 * registry's: find the place. */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (cv->rows[mid].code < code)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < cv->nrows && cv->rows[lo].code == code)
		return (&cv->rows[lo]);
	if (cv->nrows == cv->cap) {
		cv->cap = cv->cap ? cv->cap * 2 : 64;
		if ((tmp = reallocarray(cv->rows, cv->cap,
		    sizeof(*cv->rows))) == NULL) {
			log_warn("coverage");
			return (NULL);
		}
		cv->rows = tmp;
	}
	memmove(&cv->rows[lo + 1], &cv->rows[lo],
	    (cv->nrows - lo) * sizeof(*cv->rows));
	cv->nrows++;
	r = &cv->rows[lo];
	memset(r, 0, sizeof(*r));
	r->code = code;
	return (r);
}

/* One village of the registry: its TPS are expected where held. */
static int
coverage_village(const struct registry_village *v, void *arg)
{
	struct coverage_walk	*w = arg;
	struct coverage		*cv = w->cv;
	struct coverage_row	*r;
	struct form		 f;
	const char		*name;
	int			 c;

	if ((r = coverage_row(cv, v->code / coverage_scale(10,
	    cv->digits))) == NULL)
		return (-1);
	if (r->name[0] == '\0') {
		name = cv->digits == 2 ? v->prov : cv->digits == 4 ? v->kab :
		    cv->digits == 6 ? v->kec : v->desa;
		snprintf(r->name, sizeof(r->name), "%s", name);
	}
	r->tps += v->ntps;
	cv->total.tps += v->ntps;
	/* A contest is held, or not, for a whole village (docs/election.md:
	 * districts are made of areas of at most 10 digits). */
	for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++) {
		if (!w->contests[c] || election_form(w->el, (enum contest)c,
		    v->code * 1000 + 1, decode_contest_paged((enum contest)c) ?
		    0 : -1, &f, NULL) == -1)
			continue;
		r->expected[c] += v->ntps;
		cv->total.expected[c] += v->ntps;
	}
	return (0);
}

/* One (region, contest) of the store. */
static int
coverage_store(const struct store_region *sr, void *arg)
{
	struct coverage_walk	*w = arg;
	struct coverage_row	*r;

	if ((r = coverage_row(w->cv, sr->region)) == NULL)
		return (-1);
	r->reported[sr->contest] += sr->reported;
	r->flagged[sr->contest] += sr->flagged;
	w->cv->total.reported[sr->contest] += sr->reported;
	w->cv->total.flagged[sr->contest] += sr->flagged;
	return (0);
}

/* The kept view of this query, or NULL. */
static struct coverage_memo *
coverage_memo_find(const struct registry *reg, const struct election *el,
    int64_t version, const struct query_coverage *q)
{
	struct coverage_memo	*m;
	size_t			 i;

	for (i = 0; i < COVERAGE_MEMOS; i++) {
		m = &coverage_memos[i];
		if (m->reg == reg && m->el == el && m->version == version &&
		    m->digits == q->digits && m->in_digits == q->in_digits &&
		    m->in == q->in && m->contest == q->contest) {
			m->used = ++coverage_tick;
			return (m);
		}
	}
	return (NULL);
}

/* Keep the registry's side just read, in place of the least used view. */
static void
coverage_memo_keep(const struct coverage *cv, const struct registry *reg,
    const struct election *el, int64_t version,
    const struct query_coverage *q)
{
	struct coverage_memo	*m = &coverage_memos[0];
	struct coverage_row	*rows = NULL;
	size_t			 i;

	if (cv->nrows > COVERAGE_MEMO_ROWS || (cv->nrows > 0 &&
	    (rows = reallocarray(NULL, cv->nrows, sizeof(*rows))) == NULL))
		return;
	for (i = 1; i < COVERAGE_MEMOS; i++)
		if (coverage_memos[i].used < m->used)
			m = &coverage_memos[i];
	free(m->rows);
	memset(m, 0, sizeof(*m));
	if (cv->nrows > 0)
		memcpy(rows, cv->rows, cv->nrows * sizeof(*rows));
	m->reg = reg;
	m->el = el;
	m->version = version;
	m->digits = q->digits;
	m->in_digits = q->in_digits;
	m->in = q->in;
	m->contest = q->contest;
	m->rows = rows;
	m->nrows = cv->nrows;
	m->total = cv->total;
	m->used = ++coverage_tick;
}

/* The registry's side of the coverage asked: kept, or read and kept. */
static int
coverage_registry(struct coverage_walk *w, struct registry *reg,
    const struct query_coverage *q, uint64_t lo, uint64_t hi)
{
	struct coverage		*cv = w->cv;
	struct coverage_memo	*m;
	int64_t			 version = registry_version(reg);

	cv->registry = 1;
	if (version != -1 &&
	    (m = coverage_memo_find(reg, w->el, version, q)) != NULL) {
		if (m->nrows > 0 && (cv->rows = reallocarray(NULL, m->nrows,
		    sizeof(*cv->rows))) == NULL) {
			log_warn("coverage");
			return (-1);
		}
		if (m->nrows > 0)
			memcpy(cv->rows, m->rows, m->nrows * sizeof(*cv->rows));
		cv->nrows = cv->cap = m->nrows;
		cv->total = m->total;
		return (0);
	}
	if (registry_villages(reg, lo, hi, coverage_village, w) == -1)
		return (-1);
	if (version != -1)
		coverage_memo_keep(cv, reg, w->el, version, q);
	return (0);
}

/* Forget the kept views (the unit tests open a new registry each). */
void
coverage_forget(void)
{
	size_t	 i;

	for (i = 0; i < COVERAGE_MEMOS; i++) {
		free(coverage_memos[i].rows);
		memset(&coverage_memos[i], 0, sizeof(coverage_memos[i]));
	}
}

/*
 * The coverage a query asks for into cv (coverage_free it). A region
 * without a TPS in the registry appears only if reports came from it.
 */
int
coverage_build(struct coverage *cv, struct store *s, struct registry *reg,
    const struct election *el, const struct query_coverage *q, char *err,
    size_t errlen)
{
	struct coverage_walk	 w;
	uint64_t		 lo = 0, hi = 9999999999ULL, sc;
	int			 c;

	memset(cv, 0, sizeof(*cv));
	memset(&w, 0, sizeof(w));
	cv->digits = q->digits;
	w.cv = cv;
	w.el = el;
	for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++)
		w.contests[c] = q->contest == CONTEST_NONE ||
		    q->contest == (enum contest)c;
	if (q->in_digits > 0) {
		sc = coverage_scale(10, q->in_digits);
		lo = q->in * sc;
		hi = lo + sc - 1;
	}
	if (reg != NULL && el != NULL) {
		if (coverage_registry(&w, reg, q, lo, hi) == -1) {
			snprintf(err, errlen, "cannot read the registry");
			coverage_free(cv);
			return (-1);
		}
	}
	if (store_coverage(s, q, coverage_store, &w) == -1) {
		snprintf(err, errlen, "cannot read the store");
		coverage_free(cv);
		return (-1);
	}
	return (0);
}

/* Expected TPS that have not reported (never below 0). */
long
coverage_missing(const struct coverage_row *r, enum contest c)
{
	long	 m;

	if (c <= CONTEST_NONE || c > CONTEST_MAX)
		return (0);
	m = r->expected[c] - r->reported[c];
	return (m > 0 ? m : 0);
}

void
coverage_free(struct coverage *cv)
{
	free(cv->rows);
	cv->rows = NULL;
	cv->nrows = cv->cap = 0;
}
