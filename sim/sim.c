/*
 * tallysim: main, arguments, start-up and shutdown.
 *
 *   tallysim run --dir RUNDIR --modems K [--profile P] [--seed N] [-v]
 *   tallysim world --dir RUNDIR --modems K [...]	(world.c)
 *   tallysim ctl --dir RUNDIR COMMAND [ARGS...]
 *   tallysim central --dir RUNDIR [...]		(central.c)
 */

#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "central.h"
#include "log.h"
#include "pdu.h"
#include "sim.h"

struct sim	*sim;

const struct operator operators[] = {
	{ "TELKOMSEL", "TSEL", "51010", "+6281100000",
	    { "0811", "0812", "0813", "0821", "0822", "0852", "0853" } },
	{ "INDOSAT OOREDOO", "IM3", "51001", "+62816124",
	    { "0814", "0815", "0816", "0855", "0856", "0857", "0858" } },
	{ "XL Axiata", "XL", "51011", "+62818445009",
	    { "0817", "0818", "0819", "0859", "0877", "0878" } },
	{ "Smartfren", "SMARTFREN", "51009", "+62881100000",
	    { "0881", "0882", "0883", "0884", "0885", "0886", "0887",
	    "0888", "0889" } },
};
const int	 noperators = sizeof(operators) / sizeof(operators[0]);

static __attribute__((__noreturn__)) void usage(void);
static void	 sim_signal(int, short, void *);
static void	 sim_identity(struct modem *, int);
static void	 sim_luhn(char *, size_t);
static int	 sim_run(int, char **);

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr,
	    "usage: tallysim run --dir RUNDIR --modems K "
	    "[--profile instant|realistic] [--seed N] [--scale X]\n"
	    "              [--balance RP] [--daily-cap N] [-v]\n"
	    "       tallysim world --dir RUNDIR --modems K [run's options] "
	    "[--data DIR]\n"
	    "              [--tallygw PATH]\n"
	    "       tallysim ctl --dir RUNDIR command [args ...]\n"
	    "       tallysim ctl --dir RUNDIR central [--json|--table]\n"
	    "       tallysim central --dir RUNDIR [options]\n"
	    "see docs/sim.md\n");
	exit(2);
}

/* The simulator's clock (CLOCK_MONOTONIC), microseconds. */
uint64_t
sim_now_us(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

uint64_t
sim_now_ms(void)
{
	return (sim_now_us() / 1000);
}

/* splitmix64: small, seedable, the same run for the same seed. */
uint32_t
sim_random(void)
{
	uint64_t	 z;

	z = (sim->rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return ((uint32_t)((z ^ (z >> 31)) >> 32));
}

/* A simulated delay in real milliseconds under the current profile. */
int
sim_scaled_ms(int ms)
{
	if (sim->timing.profile == PROFILE_INSTANT || ms <= 0)
		return (0);
	return ((int)(ms / sim->timing.scale));
}

void
sim_after(struct event *ev, int ms)
{
	struct timeval	 tv;

	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	evtimer_add(ev, &tv);
}

static void
sim_signal(int sig, short ev, void *arg)
{
	log_info("sim: signal %d, shutting down", sig);
	event_base_loopbreak(sim->base);
}

/* Complete a digit string with its Luhn check digit (IMEI, ICCID). */
static void
sim_luhn(char *s, size_t len)
{
	int	 sum = 0, d;
	size_t	 i;

	for (i = 0; i < len; i++) {
		d = s[len - 1 - i] - '0';
		if (i % 2 == 0) {
			d *= 2;
			if (d > 9)
				d -= 9;
		}
		sum += d;
	}
	s[len] = '0' + (10 - sum % 10) % 10;
	s[len + 1] = '\0';
}

/* A modem's SIM and handset identity, drawn from the seeded generator. */
static void
sim_identity(struct modem *m, int idx)
{
	const struct operator	*op;
	const char		*pfx;
	int			 npfx, i, unique;
	char			 num[32];

	do {
		op = &operators[sim_random() % noperators];
		for (npfx = 0; npfx < 10 && op->prefixes[npfx]; npfx++)
			;
		pfx = op->prefixes[sim_random() % npfx];
		snprintf(num, sizeof(num), "+62%s%04u%04u", pfx + 1,
		    sim_random() % 10000, sim_random() % 10000);
		unique = 1;
		for (i = 0; i < idx; i++)
			if (strcmp(sim->modems[i].msisdn, num) == 0)
				unique = 0;
	} while (!unique);
	m->idx = idx;
	m->op = op;
	memcpy(m->msisdn, num, sizeof(m->msisdn));
	snprintf(m->imsi, sizeof(m->imsi), "%s%05u%05u", op->mccmnc,
	    sim_random() % 100000, sim_random() % 100000);
	snprintf(m->imei, sizeof(m->imei), "86%06u%06u",
	    sim_random() % 1000000, sim_random() % 1000000);
	sim_luhn(m->imei, 14);
	snprintf(m->iccid, sizeof(m->iccid), "8962%02u%06u%06u",
	    (unsigned)(op - operators) + 10, sim_random() % 1000000,
	    sim_random() % 1000000);
	sim_luhn(m->iccid, 18);
	m->balance = SIM_BALANCE + (long)(sim_random() % 90) * 1000;
	m->rssi = 14 + sim_random() % 14;
}

/*
 * One option shared by run and world at argv[*i]: 1 when it was taken
 * (and *i moved past its value), 0 when it is not one of them.
 */
int
sim_arg(struct sim_args *a, int argc, char **argv, int *i)
{
	char	*ep;

	if (strcmp(argv[*i], "-v") == 0) {
		a->verbose++;
		return (1);
	}
	if (*i + 1 >= argc)
		return (0);
	if (strcmp(argv[*i], "--dir") == 0)
		a->dir = argv[*i + 1];
	else if (strcmp(argv[*i], "--modems") == 0) {
		a->modems = strtol(argv[*i + 1], &ep, 10);
		if (*ep != '\0' || ep == argv[*i + 1])
			a->modems = -1;
	} else if (strcmp(argv[*i], "--profile") == 0)
		a->profile = argv[*i + 1];
	else if (strcmp(argv[*i], "--scale") == 0) {
		a->scale = strtod(argv[*i + 1], &ep);
		if (*ep != '\0' || ep == argv[*i + 1])
			a->scale = -1;
	} else if (strcmp(argv[*i], "--seed") == 0)
		a->seed = strtoull(argv[*i + 1], NULL, 10);
	else if (strcmp(argv[*i], "--balance") == 0) {
		a->balance = strtol(argv[*i + 1], &ep, 10);
		if (*ep != '\0' || ep == argv[*i + 1] || a->balance < -1)
			return (0);
	} else if (strcmp(argv[*i], "--daily-cap") == 0) {
		a->daily_cap = strtol(argv[*i + 1], &ep, 10);
		if (*ep != '\0' || ep == argv[*i + 1] || a->daily_cap < 0 ||
		    a->daily_cap > INT_MAX)
			return (0);
	} else
		return (0);
	(*i)++;
	return (1);
}

void
sim_args_init(struct sim_args *a)
{
	memset(a, 0, sizeof(*a));
	a->modems = -1;
	a->profile = "instant";
	a->scale = 1.0;
	a->balance = -1;
	a->daily_cap = -1;
}

/*
 * Bring the simulated world up: modems, SMS centre, control socket.
 * Start-up only, so a failure is fatal.  No signals, no `ready': the
 * caller adds its own.
 */
void
sim_start(const struct sim_args *a)
{
	struct stat	 sb;
	int		 i;

	if (a->dir == NULL) {
		fprintf(stderr, "tallysim: need --dir RUNDIR (see "
		    "docs/sim.md)\n");
		exit(2);
	}
	if (a->modems < 1 || a->modems > SIM_MODEMS_MAX) {
		fprintf(stderr, "tallysim: --modems must be a number from 1 "
		    "to %d (see docs/sim.md)\n", SIM_MODEMS_MAX);
		exit(2);
	}
	if (a->scale <= 0) {
		fprintf(stderr, "tallysim: --scale must be a number > 0\n");
		exit(2);
	}
	log_init("tallysim", LOG_TO_STDERR, a->verbose);
	if (stat(a->dir, &sb) == -1 && mkdir(a->dir, 0755) == -1)
		fatal("sim: %s", a->dir);
	if (realpath(a->dir, sim->dir) == NULL)
		fatal("sim: %s", a->dir);
	if (fault_timing_set(a->profile, a->scale) == -1)
		fatalx("sim: unknown profile %s (instant, realistic)",
		    a->profile);
	sim->seed = a->seed;
	sim->rng = sim->seed;
	sim->nmodems = a->modems;
	sim->next_ref = sim_random() % 256;
	TAILQ_INIT(&sim->phones);
	TAILQ_INIT(&sim->queue);

	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if ((sim->base = event_base_new()) == NULL)
		fatalx("sim: event_base_new");
	pdu_init();
	if ((sim->inotify = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		fatal("sim: inotify_init1");
	sim->ev_inotify = event_new(sim->base, sim->inotify,
	    EV_READ | EV_PERSIST, modem_inotify, NULL);
	event_add(sim->ev_inotify, NULL);
	if ((sim->modems = calloc(sim->nmodems, sizeof(*sim->modems))) ==
	    NULL)
		fatal("sim: calloc");
	for (i = 0; i < sim->nmodems; i++) {
		sim_identity(&sim->modems[i], i);
		if (a->balance >= 0)
			sim->modems[i].balance = a->balance;
	}
	if (a->daily_cap >= 0)
		sim->timing.daily_cap = (int)a->daily_cap;
	for (i = 0; i < sim->nmodems; i++)
		if (modem_setup(&sim->modems[i], i) == -1)
			fatalx("sim: cannot set up modem %d", i);
	if (smsc_init() == -1)
		fatalx("sim: cannot start the SMS centre");
	if ((size_t)snprintf(sim->ctl_path, sizeof(sim->ctl_path),
	    "%s/ctl.sock", sim->dir) >= sizeof(sim->ctl_path) ||
	    ctl_listen(sim->ctl_path) == -1)
		fatalx("sim: cannot listen on %s", sim->ctl_path);
	fault_random_start();
	log_info("sim: %d modems in %s, profile %s, seed %llu", sim->nmodems,
	    sim->dir, a->profile, (unsigned long long)sim->seed);
}

/* Take the world down: the links and the control socket go away. */
void
sim_stop(void)
{
	int	 i;

	ctl_close();
	play_free();
	for (i = 0; i < sim->nmodems; i++)
		modem_teardown(&sim->modems[i]);
	smsc_free();
	if (sim->ev_chaos != NULL)
		event_free(sim->ev_chaos);
	sim->ev_chaos = NULL;
	event_free(sim->ev_inotify);
	close(sim->inotify);
	free(sim->modems);
	sim->modems = NULL;
	event_base_free(sim->base);
	sim->base = NULL;
}

static int
sim_run(int argc, char **argv)
{
	struct event	*ev_term, *ev_int;
	struct sim_args	 a;
	int		 i;

	sim_args_init(&a);
	for (i = 0; i < argc; i++)
		if (!sim_arg(&a, argc, argv, &i))
			usage();
	sim_start(&a);
	ev_term = evsignal_new(sim->base, SIGTERM, sim_signal, NULL);
	ev_int = evsignal_new(sim->base, SIGINT, sim_signal, NULL);
	evsignal_add(ev_term, NULL);
	evsignal_add(ev_int, NULL);
	printf("ready\n");
	fflush(stdout);
	event_base_dispatch(sim->base);

	event_free(ev_term);
	event_free(ev_int);
	sim_stop();
	return (0);
}

int
main(int argc, char *argv[])
{
	static struct sim	 s;
	const char		*dir = NULL;

	sim = &s;
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "run") == 0)
		return (sim_run(argc - 2, argv + 2));
	if (strcmp(argv[1], "world") == 0)
		return (world_main(argc - 2, argv + 2));
	if (strcmp(argv[1], "central") == 0)
		return (central_main(argc - 1, argv + 1));
	if (strcmp(argv[1], "ctl") == 0) {
		log_init("tallysim", LOG_TO_STDERR, 0);
		if (argc >= 4 && strcmp(argv[2], "--dir") == 0)
			dir = argv[3];
		if (dir == NULL || argc < 5)
			usage();
		return (ctl_client(dir, argc - 4, argv + 4));
	}
	usage();
}
