/*
 * The TPS registry: the national import from the shared KPU data, the
 * lookups the gateway makes, the DPT file, bad CSV files (each must
 * fail with file:line and leave the registry as it was), re-imports
 * and read-only opening.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"

#include "log.h"
#include "tally.h"

#define NATIONAL_TPS	820161	/* KPU's official domestic total */
#define NATIONAL_VILLAGES 83731
#define PILPRES_ROWS	40855
#define DPT300_TPS	6501042005001ULL	/* its DPT is 300 */

static char	 tmpdir[PATH_MAX];

/* The national registry, built once and shared by the tests. */
static struct registry	*national;
static char		 national_db[PATH_MAX + 32];
static size_t		 national_count;

#define DESA_HEADER	"kode_desa,kode_prov,prov,kode_kab,kab,kode_kec,kec," \
			"desa,n_tps_reguler,ext_first,ext_last,n_tps_total\n"
#define DPT_HEADER	"kode_tps,kode_prov,prov,kode_kab,kab,kode_kec,kec," \
			"kode_desa,desa,no_tps,dpt\n"

static void
cleanup(void)
{
	char	 cmd[PATH_MAX + 16];

	registry_close(national);
	national = NULL;
	if (tmpdir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", tmpdir);
}

static const char *
tmpdir_get(void)
{
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "%s/test_registry.XXXXXX",
		    getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(tmpdir) == NULL) {
			fprintf(stderr, "mkdtemp %s: %s\n", tmpdir,
			    strerror(errno));
			tmpdir[0] = '\0';
			fail();
		}
		atexit(cleanup);
	}
	return (tmpdir);
}

/* A path in the temporary directory. */
static const char *
tmppath(const char *name)
{
	static char	 path[4][PATH_MAX + 64];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir_get(), name);
	return (path[i]);
}

static const char *
write_file(const char *name, const char *text)
{
	const char	*path = tmppath(name);
	FILE		*fp;

	assert_non_null(fp = fopen(path, "w"));
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	return (path);
}

/* Create a new registry in the temporary directory. */
static struct registry *
fresh(const char *name)
{
	struct registry	*reg;
	char		 err[512];
	const char	*path = tmppath(name);

	unlink(path);
	reg = registry_open(path, REGISTRY_CREATE, err, sizeof(err));
	if (reg == NULL)
		print_error("registry_open %s: %s\n", path, err);
	assert_non_null(reg);
	return (reg);
}

static size_t
count(struct registry *reg)
{
	size_t	 n = 0;

	assert_int_equal(registry_count(reg, &n), 0);
	return (n);
}

static struct registry *
national_get(void)
{
	char	 err[512];
	size_t	 n = 0;
	int	 rc;

	if (national != NULL)
		return (national);
	snprintf(national_db, sizeof(national_db), "%s",
	    tmppath("national.db"));
	national = fresh("national.db");
	rc = registry_import_desa(national, unit_shared("desa_tps_2024.csv"),
	    &national_count, err, sizeof(err));
	if (rc != 0)
		print_error("import desa: %s\n", err);
	assert_int_equal(rc, 0);
	rc = registry_import_dpt(national, unit_shared("pilpres2024_tps.csv"),
	    &n, err, sizeof(err));
	if (rc != 0)
		print_error("import dpt: %s\n", err);
	assert_int_equal(rc, 0);
	assert_int_equal(n, PILPRES_ROWS);
	return (national);
}

static void
expect_tps(struct registry *reg, uint64_t tps, const char *desa, int dpt)
{
	struct tps_info	 info;
	int		 rc;

	rc = registry_lookup(reg, tps, &info);
	if (rc != 1)
		print_error("TPS %013llu: lookup %d, expected found\n",
		    (unsigned long long)tps, rc);
	assert_int_equal(rc, 1);
	assert_true(info.tps == tps);
	if (desa != NULL)
		assert_string_equal(info.desa, desa);
	if (dpt >= 0)
		assert_int_equal(info.dpt, dpt);
}

static void
expect_absent(struct registry *reg, uint64_t tps)
{
	struct tps_info	 info;
	int		 rc;

	rc = registry_lookup(reg, tps, &info);
	if (rc != 0)
		print_error("TPS %013llu: lookup %d, expected absent\n",
		    (unsigned long long)tps, rc);
	assert_int_equal(rc, 0);
}

/* --- the national registry ------------------------------------------ */

static void
test_national_total(void **state)
{
	struct registry	*reg = national_get();

	assert_int_equal(national_count, NATIONAL_TPS);
	assert_int_equal(count(reg), NATIONAL_TPS);
}

static void
test_national_lookup(void **state)
{
	struct registry	*reg = national_get();
	struct tps_info	 info;

	/* 1101012001 KEUDE BAKONGAN: 3 regular TPS, no extra block. */
	assert_int_equal(registry_lookup(reg, 1101012001001ULL, &info), 1);
	assert_string_equal(info.prov, "ACEH");
	assert_string_equal(info.kab, "ACEH SELATAN");
	assert_string_equal(info.kec, "BAKONGAN");
	assert_string_equal(info.desa, "KEUDE BAKONGAN");
	assert_int_equal(info.dpt, 0);		/* not in the DPT file */
	expect_tps(reg, 1101012001003ULL, "KEUDE BAKONGAN", 0);
	expect_absent(reg, 1101012001004ULL);
	expect_absent(reg, 1101012001000ULL);

	/* 1101082007 PASAR: 2 regular, extra block 901..901. */
	expect_tps(reg, 1101082007002ULL, "PASAR", -1);
	expect_absent(reg, 1101082007003ULL);
	expect_tps(reg, 1101082007901ULL, "PASAR", -1);
	expect_absent(reg, 1101082007902ULL);

	/* 1101122007 BLANG POROH: 4 regular, extra block 901..902. */
	expect_tps(reg, 1101122007004ULL, "BLANG POROH", -1);
	expect_absent(reg, 1101122007005ULL);
	expect_tps(reg, 1101122007901ULL, "BLANG POROH", -1);
	expect_tps(reg, 1101122007902ULL, "BLANG POROH", -1);
	expect_absent(reg, 1101122007903ULL);

	/* Quoted names: a comma, a doubled quote. */
	expect_tps(reg, 1207281007022ULL, "LUBUK PAKAM I,II", -1);
	expect_absent(reg, 1207281007023ULL);
	expect_tps(reg, 3513152017011ULL, "SOKA\"AN", -1);

	/* Papua Barat Daya (96), the last province of the file. */
	assert_int_equal(registry_lookup(reg, 9601391003003ULL, &info), 1);
	assert_string_equal(info.prov, "PAPUA BARAT DAYA");

	/* Abroad (province 99) is not served; nonsense codes are absent. */
	expect_absent(reg, 9901010001001ULL);
	expect_absent(reg, 0);
	expect_absent(reg, 9999999999999ULL);
	expect_absent(reg, UINT64_MAX);
}

static void
test_national_dpt(void **state)
{
	struct registry	*reg = national_get();

	/* First rows of pilpres2024_tps.csv: dpt 299 and 293. */
	expect_tps(reg, 6501011001001ULL, "TANJUNG PALAS HULU", 299);
	expect_tps(reg, 6501011001002ULL, "TANJUNG PALAS HULU", 293);
	/* A blank DPT stays unknown. */
	expect_tps(reg, 5302082002001ULL, "NUNLE\"U", 0);
	/* 232120 and 741 are misreadings (over 300): kept as unknown. */
	expect_tps(reg, 5312102003003ULL, NULL, 0);
	expect_tps(reg, 9601391003003ULL, NULL, 0);
	/* A DPT of 300, the legal maximum, is kept. */
	expect_tps(reg, DPT300_TPS, NULL, 300);
	/* An extra-block TPS with a DPT. */
	expect_tps(reg, 6501092001901ULL, NULL, -1);
}

/* Importing the same files again changes nothing; the DPT survives. */
static void
test_national_reimport(void **state)
{
	struct registry	*reg = national_get();
	char		 err[512];
	size_t		 n = 0;

	assert_int_equal(registry_import_desa(reg,
	    unit_shared("desa_tps_2024.csv"), &n, err, sizeof(err)), 0);
	assert_int_equal(n, NATIONAL_TPS);
	assert_int_equal(count(reg), NATIONAL_TPS);
	expect_tps(reg, 6501011001001ULL, NULL, 299);
	assert_int_equal(registry_import_dpt(reg,
	    unit_shared("pilpres2024_tps.csv"), &n, err, sizeof(err)), 0);
	assert_int_equal(n, PILPRES_ROWS);
	assert_int_equal(count(reg), NATIONAL_TPS);
	expect_tps(reg, 6501011001002ULL, NULL, 293);
}

/* A registry opened read-only answers lookups and refuses imports. */
static void
test_national_rdonly(void **state)
{
	struct registry	*ro;
	char		 err[512];
	size_t		 n;

	national_get();
	ro = registry_open(national_db, REGISTRY_RDONLY, err, sizeof(err));
	if (ro == NULL)
		print_error("%s\n", err);
	assert_non_null(ro);
	assert_int_equal(count(ro), NATIONAL_TPS);
	expect_tps(ro, 6501011001001ULL, "TANJUNG PALAS HULU", 299);
	expect_absent(ro, 1101012001004ULL);
	err[0] = '\0';
	assert_int_equal(registry_import_desa(ro,
	    unit_shared("desa_tps_2024.csv"), &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "read-only"));
	registry_close(ro);
}

/* --- small files ---------------------------------------------------- */

static void
test_small_import(void **state)
{
	struct registry	*reg = fresh("small.db");
	char		 err[512];
	size_t		 n = 0;
	const char	*desa, *dpt;

	/* CRLF line ends, quoted names, a blank line, province 99. */
	desa = write_file("small_desa.csv",
	    "kode_desa,kode_prov,prov,kode_kab,kab,kode_kec,kec,desa,"
	    "n_tps_reguler,ext_first,ext_last,n_tps_total\r\n"
	    "3201012001,32,JAWA BARAT,3201,BOGOR,320101,CIBINONG,"
	    "\"PONDOK RAJEG, \"\"LAMA\"\"\",2,901,902,4\r\n"
	    "\r\n"
	    "3201012002,32,JAWA BARAT,3201,BOGOR,320101,CIBINONG,"
	    "HARAPAN JAYA,1,,,1\r\n"
	    "9901010002,99,LUAR NEGERI,9901,BRUNEI,990101,KBRI,POS,"
	    "-26,,,-26\r\n");
	assert_int_equal(registry_import_desa(reg, desa, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 5);
	assert_non_null(strstr(err, "1 rows of province 99"));
	assert_int_equal(count(reg), 5);
	expect_tps(reg, 3201012001001ULL, "PONDOK RAJEG, \"LAMA\"", 0);
	expect_tps(reg, 3201012001002ULL, NULL, 0);
	expect_absent(reg, 3201012001003ULL);
	expect_tps(reg, 3201012001901ULL, NULL, 0);
	expect_tps(reg, 3201012001902ULL, NULL, 0);
	expect_tps(reg, 3201012002001ULL, "HARAPAN JAYA", 0);
	expect_absent(reg, 9901010002001ULL);

	/* DPT: columns in another order, a TPS and a village not listed. */
	dpt = write_file("small_dpt.csv",
	    "dpt,kode_tps,desa,kec,kab,prov\n"
	    "250,3201012001001,X,X,X,X\n"
	    ",3201012001002,X,X,X,X\n"
	    "180,3201012001003,X,X,X,X\n"
	    "301,3201012002001,X,X,X,X\n"
	    "77,3201012099001,BARU,CIBINONG,BOGOR,JAWA BARAT\n");
	assert_int_equal(registry_import_dpt(reg, dpt, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(n, 5);
	assert_int_equal(count(reg), 7);
	expect_tps(reg, 3201012001001ULL, "PONDOK RAJEG, \"LAMA\"", 250);
	expect_tps(reg, 3201012001002ULL, NULL, 0);
	/* Added to a known village: the village keeps its name. */
	expect_tps(reg, 3201012001003ULL, "PONDOK RAJEG, \"LAMA\"", 180);
	expect_tps(reg, 3201012002001ULL, NULL, 0);	/* over 300 */
	expect_tps(reg, 3201012099001ULL, "BARU", 77);

	/* The village list again: the DPT stays, added TPS stay. */
	assert_int_equal(registry_import_desa(reg, desa, &n, err,
	    sizeof(err)), 0);
	assert_int_equal(count(reg), 7);
	expect_tps(reg, 3201012001001ULL, NULL, 250);
	registry_close(reg);
}

struct bad {
	const char	*what;
	const char	*text;
	int		 line;		/* the line the error must name */
	const char	*words;		/* and a word it must contain */
};

static const struct bad bad_desa[] = {
	{ "empty file", "", 1, "empty" },
	{ "header only", DESA_HEADER, 1, "no data" },
	{ "missing column",
	  "kode_desa,prov,kab,kec,desa,ext_first,ext_last,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,,,3\n",
	  1, "n_tps_reguler" },
	{ "ext_first without ext_last",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,ext_first,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,,3\n",
	  1, "ext_last" },
	{ "non-numeric count",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n"
	  "1101012002,ACEH,ACEH SELATAN,BAKONGAN,UJONG,dua,2\n",
	  3, "n_tps_reguler" },
	{ "negative count",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012002,ACEH,ACEH SELATAN,BAKONGAN,UJONG,-2,-2\n",
	  2, "n_tps_reguler" },
	{ "nine-digit kode_desa",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "110101200,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n",
	  2, "kode_desa" },
	{ "eleven-digit kode_desa",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n"
	  "11010120021,ACEH,ACEH SELATAN,BAKONGAN,UJONG,2,2\n",
	  3, "kode_desa" },
	{ "letters in kode_desa",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "11010I2001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n",
	  2, "kode_desa" },
	{ "province 00",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "0001012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n",
	  2, "province" },
	{ "too few fields",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3\n",
	  2, "fields" },
	{ "unquoted comma in a name",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE I, II,3,3\n",
	  2, "fields" },
	{ "unterminated quote",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,\"KEUDE,3,3\n",
	  2, "quote" },
	{ "stray quote",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KE\"UDE,3,3\n",
	  2, "quote" },
	{ "total does not add up",
	  DESA_HEADER
	  "1101012001,11,ACEH,1101,ACEH SELATAN,110101,BAKONGAN,KEUDE,"
	  "3,901,902,4\n",
	  2, "n_tps_total" },
	{ "extra block overlaps",
	  DESA_HEADER
	  "1101012001,11,ACEH,1101,ACEH SELATAN,110101,BAKONGAN,KEUDE,"
	  "3,2,3,5\n",
	  2, "overlaps" },
	{ "extra block backwards",
	  DESA_HEADER
	  "1101012001,11,ACEH,1101,ACEH SELATAN,110101,BAKONGAN,KEUDE,"
	  "3,902,901,5\n",
	  2, "backwards" },
	{ "kode_prov disagrees",
	  DESA_HEADER
	  "1101012001,12,ACEH,1101,ACEH SELATAN,110101,BAKONGAN,KEUDE,"
	  "3,,,3\n",
	  2, "kode_prov" },
	{ "TPS number over 999",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,1000,1000\n",
	  2, "n_tps_reguler" },
	{ "village twice",
	  "kode_desa,prov,kab,kec,desa,n_tps_reguler,n_tps_total\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,3,3\n"
	  "1101012002,ACEH,ACEH SELATAN,BAKONGAN,UJONG,2,2\n"
	  "1101012001,ACEH,ACEH SELATAN,BAKONGAN,KEUDE,4,4\n",
	  4, "line 2" },
};

static const struct bad bad_dpt[] = {
	{ "missing dpt column", "kode_tps,desa\n1101012001001,KEUDE\n",
	  1, "dpt" },
	{ "twelve-digit kode_tps", DPT_HEADER
	  "110101200101,11,ACEH,1101,A,110101,B,1101012001,KEUDE,1,200\n",
	  2, "kode_tps" },
	{ "province 00", "kode_tps,dpt\n0001012001001,200\n", 2, "province" },
	{ "TPS number 000", "kode_tps,dpt\n1101012001000,200\n",
	  2, "000" },
	{ "non-numeric dpt", "kode_tps,dpt\n1101012001001,200\n"
	  "1101012001002,2OO\n", 3, "dpt" },
	{ "negative dpt", "kode_tps,dpt\n1101012001001,-5\n", 2, "dpt" },
	{ "kode_desa disagrees", DPT_HEADER
	  "1101012001001,11,ACEH,1101,A,110101,B,1101012002,KEUDE,1,200\n",
	  2, "kode_desa" },
	{ "no_tps disagrees", DPT_HEADER
	  "1101012001001,11,ACEH,1101,A,110101,B,1101012001,KEUDE,2,200\n",
	  2, "no_tps" },
	{ "TPS twice", "kode_tps,dpt\n1101012001001,200\n"
	  "1101012001002,201\n1101012001001,202\n", 4, "line 2" },
};

/*
 * Every bad file fails with "file:line: problem" and the registry is
 * left exactly as it was (the good lines before the bad one included).
 */
static void
run_bad(const struct bad *b, size_t n, int dpt)
{
	struct registry	*reg = fresh("bad.db");
	char		 err[512], want[PATH_MAX + 80];
	const char	*path;
	size_t		 i, got;
	int		 rc;

	path = write_file("base.csv", "kode_desa,prov,kab,kec,desa,"
	    "n_tps_reguler,n_tps_total\n"
	    "3201012001,JAWA BARAT,BOGOR,CIBINONG,PONDOK RAJEG,2,2\n");
	assert_int_equal(registry_import_desa(reg, path, &got, err,
	    sizeof(err)), 0);
	for (i = 0; i < n; i++) {
		path = write_file("bad.csv", b[i].text);
		err[0] = '\0';
		got = 12345;
		if (dpt)
			rc = registry_import_dpt(reg, path, &got, err,
			    sizeof(err));
		else
			rc = registry_import_desa(reg, path, &got, err,
			    sizeof(err));
		snprintf(want, sizeof(want), "%s:%d: ", path, b[i].line);
		if (rc != -1 || strncmp(err, want, strlen(want)) != 0 ||
		    strstr(err, b[i].words) == NULL)
			print_error("%s: rc %d, \"%s\"; expected -1, "
			    "\"%s...%s...\"\n", b[i].what, rc, err, want,
			    b[i].words);
		assert_int_equal(rc, -1);
		assert_memory_equal(err, want, strlen(want));
		assert_non_null(strstr(err, b[i].words));
		assert_int_equal(got, 12345);
		/* rolled back: only the two TPS of the base file */
		assert_int_equal(count(reg), 2);
		expect_tps(reg, 3201012001001ULL, "PONDOK RAJEG", 0);
		expect_absent(reg, 1101012001001ULL);
	}
	registry_close(reg);
}

static void
test_bad_desa(void **state)
{
	run_bad(bad_desa, sizeof(bad_desa) / sizeof(bad_desa[0]), 0);
}

static void
test_bad_dpt(void **state)
{
	run_bad(bad_dpt, sizeof(bad_dpt) / sizeof(bad_dpt[0]), 1);
}

static void
test_missing_input(void **state)
{
	struct registry	*reg = fresh("missing.db");
	char		 err[512];
	size_t		 n;

	assert_int_equal(registry_import_desa(reg, tmppath("nonexistent.csv"),
	    &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "nonexistent.csv"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	assert_int_equal(registry_import_dpt(reg, tmppath("nonexistent.csv"),
	    &n, err, sizeof(err)), -1);
	assert_int_equal(count(reg), 0);
	registry_close(reg);
}

/* --- opening -------------------------------------------------------- */

static void
test_open_missing(void **state)
{
	char		 err[512];
	const char	*path = tmppath("no-such.db");

	err[0] = '\0';
	assert_null(registry_open(path, REGISTRY_RDONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "no-such.db"));
	assert_non_null(strstr(err, strerror(ENOENT)));
	/* ... and was not created by trying */
	assert_int_equal(access(path, F_OK), -1);
	assert_null(registry_open(tmppath("no-dir/x.db"), REGISTRY_CREATE,
	    err, sizeof(err)));
	assert_null(registry_open(path, 7, err, sizeof(err)));
}

static void
test_open_not_registry(void **state)
{
	sqlite3		*db;
	char		 err[512];
	const char	*path = tmppath("other.db"), *text, *empty;

	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE tps (code INTEGER);"
	    "INSERT INTO tps VALUES (1101012001001)", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	err[0] = '\0';
	assert_null(registry_open(path, REGISTRY_RDONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "not a tallygw registry"));
	/* CREATE must not take over another program's database either. */
	err[0] = '\0';
	assert_null(registry_open(path, REGISTRY_CREATE, err, sizeof(err)));
	assert_non_null(strstr(err, "not a tallygw registry"));

	/* A meta table of a newer schema. */
	path = tmppath("future.db");
	unlink(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE meta (key TEXT, "
	    "value TEXT); INSERT INTO meta VALUES ('application', "
	    "'tallygw-registry'), ('schema_version', '99')", NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	assert_null(registry_open(path, REGISTRY_RDONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "version 99"));

	/* Not SQLite at all. */
	text = write_file("text.db", DESA_HEADER);
	err[0] = '\0';
	assert_null(registry_open(text, REGISTRY_RDONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "text.db"));
	assert_null(registry_open(text, REGISTRY_CREATE, err, sizeof(err)));

	/* An empty file is an empty database: not a registry to read. */
	empty = write_file("empty.db", "");
	err[0] = '\0';
	assert_null(registry_open(empty, REGISTRY_RDONLY, err, sizeof(err)));
	assert_non_null(strstr(err, "not a tallygw registry"));
}

/* A registry created and closed opens again, read-write and read-only. */
static void
test_reopen(void **state)
{
	struct registry	*reg = fresh("reopen.db");
	char		 err[512];
	size_t		 n;
	const char	*path;

	path = write_file("reopen.csv", "kode_desa,prov,kab,kec,desa,"
	    "n_tps_reguler,n_tps_total\n"
	    "3201012001,JAWA BARAT,BOGOR,CIBINONG,PONDOK RAJEG,3,3\n");
	assert_int_equal(registry_import_desa(reg, path, &n, err,
	    sizeof(err)), 0);
	registry_close(reg);
	assert_non_null(reg = registry_open(tmppath("reopen.db"),
	    REGISTRY_CREATE, err, sizeof(err)));
	assert_int_equal(count(reg), 3);
	registry_close(reg);
	assert_non_null(reg = registry_open(tmppath("reopen.db"),
	    REGISTRY_RDONLY, err, sizeof(err)));
	assert_int_equal(count(reg), 3);
	expect_tps(reg, 3201012001003ULL, "PONDOK RAJEG", 0);
	registry_close(reg);
}

/*
 * A batch's lookups share one read transaction (registry_batch_begin):
 * an import committed meanwhile is seen after the batch, not within it.
 */
static void
test_batch(void **state)
{
	struct registry	*w = fresh("batch.db"), *r;
	char		 err[512];
	size_t		 n;
	const char	*one, *two;

	one = write_file("batch1.csv", "kode_desa,prov,kab,kec,desa,"
	    "n_tps_reguler,n_tps_total\n"
	    "3201012001,JAWA BARAT,BOGOR,CIBINONG,PONDOK RAJEG,3,3\n");
	two = write_file("batch2.csv", "kode_desa,prov,kab,kec,desa,"
	    "n_tps_reguler,n_tps_total\n"
	    "3201012001,JAWA BARAT,BOGOR,CIBINONG,PONDOK BARU,3,3\n");
	assert_int_equal(registry_import_desa(w, one, &n, err, sizeof(err)),
	    0);
	assert_non_null(r = registry_open(tmppath("batch.db"),
	    REGISTRY_RDONLY, err, sizeof(err)));
	registry_batch_begin(r);
	registry_batch_begin(r);	/* once is enough */
	expect_tps(r, 3201012001002ULL, "PONDOK RAJEG", 0);
	assert_int_equal(registry_import_desa(w, two, &n, err, sizeof(err)),
	    0);
	expect_tps(r, 3201012001003ULL, "PONDOK RAJEG", 0);
	registry_batch_end(r);
	expect_tps(r, 3201012001003ULL, "PONDOK BARU", 0);
	registry_batch_end(r);
	expect_tps(r, 3201012001001ULL, "PONDOK BARU", 0);
	/* Closed inside a batch: the transaction ends with it. */
	registry_batch_begin(r);
	expect_tps(r, 3201012001001ULL, "PONDOK BARU", 0);
	registry_close(r);
	registry_close(w);
}

static const struct CMUnitTest tests[] = {
	cmocka_unit_test(test_open_missing),
	cmocka_unit_test(test_open_not_registry),
	cmocka_unit_test(test_reopen),
	cmocka_unit_test(test_batch),
	cmocka_unit_test(test_small_import),
	cmocka_unit_test(test_bad_desa),
	cmocka_unit_test(test_bad_dpt),
	cmocka_unit_test(test_missing_input),
	cmocka_unit_test(test_national_total),
	cmocka_unit_test(test_national_lookup),
	cmocka_unit_test(test_national_dpt),
	cmocka_unit_test(test_national_reimport),
	cmocka_unit_test(test_national_rdonly),
};

UNIT_MAIN(tests)
