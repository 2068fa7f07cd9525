/*
 * play: plays a scenario (sim/scenario.c) through the simulated
 * network and judges the run with the oracle (sim/oracle.c).
 *
 *   scenario start [--tps N] [--seed S] [--night SECONDS] [--key FILE]
 *                  [--to MODEM[,MODEM...]] [--data DIR] [--ussd SHARE]
 *   scenario status [--json]
 *   oracle [--json] [--central-dir DIR]
 *
 * Each message of the scenario is injected, at its time offset, from
 * its phone's MSISDN to the gateway modem of that phone (each phone
 * sends to one number; phones are spread over the modems).  A report
 * of a USSD officer is handed to dial.c instead, which dials the
 * gateway's USSD callback.  The oracle compares the phones' inboxes,
 * the central receiver's records and the USSD sessions' screens with
 * what the protocol says must happen.  docs/sim.md.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "central.h"
#include "fmt.h"
#include "log.h"
#include "oracle.h"
#include "scenario.h"
#include "sim.h"
#include "tally.h"

#define PLAY_INSTANT_MS	3000	/* profile instant: the whole night */

/* The playing state of one scenario, changed by play_set_state(). */
enum play_state {
	PLAY_PLAYING = 0,
	PLAY_DONE,
};

struct play {
	enum play_state		 state;
	struct scenario		*sc;
	struct election		*el;
	struct key		 key;
	struct event		*ev;
	const struct sc_msg	*next;
	uint64_t		 start_ms;
	double			 ms_per_sec;	/* real ms per scenario second */
	int			 to[SIM_MODEMS_MAX];
	int			 nto;
	size_t			 ntps;
	uint64_t		 seed;
	unsigned		 night;
	size_t			 sent;
	size_t			 parts;
	size_t			 failed;
	size_t			 nussd;		/* reports sent by USSD */
	size_t			 ussd_sent;	/* ... whose sessions ended */
};

static struct play	*play;

static const char	*play_state_name(enum play_state);
static void		 play_set_state(enum play_state);
static void		 play_tick(int, short, void *);
static int		 play_number(const char *, unsigned long long,
			    unsigned long long, unsigned long long *);
static int		 play_targets(const char *, int *, int *, char *,
			    size_t);
static int		 play_start(int, char **, struct evbuffer *, char *,
			    size_t);
static int		 play_status(int, char **, struct evbuffer *, char *,
			    size_t);
static void		 play_dialled(const struct sc_msg *, int);
static int		 play_oracle_ussd(struct oracle_input *, char *,
			    size_t);
static void		 play_check_done(void);
static int		 play_share(const char *, double *);

static const char *
play_state_name(enum play_state s)
{
	return (s == PLAY_PLAYING ? "playing" : "done");
}

static void
play_set_state(enum play_state s)
{
	if (play->state != s)
		log_info("sim: scenario %s -> %s", play_state_name(play->state),
		    play_state_name(s));
	play->state = s;
}

void
play_free(void)
{
	if (play == NULL)
		return;
	dial_free();
	if (play->ev != NULL)
		event_free(play->ev);
	scenario_free(play->sc);
	election_free(play->el);
	key_wipe(&play->key, sizeof(play->key));
	free(play);
	play = NULL;
}

/* Inject every message that is due, then sleep until the next one. */
static void
play_tick(int fd, short ev, void *arg)
{
	const struct sc_msg	*m;
	struct modem		*mo;
	uint64_t		 now, due;
	int			 n;

	now = sim_now_ms() - play->start_ms;
	while ((m = play->next) != NULL) {
		due = (uint64_t)(m->t * play->ms_per_sec);
		if (due > now) {
			sim_after(play->ev, (int)(due - now));
			return;
		}
		play->next = scenario_next(m);
		if (m->ussd != NULL) {
			dial_due(m);	/* counted as sent when it is over */
			continue;
		}
		/* A KPPS phone keeps sending to the one number it was given. */
		mo = &sim->modems[play->to[(m->phone->tps * 0x9e3779b97f4a7c15ULL
		    >> 32) % play->nto]];
		n = 0;
		if (smsc_inject(m->phone->msisdn, mo, m->text, &n) == -1) {
			log_warnx("sim: scenario message %zu from %s: cannot "
			    "encode", m->id, m->phone->msisdn);
			play->failed++;
		} else
			play->parts += n;
		play->sent++;
	}
	play_check_done();
}

/* A USSD report's last session is over (ok 0: it failed). */
static void
play_dialled(const struct sc_msg *m, int ok)
{
	if (play == NULL)
		return;
	play->sent++;
	play->ussd_sent++;
	if (!ok)
		play->failed++;
	play_check_done();
}

/* Done once every message is injected and every USSD session over. */
static void
play_check_done(void)
{
	if (play->state == PLAY_DONE || play->next != NULL ||
	    play->sent < play->sc->nmsgs)
		return;
	log_info("sim: scenario played: %zu messages (%zu by USSD), %zu "
	    "parts, %zu failed", play->sent, play->ussd_sent, play->parts,
	    play->failed);
	play_set_state(PLAY_DONE);
}

/* A share 0..1, as a decimal number; -1 if it is not one. */
static int
play_share(const char *s, double *v)
{
	char	*ep;

	errno = 0;
	*v = strtod(s, &ep);
	if (errno != 0 || ep == s || *ep != '\0' || !(*v >= 0 && *v <= 1))
		return (-1);
	return (0);
}

/* A decimal number in [min, max]; -1 if it is not one. */
static int
play_number(const char *s, unsigned long long min, unsigned long long max,
    unsigned long long *v)
{
	char	*ep;

	if (s == NULL || *s < '0' || *s > '9')
		return (-1);
	errno = 0;
	*v = strtoull(s, &ep, 10);
	if (errno != 0 || *ep != '\0' || *v < min || *v > max)
		return (-1);
	return (0);
}

/* --to MODEM[,MODEM...]: indexes or MSISDNs, all modems if NULL. */
static int
play_targets(const char *list, int *to, int *nto, char *err, size_t errlen)
{
	struct modem	*m;
	char		*copy, *p, *w;
	int		 i;

	*nto = 0;
	if (list == NULL) {
		for (i = 0; i < sim->nmodems; i++)
			to[(*nto)++] = i;
		return (0);
	}
	if ((copy = strdup(list)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	for (p = copy; (w = strsep(&p, ",")) != NULL; ) {
		if ((m = modem_find(w)) == NULL || *nto == SIM_MODEMS_MAX) {
			snprintf(err, errlen, "--to: no modem %.32s", w);
			free(copy);
			return (-1);
		}
		to[(*nto)++] = m->idx;
	}
	free(copy);
	return (0);
}

static int
play_start(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	struct scenario_conf	 conf;
	struct play		*p;
	const char		*s, *keyfile;
	unsigned long long	 v;
	char			 path[PATH_MAX + 32], kerr[512];
	const struct sc_msg	*m;
	const struct sc_phone	*ph;
	size_t			 nph = 0;
	char			 regpath[PATH_MAX + 32];
	char			 csv[PATH_MAX], desa[PATH_MAX];
	FILE			*f;
	unsigned		 last;
	int			 i;

	if (play != NULL && play->state == PLAY_PLAYING) {
		snprintf(err, errlen, "a scenario is playing (sent %zu/%zu)",
		    play->sent, play->sc->nmsgs);
		return (-1);
	}
	for (i = 2; i < argc; i += 2)
		if (i + 1 >= argc || (strcmp(argv[i], "--tps") != 0 &&
		    strcmp(argv[i], "--seed") != 0 &&
		    strcmp(argv[i], "--night") != 0 &&
		    strcmp(argv[i], "--key") != 0 &&
		    strcmp(argv[i], "--data") != 0 &&
		    strcmp(argv[i], "--ussd") != 0 &&
		    strcmp(argv[i], "--to") != 0)) {
			snprintf(err, errlen, "usage: scenario start [--tps N] "
			    "[--seed S] [--night SECONDS] [--key FILE] "
			    "[--to MODEM[,MODEM...]] [--data DIR] "
			    "[--ussd SHARE]");
			return (-1);
		}
	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	scenario_defaults(&conf);
	if ((s = ctl_opt(argc, argv, "--tps")) != NULL) {
		if (play_number(s, 1, 1000000, &v) == -1) {
			snprintf(err, errlen, "--tps: not a number 1..1000000");
			goto fail;
		}
		conf.ntps = v;
	}
	if ((s = ctl_opt(argc, argv, "--seed")) != NULL) {
		if (play_number(s, 0, UINT64_MAX, &v) == -1) {
			snprintf(err, errlen, "--seed: not a number");
			goto fail;
		}
		conf.seed = v;
	}
	if ((s = ctl_opt(argc, argv, "--night")) != NULL) {
		if (play_number(s, 60, 7 * 24 * 3600, &v) == -1) {
			snprintf(err, errlen, "--night: not a number of "
			    "seconds 60..604800");
			goto fail;
		}
		conf.night = v;
	}
	if ((s = ctl_opt(argc, argv, "--data")) != NULL) {
		if ((size_t)snprintf(csv, sizeof(csv), "%s/pilpres2024_tps.csv",
		    s) >= sizeof(csv) || (size_t)snprintf(desa, sizeof(desa),
		    "%s/desa_tps_2024.csv", s) >= sizeof(desa)) {
			snprintf(err, errlen, "--data: path too long");
			goto fail;
		}
		conf.csv = csv;
		conf.desa_csv = desa;
	}
	if ((s = ctl_opt(argc, argv, "--ussd")) != NULL &&
	    play_share(s, &conf.ussd.share) == -1) {
		snprintf(err, errlen, "--ussd: not a share from 0 to 1");
		goto fail;
	}
	if (play_targets(ctl_opt(argc, argv, "--to"), p->to, &p->nto, err,
	    errlen) == -1)
		goto fail;
	if ((keyfile = ctl_opt(argc, argv, "--key")) == NULL) {
		if ((size_t)snprintf(path, sizeof(path), "%s/root.key",
		    sim->dir) >= sizeof(path)) {
			snprintf(err, errlen, "run directory path too long");
			goto fail;
		}
		keyfile = path;
	}
	if (key_init() == -1 ||
	    key_load(keyfile, &p->key, kerr, sizeof(kerr)) == -1) {
		snprintf(err, errlen, "key %.200s: %.200s", keyfile, kerr);
		goto fail;
	}
	if ((p->el = election_default()) == NULL) {
		snprintf(err, errlen, "cannot load the default election");
		goto fail;
	}
	conf.key = &p->key;
	conf.election = p->el;
	/* The gateway of a world checks DPT against RUNDIR/registry.db. */
	if ((size_t)snprintf(regpath, sizeof(regpath), "%s/registry.db",
	    sim->dir) < sizeof(regpath) && access(regpath, R_OK) == 0)
		conf.registry = regpath;
	if (scenario_build(&conf, &p->sc, kerr, sizeof(kerr)) == -1) {
		snprintf(err, errlen, "scenario: %.200s", kerr);
		goto fail;
	}

	if ((size_t)snprintf(path, sizeof(path), "%s/scenario.jsonl",
	    sim->dir) >= sizeof(path)) {
		snprintf(err, errlen, "run directory path too long");
		goto fail;
	}
	if ((f = fopen(path, "w")) == NULL) {
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		goto fail;
	}
	i = scenario_write(f, p->sc);
	if (fclose(f) == EOF || i == -1) {
		snprintf(err, errlen, "%.200s: cannot write", path);
		goto fail;
	}

	/* The last message's offset is what instant compresses. */
	last = TAILQ_EMPTY(&p->sc->msgs) ? 0 :
	    TAILQ_LAST(&p->sc->msgs, sc_msgq)->t;
	if (sim->timing.profile == PROFILE_INSTANT)
		p->ms_per_sec = last > 0 ? (double)PLAY_INSTANT_MS / last : 0;
	else
		p->ms_per_sec = 1000.0 / sim->timing.scale;
	if ((p->ev = evtimer_new(sim->base, play_tick, NULL)) == NULL) {
		snprintf(err, errlen, "evtimer_new failed");
		goto fail;
	}
	p->ntps = conf.ntps;
	p->seed = conf.seed;
	p->night = conf.night;
	p->next = scenario_first(p->sc);
	for (m = p->next; m != NULL; m = scenario_next(m))
		p->nussd += m->ussd != NULL;
	TAILQ_FOREACH(ph, &p->sc->phones, entry)
		nph += ph->ussd != 0;
	p->start_ms = sim_now_ms();
	p->state = PLAY_PLAYING;
	play_free();
	play = p;
	/* The USSD officers dial the callback `world' wrote down. */
	if (dial_start(p->sc, sim->dir, p->ms_per_sec, play_dialled, kerr,
	    sizeof(kerr)) == -1) {
		snprintf(err, errlen, "--ussd: %.300s", kerr);
		play_free();
		return (-1);
	}
	log_info("sim: scenario seed %llu: %zu TPS, %zu messages (%zu by USSD) "
	    "over %u s, %d modem(s), %.3f ms per second",
	    (unsigned long long)p->seed, p->sc->nphones, p->sc->nmsgs,
	    p->nussd, last, p->nto, p->ms_per_sec);
	evbuffer_add_printf(out, "scenario seed %llu: %zu phones, %zu messages "
	    "over %u s, to %d modem%s, written to %s\n",
	    (unsigned long long)p->seed, p->sc->nphones, p->sc->nmsgs, last,
	    p->nto, p->nto == 1 ? "" : "s", path);
	if (p->nussd > 0)
		evbuffer_add_printf(out, "ussd: %zu of the phones report by "
		    "USSD, %zu messages, into %s/ussd.url; screens logged in "
		    "%s/ussd.jsonl\n", nph, p->nussd,
		    sim->dir, sim->dir);
	sim_after(p->ev, 0);
	return (0);
fail:
	scenario_free(p->sc);
	election_free(p->el);
	key_wipe(&p->key, sizeof(p->key));
	free(p);
	return (-1);
}

static int
play_status(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	size_t	 sessions;

	if (play == NULL) {
		snprintf(err, errlen, "no scenario");
		return (-1);
	}
	dial_pending(&sessions);
	if (ctl_flag(argc, argv, "--json")) {
		evbuffer_add_printf(out, "{\"state\":\"%s\",\"seed\":%llu,"
		    "\"tps\":%zu,\"phones\":%zu,\"night\":%u,\"sent\":%zu,"
		    "\"total\":%zu,\"parts\":%zu,\"failed\":%zu,\"modems\":%d,"
		    "\"ussd_sent\":%zu,\"ussd_total\":%zu,\"sessions\":%zu}\n",
		    play_state_name(play->state),
		    (unsigned long long)play->seed, play->ntps,
		    play->sc->nphones, play->night, play->sent,
		    play->sc->nmsgs, play->parts, play->failed, play->nto,
		    play->ussd_sent, play->nussd, sessions);
		return (0);
	}
	evbuffer_add_printf(out, "%s: sent %zu/%zu messages, %zu parts, "
	    "%zu failed (seed %llu, %zu phones, %d modem%s)",
	    play_state_name(play->state), play->sent, play->sc->nmsgs,
	    play->parts, play->failed, (unsigned long long)play->seed,
	    play->sc->nphones, play->nto, play->nto == 1 ? "" : "s");
	if (play->nussd > 0)
		evbuffer_add_printf(out, "; by USSD %zu/%zu in %zu sessions",
		    play->ussd_sent, play->nussd, sessions);
	evbuffer_add(out, "\n", 1);
	return (0);
}

/* scenario start|status ... */
int
play_ctl_scenario(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	if (argc >= 2 && strcmp(argv[1], "start") == 0)
		return (play_start(argc, argv, out, err, errlen));
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return (play_status(argc, argv, out, err, errlen));
	snprintf(err, errlen, "usage: scenario start [options] | "
	    "scenario status [--json]");
	return (-1);
}

/* Whether there is a played scenario to judge; -1 and why if not. */
int
play_oracle_ready(char *err, size_t errlen)
{
	if (play == NULL) {
		snprintf(err, errlen, "no scenario: run scenario start first");
		return (-1);
	}
	if (play->state == PLAY_PLAYING) {
		snprintf(err, errlen, "the scenario is still playing (sent "
		    "%zu/%zu)", play->sent, play->sc->nmsgs);
		return (-1);
	}
	return (0);
}

/* The USSD sessions' screens, as dial.c logged them (ussd.jsonl). */
static int
play_oracle_ussd(struct oracle_input *in, char *err, size_t errlen)
{
	char	 path[PATH_MAX + 16], lerr[256];
	FILE	*f;
	int	 rc;

	dial_flush();
	snprintf(path, sizeof(path), "%s/ussd.jsonl", sim->dir);
	if ((f = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%.200s: %s", path, strerror(errno));
		return (-1);
	}
	if ((rc = oracle_load_ussd_jsonl(in, f, lerr, sizeof(lerr))) == -1)
		snprintf(err, errlen, "%.200s: %.120s", path, lerr);
	fclose(f);
	return (rc);
}

/*
 * oracle [--json]: judges the played scenario against what the phones
 * received and the central receiver's records, read from central (its
 * `dump --json'), or NULL if no receiver runs in cdir: it holds nothing.
 * ctl.c asks the receiver without blocking the loop.
 */
int
play_oracle(int argc, char **argv, FILE *central, const char *cdir,
    struct evbuffer *out, char *err, size_t errlen)
{
	struct oracle_input	*in = NULL;
	struct oracle_report	 rep;
	struct phone		*ph;
	struct inmsg		*im;
	char			 ts[32], lerr[256], *buf = NULL;
	size_t			 len = 0;
	FILE			*mf;
	int			 json = ctl_flag(argc, argv, "--json");
	int			 rc = -1;

	if (play_oracle_ready(err, errlen) == -1)
		return (-1);
	if ((in = oracle_input_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	TAILQ_FOREACH(ph, &sim->phones, entry)
		TAILQ_FOREACH(im, &ph->inbox, entry) {
			(void)fmt_iso(ts, sizeof(ts), im->time);
			if (oracle_add_reply(in, ph->msisdn, im->from,
			    im->text, ts) == -1) {
				snprintf(err, errlen, "out of memory");
				goto out;
			}
		}
	if (central != NULL &&
	    oracle_load_central_jsonl(in, central, lerr, sizeof(lerr)) == -1) {
		snprintf(err, errlen, "central %.100s: %.120s", cdir, lerr);
		goto out;
	}
	if (play->nussd > 0 && play_oracle_ussd(in, err, errlen) == -1)
		goto out;
	if (oracle_judge(play->sc, in, &rep) == -1) {
		snprintf(err, errlen, "oracle failed (out of memory?)");
		goto out;
	}
	if ((mf = open_memstream(&buf, &len)) == NULL) {
		oracle_report_free(&rep);
		snprintf(err, errlen, "open_memstream: %s", strerror(errno));
		goto out;
	}
	if (central == NULL && !json)
		fprintf(mf, "oracle: no central receiver in %s: it holds "
		    "nothing\n", cdir);
	oracle_print(mf, &rep, json);
	fclose(mf);
	evbuffer_add(out, buf, len);
	if (rep.ndisc == 0)
		rc = 0;
	else
		snprintf(err, errlen, "%zu discrepanc%s", rep.ndisc,
		    rep.ndisc == 1 ? "y" : "ies");
	oracle_report_free(&rep);
out:
	free(buf);
	oracle_input_free(in);
	return (rc);
}
