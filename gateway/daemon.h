/*
 * daemon.h: the daemon's own parts (main loop, modem bank, outbox,
 * control socket). Only the daemon's files include it.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <event2/bufferevent.h>

#include "gw.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

/* The supervisor's view of one modem worker (bank.c). */
enum bank_state {
	BANK_OFF = 0,		/* disabled, no worker */
	BANK_RUNNING,		/* a worker process runs */
	BANK_WAIT,		/* worker died; restart after backoff */
	BANK_STOPPING,		/* SHUTDOWN sent; waiting for it to exit */
};

struct modem {
	TAILQ_ENTRY(modem)	 entry;
	struct conf_modem	 conf;
	enum bank_state		 state;
	int			 wstate;	/* enum modem_state reported */
	int			 ever_ready;
	pid_t			 pid;
	struct bufferevent	*bev;
	struct event		*ev_restart;
	struct event		*ev_sweep;
	time_t			 last_frame;
	time_t			 started;
	time_t			 stop_at;	/* SHUTDOWN sent */
	int			 restarts;	/* since the last stable run */
	int			 backoff;	/* s, next restart delay */
	int			 removed;	/* gone from the config */
	/* outgoing */
	int64_t			 out_id;	/* SEND in flight, 0 none */
	time_t			 out_deadline;
	int			 sent_today;
	int			 sent_day;	/* WIB day number of sent_today */
	int			 send_fails;	/* refused sends in a row */
	time_t			 send_hold;	/* no sends before this */
	/* health, as the worker last told */
	int			 signal;
	int			 reg;
	char			 oper[GW_OPER_MAX];
	int			 sim_used;
	int			 sim_total;
	int			 errors;
	long			 balance;	/* rupiah, -1 unknown */
	char			 balance_text[WIRE_INFO_MAX];
	char			 info[WIRE_INFO_MAX];	/* model etc. */
	time_t			 balance_at;
	/* counters */
	long			 received;
	long			 sent;
	long			 send_failed;
};
TAILQ_HEAD(modems, modem);

struct kpps;

/* The daemon: everything the loop owns. */
struct gw {
	struct gw_conf		 conf;
	struct event_base	*base;
	struct store		*store;
	struct election		*election;
	struct registry		*registry;
	struct lockout		*lockout;
	struct key		 key;
	uint8_t			 sk[64];
	struct verify_ctx	 vctx;
	struct parts		*parts;
	struct fwd_queue	*fwdq;
	struct kpps		*kpps;
	struct modems		 modems;
	enum reply_lang		 lang;
	char			 self[PATH_MAX];	/* our binary */
	int			 ready_said;
	int			 stopping;
	struct event		*ev_tick;
	/* rate limiting: sender → recent message times */
	struct rate		*rate;
};

extern struct gw	*gw;

/* tallygw.c: the pipeline's decisions */
void		 gw_on_sms(struct modem *, const struct wire_msg *);
void		 gw_on_status_report(struct modem *, const struct wire_msg *);
void		 gw_on_send_result(struct modem *, const struct wire_msg *);
void		 gw_on_modem_ready(struct modem *);
void		 gw_on_modem_lost(struct modem *);
void		 gw_on_delete_result(struct modem *, int, int);
void		 gw_check_ready(void);

/* bank.c: the modem workers */
int		 bank_start(void);
void		 bank_stop(void);
int		 bank_reload(const struct gw_conf *, char *, size_t);
int		 bank_enable(const char *, int, char *, size_t);
struct modem	*bank_find(const char *);
struct modem	*bank_pick(const char *, const char *);
int		 bank_send(struct modem *, int64_t, const char *,
		    const char *, int);
int		 bank_delete(struct modem *, int);
void		 bank_sweep_all(void);
void		 bank_reap(void);
void		 bank_tick(time_t);
int		 bank_all_ready(void);
int		 bank_count(int *, int *);
const char	*bank_state_name(enum bank_state);

/* outbox.c: replies through the modems (queued → sending → sent →
 * delivered | failed) */
void		 outbox_kick(void);
void		 outbox_run(time_t);
void		 outbox_result(struct modem *, int64_t, int, int,
		    const char *);
void		 outbox_report(struct modem *, int, int);
void		 outbox_lost(struct modem *);

/* control.c: the operator's socket */
int		 control_start(const char *);
void		 control_stop(void);

#endif /* DAEMON_H */
