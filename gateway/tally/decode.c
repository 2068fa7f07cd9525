/*
 * decode: the first stage. Turns the text a KPPS officer typed into
 * tokens, then into a struct report and its canonical text. Syntax only:
 * whether the numbers fit the TPS's form is verify's business.
 */

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "fmt.h"
#include "tally.h"

static const struct {
	const char	*name;
	enum contest	 contest;
	int		 paged;
} decode_contests[] = {
	{ "PPWP",	CONTEST_PPWP,	0 },
	{ "DPR",	CONTEST_DPR,	1 },
	{ "DPD",	CONTEST_DPD,	0 },
	{ "DPRDP",	CONTEST_DPRDP,	1 },
	{ "DPRDK",	CONTEST_DPRDK,	1 },
};

static void	decode_fail(struct decode_error *, enum reason, int,
		    const char *);

/*
 * The digit zero of every block of ten Unicode decimal digits (general
 * category Nd, Unicode 15) outside ASCII: Arabic-Indic, Extended
 * Arabic-Indic, Devanagari, Thai, Balinese, Sundanese, Javanese, Kawi,
 * full-width, mathematical, ... Each block holds 0..9 in order.
 */
static const uint32_t decode_digit_zeros[] = {
	0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0b66, 0x0be6,
	0x0c66, 0x0ce6, 0x0d66, 0x0de6, 0x0e50, 0x0ed0, 0x0f20, 0x1040, 0x1090,
	0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40,
	0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
	0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450,
	0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50,
	0x11da0, 0x11f50, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
	0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e4f0, 0x1e950, 0x1fbf0,
};

/*
 * Split on every run of characters outside [0-9A-Za-z], uppercase.
 * Never fails: text that does not fit sets 'truncated'.
 */
int
decode_tokens(const char *text, size_t len, struct tokens *t)
{
	size_t	 i, used = 0;
	int	 in = 0;

	memset(t, 0, sizeof(*t));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (!isascii(c) || !isalnum(c)) {
			if (in) {
				t->buf[used++] = '\0';
				in = 0;
			}
			continue;
		}
		if (!in) {
			if (t->n == TALLY_MAXTOKENS ||
			    used + 2 > sizeof(t->buf)) {
				t->truncated = 1;
				break;
			}
			t->tok[t->n++] = t->buf + used;
			in = 1;
		} else if (used + 2 > sizeof(t->buf)) {
			t->truncated = 1;
			break;
		}
		t->buf[used++] = (char)toupper(c);
	}
	if (in)
		t->buf[used] = '\0';
	t->tok[t->n] = NULL;
	return ((int)t->n);
}

/*
 * One UTF-8 character at s, at most len bytes: its code point, and its
 * length in *n. A broken sequence is one byte, U+FFFD.
 */
static uint32_t
decode_utf8(const unsigned char *s, size_t len, size_t *n)
{
	uint32_t	 cp;
	size_t		 i, need;

	*n = 1;
	if (s[0] < 0x80)
		return (s[0]);
	if ((s[0] & 0xe0) == 0xc0) {
		cp = s[0] & 0x1f;
		need = 1;
	} else if ((s[0] & 0xf0) == 0xe0) {
		cp = s[0] & 0x0f;
		need = 2;
	} else if ((s[0] & 0xf8) == 0xf0) {
		cp = s[0] & 0x07;
		need = 3;
	} else
		return (0xfffd);
	if (need >= len)
		return (0xfffd);
	for (i = 1; i <= need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0xfffd);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	*n = need + 1;
	return (cp);
}

/*
 * The character at text (len bytes left, len > 0): its value 0..9 if it
 * is a decimal digit other than ASCII 0-9, else -1. *n is its length in
 * bytes, so that a caller can walk a text with it.
 */
int
decode_foreign_digit(const char *text, size_t len, size_t *n)
{
	uint32_t	 cp;
	size_t		 i;

	cp = decode_utf8((const unsigned char *)text, len, n);
	if (cp < 0x80)
		return (-1);
	for (i = 0; i < sizeof(decode_digit_zeros) /
	    sizeof(decode_digit_zeros[0]); i++)
		if (cp >= decode_digit_zeros[i] &&
		    cp <= decode_digit_zeros[i] + 9)
			return ((int)(cp - decode_digit_zeros[i]));
	return (-1);
}

/* Whether a text holds a digit outside ASCII 0-9 anywhere. */
static int
decode_has_foreign(const char *text, size_t len)
{
	size_t	 i, n;

	for (i = 0; i < len; i += n)
		if (decode_foreign_digit(text + i, len - i, &n) >= 0)
			return (1);
	return (0);
}

/*
 * A token in a number position: digits, with O read as 0 and I, L as 1
 * (the slips a phone keypad invites). At most maxdigits characters.
 */
int
decode_number(const char *tok, unsigned long *out, size_t maxdigits)
{
	unsigned long	 v = 0;
	size_t		 n = 0;
	const char	*p;
	int		 d;

	for (p = tok; *p != '\0'; p++, n++) {
		if (n == maxdigits)
			return (-1);
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (*p == 'O')
			d = 0;
		else if (*p == 'I' || *p == 'L')
			d = 1;
		else
			return (-1);
		v = v * 10 + (unsigned long)d;
	}
	if (n == 0)
		return (-1);
	*out = v;
	return ((int)n);
}

enum contest
decode_contest(const char *tok)
{
	size_t	 i;

	for (i = 0; i < sizeof(decode_contests) / sizeof(decode_contests[0]);
	    i++) {
		if (strcmp(tok, decode_contests[i].name) == 0)
			return (decode_contests[i].contest);
	}
	/* The digit form: 1..5, a leading zero is harmless. */
	if (tok[0] == '0' && tok[1] != '\0')
		tok++;
	if (tok[0] >= '1' && tok[0] <= '5' && tok[1] == '\0')
		return ((enum contest)(tok[0] - '0'));
	return (CONTEST_NONE);
}

const char *
decode_contest_name(enum contest c)
{
	if (c < CONTEST_PPWP || c > CONTEST_DPRDK)
		return ("?");
	return (decode_contests[c - 1].name);
}

int
decode_contest_paged(enum contest c)
{
	if (c < CONTEST_PPWP || c > CONTEST_DPRDK)
		return (0);
	return (decode_contests[c - 1].paged);
}

static void
decode_fail(struct decode_error *err, enum reason reason, int token,
    const char *text)
{
	memset(err, 0, sizeof(*err));
	err->reason = reason;
	err->token = token;
	if (text != NULL)
		snprintf(err->text, sizeof(err->text), "%s", text);
}

/*
 * Write the canonical text of a decoded report into r->canon:
 * "CONTEST TPS(13 digits) SEQ [PAGE] VALUE...", without printf (it ran
 * for every report, docs/bench.md).
 */
int
decode_canon(struct report *r)
{
	char	*c = r->canon;
	size_t	 i, off, len = sizeof(r->canon);

	off = fmt_copy(c, len, decode_contest_name(r->contest));
	if (off >= len ||
	    fmt_add_uint(c, len, &off, " ", r->tps, 13) == -1 ||
	    fmt_add_uint(c, len, &off, " ", r->seq, 0) == -1)
		return (-1);
	if (r->page >= 0 && fmt_add_uint(c, len, &off, " ",
	    (unsigned long long)r->page, 0) == -1)
		return (-1);
	for (i = 0; i < r->nvalues; i++)
		if (fmt_add_uint(c, len, &off, " ", r->values[i], 0) == -1)
			return (-1);
	return (0);
}

/* An 8-digit code typed where a small number goes (SEQ, PAGE). */
static int
decode_is_code(const char *tok)
{
	unsigned long	 v;

	return (strlen(tok) == TALLY_CODE_LEN &&
	    decode_number(tok, &v, TALLY_CODE_LEN) > 0 && v > TALLY_SEQ_MAX);
}

/*
 * TPS, SEQ and PAGE. Returns the index of the first value, or -1 with
 * err filled.
 */
static int
decode_head(const struct tokens *t, struct report *r,
    struct decode_error *err)
{
	unsigned long	 v;
	int		 paged = decode_contest_paged(r->contest);

	if (t->n < 2 || strlen(t->tok[1]) != TALLY_TPS_DIGITS ||
	    decode_number(t->tok[1], &v, TALLY_TPS_DIGITS) < 0) {
		decode_fail(err, REASON_TPS_FORMAT, 2,
		    t->n < 2 ? NULL : t->tok[1]);
		return (-1);
	}
	r->tps = v;
	/* Kemendagri province codes run from 11 to 99. */
	if (r->tps / 100000000000ULL < 11) {
		decode_fail(err, REASON_TPS_FORMAT, 2, t->tok[1]);
		return (-1);
	}
	if (t->n >= 3 && decode_is_code(t->tok[2])) {
		decode_fail(err, REASON_CODE_PLACE, 3, t->tok[2]);
		return (-1);
	}
	/* Page 0 of a paged contest where SEQ goes: SEQ left out. */
	if (t->n >= 3 && paged && decode_number(t->tok[2], &v, 9) > 0 &&
	    v == 0) {
		decode_fail(err, REASON_SEQ_MISSING, 3, t->tok[2]);
		return (-1);
	}
	if (t->n < 3 || decode_number(t->tok[2], &v, 9) < 0 || v < 1 ||
	    v > TALLY_SEQ_MAX) {
		decode_fail(err, REASON_SEQ, 3, t->n < 3 ? NULL : t->tok[2]);
		return (-1);
	}
	r->seq = (unsigned)v;
	if (!paged)
		return (3);
	if (t->n >= 4 && decode_is_code(t->tok[3])) {
		decode_fail(err, REASON_CODE_PLACE, 4, t->tok[3]);
		return (-1);
	}
	if (t->n < 4 || decode_number(t->tok[3], &v, 9) < 0) {
		decode_fail(err, REASON_PAGE, 4, t->n < 4 ? NULL : t->tok[3]);
		return (-1);
	}
	r->page = (int)v;	/* at most 9 digits: fits */
	return (4);
}

/*
 * CONTEST TPS SEQ [PAGE] V1 .. Vn CODE. Fills r and returns 0, or fills
 * err and returns -1. The count of values is checked later, against the
 * form of the TPS.
 */
int
decode_report(const char *text, size_t len, struct report *r,
    struct decode_error *err)
{
	struct tokens	 t;
	unsigned long	 v;
	size_t		 i, first, last;
	int		 n;

	memset(r, 0, sizeof(*r));
	memset(err, 0, sizeof(*err));
	r->page = -1;
	/* Arabic or full-width digits would vanish as separators. */
	if (decode_has_foreign(text, len)) {
		decode_fail(err, REASON_DIGITS, 0, NULL);
		return (-1);
	}
	decode_tokens(text, len, &t);
	if (t.n == 0) {
		decode_fail(err, REASON_EMPTY, 0, NULL);
		return (-1);
	}
	if ((r->contest = decode_contest(t.tok[0])) == CONTEST_NONE) {
		decode_fail(err, REASON_CONTEST, 1, t.tok[0]);
		return (-1);
	}
	if (t.truncated) {
		decode_fail(err, REASON_TOO_LONG, 0, NULL);
		return (-1);
	}
	if ((n = decode_head(&t, r, err)) == -1)
		return (-1);
	first = (size_t)n;
	/* At least one value and the code. */
	if (t.n < first + 2) {
		decode_fail(err, REASON_COUNT, 0, NULL);
		err->got = t.n > first ? (int)(t.n - first - 1) : 0;
		return (-1);
	}
	last = t.n - 1;
	if (last - first > TALLY_MAXVALUES) {
		decode_fail(err, REASON_TOO_LONG, 0, NULL);
		return (-1);
	}
	if (strlen(t.tok[last]) != TALLY_CODE_LEN ||
	    decode_number(t.tok[last], &v, TALLY_CODE_LEN) < 0) {
		decode_fail(err, REASON_CODE_FORMAT, (int)last + 1,
		    t.tok[last]);
		return (-1);
	}
	fmt_uint(r->code, sizeof(r->code), v, TALLY_CODE_LEN);
	for (i = first; i < last; i++) {
		n = decode_number(t.tok[i], &v, 18);
		if (n < 0) {
			decode_fail(err, REASON_VALUE_FORMAT, (int)i + 1,
			    t.tok[i]);
			return (-1);
		}
		if (v > TALLY_VALUE_MAX) {
			decode_fail(err, REASON_VALUE_RANGE, (int)i + 1,
			    t.tok[i]);
			return (-1);
		}
		r->values[r->nvalues++] = (uint16_t)v;
	}
	if (decode_canon(r) == -1) {
		r->canon[0] = '\0';	/* empty: not decoded */
		decode_fail(err, REASON_TOO_LONG, 0, NULL);
		return (-1);
	}
	return (0);
}
