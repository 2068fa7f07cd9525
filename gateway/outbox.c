/*
 * outbox: the replies on their way to the officers. Replies owed to one
 * phone are merged into as few SMS as fit; each SMS moves queued →
 * sending → sent → delivered | failed, persisted in the store.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "daemon.h"

#define OUTBOX_BATCH		64	/* rows looked at per run */
#define OUTBOX_SETTLE_MS	500	/* a wait ends early for an idle modem */

/* A reply of REPLY_PARTS_MAX parts goes to the worker in one SEND. */
_Static_assert(REPLY_TEXT_MAX <= WIRE_TEXT_MAX, "wire text too short");

static int	outbox_set_state(struct store_out *, enum out_state,
		    const char *, int, time_t, const char *);
static void	outbox_record(struct modem *, int64_t, int, int,
		    const char *, int);

/* The one place an outgoing SMS changes state. */
static int
outbox_set_state(struct store_out *o, enum out_state s, const char *modem,
    int msgref, time_t next_at, const char *error)
{
	if (store_out_set(gw->store, o->id, s, modem, msgref, next_at,
	    error) == -1) {
		log_warnx("outbox: sms %lld: cannot record %s -> %s",
		    (long long)o->id, store_out_state_name(o->state),
		    store_out_state_name(s));
		return (-1);
	}
	if (s == OUT_FAILED)
		log_warnx("outbox: sms %lld to %s: %s -> %s%s%s",
		    (long long)o->id, o->dest, store_out_state_name(o->state),
		    store_out_state_name(s), error ? ": " : "",
		    error ? error : "");
	else
		log_info("outbox: sms %lld to %s: %s -> %s%s%s%s%s",
		    (long long)o->id, o->dest, store_out_state_name(o->state),
		    store_out_state_name(s), modem ? " on " : "",
		    modem ? modem : "", error && error[0] ? ": " : "",
		    error ? error : "");
	metrics_count(METRICS_REPLIES, store_out_state_name(o->state), NULL,
	    -1);
	metrics_count(METRICS_REPLIES, store_out_state_name(s), NULL, 1);
	o->state = s;
	if (s == OUT_SENDING)
		o->attempts++;
	return (0);
}

static struct event	*outbox_ev;

/*
 * A phone whose replies wait reply_merge_wait for more of its reports:
 * due then, to the millisecond (the store keeps whole seconds), or
 * OUTBOX_SETTLE_MS after its newest reply if a modem would idle
 * (docs/design.md, "The outbox's order"). Kept in the order of their
 * newest reply; a phone not listed (replies owed at start-up, alerts,
 * resends) is judged by the store's seconds.
 */
struct outbox_wait {
	TAILQ_ENTRY(outbox_wait) entry;
	LIST_ENTRY(outbox_wait)	 bucket;	/* outbox_wait_hash */
	char			 dest[WIRE_NUMBER_MAX];
	long long		 since;		/* newest reply, outbox_ms() */
	long long		 due;		/* since + reply_merge_wait */
};
TAILQ_HEAD(outbox_waits, outbox_wait);

static struct outbox_waits	 outbox_waits =
    TAILQ_HEAD_INITIALIZER(outbox_waits);
/*
 * The same phones by number: each committed reply finds its phone's
 * wait, and walking the list for it cost a burst of n distinct phones
 * n * n / 2 compares (half the receive stage's instructions at 5,000).
 */
#define OUTBOX_WAIT_BUCKETS	4096
LIST_HEAD(outbox_bucket, outbox_wait);
static struct outbox_bucket	 outbox_wait_hash[OUTBOX_WAIT_BUCKETS];
static struct event		*outbox_wait_ev;

static long long
outbox_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The bucket of a phone's wait (FNV-1a of the number). */
static struct outbox_bucket *
outbox_wait_bucket(const char *dest)
{
	uint32_t	 h = 2166136261U;

	for (; *dest != '\0'; dest++)
		h = (h ^ (unsigned char)*dest) * 16777619U;
	return (&outbox_wait_hash[h % OUTBOX_WAIT_BUCKETS]);
}

static struct outbox_wait *
outbox_wait_find(const char *dest)
{
	struct outbox_wait	*w;

	LIST_FOREACH(w, outbox_wait_bucket(dest), bucket)
		if (strcmp(w->dest, dest) == 0)
			return (w);
	return (NULL);
}

static void
outbox_wait_drop(struct outbox_wait *w)
{
	TAILQ_REMOVE(&outbox_waits, w, entry);
	LIST_REMOVE(w, bucket);
	free(w);
}

static void
outbox_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	outbox_run(time(NULL));
}

/*
 * When the wait of w ends: at its due time; if a modem would idle, once
 * the replies have settled (the worker reads what came with the newest
 * in a moment), unless a long SMS of that phone waits for more parts.
 */
static long long
outbox_wait_end(const struct outbox_wait *w, int idle)
{
	if (idle && w->since + OUTBOX_SETTLE_MS < w->due &&
	    !parts_from(gw->parts, w->dest))
		return (w->since + OUTBOX_SETTLE_MS);
	return (w->due);
}

/*
 * The timer at the first phone's due time (its settle time if a modem
 * is idle): nobody waits for the tick.
 */
static void
outbox_wait_arm(long long now, int idle)
{
	struct outbox_wait	*w;
	struct timeval		 tv;
	long long		 due = -1, t;

	/*
	 * The list is in the order of since, and every due is since +
	 * reply_merge_wait (not reloaded): the first phone is due first,
	 * and of those that may settle the first settles first. Walking
	 * every phone cost a burst n * n / 2 steps.
	 */
	TAILQ_FOREACH(w, &outbox_waits, entry) {
		t = outbox_wait_end(w, idle);
		if (due == -1 || t < due)
			due = t;
		if (!idle || t != w->due)
			break;
	}
	if (outbox_wait_ev == NULL && (outbox_wait_ev = evtimer_new(gw->base,
	    outbox_wait_cb, NULL)) == NULL)
		return;
	if (due == -1) {
		evtimer_del(outbox_wait_ev);
		return;
	}
	due = due > now ? due - now : 0;
	tv.tv_sec = due / 1000;
	tv.tv_usec = (due % 1000) * 1000;
	evtimer_add(outbox_wait_ev, &tv);
}

/*
 * A reply to dest was committed: its replies are merged once
 * reply_merge_wait has passed since this one, exactly, by a timer.
 */
void
outbox_owed(const char *dest)
{
	struct outbox_wait	*w;
	long long		 now = outbox_ms();

	if (gw->conf.t.reply_merge_wait <= 0) {
		outbox_kick();
		return;
	}
	if ((w = outbox_wait_find(dest)) != NULL)
		TAILQ_REMOVE(&outbox_waits, w, entry);
	else if ((w = calloc(1, sizeof(*w))) == NULL) {
		outbox_kick();		/* the store's seconds judge it */
		return;
	} else
		LIST_INSERT_HEAD(outbox_wait_bucket(dest), w, bucket);
	snprintf(w->dest, sizeof(w->dest), "%s", dest);
	w->since = now;
	w->due = now + gw->conf.t.reply_merge_wait * 1000LL;
	TAILQ_INSERT_TAIL(&outbox_waits, w, entry);
	outbox_wait_arm(now, bank_pick(NULL, NULL) != NULL);
}

static void
outbox_cb(evutil_socket_t fd, short ev, void *arg)
{
	outbox_run(time(NULL));
}

/* New replies or a free modem: run soon, in the loop, not reentrantly. */
void
outbox_kick(void)
{
	struct timeval	 tv = { 0, 0 };

	if (outbox_ev == NULL &&
	    (outbox_ev = evtimer_new(gw->base, outbox_cb, NULL)) == NULL)
		return;
	if (!evtimer_pending(outbox_ev, NULL))
		evtimer_add(outbox_ev, &tv);
}

/*
 * Put the waiting replies of one phone into SMS: short confirmations
 * (those with a brief: MAC-coded) merged as far as they fit one SMS,
 * everything else alone, a long confirmation as one concatenated SMS.
 * Returns how many SMS were queued.
 */
static size_t
outbox_merge(const char *dest)
{
	struct store_reply	*r;
	struct store_out	 o;
	const char		*briefs[OUTBOX_BATCH];
	int64_t			 ids[OUTBOX_BATCH];
	size_t			 n, i, j, k, used, queued = 0;
	char			 text[REPLY_MAX + 1];

	if ((r = calloc(OUTBOX_BATCH, sizeof(*r))) == NULL)
		return (0);
	if (store_reply_pending(gw->store, dest, r, OUTBOX_BATCH, &n) == -1)
		goto done;
	for (i = 0; i < n; i = j) {
		memset(&o, 0, sizeof(o));
		snprintf(o.dest, sizeof(o.dest), "%s", dest);
		snprintf(o.prefer, sizeof(o.prefer), "%s", r[i].modem);
		o.state = OUT_QUEUED;
		o.msgref = -1;
		o.priority = r[i].priority;
		/* A run of mergeable confirmations. */
		for (j = i, k = 0; j < n && r[j].brief[0] != '\0'; j++, k++)
			briefs[k] = r[j].brief;
		if (k >= 2) {
			used = reply_merge(gw->lang, briefs, k, text,
			    sizeof(text));
			if (used >= 2 && reply_gsm_length(text) <= REPLY_MAX) {
				j = i + used;
				snprintf(o.text, sizeof(o.text), "%s", text);
			} else
				j = i + 1;
		} else
			j = i + 1;
		if (j == i + 1)
			snprintf(o.text, sizeof(o.text), "%s", r[i].text);
		for (k = i; k < j; k++) {
			ids[k - i] = r[k].id;
			if (r[k].priority < o.priority)
				o.priority = r[k].priority;
		}
		if (store_out_add(gw->store, &o, ids, j - i) == -1) {
			log_warnx("outbox: cannot queue a reply to %s", dest);
			break;
		}
		queued++;
		log_info("outbox: sms %lld to %s: queued (%zu repl%s): %s",
		    (long long)o.id, dest, j - i, j - i == 1 ? "y" : "ies",
		    o.text);
	}
done:
	free(r);
	return (queued);
}

/*
 * Merge the replies of each phone whose wait is over: its timer's (in
 * ms), else the store's newest reply's (whole seconds). A phone whose
 * time came but is no longer owed anything is forgotten; if the store
 * listed as many phones as asked, more may be owed: run again soon.
 */
static void
outbox_ripe(time_t now)
{
	char			 (*dests)[WIRE_NUMBER_MAX];
	time_t			 newest[OUTBOX_BATCH];
	struct outbox_wait	*w;
	long long		 ms = outbox_ms();
	size_t			 n, i, queued = 0;
	int			 ripe, tx;

	if ((dests = calloc(OUTBOX_BATCH, sizeof(*dests))) == NULL)
		return;
	if (store_reply_dests(gw->store, dests, newest, OUTBOX_BATCH,
	    &n) == -1)
		n = 0;
	/* One transaction (one sync) for the batch, not one per SMS. */
	tx = n > 0 && store_begin(gw->store) == 0;
	for (i = 0; i < n; i++) {
		if ((w = outbox_wait_find(dests[i])) != NULL)
			ripe = w->due <= ms;
		else
			ripe = now - newest[i] >= gw->conf.t.reply_merge_wait;
		if (!ripe)
			continue;
		queued += outbox_merge(dests[i]);
		if (w != NULL)
			outbox_wait_drop(w);
	}
	free(dests);
	if (tx && store_commit(gw->store) == -1) {
		store_rollback(gw->store);
		log_warnx("outbox: %zu SMS not queued (store error); "
		    "their replies wait for the next run", queued);
		queued = 0;
	}
	metrics_count(METRICS_REPLIES, store_out_state_name(OUT_QUEUED),
	    NULL, (long)queued);
	if (n == OUTBOX_BATCH && queued > 0)
		outbox_kick();
	else
		/* In the order of due (outbox_wait_arm). */
		while ((w = TAILQ_FIRST(&outbox_waits)) != NULL &&
		    w->due <= ms)
			outbox_wait_drop(w);
}

/*
 * A modem would idle: end the wait of the phone waiting longest whose
 * replies have settled. 0 if there is none.
 */
static int
outbox_settle(void)
{
	struct outbox_wait	*w;
	long long		 now = outbox_ms();

	TAILQ_FOREACH(w, &outbox_waits, entry)
		if (outbox_wait_end(w, 1) <= now)
			break;
	if (w == NULL)
		return (0);
	log_debug("outbox: %s: a modem is free; replies merged after %lld ms",
	    w->dest, now - w->since);
	metrics_count(METRICS_REPLIES, store_out_state_name(OUT_QUEUED),
	    NULL, (long)outbox_merge(w->dest));
	outbox_wait_drop(w);
	return (1);
}

/*
 * Whether an SMS whose last attempt failed on m should wait for another
 * modem: one that refused it (no registration, a network error) likely
 * refuses it again once its rest is over, while another runs unheld.
 */
static int
outbox_elsewhere(const struct store_out *o, const struct modem *m,
    time_t now)
{
	return (o->attempts > 0 && strcmp(o->modem, m->conf.name) == 0 &&
	    bank_elsewhere(m, now));
}

/* Hand due SMS to free modems, the most urgent first (store_out_due). */
static void
outbox_send(time_t now)
{
	struct store_out	*o;
	struct modem		*m, *pref;
	size_t			 n, i;

	if ((o = calloc(OUTBOX_BATCH, sizeof(*o))) == NULL)
		return;
	if (store_out_due(gw->store, now, o, OUTBOX_BATCH, &n) == -1)
		n = 0;
	for (i = 0; i < n; i++) {
		pref = o[i].prefer[0] ? bank_find(o[i].prefer) : NULL;
		m = bank_pick(o[i].prefer[0] && o[i].attempts == 0 ?
		    o[i].prefer : NULL, pref != NULL ? pref->conf.oper : NULL);
		if (m == NULL)
			break;		/* every modem busy: next run */
		if (outbox_elsewhere(&o[i], m, now))
			continue;	/* another modem, when one is free */
		if (outbox_set_state(&o[i], OUT_SENDING, m->conf.name, -2, -1,
		    NULL) == -1)
			continue;
		if (bank_send(m, o[i].id, o[i].dest, o[i].text,
		    WIRE_F_REPORT) == -1) {
			outbox_set_state(&o[i], OUT_QUEUED, NULL, -2, now + 1,
			    "modem unavailable");
			continue;
		}
		m->out_id = o[i].id;
		m->out_deadline = now + gw->conf.t.send_timeout;
	}
	free(o);
}

/*
 * Merge what has waited long enough, hand due SMS to free modems; while
 * a modem is still free, end settled waits early rather than idle it.
 */
void
outbox_run(time_t now)
{
	struct modem	*m;
	char		 why[GW_DETAIL_MAX];

	if (gw->stopping)
		return;
	/* Results the store could not take before: their modems wait. */
	TAILQ_FOREACH(m, &gw->modems, entry)
		if (m->out_unsaved) {
			snprintf(why, sizeof(why), "%s", m->out_err);
			outbox_record(m, m->out_id, m->out_code, m->out_msgref,
			    why, 1);
		}
	outbox_ripe(now);
	outbox_send(now);
	while (bank_pick(NULL, NULL) != NULL && outbox_settle())
		outbox_send(now);
	outbox_wait_arm(outbox_ms(), bank_pick(NULL, NULL) != NULL);
}

/*
 * A refused send rests its modem (an operator's cap, congestion, no
 * credit: the next send would be refused too), longer as refusals go
 * on; the replies go out through the other modems meanwhile. Returns 1
 * if the modem's last send had worked, so the failure may be the
 * SMS's own and counts against the reply; a modem that keeps failing
 * does not use up the attempts of every reply that waits for it.
 */
static int
outbox_hold(struct modem *m, time_t now, const char *why)
{
	int	 secs = gw->conf.t.send_hold_min, i;

	for (i = 0; i < m->send_fails && secs < gw->conf.t.send_hold_max; i++)
		secs *= 2;
	if (secs > gw->conf.t.send_hold_max)
		secs = gw->conf.t.send_hold_max;
	m->send_hold = now + secs;
	log_warnx("outbox: modem %s: send refused (%s); no sends for %d s",
	    m->conf.name, why, secs);
	return (m->send_fails++ == 0);
}

/*
 * A send's result the store could not take (the disk is full): the
 * modem keeps it as its send in flight, so it is given nothing else
 * (design.md: a result is committed before the modem is given
 * anything else), and outbox_run offers it to the store again.
 */
static void
outbox_unsaved(struct modem *m, int64_t id, int code, int msgref,
    const char *err, int counted)
{
	if (!m->out_unsaved)
		log_warnx("outbox: sms %lld: the result of its send on %s "
		    "cannot be recorded; the modem waits until it is",
		    (long long)id, m->conf.name);
	m->out_id = id;
	m->out_unsaved = 1;
	m->out_code = code;
	m->out_msgref = msgref;
	m->out_counted = counted;
	snprintf(m->out_err, sizeof(m->out_err), "%s", err ? err : "");
}

/* A SEND finished (code 0: the network took it), or never will. */
void
outbox_result(struct modem *m, int64_t id, int code, int msgref,
    const char *err)
{
	outbox_record(m, id, code, msgref, err, 0);
}

/*
 * Commit a send's result; again: it is one kept by outbox_unsaved,
 * whose modem was already held or credited when it first came.
 */
static void
outbox_record(struct modem *m, int64_t id, int code, int msgref,
    const char *err, int again)
{
	struct store_out	 o;
	char			 why[GW_DETAIL_MAX];
	time_t			 now = time(NULL);
	int			 counted = again ? m->out_counted : 1;

	if (m->out_id == id) {
		m->out_id = 0;
		m->out_unsaved = 0;
	}
	if (store_out_get(gw->store, id, &o) != 1) {
		log_warnx("outbox: result for unknown sms %lld",
		    (long long)id);
		return;
	}
	if (o.state != OUT_SENDING) {
		log_warnx("outbox: sms %lld: late result ignored (%s)",
		    (long long)id, store_out_state_name(o.state));
		return;
	}
	if (code == 0 && msgref >= 0) {
		if (outbox_set_state(&o, OUT_SENT, m->conf.name, msgref, -1,
		    NULL) == -1) {
			outbox_unsaved(m, id, code, msgref, err, 1);
			return;
		}
		m->sent++;
		m->sent_today++;
		m->send_fails = 0;
		m->send_hold = 0;
		outbox_kick();
		return;
	}
	snprintf(why, sizeof(why), "%s: error %d%s%s", m->conf.name, code,
	    err && err[0] ? ": " : "", err ? err : "");
	if (!again) {
		m->send_failed++;
		bank_error(m, "send refused: %s", why);
		counted = outbox_hold(m, now, why);
	}
	if ((counted && o.attempts >= gw->conf.t.reply_attempts ?
	    outbox_set_state(&o, OUT_FAILED, NULL, -2, -1, why) :
	    outbox_set_state(&o, OUT_QUEUED, NULL, -2, now +
	    forward_backoff(o.attempts, 1, gw->conf.t.reply_retry_max,
	    (uint32_t)o.id), why)) == -1) {
		outbox_unsaved(m, id, code, msgref, err, counted);
		return;
	}
	outbox_kick();
}

/* A status report: TP-ST 0..31 delivered, 32..63 still trying, else failed. */
void
outbox_report(struct modem *m, int msgref, int status)
{
	struct store_out	 o;
	int64_t			 id;
	char			 why[64];

	if (store_out_by_msgref(gw->store, m->conf.name, msgref, &id) != 1) {
		log_debug("outbox: status report for unknown msgref %d on %s",
		    msgref, m->conf.name);
		return;
	}
	if (store_out_get(gw->store, id, &o) != 1)
		return;
	if (status < 32)
		outbox_set_state(&o, OUT_DELIVERED, NULL, -2, -1, NULL);
	else if (status >= 64) {
		snprintf(why, sizeof(why), "not delivered (status %d)",
		    status);
		outbox_set_state(&o, OUT_FAILED, NULL, -2, -1, why);
	}
}

/* A modem went away with a send in flight: that SMS goes back in line. */
void
outbox_lost(struct modem *m)
{
	struct store_out	 o;
	int64_t			 id = m->out_id;

	if (id == 0 || m->out_unsaved)	/* its result is known */
		return;
	m->out_id = 0;
	if (store_out_get(gw->store, id, &o) == 1 && o.state == OUT_SENDING)
		outbox_set_state(&o, OUT_QUEUED, NULL, -2, time(NULL),
		    "modem lost");
	outbox_kick();
}

/*
 * A gone worker's journal says its modem took this SMS (docs/design.md,
 * "Send results across a crash"): it is sent, though its result never
 * reached us or was never committed. Only an SMS still owed through
 * that modem to that number is meant; any other is long settled.
 */
void
outbox_recovered(struct modem *m, int64_t id, int msgref, const char *number)
{
	struct store_out	 o;

	if (m->out_id == id) {
		m->out_id = 0;
		m->out_unsaved = 0;
	}
	if (store_out_get(gw->store, id, &o) != 1)
		return;
	if ((o.state != OUT_SENDING && o.state != OUT_QUEUED) ||
	    strcmp(o.dest, number) != 0 || strcmp(o.modem, m->conf.name) != 0) {
		log_debug("outbox: sms %lld: journal of %s: nothing to do "
		    "(%s)", (long long)id, m->conf.name,
		    store_out_state_name(o.state));
		return;
	}
	log_info("outbox: sms %lld: modem %s took it before its worker went "
	    "away (journal); not sent again", (long long)id, m->conf.name);
	m->sent++;
	m->sent_today++;
	outbox_set_state(&o, OUT_SENT, m->conf.name, msgref, -1, "");
}
