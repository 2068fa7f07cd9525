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
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/listener.h>

#include "log.h"
#include "tallygw.h"

#define CONTROL_LINE_MAX	1024

static struct evconnlistener	*control_lev;
static char			 control_path[PATH_MAX];

static void
control_stats(struct evbuffer *out)
{
	struct store_counts	 c;
	int			 ready, total;

	if (store_counts(gw->store, &c) == -1) {
		evbuffer_add_printf(out, "ERR store error\n");
		return;
	}
	bank_count(&ready, &total);
	evbuffer_add_printf(out, "received %ld reports %ld ok %ld flagged %ld "
	    "duplicate %ld rejected %ld other %ld confirmed %ld "
	    "delivered %ld replies_queued %ld reply_failed %ld forwarded %ld "
	    "forward_pending %ld forward_failed %ld modems_ready %d/%d "
	    "parts_pending %zu\nOK\n", c.msgs, c.reports, c.ok, c.flagged,
	    c.duplicate, c.rejected, c.other, c.out_sent + c.out_delivered,
	    c.out_delivered, c.out_queued + c.out_sending, c.out_failed,
	    c.fwd_acked, c.fwd_pending + c.fwd_sending + c.fwd_retry,
	    c.fwd_failed, ready, total, parts_pending(gw->parts));
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
		    "balance %ld restarts %d errors %d device %s\n",
		    m->conf.name, m->conf.number[0] ? m->conf.number : "-",
		    m->conf.oper[0] ? m->conf.oper : (m->oper[0] ? m->oper :
		    "-"), bank_state_name(m->state),
		    wire_state_name(m->wstate), m->signal, m->reg, m->sim_used,
		    m->sim_total, m->sent, m->sent_today, m->conf.send_cap,
		    m->send_failed, m->received, m->balance, m->restarts,
		    m->errors, m->conf.device);
	}
	evbuffer_add_printf(out, "OK\n");
}

static void
control_msg(struct evbuffer *out, const char *arg)
{
	struct store_msg	*msg;
	char			*end;
	long long		 id;
	int			 r;

	id = strtoll(arg, &end, 10);
	if (*arg == '\0' || *end != '\0' || id <= 0) {
		evbuffer_add_printf(out, "ERR usage: msg ID\n");
		return;
	}
	if ((msg = calloc(1, sizeof(*msg))) == NULL) {
		evbuffer_add_printf(out, "ERR out of memory\n");
		return;
	}
	if ((r = store_msg_get(gw->store, id, msg)) != 1) {
		evbuffer_add_printf(out, "ERR %s\n", r == 0 ? "no such message" :
		    "store error");
		free(msg);
		return;
	}
	evbuffer_add_printf(out, "msg %lld from %s on %s at %s (%d part%s)\n"
	    "text: %s\nkind: %s\n", id, msg->sender, msg->modem,
	    msg->received_at, msg->parts, msg->parts == 1 ? "" : "s", msg->raw,
	    store_kind_name(msg->kind));
	if (msg->kind == MSG_REPORT)
		evbuffer_add_printf(out, "verdict: %s\nreceipt: %s\n",
		    verify_verdict_name(msg->verdict),
		    msg->receipt[0] ? msg->receipt : "-");
	evbuffer_add_printf(out, "detail: %s\nOK\n", msg->detail);
	free(msg);
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
