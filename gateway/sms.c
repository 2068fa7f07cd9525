/*
 * sms: the SMS channel of the intake. A worker's SMS frame is first
 * held against the SIM slots of committed messages (a crash re-read is
 * only deleted again, never handled twice), long SMS are reassembled
 * (parts.c), and each whole message goes to the receive stage. Its SIM
 * slots are written in the message's own transaction and deleted only
 * after the commit.
 */
#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "daemon.h"

/* What sms_rows needs of a reassembled message. */
struct sms_slots {
	const char		*modem;
	const struct parts_done	*d;
};

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
		bank_delete(m, d->locations[i]);
}

/*
 * One whole message (all its parts, or what came of them) to receive;
 * raw says why it is an undecodable PDU in hex (NULL: a message).
 */
static void
sms_receive(struct modem *m, const struct parts_done *d, const char *raw)
{
	struct inbound		 in;
	struct received		 out;
	struct sms_slots	 slots;

	memset(&in, 0, sizeof(in));
	slots.modem = m != NULL ? m->conf.name : d->modem;
	slots.d = d;
	in.channel = CHANNEL_SMS;
	in.sender = d->sender;
	in.text = d->text;
	in.arrived = time(NULL);
	in.via = slots.modem;
	in.via_number = m != NULL ? m->conf.number : "";
	in.ref = d->smsc_time;
	in.parts = d->nparts;
	in.undecodable = raw;
	in.rows = sms_rows;
	in.arg = &slots;
	if (receive_item(&in, &out) == -1) {
		log_warnx("msg: from %s on %s: not stored; left on the SIM "
		    "for the next sweep", d->sender, slots.modem);
		return;
	}
	sms_delete_parts(m, d);
}

/* The worker answered a DELETE: 0 done, -2 the slot holds another one. */
void
sms_deleted(struct modem *m, int location, int code)
{
	if (code == 0 || code == -2)
		store_slot_done(gw->store, m->conf.name, location);
}

/*
 * 1 if this SMS is a part of a committed message still on the SIM:
 * delete it again. The slot's sender and part identity (parts_id) must
 * both match: a slot freed before a crash may hold a new part of the
 * same officer, sent within the same second.
 */
static int
sms_slot_again(struct modem *m, const struct wire_msg *w)
{
	char		 sender[WIRE_NUMBER_MAX], held[PARTS_ID_MAX];
	char		 part[PARTS_ID_MAX];
	int64_t		 id;
	int		 multipart;

	if (!(w->flags & WIRE_F_STORED) || w->location <= 0 ||
	    store_slot_get(gw->store, m->conf.name, w->location, &id, sender,
	    sizeof(sender), held, sizeof(held), &multipart) != 1)
		return (0);
	parts_id(w, part, sizeof(part));
	if (strcmp(sender, w->number) != 0 || (!multipart &&
	    !parts_id_same(held, part))) {
		/* Another message took the slot: ours was deleted. */
		store_slot_done(gw->store, m->conf.name, w->location);
		return (0);
	}
	log_debug("msg %lld: still on %s slot %d: deleting again",
	    (long long)id, m->conf.name, w->location);
	bank_delete(m, w->location);
	return (1);
}

/* A worker's SMS frame: one part of a message, or a whole one. */
void
sms_on_sms(struct modem *m, const struct wire_msg *w)
{
	struct parts_done	*d;

	if (sms_slot_again(m, w))
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
