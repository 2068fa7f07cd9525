/*
 * libFuzzer target: the simulator's AT command interpreter (sim/at.c),
 * which reads whatever a program under test writes to a modem's serial
 * port: command lines, several commands per line, quotes, backspaces,
 * ESC and ^Z, PDUs after the AT+CMGS prompt. Two modems on real ptys
 * (modem.c), the SMS centre (smsc.c) and the PDU codec are the real
 * ones; only sim.c's clock, randomness and timers are replaced here (a
 * fixed clock, the instant profile). Each input starts from the same
 * state: both SIMs holding three messages (GSM 7-bit, UCS-2, a status
 * report), the network empty.
 *
 * The first byte sets faults (mute, garbage, a CMS error on sends, SIM
 * full, no registration, weak signal) on modem 0, the second whether
 * modem 1 takes the input instead; the rest is the byte stream, the
 * event loop running after every CR as answers come.
 */

#include <sys/stat.h>
#include <sys/inotify.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "pdu.h"
#include "sim.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct sim		 fuzz_sim;
struct sim			*sim = &fuzz_sim;
static uint32_t			 fuzz_rng = 1;
static const struct operator	 fuzz_op = {
	"Telkomsel", "TSEL", "51010", "+6281100000",
	{ "0811", "0812", NULL },
};

/* sim.c's services, for a process that is only this interpreter. */
uint64_t
sim_now_ms(void)
{
	return (1000000);	/* the line is always quiet long enough */
}

uint64_t
sim_now_us(void)
{
	return (sim_now_ms() * 1000);	/* busy time: the same quiet line */
}

uint32_t
sim_random(void)
{
	fuzz_rng = fuzz_rng * 1103515245 + 12345;
	return (fuzz_rng >> 8);
}

int
sim_scaled_ms(int ms)
{
	return (0);		/* the instant profile */
}

void
sim_after(struct event *ev, int ms)
{
	struct timeval	 tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

static void
fuzz_cleanup(void)
{
	int	 i;

	for (i = 0; i < sim->nmodems; i++)
		unlink(sim->modems[i].link);
	rmdir(sim->dir);
}

static void
fuzz_setup(void)
{
	char	 dir[] = "/tmp/fuzz_at.XXXXXX";
	int	 i;

	log_init("fuzz_at", LOG_TO_STDERR, -1);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(sim->dir, sizeof(sim->dir), "%s", dir);
	if ((sim->base = event_base_new()) == NULL ||
	    (sim->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		abort();
	TAILQ_INIT(&sim->phones);
	TAILQ_INIT(&sim->queue);
	pdu_init();
	sim->nmodems = 2;
	if ((sim->modems = calloc(2, sizeof(*sim->modems))) == NULL)
		abort();
	for (i = 0; i < 2; i++) {
		snprintf(sim->modems[i].msisdn, sizeof(sim->modems[i].msisdn),
		    "+62811000000%d", i);
		sim->modems[i].op = &fuzz_op;
		sim->modems[i].balance = 1000000;
		if (modem_setup(&sim->modems[i], i) == -1)
			abort();
		/* The slave is ours: read what the modem answers. */
		fcntl(sim->modems[i].slave, F_SETFL, O_NONBLOCK);
	}
	atexit(fuzz_cleanup);
}

/* What each input starts from. */
static void
fuzz_reset(void)
{
	struct pdu_part	 p[2];
	struct modem	*m;
	int		 i, k;

	smsc_free();
	TAILQ_INIT(&sim->phones);
	TAILQ_INIT(&sim->queue);
	if (smsc_init() == -1)
		abort();
	for (i = 0; i < sim->nmodems; i++) {
		m = &sim->modems[i];
		event_del(m->ev_busy);
		event_del(m->ev_urc);
		event_del(m->ev_cnma);
		free(m->pending);
		m->pending = NULL;
		if (m->at != AT_IDLE)
			at_set_state(m, AT_IDLE);
		at_reset(m);
		m->linelen = m->pdulen = 0;
		m->opens = 1;
		memset(&m->fault, 0, sizeof(m->fault));
		m->fault.rssi = -1;
		memset(m->slots, 0, m->nslots * sizeof(*m->slots));
		for (k = pdu_encode_deliver(fuzz_op.smsc, "+6281234567",
		    "PPWP 3201012001001 1 255 120 95 36 251 4 43058167",
		    1700000000, 1, p, 2); k > 0; k--)
			modem_sim_store(m, &p[k - 1], 0);
		if (pdu_encode_deliver(fuzz_op.smsc, "+6281234568",
		    "\xd9\xa3\xd9\xa2 \xe2\x9c\x93", 1700000000, 2, p, 2) > 0)
			modem_sim_store(m, &p[0], 1);
		if (pdu_encode_status_report(fuzz_op.smsc, 7, "+6281234567",
		    1700000000, 1700000001, 0, &p[0]) == 0)
			modem_sim_store(m, &p[0], 0);
	}
}

/* Let due timers run, and take what the modems wrote off the line. */
static void
fuzz_settle(void)
{
	char	 buf[4096];
	int	 i, n;

	for (n = 0; n < 4; n++)
		event_base_loop(sim->base, EVLOOP_NONBLOCK);
	for (i = 0; i < sim->nmodems; i++) {
		while (read(sim->modems[i].slave, buf, sizeof(buf)) > 0)
			;
		evbuffer_drain(sim->modems[i].out,
		    evbuffer_get_length(sim->modems[i].out));
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct modem	*m;
	size_t		 i, start;

	if (sim->base == NULL)
		fuzz_setup();
	if (size < 2)
		return (0);
	fuzz_reset();
	m = &sim->modems[data[1] & 1];
	m->fault.mute = data[0] & 0x01;
	m->fault.garbage = (data[0] & 0x02) != 0;
	m->fault.cms_error = data[0] & 0x04 ? 38 : 0;
	m->fault.simfull = (data[0] & 0x08) != 0;
	m->fault.noreg = data[0] & 0x10 ? 3 : 0;
	m->fault.rssi = data[0] & 0x20 ? 2 : -1;
	for (start = i = 2; i < size; i++) {
		if (data[i] != '\r' && i + 1 < size)
			continue;
		at_input(m, data + start, i + 1 - start);
		start = i + 1;
		fuzz_settle();
		if (m->linelen >= sizeof(m->line) ||
		    m->pdulen >= sizeof(m->pdu))
			abort();
	}
	fuzz_settle();
	return (0);
}
