/*
 * pducheck: a PDU as 3GPP TS 23.040 bounds it, checked before libGammu
 * 1.42 decodes it. libGammu's GSM_DecodePDUFrame trusts the lengths a
 * PDU carries: a 7-bit TP-UDL over 161 overflows its stack buffer
 * output[161] (also in a status report's optional data), a user data
 * header longer than the user data is copied past UDH.Text[140] into
 * the rest of the message (the sender's number among it), an address
 * of more than 200 digits overflows GSM_UnpackSemiOctetNumber's stack
 * buffer, and a header flag with no user data reads past the PDU. A
 * PDU this file accepts is within every bound libGammu relies on; one
 * it refuses is never given to libGammu (docs/modem.md, "Poison
 * messages"). Stricter than libGammu where the standard is: what a
 * real SMS centre sends passes.
 */

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "pducheck.h"

/* What one field's parser found, so the next knows where to start. */
struct pducheck_in {
	const uint8_t	*d;
	size_t		 n;
	size_t		 pos;
	struct pducheck	*out;
};

static int
pducheck_fail(struct pducheck_in *, const char *, ...)
    __attribute__((__format__ (printf, 2, 3)));

static int
pducheck_fail(struct pducheck_in *in, const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(in->out->why, sizeof(in->out->why), fmt, ap);
	va_end(ap);
	return (-1);
}

/* Octets left from pos on. */
static size_t
pducheck_left(const struct pducheck_in *in)
{
	return (in->pos < in->n ? in->n - in->pos : 0);
}

/*
 * An address field (9.1.2.5): length in digits, type of address, the
 * digits. With sender, a DELIVER's originator is kept as the gateway
 * shows senders: "+" for an international number, digits only, and an
 * alphanumeric one in letters and digits ('?' for anything else).
 */
static int
pducheck_addr(struct pducheck_in *in, char *sender, size_t sendersz)
{
	size_t	 digits, octets, i, k = 0;
	int	 toa, c, v;

	if (pducheck_left(in) < 2)
		return (pducheck_fail(in, "the PDU ends in an address (%d "
		    "octets left)", (int)pducheck_left(in)));
	digits = in->d[in->pos];
	toa = in->d[in->pos + 1];
	if (digits > PDUCHECK_ADDR_MAX)
		return (pducheck_fail(in, "an address of %d digits (at "
		    "most 20)", (int)digits));
	if (!(toa & 0x80))
		return (pducheck_fail(in, "an address type without its "
		    "high bit (0x%02x)", toa));
	octets = (digits + 1) / 2;
	if (pducheck_left(in) < 2 + octets)
		return (pducheck_fail(in, "the PDU ends in an address of %d "
		    "digits", (int)digits));
	if (sender != NULL && (toa & 0x70) == 0x50) {
		/* Alphanumeric: GSM 7-bit packed, digits*4/7 septets. */
		for (i = 0; i < digits * 4 / 7 &&
		    k + 1 < sendersz; i++) {
			c = in->d[in->pos + 2 + i * 7 / 8] >> (i * 7 % 8);
			if (i * 7 % 8 > 1 && i * 7 / 8 + 1 < octets)
				c |= in->d[in->pos + 3 + i * 7 / 8] <<
				    (8 - i * 7 % 8);
			c &= 0x7f;
			sender[k++] = (c >= '0' && c <= '9') ||
			    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ?
			    c : '?';
		}
	} else if (sender != NULL) {
		if ((toa & 0x70) == 0x10 && digits > 0)
			sender[k++] = '+';
		for (i = 0; i < digits && k + 1 < sendersz; i++) {
			v = in->d[in->pos + 2 + i / 2] >> (i % 2 ? 4 : 0) & 0xf;
			if (v < 10)
				sender[k++] = '0' + v;
		}
	}
	if (sender != NULL)
		sender[k] = '\0';
	in->pos += 2 + octets;
	return (0);
}

/*
 * Whether a TP-DCS (23.038 4) says 7-bit: the default alphabet, and the
 * reserved codings, which a receiver takes as the default alphabet.
 * -1 for compressed text, which libGammu refuses (ERR_NOTSUPPORTED, an
 * error that ends its sweep of the SIM).
 */
static int
pducheck_seven(int dcs)
{
	switch (dcs >> 4) {
	case 0x0: case 0x1: case 0x2: case 0x3:
	case 0x4: case 0x5: case 0x6: case 0x7:
		if (dcs & 0x20)
			return (-1);
		return ((dcs & 0x0c) == 0x04 || (dcs & 0x0c) == 0x08 ? 0 : 1);
	case 0xe:
		return (0);
	case 0xf:
		return (!(dcs & 0x04));
	default:			/* 1000..1011 reserved, 1100, 1101 */
		return (1);
	}
}

/* Octets of user data a TP-DCS and TP-UDL mean; -1 compressed. */
int
pducheck_ud_octets(int dcs, int udl)
{
	int	 seven;

	if ((seven = pducheck_seven(dcs)) == -1)
		return (-1);
	return (seven ? (udl * 7 + 7) / 8 : udl);
}

/* TP-UDL and TP-UD (9.2.3.16, 9.2.3.24), with its header if flagged. */
static int
pducheck_ud(struct pducheck_in *in, int dcs, int udhi)
{
	size_t	 udl, octets;
	int	 seven;

	if ((seven = pducheck_seven(dcs)) == -1)
		return (pducheck_fail(in, "compressed text (TP-DCS 0x%02x)",
		    dcs));
	if (pducheck_left(in) < 1)
		return (pducheck_fail(in, "no user data length"));
	udl = in->d[in->pos++];
	if (seven && udl > PDUCHECK_SEPTETS_MAX)
		return (pducheck_fail(in, "7-bit user data of %d characters "
		    "(at most 160)", (int)udl));
	if (!seven && udl > PDUCHECK_OCTETS_MAX)
		return (pducheck_fail(in, "user data of %d octets (at most "
		    "140)", (int)udl));
	octets = seven ? (udl * 7 + 7) / 8 : udl;
	if (pducheck_left(in) < octets)
		return (pducheck_fail(in, "user data of %d octets, %d in "
		    "the PDU", (int)octets, (int)pducheck_left(in)));
	if (udhi && (octets < 1 || (size_t)in->d[in->pos] + 1 > octets))
		return (pducheck_fail(in, "a user data header of %d octets "
		    "in less user data", octets < 1 ? 1 :
		    in->d[in->pos] + 1));
	in->pos += octets;
	return (0);
}

/* A status report's optional TP-PI, TP-PID, TP-DCS, TP-UDL (9.2.2.3). */
static int
pducheck_status_tail(struct pducheck_in *in, int udhi)
{
	size_t	 i;
	int	 pi, dcs = 0;

	for (i = in->pos; i < in->n && in->d[i] == 0xff; i++)
		;
	if (i == in->n) {
		in->pos = in->n;	/* nothing, or 0xFF padding */
		return (0);
	}
	pi = in->d[in->pos++];
	if (pi & 0x80)
		return (pducheck_fail(in, "an extended TP-PI (0x%02x)", pi));
	if ((pi & 0x01) && in->pos++ >= in->n)
		return (pducheck_fail(in, "the PDU ends in TP-PID"));
	if (pi & 0x02) {
		if (in->pos >= in->n)
			return (pducheck_fail(in, "the PDU ends in "
			    "TP-DCS"));
		dcs = in->d[in->pos++];
	}
	if (pi & 0x04)
		return (pducheck_ud(in, dcs, udhi));
	return (0);
}

/*
 * 0 if the PDU (with its SMSC address first when smsc) is within
 * 23.040's bounds and ends where its fields end (0xFF padding after it
 * allowed, as libGammu allows it); else -1 and out->why says what is
 * wrong. out->type and out->sender are filled as far as could be read.
 */
int
pducheck_pdu(const uint8_t *d, size_t n, int smsc, struct pducheck *out)
{
	struct pducheck_in	 in;
	size_t			 i;
	int			 first, dcs, vpf;

	memset(out, 0, sizeof(*out));
	out->type = PDUCHECK_UNKNOWN;
	in.d = d;
	in.n = n;
	in.pos = 0;
	in.out = out;
	if (smsc) {
		if (n < 1)
			return (pducheck_fail(&in, "an empty PDU"));
		if (d[0] > PDUCHECK_SMSC_MAX)
			return (pducheck_fail(&in, "an SMSC address of %d "
			    "octets (at most 11)", d[0]));
		if (d[0] > 0 && (n < 2 || !(d[1] & 0x80)))
			return (pducheck_fail(&in, "a bad SMSC address "
			    "type"));
		in.pos = 1 + d[0];
	}
	if (pducheck_left(&in) < 1)
		return (pducheck_fail(&in, "no TPDU after the SMSC "
		    "address"));
	first = d[in.pos++];
	out->type = (enum pducheck_type)(first & 3);
	switch (out->type) {
	case PDUCHECK_DELIVER:
		if (pducheck_addr(&in, out->sender, sizeof(out->sender)) ==
		    -1)
			return (-1);
		if (pducheck_left(&in) < 2 + 7)
			return (pducheck_fail(&in, "the PDU ends before its "
			    "time stamp"));
		dcs = d[in.pos + 1];
		in.pos += 2 + 7;		/* TP-PID, TP-DCS, TP-SCTS */
		if (pducheck_ud(&in, dcs, first & 0x40) == -1)
			return (-1);
		break;
	case PDUCHECK_SUBMIT:
		in.pos++;			/* TP-MR */
		if (pducheck_addr(&in, NULL, 0) == -1)
			return (-1);
		if (pducheck_left(&in) < 2)
			return (pducheck_fail(&in, "the PDU ends before "
			    "TP-DCS"));
		dcs = d[in.pos + 1];
		in.pos += 2;
		vpf = first >> 3 & 3;
		if (vpf == 1)
			return (pducheck_fail(&in, "an enhanced validity "
			    "period"));
		in.pos += vpf == 2 ? 1 : vpf == 3 ? 7 : 0;
		if (pducheck_ud(&in, dcs, first & 0x40) == -1)
			return (-1);
		break;
	case PDUCHECK_STATUS:
		in.pos++;			/* TP-MR */
		if (pducheck_addr(&in, NULL, 0) == -1)
			return (-1);
		if (pducheck_left(&in) < 7 + 7 + 1)
			return (pducheck_fail(&in, "the PDU ends before "
			    "TP-ST"));
		in.pos += 7 + 7 + 1;		/* TP-SCTS, TP-DT, TP-ST */
		if (pducheck_status_tail(&in, first & 0x40) == -1)
			return (-1);
		break;
	default:
		return (pducheck_fail(&in, "reserved message type (TP-MTI "
		    "%d)", first & 3));
	}
	for (i = in.pos; i < n; i++)
		if (d[i] != 0xff)
			return (pducheck_fail(&in, "%d octets after the user "
			    "data", (int)(n - in.pos)));
	return (0);
}

/* A PDU as upper-case hex, as the modem showed it; cut to fit out. */
size_t
pducheck_hex(const uint8_t *d, size_t n, char *out, size_t outsz)
{
	static const char	 hex[] = "0123456789ABCDEF";
	size_t			 i;

	if (outsz == 0)
		return (0);
	for (i = 0; i < n && 2 * i + 2 < outsz; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 0xf];
	}
	out[2 * i] = '\0';
	return (2 * i);
}
