/*
 * query: the query strings of the admin API (docs/admin.md), such as
 * "?tps=3201012001001&verdict=FLAGGED&limit=20". Outside input: every
 * parameter is checked against a fixed list and a fixed form, and an
 * unknown, repeated, malformed or overlong one is refused with a
 * message that names it; values are decoded as an aggregator's form
 * (callback_decode). Pure (no daemon state): fuzz_query and test_query
 * drive it directly.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"

#define QUERY_KEY_MAX		32
#define QUERY_VALUE_MAX		128
#define QUERY_PAIRS_MAX		32

/* One decoded "key=value" pair. */
struct query_pair {
	char	 key[QUERY_KEY_MAX];
	char	 val[QUERY_VALUE_MAX];
};

static const char *const query_kinds[] = {
	[MSG_REPORT] = "report", [MSG_CEK] = "cek", [MSG_BANTU] = "bantu",
	[MSG_OTHER] = "other", [MSG_RATE] = "rate",
};
static const char *const query_verdicts[] = {
	[VERDICT_OK] = "OK", [VERDICT_FLAGGED] = "FLAGGED",
	[VERDICT_DUPLICATE] = "DUPLICATE", [VERDICT_REJECTED] = "REJECTED",
};
static const char *const query_replies[] = {
	[OUT_QUEUED] = "queued", [OUT_SENDING] = "sending",
	[OUT_SENT] = "sent", [OUT_DELIVERED] = "delivered",
	[OUT_FAILED] = "failed",
};
static const char *const query_forwards[] = {
	[FWD_PENDING] = "pending", [FWD_SENDING] = "sending",
	[FWD_ACKED] = "acked", [FWD_RETRY_WAIT] = "retry_wait",
	[FWD_FAILED] = "failed",
};
#define QUERY_N(a)	((int)(sizeof(a) / sizeof((a)[0])))

static int
query_err(char *err, size_t len, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static int
query_err(char *err, size_t len, const char *fmt, ...)
{
	va_list	 ap;

	if (err != NULL && len > 0) {
		va_start(ap, fmt);
		vsnprintf(err, len, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/*
 * Split a query string into pairs: '&' between them, the key before
 * the first '='. Empty parts ("a=1&&b=2") are skipped; a key twice is
 * an error (which one would count?).
 */
static int
query_pairs(const char *qs, struct query_pair *p, size_t max, size_t *np,
    char *err, size_t errlen)
{
	const char	*s, *amp, *eq;
	size_t		 n = 0, i, len;

	*np = 0;
	for (s = qs != NULL ? qs : ""; *s != '\0'; s = *amp ? amp + 1 : amp) {
		if ((amp = strchr(s, '&')) == NULL)
			amp = s + strlen(s);
		len = (size_t)(amp - s);
		if (len == 0)
			continue;
		if (n == max)
			return (query_err(err, errlen, "more than %zu "
			    "parameters", max));
		eq = memchr(s, '=', len);
		if (callback_decode(s, eq != NULL ? (size_t)(eq - s) : len,
		    1, p[n].key, sizeof(p[n].key)) == -1 ||
		    p[n].key[0] == '\0')
			return (query_err(err, errlen, "bad parameter name "
			    "(at most %d characters, no control characters)",
			    QUERY_KEY_MAX - 1));
		if (callback_decode(eq != NULL ? eq + 1 : s + len,
		    eq != NULL ? (size_t)(amp - eq - 1) : 0, 1, p[n].val,
		    sizeof(p[n].val)) == -1)
			return (query_err(err, errlen, "%s: bad value (at "
			    "most %d characters, no control characters)",
			    p[n].key, QUERY_VALUE_MAX - 1));
		for (i = 0; i < n; i++)
			if (strcmp(p[i].key, p[n].key) == 0)
				return (query_err(err, errlen, "%s: given "
				    "twice", p[n].key));
		n++;
	}
	*np = n;
	return (0);
}

/* The index of word in a table of names (exact match), or -1. */
static int
query_word(const char *const *names, int n, const char *word)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], word) == 0)
			return (i);
	return (-1);
}

/* A decimal number lo..hi, digits only. */
static int
query_number(const char *key, const char *val, long long lo, long long hi,
    long long *out, char *err, size_t errlen)
{
	char		*end;
	long long	 v;

	if (val[0] < '0' || val[0] > '9')
		return (query_err(err, errlen, "%s: not a number: '%s'", key,
		    val));
	errno = 0;
	v = strtoll(val, &end, 10);
	if (*end != '\0' || errno != 0 || v < lo || v > hi)
		return (query_err(err, errlen, "%s: not a number %lld..%lld: "
		    "'%s'", key, lo, hi, val));
	*out = v;
	return (0);
}

/* A region code: 2, 4, 6, 10 or (if tps_ok) 13 digits, province 11..99. */
static int
query_region(const char *key, const char *val, int tps_ok, uint64_t *code,
    int *digits, char *err, size_t errlen)
{
	size_t		 n = strlen(val), i;
	uint64_t	 v = 0;

	for (i = 0; i < n; i++) {
		if (val[i] < '0' || val[i] > '9')
			break;
		v = v * 10 + (uint64_t)(val[i] - '0');
	}
	if (i != n || (n != 2 && n != 4 && n != 6 && n != 10 &&
	    (n != TALLY_TPS_DIGITS || !tps_ok)) ||
	    (val[0] == '0' || (val[0] == '1' && val[1] == '0')))
		return (query_err(err, errlen, "%s: a region is the code of a "
		    "province (2 digits), regency (4), district (6)%s: '%s'",
		    key, tps_ok ? ", village (10) or TPS (13)" :
		    " or village (10)", val));
	*code = v;
	*digits = (int)n;
	return (0);
}

/* A contest by name (any case) or number. */
static int
query_contest(const char *key, const char *val, enum contest *c, char *err,
    size_t errlen)
{
	char	 up[8];
	size_t	 i;

	for (i = 0; val[i] != '\0' && i < sizeof(up) - 1; i++)
		up[i] = (val[i] >= 'a' && val[i] <= 'z') ? val[i] - 32 : val[i];
	up[i] = '\0';
	if (val[i] != '\0' || (*c = decode_contest(up)) == CONTEST_NONE)
		return (query_err(err, errlen, "%s: not a contest (PPWP, DPR, "
		    "DPD, DPRDP, DPRDK): '%s'", key, val));
	return (0);
}

/*
 * An ISO 8601 UTC time, "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]"
 * with an optional "Z", into the form of the store's received_at
 * ("YYYY-MM-DDTHH:MM:SS.mmmZ"), so that text order is time order.
 */
int
query_time(const char *val, char *out, size_t len)
{
	struct tm	 tm, back;
	const char	*p;
	time_t		 t;
	char		 frac[4] = "000";
	int		 i;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(val, "%Y-%m-%d", &tm)) == NULL ||
	    p - val != 10)
		return (-1);
	if (*p == 'T') {
		if ((p = strptime(p + 1, "%H:%M", &tm)) == NULL)
			return (-1);
		if (*p == ':' && (p = strptime(p + 1, "%S", &tm)) == NULL)
			return (-1);
		if (*p == '.') {
			for (p++, i = 0; *p >= '0' && *p <= '9'; p++, i++)
				if (i < 3)
					frac[i] = *p;
			if (i == 0)
				return (-1);
		}
		if (*p == 'Z')
			p++;
	}
	if (*p != '\0' || tm.tm_year < 70 || tm.tm_year > 8000)
		return (-1);
	/* strptime takes 2026-02-31: the calendar must agree. */
	back = tm;
	if ((t = timegm(&back)) == (time_t)-1 || back.tm_mday != tm.tm_mday ||
	    back.tm_mon != tm.tm_mon || tm.tm_sec > 59)
		return (-1);
	if (snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%sZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, frac) >= (int)len)
		return (-1);
	return (0);
}

/*
 * Each pair of a query string to fn(pair, arg, err, errlen), which
 * fills in arg or says what is wrong; -1 at the first error.
 */
static int
query_walk(const char *qs, int (*fn)(const struct query_pair *, void *,
    char *, size_t), void *arg, char *err, size_t errlen)
{
	struct query_pair	 p[QUERY_PAIRS_MAX];
	size_t			 n, i;

	if (query_pairs(qs, p, QUERY_PAIRS_MAX, &n, err, errlen) == -1)
		return (-1);
	for (i = 0; i < n; i++)
		if (fn(&p[i], arg, err, errlen) == -1)
			return (-1);
	return (0);
}

/* One parameter of GET /messages. */
static int
query_msg_pair(const struct query_pair *p, void *arg, char *err,
    size_t errlen)
{
	struct store_msg_query	*q = arg;
	long long		 v;
	uint64_t	 tps;
	int		 i, digits;

	if (strcmp(p->key, "tps") == 0) {
		if (query_region(p->key, p->val, 1, &tps, &digits, err,
		    errlen) == -1 || digits != TALLY_TPS_DIGITS)
			return (query_err(err, errlen, "tps: not a 13-digit "
			    "TPS code: '%s'", p->val));
		q->tps = tps;
	} else if (strcmp(p->key, "sender") == 0) {
		if (p->val[0] == '\0' || strlen(p->val) >= sizeof(q->sender))
			return (query_err(err, errlen, "sender: empty or "
			    "longer than %zu characters", sizeof(q->sender) -
			    1));
		memcpy(q->sender, p->val, strlen(p->val) + 1);
	} else if (strcmp(p->key, "kind") == 0) {
		if ((i = query_word(query_kinds, QUERY_N(query_kinds),
		    p->val)) == -1)
			return (query_err(err, errlen, "kind: one of report, "
			    "cek, bantu, other, rate: '%s'", p->val));
		q->kind = (enum msg_kind)i;
	} else if (strcmp(p->key, "verdict") == 0) {
		if ((i = query_word(query_verdicts, QUERY_N(query_verdicts),
		    p->val)) == -1)
			return (query_err(err, errlen, "verdict: one of OK, "
			    "FLAGGED, DUPLICATE, REJECTED: '%s'", p->val));
		q->verdict = (enum verdict)i;
	} else if (strcmp(p->key, "contest") == 0) {
		if (query_contest(p->key, p->val, &q->contest, err,
		    errlen) == -1)
			return (-1);
	} else if (strcmp(p->key, "state") == 0) {
		if (strcmp(p->val, "none") == 0)
			q->reply = QUERY_NONE;
		else if (strcmp(p->val, "owed") == 0)
			q->reply = QUERY_OWED;
		else if ((q->reply = query_word(query_replies,
		    QUERY_N(query_replies), p->val)) == -1)
			return (query_err(err, errlen, "state: one of queued, "
			    "sending, sent, delivered, failed, owed, none: "
			    "'%s'", p->val));
	} else if (strcmp(p->key, "forward") == 0) {
		if (strcmp(p->val, "none") == 0)
			q->forward = QUERY_NONE;
		else if ((q->forward = query_word(query_forwards,
		    QUERY_N(query_forwards), p->val)) == -1)
			return (query_err(err, errlen, "forward: one of "
			    "pending, sending, acked, retry_wait, failed, "
			    "none: '%s'", p->val));
	} else if (strcmp(p->key, "channel") == 0) {
		if (strcmp(p->val, "sms") == 0)
			q->channel = QUERY_SMS;
		else if (strcmp(p->val, "ussd") == 0)
			q->channel = QUERY_USSD;
		else
			return (query_err(err, errlen, "channel: sms or ussd: "
			    "'%s'", p->val));
	} else if (strcmp(p->key, "since") == 0 ||
	    strcmp(p->key, "until") == 0) {
		if (query_time(p->val, p->key[0] == 's' ? q->since : q->until,
		    sizeof(q->since)) == -1)
			return (query_err(err, errlen, "%s: not a UTC time "
			    "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z]: '%s'", p->key,
			    p->val));
	} else if (strcmp(p->key, "before") == 0) {
		if (query_number(p->key, p->val, 1, INT64_MAX, &v, err,
		    errlen) == -1)
			return (-1);
		q->before = v;
	} else if (strcmp(p->key, "limit") == 0) {
		if (query_number(p->key, p->val, 1, QUERY_LIMIT_MAX, &v, err,
		    errlen) == -1)
			return (-1);
		q->limit = (int)v;
	} else
		return (query_err(err, errlen, "unknown parameter '%s' (tps, "
		    "sender, kind, verdict, contest, state, forward, channel, "
		    "since, until, before, limit)", p->key));
	return (0);
}

/* GET /messages: which messages, newest first. */
int
query_messages(const char *qs, struct store_msg_query *q, char *err,
    size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->limit = QUERY_LIMIT_DEFAULT;
	if (query_walk(qs, query_msg_pair, q, err, errlen) == -1)
		return (-1);
	if (q->since[0] != '\0' && q->until[0] != '\0' &&
	    strcmp(q->since, q->until) >= 0)
		return (query_err(err, errlen, "since must be before until"));
	return (0);
}

/* One parameter of GET /coverage. */
static int
query_coverage_pair(const struct query_pair *p, void *arg, char *err,
    size_t errlen)
{
	static const char *const levels[] = { "province", "regency",
	    "district", "village" };
	static const int digits[] = { 2, 4, 6, 10 };
	struct query_coverage	*q = arg;
	int			 l;

	if (strcmp(p->key, "level") == 0) {
		if ((l = query_word(levels, QUERY_N(levels), p->val)) == -1)
			return (query_err(err, errlen, "level: one of "
			    "province, regency, district, village: '%s'",
			    p->val));
		q->digits = digits[l];
		return (0);
	}
	if (strcmp(p->key, "in") == 0)
		return (query_region(p->key, p->val, 0, &q->in, &q->in_digits,
		    err, errlen));
	if (strcmp(p->key, "contest") == 0)
		return (query_contest(p->key, p->val, &q->contest, err,
		    errlen));
	return (query_err(err, errlen, "unknown parameter '%s' (level, in, "
	    "contest)", p->key));
}

/* GET /coverage: level, in (a region above the level), contest. */
int
query_coverage(const char *qs, struct query_coverage *q, char *err,
    size_t errlen)
{
	memset(q, 0, sizeof(*q));
	q->digits = 2;
	if (query_walk(qs, query_coverage_pair, q, err, errlen) == -1)
		return (-1);
	if (q->in_digits >= q->digits)
		return (query_err(err, errlen, "in: region %0*llu is not "
		    "above the %s level", q->in_digits,
		    (unsigned long long)q->in, q->digits == 2 ? "province" :
		    q->digits == 4 ? "regency" : q->digits == 6 ? "district" :
		    "village"));
	return (0);
}

/* One parameter of GET /export. */
static int
query_export_pair(const struct query_pair *p, void *arg, char *err,
    size_t errlen)
{
	struct query_export	*q = arg;

	if (strcmp(p->key, "format") == 0) {
		if (strcmp(p->val, "csv") != 0 && strcmp(p->val, "json") != 0)
			return (query_err(err, errlen, "format: csv or json: "
			    "'%s'", p->val));
		q->json = p->val[0] == 'j';
		return (0);
	}
	if (strcmp(p->key, "region") == 0)
		return (query_region(p->key, p->val, 1, &q->region,
		    &q->region_digits, err, errlen));
	if (strcmp(p->key, "contest") == 0)
		return (query_contest(p->key, p->val, &q->contest, err,
		    errlen));
	return (query_err(err, errlen, "unknown parameter '%s' (format, "
	    "region, contest)", p->key));
}

/* GET /export: format, region, contest. */
int
query_export(const char *qs, struct query_export *q, char *err,
    size_t errlen)
{
	memset(q, 0, sizeof(*q));
	return (query_walk(qs, query_export_pair, q, err, errlen));
}

/* One parameter of POST /forwards/retry. */
static int
query_retry_pair(const struct query_pair *p, void *arg, char *err,
    size_t errlen)
{
	struct query_retry	*q = arg;
	long long		 v;

	if (strcmp(p->key, "msg") == 0) {
		if (query_number(p->key, p->val, 1, INT64_MAX, &v, err,
		    errlen) == -1)
			return (-1);
		q->msg = v;
		return (0);
	}
	if (strcmp(p->key, "failed") == 0) {
		if (strcmp(p->val, "1") != 0 && strcmp(p->val, "true") != 0 &&
		    p->val[0] != '\0')
			return (query_err(err, errlen, "failed: 1 or true: "
			    "'%s'", p->val));
		q->failed = 1;
		return (0);
	}
	return (query_err(err, errlen, "unknown parameter '%s' (msg, failed)",
	    p->key));
}

/* POST /forwards/retry: msg=ID, or failed=1, or nothing. */
int
query_retry(const char *qs, struct query_retry *q, char *err, size_t errlen)
{
	memset(q, 0, sizeof(*q));
	if (query_walk(qs, query_retry_pair, q, err, errlen) == -1)
		return (-1);
	if (q->msg != 0 && q->failed)
		return (query_err(err, errlen, "msg and failed together: "
		    "give one"));
	return (0);
}
