/* Unit tests of wire: the framed messages between tallygw and its workers. */

#include <sys/socket.h>
#include <sys/stat.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "unit.h"
#include "wire.h"

/* Which fields each type carries, as wire.h and docs/design.md say. */
#define W_LOCATION	0x0001
#define W_REF		0x0002
#define W_PART		0x0004
#define W_TOTAL		0x0008
#define W_CODE		0x0010
#define W_MSGREF	0x0020
#define W_STATUS	0x0040
#define W_SIGNAL	0x0080
#define W_REG		0x0100
#define W_SIM_USED	0x0200
#define W_SIM_TOTAL	0x0400
#define W_ERRORS	0x0800
#define W_FLAGS		0x1000
#define W_NUMBER	0x2000
#define W_TIME		0x4000
#define W_TEXT		0x8000
#define W_INFO		0x10000
#define W_INTS		0x1fff

static const struct {
	uint32_t	 type;
	const char	*name;
	unsigned	 fields;
} kinds[] = {
	{ WIRE_HELLO, "HELLO", W_TEXT | W_INFO },
	{ WIRE_STATE, "STATE", W_STATUS | W_TEXT },
	{ WIRE_SMS, "SMS", W_LOCATION | W_REF | W_PART | W_TOTAL | W_FLAGS |
	    W_NUMBER | W_TIME | W_TEXT | W_INFO },
	{ WIRE_SEND_RESULT, "SEND_RESULT", W_CODE | W_MSGREF | W_TEXT },
	{ WIRE_STATUS_REPORT, "STATUS_REPORT", W_MSGREF | W_STATUS |
	    W_LOCATION | W_NUMBER | W_TIME },
	{ WIRE_HEALTH, "HEALTH", W_SIGNAL | W_REG | W_SIM_USED |
	    W_SIM_TOTAL | W_ERRORS | W_INFO },
	{ WIRE_USSD_ANSWER, "USSD_ANSWER", W_CODE | W_TEXT },
	{ WIRE_DELETE_RESULT, "DELETE_RESULT", W_LOCATION | W_CODE | W_INFO },
	{ WIRE_HEARTBEAT, "HEARTBEAT", 0 },
	{ WIRE_SEND, "SEND", W_FLAGS | W_NUMBER | W_TEXT },
	{ WIRE_DELETE, "DELETE", W_LOCATION | W_NUMBER | W_INFO },
	{ WIRE_SWEEP, "SWEEP", 0 },
	{ WIRE_BALANCE, "BALANCE", W_INFO },
	{ WIRE_RECONNECT, "RECONNECT", 0 },
	{ WIRE_SHUTDOWN, "SHUTDOWN", 0 },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

/* Every field set, to a value that differs from every other field. */
static void
fill(struct wire_msg *m, uint32_t type)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->id = 0x0102030405060708ULL;
	m->location = 17;
	m->ref = 201;
	m->part = 2;
	m->total = 3;
	m->code = -5;
	m->msgref = 250;
	m->status = 64;
	m->signal = -71;
	m->reg = 5;
	m->sim_used = 12;
	m->sim_total = 30;
	m->errors = 4;
	m->flags = WIRE_F_STORED | WIRE_F_UNICODE;
	snprintf(m->number, sizeof(m->number), "+6281234567890");
	snprintf(m->time, sizeof(m->time), "2024-02-14T09:12:01Z");
	snprintf(m->text, sizeof(m->text), "PPWP 1 6501011001001 1 245 "
	    "120 80 40 240 5 12345678 \xc3\xa9");
	snprintf(m->info, sizeof(m->info), "Telkomsel");
}

static void
check_field(int32_t got, int32_t want, unsigned fields, unsigned bit)
{
	assert_int_equal(got, (fields & bit) ? want : 0);
}

static void
check_string(const char *got, const char *want, unsigned fields,
    unsigned bit)
{
	assert_string_equal(got, (fields & bit) ? want : "");
}

static void
check_msg(const struct wire_msg *got, const struct wire_msg *want,
    unsigned f)
{
	assert_int_equal(got->type, want->type);
	assert_true(got->id == want->id);
	check_field(got->location, want->location, f, W_LOCATION);
	check_field(got->ref, want->ref, f, W_REF);
	check_field(got->part, want->part, f, W_PART);
	check_field(got->total, want->total, f, W_TOTAL);
	check_field(got->code, want->code, f, W_CODE);
	check_field(got->msgref, want->msgref, f, W_MSGREF);
	check_field(got->status, want->status, f, W_STATUS);
	check_field(got->signal, want->signal, f, W_SIGNAL);
	check_field(got->reg, want->reg, f, W_REG);
	check_field(got->sim_used, want->sim_used, f, W_SIM_USED);
	check_field(got->sim_total, want->sim_total, f, W_SIM_TOTAL);
	check_field(got->errors, want->errors, f, W_ERRORS);
	check_field(got->flags, want->flags, f, W_FLAGS);
	check_string(got->number, want->number, f, W_NUMBER);
	check_string(got->time, want->time, f, W_TIME);
	check_string(got->text, want->text, f, W_TEXT);
	check_string(got->info, want->info, f, W_INFO);
}

/* What the frame must weigh: 4 bytes an integer, 2 + length a string. */
static size_t
frame_len(const struct wire_msg *m, unsigned f)
{
	size_t	 n = WIRE_HDR_LEN;

	n += 4 * __builtin_popcount(f & W_INTS);
	if (f & W_NUMBER)
		n += 2 + strlen(m->number);
	if (f & W_TIME)
		n += 2 + strlen(m->time);
	if (f & W_TEXT)
		n += 2 + strlen(m->text);
	if (f & W_INFO)
		n += 2 + strlen(m->info);
	return (n);
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static void
test_roundtrip(void **state)
{
	struct wire_msg	 m, d;
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t		 len, used, i;

	(void)state;
	for (i = 0; i < NKINDS; i++) {
		fill(&m, kinds[i].type);
		assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), 0);
		assert_int_equal(len, frame_len(&m, kinds[i].fields));
		/* The header: type, payload length, id; big-endian. */
		assert_int_equal(get32(buf), kinds[i].type);
		assert_int_equal(get32(buf + 4), len - WIRE_HDR_LEN);
		assert_int_equal(get32(buf + 8), 0x01020304);
		assert_int_equal(get32(buf + 12), 0x05060708);
		memset(&d, 0x5a, sizeof(d));
		used = 0;
		assert_int_equal(wire_decode(buf, len, &d, &used), 1);
		assert_int_equal(used, len);
		check_msg(&d, &m, kinds[i].fields);
		assert_string_equal(wire_type_name(kinds[i].type),
		    kinds[i].name);
	}
}

/*
 * A message's identity (what a DELETE names) is the same computed by
 * the worker on what it read and by the main process on the frame it
 * decoded: it uses only fields the type carries.
 */
static void
test_ident(void **state)
{
	static const uint32_t	 types[] = { WIRE_SMS, WIRE_STATUS_REPORT };
	static const char	*want[] = {
		"2024-02-14T09:12:01Z 201/2 #6e2487dd",
		"2024-02-14T09:12:01Z SR250/64 +6281234567890",
	};
	struct wire_msg		 m, d;
	uint8_t			 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	char			 a[WIRE_IDENT_MAX], b[WIRE_IDENT_MAX];
	size_t			 len, used, i;

	(void)state;
	for (i = 0; i < 2; i++) {
		fill(&m, types[i]);
		wire_ident(&m, a, sizeof(a));
		assert_string_equal(a, want[i]);
		assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), 0);
		used = 0;
		assert_int_equal(wire_decode(buf, len, &d, &used), 1);
		wire_ident(&d, b, sizeof(b));
		assert_string_equal(a, b);
		assert_true(wire_ident_same(a, b));
	}
	/* A single SMS has no reference in it; another text, another one. */
	fill(&m, WIRE_SMS);
	m.total = 1;
	wire_ident(&m, a, sizeof(a));
	assert_string_equal(a, "2024-02-14T09:12:01Z #6e2487dd");
	m.text[0] = 'Q';
	wire_ident(&m, b, sizeof(b));
	assert_false(wire_ident_same(a, b));
	/* The longest fields are cut, the same way on both sides. */
	memset(m.time, 'T', sizeof(m.time) - 1);
	m.total = INT32_MAX;
	m.ref = m.part = INT32_MIN;
	wire_ident(&m, a, sizeof(a));
	assert_int_equal(strlen(a), WIRE_IDENT_MAX - 1);
	assert_true(WIRE_IDENT_MAX <= WIRE_INFO_MAX);
}

static void
test_extremes(void **state)
{
	struct wire_msg	 m, d;
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t		 len, used;

	(void)state;
	/* Longest strings, extreme integers, empty strings. */
	fill(&m, WIRE_SMS);
	memset(m.number, '9', sizeof(m.number) - 1);
	memset(m.time, 'T', sizeof(m.time) - 1);
	memset(m.text, 'x', sizeof(m.text) - 1);
	m.location = INT32_MIN;
	m.ref = INT32_MAX;
	m.part = -1;
	m.total = 0;
	m.id = UINT64_MAX;
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(wire_decode(buf, len, &d, &used), 1);
	check_msg(&d, &m, kinds[2].fields);
	fill(&m, WIRE_HEALTH);
	m.info[0] = '\0';
	m.id = 0;
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), 0);
	assert_int_equal(wire_decode(buf, len, &d, &used), 1);
	check_msg(&d, &m, kinds[5].fields);
	assert_string_equal(d.info, "");

	/* A string that fills its field has no NUL: refused. */
	fill(&m, WIRE_SEND);
	memset(m.number, '1', sizeof(m.number));
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), -1);
	fill(&m, WIRE_BALANCE);
	memset(m.info, '*', sizeof(m.info));
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), -1);
	/* Unknown types are not encoded. */
	fill(&m, WIRE_NONE);
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), -1);
	fill(&m, 99);
	assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), -1);
	assert_string_equal(wire_type_name(99), "UNKNOWN");
	assert_string_equal(wire_type_name(WIRE_NONE), "UNKNOWN");
}

/* Every buffer short of the frame is refused, without writing past it. */
static void
test_encode_short(void **state)
{
	struct wire_msg	 m;
	uint8_t		*buf;
	size_t		 len, need, n;

	(void)state;
	fill(&m, WIRE_SMS);
	need = frame_len(&m, kinds[2].fields);
	for (n = 0; n < need; n++) {
		buf = malloc(n > 0 ? n : 1);
		assert_non_null(buf);
		assert_int_equal(wire_encode(&m, buf, n, &len), -1);
		free(buf);
	}
	buf = malloc(need);
	assert_int_equal(wire_encode(&m, buf, need, &len), 0);
	assert_int_equal(len, need);
	free(buf);
}

/* Any prefix of a frame: need more (0), never an error. */
static void
test_truncated(void **state)
{
	struct wire_msg	 m, d;
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD], *copy;
	size_t		 len, used, n, i;

	(void)state;
	for (i = 0; i < NKINDS; i++) {
		fill(&m, kinds[i].type);
		assert_int_equal(wire_encode(&m, buf, sizeof(buf), &len), 0);
		for (n = 0; n < len; n++) {
			copy = malloc(n > 0 ? n : 1);
			memcpy(copy, buf, n);
			used = 12345;
			assert_int_equal(wire_decode(copy, n, &d, &used), 0);
			assert_int_equal(used, 12345);
			free(copy);
		}
	}
}

/* Two frames in one buffer: one at a time. */
static void
test_stream(void **state)
{
	struct wire_msg	 a, b, d;
	uint8_t		 buf[2 * (WIRE_HDR_LEN + WIRE_MAX_PAYLOAD)];
	size_t		 la, lb, used;

	(void)state;
	fill(&a, WIRE_SMS);
	fill(&b, WIRE_HEARTBEAT);
	b.id = 7;
	assert_int_equal(wire_encode(&a, buf, sizeof(buf), &la), 0);
	assert_int_equal(wire_encode(&b, buf + la, sizeof(buf) - la, &lb), 0);
	assert_int_equal(lb, WIRE_HDR_LEN);
	assert_int_equal(wire_decode(buf, la + lb, &d, &used), 1);
	assert_int_equal(used, la);
	check_msg(&d, &a, kinds[2].fields);
	assert_int_equal(wire_decode(buf + used, la + lb - used, &d, &used),
	    1);
	assert_int_equal(used, lb);
	assert_int_equal(d.type, WIRE_HEARTBEAT);
	assert_true(d.id == 7);
}

static void
test_garbage(void **state)
{
	static const uint32_t	 unknown[] = {
		WIRE_NONE, WIRE_HEARTBEAT + 1, 31, WIRE_SHUTDOWN + 1,
		0x100 | WIRE_SMS, 0xffffffff,
	};
	struct wire_msg		 m, d;
	uint8_t			 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD + 16];
	uint8_t			 frame[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t			 len, used, i, off;

	(void)state;
	/* Unknown types: an error as soon as the header is in. */
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		memset(buf, 0, WIRE_HDR_LEN);
		put32(buf, unknown[i]);
		assert_int_equal(wire_decode(buf, WIRE_HDR_LEN, &d, &used),
		    -1);
	}
	/* A payload over the maximum: an error before it arrives. */
	memset(buf, 0, WIRE_HDR_LEN);
	put32(buf, WIRE_SMS);
	put32(buf + 4, WIRE_MAX_PAYLOAD + 1);
	assert_int_equal(wire_decode(buf, WIRE_HDR_LEN, &d, &used), -1);
	put32(buf + 4, 0xffffffff);
	assert_int_equal(wire_decode(buf, WIRE_HDR_LEN, &d, &used), -1);

	/* Fields that do not fit the payload length. */
	fill(&m, WIRE_SMS);
	assert_int_equal(wire_encode(&m, frame, sizeof(frame), &len), 0);
	for (i = 0; i < len - WIRE_HDR_LEN; i++) {
		memcpy(buf, frame, len);
		put32(buf + 4, i);
		assert_int_equal(wire_decode(buf, len, &d, &used), -1);
	}
	/* Bytes left over after the last field. */
	memcpy(buf, frame, len);
	buf[len] = 'z';
	put32(buf + 4, len - WIRE_HDR_LEN + 1);
	assert_int_equal(wire_decode(buf, len + 1, &d, &used), -1);
	memset(buf, 0, sizeof(buf));
	put32(buf, WIRE_HEARTBEAT);
	put32(buf + 4, 1);
	assert_int_equal(wire_decode(buf, WIRE_HDR_LEN + 1, &d, &used), -1);

	/* SMS payload: 5 integers, then number, time, text. */
	off = WIRE_HDR_LEN + 5 * 4;
	assert_int_equal((frame[off] << 8 | frame[off + 1]),
	    strlen(m.number));
	/* A string longer than its field. */
	memcpy(buf, frame, len);
	buf[off] = 0x0f;
	assert_int_equal(wire_decode(buf, len, &d, &used), -1);
	/* The text one byte longer than the payload left. */
	i = off + 2 + strlen(m.number) + 2 + strlen(m.time);
	assert_int_equal((frame[i] << 8 | frame[i + 1]), strlen(m.text));
	memcpy(buf, frame, len);
	buf[i + 1]++;
	assert_int_equal(wire_decode(buf, len, &d, &used), -1);
	assert_int_equal(wire_decode(buf, len + 1, &d, &used), -1);
	/* A string as long as its field (no room for the NUL). */
	memset(buf, 0, sizeof(buf));
	put32(buf, WIRE_SEND);
	put32(buf + 4, 4 + 2 + WIRE_NUMBER_MAX + 2);
	buf[WIRE_HDR_LEN + 4 + 1] = WIRE_NUMBER_MAX;
	memset(buf + WIRE_HDR_LEN + 6, '1', WIRE_NUMBER_MAX);
	assert_int_equal(wire_decode(buf, WIRE_HDR_LEN + 4 + 2 +
	    WIRE_NUMBER_MAX + 2, &d, &used), -1);
	/* One shorter is fine. */
	put32(buf + 4, 4 + 2 + WIRE_NUMBER_MAX - 1 + 2);
	buf[WIRE_HDR_LEN + 4 + 1] = WIRE_NUMBER_MAX - 1;
	buf[WIRE_HDR_LEN + 6 + WIRE_NUMBER_MAX - 1] = 0;
	buf[WIRE_HDR_LEN + 6 + WIRE_NUMBER_MAX] = 0;
	assert_int_equal(wire_decode(buf, WIRE_HDR_LEN + 4 + 2 +
	    WIRE_NUMBER_MAX - 1 + 2, &d, &used), 1);
	assert_int_equal(strlen(d.number), WIRE_NUMBER_MAX - 1);
	/* A NUL inside a string. */
	memcpy(buf, frame, len);
	buf[off + 2 + 3] = '\0';
	assert_int_equal(wire_decode(buf, len, &d, &used), -1);
	memcpy(buf, frame, len);
	assert_int_equal(wire_decode(buf, len, &d, &used), 1);
}

static void
test_state_names(void **state)
{
	(void)state;
	assert_string_equal(wire_state_name(MODEM_INIT), "init");
	assert_string_equal(wire_state_name(MODEM_READY), "ready");
	assert_string_equal(wire_state_name(MODEM_SENDING), "sending");
	assert_string_equal(wire_state_name(MODEM_SWEEPING), "sweeping");
	assert_string_equal(wire_state_name(MODEM_BROKEN), "broken");
	assert_string_equal(wire_state_name(MODEM_BACKOFF), "backoff");
	assert_string_equal(wire_state_name(-1), "unknown");
	assert_string_equal(wire_state_name(MODEM_STATE_MAX + 1), "unknown");
}

static void
test_socket(void **state)
{
	struct wire_msg	 m, d;
	uint8_t		 hdr[WIRE_HDR_LEN];
	size_t		 i;
	int		 sv[2];

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	/* Nothing there yet. */
	assert_int_equal(wire_read(sv[1], &d, 0), 0);
	assert_int_equal(wire_read(sv[1], &d, 50), 0);
	/* Every type, in order; the longest text too. */
	for (i = 0; i < NKINDS; i++) {
		fill(&m, kinds[i].type);
		m.id = i;
		assert_int_equal(wire_write(sv[0], &m), 0);
	}
	fill(&m, WIRE_SMS);
	memset(m.text, 'x', sizeof(m.text) - 1);
	assert_int_equal(wire_write(sv[0], &m), 0);
	for (i = 0; i < NKINDS; i++) {
		fill(&m, kinds[i].type);
		m.id = i;
		assert_int_equal(wire_read(sv[1], &d, 1000), 1);
		check_msg(&d, &m, kinds[i].fields);
	}
	fill(&m, WIRE_SMS);
	memset(m.text, 'x', sizeof(m.text) - 1);
	assert_int_equal(wire_read(sv[1], &d, 1000), 1);
	check_msg(&d, &m, kinds[2].fields);
	/* What cannot be encoded is not written. */
	fill(&m, 99);
	assert_int_equal(wire_write(sv[0], &m), -1);
	assert_int_equal(wire_read(sv[1], &d, 0), 0);

	/* Garbage: an unknown type, a payload over the maximum. */
	memset(hdr, 0, sizeof(hdr));
	put32(hdr, 77);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(wire_read(sv[1], &d, 1000), -1);
	put32(hdr, WIRE_SMS);
	put32(hdr + 4, WIRE_MAX_PAYLOAD + 1);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(wire_read(sv[1], &d, 1000), -1);

	/* A frame cut by EOF, then EOF alone. */
	put32(hdr, WIRE_DELETE);
	put32(hdr + 4, 4);
	assert_int_equal(write(sv[0], hdr, sizeof(hdr)), sizeof(hdr));
	assert_int_equal(write(sv[0], "\0\0", 2), 2);
	close(sv[0]);
	assert_int_equal(wire_read(sv[1], &d, 1000), -1);
	assert_int_equal(wire_read(sv[1], &d, 1000), -1);
	close(sv[1]);
	/* A closed descriptor. */
	assert_int_equal(wire_read(sv[1], &d, 0), -1);
	fill(&m, WIRE_HEARTBEAT);
	assert_int_equal(wire_write(sv[1], &m), -1);
}

/* The send journal's line (wire.h), its checks, and the file. */
/* Two descriptors refer to one open file: same inode, shared offset. */
static int
same_file(int a, int b)
{
	struct stat	 sa, sb;

	return (fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);
}

/* Open descriptors of this process, to see that none leaked. */
static int
open_fds(void)
{
	int	 fd, n = 0;

	for (fd = 0; fd < 1024; fd++)
		n += fcntl(fd, F_GETFD) != -1;
	return (n);
}

/*
 * wire_sendfds / wire_recvfds, the zygote's requests: a record and two
 * descriptors arrive whole, close-on-exec; a record that does not fit,
 * one without descriptors or with too few is refused with what came
 * closed; end of file is 0.
 */
static void
test_fds(void **state)
{
	char	 buf[64];
	int	 sp[2], p[2], fds[2], base;
	ssize_t	 n;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sp), 0);
	assert_int_equal(pipe(p), 0);
	base = open_fds();

	/* whole: both descriptors, the bytes, close-on-exec */
	assert_int_equal(wire_sendfds(sp[0], "ab\0cd", 6, p, 2), 0);
	n = wire_recvfds(sp[1], buf, sizeof(buf), fds, 2);
	assert_int_equal(n, 6);
	assert_memory_equal(buf, "ab\0cd", 6);
	assert_true(fds[0] != p[0] && same_file(fds[0], p[0]));
	assert_true(fds[1] != p[1] && same_file(fds[1], p[1]));
	assert_true(fcntl(fds[0], F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(fds[1], F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(fds[1], "x", 1), 1);	/* the same pipe */
	assert_int_equal(read(p[0], buf, 1), 1);
	assert_int_equal(buf[0], 'x');
	close(fds[0]);
	close(fds[1]);
	assert_int_equal(open_fds(), base);

	/* longer than the reader's buffer: refused, nothing left open */
	memset(buf, 'a', sizeof(buf));
	assert_int_equal(wire_sendfds(sp[0], buf, sizeof(buf), p, 2), 0);
	assert_int_equal(wire_recvfds(sp[1], buf, 8, fds, 2), -1);
	assert_int_equal(fds[0], -1);
	assert_int_equal(open_fds(), base);

	/* one descriptor where two are wanted: refused, it is closed */
	assert_int_equal(wire_sendfds(sp[0], "a", 2, p, 1), 0);
	assert_int_equal(wire_recvfds(sp[1], buf, sizeof(buf), fds, 2), -1);
	assert_int_equal(open_fds(), base);

	/* a record without descriptors: refused */
	assert_int_equal(send(sp[0], "a", 2, 0), 2);
	assert_int_equal(wire_recvfds(sp[1], buf, sizeof(buf), fds, 2), -1);

	/* no descriptors, or more than WIRE_FDS_MAX, cannot be sent */
	assert_int_equal(wire_sendfds(sp[0], "a", 2, p, 0), -1);
	assert_int_equal(wire_sendfds(sp[0], "a", 2, p, WIRE_FDS_MAX + 1),
	    -1);

	/* the sender gone: end of file */
	close(sp[0]);
	assert_int_equal(wire_recvfds(sp[1], buf, sizeof(buf), fds, 2), 0);
	close(sp[1]);
	close(p[0]);
	close(p[1]);
}

static void
test_journal(void **state)
{
	/* FNV-1a 32 of the line before " fnv", computed by hand. */
	static const char	 head[] = "sent 42 msgref 7 to +6281234567890"
				    " fnv 9b3c7ebf";
	struct wire_journal	 j, d;
	char			 buf[WIRE_JOURNAL_LEN], bad[WIRE_JOURNAL_LEN];
	char			 path[] = "/tmp/test_wire.XXXXXX";
	size_t			 i;
	int			 fd;

	(void)state;
	memset(&j, 0, sizeof(j));
	j.id = 42;
	j.msgref = 7;
	snprintf(j.number, sizeof(j.number), "+6281234567890");
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf)), 0);
	assert_memory_equal(buf, head, strlen(head));
	for (i = strlen(head); i < sizeof(buf) - 1; i++)
		assert_int_equal(buf[i], ' ');
	assert_int_equal(buf[sizeof(buf) - 1], '\n');
	assert_int_equal(wire_journal_decode(buf, sizeof(buf), &d), 0);
	assert_true(d.id == 42 && d.msgref == 7);
	assert_string_equal(d.number, "+6281234567890");
	/* Any byte changed, as a torn write would: refused. */
	for (i = 0; i < sizeof(buf); i++) {
		memcpy(bad, buf, sizeof(buf));
		bad[i] = bad[i] == '5' ? '6' : '5';
		assert_int_equal(wire_journal_decode(bad, sizeof(bad), &d),
		    -1);
		assert_true(d.id == 0);
	}
	assert_int_equal(wire_journal_decode(buf, sizeof(buf) - 1, &d), -1);
	/* What a line cannot hold. */
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf) - 1), -1);
	j.msgref = -1;
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf)), -1);
	j.msgref = 255;
	snprintf(j.number, sizeof(j.number), "+62 812");
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf)), -1);
	j.number[0] = '\0';
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf)), -1);
	memset(j.number, '9', sizeof(j.number) - 1);
	j.number[sizeof(j.number) - 1] = '\0';
	j.id = UINT64_MAX;
	assert_int_equal(wire_journal_encode(&j, buf, sizeof(buf)), 0);
	assert_int_equal(wire_journal_decode(buf, sizeof(buf), &d), 0);
	assert_true(d.id == UINT64_MAX && d.msgref == 255);

	/* The file: empty, a record, the next record over it. */
	assert_true((fd = mkstemp(path)) != -1);
	unlink(path);
	assert_int_equal(wire_journal_read(fd, &d), 0);
	j.id = 1;
	snprintf(j.number, sizeof(j.number), "+6281");
	assert_int_equal(wire_journal_write(fd, &j), 0);
	j.id = 2;
	assert_int_equal(wire_journal_write(fd, &j), 0);
	assert_int_equal(wire_journal_read(fd, &d), 1);
	assert_true(d.id == 2);
	assert_int_equal(lseek(fd, 0, SEEK_END), WIRE_JOURNAL_LEN);
	/* A line cut short, or garbage: unreadable, not a record. */
	assert_int_equal(ftruncate(fd, WIRE_JOURNAL_LEN - 1), 0);
	assert_int_equal(wire_journal_read(fd, &d), -1);
	assert_int_equal(pwrite(fd, "xx", 2, 0), 2);
	assert_int_equal(wire_journal_read(fd, &d), -1);
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_ident),
		cmocka_unit_test(test_extremes),
		cmocka_unit_test(test_encode_short),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_state_names),
		cmocka_unit_test(test_socket),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_journal),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
