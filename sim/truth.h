/*
 * truth: what the protocol says about a simulated officer's message,
 * derived from what the officer meant and the one mistake made.
 *
 * The rules of docs/protocol.md (sections 3, 5, 7, 11, 13, 14, 15) are
 * written down here a second time, on their own: the scenario's
 * expected outcomes never come from the gateway's verify stage, so a
 * wrong decision there is a discrepancy, not an expectation. Only the
 * codes and the receipt come from the key functions (key.c), the form
 * shapes from the election definition and the DPT from the registry.
 * docs/scenario.md, "Expected outcomes".
 */

#ifndef TRUTH_H
#define TRUTH_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tally.h"

/* The one mistake in a message, as the officer made it. */
enum truth_slip {
	TRUTH_NONE = 0,
	TRUTH_TYPO,		/* value k typed as `typed' */
	TRUTH_CODE_WRONG,	/* the code copied with a digit off */
	TRUTH_CODE_MISSING,	/* the code left out */
	TRUTH_VALUE_MISSING,	/* value k left out */
	TRUTH_SLIP_MAX
};

/* One message: what the officer meant, the mistake, when it arrives. */
struct truth_msg {
	const char	*sender;	/* the phone number */
	uint64_t	 tps;
	enum contest	 contest;
	int		 page;		/* -1: PPWP and DPD */
	unsigned	 seq;
	const uint16_t	*meant;		/* the form's values, as meant */
	size_t		 nmeant;
	enum truth_slip	 slip;
	size_t		 k;		/* TYPO, VALUE_MISSING: which value */
	uint16_t	 typed;		/* TYPO: what was typed for it */
	enum auth	 mode;		/* AUTH_CARD: card row SEQ;
					   AUTH_MAC: the helper's MAC */
	time_t		 at;		/* when it reaches the gateway */
};

/* What the protocol gives the message. */
struct truth_expect {
	enum verdict	 verdict;
	enum reason	 reason;	/* REJECTED only, else REASON_NONE */
	unsigned	 flags;		/* FLAG_x */
	enum auth	 auth;		/* AUTH_NONE unless the code was good */
	unsigned	 supersedes;	/* the SEQ it corrects, 0 none */
	unsigned	 superseded_by;	/* FLAG_STALE: the newer SEQ */
	int		 decoded;	/* the text decodes: values, canon */
	size_t		 nvalues;	/* as typed */
	uint16_t	 values[TALLY_MAXVALUES];
	char		 canon[TALLY_CANON_MAX];
	char		 receipt[TALLY_CODE_LEN + 1];	/* OK, FLAGGED,
					   DUPLICATE; else "" */
	char		 quoted[TALLY_CODE_LEN + 1];	/* SEQ_USED: the
					   receipt of the report that used
					   the SEQ; else "" */
};

struct truth_conf {
	const struct election	*election;
	struct registry		*registry;	/* NULL: none loaded */
	const struct key	*key;		/* root or province key */
};

struct truth;

struct truth	*truth_new(const struct truth_conf *);
void		 truth_free(struct truth *);
int		 truth_judge(struct truth *, const struct truth_msg *,
		    struct truth_expect *);
size_t		 truth_typed(const struct truth_msg *, uint16_t *);
int		 truth_canon(enum contest, uint64_t, unsigned, int,
		    const uint16_t *, size_t, char *, size_t);
const char	*truth_verdict_name(enum verdict);
const char	*truth_flag_name(unsigned);
int		 truth_flags_text(unsigned, char *, size_t);

#endif /* TRUTH_H */
