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
		cv->registry = 1;
		if (registry_villages(reg, lo, hi, coverage_village, &w) ==
		    -1) {
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
