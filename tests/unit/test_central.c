/*
 * Unit tests of tallysim's central receiver (sim/central.c) without
 * HTTP: the POST core, validation, signatures, dump, stats, down/up.
 * central.c is included whole so its static stages can be reached (the
 * unit rule of the Makefile links libtally.a only).
 */

#include "unit.h"

#include "../../sim/central.c"

#define BODY_FMT							\
	"{\"idempotency_key\":\"3201012001001-%u-58331817\","		\
	"\"gateway\":\"gw-1\",\"tps\":\"3201012001001\","		\
	"\"contest\":\"PPWP\",\"page\":null,\"seq\":%u,"		\
	"\"values\":[255,120,95,36,251,%u],"				\
	"\"canonical\":\"PPWP 3201012001001 %u 255 120 95 36 251 %u\","	\
	"\"raw\":\"x\",\"sender\":\"+6281234567890\","			\
	"\"modem\":\"+6281100000001\","					\
	"\"received_at\":\"2024-02-14T10:00:00Z\","			\
	"\"verified_at\":\"2024-02-14T10:00:01.250Z\","			\
	"\"verdict\":\"OK\",\"flags\":[\"STALE\"],\"auth\":\"mac\","	\
	"\"receipt\":\"58331817\",\"supersedes\":null}"

struct fixture {
	struct event_base	*base;
	struct central		*c;
	char			 dir[64];
	char			 db[128];
	char			 pub[128];
	unsigned char		 sk[crypto_sign_SECRETKEYBYTES];
};

/* A body for SEQ seq whose last value is last. */
static size_t
mkbody(char *buf, size_t len, unsigned seq, unsigned last)
{
	int	 n;

	n = snprintf(buf, len, BODY_FMT, seq, seq, last, seq, last);
	assert_true(n > 0 && (size_t)n < len);
	return ((size_t)n);
}

/* A receiver on a fresh directory; signed: with a key pair. */
static struct fixture *
fixture_new(int sign)
{
	struct fixture	*f;
	unsigned char	 pk[crypto_sign_PUBLICKEYBYTES];
	char		 hex[2 * crypto_sign_PUBLICKEYBYTES + 1], err[256];
	FILE		*fp;

	assert_true(sodium_init() >= 0);
	f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_central.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof(f->db), "%s/central.db", f->dir);
	snprintf(f->pub, sizeof(f->pub), "%s/gw.pub", f->dir);
	if (sign) {
		crypto_sign_keypair(pk, f->sk);
		sodium_bin2hex(hex, sizeof(hex), pk, sizeof(pk));
		fp = fopen(f->pub, "w");
		assert_non_null(fp);
		fprintf(fp, "# the test gateway\ned25519-public %s\n", hex);
		fclose(fp);
	}
	f->base = event_base_new();
	assert_non_null(f->base);
	f->c = central_new(f->base, f->db, "127.0.0.1", 0,
	    sign ? f->pub : NULL, err, sizeof(err));
	if (f->c == NULL)
		fail_msg("central_new: %s", err);
	return (f);
}

static void
fixture_free(struct fixture *f)
{
	char	 cmd[128];

	central_free(f->c);
	event_base_free(f->base);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
}

/* The X-Tally-Signature value of body under f's secret key. */
static void
sign(struct fixture *f, const char *body, size_t len, char *out,
    size_t outlen)
{
	unsigned char	 sig[crypto_sign_BYTES];
	char		 b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
			    sodium_base64_VARIANT_ORIGINAL)];

	crypto_sign_detached(sig, NULL, (const unsigned char *)body, len,
	    f->sk);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
	    sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, outlen, "ed25519=%s", b64);
}

static int
post(struct fixture *f, const char *body, size_t len, const char *key,
    const char *sig, struct central_answer *a)
{
	return (central_post(f->c, (const unsigned char *)body, len, key, sig,
	    "test", a));
}

static void
test_store_duplicate_conflict(void **state)
{
	struct fixture		*f = fixture_new(0);
	struct central_answer	 a;
	char			 b[2048];
	size_t			 n, s, d, r;

	(void)state;
	n = mkbody(b, sizeof(b), 1, 4);
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", NULL, &a),
	    201);
	assert_string_equal(a.what, "stored");
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", NULL, &a),
	    200);
	assert_string_equal(a.what, "duplicate");
	/* Same key, other numbers. */
	n = mkbody(b, sizeof(b), 1, 5);
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", NULL, &a),
	    409);
	assert_string_equal(a.what, "conflict");
	/* No header key; another header key. */
	n = mkbody(b, sizeof(b), 2, 4);
	assert_int_equal(post(f, b, n, NULL, NULL, &a), 400);
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", NULL, &a),
	    422);
	assert_int_equal(post(f, b, n, "3201012001001-2-58331817", NULL, &a),
	    201);
	/* Members the contract does not name are ignored. */
	n = mkbody(b + 9, sizeof(b) - 9, 3, 4);
	memcpy(b, "{\"new\":[],", 10);
	assert_int_equal(post(f, b, n + 9, "3201012001001-3-58331817", NULL,
	    &a), 201);
	assert_int_equal(central_stats(f->c, &s, &d, &r), 0);
	assert_int_equal(s, 3);
	assert_int_equal(d, 1);
	assert_int_equal(r, 3);
	fixture_free(f);
}

static void
test_signature(void **state)
{
	struct fixture		*f = fixture_new(1);
	struct central_answer	 a;
	char			 b[2048], sig[128];
	size_t			 n;

	(void)state;
	n = mkbody(b, sizeof(b), 1, 4);
	sign(f, b, n, sig, sizeof(sig));
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", NULL, &a),
	    401);
	/* Signed over n - 1 bytes only. */
	assert_int_equal(post(f, b, n - 1, "3201012001001-1-58331817", sig,
	    &a), 401);
	/* One bit of the signature flipped. */
	sig[10] = sig[10] == 'A' ? 'B' : 'A';
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", sig, &a),
	    401);
	sign(f, b, n, sig, sizeof(sig));
	assert_int_equal(post(f, b, n, "3201012001001-1-58331817", sig, &a),
	    201);
	fixture_free(f);
}

/* Every string field against good and bad shapes. */
static void
test_shapes(void **state)
{
	static const struct {
		int		(*ok)(const char *);
		const char	*s;
		int		 want;
	} t[] = {
		{ central_is_time, "2024-02-14T10:00:00Z", 1 },
		{ central_is_time, "2024-02-14T10:00:00.5Z", 1 },
		{ central_is_time, "2024-02-14T10:00:00.123456789Z", 1 },
		{ central_is_time, "2024-02-14T10:00:00.1234567890Z", 0 },
		{ central_is_time, "2024-02-14T10:00:00.Z", 0 },
		{ central_is_time, "2024-02-14T10:00:00", 0 },
		{ central_is_time, "2024-02-14 10:00:00Z", 0 },
		{ central_is_time, "2024-02-14T24:00:00Z", 0 },
		{ central_is_time, "2024-00-14T10:00:00Z", 0 },
		{ central_is_time, "2024-02-14T10:00:00Zx", 0 },
		{ central_is_time, "2024-02", 0 },
		{ central_is_time, "", 0 },
		{ central_is_tps, "3201012001001", 1 },
		{ central_is_tps, "320101200100", 0 },
		{ central_is_tps, "32010120010011", 0 },
		{ central_is_tps, "320101200100a", 0 },
		{ central_is_code, "00000000", 1 },
		{ central_is_code, "0000000", 0 },
		{ central_is_contest, "DPRDK", 1 },
		{ central_is_contest, "dpr", 0 },
		{ central_is_contest, "2", 0 },
		{ central_is_line, "gw jabar", 1 },
		{ central_is_line, "gw\tjabar", 0 },
	};
	size_t	 i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (t[i].ok(t[i].s) != t[i].want)
			fail_msg("'%s': want %d", t[i].s, t[i].want);
}

/*
 * Random byte mutations of a valid body: the parser never crashes and
 * answers 400, 422 or accepts; ASan watches the memory.
 */
static void
test_mutations(void **state)
{
	struct central_req	 q;
	struct central_answer	 a;
	char			 good[2048], b[2048];
	size_t			 n, len, i;
	int			 k, rc;
	unsigned		 seed = 12345;

	(void)state;
	n = mkbody(good, sizeof(good), 7, 4);
	memset(&a, 0, sizeof(a));
	assert_int_equal(central_parse((unsigned char *)good, n, &q, &a), 0);
	central_req_free(&q);
	for (i = 0; i < 20000; i++) {
		memcpy(b, good, n);
		len = n;
		for (k = 0; k < 1 + (int)(i % 4); k++) {
			seed = seed * 1103515245 + 12345;
			switch ((seed >> 16) % 3) {
			case 0:		/* change a byte */
				b[(seed >> 4) % len] = (char)(seed >> 20);
				break;
			case 1:		/* cut the end */
				len = 1 + (seed >> 4) % len;
				break;
			default:	/* copy one byte over another */
				b[(seed >> 4) % len] = b[(seed >> 12) % len];
				break;
			}
		}
		memset(&a, 0, sizeof(a));
		rc = central_parse((unsigned char *)b, len, &q, &a);
		if (rc == -1 && a.status != 400 && a.status != 422)
			fail_msg("status %d for a mutated body", a.status);
		central_req_free(&q);
	}
}

/* What GET and `dump --json' show: the fields, as stored. */
static void
test_dump(void **state)
{
	struct fixture		*f = fixture_new(0);
	struct central_answer	 a;
	json_error_t		 je;
	json_t			*o;
	char			 b[2048], *out = NULL;
	size_t			 n, olen = 0;
	FILE			*fp;

	(void)state;
	n = mkbody(b, sizeof(b), 3, 9);
	assert_int_equal(post(f, b, n, "3201012001001-3-58331817", NULL, &a),
	    201);
	fp = open_memstream(&out, &olen);
	assert_non_null(fp);
	assert_int_equal(central_dump(f->c, fp, 1), 0);
	fclose(fp);
	assert_non_null(strchr(out, '\n'));
	assert_ptr_equal(strchr(out, '\n') + 1, out + olen);
	o = json_loads(out, 0, &je);
	assert_non_null(o);
	assert_string_equal(json_string_value(json_object_get(o, "tps")),
	    "3201012001001");
	assert_true(json_is_null(json_object_get(o, "page")));
	assert_int_equal(json_integer_value(json_object_get(o, "seq")), 3);
	assert_int_equal(json_array_size(json_object_get(o, "values")), 6);
	assert_int_equal(json_integer_value(json_array_get(
	    json_object_get(o, "values"), 5)), 9);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "flags"), 0)), "STALE");
	assert_string_equal(json_string_value(json_object_get(o,
	    "verified_at")), "2024-02-14T10:00:01.250Z");
	assert_true(json_is_false(json_object_get(o, "signature_ok")));
	assert_true(json_is_string(json_object_get(o, "stored_at")));
	json_decref(o);
	free(out);

	out = NULL;
	fp = open_memstream(&out, &olen);
	assert_non_null(fp);
	assert_int_equal(central_dump(f->c, fp, 0), 0);
	fclose(fp);
	assert_non_null(strstr(out, "STORED"));
	assert_non_null(strstr(out, "255 120 95 36 251 9"));
	free(out);
	fixture_free(f);
}

static void
test_down_up(void **state)
{
	struct fixture	*f = fixture_new(0);
	int		 port;

	(void)state;
	port = central_port(f->c);
	assert_true(port > 0);
	assert_false(central_is_down(f->c));
	central_set_down(f->c, 1);
	assert_true(central_is_down(f->c));
	central_set_down(f->c, 1);
	central_set_down(f->c, 0);
	assert_false(central_is_down(f->c));
	assert_int_equal(central_port(f->c), port);
	fixture_free(f);
}

static void
test_listen_arg(void **state)
{
	char	 addr[64];
	int	 port;

	(void)state;
	assert_int_equal(central_parse_listen("127.0.0.1:8080", addr,
	    sizeof(addr), &port), 0);
	assert_string_equal(addr, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(central_parse_listen("[::1]:0", addr, sizeof(addr),
	    &port), 0);
	assert_string_equal(addr, "::1");
	assert_int_equal(central_parse_listen(":9", addr, sizeof(addr),
	    &port), 0);
	assert_string_equal(addr, CENTRAL_DEFAULT_ADDR);
	assert_int_equal(central_parse_listen("host", addr, sizeof(addr),
	    &port), -1);
	assert_int_equal(central_parse_listen("host:", addr, sizeof(addr),
	    &port), -1);
	assert_int_equal(central_parse_listen("host:65536", addr,
	    sizeof(addr), &port), -1);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_store_duplicate_conflict),
	cmocka_unit_test(test_signature),
	cmocka_unit_test(test_shapes),
	cmocka_unit_test(test_mutations),
	cmocka_unit_test(test_dump),
	cmocka_unit_test(test_down_up),
	cmocka_unit_test(test_listen_arg),
};

UNIT_MAIN(tests)
