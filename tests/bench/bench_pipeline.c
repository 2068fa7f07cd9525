/*
 * The pipeline without modems, for the pipeline and forward sections of
 * tests/bench.sh: every line of FILE goes through receive_batch as the
 * SMS channel hands whole messages over (decode, verify, one
 * transaction with their replies and forwards, replies and forwards
 * queued),
 * into the store of the gateway configured by CONF, as tallygw would
 * set it up (docs/bench.md).
 *
 * usage: bench_pipeline -f CONF [-b B] [-n N] [-w W] FILE
 *
 * FILE has one message a line: the sender's number, a space, the text.
 * -b hands the lines over B at a time (receive_batch: one transaction
 * for B messages, as the SMS channel hands over the whole messages of
 * one turn of the daemon's loop); 1 by default. -n stops after N lines.
 * -w: the first W lines warm the process and the store up (the same
 * pipeline, not timed, not counted), so that a run on an empty store
 * and one on a full store start alike.
 * Prints "N reports in T s: R reports/s" and the verdicts on standard
 * output; exit 0 when every line was committed.
 * The libevent loop is never run: the reply and forward timers it arms
 * stay pending, and nothing is sent.
 */

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "daemon.h"

static struct gw	 bench_gw;

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: bench_pipeline -f conf [-b batch] [-n count] "
	    "[-w warm] file\n");
	exit(2);
}

static double
bench_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (ts.tv_sec + ts.tv_nsec / 1e9);
}

/* What tallygw's start-up does before the loop, less the modems. */
static void
bench_setup(const char *file)
{
	struct gw_conf	*c = &gw->conf;
	char		 err[1024], path[PATH_MAX + 32];

	TAILQ_INIT(&gw->modems);
	store_init();
	if (config_load(file, c, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if (key_init() == -1)
		fatalx("libsodium init failed");
	if (key_load(c->key, &gw->key, err, sizeof(err)) == -1)
		fatalx("%s", err);
	if ((gw->election = election_default()) == NULL)
		fatalx("the embedded election definition does not load");
	if (c->registry[0] != '\0' && (gw->registry = registry_open(
	    c->registry, REGISTRY_RDONLY, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (mkdir(c->state_dir, 0700) == -1 && errno != EEXIST)
		fatal("%s", c->state_dir);
	if (snprintf(path, sizeof(path), "%s/tallygw.db", c->state_dir) >=
	    (int)sizeof(path))
		fatalx("%s: path too long", c->state_dir);
	if ((gw->store = store_open(path, err, sizeof(err))) == NULL)
		fatalx("%s", err);
	if (store_cache_size(gw->store, c->t.store_cache) == -1)
		fatalx("cannot set the store's page cache");
	if ((gw->lockout = lockout_new(&c->t.lockout)) == NULL ||
	    store_lockout_rebuild(gw->store, gw->lockout, time(NULL)) == -1)
		fatalx("lockout");
	gw->vctx.election = gw->election;
	gw->vctx.registry = gw->registry;
	gw->vctx.key = &gw->key;
	gw->vctx.history = store_history(gw->store);
	gw->vctx.lockout = gw->lockout;
	gw->vctx.default_dpt = c->t.default_dpt;
	if ((gw->parts = parts_new()) == NULL || receive_init() == -1 ||
	    (gw->base = event_base_new()) == NULL)
		fatalx("out of memory");
	gw->lang = REPLY_ID;
}

/* Every line of the feed, parsed before any is timed. */
struct bench_feed {
	struct inbound	*in;
	struct received	*out;
	int		*rc;
	char		**line;
	char		(*ref)[64];
	size_t		 n;
};

/* Read FILE (at most max lines, -1: all) into f, as the SMS channel's. */
static void
bench_load(struct bench_feed *f, const char *file, long max)
{
	FILE		*fp;
	char		*line = NULL, *sp;
	size_t		 cap = 0, room = 0;
	ssize_t		 len;
	struct inbound	*in;

	if ((fp = fopen(file, "r")) == NULL)
		fatal("%s", file);
	memset(f, 0, sizeof(*f));
	while ((max < 0 || (long)f->n < max) &&
	    (len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		if (f->n == room) {
			room = room == 0 ? 1024 : 2 * room;
			if ((f->in = reallocarray(f->in, room,
			    sizeof(*f->in))) == NULL ||
			    (f->line = reallocarray(f->line, room,
			    sizeof(*f->line))) == NULL ||
			    (f->ref = reallocarray(f->ref, room,
			    sizeof(*f->ref))) == NULL)
				fatal("reallocarray");
		}
		/* "SENDER\0TEXT" */
		if ((f->line[f->n] = malloc(len + 1)) == NULL)
			fatal("malloc");
		memcpy(f->line[f->n], line, len + 1);
		in = &f->in[f->n];
		memset(in, 0, sizeof(*in));
		in->channel = CHANNEL_SMS;
		in->sender = f->line[f->n];
		in->text = f->line[f->n] + (sp + 1 - line);
		in->via = "m0";
		in->via_number = "+6281100000000";
		/* The SMSC time: unique, as the SMS channel's would be. */
		snprintf(f->ref[f->n], sizeof(f->ref[f->n]),
		    "2024-02-14T%02zu:%02zu:%02zuZ", f->n / 3600 % 24,
		    f->n / 60 % 60, f->n % 60);
		in->ref = f->ref[f->n];
		in->parts = 1;
		f->n++;
	}
	free(line);
	fclose(fp);
	if ((f->out = calloc(f->n + 1, sizeof(*f->out))) == NULL ||
	    (f->rc = calloc(f->n + 1, sizeof(*f->rc))) == NULL)
		fatal("calloc");
}

/* Lines [i, i + n) to receive_batch, as one loop turn; counts verdicts. */
static void
bench_flush(struct bench_feed *f, size_t i, size_t n, long *v, long *failed)
{
	size_t	 k;
	time_t	 now = time(NULL);

	if (n == 0)
		return;
	for (k = i; k < i + n; k++)
		f->in[k].arrived = now;
	receive_batch(&f->in[i], &f->out[i], &f->rc[i], n);
	for (k = i; k < i + n; k++) {
		if (f->rc[k] == -1)
			(*failed)++;
		else if (f->out[k].kind == MSG_REPORT &&
		    f->out[k].verdict >= VERDICT_OK &&
		    f->out[k].verdict <= VERDICT_REJECTED)
			v[f->out[k].verdict]++;
	}
}

static int
bench_cmp(const void *a, const void *b)
{
	double	 x = *(const double *)a, y = *(const double *)b;

	return (x < y ? -1 : x > y);
}

/*
 * -r: lines [i, f->n) offered at rate per second from now on, as
 * modems would hand them over; each turn takes every line that has
 * arrived (at most batch), as the daemon's loop does, so the batch
 * grows while a commit is slower than the arrivals. Prints the rate
 * reached, how far the last commit lagged its arrival and the latency.
 */
static void
bench_offered(struct bench_feed *f, size_t i, double rate, size_t batch,
    long *v, long *failed)
{
	struct timespec	 ts;
	double		 t0, now, wait, *lat, last, sum = 0;
	size_t		 n = f->n - i, done = 0, avail, k, turns = 0, big = 0;

	if (n == 0)
		return;
	if ((lat = calloc(n, sizeof(*lat))) == NULL)
		fatal("calloc");
	t0 = bench_now();	/* line i + k arrives at t0 + k / rate */
	while (done < n) {
		now = bench_now();
		avail = (size_t)((now - t0) * rate) + 1;
		if (avail > n)
			avail = n;
		if (avail <= done) {
			wait = t0 + done / rate - now;
			ts.tv_sec = (time_t)wait;
			ts.tv_nsec = (long)((wait - ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
			continue;
		}
		if (avail - done > batch)
			avail = done + batch;
		bench_flush(f, i + done, avail - done, v, failed);
		now = bench_now();
		for (k = done; k < avail; k++)
			lat[k] = now - (t0 + k / rate);
		if (avail - done > big)
			big = avail - done;
		sum += avail - done;
		turns++;
		done = avail;
	}
	now = bench_now();
	last = lat[n - 1];
	qsort(lat, n, sizeof(*lat), bench_cmp);
	printf("offered %.0f reports/s: %zu reports in %.3f s: %.0f reports/s"
	    "; the last committed %.4f s after it arrived; %zu turns, "
	    "%.1f reports a turn (at most %zu); arrival to commit p50 %.4f s, "
	    "p99 %.4f s\n", rate, n, now - t0, n / (now - t0), last, turns,
	    sum / turns, big, lat[n / 2], lat[(n * 99) / 100]);
	free(lat);
}

int
main(int argc, char *argv[])
{
	struct bench_feed	 f;
	size_t			 i, wb;
	long			 max = -1, failed = 0, warm = 0;
	long			 v[VERDICT_REJECTED + 1], batch = -1;
	const char		*conf = NULL;
	char			*end;
	double			 t0, t, rate = 0;
	int			 ch;

	while ((ch = getopt(argc, argv, "b:f:n:r:w:")) != -1) {
		switch (ch) {
		case 'b':
			batch = strtol(optarg, &end, 10);
			if (*end != '\0' || batch < 1 || batch > 100000)
				usage();
			break;
		case 'f':
			conf = optarg;
			break;
		case 'n':
			max = strtol(optarg, &end, 10);
			if (*end != '\0' || max < 0)
				usage();
			break;
		case 'r':
			rate = strtod(optarg, &end);
			if (*end != '\0' || rate <= 0)
				usage();
			break;
		case 'w':
			warm = strtol(optarg, &end, 10);
			if (*end != '\0' || warm < 0)
				usage();
			break;
		default:
			usage();
		}
	}
	if (conf == NULL || optind + 1 != argc)
		usage();
	if (batch == -1)
		batch = rate > 0 ? 100000 : 1;
	log_init("bench_pipeline", LOG_TO_STDERR, 1);
	gw = &bench_gw;
	bench_setup(conf);
	bench_load(&f, argv[optind], max);
	memset(v, 0, sizeof(v));
	/* The warm-up, in batches of -b (of 8 with -r): not timed. */
	if ((size_t)warm > f.n)
		warm = (long)f.n;
	wb = rate > 0 ? 8 : (size_t)batch;
	for (i = 0; i < (size_t)warm; i += wb)
		bench_flush(&f, i, (size_t)warm - i < wb ? (size_t)warm - i :
		    wb, v, &failed);
	memset(v, 0, sizeof(v));
	failed = 0;
	t0 = bench_now();
	if (rate > 0)
		bench_offered(&f, (size_t)warm, rate, (size_t)batch, v,
		    &failed);
	else
		for (i = (size_t)warm; i < f.n; i += (size_t)batch)
			bench_flush(&f, i, f.n - i < (size_t)batch ? f.n - i :
			    (size_t)batch, v, &failed);
	t = bench_now() - t0;
	printf("%zu reports in %.3f s: %.0f reports/s\n", f.n - (size_t)warm,
	    t, t > 0 ? (f.n - (size_t)warm) / t : 0);
	printf("verdicts: OK %ld, FLAGGED %ld, DUPLICATE %ld, REJECTED %ld; "
	    "%ld not stored\n", v[VERDICT_OK], v[VERDICT_FLAGGED],
	    v[VERDICT_DUPLICATE], v[VERDICT_REJECTED], failed);
	store_close(gw->store);
	return (failed == 0 ? 0 : 1);
}
