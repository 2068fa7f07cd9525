/*
 * wire: the framed messages between tallygw's main process and its modem
 * workers (docs/design.md). A frame is a 16-byte header {uint32 type,
 * uint32 len, uint64 id}, big-endian, then len bytes of payload. Which
 * fields of struct wire_msg a type carries is fixed by a table in
 * gateway/wire.c: integers as 4 bytes big-endian, strings as a 2-byte
 * length and the bytes (no NUL, valid length). Anything else is a
 * protocol error and the main process restarts the worker.
 */
#ifndef WIRE_H
#define WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define WIRE_WORKER_FD		3	/* a worker's end of its socket */
#define WIRE_HDR_LEN		16
#define WIRE_MAX_PAYLOAD	4096
#define WIRE_NUMBER_MAX		48	/* phone number, with NUL */
#define WIRE_TIME_MAX		40	/* ISO 8601 UTC, with NUL */
#define WIRE_TEXT_MAX		1024	/* UTF-8 text, with NUL */
#define WIRE_INFO_MAX		128	/* short text, with NUL */

enum wire_type {
	WIRE_NONE = 0,
	/* up: worker → main */
	WIRE_HELLO = 1,		/* started: text device, info model */
	WIRE_STATE,		/* state changed: status state, text why */
	WIRE_SMS,		/* an SMS or one part of a long one;
				 * info: why it is raw (WIRE_F_RAW) */
	WIRE_SEND_RESULT,	/* id of the SEND; code 0 + msgref, or error */
	WIRE_STATUS_REPORT,	/* msgref, status (TP-ST), number, location */
	WIRE_HEALTH,		/* signal, reg, info operator, sim use, errors */
	WIRE_USSD_ANSWER,	/* id of the BALANCE; code, text answer */
	WIRE_DELETE_RESULT,	/* id of the DELETE; location, code, info
				 * the DELETE's identity, echoed */
	WIRE_HEARTBEAT,		/* alive; the worker's loop is turning */
	/* down: main → worker */
	WIRE_SEND = 32,		/* id, number, text, flags WIRE_F_REPORT */
	WIRE_DELETE,		/* id, location, number and info the
				 * sender and identity (wire_ident) of
				 * the message meant */
	WIRE_SWEEP,		/* read every message on the SIM now */
	WIRE_BALANCE,		/* id, info USSD code */
	WIRE_RECONNECT,		/* terminate and re-init the connection */
	WIRE_SHUTDOWN,		/* terminate and exit 0 */
};

/* WIRE_STATE status: the worker's state machine (modem/worker.c). */
enum modem_state {
	MODEM_INIT = 0,		/* opening the device, AT init */
	MODEM_READY,		/* idle, waiting for commands and +CMTI */
	MODEM_SENDING,		/* an AT+CMGS in flight */
	MODEM_SWEEPING,		/* reading the SIM storage */
	MODEM_BROKEN,		/* the last operation failed; will reconnect */
	MODEM_BACKOFF,		/* waiting before the next connect attempt */
};
#define MODEM_STATE_MAX		MODEM_BACKOFF

/* Codes a worker gives in *_RESULT frames besides CMS and libGammu's. */
#define WIRE_CODE_NOTREADY	(-1)	/* not READY: try another modem */
#define WIRE_CODE_CHANGED	(-2)	/* DELETE: the slot holds another
					 * message; the one meant is gone */
#define WIRE_CODE_BADREQ	(-3)	/* a request that cannot be done */

#define WIRE_F_REPORT		0x01	/* SEND: request a status report */
#define WIRE_F_UNICODE		0x02	/* SMS: the part was UCS-2 */
#define WIRE_F_STORED		0x04	/* SMS: on the SIM at location */
#define WIRE_F_RAW		0x08	/* SMS: cannot be decoded: text is
					 * the PDU in hex, info why */

/*
 * Every field any message can carry. Strings are NUL-terminated; a
 * field a type does not carry is zero after decoding.
 */
struct wire_msg {
	uint32_t	 type;
	uint64_t	 id;		/* SEND/DELETE/BALANCE id, echoed */
	int32_t		 location;	/* SIM slot, 0 if not stored */
	int32_t		 ref;		/* concatenation reference, 0 none */
	int32_t		 part;		/* 1-based part number */
	int32_t		 total;		/* parts in all, 1 if single */
	int32_t		 code;		/* 0 success, else error code */
	int32_t		 msgref;	/* TP-MR */
	int32_t		 status;	/* TP-ST, or enum modem_state */
	int32_t		 signal;	/* dBm, 0 unknown */
	int32_t		 reg;		/* 27.007 CREG stat */
	int32_t		 sim_used;
	int32_t		 sim_total;
	int32_t		 errors;	/* consecutive errors */
	int32_t		 flags;		/* WIRE_F_* */
	char		 number[WIRE_NUMBER_MAX];
	char		 time[WIRE_TIME_MAX];
	char		 text[WIRE_TEXT_MAX];
	char		 info[WIRE_INFO_MAX];
};

/*
 * The send journal (docs/design.md, "Send results across a crash"): a
 * worker rewrites one fixed-length line in place, synced, each time its
 * modem confirms a SEND, before it reports the result; the main process
 * reads it only when no worker holds the file's lock, so that a result
 * the modem gave but the main process never committed is not lost.
 *   sent ID msgref N to NUMBER fnv XXXXXXXX<spaces>\n
 */
#define WIRE_JOURNAL_LEN	128

struct wire_journal {
	uint64_t	 id;		/* the SEND's id: the outbox row */
	int32_t		 msgref;	/* TP-MR the modem gave */
	char		 number[WIRE_NUMBER_MAX];
};

/* gateway/wire.c */
int		 wire_encode(const struct wire_msg *, uint8_t *, size_t,
		    size_t *);
int		 wire_decode(const uint8_t *, size_t, struct wire_msg *,
		    size_t *);
const char	*wire_type_name(uint32_t);
const char	*wire_state_name(int);
int		 wire_write(int, const struct wire_msg *);
int		 wire_read(int, struct wire_msg *, int);
#define WIRE_FDS_MAX		2	/* descriptors a wire_sendfds */
#define WIRE_SPAWN_MAX		4096	/* bytes of a zygote's request (the
					 * worker's arguments) */
int		 wire_sendfds(int, const void *, size_t, const int *, int);
ssize_t		 wire_recvfds(int, void *, size_t, int *, int);
#define WIRE_IDENT_MAX		64	/* "SMSC-TIME REF/PART #TEXTHASH" */
void		 wire_ident(const struct wire_msg *, char *, size_t);
int		 wire_ident_same(const char *, const char *);
int		 wire_journal_encode(const struct wire_journal *, char *,
		    size_t);
int		 wire_journal_decode(const char *, size_t,
		    struct wire_journal *);
int		 wire_journal_write(int, const struct wire_journal *);
int		 wire_journal_read(int, struct wire_journal *);

#endif /* WIRE_H */
