/*
 * alert: conditions an operator must act on (docs/operators.md), each
 * raised and cleared by the daemon. Every alert is a small state
 * machine (ok -> pending -> raised -> cleared), one per modem, central
 * system or the gateway, evaluated from the loop's state once a second
 * and on the bank's events. A raised alert is logged once, listed by
 * the admin API (GET /alerts, tallyctl alerts, the dashboard) and,
 * when [alerts] says so, handed to a hook program and sent by SMS to
 * the operators; so is its clearing.
 *
 * The first half is pure (gw.h: whether a condition holds, the next
 * state, the SMS and the hook's environment); the second is the
 * daemon's (daemon.h).
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmt.h"
#include "log.h"
#include "daemon.h"

#define ALERT_HISTORY		50	/* cleared alerts kept for the list */
#define ALERT_SMS_NOTES		32	/* changes held for the next SMS */
#define ALERT_HOOK_QUEUE	256	/* changes waiting for the hook */
#define ALERT_HOOK_TIMEOUT	30	/* s a hook may run */
#define ALERT_TRACK_MAX		512	/* modems followed (and removed ones) */
#define ALERT_CENTRALS_MAX	16	/* as [central NAME] sections */
#define ALERT_PATH		"PATH=/usr/local/sbin:/usr/local/bin:" \
				"/usr/sbin:/usr/bin:/sbin:/bin"

/* ------------------------------------------------------------------ */
/* The pure parts                                                      */
/* ------------------------------------------------------------------ */

enum alert_scope
alert_scope(enum alert_kind k)
{
	switch (k) {
	case ALERT_CENTRAL_DOWN:
	case ALERT_FORWARD_FAILED:
		return (ALERT_SCOPE_CENTRAL);
	case ALERT_LOCKOUT_STORM:
	case ALERT_DISK_LOW:
		return (ALERT_SCOPE_GATEWAY);
	default:
		return (ALERT_SCOPE_MODEM);
	}
}

/*
 * Seconds a condition must hold before it is raised: a modem's worker
 * restarts in a moment and a central may miss one request, so those
 * two wait their threshold; every other one is raised at once.
 */
int
alert_hold(enum alert_kind k, const struct conf_alerts *c)
{
	if (k == ALERT_MODEM_DOWN || k == ALERT_CENTRAL_DOWN)
		return (c->limit[k]);
	return (0);
}

/* Another working modem got an SMS within the last limit seconds. */
static int
alert_others_receive(const struct alert_input *in, size_t self, int limit)
{
	size_t	 i;

	for (i = 0; i < in->nmodems; i++)
		if (i != self && in->modems[i].working &&
		    in->modems[i].last_rx > 0 &&
		    in->now - in->modems[i].last_rx < limit)
			return (1);
	return (0);
}

/* The modem alerts: does kind hold for modem i? Its text if it does. */
static int
alert_modem_holds(enum alert_kind k, const struct alert_input *in, size_t i,
    char *text, size_t len)
{
	const struct alert_modem	*m = &in->modems[i];
	long				 lim = in->conf->limit[k];
	time_t				 quiet;

	if (!m->watched)
		return (0);
	switch (k) {
	case ALERT_MODEM_DOWN:
		if (m->working)
			return (0);
		snprintf(text, len, "worker %s%s%s", m->state,
		    m->error[0] ? ": " : "", m->error);
		return (1);
	case ALERT_SIM_FULL:
		if (m->sim_total <= 0 ||
		    (long)m->sim_used * 100 < lim * m->sim_total)
			return (0);
		snprintf(text, len, "SIM storage %d/%d (%d%%), threshold %ld%%",
		    m->sim_used, m->sim_total, m->sim_used * 100 /
		    m->sim_total, lim);
		return (1);
	case ALERT_BALANCE_LOW:
		if (m->balance < 0 || m->balance >= lim)
			return (0);
		snprintf(text, len, "airtime balance Rp%ld, below Rp%ld",
		    m->balance, lim);
		return (1);
	case ALERT_CAP_NEAR:
		if (m->cap <= 0 || (long)m->sent_today * 100 < lim * m->cap)
			return (0);
		snprintf(text, len, "sent %d of its daily cap of %d SMS "
		    "(%d%%), threshold %ld%%", m->sent_today, m->cap,
		    m->sent_today * 100 / m->cap, lim);
		return (1);
	case ALERT_MODEM_SILENT:
		if (!m->working || m->quiet_ok)
			return (0);	/* down is another alert */
		quiet = m->last_rx > m->working_since ? m->last_rx :
		    m->working_since;
		if (in->now - quiet < lim ||
		    !alert_others_receive(in, i, (int)lim))
			return (0);
		snprintf(text, len, "no SMS received for %lld s while other "
		    "modems receive", (long long)(in->now - quiet));
		return (1);
	default:
		return (0);
	}
}

/* The central alerts, for central i. */
static int
alert_central_holds(enum alert_kind k, const struct alert_input *in,
    size_t i, char *text, size_t len)
{
	const struct alert_central	*c = &in->centrals[i];
	char				 st[32] = "";

	if (k == ALERT_CENTRAL_DOWN) {
		if (c->up)
			return (0);
		snprintf(text, len, "unreachable%s%s", c->error[0] ? ": " : "",
		    c->error);
		return (1);
	}
	if (c->failed < in->conf->limit[k])
		return (0);
	if (c->last_status > 0)
		snprintf(st, sizeof(st), " (last answer HTTP %d)",
		    c->last_status);
	snprintf(text, len, "%ld forward%s refused for good%s; tallyctl "
	    "messages --forward failed", c->failed, c->failed == 1 ? "" : "s",
	    st);
	return (1);
}

/* The gateway's alerts: a storm of bad codes, a disk filling up. */
static int
alert_gateway_holds(enum alert_kind k, const struct alert_input *in,
    char *text, size_t len)
{
	const struct store_bad	*b = &in->bad;
	long			 lim = in->conf->limit[k];

	if (k == ALERT_DISK_LOW) {
		if (in->disk_mb < 0 || in->disk_mb >= lim)
			return (0);
		snprintf(text, len, "%ld MB free for %s, below %ld MB",
		    in->disk_mb, in->dir, lim);
		return (1);
	}
	if (b->codes < lim && (in->tps_limit <= 0 ||
	    b->tps_codes < in->tps_limit))
		return (0);
	snprintf(text, len, "%ld bad codes from %ld number%s within %d s; "
	    "most for TPS %013llu (%ld)", b->codes, b->senders,
	    b->senders == 1 ? "" : "s", in->window,
	    (unsigned long long)b->tps, b->tps_codes);
	return (1);
}

/*
 * Does the condition of alert kind hold for its i-th subject (a modem,
 * a central; 0 for the gateway's)? 1 with its text, 0 not; an alert
 * whose threshold is 0 is off and never holds.
 */
int
alert_holds(enum alert_kind k, const struct alert_input *in, size_t i,
    char *text, size_t len)
{
	text[0] = '\0';
	if ((unsigned)k >= ALERT_KINDS || in->conf->limit[k] <= 0)
		return (0);
	switch (alert_scope(k)) {
	case ALERT_SCOPE_MODEM:
		return (i < in->nmodems &&
		    alert_modem_holds(k, in, i, text, len));
	case ALERT_SCOPE_CENTRAL:
		return (i < in->ncentrals &&
		    alert_central_holds(k, in, i, text, len));
	default:
		return (alert_gateway_holds(k, in, text, len));
	}
}

/*
 * One step of an alert's state machine: the condition holds (or not)
 * since `since', now; hold is its alert_hold. Called until the state
 * stays, so that an alert with no hold is raised in one evaluation.
 */
enum alert_state
alert_next(enum alert_state s, int holds, time_t since, time_t now, int hold)
{
	switch (s) {
	case ALERT_OK:
	case ALERT_CLEARED:
		return (holds ? ALERT_PENDING : s);
	case ALERT_PENDING:
		if (!holds)
			return (ALERT_OK);
		return (now - since >= hold ? ALERT_RAISED : ALERT_PENDING);
	case ALERT_RAISED:
		return (holds ? ALERT_RAISED : ALERT_CLEARED);
	}
	return (s);
}

const char *
alert_state_name(enum alert_state s)
{
	switch (s) {
	case ALERT_OK:
		return ("ok");
	case ALERT_PENDING:
		return ("pending");
	case ALERT_RAISED:
		return ("raised");
	case ALERT_CLEARED:
		return ("cleared");
	}
	return ("unknown");
}

/*
 * Append s to the SMS in buf, as GSM 7-bit text (a character outside
 * the alphabet becomes '?'), if the whole SMS stays within max
 * septets: 0 appended, -1 it would not fit (buf unchanged).
 */
static int
alert_sms_add(char *buf, size_t len, size_t max, const char *s)
{
	size_t	 o = strlen(buf), i;
	char	 c[2] = { 0, 0 };

	for (i = 0; s[i] != '\0'; i++) {
		if (o + 2 > len)
			goto full;
		c[0] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
		if (reply_gsm_length(c) == (size_t)-1)
			c[0] = '?';
		buf[o++] = c[0];
		buf[o] = '\0';
	}
	if (reply_gsm_length(buf) <= max)
		return (0);
 full:
	buf[o - i] = '\0';
	return (-1);
}

/*
 * The operators' SMS for changes notes[0..n-1] (and `more' that did
 * not fit the queue), in one SMS of GSM 7-bit text: one change with its
 * text, or the list of alerts raised and cleared, as many as fit.
 */
int
alert_sms_text(const char *gateway, const struct alert_note *notes,
    size_t n, size_t more, char *buf, size_t len)
{
	char	 part[GW_DETAIL_MAX + 64], tail[48];
	size_t	 i;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	snprintf(part, sizeof(part), "tallygw %s:", gateway);
	if (alert_sms_add(buf, len, REPLY_MAX, part) == -1)
		return (-1);
	for (i = 0; i < n; i++) {
		snprintf(part, sizeof(part), "%s%s %s%s%s", i ? ";" : "",
		    notes[i].raised ? " ALERT" : " CLEARED",
		    config_alert_name(notes[i].kind),
		    notes[i].subject[0] ? " " : "", notes[i].subject);
		snprintf(tail, sizeof(tail), " +%zu more: tallyctl alerts",
		    n - i + more);
		/* keep room for the tail while more changes follow */
		if (alert_sms_add(buf, len, REPLY_MAX - (i + 1 < n || more ?
		    reply_gsm_length(tail) : 0), part) == -1) {
			(void)alert_sms_add(buf, len, REPLY_MAX, tail);
			return (0);
		}
	}
	if (n == 1 && notes[0].raised && more == 0) {
		/* one alert: what it is, as much as fits */
		snprintf(part, sizeof(part), ": %s", notes[0].text);
		while (alert_sms_add(buf, len, REPLY_MAX, part) == -1 &&
		    strlen(part) > 5)
			memcpy(part + strlen(part) - 4, "...", 4);
	} else if (more > 0) {
		snprintf(tail, sizeof(tail), " +%zu more: tallyctl alerts",
		    more);
		(void)alert_sms_add(buf, len, REPLY_MAX, tail);
	}
	return (0);
}

static void
alert_iso(time_t t, char *buf, size_t len)
{
	if (t <= 0)
		fmt_copy(buf, len, "");
	else
		(void)fmt_iso(buf, len, t);	/* "" if it cannot */
}

/*
 * The hook's environment for one change: NAME=value strings, the only
 * way its fields reach the program (no shell, no arguments to parse).
 */
size_t
alert_env(const char *gateway, const struct alert_note *a,
    char (*env)[ALERT_ENV_LEN], size_t max)
{
	char	 raised[GW_ISO_MAX], at[GW_ISO_MAX];
	size_t	 n = 0;

	alert_iso(a->raised_at, raised, sizeof(raised));
	alert_iso(a->at, at, sizeof(at));
#define ALERT_SETENV(...) do {						\
	if (n < max)							\
		snprintf(env[n++], ALERT_ENV_LEN, __VA_ARGS__);		\
} while (0)
	ALERT_SETENV("%s", ALERT_PATH);
	ALERT_SETENV("TALLYGW_GATEWAY=%s", gateway);
	ALERT_SETENV("TALLYGW_ALERT=%s", config_alert_name(a->kind));
	ALERT_SETENV("TALLYGW_ALERT_SUBJECT=%s", a->subject);
	ALERT_SETENV("TALLYGW_ALERT_STATE=%s", a->raised ? "raised" :
	    "cleared");
	ALERT_SETENV("TALLYGW_ALERT_ID=%lld", (long long)a->id);
	ALERT_SETENV("TALLYGW_ALERT_TEXT=%s", a->text);
	ALERT_SETENV("TALLYGW_ALERT_RAISED_AT=%s", raised);
	ALERT_SETENV("TALLYGW_ALERT_AT=%s", at);
#undef ALERT_SETENV
	return (n);
}

/* ------------------------------------------------------------------ */
/* The daemon's side                                                   */
/* ------------------------------------------------------------------ */

/* One alert: a kind for one subject. */
struct alert {
	TAILQ_ENTRY(alert)	 entry;
	enum alert_kind		 kind;
	char			 subject[GW_MODEM_NAME_MAX];
	enum alert_state	 state;
	int64_t			 id;		/* given when raised */
	time_t			 since;		/* pending since */
	time_t			 raised_at;
	time_t			 cleared_at;
	char			 text[GW_DETAIL_MAX];
	int			 seen;		/* in this evaluation */
};
TAILQ_HEAD(alerts, alert);

/* What alert.c follows of each modem itself: when SMS last came in. */
struct alert_track {
	char		 name[GW_MODEM_NAME_MAX];
	long		 received;	/* the bank's count, last looked at */
	time_t		 last_rx;
	time_t		 working_since;
};

/* A change waiting for the hook. */
struct alert_hookq {
	TAILQ_ENTRY(alert_hookq) entry;
	struct alert_note	 note;
};
TAILQ_HEAD(alert_hookqs, alert_hookq);

static struct alerts		 alert_live =
    TAILQ_HEAD_INITIALIZER(alert_live);
static struct alert		 alert_history[ALERT_HISTORY];
static size_t			 alert_nhistory, alert_history_at;
static int64_t			 alert_ids;
static struct alert_track	*alert_tracks;
static size_t			 alert_ntracks;
static struct alert_note	 alert_sms_notes[ALERT_SMS_NOTES];
static size_t			 alert_nsms, alert_sms_more;
static time_t			 alert_sms_last;
static struct alert_hookqs	 alert_hooks =
    TAILQ_HEAD_INITIALIZER(alert_hooks);
static size_t			 alert_nhooks;
static pid_t			 alert_hook_pid;
static time_t			 alert_hook_deadline;
static int			 alert_hook_killed;
static struct alert_note	 alert_hook_note;	/* the one running */

static void	alert_hook_start(time_t);

/* A change to tell: queued for the SMS and for the hook. */
static void
alert_note(const struct alert *a, time_t now)
{
	const struct conf_alerts	*c = &gw->conf.alerts;
	struct alert_note		 n;
	struct alert_hookq		*q;

	memset(&n, 0, sizeof(n));
	n.id = a->id;
	n.kind = a->kind;
	snprintf(n.subject, sizeof(n.subject), "%s", a->subject);
	n.raised = a->state == ALERT_RAISED;
	n.raised_at = a->raised_at;
	n.at = now;
	snprintf(n.text, sizeof(n.text), "%s", a->text);
	if (c->nsms > 0) {
		if (alert_nsms < ALERT_SMS_NOTES)
			alert_sms_notes[alert_nsms++] = n;
		else
			alert_sms_more++;
	}
	if (c->hook[0] == '\0')
		return;
	if (alert_nhooks == ALERT_HOOK_QUEUE) {
		/* the oldest waiting change makes room: say so */
		q = TAILQ_FIRST(&alert_hooks);
		log_warnx("alert: the hook is behind: %s %s%s%s not handed "
		    "to it", q->note.raised ? "raised" : "cleared",
		    config_alert_name(q->note.kind),
		    q->note.subject[0] ? " " : "", q->note.subject);
		TAILQ_REMOVE(&alert_hooks, q, entry);
		free(q);
		alert_nhooks--;
	}
	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warn("alert: hook queue");
		return;
	}
	q->note = n;
	TAILQ_INSERT_TAIL(&alert_hooks, q, entry);
	alert_nhooks++;
}

/* The one place an alert changes state; each change is logged once. */
static void
alert_set_state(struct alert *a, enum alert_state s, time_t now)
{
	const char	*name = config_alert_name(a->kind);
	const char	*sp = a->subject[0] ? " " : "";

	if (a->state == s)
		return;
	switch (s) {
	case ALERT_PENDING:
		a->since = now;
		log_debug("alert: %s%s%s: %s -> pending: %s", name, sp,
		    a->subject, alert_state_name(a->state), a->text);
		break;
	case ALERT_OK:
		log_debug("alert: %s%s%s: pending -> ok after %lld s", name,
		    sp, a->subject, (long long)(now - a->since));
		break;
	case ALERT_RAISED:
		a->id = ++alert_ids;
		a->raised_at = now;
		a->cleared_at = 0;
		log_warnx("alert: raised: %s%s%s: %s", name, sp, a->subject,
		    a->text);
		break;
	case ALERT_CLEARED:
		a->cleared_at = now;
		log_info("alert: cleared: %s%s%s (raised %lld s ago)", name,
		    sp, a->subject, (long long)(now - a->raised_at));
		alert_history[alert_history_at] = *a;
		alert_history[alert_history_at].state = ALERT_CLEARED;
		alert_history_at = (alert_history_at + 1) % ALERT_HISTORY;
		if (alert_nhistory < ALERT_HISTORY)
			alert_nhistory++;
		break;
	}
	a->state = s;
	if (s == ALERT_RAISED || s == ALERT_CLEARED)
		alert_note(a, now);
}

static struct alert *
alert_find(enum alert_kind k, const char *subject, int create)
{
	struct alert	*a;

	TAILQ_FOREACH(a, &alert_live, entry)
		if (a->kind == k && strcmp(a->subject, subject) == 0)
			return (a);
	if (!create)
		return (NULL);
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		log_warn("alert: %s", config_alert_name(k));
		return (NULL);
	}
	a->kind = k;
	snprintf(a->subject, sizeof(a->subject), "%s", subject);
	TAILQ_INSERT_TAIL(&alert_live, a, entry);
	return (a);
}

/* Evaluate kind for one subject and move its alert as far as it goes. */
static void
alert_eval(enum alert_kind k, const struct alert_input *in, size_t i,
    const char *subject)
{
	struct alert		*a;
	enum alert_state	 next;
	char			 text[GW_DETAIL_MAX];
	int			 holds, steps;

	holds = alert_holds(k, in, i, text, sizeof(text));
	if ((a = alert_find(k, subject, holds)) == NULL)
		return;
	a->seen = 1;
	if (holds)
		snprintf(a->text, sizeof(a->text), "%s", text);
	for (steps = 0; steps < 3; steps++) {
		next = alert_next(a->state, holds, a->since, in->now,
		    alert_hold(k, in->conf));
		if (next == a->state)
			break;
		alert_set_state(a, next, in->now);
	}
}

static struct alert_track *
alert_track(const char *name)
{
	struct alert_track	*t;
	size_t			 i;

	for (i = 0; i < alert_ntracks; i++)
		if (strcmp(alert_tracks[i].name, name) == 0)
			return (&alert_tracks[i]);
	if (alert_ntracks == ALERT_TRACK_MAX)
		return (NULL);
	if ((t = reallocarray(alert_tracks, alert_ntracks + 1,
	    sizeof(*t))) == NULL)
		return (NULL);
	alert_tracks = t;
	t = &alert_tracks[alert_ntracks++];
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", name);
	return (t);
}

/* The bank's modems as the alerts see them; when their SMS came in. */
static size_t
alert_modems(struct alert_modem *out, size_t max, time_t now)
{
	struct modem		*m;
	struct alert_modem	*am;
	struct alert_track	*t;
	size_t			 n = 0;
	int			 split = 0;

	/* Officers write to the receive-only modems, if there are any. */
	TAILQ_FOREACH(m, &gw->modems, entry)
		if (m->conf.role == MODEM_ROLE_RECEIVE && !m->removed)
			split = 1;
	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (n == max)
			break;
		am = &out[n++];
		memset(am, 0, sizeof(*am));
		snprintf(am->name, sizeof(am->name), "%s", m->conf.name);
		am->watched = m->conf.enabled && !m->removed;
		am->working = m->state == BANK_RUNNING &&
		    (m->wstate == MODEM_READY || m->wstate == MODEM_SENDING ||
		    m->wstate == MODEM_SWEEPING);
		snprintf(am->state, sizeof(am->state), "%s/%s",
		    bank_state_name(m->state), wire_state_name(m->wstate));
		snprintf(am->error, sizeof(am->error), "%s", m->last_error);
		am->sim_used = m->sim_used;
		am->sim_total = m->sim_total;
		am->balance = m->balance;
		am->sent_today = m->sent_today;
		am->cap = m->conf.send_cap;
		am->quiet_ok = split && m->conf.role != MODEM_ROLE_RECEIVE;
		if ((t = alert_track(m->conf.name)) == NULL)
			continue;
		if (m->received != t->received) {
			t->received = m->received;
			t->last_rx = now;
		}
		if (!am->working)
			t->working_since = 0;
		else if (t->working_since == 0)
			t->working_since = now;
		am->last_rx = t->last_rx;
		am->working_since = t->working_since;
	}
	return (n);
}

/* The central systems as the forwarder knows them, with failed counts. */
static size_t
alert_centrals(struct alert_central *out, size_t max)
{
	struct fwd_central_stats	*cs;
	size_t				 n = 0, i;

	if ((cs = calloc(max, sizeof(*cs))) == NULL)
		return (0);
	if (gw->fwdq == NULL || forward_queue_stats(gw->fwdq, cs, max,
	    &n) == -1)
		n = 0;
	for (i = 0; i < n && i < max; i++) {
		memset(&out[i], 0, sizeof(out[i]));
		snprintf(out[i].name, sizeof(out[i].name), "%s", cs[i].name);
		out[i].up = cs[i].up;
		snprintf(out[i].error, sizeof(out[i].error), "%s",
		    cs[i].last_error);
		out[i].last_status = cs[i].last_status;
		if (store_fwd_failed(gw->store, cs[i].name,
		    &out[i].failed) == -1)
			out[i].failed = 0;
	}
	free(cs);
	return (n < max ? n : max);
}

/* What the gateway-wide alerts look at: bad codes, the disk. */
static void
alert_gateway(struct alert_input *in)
{
	struct statvfs	 sv;
	struct tm	 tm;
	time_t		 since;
	char		 iso[GW_ISO_MAX];

	in->window = (int)gw->conf.t.lockout.window;
	in->tps_limit = gw->conf.t.lockout.alert_failures;
	since = in->now - in->window;
	if (in->conf->limit[ALERT_LOCKOUT_STORM] > 0 &&
	    gmtime_r(&since, &tm) != NULL &&
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm) != 0 &&
	    store_bad_codes(gw->store, iso, &in->bad) == -1)
		memset(&in->bad, 0, sizeof(in->bad));
	in->dir = gw->conf.state_dir;
	in->disk_mb = -1;
	if (statvfs(gw->conf.state_dir, &sv) == 0)
		in->disk_mb = (long)((unsigned long long)sv.f_bavail *
		    sv.f_frsize / (1024 * 1024));
}

/* The operators' SMS: what changed since the last, at most one a while. */
static void
alert_sms_flush(time_t now)
{
	const struct conf_alerts	*c = &gw->conf.alerts;
	struct store_reply		 r;
	char				 text[REPLY_TEXT_MAX];
	int				 i;

	if (alert_nsms == 0 || c->nsms == 0 || (alert_sms_last > 0 &&
	    now - alert_sms_last < c->sms_interval))
		return;
	if (alert_sms_text(gw->conf.name, alert_sms_notes, alert_nsms,
	    alert_sms_more, text, sizeof(text)) == -1)
		return;
	for (i = 0; i < c->nsms; i++) {
		memset(&r, 0, sizeof(r));
		snprintf(r.dest, sizeof(r.dest), "%s", c->sms[i]);
		snprintf(r.text, sizeof(r.text), "%s", text);
		r.priority = OUT_PRIO_ACT;
		if (store_reply_add(gw->store, &r) == -1) {
			log_warnx("alert: cannot queue the SMS to %s; tried "
			    "again in a moment", c->sms[i]);
			return;
		}
		log_info("alert: SMS to %s: %s", c->sms[i], text);
	}
	alert_nsms = alert_sms_more = 0;
	alert_sms_last = now;
	outbox_kick();
}

/*
 * Evaluate every alert from the loop's state, then tell what changed.
 * Called once a second and on the bank's events.
 */
void
alert_run(time_t now)
{
	struct alert_input	 in;
	struct alert_modem	*mods;
	struct alert_central	 cents[ALERT_CENTRALS_MAX];
	struct alert		*a, *tmp;
	size_t			 i;
	int			 k;

	/* Stopping: the modems go down on purpose; nothing to tell. */
	if (gw->store == NULL || gw->stopping)
		return;
	memset(&in, 0, sizeof(in));
	in.conf = &gw->conf.alerts;
	in.now = now;
	if ((mods = calloc(ALERT_TRACK_MAX, sizeof(*mods))) == NULL)
		return;
	in.modems = mods;
	in.nmodems = alert_modems(mods, ALERT_TRACK_MAX, now);
	in.centrals = cents;
	in.ncentrals = alert_centrals(cents, ALERT_CENTRALS_MAX);
	alert_gateway(&in);
	TAILQ_FOREACH(a, &alert_live, entry)
		a->seen = 0;
	for (k = 0; k < ALERT_KINDS; k++) {
		switch (alert_scope(k)) {
		case ALERT_SCOPE_MODEM:
			for (i = 0; i < in.nmodems; i++)
				alert_eval(k, &in, i, mods[i].name);
			break;
		case ALERT_SCOPE_CENTRAL:
			for (i = 0; i < in.ncentrals; i++)
				alert_eval(k, &in, i, cents[i].name);
			break;
		default:
			alert_eval(k, &in, 0, "");
			break;
		}
	}
	/*
	 * Over (the history keeps the cleared), or gone from view (a modem
	 * removed): cleared, then forgotten.
	 */
	TAILQ_FOREACH_SAFE(a, &alert_live, entry, tmp) {
		if (a->seen && (a->state == ALERT_PENDING ||
		    a->state == ALERT_RAISED))
			continue;
		if (a->state == ALERT_RAISED)
			alert_set_state(a, ALERT_CLEARED, now);
		TAILQ_REMOVE(&alert_live, a, entry);
		free(a);
	}
	free(mods);
	alert_sms_flush(now);
	if (alert_hook_pid > 0 && !alert_hook_killed &&
	    now > alert_hook_deadline) {
		log_warnx("alert: hook %s ran for more than %d s: killed",
		    gw->conf.alerts.hook, ALERT_HOOK_TIMEOUT);
		kill(-alert_hook_pid, SIGKILL);
		alert_hook_killed = 1;
	}
	alert_hook_start(now);
}

/* The next change to the hook, when none runs. */
static void
alert_hook_start(time_t now)
{
	struct alert_hookq	*q;
	char			 env[ALERT_ENV][ALERT_ENV_LEN];
	char			*envp[ALERT_ENV + 1], *argv[2];
	const char		*hook = gw->conf.alerts.hook;
	size_t			 n, i;
	pid_t			 pid;
	int			 fd;

	if (alert_hook_pid > 0 || (q = TAILQ_FIRST(&alert_hooks)) == NULL)
		return;
	if (hook[0] == '\0') {
		/* the hook was taken out by a reload: nothing to run */
		TAILQ_REMOVE(&alert_hooks, q, entry);
		free(q);
		alert_nhooks--;
		return;
	}
	n = alert_env(gw->conf.name, &q->note, env, ALERT_ENV);
	for (i = 0; i < n; i++)
		envp[i] = env[i];
	envp[n] = NULL;
	argv[0] = (char *)(uintptr_t)hook;
	argv[1] = NULL;
	switch ((pid = fork())) {
	case -1:
		log_warn("alert: hook: fork (tried again in a second)");
		return;
	case 0:
		/* its own group, so that a timeout ends what it started */
		setsid();
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			if (fd > STDERR_FILENO)
				close(fd);
		}
		for (fd = STDERR_FILENO + 1; fd < 1024; fd++)
			close(fd);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execve(hook, argv, envp);
		fprintf(stderr, "tallygw: alert hook %s: %s\n", hook,
		    strerror(errno));
		_exit(127);
	}
	alert_hook_pid = pid;
	alert_hook_deadline = now + ALERT_HOOK_TIMEOUT;
	alert_hook_killed = 0;
	alert_hook_note = q->note;
	log_debug("alert: hook pid %ld for %s %s%s%s", (long)pid,
	    q->note.raised ? "raised" : "cleared",
	    config_alert_name(q->note.kind), q->note.subject[0] ? " " : "",
	    q->note.subject);
	TAILQ_REMOVE(&alert_hooks, q, entry);
	free(q);
	alert_nhooks--;
}

/* A child of the daemon ended that is not a worker: our hook? */
void
alert_child(pid_t pid, int status)
{
	const struct alert_note	*n = &alert_hook_note;

	if (pid != alert_hook_pid || pid <= 0)
		return;
	alert_hook_pid = 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		log_debug("alert: hook for %s %s%s%s done",
		    n->raised ? "raised" : "cleared",
		    config_alert_name(n->kind), n->subject[0] ? " " : "",
		    n->subject);
	else
		log_warnx("alert: hook %s for %s %s%s%s %s %d",
		    gw->conf.alerts.hook, n->raised ? "raised" : "cleared",
		    config_alert_name(n->kind), n->subject[0] ? " " : "",
		    n->subject, WIFEXITED(status) ? "exited" :
		    "killed by signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status));
	alert_hook_start(time(NULL));
}

/* At start-up and reload: a hook must be a program we may run. */
int
alert_check(const struct conf_alerts *c, char *err, size_t errlen)
{
	if (c->hook[0] != '\0' && access(c->hook, X_OK) == -1) {
		snprintf(err, errlen, "[alerts] hook %s: %s", c->hook,
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/* A reload: new thresholds, hook and numbers (kept if the hook is bad). */
void
alert_reload(const struct gw_conf *nc)
{
	char	 err[PATH_MAX + 64];

	if (alert_check(&nc->alerts, err, sizeof(err)) == -1) {
		log_warnx("alert: reload: %s; the alerts keep their "
		    "configuration", err);
		return;
	}
	gw->conf.alerts = nc->alerts;
	log_info("alert: thresholds, hook and numbers reloaded");
	alert_run(time(NULL));
}

/* The gateway stops: a hook still running is ended. */
void
alert_stop(void)
{
	struct alert		*a;
	struct alert_hookq	*q;

	if (alert_hook_pid > 0)
		kill(-alert_hook_pid, SIGKILL);
	while ((q = TAILQ_FIRST(&alert_hooks)) != NULL) {
		TAILQ_REMOVE(&alert_hooks, q, entry);
		free(q);
	}
	alert_nhooks = 0;
	while ((a = TAILQ_FIRST(&alert_live)) != NULL) {
		TAILQ_REMOVE(&alert_live, a, entry);
		free(a);
	}
	free(alert_tracks);
	alert_tracks = NULL;
	alert_ntracks = 0;
}

static void
alert_view(const struct alert *a, struct alert_view *v)
{
	memset(v, 0, sizeof(*v));
	v->id = a->id;
	v->kind = a->kind;
	v->subject = a->subject;
	v->state = a->state;
	v->raised_at = a->raised_at;
	v->cleared_at = a->state == ALERT_CLEARED ? a->cleared_at : 0;
	v->text = a->text;
	v->limit = gw->conf.alerts.limit[a->kind];
}

/*
 * Each alert raised now (oldest first), then the cleared ones kept
 * (newest first), to fn; it stops at fn's first non-zero.
 */
int
alert_foreach(int (*fn)(const struct alert_view *, void *), void *arg)
{
	struct alert		*a;
	struct alert_view	 v;
	size_t			 i;
	int			 rc;

	TAILQ_FOREACH(a, &alert_live, entry) {
		if (a->state != ALERT_RAISED)
			continue;
		alert_view(a, &v);
		if ((rc = fn(&v, arg)) != 0)
			return (rc);
	}
	for (i = 1; i <= alert_nhistory; i++) {
		alert_view(&alert_history[(alert_history_at + ALERT_HISTORY -
		    i) % ALERT_HISTORY], &v);
		if ((rc = fn(&v, arg)) != 0)
			return (rc);
	}
	return (0);
}
