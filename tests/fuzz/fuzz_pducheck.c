/*
 * libFuzzer target: the worker's guard before libGammu's PDU decoder,
 * modem/pducheck.c (docs/modem.md, "Poison messages"), judged by what
 * it guards: every PDU it accepts is given to libGammu 1.42's own
 * GSM_DecodePDUFrame (this target does not define the worker's guard,
 * so the call is libGammu's), copied into a buffer of exactly its
 * length, as the AT driver allocates it. libGammu is not instrumented:
 * a stack overflow shows as its stack protector's abort, an overrun
 * inside the message as a user data header longer than UDH.Text or a
 * sender that is not what pducheck read from the address field. Of
 * pducheck itself: a reason exactly when it refuses, a sender only of
 * a DELIVER, as '+' and digits or letters, digits and '?'.
 *
 * The first byte chooses, as in fuzz_gsm: bit 0 clear, the PDU has its
 * SMSC address first (as AT+CMGR shows it); set, it has not. The rest
 * is the PDU.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gammu.h>

#include "pducheck.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* What pducheck says of a sender: '+' then digits, or an alphanumeric. */
static int
fuzz_sender_ok(const char *s)
{
	if (s[0] == '+')
		s++;
	return (strspn(s, "0123456789") == strlen(s) ||
	    strspn(s, "0123456789?ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz") == strlen(s));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static GSM_SMSMessage	 sms;
	struct pducheck		 chk;
	unsigned char		*buf;
	char			 num[WIRE_NUMBER_MAX * 4];
	size_t			 n, pos = 0;
	int			 smsc, ok;

	if (size < 1)
		return (0);
	smsc = !(data[0] & 1);
	n = size - 1;
	ok = pducheck_pdu(data + 1, n, smsc, &chk) == 0;
	if (ok != (chk.why[0] == '\0') ||
	    memchr(chk.sender, '\0', sizeof(chk.sender)) == NULL ||
	    memchr(chk.why, '\0', sizeof(chk.why)) == NULL)
		abort();
	if (chk.sender[0] != '\0' && (chk.type != PDUCHECK_DELIVER ||
	    !fuzz_sender_ok(chk.sender)))
		abort();
	if (!ok)
		return (0);
	if ((buf = malloc(n + 1)) == NULL)
		return (0);
	memcpy(buf, data + 1, n);
	memset(&sms, 0, sizeof(sms));
	if (GSM_DecodePDUFrame(NULL, &sms, buf, n, &pos, smsc) == ERR_NONE) {
		if (sms.UDH.Length < 0 ||
		    sms.UDH.Length > (int)sizeof(sms.UDH.Text) ||
		    (sms.Coding == SMS_Coding_Default_No_Compression &&
		    sms.Length > PDUCHECK_SEPTETS_MAX) || pos > n)
			abort();
		/* An accepted PDU ends where libGammu ends it, or pads. */
		if (pos < n && buf[pos] != 0xff)
			abort();
		if (sms.PDU == SMS_Deliver) {
			snprintf(num, sizeof(num), "%s",
			    DecodeUnicodeString(sms.Number));
			/*
			 * An international number (an alphanumeric one
			 * may start with '+' too: pducheck shows it as
			 * '?'): the digits libGammu reads, which takes an
			 * odd number's filler nibble as one more digit
			 * unless it is F.
			 */
			if (chk.sender[0] == '+' && (strncmp(num, chk.sender,
			    strlen(chk.sender)) != 0 ||
			    strlen(num) > strlen(chk.sender) + 1))
				abort();
		}
	}
	free(buf);
	return (0);
}
