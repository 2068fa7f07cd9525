/*
 * gsm: the modem worker's only contact with libGammu (modem/gsm.c).
 * worker.c owns the state machine, the wire and every decision; gsm.c
 * owns one GSM_StateMachine and turns what libGammu gives into wire
 * messages. This header uses no gammu types.
 */

#ifndef MODEM_GSM_H
#define MODEM_GSM_H

#include <stddef.h>

#include "wire.h"

/* Watchdogs: the longest any one libGammu call may block, seconds. */
#define GSM_WD_INIT		40	/* GSM_InitConnection and setup */
#define GSM_WD_QUICK		10	/* CSQ, CREG/COPS, CPMS, CMGD, CUSD=1 */
#define GSM_WD_READ		60	/* AT+CMGR, AT+CMGL */
#define GSM_WD_SEND		50	/* AT+CMGS up to the prompt and PDU */
#define GSM_SEND_WAIT		60	/* from CMGS to the +CMGS answer */
#define GSM_USSD_WAIT		30	/* from ATD/CUSD to the +CUSD answer */
#define GSM_READ_ERRORS_MAX	3	/* read(2) errors in a row: gone */
#define GSM_EOF_MS		10	/* a read of 0 faster than this: EOF */
#define GSM_EVENTS_MAX		4096	/* notifications waiting for us */
#define GSM_PAUSE_SKIP_US	100000	/* libGammu's send pauses skipped */
#define GSM_LOOK_MS		50	/* modem descriptor unknown: look so */
#define GSM_RAW_MAX		511	/* octets of a refused PDU kept */
#define GSM_RAWS_MAX		8	/* refused PDUs waiting for us */

/* What an operation did to the modem, as worker.c must react. */
enum gsm_rc {
	GSM_OK = 0,		/* done */
	GSM_REFUSED,		/* the network or SIM said no; modem fine */
	GSM_ERROR,		/* libGammu failed; counts towards broken */
	GSM_DEAD,		/* timeout, abort, device gone: reconnect */
};


struct gsm_conf {
	const char	*device;
	const char	*connection;
	const char	*debuglog;	/* NULL: no libGammu log */
	int		 pauses;	/* keep libGammu's pauses in sends */
};

/* Where gsm.c hands things up: called outside any libGammu call. */
struct gsm_hooks {
	void	(*emit)(void *, const struct wire_msg *); /* SMS, REPORT */
	void	(*tick)(void *);	/* a long operation is still alive */
	void	*arg;
};

struct gsm_result {
	int		 code;		/* 0, CMS error or libGammu error */
	int		 msgref;
	char		 text[WIRE_TEXT_MAX];
};

struct gsm;

void		 gsm_setup(void);
void		 gsm_interrupt(void);
const char	*gsm_reason(void);
struct gsm	*gsm_open(const struct gsm_conf *, const struct gsm_hooks *,
		    char *, size_t, char *, size_t);
void		 gsm_close(struct gsm *);
int		 gsm_fd(const struct gsm *);
int		 gsm_pending(const struct gsm *);
enum gsm_rc	 gsm_poll(struct gsm *, int);
enum gsm_rc	 gsm_sweep(struct gsm *, int *);
enum gsm_rc	 gsm_read(struct gsm *, int, struct wire_msg *,
		    struct gsm_result *);
enum gsm_rc	 gsm_delete(struct gsm *, int, struct gsm_result *);
enum gsm_rc	 gsm_send(struct gsm *, const char *, const char *, int,
		    struct gsm_result *);
enum gsm_rc	 gsm_ussd(struct gsm *, const char *, struct gsm_result *);
enum gsm_rc	 gsm_health(struct gsm *, struct wire_msg *);

#endif /* MODEM_GSM_H */
