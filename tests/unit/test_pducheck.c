/*
 * The worker's guard before libGammu's PDU decoder (modem/pducheck.c):
 * PDUs at and just past each bound of 3GPP TS 23.040 (and 24.011 for
 * the SMSC address), built here field by field; the bounds come from
 * the standard, not from the code.
 */

#include "unit.h"

#include <stdio.h>
#include <string.h>

#include "pducheck.h"

#define SCTS	"62207041000082"	/* 2026-02-07 14:00:00 +07:00 */

/* Hex to octets; the PDU's length. */
static size_t
octets(const char *hex, uint8_t *out, size_t outsz)
{
	size_t		 i, n = strlen(hex) / 2;
	unsigned int	 v;

	assert_true(n <= outsz);
	for (i = 0; i < n; i++) {
		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = v;
	}
	return (n);
}

/* strcat within size (glibc 2.36 has no strlcat). */
static void
cat(char *buf, size_t size, const char *s)
{
	size_t	 n = strlen(buf);

	assert_true(n + strlen(s) < size);
	memcpy(buf + n, s, strlen(s) + 1);
}

/* pducheck_pdu of a PDU given in pieces of hex, the last one NULL. */
static int
check(int smsc, struct pducheck *c, ...)
{
	char		 hex[1024] = "";
	uint8_t		 pdu[512];
	const char	*s;
	va_list		 ap;

	va_start(ap, c);
	while ((s = va_arg(ap, const char *)) != NULL)
		cat(hex, sizeof(hex), s);
	va_end(ap);
	return (pducheck_pdu(pdu, octets(hex, pdu, sizeof(pdu)), smsc, c));
}

/* n octets of hex v, as a string that lives until the next call. */
static const char *
fill(const char *v, size_t n)
{
	static char	 buf[4][600];
	static int	 k;
	size_t		 i;

	k = (k + 1) % 4;
	buf[k][0] = '\0';
	for (i = 0; i < n; i++)
		cat(buf[k], sizeof(buf[k]), v);
	return (buf[k]);
}

static char	 ud[8];
static const char *
udl(int v)
{
	snprintf(ud, sizeof(ud), "%02X", v);
	return (ud);
}

/* SMSC +62816124: 5 octets (type and 4 of digits). */
#define SC	"0591261816F4"
/* TP-OA +6281234567891: 13 digits. */
#define OA	"0D91261832547698F1"

static void
test_deliver(void **state)
{
	struct pducheck	 c;

	(void)state;
	/* 160 septets of 7-bit (140 octets) are the most 23.040 allows. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, udl(160),
	    fill("41", 140), NULL), 0);
	assert_int_equal(c.type, PDUCHECK_DELIVER);
	assert_string_equal(c.sender, "+6281234567891");
	assert_string_equal(c.why, "");
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, udl(161),
	    fill("41", 141), NULL), -1);
	assert_non_null(strstr(c.why, "161"));
	/* The sender is read even when the rest is wrong. */
	assert_string_equal(c.sender, "+6281234567891");
	/* 140 octets of 8-bit and UCS-2; not 141. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0004", SCTS, udl(140),
	    fill("00", 140), NULL), 0);
	assert_int_equal(check(1, &c, SC, "04", OA, "0008", SCTS, udl(141),
	    fill("00", 141), NULL), -1);
	/* The user data must be there. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, udl(8),
	    fill("41", 6), NULL), -1);
	/* No user data at all is an empty SMS. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, "00",
	    NULL), 0);
	/* Without the SMSC part (a +CDS line, the fuzz targets' form 1). */
	assert_int_equal(check(0, &c, "04", OA, "0000", SCTS, "00", NULL),
	    0);
	/* Ends before its time stamp, or in its address. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", "622070", NULL),
	    -1);
	assert_int_equal(check(1, &c, SC, "04", "0D912618", NULL), -1);
	assert_string_equal(c.sender, "");
	/* Compressed text: libGammu refuses it with an error that ends a
	 * sweep. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0020", SCTS, "00",
	    NULL), -1);
	assert_non_null(strstr(c.why, "compressed"));
}

static void
test_header(void **state)
{
	struct pducheck	 c;

	(void)state;
	/* A header of UDHL+1 octets fits in as many octets of data. */
	assert_int_equal(check(1, &c, SC, "44", OA, "0004", SCTS, udl(6),
	    "050003010201", NULL), 0);
	assert_int_equal(check(1, &c, SC, "44", OA, "0004", SCTS, udl(5),
	    "0500030102", NULL), -1);
	assert_non_null(strstr(c.why, "header"));
	/* 7-bit: 8 septets are 7 octets: a header of 7 fits, 8 not. */
	assert_int_equal(check(1, &c, SC, "44", OA, "0000", SCTS, udl(8),
	    "06", fill("00", 6), NULL), 0);
	assert_int_equal(check(1, &c, SC, "44", OA, "0000", SCTS, udl(8),
	    "07", fill("00", 6), NULL), -1);
	/* The flag with no user data at all. */
	assert_int_equal(check(1, &c, SC, "44", OA, "0004", SCTS, "00",
	    NULL), -1);
	/* The largest header: 140 octets in 140. */
	assert_int_equal(check(1, &c, SC, "44", OA, "0004", SCTS, udl(140),
	    "8B", fill("00", 139), NULL), 0);
}

static void
test_addresses(void **state)
{
	struct pducheck	 c;

	(void)state;
	/* 20 digits (9.1.2.5: 10 octets of them), not 21. */
	assert_int_equal(check(1, &c, SC, "04", "1491", fill("21", 10),
	    "0000", SCTS, "00", NULL), 0);
	assert_string_equal(c.sender, "+12121212121212121212");
	assert_int_equal(check(1, &c, SC, "04", "1591", fill("21", 11),
	    "0000", SCTS, "00", NULL), -1);
	/* A type of address without its high bit. */
	assert_int_equal(check(1, &c, SC, "04", "0D11261832547698F1",
	    "0000", SCTS, "00", NULL), -1);
	/* National: digits only. */
	assert_int_equal(check(1, &c, SC, "04", "0C81802143658719",
	    "0000", SCTS, "00", NULL), 0);
	assert_string_equal(c.sender, "081234567891");
	/* Alphanumeric "Telkom" (7-bit packed, 6 septets in 6 octets). */
	assert_int_equal(check(1, &c, SC, "04", "0CD0D4327BFD6E03",
	    "0000", SCTS, "00", NULL), 0);
	assert_string_equal(c.sender, "Telkom");
	/* The SMSC address: at most 11 octets (24.011 8.2.5.2). */
	assert_int_equal(check(1, &c, "0B91", fill("21", 10), "04", OA,
	    "0000", SCTS, "00", NULL), 0);
	assert_int_equal(check(1, &c, "0C91", fill("21", 11), "04", OA,
	    "0000", SCTS, "00", NULL), -1);
	assert_int_equal(check(1, &c, "00", "04", OA, "0000", SCTS, "00",
	    NULL), 0);
}

static void
test_types(void **state)
{
	struct pducheck	 c;

	(void)state;
	/* A status report ends with its TP-ST, or has 0xFF padding. */
	assert_int_equal(check(1, &c, SC, "06", "07", OA, SCTS, SCTS, "00",
	    NULL), 0);
	assert_int_equal(c.type, PDUCHECK_STATUS);
	assert_string_equal(c.sender, "");
	assert_int_equal(check(1, &c, SC, "06", "07", OA, SCTS, SCTS, "00",
	    "FFFF", NULL), 0);
	/* Its optional part: TP-PI 04, then 7-bit user data, bounded. */
	assert_int_equal(check(1, &c, SC, "06", "07", OA, SCTS, SCTS, "00",
	    "04", udl(160), fill("43", 140), NULL), 0);
	assert_int_equal(check(1, &c, SC, "06", "07", OA, SCTS, SCTS, "00",
	    "04", udl(170), fill("43", 149), NULL), -1);
	/* TP-PI says a TP-DCS that is not there. */
	assert_int_equal(check(1, &c, SC, "06", "07", OA, SCTS, SCTS, "00",
	    "02", NULL), -1);
	/* A SUBMIT: relative and absolute validity periods, not enhanced. */
	assert_int_equal(check(1, &c, SC, "11", "00", OA, "0000", "A7",
	    udl(1), "41", NULL), 0);
	assert_int_equal(c.type, PDUCHECK_SUBMIT);
	assert_int_equal(check(1, &c, SC, "19", "00", OA, "0000", SCTS,
	    udl(1), "41", NULL), 0);
	assert_int_equal(check(1, &c, SC, "09", "00", OA, "0000",
	    fill("00", 7), udl(1), "41", NULL), -1);
	assert_int_equal(check(1, &c, SC, "11", "00", OA, "0000", "A7",
	    udl(170), fill("44", 149), NULL), -1);
	/* The reserved message type. */
	assert_int_equal(check(1, &c, SC, "03", NULL), -1);
	assert_int_equal(c.type, PDUCHECK_RESERVED);
	/* Octets after the user data, unless they are 0xFF padding. */
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, udl(1),
	    "41", "FFFF", NULL), 0);
	assert_int_equal(check(1, &c, SC, "04", OA, "0000", SCTS, udl(1),
	    "41", "FF00", NULL), -1);
	/* Nothing at all. */
	assert_int_equal(pducheck_pdu((const uint8_t *)"", 0, 1, &c), -1);
	assert_int_equal(pducheck_pdu((const uint8_t *)"", 0, 0, &c), -1);
}

static void
test_hex(void **state)
{
	static const uint8_t	 d[] = { 0x00, 0x9f, 0xff };
	char			 out[7], small[4];

	(void)state;
	assert_int_equal(pducheck_hex(d, 3, out, sizeof(out)), 6);
	assert_string_equal(out, "009FFF");
	assert_int_equal(pducheck_hex(d, 3, small, sizeof(small)), 2);
	assert_string_equal(small, "00");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_hex),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
