/*
 * Unit tests of the simulator's PDU codec (sim/pdu.c).  Every expected
 * frame was written by the libGammu codec that sim/pdu.c replaced, or
 * built by hand from 3GPP TS 23.040; none comes from sim/pdu.c itself.
 */

#include "unit.h"
#include "pdu.h"

#define SMSC	"+6281100000"
#define FROM	"+6281234567890"
#define TO	"+6281298765432"
#define T0	((time_t)1712000000)	/* 2024-04-01 19:33:20 UTC */

/* libGammu, deliver of "Suara TPS 01: 123" from FROM at T0. */
#define V_GSM7	"06912618010000000D91261832547698F000004240202033028211" \
		"D37A581E0651A153102CA603C56433"
/* libGammu, "Harga {10} [x] ^ | \ EUR" from 081234567890. */
#define V_EXT	"06912618010000000C818021436587090000424020203302821EC8" \
		"B0FC1C066D5031D82605DAF0F01B1F6843016D80A0CD0BB42903"
/* libGammu, "Terima kasih" U+1F64F U+65E5 U+672C. */
#define V_UCS2	"06912618010000000D91261832547698F000084240202033028224" \
		"0054006500720069006D00610020006B00610073006900680020D8" \
		"3DDE4F002065E5672C"
/* libGammu, SUBMIT of "laporan" to TO, SRR, MR 7, VP relative FF. */
#define V_SUBMIT "0691261801000031070D91261892785634F20000FF07EC30FC2D0FBB01"
/* libGammu, STATUS-REPORT: MR 7, TO, submitted T0, done T0 + 60. */
#define V_REPORT "0691261801000006070D91261892785634F24240202033028242402020" \
		"43028200"
/* libGammu, deliver from the alphanumeric TELKOMSEL. */
#define V_ALNUM	"069126180100000010D0D42273F96C4E8B4C00004240202033028212" \
		"D03A7B1E0605DDE430480AAFB9603018"
/* libGammu, V_GSM7 as part 2 of 3 with the 16-bit reference 0x1234. */
#define V_REF16	"06912618010000400D91261832547698F00000424020203302821906" \
		"080412340302D37A581E0651A153102CA603C56433"

/* libGammu, the three parts of LONG3 with reference 0x42. */
static const char *v_long3[3] = {
	"06912618010000400D91261832547698F0000042402020330282A0050003420301"
	"A6F5B03C0C8AA964202A740A82C540F330DA059AD6C3F23028A69281A8D02908"
	"1603CDC36817685A0FCBC3A0984A06A242A720580C340FA35DA0693D2C0F8362"
	"2A19880A9D826031D03C8C7681A6F5B03C0C8AA964202A740A82C540F330DA05"
	"9AD6C3F23028A69281A8D029081603CDC36817685A0FCBC3A0984A06A242A720"
	"580C340FA35D",
	"06912618010000400D91261832547698F0000042402020330282A0050003420302"
	"40D37A581E06C5543210153A05C162A07918ED024DEB6179181453C94054E814"
	"048B81E661B40B34AD87E561504C250351A153102C069A87D12ED0B41E968741"
	"31950C44854E41B018681E46BB40D37A581E06C5543210153A05C162A07918ED"
	"024DEB6179181453C94054E814048B81E661B40B34AD87E561504C250351A153"
	"102C069A87D1",
	"06912618010000400D91261832547698F00000424020203302828D0500034203"
	"035CA0693D2C0F83622A19880A9D826031D03C8C7681A6F5B03C0C8AA964202A"
	"740A82C540F330DA059AD6C3F23028A69281A8D029081603CDC36817685A0FCB"
	"C3A0984A06A242A720580C340FA35DA0693D2C0F83622A19880A9D826031D03C"
	"8C7681A6F5B03C0C8AA964202A740A82C540F330DA0502",
};

/* 440 characters: "Suara 1*2 " and "TPS 01 sah. " twenty times each. */
static void
long3(char *buf, size_t len)
{
	int	 i;

	buf[0] = '\0';
	for (i = 0; i < 40; i++)
		strncat(buf, i % 2 ? "TPS 01 sah. " : "Suara 1*2 ",
		    len - strlen(buf) - 1);
}

/* One encoded part is exactly the vector, with its TPDU length. */
static void
assert_part(const struct pdu_part *p, const char *hex, int tpdu_len)
{
	assert_string_equal(p->hex, hex);
	assert_int_equal(p->tpdu_len, tpdu_len);
}

static void
test_deliver_gsm7(void **state)
{
	struct pdu_part	 p[2];
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, "Suara TPS 01: 123",
	    T0, 0, p, 2), 1);
	assert_part(&p[0], V_GSM7, 35);
	assert_int_equal(pdu_decode(V_GSM7, 1, &m), 0);
	assert_int_equal(m.type, PDU_DELIVER);
	assert_string_equal(m.smsc, SMSC);
	assert_string_equal(m.number, FROM);
	assert_string_equal(m.text, "Suara TPS 01: 123");
	assert_int_equal(m.coding, PDU_GSM7);
	assert_int_equal(m.concat_ref, -1);
	assert_int_equal(m.mr, -1);
	assert_int_equal(m.srr, 0);
	assert_int_equal(m.time, T0);	/* WIB stamp back to UTC */
	assert_int_equal(m.tpdu_len, 35);
}

static void
test_deliver_extension(void **state)
{
	const char	*text = "Harga {10} [x] ^ | \\ \xe2\x82\xac";
	struct pdu_part	 p[1];
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_is_gsm7(text), 1);
	assert_int_equal(pdu_encode_deliver(SMSC, "081234567890", text, T0, 0,
	    p, 1), 1);
	assert_part(&p[0], V_EXT, 46);
	assert_int_equal(pdu_decode(V_EXT, 1, &m), 0);
	assert_string_equal(m.number, "081234567890");
	assert_string_equal(m.text, text);
	assert_int_equal(m.coding, PDU_GSM7);
}

static void
test_deliver_ucs2(void **state)
{
	const char	*text = "Terima kasih \xf0\x9f\x99\x8f "
			    "\xe6\x97\xa5\xe6\x9c\xac";
	struct pdu_part	 p[1];
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_is_gsm7(text), 0);
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, text, T0, 0, p, 1), 1);
	assert_part(&p[0], V_UCS2, 56);
	assert_int_equal(pdu_decode(V_UCS2, 1, &m), 0);
	assert_string_equal(m.text, text);
	assert_int_equal(m.coding, PDU_UCS2);
}

/* C0 80 (modified UTF-8) is a U+0000, which only UCS-2 carries. */
static void
test_deliver_nul(void **state)
{
	struct pdu_part	 p[1];

	(void)state;
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, "A\xc0\x80" "B", T0,
	    0, p, 1), 1);
	/* UCS-2 (DCS 08), then 6 octets of user data: A, U+0000, B. */
	assert_non_null(strstr(p[0].hex, "0008"));
	assert_true(strlen(p[0].hex) > 14 && strcmp(p[0].hex +
	    strlen(p[0].hex) - 14, "06004100000042") == 0);
	/* A lone C0 or C1 is not one. */
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, "A\xc1\x80" "B", T0,
	    0, p, 1), 1);
	assert_null(strstr(p[0].hex, "00410000"));
}

static void
test_deliver_concat3(void **state)
{
	char		 text[1024];
	struct pdu_part	 p[PDU_PARTS_MAX];
	struct pdu_msg	 m;
	int		 i;

	(void)state;
	long3(text, sizeof(text));
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, text, T0, 0x42, p,
	    PDU_PARTS_MAX), 3);
	assert_part(&p[0], v_long3[0], 160);
	assert_part(&p[1], v_long3[1], 160);
	assert_part(&p[2], v_long3[2], 144);
	/* Too many parts for the caller's array. */
	assert_int_equal(pdu_encode_deliver(SMSC, FROM, text, T0, 0x42, p, 2),
	    -1);
	for (i = 0; i < 3; i++) {
		assert_int_equal(pdu_decode(v_long3[i], 1, &m), 0);
		assert_int_equal(m.concat_ref, 0x42);
		assert_int_equal(m.concat_part, i + 1);
		assert_int_equal(m.concat_total, 3);
	}
	/* libGammu's cut: 153 septets a part, the rest in the third. */
	assert_int_equal(strlen(m.text), 440 - 2 * 153);
}

static void
test_submit_srr(void **state)
{
	struct pdu_part	 p[1];
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_encode_submit(SMSC, TO, "laporan", 1, 7, p, 1), 1);
	assert_part(&p[0], V_SUBMIT, 22);
	assert_int_equal(pdu_decode(V_SUBMIT, 1, &m), 0);
	assert_int_equal(m.type, PDU_SUBMIT);
	assert_int_equal(m.srr, 1);
	assert_int_equal(m.mr, 7);
	assert_string_equal(m.number, TO);
	assert_string_equal(m.text, "laporan");
	assert_int_equal(m.time, 0);
	/* Without an SMSC address, AT+CMGS's form. */
	assert_int_equal(pdu_decode(V_SUBMIT + 14, 0, &m), 0);
	assert_string_equal(m.smsc, "");
	assert_string_equal(m.text, "laporan");
	assert_int_equal(m.tpdu_len, 22);
}

/* 23.040 9.2.3.12: TP-VP absolute (libGammu read it) and enhanced. */
static void
test_submit_vpf(void **state)
{
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_decode("0691261801000039070D91261892785634F2"
	    "000042402020330282" "07EC30FC2D0FBB01", 1, &m), 0);
	assert_string_equal(m.text, "laporan");
	assert_int_equal(m.tpdu_len, 28);
	assert_int_equal(pdu_decode("0691261801000029070D91261892785634F2"
	    "000001000000000000" "07EC30FC2D0FBB01", 1, &m), 0);
	assert_string_equal(m.text, "laporan");
	assert_int_equal(m.mr, 7);
	/* No TP-VP at all. */
	assert_int_equal(pdu_decode("0691261801000021070D91261892785634F2"
	    "0000" "07EC30FC2D0FBB01", 1, &m), 0);
	assert_string_equal(m.text, "laporan");
}

static void
test_status_report(void **state)
{
	struct pdu_part	 p;
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_encode_status_report(SMSC, 7, TO, T0, T0 + 60, 0,
	    &p), 0);
	assert_part(&p, V_REPORT, 26);
	assert_int_equal(pdu_decode(V_REPORT, 1, &m), 0);
	assert_int_equal(m.type, PDU_STATUS_REPORT);
	assert_int_equal(m.mr, 7);
	assert_string_equal(m.number, TO);
	assert_int_equal(m.status, 0);
	assert_int_equal(m.time, T0 + 60);	/* TP-DT */
	assert_string_equal(m.text, "Delivered");
}

static void
test_alphanumeric(void **state)
{
	struct pdu_part	 p[1];
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_encode_deliver(SMSC, "TELKOMSEL",
	    "Pulsa Anda Rp5.000", T0, 0, p, 1), 1);
	assert_part(&p[0], V_ALNUM, 37);
	assert_int_equal(pdu_decode(V_ALNUM, 1, &m), 0);
	assert_string_equal(m.number, "TELKOMSEL");
	/* 23.040 9.1.2.5: "Info", 28 bits in 7 semi-octets, TON 5. */
	assert_int_equal(pdu_decode("069126180100000007D049B7F90D0000"
	    "4240202033028202C834", 1, &m), 0);
	assert_string_equal(m.number, "Info");
	assert_string_equal(m.text, "Hi");
}

static void
test_concat16(void **state)
{
	struct pdu_part	 p;
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_decode(V_REF16, 1, &m), 0);
	assert_int_equal(m.concat_ref, 0x1234);
	assert_int_equal(m.concat_part, 2);
	assert_int_equal(m.concat_total, 3);
	assert_string_equal(m.text, "Suara TPS 01: 123");
	/* Relayed as it came: the 16-bit header again. */
	assert_int_equal(pdu_encode_deliver_part(SMSC, &m, T0, &p), 0);
	assert_part(&p, V_REF16, 42);
}

static void
test_deliver_part(void **state)
{
	struct pdu_part	 p;
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_decode(v_long3[1], 1, &m), 0);
	assert_int_equal(pdu_encode_deliver_part(SMSC, &m, T0, &p), 0);
	assert_part(&p, v_long3[1], 160);
	assert_int_equal(pdu_decode(V_UCS2, 1, &m), 0);
	assert_int_equal(pdu_encode_deliver_part(SMSC, &m, T0, &p), 0);
	assert_part(&p, V_UCS2, 56);
}

static void
test_ucs2_hex(void **state)
{
	char	 buf[64];

	(void)state;
	assert_int_equal(pdu_utf8_to_ucs2_hex("Halo \xf0\x9f\x99\x8f", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "00480061006C006F0020D83DDE4F");
	assert_int_equal(pdu_ucs2_hex_to_utf8("00480061006C006F0020D83DDE4F",
	    buf, sizeof(buf)), 0);
	assert_string_equal(buf, "Halo \xf0\x9f\x99\x8f");
	assert_int_equal(pdu_ucs2_hex_to_utf8("004", buf, sizeof(buf)), -1);
	assert_int_equal(pdu_ucs2_hex_to_utf8("00G8", buf, sizeof(buf)), -1);
	assert_int_equal(pdu_utf8_to_ucs2_hex("Halo", buf, 16), -1);
	assert_int_equal(pdu_is_gsm7(""), 1);
	assert_int_equal(pdu_is_gsm7("caf\xc3\xa1"), 0);
}

static void
test_malformed(void **state)
{
	struct pdu_msg	 m;

	(void)state;
	assert_int_equal(pdu_decode("", 1, &m), -1);
	assert_int_equal(pdu_decode("069", 1, &m), -1);
	assert_int_equal(pdu_decode("06912618010000XX", 1, &m), -1);
	/* Cut short anywhere. */
	assert_int_equal(pdu_decode("0691261801000031070D912618927856", 1, &m),
	    -1);
	assert_int_equal(pdu_decode("0691261801000031070D91261892785634F20000"
	    "FF07EC30FC", 1, &m), -1);
	/* 9.2.3.1: TP-MTI 3 is reserved. */
	assert_int_equal(pdu_decode("0691261801000003070D91261892785634F2"
	    "0000FF07EC30FC2D0FBB01", 1, &m), -1);
	/* A UDH longer than the user data. */
	assert_int_equal(pdu_decode("06912618010000400D91261832547698F0000842"
	    "4020203302820209FF", 1, &m), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_deliver_gsm7),
		cmocka_unit_test(test_deliver_extension),
		cmocka_unit_test(test_deliver_ucs2),
		cmocka_unit_test(test_deliver_nul),
		cmocka_unit_test(test_deliver_concat3),
		cmocka_unit_test(test_submit_srr),
		cmocka_unit_test(test_submit_vpf),
		cmocka_unit_test(test_status_report),
		cmocka_unit_test(test_alphanumeric),
		cmocka_unit_test(test_concat16),
		cmocka_unit_test(test_deliver_part),
		cmocka_unit_test(test_ucs2_hex),
		cmocka_unit_test(test_malformed),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
