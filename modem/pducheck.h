/*
 * pducheck: is a PDU a modem read from its SIM (or got in a +CDS) safe
 * to hand to libGammu 1.42's decoder? modem/pducheck.c, no gammu
 * types: docs/modem.md, "Poison messages".
 */

#ifndef MODEM_PDUCHECK_H
#define MODEM_PDUCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define PDUCHECK_SMSC_MAX	11	/* SMSC address octets (24.011) */
#define PDUCHECK_ADDR_MAX	20	/* address digits (23.040 9.1.2.5) */
#define PDUCHECK_SEPTETS_MAX	160	/* 7-bit user data (9.2.3.16) */
#define PDUCHECK_OCTETS_MAX	140	/* 8-bit and UCS-2 user data */
#define PDUCHECK_WHY_MAX	96

enum pducheck_type {
	PDUCHECK_DELIVER = 0,	/* TP-MTI as 23.040 9.2.3.1 gives it */
	PDUCHECK_SUBMIT,
	PDUCHECK_STATUS,
	PDUCHECK_RESERVED,
	PDUCHECK_UNKNOWN,	/* too short to tell */
};

struct pducheck {
	enum pducheck_type	 type;
	/* A DELIVER's TP-OA, when its address field could be read within
	 * bounds, whatever is wrong after it; "" otherwise. */
	char			 sender[WIRE_NUMBER_MAX];
	char			 why[PDUCHECK_WHY_MAX]; /* "": valid */
};

int	pducheck_pdu(const uint8_t *, size_t, int, struct pducheck *);
size_t	pducheck_hex(const uint8_t *, size_t, char *, size_t);
int	pducheck_ud_octets(int, int);

#endif /* MODEM_PDUCHECK_H */
