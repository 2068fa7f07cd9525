/* Unit tests of key: derivation, the three codes, key files. */

#include <sys/stat.h>

#include <unistd.h>

#include "unit.h"
#include "tally.h"

static void
test_root(struct key *k)
{
	int	i;

	memset(k, 0, sizeof(*k));
	k->kind = KEY_ROOT;
	for (i = 0; i < TALLY_KEY_LEN; i++)
		k->k[i] = (uint8_t)i;
}

static void
hex(const uint8_t *b, char *out)
{
	int	i;

	for (i = 0; i < TALLY_KEY_LEN; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

/* The check vectors of the protocol. */
static void
test_vectors(void **state)
{
	struct key	root, prov;
	uint8_t		kt[TALLY_KEY_LEN];
	char		h[65], c[9], hk[TALLY_HELPER_LEN + 1];

	(void)state;
	assert_int_equal(key_init(), 0);
	test_root(&root);
	assert_int_equal(key_derive_province(&root, 32, &prov), 0);
	hex(prov.k, h);
	assert_string_equal(h, "86038f28db974f499465bf052002dad3"
	    "6748e48598157d596ca80f28cdbda311");
	assert_int_equal(key_derive_tps(&root, 3201012001001ULL, kt), 0);
	key_mac(kt, "PPWP 3201012001001 1 255 120 95 36 251 4", c);
	assert_string_equal(c, "43058167");
	key_receipt(kt, "PPWP 3201012001001 1 255 120 95 36 251 4", c);
	assert_string_equal(c, "58331817");
	key_card(kt, 1, c);
	assert_string_equal(c, "99305909");
	/* The helper's form of K_T, checked with a separate Python Damm. */
	key_helper(kt, hk);
	assert_string_equal(hk, "33181700432 00576261585 11083003264 "
	    "04203268064 21447418219 15811813551 07166367822 41921380854");
}

/* Vectors of our own, computed with a separate libsodium program. */
static void
test_own_vectors(void **state)
{
	static const char *dpr = "DPR 3401012001001 7 0 250 1 2 3 4 5 6 7 8 9 "
	    "10 11 12 13 14 15 16 17 18 171 4";
	struct key	root, prov;
	uint8_t		kt[TALLY_KEY_LEN];
	char		h[65], c[9];

	(void)state;
	test_root(&root);
	assert_int_equal(key_derive_province(&root, 34, &prov), 0);
	hex(prov.k, h);
	assert_string_equal(h, "b6ff8464ba6998f58d19e71bc8c9ea67"
	    "2fd8042eeb84c978fd696aec3471a8c4");
	assert_int_equal(key_derive_tps(&root, 3401012001001ULL, kt), 0);
	key_card(kt, 2, c);
	assert_string_equal(c, "36918796");
	key_card(kt, 9999, c);
	assert_string_equal(c, "21711588");
	key_mac(kt, dpr, c);
	assert_string_equal(c, "54653405");
	key_receipt(kt, dpr, c);
	assert_string_equal(c, "08502698");	/* leading zero kept */
	assert_int_equal(key_derive_tps(&root, 3201012001001ULL, kt), 0);
	key_card(kt, 2, c);
	assert_string_equal(c, "88825093");
	key_card(kt, 100, c);
	assert_string_equal(c, "04984340");
}

/* A province key gives the same TPS keys as the root, and no others. */
static void
test_province_scope(void **state)
{
	struct key	root, prov;
	uint8_t		a[TALLY_KEY_LEN], b[TALLY_KEY_LEN];

	(void)state;
	test_root(&root);
	assert_int_equal(key_derive_province(&root, 32, &prov), 0);
	assert_int_equal(key_derive_tps(&root, 3273010001005ULL, a), 0);
	assert_int_equal(key_derive_tps(&prov, 3273010001005ULL, b), 0);
	assert_memory_equal(a, b, TALLY_KEY_LEN);
	assert_int_equal(key_derive_tps(&prov, 3401012001001ULL, b), -1);
	assert_int_equal(key_derive_tps(&root, 1001001001ULL, b), -1);
	assert_int_equal(key_derive_province(&prov, 33, &root), -1);
	assert_int_equal(key_derive_province(&root, 0, &prov), -1);
	assert_int_equal(key_derive_province(&root, 100, &prov), -1);
}

static void
test_code_equal(void **state)
{
	(void)state;
	assert_true(key_code_equal("01234567", "01234567"));
	assert_false(key_code_equal("01234567", "01234568"));
	assert_false(key_code_equal("0123456", "0123456"));
	assert_false(key_code_equal("012345678", "012345678"));
}

static void
test_parse_format(void **state)
{
	struct key	k, k2;
	char		line[256];

	(void)state;
	test_root(&k);
	assert_int_equal(key_format(&k, line, sizeof(line)), 0);
	assert_string_equal(line, "root 000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f");
	assert_int_equal(key_parse(line, &k2), 0);
	assert_int_equal(k2.kind, KEY_ROOT);
	assert_memory_equal(k.k, k2.k, TALLY_KEY_LEN);
	assert_int_equal(key_derive_province(&k, 5, &k2), 0);
	assert_int_equal(key_format(&k2, line, sizeof(line)), 0);
	assert_memory_equal(line, "province 05 ", 12);
	assert_int_equal(key_parse(line, &k), 0);
	assert_int_equal(k.kind, KEY_PROVINCE);
	assert_int_equal(k.province, 5);
	strcat(line, "\n");
	assert_int_equal(key_parse(line, &k), 0);
	/* Uppercase hex, short keys, junk: refused. */
	assert_int_equal(key_parse("root 000102030405060708090A0B0C0D0E0F"
	    "101112131415161718191a1b1c1d1e1f", &k), -1);
	assert_int_equal(key_parse("root 0001", &k), -1);
	assert_int_equal(key_parse("province 5 000102030405060708090a0b0c0d0e"
	    "0f101112131415161718191a1b1c1d1e1f", &k), -1);
	assert_int_equal(key_parse("province 00 000102030405060708090a0b0c0d0"
	    "e0f101112131415161718191a1b1c1d1e1f", &k), -1);
	assert_int_equal(key_parse("root 000102030405060708090a0b0c0d0e0f"
	    "101112131415161718191a1b1c1d1e1f x", &k), -1);
	assert_int_equal(key_parse("", &k), -1);
}

static void
test_files(void **state)
{
	char		dir[] = "/tmp/tallykeyXXXXXX", path[128], err[512];
	struct key	k, k2;
	struct stat	st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/root.key", dir);
	assert_int_equal(key_generate(&k), 0);
	assert_int_equal(key_save(path, &k, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(key_load(path, &k2, err, sizeof(err)), 0);
	assert_memory_equal(k.k, k2.k, TALLY_KEY_LEN);
	/* Never overwrite a key. */
	assert_int_equal(key_save(path, &k, err, sizeof(err)), -1);
	/* Refuse a key others can read. */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(key_load(path, &k2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "chmod 600"));
	assert_int_equal(chmod(path, 0604), 0);
	assert_int_equal(key_load(path, &k2, err, sizeof(err)), -1);
	unlink(path);
	assert_int_equal(key_load(path, &k2, err, sizeof(err)), -1);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_own_vectors),
		cmocka_unit_test(test_province_scope),
		cmocka_unit_test(test_code_equal),
		cmocka_unit_test(test_parse_format),
		cmocka_unit_test(test_files),
	};

	if (key_init() == -1)
		return (1);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
