/*
 * Unit tests of menu: the USSD reporting menu. Whole sessions are
 * played input by input against literal screens; every screen of every
 * contest, with and without an error, fits one USSD screen.
 */

#include "unit.h"
#include "gw.h"

#define TPS	"3201012001001"

static struct election	*el;

static int
setup(void **state)
{
	(void)state;
	el = election_default();
	return (el == NULL ? -1 : 0);
}

static int
teardown(void **state)
{
	(void)state;
	election_free(el);
	return (0);
}

/* Feed one input; the screen must equal want (NULL: not checked). */
static enum menu_rc
feed(struct menu *m, const struct menu_env *env, const char *in,
    const char *want)
{
	char		 screen[512];
	enum menu_rc	 rc;

	rc = menu_input(m, env, in, screen, sizeof(screen));
	if (want != NULL && rc != MENU_SUBMIT && rc != MENU_RESUME)
		assert_string_equal(screen, want);
	assert_true(rc == MENU_SUBMIT || rc == MENU_RESUME ||
	    reply_gsm_length(screen) <= MENU_SCREEN_MAX);
	return (rc);
}

/* A PPWP report, values all in one input: the screens, and the text. */
static void
test_ppwp(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, NULL };
	char		 screen[512], text[256];

	(void)state;
	menu_init(&m);
	assert_int_equal(menu_screen(&m, &env, screen, sizeof(screen)),
	    MENU_CON);
	assert_string_equal(screen, "Lapor hasil TPS. Pilih jenis:\n"
	    "1 PPWP (Presiden)\n2 DPR\n3 DPD\n4 DPRD Prov\n5 DPRD Kab/Kota");
	assert_int_equal(feed(&m, &env, "1", "PPWP. Ketik kode TPS 13 angka "
	    "(10 kode desa + 3 no TPS) dari C.Hasil:\n0 Kembali 00 Awal"),
	    MENU_CON);
	assert_int_equal(feed(&m, &env, TPS, "PPWP TPS 3201012001001\n"
	    "Ketik PEMILIH (angka 1 dari 6), atau semua angka sisa dipisah *:"
	    "\n# Kembali ## Awal"), MENU_CON);
	feed(&m, &env, "255*120*95*36*251*4", "Ketik SEQ: no pesan = no "
	    "baris kartu kode yg dipakai (1-9999).\n0 Kembali 00 Awal");
	feed(&m, &env, "3", "Ketik KODE 8 angka dari kartu baris 3, atau "
	    "dari MAC.\n0 Kembali 00 Awal");
	feed(&m, &env, "43058167", "Periksa 1/1 PPWP TPS 3201012001001 SEQ 3:"
	    "\nPEMILIH=255, 1=120, 2=95, 3=36, SAH=251, TDK SAH=4\n"
	    "1 KIRIM 0 Ubah 00 Awal");
	assert_int_equal(menu_report(&m, text, sizeof(text)), -1);
	assert_int_equal(feed(&m, &env, "1", NULL), MENU_SUBMIT);
	assert_int_equal(menu_report(&m, text, sizeof(text)), 0);
	assert_string_equal(text, "1*3201012001001*3*255*120*95*36*251*4*"
	    "43058167");
}

/* Values one per screen, named; 0 is a value there, # goes back. */
static void
test_one_by_one(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, NULL };
	char		 text[256];

	(void)state;
	menu_init(&m);
	feed(&m, &env, "1", NULL);
	feed(&m, &env, TPS, NULL);
	feed(&m, &env, "255", "PPWP TPS 3201012001001\nKetik Paslon 1 "
	    "(angka 2 dari 6), atau semua angka sisa dipisah *:\n"
	    "# Kembali ## Awal");
	feed(&m, &env, "0", NULL);		/* a value, not back */
	feed(&m, &env, "#", "PPWP TPS 3201012001001\nKetik Paslon 1 "
	    "(angka 2 dari 6), atau semua angka sisa dipisah *:\n"
	    "# Kembali ## Awal");
	feed(&m, &env, "120", NULL);
	feed(&m, &env, "95*36", NULL);		/* some of the rest */
	feed(&m, &env, "1000", "Salah: ketik angka 0-999, pisahkan dgn *.\n"
	    "PPWP TPS 3201012001001\nKetik SAH (angka 5 dari 6), atau semua "
	    "angka sisa dipisah *:\n# Kembali ## Awal");
	feed(&m, &env, "251*4*7", "Salah: terlalu banyak angka.\n"
	    "PPWP TPS 3201012001001\nKetik SAH (angka 5 dari 6), atau semua "
	    "angka sisa dipisah *:\n# Kembali ## Awal");
	feed(&m, &env, "251", NULL);
	feed(&m, &env, "4", NULL);
	feed(&m, &env, "0", "PPWP TPS 3201012001001\nKetik TIDAK SAH (angka "
	    "6 dari 6), atau semua angka sisa dipisah *:\n# Kembali ## Awal");
	feed(&m, &env, "4", NULL);
	feed(&m, &env, "12", NULL);
	feed(&m, &env, "1234567", "Salah: KODE harus 8 angka.\nKetik KODE 8 "
	    "angka dari kartu baris 12, atau dari MAC.\n0 Kembali 00 Awal");
	feed(&m, &env, "05825051", NULL);
	assert_int_equal(feed(&m, &env, "1", NULL), MENU_SUBMIT);
	assert_int_equal(menu_report(&m, text, sizeof(text)), 0);
	assert_string_equal(text, "1*3201012001001*12*255*120*95*36*251*4*"
	    "05825051");
}

/* Wrong inputs repeat the screen with a reason; 00 starts again. */
static void
test_wrong(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, NULL };

	(void)state;
	menu_init(&m);
	assert_int_equal(feed(&m, &env, "7", "Salah: pilih 1 sampai 5.\n"
	    "Lapor hasil TPS. Pilih jenis:\n1 PPWP (Presiden)\n2 DPR\n3 DPD"
	    "\n4 DPRD Prov\n5 DPRD Kab/Kota"), MENU_WRONG);
	feed(&m, &env, "9", NULL);		/* nothing to resume */
	assert_int_equal(m.step, MENU_CONTEST);
	feed(&m, &env, "3", NULL);
	feed(&m, &env, "320101200100", "Salah: kode TPS harus 13 angka.\n"
	    "DPD. Ketik kode TPS 13 angka (10 kode desa + 3 no TPS) dari "
	    "C.Hasil:\n0 Kembali 00 Awal");
	feed(&m, &env, "0501012001001", "Salah: 2 angka pertama = kode "
	    "provinsi (11-99).\nDPD. Ketik kode TPS 13 angka (10 kode desa + "
	    "3 no TPS) dari C.Hasil:\n0 Kembali 00 Awal");
	feed(&m, &env, TPS, NULL);
	assert_int_equal(m.form.nvalues, 57);
	feed(&m, &env, "00", NULL);		/* a value 0 here... */
	assert_int_equal(m.nvalues, 1);
	feed(&m, &env, "##", NULL);		/* ...## is the start */
	assert_int_equal(m.step, MENU_CONTEST);
	assert_int_equal(m.nvalues, 0);
	feed(&m, &env, "1", NULL);
	feed(&m, &env, "0", NULL);		/* back from TPS */
	assert_int_equal(m.step, MENU_CONTEST);
}

/* A DPR party page: page, PARTAI and candidates; review over pages. */
static void
test_dpr_page(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, NULL };
	char		 text[256];

	(void)state;
	menu_init(&m);
	feed(&m, &env, "2", NULL);
	feed(&m, &env, TPS, "DPR TPS 3201012001001. Ketik halaman: 0 = "
	    "ringkasan, atau no urut partai.\n# Kembali ## Awal");
	feed(&m, &env, "77", "Salah: tidak ada partai dgn no itu.\nDPR TPS "
	    "3201012001001. Ketik halaman: 0 = ringkasan, atau no urut "
	    "partai.\n# Kembali ## Awal");
	feed(&m, &env, "5", "DPR TPS 3201012001001 hal 5\nKetik PARTAI "
	    "(angka 1 dari 11), atau semua angka sisa dipisah *:\n"
	    "# Kembali ## Awal");
	feed(&m, &env, "40*1*2*3*4*5*6*7*8*9*10", NULL);
	feed(&m, &env, "21", NULL);
	feed(&m, &env, "11111111", "Periksa 1/2 DPR TPS 3201012001001 hal 5 "
	    "SEQ 21:\nPARTAI=40, 1=1, 2=2, 3=3, 4=4, 5=5, 6=6, 7=7\n"
	    "1 Lanjut 0 Ubah 00 Awal");
	feed(&m, &env, "1", "Periksa 2/2 SEQ 21:\n8=8, 9=9, 10=10"
	    "\n1 KIRIM 0 Ubah 00 Awal");
	feed(&m, &env, "0", NULL);		/* back to page 1 */
	feed(&m, &env, "1", NULL);
	assert_int_equal(feed(&m, &env, "1", NULL), MENU_SUBMIT);
	assert_int_equal(menu_report(&m, text, sizeof(text)), 0);
	assert_string_equal(text, "2*3201012001001*21*5*40*1*2*3*4*5*6*7*8*"
	    "9*10*11111111");
}

/* Every screen of every contest fits, also after an error. */
static void
test_lengths(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, "DPRD Kab/Kota TPS 3201012001001 "
	    "hal 99" };
	char		 screen[512];
	int		 c, step, page;
	size_t		 i;

	(void)state;
	for (c = CONTEST_PPWP; c <= CONTEST_DPRDK; c++) {
		for (page = 0; page <= (decode_contest_paged(c) ? 18 : 0);
		    page++) {
			menu_init(&m);
			feed(&m, &env, c == 1 ? "1" : c == 2 ? "2" : c == 3 ?
			    "3" : c == 4 ? "4" : "5", NULL);
			feed(&m, &env, TPS, NULL);
			if (decode_contest_paged(c)) {
				snprintf(screen, sizeof(screen), "%d", page);
				if (feed(&m, &env, screen, NULL) == MENU_WRONG)
					continue;
			}
			for (i = 0; m.step == MENU_VALUES; i++) {
				feed(&m, &env, "x", NULL);
				feed(&m, &env, "999", NULL);
			}
			feed(&m, &env, "x", NULL);
			feed(&m, &env, "9999", NULL);
			feed(&m, &env, "x", NULL);
			feed(&m, &env, "99999999", NULL);
			for (step = 0; m.step == MENU_REVIEW; step++) {
				feed(&m, &env, "x", NULL);
				if (feed(&m, &env, "1", NULL) == MENU_SUBMIT)
					break;
			}
			assert_int_equal(m.step, MENU_SENT);
		}
	}
}

/*
 * The review names each number as the SMS confirmation does: on a DPR
 * summary page a party by its ballot number (the 18th party of Jawa
 * Barat is UMMAT, number 24), not by its place on the form.
 */
static void
test_review_labels(void **state)
{
	struct menu	 m;
	struct menu_env	 env = { el, NULL, NULL };
	char		 in[128];
	size_t		 i, off = 0;

	(void)state;
	menu_init(&m);
	feed(&m, &env, "2", NULL);
	feed(&m, &env, TPS, NULL);
	feed(&m, &env, "0", NULL);
	off = snprintf(in, sizeof(in), "999");
	for (i = 1; i <= 18; i++)
		off += snprintf(in + off, sizeof(in) - off, "*%zu", 100 + i);
	snprintf(in + off, sizeof(in) - off, "*999*0");
	feed(&m, &env, in, NULL);
	feed(&m, &env, "4", NULL);
	feed(&m, &env, "12345678", "Periksa 1/3 DPR TPS 3201012001001 hal 0 "
	    "SEQ 4:\nPEMILIH=999, 1=101, 2=102, 3=103, 4=104, 5=105, 6=106, "
	    "7=107\n1 Lanjut 0 Ubah 00 Awal");
	feed(&m, &env, "1", "Periksa 2/3 SEQ 4:\n8=108, 9=109, 10=110, "
	    "11=111, 12=112, 13=113, 14=114, 15=115, 16=116, 17=117, 24=118\n"
	    "1 Lanjut 0 Ubah 00 Awal");
	feed(&m, &env, "1", "Periksa 3/3 SEQ 4:\nSAH=999, TDK SAH=0\n"
	    "1 KIRIM 0 Ubah 00 Awal");
}

/* Save m, load it into a new menu: the same screen; the loaded menu. */
static void
roundtrip(const struct menu *m, const struct menu_env *env, struct menu *out)
{
	struct menu_saved	 sv;
	char			 a[512], b[512];

	menu_save(m, &sv);
	assert_int_equal(menu_load(out, env, &sv), 0);
	menu_screen(m, env, a, sizeof(a));
	menu_screen(out, env, b, sizeof(b));
	assert_string_equal(a, b);
}

/* Load sv, which must be refused: the menu is then at the start. */
static void
refused(const struct menu_env *env, const struct menu_saved *sv)
{
	struct menu	 m;

	memset(&m, 0x5a, sizeof(m));
	assert_int_equal(menu_load(&m, env, sv), -1);
	assert_int_equal(m.step, MENU_CONTEST);
	assert_int_equal(m.nvalues, 0);
}

/*
 * A half-filled report saved for the store and loaded back goes on
 * where it stopped, at every step it can be kept at; a saved report
 * that does not fit the election is refused.
 */
static void
test_saved(void **state)
{
	struct menu		 m, l;
	struct menu_env		 env = { el, NULL, NULL };
	struct menu_saved	 sv, bad;
	char			 screen[512], text[256];

	(void)state;
	/* PPWP after two values. */
	menu_init(&m);
	feed(&m, &env, "1", NULL);
	feed(&m, &env, TPS, NULL);
	feed(&m, &env, "255*120", NULL);
	roundtrip(&m, &env, &l);
	menu_screen(&l, &env, screen, sizeof(screen));
	assert_string_equal(screen, "PPWP TPS 3201012001001\nKetik Paslon 2 "
	    "(angka 3 dari 6), atau semua angka sisa dipisah *:\n"
	    "# Kembali ## Awal");
	feed(&l, &env, "95*36*251*4", NULL);
	feed(&l, &env, "3", NULL);
	feed(&l, &env, "43058167", NULL);
	assert_int_equal(feed(&l, &env, "1", NULL), MENU_SUBMIT);
	assert_int_equal(menu_report(&l, text, sizeof(text)), 0);
	assert_string_equal(text, "1*3201012001001*3*255*120*95*36*251*4*"
	    "43058167");

	/* DPR: at the page; then on the second review screen. */
	menu_init(&m);
	feed(&m, &env, "2", NULL);
	feed(&m, &env, TPS, NULL);
	roundtrip(&m, &env, &l);
	assert_int_equal(l.step, MENU_PAGE);
	feed(&m, &env, "5", NULL);
	feed(&m, &env, "40*1*2*3*4*5*6*7*8*9*10", NULL);
	feed(&m, &env, "21", NULL);
	feed(&m, &env, "11111111", NULL);
	feed(&m, &env, "1", NULL);
	roundtrip(&m, &env, &l);
	assert_int_equal(l.review, 1);
	assert_int_equal(feed(&l, &env, "1", NULL), MENU_SUBMIT);
	assert_int_equal(menu_report(&l, text, sizeof(text)), 0);
	assert_string_equal(text, "2*3201012001001*21*5*40*1*2*3*4*5*6*7*8*"
	    "9*10*11111111");
	/* Back to the SEQ screen, with a SEQ typed before. */
	feed(&m, &env, "0", NULL);
	feed(&m, &env, "0", NULL);
	feed(&m, &env, "0", NULL);
	assert_int_equal(m.step, MENU_SEQ);
	roundtrip(&m, &env, &l);
	assert_int_equal(l.step, MENU_SEQ);

	/* What no longer fits is refused. */
	menu_save(&m, &sv);
	bad = sv;
	snprintf(bad.step, sizeof(bad.step), "sent");
	refused(&env, &bad);
	snprintf(bad.step, sizeof(bad.step), "contest");
	refused(&env, &bad);
	bad = sv;
	bad.page = 77;				/* no such party */
	refused(&env, &bad);
	bad = sv;
	bad.nvalues = 10;			/* SEQ with a value missing */
	refused(&env, &bad);
	bad = sv;
	bad.values[3] = 1000;
	refused(&env, &bad);
	bad = sv;
	bad.contest = CONTEST_PPWP;		/* PPWP has no page */
	refused(&env, &bad);
	bad = sv;
	bad.tps = 501012001001ULL;		/* province 05 */
	refused(&env, &bad);
	bad = sv;
	snprintf(bad.step, sizeof(bad.step), "review");
	bad.review = 2;				/* the review has 2 screens */
	refused(&env, &bad);
	bad.review = 1;
	assert_int_equal(menu_load(&l, &env, &bad), 0);
	snprintf(bad.code, sizeof(bad.code), "1234567x");
	refused(&env, &bad);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ppwp),
		cmocka_unit_test(test_one_by_one),
		cmocka_unit_test(test_wrong),
		cmocka_unit_test(test_dpr_page),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_saved),
		cmocka_unit_test(test_review_labels),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
