/*
 * receive: the one intake stage of every channel. A channel (SMS today,
 * USSD next) hands one whole inbound message; this stage classifies it,
 * verifies a report, decides the answer, and commits the message with
 * its reply, its forwards and the channel's own rows in one
 * transaction. Only then does it hand back what the channel does next
 * (delete the SIM slots, answer the session): nothing is answered or
 * deleted before the commit.
 *
 * The message's life before the commit is one enum (msg_state) changed
 * by receive_set_state alone; after the commit the reply (outbox.c) and
 * each forward (forward.c) have state machines of their own.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "daemon.h"
#include "fmt.h"

#define RECEIVE_CEK_MAX		64	/* latest reports listed by CEK */
#define RECEIVE_TX_MAX		256	/* messages one transaction commits */

/* One message on its way through the stage. */
struct receive_job {
	const struct inbound	*in;
	enum msg_state		 state;
	struct store_msg	*msg;
	struct store_reply	 rep;
	char			 screen[REPLY_MAX + 1];	/* rep in one SMS */
	int			 forward;	/* forward rows made */
	int			 nforwards;	/* how many, once committed */
	double			 arrived;	/* metrics_now() */
};

static struct rate	*receive_rate;	/* per sender (rate.c) */

static const char *const receive_state_names[] = {
	[MSG_RECEIVED] = "received",
	[MSG_CLASSIFIED] = "classified",
	[MSG_VERIFIED] = "verified",
	[MSG_COMMITTED] = "committed",
	[MSG_DEFERRED] = "deferred",
};

static const char *const receive_channel_names[] = {
	[CHANNEL_SMS] = "sms",
	[CHANNEL_USSD] = "ussd",
};

/* The name of entry i of a table indexed by an enum, "?" if none. */
static const char *
receive_name(const char *const *names, size_t n, int i)
{
	if (i < 0 || (size_t)i >= n || names[i] == NULL)
		return ("?");
	return (names[i]);
}

const char *
receive_state_name(enum msg_state s)
{
	return (receive_name(receive_state_names, sizeof(receive_state_names) /
	    sizeof(receive_state_names[0]), s));
}

const char *
receive_channel_name(enum channel c)
{
	return (receive_name(receive_channel_names,
	    sizeof(receive_channel_names) / sizeof(receive_channel_names[0]),
	    c));
}

/* A stored message as the metrics name it: a verdict, or its kind. */
static const char *
receive_what(enum msg_kind kind, enum verdict verdict)
{
	return (kind == MSG_REPORT ? verify_verdict_name(verdict) :
	    store_kind_name(kind));
}

static int
receive_tally(int ussd, enum msg_kind kind, enum verdict verdict, long n,
    void *arg)
{
	metrics_count(METRICS_MESSAGES, receive_channel_name(ussd ?
	    CHANNEL_USSD : CHANNEL_SMS), receive_what(kind, verdict), n);
	return (0);
}

/*
 * The stage's series in the metrics, at 0 before the first message
 * (USSD only if its channel is on), and the messages already stored:
 * tallygw_messages_total counts the store, across restarts.
 */
static void
receive_metrics(void)
{
	const char	*ch;
	int		 c, i;

	for (c = CHANNEL_SMS; c <= CHANNEL_USSD; c++) {
		if (c == CHANNEL_USSD && !gw->conf.ussd.enabled)
			continue;
		ch = receive_channel_name((enum channel)c);
		for (i = VERDICT_OK; i <= VERDICT_REJECTED; i++)
			metrics_count(METRICS_MESSAGES, ch,
			    receive_what(MSG_REPORT, (enum verdict)i), 0);
		for (i = MSG_CEK; i <= MSG_RATE; i++)
			metrics_count(METRICS_MESSAGES, ch,
			    receive_what((enum msg_kind)i, 0), 0);
		for (i = MSG_RECEIVED; i <= MSG_DEFERRED; i++)
			metrics_count(METRICS_STAGE, ch,
			    receive_state_name((enum msg_state)i), 0);
		metrics_count(METRICS_COMMIT, ch, NULL, 0);
	}
	if (store_msg_tally(gw->store, receive_tally, NULL) == -1)
		log_warnx("receive: cannot count the stored messages: "
		    "tallygw_messages_total counts from now on");
}

int
receive_init(void)
{
	if ((receive_rate = rate_new(GW_RATE_SENDERS)) == NULL)
		return (-1);
	receive_metrics();
	return (0);
}

/* The one place a message changes state before its commit. */
static void
receive_set_state(struct receive_job *j, enum msg_state s, const char *why)
{
	const struct inbound	*in = j->in;

	if (s == MSG_DEFERRED)
		log_warnx("receive: %s from %s via %s: %s -> %s: %s",
		    receive_channel_name(in->channel), in->sender, in->via,
		    receive_state_name(j->state), receive_state_name(s), why);
	else
		log_debug("receive: %s from %s via %s: %s -> %s%s%s",
		    receive_channel_name(in->channel), in->sender, in->via,
		    receive_state_name(j->state), receive_state_name(s),
		    why[0] ? ": " : "", why);
	j->state = s;
	metrics_count(METRICS_STAGE, receive_channel_name(in->channel),
	    receive_state_name(s), 1);
}

/* 1 if this sender has sent more than the limit in the current window. */
static int
receive_rate_over(const char *sender, time_t now)
{
	if (gw->conf.t.rate_limit <= 0 || receive_rate == NULL)
		return (0);
	return (rate_over(receive_rate, sender, now, gw->conf.t.rate_limit,
	    gw->conf.t.rate_window));
}

/* The loop's tick: senders whose window has passed are forgotten. */
void
receive_expire(time_t now)
{
	if (receive_rate != NULL)
		rate_expire(receive_rate, now, gw->conf.t.rate_window);
}

/* Senders the rate table holds (the flood test reads it in the log). */
size_t
receive_rate_size(unsigned long *evicted)
{
	if (receive_rate == NULL) {
		if (evicted != NULL)
			*evicted = 0;
		return (0);
	}
	return (rate_size(receive_rate, evicted));
}

/* The message row as the channel gave it, before anything is decided. */
static void
receive_fill(struct receive_job *j)
{
	const struct inbound	*in = j->in;
	struct store_msg	*msg = j->msg;

	fmt_copy(msg->modem, sizeof(msg->modem), in->via);
	fmt_copy(msg->modem_number, sizeof(msg->modem_number),
	    in->via_number != NULL ? in->via_number : "");
	fmt_copy(msg->sender, sizeof(msg->sender), in->sender);
	fmt_copy(msg->smsc_time, sizeof(msg->smsc_time),
	    in->ref != NULL ? in->ref : "");
	fmt_copy(msg->raw, sizeof(msg->raw), in->text);
	store_iso_now(msg->received_at, sizeof(msg->received_at));
	msg->parts = in->parts;
	msg->report.page = -1;
}

/* What the reply to a report needs of its message. */
static void
receive_reply_msg(const struct store_msg *msg, struct reply_msg *rm)
{
	memset(rm, 0, sizeof(*rm));
	rm->id = msg->id;
	rm->decoded = msg->decoded;
	memcpy(rm->receipt, msg->receipt, sizeof(rm->receipt));
	rm->report = msg->report;
}

/* Verify a report and fill the message and the reply from the verdict. */
static int
receive_verify(struct receive_job *j)
{
	struct store_msg	*msg = j->msg;
	struct verify_result	 res;
	struct reply_msg	 rm;

	if (verify_report(&gw->vctx, msg->raw, strlen(msg->raw),
	    msg->sender, j->in->arrived, &msg->report, &res) == -1)
		return (-1);
	if ((res.verdict == VERDICT_OK || res.verdict == VERDICT_FLAGGED) &&
	    kpps_unregistered(gw->kpps, msg->report.tps, msg->sender)) {
		res.flags |= FLAG_SENDER;
		res.verdict = VERDICT_FLAGGED;
	}
	msg->verdict = res.verdict;
	msg->reason = res.reason;
	msg->flags = res.flags;
	msg->auth = res.auth;
	msg->supersedes = res.supersedes;
	memcpy(msg->receipt, res.receipt, sizeof(msg->receipt));
	msg->decoded = verify_decoded(&res, &msg->report);
	if (verify_explain(&res, &msg->report, msg->detail,
	    sizeof(msg->detail)) == -1)
		msg->detail[sizeof(msg->detail) - 1] = '\0';
	if (res.lockout & LOCKOUT_FAIL_LOCKED)
		log_warnx("msg: sender %s locked out of TPS %013llu after "
		    "repeated bad codes", msg->sender,
		    (unsigned long long)msg->report.tps);
	if (res.lockout & LOCKOUT_FAIL_ALERT)
		log_warnx("msg: TPS %013llu: many bad codes from several "
		    "senders: check for an attack",
		    (unsigned long long)msg->report.tps);
	j->forward = msg->verdict == VERDICT_OK ||
	    msg->verdict == VERDICT_FLAGGED;
	receive_reply_msg(msg, &rm);
	if (reply_report(gw->lang, &rm, &res, j->rep.text,
	    sizeof(j->rep.text), j->rep.brief, sizeof(j->rep.brief)) == -1)
		return (-1);
	/*
	 * A channel that shows one screen (USSD) gets the one-SMS form;
	 * only it reads it (formatting it cost an SMS report a tenth of
	 * its instructions).
	 */
	if (j->in->channel != CHANNEL_USSD || reply_screen(gw->lang, &rm,
	    &res, j->screen, sizeof(j->screen)) == -1)
		j->screen[0] = '\0';
	return (0);
}

/* CEK TPS: the latest accepted reports of that TPS, or "unknown". */
static int
receive_cek(struct receive_job *j, uint64_t tps, int ok)
{
	struct reply_latest	 lat[RECEIVE_CEK_MAX];
	struct tps_info		 ti;
	size_t			 nlat;

	snprintf(j->msg->detail, sizeof(j->msg->detail), "CEK");
	if (!ok || (gw->registry != NULL &&
	    registry_lookup(gw->registry, tps, &ti) != 1))
		return (reply_tps_unknown(gw->lang, j->msg->raw, j->rep.text,
		    sizeof(j->rep.text)));
	if (store_tps_latest(gw->store, tps, lat, RECEIVE_CEK_MAX,
	    &nlat) == -1)
		return (-1);
	return (reply_cek(gw->lang, tps, lat, nlat, j->rep.text,
	    sizeof(j->rep.text)));
}

/*
 * Classify the text (or keep it unanswered over the sender's rate) and
 * decide its verdict and answer. -1: a store error; nothing decided.
 */
static int
receive_decide(struct receive_job *j)
{
	struct store_msg	*msg = j->msg;
	uint64_t		 tps = 0;
	int			 ok = 0;

	if (receive_rate_over(msg->sender, j->in->arrived)) {
		msg->kind = MSG_RATE;
		snprintf(msg->detail, sizeof(msg->detail), "over %d messages "
		    "in %d s from this sender: kept, not answered",
		    gw->conf.t.rate_limit, gw->conf.t.rate_window);
	} else if (j->in->undecodable != NULL)
		msg->kind = MSG_OTHER;
	else
		msg->kind = reply_classify(msg->raw, &tps, &ok);
	receive_set_state(j, MSG_CLASSIFIED, store_kind_name(msg->kind));
	switch (msg->kind) {
	case MSG_REPORT:
		if (receive_verify(j) == -1)
			return (-1);
		break;
	case MSG_CEK:
		if (receive_cek(j, tps, ok) == -1)
			return (-1);
		break;
	case MSG_BANTU:
		reply_bantu(gw->lang, j->rep.text, sizeof(j->rep.text));
		snprintf(msg->detail, sizeof(msg->detail), "BANTU");
		break;
	case MSG_OTHER:
		if (j->in->undecodable == NULL) {
			reply_other(gw->lang, j->rep.text, sizeof(j->rep.text));
			snprintf(msg->detail, sizeof(msg->detail),
			    "not a report");
			break;
		}
		/* No sender could be read: nobody to answer. */
		if (msg->sender[0] != '\0')
			reply_unreadable(gw->lang, j->rep.text,
			    sizeof(j->rep.text));
		snprintf(msg->detail, sizeof(msg->detail), "undecodable SMS, "
		    "its PDU kept: %s", j->in->undecodable);
		break;
	case MSG_RATE:
		break;
	}
	store_iso_now(msg->verified_at, sizeof(msg->verified_at));
	receive_set_state(j, MSG_VERIFIED, msg->detail);
	return (0);
}

/* What was decided, for the channel's rows and then the channel. */
static void
receive_out(const struct receive_job *j, struct received *out)
{
	out->id = j->msg->id;
	out->kind = j->msg->kind;
	out->verdict = j->msg->verdict;
	memcpy(out->receipt, j->msg->receipt, sizeof(out->receipt));
	fmt_copy(out->reply, sizeof(out->reply), j->rep.text);
	if (j->screen[0] != '\0')
		fmt_copy(out->screen, sizeof(out->screen), j->screen);
	else if (strlen(j->rep.text) < sizeof(out->screen))
		memcpy(out->screen, j->rep.text, strlen(j->rep.text) + 1);
}

/*
 * How soon the reply must go (docs/design.md, "The outbox's order"): an
 * officer's rejection, or an answer to an officer's text not understood,
 * before a FLAGGED confirmation (check the numbers), before the other
 * confirmations; the answers to numbers not known to be an officer's
 * last, so a flood of junk or forged reports from many numbers does not
 * hold the officers' confirmations. Known: on the KPPS list for the
 * report's TPS, or the sender of an accepted report before.
 */
static enum out_priority
receive_priority(const struct store_msg *msg)
{
	int	 act = msg->verdict == VERDICT_REJECTED ||
		    msg->kind == MSG_OTHER;

	if (msg->verdict == VERDICT_FLAGGED)
		return (OUT_PRIO_CHECK);
	/* A code checked: OK, or the DUPLICATE of an accepted report. */
	if (msg->kind == MSG_REPORT && !act)
		return (OUT_PRIO_CONFIRM);
	if ((gw->kpps != NULL && msg->decoded &&
	    !kpps_unregistered(gw->kpps, msg->report.tps, msg->sender)) ||
	    store_sender_known(gw->store, msg->sender) == 1)
		return (act ? OUT_PRIO_ACT : OUT_PRIO_CONFIRM);
	return (OUT_PRIO_OTHER);
}

/*
 * The message, its reply, its forwards and the channel's rows, in the
 * batch's transaction: all or none of them (a savepoint of its own).
 */
static int
receive_rows(struct receive_job *j, struct received *out)
{
	const struct inbound	*in = j->in;
	struct store_msg	*msg = j->msg;
	struct conf_central	*c;

	if (store_item_begin(gw->store) == -1)
		return (-1);
	if (store_msg_add(gw->store, msg) == -1)
		goto undo;
	if (j->rep.text[0] != '\0') {
		j->rep.msg_id = msg->id;
		j->rep.created = time(NULL);
		fmt_copy(j->rep.dest, sizeof(j->rep.dest), msg->sender);
		fmt_copy(j->rep.modem, sizeof(j->rep.modem), in->via);
		j->rep.priority = receive_priority(msg);
		if (store_reply_add(gw->store, &j->rep) == -1)
			goto undo;
	}
	if (j->forward)
		TAILQ_FOREACH(c, &gw->conf.centrals, entry) {
			if (store_fwd_add(gw->store, msg->id, c->name) == -1)
				goto undo;
			j->nforwards++;
		}
	receive_out(j, out);
	if (in->rows != NULL && in->rows(in->arg, out) == -1)
		goto undo;
	return (store_item_end(gw->store, 1));
undo:
	j->nforwards = 0;
	store_item_end(gw->store, 0);
	return (-1);
}

/* The operator's line for a committed message. */
static void
receive_log(const struct receive_job *j)
{
	const struct store_msg	*msg = j->msg;

	if (msg->kind == MSG_REPORT)
		log_info("msg %lld: from %s on %s (%d part%s): %s%s%s",
		    (long long)msg->id, msg->sender, msg->modem, msg->parts,
		    msg->parts == 1 ? "" : "s", msg->detail,
		    msg->receipt[0] ? " receipt " : "", msg->receipt);
	else
		log_info("msg %lld: from %s on %s: %s: \"%.60s\"",
		    (long long)msg->id, msg->sender, msg->modem,
		    store_kind_name(msg->kind), msg->raw);
}

/* After the commit: the message's state, counts, log line, reply, forwards. */
static void
receive_committed(struct receive_job *j)
{
	const struct inbound	*in = j->in;

	receive_set_state(j, MSG_COMMITTED, "");
	metrics_count(METRICS_FORWARDS, store_fwd_state_name(FWD_PENDING),
	    NULL, j->nforwards);
	metrics_observe(METRICS_COMMIT, receive_channel_name(in->channel),
	    NULL, metrics_now() - j->arrived);
	metrics_count(METRICS_MESSAGES, receive_channel_name(in->channel),
	    receive_what(j->msg->kind, j->msg->verdict), 1);
	metrics_stored(j->msg->kind, j->msg->verdict);
	receive_log(j);
	if (j->rep.text[0] != '\0')
		outbox_owed(j->rep.dest);
	if (j->forward)
		forward_queue_kick(gw->fwdq);
}

/*
 * The jobs and messages of one transaction, kept and used again: a
 * batch allocated and zeroed anew (5.5 KB a message) touched new pages
 * at each commit, a page fault each (a third of a large batch's time).
 * Each is zeroed when used, so only the largest batch's pages are ever
 * in memory (calloc'd, all 1.7 MB were).
 */
static struct receive_job	receive_jobs[RECEIVE_TX_MAX];
static struct store_msg		receive_msgs[RECEIVE_TX_MAX];

/*
 * Up to RECEIVE_TX_MAX whole messages in one transaction: decide each
 * (seeing the ones before it), commit them together, then let their
 * replies and forwards go. Returns how many were committed.
 */
static size_t
receive_tx(const struct inbound *in, struct received *out, int *rc,
    size_t n)
{
	struct receive_job	*j;
	size_t			 i, stored = 0;
	int			 open;	/* the transaction holds */

	for (i = 0; i < n; i++) {
		j = &receive_jobs[i];
		memset(j, 0, sizeof(*j));
		memset(&out[i], 0, sizeof(out[i]));
		rc[i] = -1;
		j->in = &in[i];
		j->state = MSG_RECEIVED;
		j->arrived = metrics_now();
		metrics_count(METRICS_STAGE, receive_channel_name(
		    in[i].channel), receive_state_name(MSG_RECEIVED), 1);
	}
	log_hold();	/* a line a report, one write for the batch */
	open = store_begin(gw->store) == 0;
	registry_batch_begin(gw->registry);
	for (i = 0; i < n; i++) {
		j = &receive_jobs[i];
		if (!open) {
			receive_set_state(j, MSG_DEFERRED, "not stored");
			continue;
		}
		j->msg = &receive_msgs[i];
		memset(j->msg, 0, sizeof(*j->msg));
		receive_fill(j);
		if (receive_decide(j) == -1)
			receive_set_state(j, MSG_DEFERRED,
			    "verification failed (store error)");
		else if (receive_rows(j, &out[i]) == -1) {
			memset(&out[i], 0, sizeof(out[i]));
			receive_set_state(j, MSG_DEFERRED, "not stored");
		} else {
			rc[i] = 0;
			stored++;
		}
		/* Rolled back under us: nothing of it holds. */
		if (!store_in_tx(gw->store))
			open = 0;
	}
	registry_batch_end(gw->registry);
	if (stored > 0 && (!open || store_commit(gw->store) == -1)) {
		store_rollback(gw->store);
		for (i = 0; i < n; i++)
			if (rc[i] == 0) {
				rc[i] = -1;
				memset(&out[i], 0, sizeof(out[i]));
				receive_set_state(&receive_jobs[i],
				    MSG_DEFERRED, "not stored (commit failed)");
			}
		stored = 0;
	}
	store_rollback(gw->store);	/* nothing stored: end it */
	for (i = 0; i < n; i++)
		if (rc[i] == 0)
			receive_committed(&receive_jobs[i]);
	log_release();
	return (stored);
}

/*
 * Whole inbound messages, in order: decide each (seeing the ones
 * before it) and commit them in one transaction (group commit: one
 * sync for the batch; RECEIVE_TX_MAX at most, the rest in the next),
 * then let their replies and forwards go. rc[i] 0: committed, out[i]
 * says what was decided; -1: not stored (the channel keeps the message
 * and offers it again). Nothing of a transaction is answered or handed
 * back before its commit returned. Returns how many were committed.
 */
size_t
receive_batch(const struct inbound *in, struct received *out, int *rc,
    size_t n)
{
	size_t	 i, k, stored = 0;

	for (i = 0; i < n; i += k) {
		k = n - i < RECEIVE_TX_MAX ? n - i : RECEIVE_TX_MAX;
		stored += receive_tx(in + i, out + i, rc + i, k);
	}
	return (stored);
}

/* One whole inbound message: a batch of one. */
int
receive_item(const struct inbound *in, struct received *out)
{
	int	 rc;

	receive_batch(in, out, &rc, 1);
	return (rc);
}
