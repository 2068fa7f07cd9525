/*
 * libFuzzer target: what the modem worker makes of a message a modem
 * answers with (AT+CMGR, AT+CMGL, +CMT): libGammu decodes the PDU, then
 * modem/gsm.c's own reading of what libGammu left, gsm_to_wire: the
 * concatenation element parsed from the raw UDH, a UCS-2 text read by
 * its Length (NULs, '~' written twice, lone surrogates), 8-bit data as
 * hex, the sender. gsm.c is compiled into this target (its functions
 * are static): the worker's code as it runs.
 *
 * The first byte chooses the input's form: 0 and 1, a PDU with and
 * without its SMSC part for libGammu's GSM_DecodePDUFrame; 2, the
 * fields of a GSM_SMSMessage as libGammu might fill them (coding,
 * Length, UDH bytes, Number and Text units), also impossible ones; 3,
 * units for gsm_ucs2_to_utf8 alone (a USSD answer, a network name).
 * Whatever comes out must be a frame the worker can send: NUL-
 * terminated strings, UTF-8 text, part within 1..total, and wire_encode
 * accepting it and wire_decode giving it back. The PDUs go through the
 * worker's guard (gsm.c's GSM_DecodePDUFrame, modem/pducheck.c) as in
 * the worker: the corpus's libgammu_* inputs, each of which overflows
 * libGammu 1.42 without it (docs/security.md), are refused by it; a PDU
 * that crashed here would crash the worker. A PDU with its SMSC part
 * also goes the way of a +CMT (fuzz_cmt).
 */

#include "gsm.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Well-formed UTF-8 (what the gateway stores and forwards as JSON). */
static int
fuzz_utf8(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	int			 n, i;

	while (*p != '\0') {
		if (*p < 0x80)
			n = 0;
		else if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return (0);
		for (i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return (0);
		p += n + 1;
	}
	return (1);
}

static void
fuzz_frame(const GSM_SMSMessage *sms, int location)
{
	struct wire_msg	 m, back;
	uint8_t		 buf[WIRE_HDR_LEN + WIRE_MAX_PAYLOAD];
	size_t		 len, used;

	if (gsm_to_wire(sms, location, &m) == -1)
		return;
	if (memchr(m.text, '\0', sizeof(m.text)) == NULL ||
	    memchr(m.number, '\0', sizeof(m.number)) == NULL ||
	    memchr(m.time, '\0', sizeof(m.time)) == NULL)
		abort();
	if (m.type == WIRE_SMS && (m.total < 1 || m.part < 1 ||
	    m.part > m.total || !fuzz_utf8(m.text) || !fuzz_utf8(m.number)))
		abort();
	if (m.type == WIRE_SMS && sms->Coding == SMS_Coding_8bit &&
	    strspn(m.text, "0123456789ABCDEF") != strlen(m.text))
		abort();
	if (wire_encode(&m, buf, sizeof(buf), &len) != 0 ||
	    wire_decode(buf, len, &back, &used) != 1 || used != len ||
	    strcmp(back.text, m.text) != 0)
		abort();
}

/* A GSM_SMSMessage filled from the input as libGammu might (or not). */
static void
fuzz_fields(const uint8_t *d, size_t n)
{
	static const GSM_Coding_Type	 codings[] = {
		SMS_Coding_8bit, SMS_Coding_Unicode_No_Compression,
		SMS_Coding_Default_No_Compression,
		SMS_Coding_Unicode_Compression,
	};
	static GSM_SMSMessage		 sms;
	size_t				 k;

	if (n < 8)
		return;
	memset(&sms, 0, sizeof(sms));
	sms.Coding = codings[d[0] & 3];
	sms.PDU = d[0] & 4 ? SMS_Status_Report : SMS_Deliver;
	sms.Length = (int16_t)(d[1] | d[2] << 8);
	sms.UDH.Type = d[3] & 1 ? UDH_UserUDH : UDH_NoUDH;
	sms.UDH.Length = d[4];
	k = d[5] < n - 8 ? d[5] : n - 8;
	if (k > sizeof(sms.UDH.Text))
		k = sizeof(sms.UDH.Text);
	memcpy(sms.UDH.Text, d + 8, k);
	d += 8 + k;
	n -= 8 + k;
	k = n < sizeof(sms.Number) - 2 ? n / 2 * 2 : sizeof(sms.Number) - 2;
	k = k > 24 ? 24 : k;
	memcpy(sms.Number, d, k);
	d += k;
	n -= k;
	memcpy(sms.Text, d, n < sizeof(sms.Text) ? n : sizeof(sms.Text));
	fuzz_frame(&sms, 7);
}

/*
 * A +CMT: libGammu's AT driver (ATGEN_IncomingSMSDeliver) copies the
 * PDU's fields into a frame at PHONE_SMSDeliver's offsets and decodes
 * it with GSM_DecodeSMSFrame, the worker's guard in front. The copy is
 * the driver's, on its buffer of 300 octets.
 */
static void
fuzz_cmt(const uint8_t *d, size_t n)
{
	static GSM_SMSMessage	 sms;
	unsigned char		 buf[300], frame[800];
	int			 cur = 0, len, i;

	memset(buf, 0, sizeof(buf));
	memset(frame, 0, sizeof(frame));
	memcpy(buf, d, n < sizeof(buf) ? n : sizeof(buf));
	for (i = 0; i < buf[0] + 1; i++)
		frame[i] = buf[cur++];
	frame[12] = buf[cur++];
	len = (buf[cur] + 1) / 2 + 1;
	for (i = 0; i < len + 1 && cur < (int)sizeof(buf); i++)
		frame[PHONE_SMSDeliver.Number + i] = buf[cur++];
	if (cur + 10 > (int)sizeof(buf))
		return;
	frame[PHONE_SMSDeliver.TPPID] = buf[cur++];
	frame[PHONE_SMSDeliver.TPDCS] = buf[cur++];
	for (i = 0; i < 7; i++)
		frame[PHONE_SMSDeliver.DateTime + i] = buf[cur++];
	frame[PHONE_SMSDeliver.TPUDL] = buf[cur++];
	for (i = 0; i < frame[PHONE_SMSDeliver.TPUDL] &&
	    cur < (int)sizeof(buf); i++)
		frame[i + PHONE_SMSDeliver.Text] = buf[cur++];
	memset(&sms, 0, sizeof(sms));
	sms.PDU = SMS_Deliver;
	sms.State = SMS_UnRead;
	/* The driver hands the message on whatever the decoder returned. */
	(void)GSM_DecodeSMSFrame(NULL, &sms, frame, PHONE_SMSDeliver);
	if (sms.Location != GSM_REFUSED_LOCATION) {
		if (sms.UDH.Length > (int)sizeof(sms.UDH.Text))
			abort();
		fuzz_frame(&sms, 0);
	}
	gsm_nraws = 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static GSM_SMSMessage	 sms;
	char			 out[WIRE_TEXT_MAX];
	size_t			 pos = 0;

	if (size < 1)
		return (0);
	switch (data[0] & 3) {
	case 0:
	case 1:
		/* The worker's guard (gsm.c), then libGammu's decoder. */
		memset(&sms, 0, sizeof(sms));
		if (GSM_DecodePDUFrame(NULL, &sms, data + 1, size - 1, &pos,
		    (data[0] & 3) == 0) == ERR_NONE) {
			if (sms.UDH.Length > (int)sizeof(sms.UDH.Text))
				abort();
			fuzz_frame(&sms, data[0] >> 2);
		}
		gsm_nraws = 0;
		if ((data[0] & 3) == 0)
			fuzz_cmt(data + 1, size - 1);
		break;
	case 2:
		fuzz_fields(data + 1, size - 1);
		break;
	case 3:
		gsm_ucs2_to_utf8(data + 1, (size - 1) / 2, data[0] & 4 ?
		    GSM_SMS_TEXT : 0, out, sizeof(out));
		if (memchr(out, '\0', sizeof(out)) == NULL || !fuzz_utf8(out))
			abort();
		break;
	}
	return (0);
}
