/*
 * verify: the second stage. Decides what a decoded report is:
 * rejected (with the exact reason), a duplicate, or accepted (OK or
 * FLAGGED with the consistency rules it breaks), and how it relates to
 * what is already recorded for its TPS (correction, stale).
 */

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tally.h"

#define FLAGS_FLAGGING	(FLAG_SUM | FLAG_TOTAL | FLAG_DPT | FLAG_PARTY | \
			    FLAG_SENDER)

static const char *verify_reasons[REASON_MAX] = {
	[REASON_NONE] =		"no error",
	[REASON_EMPTY] =	"empty message",
	[REASON_CONTEST] =	"unknown contest",
	[REASON_TPS_FORMAT] =	"TPS code is not 13 digits",
	[REASON_SEQ] =		"message number is not 1..9999",
	[REASON_PAGE] =		"page is not a number",
	[REASON_VALUE_FORMAT] =	"a value is not a number",
	[REASON_VALUE_RANGE] =	"a value is over 999",
	[REASON_CODE_FORMAT] =	"code is not 8 digits",
	[REASON_TOO_LONG] =	"message too long",
	[REASON_COUNT] =	"wrong number of values for the form",
	[REASON_TPS_UNKNOWN] =	"TPS not in the registry",
	[REASON_NOT_HELD] =	"contest not held at this TPS",
	[REASON_PAGE_UNKNOWN] =	"no such page on this ballot",
	[REASON_NO_KEY] =	"no key for this province",
	[REASON_CODE_BAD] =	"code does not match",
	[REASON_LOCKED] =	"sender locked out after repeated bad codes",
	[REASON_SEQ_USED] =	"message number already used for other content",
	[REASON_DIGITS] =	"digits other than 0-9",
	[REASON_LIKE_PPWP] =	"PPWP numbers under a paged contest",
	[REASON_SEQ_MISSING] =	"message number missing",
	[REASON_CODE_PLACE] =
	    "code where the message number or page goes",
};

static const struct {
	unsigned	 flag;
	const char	*name;
} verify_flags[] = {
	{ FLAG_SUM,	"SUM" },
	{ FLAG_TOTAL,	"TOTAL" },
	{ FLAG_DPT,	"DPT" },
	{ FLAG_PARTY,	"PARTY" },
	{ FLAG_SENDER,	"SENDER" },
	{ FLAG_STALE,	"STALE" },
};

static int	verify_reject(struct verify_result *, enum reason);
static void	verify_rules(struct verify_ctx *, const struct report *,
		    struct verify_result *);
static int	verify_seq(struct verify_ctx *, const struct report *,
		    struct verify_result *);
static int	verify_like_ppwp(struct verify_ctx *, const struct report *);
static int	verify_seq_missing(const struct report *, const struct form *);

/*
 * Whether verify_report filled the report's contest, TPS and SEQ: it was
 * decoded (it has a canonical text), or it was refused for too few
 * values (its header is whole then). Not by reason number: reasons of
 * decode were added after REASON_COUNT.
 */
int
verify_decoded(const struct verify_result *res, const struct report *r)
{
	return (r->canon[0] != '\0' || res->reason == REASON_COUNT);
}

const char *
verify_verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_OK:
		return ("OK");
	case VERDICT_FLAGGED:
		return ("FLAGGED");
	case VERDICT_DUPLICATE:
		return ("DUPLICATE");
	case VERDICT_REJECTED:
		return ("REJECTED");
	}
	return ("?");
}

const char *
verify_reason_text(enum reason r)
{
	if (r >= REASON_MAX)
		return ("?");
	return (verify_reasons[r]);
}

static int
verify_reject(struct verify_result *res, enum reason reason)
{
	res->verdict = VERDICT_REJECTED;
	res->reason = reason;
	if (res->err.reason == REASON_NONE)
		res->err.reason = reason;
	return (0);
}

/* ceil(1.02 * dpt): ballots are DPT plus a 2% reserve. */
static int
verify_ballots(int dpt)
{
	return ((102 * dpt + 99) / 100);
}

/* The consistency rules: they flag, they never reject. */
static void
verify_rules(struct verify_ctx *ctx, const struct report *r,
    struct verify_result *res)
{
	struct prior	 page0;
	struct form	 f0;
	enum reason	 why;
	unsigned	 sum = 0;
	size_t		 i, n = r->nvalues;
	int		 rc;

	res->party_total = -1;
	if (res->form.kind == FORM_SUMMARY) {
		for (i = 1; i + 2 < n; i++)
			sum += r->values[i];
		if (sum != r->values[n - 2])
			res->flags |= FLAG_SUM;
		if ((unsigned)r->values[n - 2] + r->values[n - 1] !=
		    r->values[0])
			res->flags |= FLAG_TOTAL;
		if (res->dpt > 0 && r->values[0] > verify_ballots(res->dpt))
			res->flags |= FLAG_DPT;
		return;
	}
	/* A party page checks against the party's total on page 0. */
	if (ctx->history == NULL || ctx->history->latest == NULL)
		return;
	rc = ctx->history->latest(ctx->history->arg, r->tps, r->contest, 0,
	    &page0);
	if (rc != 1)
		return;
	if (election_form(ctx->election, r->contest, r->tps, 0, &f0, &why) ==
	    -1 || page0.nvalues != f0.nvalues)
		return;
	for (i = 0; i < f0.nchoices; i++) {
		if (f0.choices[i] == r->page) {
			res->party_total = page0.values[1 + i];
			break;
		}
	}
	if (res->party_total < 0)
		return;
	for (i = 0; i < n; i++)
		sum += r->values[i];
	if (sum != (unsigned)res->party_total)
		res->flags |= FLAG_PARTY;
}

/* SEQ rules: duplicate, used number, correction, stale. */
static int
verify_seq(struct verify_ctx *ctx, const struct report *r,
    struct verify_result *res)
{
	struct verify_history	*h = ctx->history;
	struct prior		 p;
	int			 rc;

	if (h == NULL)
		return (0);
	rc = h->by_seq(h->arg, r->tps, r->seq, &p);
	if (rc == -1)
		return (-1);
	if (rc == 1) {
		if (strcmp(p.canon, r->canon) == 0) {
			res->verdict = VERDICT_DUPLICATE;
			memcpy(res->receipt, p.receipt, sizeof(res->receipt));
			return (1);
		}
		verify_reject(res, REASON_SEQ_USED);
		memcpy(res->receipt, p.receipt, sizeof(res->receipt));
		return (1);
	}
	rc = h->latest(h->arg, r->tps, r->contest, r->page, &p);
	if (rc == -1)
		return (-1);
	if (rc == 1) {
		if (p.seq > r->seq) {
			res->flags |= FLAG_STALE;
			res->superseded_by = p.seq;
		} else
			res->supersedes = p.seq;
	}
	return (0);
}

/*
 * A paged report whose page is on no ballot, but whose page and values
 * make a PPWP report of this TPS: 1 mistyped as 2 (or 4, 5). The count
 * must be PPWP's, and the page must be no party number (over 99) or
 * the numbers must add up as PPWP's (pairs = SAH, SAH + TIDAK_SAH =
 * PEMILIH), so that a mistyped party number stays PAGE_UNKNOWN.
 */
static int
verify_like_ppwp(struct verify_ctx *ctx, const struct report *r)
{
	struct form	 f;
	enum reason	 why;
	unsigned	 sum = 0;
	size_t		 i, n = r->nvalues;

	if (r->page < 0 || r->page > TALLY_VALUE_MAX)
		return (0);
	if (election_form(ctx->election, CONTEST_PPWP, r->tps, -1, &f,
	    &why) == -1 || f.nvalues != n + 1 || n < 3)
		return (0);
	if (r->page > 99)
		return (1);
	for (i = 0; i + 2 < n; i++)
		sum += r->values[i];
	return (sum == r->values[n - 2] &&
	    (unsigned)r->values[n - 2] + r->values[n - 1] ==
	    (unsigned)r->page);
}

/*
 * One value short of a PPWP or DPD form, and SAH + TIDAK_SAH equals the
 * SEQ: the SEQ was left out, and what stands there is PEMILIH.
 */
static int
verify_seq_missing(const struct report *r, const struct form *f)
{
	size_t	 n = r->nvalues;

	if (decode_contest_paged(r->contest) || f->kind != FORM_SUMMARY ||
	    n + 1 != f->nvalues || n < 2)
		return (0);
	return ((unsigned)r->values[n - 2] + r->values[n - 1] == r->seq);
}

/*
 * Run every check on one incoming text. Returns 0 with res filled
 * (whatever the verdict), or -1 if a lookup failed: then nothing was
 * decided and the caller retries later.
 */
int
verify_report(struct verify_ctx *ctx, const char *text, size_t len,
    const char *sender, time_t now, struct report *r,
    struct verify_result *res)
{
	struct tps_info	 info;
	uint8_t		 kt[TALLY_KEY_LEN];
	char		 mac[TALLY_CODE_LEN + 1], card[TALLY_CODE_LEN + 1];
	enum reason	 why;
	int		 rc, ok_mac, ok_card;

	memset(res, 0, sizeof(*res));
	res->party_total = -1;
	if (decode_report(text, len, r, &res->err) == -1) {
		/* Too few tokens: say how many values the form needs. */
		if (res->err.reason == REASON_COUNT &&
		    election_form(ctx->election, r->contest, r->tps, r->page,
		    &res->form, &why) == 0)
			res->err.expected = (int)res->form.nvalues;
		return (verify_reject(res, res->err.reason));
	}

	res->dpt = ctx->default_dpt;
	if (ctx->registry != NULL) {
		rc = registry_lookup(ctx->registry, r->tps, &info);
		if (rc == -1)
			return (-1);
		if (rc == 0)
			return (verify_reject(res, REASON_TPS_UNKNOWN));
		if (info.dpt > 0)
			res->dpt = info.dpt;
	}
	if (election_form(ctx->election, r->contest, r->tps, r->page,
	    &res->form, &why) == -1) {
		if (why == REASON_PAGE_UNKNOWN && verify_like_ppwp(ctx, r))
			why = REASON_LIKE_PPWP;
		return (verify_reject(res, why));
	}
	if (r->nvalues != res->form.nvalues) {
		res->err.expected = (int)res->form.nvalues;
		res->err.got = (int)r->nvalues;
		return (verify_reject(res, verify_seq_missing(r, &res->form) ?
		    REASON_SEQ_MISSING : REASON_COUNT));
	}

	if (ctx->lockout != NULL && lockout_locked(ctx->lockout, sender, r->tps,
	    now))
		return (verify_reject(res, REASON_LOCKED));
	if (key_derive_tps(ctx->key, r->tps, kt) == -1)
		return (verify_reject(res, REASON_NO_KEY));
	key_mac(kt, r->canon, mac);
	key_card(kt, r->seq, card);
	ok_mac = key_code_equal(mac, r->code);
	ok_card = key_code_equal(card, r->code);
	if (!ok_mac && !ok_card) {
		key_wipe(kt, sizeof(kt));
		if (ctx->lockout != NULL)
			res->lockout = lockout_fail(ctx->lockout, sender,
			    r->tps, now);
		return (verify_reject(res, REASON_CODE_BAD));
	}
	res->auth = ok_mac ? AUTH_MAC : AUTH_CARD;
	key_receipt(kt, r->canon, res->receipt);
	key_wipe(kt, sizeof(kt));

	if ((rc = verify_seq(ctx, r, res)) == -1)
		return (-1);
	if (rc == 1)
		return (0);
	verify_rules(ctx, r, res);
	res->verdict = (res->flags & FLAGS_FLAGGING) ? VERDICT_FLAGGED :
	    VERDICT_OK;
	return (0);
}

int
verify_flags_text(unsigned flags, char *buf, size_t len)
{
	size_t	 i, off = 0;
	int	 n;

	if (len == 0)
		return (-1);
	buf[0] = '\0';
	for (i = 0; i < sizeof(verify_flags) / sizeof(verify_flags[0]); i++) {
		if ((flags & verify_flags[i].flag) == 0)
			continue;
		n = snprintf(buf + off, len - off, "%s%s", off ? "," : "",
		    verify_flags[i].name);
		if (n < 0 || (size_t)n >= len - off)
			return (-1);
		off += (size_t)n;
	}
	return (0);
}

/* Name the values a form needs, for "wrong number of values". */
static void
verify_form_shape(const struct form *f, char *buf, size_t len)
{
	if (f->kind == FORM_PARTY)
		snprintf(buf, len, "PARTAI and %zu candidates", f->nchoices);
	else
		snprintf(buf, len, "PEMILIH, %zu choices, SAH, TIDAK_SAH",
		    f->nchoices);
}

/* Append "; detail" for each flag the report carries. */
static void
verify_explain_flags(const struct verify_result *res, const struct report *r,
    char *buf, size_t len)
{
	size_t		 off = strlen(buf), n = r->nvalues, i;
	unsigned	 sum = 0;
	const char	*sep = " [";

#define APPEND(...) do {						\
	if (off < len) {						\
		int w = snprintf(buf + off, len - off, __VA_ARGS__);	\
		if (w > 0)						\
			off += (size_t)w;				\
	}								\
} while (0)
	if (res->form.kind == FORM_SUMMARY && n >= 3)
		for (i = 1; i + 2 < n; i++)
			sum += r->values[i];
	else
		for (i = 0; i < n; i++)
			sum += r->values[i];
	if (res->flags & FLAG_SUM) {
		APPEND("%sSUM: choices add up to %u, SAH is %u", sep, sum,
		    r->values[n - 2]);
		sep = "; ";
	}
	if (res->flags & FLAG_TOTAL) {
		APPEND("%sTOTAL: SAH %u + TIDAK_SAH %u = %u, PEMILIH is %u",
		    sep, r->values[n - 2], r->values[n - 1],
		    (unsigned)r->values[n - 2] + r->values[n - 1],
		    r->values[0]);
		sep = "; ";
	}
	if (res->flags & FLAG_DPT) {
		APPEND("%sDPT: PEMILIH %u is over %d ballots (DPT %d + 2%%)",
		    sep, r->values[0], verify_ballots(res->dpt), res->dpt);
		sep = "; ";
	}
	if (res->flags & FLAG_PARTY) {
		APPEND("%sPARTY: PARTAI + candidates = %u, page 0 total is %d",
		    sep, sum, res->party_total);
		sep = "; ";
	}
	if (res->flags & FLAG_SENDER) {
		APPEND("%sSENDER: number not registered for this TPS", sep);
		sep = "; ";
	}
	if (res->flags & FLAG_STALE) {
		APPEND("%sSTALE: SEQ %u is already recorded", sep,
		    res->superseded_by);
		sep = "; ";
	}
	if (strcmp(sep, "; ") == 0)
		APPEND("]");
#undef APPEND
}

/*
 * One line for an operator: "OK canon", "FLAGGED canon [rule: detail]",
 * "DUPLICATE canon", "REJECTED reason: detail".
 */
int
verify_explain(const struct verify_result *res, const struct report *r,
    char *buf, size_t len)
{
	char		 shape[96];
	const char	*v = verify_verdict_name(res->verdict);
	const struct decode_error *e = &res->err;
	int		 n;

	if (res->verdict != VERDICT_REJECTED) {
		n = snprintf(buf, len, "%s %s", v, r->canon);
		if (n < 0 || (size_t)n >= len)
			return (-1);
		if (res->supersedes != 0 && (size_t)n < len)
			snprintf(buf + n, len - (size_t)n,
			    " (corrects SEQ %u)", res->supersedes);
		verify_explain_flags(res, r, buf, len);
		return (0);
	}
	switch (res->reason) {
	case REASON_CONTEST:
		n = snprintf(buf, len, "%s unknown contest '%s': use PPWP or 1,"
		    " DPR or 2, DPD or 3, DPRDP or 4, DPRDK or 5", v, e->text);
		break;
	case REASON_TPS_FORMAT:
		n = snprintf(buf, len, "%s TPS code '%s' is not 13 digits "
		    "of a known province", v, e->text);
		break;
	case REASON_SEQ:
		n = snprintf(buf, len, "%s message number '%s' is not 1..9999",
		    v, e->text);
		break;
	case REASON_PAGE:
		n = snprintf(buf, len, "%s page '%s' is not a number", v,
		    e->text);
		break;
	case REASON_VALUE_FORMAT:
	case REASON_VALUE_RANGE:
		n = snprintf(buf, len, "%s token %d '%s' %s", v, e->token,
		    e->text, res->reason == REASON_VALUE_RANGE ?
		    "is over 999" : "is not a number");
		break;
	case REASON_CODE_FORMAT:
		n = snprintf(buf, len, "%s code '%s' (last token) is not 8 "
		    "digits", v, e->text);
		break;
	case REASON_COUNT:
		if (res->form.nvalues == 0) {
			n = snprintf(buf, len, "%s too few values: %d before "
			    "the code", v, e->got);
			break;
		}
		verify_form_shape(&res->form, shape, sizeof(shape));
		n = snprintf(buf, len, "%s %s%s%s needs %d values (%s), got %d",
		    v, decode_contest_name(r->contest),
		    r->page > 0 ? " party page" : "",
		    r->page == 0 ? " page 0" : "", e->expected, shape, e->got);
		break;
	case REASON_TPS_UNKNOWN:
		n = snprintf(buf, len, "%s TPS %013llu is not in the registry",
		    v, (unsigned long long)r->tps);
		break;
	case REASON_NOT_HELD:
		n = snprintf(buf, len, "%s %s is not held at TPS %013llu", v,
		    decode_contest_name(r->contest),
		    (unsigned long long)r->tps);
		break;
	case REASON_PAGE_UNKNOWN:
		n = snprintf(buf, len, "%s page %d: no such party on the %s "
		    "ballot of TPS %013llu", v, r->page,
		    decode_contest_name(r->contest),
		    (unsigned long long)r->tps);
		break;
	case REASON_NO_KEY:
		n = snprintf(buf, len, "%s no key for province %02llu", v,
		    (unsigned long long)(r->tps / 100000000000ULL));
		break;
	case REASON_CODE_BAD:
		n = snprintf(buf, len, "%s code %s matches neither the content "
		    "nor card row %u of TPS %013llu", v, r->code, r->seq,
		    (unsigned long long)r->tps);
		break;
	case REASON_DIGITS:
		n = snprintf(buf, len, "%s digits other than 0-9 (Arabic, "
		    "full-width, ...): the numbers must be typed as 0-9", v);
		break;
	case REASON_LIKE_PPWP:
		n = snprintf(buf, len, "%s page %d: no such party on the %s "
		    "ballot of TPS %013llu, and the numbers fit a PPWP report "
		    "(contest 1)", v, r->page, decode_contest_name(r->contest),
		    (unsigned long long)r->tps);
		break;
	case REASON_SEQ_MISSING:
		n = snprintf(buf, len, "%s no message number: the numbers "
		    "start right after the TPS code", v);
		break;
	case REASON_CODE_PLACE:
		n = snprintf(buf, len, "%s token %d '%s' is an 8-digit code "
		    "where the %s goes; the code goes last", v, e->token,
		    e->text, e->token == 3 ? "message number" : "page");
		break;
	case REASON_SEQ_USED:
		n = snprintf(buf, len, "%s message number %u of TPS %013llu "
		    "was already used for other content (receipt %s)", v,
		    r->seq, (unsigned long long)r->tps, res->receipt);
		break;
	default:
		n = snprintf(buf, len, "%s %s", v,
		    verify_reason_text(res->reason));
		break;
	}
	return ((n < 0 || (size_t)n >= len) ? -1 : 0);
}
