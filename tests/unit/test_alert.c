/*
 * Unit tests of alert.c's pure parts: when each alert's condition
 * holds (its threshold, on both sides), the state machine and its hold
 * time, the operators' SMS and the hook's environment.
 */

#include "unit.h"
#include "gw.h"

/* A configuration with round thresholds (not the defaults). */
static void
conf_init(struct conf_alerts *c)
{
	memset(c, 0, sizeof(*c));
	c->limit[ALERT_MODEM_DOWN] = 60;
	c->limit[ALERT_SIM_FULL] = 50;
	c->limit[ALERT_BALANCE_LOW] = 5000;
	c->limit[ALERT_CAP_NEAR] = 60;
	c->limit[ALERT_MODEM_SILENT] = 600;
	c->limit[ALERT_CENTRAL_DOWN] = 120;
	c->limit[ALERT_FORWARD_FAILED] = 1;
	c->limit[ALERT_LOCKOUT_STORM] = 4;
	c->limit[ALERT_DISK_LOW] = 1024;
}

/* Two working modems, quiet, with room, credit, under their caps. */
static void
modems_init(struct alert_modem *m, time_t now)
{
	int	 i;

	memset(m, 0, 2 * sizeof(*m));
	for (i = 0; i < 2; i++) {
		snprintf(m[i].name, sizeof(m[i].name), "m%d", i);
		m[i].watched = m[i].working = 1;
		snprintf(m[i].state, sizeof(m[i].state), "running/ready");
		m[i].sim_total = 30;
		m[i].balance = 20000;
		m[i].cap = 3;
		m[i].last_rx = now - 10;
		m[i].working_since = now - 3600;
	}
}

static int
holds(enum alert_kind k, const struct alert_input *in, size_t i, char *text)
{
	return (alert_holds(k, in, i, text, GW_DETAIL_MAX));
}

static void
test_scope_hold(void **state)
{
	struct conf_alerts	 c;

	(void)state;
	conf_init(&c);
	assert_int_equal(alert_scope(ALERT_MODEM_DOWN), ALERT_SCOPE_MODEM);
	assert_int_equal(alert_scope(ALERT_MODEM_SILENT), ALERT_SCOPE_MODEM);
	assert_int_equal(alert_scope(ALERT_CENTRAL_DOWN), ALERT_SCOPE_CENTRAL);
	assert_int_equal(alert_scope(ALERT_FORWARD_FAILED),
	    ALERT_SCOPE_CENTRAL);
	assert_int_equal(alert_scope(ALERT_LOCKOUT_STORM),
	    ALERT_SCOPE_GATEWAY);
	assert_int_equal(alert_scope(ALERT_DISK_LOW), ALERT_SCOPE_GATEWAY);
	/* a down modem and a down central wait their threshold */
	assert_int_equal(alert_hold(ALERT_MODEM_DOWN, &c), 60);
	assert_int_equal(alert_hold(ALERT_CENTRAL_DOWN, &c), 120);
	assert_int_equal(alert_hold(ALERT_SIM_FULL, &c), 0);
	assert_int_equal(alert_hold(ALERT_DISK_LOW, &c), 0);
}

/* The state machine: pending for its hold time, raised, cleared. */
static void
test_next(void **state)
{
	(void)state;
	assert_int_equal(alert_next(ALERT_OK, 0, 0, 100, 60), ALERT_OK);
	assert_int_equal(alert_next(ALERT_OK, 1, 0, 100, 60), ALERT_PENDING);
	assert_int_equal(alert_next(ALERT_PENDING, 1, 100, 159, 60),
	    ALERT_PENDING);
	assert_int_equal(alert_next(ALERT_PENDING, 1, 100, 160, 60),
	    ALERT_RAISED);
	/* over before its hold time: never raised */
	assert_int_equal(alert_next(ALERT_PENDING, 0, 100, 130, 60),
	    ALERT_OK);
	/* no hold: pending, then raised in the same evaluation */
	assert_int_equal(alert_next(ALERT_PENDING, 1, 100, 100, 0),
	    ALERT_RAISED);
	assert_int_equal(alert_next(ALERT_RAISED, 1, 100, 500, 60),
	    ALERT_RAISED);
	assert_int_equal(alert_next(ALERT_RAISED, 0, 100, 500, 60),
	    ALERT_CLEARED);
	assert_int_equal(alert_next(ALERT_CLEARED, 0, 100, 600, 60),
	    ALERT_CLEARED);
	assert_int_equal(alert_next(ALERT_CLEARED, 1, 100, 600, 60),
	    ALERT_PENDING);
	assert_string_equal(alert_state_name(ALERT_OK), "ok");
	assert_string_equal(alert_state_name(ALERT_PENDING), "pending");
	assert_string_equal(alert_state_name(ALERT_RAISED), "raised");
	assert_string_equal(alert_state_name(ALERT_CLEARED), "cleared");
}

static void
test_modems(void **state)
{
	struct conf_alerts	 c;
	struct alert_modem	 m[2];
	struct alert_input	 in;
	char			 text[GW_DETAIL_MAX];
	int			 k;

	(void)state;
	conf_init(&c);
	memset(&in, 0, sizeof(in));
	in.conf = &c;
	in.now = 100000;
	in.modems = m;
	in.nmodems = 2;
	modems_init(m, in.now);
	for (k = 0; k < ALERT_KINDS; k++)
		if (alert_scope(k) == ALERT_SCOPE_MODEM)
			assert_false(holds(k, &in, 0, text));

	/* down */
	m[0].working = 0;
	snprintf(m[0].state, sizeof(m[0].state), "restart-wait/broken");
	snprintf(m[0].error, sizeof(m[0].error), "worker closed its socket");
	assert_true(holds(ALERT_MODEM_DOWN, &in, 0, text));
	assert_string_equal(text, "worker restart-wait/broken: worker "
	    "closed its socket");
	/* ... but disabled by the operator is no alert */
	m[0].watched = 0;
	assert_false(holds(ALERT_MODEM_DOWN, &in, 0, text));
	modems_init(m, in.now);

	/* SIM storage: 15 of 30 is 50% */
	m[1].sim_used = 14;
	assert_false(holds(ALERT_SIM_FULL, &in, 1, text));
	m[1].sim_used = 15;
	assert_true(holds(ALERT_SIM_FULL, &in, 1, text));
	assert_string_equal(text, "SIM storage 15/30 (50%), threshold 50%");
	m[1].sim_total = 0;		/* not known yet */
	assert_false(holds(ALERT_SIM_FULL, &in, 1, text));

	/* balance: below, not at; unknown is no alert */
	m[0].balance = 5000;
	assert_false(holds(ALERT_BALANCE_LOW, &in, 0, text));
	m[0].balance = 4999;
	assert_true(holds(ALERT_BALANCE_LOW, &in, 0, text));
	assert_string_equal(text, "airtime balance Rp4999, below Rp5000");
	m[0].balance = -1;
	assert_false(holds(ALERT_BALANCE_LOW, &in, 0, text));

	/* cap: 2 of 3 is 66% >= 60%; 1 of 3 is not; no cap, none */
	m[0].sent_today = 1;
	assert_false(holds(ALERT_CAP_NEAR, &in, 0, text));
	m[0].sent_today = 2;
	assert_true(holds(ALERT_CAP_NEAR, &in, 0, text));
	assert_string_equal(text, "sent 2 of its daily cap of 3 SMS (66%), "
	    "threshold 60%");
	m[0].cap = 0;
	m[0].sent_today = 5000;
	assert_false(holds(ALERT_CAP_NEAR, &in, 0, text));

	/* a threshold of 0 turns an alert off */
	m[1].balance = 1;
	c.limit[ALERT_BALANCE_LOW] = 0;
	assert_false(holds(ALERT_BALANCE_LOW, &in, 1, text));
}

/* Silent: nothing in for the threshold while another modem receives. */
static void
test_silent(void **state)
{
	struct conf_alerts	 c;
	struct alert_modem	 m[2];
	struct alert_input	 in;
	char			 text[GW_DETAIL_MAX];

	(void)state;
	conf_init(&c);
	memset(&in, 0, sizeof(in));
	in.conf = &c;
	in.now = 100000;
	in.modems = m;
	in.nmodems = 2;
	modems_init(m, in.now);
	m[1].last_rx = in.now - 599;
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
	m[1].last_rx = in.now - 600;
	assert_true(holds(ALERT_MODEM_SILENT, &in, 1, text));
	assert_string_equal(text, "no SMS received for 600 s while other "
	    "modems receive");
	/* never received: counted from when it began working */
	m[1].last_rx = 0;
	m[1].working_since = in.now - 700;
	assert_true(holds(ALERT_MODEM_SILENT, &in, 1, text));
	assert_string_equal(text, "no SMS received for 700 s while other "
	    "modems receive");
	m[1].working_since = in.now - 30;	/* back from a restart */
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
	m[1].working_since = in.now - 3600;
	/* a sender of a split bank: officers write to the others */
	m[1].quiet_ok = 1;
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
	m[1].quiet_ok = 0;
	assert_true(holds(ALERT_MODEM_SILENT, &in, 1, text));
	/* the others are quiet too: the night is, not this modem */
	m[0].last_rx = in.now - 600;
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
	/* the other one receives but is down now: not counted */
	m[0].last_rx = in.now - 5;
	m[0].working = 0;
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
	/* a modem that is down is modem_down's, not silent */
	m[0].working = 1;
	m[1].working = 0;
	assert_false(holds(ALERT_MODEM_SILENT, &in, 1, text));
}

static void
test_centrals_gateway(void **state)
{
	struct conf_alerts	 c;
	struct alert_central	 ce[1];
	struct alert_input	 in;
	char			 text[GW_DETAIL_MAX];

	(void)state;
	conf_init(&c);
	memset(&in, 0, sizeof(in));
	memset(ce, 0, sizeof(ce));
	in.conf = &c;
	in.now = 100000;
	in.centrals = ce;
	in.ncentrals = 1;
	snprintf(ce[0].name, sizeof(ce[0].name), "kpu");
	ce[0].up = 1;
	assert_false(holds(ALERT_CENTRAL_DOWN, &in, 0, text));
	assert_false(holds(ALERT_FORWARD_FAILED, &in, 0, text));
	ce[0].up = 0;
	snprintf(ce[0].error, sizeof(ce[0].error), "connection refused");
	assert_true(holds(ALERT_CENTRAL_DOWN, &in, 0, text));
	assert_string_equal(text, "unreachable: connection refused");
	ce[0].failed = 3;
	ce[0].last_status = 401;
	assert_true(holds(ALERT_FORWARD_FAILED, &in, 0, text));
	assert_string_equal(text, "3 forwards refused for good (last answer "
	    "HTTP 401); tallyctl messages --forward failed");
	c.limit[ALERT_FORWARD_FAILED] = 4;
	assert_false(holds(ALERT_FORWARD_FAILED, &in, 0, text));
	/* a subject that is not there */
	assert_false(holds(ALERT_CENTRAL_DOWN, &in, 1, text));

	/* bad codes: 4 across senders, or lockout_alert_failures for one TPS */
	in.window = 3600;
	in.tps_limit = 20;
	in.disk_mb = -1;
	in.dir = "/var/lib/tallygw";
	in.bad.codes = 3;
	in.bad.senders = 3;
	in.bad.tps = 6501011001001ULL;
	in.bad.tps_codes = 2;
	assert_false(holds(ALERT_LOCKOUT_STORM, &in, 0, text));
	in.bad.codes = 4;
	assert_true(holds(ALERT_LOCKOUT_STORM, &in, 0, text));
	assert_string_equal(text, "4 bad codes from 3 numbers within 3600 s; "
	    "most for TPS 6501011001001 (2)");
	c.limit[ALERT_LOCKOUT_STORM] = 100;
	in.bad.codes = 20;
	in.bad.senders = 1;
	in.bad.tps_codes = 20;
	assert_true(holds(ALERT_LOCKOUT_STORM, &in, 0, text));
	assert_string_equal(text, "20 bad codes from 1 number within 3600 s; "
	    "most for TPS 6501011001001 (20)");
	in.bad.tps_codes = 19;
	assert_false(holds(ALERT_LOCKOUT_STORM, &in, 0, text));

	/* disk: below the threshold; unknown is no alert */
	assert_false(holds(ALERT_DISK_LOW, &in, 0, text));
	in.disk_mb = 1024;
	assert_false(holds(ALERT_DISK_LOW, &in, 0, text));
	in.disk_mb = 1023;
	assert_true(holds(ALERT_DISK_LOW, &in, 0, text));
	assert_string_equal(text, "1023 MB free for /var/lib/tallygw, below "
	    "1024 MB");
}

static void
note(struct alert_note *n, enum alert_kind k, const char *subject,
    int raised, const char *text)
{
	memset(n, 0, sizeof(*n));
	n->id = 7;
	n->kind = k;
	snprintf(n->subject, sizeof(n->subject), "%s", subject);
	n->raised = raised;
	n->raised_at = 1771072200;	/* 2026-02-14T12:30:00Z */
	n->at = 1771072290;
	snprintf(n->text, sizeof(n->text), "%s", text);
}

/* The operators' SMS: one SMS of GSM 7-bit text, whatever comes. */
static void
test_sms(void **state)
{
	struct alert_note	 n[12];
	char			 buf[REPLY_TEXT_MAX], longtext[200];
	size_t			 i;

	(void)state;
	note(&n[0], ALERT_MODEM_DOWN, "m1", 1, "worker restart-wait/broken: "
	    "worker closed its socket");
	assert_int_equal(alert_sms_text("gw-jabar-1", n, 1, 0, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "tallygw gw-jabar-1: ALERT modem_down m1: "
	    "worker restart-wait/broken: worker closed its socket");

	note(&n[0], ALERT_DISK_LOW, "", 0, "");
	assert_int_equal(alert_sms_text("gw1", n, 1, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tallygw gw1: CLEARED disk_low");

	/* a long text is cut to fit, and says so */
	memset(longtext, 'x', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	note(&n[0], ALERT_SIM_FULL, "m0", 1, longtext);
	assert_int_equal(alert_sms_text("gw1", n, 1, 0, buf, sizeof(buf)), 0);
	assert_int_equal(reply_gsm_length(buf), 160);
	assert_int_equal(strncmp(buf, "tallygw gw1: ALERT sim_full m0: xxx",
	    35), 0);
	assert_string_equal(buf + strlen(buf) - 4, "x...");

	/* characters outside GSM 7-bit become '?' */
	note(&n[0], ALERT_MODEM_DOWN, "m1", 1, "caf\xc3\xa9 `x`");
	assert_int_equal(alert_sms_text("gw1", n, 1, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tallygw gw1: ALERT modem_down m1: caf?? ?x?");

	/* several: their names, in order */
	note(&n[0], ALERT_LOCKOUT_STORM, "", 1, "t");
	note(&n[1], ALERT_DISK_LOW, "", 0, "t");
	note(&n[2], ALERT_CAP_NEAR, "m2", 1, "t");
	assert_int_equal(alert_sms_text("gw1", n, 3, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tallygw gw1: ALERT lockout_storm; CLEARED "
	    "disk_low; ALERT cap_near m2");
	/* and those the queue could not hold */
	assert_int_equal(alert_sms_text("gw1", n, 3, 5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "tallygw gw1: ALERT lockout_storm; CLEARED "
	    "disk_low; ALERT cap_near m2 +5 more: tallyctl alerts");

	/* many: as many as fit, then how many more */
	for (i = 0; i < 12; i++)
		note(&n[i], ALERT_CENTRAL_DOWN, "central-number-x", 1, "t");
	assert_int_equal(alert_sms_text("gw1", n, 12, 0, buf, sizeof(buf)),
	    0);
	assert_true(reply_gsm_length(buf) <= 160);
	assert_string_equal(buf, "tallygw gw1: ALERT central_down "
	    "central-number-x; ALERT central_down central-number-x; ALERT "
	    "central_down central-number-x +9 more: tallyctl alerts");
}

static void
test_env(void **state)
{
	struct alert_note	 n;
	char			 env[ALERT_ENV][ALERT_ENV_LEN];
	size_t			 k;

	(void)state;
	note(&n, ALERT_BALANCE_LOW, "m0", 1, "airtime balance Rp1000; "
	    "$(rm -rf /) `x` \"q\"");
	assert_int_equal(alert_env("gw1", &n, env, ALERT_ENV), 9);
	assert_string_equal(env[0], "PATH=/usr/local/sbin:/usr/local/bin:"
	    "/usr/sbin:/usr/bin:/sbin:/bin");
	assert_string_equal(env[1], "TALLYGW_GATEWAY=gw1");
	assert_string_equal(env[2], "TALLYGW_ALERT=balance_low");
	assert_string_equal(env[3], "TALLYGW_ALERT_SUBJECT=m0");
	assert_string_equal(env[4], "TALLYGW_ALERT_STATE=raised");
	assert_string_equal(env[5], "TALLYGW_ALERT_ID=7");
	/* the text as it is: no shell ever reads it */
	assert_string_equal(env[6], "TALLYGW_ALERT_TEXT=airtime balance "
	    "Rp1000; $(rm -rf /) `x` \"q\"");
	assert_string_equal(env[7],
	    "TALLYGW_ALERT_RAISED_AT=2026-02-14T12:30:00Z");
	assert_string_equal(env[8], "TALLYGW_ALERT_AT=2026-02-14T12:31:30Z");
	note(&n, ALERT_DISK_LOW, "", 0, "");
	k = alert_env("gw1", &n, env, 5);
	assert_int_equal(k, 5);
	assert_string_equal(env[3], "TALLYGW_ALERT_SUBJECT=");
	assert_string_equal(env[4], "TALLYGW_ALERT_STATE=cleared");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_hold),
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_modems),
		cmocka_unit_test(test_silent),
		cmocka_unit_test(test_centrals_gateway),
		cmocka_unit_test(test_sms),
		cmocka_unit_test(test_env),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
