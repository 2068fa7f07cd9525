/*
 * Unit tests of rate: the per-sender rate table counts messages in a
 * window, forgets a sender once its window has passed and never holds
 * more than its cap (the oldest window is evicted; nothing refused).
 */

#include "unit.h"
#include "gw.h"

static void
number(char *buf, size_t len, int i)
{
	snprintf(buf, len, "+62812%07d", i);
}

/* 3 a window: the 4th is over; a new window starts from 0. */
static void
test_limit(void **state)
{
	struct rate	*rt = rate_new(16);
	int		 i;

	(void)state;
	assert_non_null(rt);
	for (i = 0; i < 3; i++)
		assert_false(rate_over(rt, "+62811", 1000 + i, 3, 60));
	assert_true(rate_over(rt, "+62811", 1003, 3, 60));
	assert_true(rate_over(rt, "+62811", 1059, 3, 60));
	assert_false(rate_over(rt, "+62812", 1059, 3, 60));
	/* The window began at 1000: at 1060 it has passed. */
	assert_false(rate_over(rt, "+62811", 1060, 3, 60));
	assert_int_equal(rate_size(rt, NULL), 2);
	rate_free(rt);
}

/* The sweep forgets exactly the senders whose window has passed. */
static void
test_expire(void **state)
{
	struct rate	*rt = rate_new(100000);
	char		 n[32];
	int		 i;

	(void)state;
	for (i = 0; i < 5000; i++) {
		number(n, sizeof(n), i);
		assert_false(rate_over(rt, n, 1000 + i / 100, 60, 600));
	}
	assert_int_equal(rate_size(rt, NULL), 5000);
	/* Windows began at 1000..1049: at 1620, those of 1000..1020 ended. */
	assert_int_equal(rate_expire(rt, 1620, 600), 2100);
	assert_int_equal(rate_size(rt, NULL), 2900);
	/* A sender still held keeps its count... */
	number(n, sizeof(n), 4999);
	for (i = 0; i < 59; i++)
		assert_false(rate_over(rt, n, 1621, 60, 600));
	assert_true(rate_over(rt, n, 1621, 60, 600));
	/* ...and a sender seen again after its window starts over. */
	assert_int_equal(rate_expire(rt, 1000 + 49 + 600, 600), 2900);
	assert_int_equal(rate_size(rt, NULL), 0);
	assert_false(rate_over(rt, n, 1700, 60, 600));
	assert_int_equal(rate_expire(rt, 1700, 600), 0);
	rate_free(rt);
}

/*
 * At the cap, a new sender evicts the one whose window began first;
 * a sender whose window restarted is young again. The table never
 * holds more than the cap, whatever the flood.
 */
static void
test_cap(void **state)
{
	struct rate	*rt = rate_new(1000);
	unsigned long	 ev;
	char		 n[32];
	int		 i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		number(n, sizeof(n), i);
		assert_false(rate_over(rt, n, 1000 + i, 1, 100000));
	}
	/* Sender 0 goes over its limit: its count is kept at the cap. */
	number(n, sizeof(n), 0);
	assert_true(rate_over(rt, n, 3000, 1, 100000));
	for (i = 1000; i < 50000; i++) {
		number(n, sizeof(n), i);
		assert_false(rate_over(rt, n, 3000 + i, 1, 100000));
		assert_true(rate_size(rt, NULL) <= 1000);
	}
	assert_int_equal(rate_size(rt, &ev), 1000);
	assert_int_equal(ev, 49000);
	/* The newest 1000 are held: each is over at its second message. */
	number(n, sizeof(n), 49999);
	assert_true(rate_over(rt, n, 60000, 1, 100000));
	number(n, sizeof(n), 49000);
	assert_true(rate_over(rt, n, 60000, 1, 100000));
	/* Sender 0 was evicted long ago: it starts again. */
	number(n, sizeof(n), 0);
	assert_false(rate_over(rt, n, 60000, 1, 100000));
	assert_int_equal(rate_size(rt, NULL), 1000);
	rate_free(rt);
}

/* A sender whose window restarts moves to the young end. */
static void
test_restart_order(void **state)
{
	struct rate	*rt = rate_new(2);

	(void)state;
	assert_false(rate_over(rt, "a", 100, 5, 10));
	assert_false(rate_over(rt, "b", 105, 5, 10));
	assert_false(rate_over(rt, "a", 111, 5, 10));	/* new window */
	/* c evicts b (window from 105), not a (from 111). */
	assert_false(rate_over(rt, "c", 112, 5, 10));
	assert_int_equal(rate_expire(rt, 120, 10), 0);
	assert_int_equal(rate_expire(rt, 121, 10), 1);	/* a */
	assert_int_equal(rate_size(rt, NULL), 1);
	assert_int_equal(rate_expire(rt, 122, 10), 1);	/* c */
	assert_null(rate_new(0));
	rate_free(rt);
	rate_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_restart_order),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
