/*
 * admin: the admin API (docs/admin.md). HTTP/1.1 with JSON answers,
 * served on the control socket STATE/tallygw.sock, where the peer's
 * credentials decide (root, our own user, or a member of our group),
 * and, when [admin] listen is set, on TCP, where a bearer token does
 * (compared in constant time). tallyctl speaks it; so may scripts and
 * the dashboard. Every path is a row of admin_routes: a new one (the
 * alerts, /metrics, static files) is a row and a handler here that
 * asks the module below for its data.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include <jansson.h>
#include <sodium.h>

#include "fmt.h"
#include "log.h"
#include "daemon.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS		59	/* Linux 4.13 */
#endif

#define ADMIN_BODY_MAX		4096	/* requests carry no body to speak of */
#define ADMIN_HEADERS_MAX	8192
#define ADMIN_TIMEOUT		60	/* s of silence on a connection */
#define ADMIN_TOKEN_MIN		16	/* characters of the bearer token */
#define ADMIN_TOKEN_MAX		256
#define ADMIN_GROUPS_MAX	256	/* a peer's groups looked at */
#define ADMIN_ARGS		2	/* '*' segments of a route */
#define ADMIN_ARG_MAX		64
#define ADMIN_MSG_ROWS		64	/* replies, forwards of one message */
#define ADMIN_EXPORT_ROWS	256	/* rows per chunk of an export */
#define ADMIN_BALANCE_WAIT	40	/* s for a USSD balance answer */
#define ADMIN_BALANCE_POLL	250000	/* us between looks at it */
#define ADMIN_CENTRALS_MAX	16
#define ADMIN_TZ		(7 * 3600)	/* WIB: the day of "today" */
#define ADMIN_TODAY_MAX		300	/* modems (and "ussd") counted */
#define ADMIN_FILE_MAX		(2 * 1024 * 1024)	/* a dashboard file */
/* The dashboard's files may load only from here, and ask only us. */
#define ADMIN_UI_POLICY		"default-src 'none'; " \
				"script-src 'self'; style-src 'self'; " \
				"img-src 'self' data:; connect-src 'self'; " \
				"base-uri 'none'; form-action 'none'; " \
				"frame-ancestors 'none'"

enum admin_via {
	ADMIN_UNIX = 1,		/* the control socket: peer credentials */
	ADMIN_TCP,		/* [admin] listen: the bearer token */
};

/* One request, as a handler sees it. */
struct admin_req {
	struct evhttp_request	*req;
	enum admin_via		 via;
	const char		*path;
	const char		*query;		/* "" none */
	char			 args[ADMIN_ARGS][ADMIN_ARG_MAX];
	char			 peer[256];	/* who asks, for the log */
};

/*
 * A row of the table: a path ('*' one segment, a final "**" the rest),
 * its methods, its handler.
 */
struct admin_route {
	const char	*path;
	int		 methods;	/* EVHTTP_REQ_GET, EVHTTP_REQ_POST */
	void		(*fn)(struct admin_req *);
};

/* A `modem balance' waiting for the modem's USSD answer. */
struct admin_wait {
	LIST_ENTRY(admin_wait)		 entry;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	struct event			*ev;
	char				 modem[GW_MODEM_NAME_MAX];
	unsigned			 answers;	/* before asking */
	time_t				 deadline;
};
LIST_HEAD(admin_waits, admin_wait);

/* An export on its way out, a chunk at a time. */
struct admin_export {
	LIST_ENTRY(admin_export)	 entry;
	struct evhttp_request		*req;
	struct evhttp_connection	*evcon;
	struct store_cursor		*cur;
	struct event			*abort;
	int				 json;
	long				 rows;
};
LIST_HEAD(admin_exports, admin_export);

/* Messages stored today (WIB) by modem, counted on from the last id. */
struct admin_today {
	long		 day;
	int64_t		 last;
	size_t		 n;
	struct {
		char	 modem[GW_MODEM_NAME_MAX];
		long	 count;
	}		 v[ADMIN_TODAY_MAX];
};

static void	admin_status(struct admin_req *);
static void	admin_modems(struct admin_req *);
static void	admin_modem(struct admin_req *);
static void	admin_modem_action(struct admin_req *);
static void	admin_modem_balance(struct admin_req *);
static void	admin_messages(struct admin_req *);
static void	admin_message(struct admin_req *);
static void	admin_resend(struct admin_req *);
static void	admin_forward_retry(struct admin_req *);
static void	admin_coverage(struct admin_req *);
static void	admin_export(struct admin_req *);
static void	admin_sweep(struct admin_req *);
static void	admin_reload(struct admin_req *);
static void	admin_alerts(struct admin_req *);
static void	admin_throughput(struct admin_req *);
static void	admin_ui(struct admin_req *);
static void	admin_ui_home(struct admin_req *);
static void	admin_metrics(struct admin_req *);

static const struct admin_route admin_routes[] = {
	{ "/status",			EVHTTP_REQ_GET,	admin_status },
	{ "/modems",			EVHTTP_REQ_GET,	admin_modems },
	{ "/modems/*",			EVHTTP_REQ_GET,	admin_modem },
	{ "/modems/*/enable",		EVHTTP_REQ_POST, admin_modem_action },
	{ "/modems/*/disable",		EVHTTP_REQ_POST, admin_modem_action },
	{ "/modems/*/reconnect",	EVHTTP_REQ_POST, admin_modem_action },
	{ "/modems/*/balance",		EVHTTP_REQ_POST, admin_modem_balance },
	{ "/messages",			EVHTTP_REQ_GET,	admin_messages },
	{ "/messages/*",		EVHTTP_REQ_GET,	admin_message },
	{ "/messages/*/resend",		EVHTTP_REQ_POST, admin_resend },
	{ "/forwards/retry",		EVHTTP_REQ_POST, admin_forward_retry },
	{ "/coverage",			EVHTTP_REQ_GET,	admin_coverage },
	{ "/export",			EVHTTP_REQ_GET,	admin_export },
	{ "/sweep",			EVHTTP_REQ_POST, admin_sweep },
	{ "/reload",			EVHTTP_REQ_POST, admin_reload },
	{ "/alerts",			EVHTTP_REQ_GET,	admin_alerts },
	{ "/throughput",		EVHTTP_REQ_GET,	admin_throughput },
	{ "/",				EVHTTP_REQ_GET,	admin_ui_home },
	{ "/ui",			EVHTTP_REQ_GET,	admin_ui_home },
	{ "/ui/",			EVHTTP_REQ_GET,	admin_ui },
	{ "/ui/**",			EVHTTP_REQ_GET,	admin_ui },
	{ "/metrics",			EVHTTP_REQ_GET,	admin_metrics },
};

/*
 * The paths TCP serves without the token (GET only): the dashboard's
 * files, the same for everyone, which hold no data. Every request for
 * data still needs the token.
 */
static const char *const admin_public_paths[] = { "/", "/ui", "/ui/",
    "/ui/**" };
#define ADMIN_NROUTES	(sizeof(admin_routes) / sizeof(admin_routes[0]))

static struct evhttp		*admin_http_unix;
static struct evhttp		*admin_http_tcp;
static char			 admin_sock[PATH_MAX];
static uint8_t			 admin_token_hash[crypto_generichash_BYTES];
static time_t			 admin_started;
static struct admin_waits	 admin_waits =
    LIST_HEAD_INITIALIZER(admin_waits);
static struct admin_exports	 admin_exports =
    LIST_HEAD_INITIALIZER(admin_exports);
static struct admin_today	 admin_today = { -1, 0, 0, { { "", 0 } } };

/* ------------------------------------------------------------------ */
/* Answers                                                             */
/* ------------------------------------------------------------------ */

/* Send o (its reference is taken) as the JSON answer, one line. */
static void
admin_json(struct admin_req *r, int code, json_t *o)
{
	struct evbuffer	*b;
	char		*s;

	if (o == NULL || (s = json_dumps(o, JSON_COMPACT)) == NULL) {
		json_decref(o);
		evhttp_send_error(r->req, 500, "out of memory");
		return;
	}
	json_decref(o);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", "application/json");
	if ((b = evbuffer_new()) == NULL) {
		free(s);
		evhttp_send_error(r->req, 500, "out of memory");
		return;
	}
	evbuffer_add_printf(b, "%s\n", s);
	free(s);
	evhttp_send_reply(r->req, code, NULL, b);	/* libevent's phrase */
	evbuffer_free(b);
}

static void
admin_error(struct admin_req *r, int code, const char *fmt, ...)
    __attribute__((__format__ (printf, 3, 4)));

/* {"error": "..."} with the status code. */
static void
admin_error(struct admin_req *r, int code, const char *fmt, ...)
{
	va_list	 ap;
	char	 msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_debug("admin: %s: %s %s: %d %s", r->peer,
	    evhttp_request_get_command(r->req) == EVHTTP_REQ_POST ? "POST" :
	    "GET", r->path, code, msg);
	admin_json(r, code, json_pack("{s:s}", "error", msg));
}

/*
 * A JSON string of a stored text: bytes that are not UTF-8 (a text
 * can come from anywhere) become U+FFFD, so the answer stays JSON.
 */
static json_t *
admin_str(const char *s)
{
	json_t			*j;
	const unsigned char	*p;
	char			*o, *q;
	size_t			 n, i, k;

	if (s == NULL)
		return (json_null());
	if ((j = json_string(s)) != NULL)
		return (j);
	n = strlen(s);
	if ((o = malloc(n * 3 + 1)) == NULL)
		return (json_null());
	for (p = (const unsigned char *)s, q = o; *p != '\0'; ) {
		k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 :
		    (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
		for (i = 1; k > 1 && i < k; i++)
			if ((p[i] & 0xc0) != 0x80)
				k = 0;
		/* jansson says which sequences are UTF-8 (overlong, ...). */
		if (k > 1 && (j = json_stringn((const char *)p, k)) != NULL)
			json_decref(j);
		else if (k > 1)
			k = 0;
		if (k == 0) {
			memcpy(q, "\xef\xbf\xbd", 3);
			q += 3;
			p++;
			continue;
		}
		memcpy(q, p, k);
		q += k;
		p += k;
	}
	*q = '\0';
	j = json_string(o);
	free(o);
	return (j != NULL ? j : json_null());
}

/* A text that may be empty: null when it is. */
static json_t *
admin_opt(const char *s)
{
	return (s == NULL || s[0] == '\0' ? json_null() : admin_str(s));
}

/* Unix seconds as ISO 8601 UTC, null for none. */
static json_t *
admin_time(time_t t)
{
	char	 buf[GW_ISO_MAX];

	if (t <= 0 || fmt_iso(buf, sizeof(buf), t) == -1)
		return (json_null());
	return (json_string(buf));
}

static json_t *
admin_tps(uint64_t tps)
{
	char	 buf[24];

	if (tps == 0)
		return (json_null());
	snprintf(buf, sizeof(buf), "%013llu", (unsigned long long)tps);
	return (json_string(buf));
}

/* The flags of a report as an array of names. */
static json_t *
admin_flags(unsigned flags)
{
	json_t	*a = json_array();
	char	 text[128], *p, *comma;

	if (a == NULL || verify_flags_text(flags & FLAG_ALL, text,
	    sizeof(text)) == -1)
		return (a);
	for (p = text; *p != '\0'; p = comma) {
		if ((comma = strchr(p, ',')) != NULL)
			*comma++ = '\0';
		else
			comma = p + strlen(p);
		json_array_append_new(a, json_string(p));
	}
	return (a);
}

/* ------------------------------------------------------------------ */
/* GET /status                                                         */
/* ------------------------------------------------------------------ */

static json_t *
admin_centrals(void)
{
	struct fwd_central_stats	*cs;
	json_t				*a = json_array();
	size_t				 n, i;

	if ((cs = calloc(ADMIN_CENTRALS_MAX, sizeof(*cs))) == NULL)
		return (a);
	if (forward_queue_stats(gw->fwdq, cs, ADMIN_CENTRALS_MAX, &n) == 0)
		for (i = 0; i < n && i < ADMIN_CENTRALS_MAX; i++)
			json_array_append_new(a, json_pack("{s:s, s:s, s:s, "
			    "s:i, s:i, s:o, s:o, s:o, s:i, s:o, s:i, s:i, "
			    "s:i}", "name", cs[i].name, "url", cs[i].url,
			    "link", cs[i].up ? "up" : "down", "inflight",
			    cs[i].inflight, "failures", cs[i].failures,
			    "next_probe", admin_time(cs[i].next_probe),
			    "last_ok", admin_time(cs[i].last_ok),
			    "last_fail", admin_time(cs[i].last_fail),
			    "last_status", cs[i].last_status,
			    "last_error", admin_opt(cs[i].last_error),
			    "acked", (json_int_t)cs[i].acked,
			    "refused", (json_int_t)cs[i].refused,
			    "outages", (json_int_t)cs[i].outages));
	free(cs);
	return (a);
}

static void
admin_status(struct admin_req *r)
{
	struct store_counts	 c;
	struct modem		*m;
	int			 ready, total, capped = 0, receive = 0;

	metrics_counts(&c);
	bank_count(&ready, &total);
	/*
	 * Modems that may send no more today: replies wait for the others;
	 * receive-only modems (docs/tallygw.md).
	 */
	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (!m->removed && m->conf.send_cap > 0 &&
		    m->sent_today >= m->conf.send_cap)
			capped++;
		if (!m->removed && m->conf.role == MODEM_ROLE_RECEIVE)
			receive++;
	}
	admin_json(r, 200, json_pack("{s:s, s:o, s:I, "
	    "s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, "
	    "s:{s:I, s:I, s:I, s:I, s:I}, "
	    "s:{s:I, s:I, s:I, s:I, s:I}, "
	    "s:{s:i, s:i, s:i, s:i}, s:I, s:I, s:I, s:o}",
	    "gateway", gw->conf.name,
	    "started_at", admin_time(admin_started),
	    "uptime", (json_int_t)(time(NULL) - admin_started),
	    "messages", "received", (json_int_t)c.msgs,
	    "reports", (json_int_t)c.reports, "ok", (json_int_t)c.ok,
	    "flagged", (json_int_t)c.flagged,
	    "duplicate", (json_int_t)c.duplicate,
	    "rejected", (json_int_t)c.rejected, "other", (json_int_t)c.other,
	    "replies", "queued", (json_int_t)c.out_queued,
	    "sending", (json_int_t)c.out_sending,
	    "sent", (json_int_t)c.out_sent,
	    "delivered", (json_int_t)c.out_delivered,
	    "failed", (json_int_t)c.out_failed,
	    "forwards", "pending", (json_int_t)c.fwd_pending,
	    "sending", (json_int_t)c.fwd_sending,
	    "retry_wait", (json_int_t)c.forward_retry,
	    "acked", (json_int_t)c.fwd_acked,
	    "failed", (json_int_t)c.fwd_failed,
	    "modems", "total", total, "ready", ready, "capped", capped,
	    "receive", receive,
	    "parts_pending", (json_int_t)parts_pending(gw->parts),
	    "rate_senders", (json_int_t)receive_rate_size(NULL),
	    "lockout_entries", (json_int_t)(gw->lockout != NULL ?
	    lockout_size(gw->lockout, NULL) : 0),
	    "centrals", admin_centrals()));
}

/* ------------------------------------------------------------------ */
/* GET /modems                                                         */
/* ------------------------------------------------------------------ */

static const char *
admin_reg_name(int reg)
{
	/* 3GPP 27.007 +CREG <stat> */
	switch (reg) {
	case 0:
		return ("none");
	case 1:
		return ("home");
	case 2:
		return ("searching");
	case 3:
		return ("denied");
	case 5:
		return ("roaming");
	default:
		return ("unknown");
	}
}

static int
admin_today_add(const char *modem, long n, void *arg)
{
	struct admin_today	*t = arg;
	size_t			 i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i].modem, modem) == 0)
			break;
	if (i == t->n) {
		if (t->n == ADMIN_TODAY_MAX)
			return (0);
		snprintf(t->v[t->n].modem, sizeof(t->v[0].modem), "%s",
		    modem);
		t->v[t->n++].count = 0;
	}
	t->v[i].count += n;
	return (0);
}

/*
 * Bring the day's counts of received messages up to date: a new day
 * (WIB) starts again from 0; else only messages stored since the last
 * look are counted. Counted from the store: a restart keeps them.
 */
static void
admin_today_update(time_t now)
{
	struct admin_today	*t = &admin_today;
	long			 day = (long)((now + ADMIN_TZ) / 86400);
	time_t			 midnight = (time_t)day * 86400 - ADMIN_TZ;
	struct tm		 tm;
	char			 since[GW_ISO_MAX];

	if (day != t->day) {
		t->day = day;
		t->last = 0;
		t->n = 0;
	}
	gmtime_r(&midnight, &tm);
	strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%S.000Z", &tm);
	if (store_msg_count_since(gw->store, since, t->last, admin_today_add,
	    t, &t->last) == -1)
		log_warnx("admin: cannot count today's messages");
}

static long
admin_today_of(const char *modem)
{
	size_t	 i;

	for (i = 0; i < admin_today.n; i++)
		if (strcmp(admin_today.v[i].modem, modem) == 0)
			return (admin_today.v[i].count);
	return (0);
}

static int
admin_queued_add(const char *modem, long n, void *arg)
{
	json_object_set_new(arg, modem, json_integer(n));
	return (0);
}

static json_t *
admin_modem_json(const struct modem *m, json_t *queued, time_t now)
{
	json_t	*q = json_object_get(queued, m->conf.name);

	return (json_pack("{s:s, s:o, s:o, s:s, s:s, s:b, s:i, s:i, s:s, "
	    "s:i, s:i, s:I, s:o, s:o, s:I, s:i, s:I, s:I, s:I, s:i, s:I, "
	    "s:o, s:I, s:i, s:i, s:o, s:o, s:s, s:s}",
	    "name", m->conf.name,
	    "number", admin_opt(m->conf.number),
	    "operator", admin_opt(m->conf.oper[0] ? m->conf.oper : m->oper),
	    "state", bank_state_name(m->state),
	    "worker", wire_state_name(m->wstate),
	    "enabled", m->conf.enabled,
	    "signal", m->signal, "reg", m->reg,
	    "registration", admin_reg_name(m->reg),
	    "sim_used", m->sim_used, "sim_total", m->sim_total,
	    "balance", (json_int_t)m->balance,
	    "balance_text", admin_opt(m->balance_text),
	    "balance_at", admin_time(m->balance_answer_at),
	    "sent", (json_int_t)m->sent,
	    "sent_today", m->sent_today,
	    "send_failed", (json_int_t)m->send_failed,
	    "received", (json_int_t)m->received,
	    "received_today", (json_int_t)admin_today_of(m->conf.name),
	    "cap", m->conf.send_cap,
	    "queue", (json_int_t)(q != NULL ? json_integer_value(q) : 0),
	    "sending", m->out_id != 0 ? json_integer(m->out_id) : json_null(),
	    "hold", (json_int_t)(m->send_hold > now ? m->send_hold - now : 0),
	    "restarts", m->restarts, "errors", m->errors,
	    "last_error", admin_opt(m->last_error),
	    "last_error_at", admin_time(m->last_error_at),
	    "device", m->conf.device,
	    "role", config_role_name(m->conf.role)));
}

/* The modems' JSON: all, or the one named (NULL: it is not there). */
static json_t *
admin_modem_list(const char *only)
{
	struct modem	*m;
	json_t		*a, *queued;
	time_t		 now = time(NULL);

	if ((a = json_array()) == NULL || (queued = json_object()) == NULL) {
		json_decref(a);
		return (NULL);
	}
	admin_today_update(now);
	if (store_out_queued_by(gw->store, admin_queued_add, queued) == -1)
		log_warnx("admin: cannot count the queued replies");
	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (m->removed || (only != NULL &&
		    strcmp(m->conf.name, only) != 0))
			continue;
		json_array_append_new(a, admin_modem_json(m, queued, now));
	}
	json_decref(queued);
	return (a);
}

static void
admin_modems(struct admin_req *r)
{
	json_t	*a;

	if ((a = admin_modem_list(NULL)) == NULL) {
		admin_error(r, 500, "out of memory");
		return;
	}
	admin_json(r, 200, json_pack("{s:o}", "modems", a));
}

static void
admin_modem(struct admin_req *r)
{
	json_t	*a;

	if ((a = admin_modem_list(r->args[0])) == NULL) {
		admin_error(r, 500, "out of memory");
		return;
	}
	if (json_array_size(a) == 0) {
		json_decref(a);
		admin_error(r, 404, "no modem %s", r->args[0]);
		return;
	}
	admin_json(r, 200, json_incref(json_array_get(a, 0)));
	json_decref(a);
}

/* The one modem's JSON after an action, or its error. */
static void
admin_modem_done(struct admin_req *r, int rc, const char *err, int code)
{
	json_t	*a;

	if (rc == -1) {
		admin_error(r, strncmp(err, "no modem", 8) == 0 ? 404 : 409,
		    "%s", err);
		return;
	}
	if ((a = admin_modem_list(r->args[0])) == NULL ||
	    json_array_size(a) == 0) {
		json_decref(a);
		admin_error(r, 500, "out of memory");
		return;
	}
	admin_json(r, code, json_incref(json_array_get(a, 0)));
	json_decref(a);
}

/* POST /modems/NAME/enable, disable, reconnect: the path's last word. */
static void
admin_modem_action(struct admin_req *r)
{
	const char	*act = strrchr(r->path, '/') + 1;
	char		 err[256];
	int		 rc;

	if (strcmp(act, "reconnect") == 0)
		rc = bank_reconnect(r->args[0], err, sizeof(err));
	else
		rc = bank_enable(r->args[0], strcmp(act, "enable") == 0, err,
		    sizeof(err));
	if (rc == 0)
		log_info("admin: %s: modem %s: %s", r->peer, r->args[0], act);
	admin_modem_done(r, rc, err, strcmp(act, "reconnect") == 0 ? 202 :
	    200);
}

static void
admin_wait_free(struct admin_wait *w)
{
	LIST_REMOVE(w, entry);
	if (w->evcon != NULL)
		evhttp_connection_set_closecb(w->evcon, NULL, NULL);
	if (w->ev != NULL)
		event_free(w->ev);
	free(w);
}

/* The client went away while its balance was asked: forget it. */
static void
admin_wait_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct admin_wait	*w = arg;

	w->evcon = NULL;
	admin_wait_free(w);
}

/* Has the modem answered? Then (or at the deadline) say so. */
static void
admin_wait_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct admin_wait	*w = arg;
	struct admin_req	 r;
	struct modem		*m = bank_find(w->modem);
	struct timeval		 tv = { 0, ADMIN_BALANCE_POLL };

	memset(&r, 0, sizeof(r));
	r.req = w->req;
	r.path = "/modems/*/balance";
	snprintf(r.args[0], sizeof(r.args[0]), "%s", w->modem);
	snprintf(r.peer, sizeof(r.peer), "balance of %s", w->modem);
	if (m != NULL && m->balance_answers == w->answers &&
	    time(NULL) < w->deadline) {
		evtimer_add(w->ev, &tv);
		return;
	}
	if (m == NULL)
		admin_error(&r, 404, "no modem %s", w->modem);
	else if (m->balance_answers == w->answers)
		admin_error(&r, 409, "modem %s: no answer to the balance "
		    "query in %d s", w->modem, ADMIN_BALANCE_WAIT);
	else
		admin_modem_done(&r, 0, "", 200);
	admin_wait_free(w);
}

/* Ask the balance and answer when the modem has (or has not, in time). */
static void
admin_modem_balance(struct admin_req *r)
{
	struct admin_wait	*w;
	struct modem		*m;
	struct timeval		 tv = { 0, ADMIN_BALANCE_POLL };
	char			 err[256];
	unsigned		 before;

	before = (m = bank_find(r->args[0])) != NULL ? m->balance_answers : 0;
	if (bank_balance_ask(r->args[0], err, sizeof(err)) == -1) {
		admin_modem_done(r, -1, err, 200);
		return;
	}
	log_info("admin: %s: balance of modem %s asked", r->peer, r->args[0]);
	if ((w = calloc(1, sizeof(*w))) == NULL ||
	    (w->ev = evtimer_new(gw->base, admin_wait_cb, w)) == NULL) {
		free(w);
		admin_error(r, 500, "out of memory");
		return;
	}
	w->req = r->req;
	w->evcon = evhttp_request_get_connection(r->req);
	w->answers = before;
	w->deadline = time(NULL) + ADMIN_BALANCE_WAIT;
	snprintf(w->modem, sizeof(w->modem), "%.*s",
	    (int)sizeof(w->modem) - 1, r->args[0]);
	LIST_INSERT_HEAD(&admin_waits, w, entry);
	evhttp_connection_set_closecb(w->evcon, admin_wait_closecb, w);
	evtimer_add(w->ev, &tv);
}

/* ------------------------------------------------------------------ */
/* GET /messages, GET /messages/ID, POST /messages/ID/resend           */
/* ------------------------------------------------------------------ */

static const char *
admin_reply_state(int reply)
{
	if (reply == QUERY_NONE)
		return (NULL);
	if (reply == QUERY_OWED)
		return ("owed");
	return (store_out_state_name((enum out_state)reply));
}

/* "central state, ..." as [{"central": .., "state": ..}]. */
static json_t *
admin_forward_states(const char *text)
{
	json_t	*a = json_array();
	char	 buf[256], *p, *next, *sp;

	snprintf(buf, sizeof(buf), "%s", text);
	for (p = buf; *p != '\0'; p = next) {
		if ((next = strstr(p, ", ")) != NULL) {
			*next = '\0';
			next += 2;
		} else
			next = p + strlen(p);
		if ((sp = strchr(p, ' ')) == NULL)
			continue;
		*sp++ = '\0';
		json_array_append_new(a, json_pack("{s:s, s:s}", "central", p,
		    "state", sp));
	}
	return (a);
}

struct admin_list {
	json_t		*rows;
	int64_t		 last;
	int		 n;
};

static int
admin_messages_row(const struct store_msg_row *m, void *arg)
{
	struct admin_list	*l = arg;

	l->last = m->id;
	l->n++;
	json_array_append_new(l->rows, json_pack("{s:I, s:s, s:o, s:s, "
	    "s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
	    "s:o}",
	    "id", (json_int_t)m->id, "received_at", m->received_at,
	    "sender", admin_str(m->sender),
	    "channel", strcmp(m->modem, "ussd") == 0 ? "ussd" : "sms",
	    "modem", m->modem, "kind", store_kind_name(m->kind),
	    "verdict", m->verdict != 0 ?
	    json_string(verify_verdict_name(m->verdict)) : json_null(),
	    "reason", admin_opt(m->reason),
	    "flags", admin_flags(m->flags), "tps", admin_tps(m->tps),
	    "contest", m->contest != CONTEST_NONE ?
	    json_string(decode_contest_name(m->contest)) : json_null(),
	    "page", m->page >= 0 ? json_integer(m->page) : json_null(),
	    "seq", m->tps != 0 ? json_integer(m->seq) : json_null(),
	    "receipt", admin_opt(m->receipt), "text", admin_str(m->raw),
	    "reply", admin_reply_state(m->reply) != NULL ?
	    json_string(admin_reply_state(m->reply)) : json_null(),
	    "forwards", admin_forward_states(m->forwards)));
	return (0);
}

static void
admin_messages(struct admin_req *r)
{
	struct store_msg_query	 q;
	struct admin_list	 l;
	char			 err[256], msisdn[WIRE_NUMBER_MAX];

	if (query_messages(r->query, &q, err, sizeof(err)) == -1) {
		admin_error(r, 400, "%s", err);
		return;
	}
	/* 0812..., 62812... and +62812... are one number. */
	if (q.sender[0] != '\0' && config_msisdn(q.sender, msisdn,
	    sizeof(msisdn)) == 0)
		snprintf(q.sender, sizeof(q.sender), "%s", msisdn);
	memset(&l, 0, sizeof(l));
	if ((l.rows = json_array()) == NULL) {
		admin_error(r, 500, "out of memory");
		return;
	}
	if (store_msg_list(gw->store, &q, admin_messages_row, &l) == -1) {
		json_decref(l.rows);
		admin_error(r, 500, "store error");
		return;
	}
	admin_json(r, 200, json_pack("{s:o, s:o}", "messages", l.rows,
	    "next_before", l.n == q.limit && l.n > 0 ? json_integer(l.last) :
	    json_null()));
}

/* One reply owed for a message and the SMS that carries it. */
static json_t *
admin_reply_json(const struct store_msg_reply *mr)
{
	const struct store_out	*o = &mr->out;
	json_t			*shared = json_array(), *sms;
	char			 buf[sizeof(mr->shared)], *p, *next;

	snprintf(buf, sizeof(buf), "%s", mr->shared);
	for (p = buf; *p != '\0'; p = next) {
		next = p + strcspn(p, ",");
		if (*next != '\0')
			*next++ = '\0';
		while (*next == ' ')
			next++;
		json_array_append_new(shared, json_integer(strtoll(p, NULL,
		    10)));
	}
	if (o->id == 0)
		sms = json_null();
	else
		sms = json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:i, s:o, "
		    "s:o, s:o, s:o, s:o, s:o, s:o}",
		    "id", (json_int_t)o->id, "to", o->dest,
		    "text", admin_str(o->text),
		    "state", store_out_state_name(o->state),
		    "modem", admin_opt(o->modem),
		    "came_in_on", admin_opt(o->prefer),
		    "attempts", o->attempts,
		    "queued_at", admin_time(o->created),
		    "next_try", o->state == OUT_QUEUED &&
		    o->next_at > time(NULL) ? admin_time(o->next_at) :
		    json_null(),
		    "sent_at", admin_time(o->sent_at),
		    "msgref", o->sent_at > 0 ? json_integer(o->msgref) :
		    json_null(),
		    "delivered_at", admin_time(o->delivered_at),
		    "error", admin_opt(o->error),
		    "shared_with", shared);
	if (o->id == 0)
		json_decref(shared);
	return (json_pack("{s:I, s:s, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)mr->reply.id, "to", mr->reply.dest,
	    "text", admin_str(mr->reply.text),
	    "came_in_on", admin_opt(mr->reply.modem),
	    "owed_since", admin_time(mr->reply.created), "sms", sms));
}

static json_t *
admin_forward_json(const struct store_fwd *f)
{
	return (json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:o}",
	    "central", f->central, "state", store_fwd_state_name(f->state),
	    "attempts", f->attempts,
	    "http_status", f->http_status != 0 ?
	    json_integer(f->http_status) : json_null(),
	    "error", admin_opt(f->error), "updated", admin_time(f->updated),
	    "next_try", f->state == FWD_RETRY_WAIT ? admin_time(f->next_at) :
	    json_null()));
}

/* A message's report, as decoded, or null. */
static json_t *
admin_report_json(const struct store_msg *m)
{
	const struct report	*rp = &m->report;
	json_t			*v;
	size_t			 i;

	if (!m->decoded || (v = json_array()) == NULL)
		return (json_null());
	for (i = 0; i < rp->nvalues && i < TALLY_MAXVALUES; i++)
		json_array_append_new(v, json_integer(rp->values[i]));
	return (json_pack("{s:o, s:s, s:o, s:i, s:o, s:o, s:o, s:o, s:o}",
	    "tps", admin_tps(rp->tps),
	    "contest", decode_contest_name(rp->contest),
	    "page", rp->page >= 0 ? json_integer(rp->page) : json_null(),
	    "seq", (int)rp->seq, "values", v,
	    "canonical", admin_opt(rp->canon), "code", admin_opt(rp->code),
	    "auth", m->auth == AUTH_MAC ? json_string("mac") :
	    m->auth == AUTH_CARD ? json_string("card") : json_null(),
	    "supersedes", m->supersedes != 0 ? json_integer(m->supersedes) :
	    json_null()));
}

/* The message ID of a path, > 0, or 0 after a 400 answer. */
static int64_t
admin_msg_id(struct admin_req *r)
{
	char		*end;
	long long	 id;

	errno = 0;
	id = strtoll(r->args[0], &end, 10);
	if (r->args[0][0] < '0' || r->args[0][0] > '9' || *end != '\0' ||
	    errno != 0 || id <= 0) {
		admin_error(r, 400, "not a message id: '%s'", r->args[0]);
		return (0);
	}
	return ((int64_t)id);
}

/* Is there a message id? 1 yes, 0 no (404 said), -1 (500 said). */
static int
admin_msg_exists(struct admin_req *r, int64_t id)
{
	struct store_msg	*m;
	int			 rc;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		admin_error(r, 500, "out of memory");
		return (-1);
	}
	if ((rc = store_msg_get(gw->store, id, m)) == 0)
		admin_error(r, 404, "no message %lld", (long long)id);
	else if (rc == -1)
		admin_error(r, 500, "store error");
	free(m);
	return (rc);
}

/* The whole life of one message: as stored, its replies, its forwards. */
static void
admin_message(struct admin_req *r)
{
	struct store_msg	*msg = NULL;
	struct store_msg_reply	*mr = NULL;
	struct store_fwd	*fw = NULL;
	json_t			*replies = NULL, *forwards = NULL;
	int64_t			 id;
	size_t			 nr, nf, i;
	int			 rc;

	if ((id = admin_msg_id(r)) == 0)
		return;
	if ((msg = calloc(1, sizeof(*msg))) == NULL ||
	    (mr = calloc(ADMIN_MSG_ROWS, sizeof(*mr))) == NULL ||
	    (fw = calloc(ADMIN_MSG_ROWS, sizeof(*fw))) == NULL ||
	    (replies = json_array()) == NULL ||
	    (forwards = json_array()) == NULL) {
		admin_error(r, 500, "out of memory");
		goto done;
	}
	if ((rc = store_msg_get(gw->store, id, msg)) != 1) {
		if (rc == 0)
			admin_error(r, 404, "no message %lld", (long long)id);
		else
			admin_error(r, 500, "store error");
		goto done;
	}
	if (store_msg_replies(gw->store, id, mr, ADMIN_MSG_ROWS, &nr) == -1 ||
	    store_msg_forwards(gw->store, id, fw, ADMIN_MSG_ROWS, &nf) == -1) {
		admin_error(r, 500, "store error");
		goto done;
	}
	for (i = 0; i < nr; i++)
		json_array_append_new(replies, admin_reply_json(&mr[i]));
	for (i = 0; i < nf; i++)
		json_array_append_new(forwards, admin_forward_json(&fw[i]));
	admin_json(r, 200, json_pack("{s:I, s:s, s:o, s:s, s:o, s:o, s:o, "
	    "s:o, s:i, s:o, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "id", (json_int_t)id, "channel", strcmp(msg->modem, "ussd") == 0 ?
	    "ussd" : "sms", "sender", admin_str(msg->sender),
	    "modem", msg->modem, "modem_number", admin_opt(msg->modem_number),
	    "smsc_time", admin_opt(msg->smsc_time),
	    "received_at", admin_opt(msg->received_at),
	    "verified_at", admin_opt(msg->verified_at),
	    "parts", msg->parts, "text", admin_str(msg->raw),
	    "kind", store_kind_name(msg->kind),
	    "verdict", msg->kind == MSG_REPORT && msg->verdict != 0 ?
	    json_string(verify_verdict_name(msg->verdict)) : json_null(),
	    "reason", msg->reason != REASON_NONE ?
	    json_string(verify_reason_text(msg->reason)) : json_null(),
	    "flags", admin_flags(msg->flags),
	    "receipt", admin_opt(msg->receipt),
	    "detail", admin_opt(msg->detail),
	    "report", admin_report_json(msg),
	    "replies", replies, "forwards", forwards));
	replies = forwards = NULL;
done:
	json_decref(replies);
	json_decref(forwards);
	free(msg);
	free(mr);
	free(fw);
}

/*
 * The officer did not get the answer (or lost it): the reply again, as
 * a new reply of the message, so its first SMS keeps its history. Only
 * once the last one has left (sent, delivered or failed).
 */
static void
admin_resend(struct admin_req *r)
{
	struct store_msg_reply	 last;
	struct store_reply	 rep;
	int64_t			 id;
	int			 rc;

	if ((id = admin_msg_id(r)) == 0)
		return;
	if ((rc = store_reply_last(gw->store, id, &last)) == -1) {
		admin_error(r, 500, "store error");
		return;
	}
	if (rc == 0) {
		if (admin_msg_exists(r, id) == 1)
			admin_error(r, 409, "message %lld has no reply to "
			    "send again", (long long)id);
		return;
	}
	if (last.out.id == 0 || last.out.state == OUT_QUEUED ||
	    last.out.state == OUT_SENDING) {
		admin_error(r, 409, "the reply to message %lld is still on "
		    "its way (%s)", (long long)id, last.out.id == 0 ? "owed" :
		    store_out_state_name(last.out.state));
		return;
	}
	memset(&rep, 0, sizeof(rep));
	rep.msg_id = id;
	snprintf(rep.dest, sizeof(rep.dest), "%s", last.reply.dest);
	snprintf(rep.modem, sizeof(rep.modem), "%s", last.reply.modem);
	snprintf(rep.text, sizeof(rep.text), "%s", last.reply.text);
	rep.priority = last.reply.priority;
	if (store_reply_add(gw->store, &rep) == -1) {
		admin_error(r, 500, "store error");
		return;
	}
	log_info("admin: %s: msg %lld: its reply is sent again to %s (reply "
	    "%lld)", r->peer, (long long)id, rep.dest, (long long)rep.id);
	outbox_kick();
	admin_json(r, 202, json_pack("{s:I, s:I, s:s, s:o}", "msg",
	    (json_int_t)id, "reply", (json_int_t)rep.id, "to", rep.dest,
	    "text", admin_str(rep.text)));
}

/* ------------------------------------------------------------------ */
/* POST /forwards/retry, GET /coverage                                 */
/* ------------------------------------------------------------------ */

static void
admin_forward_retry(struct admin_req *r)
{
	struct query_retry	 q;
	char			 err[256];
	size_t			 n;

	if (query_retry(r->query, &q, err, sizeof(err)) == -1) {
		admin_error(r, 400, "%s", err);
		return;
	}
	if (q.msg != 0 && admin_msg_exists(r, q.msg) != 1)
		return;
	if (forward_queue_retry(gw->fwdq, q.msg, q.failed, &n) == -1) {
		admin_error(r, 500, "store error (%zu forwards moved)", n);
		return;
	}
	log_info("admin: %s: forward retry %s: %zu forward%s due now",
	    r->peer, q.msg != 0 ? "of one message" : q.failed ? "--failed" :
	    "of the waiting", n, n == 1 ? "" : "s");
	admin_json(r, 202, json_pack("{s:I}", "retried", (json_int_t)n));
}

/* {"expected":..,"reported":..,"flagged":..,"missing":..} of a contest. */
static json_t *
admin_coverage_cell(const struct coverage *cv, const struct coverage_row *row,
    enum contest c)
{
	return (json_pack("{s:o, s:I, s:I, s:o}",
	    "expected", cv->registry ? json_integer(row->expected[c]) :
	    json_null(),
	    "reported", (json_int_t)row->reported[c],
	    "flagged", (json_int_t)row->flagged[c],
	    "missing", cv->registry ? json_integer(coverage_missing(row, c)) :
	    json_null()));
}

static json_t *
admin_coverage_row(const struct coverage *cv, const struct coverage_row *row,
    const struct query_coverage *q, int total)
{
	json_t	*cs = json_object();
	char	 code[16];
	int	 c;

	for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++)
		if (q->contest == CONTEST_NONE || q->contest == (enum contest)c)
			json_object_set_new(cs,
			    decode_contest_name((enum contest)c),
			    admin_coverage_cell(cv, row, (enum contest)c));
	snprintf(code, sizeof(code), "%0*llu", cv->digits,
	    (unsigned long long)row->code);
	if (total)
		return (json_pack("{s:o, s:o}", "tps", cv->registry ?
		    json_integer(row->tps) : json_null(), "contests", cs));
	return (json_pack("{s:s, s:o, s:o, s:o}", "code", code,
	    "name", admin_opt(row->name),
	    "tps", cv->registry ? json_integer(row->tps) : json_null(),
	    "contests", cs));
}

static void
admin_coverage(struct admin_req *r)
{
	struct query_coverage	 q;
	struct coverage		 cv;
	json_t			*rows;
	char			 err[256], in[16];
	size_t			 i;

	if (query_coverage(r->query, &q, err, sizeof(err)) == -1) {
		admin_error(r, 400, "%s", err);
		return;
	}
	if (coverage_build(&cv, gw->store, gw->registry, gw->election, &q,
	    err, sizeof(err)) == -1) {
		admin_error(r, 500, "%s", err);
		return;
	}
	if ((rows = json_array()) == NULL) {
		coverage_free(&cv);
		admin_error(r, 500, "out of memory");
		return;
	}
	for (i = 0; i < cv.nrows; i++)
		json_array_append_new(rows, admin_coverage_row(&cv,
		    &cv.rows[i], &q, 0));
	snprintf(in, sizeof(in), "%0*llu", q.in_digits,
	    (unsigned long long)q.in);
	admin_json(r, 200, json_pack("{s:s, s:o, s:b, s:o, s:o}",
	    "level", q.digits == 2 ? "province" : q.digits == 4 ? "regency" :
	    q.digits == 6 ? "district" : "village",
	    "in", q.in_digits > 0 ? json_string(in) : json_null(),
	    "registry", cv.registry, "regions", rows,
	    "total", admin_coverage_row(&cv, &cv.total, &q, 1)));
	coverage_free(&cv);
}

/* ------------------------------------------------------------------ */
/* GET /export: streamed, a chunk of rows at a time                    */
/* ------------------------------------------------------------------ */

static void
admin_export_free(struct admin_export *x)
{
	LIST_REMOVE(x, entry);
	if (x->evcon != NULL)
		evhttp_connection_set_closecb(x->evcon, NULL, NULL);
	if (x->abort != NULL)
		event_free(x->abort);
	store_cursor_close(x->cur);
	free(x);
}

/* The client went away: the cursor closes, nothing more is read. */
static void
admin_export_closecb(struct evhttp_connection *evcon, void *arg)
{
	struct admin_export	*x = arg;

	log_info("admin: export cut after %ld rows: the client went away",
	    x->rows);
	x->evcon = NULL;
	admin_export_free(x);
}

/* A store error in the middle: cut the connection (no final chunk). */
static void
admin_export_abortcb(evutil_socket_t fd, short ev, void *arg)
{
	struct admin_export		*x = arg;
	struct evhttp_connection	*evcon = x->evcon;

	x->evcon = NULL;
	if (evcon != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	admin_export_free(x);
	if (evcon != NULL)
		evhttp_connection_free(evcon);
}

/* One row as a CSV line or a JSON object. */
static void
admin_export_row(struct evbuffer *b, const struct admin_export *x,
    const struct store_export_row *e)
{
	const char	*v;
	char		 flags[128], *p, page[16] = "";

	if (verify_flags_text(e->flags & FLAG_ALL, flags, sizeof(flags)) == -1)
		flags[0] = '\0';
	if (e->page >= 0)
		snprintf(page, sizeof(page), "%d", e->page);
	if (!x->json) {
		for (p = flags; *p != '\0'; p++)
			if (*p == ',')
				*p = ' ';
		/* Every field is digits, names or an ISO time: no quotes. */
		evbuffer_add_printf(b,
		    "%013llu,%s,%s,%u,%s,%s,%s,%s,%lld,%s\r\n",
		    (unsigned long long)e->tps, decode_contest_name(e->contest),
		    page, e->seq, verify_verdict_name(e->verdict), flags,
		    e->values, e->receipt, (long long)e->msg_id,
		    e->received_at);
		return;
	}
	evbuffer_add_printf(b, "%s{\"tps\":\"%013llu\",\"contest\":\"%s\","
	    "\"page\":%s,\"seq\":%u,\"verdict\":\"%s\",\"flags\":[",
	    x->rows > 0 ? ",\n" : "", (unsigned long long)e->tps,
	    decode_contest_name(e->contest), e->page >= 0 ? page : "null",
	    e->seq, verify_verdict_name(e->verdict));
	for (p = strtok(flags, ","); p != NULL; p = strtok(NULL, ","))
		evbuffer_add_printf(b, "%s\"%s\"", p == flags ? "" : ",", p);
	evbuffer_add_printf(b, "],\"values\":[");
	for (v = e->values; *v != '\0'; v++)
		evbuffer_add(b, *v == ' ' ? "," : v, 1);
	evbuffer_add_printf(b, "],\"receipt\":\"%s\",\"msg_id\":%lld,"
	    "\"received_at\":\"%s\"}", e->receipt, (long long)e->msg_id,
	    e->received_at);
}

static void	admin_export_more(struct admin_export *);

static void
admin_export_sentcb(struct evhttp_connection *evcon, void *arg)
{
	admin_export_more(arg);
}

/* The next chunk; the last one ends the answer. */
static void
admin_export_more(struct admin_export *x)
{
	struct store_export_row	 e;
	struct evbuffer		*b;
	int			 i, rc = 1;

	if ((b = evbuffer_new()) == NULL) {
		event_active(x->abort, EV_TIMEOUT, 0);
		return;
	}
	for (i = 0; i < ADMIN_EXPORT_ROWS; i++) {
		if ((rc = store_export_next(x->cur, &e)) != 1)
			break;
		admin_export_row(b, x, &e);
		x->rows++;
	}
	if (rc == -1) {
		evbuffer_free(b);
		log_warnx("admin: export cut after %ld rows: store error",
		    x->rows);
		event_active(x->abort, EV_TIMEOUT, 0);
		return;
	}
	if (rc == 1) {
		evhttp_send_reply_chunk_with_cb(x->req, b, admin_export_sentcb,
		    x);
		evbuffer_free(b);
		return;
	}
	if (x->json)
		evbuffer_add_printf(b, "%s]\n", x->rows > 0 ? "\n" : "");
	if (evbuffer_get_length(b) > 0)
		evhttp_send_reply_chunk(x->req, b);
	evbuffer_free(b);
	log_info("admin: export of %ld rows sent", x->rows);
	evhttp_connection_set_closecb(x->evcon, NULL, NULL);
	x->evcon = NULL;
	evhttp_send_reply_end(x->req);
	admin_export_free(x);
}

/*
 * The latest accepted report of each TPS, contest and page, as CSV or
 * one JSON array, sent a chunk at a time as the client takes it: a
 * national export holds a few hundred rows in memory, never all.
 */
static void
admin_export(struct admin_req *r)
{
	struct query_export	 q;
	struct admin_export	*x;
	struct evbuffer		*b;
	char			 err[256];

	if (query_export(r->query, &q, err, sizeof(err)) == -1) {
		admin_error(r, 400, "%s", err);
		return;
	}
	if ((x = calloc(1, sizeof(*x))) == NULL ||
	    (x->abort = evtimer_new(gw->base, admin_export_abortcb, x)) ==
	    NULL || (b = evbuffer_new()) == NULL) {
		if (x != NULL && x->abort != NULL)
			event_free(x->abort);
		free(x);
		admin_error(r, 500, "out of memory");
		return;
	}
	if ((x->cur = store_export_open(gw->store, &q, err, sizeof(err))) ==
	    NULL) {
		event_free(x->abort);
		free(x);
		evbuffer_free(b);
		admin_error(r, 500, "%s", err);
		return;
	}
	x->req = r->req;
	x->evcon = evhttp_request_get_connection(r->req);
	x->json = q.json;
	LIST_INSERT_HEAD(&admin_exports, x, entry);
	evhttp_connection_set_closecb(x->evcon, admin_export_closecb, x);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", q.json ? "application/json" :
	    "text/csv; charset=utf-8");
	log_info("admin: %s: export (%s) begins", r->peer, q.json ? "JSON" :
	    "CSV");
	evhttp_send_reply_start(r->req, 200, "OK");
	if (q.json)
		evbuffer_add_printf(b, "[\n");
	else
		evbuffer_add_printf(b, "tps,contest,page,seq,verdict,flags,"
		    "values,receipt,msg_id,received_at\r\n");
	evhttp_send_reply_chunk_with_cb(r->req, b, admin_export_sentcb, x);
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* POST /sweep, POST /reload                                           */
/* ------------------------------------------------------------------ */

static void
admin_sweep(struct admin_req *r)
{
	log_info("admin: %s: sweep of every ready modem", r->peer);
	bank_sweep_all();
	admin_json(r, 202, json_pack("{s:s}", "sweep", "asked"));
}

static void
admin_reload(struct admin_req *r)
{
	log_info("admin: %s: reload", r->peer);
	raise(SIGHUP);
	admin_json(r, 202, json_pack("{s:s}", "reload", "asked"));
}

/* ------------------------------------------------------------------ */
/* GET /alerts                                                         */
/* ------------------------------------------------------------------ */

static int
admin_alert_row(const struct alert_view *v, void *arg)
{
	json_array_append_new(arg, json_pack("{s:I, s:s, s:o, s:s, s:o, "
	    "s:o, s:o, s:i}", "id", (json_int_t)v->id,
	    "name", config_alert_name(v->kind), "subject",
	    admin_opt(v->subject), "state", alert_state_name(v->state),
	    "raised_at", admin_time(v->raised_at),
	    "cleared_at", admin_time(v->cleared_at),
	    "text", admin_str(v->text), "threshold", v->limit));
	return (0);
}

/* The alerts raised now, then the cleared ones the gateway keeps. */
static void
admin_alerts(struct admin_req *r)
{
	json_t	*a;

	if ((a = json_array()) == NULL) {
		admin_error(r, 500, "out of memory");
		return;
	}
	alert_foreach(admin_alert_row, a);
	admin_json(r, 200, json_pack("{s:o}", "alerts", a));
}

/* ------------------------------------------------------------------ */
/* GET /throughput; the dashboard's files                              */
/* ------------------------------------------------------------------ */

static json_t *
admin_series(const long *v, int n)
{
	json_t	*a = json_array();
	int	 i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_integer(v[i]));
	return (a);
}

/* Per minute over the last hour: messages in, SMS out, forwards acked. */
static void
admin_throughput(struct admin_req *r)
{
	struct store_rate	*rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL) {
		admin_error(r, 500, "out of memory");
		return;
	}
	if (store_throughput(gw->store, time(NULL), STORE_RATE_MINUTES,
	    rt) == -1) {
		free(rt);
		admin_error(r, 500, "store error");
		return;
	}
	admin_json(r, 200, json_pack("{s:i, s:o, s:o, s:o, s:o}",
	    "minutes", rt->minutes, "start", admin_time(rt->start),
	    "received", admin_series(rt->received, rt->minutes),
	    "replied", admin_series(rt->replied, rt->minutes),
	    "forwarded", admin_series(rt->forwarded, rt->minutes)));
	free(rt);
}

/* The dashboard lives under /ui/. */
static void
admin_ui_home(struct admin_req *r)
{
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Location", "/ui/");
	evhttp_send_reply(r->req, 302, "Found", NULL);
}

/* A file's type by its name; NULL: not one the dashboard serves. */
static const char *
admin_ui_type(const char *name)
{
	static const struct {
		const char	*ext;
		const char	*type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
	};
	const char	*dot = strrchr(name, '.');
	size_t		 i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i].ext) == 0)
			return (types[i].type);
	return (NULL);
}

/*
 * GET /ui/NAME: a file of [admin] web, as it is. One name, no
 * directories, no dot files, no symbolic link: nothing outside the
 * directory can be named.
 */
static void
admin_ui(struct admin_req *r)
{
	struct evkeyvalq	*h = evhttp_request_get_output_headers(r->req);
	struct evbuffer		*b = NULL;
	struct stat		 st;
	const char		*name, *type;
	char			 path[PATH_MAX], *data = NULL;
	size_t			 i, got = 0;
	ssize_t			 n = 0;
	int			 fd;

	name = r->args[0][0] != '\0' ? r->args[0] : "index.html";
	type = admin_ui_type(name);
	for (i = 0; name[i] != '\0'; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || name[i] == '.' ||
		    name[i] == '-' || name[i] == '_'))
			break;
	if (name[i] != '\0' || name[0] == '.' || type == NULL ||
	    snprintf(path, sizeof(path), "%s/%s", gw->conf.admin.web, name) >=
	    (int)sizeof(path)) {
		admin_error(r, 404, "no such file: %s", r->path);
		return;
	}
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1 || fstat(fd, &st) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_size > ADMIN_FILE_MAX) {
		if (fd != -1)
			close(fd);
		admin_error(r, 404, "no such file: %s%s", r->path,
		    access(gw->conf.admin.web, X_OK) == -1 ?
		    " (the dashboard is not installed: [admin] web)" : "");
		return;
	}
	if ((data = malloc(st.st_size + 1)) != NULL)
		while (got < (size_t)st.st_size && ((n = read(fd, data + got,
		    st.st_size - got)) > 0 || (n == -1 && errno == EINTR)))
			got += n > 0 ? (size_t)n : 0;
	close(fd);
	if (data == NULL || got != (size_t)st.st_size ||
	    (b = evbuffer_new()) == NULL || evbuffer_add(b, data, got) == -1) {
		log_warnx("admin: %s: cannot read %s", r->peer, path);
		free(data);
		if (b != NULL)
			evbuffer_free(b);
		admin_error(r, 500, "cannot read %s", name);
		return;
	}
	free(data);
	evhttp_add_header(h, "Content-Type", type);
	evhttp_add_header(h, "Cache-Control", "no-cache");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "Content-Security-Policy", ADMIN_UI_POLICY);
	evhttp_send_reply(r->req, 200, "OK", b);
	evbuffer_free(b);
}

/* ------------------------------------------------------------------ */
/* GET /metrics: the Prometheus text format (docs/metrics.md)          */
/* ------------------------------------------------------------------ */

/* What a scrape shows of a modem: the bank's view of it, now. */
static void
admin_metrics_modem(const struct modem *m, struct metrics_modem *mm,
    time_t now)
{
	mm->name = m->conf.name;
	mm->oper = m->conf.oper[0] ? m->conf.oper : m->oper;
	mm->number = m->conf.number;
	mm->state = m->state == BANK_RUNNING ? wire_state_name(m->wstate) :
	    bank_state_name(m->state);
	mm->up = m->state == BANK_RUNNING && (m->wstate == MODEM_READY ||
	    m->wstate == MODEM_SENDING || m->wstate == MODEM_SWEEPING);
	mm->enabled = m->conf.enabled;
	mm->signal = m->signal;
	mm->registered = m->reg == 1 || m->reg == 5;	/* home, roaming */
	mm->sim_used = m->sim_used;
	mm->sim_capacity = m->sim_total;
	mm->balance = m->balance;
	mm->sent = m->sent;
	mm->send_failed = m->send_failed;
	mm->received = m->received;
	mm->sent_today = m->sent_today;
	mm->send_cap = m->conf.send_cap;
	mm->hold = m->send_hold > now ? (long)(m->send_hold - now) : 0;
	mm->errors = m->errors;
	mm->restarts = m->restarts;
}

/*
 * The scrape: metrics.c writes what the stages counted and the state
 * read here, the centrals and the modems; the store is not asked.
 */
static void
admin_metrics(struct admin_req *r)
{
	struct metrics_scrape		 sc;
	struct fwd_central_stats	*cs = NULL;
	struct metrics_modem		*mm = NULL;
	struct modem			*m;
	struct evbuffer			*b = NULL;
	FILE				*f;
	char				*text = NULL;
	size_t				 len = 0, n = 1;
	time_t				 now = time(NULL);
	int				 rc;

	memset(&sc, 0, sizeof(sc));
	TAILQ_FOREACH(m, &gw->modems, entry)
		n++;
	if ((cs = calloc(ADMIN_CENTRALS_MAX, sizeof(*cs))) == NULL ||
	    (mm = calloc(n, sizeof(*mm))) == NULL ||
	    (b = evbuffer_new()) == NULL) {
		admin_error(r, 500, "out of memory");
		goto done;
	}
	if (forward_queue_stats(gw->fwdq, cs, ADMIN_CENTRALS_MAX,
	    &sc.ncentrals) == -1)
		sc.ncentrals = 0;
	if (sc.ncentrals > ADMIN_CENTRALS_MAX)
		sc.ncentrals = ADMIN_CENTRALS_MAX;
	TAILQ_FOREACH(m, &gw->modems, entry)
		if (!m->removed)
			admin_metrics_modem(m, &mm[sc.nmodems++], now);
	sc.started = admin_started;
	sc.parts_pending = (long)parts_pending(gw->parts);
	sc.centrals = cs;
	sc.modems = mm;
	if ((f = open_memstream(&text, &len)) == NULL) {
		admin_error(r, 500, "out of memory");
		goto done;
	}
	rc = metrics_write(f, &sc);
	if (fclose(f) == EOF || rc == -1) {
		admin_error(r, 500, "cannot write the metrics");
		goto done;
	}
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evbuffer_add(b, text, len);
	evhttp_send_reply(r->req, 200, NULL, b);
done:
	if (b != NULL)
		evbuffer_free(b);
	free(text);
	free(mm);
	free(cs);
}

/* ------------------------------------------------------------------ */
/* Who asks, and the routes                                            */
/* ------------------------------------------------------------------ */

/*
 * The control socket: root, our own user, or a member of our group
 * (primary or supplementary). Its mode (0660) already keeps others
 * out; this holds when the directory or mode is opened up.
 */
static int
admin_unix_ok(struct admin_req *r)
{
	struct evhttp_connection	*evcon;
	struct bufferevent		*bev;
	struct ucred			 uc;
	gid_t				 groups[ADMIN_GROUPS_MAX];
	socklen_t			 len = sizeof(uc);
	size_t				 i;
	int				 fd = -1;

	if ((evcon = evhttp_request_get_connection(r->req)) != NULL &&
	    (bev = evhttp_connection_get_bufferevent(evcon)) != NULL)
		fd = bufferevent_getfd(bev);
	if (fd == -1 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc,
	    &len) == -1) {
		snprintf(r->peer, sizeof(r->peer), "%.200s: unknown peer",
		    admin_sock);
		return (0);
	}
	snprintf(r->peer, sizeof(r->peer), "%.200s: uid %u pid %ld", admin_sock,
	    (unsigned)uc.uid, (long)uc.pid);
	if (uc.uid == 0 || uc.uid == geteuid() || uc.gid == getegid())
		return (1);
	len = sizeof(groups);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) == 0)
		for (i = 0; i < len / sizeof(groups[0]); i++)
			if (groups[i] == getegid())
				return (1);
	return (0);
}

/* TCP: "Authorization: Bearer TOKEN", both sides hashed, then compared. */
static int
admin_token_ok(struct admin_req *r, const char **why)
{
	struct evhttp_connection	*evcon;
	const char			*h;
	uint8_t				 hash[crypto_generichash_BYTES];
	char				*addr = NULL;
	ev_uint16_t			 port = 0;

	if ((evcon = evhttp_request_get_connection(r->req)) != NULL)
		evhttp_connection_get_peer(evcon, &addr, &port);
	snprintf(r->peer, sizeof(r->peer), "%s:%u", addr != NULL ? addr : "?",
	    (unsigned)port);
	h = evhttp_find_header(evhttp_request_get_input_headers(r->req),
	    "Authorization");
	if (h == NULL) {
		*why = "no token";
		return (0);
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		*why = "not a bearer token";
		return (0);
	}
	for (h += 7; *h == ' '; h++)
		;
	crypto_generichash(hash, sizeof(hash), (const uint8_t *)h, strlen(h),
	    NULL, 0);
	if (sodium_memcmp(hash, admin_token_hash, sizeof(hash)) != 0) {
		*why = "wrong token";
		return (0);
	}
	return (1);
}

/*
 * Does path match the route's pattern? A '*' matches one segment, a
 * final "**" the rest of the path (static files); they go to args.
 */
static int
admin_match(const char *pat, const char *path, struct admin_req *r)
{
	size_t	 n, a = 0;

	while (*pat != '\0' && *path != '\0') {
		if (pat[0] == '*' && pat[1] == '*' && pat[2] == '\0') {
			if ((n = strlen(path)) >= ADMIN_ARG_MAX ||
			    a == ADMIN_ARGS)
				return (0);
			memcpy(r->args[a], path, n + 1);
			return (1);
		}
		if (*pat == '*') {
			n = strcspn(path, "/");
			if (n == 0 || n >= ADMIN_ARG_MAX || a == ADMIN_ARGS)
				return (0);
			memcpy(r->args[a], path, n);
			r->args[a++][n] = '\0';
			path += n;
			pat++;
			continue;
		}
		if (*pat++ != *path++)
			return (0);
	}
	return (*pat == '\0' && *path == '\0');
}

/* A GET of one of the dashboard's files (admin_public_paths)? */
static int
admin_public(const char *path, enum evhttp_cmd_type cmd)
{
	struct admin_req	 r;
	size_t			 i;

	if (path == NULL || cmd != EVHTTP_REQ_GET)
		return (0);
	memset(&r, 0, sizeof(r));
	for (i = 0; i < sizeof(admin_public_paths) /
	    sizeof(admin_public_paths[0]); i++)
		if (admin_match(admin_public_paths[i], path, &r))
			return (1);
	return (0);
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	const struct admin_route *rt;
	struct admin_req	 r;
	const char		*why = "";
	enum evhttp_cmd_type	 cmd = evhttp_request_get_command(req);
	size_t			 i;
	int			 path_found = 0;

	memset(&r, 0, sizeof(r));
	r.req = req;
	r.via = arg == &admin_http_tcp ? ADMIN_TCP : ADMIN_UNIX;
	r.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	r.query = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (r.query == NULL)
		r.query = "";
	/* The token guards the data; the dashboard's files hold none. */
	if (r.via == ADMIN_UNIX ? !admin_unix_ok(&r) :
	    !admin_token_ok(&r, &why) && !admin_public(r.path, cmd)) {
		log_warnx("admin: %s: %s %s: refused: %s", r.peer,
		    cmd == EVHTTP_REQ_POST ? "POST" : "GET",
		    r.path != NULL ? r.path : "(bad URI)", r.via == ADMIN_UNIX ?
		    "not root, our user or our group" : why);
		if (r.via == ADMIN_TCP)
			evhttp_add_header(
			    evhttp_request_get_output_headers(req),
			    "WWW-Authenticate", "Bearer realm=\"tallygw\"");
		r.path = r.path != NULL ? r.path : "";
		admin_error(&r, r.via == ADMIN_UNIX ? 403 : 401, "%s",
		    r.via == ADMIN_UNIX ? "forbidden: the control socket is "
		    "for root and the gateway's own user and group" :
		    "a valid bearer token is required");
		return;
	}
	if (r.path == NULL) {
		r.path = "";
		admin_error(&r, 400, "bad URI");
		return;
	}
	if (gw->stopping) {
		admin_error(&r, 503, "the gateway is stopping");
		return;
	}
	for (i = 0; i < ADMIN_NROUTES; i++) {
		rt = &admin_routes[i];
		if (!admin_match(rt->path, r.path, &r))
			continue;
		path_found = 1;
		if ((rt->methods & (int)cmd) == 0)
			continue;
		log_debug("admin: %s: %s %s%s%s", r.peer, cmd ==
		    EVHTTP_REQ_POST ? "POST" : "GET", r.path,
		    r.query[0] ? "?" : "", r.query);
		rt->fn(&r);
		return;
	}
	if (path_found) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", cmd == EVHTTP_REQ_POST ? "GET" : "POST");
		admin_error(&r, 405, "%s: use %s", r.path,
		    cmd == EVHTTP_REQ_POST ? "GET" : "POST");
		return;
	}
	admin_error(&r, 404, "no such path: %s", r.path);
}

static struct evhttp *
admin_http(void *arg)
{
	struct evhttp	*h;

	if ((h = evhttp_new(gw->base)) == NULL)
		return (NULL);
	evhttp_set_max_body_size(h, ADMIN_BODY_MAX);
	evhttp_set_max_headers_size(h, ADMIN_HEADERS_MAX);
	evhttp_set_timeout(h, ADMIN_TIMEOUT);
	evhttp_set_allowed_methods(h, EVHTTP_REQ_GET | EVHTTP_REQ_POST);
	evhttp_set_gencb(h, admin_cb, arg);
	return (h);
}

/* The token of [admin] token, hashed: the file is read once. */
static int
admin_token_load(const char *path, char *err, size_t errlen)
{
	char	 tok[ADMIN_TOKEN_MAX];
	ssize_t	 n;

	if ((n = key_read_secret(path, "admin token", tok, sizeof(tok), err,
	    errlen)) == -1)
		return (-1);
	while (n > 0 && (tok[n - 1] == '\n' || tok[n - 1] == '\r' ||
	    tok[n - 1] == ' '))
		tok[--n] = '\0';
	if (n < ADMIN_TOKEN_MIN || strchr(tok, '\n') != NULL) {
		sodium_memzero(tok, sizeof(tok));
		snprintf(err, errlen, "%s: the admin token must be one line of "
		    "at least %d characters", path, ADMIN_TOKEN_MIN);
		return (-1);
	}
	crypto_generichash(admin_token_hash, sizeof(admin_token_hash),
	    (const uint8_t *)tok, (size_t)n, NULL, 0);
	sodium_memzero(tok, sizeof(tok));
	return (0);
}

/* Serve the API on the TCP address of [admin] listen, with its token. */
static int
admin_tcp(char *err, size_t errlen)
{
	const struct conf_admin	*c = &gw->conf.admin;
	char			 host[GW_URL_MAX], *colon;

	if (c->listen[0] == '\0')
		return (0);
	if (admin_token_load(c->token, err, errlen) == -1)
		return (-1);
	snprintf(host, sizeof(host), "%s", c->listen);
	if ((colon = strrchr(host, ':')) == NULL) {
		snprintf(err, errlen, "admin: bad listen address %s",
		    c->listen);
		return (-1);
	}
	*colon = '\0';
	if ((admin_http_tcp = admin_http(&admin_http_tcp)) == NULL ||
	    evhttp_bind_socket(admin_http_tcp, host,
	    (ev_uint16_t)atoi(colon + 1)) == -1) {
		snprintf(err, errlen, "admin: cannot listen on %s: %s",
		    c->listen, strerror(errno));
		return (-1);
	}
	log_info("admin: listening on %s (bearer token)", c->listen);
	return (0);
}

/* At start-up: the control socket (mode 0660) and, if set, TCP. */
int
admin_start(const char *path, char *err, size_t errlen)
{
	struct evconnlistener	*lev;
	struct sockaddr_un	 sun;
	mode_t			 old;

	admin_started = time(NULL);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "admin: socket path too long: %s", path);
		return (-1);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(admin_sock, sizeof(admin_sock), "%s", path);
	if ((admin_http_unix = admin_http(&admin_http_unix)) == NULL) {
		snprintf(err, errlen, "admin: evhttp_new failed");
		return (-1);
	}
	unlink(path);
	old = umask(0117);
	lev = evconnlistener_new_bind(gw->base, NULL, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (lev == NULL || evhttp_bind_listener(admin_http_unix, lev) ==
	    NULL) {
		snprintf(err, errlen, "admin: cannot open the control socket "
		    "%s: %s", path, strerror(errno));
		if (lev != NULL)
			evconnlistener_free(lev);
		return (-1);
	}
	if (access(gw->conf.admin.web, R_OK | X_OK) == -1)
		log_info("admin: no dashboard: %s: %s", gw->conf.admin.web,
		    strerror(errno));
	else
		log_info("admin: the dashboard's files are in %s (/ui/)",
		    gw->conf.admin.web);
	return (admin_tcp(err, errlen));
}

void
admin_stop(void)
{
	while (!LIST_EMPTY(&admin_waits))
		admin_wait_free(LIST_FIRST(&admin_waits));
	while (!LIST_EMPTY(&admin_exports))
		admin_export_free(LIST_FIRST(&admin_exports));
	if (admin_http_tcp != NULL) {
		evhttp_free(admin_http_tcp);
		admin_http_tcp = NULL;
	}
	if (admin_http_unix != NULL) {
		evhttp_free(admin_http_unix);
		admin_http_unix = NULL;
		unlink(admin_sock);
	}
}
