/*
 * wiredrive: play the main process for one modem worker, for tests.
 *
 *	wiredrive PROGRAM [ARGS...]
 *
 * Runs PROGRAM with its end of a socketpair as fd 3, prints every frame
 * it sends as one line on standard output (flushed), and reads commands
 * from standard input, one a line:
 *
 *	send ID NUMBER TEXT...	  SEND with a status report requested
 *	sendq ID NUMBER TEXT...	  SEND without a report
 *	delete ID LOCATION [IDENT...]  DELETE of the message IDENT
 *				  (wire_ident; none: whatever is there)
 *	deletefrom ID LOCATION NUMBER IDENT...  the same, of NUMBER's
 *	sweep | reconnect | shutdown
 *	balance ID CODE		  BALANCE (USSD)
 *	raw TYPE		  a frame of any type number, no fields
 *	sleep MS		  keep printing frames for MS ms
 *	expect REGEX MS		  wait for a line matching REGEX (extended)
 *				  after the last matched one; exit 1 if none
 *	absent REGEX MS		  exit 1 if such a line comes within MS ms
 *	mark			  later expects only see later lines
 *	close			  close our end (the worker sees EOF)
 *	wait MS			  wait for the worker to exit
 *
 * TEXT takes \n, \t, \\ and \xNN escapes. In printed lines, control
 * characters and backslashes are escaped the same way. At the end of
 * input wiredrive closes the socket, waits for the worker and exits
 * with its status (128 + signal if it was killed).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wire.h"

#define DRIVE_LINE_MAX	8192

static int	 drive_fd = -1;		/* our end of the socketpair */
static pid_t	 drive_pid = -1;
static int	 drive_eof;		/* the worker closed its end */
static char	**drive_lines;		/* every line printed */
static size_t	 drive_nlines, drive_cap;
static size_t	 drive_cursor;		/* expect looks from here */

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: wiredrive program [args...]\n");
	exit(2);
}

static long long
drive_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Append s to buf with control characters and backslashes escaped. */
static void
drive_escape(char *buf, size_t sz, const char *s)
{
	size_t	 off = strlen(buf);
	int	 n;

	for (; *s != '\0' && off + 5 < sz; s++) {
		unsigned char c = *s;

		if (c == '\\')
			n = snprintf(buf + off, sz - off, "\\\\");
		else if (c == '\n')
			n = snprintf(buf + off, sz - off, "\\n");
		else if (c == '\t')
			n = snprintf(buf + off, sz - off, "\\t");
		else if (c < 0x20 || c == 0x7f)
			n = snprintf(buf + off, sz - off, "\\x%02x", c);
		else {
			buf[off] = c;
			buf[off + 1] = '\0';
			n = 1;
		}
		off += n;
	}
}

static void
drive_add(char *buf, size_t sz, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

static void
drive_add(char *buf, size_t sz, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 off = strlen(buf);

	va_start(ap, fmt);
	vsnprintf(buf + off, sz - off, fmt, ap);
	va_end(ap);
}

/* Field name, then an escaped string. */
static void
drive_str(char *buf, size_t sz, const char *name, const char *s)
{
	drive_add(buf, sz, " %s=", name);
	drive_escape(buf, sz, s);
}

/* One frame as one line: the type, then the fields it carries. */
static void
drive_format(const struct wire_msg *m, char *buf, size_t sz)
{
	buf[0] = '\0';
	drive_add(buf, sz, "%s", wire_type_name(m->type));
	switch (m->type) {
	case WIRE_HELLO:
		drive_str(buf, sz, "text", m->text);
		drive_str(buf, sz, "info", m->info);
		break;
	case WIRE_STATE:
		drive_add(buf, sz, " status=%d(%s)", m->status,
		    wire_state_name(m->status));
		drive_str(buf, sz, "text", m->text);
		break;
	case WIRE_SMS:
		drive_add(buf, sz, " id=%" PRIu64 " location=%d ref=%d "
		    "part=%d total=%d flags=%d", m->id, m->location, m->ref,
		    m->part, m->total, m->flags);
		drive_str(buf, sz, "number", m->number);
		drive_str(buf, sz, "time", m->time);
		drive_str(buf, sz, "text", m->text);
		if (m->info[0] != '\0')
			drive_str(buf, sz, "info", m->info);
		break;
	case WIRE_SEND_RESULT:
		drive_add(buf, sz, " id=%" PRIu64 " code=%d msgref=%d", m->id,
		    m->code, m->msgref);
		drive_str(buf, sz, "text", m->text);
		break;
	case WIRE_STATUS_REPORT:
		drive_add(buf, sz, " msgref=%d status=%d location=%d",
		    m->msgref, m->status, m->location);
		drive_str(buf, sz, "number", m->number);
		drive_str(buf, sz, "time", m->time);
		break;
	case WIRE_HEALTH:
		drive_add(buf, sz, " signal=%d reg=%d sim_used=%d "
		    "sim_total=%d errors=%d", m->signal, m->reg, m->sim_used,
		    m->sim_total, m->errors);
		drive_str(buf, sz, "info", m->info);
		break;
	case WIRE_USSD_ANSWER:
		drive_add(buf, sz, " id=%" PRIu64 " code=%d", m->id, m->code);
		drive_str(buf, sz, "text", m->text);
		break;
	case WIRE_DELETE_RESULT:
		drive_add(buf, sz, " id=%" PRIu64 " location=%d code=%d",
		    m->id, m->location, m->code);
		if (m->info[0] != '\0')
			drive_str(buf, sz, "info", m->info);
		break;
	case WIRE_HEARTBEAT:
		break;
	default:
		drive_add(buf, sz, " type=%u id=%" PRIu64, m->type, m->id);
		break;
	}
}

static void
drive_keep(const char *line)
{
	char	**nl;

	if (drive_nlines == drive_cap) {
		drive_cap = drive_cap == 0 ? 256 : drive_cap * 2;
		if ((nl = realloc(drive_lines, drive_cap *
		    sizeof(*drive_lines))) == NULL) {
			fprintf(stderr, "wiredrive: out of memory\n");
			exit(2);
		}
		drive_lines = nl;
	}
	if ((drive_lines[drive_nlines] = strdup(line)) == NULL) {
		fprintf(stderr, "wiredrive: out of memory\n");
		exit(2);
	}
	drive_nlines++;
}

/*
 * Read and print frames for up to ms ms (0: only what is there); with
 * once, return after the first frame.
 */
static void
drive_pump(int ms, int once)
{
	struct wire_msg	 m;
	char		 line[DRIVE_LINE_MAX];
	long long	 end = drive_now() + ms;
	int		 r, left;

	while (!drive_eof && drive_fd != -1) {
		left = (int)(end - drive_now());
		if (left < 0)
			left = 0;
		r = wire_read(drive_fd, &m, left);
		if (r == 0)
			break;
		if (r == -1) {
			drive_eof = 1;
			printf("EOF\n");
			fflush(stdout);
			drive_keep("EOF");
			break;
		}
		drive_format(&m, line, sizeof(line));
		printf("%s\n", line);
		fflush(stdout);
		drive_keep(line);
		if (once)
			break;
	}
}

static void
drive_write(struct wire_msg *m)
{
	if (drive_fd == -1 || wire_write(drive_fd, m) == -1)
		fprintf(stderr, "wiredrive: cannot send %s to the worker\n",
		    wire_type_name(m->type));
}

/* Wait for the worker; its exit status, or -1 if it is still running. */
static int
drive_reap(int ms)
{
	long long	 end = drive_now() + ms;
	int		 status;
	pid_t		 p;

	if (drive_pid == -1)
		return (-1);
	for (;;) {
		p = waitpid(drive_pid, &status, WNOHANG);
		if (p == drive_pid) {
			drive_pid = -1;
			if (WIFEXITED(status))
				return (WEXITSTATUS(status));
			if (WIFSIGNALED(status))
				return (128 + WTERMSIG(status));
			return (1);
		}
		if (p == -1 && errno != EINTR)
			return (1);
		if (drive_now() >= end)
			return (-1);
		drive_pump(20, 0);
		if (drive_eof)
			usleep(20000);
	}
}

static void __attribute__((__noreturn__))
drive_fail(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	fprintf(stderr, "wiredrive: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	if (drive_fd != -1)
		close(drive_fd);
	drive_fd = -1;
	if (drive_pid != -1 && drive_reap(3000) == -1) {
		kill(drive_pid, SIGKILL);
		waitpid(drive_pid, NULL, 0);
	}
	exit(1);
}

/* TEXT escapes: \n \t \\ \xNN. */
static void
drive_unescape(const char *s, char *out, size_t sz)
{
	size_t		 off = 0;
	unsigned int	 v;

	while (*s != '\0' && off + 1 < sz) {
		if (s[0] == '\\' && s[1] == 'n') {
			out[off++] = '\n';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 't') {
			out[off++] = '\t';
			s += 2;
		} else if (s[0] == '\\' && s[1] == '\\') {
			out[off++] = '\\';
			s += 2;
		} else if (s[0] == '\\' && s[1] == 'x' &&
		    sscanf(s + 2, "%2x", &v) == 1 && v != 0) {
			out[off++] = (char)v;
			s += 4;
		} else
			out[off++] = *s++;
	}
	out[off] = '\0';
}

/* The next space-separated word of *p, advancing *p; NULL at the end. */
static char *
drive_word(char **p)
{
	char	*w;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p == '\0')
		return (NULL);
	w = *p;
	while (**p != '\0' && **p != ' ' && **p != '\t')
		(*p)++;
	if (**p != '\0')
		*(*p)++ = '\0';
	return (w);
}

/* The rest of the line after one separating space. */
static char *
drive_rest(char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
	return (*p);
}

static uint64_t
drive_id(const char *s, const char *cmd)
{
	char			*end;
	unsigned long long	 v;

	if (s == NULL)
		drive_fail("%s: missing id", cmd);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		drive_fail("%s: bad number %s", cmd, s);
	return (v);
}

static int
drive_ms(const char *s, const char *cmd)
{
	return ((int)drive_id(s, cmd));
}

/* The regex is the line up to its last word, which is the timeout. */
static void
drive_regex_args(char *p, char **re, int *ms, const char *cmd)
{
	char	*sp;

	p = drive_rest(&p);
	if ((sp = strrchr(p, ' ')) == NULL)
		drive_fail("%s: usage: %s REGEX MS", cmd, cmd);
	*sp = '\0';
	*ms = drive_ms(sp + 1, cmd);
	/* Shell-style quotes around the regex are optional. */
	if (strlen(p) >= 2 && ((p[0] == '\'' && p[strlen(p) - 1] == '\'') ||
	    (p[0] == '"' && p[strlen(p) - 1] == '"'))) {
		p[strlen(p) - 1] = '\0';
		p++;
	}
	*re = p;
}

static void
drive_expect(char *args, int want)
{
	regex_t		 re;
	char		*pat;
	int		 ms, found = 0;
	long long	 end;
	size_t		 i, from = drive_cursor;

	drive_regex_args(args, &pat, &ms, want ? "expect" : "absent");
	if (regcomp(&re, pat, REG_EXTENDED | REG_NOSUB) != 0)
		drive_fail("bad regex /%s/", pat);
	end = drive_now() + ms;
	for (;;) {
		for (i = from; i < drive_nlines; i++)
			if (regexec(&re, drive_lines[i], 0, NULL, 0) == 0) {
				found = 1;
				break;
			}
		from = drive_nlines;
		if (found || drive_now() >= end || drive_eof)
			break;
		drive_pump((int)(end - drive_now()), 1);
	}
	regfree(&re);
	if (want && !found)
		drive_fail("expect /%s/: no such line within %d ms%s", pat,
		    ms, drive_eof ? " (worker closed the connection)" : "");
	if (!want && found)
		drive_fail("absent /%s/: got %s", pat, drive_lines[i]);
	if (want)
		drive_cursor = i + 1;
}

static void
drive_command(char *line)
{
	struct wire_msg	 m;
	char		*p = line, *cmd, *a;
	int		 rc;

	if ((cmd = drive_word(&p)) == NULL || cmd[0] == '#')
		return;
	memset(&m, 0, sizeof(m));
	if (strcmp(cmd, "send") == 0 || strcmp(cmd, "sendq") == 0) {
		m.type = WIRE_SEND;
		m.id = drive_id(drive_word(&p), cmd);
		if ((a = drive_word(&p)) == NULL)
			drive_fail("%s: missing number", cmd);
		snprintf(m.number, sizeof(m.number), "%s", a);
		drive_unescape(drive_rest(&p), m.text, sizeof(m.text));
		if (strcmp(cmd, "send") == 0)
			m.flags = WIRE_F_REPORT;
		drive_write(&m);
	} else if (strcmp(cmd, "delete") == 0 ||
	    strcmp(cmd, "deletefrom") == 0) {
		m.type = WIRE_DELETE;
		m.id = drive_id(drive_word(&p), cmd);
		m.location = drive_ms(drive_word(&p), cmd);
		if (strcmp(cmd, "deletefrom") == 0) {
			if ((a = drive_word(&p)) == NULL)
				drive_fail("deletefrom: missing number");
			snprintf(m.number, sizeof(m.number), "%s", a);
		}
		drive_unescape(drive_rest(&p), m.info, sizeof(m.info));
		drive_write(&m);
	} else if (strcmp(cmd, "sweep") == 0) {
		m.type = WIRE_SWEEP;
		drive_write(&m);
	} else if (strcmp(cmd, "reconnect") == 0) {
		m.type = WIRE_RECONNECT;
		drive_write(&m);
	} else if (strcmp(cmd, "shutdown") == 0) {
		m.type = WIRE_SHUTDOWN;
		drive_write(&m);
	} else if (strcmp(cmd, "balance") == 0) {
		m.type = WIRE_BALANCE;
		m.id = drive_id(drive_word(&p), cmd);
		if ((a = drive_word(&p)) == NULL)
			drive_fail("balance: missing code");
		snprintf(m.info, sizeof(m.info), "%s", a);
		drive_write(&m);
	} else if (strcmp(cmd, "raw") == 0) {
		m.type = (uint32_t)drive_id(drive_word(&p), cmd);
		drive_write(&m);
	} else if (strcmp(cmd, "sleep") == 0) {
		drive_pump(drive_ms(drive_word(&p), cmd), 0);
	} else if (strcmp(cmd, "expect") == 0) {
		drive_expect(p, 1);
	} else if (strcmp(cmd, "absent") == 0) {
		drive_expect(p, 0);
	} else if (strcmp(cmd, "mark") == 0) {
		drive_pump(0, 0);
		drive_cursor = drive_nlines;
	} else if (strcmp(cmd, "close") == 0) {
		if (drive_fd != -1)
			close(drive_fd);
		drive_fd = -1;
	} else if (strcmp(cmd, "wait") == 0) {
		rc = drive_reap(drive_ms(drive_word(&p), cmd));
		if (rc == -1)
			drive_fail("wait: the worker is still running");
		printf("EXIT status=%d\n", rc);
		fflush(stdout);
		exit(rc);
	} else
		drive_fail("unknown command %s", cmd);
}

/* Commands from stdin, frames from the worker, whichever comes. */
static void
drive_loop(void)
{
	struct pollfd	 pfd[2];
	char		 buf[DRIVE_LINE_MAX * 2], *nl;
	size_t		 have = 0;
	ssize_t		 r;
	int		 n;

	for (;;) {
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = drive_eof ? -1 : drive_fd;
		pfd[1].events = POLLIN;
		n = poll(pfd, 2, -1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			drive_fail("poll: %s", strerror(errno));
		if (pfd[1].revents != 0)
			drive_pump(0, 0);
		if (pfd[0].revents == 0)
			continue;
		r = read(STDIN_FILENO, buf + have, sizeof(buf) - 1 - have);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		have += r;
		buf[have] = '\0';
		while ((nl = memchr(buf, '\n', have)) != NULL) {
			*nl = '\0';
			drive_command(buf);
			have -= nl + 1 - buf;
			memmove(buf, nl + 1, have);
			buf[have] = '\0';
		}
		if (have == sizeof(buf) - 1)
			drive_fail("command line too long");
	}
	if (have > 0)
		drive_command(buf);
}

int
main(int argc, char *argv[])
{
	int	 sp[2], fd, rc;

	if (argc < 2)
		usage();
	signal(SIGPIPE, SIG_IGN);
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1) {
		perror("wiredrive: socketpair");
		return (2);
	}
	switch ((drive_pid = fork())) {
	case -1:
		perror("wiredrive: fork");
		return (2);
	case 0:
		close(sp[0]);
		if (sp[1] != 3) {
			if (dup2(sp[1], 3) == -1)
				_exit(127);
			close(sp[1]);
		}
		if ((fd = open("/dev/null", O_RDONLY)) != -1) {
			dup2(fd, STDIN_FILENO);
			if (fd != STDIN_FILENO)
				close(fd);
		}
		dup2(STDERR_FILENO, STDOUT_FILENO);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "wiredrive: cannot run %s: %s\n", argv[1],
		    strerror(errno));
		_exit(127);
	}
	close(sp[1]);
	drive_fd = sp[0];
	fcntl(drive_fd, F_SETFD, FD_CLOEXEC);

	drive_loop();

	/* End of commands: let the worker see EOF and go. */
	drive_pump(0, 0);
	if (drive_fd != -1)
		close(drive_fd);
	drive_fd = -1;
	if ((rc = drive_reap(30000)) == -1) {
		fprintf(stderr, "wiredrive: the worker did not exit, "
		    "killing it\n");
		kill(drive_pid, SIGKILL);
		rc = drive_reap(5000);
	}
	printf("EXIT status=%d\n", rc);
	fflush(stdout);
	return (rc);
}
