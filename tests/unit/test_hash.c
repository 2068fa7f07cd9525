/*
 * Unit tests of hash: FNV-1a against the published test vectors, and
 * the bounded table that rate.c and lockout.c keep their entries in:
 * it never holds more than its cap, evicts the oldest (the least
 * recently added or touched) and counts it, finds keys of any bytes,
 * and a sweep from the oldest forgets what has aged out of a window.
 */

#include "unit.h"
#include "hash.h"

struct item {
	time_t	 t;
	int	 n;
};

static struct item *
add(struct hash *h, const char *key, time_t t)
{
	struct item	*it;

	assert_null(hash_find(h, key, strlen(key)));
	it = hash_add(h, key, strlen(key));
	assert_non_null(it);
	assert_int_equal(it->n, 0);		/* zeroed */
	it->t = t;
	return (it);
}

static struct item *
find(struct hash *h, const char *key)
{
	return (hash_find(h, key, strlen(key)));
}

/* FNV-1a 32, the vectors of the reference (draft-eastlake-fnv). */
static void
test_fnv(void **state)
{
	(void)state;
	assert_int_equal(hash_fnv(HASH_FNV_INIT, "", 0), 0x811c9dc5U);
	assert_int_equal(hash_fnv(HASH_FNV_INIT, "a", 1), 0xe40c292cU);
	assert_int_equal(hash_fnv(HASH_FNV_INIT, "foobar", 6), 0xbf9cf968U);
	/* Continued: two pieces hash as one. */
	assert_int_equal(hash_fnv(hash_fnv(HASH_FNV_INIT, "foo", 3), "bar",
	    3), 0xbf9cf968U);
}

/* At the cap the oldest goes; a touched entry is young again. */
static void
test_bound(void **state)
{
	struct hash	*h = hash_new(7, 3, sizeof(struct item));
	unsigned long	 ev;

	(void)state;
	assert_non_null(h);
	add(h, "a", 1);
	add(h, "b", 2);
	add(h, "c", 3);
	assert_int_equal(hash_size(h, &ev), 3);
	assert_int_equal(ev, 0);
	add(h, "d", 4);				/* a goes */
	assert_int_equal(hash_size(h, &ev), 3);
	assert_int_equal(ev, 1);
	assert_null(find(h, "a"));
	hash_touch(h, find(h, "b"));		/* c is the oldest now */
	add(h, "e", 5);
	assert_null(find(h, "c"));
	assert_non_null(find(h, "b"));
	assert_non_null(find(h, "d"));
	assert_non_null(find(h, "e"));
	assert_int_equal(((struct item *)hash_oldest(h))->t, 4);	/* d */
	assert_int_equal(hash_size(h, &ev), 3);
	assert_int_equal(ev, 2);
	/* A removed entry is not evicted: there is room again. */
	hash_remove(h, find(h, "d"));
	add(h, "f", 6);
	assert_int_equal(hash_size(h, &ev), 3);
	assert_int_equal(ev, 2);
	assert_null(hash_new(7, 0, sizeof(struct item)));
	assert_null(hash_new(0, 3, sizeof(struct item)));
	hash_free(h);
	hash_free(NULL);
}

/* Keys are bytes: a NUL inside and a key that is a prefix are distinct. */
static void
test_keys(void **state)
{
	struct hash	*h = hash_new(1, 100, sizeof(struct item));
	struct item	*x, *y, *z;

	(void)state;
	x = hash_add(h, "ab\0c", 4);
	y = hash_add(h, "ab\0d", 4);
	z = hash_add(h, "ab", 2);
	assert_non_null(x);
	assert_ptr_equal(hash_find(h, "ab\0c", 4), x);
	assert_ptr_equal(hash_find(h, "ab\0d", 4), y);
	assert_ptr_equal(hash_find(h, "ab", 2), z);
	assert_null(hash_find(h, "ab\0", 3));
	assert_null(hash_find(h, "", 0));
	x->n = 7;
	assert_int_equal(((struct item *)hash_find(h, "ab\0c", 4))->n, 7);
	hash_free(h);
}

/*
 * A sweep as the callers do it: from the oldest, forget what has aged
 * out of a window of 100 at 1000, keep the rest in their order.
 */
static void
test_window(void **state)
{
	struct hash	*h = hash_new(64, 100000, sizeof(struct item));
	struct item	*it, *next;
	char		 k[32];
	time_t		 last;
	int		 i, n;

	(void)state;
	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "+62812%07d", i);
		add(h, k, 800 + i / 100);	/* 800 .. 999 */
	}
	for (it = hash_oldest(h); it != NULL; it = next) {
		next = hash_newer(it);
		if (1000 - it->t >= 100)
			hash_remove(h, it);
	}
	/* 901 .. 999 are left, 100 each, oldest first (900 aged out). */
	assert_int_equal(hash_size(h, NULL), 9900);
	assert_null(find(h, "+628120010099"));
	assert_non_null(find(h, "+628120010100"));
	n = 0;
	last = 0;
	for (it = hash_oldest(h); it != NULL; it = hash_newer(it), n++) {
		assert_true(it->t > 900 && it->t >= last);
		last = it->t;
	}
	assert_int_equal(n, 9900);
	hash_free(h);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_fnv),
	cmocka_unit_test(test_bound),
	cmocka_unit_test(test_keys),
	cmocka_unit_test(test_window),
};

UNIT_MAIN(tests)
