/*
 * sms: the SMS channel of the intake. A worker's SMS frame is first
 * held against the SIM slots of committed messages (a crash re-read is
 * only deleted again, never handled twice), long SMS are reassembled
 * (parts.c), and each whole message goes to the receive stage. Its SIM
 * slots are written in the message's own transaction and deleted only
 * after the commit. The whole messages of one turn of the loop go to
 * the receive stage together, at the turn's end: one commit for all.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "log.h"
#include "daemon.h"

/* What sms_rows needs of a reassembled message. */
struct sms_slots {
	const char		*modem;
	const struct parts_done	*d;
};

/* A whole message waiting for the end of the loop turn. */
struct sms_item {
	TAILQ_ENTRY(sms_item)	 entry;
	char			 number[WIRE_NUMBER_MAX];	/* our modem's */
	time_t			 arrived;
	int			 raw;		/* an undecodable PDU */
	char			 why[WIRE_INFO_MAX];	/* if raw: why */
	struct parts_done	 d;
};
TAILQ_HEAD(sms_items, sms_item);

static struct sms_items	 sms_queue = TAILQ_HEAD_INITIALIZER(sms_queue);
static size_t		 sms_nqueued;
static struct event	*sms_flush_ev;

/* In the message's transaction: the SIM slots it occupies. */
static int
sms_rows(void *arg, const struct received *r)
{
	const struct sms_slots	*s = arg;
	int			 i;

	for (i = 0; i < s->d->nlocations; i++)
		if (s->d->locations[i] > 0 && store_slot_add(gw->store,
		    s->modem, s->d->locations[i], r->id, s->d->ids[i]) == -1)
			return (-1);
	return (0);
}

/*
 * Committed messages' SIM slots are in the store (sim_slots) until the
 * worker confirms their DELETE: a sweep that reads one again, even
 * after a crash, sees the same message and only deletes it again.
 */
static void
sms_delete_parts(struct modem *m, const struct parts_done *d)
{
	int	 i;

	if (m == NULL)
		return;
	for (i = 0; i < d->nlocations; i++)
		bank_delete(m, d->locations[i], d->sender, d->ids[i]);
}

/*
 * The arrays of one loop turn's batch, kept from turn to turn: they
 * grow to the largest turn seen, so a turn allocates nothing.
 */
static struct {
	struct inbound		*in;
	struct received		*out;
	struct sms_slots	*slots;
	struct sms_item		**items;
	int			*rc;
	size_t			 max;
} sms_turn;

/* One of sms_turn's arrays (*p) grown to n elements of size bytes. */
static int
sms_grow(void **p, size_t n, size_t size)
{
	void	*q;

	if ((q = reallocarray(*p, n, size)) == NULL)
		return (-1);
	*p = q;
	return (0);
}

/* Room for n messages in sms_turn; -1 (logged) if there is none. */
static int
sms_turn_room(size_t n)
{
	if (n <= sms_turn.max)
		return (0);
	n = n < 2 * sms_turn.max ? 2 * sms_turn.max : n;
	if (sms_grow((void **)&sms_turn.in, n, sizeof(*sms_turn.in)) == -1 ||
	    sms_grow((void **)&sms_turn.out, n, sizeof(*sms_turn.out)) == -1 ||
	    sms_grow((void **)&sms_turn.slots, n,
	    sizeof(*sms_turn.slots)) == -1 ||
	    sms_grow((void **)&sms_turn.items, n,
	    sizeof(*sms_turn.items)) == -1 ||
	    sms_grow((void **)&sms_turn.rc, n, sizeof(*sms_turn.rc)) == -1) {
		log_warn("sms: reallocarray");	/* the queue waits */
		return (-1);
	}
	sms_turn.max = n;
	return (0);
}

/*
 * The messages of this loop turn to the receive stage, in one
 * transaction (receive_batch): only after its commit are their SIM
 * slots deleted, each committed one's; one not stored stays on the
 * SIM for the next sweep.
 */
static void
sms_flush(void)
{
	struct inbound		*in;
	struct sms_item		*it;
	size_t			 n = sms_nqueued, i;

	if (n == 0 || sms_turn_room(n) == -1)
		return;
	i = 0;
	TAILQ_FOREACH(it, &sms_queue, entry) {
		sms_turn.items[i] = it;
		sms_turn.slots[i].modem = it->d.modem;
		sms_turn.slots[i].d = &it->d;
		in = &sms_turn.in[i];
		memset(in, 0, sizeof(*in));
		in->channel = CHANNEL_SMS;
		in->sender = it->d.sender;
		in->text = it->d.text;
		in->arrived = it->arrived;
		in->via = it->d.modem;
		in->via_number = it->number;
		in->ref = it->d.smsc_time;
		in->parts = it->d.nparts;
		in->undecodable = it->raw ? it->why : NULL;
		in->rows = sms_rows;
		in->arg = &sms_turn.slots[i];
		i++;
	}
	receive_batch(sms_turn.in, sms_turn.out, sms_turn.rc, n);
	for (i = 0; i < n; i++) {
		it = sms_turn.items[i];
		if (sms_turn.rc[i] == 0)
			sms_delete_parts(bank_find(it->d.modem), &it->d);
		else
			log_warnx("msg: from %s on %s: not stored; left on the "
			    "SIM for the next sweep", it->d.sender,
			    it->d.modem);
		TAILQ_REMOVE(&sms_queue, it, entry);
		free(it);
	}
	sms_nqueued = 0;
}

static void
sms_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	sms_flush();
}

/*
 * One whole message (all its parts, or what came of them) to receive,
 * with the others of this loop turn (sms_flush, once the turn's frames
 * are read); raw says why it is an undecodable PDU in hex (NULL: a
 * message).
 */
static void
sms_receive(struct modem *m, const struct parts_done *d, const char *raw)
{
	struct sms_item	*it;

	if ((it = calloc(1, sizeof(*it))) == NULL) {
		log_warn("msg: from %s: left on the SIM for the next sweep",
		    d->sender);
		return;
	}
	it->d = *d;
	if (m != NULL)
		snprintf(it->d.modem, sizeof(it->d.modem), "%s", m->conf.name);
	snprintf(it->number, sizeof(it->number), "%s",
	    m != NULL ? m->conf.number : "");
	it->arrived = time(NULL);
	if (raw != NULL) {
		it->raw = 1;
		snprintf(it->why, sizeof(it->why), "%s", raw);
	}
	TAILQ_INSERT_TAIL(&sms_queue, it, entry);
	sms_nqueued++;
	if (sms_flush_ev == NULL && gw->base != NULL)
		sms_flush_ev = event_new(gw->base, -1, 0, sms_flush_cb, NULL);
	if (sms_flush_ev != NULL)
		event_active(sms_flush_ev, EV_TIMEOUT, 0);
	else
		sms_flush();
}

/*
 * 1 if a message waiting for the turn's commit holds this SIM slot with
 * this very part (wire_ident): another one there is new, however the
 * slot was freed.
 */
static int
sms_queued(struct modem *m, const struct wire_msg *w, const char *ident)
{
	struct sms_item	*it;
	int		 i;

	if (w->location <= 0)
		return (0);
	TAILQ_FOREACH(it, &sms_queue, entry) {
		if (strcmp(it->d.modem, m->conf.name) != 0 ||
		    strcmp(it->d.sender, w->number) != 0)
			continue;
		for (i = 0; i < it->d.nlocations; i++)
			if (it->d.locations[i] == w->location &&
			    wire_ident_same(it->d.ids[i], ident))
				return (1);
	}
	return (0);
}

/*
 * The worker answered the DELETE of ident: deleted, or gone (the slot
 * holds another message now). The slot's row goes only if it is still
 * that message's: the slot's next message may be committed already.
 */
void
sms_deleted(struct modem *m, int location, int code, const char *ident)
{
	char	 sender[WIRE_NUMBER_MAX], held[WIRE_IDENT_MAX];
	int64_t	 id;
	int	 multipart;

	if (code != 0 && code != WIRE_CODE_CHANGED)
		return;
	if (ident[0] != '\0' && store_slot_get(gw->store, m->conf.name,
	    location, &id, sender, sizeof(sender), held, sizeof(held),
	    &multipart) == 1 && !multipart && !wire_ident_same(held, ident)) {
		log_debug("modem %s: slot %d: %s gone; the slot's row is "
		    "another message's", m->conf.name, location, ident);
		return;
	}
	store_slot_done(gw->store, m->conf.name, location);
}

/*
 * 1 if this SMS is a part of a committed message still on the SIM:
 * delete it again. The slot's sender and part identity (wire_ident) must
 * both match: a slot freed before a crash may hold a new part of the
 * same officer, sent within the same second.
 */
static int
sms_slot_again(struct modem *m, const struct wire_msg *w, const char *part)
{
	char		 sender[WIRE_NUMBER_MAX], held[WIRE_IDENT_MAX];
	int64_t		 id;
	int		 multipart;

	if (!(w->flags & WIRE_F_STORED) || w->location <= 0 ||
	    store_slot_get(gw->store, m->conf.name, w->location, &id, sender,
	    sizeof(sender), held, sizeof(held), &multipart) != 1)
		return (0);
	if (strcmp(sender, w->number) != 0 || (!multipart &&
	    !wire_ident_same(held, part))) {
		/* Another message took the slot: ours was deleted. */
		store_slot_done(gw->store, m->conf.name, w->location);
		return (0);
	}
	log_debug("msg %lld: still on %s slot %d: deleting again",
	    (long long)id, m->conf.name, w->location);
	bank_delete(m, w->location, w->number, part);
	return (1);
}

/* A worker's SMS frame: one part of a message, or a whole one. */
void
sms_on_sms(struct modem *m, const struct wire_msg *w)
{
	struct parts_done	*d;
	char			 ident[WIRE_IDENT_MAX];

	/* The part's identity, for both checks of a slot read again. */
	wire_ident(w, ident, sizeof(ident));
	if (sms_queued(m, w, ident)) {
		/* Read again before its commit: deleted after it. */
		log_debug("modem %s: slot %d from %s read again before its "
		    "commit", m->conf.name, w->location, w->number);
		return;
	}
	if (sms_slot_again(m, w, ident))
		return;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	if (parts_add(gw->parts, m->conf.name, w, time(NULL), d) == 1)
		sms_receive(m, d, !(w->flags & WIRE_F_RAW) ? NULL :
		    w->info[0] != '\0' ? w->info : "cannot be decoded");
	else
		log_debug("modem %s: part %d/%d ref %d from %s held",
		    m->conf.name, w->part, w->total, w->ref, w->number);
	free(d);
}

/* Parts whose siblings never came are handled as what they are. */
void
sms_expire(time_t now)
{
	struct parts_done	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	while (parts_expire(gw->parts, now, gw->conf.t.multipart_timeout,
	    d) == 1) {
		log_warnx("modem %s: long SMS from %s: %d of %d parts after "
		    "%d s; handling what came", d->modem, d->sender, d->nparts,
		    d->total, gw->conf.t.multipart_timeout);
		sms_receive(bank_find(d->modem), d, NULL);
		memset(d, 0, sizeof(*d));
	}
	free(d);
}
