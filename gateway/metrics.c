/*
 * metrics: the gateway's numbers in the Prometheus text exposition
 * format, version 0.0.4 (docs/metrics.md), which admin.c serves at
 * /metrics. The stages count here as things happen (receive, outbox,
 * forward: a few compares and an add, no allocation), the store's
 * rows by state too, from their counts at start-up: a scrape does not
 * touch the store, whose counts take a scan of each table; /status
 * reads the same counts (metrics_counts). What the
 * loop holds anyway (the modems, the central systems) admin.c reads
 * at scrape time and hands in as struct metrics_scrape. This file
 * calls no other file of the daemon, so that every stage may count
 * into it.
 */
#include <sys/types.h>

#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "log.h"

#define METRICS_SERIES_MAX	256	/* series the stages may count into */
#define METRICS_LABELS_MAX	4	/* label pairs of one sample */
#define METRICS_NUM_MAX		32	/* a number as text */

/* A family the stages count into: its labels and, if any, buckets. */
struct metrics_def {
	const char	*name;
	const char	*type;
	const char	*help;
	const char	*label[2];	/* NULL: no second label */
	int		 lower;		/* label values in lower case */
	const double	*bounds;	/* a histogram's, ascending */
	size_t		 nbounds;
};

/* One series of such a family. */
struct metrics_series {
	enum metrics_kept	 fam;
	char			 value[2][METRICS_VALUE_MAX];
	long long		 n;		/* a counter */
	struct metrics_hist	 h;		/* a histogram */
};

/* Storing a message is a transaction with an fsync: milliseconds. */
static const double metrics_commit_bounds[] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
	10,
};
/* One request to a central, up to its timeout (15 s by default). */
static const double metrics_request_bounds[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30, 60,
};
/* Arrival to the central's ack: ms when it is up, hours after an outage. */
static const double metrics_ack_bounds[] = {
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
	3600, 10800,
};
#define METRICS_BOUNDS(a)	(a), (sizeof(a) / sizeof((a)[0]))

static const struct metrics_def metrics_defs[METRICS_KEPT_MAX] = {
	[METRICS_MESSAGES] = { "tallygw_messages_total", "counter",
	    "Messages stored, by channel and verdict (a report's verdict, "
	    "else what the message was: cek, bantu, other, rate).",
	    { "channel", "verdict" }, 1, NULL, 0 },
	[METRICS_STAGE] = { "tallygw_receive_stage_total", "counter",
	    "Whole messages that reached each state of the receive stage "
	    "since the gateway started.",
	    { "channel", "stage" }, 0, NULL, 0 },
	[METRICS_COMMIT] = { "tallygw_commit_latency_seconds", "histogram",
	    "From a whole message's arrival at the receive stage to its "
	    "commit (message, reply, forwards in one transaction).",
	    { "channel", NULL }, 0, METRICS_BOUNDS(metrics_commit_bounds) },
	[METRICS_FWD_REQUEST] = { "tallygw_forward_request_seconds",
	    "histogram",
	    "One forward request to a central system, from its start to "
	    "its outcome (acked, refused, outage).",
	    { "central", "outcome" }, 0,
	    METRICS_BOUNDS(metrics_request_bounds) },
	[METRICS_FWD_ACK] = { "tallygw_forward_latency_seconds", "histogram",
	    "From a report's arrival at the gateway to the central "
	    "system's ack of it, retries and outages included.",
	    { "central", NULL }, 0, METRICS_BOUNDS(metrics_ack_bounds) },
	[METRICS_REPLIES] = { "tallygw_replies", "gauge",
	    "Outgoing SMS (replies to officers) in the store, by state.",
	    { "state", NULL }, 0, NULL, 0 },
	[METRICS_FORWARDS] = { "tallygw_forwards", "gauge",
	    "Forwards (one per accepted report and central system) in the "
	    "store, by state.",
	    { "state", NULL }, 0, NULL, 0 },
};

_Static_assert(sizeof(metrics_ack_bounds) / sizeof(double) <=
    METRICS_BUCKETS_MAX, "too many buckets");

static struct metrics_series	 metrics_kept[METRICS_SERIES_MAX];
static size_t			 metrics_nkept;
static int			 metrics_full_said;
/*
 * The store's rows as /status gives them, kept as the gauges are: the
 * messages counted at start-up then at each commit (a message is never
 * changed nor removed), the replies and forwards by state beside their
 * gauges. A poll costs no scan of the store.
 */
static struct store_counts	 metrics_rows;

/* ------------------------------------------------------------------ */
/* What the stages count                                               */
/* ------------------------------------------------------------------ */

/* Seconds on a clock that only goes forward, for durations. */
double
metrics_now(void)
{
	struct timespec	 ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return ((double)time(NULL));
	return ((double)ts.tv_sec + (double)ts.tv_nsec / 1e9);
}

/*
 * Seconds from a time as the store writes it ("2026-02-14T12:34:50.999Z")
 * to now; -1 if it is not one.
 */
double
metrics_since(const char *iso)
{
	struct tm	 tm;
	struct timespec	 ts;
	int		 ms = 0, n = 0;
	time_t		 t;

	memset(&tm, 0, sizeof(tm));
	if (iso == NULL || sscanf(iso, "%4d-%2d-%2dT%2d:%2d:%2d%n",
	    &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &n) != 6)
		return (-1);
	if (iso[n] == '.' && sscanf(iso + n, ".%3d", &ms) != 1)
		return (-1);
	tm.tm_year -= 1900;
	tm.tm_mon--;
	if ((t = timegm(&tm)) == (time_t)-1 ||
	    clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return (-1);
	return ((double)(ts.tv_sec - t) + (double)ts.tv_nsec / 1e9 -
	    (double)ms / 1e3);
}

/* A label value as kept: truncated, in lower case if the family says. */
static void
metrics_keep_value(char *dst, const char *src, int lower)
{
	size_t	 i;

	for (i = 0; src != NULL && src[i] != '\0' &&
	    i < METRICS_VALUE_MAX - 1; i++)
		dst[i] = lower && src[i] >= 'A' && src[i] <= 'Z' ?
		    (char)(src[i] - 'A' + 'a') : src[i];
	dst[i] = '\0';
}

/* The series of a family with these label values, made if new. */
static struct metrics_series *
metrics_series(enum metrics_kept fam, const char *a, const char *b)
{
	const struct metrics_def	*d = &metrics_defs[fam];
	struct metrics_series		*s;
	char				 va[METRICS_VALUE_MAX];
	char				 vb[METRICS_VALUE_MAX];
	size_t				 i;

	metrics_keep_value(va, a, d->lower);
	metrics_keep_value(vb, d->label[1] != NULL ? b : NULL, d->lower);
	for (i = 0; i < metrics_nkept; i++) {
		s = &metrics_kept[i];
		if (s->fam == fam && strcmp(s->value[0], va) == 0 &&
		    strcmp(s->value[1], vb) == 0)
			return (s);
	}
	if (metrics_nkept == METRICS_SERIES_MAX) {
		if (!metrics_full_said)
			log_warnx("metrics: more than %d series; %s{%s} and "
			    "later new ones are not counted",
			    METRICS_SERIES_MAX, d->name, va);
		metrics_full_said = 1;
		return (NULL);
	}
	s = &metrics_kept[metrics_nkept++];
	memset(s, 0, sizeof(*s));
	s->fam = fam;
	memcpy(s->value[0], va, sizeof(va));
	memcpy(s->value[1], vb, sizeof(vb));
	s->h.bounds = d->bounds;
	s->h.nbounds = d->nbounds;
	return (s);
}

/*
 * Add n to a counter. n = 0 makes the series (of a histogram too)
 * without counting: a scrape shows it at 0 before the first event.
 */
void
metrics_count(enum metrics_kept fam, const char *a, const char *b, long n)
{
	struct metrics_series	*s;

	if ((unsigned)fam < METRICS_KEPT_MAX &&
	    (s = metrics_series(fam, a, b)) != NULL)
		s->n += n;
}

/* One observation (seconds) of a histogram. */
void
metrics_observe(enum metrics_kept fam, const char *a, const char *b,
    double v)
{
	struct metrics_series	*s;

	if ((unsigned)fam < METRICS_KEPT_MAX &&
	    metrics_defs[fam].bounds != NULL &&
	    (s = metrics_series(fam, a, b)) != NULL)
		metrics_hist_add(&s->h, v);
}

/*
 * At start-up, once the rows left in flight are back in their queues:
 * the store's rows by state, which the outbox and the forwarder then
 * keep up to date at each change of state.
 */
void
metrics_start(const struct store_counts *c)
{
	metrics_rows = *c;
	metrics_count(METRICS_REPLIES, "queued", NULL, c->out_queued);
	metrics_count(METRICS_REPLIES, "sending", NULL, c->out_sending);
	metrics_count(METRICS_REPLIES, "sent", NULL, c->out_sent);
	metrics_count(METRICS_REPLIES, "delivered", NULL, c->out_delivered);
	metrics_count(METRICS_REPLIES, "failed", NULL, c->out_failed);
	metrics_count(METRICS_FORWARDS, "pending", NULL, c->fwd_pending);
	metrics_count(METRICS_FORWARDS, "sending", NULL, c->fwd_sending);
	metrics_count(METRICS_FORWARDS, "retry_wait", NULL,
	    c->forward_retry);
	metrics_count(METRICS_FORWARDS, "acked", NULL, c->fwd_acked);
	metrics_count(METRICS_FORWARDS, "failed", NULL, c->fwd_failed);
}

/* Forget every series (the unit tests start from nothing). */
void
metrics_reset(void)
{
	metrics_nkept = 0;
	metrics_full_said = 0;
	memset(&metrics_rows, 0, sizeof(metrics_rows));
}

/* A message committed to the store: /status's counts of messages. */
void
metrics_stored(enum msg_kind kind, enum verdict verdict)
{
	metrics_rows.msgs++;
	if (kind != MSG_REPORT) {
		metrics_rows.other++;
		return;
	}
	metrics_rows.reports++;
	switch (verdict) {
	case VERDICT_OK:
		metrics_rows.ok++;
		break;
	case VERDICT_FLAGGED:
		metrics_rows.flagged++;
		break;
	case VERDICT_DUPLICATE:
		metrics_rows.duplicate++;
		break;
	case VERDICT_REJECTED:
		metrics_rows.rejected++;
		break;
	}
}

void
metrics_hist_add(struct metrics_hist *h, double v)
{
	size_t	 i;

	if (isnan(v))
		return;
	for (i = 0; i < h->nbounds && v > h->bounds[i]; i++)
		;
	h->n[i]++;
	h->sum += v;
	h->count++;
}

/* ------------------------------------------------------------------ */
/* The text format                                                     */
/* ------------------------------------------------------------------ */

/*
 * A number as Go's strconv.ParseFloat reads it and Prometheus writes
 * it: integers without a fraction, else the shortest text that reads
 * back the same double; NaN, +Inf, -Inf.
 */
static void
metrics_number(char *buf, size_t len, double v)
{
	int	 p;

	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, "%cInf", v > 0 ? '+' : '-');
	else if (v == 0)
		snprintf(buf, len, "0");
	else if (fabs(v) < 1e15 && v == floor(v))
		snprintf(buf, len, "%.0f", v);
	else
		for (p = 1; p <= 17; p++) {
			snprintf(buf, len, "%.*g", p, v);
			if (strtod(buf, NULL) == v)
				break;
		}
}

/* The length of the UTF-8 sequence at p (1..4), 0 if it is not one. */
static size_t
metrics_utf8(const unsigned char *p)
{
	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		return ((p[1] & 0xc0) == 0x80 ? 2 : 0);
	if (p[0] >= 0xe0 && p[0] <= 0xef) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[0] == 0xe0 && p[1] < 0xa0) ||	/* overlong */
		    (p[0] == 0xed && p[1] > 0x9f))	/* surrogate */
			return (0);
		return (3);
	}
	if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		if ((p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80 ||
		    (p[0] == 0xf0 && p[1] < 0x90) ||	/* overlong */
		    (p[0] == 0xf4 && p[1] > 0x8f))	/* past U+10FFFF */
			return (0);
		return (4);
	}
	return (0);
}

/*
 * A HELP text or a label value, escaped as the format wants: \\ and \n
 * in both, \" in a label value. Bytes that are not UTF-8 (a modem's
 * operator name comes from the network) become U+FFFD.
 */
static void
metrics_escape(FILE *f, const char *s, int value)
{
	const unsigned char	*p;
	size_t			 k;

	for (p = (const unsigned char *)s; p != NULL && *p != '\0'; p += k) {
		if ((k = metrics_utf8(p)) == 0) {
			fputs("\xef\xbf\xbd", f);
			k = 1;
		} else if (*p == '\\')
			fputs("\\\\", f);
		else if (*p == '\n')
			fputs("\\n", f);
		else if (*p == '"' && value)
			fputs("\\\"", f);
		else
			fwrite(p, 1, k, f);
	}
}

void
metrics_begin(struct metrics_out *o, FILE *f)
{
	memset(o, 0, sizeof(o[0]));
	o->f = f;
}

/*
 * The family the next samples belong to. Its HELP and TYPE lines are
 * written with its first sample: a family with none is left out.
 */
void
metrics_family(struct metrics_out *o, const char *name, const char *type,
    const char *help)
{
	o->name = name;
	o->type = type;
	o->help = help;
	o->said = 0;
}

/* One sample line: the family's name, suffix, labels (pairs), value. */
static void
metrics_line(struct metrics_out *o, const char *suffix,
    const char *const *lv, int n, const char *le, double v)
{
	char	 num[METRICS_NUM_MAX];
	int	 i;

	if (!o->said) {
		fprintf(o->f, "# HELP %s ", o->name);
		metrics_escape(o->f, o->help, 0);
		fprintf(o->f, "\n# TYPE %s %s\n", o->name, o->type);
		o->said = 1;
	}
	fprintf(o->f, "%s%s", o->name, suffix);
	for (i = 0; i < n; i++) {
		fprintf(o->f, "%s%s=\"", i == 0 ? "{" : ",", lv[2 * i]);
		metrics_escape(o->f, lv[2 * i + 1], 1);
		fputc('"', o->f);
	}
	if (le != NULL)
		fprintf(o->f, "%sle=\"%s\"", n == 0 ? "{" : ",", le);
	if (n > 0 || le != NULL)
		fputc('}', o->f);
	metrics_number(num, sizeof(num), v);
	fprintf(o->f, " %s\n", num);
}

/* Up to METRICS_LABELS_MAX pairs of name, value from the arguments. */
static int
metrics_labels(const char **lv, int n, va_list ap)
{
	int	 i;

	if (n > METRICS_LABELS_MAX)
		n = METRICS_LABELS_MAX;
	for (i = 0; i < 2 * n; i++)
		lv[i] = va_arg(ap, const char *);
	return (n);
}

/* A sample of the family: v, then n label pairs (name, value). */
void
metrics_sample(struct metrics_out *o, double v, int n, ...)
{
	const char	*lv[2 * METRICS_LABELS_MAX];
	va_list		 ap;

	va_start(ap, n);
	n = metrics_labels(lv, n, ap);
	va_end(ap);
	metrics_line(o, "", lv, n, NULL, v);
}

/* A histogram's samples: cumulative buckets, +Inf, _sum, _count. */
static void
metrics_hist_lines(struct metrics_out *o, const struct metrics_hist *h,
    const char *const *lv, int n)
{
	char		 le[METRICS_NUM_MAX];
	uint64_t	 cum = 0;
	size_t		 i;

	for (i = 0; i < h->nbounds; i++) {
		cum += h->n[i];
		metrics_number(le, sizeof(le), h->bounds[i]);
		metrics_line(o, "_bucket", lv, n, le, (double)cum);
	}
	metrics_line(o, "_bucket", lv, n, "+Inf", (double)h->count);
	metrics_line(o, "_sum", lv, n, NULL, h->sum);
	metrics_line(o, "_count", lv, n, NULL, (double)h->count);
}

/* A histogram of the family, then n label pairs (name, value). */
void
metrics_hist_write(struct metrics_out *o, const struct metrics_hist *h,
    int n, ...)
{
	const char	*lv[2 * METRICS_LABELS_MAX];
	va_list		 ap;

	va_start(ap, n);
	n = metrics_labels(lv, n, ap);
	va_end(ap);
	metrics_hist_lines(o, h, lv, n);
}

/* ------------------------------------------------------------------ */
/* The scrape                                                          */
/* ------------------------------------------------------------------ */

/* The families the stages counted into, each series as it came. */
static void
metrics_write_kept(struct metrics_out *o)
{
	const struct metrics_def	*d;
	const struct metrics_series	*s;
	const char			*lv[4];
	size_t				 i;
	int				 fam;

	for (fam = 0; fam < METRICS_KEPT_MAX; fam++) {
		d = &metrics_defs[fam];
		metrics_family(o, d->name, d->type, d->help);
		for (i = 0; i < metrics_nkept; i++) {
			s = &metrics_kept[i];
			if (s->fam != (enum metrics_kept)fam)
				continue;
			lv[0] = d->label[0];
			lv[1] = s->value[0];
			lv[2] = d->label[1];
			lv[3] = s->value[1];
			if (d->bounds != NULL)
				metrics_hist_lines(o, &s->h, lv,
				    d->label[1] != NULL ? 2 : 1);
			else
				metrics_line(o, "", lv,
				    d->label[1] != NULL ? 2 : 1, NULL,
				    (double)s->n);
		}
	}
}

/* What a counted series holds, 0 if there is none. */
static long long
metrics_value(enum metrics_kept fam, const char *a)
{
	size_t	 i;

	for (i = 0; i < metrics_nkept; i++)
		if (metrics_kept[i].fam == fam &&
		    strcmp(metrics_kept[i].value[0], a) == 0)
			return (metrics_kept[i].n);
	return (0);
}

/* The store's rows by kind and state, as store_counts would count them. */
void
metrics_counts(struct store_counts *c)
{
	*c = metrics_rows;
	c->out_queued = (long)metrics_value(METRICS_REPLIES, "queued");
	c->out_sending = (long)metrics_value(METRICS_REPLIES, "sending");
	c->out_sent = (long)metrics_value(METRICS_REPLIES, "sent");
	c->out_delivered = (long)metrics_value(METRICS_REPLIES, "delivered");
	c->out_failed = (long)metrics_value(METRICS_REPLIES, "failed");
	c->fwd_pending = (long)metrics_value(METRICS_FORWARDS, "pending");
	c->fwd_sending = (long)metrics_value(METRICS_FORWARDS, "sending");
	c->forward_retry = (long)metrics_value(METRICS_FORWARDS, "retry_wait");
	c->fwd_acked = (long)metrics_value(METRICS_FORWARDS, "acked");
	c->fwd_failed = (long)metrics_value(METRICS_FORWARDS, "failed");
}

/* The queues: from the rows by state, the parts and the SIMs. */
static void
metrics_write_queues(struct metrics_out *o, const struct metrics_scrape *sc)
{
	long	 sim = 0;
	size_t	 i;

	for (i = 0; i < sc->nmodems; i++)
		sim += sc->modems[i].sim_used;
	metrics_family(o, "tallygw_queue_depth", "gauge",
	    "Work waiting: replies (SMS queued for a modem), forwards "
	    "(pending or waiting for a retry), parts (long SMS waiting "
	    "for their other parts), sim (messages on the modems' SIMs).");
	metrics_sample(o, (double)metrics_value(METRICS_REPLIES, "queued"), 1,
	    "queue", "replies");
	metrics_sample(o, (double)(metrics_value(METRICS_FORWARDS, "pending") +
	    metrics_value(METRICS_FORWARDS, "retry_wait")), 1, "queue",
	    "forwards");
	metrics_sample(o, sc->parts_pending, 1, "queue", "parts");
	metrics_sample(o, sim, 1, "queue", "sim");
}

/* The central systems, as the forwarder sees them. */
static void
metrics_write_centrals(struct metrics_out *o, const struct metrics_scrape *sc)
{
	const struct fwd_central_stats	*cs = sc->centrals;
	size_t				 i;

	metrics_family(o, "tallygw_central_up", "gauge",
	    "1 while the central system answers, 0 while it is probed "
	    "after failures.");
	for (i = 0; i < sc->ncentrals; i++)
		metrics_sample(o, cs[i].up ? 1 : 0, 1, "central", cs[i].name);
	metrics_family(o, "tallygw_central_inflight", "gauge",
	    "Forward requests to the central system now.");
	for (i = 0; i < sc->ncentrals; i++)
		metrics_sample(o, cs[i].inflight, 1, "central", cs[i].name);
	metrics_family(o, "tallygw_central_failures", "gauge",
	    "Failed attempts in a row (0 while it answers).");
	for (i = 0; i < sc->ncentrals; i++)
		metrics_sample(o, cs[i].failures, 1, "central", cs[i].name);
	metrics_family(o, "tallygw_central_last_ok_timestamp_seconds",
	    "gauge", "When the central system last answered (Unix time).");
	for (i = 0; i < sc->ncentrals; i++)
		if (cs[i].last_ok > 0)
			metrics_sample(o, (double)cs[i].last_ok, 1, "central",
			    cs[i].name);
}

/* When a modem's number is known, or set: else it is left out. */
enum metrics_when {
	METRICS_ALWAYS = 0,
	METRICS_SET,		/* > 0: a send cap */
	METRICS_KNOWN,		/* >= 0: the balance, -1 unknown */
	METRICS_DBM,		/* < -1: a signal; 0 and -1 unknown */
	METRICS_SIM,		/* the SIM's size is known */
};

#define METRICS_FIELD(f)	offsetof(struct metrics_modem, f)

/* The per-modem families: each one field of struct metrics_modem. */
static const struct {
	const char		*name;
	const char		*type;
	const char		*help;
	size_t			 field;
	enum metrics_when	 when;
} metrics_modem_families[] = {
	{ "tallygw_modem_up", "gauge", "1 while the modem's worker is "
	    "ready, sending or sweeping.", METRICS_FIELD(up),
	    METRICS_ALWAYS },
	{ "tallygw_modem_enabled", "gauge", "1 if the modem is enabled.",
	    METRICS_FIELD(enabled), METRICS_ALWAYS },
	{ "tallygw_modem_signal_dbm", "gauge", "Signal strength as the "
	    "worker last reported it.", METRICS_FIELD(signal), METRICS_DBM },
	{ "tallygw_modem_registered", "gauge", "1 while registered with "
	    "the network (home or roaming).", METRICS_FIELD(registered),
	    METRICS_ALWAYS },
	{ "tallygw_modem_sim_used", "gauge", "SMS held in the SIM's "
	    "storage.", METRICS_FIELD(sim_used), METRICS_SIM },
	{ "tallygw_modem_sim_capacity", "gauge", "SMS the SIM's storage "
	    "holds.", METRICS_FIELD(sim_capacity), METRICS_SIM },
	{ "tallygw_modem_balance_rupiah", "gauge", "Prepaid airtime, as "
	    "the operator's last USSD answer said.", METRICS_FIELD(balance),
	    METRICS_KNOWN },
	{ "tallygw_modem_sent_total", "counter", "SMS the network took "
	    "from this modem since the gateway started.",
	    METRICS_FIELD(sent), METRICS_ALWAYS },
	{ "tallygw_modem_send_failed_total", "counter", "Sends the modem "
	    "or the network refused since the gateway started.",
	    METRICS_FIELD(send_failed), METRICS_ALWAYS },
	{ "tallygw_modem_received_total", "counter", "SMS (parts of long "
	    "ones counted each) received since the gateway started.",
	    METRICS_FIELD(received), METRICS_ALWAYS },
	{ "tallygw_modem_sent_today", "gauge", "SMS sent today (WIB), as "
	    "counted against the send cap.", METRICS_FIELD(sent_today),
	    METRICS_ALWAYS },
	{ "tallygw_modem_send_cap", "gauge", "SMS the modem may send a "
	    "day (only modems with a cap).", METRICS_FIELD(send_cap),
	    METRICS_SET },
	{ "tallygw_modem_hold_seconds", "gauge", "Seconds before the modem "
	    "may send again after the network refused a send.",
	    METRICS_FIELD(hold), METRICS_ALWAYS },
	{ "tallygw_modem_errors", "gauge", "Modem errors in a row, as the "
	    "worker last reported them.", METRICS_FIELD(errors),
	    METRICS_ALWAYS },
	{ "tallygw_modem_restarts_total", "counter", "Restarts of the "
	    "modem's worker since the gateway started.",
	    METRICS_FIELD(restarts), METRICS_ALWAYS },
};
#define METRICS_MODEM_FAMILIES	(sizeof(metrics_modem_families) / \
				    sizeof(metrics_modem_families[0]))

/* Is the modem's value v known (or set), by the family's rule? */
static int
metrics_known(const struct metrics_modem *m, long v, enum metrics_when w)
{
	switch (w) {
	case METRICS_SET:
		return (v > 0);
	case METRICS_KNOWN:
		return (v >= 0);
	case METRICS_DBM:
		return (v < -1);
	case METRICS_SIM:
		return (m->sim_capacity > 0);
	default:
		return (1);
	}
}

/* The modems: who they are, their state, then one family per number. */
static void
metrics_write_modems(struct metrics_out *o, const struct metrics_scrape *sc)
{
	const struct metrics_modem	*m;
	const char			*st;
	size_t				 i, k;
	long				 v;
	int				 s, known;

	metrics_family(o, "tallygw_modem_info", "gauge",
	    "1 for each modem, with its operator and SIM number.");
	for (i = 0; i < sc->nmodems; i++) {
		m = &sc->modems[i];
		metrics_sample(o, 1, 3, "modem", m->name, "operator", m->oper,
		    "number", m->number);
	}
	metrics_family(o, "tallygw_modem_state", "gauge",
	    "1 for the modem's state, 0 for the others: its worker's while "
	    "one runs, else the supervisor's (off, restart-wait, "
	    "stopping).");
	for (i = 0; i < sc->nmodems; i++) {
		m = &sc->modems[i];
		for (s = 0, known = 0; s <= MODEM_STATE_MAX; s++) {
			st = wire_state_name(s);
			known |= strcmp(st, m->state) == 0;
			metrics_sample(o, strcmp(st, m->state) == 0, 2,
			    "modem", m->name, "state", st);
		}
		if (!known)
			metrics_sample(o, 1, 2, "modem", m->name, "state",
			    m->state);
	}
	for (k = 0; k < METRICS_MODEM_FAMILIES; k++) {
		metrics_family(o, metrics_modem_families[k].name,
		    metrics_modem_families[k].type,
		    metrics_modem_families[k].help);
		for (i = 0; i < sc->nmodems; i++) {
			m = &sc->modems[i];
			v = *(const long *)(const void *)((const char *)m +
			    metrics_modem_families[k].field);
			if (metrics_known(m, v, metrics_modem_families[k].when))
				metrics_sample(o, (double)v, 1, "modem",
				    m->name);
		}
	}
}

/*
 * The whole scrape: what the stages counted, then the state admin.c
 * read for it. -1 if the text could not be written.
 */
int
metrics_write(FILE *f, const struct metrics_scrape *sc)
{
	struct metrics_out	 o;

	metrics_begin(&o, f);
	metrics_family(&o, "tallygw_start_time_seconds", "gauge",
	    "When the gateway started (Unix time): counters said to count "
	    "since the start begin again at 0 then.");
	metrics_sample(&o, (double)sc->started, 0);
	metrics_write_kept(&o);
	metrics_write_queues(&o, sc);
	metrics_write_centrals(&o, sc);
	metrics_write_modems(&o, sc);
	return (fflush(f) == EOF || ferror(f) ? -1 : 0);
}
