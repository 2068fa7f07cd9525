/*
 * The AT command interpreter of a simulated USB modem: 3GPP 27.007
 * and 27.005 in PDU mode.  Bytes arrive in at_input(); a command line
 * ends with CR; it may hold several commands (ATE0V1, AT+CMGF=0;+CNMI?).
 * Commands are looked up in a table, tmux style: name -> handler.
 * A handler writes information lines with at_info() and returns a
 * result: R_OK, R_ERROR, R_CME(n), R_CMS(n) or R_LATER (it answers
 * itself later: the CMGS prompt).
 */

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "log.h"
#include "pdu.h"
#include "sim.h"

#define R_OK		0
#define R_ERROR		(-1)
#define R_LATER		1
#define R_CME(n)	(0x10000 | (n))
#define R_CMS(n)	(0x20000 | (n))

#define AT_ARGS_MAX	8
#define AT_ARG_LEN	200

#define CTRL_Z		0x1a
#define ESC		0x1b

#define MANUFACTURER	"Tallysim"
#define MODEL		"TS-3G1"
#define REVISION	"11.608.14.02.00"

enum at_op {
	OP_EXEC,		/* AT+X */
	OP_SET,			/* AT+X=... */
	OP_READ,		/* AT+X? */
	OP_TEST,		/* AT+X=? */
};

struct at_cmd {
	const char	*name;
	int		(*fn)(struct modem *, enum at_op, const char *);
};

struct at_args {
	int		 n;
	char		 v[AT_ARGS_MAX][AT_ARG_LEN];
	int		 quoted[AT_ARGS_MAX];
};

/* The answer being built for the current command line. */
static struct evbuffer	*resp;
static int		 resp_info;	/* an info line was written */
static int		 resp_delay;	/* simulated ms before the answer */

static const char *charsets[] = { "IRA", "GSM", "UCS2", "8859-1", "PCCP437" };
#define CS_IRA		0
#define CS_UCS2		2

static const char *at_state_names[] = {
	"idle", "busy", "prompt", "sending",
};

static void	at_line(struct modem *, char *);
static int	at_dispatch(struct modem *, const char *, enum at_op,
		    const char *);
static void	at_info(struct modem *, const char *, ...)
		    __attribute__((__format__ (printf, 2, 3)));
static void	at_result(struct modem *, int);
static void	at_answer(struct modem *);
static int	at_parse_args(const char *, struct at_args *);
static int	at_int(const struct at_args *, int, int, int, int *);
static const char *at_enc(struct modem *, const char *);
static int	at_dec(struct modem *, const char *, char *, size_t);
static void	at_submit(struct modem *);
static void	at_garbage(struct modem *);
static void	at_ussd(struct modem *, const char *);

static int	at_cmd_e(struct modem *, enum at_op, const char *);
static int	at_cmd_v(struct modem *, enum at_op, const char *);
static int	at_cmd_q(struct modem *, enum at_op, const char *);
static int	at_cmd_z(struct modem *, enum at_op, const char *);
static int	at_cmd_i(struct modem *, enum at_op, const char *);
static int	at_cmd_ok(struct modem *, enum at_op, const char *);
static int	at_cmd_error(struct modem *, enum at_op, const char *);
static int	at_cmd_s(struct modem *, enum at_op, const char *);
static int	at_cmd_cgmi(struct modem *, enum at_op, const char *);
static int	at_cmd_cgmm(struct modem *, enum at_op, const char *);
static int	at_cmd_cgmr(struct modem *, enum at_op, const char *);
static int	at_cmd_cgsn(struct modem *, enum at_op, const char *);
static int	at_cmd_cimi(struct modem *, enum at_op, const char *);
static int	at_cmd_ccid(struct modem *, enum at_op, const char *);
static int	at_cmd_gcap(struct modem *, enum at_op, const char *);
static int	at_cmd_cmee(struct modem *, enum at_op, const char *);
static int	at_cmd_cpin(struct modem *, enum at_op, const char *);
static int	at_cmd_csq(struct modem *, enum at_op, const char *);
static int	at_cmd_creg(struct modem *, enum at_op, const char *);
static int	at_cmd_cgreg(struct modem *, enum at_op, const char *);
static int	at_cmd_cgatt(struct modem *, enum at_op, const char *);
static int	at_cmd_cops(struct modem *, enum at_op, const char *);
static int	at_cmd_csca(struct modem *, enum at_op, const char *);
static int	at_cmd_cscs(struct modem *, enum at_op, const char *);
static int	at_cmd_cmgf(struct modem *, enum at_op, const char *);
static int	at_cmd_csms(struct modem *, enum at_op, const char *);
static int	at_cmd_cpms(struct modem *, enum at_op, const char *);
static int	at_cmd_cmgl(struct modem *, enum at_op, const char *);
static int	at_cmd_cmgr(struct modem *, enum at_op, const char *);
static int	at_cmd_cmgd(struct modem *, enum at_op, const char *);
static int	at_cmd_cmgs(struct modem *, enum at_op, const char *);
static int	at_cmd_cnmi(struct modem *, enum at_op, const char *);
static int	at_cmd_cnma(struct modem *, enum at_op, const char *);
static int	at_cmd_cmms(struct modem *, enum at_op, const char *);
static int	at_cmd_csmp(struct modem *, enum at_op, const char *);
static int	at_cmd_csdh(struct modem *, enum at_op, const char *);
static int	at_cmd_cusd(struct modem *, enum at_op, const char *);
static int	at_cmd_cfun(struct modem *, enum at_op, const char *);
static int	at_cmd_chup(struct modem *, enum at_op, const char *);
static int	at_cmd_cbc(struct modem *, enum at_op, const char *);
static int	at_cmd_cclk(struct modem *, enum at_op, const char *);
static int	at_cmd_cnum(struct modem *, enum at_op, const char *);
static int	at_cmd_cpas(struct modem *, enum at_op, const char *);
static int	at_cmd_ceer(struct modem *, enum at_op, const char *);
static int	at_cmd_clac(struct modem *, enum at_op, const char *);
static int	at_cmd_ignored(struct modem *, enum at_op, const char *);

/* Longest names first where one is a prefix of another. */
static const struct at_cmd at_cmds[] = {
	{ "E", at_cmd_e },
	{ "V", at_cmd_v },
	{ "Q", at_cmd_q },
	{ "Z", at_cmd_z },
	{ "&F", at_cmd_z },
	{ "I", at_cmd_i },
	{ "H", at_cmd_chup },
	{ "S", at_cmd_s },
	{ "X", at_cmd_ok },
	{ "L", at_cmd_ok },
	{ "M", at_cmd_ok },
	{ "&C", at_cmd_ok },
	{ "&D", at_cmd_ok },
	{ "&K", at_cmd_ok },
	{ "&W", at_cmd_ok },
	{ "&S", at_cmd_ok },
	{ "+CGMI", at_cmd_cgmi },
	{ "+GMI", at_cmd_cgmi },
	{ "+CGMM", at_cmd_cgmm },
	{ "+GMM", at_cmd_cgmm },
	{ "+CGMR", at_cmd_cgmr },
	{ "+GMR", at_cmd_cgmr },
	{ "+CGSN", at_cmd_cgsn },
	{ "+GSN", at_cmd_cgsn },
	{ "+CIMI", at_cmd_cimi },
	{ "+CCID", at_cmd_ccid },
	{ "+ICCID", at_cmd_ccid },
	{ "+GCAP", at_cmd_gcap },
	{ "+CMEE", at_cmd_cmee },
	{ "+CPIN", at_cmd_cpin },
	{ "+CSQ", at_cmd_csq },
	{ "+CREG", at_cmd_creg },
	{ "+CGREG", at_cmd_cgreg },
	{ "+CGATT", at_cmd_cgatt },
	{ "+COPS", at_cmd_cops },
	{ "+CSCA", at_cmd_csca },
	{ "+CSCS", at_cmd_cscs },
	{ "+CMGF", at_cmd_cmgf },
	{ "+CSMS", at_cmd_csms },
	{ "+CPMS", at_cmd_cpms },
	{ "+CMGL", at_cmd_cmgl },
	{ "+CMGR", at_cmd_cmgr },
	{ "+CMGD", at_cmd_cmgd },
	{ "+CMGS", at_cmd_cmgs },
	{ "+CNMI", at_cmd_cnmi },
	{ "+CNMA", at_cmd_cnma },
	{ "+CMMS", at_cmd_cmms },
	{ "+CSMP", at_cmd_csmp },
	{ "+CSDH", at_cmd_csdh },
	{ "+CUSD", at_cmd_cusd },
	{ "+CFUN", at_cmd_cfun },
	{ "+CHUP", at_cmd_chup },
	{ "+CBC", at_cmd_cbc },
	{ "+CCLK", at_cmd_cclk },
	{ "+CNUM", at_cmd_cnum },
	{ "+CPAS", at_cmd_cpas },
	{ "+CEER", at_cmd_ceer },
	{ "+CLAC", at_cmd_clac },
	{ "+CSAS", at_cmd_ok },
	{ "+CRES", at_cmd_ok },
	{ "+CSCB", at_cmd_ok },
	{ "+CRC", at_cmd_ignored },
	{ "+CLIP", at_cmd_ignored },
	{ "+CMER", at_cmd_ignored },
	{ "+IFC", at_cmd_ignored },
	{ "+IPR", at_cmd_ignored },
	{ "+MODE", at_cmd_error },
};
#define AT_NCMDS	(sizeof(at_cmds) / sizeof(at_cmds[0]))

const char *
at_state_name(enum at_state st)
{
	return (at_state_names[st]);
}

/*
 * How long the modem has been busy (any state but AT_IDLE: a command
 * runs, the network has not answered a send, or the prompt waits for
 * a PDU) up to now; *prompt gets the part spent at the prompt, which
 * is the client's time, not the modem's.
 */
uint64_t
at_busy_us(const struct modem *m, uint64_t now, uint64_t *prompt)
{
	uint64_t	 busy = m->st_busy_us, at = m->st_prompt_us, d;

	d = now > m->at_since_us ? now - m->at_since_us : 0;
	if (m->at != AT_IDLE)
		busy += d;
	if (m->at == AT_PROMPT)
		at += d;
	if (prompt != NULL)
		*prompt = at;
	return (busy);
}

void
at_set_state(struct modem *m, enum at_state st)
{
	uint64_t	 now;

	if (m->at == st)
		return;
	log_debug("sim: modem%d: at %s -> %s", m->idx,
	    at_state_names[m->at], at_state_names[st]);
	now = sim_now_us();
	m->st_busy_us = at_busy_us(m, now, &m->st_prompt_us);
	m->at_since_us = now;
	m->at = st;
	if (st == AT_IDLE)
		modem_urc_kick(m);
}

/* Power-on defaults (ATZ, AT&F). */
void
at_reset(struct modem *m)
{
	m->csms = 0;
	m->echo = 1;
	m->verbose = 1;
	m->quiet = 0;
	m->cmee = 0;
	m->cmgf = 0;
	m->cscs = CS_IRA;
	m->creg_n = 0;
	m->cgreg_n = 0;
	memset(m->cnmi, 0, sizeof(m->cnmi));
	m->cnmi[0] = 2;
	m->cnmi[1] = 1;
	m->cmms = 0;
	m->cfun = 1;
	m->cusd = 0;
	smsc_ack_drop(m, "reset");	/* after the reset: nothing waits */
}

/* Bytes from the client. */
void
at_input(struct modem *m, const unsigned char *buf, size_t len)
{
	size_t	 i;
	int	 c;

	for (i = 0; i < len; i++) {
		c = buf[i];
		if (m->fault.mute)
			continue;
		if (m->at == AT_PROMPT) {
			if (c == CTRL_Z) {
				m->pdu[m->pdulen] = '\0';
				at_submit(m);
			} else if (c == ESC) {
				m->pdulen = 0;
				at_set_state(m, AT_IDLE);
				modem_puts(m, "\r\nOK\r\n");
				modem_urc_kick(m);
			} else if (c == '\r' || c == '\n') {
				continue;
			} else if (m->pdulen < sizeof(m->pdu) - 1) {
				m->pdu[m->pdulen++] = c;
				if (m->echo)
					modem_write(m, (const char *)&buf[i], 1);
			}
			continue;
		}
		if (m->at != AT_IDLE)
			continue;	/* typed while busy: a modem drops it */
		if (c == ESC || c == CTRL_Z) {
			m->linelen = 0;
			continue;
		}
		if (c == '\n' && m->linelen == 0)
			continue;
		if (m->echo)
			modem_write(m, (const char *)&buf[i], 1);
		if (c == '\b' || c == 0x7f) {
			if (m->linelen > 0)
				m->linelen--;
			continue;
		}
		if (c == '\r') {
			m->line[m->linelen] = '\0';
			m->linelen = 0;
			at_line(m, m->line);
			continue;
		}
		if (m->linelen < sizeof(m->line) - 1)
			m->line[m->linelen++] = c;
	}
}

/* One information line of the answer being built. */
static void
at_info(struct modem *m, const char *fmt, ...)
{
	va_list	 ap;

	if (!resp_info && m->verbose)
		evbuffer_add(resp, "\r\n", 2);
	resp_info = 1;
	va_start(ap, fmt);
	evbuffer_add_vprintf(resp, fmt, ap);
	va_end(ap);
	evbuffer_add(resp, "\r\n", 2);
}

static const char *
at_cme_text(int n)
{
	switch (n) {
	case 3:
		return ("operation not allowed");
	case 4:
		return ("operation not supported");
	case 10:
		return ("SIM not inserted");
	case 21:
		return ("invalid index");
	case 30:
		return ("no network service");
	case 50:
		return ("incorrect parameters");
	default:
		return ("unknown");
	}
}

/* The final result code, as V/Q/CMEE say. */
static void
at_result(struct modem *m, int r)
{
	char	 s[80];

	if (m->quiet)
		return;
	if (r == R_OK) {
		evbuffer_add_printf(resp, m->verbose ? "\r\nOK\r\n" : "0\r");
		return;
	}
	m->st_errors++;
	if (r == R_ERROR || m->cmee == 0) {
		evbuffer_add_printf(resp, m->verbose ? "\r\nERROR\r\n" : "4\r");
		return;
	}
	if ((r & 0x10000) && m->cmee == 2)
		snprintf(s, sizeof(s), "+CME ERROR: %s",
		    at_cme_text(r & 0xffff));
	else
		snprintf(s, sizeof(s), "+%s ERROR: %d",
		    (r & 0x10000) ? "CME" : "CMS", r & 0xffff);
	evbuffer_add_printf(resp, "\r\n%s\r\n", s);
}

/* Write the built answer now, or after the simulated command time. */
static void
at_answer(struct modem *m)
{
	size_t	 len = evbuffer_get_length(resp);
	int	 ms = sim_scaled_ms(resp_delay);

	if (len == 0) {
		at_set_state(m, AT_IDLE);
		return;
	}
	if (m->fault.garbage) {
		evbuffer_drain(resp, len);
		at_garbage(m);
		at_set_state(m, AT_IDLE);
		return;
	}
	if (ms <= 0) {
		modem_write(m, (const char *)evbuffer_pullup(resp, -1), len);
		evbuffer_drain(resp, len);
		at_set_state(m, AT_IDLE);
		return;
	}
	free(m->pending);
	if ((m->pending = malloc(len + 1)) == NULL) {
		evbuffer_drain(resp, len);
		at_set_state(m, AT_IDLE);
		return;
	}
	evbuffer_remove(resp, m->pending, len);
	m->pending[len] = '\0';
	if (m->at == AT_IDLE)
		at_set_state(m, AT_BUSY);
	sim_after(m->ev_busy, ms);
}

/* The delayed answer of a command (or of a send) is due. */
void
at_busy_done(int fd, short ev, void *arg)
{
	struct modem	*m = arg;

	if (m->pending != NULL) {
		modem_puts(m, m->pending);
		free(m->pending);
		m->pending = NULL;
	}
	at_set_state(m, AT_IDLE);
}

/* Noise instead of an answer: a modem with a failing firmware. */
static void
at_garbage(struct modem *m)
{
	char	 junk[24];
	int	 i, n = 4 + sim_random() % 16;

	for (i = 0; i < n; i++)
		junk[i] = 0x21 + sim_random() % 90;
	modem_puts(m, "\r\n");
	modem_write(m, junk, n);
	modem_puts(m, "\r\n");
}

/*
 * Split and run one command line.  "AT" may be preceded by noise
 * (a real modem hunts for it); after it come basic commands (letters,
 * &-letters, S registers) and extended ones (+NAME...) up to ';'.
 */
static void
at_line(struct modem *m, char *line)
{
	char	*p, *q, name[32], args[SIM_LINE_MAX];
	enum at_op op;
	size_t	 n;
	int	 r = R_OK, inq;

	for (p = line; *p != '\0'; p++)
		if (toupper((unsigned char)p[0]) == 'A' &&
		    toupper((unsigned char)p[1]) == 'T')
			break;
	if (*p == '\0')
		return;
	p += 2;
	m->st_cmds++;
	log_debug("sim: modem%d: < %s", m->idx, line);
	if (resp == NULL && (resp = evbuffer_new()) == NULL)
		return;
	evbuffer_drain(resp, evbuffer_get_length(resp));
	resp_info = 0;
	resp_delay = 0;
	at_set_state(m, AT_BUSY);

	while (*p != '\0' && r == R_OK) {
		while (*p == ' ' || *p == ';')
			p++;
		if (*p == '\0')
			break;
		n = 0;
		if (strchr("+^$%*", *p) != NULL) {
			name[n++] = *p++;
			while (isalnum((unsigned char)*p) && n < sizeof(name) - 1)
				name[n++] = toupper((unsigned char)*p++);
		} else {
			if (*p == '&' && p[1] != '\0')
				name[n++] = *p++;
			name[n++] = toupper((unsigned char)*p++);
		}
		name[n] = '\0';
		args[0] = '\0';
		op = OP_EXEC;
		if (p[0] == '=' && p[1] == '?') {
			op = OP_TEST;
			p += 2;
		} else if (p[0] == '?') {
			op = OP_READ;
			p++;
		} else if (name[0] == 'S' && isdigit((unsigned char)*p)) {
			/* S-register: Sn=v or Sn? */
			for (q = args; isdigit((unsigned char)*p) &&
			    q < args + 8; )
				*q++ = *p++;
			*q = '\0';
			if (*p == '?') {
				op = OP_READ;
				p++;
			} else if (*p == '=') {
				op = OP_SET;
				p++;
				q = args + strlen(args);
				*q++ = ',';
				while (isdigit((unsigned char)*p) &&
				    q < args + 16)
					*q++ = *p++;
				*q = '\0';
			}
		} else if (p[0] == '=' || (name[0] != '+' &&
		    isdigit((unsigned char)*p))) {
			if (*p == '=')
				p++;
			op = OP_SET;
			inq = 0;
			q = args;
			while (*p != '\0' && (inq || *p != ';') &&
			    q < args + sizeof(args) - 1) {
				if (*p == '"')
					inq = !inq;
				if (name[0] != '+' && !isdigit((unsigned char)*p))
					break;
				*q++ = *p++;
			}
			*q = '\0';
		}
		r = at_dispatch(m, name, op, args);
	}
	if (r == R_LATER) {
		/* The handler answers itself (the CMGS prompt). */
		n = evbuffer_get_length(resp);
		if (n > 0) {
			modem_write(m, (const char *)evbuffer_pullup(resp, -1),
			    n);
			evbuffer_drain(resp, n);
		}
		return;
	}
	at_result(m, r);
	at_answer(m);
}

static int
at_dispatch(struct modem *m, const char *name, enum at_op op,
    const char *args)
{
	size_t	 i;

	for (i = 0; i < AT_NCMDS; i++)
		if (strcmp(at_cmds[i].name, name) == 0)
			return (at_cmds[i].fn(m, op, args));
	log_debug("sim: modem%d: unknown command %s", m->idx, name);
	return (R_ERROR);
}

/* Split "1,\"SM\",,3" into arguments; quotes removed but remembered. */
static int
at_parse_args(const char *s, struct at_args *a)
{
	size_t	 n = 0;
	int	 inq = 0;

	memset(a, 0, sizeof(*a));
	if (*s == '\0')
		return (0);
	a->n = 1;
	for (; *s != '\0'; s++) {
		if (*s == '"') {
			inq = !inq;
			a->quoted[a->n - 1] = 1;
			continue;
		}
		if (*s == ',' && !inq) {
			if (a->n == AT_ARGS_MAX)
				return (-1);
			a->n++;
			n = 0;
			continue;
		}
		if (!inq && *s == ' ')
			continue;
		if (n >= AT_ARG_LEN - 1)
			return (-1);
		a->v[a->n - 1][n++] = *s;
	}
	return (inq ? -1 : a->n);
}

/* Argument i as an integer in [lo, hi]; absent or empty gives def. */
static int
at_int(const struct at_args *a, int i, int lo, int hi, int *out)
{
	char	*ep;
	long	 v;

	if (i >= a->n || a->v[i][0] == '\0')
		return (0);
	v = strtol(a->v[i], &ep, 10);
	if (*ep != '\0' || v < lo || v > hi)
		return (-1);
	*out = v;
	return (0);
}

/* A string for the client in the current TE character set (CSCS). */
static const char *
at_enc(struct modem *m, const char *s)
{
	static char	 buf[1024];

	if (m->cscs == CS_UCS2) {
		if (pdu_utf8_to_ucs2_hex(s, buf, sizeof(buf)) == -1)
			buf[0] = '\0';
		return (buf);
	}
	snprintf(buf, sizeof(buf), "%s", s);
	return (buf);
}

/* A string from the client in the current TE character set. */
static int
at_dec(struct modem *m, const char *s, char *out, size_t outlen)
{
	if (m->cscs == CS_UCS2)
		return (pdu_ucs2_hex_to_utf8(s, out, outlen));
	if (strlen(s) >= outlen)
		return (-1);
	memcpy(out, s, strlen(s) + 1);
	return (0);
}

/* --- basic commands ------------------------------------------------ */

static int
at_cmd_e(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ || op == OP_TEST)
		return (R_ERROR);
	if (args[0] != '\0' && strcmp(args, "0") && strcmp(args, "1"))
		return (R_ERROR);
	m->echo = args[0] == '1';
	return (R_OK);
}

static int
at_cmd_v(struct modem *m, enum at_op op, const char *args)
{
	if (args[0] != '\0' && strcmp(args, "0") && strcmp(args, "1"))
		return (R_ERROR);
	m->verbose = args[0] == '1';
	return (R_OK);
}

static int
at_cmd_q(struct modem *m, enum at_op op, const char *args)
{
	if (args[0] != '\0' && strcmp(args, "0") && strcmp(args, "1"))
		return (R_ERROR);
	m->quiet = args[0] == '1';
	return (R_OK);
}

static int
at_cmd_z(struct modem *m, enum at_op op, const char *args)
{
	at_reset(m);
	return (R_OK);
}

static int
at_cmd_i(struct modem *m, enum at_op op, const char *args)
{
	at_info(m, "Manufacturer: %s", MANUFACTURER);
	at_info(m, "Model: %s", MODEL);
	at_info(m, "Revision: %s", REVISION);
	at_info(m, "IMEI: %s", m->imei);
	at_info(m, "+GCAP: +CGSM,+DS,+ES");
	return (R_OK);
}

static int
at_cmd_ok(struct modem *m, enum at_op op, const char *args)
{
	return (R_OK);
}

static int
at_cmd_error(struct modem *m, enum at_op op, const char *args)
{
	return (R_ERROR);
}

/* Settings a modem accepts and this one has no use for. */
static int
at_cmd_ignored(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ)
		return (R_ERROR);
	return (R_OK);
}

static int
at_cmd_s(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ) {
		at_info(m, "%03d", atoi(args) == 3 ? 13 :
		    atoi(args) == 4 ? 10 : 0);
	}
	return (R_OK);
}

/* --- identification ------------------------------------------------ */

static int
at_cmd_cgmi(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "%s", MANUFACTURER);
	return (R_OK);
}

static int
at_cmd_cgmm(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "%s", MODEL);
	return (R_OK);
}

static int
at_cmd_cgmr(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "%s", REVISION);
	return (R_OK);
}

static int
at_cmd_cgsn(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "%s", m->imei);
	return (R_OK);
}

static int
at_cmd_cimi(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "%s", m->imsi);
	return (R_OK);
}

static int
at_cmd_ccid(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "+CCID: %s", m->iccid);
	return (R_OK);
}

static int
at_cmd_gcap(struct modem *m, enum at_op op, const char *args)
{
	at_info(m, "+GCAP: +CGSM,+DS,+ES");
	return (R_OK);
}

static int
at_cmd_clac(struct modem *m, enum at_op op, const char *args)
{
	size_t	 i;

	for (i = 0; i < AT_NCMDS; i++)
		if (at_cmds[i].name[0] == '+')
			at_info(m, "AT%s", at_cmds[i].name);
	return (R_OK);
}

/* --- status -------------------------------------------------------- */

static int
at_cmd_cmee(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 v = 0;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CMEE: (0-2)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CMEE: %d", m->cmee);
		return (R_OK);
	case OP_EXEC:
		m->cmee = 0;
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 0, 2, &v))
			return (R_ERROR);
		m->cmee = v;
		return (R_OK);
	}
	return (R_ERROR);
}

static int
at_cmd_cpin(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ) {
		at_info(m, "+CPIN: READY");
		return (R_OK);
	}
	if (op == OP_TEST)
		return (R_OK);
	return (R_CME(3));
}

static int
at_cmd_csq(struct modem *m, enum at_op op, const char *args)
{
	int	 rssi;

	if (op == OP_TEST) {
		at_info(m, "+CSQ: (0-31,99),(0-7,99)");
		return (R_OK);
	}
	if (op != OP_EXEC)
		return (R_ERROR);
	rssi = m->fault.rssi >= 0 ? m->fault.rssi : m->rssi;
	if (m->cfun != 1)
		rssi = 99;
	at_info(m, "+CSQ: %d,99", rssi);
	return (R_OK);
}

/* Registration status: 1 home, 0 not searching, 3 denied. */
static int
at_reg(struct modem *m)
{
	if (m->cfun != 1)
		return (0);
	if (m->fault.noreg)
		return (m->fault.noreg == 3 ? 3 : 0);
	return (1);
}

static int
at_reg_cmd(struct modem *m, enum at_op op, const char *args, const char *name,
    int *n)
{
	struct at_args	 a;
	int		 v = 0, stat = at_reg(m);

	switch (op) {
	case OP_TEST:
		at_info(m, "+%s: (0-2)", name);
		return (R_OK);
	case OP_READ:
		if (*n == 2 && stat == 1)
			at_info(m, "+%s: %d,%d,\"%04X\",\"%04X\"", name, *n,
			    stat, 0x1000 + m->idx, 0x5000 + m->idx * 7);
		else
			at_info(m, "+%s: %d,%d", name, *n, stat);
		return (R_OK);
	case OP_EXEC:
		*n = 0;
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 0, 2, &v))
			return (R_CME(50));
		*n = v;
		return (R_OK);
	}
	return (R_ERROR);
}

static int
at_cmd_creg(struct modem *m, enum at_op op, const char *args)
{
	return (at_reg_cmd(m, op, args, "CREG", &m->creg_n));
}

static int
at_cmd_cgreg(struct modem *m, enum at_op op, const char *args)
{
	return (at_reg_cmd(m, op, args, "CGREG", &m->cgreg_n));
}

static int
at_cmd_cgatt(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ)
		at_info(m, "+CGATT: %d", at_reg(m) == 1);
	else if (op == OP_TEST)
		at_info(m, "+CGATT: (0,1)");
	return (R_OK);
}

static int
at_cmd_cops(struct modem *m, enum at_op op, const char *args)
{
	static int	 format;	/* shared by every modem: harmless */
	struct at_args	 a;
	int		 mode = 0, fmt = 0;

	switch (op) {
	case OP_TEST:
		at_info(m, "+COPS: (2,\"%s\",\"%s\",\"%s\",2),,(0-4),(0-2)",
		    at_enc(m, m->op->name), at_enc(m, m->op->shortname),
		    m->op->mccmnc);
		return (R_OK);
	case OP_READ:
		if (at_reg(m) != 1) {
			at_info(m, "+COPS: 0");
			return (R_OK);
		}
		if (format == 2)
			at_info(m, "+COPS: 0,2,\"%s\",2", m->op->mccmnc);
		else
			at_info(m, "+COPS: 0,%d,\"%s\",2", format, at_enc(m,
			    format == 1 ? m->op->shortname : m->op->name));
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) < 1 || at_int(&a, 0, 0, 4, &mode) ||
		    at_int(&a, 1, 0, 2, &fmt))
			return (R_CME(50));
		if (mode == 3)
			format = fmt;
		return (R_OK);
	case OP_EXEC:
		return (R_OK);
	}
	return (R_ERROR);
}

static int
at_cmd_cscs(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	size_t		 i;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CSCS: (\"IRA\",\"GSM\",\"UCS2\",\"8859-1\","
		    "\"PCCP437\")");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CSCS: \"%s\"", charsets[m->cscs]);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) != 1)
			return (R_CME(50));
		for (i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
			if (strcasecmp(a.v[0], charsets[i]) == 0) {
				m->cscs = i;
				return (R_OK);
			}
		return (R_CME(50));
	default:
		return (R_ERROR);
	}
}

static int
at_cmd_cfun(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 v = 1;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CFUN: (0,1,4),(0-1)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CFUN: %d", m->cfun);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) < 1 || at_int(&a, 0, 0, 7, &v))
			return (R_CME(50));
		if (v != 0 && v != 1 && v != 4)
			return (R_CME(50));
		m->cfun = v;
		return (R_OK);
	default:
		return (R_ERROR);
	}
}

static int
at_cmd_chup(struct modem *m, enum at_op op, const char *args)
{
	return (R_OK);
}

static int
at_cmd_cbc(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST) {
		at_info(m, "+CBC: (0-3),(0-100)");
		return (R_OK);
	}
	at_info(m, "+CBC: 0,100");
	return (R_OK);
}

static int
at_cmd_cclk(struct modem *m, enum at_op op, const char *args)
{
	struct tm	 tm;
	time_t		 t = time(NULL) + 7 * 3600;

	if (op == OP_SET || op == OP_TEST)
		return (R_OK);
	gmtime_r(&t, &tm);
	at_info(m, "+CCLK: \"%02d/%02d/%02d,%02d:%02d:%02d+28\"",
	    tm.tm_year % 100, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
	return (R_OK);
}

static int
at_cmd_cnum(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		return (R_OK);
	at_info(m, "+CNUM: \"\",\"%s\",145", at_enc(m, m->msisdn));
	return (R_OK);
}

static int
at_cmd_cpas(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_TEST)
		at_info(m, "+CPAS: (0-5)");
	else
		at_info(m, "+CPAS: 0");
	return (R_OK);
}

static int
at_cmd_ceer(struct modem *m, enum at_op op, const char *args)
{
	at_info(m, "+CEER: No cause information available");
	return (R_OK);
}

/* --- SMS settings -------------------------------------------------- */

static int
at_cmd_csca(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;

	switch (op) {
	case OP_TEST:
		return (R_OK);
	case OP_READ:
		at_info(m, "+CSCA: \"%s\",145", at_enc(m, m->op->smsc));
		return (R_OK);
	case OP_SET:
		/* Accepted and kept on the operator's: the network knows. */
		if (at_parse_args(args, &a) < 1)
			return (R_CMS(304));
		return (R_OK);
	default:
		return (R_ERROR);
	}
}

static int
at_cmd_cmgf(struct modem *m, enum at_op op, const char *args)
{
	switch (op) {
	case OP_TEST:
		at_info(m, "+CMGF: (0)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CMGF: %d", m->cmgf);
		return (R_OK);
	case OP_EXEC:
		m->cmgf = 0;
		return (R_OK);
	case OP_SET:
		if (strcmp(args, "0") == 0) {
			m->cmgf = 0;
			return (R_OK);
		}
		return (R_CMS(303));	/* text mode: not supported */
	}
	return (R_ERROR);
}

/*
 * Message service (27.005 3.2.1): 0, or 1 = phase 2+, where a +CMT or
 * +CDS routed to the TE must be acknowledged with AT+CNMA.
 */
static int
at_cmd_csms(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 v = 0;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CSMS: (0,1)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CSMS: %d,1,1,1", m->csms);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) != 1 || a.v[0][0] == '\0' ||
		    at_int(&a, 0, 0, 255, &v))
			return (R_CMS(304));
		if (v > 1)
			return (R_CMS(303));	/* service not supported */
		if (m->csms != v)
			log_debug("sim: modem%d: message service %d", m->idx,
			    v);
		m->csms = v;
		if (v == 0)
			smsc_ack_drop(m, "AT+CSMS=0");
		at_info(m, "+CSMS: 1,1,1");
		return (R_OK);
	default:
		return (R_ERROR);
	}
}

static int
at_cmd_csmp(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ)
		at_info(m, "+CSMP: 17,167,0,0");
	return (R_OK);
}

static int
at_cmd_csdh(struct modem *m, enum at_op op, const char *args)
{
	if (op == OP_READ)
		at_info(m, "+CSDH: 0");
	else if (op == OP_TEST)
		at_info(m, "+CSDH: (0,1)");
	return (R_OK);
}

static int
at_cmd_cmms(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 v = 0;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CMMS: (0-2)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CMMS: %d", m->cmms);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 0, 2, &v))
			return (R_CMS(304));
		m->cmms = v;
		return (R_OK);
	default:
		m->cmms = 0;
		return (R_OK);
	}
}

/* Only SIM storage ("SM") exists, as on most USB sticks with a SIM. */
static int
at_cmd_cpms(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 i, used = modem_sim_used(m), cap = m->nslots;

	/* fault simfull: the storage says it is full, as a full SIM does */
	if (m->fault.simfull)
		used = cap;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CPMS: (\"SM\"),(\"SM\"),(\"SM\")");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CPMS: \"SM\",%d,%d,\"SM\",%d,%d,\"SM\",%d,%d",
		    used, cap, used, cap, used, cap);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) < 1)
			return (R_CMS(302));
		for (i = 0; i < a.n; i++)
			if (a.v[i][0] != '\0' && strcasecmp(a.v[i], "SM") != 0)
				return (R_CMS(302));
		at_info(m, "+CPMS: %d,%d,%d,%d,%d,%d", used, cap, used, cap,
		    used, cap);
		return (R_OK);
	default:
		return (R_ERROR);
	}
}

/* --- reading, deleting --------------------------------------------- */

static int
at_cmd_cmgl(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 i, stat = 0;

	if (op == OP_TEST) {
		at_info(m, "+CMGL: (0-4)");
		return (R_OK);
	}
	if (m->cmgf != 0)
		return (R_CMS(302));
	if (op == OP_SET) {
		if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 0, 4, &stat))
			return (R_CMS(304));
	}
	for (i = 0; i < m->nslots; i++) {
		if (!m->slots[i].used)
			continue;
		if (stat != 4 && m->slots[i].stat != stat)
			continue;
		at_info(m, "+CMGL: %d,%d,,%d", i + 1, m->slots[i].stat,
		    m->slots[i].tpdu_len);
		evbuffer_add_printf(resp, "%s\r\n", m->slots[i].hex);
		if (m->slots[i].stat == 0)
			m->slots[i].stat = 1;
		resp_delay += sim->timing.read_ms;
	}
	return (R_OK);
}

static int
at_cmd_cmgr(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 idx = 0;
	struct slot	*s;

	if (op == OP_TEST)
		return (R_OK);
	if (op != OP_SET)
		return (R_CMS(302));
	if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 1, 65535, &idx) ||
	    idx == 0)
		return (R_CMS(321));
	if (idx > m->nslots)
		return (R_CMS(321));
	resp_delay += sim->timing.read_ms;
	s = &m->slots[idx - 1];
	if (!s->used)
		return (R_OK);	/* empty location: just OK */
	at_info(m, "+CMGR: %d,,%d", s->stat, s->tpdu_len);
	evbuffer_add_printf(resp, "%s\r\n", s->hex);
	if (s->stat == 0)
		s->stat = 1;
	return (R_OK);
}

static int
at_cmd_cmgd(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 idx = 0, flag = 0, i, del;

	if (op == OP_TEST) {
		at_info(m, "+CMGD: (1-%d),(0-4)", m->nslots);
		return (R_OK);
	}
	if (op != OP_SET || at_parse_args(args, &a) < 1 ||
	    at_int(&a, 0, 0, 65535, &idx) || at_int(&a, 1, 0, 4, &flag))
		return (R_CMS(304));
	resp_delay += sim->timing.delete_ms;
	if (flag == 0) {
		if (idx < 1 || idx > m->nslots)
			return (R_CMS(321));
		m->slots[idx - 1].used = 0;
		smsc_room(m);
		return (R_OK);
	}
	for (i = 0; i < m->nslots; i++) {
		if (!m->slots[i].used)
			continue;
		switch (flag) {
		case 1:
			del = m->slots[i].stat == 1;
			break;
		case 2:
			del = m->slots[i].stat == 1 || m->slots[i].stat == 3;
			break;
		case 3:
			del = m->slots[i].stat != 0;
			break;
		default:
			del = 1;
			break;
		}
		if (del)
			m->slots[i].used = 0;
	}
	smsc_room(m);
	return (R_OK);
}

/* --- sending ------------------------------------------------------- */

static int
at_cmd_cmgs(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 len = 0;

	if (op == OP_TEST)
		return (R_OK);
	if (op != OP_SET)
		return (R_CMS(304));
	if (m->cmgf != 0)
		return (R_CMS(302));
	if (at_parse_args(args, &a) != 1 || at_int(&a, 0, 7, 164, &len) ||
	    len == 0)
		return (R_CMS(304));
	m->cmgs_len = len;
	m->pdulen = 0;
	at_set_state(m, AT_PROMPT);
	evbuffer_add(resp, "\r\n> ", 4);
	return (R_LATER);
}

/* ^Z after the PDU: hand it to the network, answer +CMGS: mr later. */
static void
at_submit(struct modem *m)
{
	struct pdu_msg	 msg;
	int		 r, mr = 0;

	if (resp == NULL && (resp = evbuffer_new()) == NULL)
		return;
	evbuffer_drain(resp, evbuffer_get_length(resp));
	resp_info = 0;
	resp_delay = 0;
	at_set_state(m, AT_SENDING);
	if (pdu_decode(m->pdu, 1, &msg) == -1 || msg.type != PDU_SUBMIT ||
	    msg.tpdu_len != (int)m->cmgs_len) {
		log_warnx("sim: modem%d: bad PDU for CMGS=%zu: %s", m->idx,
		    m->cmgs_len, m->pdu);
		r = R_CMS(304);
	} else if ((r = smsc_submit(m, m->pdu, &mr)) != 0)
		r = R_CMS(r);
	else {
		m->st_sent++;
		at_info(m, "+CMGS: %d", mr);
		r = R_OK;
	}
	m->pdulen = 0;
	at_result(m, r);
	resp_delay = sim->timing.send_ms;
	if (r != R_OK)
		resp_delay /= 3;
	at_answer(m);
}

/* --- notifications ------------------------------------------------- */

static int
at_cmd_cnmi(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 v[5], i;
	static const int hi[5] = { 3, 3, 3, 2, 1 };

	switch (op) {
	case OP_TEST:
		/* Third range has 1-3: libGammu 1.42 insists (see notes). */
		at_info(m, "+CNMI: (0-2),(0-3),(0-3),(0-2),(0,1)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CNMI: %d,%d,%d,%d,%d", m->cnmi[0], m->cnmi[1],
		    m->cnmi[2], m->cnmi[3], m->cnmi[4]);
		return (R_OK);
	case OP_SET:
		if (at_parse_args(args, &a) < 1)
			return (R_CMS(303));
		memcpy(v, m->cnmi, sizeof(v));
		for (i = 0; i < 5; i++)
			if (at_int(&a, i, 0, hi[i], &v[i]))
				return (R_CMS(303));
		memcpy(m->cnmi, v, sizeof(v));
		return (R_OK);
	default:
		return (R_OK);
	}
}

/*
 * New message acknowledgement (27.005 3.4.4), PDU mode: AT+CNMA or
 * AT+CNMA=0 or 1 positive, 2 negative.  An acknowledgement TPDU
 * (<length> > 0) is not supported.
 */
static int
at_cmd_cnma(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 n = 0, len = 0;

	switch (op) {
	case OP_TEST:
		at_info(m, "+CNMA: (0-2)");
		return (R_OK);
	case OP_READ:
		return (R_ERROR);
	case OP_SET:
		if (at_parse_args(args, &a) < 1 || a.n > 2 ||
		    at_int(&a, 0, 0, 2, &n) || at_int(&a, 1, 0, 255, &len))
			return (R_CMS(304));
		break;
	case OP_EXEC:
		break;
	}
	/* 340: no +CNMA acknowledgement expected */
	if (!smsc_ack_expected(m))
		return (R_CMS(340));
	if (len > 0)
		return (R_CMS(303));
	if (smsc_cnma(m, n) == -1)
		return (R_CMS(340));
	return (R_OK);
}

static int
at_cmd_cusd(struct modem *m, enum at_op op, const char *args)
{
	struct at_args	 a;
	int		 n = 0, dcs = 15;
	char		 code[64];

	switch (op) {
	case OP_TEST:
		at_info(m, "+CUSD: (0-2)");
		return (R_OK);
	case OP_READ:
		at_info(m, "+CUSD: %d", m->cusd);
		return (R_OK);
	case OP_EXEC:
		m->cusd = 0;
		return (R_OK);
	default:
		break;
	}
	if (at_parse_args(args, &a) < 1 || at_int(&a, 0, 0, 2, &n) ||
	    at_int(&a, 2, 0, 255, &dcs))
		return (R_CME(50));
	if (n != 2)
		m->cusd = n;
	if (a.n < 2 || n == 2)
		return (R_OK);
	if (at_reg(m) != 1)
		return (R_CME(30));
	if (at_dec(m, a.v[1], code, sizeof(code)) == -1)
		return (R_CME(50));
	at_ussd(m, code);
	return (R_OK);
}

/* The operator's USSD service: the answer comes as +CUSD later. */
static void
at_ussd(struct modem *m, const char *code)
{
	char		 text[200];
	struct tm	 tm;
	time_t		 t = time(NULL) + 7 * 3600 + 60L * 86400;
	long		 rp = m->balance;

	gmtime_r(&t, &tm);
	if (strcmp(code, "*888#") == 0 || strcmp(code, "*123#") == 0 ||
	    strcmp(code, "*111#") == 0 || strcmp(code, "*388#") == 0 ||
	    strcmp(code, "*555#") == 0 || strcmp(code, "*999#") == 0) {
		snprintf(text, sizeof(text), "Sisa pulsa Anda Rp%ld.%03ld. "
		    "Aktif s.d. %02d-%02d-%04d", rp / 1000, rp % 1000,
		    tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
	} else if (strcmp(code, "*808#") == 0) {
		snprintf(text, sizeof(text), "Nomor Anda %s", m->msisdn + 1);
	} else {
		modem_urc(m, "+CUSD: 4");
		return;
	}
	modem_urc(m, "+CUSD: 0,\"%s\",%d", at_enc(m, text),
	    m->cscs == CS_UCS2 ? 72 : 15);
}
