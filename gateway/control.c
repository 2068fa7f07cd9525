/*
 * control: the operator's socket (STATE/tallygw.sock). One request line
 * per connection; the answer is zero or more lines, then "OK" or
 * "ERR reason". tallyctl speaks it (docs/tallygw.md).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "log.h"
#include "daemon.h"

#define CONTROL_LINE_MAX	1024

static struct evconnlistener	*control_lev;
static char			 control_path[PATH_MAX];

static void
control_stats(struct evbuffer *out)
{
	struct store_counts	 c;
	struct modem		*m;
	int			 ready, total, capped = 0;

	if (store_counts(gw->store, &c) == -1) {
		evbuffer_add_printf(out, "ERR store error\n");
		return;
	}
	bank_count(&ready, &total);
	/* Modems that may send no more today: replies wait for the others. */
	TAILQ_FOREACH(m, &gw->modems, entry)
		if (!m->removed && m->conf.send_cap > 0 &&
		    m->sent_today >= m->conf.send_cap)
			capped++;
	evbuffer_add_printf(out, "received %ld reports %ld ok %ld flagged %ld "
	    "duplicate %ld rejected %ld other %ld confirmed %ld "
	    "delivered %ld replies_queued %ld reply_failed %ld forwarded %ld "
	    "forward_pending %ld forward_failed %ld modems_ready %d/%d "
	    "parts_pending %zu modems_capped %d\nOK\n", c.msgs, c.reports,
	    c.ok, c.flagged, c.duplicate, c.rejected, c.other, c.out_sent + c.out_delivered,
	    c.out_delivered, c.out_queued + c.out_sending, c.out_failed,
	    c.fwd_acked, c.fwd_pending + c.fwd_sending + c.forward_retry,
	    c.fwd_failed, ready, total, parts_pending(gw->parts), capped);
}

static void
control_modems(struct evbuffer *out)
{
	struct modem	*m;

	TAILQ_FOREACH(m, &gw->modems, entry) {
		if (m->removed)
			continue;
		evbuffer_add_printf(out, "%s %s %s %s/%s signal %d reg %d "
		    "sim %d/%d sent %ld today %d cap %d failed %ld received %ld "
		    "balance %ld restarts %d errors %d hold %lld device %s\n",
		    m->conf.name, m->conf.number[0] ? m->conf.number : "-",
		    m->conf.oper[0] ? m->conf.oper : (m->oper[0] ? m->oper :
		    "-"), bank_state_name(m->state),
		    wire_state_name(m->wstate), m->signal, m->reg, m->sim_used,
		    m->sim_total, m->sent, m->sent_today, m->conf.send_cap,
		    m->send_failed, m->received, m->balance, m->restarts,
		    m->errors, m->send_hold > time(NULL) ?
		    (long long)(m->send_hold - time(NULL)) : 0LL,
		    m->conf.device);
	}
	evbuffer_add_printf(out, "OK\n");
}

/* A stored text on one line: control characters and '\\' escaped. */
static void
control_text(struct evbuffer *out, const char *s)
{
	const unsigned char	*p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(out, "\\\\", 2);
		else if (*p == '\n')
			evbuffer_add(out, "\\n", 2);
		else if (*p == '\r')
			evbuffer_add(out, "\\r", 2);
		else if (*p == '\t')
			evbuffer_add(out, "\\t", 2);
		else if (*p < 0x20 || *p == 0x7f)
			evbuffer_add_printf(out, "\\x%02x", *p);
		else
			evbuffer_add(out, p, 1);
	}
}

/* "KEY: TEXT" on one line, the text escaped. */
static void
control_line(struct evbuffer *out, const char *key, const char *text)
{
	evbuffer_add_printf(out, "%s: ", key);
	control_text(out, text);
	evbuffer_add(out, "\n", 1);
}

/* Unix seconds as the ISO 8601 UTC time the store's messages use. */
static const char *
control_time(time_t t, char *buf, size_t len)
{
	struct tm	 tm;

	if (t <= 0 || gmtime_r(&t, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "-");
	return (buf);
}

/* What became of one reply: the SMS that carries it, fact by fact. */
static void
control_msg_reply(struct evbuffer *out, const struct store_msg_reply *mr)
{
	const struct store_out	*o = &mr->out;
	char			 t[GW_ISO_MAX];

	if (o->id == 0) {
		evbuffer_add_printf(out, "reply: to %s, not in an SMS yet "
		    "(owed since %s)\n", mr->reply.dest,
		    control_time(mr->reply.created, t, sizeof(t)));
		control_line(out, "reply text", mr->reply.text);
		return;
	}
	evbuffer_add_printf(out, "reply: sms %lld to %s\n", (long long)o->id,
	    o->dest);
	control_line(out, "reply text", o->text);
	if (mr->shared[0] != '\0')
		evbuffer_add_printf(out, "reply shared with: msg %s\n",
		    mr->shared);
	evbuffer_add_printf(out, "reply state: %s\n",
	    store_out_state_name(o->state));
	evbuffer_add_printf(out, "reply modem: %s", o->modem[0] ? o->modem :
	    "none yet");
	if (o->prefer[0] != '\0')
		evbuffer_add_printf(out, " (came in on %s)", o->prefer);
	evbuffer_add_printf(out, "\nreply attempts: %d\n", o->attempts);
	evbuffer_add_printf(out, "reply queued at: %s\n",
	    control_time(o->created, t, sizeof(t)));
	if (o->state == OUT_QUEUED && o->next_at > time(NULL))
		evbuffer_add_printf(out, "reply next try: %s\n",
		    control_time(o->next_at, t, sizeof(t)));
	if (o->sent_at > 0) {
		evbuffer_add_printf(out, "reply sent at: %s (msgref %d)\n",
		    control_time(o->sent_at, t, sizeof(t)), o->msgref);
		if (o->state == OUT_DELIVERED)
			evbuffer_add_printf(out, "reply status report: "
			    "delivered at %s\n", control_time(o->delivered_at,
			    t, sizeof(t)));
		else if (o->state == OUT_FAILED)
			control_line(out, "reply status report", o->error);
		else
			evbuffer_add_printf(out, "reply status report: "
			    "none yet\n");
	}
	if (o->error[0] != '\0' && !(o->state == OUT_FAILED && o->sent_at > 0))
		control_line(out, "reply last error", o->error);
}

/* One forward row: "forward CENTRAL ...: ..." lines. */
static void
control_msg_forward(struct evbuffer *out, const struct store_fwd *f)
{
	char	 t[GW_ISO_MAX], key[GW_MODEM_NAME_MAX + 32];

	evbuffer_add_printf(out, "forward %s: %s\n", f->central,
	    store_fwd_state_name(f->state));
	evbuffer_add_printf(out, "forward %s attempts: %d\n", f->central,
	    f->attempts);
	if (f->http_status != 0)
		evbuffer_add_printf(out, "forward %s http status: %d\n",
		    f->central, f->http_status);
	if (f->error[0] != '\0') {
		snprintf(key, sizeof(key), "forward %s last error", f->central);
		control_line(out, key, f->error);
	}
	control_time(f->updated, t, sizeof(t));
	switch (f->state) {
	case FWD_ACKED:
		evbuffer_add_printf(out, "forward %s acked at: %s\n",
		    f->central, t);
		break;
	case FWD_FAILED:
		evbuffer_add_printf(out, "forward %s refused at: %s\n",
		    f->central, t);
		break;
	case FWD_RETRY_WAIT:
		evbuffer_add_printf(out, "forward %s next try: %s\n",
		    f->central, control_time(f->next_at, t, sizeof(t)));
		break;
	case FWD_SENDING:
		evbuffer_add_printf(out, "forward %s sending since: %s\n",
		    f->central, t);
		break;
	case FWD_PENDING:
		evbuffer_add_printf(out, "forward %s queued at: %s\n",
		    f->central, t);
		break;
	}
}

#define CONTROL_MSG_ROWS	16	/* replies or forwards shown */

static void
control_msg(struct evbuffer *out, const char *arg)
{
	struct store_msg	*msg;
	struct store_msg_reply	*mr = NULL;
	struct store_fwd	*fw = NULL;
	char			*end;
	long long		 id;
	size_t			 nr, nf, i;
	int			 r;

	id = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || id <= 0) {
		evbuffer_add_printf(out, "ERR usage: msg ID\n");
		return;
	}
	if ((msg = calloc(1, sizeof(*msg))) == NULL ||
	    (mr = calloc(CONTROL_MSG_ROWS, sizeof(*mr))) == NULL ||
	    (fw = calloc(CONTROL_MSG_ROWS, sizeof(*fw))) == NULL) {
		evbuffer_add_printf(out, "ERR out of memory\n");
		goto done;
	}
	if ((r = store_msg_get(gw->store, id, msg)) != 1) {
		evbuffer_add_printf(out, "ERR %s\n", r == 0 ? "no such message" :
		    "store error");
		goto done;
	}
	if (store_msg_replies(gw->store, id, mr, CONTROL_MSG_ROWS,
	    &nr) == -1 || store_msg_forwards(gw->store, id, fw,
	    CONTROL_MSG_ROWS, &nf) == -1) {
		evbuffer_add_printf(out, "ERR store error\n");
		goto done;
	}
	evbuffer_add_printf(out, "msg %lld from %s on %s at %s (%d part%s)\n",
	    id, msg->sender, msg->modem, msg->received_at, msg->parts,
	    msg->parts == 1 ? "" : "s");
	control_line(out, "text", msg->raw);
	evbuffer_add_printf(out, "kind: %s\n", store_kind_name(msg->kind));
	if (msg->kind == MSG_REPORT)
		evbuffer_add_printf(out, "verdict: %s\nreceipt: %s\n",
		    verify_verdict_name(msg->verdict),
		    msg->receipt[0] ? msg->receipt : "-");
	control_line(out, "detail", msg->detail);
	if (nr == 0)
		evbuffer_add_printf(out, "reply: none%s\n",
		    msg->kind == MSG_RATE ? " (over the sender's rate limit)" :
		    "");
	for (i = 0; i < nr; i++)
		control_msg_reply(out, &mr[i]);
	if (nf == 0)
		evbuffer_add_printf(out, "forward: none%s\n",
		    msg->kind == MSG_REPORT && (msg->verdict == VERDICT_OK ||
		    msg->verdict == VERDICT_FLAGGED) ? "" :
		    " (only accepted reports are forwarded)");
	for (i = 0; i < nf; i++)
		control_msg_forward(out, &fw[i]);
	evbuffer_add_printf(out, "OK\n");
done:
	free(msg);
	free(mr);
	free(fw);
}

/* One request: split off the command word and answer it. */
static void
control_request(char *line, struct evbuffer *out)
{
	char	*cmd, *arg, *arg2, err[256];

	cmd = strtok(line, " \t");
	arg = strtok(NULL, " \t");
	arg2 = strtok(NULL, " \t");
	if (cmd == NULL) {
		evbuffer_add_printf(out, "ERR empty request\n");
		return;
	}
	if (strcmp(cmd, "stats") == 0 || strcmp(cmd, "status") == 0)
		control_stats(out);
	else if (strcmp(cmd, "modems") == 0)
		control_modems(out);
	else if (strcmp(cmd, "msg") == 0)
		control_msg(out, arg ? arg : "");
	else if (strcmp(cmd, "modem") == 0 && arg != NULL && arg2 != NULL &&
	    (strcmp(arg, "enable") == 0 || strcmp(arg, "disable") == 0)) {
		if (bank_enable(arg2, strcmp(arg, "enable") == 0, err,
		    sizeof(err)) == -1)
			evbuffer_add_printf(out, "ERR %s\n", err);
		else {
			log_info("control: modem %s %sd by the operator", arg2,
			    arg);
			evbuffer_add_printf(out, "OK\n");
		}
	} else if (strcmp(cmd, "reload") == 0) {
		raise(SIGHUP);
		evbuffer_add_printf(out, "OK\n");
	} else if (strcmp(cmd, "sweep") == 0) {
		bank_sweep_all();
		evbuffer_add_printf(out, "OK\n");
	} else
		evbuffer_add_printf(out, "ERR unknown command %s: stats, "
		    "modems, modem enable|disable NAME, msg ID, sweep, "
		    "reload\n", cmd);
}

static void
control_writecb(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_free(bev);
}

static void
control_eventcb(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void
control_readcb(struct bufferevent *bev, void *arg)
{
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 n;

	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) == NULL) {
		if (evbuffer_get_length(in) > CONTROL_LINE_MAX)
			bufferevent_free(bev);
		return;
	}
	bufferevent_disable(bev, EV_READ);
	control_request(line, bufferevent_get_output(bev));
	free(line);
	bufferevent_setcb(bev, NULL, control_writecb, control_eventcb, NULL);
}

static void
control_acceptcb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int len, void *arg)
{
	struct bufferevent	*bev;

	bev = bufferevent_socket_new(gw->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, control_readcb, NULL, control_eventcb, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

int
control_start(const char *path)
{
	struct sockaddr_un	 sun;
	mode_t			 old;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		log_warnx("control: socket path too long: %s", path);
		return (-1);
	}
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	snprintf(control_path, sizeof(control_path), "%s", path);
	unlink(path);
	old = umask(0117);
	control_lev = evconnlistener_new_bind(gw->base, control_acceptcb, NULL,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (control_lev == NULL) {
		log_warn("control: %s", path);
		return (-1);
	}
	return (0);
}

void
control_stop(void)
{
	if (control_lev != NULL) {
		evconnlistener_free(control_lev);
		control_lev = NULL;
		unlink(control_path);
	}
}
