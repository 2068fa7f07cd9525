/*
 * wire: encode and decode the framed messages between the main process
 * and the modem workers. Which fields a type carries is a table, so the
 * encoder and the decoder cannot disagree.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "hash.h"
#include "wire.h"

enum wire_field {
	F_END = 0,
	F_LOCATION, F_REF, F_PART, F_TOTAL, F_CODE, F_MSGREF, F_STATUS,
	F_SIGNAL, F_REG, F_SIM_USED, F_SIM_TOTAL, F_ERRORS, F_FLAGS,
	F_NUMBER, F_TIME, F_TEXT, F_INFO,
};
#define F_FIRST_STRING	F_NUMBER
#define WIRE_MAXFIELDS	14

struct wire_kind {
	uint32_t	 type;
	const char	*name;
	enum wire_field	 fields[WIRE_MAXFIELDS];
};

static const struct wire_kind wire_kinds[] = {
	{ WIRE_HELLO, "HELLO", { F_TEXT, F_INFO } },
	{ WIRE_STATE, "STATE", { F_STATUS, F_TEXT } },
	{ WIRE_SMS, "SMS", { F_LOCATION, F_REF, F_PART, F_TOTAL, F_FLAGS,
	    F_NUMBER, F_TIME, F_TEXT, F_INFO } },
	{ WIRE_SEND_RESULT, "SEND_RESULT", { F_CODE, F_MSGREF, F_TEXT } },
	{ WIRE_STATUS_REPORT, "STATUS_REPORT", { F_MSGREF, F_STATUS,
	    F_LOCATION, F_NUMBER, F_TIME } },
	{ WIRE_HEALTH, "HEALTH", { F_SIGNAL, F_REG, F_SIM_USED, F_SIM_TOTAL,
	    F_ERRORS, F_INFO } },
	{ WIRE_USSD_ANSWER, "USSD_ANSWER", { F_CODE, F_TEXT } },
	{ WIRE_DELETE_RESULT, "DELETE_RESULT", { F_LOCATION, F_CODE,
	    F_INFO } },
	{ WIRE_HEARTBEAT, "HEARTBEAT", { F_END } },
	{ WIRE_SEND, "SEND", { F_FLAGS, F_NUMBER, F_TEXT } },
	{ WIRE_DELETE, "DELETE", { F_LOCATION, F_NUMBER, F_INFO } },
	{ WIRE_SWEEP, "SWEEP", { F_END } },
	{ WIRE_BALANCE, "BALANCE", { F_INFO } },
	{ WIRE_RECONNECT, "RECONNECT", { F_END } },
	{ WIRE_SHUTDOWN, "SHUTDOWN", { F_END } },
};

static const char *wire_states[] = {
	[MODEM_INIT] = "init",
	[MODEM_READY] = "ready",
	[MODEM_SENDING] = "sending",
	[MODEM_SWEEPING] = "sweeping",
	[MODEM_BROKEN] = "broken",
	[MODEM_BACKOFF] = "backoff",
};

static const struct wire_kind *
wire_kind(uint32_t type)
{
	size_t	 i;

	for (i = 0; i < sizeof(wire_kinds) / sizeof(wire_kinds[0]); i++)
		if (wire_kinds[i].type == type)
			return (&wire_kinds[i]);
	return (NULL);
}

const char *
wire_type_name(uint32_t type)
{
	const struct wire_kind	*k;

	if ((k = wire_kind(type)) == NULL)
		return ("UNKNOWN");
	return (k->name);
}

const char *
wire_state_name(int s)
{
	if (s < 0 || s > MODEM_STATE_MAX)
		return ("unknown");
	return (wire_states[s]);
}

/*
 * What tells one message at a SIM slot from the next one there, from
 * the fields its frame carries, so that the worker and the main process
 * compute the same: an SMS part by its SMSC time, its concatenation
 * reference and number, if any, and its text (FNV-1a), because the SMSC
 * time has whole seconds and an officer's next SMS may come within the
 * same one; a status report by its time, reference, status and number.
 * A DELETE carries it, and the SIM slot table keeps it (sim_slots).
 */
void
wire_ident(const struct wire_msg *msg, char *buf, size_t len)
{
	uint32_t	 h;

	if (msg->type == WIRE_STATUS_REPORT) {
		snprintf(buf, len, "%s SR%d/%d %s", msg->time,
		    (int)msg->msgref, (int)msg->status, msg->number);
		return;
	}
	h = hash_fnv(HASH_FNV_INIT, msg->text, strlen(msg->text));
	if (msg->total > 1)
		snprintf(buf, len, "%s %d/%d #%08x", msg->time, (int)msg->ref,
		    msg->part, h);
	else
		snprintf(buf, len, "%s #%08x", msg->time, h);
}

/*
 * Whether an identity kept (held) is this message's (part). One kept
 * before the text was part of it (no "#") is compared without the text.
 */
int
wire_ident_same(const char *held, const char *part)
{
	const char	*hash;

	if (strcmp(held, part) == 0)
		return (1);
	if (strchr(held, '#') != NULL || (hash = strstr(part, " #")) == NULL)
		return (0);
	return (strlen(held) == (size_t)(hash - part) &&
	    strncmp(held, part, hash - part) == 0);
}

/* Where a field lives in the struct, and for strings how big it is. */
static void *
wire_field_ptr(struct wire_msg *m, enum wire_field f, size_t *size)
{
	*size = 0;
	switch (f) {
	case F_LOCATION:	return (&m->location);
	case F_REF:		return (&m->ref);
	case F_PART:		return (&m->part);
	case F_TOTAL:		return (&m->total);
	case F_CODE:		return (&m->code);
	case F_MSGREF:		return (&m->msgref);
	case F_STATUS:		return (&m->status);
	case F_SIGNAL:		return (&m->signal);
	case F_REG:		return (&m->reg);
	case F_SIM_USED:	return (&m->sim_used);
	case F_SIM_TOTAL:	return (&m->sim_total);
	case F_ERRORS:		return (&m->errors);
	case F_FLAGS:		return (&m->flags);
	case F_NUMBER:		*size = sizeof(m->number); return (m->number);
	case F_TIME:		*size = sizeof(m->time); return (m->time);
	case F_TEXT:		*size = sizeof(m->text); return (m->text);
	case F_INFO:		*size = sizeof(m->info); return (m->info);
	case F_END:
		break;
	}
	return (NULL);
}

static void
wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t
wire_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

int
wire_encode(const struct wire_msg *m, uint8_t *buf, size_t bufsz,
    size_t *len)
{
	const struct wire_kind	*k;
	struct wire_msg		*mm = (struct wire_msg *)(uintptr_t)m;
	size_t			 off = WIRE_HDR_LEN, size, sl;
	const void		*p;
	int			 i;

	if ((k = wire_kind(m->type)) == NULL || bufsz < WIRE_HDR_LEN)
		return (-1);
	for (i = 0; i < WIRE_MAXFIELDS && k->fields[i] != F_END; i++) {
		p = wire_field_ptr(mm, k->fields[i], &size);
		if (k->fields[i] < F_FIRST_STRING) {
			if (off + 4 > bufsz)
				return (-1);
			wire_put32(buf + off, *(const uint32_t *)p);
			off += 4;
			continue;
		}
		sl = strnlen(p, size);
		if (sl == size || off + 2 + sl > bufsz ||
		    off + 2 + sl > WIRE_HDR_LEN + WIRE_MAX_PAYLOAD)
			return (-1);
		buf[off] = sl >> 8;
		buf[off + 1] = sl;
		memcpy(buf + off + 2, p, sl);
		off += 2 + sl;
	}
	wire_put32(buf, m->type);
	wire_put32(buf + 4, off - WIRE_HDR_LEN);
	wire_put32(buf + 8, m->id >> 32);
	wire_put32(buf + 12, m->id & 0xffffffff);
	*len = off;
	return (0);
}

/* 1: a message in *m, *used bytes consumed; 0: need more; -1: garbage. */
int
wire_decode(const uint8_t *buf, size_t n, struct wire_msg *m, size_t *used)
{
	const struct wire_kind	*k;
	uint32_t		 type, len;
	size_t			 off = WIRE_HDR_LEN, size, sl;
	void			*p;
	int			 i;

	if (n < WIRE_HDR_LEN)
		return (0);
	type = wire_get32(buf);
	len = wire_get32(buf + 4);
	if ((k = wire_kind(type)) == NULL || len > WIRE_MAX_PAYLOAD)
		return (-1);
	if (n < WIRE_HDR_LEN + (size_t)len)
		return (0);
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->id = (uint64_t)wire_get32(buf + 8) << 32 | wire_get32(buf + 12);
	n = WIRE_HDR_LEN + len;
	for (i = 0; i < WIRE_MAXFIELDS && k->fields[i] != F_END; i++) {
		p = wire_field_ptr(m, k->fields[i], &size);
		if (k->fields[i] < F_FIRST_STRING) {
			if (off + 4 > n)
				return (-1);
			*(uint32_t *)p = wire_get32(buf + off);
			off += 4;
			continue;
		}
		if (off + 2 > n)
			return (-1);
		sl = (size_t)buf[off] << 8 | buf[off + 1];
		if (sl >= size || off + 2 + sl > n ||
		    memchr(buf + off + 2, '\0', sl) != NULL)
			return (-1);
		memcpy(p, buf + off + 2, sl);
		((char *)p)[sl] = '\0';
		off += 2 + sl;
	}
	if (off != n)
		return (-1);
	*used = n;
	return (1);
}

/* Blocking write of one frame (the worker's side). */
int
wire_write(int fd, const struct wire_msg *m)
{
	uint8_t	 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t	 len, off = 0;
	ssize_t	 w;

	if (wire_encode(m, buf, sizeof(buf), &len) == -1)
		return (-1);
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return (-1);
		off += w;
	}
	return (0);
}

static int
wire_readall(int fd, uint8_t *p, size_t n)
{
	ssize_t	 r;

	while (n > 0) {
		r = read(fd, p, n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return (-1);
		p += r;
		n -= r;
	}
	return (0);
}

/*
 * Wait up to timeout ms (-1 forever) for a frame, then read it whole:
 * 1 a message, 0 nothing came, -1 EOF or garbage.
 */
int
wire_read(int fd, struct wire_msg *m, int timeout)
{
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	struct pollfd	 pfd;
	uint32_t	 len;
	size_t		 used;
	int		 r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	do {
		r = poll(&pfd, 1, timeout);
	} while (r == -1 && errno == EINTR);
	if (r == -1)
		return (-1);
	if (r == 0)
		return (0);
	if (wire_readall(fd, buf, WIRE_HDR_LEN) == -1)
		return (-1);
	len = wire_get32(buf + 4);
	if (len > WIRE_MAX_PAYLOAD)
		return (-1);
	if (wire_readall(fd, buf + WIRE_HDR_LEN, len) == -1)
		return (-1);
	if (wire_decode(buf, WIRE_HDR_LEN + len, m, &used) != 1)
		return (-1);
	return (1);
}

/* The control message that carries nfds descriptors (at most WIRE_FDS_MAX). */
union wire_cmsg {
	struct cmsghdr	 hdr;
	char		 buf[CMSG_SPACE(WIRE_FDS_MAX * sizeof(int))];
};

static void
wire_msghdr(struct msghdr *msg, struct iovec *iov, void *buf, size_t len,
    union wire_cmsg *c, size_t clen)
{
	memset(msg, 0, sizeof(*msg));
	memset(c, 0, sizeof(*c));
	iov->iov_base = buf;
	iov->iov_len = len;
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = c->buf;
	msg->msg_controllen = clen;
}

/*
 * One record and nfds descriptors (SCM_RIGHTS) on a SOCK_SEQPACKET
 * socket: the zygote's requests (modem/zygote.c). 0, or -1.
 */
int
wire_sendfds(int fd, const void *buf, size_t len, const int *fds, int nfds)
{
	union wire_cmsg	 c;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 r;

	if (nfds < 1 || nfds > WIRE_FDS_MAX) {
		errno = EINVAL;
		return (-1);
	}
	wire_msghdr(&msg, &iov, (void *)(uintptr_t)buf, len, &c,
	    CMSG_SPACE(nfds * sizeof(int)));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
	memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
	do
		r = sendmsg(fd, &msg, MSG_NOSIGNAL);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return (-1);
	if ((size_t)r != len) {
		errno = EMSGSIZE;
		return (-1);
	}
	return (0);
}

/*
 * One record of wire_sendfds and exactly its nfds descriptors (close on
 * exec): its length; 0 at end of file; -1 when the record or its
 * descriptors are not whole (what came is closed); -2 when the socket
 * fails (errno).
 */
ssize_t
wire_recvfds(int fd, void *buf, size_t len, int *fds, int nfds)
{
	union wire_cmsg	 c;
	struct msghdr	 msg;
	struct iovec	 iov;
	struct cmsghdr	*cm;
	ssize_t		 n;
	size_t		 i, got = 0;
	int		 have[WIRE_FDS_MAX];

	if (nfds < 1 || nfds > WIRE_FDS_MAX) {
		errno = EINVAL;
		return (-2);
	}
	for (i = 0; i < (size_t)nfds; i++)
		fds[i] = -1;
	wire_msghdr(&msg, &iov, buf, len, &c, sizeof(c.buf));
	do
		n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
	while (n == -1 && errno == EINTR);
	if (n == -1)
		return (-2);
	for (cm = CMSG_FIRSTHDR(&msg); cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		for (i = 0; CMSG_LEN((i + 1) * sizeof(int)) <= cm->cmsg_len &&
		    got < sizeof(have) / sizeof(have[0]); i++)
			memcpy(&have[got++], CMSG_DATA(cm) + i * sizeof(int),
			    sizeof(int));
	}
	if (n == 0 && got == 0)
		return (0);
	if (got != (size_t)nfds || n == 0 ||
	    (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		for (i = 0; i < got; i++)
			close(have[i]);
		return (-1);
	}
	memcpy(fds, have, nfds * sizeof(int));
	return (n);
}

/* One journal record as its fixed-length line (wire.h); -1 if invalid. */
int
wire_journal_encode(const struct wire_journal *j, char *buf, size_t len)
{
	char	 line[WIRE_JOURNAL_LEN];
	size_t	 i;
	int	 n, m;

	if (len < WIRE_JOURNAL_LEN || j->msgref < 0 || j->number[0] == '\0')
		return (-1);
	for (i = 0; j->number[i] != '\0'; i++)
		if (i + 1 >= sizeof(j->number) ||
		    (unsigned char)j->number[i] <= ' ' ||
		    (unsigned char)j->number[i] >= 0x7f)
			return (-1);
	n = snprintf(line, sizeof(line), "sent %llu msgref %d to %s",
	    (unsigned long long)j->id, (int)j->msgref, j->number);
	if (n < 0 || (size_t)n >= sizeof(line))
		return (-1);
	/* The checksum of the line before it: a torn line fails. */
	m = snprintf(buf, len, "%s fnv %08x", line,
	    hash_fnv(HASH_FNV_INIT, line, n));
	if (m < 0 || m >= WIRE_JOURNAL_LEN)
		return (-1);
	memset(buf + m, ' ', WIRE_JOURNAL_LEN - 1 - m);
	buf[WIRE_JOURNAL_LEN - 1] = '\n';
	return (0);
}

/* A journal line back into its record: -1 unless exactly as encoded. */
int
wire_journal_decode(const char *buf, size_t len, struct wire_journal *j)
{
	char			 again[WIRE_JOURNAL_LEN];
	unsigned long long	 id;
	int			 msgref;

	memset(j, 0, sizeof(*j));
	if (len != WIRE_JOURNAL_LEN || memchr(buf, '\0', len) != NULL)
		return (-1);
	if (sscanf(buf, "sent %20llu msgref %11d to %47s ", &id, &msgref,
	    j->number) != 3)
		return (-1);
	j->id = id;
	j->msgref = msgref;
	if (wire_journal_encode(j, again, sizeof(again)) == -1 ||
	    memcmp(again, buf, len) != 0) {
		memset(j, 0, sizeof(*j));
		return (-1);
	}
	return (0);
}

/* The worker's side: the record over the old one, on disk on return. */
int
wire_journal_write(int fd, const struct wire_journal *j)
{
	char	 buf[WIRE_JOURNAL_LEN];
	ssize_t	 w;

	if (wire_journal_encode(j, buf, sizeof(buf)) == -1)
		return (-1);
	do {
		w = pwrite(fd, buf, sizeof(buf), 0);
	} while (w == -1 && errno == EINTR);
	if (w != (ssize_t)sizeof(buf))
		return (-1);
	return (fdatasync(fd));
}

/* The main process's side: 1 a record, 0 none yet, -1 unreadable. */
int
wire_journal_read(int fd, struct wire_journal *j)
{
	char	 buf[WIRE_JOURNAL_LEN + 1];
	ssize_t	 r;

	memset(j, 0, sizeof(*j));
	do {
		r = pread(fd, buf, sizeof(buf), 0);
	} while (r == -1 && errno == EINTR);
	if (r == 0)
		return (0);
	if (r != WIRE_JOURNAL_LEN)
		return (-1);
	return (wire_journal_decode(buf, WIRE_JOURNAL_LEN, j) == 0 ? 1 : -1);
}
