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

/* The lines of one batch, as the SMS channel hands a loop turn over. */
struct bench_batch {
	struct inbound	*in;
	struct received	*out;
	int		*rc;
	char		**line;
	char		(*ref)[64];
	size_t		 n, max;
};

/* Commit the batch (receive_batch); count verdicts and failures. */
static void
bench_flush(struct bench_batch *b, long *v, long *failed)
{
	size_t	 i;

	if (b->n == 0)
		return;
	receive_batch(b->in, b->out, b->rc, b->n);
	for (i = 0; i < b->n; i++) {
		if (b->rc[i] == -1)
			(*failed)++;
		else if (b->out[i].kind == MSG_REPORT &&
		    b->out[i].verdict >= VERDICT_OK &&
		    b->out[i].verdict <= VERDICT_REJECTED)
			v[b->out[i].verdict]++;
		free(b->line[i]);
	}
	b->n = 0;
}

int
main(int argc, char *argv[])
{
	struct bench_batch	 b;
	struct inbound		*in;
	FILE			*fp;
	char			*line = NULL, *sp;
	size_t			 cap = 0;
	ssize_t			 len;
	long			 max = -1, n = 0, failed = 0, warm = 0;
	long			 v[VERDICT_REJECTED + 1], batch = 1;
	const char		*conf = NULL;
	char			*end;
	double			 t0, t;
	int			 ch;

	while ((ch = getopt(argc, argv, "b:f:n:w:")) != -1) {
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
	log_init("bench_pipeline", LOG_TO_STDERR, 1);
	gw = &bench_gw;
	bench_setup(conf);
	if ((fp = fopen(argv[optind], "r")) == NULL)
		fatal("%s", argv[optind]);
	memset(&b, 0, sizeof(b));
	b.max = (size_t)batch;
	if ((b.in = calloc(b.max, sizeof(*b.in))) == NULL ||
	    (b.out = calloc(b.max, sizeof(*b.out))) == NULL ||
	    (b.rc = calloc(b.max, sizeof(*b.rc))) == NULL ||
	    (b.line = calloc(b.max, sizeof(*b.line))) == NULL ||
	    (b.ref = calloc(b.max, sizeof(*b.ref))) == NULL)
		fatal("calloc");
	memset(v, 0, sizeof(v));
	t0 = bench_now();
	while ((max < 0 || n < max) && (len = getline(&line, &cap, fp)) > 0) {
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if ((sp = strchr(line, ' ')) == NULL)
			continue;
		*sp = '\0';
		/* Kept until the batch is committed: "SENDER\0TEXT". */
		if ((b.line[b.n] = malloc(len + 1)) == NULL)
			fatal("malloc");
		memcpy(b.line[b.n], line, len + 1);
		in = &b.in[b.n];
		memset(in, 0, sizeof(*in));
		in->channel = CHANNEL_SMS;
		in->sender = b.line[b.n];
		in->text = b.line[b.n] + (sp + 1 - line);
		in->arrived = time(NULL);
		in->via = "m0";
		in->via_number = "+6281100000000";
		/* The SMSC time: unique, as the SMS channel's would be. */
		snprintf(b.ref[b.n], sizeof(b.ref[b.n]),
		    "2024-02-14T%02ld:%02ld:%02ldZ", n / 3600 % 24,
		    n / 60 % 60, n % 60);
		in->ref = b.ref[b.n];
		in->parts = 1;
		n++;
		if (++b.n == b.max || n == warm)
			bench_flush(&b, v, &failed);
		if (n == warm) {
			/* Warmed up: time and count from here. */
			memset(v, 0, sizeof(v));
			failed = 0;
			t0 = bench_now();
		}
	}
	bench_flush(&b, v, &failed);
	t = bench_now() - t0;
	n = n > warm ? n - warm : 0;
	printf("%ld reports in %.3f s: %.0f reports/s\n", n, t,
	    t > 0 ? n / t : 0);
	printf("verdicts: OK %ld, FLAGGED %ld, DUPLICATE %ld, REJECTED %ld; "
	    "%ld not stored\n", v[VERDICT_OK], v[VERDICT_FLAGGED],
	    v[VERDICT_DUPLICATE], v[VERDICT_REJECTED], failed);
	free(line);
	fclose(fp);
	store_close(gw->store);
	return (failed == 0 ? 0 : 1);
}
