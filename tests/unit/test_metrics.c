/*
 * Unit tests of metrics.c: the Prometheus text format 0.0.4 as written
 * by hand from the format's rules: HELP and TYPE once, before a
 * family's first sample (a family with none is left out); label values
 * and HELP escaped; numbers as Prometheus reads them; histogram
 * buckets cumulative up to +Inf = _count; the series the stages count
 * into; a whole scrape of a made-up gateway.
 */

#include <math.h>
#include <time.h>

#include "unit.h"
#include "gw.h"
#include "log.h"

/* A memory FILE and what was written to it. */
struct mem {
	FILE	*f;
	char	*text;
	size_t	 len;
};

static void
mem_open(struct mem *m)
{
	m->text = NULL;
	m->len = 0;
	assert_non_null(m->f = open_memstream(&m->text, &m->len));
}

/* Close the FILE: m->text holds it all. */
static const char *
mem_close(struct mem *m)
{
	assert_int_equal(fclose(m->f), 0);
	return (m->text);
}

static void
has_line(const char *text, const char *line)
{
	const char	*p = text;
	size_t		 n = strlen(line);

	for (; p != NULL && *p != '\0'; p = strchr(p, '\n'), p = p ? p + 1 :
	    NULL)
		if (strncmp(p, line, n) == 0 && p[n] == '\n')
			return;
	fail_msg("no line '%s' in:\n%s", line, text);
}

static void
has_no(const char *text, const char *what)
{
	if (strstr(text, what) != NULL)
		fail_msg("'%s' should not be in:\n%s", what, text);
}

static void
test_families(void **state)
{
	struct metrics_out	 o;
	struct mem		 m;

	mem_open(&m);
	metrics_begin(&o, m.f);
	metrics_family(&o, "empty_total", "counter", "Has no sample.");
	metrics_family(&o, "x_total", "counter", "Two samples.");
	metrics_sample(&o, 1, 1, "a", "one");
	metrics_sample(&o, 2, 2, "a", "two", "b", "x");
	metrics_family(&o, "y", "gauge", "No labels.");
	metrics_sample(&o, 7, 0);
	assert_string_equal(mem_close(&m),
	    "# HELP x_total Two samples.\n"
	    "# TYPE x_total counter\n"
	    "x_total{a=\"one\"} 1\n"
	    "x_total{a=\"two\",b=\"x\"} 2\n"
	    "# HELP y No labels.\n"
	    "# TYPE y gauge\n"
	    "y 7\n");
	free(m.text);
}

static void
test_escaping(void **state)
{
	struct metrics_out	 o;
	struct mem		 m;

	mem_open(&m);
	metrics_begin(&o, m.f);
	metrics_family(&o, "e", "gauge",
	    "A \"quoted\" C:\\dir,\nnext line.");
	/* quote, backslash, newline; a tab stays; UTF-8 stays; 0xff,
	 * a lone continuation byte, an overlong '/' and a surrogate do
	 * not. */
	metrics_sample(&o, 1, 1, "v", "a\"b\\c\nd\te");
	metrics_sample(&o, 2, 1, "v", "Rp\xc2\xa0" "5 \xe2\x82\xac");
	metrics_sample(&o, 3, 1, "v", "x\xffy\x80z\xc0\xaf!");
	metrics_sample(&o, 4, 1, "v", "\xed\xa0\x80|\xf4\x90\x80\x80|"
	    "\xf0\x9f\x98\x80");
	metrics_sample(&o, 5, 1, "v", "cut\xe2\x82");
	assert_string_equal(mem_close(&m),
	    "# HELP e A \"quoted\" C:\\\\dir,\\nnext line.\n"
	    "# TYPE e gauge\n"
	    "e{v=\"a\\\"b\\\\c\\nd\te\"} 1\n"
	    "e{v=\"Rp\xc2\xa0" "5 \xe2\x82\xac\"} 2\n"
	    "e{v=\"x\xef\xbf\xbdy\xef\xbf\xbdz\xef\xbf\xbd\xef\xbf\xbd!\"} 3\n"
	    "e{v=\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd|"
	    "\xf0\x9f\x98\x80\"} 4\n"
	    "e{v=\"cut\xef\xbf\xbd\xef\xbf\xbd\"} 5\n");
	free(m.text);
}

static void
test_numbers(void **state)
{
	static const double	 v[] = { 0, -0.0, 3, -42, 0.1, 0.001, 2.5,
	    1e20, 123456789012, 1.0 / 3, -1.5e-7, 86400.25 };
	static const char	*want[] = { "0", "0", "3", "-42", "0.1",
	    "0.001", "2.5", "1e+20", "123456789012", "0.3333333333333333",
	    "-1.5e-07", "86400.25" };
	struct metrics_out	 o;
	struct mem		 m;
	char			 line[64];
	const char		*text;
	size_t			 i;

	mem_open(&m);
	metrics_begin(&o, m.f);
	metrics_family(&o, "n", "gauge", "Numbers.");
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		metrics_sample(&o, v[i], 0);
	metrics_sample(&o, NAN, 0);
	metrics_sample(&o, INFINITY, 0);
	metrics_sample(&o, -INFINITY, 0);
	text = mem_close(&m);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		snprintf(line, sizeof(line), "n %s", want[i]);
		has_line(text, line);
	}
	has_line(text, "n NaN");
	has_line(text, "n +Inf");
	has_line(text, "n -Inf");
	free(m.text);
}

static void
test_histogram(void **state)
{
	static const double	 bounds[] = { 0.25, 1, 10 };
	struct metrics_hist	 h;
	struct metrics_out	 o;
	struct mem		 m;

	memset(&h, 0, sizeof(h));
	h.bounds = bounds;
	h.nbounds = 3;
	/* 0.25 is in le="0.25" (less or equal); 64 only in +Inf. */
	metrics_hist_add(&h, 0.125);
	metrics_hist_add(&h, 0.25);
	metrics_hist_add(&h, 0.5);
	metrics_hist_add(&h, 4);
	metrics_hist_add(&h, 64);
	metrics_hist_add(&h, NAN);	/* not an observation */
	mem_open(&m);
	metrics_begin(&o, m.f);
	metrics_family(&o, "d_seconds", "histogram", "Durations.");
	metrics_hist_write(&o, &h, 1, "c", "x");
	memset(&h.n, 0, sizeof(h.n));
	h.sum = 0;
	h.count = 0;
	metrics_hist_write(&o, &h, 0);
	assert_string_equal(mem_close(&m),
	    "# HELP d_seconds Durations.\n"
	    "# TYPE d_seconds histogram\n"
	    "d_seconds_bucket{c=\"x\",le=\"0.25\"} 2\n"
	    "d_seconds_bucket{c=\"x\",le=\"1\"} 3\n"
	    "d_seconds_bucket{c=\"x\",le=\"10\"} 4\n"
	    "d_seconds_bucket{c=\"x\",le=\"+Inf\"} 5\n"
	    "d_seconds_sum{c=\"x\"} 68.875\n"
	    "d_seconds_count{c=\"x\"} 5\n"
	    "d_seconds_bucket{le=\"0.25\"} 0\n"
	    "d_seconds_bucket{le=\"1\"} 0\n"
	    "d_seconds_bucket{le=\"10\"} 0\n"
	    "d_seconds_bucket{le=\"+Inf\"} 0\n"
	    "d_seconds_sum 0\n"
	    "d_seconds_count 0\n");
	free(m.text);
}

/* The scrape of a made-up gateway (two modems, one central) into m. */
static const char *
scrape(struct mem *m)
{
	static struct metrics_modem	 mm[2];
	static struct fwd_central_stats	 cs[1];
	struct metrics_scrape		 s, *sc = &s;

	memset(sc, 0, sizeof(*sc));
	memset(mm, 0, sizeof(mm));
	memset(cs, 0, sizeof(cs));
	sc->started = 1771070400;	/* 2026-02-14T12:00:00Z */
	sc->parts_pending = 1;
	snprintf(cs->name, sizeof(cs->name), "kpu");
	cs->up = 1;
	cs->inflight = 2;
	cs->last_ok = 1771070460;
	sc->centrals = cs;
	sc->ncentrals = 1;
	mm[0] = (struct metrics_modem){ .name = "m0", .oper = "Telkomsel",
	    .number = "+6281100000001", .state = "sending", .up = 1,
	    .enabled = 1, .signal = -71, .registered = 1, .sim_used = 3,
	    .sim_capacity = 30, .balance = 29345, .sent = 12,
	    .send_failed = 1, .received = 30, .sent_today = 12,
	    .send_cap = 450, .hold = 0, .errors = 0, .restarts = 2 };
	mm[1] = (struct metrics_modem){ .name = "m1", .oper = "",
	    .number = "", .state = "off", .up = 0, .enabled = 0,
	    .signal = 0, .registered = 0, .sim_used = 4, .sim_capacity = 0,
	    .balance = -1, .hold = 30 };
	sc->modems = mm;
	sc->nmodems = 2;
	mem_open(m);
	assert_int_equal(metrics_write(m->f, sc), 0);
	return (mem_close(m));
}

static void
test_scrape(void **state)
{
	struct store_counts	 c;
	struct mem		 m;
	const char		*t;

	metrics_reset();
	/* the store at start-up, then an SMS queued -> sending, a forward
	 * pending -> sending -> acked and a new one pending */
	memset(&c, 0, sizeof(c));
	c.out_queued = 3;
	c.out_delivered = 7;
	c.fwd_pending = 1;
	c.forward_retry = 3;
	c.fwd_acked = 4;
	metrics_start(&c);
	metrics_count(METRICS_REPLIES, "queued", NULL, -1);
	metrics_count(METRICS_REPLIES, "sending", NULL, 1);
	metrics_count(METRICS_FORWARDS, "pending", NULL, -1);
	metrics_count(METRICS_FORWARDS, "sending", NULL, 1);
	metrics_count(METRICS_FORWARDS, "sending", NULL, -1);
	metrics_count(METRICS_FORWARDS, "acked", NULL, 1);
	metrics_count(METRICS_FORWARDS, "pending", NULL, 1);
	metrics_count(METRICS_MESSAGES, "sms", "OK", 0);
	metrics_count(METRICS_MESSAGES, "sms", "FLAGGED", 0);
	metrics_count(METRICS_MESSAGES, "sms", "OK", 2);
	metrics_count(METRICS_MESSAGES, "ussd", "cek", 1);
	metrics_count(METRICS_MESSAGES, "sms", "ok", 1);
	metrics_count(METRICS_STAGE, "sms", "received", 1);
	metrics_count(METRICS_STAGE, "sms", "committed", 1);
	metrics_observe(METRICS_COMMIT, "sms", NULL, 0.003);
	metrics_observe(METRICS_FWD_REQUEST, "kpu", "acked", 0.2);
	metrics_count(METRICS_FWD_ACK, "kpu", NULL, 0);
	/* a counter has no buckets: an observation of it is ignored */
	metrics_observe(METRICS_STAGE, "sms", "received", 1);
	t = scrape(&m);

	has_line(t, "# HELP tallygw_start_time_seconds When the gateway "
	    "started (Unix time): counters said to count since the start "
	    "begin again at 0 then.");
	has_line(t, "tallygw_start_time_seconds 1771070400");
	has_line(t, "# TYPE tallygw_messages_total counter");
	/* OK and ok are one series: label values in lower case */
	has_line(t, "tallygw_messages_total{channel=\"sms\",verdict=\"ok\"} "
	    "3");
	has_line(t, "tallygw_messages_total{channel=\"sms\","
	    "verdict=\"flagged\"} 0");
	has_line(t, "tallygw_messages_total{channel=\"ussd\",verdict=\"cek\"} "
	    "1");
	has_line(t, "tallygw_receive_stage_total{channel=\"sms\","
	    "stage=\"received\"} 1");
	has_line(t, "# TYPE tallygw_commit_latency_seconds histogram");
	has_line(t, "tallygw_commit_latency_seconds_bucket{channel=\"sms\","
	    "le=\"0.001\"} 0");
	has_line(t, "tallygw_commit_latency_seconds_bucket{channel=\"sms\","
	    "le=\"0.0025\"} 0");
	has_line(t, "tallygw_commit_latency_seconds_bucket{channel=\"sms\","
	    "le=\"0.005\"} 1");
	has_line(t, "tallygw_commit_latency_seconds_bucket{channel=\"sms\","
	    "le=\"10\"} 1");
	has_line(t, "tallygw_commit_latency_seconds_bucket{channel=\"sms\","
	    "le=\"+Inf\"} 1");
	has_line(t, "tallygw_commit_latency_seconds_sum{channel=\"sms\"} "
	    "0.003");
	has_line(t, "tallygw_commit_latency_seconds_count{channel=\"sms\"} 1");
	has_line(t, "tallygw_forward_request_seconds_bucket{central=\"kpu\","
	    "outcome=\"acked\",le=\"0.1\"} 0");
	has_line(t, "tallygw_forward_request_seconds_bucket{central=\"kpu\","
	    "outcome=\"acked\",le=\"0.25\"} 1");
	has_line(t, "tallygw_forward_request_seconds_bucket{central=\"kpu\","
	    "outcome=\"acked\",le=\"60\"} 1");
	has_line(t, "tallygw_forward_latency_seconds_bucket{central=\"kpu\","
	    "le=\"10800\"} 0");
	has_line(t, "tallygw_forward_latency_seconds_count{central=\"kpu\"} 0");

	has_line(t, "# TYPE tallygw_replies gauge");
	has_line(t, "tallygw_replies{state=\"queued\"} 2");
	has_line(t, "tallygw_replies{state=\"sending\"} 1");
	has_line(t, "tallygw_replies{state=\"delivered\"} 7");
	has_line(t, "tallygw_replies{state=\"failed\"} 0");
	has_line(t, "tallygw_forwards{state=\"pending\"} 1");
	has_line(t, "tallygw_forwards{state=\"sending\"} 0");
	has_line(t, "tallygw_forwards{state=\"retry_wait\"} 3");
	has_line(t, "tallygw_forwards{state=\"acked\"} 5");
	has_line(t, "tallygw_queue_depth{queue=\"replies\"} 2");
	has_line(t, "tallygw_queue_depth{queue=\"forwards\"} 4");
	has_line(t, "tallygw_queue_depth{queue=\"parts\"} 1");
	has_line(t, "tallygw_queue_depth{queue=\"sim\"} 7");
	has_line(t, "tallygw_central_up{central=\"kpu\"} 1");
	has_line(t, "tallygw_central_inflight{central=\"kpu\"} 2");
	has_line(t, "tallygw_central_last_ok_timestamp_seconds{central=\"kpu\"}"
	    " 1771070460");

	has_line(t, "tallygw_modem_info{modem=\"m0\",operator=\"Telkomsel\","
	    "number=\"+6281100000001\"} 1");
	has_line(t, "tallygw_modem_state{modem=\"m0\",state=\"sending\"} 1");
	has_line(t, "tallygw_modem_state{modem=\"m0\",state=\"ready\"} 0");
	has_line(t, "tallygw_modem_state{modem=\"m0\",state=\"backoff\"} 0");
	/* m1 is off: every worker state 0, and its own state 1 */
	has_line(t, "tallygw_modem_state{modem=\"m1\",state=\"init\"} 0");
	has_line(t, "tallygw_modem_state{modem=\"m1\",state=\"off\"} 1");
	has_no(t, "tallygw_modem_state{modem=\"m0\",state=\"off\"}");
	has_line(t, "tallygw_modem_up{modem=\"m0\"} 1");
	has_line(t, "tallygw_modem_up{modem=\"m1\"} 0");
	has_line(t, "tallygw_modem_signal_dbm{modem=\"m0\"} -71");
	has_line(t, "tallygw_modem_registered{modem=\"m0\"} 1");
	has_line(t, "tallygw_modem_registered{modem=\"m1\"} 0");
	has_line(t, "tallygw_modem_sim_used{modem=\"m0\"} 3");
	has_line(t, "tallygw_modem_sim_capacity{modem=\"m0\"} 30");
	has_line(t, "tallygw_modem_balance_rupiah{modem=\"m0\"} 29345");
	has_line(t, "# TYPE tallygw_modem_sent_total counter");
	has_line(t, "tallygw_modem_sent_total{modem=\"m0\"} 12");
	has_line(t, "tallygw_modem_send_failed_total{modem=\"m0\"} 1");
	has_line(t, "tallygw_modem_received_total{modem=\"m0\"} 30");
	has_line(t, "tallygw_modem_sent_today{modem=\"m0\"} 12");
	has_line(t, "tallygw_modem_send_cap{modem=\"m0\"} 450");
	has_line(t, "tallygw_modem_hold_seconds{modem=\"m1\"} 30");
	has_line(t, "tallygw_modem_restarts_total{modem=\"m0\"} 2");
	/* not known, or not set: left out */
	has_no(t, "tallygw_modem_signal_dbm{modem=\"m1\"}");
	has_no(t, "tallygw_modem_sim_used{modem=\"m1\"}");
	has_no(t, "tallygw_modem_balance_rupiah{modem=\"m1\"}");
	has_no(t, "tallygw_modem_send_cap{modem=\"m1\"}");
	free(m.text);
	metrics_reset();
}

/* Past METRICS_SERIES_MAX new series are not counted; the rest are. */
static void
test_series_max(void **state)
{
	struct mem	 m;
	char		 name[32];
	const char	*t;
	int		 i;

	metrics_reset();
	log_init("test_metrics", LOG_TO_STDERR, 0);
	metrics_count(METRICS_MESSAGES, "sms", "ok", 1);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		metrics_observe(METRICS_FWD_ACK, name, NULL, 1);
	}
	metrics_count(METRICS_MESSAGES, "sms", "ok", 1);
	t = scrape(&m);
	has_line(t, "tallygw_messages_total{channel=\"sms\",verdict=\"ok\"} "
	    "2");
	has_line(t, "tallygw_forward_latency_seconds_count{central=\"c254\"} "
	    "1");
	has_no(t, "central=\"c255\"");
	free(m.text);
	metrics_reset();
}

static void
test_since(void **state)
{
	char		 iso[GW_ISO_MAX];
	struct tm	 tm;
	time_t		 t = time(NULL) - 100;
	double		 s;

	gmtime_r(&t, &tm);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S.500Z", &tm);
	s = metrics_since(iso);
	/* 100 s ago less half a second, give or take the clock's tick */
	assert_true(s > 98.5 && s < 100.6);
	strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%SZ", &tm);
	s = metrics_since(iso);
	assert_true(s > 99 && s < 101.1);
	assert_true(metrics_since("yesterday") < 0);
	assert_true(metrics_since(NULL) < 0);
	assert_true(metrics_since("2026-02-14T12:00:00.x") < 0);
	assert_true(metrics_now() > 0);
}

/*
 * /status's counts: the store's at start-up, then each message committed
 * and each change of state of a reply or a forward.
 */
static void
test_status_counts(void **state)
{
	struct store_counts	 c = { 0 }, got;

	metrics_reset();
	c.msgs = 10;
	c.reports = 8;
	c.ok = 5;
	c.flagged = 2;
	c.rejected = 1;
	c.other = 2;
	c.out_queued = 3;
	c.out_delivered = 7;
	c.fwd_pending = 4;
	c.fwd_acked = 1;
	metrics_start(&c);
	metrics_stored(MSG_REPORT, VERDICT_OK);
	metrics_stored(MSG_REPORT, VERDICT_DUPLICATE);
	metrics_stored(MSG_CEK, 0);
	/* a reply goes out, a forward is acked, one is new */
	metrics_count(METRICS_REPLIES, "queued", NULL, -1);
	metrics_count(METRICS_REPLIES, "sending", NULL, 1);
	metrics_count(METRICS_FORWARDS, "pending", NULL, -1);
	metrics_count(METRICS_FORWARDS, "acked", NULL, 1);
	metrics_count(METRICS_FORWARDS, "pending", NULL, 1);
	metrics_counts(&got);
	assert_int_equal(got.msgs, 13);
	assert_int_equal(got.reports, 10);
	assert_int_equal(got.ok, 6);
	assert_int_equal(got.flagged, 2);
	assert_int_equal(got.duplicate, 1);
	assert_int_equal(got.rejected, 1);
	assert_int_equal(got.other, 3);
	assert_int_equal(got.out_queued, 2);
	assert_int_equal(got.out_sending, 1);
	assert_int_equal(got.out_sent, 0);
	assert_int_equal(got.out_delivered, 7);
	assert_int_equal(got.out_failed, 0);
	assert_int_equal(got.fwd_pending, 4);
	assert_int_equal(got.fwd_sending, 0);
	assert_int_equal(got.forward_retry, 0);
	assert_int_equal(got.fwd_acked, 2);
	assert_int_equal(got.fwd_failed, 0);
	metrics_reset();
	metrics_counts(&got);
	assert_int_equal(got.msgs, 0);
	assert_int_equal(got.fwd_acked, 0);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_families),
	cmocka_unit_test(test_escaping),
	cmocka_unit_test(test_numbers),
	cmocka_unit_test(test_histogram),
	cmocka_unit_test(test_scrape),
	cmocka_unit_test(test_series_max),
	cmocka_unit_test(test_since),
	cmocka_unit_test(test_status_counts),
};

UNIT_MAIN(tests)
