/*
 * Timing profiles and faults, on demand (tallysim ctl fault ...) and at
 * random from the seeded generator.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "sim.h"

#define CHAOS_PERIOD_MS	10000	/* simulated ms between random faults */

/* A fault that undoes itself later. */
struct fault_undo {
	int		 modem;
	char		 kind[16];
};

static void	fault_undo_cb(int, short, void *);
static void	fault_chaos(int, short, void *);
static int	fault_onoff(int, char **, int *);
static void	fault_later(struct modem *, const char *, int);

int
fault_timing_set(const char *profile, double scale)
{
	struct timing	*t = &sim->timing;

	if (scale <= 0)
		return (-1);
	if (strcmp(profile, "instant") == 0) {
		memset(t, 0, sizeof(*t));
		t->profile = PROFILE_INSTANT;
	} else if (strcmp(profile, "realistic") == 0) {
		t->profile = PROFILE_REALISTIC;
		t->send_ms = 3000;
		t->read_ms = 40;
		t->delete_ms = 30;
		t->deliver_ms = 2000;
		t->daily_cap = SIM_DAILY_CAP;
	} else
		return (-1);
	t->scale = scale;
	log_info("sim: timing %s x%g", profile, scale);
	return (0);
}

static int
fault_onoff(int argc, char **argv, int *v)
{
	if (argc == 0 || strcmp(argv[0], "on") == 0)
		*v = 1;
	else if (strcmp(argv[0], "off") == 0)
		*v = 0;
	else
		return (-1);
	return (0);
}

/* Plug a modem back in: a new pty behind the same link. */
int
fault_replug(struct modem *m)
{
	if (m->state == MODEM_UP)
		return (0);
	if (modem_open_pty(m) == -1)
		return (-1);
	smsc_kick();
	return (0);
}

static void
fault_undo_cb(int fd, short ev, void *arg)
{
	struct fault_undo	*u = arg;
	struct modem		*m = &sim->modems[u->modem];

	log_info("sim: modem%d: fault %s over", m->idx, u->kind);
	if (strcmp(u->kind, "unplug") == 0)
		fault_replug(m);
	else if (strcmp(u->kind, "mute") == 0)
		m->fault.mute = 0;
	else if (strcmp(u->kind, "garbage") == 0)
		m->fault.garbage = 0;
	else if (strcmp(u->kind, "cms") == 0)
		m->fault.cms_error = 0;
	else if (strcmp(u->kind, "noreg") == 0) {
		m->fault.noreg = 0;
		smsc_kick();
	} else if (strcmp(u->kind, "signal") == 0)
		m->fault.rssi = -1;
	else if (strcmp(u->kind, "simfull") == 0) {
		m->fault.simfull = 0;
		smsc_kick();
	}
	free(u);
}

/* Undo fault `kind' on m after ms of simulated time. */
static void
fault_later(struct modem *m, const char *kind, int ms)
{
	struct fault_undo	*u;
	struct timeval		 tv;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return;
	u->modem = m->idx;
	snprintf(u->kind, sizeof(u->kind), "%s", kind);
	ms = sim->timing.profile == PROFILE_INSTANT ? ms :
	    (int)(ms / sim->timing.scale);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_base_once(sim->base, -1, EV_TIMEOUT, fault_undo_cb, u, &tv);
}

/*
 * fault --modem N KIND [ARGS]:
 *   unplug [SECONDS]   hang up (replugged after SECONDS if given)
 *   replug             plug back in
 *   mute [on|off]      read commands, never answer
 *   garbage [on|off]   answer noise
 *   cms CODE|off       AT+CMGS fails with +CMS ERROR: CODE
 *   simfull [on|off]   SIM storage full: the network holds messages
 *   noreg [0|3|off]    lost registration (CREG stat 0 or 3)
 *   signal RSSI|off    CSQ reports RSSI (0..31)
 *   balance RP         the SIM's airtime is RP rupiah (a top-up, or
 *                      credit running out): the balance USSD says so
 *   clear              every fault off
 */
int
fault_apply(struct modem *m, const char *kind, int argc, char **argv,
    char *err, size_t errlen)
{
	long	 rp;
	int	 v = 0;
	char	*ep;

	if (strcmp(kind, "unplug") == 0) {
		modem_close_pty(m);
		if (argc > 0 && (v = strtol(argv[0], &ep, 10)) > 0 &&
		    *ep == '\0')
			fault_later(m, "unplug", v * 1000);
	} else if (strcmp(kind, "replug") == 0) {
		if (fault_replug(m) == -1) {
			snprintf(err, errlen, "cannot replug modem%d", m->idx);
			return (-1);
		}
	} else if (strcmp(kind, "mute") == 0) {
		if (fault_onoff(argc, argv, &m->fault.mute) == -1)
			goto usage;
		m->linelen = 0;
	} else if (strcmp(kind, "garbage") == 0) {
		if (fault_onoff(argc, argv, &m->fault.garbage) == -1)
			goto usage;
	} else if (strcmp(kind, "cms") == 0) {
		if (argc < 1)
			goto usage;
		if (strcmp(argv[0], "off") == 0)
			m->fault.cms_error = 0;
		else if ((v = strtol(argv[0], &ep, 10)) > 0 && v < 512 &&
		    *ep == '\0')
			m->fault.cms_error = v;
		else
			goto usage;
	} else if (strcmp(kind, "simfull") == 0) {
		if (fault_onoff(argc, argv, &m->fault.simfull) == -1)
			goto usage;
		smsc_kick();
	} else if (strcmp(kind, "noreg") == 0) {
		if (argc == 0 || strcmp(argv[0], "0") == 0)
			m->fault.noreg = 1;
		else if (strcmp(argv[0], "3") == 0)
			m->fault.noreg = 3;
		else if (strcmp(argv[0], "off") == 0)
			m->fault.noreg = 0;
		else
			goto usage;
		smsc_kick();
	} else if (strcmp(kind, "signal") == 0) {
		if (argc < 1)
			goto usage;
		if (strcmp(argv[0], "off") == 0)
			m->fault.rssi = -1;
		else if ((v = strtol(argv[0], &ep, 10)) >= 0 && v <= 31 &&
		    *ep == '\0')
			m->fault.rssi = v;
		else
			goto usage;
	} else if (strcmp(kind, "balance") == 0) {
		if (argc < 1 || (rp = strtol(argv[0], &ep, 10)) < 0 ||
		    *ep != '\0' || ep == argv[0] || rp > 100000000)
			goto usage;
		m->balance = rp;
	} else if (strcmp(kind, "clear") == 0) {
		memset(&m->fault, 0, sizeof(m->fault));
		m->fault.rssi = -1;
		fault_replug(m);
		smsc_kick();
	} else
		goto usage;
	log_info("sim: modem%d: fault %s%s%s", m->idx, kind,
	    argc ? " " : "", argc ? argv[0] : "");
	return (0);
usage:
	snprintf(err, errlen, "fault %s: bad arguments (see docs/sim.md)",
	    kind);
	return (-1);
}

/*
 * fault --net KIND [ARGS]:
 *   lose PERMILLE, dup PERMILLE, reorder PERMILLE, delay MS,
 *   clear, random on|off
 */
int
fault_net(const char *kind, int argc, char **argv, char *err, size_t errlen)
{
	long	 v = 0;
	char	*ep = NULL;

	if (strcmp(kind, "clear") == 0) {
		sim->net_lose = sim->net_dup = sim->net_reorder = 0;
		sim->net_delay_ms = 0;
		return (0);
	}
	if (strcmp(kind, "random") == 0) {
		if (fault_onoff(argc, argv, &sim->random_faults) == -1)
			goto usage;
		fault_random_start();
		return (0);
	}
	if (argc < 1 || (v = strtol(argv[0], &ep, 10)) < 0 || *ep != '\0')
		goto usage;
	if (strcmp(kind, "delay") == 0) {
		sim->net_delay_ms = v;
		return (0);
	}
	if (v > 1000)
		goto usage;
	if (strcmp(kind, "lose") == 0)
		sim->net_lose = v;
	else if (strcmp(kind, "dup") == 0)
		sim->net_dup = v;
	else if (strcmp(kind, "reorder") == 0)
		sim->net_reorder = v;
	else
		goto usage;
	log_info("sim: network fault %s %ld", kind, v);
	return (0);
usage:
	snprintf(err, errlen, "fault --net %s: bad arguments (see "
	    "docs/sim.md)", kind);
	return (-1);
}

/* Random faults: one every CHAOS_PERIOD_MS, drawn from the seed. */
static void
fault_chaos(int fd, short ev, void *arg)
{
	struct modem	*m;
	char		 buf[16], err[128];
	char		*av[1] = { buf };

	if (!sim->random_faults)
		return;
	m = &sim->modems[sim_random() % sim->nmodems];
	switch (sim_random() % 6) {
	case 0:
		snprintf(buf, sizeof(buf), "5");
		fault_apply(m, "unplug", 1, av, err, sizeof(err));
		break;
	case 1:
		fault_apply(m, "mute", 0, av, err, sizeof(err));
		fault_later(m, "mute", 5000);
		break;
	case 2:
		snprintf(buf, sizeof(buf), "%d", sim_random() % 2 ? 38 : 330);
		fault_apply(m, "cms", 1, av, err, sizeof(err));
		fault_later(m, "cms", 15000);
		break;
	case 3:
		fault_apply(m, "noreg", 0, av, err, sizeof(err));
		fault_later(m, "noreg", 10000);
		break;
	case 4:
		snprintf(buf, sizeof(buf), "%u", sim_random() % 6);
		fault_apply(m, "signal", 1, av, err, sizeof(err));
		fault_later(m, "signal", 20000);
		break;
	default:
		fault_apply(m, "garbage", 0, av, err, sizeof(err));
		fault_later(m, "garbage", 2000);
		break;
	}
	sim_after(sim->ev_chaos, sim->timing.profile == PROFILE_INSTANT ?
	    CHAOS_PERIOD_MS : (int)(CHAOS_PERIOD_MS / sim->timing.scale));
}

void
fault_random_start(void)
{
	if (sim->ev_chaos == NULL)
		sim->ev_chaos = evtimer_new(sim->base, fault_chaos, NULL);
	if (sim->random_faults && !evtimer_pending(sim->ev_chaos, NULL))
		sim_after(sim->ev_chaos, CHAOS_PERIOD_MS);
}
