/*
 * config: tallygw's configuration file (docs/tallygw.md).
 *
 * INI style: [gateway], [tunables], [modem NAME], [central NAME],
 * [ussd], [admin] and [alerts] sections of "key = value" lines. The parser is
 * table-driven: each section has a table of keys and a function per
 * key. Every error
 * names the file, the line and the problem ("FILE:LINE: problem");
 * a required key that is missing names its section's header line, and
 * a missing [gateway] key names no line at all. Relative paths are
 * taken relative to the directory of the file and stored absolute.
 */

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw.h"
#include "log.h"

#define CONFIG_FILE_MAX		(1024 * 1024)
#define CONFIG_MODEMS_MAX	256
#define CONFIG_CENTRALS_MAX	16
#define CONFIG_SECONDS_MAX	(366 * 86400)	/* any interval: a year */
#define CONFIG_COUNT_MAX	1000000
#define CONFIG_KEYS_MAX		32		/* keys in one section */
#define CONFIG_NUMBER_MIN	8		/* digits after the + */
#define CONFIG_NUMBER_MAX	15		/* E.164 */

enum config_section {
	SEC_NONE = 0,
	SEC_GATEWAY,
	SEC_TUNABLES,
	SEC_MODEM,
	SEC_CENTRAL,
	SEC_USSD,
	SEC_ADMIN,
	SEC_ALERTS,
};

struct config_ctx {
	struct gw_conf		*conf;
	const char		*file;		/* as named in errors */
	char			 dir[PATH_MAX];	/* absolute, of file */
	int			 line;
	char			*err;
	size_t			 errlen;
	enum config_section	 sec;
	int			 sec_line;	/* header of the section */
	char			 label[GW_MODEM_NAME_MAX + 16]; /* [modem x] */
	struct conf_modem	*modem;		/* SEC_MODEM */
	struct conf_central	*central;	/* SEC_CENTRAL */
	int			 seen[CONFIG_KEYS_MAX];	/* line, 0 unseen */
	int			 gateway_line;
	int			 tunables_line;
	int			 ussd_line;
	int			 admin_line;
	int			 admin_listen_line;
	int			 alerts_line;
	int			 nmodems;
	int			 ncentrals;
	int			 tline[CONFIG_KEYS_MAX];	/* [tunables] */
};

struct config_key {
	const char	*name;
	int		(*fn)(struct config_ctx *, const char *, char *);
};

static int	 config_err(struct config_ctx *, int, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));

static int	 config_gw_name(struct config_ctx *, const char *, char *);
static int	 config_gw_path(struct config_ctx *, const char *, char *);
static int	 config_gw_language(struct config_ctx *, const char *,
		    char *);
static int	 config_gw_log(struct config_ctx *, const char *, char *);
static int	 config_gw_user(struct config_ctx *, const char *, char *);
static int	 config_gw_log_level(struct config_ctx *, const char *,
		    char *);
static int	 config_tunable(struct config_ctx *, const char *, char *);
static int	 config_key_index(enum config_section, const char *);
static int	 config_modem_device(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_connection(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_number(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_operator(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_send_cap(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_balance(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_enabled(struct config_ctx *, const char *,
		    char *);
static int	 config_modem_role(struct config_ctx *, const char *, char *);
static int	 config_central_url(struct config_ctx *, const char *,
		    char *);
static int	 config_central_timeout(struct config_ctx *, const char *,
		    char *);
static int	 config_central_ca_file(struct config_ctx *, const char *,
		    char *);
static int	 config_ussd_listen(struct config_ctx *, const char *, char *);
static int	 config_ussd_path(struct config_ctx *, const char *, char *);
static int	 config_ussd_secret(struct config_ctx *, const char *, char *);
static int	 config_ussd_service(struct config_ctx *, const char *,
		    char *);
static int	 config_admin_listen(struct config_ctx *, const char *, char *);
static int	 config_admin_token(struct config_ctx *, const char *, char *);
static int	 config_admin_web(struct config_ctx *, const char *, char *);
static int	 config_alerts_hook(struct config_ctx *, const char *, char *);
static int	 config_alerts_sms(struct config_ctx *, const char *, char *);
static int	 config_alerts_number(struct config_ctx *, const char *,
		    char *);

static const struct config_key config_gateway_keys[] = {
	{ "name",		config_gw_name },
	{ "state",		config_gw_path },
	{ "key",		config_gw_path },
	{ "sign_key",		config_gw_path },
	{ "registry",		config_gw_path },
	{ "election",		config_gw_path },
	{ "kpps",		config_gw_path },
	{ "modem_program",	config_gw_path },
	{ "language",		config_gw_language },
	{ "log",		config_gw_log },
	{ "log_level",		config_gw_log_level },
	{ "user",		config_gw_user },
	{ NULL,			NULL },
};

static const struct config_key config_modem_keys[] = {
	{ "device",		config_modem_device },
	{ "connection",		config_modem_connection },
	{ "number",		config_modem_number },
	{ "operator",		config_modem_operator },
	{ "send_cap",		config_modem_send_cap },
	{ "balance",		config_modem_balance },
	{ "enabled",		config_modem_enabled },
	{ "role",		config_modem_role },
	{ NULL,			NULL },
};

static const struct config_key config_central_keys[] = {
	{ "url",		config_central_url },
	{ "timeout",		config_central_timeout },
	{ "ca_file",		config_central_ca_file },
	{ NULL,			NULL },
};

static const struct config_key config_ussd_keys[] = {
	{ "listen",		config_ussd_listen },
	{ "path",		config_ussd_path },
	{ "secret",		config_ussd_secret },
	{ "service",		config_ussd_service },
	{ NULL,			NULL },
};

static const struct config_key config_admin_keys[] = {
	{ "listen",		config_admin_listen },
	{ "token",		config_admin_token },
	{ "web",		config_admin_web },
	{ NULL,			NULL },
};

/*
 * [alerts]: one key per alert, named as the alert, whose value is its
 * threshold (0 turns it off), in the order of enum alert_kind; then the
 * hook, the operators' numbers and the SMS rate.
 */
static const struct config_key config_alerts_keys[] = {
	{ "modem_down",		config_alerts_number },
	{ "sim_full",		config_alerts_number },
	{ "balance_low",	config_alerts_number },
	{ "cap_near",		config_alerts_number },
	{ "modem_silent",	config_alerts_number },
	{ "central_down",	config_alerts_number },
	{ "forward_failed",	config_alerts_number },
	{ "lockout_storm",	config_alerts_number },
	{ "disk_low",		config_alerts_number },
	{ "sms_interval",	config_alerts_number },
	{ "hook",		config_alerts_hook },
	{ "sms",		config_alerts_sms },
	{ NULL,			NULL },
};
#define CONFIG_SMS_INTERVAL	ALERT_KINDS	/* its row in the table */

/* The largest threshold of each alert (and of sms_interval). */
static const long config_alerts_max[ALERT_KINDS + 1] = {
	[ALERT_MODEM_DOWN] =	CONFIG_SECONDS_MAX,
	[ALERT_SIM_FULL] =	100,
	[ALERT_BALANCE_LOW] =	100000000,
	[ALERT_CAP_NEAR] =	100,
	[ALERT_MODEM_SILENT] =	CONFIG_SECONDS_MAX,
	[ALERT_CENTRAL_DOWN] =	CONFIG_SECONDS_MAX,
	[ALERT_FORWARD_FAILED] = CONFIG_COUNT_MAX,
	[ALERT_LOCKOUT_STORM] =	CONFIG_COUNT_MAX,
	[ALERT_DISK_LOW] =	100000000,
	[CONFIG_SMS_INTERVAL] =	CONFIG_SECONDS_MAX,
};

/* [tunables]: the GW_* and LOCKOUT_* macros, lower-cased, no prefix. */
enum config_ttype {
	T_INT,
	T_TIME,
};

static const struct config_tunable {
	const char		*name;
	size_t			 off;
	enum config_ttype	 type;
	long			 min;
	long			 max;
} config_tunables[] = {
#define TUN(n, t, lo, hi) { #n, offsetof(struct gw_tunables, n), t, lo, hi }
	TUN(sweep_interval,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(multipart_timeout,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(heartbeat_timeout,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(restart_min,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(restart_max,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(stop_grace,		T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(send_timeout,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(send_hold_min,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(send_hold_max,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(reply_attempts,	T_INT,	1, 1000),
	TUN(reply_merge_wait,	T_INT,	0, 3600),
	TUN(reply_retry_max,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(forward_min,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(forward_max,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(forward_timeout,	T_INT,	1, 3600),
	TUN(forward_parallel,	T_INT,	1, 1024),
	TUN(store_cache,	T_INT,	64, 4194304),
	TUN(rate_limit,		T_INT,	1, CONFIG_COUNT_MAX),
	TUN(rate_window,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(health_interval,	T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(balance_interval,	T_INT,	0, CONFIG_SECONDS_MAX),
	TUN(ussd_timeout,	T_INT,	1, 3600),
	TUN(ussd_resume,	T_INT,	0, CONFIG_SECONDS_MAX),
	TUN(ussd_retry,		T_INT,	1, CONFIG_SECONDS_MAX),
	TUN(default_dpt,	T_INT,	0, 100000),
#undef TUN
#define LTUN(n, f, t, lo, hi) \
	{ #n, offsetof(struct gw_tunables, lockout.f), t, lo, hi }
	LTUN(lockout_max_failures, max_failures, T_INT, 1, CONFIG_COUNT_MAX),
	LTUN(lockout_window,	window,	T_TIME,	1, CONFIG_SECONDS_MAX),
	LTUN(lockout_duration,	duration, T_TIME, 1, CONFIG_SECONDS_MAX),
	LTUN(lockout_alert_failures, alert_failures, T_INT, 1,
	    CONFIG_COUNT_MAX),
#undef LTUN
};
#define CONFIG_NTUNABLES (sizeof(config_tunables) / sizeof(config_tunables[0]))
_Static_assert(CONFIG_NTUNABLES <= CONFIG_KEYS_MAX, "seen[] too small");

/* strlcpy(3), which glibc before 2.38 lacks. */
static size_t
config_strlcpy(char *dst, const char *src, size_t size)
{
	size_t	 n = strlen(src);

	if (size > 0) {
		if (n < size)
			memcpy(dst, src, n + 1);
		else {
			memcpy(dst, src, size - 1);
			dst[size - 1] = '\0';
		}
	}
	return (n);
}

/* Say what is wrong as "FILE:LINE: problem" (line 0: "FILE: problem"). */
static int
config_err(struct config_ctx *c, int line, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (c->err == NULL || c->errlen == 0)
		return (-1);
	if (line > 0)
		n = snprintf(c->err, c->errlen, "%s:%d: ", c->file, line);
	else
		n = snprintf(c->err, c->errlen, "%s: ", c->file);
	if (n < 0 || (size_t)n >= c->errlen)
		return (-1);
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - n, fmt, ap);
	va_end(ap);
	return (-1);
}

void
config_defaults(struct gw_conf *conf)
{
	struct gw_tunables	*t = &conf->t;

	memset(conf, 0, sizeof(*conf));
	config_strlcpy(conf->language, "id", sizeof(conf->language));
	config_strlcpy(conf->ussd.path, GW_USSD_PATH, sizeof(conf->ussd.path));
	config_strlcpy(conf->admin.web, GW_WEB_DIR, sizeof(conf->admin.web));
	conf->alerts.limit[ALERT_MODEM_DOWN] = GW_ALERT_MODEM_DOWN;
	conf->alerts.limit[ALERT_SIM_FULL] = GW_ALERT_SIM_FULL;
	conf->alerts.limit[ALERT_BALANCE_LOW] = GW_ALERT_BALANCE_LOW;
	conf->alerts.limit[ALERT_CAP_NEAR] = GW_ALERT_CAP_NEAR;
	conf->alerts.limit[ALERT_MODEM_SILENT] = GW_ALERT_MODEM_SILENT;
	conf->alerts.limit[ALERT_CENTRAL_DOWN] = GW_ALERT_CENTRAL_DOWN;
	conf->alerts.limit[ALERT_FORWARD_FAILED] = GW_ALERT_FORWARD_FAILED;
	conf->alerts.limit[ALERT_LOCKOUT_STORM] = GW_ALERT_LOCKOUT_STORM;
	conf->alerts.limit[ALERT_DISK_LOW] = GW_ALERT_DISK_LOW;
	conf->alerts.sms_interval = GW_ALERT_SMS_INTERVAL;
	t->sweep_interval = GW_SWEEP_INTERVAL;
	t->multipart_timeout = GW_MULTIPART_TIMEOUT;
	t->heartbeat_timeout = GW_HEARTBEAT_TIMEOUT;
	t->restart_min = GW_RESTART_MIN;
	t->restart_max = GW_RESTART_MAX;
	t->stop_grace = GW_STOP_GRACE;
	t->send_timeout = GW_SEND_TIMEOUT;
	t->send_hold_min = GW_SEND_HOLD_MIN;
	t->send_hold_max = GW_SEND_HOLD_MAX;
	t->reply_attempts = GW_REPLY_ATTEMPTS;
	t->reply_merge_wait = GW_REPLY_MERGE_WAIT;
	t->reply_retry_max = GW_REPLY_RETRY_MAX;
	t->forward_min = GW_FORWARD_MIN;
	t->forward_max = GW_FORWARD_MAX;
	t->forward_timeout = GW_FORWARD_TIMEOUT;
	t->forward_parallel = GW_FORWARD_PARALLEL;
	t->store_cache = GW_STORE_CACHE;
	t->rate_limit = GW_RATE_LIMIT;
	t->rate_window = GW_RATE_WINDOW;
	t->health_interval = GW_HEALTH_INTERVAL;
	t->balance_interval = GW_BALANCE_INTERVAL;
	t->ussd_timeout = GW_USSD_TIMEOUT;
	t->ussd_resume = GW_USSD_RESUME;
	t->ussd_retry = GW_USSD_RETRY;
	t->default_dpt = VERIFY_DEFAULT_DPT;
	t->lockout.max_failures = LOCKOUT_MAX_FAILURES;
	t->lockout.window = LOCKOUT_WINDOW;
	t->lockout.duration = LOCKOUT_DURATION;
	t->lockout.alert_failures = LOCKOUT_ALERT_FAILURES;
	TAILQ_INIT(&conf->modems);
	TAILQ_INIT(&conf->centrals);
}

void
config_clear(struct gw_conf *conf)
{
	struct conf_modem	*m;
	struct conf_central	*c;

	while ((m = TAILQ_FIRST(&conf->modems)) != NULL) {
		TAILQ_REMOVE(&conf->modems, m, entry);
		free(m);
	}
	while ((c = TAILQ_FIRST(&conf->centrals)) != NULL) {
		TAILQ_REMOVE(&conf->centrals, c, entry);
		free(c);
	}
}

struct conf_modem *
config_modem(const struct gw_conf *conf, const char *name)
{
	struct conf_modem	*m;

	if (name == NULL)
		return (NULL);
	TAILQ_FOREACH(m, &conf->modems, entry)
		if (strcmp(m->name, name) == 0)
			return (m);
	return (NULL);
}

static int
config_space(int ch)
{
	return (ch == ' ' || ch == '\t');
}

static char *
config_trim(char *s)
{
	char	*e;

	while (config_space(*s))
		s++;
	e = s + strlen(s);
	while (e > s && config_space(e[-1]))
		*--e = '\0';
	return (s);
}

/* Names of the gateway, modems and centrals: 1..max-1 of [A-Za-z0-9._-]. */
static int
config_name_ok(const char *s, size_t size)
{
	size_t	 i;

	for (i = 0; s[i] != '\0'; i++) {
		if (i + 1 >= size)
			return (0);
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return (0);
	}
	return (i > 0);
}

static int
config_copy(struct config_ctx *c, const char *key, char *dst, size_t size,
    const char *val)
{
	if (config_strlcpy(dst, val, size) >= size)
		return (config_err(c, c->line, "%s: too long (at most %zu "
		    "bytes)", key, size - 1));
	return (0);
}

static int	 config_join(char *, size_t, const char *, const char *);

/* A path, made absolute against the directory of the config file. */
static int
config_path(struct config_ctx *c, const char *key, char *dst, size_t size,
    const char *val)
{
	if (val[0] == '/' || val[0] == '\0')
		return (config_copy(c, key, dst, size, val));
	if (config_join(dst, size, c->dir, val) == -1)
		return (config_err(c, c->line, "%s: path too long (at most "
		    "%zu bytes)", key, size - 1));
	return (0);
}

/* A decimal integer in min..max; the error names the key. */
static int
config_number(struct config_ctx *c, const char *key, const char *val,
    long min, long max, long *out)
{
	const char	*p = val;
	long		 v = 0;
	int		 neg = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (*p == '\0')
		return (config_err(c, c->line, "%s: not a number: '%s'", key,
		    val));
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9')
			return (config_err(c, c->line, "%s: not a number: "
			    "'%s'", key, val));
		if (v <= CONFIG_SECONDS_MAX * 10L)	/* saturate: over */
			v = v * 10 + (*p - '0');	/* any maximum */
	}
	if (neg)
		v = -v;
	if (v < min || v > max)
		return (config_err(c, c->line, "%s: out of range %ld..%ld: "
		    "'%s'", key, min, max, val));
	*out = v;
	return (0);
}

static int
config_gw_name(struct config_ctx *c, const char *key, char *val)
{
	if (!config_name_ok(val, sizeof(c->conf->name)))
		return (config_err(c, c->line, "%s: must be 1..%zu characters "
		    "of A-Z a-z 0-9 . _ -: '%s'", key,
		    sizeof(c->conf->name) - 1, val));
	config_strlcpy(c->conf->name, val, sizeof(c->conf->name));
	return (0);
}

static int
config_gw_path(struct config_ctx *c, const char *key, char *val)
{
	struct gw_conf	*conf = c->conf;
	char		*dst;
	int		 required = 0;

	if (strcmp(key, "state") == 0) {
		dst = conf->state_dir;
		required = 1;
	} else if (strcmp(key, "key") == 0) {
		dst = conf->key;
		required = 1;
	} else if (strcmp(key, "sign_key") == 0) {
		dst = conf->sign_key;
		required = 1;
	} else if (strcmp(key, "registry") == 0)
		dst = conf->registry;
	else if (strcmp(key, "election") == 0)
		dst = conf->election;
	else if (strcmp(key, "kpps") == 0)
		dst = conf->kpps;
	else
		dst = conf->modem_prog;
	if (required && val[0] == '\0')
		return (config_err(c, c->line, "%s: must not be empty", key));
	return (config_path(c, key, dst, PATH_MAX, val));
}

static int
config_gw_language(struct config_ctx *c, const char *key, char *val)
{
	if (strcmp(val, "id") != 0 && strcmp(val, "en") != 0)
		return (config_err(c, c->line, "%s: must be id or en: '%s'",
		    key, val));
	config_strlcpy(c->conf->language, val, sizeof(c->conf->language));
	return (0);
}

static int
config_gw_log(struct config_ctx *c, const char *key, char *val)
{
	if (strcmp(val, "stderr") == 0)
		c->conf->log_syslog = 0;
	else if (strcmp(val, "syslog") == 0)
		c->conf->log_syslog = 1;
	else
		return (config_err(c, c->line, "%s: must be stderr or syslog: "
		    "'%s'", key, val));
	return (0);
}

static int
config_gw_log_level(struct config_ctx *c, const char *key, char *val)
{
	if (strcmp(val, "info") == 0)
		c->conf->log_level = 0;
	else if (strcmp(val, "debug") == 0)
		c->conf->log_level = 1;
	else
		return (config_err(c, c->line, "%s: must be info or debug: "
		    "'%s'", key, val));
	return (0);
}

/* The user to become when started as root: a name, not a number. */
static int
config_gw_user(struct config_ctx *c, const char *key, char *val)
{
	if (val[0] == '\0')
		return (0);
	if (val[0] == '-' || !config_name_ok(val, sizeof(c->conf->user)))
		return (config_err(c, c->line, "%s: not a user name (1..%zu "
		    "characters of A-Z a-z 0-9 . _ -): '%s'", key,
		    sizeof(c->conf->user) - 1, val));
	config_strlcpy(c->conf->user, val, sizeof(c->conf->user));
	return (0);
}

static int
config_tunable(struct config_ctx *c, const char *key, char *val)
{
	const struct config_tunable	*t;
	char				*base = (char *)&c->conf->t;
	long				 v;
	size_t				 i;

	for (i = 0; i < CONFIG_NTUNABLES; i++)
		if (strcmp(config_tunables[i].name, key) == 0)
			break;
	if (i == CONFIG_NTUNABLES)
		return (config_err(c, c->line, "unknown key '%s' in %s", key,
		    c->label));
	t = &config_tunables[i];
	if (config_number(c, key, val, t->min, t->max, &v) == -1)
		return (-1);
	if (t->type == T_TIME) {
		time_t	 tv = v;

		memcpy(base + t->off, &tv, sizeof(tv));
	} else {
		int	 iv = v;

		memcpy(base + t->off, &iv, sizeof(iv));
	}
	c->tline[i] = c->line;
	return (0);
}

static int
config_modem_device(struct config_ctx *c, const char *key, char *val)
{
	if (val[0] == '\0')
		return (config_err(c, c->line, "%s: must not be empty", key));
	/* Made absolute at the end of the section: see config_modem_end. */
	return (config_copy(c, key, c->modem->device,
	    sizeof(c->modem->device), val));
}

static int
config_modem_connection(struct config_ctx *c, const char *key, char *val)
{
	size_t	 i;

	for (i = 0; val[i] != '\0'; i++)
		if (!((val[i] >= 'a' && val[i] <= 'z') ||
		    (val[i] >= 'A' && val[i] <= 'Z') ||
		    (val[i] >= '0' && val[i] <= '9') || val[i] == '-' ||
		    val[i] == '_'))
			break;
	if (i == 0 || val[i] != '\0' || i >= sizeof(c->modem->connection))
		return (config_err(c, c->line, "%s: not a libGammu connection "
		    "name (at, at115200, ...): '%s'", key, val));
	config_strlcpy(c->modem->connection, val,
	    sizeof(c->modem->connection));
	return (0);
}

/*
 * An MSISDN: +DIGITS, or the national 08... and 628... forms, which
 * become +62...; spaces and dashes between digits are dropped.
 */
int
config_msisdn(const char *val, char *out, size_t len)
{
	char		 d[CONFIG_NUMBER_MAX + 4];
	const char	*p;
	size_t		 n = 0;
	int		 plus = 0;

	p = val;
	if (*p == '+') {
		plus = 1;
		p++;
	}
	for (; *p != '\0'; p++) {
		if (*p == ' ' || *p == '-')
			continue;
		if (*p < '0' || *p > '9' || n + 1 >= sizeof(d))
			goto bad;
		d[n++] = *p;
	}
	d[n] = '\0';
	if (plus)
		snprintf(out, len, "+%s", d);
	else if (d[0] == '0' && d[1] != '0')
		snprintf(out, len, "+62%s", d + 1);
	else if (d[0] == '6' && d[1] == '2')
		snprintf(out, len, "+%s", d);
	else
		goto bad;
	n = strlen(out + 1);
	if (n >= CONFIG_NUMBER_MIN && n <= CONFIG_NUMBER_MAX && out[1] != '0')
		return (0);
 bad:
	out[0] = '\0';
	return (-1);
}

static int
config_modem_number(struct config_ctx *c, const char *key, char *val)
{
	if (config_msisdn(val, c->modem->number,
	    sizeof(c->modem->number)) == 0)
		return (0);
	return (config_err(c, c->line, "%s: not a phone number (+62812..., "
	    "0812... or 62812..., %d to %d digits): '%s'", key,
	    CONFIG_NUMBER_MIN, CONFIG_NUMBER_MAX, val));
}

static int
config_modem_operator(struct config_ctx *c, const char *key, char *val)
{
	return (config_copy(c, key, c->modem->oper, sizeof(c->modem->oper),
	    val));
}

static int
config_modem_send_cap(struct config_ctx *c, const char *key, char *val)
{
	long	 v;

	if (config_number(c, key, val, 0, CONFIG_COUNT_MAX, &v) == -1)
		return (-1);
	c->modem->send_cap = v;
	return (0);
}

static int
config_modem_balance(struct config_ctx *c, const char *key, char *val)
{
	size_t	 i;

	for (i = 0; val[i] != '\0'; i++)
		if ((val[i] < '0' || val[i] > '9') && val[i] != '*' &&
		    val[i] != '#')
			return (config_err(c, c->line, "%s: not a USSD code "
			    "(digits, * and #, e.g. *888#): '%s'", key, val));
	return (config_copy(c, key, c->modem->balance,
	    sizeof(c->modem->balance), val));
}

static int
config_yesno(struct config_ctx *c, const char *key, const char *val,
    int *out)
{
	if (strcmp(val, "yes") == 0)
		*out = 1;
	else if (strcmp(val, "no") == 0)
		*out = 0;
	else
		return (config_err(c, c->line, "%s: must be yes or no: '%s'",
		    key, val));
	return (0);
}

static int
config_modem_enabled(struct config_ctx *c, const char *key, char *val)
{
	return (config_yesno(c, key, val, &c->modem->enabled));
}

const char *
config_role_name(enum modem_role role)
{
	return (role == MODEM_ROLE_RECEIVE ? "receive" : "both");
}

/* role = both | receive (docs/tallygw.md, "Receive-only modems"). */
static int
config_modem_role(struct config_ctx *c, const char *key, char *val)
{
	if (strcmp(val, "both") == 0)
		c->modem->role = MODEM_ROLE_BOTH;
	else if (strcmp(val, "receive") == 0)
		c->modem->role = MODEM_ROLE_RECEIVE;
	else
		return (config_err(c, c->line, "%s: must be both or receive: "
		    "'%s'", key, val));
	return (0);
}

static int
config_hostchar(int ch)
{
	return ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '.' || ch == '-' || ch == '_');
}

static int
config_ip6char(int ch)
{
	return ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') ||
	    (ch >= 'A' && ch <= 'F') || ch == ':' || ch == '.');
}

/* http:// or https://, a host (name, IPv4 or [IPv6]), :port, a path. */
static int
config_central_url(struct config_ctx *c, const char *key, char *val)
{
	const char	*p, *h;
	long		 port;

	if (strncmp(val, "http://", 7) == 0)
		p = val + 7;
	else if (strncmp(val, "https://", 8) == 0)
		p = val + 8;
	else
		return (config_err(c, c->line, "%s: must start with http:// or "
		    "https://: '%s'", key, val));
	h = p;
	if (*p == '[') {
		for (p++; config_ip6char(*p); p++)
			;
		if (*p != ']' || p == h + 1)
			return (config_err(c, c->line, "%s: bad IPv6 address: "
			    "'%s'", key, val));
		p++;
	} else {
		while (config_hostchar(*p))
			p++;
		if (p == h)
			return (config_err(c, c->line, "%s: no host: '%s'", key,
			    val));
	}
	if (*p == ':') {
		for (port = 0, h = ++p; *p >= '0' && *p <= '9'; p++)
			if (port <= 65535)
				port = port * 10 + (*p - '0');
		if (p == h || port < 1 || port > 65535)
			return (config_err(c, c->line, "%s: port must be "
			    "1..65535: '%s'", key, val));
	}
	if (*p != '/')
		return (config_err(c, c->line, "%s: needs a path after the "
		    "host, e.g. http://127.0.0.1:8080/v1/reports: '%s'", key,
		    val));
	for (; *p != '\0'; p++)
		if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\\')
			return (config_err(c, c->line, "%s: space, quote or "
			    "backslash in the URL: '%s'", key, val));
	return (config_copy(c, key, c->central->url, sizeof(c->central->url),
	    val));
}

static int
config_central_timeout(struct config_ctx *c, const char *key, char *val)
{
	long	 v;

	if (config_number(c, key, val, 1, 3600, &v) == -1)
		return (-1);
	c->central->timeout = v;
	return (0);
}

/* The CA certificates (PEM) the central's TLS certificate must chain
 * to, instead of the system's: pins the central. */
static int
config_central_ca_file(struct config_ctx *c, const char *key, char *val)
{
	return (config_path(c, key, c->central->ca_file,
	    sizeof(c->central->ca_file), val));
}

/* A listen address: HOST:PORT, an IPv4 address or a name, and a port. */
static int
config_hostport(struct config_ctx *c, const char *key, char *val, char *dst,
    size_t size)
{
	char		*colon = strrchr(val, ':');
	const char	*p;
	long		 port = 0;

	if (colon == NULL || colon == val)
		return (config_err(c, c->line, "%s: not HOST:PORT: '%s'", key,
		    val));
	for (p = val; p < colon; p++)
		if (!config_hostchar((unsigned char)*p))
			return (config_err(c, c->line, "%s: bad host in "
			    "'%s'", key, val));
	for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++)
		port = port * 10 + (*p - '0');
	if (p == colon + 1 || *p != '\0' || port < 1 || port > 65535)
		return (config_err(c, c->line, "%s: bad port in '%s' "
		    "(1..65535)", key, val));
	return (config_copy(c, key, dst, size, val));
}

/* [ussd] listen: where the aggregator's callback is served. */
static int
config_ussd_listen(struct config_ctx *c, const char *key, char *val)
{
	return (config_hostport(c, key, val, c->conf->ussd.listen,
	    sizeof(c->conf->ussd.listen)));
}

/* [ussd] path: where the aggregator posts, "/..." without spaces. */
static int
config_ussd_path(struct config_ctx *c, const char *key, char *val)
{
	const char	*p;

	if (val[0] != '/')
		return (config_err(c, c->line, "%s: must start with '/': "
		    "'%s'", key, val));
	for (p = val; *p != '\0'; p++)
		if (*p <= ' ' || *p > '~' || *p == '?' || *p == '#')
			return (config_err(c, c->line, "%s: bad character "
			    "in '%s'", key, val));
	return (config_copy(c, key, c->conf->ussd.path,
	    sizeof(c->conf->ussd.path), val));
}

static int
config_ussd_secret(struct config_ctx *c, const char *key, char *val)
{
	if (val[0] == '\0')
		return (config_err(c, c->line, "%s: must not be empty", key));
	return (config_path(c, key, c->conf->ussd.secret, PATH_MAX, val));
}

/* [ussd] service: the serviceCode answered, such as *123*45#. */
static int
config_ussd_service(struct config_ctx *c, const char *key, char *val)
{
	const char	*p;

	for (p = val; *p != '\0'; p++)
		if ((*p < '0' || *p > '9') && *p != '*' && *p != '#')
			return (config_err(c, c->line, "%s: a USSD code is "
			    "digits, * and #: '%s'", key, val));
	return (config_copy(c, key, c->conf->ussd.service,
	    sizeof(c->conf->ussd.service), val));
}

/* [admin] listen: the admin API on TCP too (it needs a token). */
static int
config_admin_listen(struct config_ctx *c, const char *key, char *val)
{
	c->admin_listen_line = c->line;
	return (config_hostport(c, key, val, c->conf->admin.listen,
	    sizeof(c->conf->admin.listen)));
}

/* [admin] token: the file holding the bearer token of the TCP API. */
static int
config_admin_token(struct config_ctx *c, const char *key, char *val)
{
	if (val[0] == '\0')
		return (config_err(c, c->line, "%s: must not be empty", key));
	return (config_path(c, key, c->conf->admin.token, PATH_MAX, val));
}

/* [admin] web: the directory of the dashboard's files. */
static int
config_admin_web(struct config_ctx *c, const char *key, char *val)
{
	if (val[0] == '\0')
		return (config_err(c, c->line, "%s: must not be empty", key));
	return (config_path(c, key, c->conf->admin.web, PATH_MAX, val));
}

const char *
config_alert_name(enum alert_kind k)
{
	if ((unsigned)k >= ALERT_KINDS)
		return ("unknown");
	return (config_alerts_keys[k].name);
}

/* [alerts] NAME = threshold, or sms_interval: a number in its range. */
static int
config_alerts_number(struct config_ctx *c, const char *key, char *val)
{
	int	 i = config_key_index(SEC_ALERTS, key);
	long	 v;

	if (config_number(c, key, val, 0, config_alerts_max[i], &v) == -1)
		return (-1);
	if (i == CONFIG_SMS_INTERVAL)
		c->conf->alerts.sms_interval = v;
	else
		c->conf->alerts.limit[i] = v;
	return (0);
}

/* [alerts] hook: a program run for each alert raised or cleared. */
static int
config_alerts_hook(struct config_ctx *c, const char *key, char *val)
{
	return (config_path(c, key, c->conf->alerts.hook,
	    sizeof(c->conf->alerts.hook), val));
}

/* [alerts] sms: the operators' numbers, separated by commas. */
static int
config_alerts_sms(struct config_ctx *c, const char *key, char *val)
{
	struct conf_alerts	*a = &c->conf->alerts;
	char			*p, *next, num[WIRE_NUMBER_MAX];
	int			 i;

	for (p = val; p != NULL && *p != '\0'; p = next) {
		if ((next = strchr(p, ',')) != NULL)
			*next++ = '\0';
		p = config_trim(p);
		if (*p == '\0')
			continue;
		if (config_msisdn(p, num, sizeof(num)) == -1)
			return (config_err(c, c->line, "%s: not a phone number "
			    "(+62812..., 0812... or 62812...): '%s'", key, p));
		for (i = 0; i < a->nsms; i++)
			if (strcmp(a->sms[i], num) == 0)
				return (config_err(c, c->line, "%s: %s is "
				    "listed twice", key, num));
		if (a->nsms == GW_ALERT_SMS_MAX)
			return (config_err(c, c->line, "%s: at most %d numbers",
			    key, GW_ALERT_SMS_MAX));
		config_strlcpy(a->sms[a->nsms++], num, sizeof(a->sms[0]));
	}
	return (0);
}

static const struct config_key *
config_keys(enum config_section sec)
{
	switch (sec) {
	case SEC_GATEWAY:
		return (config_gateway_keys);
	case SEC_MODEM:
		return (config_modem_keys);
	case SEC_CENTRAL:
		return (config_central_keys);
	case SEC_USSD:
		return (config_ussd_keys);
	case SEC_ADMIN:
		return (config_admin_keys);
	case SEC_ALERTS:
		return (config_alerts_keys);
	default:
		return (NULL);
	}
}


/* Where key sits in its section's table: the index of c->seen[]. */
static int
config_key_index(enum config_section sec, const char *key)
{
	const struct config_key	*k;
	size_t			 i;

	if (sec == SEC_TUNABLES) {
		for (i = 0; i < CONFIG_NTUNABLES; i++)
			if (strcmp(config_tunables[i].name, key) == 0)
				return (i);
		return (-1);
	}
	if ((k = config_keys(sec)) == NULL)
		return (-1);
	for (i = 0; k[i].name != NULL; i++)
		if (strcmp(k[i].name, key) == 0)
			return (i);
	return (-1);
}

/* dir/rel into dst, without doubling a slash or keeping "./". */
static int
config_join(char *dst, size_t size, const char *dir, const char *rel)
{
	size_t	 dl = strlen(dir);
	int	 n;

	while (rel[0] == '.' && rel[1] == '/')
		for (rel += 2; *rel == '/'; rel++)
			;
	n = snprintf(dst, size, "%s%s%s", dir,
	    dl > 0 && dir[dl - 1] != '/' ? "/" : "", rel);
	if (n < 0 || (size_t)n >= size) {
		if (size > 0)
			dst[0] = '\0';
		return (-1);
	}
	return (0);
}

static int
config_modem_end(struct config_ctx *c)
{
	struct conf_modem	*m = c->modem, *o;
	char			 raw[PATH_MAX];
	int			 dline = c->seen[0], nline = c->seen[2];

	if (m->device[0] == '\0')
		return (config_err(c, c->sec_line, "%s: device is required",
		    c->label));
	if (m->number[0] == '\0')
		return (config_err(c, c->sec_line, "%s: number is required",
		    c->label));
	/*
	 * Bluetooth and IrDA connections take an address, not a file:
	 * their device is kept as written; any other is a path.
	 */
	if (m->device[0] != '/' && strncmp(m->connection, "blue", 4) != 0 &&
	    strncmp(m->connection, "irda", 4) != 0) {
		config_strlcpy(raw, m->device, sizeof(raw));
		if (config_join(m->device, sizeof(m->device), c->dir,
		    raw) == -1)
			return (config_err(c, dline, "device: path too long "
			    "(at most %zu bytes)", sizeof(m->device) - 1));
	}
	TAILQ_FOREACH(o, &c->conf->modems, entry) {
		if (o == m)
			break;
		if (strcmp(o->device, m->device) == 0)
			return (config_err(c, dline, "device: '%s' is already "
			    "used by [modem %s]", m->device, o->name));
		if (strcmp(o->number, m->number) == 0)
			return (config_err(c, nline, "number: %s is already "
			    "used by [modem %s]", m->number, o->name));
	}
	return (0);
}

static int
config_central_end(struct config_ctx *c)
{
	struct conf_central	*ce = c->central, *o;

	if (ce->url[0] == '\0')
		return (config_err(c, c->sec_line, "%s: url is required",
		    c->label));
	TAILQ_FOREACH(o, &c->conf->centrals, entry) {
		if (o == ce)
			break;
		if (strcmp(o->url, ce->url) == 0)
			return (config_err(c, c->seen[0], "url: already used "
			    "by [central %s]", o->name));
	}
	if (ce->ca_file[0] != '\0' && strncmp(ce->url, "https://", 8) != 0)
		return (config_err(c, c->seen[2], "ca_file: only for an "
		    "https:// url"));
	return (0);
}

/* A section ends at the next header or at the end of the file. */
static int
config_section_end(struct config_ctx *c)
{
	int	 rc = 0;

	if (c->sec == SEC_MODEM)
		rc = config_modem_end(c);
	else if (c->sec == SEC_CENTRAL)
		rc = config_central_end(c);
	c->sec = SEC_NONE;
	c->modem = NULL;
	c->central = NULL;
	return (rc);
}

static int
config_header(struct config_ctx *c, char *s)
{
	struct conf_central	*ce;
	char			*close, *word, *name, *rest;
	int			 modem;

	if ((close = strchr(s, ']')) == NULL)
		return (config_err(c, c->line, "section header without ']'"));
	*close = '\0';
	for (rest = close + 1; config_space(*rest); rest++)
		;
	if (*rest != '\0' && *rest != '#' && *rest != ';')
		return (config_err(c, c->line, "text after the section "
		    "header: '%s'", rest));
	word = config_trim(s + 1);
	for (name = word; *name != '\0' && !config_space(*name); name++)
		;
	if (*name != '\0') {
		*name++ = '\0';
		name = config_trim(name);
	}
	if (config_section_end(c) == -1)
		return (-1);
	memset(c->seen, 0, sizeof(c->seen));
	c->sec_line = c->line;

	if (strcmp(word, "gateway") == 0 || strcmp(word, "tunables") == 0 ||
	    strcmp(word, "ussd") == 0 || strcmp(word, "admin") == 0 ||
	    strcmp(word, "alerts") == 0) {
		int	*first = word[0] == 'g' ? &c->gateway_line :
			    word[0] == 't' ? &c->tunables_line :
			    word[0] == 'u' ? &c->ussd_line :
			    strcmp(word, "admin") == 0 ? &c->admin_line :
			    &c->alerts_line;

		if (*name != '\0')
			return (config_err(c, c->line, "[%s] takes no name",
			    word));
		if (*first != 0)
			return (config_err(c, c->line, "[%s] declared twice "
			    "(first on line %d)", word, *first));
		*first = c->line;
		c->sec = word[0] == 'g' ? SEC_GATEWAY : word[0] == 't' ?
		    SEC_TUNABLES : word[0] == 'u' ? SEC_USSD :
		    first == &c->admin_line ? SEC_ADMIN : SEC_ALERTS;
		if (c->sec == SEC_USSD) {
			c->conf->ussd.enabled = 1;
			c->conf->ussd.line = c->line;
		}
		if (c->sec == SEC_ADMIN)
			c->conf->admin.line = c->line;
		if (c->sec == SEC_ALERTS)
			c->conf->alerts.line = c->line;
		snprintf(c->label, sizeof(c->label), "[%s]", word);
		return (0);
	}
	if (strcmp(word, "modem") != 0 && strcmp(word, "central") != 0) {
		if (*word == '\0')
			return (config_err(c, c->line, "empty section "
			    "header"));
		return (config_err(c, c->line, "unknown section '[%s%s%s]' "
		    "(use [gateway], [tunables], [modem NAME], "
		    "[central NAME], [ussd], [admin] or [alerts])", word,
		    *name ? " " : "", name));
	}
	modem = word[0] == 'm';
	if (*name == '\0')
		return (config_err(c, c->line, "[%s] needs a name: [%s NAME]",
		    word, word));
	if (!config_name_ok(name, GW_MODEM_NAME_MAX))
		return (config_err(c, c->line, "%s name must be 1..%d "
		    "characters of A-Z a-z 0-9 . _ -: '%s'", word,
		    GW_MODEM_NAME_MAX - 1, name));
	snprintf(c->label, sizeof(c->label), "[%s %s]", word, name);
	if (modem) {
		if (config_modem(c->conf, name) != NULL)
			return (config_err(c, c->line, "modem '%s' declared "
			    "twice", name));
		if (c->nmodems >= CONFIG_MODEMS_MAX)
			return (config_err(c, c->line, "too many modems (at "
			    "most %d)", CONFIG_MODEMS_MAX));
		if ((c->modem = calloc(1, sizeof(*c->modem))) == NULL) {
			log_warn("config: modem %s", name);
			return (config_err(c, c->line, "out of memory"));
		}
		config_strlcpy(c->modem->name, name, sizeof(c->modem->name));
		config_strlcpy(c->modem->connection, "at",
		    sizeof(c->modem->connection));
		c->modem->send_cap = GW_SEND_CAP;
		c->modem->enabled = 1;
		c->modem->line = c->line;
		TAILQ_INSERT_TAIL(&c->conf->modems, c->modem, entry);
		c->nmodems++;
		c->sec = SEC_MODEM;
		return (0);
	}
	TAILQ_FOREACH(ce, &c->conf->centrals, entry)
		if (strcmp(ce->name, name) == 0)
			return (config_err(c, c->line, "central '%s' declared "
			    "twice", name));
	if (c->ncentrals >= CONFIG_CENTRALS_MAX)
		return (config_err(c, c->line, "too many centrals (at most "
		    "%d)", CONFIG_CENTRALS_MAX));
	if ((c->central = calloc(1, sizeof(*c->central))) == NULL) {
		log_warn("config: central %s", name);
		return (config_err(c, c->line, "out of memory"));
	}
	config_strlcpy(c->central->name, name, sizeof(c->central->name));
	c->central->line = c->line;	/* timeout 0: set in config_finish */
	TAILQ_INSERT_TAIL(&c->conf->centrals, c->central, entry);
	c->ncentrals++;
	c->sec = SEC_CENTRAL;
	return (0);
}

/*
 * The value after '=': trimmed; "quoted" keeps everything between the
 * quotes (\" and \\ escape); else a '#' after whitespace starts a
 * comment, but never the value's first character (USSD #123#).
 */
static int
config_value(struct config_ctx *c, char *p, char **out)
{
	char	*s, *w;

	while (config_space(*p))
		p++;
	if (*p != '"') {
		if (*p != '\0')
			for (s = p + 1; *s != '\0'; s++)
				if (*s == '#' && config_space(s[-1])) {
					*s = '\0';
					break;
				}
		*out = config_trim(p);
		return (0);
	}
	for (s = w = p + 1; *s != '"'; s++) {
		if (*s == '\0')
			return (config_err(c, c->line, "missing closing "
			    "quote"));
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*w++ = *s;
	}
	for (s++; config_space(*s); s++)
		;
	*w = '\0';
	if (*s != '\0' && *s != '#')
		return (config_err(c, c->line, "text after the closing "
		    "quote: '%s'", s));
	*out = p + 1;
	return (0);
}

static int
config_line(struct config_ctx *c, char *s)
{
	const struct config_key	*k;
	char			*eq, *key, *val = NULL, *p;
	int			 i;

	while (config_space(*s))
		s++;
	if (*s == '\0' || *s == '#' || *s == ';')
		return (0);
	for (p = s; *p != '\0'; p++)
		if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
			return (config_err(c, c->line, "line contains a "
			    "control character (byte 0x%02x)",
			    (unsigned char)*p));
	if (*s == '[')
		return (config_header(c, s));
	if ((eq = strchr(s, '=')) == NULL)
		return (config_err(c, c->line, "line is not 'key = value'"));
	*eq = '\0';
	key = config_trim(s);
	if (*key == '\0')
		return (config_err(c, c->line, "line is not 'key = value'"));
	if (config_value(c, eq + 1, &val) == -1)
		return (-1);
	if (c->sec == SEC_NONE)
		return (config_err(c, c->line, "key '%s' outside any section "
		    "(first a [gateway], [tunables], [modem NAME] or "
		    "[central NAME] line)", key));
	if ((i = config_key_index(c->sec, key)) == -1)
		return (config_err(c, c->line, "unknown key '%s' in %s", key,
		    c->label));
	if (c->seen[i] != 0)
		return (config_err(c, c->line, "duplicate key '%s' in %s "
		    "(first on line %d)", key, c->label, c->seen[i]));
	c->seen[i] = c->line;
	if (c->sec == SEC_TUNABLES)
		return (config_tunable(c, key, val));
	k = config_keys(c->sec);
	return (k[i].fn(c, key, val));
}

/* A maximum below its minimum: the error names the line that set it. */
static int
config_order(struct config_ctx *c, const char *lo, const char *hi,
    int vlo, int vhi)
{
	int	 ilo = config_key_index(SEC_TUNABLES, lo);
	int	 ihi = config_key_index(SEC_TUNABLES, hi);
	int	 line;

	if (vhi >= vlo)
		return (0);
	line = c->tline[ihi] != 0 ? c->tline[ihi] : c->tline[ilo];
	return (config_err(c, line, "%s (%d) is less than %s (%d)", hi, vhi,
	    lo, vlo));
}

/* At the end of the file: what only the whole file can tell. */
static int
config_finish(struct config_ctx *c)
{
	struct gw_conf		*conf = c->conf;
	struct conf_central	*ce;

	if (config_section_end(c) == -1)
		return (-1);
	if (conf->name[0] == '\0')
		return (config_err(c, 0, "[gateway] name is required"));
	if (conf->state_dir[0] == '\0')
		return (config_err(c, 0, "[gateway] state is required"));
	if (conf->key[0] == '\0')
		return (config_err(c, 0, "[gateway] key is required"));
	if (conf->sign_key[0] == '\0')
		return (config_err(c, 0, "[gateway] sign_key is required"));
	if (TAILQ_EMPTY(&conf->centrals))
		return (config_err(c, 0, "at least one [central NAME] is "
		    "required"));
	if (config_order(c, "restart_min", "restart_max",
	    conf->t.restart_min, conf->t.restart_max) == -1 ||
	    config_order(c, "send_hold_min", "send_hold_max",
	    conf->t.send_hold_min, conf->t.send_hold_max) == -1 ||
	    config_order(c, "forward_min", "forward_max",
	    conf->t.forward_min, conf->t.forward_max) == -1)
		return (-1);
	if (conf->ussd.enabled && conf->ussd.listen[0] == '\0')
		return (config_err(c, conf->ussd.line, "[ussd] listen is "
		    "required"));
	if (conf->ussd.enabled && conf->ussd.secret[0] == '\0')
		return (config_err(c, conf->ussd.line, "[ussd] secret is "
		    "required"));
	if (conf->admin.listen[0] != '\0' && conf->admin.token[0] == '\0')
		return (config_err(c, c->admin_listen_line, "[admin] listen "
		    "needs a token (the API is never open on TCP without "
		    "one)"));
	TAILQ_FOREACH(ce, &conf->centrals, entry)
		if (ce->timeout == 0)
			ce->timeout = conf->t.forward_timeout;
	return (0);
}

/* The directory relative paths are taken from, and conf->path. */
static int
config_dir(struct config_ctx *c)
{
	char		 cwd[PATH_MAX], abs[PATH_MAX];
	const char	*slash;

	if (c->file[0] == '/')
		config_strlcpy(abs, c->file, sizeof(abs));
	else {
		if (getcwd(cwd, sizeof(cwd)) == NULL) {
			log_warn("config: getcwd");
			return (config_err(c, 0, "cannot tell the current "
			    "directory: %s", strerror(errno)));
		}
		if (config_join(abs, sizeof(abs), cwd, c->file) == -1)
			return (config_err(c, 0, "path too long"));
	}
	config_strlcpy(c->conf->path, abs, sizeof(c->conf->path));
	slash = strrchr(abs, '/');
	if (slash == abs)
		slash++;
	snprintf(c->dir, sizeof(c->dir), "%.*s", (int)(slash - abs), abs);
	return (0);
}

/*
 * Parse text as the file name: conf is reset to the defaults first,
 * and on error holds no modem or central (config_clear is still safe).
 */
int
config_parse(const char *name, const char *text, size_t len,
    struct gw_conf *conf, char *err, size_t errlen)
{
	struct config_ctx	 c;
	const char		*nul;
	char			*buf = NULL, *s, *e;
	size_t			 l;
	int			 rc = -1;

	config_defaults(conf);
	memset(&c, 0, sizeof(c));
	c.conf = conf;
	c.file = name != NULL && *name != '\0' ? name : "(config)";
	c.err = err;
	c.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		len = 0;
	if (len > CONFIG_FILE_MAX)
		return (config_err(&c, 0, "larger than %d bytes",
		    CONFIG_FILE_MAX));
	if (config_dir(&c) == -1)
		return (-1);
	if (len > 0 && (nul = memchr(text, '\0', len)) != NULL) {
		c.line = 1;
		for (s = memchr(text, '\n', nul - text); s != NULL;
		    s = memchr(s + 1, '\n', nul - s - 1))
			c.line++;
		return (config_err(&c, c.line, "line contains a NUL byte"));
	}
	if ((buf = malloc(len + 1)) == NULL) {
		log_warn("config: %s", c.file);
		return (config_err(&c, 0, "out of memory"));
	}
	if (len > 0)
		memcpy(buf, text, len);
	buf[len] = '\0';
	s = buf;
	if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3;		/* a UTF-8 byte order mark */
	for (;;) {
		c.line++;
		if ((e = strchr(s, '\n')) != NULL)
			*e = '\0';
		if ((l = strlen(s)) > 0 && s[l - 1] == '\r')
			s[l - 1] = '\0';
		if (config_line(&c, s) == -1)
			goto done;
		if (e == NULL)
			break;
		s = e + 1;
	}
	if (config_finish(&c) == -1)
		goto done;
	rc = 0;
 done:
	free(buf);
	if (rc == -1)
		config_clear(conf);
	return (rc);
}

int
config_load(const char *path, struct gw_conf *conf, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 off = 0;
	ssize_t		 r;
	int		 fd, rc;

	config_defaults(conf);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: not a regular file of at most %d "
		    "bytes", path, CONFIG_FILE_MAX);
		close(fd);
		return (-1);
	}
	if ((buf = malloc(st.st_size + 1)) == NULL) {
		log_warn("config: %s", path);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	while (off < (size_t)st.st_size) {
		r = read(fd, buf + off, st.st_size - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0) {
			snprintf(err, errlen, "%s: %s", path, r == 0 ?
			    "file shrank while reading" : strerror(errno));
			free(buf);
			close(fd);
			return (-1);
		}
		off += r;
	}
	close(fd);
	rc = config_parse(path, buf, off, conf, err, errlen);
	free(buf);
	return (rc);
}

/* A value as config_value reads it back: quoted when it must be. */
static void
config_print_kv(FILE *fp, const char *key, const char *val)
{
	const char	*p;
	size_t		 n = strlen(val);
	int		 quote = 0;

	if (n == 0 || config_space(val[0]) || config_space(val[n - 1]) ||
	    val[0] == '"')
		quote = 1;
	for (p = val; *p != '\0' && !quote; p++)
		if (*p == '#' && p > val && config_space(p[-1]))
			quote = 1;
	if (!quote) {
		fprintf(fp, "%s = %s\n", key, val);
		return;
	}
	fprintf(fp, "%s = \"", key);
	for (p = val; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fputc('\\', fp);
		fputc(*p, fp);
	}
	fputs("\"\n", fp);
}

/* An optional value: a comment saying what its absence means. */
static void
config_print_opt(FILE *fp, const char *key, const char *val,
    const char *none)
{
	if (val[0] == '\0')
		fprintf(fp, "# %s: %s\n", key, none);
	else
		config_print_kv(fp, key, val);
}

/* [alerts], every key: the thresholds, the SMS list, the hook. */
static void
config_print_alerts(const struct conf_alerts *a, FILE *fp)
{
	int	 i;

	fprintf(fp, "\n[alerts]\n");
	for (i = 0; i < ALERT_KINDS; i++)
		fprintf(fp, "%s = %d\n", config_alerts_keys[i].name,
		    a->limit[i]);
	fprintf(fp, "sms_interval = %d\n", a->sms_interval);
	config_print_opt(fp, "hook", a->hook, "none (no program is run)");
	if (a->nsms == 0)
		fprintf(fp, "# sms: none (no operator is sent an SMS)\n");
	else {
		fprintf(fp, "sms = ");
		for (i = 0; i < a->nsms; i++)
			fprintf(fp, "%s%s", i ? ", " : "", a->sms[i]);
		fputc('\n', fp);
	}
}

void
config_print(const struct gw_conf *conf, FILE *fp)
{
	const struct config_tunable	*t;
	const char			*base = (const char *)&conf->t;
	struct conf_modem		*m;
	struct conf_central		*ce;
	time_t				 tv;
	size_t				 i;
	int				 iv;

	if (conf->path[0] != '\0')
		fprintf(fp, "# %s: the effective configuration, defaults "
		    "included\n", conf->path);
	fprintf(fp, "[gateway]\n");
	config_print_opt(fp, "name", conf->name, "not set (required)");
	config_print_opt(fp, "state", conf->state_dir, "not set (required)");
	config_print_opt(fp, "key", conf->key, "not set (required)");
	config_print_opt(fp, "sign_key", conf->sign_key,
	    "not set (required)");
	config_print_opt(fp, "registry", conf->registry,
	    "none (no registry checks)");
	config_print_opt(fp, "election", conf->election,
	    "the embedded 2024 default");
	config_print_opt(fp, "kpps", conf->kpps,
	    "none (no registered KPPS numbers)");
	config_print_opt(fp, "modem_program", conf->modem_prog,
	    "tallygw-modem beside tallygw");
	config_print_kv(fp, "language", conf->language);
	config_print_kv(fp, "log", conf->log_syslog ? "syslog" : "stderr");
	config_print_kv(fp, "log_level", conf->log_level ? "debug" : "info");
	config_print_opt(fp, "user", conf->user,
	    "not set (runs as the user that starts it)");

	fprintf(fp, "\n[tunables]\n");
	for (i = 0; i < CONFIG_NTUNABLES; i++) {
		t = &config_tunables[i];
		if (t->type == T_TIME) {
			memcpy(&tv, base + t->off, sizeof(tv));
			fprintf(fp, "%s = %lld\n", t->name, (long long)tv);
		} else {
			memcpy(&iv, base + t->off, sizeof(iv));
			fprintf(fp, "%s = %d\n", t->name, iv);
		}
	}

	TAILQ_FOREACH(m, &conf->modems, entry) {
		fprintf(fp, "\n[modem %s]\n", m->name);
		config_print_kv(fp, "device", m->device);
		config_print_kv(fp, "connection", m->connection);
		config_print_kv(fp, "number", m->number);
		config_print_opt(fp, "operator", m->oper, "unknown");
		fprintf(fp, "send_cap = %d\n", m->send_cap);
		config_print_opt(fp, "balance", m->balance,
		    "the operator's usual USSD code");
		config_print_kv(fp, "enabled", m->enabled ? "yes" : "no");
		config_print_kv(fp, "role", config_role_name(m->role));
	}
	TAILQ_FOREACH(ce, &conf->centrals, entry) {
		fprintf(fp, "\n[central %s]\n", ce->name);
		config_print_kv(fp, "url", ce->url);
		fprintf(fp, "timeout = %d\n", ce->timeout);
		config_print_opt(fp, "ca_file", ce->ca_file,
		    "the system's CA certificates");
	}
	if (conf->ussd.enabled) {
		fprintf(fp, "\n[ussd]\n");
		config_print_kv(fp, "listen", conf->ussd.listen);
		config_print_kv(fp, "path", conf->ussd.path);
		config_print_kv(fp, "secret", conf->ussd.secret);
		config_print_opt(fp, "service", conf->ussd.service,
		    "any service code");
	}
	fprintf(fp, "\n[admin]\n");
	config_print_opt(fp, "listen", conf->admin.listen,
	    "none (the UNIX socket only)");
	config_print_opt(fp, "token", conf->admin.token,
	    "none (no TCP listener)");
	config_print_kv(fp, "web", conf->admin.web);
	config_print_alerts(&conf->alerts, fp);
}
