/*
 * sms_deleted: what the main process does with a worker's answer to a
 * DELETE that named a message (docs/design.md, "SIM slots and
 * deletes"). A slot's row in sim_slots goes when the message it names
 * is deleted or gone, and stays when the slot's row is by now another
 * message's (its DELETE still to come) or the delete failed. No worker
 * runs; the store is a temporary file.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "daemon.h"

#define SENDER	"+6281234567890"
/* Two parts' identities as a DELETE names them: "TIME REF/PART #HASH". */
#define PART_A	"2024-02-14T03:00:05Z 7/1 #0a1b2c3d"
#define PART_B	"2024-02-14T03:00:09Z 8/1 #4e5f6071"

static struct gw	 sms_gw;
static struct modem	 sms_m1;
static char		 sms_dir[64], sms_path[128];

static int
setup(void **state)
{
	char	 err[512];

	(void)state;
	memset(&sms_gw, 0, sizeof(sms_gw));
	memset(&sms_m1, 0, sizeof(sms_m1));
	snprintf(sms_m1.conf.name, sizeof(sms_m1.conf.name), "m1");
	snprintf(sms_dir, sizeof(sms_dir), "/tmp/test_sms.XXXXXX");
	if (mkdtemp(sms_dir) == NULL)
		return (-1);
	snprintf(sms_path, sizeof(sms_path), "%s/tallygw.db", sms_dir);
	if ((sms_gw.store = store_open(sms_path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		rmdir(sms_dir);
		return (-1);
	}
	gw = &sms_gw;
	return (0);
}

static int
teardown(void **state)
{
	const char	*sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 p[160];
	size_t		 i;

	(void)state;
	store_close(sms_gw.store);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", sms_path, sfx[i]);
		unlink(p);
	}
	return (rmdir(sms_dir));
}

/* A committed message whose part is in slot 4 of m1, by its identity. */
static void
slot_add(const char *ident)
{
	struct store_msg	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.modem, sizeof(m.modem), "m1");
	snprintf(m.sender, sizeof(m.sender), SENDER);
	snprintf(m.smsc_time, sizeof(m.smsc_time), "2024-02-14T03:00:00Z");
	snprintf(m.received_at, sizeof(m.received_at),
	    "2024-02-14T03:00:10Z");
	snprintf(m.raw, sizeof(m.raw), "PPWP 1");
	m.parts = 2;
	m.kind = MSG_REPORT;
	m.report.page = -1;
	assert_int_equal(store_msg_add(sms_gw.store, &m), 0);
	assert_int_equal(store_slot_add(sms_gw.store, "m1", 4, m.id, ident),
	    0);
}

/* 1 if slot 4 of m1 still has a row, and then its identity in held. */
static int
slot_held(char *held, size_t len)
{
	char	 sender[WIRE_NUMBER_MAX];
	int64_t	 id;
	int	 multi;

	return (store_slot_get(sms_gw.store, "m1", 4, &id, sender,
	    sizeof(sender), held, len, &multi));
}

/* Deleted, or gone: the row of the message named goes. */
static void
test_named_goes(void **state)
{
	char	 held[WIRE_IDENT_MAX];

	(void)state;
	slot_add(PART_A);
	sms_deleted(&sms_m1, 4, 0, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 0);
	slot_add(PART_A);
	sms_deleted(&sms_m1, 4, WIRE_CODE_CHANGED, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 0);
}

/*
 * The defect of 7 December 2026, seen from the main process: a late
 * DELETE of the slot's earlier part (A) answers "another message"
 * while the row is already the next part's (B): B's row stays, so a
 * sweep that reads B again only deletes it, never handles it twice.
 */
static void
test_other_stays(void **state)
{
	char	 held[WIRE_IDENT_MAX];

	(void)state;
	slot_add(PART_B);
	sms_deleted(&sms_m1, 4, WIRE_CODE_CHANGED, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 1);
	assert_string_equal(held, PART_B);
	sms_deleted(&sms_m1, 4, 0, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 1);
	/* B's own DELETE. */
	sms_deleted(&sms_m1, 4, 0, PART_B);
	assert_int_equal(slot_held(held, sizeof(held)), 0);
}

/* A failed delete keeps the row for the next sweep; no identity, any. */
static void
test_failed_and_unnamed(void **state)
{
	char	 held[WIRE_IDENT_MAX];

	(void)state;
	slot_add(PART_A);
	sms_deleted(&sms_m1, 4, WIRE_CODE_NOTREADY, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 1);
	sms_deleted(&sms_m1, 4, 500, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 1);
	sms_deleted(&sms_m1, 4, 0, "");
	assert_int_equal(slot_held(held, sizeof(held)), 0);
}

/* A row kept before the text was in the identity matches by the rest. */
static void
test_older_row(void **state)
{
	char	 held[WIRE_IDENT_MAX];

	(void)state;
	slot_add("2024-02-14T03:00:05Z 7/1");
	sms_deleted(&sms_m1, 4, WIRE_CODE_CHANGED, PART_B);
	assert_int_equal(slot_held(held, sizeof(held)), 1);
	sms_deleted(&sms_m1, 4, 0, PART_A);
	assert_int_equal(slot_held(held, sizeof(held)), 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test_setup_teardown(test_named_goes, setup, teardown),
	cmocka_unit_test_setup_teardown(test_other_stays, setup, teardown),
	cmocka_unit_test_setup_teardown(test_failed_and_unnamed, setup,
	    teardown),
	cmocka_unit_test_setup_teardown(test_older_row, setup, teardown),
};

UNIT_MAIN(tests)
