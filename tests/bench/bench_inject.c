/*
 * Feed SMS into tallysim's modems for tests/bench/bank.sh: one
 * request per message on RUNDIR/ctl.sock, as `tallysim ctl inject'
 * makes it, without a process per message; or sample the simulator.
 *
 * usage: bench_inject -d RUNDIR -k K [-w WINDOW] [-r RATE] FILE
 *        bench_inject -d RUNDIR -s MS [PID...]
 *
 * FILE has one message a line: the sender's number, a space, the text.
 * Message i goes to modem i % K.  A modem gets a new message only
 * while fewer than WINDOW (default 24, at most the SIM's 30 slots) of
 * the messages given to it are still in the network or on its SIM
 * (from `modems --json': received - sim_used is what the reader has
 * taken off the SIM).  So no message ever waits in the network for a
 * full SIM (the simulator retries those only every 5 s), and the time
 * a message is injected is, under the instant profile, the time it
 * reaches the SIM.  With -r, at most RATE messages a second in all.
 *
 * Prints one line per message once the simulator has taken it:
 * "INDEX MODEM SENDER EPOCH" (EPOCH in seconds, microseconds after
 * the point).  Exit 0 when every message was injected, 1 otherwise.
 *
 * With -s, every MS milliseconds until it is killed, one line from
 * `stats --json': "EPOCH SUBMITTED BUSY_MS PROMPT_MS NOW_MS" (SMS parts
 * the modems handed to the network, the bank's busy time, of it at the
 * prompt, the simulator's clock); and every second, when PIDs are
 * given, "pss EPOCH KIB": the proportional set size of those processes
 * and all their descendants (/proc/PID/smaps_rollup).
 */

#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define INJ_MODEMS_MAX	256
#define INJ_SIM_SLOTS	30
#define INJ_REPLY_MAX	65536
#define INJ_POLL_NS	10000000L	/* wait between two looks, blocked */

struct inj_modem {
	long	 injected;	/* by us */
	long	 base;		/* taken off the SIM before we started */
	long	 taken;		/* taken off the SIM since */
};

static const char	*inj_dir;
static struct inj_modem	 inj_modems[INJ_MODEMS_MAX];
static int		 inj_k;
static long		 inj_looks;	/* looks at the SIMs while blocked */
static double		 inj_blocked;	/* seconds spent blocked */

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: bench_inject -d RUNDIR -k K [-w WINDOW] "
	    "[-r RATE] FILE\n       bench_inject -d RUNDIR -s MS [PID...]\n");
	exit(2);
}

static double
inj_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

static void
inj_sleep(long ns)
{
	struct timespec	 ts;

	ts.tv_sec = ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Append WORD to BUF as a double-quoted word of the ctl protocol. */
static int
inj_quote(char *buf, size_t len, const char *word)
{
	size_t	 n = strlen(buf);

	if (n + 3 >= len)
		return (-1);
	if (n > 0)
		buf[n++] = ' ';
	buf[n++] = '"';
	for (; *word != '\0'; word++) {
		if (n + 4 >= len)
			return (-1);
		if (*word == '"' || *word == '\\')
			buf[n++] = '\\';
		buf[n++] = *word;
	}
	buf[n++] = '"';
	buf[n] = '\0';
	return (0);
}

/*
 * One request, its whole answer in OUT (the server closes after it).
 * 0 if the answer ends with OK, -1 otherwise.
 */
static int
inj_request(const char *req, char *out, size_t outlen)
{
	struct sockaddr_un	 sun;
	size_t			 n = 0;
	ssize_t			 r;
	int			 fd;
	char			*last;

	out[0] = '\0';
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/ctl.sock", inj_dir) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "bench_inject: %s/ctl.sock: path too long\n",
		    inj_dir);
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req)) {
		fprintf(stderr, "bench_inject: %s: %s\n", sun.sun_path,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	while (n + 1 < outlen &&
	    (r = read(fd, out + n, outlen - 1 - n)) != 0) {
		if (r == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)r;
	}
	out[n] = '\0';
	close(fd);
	/* The final line is OK or ERR reason. */
	while (n > 0 && out[n - 1] == '\n')
		out[--n] = '\0';
	last = strrchr(out, '\n');
	last = last != NULL ? last + 1 : out;
	return (strcmp(last, "OK") == 0 ? 0 : -1);
}

static long
inj_field(const char *line, const char *key)
{
	const char	*p;

	if ((p = strstr(line, key)) == NULL)
		return (-1);
	return (strtol(p + strlen(key), NULL, 10));
}

/* What each modem's reader has taken off its SIM so far. */
static int
inj_look(int first)
{
	static char	 ans[INJ_REPLY_MAX];
	char		*line, *next;
	long		 idx, used, received;
	int		 seen = 0;

	if (inj_request("\"modems\" \"--json\"\n", ans, sizeof(ans)) == -1) {
		fprintf(stderr, "bench_inject: modems: %s\n", ans);
		return (-1);
	}
	for (line = ans; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		idx = inj_field(line, "\"index\":");
		used = inj_field(line, "\"sim_used\":");
		received = inj_field(line, "\"received\":");
		if (idx < 0 || idx >= inj_k || used < 0 || received < 0)
			continue;
		if (first)
			inj_modems[idx].base = received - used;
		else
			inj_modems[idx].taken = received - used -
			    inj_modems[idx].base;
		seen++;
	}
	if (seen != inj_k) {
		fprintf(stderr, "bench_inject: the simulator lists %d of "
		    "%d modems\n", seen, inj_k);
		return (-1);
	}
	return (0);
}

/* A number of a one-line JSON object, -1 when it is not there. */
static double
inj_json(const char *line, const char *key)
{
	char		 k[64];
	const char	*p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	if ((p = strstr(line, k)) == NULL)
		return (-1);
	return (strtod(p + strlen(k), NULL));
}

/* The PSS of a process and its descendants, KiB (0 when it is gone). */
static long
inj_pss(long pid, int depth)
{
	FILE		*fp;
	DIR		*d;
	struct dirent	*de;
	char		 path[320], line[4096];
	long		 kib = 0, v, c;
	char		*p, *end;

	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", pid);
	if ((fp = fopen(path, "r")) != NULL) {
		while (fgets(line, sizeof(line), fp) != NULL)
			if (sscanf(line, "Pss: %ld kB", &v) == 1)
				kib += v;
		fclose(fp);
	}
	if (depth > 16)
		return (kib);
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	if ((d = opendir(path)) == NULL)
		return (kib);
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (snprintf(path, sizeof(path), "/proc/%ld/task/%s/children",
		    pid, de->d_name) >= (int)sizeof(path) ||
		    (fp = fopen(path, "r")) == NULL)
			continue;
		if (fgets(line, sizeof(line), fp) != NULL)
			for (p = line; (c = strtol(p, &end, 10)) > 0 &&
			    end != p; p = end)
				kib += inj_pss(c, depth + 1);
		fclose(fp);
	}
	closedir(d);
	return (kib);
}

/* -s: sample the simulator (and the gateway's memory) until killed. */
static int
inj_sample(long ms, int npids, char **pids)
{
	static char	 ans[INJ_REPLY_MAX];
	double		 t, last_pss = 0;
	long		 kib;
	int		 i;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		t = inj_now();
		if (inj_request("\"stats\" \"--json\"\n", ans,
		    sizeof(ans)) == 0)
			printf("%.3f %.0f %.3f %.3f %.3f\n", t,
			    inj_json(ans, "submitted"),
			    inj_json(ans, "busy_ms"),
			    inj_json(ans, "prompt_ms"),
			    inj_json(ans, "now_ms"));
		if (npids > 0 && t - last_pss >= 1) {
			last_pss = t;
			for (i = 0, kib = 0; i < npids; i++)
				kib += inj_pss(strtol(pids[i], NULL, 10), 0);
			printf("pss %.3f %ld\n", t, kib);
		}
		inj_sleep(ms * 1000000L);
	}
	return (0);
}

int
main(int argc, char *argv[])
{
	FILE		*fp;
	char		 line[2048], req[4096], to[16], ans[1024], *text;
	double		 rate = 0, t0 = 0, t, tstart;
	long		 window = 24, i = 0, sample = 0;
	int		 ch, m;
	size_t		 len;

	while ((ch = getopt(argc, argv, "d:k:r:s:w:")) != -1) {
		switch (ch) {
		case 'd':
			inj_dir = optarg;
			break;
		case 'k':
			inj_k = atoi(optarg);
			break;
		case 'r':
			rate = atof(optarg);
			break;
		case 's':
			sample = atol(optarg);
			break;
		case 'w':
			window = atol(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (sample > 0 && inj_dir != NULL)
		return (inj_sample(sample, argc, argv));
	if (argc != 1 || inj_dir == NULL || inj_k < 1 ||
	    inj_k > INJ_MODEMS_MAX || window < 1 || window > INJ_SIM_SLOTS ||
	    rate < 0)
		usage();
	if ((fp = fopen(argv[0], "r")) == NULL) {
		fprintf(stderr, "bench_inject: %s: %s\n", argv[0],
		    strerror(errno));
		return (1);
	}
	if (inj_look(1) == -1)
		return (1);
	tstart = inj_now();
	while (fgets(line, sizeof(line), fp) != NULL) {
		len = strcspn(line, "\r\n");
		line[len] = '\0';
		if ((text = strchr(line, ' ')) == NULL)
			continue;
		*text++ = '\0';
		m = (int)(i % inj_k);
		if (inj_modems[m].injected - inj_modems[m].taken >= window) {
			t = inj_now();
			do {
				inj_sleep(INJ_POLL_NS);
				if (inj_look(0) == -1)
					return (1);
				inj_looks++;
			} while (inj_modems[m].injected -
			    inj_modems[m].taken >= window);
			inj_blocked += inj_now() - t;
		}
		if (rate > 0) {
			if (i == 0)
				t0 = inj_now();
			else if ((t = t0 + i / rate - inj_now()) > 0)
				inj_sleep((long)(t * 1e9));
		}
		snprintf(to, sizeof(to), "%d", m);
		req[0] = '\0';
		if (inj_quote(req, sizeof(req), "inject") == -1 ||
		    inj_quote(req, sizeof(req), "--from") == -1 ||
		    inj_quote(req, sizeof(req), line) == -1 ||
		    inj_quote(req, sizeof(req), "--to") == -1 ||
		    inj_quote(req, sizeof(req), to) == -1 ||
		    inj_quote(req, sizeof(req), text) == -1 ||
		    strlen(req) + 2 > sizeof(req)) {
			fprintf(stderr, "bench_inject: line %ld too long\n",
			    i + 1);
			return (1);
		}
		strcat(req, "\n");
		if (inj_request(req, ans, sizeof(ans)) == -1) {
			fprintf(stderr, "bench_inject: inject %ld: %s\n", i + 1,
			    ans);
			return (1);
		}
		printf("%ld %d %s %.6f\n", i, m, line, inj_now());
		inj_modems[m].injected++;
		i++;
	}
	fclose(fp);
	fprintf(stderr, "bench_inject: %ld messages in %.3f s, %.3f s of it "
	    "waiting for SIM room (%ld looks)\n", i,
	    i > 0 ? inj_now() - tstart : 0, inj_blocked, inj_looks);
	fflush(stdout);
	return (ferror(stdout) ? 1 : 0);
}
