/*
 * tallygw: the coded tally protocol.
 *
 * The stages a report passes through, each in its own file:
 *   decode.c    text -> tokens -> struct report (syntax only)
 *   election.c  the election definition: which form a TPS fills in
 *   registry.c  the TPS registry (SQLite): which TPS exist, their DPT
 *   key.c       keys, content MAC, card codes, receipts (libsodium)
 *   lockout.c   failed-code counting per (sender, TPS)
 *   verify.c    authenticity, form shape, consistency flags, SEQ rules
 * docs/protocol.md is the normative description.
 */

#ifndef TALLY_H
#define TALLY_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TALLY_MAXVALUES		128	/* values in one report */
#define TALLY_MAXTOKENS		(TALLY_MAXVALUES + 6)
#define TALLY_CANON_MAX		(5 + 1 + 13 + 1 + 4 + 1 + 3 + 1 + \
				    TALLY_MAXVALUES * 4 + 1)
#define TALLY_CODE_LEN		8
#define TALLY_SEQ_MAX		9999
#define TALLY_VALUE_MAX		999
#define TALLY_TPS_DIGITS	13
#define TALLY_KEY_LEN		32
/* K_T for the MAC helper: 8 groups of 11 digits, single spaces. */
#define TALLY_HELPER_GROUPS	8
#define TALLY_HELPER_LEN	(TALLY_HELPER_GROUPS * 12 - 1)
#define TALLY_TEXT_MAX		4095	/* bytes of a message a gateway keeps;
					   tallyctl rejects a longer text */

enum contest {
	CONTEST_NONE = 0,
	CONTEST_PPWP = 1,	/* president */
	CONTEST_DPR = 2,	/* national parliament */
	CONTEST_DPD = 3,	/* regional representatives */
	CONTEST_DPRDP = 4,	/* provincial parliament */
	CONTEST_DPRDK = 5,	/* regency/city parliament */
};
#define CONTEST_MAX		5

/* Why a report was rejected; each has an operator text and a reply. */
enum reason {
	REASON_NONE = 0,
	REASON_EMPTY,		/* no tokens at all */
	REASON_CONTEST,		/* unknown contest keyword */
	REASON_TPS_FORMAT,	/* TPS not 13 digits */
	REASON_SEQ,		/* SEQ missing, not a number or out of 1..9999 */
	REASON_PAGE,		/* PAGE not a number */
	REASON_VALUE_FORMAT,	/* a value is not a number */
	REASON_VALUE_RANGE,	/* a value over 999 */
	REASON_CODE_FORMAT,	/* last token is not 8 digits */
	REASON_TOO_LONG,	/* more tokens than any form has */
	REASON_COUNT,		/* wrong number of values for the form */
	REASON_TPS_UNKNOWN,	/* TPS not in the registry */
	REASON_NOT_HELD,	/* contest not held at that TPS */
	REASON_PAGE_UNKNOWN,	/* no such party on that ballot */
	REASON_NO_KEY,		/* this gateway holds no key for the province */
	REASON_CODE_BAD,	/* neither MAC nor card code matches */
	REASON_LOCKED,		/* sender locked out for this TPS */
	REASON_SEQ_USED,	/* SEQ already used with other content */
	REASON_DIGITS,		/* digits other than ASCII 0-9 (Arabic, ...) */
	REASON_LIKE_PPWP,	/* paged contest, but the numbers fit PPWP */
	REASON_SEQ_MISSING,	/* no SEQ: the numbers start after the TPS */
	REASON_CODE_PLACE,	/* an 8-digit code where SEQ or PAGE goes */
	REASON_MAX
};

/* What a report looks like after decoding: syntax only. */
struct report {
	enum contest	 contest;
	uint64_t	 tps;
	unsigned	 seq;
	int		 page;		/* -1: contest has no pages */
	size_t		 nvalues;
	uint16_t	 values[TALLY_MAXVALUES];
	char		 code[TALLY_CODE_LEN + 1];
	char		 canon[TALLY_CANON_MAX];	/* "" unless decoded */
};

/* Where decoding stopped, to tell the officer exactly what is wrong. */
struct decode_error {
	enum reason	 reason;
	int		 token;		/* 1-based token position, 0 if none */
	int		 expected;	/* REASON_COUNT: values the form needs */
	int		 got;		/* REASON_COUNT: values received */
	char		 text[24];	/* the offending token, truncated */
};

/* decode.c */
struct tokens {
	size_t		 n;
	char		*tok[TALLY_MAXTOKENS + 1];
	char		 buf[1024];
	int		 truncated;	/* more tokens or text than fit */
};
int		 decode_tokens(const char *, size_t, struct tokens *);
int		 decode_number(const char *, unsigned long *, size_t);
int		 decode_foreign_digit(const char *, size_t, size_t *);
enum contest	 decode_contest(const char *);
const char	*decode_contest_name(enum contest);
int		 decode_contest_paged(enum contest);
int		 decode_report(const char *, size_t, struct report *,
		    struct decode_error *);
int		 decode_canon(struct report *);

/* key.c */
enum key_kind {
	KEY_ROOT = 1,
	KEY_PROVINCE = 2,
};
struct key {
	enum key_kind	 kind;
	int		 province;	/* KEY_PROVINCE only */
	uint8_t		 k[TALLY_KEY_LEN];
};
int		 key_init(void);
int		 key_generate(struct key *);
int		 key_derive_province(const struct key *, int, struct key *);
int		 key_derive_tps(const struct key *, uint64_t,
		    uint8_t [TALLY_KEY_LEN]);
int		 key_load(const char *, struct key *, char *, size_t);
ssize_t		 key_read_secret(const char *, const char *, char *, size_t,
		    char *, size_t);
int		 key_save(const char *, const struct key *, char *, size_t);
int		 key_format(const struct key *, char *, size_t);
int		 key_parse(const char *, struct key *);
void		 key_mac(const uint8_t [TALLY_KEY_LEN], const char *,
		    char [TALLY_CODE_LEN + 1]);
void		 key_card(const uint8_t [TALLY_KEY_LEN], unsigned,
		    char [TALLY_CODE_LEN + 1]);
void		 key_receipt(const uint8_t [TALLY_KEY_LEN], const char *,
		    char [TALLY_CODE_LEN + 1]);
void		 key_helper(const uint8_t [TALLY_KEY_LEN],
		    char [TALLY_HELPER_LEN + 1]);
int		 key_code_equal(const char *, const char *);
void		 key_wipe(void *, size_t);

/* election.c: see docs/election.md for the file format */
enum form_kind {
	FORM_SUMMARY = 1,	/* PEMILIH, one per choice, SAH, TIDAK_SAH */
	FORM_PARTY = 2,		/* PARTAI, one per candidate */
};
struct form {
	enum form_kind	 kind;
	size_t		 nvalues;	/* values the officer types */
	size_t		 nchoices;	/* pairs, candidates or parties */
	int		 choices[TALLY_MAXVALUES]; /* SUMMARY of a paged
					   contest: party ballot numbers */
	const char	*district;	/* electoral district, or NULL */
};
struct election;
struct election	*election_load(const char *, char *, size_t);
struct election	*election_parse(const char *, size_t, const char *, char *,
		    size_t);
struct election	*election_default(void);
void		 election_free(struct election *);
const char	*election_name(const struct election *);
int		 election_form(const struct election *, enum contest, uint64_t,
		    int, struct form *, enum reason *);
const char	*election_party_name(const struct election *, int);

/* registry.c: the TPS registry, an SQLite database */
struct tps_info {
	uint64_t	 tps;
	int		 dpt;		/* registered voters, 0 if unknown */
	char		 prov[64];
	char		 kab[64];
	char		 kec[64];
	char		 desa[64];
};
struct registry;
struct registry	*registry_open(const char *, int, char *, size_t);
void		 registry_close(struct registry *);
int		 registry_lookup(struct registry *, uint64_t, struct tps_info *);
void		 registry_batch_begin(struct registry *);
void		 registry_batch_end(struct registry *);
int		 registry_import_desa(struct registry *, const char *,
		    size_t *, char *, size_t);
int		 registry_import_dpt(struct registry *, const char *,
		    size_t *, char *, size_t);
int		 registry_count(struct registry *, size_t *);
/* One village and how many TPS it has (coverage by region). */
struct registry_village {
	uint64_t	 code;		/* 10-digit kode_desa */
	long		 ntps;
	char		 prov[64];
	char		 kab[64];
	char		 kec[64];
	char		 desa[64];
};
int		 registry_villages(struct registry *, uint64_t, uint64_t,
		    int (*)(const struct registry_village *, void *), void *);
int64_t		 registry_version(struct registry *);
#define REGISTRY_RDONLY		0
#define REGISTRY_CREATE		1

/* lockout.c: repeated bad codes lock a sender out of one TPS */
struct lockout_conf {
	int		 max_failures;	/* per (sender, TPS) in window */
	time_t		 window;	/* seconds */
	time_t		 duration;	/* lockout length, seconds */
	int		 alert_failures; /* per TPS across senders in window */
};
#define LOCKOUT_MAX_FAILURES	5
#define LOCKOUT_WINDOW		3600
#define LOCKOUT_DURATION	3600
#define LOCKOUT_ALERT_FAILURES	20
#define LOCKOUT_ENTRIES		8192	/* cap: (sender, TPS) pairs held */
struct lockout;
struct lockout	*lockout_new(const struct lockout_conf *);
void		 lockout_free(struct lockout *);
int		 lockout_locked(struct lockout *, const char *, uint64_t, time_t);
int		 lockout_fail(struct lockout *, const char *, uint64_t, time_t);
void		 lockout_expire(struct lockout *, time_t);
size_t		 lockout_size(const struct lockout *, unsigned long *);
#define LOCKOUT_FAIL_COUNTED	0
#define LOCKOUT_FAIL_LOCKED	1	/* this failure locked the sender */
#define LOCKOUT_FAIL_ALERT	2	/* bit: TPS-wide alert threshold */

/* verify.c */
enum verdict {
	VERDICT_OK = 1,
	VERDICT_FLAGGED,
	VERDICT_DUPLICATE,
	VERDICT_REJECTED,
};
enum auth {
	AUTH_NONE = 0,
	AUTH_MAC,
	AUTH_CARD,
};
#define FLAG_SUM	0x01	/* choices do not sum to SAH */
#define FLAG_TOTAL	0x02	/* SAH + TIDAK_SAH != PEMILIH */
#define FLAG_DPT	0x04	/* PEMILIH over DPT + 2% */
#define FLAG_PARTY	0x08	/* PARTAI + candidates != page 0 total */
#define FLAG_SENDER	0x10	/* sender not registered for the TPS */
#define FLAG_STALE	0x20	/* a higher SEQ is already recorded */
#define FLAG_ALL	0x3f

/* An accepted report already recorded, as the SEQ rules need it. */
struct prior {
	unsigned	 seq;
	enum contest	 contest;
	int		 page;
	size_t		 nvalues;
	uint16_t	 values[TALLY_MAXVALUES];
	char		 canon[TALLY_CANON_MAX];
	char		 receipt[TALLY_CODE_LEN + 1];
};

/* How verify looks up what is already recorded; NULL = nothing is. */
struct verify_history {
	/* 1 found, 0 not, -1 error */
	int		(*by_seq)(void *, uint64_t, unsigned, struct prior *);
	int		(*latest)(void *, uint64_t, enum contest, int,
			    struct prior *);
	void		*arg;
};

struct verify_ctx {
	const struct election	*election;
	struct registry		*registry;	/* NULL: skip registry checks */
	const struct key	*key;
	struct verify_history	*history;	/* NULL: no history */
	struct lockout		*lockout;	/* NULL: no lockout */
	int			 default_dpt;	/* when DPT unknown; 0: skip */
};
#define VERIFY_DEFAULT_DPT	300	/* legal maximum voters per TPS */

struct verify_result {
	enum verdict	 verdict;
	enum reason	 reason;		/* VERDICT_REJECTED */
	struct decode_error err;		/* details of the reason */
	enum auth	 auth;
	unsigned	 flags;
	int		 lockout;		/* LOCKOUT_FAIL_* of this one */
	unsigned	 supersedes;		/* SEQ this corrects, 0 none */
	unsigned	 superseded_by;		/* FLAG_STALE: the newer SEQ */
	int		 dpt;			/* DPT used, 0 if none */
	int		 party_total;		/* FORM_PARTY: page 0 total,
						   -1 if unknown */
	struct form	 form;
	char		 receipt[TALLY_CODE_LEN + 1];
};
int		 verify_report(struct verify_ctx *, const char *, size_t,
		    const char *, time_t, struct report *,
		    struct verify_result *);
int		 verify_decoded(const struct verify_result *,
		    const struct report *);
const char	*verify_verdict_name(enum verdict);
const char	*verify_reason_text(enum reason);
int		 verify_explain(const struct verify_result *, const struct report *,
		    char *, size_t);
int		 verify_flags_text(unsigned, char *, size_t);

#endif /* TALLY_H */
