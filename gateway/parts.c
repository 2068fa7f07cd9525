/*
 * parts: reassembly of concatenated (long) SMS.
 *
 * libGammu's own linking joins parts across senders, so the gateway
 * does its own: a long SMS is keyed on (modem, sender, reference,
 * total), the parts are held until all 1..total are in, and then
 * handed on joined in part order with every SIM location to delete.
 * Parts that never complete are handed on by parts_expire after the
 * multipart timeout, joined with nothing for the gaps: nothing is
 * dropped, the caller stores what came.
 *
 * Memory is bounded: at most PARTS_MAX entries are held waiting. When
 * a part needs a new entry and the table is full, the oldest waiting
 * entry is marked due: the caller's next parts_expire call (its
 * periodic loop) returns it whatever the timeout, as an incomplete
 * message like any expired one. Entries marked due but not yet
 * collected may take the table over PARTS_MAX; once they are
 * PARTS_SLACK more (a burst within one tick, or a caller that never
 * collects), a part that needs a new entry is handed on at once,
 * alone, like a single SMS: its text is kept, only not joined.
 */

#include <sys/types.h>
#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gw.h"
#include "log.h"

#define PARTS_MAX_PARTS	16	/* parts of one long SMS we reassemble */
#define PARTS_MAX	4096	/* entries held waiting */
#define PARTS_SLACK	(PARTS_MAX / 16)	/* due, not yet collected */
#define PARTS_LOC_MAX	(sizeof(((struct parts_done *)0)->locations) / \
			    sizeof(int))

struct parts_entry {
	TAILQ_ENTRY(parts_entry) entry;
	char		 modem[GW_MODEM_NAME_MAX];
	char		 sender[WIRE_NUMBER_MAX];
	int32_t		 ref;
	int		 total;
	char		*text[PARTS_MAX_PARTS];	/* [part - 1], NULL missing */
	int		 nparts;
	char		 time[WIRE_TIME_MAX];	/* of the lowest part held */
	int		 time_part;
	int		 loc[PARTS_LOC_MAX];
	char		 loc_id[PARTS_LOC_MAX][WIRE_IDENT_MAX];
	int		 nloc;
	time_t		 first_seen;
	int		 due;		/* evicted: expire it now */
};
TAILQ_HEAD(parts_list, parts_entry);

struct parts {
	struct parts_list	 list;		/* oldest first */
	size_t			 n;
	size_t			 ndue;
};

struct parts *
parts_new(void)
{
	struct parts	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		log_warn("parts: calloc");
		return (NULL);
	}
	TAILQ_INIT(&p->list);
	return (p);
}

static void
parts_remove(struct parts *p, struct parts_entry *e)
{
	int	 i;

	TAILQ_REMOVE(&p->list, e, entry);
	p->n--;
	if (e->due)
		p->ndue--;
	for (i = 0; i < PARTS_MAX_PARTS; i++)
		free(e->text[i]);
	free(e);
}

void
parts_free(struct parts *p)
{
	struct parts_entry	*e;

	if (p == NULL)
		return;
	while ((e = TAILQ_FIRST(&p->list)) != NULL)
		parts_remove(p, e);
	free(p);
}

size_t
parts_pending(const struct parts *p)
{
	return (p == NULL ? 0 : p->n);
}

/* 1 if a long SMS of sender waits for more parts: more is on its way. */
int
parts_from(const struct parts *p, const char *sender)
{
	const struct parts_entry	*e;

	if (p == NULL)
		return (0);
	TAILQ_FOREACH(e, &p->list, entry)
		if (strcmp(e->sender, sender) == 0)
			return (1);
	return (0);
}

/* Append s to the joined text, cut on a UTF-8 boundary if it is full. */
static void
parts_append(struct parts_done *d, size_t *len, const char *s)
{
	size_t	 n = strlen(s), room = sizeof(d->text) - 1 - *len;

	if (n > room) {
		n = room;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
		log_warnx("parts: %s from %s: text cut at %zu bytes",
		    d->modem, d->sender, sizeof(d->text) - 1);
	}
	memcpy(d->text + *len, s, n);
	*len += n;
	d->text[*len] = '\0';
}

/* Only a part that is on the SIM has a location to delete. */
static void
parts_loc_add(struct parts_entry *e, const struct wire_msg *msg)
{
	int	 i;

	if ((msg->flags & WIRE_F_STORED) == 0 || msg->location == 0)
		return;
	for (i = 0; i < e->nloc; i++)
		if (e->loc[i] == msg->location)
			return;
	if ((size_t)e->nloc >= PARTS_LOC_MAX) {
		log_warnx("parts: %s from %s ref %d: more than %zu SIM copies; "
		    "location %d stays until the next sweep", e->modem,
		    e->sender, e->ref, PARTS_LOC_MAX, msg->location);
		return;
	}
	wire_ident(msg, e->loc_id[e->nloc], sizeof(e->loc_id[0]));
	e->loc[e->nloc++] = msg->location;
}

static void
parts_fill(const struct parts_entry *e, struct parts_done *d)
{
	size_t	 len = 0;
	int	 i;

	memset(d, 0, sizeof(*d));
	memcpy(d->modem, e->modem, sizeof(d->modem));
	memcpy(d->sender, e->sender, sizeof(d->sender));
	memcpy(d->smsc_time, e->time, sizeof(d->smsc_time));
	for (i = 0; i < e->total; i++)
		if (e->text[i] != NULL)
			parts_append(d, &len, e->text[i]);
	d->nparts = e->nparts;
	d->total = e->total;
	memcpy(d->locations, e->loc, sizeof(d->locations));
	memcpy(d->ids, e->loc_id, sizeof(d->ids));
	d->nlocations = e->nloc;
	d->first_seen = e->first_seen;
}

/* A message that is not (or cannot be) reassembled goes on alone. */
static void
parts_single(const char *modem, const struct wire_msg *msg, time_t now,
    struct parts_done *d)
{
	size_t	 len = 0;

	memset(d, 0, sizeof(*d));
	snprintf(d->modem, sizeof(d->modem), "%s", modem);
	snprintf(d->sender, sizeof(d->sender), "%s", msg->number);
	snprintf(d->smsc_time, sizeof(d->smsc_time), "%s", msg->time);
	parts_append(d, &len, msg->text);
	d->nparts = 1;
	d->total = msg->total > 1 ? msg->total : 1;
	if ((msg->flags & WIRE_F_STORED) && msg->location != 0) {
		wire_ident(msg, d->ids[0], sizeof(d->ids[0]));
		d->locations[d->nlocations++] = msg->location;
	}
	d->first_seen = now;
}

static struct parts_entry *
parts_find(struct parts *p, const char *modem, const struct wire_msg *msg)
{
	struct parts_entry	*e;

	TAILQ_FOREACH(e, &p->list, entry)
		if (e->ref == msg->ref && e->total == msg->total &&
		    strcmp(e->sender, msg->number) == 0 &&
		    strcmp(e->modem, modem) == 0)
			return (e);
	return (NULL);
}

/* The table is full: the oldest waiting entry goes out early. */
static void
parts_evict(struct parts *p)
{
	struct parts_entry	*e;

	TAILQ_FOREACH(e, &p->list, entry)
		if (!e->due) {
			e->due = 1;
			p->ndue++;
			log_warnx("parts: %zu long SMS waiting; %s from %s ref "
			    "%d (%d/%d parts) goes on incomplete", p->n,
			    e->modem, e->sender, e->ref, e->nparts, e->total);
			return;
		}
}

/*
 * 1: a whole message is in *done (a single SMS, or the last missing
 * part came); 0: the part is held (or was a copy already held);
 * -1: out of memory, nothing held.
 */
int
parts_add(struct parts *p, const char *modem, const struct wire_msg *msg,
    time_t now, struct parts_done *done)
{
	struct parts_entry	*e;
	char			 mname[GW_MODEM_NAME_MAX];
	int			 i;

	if (p == NULL || msg == NULL || done == NULL)
		return (-1);
	snprintf(mname, sizeof(mname), "%s", modem != NULL ? modem : "");
	if (msg->total <= 1) {
		parts_single(mname, msg, now, done);
		return (1);
	}
	if (msg->total > PARTS_MAX_PARTS || msg->part < 1 ||
	    msg->part > msg->total) {
		log_warnx("parts: %s from %s: part %d of %d (ref %d) cannot "
		    "be reassembled; passed on alone", mname, msg->number,
		    msg->part, msg->total, msg->ref);
		parts_single(mname, msg, now, done);
		return (1);
	}
	if ((e = parts_find(p, mname, msg)) == NULL) {
		if (p->n >= PARTS_MAX + PARTS_SLACK) {
			log_warnx("parts: %zu long SMS waiting, none "
			    "collected; part %d/%d from %s passed on alone",
			    p->n, msg->part, msg->total, msg->number);
			parts_single(mname, msg, now, done);
			return (1);
		}
		if (p->n - p->ndue >= PARTS_MAX)
			parts_evict(p);
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			log_warn("parts: calloc");
			return (-1);
		}
		memcpy(e->modem, mname, sizeof(e->modem));
		snprintf(e->sender, sizeof(e->sender), "%s", msg->number);
		e->ref = msg->ref;
		e->total = msg->total;
		e->first_seen = now;
		TAILQ_INSERT_TAIL(&p->list, e, entry);
		p->n++;
	}
	i = msg->part - 1;
	if (e->text[i] != NULL) {
		/* A second read of the same part: maybe a second SIM copy. */
		parts_loc_add(e, msg);
		return (0);
	}
	if ((e->text[i] = strdup(msg->text)) == NULL) {
		log_warn("parts: strdup");
		if (e->nparts == 0)
			parts_remove(p, e);
		return (-1);
	}
	e->nparts++;
	if (e->time_part == 0 || msg->part < e->time_part) {
		snprintf(e->time, sizeof(e->time), "%s", msg->time);
		e->time_part = msg->part;
	}
	parts_loc_add(e, msg);
	log_debug("parts: %s from %s ref %d: part %d/%d (%d held)", mname,
	    msg->number, msg->ref, msg->part, msg->total, e->nparts);
	if (e->nparts < e->total)
		return (0);
	parts_fill(e, done);
	parts_remove(p, e);
	return (1);
}

/*
 * 1: *done holds one entry that waited timeout seconds or more (or was
 * marked due), with the parts that came; 0: none. The caller loops.
 */
int
parts_expire(struct parts *p, time_t now, int timeout, struct parts_done *done)
{
	struct parts_entry	*e;

	if (p == NULL || done == NULL)
		return (0);
	if (timeout < 0)
		timeout = 0;
	TAILQ_FOREACH(e, &p->list, entry)
		if (e->due || now - e->first_seen >= timeout) {
			log_info("parts: %s from %s ref %d: %d of %d parts "
			    "after %lld s; passed on incomplete", e->modem,
			    e->sender, e->ref, e->nparts, e->total,
			    (long long)(now - e->first_seen));
			parts_fill(e, done);
			parts_remove(p, e);
			return (1);
		}
	return (0);
}
