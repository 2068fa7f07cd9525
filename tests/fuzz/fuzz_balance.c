/*
 * libFuzzer target: balance_parse, the reading of an operator's answer
 * to the balance USSD code (balance.c): text from the network. The
 * first byte picks the operator's name as the modem reports it (or
 * none); the rest is the answer. A balance found is whole rupiah of at
 * most 12 digits, and an expiry date, if any, is a real YYYY-MM-DD.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gw.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const opers[] = {
		NULL, "", "Telkomsel", "INDOSAT OOREDOO", "XL Axiata",
		"Smartfren", "3", "51010", "unknown net",
	};
	char	 text[2048], exp[16];
	long	 rp = -1;
	int	 y, mo, d, rc;

	if (size < 1)
		return (0);
	log_init("fuzz_balance", LOG_TO_STDERR, -1);
	size--;
	if (size >= sizeof(text))
		size = sizeof(text) - 1;
	memcpy(text, data + 1, size);
	text[size] = '\0';
	rc = balance_parse(opers[data[0] % (sizeof(opers) /
	    sizeof(opers[0]))], text, &rp, exp, sizeof(exp));
	if (rc != 0 && rc != 1)
		abort();
	if (rc == 1 && (rp < 0 || rp > 999999999999L))
		abort();
	if (rc == 1 && exp[0] != '\0' && (strlen(exp) != 10 ||
	    sscanf(exp, "%4d-%2d-%2d", &y, &mo, &d) != 3 || mo < 1 ||
	    mo > 12 || d < 1 || d > 31))
		abort();
	return (0);
}
