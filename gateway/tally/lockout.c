/*
 * lockout: counts bad codes per (sender, TPS). After max_failures within
 * window seconds the sender is locked out of that TPS for duration
 * seconds; failures for one TPS across all senders raise an alert.
 * In memory: the gateway's store keeps the failures themselves.
 *
 * Bounded (docs/security.md, "Floods"): an entry with no failure in
 * the window and no lock is forgotten by lockout_expire (the loop's
 * tick), and at most LOCKOUT_ENTRIES are held. At the cap a new entry
 * evicts the one whose last failure is oldest: that (sender, TPS)
 * starts again from no failure, as a spoofer does anyway with a fresh
 * number, while refusing to count new pairs would let every new number
 * guess without limit, and locking them would lock real officers out.
 */

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "log.h"
#include "tally.h"
#include "wire.h"

#define LOCKOUT_BUCKETS		1024
#define LOCKOUT_RING		64	/* most failures remembered */
#define LOCKOUT_KEY_MAX		(WIRE_NUMBER_MAX - 1 + 8)

/* Its key: the sender ("" = the whole TPS), then the TPS, low byte first. */
struct lockout_entry {
	time_t		 fails[LOCKOUT_RING];
	int		 nfails;
	int		 head;
	time_t		 locked_until;
};

struct lockout {
	struct lockout_conf	 conf;
	struct hash		*entries;	/* oldest failure first */
};

static struct lockout_entry *lockout_find(struct lockout *, const char *,
		    uint64_t, int);
static int	lockout_count(struct lockout *, struct lockout_entry *,
		    time_t);

struct lockout *
lockout_new(const struct lockout_conf *conf)
{
	struct lockout	*lk;

	if ((lk = calloc(1, sizeof(*lk))) == NULL)
		return (NULL);
	if (conf != NULL)
		lk->conf = *conf;
	else {
		lk->conf.max_failures = LOCKOUT_MAX_FAILURES;
		lk->conf.window = LOCKOUT_WINDOW;
		lk->conf.duration = LOCKOUT_DURATION;
		lk->conf.alert_failures = LOCKOUT_ALERT_FAILURES;
	}
	if (lk->conf.max_failures < 1 || lk->conf.max_failures > LOCKOUT_RING)
		lk->conf.max_failures = LOCKOUT_MAX_FAILURES;
	if (lk->conf.alert_failures < 1 ||
	    lk->conf.alert_failures > LOCKOUT_RING)
		lk->conf.alert_failures = LOCKOUT_ALERT_FAILURES;
	if ((lk->entries = hash_new(LOCKOUT_BUCKETS, LOCKOUT_ENTRIES,
	    sizeof(struct lockout_entry))) == NULL) {
		free(lk);
		return (NULL);
	}
	return (lk);
}

void
lockout_free(struct lockout *lk)
{
	if (lk == NULL)
		return;
	hash_free(lk->entries);
	free(lk);
}

/* The entry of (sender, TPS); create: a failure's, added or made newest. */
static struct lockout_entry *
lockout_find(struct lockout *lk, const char *sender, uint64_t tps, int create)
{
	unsigned char		 key[LOCKOUT_KEY_MAX];
	struct lockout_entry	*e;
	size_t			 len;
	int			 i;

	len = strnlen(sender, WIRE_NUMBER_MAX - 1);
	memcpy(key, sender, len);
	for (i = 0; i < 8; i++, tps >>= 8)
		key[len++] = (unsigned char)(tps & 0xff);
	if ((e = hash_find(lk->entries, key, len)) != NULL || !create) {
		if (e != NULL && create)
			hash_touch(lk->entries, e);
		return (e);
	}
	if ((e = hash_add(lk->entries, key, len)) == NULL)
		log_warnx("lockout: out of memory");
	return (e);
}

/* Failures of an entry still inside the window. */
static int
lockout_count(struct lockout *lk, struct lockout_entry *e, time_t now)
{
	int	i, n = 0;

	for (i = 0; i < e->nfails; i++)
		if (now - e->fails[i] < lk->conf.window)
			n++;
	return (n);
}

int
lockout_locked(struct lockout *lk, const char *sender, uint64_t tps,
    time_t now)
{
	struct lockout_entry	*e;

	if (sender == NULL || *sender == '\0')
		return (0);
	if ((e = lockout_find(lk, sender, tps, 0)) == NULL)
		return (0);
	return (e->locked_until > now);
}

/* Count one bad code; say whether it locked the sender or raised an alert. */
int
lockout_fail(struct lockout *lk, const char *sender, uint64_t tps, time_t now)
{
	struct lockout_entry	*e, *all;
	int			 rc = LOCKOUT_FAIL_COUNTED;

	if (sender != NULL && *sender != '\0' &&
	    (e = lockout_find(lk, sender, tps, 1)) != NULL) {
		e->fails[e->head] = now;
		e->head = (e->head + 1) % LOCKOUT_RING;
		if (e->nfails < LOCKOUT_RING)
			e->nfails++;
		if (e->locked_until <= now &&
		    lockout_count(lk, e, now) >= lk->conf.max_failures) {
			e->locked_until = now + lk->conf.duration;
			e->nfails = e->head = 0;
			rc = LOCKOUT_FAIL_LOCKED;
			log_info("lockout: sender %s locked out of TPS %013llu "
			    "until +%llds", sender, (unsigned long long)tps,
			    (long long)lk->conf.duration);
		}
	}
	if ((all = lockout_find(lk, "", tps, 1)) != NULL) {
		all->fails[all->head] = now;
		all->head = (all->head + 1) % LOCKOUT_RING;
		if (all->nfails < LOCKOUT_RING)
			all->nfails++;
		if (lockout_count(lk, all, now) == lk->conf.alert_failures) {
			rc |= LOCKOUT_FAIL_ALERT;
			log_warnx("lockout: alert: %d bad codes for TPS %013llu "
			    "within %llds", lk->conf.alert_failures,
			    (unsigned long long)tps,
			    (long long)lk->conf.window);
		}
	}
	return (rc);
}

/* Forget entries with no failure in the window and no lock. */
void
lockout_expire(struct lockout *lk, time_t now)
{
	struct lockout_entry	*e, *next;

	for (e = hash_oldest(lk->entries); e != NULL; e = next) {
		next = hash_newer(e);
		if (e->locked_until <= now && lockout_count(lk, e, now) == 0)
			hash_remove(lk->entries, e);
	}
}

/* Entries held, and how many were evicted at the cap since the start. */
size_t
lockout_size(const struct lockout *lk, unsigned long *evicted)
{
	return (hash_size(lk->entries, evicted));
}
