/*
 * world: `tallysim world', the whole simulated GSM world and the
 * gateway wired together in one command (docs/sim.md, "World").
 *
 * This process runs the simulator of `tallysim run' (modems, SMS
 * centre, RUNDIR/ctl.sock, scenarios and the oracle).  It prepares
 * what a gateway needs (root key, signing keys, the TPS registry, a
 * configuration) and starts two children: tallysim's central receiver
 * (this binary, `central') and tallygw.  It prints `ready' once both
 * have printed theirs, and runs until SIGTERM or SIGINT.  A child that
 * dies on its own ends the world with exit status 1.
 */

#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <sodium.h>

#include "central.h"
#include "log.h"
#include "sim.h"
#include "tally.h"

#define WORLD_DATA		"../shared/data"
#define WORLD_DESA		"desa_tps_2024.csv"
#define WORLD_DPT		"pilpres2024_tps.csv"
#define WORLD_READY_SEC		120	/* for both children to say ready */
#define WORLD_STOP_SEC		10	/* after SIGTERM, before SIGKILL */
#define WORLD_KILL_SEC		5	/* after SIGKILL, give up waiting */
#define WORLD_LOG_TAIL		20	/* lines of a dead child's log shown */
#define WORLD_TAIL_BYTES	8192	/* read from the end of that log */
#define WORLD_LINE_MAX		4096	/* a longer stdout line is dropped */
#define WORLD_BALANCE		500000	/* Rp per SIM: topped up for the night */
#define WORLD_SWEEP		10	/* s, [tunables] sweep_interval */
#define WORLD_MULTIPART		30	/* s, [tunables] multipart_timeout */
#define WORLD_GW_NAME		"sim-gw"
#define WORLD_USSD_PATH		"/ussd"	/* [ussd] path */
#define WORLD_USSD_SECRET_LEN	32	/* characters of the USSD secret */

/* The world's state: one enum, changed by world_set_state(). */
enum world_state {
	WORLD_STARTING = 0,	/* waiting for central's, then tallygw's ready */
	WORLD_READY,		/* both said ready: reports flow */
	WORLD_STOPPING,		/* the children were asked to stop */
};

enum world_kid {
	KID_CENTRAL = 0,
	KID_GATEWAY,
	KID_MAX
};

struct world_child {
	const char	*name;
	pid_t		 pid;		/* -1: not running (or reaped) */
	int		 fd;		/* its stdout, -1 once closed */
	struct event	*ev;
	struct evbuffer	*in;
	int		 ready;
	char		 log[PATH_MAX];	/* its stderr */
};

struct world {
	enum world_state	 state;
	struct world_child	 kid[KID_MAX];
	struct event		*ev_term;
	struct event		*ev_int;
	struct event		*ev_chld;
	struct event		*ev_timer;
	int			 killed;	/* SIGKILL sent */
	int			 verbose;
	int			 rc;
	char			 self[PATH_MAX];
	char			 tallygw[PATH_MAX];
	char			 data[PATH_MAX];
	char			 root_key[PATH_MAX];
	char			 sign_sec[PATH_MAX];
	char			 sign_pub[PATH_MAX];
	char			 registry[PATH_MAX];
	char			 state_dir[PATH_MAX];
	char			 conf[PATH_MAX];
	char			 ussd_secret[PATH_MAX];
	char			 ussd_url[PATH_MAX];
	int			 receive;	/* m0.. receive-only */
};

static struct world	*world;

static __attribute__((__noreturn__)) void world_usage(void);
static const char	*world_state_name(enum world_state);
static void		 world_set_state(enum world_state);
static int		 world_path(char *, const char *);
static int		 world_root_key(void);
static int		 world_sign_keys(void);
static int		 world_registry(void);
static int		 world_central_port(void);
static int		 world_ussd_secret(void);
static int		 world_port_free(int);
static int		 world_ussd_port(void);
static int		 world_ussd_url(int);
static int		 world_write_conf(int, int);
static int		 world_spawn(struct world_child *, const char *,
			    char *const []);
static __attribute__((__noreturn__)) void world_exec(int, int, pid_t,
			    const char *, char *const []);
static void		 world_start_central(void);
static void		 world_start_gateway(void);
static void		 world_read(int, short, void *);
static void		 world_close(struct world_child *);
static void		 world_child_ready(struct world_child *);
static void		 world_reaped(struct world_child *, int);
static void		 world_tail(const struct world_child *);
static void		 world_stop(int);
static void		 world_signal(int, short, void *);
static void		 world_sigchld(int, short, void *);
static void		 world_timeout(int, short, void *);
static void		 world_after(int);

static __attribute__((__noreturn__)) void
world_usage(void)
{
	fprintf(stderr,
	    "usage: tallysim world --dir RUNDIR --modems K "
	    "[--profile instant|realistic] [--scale X]\n"
	    "              [--seed N] [-v] [--data DIR] [--tallygw PATH] "
	    "[--balance RP] [--daily-cap N]\n"
	    "              [--receive N]\n"
	    "see docs/sim.md\n");
	exit(2);
}

static const char *
world_state_name(enum world_state s)
{
	switch (s) {
	case WORLD_STARTING:
		return ("starting");
	case WORLD_READY:
		return ("ready");
	case WORLD_STOPPING:
		return ("stopping");
	}
	return ("?");
}

static void
world_set_state(enum world_state s)
{
	if (world->state == s)
		return;
	log_info("world: %s -> %s", world_state_name(world->state),
	    world_state_name(s));
	world->state = s;
}

/* RUNDIR/name into buf (PATH_MAX); -1 if it does not fit. */
static int
world_path(char *buf, const char *name)
{
	if ((size_t)snprintf(buf, PATH_MAX, "%s/%s", sim->dir, name) >=
	    PATH_MAX) {
		log_warnx("world: %s/%s: path too long", sim->dir, name);
		return (-1);
	}
	return (0);
}

/* The root key the gateway verifies with and scenarios sign with. */
static int
world_root_key(void)
{
	struct key	 k;
	char		 err[512];

	if (access(world->root_key, F_OK) == 0) {
		if (key_load(world->root_key, &k, err, sizeof(err)) == -1) {
			log_warnx("world: %s", err);
			return (-1);
		}
		key_wipe(&k, sizeof(k));
		log_info("world: %s: kept", world->root_key);
		return (0);
	}
	if (key_init() == -1 || key_generate(&k) == -1) {
		log_warnx("world: cannot generate a root key");
		return (-1);
	}
	if (key_save(world->root_key, &k, err, sizeof(err)) == -1) {
		key_wipe(&k, sizeof(k));
		log_warnx("world: %s", err);
		return (-1);
	}
	key_wipe(&k, sizeof(k));
	log_info("world: %s: new root key", world->root_key);
	return (0);
}

/* The gateway's Ed25519 pair: it signs forwards, the central checks. */
static int
world_sign_keys(void)
{
	int	 sec, pub;

	sec = access(world->sign_sec, F_OK) == 0;
	pub = access(world->sign_pub, F_OK) == 0;
	if (sec && pub) {
		log_info("world: %s: kept", world->sign_sec);
		return (0);
	}
	if (sec != pub) {
		log_warnx("world: %s exists without %s: remove it to get a "
		    "new pair", sec ? world->sign_sec : world->sign_pub,
		    sec ? world->sign_pub : world->sign_sec);
		return (-1);
	}
	if (central_keygen(world->sign_sec, world->sign_pub) == -1) {
		log_warnx("world: cannot write %s", world->sign_sec);
		return (-1);
	}
	log_info("world: %s: new signing key", world->sign_sec);
	return (0);
}

/*
 * The national TPS registry from the 2024 data, as `tallyctl import'
 * builds it.  Built under another name and renamed, so an interrupted
 * build is never taken for a registry; an existing one is kept.
 */
static int
world_registry(void)
{
	struct registry	*reg;
	char		 tmp[PATH_MAX], side[PATH_MAX + 8];
	char		 desa[PATH_MAX], dpt[PATH_MAX], err[512];
	size_t		 n = 0;
	int		 ok;

	if (access(world->registry, F_OK) == 0) {
		reg = registry_open(world->registry, REGISTRY_RDONLY, err,
		    sizeof(err));
		ok = reg != NULL && registry_count(reg, &n) == 0 && n > 0;
		if (reg != NULL)
			registry_close(reg);
		if (ok) {
			log_info("world: %s: kept (%zu TPS)", world->registry,
			    n);
			return (0);
		}
		log_warnx("world: %s: %s; building it again", world->registry,
		    reg == NULL ? err : "empty");
		unlink(world->registry);
	}
	if ((size_t)snprintf(desa, sizeof(desa), "%s/%s", world->data,
	    WORLD_DESA) >= sizeof(desa) ||
	    (size_t)snprintf(dpt, sizeof(dpt), "%s/%s", world->data,
	    WORLD_DPT) >= sizeof(dpt) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", world->registry) >=
	    sizeof(tmp)) {
		log_warnx("world: %s: path too long", world->data);
		return (-1);
	}
	if (access(desa, R_OK) == -1 || access(dpt, R_OK) == -1) {
		log_warnx("world: %s: %s (the registry is built from the 2024 "
		    "data: give --data DIR)", access(desa, R_OK) == -1 ?
		    desa : dpt, strerror(errno));
		return (-1);
	}
	unlink(tmp);
	snprintf(side, sizeof(side), "%s-wal", tmp);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", tmp);
	unlink(side);
	if ((reg = registry_open(tmp, REGISTRY_CREATE, err, sizeof(err))) ==
	    NULL) {
		log_warnx("world: %s", err);
		return (-1);
	}
	if (registry_import_desa(reg, desa, &n, err, sizeof(err)) == -1 ||
	    registry_import_dpt(reg, dpt, &n, err, sizeof(err)) == -1 ||
	    registry_count(reg, &n) == -1) {
		log_warnx("world: %s", err);
		registry_close(reg);
		unlink(tmp);
		return (-1);
	}
	registry_close(reg);
	if (rename(tmp, world->registry) == -1) {
		log_warn("world: %s", world->registry);
		unlink(tmp);
		return (-1);
	}
	log_info("world: %s: %zu TPS", world->registry, n);
	return (0);
}

/* The port the central receiver listens on, from RUNDIR/central.port. */
static int
world_central_port(void)
{
	char	 path[PATH_MAX];
	FILE	*fp;
	int	 port;

	if (world_path(path, "central.port") == -1)
		return (-1);
	if ((fp = fopen(path, "r")) == NULL) {
		log_warn("world: %s", path);
		return (-1);
	}
	if (fscanf(fp, "%d", &port) != 1 || port < 1 || port > 65535) {
		log_warnx("world: %s: no port in it", path);
		port = -1;
	}
	fclose(fp);
	return (port);
}

/*
 * The aggregator's shared secret of [ussd], RUNDIR/ussd.secret (mode
 * 0600): letters and digits from libsodium's generator.  One that is
 * there is kept, as the keys are.
 */
static int
world_ussd_secret(void)
{
	static const char	 abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789";
	char			 buf[WORLD_USSD_SECRET_LEN + 1];
	int			 fd, i, rc = 0;

	if (access(world->ussd_secret, F_OK) == 0) {
		log_info("world: %s: kept", world->ussd_secret);
		return (0);
	}
	if (sodium_init() < 0) {
		log_warnx("world: libsodium does not start");
		return (-1);
	}
	for (i = 0; i < WORLD_USSD_SECRET_LEN; i++)
		buf[i] = abc[randombytes_uniform(sizeof(abc) - 1)];
	buf[i] = '\n';
	if ((fd = open(world->ussd_secret, O_WRONLY | O_CREAT | O_EXCL |
	    O_CLOEXEC, 0600)) == -1 || write(fd, buf, sizeof(buf)) !=
	    (ssize_t)sizeof(buf) || fsync(fd) == -1) {
		log_warn("world: %s", world->ussd_secret);
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	sodium_memzero(buf, sizeof(buf));
	if (rc == -1)
		unlink(world->ussd_secret);
	else
		log_info("world: %s: new USSD secret", world->ussd_secret);
	return (rc);
}

/* Whether 127.0.0.1:port can be bound now; port 0: which one was. */
static int
world_port_free(int port)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		close(fd);
		return (-1);
	}
	close(fd);
	return (ntohs(sin.sin_port));
}

/*
 * The port of the gateway's USSD listener: the previous run's (in
 * RUNDIR/ussd.url) if it is free, else one the kernel picks.  tallygw
 * binds it a moment later, as the central receiver's port is reused.
 */
static int
world_ussd_port(void)
{
	FILE	*fp;
	int	 port = 0;

	if ((fp = fopen(world->ussd_url, "r")) != NULL) {
		if (fscanf(fp, "http://127.0.0.1:%d", &port) != 1 ||
		    port < 1 || port > 65535 || world_port_free(port) == -1)
			port = 0;
		fclose(fp);
	}
	if (port == 0 && (port = world_port_free(0)) == -1)
		log_warn("world: no free port for [ussd]");
	return (port);
}

/* RUNDIR/ussd.url, where `tallysim ctl ussd' finds the callback. */
static int
world_ussd_url(int port)
{
	FILE	*fp;

	if ((fp = fopen(world->ussd_url, "w")) == NULL) {
		log_warn("world: %s", world->ussd_url);
		return (-1);
	}
	fprintf(fp, "http://127.0.0.1:%d%s\n", port, WORLD_USSD_PATH);
	if (fclose(fp) == EOF) {
		log_warn("world: %s", world->ussd_url);
		return (-1);
	}
	return (0);
}

/*
 * RUNDIR/tallygw.conf for this run: the modems' numbers depend on the
 * seed and the central's port may change, so it is written every time
 * (to a temporary file, then renamed).
 */
static int
world_write_conf(int port, int ussd)
{
	struct modem	*m;
	FILE		*fp;
	char		 tmp[PATH_MAX];
	int		 i, sweep = WORLD_SWEEP;

	/* Not scaled: the sweep is a backstop; +CMTI brings messages. */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", world->conf) >=
	    sizeof(tmp)) {
		log_warnx("world: %s: path too long", world->conf);
		return (-1);
	}
	if ((fp = fopen(tmp, "w")) == NULL) {
		log_warn("world: %s", tmp);
		return (-1);
	}
	fprintf(fp, "# Written by `tallysim world' for the simulated modems "
	    "of %s;\n# rewritten at every start.\n\n", sim->dir);
	fprintf(fp, "[gateway]\nname = %s\nstate = %s\nkey = %s\n"
	    "sign_key = %s\nregistry = %s\n\n", WORLD_GW_NAME,
	    world->state_dir, world->root_key, world->sign_sec,
	    world->registry);
	fprintf(fp, "[tunables]\nsweep_interval = %d\n"
	    "multipart_timeout = %d\n", sweep, WORLD_MULTIPART);
	for (i = 0; i < sim->nmodems; i++) {
		m = &sim->modems[i];
		fprintf(fp, "\n[modem m%d]\ndevice = %s\nnumber = %s\n"
		    "operator = %s\n", i, m->link, m->msisdn, m->op->name);
		if (i < world->receive)
			fprintf(fp, "role = receive\n");
	}
	fprintf(fp, "\n[central sim]\nurl = http://127.0.0.1:%d/v1/reports\n",
	    port);
	fprintf(fp, "\n[ussd]\nlisten = 127.0.0.1:%d\npath = %s\n"
	    "secret = %s\nservice = %s\n", ussd, WORLD_USSD_PATH,
	    world->ussd_secret, SIM_USSD_SERVICE);
	if (fflush(fp) == EOF || fsync(fileno(fp)) == -1) {
		log_warn("world: %s", tmp);
		fclose(fp);
		unlink(tmp);
		return (-1);
	}
	if (fclose(fp) == EOF || rename(tmp, world->conf) == -1) {
		log_warn("world: %s", world->conf);
		unlink(tmp);
		return (-1);
	}
	log_info("world: %s: %d modems, central on port %d, USSD on %d",
	    world->conf, sim->nmodems, port, ussd);
	return (0);
}

/* In the child: stdout to the pipe, stderr to the log, then exec. */
static __attribute__((__noreturn__)) void
world_exec(int out, int err, pid_t parent, const char *path,
    char *const argv[])
{
	sigset_t	 set;
	long		 fd, max;
	int		 null;

	/* Our own group: a terminal's ^C reaches the world only. */
	setpgid(0, 0);
	/* If the world is killed outright, its children follow. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(127);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
	if ((null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1 ||
	    dup2(out, STDOUT_FILENO) == -1 ||
	    dup2(err, STDERR_FILENO) == -1)
		_exit(127);
	/* The modems' ptys are no business of the children. */
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = STDERR_FILENO + 1; fd < max; fd++)
		close((int)fd);
	execv(path, argv);
	dprintf(STDERR_FILENO, "tallysim: world: %s: %s\n", path,
	    strerror(errno));
	_exit(127);
}

static int
world_spawn(struct world_child *k, const char *path, char *const argv[])
{
	int	 p[2], logfd;
	pid_t	 pid, parent = getpid();

	if ((logfd = open(k->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0644)) == -1) {
		log_warn("world: %s", k->log);
		return (-1);
	}
	if (pipe2(p, O_CLOEXEC) == -1) {
		log_warn("world: pipe");
		close(logfd);
		return (-1);
	}
	if ((pid = fork()) == -1) {
		log_warn("world: fork");
		close(p[0]);
		close(p[1]);
		close(logfd);
		return (-1);
	}
	if (pid == 0)
		world_exec(p[1], logfd, parent, path, argv);
	close(p[1]);
	close(logfd);
	k->pid = pid;
	k->fd = p[0];
	k->ready = 0;
	evutil_make_socket_nonblocking(k->fd);
	if ((k->in = evbuffer_new()) == NULL ||
	    (k->ev = event_new(sim->base, k->fd, EV_READ | EV_PERSIST,
	    world_read, k)) == NULL || event_add(k->ev, NULL) == -1) {
		log_warnx("world: %s: cannot watch its output", k->name);
		world_close(k);
		return (-1);
	}
	log_info("world: %s started, pid %ld, log %s", k->name, (long)pid,
	    k->log);
	return (0);
}

static void
world_start_central(void)
{
	struct world_child	*k = &world->kid[KID_CENTRAL];
	char			 a0[] = "tallysim", a1[] = "central";
	char			 dir[] = "--dir", pub[] = "--pubkey", v[] = "-v";
	char			*argv[8];
	int			 n = 0;

	argv[n++] = a0;
	argv[n++] = a1;
	argv[n++] = dir;
	argv[n++] = sim->dir;
	argv[n++] = pub;
	argv[n++] = world->sign_pub;
	if (world->verbose)
		argv[n++] = v;
	argv[n] = NULL;
	if (world_spawn(k, world->self, argv) == -1)
		world_stop(1);
}

/* tallygw needs the central's port in its configuration: after it. */
static void
world_start_gateway(void)
{
	struct world_child	*k = &world->kid[KID_GATEWAY];
	char			 a0[] = "tallygw", a1[] = "-d", a2[] = "-f";
	char			*argv[5];
	int			 port, ussd;

	if ((port = world_central_port()) == -1 ||
	    (ussd = world_ussd_port()) == -1 ||
	    world_write_conf(port, ussd) == -1 ||
	    world_ussd_url(ussd) == -1) {
		world_stop(1);
		return;
	}
	argv[0] = a0;
	argv[1] = a1;
	argv[2] = a2;
	argv[3] = world->conf;
	argv[4] = NULL;
	if (world_spawn(k, world->tallygw, argv) == -1)
		world_stop(1);
}

static void
world_close(struct world_child *k)
{
	if (k->ev != NULL)
		event_free(k->ev);
	k->ev = NULL;
	if (k->in != NULL)
		evbuffer_free(k->in);
	k->in = NULL;
	if (k->fd != -1)
		close(k->fd);
	k->fd = -1;
}

/* A child's stdout: `ready' once; anything else goes to the debug log. */
static void
world_read(int fd, short ev, void *arg)
{
	struct world_child	*k = arg;
	char			*line;
	size_t			 len;
	int			 n;

	n = evbuffer_read(k->in, fd, 4096);
	if (n == -1 && (errno == EAGAIN || errno == EINTR))
		return;
	while (k->in != NULL && (line = evbuffer_readln(k->in, &len,
	    EVBUFFER_EOL_CRLF)) != NULL) {
		if (!k->ready && strcmp(line, "ready") == 0)
			world_child_ready(k);
		else
			log_debug("world: %s: %s", k->name, line);
		free(line);
	}
	if (n <= 0)
		world_close(k);	/* EOF: its exit comes by SIGCHLD */
	else if (evbuffer_get_length(k->in) > WORLD_LINE_MAX)
		evbuffer_drain(k->in, evbuffer_get_length(k->in));
}

static void
world_child_ready(struct world_child *k)
{
	k->ready = 1;
	log_info("world: %s is ready", k->name);
	if (world->state != WORLD_STARTING)
		return;
	if (k == &world->kid[KID_CENTRAL]) {
		world_start_gateway();
		return;
	}
	evtimer_del(world->ev_timer);
	world_set_state(WORLD_READY);
	printf("ready\n");
	fflush(stdout);
}

/* The last lines of a child's log, so a failed start explains itself. */
static void
world_tail(const struct world_child *k)
{
	char	 buf[WORLD_TAIL_BYTES + 1], *p;
	FILE	*fp;
	size_t	 n;
	long	 size;
	int	 lines = 0;

	if ((fp = fopen(k->log, "r")) == NULL)
		return;
	if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >
	    WORLD_TAIL_BYTES)
		fseek(fp, size - WORLD_TAIL_BYTES, SEEK_SET);
	else
		fseek(fp, 0, SEEK_SET);
	n = fread(buf, 1, WORLD_TAIL_BYTES, fp);
	fclose(fp);
	buf[n] = '\0';
	if (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (p[-1] == '\n' && ++lines == WORLD_LOG_TAIL)
			break;
	if (*p == '\0')
		return;
	fprintf(stderr, "tallysim: world: the last lines of %s:\n", k->log);
	while (*p != '\0') {
		n = strcspn(p, "\n");
		fprintf(stderr, "  %.*s\n", (int)n, p);
		p += n;
		if (*p == '\n')
			p++;
	}
	fflush(stderr);
}

/* A child is gone: expected while stopping, the end of the world else. */
static void
world_reaped(struct world_child *k, int status)
{
	char	 how[64];
	int	 i, running = 0;

	k->pid = -1;
	if (WIFEXITED(status))
		snprintf(how, sizeof(how), "exited with status %d",
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(how, sizeof(how), "was killed by signal %d",
		    WTERMSIG(status));
	else
		snprintf(how, sizeof(how), "ended (status 0x%x)", status);
	if (world->state == WORLD_STOPPING)
		log_info("world: %s %s", k->name, how);
	else {
		log_warnx("world: %s %s%s", k->name, how, k->ready ? "" :
		    " before it was ready");
		world_tail(k);
		world_stop(1);
	}
	for (i = 0; i < KID_MAX; i++)
		running += world->kid[i].pid != -1;
	if (world->state == WORLD_STOPPING && running == 0)
		event_base_loopbreak(sim->base);
}

/* Ask every child to stop; the loop ends when the last one is reaped. */
static void
world_stop(int rc)
{
	int	 i, running = 0;

	if (rc != 0)
		world->rc = rc;
	if (world->state == WORLD_STOPPING)
		return;
	world_set_state(WORLD_STOPPING);
	for (i = 0; i < KID_MAX; i++) {
		if (world->kid[i].pid == -1)
			continue;
		running++;
		log_info("world: stopping %s (pid %ld)", world->kid[i].name,
		    (long)world->kid[i].pid);
		kill(world->kid[i].pid, SIGTERM);
	}
	if (running == 0) {
		event_base_loopbreak(sim->base);
		return;
	}
	world_after(WORLD_STOP_SEC);
}

static void
world_signal(int sig, short ev, void *arg)
{
	log_info("world: signal %d, shutting down", sig);
	world_stop(0);
}

static void
world_sigchld(int sig, short ev, void *arg)
{
	pid_t	 pid;
	int	 status, i;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		for (i = 0; i < KID_MAX; i++)
			if (world->kid[i].pid == pid)
				world_reaped(&world->kid[i], status);
}

/* Start-up took too long, or a child does not stop. */
static void
world_timeout(int fd, short ev, void *arg)
{
	int	 i;

	if (world->state == WORLD_STARTING) {
		for (i = 0; i < KID_MAX; i++)
			if (!world->kid[i].ready) {
				log_warnx("world: %s is not ready after %d s",
				    world->kid[i].name, WORLD_READY_SEC);
				world_tail(&world->kid[i]);
				break;
			}
		world_stop(1);
		return;
	}
	if (world->state != WORLD_STOPPING)
		return;
	if (world->killed) {
		log_warnx("world: children still there after SIGKILL; "
		    "giving up");
		event_base_loopbreak(sim->base);
		return;
	}
	for (i = 0; i < KID_MAX; i++)
		if (world->kid[i].pid != -1) {
			log_warnx("world: %s did not stop in %d s: SIGKILL",
			    world->kid[i].name, WORLD_STOP_SEC);
			kill(world->kid[i].pid, SIGKILL);
		}
	world->killed = 1;
	world_after(WORLD_KILL_SEC);
}

static void
world_after(int sec)
{
	struct timeval	 tv = { sec, 0 };

	evtimer_add(world->ev_timer, &tv);
}

int
world_main(int argc, char **argv)
{
	static struct world	 w;
	struct sim_args		 a;
	const char		*data = WORLD_DATA, *gw = NULL, *receive = "0";
	char			*end;
	long			 l;
	char			*slash;
	int			 i, pending;

	world = &w;
	sim_args_init(&a);
	a.balance = WORLD_BALANCE;
	for (i = 0; i < argc; i++) {
		if (sim_arg(&a, argc, argv, &i))
			continue;
		if (i + 1 >= argc)
			world_usage();
		if (strcmp(argv[i], "--data") == 0)
			data = argv[++i];
		else if (strcmp(argv[i], "--tallygw") == 0)
			gw = argv[++i];
		else if (strcmp(argv[i], "--receive") == 0)
			receive = argv[++i];
		else
			world_usage();
	}
	w.verbose = a.verbose;
	w.rc = 0;
	for (i = 0; i < KID_MAX; i++) {
		w.kid[i].pid = -1;
		w.kid[i].fd = -1;
	}
	w.kid[KID_CENTRAL].name = "central";
	w.kid[KID_GATEWAY].name = "tallygw";

	/* Everything that can be wrong in the arguments, before anything. */
	if (a.dir == NULL || a.modems < 1 || a.modems > SIM_MODEMS_MAX) {
		fprintf(stderr, "tallysim: need --dir and --modems 1..%d\n",
		    SIM_MODEMS_MAX);
		world_usage();
	}
	errno = 0;
	l = strtol(receive, &end, 10);
	if (errno != 0 || *end != '\0' || end == receive || l < 0 ||
	    l > a.modems) {
		fprintf(stderr, "tallysim: --receive %s: not 0..%ld modems\n",
		    receive, (long)a.modems);
		world_usage();
	}
	w.receive = (int)l;
	if (realpath("/proc/self/exe", w.self) == NULL) {
		fprintf(stderr, "tallysim: /proc/self/exe: %s\n",
		    strerror(errno));
		return (1);
	}
	if (gw == NULL) {
		memcpy(w.tallygw, w.self, sizeof(w.tallygw));
		if ((slash = strrchr(w.tallygw, '/')) == NULL ||
		    (size_t)(slash - w.tallygw) + sizeof("/tallygw") >
		    sizeof(w.tallygw)) {
			fprintf(stderr, "tallysim: %s: odd path\n", w.self);
			return (1);
		}
		memcpy(slash, "/tallygw", sizeof("/tallygw"));
	} else if (realpath(gw, w.tallygw) == NULL) {
		fprintf(stderr, "tallysim: --tallygw %s: %s\n", gw,
		    strerror(errno));
		return (1);
	}
	if (access(w.tallygw, X_OK) == -1) {
		fprintf(stderr, "tallysim: %s: %s (build it with make, or "
		    "give --tallygw PATH)\n", w.tallygw, strerror(errno));
		return (1);
	}
	if (realpath(data, w.data) == NULL) {
		fprintf(stderr, "tallysim: --data %s: %s (the directory of "
		    "%s and %s)\n", data, strerror(errno), WORLD_DESA,
		    WORLD_DPT);
		return (1);
	}

	sim_start(&a);
	if (world_path(w.root_key, "root.key") == -1 ||
	    world_path(w.sign_sec, "gateway.sec") == -1 ||
	    world_path(w.sign_pub, "gateway.pub") == -1 ||
	    world_path(w.registry, "registry.db") == -1 ||
	    world_path(w.state_dir, "gw") == -1 ||
	    world_path(w.conf, "tallygw.conf") == -1 ||
	    world_path(w.ussd_secret, "ussd.secret") == -1 ||
	    world_path(w.ussd_url, "ussd.url") == -1 ||
	    world_path(w.kid[KID_CENTRAL].log, "central.log") == -1 ||
	    world_path(w.kid[KID_GATEWAY].log, "tallygw.log") == -1)
		goto fail;
	if (mkdir(w.state_dir, 0700) == -1 && errno != EEXIST) {
		log_warn("world: %s", w.state_dir);
		goto fail;
	}
	if (world_root_key() == -1 || world_sign_keys() == -1 ||
	    world_ussd_secret() == -1 || world_registry() == -1)
		goto fail;

	/* Signals first, so that no child's end goes unseen. */
	w.ev_term = evsignal_new(sim->base, SIGTERM, world_signal, NULL);
	w.ev_int = evsignal_new(sim->base, SIGINT, world_signal, NULL);
	w.ev_chld = evsignal_new(sim->base, SIGCHLD, world_sigchld, NULL);
	w.ev_timer = evtimer_new(sim->base, world_timeout, NULL);
	if (w.ev_term == NULL || w.ev_int == NULL || w.ev_chld == NULL ||
	    w.ev_timer == NULL || evsignal_add(w.ev_term, NULL) == -1 ||
	    evsignal_add(w.ev_int, NULL) == -1 ||
	    evsignal_add(w.ev_chld, NULL) == -1) {
		log_warnx("world: cannot catch signals");
		goto fail;
	}
	world_after(WORLD_READY_SEC);
	world_start_central();
	event_base_dispatch(sim->base);

	/* Whatever is left after the loop: reap without waiting. */
	for (i = 0, pending = 0; i < KID_MAX; i++) {
		if (w.kid[i].pid != -1 &&
		    waitpid(w.kid[i].pid, NULL, WNOHANG) == 0)
			pending++;
		world_close(&w.kid[i]);
	}
	if (pending > 0)
		log_warnx("world: %d children left running", pending);
	log_info("world: stopped, exit status %d", w.rc);
	goto done;
 fail:
	w.rc = 1;
 done:
	if (w.ev_term != NULL)
		event_free(w.ev_term);
	if (w.ev_int != NULL)
		event_free(w.ev_int);
	if (w.ev_chld != NULL)
		event_free(w.ev_chld);
	if (w.ev_timer != NULL)
		event_free(w.ev_timer);
	sim_stop();
	return (w.rc);
}
