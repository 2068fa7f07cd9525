/*
 * aggr: `tallysim ctl --dir RUNDIR ussd ...', tallysim as a USSD
 * aggregator (docs/sim.md, docs/ussd.md).  It plays one officer's
 * whole session against the gateway's HTTP callback, as an operator's
 * USSD centre and its aggregator would: the first request with an
 * empty text, then one per input with every input so far joined by
 * `*'; one JSON line per screen on standard output.  It holds the
 * gateway to the network's limits: 182 GSM 7-bit characters a screen,
 * an answer within the screen timeout, the whole session within the
 * session timeout.
 *
 * It runs in the ctl client's process, with a private event_base and
 * libevent's HTTP client: the simulator need not run.
 */

#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "log.h"
#include "pdu.h"
#include "sim.h"
#include "tally.h"

#define AGGR_SCREEN_SEC		10	/* a screen must come within this */
#define AGGR_SESSION_SEC	180	/* the whole session within this */
#define AGGR_BODY_MAX		4096	/* a longer answer is refused */
#define AGGR_SECRET_MAX		256
#define AGGR_TEXT_MAX		4096	/* text = the inputs joined by `*' */
#define AGGR_NETWORK		"51010"	/* a number of no known operator */

struct aggr {
	struct event_base	*base;
	struct evhttp_connection *evcon;
	struct evhttp_request	*req;		/* the one in flight */
	struct evhttp_uri	*uri;
	struct event		*timer;
	const char		*from;
	const char		*code;
	const char		*session;
	const char		*network;
	const char		*url;
	const char		*secret_path;
	char			 secret[AGGR_SECRET_MAX];
	char			 idbuf[64];
	char			 urlbuf[PATH_MAX];
	char			 pathbuf[PATH_MAX];
	char			 hosthdr[300];
	int			 port;
	int			 drop_after;	/* -1: every input */
	int			 screen_sec;
	int			 session_sec;
	struct timespec		 start;
	/* the answer waited for */
	int			 done;
	int			 fired;		/* the timer ran out */
	int			 status;	/* HTTP status, 0: none */
	const char		*why;		/* no answer: the reason */
	char			 body[AGGR_BODY_MAX + 1];
};

static int	aggr_usage(void);
static int	aggr_args(struct aggr *, int, char **);
static int	aggr_number(const char *, int *);
static int	aggr_endpoint(struct aggr *, const char *);
static int	aggr_url(struct aggr *);
static struct evhttp_connection *aggr_connect(struct aggr *);
static const char *aggr_network(const char *);
static int	aggr_form(struct evbuffer *, const char *, const char *);
static int	aggr_post(struct aggr *, const char *, long);
static void	aggr_done(struct evhttp_request *, void *);
static void	aggr_error(enum evhttp_request_error, void *);
static void	aggr_timeout(evutil_socket_t, short, void *);
static double	aggr_elapsed(const struct aggr *);
static int	aggr_request(struct aggr *, int, const char *);
static int	aggr_screen(struct aggr *, int);
static void	aggr_line(int, const char *, const char *, const char *);
static void	aggr_free(struct aggr *);

static int
aggr_usage(void)
{
	fprintf(stderr, "usage: tallysim ctl --dir RUNDIR ussd --from MSISDN "
	    "[--code CODE] [--session ID]\n\t[--network MCCMNC] "
	    "[--drop-after N] [--screen-timeout S] [--session-timeout S]\n"
	    "\t[--url URL --secret FILE] INPUT...\n");
	return (1);
}

/* A whole non-negative number, or -1. */
static int
aggr_number(const char *s, int *v)
{
	char	*end;
	long	 n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || n < 0 || n > INT_MAX)
		return (-1);
	*v = (int)n;
	return (0);
}

/* The options; the index of the first INPUT, or -1. */
static int
aggr_args(struct aggr *a, int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "from",		required_argument, NULL, 'f' },
		{ "code",		required_argument, NULL, 'c' },
		{ "session",		required_argument, NULL, 'i' },
		{ "network",		required_argument, NULL, 'n' },
		{ "drop-after",		required_argument, NULL, 'd' },
		{ "screen-timeout",	required_argument, NULL, 't' },
		{ "session-timeout",	required_argument, NULL, 'T' },
		{ "url",		required_argument, NULL, 'u' },
		{ "secret",		required_argument, NULL, 's' },
		{ NULL,			0,		   NULL, 0 }
	};
	int	 ch, bad = 0;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			a->from = optarg;
			break;
		case 'c':
			a->code = optarg;
			break;
		case 'i':
			a->session = optarg;
			break;
		case 'n':
			a->network = optarg;
			break;
		case 'u':
			a->url = optarg;
			break;
		case 's':
			a->secret_path = optarg;
			break;
		case 'd':
			bad |= aggr_number(optarg, &a->drop_after);
			break;
		case 't':
			bad |= aggr_number(optarg, &a->screen_sec) ||
			    a->screen_sec == 0;
			break;
		case 'T':
			bad |= aggr_number(optarg, &a->session_sec) ||
			    a->session_sec == 0;
			break;
		default:
			return (-1);
		}
	}
	if (bad || a->from == NULL || a->from[0] == '\0' ||
	    (a->url != NULL) != (a->secret_path != NULL) ||
	    (a->session != NULL && (a->session[0] == '\0' ||
	    strlen(a->session) > 64)))
		return (-1);
	return (optind);
}

/*
 * Where to post and the secret: --url and --secret, or what `tallysim
 * world' wrote, RUNDIR/ussd.url and RUNDIR/ussd.secret.
 */
static int
aggr_endpoint(struct aggr *a, const char *dir)
{
	char	 path[PATH_MAX], err[PATH_MAX + 128];
	FILE	*fp;
	ssize_t	 n;

	if (a->url == NULL) {
		snprintf(path, sizeof(path), "%s/ussd.url", dir);
		if ((fp = fopen(path, "r")) == NULL) {
			fprintf(stderr, "tallysim: %s: %s (no world with "
			    "[ussd] here: give --url and --secret)\n", path,
			    strerror(errno));
			return (-1);
		}
		if (fgets(a->urlbuf, sizeof(a->urlbuf), fp) == NULL)
			a->urlbuf[0] = '\0';
		fclose(fp);
		a->urlbuf[strcspn(a->urlbuf, "\r\n")] = '\0';
		a->url = a->urlbuf;
		snprintf(a->pathbuf, sizeof(a->pathbuf), "%s/ussd.secret",
		    dir);
		a->secret_path = a->pathbuf;
	}
	if ((n = key_read_secret(a->secret_path, "USSD secret", a->secret,
	    sizeof(a->secret), err, sizeof(err))) == -1) {
		fprintf(stderr, "tallysim: %s\n", err);
		return (-1);
	}
	while (n > 0 && strchr("\r\n ", a->secret[n - 1]) != NULL)
		a->secret[--n] = '\0';
	return (aggr_url(a));
}

/* The URL taken apart. */
static int
aggr_url(struct aggr *a)
{
	const char	*host, *scheme;
	int		 port;

	if ((a->uri = evhttp_uri_parse(a->url)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(a->uri)) == NULL ||
	    strcmp(scheme, "http") != 0 ||
	    (host = evhttp_uri_get_host(a->uri)) == NULL) {
		fprintf(stderr, "tallysim: %s: not an http:// URL\n", a->url);
		return (-1);
	}
	if ((port = evhttp_uri_get_port(a->uri)) == -1)
		port = 80;
	snprintf(a->hosthdr, sizeof(a->hosthdr), "%s:%d", host, port);
	a->port = port;
	return (0);
}

/*
 * A connection for one request, as an aggregator calls back for each
 * step: nothing of the session rides on keep-alive.
 */
static struct evhttp_connection *
aggr_connect(struct aggr *a)
{
	struct evhttp_connection	*c;

	if ((c = evhttp_connection_base_new(a->base, NULL,
	    evhttp_uri_get_host(a->uri), (ev_uint16_t)a->port)) == NULL)
		return (NULL);
	/* Our own timer decides; libevent's must not come first. */
	evhttp_connection_set_timeout(c, a->screen_sec + 5);
	evhttp_connection_set_max_body_size(c, AGGR_BODY_MAX);
	return (c);
}

/* The operator's MCC+MNC by the number's prefix, as a network says. */
static const char *
aggr_network(const char *msisdn)
{
	char	 local[8];
	int	 i, j;

	if (strncmp(msisdn, "+62", 3) == 0)
		snprintf(local, sizeof(local), "0%s", msisdn + 3);
	else if (strncmp(msisdn, "62", 2) == 0)
		snprintf(local, sizeof(local), "0%s", msisdn + 2);
	else
		snprintf(local, sizeof(local), "%s", msisdn);
	for (i = 0; i < noperators; i++)
		for (j = 0; j < 10 && operators[i].prefixes[j] != NULL; j++)
			if (strncmp(local, operators[i].prefixes[j], 4) == 0)
				return (operators[i].mccmnc);
	return (AGGR_NETWORK);
}

/* One form field, `&name=value', value encoded. */
static int
aggr_form(struct evbuffer *b, const char *name, const char *value)
{
	char	*enc;
	int	 rc;

	if ((enc = evhttp_uriencode(value, -1, 1)) == NULL)
		return (-1);
	rc = evbuffer_add_printf(b, "%s%s=%s", evbuffer_get_length(b) ?
	    "&" : "", name, enc);
	free(enc);
	return (rc < 0 ? -1 : 0);
}

static double
aggr_elapsed(const struct aggr *a)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)(now.tv_sec - a->start.tv_sec) +
	    (double)(now.tv_nsec - a->start.tv_nsec) / 1e9);
}

static void
aggr_done(struct evhttp_request *req, void *arg)
{
	struct aggr	*a = arg;
	struct evbuffer	*in;
	size_t		 n;

	a->req = NULL;
	a->done = 1;
	event_base_loopbreak(a->base);
	if (req == NULL || (a->status = evhttp_request_get_response_code(req))
	    == 0) {
		if (a->why == NULL)
			a->why = "connection failed";
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > AGGR_BODY_MAX)
		n = AGGR_BODY_MAX;
	evbuffer_remove(in, a->body, n);
	a->body[n] = '\0';
}

static void
aggr_error(enum evhttp_request_error e, void *arg)
{
	struct aggr	*a = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		a->why = "HTTP timeout";
		break;
	case EVREQ_HTTP_EOF:
		a->why = "connection refused or closed";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		a->why = "answer over 4096 bytes";
		break;
	default:
		a->why = "bad HTTP answer";
		break;
	}
}

static void
aggr_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct aggr	*a = arg;

	a->fired = 1;
	event_base_loopbreak(a->base);
}

/* Post one step; wait at most ms.  0 answered, -1 not (a->why). */
static int
aggr_post(struct aggr *a, const char *text, long ms)
{
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	struct timeval		 tv = { ms / 1000, ms % 1000 * 1000 };
	const char		*path = evhttp_uri_get_path(a->uri);

	a->done = a->fired = a->status = 0;
	a->why = NULL;
	a->body[0] = '\0';
	if ((req = evhttp_request_new(aggr_done, a)) == NULL)
		return (-1);
	evhttp_request_set_error_cb(req, aggr_error);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", a->hosthdr) == -1 ||
	    evhttp_add_header(h, "Content-Type",
	    "application/x-www-form-urlencoded") == -1 ||
	    (a->secret[0] != '\0' &&
	    evhttp_add_header(h, "X-Tally-Secret", a->secret) == -1) ||
	    aggr_form(evhttp_request_get_output_buffer(req), "sessionId",
	    a->session) == -1 ||
	    aggr_form(evhttp_request_get_output_buffer(req), "serviceCode",
	    a->code) == -1 ||
	    aggr_form(evhttp_request_get_output_buffer(req), "phoneNumber",
	    a->from) == -1 ||
	    aggr_form(evhttp_request_get_output_buffer(req), "networkCode",
	    a->network) == -1 ||
	    aggr_form(evhttp_request_get_output_buffer(req), "text",
	    text) == -1) {
		evhttp_request_free(req);
		a->why = "cannot build the request";
		return (-1);
	}
	a->req = req;
	if ((a->evcon = aggr_connect(a)) == NULL ||
	    evhttp_make_request(a->evcon, req, EVHTTP_REQ_POST,
	    path == NULL || path[0] == '\0' ? "/" : path) == -1) {
		if (a->evcon == NULL)
			evhttp_request_free(req);
		a->req = NULL;
		a->why = "cannot send the request";
		return (-1);
	}
	evtimer_add(a->timer, &tv);
	while (!a->done && !a->fired)
		event_base_dispatch(a->base);
	evtimer_del(a->timer);
	if (a->req != NULL)
		evhttp_cancel_request(a->req);
	a->req = NULL;
	evhttp_connection_free(a->evcon);
	a->evcon = NULL;
	return (a->done && a->why == NULL ? 0 : -1);
}

/* One JSON line: a screen, an error, or both. */
static void
aggr_line(int n, const char *type, const char *text, const char *err)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		return;
	evbuffer_add_printf(b, "{\"n\":%d", n);
	if (type != NULL) {
		evbuffer_add_printf(b, ",\"type\":\"%s\",\"text\":", type);
		ctl_json_str(b, text);
	}
	if (err != NULL) {
		evbuffer_add_printf(b, ",\"error\":");
		ctl_json_str(b, err);
	}
	evbuffer_add(b, "}\n", 2);
	fwrite(evbuffer_pullup(b, -1), 1, evbuffer_get_length(b), stdout);
	fflush(stdout);
	evbuffer_free(b);
}

/*
 * Screen n: one request, then its answer judged as a network would.
 * 0 CON, 1 END, -1 the session failed (an error line printed).
 */
static int
aggr_request(struct aggr *a, int n, const char *text)
{
	char	 err[128];
	long	 left, wait;

	left = (long)((a->session_sec - aggr_elapsed(a)) * 1000);
	wait = left < a->screen_sec * 1000L ? left : a->screen_sec * 1000L;
	if (wait <= 0 || aggr_post(a, text, wait) == -1) {
		if (wait <= 0 || (a->fired && wait < a->screen_sec * 1000L))
			snprintf(err, sizeof(err), "session over %d s",
			    a->session_sec);
		else if (a->fired)
			snprintf(err, sizeof(err), "no answer within %d s",
			    a->screen_sec);
		else
			snprintf(err, sizeof(err), "%s", a->why);
		aggr_line(n, NULL, NULL, err);
		return (-1);
	}
	return (aggr_screen(a, n));
}

/* The answer to screen n: CON or END, and within a screen's length. */
static int
aggr_screen(struct aggr *a, int n)
{
	const char	*type;
	char		 err[128];
	int		 len, max;

	if (a->status != 200) {
		snprintf(err, sizeof(err), "HTTP status %d", a->status);
		aggr_line(n, NULL, NULL, err);
		return (-1);
	}
	if (strncmp(a->body, "CON ", 4) == 0)
		type = "CON";
	else if (strncmp(a->body, "END ", 4) == 0)
		type = "END";
	else {
		aggr_line(n, NULL, NULL, "the answer begins neither CON nor "
		    "END");
		return (-1);
	}
	if (pdu_ussd_fits(a->body + 4, &len, &max) != 1) {
		snprintf(err, sizeof(err), "screen of %d characters, over %d",
		    len, max);
		aggr_line(n, type, a->body + 4, err);
		return (-1);
	}
	aggr_line(n, type, a->body + 4, NULL);
	return (type[0] == 'E');
}

static void
aggr_free(struct aggr *a)
{
	if (a->req != NULL)
		evhttp_cancel_request(a->req);
	if (a->evcon != NULL)
		evhttp_connection_free(a->evcon);
	if (a->uri != NULL)
		evhttp_uri_free(a->uri);
	if (a->timer != NULL)
		event_free(a->timer);
	if (a->base != NULL)
		event_base_free(a->base);
	explicit_bzero(a->secret, sizeof(a->secret));
}

/*
 * ussd --from MSISDN [...] INPUT...: one whole session.  Exit status 0
 * at END or when dropped on purpose, 1 on any failure.
 */
int
aggr_ctl(const char *dir, int argc, char **argv)
{
	struct aggr	 a;
	char		 text[AGGR_TEXT_MAX] = "";
	size_t		 len = 0;
	int		 first, i, rc;

	memset(&a, 0, sizeof(a));
	a.code = SIM_USSD_SERVICE;
	a.drop_after = -1;
	a.screen_sec = AGGR_SCREEN_SEC;
	a.session_sec = AGGR_SESSION_SEC;
	if ((first = aggr_args(&a, argc, argv)) == -1)
		return (aggr_usage());
	if (a.network == NULL)
		a.network = aggr_network(a.from);
	if (a.session == NULL) {
		snprintf(a.idbuf, sizeof(a.idbuf), "tallysim-%ld-%lld",
		    (long)getpid(), (long long)time(NULL));
		a.session = a.idbuf;
	}
	clock_gettime(CLOCK_MONOTONIC, &a.start);
	if ((a.base = event_base_new()) == NULL ||
	    (a.timer = evtimer_new(a.base, aggr_timeout, &a)) == NULL ||
	    aggr_endpoint(&a, dir) == -1) {
		aggr_free(&a);
		return (1);
	}
	for (i = first, rc = 0; rc == 0; i++) {
		if ((rc = aggr_request(&a, i - first + 1, text)) != 0)
			break;
		if (a.drop_after >= 0 && i - first == a.drop_after) {
			fprintf(stderr, "tallysim: session %s dropped after "
			    "%d inputs\n", a.session, a.drop_after);
			break;
		}
		if (i == argc) {
			aggr_line(i - first + 1, NULL, NULL, "no input left "
			    "for a CON screen");
			rc = -1;
			break;
		}
		len += snprintf(text + len, sizeof(text) - len, "%s%s",
		    i == first ? "" : "*", argv[i]);
		if (len >= sizeof(text)) {
			aggr_line(i - first + 2, NULL, NULL, "inputs too long");
			rc = -1;
		}
	}
	if (rc == 1 && i < argc)
		fprintf(stderr, "tallysim: session %s ended with %d input(s) "
		    "not sent\n", a.session, argc - i);
	aggr_free(&a);
	return (rc == -1 ? 1 : 0);
}
