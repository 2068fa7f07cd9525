/*
 * tallysim: a simulated GSM world.  One process, one libevent loop:
 *   sim.c       main, arguments, start-up and shutdown
 *   modem.c     modems on pseudo-terminals: pty, line discipline, SIM
 *   at.c        the AT command interpreter (table of commands)
 *   smsc.c      the SMS centre: routing, phones, status reports
 *   ctl.c       the control socket (RUNDIR/ctl.sock) and `tallysim ctl'
 *   fault.c     timing profiles and faults
 *   play.c      plays a scenario through the network; the oracle
 *   dial.c      the scenario's USSD officers, through aggr.c
 *   aggr.c      the USSD aggregator: posts sessions' steps to a gateway
 *   world.c     `tallysim world': the simulator, central and tallygw
 */

#ifndef SIM_H
#define SIM_H

#include <sys/queue.h>
#include <sys/types.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <event2/event.h>

#include "pdu.h"

#define SIM_MODEMS_MAX		64	/* issue 3: K = 1..64 modems */
#define SIM_SLOTS		30	/* SIM message storage, per modem */
#define SIM_LINE_MAX		1024	/* one AT command line */
#define SIM_URC_GAP_MS		30	/* quiet time before unsolicited lines */
#define SIM_RETRY_SEC		5	/* network retry for undeliverable SMS */
#define SIM_REASM_SEC		600	/* give up reassembling after this */
#define SIM_BALANCE		12345	/* starting airtime, rupiah */
#define SIM_SMS_PRICE		150	/* rupiah per SMS part sent */
#define SIM_DAILY_CAP		500	/* realistic profile: parts/SIM/day */
#define SIM_USSD_SERVICE	"*123*45#" /* world's [ussd] service, ctl ussd */
#define SIM_CNMA_SEC		15	/* wait for AT+CNMA (TR2M: 12-20 s) */

enum profile {
	PROFILE_INSTANT = 0,
	PROFILE_REALISTIC,
};

/* Delays in milliseconds of simulated time; scaled by timing.scale. */
struct timing {
	enum profile	 profile;
	double		 scale;		/* 2.0 = twice as fast */
	int		 send_ms;	/* network time per CMGS */
	int		 read_ms;	/* CMGR, CMGL per message */
	int		 delete_ms;
	int		 deliver_ms;	/* SMSC to handset */
	int		 daily_cap;	/* parts per SIM per day, 0 = none */
};

struct operator {
	const char	*name;		/* COPS long name */
	const char	*shortname;
	const char	*mccmnc;
	const char	*smsc;
	const char	*prefixes[10];	/* 08xx, local form */
};

/* One stored message in a SIM slot. */
struct slot {
	int		 used;
	int		 stat;		/* 0 unread, 1 read, 2 unsent, 3 sent */
	int		 tpdu_len;
	char		 hex[PDU_HEX_MAX];
};

struct urc {
	TAILQ_ENTRY(urc) entry;
	char		*text;		/* complete, CRLF included */
	int		 ack;		/* a +CMT/+CDS the network waits on */
};
TAILQ_HEAD(urcq, urc);

/* The AT interpreter's state: one enum, changed by at_set_state(). */
enum at_state {
	AT_IDLE = 0,		/* waiting for a command line */
	AT_BUSY,		/* a command runs; its answer comes later */
	AT_PROMPT,		/* after "> ": collecting a PDU until ^Z */
	AT_SENDING,		/* PDU submitted, network answer pending */
};

/*
 * Phase 2+ acknowledgement (AT+CSMS=1, 27.005 3.4.4): after a +CMT or
 * +CDS the network waits for AT+CNMA.  Changed by smsc_ack_set().
 */
enum ack_state {
	ACK_NONE = 0,		/* nothing routed to the TE awaits +CNMA */
	ACK_WAITING,		/* a +CMT/+CDS went out; no other until ack */
};

/* Modem link state, changed by modem_set_state(). */
enum modem_state {
	MODEM_UP = 0,
	MODEM_UNPLUGGED,
};

/* Faults that last until cleared. */
struct faults {
	int		 mute;		/* read commands, never answer */
	int		 garbage;	/* answer noise */
	int		 cms_error;	/* CMGS fails with this +CMS ERROR */
	int		 simfull;	/* storage reports full */
	int		 noreg;		/* CREG stat 0 or 3 */
	int		 rssi;		/* CSQ override, -1 none */
};

struct delivery;

struct modem {
	int		 idx;
	char		 msisdn[32];	/* +62... */
	const struct operator *op;
	char		 imsi[16];
	char		 imei[16];
	char		 iccid[21];
	long		 balance;
	int		 rssi;

	enum modem_state state;
	int		 master;
	int		 slave;
	char		 slavepath[64];
	char		 link[PATH_MAX];
	int		 wd;		/* inotify watch on the slave */
	int		 opens;		/* clients holding the slave open */
	struct event	*ev_read;
	struct event	*ev_write;
	struct event	*ev_urc;	/* flushes held unsolicited lines */
	struct event	*ev_busy;	/* finishes a delayed command */
	struct evbuffer	*out;

	/* AT interpreter */
	enum at_state	 at;
	char		 line[SIM_LINE_MAX];
	size_t		 linelen;
	int		 echo;
	int		 verbose;
	int		 quiet;
	int		 cmee;
	int		 cmgf;
	int		 cscs;		/* index into at.c's charset table */
	int		 creg_n;
	int		 cgreg_n;
	int		 cnmi[5];
	int		 cmms;
	int		 cfun;
	int		 cusd;
	int		 csms;		/* AT+CSMS service: 1 = +CNMA needed */
	int		 mem[3];	/* CPMS memories: 0 = SM, 1 = ME, 2 = SR */
	size_t		 cmgs_len;
	char		 pdu[PDU_HEX_MAX + 8];
	size_t		 pdulen;
	char		*pending;	/* answer of a delayed command */
	int		 mr;		/* next TP-MR the network assigns */
	struct urcq	 urcs;
	uint64_t	 last_input_ms;

	/* phase 2+: the +CMT/+CDS the network waits to see acknowledged */
	enum ack_state	 ack;
	struct delivery	*unacked;
	struct event	*ev_cnma;	/* the network waits for AT+CNMA */

	/* SIM storage */
	int		 nslots;
	struct slot	*slots;

	/* operator caps */
	int		 sent_day;	/* day number of sent_today */
	int		 sent_today;

	struct faults	 fault;

	/* statistics */
	unsigned long	 st_cmds;
	unsigned long	 st_sent;
	unsigned long	 st_received;
	unsigned long	 st_errors;
	uint64_t	 at_since_us;	/* when the AT state last changed */
	uint64_t	 st_busy_us;	/* not AT_IDLE: a command held it */
	uint64_t	 st_prompt_us;	/* ... of which at "> ", waiting */
};

/* A message a phone received. */
struct inmsg {
	TAILQ_ENTRY(inmsg) entry;
	char		 from[32];
	char		*text;
	time_t		 time;
	int		 parts;
};
TAILQ_HEAD(inmsgq, inmsg);

/* A long message being put together from its parts. */
struct reasm {
	TAILQ_ENTRY(reasm) entry;
	char		 from[32];
	int		 ref;
	int		 total;
	int		 have;
	char		*part[PDU_PARTS_MAX + 1];
	time_t		 first;
};
TAILQ_HEAD(reasmq, reasm);

struct phone {
	TAILQ_ENTRY(phone) entry;
	char		 msisdn[32];
	struct inmsgq	 inbox;
	struct reasmq	 partial;
	unsigned long	 received;
	time_t		 last_sent;	/* SMSC time of its last SMS */
};
TAILQ_HEAD(phoneq, phone);

/* An SMS the network holds for a modem until it can deliver it. */
struct delivery {
	TAILQ_ENTRY(delivery) entry;
	int		 modem;
	int		 is_report;
	struct pdu_part	 pdu;
	uint64_t	 due_ms;
	int		 attempts;
	int		 simfull;	/* waits for room on the SIM */
	int		 resent;	/* refused or not acknowledged: sent
					 * again later, holds no other */
};
TAILQ_HEAD(deliveryq, delivery);

struct sim {
	char		 dir[PATH_MAX];
	int		 nmodems;
	struct modem	*modems;
	struct event_base *base;
	struct timing	 timing;
	uint64_t	 seed;
	uint64_t	 rng;
	int		 inotify;
	struct event	*ev_inotify;
	int		 ctl_fd;
	char		 ctl_path[PATH_MAX];
	struct event	*ev_ctl;
	struct phoneq	 phones;
	struct deliveryq queue;
	struct event	*ev_queue;
	int		 next_ref;	/* concatenation references */
	/* network faults, per mille */
	int		 net_lose;
	int		 net_dup;
	int		 net_delay_ms;
	int		 net_reorder;
	/* random faults */
	int		 random_faults;
	struct event	*ev_chaos;
	/* statistics */
	unsigned long	 st_injected;
	unsigned long	 st_submitted;
	unsigned long	 st_delivered;
	unsigned long	 st_to_phones;
	unsigned long	 st_reports;
	unsigned long	 st_lost;
	unsigned long	 st_retries;
};

extern struct sim	*sim;
extern const struct operator operators[];
extern const int	 noperators;

/* The options run and world share. */
struct sim_args {
	const char	*dir;
	long		 modems;
	const char	*profile;
	double		 scale;
	uint64_t	 seed;
	int		 verbose;
	long		 balance;	/* Rp per SIM, -1 as drawn */
	long		 daily_cap;	/* SMS parts per SIM, -1 the profile's */
};

/* sim.c */
void		 sim_args_init(struct sim_args *);
int		 sim_arg(struct sim_args *, int, char **, int *);
void		 sim_start(const struct sim_args *);
void		 sim_stop(void);
uint64_t	 sim_now_us(void);
uint64_t	 sim_now_ms(void);
uint32_t	 sim_random(void);
int		 sim_scaled_ms(int);
void		 sim_after(struct event *, int);

/* modem.c */
int		 modem_setup(struct modem *, int);
int		 modem_open_pty(struct modem *);
void		 modem_close_pty(struct modem *);
void		 modem_teardown(struct modem *);
void		 modem_set_state(struct modem *, enum modem_state);
void		 modem_write(struct modem *, const char *, size_t);
void		 modem_puts(struct modem *, const char *);
void		 modem_printf(struct modem *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 modem_urc(struct modem *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 modem_urc_ack(struct modem *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
void		 modem_urc_unsend(struct modem *);
int		 modem_urc_ack_held(const struct modem *);
void		 modem_urc_kick(struct modem *);
void		 modem_inotify(int, short, void *);
int		 modem_sim_store(struct modem *, const struct pdu_part *, int);
int		 modem_sim_used(const struct modem *);
int		 modem_sim_capacity(const struct modem *);
struct modem	*modem_find(const char *);

/* at.c */
void		 at_input(struct modem *, const unsigned char *, size_t);
void		 at_set_state(struct modem *, enum at_state);
void		 at_reset(struct modem *);
void		 at_busy_done(int, short, void *);
const char	*at_state_name(enum at_state);
uint64_t	 at_busy_us(const struct modem *, uint64_t, uint64_t *);

/* smsc.c */
int		 smsc_init(void);
int		 smsc_inject(const char *, struct modem *, const char *, int *);
int		 smsc_inject_pdu(struct modem *, const char *, int, int *);
int		 smsc_submit(struct modem *, const char *, int *);
void		 smsc_kick(void);
void		 smsc_room(struct modem *);
int		 smsc_ack_expected(const struct modem *);
int		 smsc_cnma(struct modem *, int);
void		 smsc_ack_drop(struct modem *, const char *);
void		 smsc_ack_timeout(int, short, void *);
struct phone	*smsc_phone(const char *, int);
void		 smsc_norm(const char *, char *, size_t);
void		 smsc_free(void);

/* ctl.c */
int		 ctl_listen(const char *);
void		 ctl_close(void);
int		 ctl_client(const char *, int, char **);
void		 ctl_json_str(struct evbuffer *, const char *);
const char	*ctl_opt(int, char **, const char *);
int		 ctl_flag(int, char **, const char *);

/* play.c */
struct evbuffer;
int		 play_ctl_scenario(int, char **, struct evbuffer *, char *,
		    size_t);
int		 play_oracle_ready(char *, size_t);
int		 play_oracle(int, char **, FILE *, const char *,
		    struct evbuffer *, char *, size_t);
void		 play_free(void);

/* dial.c: the scenario's USSD officers */
struct scenario;
struct sc_msg;
typedef void	 (*dial_done_cb)(const struct sc_msg *, int);
int		 dial_start(const struct scenario *, const char *, double,
		    dial_done_cb, char *, size_t);
void		 dial_due(const struct sc_msg *);
size_t		 dial_pending(size_t *);
void		 dial_flush(void);
void		 dial_free(void);

/* world.c */
int		 world_main(int, char **);

/* aggr.c: the USSD aggregator */
#define AGGR_SCREEN_SEC		10	/* a screen must come within this */
#define AGGR_SESSION_SEC	180	/* the whole session within this */

enum aggr_type {
	AGGR_NONE = 0,		/* no screen: no answer, or not CON/END */
	AGGR_CON,		/* a screen; the session goes on */
	AGGR_END,		/* the last screen */
};

/* What one step got; error set: the session fails there. */
struct aggr_answer {
	enum aggr_type	 type;
	const char	*screen;	/* without "CON "/"END ", or NULL */
	const char	*error;		/* NULL: a good screen */
	int		 timedout;	/* no answer within the time given */
};

/* The form fields of one step (docs/ussd.md). */
struct aggr_form {
	const char	*session;	/* sessionId */
	const char	*code;		/* serviceCode */
	const char	*phone;		/* phoneNumber */
	const char	*network;	/* networkCode */
	const char	*text;		/* every input so far, joined by * */
};

struct aggr_ep;
struct aggr_req;
typedef void	 (*aggr_cb)(const struct aggr_answer *, void *);

struct aggr_ep	*aggr_ep_open(const char *, const char *, const char *,
		    char *, size_t);
void		 aggr_ep_free(struct aggr_ep *);
const char	*aggr_network(const char *);
struct aggr_req	*aggr_post(struct event_base *, const struct aggr_ep *,
		    const struct aggr_form *, long, aggr_cb, void *);
void		 aggr_cancel(struct aggr_req *);
int		 aggr_ctl(const char *, int, char **);

/* fault.c */
int		 fault_timing_set(const char *, double);
int		 fault_apply(struct modem *, const char *, int, char **,
		    char *, size_t);
int		 fault_net(const char *, int, char **, char *, size_t);
void		 fault_random_start(void);
int		 fault_replug(struct modem *);

#endif /* SIM_H */
