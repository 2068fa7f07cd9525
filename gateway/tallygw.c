/*
 * tallygw: the gateway daemon. One libevent loop owns the store and
 * every decision; modem workers (bank.c) bring SMS in, and the loop
 * takes each through decode → verify → store → reply → forward.
 */
#include <sys/types.h>
#include <sys/file.h>
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

#include "csv.h"
#include "log.h"
#include "daemon.h"

struct gw	*gw;

/* Registered KPPS numbers: (TPS, number) pairs, sorted. */
struct kpps_entry {
	uint64_t	 tps;
	char		 number[WIRE_NUMBER_MAX];	/* +62..., config_msisdn */
};
struct kpps {
	struct kpps_entry *v;
	size_t		 n;
};

/* Per-sender message counts in fixed windows. */
#define RATE_BUCKETS	4096
struct rate_entry {
	TAILQ_ENTRY(rate_entry)	 entry;
	char			 sender[WIRE_NUMBER_MAX];
	time_t			 start;
	int			 count;
};
TAILQ_HEAD(rate_list, rate_entry);
struct rate {
	struct rate_list	 b[RATE_BUCKETS];
};

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: tallygw [-dnv] [-f file]\n");
	exit(2);
}

static int
kpps_cmp(const void *a, const void *b)
{
	const struct kpps_entry	*x = a, *y = b;

	if (x->tps != y->tps)
		return (x->tps < y->tps ? -1 : 1);
	return (strcmp(x->number, y->number));
}

/*
 * The optional list of registered numbers: CSV records TPS,NUMBER; an
 * optional header line and lines starting with # are passed over.
 */
static struct kpps *
kpps_load(const char *path)
{
	struct kpps		*k;
	struct csv		 csv;
	const char		*f;
	char			*end;
	size_t			 cap = 0;
	unsigned long long	 tps;
	int			 rc;

	if (csv_open(&csv, path) == -1)
		fatalx("%s: %s", path, csv.err);
	if ((k = calloc(1, sizeof(*k))) == NULL)
		fatal("calloc");
	while ((rc = csv_read(&csv)) == 1) {
		f = csv_field(&csv, 0);
		if (f[0] == '#')
			continue;
		if (csv.nf != 2)
			fatalx("%s:%lu: not 'TPS,NUMBER'", path, csv.lineno);
		errno = 0;
		tps = strtoull(f, &end, 10);
		if (*end != '\0' || errno != 0 || strlen(f) != 13) {
			if (csv.lineno == 1)
				continue;	/* a header line */
			fatalx("%s:%lu: TPS is not 13 digits", path,
			    csv.lineno);
		}
		if (k->n == cap) {
			cap = cap ? cap * 2 : 1024;
			if ((k->v = reallocarray(k->v, cap,
			    sizeof(*k->v))) == NULL)
				fatal("reallocarray");
		}
		k->v[k->n].tps = tps;
		if (config_msisdn(csv_field(&csv, 1), k->v[k->n].number,
		    sizeof(k->v[k->n].number)) == -1)
			fatalx("%s:%lu: bad number", path, csv.lineno);
		k->n++;
	}
	if (rc == -1)
		fatalx("%s:%lu: %s", path, csv.lineno, csv.err);
	csv_close(&csv);
	qsort(k->v, k->n, sizeof(*k->v), kpps_cmp);
	log_info("kpps: %zu registered numbers from %s", k->n, path);
	return (k);
}

/* 1 if the TPS has registered numbers and the sender is not one. */
static int
kpps_unregistered(uint64_t tps, const char *sender)
{
	struct kpps	*k = gw->kpps;
	char		 num[WIRE_NUMBER_MAX];
	size_t		 lo = 0, hi, i;
	int		 any = 0;

	if (k == NULL)
		return (0);
	hi = k->n;
	while (lo < hi) {
		i = (lo + hi) / 2;
		if (k->v[i].tps < tps)
			lo = i + 1;
		else
			hi = i;
	}
	if (config_msisdn(sender, num, sizeof(num)) == -1)
		num[0] = '\0';		/* an alphanumeric sender: never listed */
	for (i = lo; i < k->n && k->v[i].tps == tps; i++) {
		any = 1;
		if (strcmp(k->v[i].number, num) == 0)
			return (0);
	}
	return (any);
}

/* 1 if this sender has sent more than the limit in the current window. */
static int
rate_over(const char *sender, time_t now)
{
	struct rate_entry	*e;
	unsigned		 h = 5381;
	const char		*p;

	if (gw->conf.t.rate_limit <= 0)
		return (0);
	for (p = sender; *p != '\0'; p++)
		h = h * 33 + (unsigned char)*p;
	h %= RATE_BUCKETS;
	TAILQ_FOREACH(e, &gw->rate->b[h], entry)
		if (strcmp(e->sender, sender) == 0)
			break;
	if (e == NULL) {
		if ((e = calloc(1, sizeof(*e))) == NULL)
			return (0);
		snprintf(e->sender, sizeof(e->sender), "%s", sender);
		e->start = now;
		TAILQ_INSERT_HEAD(&gw->rate->b[h], e, entry);
	}
	if (now - e->start >= gw->conf.t.rate_window) {
		e->start = now;
		e->count = 0;
	}
	return (++e->count > gw->conf.t.rate_limit);
}

/*
 * Committed messages' SIM slots are in the store (sim_slots) until the
 * worker confirms their DELETE: a sweep that reads one again, even
 * after a crash, sees the same message and only deletes it again.
 */
static void
gw_delete_parts(struct modem *m, const struct parts_done *d)
{
	int	 i;

	if (m == NULL)
		return;
	for (i = 0; i < d->nlocations; i++)
		bank_delete(m, d->locations[i]);
}

/* The worker answered a DELETE: 0 done, -2 the slot holds another one. */
void
gw_on_delete_result(struct modem *m, int location, int code)
{
	if (code == 0 || code == -2)
		store_slot_done(gw->store, m->conf.name, location);
}

/* 1 if this SMS is a committed message still on the SIM: delete again. */
static int
gw_slot_again(struct modem *m, const struct wire_msg *w)
{
	char		 sender[WIRE_NUMBER_MAX], smsc_time[WIRE_TIME_MAX];
	int64_t		 id;
	int		 multipart;

	if (!(w->flags & WIRE_F_STORED) || w->location <= 0 ||
	    store_slot_get(gw->store, m->conf.name, w->location, &id, sender,
	    sizeof(sender), smsc_time, sizeof(smsc_time), &multipart) != 1)
		return (0);
	if (strcmp(sender, w->number) != 0 || (!multipart &&
	    strcmp(smsc_time, w->time) != 0)) {
		/* Another message took the slot: ours was deleted. */
		store_slot_done(gw->store, m->conf.name, w->location);
		return (0);
	}
	log_debug("msg %lld: still on %s slot %d: deleting again",
	    (long long)id, m->conf.name, w->location);
	bank_delete(m, w->location);
	return (1);
}

/* Verify a report and fill the message and the reply from the verdict. */
static int
gw_verify(struct store_msg *msg, char *text, size_t tlen, char *brief,
    size_t blen)
{
	struct verify_result	 res;
	int			 rc;

	rc = verify_report(&gw->vctx, msg->raw, strlen(msg->raw),
	    msg->sender, time(NULL), &msg->report, &res);
	if (rc == -1)
		return (-1);
	if ((res.verdict == VERDICT_OK || res.verdict == VERDICT_FLAGGED) &&
	    kpps_unregistered(msg->report.tps, msg->sender)) {
		res.flags |= FLAG_SENDER;
		res.verdict = VERDICT_FLAGGED;
	}
	msg->verdict = res.verdict;
	msg->reason = res.reason;
	msg->flags = res.flags;
	msg->auth = res.auth;
	msg->supersedes = res.supersedes;
	memcpy(msg->receipt, res.receipt, sizeof(msg->receipt));
	msg->decoded = res.verdict != VERDICT_REJECTED ||
	    res.reason >= REASON_COUNT;
	if (verify_explain(&res, &msg->report, msg->detail,
	    sizeof(msg->detail)) == -1)
		msg->detail[sizeof(msg->detail) - 1] = '\0';
	if (res.lockout & LOCKOUT_FAIL_LOCKED)
		log_warnx("msg: sender %s locked out of TPS %013llu after "
		    "repeated bad codes", msg->sender,
		    (unsigned long long)msg->report.tps);
	if (res.lockout & LOCKOUT_FAIL_ALERT)
		log_warnx("msg: TPS %013llu: many bad codes from several "
		    "senders: check for an attack",
		    (unsigned long long)msg->report.tps);
	return (reply_report(gw->lang, msg, &res, text, tlen, brief, blen));
}

/*
 * One whole message from a modem: classify, verify, and commit it with
 * its reply and forward rows in one transaction; only then delete it
 * from the SIM and let the reply and the forward go.
 */
static void
gw_receive(struct modem *m, const struct parts_done *d)
{
	struct store_msg	*msg;
	struct store_reply	 rep;
	struct store_latest	 lat[64];
	struct conf_central	*c;
	struct tps_info		 ti;
	size_t			 nlat;
	uint64_t		 tps;
	int			 ok, forward = 0, i;
	time_t			 now = time(NULL);
	const char		*mname = m != NULL ? m->conf.name : d->modem;

	if ((msg = calloc(1, sizeof(*msg))) == NULL) {
		log_warn("msg: calloc");
		return;		/* stays on the SIM; the next sweep retries */
	}
	memset(&rep, 0, sizeof(rep));
	snprintf(msg->modem, sizeof(msg->modem), "%s", mname);
	if (m != NULL)
		snprintf(msg->modem_number, sizeof(msg->modem_number), "%s",
		    m->conf.number);
	snprintf(msg->sender, sizeof(msg->sender), "%s", d->sender);
	snprintf(msg->smsc_time, sizeof(msg->smsc_time), "%s", d->smsc_time);
	snprintf(msg->raw, sizeof(msg->raw), "%s", d->text);
	store_iso_now(msg->received_at, sizeof(msg->received_at));
	msg->parts = d->nparts;
	msg->report.page = -1;

	if (rate_over(msg->sender, now)) {
		msg->kind = MSG_RATE;
		snprintf(msg->detail, sizeof(msg->detail), "over %d messages "
		    "in %d s from this sender: kept, not answered",
		    gw->conf.t.rate_limit, gw->conf.t.rate_window);
	} else
		msg->kind = reply_classify(msg->raw, &tps, &ok);
	switch (msg->kind) {
	case MSG_REPORT:
		if (gw_verify(msg, rep.text, sizeof(rep.text), rep.brief,
		    sizeof(rep.brief)) == -1) {
			log_warnx("msg: from %s on %s: verification failed "
			    "(store error); left on the SIM for the next "
			    "sweep", msg->sender, mname);
			free(msg);
			return;
		}
		forward = msg->verdict == VERDICT_OK ||
		    msg->verdict == VERDICT_FLAGGED;
		break;
	case MSG_CEK:
		if (!ok || (gw->registry != NULL &&
		    registry_lookup(gw->registry, tps, &ti) != 1))
			reply_tps_unknown(gw->lang, msg->raw, rep.text,
			    sizeof(rep.text));
		else if (store_tps_latest(gw->store, tps, lat, 64,
		    &nlat) == -1) {
			free(msg);
			return;
		} else
			reply_cek(gw->lang, tps, lat, nlat, rep.text,
			    sizeof(rep.text));
		snprintf(msg->detail, sizeof(msg->detail), "CEK");
		break;
	case MSG_BANTU:
		reply_bantu(gw->lang, rep.text, sizeof(rep.text));
		snprintf(msg->detail, sizeof(msg->detail), "BANTU");
		break;
	case MSG_OTHER:
		reply_other(gw->lang, rep.text, sizeof(rep.text));
		snprintf(msg->detail, sizeof(msg->detail), "not a report");
		break;
	case MSG_RATE:
		break;
	}
	store_iso_now(msg->verified_at, sizeof(msg->verified_at));

	if (store_begin(gw->store) == -1)
		goto fail;
	if (store_msg_add(gw->store, msg) == -1)
		goto rollback;
	if (rep.text[0] != '\0') {
		rep.msg_id = msg->id;
		rep.created = now;
		snprintf(rep.dest, sizeof(rep.dest), "%s", msg->sender);
		snprintf(rep.modem, sizeof(rep.modem), "%s", mname);
		if (store_reply_add(gw->store, &rep) == -1)
			goto rollback;
	}
	if (forward)
		TAILQ_FOREACH(c, &gw->conf.centrals, entry)
			if (store_fwd_add(gw->store, msg->id, c->name) == -1)
				goto rollback;
	for (i = 0; i < d->nlocations; i++)
		if (d->locations[i] > 0 && store_slot_add(gw->store, mname,
		    d->locations[i], msg->id) == -1)
			goto rollback;
	if (store_commit(gw->store) == -1)
		goto rollback;

	if (msg->kind == MSG_REPORT)
		log_info("msg %lld: from %s on %s (%d part%s): %s%s%s",
		    (long long)msg->id, msg->sender, mname, msg->parts,
		    msg->parts == 1 ? "" : "s", msg->detail,
		    msg->receipt[0] ? " receipt " : "", msg->receipt);
	else
		log_info("msg %lld: from %s on %s: %s: \"%.60s\"",
		    (long long)msg->id, msg->sender, mname,
		    store_kind_name(msg->kind), msg->raw);
	gw_delete_parts(m, d);
	if (rep.text[0] != '\0')
		outbox_kick();
	if (forward)
		fwd_queue_kick(gw->fwdq);
	free(msg);
	return;
rollback:
	store_rollback(gw->store);
fail:
	log_warnx("msg: from %s on %s: not stored; left on the SIM for the "
	    "next sweep", msg->sender, mname);
	free(msg);
}

void
gw_on_sms(struct modem *m, const struct wire_msg *w)
{
	struct parts_done	*d;

	if (gw_slot_again(m, w))
		return;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	if (parts_add(gw->parts, m->conf.name, w, time(NULL), d) == 1)
		gw_receive(m, d);
	else
		log_debug("modem %s: part %d/%d ref %d from %s held",
		    m->conf.name, w->part, w->total, w->ref, w->number);
	free(d);
}

void
gw_on_status_report(struct modem *m, const struct wire_msg *w)
{
	outbox_report(m, w->msgref, w->status);
	if (w->location > 0)
		bank_delete(m, w->location);
}

void
gw_on_send_result(struct modem *m, const struct wire_msg *w)
{
	outbox_result(m, (int64_t)w->id, w->code, w->msgref, w->text);
}

void
gw_on_modem_ready(struct modem *m)
{
	gw_check_ready();
	outbox_kick();
}

void
gw_on_modem_lost(struct modem *m)
{
	outbox_lost(m);
}

/* "ready" on stdout once every enabled modem has been ready once. */
void
gw_check_ready(void)
{
	if (gw->ready_said || !bank_all_ready())
		return;
	gw->ready_said = 1;
	log_info("tallygw: ready");
	printf("ready\n");
	fflush(stdout);
}

/* Parts whose siblings never came are handled as what they are. */
static void
gw_expire_parts(time_t now)
{
	struct parts_done	*d;

	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	while (parts_expire(gw->parts, now, gw->conf.t.multipart_timeout,
	    d) == 1) {
		log_warnx("modem %s: long SMS from %s: %d of %d parts after "
		    "%d s; handling what came", d->modem, d->sender, d->nparts,
		    d->total, gw->conf.t.multipart_timeout);
		gw_receive(bank_find(d->modem), d);
		memset(d, 0, sizeof(*d));
	}
	free(d);
}

static void
gw_tickcb(evutil_socket_t fd, short ev, void *arg)
{
	time_t	 now = time(NULL);

	bank_tick(now);
	gw_expire_parts(now);
	if (gw->lockout != NULL)
		lockout_expire(gw->lockout, now);
	outbox_run(now);
}

static void
gw_sigcb(evutil_socket_t sig, short ev, void *arg)
{
	struct gw_conf	 nc;
	char		 err[512];
	struct timeval	 tv = { 2, 0 };

	switch (sig) {
	case SIGCHLD:
		bank_reap();
		break;
	case SIGHUP:
		log_info("tallygw: reloading %s", gw->conf.path);
		if (config_load(gw->conf.path, &nc, err, sizeof(err)) == -1) {
			log_warnx("tallygw: reload refused: %s", err);
			break;
		}
		if (bank_reload(&nc, err, sizeof(err)) == -1)
			log_warnx("tallygw: reload: %s", err);
		/* The bank keeps its own copy of each modem's section. */
		config_clear(&nc);
		break;
	case SIGTERM:
	case SIGINT:
		if (gw->stopping) {
			event_base_loopexit(gw->base, NULL);
			break;
		}
		log_info("tallygw: stopping");
		gw->stopping = 1;
		bank_stop();
		event_base_loopexit(gw->base, &tv);
		break;
	}
}

/* Everything start-up needs; any problem here is fatal, with its cause. */
static void
gw_setup(int check)
{
	struct gw_conf	*c = &gw->conf;
	char		 err[512], path[PATH_MAX + 32];
	int		 fd;

	if (key_init() == -1)
		fatalx("libsodium init failed");
	if (key_load(c->key, &gw->key, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (fwd_load_key(c->sign_key, gw->sk, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (c->election[0] != '\0') {
		if ((gw->election = election_load(c->election, err,
		    sizeof(err))) == NULL)
			fatalx("%s", err);
	} else if ((gw->election = election_default()) == NULL)
		fatalx("the embedded election definition does not load");
	if (c->registry[0] != '\0' && (gw->registry = registry_open(
	    c->registry, REGISTRY_RDONLY, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (c->kpps[0] != '\0')
		gw->kpps = kpps_load(c->kpps);
	if (check)
		return;
	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST)
		fatal("%s", c->state_dir);
	/* One gateway per state directory: the store and socket are its. */
	snprintf(path, sizeof(path), "%s/tallygw.lock", c->state_dir);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) == -1)
		fatal("%s", path);
	if (flock(fd, LOCK_EX | LOCK_NB) == -1)
		fatalx("another tallygw runs with the state directory %s",
		    c->state_dir);
	snprintf(path, sizeof(path), "%s/tallygw.db", c->state_dir);
	if ((gw->store = store_open(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if ((gw->lockout = lockout_new(&c->t.lockout)) == NULL)
		fatalx("lockout: out of memory");
	if (store_lockout_rebuild(gw->store, gw->lockout, time(NULL)) == -1)
		fatalx("cannot rebuild the lockout table from the store");
	if (store_out_requeue(gw->store) == -1)
		fatalx("cannot requeue the replies in flight");
	gw->vctx.election = gw->election;
	gw->vctx.registry = gw->registry;
	gw->vctx.key = &gw->key;
	gw->vctx.history = store_history(gw->store);
	gw->vctx.lockout = gw->lockout;
	gw->vctx.default_dpt = c->t.default_dpt;
	if ((gw->parts = parts_new()) == NULL ||
	    (gw->rate = calloc(1, sizeof(*gw->rate))) == NULL)
		fatalx("out of memory");
	for (size_t i = 0; i < RATE_BUCKETS; i++)
		TAILQ_INIT(&gw->rate->b[i]);
	gw->lang = strcmp(c->language, "en") == 0 ? REPLY_EN : REPLY_ID;
}

int
main(int argc, char *argv[])
{
	const char	*file = "/etc/tallygw/tallygw.conf";
	char		 err[1024], sock[PATH_MAX + 32];
	int		 ch, check = 0, fg = 0, verbose = 0;
	struct event	*sig[5];
	int		 sigs[5] = { SIGCHLD, SIGHUP, SIGTERM, SIGINT, 0 };
	struct timeval	 tv = { 1, 0 };
	ssize_t		 n;
	size_t		 i;

	while ((ch = getopt(argc, argv, "df:nv")) != -1) {
		switch (ch) {
		case 'd':
			fg = 1;
			break;
		case 'f':
			file = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	log_init("tallygw", LOG_TO_STDERR, 1 + verbose);
	if ((gw = calloc(1, sizeof(*gw))) == NULL)
		fatal("calloc");
	TAILQ_INIT(&gw->modems);
	if (config_load(file, &gw->conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "tallygw: %s\n", err);
		exit(1);
	}
	/* 1: info (the default), 2: debug. */
	verbose = 1 + (verbose ? verbose : gw->conf.log_level > 0);
	gw_setup(check);
	if (check) {
		if (verbose > 1)
			config_print(&gw->conf, stdout);
		fprintf(stderr, "tallygw: configuration OK\n");
		exit(0);
	}
	if ((n = readlink("/proc/self/exe", gw->self,
	    sizeof(gw->self) - 1)) > 0)
		gw->self[n] = '\0';
	else
		snprintf(gw->self, sizeof(gw->self), "%s", argv[0]);
	if (!fg) {
		if (daemon(1, 0) == -1)
			fatal("daemon");
	}
	log_init("tallygw", gw->conf.log_syslog || !fg ? LOG_TO_SYSLOG :
	    LOG_TO_STDERR, verbose);
	signal(SIGPIPE, SIG_IGN);

	if ((gw->base = event_base_new()) == NULL)
		fatalx("event_base_new");
	for (i = 0; sigs[i] != 0; i++) {
		sig[i] = evsignal_new(gw->base, sigs[i], gw_sigcb, NULL);
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) == -1)
			fatalx("cannot catch signal %d", sigs[i]);
	}
	if ((gw->fwdq = fwd_queue_new(gw->base, gw->store, &gw->conf,
	    gw->sk)) == NULL)
		fatalx("cannot start the forwarder");
	snprintf(sock, sizeof(sock), "%s/tallygw.sock", gw->conf.state_dir);
	if (control_start(sock) == -1)
		fatalx("cannot open the control socket %s", sock);
	if ((gw->ev_tick = event_new(gw->base, -1, EV_PERSIST, gw_tickcb,
	    NULL)) == NULL || evtimer_add(gw->ev_tick, &tv) == -1)
		fatalx("cannot start the timer");
	log_info("tallygw: %s starting, state in %s", gw->conf.name,
	    gw->conf.state_dir);
	if (bank_start() == -1)
		fatalx("cannot start the modem workers");
	gw_check_ready();
	outbox_kick();
	fwd_queue_kick(gw->fwdq);

	event_base_dispatch(gw->base);

	log_info("tallygw: stopped");
	{
		struct modem	*m;

		TAILQ_FOREACH(m, &gw->modems, entry)
			if (m->pid > 0)
				kill(m->pid, SIGKILL);
	}
	control_stop();
	fwd_queue_free(gw->fwdq);
	store_close(gw->store);
	return (0);
}
