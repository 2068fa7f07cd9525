/*
 * zygote: the modem workers' fork server (docs/design.md, "Processes").
 *
 * tallygw runs one `tallygw-modem -Z PAD`. It has loaded and relocated
 * libGammu and its libraries once; a worker forked from it, without
 * exec, shares those pages copy-on-write with every other worker, where
 * a worker started by exec writes its own copy of them (about 250 KB a
 * worker: docs/bench.md, "The zygote"). The zygote opens no modem,
 * starts no libGammu state machine and decides nothing: it forks what
 * it is asked to.
 *
 * A request (tallygw to zygote, one SOCK_SEQPACKET record): the
 * worker's arguments, argv[0] first, each ending with its NUL; with it,
 * as SCM_RIGHTS, the worker's end of its socketpair and the descriptor
 * it is to log to (stderr). The answer: an int32, the worker's pid, or
 * -errno. A child of the zygote forks the worker and exits at once: the
 * orphan goes to tallygw, a subreaper, which reaps, kills and restarts
 * it as it would a child it had forked itself.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "wire.h"
#include "zygote.h"

#define ZYGOTE_FD		3	/* our end of tallygw's socketpair */
#define ZYGOTE_ARGS_MAX		32	/* arguments a worker */
#define ZYGOTE_FDS		2	/* the socket, the log */

/* The arguments tallygw gave the zygote: a worker's `ps` line goes there. */
static char	*zygote_area;
static size_t	 zygote_area_len;

/* One request: as wire_recvfds, and -1 if its arguments do not end. */
static ssize_t
zygote_recv(int fd, char *buf, size_t len, int fds[ZYGOTE_FDS])
{
	ssize_t	 n;

	if ((n = wire_recvfds(fd, buf, len, fds, ZYGOTE_FDS)) > 0 &&
	    buf[n - 1] != '\0') {
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	return (n);
}

/* The NUL-ended strings of a request as an argv; -1 if too many. */
static int
zygote_split(char *buf, size_t len, char *argv[ZYGOTE_ARGS_MAX + 1])
{
	size_t	 off = 0;
	int	 argc = 0;

	while (off < len) {
		if (argc == ZYGOTE_ARGS_MAX)
			return (-1);
		argv[argc++] = buf + off;
		off += strlen(buf + off) + 1;
	}
	argv[argc] = NULL;
	return (argc);
}

/*
 * Fork the worker through a child that exits at once, so that the
 * worker is an orphan and goes to tallygw. Returns its pid, or -errno,
 * in the zygote; 0 in the worker.
 */
static pid_t
zygote_fork(void)
{
	int32_t	 v = -EIO;
	pid_t	 mid, pid;
	ssize_t	 n;
	int	 p[2], e;

	if (pipe2(p, O_CLOEXEC) == -1)
		return (-errno);
	switch ((mid = fork())) {
	case -1:
		e = errno;
		close(p[0]);
		close(p[1]);
		return (-e);
	case 0:
		close(p[0]);
		if ((pid = fork()) == 0) {
			close(p[1]);
			return (0);
		}
		v = pid == -1 ? -errno : (int32_t)pid;
		(void)write(p[1], &v, sizeof(v));
		_exit(0);
	}
	close(p[1]);
	do
		n = read(p[0], &v, sizeof(v));
	while (n == -1 && errno == EINTR);
	close(p[0]);
	while (waitpid(mid, NULL, 0) == -1 && errno == EINTR)
		;
	return (n == sizeof(v) ? (pid_t)v : -EIO);
}

/* In the worker: its socket on WIRE_WORKER_FD, its log on 2, no more. */
static void
zygote_worker_fds(int fds[ZYGOTE_FDS])
{
	int	 i;

	if (dup2(fds[0], WIRE_WORKER_FD) == -1 || dup2(fds[1], 2) == -1)
		_exit(127);
	for (i = WIRE_WORKER_FD + 1; i < 1024; i++)
		close(i);
}

/* In the worker: its own arguments where `ps` and `pgrep -f` read them. */
static void
zygote_title(char *argv[])
{
	size_t	 off = 0, n;
	int	 i;

	if (zygote_area == NULL)
		return;
	memset(zygote_area, 0, zygote_area_len);
	for (i = 0; argv[i] != NULL; i++) {
		n = strlen(argv[i]) + 1;
		if (off + n > zygote_area_len - 1)
			break;
		memcpy(zygote_area + off, argv[i], n);
		off += n;
	}
}

/* Keep where our own arguments lie, one block as exec laid them out. */
static void
zygote_keep_area(int argc, char *argv[])
{
	char	*end = argv[0];
	int	 i;

	for (i = 0; i < argc; i++) {
		if (argv[i] != end)
			return;		/* not one block: no titles */
		end += strlen(argv[i]) + 1;
	}
	zygote_area = argv[0];
	zygote_area_len = (size_t)(end - argv[0]);
}

/*
 * Serve tallygw's requests. Returns only in a forked worker, with
 * *wargc and *wargv its arguments and its descriptors in place; the
 * zygote itself exits when tallygw closes the socket.
 */
void
zygote_main(int argc, char *argv[], int *wargc, char ***wargv)
{
	static char	 req[WIRE_SPAWN_MAX];
	static char	*args[ZYGOTE_ARGS_MAX + 1];
	ssize_t		 n;
	int32_t		 answer;
	int		 fds[ZYGOTE_FDS], nargs;
	pid_t		 pid;

	zygote_keep_area(argc, argv);
	unsetenv("LD_BIND_NOW");	/* done: every symbol is bound */
	log_info("zygote: ready, pid %ld", (long)getpid());
	for (;;) {
		n = zygote_recv(ZYGOTE_FD, req, sizeof(req), fds);
		if (n == 0) {
			log_debug("zygote: tallygw closed the socket");
			exit(0);
		}
		if (n == -2)
			fatal("zygote: recvmsg");
		if (n == -1 || (nargs = zygote_split(req, (size_t)n,
		    args)) < 1) {
			log_warnx("zygote: a malformed request, refused");
			answer = -EINVAL;
			if (n > 0) {
				close(fds[0]);
				close(fds[1]);
			}
		} else if ((pid = zygote_fork()) == 0) {
			close(ZYGOTE_FD);
			zygote_worker_fds(fds);
			zygote_title(args);
			optind = 1;
			*wargc = nargs;
			*wargv = args;
			return;
		} else {
			close(fds[0]);
			close(fds[1]);
			answer = pid;
			if (pid < 0)
				log_warnx("zygote: fork: %s", strerror(-pid));
		}
		if (write(ZYGOTE_FD, &answer, sizeof(answer)) !=
		    sizeof(answer))
			fatal("zygote: answer");
	}
}
