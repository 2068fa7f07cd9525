/*
 * dial: the scenario's USSD officers, played on the simulator's loop
 * through tallysim's aggregator (aggr.c) into the gateway's callback
 * (docs/sim.md, docs/scenario.md).
 *
 * For each report an officer dials the service code: each session of
 * the report (sim/scenario.h, struct sc_ussd) types the scenario's
 * inputs after the scenario's think times (scaled like every offset of
 * the night), answers each review screen of a session that sends with
 * 1 until the END screen, and stops where the scenario cuts it: at
 * once for a dropped line, after the network's wait for an input for
 * a timeout. The next session comes after its gap. An officer has one
 * phone: one session at a time, the reports in the order the scenario
 * sends them; many officers dial at once. Every screen, and how each
 * session ended, goes to RUNDIR/ussd.jsonl for the oracle.
 */

#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "scenario.h"
#include "sim.h"

#define DIAL_TEXT_MAX	4096	/* the inputs of a session, joined */

/* One officer's state, changed by dial_set_state(). */
enum dial_state {
	DIAL_IDLE = 0,		/* no report due */
	DIAL_WAIT,		/* reading, typing, or before a redial */
	DIAL_POST,		/* a step in flight */
	DIAL_GONE,		/* cut for a timeout: the network's wait */
};

struct dial_officer {
	TAILQ_ENTRY(dial_officer) entry;
	const struct sc_phone	*ph;
	enum dial_state		 state;
	const struct sc_msg	*next;		/* its next report to send */
	size_t			 due;		/* reports due, not begun */
	const struct sc_msg	*msg;		/* the report being sent */
	size_t			 k;		/* its session, from 0 */
	size_t			 i;		/* inputs typed */
	int			 n;		/* screens of the session */
	int			 confirms;	/* 1 pressed on review */
	int			 retried;	/* the last step posted twice */
	uint64_t		 begun_ms;	/* the session's dial */
	char			 sid[72];
	char			 text[DIAL_TEXT_MAX];
	size_t			 len;
	struct event		*ev;
	struct aggr_req		*req;
};
TAILQ_HEAD(dial_officers, dial_officer);

struct dial {
	struct aggr_ep		*ep;
	struct dial_officers	 officers;
	FILE			*log;
	double			 ms_per_sec;	/* real ms a scenario second */
	unsigned		 nonce;		/* runs' session ids differ */
	dial_done_cb		 done;
	size_t			 sessions;	/* dialled so far */
	size_t			 pending;	/* reports due, not finished */
};

static struct dial	*dial;

static const char *const dial_state_names[] = {
	[DIAL_IDLE] = "idle",
	[DIAL_WAIT] = "waiting",
	[DIAL_POST] = "posting",
	[DIAL_GONE] = "gone",
};

static void	dial_set_state(struct dial_officer *, enum dial_state);
static void	dial_after(struct dial_officer *, unsigned);
static void	dial_begin(struct dial_officer *);
static void	dial_session(struct dial_officer *);
static void	dial_post(struct dial_officer *, const char *);
static void	dial_answer(const struct aggr_answer *, void *);
static void	dial_wake(evutil_socket_t, short, void *);
static void	dial_cut(struct dial_officer *);
static void	dial_end(struct dial_officer *, const char *, const char *);
static void	dial_finish(struct dial_officer *, int);
static void	dial_head(struct evbuffer *, const struct dial_officer *);
static void	dial_write(struct evbuffer *);

static void
dial_set_state(struct dial_officer *o, enum dial_state s)
{
	if (o->state != s)
		log_debug("sim: ussd %s: %s -> %s", o->ph->msisdn,
		    dial_state_names[o->state], dial_state_names[s]);
	o->state = s;
}

/* Wake the officer after this many seconds of the scenario. */
static void
dial_after(struct dial_officer *o, unsigned secs)
{
	sim_after(o->ev, (int)(secs * dial->ms_per_sec));
}

/*
 * Start playing the USSD reports of sc into the gateway of DIR (its
 * ussd.url and ussd.secret, as `tallysim world' writes them), the log
 * into DIR/ussd.jsonl. done is called as each report's last session
 * ends (ok 0 if a session failed). -1 with the reason in err.
 */
int
dial_start(const struct scenario *sc, const char *dir, double ms_per_sec,
    dial_done_cb done, char *err, size_t errlen)
{
	struct dial_officer	*o;
	const struct sc_phone	*ph;
	char			 path[PATH_MAX + 16], eerr[PATH_MAX + 256];

	dial_free();
	if ((dial = calloc(1, sizeof(*dial))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	TAILQ_INIT(&dial->officers);
	dial->ms_per_sec = ms_per_sec;
	dial->done = done;
	dial->nonce = (unsigned)(sim_now_ms() % 1000000);
	TAILQ_FOREACH(ph, &sc->phones, entry) {
		if (!ph->ussd)
			continue;
		if ((o = calloc(1, sizeof(*o))) == NULL ||
		    (o->ev = evtimer_new(sim->base, dial_wake, o)) == NULL) {
			free(o);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		o->ph = ph;
		o->next = TAILQ_FIRST(&ph->msgs);
		TAILQ_INSERT_TAIL(&dial->officers, o, entry);
	}
	if (TAILQ_EMPTY(&dial->officers))
		return (0);
	if ((dial->ep = aggr_ep_open(dir, NULL, NULL, eerr,
	    sizeof(eerr))) == NULL) {
		snprintf(err, errlen, "USSD officers: %.300s", eerr);
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/ussd.jsonl", dir);
	if ((dial->log = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "%.300s: %s", path, strerror(errno));
		goto fail;
	}
	return (0);
fail:
	dial_free();
	return (-1);
}

void
dial_free(void)
{
	struct dial_officer	*o;

	if (dial == NULL)
		return;
	while ((o = TAILQ_FIRST(&dial->officers)) != NULL) {
		TAILQ_REMOVE(&dial->officers, o, entry);
		aggr_cancel(o->req);
		if (o->ev != NULL)
			event_free(o->ev);
		free(o);
	}
	if (dial->log != NULL)
		fclose(dial->log);
	aggr_ep_free(dial->ep);
	free(dial);
	dial = NULL;
}

/* Reports due and not yet finished; sessions dialled so far. */
size_t
dial_pending(size_t *sessions)
{
	if (sessions != NULL)
		*sessions = dial != NULL ? dial->sessions : 0;
	return (dial != NULL ? dial->pending : 0);
}

/* Push what the log holds to the file, for the oracle. */
void
dial_flush(void)
{
	if (dial != NULL && dial->log != NULL)
		fflush(dial->log);
}

/* A USSD report is due: its officer sends it once free. */
void
dial_due(const struct sc_msg *m)
{
	struct dial_officer	*o;

	if (dial == NULL)
		return;
	TAILQ_FOREACH(o, &dial->officers, entry)
		if (o->ph == m->phone)
			break;
	if (o == NULL) {
		log_warnx("sim: ussd: message %zu: no officer", m->id);
		return;
	}
	dial->pending++;
	o->due++;
	if (o->state == DIAL_IDLE)
		dial_begin(o);
}

/* The officer's next report, in the order the scenario sends them. */
static void
dial_begin(struct dial_officer *o)
{
	if (o->due == 0 || o->next == NULL) {
		dial_set_state(o, DIAL_IDLE);
		return;
	}
	o->due--;
	o->msg = o->next;
	o->next = TAILQ_NEXT(o->msg, pentry);
	o->k = 0;
	dial_session(o);
}

/* Session k of the report: dial, the first request with no text. */
static void
dial_session(struct dial_officer *o)
{
	snprintf(o->sid, sizeof(o->sid), "sim%u-%zu-%zu", dial->nonce,
	    o->msg->id, o->k);
	o->i = 0;
	o->n = 0;
	o->confirms = 0;
	o->retried = 0;
	o->len = 0;
	o->text[0] = '\0';
	o->begun_ms = sim_now_ms();
	dial->sessions++;
	dial_post(o, NULL);
}

/*
 * Post the session's next step: input appended to the text, or the
 * last step again (input NULL after the first). The gateway runs at
 * the machine's speed, so the network's limits on its answers are
 * real time: AGGR_SCREEN_SEC a screen, AGGR_SESSION_SEC a session.
 */
static void
dial_post(struct dial_officer *o, const char *input)
{
	struct aggr_form	 f;
	long			 left, wait;
	int			 w;

	if (input != NULL) {
		w = snprintf(o->text + o->len, sizeof(o->text) - o->len,
		    "%s%s", o->len > 0 ? "*" : "", input);
		if (w < 0 || (size_t)w >= sizeof(o->text) - o->len) {
			dial_end(o, "error", "inputs too long");
			return;
		}
		o->len += (size_t)w;
	}
	left = AGGR_SESSION_SEC * 1000L - (long)(sim_now_ms() - o->begun_ms);
	wait = left < AGGR_SCREEN_SEC * 1000L ? left : AGGR_SCREEN_SEC * 1000L;
	if (wait <= 0) {
		dial_end(o, "error", "session over its time");
		return;
	}
	f.session = o->sid;
	f.code = SIM_USSD_SERVICE;
	f.phone = o->ph->msisdn;
	f.network = aggr_network(o->ph->msisdn);
	f.text = o->text;
	if ((o->req = aggr_post(sim->base, dial->ep, &f, wait, dial_answer,
	    o)) == NULL) {
		dial_end(o, "error", "cannot send the request");
		return;
	}
	dial_set_state(o, DIAL_POST);
}

/* The head of a log line: which report, session and phone. */
static void
dial_head(struct evbuffer *b, const struct dial_officer *o)
{
	evbuffer_add_printf(b, "{\"msg\":%zu,\"k\":%zu,\"session\":",
	    o->msg->id, o->k);
	ctl_json_str(b, o->sid);
	evbuffer_add_printf(b, ",\"phone\":");
	ctl_json_str(b, o->ph->msisdn);
}

static void
dial_write(struct evbuffer *b)
{
	evbuffer_add(b, "}\n", 2);
	fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), dial->log);
	evbuffer_free(b);
}

/*
 * A screen, logged with the input that brought it: "i" counts the
 * scenario's inputs (-1 the dial; from the session's input count on,
 * the 1s on review); "retry" for the last step posted again.
 */
static void
dial_answer(const struct aggr_answer *a, void *arg)
{
	struct dial_officer		*o = arg;
	const struct sc_session		*ss = &o->msg->ussd->sessions[o->k];
	struct evbuffer			*b;
	int				 retry = o->retried == 1;

	o->req = NULL;
	o->n++;
	if (retry)
		o->retried = 2;
	if ((b = evbuffer_new()) != NULL) {
		dial_head(b, o);
		evbuffer_add_printf(b, ",\"n\":%d,\"i\":%d%s", o->n,
		    (int)o->i + o->confirms - 1, retry ? ",\"retry\":true" :
		    "");
		if (a->type != AGGR_NONE) {
			evbuffer_add_printf(b, ",\"type\":\"%s\",\"text\":",
			    a->type == AGGR_END ? "END" : "CON");
			ctl_json_str(b, a->screen);
		}
		if (a->error != NULL) {
			evbuffer_add_printf(b, ",\"error\":");
			ctl_json_str(b, a->error);
		}
		dial_write(b);
	}
	if (a->error != NULL) {
		dial_end(o, "error", a->timedout ? "no answer in time" :
		    a->error);
		return;
	}
	if (a->type == AGGR_END) {
		if (ss->retry && !o->retried && ss->end == SC_END_SUBMIT) {
			/* The aggregator did not hear it: the step again. */
			o->retried = 1;
			dial_post(o, NULL);
			return;
		}
		dial_end(o, "END", NULL);
		return;
	}
	if (o->i == ss->ninputs && ss->end != SC_END_SUBMIT) {
		dial_cut(o);
		return;
	}
	if (o->i == ss->ninputs && o->confirms >= SC_USSD_CONFIRMS) {
		dial_end(o, "error", "no END screen after the review");
		return;
	}
	dial_set_state(o, DIAL_WAIT);
	dial_after(o, o->i < ss->ninputs ? ss->think[o->i] :
	    SC_USSD_CONFIRM_SEC);
}

/* The scenario cuts the session here: a dropped line, or too slow. */
static void
dial_cut(struct dial_officer *o)
{
	const struct sc_session	*ss = &o->msg->ussd->sessions[o->k];

	if (ss->end == SC_END_TIMEOUT) {
		dial_set_state(o, DIAL_GONE);
		dial_after(o, SC_USSD_WAIT_SEC);
		return;
	}
	dial_end(o, "dropped", NULL);
}

/* The timer: type the next input, confirm, time out, or redial. */
static void
dial_wake(evutil_socket_t fd, short ev, void *arg)
{
	struct dial_officer	*o = arg;
	const struct sc_session	*ss;

	if (o->state == DIAL_GONE) {
		dial_end(o, "timeout", NULL);
		return;
	}
	ss = &o->msg->ussd->sessions[o->k];
	if (o->n == 0) {		/* the gap before a redial is over */
		dial_session(o);
		return;
	}
	if (o->i < ss->ninputs) {
		o->i++;
		dial_post(o, ss->inputs[o->i - 1]);
		return;
	}
	o->confirms++;
	dial_post(o, "1");
}

/*
 * The session is over (end: END, dropped, timeout, error): log it,
 * then the report's next session after its gap, or the next report.
 */
static void
dial_end(struct dial_officer *o, const char *end, const char *why)
{
	const struct sc_ussd	*u = o->msg->ussd;
	struct evbuffer		*b;
	unsigned		 gap;

	if ((b = evbuffer_new()) != NULL) {
		dial_head(b, o);
		evbuffer_add_printf(b, ",\"end\":\"%s\",\"screens\":%d", end,
		    o->n);
		if (why != NULL) {
			evbuffer_add_printf(b, ",\"error\":");
			ctl_json_str(b, why);
		}
		dial_write(b);
	}
	fflush(dial->log);
	if (why != NULL)
		log_warnx("sim: ussd %s session %s: %s", o->ph->msisdn, o->sid,
		    why);
	if (why != NULL || strcmp(end, "END") == 0 || ++o->k == u->nsessions) {
		dial_finish(o, why == NULL);
		return;
	}
	/* The gap counts from the last screen, the network's wait in it. */
	gap = u->sessions[o->k].gap;
	if (strcmp(end, "timeout") == 0)
		gap = gap > SC_USSD_WAIT_SEC ? gap - SC_USSD_WAIT_SEC : 0;
	o->n = 0;
	dial_set_state(o, DIAL_WAIT);
	dial_after(o, gap);
}

/* The report is done with; on to the officer's next. */
static void
dial_finish(struct dial_officer *o, int ok)
{
	const struct sc_msg	*m = o->msg;

	o->msg = NULL;
	dial->pending--;
	dial_set_state(o, DIAL_IDLE);
	dial_begin(o);
	dial->done(m, ok);
}
