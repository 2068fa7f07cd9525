/*
 * spawn: how the bank starts a modem worker (docs/design.md,
 * "Processes"). Through the zygote, `tallygw-modem -Z` (modem/zygote.c),
 * which forks each worker from one copy of libGammu's relocated pages;
 * by fork and exec when there is no zygote (it cannot start, died, or
 * did not answer). Either way the worker ends up our child: we are the
 * subreaper of the zygote's orphans. The bank supervises workers; this
 * file only starts them and supervises the zygote.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "daemon.h"

#define SPAWN_ANSWER_MS		2000	/* the zygote answers within */
#define SPAWN_RETRY		30	/* s before a failed zygote again */
#define SPAWN_PAD		2048	/* bytes of argument area: titles */

enum spawn_state {
	SPAWN_NONE,		/* no zygote: one starts at the next spawn */
	SPAWN_READY,		/* a zygote runs and answers */
	SPAWN_BACKOFF,		/* it failed: fork + exec until retry_at */
	SPAWN_OFF,		/* no subreaper here: fork + exec only */
};

static const char *spawn_states[] = {
	[SPAWN_NONE] = "none",
	[SPAWN_READY] = "ready",
	[SPAWN_BACKOFF] = "backoff",
	[SPAWN_OFF] = "off",
};

static struct {
	enum spawn_state state;
	pid_t		 pid;
	int		 fd;
	time_t		 retry_at;
	char		 prog[PATH_MAX];
	struct stat	 st;		/* the program it runs */
} spawn_z = { SPAWN_NONE, 0, -1, 0, "", { 0 } };

/* The one place the zygote's state changes. */
static void
spawn_set_state(enum spawn_state s, const char *why)
{
	if (spawn_z.state == s)
		return;
	log_info("spawn: zygote %s -> %s (%s)", spawn_states[spawn_z.state],
	    spawn_states[s], why);
	spawn_z.state = s;
}

/*
 * In a child: the socket on WIRE_WORKER_FD, the rest closed, signals as
 * at exec.
 */
static void
spawn_child_fds(int sock)
{
	int	 i;

	if (sock != WIRE_WORKER_FD) {
		if (dup2(sock, WIRE_WORKER_FD) == -1)
			_exit(127);
		close(sock);
	}
	for (i = WIRE_WORKER_FD + 1; i < 1024; i++)
		close(i);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_IGN);	/* the main process decides */
}

/* Drop the zygote (it exits when its socket closes; killed to be sure). */
static void
spawn_drop(enum spawn_state next, const char *why)
{
	if (spawn_z.fd != -1)
		close(spawn_z.fd);
	spawn_z.fd = -1;
	if (spawn_z.pid > 0)
		kill(spawn_z.pid, SIGKILL);	/* reaped in spawn_reaped */
	if (next == SPAWN_BACKOFF)
		spawn_z.retry_at = time(NULL) + SPAWN_RETRY;
	spawn_set_state(next, why);
}

/* Start `prog -Z PAD`, with LD_BIND_NOW so that it binds every symbol. */
static int
spawn_zygote(const char *prog, const struct stat *st)
{
	static char	 pad[SPAWN_PAD];
	char		*argv[6];
	int		 sp[2], i = 0;
	pid_t		 pid;

	if (prctl(PR_SET_CHILD_SUBREAPER, 1) == -1) {
		log_warn("spawn: cannot be a subreaper; workers by exec");
		spawn_set_state(SPAWN_OFF, "no subreaper");
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) == -1) {
		log_warn("spawn: socketpair");
		return (-1);
	}
	memset(pad, ' ', sizeof(pad) - 1);
	argv[i++] = (char *)(uintptr_t)prog;
	argv[i++] = (char *)(uintptr_t)"-Z";
	argv[i++] = pad;
	if (gw->conf.log_syslog)
		argv[i++] = (char *)(uintptr_t)"-s";
	if (gw->conf.log_level > 0)
		argv[i++] = (char *)(uintptr_t)"-v";
	argv[i] = NULL;
	switch ((pid = fork())) {
	case -1:
		log_warn("spawn: fork");
		close(sp[0]);
		close(sp[1]);
		return (-1);
	case 0:
		spawn_child_fds(sp[1]);
		setenv("LD_BIND_NOW", "1", 1);
		execv(prog, argv);
		fprintf(stderr, "tallygw: cannot run %s: %s\n", prog,
		    strerror(errno));
		_exit(127);
	}
	close(sp[1]);
	spawn_z.fd = sp[0];
	spawn_z.pid = pid;
	spawn_z.st = *st;
	snprintf(spawn_z.prog, sizeof(spawn_z.prog), "%s", prog);
	spawn_set_state(SPAWN_READY, "started");
	log_info("spawn: zygote pid %ld (%s -Z)", (long)pid, prog);
	return (0);
}

/* Ask the zygote for a worker: its pid, or -1 (the zygote is dropped). */
static pid_t
spawn_ask(char *const argv[], int sock)
{
	char		 req[WIRE_SPAWN_MAX];
	struct pollfd	 pfd;
	size_t		 len = 0, n;
	ssize_t		 r;
	int32_t		 answer;
	int		 fds[2] = { sock, 2 }, i;

	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (len + n > sizeof(req))
			return (-1);	/* cannot happen: paths are bounded */
		memcpy(req + len, argv[i], n);
		len += n;
	}
	if (wire_sendfds(spawn_z.fd, req, len, fds, 2) == -1) {
		log_warn("spawn: zygote: send");
		spawn_drop(SPAWN_BACKOFF, "cannot send to it");
		return (-1);
	}
	pfd.fd = spawn_z.fd;
	pfd.events = POLLIN;
	do
		r = poll(&pfd, 1, SPAWN_ANSWER_MS);
	while (r == -1 && errno == EINTR);
	if (r <= 0) {
		log_warnx("spawn: zygote: no answer in %d ms",
		    SPAWN_ANSWER_MS);
		spawn_drop(SPAWN_BACKOFF, "no answer");
		return (-1);
	}
	do
		r = read(spawn_z.fd, &answer, sizeof(answer));
	while (r == -1 && errno == EINTR);
	if (r != sizeof(answer)) {
		log_warnx("spawn: zygote: %s", r == 0 ? "gone" : "bad answer");
		spawn_drop(SPAWN_BACKOFF, r == 0 ? "gone" : "bad answer");
		return (-1);
	}
	if (answer <= 0) {
		log_warnx("spawn: zygote: cannot fork: %s", strerror(-answer));
		return (-1);
	}
	return ((pid_t)answer);
}

/*
 * Start a worker: prog with argv, sock its fd 3. By the zygote when
 * there is one that runs the program as it is on disk now (an upgrade
 * restarts it), else by fork and exec. Returns its pid, or -1.
 */
pid_t
spawn_worker(const char *prog, char *const argv[], int sock)
{
	struct stat	 st;
	pid_t		 pid;

	if (stat(prog, &st) == 0) {
		if (spawn_z.state == SPAWN_READY &&
		    (strcmp(prog, spawn_z.prog) != 0 ||
		    st.st_dev != spawn_z.st.st_dev ||
		    st.st_ino != spawn_z.st.st_ino ||
		    st.st_mtim.tv_sec != spawn_z.st.st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != spawn_z.st.st_mtim.tv_nsec))
			spawn_drop(SPAWN_NONE, "the program changed");
		if (spawn_z.state == SPAWN_NONE ||
		    (spawn_z.state == SPAWN_BACKOFF &&
		    time(NULL) >= spawn_z.retry_at))
			(void)spawn_zygote(prog, &st);
		if (spawn_z.state == SPAWN_READY &&
		    (pid = spawn_ask(argv, sock)) > 0)
			return (pid);
	}
	switch ((pid = fork())) {
	case -1:
		log_warn("spawn: fork");
		return (-1);
	case 0:
		spawn_child_fds(sock);
		execv(prog, argv);
		fprintf(stderr, "tallygw: cannot run %s: %s\n", prog,
		    strerror(errno));
		_exit(127);
	}
	return (pid);
}

/* SIGCHLD: 1 if pid was the zygote (a worker restarts it), else 0. */
int
spawn_reaped(pid_t pid, int status)
{
	if (pid != spawn_z.pid || pid <= 0)
		return (0);
	spawn_z.pid = 0;
	if (spawn_z.state == SPAWN_READY) {
		if (WIFEXITED(status))
			log_warnx("spawn: zygote exited %d",
			    WEXITSTATUS(status));
		else
			log_warnx("spawn: zygote killed by signal %d",
			    WTERMSIG(status));
		spawn_drop(SPAWN_BACKOFF, "it exited");
	}
	return (1);
}

/* The gateway stops: so does the zygote. */
void
spawn_stop(void)
{
	if (spawn_z.state == SPAWN_READY)
		spawn_drop(SPAWN_NONE, "gateway stopping");
}
