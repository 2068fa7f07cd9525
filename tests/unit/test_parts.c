/* Unit tests of parts: reassembly of long SMS, expiry, bounds. */

#include "unit.h"
#include "gw.h"
#include "log.h"

static struct wire_msg
sms(const char *from, int ref, int part, int total, int loc,
    const char *text)
{
	struct wire_msg	 m;

	memset(&m, 0, sizeof(m));
	m.type = WIRE_SMS;
	m.ref = ref;
	m.part = part;
	m.total = total;
	m.location = loc;
	m.flags = loc != 0 ? WIRE_F_STORED : 0;
	snprintf(m.number, sizeof(m.number), "%s", from);
	snprintf(m.time, sizeof(m.time), "2024-02-14T10:0%d:00Z", part % 10);
	snprintf(m.text, sizeof(m.text), "%s", text);
	return (m);
}

static int
has_location(const struct parts_done *d, int loc)
{
	int	 i;

	for (i = 0; i < d->nlocations; i++)
		if (d->locations[i] == loc)
			return (1);
	return (0);
}

static void
test_single(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;

	(void)state;
	assert_non_null(p);
	m = sms("+62811", 0, 0, 0, 7, "PPWP 1 3201012001001");
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 1);
	assert_string_equal(d.text, "PPWP 1 3201012001001");
	assert_string_equal(d.modem, "m1");
	assert_string_equal(d.sender, "+62811");
	assert_string_equal(d.smsc_time, m.time);
	assert_int_equal(d.nparts, 1);
	assert_int_equal(d.total, 1);
	assert_int_equal(d.nlocations, 1);
	assert_int_equal(d.locations[0], 7);
	/* FNV-1a of the text, computed by hand. */
	assert_string_equal(d.ids[0], "2024-02-14T10:00:00Z #1199a9be");
	assert_int_equal(d.first_seen, 1000);
	assert_int_equal(parts_pending(p), 0);

	/* total 1 with a reference is still single; not on the SIM. */
	m = sms("+62811", 9, 1, 1, 0, "CEK");
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 1);
	assert_string_equal(d.text, "CEK");
	assert_int_equal(d.nlocations, 0);
	/* A location without WIRE_F_STORED is not to be deleted. */
	m = sms("+62811", 0, 1, 1, 5, "X");
	m.flags = 0;
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 1);
	assert_int_equal(d.nlocations, 0);
	assert_int_equal(parts_pending(p), 0);
	parts_free(p);
}

/* Each SIM slot of a long SMS carries its own part's identity. */
static void
test_slot_ids(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;
	int			 i;

	(void)state;
	assert_non_null(p);
	m = sms("+62811", 42, 2, 2, 9, "world");
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 0);
	m = sms("+62811", 42, 1, 2, 3, "hello ");
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 1);
	assert_int_equal(d.nlocations, 2);
	for (i = 0; i < 2; i++) {
		if (d.locations[i] == 9)
			assert_string_equal(d.ids[i],
			    "2024-02-14T10:02:00Z 42/2 #37a3e893");
		else
			assert_string_equal(d.ids[i],
			    "2024-02-14T10:01:00Z 42/1 #e2931ed1");
	}
	parts_free(p);
}

/*
 * Two SMS of one officer within one second (the SMSC time has whole
 * seconds) are told apart by their text; the same SMS read again is
 * the same; an identity stored without the text (by an older
 * tallygw) still matches its part by time alone.
 */
static void
test_slot_same(void **state)
{
	struct wire_msg	 a, b;
	char		 ia[WIRE_IDENT_MAX], ib[WIRE_IDENT_MAX], again[WIRE_IDENT_MAX];

	(void)state;
	a = sms("+62811", 0, 0, 0, 7, "PPWP 1 3201012001001");
	b = sms("+62811", 0, 0, 0, 7, "PPWP 1 3201012001002");
	assert_string_equal(a.time, b.time);
	wire_ident(&a, ia, sizeof(ia));
	wire_ident(&b, ib, sizeof(ib));
	assert_string_equal(ib, "2024-02-14T10:00:00Z #1099a82b");
	assert_false(wire_ident_same(ia, ib));
	wire_ident(&a, again, sizeof(again));
	assert_true(wire_ident_same(ia, again));
	/* Stored before the text was in it. */
	assert_true(wire_ident_same("2024-02-14T10:00:00Z", ib));
	assert_false(wire_ident_same("2024-02-14T10:00:01Z", ib));
	assert_false(wire_ident_same("2024-02-14T10:00:0", ib));
	assert_false(wire_ident_same("2024-02-14T10:00:00Z #1199a9be", ib));
	/* Long SMS: reference and part still count. */
	a = sms("+62811", 42, 1, 2, 3, "hello ");
	b = sms("+62811", 43, 1, 2, 3, "hello ");
	wire_ident(&a, ia, sizeof(ia));
	wire_ident(&b, ib, sizeof(ib));
	assert_false(wire_ident_same(ia, ib));
	assert_true(wire_ident_same("2024-02-14T10:01:00Z 42/1", ia));
}

static void
test_in_and_out_of_order(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;

	(void)state;
	m = sms("+62811", 42, 1, 3, 1, "aaa ");
	assert_int_equal(parts_add(p, "m1", &m, 100, &d), 0);
	m = sms("+62811", 42, 2, 3, 2, "bbb ");
	assert_int_equal(parts_add(p, "m1", &m, 101, &d), 0);
	assert_int_equal(parts_pending(p), 1);
	/* More of +62811 is on its way; nothing of +62822. */
	assert_true(parts_from(p, "+62811"));
	assert_false(parts_from(p, "+62822"));
	m = sms("+62811", 42, 3, 3, 3, "ccc");
	assert_int_equal(parts_add(p, "m1", &m, 102, &d), 1);
	assert_false(parts_from(p, "+62811"));
	assert_string_equal(d.text, "aaa bbb ccc");
	assert_int_equal(d.nparts, 3);
	assert_int_equal(d.total, 3);
	assert_int_equal(d.nlocations, 3);
	assert_true(has_location(&d, 1) && has_location(&d, 2) &&
	    has_location(&d, 3));
	assert_string_equal(d.smsc_time, "2024-02-14T10:01:00Z");
	assert_int_equal(d.first_seen, 100);
	assert_int_equal(parts_pending(p), 0);

	/* Backwards: joined in part order, time of part 1. */
	m = sms("+62811", 43, 3, 3, 13, "3");
	assert_int_equal(parts_add(p, "m1", &m, 200, &d), 0);
	m = sms("+62811", 43, 2, 3, 12, "2");
	assert_int_equal(parts_add(p, "m1", &m, 201, &d), 0);
	m = sms("+62811", 43, 1, 3, 0, "1");
	assert_int_equal(parts_add(p, "m1", &m, 202, &d), 1);
	assert_string_equal(d.text, "123");
	assert_string_equal(d.smsc_time, "2024-02-14T10:01:00Z");
	assert_int_equal(d.first_seen, 200);
	assert_int_equal(d.nlocations, 2);
	assert_true(has_location(&d, 12) && has_location(&d, 13));
	parts_free(p);
}

/* Same ref from another sender, modem or total is another message. */
static void
test_keys(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;

	(void)state;
	m = sms("+62811", 7, 1, 2, 0, "A1");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	m = sms("+62812", 7, 1, 2, 0, "B1");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	m = sms("+62811", 7, 1, 2, 0, "C1");
	assert_int_equal(parts_add(p, "m2", &m, 1, &d), 0);
	m = sms("+62811", 7, 1, 3, 0, "D1");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	m = sms("+62811", 8, 1, 2, 0, "E1");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	assert_int_equal(parts_pending(p), 5);

	m = sms("+62812", 7, 2, 2, 0, "B2");
	assert_int_equal(parts_add(p, "m1", &m, 2, &d), 1);
	assert_string_equal(d.text, "B1B2");
	assert_string_equal(d.sender, "+62812");
	m = sms("+62811", 7, 2, 2, 0, "C2");
	assert_int_equal(parts_add(p, "m2", &m, 2, &d), 1);
	assert_string_equal(d.text, "C1C2");
	assert_string_equal(d.modem, "m2");
	m = sms("+62811", 7, 2, 2, 0, "A2");
	assert_int_equal(parts_add(p, "m1", &m, 2, &d), 1);
	assert_string_equal(d.text, "A1A2");
	assert_string_equal(d.modem, "m1");
	assert_int_equal(parts_pending(p), 2);
	parts_free(p);
}

static void
test_duplicates(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;

	(void)state;
	m = sms("+62811", 5, 1, 2, 10, "first ");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	/* Read again in the next sweep: same slot, ignored. */
	assert_int_equal(parts_add(p, "m1", &m, 61, &d), 0);
	/* A second copy in another slot: its text is ignored, its slot
	 * is remembered for deletion. */
	m = sms("+62811", 5, 1, 2, 11, "FIRST ");
	assert_int_equal(parts_add(p, "m1", &m, 62, &d), 0);
	assert_int_equal(parts_pending(p), 1);
	m = sms("+62811", 5, 2, 2, 12, "second");
	assert_int_equal(parts_add(p, "m1", &m, 63, &d), 1);
	assert_string_equal(d.text, "first second");
	assert_int_equal(d.nparts, 2);
	assert_int_equal(d.nlocations, 3);
	assert_true(has_location(&d, 10) && has_location(&d, 11) &&
	    has_location(&d, 12));
	parts_free(p);
}

static void
test_expire(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;

	(void)state;
	m = sms("+62811", 1, 1, 4, 21, "one ");
	assert_int_equal(parts_add(p, "m1", &m, 1000, &d), 0);
	m = sms("+62811", 1, 3, 4, 23, "three");
	assert_int_equal(parts_add(p, "m1", &m, 1010, &d), 0);
	m = sms("+62899", 2, 2, 2, 0, "later");
	assert_int_equal(parts_add(p, "m1", &m, 1100, &d), 0);
	assert_int_equal(parts_pending(p), 2);

	assert_int_equal(parts_expire(p, 1299, 300, &d), 0);
	assert_int_equal(parts_pending(p), 2);
	memset(&d, 0, sizeof(d));
	assert_int_equal(parts_expire(p, 1300, 300, &d), 1);
	assert_string_equal(d.text, "one three");
	assert_string_equal(d.sender, "+62811");
	assert_int_equal(d.nparts, 2);
	assert_int_equal(d.total, 4);
	assert_int_equal(d.nlocations, 2);
	assert_true(has_location(&d, 21) && has_location(&d, 23));
	assert_int_equal(d.first_seen, 1000);
	assert_string_equal(d.smsc_time, "2024-02-14T10:01:00Z");
	assert_int_equal(parts_expire(p, 1300, 300, &d), 0);
	assert_int_equal(parts_pending(p), 1);

	/* Without part 1, the time of the lowest part that came. */
	assert_int_equal(parts_expire(p, 1400, 300, &d), 1);
	assert_string_equal(d.text, "later");
	assert_string_equal(d.smsc_time, "2024-02-14T10:02:00Z");
	assert_int_equal(d.nparts, 1);
	assert_int_equal(d.total, 2);
	assert_int_equal(d.nlocations, 0);
	assert_int_equal(parts_expire(p, 99999, 0, &d), 0);
	assert_int_equal(parts_pending(p), 0);

	/* A part that comes after its message expired starts afresh. */
	m = sms("+62811", 1, 2, 4, 22, "two ");
	assert_int_equal(parts_add(p, "m1", &m, 2000, &d), 0);
	assert_int_equal(parts_pending(p), 1);
	parts_free(p);
}

/* Parts that cannot be reassembled go on alone, at once. */
static void
test_invalid(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;
	static const int	 bad[][2] = {
		{ 0, 3 }, { -1, 3 }, { 4, 3 }, { 1, 17 }, { 17, 17 },
		{ 1, 1000 }, { 3, -2 },
	};
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = sms("+62811", 3, bad[i][0], bad[i][1], 30 + i, "odd");
		assert_int_equal(parts_add(p, "m1", &m, 1, &d), 1);
		assert_string_equal(d.text, "odd");
		assert_int_equal(d.nparts, 1);
		assert_int_equal(d.total, bad[i][1] > 1 ? bad[i][1] : 1);
		assert_int_equal(d.nlocations, 1);
		assert_int_equal(d.locations[0], 30 + i);
	}
	assert_int_equal(parts_pending(p), 0);

	/* 16 parts is the most reassembled. */
	for (i = 16; i >= 2; i--) {
		m = sms("+62811", 4, i, 16, 0, "x");
		assert_int_equal(parts_add(p, "m1", &m, 1, &d), 0);
	}
	m = sms("+62811", 4, 1, 16, 0, "y");
	assert_int_equal(parts_add(p, "m1", &m, 1, &d), 1);
	assert_string_equal(d.text, "yxxxxxxxxxxxxxxx");
	assert_int_equal(d.nparts, 16);
	/* NULL arguments. */
	assert_int_equal(parts_add(NULL, "m1", &m, 1, &d), -1);
	assert_int_equal(parts_add(p, "m1", NULL, 1, &d), -1);
	m = sms("+62811", 4, 1, 1, 0, "z");
	assert_int_equal(parts_add(p, NULL, &m, 1, &d), 1);
	assert_string_equal(d.modem, "");
	assert_int_equal(parts_expire(NULL, 1, 1, &d), 0);
	assert_int_equal(parts_pending(NULL), 0);
	parts_free(NULL);
	parts_free(p);
}

/* The join is cut at GW_RAW_MAX - 1 bytes, never inside a character. */
static void
test_long_text(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;
	char			 t[WIRE_TEXT_MAX];
	int			 i;
	size_t			 n;

	(void)state;
	/* 1022 bytes: 511 two-byte characters. */
	for (i = 0; i + 1 < (int)sizeof(t) - 1; i += 2) {
		t[i] = (char)0xc3;
		t[i + 1] = (char)0xa9;
	}
	t[i] = '\0';
	assert_int_equal(strlen(t), 1022);
	for (i = 1; i <= 5; i++) {
		m = sms("+62811", 6, i, 5, 0, t);
		assert_int_equal(parts_add(p, "m1", &m, 1, &d),
		    i == 5 ? 1 : 0);
	}
	/* 4 x 1022 = 4088; 7 bytes fit, the 7th would split a character. */
	n = strlen(d.text);
	assert_int_equal(n, 4094);
	assert_int_equal((unsigned char)d.text[n - 1], 0xa9);
	assert_int_equal(d.nparts, 5);
	parts_free(p);
}

/* A full table sends its oldest entry out through parts_expire. */
static void
test_bound(void **state)
{
	struct parts		*p = parts_new();
	struct parts_done	 d;
	struct wire_msg		 m;
	char			 from[32];
	int			 i, n;

	(void)state;
	for (i = 0; i < 4096; i++) {
		snprintf(from, sizeof(from), "+628%08d", i);
		m = sms(from, i & 0xff, 1, 2, 0, "p1");
		assert_int_equal(parts_add(p, "m1", &m, 1000 + i, &d), 0);
	}
	assert_int_equal(parts_pending(p), 4096);
	assert_int_equal(parts_expire(p, 1000, 300, &d), 0);
	m = sms("+62899", 1, 1, 2, 0, "new");
	assert_int_equal(parts_add(p, "m1", &m, 6000, &d), 0);
	/* The oldest is due at once, whatever the timeout. */
	assert_int_equal(parts_expire(p, 6000, 1000000, &d), 1);
	assert_string_equal(d.sender, "+62800000000");
	assert_int_equal(d.nparts, 1);
	assert_int_equal(d.total, 2);
	assert_int_equal(parts_expire(p, 6000, 1000000, &d), 0);
	assert_int_equal(parts_pending(p), 4096);
	/* The new one is held and completes. */
	m = sms("+62899", 1, 2, 2, 0, "est");
	assert_int_equal(parts_add(p, "m1", &m, 6001, &d), 1);
	assert_string_equal(d.text, "newest");

	/* A caller that never collects: the table stops growing. */
	for (i = 0; i < 10000; i++) {
		snprintf(from, sizeof(from), "+629%08d", i);
		m = sms(from, 1, 1, 2, 0, "q");
		if (parts_add(p, "m1", &m, 7000, &d) == 1)
			assert_int_equal(d.total, 2);
	}
	assert_true(parts_pending(p) <= 4096 + 4096 / 16);
	for (n = 0; parts_expire(p, 7000, 1000000, &d) == 1; n++)
		assert_true(d.nparts < d.total);
	assert_int_equal(n, 4096 / 16);
	assert_int_equal(parts_pending(p), 4096);
	for (n = 0; parts_expire(p, 7300, 300, &d) == 1; n++)
		;
	assert_int_equal(n, 4096);
	assert_int_equal(parts_pending(p), 0);
	parts_free(p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single),
		cmocka_unit_test(test_slot_ids),
		cmocka_unit_test(test_slot_same),
		cmocka_unit_test(test_in_and_out_of_order),
		cmocka_unit_test(test_keys),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_long_text),
		cmocka_unit_test(test_bound),
	};

	log_setverbose(-1);	/* the warnings are expected */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
