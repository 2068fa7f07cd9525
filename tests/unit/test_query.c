/*
 * Unit tests of query.c: the admin API's query strings. Every filter
 * lands where it should, times take the store's received_at form, and
 * each kind of bad input is refused with a message that names it.
 */

#include "unit.h"
#include "gw.h"
#include "log.h"

static void
expect_msgs_err(const char *qs, const char *want)
{
	struct store_msg_query	 q;
	char			 err[256] = "";

	if (query_messages(qs, &q, err, sizeof(err)) != -1)
		fail_msg("'%s' was taken", qs);
	if (strstr(err, want) == NULL)
		fail_msg("'%s': error '%s' does not say '%s'", qs, err, want);
}

static void
test_messages(void **state)
{
	struct store_msg_query	 q;
	char			 err[256];

	assert_int_equal(query_messages("", &q, err, sizeof(err)), 0);
	assert_int_equal(q.limit, QUERY_LIMIT_DEFAULT);
	assert_int_equal(q.tps, 0);
	assert_int_equal(q.reply, 0);
	assert_int_equal(q.channel, 0);
	assert_int_equal(query_messages(NULL, &q, err, sizeof(err)), 0);

	assert_int_equal(query_messages("tps=3201012001001&sender=%2B62812"
	    "3456&kind=report&verdict=FLAGGED&contest=dpr&state=delivered&"
	    "forward=retry_wait&channel=ussd&since=2026-02-14T12:00Z&"
	    "until=2026-02-15&before=77&limit=1000", &q, err, sizeof(err)),
	    0);
	assert_int_equal(q.tps, 3201012001001ULL);
	assert_string_equal(q.sender, "+628123456");
	assert_int_equal(q.kind, MSG_REPORT);
	assert_int_equal(q.verdict, VERDICT_FLAGGED);
	assert_int_equal(q.contest, CONTEST_DPR);
	assert_int_equal(q.reply, OUT_DELIVERED);
	assert_int_equal(q.forward, FWD_RETRY_WAIT);
	assert_int_equal(q.channel, QUERY_USSD);
	assert_string_equal(q.since, "2026-02-14T12:00:00.000Z");
	assert_string_equal(q.until, "2026-02-15T00:00:00.000Z");
	assert_int_equal(q.before, 77);
	assert_int_equal(q.limit, 1000);

	/* Empty parts are skipped; none and owed are states too. */
	assert_int_equal(query_messages("&&state=none&&forward=none&channel="
	    "sms&", &q, err, sizeof(err)), 0);
	assert_int_equal(q.reply, QUERY_NONE);
	assert_int_equal(q.forward, QUERY_NONE);
	assert_int_equal(q.channel, QUERY_SMS);
	assert_int_equal(query_messages("state=owed", &q, err, sizeof(err)),
	    0);
	assert_int_equal(q.reply, QUERY_OWED);

	expect_msgs_err("foo=1", "unknown parameter 'foo'");
	expect_msgs_err("limit=1&limit=2", "limit: given twice");
	expect_msgs_err("tps=320101200100", "tps: not a 13-digit TPS code");
	expect_msgs_err("tps=0001012001001", "tps: not a 13-digit");
	expect_msgs_err("verdict=ok", "verdict: one of OK");
	expect_msgs_err("kind=REPORT", "kind: one of report");
	expect_msgs_err("state=done", "state: one of queued");
	expect_msgs_err("forward=sent", "forward: one of pending");
	expect_msgs_err("channel=fax", "channel: sms or ussd");
	expect_msgs_err("contest=PILPRES", "contest: not a contest");
	expect_msgs_err("limit=0", "limit: not a number 1..1000");
	expect_msgs_err("limit=1001", "limit: not a number 1..1000");
	expect_msgs_err("limit=-5", "limit: not a number");
	expect_msgs_err("limit=5x", "limit: not a number");
	expect_msgs_err("before=99999999999999999999", "before: not a number");
	expect_msgs_err("since=2026-02-31", "since: not a UTC time");
	expect_msgs_err("since=2026-02-14T25:00", "since: not a UTC time");
	expect_msgs_err("until=yesterday", "until: not a UTC time");
	expect_msgs_err("since=2026-02-15&until=2026-02-14",
	    "since must be before until");
	expect_msgs_err("sender=%zz", "sender: bad value");
	expect_msgs_err("sender=a%0ab", "sender: bad value");
	expect_msgs_err("sender=%4", "sender: bad value");
	expect_msgs_err("sender=", "sender: empty");
	expect_msgs_err("%00=1", "bad parameter name");
	expect_msgs_err("=1", "bad parameter name");
	expect_msgs_err("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa=1",
	    "bad parameter name");
}

/* Times into received_at's form: text order is time order. */
static void
test_time(void **state)
{
	char	 t[GW_ISO_MAX];

	assert_int_equal(query_time("2026-02-14", t, sizeof(t)), 0);
	assert_string_equal(t, "2026-02-14T00:00:00.000Z");
	assert_int_equal(query_time("2026-02-14T09:05", t, sizeof(t)), 0);
	assert_string_equal(t, "2026-02-14T09:05:00.000Z");
	assert_int_equal(query_time("2026-02-14T09:05:07Z", t, sizeof(t)), 0);
	assert_string_equal(t, "2026-02-14T09:05:07.000Z");
	assert_int_equal(query_time("2026-02-14T09:05:07.5", t, sizeof(t)),
	    0);
	assert_string_equal(t, "2026-02-14T09:05:07.500Z");
	assert_int_equal(query_time("2026-02-14T09:05:07.123456Z", t,
	    sizeof(t)), 0);
	assert_string_equal(t, "2026-02-14T09:05:07.123Z");
	assert_int_equal(query_time("2024-02-29", t, sizeof(t)), 0);
	assert_int_equal(query_time("2026-02-29", t, sizeof(t)), -1);
	assert_int_equal(query_time("2026-2-14", t, sizeof(t)), -1);
	assert_int_equal(query_time("2026-02-14T09:05:07.", t, sizeof(t)),
	    -1);
	assert_int_equal(query_time("2026-02-14 09:05", t, sizeof(t)), -1);
	assert_int_equal(query_time("2026-02-14T09:05+07:00", t, sizeof(t)),
	    -1);
	assert_int_equal(query_time("", t, sizeof(t)), -1);
	assert_int_equal(query_time("2026-02-14", t, 10), -1);
}

static void
test_coverage(void **state)
{
	struct query_coverage	 q;
	char			 err[256];

	assert_int_equal(query_coverage("", &q, err, sizeof(err)), 0);
	assert_int_equal(q.digits, 2);
	assert_int_equal(q.in_digits, 0);
	assert_int_equal(q.contest, CONTEST_NONE);
	assert_int_equal(query_coverage("level=village&in=320101&contest="
	    "PPWP", &q, err, sizeof(err)), 0);
	assert_int_equal(q.digits, 10);
	assert_int_equal(q.in, 320101);
	assert_int_equal(q.in_digits, 6);
	assert_int_equal(q.contest, CONTEST_PPWP);
	assert_int_equal(query_coverage("level=regency&in=65", &q, err,
	    sizeof(err)), 0);
	assert_int_equal(q.digits, 4);

	assert_int_equal(query_coverage("level=regency&in=3201", &q, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "not above the regency level"));
	assert_int_equal(query_coverage("level=kabupaten", &q, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "level: one of province"));
	assert_int_equal(query_coverage("in=320", &q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "in: a region is"));
	assert_int_equal(query_coverage("in=10", &q, err, sizeof(err)), -1);
	assert_int_equal(query_coverage("level=village&in=3201012001001", &q,
	    err, sizeof(err)), -1);
	assert_int_equal(query_coverage("tps=1", &q, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unknown parameter 'tps'"));
}

static void
test_export_retry(void **state)
{
	struct query_export	 e;
	struct query_retry	 r;
	char			 err[256];

	assert_int_equal(query_export("", &e, err, sizeof(err)), 0);
	assert_int_equal(e.json, 0);
	assert_int_equal(e.region_digits, 0);
	assert_int_equal(query_export("format=json&region=3201012001001&"
	    "contest=4", &e, err, sizeof(err)), 0);
	assert_int_equal(e.json, 1);
	assert_int_equal(e.region, 3201012001001ULL);
	assert_int_equal(e.region_digits, 13);
	assert_int_equal(e.contest, CONTEST_DPRDP);
	assert_int_equal(query_export("format=xml", &e, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "format: csv or json"));
	assert_int_equal(query_export("region=32010", &e, err, sizeof(err)),
	    -1);

	assert_int_equal(query_retry("", &r, err, sizeof(err)), 0);
	assert_int_equal(r.msg, 0);
	assert_int_equal(r.failed, 0);
	assert_int_equal(query_retry("msg=12", &r, err, sizeof(err)), 0);
	assert_int_equal(r.msg, 12);
	assert_int_equal(query_retry("failed", &r, err, sizeof(err)), 0);
	assert_int_equal(r.failed, 1);
	assert_int_equal(query_retry("failed=1&msg=3", &r, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "msg and failed together"));
	assert_int_equal(query_retry("msg=0", &r, err, sizeof(err)), -1);
	assert_int_equal(query_retry("failed=no", &r, err, sizeof(err)), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_export_retry),
	};

	log_init("test_query", LOG_TO_STDERR, 0);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
