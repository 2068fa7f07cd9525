/*
 * tallygw: the gateway daemon's start-up, loop and signals. One libevent
 * loop owns the store and every decision; modem workers (bank.c) bring
 * SMS in, the SMS channel (sms.c) hands each whole message to the
 * receive stage (receive.c: classify, verify, commit), and the outbox
 * and the forwarder take the reply and the report out.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "daemon.h"

static __attribute__((__noreturn__)) void
usage(void)
{
	fprintf(stderr, "usage: tallygw [-dnv] [-f file]\n");
	exit(2);
}

/* What the modem bank reports, and who handles it. */
static void	tallygw_modem_ready(struct modem *);
static void	tallygw_modem_lost(struct modem *);

static const struct bank_events tallygw_bank_events = {
	.ready = tallygw_modem_ready,
	.lost = tallygw_modem_lost,
	.sms = sms_on_sms,
	.deleted = sms_deleted,
	.send_result = outbox_result,
	.status_report = outbox_report,
	.child = alert_child,
	.recovered = outbox_recovered,
};

/* "ready" on stdout once every enabled modem has been ready once. */
static void
tallygw_check_ready(void)
{
	if (gw->ready_said || !bank_all_ready())
		return;
	gw->ready_said = 1;
	log_info("tallygw: ready");
	printf("ready\n");
	fflush(stdout);
}

/* A modem is ready: perhaps the gateway is, and replies can go. */
static void
tallygw_modem_ready(struct modem *m)
{
	tallygw_check_ready();
	outbox_kick();
	alert_run(time(NULL));
}

/* A modem is lost: its send goes back to the queue; an alert may wait. */
static void
tallygw_modem_lost(struct modem *m)
{
	outbox_lost(m);
	alert_run(time(NULL));
}

/*
 * Each second: the timers of the stages, then the heap's free pages go
 * back to the system (malloc keeps them after a burst, 0.4 MiB of the
 * main process's proportional set at 64 modems; docs/bench.md).
 */
static void
tallygw_tickcb(evutil_socket_t fd, short ev, void *arg)
{
	time_t	 now = time(NULL);

	bank_tick(now);
	sms_expire(now);
	receive_expire(now);
	if (gw->lockout != NULL)
		lockout_expire(gw->lockout, now);
	outbox_run(now);
	alert_run(now);
	malloc_trim(0);
}

static void
tallygw_sigcb(evutil_socket_t sig, short ev, void *arg)
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
		alert_reload(&nc);
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

/*
 * What start-up reads before anything runs, root-only files included
 * (keys); `tallygw -n' stops after it. Any problem is fatal, with its
 * cause.
 */
static void
tallygw_setup(void)
{
	struct gw_conf	*c = &gw->conf;
	char		 err[PATH_MAX + GW_URL_MAX + 128];

	store_init();
	if (key_init() == -1)
		fatalx("libsodium init failed");
	if (key_load(c->key, &gw->key, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (forward_load_key(c->sign_key, gw->sk, err, sizeof(err)) == -1)
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
	if (c->kpps[0] != '\0' && (gw->kpps = kpps_load(c->kpps, err,
	    sizeof(err))) == NULL)
		fatalx("%s", err);
	if (forward_tls_check(c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (alert_check(&c->alerts, err, sizeof(err)) == -1)
		fatalx("%s", err);
}

/*
 * The user named by `user', looked up while /etc is still ours to
 * read: 1 (with its uid and gid) when we must become it, 0 when there
 * is nothing to become: no `user', or we already are that user (as
 * under systemd's User=; `user = root' too).
 */
static int
tallygw_user(uid_t *uid, gid_t *gid)
{
	const char	*name = gw->conf.user;
	struct passwd	*pw;

	if (name[0] == '\0')
		return (0);
	errno = 0;
	if ((pw = getpwnam(name)) == NULL) {
		/* getpwnam(3): these say "not found", as 0 does. */
		if (errno == 0 || errno == ENOENT || errno == ESRCH ||
		    errno == EBADF || errno == EPERM)
			fatalx("user %s: no such user", name);
		fatal("user %s", name);
	}
	if (pw->pw_uid == geteuid() && pw->pw_uid == getuid())
		return (0);
	if (geteuid() != 0)
		fatalx("user %s: only root can become it (running as uid %ld)",
		    name, (long)geteuid());
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return (1);
}

/* Root with no `user': say so, once, where the log goes. */
static void
tallygw_root_warning(void)
{
	if (geteuid() == 0 && gw->conf.user[0] == '\0')
		log_warnx("tallygw: running as root: set user = in [gateway] "
		    "(e.g. tallygw) to drop root after start-up");
}

/*
 * Started as root: the state directory is made for the user, who is
 * about to create the store and socket in it. An existing one is left
 * alone (never chown what an administrator made).
 */
static void
tallygw_state_dir(uid_t uid, gid_t gid)
{
	const char	*dir = gw->conf.state_dir;

	if (mkdir(dir, 0750) == -1) {
		if (errno != EEXIST)
			fatal("%s", dir);
		return;
	}
	if (chown(dir, uid, gid) == -1)
		fatal("chown %s", dir);
}

/*
 * Become the user for good: its groups (dialout, for the modems the
 * workers open), gid, uid. Then make sure the way back is closed.
 */
static void
tallygw_privdrop(uid_t uid, gid_t gid)
{
	const char	*name = gw->conf.user;

	if (initgroups(name, gid) == -1)
		fatal("initgroups %s", name);
	if (setresgid(gid, gid, gid) == -1)
		fatal("setresgid %ld", (long)gid);
	if (setresuid(uid, uid, uid) == -1)
		fatal("setresuid %ld", (long)uid);
	if (setuid(0) != -1 || seteuid(0) != -1 || setgid(0) != -1 ||
	    setegid(0) != -1)
		fatalx("tallygw: could become root again after dropping to "
		    "%s", name);
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid)
		fatalx("tallygw: still not user %s after dropping root", name);
	log_info("tallygw: running as user %s (uid %ld, gid %ld)", name,
	    (long)uid, (long)gid);
}

/* The state directory: the lock, the store and what it rebuilds. */
static void
tallygw_state(void)
{
	struct gw_conf	*c = &gw->conf;
	char		 err[512], path[PATH_MAX + 32];
	int		 fd;

	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST)
		fatal("%s", c->state_dir);
	if (access(c->state_dir, W_OK | X_OK) == -1)
		fatal("state directory %s (it must be writable by uid %ld)",
		    c->state_dir, (long)geteuid());
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
	if (store_cache_size(gw->store, c->t.store_cache) == -1)
		fatalx("cannot set the store's page cache");
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
	if ((gw->parts = parts_new()) == NULL || receive_init() == -1)
		fatalx("out of memory");
	gw->lang = strcmp(c->language, "en") == 0 ? REPLY_EN : REPLY_ID;
}

int
main(int argc, char *argv[])
{
	const char	*file = "/etc/tallygw/tallygw.conf";
	char		 err[1024], sock[PATH_MAX + 32];
	int		 ch, check = 0, fg = 0, verbose = 0, drop;
	uid_t		 uid = 0;
	gid_t		 gid = 0;
	struct event	*sig[5];
	struct store_counts counts;
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
	tallygw_setup();
	drop = tallygw_user(&uid, &gid);
	if (check) {
		if (verbose > 1)
			config_print(&gw->conf, stdout);
		tallygw_root_warning();
		fprintf(stderr, "tallygw: configuration OK\n");
		exit(0);
	}
	if (drop)
		tallygw_state_dir(uid, gid);
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
		sig[i] = evsignal_new(gw->base, sigs[i], tallygw_sigcb, NULL);
		if (sig[i] == NULL || evsignal_add(sig[i], NULL) == -1)
			fatalx("cannot catch signal %d", sigs[i]);
	}
	/*
	 * Root's part: listeners that may want a port below 1024 (and the
	 * USSD secret, read once). Then root is dropped, and the user makes
	 * its own state: the store, the socket, the workers.
	 */
	if (ussd_start(err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (drop)
		tallygw_privdrop(uid, gid);
	else
		tallygw_root_warning();
	tallygw_state();
	if ((gw->fwdq = forward_queue_new(gw->base, gw->store, &gw->conf,
	    gw->sk)) == NULL)
		fatalx("cannot start the forwarder");
	/* The rows in flight are back in their queues: count them now. */
	if (store_counts(gw->store, &counts) == -1)
		fatalx("cannot count the store's rows");
	metrics_start(&counts);
	snprintf(sock, sizeof(sock), "%s/tallygw.sock", gw->conf.state_dir);
	if (admin_start(sock, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((gw->ev_tick = event_new(gw->base, -1, EV_PERSIST, tallygw_tickcb,
	    NULL)) == NULL || evtimer_add(gw->ev_tick, &tv) == -1)
		fatalx("cannot start the timer");
	log_info("tallygw: %s starting, state in %s", gw->conf.name,
	    gw->conf.state_dir);
	if (bank_start(&tallygw_bank_events) == -1)
		fatalx("cannot start the modem workers");
	tallygw_check_ready();
	outbox_kick();
	forward_queue_kick(gw->fwdq);

	event_base_dispatch(gw->base);

	log_info("tallygw: stopped");
	{
		struct modem	*m;

		TAILQ_FOREACH(m, &gw->modems, entry)
			if (m->pid > 0)
				kill(m->pid, SIGKILL);
	}
	admin_stop();
	alert_stop();
	ussd_stop();
	forward_queue_free(gw->fwdq);
	store_close(gw->store);
	return (0);
}
