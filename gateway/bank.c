/*
 * bank: the modem workers. One tallygw-modem process per enabled modem,
 * each behind a socketpair; the bank starts them, reads their frames,
 * notices death and hangs, and restarts them with backoff.
 */
#include <sys/types.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "daemon.h"

#define BANK_JOURNAL_MAX	(PATH_MAX + GW_MODEM_NAME_MAX + 16)

static void	bank_spawn(struct modem *);
static void	bank_lost(struct modem *, const char *);
static int	bank_settle(struct modem *, int);
static void	bank_set_state(struct modem *, enum bank_state, const char *);
static int	bank_today(struct modem *, time_t);

/* Where the bank's events go (bank_start): the daemon's, never called by name. */
static const struct bank_events	*bank_ev;

static const char *bank_states[] = {
	[BANK_OFF] = "off",
	[BANK_RUNNING] = "running",
	[BANK_WAIT] = "restart-wait",
	[BANK_STOPPING] = "stopping",
};

const char *
bank_state_name(enum bank_state s)
{
	if ((unsigned)s >= sizeof(bank_states) / sizeof(bank_states[0]))
		return ("unknown");
	return (bank_states[s]);
}

/* The one place a modem's supervision state changes. */
static void
bank_set_state(struct modem *m, enum bank_state s, const char *why)
{
	if (m->state == s)
		return;
	log_info("bank: modem %s: %s -> %s (%s)", m->conf.name,
	    bank_state_name(m->state), bank_state_name(s), why);
	m->state = s;
}

/* What went wrong last with a modem, for the operator (tallyctl modems). */
void
bank_error(struct modem *m, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(m->last_error, sizeof(m->last_error), fmt, ap);
	va_end(ap);
	m->last_error_at = time(NULL);
}

struct modem *
bank_find(const char *name)
{
	struct modem	*m;

	TAILQ_FOREACH(m, &gw->modems, entry)
		if (strcmp(m->conf.name, name) == 0)
			return (m);
	return (NULL);
}

static int
bank_write(struct modem *m, const struct wire_msg *w)
{
	uint8_t	 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t	 len;

	if (m->bev == NULL || m->state != BANK_RUNNING)
		return (-1);
	if (wire_encode(w, buf, sizeof(buf), &len) == -1) {
		log_warnx("bank: modem %s: cannot encode %s", m->conf.name,
		    wire_type_name(w->type));
		return (-1);
	}
	if (bufferevent_write(m->bev, buf, len) == -1)
		return (-1);
	return (0);
}

static void
bank_cmd(struct modem *m, uint32_t type)
{
	struct wire_msg	 w;

	memset(&w, 0, sizeof(w));
	w.type = type;
	(void)bank_write(m, &w);
}

int
bank_send(struct modem *m, int64_t id, const char *number, const char *text,
    int flags)
{
	struct wire_msg	 w;

	memset(&w, 0, sizeof(w));
	w.type = WIRE_SEND;
	w.id = id;
	w.flags = flags;
	snprintf(w.number, sizeof(w.number), "%s", number);
	snprintf(w.text, sizeof(w.text), "%s", text);
	return (bank_write(m, &w));
}

/*
 * DELETE the message from number whose identity (wire_ident) is ident
 * from a SIM slot: the worker leaves a message that took the slot since
 * alone.
 */
int
bank_delete(struct modem *m, int location, const char *number,
    const char *ident)
{
	struct wire_msg	 w;

	if (location <= 0)
		return (0);
	memset(&w, 0, sizeof(w));
	w.type = WIRE_DELETE;
	w.location = location;
	snprintf(w.number, sizeof(w.number), "%s", number);
	snprintf(w.info, sizeof(w.info), "%s", ident);
	return (bank_write(m, &w));
}

/* tallyctl sweep: every ready modem reads its SIM now. */
void
bank_sweep_all(void)
{
	struct modem	*m;

	TAILQ_FOREACH(m, &gw->modems, entry)
		if (m->state == BANK_RUNNING && m->wstate == MODEM_READY)
			bank_cmd(m, WIRE_SWEEP);
}

static void
bank_balance(struct modem *m)
{
	struct wire_msg	 w;
	const char	*code = m->conf.balance;

	if (code[0] == '\0')
		code = balance_ussd_code(m->conf.oper[0] ? m->conf.oper :
		    m->oper);
	memset(&w, 0, sizeof(w));
	w.type = WIRE_BALANCE;
	snprintf(w.info, sizeof(w.info), "%s", code);
	m->balance_at = time(NULL);
	(void)bank_write(m, &w);
}

/* A frame from a worker: update what we know, hand events to the loop. */
static void
bank_frame(struct modem *m, const struct wire_msg *w)
{
	long	 rp;
	char	 exp[16], ident[WIRE_IDENT_MAX];

	m->last_frame = time(NULL);
	switch (w->type) {
	case WIRE_HELLO:
		if (w->info[0] != '\0')
			snprintf(m->info, sizeof(m->info), "%s", w->info);
		log_debug("bank: modem %s: hello %s %s", m->conf.name,
		    w->text, w->info);
		break;
	case WIRE_STATE:
		if (w->status < 0 || w->status > MODEM_STATE_MAX) {
			log_warnx("bank: modem %s: bad state %d",
			    m->conf.name, w->status);
			break;
		}
		log_info("bank: modem %s: worker %s -> %s%s%s", m->conf.name,
		    wire_state_name(m->wstate), wire_state_name(w->status),
		    w->text[0] ? ": " : "", w->text);
		m->wstate = w->status;
		if ((m->wstate == MODEM_BROKEN || m->wstate == MODEM_BACKOFF) &&
		    w->text[0] != '\0')
			bank_error(m, "worker %s: %s",
			    wire_state_name(w->status), w->text);
		if (m->wstate == MODEM_READY) {
			if (!m->ever_ready)
				bank_balance(m);
			m->ever_ready = 1;
			m->backoff = 0;
			bank_ev->ready(m);
		} else if (m->wstate == MODEM_BROKEN ||
		    m->wstate == MODEM_BACKOFF || m->wstate == MODEM_INIT)
			bank_ev->lost(m);
		break;
	case WIRE_SMS:
		m->received++;
		bank_ev->sms(m, w);
		break;
	case WIRE_SEND_RESULT:
		bank_ev->send_result(m, (int64_t)w->id, w->code, w->msgref,
		    w->text);
		break;
	case WIRE_STATUS_REPORT:
		bank_ev->status_report(m, w->msgref, w->status);
		if (w->location > 0) {
			wire_ident(w, ident, sizeof(ident));
			bank_delete(m, w->location, w->number, ident);
		}
		break;
	case WIRE_HEALTH:
		m->signal = w->signal;
		m->reg = w->reg;
		if (w->info[0] != '\0')
			snprintf(m->oper, sizeof(m->oper), "%.*s",
			    (int)sizeof(m->oper) - 1, w->info);
		m->sim_used = w->sim_used;
		m->sim_total = w->sim_total;
		m->errors = w->errors;
		break;
	case WIRE_USSD_ANSWER:
		m->balance_answer_at = time(NULL);
		m->balance_answers++;
		if (w->code != 0) {
			log_warnx("bank: modem %s: balance query failed: %s",
			    m->conf.name, w->text);
			bank_error(m, "balance query failed: %s", w->text);
			break;
		}
		snprintf(m->balance_text, sizeof(m->balance_text), "%.*s",
		    (int)sizeof(m->balance_text) - 1, w->text);
		if (balance_parse(m->conf.oper[0] ? m->conf.oper : m->oper,
		    w->text, &rp, exp, sizeof(exp)) == 1) {
			m->balance = rp;
			log_info("bank: modem %s: balance Rp%ld%s%s",
			    m->conf.name, rp, exp[0] ? " until " : "", exp);
		} else {
			log_warnx("bank: modem %s: no balance in USSD answer "
			    "\"%s\"", m->conf.name, w->text);
			bank_error(m, "no balance in the USSD answer");
		}
		break;
	case WIRE_DELETE_RESULT:
		bank_ev->deleted(m, w->location, w->code, w->info);
		if (w->code == WIRE_CODE_CHANGED)
			log_debug("bank: modem %s: SIM slot %d holds another "
			    "message now: kept", m->conf.name, w->location);
		else if (w->code != 0) {
			log_warnx("bank: modem %s: delete of SIM slot %d "
			    "failed (%d); the next sweep retries",
			    m->conf.name, w->location, w->code);
			bank_error(m, "delete of SIM slot %d failed (%d)",
			    w->location, w->code);
		}
		break;
	case WIRE_HEARTBEAT:
		break;
	default:
		log_warnx("bank: modem %s: unexpected %s from worker",
		    m->conf.name, wire_type_name(w->type));
		bank_lost(m, "protocol error");
		break;
	}
}

static void
bank_readcb(struct bufferevent *bev, void *arg)
{
	struct modem	*m = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct wire_msg	 w;
	size_t		 n, used;
	uint8_t		*p;
	int		 r;

	while (m->bev == bev && (n = evbuffer_get_length(in)) > 0) {
		if (n > WIRE_HDR_LEN + WIRE_MAX_PAYLOAD)
			n = WIRE_HDR_LEN + WIRE_MAX_PAYLOAD;
		if ((p = evbuffer_pullup(in, n)) == NULL)
			return;
		r = wire_decode(p, n, &w, &used);
		if (r == 0)
			return;
		if (r == -1) {
			log_warnx("bank: modem %s: garbage frame from worker",
			    m->conf.name);
			bank_lost(m, "protocol error");
			return;
		}
		evbuffer_drain(in, used);
		bank_frame(m, &w);
	}
}

static void
bank_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct modem	*m = arg;

	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bank_lost(m, (what & BEV_EVENT_EOF) ? "worker closed its socket" :
		    "socket error");
}

static void
bank_restartcb(evutil_socket_t fd, short ev, void *arg)
{
	struct modem	*m = arg;

	if (m->state == BANK_WAIT && !m->removed && m->conf.enabled &&
	    !gw->stopping)
		bank_spawn(m);
}

static void
bank_sweepcb(evutil_socket_t fd, short ev, void *arg)
{
	struct modem	*m = arg;
	time_t		 now = time(NULL);

	if (m->state == BANK_RUNNING && m->wstate == MODEM_READY) {
		bank_cmd(m, WIRE_SWEEP);
		if (gw->conf.t.balance_interval > 0 &&
		    now - m->balance_at >= gw->conf.t.balance_interval)
			bank_balance(m);
	}
}

/* Where a modem's worker journals the sends its modem took. */
static void
bank_journal(struct modem *m, char *buf, size_t len)
{
	if ((size_t)snprintf(buf, len, "%s/modem-%s.sent",
	    gw->conf.state_dir, m->conf.name) >= len)
		fatalx("bank: modem %s: journal path too long", m->conf.name);
}

/*
 * A worker is gone (docs/design.md, "Send results across a crash"):
 * once no process holds its journal's lock (it has exited, its last
 * write done), a send its modem took is reported, and only then does
 * its send in flight go back to the queue. Returns -1 while a worker
 * still holds the lock, unless force (it hangs past settle_by: its
 * send's fate is then unknown, and the SMS goes out again).
 */
static int
bank_settle(struct modem *m, int force)
{
	struct wire_journal	 j;
	char			 path[BANK_JOURNAL_MAX];
	int			 fd, r;

	if (!m->settling)
		return (0);
	bank_journal(m, path, sizeof(path));
	if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_warn("bank: modem %s: %s", m->conf.name, path);
	} else if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (!force) {
			close(fd);
			return (-1);
		}
		log_warnx("bank: modem %s: its old worker still holds %s; "
		    "the fate of its last send is unknown", m->conf.name,
		    path);
	} else {
		if ((r = wire_journal_read(fd, &j)) == 1)
			bank_ev->recovered(m, (int64_t)j.id, j.msgref,
			    j.number);
		else if (r == -1)
			log_warnx("bank: modem %s: %s is unreadable, ignored",
			    m->conf.name, path);
		if (ftruncate(fd, 0) == -1)
			log_warn("bank: modem %s: truncate %s", m->conf.name,
			    path);
	}
	if (fd != -1)
		close(fd);
	m->settling = 0;
	bank_ev->lost(m);
	return (0);
}

/* Where tallygw-modem is: the config, else beside our own binary. */
static void
bank_program(char *buf, size_t len)
{
	const char	*slash;

	if (gw->conf.modem_prog[0] != '\0') {
		snprintf(buf, len, "%s", gw->conf.modem_prog);
		return;
	}
	if ((slash = strrchr(gw->self, '/')) == NULL)
		snprintf(buf, len, "tallygw-modem");
	else
		snprintf(buf, len, "%.*s/tallygw-modem",
		    (int)(slash - gw->self), gw->self);
}

static void
bank_spawn(struct modem *m)
{
	char		 prog[PATH_MAX], health[16];
	char		 journal[BANK_JOURNAL_MAX];
	char		*argv[16];
	int		 sp[2], i = 0;
	pid_t		 pid;
	struct timeval	 tv;

	/* Never two workers on one modem: the old one must be gone. */
	if (bank_settle(m, 0) == -1) {
		bank_set_state(m, BANK_WAIT, "its old worker is still exiting");
		if (m->ev_restart == NULL)
			m->ev_restart = evtimer_new(gw->base, bank_restartcb,
			    m);
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		evtimer_add(m->ev_restart, &tv);
		return;
	}
	bank_program(prog, sizeof(prog));
	bank_journal(m, journal, sizeof(journal));
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sp) == -1) {
		log_warn("bank: modem %s: socketpair", m->conf.name);
		bank_lost(m, "cannot create socket");
		return;
	}
	snprintf(health, sizeof(health), "%d", gw->conf.t.health_interval);
	argv[i++] = prog;
	argv[i++] = (char *)(uintptr_t)"-n";
	argv[i++] = m->conf.name;
	argv[i++] = (char *)(uintptr_t)"-d";
	argv[i++] = m->conf.device;
	argv[i++] = (char *)(uintptr_t)"-c";
	argv[i++] = m->conf.connection;
	argv[i++] = (char *)(uintptr_t)"-H";
	argv[i++] = health;
	argv[i++] = (char *)(uintptr_t)"-j";
	argv[i++] = journal;
	if (gw->conf.log_syslog)
		argv[i++] = (char *)(uintptr_t)"-s";
	if (gw->conf.log_level > 0)
		argv[i++] = (char *)(uintptr_t)"-v";
	argv[i] = NULL;

	if ((pid = spawn_worker(prog, argv, sp[1])) == -1) {
		close(sp[0]);
		close(sp[1]);
		bank_lost(m, "cannot fork");
		return;
	}
	close(sp[1]);
	evutil_make_socket_nonblocking(sp[0]);
	fcntl(sp[0], F_SETFD, FD_CLOEXEC);
	m->pid = pid;
	m->bev = bufferevent_socket_new(gw->base, sp[0],
	    BEV_OPT_CLOSE_ON_FREE);
	if (m->bev == NULL) {
		close(sp[0]);
		bank_lost(m, "cannot set up the socket");
		return;
	}
	bufferevent_setcb(m->bev, bank_readcb, NULL, bank_eventcb, m);
	bufferevent_enable(m->bev, EV_READ | EV_WRITE);
	m->wstate = MODEM_INIT;
	m->last_frame = m->started = time(NULL);
	bank_set_state(m, BANK_RUNNING, "worker started");
	log_info("bank: modem %s: worker pid %ld on %s", m->conf.name,
	    (long)pid, m->conf.device);
	if (m->ev_sweep == NULL)
		m->ev_sweep = event_new(gw->base, -1, EV_PERSIST,
		    bank_sweepcb, m);
	tv.tv_sec = gw->conf.t.sweep_interval > 0 ?
	    gw->conf.t.sweep_interval : GW_SWEEP_INTERVAL;
	tv.tv_usec = 0;
	evtimer_add(m->ev_sweep, &tv);
}

/*
 * The worker is gone or must go: close its socket, kill it, hand its
 * send back to the outbox and schedule a restart with backoff.
 */
static void
bank_lost(struct modem *m, const char *why)
{
	struct timeval	 tv;

	if (m->bev != NULL) {
		bufferevent_free(m->bev);
		m->bev = NULL;
	}
	if (m->pid > 0)
		kill(m->pid, SIGKILL);	/* reaped in bank_reap */
	if (m->ev_sweep != NULL)
		evtimer_del(m->ev_sweep);
	m->wstate = MODEM_BROKEN;
	m->settling = 1;
	m->settle_by = time(NULL) + gw->conf.t.send_timeout;
	(void)bank_settle(m, 0);
	if (m->removed || !m->conf.enabled || gw->stopping) {
		bank_set_state(m, BANK_OFF, why);
		return;
	}
	if (m->state == BANK_STOPPING) {
		/* enabled again while it was stopping */
		bank_set_state(m, BANK_OFF, why);
		m->backoff = 0;
		bank_spawn(m);
		return;
	}
	if (time(NULL) - m->started > 10 * gw->conf.t.restart_max)
		m->backoff = 0;
	if (m->backoff == 0)
		m->backoff = gw->conf.t.restart_min;
	else if ((m->backoff *= 2) > gw->conf.t.restart_max)
		m->backoff = gw->conf.t.restart_max;
	m->restarts++;
	bank_error(m, "%s", why);
	bank_set_state(m, BANK_WAIT, why);
	log_warnx("bank: modem %s: %s; restart in %d s", m->conf.name, why,
	    m->backoff);
	if (m->ev_restart == NULL)
		m->ev_restart = evtimer_new(gw->base, bank_restartcb, m);
	tv.tv_sec = m->backoff;
	tv.tv_usec = 0;
	evtimer_add(m->ev_restart, &tv);
}

/* SIGCHLD: collect exit statuses; a worker that exits is lost. */
void
bank_reap(void)
{
	struct modem	*m;
	pid_t		 pid;
	int		 status;
	char		 why[64];

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (spawn_reaped(pid, status))
			continue;
		TAILQ_FOREACH(m, &gw->modems, entry)
			if (m->pid == pid)
				break;
		if (m == NULL) {
			/* not a worker: the daemon's other child (a hook) */
			if (bank_ev != NULL && bank_ev->child != NULL)
				bank_ev->child(pid, status);
			continue;
		}
		m->pid = 0;
		if (WIFEXITED(status))
			snprintf(why, sizeof(why), "worker exited %d",
			    WEXITSTATUS(status));
		else
			snprintf(why, sizeof(why), "worker killed by signal %d",
			    WTERMSIG(status));
		if (m->state == BANK_RUNNING || m->state == BANK_STOPPING)
			bank_lost(m, why);
		else {
			log_debug("bank: modem %s: %s", m->conf.name, why);
			(void)bank_settle(m, 0);
		}
	}
}

/* Once a second: hung workers, and modems whose send never answered. */
void
bank_tick(time_t now)
{
	struct modem	*m, *tmp;

	TAILQ_FOREACH_SAFE(m, &gw->modems, entry, tmp) {
		if (!m->removed)
			(void)bank_today(m, now);
		if (m->settling)
			(void)bank_settle(m, now >= m->settle_by);
		if (m->state == BANK_RUNNING && now - m->last_frame >
		    gw->conf.t.heartbeat_timeout) {
			log_warnx("bank: modem %s: no frame for %ld s: hung",
			    m->conf.name, (long)(now - m->last_frame));
			bank_lost(m, "worker hung");
		}
		if (m->state == BANK_STOPPING && m->pid > 0 &&
		    now - m->stop_at > gw->conf.t.stop_grace) {
			log_warnx("bank: modem %s: worker did not stop in %d s, "
			    "killed", m->conf.name, gw->conf.t.stop_grace);
			kill(m->pid, SIGKILL);	/* reaped in bank_reap */
			m->stop_at = now;
		}
		if (m->state == BANK_RUNNING && m->out_id != 0 &&
		    !m->out_unsaved && now > m->out_deadline) {
			log_warnx("bank: modem %s: send of outbox %lld got no "
			    "result in %d s", m->conf.name,
			    (long long)m->out_id, gw->conf.t.send_timeout);
			bank_ev->send_result(m, m->out_id, -1, -1,
			    "send timeout");
			bank_lost(m, "send timeout");
		}
		if (m->removed && m->state == BANK_OFF && m->pid == 0 &&
		    !m->settling) {
			TAILQ_REMOVE(&gw->modems, m, entry);
			if (m->ev_restart != NULL)
				event_free(m->ev_restart);
			if (m->ev_sweep != NULL)
				event_free(m->ev_sweep);
			log_info("bank: modem %s removed", m->conf.name);
			free(m);
		}
	}
}

/*
 * At start-up a worker of a gateway that died may still be finishing
 * its send: wait for it (up to send_timeout) and read its journal
 * before any reply goes out, or its SMS could go again by another modem.
 */
static void
bank_settle_old(struct modem *m)
{
	int	 said = 0;

	m->settling = 1;
	m->settle_by = time(NULL) + gw->conf.t.send_timeout;
	while (bank_settle(m, time(NULL) >= m->settle_by) == -1) {
		if (!said++)
			log_warnx("bank: modem %s: waiting for the worker of "
			    "the previous run to exit", m->conf.name);
		usleep(100 * 1000);
	}
}

static struct modem *
bank_add(const struct conf_modem *cm)
{
	struct modem	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL) {
		log_warn("bank: calloc");
		return (NULL);
	}
	m->conf = *cm;
	m->balance = -1;
	m->sent_day = -1;
	m->state = BANK_OFF;
	TAILQ_INSERT_TAIL(&gw->modems, m, entry);
	bank_settle_old(m);
	if (cm->enabled)
		bank_spawn(m);
	else
		log_info("bank: modem %s is disabled", m->conf.name);
	return (m);
}

static void
bank_shutdown(struct modem *m, const char *why)
{
	if (m->state == BANK_WAIT) {
		evtimer_del(m->ev_restart);
		bank_set_state(m, BANK_OFF, why);
		return;
	}
	if (m->state != BANK_RUNNING)
		return;
	/* Its send in flight is settled when it has exited (bank_lost). */
	bank_cmd(m, WIRE_SHUTDOWN);
	bank_set_state(m, BANK_STOPPING, why);
	m->stop_at = time(NULL);
	if (m->pid > 0)
		kill(m->pid, SIGTERM);
}

int
bank_start(const struct bank_events *ev)
{
	struct conf_modem	*cm;

	bank_ev = ev;
	TAILQ_FOREACH(cm, &gw->conf.modems, entry)
		if (bank_add(cm) == NULL)
			return (-1);
	return (0);
}

void
bank_stop(void)
{
	struct modem	*m;

	TAILQ_FOREACH(m, &gw->modems, entry)
		bank_shutdown(m, "gateway stopping");
	spawn_stop();
}

/* A new config: add, remove, enable, disable, or restart changed modems. */
int
bank_reload(const struct gw_conf *nc, char *err, size_t errlen)
{
	struct conf_modem	*cm;
	struct modem		*m;
	int			 changed;

	TAILQ_FOREACH(m, &gw->modems, entry)
		if (config_modem(nc, m->conf.name) == NULL && !m->removed) {
			m->removed = 1;
			bank_shutdown(m, "removed from the config");
			if (m->state == BANK_OFF && m->ev_restart != NULL)
				evtimer_del(m->ev_restart);
		}
	TAILQ_FOREACH(cm, &nc->modems, entry) {
		if ((m = bank_find(cm->name)) == NULL || m->removed) {
			if (m != NULL)
				continue;	/* still going away */
			log_info("bank: modem %s added", cm->name);
			if (bank_add(cm) == NULL) {
				snprintf(err, errlen, "out of memory");
				return (-1);
			}
			continue;
		}
		changed = strcmp(m->conf.device, cm->device) != 0 ||
		    strcmp(m->conf.connection, cm->connection) != 0;
		m->conf = *cm;
		if (!cm->enabled)
			bank_shutdown(m, "disabled in the config");
		else if (m->state == BANK_OFF)
			bank_spawn(m);
		else if (changed && m->state == BANK_RUNNING)
			bank_lost(m, "device changed");
	}
	return (0);
}

/* The modem an operator names, or NULL and why. */
static struct modem *
bank_named(const char *name, char *err, size_t errlen)
{
	struct modem	*m;

	if ((m = bank_find(name)) == NULL || m->removed) {
		snprintf(err, errlen, "no modem %s", name);
		return (NULL);
	}
	return (m);
}

/* tallyctl modem enable|disable NAME: until the next reload. */
int
bank_enable(const char *name, int on, char *err, size_t errlen)
{
	struct modem	*m;

	if ((m = bank_named(name, err, errlen)) == NULL)
		return (-1);
	m->conf.enabled = on;
	if (on && (m->state == BANK_OFF || m->state == BANK_WAIT)) {
		if (m->state == BANK_WAIT)
			evtimer_del(m->ev_restart);
		m->backoff = 0;
		bank_spawn(m);
	} else if (!on)
		bank_shutdown(m, "disabled by the operator");
	return (0);
}

/* tallyctl modem reconnect NAME: the worker re-opens its modem. */
int
bank_reconnect(const char *name, char *err, size_t errlen)
{
	struct modem	*m;

	if ((m = bank_named(name, err, errlen)) == NULL)
		return (-1);
	if (m->state != BANK_RUNNING) {
		snprintf(err, errlen, "modem %s has no worker (%s)", name,
		    bank_state_name(m->state));
		return (-1);
	}
	log_info("bank: modem %s: reconnect asked by the operator", name);
	bank_cmd(m, WIRE_RECONNECT);
	return (0);
}

/* tallyctl modem balance NAME: ask the airtime balance now. */
int
bank_balance_ask(const char *name, char *err, size_t errlen)
{
	struct modem	*m;

	if ((m = bank_named(name, err, errlen)) == NULL)
		return (-1);
	/* A worker that is sending or sweeping takes it up next. */
	if (m->state != BANK_RUNNING || (m->wstate != MODEM_READY &&
	    m->wstate != MODEM_SENDING && m->wstate != MODEM_SWEEPING)) {
		snprintf(err, errlen, "modem %s is not ready (%s/%s)", name,
		    bank_state_name(m->state), wire_state_name(m->wstate));
		return (-1);
	}
	log_info("bank: modem %s: balance asked by the operator", name);
	bank_balance(m);
	return (0);
}

/*
 * SMS the modem sent today (WIB), counted again from the store when
 * the day changes: for its cap, and for tallyctl modems and status.
 */
static int
bank_today(struct modem *m, time_t now)
{
	time_t		 local = now + 7 * 3600;	/* days in WIB */
	struct tm	 tm;
	int		 day, n;

	gmtime_r(&local, &tm);
	day = tm.tm_year * 400 + tm.tm_yday;
	if (day == m->sent_day)
		return (0);
	if (store_out_sent_today(gw->store, m->conf.name, now, &n) == -1)
		return (-1);
	m->sent_today = n;
	m->sent_day = day;
	return (0);
}

/* Whether m may send at now: not resting, its daily cap not reached. */
static int
bank_may_send(struct modem *m, time_t now)
{
	if (m->send_hold > now)
		return (0);
	if (m->conf.send_cap > 0 && (bank_today(m, now) == -1 ||
	    m->sent_today >= m->conf.send_cap))
		return (0);
	return (1);
}

static int
bank_usable(struct modem *m)
{
	if (m->state != BANK_RUNNING || m->wstate != MODEM_READY ||
	    m->out_id != 0)
		return (0);
	return (bank_may_send(m, time(NULL)));
}

/*
 * A modem that also sends is up (running, its worker connected, not
 * resting, under its cap): while one is, receive-only modems only read,
 * so that no report waits for their sends; else they send too, so that
 * no reply waits for ever.
 */
static int
bank_sender_up(void)
{
	struct modem	*m;
	time_t		 now = time(NULL);

	TAILQ_FOREACH(m, &gw->modems, entry)
		if (m->conf.role != MODEM_ROLE_RECEIVE && m->conf.enabled &&
		    !m->removed && m->state == BANK_RUNNING &&
		    (m->wstate == MODEM_READY || m->wstate == MODEM_SENDING ||
		    m->wstate == MODEM_SWEEPING) && bank_may_send(m, now))
			return (1);
	return (0);
}

/*
 * The modem to send a reply from: the one it came in on when it is
 * free, else one of the same operator, else any free modem; never a
 * receive-only one while a modem that also sends is up.
 */
struct modem *
bank_pick(const char *prefer, const char *oper)
{
	struct modem	*m, *same = NULL, *any = NULL;

	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (!bank_usable(m) || (m->conf.role == MODEM_ROLE_RECEIVE &&
		    bank_sender_up()))
			continue;
		if (prefer != NULL && strcmp(m->conf.name, prefer) == 0)
			return (m);
		if (same == NULL && oper != NULL && oper[0] != '\0' &&
		    strcasecmp(m->conf.oper, oper) == 0)
			same = m;
		if (any == NULL || m->sent < any->sent)
			any = m;
	}
	return (same != NULL ? same : any);
}

/*
 * Whether a modem other than m runs and may send, busy or not: a send
 * m refused can wait for it (outbox.c). A receive-only one does not
 * count while m may send: bank_pick would never give it the send.
 */
int
bank_elsewhere(const struct modem *m, time_t now)
{
	struct modem	*x;

	TAILQ_FOREACH(x, &gw->modems, entry)
		if (x != m && x->conf.enabled && !x->removed &&
		    (x->conf.role != MODEM_ROLE_RECEIVE ||
		    m->conf.role == MODEM_ROLE_RECEIVE) &&
		    x->state == BANK_RUNNING && bank_may_send(x, now))
			return (1);
	return (0);
}

int
bank_all_ready(void)
{
	struct modem	*m;

	TAILQ_FOREACH(m, &gw->modems, entry)
		if (m->conf.enabled && !m->removed && !m->ever_ready)
			return (0);
	return (1);
}

int
bank_count(int *ready, int *total)
{
	struct modem	*m;

	*ready = *total = 0;
	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (m->removed)
			continue;
		(*total)++;
		if (m->state == BANK_RUNNING && m->wstate == MODEM_READY)
			(*ready)++;
	}
	return (0);
}
