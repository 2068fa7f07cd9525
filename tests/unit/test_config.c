/* Unit tests of config: tallygw.conf, its errors, defaults and printing. */

#include <sys/stat.h>

#include <limits.h>
#include <unistd.h>

#include "unit.h"
#include "gw.h"
#include "log.h"

/* Five lines of [gateway], then two of [central c1]. */
#define GW	"[gateway]\n" \
		"name = gw1\n" \
		"state = /s\n" \
		"key = /k\n" \
		"sign_key = /sk\n"
#define CENTRAL	"[central c1]\n" \
		"url = http://127.0.0.1:8080/v1/reports\n"

static const char full[] =
    "# tallygw.conf for the West Java bank\n"			/* 1 */
    "[gateway]\n"
    "name = gw-jabar-1            # required\n"
    "state = /var/lib/tallygw     # tallygw.db, tallygw.sock\n"
    "key = /etc/tallygw/root.key\n"				/* 5 */
    "sign_key = gateway.sec\n"
    "registry = /var/lib/tallygw/registry.db\n"
    "election = /etc/tallygw/election.conf\n"
    "kpps = kpps.csv\n"
    "modem_program = /usr/libexec/tallygw-modem\n"		/* 10 */
    "language = en\n"
    "log = syslog\n"
    "log_level = debug\n"
    "\n"
    "[tunables]\n"						/* 15 */
    "sweep_interval = 30\n"
    "lockout_window = 1800\n"
    "\n"
    "; the first modem\n"
    "[modem m1]\n"						/* 20 */
    "device = /dev/ttyUSB0\n"
    "connection = at115200\n"
    "number = +6281234567890\n"
    "operator = Telkomsel\n"
    "send_cap = 500\n"						/* 25 */
    "balance = *888#\n"
    "enabled = yes\n"
    "\n"
    "[modem m2]\n"
    "device = /dev/ttyUSB1\n"					/* 30 */
    "number = 0857-1111-2222\n"
    "enabled = no\n"
    "role = receive\n"
    "\n"
    "[central kpu]\n"						/* 35 */
    "url = https://sirekap.example.id/v1/reports\n"
    "timeout = 30\n"
    "[central backup]\n"
    "url = http://127.0.0.1:8080/v1/reports\n";

static int
parse(const char *name, const char *text, struct gw_conf *conf, char *err,
    size_t errlen)
{
	return (config_parse(name, text, strlen(text), conf, err, errlen));
}

static void	expect_err(const char *, const char *);
static char	*print_to_string(const struct gw_conf *);

/* [ussd]: off unless present; listen and secret required; checked. */
static void
test_ussd(void **state)
{
	struct gw_conf	 conf;
	char		 err[512];

	(void)state;
	assert_int_equal(parse("tallygw.conf", GW CENTRAL "[ussd]\n"
	    "listen = 127.0.0.1:8091\nsecret = /etc/tallygw/ussd.secret\n"
	    "service = *123*45#\n", &conf, err, sizeof(err)), 0);
	assert_int_equal(conf.ussd.enabled, 1);
	assert_string_equal(conf.ussd.listen, "127.0.0.1:8091");
	assert_string_equal(conf.ussd.path, "/ussd");
	assert_string_equal(conf.ussd.secret, "/etc/tallygw/ussd.secret");
	assert_string_equal(conf.ussd.service, "*123*45#");
	config_clear(&conf);
	assert_int_equal(parse("tallygw.conf", GW CENTRAL "[ussd]\n"
	    "listen = localhost:80\npath = /cb/ussd\nsecret = s\n", &conf,
	    err, sizeof(err)), 0);
	assert_string_equal(conf.ussd.path, "/cb/ussd");
	config_clear(&conf);

	expect_err(GW CENTRAL "[ussd]\nsecret = /s\n",
	    "tallygw.conf:8: [ussd] listen is required");
	expect_err(GW CENTRAL "[ussd]\nlisten = 127.0.0.1:1\n",
	    "tallygw.conf:8: [ussd] secret is required");
	expect_err(GW CENTRAL "[ussd]\nlisten = 127.0.0.1\n",
	    "tallygw.conf:9: listen: not HOST:PORT: '127.0.0.1'");
	expect_err(GW CENTRAL "[ussd]\nlisten = 127.0.0.1:65536\n",
	    "tallygw.conf:9: listen: bad port in '127.0.0.1:65536' "
	    "(1..65535)");
	expect_err(GW CENTRAL "[ussd]\nlisten = a/b:80\n",
	    "tallygw.conf:9: listen: bad host in 'a/b:80'");
	expect_err(GW CENTRAL "[ussd]\npath = ussd\n",
	    "tallygw.conf:9: path: must start with '/': 'ussd'");
	expect_err(GW CENTRAL "[ussd]\npath = /a b\n",
	    "tallygw.conf:9: path: bad character in '/a b'");
	expect_err(GW CENTRAL "[ussd]\nservice = *123*A#\n",
	    "tallygw.conf:9: service: a USSD code is digits, * and #: "
	    "'*123*A#'");
	expect_err(GW CENTRAL "[ussd]\n[ussd]\n",
	    "tallygw.conf:9: [ussd] declared twice (first on line 8)");
	expect_err(GW CENTRAL "[ussd x]\n",
	    "tallygw.conf:8: [ussd] takes no name");
}

/*
 * [admin]: no TCP unless listen; listen needs a token (the API is never
 * open on TCP without one), named by the listen line; printed back.
 */
static void
test_admin(void **state)
{
	struct gw_conf	 conf, back;
	char		 err[512], *t;

	(void)state;
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", GW CENTRAL,
	    &conf, err, sizeof(err)), 0);
	assert_string_equal(conf.admin.listen, "");
	assert_int_equal(conf.admin.line, 0);
	config_clear(&conf);
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", GW CENTRAL
	    "[admin]\nlisten = 127.0.0.1:8092\ntoken = admin.token\n", &conf,
	    err, sizeof(err)), 0);
	assert_string_equal(conf.admin.listen, "127.0.0.1:8092");
	assert_string_equal(conf.admin.token, "/etc/tallygw/admin.token");
	assert_int_equal(conf.admin.line, 8);
	t = print_to_string(&conf);
	assert_non_null(strstr(t, "\n[admin]\nlisten = 127.0.0.1:8092\n"
	    "token = /etc/tallygw/admin.token\n"));
	assert_int_equal(parse("/x/y.conf", t, &back, err, sizeof(err)), 0);
	assert_string_equal(back.admin.listen, conf.admin.listen);
	assert_string_equal(back.admin.token, conf.admin.token);
	free(t);
	config_clear(&back);
	config_clear(&conf);
	/* A token alone is fine (for later); so is an empty section. */
	assert_int_equal(parse("tallygw.conf", GW CENTRAL "[admin]\n"
	    "token = /t\n", &conf, err, sizeof(err)), 0);
	config_clear(&conf);

	expect_err(GW CENTRAL "[admin]\n# TCP too\nlisten = localhost:1\n",
	    "tallygw.conf:10: [admin] listen needs a token (the API is "
	    "never open on TCP without one)");
	expect_err(GW CENTRAL "[admin]\nlisten = 127.0.0.1:0\ntoken = /t\n",
	    "tallygw.conf:9: listen: bad port in '127.0.0.1:0' (1..65535)");
	expect_err(GW CENTRAL "[admin]\ntoken =\n",
	    "tallygw.conf:9: token: must not be empty");
	expect_err(GW CENTRAL "[admin]\nsocket = /x\n",
	    "tallygw.conf:9: unknown key 'socket' in [admin]");
	expect_err(GW CENTRAL "[admin]\n[admin]\n",
	    "tallygw.conf:9: [admin] declared twice (first on line 8)");
	expect_err(GW CENTRAL "[admin x]\n",
	    "tallygw.conf:8: [admin] takes no name");
}

static void
expect_err(const char *text, const char *want)
{
	struct gw_conf	 conf;
	char		 err[512];

	if (parse("tallygw.conf", text, &conf, err, sizeof(err)) != -1) {
		print_error("accepted:\n%s\n", text);
		fail();
	}
	assert_string_equal(err, want);
	/* An error leaves no list behind; clearing again is harmless. */
	assert_true(TAILQ_EMPTY(&conf.modems));
	assert_true(TAILQ_EMPTY(&conf.centrals));
	config_clear(&conf);
}

static void
test_full(void **state)
{
	struct gw_conf		 conf;
	struct conf_modem	*m;
	struct conf_central	*c;
	char			 err[512];

	(void)state;
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", full, &conf, err,
	    sizeof(err)), 0);
	assert_string_equal(conf.path, "/etc/tallygw/tallygw.conf");
	assert_string_equal(conf.name, "gw-jabar-1");
	assert_string_equal(conf.state_dir, "/var/lib/tallygw");
	assert_string_equal(conf.key, "/etc/tallygw/root.key");
	assert_string_equal(conf.sign_key, "/etc/tallygw/gateway.sec");
	assert_string_equal(conf.registry, "/var/lib/tallygw/registry.db");
	assert_string_equal(conf.election, "/etc/tallygw/election.conf");
	assert_string_equal(conf.kpps, "/etc/tallygw/kpps.csv");
	assert_string_equal(conf.modem_prog, "/usr/libexec/tallygw-modem");
	assert_string_equal(conf.language, "en");
	assert_int_equal(conf.log_syslog, 1);
	assert_int_equal(conf.log_level, 1);
	assert_int_equal(conf.t.sweep_interval, 30);
	assert_int_equal(conf.t.lockout.window, 1800);
	assert_int_equal(conf.t.multipart_timeout, GW_MULTIPART_TIMEOUT);

	m = TAILQ_FIRST(&conf.modems);
	assert_non_null(m);
	assert_string_equal(m->name, "m1");
	assert_string_equal(m->device, "/dev/ttyUSB0");
	assert_string_equal(m->connection, "at115200");
	assert_string_equal(m->number, "+6281234567890");
	assert_string_equal(m->oper, "Telkomsel");
	assert_int_equal(m->send_cap, 500);
	assert_string_equal(m->balance, "*888#");
	assert_int_equal(m->enabled, 1);
	assert_int_equal(m->role, MODEM_ROLE_BOTH);
	assert_int_equal(m->line, 20);
	m = TAILQ_NEXT(m, entry);
	assert_non_null(m);
	assert_string_equal(m->name, "m2");
	assert_string_equal(m->connection, "at");
	assert_string_equal(m->number, "+6285711112222");
	assert_string_equal(m->oper, "");
	assert_string_equal(m->balance, "");
	assert_int_equal(m->send_cap, GW_SEND_CAP);
	assert_int_equal(m->enabled, 0);
	assert_int_equal(m->role, MODEM_ROLE_RECEIVE);
	assert_null(TAILQ_NEXT(m, entry));
	assert_ptr_equal(config_modem(&conf, "m2"), m);
	assert_null(config_modem(&conf, "m3"));
	assert_null(config_modem(&conf, NULL));

	c = TAILQ_FIRST(&conf.centrals);
	assert_non_null(c);
	assert_string_equal(c->name, "kpu");
	assert_string_equal(c->url, "https://sirekap.example.id/v1/reports");
	assert_int_equal(c->timeout, 30);
	assert_int_equal(c->line, 35);
	c = TAILQ_NEXT(c, entry);
	assert_non_null(c);
	assert_string_equal(c->name, "backup");
	assert_int_equal(c->timeout, GW_FORWARD_TIMEOUT);
	config_clear(&conf);
	assert_true(TAILQ_EMPTY(&conf.modems));
	assert_true(TAILQ_EMPTY(&conf.centrals));
}

static void
test_defaults(void **state)
{
	struct gw_conf	 conf;
	char		 err[512];

	(void)state;
	/* No modem at all is fine: the daemon waits for one. */
	assert_int_equal(parse("tallygw.conf", GW CENTRAL, &conf, err,
	    sizeof(err)), 0);
	assert_true(TAILQ_EMPTY(&conf.modems));
	assert_string_equal(conf.language, "id");
	assert_int_equal(conf.log_syslog, 0);
	assert_int_equal(conf.log_level, 0);
	assert_string_equal(conf.registry, "");
	assert_string_equal(conf.election, "");
	assert_string_equal(conf.kpps, "");
	assert_string_equal(conf.modem_prog, "");
	assert_int_equal(conf.t.sweep_interval, GW_SWEEP_INTERVAL);
	assert_int_equal(conf.t.multipart_timeout, GW_MULTIPART_TIMEOUT);
	assert_int_equal(conf.t.heartbeat_timeout, GW_HEARTBEAT_TIMEOUT);
	assert_int_equal(conf.t.restart_min, GW_RESTART_MIN);
	assert_int_equal(conf.t.restart_max, GW_RESTART_MAX);
	assert_int_equal(conf.t.send_timeout, GW_SEND_TIMEOUT);
	assert_int_equal(conf.t.stop_grace, GW_STOP_GRACE);
	assert_int_equal(conf.t.send_hold_min, GW_SEND_HOLD_MIN);
	assert_int_equal(conf.t.send_hold_max, GW_SEND_HOLD_MAX);
	assert_int_equal(conf.t.reply_retry_max, GW_REPLY_RETRY_MAX);
	assert_int_equal(conf.t.ussd_timeout, GW_USSD_TIMEOUT);
	assert_int_equal(conf.t.ussd_resume, GW_USSD_RESUME);
	assert_int_equal(conf.t.ussd_retry, GW_USSD_RETRY);
	assert_int_equal(conf.ussd.enabled, 0);
	assert_int_equal(conf.t.reply_attempts, GW_REPLY_ATTEMPTS);
	assert_int_equal(conf.t.reply_merge_wait, GW_REPLY_MERGE_WAIT);
	assert_int_equal(conf.t.forward_min, GW_FORWARD_MIN);
	assert_int_equal(conf.t.forward_max, GW_FORWARD_MAX);
	assert_int_equal(conf.t.forward_timeout, GW_FORWARD_TIMEOUT);
	assert_int_equal(conf.t.forward_parallel, GW_FORWARD_PARALLEL);
	assert_int_equal(conf.t.store_cache, GW_STORE_CACHE);
	assert_int_equal(conf.t.rate_limit, GW_RATE_LIMIT);
	assert_int_equal(conf.t.rate_window, GW_RATE_WINDOW);
	assert_int_equal(conf.t.health_interval, GW_HEALTH_INTERVAL);
	assert_int_equal(conf.t.balance_interval, GW_BALANCE_INTERVAL);
	assert_int_equal(conf.t.default_dpt, VERIFY_DEFAULT_DPT);
	assert_int_equal(conf.t.lockout.max_failures, LOCKOUT_MAX_FAILURES);
	assert_int_equal(conf.t.lockout.window, LOCKOUT_WINDOW);
	assert_int_equal(conf.t.lockout.duration, LOCKOUT_DURATION);
	assert_int_equal(conf.t.lockout.alert_failures,
	    LOCKOUT_ALERT_FAILURES);
	config_clear(&conf);

	/* A central's timeout follows [tunables] forward_timeout. */
	assert_int_equal(parse("tallygw.conf", GW CENTRAL
	    "[tunables]\nforward_timeout = 42\n", &conf, err, sizeof(err)), 0);
	assert_int_equal(TAILQ_FIRST(&conf.centrals)->timeout, 42);
	config_clear(&conf);
}

/* Every tunable by name lands in its own field. */
static void
test_tunables(void **state)
{
	static const char *names[] = {
		"sweep_interval", "multipart_timeout", "heartbeat_timeout",
		"restart_min", "restart_max", "send_timeout",
		"reply_attempts", "reply_merge_wait", "forward_min",
		"forward_max", "forward_timeout", "forward_parallel",
		"rate_limit", "rate_window", "health_interval",
		"balance_interval", "default_dpt", "lockout_max_failures",
		"lockout_window", "lockout_duration",
		"lockout_alert_failures", "stop_grace", "send_hold_min",
		"send_hold_max", "reply_retry_max", "ussd_timeout",
		"ussd_resume", "ussd_retry", "store_cache",
	};
	struct gw_conf	 conf;
	char		 text[4096], err[512], want[512];
	size_t		 i, n;
	long		 got[29];

	(void)state;
	n = snprintf(text, sizeof(text), "%s%s[tunables]\n", GW, CENTRAL);
	for (i = 0; i < 29; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s = %zu\n",
		    names[i], 100 + i);
	assert_int_equal(parse("tallygw.conf", text, &conf, err, sizeof(err)),
	    0);
	got[0] = conf.t.sweep_interval;
	got[1] = conf.t.multipart_timeout;
	got[2] = conf.t.heartbeat_timeout;
	got[3] = conf.t.restart_min;
	got[4] = conf.t.restart_max;
	got[5] = conf.t.send_timeout;
	got[6] = conf.t.reply_attempts;
	got[7] = conf.t.reply_merge_wait;
	got[8] = conf.t.forward_min;
	got[9] = conf.t.forward_max;
	got[10] = conf.t.forward_timeout;
	got[11] = conf.t.forward_parallel;
	got[12] = conf.t.rate_limit;
	got[13] = conf.t.rate_window;
	got[14] = conf.t.health_interval;
	got[15] = conf.t.balance_interval;
	got[16] = conf.t.default_dpt;
	got[17] = conf.t.lockout.max_failures;
	got[18] = conf.t.lockout.window;
	got[19] = conf.t.lockout.duration;
	got[20] = conf.t.lockout.alert_failures;
	got[21] = conf.t.stop_grace;
	got[22] = conf.t.send_hold_min;
	got[23] = conf.t.send_hold_max;
	got[24] = conf.t.reply_retry_max;
	got[25] = conf.t.ussd_timeout;
	got[26] = conf.t.ussd_resume;
	got[27] = conf.t.ussd_retry;
	got[28] = conf.t.store_cache;
	for (i = 0; i < 29; i++)
		assert_int_equal(got[i], 100 + i);
	config_clear(&conf);

	/* Each refuses a negative value, naming itself and the line. */
	for (i = 0; i < 29; i++) {
		snprintf(text, sizeof(text), "%s%s[tunables]\n%s = -1\n", GW,
		    CENTRAL, names[i]);
		assert_int_equal(parse("tallygw.conf", text, &conf, err,
		    sizeof(err)), -1);
		snprintf(want, sizeof(want), "tallygw.conf:9: %s: out of "
		    "range ", names[i]);
		assert_memory_equal(err, want, strlen(want));
		assert_non_null(strstr(err, ": '-1'"));
	}
}

static void
test_errors(void **state)
{
	(void)state;
	/* The examples of the contract. */
	expect_err(GW CENTRAL
	    "[modem m1]\n"			/* 8 */
	    "device = /dev/ttyUSB0\n"
	    "number = +6281234567890\n"
	    "\n"
	    "devise = /dev/ttyUSB1\n",		/* 12 */
	    "tallygw.conf:12: unknown key 'devise' in [modem m1]");
	expect_err("[gateway]\nname = gw1\nstate /s\n",
	    "tallygw.conf:3: line is not 'key = value'");
	expect_err(GW CENTRAL
	    "[modem m1]\n"			/* 8 */
	    "device = /dev/ttyUSB0\n"
	    "number = +6281234567890\n"
	    "[modem m1]\n",			/* 11 */
	    "tallygw.conf:11: modem 'm1' declared twice");
	expect_err(GW
	    "[modem m1]\n"			/* 6 */
	    "send_cap = x\n",
	    "tallygw.conf:7: send_cap: not a number: 'x'");
	expect_err(GW CENTRAL
	    "[modem m2]\n"			/* 8 */
	    "number = +6281234567890\n"
	    "[tunables]\n",
	    "tallygw.conf:8: [modem m2]: device is required");
	expect_err(GW CENTRAL
	    "[modem m2]\n"			/* 8 */
	    "device = /dev/ttyUSB0\n",
	    "tallygw.conf:8: [modem m2]: number is required");
	expect_err(CENTRAL "[gateway]\nstate = /s\nkey = /k\nsign_key = /s\n",
	    "tallygw.conf: [gateway] name is required");
	expect_err("[gateway]\nname = gw1\nkey = /k\nsign_key = /s\n" CENTRAL,
	    "tallygw.conf: [gateway] state is required");
	expect_err("[gateway]\nname = gw1\nstate = /s\nsign_key = /s\n"
	    CENTRAL, "tallygw.conf: [gateway] key is required");
	expect_err("[gateway]\nname = gw1\nstate = /s\nkey = /k\n" CENTRAL,
	    "tallygw.conf: [gateway] sign_key is required");
	expect_err(CENTRAL, "tallygw.conf: [gateway] name is required");
	expect_err("", "tallygw.conf: [gateway] name is required");
	expect_err(GW, "tallygw.conf: at least one [central NAME] is "
	    "required");
	expect_err(GW "[central c1]\ntimeout = 5\n",
	    "tallygw.conf:6: [central c1]: url is required");

	/* Sections. */
	expect_err(GW "[modems m1]\n", "tallygw.conf:6: unknown section "
	    "'[modems m1]' (use [gateway], [tunables], [modem NAME], "
	    "[central NAME], [ussd], [admin] or [alerts])");
	expect_err(GW "[]\n", "tallygw.conf:6: empty section header");
	expect_err(GW "[modem m1\n",
	    "tallygw.conf:6: section header without ']'");
	expect_err(GW "[modem m1] x\n",
	    "tallygw.conf:6: text after the section header: 'x'");
	expect_err(GW "[modem]\n",
	    "tallygw.conf:6: [modem] needs a name: [modem NAME]");
	expect_err(GW "[central]\n",
	    "tallygw.conf:6: [central] needs a name: [central NAME]");
	expect_err(GW "[modem a/b]\n", "tallygw.conf:6: modem name must be "
	    "1..31 characters of A-Z a-z 0-9 . _ -: 'a/b'");
	expect_err(GW "[modem a2345678901234567890123456789012]\n",
	    "tallygw.conf:6: modem name must be 1..31 characters of A-Z "
	    "a-z 0-9 . _ -: 'a2345678901234567890123456789012'");
	expect_err(GW "[gateway x]\n",
	    "tallygw.conf:6: [gateway] takes no name");
	expect_err(GW "[gateway]\n",
	    "tallygw.conf:6: [gateway] declared twice (first on line 1)");
	expect_err(GW "[tunables]\n[tunables]\n",
	    "tallygw.conf:7: [tunables] declared twice (first on line 6)");
	expect_err(GW CENTRAL "[central c1]\n",
	    "tallygw.conf:8: central 'c1' declared twice");

	/* Lines. */
	expect_err("name = gw1\n", "tallygw.conf:1: key 'name' outside any "
	    "section (first a [gateway], [tunables], [modem NAME] or "
	    "[central NAME] line)");
	expect_err("[gateway]\n = x\n",
	    "tallygw.conf:2: line is not 'key = value'");
	expect_err(GW "name = gw2\n", "tallygw.conf:6: duplicate key 'name' "
	    "in [gateway] (first on line 2)");
	expect_err(GW "[tunables]\nbogus = 1\n",
	    "tallygw.conf:7: unknown key 'bogus' in [tunables]");
	expect_err(GW "colour = red\n",
	    "tallygw.conf:6: unknown key 'colour' in [gateway]");
	expect_err(GW CENTRAL "user = x\n",
	    "tallygw.conf:8: unknown key 'user' in [central c1]");
	expect_err(GW "language = \"id\n",
	    "tallygw.conf:6: missing closing quote");
	expect_err(GW "language = \"id\" x\n",
	    "tallygw.conf:6: text after the closing quote: 'x'");
	expect_err(GW "language = i\001d\n", "tallygw.conf:6: line contains "
	    "a control character (byte 0x01)");
	expect_err(GW "language = id\r\r\n", "tallygw.conf:6: line contains "
	    "a control character (byte 0x0d)");

	/* Values. */
	expect_err("[gateway]\nname = gw 1\n", "tallygw.conf:2: name: must "
	    "be 1..63 characters of A-Z a-z 0-9 . _ -: 'gw 1'");
	expect_err("[gateway]\nname =\n", "tallygw.conf:2: name: must "
	    "be 1..63 characters of A-Z a-z 0-9 . _ -: ''");
	expect_err("[gateway]\nstate = \"\"\n",
	    "tallygw.conf:2: state: must not be empty");
	expect_err(GW "language = jv\n",
	    "tallygw.conf:6: language: must be id or en: 'jv'");
	expect_err(GW "log = file\n",
	    "tallygw.conf:6: log: must be stderr or syslog: 'file'");
	expect_err(GW "log_level = warn\n",
	    "tallygw.conf:6: log_level: must be info or debug: 'warn'");
	expect_err(GW "[modem m]\nenabled = true\n",
	    "tallygw.conf:7: enabled: must be yes or no: 'true'");
	expect_err(GW "[modem m]\nrole = send\n",
	    "tallygw.conf:7: role: must be both or receive: 'send'");
	expect_err(GW "[modem m]\ndevice = /dev/x\n\nrole = Receive\n",
	    "tallygw.conf:9: role: must be both or receive: 'Receive'");
	expect_err(GW "[modem m]\nrole =\n",
	    "tallygw.conf:7: role: must be both or receive: ''");
	expect_err(GW "[modem m]\nsend_cap = -5\n",
	    "tallygw.conf:7: send_cap: out of range 0..1000000: '-5'");
	expect_err(GW "[modem m]\nsend_cap = 99999999999999999999\n",
	    "tallygw.conf:7: send_cap: out of range 0..1000000: "
	    "'99999999999999999999'");
	expect_err(GW "[modem m]\nsend_cap = 5 x\n",
	    "tallygw.conf:7: send_cap: not a number: '5 x'");
	expect_err(GW "[modem m]\nbalance = *888*1?\n", "tallygw.conf:7: "
	    "balance: not a USSD code (digits, * and #, e.g. *888#): "
	    "'*888*1?'");
	expect_err(GW "[modem m]\nconnection = at 115200\n",
	    "tallygw.conf:7: connection: not a libGammu connection name "
	    "(at, at115200, ...): 'at 115200'");
	expect_err(GW "[modem m]\noperator = "
	    "\"An operator with a very long name\"\n",
	    "tallygw.conf:7: operator: too long (at most 31 bytes)");
	expect_err(GW CENTRAL
	    "[modem m1]\n"
	    "device = /dev/ttyUSB0\n"
	    "number = +6281234567890\n"
	    "[modem m2]\n"			/* 11 */
	    "device = /dev/ttyUSB0\n"
	    "number = +6281234567891\n",
	    "tallygw.conf:12: device: '/dev/ttyUSB0' is already used by "
	    "[modem m1]");
	expect_err(GW CENTRAL
	    "[modem m1]\n"
	    "device = /dev/ttyUSB0\n"
	    "number = +6281234567890\n"
	    "[modem m2]\n"			/* 11 */
	    "number = 081234567890\n"
	    "device = /dev/ttyUSB1\n",
	    "tallygw.conf:12: number: +6281234567890 is already used by "
	    "[modem m1]");
	expect_err(GW CENTRAL "[central c2]\n"
	    "url = http://127.0.0.1:8080/v1/reports\n",
	    "tallygw.conf:9: url: already used by [central c1]");

	/* Cross-checks name the line that set the maximum. */
	expect_err(GW CENTRAL "[tunables]\nrestart_min = 10\n"
	    "restart_max = 5\n",
	    "tallygw.conf:10: restart_max (5) is less than restart_min (10)");
	expect_err(GW CENTRAL "[tunables]\nsend_hold_min = 60\n"
	    "send_hold_max = 30\n",
	    "tallygw.conf:10: send_hold_max (30) is less than send_hold_min "
	    "(60)");
	expect_err(GW CENTRAL "[tunables]\nforward_min = 600\n",
	    "tallygw.conf:9: forward_max (300) is less than forward_min "
	    "(600)");
	expect_err(GW CENTRAL "[tunables]\nsweep_interval = 0\n",
	    "tallygw.conf:9: sweep_interval: out of range 1..31622400: '0'");
}

static void
test_numbers(void **state)
{
	static const struct {
		const char	*in;
		const char	*want;	/* NULL: refused */
	} cases[] = {
		{ "+6281234567890", "+6281234567890" },
		{ "081234567890", "+6281234567890" },
		{ "6281234567890", "+6281234567890" },
		{ "0812-3456-7890", "+6281234567890" },
		{ "\"+62 812 3456 7890\"", "+6281234567890" },
		{ "+12345678", "+12345678" },		/* 8 digits */
		{ "+123456789012345", "+123456789012345" }, /* 15 */
		{ "+1234567", NULL },			/* 7 */
		{ "+1234567890123456", NULL },		/* 16 */
		{ "81234567890", NULL },		/* no prefix */
		{ "0081234567890", NULL },		/* international */
		{ "+0812345678", NULL },
		{ "+62812x4567890", NULL },
		{ "+", NULL },
		{ "0", NULL },
		{ "++6281234567890", NULL },
	};
	struct gw_conf	 conf;
	char		 text[1024], err[512];
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s%s[modem m]\ndevice = /d\n"
		    "number = %s\n", GW, CENTRAL, cases[i].in);
		rc = parse("tallygw.conf", text, &conf, err, sizeof(err));
		if (cases[i].want == NULL) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err, "tallygw.conf:10: number: "
			    "not a phone number"));
			continue;
		}
		if (rc != 0)
			print_error("%s: %s\n", cases[i].in, err);
		assert_int_equal(rc, 0);
		assert_string_equal(TAILQ_FIRST(&conf.modems)->number,
		    cases[i].want);
		config_clear(&conf);
	}
}

static void
test_urls(void **state)
{
	static const struct {
		const char	*url;
		int		 ok;
	} cases[] = {
		{ "http://127.0.0.1:8080/v1/reports", 1 },
		{ "https://sirekap.kpu.go.id/v1/reports", 1 },
		{ "http://[::1]:8080/v1/reports", 1 },
		{ "http://central/", 1 },
		{ "http://central:1/x?y=1", 1 },
		{ "ftp://central/v1", 0 },
		{ "http:///v1", 0 },
		{ "http://central", 0 },
		{ "http://central:0/v1", 0 },
		{ "http://central:65536/v1", 0 },
		{ "http://central:/v1", 0 },
		{ "http://[]/v1", 0 },
		{ "http://user@central/v1", 0 },
		{ "http://central/v 1", 0 },
		{ "central:8080/v1", 0 },
	};
	struct gw_conf	 conf;
	char		 text[1024], err[512];
	size_t		 i;
	int		 rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "%s[central c]\nurl = \"%s\"\n",
		    GW, cases[i].url);
		rc = parse("tallygw.conf", text, &conf, err, sizeof(err));
		if (rc != (cases[i].ok ? 0 : -1))
			print_error("%s: rc %d %s\n", cases[i].url, rc, err);
		assert_int_equal(rc, cases[i].ok ? 0 : -1);
		if (cases[i].ok)
			assert_string_equal(TAILQ_FIRST(&conf.centrals)->url,
			    cases[i].url);
		else
			assert_non_null(strstr(err, "tallygw.conf:7: url: "));
		config_clear(&conf);
	}
}

static void
test_quoting(void **state)
{
	struct gw_conf		 conf;
	struct conf_modem	*m;
	char			 err[512];
	const char		*text =
	    "\xef\xbb\xbf# a byte order mark first, CRLF lines\r\n"
	    "  ; an indented comment\r\n"
	    "\t[gateway]\t# header comment\r\n"
	    "name=gw1\r\n"
	    "state =\t/s#not-a-comment\r\n"
	    "key = \"/k # kept\"   # a comment\r\n"
	    "sign_key = \"/a\\\"b\\\\c\\d\"\r\n"
	    "[ modem   m1 ]\r\n"
	    "device = \" /dev/ttyUSB0\"\r\n"
	    "number = +6281234567890 # comment\r\n"
	    "operator = Tri Indie#  \r\n"
	    "balance = #123#  # a USSD code may start with #\r\n"
	    "[modem m2]\n"
	    "device = /dev/ttyUSB1\n"
	    "number = +6281234567891\n"
	    "balance = *123#\n"
	    "operator = \"\"\n"
	    CENTRAL;

	(void)state;
	assert_int_equal(parse("tallygw.conf", text, &conf, err, sizeof(err)),
	    0);
	assert_string_equal(conf.name, "gw1");
	assert_string_equal(conf.state_dir, "/s#not-a-comment");
	assert_string_equal(conf.key, "/k # kept");
	assert_string_equal(conf.sign_key, "/a\"b\\c\\d");
	m = config_modem(&conf, "m1");
	assert_non_null(m);
	/* Quoted: the leading space is kept, so the path is relative. */
	assert_non_null(strstr(m->device, "/ /dev/ttyUSB0"));
	assert_string_equal(m->number, "+6281234567890");
	assert_string_equal(m->oper, "Tri Indie#");
	assert_string_equal(m->balance, "#123#");
	m = config_modem(&conf, "m2");
	assert_non_null(m);
	assert_string_equal(m->balance, "*123#");
	assert_string_equal(m->oper, "");
	config_clear(&conf);
}

static void
test_nul(void **state)
{
	struct gw_conf	 conf;
	char		 err[512];
	static const char text[] = GW "lang\0uage = id\n" CENTRAL;

	(void)state;
	assert_int_equal(config_parse("tallygw.conf", text, sizeof(text) - 1,
	    &conf, err, sizeof(err)), -1);
	assert_string_equal(err, "tallygw.conf:6: line contains a NUL byte");
	assert_int_equal(config_parse("tallygw.conf", "\0", 1, &conf, err,
	    sizeof(err)), -1);
	assert_string_equal(err, "tallygw.conf:1: line contains a NUL byte");
	/* A short error buffer is cut, never overrun. */
	memset(err, 'x', sizeof(err));
	assert_int_equal(config_parse("tallygw.conf", "", 0, &conf, err, 8),
	    -1);
	assert_string_equal(err, "tallygw");
	assert_int_equal(err[8], 'x');
	assert_int_equal(config_parse("tallygw.conf", "", 0, &conf, NULL, 0),
	    -1);
}

static void
test_relative(void **state)
{
	struct gw_conf		 conf;
	struct conf_modem	*m;
	char			 err[512], cwd[PATH_MAX], want[PATH_MAX + 64];
	const char		*text =
	    "[gateway]\nname = gw1\nstate = state\nkey = ./keys/root.key\n"
	    "sign_key = ../gw.sec\n"
	    "[modem tty]\ndevice = modem0\nnumber = 081234567890\n"
	    "[modem bt]\ndevice = 00:11:22:33:44:55\n"
	    "connection = bluerfat\nnumber = 081234567891\n" CENTRAL;

	(void)state;
	assert_int_equal(parse("/etc/tg/tallygw.conf", text, &conf, err,
	    sizeof(err)), 0);
	assert_string_equal(conf.state_dir, "/etc/tg/state");
	assert_string_equal(conf.key, "/etc/tg/keys/root.key");
	assert_string_equal(conf.sign_key, "/etc/tg/../gw.sec");
	m = config_modem(&conf, "tty");
	assert_string_equal(m->device, "/etc/tg/modem0");
	m = config_modem(&conf, "bt");
	assert_string_equal(m->device, "00:11:22:33:44:55");
	config_clear(&conf);

	/* A file in the root directory. */
	assert_int_equal(parse("/tallygw.conf", text, &conf, err,
	    sizeof(err)), 0);
	assert_string_equal(conf.state_dir, "/state");
	assert_string_equal(conf.path, "/tallygw.conf");
	config_clear(&conf);

	/* A relative file name: against the current directory. */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(parse("sub/tallygw.conf", text, &conf, err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/sub/state", cwd);
	assert_string_equal(conf.state_dir, want);
	snprintf(want, sizeof(want), "%s/sub/tallygw.conf", cwd);
	assert_string_equal(conf.path, want);
	config_clear(&conf);
	assert_int_equal(parse("tallygw.conf", text, &conf, err,
	    sizeof(err)), 0);
	snprintf(want, sizeof(want), "%s/state", cwd);
	assert_string_equal(conf.state_dir, want);
	config_clear(&conf);
}

static char *
print_to_string(const struct gw_conf *conf)
{
	char	*buf = NULL;
	size_t	 len = 0;
	FILE	*fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	config_print(conf, fp);
	assert_int_equal(fclose(fp), 0);
	return (buf);
}

/*
 * [alerts]: each alert's threshold under its own name (defaults from
 * gw.h), the operators' numbers, the hook; and [admin] web.
 */
static void
test_alerts(void **state)
{
	static const char *names[] = { "modem_down", "sim_full",
	    "balance_low", "cap_near", "modem_silent", "central_down",
	    "forward_failed", "lockout_storm", "disk_low" };
	static const int defaults[] = { 60, 80, 10000, 90, 1800, 120, 1, 50,
	    1024 };
	struct gw_conf	 conf, back;
	char		 text[2048], err[512], *t;
	size_t		 i, n;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), ALERT_KINDS);
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", GW CENTRAL,
	    &conf, err, sizeof(err)), 0);
	for (i = 0; i < ALERT_KINDS; i++) {
		assert_string_equal(config_alert_name((enum alert_kind)i),
		    names[i]);
		assert_int_equal(conf.alerts.limit[i], defaults[i]);
	}
	assert_string_equal(config_alert_name(ALERT_KINDS), "unknown");
	assert_int_equal(conf.alerts.sms_interval, 600);
	assert_int_equal(conf.alerts.nsms, 0);
	assert_string_equal(conf.alerts.hook, "");
	assert_int_equal(conf.alerts.line, 0);
	/* the dashboard's files: where make install puts them */
	assert_non_null(strstr(conf.admin.web, "/share/tallygw/web"));
	config_clear(&conf);

	n = snprintf(text, sizeof(text), "%s%s[admin]\nweb = ui\n[alerts]\n",
	    GW, CENTRAL);
	for (i = 0; i < ALERT_KINDS; i++)
		n += snprintf(text + n, sizeof(text) - n, "%s = %zu\n",
		    names[i], 7 + i);
	snprintf(text + n, sizeof(text) - n, "sms_interval = 0\n"
	    "hook = bin/alert-hook\n"
	    "sms = 0812-3456-7890, +6285711112222 ,6281398765432\n");
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", text, &conf, err,
	    sizeof(err)), 0);
	for (i = 0; i < ALERT_KINDS; i++)
		assert_int_equal(conf.alerts.limit[i], 7 + (int)i);
	assert_int_equal(conf.alerts.sms_interval, 0);
	assert_string_equal(conf.alerts.hook, "/etc/tallygw/bin/alert-hook");
	assert_string_equal(conf.admin.web, "/etc/tallygw/ui");
	assert_int_equal(conf.alerts.nsms, 3);
	assert_string_equal(conf.alerts.sms[0], "+6281234567890");
	assert_string_equal(conf.alerts.sms[1], "+6285711112222");
	assert_string_equal(conf.alerts.sms[2], "+6281398765432");
	assert_int_equal(conf.alerts.line, 10);
	/* Printed, then read back: the same. */
	t = print_to_string(&conf);
	assert_non_null(strstr(t,
	    "\n[alerts]\nmodem_down = 7\nsim_full = 8\n"));
	assert_non_null(strstr(t, "\nsms = +6281234567890, +6285711112222, "
	    "+6281398765432\n"));
	assert_non_null(strstr(t, "\nweb = /etc/tallygw/ui\n"));
	assert_int_equal(parse("/x/y.conf", t, &back, err, sizeof(err)), 0);
	assert_memory_equal(back.alerts.limit, conf.alerts.limit,
	    sizeof(conf.alerts.limit));
	assert_memory_equal(back.alerts.sms, conf.alerts.sms,
	    sizeof(conf.alerts.sms));
	assert_string_equal(back.alerts.hook, conf.alerts.hook);
	assert_string_equal(back.admin.web, conf.admin.web);
	free(t);
	config_clear(&back);
	config_clear(&conf);
	/* Nothing set: the printout says so, and reads back. */
	assert_int_equal(parse("/etc/t.conf", GW CENTRAL, &conf, err,
	    sizeof(err)), 0);
	t = print_to_string(&conf);
	assert_non_null(strstr(t, "\n# hook: none"));
	assert_non_null(strstr(t, "\n# sms: none"));
	assert_int_equal(parse("/x/y.conf", t, &back, err, sizeof(err)), 0);
	free(t);
	config_clear(&back);
	config_clear(&conf);

	expect_err(GW CENTRAL "[alerts]\nsim_full = 101\n",
	    "tallygw.conf:9: sim_full: out of range 0..100: '101'");
	expect_err(GW CENTRAL "[alerts]\ncap_near = -1\n",
	    "tallygw.conf:9: cap_near: out of range 0..100: '-1'");
	expect_err(GW CENTRAL "[alerts]\ndisk_low = lots\n",
	    "tallygw.conf:9: disk_low: not a number: 'lots'");
	expect_err(GW CENTRAL "[alerts]\nsms = +6281234567890, 12345\n",
	    "tallygw.conf:9: sms: not a phone number (+62812..., 0812... "
	    "or 62812...): '12345'");
	expect_err(GW CENTRAL "[alerts]\nsms = 081234567890, "
	    "+6281234567890\n",
	    "tallygw.conf:9: sms: +6281234567890 is listed twice");
	expect_err(GW CENTRAL "[alerts]\nsms = 0811000001, 0811000002, "
	    "0811000003, 0811000004, 0811000005, 0811000006, 0811000007, "
	    "0811000008, 0811000009, 0811000010, 0811000011, 0811000012, "
	    "0811000013, 0811000014, 0811000015, 0811000016, 0811000017\n",
	    "tallygw.conf:9: sms: at most 16 numbers");
	expect_err(GW CENTRAL "[alerts]\nmodem_up = 1\n",
	    "tallygw.conf:9: unknown key 'modem_up' in [alerts]");
	expect_err(GW CENTRAL "[alerts]\n[alerts]\n",
	    "tallygw.conf:9: [alerts] declared twice (first on line 8)");
	expect_err(GW CENTRAL "[alerts x]\n",
	    "tallygw.conf:8: [alerts] takes no name");
	expect_err(GW CENTRAL "[admin]\nweb =\n",
	    "tallygw.conf:9: web: must not be empty");
}

static void
test_print(void **state)
{
	struct gw_conf		 a, b;
	struct conf_modem	*ma, *mb;
	struct conf_central	*ca, *cb;
	char			 err[512], *t1, *t2;
	const char		*odd =
	    GW "[modem q]\ndevice = \"/dev/x # y\"\nnumber = +6281234567890\n"
	    "operator = \"\\\"Tel\\\\\"\nbalance = #123#\n" CENTRAL;

	(void)state;
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", full, &a, err,
	    sizeof(err)), 0);
	t1 = print_to_string(&a);
	assert_non_null(strstr(t1, "[gateway]\nname = gw-jabar-1\n"));
	assert_non_null(strstr(t1, "\nsweep_interval = 30\n"));
	assert_non_null(strstr(t1, "\nlockout_window = 1800\n"));
	assert_non_null(strstr(t1, "\nrate_limit = 60\n"));
	assert_non_null(strstr(t1, "\n[modem m2]\ndevice = /dev/ttyUSB1\n"));
	assert_non_null(strstr(t1, "\nenabled = no\nrole = receive\n"));
	assert_non_null(strstr(t1, "\nenabled = yes\nrole = both\n"));
	assert_non_null(strstr(t1, "\n[central backup]\n"
	    "url = http://127.0.0.1:8080/v1/reports\ntimeout = 15\n"));
	/* Read back, the printout means the same configuration. */
	assert_int_equal(parse("/elsewhere/x.conf", t1, &b, err,
	    sizeof(err)), 0);
	assert_string_equal(a.name, b.name);
	assert_string_equal(a.sign_key, b.sign_key);
	assert_string_equal(a.kpps, b.kpps);
	assert_string_equal(a.language, b.language);
	assert_int_equal(a.log_syslog, b.log_syslog);
	assert_memory_equal(&a.t, &b.t, sizeof(a.t));
	for (ma = TAILQ_FIRST(&a.modems), mb = TAILQ_FIRST(&b.modems);
	    ma != NULL && mb != NULL;
	    ma = TAILQ_NEXT(ma, entry), mb = TAILQ_NEXT(mb, entry)) {
		assert_string_equal(ma->name, mb->name);
		assert_string_equal(ma->device, mb->device);
		assert_string_equal(ma->connection, mb->connection);
		assert_string_equal(ma->number, mb->number);
		assert_string_equal(ma->oper, mb->oper);
		assert_string_equal(ma->balance, mb->balance);
		assert_int_equal(ma->send_cap, mb->send_cap);
		assert_int_equal(ma->enabled, mb->enabled);
		assert_int_equal(ma->role, mb->role);
	}
	assert_null(ma);
	assert_null(mb);
	for (ca = TAILQ_FIRST(&a.centrals), cb = TAILQ_FIRST(&b.centrals);
	    ca != NULL && cb != NULL;
	    ca = TAILQ_NEXT(ca, entry), cb = TAILQ_NEXT(cb, entry)) {
		assert_string_equal(ca->url, cb->url);
		assert_int_equal(ca->timeout, cb->timeout);
	}
	assert_null(ca);
	assert_null(cb);
	config_clear(&a);
	config_clear(&b);
	free(t1);

	/* Values that need quotes survive the trip. */
	assert_int_equal(parse("/etc/t.conf", odd, &a, err, sizeof(err)), 0);
	t1 = print_to_string(&a);
	assert_non_null(strstr(t1, "device = \"/dev/x # y\"\n"));
	assert_non_null(strstr(t1, "operator = \"\\\"Tel\\\\\"\n"));
	assert_int_equal(parse("/etc/t.conf", t1, &b, err, sizeof(err)), 0);
	assert_string_equal(config_modem(&b, "q")->device, "/dev/x # y");
	assert_string_equal(config_modem(&b, "q")->oper, "\"Tel\\");
	assert_string_equal(config_modem(&b, "q")->balance, "#123#");
	t2 = print_to_string(&b);
	assert_string_equal(t1, t2);
	config_clear(&a);
	config_clear(&b);
	free(t1);
	free(t2);
}

/*
 * user (the account to drop root to) and a central's ca_file (its TLS
 * certificate's CA, or the certificate itself): parsed, checked,
 * printed and read back.
 */
static void
test_user_ca(void **state)
{
	struct gw_conf		 a, b;
	struct conf_central	*c;
	char			 err[512], *t;

	(void)state;
	assert_int_equal(parse("/etc/tallygw/tallygw.conf", GW
	    "user = tallygw\n"
	    "[central kpu]\n"
	    "url = https://kpu.example.id/v1/reports\n"
	    "ca_file = kpu-ca.pem\n"
	    "[central local]\n"
	    "url = https://127.0.0.1:8443/v1/reports\n"
	    "ca_file = /etc/ssl/local.pem\n" CENTRAL, &a, err, sizeof(err)),
	    0);
	assert_string_equal(a.user, "tallygw");
	c = TAILQ_FIRST(&a.centrals);
	assert_string_equal(c->ca_file, "/etc/tallygw/kpu-ca.pem");
	c = TAILQ_NEXT(c, entry);
	assert_string_equal(c->ca_file, "/etc/ssl/local.pem");
	c = TAILQ_NEXT(c, entry);
	assert_string_equal(c->name, "c1");
	assert_string_equal(c->ca_file, "");
	t = print_to_string(&a);
	assert_non_null(strstr(t, "\nuser = tallygw\n"));
	assert_non_null(strstr(t, "\nca_file = /etc/tallygw/kpu-ca.pem\n"));
	assert_non_null(strstr(t, "\n# ca_file: the system's CA "
	    "certificates\n"));
	assert_int_equal(parse("/elsewhere/x.conf", t, &b, err, sizeof(err)),
	    0);
	assert_string_equal(b.user, "tallygw");
	assert_string_equal(TAILQ_FIRST(&b.centrals)->ca_file,
	    "/etc/tallygw/kpu-ca.pem");
	free(t);
	config_clear(&a);
	config_clear(&b);

	/* Without them: no user to become, the system's CAs. */
	assert_int_equal(parse("tallygw.conf", GW CENTRAL, &a, err,
	    sizeof(err)), 0);
	assert_string_equal(a.user, "");
	assert_string_equal(TAILQ_FIRST(&a.centrals)->ca_file, "");
	t = print_to_string(&a);
	assert_non_null(strstr(t, "\n# user: not set (runs as the user that "
	    "starts it)\n"));
	free(t);
	config_clear(&a);

	expect_err(GW "user = -x\n" CENTRAL,
	    "tallygw.conf:6: user: not a user name (1..31 characters of "
	    "A-Z a-z 0-9 . _ -): '-x'");
	expect_err(GW "user = tally gw\n" CENTRAL,
	    "tallygw.conf:6: user: not a user name (1..31 characters of "
	    "A-Z a-z 0-9 . _ -): 'tally gw'");
	expect_err(GW "user = abcdefghijklmnopqrstuvwxyz0123456\n" CENTRAL,
	    "tallygw.conf:6: user: not a user name (1..31 characters of "
	    "A-Z a-z 0-9 . _ -): 'abcdefghijklmnopqrstuvwxyz0123456'");
	/* A CA file for plain HTTP means a mistake: which one was meant? */
	expect_err(GW CENTRAL "timeout = 5\nca_file = /etc/ca.pem\n",
	    "tallygw.conf:9: ca_file: only for an https:// url");
	expect_err(GW "[central c2]\nca_file = /ca.pem\n"
	    "url = https://h/\nca_file = /ca2.pem\n",
	    "tallygw.conf:9: duplicate key 'ca_file' in [central c2] "
	    "(first on line 7)");
}

static void
test_load(void **state)
{
	struct gw_conf	 conf;
	char		 dir[] = "/tmp/test_configXXXXXX", path[PATH_MAX];
	char		 err[PATH_MAX + 256], want[PATH_MAX + 256];
	FILE		*fp;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/tallygw.conf", dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[gateway]\nname = gw1\nstate = run\nkey = root.key\n"
	    "sign_key = gw.sec\nregistry = \"\"\n" CENTRAL, fp);
	fclose(fp);
	assert_int_equal(config_load(path, &conf, err, sizeof(err)), 0);
	assert_string_equal(conf.path, path);
	snprintf(want, sizeof(want), "%s/run", dir);
	assert_string_equal(conf.state_dir, want);
	snprintf(want, sizeof(want), "%s/root.key", dir);
	assert_string_equal(conf.key, want);
	assert_string_equal(conf.registry, "");
	config_clear(&conf);

	/* An error names the file as it was given. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("[gateway]\nname = gw1\nstatus = x\n", fp);
	fclose(fp);
	assert_int_equal(config_load(path, &conf, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s:3: unknown key 'status' in "
	    "[gateway]", path);
	assert_string_equal(err, want);
	config_clear(&conf);

	assert_int_equal(unlink(path), 0);
	assert_int_equal(config_load(path, &conf, err, sizeof(err)), -1);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	config_clear(&conf);
	assert_int_equal(config_load(dir, &conf, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	config_clear(&conf);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_tunables),
		cmocka_unit_test(test_ussd),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_nul),
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_print),
		cmocka_unit_test(test_admin),
		cmocka_unit_test(test_alerts),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_user_ca),
	};

	log_setverbose(-1);	/* the warnings are expected */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
