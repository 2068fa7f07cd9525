/*
 * Unit tests of forward.c: the body, the key, the signature, the
 * backoff; then the HTTP engine and the scheduler end to end against
 * tallysim's real central receiver (skipped when $B/tallysim is absent).
 */

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "unit.h"
#include "gw.h"
#include "log.h"

#define TPS		3201012001001ULL
#define RECEIPT		"58331817"

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

/* An accepted PPWP report as the store would hold it. */
static void
msg_ppwp(struct store_msg *m, unsigned seq, const char *receipt)
{
	static const uint16_t	 v[] = { 200, 60, 70, 50, 180, 20 };

	memset(m, 0, sizeof(*m));
	m->id = 12;
	snprintf(m->modem, sizeof(m->modem), "m1");
	snprintf(m->modem_number, sizeof(m->modem_number), "+628110000001");
	snprintf(m->sender, sizeof(m->sender), "+6281234567890");
	snprintf(m->received_at, sizeof(m->received_at),
	    "2024-02-14T09:12:01Z");
	snprintf(m->verified_at, sizeof(m->verified_at),
	    "2024-02-14T09:12:01.123Z");
	m->parts = 1;
	m->kind = MSG_REPORT;
	m->verdict = VERDICT_OK;
	m->auth = AUTH_MAC;
	m->decoded = 1;
	m->report.contest = CONTEST_PPWP;
	m->report.tps = TPS;
	m->report.seq = seq;
	m->report.page = -1;
	m->report.nvalues = sizeof(v) / sizeof(v[0]);
	memcpy(m->report.values, v, sizeof(v));
	snprintf(m->report.code, sizeof(m->report.code), "12345678");
	assert_int_equal(decode_canon(&m->report), 0);
	snprintf(m->raw, sizeof(m->raw), "PPWP %013llu %u 200 60 70 50 180 "
	    "20 12345678", (unsigned long long)TPS, seq);
	snprintf(m->receipt, sizeof(m->receipt), "%s", receipt);
}

/* A key pair; the secret key also as a file in the documented format. */
static void
keypair(uint8_t pk[32], uint8_t sk[64])
{
	assert_true(sodium_init() >= 0);
	crypto_sign_keypair(pk, sk);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int	 fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
write_keys(const char *dir, const uint8_t pk[32], const uint8_t sk[64])
{
	char	 path[PATH_MAX], line[300], hex[129];

	sodium_bin2hex(hex, sizeof(hex), sk, 64);
	snprintf(line, sizeof(line), "ed25519-secret %s\n", hex);
	snprintf(path, sizeof(path), "%s/gw.sec", dir);
	write_file(path, line, 0600);
	sodium_bin2hex(hex, sizeof(hex), pk, 32);
	snprintf(line, sizeof(line), "# the test gateway\ned25519-public "
	    "%s\n", hex);
	snprintf(path, sizeof(path), "%s/gw.pub", dir);
	write_file(path, line, 0644);
}

static char *
tmpdir(void)
{
	char	 tmpl[] = "/tmp/test_forward.XXXXXX";
	char	*d = mkdtemp(tmpl);

	assert_non_null(d);
	return (strdup(d));
}

static void
rmdir_all(const char *dir)
{
	char	 cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# cannot remove %s\n", dir);
}

/* ------------------------------------------------------------------ */
/* The body                                                            */
/* ------------------------------------------------------------------ */

static void
test_body_fields(void **state)
{
	static const char	*order[] = {
		"idempotency_key", "gateway", "tps", "contest", "page", "seq",
		"values", "canonical", "raw", "sender", "modem", "received_at",
		"verified_at", "verdict", "flags", "auth", "receipt",
		"supersedes",
	};
	struct store_msg	 m;
	json_error_t		 je;
	json_t			*o, *v;
	const char		*k;
	void			*it;
	char			*body;
	size_t			 len, i;

	(void)state;
	msg_ppwp(&m, 3, RECEIPT);
	m.flags = FLAG_SUM | FLAG_STALE;
	assert_int_equal(forward_body(&m, "gw-jabar-1", &body, &len), 0);
	assert_int_equal(len, strlen(body));
	/* Compact: no space after separators. */
	assert_null(strstr(body, "\": "));
	assert_null(strstr(body, ", \""));
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(o);
	/* Members in the table's order, nothing else. */
	for (i = 0, it = json_object_iter(o); it != NULL;
	    it = json_object_iter_next(o, it), i++) {
		k = json_object_iter_key(it);
		assert_true(i < sizeof(order) / sizeof(order[0]));
		assert_string_equal(k, order[i]);
	}
	assert_int_equal(i, sizeof(order) / sizeof(order[0]));
	/* Keys in the body are in that same order as bytes. */
	assert_true(strstr(body, "\"idempotency_key\"") == body + 1);
	assert_string_equal(json_string_value(json_object_get(o,
	    "idempotency_key")), "3201012001001-3-58331817");
	assert_string_equal(json_string_value(json_object_get(o, "gateway")),
	    "gw-jabar-1");
	assert_string_equal(json_string_value(json_object_get(o, "tps")),
	    "3201012001001");
	assert_string_equal(json_string_value(json_object_get(o, "contest")),
	    "PPWP");
	assert_true(json_is_null(json_object_get(o, "page")));
	assert_true(json_is_integer(json_object_get(o, "seq")));
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 3);
	v = json_object_get(o, "values");
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 6);
	assert_int_equal(json_integer_value(json_array_get(v, 0)), 200);
	assert_int_equal(json_integer_value(json_array_get(v, 4)), 180);
	assert_int_equal(json_integer_value(json_array_get(v, 5)), 20);
	assert_string_equal(json_string_value(json_object_get(o,
	    "canonical")), "PPWP 3201012001001 3 200 60 70 50 180 20");
	assert_string_equal(json_string_value(json_object_get(o, "raw")),
	    m.raw);
	assert_string_equal(json_string_value(json_object_get(o, "sender")),
	    "+6281234567890");
	assert_string_equal(json_string_value(json_object_get(o, "modem")),
	    "+628110000001");
	assert_string_equal(json_string_value(json_object_get(o,
	    "received_at")), "2024-02-14T09:12:01Z");
	assert_string_equal(json_string_value(json_object_get(o,
	    "verified_at")), "2024-02-14T09:12:01.123Z");
	assert_string_equal(json_string_value(json_object_get(o, "verdict")),
	    "OK");
	v = json_object_get(o, "flags");
	assert_true(json_is_array(v));
	assert_int_equal(json_array_size(v), 2);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "SUM");
	assert_string_equal(json_string_value(json_array_get(v, 1)), "STALE");
	assert_string_equal(json_string_value(json_object_get(o, "auth")),
	    "mac");
	assert_string_equal(json_string_value(json_object_get(o, "receipt")),
	    RECEIPT);
	assert_true(json_is_null(json_object_get(o, "supersedes")));
	json_decref(o);
	free(body);
}

static void
test_body_paged(void **state)
{
	struct store_msg	 m;
	json_t			*o, *v;
	char			*body;
	size_t			 len;

	(void)state;
	msg_ppwp(&m, 4, RECEIPT);
	m.report.contest = CONTEST_DPR;
	m.report.page = 7;
	m.report.nvalues = 3;
	m.report.values[0] = 9;
	m.report.values[1] = 0;
	m.report.values[2] = 999;
	assert_int_equal(decode_canon(&m.report), 0);
	m.verdict = VERDICT_FLAGGED;
	m.flags = FLAG_PARTY | FLAG_DPT | FLAG_SENDER | FLAG_TOTAL;
	m.auth = AUTH_CARD;
	m.supersedes = 2;
	assert_int_equal(forward_body(&m, "gw", &body, &len), 0);
	o = json_loadb(body, len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "contest")),
	    "DPR");
	assert_true(json_is_integer(json_object_get(o, "page")));
	assert_int_equal(json_integer_value(json_object_get(o, "page")), 7);
	assert_string_equal(json_string_value(json_object_get(o,
	    "canonical")), "DPR 3201012001001 4 7 9 0 999");
	assert_string_equal(json_string_value(json_object_get(o, "verdict")),
	    "FLAGGED");
	assert_string_equal(json_string_value(json_object_get(o, "auth")),
	    "card");
	assert_true(json_is_integer(json_object_get(o, "supersedes")));
	assert_int_equal(json_integer_value(json_object_get(o,
	    "supersedes")), 2);
	/* verify.c's order: SUM TOTAL DPT PARTY SENDER STALE. */
	v = json_object_get(o, "flags");
	assert_int_equal(json_array_size(v), 4);
	assert_string_equal(json_string_value(json_array_get(v, 0)), "TOTAL");
	assert_string_equal(json_string_value(json_array_get(v, 1)), "DPT");
	assert_string_equal(json_string_value(json_array_get(v, 2)), "PARTY");
	assert_string_equal(json_string_value(json_array_get(v, 3)),
	    "SENDER");
	json_decref(o);
	free(body);

	/* Page 0 (the summary page) is an integer, not null. */
	m.report.page = 0;
	assert_int_equal(decode_canon(&m.report), 0);
	assert_int_equal(forward_body(&m, "gw", &body, &len), 0);
	o = json_loadb(body, len, 0, NULL);
	assert_true(json_is_integer(json_object_get(o, "page")));
	assert_int_equal(json_integer_value(json_object_get(o, "page")), 0);
	assert_int_equal(json_array_size(json_object_get(o, "flags")), 4);
	json_decref(o);
	free(body);
}

static void
test_body_deterministic(void **state)
{
	struct store_msg	 m;
	char			*a, *b;
	size_t			 la, lb;

	(void)state;
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "gw-1", &a, &la), 0);
	assert_int_equal(forward_body(&m, "gw-1", &b, &lb), 0);
	assert_int_equal(la, lb);
	assert_memory_equal(a, b, la);
	free(b);
	/* And it does depend on the message. */
	snprintf(m.sender, sizeof(m.sender), "+6281299999999");
	assert_int_equal(forward_body(&m, "gw-1", &b, &lb), 0);
	assert_true(la != lb || memcmp(a, b, la) != 0);
	free(a);
	free(b);
}

static void
test_body_refused(void **state)
{
	struct store_msg	 m;
	char			 xb[] = "x", *body = xb;
	size_t			 len = 99;
	int			 bad[] = { VERDICT_DUPLICATE, VERDICT_REJECTED,
				    0 };
	size_t			 i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		msg_ppwp(&m, 1, RECEIPT);
		m.verdict = (enum verdict)bad[i];
		assert_int_equal(forward_body(&m, "gw", &body, &len), -1);
		assert_null(body);
		assert_int_equal(len, 0);
	}
	msg_ppwp(&m, 1, RECEIPT);
	m.decoded = 0;
	assert_int_equal(forward_body(&m, "gw", &body, &len), -1);
	msg_ppwp(&m, 1, RECEIPT);
	m.kind = MSG_CEK;
	assert_int_equal(forward_body(&m, "gw", &body, &len), -1);
	msg_ppwp(&m, 1, RECEIPT);
	m.auth = AUTH_NONE;
	assert_int_equal(forward_body(&m, "gw", &body, &len), -1);
	msg_ppwp(&m, 1, "1234");
	assert_int_equal(forward_body(&m, "gw", &body, &len), -1);
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "", &body, &len), -1);
	/* The same message with its fields restored is accepted. */
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "gw", &body, &len), 0);
	free(body);
}

static void
test_body_utf8(void **state)
{
	struct store_msg	 m;
	json_t			*o;
	char			*body;
	size_t			 len;

	(void)state;
	msg_ppwp(&m, 1, RECEIPT);
	/* Valid UTF-8 stays; a lone byte, an overlong form, a surrogate
	 * and a truncated sequence each become '?'. */
	snprintf(m.raw, sizeof(m.raw), "Caf\xc3\xa9 \xff x\xc0\xafy "
	    "\xed\xa0\x80 \xe2\x82");
	assert_int_equal(forward_body(&m, "gw", &body, &len), 0);
	o = json_loadb(body, len, 0, NULL);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "raw")),
	    "Caf\xc3\xa9 ? x??y ??? ??");
	json_decref(o);
	free(body);
}

static void
test_idempotency_key(void **state)
{
	struct store_msg	 m;
	char			 buf[64];

	(void)state;
	msg_ppwp(&m, 9999, "00000001");
	m.report.tps = 1012001001ULL;		/* leading zeros */
	assert_int_equal(forward_idempotency_key(&m, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "0001012001001-9999-00000001");
	/* Too small a buffer, a bad receipt: refused. */
	assert_int_equal(forward_idempotency_key(&m, buf, 10), -1);
	msg_ppwp(&m, 1, "abc");
	assert_int_equal(forward_idempotency_key(&m, buf, sizeof(buf)), -1);
}

/* ------------------------------------------------------------------ */
/* Signature and key file                                              */
/* ------------------------------------------------------------------ */

static void
test_sign(void **state)
{
	uint8_t		 pk[32], sk[64], sig[64];
	const char	*body = "{\"a\":1}";
	char		 out[128];
	size_t		 n;

	(void)state;
	keypair(pk, sk);
	assert_int_equal(forward_sign(sk, body, strlen(body), out, sizeof(out)),
	    0);
	assert_int_equal(strncmp(out, "ed25519=", 8), 0);
	assert_int_equal(strlen(out), 8 + 88);
	assert_int_equal(out[strlen(out) - 1], '=');	/* padded */
	assert_int_equal(sodium_base642bin(sig, sizeof(sig), out + 8,
	    strlen(out + 8), NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL),
	    0);
	assert_int_equal(n, 64);
	assert_int_equal(crypto_sign_verify_detached(sig,
	    (const unsigned char *)body, strlen(body), pk), 0);
	/* Over the exact bytes: one byte more does not verify. */
	assert_int_not_equal(crypto_sign_verify_detached(sig,
	    (const unsigned char *)"{\"a\":1} ", 8, pk), 0);
	/* Too small an output buffer. */
	assert_int_equal(forward_sign(sk, body, strlen(body), out, 96), -1);
}

static void
test_load_key(void **state)
{
	uint8_t		 pk[32], sk[64], got[64];
	char		*dir = tmpdir(), path[PATH_MAX], line[300], hex[129];
	char		 err[512];

	(void)state;
	keypair(pk, sk);
	write_keys(dir, pk, sk);
	snprintf(path, sizeof(path), "%s/gw.sec", dir);
	memset(got, 0, sizeof(got));
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), 0);
	assert_memory_equal(got, sk, 64);

	/* Without the final newline too. */
	sodium_bin2hex(hex, sizeof(hex), sk, 64);
	snprintf(line, sizeof(line), "ed25519-secret %s", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), 0);

	/* Readable by others: refused, and the error says what to do. */
	write_file(path, line, 0644);
	err[0] = '\0';
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	write_file(path, line, 0640);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);

	/* The public key file is not a secret key. */
	snprintf(path, sizeof(path), "%s/gw.pub", dir);
	chmod(path, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "ed25519-secret"));

	snprintf(path, sizeof(path), "%s/bad", dir);
	/* Short, not hex, trailing junk, a second line. */
	snprintf(line, sizeof(line), "ed25519-secret %.126s\n", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	snprintf(line, sizeof(line), "ed25519-secret %.127sg\n", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	snprintf(line, sizeof(line), "ed25519-secret %s x\n", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	snprintf(line, sizeof(line), "ed25519-secret %s\nmore\n", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	/* Damaged: the public half does not belong to the seed. */
	hex[127] = hex[127] == '0' ? '1' : '0';
	snprintf(line, sizeof(line), "ed25519-secret %s\n", hex);
	write_file(path, line, 0600);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "damaged"));
	/* Missing. */
	snprintf(path, sizeof(path), "%s/none", dir);
	assert_int_equal(forward_load_key(path, got, err, sizeof(err)), -1);
	assert_non_null(strstr(err, path));
	rmdir_all(dir);
	free(dir);
}

/* ------------------------------------------------------------------ */
/* Backoff                                                             */
/* ------------------------------------------------------------------ */

static void
test_backoff(void **state)
{
	time_t		 r, base, seen[8];
	uint32_t	 seed;
	int		 a, nseen = 0, i, distinct;

	(void)state;
	for (seed = 0; seed < 500; seed++) {
		for (a = 1; a <= 40; a++) {
			r = forward_backoff(a, 2, 300, seed);
			base = a > 10 ? 300 : 2LL << (a - 1);
			if (base > 300)
				base = 300;
			assert_true(r >= 1);
			assert_true(r <= 300);
			assert_true(r * 10 >= base * 8);	/* -20% */
			assert_true(r * 10 <= base * 12);	/* +20% */
			/* Deterministic. */
			assert_int_equal(r, forward_backoff(a, 2, 300, seed));
		}
	}
	/* Grows: attempt 6 waits longer than attempt 1 (64+-20% vs 2). */
	assert_true(forward_backoff(6, 2, 300, 7) > forward_backoff(1, 2, 300,
	    7));
	/* The jitter spreads rows that failed together. */
	for (seed = 0; seed < 50; seed++) {
		r = forward_backoff(5, 10, 1000, seed);	/* 160 +- 32 */
		for (i = 0; i < nseen; i++)
			if (seen[i] == r)
				break;
		if (i == nseen && nseen < 8)
			seen[nseen++] = r;
	}
	distinct = nseen;
	assert_true(distinct >= 5);
	/* Never below 1, whatever the tunables; huge attempts do not
	 * overflow. */
	assert_true(forward_backoff(1, 0, 0, 1) >= 1);
	assert_true(forward_backoff(0, 1, 1, 3) == 1);
	r = forward_backoff(1000000, 1, 300, 42);
	assert_true(r >= 240 && r <= 300);
	r = forward_backoff(3, 1, 1, 42);
	assert_int_equal(r, 1);
}

/* ------------------------------------------------------------------ */
/* The receiver: tallysim central                                      */
/* ------------------------------------------------------------------ */

struct central_fx {
	char		*dir;
	pid_t		 pid;
	int		 port;
	uint8_t		 pk[32], sk[64];
	char		 url[128];
};

static const char *
bindir(void)
{
	const char	*b = getenv("B");

	return (b != NULL && *b != '\0' ? b : "build");
}

static int
have_tallysim(void)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/tallysim", bindir());
	return (access(path, X_OK) == 0);
}

/* Start `tallysim central --dir D --pubkey D/gw.pub'; wait for ready. */
static int
central_start(struct central_fx *fx)
{
	char	 bin[PATH_MAX], pub[PATH_MAX], log[PATH_MAX], buf[256];
	char	 path[PATH_MAX];
	size_t	 off = 0;
	ssize_t	 n;
	int	 p[2], fd, waited = 0;
	FILE	*fp;
	struct pollfd pfd;

	snprintf(bin, sizeof(bin), "%s/tallysim", bindir());
	snprintf(pub, sizeof(pub), "%s/gw.pub", fx->dir);
	snprintf(log, sizeof(log), "%s/central.log", fx->dir);
	if (pipe(p) == -1)
		return (-1);
	if ((fx->pid = fork()) == -1)
		return (-1);
	if (fx->pid == 0) {
		dup2(p[1], 1);
		if ((fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644)) != -1)
			dup2(fd, 2);
		close(p[0]);
		close(p[1]);
		execl(bin, "tallysim", "central", "--dir", fx->dir, "--pubkey",
		    pub, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	while (waited < 10000 && off < sizeof(buf) - 1) {
		if (poll(&pfd, 1, 100) == 1) {
			if ((n = read(p[0], buf + off, sizeof(buf) - 1 -
			    off)) <= 0)
				break;
			off += (size_t)n;
			buf[off] = '\0';
			if (strstr(buf, "ready\n") != NULL)
				break;
		}
		waited += 100;
	}
	close(p[0]);
	buf[off] = '\0';
	if (strstr(buf, "ready\n") == NULL)
		return (-1);
	snprintf(path, sizeof(path), "%s/central.port", fx->dir);
	if ((fp = fopen(path, "r")) == NULL)
		return (-1);
	if (fscanf(fp, "%d", &fx->port) != 1)
		fx->port = 0;
	fclose(fp);
	if (fx->port <= 0)
		return (-1);
	snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%d/v1/reports",
	    fx->port);
	return (0);
}

static int
central_setup(void **state)
{
	struct central_fx	*fx;

	if ((fx = calloc(1, sizeof(*fx))) == NULL)
		return (-1);
	*state = fx;
	if (!have_tallysim())
		return (0);
	fx->dir = tmpdir();
	keypair(fx->pk, fx->sk);
	write_keys(fx->dir, fx->pk, fx->sk);
	if (central_start(fx) == -1) {
		fprintf(stderr, "# tallysim central did not start; see %s\n",
		    fx->dir);
		return (-1);
	}
	return (0);
}

static int
central_teardown(void **state)
{
	struct central_fx	*fx = *state;
	int			 st, i;

	if (fx == NULL)
		return (0);
	if (fx->pid > 0) {
		kill(fx->pid, SIGTERM);
		for (i = 0; i < 50 && waitpid(fx->pid, &st, WNOHANG) == 0;
		    i++)
			usleep(100000);
		if (i == 50) {
			kill(fx->pid, SIGKILL);
			waitpid(fx->pid, &st, 0);
		}
	}
	if (fx->dir != NULL) {
		rmdir_all(fx->dir);
		free(fx->dir);
	}
	free(fx);
	return (0);
}

/* Send one control line; the answer in a malloc'd string. */
static char *
central_ctl(struct central_fx *fx, const char *line)
{
	char	 cmd[PATH_MAX * 2], *out = NULL;
	size_t	 len = 0, n;
	char	 buf[4096];
	FILE	*fp;

	snprintf(cmd, sizeof(cmd), "'%s/tallysim' central --dir '%s' --ctl "
	    "'%s' 2>&1", bindir(), fx->dir, line);
	if ((fp = popen(cmd, "r")) == NULL)
		return (NULL);
	while ((n = fread(buf, 1, sizeof(buf), fp)) > 0) {
		out = realloc(out, len + n + 1);
		assert_non_null(out);
		memcpy(out + len, buf, n);
		len += n;
		out[len] = '\0';
	}
	pclose(fp);
	if (out == NULL)
		out = strdup("");
	return (out);
}

/* The records the receiver holds, as a JSON array of the dump lines. */
static json_t *
central_dump(struct central_fx *fx)
{
	char	*s = central_ctl(fx, "dump --json"), *line, *save = NULL, *p;
	json_t	*a = json_array(), *o;

	assert_non_null(s);
	for (p = s; (line = strtok_r(p, "\n", &save)) != NULL; p = NULL) {
		o = json_loads(line, 0, NULL);
		if (o == NULL)
			fprintf(stderr, "# not JSON: %s\n", line);
		assert_non_null(o);
		json_array_append_new(a, o);
	}
	free(s);
	return (a);
}

/* The record with that idempotency key, and how many there are. */
static json_t *
dump_find(json_t *a, const char *key, int *count)
{
	json_t	*o, *found = NULL;
	size_t	 i;

	*count = 0;
	json_array_foreach(a, i, o) {
		if (strcmp(json_string_value(json_object_get(o,
		    "idempotency_key")), key) == 0) {
			found = o;
			(*count)++;
		}
	}
	return (found);
}

/* Run the loop until pred says done, or seconds pass. */
struct until {
	int		(*pred)(void *);
	void		*arg;
	time_t		 deadline;
	struct event_base *base;
};

static void
until_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct until	*u = arg;

	if (u->pred(u->arg) || time(NULL) >= u->deadline)
		event_base_loopbreak(u->base);
}

static int
run_until(struct event_base *base, int (*pred)(void *), void *arg,
    int seconds)
{
	struct until	 u = { pred, arg, time(NULL) + seconds, base };
	struct timeval	 tv = { 0, 20000 };
	struct event	*ev;

	ev = event_new(base, -1, EV_PERSIST, until_cb, &u);
	assert_non_null(ev);
	event_add(ev, &tv);
	if (!pred(arg))
		event_base_dispatch(base);
	event_free(ev);
	return (pred(arg));
}

/* ------------------------------------------------------------------ */
/* The HTTP engine                                                     */
/* ------------------------------------------------------------------ */

struct result {
	int64_t		 id;
	enum fwd_outcome outcome;
	int		 status;
	char		 text[256];
};

struct results {
	struct result	 r[16];
	int		 n;
	int		 want;
};

static void
record_cb(int64_t id, enum fwd_outcome outcome, int status,
    const char *text, void *arg)
{
	struct results	*rs = arg;

	assert_true(rs->n < 16);
	rs->r[rs->n].id = id;
	rs->r[rs->n].outcome = outcome;
	rs->r[rs->n].status = status;
	snprintf(rs->r[rs->n].text, sizeof(rs->r[rs->n].text), "%s",
	    text != NULL ? text : "");
	rs->n++;
}

static int
results_done(void *arg)
{
	struct results	*rs = arg;

	return (rs->n >= rs->want);
}

/* Post one body and wait for its outcome. */
static struct result *
post_one(struct event_base *base, struct fwd *f, struct results *rs,
    const char *url, int timeout, int64_t id, const char *key,
    const char *body, size_t len)
{
	assert_int_equal(forward_post(f, url, timeout, id, key, body, len), 0);
	rs->want = rs->n + 1;
	assert_true(run_until(base, results_done, rs, timeout + 5));
	assert_int_equal(rs->n, rs->want);
	assert_int_equal(rs->r[rs->n - 1].id, id);
	return (&rs->r[rs->n - 1]);
}

static void
test_engine_statuses(void **state)
{
	struct central_fx	*fx = *state;
	struct event_base	*base;
	struct fwd		*f, *other;
	struct results		 rs;
	struct result		*r;
	struct store_msg	 m;
	uint8_t			 pk2[32], sk2[64];
	char			 key[64], *body, *body2, url[160];
	size_t			 len, len2;
	json_t			*dump, *o;
	int			 count;

	if (!have_tallysim())
		skip();
	memset(&rs, 0, sizeof(rs));
	assert_non_null(base = event_base_new());
	assert_non_null(f = forward_new(base, "gw-test", fx->sk, record_cb,
	    &rs));
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "gw-test", &body, &len), 0);
	assert_int_equal(forward_idempotency_key(&m, key, sizeof(key)), 0);

	/* Stored, then already held. */
	assert_int_equal(forward_inflight(f, fx->url), 0);
	assert_int_equal(forward_post(f, fx->url, 5, 101, key, body, len), 0);
	assert_int_equal(forward_inflight(f, fx->url), 1);
	rs.want = 1;
	assert_true(run_until(base, results_done, &rs, 10));
	r = &rs.r[0];
	assert_int_equal(r->id, 101);
	assert_int_equal(r->status, 201);
	assert_int_equal(r->outcome, FWD_OUT_STORED);
	assert_int_equal(forward_inflight(f, fx->url), 0);
	r = post_one(base, f, &rs, fx->url, 5, 102, key, body, len);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->outcome, FWD_OUT_STORED);

	/* The same key with other values: a conflict, refused for good. */
	m.report.values[1] = 61;
	assert_int_equal(decode_canon(&m.report), 0);
	assert_int_equal(forward_body(&m, "gw-test", &body2, &len2), 0);
	r = post_one(base, f, &rs, fx->url, 5, 103, key, body2, len2);
	assert_int_equal(r->status, 409);
	assert_int_equal(r->outcome, FWD_OUT_REFUSED);
	assert_non_null(strstr(r->text, "other content"));
	/* Header key and body key differ: 422. */
	r = post_one(base, f, &rs, fx->url, 5, 104, "3201012001001-1-00000000",
	    body, len);
	assert_int_equal(r->status, 422);
	assert_int_equal(r->outcome, FWD_OUT_REFUSED);
	free(body2);

	/* Signed by a key the receiver does not hold: 401. */
	keypair(pk2, sk2);
	assert_non_null(other = forward_new(base, "gw-other", sk2, record_cb,
	    &rs));
	r = post_one(base, other, &rs, fx->url, 5, 105, key, body, len);
	assert_int_equal(r->status, 401);
	assert_int_equal(r->outcome, FWD_OUT_REFUSED);
	forward_free(other);
	/* Not JSON: 400. */
	r = post_one(base, f, &rs, fx->url, 5, 106, key, "{\"x\":", 5);
	assert_int_equal(r->status, 400);
	assert_int_equal(r->outcome, FWD_OUT_REFUSED);
	/* Another path: 404 is none of the refusals, so an outage. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/nothing",
	    fx->port);
	r = post_one(base, f, &rs, url, 5, 107, key, body, len);
	assert_int_equal(r->status, 404);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);

	/* Not started: no callback. */
	assert_int_equal(forward_post(f, "ftp://127.0.0.1/x", 5, 108, key, body,
	    len), -1);
	assert_int_equal(forward_post(f, "no url at all", 5, 108, key, body,
	    len), -1);
	assert_int_equal(forward_post(f, fx->url, 5, 108, "", body, len), -1);
	assert_int_equal(forward_inflight(f, fx->url), 0);

	/* Held once, signed, the duplicate counted. */
	dump = central_dump(fx);
	o = dump_find(dump, key, &count);
	assert_int_equal(count, 1);
	assert_non_null(o);
	assert_true(json_is_true(json_object_get(o, "signature_ok")));
	assert_int_equal(json_integer_value(json_object_get(o,
	    "duplicates")), 1);
	assert_string_equal(json_string_value(json_object_get(o,
	    "canonical")), "PPWP 3201012001001 1 200 60 70 50 180 20");
	assert_string_equal(json_string_value(json_object_get(o, "gateway")),
	    "gw-test");
	assert_int_equal(json_array_size(dump), 1);
	json_decref(dump);

	/* Nothing arrives after the last wait. */
	count = rs.n;
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(rs.n, count);
	forward_free(f);
	free(body);
	event_base_free(base);
}

/* A port nothing listens on, and one that listens but never answers. */
static int
closed_port(void)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 s, port;

	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	port = ntohs(sin.sin_port);
	close(s);
	return (port);
}

static int
silent_listener(int *port)
{
	struct sockaddr_in	 sin;
	socklen_t		 sl = sizeof(sin);
	int			 s;

	s = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(s >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s, 8), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return (s);
}

static void
test_engine_outage(void **state)
{
	struct event_base	*base;
	struct fwd		*f;
	struct results		 rs;
	struct result		*r;
	struct store_msg	 m;
	uint8_t			 pk[32], sk[64];
	char			 key[64], *body, url[128];
	size_t			 len;
	time_t			 t0;
	int			 s, port, before;

	(void)state;
	memset(&rs, 0, sizeof(rs));
	keypair(pk, sk);
	assert_non_null(base = event_base_new());
	assert_non_null(f = forward_new(base, "gw-test", sk, record_cb, &rs));
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "gw-test", &body, &len), 0);
	assert_int_equal(forward_idempotency_key(&m, key, sizeof(key)), 0);

	/* Connection refused: an outage, said so. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/reports",
	    closed_port());
	r = post_one(base, f, &rs, url, 5, 1, key, body, len);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->text, "refused"));
	/* Again on the same central: the connection is made anew. */
	r = post_one(base, f, &rs, url, 5, 2, key, body, len);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_non_null(strstr(r->text, "refused"));
	/* The same for https: the socket's reason, not TLS's "reason(5)". */
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/reports",
	    closed_port());
	r = post_one(base, f, &rs, url, 5, 2, key, body, len);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_non_null(strstr(r->text, "refused"));
	assert_null(strstr(r->text, "TLS"));

	/* Accepted by the kernel, never answered: a timeout. */
	s = silent_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/reports", port);
	t0 = time(NULL);
	r = post_one(base, f, &rs, url, 1, 3, key, body, len);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->text, "within 1 s"));
	assert_true(time(NULL) - t0 <= 4);
	close(s);

	/* https:// to a server that never starts the handshake. */
	s = silent_listener(&port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/v1/reports", port);
	r = post_one(base, f, &rs, url, 1, 4, key, body, len);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_int_equal(r->status, 0);
	close(s);

	/* Requests in flight when freed: dropped without a callback. */
	s = silent_listener(&port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/reports", port);
	assert_int_equal(forward_post(f, url, 5, 5, key, body, len), 0);
	assert_int_equal(forward_post(f, url, 5, 6, key, body, len), 0);
	assert_int_equal(forward_inflight(f, url), 2);
	before = rs.n;
	event_base_loop(base, EVLOOP_NONBLOCK);
	forward_free(f);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(rs.n, before);
	close(s);
	free(body);
	event_base_free(base);
}

/* ------------------------------------------------------------------ */
/* https: a local TLS server with a self-signed certificate            */
/* ------------------------------------------------------------------ */

struct tls_fx {
	SSL_CTX		*ctx;
	struct evhttp	*http;
	int		 port;
	uint8_t		 pk[32];
	int		 requests;
	int		 sig_ok;
	char		 host[128];
	char		 key[128];
	char		 gateway[128];
	char		 ctype[128];
};

/* A self-signed certificate for the IP address ip, as PEM in path. */
static void
tls_cert(const char *ip, const char *path, X509 **xp, EVP_PKEY **kp)
{
	EVP_PKEY	*k;
	X509		*x;
	X509_NAME	*name;
	X509_EXTENSION	*ext;
	X509V3_CTX	 v3;
	char		 san[64];
	FILE		*fp;

	assert_non_null(k = EVP_EC_gen("P-256"));
	assert_non_null(x = X509_new());
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, k);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)"tallygw test central", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	snprintf(san, sizeof(san), "IP:%s", ip);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_subject_alt_name, san));
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_non_null(ext = X509V3_EXT_conf_nid(NULL, &v3,
	    NID_basic_constraints, "critical,CA:TRUE"));
	X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	assert_non_null(fp = fopen(path, "w"));
	PEM_write_X509(fp, x);
	fclose(fp);
	*xp = x;
	*kp = k;
}

static struct bufferevent *
tls_bevcb(struct event_base *base, void *arg)
{
	struct tls_fx	*t = arg;

	return (bufferevent_openssl_socket_new(base, -1, SSL_new(t->ctx),
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE));
}

static void
tls_copy(char *dst, size_t len, const char *v)
{
	snprintf(dst, len, "%s", v != NULL ? v : "(none)");
}

/* Answer 201 after checking the signature over the body's bytes. */
static void
tls_handler(struct evhttp_request *req, void *arg)
{
	struct tls_fx	*t = arg;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	struct evbuffer	*in = evhttp_request_get_input_buffer(req), *out;
	const char	*sig = evhttp_find_header(h, "X-Tally-Signature");
	uint8_t		 raw[64];
	size_t		 n, len = evbuffer_get_length(in);

	t->requests++;
	tls_copy(t->host, sizeof(t->host), evhttp_find_header(h, "Host"));
	tls_copy(t->key, sizeof(t->key), evhttp_find_header(h,
	    "Idempotency-Key"));
	tls_copy(t->gateway, sizeof(t->gateway), evhttp_find_header(h,
	    "X-Tally-Gateway"));
	tls_copy(t->ctype, sizeof(t->ctype), evhttp_find_header(h,
	    "Content-Type"));
	t->sig_ok = sig != NULL && strncmp(sig, "ed25519=", 8) == 0 &&
	    sodium_base642bin(raw, sizeof(raw), sig + 8, strlen(sig + 8),
	    NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) == 0 && n == 64 &&
	    crypto_sign_verify_detached(raw, evbuffer_pullup(in, -1), len,
	    t->pk) == 0;
	out = evbuffer_new();
	evbuffer_add_printf(out, "{\"status\":\"stored\"}\n");
	evhttp_send_reply(req, t->sig_ok ? 201 : 401, t->sig_ok ? "Created" :
	    "Unauthorized", out);
	evbuffer_free(out);
}

/* An HTTPS server on a free loopback port, presenting x. */
static void
tls_server(struct tls_fx *t, struct event_base *base, X509 *x, EVP_PKEY *k)
{
	struct evhttp_bound_socket	*bs;
	struct sockaddr_in		 sin;
	socklen_t			 sl = sizeof(sin);

	assert_non_null(t->ctx = SSL_CTX_new(TLS_server_method()));
	assert_int_equal(SSL_CTX_use_certificate(t->ctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(t->ctx, k), 1);
	assert_non_null(t->http = evhttp_new(base));
	evhttp_set_bevcb(t->http, tls_bevcb, t);
	evhttp_set_gencb(t->http, tls_handler, t);
	assert_non_null(bs = evhttp_bind_socket_with_handle(t->http,
	    "127.0.0.1", 0));
	assert_int_equal(getsockname(evhttp_bound_socket_get_fd(bs),
	    (struct sockaddr *)&sin, &sl), 0);
	t->port = ntohs(sin.sin_port);
}

/*
 * What both HTTPS tests stand on: two self-signed certificates (pem for
 * 127.0.0.1, which the server presents first; pem2 for 127.0.0.2), the
 * server, a body to post and its key.
 */
struct tls_world {
	struct tls_fx		 t;
	struct event_base	*base;
	struct results		 rs;
	uint8_t			 sk[64];
	X509			*x, *x2;
	EVP_PKEY		*k, *k2;
	char			*dir;
	char			 pem[PATH_MAX], pem2[PATH_MAX], url[128];
	char			 key[64], *body;
	size_t			 len;
	char			*old;		/* SSL_CERT_FILE before */
};

static void
tls_world_init(struct tls_world *w)
{
	struct store_msg	 m;

	memset(w, 0, sizeof(*w));
	w->dir = tmpdir();
	keypair(w->t.pk, w->sk);
	snprintf(w->pem, sizeof(w->pem), "%s/central.pem", w->dir);
	snprintf(w->pem2, sizeof(w->pem2), "%s/other.pem", w->dir);
	tls_cert("127.0.0.1", w->pem, &w->x, &w->k);
	tls_cert("127.0.0.2", w->pem2, &w->x2, &w->k2);
	assert_non_null(w->base = event_base_new());
	tls_server(&w->t, w->base, w->x, w->k);
	snprintf(w->url, sizeof(w->url), "https://127.0.0.1:%d/v1/reports",
	    w->t.port);
	msg_ppwp(&m, 1, RECEIPT);
	assert_int_equal(forward_body(&m, "gw-tls", &w->body, &w->len), 0);
	assert_int_equal(forward_idempotency_key(&m, w->key, sizeof(w->key)),
	    0);
	w->old = getenv("SSL_CERT_FILE") != NULL ?
	    strdup(getenv("SSL_CERT_FILE")) : NULL;
}

/* The server presents pem2's certificate from now on. */
static void
tls_world_other(struct tls_world *w)
{
	SSL_CTX_use_certificate(w->t.ctx, w->x2);
	SSL_CTX_use_PrivateKey(w->t.ctx, w->k2);
}

/* A forwarder posting the body once: the outcome. */
static struct result *
tls_world_post(struct tls_world *w, const char *ca_file, int64_t id)
{
	struct fwd	*f;
	struct result	*r;
	char		 err[512];

	assert_non_null(f = forward_new(w->base, "gw-tls", w->sk, record_cb,
	    &w->rs));
	if (ca_file != NULL)
		assert_int_equal(forward_set_ca(f, w->url, ca_file, err,
		    sizeof(err)), 0);
	r = post_one(w->base, f, &w->rs, w->url, 5, id, w->key, w->body,
	    w->len);
	forward_free(f);
	return (r);
}

static void
tls_world_free(struct tls_world *w)
{
	if (w->old != NULL) {
		setenv("SSL_CERT_FILE", w->old, 1);
		free(w->old);
	} else
		unsetenv("SSL_CERT_FILE");
	evhttp_free(w->t.http);
	SSL_CTX_free(w->t.ctx);
	X509_free(w->x);
	X509_free(w->x2);
	EVP_PKEY_free(w->k);
	EVP_PKEY_free(w->k2);
	free(w->body);
	event_base_free(w->base);
	rmdir_all(w->dir);
	free(w->dir);
}

static void
test_engine_https(void **state)
{
	struct tls_world	 w;
	struct fwd		*f;
	struct result		*r;
	char			 host[64];

	(void)state;
	tls_world_init(&w);

	/* Not signed by a CA we trust: refused at the handshake. */
	setenv("SSL_CERT_FILE", w.pem2, 1);
	r = tls_world_post(&w, NULL, 1);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_int_equal(r->status, 0);
	assert_non_null(strstr(r->text, "TLS"));
	assert_non_null(strstr(r->text, "certificate verify failed"));
	assert_int_equal(w.t.requests, 0);

	/* Trusted, and for this address: the request goes through, with
	 * every header. */
	setenv("SSL_CERT_FILE", w.pem, 1);
	assert_non_null(f = forward_new(w.base, "gw-tls", w.sk, record_cb,
	    &w.rs));
	r = post_one(w.base, f, &w.rs, w.url, 5, 2, w.key, w.body, w.len);
	assert_int_equal(r->status, 201);
	assert_int_equal(r->outcome, FWD_OUT_STORED);
	assert_int_equal(w.t.requests, 1);
	assert_true(w.t.sig_ok);
	snprintf(host, sizeof(host), "127.0.0.1:%d", w.t.port);
	assert_string_equal(w.t.host, host);
	assert_string_equal(w.t.key, w.key);
	assert_string_equal(w.t.gateway, "gw-tls");
	assert_string_equal(w.t.ctype, "application/json");
	/* The connection is kept and used again. */
	r = post_one(w.base, f, &w.rs, w.url, 5, 3, w.key, w.body, w.len);
	assert_int_equal(r->status, 201);
	assert_int_equal(w.t.requests, 2);
	forward_free(f);

	/* Trusted, but issued for another address: refused. */
	setenv("SSL_CERT_FILE", w.pem2, 1);
	tls_world_other(&w);
	r = tls_world_post(&w, NULL, 4);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_non_null(strstr(r->text, "TLS"));
	assert_non_null(strstr(r->text, "certificate verify failed"));
	assert_int_equal(w.t.requests, 2);
	tls_world_free(&w);
}

/*
 * A central's ca_file: only what it holds is trusted (not the system's
 * CAs), a certificate in it pins the central, the name is still
 * checked, and a file that cannot be used is refused before any
 * request.
 */
static void
test_engine_https_ca(void **state)
{
	struct tls_world	 w;
	struct fwd		*f;
	struct result		*r;
	FILE			*fp;
	char			 junk[PATH_MAX], none[PATH_MAX], err[512];

	(void)state;
	tls_world_init(&w);
	snprintf(junk, sizeof(junk), "%s/junk.pem", w.dir);
	snprintf(none, sizeof(none), "%s/none.pem", w.dir);
	assert_non_null(fp = fopen(junk, "w"));
	fputs("not a certificate\n", fp);
	fclose(fp);

	/* Files that cannot be used, and two CAs for one endpoint. */
	assert_non_null(f = forward_new(w.base, "gw-tls", w.sk, record_cb,
	    &w.rs));
	assert_int_equal(forward_set_ca(f, w.url, none, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "No such file or directory"));
	assert_int_equal(forward_set_ca(f, w.url, junk, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "no PEM certificate"));
	assert_int_equal(forward_set_ca(f, "http://127.0.0.1:1/x", w.pem, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "is not https"));
	assert_int_equal(forward_set_ca(f, w.url, w.pem, err, sizeof(err)), 0);
	assert_int_equal(forward_set_ca(f, w.url, w.pem, err, sizeof(err)), 0);
	assert_int_equal(forward_set_ca(f, w.url, w.pem2, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "same host and port"));
	forward_free(f);

	/* The system trusts the central, its ca_file does not: refused,
	 * and the log says it is the issuer. */
	setenv("SSL_CERT_FILE", w.pem, 1);
	r = tls_world_post(&w, w.pem2, 1);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_non_null(strstr(r->text, "certificate verify failed"));
	assert_non_null(strstr(r->text, "signed certificate)"));
	assert_int_equal(w.t.requests, 0);

	/* Its own certificate in ca_file, which the system does not trust:
	 * pinned, it goes through. */
	setenv("SSL_CERT_FILE", w.pem2, 1);
	r = tls_world_post(&w, w.pem, 2);
	assert_int_equal(r->status, 201);
	assert_int_equal(w.t.requests, 1);

	/* Trusted, but issued for another address: the name is checked. */
	tls_world_other(&w);
	r = tls_world_post(&w, w.pem2, 3);
	assert_int_equal(r->outcome, FWD_OUT_OUTAGE);
	assert_non_null(strstr(r->text, "(IP address mismatch)"));
	assert_int_equal(w.t.requests, 1);
	tls_world_free(&w);
}

/* ------------------------------------------------------------------ */
/* The scheduler, end to end                                           */
/* ------------------------------------------------------------------ */

struct sched {
	struct store		*store;
	long			 want_acked;
	long			 want_failed;
};

static int
sched_settled(void *arg)
{
	struct sched		*s = arg;
	struct store_counts	 c;

	if (store_counts(s->store, &c) == -1)
		return (0);
	return (c.fwd_acked >= s->want_acked &&
	    c.fwd_failed >= s->want_failed && c.fwd_pending == 0 &&
	    c.fwd_sending == 0 && c.forward_retry == 0);
}

/* Add an accepted message and its forward rows, in one transaction. */
static int64_t
sched_add2(struct store *st, struct store_msg *m, const char *c2)
{
	assert_int_equal(store_begin(st), 0);
	assert_int_equal(store_msg_add(st, m), 0);
	assert_true(m->id > 0);
	assert_int_equal(store_fwd_add(st, m->id, "central1"), 0);
	if (c2 != NULL)
		assert_int_equal(store_fwd_add(st, m->id, c2), 0);
	assert_int_equal(store_commit(st), 0);
	return (m->id);
}

static int64_t
sched_add(struct store *st, struct store_msg *m)
{
	return (sched_add2(st, m, NULL));
}

/* While the central is down: the most requests in flight at once. */
struct downwatch {
	struct fwd_queue	*q;
	int			 max_inflight;
	int			 seen_down;
	int			 probes_seen;
};

static int
downwatch_cb(void *arg)
{
	struct downwatch		*w = arg;
	struct fwd_central_stats	 cs;
	size_t				 n;

	/* Requests sent before it was seen down may still end; after
	 * that, only probes. */
	if (forward_queue_stats(w->q, &cs, 1, &n) == 0 && n == 1 && !cs.up) {
		if (cs.inflight == 0)
			w->seen_down = 1;
		if (w->seen_down && cs.inflight > w->max_inflight)
			w->max_inflight = cs.inflight;
		if (w->seen_down && cs.inflight == 1)
			w->probes_seen = 1;
	}
	return (0);	/* watch until the time is up */
}

struct counts_want {
	struct store	*store;
	long		 acked;
	long		 sending;	/* at least */
	long		 retry;		/* at least */
};

static int
counts_reached(void *arg)
{
	struct counts_want	*w = arg;
	struct store_counts	 c;

	if (store_counts(w->store, &c) == -1)
		return (0);
	return (c.fwd_acked >= w->acked && c.fwd_sending >= w->sending &&
	    c.forward_retry >= w->retry);
}

static void
conf_init(struct gw_conf *conf, struct conf_central *cc, const char *url)
{
	memset(conf, 0, sizeof(*conf));
	TAILQ_INIT(&conf->modems);
	TAILQ_INIT(&conf->centrals);
	snprintf(conf->name, sizeof(conf->name), "gw-sched");
	conf->t.forward_min = 1;
	conf->t.forward_max = 2;
	conf->t.forward_timeout = 5;
	conf->t.forward_parallel = 4;
	memset(cc, 0, sizeof(*cc));
	snprintf(cc->name, sizeof(cc->name), "central1");
	snprintf(cc->url, sizeof(cc->url), "%s", url);
	cc->timeout = 5;
	TAILQ_INSERT_TAIL(&conf->centrals, cc, entry);
}

static void
test_scheduler(void **state)
{
	struct central_fx	*fx = *state;
	struct event_base	*base;
	struct fwd_queue	*q;
	struct store		*st;
	struct store_counts	 c;
	struct store_msg	 m[10];
	struct gw_conf		 conf;
	struct conf_central	 cc;
	struct conf_central	 cc2;
	struct fwd_central_stats cs[2];
	struct store_fwd	 rows[16];
	struct sched		 s;
	struct downwatch	 w;
	struct counts_want	 cw;
	char			 path[PATH_MAX], err[256], key[64], *out;
	char			 url2[128];
	json_t			*dump, *o;
	size_t			 n;
	int			 i, count, silent, port;

	if (!have_tallysim())
		skip();
	snprintf(path, sizeof(path), "%s/gw.db", fx->dir);
	st = store_open(path, err, sizeof(err));
	if (st == NULL)
		fprintf(stderr, "# store_open: %s\n", err);
	assert_non_null(st);
	assert_non_null(base = event_base_new());
	conf_init(&conf, &cc, fx->url);

	/* Three accepted reports (one of each verdict and auth). */
	for (i = 0; i < 3; i++) {
		char	 r[16];

		snprintf(r, sizeof(r), "%08d", 10000000 + i);
		msg_ppwp(&m[i], (unsigned)i + 1, r);
		if (i == 1) {
			m[i].verdict = VERDICT_FLAGGED;
			m[i].flags = FLAG_SUM;
			m[i].auth = AUTH_CARD;
		}
		sched_add(st, &m[i]);
	}
	assert_non_null(q = forward_queue_new(base, st, &conf, fx->sk));
	forward_queue_kick(q);
	s.store = st;
	s.want_acked = 3;
	s.want_failed = 0;
	assert_true(run_until(base, sched_settled, &s, 20));
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 3);
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(cs[0].name, "central1");
	assert_true(cs[0].up);
	assert_int_equal(cs[0].inflight, 0);
	assert_int_equal(cs[0].failures, 0);
	assert_int_equal(cs[0].acked, 3);

	dump = central_dump(fx);
	assert_int_equal(json_array_size(dump), 3);
	for (i = 0; i < 3; i++) {
		assert_int_equal(forward_idempotency_key(&m[i], key,
		    sizeof(key)),
		    0);
		o = dump_find(dump, key, &count);
		assert_int_equal(count, 1);
		assert_true(json_is_true(json_object_get(o, "signature_ok")));
		assert_int_equal(json_integer_value(json_object_get(o,
		    "duplicates")), 0);
		assert_string_equal(json_string_value(json_object_get(o,
		    "canonical")), m[i].report.canon);
		assert_string_equal(json_string_value(json_object_get(o,
		    "gateway")), "gw-sched");
	}
	o = dump_find(dump, "3201012001001-2-10000001", &count);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "verdict")),
	    "FLAGGED");
	assert_string_equal(json_string_value(json_object_get(o, "auth")),
	    "card");
	json_decref(dump);

	/* The same report again (another message, other metadata): 200,
	 * acked. The same key with other values: 409, failed. */
	msg_ppwp(&m[3], 1, "10000000");
	snprintf(m[3].sender, sizeof(m[3].sender), "+6281200000003");
	sched_add(st, &m[3]);
	msg_ppwp(&m[4], 2, "10000001");
	m[4].report.values[0] = 201;
	assert_int_equal(decode_canon(&m[4].report), 0);
	sched_add(st, &m[4]);
	forward_queue_kick(q);
	s.want_acked = 4;
	s.want_failed = 1;
	assert_true(run_until(base, sched_settled, &s, 20));
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 4);
	assert_int_equal(c.fwd_failed, 1);
	dump = central_dump(fx);
	assert_int_equal(json_array_size(dump), 3);
	o = dump_find(dump, "3201012001001-1-10000000", &count);
	assert_int_equal(count, 1);
	assert_int_equal(json_integer_value(json_object_get(o,
	    "duplicates")), 1);
	/* The first copy stays the record. */
	assert_string_equal(json_string_value(json_object_get(o, "sender")),
	    "+6281234567890");
	o = dump_find(dump, "3201012001001-2-10000001", &count);
	assert_int_equal(count, 1);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(o,
	    "values"), 0)), 200);
	json_decref(dump);
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_int_equal(cs[0].refused, 1);
	assert_int_equal(cs[0].last_status, 409);

	/* The central goes down: rows wait, none lost, none failed. */
	out = central_ctl(fx, "down");
	assert_non_null(strstr(out, "ok down"));
	free(out);
	for (i = 5; i < 10; i++) {
		char	 r[16];

		snprintf(r, sizeof(r), "%08d", 20000000 + i);
		msg_ppwp(&m[i], (unsigned)i + 10, r);
		sched_add(st, &m[i]);
	}
	forward_queue_kick(q);
	memset(&w, 0, sizeof(w));
	w.q = q;
	run_until(base, downwatch_cb, &w, 5);
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 4);
	assert_int_equal(c.fwd_failed, 1);
	assert_true(c.forward_retry >= 1);
	assert_int_equal(c.fwd_pending + c.forward_retry + c.fwd_sending, 5);
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_false(cs[0].up);
	assert_true(cs[0].failures >= 2);	/* probed again */
	assert_true(w.seen_down);
	assert_true(w.max_inflight <= 1);	/* one probe at a time */
	assert_true(cs[0].outages >= 2);
	assert_non_null(strstr(cs[0].last_error, "connect"));

	/*
	 * Make every waiting row wait an hour, as after a long outage
	 * (one stays due, unless a probe is in flight): when the central
	 * answers again they must all go at once, not in an hour.
	 */
	assert_int_equal(store_fwd_due(st, "central1", time(NULL) + 86400,
	    rows, 16, &n), 0);
	assert_true(n >= 4);
	for (i = 0; i < (int)n; i++)
		assert_int_equal(store_fwd_set(st, rows[i].id, rows[i].state,
		    rows[i].attempts, (i == 0 && cs[0].inflight == 0) ?
		    time(NULL) : time(NULL) + 3600, rows[i].http_status,
		    rows[i].error), 0);

	/* Back up: everything drains, each held once, signed. */
	out = central_ctl(fx, "up");
	assert_non_null(strstr(out, "ok up"));
	free(out);
	s.want_acked = 9;
	s.want_failed = 1;
	assert_true(run_until(base, sched_settled, &s, 15));
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 9);
	assert_int_equal(c.fwd_failed, 1);
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_true(cs[0].up);
	assert_int_equal(cs[0].failures, 0);
	dump = central_dump(fx);
	assert_int_equal(json_array_size(dump), 8);
	for (i = 5; i < 10; i++) {
		assert_int_equal(forward_idempotency_key(&m[i], key,
		    sizeof(key)),
		    0);
		o = dump_find(dump, key, &count);
		assert_int_equal(count, 1);
		assert_true(json_is_true(json_object_get(o, "signature_ok")));
	}
	json_decref(dump);
	forward_queue_free(q);

	/*
	 * Two centrals, each row on its own: central2 refuses connections,
	 * central1 acks. Then a stop with a request in flight (central1
	 * never answers): the next start sends it again.
	 */
	snprintf(url2, sizeof(url2), "http://127.0.0.1:%d/v1/reports",
	    silent_listener(&silent));
	close(silent);		/* now nothing listens there */
	conf_init(&conf, &cc, fx->url);
	memset(&cc2, 0, sizeof(cc2));
	snprintf(cc2.name, sizeof(cc2.name), "central2");
	snprintf(cc2.url, sizeof(cc2.url), "%s", url2);
	TAILQ_INSERT_TAIL(&conf.centrals, &cc2, entry);
	assert_non_null(q = forward_queue_new(base, st, &conf, fx->sk));
	msg_ppwp(&m[0], 30, "30000000");
	sched_add2(st, &m[0], "central2");
	msg_ppwp(&m[1], 31, "30000001");
	sched_add2(st, &m[1], "central2");
	forward_queue_kick(q);
	cw.store = st;
	cw.acked = 11;
	cw.sending = 0;
	cw.retry = 2;
	assert_true(run_until(base, counts_reached, &cw, 10));
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_int_equal(n, 2);
	assert_true(cs[0].up);
	assert_string_equal(cs[1].name, "central2");
	assert_false(cs[1].up);
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 11);
	assert_int_equal(c.fwd_failed, 1);
	assert_int_equal(c.fwd_pending + c.forward_retry + c.fwd_sending, 2);
	forward_queue_free(q);

	/*
	 * A central that accepts connections and never answers: each
	 * request times out (1 s). After the requests already started,
	 * it is probed with one request at a time, never more.
	 */
	silent = silent_listener(&port);
	conf_init(&conf, &cc, "");
	snprintf(cc.url, sizeof(cc.url), "http://127.0.0.1:%d/v1/reports",
	    port);
	cc.timeout = 1;
	conf.t.forward_parallel = 2;
	assert_non_null(q = forward_queue_new(base, st, &conf, fx->sk));
	for (i = 2; i < 7; i++) {
		char	 r[16];

		snprintf(r, sizeof(r), "%08d", 30000000 + i);
		msg_ppwp(&m[i], (unsigned)i + 30, r);
		sched_add(st, &m[i]);
	}
	forward_queue_kick(q);
	memset(&w, 0, sizeof(w));
	w.q = q;
	run_until(base, downwatch_cb, &w, 6);
	assert_true(w.seen_down);
	assert_true(w.probes_seen);
	assert_int_equal(w.max_inflight, 1);
	assert_int_equal(forward_queue_stats(q, cs, 2, &n), 0);
	assert_non_null(strstr(cs[0].last_error, "no answer within 1 s"));

	/* Stop with a probe in flight: the next start sends it again. */
	cw.acked = 11;
	cw.sending = 1;
	cw.retry = 0;
	assert_true(run_until(base, counts_reached, &cw, 5));
	forward_queue_free(q);
	close(silent);
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_sending, 1);
	conf_init(&conf, &cc, fx->url);
	assert_non_null(q = forward_queue_new(base, st, &conf, fx->sk));
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_sending, 0);	/* requeued */
	cw.acked = 16;
	cw.sending = 0;
	assert_true(run_until(base, counts_reached, &cw, 10));
	assert_int_equal(store_counts(st, &c), 0);
	assert_int_equal(c.fwd_acked, 16);
	assert_int_equal(c.fwd_failed, 1);
	dump = central_dump(fx);
	assert_int_equal(json_array_size(dump), 15);
	for (i = 2; i < 7; i++) {
		assert_int_equal(forward_idempotency_key(&m[i], key,
		    sizeof(key)),
		    0);
		o = dump_find(dump, key, &count);
		assert_int_equal(count, 1);
		assert_true(json_is_true(json_object_get(o, "signature_ok")));
	}
	json_decref(dump);
	forward_queue_free(q);

	store_close(st);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_body_fields),
		cmocka_unit_test(test_body_paged),
		cmocka_unit_test(test_body_deterministic),
		cmocka_unit_test(test_body_refused),
		cmocka_unit_test(test_body_utf8),
		cmocka_unit_test(test_idempotency_key),
		cmocka_unit_test(test_sign),
		cmocka_unit_test(test_load_key),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_engine_outage),
		cmocka_unit_test(test_engine_https),
		cmocka_unit_test(test_engine_https_ca),
		cmocka_unit_test_setup_teardown(test_engine_statuses,
		    central_setup, central_teardown),
		cmocka_unit_test_setup_teardown(test_scheduler,
		    central_setup, central_teardown),
	};

	log_init("test_forward", LOG_TO_STDERR, getenv("V") != NULL ? 2 : 0);
	signal(SIGPIPE, SIG_IGN);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
