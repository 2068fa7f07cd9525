/*
 * bank_pick: which modem a reply goes out of; bank_elsewhere: whether a
 * retry may wait for another. The bank is a list of modems in the
 * loop's state (gw), set by hand: no worker runs, no store is needed
 * (no modem has a send cap).
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "daemon.h"

#define NMODEMS	4

static struct gw	 bank_gw;
static struct modem	 mods[NMODEMS];

/* m0 and m1 receive only; m2 and m3 send too; all ready and idle. */
static int
setup(void **state)
{
	int	 i;

	(void)state;
	memset(&bank_gw, 0, sizeof(bank_gw));
	memset(mods, 0, sizeof(mods));
	TAILQ_INIT(&bank_gw.modems);
	gw = &bank_gw;
	for (i = 0; i < NMODEMS; i++) {
		snprintf(mods[i].conf.name, sizeof(mods[i].conf.name), "m%d",
		    i);
		snprintf(mods[i].conf.oper, sizeof(mods[i].conf.oper), "%s",
		    i % 2 == 0 ? "Telkomsel" : "Indosat");
		mods[i].conf.enabled = 1;
		mods[i].conf.role = i < 2 ? MODEM_ROLE_RECEIVE :
		    MODEM_ROLE_BOTH;
		mods[i].state = BANK_RUNNING;
		mods[i].wstate = MODEM_READY;
		TAILQ_INSERT_TAIL(&bank_gw.modems, &mods[i], entry);
	}
	return (0);
}

static const char *
picked(const char *prefer, const char *oper)
{
	struct modem	*m = bank_pick(prefer, oper);

	return (m != NULL ? m->conf.name : "none");
}

/* Both roles, everything free: the usual order among senders. */
static void
test_pick_mixed(void **state)
{
	(void)state;
	mods[0].conf.role = mods[1].conf.role = MODEM_ROLE_BOTH;
	/* The modem it came in on, then the same operator, then least. */
	assert_string_equal(picked("m1", NULL), "m1");
	assert_string_equal(picked("m9", "Indosat"), "m1");
	mods[0].sent = 5;
	mods[1].sent = 3;
	mods[2].sent = 4;
	mods[3].sent = 2;
	assert_string_equal(picked(NULL, NULL), "m3");
}

/* A report that came in on a receive-only modem goes out of a sender. */
static void
test_pick_receive(void **state)
{
	(void)state;
	/* Its own modem is receive-only: a sender of the same operator. */
	assert_string_equal(picked("m1", "Indosat"), "m3");
	assert_string_equal(picked("m0", "Telkomsel"), "m2");
	/* Senders that sent more are still chosen over idle receivers. */
	mods[2].sent = 100;
	mods[3].sent = 90;
	assert_string_equal(picked(NULL, NULL), "m3");
	/* Both senders busy (sending, resting or at the sweep): nobody. */
	mods[2].out_id = 7;
	mods[3].out_id = 8;
	mods[3].wstate = MODEM_SENDING;
	assert_string_equal(picked("m0", "Telkomsel"), "none");
	mods[2].out_id = 0;
	mods[2].wstate = MODEM_SWEEPING;
	assert_string_equal(picked(NULL, NULL), "none");
	mods[2].wstate = MODEM_READY;
	mods[2].send_hold = time(NULL) + 60;
	mods[3].out_id = 0;
	mods[3].wstate = MODEM_READY;
	assert_string_equal(picked(NULL, NULL), "m3");
}

/* No sender can send: the receive-only modems send, nothing waits. */
static void
test_pick_fallback(void **state)
{
	(void)state;
	/* m2 unplugged (its worker in backoff), m3's worker gone. */
	mods[2].wstate = MODEM_BACKOFF;
	mods[3].state = BANK_WAIT;
	assert_string_equal(picked("m1", "Indosat"), "m1");
	mods[1].out_id = 3;
	assert_string_equal(picked("m1", "Indosat"), "m0");
	/* A sender resting after refusals, or disabled, or removed. */
	mods[3].state = BANK_RUNNING;
	mods[3].send_hold = time(NULL) + 60;
	assert_string_equal(picked(NULL, NULL), "m0");
	mods[3].send_hold = 0;
	mods[3].conf.enabled = 0;
	assert_string_equal(picked(NULL, NULL), "m0");
	mods[3].conf.enabled = 1;
	mods[3].removed = 1;
	assert_string_equal(picked(NULL, NULL), "m0");
	/* One sender back: the receive-only modems read only again. */
	mods[3].removed = 0;
	assert_string_equal(picked("m1", "Indosat"), "m3");
	assert_string_equal(picked("m0", NULL), "m3");
	/* ... also while it sends: a reply waits for it. */
	mods[3].out_id = 9;
	mods[3].wstate = MODEM_SENDING;
	assert_string_equal(picked("m0", NULL), "none");
}

/* Every modem receive-only: they send, as the only ones there are. */
static void
test_pick_all_receive(void **state)
{
	(void)state;
	mods[2].conf.role = mods[3].conf.role = MODEM_ROLE_RECEIVE;
	assert_string_equal(picked("m3", NULL), "m3");
	mods[0].sent = 1;
	mods[2].sent = 1;
	mods[3].sent = 1;
	assert_string_equal(picked(NULL, NULL), "m1");
}

/* A retry that failed on m waits for another modem bank_pick can give. */
static void
test_elsewhere(void **state)
{
	time_t	 now = time(NULL);

	(void)state;
	/* m3 may send, busy or not: a send m2 refused can wait for it. */
	mods[3].out_id = 4;
	assert_true(bank_elsewhere(&mods[2], now));
	/* Only receive-only modems besides m2: they would never get it. */
	mods[3].state = BANK_WAIT;
	assert_false(bank_elsewhere(&mods[2], now));
	/* Failed on a receive-only modem (no sender up): the other counts. */
	mods[2].state = BANK_WAIT;
	assert_true(bank_elsewhere(&mods[0], now));
	mods[1].conf.enabled = 0;
	assert_false(bank_elsewhere(&mods[0], now));
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup(test_pick_mixed, setup),
	cmocka_unit_test_setup(test_pick_receive, setup),
	cmocka_unit_test_setup(test_pick_fallback, setup),
	cmocka_unit_test_setup(test_pick_all_receive, setup),
	cmocka_unit_test_setup(test_elsewhere, setup),
};

UNIT_MAIN(tests)
