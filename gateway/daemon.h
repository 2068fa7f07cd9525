/*
 * daemon.h: the daemon's processes and loop: the state the loop owns
 * (daemon.c), the modem bank (bank.c), the intake (sms.c, receive.c),
 * the outbox and the control socket. Only the daemon's files include
 * it; the stages it uses are in gw.h.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <sys/queue.h>
#include <sys/types.h>

#include <event2/event.h>
#include <event2/bufferevent.h>

#include "gw.h"

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
	/* out_id's result, not yet committed (disk full): kept, retried */
	int			 out_unsaved;
	int			 out_code;
	int			 out_msgref;
	int			 out_counted;	/* outbox_hold's answer */
	char			 out_err[GW_DETAIL_MAX];
	int			 settling;	/* gone; journal not read */
	time_t			 settle_by;	/* then read it anyway */
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
	time_t			 balance_at;	/* last asked */
	time_t			 balance_answer_at;	/* last answered */
	unsigned		 balance_answers;	/* answers so far */
	char			 last_error[GW_DETAIL_MAX];
	time_t			 last_error_at;
	/* counters */
	long			 received;
	long			 sent;
	long			 send_failed;
};
TAILQ_HEAD(modems, modem);

/* The daemon: everything the loop owns (defined in daemon.c). */
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
};

extern struct gw	*gw;

/*
 * bank.c: the modem workers, transport and supervision only. What a
 * worker reports reaches the rest of the daemon through this table,
 * registered at bank_start: bank.c calls no other file of the daemon.
 */
struct bank_events {
	void	(*ready)(struct modem *);	/* worker says READY */
	void	(*lost)(struct modem *);	/* worker broken, gone, stopping */
	void	(*sms)(struct modem *, const struct wire_msg *);
	void	(*deleted)(struct modem *, int, int, const char *);
						/* location, code, identity */
	void	(*send_result)(struct modem *, int64_t, int, int,
		    const char *);		/* id, code, msgref, error */
	void	(*status_report)(struct modem *, int, int); /* msgref, st */
	void	(*child)(pid_t, int);	/* another child ended: pid, status */
	void	(*recovered)(struct modem *, int64_t, int,
		    const char *);	/* journal of a gone worker: id,
					 * msgref, number */
};

int		 bank_start(const struct bank_events *);
void		 bank_stop(void);
int		 bank_reload(const struct gw_conf *, char *, size_t);
int		 bank_enable(const char *, int, char *, size_t);
int		 bank_reconnect(const char *, char *, size_t);
int		 bank_balance_ask(const char *, char *, size_t);
void		 bank_error(struct modem *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
struct modem	*bank_find(const char *);
struct modem	*bank_pick(const char *, const char *);
int		 bank_elsewhere(const struct modem *, time_t);
int		 bank_send(struct modem *, int64_t, const char *,
		    const char *, int);
int		 bank_delete(struct modem *, int, const char *,
		    const char *);
void		 bank_sweep_all(void);
void		 bank_reap(void);
void		 bank_tick(time_t);
int		 bank_all_ready(void);
int		 bank_count(int *, int *);
const char	*bank_state_name(enum bank_state);

/* spawn.c: starts the workers, through the zygote (tallygw-modem -Z) */
pid_t		 spawn_worker(const char *, char *const [], int);
int		 spawn_reaped(pid_t, int);
void		 spawn_stop(void);

/* receive.c: the one intake stage of every channel */
enum channel {
	CHANNEL_SMS = 1,
	CHANNEL_USSD,
};

/* What the stage decided, for the channel to act on after the commit. */
struct received {
	int64_t		 id;		/* the message's id in the store */
	enum msg_kind	 kind;
	enum verdict	 verdict;	/* MSG_REPORT only */
	char		 receipt[TALLY_CODE_LEN + 1];
	char		 reply[REPLY_TEXT_MAX];	/* the answer, "" none */
	char		 screen[REPLY_MAX + 1];	/* it in one SMS, "" none */
};

/* One whole inbound message, whatever its channel. */
struct inbound {
	enum channel	 channel;
	const char	*sender;	/* the phone, as the network says */
	const char	*text;		/* UTF-8, reassembled */
	time_t		 arrived;
	const char	*via;		/* modem name (stored as the message's) */
	const char	*via_number;	/* our number it came to, "" unknown */
	const char	*ref;		/* channel reference: SMSC time, ... */
	int		 parts;		/* SMS parts; 1 for other channels */
	const char	*undecodable;	/* why text is a raw PDU in hex, or
					 * NULL (docs/modem.md, "Poison
					 * messages") */
	/* the channel's own rows, written in the message's transaction:
	 * they see what was decided (the id and the answer) before it is
	 * committed */
	int		(*rows)(void *, const struct received *);
	void		*arg;
};

/* A message's life up to its commit (then: outbox and forward). */
enum msg_state {
	MSG_RECEIVED = 0,	/* whole, from its channel */
	MSG_CLASSIFIED,		/* report, CEK, BANTU, other, over rate */
	MSG_VERIFIED,		/* verdict, flags and answer decided */
	MSG_COMMITTED,		/* stored with reply, forwards, channel rows */
	MSG_DEFERRED,		/* not stored: the channel keeps it */
};

int		 receive_init(void);
int		 receive_item(const struct inbound *, struct received *);
void		 receive_expire(time_t);
size_t		 receive_rate_size(unsigned long *);
size_t		 receive_batch(const struct inbound *, struct received *, int *,
		    size_t);
const char	*receive_state_name(enum msg_state);
const char	*receive_channel_name(enum channel);

/* sms.c: the SMS channel of the intake (bank events) */
void		 sms_on_sms(struct modem *, const struct wire_msg *);
void		 sms_deleted(struct modem *, int, int, const char *);
void		 sms_expire(time_t);

/* ussd.c: the USSD channel of the intake (an aggregator's callback) */
int		 ussd_start(char *, size_t);
void		 ussd_stop(void);

/* outbox.c: replies through the modems (queued → sending → sent →
 * delivered | failed) */
void		 outbox_kick(void);
void		 outbox_owed(const char *);
void		 outbox_run(time_t);
void		 outbox_result(struct modem *, int64_t, int, int,
		    const char *);
void		 outbox_report(struct modem *, int, int);
void		 outbox_lost(struct modem *);
void		 outbox_recovered(struct modem *, int64_t, int, const char *);

/* alert.c: alerts raised and cleared by the loop (docs/operators.md) */
struct alert_view {
	int64_t		 id;
	enum alert_kind	 kind;
	const char	*subject;	/* "" the gateway's */
	enum alert_state state;		/* ALERT_RAISED or ALERT_CLEARED */
	time_t		 raised_at;
	time_t		 cleared_at;	/* 0 still open */
	const char	*text;
	int		 limit;		/* its threshold now */
};
int		 alert_check(const struct conf_alerts *, char *, size_t);
void		 alert_run(time_t);
void		 alert_reload(const struct gw_conf *);
void		 alert_child(pid_t, int);
void		 alert_stop(void);
int		 alert_foreach(int (*)(const struct alert_view *, void *),
		    void *);

/* admin.c: the admin API, on the control socket and TCP (docs/admin.md) */
int		 admin_start(const char *, char *, size_t);
void		 admin_stop(void);

#endif /* DAEMON_H */
