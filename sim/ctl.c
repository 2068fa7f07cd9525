/*
 * The control socket, RUNDIR/ctl.sock, and `tallysim ctl'.
 *
 * Protocol (docs/sim.md): the client sends one request line, words
 * separated by spaces, a word with spaces or quotes written as a
 * double-quoted string with \" \\ \n \t escapes.  The server answers
 * with data lines, then one final line, "OK" or "ERR <reason>", and
 * closes the connection.
 */

#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "central.h"
#include "fmt.h"
#include "log.h"
#include "sim.h"

#define CTL_LINE_MAX	8192
#define CTL_WORDS_MAX	64
#define CTL_CENTRAL_WAIT 20	/* seconds the oracle waits for the central */

/*
 * One request on the control socket.  Most are answered at once; one
 * that must ask another process (the oracle asks the central receiver)
 * is answered later, from the loop, which keeps serving the modems.
 */
struct ctl_req {
	TAILQ_ENTRY(ctl_req)	 entry;
	struct bufferevent	*bev;
	char			*line;		/* the words point into it */
	char			*w[CTL_WORDS_MAX];
	int			 argc;
	struct central_query	*query;		/* pending: waiting on it */
	char			 cdir[PATH_MAX];
};
TAILQ_HEAD(ctl_reqq, ctl_req);

struct ctl_cmd {
	const char	*name;
	/* answers at once: 0 OK, -1 ERR */
	int		(*fn)(int, char **, struct evbuffer *, char *, size_t);
	/* may answer later: 1 pending, 0 OK, -1 ERR */
	int		(*later)(struct ctl_req *, struct evbuffer *, char *,
			    size_t);
};

static struct ctl_reqq	ctl_pending = TAILQ_HEAD_INITIALIZER(ctl_pending);

static void	ctl_accept(int, short, void *);
static void	ctl_read(struct bufferevent *, void *);
static void	ctl_event(struct bufferevent *, short, void *);
static void	ctl_written(struct bufferevent *, void *);
static void	ctl_answer(struct ctl_req *, struct evbuffer *, int,
		    const char *);
static void	ctl_req_free(struct ctl_req *);
static int	ctl_split(char *, char **, int);
static void	ctl_time(time_t, char *, size_t);
static int	ctl_central(const char *, int, char **);

static int	ctl_inject(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_inject_pdu(int, char **, struct evbuffer *, char *,
		    size_t);
static int	ctl_inbox(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_modems(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_sim(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_stats(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_fault(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_timing(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_phones(int, char **, struct evbuffer *, char *, size_t);
static int	ctl_oracle(struct ctl_req *, struct evbuffer *, char *, size_t);
static void	ctl_oracle_central(int, const char *, struct evbuffer *,
		    void *);

static const struct ctl_cmd ctl_cmds[] = {
	{ "inject", ctl_inject, NULL },
	{ "inject-pdu", ctl_inject_pdu, NULL },
	{ "inbox", ctl_inbox, NULL },
	{ "modems", ctl_modems, NULL },
	{ "sim", ctl_sim, NULL },
	{ "stats", ctl_stats, NULL },
	{ "fault", ctl_fault, NULL },
	{ "timing", ctl_timing, NULL },
	{ "phones", ctl_phones, NULL },
	{ "scenario", play_ctl_scenario, NULL },
	{ "oracle", NULL, ctl_oracle },
};

int
ctl_listen(const char *path)
{
	struct sockaddr_un	 sun;
	int			 fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("sim: control socket path too long: %s", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1) {
		log_warn("sim: socket");
		return (-1);
	}
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1 ||
	    listen(fd, 64) == -1) {
		log_warn("sim: %s", path);
		close(fd);
		return (-1);
	}
	chmod(path, 0660);
	sim->ctl_fd = fd;
	sim->ev_ctl = event_new(sim->base, fd, EV_READ | EV_PERSIST,
	    ctl_accept, NULL);
	event_add(sim->ev_ctl, NULL);
	return (0);
}

void
ctl_close(void)
{
	static const char	 bye[] = "ERR the simulator is stopping\n";
	struct ctl_req		*req;

	/* Waiting clients get a last line; the socket takes it at once. */
	while ((req = TAILQ_FIRST(&ctl_pending)) != NULL) {
		TAILQ_REMOVE(&ctl_pending, req, entry);
		if (write(bufferevent_getfd(req->bev), bye, sizeof(bye) - 1) ==
		    -1)
			log_debug("sim: ctl: %s", strerror(errno));
		bufferevent_free(req->bev);
		ctl_req_free(req);
	}
	if (sim->ev_ctl == NULL)
		return;
	event_free(sim->ev_ctl);
	sim->ev_ctl = NULL;
	close(sim->ctl_fd);
	unlink(sim->ctl_path);
}

static void
ctl_accept(int fd, short ev, void *arg)
{
	struct bufferevent	*bev;
	int			 s;

	if ((s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) == -1)
		return;
	bev = bufferevent_socket_new(sim->base, s, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(s);
		return;
	}
	bufferevent_setcb(bev, ctl_read, NULL, ctl_event, NULL);
	bufferevent_enable(bev, EV_READ);
}

static void
ctl_event(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void
ctl_written(struct bufferevent *bev, void *arg)
{
	bufferevent_free(bev);
}

/* Split a request line into words; -1 on a broken quote. */
static int
ctl_split(char *s, char **w, int max)
{
	char	*o;
	int	 n = 0;

	while (*s != '\0') {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0')
			break;
		if (n == max)
			return (-1);
		w[n++] = o = s;
		if (*s != '"') {
			while (*s != '\0' && *s != ' ' && *s != '\t')
				s++;
			if (*s != '\0')
				*s++ = '\0';
			continue;
		}
		for (s++; *s != '"'; s++) {
			if (*s == '\0')
				return (-1);
			if (*s == '\\' && s[1] != '\0') {
				s++;
				*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
			} else
				*o++ = *s;
		}
		s++;
		*o = '\0';
	}
	return (n);
}

static void
ctl_req_free(struct ctl_req *req)
{
	central_query_cancel(req->query);
	free(req->line);
	free(req);
}

/* The data lines, then OK or ERR; the connection closes once sent. */
static void
ctl_answer(struct ctl_req *req, struct evbuffer *out, int rc,
    const char *err)
{
	struct bufferevent	*bev = req->bev;

	if (rc == 0)
		evbuffer_add_printf(out, "OK\n");
	else {
		evbuffer_add_printf(out, "ERR %s\n", err);
		log_info("sim: ctl %s: %s", req->argc > 0 ? req->w[0] : "?",
		    err);
	}
	bufferevent_write_buffer(bev, out);
	bufferevent_setcb(bev, NULL, ctl_written, ctl_event, NULL);
	ctl_req_free(req);
}

static void
ctl_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	struct evbuffer	*out;
	struct ctl_req	*req;
	char		 err[256];
	size_t		 len, i;
	int		 rc = -1;

	if (evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF).pos == -1) {
		if (evbuffer_get_length(in) > CTL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	if ((req = calloc(1, sizeof(*req))) == NULL ||
	    (out = evbuffer_new()) == NULL) {
		log_warn("sim: ctl");
		free(req);
		bufferevent_free(bev);
		return;
	}
	req->bev = bev;
	req->line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	bufferevent_disable(bev, EV_READ);
	snprintf(err, sizeof(err), "unknown command");
	if (req->line == NULL ||
	    (req->argc = ctl_split(req->line, req->w, CTL_WORDS_MAX)) <= 0)
		snprintf(err, sizeof(err), "bad request");
	else
		for (i = 0; i < sizeof(ctl_cmds) / sizeof(ctl_cmds[0]); i++) {
			if (strcmp(ctl_cmds[i].name, req->w[0]) != 0)
				continue;
			if (ctl_cmds[i].fn != NULL)
				rc = ctl_cmds[i].fn(req->argc, req->w, out,
				    err, sizeof(err));
			else
				rc = ctl_cmds[i].later(req, out, err,
				    sizeof(err));
			break;
		}
	if (rc == 1) {
		/* Nothing to read or write until the answer: no events. */
		bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
		TAILQ_INSERT_TAIL(&ctl_pending, req, entry);
	} else
		ctl_answer(req, out, rc, err);
	evbuffer_free(out);
}

/* The value after an option ("--from X"), or NULL. */
const char *
ctl_opt(int argc, char **argv, const char *name)
{
	int	 i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return (argv[i + 1]);
	return (NULL);
}

int
ctl_flag(int argc, char **argv, const char *name)
{
	int	 i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return (1);
	return (0);
}

/* ISO 8601, UTC. */
static void
ctl_time(time_t t, char *buf, size_t len)
{
	(void)fmt_iso(buf, len, t);
}

/* A JSON string: quotes, backslashes and control bytes escaped. */
void
ctl_json_str(struct evbuffer *b, const char *s)
{
	const unsigned char	*p;

	evbuffer_add(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			evbuffer_add(b, "\\\"", 2);
			break;
		case '\\':
			evbuffer_add(b, "\\\\", 2);
			break;
		case '\n':
			evbuffer_add(b, "\\n", 2);
			break;
		case '\r':
			evbuffer_add(b, "\\r", 2);
			break;
		case '\t':
			evbuffer_add(b, "\\t", 2);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				evbuffer_add_printf(b, "\\u%04x", *p);
			else
				evbuffer_add(b, p, 1);
			break;
		}
	}
	evbuffer_add(b, "\"", 1);
}

/* inject --from MSISDN --to MODEM TEXT */
static int
ctl_inject(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*from = ctl_opt(argc, argv, "--from");
	const char	*to = ctl_opt(argc, argv, "--to");
	struct modem	*m;
	char		 text[4096];
	int		 i, n = 0;
	size_t		 len = 0;

	text[0] = '\0';
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--from") == 0 ||
		    strcmp(argv[i], "--to") == 0) {
			i++;
			continue;
		}
		if (len + strlen(argv[i]) + 2 >= sizeof(text)) {
			snprintf(err, errlen, "text too long");
			return (-1);
		}
		len += snprintf(text + len, sizeof(text) - len, "%s%s",
		    len ? " " : "", argv[i]);
	}
	if (from == NULL || to == NULL) {
		snprintf(err, errlen, "usage: inject --from MSISDN --to MODEM "
		    "TEXT");
		return (-1);
	}
	if ((m = modem_find(to)) == NULL) {
		snprintf(err, errlen, "no modem %s", to);
		return (-1);
	}
	if (smsc_inject(from, m, text, &n) == -1) {
		snprintf(err, errlen, "cannot encode the text (too long?)");
		return (-1);
	}
	evbuffer_add_printf(out, "injected %d part%s for modem%d %s\n", n,
	    n == 1 ? "" : "s", m->idx, m->msisdn);
	return (0);
}

/* inject-pdu --to MODEM [--report] HEX: a raw PDU, SMSC part first. */
static int
ctl_inject_pdu(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*to = ctl_opt(argc, argv, "--to");
	const char	*hex = argc > 1 ? argv[argc - 1] : NULL;
	struct modem	*m;
	int		 tpdu;

	if (to == NULL || hex == NULL || hex == to || hex[0] == '-') {
		snprintf(err, errlen, "usage: inject-pdu --to MODEM [--report] "
		    "HEX");
		return (-1);
	}
	if ((m = modem_find(to)) == NULL) {
		snprintf(err, errlen, "no modem %s", to);
		return (-1);
	}
	if (smsc_inject_pdu(m, hex, ctl_flag(argc, argv, "--report"),
	    &tpdu) == -1) {
		snprintf(err, errlen, "not a PDU in hex of 2 to %d octets",
		    (PDU_HEX_MAX - 1) / 2);
		return (-1);
	}
	evbuffer_add_printf(out, "injected a PDU of %d TPDU octets for "
	    "modem%d %s\n", tpdu, m->idx, m->msisdn);
	return (0);
}

/* inbox --phone MSISDN: JSON lines. */
static int
ctl_inbox(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*num = ctl_opt(argc, argv, "--phone");
	struct phone	*p;
	struct inmsg	*im;
	char		 ts[32];

	if (num == NULL) {
		snprintf(err, errlen, "usage: inbox --phone MSISDN");
		return (-1);
	}
	if ((p = smsc_phone(num, 0)) == NULL)
		return (0);
	TAILQ_FOREACH(im, &p->inbox, entry) {
		ctl_time(im->time, ts, sizeof(ts));
		evbuffer_add_printf(out, "{\"from\":");
		ctl_json_str(out, im->from);
		evbuffer_add_printf(out, ",\"to\":");
		ctl_json_str(out, p->msisdn);
		evbuffer_add_printf(out, ",\"text\":");
		ctl_json_str(out, im->text);
		evbuffer_add_printf(out, ",\"time\":\"%s\",\"parts\":%d}\n",
		    ts, im->parts);
	}
	return (0);
}

static int
ctl_modems(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	struct modem	*m;
	uint64_t	 now = sim_now_us(), busy, prompt;
	int		 i, json = ctl_flag(argc, argv, "--json");

	for (i = 0; i < sim->nmodems; i++) {
		m = &sim->modems[i];
		busy = at_busy_us(m, now, &prompt);
		if (!json) {
			evbuffer_add_printf(out, "%-3d %-15s %-16s sim %d/%d "
			    "%s%s busy %.1f s\n", m->idx, m->msisdn,
			    m->op->name, modem_sim_used(m), m->nslots,
			    m->state == MODEM_UP ? "up" : "unplugged",
			    m->opens > 0 ? " open" : "", busy / 1e6);
			continue;
		}
		evbuffer_add_printf(out, "{\"index\":%d,\"msisdn\":\"%s\","
		    "\"operator\":", m->idx, m->msisdn);
		ctl_json_str(out, m->op->name);
		evbuffer_add_printf(out, ",\"sim_used\":%d,\"sim_capacity\":%d,"
		    "\"imsi\":\"%s\",\"imei\":\"%s\",\"balance\":%ld,"
		    "\"state\":\"%s\",\"open\":%s,\"device\":", modem_sim_used(m),
		    m->nslots, m->imsi, m->imei, m->balance,
		    m->state == MODEM_UP ? "up" : "unplugged",
		    m->opens > 0 ? "true" : "false");
		ctl_json_str(out, m->link);
		evbuffer_add_printf(out, ",\"sent\":%lu,\"received\":%lu,"
		    "\"busy_ms\":%.3f,\"prompt_ms\":%.3f,\"now_ms\":%.3f}\n",
		    m->st_sent, m->st_received, busy / 1e3, prompt / 1e3,
		    now / 1e3);
	}
	return (0);
}

static int
ctl_sim(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*key = ctl_opt(argc, argv, "--modem");
	struct modem	*m;
	struct pdu_msg	 msg;
	char		 ts[32];
	int		 i, json = ctl_flag(argc, argv, "--json");
	static const char *stats[] = { "unread", "read", "unsent", "sent" };

	if (key == NULL || (m = modem_find(key)) == NULL) {
		snprintf(err, errlen, "usage: sim --modem N|MSISDN [--json]");
		return (-1);
	}
	for (i = 0; i < m->nslots; i++) {
		if (!m->slots[i].used)
			continue;
		if (pdu_decode(m->slots[i].hex, 1, &msg) == -1) {
			memset(&msg, 0, sizeof(msg));
			snprintf(msg.text, sizeof(msg.text), "(undecodable)");
		}
		ctl_time(msg.time, ts, sizeof(ts));
		if (!json) {
			evbuffer_add_printf(out, "%-3d %-6s %-16s %s %s%s\n",
			    i + 1, stats[m->slots[i].stat & 3], msg.number, ts,
			    msg.type == PDU_STATUS_REPORT ? "[report] " : "",
			    msg.text);
			continue;
		}
		evbuffer_add_printf(out, "{\"index\":%d,\"stat\":\"%s\","
		    "\"type\":\"%s\",\"from\":", i + 1,
		    stats[m->slots[i].stat & 3],
		    msg.type == PDU_STATUS_REPORT ? "report" :
		    msg.type == PDU_SUBMIT ? "submit" : "deliver");
		ctl_json_str(out, msg.number);
		evbuffer_add_printf(out, ",\"text\":");
		ctl_json_str(out, msg.text);
		evbuffer_add_printf(out, ",\"time\":\"%s\",\"part\":%d,"
		    "\"parts\":%d,\"pdu\":\"%s\"}\n", ts,
		    msg.concat_ref == -1 ? 1 : msg.concat_part,
		    msg.concat_ref == -1 ? 1 : msg.concat_total,
		    m->slots[i].hex);
	}
	return (0);
}

static int
ctl_stats(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	struct delivery	*d;
	const struct timing *t = &sim->timing;
	unsigned long	 queued = 0, cmds = 0, errs = 0;
	uint64_t	 now = sim_now_us(), busy = 0, prompt = 0, p;
	int		 i, up = 0;

	TAILQ_FOREACH(d, &sim->queue, entry)
		queued++;
	for (i = 0; i < sim->nmodems; i++) {
		cmds += sim->modems[i].st_cmds;
		errs += sim->modems[i].st_errors;
		up += sim->modems[i].state == MODEM_UP;
		busy += at_busy_us(&sim->modems[i], now, &p);
		prompt += p;
	}
	if (ctl_flag(argc, argv, "--json")) {
		evbuffer_add_printf(out, "{\"modems\":%d,\"modems_up\":%d,"
		    "\"at_commands\":%lu,\"at_errors\":%lu,\"injected\":%lu,"
		    "\"submitted\":%lu,\"delivered_to_modems\":%lu,"
		    "\"delivered_to_phones\":%lu,\"status_reports\":%lu,"
		    "\"lost\":%lu,\"retries\":%lu,\"queued\":%lu,"
		    "\"profile\":\"%s\",\"scale\":%g,\"send_ms\":%d,"
		    "\"read_ms\":%d,\"delete_ms\":%d,\"deliver_ms\":%d,"
		    "\"daily_cap\":%d,\"busy_ms\":%.3f,\"prompt_ms\":%.3f,"
		    "\"now_ms\":%.3f}\n",
		    sim->nmodems, up, cmds, errs, sim->st_injected,
		    sim->st_submitted, sim->st_delivered, sim->st_to_phones,
		    sim->st_reports, sim->st_lost, sim->st_retries, queued,
		    t->profile == PROFILE_INSTANT ? "instant" : "realistic",
		    t->scale, t->send_ms, t->read_ms, t->delete_ms,
		    t->deliver_ms, t->daily_cap, busy / 1e3, prompt / 1e3,
		    now / 1e3);
		return (0);
	}
	evbuffer_add_printf(out, "modems %d (%d up)\nat commands %lu "
	    "(%lu errors)\ninjected %lu\nsubmitted %lu\n"
	    "delivered to modems %lu\ndelivered to phones %lu\n"
	    "status reports %lu\nlost %lu\nretries %lu\nqueued %lu\n"
	    "profile %s x%g\n", sim->nmodems, up, cmds, errs,
	    sim->st_injected, sim->st_submitted, sim->st_delivered,
	    sim->st_to_phones, sim->st_reports, sim->st_lost,
	    sim->st_retries, queued,
	    t->profile == PROFILE_INSTANT ? "instant" : "realistic",
	    t->scale);
	if (t->profile != PROFILE_INSTANT)
		evbuffer_add_printf(out, "delays send %d ms, read %d ms, "
		    "delete %d ms, deliver %d ms, each divided by %g\n"
		    "daily cap %d\n", t->send_ms, t->read_ms, t->delete_ms,
		    t->deliver_ms, t->scale, t->daily_cap);
	evbuffer_add_printf(out, "busy %.1f s (%.1f s at the prompt)\n",
	    busy / 1e6, prompt / 1e6);
	return (0);
}

/* phones [--json]: every phone the network knows and its inbox size. */
static int
ctl_phones(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	struct phone	*p;
	int		 json = ctl_flag(argc, argv, "--json");

	TAILQ_FOREACH(p, &sim->phones, entry) {
		if (json)
			evbuffer_add_printf(out, "{\"msisdn\":\"%s\","
			    "\"received\":%lu}\n", p->msisdn, p->received);
		else
			evbuffer_add_printf(out, "%s %lu\n", p->msisdn,
			    p->received);
	}
	return (0);
}

/* fault --modem N KIND [ARGS] | fault --net KIND [ARGS] */
static int
ctl_fault(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*key = ctl_opt(argc, argv, "--modem");
	struct modem	*m;
	int		 i;

	if (argc >= 3 && strcmp(argv[1], "--net") == 0)
		return (fault_net(argv[2], argc - 3, argv + 3, err, errlen));
	if (argc >= 3 && strcmp(argv[1], "--random") == 0)
		return (fault_net("random", argc - 2, argv + 2, err, errlen));
	if (key == NULL || argc < 4 || strcmp(argv[1], "--modem") != 0) {
		snprintf(err, errlen, "usage: fault --modem N KIND [ARGS] | "
		    "fault --net KIND [ARGS]");
		return (-1);
	}
	if (strcmp(key, "all") == 0) {
		for (i = 0; i < sim->nmodems; i++)
			if (fault_apply(&sim->modems[i], argv[3], argc - 4,
			    argv + 4, err, errlen) == -1)
				return (-1);
		return (0);
	}
	if ((m = modem_find(key)) == NULL) {
		snprintf(err, errlen, "no modem %s", key);
		return (-1);
	}
	return (fault_apply(m, argv[3], argc - 4, argv + 4, err, errlen));
}

static int
ctl_timing(int argc, char **argv, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*prof = ctl_opt(argc, argv, "--profile");
	const char	*scale = ctl_opt(argc, argv, "--scale");
	const char	*cap = ctl_opt(argc, argv, "--daily-cap");
	double		 x = scale ? strtod(scale, NULL) : sim->timing.scale;
	long		 n = -1;
	char		*ep = NULL;

	if (prof == NULL)
		prof = sim->timing.profile == PROFILE_INSTANT ? "instant" :
		    "realistic";
	if (cap != NULL)
		n = strtol(cap, &ep, 10);
	if (x <= 0 || (cap != NULL && (*ep != '\0' || ep == cap || n < 0 ||
	    n > INT_MAX)) || fault_timing_set(prof, x) == -1) {
		snprintf(err, errlen, "usage: timing --profile "
		    "instant|realistic [--scale X>0] [--daily-cap N]");
		return (-1);
	}
	if (n >= 0)
		sim->timing.daily_cap = (int)n;
	evbuffer_add_printf(out, "profile %s x%g\n", prof, x);
	return (0);
}

/*
 * oracle [--json] [--central-dir DIR]: the central receiver is asked
 * for its records without blocking the loop (it may be slow, stopped,
 * or busy with the gateway's forwards); the judging waits for them.
 */
static int
ctl_oracle(struct ctl_req *req, struct evbuffer *out, char *err,
    size_t errlen)
{
	const char	*cdir;

	if (play_oracle_ready(err, errlen) == -1)
		return (-1);
	if ((cdir = ctl_opt(req->argc, req->w, "--central-dir")) == NULL)
		cdir = sim->dir;
	if ((size_t)snprintf(req->cdir, sizeof(req->cdir), "%s", cdir) >=
	    sizeof(req->cdir)) {
		snprintf(err, errlen, "--central-dir: path too long");
		return (-1);
	}
	req->query = central_query(sim->base, req->cdir, "dump --json",
	    CTL_CENTRAL_WAIT, ctl_oracle_central, req);
	if (req->query != NULL)
		return (1);
	/* No receiver runs there: it holds nothing. */
	if (errno == ENOENT || errno == ECONNREFUSED)
		return (play_oracle(req->argc, req->w, NULL, req->cdir, out,
		    err, errlen));
	snprintf(err, errlen, "central receiver in %.120s: %s", req->cdir,
	    strerror(errno));
	return (-1);
}

/* The central receiver answered (or failed to): judge, then answer. */
static void
ctl_oracle_central(int rc, const char *why, struct evbuffer *answer,
    void *arg)
{
	struct ctl_req	*req = arg;
	struct evbuffer	*out;
	char		 err[256];
	unsigned char	*p;
	size_t		 len = evbuffer_get_length(answer);
	FILE		*f = NULL;

	req->query = NULL;	/* freed by central.c after this */
	TAILQ_REMOVE(&ctl_pending, req, entry);
	if ((out = evbuffer_new()) == NULL) {
		log_warn("sim: ctl oracle");
		bufferevent_free(req->bev);
		ctl_req_free(req);
		return;
	}
	if (rc == -1)
		snprintf(err, sizeof(err), "central receiver in %.100s: %.120s",
		    req->cdir, why);
	else if ((f = tmpfile()) == NULL ||
	    (len > 0 && ((p = evbuffer_pullup(answer, -1)) == NULL ||
	    fwrite(p, 1, len, f) != len))) {
		snprintf(err, sizeof(err), "central receiver's records: %s",
		    strerror(errno));
		rc = -1;
	} else {
		rewind(f);
		rc = play_oracle(req->argc, req->w, f, req->cdir, out, err,
		    sizeof(err));
	}
	if (f != NULL)
		fclose(f);
	ctl_answer(req, out, rc, err);
	evbuffer_free(out);
}

/* --- the client: tallysim ctl --dir RUNDIR ... --------------------- */

/*
 * central [--json|--table]: what the central receiver running in
 * RUNDIR holds.  It has its own socket (RUNDIR/central.sock), so the
 * client asks it directly; the simulator need not be running.
 */
static int
ctl_central(const char *dir, int argc, char **argv)
{
	const char	*line = "dump --json";
	int		 i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			line = "dump --json";
		else if (strcmp(argv[i], "--table") == 0)
			line = "dump";
		else {
			fprintf(stderr, "tallysim: usage: ctl --dir RUNDIR "
			    "central [--json|--table]\n");
			return (1);
		}
	}
	if (central_ctl(dir, line, stdout) == -1) {
		fprintf(stderr, "tallysim: no central receiver answers in "
		    "%s\n", dir);
		return (1);
	}
	return (0);
}

int
ctl_client(const char *dir, int argc, char **argv)
{
	struct sockaddr_un	 sun;
	struct timeval		 tv = { 30, 0 };
	char			*req = NULL, *resp = NULL, *last, *p;
	size_t			 reqlen = 0, resplen = 0;
	FILE			*f;
	char			 buf[4096];
	ssize_t			 n;
	int			 fd, i;

	if (argc >= 1 && strcmp(argv[0], "central") == 0)
		return (ctl_central(dir, argc, argv));
	if (argc >= 1 && strcmp(argv[0], "ussd") == 0)
		return (aggr_ctl(dir, argc, argv));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path),
	    "%s/ctl.sock", dir) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "tallysim: %s: path too long\n", dir);
		return (1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "tallysim: %s: %s\n", sun.sun_path,
		    strerror(errno));
		return (1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if ((f = open_memstream(&req, &reqlen)) == NULL)
		return (1);
	for (i = 0; i < argc; i++) {
		fputs(i ? " \"" : "\"", f);
		for (p = argv[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				fputc('\\', f);
			if (*p == '\n')
				fputs("\\n", f);
			else
				fputc(*p, f);
		}
		fputc('"', f);
	}
	fputc('\n', f);
	fclose(f);
	if (write(fd, req, reqlen) != (ssize_t)reqlen) {
		fprintf(stderr, "tallysim: write: %s\n", strerror(errno));
		return (1);
	}
	free(req);
	if ((f = open_memstream(&resp, &resplen)) == NULL)
		return (1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, f);
	fclose(f);
	close(fd);
	if (n == -1) {
		fprintf(stderr, "tallysim: no answer from %s\n", sun.sun_path);
		return (1);
	}
	/* The last line is the status. */
	if (resplen > 0 && resp[resplen - 1] == '\n')
		resp[--resplen] = '\0';
	last = strrchr(resp, '\n');
	if (last == NULL) {
		last = resp;
	} else {
		*last++ = '\0';
		printf("%s\n", resp);
	}
	if (strcmp(last, "OK") == 0) {
		free(resp);
		return (0);
	}
	fprintf(stderr, "tallysim: %s\n", strncmp(last, "ERR ", 4) == 0 ?
	    last + 4 : "bad answer");
	free(resp);
	return (1);
}
