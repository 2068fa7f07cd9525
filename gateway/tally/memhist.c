/*
 * memhist: what verify needs to know of earlier reports, kept in memory.
 * For tallyctl's batch mode, the demo and the tests; the gateway keeps
 * the same facts in its SQLite store.
 */

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "memhist.h"

#define MEMHIST_BUCKETS	65536

struct memhist_entry {
	LIST_ENTRY(memhist_entry) by_seq;
	LIST_ENTRY(memhist_entry) by_page;
	struct prior	 p;
	uint64_t	 tps;
};
LIST_HEAD(memhist_list, memhist_entry);

struct memhist {
	struct memhist_list	 seq[MEMHIST_BUCKETS];
	struct memhist_list	 page[MEMHIST_BUCKETS];
	struct verify_history	 hist;
	size_t			 n;
};

static unsigned
memhist_hash(uint64_t a, uint64_t b)
{
	uint64_t h = a * 0x9e3779b97f4a7c15ULL ^ (b + 0x632be59bd9b4e019ULL);

	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return ((unsigned)(h % MEMHIST_BUCKETS));
}

static uint64_t
memhist_pagekey(enum contest c, int page)
{
	return (((uint64_t)c << 16) | (uint64_t)(page + 1));
}

static int
memhist_by_seq(void *arg, uint64_t tps, unsigned seq, struct prior *out)
{
	struct memhist		*m = arg;
	struct memhist_entry	*e;

	LIST_FOREACH(e, &m->seq[memhist_hash(tps, seq)], by_seq) {
		if (e->tps == tps && e->p.seq == seq) {
			*out = e->p;
			return (1);
		}
	}
	return (0);
}

/* The accepted report with the highest SEQ for (TPS, contest, page). */
static int
memhist_latest(void *arg, uint64_t tps, enum contest c, int page,
    struct prior *out)
{
	struct memhist		*m = arg;
	struct memhist_entry	*e, *best = NULL;
	uint64_t		 k = memhist_pagekey(c, page);

	LIST_FOREACH(e, &m->page[memhist_hash(tps, k)], by_page) {
		if (e->tps == tps && e->p.contest == c && e->p.page == page &&
		    (best == NULL || e->p.seq > best->p.seq))
			best = e;
	}
	if (best == NULL)
		return (0);
	*out = best->p;
	return (1);
}

struct memhist *
memhist_new(void)
{
	struct memhist	*m;
	size_t		 i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	for (i = 0; i < MEMHIST_BUCKETS; i++) {
		LIST_INIT(&m->seq[i]);
		LIST_INIT(&m->page[i]);
	}
	m->hist.by_seq = memhist_by_seq;
	m->hist.latest = memhist_latest;
	m->hist.arg = m;
	return (m);
}

struct verify_history *
memhist_history(struct memhist *m)
{
	return (&m->hist);
}

/* Record an accepted (OK or FLAGGED) report. */
int
memhist_add(struct memhist *m, const struct report *r, const char *receipt)
{
	struct memhist_entry	*e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return (-1);
	e->tps = r->tps;
	e->p.seq = r->seq;
	e->p.contest = r->contest;
	e->p.page = r->page;
	e->p.nvalues = r->nvalues;
	memcpy(e->p.values, r->values, sizeof(e->p.values));
	memcpy(e->p.canon, r->canon, sizeof(e->p.canon));
	strncpy(e->p.receipt, receipt, sizeof(e->p.receipt) - 1);
	LIST_INSERT_HEAD(&m->seq[memhist_hash(r->tps, r->seq)], e, by_seq);
	LIST_INSERT_HEAD(&m->page[memhist_hash(r->tps,
	    memhist_pagekey(r->contest, r->page))], e, by_page);
	m->n++;
	return (0);
}

size_t
memhist_count(const struct memhist *m)
{
	return (m->n);
}

void
memhist_free(struct memhist *m)
{
	struct memhist_entry	*e;
	size_t			 i;

	if (m == NULL)
		return;
	for (i = 0; i < MEMHIST_BUCKETS; i++) {
		while ((e = LIST_FIRST(&m->seq[i])) != NULL) {
			LIST_REMOVE(e, by_seq);
			free(e);
		}
	}
	free(m);
}
