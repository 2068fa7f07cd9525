/*
 * remote: tallyctl's commands of a running tallygw. Each is one request
 * to the admin API (docs/admin.md) on the control socket, or on TCP
 * with --url and --token-file; the answer is JSON, printed as it came
 * with --json (one document, for scripts) or as aligned tables and
 * lines for people (docs/tallyctl.md says which, and what is a
 * contract). An export is streamed from the socket to standard output.
 */
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "fmt.h"
#include "tally.h"
#include "httpc.h"
#include "remote.h"

#define REMOTE_EXIT_OK		0
#define REMOTE_EXIT_FAIL	1
#define REMOTE_EXIT_USAGE	2
#define REMOTE_BODY_MAX		(64 * 1024 * 1024)	/* a JSON answer */
#define REMOTE_PATH_MAX		2048
#define REMOTE_COLS		16
#define REMOTE_CELL_MAX		1024
#define REMOTE_TEXT_CUT		40	/* characters of a text in a table */
#define REMOTE_SOCK_DEFAULT	"/var/lib/tallygw/tallygw.sock"

/* Options of the remote commands; each command takes the ones it names. */
enum {
	RO_SOCK = 1 << 0, RO_STATE = 1 << 1, RO_URL = 1 << 2,
	RO_TOKEN = 1 << 3, RO_JSON = 1 << 4, RO_TPS = 1 << 5,
	RO_SENDER = 1 << 6, RO_VERDICT = 1 << 7, RO_KIND = 1 << 8,
	RO_CONTEST = 1 << 9, RO_REPLY = 1 << 10, RO_FORWARD = 1 << 11,
	RO_CHANNEL = 1 << 12, RO_SINCE = 1 << 13, RO_UNTIL = 1 << 14,
	RO_LIMIT = 1 << 15, RO_BEFORE = 1 << 16, RO_LEVEL = 1 << 17,
	RO_IN = 1 << 18, RO_REGION = 1 << 19, RO_FAILED = 1 << 20,
};
#define RO_CONN		(RO_SOCK | RO_STATE | RO_URL | RO_TOKEN | RO_JSON)

static const struct option remote_longopts[] = {
	{ "sock",	required_argument,	NULL, RO_SOCK },
	{ "state",	required_argument,	NULL, RO_STATE },
	{ "url",	required_argument,	NULL, RO_URL },
	{ "token-file",	required_argument,	NULL, RO_TOKEN },
	{ "json",	no_argument,		NULL, RO_JSON },
	{ "tps",	required_argument,	NULL, RO_TPS },
	{ "sender",	required_argument,	NULL, RO_SENDER },
	{ "verdict",	required_argument,	NULL, RO_VERDICT },
	{ "kind",	required_argument,	NULL, RO_KIND },
	{ "contest",	required_argument,	NULL, RO_CONTEST },
	{ "reply",	required_argument,	NULL, RO_REPLY },
	{ "forward",	required_argument,	NULL, RO_FORWARD },
	{ "channel",	required_argument,	NULL, RO_CHANNEL },
	{ "since",	required_argument,	NULL, RO_SINCE },
	{ "until",	required_argument,	NULL, RO_UNTIL },
	{ "limit",	required_argument,	NULL, RO_LIMIT },
	{ "before",	required_argument,	NULL, RO_BEFORE },
	{ "level",	required_argument,	NULL, RO_LEVEL },
	{ "in",		required_argument,	NULL, RO_IN },
	{ "region",	required_argument,	NULL, RO_REGION },
	{ "failed",	no_argument,		NULL, RO_FAILED },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 },
};

/* The query parameter each filter option becomes. */
static const struct {
	int		 opt;
	const char	*param;
} remote_params[] = {
	{ RO_TPS, "tps" }, { RO_SENDER, "sender" }, { RO_VERDICT, "verdict" },
	{ RO_KIND, "kind" }, { RO_CONTEST, "contest" }, { RO_REPLY, "state" },
	{ RO_FORWARD, "forward" }, { RO_CHANNEL, "channel" },
	{ RO_SINCE, "since" }, { RO_UNTIL, "until" }, { RO_LIMIT, "limit" },
	{ RO_BEFORE, "before" }, { RO_LEVEL, "level" }, { RO_IN, "in" },
	{ RO_REGION, "region" },
};
#define REMOTE_NPARAMS	(sizeof(remote_params) / sizeof(remote_params[0]))

struct remote {
	const char		*cmd;
	struct httpc_target	 t;
	int			 json;
	int			 failed;
	const char		*val[REMOTE_NPARAMS];	/* by remote_params */
	char			 query[REMOTE_PATH_MAX];
};

/* An aligned table: cells kept, widths measured, printed at the end. */
struct remote_table {
	size_t		 ncols;
	const char	*head[REMOTE_COLS];
	int		 right[REMOTE_COLS];	/* numbers: right-aligned */
	size_t		 width[REMOTE_COLS];
	char		**cells;
	size_t		 n, cap;		/* cells */
};

static int
remote_fail(const struct remote *r, const char *fmt, ...)
    __attribute__((__format__ (printf, 2, 3)));

static int
remote_fail(const struct remote *r, const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "tallyctl %s: ", r->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (REMOTE_EXIT_FAIL);
}

/* ------------------------------------------------------------------ */
/* Text for people                                                     */
/* ------------------------------------------------------------------ */

/*
 * A stored text on one line: '\\' and control characters escaped as
 * docs/tallyctl.md says (\n, \r, \t, \\, \xNN); cut (with "...") to
 * cut characters when cut > 0.
 */
static const char *
remote_escape(const char *s, char *buf, size_t len, size_t cut)
{
	const unsigned char	*p;
	size_t			 o = 0, chars = 0;
	char			 e[8];

	buf[0] = '\0';
	for (p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0';
	    p++) {
		if (*p == '\\')
			snprintf(e, sizeof(e), "\\\\");
		else if (*p == '\n')
			snprintf(e, sizeof(e), "\\n");
		else if (*p == '\r')
			snprintf(e, sizeof(e), "\\r");
		else if (*p == '\t')
			snprintf(e, sizeof(e), "\\t");
		else if (*p < 0x20 || *p == 0x7f)
			snprintf(e, sizeof(e), "\\x%02x", *p);
		else {
			e[0] = (char)*p;
			e[1] = '\0';
		}
		if ((*p & 0xc0) != 0x80)
			chars++;
		if ((cut > 0 && chars > cut) || o + strlen(e) + 4 >= len) {
			snprintf(buf + o, len - o, "...");
			return (buf);
		}
		memcpy(buf + o, e, strlen(e) + 1);
		o += strlen(e);
	}
	return (buf);
}

/* A JSON value as a cell: strings as they are, null as "-". */
static const char *
remote_cell(const json_t *v, char *buf, size_t len)
{
	if (json_is_string(v))
		return (remote_escape(json_string_value(v), buf, len, 0));
	if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
	else if (json_is_true(v))
		snprintf(buf, len, "yes");
	else if (json_is_false(v))
		snprintf(buf, len, "no");
	else
		snprintf(buf, len, "-");
	return (buf);
}

/* A member of o as a cell. */
static const char *
remote_get(const json_t *o, const char *key, char *buf, size_t len)
{
	return (remote_cell(json_object_get(o, key), buf, len));
}

static long long
remote_int(const json_t *o, const char *key)
{
	return ((long long)json_integer_value(json_object_get(o, key)));
}

static const char *
remote_str(const json_t *o, const char *key)
{
	const char	*s = json_string_value(json_object_get(o, key));

	return (s != NULL ? s : "");
}

/* Columns: each name, a '>' at its end for a right-aligned one. */
static void
remote_table_init(struct remote_table *t, const char *const *heads)
{
	size_t	 i, n;

	memset(t, 0, sizeof(*t));
	for (i = 0; heads[i] != NULL && i < REMOTE_COLS; i++) {
		n = strlen(heads[i]);
		t->right[i] = n > 0 && heads[i][n - 1] == '>';
		t->head[i] = heads[i];
		t->width[i] = n - (size_t)t->right[i];
	}
	t->ncols = i;
}

static int
remote_table_add(struct remote_table *t, const char *cell)
{
	char	**tmp;
	size_t	 col = t->n % t->ncols, w;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		if ((tmp = reallocarray(t->cells, t->cap,
		    sizeof(*t->cells))) == NULL)
			return (-1);
		t->cells = tmp;
	}
	if ((t->cells[t->n] = strdup(cell)) == NULL)
		return (-1);
	t->n++;
	if ((w = strlen(cell)) > t->width[col])
		t->width[col] = w;
	return (0);
}

static void
remote_table_cell(const struct remote_table *t, size_t col, const char *s,
    size_t len)
{
	int	 pad = (int)(t->width[col] - len);

	if (col > 0)
		fputs("  ", stdout);
	if (t->right[col])
		printf("%*s%.*s", pad, "", (int)len, s);
	else if (col + 1 < t->ncols)
		printf("%.*s%*s", (int)len, s, pad, "");
	else
		printf("%.*s", (int)len, s);
}

/* The header line, then the rows; the last column is not padded. */
static void
remote_table_print(struct remote_table *t)
{
	size_t	 i, col;

	for (col = 0; col < t->ncols; col++)
		remote_table_cell(t, col, t->head[col], strlen(t->head[col]) -
		    (size_t)t->right[col]);
	fputc('\n', stdout);
	for (i = 0; i < t->n; i++) {
		col = i % t->ncols;
		remote_table_cell(t, col, t->cells[i], strlen(t->cells[i]));
		if (col + 1 == t->ncols)
			fputc('\n', stdout);
	}
	for (i = 0; i < t->n; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->n = t->cap = 0;
}

/* ------------------------------------------------------------------ */
/* Requests                                                            */
/* ------------------------------------------------------------------ */

struct remote_body {
	struct httpc	*h;
	char		*buf;
	size_t		 len, cap;
	int		 stream;	/* a 2xx body goes to stdout */
};

static int
remote_body(const char *p, size_t n, void *arg)
{
	struct remote_body	*b = arg;
	char			*tmp;

	if (b->stream && b->h->status >= 200 && b->h->status < 300)
		return (fwrite(p, 1, n, stdout) == n ? 0 : -1);
	if (b->len + n + 1 > REMOTE_BODY_MAX)
		return (-1);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		if ((tmp = realloc(b->buf, b->cap)) == NULL)
			return (-1);
		b->buf = tmp;
	}
	memcpy(b->buf + b->len, p, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return (0);
}

/*
 * One request. A 2xx answer: with stream, its body went to stdout;
 * else *out holds its JSON. An error answer is said on stderr: exit 2
 * for 400 (the options made a bad request), else 1.
 */
static int
remote_call(struct remote *r, const char *method, const char *path,
    int stream, json_t **out)
{
	struct httpc		 h;
	struct remote_body	 b;
	json_error_t		 je;
	json_t			*o;
	char			 full[REMOTE_PATH_MAX * 2], err[512];
	const char		*msg;
	int			 rc = REMOTE_EXIT_OK;

	if (out != NULL)
		*out = NULL;
	memset(&b, 0, sizeof(b));
	b.h = &h;
	b.stream = stream;
	httpc_init(&h, remote_body, &b);
	snprintf(full, sizeof(full), "%s%s%s", path, r->query[0] ? "?" : "",
	    r->query);
	if (httpc_do(&r->t, method, full, &h, err, sizeof(err)) == -1) {
		free(b.buf);
		return (remote_fail(r, "%s", err));
	}
	if (h.status < 200 || h.status >= 300) {
		o = b.buf != NULL ? json_loads(b.buf, 0, &je) : NULL;
		msg = json_string_value(json_object_get(o, "error"));
		remote_fail(r, "%s", msg != NULL ? msg : h.status == 401 ?
		    "refused: a valid token is required" : "the gateway "
		    "answered with an error");
		json_decref(o);
		free(b.buf);
		return (h.status == 400 ? REMOTE_EXIT_USAGE :
		    REMOTE_EXIT_FAIL);
	}
	if (!stream && out != NULL) {
		if (b.buf == NULL ||
		    (*out = json_loads(b.buf, 0, &je)) == NULL)
			rc = remote_fail(r, "the answer is not JSON: %s",
			    b.buf == NULL ? "empty" : je.text);
	}
	free(b.buf);
	if (stream && fflush(stdout) == EOF)
		rc = remote_fail(r, "standard output: %s", strerror(errno));
	return (rc);
}

/*
 * The request: with --json, its answer goes out as it came (and *out
 * stays NULL); else *out holds it for the caller to print. An exit code.
 */
static int
remote_ask(struct remote *r, const char *method, const char *path,
    json_t **out)
{
	*out = NULL;
	return (remote_call(r, method, path, r->json, r->json ? NULL : out));
}

/* "%XX" what a query value must not hold as it is. */
static int
remote_query_add(struct remote *r, const char *key, const char *val)
{
	size_t		 o = strlen(r->query);
	const char	*p;
	int		 n;

	n = snprintf(r->query + o, sizeof(r->query) - o, "%s%s=",
	    o > 0 ? "&" : "", key);
	if (n < 0 || (size_t)n >= sizeof(r->query) - o)
		return (-1);
	o += (size_t)n;
	for (p = val; *p != '\0'; p++) {
		if (o + 4 >= sizeof(r->query))
			return (-1);
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("-._~:", *p) != NULL)
			r->query[o++] = *p;
		else
			o += (size_t)snprintf(r->query + o,
			    sizeof(r->query) - o, "%%%02X", (unsigned char)*p);
	}
	r->query[o] = '\0';
	return (0);
}

/*
 * --since/--until: a UTC time as the API takes it, or an age: "90s",
 * "30m", "2h", "1d" ago.
 */
static const char *
remote_when(const char *v, char *buf, size_t len)
{
	char		*end;
	long		 n;
	time_t		 t;

	errno = 0;
	n = strtol(v, &end, 10);
	if (end == v || errno != 0 || n < 0 || end[0] == '\0' || end[1] != '\0'
	    || strchr("smhd", end[0]) == NULL)
		return (v);
	n *= end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600 :
	    86400;
	t = time(NULL) - n;
	(void)fmt_iso(buf, len, t);
	return (buf);
}

/* ------------------------------------------------------------------ */
/* status, modems, modem                                               */
/* ------------------------------------------------------------------ */

static int
remote_status(struct remote *r, int argc, char **argv)
{
	static const char *const heads[] = { "CENTRAL", "LINK",
	    "INFLIGHT>", "ACKED>", "REFUSED>", "OUTAGES>", "LAST ERROR",
	    NULL };
	struct remote_table	 c;
	json_t			*o, *m, *p, *f, *md, *ce;
	char			 buf[REMOTE_CELL_MAX], v[64];
	long long		 up;
	size_t			 i;
	int			 rc;

	if ((rc = remote_ask(r, "GET", "/status", &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	m = json_object_get(o, "messages");
	p = json_object_get(o, "replies");
	f = json_object_get(o, "forwards");
	md = json_object_get(o, "modems");
	up = remote_int(o, "uptime");
	/* Names and values in two columns: the longest name is 15. */
#define KV(k, val)	printf("%-15s  %s\n", k, val)
#define KVI(k, n) do {							\
	snprintf(v, sizeof(v), "%lld", (long long)(n));			\
	KV(k, v);							\
} while (0)
	KV("gateway", remote_get(o, "gateway", buf, sizeof(buf)));
	snprintf(v, sizeof(v), "%lld:%02lld:%02lld", up / 3600,
	    up / 60 % 60, up % 60);
	KV("uptime", v);
	KVI("received", remote_int(m, "received"));
	KVI("reports", remote_int(m, "reports"));
	KVI("ok", remote_int(m, "ok"));
	KVI("flagged", remote_int(m, "flagged"));
	KVI("duplicate", remote_int(m, "duplicate"));
	KVI("rejected", remote_int(m, "rejected"));
	KVI("other", remote_int(m, "other"));
	KVI("confirmed", remote_int(p, "sent") + remote_int(p, "delivered"));
	KVI("delivered", remote_int(p, "delivered"));
	KVI("replies_queued", remote_int(p, "queued") +
	    remote_int(p, "sending"));
	KVI("reply_failed", remote_int(p, "failed"));
	KVI("forwarded", remote_int(f, "acked"));
	KVI("forward_pending", remote_int(f, "pending") +
	    remote_int(f, "sending") + remote_int(f, "retry_wait"));
	KVI("forward_failed", remote_int(f, "failed"));
	snprintf(v, sizeof(v), "%lld/%lld", remote_int(md, "ready"),
	    remote_int(md, "total"));
	KV("modems_ready", v);
	KVI("modems_capped", remote_int(md, "capped"));
	KVI("modems_receive", remote_int(md, "receive"));
	KVI("parts_pending", remote_int(o, "parts_pending"));
	KVI("rate_senders", remote_int(o, "rate_senders"));
	KVI("lockout_entries", remote_int(o, "lockout_entries"));
#undef KV
#undef KVI
	remote_table_init(&c, heads);
	json_array_foreach(json_object_get(o, "centrals"), i, ce) {
		remote_table_add(&c, remote_get(ce, "name", buf, sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "link", buf, sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "inflight", buf,
		    sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "acked", buf, sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "refused", buf,
		    sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "outages", buf,
		    sizeof(buf)));
		remote_table_add(&c, remote_get(ce, "last_error", buf,
		    sizeof(buf)));
	}
	putchar('\n');
	remote_table_print(&c);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* The modems table: one row per modem of the array. */
static void
remote_modems_print(const json_t *a)
{
	static const char *const heads[] = { "MODEM", "ROLE", "STATE",
	    "SIGNAL>", "REG", "OPERATOR", "NUMBER", "SIM>", "BALANCE>",
	    "SENT>", "RECV>", "CAP>", "QUEUE>", "HOLD>", "RESTARTS>",
	    "LAST ERROR", NULL };
	struct remote_table	 t;
	const json_t		*m;
	char			 buf[REMOTE_CELL_MAX];
	size_t			 i;

	remote_table_init(&t, heads);
	json_array_foreach(a, i, m) {
		remote_table_add(&t, remote_get(m, "name", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "role", buf, sizeof(buf)));
		snprintf(buf, sizeof(buf), "%s/%s", remote_str(m, "state"),
		    remote_str(m, "worker"));
		remote_table_add(&t, buf);
		remote_table_add(&t, remote_get(m, "signal", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "registration", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "operator", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "number", buf, sizeof(buf)));
		snprintf(buf, sizeof(buf), "%lld/%lld",
		    remote_int(m, "sim_used"), remote_int(m, "sim_total"));
		remote_table_add(&t, buf);
		remote_table_add(&t, remote_int(m, "balance") < 0 ? "-" :
		    remote_get(m, "balance", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "sent_today", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "received_today", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "cap", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "queue", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "hold", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "restarts", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "last_error", buf,
		    sizeof(buf)));
	}
	remote_table_print(&t);
}

static int
remote_modems(struct remote *r, int argc, char **argv)
{
	json_t	*o;
	int	 rc;

	if ((rc = remote_ask(r, "GET", "/modems", &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	remote_modems_print(json_object_get(o, "modems"));
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* modem enable|disable|reconnect|balance NAME: the modem's row after. */
static int
remote_modem(struct remote *r, int argc, char **argv)
{
	static const char *const verbs[] = { "enable", "disable",
	    "reconnect", "balance", NULL };
	json_t	*o, *a;
	char	 path[REMOTE_PATH_MAX];
	size_t	 i;
	int	 rc;

	for (i = 0; verbs[i] != NULL && strcmp(argv[0], verbs[i]) != 0; i++)
		;
	if (verbs[i] == NULL || strchr(argv[1], '/') != NULL ||
	    strchr(argv[1], '?') != NULL)
		return (REMOTE_USAGE);
	snprintf(path, sizeof(path), "/modems/%s/%s", argv[1], argv[0]);
	if ((rc = remote_ask(r, "POST", path, &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	if ((a = json_array()) != NULL) {
		json_array_append(a, o);
		remote_modems_print(a);
		if (strcmp(argv[0], "balance") == 0)
			printf("\n%s\n", remote_str(o, "balance_text"));
	}
	json_decref(a);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* messages, msg, resend                                               */
/* ------------------------------------------------------------------ */

static int
remote_messages(struct remote *r, int argc, char **argv)
{
	static const char *const heads[] = { "ID>", "RECEIVED", "SENDER",
	    "VIA", "KIND", "VERDICT", "TPS", "CONTEST", "PAGE>", "SEQ>",
	    "RECEIPT", "REPLY", "FORWARD", "TEXT", NULL };
	struct remote_table	 t;
	json_t			*o, *m, *f;
	char			 buf[REMOTE_CELL_MAX], fw[256];
	size_t			 i, j, off;
	int			 rc;

	if ((rc = remote_ask(r, "GET", "/messages", &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	remote_table_init(&t, heads);
	json_array_foreach(json_object_get(o, "messages"), i, m) {
		remote_table_add(&t, remote_get(m, "id", buf, sizeof(buf)));
		/* To the second: the milliseconds are in --json. */
		snprintf(buf, sizeof(buf), "%.19sZ", remote_str(m,
		    "received_at"));
		remote_table_add(&t, buf);
		remote_table_add(&t, remote_get(m, "sender", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "modem", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "kind", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "verdict", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "tps", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "contest", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "page", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "seq", buf, sizeof(buf)));
		remote_table_add(&t, remote_get(m, "receipt", buf,
		    sizeof(buf)));
		remote_table_add(&t, remote_get(m, "reply", buf, sizeof(buf)));
		fw[0] = '\0';
		off = 0;
		json_array_foreach(json_object_get(m, "forwards"), j, f)
			off += (size_t)snprintf(fw + off, off < sizeof(fw) ?
			    sizeof(fw) - off : 0, "%s%s:%s", j > 0 ? "," : "",
			    remote_str(f, "central"), remote_str(f, "state"));
		remote_table_add(&t, fw[0] != '\0' ? fw : "-");
		remote_table_add(&t, remote_escape(remote_str(m, "text"), buf,
		    sizeof(buf), REMOTE_TEXT_CUT));
	}
	remote_table_print(&t);
	if (json_is_integer(json_object_get(o, "next_before")))
		fprintf(stderr, "tallyctl messages: there are older ones: "
		    "--before %lld\n", remote_int(o, "next_before"));
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* "KEY: TEXT" on one line, the text escaped. */
static void
remote_line(const char *key, const char *text)
{
	char	 buf[TALLY_TEXT_MAX * 4 + 16];

	printf("%s: %s\n", key, remote_escape(text, buf, sizeof(buf), 0));
}

/* A reply and the SMS that carries it, fact by fact. */
static void
remote_msg_reply(const json_t *rp)
{
	const json_t	*s = json_object_get(rp, "sms"), *v;
	char		 buf[64];
	size_t		 i;

	if (!json_is_object(s)) {
		printf("reply: to %s, not in an SMS yet (owed since %s)\n",
		    remote_str(rp, "to"), remote_get(rp, "owed_since", buf,
		    sizeof(buf)));
		remote_line("reply text", remote_str(rp, "text"));
		return;
	}
	printf("reply: sms %lld to %s\n", remote_int(s, "id"),
	    remote_str(s, "to"));
	remote_line("reply text", remote_str(s, "text"));
	if (json_array_size(json_object_get(s, "shared_with")) > 0) {
		printf("reply shared with: msg");
		json_array_foreach(json_object_get(s, "shared_with"), i, v)
			printf("%s %lld", i > 0 ? "," : "",
			    (long long)json_integer_value(v));
		putchar('\n');
	}
	printf("reply state: %s\n", remote_str(s, "state"));
	printf("reply modem: %s", json_is_string(json_object_get(s,
	    "modem")) ? remote_str(s, "modem") : "none yet");
	if (json_is_string(json_object_get(s, "came_in_on")))
		printf(" (came in on %s)", remote_str(s, "came_in_on"));
	printf("\nreply attempts: %lld\n", remote_int(s, "attempts"));
	printf("reply queued at: %s\n", remote_get(s, "queued_at", buf,
	    sizeof(buf)));
	if (json_is_string(json_object_get(s, "next_try")))
		printf("reply next try: %s\n", remote_str(s, "next_try"));
	if (json_is_string(json_object_get(s, "sent_at"))) {
		printf("reply sent at: %s (msgref %lld)\n",
		    remote_str(s, "sent_at"), remote_int(s, "msgref"));
		if (strcmp(remote_str(s, "state"), "delivered") == 0)
			printf("reply status report: delivered at %s\n",
			    remote_get(s, "delivered_at", buf, sizeof(buf)));
		else if (strcmp(remote_str(s, "state"), "failed") == 0)
			remote_line("reply status report", remote_str(s,
			    "error"));
		else
			printf("reply status report: none yet\n");
	}
	if (json_is_string(json_object_get(s, "error")) &&
	    !(strcmp(remote_str(s, "state"), "failed") == 0 &&
	    json_is_string(json_object_get(s, "sent_at"))))
		remote_line("reply last error", remote_str(s, "error"));
}

/* One forward: "forward CENTRAL ...: ..." lines. */
static void
remote_msg_forward(const json_t *f)
{
	const char	*c = remote_str(f, "central"), *st = remote_str(f,
			    "state");
	char		 key[128];

	printf("forward %s: %s\n", c, st);
	printf("forward %s attempts: %lld\n", c, remote_int(f, "attempts"));
	if (json_is_integer(json_object_get(f, "http_status")))
		printf("forward %s http status: %lld\n", c,
		    remote_int(f, "http_status"));
	if (json_is_string(json_object_get(f, "error"))) {
		snprintf(key, sizeof(key), "forward %s last error", c);
		remote_line(key, remote_str(f, "error"));
	}
	if (strcmp(st, "acked") == 0)
		printf("forward %s acked at: %s\n", c, remote_str(f,
		    "updated"));
	else if (strcmp(st, "failed") == 0)
		printf("forward %s refused at: %s\n", c, remote_str(f,
		    "updated"));
	else if (strcmp(st, "retry_wait") == 0)
		printf("forward %s next try: %s\n", c, remote_str(f,
		    "next_try"));
	else if (strcmp(st, "sending") == 0)
		printf("forward %s sending since: %s\n", c, remote_str(f,
		    "updated"));
	else
		printf("forward %s queued at: %s\n", c, remote_str(f,
		    "updated"));
}

/* A message id: digits only. */
static int
remote_id(const char *s)
{
	return (s[0] >= '0' && s[0] <= '9' && strspn(s, "0123456789") ==
	    strlen(s));
}

/* Ask about message ID (+ suffix): its JSON in *out, or an exit code. */
static int
remote_msg_ask(struct remote *r, const char *method, const char *id,
    const char *suffix, json_t **out)
{
	char	 path[REMOTE_PATH_MAX];

	*out = NULL;
	if (!remote_id(id))
		return (REMOTE_USAGE);
	snprintf(path, sizeof(path), "/messages/%s%s", id, suffix);
	return (remote_ask(r, method, path, out));
}

/* The whole life of one message, one fact per line. */
static int
remote_msg(struct remote *r, int argc, char **argv)
{
	json_t		*o, *v;
	const char	*kind, *verdict;
	size_t		 i;
	int		 rc;

	if ((rc = remote_msg_ask(r, "GET", argv[0], "", &o)) !=
	    REMOTE_EXIT_OK || o == NULL)
		return (rc);
	kind = remote_str(o, "kind");
	verdict = remote_str(o, "verdict");
	printf("msg %lld from %s on %s at %s (%lld part%s)\n",
	    remote_int(o, "id"), remote_str(o, "sender"),
	    remote_str(o, "modem"), remote_str(o, "received_at"),
	    remote_int(o, "parts"), remote_int(o, "parts") == 1 ? "" : "s");
	remote_line("text", remote_str(o, "text"));
	printf("kind: %s\n", kind);
	if (strcmp(kind, "report") == 0)
		printf("verdict: %s\nreceipt: %s\n", verdict,
		    json_is_string(json_object_get(o, "receipt")) ?
		    remote_str(o, "receipt") : "-");
	remote_line("detail", remote_str(o, "detail"));
	printf("verified at: %s\n", json_is_string(json_object_get(o,
	    "verified_at")) ? remote_str(o, "verified_at") : "-");
	if (json_array_size(json_object_get(o, "replies")) == 0)
		printf("reply: none%s\n", strcmp(kind, "rate") == 0 ?
		    " (over the sender's rate limit)" : "");
	json_array_foreach(json_object_get(o, "replies"), i, v)
		remote_msg_reply(v);
	if (json_array_size(json_object_get(o, "forwards")) == 0)
		printf("forward: none%s\n", strcmp(kind, "report") == 0 &&
		    (strcmp(verdict, "OK") == 0 ||
		    strcmp(verdict, "FLAGGED") == 0) ? "" :
		    " (only accepted reports are forwarded)");
	json_array_foreach(json_object_get(o, "forwards"), i, v)
		remote_msg_forward(v);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

static int
remote_resend(struct remote *r, int argc, char **argv)
{
	json_t	*o;
	int	 rc;

	if ((rc = remote_msg_ask(r, "POST", argv[0], "/resend", &o)) !=
	    REMOTE_EXIT_OK || o == NULL)
		return (rc);
	printf("msg %lld: reply %lld to %s queued again\n",
	    remote_int(o, "msg"), remote_int(o, "reply"), remote_str(o, "to"));
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* forward retry, coverage, export, sweep, reload                     */
/* ------------------------------------------------------------------ */

static int
remote_forward(struct remote *r, int argc, char **argv)
{
	json_t	*o;
	int	 rc;

	if (strcmp(argv[0], "retry") != 0 || (argc == 2 && r->failed))
		return (REMOTE_USAGE);
	if (argc == 2) {
		if (!remote_id(argv[1]) ||
		    remote_query_add(r, "msg", argv[1]) == -1)
			return (REMOTE_USAGE);
	} else if (r->failed && remote_query_add(r, "failed", "1") == -1)
		return (REMOTE_USAGE);
	if ((rc = remote_ask(r, "POST", "/forwards/retry", &o)) !=
	    REMOTE_EXIT_OK || o == NULL)
		return (rc);
	printf("%lld forward%s due now\n", remote_int(o, "retried"),
	    remote_int(o, "retried") == 1 ? "" : "s");
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

static int
remote_coverage(struct remote *r, int argc, char **argv)
{
	static const char *const heads[] = { "REGION", "NAME", "CONTEST",
	    "EXPECTED>", "REPORTED>", "FLAGGED>", "MISSING>", NULL };
	struct remote_table	 t;
	json_t			*o, *g, *cs, *c;
	const char		*name;
	char			 buf[REMOTE_CELL_MAX];
	size_t			 i;
	int			 rc, total;

	if ((rc = remote_ask(r, "GET", "/coverage", &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	remote_table_init(&t, heads);
	for (total = 0; total <= 1; total++) {
		if (total)
			g = json_object_get(o, "total");
		else if ((g = json_array_get(json_object_get(o, "regions"),
		    0)) == NULL)
			continue;
		i = 0;
		do {
			cs = json_object_get(g, "contests");
			json_object_foreach(cs, name, c) {
				remote_table_add(&t, total ? "total" :
				    remote_get(g, "code", buf, sizeof(buf)));
				remote_table_add(&t, total ? "" :
				    remote_get(g, "name", buf, sizeof(buf)));
				remote_table_add(&t, name);
				remote_table_add(&t, remote_get(c, "expected",
				    buf, sizeof(buf)));
				remote_table_add(&t, remote_get(c, "reported",
				    buf, sizeof(buf)));
				remote_table_add(&t, remote_get(c, "flagged",
				    buf, sizeof(buf)));
				remote_table_add(&t, remote_get(c, "missing",
				    buf, sizeof(buf)));
			}
		} while (!total && (g = json_array_get(json_object_get(o,
		    "regions"), ++i)) != NULL);
	}
	remote_table_print(&t);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

static int
remote_export(struct remote *r, int argc, char **argv)
{
	if (r->json && remote_query_add(r, "format", "json") == -1)
		return (REMOTE_USAGE);
	return (remote_call(r, "GET", "/export", 1, NULL));
}

/* The alerts raised now, then the ones cleared lately. */
static int
remote_alerts(struct remote *r, int argc, char **argv)
{
	static const char *const heads[] = { "ID>", "ALERT", "SUBJECT",
	    "STATE", "RAISED", "CLEARED", "TEXT", NULL };
	static const char *const keys[] = { "id", "name", "subject",
	    "state", "raised_at", "cleared_at", "text", NULL };
	struct remote_table	 t;
	json_t			*o, *a;
	char			 buf[REMOTE_CELL_MAX];
	size_t			 i, k;
	int			 rc;

	if ((rc = remote_ask(r, "GET", "/alerts", &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	remote_table_init(&t, heads);
	json_array_foreach(json_object_get(o, "alerts"), i, a)
		for (k = 0; keys[k] != NULL; k++)
			remote_table_add(&t, remote_get(a, keys[k], buf,
			    sizeof(buf)));
	remote_table_print(&t);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* sweep, reload: asked; the gateway does it in a moment. */
static int
remote_action(struct remote *r, int argc, char **argv)
{
	json_t	*o;
	char	 path[32];
	int	 rc;

	snprintf(path, sizeof(path), "/%s", r->cmd);
	if ((rc = remote_ask(r, "POST", path, &o)) != REMOTE_EXIT_OK ||
	    o == NULL)
		return (rc);
	printf("%s asked\n", r->cmd);
	json_decref(o);
	return (REMOTE_EXIT_OK);
}

/* ------------------------------------------------------------------ */
/* The commands                                                        */
/* ------------------------------------------------------------------ */

static const struct remote_cmd {
	const char	*name;
	int		(*fn)(struct remote *, int, char **);
	unsigned	 opts;		/* beyond RO_CONN */
	int		 amin, amax;	/* arguments */
} remote_cmds[] = {
	{ "status",	remote_status,		0, 0, 0 },
	{ "modems",	remote_modems,		0, 0, 0 },
	{ "modem",	remote_modem,		0, 2, 2 },
	{ "messages",	remote_messages,	RO_TPS | RO_SENDER |
	    RO_VERDICT | RO_KIND | RO_CONTEST | RO_REPLY | RO_FORWARD |
	    RO_CHANNEL | RO_SINCE | RO_UNTIL | RO_LIMIT | RO_BEFORE, 0, 0 },
	{ "msg",	remote_msg,		0, 1, 1 },
	{ "resend",	remote_resend,		0, 1, 1 },
	{ "forward",	remote_forward,		RO_FAILED, 1, 2 },
	{ "coverage",	remote_coverage,	RO_LEVEL | RO_IN | RO_CONTEST,
	    0, 0 },
	{ "export",	remote_export,		RO_REGION | RO_CONTEST, 0, 0 },
	{ "alerts",	remote_alerts,		0, 0, 0 },
	{ "sweep",	remote_action,		0, 0, 0 },
	{ "reload",	remote_action,		0, 0, 0 },
};
#define REMOTE_NCMDS	(sizeof(remote_cmds) / sizeof(remote_cmds[0]))

/* --token-file: the token, one line, of a file only we can read. */
static int
remote_token(struct remote *r, const char *path)
{
	char	 err[512];
	ssize_t	 n;

	if ((n = key_read_secret(path, "token", r->t.token,
	    sizeof(r->t.token), err, sizeof(err))) == -1) {
		remote_fail(r, "%s", err);
		return (-1);
	}
	while (n > 0 && (r->t.token[n - 1] == '\n' ||
	    r->t.token[n - 1] == '\r' || r->t.token[n - 1] == ' '))
		r->t.token[--n] = '\0';
	if (n == 0 || strpbrk(r->t.token, "\r\n") != NULL) {
		remote_fail(r, "%s: not one line with a token", path);
		return (-1);
	}
	return (0);
}

/*
 * Run remote command cmd with its arguments (argv[0] is cmd): its exit
 * code, or REMOTE_USAGE / REMOTE_HELP for tallyctl to print the usage.
 */
int
remote_main(const char *cmd, int argc, char **argv)
{
	const struct remote_cmd	*c = NULL;
	struct remote		 r;
	const char		*sock = NULL, *state = NULL, *url = NULL;
	const char		*token = NULL, *v;
	char			 err[512], when[2][32];
	size_t			 i;
	int			 ch, n, rc;

	for (i = 0; i < REMOTE_NCMDS; i++)
		if (strcmp(remote_cmds[i].name, cmd) == 0)
			c = &remote_cmds[i];
	if (c == NULL)
		return (REMOTE_USAGE);
	memset(&r, 0, sizeof(r));
	r.cmd = cmd;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", remote_longopts, NULL)) !=
	    -1) {
		if (ch == 'h')
			return (REMOTE_HELP);
		if (ch == '?')
			return (REMOTE_USAGE);
		if ((ch & (int)(RO_CONN | c->opts)) == 0) {
			fprintf(stderr, "tallyctl %s: option not valid here\n",
			    cmd);
			return (REMOTE_USAGE);
		}
		switch (ch) {
		case RO_SOCK:
			sock = optarg;
			break;
		case RO_STATE:
			state = optarg;
			break;
		case RO_URL:
			url = optarg;
			break;
		case RO_TOKEN:
			token = optarg;
			break;
		case RO_JSON:
			r.json = 1;
			break;
		case RO_FAILED:
			r.failed = 1;
			break;
		default:
			for (i = 0; i < REMOTE_NPARAMS; i++)
				if (remote_params[i].opt == ch)
					r.val[i] = optarg;
			break;
		}
	}
	n = argc - optind;
	if (n < c->amin || n > c->amax || (sock != NULL) + (state != NULL) +
	    (url != NULL) > 1 || (token != NULL && url == NULL))
		return (REMOTE_USAGE);
	for (i = 0; i < REMOTE_NPARAMS; i++) {
		if ((v = r.val[i]) == NULL)
			continue;
		if (remote_params[i].opt == RO_SINCE ||
		    remote_params[i].opt == RO_UNTIL)
			v = remote_when(v, when[remote_params[i].opt ==
			    RO_UNTIL], sizeof(when[0]));
		if (remote_query_add(&r, remote_params[i].param, v) == -1)
			return (REMOTE_USAGE);
	}
	if (url != NULL) {
		if (httpc_url(url, &r.t, err, sizeof(err)) == -1) {
			fprintf(stderr, "tallyctl %s: %s\n", cmd, err);
			return (REMOTE_USAGE);
		}
		if (token != NULL && remote_token(&r, token) == -1)
			return (REMOTE_EXIT_FAIL);
	} else if ((rc = snprintf(r.t.sock, sizeof(r.t.sock), "%s%s",
	    sock != NULL ? sock : state != NULL ? state :
	    REMOTE_SOCK_DEFAULT, sock == NULL && state != NULL ?
	    "/tallygw.sock" : "")) < 0 || (size_t)rc >= sizeof(r.t.sock))
		return (remote_fail(&r, "socket path too long"));
	rc = c->fn(&r, n, argv + optind);
	explicit_bzero(r.t.token, sizeof(r.t.token));
	return (rc);
}
