/*
 * libFuzzer target: pdu_decode, the simulator's reader of whatever a
 * program under test sends with AT+CMGS (and of what the simulator
 * stored itself).  The input is taken as the hex text of a PDU, with
 * and without its SMSC part, and also as raw octets turned into hex.
 * A decoded message must hold NUL-terminated strings, and one that
 * decodes as a SUBMIT must be relayable as a DELIVER without harm.
 * Build with 'make fuzz'.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdu.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What every decoded message must satisfy, and relaying it. */
static void
fuzz_check(const char *hex, int with_smsc)
{
	struct pdu_msg	 m;
	struct pdu_part	 p;

	if (pdu_decode(hex, with_smsc, &m) != 0)
		return;
	if (memchr(m.smsc, '\0', sizeof(m.smsc)) == NULL ||
	    memchr(m.number, '\0', sizeof(m.number)) == NULL ||
	    memchr(m.text, '\0', sizeof(m.text)) == NULL)
		abort();
	if (m.tpdu_len < 1 || (size_t)m.tpdu_len * 2 > strlen(hex))
		abort();
	if (m.concat_ref != -1 && (m.concat_part < 1 ||
	    m.concat_part > m.concat_total))
		abort();
	if (m.type == PDU_SUBMIT &&
	    pdu_encode_deliver_part("+6281100000", &m, 0, &p) == 0 &&
	    strlen(p.hex) != (size_t)p.tpdu_len * 2 + 14)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	 hex[PDU_HEX_MAX * 2 + 1];
	size_t	 i;

	if (size < sizeof(hex)) {
		memcpy(hex, data, size);
		hex[size] = '\0';
		fuzz_check(hex, 1);
		fuzz_check(hex, 0);
	}
	if (size * 2 < sizeof(hex)) {
		for (i = 0; i < size; i++)
			snprintf(hex + 2 * i, 3, "%02X", data[i]);
		hex[size * 2] = '\0';
		fuzz_check(hex, 1);
		fuzz_check(hex, 0);
	}
	return (0);
}
