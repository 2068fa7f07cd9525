/*
 * SMS PDUs through libGammu's public codec: GSM_DecodePDUFrame to read,
 * GSM_EncodeMultiPartSMS + GSM_EncodeSMSFrame to write.  libGammu lays
 * a frame out with fixed offsets (PHONE_SMSDeliver, PHONE_SMSSubmit);
 * the helpers below only pack those fields back to back, in the order
 * 23.040 gives them, the way libGammu's AT driver does for AT+CMGS.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gammu.h>

#include "log.h"
#include "pdu.h"

/* 23.040 9.2.3.1: TP-MTI values, and the SRR/SRI bit. */
#define PDU_FB_SRR		0x20
#define PDU_TOA_INTL		0x91
#define PDU_ST_DELIVERED	0x00

static GSM_Debug_Info	*pdu_di;

static int	pdu_frame_hex(const unsigned char *, size_t, int,
		    struct pdu_part *);
static void	pdu_datetime(time_t, GSM_DateTime *);
static time_t	pdu_timegm(const GSM_DateTime *);
static int	pdu_encode_one(GSM_SMSMessage *, GSM_SMSMessageType,
		    const char *, const char *, time_t, int, int,
		    struct pdu_part *);
static int	pdu_multipart(const char *, int, GSM_MultiSMSMessage *);
static void	pdu_number(char *, size_t, const unsigned char *);

int
pdu_init(void)
{
	if (pdu_di == NULL)
		pdu_di = GSM_GetGlobalDebug();
	return 0;
}

/* Binary frame -> hex; tpdu_len excludes the SMSC part. */
static int
pdu_frame_hex(const unsigned char *buf, size_t len, int smsclen,
    struct pdu_part *out)
{
	if (len * 2 + 1 > sizeof(out->hex)) {
		log_warnx("pdu: frame of %zu octets too long", len);
		return -1;
	}
	EncodeHexBin(out->hex, buf, len);
	out->hex[len * 2] = '\0';
	out->tpdu_len = (int)len - smsclen;
	return 0;
}

/* UTC time_t -> GSM_DateTime in WIB (UTC+7), as an Indonesian SMSC stamps. */
static void
pdu_datetime(time_t t, GSM_DateTime *dt)
{
	struct tm	 tm;
	time_t		 local = t + 7 * 3600;

	gmtime_r(&local, &tm);
	memset(dt, 0, sizeof(*dt));
	dt->Year = tm.tm_year + 1900;
	dt->Month = tm.tm_mon + 1;
	dt->Day = tm.tm_mday;
	dt->Hour = tm.tm_hour;
	dt->Minute = tm.tm_min;
	dt->Second = tm.tm_sec;
	dt->Timezone = 7 * 3600;
}

static time_t
pdu_timegm(const GSM_DateTime *dt)
{
	struct tm	 tm;

	if (dt->Year == 0)
		return 0;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->Year - 1900;
	tm.tm_mon = dt->Month - 1;
	tm.tm_mday = dt->Day;
	tm.tm_hour = dt->Hour;
	tm.tm_min = dt->Minute;
	tm.tm_sec = dt->Second;
	return timegm(&tm) - dt->Timezone;
}

/* A libGammu address (UCS-2) -> UTF-8, truncated to fit. */
static void
pdu_number(char *dst, size_t dstlen, const unsigned char *ucs)
{
	char	 tmp[(GSM_MAX_NUMBER_LENGTH + 1) * 4];

	if (UnicodeLength(ucs) > GSM_MAX_NUMBER_LENGTH) {
		dst[0] = '\0';
		return;
	}
	EncodeUTF8(tmp, ucs);
	if (strlen(tmp) >= dstlen) {
		dst[0] = '\0';
		return;
	}
	memcpy(dst, tmp, strlen(tmp) + 1);
}

/*
 * Decode one PDU given as hex; with_smsc says whether it starts with
 * the SMSC address (AT+CMGS in PDU mode, +CMGR/+CMGL/+CMT do).
 */
int
pdu_decode(const char *hex, int with_smsc, struct pdu_msg *m)
{
	GSM_SMSMessage	*sms;
	unsigned char	 buf[PDU_HEX_MAX / 2 + 8];
	size_t		 len, n, pos, fb;
	GSM_Error	 err;

	memset(m, 0, sizeof(*m));
	m->mr = -1;
	m->concat_ref = -1;
	len = strlen(hex);
	if (len < 4 || len % 2 != 0 || len / 2 > sizeof(buf) - 8)
		return -1;
	for (n = 0; n < len; n++)
		if (strchr("0123456789abcdefABCDEF", hex[n]) == NULL)
			return -1;
	memset(buf, 0, sizeof(buf));
	if (!DecodeHexBin(buf, (const unsigned char *)hex, len))
		return -1;
	n = len / 2;
	fb = with_smsc ? (size_t)buf[0] + 1 : 0;
	if (fb >= n)
		return -1;

	if ((sms = calloc(1, sizeof(*sms))) == NULL)
		return -1;
	pos = 0;
	err = GSM_DecodePDUFrame(pdu_di, sms, buf, n, &pos, with_smsc);
	if (err != ERR_NONE) {
		free(sms);
		return -1;
	}
	switch (sms->PDU) {
	case SMS_Deliver:
		m->type = PDU_DELIVER;
		break;
	case SMS_Submit:
		m->type = PDU_SUBMIT;
		m->mr = sms->MessageReference;
		break;
	case SMS_Status_Report:
		m->type = PDU_STATUS_REPORT;
		m->mr = sms->MessageReference;
		m->status = sms->DeliveryStatus;
		break;
	}
	/* 23.040 9.2.3.5: SRR in a SUBMIT, SRI in a DELIVER. */
	m->srr = (buf[fb] & PDU_FB_SRR) != 0;
	pdu_number(m->smsc, sizeof(m->smsc), sms->SMSC.Number);
	pdu_number(m->number, sizeof(m->number), sms->Number);
	switch (sms->Coding) {
	case SMS_Coding_Unicode_No_Compression:
		m->coding = PDU_UCS2;
		EncodeUTF8(m->text, sms->Text);
		break;
	case SMS_Coding_8bit:
		m->coding = PDU_8BIT;
		if ((size_t)sms->Length * 2 + 1 > sizeof(m->text))
			sms->Length = (sizeof(m->text) - 1) / 2;
		EncodeHexBin(m->text, sms->Text, sms->Length);
		m->text[sms->Length * 2] = '\0';
		break;
	default:
		m->coding = PDU_GSM7;
		EncodeUTF8(m->text, sms->Text);
		break;
	}
	if (sms->UDH.Type == UDH_ConcatenatedMessages ||
	    sms->UDH.Type == UDH_ConcatenatedMessages16bit) {
		m->concat_ref = sms->UDH.Type == UDH_ConcatenatedMessages ?
		    sms->UDH.ID8bit : sms->UDH.ID16bit;
		m->concat_part = sms->UDH.PartNumber;
		m->concat_total = sms->UDH.AllParts;
	}
	if (sms->PDU == SMS_Status_Report)
		m->time = pdu_timegm(&sms->SMSCTime);
	else
		m->time = pdu_timegm(&sms->DateTime);
	m->tpdu_len = (int)(n - fb);
	free(sms);
	return 0;
}

/* Pack one message laid out by libGammu into a compact frame, as hex. */
static int
pdu_encode_one(GSM_SMSMessage *sms, GSM_SMSMessageType type,
    const char *smsc, const char *number, time_t t, int srr, int mr,
    struct pdu_part *out)
{
	GSM_SMSMessageLayout	 L;
	unsigned char		 buf[400], req[400];
	int			 len, cur = 0, i, n;

	sms->PDU = type;
	DecodeUTF8(sms->Number, number, strlen(number));
	DecodeUTF8(sms->SMSC.Number, smsc, strlen(smsc));
	sms->SMSC.Location = 0;
	pdu_datetime(t, &sms->DateTime);
	sms->MessageReference = (unsigned char)mr;
	sms->Class = -1;
	if (type == SMS_Submit && srr)
		sms->PDU = SMS_Status_Report;	/* libGammu: SUBMIT with SRR */
	L = type == SMS_Deliver ? PHONE_SMSDeliver : PHONE_SMSSubmit;
	memset(buf, 0, sizeof(buf));
	if (GSM_EncodeSMSFrame(pdu_di, sms, buf, L, &len, TRUE) != ERR_NONE)
		return -1;
	len -= L.Text;
	if (len <= 0 && UnicodeLength(sms->Text) > 0)
		return -1;
	n = buf[L.SMSCNumber] + 1;
	for (i = 0; i < n; i++)
		req[cur++] = buf[L.SMSCNumber + i];
	if (type == SMS_Deliver && srr)
		buf[L.firstbyte] |= PDU_FB_SRR;	/* SRI: a report will follow */
	req[cur++] = buf[L.firstbyte];
	if (type == SMS_Submit)
		req[cur++] = buf[L.TPMR];
	for (i = 0; i < (buf[L.Number] + 1) / 2 + 2; i++)
		req[cur++] = buf[L.Number + i];
	req[cur++] = buf[L.TPPID];
	req[cur++] = buf[L.TPDCS];
	if (type == SMS_Deliver) {
		for (i = 0; i < 7; i++)
			req[cur++] = buf[L.DateTime + i];
		/* libGammu writes zone 0; WIB is +7 h = 28 quarters, BCD. */
		req[cur - 1] = 0x82;
	} else
		req[cur++] = buf[L.TPVP];
	req[cur++] = buf[L.TPUDL];
	if (cur + len > (int)sizeof(req))
		return -1;
	memcpy(req + cur, buf + L.Text, len);
	cur += len;
	return pdu_frame_hex(req, cur, n, out);
}

/* Split UTF-8 text into parts with libGammu, with our own reference. */
static int
pdu_multipart(const char *text, int ref, GSM_MultiSMSMessage *multi)
{
	GSM_MultiPartSMSInfo	 info;
	unsigned char		*ucs;
	size_t			 len = strlen(text);
	int			 i;
	GSM_Error		 err;

	if ((ucs = calloc(1, (len + 1) * 4 + 4)) == NULL)
		return -1;
	DecodeUTF8(ucs, text, len);
	GSM_ClearMultiPartSMSInfo(&info);
	info.EntriesNum = 1;
	info.Entries[0].ID = SMS_ConcatenatedAutoTextLong;
	info.Entries[0].Buffer = ucs;
	info.Class = -1;
	multi->Number = 0;
	err = GSM_EncodeMultiPartSMS(pdu_di, &info, multi);
	free(ucs);
	if (err != ERR_NONE || multi->Number <= 0)
		return -1;
	/* libGammu takes the reference from the clock: set ours. */
	for (i = 0; i < multi->Number; i++) {
		if (multi->SMS[i].UDH.Type != UDH_ConcatenatedMessages)
			continue;
		multi->SMS[i].UDH.ID8bit = ref & 0xff;
		GSM_EncodeUDHHeader(pdu_di, &multi->SMS[i].UDH);
	}
	return multi->Number;
}

/*
 * A whole text from `from' as SMS-DELIVER parts (GSM 7-bit or UCS-2,
 * concatenated with 8-bit reference `ref' when long).  Returns the
 * number of parts, or -1.
 */
int
pdu_encode_deliver(const char *smsc, const char *from, const char *text,
    time_t t, int ref, struct pdu_part *parts, int maxparts)
{
	GSM_MultiSMSMessage	*multi;
	int			 i, n;

	if ((multi = calloc(1, sizeof(*multi))) == NULL)
		return -1;
	if ((n = pdu_multipart(text, ref, multi)) == -1 || n > maxparts) {
		free(multi);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (pdu_encode_one(&multi->SMS[i], SMS_Deliver, smsc, from, t,
		    0, 0, &parts[i]) == -1) {
			free(multi);
			return -1;
		}
	free(multi);
	return n;
}

/* As pdu_encode_submit, for a message a phone or a test sends. */
int
pdu_encode_submit(const char *smsc, const char *to, const char *text,
    int srr, int mr, struct pdu_part *parts, int maxparts)
{
	GSM_MultiSMSMessage	*multi;
	int			 i, n;

	if ((multi = calloc(1, sizeof(*multi))) == NULL)
		return -1;
	if ((n = pdu_multipart(text, mr, multi)) == -1 || n > maxparts) {
		free(multi);
		return -1;
	}
	for (i = 0; i < n; i++)
		if (pdu_encode_one(&multi->SMS[i], SMS_Submit, smsc, to,
		    time(NULL), srr, (mr + i) & 0xff, &parts[i]) == -1) {
			free(multi);
			return -1;
		}
	free(multi);
	return n;
}

/*
 * Forward one submitted part as a DELIVER from its sender, keeping its
 * coding and concatenation header (the SMSC relays parts one by one).
 */
int
pdu_encode_deliver_part(const char *smsc, const struct pdu_msg *sub,
    time_t t, struct pdu_part *out)
{
	GSM_SMSMessage	*sms;
	int		 rc;

	if ((sms = calloc(1, sizeof(*sms))) == NULL)
		return -1;
	GSM_SetDefaultSMSData(sms);
	switch (sub->coding) {
	case PDU_UCS2:
		sms->Coding = SMS_Coding_Unicode_No_Compression;
		DecodeUTF8(sms->Text, sub->text, strlen(sub->text));
		break;
	case PDU_8BIT:
		sms->Coding = SMS_Coding_8bit;
		sms->Length = strlen(sub->text) / 2;
		DecodeHexBin(sms->Text, (const unsigned char *)sub->text,
		    strlen(sub->text));
		break;
	default:
		sms->Coding = SMS_Coding_Default_No_Compression;
		DecodeUTF8(sms->Text, sub->text, strlen(sub->text));
		break;
	}
	sms->UDH.Type = UDH_NoUDH;
	if (sub->concat_ref != -1) {
		sms->UDH.Type = sub->concat_ref > 255 ?
		    UDH_ConcatenatedMessages16bit : UDH_ConcatenatedMessages;
		sms->UDH.ID8bit = sub->concat_ref & 0xff;
		sms->UDH.ID16bit = sub->concat_ref;
		sms->UDH.PartNumber = sub->concat_part;
		sms->UDH.AllParts = sub->concat_total;
	}
	GSM_EncodeUDHHeader(pdu_di, &sms->UDH);
	rc = pdu_encode_one(sms, SMS_Deliver, smsc, sub->number, t, 0, 0, out);
	free(sms);
	return rc;
}

/*
 * An SMS-STATUS-REPORT (23.040 9.2.2.3).  libGammu does not encode
 * reports, so the frame is assembled here from fields libGammu encodes
 * for a DELIVER: the recipient address and the two time stamps.
 */
int
pdu_encode_status_report(const char *smsc, int mr, const char *recipient,
    time_t submitted, time_t done, int status, struct pdu_part *out)
{
	GSM_SMSMessage		*sms;
	GSM_SMSMessageLayout	 L = PHONE_SMSDeliver;
	unsigned char		 buf[400], req[64];
	int			 len, cur = 0, i, n;

	if ((sms = calloc(1, sizeof(*sms))) == NULL)
		return -1;
	GSM_SetDefaultSMSData(sms);
	sms->Coding = SMS_Coding_Default_No_Compression;
	sms->PDU = SMS_Deliver;
	sms->Class = -1;
	DecodeUTF8(sms->Number, recipient, strlen(recipient));
	DecodeUTF8(sms->SMSC.Number, smsc, strlen(smsc));
	pdu_datetime(submitted, &sms->DateTime);
	memset(buf, 0, sizeof(buf));
	if (GSM_EncodeSMSFrame(pdu_di, sms, buf, L, &len, TRUE) != ERR_NONE) {
		free(sms);
		return -1;
	}
	n = buf[L.SMSCNumber] + 1;
	for (i = 0; i < n; i++)
		req[cur++] = buf[L.SMSCNumber + i];
	req[cur++] = 0x06;		/* MTI status report, MMS (no more) */
	req[cur++] = (unsigned char)mr;
	for (i = 0; i < (buf[L.Number] + 1) / 2 + 2; i++)
		req[cur++] = buf[L.Number + i];
	for (i = 0; i < 7; i++)		/* TP-SCTS: when it was submitted */
		req[cur++] = buf[L.DateTime + i];
	req[cur - 1] = 0x82;
	pdu_datetime(done, &sms->DateTime);
	memset(buf, 0, sizeof(buf));
	if (GSM_EncodeSMSFrame(pdu_di, sms, buf, L, &len, TRUE) != ERR_NONE) {
		free(sms);
		return -1;
	}
	for (i = 0; i < 7; i++)		/* TP-DT: when it was delivered */
		req[cur++] = buf[L.DateTime + i];
	req[cur - 1] = 0x82;
	req[cur++] = (unsigned char)status;
	free(sms);
	return pdu_frame_hex(req, cur, n, out);
}

/* UTF-8 -> UCS-2 hex, as AT+CSCS="UCS2" shows strings. */
int
pdu_utf8_to_ucs2_hex(const char *s, char *out, size_t outlen)
{
	unsigned char	*ucs;
	size_t		 len = strlen(s);

	if ((ucs = calloc(1, (len + 1) * 4 + 4)) == NULL)
		return -1;
	DecodeUTF8(ucs, s, len);
	if (UnicodeLength(ucs) * 4 + 1 > outlen) {
		free(ucs);
		return -1;
	}
	EncodeHexUnicode(out, ucs, UnicodeLength(ucs));
	free(ucs);
	return 0;
}

/* UCS-2 hex -> UTF-8; -1 if it is not hex of whole characters. */
int
pdu_ucs2_hex_to_utf8(const char *hex, char *out, size_t outlen)
{
	unsigned char	*ucs;
	size_t		 len = strlen(hex), i;

	if (len % 4 != 0 || len / 4 * 4 + 1 > outlen)
		return -1;
	for (i = 0; i < len; i++)
		if (strchr("0123456789abcdefABCDEF", hex[i]) == NULL)
			return -1;
	if ((ucs = calloc(1, len + 4)) == NULL)
		return -1;
	if (!DecodeHexUnicode(ucs, hex, len)) {
		free(ucs);
		return -1;
	}
	EncodeUTF8(out, ucs);
	free(ucs);
	return 0;
}

/* Whether the text fits the GSM 7-bit default alphabet. */
int
pdu_is_gsm7(const char *text)
{
	GSM_MultiSMSMessage	*multi;
	int			 rc;

	if ((multi = calloc(1, sizeof(*multi))) == NULL)
		return -1;
	if (pdu_multipart(text, 0, multi) <= 0)
		rc = -1;
	else
		rc = multi->SMS[0].Coding == SMS_Coding_Default_No_Compression;
	free(multi);
	return rc;
}
