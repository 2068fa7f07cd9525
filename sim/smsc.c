/*
 * The SMS centre: routes by MSISDN between modems and phones.  Any
 * number that is not a modem's is a phone: an inbox that keeps what it
 * was sent, long messages put back together.  Messages for a modem
 * wait in a queue until the modem can take them (plugged in,
 * registered, room on its SIM) and are retried; the network can be
 * told to lose, duplicate, delay or reorder them (fault.c).
 *
 * With AT+CSMS=1 (phase 2+, 27.005 3.2.1 and 3.4.4) a message or
 * status report routed straight to the TE (+CMT, +CDS) counts as
 * delivered only once the TE acknowledges it with AT+CNMA; until then
 * the modem holds it and routes no other +CMT/+CDS.  Without an
 * acknowledgement within SIM_CNMA_SEC the network keeps it and retries
 * later, and the modem sets CNMI <mt> and <ds> to 0.
 */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "pdu.h"
#include "sim.h"

/* What became of one attempt to hand a queued PDU to its modem. */
enum smsc_try_result {
	TRY_DONE = 0,		/* delivered (or dropped): free it */
	TRY_LATER,		/* the modem cannot take it: retry later */
	TRY_HELD,		/* waits for the +CNMA of the one before */
	TRY_TAKEN,		/* routed to the TE; the modem holds it */
};

static const char *smsc_ack_names[] = {
	"none", "waiting",
};

static void	smsc_run(int, short, void *);
static int	smsc_queue(struct modem *, const struct pdu_part *, int, int);
static enum smsc_try_result smsc_try(struct delivery *);
static void	smsc_count(struct modem *, const struct delivery *);
static void	smsc_ack_set(struct modem *, enum ack_state);
static void	smsc_requeue(struct delivery *);
static void	smsc_release(struct modem *);
static void	smsc_to_phone(struct modem *, const struct pdu_msg *);
static void	smsc_inbox_add(struct phone *, const char *, const char *,
		    int);

int
smsc_init(void)
{
	sim->ev_queue = evtimer_new(sim->base, smsc_run, NULL);
	return (sim->ev_queue == NULL ? -1 : 0);
}

void
smsc_free(void)
{
	struct delivery	*d;
	struct phone	*p;
	struct inmsg	*im;
	struct reasm	*r;
	int		 i;

	if (sim->ev_queue)
		event_free(sim->ev_queue);
	while ((d = TAILQ_FIRST(&sim->queue)) != NULL) {
		TAILQ_REMOVE(&sim->queue, d, entry);
		free(d);
	}
	while ((p = TAILQ_FIRST(&sim->phones)) != NULL) {
		TAILQ_REMOVE(&sim->phones, p, entry);
		while ((im = TAILQ_FIRST(&p->inbox)) != NULL) {
			TAILQ_REMOVE(&p->inbox, im, entry);
			free(im->text);
			free(im);
		}
		while ((r = TAILQ_FIRST(&p->partial)) != NULL) {
			TAILQ_REMOVE(&p->partial, r, entry);
			for (i = 0; i <= PDU_PARTS_MAX; i++)
				free(r->part[i]);
			free(r);
		}
		free(p);
	}
}

/* A number in its international form: 0812.. and 62812.. -> +62812.. */
void
smsc_norm(const char *in, char *out, size_t outlen)
{
	char	 d[32];
	size_t	 n = 0;
	int	 digits = 1;
	const char *p;

	for (p = in; *p != '\0' && n < sizeof(d) - 1; p++) {
		if (*p == ' ' || *p == '-' || *p == '(' || *p == ')')
			continue;
		if (!isdigit((unsigned char)*p) && !(*p == '+' && n == 0))
			digits = 0;
		d[n++] = *p;
	}
	d[n] = '\0';
	if (!digits || n == 0) {
		snprintf(out, outlen, "%s", in);
		return;
	}
	if (d[0] == '+')
		snprintf(out, outlen, "%s", d);
	else if (d[0] == '0' && d[1] == '0')
		snprintf(out, outlen, "+%s", d + 2);
	else if (d[0] == '0')
		snprintf(out, outlen, "+62%s", d + 1);
	else if (d[0] == '6' && d[1] == '2' && n > 8)
		snprintf(out, outlen, "+%s", d);
	else
		snprintf(out, outlen, "%s", d);	/* a short code */
}

struct phone *
smsc_phone(const char *msisdn, int create)
{
	struct phone	*p;
	char		 norm[32];

	smsc_norm(msisdn, norm, sizeof(norm));
	TAILQ_FOREACH(p, &sim->phones, entry)
		if (strcmp(p->msisdn, norm) == 0)
			return (p);
	if (!create || (p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	snprintf(p->msisdn, sizeof(p->msisdn), "%s", norm);
	TAILQ_INIT(&p->inbox);
	TAILQ_INIT(&p->partial);
	TAILQ_INSERT_TAIL(&sim->phones, p, entry);
	return (p);
}

void
smsc_kick(void)
{
	if (!evtimer_pending(sim->ev_queue, NULL))
		sim_after(sim->ev_queue, 0);
}

/* Queue one PDU for a modem, through the network's faults. */
static int
smsc_queue(struct modem *m, const struct pdu_part *pdu, int is_report,
    int delay_ms)
{
	struct delivery	*d;
	int		 copies = 1, i;

	if (sim->net_lose > 0 && (int)(sim_random() % 1000) < sim->net_lose) {
		sim->st_lost++;
		log_info("sim: network lost a message for modem%d", m->idx);
		return (0);
	}
	if (sim->net_dup > 0 && (int)(sim_random() % 1000) < sim->net_dup)
		copies = 2;
	if (sim->net_delay_ms > 0)
		delay_ms += sim_random() % sim->net_delay_ms;
	if (sim->net_reorder > 0 &&
	    (int)(sim_random() % 1000) < sim->net_reorder)
		delay_ms += 1500 + sim_random() % 3000;
	for (i = 0; i < copies; i++) {
		if ((d = calloc(1, sizeof(*d))) == NULL)
			return (-1);
		d->modem = m->idx;
		d->is_report = is_report;
		d->pdu = *pdu;
		d->due_ms = sim_now_ms() + sim_scaled_ms(delay_ms) + i;
		TAILQ_INSERT_TAIL(&sim->queue, d, entry);
	}
	smsc_kick();
	return (0);
}

/*
 * The SMSC time of a phone's new SMS: a second after its last one at
 * least. A real phone's SMS take seconds to go out one after the other,
 * so two never share the SMSC's second; a time-scaled run (or a player
 * catching up) would send them within one, and the gateway could not
 * tell their order (it orders a sweep by SMSC time).
 */
static time_t
smsc_stamp(const char *norm)
{
	struct phone	*p;
	time_t		 t = time(NULL);

	if ((p = smsc_phone(norm, 1)) == NULL)
		return (t);
	if (t <= p->last_sent)
		t = p->last_sent + 1;
	p->last_sent = t;
	return (t);
}

/*
 * A phone sends a text to a modem: split into parts (GSM 7-bit or
 * UCS-2, concatenated when long) and queued.
 */
int
smsc_inject(const char *from, struct modem *m, const char *text, int *nparts)
{
	struct pdu_part	*parts;
	char		 norm[32];
	int		 n, i, ref;

	smsc_norm(from, norm, sizeof(norm));
	if ((parts = calloc(PDU_PARTS_MAX, sizeof(*parts))) == NULL)
		return (-1);
	ref = sim->next_ref++ & 0xff;
	n = pdu_encode_deliver(m->op->smsc, norm, text, smsc_stamp(norm), ref,
	    parts, PDU_PARTS_MAX);
	if (n <= 0) {
		free(parts);
		return (-1);
	}
	for (i = 0; i < n; i++)
		smsc_queue(m, &parts[i], 0, sim->timing.deliver_ms);
	free(parts);
	sim->st_injected++;
	*nparts = n;
	log_info("sim: inject %s -> modem%d (%s): %d part(s)", norm, m->idx,
	    m->msisdn, n);
	return (0);
}

/*
 * A raw PDU (SMSC address first, as AT+CMGR shows it) for a modem, as
 * a hostile sender or a broken SMS centre could have it delivered: not
 * checked beyond being hex that fits a SIM record, so that the
 * gateway's handling of out-of-spec PDUs can be tested.
 */
int
smsc_inject_pdu(struct modem *m, const char *hex, int is_report,
    int *tpdu_len)
{
	struct pdu_part	 part;
	size_t		 len = strlen(hex), i;
	unsigned int	 sca;

	if (len < 4 || len % 2 != 0 || len >= sizeof(part.hex) ||
	    strspn(hex, "0123456789ABCDEFabcdef") != len)
		return (-1);
	memset(&part, 0, sizeof(part));
	for (i = 0; i < len; i++)
		part.hex[i] = hex[i] >= 'a' ? hex[i] - 'a' + 'A' : hex[i];
	if (sscanf(part.hex, "%2x", &sca) != 1)
		return (-1);
	part.tpdu_len = (int)(len / 2) - 1 - (int)sca;
	if (part.tpdu_len < 0)
		part.tpdu_len = 0;
	*tpdu_len = part.tpdu_len;
	if (smsc_queue(m, &part, is_report, sim->timing.deliver_ms) == -1)
		return (-1);
	sim->st_injected++;
	log_info("sim: raw PDU -> modem%d (%s): %zu octets%s", m->idx,
	    m->msisdn, len / 2, is_report ? " (as a status report)" : "");
	return (0);
}

/* Delivery statistics, once a PDU is in the modem's (or TE's) hands. */
static void
smsc_count(struct modem *m, const struct delivery *d)
{
	if (d->is_report) {
		sim->st_reports++;
		return;
	}
	m->st_received++;
	sim->st_delivered++;
}

/* Try to hand one queued PDU to its modem. */
static enum smsc_try_result
smsc_try(struct delivery *d)
{
	struct modem	*m = &sim->modems[d->modem];
	int		 idx, direct;

	if (m->state != MODEM_UP || m->cfun != 1 || m->fault.noreg)
		return (TRY_LATER);
	if (d->is_report)
		direct = m->cnmi[3] == 1;
	else
		direct = m->cnmi[1] == 2 && m->cnmi[0] != 0;
	if (direct && m->csms == 1) {
		/* 27.005 3.4.4: no other +CMT/+CDS before the +CNMA. */
		if (m->ack != ACK_NONE)
			return (TRY_HELD);
		if (d->is_report)
			modem_urc_ack(m, "+CDS: %d\r\n%s", d->pdu.tpdu_len,
			    d->pdu.hex);
		else
			modem_urc_ack(m, "+CMT: ,%d\r\n%s", d->pdu.tpdu_len,
			    d->pdu.hex);
		m->unacked = d;
		smsc_ack_set(m, ACK_WAITING);
		return (TRY_TAKEN);
	}
	if (d->is_report) {
		switch (m->cnmi[3]) {
		case 1:
			modem_urc(m, "+CDS: %d\r\n%s", d->pdu.tpdu_len,
			    d->pdu.hex);
			break;
		case 2:
			if ((idx = modem_sim_store(m, &d->pdu, 0)) == -1)
				return (TRY_LATER);
			modem_urc(m, "+CDSI: \"SM\",%d", idx);
			break;
		default:
			log_debug("sim: modem%d: status report dropped "
			    "(CNMI ds=0)", m->idx);
			break;
		}
		smsc_count(m, d);
		return (TRY_DONE);
	}
	if (direct) {
		/* As on a real modem: routed to a port nobody reads. */
		if (m->opens == 0) {
			log_warnx("sim: modem%d: +CMT with the port closed: "
			    "message lost", m->idx);
			sim->st_lost++;
			return (TRY_DONE);
		}
		modem_urc(m, "+CMT: ,%d\r\n%s", d->pdu.tpdu_len, d->pdu.hex);
	} else {
		if ((idx = modem_sim_store(m, &d->pdu, 0)) == -1) {
			if (d->attempts == 0)
				log_info("sim: modem%d: SIM full, network "
				    "keeps the message", m->idx);
			d->simfull = 1;
			return (TRY_LATER);
		}
		if (m->cnmi[1] != 0 && m->cnmi[0] != 0)
			modem_urc(m, "+CMTI: \"SM\",%d", idx);
	}
	smsc_count(m, d);
	return (TRY_DONE);
}

/*
 * The network delivers the messages for one number in the order it
 * accepted them, as an SMSC with a queue per destination does: one that
 * waits (not due yet, or its retry) holds the newer ones behind it.
 * Status reports go their own way, and so does a message the modem
 * refused or did not acknowledge (27.005 3.4.4: what was held behind
 * it goes on at once).
 */
#define SMSC_HOLDS(d)	(!(d)->is_report && !(d)->resent)
static void
smsc_run(int fd, short ev, void *arg)
{
	struct delivery	*d, *next;
	uint64_t	 now = sim_now_ms(), wake = 0;
	char		 held[SIM_MODEMS_MAX] = { 0 };

	for (d = TAILQ_FIRST(&sim->queue); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (SMSC_HOLDS(d) && held[d->modem])
			continue;	/* tried when the older one went */
		if (d->due_ms > now) {
			if (wake == 0 || d->due_ms < wake)
				wake = d->due_ms;
			held[d->modem] |= SMSC_HOLDS(d);
			continue;
		}
		switch (smsc_try(d)) {
		case TRY_DONE:
			TAILQ_REMOVE(&sim->queue, d, entry);
			free(d);
			continue;
		case TRY_TAKEN:
			TAILQ_REMOVE(&sim->queue, d, entry);
			continue;
		case TRY_HELD:
			held[d->modem] |= SMSC_HOLDS(d);
			continue;	/* smsc_release() when the ack comes */
		case TRY_LATER:
			break;
		}
		held[d->modem] |= SMSC_HOLDS(d);
		d->attempts++;
		sim->st_retries++;
		d->due_ms = now + SIM_RETRY_SEC * 1000;
		if (wake == 0 || d->due_ms < wake)
			wake = d->due_ms;
	}
	if (wake != 0)
		sim_after(sim->ev_queue, (int)(wake - now));
}

/* The network's wait for +CNMA, in real milliseconds, scaled as faults are. */
static int
smsc_ack_ms(void)
{
	if (sim->timing.profile == PROFILE_INSTANT)
		return (SIM_CNMA_SEC * 1000);
	return ((int)(SIM_CNMA_SEC * 1000 / sim->timing.scale));
}

/* The one function that changes a modem's acknowledgement state. */
static void
smsc_ack_set(struct modem *m, enum ack_state st)
{
	if (m->ack == st)
		return;
	log_debug("sim: modem%d: ack %s -> %s", m->idx,
	    smsc_ack_names[m->ack], smsc_ack_names[st]);
	m->ack = st;
	if (st == ACK_WAITING)
		sim_after(m->ev_cnma, smsc_ack_ms());
	else {
		evtimer_del(m->ev_cnma);
		m->unacked = NULL;
	}
}

/* Not acknowledged: the network keeps the PDU and tries again later. */
static void
smsc_requeue(struct delivery *d)
{
	d->resent = 1;
	d->attempts++;
	sim->st_retries++;
	d->due_ms = sim_now_ms() + SIM_RETRY_SEC * 1000;
	TAILQ_INSERT_HEAD(&sim->queue, d, entry);
	smsc_kick();
}

/*
 * The wait for +CNMA is over, or the SIM has room again: what the modem
 * held back goes now, in order.  Only this modem's PDUs that are due are tried, so that the
 * retry rhythm of the rest of the queue stays as it was.
 */
static void
smsc_release(struct modem *m)
{
	struct delivery	*d, *next;
	uint64_t	 now = sim_now_ms();
	int		 later = 0, held = 0;

	for (d = TAILQ_FIRST(&sim->queue); d != NULL; d = next) {
		next = TAILQ_NEXT(d, entry);
		if (d->modem != m->idx || (SMSC_HOLDS(d) && held))
			continue;
		if (d->due_ms > now) {
			held |= SMSC_HOLDS(d);	/* in order: smsc_run() */
			continue;
		}
		switch (smsc_try(d)) {
		case TRY_DONE:
			TAILQ_REMOVE(&sim->queue, d, entry);
			free(d);
			break;
		case TRY_TAKEN:
			TAILQ_REMOVE(&sim->queue, d, entry);
			break;
		case TRY_HELD:
			held |= SMSC_HOLDS(d);
			break;
		case TRY_LATER:
			later = 1;	/* smsc_run() sets its next try */
			held |= SMSC_HOLDS(d);
			break;
		}
	}
	if (later)
		smsc_kick();
}

/*
 * A slot on the modem's SIM was freed: as after the phone's "memory
 * available" (SMMA), the network delivers what it kept for want of
 * room at once, oldest first, instead of at its next retry.
 */
void
smsc_room(struct modem *m)
{
	struct delivery	*d;
	uint64_t	 now = sim_now_ms();
	int		 any = 0;

	TAILQ_FOREACH(d, &sim->queue, entry)
		if (d->modem == m->idx && d->simfull) {
			d->simfull = 0;
			d->due_ms = now;
			any = 1;
		}
	if (any)
		smsc_release(m);
}

/* A +CMT/+CDS went to the TE and the network waits for its AT+CNMA. */
int
smsc_ack_expected(const struct modem *m)
{
	return (m->csms == 1 && m->ack == ACK_WAITING && m->unacked != NULL &&
	    !modem_urc_ack_held(m));
}

/*
 * AT+CNMA from the TE: n 0 or 1 acknowledges the +CMT/+CDS (RP-ACK),
 * 2 refuses it (RP-ERROR: the network keeps it and retries).  -1 when
 * no acknowledgement is expected (+CMS ERROR: 340).
 */
int
smsc_cnma(struct modem *m, int n)
{
	struct delivery	*d = m->unacked;

	if (!smsc_ack_expected(m))
		return (-1);
	smsc_ack_set(m, ACK_NONE);
	if (n == 2) {
		log_info("sim: modem%d: +CNMA=2: the TE refuses the %s, the "
		    "network keeps it", m->idx,
		    d->is_report ? "status report" : "message");
		smsc_requeue(d);
		smsc_release(m);
		return (0);
	}
	smsc_count(m, d);
	free(d);
	smsc_release(m);	/* the next +CMT/+CDS may go */
	return (0);
}

/*
 * The acknowledgement will not come (modem reset, unplugged, AT+CSMS=0):
 * the network never got its RP-ACK, so it keeps the PDU.
 */
void
smsc_ack_drop(struct modem *m, const char *why)
{
	struct delivery	*d = m->unacked;

	if (m->ack == ACK_NONE || d == NULL)
		return;
	modem_urc_unsend(m);
	smsc_ack_set(m, ACK_NONE);
	log_info("sim: modem%d: %s: unacknowledged %s kept by the network",
	    m->idx, why, d->is_report ? "status report" : "message");
	smsc_requeue(d);
	smsc_release(m);
}

/*
 * No AT+CNMA in time (27.005 3.4.4): the network keeps the PDU and the
 * modem stops routing to the TE, CNMI <mt> and <ds> back to 0.
 */
void
smsc_ack_timeout(int fd, short ev, void *arg)
{
	struct modem	*m = arg;
	struct delivery	*d = m->unacked;

	if (m->ack != ACK_WAITING || d == NULL)
		return;
	modem_urc_unsend(m);
	smsc_ack_set(m, ACK_NONE);
	m->cnmi[1] = 0;
	m->cnmi[3] = 0;
	log_warnx("sim: modem%d: no +CNMA within %d s: the network keeps the "
	    "%s; CNMI mt and ds set to 0", m->idx, SIM_CNMA_SEC,
	    d->is_report ? "status report" : "message");
	smsc_requeue(d);
	smsc_release(m);
}

static void
smsc_inbox_add(struct phone *p, const char *from, const char *text,
    int parts)
{
	struct inmsg	*im;

	if ((im = calloc(1, sizeof(*im))) == NULL ||
	    (im->text = strdup(text)) == NULL) {
		free(im);
		log_warnx("sim: phone %s: out of memory", p->msisdn);
		return;
	}
	snprintf(im->from, sizeof(im->from), "%s", from);
	im->time = time(NULL);
	im->parts = parts;
	TAILQ_INSERT_TAIL(&p->inbox, im, entry);
	p->received++;
	sim->st_to_phones++;
	log_info("sim: phone %s received from %s (%d part(s))", p->msisdn,
	    from, parts);
}

/* A part for a phone: straight to its inbox, or reassembled first. */
static void
smsc_to_phone(struct modem *m, const struct pdu_msg *msg)
{
	struct phone	*p;
	struct reasm	*r, *rn;
	size_t		 len;
	char		*text;
	int		 i;
	time_t		 now = time(NULL);

	if ((p = smsc_phone(msg->number, 1)) == NULL)
		return;
	if (msg->concat_ref == -1 || msg->concat_total <= 1) {
		smsc_inbox_add(p, m->msisdn, msg->text, 1);
		return;
	}
	if (msg->concat_total > PDU_PARTS_MAX || msg->concat_part < 1 ||
	    msg->concat_part > msg->concat_total) {
		log_warnx("sim: phone %s: bad part %d/%d from %s", p->msisdn,
		    msg->concat_part, msg->concat_total, m->msisdn);
		return;
	}
	for (r = TAILQ_FIRST(&p->partial); r != NULL; r = rn) {
		rn = TAILQ_NEXT(r, entry);
		if (now - r->first > SIM_REASM_SEC) {
			log_warnx("sim: phone %s: gave up on message %d from "
			    "%s (%d of %d parts)", p->msisdn, r->ref, r->from,
			    r->have, r->total);
			TAILQ_REMOVE(&p->partial, r, entry);
			for (i = 0; i <= PDU_PARTS_MAX; i++)
				free(r->part[i]);
			free(r);
		}
	}
	TAILQ_FOREACH(r, &p->partial, entry)
		if (strcmp(r->from, m->msisdn) == 0 &&
		    r->ref == msg->concat_ref && r->total == msg->concat_total)
			break;
	if (r == NULL) {
		if ((r = calloc(1, sizeof(*r))) == NULL)
			return;
		snprintf(r->from, sizeof(r->from), "%s", m->msisdn);
		r->ref = msg->concat_ref;
		r->total = msg->concat_total;
		r->first = now;
		TAILQ_INSERT_TAIL(&p->partial, r, entry);
	}
	if (r->part[msg->concat_part] != NULL)
		return;		/* a duplicate part */
	if ((r->part[msg->concat_part] = strdup(msg->text)) == NULL)
		return;
	if (++r->have < r->total)
		return;
	for (len = 1, i = 1; i <= r->total; i++)
		len += strlen(r->part[i]);
	if ((text = calloc(1, len)) != NULL) {
		for (i = 1; i <= r->total; i++)
			strcat(text, r->part[i]);
		smsc_inbox_add(p, r->from, text, r->total);
		free(text);
	}
	TAILQ_REMOVE(&p->partial, r, entry);
	for (i = 0; i <= PDU_PARTS_MAX; i++)
		free(r->part[i]);
	free(r);
}

/*
 * A modem submitted a PDU (AT+CMGS).  Returns 0 with the message
 * reference the network gave it, or a +CMS ERROR code.
 */
int
smsc_submit(struct modem *m, const char *hex, int *mr)
{
	struct pdu_msg	 msg, fwd;
	struct pdu_part	 part;
	struct modem	*dst;
	char		 to[32];
	int		 day = (int)(time(NULL) / 86400);

	if (pdu_decode(hex, 1, &msg) == -1 || msg.type != PDU_SUBMIT)
		return (304);
	if (m->cfun != 1 || m->fault.noreg)
		return (331);		/* no network service */
	if (m->fault.cms_error)
		return (m->fault.cms_error);
	if (day != m->sent_day) {
		m->sent_day = day;
		m->sent_today = 0;
	}
	if (sim->timing.daily_cap > 0 &&
	    m->sent_today >= sim->timing.daily_cap) {
		log_info("sim: modem%d: operator daily cap reached", m->idx);
		return (42);	/* congestion: the operator refuses */
	}
	if (m->balance < SIM_SMS_PRICE)
		return (21);	/* short message transfer rejected */
	m->balance -= SIM_SMS_PRICE;
	m->sent_today++;
	*mr = m->mr;
	m->mr = (m->mr + 1) & 0xff;
	sim->st_submitted++;
	smsc_norm(msg.number, to, sizeof(to));
	snprintf(msg.number, sizeof(msg.number), "%s", to);
	log_info("sim: modem%d (%s) submits to %s, mr %d, part %d/%d",
	    m->idx, m->msisdn, to, *mr, msg.concat_part, msg.concat_total);
	if ((dst = modem_find(to)) != NULL && strlen(to) > 6) {
		fwd = msg;
		snprintf(fwd.number, sizeof(fwd.number), "%s", m->msisdn);
		if (pdu_encode_deliver_part(dst->op->smsc, &fwd, time(NULL),
		    &part) == 0)
			smsc_queue(dst, &part, 0, sim->timing.deliver_ms);
	} else {
		if (sim->net_lose > 0 &&
		    (int)(sim_random() % 1000) < sim->net_lose) {
			sim->st_lost++;
			log_info("sim: network lost a message from modem%d",
			    m->idx);
		} else
			smsc_to_phone(m, &msg);
	}
	if (msg.srr && pdu_encode_status_report(m->op->smsc, *mr, to,
	    time(NULL), time(NULL), 0, &part) == 0)
		smsc_queue(m, &part, 1, sim->timing.deliver_ms);
	return (0);
}
