/*
 * oracle: did every report get what the protocol promises? Compares a
 * scenario's expected outcomes with the phones' inboxes and the central
 * receiver's records. The reply wording belongs to the gateway, so the
 * oracle relies only on this: a confirmation carries the receipt's 8
 * digits, a rejection carries no receipt. See docs/scenario.md.
 */

#include <sys/queue.h>

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "oracle.h"
#include "scenario.h"
#include "tally.h"
#include "truth.h"

#define ORACLE_LINE_MAX	(1024 * 1024)

static const char *oracle_names[ORACLE_CHECK_MAX] = {
	[ORACLE_FORWARD_MISSING] = "FORWARD_MISSING",
	[ORACLE_FORWARD_TWICE] = "FORWARD_TWICE",
	[ORACLE_FORWARD_UNEXPECTED] = "FORWARD_UNEXPECTED",
	[ORACLE_FORWARD_VALUES] = "FORWARD_VALUES",
	[ORACLE_FORWARD_FLAGS] = "FORWARD_FLAGS",
	[ORACLE_FORWARD_RECEIPT] = "FORWARD_RECEIPT",
	[ORACLE_FORWARD_KEY] = "FORWARD_KEY",
	[ORACLE_CONFIRM_MISSING] = "CONFIRM_MISSING",
	[ORACLE_CONFIRM_EXTRA] = "CONFIRM_EXTRA",
	[ORACLE_RECEIPT_WRONG] = "RECEIPT_WRONG",
	[ORACLE_REJECT_UNANSWERED] = "REJECT_UNANSWERED",
	[ORACLE_REPLY_EXTRA] = "REPLY_EXTRA",
	[ORACLE_REPLY_UNEXPECTED] = "REPLY_UNEXPECTED",
	[ORACLE_LATEST_MISSING] = "LATEST_MISSING",
	[ORACLE_LATEST_WRONG] = "LATEST_WRONG",
	[ORACLE_FORWARD_UNSIGNED] = "FORWARD_UNSIGNED",
	[ORACLE_USSD_MISSING] = "USSD_MISSING",
	[ORACLE_USSD_FAILED] = "USSD_FAILED",
	[ORACLE_USSD_VERDICT] = "USSD_VERDICT",
	[ORACLE_USSD_RECEIPT] = "USSD_RECEIPT",
	[ORACLE_USSD_ENDED] = "USSD_ENDED",
	[ORACLE_USSD_RESUME] = "USSD_RESUME",
	[ORACLE_USSD_WRONG_KEY] = "USSD_WRONG_KEY",
	[ORACLE_USSD_RETRY] = "USSD_RETRY",
};

/*
 * What the oracle relies on in a USSD END screen (docs/protocol.md,
 * section 18; docs/ussd.md): it begins with the verdict's word, a
 * FLAGGED one says what to check, a rejection names what was wrong,
 * and a refused input repeats the screen after "Salah:". Both of the
 * gateway's languages.
 */
static const struct {
	const char	*word;
	enum verdict	 verdict;	/* VERDICT_OK: OK or FLAGGED */
} oracle_verdict_words[] = {
	{ "SUDAH DITERIMA", VERDICT_DUPLICATE },
	{ "ALREADY RECEIVED", VERDICT_DUPLICATE },
	{ "DITERIMA", VERDICT_OK },
	{ "RECEIVED", VERDICT_OK },
	{ "DITOLAK", VERDICT_REJECTED },
	{ "REJECTED", VERDICT_REJECTED },
};
static const char *oracle_flagged_words[] = { "PERIKSA", "CHECK" };
static const struct {
	enum reason	 reason;
	const char	*word;		/* in either case */
} oracle_reason_words[] = {
	{ REASON_CODE_BAD, "kode" },
	{ REASON_CODE_BAD, "code" },
	{ REASON_SEQ_USED, "SEQ" },
};
static const char *oracle_wrong_words[] = { "Salah", "Wrong" };
static const char *oracle_resume_words[] = { "9 Lanjut", "9 Resume" };

static const char *oracle_flag_names[] = { "SUM", "TOTAL", "DPT", "PARTY",
    "SENDER", "STALE" };

/* An 8-digit code found in a reply. */
struct oracle_code {
	const struct oracle_reply *reply;
	char		 code[TALLY_CODE_LEN + 1];
	int		 used;
};

/* One receipt a phone must see, and the messages that expect it. */
struct oracle_rcpt {
	char		 code[TALLY_CODE_LEN + 1];
	const struct sc_msg *msgs[64];
	size_t		 nmsgs;
	size_t		 quoted;	/* SEQ_USED replies that may quote it */
	size_t		 seen;
};

const char *
oracle_check_name(enum oracle_check c)
{
	if (c >= ORACLE_CHECK_MAX)
		return ("?");
	return (oracle_names[c]);
}

struct oracle_input *
oracle_input_new(void)
{
	struct oracle_input	*in;

	if ((in = calloc(1, sizeof(*in))) == NULL)
		return (NULL);
	TAILQ_INIT(&in->replies);
	TAILQ_INIT(&in->records);
	TAILQ_INIT(&in->sessions);
	return (in);
}

void
oracle_input_free(struct oracle_input *in)
{
	struct oracle_reply	*r;
	struct oracle_record	*c;
	struct oracle_session	*u;
	size_t			 i;

	if (in == NULL)
		return;
	while ((u = TAILQ_FIRST(&in->sessions)) != NULL) {
		TAILQ_REMOVE(&in->sessions, u, entry);
		for (i = 0; i < u->nscreens; i++)
			free(u->screens[i].text);
		free(u->screens);
		free(u);
	}
	while ((r = TAILQ_FIRST(&in->replies)) != NULL) {
		TAILQ_REMOVE(&in->replies, r, entry);
		free(r->text);
		free(r);
	}
	while ((c = TAILQ_FIRST(&in->records)) != NULL) {
		TAILQ_REMOVE(&in->records, c, entry);
		free(c);
	}
	free(in);
}

int
oracle_add_reply(struct oracle_input *in, const char *phone, const char *from,
    const char *text, const char *time)
{
	struct oracle_reply	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->text = strdup(text != NULL ? text : "")) == NULL) {
		free(r);
		return (-1);
	}
	snprintf(r->phone, sizeof(r->phone), "%s", phone);
	snprintf(r->from, sizeof(r->from), "%s", from != NULL ? from : "");
	snprintf(r->time, sizeof(r->time), "%s", time != NULL ? time : "");
	TAILQ_INSERT_TAIL(&in->replies, r, entry);
	in->nreplies++;
	return (0);
}

int
oracle_add_record(struct oracle_input *in, const struct oracle_record *rec)
{
	struct oracle_record	*c;

	if ((c = malloc(sizeof(*c))) == NULL)
		return (-1);
	*c = *rec;
	c->used = 0;
	TAILQ_INSERT_TAIL(&in->records, c, entry);
	in->nrecords++;
	return (0);
}

/* Read lines one by one; each must be a JSON object. */
static int
oracle_each_line(FILE *fp, char *err, size_t errlen,
    int (*fn)(void *, json_t *, size_t, char *, size_t), void *arg)
{
	char		*line = NULL;
	size_t		 cap = 0, lineno = 0;
	ssize_t		 len;
	json_error_t	 jerr;
	json_t		*o;
	int		 rc = 0;

	while ((len = getline(&line, &cap, fp)) != -1) {
		lineno++;
		while (len > 0 && isspace((unsigned char)line[len - 1]))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if ((o = json_loadb(line, (size_t)len, 0, &jerr)) == NULL ||
		    !json_is_object(o)) {
			snprintf(err, errlen, "line %zu: %s", lineno, o == NULL ?
			    jerr.text : "not a JSON object");
			json_decref(o);
			rc = -1;
			break;
		}
		rc = fn(arg, o, lineno, err, errlen);
		json_decref(o);
		if (rc == -1)
			break;
	}
	free(line);
	return (rc);
}

static const char *
oracle_str(json_t *o, const char *key)
{
	json_t	*v = json_object_get(o, key);

	return (json_is_string(v) ? json_string_value(v) : NULL);
}

static int
oracle_inbox_line(void *arg, json_t *o, size_t lineno, char *err,
    size_t errlen)
{
	const char	*phone, *text;

	/* tallysim's ctl prints the receiver as "to". */
	if ((phone = oracle_str(o, "phone")) == NULL)
		phone = oracle_str(o, "to");
	text = oracle_str(o, "text");
	if (phone == NULL || text == NULL) {
		snprintf(err, errlen, "line %zu: needs \"phone\" (or \"to\") "
		    "and \"text\"", lineno);
		return (-1);
	}
	if (oracle_add_reply(arg, phone, oracle_str(o, "from"), text,
	    oracle_str(o, "time")) == -1) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

/* Lines {"phone": ..., "from": ..., "text": ..., "time": ...}. */
int
oracle_load_inbox_jsonl(struct oracle_input *in, FILE *fp, char *err,
    size_t errlen)
{
	return (oracle_each_line(fp, err, errlen, oracle_inbox_line, in));
}

static int
oracle_central_line(void *arg, json_t *o, size_t lineno, char *err,
    size_t errlen)
{
	struct oracle_record	 rec;
	json_t			*v, *x;
	const char		*s;
	size_t			 i, k;

	memset(&rec, 0, sizeof(rec));
	v = json_object_get(o, "tps");
	if (json_is_string(v))
		rec.tps = strtoull(json_string_value(v), NULL, 10);
	else if (json_is_integer(v))
		rec.tps = (uint64_t)json_integer_value(v);
	if ((s = oracle_str(o, "contest")) != NULL)
		rec.contest = decode_contest(s);
	v = json_object_get(o, "page");
	rec.page = json_is_integer(v) ? (int)json_integer_value(v) : -1;
	v = json_object_get(o, "seq");
	if (json_is_integer(v))
		rec.seq = (unsigned)json_integer_value(v);
	if (rec.tps == 0 || rec.contest == CONTEST_NONE || rec.seq == 0) {
		snprintf(err, errlen, "line %zu: needs tps, contest and seq",
		    lineno);
		return (-1);
	}
	json_array_foreach(json_object_get(o, "values"), i, x) {
		if (i >= TALLY_MAXVALUES)
			break;
		rec.values[i] = (uint16_t)json_integer_value(x);
		rec.nvalues = i + 1;
	}
	json_array_foreach(json_object_get(o, "flags"), i, x) {
		for (k = 0; k < 6; k++)
			if (json_is_string(x) && strcmp(json_string_value(x),
			    oracle_flag_names[k]) == 0)
				rec.flags |= 1u << k;
	}
	if ((s = oracle_str(o, "receipt")) != NULL)
		snprintf(rec.receipt, sizeof(rec.receipt), "%s", s);
	if ((s = oracle_str(o, "idempotency_key")) != NULL)
		snprintf(rec.idempotency_key, sizeof(rec.idempotency_key),
		    "%s", s);
	rec.unverified = json_is_false(json_object_get(o, "signature_ok"));
	if (oracle_add_record(arg, &rec) == -1) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);
}

/* The JSON lines of GET /v1/reports (docs/forward.md). */
int
oracle_load_central_jsonl(struct oracle_input *in, FILE *fp, char *err,
    size_t errlen)
{
	return (oracle_each_line(fp, err, errlen, oracle_central_line, in));
}

/*
 * Session k of message msg, made if new. Lines of one session come
 * close together in the log (sessions overlap a little): look from
 * the last one back.
 */
static struct oracle_session *
oracle_session(struct oracle_input *in, size_t msg, size_t k,
    const char *phone)
{
	struct oracle_session	*u;

	TAILQ_FOREACH_REVERSE(u, &in->sessions, oracle_sessionq, entry)
		if (u->msg == msg && u->k == k)
			return (u);
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return (NULL);
	u->msg = msg;
	u->k = k;
	snprintf(u->phone, sizeof(u->phone), "%s", phone != NULL ? phone : "");
	TAILQ_INSERT_TAIL(&in->sessions, u, entry);
	in->nsessions++;
	return (u);
}

/* A screen of a session: type "CON", "END", or NULL (none came). */
int
oracle_add_screen(struct oracle_input *in, size_t msg, size_t k,
    const char *phone, int i, int retry, const char *type, const char *text)
{
	struct oracle_session	*u;
	struct oracle_screen	*v, *sc;

	if ((u = oracle_session(in, msg, k, phone)) == NULL ||
	    (v = reallocarray(u->screens, u->nscreens + 1,
	    sizeof(*v))) == NULL)
		return (-1);
	u->screens = v;
	sc = &v[u->nscreens];
	memset(sc, 0, sizeof(*sc));
	if ((sc->text = strdup(text != NULL ? text : "")) == NULL)
		return (-1);
	sc->i = i;
	sc->retry = retry;
	sc->end = type == NULL ? -1 : strcmp(type, "END") == 0;
	u->nscreens++;
	return (0);
}

/* How a session ended: END, dropped, timeout, error (and why). */
int
oracle_end_session(struct oracle_input *in, size_t msg, size_t k,
    const char *phone, const char *end, const char *error)
{
	struct oracle_session	*u;

	if ((u = oracle_session(in, msg, k, phone)) == NULL)
		return (-1);
	snprintf(u->end, sizeof(u->end), "%s", end);
	snprintf(u->error, sizeof(u->error), "%s", error != NULL ? error :
	    "");
	return (0);
}

static int
oracle_ussd_line(void *arg, json_t *o, size_t lineno, char *err,
    size_t errlen)
{
	json_t		*msg = json_object_get(o, "msg");
	json_t		*k = json_object_get(o, "k");
	json_t		*i = json_object_get(o, "i");
	const char	*end = oracle_str(o, "end"), *phone;
	int		 rc;

	phone = oracle_str(o, "phone");
	if (!json_is_integer(msg) || json_integer_value(msg) < 0 ||
	    !json_is_integer(k) || json_integer_value(k) < 0 ||
	    (end == NULL && !json_is_integer(i))) {
		snprintf(err, errlen, "line %zu: needs msg, k and i (or end)",
		    lineno);
		return (-1);
	}
	if (end != NULL)
		rc = oracle_end_session(arg, (size_t)json_integer_value(msg),
		    (size_t)json_integer_value(k), phone, end,
		    oracle_str(o, "error"));
	else
		rc = oracle_add_screen(arg, (size_t)json_integer_value(msg),
		    (size_t)json_integer_value(k), phone,
		    (int)json_integer_value(i),
		    json_is_true(json_object_get(o, "retry")),
		    oracle_str(o, "type"), oracle_str(o, "text"));
	if (rc == -1)
		snprintf(err, errlen, "out of memory");
	return (rc);
}

/* The lines tallysim's USSD officers log (RUNDIR/ussd.jsonl). */
int
oracle_load_ussd_jsonl(struct oracle_input *in, FILE *fp, char *err,
    size_t errlen)
{
	return (oracle_each_line(fp, err, errlen, oracle_ussd_line, in));
}

static void	oracle_disc(struct oracle_report *, enum oracle_check,
		    const struct sc_msg *, const char *, const char *, ...)
		    __attribute__((format(printf, 5, 6)));

/* Record one discrepancy about a message (or a phone, if msg is NULL). */
static void
oracle_disc(struct oracle_report *rep, enum oracle_check what,
    const struct sc_msg *m, const char *phone, const char *fmt, ...)
{
	struct oracle_disc	*d;
	va_list			 ap;

	rep->ndisc++;
	rep->count[what]++;
	if ((d = calloc(1, sizeof(*d))) == NULL)
		return;
	d->what = what;
	d->msg = m;
	d->page = -1;
	if (m != NULL) {
		snprintf(d->phone, sizeof(d->phone), "%s", m->phone->msisdn);
		d->tps = m->tps;
		d->contest = m->contest;
		d->page = m->page;
		d->seq = m->seq;
	} else if (phone != NULL)
		snprintf(d->phone, sizeof(d->phone), "%s", phone);
	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
	va_end(ap);
	TAILQ_INSERT_TAIL(&rep->discs, d, entry);
}

static int
oracle_rec_cmp(const void *a, const void *b)
{
	const struct oracle_record *x = *(const struct oracle_record *const *)a;
	const struct oracle_record *y = *(const struct oracle_record *const *)b;

	if (x->tps != y->tps)
		return (x->tps < y->tps ? -1 : 1);
	if (x->seq != y->seq)
		return (x->seq < y->seq ? -1 : 1);
	return (0);
}

/* First record with (tps, seq) >= the key, in the sorted array. */
static size_t
oracle_lower(struct oracle_record **v, size_t n, uint64_t tps, unsigned seq)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (v[mid]->tps < tps || (v[mid]->tps == tps &&
		    v[mid]->seq < seq))
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

static void
oracle_values_text(const uint16_t *v, size_t n, char *buf, size_t len)
{
	size_t	 i, off = 0;
	int	 w;

	buf[0] = '\0';
	for (i = 0; i < n && off < len; i++) {
		w = snprintf(buf + off, len - off, "%s%u", i ? " " : "", v[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
}

/* Every accepted report must be held once, exactly as accepted. */
static void
oracle_central(const struct scenario *sc, struct oracle_record **v,
    size_t n, unsigned ignore, struct oracle_report *rep)
{
	const struct sc_msg	*m;
	const struct sc_final	*f;
	char			 a[512], b[512], key[64];
	size_t			 i, j, k;

	TAILQ_FOREACH(m, &sc->msgs, entry) {
		const struct sc_expect *x = &m->expect;

		if (!x->forward)
			continue;
		i = oracle_lower(v, n, m->tps, m->seq);
		for (j = i; j < n && v[j]->tps == m->tps && v[j]->seq == m->seq;
		    j++)
			v[j]->used = 1;
		if (j == i) {
			oracle_disc(rep, ORACLE_FORWARD_MISSING, m, NULL,
			    "%s report not at the central receiver",
			    truth_verdict_name(x->verdict));
			continue;
		}
		rep->forwarded++;
		if (j - i > 1)
			oracle_disc(rep, ORACLE_FORWARD_TWICE, m, NULL,
			    "held %zu times", j - i);
		if (v[i]->unverified)
			oracle_disc(rep, ORACLE_FORWARD_UNSIGNED, m, NULL,
			    "held, but its signature was not verified "
			    "(signature_ok false)");
		if (v[i]->contest != m->contest || v[i]->page != m->page ||
		    v[i]->nvalues != x->nvalues || memcmp(v[i]->values,
		    x->values, x->nvalues * sizeof(*x->values)) != 0) {
			oracle_values_text(x->values, x->nvalues, a, sizeof(a));
			oracle_values_text(v[i]->values, v[i]->nvalues, b,
			    sizeof(b));
			oracle_disc(rep, ORACLE_FORWARD_VALUES, m, NULL,
			    "expected %s page %d [%s], held %s page %d [%s]",
			    decode_contest_name(m->contest), m->page, a,
			    decode_contest_name(v[i]->contest), v[i]->page, b);
		}
		if ((v[i]->flags & ~ignore) != (x->flags & ~ignore)) {
			truth_flags_text(x->flags, a, sizeof(a));
			truth_flags_text(v[i]->flags, b, sizeof(b));
			oracle_disc(rep, ORACLE_FORWARD_FLAGS, m, NULL,
			    "expected flags [%s], held [%s]", a, b);
		}
		if (strcmp(v[i]->receipt, x->receipt) != 0)
			oracle_disc(rep, ORACLE_FORWARD_RECEIPT, m, NULL,
			    "expected receipt %s, held %s", x->receipt,
			    v[i]->receipt);
		snprintf(key, sizeof(key), "%013llu-%u-%s",
		    (unsigned long long)m->tps, m->seq, x->receipt);
		if (v[i]->idempotency_key[0] != '\0' &&
		    strcmp(v[i]->idempotency_key, key) != 0)
			oracle_disc(rep, ORACLE_FORWARD_KEY, m, NULL,
			    "expected idempotency key %s, held %s", key,
			    v[i]->idempotency_key);
	}
	/* Held but never accepted: a rejection or a stray. */
	for (i = 0; i < n; i++) {
		const struct sc_msg *about = NULL;

		if (v[i]->used)
			continue;
		TAILQ_FOREACH(m, &sc->msgs, entry)
			if (m->tps == v[i]->tps && m->seq == v[i]->seq &&
			    (about == NULL || m->expect.canon != NULL))
				about = m;
		if (about != NULL)
			oracle_disc(rep, ORACLE_FORWARD_UNEXPECTED, about, NULL,
			    "held %s seq %u receipt %s, but it was never "
			    "accepted", decode_contest_name(v[i]->contest),
			    v[i]->seq, v[i]->receipt);
		else {
			oracle_disc(rep, ORACLE_FORWARD_UNEXPECTED, NULL, NULL,
			    "held %s %013llu seq %u, which no phone sent",
			    decode_contest_name(v[i]->contest),
			    (unsigned long long)v[i]->tps, v[i]->seq);
			TAILQ_LAST(&rep->discs, oracle_discq)->tps = v[i]->tps;
			TAILQ_LAST(&rep->discs, oracle_discq)->seq = v[i]->seq;
		}
	}
	/* What the central system shows as current. */
	TAILQ_FOREACH(f, &sc->finals, entry) {
		const struct oracle_record *best = NULL;

		for (k = oracle_lower(v, n, f->tps, 0); k < n &&
		    v[k]->tps == f->tps; k++)
			if (v[k]->contest == f->contest &&
			    v[k]->page == f->page &&
			    (best == NULL || v[k]->seq >= best->seq))
				best = v[k];
		if (best == NULL)
			oracle_disc(rep, ORACLE_LATEST_MISSING, f->msg, NULL,
			    "nothing held; latest should be seq %u receipt %s",
			    f->seq, f->receipt);
		else if (best->seq != f->seq ||
		    strcmp(best->receipt, f->receipt) != 0)
			oracle_disc(rep, ORACLE_LATEST_WRONG, f->msg, NULL,
			    "latest held is seq %u receipt %s; should be seq "
			    "%u receipt %s", best->seq, best->receipt, f->seq,
			    f->receipt);
	}
}

/* Every maximal run of exactly 8 digits in a reply. */
static int
oracle_codes(const struct oracle_reply *r, struct oracle_code **codes,
    size_t *n, size_t *cap)
{
	const char		*p = r->text, *s;
	struct oracle_code	*nv;

	while (*p != '\0') {
		if (!isdigit((unsigned char)*p)) {
			p++;
			continue;
		}
		for (s = p; isdigit((unsigned char)*p); p++)
			;
		if (p - s != TALLY_CODE_LEN)
			continue;
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			if ((nv = reallocarray(*codes, *cap,
			    sizeof(**codes))) == NULL)
				return (-1);
			*codes = nv;
		}
		(*codes)[*n].reply = r;
		memcpy((*codes)[*n].code, s, TALLY_CODE_LEN);
		(*codes)[*n].code[TALLY_CODE_LEN] = '\0';
		(*codes)[*n].used = 0;
		(*n)++;
	}
	return (0);
}

static struct oracle_rcpt *
oracle_rcpt_find(struct oracle_rcpt *v, size_t n, const char *code)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].code, code) == 0)
			return (&v[i]);
	return (NULL);
}

/*
 * One phone: count the receipts seen in its replies against the
 * messages that expect them, and its receipt-less replies against its
 * rejected messages. Replies may merge several confirmations.
 */
static int
oracle_phone(const struct sc_phone *ph, const struct oracle_reply **rv,
    size_t nr, struct oracle_report *rep)
{
	struct oracle_rcpt	*rc;
	struct oracle_code	*codes = NULL;
	const struct sc_msg	*m, *rej[4096];
	const struct oracle_reply *lastnone = NULL;
	size_t			 nrc = 0, ncodes = 0, ccap = 0, nrej = 0, i, k;
	size_t			 none = 0, quoted = 0, answered, mis;

	if ((rc = calloc(ph->nmsgs + 1, sizeof(*rc))) == NULL)
		return (-1);
	TAILQ_FOREACH(m, &ph->msgs, pentry) {
		const struct sc_expect	*x = &m->expect;
		struct oracle_rcpt	*r;
		const char		*code = x->receipt[0] ? x->receipt :
					    x->quoted[0] ? x->quoted : NULL;

		if (x->verdict == VERDICT_REJECTED && nrej < 4096)
			rej[nrej++] = m;
		if (code == NULL)
			continue;
		if ((r = oracle_rcpt_find(rc, nrc, code)) == NULL) {
			r = &rc[nrc++];
			memcpy(r->code, code, sizeof(r->code));
		}
		if (x->receipt[0] && r->nmsgs < 64)
			r->msgs[r->nmsgs++] = m;
		else if (!x->receipt[0])
			r->quoted++;
	}
	for (i = 0; i < nr; i++) {
		size_t	 first = ncodes, known = 0, other = 0;

		if (oracle_codes(rv[i], &codes, &ncodes, &ccap) == -1)
			goto oom;
		for (k = first; k < ncodes; k++) {
			struct oracle_rcpt *r = oracle_rcpt_find(rc, nrc,
			    codes[k].code);

			if (r != NULL) {
				r->seen++;
				codes[k].used = 1;
				known++;
				continue;
			}
			/* A code the officer typed, echoed back: not ours. */
			TAILQ_FOREACH(m, &ph->msgs, pentry)
				if (strcmp(m->code, codes[k].code) == 0)
					break;
			if (m != NULL)
				codes[k].used = 1;
			else
				other++;
		}
		if (known == 0 && other == 0) {
			none++;
			lastnone = rv[i];
		}
	}
	for (i = 0; i < nrc; i++) {
		struct oracle_rcpt *r = &rc[i];

		if (r->seen < r->nmsgs) {
			rep->confirmed += r->seen;
			/* The last messages of this receipt lack theirs. */
			for (k = r->seen; k < r->nmsgs; k++) {
				const struct sc_msg *mm = r->msgs[k];
				size_t j;

				for (j = 0; j < ncodes && codes[j].used; j++)
					;
				if (j < ncodes) {
					codes[j].used = 1;
					oracle_disc(rep, ORACLE_RECEIPT_WRONG,
					    mm, NULL, "confirmation carries %s, "
					    "receipt is %s: \"%s\"",
					    codes[j].code, r->code,
					    codes[j].reply->text);
				} else
					oracle_disc(rep, ORACLE_CONFIRM_MISSING,
					    mm, NULL, "no reply with receipt %s "
					    "(%s, %zu of %zu seen)", r->code,
					    truth_verdict_name(
					    mm->expect.verdict), r->seen,
					    r->nmsgs);
			}
			continue;
		}
		rep->confirmed += r->nmsgs;
		mis = r->seen - r->nmsgs;
		quoted += mis < r->quoted ? mis : r->quoted;
		if (mis > r->quoted)
			oracle_disc(rep, ORACLE_CONFIRM_EXTRA, r->nmsgs ?
			    r->msgs[r->nmsgs - 1] : NULL, ph->msisdn,
			    "receipt %s seen %zu times, expected %zu", r->code,
			    r->seen, r->nmsgs + r->quoted);
	}
	for (k = 0; k < ncodes; k++)
		if (!codes[k].used)
			oracle_disc(rep, ORACLE_RECEIPT_WRONG, NULL, ph->msisdn,
			    "reply carries %s, no receipt of TPS %013llu: "
			    "\"%s\"", codes[k].code,
			    (unsigned long long)ph->tps, codes[k].reply->text);
	answered = none + quoted;
	rep->answered += answered < nrej ? answered : nrej;
	for (k = answered; k < nrej; k++)
		oracle_disc(rep, ORACLE_REJECT_UNANSWERED, rej[k], NULL,
		    "REJECTED %s got no reply without a receipt (%zu replies "
		    "for %zu rejections)", scenario_reason_name(
		    rej[k]->expect.reason), answered, nrej);
	for (k = nrej; k < answered && lastnone != NULL; k++)
		oracle_disc(rep, ORACLE_REPLY_EXTRA, NULL, ph->msisdn,
		    "%zu rejection replies (%zu quoting a used SEQ's receipt) "
		    "for %zu rejections, e.g. \"%s\"", answered, quoted, nrej,
		    lastnone->text);
	free(codes);
	free(rc);
	return (0);
oom:
	free(codes);
	free(rc);
	return (-1);
}

static int
oracle_phone_cmp(const void *a, const void *b)
{
	const struct sc_phone *x = *(const struct sc_phone *const *)a;
	const struct sc_phone *y = *(const struct sc_phone *const *)b;

	return (strcmp(x->msisdn, y->msisdn));
}

/* First reply of a phone in the sorted array (or where it would be). */
static size_t
oracle_reply_lower(const struct oracle_reply **v, size_t n, const char *phone)
{
	size_t	 lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (strcmp(v[mid]->phone, phone) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (lo);
}

static int
oracle_reply_cmp(const void *a, const void *b)
{
	const struct oracle_reply *x = *(const struct oracle_reply *const *)a;
	const struct oracle_reply *y = *(const struct oracle_reply *const *)b;
	int	 c = strcmp(x->phone, y->phone);

	if (c != 0)
		return (c);
	return (x < y ? -1 : x > y);
}

/* Whether text holds one of the words. */
static int
oracle_says(const char *text, const char *const *words, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (strstr(text, words[i]) != NULL)
			return (1);
	return (0);
}

/* A word a rejection's screen should hold for its reason and lacks. */
static const char *
oracle_unsaid(enum reason why, const char *text)
{
	const char	*want = NULL;
	size_t		 i;

	for (i = 0; i < sizeof(oracle_reason_words) /
	    sizeof(oracle_reason_words[0]); i++) {
		if (oracle_reason_words[i].reason != why)
			continue;
		if (strcasestr(text, oracle_reason_words[i].word) != NULL)
			return (NULL);
		if (want == NULL)
			want = oracle_reason_words[i].word;
	}
	return (want);
}

/* The verdict an END screen begins with; -1 if none. */
static int
oracle_screen_verdict(const char *text)
{
	size_t	 i, n = sizeof(oracle_verdict_words) /
		    sizeof(oracle_verdict_words[0]);

	for (i = 0; i < n; i++) {
		if (strncmp(text, oracle_verdict_words[i].word,
		    strlen(oracle_verdict_words[i].word)) != 0)
			continue;
		if (oracle_verdict_words[i].verdict != VERDICT_OK)
			return (oracle_verdict_words[i].verdict);
		return (oracle_says(text, oracle_flagged_words,
		    sizeof(oracle_flagged_words) /
		    sizeof(oracle_flagged_words[0])) ? VERDICT_FLAGGED :
		    VERDICT_OK);
	}
	return (-1);
}

/*
 * The END screen of a report sent by USSD: the expected verdict, the
 * reason's word for a rejection, the receipt for an accepted or
 * duplicate report, and no 8-digit code that is neither the receipt,
 * nor the code the officer typed, nor a used SEQ's quoted receipt.
 * 1 if it is right.
 */
static int
oracle_end_screen(const struct sc_msg *m, const char *text,
    struct oracle_report *rep)
{
	const struct sc_expect	*x = &m->expect;
	struct oracle_reply	 r;
	struct oracle_code	*codes = NULL;
	const char		*word;
	size_t			 ncodes = 0, cap = 0, i;
	int			 got, seen = 0, ok = 1;

	got = oracle_screen_verdict(text);
	if (got != (int)x->verdict) {
		oracle_disc(rep, ORACLE_USSD_VERDICT, m, NULL, "expected %s, "
		    "END screen says %s: \"%s\"", truth_verdict_name(
		    x->verdict), got < 0 ? "no verdict" :
		    truth_verdict_name((enum verdict)got), text);
		ok = 0;
	} else if (x->verdict == VERDICT_REJECTED &&
	    (word = oracle_unsaid(x->reason, text)) != NULL) {
		oracle_disc(rep, ORACLE_USSD_VERDICT, m, NULL, "REJECTED %s, "
		    "END screen does not say why (\"%s\"): \"%s\"",
		    scenario_reason_name(x->reason), word, text);
		ok = 0;
	}
	memset(&r, 0, sizeof(r));
	if ((r.text = strdup(text)) == NULL ||
	    oracle_codes(&r, &codes, &ncodes, &cap) == -1) {
		free(r.text);
		return (0);
	}
	for (i = 0; i < ncodes; i++) {
		if (x->receipt[0] && strcmp(codes[i].code, x->receipt) == 0)
			seen = 1;
		else if (strcmp(codes[i].code, m->code) != 0 &&
		    strcmp(codes[i].code, x->quoted) != 0) {
			oracle_disc(rep, ORACLE_USSD_RECEIPT, m, NULL,
			    "END screen carries %s, receipt is %s: \"%s\"",
			    codes[i].code, x->receipt[0] ? x->receipt : "none",
			    text);
			ok = 0;
		}
	}
	if (x->receipt[0] && !seen) {
		oracle_disc(rep, ORACLE_USSD_RECEIPT, m, NULL, "END screen "
		    "lacks receipt %s: \"%s\"", x->receipt, text);
		ok = 0;
	}
	free(codes);
	free(r.text);
	return (ok);
}

static int
oracle_session_cmp(const void *a, const void *b)
{
	const struct oracle_session *x =
	    *(const struct oracle_session *const *)a;
	const struct oracle_session *y =
	    *(const struct oracle_session *const *)b;

	if (x->msg != y->msg)
		return (x->msg < y->msg ? -1 : 1);
	return (x->k < y->k ? -1 : x->k > y->k);
}

/* The last screen a session got (a retried step's, if any); or NULL. */
static const struct oracle_screen *
oracle_last_screen(const struct oracle_session *u, int retry)
{
	size_t	 i;

	for (i = u->nscreens; i > 0; i--)
		if (u->screens[i - 1].retry == retry)
			return (&u->screens[i - 1]);
	return (NULL);
}

/*
 * One session of a USSD report against the scenario's script: it was
 * played to its end within the network's rules; a redial was offered
 * the kept report; a wrong key was refused; a cut session got no END
 * (so it stored nothing: a stored report would also answer by SMS and
 * reach the central system, which the other checks count); the sending
 * session ended on the END screen of the right verdict and receipt,
 * the same when the aggregator posted the last step again.
 */
static void
oracle_ussd_session(const struct sc_msg *m, size_t k,
    const struct oracle_session *u, struct oracle_report *rep)
{
	const struct sc_session		*ss = &m->ussd->sessions[k];
	const struct oracle_screen	*last, *again;
	char				 tps[16];
	size_t				 i;

	rep->played++;
	if (strcmp(u->end, "error") == 0 || u->end[0] == '\0') {
		last = oracle_last_screen(u, 0);
		oracle_disc(rep, ORACLE_USSD_FAILED, m, NULL, "session %zu of "
		    "%zu: %s after %zu screens%s%s%s", k + 1,
		    m->ussd->nsessions, u->end[0] ? u->error : "never ended",
		    u->nscreens, last != NULL ? ", last: \"" : "",
		    last != NULL ? last->text : "", last != NULL ? "\"" : "");
		return;
	}
	if (ss->resume) {
		snprintf(tps, sizeof(tps), "%013llu",
		    (unsigned long long)m->tps);
		if (u->nscreens == 0 || !oracle_says(u->screens[0].text,
		    oracle_resume_words, sizeof(oracle_resume_words) /
		    sizeof(oracle_resume_words[0])) ||
		    strstr(u->screens[0].text, tps) == NULL)
			oracle_disc(rep, ORACLE_USSD_RESUME, m, NULL,
			    "session %zu: the redial is not offered the kept "
			    "report of TPS %s: \"%s\"", k + 1, tps,
			    u->nscreens > 0 ? u->screens[0].text : "");
		else
			rep->resumed_right++;
	}
	for (i = 0; ss->wrong >= 0 && i < u->nscreens; i++)
		if (u->screens[i].i == ss->wrong && (u->screens[i].end != 0 ||
		    !oracle_says(u->screens[i].text, oracle_wrong_words,
		    sizeof(oracle_wrong_words) /
		    sizeof(oracle_wrong_words[0]))))
			oracle_disc(rep, ORACLE_USSD_WRONG_KEY, m, NULL,
			    "session %zu: wrong key \"%s\" not refused: "
			    "\"%s\"", k + 1, ss->inputs[ss->wrong],
			    u->screens[i].text);
	last = oracle_last_screen(u, 0);
	if (ss->end != SC_END_SUBMIT) {
		if (last != NULL && last->end == 1)
			oracle_disc(rep, ORACLE_USSD_ENDED, m, NULL, "session "
			    "%zu, to be %s after input %zu, got END at input "
			    "%d: \"%s\"", k + 1, scenario_end_name(ss->end),
			    ss->ninputs, last->i + 1, last->text);
		else
			rep->cut_right++;
		return;
	}
	rep->screens++;
	if (last == NULL || last->end != 1 || last->i + 1 < (int)ss->ninputs) {
		oracle_disc(rep, ORACLE_USSD_ENDED, m, NULL, "session %zu "
		    "ended (%s) at input %d of %zu: \"%s\"", k + 1, u->end,
		    last != NULL ? last->i + 1 : 0, ss->ninputs,
		    last != NULL ? last->text : "");
		return;
	}
	if (oracle_end_screen(m, last->text, rep))
		rep->screens_right++;
	again = oracle_last_screen(u, 1);
	if (ss->retry && (again == NULL || again->end != 1 ||
	    strcmp(again->text, last->text) != 0))
		oracle_disc(rep, ORACLE_USSD_RETRY, m, NULL, "the last step "
		    "posted again got \"%s\", not \"%s\"", again != NULL ?
		    again->text : "nothing", last->text);
}

/* Every session of every USSD report, found in the log by (msg, k). */
static int
oracle_ussd(const struct scenario *sc, const struct oracle_input *in,
    struct oracle_report *rep)
{
	struct oracle_session	**v, key, *kp, **u;
	const struct sc_msg	*m;
	size_t			 n = 0, k;

	if ((v = calloc(in->nsessions + 1, sizeof(*v))) == NULL)
		return (-1);
	TAILQ_FOREACH(kp, &in->sessions, entry)
		v[n++] = kp;
	qsort(v, n, sizeof(*v), oracle_session_cmp);
	TAILQ_FOREACH(m, &sc->msgs, entry) {
		if (m->ussd == NULL)
			continue;
		for (k = 0; k < m->ussd->nsessions; k++) {
			const struct sc_session *ss = &m->ussd->sessions[k];

			rep->sessions++;
			rep->cut += ss->end != SC_END_SUBMIT;
			rep->resumed += ss->resume != 0;
			key.msg = m->id;
			key.k = k;
			kp = &key;
			if ((u = bsearch(&kp, v, n, sizeof(*v),
			    oracle_session_cmp)) == NULL) {
				rep->screens += ss->end == SC_END_SUBMIT;
				oracle_disc(rep, ORACLE_USSD_MISSING, m, NULL,
				    "session %zu of %zu (%s) not in the "
				    "USSD log", k + 1, m->ussd->nsessions,
				    scenario_end_name(ss->end));
				continue;
			}
			oracle_ussd_session(m, k, *u, rep);
		}
	}
	free(v);
	return (0);
}

/* Judge a run; the report lists every discrepancy. 0, or -1 (memory). */
int
oracle_judge(const struct scenario *sc, const struct oracle_input *in,
    struct oracle_report *rep)
{
	struct oracle_record	**recs = NULL, *c;
	const struct oracle_reply **rv = NULL, *r;
	const struct sc_phone	*ph, **pv = NULL, *kp;
	struct sc_phone		 key;
	const struct sc_msg	*m;
	size_t			 i, j, n;
	int			 rc = -1;

	memset(rep, 0, sizeof(*rep));
	TAILQ_INIT(&rep->discs);
	rep->sent = sc->nmsgs;
	rep->replies = in->nreplies;
	rep->records = in->nrecords;
	TAILQ_FOREACH(m, &sc->msgs, entry) {
		rep->expect[m->expect.verdict]++;
		if (m->ussd != NULL)
			rep->byussd++;
		else
			rep->bysms++;
	}
	TAILQ_FOREACH(ph, &sc->phones, entry) {
		if (ph->ussd)
			rep->phones_ussd++;
		else
			rep->phones_sms++;
	}

	if ((recs = calloc(in->nrecords + 1, sizeof(*recs))) == NULL ||
	    (rv = calloc(in->nreplies + 1, sizeof(*rv))) == NULL ||
	    (pv = calloc(sc->nphones + 1, sizeof(*pv))) == NULL)
		goto out;
	n = 0;
	TAILQ_FOREACH(ph, &sc->phones, entry)
		pv[n++] = ph;
	qsort(pv, n, sizeof(*pv), oracle_phone_cmp);
	n = 0;
	TAILQ_FOREACH(c, &in->records, entry) {
		c->used = 0;
		recs[n++] = c;
	}
	qsort(recs, n, sizeof(*recs), oracle_rec_cmp);
	oracle_central(sc, recs, n, in->ignore_flags, rep);

	n = 0;
	TAILQ_FOREACH(r, &in->replies, entry)
		rv[n++] = r;
	qsort(rv, n, sizeof(*rv), oracle_reply_cmp);
	for (i = 0; i < n; i = j) {
		for (j = i + 1; j < n && strcmp(rv[j]->phone, rv[i]->phone) ==
		    0; j++)
			;
		memset(&key, 0, sizeof(key));
		snprintf(key.msisdn, sizeof(key.msisdn), "%s", rv[i]->phone);
		kp = &key;
		if (bsearch(&kp, pv, sc->nphones, sizeof(*pv),
		    oracle_phone_cmp) == NULL)
			for (; i < j; i++)
				oracle_disc(rep, ORACLE_REPLY_UNEXPECTED, NULL,
				    rv[i]->phone, "reply to a number that sent "
				    "no report: \"%s\"", rv[i]->text);
	}
	TAILQ_FOREACH(ph, &sc->phones, entry) {
		i = oracle_reply_lower(rv, n, ph->msisdn);
		for (j = i; j < n && strcmp(rv[j]->phone, ph->msisdn) == 0; j++)
			;
		if (oracle_phone(ph, rv + i, j - i, rep) == -1)
			goto out;
	}
	if (oracle_ussd(sc, in, rep) == -1)
		goto out;
	rc = 0;
out:
	free(recs);
	free(rv);
	free(pv);
	return (rc);
}

void
oracle_report_free(struct oracle_report *rep)
{
	struct oracle_disc	*d;

	while ((d = TAILQ_FIRST(&rep->discs)) != NULL) {
		TAILQ_REMOVE(&rep->discs, d, entry);
		free(d);
	}
	rep->ndisc = 0;
}

/* The summary line(s) of a report. */
static void
oracle_print_summary(FILE *fp, const struct oracle_report *rep, int json)
{
	size_t	 acc = rep->expect[VERDICT_OK] + rep->expect[VERDICT_FLAGGED];
	json_t	*o;

	if (!json) {
		fprintf(fp, "oracle: sent %zu: expected OK %zu, FLAGGED %zu, "
		    "DUPLICATE %zu, REJECTED %zu\n", rep->sent,
		    rep->expect[VERDICT_OK], rep->expect[VERDICT_FLAGGED],
		    rep->expect[VERDICT_DUPLICATE],
		    rep->expect[VERDICT_REJECTED]);
		fprintf(fp, "oracle: confirmed %zu/%zu, rejections answered "
		    "%zu/%zu, forwarded %zu/%zu (%zu replies, %zu central "
		    "records)\n", rep->confirmed, acc +
		    rep->expect[VERDICT_DUPLICATE], rep->answered,
		    rep->expect[VERDICT_REJECTED], rep->forwarded, acc,
		    rep->replies, rep->records);
		fprintf(fp, "oracle: by SMS %zu from %zu officers, by USSD %zu "
		    "from %zu officers in %zu sessions\n", rep->bysms,
		    rep->phones_sms, rep->byussd, rep->phones_ussd,
		    rep->sessions);
		if (rep->byussd > 0)
			fprintf(fp, "oracle: ussd: sessions played %zu/%zu, "
			    "END screens right %zu/%zu, cut sessions ended "
			    "without a verdict %zu/%zu, redials resumed "
			    "%zu/%zu\n", rep->played, rep->sessions,
			    rep->screens_right, rep->screens, rep->cut_right,
			    rep->cut, rep->resumed_right, rep->resumed);
		fprintf(fp, "oracle: discrepancies %zu\n", rep->ndisc);
		return;
	}
	o = json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
	    "s:I}}", "summary",
	    "sent", (json_int_t)rep->sent,
	    "ok", (json_int_t)rep->expect[VERDICT_OK],
	    "flagged", (json_int_t)rep->expect[VERDICT_FLAGGED],
	    "duplicate", (json_int_t)rep->expect[VERDICT_DUPLICATE],
	    "rejected", (json_int_t)rep->expect[VERDICT_REJECTED],
	    "confirmed", (json_int_t)rep->confirmed,
	    "answered", (json_int_t)rep->answered,
	    "forwarded", (json_int_t)rep->forwarded,
	    "replies", (json_int_t)rep->replies,
	    "records", (json_int_t)rep->records,
	    "sms", (json_int_t)rep->bysms,
	    "ussd", (json_int_t)rep->byussd,
	    "sessions", (json_int_t)rep->sessions,
	    "sessions_played", (json_int_t)rep->played,
	    "end_screens", (json_int_t)rep->screens,
	    "end_screens_right", (json_int_t)rep->screens_right,
	    "cut", (json_int_t)rep->cut,
	    "cut_right", (json_int_t)rep->cut_right,
	    "resumed", (json_int_t)rep->resumed,
	    "resumed_right", (json_int_t)rep->resumed_right,
	    "sms_phones", (json_int_t)rep->phones_sms,
	    "ussd_phones", (json_int_t)rep->phones_ussd,
	    "discrepancies", (json_int_t)rep->ndisc);
	if (o != NULL) {
		json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
		fputc('\n', fp);
		json_decref(o);
	}
}

/* The summary, then one line per discrepancy; JSON lines if json = 1. */
void
oracle_print(FILE *fp, const struct oracle_report *rep, int json)
{
	const struct oracle_disc *d;
	char	 tps[16], id[24];
	json_t	*o;

	oracle_print_summary(fp, rep, json);
	TAILQ_FOREACH(d, &rep->discs, entry) {
		snprintf(tps, sizeof(tps), "%013llu",
		    (unsigned long long)d->tps);
		if (!json) {
			if (d->msg != NULL)
				snprintf(id, sizeof(id), "%zu", d->msg->id);
			else
				snprintf(id, sizeof(id), "-");
			fprintf(fp, "%-18s msg %s %s %s %s", oracle_check_name(
			    d->what), id, d->phone[0] ? d->phone : "-",
			    d->tps ? tps : "-", d->contest ?
			    decode_contest_name(d->contest) : "-");
			if (d->page >= 0)
				fprintf(fp, " page %d", d->page);
			if (d->seq)
				fprintf(fp, " seq %u", d->seq);
			fprintf(fp, ": %s\n", d->detail);
			continue;
		}
		o = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:s}",
		    "check", oracle_check_name(d->what),
		    "msg", d->msg != NULL ? json_integer((json_int_t)d->msg->id) :
		    json_null(),
		    "phone", d->phone,
		    "tps", d->tps ? json_string(tps) : json_null(),
		    "contest", d->contest ? json_string(decode_contest_name(
		    d->contest)) : json_null(),
		    "page", d->page >= 0 ? json_integer(d->page) : json_null(),
		    "seq", d->seq ? json_integer(d->seq) : json_null(),
		    "detail", d->detail);
		if (o != NULL) {
			json_dumpf(o, fp, JSON_COMPACT | JSON_PRESERVE_ORDER);
			fputc('\n', fp);
			json_decref(o);
		}
	}
}
