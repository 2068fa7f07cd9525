/* Unit tests of lockout: 5 bad codes in 60 minutes lock for 60 minutes. */

#include "unit.h"
#include "tally.h"

static void
test_lock_after_five(void **state)
{
	struct lockout	*lk = lockout_new(NULL);
	uint64_t	 tps = 3201012001001ULL;
	time_t		 t = 1000000;
	int		 i;

	(void)state;
	assert_non_null(lk);
	for (i = 0; i < 4; i++) {
		assert_int_equal(lockout_fail(lk, "+62811", tps, t + i), 0);
		assert_false(lockout_locked(lk, "+62811", tps, t + i));
	}
	assert_int_equal(lockout_fail(lk, "+62811", tps, t + 4) &
	    LOCKOUT_FAIL_LOCKED, LOCKOUT_FAIL_LOCKED);
	assert_true(lockout_locked(lk, "+62811", tps, t + 5));
	/* Only that sender, only that TPS. */
	assert_false(lockout_locked(lk, "+62812", tps, t + 5));
	assert_false(lockout_locked(lk, "+62811", tps + 1, t + 5));
	/* For 60 minutes. */
	assert_true(lockout_locked(lk, "+62811", tps, t + 4 + 3599));
	assert_false(lockout_locked(lk, "+62811", tps, t + 4 + 3600));
	lockout_free(lk);
}

static void
test_window(void **state)
{
	struct lockout	*lk = lockout_new(NULL);
	uint64_t	 tps = 3201012001001ULL;
	time_t		 t = 1000000;
	int		 i;

	(void)state;
	/* Failures spread over more than an hour never lock. */
	for (i = 0; i < 20; i++)
		assert_int_equal(lockout_fail(lk, "+62811", tps,
		    t + i * 1000) & LOCKOUT_FAIL_LOCKED, 0);
	assert_false(lockout_locked(lk, "+62811", tps, t + 20 * 1000));
	lockout_expire(lk, t + 100000);
	lockout_free(lk);
}

static void
test_alert_and_conf(void **state)
{
	struct lockout_conf	 c = { 2, 60, 30, 3 };
	struct lockout		*lk = lockout_new(&c);
	uint64_t		 tps = 3201012001001ULL;
	int			 rc;

	(void)state;
	assert_int_equal(lockout_fail(lk, "a", tps, 100), 0);
	assert_int_equal(lockout_fail(lk, "b", tps, 101), 0);
	rc = lockout_fail(lk, "c", tps, 102);
	assert_true(rc & LOCKOUT_FAIL_ALERT);
	assert_false(rc & LOCKOUT_FAIL_LOCKED);
	rc = lockout_fail(lk, "a", tps, 103);
	assert_true(rc & LOCKOUT_FAIL_LOCKED);
	assert_false(rc & LOCKOUT_FAIL_ALERT);	/* raised once per crossing */
	assert_true(lockout_locked(lk, "a", tps, 132));
	assert_false(lockout_locked(lk, "a", tps, 133));
	/* No sender (e.g. USSD without caller id): counted for the TPS. */
	assert_false(lockout_locked(lk, "", tps, 104));
	assert_int_equal(lockout_fail(lk, NULL, tps, 104) &
	    LOCKOUT_FAIL_LOCKED, 0);
	lockout_expire(lk, 10000);
	assert_false(lockout_locked(lk, "a", tps, 10000));
	lockout_free(lk);
}

/* Numbered senders: "+62813" and seven digits. */
static void
sender(char *buf, size_t len, int i)
{
	snprintf(buf, len, "+62813%07d", i);
}

/*
 * A flood of bad codes from ever new numbers: the table never holds
 * more than LOCKOUT_ENTRIES; the pairs whose last failure is oldest go
 * first, a locked pair touched lately stays locked; the sweep forgets
 * what is out of the window and not locked.
 */
static void
test_cap(void **state)
{
	struct lockout	*lk = lockout_new(NULL);
	uint64_t	 tps = 3201012001001ULL;
	unsigned long	 ev;
	char		 s[32];
	int		 i;

	(void)state;
	assert_non_null(lk);
	/* "+62811" locked at t 10..14. */
	for (i = 0; i < 5; i++)
		lockout_fail(lk, "+62811", tps, 10 + i);
	assert_true(lockout_locked(lk, "+62811", tps, 15));
	/* One bad code from each of 3 * LOCKOUT_ENTRIES numbers, TPS apart. */
	for (i = 0; i < 3 * LOCKOUT_ENTRIES; i++) {
		sender(s, sizeof(s), i);
		lockout_fail(lk, s, tps + 1 + (uint64_t)(i % 7), 100 + i / 10);
		assert_true(lockout_size(lk, NULL) <= LOCKOUT_ENTRIES);
	}
	assert_int_equal(lockout_size(lk, &ev), LOCKOUT_ENTRIES);
	assert_true(ev >= 2 * LOCKOUT_ENTRIES);
	/* The oldest went: "+62811" starts again from no failure. */
	assert_false(lockout_locked(lk, "+62811", tps, 200));
	/* The newest are still counted: 4 more lock the last sender. */
	sender(s, sizeof(s), 3 * LOCKOUT_ENTRIES - 1);
	for (i = 0; i < 4; i++)
		lockout_fail(lk, s, tps + 1 + (uint64_t)((3 *
		    LOCKOUT_ENTRIES - 1) % 7), 3000);
	assert_true(lockout_locked(lk, s, tps + 1 + (uint64_t)((3 *
	    LOCKOUT_ENTRIES - 1) % 7), 3001));
	/* Within the hour only that pair and its TPS's count are left. */
	lockout_expire(lk, 3000 + 3599);
	assert_int_equal(lockout_size(lk, NULL), 2);
	lockout_expire(lk, 3000 + 3600);
	assert_int_equal(lockout_size(lk, NULL), 0);
	lockout_free(lk);
}

/*
 * A sender as long as a wire number may be (47 bytes) is locked out
 * like any other; one that differs from it in its last byte is not.
 * (Before the table was shared, a sender of 32 bytes or more was kept
 * cut to 31 and never found again: each failure took a new entry.)
 */
static void
test_long_sender(void **state)
{
	struct lockout	*lk = lockout_new(NULL);
	uint64_t	 tps = 3201012001001ULL;
	char		 s[48], o[48];
	int		 i;

	(void)state;
	memset(s, '7', sizeof(s) - 1);
	s[sizeof(s) - 1] = '\0';
	memcpy(o, s, sizeof(o));
	o[sizeof(o) - 2] = '8';
	for (i = 0; i < 5; i++)
		lockout_fail(lk, s, tps, 100 + i);
	assert_true(lockout_locked(lk, s, tps, 105));
	assert_false(lockout_locked(lk, o, tps, 105));
	/* One entry for the sender, one for the whole TPS. */
	assert_int_equal(lockout_size(lk, NULL), 2);
	lockout_free(lk);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_after_five),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_alert_and_conf),
		cmocka_unit_test(test_cap),
		cmocka_unit_test(test_long_sender),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
