/*
 * forward: accepted reports, signed, to the central systems
 * (docs/forward.md).
 *
 * Three layers. Pure functions build the JSON body, the idempotency key,
 * the signature and the retry delays. An HTTP engine posts bodies on the
 * caller's libevent loop, one kept-alive connection per central, and
 * reports each request's end exactly once. The scheduler (fwd_queue_*)
 * takes the store's forward rows through their state machine
 * (pending -> sending -> acked | retry_wait | failed): one request at a
 * time to a central that is failing, the whole backlog at full
 * parallelism as soon as it answers again.
 */

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/dns.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <jansson.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sodium.h>

#include "gw.h"
#include "log.h"

#define FWD_SIG_PREFIX		"ed25519="
#define FWD_KEY_PREFIX		"ed25519-secret "
#define FWD_SK_LEN		64	/* crypto_sign_SECRETKEYBYTES */
#define FWD_BODY_MAX		(64 * 1024)	/* docs/forward.md */
#define FWD_ANSWER_MAX		(64 * 1024)	/* answer body we read */
#define FWD_HEADERS_MAX		(16 * 1024)
#define FWD_KEY_FILE_MAX	512
#define FWD_HOST_MAX		256
#define FWD_TEXT_MAX		GW_DETAIL_MAX
#define FWD_JITTER_PCT		20	/* backoff: +-20% */
#define FWD_DRAIN_HORIZON	(10 * 365 * 86400)	/* "every row" */
#define FWD_USER_AGENT		"tallygw"
#define FWD_DUE_BATCH		128	/* due rows read at a time */

/* ------------------------------------------------------------------ */
/* Pure parts                                                          */
/* ------------------------------------------------------------------ */

/* 1 when s is exactly n decimal digits. */
static int
forward_digits(const char *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return (0);
	return (s[n] == '\0');
}

/*
 * Copy s, replacing each byte that is not part of a valid UTF-8
 * sequence by '?': JSON must be UTF-8, and a stored message is never
 * left unforwardable because of one bad byte.
 */
static void
fwd_utf8_clean(const char *s, char *out, size_t outlen)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 o = 0, n, i;
	uint32_t		 cp;

	while (*p != '\0' && o + 1 < outlen) {
		if (*p < 0x80) {
			out[o++] = (char)*p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0) {
			n = 1;
			cp = *p & 0x1f;
		} else if ((*p & 0xf0) == 0xe0) {
			n = 2;
			cp = *p & 0x0f;
		} else if ((*p & 0xf8) == 0xf0) {
			n = 3;
			cp = *p & 0x07;
		} else
			goto bad;
		for (i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				goto bad;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) ||
		    (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			goto bad;
		if (o + n + 1 >= outlen)
			break;
		memcpy(out + o, p, n + 1);
		o += n + 1;
		p += n + 1;
		continue;
 bad:
		out[o++] = '?';
		p++;
	}
	out[o] = '\0';
}

int
forward_idempotency_key(const struct store_msg *m, char *buf, size_t len)
{
	int	 n;

	if (len > 0)
		buf[0] = '\0';
	if (!m->decoded || m->report.seq < 1 ||
	    m->report.seq > TALLY_SEQ_MAX ||
	    !forward_digits(m->receipt, TALLY_CODE_LEN))
		return (-1);
	n = snprintf(buf, len, "%013" PRIu64 "-%u-%s", m->report.tps,
	    m->report.seq, m->receipt);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (0);
}

/* Why a stored message cannot be forwarded; NULL when it can. */
static const char *
forward_body_refusal(const struct store_msg *m, const char *gateway)
{
	if (m->kind != MSG_REPORT || !m->decoded)
		return ("not a decoded report");
	if (m->verdict != VERDICT_OK && m->verdict != VERDICT_FLAGGED)
		return ("verdict is not OK or FLAGGED");
	if (m->auth != AUTH_MAC && m->auth != AUTH_CARD)
		return ("no code checked (auth is neither mac nor card)");
	if (decode_contest_name(m->report.contest) == NULL ||
	    m->report.contest == CONTEST_NONE)
		return ("no contest");
	if (m->report.tps > UINT64_C(9999999999999))
		return ("TPS over 13 digits");
	if (m->report.page < -1 || m->report.page > 999)
		return ("page out of range");
	if (m->report.nvalues < 1 || m->report.nvalues > TALLY_MAXVALUES)
		return ("no values");
	if (m->report.canon[0] == '\0')
		return ("no canonical text");
	if (!forward_digits(m->receipt, TALLY_CODE_LEN))
		return ("no receipt");
	if (gateway == NULL || gateway[0] == '\0')
		return ("no gateway name");
	if (m->raw[0] == '\0' || m->sender[0] == '\0' ||
	    m->modem_number[0] == '\0')
		return ("raw text, sender or modem number empty");
	if (m->received_at[0] == '\0' || m->verified_at[0] == '\0')
		return ("received_at or verified_at empty");
	return (NULL);
}

/* Add one member; a NULL value (allocation failed) fails the body. */
static int
forward_set(json_t *o, const char *name, json_t *v)
{
	if (v == NULL)
		return (-1);
	return (json_object_set_new(o, name, v));
}

/* The flags as an array of names, from verify.c's table. */
static json_t *
forward_flags_json(unsigned flags)
{
	json_t	*a;
	char	 text[128], *p, *tok, *save = NULL;

	if ((a = json_array()) == NULL)
		return (NULL);
	if (verify_flags_text(flags & FLAG_ALL, text, sizeof(text)) == -1) {
		json_decref(a);
		return (NULL);
	}
	for (p = text; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL)
		if (json_array_append_new(a, json_string(tok)) == -1) {
			json_decref(a);
			return (NULL);
		}
	return (a);
}

/*
 * The JSON body of docs/forward.md, members in the table's order,
 * compact: the same message always gives the same bytes.
 */
int
forward_body(const struct store_msg *m, const char *gateway, char **body,
    size_t *len)
{
	json_t		*o, *vals;
	const char	*why;
	char		 key[64], tps[16], *raw = NULL;
	size_t		 i;
	int		 rc = -1;

	*body = NULL;
	*len = 0;
	if ((why = forward_body_refusal(m, gateway)) != NULL) {
		log_warnx("forward: msg %" PRId64 ": cannot forward: %s",
		    m->id, why);
		return (-1);
	}
	if (forward_idempotency_key(m, key, sizeof(key)) == -1)
		return (-1);
	snprintf(tps, sizeof(tps), "%013" PRIu64, m->report.tps);
	if ((o = json_object()) == NULL)
		return (-1);
	if ((raw = malloc(strlen(m->raw) + 1)) == NULL)
		goto done;
	fwd_utf8_clean(m->raw, raw, strlen(m->raw) + 1);
	if ((vals = json_array()) == NULL)
		goto done;
	for (i = 0; i < m->report.nvalues; i++)
		if (json_array_append_new(vals,
		    json_integer(m->report.values[i])) == -1) {
			json_decref(vals);
			goto done;
		}
	if (forward_set(o, "idempotency_key", json_string(key)) == -1 ||
	    forward_set(o, "gateway", json_string(gateway)) == -1 ||
	    forward_set(o, "tps", json_string(tps)) == -1 ||
	    forward_set(o, "contest", json_string(
	    decode_contest_name(m->report.contest))) == -1 ||
	    forward_set(o, "page", m->report.page == -1 ? json_null() :
	    json_integer(m->report.page)) == -1 ||
	    forward_set(o, "seq", json_integer(m->report.seq)) == -1 ||
	    forward_set(o, "values", vals) == -1 ||
	    forward_set(o, "canonical", json_string(m->report.canon)) == -1 ||
	    forward_set(o, "raw", json_string(raw)) == -1 ||
	    forward_set(o, "sender", json_string(m->sender)) == -1 ||
	    forward_set(o, "modem", json_string(m->modem_number)) == -1 ||
	    forward_set(o, "received_at", json_string(m->received_at)) == -1 ||
	    forward_set(o, "verified_at", json_string(m->verified_at)) == -1 ||
	    forward_set(o, "verdict", json_string(m->verdict == VERDICT_OK ?
	    "OK" : "FLAGGED")) == -1 ||
	    forward_set(o, "flags", forward_flags_json(m->flags)) == -1 ||
	    forward_set(o, "auth", json_string(m->auth == AUTH_MAC ? "mac" :
	    "card")) == -1 ||
	    forward_set(o, "receipt", json_string(m->receipt)) == -1 ||
	    forward_set(o, "supersedes", m->supersedes == 0 ? json_null() :
	    json_integer(m->supersedes)) == -1) {
		log_warnx("forward: msg %" PRId64 ": cannot build the body "
		    "(a text field is not valid UTF-8, or out of memory)",
		    m->id);
		goto done;
	}
	if ((*body = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER)) ==
	    NULL)
		goto done;
	*len = strlen(*body);
	rc = 0;
 done:
	free(raw);
	json_decref(o);
	return (rc);
}

/* "ed25519=" and the base64 of the detached signature of the body. */
int
forward_sign(const uint8_t *sk, const char *body, size_t len, char *out,
    size_t outlen)
{
	unsigned char	 sig[crypto_sign_BYTES];
	size_t		 plen = strlen(FWD_SIG_PREFIX);

	if (outlen < plen + sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
	    sodium_base64_VARIANT_ORIGINAL))
		return (-1);
	if (sodium_init() < 0 || crypto_sign_detached(sig, NULL,
	    (const unsigned char *)body, len, sk) != 0)
		return (-1);
	memcpy(out, FWD_SIG_PREFIX, plen);
	sodium_bin2base64(out + plen, outlen - plen, sig, sizeof(sig),
	    sodium_base64_VARIANT_ORIGINAL);
	return (0);
}

/*
 * Read `ed25519-secret HEX128' (mode 0600 or stricter) and check that
 * the key is whole: its public half must be the one its seed makes.
 */
int
forward_load_key(const char *path, uint8_t *sk, char *err, size_t errlen)
{
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	unsigned char	 sk2[FWD_SK_LEN];
	char		 line[FWD_KEY_FILE_MAX];
	const char	*hex, *end;
	ssize_t		 n;
	size_t		 got, off;
	int		 rc = -1;

	if (sodium_init() < 0) {
		snprintf(err, errlen, "libsodium does not initialise");
		return (-1);
	}
	if ((n = key_read_secret(path, "signing key", line, sizeof(line), err,
	    errlen)) == -1)
		return (-1);
	off = (size_t)n;
	/* One line, an optional line end, nothing else. */
	while (off > 0 && (line[off - 1] == '\n' || line[off - 1] == '\r'))
		line[--off] = '\0';
	if (strncmp(line, FWD_KEY_PREFIX, strlen(FWD_KEY_PREFIX)) != 0 ||
	    strlen(hex = line + strlen(FWD_KEY_PREFIX)) != 2 * FWD_SK_LEN ||
	    sodium_hex2bin(sk2, sizeof(sk2), hex, strlen(hex), NULL, &got,
	    &end) != 0 || *end != '\0' || got != FWD_SK_LEN) {
		snprintf(err, errlen, "%s: not a signing key file (expected "
		    "one line 'ed25519-secret' and 128 hex digits)", path);
		goto done;
	}
	/* The secret key is seed || public key: both halves must agree. */
	if (crypto_sign_seed_keypair(pk, sk, sk2) != 0 ||
	    sodium_memcmp(sk, sk2, FWD_SK_LEN) != 0) {
		snprintf(err, errlen, "%s: damaged signing key (its public "
		    "half does not match its seed)", path);
		sodium_memzero(sk, FWD_SK_LEN);
		goto done;
	}
	rc = 0;
 done:
	sodium_memzero(line, sizeof(line));
	sodium_memzero(sk2, sizeof(sk2));
	return (rc);
}

/* A well-mixed 32-bit value of two integers (splitmix64's finaliser). */
static uint32_t
forward_mix(uint64_t a, uint64_t b)
{
	uint64_t	 z = a * UINT64_C(0x9e3779b97f4a7c15) + b;

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return ((uint32_t)((z ^ (z >> 31)) >> 32));
}

/*
 * Seconds to wait after `attempts' failures: min * 2^(attempts-1),
 * capped at max, spread by +-20% (deterministic in seed and attempts so
 * that rows failed together do not all come back together), never
 * above max and never below 1.
 */
time_t
forward_backoff(int attempts, int min, int max, uint32_t seed)
{
	int64_t	 d, j, r;
	int	 i;

	if (min < 1)
		min = 1;
	if (max < min)
		max = min;
	if (attempts < 1)
		attempts = 1;
	d = min;
	for (i = 1; i < attempts && d < max; i++)
		d *= 2;
	if (d > max)
		d = max;
	/* j in -20%..+20% of d, in thousandths. */
	j = (int64_t)(forward_mix(seed, (uint64_t)attempts) % 401) - 200;
	r = d + d * j / 1000;
	if (r > max)
		r = 2 * d - r;	/* fold the upper half of the spread down */
	if (r > max)
		r = max;
	if (r < 1)
		r = 1;
	return ((time_t)r);
}

/* ------------------------------------------------------------------ */
/* The HTTP engine                                                     */
/* ------------------------------------------------------------------ */

struct fwd_conn;

/* One request in flight; the caller knows it by id. */
struct fwd_req {
	TAILQ_ENTRY(fwd_req)	 entry;
	struct fwd		*f;
	struct fwd_conn		*conn;
	int64_t			 id;
	int			 timeout;
	time_t			 started;
	int			 posting;	/* inside evhttp_make_request */
	int			 ended;		/* outcome known */
	int			 has_err;
	enum evhttp_request_error err;
	/* The outcome, kept when it comes while still posting. */
	enum fwd_outcome	 outcome;
	int			 status;
	char			 text[FWD_TEXT_MAX];
	struct event		*deliver;
};
TAILQ_HEAD(fwd_reqs, fwd_req);

/* One kept-alive connection to one scheme://host:port. */
struct fwd_conn {
	TAILQ_ENTRY(fwd_conn)	 entry;
	struct fwd		*f;
	char			 key[GW_URL_MAX];	/* scheme://host:port */
	char			 host[FWD_HOST_MAX];	/* to connect */
	char			 hosthdr[FWD_HOST_MAX + 8];
	int			 port;
	int			 tls;
	int			 inflight;
	int			 stale;	/* failed or closed: replace when idle */
	struct evhttp_connection *evcon;
};
TAILQ_HEAD(fwd_conns, fwd_conn);

/* The CA file an https endpoint is checked against (config ca_file). */
struct fwd_ca {
	TAILQ_ENTRY(fwd_ca)	 entry;
	char			 key[GW_URL_MAX];	/* https://host:port */
	char			 path[PATH_MAX];
	SSL_CTX			*ctx;
};
TAILQ_HEAD(fwd_cas, fwd_ca);

struct fwd {
	struct event_base	*base;
	char			 gateway[GW_NAME_MAX];
	uint8_t			 sk[FWD_SK_LEN];
	int			 has_sk;
	fwd_done_cb		 cb;
	void			*arg;
	SSL_CTX			*ssl;		/* the system's CAs */
	struct fwd_cas		 cas;		/* endpoints with a ca_file */
	struct evdns_base	*dns;		/* NULL: not needed yet */
	int			 dns_tried;
	struct fwd_conns	 conns;
	struct fwd_conns	 dead;		/* freed outside callbacks */
	struct fwd_reqs		 reqs;
	struct event		*reap;
};

/* A URL taken apart: what fwd_post needs. */
struct fwd_url {
	int		 tls;
	char		 host[FWD_HOST_MAX];	/* without IPv6 brackets */
	char		 hosthdr[FWD_HOST_MAX + 8];
	int		 port;
	char		 path[GW_URL_MAX];
	char		 key[GW_URL_MAX];
};

static void	forward_req_done(struct evhttp_request *, void *);

/* http://host[:port]/path or https://...; -1 with a reason otherwise. */
static int
forward_url_parse(const char *url, struct fwd_url *u, char *err, size_t errlen)
{
	struct evhttp_uri	*uri;
	const char		*scheme, *host, *path, *query;
	size_t			 hl;
	int			 rc = -1, port;

	memset(u, 0, sizeof(*u));
	if ((uri = evhttp_uri_parse(url)) == NULL) {
		snprintf(err, errlen, "not a URL");
		return (-1);
	}
	scheme = evhttp_uri_get_scheme(uri);
	host = evhttp_uri_get_host(uri);
	if (scheme == NULL || (strcasecmp(scheme, "http") != 0 &&
	    strcasecmp(scheme, "https") != 0)) {
		snprintf(err, errlen, "the URL must start with http:// or "
		    "https://");
		goto done;
	}
	u->tls = strcasecmp(scheme, "https") == 0;
	if (host == NULL || host[0] == '\0' ||
	    strlen(host) >= sizeof(u->host)) {
		snprintf(err, errlen, "no host in the URL");
		goto done;
	}
	if (evhttp_uri_get_userinfo(uri) != NULL) {
		snprintf(err, errlen, "user:password@ in the URL is not "
		    "supported");
		goto done;
	}
	hl = strlen(host);
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']')
		snprintf(u->host, sizeof(u->host), "%.*s", (int)(hl - 2),
		    host + 1);
	else
		snprintf(u->host, sizeof(u->host), "%s", host);
	port = evhttp_uri_get_port(uri);
	u->port = port > 0 ? port : (u->tls ? 443 : 80);
	if (port > 0)
		snprintf(u->hosthdr, sizeof(u->hosthdr), "%s:%d", host, port);
	else
		snprintf(u->hosthdr, sizeof(u->hosthdr), "%s", host);
	path = evhttp_uri_get_path(uri);
	query = evhttp_uri_get_query(uri);
	if ((size_t)snprintf(u->path, sizeof(u->path), "%s%s%s",
	    path != NULL && path[0] != '\0' ? path : "/",
	    query != NULL ? "?" : "", query != NULL ? query : "") >=
	    sizeof(u->path)) {
		snprintf(err, errlen, "URL too long");
		goto done;
	}
	snprintf(u->key, sizeof(u->key), "%s://%s:%d", u->tls ? "https" :
	    "http", u->host, u->port);
	rc = 0;
 done:
	evhttp_uri_free(uri);
	return (rc);
}

/* Free the connections put aside by callbacks, now that none runs. */
static void
forward_reap_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct fwd	*f = arg;
	struct fwd_conn	*c;

	while ((c = TAILQ_FIRST(&f->dead)) != NULL) {
		TAILQ_REMOVE(&f->dead, c, entry);
		if (c->evcon != NULL) {
			evhttp_connection_set_closecb(c->evcon, NULL, NULL);
			evhttp_connection_free(c->evcon);
		}
		free(c);
	}
}

/* The peer closed a kept-alive connection: open a new one next time. */
static void
forward_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct fwd_conn	*c = arg;

	c->stale = 1;
}

/*
 * A client TLS context: TLS 1.2 or later, the peer verified against
 * the system's CAs, or against ca_file alone. A certificate in ca_file
 * is a trust anchor even if it is not a CA's (partial chains), so that
 * the central's own certificate can be pinned.
 */
static SSL_CTX *
forward_ssl_ctx(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX	*ctx;
	FILE	*fp;

	if (ca_file != NULL) {
		/* Say why a file does not load: open(2) knows best. */
		if ((fp = fopen(ca_file, "r")) == NULL) {
			snprintf(err, errlen, "ca_file %s: %s", ca_file,
			    strerror(errno));
			return (NULL);
		}
		fclose(fp);
	}
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		snprintf(err, errlen, "cannot create a TLS context");
		return (NULL);
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_file == NULL) {
		if (SSL_CTX_set_default_verify_paths(ctx) == 1)
			return (ctx);
		snprintf(err, errlen, "cannot load the system's CA "
		    "certificates");
	} else {
		if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) == 1 &&
		    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
		    X509_V_FLAG_PARTIAL_CHAIN) == 1)
			return (ctx);
		snprintf(err, errlen, "ca_file %s: no PEM certificate in it",
		    ca_file);
	}
	ERR_clear_error();
	SSL_CTX_free(ctx);
	return (NULL);
}

/* The context with the system's CAs, made when first needed. */
static int
forward_ssl_init(struct fwd *f)
{
	char	 err[PATH_MAX + 64];

	if (f->ssl != NULL)
		return (0);
	if ((f->ssl = forward_ssl_ctx(NULL, err, sizeof(err))) == NULL) {
		log_warnx("forward: %s", err);
		return (-1);
	}
	return (0);
}

/* Trust only ca_file for the https endpoint of url. */
static int
forward_cas_add(struct fwd_cas *cas, const char *url, const char *ca_file,
    char *err, size_t errlen)
{
	struct fwd_url	 u;
	struct fwd_ca	*ca;

	if (forward_url_parse(url, &u, err, errlen) == -1)
		return (-1);
	if (!u.tls) {
		snprintf(err, errlen, "ca_file %s: %s is not https", ca_file,
		    url);
		return (-1);
	}
	/* One connection per endpoint: one set of trusted CAs too. */
	TAILQ_FOREACH(ca, cas, entry)
		if (strcmp(ca->key, u.key) == 0) {
			if (strcmp(ca->path, ca_file) == 0)
				return (0);
			snprintf(err, errlen, "%s: ca_file %s, but %s for "
			    "another central of the same host and port",
			    url, ca_file, ca->path);
			return (-1);
		}
	if ((ca = calloc(1, sizeof(*ca))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	snprintf(ca->key, sizeof(ca->key), "%s", u.key);
	snprintf(ca->path, sizeof(ca->path), "%s", ca_file);
	if ((ca->ctx = forward_ssl_ctx(ca_file, err, errlen)) == NULL) {
		free(ca);
		return (-1);
	}
	TAILQ_INSERT_TAIL(cas, ca, entry);
	return (0);
}

static void
forward_cas_free(struct fwd_cas *cas)
{
	struct fwd_ca	*ca;

	while ((ca = TAILQ_FIRST(cas)) != NULL) {
		TAILQ_REMOVE(cas, ca, entry);
		SSL_CTX_free(ca->ctx);
		free(ca);
	}
}

/* Check the central's certificate against ca_file alone (pinning). */
int
forward_set_ca(struct fwd *f, const char *url, const char *ca_file,
    char *err, size_t errlen)
{
	return (forward_cas_add(&f->cas, url, ca_file, err, errlen));
}

/*
 * What forward_queue_new will load, loaded and dropped: `tallygw -n'
 * finds a ca_file that is missing, unreadable or not PEM, and centrals
 * that share an endpoint but not a ca_file.
 */
int
forward_tls_check(const struct gw_conf *conf, char *err, size_t errlen)
{
	struct fwd_cas		 cas;
	struct conf_central	*cc;
	char			 e[PATH_MAX + GW_URL_MAX + 128];
	int			 rc = 0;

	TAILQ_INIT(&cas);
	TAILQ_FOREACH(cc, &conf->centrals, entry) {
		if (cc->ca_file[0] == '\0')
			continue;
		if (forward_cas_add(&cas, cc->url, cc->ca_file, e,
		    sizeof(e)) == -1) {
			snprintf(err, errlen, "central %s: %s", cc->name, e);
			rc = -1;
			break;
		}
	}
	forward_cas_free(&cas);
	return (rc);
}

/* 1 when host is an IPv4 or IPv6 address, not a name. */
static int
forward_is_ip(const char *host)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;

	return (inet_pton(AF_INET, host, &a4) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1);
}

/*
 * A TLS session that checks the server's certificate: issued by a CA
 * trusted for this endpoint (its ca_file, else the system's), and for
 * host (X509_VERIFY_PARAM's host or IP check).
 */
static SSL *
forward_ssl_new(struct fwd *f, const struct fwd_url *u)
{
	SSL		*ssl;
	SSL_CTX		*ctx = NULL;
	struct fwd_ca	*ca;
	const char	*host = u->host;
	char		 sni[FWD_HOST_MAX];	/* the macro wants it mutable */

	TAILQ_FOREACH(ca, &f->cas, entry)
		if (strcmp(ca->key, u->key) == 0)
			ctx = ca->ctx;
	if (ctx == NULL) {
		if (forward_ssl_init(f) == -1)
			return (NULL);
		ctx = f->ssl;
	}
	if ((ssl = SSL_new(ctx)) == NULL)
		return (NULL);
	if (forward_is_ip(host)) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
		    host) != 1)
			goto fail;
	} else {
		X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl),
		    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
		snprintf(sni, sizeof(sni), "%s", host);
		if (SSL_set1_host(ssl, host) != 1 ||
		    SSL_set_tlsext_host_name(ssl, sni) != 1)
			goto fail;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	return (ssl);
 fail:
	SSL_free(ssl);
	return (NULL);
}

/*
 * The connection for u: a kept one that is idle, or a new one. evhttp
 * sends a connection's requests one after the other (no pipelining),
 * so requests in flight at once each need a connection of their own;
 * the scheduler's window (forward_parallel) bounds how many there are.
 */
static struct fwd_conn *
forward_conn_get(struct fwd *f, const struct fwd_url *u)
{
	struct fwd_conn		*c, *next, *idle = NULL;
	struct bufferevent	*bev = NULL;
	SSL			*ssl;

	TAILQ_FOREACH_SAFE(c, &f->conns, entry, next) {
		if (strcmp(c->key, u->key) != 0 || c->inflight > 0)
			continue;
		if (c->stale) {
			/* Not freed here: we may be inside its callback. */
			TAILQ_REMOVE(&f->conns, c, entry);
			TAILQ_INSERT_TAIL(&f->dead, c, entry);
			event_active(f->reap, EV_TIMEOUT, 0);
		} else if (idle == NULL)
			idle = c;
	}
	if (idle != NULL)
		return (idle);
	if (!forward_is_ip(u->host) && f->dns == NULL && !f->dns_tried) {
		/* Resolve names without blocking the loop. */
		f->dns_tried = 1;
		if ((f->dns = evdns_base_new(f->base,
		    EVDNS_BASE_INITIALIZE_NAMESERVERS)) == NULL)
			log_warnx("forward: no resolver configured; host "
			    "names are resolved blocking");
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->f = f;
	c->tls = u->tls;
	c->port = u->port;
	snprintf(c->key, sizeof(c->key), "%s", u->key);
	snprintf(c->host, sizeof(c->host), "%s", u->host);
	snprintf(c->hosthdr, sizeof(c->hosthdr), "%s", u->hosthdr);
	if (u->tls) {
		if ((ssl = forward_ssl_new(f, u)) == NULL) {
			free(c);
			return (NULL);
		}
		bev = bufferevent_openssl_socket_new(f->base, -1, ssl,
		    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE |
		    BEV_OPT_DEFER_CALLBACKS);
		if (bev == NULL) {
			SSL_free(ssl);
			free(c);
			return (NULL);
		}
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
		c->evcon = evhttp_connection_base_bufferevent_new(f->base,
		    f->dns, bev, c->host, (ev_uint16_t)c->port);
		if (c->evcon == NULL)
			bufferevent_free(bev);
	} else
		c->evcon = evhttp_connection_base_new(f->base, f->dns,
		    c->host, (ev_uint16_t)c->port);
	if (c->evcon == NULL) {
		free(c);
		return (NULL);
	}
	evhttp_connection_set_retries(c->evcon, 0);
	evhttp_connection_set_max_body_size(c->evcon, FWD_ANSWER_MAX);
	evhttp_connection_set_max_headers_size(c->evcon, FWD_HEADERS_MAX);
	evhttp_connection_set_closecb(c->evcon, forward_conn_closed, c);
	TAILQ_INSERT_TAIL(&f->conns, c, entry);
	return (c);
}

struct fwd *
forward_new(struct event_base *base, const char *gateway, const uint8_t *sk,
    fwd_done_cb cb, void *arg)
{
	struct fwd	*f;
	struct sigaction sa;

	if (sodium_init() < 0) {
		log_warnx("forward: libsodium does not initialise");
		return (NULL);
	}
	if ((f = calloc(1, sizeof(*f))) == NULL) {
		log_warn("forward: calloc");
		return (NULL);
	}
	f->base = base;
	snprintf(f->gateway, sizeof(f->gateway), "%s",
	    gateway != NULL ? gateway : "");
	if (sk != NULL) {
		memcpy(f->sk, sk, sizeof(f->sk));
		f->has_sk = 1;
	}
	f->cb = cb;
	f->arg = arg;
	TAILQ_INIT(&f->conns);
	TAILQ_INIT(&f->dead);
	TAILQ_INIT(&f->reqs);
	TAILQ_INIT(&f->cas);
	if ((f->reap = event_new(base, -1, 0, forward_reap_cb, f)) == NULL) {
		log_warnx("forward: cannot create an event");
		free(f);
		return (NULL);
	}
	/* A peer that closes mid-write must cost a request, not us. */
	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL)
		signal(SIGPIPE, SIG_IGN);
	return (f);
}

/* Every request ends here, or in fwd_req_deliver_cb: tell the caller. */
static void
forward_req_finish(struct fwd_req *r)
{
	struct fwd		*f = r->f;
	char			 text[FWD_TEXT_MAX];
	int64_t			 id = r->id;
	int			 status = r->status;
	enum fwd_outcome	 outcome = r->outcome;

	snprintf(text, sizeof(text), "%s", r->text);
	TAILQ_REMOVE(&f->reqs, r, entry);
	if (r->conn != NULL)
		r->conn->inflight--;
	if (r->deliver != NULL)
		event_free(r->deliver);
	free(r);
	if (f->cb != NULL)
		f->cb(id, outcome, status, text, f->arg);
}

static void
forward_req_deliver_cb(evutil_socket_t fd, short ev, void *arg)
{
	forward_req_finish(arg);
}

/* The connection-level error of a request, as evhttp names it. */
static void
forward_req_error(enum evhttp_request_error err, void *arg)
{
	struct fwd_req	*r = arg;

	r->has_err = 1;
	r->err = err;
}

/* Printable ASCII on one line: network text goes into logs and rows. */
static void
forward_clean(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/*
 * The first OpenSSL error of a TLS connection, or 0; drains the rest.
 * libevent also queues SSL_get_error()'s code (library 0): that says
 * only that the socket failed (refused, reset), which errno tells.
 */
static unsigned long
forward_tls_error(struct bufferevent *bev)
{
	unsigned long	 e, first = 0;

	while ((e = bufferevent_get_openssl_error(bev)) != 0)
		if (first == 0 && ERR_GET_LIB(e) != 0)
			first = e;
	return (first);
}

/* Why a request got no answer: timeout, TLS, or the socket's errno. */
static void
forward_req_why(struct fwd_req *r, int saved_errno, char *buf, size_t len)
{
	struct bufferevent	*bev;
	SSL			*ssl;
	unsigned long		 e = 0;
	long			 v;
	char			 ebuf[160];

	if (r->has_err && r->err == EVREQ_HTTP_TIMEOUT) {
		snprintf(buf, len, "no answer within %d s", r->timeout);
		return;
	}
	if (r->conn != NULL && r->conn->tls && r->conn->evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(r->conn->evcon)) !=
	    NULL && (e = forward_tls_error(bev)) != 0) {
		ERR_error_string_n(e, ebuf, sizeof(ebuf));
		/* Which check failed: the issuer (CA), the name, the date. */
		if ((ssl = bufferevent_openssl_get_ssl(bev)) != NULL &&
		    (v = SSL_get_verify_result(ssl)) != X509_V_OK)
			snprintf(buf, len, "TLS: %s (%s)", ebuf,
			    X509_verify_cert_error_string(v));
		else
			snprintf(buf, len, "TLS: %s", ebuf);
		return;
	}
	if (r->conn != NULL && r->conn->evcon != NULL &&
	    (bev = evhttp_connection_get_bufferevent(r->conn->evcon)) !=
	    NULL && (e = (unsigned long)bufferevent_socket_get_dns_error(
	    bev)) != 0) {
		snprintf(buf, len, "cannot resolve %.120s: %s", r->conn->host,
		    evutil_gai_strerror((int)e));
		return;
	}
	switch (saved_errno) {
	case ECONNREFUSED:
	case ECONNRESET:
	case ECONNABORTED:
	case EHOSTUNREACH:
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTDOWN:
	case ETIMEDOUT:
	case EPIPE:
		snprintf(buf, len, "%s", strerror(saved_errno));
		if (buf[0] != '\0')
			buf[0] = (char)tolower((unsigned char)buf[0]);
		return;
	default:
		break;
	}
	if (!r->has_err) {
		/* evhttp gives no cause when the connect itself fails. */
		if (time(NULL) - r->started >= r->timeout)
			snprintf(buf, len, "cannot connect within %d s",
			    r->timeout);
		else
			snprintf(buf, len, "cannot connect (connection "
			    "refused, or host unreachable)");
		return;
	}
	if (r->has_err) {
		switch (r->err) {
		case EVREQ_HTTP_EOF:
			snprintf(buf, len, "connection closed before the "
			    "answer");
			return;
		case EVREQ_HTTP_INVALID_HEADER:
			snprintf(buf, len, "not an HTTP answer");
			return;
		case EVREQ_HTTP_DATA_TOO_LONG:
			snprintf(buf, len, "answer over %d bytes",
			    FWD_ANSWER_MAX);
			return;
		default:
			break;
		}
	}
	snprintf(buf, len, "the connection failed");
}

/* What the answer's JSON says: "status", or "error" for a refusal. */
static void
forward_answer_text(struct evhttp_request *req, int status, char *buf,
    size_t len)
{
	struct evbuffer	*in = evhttp_request_get_input_buffer(req);
	const char	*line = evhttp_request_get_response_code_line(req);
	json_t		*o = NULL, *v;
	size_t		 n;

	buf[0] = '\0';
	if (in != NULL && (n = evbuffer_get_length(in)) > 0)
		o = json_loadb((const char *)evbuffer_pullup(in, -1), n, 0,
		    NULL);
	if (json_is_object(o)) {
		v = json_object_get(o, status >= 300 ? "error" : "status");
		if (json_is_string(v))
			snprintf(buf, len, "%s", json_string_value(v));
		v = json_object_get(o, "status");
		if (status >= 300 && buf[0] == '\0' && json_is_string(v))
			snprintf(buf, len, "%s", json_string_value(v));
	}
	json_decref(o);
	if (buf[0] == '\0')
		snprintf(buf, len, "%s", line != NULL && line[0] != '\0' ?
		    line : "no text");
	forward_clean(buf);
}

/* docs/forward.md's response table. */
static enum fwd_outcome
forward_outcome_of(int status)
{
	switch (status) {
	case 200:
	case 201:
		return (FWD_OUT_STORED);
	case 400:
	case 401:
	case 403:
	case 409:
	case 413:
	case 422:
		return (FWD_OUT_REFUSED);
	default:
		return (FWD_OUT_OUTAGE);
	}
}

/* evhttp's end of a request: req is NULL or has no code on failure. */
static void
forward_req_done(struct evhttp_request *req, void *arg)
{
	struct fwd_req	*r = arg;
	int		 saved_errno = errno, status;

	if (r->ended)
		return;
	r->ended = 1;
	status = req != NULL ? evhttp_request_get_response_code(req) : 0;
	if (status <= 0) {
		r->status = 0;
		r->outcome = FWD_OUT_OUTAGE;
		forward_req_why(r, saved_errno, r->text, sizeof(r->text));
		if (r->conn != NULL)
			r->conn->stale = 1;
	} else {
		r->status = status;
		r->outcome = forward_outcome_of(status);
		forward_answer_text(req, status, r->text, sizeof(r->text));
	}
	if (r->posting)
		return;		/* fwd_post delivers it, after returning */
	forward_req_finish(r);
}

int
forward_post(struct fwd *f, const char *url, int timeout, int64_t id,
    const char *idem_key, const char *body, size_t len)
{
	struct fwd_url		 u;
	struct fwd_conn		*c;
	struct fwd_req		*r;
	struct evhttp_request	*req;
	struct evkeyvalq	*h;
	struct timeval		 zero = { 0, 0 };
	char			 err[128], sig[128];

	if (forward_url_parse(url, &u, err, sizeof(err)) == -1) {
		log_warnx("forward: %s: %s", url, err);
		return (-1);
	}
	if (len > FWD_BODY_MAX) {
		log_warnx("forward: request %" PRId64 ": body of %zu bytes, "
		    "over %d", id, len, FWD_BODY_MAX);
		return (-1);
	}
	if (idem_key == NULL || idem_key[0] == '\0') {
		log_warnx("forward: request %" PRId64 ": no idempotency key",
		    id);
		return (-1);
	}
	if (f->has_sk && forward_sign(f->sk, body, len, sig,
	    sizeof(sig)) == -1) {
		log_warnx("forward: request %" PRId64 ": cannot sign", id);
		return (-1);
	}
	if (timeout <= 0)
		timeout = GW_FORWARD_TIMEOUT;
	if ((c = forward_conn_get(f, &u)) == NULL) {
		log_warnx("forward: %s: cannot set up a connection%s", u.key,
		    u.tls ? " (TLS)" : "");
		return (-1);
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_warn("forward: calloc");
		return (-1);
	}
	r->f = f;
	r->conn = c;
	r->id = id;
	r->timeout = timeout;
	r->started = time(NULL);
	if ((r->deliver = event_new(f->base, -1, 0, forward_req_deliver_cb,
	    r)) == NULL || (req = evhttp_request_new(forward_req_done, r)) ==
	    NULL) {
		if (r->deliver != NULL)
			event_free(r->deliver);
		free(r);
		return (-1);
	}
	evhttp_request_set_error_cb(req, forward_req_error);
	h = evhttp_request_get_output_headers(req);
	if (evhttp_add_header(h, "Host", c->hosthdr) == -1 ||
	    evhttp_add_header(h, "Content-Type", "application/json") == -1 ||
	    evhttp_add_header(h, "Accept", "application/json") == -1 ||
	    evhttp_add_header(h, "User-Agent", FWD_USER_AGENT) == -1 ||
	    evhttp_add_header(h, "Idempotency-Key", idem_key) == -1 ||
	    (f->gateway[0] != '\0' &&
	    evhttp_add_header(h, "X-Tally-Gateway", f->gateway) == -1) ||
	    (f->has_sk &&
	    evhttp_add_header(h, "X-Tally-Signature", sig) == -1) ||
	    evbuffer_add(evhttp_request_get_output_buffer(req), body,
	    len) == -1) {
		log_warnx("forward: request %" PRId64 ": cannot build it "
		    "(a header is not valid)", id);
		evhttp_request_free(req);
		event_free(r->deliver);
		free(r);
		return (-1);
	}
	evhttp_connection_set_timeout(c->evcon, timeout);
	TAILQ_INSERT_TAIL(&f->reqs, r, entry);
	c->inflight++;
	r->posting = 1;
	if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_POST,
	    u.path) == -1) {
		r->posting = 0;
		c->inflight--;
		c->stale = 1;
		TAILQ_REMOVE(&f->reqs, r, entry);
		if (r->ended)
			log_warnx("forward: request %" PRId64 ": failed at "
			    "once: %s", id, r->text);
		else
			log_warnx("forward: %s: cannot start a request",
			    u.key);
		event_free(r->deliver);
		free(r);
		return (-1);
	}
	r->posting = 0;
	/* It ended already (e.g. the name did not resolve): tell soon. */
	if (r->ended)
		event_add(r->deliver, &zero);
	return (0);
}

/* Requests started and not yet ended to the endpoint of url. */
int
forward_inflight(struct fwd *f, const char *url)
{
	struct fwd_url	 u;
	struct fwd_req	*r;
	char		 err[128];
	int		 n = 0;

	if (url == NULL)
		return (0);
	if (forward_url_parse(url, &u, err, sizeof(err)) == -1)
		return (0);
	TAILQ_FOREACH(r, &f->reqs, entry)
		if (r->conn != NULL && strcmp(r->conn->key, u.key) == 0)
			n++;
	return (n);
}

/* Stop: requests in flight are dropped and no callback comes. */
void
forward_free(struct fwd *f)
{
	struct fwd_conn	*c;
	struct fwd_req	*r;

	if (f == NULL)
		return;
	while ((c = TAILQ_FIRST(&f->conns)) != NULL) {
		TAILQ_REMOVE(&f->conns, c, entry);
		TAILQ_INSERT_TAIL(&f->dead, c, entry);
	}
	/* Frees every evhttp request (no callbacks) with its connection. */
	forward_reap_cb(-1, 0, f);
	while ((r = TAILQ_FIRST(&f->reqs)) != NULL) {
		TAILQ_REMOVE(&f->reqs, r, entry);
		if (r->deliver != NULL)
			event_free(r->deliver);
		free(r);
	}
	event_free(f->reap);
	if (f->dns != NULL)
		evdns_base_free(f->dns, 1);
	if (f->ssl != NULL)
		SSL_CTX_free(f->ssl);
	forward_cas_free(&f->cas);
	sodium_memzero(f->sk, sizeof(f->sk));
	free(f);
}

/* ------------------------------------------------------------------ */
/* The scheduler                                                       */
/* ------------------------------------------------------------------ */

/* A central's reachability, as the forwarder sees it. */
enum fwd_link {
	FWD_LINK_UP = 1,	/* answering: full parallelism */
	FWD_LINK_DOWN,		/* failing: one probe at a time, backoff */
};

/* A due row waiting in memory for a free place in the window. */
struct fwd_due {
	int64_t			 id;
	int64_t			 msg_id;
	enum fwd_state		 state;
	int			 attempts;
};

struct fwd_central {
	TAILQ_ENTRY(fwd_central) entry;
	char			 name[GW_MODEM_NAME_MAX];
	char			 url[GW_URL_MAX];
	int			 timeout;
	enum fwd_link		 link;
	int			 inflight;
	int			 failures;	/* consecutive outages */
	time_t			 probe_at;	/* DOWN: next probe */
	int			 drain;		/* take rows whatever next_at */
	time_t			 last_ok;
	time_t			 last_fail;
	int			 last_status;
	char			 last_error[GW_DETAIL_MAX];
	long			 acked, refused, outages;
	uint32_t		 seed;		/* of its probe backoff */
	struct fwd_due		 due[FWD_DUE_BATCH];	/* oldest first */
	size_t			 ndue, nextdue;
};
TAILQ_HEAD(fwd_centrals, fwd_central);

/* A forward row with a request in flight. */
struct fwd_job {
	TAILQ_ENTRY(fwd_job)	 entry;
	struct fwd_central	*c;
	int64_t			 id;
	int64_t			 msg_id;
	enum fwd_state		 state;
	int			 attempts;
	int			 probe;		/* sent while the central was down */
	double			 started;	/* metrics_now() at the post */
	double			 age;		/* s since the report came in,
						 * then; -1 unknown */
	/* The request's end, recorded by the loop turn's next run. */
	int			 ended;
	enum fwd_outcome	 outcome;
	int			 status;
	char			 text[FWD_TEXT_MAX];
};
TAILQ_HEAD(fwd_jobs, fwd_job);

/* A request's outcome as the metrics name it. */
static const char *const forward_outcome_names[] = {
	[FWD_OUT_STORED] = "acked",
	[FWD_OUT_REFUSED] = "refused",
	[FWD_OUT_OUTAGE] = "outage",
};

struct fwd_queue {
	struct event_base	*base;
	struct store		*store;
	struct fwd		*fwd;
	char			 gateway[GW_NAME_MAX];
	int			 fmin, fmax, parallel, timeout;
	struct fwd_centrals	 centrals;
	struct fwd_jobs		 jobs;
	struct store_fwd	*rows;		/* FWD_DUE_BATCH of them */
	int			 in_tx;		/* a run's transaction is open */
	struct event		*timer;
	struct event		*kick;
};

static const char *
forward_link_name(enum fwd_link l)
{
	return (l == FWD_LINK_UP ? "up" : "down");
}

static const char *
forward_state_name(enum fwd_state s)
{
	const char	*n = store_fwd_state_name(s);

	return (n != NULL ? n : "?");
}

/* The one place a central's reachability changes, logged. */
static void
forward_central_set(struct fwd_queue *q, struct fwd_central *c,
    enum fwd_link to, const char *why)
{
	if (c->link == to)
		return;
	if (to == FWD_LINK_DOWN)
		log_warnx("forward: central %s: %s -> %s (%s; probing with one "
		    "request at a time)", c->name, forward_link_name(c->link),
		    forward_link_name(to), why);
	else
		log_info("forward: central %s: %s -> %s (%s after %d failed "
		    "attempts; draining the backlog)", c->name,
		    forward_link_name(c->link), forward_link_name(to), why,
		    c->failures);
	c->link = to;
}

/*
 * The one function that moves a forward row: persists the new state,
 * then logs it. The job keeps the state the row is in.
 */
static int
forward_set_state(struct fwd_queue *q, struct fwd_job *j, enum fwd_state to,
    int status, time_t next_at, const char *error, const char *detail)
{
	enum fwd_state	 from = j->state;

	if (store_fwd_set(q->store, j->id, to, j->attempts, next_at, status,
	    error != NULL ? error : "") == -1) {
		log_warnx("msg %" PRId64 ": forward to %s: cannot record %s "
		    "-> %s", j->msg_id, j->c->name, forward_state_name(from),
		    forward_state_name(to));
		return (-1);
	}
	metrics_count(METRICS_FORWARDS, forward_state_name(from), NULL, -1);
	metrics_count(METRICS_FORWARDS, forward_state_name(to), NULL, 1);
	j->state = to;
	if (to == FWD_RETRY_WAIT || to == FWD_FAILED)
		log_warnx("msg %" PRId64 ": forward to %s: %s -> %s (%s)",
		    j->msg_id, j->c->name, forward_state_name(from),
		    forward_state_name(to), detail);
	else if (detail != NULL)
		log_info("msg %" PRId64 ": forward to %s: %s -> %s (%s)",
		    j->msg_id, j->c->name, forward_state_name(from),
		    forward_state_name(to), detail);
	else
		log_info("msg %" PRId64 ": forward to %s: %s -> %s",
		    j->msg_id, j->c->name, forward_state_name(from),
		    forward_state_name(to));
	return (0);
}

/* An outage for this row: wait, longer after each attempt. */
static void
forward_retry(struct fwd_queue *q, struct fwd_job *j, int status,
    const char *error, time_t now)
{
	char	 detail[GW_DETAIL_MAX + 96];
	time_t	 wait;

	wait = forward_backoff(j->attempts, q->fmin, q->fmax, (uint32_t)j->id);
	snprintf(detail, sizeof(detail), "outage: %s; attempt %d, next in "
	    "%lld s", error, j->attempts, (long long)wait);
	forward_set_state(q, j, FWD_RETRY_WAIT, status, now + wait, error,
	    detail);
}

/* Refused for good: the row fails, the operator is alerted. */
static void
forward_fail(struct fwd_queue *q, struct fwd_job *j, int status,
    const char *error, time_t now)
{
	char	 detail[GW_DETAIL_MAX + 32];

	if (status > 0)
		snprintf(detail, sizeof(detail), "%d: %s", status, error);
	else
		snprintf(detail, sizeof(detail), "%s", error);
	forward_set_state(q, j, FWD_FAILED, status, now, error, detail);
}

static struct fwd_job *
forward_job_find(struct fwd_queue *q, int64_t id)
{
	struct fwd_job	*j;

	TAILQ_FOREACH(j, &q->jobs, entry)
		if (j->id == id)
			return (j);
	return (NULL);
}

/* The central answered (any status): it is up; drain after an outage. */
static void
forward_central_ok(struct fwd_queue *q, struct fwd_central *c, int status,
    time_t now)
{
	char	 why[32];

	c->last_ok = now;
	c->last_status = status;
	if (c->link == FWD_LINK_DOWN) {
		snprintf(why, sizeof(why), "answered %d", status);
		forward_central_set(q, c, FWD_LINK_UP, why);
		c->drain = 1;
		c->ndue = c->nextdue = 0;	/* read again, all due */
	}
	c->failures = 0;
	c->probe_at = 0;
}

/* No usable answer: the central is down; probe later, one at a time. */
static void
forward_central_fail(struct fwd_queue *q, struct fwd_central *c,
    const struct fwd_job *j, int status, const char *error, time_t now)
{
	c->last_fail = now;
	c->last_status = status;
	snprintf(c->last_error, sizeof(c->last_error), "%s", error);
	c->drain = 0;
	if (c->link == FWD_LINK_UP) {
		c->failures = 1;
		forward_central_set(q, c, FWD_LINK_DOWN, error);
	} else if (j == NULL || j->probe)
		c->failures++;
	else
		return;		/* a straggler sent before it went down */
	c->probe_at = now + forward_backoff(c->failures, q->fmin, q->fmax,
	    c->seed);
}

/*
 * The engine's callback: one request to a central ended. Its row moves
 * in the next run of the queue, in this loop turn, in one transaction
 * with every other request that ended in the turn (one sync, not one a
 * row). A crash before that commit leaves the row `sending': it is
 * posted again at the next start and the central answers 200 for the
 * key it holds (docs/reliability.md).
 */
static void
forward_queue_done(int64_t id, enum fwd_outcome outcome, int status,
    const char *text, void *arg)
{
	struct fwd_queue	*q = arg;
	struct fwd_job		*j;

	if ((j = forward_job_find(q, id)) == NULL || j->ended) {
		log_warnx("forward: an answer for row %" PRId64 " that is "
		    "not in flight", id);
		return;
	}
	j->ended = 1;
	j->outcome = outcome;
	j->status = status;
	snprintf(j->text, sizeof(j->text), "%s", text != NULL ? text : "");
	forward_queue_kick(q);
}

/* The end of j's request, in the run's transaction; frees j. */
static void
forward_queue_apply(struct fwd_queue *q, struct fwd_job *j, time_t now)
{
	struct fwd_central	*c = j->c;
	enum fwd_outcome	 outcome = j->outcome;
	int			 status = j->status;
	const char		*text = j->text;
	char			 st[16];
	double			 mnow = metrics_now();

	c->inflight--;
	if (outcome < FWD_OUT_STORED || outcome > FWD_OUT_OUTAGE)
		outcome = FWD_OUT_OUTAGE;
	metrics_observe(METRICS_FWD_REQUEST, c->name,
	    forward_outcome_names[outcome], mnow - j->started);
	if (outcome == FWD_OUT_STORED && j->age >= 0)
		metrics_observe(METRICS_FWD_ACK, c->name, NULL,
		    j->age + mnow - j->started);
	switch (outcome) {
	case FWD_OUT_STORED:
		c->acked++;
		forward_central_ok(q, c, status, now);
		snprintf(st, sizeof(st), "%d", status);
		forward_set_state(q, j, FWD_ACKED, status, now, "", st);
		break;
	case FWD_OUT_REFUSED:
		c->refused++;
		snprintf(c->last_error, sizeof(c->last_error), "%d: %.*s",
		    status, (int)sizeof(c->last_error) - 16, text);
		forward_central_ok(q, c, status, now);
		forward_fail(q, j, status, text, now);
		break;
	case FWD_OUT_OUTAGE:
	default:
		c->outages++;
		if (status > 0) {
			char	 e[GW_DETAIL_MAX];

			snprintf(e, sizeof(e), "%d: %.*s", status,
			    (int)sizeof(e) - 16, text);
			forward_central_fail(q, c, j, status, e, now);
			forward_retry(q, j, status, e, now);
		} else {
			forward_central_fail(q, c, j, 0, text, now);
			forward_retry(q, j, 0, text, now);
		}
		break;
	}
	TAILQ_REMOVE(&q->jobs, j, entry);
	free(j);
}

/* Load, build, sign and post one due row; its state follows. */
static void
forward_queue_start(struct fwd_queue *q, struct fwd_central *c,
    const struct store_fwd *row, time_t now)
{
	struct store_msg	*m;
	struct fwd_job		*j;
	char			 key[64], *body = NULL;
	size_t			 len = 0;

	if ((j = calloc(1, sizeof(*j))) == NULL ||
	    (m = calloc(1, sizeof(*m))) == NULL) {
		log_warn("forward: calloc");
		free(j);
		return;
	}
	j->c = c;
	j->id = row->id;
	j->msg_id = row->msg_id;
	j->state = row->state;
	j->attempts = row->attempts;
	switch (store_msg_get(q->store, row->msg_id, m)) {
	case 1:
		break;
	case 0:
		forward_fail(q, j, 0, "the message is not in the store", now);
		goto done;
	default:
		/* Perhaps a passing store error: count it, try later. */
		j->attempts++;
		forward_retry(q, j, 0, "cannot read the message from the store",
		    now);
		goto done;
	}
	if (forward_body(m, q->gateway, &body, &len) == -1 ||
	    forward_idempotency_key(m, key, sizeof(key)) == -1) {
		forward_fail(q, j, 0, "the stored message cannot be forwarded "
		    "(not an accepted, complete report)", now);
		goto done;
	}
	if (len > FWD_BODY_MAX) {
		forward_fail(q, j, 0, "body over 64 KiB", now);
		goto done;
	}
	j->attempts++;
	j->probe = c->link == FWD_LINK_DOWN;
	j->started = metrics_now();
	j->age = metrics_since(m->received_at);
	if (forward_set_state(q, j, FWD_SENDING, 0, now, "", NULL) == -1)
		goto done;
	if (forward_post(q->fwd, c->url, c->timeout, j->id, key, body,
	    len) == -1) {
		forward_retry(q, j, 0, "cannot start the request", now);
		goto done;
	}
	c->inflight++;
	TAILQ_INSERT_TAIL(&q->jobs, j, entry);
	j = NULL;
 done:
	free(body);
	free(m);
	free(j);
}

/* Open the run's transaction, once; without one each row commits. */
static void
forward_queue_tx(struct fwd_queue *q)
{
	if (!q->in_tx && store_begin(q->store) == 0)
		q->in_tx = 1;
}

/*
 * Read a central's due rows, oldest message first, into its queue in
 * memory: one indexed read (forwards_queue) per FWD_DUE_BATCH rows,
 * not one per request. Rows in flight are `sending' and not read.
 */
static void
forward_queue_fill(struct fwd_queue *q, struct fwd_central *c, time_t now)
{
	time_t	 horizon;
	size_t	 n, i;

	c->ndue = c->nextdue = 0;
	/* After an outage, every waiting row is due at once. */
	horizon = c->drain ? now + FWD_DRAIN_HORIZON : now;
	if (store_fwd_due(q->store, c->name, horizon, q->rows, FWD_DUE_BATCH,
	    &n) == -1) {
		log_warnx("forward: central %s: cannot read the due rows",
		    c->name);
		return;
	}
	for (i = 0; i < n; i++) {
		c->due[i].id = q->rows[i].id;
		c->due[i].msg_id = q->rows[i].msg_id;
		c->due[i].state = q->rows[i].state;
		c->due[i].attempts = q->rows[i].attempts;
	}
	c->ndue = n;
	if (c->drain && n < FWD_DUE_BATCH)
		c->drain = 0;
}

/*
 * One run, in one transaction: the requests that ended since the last
 * run move their rows, then each central's window is filled from its
 * queue of due rows (each row `sending' before its request leaves).
 */
static void
forward_queue_run(struct fwd_queue *q)
{
	struct fwd_central	*c;
	struct fwd_job		*j, *next;
	struct store_fwd	 row;
	time_t			 now = time(NULL);
	int			 cap, filled;

	TAILQ_FOREACH_SAFE(j, &q->jobs, entry, next)
		if (j->ended) {
			forward_queue_tx(q);
			forward_queue_apply(q, j, now);
		}
	TAILQ_FOREACH(c, &q->centrals, entry) {
		if (c->link == FWD_LINK_DOWN && now < c->probe_at)
			continue;
		cap = c->link == FWD_LINK_DOWN ? 1 : q->parallel;
		filled = 0;
		while (c->inflight < cap) {
			if (c->nextdue >= c->ndue) {
				if (filled++)
					break;	/* once a run */
				forward_queue_fill(q, c, now);
				if (c->ndue == 0)
					break;
			}
			memset(&row, 0, sizeof(row));
			row.id = c->due[c->nextdue].id;
			row.msg_id = c->due[c->nextdue].msg_id;
			row.state = c->due[c->nextdue].state;
			row.attempts = c->due[c->nextdue].attempts;
			c->nextdue++;
			if (forward_job_find(q, row.id) != NULL)
				continue;	/* already in flight */
			if (row.state != FWD_PENDING &&
			    row.state != FWD_RETRY_WAIT)
				continue;
			forward_queue_tx(q);
			forward_queue_start(q, c, &row, now);
		}
	}
	if (q->in_tx) {
		q->in_tx = 0;
		if (store_commit(q->store) == -1) {
			log_warnx("forward: cannot commit the forwards' "
			    "states; rows in flight are posted again at the "
			    "next start");
			store_rollback(q->store);
		}
	}
}

static void
forward_queue_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	forward_queue_run(arg);
}

struct fwd_queue *
forward_queue_new(struct event_base *base, struct store *store,
    const struct gw_conf *conf, const uint8_t *sk)
{
	struct fwd_queue	*q;
	struct fwd_central	*fc;
	struct conf_central	*cc;
	struct fwd_url		 u;
	struct timeval		 tv = { 1, 0 };
	char			 err[128], cerr[PATH_MAX + GW_URL_MAX + 128];
	size_t			 i;
	int			 n;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_warn("forward: calloc");
		return (NULL);
	}
	q->base = base;
	q->store = store;
	TAILQ_INIT(&q->centrals);
	TAILQ_INIT(&q->jobs);
	snprintf(q->gateway, sizeof(q->gateway), "%s", conf->name);
	q->fmin = conf->t.forward_min > 0 ? conf->t.forward_min :
	    GW_FORWARD_MIN;
	q->fmax = conf->t.forward_max > 0 ? conf->t.forward_max :
	    GW_FORWARD_MAX;
	q->parallel = conf->t.forward_parallel > 0 ?
	    conf->t.forward_parallel : GW_FORWARD_PARALLEL;
	q->timeout = conf->t.forward_timeout > 0 ? conf->t.forward_timeout :
	    GW_FORWARD_TIMEOUT;
	TAILQ_FOREACH(cc, &conf->centrals, entry) {
		if (forward_url_parse(cc->url, &u, err, sizeof(err)) == -1) {
			log_warnx("forward: central %s: %s: %s", cc->name,
			    cc->url, err);
			goto fail;
		}
		if ((fc = calloc(1, sizeof(*fc))) == NULL) {
			log_warn("forward: calloc");
			goto fail;
		}
		snprintf(fc->name, sizeof(fc->name), "%s", cc->name);
		snprintf(fc->url, sizeof(fc->url), "%s", cc->url);
		/* Its series in the metrics, at 0 before the first answer. */
		for (n = FWD_OUT_STORED; n <= FWD_OUT_OUTAGE; n++)
			metrics_count(METRICS_FWD_REQUEST, fc->name,
			    forward_outcome_names[n], 0);
		metrics_count(METRICS_FWD_ACK, fc->name, NULL, 0);
		fc->timeout = cc->timeout > 0 ? cc->timeout : q->timeout;
		fc->link = FWD_LINK_UP;
		fc->seed = forward_mix(0,
		    (uint64_t)strlen(fc->name));
		for (i = 0; fc->name[i] != '\0'; i++)
			fc->seed = forward_mix(fc->seed,
			    (unsigned char)fc->name[i]);
		TAILQ_INSERT_TAIL(&q->centrals, fc, entry);
	}
	if ((q->rows = calloc(FWD_DUE_BATCH, sizeof(*q->rows))) == NULL ||
	    (q->fwd = forward_new(base, conf->name, sk, forward_queue_done,
	        q)) ==
	    NULL ||
	    (q->timer = event_new(base, -1, EV_PERSIST, forward_queue_timer_cb,
	    q)) == NULL ||
	    (q->kick = event_new(base, -1, 0, forward_queue_timer_cb, q)) ==
	    NULL || evtimer_add(q->timer, &tv) == -1) {
		log_warnx("forward: cannot set up the scheduler");
		goto fail;
	}
	TAILQ_FOREACH(cc, &conf->centrals, entry)
		if (cc->ca_file[0] != '\0' && forward_set_ca(q->fwd, cc->url,
		    cc->ca_file, cerr, sizeof(cerr)) == -1) {
			log_warnx("forward: central %s: %s", cc->name, cerr);
			goto fail;
		}
	/* Rows left in flight by a previous run go back in the queue. */
	if ((n = store_fwd_requeue(store)) == -1) {
		log_warnx("forward: cannot requeue the forwards in flight");
		goto fail;
	}
	if (n > 0)
		log_info("forward: %d forwards in flight at the last stop: "
		    "sending -> retry_wait, to be sent again now", n);
	return (q);
 fail:
	forward_queue_free(q);
	return (NULL);
}

/* New rows were committed: look at the queue as soon as we can. */
void
forward_queue_kick(struct fwd_queue *q)
{
	if (q != NULL && q->kick != NULL)
		event_active(q->kick, EV_TIMEOUT, 0);
}

#define FWD_RETRY_BATCH		256	/* rows read at a time */

/*
 * The operator's `forward retry': the forwards of message msg_id that
 * are not acked, or (failed) every failed forward, or else every one
 * waiting for its retry time, are due now (failed -> retry_wait is a
 * move only the operator makes). A central that is down is probed at
 * once. *n: the rows moved.
 */
int
forward_queue_retry(struct fwd_queue *q, int64_t msg_id, int failed,
    size_t *n)
{
	struct fwd_central	*c;
	struct fwd_job		 j;
	struct store_fwd	*rows;
	unsigned		 mask;
	int64_t			 after = 0;
	size_t			 got, i;
	time_t			 now = time(NULL);
	int			 rc = 0;

	*n = 0;
	if (msg_id != 0)
		mask = 1U << FWD_PENDING | 1U << FWD_RETRY_WAIT |
		    1U << FWD_FAILED;
	else
		mask = 1U << (failed ? FWD_FAILED : FWD_RETRY_WAIT);
	if ((rows = calloc(FWD_RETRY_BATCH, sizeof(*rows))) == NULL) {
		log_warn("forward: retry");
		return (-1);
	}
	do {
		if (store_fwd_select(q->store, msg_id, mask, after, rows,
		    FWD_RETRY_BATCH, &got) == -1) {
			rc = -1;
			break;
		}
		for (i = 0; i < got; i++) {
			after = rows[i].id;
			TAILQ_FOREACH(c, &q->centrals, entry)
				if (strcmp(c->name, rows[i].central) == 0)
					break;
			if (c == NULL || forward_job_find(q, rows[i].id) !=
			    NULL)
				continue;	/* not ours now, or in flight */
			memset(&j, 0, sizeof(j));
			j.c = c;
			j.id = rows[i].id;
			j.msg_id = rows[i].msg_id;
			j.state = rows[i].state;
			j.attempts = rows[i].attempts;
			if (forward_set_state(q, &j, FWD_RETRY_WAIT,
			    rows[i].http_status, now, rows[i].error,
			    "retry asked by the operator") == -1) {
				rc = -1;
				continue;
			}
			(*n)++;
			if (c->link == FWD_LINK_DOWN)
				c->probe_at = now;
		}
	} while (got == FWD_RETRY_BATCH);
	free(rows);
	/* The rows in memory may have moved: read them again. */
	TAILQ_FOREACH(c, &q->centrals, entry)
		c->ndue = c->nextdue = 0;
	forward_queue_kick(q);
	return (rc);
}

int
forward_queue_stats(struct fwd_queue *q, struct fwd_central_stats *out,
    size_t max, size_t *n)
{
	struct fwd_central	*c;
	size_t			 i = 0;

	TAILQ_FOREACH(c, &q->centrals, entry) {
		if (i < max) {
			memset(&out[i], 0, sizeof(out[i]));
			snprintf(out[i].name, sizeof(out[i].name), "%s",
			    c->name);
			snprintf(out[i].url, sizeof(out[i].url), "%s",
			    c->url);
			out[i].up = c->link == FWD_LINK_UP;
			out[i].inflight = c->inflight;
			out[i].failures = c->failures;
			out[i].next_probe = c->link == FWD_LINK_DOWN ?
			    c->probe_at : 0;
			out[i].last_ok = c->last_ok;
			out[i].last_fail = c->last_fail;
			out[i].last_status = c->last_status;
			snprintf(out[i].last_error, sizeof(out[i].last_error),
			    "%s", c->last_error);
			out[i].acked = c->acked;
			out[i].refused = c->refused;
			out[i].outages = c->outages;
		}
		i++;
	}
	if (n != NULL)
		*n = i;
	return (0);
}

/* Stop: requests in flight are dropped; their rows stay `sending' and
 * store_fwd_requeue puts them back at the next start. */
void
forward_queue_free(struct fwd_queue *q)
{
	struct fwd_central	*c;
	struct fwd_job		*j;

	if (q == NULL)
		return;
	forward_free(q->fwd);
	if (q->timer != NULL)
		event_free(q->timer);
	if (q->kick != NULL)
		event_free(q->kick);
	while ((j = TAILQ_FIRST(&q->jobs)) != NULL) {
		TAILQ_REMOVE(&q->jobs, j, entry);
		free(j);
	}
	while ((c = TAILQ_FIRST(&q->centrals)) != NULL) {
		TAILQ_REMOVE(&q->centrals, c, entry);
		free(c);
	}
	free(q->rows);
	free(q);
}
