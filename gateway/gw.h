/*
 * gw.h: the gateway daemon's stages (docs/design.md). The protocol
 * library is in tally.h; the worker messages in wire.h.
 */
#ifndef GW_H
#define GW_H

#include <sys/queue.h>

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "reply.h"

#ifndef TAILQ_FOREACH_SAFE
#define TAILQ_FOREACH_SAFE(var, head, field, tvar)			\
	for ((var) = TAILQ_FIRST(head);					\
	    (var) != NULL && ((tvar) = TAILQ_NEXT(var, field), 1);	\
	    (var) = (tvar))
#endif

#include "tally.h"
#include "wire.h"

#define GW_NAME_MAX		64
#define GW_MODEM_NAME_MAX	32
#define GW_URL_MAX		512
#define GW_OPER_MAX		32
#define GW_ISO_MAX		32	/* 2026-02-14T09:12:01.123Z */
#define GW_RAW_MAX		(TALLY_TEXT_MAX + 1)	/* a message's text */
#define GW_DETAIL_MAX		256
#define GW_USER_MAX		32	/* a user name, as useradd allows */

/* Named tunables: defaults; each is overridable in [tunables]. */
#define GW_SWEEP_INTERVAL	60	/* s between SIM sweeps */
#define GW_MULTIPART_TIMEOUT	300	/* s to wait for missing parts */
#define GW_HEARTBEAT_TIMEOUT	120	/* s without a frame: hung worker */
#define GW_STOP_GRACE		5	/* s a stopping worker gets before SIGKILL */
#define GW_SEND_HOLD_MIN	30	/* s a modem rests after a refused send */
#define GW_SEND_HOLD_MAX	1800	/* s, cap of that rest as refusals go on */
#define GW_RESTART_MIN		1	/* s, first restart backoff */
#define GW_RESTART_MAX		300	/* s, backoff cap */
#define GW_SEND_TIMEOUT		120	/* s for a SEND to get its result */
#define GW_REPLY_RETRY_MAX	60	/* s, cap of a reply's resend backoff */
#define GW_REPLY_ATTEMPTS	6	/* sends before a reply fails */
#define GW_REPLY_MERGE_WAIT	2	/* s to wait for more pages */
#define GW_FORWARD_MIN		1	/* s, first forward retry */
#define GW_FORWARD_MAX		300	/* s, retry cap */
#define GW_FORWARD_TIMEOUT	15	/* s per HTTP request */
#define GW_FORWARD_PARALLEL	32	/* requests in flight per central */
#define GW_STORE_CACHE		2000	/* KiB of SQLite page cache */
#define GW_RATE_LIMIT		60	/* messages per sender per window */
#define GW_RATE_WINDOW		600	/* s */
#define GW_RATE_SENDERS		16384	/* cap: senders the rate table holds */
#define GW_HEALTH_INTERVAL	60	/* s between health polls */
#define GW_BALANCE_INTERVAL	3600	/* s between balance checks */
#define GW_SEND_CAP		0	/* SMS per SIM per day, 0 = none */
#define GW_USSD_TIMEOUT		120	/* s without a request: session over */
#define GW_USSD_RESUME		1800	/* s a half-filled report is kept */
#define GW_USSD_RETRY		600	/* s a session's last screen is kept */
#define GW_USSD_PATH		"/ussd"	/* the callback's default path */
#define GW_USSD_SECRET_MIN	16	/* characters of the shared secret */

/* [alerts]: the default threshold of each alert (0 turns one off). */
#define GW_ALERT_MODEM_DOWN	60	/* s a modem is down before it alerts */
#define GW_ALERT_SIM_FULL	80	/* % of the SIM's message slots used */
#define GW_ALERT_BALANCE_LOW	10000	/* rupiah of airtime */
#define GW_ALERT_CAP_NEAR	90	/* % of the daily send_cap used */
#define GW_ALERT_MODEM_SILENT	1800	/* s without an SMS while others get */
#define GW_ALERT_CENTRAL_DOWN	120	/* s a central is unreachable */
#define GW_ALERT_FORWARD_FAILED	1	/* forwards refused for good */
#define GW_ALERT_LOCKOUT_STORM	50	/* bad codes within lockout_window */
#define GW_ALERT_DISK_LOW	1024	/* MB free for the state directory */
#define GW_ALERT_SMS_INTERVAL	600	/* s between two alert SMS */
#define GW_ALERT_SMS_MAX	16	/* operator numbers */
#ifndef GW_WEB_DIR
#define GW_WEB_DIR	"/usr/local/share/tallygw/web"	/* the dashboard */
#endif

/* config.c: one INI-style file (docs/tallygw.md) */

/* What a modem is for: a receive-only one sends only when no other can. */
enum modem_role {
	MODEM_ROLE_BOTH = 0,	/* reads and sends (the default) */
	MODEM_ROLE_RECEIVE,	/* its number is the officers': reads only */
};

struct conf_modem {
	TAILQ_ENTRY(conf_modem)	 entry;
	char		 name[GW_MODEM_NAME_MAX];
	char		 device[PATH_MAX];
	char		 connection[32];	/* libGammu, default "at" */
	char		 number[WIRE_NUMBER_MAX]; /* the SIM's MSISDN */
	char		 oper[GW_OPER_MAX];	/* operator, for routing */
	char		 balance[16];		/* USSD code, "" default */
	int		 send_cap;		/* SMS per day, 0 none */
	enum modem_role	 role;
	int		 enabled;
	int		 line;			/* where it was declared */
};
TAILQ_HEAD(conf_modems, conf_modem);

struct conf_central {
	TAILQ_ENTRY(conf_central) entry;
	char		 name[GW_MODEM_NAME_MAX];
	char		 url[GW_URL_MAX];	/* http://host:port/v1/reports */
	int		 timeout;		/* s per request */
	char		 ca_file[PATH_MAX];	/* "" the system's CAs */
	int		 line;
};
TAILQ_HEAD(conf_centrals, conf_central);

/* [ussd]: the aggregator's callback (docs/ussd.md); off unless present. */
struct conf_ussd {
	int		 enabled;
	char		 listen[GW_URL_MAX];	/* host:port */
	char		 path[128];		/* /ussd */
	char		 secret[PATH_MAX];	/* file of the shared secret */
	char		 service[32];		/* serviceCode, "" any */
	int		 line;
};

/* [admin]: the admin API on TCP (docs/admin.md); off unless listen. */
struct conf_admin {
	char		 listen[GW_URL_MAX];	/* host:port, "" none */
	char		 token[PATH_MAX];	/* file of the bearer token */
	char		 web[PATH_MAX];		/* the dashboard's files */
	int		 line;			/* of [admin], 0 none */
};

/* The alerts (alert.c); each is also its key in [alerts]. */
enum alert_kind {
	ALERT_MODEM_DOWN = 0,	/* worker down or in backoff */
	ALERT_SIM_FULL,		/* SIM storage above a share */
	ALERT_BALANCE_LOW,	/* airtime below an amount */
	ALERT_CAP_NEAR,		/* send cap nearly used */
	ALERT_MODEM_SILENT,	/* no SMS in while others receive */
	ALERT_CENTRAL_DOWN,	/* a central system unreachable */
	ALERT_FORWARD_FAILED,	/* forwards refused for good */
	ALERT_LOCKOUT_STORM,	/* many bad codes across senders */
	ALERT_DISK_LOW,		/* little space for the store */
	ALERT_KINDS
};

/* [alerts]: thresholds, the hook, the operators' numbers; reloadable. */
struct conf_alerts {
	int		 limit[ALERT_KINDS];	/* thresholds, 0: off */
	char		 hook[PATH_MAX];	/* a program, "" none */
	char		 sms[GW_ALERT_SMS_MAX][WIRE_NUMBER_MAX];
	int		 nsms;
	int		 sms_interval;		/* s between two alert SMS */
	int		 line;			/* of [alerts], 0 none */
};

struct gw_tunables {
	int		 sweep_interval;
	int		 multipart_timeout;
	int		 heartbeat_timeout;
	int		 restart_min;
	int		 restart_max;
	int		 stop_grace;
	int		 send_timeout;
	int		 send_hold_min;
	int		 send_hold_max;
	int		 reply_attempts;
	int		 reply_merge_wait;
	int		 reply_retry_max;
	int		 forward_min;
	int		 forward_max;
	int		 forward_timeout;
	int		 forward_parallel;
	int		 store_cache;		/* KiB */
	int		 rate_limit;
	int		 rate_window;
	int		 health_interval;
	int		 balance_interval;
	int		 ussd_timeout;
	int		 ussd_resume;
	int		 ussd_retry;
	int		 default_dpt;		/* VERIFY_DEFAULT_DPT */
	struct lockout_conf lockout;		/* LOCKOUT_* */
};

struct gw_conf {
	char		 path[PATH_MAX];	/* the file read */
	char		 name[GW_NAME_MAX];	/* gateway name, forwarded */
	char		 state_dir[PATH_MAX];	/* tallygw.db, tallygw.sock */
	char		 key[PATH_MAX];		/* root or province key */
	char		 registry[PATH_MAX];	/* "" none */
	char		 election[PATH_MAX];	/* "" the embedded default */
	char		 sign_key[PATH_MAX];	/* ed25519-secret file */
	char		 kpps[PATH_MAX];	/* "" none; lines TPS,NUMBER */
	char		 modem_prog[PATH_MAX];	/* "" tallygw-modem beside us */
	char		 language[4];		/* "id" or "en" */
	char		 user[GW_USER_MAX];	/* "" keep the starting user */
	int		 log_syslog;		/* log = syslog */
	int		 log_level;		/* 0 info, 1 debug */
	struct gw_tunables t;
	struct conf_modems modems;
	struct conf_centrals centrals;
	struct conf_ussd ussd;
	struct conf_admin admin;
	struct conf_alerts alerts;
};

void		 config_defaults(struct gw_conf *);
int		 config_load(const char *, struct gw_conf *, char *, size_t);
int		 config_parse(const char *, const char *, size_t,
		    struct gw_conf *, char *, size_t);
void		 config_print(const struct gw_conf *, FILE *);
void		 config_clear(struct gw_conf *);
struct conf_modem *config_modem(const struct gw_conf *, const char *);
int		 config_msisdn(const char *, char *, size_t);
const char	*config_alert_name(enum alert_kind);
const char	*config_role_name(enum modem_role);

/* store.c: SQLite, WAL, synchronous=FULL (enum msg_kind: reply.h) */

/* One received SMS (after reassembly) and what verification made of it. */
struct store_msg {
	int64_t		 id;
	char		 modem[GW_MODEM_NAME_MAX];	/* modem name */
	char		 modem_number[WIRE_NUMBER_MAX];
	char		 sender[WIRE_NUMBER_MAX];
	char		 smsc_time[WIRE_TIME_MAX];
	char		 received_at[GW_ISO_MAX];
	char		 verified_at[GW_ISO_MAX];
	int		 parts;				/* SMS parts */
	char		 raw[GW_RAW_MAX];
	enum msg_kind	 kind;
	enum verdict	 verdict;	/* MSG_REPORT only, else 0 */
	enum reason	 reason;
	unsigned	 flags;
	enum auth	 auth;
	struct report	 report;	/* valid when decoded */
	int		 decoded;	/* report holds tps/contest/seq... */
	char		 receipt[TALLY_CODE_LEN + 1];
	unsigned	 supersedes;
	char		 detail[GW_DETAIL_MAX];	/* operator text: why */
};

/* The outgoing SMS state machine (one row per SMS actually sent). */
enum out_state {
	OUT_QUEUED = 1,		/* waiting for a modem (or a retry time) */
	OUT_SENDING,		/* handed to a modem worker */
	OUT_SENT,		/* the network took it (msgref known) */
	OUT_DELIVERED,		/* status report: delivered */
	OUT_FAILED,		/* gave up, or the report says failed */
};

/*
 * Which SMS goes first, smaller first (docs/design.md, "The outbox's
 * order"); stored as its number in replies and outbox.
 */
enum out_priority {
	OUT_PRIO_ACT = 0,	/* an officer's rejection, an alert: act */
	OUT_PRIO_CHECK,		/* accepted but FLAGGED: check the numbers */
	OUT_PRIO_CONFIRM,	/* a confirmation */
	OUT_PRIO_OTHER,		/* any answer to a number not known */
};

/* A reply owed for one message; several may share one outgoing SMS. */
struct store_reply {
	int64_t		 id;
	int64_t		 msg_id;
	char		 dest[WIRE_NUMBER_MAX];
	char		 modem[GW_MODEM_NAME_MAX];	/* came in on */
	char		 text[REPLY_TEXT_MAX];	/* standalone reply */
	char		 brief[REPLY_MAX + 1];	/* for merging, "" never */
	int64_t		 out_id;		/* 0 not yet in an SMS */
	time_t		 created;
	enum out_priority priority;
};

struct store_out {
	int64_t		 id;
	char		 dest[WIRE_NUMBER_MAX];
	char		 text[REPLY_TEXT_MAX];		/* up to 4 parts */
	char		 modem[GW_MODEM_NAME_MAX];	/* last tried on */
	char		 prefer[GW_MODEM_NAME_MAX];	/* came in on */
	enum out_state	 state;
	int		 attempts;
	int		 msgref;			/* -1 unknown */
	time_t		 next_at;		/* OUT_QUEUED: not before */
	char		 error[GW_DETAIL_MAX];
	time_t		 created;		/* queued */
	time_t		 sent_at;		/* the network took it, 0 not */
	time_t		 delivered_at;		/* status report, 0 none */
	enum out_priority priority;		/* its most urgent reply's */
};

/* The forward state machine (one row per message and central). */
enum fwd_state {
	FWD_PENDING = 1,	/* never tried */
	FWD_SENDING,		/* a request in flight */
	FWD_ACKED,		/* 201 or 200 */
	FWD_RETRY_WAIT,		/* outage: try again at next_at */
	FWD_FAILED,		/* refused for good (409, 4xx): alert */
};

struct store_fwd {
	int64_t		 id;
	int64_t		 msg_id;
	char		 central[GW_MODEM_NAME_MAX];
	enum fwd_state	 state;
	int		 attempts;
	time_t		 next_at;
	int		 http_status;		/* last, 0 none */
	char		 error[GW_DETAIL_MAX];
	time_t		 updated;		/* last state change */
};

/* One reply owed for a message and the SMS that carries it (tallyctl). */
struct store_msg_reply {
	struct store_reply reply;
	struct store_out out;		/* out.id 0: not in an SMS yet */
	char		 shared[128];	/* other msg ids in it: "12, 13" */
};

struct store_counts {
	long		 msgs, reports, ok, flagged, duplicate, rejected;
	long		 other;				/* CEK, BANTU, ... */
	long		 out_queued, out_sending, out_sent, out_delivered,
			 out_failed;
	long		 fwd_pending, fwd_sending, fwd_acked, forward_retry,
			 fwd_failed;
};

struct store;
void		 store_init(void);
struct store	*store_open(const char *, char *, size_t);
void		 store_close(struct store *);
int		 store_cache_size(struct store *, int);
int		 store_begin(struct store *);
int		 store_item_begin(struct store *);
int		 store_item_end(struct store *, int);
int		 store_in_tx(struct store *);
int		 store_commit(struct store *);
int		 store_rollback(struct store *);
int		 store_msg_add(struct store *, struct store_msg *);
int		 store_msg_get(struct store *, int64_t, struct store_msg *);
int		 store_sender_known(struct store *, const char *);
struct verify_history *store_history(struct store *);
int		 store_lockout_rebuild(struct store *, struct lockout *,
		    time_t);
int		 store_tps_latest(struct store *, uint64_t,
		    struct reply_latest *, size_t, size_t *);
int		 store_reply_add(struct store *, struct store_reply *);
int		 store_reply_pending(struct store *, const char *,
		    struct store_reply *, size_t, size_t *);
int		 store_reply_dests(struct store *, char (*)[WIRE_NUMBER_MAX],
		    time_t *, size_t, size_t *);
int		 store_out_add(struct store *, struct store_out *,
		    const int64_t *, size_t);
int		 store_out_get(struct store *, int64_t, struct store_out *);
int		 store_out_due(struct store *, time_t, struct store_out *,
		    size_t, size_t *);
int		 store_out_set(struct store *, int64_t, enum out_state,
		    const char *, int, time_t, const char *);
int		 store_out_by_msgref(struct store *, const char *, int,
		    int64_t *);
int		 store_out_sent_today(struct store *, const char *, time_t,
		    int *);
int		 store_out_requeue(struct store *);
int		 store_fwd_add(struct store *, int64_t, const char *);
int		 store_fwd_due(struct store *, const char *, time_t,
		    struct store_fwd *, size_t, size_t *);
int		 store_fwd_set(struct store *, int64_t, enum fwd_state, int,
		    time_t, int, const char *);
int		 store_fwd_requeue(struct store *);
int		 store_msg_replies(struct store *, int64_t,
		    struct store_msg_reply *, size_t, size_t *);
int		 store_msg_forwards(struct store *, int64_t, struct store_fwd *,
		    size_t, size_t *);
int		 store_counts(struct store *, struct store_counts *);
int		 store_slot_add(struct store *, const char *, int, int64_t,
		    const char *);
int		 store_slot_done(struct store *, const char *, int);
int		 store_slot_get(struct store *, const char *, int, int64_t *,
		    char *, size_t, char *, size_t, int *);
const char	*store_out_state_name(enum out_state);
const char	*store_fwd_state_name(enum fwd_state);
const char	*store_kind_name(enum msg_kind);
void		 store_iso_now(char *, size_t);

/* query.c: the admin API's query strings (docs/admin.md) */
#define QUERY_LIMIT_DEFAULT	50	/* messages listed */
#define QUERY_LIMIT_MAX		1000
#define QUERY_NONE		(-1)	/* state, forward: there is none */
#define QUERY_OWED		(-2)	/* state: a reply not in an SMS yet */
#define QUERY_SMS		1	/* channel */
#define QUERY_USSD		2
struct store_msg_query {
	uint64_t	 tps;			/* 0: any */
	char		 sender[WIRE_NUMBER_MAX];	/* "": any */
	enum msg_kind	 kind;			/* 0: any */
	enum verdict	 verdict;		/* 0: any */
	enum contest	 contest;		/* CONTEST_NONE: any */
	int		 reply;		/* last reply: out_state, QUERY_* */
	int		 forward;	/* a forward: fwd_state, QUERY_NONE */
	int		 channel;	/* QUERY_SMS, QUERY_USSD (0: any) */
	char		 since[GW_ISO_MAX];	/* received_at >= since */
	char		 until[GW_ISO_MAX];	/* received_at < until */
	int64_t		 before;		/* id < before: the next page */
	int		 limit;
};
struct query_coverage {
	int		 digits;	/* level: 2, 4, 6, 10 */
	uint64_t	 in;		/* within this region (0: everywhere) */
	int		 in_digits;	/* of in, 0 */
	enum contest	 contest;	/* CONTEST_NONE: every one */
};
struct query_export {
	int		 json;		/* else CSV */
	uint64_t	 region;	/* 0: everywhere */
	int		 region_digits;
	enum contest	 contest;	/* CONTEST_NONE: every one */
};
struct query_retry {
	int64_t		 msg;		/* that message's forwards */
	int		 failed;	/* every failed forward */
};
int		 query_messages(const char *, struct store_msg_query *,
		    char *, size_t);
int		 query_coverage(const char *, struct query_coverage *, char *,
		    size_t);
int		 query_export(const char *, struct query_export *, char *,
		    size_t);
int		 query_retry(const char *, struct query_retry *, char *,
		    size_t);
int		 query_time(const char *, char *, size_t);

/* store.c: the admin API's questions (admin.c, coverage.c) */
#define STORE_REASON_MAX	24
#define STORE_VALUES_TEXT	(TALLY_MAXVALUES * 4 + 1)
struct store_msg_row {
	int64_t		 id;
	char		 received_at[GW_ISO_MAX];
	char		 sender[WIRE_NUMBER_MAX];
	char		 modem[GW_MODEM_NAME_MAX];
	enum msg_kind	 kind;
	enum verdict	 verdict;		/* 0: not a report */
	char		 reason[STORE_REASON_MAX];	/* "" none */
	unsigned	 flags;
	uint64_t	 tps;			/* 0: not decoded */
	enum contest	 contest;
	int		 page;			/* -1 none */
	unsigned	 seq;
	char		 receipt[TALLY_CODE_LEN + 1];
	char		 raw[GW_RAW_MAX];
	int		 reply;		/* last reply: out_state, QUERY_* */
	char		 forwards[256];	/* "central state, ..." */
};
struct store_region {
	uint64_t	 region;	/* the TPS code's first digits */
	enum contest	 contest;
	long		 reported;	/* TPS with an accepted report */
	long		 flagged;	/* of them: a latest page FLAGGED */
};
struct store_export_row {
	int64_t		 msg_id;
	uint64_t	 tps;
	enum contest	 contest;
	int		 page;			/* -1 none */
	unsigned	 seq;
	enum verdict	 verdict;
	unsigned	 flags;
	char		 values[STORE_VALUES_TEXT];	/* "v1 v2 ..." */
	char		 receipt[TALLY_CODE_LEN + 1];
	char		 received_at[GW_ISO_MAX];
};
struct store_cursor;
int		 store_msg_list(struct store *, const struct store_msg_query *,
		    int (*)(const struct store_msg_row *, void *), void *);
int		 store_msg_count_since(struct store *, const char *, int64_t,
		    int (*)(const char *, long, void *), void *, int64_t *);
int		 store_out_queued_by(struct store *,
		    int (*)(const char *, long, void *), void *);
int		 store_msg_tally(struct store *, int (*)(int, enum msg_kind,
		    enum verdict, long, void *), void *);
int		 store_coverage(struct store *, const struct query_coverage *,
		    int (*)(const struct store_region *, void *), void *);
struct store_cursor *store_export_open(struct store *,
		    const struct query_export *, char *, size_t);
int		 store_export_next(struct store_cursor *,
		    struct store_export_row *);
void		 store_cursor_close(struct store_cursor *);
int		 store_fwd_select(struct store *, int64_t, unsigned, int64_t,
		    struct store_fwd *, size_t, size_t *);
int		 store_reply_last(struct store *, int64_t,
		    struct store_msg_reply *);

/* store.c: the alerts' questions (alert.c) */
struct store_bad {
	long		 codes;		/* reports refused for a bad code */
	long		 senders;	/* from this many numbers */
	uint64_t	 tps;		/* the TPS with the most, 0 none */
	long		 tps_codes;	/* its count */
};
int		 store_fwd_failed(struct store *, const char *, long *);
int		 store_bad_codes(struct store *, const char *,
		    struct store_bad *);

/* store.c: the dashboard's time line, per minute */
#define STORE_RATE_MINUTES	60
struct store_rate {
	time_t		 start;		/* of the first minute, UTC */
	int		 minutes;
	long		 received[STORE_RATE_MINUTES];	/* messages in */
	long		 replied[STORE_RATE_MINUTES];	/* SMS sent */
	long		 forwarded[STORE_RATE_MINUTES];	/* forwards acked */
};
int		 store_throughput(struct store *, time_t, int,
		    struct store_rate *);

/* coverage.c: expected, reported, flagged, missing TPS by region */
#define COVERAGE_NAME_MAX	64
struct coverage_row {
	uint64_t	 code;		/* the region: the level's digits */
	char		 name[COVERAGE_NAME_MAX];	/* "" not known */
	long		 tps;		/* TPS in the registry */
	long		 expected[CONTEST_MAX + 1];	/* by enum contest */
	long		 reported[CONTEST_MAX + 1];
	long		 flagged[CONTEST_MAX + 1];
};
struct coverage {
	int			 digits;	/* 2, 4, 6, 10 */
	int			 registry;	/* expected is known */
	struct coverage_row	*rows;		/* by code */
	size_t			 nrows, cap;
	struct coverage_row	 total;
};
int		 coverage_build(struct coverage *, struct store *,
		    struct registry *, const struct election *,
		    const struct query_coverage *, char *, size_t);
long		 coverage_missing(const struct coverage_row *, enum contest);
void		 coverage_forget(void);
void		 coverage_free(struct coverage *);

/* menu.c: the USSD reporting menu, a pure function of its state */
#define MENU_SCREEN_MAX		182	/* GSM characters on one USSD screen */
#define MENU_INPUT_MAX		640	/* one input: all values joined by * */
enum menu_step {
	MENU_CONTEST = 0,	/* 1 PPWP .. 5 DPRDK */
	MENU_TPS,		/* 13 digits */
	MENU_PAGE,		/* DPR, DPRDP, DPRDK only */
	MENU_VALUES,		/* one per screen, or the rest joined by * */
	MENU_SEQ,		/* the card row */
	MENU_CODE,		/* 8 digits */
	MENU_REVIEW,		/* every number with its name; 1 goes on */
	MENU_SENT,		/* complete: handed to the receive stage */
};
enum menu_rc {
	MENU_WRONG = 0,		/* input refused: the screen says why */
	MENU_CON,		/* show the screen, wait for input */
	MENU_END,		/* show the screen, close the session */
	MENU_SUBMIT,		/* the report is complete: menu_report */
	MENU_RESUME,		/* the officer takes up the kept report */
};
struct menu {
	enum menu_step	 step;
	enum contest	 contest;
	uint64_t	 tps;
	int		 page;		/* -1: none */
	struct form	 form;
	size_t		 nvalues;	/* typed so far */
	uint16_t	 values[TALLY_MAXVALUES];
	unsigned	 seq;
	char		 code[TALLY_CODE_LEN + 1];
	int		 review;	/* review screen shown, from 0 */
};
struct menu_env {
	const struct election	*election;
	struct registry		*registry;	/* NULL: no registry check */
	const char		*resume;	/* a kept report, or NULL */
};
void		 menu_init(struct menu *);
enum menu_rc	 menu_screen(const struct menu *, const struct menu_env *,
		    char *, size_t);
enum menu_rc	 menu_input(struct menu *, const struct menu_env *,
		    const char *, char *, size_t);
int		 menu_report(const struct menu *, char *, size_t);
void		 menu_summary(const struct menu *, char *, size_t);
const char	*menu_step_name(enum menu_step);
/* A half-filled report as the store keeps it: what was typed, no form. */
struct menu_saved {
	char		 step[16];	/* menu_step_name */
	enum contest	 contest;
	uint64_t	 tps;
	int		 page;		/* -1: none */
	size_t		 nvalues;
	uint16_t	 values[TALLY_MAXVALUES];
	unsigned	 seq;		/* 0: none */
	char		 code[TALLY_CODE_LEN + 1];	/* "": none */
	int		 review;
};
void		 menu_save(const struct menu *, struct menu_saved *);
int		 menu_load(struct menu *, const struct menu_env *,
		    const struct menu_saved *);

/* callback.c: the form body of a USSD aggregator's callback */
#define CALLBACK_BODY_MAX	4096
struct callback {
	char		 session[65];		/* sessionId */
	char		 service[33];		/* serviceCode */
	char		 phone[WIRE_NUMBER_MAX];	/* phoneNumber */
	char		 network[33];		/* networkCode */
	char		 text[MENU_INPUT_MAX * 4];	/* inputs joined by * */
};
int		 callback_parse(const char *, size_t, struct callback *,
		    char *, size_t);
int		 callback_decode(const char *, size_t, int, char *, size_t);

/*
 * store.c, the USSD channel's rows: a finished session's last screen
 * (for a retried final request) and a number's half-filled report, so
 * that both outlive a restart (schema version 3).
 */
#define STORE_USSD_ANSWER_MAX	(MENU_SCREEN_MAX * 4 + 8)  /* END + UTF-8 */
struct store_ussd_end {
	char		 session[sizeof(((struct callback *)0)->session)];
	char		 phone[WIRE_NUMBER_MAX];
	char		 request[sizeof(((struct callback *)0)->text)];
	int64_t		 msg_id;
	char		 answer[STORE_USSD_ANSWER_MAX];	/* "END ..." */
	time_t		 ended;
	time_t		 expires;
};
struct store_ussd_kept {
	char		 phone[WIRE_NUMBER_MAX];
	char		 session[sizeof(((struct callback *)0)->session)];
	struct menu_saved menu;
	time_t		 kept_at;
	time_t		 expires;
};
int		 store_ussd_end_add(struct store *,
		    const struct store_ussd_end *);
int		 store_ussd_end_get(struct store *, const char *, time_t,
		    struct store_ussd_end *);
int		 store_ussd_keep(struct store *,
		    const struct store_ussd_kept *);
int		 store_ussd_kept_get(struct store *, const char *, time_t,
		    struct store_ussd_kept *);
int		 store_ussd_kept_del(struct store *, const char *);
int		 store_ussd_expire(struct store *, time_t, int *, int *);

/*
 * alert.c, its pure parts: whether each alert's condition holds, the
 * state an alert moves to, the operators' SMS and the hook's
 * environment (the daemon's side is in daemon.h).
 */
enum alert_state {
	ALERT_OK = 0,		/* the condition does not hold */
	ALERT_PENDING,		/* it holds, not yet for its hold time */
	ALERT_RAISED,		/* raised: listed, logged, sent */
	ALERT_CLEARED,		/* was raised; the condition is over */
};
/* What the loop knows of a modem, as the alerts look at it. */
struct alert_modem {
	char		 name[GW_MODEM_NAME_MAX];
	int		 watched;	/* enabled, configured: alerts apply */
	int		 working;	/* worker ready, sending or sweeping */
	char		 state[32];	/* "restart-wait/broken" */
	char		 error[GW_DETAIL_MAX];	/* what last went wrong */
	int		 sim_used, sim_total;
	long		 balance;	/* rupiah, -1 unknown */
	int		 sent_today, cap;	/* cap 0: none */
	time_t		 last_rx;	/* last SMS in, 0 none */
	time_t		 working_since;	/* 0: not working */
	int		 quiet_ok;	/* a sender of a split bank: its
					 * number is not the officers' */
};
struct alert_central {
	char		 name[GW_MODEM_NAME_MAX];
	int		 up;
	char		 error[GW_DETAIL_MAX];	/* the last outage */
	long		 failed;	/* forwards refused for good */
	int		 last_status;	/* HTTP, 0 none */
};
/* Everything an evaluation looks at. */
struct alert_input {
	const struct conf_alerts	*conf;
	time_t				 now;
	const struct alert_modem	*modems;
	size_t				 nmodems;
	const struct alert_central	*centrals;
	size_t				 ncentrals;
	struct store_bad		 bad;	/* within window */
	int				 window;	/* lockout_window */
	int				 tps_limit;	/* its TPS alert */
	long				 disk_mb;	/* free, -1 unknown */
	const char			*dir;	/* the state directory */
};
/* An alert raised or cleared: for the SMS and the hook. */
struct alert_note {
	int64_t		 id;
	enum alert_kind	 kind;
	char		 subject[GW_MODEM_NAME_MAX];	/* "" the gateway's */
	int		 raised;		/* 1 raised, 0 cleared */
	time_t		 raised_at;
	time_t		 at;			/* of this change */
	char		 text[GW_DETAIL_MAX];
};
#define ALERT_ENV		10	/* variables of the hook */
#define ALERT_ENV_LEN		(GW_DETAIL_MAX + 32)
enum alert_scope {
	ALERT_SCOPE_MODEM = 1,	/* one alert per modem */
	ALERT_SCOPE_CENTRAL,	/* one per central system */
	ALERT_SCOPE_GATEWAY,	/* one for the gateway */
};
enum alert_scope alert_scope(enum alert_kind);
int		 alert_hold(enum alert_kind, const struct conf_alerts *);
int		 alert_holds(enum alert_kind, const struct alert_input *,
		    size_t, char *, size_t);
enum alert_state alert_next(enum alert_state, int, time_t, time_t, int);
const char	*alert_state_name(enum alert_state);
int		 alert_sms_text(const char *, const struct alert_note *,
		    size_t, size_t, char *, size_t);
size_t		 alert_env(const char *, const struct alert_note *,
		    char (*)[ALERT_ENV_LEN], size_t);

/* kpps.c: the registered KPPS numbers of each TPS (optional) */
struct kpps;
struct kpps	*kpps_load(const char *, char *, size_t);
void		 kpps_free(struct kpps *);
int		 kpps_unregistered(const struct kpps *, uint64_t, const char *);

/* reply.c is in the protocol library: reply.h */

/* forward.c: signed JSON to the central system (docs/forward.md) */
struct fwd;
struct event_base;
enum fwd_outcome {
	FWD_OUT_STORED = 1,	/* 201 or 200: acked */
	FWD_OUT_REFUSED,	/* 409, 400, 401, 403, 413, 422: never retried */
	FWD_OUT_OUTAGE,		/* anything else, or no answer: retry */
};
typedef void	(*fwd_done_cb)(int64_t, enum fwd_outcome, int,
		    const char *, void *);
int		 forward_body(const struct store_msg *, const char *,
		    char **, size_t *);
int		 forward_idempotency_key(const struct store_msg *, char *,
		    size_t);
int		 forward_sign(const uint8_t *, const char *, size_t, char *,
		    size_t);
int		 forward_load_key(const char *, uint8_t *, char *, size_t);
time_t		 forward_backoff(int, int, int, uint32_t);
struct fwd	*forward_new(struct event_base *, const char *,
		    const uint8_t *, fwd_done_cb, void *);
void		 forward_free(struct fwd *);
int		 forward_post(struct fwd *, const char *, int, int64_t,
		    const char *, const char *, size_t);
int		 forward_inflight(struct fwd *, const char *);
int		 forward_set_ca(struct fwd *, const char *, const char *,
		    char *, size_t);
int		 forward_tls_check(const struct gw_conf *, char *, size_t);

/* parts.c: reassembly of long SMS, keyed on (modem, sender, ref, total) */
struct parts;
struct parts_done {
	char		 modem[GW_MODEM_NAME_MAX];
	char		 sender[WIRE_NUMBER_MAX];
	char		 smsc_time[WIRE_TIME_MAX];	/* of the first part */
	char		 text[GW_RAW_MAX];
	int		 nparts;		/* parts received */
	int		 total;			/* parts announced */
	int		 locations[16];		/* SIM slots to delete */
	char		 ids[16][WIRE_IDENT_MAX];	/* each part's (wire_ident) */
	int		 nlocations;
	time_t		 first_seen;
};
struct parts	*parts_new(void);
void		 parts_free(struct parts *);
int		 parts_add(struct parts *, const char *, const struct wire_msg *,
		    time_t, struct parts_done *);
int		 parts_expire(struct parts *, time_t, int, struct parts_done *);
size_t		 parts_pending(const struct parts *);
int		 parts_from(const struct parts *, const char *);

/* rate.c: messages per sender in its window, bounded (GW_RATE_SENDERS) */
struct rate;
struct rate	*rate_new(size_t);
void		 rate_free(struct rate *);
int		 rate_over(struct rate *, const char *, time_t, int, int);
size_t		 rate_expire(struct rate *, time_t, int);
size_t		 rate_size(const struct rate *, unsigned long *);

/* balance.c: prepaid airtime from an operator's USSD answer */
int		 balance_parse(const char *, const char *, long *, char *,
		    size_t);
const char	*balance_ussd_code(const char *);

/* forward.c: the scheduler of the forward rows (one per message and
 * central): pending -> sending -> acked | retry_wait | failed. */
struct fwd_queue;
struct fwd_central_stats {
	char		 name[GW_MODEM_NAME_MAX];
	char		 url[GW_URL_MAX];
	int		 up;		/* 0: failing, probed one at a time */
	int		 inflight;	/* requests now */
	int		 failures;	/* consecutive outages */
	time_t		 next_probe;	/* down: next try, else 0 */
	time_t		 last_ok;	/* last answer, 0 never */
	time_t		 last_fail;	/* last outage, 0 never */
	int		 last_status;	/* HTTP status, 0 no answer */
	char		 last_error[GW_DETAIL_MAX];
	long		 acked, refused, outages;	/* since start */
};
struct fwd_queue *forward_queue_new(struct event_base *, struct store *,
		    const struct gw_conf *, const uint8_t *);
void		 forward_queue_kick(struct fwd_queue *);
void		 forward_queue_free(struct fwd_queue *);
int		 forward_queue_retry(struct fwd_queue *, int64_t, int,
		    size_t *);
int		 forward_queue_stats(struct fwd_queue *,
    struct fwd_central_stats *,
		    size_t, size_t *);

/* metrics.c: the Prometheus text format 0.0.4 at /metrics (metrics.md) */
#define METRICS_BUCKETS_MAX	16	/* a histogram's bounds, +Inf apart */
#define METRICS_VALUE_MAX	64	/* a counted label value, truncated */
/* The families the stages count into (the others are read at scrape). */
enum metrics_kept {
	METRICS_MESSAGES = 0,	/* counter {channel, verdict} */
	METRICS_STAGE,		/* counter {channel, stage} */
	METRICS_COMMIT,		/* histogram {channel}: arrival to commit */
	METRICS_FWD_REQUEST,	/* histogram {central, outcome}: a request */
	METRICS_FWD_ACK,	/* histogram {central}: arrival to ack */
	METRICS_REPLIES,	/* gauge {state}: outgoing SMS by state */
	METRICS_FORWARDS,	/* gauge {state}: forwards by state */
	METRICS_KEPT_MAX
};
struct metrics_hist {
	const double	*bounds;	/* upper bounds, ascending */
	size_t		 nbounds;	/* <= METRICS_BUCKETS_MAX */
	uint64_t	 n[METRICS_BUCKETS_MAX + 1];	/* per bucket, not
							 * cumulative; last:
							 * above every bound */
	double		 sum;
	uint64_t	 count;
};
/* A scrape being written: the family its samples belong to. */
struct metrics_out {
	FILE		*f;
	const char	*name, *type, *help;
	int		 said;		/* its HELP and TYPE are written */
};
/* What a scrape shows of a modem (the numbers: metrics.c's table). */
struct metrics_modem {
	const char	*name, *oper, *number;
	const char	*state;		/* the worker's while it runs, else
					 * the supervisor's */
	long		 up;		/* ready, sending or sweeping */
	long		 enabled;
	long		 signal;	/* dBm; 0, -1 unknown */
	long		 registered;	/* home or roaming */
	long		 sim_used, sim_capacity;	/* 0: unknown */
	long		 balance;	/* rupiah, -1 unknown */
	long		 sent, send_failed, received;	/* since start */
	long		 sent_today, send_cap;		/* cap 0: none */
	long		 hold;		/* s before it may send again */
	long		 errors, restarts;
};
/* The state a scrape shows, read by admin.c when it is asked. */
struct metrics_scrape {
	time_t				 started;
	long				 parts_pending;
	const struct fwd_central_stats	*centrals;
	size_t				 ncentrals;
	const struct metrics_modem	*modems;
	size_t				 nmodems;
};
void		 metrics_count(enum metrics_kept, const char *, const char *,
		    long);
void		 metrics_observe(enum metrics_kept, const char *, const char *,
		    double);
void		 metrics_start(const struct store_counts *);
void		 metrics_stored(enum msg_kind, enum verdict);
void		 metrics_counts(struct store_counts *);
void		 metrics_reset(void);
double		 metrics_now(void);
double		 metrics_since(const char *);
void		 metrics_hist_add(struct metrics_hist *, double);
void		 metrics_begin(struct metrics_out *, FILE *);
void		 metrics_family(struct metrics_out *, const char *,
		    const char *, const char *);
void		 metrics_sample(struct metrics_out *, double, int, ...);
void		 metrics_hist_write(struct metrics_out *,
		    const struct metrics_hist *, int, ...);
int		 metrics_write(FILE *, const struct metrics_scrape *);

#endif /* GW_H */
