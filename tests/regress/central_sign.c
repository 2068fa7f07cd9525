/*
 * The gateway's side of the signature, for tests/regress/central.sh:
 *   central-sign keygen SECRET PUBLIC   write a key pair (central_keygen)
 *   central-sign sign SECRET FILE       print ed25519 base64 of FILE's bytes
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "central.h"

/* Read `ed25519-secret HEX128' into sk. */
static int
load_secret(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES])
{
	FILE		*fp;
	char		 hex[2 * crypto_sign_SECRETKEYBYTES + 2];
	size_t		 n;
	int		 rc = -1;

	if ((fp = fopen(path, "r")) == NULL) {
		perror(path);
		return (-1);
	}
	if (fscanf(fp, "ed25519-secret %129s", hex) == 1 &&
	    sodium_hex2bin(sk, crypto_sign_SECRETKEYBYTES, hex, strlen(hex),
	    NULL, &n, NULL) == 0 && n == crypto_sign_SECRETKEYBYTES)
		rc = 0;
	else
		fprintf(stderr, "%s: not an ed25519-secret key file\n", path);
	fclose(fp);
	return (rc);
}

int
main(int argc, char **argv)
{
	unsigned char	 sk[crypto_sign_SECRETKEYBYTES];
	unsigned char	 sig[crypto_sign_BYTES];
	char		 b64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES,
			    sodium_base64_VARIANT_ORIGINAL)];
	char		*body = NULL;
	size_t		 len = 0;
	FILE		*fp;

	if (sodium_init() < 0)
		return (1);
	if (argc == 4 && strcmp(argv[1], "keygen") == 0)
		return (central_keygen(argv[2], argv[3]) == 0 ? 0 : 1);
	if (argc != 4 || strcmp(argv[1], "sign") != 0) {
		fprintf(stderr, "usage: central-sign keygen SECRET PUBLIC\n"
		    "       central-sign sign SECRET FILE\n");
		return (2);
	}
	if (load_secret(argv[2], sk) == -1)
		return (1);
	if ((fp = fopen(argv[3], "rb")) == NULL) {
		perror(argv[3]);
		return (1);
	}
	for (;;) {
		char	 buf[4096];
		size_t	 n = fread(buf, 1, sizeof(buf), fp);

		if (n == 0)
			break;
		if ((body = realloc(body, len + n)) == NULL)
			return (1);
		memcpy(body + len, buf, n);
		len += n;
	}
	fclose(fp);
	crypto_sign_detached(sig, NULL, (const unsigned char *)body, len, sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig),
	    sodium_base64_VARIANT_ORIGINAL);
	printf("%s\n", b64);
	free(body);
	return (0);
}
