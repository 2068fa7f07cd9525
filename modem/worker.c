/*
 * tallygw-modem: one modem worker. It owns one libGammu state machine
 * (modem/gsm.c) and talks to the main process only through fd 3, in
 * the frames of wire.h. It decides nothing about messages: it hands up
 * what the modem receives, sends and deletes when told, and keeps the
 * modem alive (reconnecting with backoff when it stops answering).
 *
 * docs/modem.md describes the states, messages and timeouts.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <errno.h>
#include <poll.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "gsm.h"
#include "log.h"
#include "wire.h"
#include "zygote.h"

#define WORKER_HEARTBEAT	5	/* s between heartbeats */
#define WORKER_HEALTH_DEFAULT	60	/* s between health frames */
#define WORKER_ERRORS_MAX	3	/* libGammu errors in a row: broken */
#define WORKER_BACKOFF_MIN	1	/* s before the first reconnect */
#define WORKER_BACKOFF_MAX	60	/* s, the longest backoff */
#define WORKER_PRESENT_MS	1000	/* how often to look for the device */
#define WORKER_TRIM_MS		1000	/* ms between malloc_trim calls */
#define WORKER_STACK_KEEP	4096	/* bytes below the loop kept mapped */

/* What we last handed up from a location, to delete only that. */
struct worker_seen {
	TAILQ_ENTRY(worker_seen) entry;
	int			 location;
	char			 number[WIRE_NUMBER_MAX];
	char			 ident[WIRE_IDENT_MAX];	/* wire_ident */
	unsigned int		 gen;
};
TAILQ_HEAD(worker_seens, worker_seen);

struct worker {
	const char		*name;
	struct gsm_conf		 conf;
	int			 health_secs;
	int			 fd;
	int			 journal;	/* send journal, -1 none */
	enum modem_state	 state;
	struct gsm		*gsm;
	int			 errors;	/* libGammu errors in a row */
	int			 backoff;	/* s, the next delay */
	long long		 until;		/* BACKOFF ends, ms */
	long long		 last_beat;
	long long		 last_health;
	long long		 last_present;
	long long		 last_trim;
	uintptr_t		 stack_low;	/* the stack's end, 0 unknown */
	int			 quit;
	unsigned int		 gen;		/* sweep generation */
	struct worker_seens	 seen;
};

static struct worker		 worker;
static volatile sig_atomic_t	 worker_term;

static void	worker_state(struct worker *, enum modem_state, const char *);
static void	worker_beat(struct worker *);

static void __attribute__((__noreturn__))
usage(void)
{
	fprintf(stderr, "usage: tallygw-modem -n name -d device "
	    "[-c connection] [-H seconds] [-g gammu-log] [-j journal] "
	    "[-P] [-s] [-v]\n");
	exit(1);
}

static long long
worker_now(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Up one frame; a main process that went away ends the worker. */
static void
worker_send(struct worker *w, struct wire_msg *m)
{
	if (wire_write(w->fd, m) == -1) {
		if (!w->quit)
			log_warnx("cannot write %s to the main process: "
			    "%s", wire_type_name(m->type), strerror(errno));
		w->quit = 1;
	}
}

static struct worker_seen *
worker_seen_find(struct worker *w, int location)
{
	struct worker_seen	*ws;

	TAILQ_FOREACH(ws, &w->seen, entry)
		if (ws->location == location)
			return (ws);
	return (NULL);
}

static void
worker_seen_drop(struct worker *w, struct worker_seen *ws)
{
	TAILQ_REMOVE(&w->seen, ws, entry);
	free(ws);
}

/* Forget locations the last complete sweep did not find. */
static void
worker_seen_expire(struct worker *w)
{
	struct worker_seen	*ws, *next;

	for (ws = TAILQ_FIRST(&w->seen); ws != NULL; ws = next) {
		next = TAILQ_NEXT(ws, entry);
		if (ws->gen != w->gen)
			worker_seen_drop(w, ws);
	}
}

static void
worker_seen_clear(struct worker *w)
{
	struct worker_seen	*ws;

	while ((ws = TAILQ_FIRST(&w->seen)) != NULL)
		worker_seen_drop(w, ws);
}

/* gsm.c hands up a received message or status report. */
static void
worker_emit(void *arg, const struct wire_msg *msg)
{
	struct worker		*w = arg;
	struct worker_seen	*ws;
	struct wire_msg		 m = *msg;

	if (m.location > 0) {
		if ((ws = worker_seen_find(w, m.location)) == NULL &&
		    (ws = calloc(1, sizeof(*ws))) != NULL) {
			ws->location = m.location;
			TAILQ_INSERT_TAIL(&w->seen, ws, entry);
		}
		if (ws != NULL) {
			memcpy(ws->number, m.number, sizeof(ws->number));
			wire_ident(&m, ws->ident, sizeof(ws->ident));
			ws->gen = w->gen;
		}
	}
	if (m.type == WIRE_SMS)
		log_info("sms from %s at location %d, part %d/%d ref %d, "
		    "%zu bytes", m.number, m.location, m.part, m.total, m.ref,
		    strlen(m.text));
	else
		log_info("status report for %s at location %d: "
		    "reference %d, status %d", m.number, m.location, m.msgref,
		    m.status);
	worker_send(w, &m);
}

static void
worker_tick(void *arg)
{
	worker_beat(arg);
}

/* A heartbeat every WORKER_HEARTBEAT s, whatever else is going on. */
static void
worker_beat(struct worker *w)
{
	struct wire_msg	 m;
	long long	 now = worker_now();

	if (now - w->last_beat < WORKER_HEARTBEAT * 1000LL)
		return;
	w->last_beat = now;
	memset(&m, 0, sizeof(m));
	m.type = WIRE_HEARTBEAT;
	worker_send(w, &m);
}

/*
 * The one function that changes the worker's state: it logs the change
 * and tells the main process, which re-routes sends when we leave READY.
 */
static void
worker_state(struct worker *w, enum modem_state next, const char *why)
{
	struct wire_msg	 m;

	if (w->state == next)
		return;
	log_info("%s -> %s: %s", wire_state_name(w->state),
	    wire_state_name(next), why);
	w->state = next;
	memset(&m, 0, sizeof(m));
	m.type = WIRE_STATE;
	m.status = next;
	snprintf(m.text, sizeof(m.text), "%s", why);
	worker_send(w, &m);
}

/* Close the connection and free the state machine; never fails. */
static void
worker_teardown(struct worker *w)
{
	if (w->gsm != NULL) {
		gsm_close(w->gsm);
		w->gsm = NULL;
	}
}

/*
 * BROKEN: drop the connection, then BACKOFF with a delay that doubles
 * up to WORKER_BACKOFF_MAX, or straight to INIT when asked to.
 */
static void
worker_broken(struct worker *w, const char *why, int now)
{
	char	 buf[64];

	worker_state(w, MODEM_BROKEN, why);
	worker_teardown(w);
	w->errors = 0;
	if (now) {
		worker_state(w, MODEM_INIT, "reconnecting now");
		return;
	}
	w->until = worker_now() + w->backoff * 1000LL;
	snprintf(buf, sizeof(buf), "reconnecting in %d s", w->backoff);
	worker_state(w, MODEM_BACKOFF, buf);
	w->backoff *= 2;
	if (w->backoff > WORKER_BACKOFF_MAX)
		w->backoff = WORKER_BACKOFF_MAX;
}

/*
 * How an operation went: successes reset the error count and the
 * backoff; errors count towards BROKEN; a dead modem is BROKEN now.
 * Returns 0 while the modem is still usable.
 */
static int
worker_outcome(struct worker *w, enum gsm_rc rc, const char *what)
{
	char	 why[WIRE_TEXT_MAX];

	switch (rc) {
	case GSM_OK:
		w->errors = 0;
		w->backoff = WORKER_BACKOFF_MIN;
		return (0);
	case GSM_REFUSED:
		return (0);
	case GSM_ERROR:
		if (++w->errors < WORKER_ERRORS_MAX)
			return (0);
		snprintf(why, sizeof(why), "%s: %d errors in a row, the "
		    "last: %s", what, w->errors, gsm_reason());
		break;
	case GSM_DEAD:
		snprintf(why, sizeof(why), "%s: %s", what, gsm_reason());
		break;
	}
	worker_broken(w, why, 0);
	return (-1);
}

static void
worker_health(struct worker *w)
{
	struct wire_msg	 m;
	enum gsm_rc	 rc;

	w->last_health = worker_now();
	rc = gsm_health(w->gsm, &m);
	if (worker_outcome(w, rc, "health") == -1)
		return;
	m.type = WIRE_HEALTH;
	m.errors = w->errors;
	log_debug("health: %d dBm, reg %d, %s, SIM %d/%d, errors %d",
	    m.signal, m.reg, m.info, m.sim_used, m.sim_total, m.errors);
	worker_send(w, &m);
}

/* SWEEPING: read the whole SIM, then READY and a HEALTH frame. */
static void
worker_sweep(struct worker *w, const char *why)
{
	enum gsm_rc	 rc;
	int		 n;
	char		 buf[64];

	worker_state(w, MODEM_SWEEPING, why);
	w->gen++;
	rc = gsm_sweep(w->gsm, &n);
	if (worker_outcome(w, rc, "sweep") == -1)
		return;
	if (rc == GSM_OK)
		worker_seen_expire(w);
	snprintf(buf, sizeof(buf), "sweep done: %d message%s", n,
	    n == 1 ? "" : "s");
	worker_state(w, MODEM_READY, buf);
	worker_health(w);
}

/* INIT: connect; READY, an immediate sweep and health; else BROKEN. */
static void
worker_connect(struct worker *w)
{
	struct gsm_hooks	 hooks;
	struct wire_msg		 m;
	char			 why[WIRE_TEXT_MAX], ident[WIRE_INFO_MAX];

	hooks.emit = worker_emit;
	hooks.tick = worker_tick;
	hooks.arg = w;
	log_info("connecting to %s (%s)", w->conf.device,
	    w->conf.connection);
	w->gsm = gsm_open(&w->conf, &hooks, why, sizeof(why), ident,
	    sizeof(ident));
	if (w->gsm == NULL) {
		log_warnx("%s", why);
		worker_broken(w, why, 0);
		return;
	}
	log_info("connected: %s", ident);
	memset(&m, 0, sizeof(m));
	m.type = WIRE_HELLO;
	snprintf(m.text, sizeof(m.text), "%s", w->conf.device);
	snprintf(m.info, sizeof(m.info), "%s", ident);
	worker_send(w, &m);
	worker_seen_clear(w);
	w->errors = 0;
	worker_state(w, MODEM_READY, "connected");
	worker_sweep(w, "initial sweep");
}

static void
worker_reply(struct worker *w, uint32_t type, uint64_t id, int location,
    int code, int msgref, const char *text)
{
	struct wire_msg	 m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.id = id;
	m.location = location;
	m.code = code;
	m.msgref = msgref;
	snprintf(m.text, sizeof(m.text), "%s", text != NULL ? text : "");
	worker_send(w, &m);
}

/* A command only a READY modem can do: answer it refused otherwise (1). */
static int
worker_not_ready(struct worker *w, uint32_t type, const struct wire_msg *cmd,
    int location, int msgref)
{
	char	 why[96];

	if (w->state == MODEM_READY)
		return (0);
	snprintf(why, sizeof(why), "modem not ready (%s)",
	    wire_state_name(w->state));
	worker_reply(w, type, cmd->id, location, WIRE_CODE_NOTREADY, msgref,
	    why);
	return (1);
}

/*
 * The modem took a SEND: write it to the journal, synced, before the
 * result goes up, so that it is not sent again if we or the main
 * process die before the main process has committed it.
 */
static void
worker_journal(struct worker *w, const struct wire_msg *cmd, int msgref)
{
	struct wire_journal	 j;

	if (w->journal == -1)
		return;
	memset(&j, 0, sizeof(j));
	j.id = cmd->id;
	j.msgref = msgref;
	snprintf(j.number, sizeof(j.number), "%s", cmd->number);
	if (wire_journal_write(w->journal, &j) == -1)
		log_warn("send %llu: cannot write the journal",
		    (unsigned long long)cmd->id);
}

/*
 * One worker per modem, also across a crash of the main process: the
 * journal's lock is held for our life, and a worker of the dead main
 * process may still be finishing its send.
 */
static void
worker_journal_open(struct worker *w, const char *path)
{
	if ((w->journal = open(path, O_RDWR | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		fatal("%s", path);
	if (flock(w->journal, LOCK_EX | LOCK_NB) == -1)
		fatalx("%s is locked: another worker still runs on this "
		    "modem", path);
}

static void
worker_cmd_send(struct worker *w, const struct wire_msg *cmd)
{
	struct gsm_result	 res;
	enum gsm_rc		 rc;
	char			 why[96];

	if (worker_not_ready(w, WIRE_SEND_RESULT, cmd, 0, -1))
		return;
	snprintf(why, sizeof(why), "send %llu to %s",
	    (unsigned long long)cmd->id, cmd->number);
	worker_state(w, MODEM_SENDING, why);
	rc = gsm_send(w->gsm, cmd->number, cmd->text,
	    (cmd->flags & WIRE_F_REPORT) != 0, &res);
	if (rc == GSM_OK)
		worker_journal(w, cmd, res.msgref);
	if (rc == GSM_OK)
		log_info("send %llu to %s: message reference %d",
		    (unsigned long long)cmd->id, cmd->number, res.msgref);
	else
		log_warnx("send %llu to %s failed: %s",
		    (unsigned long long)cmd->id, cmd->number, res.text);
	worker_reply(w, WIRE_SEND_RESULT, cmd->id, 0,
	    rc == GSM_OK ? 0 : (res.code != 0 ? res.code : -1),
	    rc == GSM_OK ? res.msgref : -1, rc == GSM_OK ? "" : res.text);
	if (worker_outcome(w, rc, "send") == 0)
		worker_state(w, MODEM_READY, "send done");
}

/* A DELETE's answer, with the identity it named. */
static void
worker_delete_reply(struct worker *w, const struct wire_msg *cmd, int code,
    const char *text)
{
	struct wire_msg	 m;

	memset(&m, 0, sizeof(m));
	m.type = WIRE_DELETE_RESULT;
	m.id = cmd->id;
	m.location = cmd->location;
	m.code = code;
	snprintf(m.text, sizeof(m.text), "%s", text);
	snprintf(m.info, sizeof(m.info), "%s", cmd->info);
	worker_send(w, &m);
}

/*
 * AT+CMGD of a location that holds the message meant. What we handed up
 * from it is forgotten before the delete, whatever its outcome: a
 * location that may have been freed is read before any later delete.
 */
static void
worker_delete(struct worker *w, const struct wire_msg *cmd,
    struct worker_seen *ws)
{
	struct gsm_result	 res;
	enum gsm_rc		 rc;

	if (ws != NULL)
		worker_seen_drop(w, ws);
	rc = gsm_delete(w->gsm, cmd->location, &res);
	if (rc == GSM_OK)
		log_info("delete %llu: location %d deleted",
		    (unsigned long long)cmd->id, cmd->location);
	worker_delete_reply(w, cmd, rc == GSM_OK ? 0 : (res.code != 0 ?
	    res.code : -1), res.text);
	(void)worker_outcome(w, rc, "delete");
}

/*
 * Whether a DELETE names this message (its sender and identity); one
 * naming none takes any.
 */
static int
worker_delete_meant(const struct wire_msg *cmd, const char *number,
    const char *ident)
{
	if (cmd->info[0] == '\0')
		return (1);
	return ((cmd->number[0] == '\0' || strcmp(cmd->number, number) == 0) &&
	    wire_ident_same(cmd->info, ident));
}

/*
 * Delete a location only if it still holds the message the DELETE names
 * (cmd->info, wire_ident): a slot freed and refilled must not lose its
 * new message, and the main process may send a second DELETE for a
 * message a sweep read again while the first was on its way. A
 * location we read, handed up and have not deleted since still holds
 * just that (only this worker deletes, and the modem stores a message
 * in an empty slot only), so it is not read again: libGammu's
 * GSM_DeleteSMS reads it anyway. Any other is read first.
 */
static void
worker_cmd_delete(struct worker *w, const struct wire_msg *cmd)
{
	struct gsm_result	 res;
	struct worker_seen	*ws;
	struct wire_msg		 cur;
	char			 ident[WIRE_IDENT_MAX];
	enum gsm_rc		 rc;

	if (worker_not_ready(w, WIRE_DELETE_RESULT, cmd, cmd->location, 0))
		return;
	if (cmd->location <= 0) {
		worker_delete_reply(w, cmd, WIRE_CODE_BADREQ,
		    "no such location");
		return;
	}
	if ((ws = worker_seen_find(w, cmd->location)) != NULL) {
		if (worker_delete_meant(cmd, ws->number, ws->ident))
			worker_delete(w, cmd, ws);
		else {
			log_info("delete %llu: location %d holds %s now, not "
			    "%s: kept", (unsigned long long)cmd->id,
			    cmd->location, ws->ident, cmd->info);
			worker_delete_reply(w, cmd, WIRE_CODE_CHANGED,
			    "location holds another message");
		}
		return;
	}
	rc = gsm_read(w->gsm, cmd->location, &cur, &res);
	if (rc != GSM_OK) {
		worker_delete_reply(w, cmd, res.code != 0 ? res.code : -1,
		    res.text);
		(void)worker_outcome(w, rc, "delete");
		return;
	}
	if (cur.type == WIRE_NONE) {
		log_info("delete %llu: location %d is already empty",
		    (unsigned long long)cmd->id, cmd->location);
		worker_delete_reply(w, cmd, 0, "");
		return;
	}
	wire_ident(&cur, ident, sizeof(ident));
	if (cmd->info[0] != '\0' &&
	    worker_delete_meant(cmd, cur.number, ident)) {
		worker_delete(w, cmd, NULL);
		return;
	}
	log_warnx("delete %llu: location %d holds a message not handed up "
	    "yet; kept and handed up now", (unsigned long long)cmd->id,
	    cmd->location);
	worker_delete_reply(w, cmd, WIRE_CODE_CHANGED,
	    "location holds another message");
	worker_emit(w, &cur);
}

static void
worker_cmd_balance(struct worker *w, const struct wire_msg *cmd)
{
	struct gsm_result	 res;
	enum gsm_rc		 rc;

	if (worker_not_ready(w, WIRE_USSD_ANSWER, cmd, 0, 0))
		return;
	rc = gsm_ussd(w->gsm, cmd->info, &res);
	if (rc == GSM_OK)
		log_info("USSD %s: %s", cmd->info, res.text);
	else
		log_warnx("USSD %s failed: %s", cmd->info, res.text);
	worker_reply(w, WIRE_USSD_ANSWER, cmd->id, 0,
	    rc == GSM_OK ? 0 : (res.code != 0 ? res.code : -1), 0, res.text);
	(void)worker_outcome(w, rc, "USSD");
}

static void
worker_command(struct worker *w, const struct wire_msg *cmd)
{
	log_debug("command %s id %llu", wire_type_name(cmd->type),
	    (unsigned long long)cmd->id);
	switch (cmd->type) {
	case WIRE_SEND:
		worker_cmd_send(w, cmd);
		break;
	case WIRE_DELETE:
		worker_cmd_delete(w, cmd);
		break;
	case WIRE_SWEEP:
		if (w->state == MODEM_READY)
			worker_sweep(w, "sweep requested");
		else
			log_info("sweep ignored: %s",
			    wire_state_name(w->state));
		break;
	case WIRE_BALANCE:
		worker_cmd_balance(w, cmd);
		break;
	case WIRE_RECONNECT:
		worker_broken(w, "reconnect requested", 1);
		break;
	case WIRE_SHUTDOWN:
		log_info("shutdown requested");
		w->quit = 1;
		break;
	default:
		log_warnx("unexpected %s from the main process, ignored",
		    wire_type_name(cmd->type));
		break;
	}
}

/* A USB modem that is pulled out takes its device node with it. */
static void
worker_present(struct worker *w)
{
	struct stat	 st;
	long long	 now = worker_now();
	char		 why[96];

	if (now - w->last_present < WORKER_PRESENT_MS)
		return;
	w->last_present = now;
	if (stat(w->conf.device, &st) == -1 && errno == ENOENT) {
		snprintf(why, sizeof(why), "device %s is gone",
		    w->conf.device);
		worker_broken(w, why, 0);
	}
}

static void
worker_sigterm(int sig)
{
	(void)sig;
	worker_term = 1;
	gsm_interrupt();
}

/* How long the worker may sleep: until its next timer is due, in ms. */
static int
worker_timeout(struct worker *w)
{
	long long	 now = worker_now(), due;

	due = w->last_beat + WORKER_HEARTBEAT * 1000LL;
	switch (w->state) {
	case MODEM_READY:
		if (gsm_pending(w->gsm) || gsm_fd(w->gsm) == -1)
			return (0);
		if (w->last_health + w->health_secs * 1000LL < due)
			due = w->last_health + w->health_secs * 1000LL;
		if (w->last_present + WORKER_PRESENT_MS < due)
			due = w->last_present + WORKER_PRESENT_MS;
		break;
	case MODEM_BACKOFF:
		if (w->until < due)
			due = w->until;
		break;
	default:
		return (0);
	}
	if (due <= now)
		return (0);
	return (due - now > INT_MAX ? INT_MAX : (int)(due - now));
}

/* The lowest address of the main thread's stack, 0 if not found. */
static uintptr_t
worker_stack_low(void)
{
	FILE		*f;
	char		 line[256];
	unsigned long	 lo = 0, hi;

	if ((f = fopen("/proc/self/maps", "re")) == NULL)
		return (0);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strstr(line, "[stack]") != NULL &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2)
			break;
	fclose(f);
	return (lo);
}

/*
 * Give back what work left resident: the stack below the loop and the
 * heap's free pages. libGammu's GSM_ReadDevice clears a 64 KB buffer on
 * the stack at each read, so a worker that read once keeps 80 KB of
 * stack for good; times 64 workers it is megabytes. Before each sleep
 * (the stack's end and malloc_trim at most once a second). The pages
 * below this frame hold nothing live (one thread); a page given back
 * comes back zero when the stack next grows into it.
 */
static void __attribute__((__noinline__))
worker_trim(struct worker *w)
{
	volatile char	 here = 0;
	long		 pg = sysconf(_SC_PAGESIZE);
	uintptr_t	 top;
	long long	 now = worker_now();

	if (now - w->last_trim >= WORKER_TRIM_MS) {
		w->last_trim = now;
		w->stack_low = worker_stack_low();
		malloc_trim(0);
	}
	if (pg <= 0)
		pg = 4096;
	top = ((uintptr_t)&here - WORKER_STACK_KEEP) & ~(uintptr_t)(pg - 1);
	if (w->stack_low != 0 && w->stack_low < top &&
	    madvise((void *)w->stack_low, top - w->stack_low,
	    MADV_DONTNEED) == -1)
		log_debug("trim: madvise: %s", strerror(errno));
}

/*
 * Sleep until there is something to do, and no longer: a frame from
 * the main process, bytes from the modem (+CMTI, +CDSI, an answer), or
 * the next timer. Returns WORKER_EV_* bits, 0 when a timer is due.
 */
#define WORKER_EV_CMD	0x01
#define WORKER_EV_MODEM	0x02
static int
worker_wait(struct worker *w)
{
	struct pollfd	 pfd[2];
	nfds_t		 n = 1;
	int		 r, ev = 0;

	pfd[0].fd = w->fd;
	pfd[0].events = POLLIN;
	pfd[0].revents = 0;
	if (w->state == MODEM_READY && gsm_fd(w->gsm) != -1) {
		pfd[1].fd = gsm_fd(w->gsm);
		pfd[1].events = POLLIN;
		pfd[1].revents = 0;
		n = 2;
	}
	r = poll(pfd, n, worker_timeout(w));
	if (r <= 0)
		return (0);	/* a timer, or a signal: look again */
	if (pfd[0].revents != 0)
		ev |= WORKER_EV_CMD;
	if (n == 2 && pfd[1].revents != 0)
		ev |= WORKER_EV_MODEM;
	return (ev);
}

static void
worker_loop(struct worker *w)
{
	struct wire_msg	 m;
	int		 r, ev;

	while (!w->quit && !worker_term) {
		switch (w->state) {
		case MODEM_INIT:
			worker_connect(w);
			break;
		case MODEM_BACKOFF:
			if (worker_now() >= w->until)
				worker_state(w, MODEM_INIT, "backoff over");
			break;
		default:
			break;
		}
		if (w->quit || worker_term)
			break;
		if (w->state == MODEM_INIT)
			continue;
		worker_trim(w);
		ev = worker_wait(w);
		if (worker_term)
			break;
		/*
		 * The modem before the main process: a +CMTI held through a
		 * send, out with its end, is read before the next SEND,
		 * which would hold it for that send's time too.
		 */
		if (w->state == MODEM_READY && !w->quit)
			(void)worker_outcome(w, gsm_poll(w->gsm,
			    (ev & WORKER_EV_MODEM) != 0), "reading");
		if (ev & WORKER_EV_CMD) {
			r = wire_read(w->fd, &m, 0);
			if (r == -1) {
				log_info("main process closed the connection");
				w->quit = 1;
				break;
			}
			if (r == 1)
				worker_command(w, &m);
		}
		if (w->state == MODEM_READY && !w->quit)
			worker_present(w);
		if (w->state == MODEM_READY && !w->quit &&
		    worker_now() - w->last_health >= w->health_secs * 1000LL)
			worker_health(w);
		worker_beat(w);
	}
}

static int
worker_main(int argc, char *argv[])
{
	struct worker		*w = &worker;
	struct sigaction	 sa;
	struct wire_msg		 m;
	const char		*errstr = NULL, *journal = NULL;
	int			 ch, use_syslog = 0, verbose = 1;
	long			 l;
	char			*end, prefix[128];

	memset(w, 0, sizeof(*w));
	w->conf.connection = "at";
	w->health_secs = WORKER_HEALTH_DEFAULT;
	w->fd = WIRE_WORKER_FD;
	w->journal = -1;
	TAILQ_INIT(&w->seen);
	while ((ch = getopt(argc, argv, "c:d:g:H:j:n:Psv")) != -1) {
		switch (ch) {
		case 'c':
			w->conf.connection = optarg;
			break;
		case 'd':
			w->conf.device = optarg;
			break;
		case 'g':
			w->conf.debuglog = optarg;
			break;
		case 'H':
			errno = 0;
			l = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || l < 1 || l > 86400)
				errstr = "-H wants seconds, 1..86400";
			else
				w->health_secs = (int)l;
			break;
		case 'j':
			journal = optarg;
			break;
		case 'n':
			w->name = optarg;
			break;
		case 'P':
			w->conf.pauses = 1;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'v':
			verbose = 2;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || w->name == NULL || w->conf.device == NULL)
		usage();
	log_init("tallygw-modem", use_syslog ? LOG_TO_SYSLOG : LOG_TO_STDERR,
	    verbose);
	snprintf(prefix, sizeof(prefix), "modem %s: ", w->name);
	log_setprefix(prefix);
	if (errstr != NULL)
		fatalx("%s", errstr);
	if (fcntl(w->fd, F_GETFD) == -1)
		fatalx("fd %d is not open: run me from tallygw", w->fd);
	if (journal != NULL)
		worker_journal_open(w, journal);

	signal(SIGPIPE, SIG_IGN);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_sigterm;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	gsm_setup();

	memset(&m, 0, sizeof(m));
	m.type = WIRE_HELLO;
	snprintf(m.text, sizeof(m.text), "%s", w->conf.device);
	worker_send(w, &m);
	w->state = MODEM_INIT;
	w->backoff = WORKER_BACKOFF_MIN;
	w->last_beat = worker_now();
	log_info("started on %s, health every %d s", w->conf.device,
	    w->health_secs);

	worker_loop(w);

	if (worker_term)
		log_info("terminated by signal");
	worker_teardown(w);
	worker_seen_clear(w);
	log_info("exiting");
	return (0);
}

/*
 * tallygw-modem -Z PAD [-s] [-v]: the zygote (zygote.c), which returns
 * here only in a worker it forked; else one worker.
 */
int
main(int argc, char *argv[])
{
	int	 i, use_syslog = 0, verbose = 1;

	if (argc >= 3 && strcmp(argv[1], "-Z") == 0) {
		for (i = 3; i < argc; i++) {
			if (strcmp(argv[i], "-s") == 0)
				use_syslog = 1;
			else if (strcmp(argv[i], "-v") == 0)
				verbose = 2;
			else
				usage();
		}
		log_init("tallygw-modem", use_syslog ? LOG_TO_SYSLOG :
		    LOG_TO_STDERR, verbose);
		if (fcntl(3, F_GETFD) == -1)
			fatalx("fd 3 is not open: run me from tallygw");
		gsm_setup();
		zygote_main(argc, argv, &argc, &argv);
	}
	return (worker_main(argc, argv));
}
