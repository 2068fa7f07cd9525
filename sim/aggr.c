/*
 * aggr: tallysim as a USSD aggregator (docs/sim.md, docs/ussd.md).  An
 * operator's USSD centre hands each step of an officer's session to
 * its aggregator, which posts it to the gateway's HTTP callback: the
 * first request with an empty text, then one per input with every
 * input so far joined by `*'.  aggr_post posts one step on any
 * event_base, without blocking it, and judges the answer as a network
 * would: HTTP 200, beginning `CON ' or `END ', at most 182 GSM 7-bit
 * characters, within the time given.
 *
 * Two users: `tallysim ctl --dir RUNDIR ussd ...' (aggr_ctl, below),
 * one whole session on a private loop in the ctl client (the simulator
 * need not run), one JSON line per screen; and the scenario's USSD
 * officers (dial.c), many sessions at once on the simulator's loop.
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

#define AGGR_BODY_MAX		4096	/* a longer answer is refused */
#define AGGR_SECRET_MAX		256
#define AGGR_TEXT_MAX		4096	/* text = the inputs joined by `*' */
#define AGGR_NETWORK		"51010"	/* a number of no known operator */

/* A gateway's USSD callback: where to post, and the shared secret. */
struct aggr_ep {
	struct evhttp_uri	*uri;
	char			 host[300];	/* the Host header */
	int			 port;
	char			 secret[AGGR_SECRET_MAX];
};

/* One step in flight. */
struct aggr_req {
	struct evhttp_connection *evcon;
	struct evhttp_request	*req;		/* in flight, or NULL */
	struct event		*timer;		/* the answer's deadline */
	struct event		*deliver;	/* runs cb outside evhttp */
	aggr_cb			 cb;
	void			*arg;
	int			 over;		/* answered or timed out */
	int			 timedout;
	int			 status;	/* HTTP status, 0: none */
	const char		*why;		/* no answer: the reason */
	char			 body[AGGR_BODY_MAX + 1];
};

/* `ctl ussd': one session, one step at a time. */
struct aggr_ctl {
	struct event_base	*base;
	struct aggr_ep		*ep;
	const char		*from;
	const char		*code;
	const char		*session;
	const char		*network;
	const char		*url;
	const char		*secret_path;
	char			 idbuf[64];
	int			 drop_after;	/* -1: every input */
	int			 screen_sec;
	int			 session_sec;
	struct timespec		 start;
	/* the step waited for */
	int			 n;
	long			 wait;		/* ms it was given */
	int			 done;
	int			 rc;		/* 0 CON, 1 END, -1 failed */
};

static int	aggr_usage(void);
static int	aggr_args(struct aggr_ctl *, int, char **);
static int	aggr_number(const char *, int *);
static int	aggr_url(struct aggr_ep *, const char *, char *, size_t);
static int	aggr_field(struct evbuffer *, const char *, const char *);
static void	aggr_done(struct evhttp_request *, void *);
static void	aggr_error(enum evhttp_request_error, void *);
static void	aggr_timeout(evutil_socket_t, short, void *);
static void	aggr_finish(struct aggr_req *);
static void	aggr_deliver(evutil_socket_t, short, void *);
static void	aggr_req_free(struct aggr_req *);
static double	aggr_elapsed(const struct aggr_ctl *);
static void	aggr_ctl_answer(const struct aggr_answer *, void *);
static int	aggr_ctl_step(struct aggr_ctl *, int, const char *);
static void	aggr_line(int, const char *, const char *, const char *);

/* The URL taken apart. */
static int
aggr_url(struct aggr_ep *ep, const char *url, char *err, size_t errlen)
{
	const char	*host, *scheme;
	int		 port;

	if ((ep->uri = evhttp_uri_parse(url)) == NULL ||
	    (scheme = evhttp_uri_get_scheme(ep->uri)) == NULL ||
	    strcmp(scheme, "http") != 0 ||
	    (host = evhttp_uri_get_host(ep->uri)) == NULL) {
		snprintf(err, errlen, "%s: not an http:// URL", url);
		return (-1);
	}
	if ((port = evhttp_uri_get_port(ep->uri)) == -1)
		port = 80;
	snprintf(ep->host, sizeof(ep->host), "%s:%d", host, port);
	ep->port = port;
	return (0);
}

/*
 * The endpoint: url and the secret in secretfile, or (url NULL) what
 * `tallysim world' wrote, DIR/ussd.url and DIR/ussd.secret.  NULL with
 * the reason in err.
 */
struct aggr_ep *
aggr_ep_open(const char *dir, const char *url, const char *secretfile,
    char *err, size_t errlen)
{
	struct aggr_ep	*ep;
	char		 urlbuf[PATH_MAX], path[PATH_MAX], kerr[PATH_MAX + 128];
	FILE		*fp;
	ssize_t		 n;

	if ((ep = calloc(1, sizeof(*ep))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	if (url == NULL) {
		snprintf(path, sizeof(path), "%s/ussd.url", dir);
		if ((fp = fopen(path, "r")) == NULL) {
			snprintf(err, errlen, "%s: %s (no world with [ussd] "
			    "here)", path, strerror(errno));
			goto fail;
		}
		if (fgets(urlbuf, sizeof(urlbuf), fp) == NULL)
			urlbuf[0] = '\0';
		fclose(fp);
		urlbuf[strcspn(urlbuf, "\r\n")] = '\0';
		url = urlbuf;
		snprintf(path, sizeof(path), "%s/ussd.secret", dir);
		secretfile = path;
	}
	if ((n = key_read_secret(secretfile, "USSD secret", ep->secret,
	    sizeof(ep->secret), kerr, sizeof(kerr))) == -1) {
		snprintf(err, errlen, "%s", kerr);
		goto fail;
	}
	while (n > 0 && strchr("\r\n ", ep->secret[n - 1]) != NULL)
		ep->secret[--n] = '\0';
	if (aggr_url(ep, url, err, errlen) == -1)
		goto fail;
	return (ep);
fail:
	aggr_ep_free(ep);
	return (NULL);
}

void
aggr_ep_free(struct aggr_ep *ep)
{
	if (ep == NULL)
		return;
	if (ep->uri != NULL)
		evhttp_uri_free(ep->uri);
	explicit_bzero(ep->secret, sizeof(ep->secret));
	free(ep);
}

/* The operator's MCC+MNC by the number's prefix, as a network says. */
const char *
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
aggr_field(struct evbuffer *b, const char *name, const char *value)
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

/*
 * Post one step, on a connection of its own (an aggregator calls back
 * for each step: nothing of the session rides on keep-alive).  cb gets
 * the answer within ms, from the loop, never from inside this call.
 * NULL if the request cannot be made.
 */
struct aggr_req *
aggr_post(struct event_base *base, const struct aggr_ep *ep,
    const struct aggr_form *f, long ms, aggr_cb cb, void *arg)
{
	struct aggr_req		*r;
	struct evhttp_request	*req = NULL;
	struct evkeyvalq	*h;
	struct evbuffer		*b;
	struct timeval		 tv = { ms / 1000, ms % 1000 * 1000 };
	const char		*path = evhttp_uri_get_path(ep->uri);

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->cb = cb;
	r->arg = arg;
	if ((r->timer = evtimer_new(base, aggr_timeout, r)) == NULL ||
	    (r->deliver = event_new(base, -1, 0, aggr_deliver, r)) == NULL ||
	    (req = evhttp_request_new(aggr_done, r)) == NULL)
		goto fail;
	evhttp_request_set_error_cb(req, aggr_error);
	h = evhttp_request_get_output_headers(req);
	b = evhttp_request_get_output_buffer(req);
	if (evhttp_add_header(h, "Host", ep->host) == -1 ||
	    evhttp_add_header(h, "Content-Type",
	    "application/x-www-form-urlencoded") == -1 ||
	    (ep->secret[0] != '\0' &&
	    evhttp_add_header(h, "X-Tally-Secret", ep->secret) == -1) ||
	    aggr_field(b, "sessionId", f->session) == -1 ||
	    aggr_field(b, "serviceCode", f->code) == -1 ||
	    aggr_field(b, "phoneNumber", f->phone) == -1 ||
	    aggr_field(b, "networkCode", f->network) == -1 ||
	    aggr_field(b, "text", f->text) == -1)
		goto fail;
	if ((r->evcon = evhttp_connection_base_new(base, NULL,
	    evhttp_uri_get_host(ep->uri), (ev_uint16_t)ep->port)) == NULL)
		goto fail;
	/* Our own timer decides; libevent's must not come first. */
	evhttp_connection_set_timeout(r->evcon, (int)(ms / 1000) + 5);
	evhttp_connection_set_max_body_size(r->evcon, AGGR_BODY_MAX);
	if (evhttp_make_request(r->evcon, req, EVHTTP_REQ_POST,
	    path == NULL || path[0] == '\0' ? "/" : path) == -1) {
		req = NULL;	/* libevent's now */
		goto fail;
	}
	r->req = req;
	evtimer_add(r->timer, &tv);
	return (r);
fail:
	if (req != NULL)
		evhttp_request_free(req);
	aggr_req_free(r);
	return (NULL);
}

/* Forget a step in flight: its callback will not run. */
void
aggr_cancel(struct aggr_req *r)
{
	struct evhttp_request	*req;

	if (r == NULL)
		return;
	r->over = 1;
	if ((req = r->req) != NULL) {
		r->req = NULL;
		evhttp_cancel_request(req);
	}
	aggr_req_free(r);
}

static void
aggr_req_free(struct aggr_req *r)
{
	if (r->evcon != NULL)
		evhttp_connection_free(r->evcon);
	if (r->timer != NULL)
		event_free(r->timer);
	if (r->deliver != NULL)
		event_free(r->deliver);
	free(r);
}

/* Answered or timed out: the rest runs from the loop, not evhttp. */
static void
aggr_finish(struct aggr_req *r)
{
	r->over = 1;
	evtimer_del(r->timer);
	event_active(r->deliver, EV_TIMEOUT, 1);
}

static void
aggr_done(struct evhttp_request *req, void *arg)
{
	struct aggr_req	*r = arg;
	struct evbuffer	*in;
	size_t		 n;

	if (r->over)
		return;		/* cancelled: libevent says so too */
	r->req = NULL;
	if (req == NULL || (r->status = evhttp_request_get_response_code(req))
	    == 0) {
		if (r->why == NULL)
			r->why = "connection failed";
	} else {
		in = evhttp_request_get_input_buffer(req);
		n = evbuffer_get_length(in);
		if (n > AGGR_BODY_MAX)
			n = AGGR_BODY_MAX;
		evbuffer_remove(in, r->body, n);
		r->body[n] = '\0';
	}
	aggr_finish(r);
}

static void
aggr_error(enum evhttp_request_error e, void *arg)
{
	struct aggr_req	*r = arg;

	if (r->over)
		return;
	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		r->why = "HTTP timeout";
		break;
	case EVREQ_HTTP_EOF:
		r->why = "connection refused or closed";
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		r->why = "answer over 4096 bytes";
		break;
	default:
		r->why = "bad HTTP answer";
		break;
	}
}

static void
aggr_timeout(evutil_socket_t fd, short ev, void *arg)
{
	struct aggr_req		*r = arg;
	struct evhttp_request	*req;

	r->timedout = 1;
	r->over = 1;
	if ((req = r->req) != NULL) {
		r->req = NULL;
		evhttp_cancel_request(req);
	}
	aggr_finish(r);
}

/* The answer judged as a network would; then the caller's callback. */
static void
aggr_deliver(evutil_socket_t fd, short ev, void *arg)
{
	struct aggr_req		*r = arg;
	struct aggr_answer	 a;
	char			 err[128];
	int			 len, max;

	memset(&a, 0, sizeof(a));
	a.type = AGGR_NONE;
	if (r->timedout) {
		a.timedout = 1;
		a.error = "no answer in time";
	} else if (r->why != NULL)
		a.error = r->why;
	else if (r->status != 200) {
		snprintf(err, sizeof(err), "HTTP status %d", r->status);
		a.error = err;
	} else if (strncmp(r->body, "CON ", 4) != 0 &&
	    strncmp(r->body, "END ", 4) != 0)
		a.error = "the answer begins neither CON nor END";
	else {
		a.type = r->body[0] == 'C' ? AGGR_CON : AGGR_END;
		a.screen = r->body + 4;
		if (pdu_ussd_fits(a.screen, &len, &max) != 1) {
			snprintf(err, sizeof(err), "screen of %d characters, "
			    "over %d", len, max);
			a.error = err;
		}
	}
	r->cb(&a, r->arg);
	aggr_req_free(r);
}

/* --- tallysim ctl ussd --------------------------------------------- */

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
aggr_args(struct aggr_ctl *a, int argc, char **argv)
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

static double
aggr_elapsed(const struct aggr_ctl *a)
{
	struct timespec	 now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return ((double)(now.tv_sec - a->start.tv_sec) +
	    (double)(now.tv_nsec - a->start.tv_nsec) / 1e9);
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

/* The answer to screen a->n: its line, and how the session goes on. */
static void
aggr_ctl_answer(const struct aggr_answer *ans, void *arg)
{
	struct aggr_ctl	*a = arg;
	const char	*type = ans->type == AGGR_CON ? "CON" :
			    ans->type == AGGR_END ? "END" : NULL;
	char		 err[128];

	a->done = 1;
	if (ans->error == NULL) {
		aggr_line(a->n, type, ans->screen, NULL);
		a->rc = ans->type == AGGR_END;
		return;
	}
	if (ans->timedout && a->wait < a->screen_sec * 1000L)
		snprintf(err, sizeof(err), "session over %d s",
		    a->session_sec);
	else if (ans->timedout)
		snprintf(err, sizeof(err), "no answer within %d s",
		    a->screen_sec);
	else
		snprintf(err, sizeof(err), "%s", ans->error);
	aggr_line(a->n, type, ans->screen, err);
	a->rc = -1;
}

/*
 * Screen n: one request, within what is left of the session.  0 CON,
 * 1 END, -1 the session failed (an error line printed).
 */
static int
aggr_ctl_step(struct aggr_ctl *a, int n, const char *text)
{
	struct aggr_form	 f;
	char			 err[64];
	long			 left;

	f.session = a->session;
	f.code = a->code;
	f.phone = a->from;
	f.network = a->network;
	f.text = text;
	left = (long)((a->session_sec - aggr_elapsed(a)) * 1000);
	a->n = n;
	a->wait = left < a->screen_sec * 1000L ? left : a->screen_sec * 1000L;
	a->done = 0;
	if (a->wait <= 0) {
		snprintf(err, sizeof(err), "session over %d s", a->session_sec);
		aggr_line(n, NULL, NULL, err);
		return (-1);
	}
	if (aggr_post(a->base, a->ep, &f, a->wait, aggr_ctl_answer, a) ==
	    NULL) {
		aggr_line(n, NULL, NULL, "cannot send the request");
		return (-1);
	}
	while (!a->done)
		event_base_loop(a->base, EVLOOP_ONCE);
	return (a->rc);
}

/*
 * ussd --from MSISDN [...] INPUT...: one whole session.  Exit status 0
 * at END or when dropped on purpose, 1 on any failure.
 */
int
aggr_ctl(const char *dir, int argc, char **argv)
{
	struct aggr_ctl	 a;
	char		 text[AGGR_TEXT_MAX] = "", err[PATH_MAX + 256];
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
	if ((a.base = event_base_new()) == NULL) {
		fprintf(stderr, "tallysim: event_base_new failed\n");
		return (1);
	}
	if ((a.ep = aggr_ep_open(dir, a.url, a.secret_path, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "tallysim: %s%s\n", err, a.url == NULL ?
		    ": give --url and --secret" : "");
		event_base_free(a.base);
		return (1);
	}
	for (i = first, rc = 0; rc == 0; i++) {
		if ((rc = aggr_ctl_step(&a, i - first + 1, text)) != 0)
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
	aggr_ep_free(a.ep);
	event_base_free(a.base);
	return (rc == -1 ? 1 : 0);
}
