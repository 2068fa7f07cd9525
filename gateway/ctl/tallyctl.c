/*
 * tallyctl: the operator's tool. Keys, codes, cards, verification and
 * the TPS registry; and, through the admin API of a running tallygw,
 * its state and actions (remote.c). Its commands and their output are
 * a contract (docs/tallyctl.md): scripts rely on them.
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

#include "log.h"
#include "memhist.h"
#include "reply.h"
#include "remote.h"
#include "tally.h"

#define CTL_EXIT_OK		0
#define CTL_EXIT_FAIL		1
#define CTL_EXIT_USAGE		2
#define CTL_CARD_ROWS		100

struct tallyctl_cmd {
	const char	*name;
	int		(*fn)(int, char **);
	const char	*usage;
	const char	*help;
};

static int	tallyctl_keygen(int, char **);
static int	tallyctl_keyderive(int, char **);
static int	tallyctl_mac(int, char **);
static int	tallyctl_verify(int, char **);
static int	tallyctl_reply(int, char **);
static int	tallyctl_card(int, char **);
static int	tallyctl_receipt(int, char **);
static int	tallyctl_import(int, char **);
static int	tallyctl_form(int, char **);
static int	tallyctl_remote(int, char **);

/* How a remote command reaches the gateway. */
#define CTL_CONN	"[--json] [--sock FILE | --state DIR | --url URL " \
			"--token-file FILE]"


static const struct tallyctl_cmd tallyctl_cmds[] = {
	{ "keygen", tallyctl_keygen, "keygen -o FILE",
	  "write a new random root key to FILE (mode 0600)" },
	{ "keyderive", tallyctl_keyderive,
	  "keyderive --root FILE --province PP -o FILE",
	  "write the key of province PP, derived from the root key" },
	{ "mac", tallyctl_mac,
	    "mac --key FILE [--election FILE] TEXT | --batch FILE",
	  "print the canonical text of a report and its content MAC" },
	{ "verify", tallyctl_verify, "verify --key FILE [--election FILE "
	  "--registry DB] [--sender MSISDN] TEXT | --batch FILE",
	  "verify a report: OK, FLAGGED, DUPLICATE or REJECTED" },
	{ "reply", tallyctl_reply, "reply --key FILE [--election FILE "
	  "--registry DB] [--sender MSISDN] [--lang id|en] TEXT | --batch FILE",
	  "print the SMS the gateway would answer TEXT with" },
	{ "card", tallyctl_card,
	    "card --key FILE --tps TPS [--rows N] [--html] [--helper]",
	  "print the one-time code card of a TPS" },
	{ "receipt", tallyctl_receipt,
	    "receipt --key FILE [--election FILE] TEXT",
	  "print the receipt code of an accepted report" },
	{ "import", tallyctl_import,
	  "import --registry DB [--desa FILE] [--dpt FILE]",
	  "create or update the TPS registry from KPU lists" },
	{ "form", tallyctl_form, "form [--election FILE] --tps TPS --contest C "
	  "[--page P]",
	  "show which values a report for that TPS and contest needs" },
	{ "status", tallyctl_remote, "status " CTL_CONN,
	  "the running gateway's counters and central systems" },
	{ "modems", tallyctl_remote, "modems " CTL_CONN,
	  "one row per modem of the running gateway" },
	{ "modem", tallyctl_remote,
	  "modem enable|disable|reconnect|balance NAME " CTL_CONN,
	  "start or stop a modem's worker, reconnect it, ask its balance" },
	{ "messages", tallyctl_remote, "messages [--tps TPS] [--sender MSISDN] "
	  "[--kind K] [--verdict V] [--contest C] [--reply STATE] "
	  "[--forward STATE] [--channel sms|ussd] [--since T] [--until T] "
	  "[--limit N] [--before ID] " CTL_CONN,
	  "the messages the gateway stored, newest first, filtered" },
	{ "msg", tallyctl_remote, "msg ID " CTL_CONN,
	  "the whole life of message ID: stored, replied, forwarded" },
	{ "resend", tallyctl_remote, "resend ID " CTL_CONN,
	  "send the reply to message ID again" },
	{ "forward", tallyctl_remote, "forward retry [ID | --failed] " CTL_CONN,
	  "forward now what waits (ID: that message's; --failed: refused)" },
	{ "coverage", tallyctl_remote, "coverage [--level province|regency|"
	  "district|village] [--in CODE] [--contest C] " CTL_CONN,
	  "expected, reported, flagged and missing TPS by region" },
	{ "export", tallyctl_remote, "export [--region CODE] [--contest C] "
	  CTL_CONN,
	  "the latest accepted report per TPS, contest, page: CSV or JSON" },
	{ "alerts", tallyctl_remote, "alerts " CTL_CONN,
	  "the alerts raised now, then the ones cleared lately" },
	{ "sweep", tallyctl_remote, "sweep " CTL_CONN,
	  "read every modem's SIM storage now" },
	{ "reload", tallyctl_remote, "reload " CTL_CONN,
	  "re-read the config: the modems, and the alerts' settings" },
};
#define CTL_NCMDS	(sizeof(tallyctl_cmds) / sizeof(tallyctl_cmds[0]))

static const struct tallyctl_cmd *tallyctl_current;

static __attribute__((__noreturn__)) void
tallyctl_usage(void)
{
	size_t	i;

	if (tallyctl_current != NULL) {
		fprintf(stderr, "usage: tallyctl %s\n",
		    tallyctl_current->usage);
		exit(CTL_EXIT_USAGE);
	}
	fprintf(stderr, "usage: tallyctl command [options]\n");
	for (i = 0; i < CTL_NCMDS; i++)
		fprintf(stderr, "  %-10s %s\n", tallyctl_cmds[i].name,
		    tallyctl_cmds[i].help);
	exit(CTL_EXIT_USAGE);
}

/* Print -h help of the current command on stdout and exit 0. */
static __attribute__((__noreturn__)) void
tallyctl_help(void)
{
	printf("usage: tallyctl %s\n  %s\n", tallyctl_current->usage,
	    tallyctl_current->help);
	exit(CTL_EXIT_OK);
}

static int
tallyctl_fail(const char *fmt, ...)
{
	va_list	ap;

	fprintf(stderr, "tallyctl %s: ", tallyctl_current->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return (CTL_EXIT_FAIL);
}

/* The common options: each command takes the ones it names. */
enum {
	OPT_KEY = 256, OPT_ROOT, OPT_PROVINCE, OPT_ELECTION, OPT_REGISTRY,
	OPT_TPS, OPT_ROWS, OPT_HTML, OPT_SENDER, OPT_BATCH, OPT_DESA,
	OPT_DPT, OPT_CONTEST, OPT_PAGE, OPT_HELPER, OPT_LANG,
};
static const struct option tallyctl_longopts[] = {
	{ "key",	required_argument,	NULL, OPT_KEY },
	{ "root",	required_argument,	NULL, OPT_ROOT },
	{ "province",	required_argument,	NULL, OPT_PROVINCE },
	{ "election",	required_argument,	NULL, OPT_ELECTION },
	{ "registry",	required_argument,	NULL, OPT_REGISTRY },
	{ "tps",	required_argument,	NULL, OPT_TPS },
	{ "rows",	required_argument,	NULL, OPT_ROWS },
	{ "html",	no_argument,		NULL, OPT_HTML },
	{ "helper",	no_argument,		NULL, OPT_HELPER },
	{ "sender",	required_argument,	NULL, OPT_SENDER },
	{ "batch",	required_argument,	NULL, OPT_BATCH },
	{ "desa",	required_argument,	NULL, OPT_DESA },
	{ "dpt",	required_argument,	NULL, OPT_DPT },
	{ "contest",	required_argument,	NULL, OPT_CONTEST },
	{ "page",	required_argument,	NULL, OPT_PAGE },
	{ "lang",	required_argument,	NULL, OPT_LANG },
	{ "help",	no_argument,		NULL, 'h' },
	{ NULL,		0,			NULL, 0 },
};

struct tallyctl_opts {
	const char	*key, *root, *out, *election, *registry, *sender;
	const char	*batch, *desa, *dpt, *contest;
	int		 province, rows, html, helper, page;
	enum reply_lang	 lang;
	uint64_t	 tps;
	int		 has_tps;
};

/* mac: what each line of a batch is coded with. */
struct tallyctl_macs {
	struct key		 k;
	struct election		*el;
	int			 rc;
};

/* verify and reply: what a text is checked with, and the verdicts. */
struct tallyctl_vstate {
	struct key		 k;
	struct verify_ctx	 ctx;
	struct memhist		*mh;		/* batch: the history */
	const char		*sender;
	enum reply_lang		 lang;		/* reply */
	size_t			 counts[VERDICT_REJECTED + 1];
	int			 rc;
};

/* Parse options; 'allowed' lists the option codes the command takes. */
static int
tallyctl_getopt(int argc, char **argv, const int *allowed,
    struct tallyctl_opts *o)
{
	unsigned long	 v;
	const int	*a;
	int		 ch;
	char		*end;

	memset(o, 0, sizeof(*o));
	o->rows = CTL_CARD_ROWS;
	o->page = -1;
	optind = 1;
	while ((ch = getopt_long(argc, argv, "ho:", tallyctl_longopts, NULL)) !=
	    -1) {
		if (ch == 'h')
			tallyctl_help();
		if (ch == '?')
			tallyctl_usage();
		for (a = allowed; *a != 0 && *a != ch; a++)
			;
		if (*a == 0) {
			fprintf(stderr, "tallyctl %s: option not valid here\n",
			    tallyctl_current->name);
			tallyctl_usage();
		}
		switch (ch) {
		case 'o':
			o->out = optarg;
			break;
		case OPT_KEY:
			o->key = optarg;
			break;
		case OPT_ROOT:
			o->root = optarg;
			break;
		case OPT_PROVINCE:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > 99 || errno)
				tallyctl_usage();
			o->province = (int)v;
			break;
		case OPT_ELECTION:
			o->election = optarg;
			break;
		case OPT_REGISTRY:
			o->registry = optarg;
			break;
		case OPT_TPS:
			if (strlen(optarg) != TALLY_TPS_DIGITS ||
			    decode_number(optarg, &v, TALLY_TPS_DIGITS) < 0) {
				fprintf(stderr, "tallyctl: --tps takes a "
				    "13-digit TPS code\n");
				tallyctl_usage();
			}
			o->tps = v;
			o->has_tps = 1;
			break;
		case OPT_ROWS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v < 1 || v > TALLY_SEQ_MAX ||
			    errno)
				tallyctl_usage();
			o->rows = (int)v;
			break;
		case OPT_HTML:
			o->html = 1;
			break;
		case OPT_HELPER:
			o->helper = 1;
			break;
		case OPT_SENDER:
			o->sender = optarg;
			break;
		case OPT_BATCH:
			o->batch = optarg;
			break;
		case OPT_DESA:
			o->desa = optarg;
			break;
		case OPT_DPT:
			o->dpt = optarg;
			break;
		case OPT_CONTEST:
			o->contest = optarg;
			break;
		case OPT_LANG:
			if (strcmp(optarg, "id") != 0 &&
			    strcmp(optarg, "en") != 0)
				tallyctl_usage();
			o->lang = optarg[0] == 'e' ? REPLY_EN : REPLY_ID;
			break;
		case OPT_PAGE:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v > 999 || errno)
				tallyctl_usage();
			o->page = (int)v;
			break;
		}
	}
	return (optind);
}

static int
tallyctl_loadkey(const char *path, struct key *k)
{
	char	err[512];

	if (path == NULL)
		tallyctl_usage();
	if (key_load(path, k, err, sizeof(err)) == -1) {
		tallyctl_fail("%s", err);
		return (-1);
	}
	return (0);
}

static struct election *
tallyctl_election(const char *path)
{
	struct election	*el;
	char		 err[512];

	if (path == NULL)
		el = election_default();
	else
		el = election_load(path, err, sizeof(err));
	if (el == NULL)
		tallyctl_fail("%s",
		    path == NULL ? "embedded election definition "
		    "is broken" : err);
	return (el);
}

/*
 * Join the remaining arguments into one report text in buf; *textlen
 * is its length, or len for a text that does not fit (buf holds it cut).
 */
static const char *
tallyctl_text(int argc, char **argv, int i, char *buf, size_t len,
    size_t *textlen)
{
	size_t	off = 0;
	int	n;

	if (i >= argc)
		tallyctl_usage();
	buf[0] = '\0';
	for (; i < argc; i++) {
		n = snprintf(buf + off, len - off, "%s%s", off ? " " : "",
		    argv[i]);
		if (n < 0 || (size_t)n >= len - off) {
			*textlen = len;
			return (buf);
		}
		off += (size_t)n;
	}
	*textlen = off;
	return (buf);
}

/*
 * Call fn for each line of the file path ("-" stdin), whole whatever its
 * length and without its line end, until fn returns -1. Returns -1 if
 * the file cannot be read.
 */
static int
tallyctl_batch(const char *path, int (*fn)(const char *, size_t, void *),
    void *arg)
{
	FILE	*fp;
	char	*line = NULL;
	size_t	 cap = 0;
	ssize_t	 n;
	int	 rc = 0;

	if (strcmp(path, "-") == 0)
		fp = stdin;
	else if ((fp = fopen(path, "r")) == NULL) {
		tallyctl_fail("%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((n = getline(&line, &cap, fp)) != -1) {
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (n > 0 && line[n - 1] == '\r')
			line[--n] = '\0';
		if (fn(line, (size_t)n, arg) == -1)
			break;
	}
	if (ferror(fp)) {
		tallyctl_fail("%s: %s", path, strerror(errno));
		rc = -1;
	}
	free(line);
	if (fp != stdin)
		fclose(fp);
	return (rc);
}

static int
tallyctl_keygen(int argc, char **argv)
{
	static const int allowed[] = { 'o', 0 };
	struct tallyctl_opts	 o;
	struct key	 k;
	char		 err[512];

	if (tallyctl_getopt(argc, argv, allowed, &o) != argc || o.out == NULL)
		tallyctl_usage();
	key_generate(&k);
	if (key_save(o.out, &k, err, sizeof(err)) == -1) {
		key_wipe(&k, sizeof(k));
		return (tallyctl_fail("%s", err));
	}
	key_wipe(&k, sizeof(k));
	return (CTL_EXIT_OK);
}

static int
tallyctl_keyderive(int argc, char **argv)
{
	static const int allowed[] = { 'o', OPT_ROOT, OPT_PROVINCE, 0 };
	struct tallyctl_opts	 o;
	struct key	 root, prov;
	char		 err[512];

	if (tallyctl_getopt(argc, argv, allowed, &o) != argc || o.out == NULL ||
	    o.root == NULL || o.province == 0)
		tallyctl_usage();
	if (tallyctl_loadkey(o.root, &root) == -1)
		return (CTL_EXIT_FAIL);
	if (root.kind != KEY_ROOT) {
		key_wipe(&root, sizeof(root));
		return (tallyctl_fail("%s is a province key, not a root key",
		    o.root));
	}
	key_derive_province(&root, o.province, &prov);
	key_wipe(&root, sizeof(root));
	if (key_save(o.out, &prov, err, sizeof(err)) == -1) {
		key_wipe(&prov, sizeof(prov));
		return (tallyctl_fail("%s", err));
	}
	key_wipe(&prov, sizeof(prov));
	return (CTL_EXIT_OK);
}

/*
 * Decode TEXT as a report whose code may be missing: mac and receipt
 * take a report before or after the code was added.
 */
static int
tallyctl_decode_nocode(const char *text, struct report *r,
    struct decode_error *e,
    int *hascode)
{
	struct tokens	 t;
	char		 buf[TALLY_TEXT_MAX + 16];

	decode_tokens(text, strlen(text), &t);
	*hascode = t.n > 0 && strlen(t.tok[t.n - 1]) == TALLY_CODE_LEN;
	if (t.n == 0 || *hascode)
		return (decode_report(text, strlen(text), r, e));
	snprintf(buf, sizeof(buf), "%s 00000000", text);
	return (decode_report(buf, strlen(buf), r, e));
}

/*
 * MAC or receipt of one text: prints "canon MAC" or "RECEIPT", or
 * "REJECTED reason" and returns -1. A receipt needs a report that would
 * be accepted: right form and, when a code is given, the right code.
 */
static int
tallyctl_code_one(const struct election *el, const struct key *k,
    const char *text, size_t len, int receipt, int quiet)
{
	struct report		 r;
	struct decode_error	 e;
	struct form		 f;
	enum reason		 why;
	uint8_t			 kt[TALLY_KEY_LEN];
	char			 mac[TALLY_CODE_LEN + 1], card[TALLY_CODE_LEN + 1];
	char			 line[512];
	struct verify_result	 res;
	int			 hascode;

	memset(&res, 0, sizeof(res));
	memset(&r, 0, sizeof(r));
	res.verdict = VERDICT_REJECTED;
	if (len > TALLY_TEXT_MAX)
		res.reason = REASON_TOO_LONG;
	else if (tallyctl_decode_nocode(text, &r, &e, &hascode) == -1) {
		res.reason = e.reason;
		res.err = e;
	} else if (election_form(el, r.contest, r.tps, r.page, &f, &why) ==
	    -1)
		res.reason = why;
	else if (r.nvalues != f.nvalues) {
		res.reason = REASON_COUNT;
		res.form = f;
		res.err.expected = (int)f.nvalues;
		res.err.got = (int)r.nvalues;
	} else if (key_derive_tps(k, r.tps, kt) == -1)
		res.reason = REASON_NO_KEY;
	else {
		key_mac(kt, r.canon, mac);
		if (!receipt) {
			key_wipe(kt, sizeof(kt));
			printf("%s %s\n", r.canon, mac);
			return (0);
		}
		key_card(kt, r.seq, card);
		if (!hascode ||
		    key_code_equal(mac, r.code) || key_code_equal(card, r.code)) {
			key_receipt(kt, r.canon, mac);
			key_wipe(kt, sizeof(kt));
			printf("%s\n", mac);
			return (0);
		}
		key_wipe(kt, sizeof(kt));
		res.reason = REASON_CODE_BAD;
	}
	verify_explain(&res, &r, line, sizeof(line));
	if (quiet)
		printf("%s\n", line);
	else
		tallyctl_fail("%s", line + strlen("REJECTED "));
	return (-1);
}

/* mac --batch: one line, one verdict. */
static int
tallyctl_mac_line(const char *text, size_t len, void *arg)
{
	struct tallyctl_macs	*m = arg;

	if (tallyctl_code_one(m->el, &m->k, text, len, 0, 1) == -1)
		m->rc = CTL_EXIT_FAIL;
	return (0);
}

static int
tallyctl_mac(int argc, char **argv)
{
	static const int allowed[] = { OPT_KEY, OPT_ELECTION, OPT_BATCH, 0 };
	struct tallyctl_opts	 o;
	struct tallyctl_macs	 m;
	char			 buf[TALLY_TEXT_MAX + 1];
	const char		*text = NULL;
	size_t			 len = 0;
	int			 i;

	i = tallyctl_getopt(argc, argv, allowed, &o);
	if ((o.batch == NULL) == (i >= argc))
		tallyctl_usage();
	if (o.batch == NULL)
		text = tallyctl_text(argc, argv, i, buf, sizeof(buf), &len);
	memset(&m, 0, sizeof(m));
	if (tallyctl_loadkey(o.key, &m.k) == -1)
		return (CTL_EXIT_FAIL);
	if ((m.el = tallyctl_election(o.election)) == NULL) {
		key_wipe(&m.k, sizeof(m.k));
		return (CTL_EXIT_FAIL);
	}
	m.rc = CTL_EXIT_OK;
	if (text != NULL) {
		if (tallyctl_code_one(m.el, &m.k, text, len, 0, 0) == -1)
			m.rc = CTL_EXIT_FAIL;
	} else if (tallyctl_batch(o.batch, tallyctl_mac_line, &m) == -1)
		m.rc = CTL_EXIT_FAIL;
	key_wipe(&m.k, sizeof(m.k));
	election_free(m.el);
	return (m.rc);
}

static int
tallyctl_receipt(int argc, char **argv)
{
	static const int allowed[] = { OPT_KEY, OPT_ELECTION, 0 };
	struct tallyctl_opts		 o;
	struct key		 k;
	struct election		*el;
	char			 buf[TALLY_TEXT_MAX + 1];
	const char		*text;
	size_t			 len;
	int			 i, rc = CTL_EXIT_OK;

	i = tallyctl_getopt(argc, argv, allowed, &o);
	text = tallyctl_text(argc, argv, i, buf, sizeof(buf), &len);
	if (tallyctl_loadkey(o.key, &k) == -1)
		return (CTL_EXIT_FAIL);
	if ((el = tallyctl_election(o.election)) == NULL) {
		key_wipe(&k, sizeof(k));
		return (CTL_EXIT_FAIL);
	}
	if (tallyctl_code_one(el, &k, text, len, 1, 0) == -1)
		rc = CTL_EXIT_FAIL;
	key_wipe(&k, sizeof(k));
	election_free(el);
	return (rc);
}

/* Close what tallyctl_vopen opened; the key is wiped. */
static void
tallyctl_vclose(struct tallyctl_vstate *v)
{
	key_wipe(&v->k, sizeof(v->k));
	if (v->ctx.registry != NULL)
		registry_close(v->ctx.registry);
	election_free((struct election *)(uintptr_t)v->ctx.election);
	lockout_free(v->ctx.lockout);
	memhist_free(v->mh);
	memset(&v->ctx, 0, sizeof(v->ctx));
	v->mh = NULL;
}

/*
 * What verify and reply check a text with: the key, the election, the
 * registry, and for a batch a history and lockout (earlier lines are
 * the history of later ones). -1: it failed, nothing is left open.
 */
static int
tallyctl_vopen(const struct tallyctl_opts *o, struct tallyctl_vstate *v)
{
	char	 err[512];

	memset(v, 0, sizeof(*v));
	v->sender = o->sender;
	v->lang = o->lang;
	v->rc = CTL_EXIT_OK;
	if (tallyctl_loadkey(o->key, &v->k) == -1)
		return (-1);
	v->ctx.key = &v->k;
	v->ctx.default_dpt = VERIFY_DEFAULT_DPT;
	if ((v->ctx.election = tallyctl_election(o->election)) == NULL)
		goto fail;
	if (o->registry != NULL && (v->ctx.registry = registry_open(
	    o->registry, REGISTRY_RDONLY, err, sizeof(err))) == NULL) {
		tallyctl_fail("%s", err);
		goto fail;
	}
	if (o->batch != NULL) {
		if ((v->mh = memhist_new()) == NULL ||
		    (v->ctx.lockout = lockout_new(NULL)) == NULL) {
			tallyctl_fail("out of memory");
			goto fail;
		}
		v->ctx.history = memhist_history(v->mh);
	}
	return (0);
fail:
	tallyctl_vclose(v);
	return (-1);
}

/*
 * Verify one text as the gateway does; a text longer than the gateway
 * keeps is rejected as too long, unread. Accepted reports enter the
 * batch's history. -1: a lookup failed, nothing decided.
 */
static int
tallyctl_check(struct tallyctl_vstate *v, const char *text, size_t len,
    struct report *r, struct verify_result *res)
{
	if (len > TALLY_TEXT_MAX) {
		memset(r, 0, sizeof(*r));
		memset(res, 0, sizeof(*res));
		r->page = -1;
		res->verdict = VERDICT_REJECTED;
		res->reason = REASON_TOO_LONG;
		res->err.reason = REASON_TOO_LONG;
	} else if (verify_report(&v->ctx, text, len, v->sender, time(NULL),
	    r, res) == -1) {
		tallyctl_fail("lookup failed; nothing decided");
		v->rc = CTL_EXIT_FAIL;
		return (-1);
	}
	v->counts[res->verdict]++;
	if (res->verdict == VERDICT_REJECTED)
		v->rc = CTL_EXIT_FAIL;
	if (v->mh != NULL && (res->verdict == VERDICT_OK ||
	    res->verdict == VERDICT_FLAGGED))
		memhist_add(v->mh, r, res->receipt);
	return (0);
}

/* Verify one text and print its line. -1: nothing decided. */
static int
tallyctl_verify_one(const char *text, size_t len, void *arg)
{
	struct tallyctl_vstate	*v = arg;
	struct report		 r;
	struct verify_result	 res;
	char			 line[2048];

	if (tallyctl_check(v, text, len, &r, &res) == -1)
		return (-1);
	if (verify_explain(&res, &r, line, sizeof(line)) == -1)
		line[sizeof(line) - 1] = '\0';
	printf("%s\n", line);
	return (0);
}

/*
 * verify and reply: fn for TEXT, or for each line of --batch; a batch
 * of verify ends with the summary line. Returns the exit code.
 */
static int
tallyctl_vrun(int argc, char **argv, const int *allowed,
    int (*fn)(const char *, size_t, void *))
{
	struct tallyctl_opts	 o;
	struct tallyctl_vstate	 v;
	char			 buf[TALLY_TEXT_MAX + 1];
	const char		*text;
	size_t			 len;
	int			 i, rc;

	i = tallyctl_getopt(argc, argv, allowed, &o);
	if ((o.batch == NULL) == (i >= argc))
		tallyctl_usage();
	if (tallyctl_vopen(&o, &v) == -1)
		return (CTL_EXIT_FAIL);
	if (o.batch == NULL) {
		text = tallyctl_text(argc, argv, i, buf, sizeof(buf), &len);
		fn(text, len, &v);
	} else {
		if (tallyctl_batch(o.batch, fn, &v) == -1)
			v.rc = CTL_EXIT_FAIL;
		if (fn == tallyctl_verify_one)
			fprintf(stderr, "tallyctl verify: %zu OK, %zu FLAGGED, "
			    "%zu DUPLICATE, %zu REJECTED\n",
			    v.counts[VERDICT_OK], v.counts[VERDICT_FLAGGED],
			    v.counts[VERDICT_DUPLICATE],
			    v.counts[VERDICT_REJECTED]);
	}
	rc = v.rc;
	tallyctl_vclose(&v);
	return (rc);
}

static int
tallyctl_verify(int argc, char **argv)
{
	static const int allowed[] = { OPT_KEY, OPT_ELECTION, OPT_REGISTRY,
	    OPT_SENDER, OPT_BATCH, 0 };

	return (tallyctl_vrun(argc, argv, allowed, tallyctl_verify_one));
}

/*
 * The answer to a report, as receive.c writes it: the same verification,
 * the same reply_msg. Returns reply_report's result, -2 for a lookup
 * failure.
 */
static int
tallyctl_reply_report(struct tallyctl_vstate *v, const char *text,
    size_t len, char *out, size_t outlen)
{
	struct reply_msg	 m;
	struct verify_result	 res;

	memset(&m, 0, sizeof(m));
	if (tallyctl_check(v, text, len, &m.report, &res) == -1)
		return (-2);
	m.decoded = verify_decoded(&res, &m.report);
	memcpy(m.receipt, res.receipt, sizeof(m.receipt));
	return (reply_report(v->lang, &m, &res, out, outlen, NULL, 0));
}

/*
 * The answer to one text, as the gateway classifies it. CEK: tallyctl
 * has no store, so a known TPS has nothing recorded. -1: nothing decided.
 */
static int
tallyctl_reply_one(const char *text, size_t len, void *arg)
{
	struct tallyctl_vstate	*v = arg;
	struct tps_info		 ti;
	char			 out[REPLY_TEXT_MAX];
	uint64_t		 tps = 0;
	int			 ok = 0, rc;

	switch (len > TALLY_TEXT_MAX ? MSG_REPORT :
	    reply_classify(text, &tps, &ok)) {
	case MSG_REPORT:
		rc = tallyctl_reply_report(v, text, len, out, sizeof(out));
		break;
	case MSG_CEK:
		if (!ok || (v->ctx.registry != NULL &&
		    registry_lookup(v->ctx.registry, tps, &ti) != 1))
			rc = reply_tps_unknown(v->lang, text, out,
			    sizeof(out));
		else
			rc = reply_cek(v->lang, tps, NULL, 0, out,
			    sizeof(out));
		break;
	case MSG_BANTU:
		rc = reply_bantu(v->lang, out, sizeof(out));
		break;
	default:
		rc = reply_other(v->lang, out, sizeof(out));
		break;
	}
	if (rc == -2)
		return (-1);
	if (rc == -1) {
		tallyctl_fail("no reply fits its SMS");
		v->rc = CTL_EXIT_FAIL;
		out[0] = '\0';
	}
	printf("%s\n", out);
	return (0);
}

static int
tallyctl_reply(int argc, char **argv)
{
	static const int allowed[] = { OPT_KEY, OPT_ELECTION, OPT_REGISTRY,
	    OPT_SENDER, OPT_BATCH, OPT_LANG, 0 };

	return (tallyctl_vrun(argc, argv, allowed, tallyctl_reply_one));
}

/* The printable card: rows in columns, instructions in Indonesian. */
static void
tallyctl_card_html(uint64_t tps, const uint8_t *kt, int rows, int helper)
{
	char	code[TALLY_CODE_LEN + 1], hk[TALLY_HELPER_LEN + 1];
	int	r, g;

	printf("<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\""
	    "utf-8\">\n<title>Kartu Kode TPS %013llu</title>\n<style>\n"
	    "body{font-family:sans-serif;margin:1.5cm}"
	    "h1{font-size:16pt;margin:0}"
	    "h2{font-size:13pt;margin:10pt 0 0}table.key td{font-size:14pt}"
	    "table{border-collapse:collapse;margin-top:8pt}"
	    "td{border:1px solid #000;padding:2pt 6pt;"
	    "font-family:monospace;font-size:11pt}"
	    "td.n{text-align:right;color:#444}"
	    ".cols{column-count:4}"
	    "ol{font-size:10pt}"
	    "</style></head><body>\n", (unsigned long long)tps);
	printf("<h1>KARTU KODE SEKALI PAKAI &mdash; TPS %013llu</h1>\n",
	    (unsigned long long)tps);
	printf("<p><b>RAHASIA.</b> Simpan tertutup. Hanya untuk Ketua KPPS "
	    "TPS ini.</p>\n<ol>\n"
	    "<li>Setiap SMS laporan memakai satu baris. Nomor pesan (NO) = "
	    "nomor baris.</li>\n"
	    "<li>Ketik: PPWP*%013llu*NO*PEMILIH*01*02*03*SAH*TIDAKSAH*KODE"
	    " lalu kirim ke nomor gateway.</li>\n"
	    "<li>Contoh baris 1: PPWP*%013llu*1*255*120*95*36*251*4*KODE "
	    "baris 1.</li>\n"
	    "<li>Coret baris setelah dipakai. Jangan pakai satu baris dua "
	    "kali.</li>\n"
	    "<li>Periksa balasan: angka harus sama dengan formulir C.Hasil."
	    " Tulis kode tanda terima di formulir.</li>\n"
	    "<li>Jika angka di balasan salah, kirim ulang dengan baris "
	    "berikutnya.</li>\n"
	    "<li>Bantuan: kirim SMS BANTU.</li>\n</ol>\n",
	    (unsigned long long)tps, (unsigned long long)tps);
	if (helper) {
		/* The groups as the helper's boxes number them. */
		key_helper(kt, hk);
		printf("<h2>KUNCI MAC HELPER</h2>\n<p>Untuk HP tanpa "
		    "internet: buka file mac-helper.html, ketik 8 kelompok "
		    "ini di kotak 1&ndash;8. Helper menghitung KODE; "
		    "kode baris 1 yang ditampilkan helper harus sama dengan "
		    "baris 1 kartu ini. Kunci ini serahasia kartu.</p>\n"
		    "<table class=\"key\">\n");
		for (g = 0; g < TALLY_HELPER_GROUPS; g++)
			printf("<tr><td class=\"n\">%d</td><td>%.5s "
			    "%.6s</td></tr>\n", g + 1, hk + 12 * g,
			    hk + 12 * g + 5);
		printf("</table>\n");
		key_wipe(hk, sizeof(hk));
	}
	printf("<div class=\"cols\"><table>\n");
	for (r = 1; r <= rows; r++) {
		key_card(kt, (unsigned)r, code);
		printf("<tr><td class=\"n\">%d</td><td>%s</td>"
		    "<td>&nbsp;&nbsp;</td></tr>\n", r, code);
	}
	printf("</table></div>\n</body></html>\n");
}

static int
tallyctl_card(int argc, char **argv)
{
	static const int allowed[] = { OPT_KEY, OPT_TPS, OPT_ROWS, OPT_HTML,
	    OPT_HELPER, 0 };
	struct tallyctl_opts	 o;
	struct key	 k;
	uint8_t		 kt[TALLY_KEY_LEN];
	char		 code[TALLY_CODE_LEN + 1], hk[TALLY_HELPER_LEN + 1];
	int		 r;

	if (tallyctl_getopt(argc, argv, allowed, &o) != argc || !o.has_tps)
		tallyctl_usage();
	if (tallyctl_loadkey(o.key, &k) == -1)
		return (CTL_EXIT_FAIL);
	if (key_derive_tps(&k, o.tps, kt) == -1)
		return (tallyctl_fail("key %s does not cover TPS %013llu",
		    o.key,
		    (unsigned long long)o.tps));
	key_wipe(&k, sizeof(k));
	if (o.html)
		tallyctl_card_html(o.tps, kt, o.rows, o.helper);
	else {
		if (o.helper) {
			key_helper(kt, hk);
			printf("helper %s\n", hk);
			key_wipe(hk, sizeof(hk));
		}
		for (r = 1; r <= o.rows; r++) {
			key_card(kt, (unsigned)r, code);
			printf("%d %s\n", r, code);
		}
	}
	key_wipe(kt, sizeof(kt));
	return (CTL_EXIT_OK);
}

static int
tallyctl_import(int argc, char **argv)
{
	static const int allowed[] = { OPT_REGISTRY, OPT_DESA, OPT_DPT, 0 };
	struct tallyctl_opts	 o;
	struct registry	*reg;
	struct timespec	 t0, t1;
	char		 err[512];
	size_t		 n = 0, total = 0;

	if (tallyctl_getopt(argc, argv, allowed, &o) != argc
	    || o.registry == NULL ||
	    (o.desa == NULL && o.dpt == NULL))
		tallyctl_usage();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((reg = registry_open(o.registry, REGISTRY_CREATE, err,
	    sizeof(err))) == NULL)
		return (tallyctl_fail("%s", err));
	if (o.desa != NULL) {
		if (registry_import_desa(reg, o.desa, &n, err, sizeof(err)) ==
		    -1) {
			registry_close(reg);
			return (tallyctl_fail("%s", err));
		}
		printf("%s\n", err);
	}
	if (o.dpt != NULL) {
		if (registry_import_dpt(reg, o.dpt, &n, err, sizeof(err)) ==
		    -1) {
			registry_close(reg);
			return (tallyctl_fail("%s", err));
		}
		printf("%s\n", err);
	}
	registry_count(reg, &total);
	registry_close(reg);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("registry %s: %zu TPS (%.2f s)\n", o.registry, total,
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	return (CTL_EXIT_OK);
}

static int
tallyctl_form(int argc, char **argv)
{
	static const int allowed[] = { OPT_ELECTION, OPT_TPS, OPT_CONTEST,
	    OPT_PAGE, 0 };
	struct tallyctl_opts	 o;
	struct election	*el;
	struct form	 f;
	enum contest	 c;
	enum reason	 why;
	size_t		 i;

	if (tallyctl_getopt(argc, argv, allowed, &o) != argc || !o.has_tps ||
	    o.contest == NULL)
		tallyctl_usage();
	if ((c = decode_contest(o.contest)) == CONTEST_NONE)
		return (tallyctl_fail("unknown contest '%s'", o.contest));
	if (decode_contest_paged(c) && o.page < 0)
		o.page = 0;
	if ((el = tallyctl_election(o.election)) == NULL)
		return (CTL_EXIT_FAIL);
	if (election_form(el, c, o.tps, o.page, &f, &why) == -1) {
		election_free(el);
		return (tallyctl_fail("%s", verify_reason_text(why)));
	}
	printf("%s TPS %013llu", decode_contest_name(c),
	    (unsigned long long)o.tps);
	if (o.page >= 0)
		printf(" page %d", o.page);
	if (f.district != NULL)
		printf(" district %s", f.district);
	printf(": %zu values\n", f.nvalues);
	if (f.kind == FORM_PARTY) {
		printf("  PARTAI (%s)\n", election_party_name(el, o.page));
		for (i = 0; i < f.nchoices; i++)
			printf("  candidate %zu\n", i + 1);
	} else {
		printf("  PEMILIH\n");
		for (i = 0; i < f.nchoices; i++) {
			if (decode_contest_paged(c))
				printf("  party %d %s\n", f.choices[i],
				    election_party_name(el, f.choices[i]));
			else
				printf("  %s %zu\n", c == CONTEST_PPWP ?
				    "pair" : "candidate", i + 1);
		}
		printf("  SAH\n  TIDAK_SAH\n");
	}
	election_free(el);
	return (CTL_EXIT_OK);
}

/* The commands of a running tallygw (remote.c). */
static int
tallyctl_remote(int argc, char **argv)
{
	int	 rc;

	rc = remote_main(tallyctl_current->name, argc, argv);
	if (rc == REMOTE_HELP)
		tallyctl_help();
	if (rc == REMOTE_USAGE)
		tallyctl_usage();
	return (rc);
}

int
main(int argc, char *argv[])
{
	size_t	i;

	/* Errors reach the operator through each command's own message. */
	log_init("tallyctl", LOG_TO_STDERR, -1);
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		if (argc >= 2) {
			tallyctl_current = NULL;
			printf("usage: tallyctl command [options]\n");
			for (i = 0; i < CTL_NCMDS; i++)
				printf("  %s\n", tallyctl_cmds[i].usage);
			return (CTL_EXIT_OK);
		}
		tallyctl_usage();
	}
	if (key_init() == -1)
		fatalx("libsodium failed to initialise");
	for (i = 0; i < CTL_NCMDS; i++) {
		if (strcmp(argv[1], tallyctl_cmds[i].name) == 0) {
			tallyctl_current = &tallyctl_cmds[i];
			return (tallyctl_cmds[i].fn(argc - 1, argv + 1));
		}
	}
	fprintf(stderr, "tallyctl: unknown command '%s'\n", argv[1]);
	tallyctl_usage();
}
