/*
 * Simulated modems on pseudo-terminals: the pty pair, the byte stream,
 * unsolicited lines held until the line is quiet, and SIM storage.
 *
 * The simulator keeps the slave end open itself so the master never
 * sees EIO between clients.  Clients (gammu, smsd) set TIOCEXCL, which
 * outlives them on a pty; an inotify watch on the slave counts opens
 * and closes, and when the last client closes the flag is cleared.
 */

#include <sys/inotify.h>
#include <sys/ioctl.h>

#include <errno.h>
#include <fcntl.h>
#include <pty.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "sim.h"

#define MODEM_OUT_MAX	(256 * 1024)	/* output held for a slow client */

static void	modem_read(int, short, void *);
static void	modem_writable(int, short, void *);
static void	modem_flush(struct modem *);
static void	modem_urc_timer(int, short, void *);
static void	modem_client_gone(struct modem *);
static void	modem_urc_add(struct modem *, int, const char *, va_list)
		    __attribute__((__format__ (printf, 3, 0)));

static const char *modem_state_names[] = {
	"up", "unplugged",
};

void
modem_set_state(struct modem *m, enum modem_state st)
{
	if (m->state == st)
		return;
	log_info("sim: modem%d: %s -> %s", m->idx,
	    modem_state_names[m->state], modem_state_names[st]);
	m->state = st;
}

int
modem_setup(struct modem *m, int idx)
{
	m->idx = idx;
	m->master = m->slave = -1;
	m->wd = -1;
	m->nslots = SIM_SLOTS;
	if ((m->slots = calloc(m->nslots, sizeof(*m->slots))) == NULL)
		return (-1);
	TAILQ_INIT(&m->urcs);
	m->fault.rssi = -1;
	if ((size_t)snprintf(m->link, sizeof(m->link), "%s/modem%d", sim->dir,
	    idx) >= sizeof(m->link))
		return (-1);
	if ((m->out = evbuffer_new()) == NULL)
		return (-1);
	m->ev_urc = evtimer_new(sim->base, modem_urc_timer, m);
	m->ev_busy = evtimer_new(sim->base, at_busy_done, m);
	m->ev_cnma = evtimer_new(sim->base, smsc_ack_timeout, m);
	at_reset(m);
	m->mr = sim_random() % 256;
	m->state = MODEM_UNPLUGGED;
	if (modem_open_pty(m) == -1)
		return (-1);
	return (0);
}

/* A new pseudo-terminal, linked at RUNDIR/modemN: plugging the modem in. */
int
modem_open_pty(struct modem *m)
{
	struct termios	 t;
	char		 name[64], tmp[PATH_MAX + 8];

	if (openpty(&m->master, &m->slave, name, NULL, NULL) == -1) {
		log_warn("sim: modem%d: openpty", m->idx);
		return (-1);
	}
	fcntl(m->master, F_SETFD, FD_CLOEXEC);
	fcntl(m->slave, F_SETFD, FD_CLOEXEC);
	fcntl(m->master, F_SETFL, fcntl(m->master, F_GETFL) | O_NONBLOCK);
	/* Raw until a client sets its own mode: no echo back to us. */
	if (tcgetattr(m->slave, &t) == 0) {
		cfmakeraw(&t);
		cfsetispeed(&t, B115200);
		cfsetospeed(&t, B115200);
		tcsetattr(m->slave, TCSANOW, &t);
	}
	snprintf(m->slavepath, sizeof(m->slavepath), "%s", name);
	snprintf(tmp, sizeof(tmp), "%s.new", m->link);
	unlink(tmp);
	if (symlink(m->slavepath, tmp) == -1 || rename(tmp, m->link) == -1) {
		log_warn("sim: modem%d: link %s", m->idx, m->link);
		close(m->master);
		close(m->slave);
		m->master = m->slave = -1;
		return (-1);
	}
	m->opens = 0;
	m->wd = inotify_add_watch(sim->inotify, m->slavepath,
	    IN_OPEN | IN_CLOSE_WRITE | IN_CLOSE_NOWRITE);
	if (m->wd == -1)
		log_warn("sim: modem%d: inotify %s", m->idx, m->slavepath);
	m->ev_read = event_new(sim->base, m->master, EV_READ | EV_PERSIST,
	    modem_read, m);
	m->ev_write = event_new(sim->base, m->master, EV_WRITE,
	    modem_writable, m);
	event_add(m->ev_read, NULL);
	evbuffer_drain(m->out, evbuffer_get_length(m->out));
	m->linelen = 0;
	m->pdulen = 0;
	if (m->at != AT_IDLE)
		at_set_state(m, AT_IDLE);
	modem_set_state(m, MODEM_UP);
	log_debug("sim: modem%d: %s -> %s (%s)", m->idx, m->link,
	    m->slavepath, m->msisdn);
	return (0);
}

/* Hang up: close the pty pair; clients see EOF/EIO. The link goes too. */
void
modem_close_pty(struct modem *m)
{
	struct urc	*u;

	if (m->master == -1)
		return;
	if (m->wd != -1)
		inotify_rm_watch(sim->inotify, m->wd);
	m->wd = -1;
	event_free(m->ev_read);
	event_free(m->ev_write);
	m->ev_read = m->ev_write = NULL;
	evtimer_del(m->ev_busy);
	evtimer_del(m->ev_urc);
	close(m->master);
	close(m->slave);
	m->master = m->slave = -1;
	unlink(m->link);
	evbuffer_drain(m->out, evbuffer_get_length(m->out));
	while ((u = TAILQ_FIRST(&m->urcs)) != NULL) {
		TAILQ_REMOVE(&m->urcs, u, entry);
		free(u->text);
		free(u);
	}
	free(m->pending);
	m->pending = NULL;
	m->opens = 0;
	modem_set_state(m, MODEM_UNPLUGGED);
	/* Power lost: the service goes back to 0, no +CNMA will come. */
	m->csms = 0;
	smsc_ack_drop(m, "unplugged");
}

void
modem_teardown(struct modem *m)
{
	modem_close_pty(m);
	if (m->ev_urc)
		event_free(m->ev_urc);
	if (m->ev_busy)
		event_free(m->ev_busy);
	if (m->ev_cnma)
		event_free(m->ev_cnma);
	if (m->out)
		evbuffer_free(m->out);
	free(m->slots);
}

static void
modem_read(int fd, short ev, void *arg)
{
	struct modem	*m = arg;
	unsigned char	 buf[1024];
	ssize_t		 n;

	n = read(fd, buf, sizeof(buf));
	if (n == -1) {
		if (errno != EAGAIN && errno != EINTR)
			log_warn("sim: modem%d: read", m->idx);
		return;
	}
	if (n == 0)
		return;
	m->last_input_ms = sim_now_ms();
	at_input(m, buf, n);
}

static void
modem_flush(struct modem *m)
{
	if (m->master == -1)
		return;
	if (evbuffer_write(m->out, m->master) == -1 && errno != EAGAIN) {
		log_warn("sim: modem%d: write", m->idx);
		evbuffer_drain(m->out, evbuffer_get_length(m->out));
		return;
	}
	if (evbuffer_get_length(m->out) > 0)
		event_add(m->ev_write, NULL);
}

static void
modem_writable(int fd, short ev, void *arg)
{
	modem_flush(arg);
}

void
modem_write(struct modem *m, const char *s, size_t len)
{
	if (m->master == -1)
		return;
	if (evbuffer_get_length(m->out) + len > MODEM_OUT_MAX) {
		log_warnx("sim: modem%d: client not reading, output dropped",
		    m->idx);
		return;
	}
	evbuffer_add(m->out, s, len);
	modem_flush(m);
}

void
modem_puts(struct modem *m, const char *s)
{
	modem_write(m, s, strlen(s));
}

void
modem_printf(struct modem *m, const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n == -1)
		return;
	modem_write(m, s, n);
	free(s);
}

static void
modem_urc_add(struct modem *m, int ack, const char *fmt, va_list ap)
{
	struct urc	*u;
	char		*s;

	if (m->state != MODEM_UP)
		return;
	if (vasprintf(&s, fmt, ap) == -1)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL ||
	    asprintf(&u->text, "\r\n%s\r\n", s) == -1) {
		free(u);
		free(s);
		return;
	}
	free(s);
	u->ack = ack;
	TAILQ_INSERT_TAIL(&m->urcs, u, entry);
	modem_urc_kick(m);
}

/* Queue an unsolicited result; it goes out when the line is quiet. */
void
modem_urc(struct modem *m, const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	modem_urc_add(m, 0, fmt, ap);
	va_end(ap);
}

/* The same for a +CMT/+CDS the network waits to see acknowledged. */
void
modem_urc_ack(struct modem *m, const char *fmt, ...)
{
	va_list		 ap;

	va_start(ap, fmt);
	modem_urc_add(m, 1, fmt, ap);
	va_end(ap);
}

/*
 * The network took back the unacknowledged +CMT/+CDS: if it is still
 * held (line busy, mute fault), it must never reach the TE.
 */
void
modem_urc_unsend(struct modem *m)
{
	struct urc	*u, *next;

	for (u = TAILQ_FIRST(&m->urcs); u != NULL; u = next) {
		next = TAILQ_NEXT(u, entry);
		if (!u->ack)
			continue;
		TAILQ_REMOVE(&m->urcs, u, entry);
		free(u->text);
		free(u);
	}
}

/* A +CMT/+CDS the network waits on is still held, unseen by the TE. */
int
modem_urc_ack_held(const struct modem *m)
{
	const struct urc	*u;

	TAILQ_FOREACH(u, &m->urcs, entry)
		if (u->ack)
			return (1);
	return (0);
}

/*
 * Send held unsolicited lines if no command is being typed or run and
 * the client has been quiet for a moment; else look again later.
 */
void
modem_urc_kick(struct modem *m)
{
	struct urc	*u;
	uint64_t	 now = sim_now_ms();

	if (TAILQ_EMPTY(&m->urcs) || m->state != MODEM_UP)
		return;
	if (m->at != AT_IDLE || m->linelen > 0 ||
	    now < m->last_input_ms + SIM_URC_GAP_MS || m->fault.mute) {
		if (!evtimer_pending(m->ev_urc, NULL))
			sim_after(m->ev_urc, SIM_URC_GAP_MS);
		return;
	}
	while ((u = TAILQ_FIRST(&m->urcs)) != NULL) {
		TAILQ_REMOVE(&m->urcs, u, entry);
		/* Nobody on the serial line: a real modem's URC is lost. */
		if (m->opens > 0)
			modem_puts(m, u->text);
		free(u->text);
		free(u);
	}
}

static void
modem_urc_timer(int fd, short ev, void *arg)
{
	modem_urc_kick(arg);
}

/* The last client closed: clear what it left behind on the pty. */
static void
modem_client_gone(struct modem *m)
{
	struct termios	 t;

	if (m->slave == -1)
		return;
	if (ioctl(m->slave, TIOCNXCL) == -1)
		log_warn("sim: modem%d: TIOCNXCL", m->idx);
	tcflush(m->slave, TCIFLUSH);
	if (tcgetattr(m->slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(m->slave, TCSANOW, &t);
	}
	evbuffer_drain(m->out, evbuffer_get_length(m->out));
	m->linelen = 0;
	if (m->at == AT_PROMPT)
		at_set_state(m, AT_IDLE);
	log_debug("sim: modem%d: last client closed", m->idx);
}

/* inotify: clients opening and closing the slave ends. */
void
modem_inotify(int fd, short ev, void *arg)
{
	char			 buf[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ie;
	ssize_t			 n;
	char			*p;
	int			 i;
	struct modem		*m;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (p = buf; p < buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)p;
			m = NULL;
			for (i = 0; i < sim->nmodems; i++)
				if (sim->modems[i].wd == ie->wd &&
				    sim->modems[i].master != -1)
					m = &sim->modems[i];
			if (m == NULL)
				continue;
			if (ie->mask & IN_OPEN) {
				m->opens++;
				log_debug("sim: modem%d: opened (%d)", m->idx,
				    m->opens);
			}
			if (ie->mask & (IN_CLOSE_WRITE | IN_CLOSE_NOWRITE)) {
				if (m->opens > 0 && --m->opens == 0)
					modem_client_gone(m);
			}
		}
	}
}

int
modem_sim_capacity(const struct modem *m)
{
	return (m->nslots);
}

int
modem_sim_used(const struct modem *m)
{
	int	 i, n = 0;

	for (i = 0; i < m->nslots; i++)
		if (m->slots[i].used)
			n++;
	return (n);
}

/* Store a PDU in the first free slot; returns the 1-based index or -1. */
int
modem_sim_store(struct modem *m, const struct pdu_part *p, int stat)
{
	int	 i;

	if (m->fault.simfull)
		return (-1);
	for (i = 0; i < m->nslots; i++) {
		if (m->slots[i].used)
			continue;
		m->slots[i].used = 1;
		m->slots[i].stat = stat;
		m->slots[i].tpdu_len = p->tpdu_len;
		memcpy(m->slots[i].hex, p->hex, sizeof(m->slots[i].hex));
		return (i + 1);
	}
	return (-1);
}

/* A modem by index ("3") or MSISDN (any usual spelling). */
struct modem *
modem_find(const char *key)
{
	char	 norm[32], *ep;
	long	 n;
	int	 i;

	n = strtol(key, &ep, 10);
	if (*key != '\0' && *ep == '\0' && n >= 0 && n < sim->nmodems &&
	    strlen(key) < 6)
		return (&sim->modems[n]);
	smsc_norm(key, norm, sizeof(norm));
	for (i = 0; i < sim->nmodems; i++)
		if (strcmp(sim->modems[i].msisdn, norm) == 0)
			return (&sim->modems[i]);
	return (NULL);
}
