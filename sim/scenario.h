/*
 * scenario: what the simulated KPPS phones send on election night.
 *
 * A pure module: from a seed, the real PPWP numbers of
 * ../shared/data/pilpres2024_tps.csv and the election definition, it
 * builds the list of SMS every phone sends, in time order, each with
 * the mistake it carries and the outcome the protocol gives it (found
 * by truth.c from what the officer meant and that mistake, over the
 * messages in send order; never by asking the gateway's verify stage).
 * A share of the officers report by USSD instead: each of their
 * reports carries the sessions they dial and what they type in each.
 * docs/scenario.md describes the model and its knobs.
 */

#ifndef SCENARIO_H
#define SCENARIO_H

#include <sys/queue.h>

#include <stdint.h>
#include <stdio.h>

#include "tally.h"
#include "truth.h"

/* What a message is, from the officer's side. */
enum sc_kind {
	SC_CLEAN = 0,		/* typed right the first time */
	SC_TYPO_DIGIT,		/* one digit of a value mistyped */
	SC_TYPO_SWAP,		/* two digits of a value swapped */
	SC_CODE_WRONG,		/* one digit of the code off */
	SC_CODE_MISSING,	/* the code left out */
	SC_VALUE_MISSING,	/* one value left out */
	SC_RESEND,		/* the same SMS sent again */
	SC_REFIX,		/* a rejected report sent again, fixed, same SEQ */
	SC_CORRECTION,		/* a noticed typo corrected with a new SEQ */
	SC_SEQ_REUSE,		/* a correction that reused the old SEQ */
	SC_KIND_MAX
};

enum sc_mode {
	SC_MODE_CARD = 0,	/* printed one-time card: row SEQ */
	SC_MODE_MAC,		/* helper computes the content MAC */
};

/* The human error model: probabilities per first attempt of a report. */
struct scenario_errors {
	double	 typo_digit;	/* a value has one digit mistyped */
	double	 typo_swap;	/* a value has two digits swapped */
	double	 code_wrong;	/* one digit of the code is off */
	double	 code_missing;	/* the code is left out */
	double	 value_missing;	/* one value is left out */
	double	 resend;	/* an accepted SMS is sent again */
	double	 notice;	/* an accepted typo is noticed and corrected */
	double	 seq_reuse;	/* a correction reuses the SEQ it corrects */
	int	 max_bad_codes;	/* bad codes per TPS, below the lockout */
};

/* Typing style: how officers write the same report differently. */
struct scenario_style {
	double	 keyword;	/* contest as PPWP/DPR/... not a digit */
	double	 lowercase;	/* a keyword typed in lower case */
	double	 zero_seq;	/* SEQ with a leading zero (01) */
	double	 zero_value;	/* a value with leading zeros (007) */
	double	 boxes;		/* every value as 3 digits, like the form */
};

/*
 * USSD officers: their share of the phones and the slips of their
 * sessions (docs/scenario.md). Probabilities per report.
 */
struct scenario_ussd {
	double	 share;		/* phones that report by USSD, not SMS */
	double	 oneby;		/* values one per screen (forms <= 12) */
	double	 wrong_key;	/* a wrong key on one screen */
	double	 back;		/* a wrong answer, back, the right one */
	double	 restart;	/* a wrong number seen on review: 00 */
	double	 drop;		/* the signal lost: redial and resume */
	double	 timeout;	/* too slow on a screen: redial, resume */
	double	 abandon;	/* dropped, later again from the start */
	double	 retry;		/* the aggregator posts the last step twice */
};

struct scenario_conf {
	const char		*csv;		/* pilpres2024_tps.csv */
	const char		*desa_csv;	/* desa_tps_2024.csv, or NULL */
	const struct election	*election;
	const struct key	*key;		/* root or province key */
	const char		*registry;	/* registry path, or NULL */
	uint64_t		 seed;
	size_t			 ntps;
	double			 long_share;	/* TPS from big-DPD provinces */
	unsigned		 night;		/* seconds of the night */
	unsigned		 contests;	/* bits 1 << CONTEST_x */
	int			 party_pages;	/* K party pages per contest */
	double			 card_share;	/* phones in card mode */
	struct scenario_errors	 err;
	struct scenario_style	 style;
	struct scenario_ussd	 ussd;
	time_t			 epoch;		/* send time 0, for verify */
};

/* What the protocol says about one message. */
struct sc_expect {
	enum verdict	 verdict;
	enum reason	 reason;	/* REJECTED only */
	unsigned	 flags;
	enum auth	 auth;
	unsigned	 supersedes;
	int		 forward;	/* must reach the central system */
	size_t		 nvalues;	/* as decoded, 0 if not decoded */
	uint16_t	*values;	/* nvalues of them, or NULL */
	char		*canon;		/* NULL if not decoded */
	char		 receipt[TALLY_CODE_LEN + 1];	/* "" if none */
	char		 quoted[TALLY_CODE_LEN + 1];	/* SEQ_USED: the
					   earlier receipt the reply may
					   quote */
};

/* How a USSD officer's session ends. */
enum sc_end {
	SC_END_SUBMIT = 0,	/* 1 KIRIM: the END screen with the verdict */
	SC_END_DROP,		/* the signal is lost: redial, 9 resumes */
	SC_END_TIMEOUT,		/* too slow on a screen, the network gives
				   up: redial, 9 resumes */
	SC_END_ABANDON,		/* dropped and given up: later from the start */
	SC_END_MAX
};

/* The one slip in the typing of a USSD report, if any. */
enum sc_slip {
	SC_SLIP_NONE = 0,
	SC_SLIP_KEY,		/* a wrong key: the screen comes again */
	SC_SLIP_BACK,		/* a wrong answer, 0 (# on values), the right */
	SC_SLIP_START,		/* a wrong number seen on review: 00, again */
	SC_SLIP_MAX
};

#define SC_USSD_CONFIRMS	24	/* "1" on review screens, at most */
#define SC_USSD_CONFIRM_SEC	2	/* seconds to read a review screen */
#define SC_USSD_WAIT_SEC	60	/* the network waits for input */
#define SC_USSD_SESSIONS	2	/* the last one sends the report */

/*
 * One dial of the service code: the inputs the officer types, in
 * order; after them, a SC_END_SUBMIT session answers each review
 * screen with "1" until the END screen.
 */
struct sc_session {
	enum sc_end	 end;
	int		 resume;	/* begins with 9: the kept report */
	int		 retry;		/* the last step is posted twice */
	int		 wrong;		/* the input that is wrong, or -1 */
	unsigned	 gap;		/* seconds after the previous session */
	size_t		 ninputs;
	char		**inputs;
	unsigned	*think;		/* seconds before each input */
};

/* A report sent by USSD. */
struct sc_ussd {
	enum sc_slip		 slip;
	unsigned		 sent;	/* seconds from the start: 1 KIRIM */
	size_t			 nsessions;
	struct sc_session	 sessions[SC_USSD_SESSIONS];
};

struct sc_phone;

struct sc_msg {
	TAILQ_ENTRY(sc_msg)	 entry;		/* all, in time order */
	TAILQ_ENTRY(sc_msg)	 pentry;	/* one phone's, in send order */
	size_t			 id;		/* 0.. in time order */
	const struct sc_phone	*phone;
	uint64_t		 tps;
	enum contest		 contest;
	int			 page;		/* -1 PPWP and DPD */
	unsigned		 seq;
	unsigned		 t;		/* seconds from the start */
	enum sc_kind		 kind;
	char			*text;
	size_t			 parts;		/* SMS parts (GSM 7-bit) */
	char			 code[TALLY_CODE_LEN + 1]; /* as typed */
	enum truth_slip		 slip;		/* the mistake in the text */
	size_t			 slipk;		/* the value mistyped or
						   left out */
	uint16_t		 sliptyped;	/* TRUTH_TYPO: typed for it */
	struct sc_ussd		*ussd;		/* NULL: sent by SMS */
	struct sc_expect	 expect;
};
TAILQ_HEAD(sc_msgq, sc_msg);

struct sc_phone {
	TAILQ_ENTRY(sc_phone)	 entry;
	uint64_t		 tps;
	char			 msisdn[32];
	enum sc_mode		 mode;
	int			 ussd;		/* reports by USSD, not SMS */
	struct sc_msgq		 msgs;
	size_t			 nmsgs;
};
TAILQ_HEAD(sc_phoneq, sc_phone);

/* What the central system must show as current. */
struct sc_final {
	TAILQ_ENTRY(sc_final)	 entry;
	uint64_t		 tps;
	enum contest		 contest;
	int			 page;
	unsigned		 seq;
	char			 receipt[TALLY_CODE_LEN + 1];
	const struct sc_msg	*msg;
};
TAILQ_HEAD(sc_finalq, sc_final);

struct scenario {
	struct sc_msgq		 msgs;
	struct sc_phoneq	 phones;
	struct sc_finalq	 finals;
	size_t			 nmsgs;
	size_t			 nphones;
	size_t			 nfinals;
	uint64_t		 seed;
};

void		 scenario_defaults(struct scenario_conf *);
int		 scenario_build(const struct scenario_conf *, struct scenario **,
		    char *, size_t);
void		 scenario_free(struct scenario *);
const struct sc_msg *scenario_first(const struct scenario *);
const struct sc_msg *scenario_next(const struct sc_msg *);
const struct sc_phone *scenario_phone(const struct scenario *, const char *);
int		 scenario_write(FILE *, const struct scenario *);
void		 scenario_summary(FILE *, const struct scenario *);
size_t		 scenario_count(const struct scenario *, int, int);
const char	*scenario_kind_name(enum sc_kind);
const char	*scenario_reason_name(enum reason);
const char	*scenario_end_name(enum sc_end);
const char	*scenario_slip_name(enum sc_slip);
unsigned	 scenario_sent_at(const struct sc_msg *);

#endif /* SCENARIO_H */
