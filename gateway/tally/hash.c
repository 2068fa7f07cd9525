/*
 * hash: FNV-1a, and a bounded hash table with its entries on an age
 * list.
 *
 * A table holds at most `max' entries, each the caller's `size' bytes
 * of data (zeroed when added) under a key of any bytes. Every entry is
 * on one list, oldest first: an entry is young when added or touched.
 * At the cap, adding evicts the oldest entry and counts it; forgetting
 * what has aged out is the caller's (it walks the list from
 * hash_oldest, which also finds what has aged out first). The caller
 * holds a pointer to an entry's data; the key stays with the table.
 */

#include <sys/queue.h>

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct hash_entry {
	LIST_ENTRY(hash_entry)	 bucket;
	TAILQ_ENTRY(hash_entry)	 age;		/* oldest first */
	size_t			 keylen;	/* the key follows the data */
	max_align_t		 data[];
};
LIST_HEAD(hash_bucket, hash_entry);
TAILQ_HEAD(hash_ages, hash_entry);

struct hash {
	struct hash_ages	 ages;
	size_t			 n, max, size, nbuckets;
	unsigned long		 evicted;
	struct hash_bucket	 buckets[];
};

#define HASH_ENTRY(p)	((struct hash_entry *)(void *)((char *)(p) - \
			    offsetof(struct hash_entry, data)))
#define HASH_KEY(t, e)	((char *)(e)->data + (t)->size)

/* Continue an FNV-1a hash (start from HASH_FNV_INIT) over n bytes. */
uint32_t
hash_fnv(uint32_t h, const void *p, size_t n)
{
	const unsigned char	*c = p;

	while (n-- > 0) {
		h ^= *c++;
		h *= 16777619U;
	}
	return (h);
}

/* A table of nbuckets buckets, at most max entries of size bytes each. */
struct hash *
hash_new(size_t nbuckets, size_t max, size_t size)
{
	struct hash	*t;
	size_t		 i;

	if (nbuckets < 1 || max < 1 ||
	    (t = calloc(1, sizeof(*t) + nbuckets * sizeof(t->buckets[0]))) ==
	    NULL)
		return (NULL);
	for (i = 0; i < nbuckets; i++)
		LIST_INIT(&t->buckets[i]);
	TAILQ_INIT(&t->ages);
	t->nbuckets = nbuckets;
	t->max = max;
	t->size = size;
	return (t);
}

static void
hash_remove_entry(struct hash *t, struct hash_entry *e)
{
	LIST_REMOVE(e, bucket);
	TAILQ_REMOVE(&t->ages, e, age);
	t->n--;
	free(e);
}

void
hash_free(struct hash *t)
{
	struct hash_entry	*e;

	if (t == NULL)
		return;
	while ((e = TAILQ_FIRST(&t->ages)) != NULL)
		hash_remove_entry(t, e);
	free(t);
}

static struct hash_bucket *
hash_bucket(struct hash *t, const void *key, size_t len)
{
	return (&t->buckets[hash_fnv(HASH_FNV_INIT, key, len) % t->nbuckets]);
}

/* The data of the entry under key, NULL if none. */
void *
hash_find(struct hash *t, const void *key, size_t len)
{
	struct hash_entry	*e;

	LIST_FOREACH(e, hash_bucket(t, key, len), bucket)
		if (e->keylen == len && memcmp(HASH_KEY(t, e), key, len) == 0)
			return (e->data);
	return (NULL);
}

/*
 * A new entry under key (which must not be held), the youngest, its data
 * zeroed; at the cap the oldest entry goes first. NULL: no memory.
 */
void *
hash_add(struct hash *t, const void *key, size_t len)
{
	struct hash_entry	*e;

	if (t->n >= t->max) {
		hash_remove_entry(t, TAILQ_FIRST(&t->ages));
		t->evicted++;
	}
	if ((e = calloc(1, sizeof(*e) + t->size + len)) == NULL)
		return (NULL);
	e->keylen = len;
	memcpy(HASH_KEY(t, e), key, len);
	LIST_INSERT_HEAD(hash_bucket(t, key, len), e, bucket);
	TAILQ_INSERT_TAIL(&t->ages, e, age);
	t->n++;
	return (e->data);
}

/* The entry of data p is the youngest now. */
void
hash_touch(struct hash *t, void *p)
{
	struct hash_entry	*e = HASH_ENTRY(p);

	TAILQ_REMOVE(&t->ages, e, age);
	TAILQ_INSERT_TAIL(&t->ages, e, age);
}

void
hash_remove(struct hash *t, void *p)
{
	hash_remove_entry(t, HASH_ENTRY(p));
}

/* The oldest entry's data, NULL if the table is empty. */
void *
hash_oldest(const struct hash *t)
{
	struct hash_entry	*e = TAILQ_FIRST(&t->ages);

	return (e != NULL ? e->data : NULL);
}

/* The data of the entry next younger than p's, NULL after the youngest. */
void *
hash_newer(void *p)
{
	struct hash_entry	*e = TAILQ_NEXT(HASH_ENTRY(p), age);

	return (e != NULL ? e->data : NULL);
}

/* Entries held, and how many were evicted at the cap since the start. */
size_t
hash_size(const struct hash *t, unsigned long *evicted)
{
	if (evicted != NULL)
		*evicted = t->evicted;
	return (t->n);
}
