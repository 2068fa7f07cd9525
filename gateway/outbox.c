/*
 * outbox: the replies on their way to the officers. Replies owed to one
 * phone are merged into as few SMS as fit; each SMS moves queued →
 * sending → sent → delivered | failed, persisted in the store.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "daemon.h"

#define OUTBOX_BATCH		64	/* rows looked at per run */

/* A reply of REPLY_PARTS_MAX parts goes to the worker in one SEND. */
_Static_assert(REPLY_TEXT_MAX <= WIRE_TEXT_MAX, "wire text too short");

static int	outbox_set_state(struct store_out *, enum out_state,
		    const char *, int, time_t, const char *);

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
 */
static void
outbox_merge(const char *dest)
{
	struct store_reply	*r;
	struct store_out	 o;
	const char		*briefs[OUTBOX_BATCH];
	int64_t			 ids[OUTBOX_BATCH];
	size_t			 n, i, j, k, used;
	char			 text[REPLY_MAX + 1];

	if ((r = calloc(OUTBOX_BATCH, sizeof(*r))) == NULL)
		return;
	if (store_reply_pending(gw->store, dest, r, OUTBOX_BATCH, &n) == -1)
		goto done;
	for (i = 0; i < n; i = j) {
		memset(&o, 0, sizeof(o));
		snprintf(o.dest, sizeof(o.dest), "%s", dest);
		snprintf(o.prefer, sizeof(o.prefer), "%s", r[i].modem);
		o.state = OUT_QUEUED;
		o.msgref = -1;
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
		for (k = i; k < j; k++)
			ids[k - i] = r[k].id;
		if (store_out_add(gw->store, &o, ids, j - i) == -1) {
			log_warnx("outbox: cannot queue a reply to %s", dest);
			break;
		}
		metrics_count(METRICS_REPLIES, store_out_state_name(OUT_QUEUED),
		    NULL, 1);
		log_info("outbox: sms %lld to %s: queued (%zu repl%s): %s",
		    (long long)o.id, dest, j - i, j - i == 1 ? "y" : "ies",
		    o.text);
	}
done:
	free(r);
}

/* Merge what has waited long enough, then hand due SMS to free modems. */
void
outbox_run(time_t now)
{
	char			 (*dests)[WIRE_NUMBER_MAX];
	time_t			 newest[OUTBOX_BATCH];
	struct store_out	*o;
	struct modem		*m, *pref;
	size_t			 n, i;

	if (gw->stopping)
		return;
	if ((dests = calloc(OUTBOX_BATCH, sizeof(*dests))) == NULL)
		return;
	if (store_reply_dests(gw->store, dests, newest, OUTBOX_BATCH,
	    &n) == 0)
		for (i = 0; i < n; i++)
			if (now - newest[i] >= gw->conf.t.reply_merge_wait)
				outbox_merge(dests[i]);
	free(dests);

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

/* A SEND finished (code 0: the network took it), or never will. */
void
outbox_result(struct modem *m, int64_t id, int code, int msgref,
    const char *err)
{
	struct store_out	 o;
	char			 why[GW_DETAIL_MAX];
	time_t			 now = time(NULL);
	int			 counted;

	if (m->out_id == id)
		m->out_id = 0;
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
		m->sent++;
		m->sent_today++;
		m->send_fails = 0;
		m->send_hold = 0;
		outbox_set_state(&o, OUT_SENT, m->conf.name, msgref, -1, NULL);
		outbox_kick();
		return;
	}
	m->send_failed++;
	snprintf(why, sizeof(why), "%s: error %d%s%s", m->conf.name, code,
	    err && err[0] ? ": " : "", err ? err : "");
	bank_error(m, "send refused: %s", why);
	counted = outbox_hold(m, now, why);
	if (counted && o.attempts >= gw->conf.t.reply_attempts)
		outbox_set_state(&o, OUT_FAILED, NULL, -2, -1, why);
	else
		outbox_set_state(&o, OUT_QUEUED, NULL, -2, now +
		    forward_backoff(o.attempts, 1, gw->conf.t.reply_retry_max,
		    (uint32_t)o.id), why);
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

	if (id == 0)
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

	if (m->out_id == id)
		m->out_id = 0;
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
