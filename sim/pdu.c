/*
 * SMS PDUs by hand: 3GPP TS 23.040 (the TPDUs) and TS 23.038 (the GSM
 * 7-bit default alphabet and its extension table).  The simulator's
 * SMSC writes SMS-DELIVER and SMS-STATUS-REPORT and reads SMS-SUBMIT;
 * test drivers write SUBMITs.  Long texts are split the way libGammu
 * (which the real peers use) splits them, so that the parts, their
 * lengths and the AT+CMGS lengths stay what those peers expect.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pdu.h"

/* 23.040 9.2.3.1-9.2.3.23: the first octet of a TPDU. */
#define PDU_MTI_MASK	0x03
#define PDU_MTI_DELIVER	0x00
#define PDU_MTI_SUBMIT	0x01
#define PDU_MTI_REPORT	0x02
#define PDU_FB_MMS	0x04	/* DELIVER, REPORT: no more messages */
#define PDU_FB_VPF	0x18
#define PDU_VPF_REL	0x10
#define PDU_FB_SRR	0x20	/* SRR in a SUBMIT, SRI in a DELIVER */
#define PDU_FB_UDHI	0x40

/* 23.040 9.1.2.5: type of address. */
#define PDU_TOA_UNKNOWN	0x81
#define PDU_TOA_INTL	0x91
#define PDU_TOA_ALNUM	0xd0
#define PDU_TON_MASK	0x70
#define PDU_TON_INTL	0x10
#define PDU_TON_ALNUM	0x50
#define PDU_ADDR_OCTETS	50	/* GSM_MAX_NUMBER_LENGTH, TOA included */

#define PDU_DCS_GSM7	0x00
#define PDU_DCS_8BIT	0x04
#define PDU_DCS_UCS2	0x08

#define PDU_UD_MAX	140	/* octets of TP-UD */
#define PDU_GSM7_MAX	160	/* septets in one part */
#define PDU_UCS2_MAX	70	/* UTF-16 units in one part */
#define PDU_GSM7_PART	153	/* ... of a concatenated message */
#define PDU_UCS2_PART	67
#define PDU_ESC		0x1b
#define PDU_EXT		0x100	/* pdu_gsm7_find: an extension char */
#define PDU_WIB		(7 * 3600)
#define PDU_WIB_TZ	0x82	/* +28 quarters, semi-octets swapped */
#define PDU_FRAME_MAX	(PDU_HEX_MAX / 2)

/* 23.038 6.2.1: the default alphabet; 0x1b is the escape. */
static const uint16_t pdu_gsm7[128] = {
	0x0040, 0x00a3, 0x0024, 0x00a5, 0x00e8, 0x00e9, 0x00f9, 0x00ec,
	0x00f2, 0x00c7, 0x000a, 0x00d8, 0x00f8, 0x000d, 0x00c5, 0x00e5,
	0x0394, 0x005f, 0x03a6, 0x0393, 0x039b, 0x03a9, 0x03a0, 0x03a8,
	0x03a3, 0x0398, 0x039e, 0xffff, 0x00c6, 0x00e6, 0x00df, 0x00c9,
	0x0020, 0x0021, 0x0022, 0x0023, 0x00a4, 0x0025, 0x0026, 0x0027,
	0x0028, 0x0029, 0x002a, 0x002b, 0x002c, 0x002d, 0x002e, 0x002f,
	0x0030, 0x0031, 0x0032, 0x0033, 0x0034, 0x0035, 0x0036, 0x0037,
	0x0038, 0x0039, 0x003a, 0x003b, 0x003c, 0x003d, 0x003e, 0x003f,
	0x00a1, 0x0041, 0x0042, 0x0043, 0x0044, 0x0045, 0x0046, 0x0047,
	0x0048, 0x0049, 0x004a, 0x004b, 0x004c, 0x004d, 0x004e, 0x004f,
	0x0050, 0x0051, 0x0052, 0x0053, 0x0054, 0x0055, 0x0056, 0x0057,
	0x0058, 0x0059, 0x005a, 0x00c4, 0x00d6, 0x00d1, 0x00dc, 0x00a7,
	0x00bf, 0x0061, 0x0062, 0x0063, 0x0064, 0x0065, 0x0066, 0x0067,
	0x0068, 0x0069, 0x006a, 0x006b, 0x006c, 0x006d, 0x006e, 0x006f,
	0x0070, 0x0071, 0x0072, 0x0073, 0x0074, 0x0075, 0x0076, 0x0077,
	0x0078, 0x0079, 0x007a, 0x00e4, 0x00f6, 0x00f1, 0x00fc, 0x00e0,
};

/* 23.038 6.2.1.1: the extension table, after an escape. */
static const struct {
	uint8_t		 code;
	uint16_t	 ucs;
} pdu_gsm7_ext[] = {
	{ 0x0a, 0x000c }, { 0x14, 0x005e }, { 0x28, 0x007b },
	{ 0x29, 0x007d }, { 0x2f, 0x005c }, { 0x3c, 0x005b },
	{ 0x3d, 0x007e }, { 0x3e, 0x005d }, { 0x40, 0x007c },
	{ 0x65, 0x20ac },
};
#define PDU_NEXT	(sizeof(pdu_gsm7_ext) / sizeof(pdu_gsm7_ext[0]))

/* A frame being written; `over' once something did not fit. */
struct pdu_buf {
	uint8_t		 b[PDU_FRAME_MAX];
	size_t		 len;
	int		 over;
};

/* The user data of one part, before packing. */
struct pdu_ud {
	enum pdu_coding	 coding;
	uint8_t		 udh[8];	/* UDHL included */
	size_t		 udhlen;	/* 0: no header */
	uint8_t		 data[PDU_GSM7_MAX]; /* septets, or octets */
	size_t		 len;
};

/* Where a text is cut into parts: part i is units off[i]..off[i+1]. */
struct pdu_split {
	enum pdu_coding	 coding;
	int		 n;
	size_t		 off[PDU_PARTS_MAX + 1];
};

int
pdu_init(void)
{
	return (0);
}

/* --- characters ---------------------------------------------------- */

/*
 * One code point of UTF-8; 0 at the end or at a malformed sequence
 * (overlong, surrogate, past U+10FFFF), where the text is cut short.
 * C0 80, modified UTF-8's U+0000, is read as U+0000: so a text given as
 * a C string (a test's `ctl inject') can send a NUL, in UCS-2.
 */
static int
pdu_utf8_get(const unsigned char **sp, uint32_t *cp)
{
	const unsigned char	*s = *sp;
	uint32_t		 c;
	int			 n, i;

	if (s[0] < 0x80)
		c = s[0], n = 1;
	else if ((s[0] & 0xe0) == 0xc0)
		c = s[0] & 0x1f, n = 2;
	else if ((s[0] & 0xf0) == 0xe0)
		c = s[0] & 0x0f, n = 3;
	else if ((s[0] & 0xf8) == 0xf0)
		c = s[0] & 0x07, n = 4;
	else
		return (0);
	if (c == 0 && n == 1)
		return (0);
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && c < 0x80 && c != 0) || (n == 3 && c < 0x800) ||
	    (n == 4 && c < 0x10000) || c > 0x10ffff ||
	    (c >= 0xd800 && c <= 0xdfff))
		return (0);
	*sp = s + n;
	*cp = c;
	return (1);
}

/* Append one code point as UTF-8, keeping room for the NUL. */
static int
pdu_utf8_put(char *out, size_t outlen, size_t *pos, uint32_t c)
{
	unsigned char	 b[4];
	size_t		 n;

	if (c < 0x80)
		b[0] = c, n = 1;
	else if (c < 0x800) {
		b[0] = 0xc0 | c >> 6;
		b[1] = 0x80 | (c & 0x3f);
		n = 2;
	} else if (c < 0x10000) {
		b[0] = 0xe0 | c >> 12;
		b[1] = 0x80 | ((c >> 6) & 0x3f);
		b[2] = 0x80 | (c & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | c >> 18;
		b[1] = 0x80 | ((c >> 12) & 0x3f);
		b[2] = 0x80 | ((c >> 6) & 0x3f);
		b[3] = 0x80 | (c & 0x3f);
		n = 4;
	}
	if (*pos + n >= outlen)
		return (-1);
	memcpy(out + *pos, b, n);
	*pos += n;
	out[*pos] = '\0';
	return (0);
}

/*
 * UTF-8 -> UTF-16 units (surrogate pairs outside the BMP), in a new
 * array; *n gets the count.  Parts are counted in UTF-16 units, as
 * UCS-2 messages carry them.
 */
static uint16_t *
pdu_utf16(const char *text, size_t *n)
{
	const unsigned char	*s = (const unsigned char *)text;
	uint16_t		*u;
	uint32_t		 c;
	size_t			 k = 0;

	if ((u = calloc(strlen(text) + 1, sizeof(*u))) == NULL)
		return (NULL);
	while (pdu_utf8_get(&s, &c)) {
		if (c >= 0x10000) {
			c -= 0x10000;
			u[k++] = 0xd800 | c >> 10;
			u[k++] = 0xdc00 | (c & 0x3ff);
		} else
			u[k++] = c;
	}
	*n = k;
	return (u);
}

/* UTF-16 units -> UTF-8; a lone surrogate shows as U+FFFD, U+0000 ends. */
static int
pdu_utf16_to_utf8(const uint16_t *u, size_t n, char *out, size_t outlen)
{
	size_t		 i, pos = 0;
	uint32_t	 c;

	if (outlen == 0)
		return (-1);
	out[0] = '\0';
	for (i = 0; i < n && u[i] != 0; i++) {
		c = u[i];
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < n &&
		    u[i + 1] >= 0xdc00 && u[i + 1] <= 0xdfff)
			c = 0x10000 + ((c - 0xd800) << 10) + (u[++i] - 0xdc00);
		else if (c >= 0xd800 && c <= 0xdfff)
			c = 0xfffd;
		if (pdu_utf8_put(out, outlen, &pos, c) == -1)
			return (-1);
	}
	return (0);
}

/* A character in GSM 7-bit: its septet, PDU_EXT|code, or -1. */
static int
pdu_gsm7_find(uint32_t c)
{
	size_t	 i;

	for (i = 0; i < PDU_NEXT; i++)
		if (pdu_gsm7_ext[i].ucs == c)
			return (PDU_EXT | pdu_gsm7_ext[i].code);
	for (i = 0; i < 128; i++)
		if (pdu_gsm7[i] == c && i != PDU_ESC)
			return ((int)i);
	return (-1);
}

/*
 * Septets -> UTF-8.  An escape before a code the extension table does
 * not have shows that code from the main table (23.038 6.2.1.1); a
 * second escape is a space, a last one nothing.
 */
static int
pdu_gsm7_to_utf8(const uint8_t *s, size_t n, char *out, size_t outlen)
{
	size_t		 i, j, pos = 0;
	uint32_t	 c;

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		c = pdu_gsm7[s[i] & 0x7f];
		if ((s[i] & 0x7f) == PDU_ESC) {
			if (++i == n)
				break;
			c = (s[i] & 0x7f) == PDU_ESC ? ' ' : pdu_gsm7[s[i] & 0x7f];
			for (j = 0; j < PDU_NEXT; j++)
				if (pdu_gsm7_ext[j].code == (s[i] & 0x7f))
					c = pdu_gsm7_ext[j].ucs;
		}
		if (pdu_utf8_put(out, outlen, &pos, c) == -1)
			return (-1);
	}
	return (0);
}

/* UTF-16 units -> septets, '?' for what GSM 7-bit lacks; -1 if > max. */
static int
pdu_gsm7_septets(const uint16_t *u, size_t n, uint8_t *sept, size_t max,
    size_t *len)
{
	size_t	 i, k = 0;
	int	 s;

	for (i = 0; i < n; i++) {
		if ((s = pdu_gsm7_find(u[i])) == -1)
			s = '?';
		if (k + ((s & PDU_EXT) ? 2 : 1) > max)
			return (-1);
		if (s & PDU_EXT)
			sept[k++] = PDU_ESC;
		sept[k++] = s & 0x7f;
	}
	*len = k;
	return (0);
}

/* Septet at bit offset `bit' of a zeroed buffer, low bits first. */
static void
pdu_septet_put(uint8_t *b, size_t bit, uint8_t s)
{
	b[bit / 8] |= (uint8_t)(s << (bit % 8));
	if (bit % 8 > 1)
		b[bit / 8 + 1] |= s >> (8 - bit % 8);
}

/* Septet at bit offset `bit' of a buffer of len octets. */
static uint8_t
pdu_septet_get(const uint8_t *b, size_t len, size_t bit)
{
	unsigned int	 v = b[bit / 8];

	if (bit / 8 + 1 < len)
		v |= (unsigned int)b[bit / 8 + 1] << 8;
	return ((v >> (bit % 8)) & 0x7f);
}

/* --- splitting ----------------------------------------------------- */

/* Marks that combine with the character before them (as libGammu). */
static int
pdu_combining(uint16_t c)
{
	return ((c >= 0xfe20 && c <= 0xfe2f) || (c >= 0x300 && c <= 0x36f) ||
	    (c >= 0x1ab0 && c <= 0x1aff) || (c >= 0x1dc0 && c <= 0x1dff) ||
	    (c >= 0x20d0 && c <= 0x20ff));
}

/*
 * Units of the next UCS-2 part: never half a surrogate pair, not right
 * before a combining mark, and not between two regional indicators
 * (a flag), as libGammu's AlignSegmentForContent cuts (which could
 * split a pair when a combining mark followed one).
 */
static size_t
pdu_ucs2_cut(const uint16_t *u, size_t rem, size_t max)
{
	size_t	 k = rem < max ? rem : max;

	if (k > 1 && u[k - 1] >= 0xd800 && u[k - 1] <= 0xdbff)
		k--;
	else if (k > 1 && k < rem && pdu_combining(u[k])) {
		k--;
		/* libGammu stopped here, inside an emoji: not us. */
		if (k > 1 && u[k - 1] >= 0xd800 && u[k - 1] <= 0xdbff)
			k--;
	}
	if (k > 2 && k + 2 < rem && u[k - 2] == 0xd83c && u[k] == 0xd83c &&
	    u[k - 1] >= 0xdde6 && u[k - 1] <= 0xddff &&
	    u[k + 1] >= 0xdde6 && u[k + 1] <= 0xddff)
		k -= 2;
	return (k);
}

/* Characters of the next GSM 7-bit part: never half an escape pair. */
static size_t
pdu_gsm7_cut(const uint16_t *u, size_t rem, size_t max)
{
	size_t	 k, sept = 0, w;

	for (k = 0; k < rem; k++) {
		w = (pdu_gsm7_find(u[k]) & PDU_EXT) ? 2 : 1;
		if (sept + w > max)
			break;
		sept += w;
	}
	return (k);
}

/*
 * Choose the coding and the parts of a text: GSM 7-bit if every
 * character is in the alphabet or its extension, else UCS-2; one part
 * up to 160 septets or 70 units, else parts of 153 or 67 with an 8-bit
 * concatenation header.  -1 past PDU_PARTS_MAX parts.
 */
static int
pdu_split(const uint16_t *u, size_t n, struct pdu_split *sp)
{
	size_t	 i, pos = 0, sept = 0;
	int	 s;

	sp->coding = PDU_GSM7;
	for (i = 0; i < n; i++) {
		if ((s = pdu_gsm7_find(u[i])) == -1) {
			sp->coding = PDU_UCS2;
			break;
		}
		sept += (s & PDU_EXT) ? 2 : 1;
	}
	sp->n = 1;
	sp->off[0] = 0;
	sp->off[1] = n;
	if (sp->coding == PDU_GSM7 ? sept <= PDU_GSM7_MAX : n <= PDU_UCS2_MAX)
		return (0);
	for (sp->n = 0; pos < n; sp->n++) {
		if (sp->n == PDU_PARTS_MAX)
			return (-1);
		if (sp->coding == PDU_GSM7)
			pos += pdu_gsm7_cut(u + pos, n - pos, PDU_GSM7_PART);
		else
			pos += pdu_ucs2_cut(u + pos, n - pos, PDU_UCS2_PART);
		sp->off[sp->n + 1] = pos;
	}
	return (0);
}

/* --- writing ------------------------------------------------------- */

static void
pdu_put(struct pdu_buf *f, const uint8_t *p, size_t n)
{
	if (f->over || f->len + n > sizeof(f->b)) {
		f->over = 1;
		return;
	}
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

static void
pdu_put1(struct pdu_buf *f, int v)
{
	uint8_t	 b = (uint8_t)v;

	pdu_put(f, &b, 1);
}

/* A digit of a BCD address (23.040 9.1.2.3), or -1. */
static int
pdu_bcd_digit(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	return (c == '*' ? 0xa : c == '#' ? 0xb : -1);
}

/*
 * An alphanumeric address (TON 5): GSM 7-bit packed; its length counts
 * the semi-octets that carry septets (23.040 9.1.2.5), or the octets
 * with the TOA for the SMSC.
 */
static void
pdu_addr_alnum(struct pdu_buf *f, const char *num, int smsc)
{
	uint8_t		 sept[PDU_NUMBER_MAX * 2], v[PDU_NUMBER_MAX * 2];
	uint16_t	*u;
	size_t		 n, len, i, oct;

	if ((u = pdu_utf16(num, &n)) == NULL ||
	    pdu_gsm7_septets(u, n, sept, sizeof(sept), &len) == -1) {
		free(u);
		f->over = 1;
		return;
	}
	free(u);
	memset(v, 0, sizeof(v));
	for (i = 0; i < len; i++)
		pdu_septet_put(v, i * 7, sept[i]);
	oct = (len * 7 + 7) / 8;
	pdu_put1(f, smsc ? (int)oct + 1 : (int)(len * 7 + 3) / 4);
	pdu_put1(f, PDU_TOA_ALNUM);
	pdu_put(f, v, oct);
}

/*
 * An address (23.040 9.1.2.5): `+' or `00' make it international, a
 * character that is not a digit (or * #) makes it alphanumeric.  The
 * SMSC's length counts octets (24.011 8.2.5.1), and an empty SMSC is
 * the single octet 00 (27.005 3.3.1: use the one set by AT+CSCA).
 */
static void
pdu_addr_put(struct pdu_buf *f, const char *num, int smsc)
{
	uint8_t		 v[PDU_NUMBER_MAX];
	const char	*d = num;
	size_t		 nd, i;
	int		 toa = PDU_TOA_UNKNOWN, x;

	if (num[0] == '+')
		d = num + 1, toa = PDU_TOA_INTL;
	else if (num[0] == '0' && num[1] == '0' && num[2] != '0')
		d = num + 2, toa = PDU_TOA_INTL;
	nd = strlen(d);
	if (smsc && *num == '\0') {
		pdu_put1(f, 0);
		return;
	}
	for (i = 0; i < nd; i++)
		if (pdu_bcd_digit(d[i]) == -1 || i / 2 >= sizeof(v)) {
			pdu_addr_alnum(f, num, smsc);
			return;
		}
	memset(v, 0, sizeof(v));
	for (i = 0; i < nd; i++) {
		x = pdu_bcd_digit(d[i]);
		v[i / 2] |= (uint8_t)(i % 2 ? x << 4 : x);
	}
	if (nd % 2)
		v[nd / 2] |= 0xf0;
	pdu_put1(f, smsc ? (int)(nd + 1) / 2 + 1 : (int)nd);
	pdu_put1(f, toa);
	pdu_put(f, v, (nd + 1) / 2);
}

/* Two decimal digits as swapped semi-octets. */
static int
pdu_bcd(int v)
{
	return ((v % 10) << 4 | (v / 10) % 10);
}

/* TP-SCTS (23.040 9.2.3.11) in WIB, UTC+7, as an Indonesian SMSC. */
static void
pdu_scts_put(struct pdu_buf *f, time_t t)
{
	struct tm	 tm;
	time_t		 local = t + PDU_WIB;

	gmtime_r(&local, &tm);
	pdu_put1(f, pdu_bcd(tm.tm_year % 100));
	pdu_put1(f, pdu_bcd(tm.tm_mon + 1));
	pdu_put1(f, pdu_bcd(tm.tm_mday));
	pdu_put1(f, pdu_bcd(tm.tm_hour));
	pdu_put1(f, pdu_bcd(tm.tm_min));
	pdu_put1(f, pdu_bcd(tm.tm_sec));
	pdu_put1(f, PDU_WIB_TZ);
}

/*
 * TP-UDL and TP-UD (23.040 9.2.3.16, 9.2.3.24): in GSM 7-bit, the text
 * starts at the septet boundary after the header (fill bits) and UDL
 * counts septets, header included.  -1 past 140 octets.
 */
static int
pdu_ud_put(struct pdu_buf *f, const struct pdu_ud *ud)
{
	uint8_t	 b[PDU_UD_MAX + 1];
	size_t	 udl, oct, skip, i;

	memset(b, 0, sizeof(b));
	memcpy(b, ud->udh, ud->udhlen);
	if (ud->coding == PDU_GSM7) {
		skip = (ud->udhlen * 8 + 6) / 7;
		udl = skip + ud->len;
		oct = (udl * 7 + 7) / 8;
		if (oct > PDU_UD_MAX)
			return (-1);
		for (i = 0; i < ud->len; i++)
			pdu_septet_put(b, (skip + i) * 7, ud->data[i]);
	} else {
		udl = oct = ud->udhlen + ud->len;
		if (oct > PDU_UD_MAX)
			return (-1);
		memcpy(b + ud->udhlen, ud->data, ud->len);
	}
	pdu_put1(f, (int)udl);
	pdu_put(f, b, oct);
	return (0);
}

/* A part's text into user data, in the given coding. */
static int
pdu_ud_text(struct pdu_ud *ud, enum pdu_coding coding, const uint16_t *u,
    size_t n)
{
	size_t	 i;

	memset(ud, 0, sizeof(*ud));
	ud->coding = coding;
	if (coding == PDU_GSM7)
		return (pdu_gsm7_septets(u, n, ud->data, sizeof(ud->data),
		    &ud->len));
	if (n * 2 > PDU_UD_MAX)
		return (-1);
	for (i = 0; i < n; i++) {
		ud->data[2 * i] = u[i] >> 8;
		ud->data[2 * i + 1] = u[i] & 0xff;
	}
	ud->len = n * 2;
	return (0);
}

/* The concatenation header: 8-bit reference (IEI 0), 16-bit past 255. */
static void
pdu_ud_concat(struct pdu_ud *ud, int ref, int part, int total)
{
	uint8_t	*h = ud->udh;

	if (ref > 0xff) {
		h[0] = 6, h[1] = 0x08, h[2] = 4;
		h[3] = (ref >> 8) & 0xff, h[4] = ref & 0xff;
		h[5] = total & 0xff, h[6] = part & 0xff;
		ud->udhlen = 7;
	} else {
		h[0] = 5, h[1] = 0x00, h[2] = 3, h[3] = ref & 0xff;
		h[4] = total & 0xff, h[5] = part & 0xff;
		ud->udhlen = 6;
	}
}

/* A finished frame as hex; tpdu_len leaves out the SMSC part. */
static int
pdu_hex(const struct pdu_buf *f, size_t smsclen, struct pdu_part *out)
{
	static const char	 xd[] = "0123456789ABCDEF";
	size_t			 i;

	if (f->over || f->len * 2 + 1 > sizeof(out->hex))
		return (-1);
	for (i = 0; i < f->len; i++) {
		out->hex[2 * i] = xd[f->b[i] >> 4];
		out->hex[2 * i + 1] = xd[f->b[i] & 0xf];
	}
	out->hex[f->len * 2] = '\0';
	out->tpdu_len = (int)(f->len - smsclen);
	return (0);
}

/*
 * An SMS-DELIVER (23.040 9.2.2.1) or SMS-SUBMIT (9.2.2.2): PID 0, the
 * coding's DCS with no class; a SUBMIT has a relative validity period
 * of FF (63 weeks), a DELIVER the time stamp.
 */
static int
pdu_frame(enum pdu_type type, const char *smsc, const char *addr, time_t t,
    int srr, int mr, const struct pdu_ud *ud, struct pdu_part *out)
{
	struct pdu_buf	 f;
	size_t		 smsclen;
	int		 fo;

	memset(&f, 0, sizeof(f));
	pdu_addr_put(&f, smsc, 1);
	smsclen = f.len;
	fo = type == PDU_SUBMIT ? PDU_MTI_SUBMIT | PDU_VPF_REL : PDU_MTI_DELIVER;
	if (srr)
		fo |= PDU_FB_SRR;
	if (ud->udhlen > 0)
		fo |= PDU_FB_UDHI;
	pdu_put1(&f, fo);
	if (type == PDU_SUBMIT)
		pdu_put1(&f, mr);
	pdu_addr_put(&f, addr, 0);
	pdu_put1(&f, 0);
	pdu_put1(&f, ud->coding == PDU_UCS2 ? PDU_DCS_UCS2 :
	    ud->coding == PDU_8BIT ? PDU_DCS_8BIT : PDU_DCS_GSM7);
	if (type == PDU_SUBMIT)
		pdu_put1(&f, 0xff);
	else
		pdu_scts_put(&f, t);
	if (pdu_ud_put(&f, ud) == -1)
		return (-1);
	return (pdu_hex(&f, smsclen, out));
}

/* A whole text as DELIVER or SUBMIT parts; part i has MR mr + i. */
static int
pdu_encode_text(enum pdu_type type, const char *smsc, const char *addr,
    const char *text, time_t t, int srr, int ref, struct pdu_part *parts,
    int maxparts)
{
	struct pdu_split	 sp;
	struct pdu_ud		 ud;
	uint16_t		*u;
	size_t			 n;
	int			 i;

	if ((u = pdu_utf16(text, &n)) == NULL)
		return (-1);
	if (pdu_split(u, n, &sp) == -1 || sp.n > maxparts)
		goto fail;
	for (i = 0; i < sp.n; i++) {
		if (pdu_ud_text(&ud, sp.coding, u + sp.off[i],
		    sp.off[i + 1] - sp.off[i]) == -1)
			goto fail;
		if (sp.n > 1)
			pdu_ud_concat(&ud, ref & 0xff, i + 1, sp.n);
		if (pdu_frame(type, smsc, addr, t, srr, (ref + i) & 0xff, &ud,
		    &parts[i]) == -1)
			goto fail;
	}
	free(u);
	return (sp.n);
fail:
	free(u);
	return (-1);
}

/*
 * A whole text from `from' as SMS-DELIVER parts (GSM 7-bit or UCS-2,
 * concatenated with 8-bit reference `ref' when long).  Returns the
 * number of parts, or -1.
 */
int
pdu_encode_deliver(const char *smsc, const char *from, const char *text,
    time_t t, int ref, struct pdu_part *parts, int maxparts)
{
	return (pdu_encode_text(PDU_DELIVER, smsc, from, text, t, 0, ref,
	    parts, maxparts));
}

/* As pdu_encode_deliver, for a message a phone or a test sends. */
int
pdu_encode_submit(const char *smsc, const char *to, const char *text,
    int srr, int mr, struct pdu_part *parts, int maxparts)
{
	return (pdu_encode_text(PDU_SUBMIT, smsc, to, text, 0, srr, mr, parts,
	    maxparts));
}

/* A hex digit's value, or -1. */
static int
pdu_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Hex -> octets; -1 unless whole octets of hex that fit. */
static int
pdu_unhex(const char *hex, uint8_t *b, size_t max, size_t *n)
{
	size_t	 len = strlen(hex), i;
	int	 hi, lo;

	if (len % 2 != 0 || len / 2 > max)
		return (-1);
	for (i = 0; i < len / 2; i++) {
		hi = pdu_hexval(hex[2 * i]);
		lo = pdu_hexval(hex[2 * i + 1]);
		if (hi == -1 || lo == -1)
			return (-1);
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	*n = len / 2;
	return (0);
}

/*
 * Forward one submitted part as a DELIVER from its sender, keeping its
 * coding and concatenation header (the SMSC relays parts one by one).
 */
int
pdu_encode_deliver_part(const char *smsc, const struct pdu_msg *sub,
    time_t t, struct pdu_part *out)
{
	struct pdu_ud	 ud;
	uint16_t	*u;
	size_t		 n;
	int		 rc;

	if (sub->coding == PDU_8BIT) {
		memset(&ud, 0, sizeof(ud));
		ud.coding = PDU_8BIT;
		if (pdu_unhex(sub->text, ud.data, PDU_UD_MAX, &ud.len) == -1)
			return (-1);
	} else {
		if ((u = pdu_utf16(sub->text, &n)) == NULL)
			return (-1);
		rc = pdu_ud_text(&ud, sub->coding, u, n);
		free(u);
		if (rc == -1)
			return (-1);
	}
	if (sub->concat_ref != -1)
		pdu_ud_concat(&ud, sub->concat_ref, sub->concat_part,
		    sub->concat_total);
	return (pdu_frame(PDU_DELIVER, smsc, sub->number, t, 0, 0, &ud, out));
}

/*
 * An SMS-STATUS-REPORT (23.040 9.2.2.3): MR of the SUBMIT, recipient,
 * when it was submitted (SCTS) and delivered (DT), TP-ST.
 */
int
pdu_encode_status_report(const char *smsc, int mr, const char *recipient,
    time_t submitted, time_t done, int status, struct pdu_part *out)
{
	struct pdu_buf	 f;
	size_t		 smsclen;

	memset(&f, 0, sizeof(f));
	pdu_addr_put(&f, smsc, 1);
	smsclen = f.len;
	pdu_put1(&f, PDU_MTI_REPORT | PDU_FB_MMS);
	pdu_put1(&f, mr);
	pdu_addr_put(&f, recipient, 0);
	pdu_scts_put(&f, submitted);
	pdu_scts_put(&f, done);
	pdu_put1(&f, status);
	return (pdu_hex(&f, smsclen, out));
}

/* --- reading ------------------------------------------------------- */

/* BCD semi-octets of an address: F is filler, A-E are * # a b c. */
static void
pdu_addr_bcd(const uint8_t *v, size_t nibbles, char *out, size_t outlen,
    size_t *pos)
{
	size_t	 i;
	int	 x;

	for (i = 0; i < nibbles; i++) {
		x = i % 2 ? v[i / 2] >> 4 : v[i / 2] & 0xf;
		if (x == 0xf)
			continue;
		if (*pos + 1 >= outlen) {
			*pos = outlen;
			return;
		}
		out[(*pos)++] = "0123456789*#abc"[x];
	}
}

/*
 * An address (23.040 9.1.2.5; the SMSC's, 24.011 8.2.5.1, counts
 * octets).  A number too long for `out' reads as empty.
 */
static int
pdu_addr_get(const uint8_t *b, size_t n, size_t *pos, int smsc, char *out,
    size_t outlen)
{
	size_t	 p = *pos, len, oct, k = 0, i;
	uint8_t	 sept[PDU_ADDR_OCTETS * 8 / 7 + 1];
	int	 toa;

	out[0] = '\0';
	if (p >= n)
		return (-1);
	len = b[p];
	if (smsc && len == 0) {
		*pos = p + 1;
		return (0);
	}
	oct = smsc ? len - 1 : (len + 1) / 2;
	if (oct + 1 > PDU_ADDR_OCTETS || p + 2 + oct > n)
		return (-1);
	toa = b[p + 1];
	*pos = p + 2 + oct;
	if (len == 0)
		return (0);
	if ((toa & 0x80) == 0)
		return (-1);		/* 9.1.2.5: bit 7 is always 1 */
	if ((toa & PDU_TON_MASK) == PDU_TON_ALNUM) {
		len = smsc ? oct * 8 / 7 : len * 4 / 7;
		for (i = 0; i < len; i++)
			sept[i] = pdu_septet_get(b + p + 2, oct, i * 7);
		if (pdu_gsm7_to_utf8(sept, len, out, outlen) == -1)
			out[0] = '\0';
		return (0);
	}
	if ((toa & PDU_TON_MASK) == PDU_TON_INTL && outlen > 1)
		out[k++] = '+';
	pdu_addr_bcd(b + p + 2, smsc ? oct * 2 : len, out, outlen, &k);
	out[k < outlen ? k : 0] = '\0';
	return (0);
}

/* Two swapped semi-octets as a number, -1 if not decimal. */
static int
pdu_bcd_get(uint8_t v)
{
	if ((v & 0xf) > 9 || (v >> 4) > 9)
		return (-1);
	return ((v & 0xf) * 10 + (v >> 4));
}

/*
 * TP-SCTS / TP-DT (23.040 9.2.3.11) as UTC: the zone is in quarters of
 * an hour, bit 3 its sign.  0 when it is no valid time.
 */
static time_t
pdu_scts_get(const uint8_t *p)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm	 tm;
	int		 v[6], i, tz;

	for (i = 0; i < 6; i++)
		if ((v[i] = pdu_bcd_get(p[i])) == -1)
			return (0);
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > mdays[v[1] - 1] ||
	    (v[1] == 2 && v[2] == 29 && v[0] % 4 != 0) ||
	    v[3] > 23 || v[4] > 59 || v[5] > 59)
		return (0);
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = 100 + v[0];
	tm.tm_mon = v[1] - 1;
	tm.tm_mday = v[2];
	tm.tm_hour = v[3];
	tm.tm_min = v[4];
	tm.tm_sec = v[5];
	tz = ((p[6] & 0x07) * 10 + (p[6] >> 4)) * 15 * 60;
	return (timegm(&tm) - ((p[6] & 0x08) ? -tz : tz));
}

/*
 * TP-DCS (23.038 4) -> our coding; reserved values read as 8-bit data,
 * compressed text is refused (-1), as libGammu did.
 */
static int
pdu_dcs_coding(uint8_t dcs)
{
	switch (dcs & 0xf0) {
	case 0x00: case 0x10: case 0x20: case 0x30:
	case 0x40: case 0x50: case 0x60: case 0x70:
		if (dcs & PDU_DCS_8BIT)
			return (PDU_8BIT);
		if (dcs & 0x20)
			return (-1);
		return ((dcs & PDU_DCS_UCS2) ? PDU_UCS2 : PDU_GSM7);
	case 0xc0: case 0xd0:		/* message waiting, GSM 7-bit */
		return ((dcs & 0x04) ? PDU_8BIT : PDU_GSM7);
	case 0xe0:			/* message waiting, UCS-2 */
		return ((dcs & 0x04) ? PDU_8BIT : PDU_UCS2);
	case 0xf0:
		return ((dcs & 0x0c) ? PDU_8BIT : PDU_GSM7);
	default:
		return (PDU_8BIT);
	}
}

/*
 * The concatenation element of a UDH (23.040 9.2.3.24.1, 8-bit
 * reference; 9.2.3.24.8, 16-bit), wherever it stands among others.
 * One with a part 0, or past the total, is ignored, as 23.040 says.
 */
static void
pdu_udh_get(const uint8_t *h, size_t len, struct pdu_msg *m)
{
	size_t		 i = 0;
	const uint8_t	*v;
	int		 ref, total, part;

	while (i + 2 <= len && i + 2 + h[i + 1] <= len) {
		v = h + i + 2;
		ref = -1;
		if (h[i] == 0x00 && h[i + 1] == 3)
			ref = v[0], total = v[1], part = v[2];
		else if (h[i] == 0x08 && h[i + 1] == 4)
			ref = v[0] << 8 | v[1], total = v[2], part = v[3];
		if (ref != -1 && part >= 1 && part <= total) {
			m->concat_ref = ref;
			m->concat_total = total;
			m->concat_part = part;
		}
		i += 2 + h[i + 1];
	}
}

/* The text of user data without its header, in m->text. */
static int
pdu_ud_text_get(const uint8_t *ud, size_t oct, size_t udl, size_t hl,
    int coding, struct pdu_msg *m)
{
	uint8_t		 sept[256];
	uint16_t	 u[PDU_UD_MAX];
	size_t		 i, skip, n;

	if (coding == PDU_GSM7) {
		skip = (hl * 8 + 6) / 7;
		n = udl > skip ? udl - skip : 0;
		for (i = 0; i < n; i++)
			sept[i] = pdu_septet_get(ud, oct, (skip + i) * 7);
		return (pdu_gsm7_to_utf8(sept, n, m->text, sizeof(m->text)));
	}
	if (udl < hl)
		return (-1);
	n = udl - hl;
	if (coding == PDU_UCS2) {
		for (i = 0; i < n / 2; i++)
			u[i] = ud[hl + 2 * i] << 8 | ud[hl + 2 * i + 1];
		return (pdu_utf16_to_utf8(u, n / 2, m->text, sizeof(m->text)));
	}
	if (n * 2 + 1 > sizeof(m->text))
		n = (sizeof(m->text) - 1) / 2;
	for (i = 0; i < n; i++)
		snprintf(m->text + 2 * i, 3, "%02X", ud[hl + i]);
	m->text[2 * n] = '\0';
	return (0);
}

/*
 * TP-UDL and TP-UD at b[pos] (23.040 9.2.3.16, 9.2.3.24): the header,
 * when TP-UDHI says there is one, must fit in the user data.
 */
static int
pdu_ud_get(const uint8_t *b, size_t n, size_t pos, int udhi, int dcs,
    struct pdu_msg *m)
{
	size_t	 udl, oct, hl = 0;
	int	 coding;

	if ((coding = pdu_dcs_coding((uint8_t)dcs)) == -1 || pos >= n)
		return (-1);
	m->coding = coding;
	udl = b[pos++];
	oct = coding == PDU_GSM7 ? (udl * 7 + 7) / 8 : udl;
	if (pos + oct > n)
		return (-1);
	if (udhi) {
		if (oct == 0 || (hl = (size_t)b[pos] + 1) > oct)
			return (-1);
		pdu_udh_get(b + pos + 1, hl - 1, m);
	}
	return (pdu_ud_text_get(b + pos, oct, udl, hl, coding, m));
}

/* SMS-DELIVER (23.040 9.2.2.1) after its first octet. */
static int
pdu_get_deliver(const uint8_t *b, size_t n, size_t pos, int fo,
    struct pdu_msg *m)
{
	m->type = PDU_DELIVER;
	if (pdu_addr_get(b, n, &pos, 0, m->number, sizeof(m->number)) == -1 ||
	    pos + 2 + 7 > n)
		return (-1);
	m->time = pdu_scts_get(b + pos + 2);
	return (pdu_ud_get(b, n, pos + 2 + 7, fo & PDU_FB_UDHI, b[pos + 1], m));
}

/*
 * SMS-SUBMIT (23.040 9.2.2.2) after its first octet: TP-VP is absent,
 * one octet (relative) or seven (absolute, enhanced) by TP-VPF.
 */
static int
pdu_get_submit(const uint8_t *b, size_t n, size_t pos, int fo,
    struct pdu_msg *m)
{
	static const size_t	 vplen[4] = { 0, 7, 1, 7 };

	m->type = PDU_SUBMIT;
	if (pos >= n)
		return (-1);
	m->mr = b[pos++];
	if (pdu_addr_get(b, n, &pos, 0, m->number, sizeof(m->number)) == -1 ||
	    pos + 2 > n)
		return (-1);
	return (pdu_ud_get(b, n, pos + 2 + vplen[(fo & PDU_FB_VPF) >> 3],
	    fo & PDU_FB_UDHI, b[pos + 1], m));
}

/*
 * SMS-STATUS-REPORT (23.040 9.2.2.3) after its first octet; m->time is
 * TP-DT, when the message was delivered.  The text says the status
 * (as gammu does) unless the optional TP-PI brings user data.
 */
static int
pdu_get_report(const uint8_t *b, size_t n, size_t pos, int fo,
    struct pdu_msg *m)
{
	int	 pi, dcs = 0;

	m->type = PDU_STATUS_REPORT;
	if (pos >= n)
		return (-1);
	m->mr = b[pos++];
	if (pdu_addr_get(b, n, &pos, 0, m->number, sizeof(m->number)) == -1 ||
	    pos + 7 + 7 + 1 > n)
		return (-1);
	m->time = pdu_scts_get(b + pos + 7);
	m->status = b[pos + 14];
	m->coding = PDU_UCS2;
	snprintf(m->text, sizeof(m->text), "%s", m->status < 3 ? "Delivered" :
	    (m->status & 0x40) ? "Failed" : (m->status & 0x20) ? "Pending" :
	    "Unknown");
	pos += 15;
	if (pos >= n || b[pos] == 0xff)	/* FF: padding some phones add */
		return (0);
	pi = b[pos++];
	if ((pi & 0x01) && pos < n)	/* TP-PID */
		pos++;
	if ((pi & 0x02) && pos < n)
		dcs = b[pos++];
	m->coding = pdu_dcs_coding((uint8_t)dcs) == PDU_UCS2 ? PDU_UCS2 :
	    pdu_dcs_coding((uint8_t)dcs) == PDU_8BIT ? PDU_8BIT : PDU_GSM7;
	if ((pi & 0x04) && pos < n)
		return (pdu_ud_get(b, n, pos, fo & PDU_FB_UDHI, dcs, m));
	return (0);
}

/*
 * Decode one PDU given as hex; with_smsc says whether it starts with
 * the SMSC address (AT+CMGS in PDU mode, +CMGR/+CMGL/+CMT do).
 */
int
pdu_decode(const char *hex, int with_smsc, struct pdu_msg *m)
{
	uint8_t	 b[PDU_FRAME_MAX];
	size_t	 n, pos = 0;
	int	 fo;

	memset(m, 0, sizeof(*m));
	m->mr = -1;
	m->concat_ref = -1;
	if (pdu_unhex(hex, b, sizeof(b), &n) == -1 || n < 2)
		return (-1);
	if (with_smsc && (b[0] + 1U >= n ||
	    pdu_addr_get(b, n, &pos, 1, m->smsc, sizeof(m->smsc)) == -1))
		return (-1);
	m->tpdu_len = (int)(n - pos);
	fo = b[pos++];
	m->srr = (fo & PDU_FB_SRR) != 0;
	switch (fo & PDU_MTI_MASK) {
	case PDU_MTI_DELIVER:
		return (pdu_get_deliver(b, n, pos, fo, m));
	case PDU_MTI_SUBMIT:
		return (pdu_get_submit(b, n, pos, fo, m));
	case PDU_MTI_REPORT:
		return (pdu_get_report(b, n, pos, fo, m));
	default:
		return (-1);		/* 9.2.3.1: reserved */
	}
}

/* UTF-8 -> UCS-2 hex, as AT+CSCS="UCS2" shows strings. */
int
pdu_utf8_to_ucs2_hex(const char *s, char *out, size_t outlen)
{
	uint16_t	*u;
	size_t		 n, i;

	if ((u = pdu_utf16(s, &n)) == NULL)
		return (-1);
	if (n * 4 + 1 > outlen) {
		free(u);
		return (-1);
	}
	for (i = 0; i < n; i++)
		snprintf(out + 4 * i, 5, "%04X", u[i]);
	out[n * 4] = '\0';
	free(u);
	return (0);
}

/* UCS-2 hex -> UTF-8; -1 if it is not hex of whole characters. */
int
pdu_ucs2_hex_to_utf8(const char *hex, char *out, size_t outlen)
{
	uint8_t		*b;
	uint16_t	*u;
	size_t		 len = strlen(hex), n, i;
	int		 rc = -1;

	if (len % 4 != 0 || len + 1 > outlen)
		return (-1);
	b = malloc(len / 2 + 1);
	u = calloc(len / 4 + 1, sizeof(*u));
	if (b != NULL && u != NULL && pdu_unhex(hex, b, len / 2, &n) == 0) {
		for (i = 0; i < n / 2; i++)
			u[i] = b[2 * i] << 8 | b[2 * i + 1];
		rc = pdu_utf16_to_utf8(u, n / 2, out, outlen);
	}
	free(b);
	free(u);
	return (rc);
}

/* Whether the text fits the GSM 7-bit default alphabet and extension. */
int
pdu_is_gsm7(const char *text)
{
	uint16_t	*u;
	size_t		 n, i;
	int		 rc = 1;

	if ((u = pdu_utf16(text, &n)) == NULL)
		return (-1);
	for (i = 0; i < n && rc; i++)
		if (pdu_gsm7_find(u[i]) == -1)
			rc = 0;
	free(u);
	return (rc);
}

/*
 * A USSD screen's length as a phone's network counts it: GSM 7-bit
 * septets (an extension character takes two) into *len and 182 into
 * *max, or, for a text GSM 7-bit cannot carry, UCS-2 units and 80
 * (a USSD string holds 160 octets, TS 23.038 and 24.080).  1 if it
 * fits, 0 if not, -1 on no memory.
 */
int
pdu_ussd_fits(const char *text, int *len, int *max)
{
	uint16_t	*u;
	size_t		 n, i, k = 0;
	int		 s, gsm = 1;

	if ((u = pdu_utf16(text, &n)) == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		if ((s = pdu_gsm7_find(u[i])) == -1)
			gsm = 0;
		k += s != -1 && (s & PDU_EXT) ? 2 : 1;
	}
	free(u);
	*len = gsm ? (int)k : (int)n;
	*max = gsm ? PDU_USSD_GSM7 : PDU_USSD_UCS2;
	return (*len <= *max);
}
