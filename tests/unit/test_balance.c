/*
 * Unit tests of balance: the airtime and expiry in the USSD answers of
 * Indonesian operators, the answers that hold none, and the default
 * balance code per operator.
 */

#include "unit.h"
#include "gw.h"

struct bcase {
	const char	*oper;
	const char	*text;
	int		 rc;
	long		 rupiah;
	const char	*expiry;
};

static const struct bcase answers[] = {
	/* tallysim's answer (sim/at.c) */
	{ "TELKOMSEL", "Sisa pulsa Anda Rp12.345. Aktif s.d. 21-02-2026",
	    1, 12345, "2026-02-21" },
	{ "TELKOMSEL", "Sisa Pulsa Anda Rp.1.234.567, aktif s.d 25/12/2026. "
	    "Info: 188", 1, 1234567, "2026-12-25" },
	{ "XL Axiata", "Pulsa Rp 5.000, aktif sd 12/03/2026", 1, 5000,
	    "2026-03-12" },
	{ "INDOSAT OOREDOO", "Sisa Pulsa: Rp.10.500 Masa Aktif:30-11-2026",
	    1, 10500, "2026-11-30" },
	{ "51001", "Pulsa Utama Rp25.000 aktif hingga 01.06.26. Bonus "
	    "Rp5.000", 1, 25000, "2026-06-01" },
	{ "3", "Pulsa Utama: Rp 15.000, berlaku s/d 01/06/2026. Kuota "
	    "2GB", 1, 15000, "2026-06-01" },
	{ "Smartfren", "Saldo: Rp 50.000 Aktif s/d 2026-07-01", 1, 50000,
	    "2026-07-01" },
	{ "Smartfren", "Saldo 25000", 1, 25000, "" },
	{ "", "Your balance is Rp 1,250. Valid until 12 Mar 2026", 1, 1250,
	    "2026-03-12" },
	{ NULL, "Your main balance is IDR 3,500.00, active till 28-02-2027",
	    1, 3500, "2027-02-28" },
	{ "XL", "Sisa pulsa Rp 10.500,00 masa aktif 31 Agustus 2026", 1,
	    10500, "2026-08-31" },
	{ "TSEL", "Pulsa Anda Rp0. Isi ulang sekarang!", 1, 0, "" },
	{ "XL", "Pulsa: 12 rb. Aktif s.d 29-02-2028", 1, 12000,
	    "2028-02-29" },
	/* a date that does not exist is no expiry */
	{ "TELKOMSEL", "Sisa pulsa Anda Rp7.000. Aktif s.d. 31-02-2026",
	    1, 7000, "" },
	/* answers without a balance */
	{ "TELKOMSEL", "Nomor Anda 6281234567890", 0, 0, "" },
	{ "INDOSAT", "Maaf, permintaan Anda tidak dapat diproses. Silakan "
	    "coba lagi.", 0, 0, "" },
	{ "XL", "Pulsa Anda tidak mencukupi untuk membeli paket ini", 0, 0,
	    "" },
	{ "3", "Sisa kuota 2.048 MB, aktif s.d. 01-06-2026", 0, 0, "" },
	{ "TELKOMSEL", "1.Cek Pulsa\n2.Beli Paket\n3.Info", 0, 0, "" },
	{ "Smartfren", "Saldo bonus 30 menit", 0, 0, "" },
	{ "TELKOMSEL", "Pulsa 5GB aktif 30 hari", 0, 0, "" },
	{ "TELKOMSEL", "", 0, 0, "" },
	{ "TELKOMSEL", "UNKNOWN APPLICATION", 0, 0, "" },
	/* over 12 digits of rupiah, also through "ribu": not a balance */
	{ "", "Your main balance is 9999999999ribu credit", 0, 0, "" },
	{ "", "Pulsa Rp 1234567890123", 0, 0, "" },
	{ "", "Pulsa Rp 999.999.999 rb", 1, 999999999000L, "" },
};

static void
test_answers(void **state)
{
	char	 exp[16];
	long	 rp;
	size_t	 i;
	int	 rc;

	(void)state;
	for (i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
		const struct bcase *c = &answers[i];

		rp = -7;
		memset(exp, 'x', sizeof(exp));
		rc = balance_parse(c->oper, c->text, &rp, exp, sizeof(exp));
		if (rc != c->rc)
			fail_msg("\"%s\": rc %d, want %d", c->text, rc, c->rc);
		if (rc == 1 && rp != c->rupiah)
			fail_msg("\"%s\": Rp %ld, want %ld", c->text, rp,
			    c->rupiah);
		if (rc == 0 && rp != -7)
			fail_msg("\"%s\": rupiah changed without a balance",
			    c->text);
		if (rc == 1 && strcmp(exp, c->expiry) != 0)
			fail_msg("\"%s\": expiry \"%s\", want \"%s\"", c->text,
			    exp, c->expiry);
		if (rc == 0 && exp[0] != '\0')
			fail_msg("\"%s\": expiry not cleared", c->text);
	}
}

static void
test_arguments(void **state)
{
	char	 exp[16];
	long	 rp = 0;

	(void)state;
	assert_int_equal(balance_parse("XL", NULL, &rp, exp, sizeof(exp)), -1);
	assert_int_equal(balance_parse("XL", "Pulsa Rp5.000", NULL, exp,
	    sizeof(exp)), -1);
	/* An expiry buffer too small for YYYY-MM-DD. */
	assert_int_equal(balance_parse("XL", "Pulsa Rp5.000", &rp, exp, 10),
	    -1);
	/* No expiry wanted. */
	assert_int_equal(balance_parse("XL", "Pulsa Rp5.000 aktif s.d. "
	    "01-01-2027", &rp, NULL, 0), 1);
	assert_int_equal(rp, 5000);
	/* More digits than any balance: not one. */
	assert_int_equal(balance_parse("XL", "Pulsa Rp 1234567890123456",
	    &rp, exp, sizeof(exp)), 0);
}

static void
test_ussd_codes(void **state)
{
	(void)state;
	assert_string_equal(balance_ussd_code("TELKOMSEL"), "*888#");
	assert_string_equal(balance_ussd_code("Telkomsel"), "*888#");
	assert_string_equal(balance_ussd_code("51010"), "*888#");
	assert_string_equal(balance_ussd_code("INDOSAT OOREDOO"), "*555#");
	assert_string_equal(balance_ussd_code("IM3"), "*555#");
	assert_string_equal(balance_ussd_code("510 01"), "*555#");
	assert_string_equal(balance_ussd_code("XL Axiata"), "*123#");
	assert_string_equal(balance_ussd_code("AXIS"), "*123#");
	assert_string_equal(balance_ussd_code("Smartfren"), "*999#");
	assert_string_equal(balance_ussd_code("51009"), "*999#");
	assert_string_equal(balance_ussd_code("3"), "*111#");
	assert_string_equal(balance_ussd_code("TRI"), "*111#");
	assert_string_equal(balance_ussd_code("51089"), "*111#");
	/* Unknown, empty or missing: Telkomsel's code. */
	assert_string_equal(balance_ussd_code("Acme Mobile"), "*888#");
	assert_string_equal(balance_ussd_code(""), "*888#");
	assert_string_equal(balance_ussd_code(NULL), "*888#");
	/* Words, not fragments: "Extra" is not XL, "Metro" not Tri. */
	assert_string_equal(balance_ussd_code("Extra Metro"), "*888#");
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_answers),
	cmocka_unit_test(test_arguments),
	cmocka_unit_test(test_ussd_codes),
};

UNIT_MAIN(tests)
