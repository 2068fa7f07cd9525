/*
 * libFuzzer target: parts.c, the reassembly of long SMS, fed the parts
 * a network (or a broken modem) might deliver: any reference, total
 * and part number, duplicates, parts of several senders and modems
 * interleaved, time passing. A model kept here says what must come
 * out: a part that cannot be joined at once, alone; a set once all its
 * parts are in, joined in part order; an incomplete one when it
 * expires, with the parts that came; a copy of a held part, nothing.
 * Every part given is handed on exactly once: nothing is lost or
 * doubled, and nothing is held at the end.
 *
 * The input is a list of records. A byte with the high bit set lets
 * that many seconds (its low 7 bits) pass and collects what expired;
 * otherwise it starts a part: modem (bit 0), sender (bits 1-2), then
 * reference, total, part number, SIM location (0: delivered directly),
 * text length (low 5 bits) and the text.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"

#define FUZZ_TIMEOUT	30
#define FUZZ_SETS	256
#define FUZZ_PARTS	16

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What the model holds of one long SMS. */
struct fuzz_set {
	int	 used;
	char	 modem[8];
	char	 sender[16];
	int	 ref, total;
	time_t	 first;
	int	 have;
	char	 text[FUZZ_PARTS][40];
	int	 got[FUZZ_PARTS];
};

static struct fuzz_set	 sets[FUZZ_SETS];
static size_t		 handed, given;

static struct fuzz_set *
fuzz_find(const char *modem, const struct wire_msg *m)
{
	int	 i;

	for (i = 0; i < FUZZ_SETS; i++)
		if (sets[i].used && sets[i].ref == m->ref &&
		    sets[i].total == m->total &&
		    strcmp(sets[i].modem, modem) == 0 &&
		    strcmp(sets[i].sender, m->number) == 0)
			return (&sets[i]);
	return (NULL);
}

/* The joined text of a set, as the model knows it. */
static void
fuzz_joined(const struct fuzz_set *s, char *out, size_t len)
{
	int	 i;

	out[0] = '\0';
	for (i = 0; i < s->total; i++)
		if (s->got[i])
			strncat(out, s->text[i], len - strlen(out) - 1);
}

/* One message handed on must be the set the model expects. */
static void
fuzz_check(const struct parts_done *d, const struct fuzz_set *s)
{
	char	 want[FUZZ_PARTS * 40 + 1];

	fuzz_joined(s, want, sizeof(want));
	if (strcmp(d->text, want) != 0 || d->nparts != s->have ||
	    d->total != s->total || strcmp(d->sender, s->sender) != 0 ||
	    strcmp(d->modem, s->modem) != 0 || d->nlocations < 0 ||
	    d->nlocations > 16)
		abort();
	handed += (size_t)d->nparts;
}

static void
fuzz_expire(struct parts *p, time_t now, int all)
{
	struct parts_done	 d;
	struct fuzz_set		*s;
	int			 i, due = 0;

	for (i = 0; i < FUZZ_SETS; i++)
		due += sets[i].used && (all ||
		    now - sets[i].first >= FUZZ_TIMEOUT);
	while (parts_expire(p, now, all ? 0 : FUZZ_TIMEOUT, &d) == 1) {
		/*
		 * d has no reference: the set is the oldest that looks the
		 * same (parts.c hands on the oldest due set first).
		 */
		s = NULL;
		for (i = 0; i < FUZZ_SETS; i++) {
			char	 t[FUZZ_PARTS * 40 + 1];

			if (!sets[i].used || sets[i].total != d.total ||
			    strcmp(sets[i].sender, d.sender) != 0 ||
			    strcmp(sets[i].modem, d.modem) != 0 ||
			    sets[i].have != d.nparts ||
			    (s != NULL && sets[i].first >= s->first))
				continue;
			fuzz_joined(&sets[i], t, sizeof(t));
			if (strcmp(t, d.text) == 0)
				s = &sets[i];
		}
		if (s == NULL || (!all && now - s->first < FUZZ_TIMEOUT))
			abort();
		fuzz_check(&d, s);
		s->used = 0;
		due--;
	}
	if (due != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct parts		*p;
	struct parts_done	 d;
	struct wire_msg		 m;
	struct fuzz_set		*s;
	const char		*modem;
	time_t			 now = 1700000000;
	size_t			 i = 0, n;
	int			 rc, k;

	memset(sets, 0, sizeof(sets));
	handed = given = 0;
	if ((p = parts_new()) == NULL)
		abort();
	while (i < size) {
		if (data[i] & 0x80) {
			now += data[i++] & 0x7f;
			fuzz_expire(p, now, 0);
			continue;
		}
		if (size - i < 7)
			break;
		memset(&m, 0, sizeof(m));
		modem = data[i] & 1 ? "m1" : "m0";
		snprintf(m.number, sizeof(m.number), "+6281%d",
		    (data[i] >> 1) & 3);
		m.ref = data[i + 1];
		m.total = data[i + 2];
		m.part = data[i + 3];
		m.location = data[i + 4];
		if (m.location != 0)
			m.flags |= WIRE_F_STORED;
		n = data[i + 5] & 31;
		i += 6;
		if (n > size - i)
			n = size - i;
		memcpy(m.text, data + i, n);
		m.text[n] = '\0';
		i += n;
		snprintf(m.time, sizeof(m.time), "2024-02-14T10:%02d:%02dZ",
		    (int)(i / 60 % 60), (int)(i % 60));
		rc = parts_add(p, modem, &m, now, &d);
		if (m.total <= 1 || m.total > FUZZ_PARTS || m.part < 1 ||
		    m.part > m.total) {
			/* Cannot be joined: on alone, at once. */
			if (rc != 1 || strcmp(d.text, m.text) != 0 ||
			    d.nparts != 1)
				abort();
			given++;
			handed++;
			continue;
		}
		if ((s = fuzz_find(modem, &m)) == NULL) {
			for (k = 0; k < FUZZ_SETS && sets[k].used; k++)
				;
			if (k == FUZZ_SETS)
				break;		/* the model is full */
			s = &sets[k];
			memset(s, 0, sizeof(*s));
			s->used = 1;
			snprintf(s->modem, sizeof(s->modem), "%s", modem);
			snprintf(s->sender, sizeof(s->sender), "%s", m.number);
			s->ref = m.ref;
			s->total = m.total;
			s->first = now;
		}
		if (s->got[m.part - 1]) {
			/* A copy of a part held: nothing comes out. */
			if (rc != 0)
				abort();
			continue;
		}
		s->got[m.part - 1] = 1;
		snprintf(s->text[m.part - 1], sizeof(s->text[0]), "%s", m.text);
		s->have++;
		given++;
		if (s->have < s->total) {
			if (rc != 0)
				abort();
			continue;
		}
		if (rc != 1)
			abort();
		fuzz_check(&d, s);
		s->used = 0;
	}
	fuzz_expire(p, now + 1000000, 1);
	if (parts_pending(p) != 0 || handed != given)
		abort();
	parts_free(p);
	return (0);
}
