/*
 * ussd: the USSD channel of the intake. An operator's USSD gateway,
 * through an aggregator, posts each step of an officer's session to
 * this HTTP callback (docs/ussd.md); the menu (menu.c) answers each
 * input with the next screen ("CON ...") and, once the officer confirms
 * the review, the report goes through the receive stage like an SMS and
 * the last screen ("END ...") carries the verdict and the receipt.
 *
 * Sessions live here, keyed by the aggregator's sessionId. A retried
 * request (the same text again) gets the same answer and is never
 * stored twice: the last screen of a committed report is written in
 * its transaction (store.c's ussd_ends), so a retry of the final
 * request gets it also after a restart. A session that times out or
 * drops stores nothing; its half-filled report is kept in the store for
 * the number (ussd_resume seconds, also across a restart) and offered
 * when the officer dials again. Memory holds the open sessions only.
 */
#include <sys/types.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <sodium.h>

#include "log.h"
#include "daemon.h"

#define USSD_SECRET_MAX		256
#define USSD_HEADER		"X-Tally-Secret"
#define USSD_SWEEP		5	/* s between looks at idle sessions */
#define USSD_HTTP_TIMEOUT	30	/* s for one request */
#define USSD_SESSIONS_MAX	20000	/* open at once: a flood's bound */
#define USSD_SCREEN_BUF		(MENU_SCREEN_MAX * 4)	/* UTF-8 */
#define USSD_ANSWER_MAX		STORE_USSD_ANSWER_MAX	/* "CON " + it */

/* One officer's session, as the aggregator numbers it. */
struct ussd_session {
	TAILQ_ENTRY(ussd_session) entry;
	char		 id[sizeof(((struct callback *)0)->session)];
	char		 phone[WIRE_NUMBER_MAX];
	char		 text[sizeof(((struct callback *)0)->text)];
	char		 answer[USSD_ANSWER_MAX];	/* CON/END + screen */
	struct menu	 menu;
	time_t		 seen;
	int		 ended;
};
TAILQ_HEAD(ussd_sessions, ussd_session);

static struct evhttp		*ussd_http;
static struct event		*ussd_ev_sweep;
static struct ussd_sessions	 ussd_sessions =
    TAILQ_HEAD_INITIALIZER(ussd_sessions);
static uint8_t			 ussd_secret_hash[crypto_generichash_BYTES];
static size_t			 ussd_nsessions;

/* What a text said, hashed, so that comparing takes the same time. */
static int
ussd_secret_ok(const char *given, size_t len)
{
	uint8_t	 h[crypto_generichash_BYTES];

	if (given == NULL)
		return (0);
	crypto_generichash(h, sizeof(h), (const uint8_t *)given, len, NULL,
	    0);
	return (sodium_memcmp(h, ussd_secret_hash, sizeof(h)) == 0);
}

/* The secret in the X-Tally-Secret header or as the path's last part. */
static int
ussd_authorized(struct evhttp_request *req, const char *path)
{
	const char	*h, *conf = gw->conf.ussd.path;
	size_t		 n = strlen(conf);

	h = evhttp_find_header(evhttp_request_get_input_headers(req),
	    USSD_HEADER);
	if (strcmp(path, conf) == 0)
		return (h != NULL && ussd_secret_ok(h, strlen(h)));
	if (strncmp(path, conf, n) == 0 && path[n] == '/')
		return (ussd_secret_ok(path + n + 1, strlen(path + n + 1)));
	return (0);
}

/* Keep a dropped session's report for its number (one per number). */
static void
ussd_keep(struct ussd_session *s, const char *why)
{
	struct store_ussd_kept	 k;
	int			 keep;

	keep = s->menu.step > MENU_TPS && gw->conf.t.ussd_resume > 0;
	log_info("ussd: session %s from %s %s at %s: nothing stored%s",
	    s->id, s->phone, why, menu_step_name(s->menu.step),
	    keep ? "; kept to resume" : "");
	if (!keep)
		return;
	memset(&k, 0, sizeof(k));
	snprintf(k.phone, sizeof(k.phone), "%s", s->phone);
	snprintf(k.session, sizeof(k.session), "%s", s->id);
	menu_save(&s->menu, &k.menu);
	k.kept_at = time(NULL);
	k.expires = k.kept_at + gw->conf.t.ussd_resume;
	if (store_ussd_keep(gw->store, &k) == -1)
		log_warnx("ussd: session %s from %s: its report could not be "
		    "kept", s->id, s->phone);
}

/*
 * The number's kept report into m: 1 if there is one. One that no
 * longer fits the election or the registry is dropped, with a line.
 */
static int
ussd_kept_load(const char *phone, const struct menu_env *env,
    struct menu *m)
{
	struct store_ussd_kept	 k;

	if (store_ussd_kept_get(gw->store, phone, time(NULL), &k) != 1)
		return (0);
	if (menu_load(m, env, &k.menu) == 0)
		return (1);
	log_warnx("ussd: kept report of %s (session %s) no longer fits the "
	    "election or the registry: dropped", phone, k.session);
	store_ussd_kept_del(gw->store, phone);
	return (0);
}

static void
ussd_session_free(struct ussd_session *s)
{
	TAILQ_REMOVE(&ussd_sessions, s, entry);
	ussd_nsessions--;
	free(s);
}

/* Idle sessions end; kept reports and last screens expire. */
static void
ussd_sweep(evutil_socket_t fd, short ev, void *arg)
{
	struct ussd_session	*s, *ts;
	time_t			 now = time(NULL);
	int			 ends, kept;

	TAILQ_FOREACH_SAFE(s, &ussd_sessions, entry, ts) {
		if (now - s->seen <= gw->conf.t.ussd_timeout)
			continue;
		if (!s->ended)
			ussd_keep(s, "timed out");
		ussd_session_free(s);
	}
	if (store_ussd_expire(gw->store, now, &ends, &kept) == 0 &&
	    (ends > 0 || kept > 0))
		log_info("ussd: expired: %d kept report%s, %d last screen%s",
		    kept, kept == 1 ? "" : "s", ends, ends == 1 ? "" : "s");
}

/* A session in memory, within the bound of open sessions. */
static struct ussd_session *
ussd_session_alloc(const char *id, const char *phone)
{
	struct ussd_session	*s;

	if (ussd_nsessions >= USSD_SESSIONS_MAX) {
		log_warnx("ussd: session %s from %s refused: %d sessions open",
		    id, phone, USSD_SESSIONS_MAX);
		return (NULL);
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		log_warn("ussd: session");
		return (NULL);
	}
	ussd_nsessions++;
	snprintf(s->id, sizeof(s->id), "%s", id);
	snprintf(s->phone, sizeof(s->phone), "%s", phone);
	menu_init(&s->menu);
	TAILQ_INSERT_TAIL(&ussd_sessions, s, entry);
	return (s);
}

/* A new session: the number's earlier unfinished one was dropped. */
static struct ussd_session *
ussd_session_new(const struct callback *cb, const char *phone)
{
	struct ussd_session	*s, *ts;

	TAILQ_FOREACH_SAFE(s, &ussd_sessions, entry, ts)
		if (strcmp(s->phone, phone) == 0) {
			if (!s->ended)
				ussd_keep(s, "dropped");
			ussd_session_free(s);
		}
	if ((s = ussd_session_alloc(cb->session, phone)) != NULL)
		log_info("ussd: session %s from %s started", s->id, s->phone);
	return (s);
}

/*
 * A session no longer in memory whose report was committed (it went
 * idle, or the gateway restarted): back from the store, ended, so that
 * a retry of its final request gets the same last screen.
 */
static struct ussd_session *
ussd_session_ended(const char *id)
{
	struct ussd_session	*s;
	struct store_ussd_end	 e;

	if (store_ussd_end_get(gw->store, id, time(NULL), &e) != 1 ||
	    (s = ussd_session_alloc(id, e.phone)) == NULL)
		return (NULL);
	snprintf(s->text, sizeof(s->text), "%s", e.request);
	snprintf(s->answer, sizeof(s->answer), "%s", e.answer);
	s->menu.step = MENU_SENT;
	s->ended = 1;
	log_info("ussd: session %s from %s: ended with msg %lld (from the "
	    "store)", s->id, s->phone, (long long)e.msg_id);
	return (s);
}

static struct ussd_session *
ussd_session_find(const char *id)
{
	struct ussd_session	*s;

	TAILQ_FOREACH(s, &ussd_sessions, entry)
		if (strcmp(s->id, id) == 0)
			return (s);
	return (NULL);
}

/* The menu's environment for this session: the kept report, if any. */
static void
ussd_env(struct ussd_session *s, struct menu_env *env, char *sum,
    size_t len)
{
	struct menu	 kept;

	env->election = gw->election;
	env->registry = gw->registry;
	env->resume = NULL;
	if (s->menu.step == MENU_CONTEST &&
	    ussd_kept_load(s->phone, env, &kept)) {
		menu_summary(&kept, sum, len);
		env->resume = sum;
	}
}

/* In the report's transaction: its last screen, for a retry. */
static int
ussd_rows(void *arg, const struct received *r)
{
	struct ussd_session	*s = arg;
	struct store_ussd_end	 e;

	snprintf(s->answer, sizeof(s->answer), "END %s", r->screen[0] ?
	    r->screen : "Laporan diterima.");
	memset(&e, 0, sizeof(e));
	snprintf(e.session, sizeof(e.session), "%s", s->id);
	snprintf(e.phone, sizeof(e.phone), "%s", s->phone);
	snprintf(e.request, sizeof(e.request), "%s", s->text);
	e.msg_id = r->id;
	snprintf(e.answer, sizeof(e.answer), "%s", s->answer);
	e.ended = time(NULL);
	e.expires = e.ended + gw->conf.t.ussd_retry;
	return (store_ussd_end_add(gw->store, &e));
}

/* The complete report through the receive stage; the verdict screen. */
static void
ussd_submit(struct ussd_session *s, const struct callback *cb)
{
	struct inbound	 in;
	struct received	 out;
	char		 text[GW_RAW_MAX];

	memset(&in, 0, sizeof(in));
	if (menu_report(&s->menu, text, sizeof(text)) == -1) {
		snprintf(s->answer, sizeof(s->answer), "END Laporan terlalu "
		    "panjang. Kirim lewat SMS.");
		return;
	}
	in.channel = CHANNEL_USSD;
	in.sender = s->phone;
	in.text = text;
	in.arrived = time(NULL);
	in.via = "ussd";
	in.via_number = cb->service;
	in.ref = s->id;
	in.parts = 1;
	in.rows = ussd_rows;
	in.arg = s;
	if (receive_item(&in, &out) == -1) {
		ussd_keep(s, "not stored (store error)");
		snprintf(s->answer, sizeof(s->answer), "END Maaf, laporan "
		    "belum tersimpan. Hubungi lagi nanti: laporan Anda "
		    "disimpan untuk dilanjutkan.");
		return;
	}
	log_info("ussd: session %s from %s: msg %lld", s->id, s->phone,
	    (long long)out.id);
}

/* One input of a session: the menu's answer, or the verdict. */
static void
ussd_step(struct ussd_session *s, const struct callback *cb,
    const char *input)
{
	struct menu_env		 env;
	char			 screen[USSD_SCREEN_BUF], sum[96];
	enum menu_rc		 rc;

	ussd_env(s, &env, sum, sizeof(sum));
	rc = menu_input(&s->menu, &env, input, screen, sizeof(screen));
	if (rc == MENU_RESUME) {
		if (ussd_kept_load(s->phone, &env, &s->menu)) {
			store_ussd_kept_del(gw->store, s->phone);
			log_info("ussd: session %s from %s resumes its kept "
			    "report", s->id, s->phone);
		}
		ussd_env(s, &env, sum, sizeof(sum));
		rc = menu_screen(&s->menu, &env, screen, sizeof(screen));
	}
	if (rc == MENU_SUBMIT) {
		ussd_submit(s, cb);
		s->ended = 1;
		return;
	}
	snprintf(s->answer, sizeof(s->answer), "%s %s", rc == MENU_END ?
	    "END" : "CON", screen);
	s->ended = rc == MENU_END;
}

/*
 * What this request says that the session had not: the text is every
 * input so far joined by '*' (a new input may itself hold '*'), so the
 * new input is what follows the text of the last request. An
 * aggregator that sends the last input only is served too.
 */
static const char *
ussd_new_input(const struct ussd_session *s, const char *text)
{
	size_t	 n = strlen(s->text);

	if (n == 0)
		return (text);
	if (strncmp(text, s->text, n) == 0 && text[n] == '*')
		return (text + n + 1);
	return (text);
}

/* The answer to one callback, in s->answer of its session (or buf). */
static const char *
ussd_answer(const struct callback *cb, const char *phone, char *buf,
    size_t len)
{
	struct ussd_session	*s;
	struct menu_env		 env;
	const char		*input;
	char			 screen[USSD_SCREEN_BUF], sum[96];

	if ((s = ussd_session_find(cb->session)) == NULL &&
	    cb->text[0] != '\0')
		s = ussd_session_ended(cb->session);
	if (s != NULL && strcmp(s->phone, phone) != 0) {
		log_warnx("ussd: session %s: from %s, began from %s: refused",
		    cb->session, phone, s->phone);
		snprintf(buf, len, "END Sesi tidak sah. Hubungi lagi.");
		return (buf);
	}
	if (s == NULL) {
		if (cb->text[0] != '\0') {
			log_warnx("ussd: session %s from %s: unknown (timed "
			    "out or gateway restarted) with input", cb->session,
			    phone);
			snprintf(buf, len, "END Sesi sudah berakhir. Hubungi "
			    "lagi %s untuk melanjutkan.", cb->service);
			return (buf);
		}
		if ((s = ussd_session_new(cb, phone)) == NULL) {
			snprintf(buf, len, "END Maaf, gangguan. Hubungi lagi "
			    "nanti.");
			return (buf);
		}
		ussd_env(s, &env, sum, sizeof(sum));
		menu_screen(&s->menu, &env, screen, sizeof(screen));
		snprintf(s->answer, sizeof(s->answer), "CON %s", screen);
	} else if (strcmp(cb->text, s->text) == 0) {
		log_debug("ussd: session %s: request repeated: same answer",
		    s->id);
	} else if (s->ended) {
		snprintf(buf, len, "END Sesi sudah selesai.");
		return (buf);
	} else {
		input = ussd_new_input(s, cb->text);
		snprintf(s->text, sizeof(s->text), "%s", cb->text);
		ussd_step(s, cb, input);
	}
	snprintf(s->text, sizeof(s->text), "%s", cb->text);
	s->seen = time(NULL);
	return (s->answer);
}

static void
ussd_reply(struct evhttp_request *req, int code, const char *reason,
    const char *body)
{
	struct evbuffer	*out = evbuffer_new();

	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	if (out != NULL)
		evbuffer_add_printf(out, "%s", body);
	evhttp_send_reply(req, code, reason, out);
	if (out != NULL)
		evbuffer_free(out);
}

/* The peer of a request, for the log. */
static const char *
ussd_peer(struct evhttp_request *req)
{
	struct evhttp_connection	*c = evhttp_request_get_connection(req);
	char				*addr = NULL;
	ev_uint16_t			 port = 0;

	if (c != NULL)
		evhttp_connection_get_peer(c, &addr, &port);
	return (addr != NULL ? addr : "?");
}

/* Every request to the listener: check it, then answer the session. */
static void
ussd_cb(struct evhttp_request *req, void *arg)
{
	const struct evhttp_uri	*uri = evhttp_request_get_evhttp_uri(req);
	struct evbuffer		*in = evhttp_request_get_input_buffer(req);
	struct callback		 cb;
	const char		*path = uri != NULL ?
				    evhttp_uri_get_path(uri) : NULL;
	char			 body[CALLBACK_BODY_MAX + 1], err[128];
	char			 phone[WIRE_NUMBER_MAX], buf[USSD_ANSWER_MAX];
	size_t			 n = evbuffer_get_length(in);

	if (path == NULL || !ussd_authorized(req, path)) {
		log_warnx("ussd: %s: %s: refused: no or wrong secret",
		    ussd_peer(req), path != NULL ? "request" : "bad URI");
		ussd_reply(req, 403, "Forbidden", "forbidden\n");
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		ussd_reply(req, 405, "Method Not Allowed", "POST only\n");
		return;
	}
	if (n > CALLBACK_BODY_MAX) {
		log_warnx("ussd: %s: body of %zu bytes refused", ussd_peer(req),
		    n);
		ussd_reply(req, 413, "Payload Too Large", "too large\n");
		return;
	}
	evbuffer_copyout(in, body, n);
	body[n] = '\0';
	err[0] = '\0';
	if (callback_parse(body, n, &cb, err, sizeof(err)) == -1 ||
	    config_msisdn(cb.phone, phone, sizeof(phone)) == -1) {
		if (cb.phone[0] != '\0' && err[0] == '\0')
			snprintf(err, sizeof(err), "phoneNumber: not a number");
		log_warnx("ussd: %s: bad callback: %s", ussd_peer(req), err);
		ussd_reply(req, 400, "Bad Request", "bad request\n");
		return;
	}
	if (gw->conf.ussd.service[0] != '\0' &&
	    strcmp(cb.service, gw->conf.ussd.service) != 0) {
		log_warnx("ussd: session %s from %s: service code %s is not "
		    "ours", cb.session, phone, cb.service);
		ussd_reply(req, 200, "OK", "END Kode layanan salah.");
		return;
	}
	ussd_reply(req, 200, "OK", ussd_answer(&cb, phone, buf, sizeof(buf)));
}

/* At start-up: read the secret, listen. -1 with the reason in err. */
int
ussd_start(char *err, size_t errlen)
{
	const struct conf_ussd	*c = &gw->conf.ussd;
	char			 secret[USSD_SECRET_MAX], host[GW_URL_MAX];
	char			*colon;
	struct timeval		 tv = { USSD_SWEEP, 0 };
	ssize_t			 n;

	if (!c->enabled)
		return (0);
	if ((n = key_read_secret(c->secret, "USSD secret", secret,
	    sizeof(secret), err, errlen)) == -1)
		return (-1);
	while (n > 0 && (secret[n - 1] == '\n' || secret[n - 1] == '\r' ||
	    secret[n - 1] == ' '))
		secret[--n] = '\0';
	if (n < GW_USSD_SECRET_MIN) {
		snprintf(err, errlen, "%s: the USSD secret must be at least "
		    "%d characters", c->secret, GW_USSD_SECRET_MIN);
		return (-1);
	}
	crypto_generichash(ussd_secret_hash, sizeof(ussd_secret_hash),
	    (const uint8_t *)secret, (size_t)n, NULL, 0);
	sodium_memzero(secret, sizeof(secret));
	snprintf(host, sizeof(host), "%s", c->listen);
	colon = strrchr(host, ':');
	*colon = '\0';
	if ((ussd_http = evhttp_new(gw->base)) == NULL) {
		snprintf(err, errlen, "ussd: evhttp_new failed");
		return (-1);
	}
	evhttp_set_max_body_size(ussd_http, CALLBACK_BODY_MAX);
	evhttp_set_timeout(ussd_http, USSD_HTTP_TIMEOUT);
	evhttp_set_allowed_methods(ussd_http, EVHTTP_REQ_POST |
	    EVHTTP_REQ_GET);
	evhttp_set_gencb(ussd_http, ussd_cb, NULL);
	if (evhttp_bind_socket(ussd_http, host,
	    (ev_uint16_t)atoi(colon + 1)) == -1) {
		snprintf(err, errlen, "ussd: cannot listen on %s: %s",
		    c->listen, strerror(errno));
		return (-1);
	}
	if ((ussd_ev_sweep = event_new(gw->base, -1, EV_PERSIST, ussd_sweep,
	    NULL)) == NULL || evtimer_add(ussd_ev_sweep, &tv) == -1) {
		snprintf(err, errlen, "ussd: cannot start the timer");
		return (-1);
	}
	log_info("ussd: listening on %s%s", c->listen, c->path);
	return (0);
}

/* At exit: open sessions end; their half-filled reports are kept. */
void
ussd_stop(void)
{
	struct ussd_session	*s;

	if (ussd_ev_sweep != NULL)
		event_free(ussd_ev_sweep);
	if (ussd_http != NULL)
		evhttp_free(ussd_http);
	while ((s = TAILQ_FIRST(&ussd_sessions)) != NULL) {
		if (!s->ended)
			ussd_keep(s, "ended by the gateway's stop");
		ussd_session_free(s);
	}
}
