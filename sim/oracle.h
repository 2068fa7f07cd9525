/*
 * oracle: judges a run of the gateway against a scenario. It compares
 * what every phone received back, what the central receiver holds and
 * the screens of every USSD session with what the protocol says must
 * happen to each message, and lists every discrepancy with the message
 * it concerns. docs/scenario.md.
 */

#ifndef ORACLE_H
#define ORACLE_H

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#include "scenario.h"
#include "tally.h"

/* One SMS a phone received. */
struct oracle_reply {
	TAILQ_ENTRY(oracle_reply) entry;
	char		 phone[32];	/* who received it */
	char		 from[32];	/* the gateway's modem */
	char		*text;
	char		 time[40];
};
TAILQ_HEAD(oracle_replyq, oracle_reply);

/* One record held by the central receiver (docs/forward.md). */
struct oracle_record {
	TAILQ_ENTRY(oracle_record) entry;
	uint64_t	 tps;
	enum contest	 contest;
	int		 page;		/* -1: none */
	unsigned	 seq;
	size_t		 nvalues;
	uint16_t	 values[TALLY_MAXVALUES];
	unsigned	 flags;
	char		 receipt[TALLY_CODE_LEN + 1];
	char		 idempotency_key[64];
	int		 unverified;	/* signature_ok false at the receiver */
	int		 used;		/* oracle's own mark */
};
TAILQ_HEAD(oracle_recordq, oracle_record);

/* One screen a USSD session got (RUNDIR/ussd.jsonl, docs/sim.md). */
struct oracle_screen {
	int		 i;		/* the input it answers; -1 the dial */
	int		 retry;		/* the last step posted again */
	int		 end;		/* 1 END, 0 CON, -1 none (an error) */
	char		*text;
};

/* One USSD session as tallysim's aggregator played it. */
struct oracle_session {
	TAILQ_ENTRY(oracle_session) entry;
	size_t		 msg;		/* the scenario's message id */
	size_t		 k;		/* its session, from 0 */
	char		 phone[32];
	char		 end[16];	/* END dropped timeout error, "" */
	char		 error[160];
	size_t		 nscreens;
	struct oracle_screen *screens;
};
TAILQ_HEAD(oracle_sessionq, oracle_session);

struct oracle_input {
	struct oracle_replyq	 replies;
	struct oracle_recordq	 records;
	struct oracle_sessionq	 sessions;
	size_t			 nreplies;
	size_t			 nrecords;
	size_t			 nsessions;
	unsigned		 ignore_flags;	/* FLAG_x not compared */
};

/* Each kind of discrepancy the oracle can find. */
enum oracle_check {
	ORACLE_FORWARD_MISSING = 0,	/* accepted, not at central */
	ORACLE_FORWARD_TWICE,		/* one report held more than once */
	ORACLE_FORWARD_UNEXPECTED,	/* held, but never accepted */
	ORACLE_FORWARD_VALUES,		/* contest, page or values differ */
	ORACLE_FORWARD_FLAGS,
	ORACLE_FORWARD_RECEIPT,
	ORACLE_FORWARD_KEY,		/* idempotency key not TPS-SEQ-RCPT */
	ORACLE_CONFIRM_MISSING,		/* no confirmation with the receipt */
	ORACLE_CONFIRM_EXTRA,		/* receipt confirmed too many times */
	ORACLE_RECEIPT_WRONG,		/* a confirmation with a wrong code */
	ORACLE_REJECT_UNANSWERED,	/* a rejected report got no reply */
	ORACLE_REPLY_EXTRA,		/* more replies than reports */
	ORACLE_REPLY_UNEXPECTED,	/* a reply to a number that sent none */
	ORACLE_LATEST_MISSING,		/* central lacks a (TPS, contest, page) */
	ORACLE_LATEST_WRONG,		/* its latest SEQ or receipt differ */
	ORACLE_FORWARD_UNSIGNED,	/* held, its signature not verified */
	ORACLE_USSD_MISSING,		/* a session dialled, not logged */
	ORACLE_USSD_FAILED,		/* it broke the network's rules */
	ORACLE_USSD_VERDICT,		/* END screen: another verdict */
	ORACLE_USSD_RECEIPT,		/* the END screen's receipt is wrong */
	ORACLE_USSD_ENDED,		/* END where the officer was not done */
	ORACLE_USSD_RESUME,		/* a redial not offered its report */
	ORACLE_USSD_WRONG_KEY,		/* a wrong key not refused */
	ORACLE_USSD_RETRY,		/* last step again: other screen */
	ORACLE_CHECK_MAX
};

struct oracle_disc {
	TAILQ_ENTRY(oracle_disc) entry;
	enum oracle_check	 what;
	const struct sc_msg	*msg;		/* or NULL */
	char			 phone[32];
	uint64_t		 tps;
	enum contest		 contest;
	int			 page;
	unsigned		 seq;
	char			 detail[256];
};
TAILQ_HEAD(oracle_discq, oracle_disc);

struct oracle_report {
	size_t			 sent;
	size_t			 expect[VERDICT_REJECTED + 1];
	size_t			 confirmed;	/* messages confirmed */
	size_t			 answered;	/* rejections answered */
	size_t			 forwarded;	/* accepted reports held once */
	size_t			 replies;
	size_t			 records;
	size_t			 bysms;		/* reports sent by SMS */
	size_t			 byussd;	/* ... by USSD */
	size_t			 phones_sms;
	size_t			 phones_ussd;
	size_t			 sessions;	/* USSD sessions dialled */
	size_t			 played;	/* ... found in the log */
	size_t			 screens;	/* reports' END screens */
	size_t			 screens_right;
	size_t			 cut;		/* dropped, timed out, quit */
	size_t			 cut_right;	/* ... ended with no verdict */
	size_t			 resumed;	/* redials taking up a report */
	size_t			 resumed_right;
	size_t			 ndisc;
	size_t			 count[ORACLE_CHECK_MAX];
	struct oracle_discq	 discs;
};

struct oracle_input *oracle_input_new(void);
void		 oracle_input_free(struct oracle_input *);
int		 oracle_add_reply(struct oracle_input *, const char *,
		    const char *, const char *, const char *);
int		 oracle_add_record(struct oracle_input *,
		    const struct oracle_record *);
int		 oracle_load_inbox_jsonl(struct oracle_input *, FILE *,
		    char *, size_t);
int		 oracle_load_central_jsonl(struct oracle_input *, FILE *,
		    char *, size_t);
int		 oracle_add_screen(struct oracle_input *, size_t, size_t,
		    const char *, int, int, const char *, const char *);
int		 oracle_end_session(struct oracle_input *, size_t, size_t,
		    const char *, const char *, const char *);
int		 oracle_load_ussd_jsonl(struct oracle_input *, FILE *,
		    char *, size_t);
int		 oracle_judge(const struct scenario *,
		    const struct oracle_input *, struct oracle_report *);
void		 oracle_report_free(struct oracle_report *);
void		 oracle_print(FILE *, const struct oracle_report *, int);
const char	*oracle_check_name(enum oracle_check);

#endif /* ORACLE_H */
