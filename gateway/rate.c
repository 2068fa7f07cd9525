/*
 * rate: how many messages each sender sent in its current window
 * (rate_limit, rate_window), for the receive stage's rate check.
 *
 * Bounded (docs/security.md, "Floods"): an entry whose window has
 * passed says nothing any more (the sender's next message starts a new
 * window) and is forgotten by rate_expire, which the loop calls every
 * tick; and at most `max' entries are held. A new sender at the cap
 * evicts the entry whose window began longest ago: that sender starts
 * again from 0, which is what a flooder gets anyway by sending from a
 * fresh number, while treating new senders as over the limit would
 * leave real officers unanswered. Nothing is dropped either way: the
 * table decides only whether a message is answered.
 *
 * The entries are on one list in the order their windows began (a new
 * window moves its entry to the end), so both the sweep and the
 * eviction take from the front.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"

#define RATE_BUCKETS	4096

struct rate_entry {
	LIST_ENTRY(rate_entry)	 hash;
	TAILQ_ENTRY(rate_entry)	 age;		/* oldest window first */
	char			 sender[WIRE_NUMBER_MAX];
	time_t			 start;
	int			 count;
};
LIST_HEAD(rate_bucket, rate_entry);
TAILQ_HEAD(rate_ages, rate_entry);

struct rate {
	struct rate_bucket	 buckets[RATE_BUCKETS];
	struct rate_ages	 ages;
	size_t			 n, max;
	unsigned long		 evicted;
};

struct rate *
rate_new(size_t max)
{
	struct rate	*rt;
	size_t		 i;

	if (max < 1 || (rt = calloc(1, sizeof(*rt))) == NULL)
		return (NULL);
	for (i = 0; i < RATE_BUCKETS; i++)
		LIST_INIT(&rt->buckets[i]);
	TAILQ_INIT(&rt->ages);
	rt->max = max;
	return (rt);
}

static void
rate_remove(struct rate *rt, struct rate_entry *e)
{
	LIST_REMOVE(e, hash);
	TAILQ_REMOVE(&rt->ages, e, age);
	rt->n--;
	free(e);
}

void
rate_free(struct rate *rt)
{
	struct rate_entry	*e;

	if (rt == NULL)
		return;
	while ((e = TAILQ_FIRST(&rt->ages)) != NULL)
		rate_remove(rt, e);
	free(rt);
}

static unsigned
rate_hash(const char *sender)
{
	unsigned	 h = 5381;

	for (; *sender != '\0'; sender++)
		h = h * 33 + (unsigned char)*sender;
	return (h % RATE_BUCKETS);
}

/*
 * Count one message of sender at now: 1 if it is over limit messages
 * in its window of window seconds, 0 if not (also when no memory is
 * left: an unanswered officer costs more than an answered flooder).
 */
int
rate_over(struct rate *rt, const char *sender, time_t now, int limit,
    int window)
{
	struct rate_bucket	*b = &rt->buckets[rate_hash(sender)];
	struct rate_entry	*e;

	LIST_FOREACH(e, b, hash)
		if (strcmp(e->sender, sender) == 0)
			break;
	if (e != NULL && now - e->start >= window) {
		rate_remove(rt, e);
		e = NULL;
	}
	if (e == NULL) {
		if (rt->n >= rt->max) {
			rate_remove(rt, TAILQ_FIRST(&rt->ages));
			rt->evicted++;
		}
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return (0);
		snprintf(e->sender, sizeof(e->sender), "%s", sender);
		e->start = now;
		LIST_INSERT_HEAD(b, e, hash);
		TAILQ_INSERT_TAIL(&rt->ages, e, age);
		rt->n++;
	}
	return (++e->count > limit);
}

/* Forget the senders whose window has passed; how many went. */
size_t
rate_expire(struct rate *rt, time_t now, int window)
{
	struct rate_entry	*e;
	size_t			 n = 0;

	while ((e = TAILQ_FIRST(&rt->ages)) != NULL &&
	    now - e->start >= window) {
		rate_remove(rt, e);
		n++;
	}
	return (n);
}

/* Senders held, and how many were evicted at the cap since the start. */
size_t
rate_size(const struct rate *rt, unsigned long *evicted)
{
	if (evicted != NULL)
		*evicted = rt->evicted;
	return (rt->n);
}
