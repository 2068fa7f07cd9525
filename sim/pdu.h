/*
 * SMS PDUs (3GPP TS 23.040) as hex strings, with the GSM 7-bit default
 * alphabet of TS 23.038, written by hand for tallysim (no libGammu).
 * Text is UTF-8 everywhere.
 */

#ifndef PDU_H
#define PDU_H

#include <stddef.h>
#include <time.h>

#define PDU_HEX_MAX	400	/* SMSC + TPDU as hex, NUL included */
#define PDU_NUMBER_MAX	32	/* an address, UTF-8, NUL included */
#define PDU_PART_TEXT	(70 * 4 * 2 + 1) /* one part's text as UTF-8 */
#define PDU_PARTS_MAX	16	/* parts of one concatenated message */
#define PDU_USSD_GSM7	182	/* GSM 7-bit characters on a USSD screen */
#define PDU_USSD_UCS2	80	/* UCS-2 characters on a USSD screen */

enum pdu_type {
	PDU_DELIVER = 0,
	PDU_SUBMIT,
	PDU_STATUS_REPORT,
};

enum pdu_coding {
	PDU_GSM7 = 0,
	PDU_UCS2,
	PDU_8BIT,
};

/* One decoded PDU: a single part of a message. */
struct pdu_msg {
	enum pdu_type	 type;
	char		 smsc[PDU_NUMBER_MAX];
	char		 number[PDU_NUMBER_MAX]; /* OA, DA or RA */
	char		 text[PDU_PART_TEXT];
	enum pdu_coding	 coding;
	int		 srr;		/* status report requested */
	int		 mr;		/* message reference, -1 if none */
	int		 concat_ref;	/* -1 when not concatenated */
	int		 concat_part;	/* 1-based */
	int		 concat_total;
	int		 status;	/* status report: TP-ST */
	time_t		 time;		/* SCTS (deliver, report), UTC */
	int		 tpdu_len;	/* octets after the SMSC part */
};

/* One encoded part. */
struct pdu_part {
	char		 hex[PDU_HEX_MAX];
	int		 tpdu_len;	/* what AT+CMGS/+CMGL/+CMT show */
};

int	pdu_init(void);
int	pdu_decode(const char *, int, struct pdu_msg *);
int	pdu_encode_deliver(const char *, const char *, const char *, time_t,
	    int, struct pdu_part *, int);
int	pdu_encode_deliver_part(const char *, const struct pdu_msg *,
	    time_t, struct pdu_part *);
int	pdu_encode_submit(const char *, const char *, const char *, int,
	    int, struct pdu_part *, int);
int	pdu_encode_status_report(const char *, int, const char *, time_t,
	    time_t, int, struct pdu_part *);
int	pdu_utf8_to_ucs2_hex(const char *, char *, size_t);
int	pdu_ucs2_hex_to_utf8(const char *, char *, size_t);
int	pdu_is_gsm7(const char *);
int	pdu_ussd_fits(const char *, int *, int *);

#endif /* PDU_H */
