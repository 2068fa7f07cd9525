/*
 * key: the root key, province keys, TPS keys and the three 8-digit codes
 * (content MAC, card code, receipt). libsodium only.
 */

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "fmt.h"
#include "log.h"
#include "tally.h"

#define KEY_CTX_PROVINCE	"TALLYPRV"
#define KEY_CTX_TPS		"TALLYTPS"
#define KEY_TAG_LEN		16
#define KEY_CODE_MOD		UINT64_C(100000000)
#define KEY_TPS_PER_PROVINCE	100000000000ULL	/* 10^11 */

static void	key_trunc8(const uint8_t *, size_t, const uint8_t *,
		    char [TALLY_CODE_LEN + 1]);

int
key_init(void)
{
	if (sodium_init() < 0) {
		log_warnx("key: libsodium failed to initialise");
		return (-1);
	}
	return (0);
}

void
key_wipe(void *p, size_t len)
{
	sodium_memzero(p, len);
}

int
key_generate(struct key *k)
{
	memset(k, 0, sizeof(*k));
	k->kind = KEY_ROOT;
	randombytes_buf(k->k, sizeof(k->k));
	return (0);
}

int
key_derive_province(const struct key *root, int province, struct key *out)
{
	if (root->kind != KEY_ROOT || province < 1 || province > 99)
		return (-1);
	memset(out, 0, sizeof(*out));
	out->kind = KEY_PROVINCE;
	out->province = province;
	if (crypto_kdf_derive_from_key(out->k, sizeof(out->k),
	    (uint64_t)province, KEY_CTX_PROVINCE, root->k) != 0)
		return (-1);
	return (0);
}

/* K_T for a TPS, from a root key or from its own province's key. */
int
key_derive_tps(const struct key *k, uint64_t tps, uint8_t out[TALLY_KEY_LEN])
{
	struct key	 prov;
	int		 province = (int)(tps / KEY_TPS_PER_PROVINCE);
	int		 rc;

	if (tps / KEY_TPS_PER_PROVINCE > 99 || province < 1)
		return (-1);
	if (k->kind == KEY_ROOT) {
		if (key_derive_province(k, province, &prov) == -1)
			return (-1);
	} else if (k->kind == KEY_PROVINCE && k->province == province)
		prov = *k;
	else
		return (-1);
	rc = crypto_kdf_derive_from_key(out, TALLY_KEY_LEN, tps, KEY_CTX_TPS,
	    prov.k);
	key_wipe(&prov, sizeof(prov));
	return (rc == 0 ? 0 : -1);
}

/* First 8 bytes of a 16-byte keyed BLAKE2b, little-endian, mod 10^8. */
static void
key_trunc8(const uint8_t *msg, size_t len, const uint8_t *k,
    char out[TALLY_CODE_LEN + 1])
{
	uint8_t		 tag[KEY_TAG_LEN];
	uint64_t	 v = 0;
	int		 i;

	crypto_generichash(tag, sizeof(tag), msg, len, k, TALLY_KEY_LEN);
	for (i = 7; i >= 0; i--)
		v = (v << 8) | tag[i];
	fmt_uint(out, TALLY_CODE_LEN + 1, v % KEY_CODE_MOD, TALLY_CODE_LEN);
}

void
key_mac(const uint8_t kt[TALLY_KEY_LEN], const char *canon,
    char out[TALLY_CODE_LEN + 1])
{
	key_trunc8((const uint8_t *)canon, strlen(canon), kt, out);
}

void
key_card(const uint8_t kt[TALLY_KEY_LEN], unsigned row,
    char out[TALLY_CODE_LEN + 1])
{
	char	buf[32];
	int	n;

	n = snprintf(buf, sizeof(buf), "CARD %u", row);
	key_trunc8((const uint8_t *)buf, (size_t)n, kt, out);
}

void
key_receipt(const uint8_t kt[TALLY_KEY_LEN], const char *canon,
    char out[TALLY_CODE_LEN + 1])
{
	char	buf[TALLY_CANON_MAX + 8];
	int	n;

	n = snprintf(buf, sizeof(buf), "RCPT %s", canon);
	if (n < 0 || (size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	key_trunc8((const uint8_t *)buf, (size_t)n, kt, out);
}

/*
 * Damm's check digit (a quasigroup of order 10): it catches every single
 * wrong digit and every swap of two neighbours, the slips of typing.
 */
static int
key_damm(const char *digits)
{
	static const char	 q[10][11] = {
		"0317598642", "7092154863", "4206871359", "1750983426",
		"6123045978", "3674209581", "5869720134", "8945362017",
		"9438617205", "2581436790",
	};
	int			 c = 0;

	for (; *digits != '\0'; digits++)
		c = q[c][*digits - '0'] - '0';
	return (c);
}

/*
 * K_T as the MAC helper's key (protocol.md section 6): group g (1..8) is
 * bytes 4(g-1)..4g-1 as a big-endian integer in 10 digits, then the
 * Damm digit of g and those 10 digits, so a group typed into the wrong
 * box is caught too.
 */
void
key_helper(const uint8_t kt[TALLY_KEY_LEN], char out[TALLY_HELPER_LEN + 1])
{
	char		 buf[32];
	uint32_t	 w;
	int		 g;

	for (g = 0; g < TALLY_HELPER_GROUPS; g++) {
		w = (uint32_t)kt[4 * g] << 24 | (uint32_t)kt[4 * g + 1] << 16 |
		    (uint32_t)kt[4 * g + 2] << 8 | kt[4 * g + 3];
		snprintf(buf, sizeof(buf), "%d%010" PRIu32, g + 1, w);
		memcpy(out + 12 * g, buf + 1, 10);
		out[12 * g + 10] = (char)('0' + key_damm(buf));
		out[12 * g + 11] = ' ';
	}
	out[TALLY_HELPER_LEN] = '\0';
	key_wipe(buf, sizeof(buf));
}

/* Constant time, so a forger learns nothing from the timing. */
int
key_code_equal(const char *a, const char *b)
{
	if (strlen(a) != TALLY_CODE_LEN || strlen(b) != TALLY_CODE_LEN)
		return (0);
	return (sodium_memcmp(a, b, TALLY_CODE_LEN) == 0);
}

/* "root HEX" or "province PP HEX", no newline. */
int
key_format(const struct key *k, char *buf, size_t len)
{
	char	hex[TALLY_KEY_LEN * 2 + 1];
	int	n;

	sodium_bin2hex(hex, sizeof(hex), k->k, sizeof(k->k));
	if (k->kind == KEY_ROOT)
		n = snprintf(buf, len, "root %s", hex);
	else
		n = snprintf(buf, len, "province %02d %s", k->province, hex);
	key_wipe(hex, sizeof(hex));
	return ((n < 0 || (size_t)n >= len) ? -1 : 0);
}

/* Parse one key line; trailing newline and spaces are allowed. */
int
key_parse(const char *line, struct key *k)
{
	char		 hex[TALLY_KEY_LEN * 2 + 1];
	const char	*p = line;
	size_t		 binlen, i;
	int		 prov = 0;

	memset(k, 0, sizeof(*k));
	if (strncmp(p, "root ", 5) == 0) {
		k->kind = KEY_ROOT;
		p += 5;
	} else if (strncmp(p, "province ", 9) == 0) {
		p += 9;
		if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9' ||
		    p[2] != ' ')
			return (-1);
		prov = (p[0] - '0') * 10 + (p[1] - '0');
		if (prov < 1)
			return (-1);
		k->kind = KEY_PROVINCE;
		k->province = prov;
		p += 3;
	} else
		return (-1);
	for (i = 0; i < TALLY_KEY_LEN * 2; i++) {
		if (!((p[i] >= '0' && p[i] <= '9') ||
		    (p[i] >= 'a' && p[i] <= 'f')))
			return (-1);
		hex[i] = p[i];
	}
	hex[i] = '\0';
	for (p += i; *p != '\0'; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ')
			return (-1);
	if (sodium_hex2bin(k->k, sizeof(k->k), hex, TALLY_KEY_LEN * 2, NULL,
	    &binlen, NULL) != 0 || binlen != TALLY_KEY_LEN)
		return (-1);
	key_wipe(hex, sizeof(hex));
	return (0);
}

/*
 * Read a secret file whole into buf (NUL-terminated); refuse one that is
 * not a regular file or that group or others can read. Returns its
 * length, or -1 with the reason in err. 'what' names it in messages.
 */
ssize_t
key_read_secret(const char *path, const char *what, char *buf, size_t len,
    char *err, size_t errlen)
{
	struct stat	 st;
	ssize_t		 n = 0;
	size_t		 off = 0;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return (-1);
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return (-1);
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		snprintf(err, errlen, "%s: %s file is accessible by group or "
		    "others (mode %03o); run: chmod 600 %s", path, what,
		    (unsigned)(st.st_mode & 0777), path);
		close(fd);
		return (-1);
	}
	while (off < len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	close(fd);
	buf[off] = '\0';
	if (n < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		key_wipe(buf, len);
		return (-1);
	}
	return ((ssize_t)off);
}

/* Read a key file; refuse one that group or others can read. */
int
key_load(const char *path, struct key *k, char *err, size_t errlen)
{
	char		 line[256];

	if (key_read_secret(path, "key", line, sizeof(line), err,
	    errlen) == -1)
		return (-1);
	if (key_parse(line, k) == -1) {
		key_wipe(line, sizeof(line));
		snprintf(err, errlen, "%s: not a key file (expected "
		    "'root HEX' or 'province PP HEX', 64 lowercase hex digits)",
		    path);
		return (-1);
	}
	key_wipe(line, sizeof(line));
	return (0);
}

/* Write a key file, mode 0600; never overwrite an existing one. */
int
key_save(const char *path, const struct key *k, char *err, size_t errlen)
{
	char	line[256];
	size_t	len;
	int	fd;

	if (key_format(k, line, sizeof(line) - 1) == -1) {
		snprintf(err, errlen, "%s: cannot format key", path);
		return (-1);
	}
	len = strlen(line);
	line[len++] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		key_wipe(line, sizeof(line));
		return (-1);
	}
	if (fchmod(fd, 0600) == -1 || write(fd, line, len) != (ssize_t)len ||
	    fsync(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		key_wipe(line, sizeof(line));
		close(fd);
		unlink(path);
		return (-1);
	}
	key_wipe(line, sizeof(line));
	if (close(fd) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	return (0);
}
