/*
 * central: tallysim's central receiver, the other end of the gateway's
 * forwarder (docs/forward.md). One evhttp server, one SQLite file.
 *
 * A POST is answered only after its record is committed (WAL,
 * synchronous=FULL), so a 201 or 200 the gateway sees is never lost.
 * Every refused request is kept in the rejects table with its reason.
 */

#include <sys/types.h>
#include <sys/file.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <jansson.h>
#include <sodium.h>
#include <sqlite3.h>

#include "central.h"
#include "log.h"
#include "tally.h"

#define CENTRAL_PATH		"/v1/reports"
#define CENTRAL_HEADERS_MAX	(16 * 1024)
#define CENTRAL_HTTP_TIMEOUT	30	/* seconds an idle connection lives */
#define CENTRAL_CTL_TIMEOUT	10	/* seconds for one control exchange */
#define CENTRAL_CTL_LINE_MAX	256
#define CENTRAL_KEYS_MAX	64	/* gateway public keys held */
#define CENTRAL_NAME_MAX	64	/* gateway, sender, modem */
#define CENTRAL_TIME_MAX	40
#define CENTRAL_BUSY_MS		5000
#define CENTRAL_SIG_PREFIX	"ed25519="
#define CENTRAL_DEFAULT_ADDR	"127.0.0.1"

/* What a POST gets: the HTTP status and the JSON answer's fields. */
struct central_answer {
	int		 status;
	const char	*what;		/* stored, duplicate, conflict, error */
	char		 key[CENTRAL_NAME_MAX + 1];
	char		 stored_at[CENTRAL_TIME_MAX];
	char		 error[256];
};

/* A POST handled and waiting for the loop turn's commit. */
struct central_wait {
	TAILQ_ENTRY(central_wait)	 entry;
	struct evhttp_request		*req;
	struct central_answer		 a;
};
TAILQ_HEAD(central_waits, central_wait);

struct central {
	struct event_base		*base;
	struct evhttp			*http;		/* NULL while down */
	sqlite3				*db;
	sqlite3_stmt			*st_find;
	sqlite3_stmt			*st_insert;
	sqlite3_stmt			*st_dup;
	sqlite3_stmt			*st_reject;
	int				 in_tx;	/* the turn's transaction */
	struct central_waits		 waits;	/* answered at its commit */
	struct event			*flush;
	char				 addr[256];
	int				 port;
	int				 down;
	size_t				 nkeys;	/* 0: accept unsigned */
	unsigned char			 keys[CENTRAL_KEYS_MAX]
					    [crypto_sign_PUBLICKEYBYTES];
};


/* One body, validated: the strings point into root. */
struct central_req {
	json_t		*root;
	const char	*key;
	const char	*gateway;
	const char	*tps;
	const char	*contest;
	const char	*canonical;
	const char	*raw;
	const char	*sender;
	const char	*modem;
	const char	*received_at;
	const char	*verified_at;
	const char	*verdict;
	const char	*auth;
	const char	*receipt;
	json_int_t	 page;		/* -1: null */
	json_int_t	 seq;
	json_int_t	 supersedes;	/* -1: null */
	char		*values;	/* compact JSON text */
	char		*flags;		/* compact JSON text */
	struct report	 r;		/* to rebuild the canonical text */
};

static const char *central_schema =
	"CREATE TABLE IF NOT EXISTS reports ("
	" id INTEGER PRIMARY KEY,"
	" idempotency_key TEXT NOT NULL UNIQUE,"
	" gateway TEXT NOT NULL,"
	" tps TEXT NOT NULL,"
	" contest TEXT NOT NULL,"
	" page INTEGER,"
	" seq INTEGER NOT NULL,"
	" vals TEXT NOT NULL,"
	" canonical TEXT NOT NULL,"
	" raw TEXT NOT NULL,"
	" sender TEXT NOT NULL,"
	" modem TEXT NOT NULL,"
	" received_at TEXT NOT NULL,"
	" verified_at TEXT NOT NULL,"
	" verdict TEXT NOT NULL,"
	" flags TEXT NOT NULL,"
	" auth TEXT NOT NULL,"
	" receipt TEXT NOT NULL,"
	" supersedes INTEGER,"
	" body BLOB NOT NULL,"
	" signature TEXT,"
	" signature_ok INTEGER NOT NULL,"
	" stored_at TEXT NOT NULL,"
	" duplicates INTEGER NOT NULL DEFAULT 0,"
	" last_seen_at TEXT);"
	"CREATE TABLE IF NOT EXISTS rejects ("
	" id INTEGER PRIMARY KEY,"
	" at TEXT NOT NULL,"
	" status INTEGER NOT NULL,"
	" error TEXT NOT NULL,"
	" idempotency_key TEXT,"
	" peer TEXT,"
	" body BLOB);"
	"PRAGMA user_version = 1;";

#define CENTRAL_COLUMNS							\
	"idempotency_key, gateway, tps, contest, page, seq, vals,"	\
	" canonical, raw, sender, modem, received_at, verified_at,"	\
	" verdict, flags, auth, receipt, supersedes, stored_at,"	\
	" signature_ok, duplicates"

static const char *central_contests[] = {
	"PPWP", "DPR", "DPD", "DPRDP", "DPRDK",
};
static const char *central_flag_names[] = {
	"SUM", "TOTAL", "DPT", "PARTY", "SENDER", "STALE",
};

static int	central_listen(struct central *, char *, size_t);
static void	central_unlisten(struct central *);
static void	central_flush(struct central *);

/* ISO 8601 UTC with milliseconds: the receiver's own timestamps. */
static void
central_now(char *buf, size_t len)
{
	struct timespec	 ts;
	struct tm	 tm;
	char		 s[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03uZ", s,
	    (unsigned)(ts.tv_nsec / 1000000) % 1000);
}

/* --- field checks: 1 when the string has the right shape ----------- */

static int
central_digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return (0);
	return (s[n] == '\0');
}

static int
central_is_tps(const char *s)
{
	return (central_digits(s, TALLY_TPS_DIGITS));
}

static int
central_is_code(const char *s)
{
	return (central_digits(s, TALLY_CODE_LEN));
}

static int
central_is_contest(const char *s)
{
	size_t	 i;

	for (i = 0; i < sizeof(central_contests) / sizeof(*central_contests);
	    i++)
		if (strcmp(s, central_contests[i]) == 0)
			return (1);
	return (0);
}

static int
central_is_verdict(const char *s)
{
	return (strcmp(s, "OK") == 0 || strcmp(s, "FLAGGED") == 0);
}

static int
central_is_auth(const char *s)
{
	return (strcmp(s, "mac") == 0 || strcmp(s, "card") == 0);
}

/* Printable text on one line: names and the canonical text. */
static int
central_is_line(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return (0);
	return (1);
}

static int
central_is_any(const char *s)
{
	(void)s;
	return (1);
}

/* YYYY-MM-DDTHH:MM:SS[.fraction]Z, each part in range. */
static int
central_is_time(const char *s)
{
	static const char	*shape = "dddd-dd-ddTdd:dd:dd";
	int			 mo, d, h, mi, se;
	size_t			 i;

	for (i = 0; shape[i] != '\0'; i++) {
		if (shape[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return (0);
		} else if (s[i] != shape[i])
			return (0);
	}
	mo = (s[5] - '0') * 10 + s[6] - '0';
	d = (s[8] - '0') * 10 + s[9] - '0';
	h = (s[11] - '0') * 10 + s[12] - '0';
	mi = (s[14] - '0') * 10 + s[15] - '0';
	se = (s[17] - '0') * 10 + s[18] - '0';
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    se > 60)
		return (0);
	s += i;
	if (*s == '.') {
		for (i = 1; s[i] >= '0' && s[i] <= '9'; i++)
			;
		if (i == 1 || i > 10)
			return (0);
		s += i;
	}
	return (s[0] == 'Z' && s[1] == '\0');
}

/* The string fields of a body: name, where it goes, bounds, shape. */
static const struct central_sfield {
	const char	*name;
	size_t		 off;
	size_t		 max;
	int		(*ok)(const char *);
	const char	*want;
} central_sfields[] = {
	{ "idempotency_key", offsetof(struct central_req, key),
	    CENTRAL_NAME_MAX, central_is_line, "TPS-SEQ-RECEIPT" },
	{ "gateway", offsetof(struct central_req, gateway),
	    CENTRAL_NAME_MAX, central_is_line, "a name on one line" },
	{ "tps", offsetof(struct central_req, tps),
	    TALLY_TPS_DIGITS, central_is_tps, "13 digits" },
	{ "contest", offsetof(struct central_req, contest),
	    5, central_is_contest, "PPWP, DPR, DPD, DPRDP or DPRDK" },
	{ "canonical", offsetof(struct central_req, canonical),
	    TALLY_CANON_MAX, central_is_line, "the canonical text" },
	{ "raw", offsetof(struct central_req, raw),
	    CENTRAL_BODY_MAX, central_is_any, "the SMS text" },
	{ "sender", offsetof(struct central_req, sender),
	    CENTRAL_NAME_MAX, central_is_line, "a number on one line" },
	{ "modem", offsetof(struct central_req, modem),
	    CENTRAL_NAME_MAX, central_is_line, "a number on one line" },
	{ "received_at", offsetof(struct central_req, received_at),
	    CENTRAL_TIME_MAX, central_is_time, "YYYY-MM-DDTHH:MM:SSZ" },
	{ "verified_at", offsetof(struct central_req, verified_at),
	    CENTRAL_TIME_MAX, central_is_time, "YYYY-MM-DDTHH:MM:SSZ" },
	{ "verdict", offsetof(struct central_req, verdict),
	    7, central_is_verdict, "OK or FLAGGED" },
	{ "auth", offsetof(struct central_req, auth),
	    4, central_is_auth, "mac or card" },
	{ "receipt", offsetof(struct central_req, receipt),
	    TALLY_CODE_LEN, central_is_code, "8 digits" },
};

/* An integer field in lo..hi; nullable ones give -1 for null. */
static int
central_int(json_t *root, const char *name, json_int_t lo, json_int_t hi,
    int nullable, json_int_t *out, struct central_answer *a)
{
	json_t	*v;

	if ((v = json_object_get(root, name)) == NULL) {
		snprintf(a->error, sizeof(a->error), "field '%s' missing",
		    name);
		return (-1);
	}
	if (nullable && json_is_null(v)) {
		*out = -1;
		return (0);
	}
	if (!json_is_integer(v) || json_integer_value(v) < lo ||
	    json_integer_value(v) > hi) {
		snprintf(a->error, sizeof(a->error),
		    "field '%s' must be an integer %lld..%lld%s", name,
		    (long long)lo, (long long)hi, nullable ? " or null" : "");
		return (-1);
	}
	*out = json_integer_value(v);
	return (0);
}

/* values: 1..TALLY_MAXVALUES integers 0..999; also fills q->r. */
static int
central_values(struct central_req *q, struct central_answer *a)
{
	json_t	*v, *e;
	size_t	 i;

	if ((v = json_object_get(q->root, "values")) == NULL) {
		snprintf(a->error, sizeof(a->error), "field 'values' missing");
		return (-1);
	}
	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > TALLY_MAXVALUES) {
		snprintf(a->error, sizeof(a->error), "field 'values' must be "
		    "an array of 1..%d integers", TALLY_MAXVALUES);
		return (-1);
	}
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e) || json_integer_value(e) < 0 ||
		    json_integer_value(e) > TALLY_VALUE_MAX) {
			snprintf(a->error, sizeof(a->error), "field 'values': "
			    "element %zu must be an integer 0..%d", i + 1,
			    TALLY_VALUE_MAX);
			return (-1);
		}
		q->r.values[i] = (uint16_t)json_integer_value(e);
	}
	q->r.nvalues = json_array_size(v);
	if ((q->values = json_dumps(v, JSON_COMPACT)) == NULL) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return (-1);
	}
	return (0);
}

/* flags: distinct names from the protocol's list. */
static int
central_flags(struct central_req *q, struct central_answer *a)
{
	json_t		*v, *e;
	size_t		 i, j, nf;
	unsigned	 seen = 0;

	nf = sizeof(central_flag_names) / sizeof(*central_flag_names);
	if ((v = json_object_get(q->root, "flags")) == NULL) {
		snprintf(a->error, sizeof(a->error), "field 'flags' missing");
		return (-1);
	}
	if (!json_is_array(v)) {
		snprintf(a->error, sizeof(a->error),
		    "field 'flags' must be an array of strings");
		return (-1);
	}
	json_array_foreach(v, i, e) {
		for (j = 0; j < nf; j++)
			if (json_is_string(e) &&
			    strcmp(json_string_value(e),
			    central_flag_names[j]) == 0)
				break;
		if (j == nf || (seen & (1U << j))) {
			snprintf(a->error, sizeof(a->error), "field 'flags': "
			    "element %zu must be a distinct one of SUM, TOTAL, "
			    "DPT, PARTY, SENDER, STALE", i + 1);
			return (-1);
		}
		seen |= 1U << j;
	}
	if ((q->flags = json_dumps(v, JSON_COMPACT)) == NULL) {
		snprintf(a->error, sizeof(a->error), "out of memory");
		return (-1);
	}
	return (0);
}

/*
 * Parse and check a body: 400 for JSON or a field of the wrong type or
 * shape, 422 for fields that do not agree with each other.
 */
static int
central_parse(const unsigned char *body, size_t len, struct central_req *q,
    struct central_answer *a)
{
	const struct central_sfield	*f;
	json_error_t			 je;
	json_t				*v;
	size_t				 i;
	char				 key[CENTRAL_NAME_MAX + 1];

	memset(q, 0, sizeof(*q));
	a->status = 400;
	q->root = json_loadb((const char *)body, len, JSON_REJECT_DUPLICATES,
	    &je);
	if (q->root == NULL) {
		snprintf(a->error, sizeof(a->error), "not JSON: %s (line %d, "
		    "column %d)", je.text, je.line, je.column);
		return (-1);
	}
	if (!json_is_object(q->root)) {
		snprintf(a->error, sizeof(a->error), "not a JSON object");
		return (-1);
	}
	for (i = 0; i < sizeof(central_sfields) / sizeof(*central_sfields);
	    i++) {
		f = &central_sfields[i];
		v = json_object_get(q->root, f->name);
		if (v == NULL) {
			snprintf(a->error, sizeof(a->error),
			    "field '%s' missing", f->name);
			return (-1);
		}
		if (!json_is_string(v) || json_string_length(v) == 0 ||
		    json_string_length(v) > f->max ||
		    !f->ok(json_string_value(v))) {
			snprintf(a->error, sizeof(a->error),
			    "field '%s' must be a string: %s", f->name,
			    f->want);
			return (-1);
		}
		*(const char **)(void *)((char *)q + f->off) =
		    json_string_value(v);
	}
	snprintf(a->key, sizeof(a->key), "%s", q->key);
	if (central_int(q->root, "seq", 1, TALLY_SEQ_MAX, 0, &q->seq,
	    a) == -1 ||
	    central_int(q->root, "page", 0, 999, 1, &q->page, a) == -1 ||
	    central_int(q->root, "supersedes", 1, TALLY_SEQ_MAX, 1,
	    &q->supersedes, a) == -1 ||
	    central_values(q, a) == -1 || central_flags(q, a) == -1)
		return (-1);
	q->r.contest = decode_contest(q->contest);
	if (decode_contest_paged(q->r.contest) != (q->page != -1)) {
		snprintf(a->error, sizeof(a->error), "field 'page' must be %s "
		    "for %s", q->page == -1 ? "an integer" : "null",
		    q->contest);
		return (-1);
	}

	a->status = 422;
	snprintf(key, sizeof(key), "%s-%lld-%s", q->tps, (long long)q->seq,
	    q->receipt);
	if (strcmp(key, q->key) != 0) {
		snprintf(a->error, sizeof(a->error), "idempotency_key %s is "
		    "not TPS-SEQ-RECEIPT (%s)", q->key, key);
		return (-1);
	}
	q->r.tps = strtoull(q->tps, NULL, 10);
	q->r.seq = (unsigned)q->seq;
	q->r.page = (int)q->page;
	if (decode_canon(&q->r) == -1 ||
	    strcmp(q->r.canon, q->canonical) != 0) {
		snprintf(a->error, sizeof(a->error), "canonical text does not "
		    "match tps, contest, seq, page and values (expected "
		    "'%.120s')", q->r.canon);
		return (-1);
	}
	a->status = 0;
	return (0);
}

static void
central_req_free(struct central_req *q)
{
	free(q->values);
	free(q->flags);
	json_decref(q->root);
}

/* X-Tally-Signature: ed25519=BASE64, verified over the body bytes. */
static int
central_verify(struct central *c, const unsigned char *body, size_t len,
    const char *hdr, struct central_answer *a)
{
	unsigned char	 sig[crypto_sign_BYTES];
	const char	*b64, *end;
	size_t		 n, i;

	if (hdr == NULL) {
		snprintf(a->error, sizeof(a->error),
		    "X-Tally-Signature missing");
		return (-1);
	}
	if (strncmp(hdr, CENTRAL_SIG_PREFIX, strlen(CENTRAL_SIG_PREFIX)) !=
	    0) {
		snprintf(a->error, sizeof(a->error),
		    "X-Tally-Signature must be ed25519=BASE64");
		return (-1);
	}
	b64 = hdr + strlen(CENTRAL_SIG_PREFIX);
	if (sodium_base642bin(sig, sizeof(sig), b64, strlen(b64), NULL, &n,
	    &end, sodium_base64_VARIANT_ORIGINAL) != 0 || *end != '\0' ||
	    n != sizeof(sig)) {
		snprintf(a->error, sizeof(a->error), "X-Tally-Signature is "
		    "not the base64 of %d bytes", crypto_sign_BYTES);
		return (-1);
	}
	for (i = 0; i < c->nkeys; i++)
		if (crypto_sign_verify_detached(sig, body, len,
		    c->keys[i]) == 0)
			return (0);
	snprintf(a->error, sizeof(a->error), "signature does not verify");
	return (-1);
}

/* Printable ASCII only, so an answer or a log line stays one clean line. */
static void
central_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* Bind one TEXT column that may be NULL. */
static int
central_bind_text(sqlite3_stmt *st, int col, const char *s)
{
	if (s == NULL)
		return (sqlite3_bind_null(st, col));
	return (sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT));
}

/* Keep a refused request, with its reason, for the record. */
static void
central_reject(struct central *c, const struct central_answer *a,
    const char *hkey, const char *peer, const unsigned char *body,
    size_t len)
{
	sqlite3_stmt	*st = c->st_reject;
	char		 now[CENTRAL_TIME_MAX], key[CENTRAL_NAME_MAX + 1];

	snprintf(key, sizeof(key), "%s", hkey != NULL ? hkey : "-");
	central_clean(key);
	log_warnx("central: %d %s from %s: %s", a->status, key,
	    peer != NULL ? peer : "-", a->error);
	central_now(now, sizeof(now));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	central_bind_text(st, 1, now);
	sqlite3_bind_int(st, 2, a->status);
	central_bind_text(st, 3, a->error);
	central_bind_text(st, 4, hkey);
	central_bind_text(st, 5, peer);
	if (len > CENTRAL_BODY_MAX)
		len = CENTRAL_BODY_MAX;
	sqlite3_bind_blob(st, 6, len > 0 ? (const void *)body : "", (int)len,
	    SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warnx("central: keeping a rejected request: %s",
		    sqlite3_errmsg(c->db));
	sqlite3_reset(st);
}

/* Run a write; a failure is the request's 500, with SQLite's words. */
static int
central_step(struct central *c, sqlite3_stmt *st, struct central_answer *a)
{
	int	 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	snprintf(a->error, sizeof(a->error), "store: %s",
	    sqlite3_errmsg(c->db));
	a->status = 500;
	return (-1);
}

/* Same key already held: 200 when the report is the same, else 409. */
static int
central_seen(struct central *c, struct central_req *q,
    struct central_answer *a)
{
	sqlite3_stmt	*st = c->st_find;
	const char	*canon, *vals, *at;
	char		 now[CENTRAL_TIME_MAX];
	int		 rc, same;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, q->key, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_DONE) {
		sqlite3_reset(st);
		return (0);
	}
	if (rc != SQLITE_ROW) {
		snprintf(a->error, sizeof(a->error), "store: %s",
		    sqlite3_errmsg(c->db));
		a->status = 500;
		sqlite3_reset(st);
		return (-1);
	}
	canon = (const char *)sqlite3_column_text(st, 0);
	vals = (const char *)sqlite3_column_text(st, 1);
	at = (const char *)sqlite3_column_text(st, 2);
	same = canon != NULL && vals != NULL &&
	    strcmp(canon, q->canonical) == 0 && strcmp(vals, q->values) == 0;
	snprintf(a->stored_at, sizeof(a->stored_at), "%s",
	    at != NULL ? at : "");
	if (!same)
		snprintf(a->error, sizeof(a->error), "idempotency key held "
		    "with other content: '%.100s'", canon != NULL ? canon :
		    "");
	sqlite3_reset(st);
	if (!same) {
		a->status = 409;
		a->what = "conflict";
		return (-1);
	}
	central_now(now, sizeof(now));
	st = c->st_dup;
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, now, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->key, -1, SQLITE_STATIC);
	if (central_step(c, st, a) == -1)
		return (-1);
	a->status = 200;
	a->what = "duplicate";
	log_info("central: duplicate %s", q->key);
	return (1);
}

/* Insert a new record; committed (durably) when this returns 0. */
static int
central_store(struct central *c, struct central_req *q,
    const unsigned char *body, size_t len, const char *sig, int sig_ok,
    struct central_answer *a)
{
	sqlite3_stmt	*st = c->st_insert;

	central_now(a->stored_at, sizeof(a->stored_at));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	central_bind_text(st, 1, q->key);
	central_bind_text(st, 2, q->gateway);
	central_bind_text(st, 3, q->tps);
	central_bind_text(st, 4, q->contest);
	if (q->page >= 0)
		sqlite3_bind_int64(st, 5, q->page);
	sqlite3_bind_int64(st, 6, q->seq);
	central_bind_text(st, 7, q->values);
	central_bind_text(st, 8, q->canonical);
	central_bind_text(st, 9, q->raw);
	central_bind_text(st, 10, q->sender);
	central_bind_text(st, 11, q->modem);
	central_bind_text(st, 12, q->received_at);
	central_bind_text(st, 13, q->verified_at);
	central_bind_text(st, 14, q->verdict);
	central_bind_text(st, 15, q->flags);
	central_bind_text(st, 16, q->auth);
	central_bind_text(st, 17, q->receipt);
	if (q->supersedes >= 0)
		sqlite3_bind_int64(st, 18, q->supersedes);
	sqlite3_bind_blob(st, 19, body, (int)len, SQLITE_TRANSIENT);
	central_bind_text(st, 20, sig);
	sqlite3_bind_int(st, 21, sig_ok);
	central_bind_text(st, 22, a->stored_at);
	if (central_step(c, st, a) == -1)
		return (-1);
	a->status = 201;
	a->what = "stored";
	log_info("central: stored %s (%s)", q->key, q->canonical);
	return (0);
}

/*
 * One POST /v1/reports, whatever its bytes: size, signature, JSON,
 * fields, key agreement, then the store. Fills a; returns its status.
 */
static int
central_post(struct central *c, const unsigned char *body, size_t len,
    const char *hkey, const char *hsig, const char *peer,
    struct central_answer *a)
{
	struct central_req	 q;
	size_t			 keep = len;
	int			 sig_ok = 0;

	memset(a, 0, sizeof(*a));
	memset(&q, 0, sizeof(q));
	a->what = "error";
	if (body == NULL)
		body = (const unsigned char *)"";
	if (len > CENTRAL_BODY_MAX) {
		keep = 0;	/* not even read: body is the placeholder */
		a->status = 413;
		snprintf(a->error, sizeof(a->error), "body over %d bytes",
		    CENTRAL_BODY_MAX);
		goto refuse;
	}
	if (c->nkeys > 0) {
		if (central_verify(c, body, len, hsig, a) == -1) {
			a->status = 401;
			goto refuse;
		}
		sig_ok = 1;
	}
	if (hkey == NULL) {
		a->status = 400;
		snprintf(a->error, sizeof(a->error),
		    "Idempotency-Key header missing");
		goto refuse;
	}
	if (central_parse(body, len, &q, a) == -1)
		goto refuse;
	if (strcmp(hkey, q.key) != 0) {
		a->status = 422;
		snprintf(a->error, sizeof(a->error), "Idempotency-Key header "
		    "'%.64s' differs from the body's '%s'", hkey, q.key);
		goto refuse;
	}
	switch (central_seen(c, &q, a)) {
	case 1:
		break;
	case 0:
		if (central_store(c, &q, body, len, hsig, sig_ok, a) == -1)
			goto refuse;
		break;
	default:
		goto refuse;
	}
	central_req_free(&q);
	return (a->status);
 refuse:
	central_clean(a->error);
	central_reject(c, a, hkey, peer, body, keep);
	a->what = a->status == 409 ? "conflict" : "error";
	central_req_free(&q);
	return (a->status);
}

static const char *
central_reason(int status)
{
	switch (status) {
	case 200:
		return ("OK");
	case 201:
		return ("Created");
	case 400:
		return ("Bad Request");
	case 401:
		return ("Unauthorized");
	case 404:
		return ("Not Found");
	case 405:
		return ("Method Not Allowed");
	case 409:
		return ("Conflict");
	case 413:
		return ("Payload Too Large");
	case 422:
		return ("Unprocessable Entity");
	default:
		return ("Internal Server Error");
	}
}

/* Answer with {"status": ..., "error": ...} and the status code. */
static void
central_reply(struct evhttp_request *req, const struct central_answer *a)
{
	struct evbuffer	*b;
	json_t		*o;
	char		*s;

	o = json_pack("{s:s}", "status", a->what);
	if (o != NULL && a->key[0] != '\0')
		json_object_set_new(o, "idempotency_key",
		    json_string(a->key));
	if (o != NULL && a->stored_at[0] != '\0' && a->status < 300)
		json_object_set_new(o, "stored_at", json_string(a->stored_at));
	if (o != NULL && a->status >= 300)
		json_object_set_new(o, "error", json_string(a->error));
	s = o != NULL ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/json");
	if ((b = evbuffer_new()) != NULL) {
		if (s != NULL)
			evbuffer_add_printf(b, "%s\n", s);
		evhttp_send_reply(req, a->status, central_reason(a->status),
		    b);
		evbuffer_free(b);
	} else
		evhttp_send_reply(req, a->status, central_reason(a->status),
		    NULL);
	free(s);
}

/* GET /v1/reports: every record, one JSON object per line. */
static void
central_get(struct central *c, struct evhttp_request *req)
{
	struct central_answer	 a;
	struct evbuffer		*b;
	FILE			*fp;
	char			*s = NULL;
	size_t			 n = 0;

	memset(&a, 0, sizeof(a));
	if ((fp = open_memstream(&s, &n)) == NULL ||
	    central_dump(c, fp, 1) == -1 || (b = evbuffer_new()) == NULL) {
		if (fp != NULL)
			fclose(fp);
		free(s);
		a.status = 500;
		a.what = "error";
		snprintf(a.error, sizeof(a.error), "cannot read the store");
		central_reply(req, &a);
		return;
	}
	fclose(fp);
	evbuffer_add(b, s, n);
	free(s);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "application/x-ndjson");
	evhttp_send_reply(req, 200, "OK", b);
	evbuffer_free(b);
}

/* Every request: route by path and method. */
static void
central_http_cb(struct evhttp_request *req, void *arg)
{
	struct central		*c = arg;
	struct central_answer	 a;
	struct central_wait	*w;
	const struct evhttp_uri	*uri;
	struct evkeyvalq	*h;
	struct evbuffer		*in;
	const char		*path = NULL;
	char			*peer = NULL;
	char			 peerbuf[128];
	ev_uint16_t		 pport = 0;
	size_t			 len;

	memset(&a, 0, sizeof(a));
	if ((uri = evhttp_request_get_evhttp_uri(req)) != NULL)
		path = evhttp_uri_get_path(uri);
	if (path == NULL || strcmp(path, CENTRAL_PATH) != 0) {
		a.status = 404;
		a.what = "error";
		snprintf(a.error, sizeof(a.error), "no such resource; use %s",
		    CENTRAL_PATH);
		central_reply(req, &a);
		return;
	}
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		central_get(c, req);
		return;
	case EVHTTP_REQ_POST:
		break;
	default:
		a.status = 405;
		a.what = "error";
		snprintf(a.error, sizeof(a.error), "use GET or POST");
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Allow", "GET, POST");
		central_reply(req, &a);
		return;
	}
	if (evhttp_request_get_connection(req) != NULL)
		evhttp_connection_get_peer(evhttp_request_get_connection(req),
		    &peer, &pport);
	snprintf(peerbuf, sizeof(peerbuf), "%s:%u",
	    peer != NULL ? peer : "?", pport);
	h = evhttp_request_get_input_headers(req);
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		a.status = 500;
		a.what = "error";
		snprintf(a.error, sizeof(a.error), "out of memory");
		central_reply(req, &a);
		return;
	}
	/* Every POST of this loop turn shares one transaction. */
	if (!c->in_tx) {
		if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL,
		    NULL) == SQLITE_OK)
			c->in_tx = 1;
		else
			log_warnx("central: begin: %s; committing each "
			    "record alone", sqlite3_errmsg(c->db));
	}
	central_post(c, len > 0 && len <= CENTRAL_BODY_MAX ?
	    evbuffer_pullup(in, -1) : NULL, len,
	    evhttp_find_header(h, "Idempotency-Key"),
	    evhttp_find_header(h, "X-Tally-Signature"), peerbuf, &w->a);
	w->req = req;
	TAILQ_INSERT_TAIL(&c->waits, w, entry);
	event_active(c->flush, EV_TIMEOUT, 0);
}

/*
 * Group commit: the POSTs read in one loop turn are committed together
 * (one sync for all), then answered; none is answered before its
 * record is durable (docs/forward.md). A failed commit answers 500 to
 * each, an outage the gateway retries.
 */
static void
central_flush(struct central *c)
{
	struct central_wait	*w;
	int			 failed = 0;

	if (c->in_tx) {
		c->in_tx = 0;
		if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) !=
		    SQLITE_OK) {
			log_warnx("central: commit: %s",
			    sqlite3_errmsg(c->db));
			if (!sqlite3_get_autocommit(c->db))
				sqlite3_exec(c->db, "ROLLBACK", NULL, NULL,
				    NULL);
			failed = 1;
		}
	}
	while ((w = TAILQ_FIRST(&c->waits)) != NULL) {
		TAILQ_REMOVE(&c->waits, w, entry);
		if (failed && w->a.status < 300) {
			w->a.status = 500;
			w->a.what = "error";
			snprintf(w->a.error, sizeof(w->a.error),
			    "store: commit failed");
		}
		central_reply(w->req, &w->a);
		free(w);
	}
}

static void
central_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	central_flush(arg);
}

/* Load `ed25519-public HEX64' lines; names file and line on error. */
static int
central_load_pubkeys(struct central *c, const char *path, char *err,
    size_t errlen)
{
	FILE		*fp;
	char		 line[512], hex[130];
	const char	*end;
	size_t		 n;
	int		 lineno = 0, extra;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(line, sizeof(line), fp) != NULL) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (line[strspn(line, " \t")] == '\0' || line[0] == '#')
			continue;
		extra = 0;
		if (c->nkeys == CENTRAL_KEYS_MAX ||
		    sscanf(line, "ed25519-public %129s %n", hex, &extra) != 1 ||
		    line[extra] != '\0' || extra == 0 ||
		    sodium_hex2bin(c->keys[c->nkeys], crypto_sign_PUBLICKEYBYTES,
		    hex, strlen(hex), NULL, &n, &end) != 0 || *end != '\0' ||
		    n != crypto_sign_PUBLICKEYBYTES) {
			snprintf(err, errlen, "%s:%d: expected "
			    "'ed25519-public' and 64 hex digits%s", path,
			    lineno, c->nkeys == CENTRAL_KEYS_MAX ?
			    " (too many keys)" : "");
			fclose(fp);
			return (-1);
		}
		c->nkeys++;
	}
	fclose(fp);
	if (c->nkeys == 0) {
		snprintf(err, errlen, "%s: no ed25519-public key", path);
		return (-1);
	}
	return (0);
}

/* Open the store: WAL, durable commits, prepared statements. */
static int
central_open_db(struct central *c, const char *path, char *err,
    size_t errlen)
{
	char	*msg = NULL;

	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(c->db, CENTRAL_BUSY_MS);
	if (sqlite3_exec(c->db, "PRAGMA journal_mode=WAL;"
	    "PRAGMA synchronous=FULL;", NULL, NULL, &msg) != SQLITE_OK ||
	    sqlite3_exec(c->db, central_schema, NULL, NULL, &msg) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, msg != NULL ? msg :
		    "cannot set up");
		sqlite3_free(msg);
		return (-1);
	}
	if (sqlite3_prepare_v2(c->db, "SELECT canonical, vals, stored_at "
	    "FROM reports WHERE idempotency_key = ?", -1, &c->st_find,
	    NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "UPDATE reports SET duplicates = "
	    "duplicates + 1, last_seen_at = ? WHERE idempotency_key = ?", -1,
	    &c->st_dup, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT INTO reports (idempotency_key,"
	    " gateway, tps, contest, page, seq, vals, canonical, raw, sender,"
	    " modem, received_at, verified_at, verdict, flags, auth, receipt,"
	    " supersedes, body, signature, signature_ok, stored_at) VALUES"
	    " (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", -1,
	    &c->st_insert, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, "INSERT INTO rejects (at, status, error,"
	    " idempotency_key, peer, body) VALUES (?,?,?,?,?,?)", -1,
	    &c->st_reject, NULL) != SQLITE_OK)
		goto fail;
	return (0);
 fail:
	snprintf(err, errlen, "%s: %s", path, c->db != NULL ?
	    sqlite3_errmsg(c->db) : "out of memory");
	return (-1);
}

struct central *
central_new(struct event_base *base, const char *dbpath, const char *addr,
    int port, const char *pubkey_path, char *err, size_t errlen)
{
	struct central	*c;

	if (port < 0 || port > 65535) {
		snprintf(err, errlen, "port %d out of range", port);
		return (NULL);
	}
	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialise");
		return (NULL);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "%s", strerror(errno));
		return (NULL);
	}
	c->base = base;
	c->port = port;
	TAILQ_INIT(&c->waits);
	if ((c->flush = event_new(base, -1, 0, central_flush_cb, c)) ==
	    NULL) {
		snprintf(err, errlen, "event_new failed");
		free(c);
		return (NULL);
	}
	snprintf(c->addr, sizeof(c->addr), "%s",
	    addr != NULL && *addr != '\0' ? addr : CENTRAL_DEFAULT_ADDR);
	if ((pubkey_path != NULL &&
	    central_load_pubkeys(c, pubkey_path, err, errlen) == -1) ||
	    central_open_db(c, dbpath, err, errlen) == -1 ||
	    central_listen(c, err, errlen) == -1) {
		central_free(c);
		return (NULL);
	}
	if (c->nkeys == 0)
		log_warnx("central: no public key: accepting unsigned reports");
	log_info("central: listening on %s port %d", c->addr, c->port);
	return (c);
}

/* Start the HTTP server; a chosen port is kept for later ups. */
static int
central_listen(struct central *c, char *err, size_t errlen)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_storage		 ss;
	socklen_t			 sl = sizeof(ss);

	if ((c->http = evhttp_new(c->base)) == NULL) {
		snprintf(err, errlen, "evhttp_new failed");
		return (-1);
	}
	evhttp_set_max_body_size(c->http, 4 * CENTRAL_BODY_MAX);
	evhttp_set_max_headers_size(c->http, CENTRAL_HEADERS_MAX);
	evhttp_set_timeout(c->http, CENTRAL_HTTP_TIMEOUT);
	evhttp_set_gencb(c->http, central_http_cb, c);
	bs = evhttp_bind_socket_with_handle(c->http, c->addr,
	    (ev_uint16_t)c->port);
	if (bs == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s",
		    c->addr, c->port, strerror(errno));
		evhttp_free(c->http);
		c->http = NULL;
		return (-1);
	}
	if (c->port == 0) {
		if (getsockname(evhttp_bound_socket_get_fd(bs),
		    (struct sockaddr *)&ss, &sl) == -1) {
			snprintf(err, errlen, "getsockname: %s",
			    strerror(errno));
			central_unlisten(c);
			return (-1);
		}
		if (ss.ss_family == AF_INET)
			c->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
		else
			c->port =
			    ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	}
	c->down = 0;
	return (0);
}

/* Close the listener and every open connection: an outage. */
static void
central_unlisten(struct central *c)
{
	if (c->http != NULL)
		evhttp_free(c->http);
	c->http = NULL;
}

int
central_port(struct central *c)
{
	return (c->port);
}

void
central_set_down(struct central *c, int down)
{
	char	 err[256];

	if (down && !c->down) {
		central_flush(c);
		central_unlisten(c);
		c->down = 1;
		log_info("central: down (port %d refuses connections)",
		    c->port);
	} else if (!down && c->down) {
		if (central_listen(c, err, sizeof(err)) == -1) {
			log_warnx("central: still down: %s", err);
			return;
		}
		log_info("central: up again on port %d", c->port);
	}
}

int
central_is_down(struct central *c)
{
	return (c->down);
}

/* One stored row as the JSON object of GET /v1/reports. */
static json_t *
central_row_json(sqlite3_stmt *st)
{
	static const char	*names[] = {
		"idempotency_key", "gateway", "tps", "contest", "page", "seq",
		"values", "canonical", "raw", "sender", "modem", "received_at",
		"verified_at", "verdict", "flags", "auth", "receipt",
		"supersedes", "stored_at", "signature_ok", "duplicates",
	};
	json_t			*o, *v;
	const char		*s;
	int			 i, type;

	if ((o = json_object()) == NULL)
		return (NULL);
	for (i = 0; i < (int)(sizeof(names) / sizeof(*names)); i++) {
		/* The type first: reading the text may convert it. */
		type = sqlite3_column_type(st, i);
		s = (const char *)sqlite3_column_text(st, i);
		if (type == SQLITE_NULL)
			v = json_null();
		else if (strcmp(names[i], "values") == 0 ||
		    strcmp(names[i], "flags") == 0)
			v = json_loads(s != NULL ? s : "", 0, NULL);
		else if (strcmp(names[i], "signature_ok") == 0)
			v = json_boolean(sqlite3_column_int(st, i));
		else if (type == SQLITE_INTEGER)
			v = json_integer(sqlite3_column_int64(st, i));
		else
			v = json_string(s != NULL ? s : "");
		if (v == NULL || json_object_set_new(o, names[i], v) == -1) {
			json_decref(o);
			return (NULL);
		}
	}
	return (o);
}

/* The readable table: one line per record. */
static void
central_row_text(FILE *out, json_t *o)
{
	json_t	*v;
	size_t	 i;
	char	 vals[64], flags[64], page[8];
	int	 n, off;

	vals[0] = flags[0] = '\0';
	off = 0;
	json_array_foreach(json_object_get(o, "values"), i, v) {
		n = snprintf(vals + off, sizeof(vals) - off, "%s%lld",
		    i > 0 ? " " : "", (long long)json_integer_value(v));
		if (n < 0 || (size_t)n >= sizeof(vals) - off) {
			memcpy(vals + sizeof(vals) - 4, "...", 4);
			break;
		}
		off += n;
	}
	off = 0;
	json_array_foreach(json_object_get(o, "flags"), i, v) {
		n = snprintf(flags + off, sizeof(flags) - off, "%s%s",
		    i > 0 ? "," : "", json_string_value(v));
		if (n < 0 || (size_t)n >= sizeof(flags) - off)
			break;
		off += n;
	}
	v = json_object_get(o, "page");
	if (json_is_integer(v))
		snprintf(page, sizeof(page), "%lld",
		    (long long)json_integer_value(v));
	else
		snprintf(page, sizeof(page), "-");
	fprintf(out, "%-24s %-13s %-5s %4s %4lld %-8s %-7s %-3s %3lld %-10s "
	    "%s\n",
	    json_string_value(json_object_get(o, "stored_at")),
	    json_string_value(json_object_get(o, "tps")),
	    json_string_value(json_object_get(o, "contest")), page,
	    (long long)json_integer_value(json_object_get(o, "seq")),
	    json_string_value(json_object_get(o, "receipt")),
	    json_string_value(json_object_get(o, "verdict")),
	    json_is_true(json_object_get(o, "signature_ok")) ? "yes" : "no",
	    (long long)json_integer_value(json_object_get(o, "duplicates")),
	    flags[0] != '\0' ? flags : "-", vals);
}

int
central_dump(struct central *c, FILE *out, int json)
{
	sqlite3_stmt	*st;
	json_t		*o;
	int		 rc;

	central_flush(c);	/* only what is committed */
	if (sqlite3_prepare_v2(c->db, "SELECT " CENTRAL_COLUMNS
	    " FROM reports ORDER BY id", -1, &st, NULL) != SQLITE_OK) {
		log_warnx("central: dump: %s", sqlite3_errmsg(c->db));
		return (-1);
	}
	if (!json)
		fprintf(out, "%-24s %-13s %-5s %4s %4s %-8s %-7s %-3s %3s "
		    "%-10s %s\n", "STORED", "TPS", "CONT", "PAGE", "SEQ",
		    "RECEIPT", "VERDICT", "SIG", "DUP", "FLAGS", "VALUES");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((o = central_row_json(st)) == NULL) {
			rc = SQLITE_NOMEM;
			break;
		}
		if (json) {
			json_dumpf(o, out, JSON_COMPACT);
			fputc('\n', out);
		} else
			central_row_text(out, o);
		json_decref(o);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("central: dump: %s", sqlite3_errmsg(c->db));
		return (-1);
	}
	return (ferror(out) ? -1 : 0);
}

/* The number in the first column of a one-row query. */
static int
central_count(struct central *c, const char *sql, size_t *out)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK)
		return (-1);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*out = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

int
central_stats(struct central *c, size_t *stored, size_t *duplicates,
    size_t *rejected)
{
	size_t	 s = 0, d = 0, r = 0;

	central_flush(c);
	if (central_count(c, "SELECT count(*) FROM reports", &s) == -1 ||
	    central_count(c, "SELECT coalesce(sum(duplicates), 0) FROM "
	    "reports", &d) == -1 ||
	    central_count(c, "SELECT count(*) FROM rejects", &r) == -1) {
		log_warnx("central: stats: %s", sqlite3_errmsg(c->db));
		return (-1);
	}
	if (stored != NULL)
		*stored = s;
	if (duplicates != NULL)
		*duplicates = d;
	if (rejected != NULL)
		*rejected = r;
	return (0);
}

void
central_free(struct central *c)
{
	if (c == NULL)
		return;
	if (c->flush != NULL) {
		central_flush(c);
		event_free(c->flush);
	}
	central_unlisten(c);
	sqlite3_finalize(c->st_find);
	sqlite3_finalize(c->st_insert);
	sqlite3_finalize(c->st_dup);
	sqlite3_finalize(c->st_reject);
	if (c->db != NULL)
		sqlite3_close(c->db);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Write a whole string to a new file; never replaces an existing one. */
static int
central_write_new(const char *path, const char *s, mode_t mode)
{
	size_t	 len = strlen(s), off = 0;
	ssize_t	 n;
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    mode)) == -1) {
		log_warn("central: %s", path);
		return (-1);
	}
	while (off < len) {
		if ((n = write(fd, s + off, len - off)) == -1) {
			if (errno == EINTR)
				continue;
			log_warn("central: %s", path);
			close(fd);
			unlink(path);
			return (-1);
		}
		off += (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		log_warn("central: %s", path);
		unlink(path);
		return (-1);
	}
	return (0);
}

int
central_keygen(const char *secret_path, const char *public_path)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	char		 line[sizeof("ed25519-secret ") +
			    2 * crypto_sign_SECRETKEYBYTES + 2];
	char		 hex[2 * crypto_sign_SECRETKEYBYTES + 1];
	int		 rc = -1;

	if (sodium_init() < 0) {
		log_warnx("central: libsodium does not initialise");
		return (-1);
	}
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(hex, sizeof(hex), sk, sizeof(sk));
	snprintf(line, sizeof(line), "ed25519-secret %s\n", hex);
	if (central_write_new(secret_path, line, 0600) == -1)
		goto done;
	sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
	snprintf(line, sizeof(line), "ed25519-public %s\n", hex);
	if (central_write_new(public_path, line, 0644) == -1) {
		unlink(secret_path);
		goto done;
	}
	rc = 0;
 done:
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(hex, sizeof(hex));
	sodium_memzero(line, sizeof(line));
	return (rc);
}

/* --- the control socket: one line in, an answer, close ----------- */

struct central_conn {
	struct central		*c;
	struct bufferevent	*bev;
	int			 closing;
};

/* Run one control line; the answer goes to out. */
static void
central_ctl_exec(struct central *c, const char *line, struct evbuffer *out)
{
	size_t	 s, d, r, n = 0;
	char	*buf = NULL;
	FILE	*fp;
	int	 json;

	if (strcmp(line, "dump") == 0 || strcmp(line, "dump --json") == 0) {
		json = strcmp(line, "dump") != 0;
		if ((fp = open_memstream(&buf, &n)) == NULL) {
			evbuffer_add_printf(out, "error: %s\n",
			    strerror(errno));
			return;
		}
		if (central_dump(c, fp, json) == -1) {
			fclose(fp);
			free(buf);
			evbuffer_add_printf(out, "error: cannot read the "
			    "store\n");
			return;
		}
		fclose(fp);
		evbuffer_add(out, buf, n);
		free(buf);
	} else if (strcmp(line, "down") == 0) {
		central_set_down(c, 1);
		evbuffer_add_printf(out, "ok down port %d\n", c->port);
	} else if (strcmp(line, "up") == 0) {
		central_set_down(c, 0);
		if (c->down)
			evbuffer_add_printf(out, "error: cannot listen on port "
			    "%d\n", c->port);
		else
			evbuffer_add_printf(out, "ok up port %d\n", c->port);
	} else if (strcmp(line, "stats") == 0) {
		if (central_stats(c, &s, &d, &r) == -1)
			evbuffer_add_printf(out, "error: cannot read the "
			    "store\n");
		else
			evbuffer_add_printf(out, "stored %zu duplicates %zu "
			    "rejected %zu port %d %s\n", s, d, r, c->port,
			    c->down ? "down" : "up");
	} else
		evbuffer_add_printf(out, "error: unknown command '%.64s' (dump, "
		    "dump --json, down, up, stats)\n", line);
}

static void
central_conn_free(struct central_conn *cc)
{
	bufferevent_free(cc->bev);
	free(cc);
}

/* Answer once, then close when the answer has gone out. */
static void
central_conn_answer(struct central_conn *cc, const char *line)
{
	struct evbuffer	*out = bufferevent_get_output(cc->bev);

	cc->closing = 1;
	bufferevent_disable(cc->bev, EV_READ);
	if (line == NULL)
		evbuffer_add_printf(out, "error: line too long\n");
	else
		central_ctl_exec(cc->c, line, out);
	if (evbuffer_get_length(out) == 0)
		central_conn_free(cc);
}

static void
central_conn_read(struct bufferevent *bev, void *arg)
{
	struct central_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			*line;
	size_t			 n;

	if (cc->closing)
		return;
	if ((line = evbuffer_readln(in, &n, EVBUFFER_EOL_CRLF)) != NULL) {
		central_conn_answer(cc, n < CENTRAL_CTL_LINE_MAX ? line :
		    NULL);
		free(line);
	} else if (evbuffer_get_length(in) >= CENTRAL_CTL_LINE_MAX)
		central_conn_answer(cc, NULL);
}

static void
central_conn_write(struct bufferevent *bev, void *arg)
{
	struct central_conn	*cc = arg;

	(void)bev;
	if (cc->closing)
		central_conn_free(cc);
}

/* EOF ends the line; errors and timeouts just close. */
static void
central_conn_event(struct bufferevent *bev, short what, void *arg)
{
	struct central_conn	*cc = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	char			 line[CENTRAL_CTL_LINE_MAX];
	size_t			 n;

	if ((what & BEV_EVENT_EOF) && !cc->closing &&
	    (n = evbuffer_get_length(in)) > 0 && n < sizeof(line)) {
		evbuffer_remove(in, line, n);
		line[n] = '\0';
		line[strcspn(line, "\r\n")] = '\0';
		central_conn_answer(cc, line);
		return;
	}
	central_conn_free(cc);
}

static void
central_ctl_accept(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct central_conn	*cc;
	struct timeval		 tv = { CENTRAL_CTL_TIMEOUT, 0 };

	(void)sa;
	(void)salen;
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		log_warn("central: control connection");
		close(fd);
		return;
	}
	cc->c = arg;
	cc->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd,
	    BEV_OPT_CLOSE_ON_FREE);
	if (cc->bev == NULL) {
		log_warnx("central: control connection: no bufferevent");
		close(fd);
		free(cc);
		return;
	}
	bufferevent_setcb(cc->bev, central_conn_read, central_conn_write,
	    central_conn_event, cc);
	bufferevent_set_timeouts(cc->bev, &tv, &tv);
	bufferevent_enable(cc->bev, EV_READ | EV_WRITE);
}

/* RUNDIR/NAME into a sockaddr_un; -1 if the path does not fit. */
static int
central_sun(const char *dir, struct sockaddr_un *sun)
{
	int	 n;

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	n = snprintf(sun->sun_path, sizeof(sun->sun_path), "%s/central.sock",
	    dir);
	if (n < 0 || (size_t)n >= sizeof(sun->sun_path)) {
		log_warnx("central: %s/central.sock: path too long", dir);
		return (-1);
	}
	return (0);
}

/* Listen on RUNDIR/central.sock, replacing a stale one. */
static struct evconnlistener *
central_ctl_listen(struct event_base *base, struct central *c,
    const char *dir)
{
	struct evconnlistener	*l;
	struct sockaddr_un	 sun;

	if (central_sun(dir, &sun) == -1)
		return (NULL);
	unlink(sun.sun_path);
	l = evconnlistener_new_bind(base, central_ctl_accept, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 16,
	    (struct sockaddr *)&sun, sizeof(sun));
	if (l == NULL) {
		log_warn("central: %s", sun.sun_path);
		return (NULL);
	}
	if (chmod(sun.sun_path, 0600) == -1)
		log_warn("central: %s", sun.sun_path);
	return (l);
}

int
central_ctl(const char *dir, const char *line, FILE *out)
{
	struct sockaddr_un	 sun;
	struct pollfd		 pfd;
	char			 buf[4096];
	ssize_t			 n;
	size_t			 len, off;
	int			 fd, rc = 0, first = 1;

	if (central_sun(dir, &sun) == -1)
		return (-1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		log_warn("central: %s", sun.sun_path);
		if (fd != -1)
			close(fd);
		return (-1);
	}
	len = strlen(line);
	if (len >= sizeof(buf) - 1)
		len = sizeof(buf) - 2;
	memcpy(buf, line, len);
	buf[len++] = '\n';
	for (off = 0; off < len; off += (size_t)n)
		if ((n = write(fd, buf + off, len - off)) == -1) {
			log_warn("central: %s", sun.sun_path);
			close(fd);
			return (-1);
		}
	shutdown(fd, SHUT_WR);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, CENTRAL_CTL_TIMEOUT * 1000) <= 0) {
			log_warnx("central: %s: no answer", sun.sun_path);
			rc = -1;
			break;
		}
		if ((n = read(fd, buf, sizeof(buf))) <= 0) {
			if (n == -1)
				log_warn("central: %s", sun.sun_path);
			rc = n == -1 ? -1 : rc;
			break;
		}
		if (first && (size_t)n >= 6 && memcmp(buf, "error:", 6) == 0)
			rc = -1;
		first = 0;
		fwrite(buf, 1, (size_t)n, out);
	}
	close(fd);
	fflush(out);
	return (rc);
}

/* --- the control socket, asked from another loop ------------------- */

struct central_query {
	struct bufferevent	*bev;
	char			 path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int			 timeout;
	central_query_cb	 cb;
	void			*arg;
};

static void	central_query_event(struct bufferevent *, short, void *);

/* Hand the outcome to the caller, then forget the exchange. */
static void
central_query_done(struct central_query *q, int rc, const char *err)
{
	struct evbuffer	*in = bufferevent_get_input(q->bev);

	q->cb(rc, err, in, q->arg);
	central_query_cancel(q);
}

/*
 * The receiver closes the connection once it has answered: EOF is the
 * end of the answer.  Silence for q->timeout seconds ends it too.
 */
static void
central_query_event(struct bufferevent *bev, short what, void *arg)
{
	struct central_query	*q = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct evbuffer_ptr	 eol;
	char			 err[256], *p;
	size_t			 n;

	if (what & BEV_EVENT_TIMEOUT) {
		snprintf(err, sizeof(err), "no answer within %d s",
		    q->timeout);
		log_warnx("central: %s: %s", q->path, err);
		central_query_done(q, -1, err);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		snprintf(err, sizeof(err), "%s", strerror(errno));
		log_warnx("central: %s: %s", q->path, err);
		central_query_done(q, -1, err);
		return;
	}
	/* EOF: a first line "error: ..." is the receiver's refusal. */
	if (evbuffer_get_length(in) >= 6 &&
	    (p = (char *)evbuffer_pullup(in, 6)) != NULL &&
	    memcmp(p, "error:", 6) == 0) {
		eol = evbuffer_search_eol(in, NULL, NULL, EVBUFFER_EOL_LF);
		n = eol.pos == -1 ? evbuffer_get_length(in) : (size_t)eol.pos;
		if (n >= sizeof(err))
			n = sizeof(err) - 1;
		evbuffer_copyout(in, err, n);
		err[n] = '\0';
		central_query_done(q, -1, err);
		return;
	}
	central_query_done(q, 0, NULL);
}

struct central_query *
central_query(struct event_base *base, const char *dir, const char *line,
    int timeout, central_query_cb cb, void *arg)
{
	struct central_query	*q;
	struct sockaddr_un	 sun;
	struct timeval		 tv = { timeout, 0 };
	int			 fd, saved;

	if (central_sun(dir, &sun) == -1) {
		errno = ENAMETOOLONG;
		return (NULL);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return (NULL);
	/* A UNIX socket connects at once, or not at all. */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		saved = errno;
		close(fd);
		errno = saved;
		return (NULL);
	}
	if ((q = calloc(1, sizeof(*q))) == NULL ||
	    (q->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(q);
		close(fd);
		errno = ENOMEM;
		return (NULL);
	}
	memcpy(q->path, sun.sun_path, sizeof(q->path));
	q->timeout = timeout;
	q->cb = cb;
	q->arg = arg;
	bufferevent_setcb(q->bev, NULL, NULL, central_query_event, q);
	bufferevent_set_timeouts(q->bev, &tv, &tv);
	if (bufferevent_write(q->bev, line, strlen(line)) == -1 ||
	    bufferevent_write(q->bev, "\n", 1) == -1 ||
	    bufferevent_enable(q->bev, EV_READ | EV_WRITE) == -1) {
		central_query_cancel(q);
		errno = ENOMEM;
		return (NULL);
	}
	return (q);
}

void
central_query_cancel(struct central_query *q)
{
	if (q == NULL)
		return;
	bufferevent_free(q->bev);
	free(q);
}

/* --- standalone: tallysim central ---------------------------------- */

static void
central_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base	*base = arg;

	(void)what;
	log_info("central: signal %d, stopping", (int)sig);
	event_base_loopbreak(base);
}

/* ADDR:PORT, [V6]:PORT or :PORT into addr and port. */
static int
central_parse_listen(const char *s, char *addr, size_t alen, int *port)
{
	const char	*colon;
	const char	*errstr = NULL;
	char		*end;
	long		 p;
	size_t		 n;

	if ((colon = strrchr(s, ':')) == NULL)
		return (-1);
	errno = 0;
	p = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p < 0 ||
	    p > 65535)
		errstr = "bad port";
	n = (size_t)(colon - s);
	if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		s++;
		n -= 2;
	}
	if (errstr != NULL || n >= alen)
		return (-1);
	if (n == 0)
		snprintf(addr, alen, "%s", CENTRAL_DEFAULT_ADDR);
	else {
		memcpy(addr, s, n);
		addr[n] = '\0';
	}
	*port = (int)p;
	return (0);
}

/* One receiver per RUNDIR: hold RUNDIR/central.lock while running. */
static int
central_lock(const char *dir)
{
	char	 path[PATH_MAX];
	int	 fd;

	if ((size_t)snprintf(path, sizeof(path), "%s/central.lock", dir) >=
	    sizeof(path)) {
		log_warnx("central: %s: path too long", dir);
		return (-1);
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		log_warn("central: %s", path);
		return (-1);
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			log_warnx("central: %s: another receiver is running "
			    "in %s", path, dir);
		else
			log_warn("central: %s", path);
		close(fd);
		return (-1);
	}
	return (fd);
}

/* The port of the previous run, to come back where gateways look. */
static int
central_old_port(const char *path)
{
	FILE	*fp;
	int	 p;

	if ((fp = fopen(path, "r")) == NULL)
		return (0);
	if (fscanf(fp, "%d", &p) != 1 || p < 1 || p > 65535)
		p = 0;
	fclose(fp);
	return (p);
}

/* Replace RUNDIR/central.port atomically. */
static int
central_write_port(const char *path, int port)
{
	char	 tmp[PATH_MAX], s[16];

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return (-1);
	unlink(tmp);
	snprintf(s, sizeof(s), "%d\n", port);
	if (central_write_new(tmp, s, 0644) == -1)
		return (-1);
	if (rename(tmp, path) == -1) {
		log_warn("central: %s", path);
		unlink(tmp);
		return (-1);
	}
	return (0);
}

static void
central_usage(void)
{
	fprintf(stderr, "usage: tallysim central --dir RUNDIR "
	    "[--listen ADDR:PORT] [--pubkey FILE] [-v]\n"
	    "       tallysim central --dir RUNDIR --ctl "
	    "'dump|dump --json|down|up|stats'\n");
}

int
central_main(int argc, char **argv)
{
	static const struct option	 opts[] = {
		{ "dir",	required_argument,	NULL, 'd' },
		{ "listen",	required_argument,	NULL, 'l' },
		{ "pubkey",	required_argument,	NULL, 'k' },
		{ "ctl",	required_argument,	NULL, 'c' },
		{ "verbose",	no_argument,		NULL, 'v' },
		{ NULL,		0,			NULL, 0 },
	};
	struct event_base	*base = NULL;
	struct central		*c = NULL;
	struct evconnlistener	*ctl = NULL;
	struct event		*ev_term = NULL, *ev_int = NULL;
	struct sockaddr_un	 sun;
	const char		*dir = NULL, *pubkey = NULL, *ctlline = NULL;
	char			 addr[256], db[PATH_MAX], portfile[PATH_MAX];
	char			 err[512];
	int			 ch, port = 0, listen_given = 0, verbose = 0;
	int			 rc = 1, lockfd = -1;

	snprintf(addr, sizeof(addr), "%s", CENTRAL_DEFAULT_ADDR);
	optind = 0;	/* glibc: start over, whoever parsed before us */
	while ((ch = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			dir = optarg;
			break;
		case 'l':
			if (central_parse_listen(optarg, addr, sizeof(addr),
			    &port) == -1) {
				fprintf(stderr, "central: --listen %s: expected "
				    "ADDR:PORT\n", optarg);
				return (2);
			}
			listen_given = 1;
			break;
		case 'k':
			pubkey = optarg;
			break;
		case 'c':
			ctlline = optarg;
			break;
		case 'v':
			verbose++;
			break;
		default:
			central_usage();
			return (2);
		}
	}
	if (dir == NULL || optind != argc) {
		central_usage();
		return (2);
	}
	log_init("tallysim", LOG_TO_STDERR, verbose);
	if (ctlline != NULL)
		return (central_ctl(dir, ctlline, stdout) == 0 ? 0 : 1);

	if ((size_t)snprintf(db, sizeof(db), "%s/central.db", dir) >=
	    sizeof(db) ||
	    (size_t)snprintf(portfile, sizeof(portfile), "%s/central.port",
	    dir) >= sizeof(portfile) || central_sun(dir, &sun) == -1) {
		log_warnx("central: %s: path too long", dir);
		return (1);
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		log_warn("central: %s", dir);
		return (1);
	}
	if ((lockfd = central_lock(dir)) == -1)
		return (1);
	signal(SIGPIPE, SIG_IGN);
	if ((base = event_base_new()) == NULL) {
		log_warnx("central: event_base_new failed");
		return (1);
	}
	if (!listen_given)
		port = central_old_port(portfile);
	c = central_new(base, db, addr, port, pubkey, err, sizeof(err));
	if (c == NULL && !listen_given && port != 0 &&
	    strncmp(err, "cannot listen", 13) == 0) {
		log_warnx("central: %s; taking another port", err);
		c = central_new(base, db, addr, 0, pubkey, err, sizeof(err));
	}
	if (c == NULL) {
		log_warnx("central: %s", err);
		goto done;
	}
	if ((ctl = central_ctl_listen(base, c, dir)) == NULL ||
	    central_write_port(portfile, central_port(c)) == -1)
		goto done;
	ev_term = evsignal_new(base, SIGTERM, central_signal, base);
	ev_int = evsignal_new(base, SIGINT, central_signal, base);
	if (ev_term == NULL || ev_int == NULL || evsignal_add(ev_term, NULL) ==
	    -1 || evsignal_add(ev_int, NULL) == -1) {
		log_warnx("central: cannot catch signals");
		goto done;
	}
	printf("ready\n");
	fflush(stdout);
	if (event_base_dispatch(base) == -1)
		log_warnx("central: event loop failed");
	else
		rc = 0;
 done:
	if (ev_term != NULL)
		event_free(ev_term);
	if (ev_int != NULL)
		event_free(ev_int);
	if (ctl != NULL) {
		evconnlistener_free(ctl);
		unlink(sun.sun_path);
	}
	central_free(c);
	event_base_free(base);
	close(lockfd);
	return (rc);
}
