/*
 * reply: every SMS text a KPPS officer receives. A confirmation echoes
 * the numbers and carries the receipt; a rejection says what is wrong
 * and what to send instead; CEK lists what is recorded; BANTU gives the
 * format. Indonesian by default, English as the alternative.
 *
 * Every text fits one SMS: at most REPLY_MAX characters of the GSM 7-bit
 * default alphabet. The oracle (sim/oracle.c) relies on one more rule:
 * a confirmation carries its receipt's 8 digits exactly once, and a
 * rejection carries no run of exactly 8 digits, except that a SEQ_USED
 * rejection may quote the receipt of the report that used that SEQ.
 * Every text is checked against these rules before it leaves here.
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gw.h"
#include "log.h"

#define L(lang, id, en)	((lang) == REPLY_EN ? (en) : (id))
#define REPLY_WORK	640	/* work buffer: longer than any draft */
#define REPLY_QUOTE	14	/* characters of an officer's text quoted */
#define REPLY_QUOTE_MAX	(REPLY_QUOTE + 3)
#define REPLY_LEVELS	3	/* verbose, short, minimal */
#define REPLY_MIN_ECHO	3	/* values worth a more verbose text */
#define REPLY_TPS_MIN	1100000000000ULL	/* province 11 */
#define REPLY_TPS_MAX	9999999999999ULL

/* A draft text; an overflow makes it unusable, never truncated. */
struct reply_buf {
	char	 s[REPLY_WORK];
	size_t	 off;
	int	 overflow;
};

static const unsigned reply_flag_bits[] = {
	FLAG_SUM, FLAG_TOTAL, FLAG_DPT, FLAG_PARTY, FLAG_SENDER, FLAG_STALE
};
#define REPLY_NFLAGS	(sizeof(reply_flag_bits) / sizeof(reply_flag_bits[0]))

/* Characters of the GSM 7-bit basic table outside ASCII. */
static const uint32_t reply_gsm_basic[] = {
	0x00a3, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec, 0x00f2, 0x00c7,
	0x00d8, 0x00f8, 0x00c5, 0x00e5, 0x0394, 0x03a6, 0x0393, 0x039b,
	0x03a9, 0x03a0, 0x03a8, 0x03a3, 0x0398, 0x039e, 0x00c6, 0x00e6,
	0x00df, 0x00c9, 0x00a4, 0x00a1, 0x00c4, 0x00d6, 0x00d1, 0x00dc,
	0x00a7, 0x00bf, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

static void	reply_init(struct reply_buf *);
static void	reply_add(struct reply_buf *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static int	reply_fits(const struct reply_buf *);
static int	reply_fits_str(const char *);
static size_t	reply_runs8(const char *, char *);
static int	reply_is_code(const char *);
static void	reply_quote(const char *, char *, size_t);
static void	reply_num(unsigned long long, char *, size_t);
static int	reply_out(const char *, char *, size_t);

static void
reply_init(struct reply_buf *b)
{
	b->s[0] = '\0';
	b->off = 0;
	b->overflow = 0;
}

/* printf onto a draft; what does not fit makes it unusable. */
static void
reply_add(struct reply_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	if (b->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->s + b->off, sizeof(b->s) - b->off, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(b->s) - b->off) {
		b->overflow = 1;
		b->s[b->off] = '\0';
		return;
	}
	b->off += (size_t)n;
}

/* Whether a text fits one SMS in the GSM 7-bit alphabet. */
static int
reply_fits_str(const char *s)
{
	size_t	 n = reply_gsm_length(s);

	return (n != (size_t)-1 && n <= REPLY_MAX);
}

/* Whether a draft is whole and fits one SMS. */
static int
reply_fits(const struct reply_buf *b)
{
	return (!b->overflow && reply_fits_str(b->s));
}

/* Septets of one character: 1, 2 (extension table) or 0 (none). */
static int
reply_gsm_char(uint32_t cp)
{
	size_t	 i;

	if (cp == '\n' || cp == '\r')
		return (1);
	if (cp == '\f')
		return (2);
	if (cp < 0x20 || cp == 0x7f || cp == '`')
		return (0);
	if (cp < 0x80)
		return (strchr("[\\]^{|}~", (int)cp) != NULL ? 2 : 1);
	if (cp == 0x20ac)		/* euro sign */
		return (2);
	for (i = 0; i < sizeof(reply_gsm_basic) / sizeof(reply_gsm_basic[0]);
	    i++)
		if (reply_gsm_basic[i] == cp)
			return (1);
	return (0);
}

/*
 * Septets a UTF-8 text takes in the GSM 7-bit default alphabet, or
 * (size_t)-1 if a character is not in it or the UTF-8 is broken.
 */
size_t
reply_gsm_length(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	uint32_t		 cp;
	size_t			 n = 0;
	int			 extra, w;

	if (s == NULL)
		return ((size_t)-1);
	while (*p != '\0') {
		if (*p < 0x80) {
			cp = *p++;
			extra = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			cp = *p++ & 0x1f;
			extra = 1;
		} else if ((*p & 0xf0) == 0xe0) {
			cp = *p++ & 0x0f;
			extra = 2;
		} else if ((*p & 0xf8) == 0xf0) {
			cp = *p++ & 0x07;
			extra = 3;
		} else
			return ((size_t)-1);
		for (; extra > 0; extra--, p++) {
			if ((*p & 0xc0) != 0x80)
				return ((size_t)-1);
			cp = (cp << 6) | (*p & 0x3f);
		}
		if ((w = reply_gsm_char(cp)) == 0)
			return ((size_t)-1);
		n += (size_t)w;
	}
	return (n);
}

/* Count runs of exactly 8 digits; copy the first into first[9]. */
static size_t
reply_runs8(const char *s, char *first)
{
	const char	*p = s, *start;
	size_t		 n = 0;

	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		for (start = p; isdigit((unsigned char)*p); p++)
			;
		if (p - start != TALLY_CODE_LEN)
			continue;
		if (n == 0 && first != NULL) {
			memcpy(first, start, TALLY_CODE_LEN);
			first[TALLY_CODE_LEN] = '\0';
		}
		n++;
	}
	return (n);
}

/* Exactly 8 digits: a receipt or a code, nothing else. */
static int
reply_is_code(const char *s)
{
	size_t	 i;

	for (i = 0; i < TALLY_CODE_LEN; i++)
		if (!isdigit((unsigned char)s[i]))
			return (0);
	return (s[TALLY_CODE_LEN] == '\0');
}

/*
 * Quote what the officer typed, safely: GSM characters only (anything
 * else becomes '?'), at most REPLY_QUOTE of them, and never a run of
 * exactly 8 digits (the oracle would take it for a receipt): such a run
 * is cut after 7 digits. A shortened quote ends in "..".
 */
static void
reply_quote(const char *in, char *out, size_t outlen)
{
	const unsigned char	*p;
	size_t			 o = 0, n = 0, run;
	int			 cut = 0;
	char			 c;

	if (outlen < REPLY_QUOTE_MAX) {
		if (outlen > 0)
			out[0] = '\0';
		return;
	}
	for (p = (const unsigned char *)(in != NULL ? in : ""); *p != '\0';
	    p++) {
		if ((*p & 0xc0) == 0x80)	/* UTF-8 continuation */
			continue;
		if (*p < 0x80 && (isalnum(*p) || strchr(" .,-/:+*#", *p)))
			c = (char)*p;
		else
			c = '?';
		if (n == REPLY_QUOTE) {
			cut = 1;
			break;
		}
		out[o++] = c;
		n++;
	}
	out[o] = '\0';
	for (n = 0; n < o; n += run ? run : 1) {
		for (run = 0; n + run < o &&
		    isdigit((unsigned char)out[n + run]); run++)
			;
		if (run == TALLY_CODE_LEN) {
			out[n + TALLY_CODE_LEN - 1] = '\0';
			o = n + TALLY_CODE_LEN - 1;
			cut = 1;
			break;
		}
	}
	if (cut)
		snprintf(out + o, outlen - o, "..");
}

/* A number the officer typed (a page): never as exactly 8 digits. */
static void
reply_num(unsigned long long v, char *buf, size_t len)
{
	char	 tmp[32];

	snprintf(tmp, sizeof(tmp), "%llu", v);
	reply_quote(tmp, buf, len);
}

/* Hand a text over; a buffer too small is an error, never a cut text. */
static int
reply_out(const char *s, char *out, size_t outlen)
{
	size_t	 n = strlen(s);

	if (out == NULL || n >= outlen) {
		log_warnx("reply: buffer of %zu bytes too small for %zu",
		    outlen, n + 1);
		return (-1);
	}
	memcpy(out, s, n + 1);
	return (0);
}

/* Whether the report is decoded well enough to name it in a reply. */
static int
reply_valid_report(const struct store_msg *msg)
{
	const struct report	*r = &msg->report;

	return (msg->decoded && r->contest >= CONTEST_PPWP &&
	    r->contest <= CONTEST_DPRDK && r->tps >= REPLY_TPS_MIN &&
	    r->tps <= REPLY_TPS_MAX && r->seq >= 1 && r->seq <= TALLY_SEQ_MAX);
}

/* What the choices of a summary form are called: pairs, candidates... */
static const char *
reply_choice_noun(enum reply_lang lang, enum contest c)
{
	switch (c) {
	case CONTEST_PPWP:
		return (L(lang, "pasangan", "pair"));
	case CONTEST_DPD:
		return (L(lang, "calon", "candidate"));
	case CONTEST_DPR:
	case CONTEST_DPRDP:
	case CONTEST_DPRDK:
		return (L(lang, "partai", "party"));
	default:
		return (L(lang, "pilihan", "choice"));
	}
}

#define IDENT_FULL	0	/* DPR 3201012001001 hal 2 #3 */
#define IDENT_BRIEF	1	/* DPR h2 #3 */
#define IDENT_NOTPS	2	/* DPR hal 2 #3 */

/* Which report this is about, in one of the IDENT_* forms. */
static void
reply_ident(enum reply_lang lang, const struct report *r, int form,
    struct reply_buf *b)
{
	char	 page[REPLY_QUOTE_MAX];

	reply_add(b, "%s", decode_contest_name(r->contest));
	if (form == IDENT_FULL)
		reply_add(b, " %013llu", (unsigned long long)r->tps);
	if (r->page >= 0) {
		reply_num((unsigned long long)r->page, page, sizeof(page));
		if (form == IDENT_BRIEF)
			reply_add(b, " h%s", page);
		else
			reply_add(b, " %s %s", L(lang, "hal", "page"), page);
	}
	reply_add(b, " #%u", r->seq);
}

/* One flag in words, at a verbosity level (0 verbose .. 2 a code). */
static void
reply_flag_text(enum reply_lang lang, unsigned flag, const struct report *r,
    const struct verify_result *res, int level, struct reply_buf *b)
{
	const char	*noun = reply_choice_noun(lang, r->contest);

	if (level >= 2) {
		switch (flag) {
		case FLAG_SUM:
			reply_add(b, "SUM");
			break;
		case FLAG_TOTAL:
			reply_add(b, "TOTAL");
			break;
		case FLAG_DPT:
			reply_add(b, "DPT");
			break;
		case FLAG_PARTY:
			reply_add(b, "PARTY");
			break;
		case FLAG_SENDER:
			reply_add(b, "SENDER");
			break;
		case FLAG_STALE:
			reply_add(b, "STALE");
			break;
		}
		return;
	}
	switch (flag) {
	case FLAG_SUM:
		if (level == 0)
			reply_add(b, L(lang, "jumlah %s tdk sama dgn SAH",
			    "%s votes do not add up to SAH"), noun);
		else
			reply_add(b, L(lang, "jml %s!=SAH", "%s sum!=SAH"),
			    noun);
		break;
	case FLAG_TOTAL:
		reply_add(b, "%s", level == 0 ?
		    L(lang, "SAH+TDK SAH tdk sama dgn PEMILIH",
		    "SAH+TIDAK SAH is not PEMILIH") :
		    "SAH+TDK SAH!=PEMILIH");
		break;
	case FLAG_DPT:
		reply_add(b, "%s", level == 0 ?
		    L(lang, "PEMILIH lebih dari DPT+2%",
		    "PEMILIH over DPT+2%") : "PEMILIH>DPT");
		break;
	case FLAG_PARTY:
		reply_add(b, "%s", level == 0 ?
		    L(lang, "partai+caleg tdk sama dgn hal 0",
		    "party+candidates differ from page 0") :
		    L(lang, "partai+caleg!=hal 0", "party!=page 0"));
		break;
	case FLAG_SENDER:
		reply_add(b, "%s", level == 0 ?
		    L(lang, "nomor Anda tdk terdaftar",
		    "your number is not registered") :
		    L(lang, "nomor tdk terdaftar", "number not registered"));
		break;
	case FLAG_STALE:
		if (level == 0)
			reply_add(b, L(lang, "SEQ #%u yg lebih baru sudah "
			    "ada", "newer SEQ #%u already recorded"),
			    res->superseded_by);
		else
			reply_add(b, L(lang, "ada #%u lebih baru",
			    "newer #%u"), res->superseded_by);
		break;
	}
}

/* The flags of a report as a list, at a verbosity level. */
static void
reply_flag_list(enum reply_lang lang, unsigned flags, const struct report *r,
    const struct verify_result *res, int level, struct reply_buf *b)
{
	size_t	 i;
	int	 first = 1;

	for (i = 0; i < REPLY_NFLAGS; i++) {
		if ((flags & reply_flag_bits[i]) == 0)
			continue;
		if (!first)
			reply_add(b, "%s", level == 0 ? "; " : ",");
		reply_flag_text(lang, reply_flag_bits[i], r, res, level, b);
		first = 0;
	}
}

/* "DITERIMA PPWP 3201012001001 #2 (koreksi #1):" */
static void
reply_confirm_head(enum reply_lang lang, const struct report *r,
    const struct verify_result *res, int level, struct reply_buf *b)
{
	if (res->verdict == VERDICT_DUPLICATE)
		reply_add(b, "%s ", L(lang, "SUDAH DITERIMA",
		    "ALREADY RECEIVED"));
	else
		reply_add(b, "%s ", L(lang, "DITERIMA", "RECEIVED"));
	reply_ident(lang, r, IDENT_FULL, b);
	if (res->verdict != VERDICT_DUPLICATE && res->supersedes != 0 &&
	    level < REPLY_LEVELS - 1)
		reply_add(b, L(lang, " (koreksi #%u)", " (corrects #%u)"),
		    res->supersedes);
	reply_add(b, ":");
}

/* Everything after the values: receipt, what looks wrong, what to do. */
static void
reply_confirm_tail(enum reply_lang lang, const struct report *r,
    const struct verify_result *res, const char *rcpt, int level,
    struct reply_buf *b)
{
	switch (res->verdict) {
	case VERDICT_DUPLICATE:
		if (level == 0)
			reply_add(b, L(lang, " Tanda terima tetap %s. Tidak "
			    "perlu kirim lagi.", " Receipt still %s. No need "
			    "to send again."), rcpt);
		else
			reply_add(b, L(lang, " Tanda terima %s (sama).",
			    " Receipt %s (same)."), rcpt);
		return;
	case VERDICT_FLAGGED:
		reply_add(b, L(lang, " Tanda terima %s. PERIKSA: ",
		    " Receipt %s. CHECK: "), rcpt);
		/* Minimal: only what needs the officer's attention. */
		reply_flag_list(lang, level == REPLY_LEVELS - 1 ?
		    res->flags & ~FLAG_STALE : res->flags, r, res, level, b);
		if (level == 0)
			reply_add(b, "%s", L(lang, ". Jika salah, kirim "
			    "ulang dgn SEQ baru.", ". If wrong, resend with a "
			    "new SEQ."));
		else
			reply_add(b, "%s", L(lang, ". Salah? kirim SEQ baru.",
			    ". Wrong? send new SEQ."));
		return;
	default:
		if (level == 0)
			reply_add(b, L(lang, " Tanda terima %s, tulis di "
			    "C.Hasil.", " Receipt %s, write it on C.Hasil."),
			    rcpt);
		else
			reply_add(b, L(lang, " Tanda terima %s.",
			    " Receipt %s."), rcpt);
		if ((res->flags & FLAG_STALE) == 0)
			return;
		if (level == 0)
			reply_add(b, L(lang, " Catatan: SEQ #%u yg lebih baru "
			    "sudah tercatat dan berlaku.", " Note: the newer "
			    "SEQ #%u is recorded and counts."),
			    res->superseded_by);
		else
			reply_add(b, L(lang, " #%u lebih baru berlaku.",
			    " Newer #%u counts."), res->superseded_by);
		return;
	}
}

/*
 * The values, in at most avail characters: all of them, or as many
 * leading ones as fit, then ".." and the sum of all values so that the
 * officer can still check. Returns the values shown, -1 if even the sum
 * does not fit.
 */
static int
reply_values(enum reply_lang lang, const struct report *r, size_t avail,
    struct reply_buf *b)
{
	struct reply_buf	 v, sum;
	unsigned long		 total = 0;
	size_t			 i, len, k;

	reply_init(&v);
	for (i = 0; i < r->nvalues; i++) {
		reply_add(&v, " %u", r->values[i]);
		total += r->values[i];
	}
	reply_add(&v, ".");
	if (!v.overflow && strlen(v.s) <= avail) {
		reply_add(b, "%s", v.s);
		return ((int)r->nvalues);
	}
	reply_init(&sum);
	reply_add(&sum, L(lang, " .. jml semua %lu.", " .. sum of all %lu."),
	    total);
	if (strlen(sum.s) > avail)
		return (-1);
	reply_init(&v);
	for (k = 0, len = strlen(sum.s); k < r->nvalues; k++) {
		char	 one[8];
		int	 n;

		n = snprintf(one, sizeof(one), " %u", r->values[k]);
		if (n < 0 || len + (size_t)n > avail)
			break;
		reply_add(&v, "%s", one);
		len += (size_t)n;
	}
	reply_add(b, "%s%s", v.s, sum.s);
	return ((int)k);
}

/* The short form merged with others: "DPR h3 #1 12345678 cek SUM". */
static void
reply_brief(enum reply_lang lang, const struct report *r,
    const struct verify_result *res, const char *rcpt, struct reply_buf *b)
{
	reply_ident(lang, r, IDENT_BRIEF, b);
	reply_add(b, " %s", rcpt);
	if (res->verdict == VERDICT_DUPLICATE)
		reply_add(b, " %s", L(lang, "ulang", "again"));
	else if (res->verdict == VERDICT_FLAGGED) {
		reply_add(b, " %s ", L(lang, "cek", "check"));
		reply_flag_list(lang, res->flags & ~FLAG_STALE, r, res, 2, b);
	}
	if (res->verdict != VERDICT_DUPLICATE && (res->flags & FLAG_STALE))
		reply_add(b, " %s", L(lang, "lama", "old"));
}

/* A confirmation carries its receipt once and no other 8-digit run. */
static int
reply_check_confirm(const char *s, const char *rcpt)
{
	char	 first[TALLY_CODE_LEN + 1];

	return (reply_fits_str(s) && reply_runs8(s, first) == 1 &&
	    strcmp(first, rcpt) == 0);
}

/* A rejection has no 8-digit run, but SEQ_USED may quote one receipt. */
static int
reply_check_reject(const char *s, const char *allowed)
{
	char	 first[TALLY_CODE_LEN + 1];
	size_t	 n;

	if (!reply_fits_str(s))
		return (0);
	n = reply_runs8(s, first);
	if (n == 0)
		return (1);
	return (n == 1 && allowed != NULL && strcmp(first, allowed) == 0);
}

/* A confirmation, and its brief form when the caller wants one. */
static int
reply_confirm(enum reply_lang lang, const struct store_msg *msg,
    const struct verify_result *res, char *text, size_t textlen,
    char *brief, size_t brieflen)
{
	const struct report	*r = &msg->report;
	struct reply_buf	 head, tail, b;
	const char		*rcpt;
	size_t			 used, want;
	int			 pass, level, k;

	if (reply_is_code(msg->receipt))
		rcpt = msg->receipt;
	else if (reply_is_code(res->receipt))
		rcpt = res->receipt;
	else {
		log_warnx("reply: msg %lld: %s without a receipt",
		    (long long)msg->id, verify_verdict_name(res->verdict));
		return (-1);
	}
	if (!reply_valid_report(msg) || r->nvalues == 0 ||
	    r->nvalues > TALLY_MAXVALUES) {
		log_warnx("reply: msg %lld: %s without a decoded report",
		    (long long)msg->id, verify_verdict_name(res->verdict));
		return (-1);
	}
	/*
	 * First the most verbose text that echoes every value; failing
	 * that, leading values and their sum, verbose while it still
	 * shows a few values.
	 */
	for (pass = 0; pass < 2; pass++) {
		for (level = 0; level < REPLY_LEVELS; level++) {
			reply_init(&head);
			reply_init(&tail);
			reply_confirm_head(lang, r, res, level, &head);
			reply_confirm_tail(lang, r, res, rcpt, level, &tail);
			if (!reply_fits(&head) || !reply_fits(&tail))
				continue;
			used = reply_gsm_length(head.s) +
			    reply_gsm_length(tail.s);
			if (used >= REPLY_MAX)
				continue;
			if (pass == 0)
				want = r->nvalues;
			else if (level == REPLY_LEVELS - 1)
				want = 0;
			else
				want = r->nvalues < REPLY_MIN_ECHO ?
				    r->nvalues : REPLY_MIN_ECHO;
			reply_init(&b);
			reply_add(&b, "%s", head.s);
			k = reply_values(lang, r, REPLY_MAX - used, &b);
			if (k < 0 || (size_t)k < want)
				continue;
			reply_add(&b, "%s", tail.s);
			if (reply_check_confirm(b.s, rcpt))
				goto found;
		}
	}
	log_warnx("reply: msg %lld: no confirmation fits %d characters",
	    (long long)msg->id, REPLY_MAX);
	return (-1);
found:
	if (reply_out(b.s, text, textlen) == -1)
		return (-1);
	if (brief == NULL || brieflen == 0)
		return (0);
	reply_init(&b);
	reply_brief(lang, r, res, rcpt, &b);
	if (!reply_check_confirm(b.s, rcpt)) {
		log_warnx("reply: msg %lld: brief form does not fit",
		    (long long)msg->id);
		return (-1);
	}
	return (reply_out(b.s, brief, brieflen));
}

/* "needs 6 numbers (PEMILIH, 3 pairs, SAH, TIDAK SAH)": the form. */
static void
reply_form_shape(enum reply_lang lang, const struct store_msg *msg,
    const struct form *f, struct reply_buf *b)
{
	enum contest	 c = msg->report.contest;

	if (f->kind == FORM_PARTY)
		reply_add(b, L(lang, "PARTAI + %zu caleg",
		    "PARTAI + %zu candidates"), f->nchoices);
	else
		reply_add(b, L(lang, "PEMILIH, %zu %s, SAH, TDK SAH",
		    "PEMILIH, %zu %ss, SAH, TIDAK SAH"), f->nchoices,
		    reply_choice_noun(lang, c >= CONTEST_PPWP &&
		    c <= CONTEST_DPRDK ? c : CONTEST_NONE));
}

/*
 * What is wrong and what to send instead, for one reason; level 2 is
 * the short form that always fits.
 */
static void
reply_reject_body(enum reply_lang lang, const struct store_msg *msg,
    const struct verify_result *res, int level, struct reply_buf *b)
{
	const struct report	*r = reply_valid_report(msg) ?
				    &msg->report : NULL;
	const struct decode_error *e = &res->err;
	char			 q[REPLY_QUOTE_MAX], page[REPLY_QUOTE_MAX];
	int			 brief = level >= 2;

	reply_quote(e->text, q, sizeof(q));
	switch (res->reason) {
	case REASON_EMPTY:
		reply_add(b, "%s", L(lang, "pesan kosong.", "empty message."));
		if (!brief)
			reply_add(b, "%s", L(lang, " Kirim mis. PPWP <TPS> "
			    "<SEQ> <angka..> <KODE>.", " Send e.g. PPWP <TPS> "
			    "<SEQ> <numbers..> <CODE>."));
		reply_add(b, "%s", L(lang, " Ketik BANTU utk format.",
		    " Text BANTU for the format."));
		break;
	case REASON_CONTEST:
		if (!brief)
			reply_add(b, L(lang, "'%s' bukan jenis pemilihan. ",
			    "'%s' is not a contest. "), q);
		reply_add(b, "%s", L(lang, "Awali dgn 1 PPWP, 2 DPR, 3 DPD, "
		    "4 DPRDP atau 5 DPRDK. Ketik BANTU.", "Start with 1 PPWP, "
		    "2 DPR, 3 DPD, 4 DPRDP or 5 DPRDK. Text BANTU."));
		break;
	case REASON_TPS_FORMAT:
		if (brief)
			reply_add(b, "%s", L(lang, "kode TPS harus 13 angka. "
			    "Ketik BANTU.", "the TPS code needs 13 digits. "
			    "Text BANTU."));
		else if (q[0] != '\0')
			reply_add(b, L(lang, "kode TPS '%s' salah: harus 13 "
			    "angka (10 kode desa + 3 no TPS) dari C.Hasil. "
			    "Kirim lagi dgn SEQ sama.", "TPS code '%s' is "
			    "wrong: it needs 13 digits (10 village + 3 TPS) "
			    "from C.Hasil. Send again, same SEQ."), q);
		else
			reply_add(b, "%s", L(lang, "kode TPS tidak ada: tulis "
			    "13 angka (10 kode desa + 3 no TPS) stlh jenis. "
			    "Kirim lagi dgn SEQ sama.", "no TPS code: put its "
			    "13 digits (10 village + 3 TPS) after the contest. "
			    "Send again, same SEQ."));
		break;
	case REASON_SEQ:
		if (brief)
			reply_add(b, "%s", L(lang, "SEQ harus 1-9999. Ketik "
			    "BANTU.", "SEQ must be 1-9999. Text BANTU."));
		else if (q[0] != '\0')
			reply_add(b, L(lang, "SEQ '%s' salah: harus 1-9999, no "
			    "urut pesan (= baris kartu) stlh kode TPS.",
			    "SEQ '%s' is wrong: 1-9999, the message number "
			    "(= card row) after the TPS code."), q);
		else
			reply_add(b, "%s", L(lang, "SEQ tidak ada: tulis no "
			    "urut pesan (= baris kartu) stlh kode TPS.",
			    "no SEQ: put the message number (= card row) "
			    "after the TPS code."));
		break;
	case REASON_PAGE:
		if (brief)
			reply_add(b, "%s", L(lang, "stlh SEQ tulis halaman: 0 "
			    "atau no partai.", "after SEQ put the page: 0 or "
			    "the party number."));
		else if (q[0] != '\0')
			reply_add(b, L(lang, "halaman '%s' bukan angka: stlh "
			    "SEQ tulis 0 (ringkasan) atau no urut partai.",
			    "page '%s' is not a number: after SEQ put 0 "
			    "(summary) or the party number."), q);
		else
			reply_add(b, "%s", L(lang, "halaman tidak ada: stlh "
			    "SEQ tulis 0 (ringkasan) atau no urut partai.",
			    "no page: after SEQ put 0 (summary) or the party "
			    "number."));
		break;
	case REASON_VALUE_FORMAT:
	case REASON_VALUE_RANGE:
		if (brief)
			reply_add(b, L(lang, "kata ke-%d salah. Perbaiki, "
			    "kirim lagi.", "word %d is wrong. Fix it, send "
			    "again."), e->token);
		else if (res->reason == REASON_VALUE_FORMAT)
			reply_add(b, L(lang, "kata ke-%d '%s' bukan angka. "
			    "Perbaiki, kirim lagi dgn SEQ sama.", "word %d "
			    "'%s' is not a number. Fix it, send again with "
			    "the same SEQ."), e->token, q);
		else
			reply_add(b, L(lang, "kata ke-%d '%s' lebih dari 999, "
			    "mungkin dobel/tergabung. Perbaiki, kirim lagi dgn "
			    "SEQ sama.", "word %d '%s' is over 999: typed "
			    "twice or merged? Fix it, send again, same SEQ."),
			    e->token, q);
		break;
	case REASON_CODE_FORMAT:
		if (brief)
			reply_add(b, "%s", L(lang, "akhiri dgn kode 8 angka. "
			    "Kirim lagi.", "end with the 8-digit code. Send "
			    "again."));
		else if (q[0] != '\0')
			reply_add(b, L(lang, "akhir pesan harus kode 8 angka "
			    "(MAC atau kartu baris SEQ), bukan '%s'. Kirim "
			    "lagi dgn SEQ sama.", "end with the 8-digit code "
			    "(MAC or card row SEQ), not '%s'. Send again with "
			    "the same SEQ."), q);
		else
			reply_add(b, "%s", L(lang, "kode 8 angka tidak ada di "
			    "akhir pesan (MAC atau kartu baris SEQ). Kirim "
			    "lagi dgn SEQ sama.", "no 8-digit code at the end "
			    "(MAC or card row SEQ). Send again with the same "
			    "SEQ."));
		break;
	case REASON_TOO_LONG:
		reply_add(b, "%s", L(lang, "pesan terlalu panjang. Kirim satu "
		    "jenis/halaman per pesan.", "message too long. Send one "
		    "contest or page per message."));
		break;
	case REASON_COUNT:
		if (e->expected > 0 && !brief) {
			reply_add(b, L(lang, "perlu %d angka (", "needs %d "
			    "numbers ("), e->expected);
			reply_form_shape(lang, msg, &res->form, b);
			reply_add(b, L(lang, "), ada %d. Hitung lagi dari "
			    "C.Hasil, kirim dgn SEQ sama.", "), got %d. Count "
			    "the C.Hasil boxes, send again, same SEQ."),
			    e->got);
		} else if (e->expected > 0)
			reply_add(b, L(lang, "perlu %d angka, ada %d. Ketik "
			    "BANTU.", "needs %d numbers, got %d. Text BANTU."),
			    e->expected, e->got);
		else
			reply_add(b, L(lang, "jumlah angka salah (ada %d). "
			    "Ketik BANTU utk format.", "wrong count of numbers "
			    "(got %d). Text BANTU for the format."), e->got);
		break;
	case REASON_TPS_UNKNOWN:
		if (r != NULL && !brief)
			reply_add(b, L(lang, "TPS %013llu tidak terdaftar. "
			    "Periksa kode TPS; jika benar, hubungi operator/"
			    "PPK.", "TPS %013llu is not registered. Check the "
			    "TPS code; if it is right, call the operator/PPK."),
			    (unsigned long long)r->tps);
		else
			reply_add(b, "%s", L(lang, "TPS tidak terdaftar. "
			    "Periksa kode TPS atau hubungi PPK.", "TPS not "
			    "registered. Check the code or call the PPK."));
		break;
	case REASON_NOT_HELD:
		if (r != NULL && !brief)
			reply_add(b, L(lang, "%s tidak ada di TPS %013llu. "
			    "Periksa angka jenis: 1 PPWP 2 DPR 3 DPD 4 DPRDP "
			    "5 DPRDK.", "no %s at TPS %013llu. Check the "
			    "contest: 1 PPWP 2 DPR 3 DPD 4 DPRDP 5 DPRDK."),
			    decode_contest_name(r->contest),
			    (unsigned long long)r->tps);
		else
			reply_add(b, "%s", L(lang, "jenis ini tidak ada di TPS "
			    "ini. Periksa angka jenis.", "contest not held at "
			    "this TPS. Check the contest digit."));
		break;
	case REASON_PAGE_UNKNOWN:
		if (r != NULL && r->page >= 0 && !brief) {
			reply_num((unsigned long long)r->page, page,
			    sizeof(page));
			reply_add(b, L(lang, "halaman %s tidak ada di surat "
			    "suara %s TPS ini. Periksa no urut partai (0 = "
			    "ringkasan).", "page %s is not on this TPS's %s "
			    "ballot. Check the party number (0 = summary)."),
			    page, decode_contest_name(r->contest));
		} else
			reply_add(b, "%s", L(lang, "halaman tidak ada di surat "
			    "suara. Periksa no partai.", "no such page on the "
			    "ballot. Check the party number."));
		break;
	case REASON_NO_KEY:
		reply_add(b, "%s", brief ? L(lang, "kode belum bisa diperiksa. "
		    "Hubungi operator.", "code cannot be checked here. Call "
		    "the operator.") : L(lang, "kode belum bisa diperiksa di "
		    "server ini (kunci provinsi). Laporan disimpan. Hubungi "
		    "operator/PPK.", "this server cannot check the code yet "
		    "(province key). Report kept. Call the operator/PPK."));
		break;
	case REASON_CODE_BAD:
		if (r != NULL && !brief)
			reply_add(b, L(lang, "kode salah. Pakai kode kartu "
			    "baris %u (= SEQ) atau MAC, periksa angkanya, "
			    "kirim lagi.", "wrong code. Use card row %u (= "
			    "SEQ) or the MAC, check the digits, send again."),
			    r->seq);
		else
			reply_add(b, "%s", L(lang, "kode salah. Periksa MAC "
			    "atau kartu baris SEQ.", "wrong code. Check the "
			    "MAC or the card row SEQ."));
		if ((res->lockout & LOCKOUT_FAIL_LOCKED) == 0)
			break;
		reply_add(b, "%s", brief ? L(lang, " Nomor diblokir "
		    "sementara.", " Number blocked for a while.") :
		    L(lang, " Nomor ini kini diblokir sementara utk TPS ini; "
		    "hubungi PPK.", " This number is now blocked for this "
		    "TPS for a while; call the PPK."));
		break;
	case REASON_LOCKED:
		if (r != NULL && !brief)
			reply_add(b, L(lang, "nomor ini diblokir sementara utk "
			    "TPS %013llu krn kode salah berulang. Coba lagi "
			    "nanti atau hubungi PPK/operator.", "this number "
			    "is blocked for TPS %013llu for a while after "
			    "repeated wrong codes. Try later or call the PPK/"
			    "operator."), (unsigned long long)r->tps);
		else
			reply_add(b, "%s", L(lang, "nomor diblokir sementara "
			    "utk TPS ini. Hubungi PPK/operator.", "number "
			    "blocked for this TPS for a while. Call the PPK/"
			    "operator."));
		break;
	case REASON_SEQ_USED:
		if (brief) {
			reply_add(b, "%s", L(lang, "SEQ sudah dipakai. Pakai "
			    "SEQ berikutnya.", "SEQ already used. Use the "
			    "next SEQ."));
			break;
		}
		reply_add(b, "SEQ");
		if (r != NULL)
			reply_add(b, " %u", r->seq);
		reply_add(b, "%s", L(lang, " sudah dipakai utk angka lain",
		    " was already used for other numbers"));
		if (reply_is_code(res->receipt))
			reply_add(b, L(lang, " (tanda terima %s)",
			    " (receipt %s)"), res->receipt);
		reply_add(b, "%s", L(lang, ". Kirim lagi dgn SEQ berikutnya "
		    "dan kode barisnya.", ". Send again with the next SEQ and "
		    "its card row."));
		break;
	default:
		reply_add(b, "%s", L(lang, "laporan tidak bisa diproses. "
		    "Ketik BANTU utk format.", "the report cannot be "
		    "processed. Text BANTU for the format."));
		break;
	}
}

/* The most verbose rejection that fits; a level 2 text always should. */
static int
reply_reject(enum reply_lang lang, const struct store_msg *msg,
    const struct verify_result *res, char *text, size_t textlen)
{
	struct reply_buf	 b;
	const char		*allowed = NULL;
	int			 level;

	if (res->reason == REASON_SEQ_USED && reply_is_code(res->receipt))
		allowed = res->receipt;
	for (level = 0; level < REPLY_LEVELS; level++) {
		reply_init(&b);
		reply_add(&b, "%s", L(lang, "DITOLAK", "REJECTED"));
		/* Which report, when the officer sends several. */
		if (level == 0 && reply_valid_report(msg)) {
			reply_add(&b, " ");
			reply_ident(lang, &msg->report, IDENT_NOTPS, &b);
		}
		reply_add(&b, ": ");
		reply_reject_body(lang, msg, res, level, &b);
		if (reply_check_reject(b.s, allowed))
			return (reply_out(b.s, text, textlen));
	}
	log_warnx("reply: msg %lld: no rejection text for %s fits",
	    (long long)msg->id, verify_reason_text(res->reason));
	reply_init(&b);
	reply_add(&b, "%s", L(lang, "DITOLAK: laporan tidak bisa diproses. "
	    "Ketik BANTU utk format.", "REJECTED: the report cannot be "
	    "processed. Text BANTU for the format."));
	return (reply_out(b.s, text, textlen));
}

/*
 * The reply to one report: the standalone text, and for a confirmation
 * the brief form that is merged with others sent to the same phone.
 */
int
reply_report(enum reply_lang lang, const struct store_msg *msg,
    const struct verify_result *res, char *text, size_t textlen,
    char *brief, size_t brieflen)
{
	if (msg == NULL || res == NULL || text == NULL || textlen == 0) {
		log_warnx("reply: report: missing argument");
		return (-1);
	}
	text[0] = '\0';
	if (brief != NULL && brieflen > 0)
		brief[0] = '\0';
	switch (res->verdict) {
	case VERDICT_OK:
	case VERDICT_FLAGGED:
	case VERDICT_DUPLICATE:
		return (reply_confirm(lang, msg, res, text, textlen, brief,
		    brieflen));
	case VERDICT_REJECTED:
		return (reply_reject(lang, msg, res, text, textlen));
	}
	log_warnx("reply: msg %lld: unknown verdict %d", (long long)msg->id,
	    (int)res->verdict);
	return (-1);
}

/*
 * Merge as many leading briefs as fit into one SMS; the caller sends
 * the rest in another. Returns how many were used.
 */
size_t
reply_merge(enum reply_lang lang, const char **briefs, size_t n, char *out,
    size_t outlen)
{
	struct reply_buf	 b, t;
	const char		*foot;
	size_t			 used = 0, i;

	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (briefs == NULL || n == 0)
		return (0);
	foot = L(lang, ". Tulis tanda terima di C.Hasil.",
	    ". Write the receipts on C.Hasil.");
	reply_init(&b);
	reply_add(&b, "%s", L(lang, "DITERIMA: ", "RECEIVED: "));
	for (i = 0; i < n; i++) {
		if (briefs[i] == NULL || briefs[i][0] == '\0')
			break;
		t = b;
		reply_add(&t, "%s%s%s", i ? "; " : "", briefs[i], foot);
		if (!reply_fits(&t)) {
			/* A bare full stop leaves room for one more. */
			t = b;
			reply_add(&t, "%s%s.", i ? "; " : "", briefs[i]);
			if (!reply_fits(&t))
				break;
			foot = ".";
		}
		reply_add(&b, "%s%s", i ? "; " : "", briefs[i]);
		used++;
	}
	if (used == 0)
		return (0);
	reply_add(&b, "%s", foot);
	if (!reply_fits(&b) || reply_out(b.s, out, outlen) == -1) {
		if (out != NULL && outlen > 0)
			out[0] = '\0';
		return (0);
	}
	return (used);
}

/* The answer to "CEK <TPS>": the latest SEQ and receipt per page. */
int
reply_cek(enum reply_lang lang, uint64_t tps,
    const struct store_latest *latest, size_t n, char *text, size_t len)
{
	struct reply_buf	 b, e, t;
	size_t			 i, shown = 0;
	int			 flagged = 0;

	if (text == NULL || len == 0 || (n > 0 && latest == NULL) ||
	    tps > REPLY_TPS_MAX) {
		log_warnx("reply: cek: bad argument");
		return (-1);
	}
	text[0] = '\0';
	reply_init(&b);
	reply_add(&b, L(lang, "CEK %013llu:", "CEK %013llu:"),
	    (unsigned long long)tps);
	if (n == 0) {
		reply_add(&b, "%s", L(lang, " belum ada laporan tercatat. "
		    "Kirim laporan; ketik BANTU utk format.", " nothing "
		    "recorded yet. Send your reports; text BANTU for the "
		    "format."));
		return (reply_out(b.s, text, len));
	}
	for (i = 0; i < n; i++) {
		struct report	 r;

		memset(&r, 0, sizeof(r));
		r.contest = latest[i].contest;
		r.page = decode_contest_paged(r.contest) ? latest[i].page : -1;
		r.seq = latest[i].seq;
		reply_init(&e);
		reply_add(&e, "%s ", i ? ";" : "");
		reply_ident(lang, &r, IDENT_BRIEF, &e);
		reply_add(&e, " %s%s", reply_is_code(latest[i].receipt) ?
		    latest[i].receipt : "-",
		    latest[i].verdict == VERDICT_FLAGGED ? "!" : "");
		/* Room for this one and for saying how many more follow. */
		t = b;
		reply_add(&t, "%s", e.s);
		if (i + 1 < n)
			reply_add(&t, L(lang, " +%zu lagi", " +%zu more"),
			    n - i - 1);
		reply_add(&t, ".");
		if (!reply_fits(&t))
			break;
		reply_add(&b, "%s", e.s);
		if (latest[i].verdict == VERDICT_FLAGGED)
			flagged = 1;
		shown++;
	}
	if (shown < n)
		reply_add(&b, L(lang, " +%zu lagi", " +%zu more"),
		    n - shown);
	reply_add(&b, ".");
	if (flagged) {
		t = b;
		reply_add(&t, "%s", L(lang, " !=ada catatan.", " !=flagged."));
		if (reply_fits(&t))
			b = t;
	}
	if (!reply_fits(&b)) {
		log_warnx("reply: cek: %013llu: does not fit",
		    (unsigned long long)tps);
		return (-1);
	}
	return (reply_out(b.s, text, len));
}

/* The answer to BANTU: the format of a report. */
int
reply_bantu(enum reply_lang lang, char *text, size_t len)
{
	return (reply_out(L(lang,
	    "Format: PPWP <TPS 13 angka> <SEQ> <PEMILIH> <01> <02> <03> <SAH> "
	    "<TDK SAH> <KODE>. DPR/DPRDP/DPRDK: <HAL> stlh SEQ. Pisah spasi "
	    "atau *. CEK <TPS>",
	    "Format: PPWP <TPS 13 digits> <SEQ> <PEMILIH> <01> <02> <03> "
	    "<SAH> <TIDAK SAH> <CODE>. DPR/DPRDP/DPRDK: <PAGE> after SEQ. "
	    "Check: CEK <TPS>"), text, len));
}

/* The answer to a text that is neither a report nor a command. */
int
reply_other(enum reply_lang lang, char *text, size_t len)
{
	return (reply_out(L(lang,
	    "Pesan tidak dikenali. Ketik BANTU utk format laporan, atau "
	    "CEK <kode TPS> utk melihat data TPS.",
	    "Message not recognised. Text BANTU for the report format, or "
	    "CEK <TPS code> to see what is recorded."), text, len));
}

/*
 * "CEK X" where X is not a TPS code (or not a registered one). Takes
 * X, or the whole text of the message: then the word CEK is skipped.
 */
int
reply_tps_unknown(enum reply_lang lang, const char *tps_text, char *text,
    size_t len)
{
	struct reply_buf	 b;
	struct tokens		 t;
	const char		*x = tps_text;
	char			 q[REPLY_QUOTE_MAX];

	if (x != NULL) {
		decode_tokens(x, strlen(x), &t);
		if (t.n > 0 && strncmp(t.tok[0], "CEK", 3) == 0)
			x = t.tok[0][3] != '\0' ? t.tok[0] + 3 :
			    t.n > 1 ? t.tok[1] : "";
	}
	reply_quote(x, q, sizeof(q));
	reply_init(&b);
	if (q[0] != '\0')
		reply_add(&b, L(lang, "CEK: kode TPS '%s' salah atau tidak "
		    "terdaftar.", "CEK: TPS code '%s' is wrong or not "
		    "registered."), q);
	else
		reply_add(&b, "%s", L(lang, "CEK: kode TPS tidak ada.",
		    "CEK: no TPS code."));
	reply_add(&b, "%s", L(lang, " Kirim CEK lalu 13 angka kode TPS, mis. "
	    "CEK 3201012001001.", " Send CEK and the 13-digit TPS code, e.g. "
	    "CEK 3201012001001."));
	if (!reply_check_reject(b.s, NULL)) {
		log_warnx("reply: tps_unknown: text does not fit");
		return (-1);
	}
	return (reply_out(b.s, text, len));
}

/* A TPS code as decode reads it: 13 digits (O, I, L), province 11..99. */
static int
reply_tps(const char *tok, uint64_t *tps)
{
	unsigned long	 v;

	if (strlen(tok) != TALLY_TPS_DIGITS ||
	    decode_number(tok, &v, TALLY_TPS_DIGITS) < 0 ||
	    v < REPLY_TPS_MIN || v > REPLY_TPS_MAX)
		return (0);
	*tps = v;
	return (1);
}

/*
 * What an incoming text asks for: CEK <TPS>, BANTU (HELP, INFO, ?), a
 * report (the first token is a contest keyword or its digit), or
 * something else. Tokens as decode.c splits them.
 */
enum msg_kind
reply_classify(const char *text, uint64_t *tps, int *ok)
{
	static const char *const bantu[] = {
		"BANTU", "BANTUAN", "HELP", "INFO", "TOLONG",
	};
	struct tokens	 t;
	const char	*p, *first;
	uint64_t	 v = 0;
	size_t		 i;
	int		 good = 0;

	if (tps != NULL)
		*tps = 0;
	if (ok != NULL)
		*ok = 0;
	if (text == NULL)
		return (MSG_OTHER);
	decode_tokens(text, strlen(text), &t);
	if (t.n == 0) {
		/* "?" alone: no token, but a plain request for help. */
		for (p = text; *p == '?' || isspace((unsigned char)*p); p++)
			;
		return ((*p == '\0' && strchr(text, '?') != NULL) ?
		    MSG_BANTU : MSG_OTHER);
	}
	first = t.tok[0];
	if (strncmp(first, "CEK", 3) == 0) {
		if (first[3] == '\0') {
			if (t.n >= 2)
				good = reply_tps(t.tok[1], &v);
		} else if (isdigit((unsigned char)first[3]))
			good = reply_tps(first + 3, &v); /* CEK3201012001001 */
		else
			goto notcek;		/* "CEKAP": not a command */
		if (good && tps != NULL)
			*tps = v;
		if (ok != NULL)
			*ok = good;
		return (MSG_CEK);
	}
notcek:
	for (i = 0; i < sizeof(bantu) / sizeof(bantu[0]); i++)
		if (strcmp(first, bantu[i]) == 0)
			return (MSG_BANTU);
	if (decode_contest(first) != CONTEST_NONE)
		return (MSG_REPORT);
	return (MSG_OTHER);
}
