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
 * The entries are a bounded table (hash.c) in the order their windows
 * began (a new window is a new entry, the youngest), so both the sweep
 * and the eviction take the oldest.
 */
#include <sys/types.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "hash.h"

#define RATE_BUCKETS	4096

struct rate_entry {				/* its key: the sender */
	time_t			 start;
	int			 count;
};

struct rate {
	struct hash		*senders;
};

struct rate *
rate_new(size_t max)
{
	struct rate	*rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return (NULL);
	if ((rt->senders = hash_new(RATE_BUCKETS, max,
	    sizeof(struct rate_entry))) == NULL) {
		free(rt);
		return (NULL);
	}
	return (rt);
}

void
rate_free(struct rate *rt)
{
	if (rt == NULL)
		return;
	hash_free(rt->senders);
	free(rt);
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
	struct hash		*t = rt->senders;
	struct rate_entry	*e;
	size_t			 len = strlen(sender);

	if ((e = hash_find(t, sender, len)) != NULL &&
	    now - e->start >= window) {
		hash_remove(t, e);
		e = NULL;
	}
	if (e == NULL) {
		if ((e = hash_add(t, sender, len)) == NULL)
			return (0);
		e->start = now;
	}
	return (++e->count > limit);
}

/* Forget the senders whose window has passed; how many went. */
size_t
rate_expire(struct rate *rt, time_t now, int window)
{
	struct hash		*t = rt->senders;
	struct rate_entry	*e;
	size_t			 n = 0;

	while ((e = hash_oldest(t)) != NULL && now - e->start >= window) {
		hash_remove(t, e);
		n++;
	}
	return (n);
}

/* Senders held, and how many were evicted at the cap since the start. */
size_t
rate_size(const struct rate *rt, unsigned long *evicted)
{
	return (hash_size(rt->senders, evicted));
}
