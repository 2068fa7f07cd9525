/*
 * gsm: one libGammu state machine and what the worker needs of it:
 * connect, sweep and read the SIM, delete, send, USSD, health.
 *
 * The rules libGammu 1.42 imposes (../shared/notes/libgammu.md):
 * callbacks run inside any libGammu call, so they only record events,
 * acted on after the call returns; every blocking call runs under a
 * watchdog (SIGALRM -> GSM_AbortOperation), because libGammu's own
 * timeouts are fixed and a modem that chatters without answering can
 * block it forever; after a timeout or an abort the state machine is
 * useless (the abort flag is never cleared) and worker.c reconnects.
 */

#include <sys/types.h>
#include <sys/mman.h>
#include <sys/queue.h>
#include <sys/stat.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <gammu.h>

#include "gsm.h"
#include "log.h"
#include "pducheck.h"
#include "wire.h"

enum gsm_event_kind {
	GSM_EV_LOCATION = 0,	/* +CMTI/+CDSI: a message stored at ... */
	GSM_EV_MESSAGE,		/* +CMT/+CDS: the message itself */
};

struct gsm_event {
	TAILQ_ENTRY(gsm_event)	 entry;
	enum gsm_event_kind	 kind;
	int			 location;
	int			 folder;
	GSM_MemoryType		 memory;
	GSM_SMSMessage		*sms;	/* GSM_EV_MESSAGE */
};
TAILQ_HEAD(gsm_events, gsm_event);

struct gsm {
	GSM_StateMachine	*sm;
	GSM_MultiSMSMessage	*multi;		/* ~260 KB: mapped, see below */
	size_t			 multi_len;
	struct gsm_hooks	 hooks;
	struct gsm_events	 events;
	int			 nevents;
	int			 dropped;
	int			 fd;		/* libGammu's descriptor, or -1 */
	int			 pauses;	/* keep libGammu's send pauses */
	int			 readerr;	/* GSM_ReadDevice < 0 in a row */
	int			 eofs;		/* ... and at end of file */
	GSM_SMSC		 smsc;
	int			 have_smsc;
	int			 ref;		/* our concatenation reference */

	/* Set by the callbacks, read after the call returns. */
	int			 send_fired;
	int			 send_status;
	int			 send_ref;
	int			 ussd_fired;
	GSM_USSDStatus		 ussd_status;
	char			 ussd_text[WIRE_TEXT_MAX];
};

/* The watchdog: a signal handler may only set flags. */
static GSM_StateMachine	*volatile gsm_watch_sm;
static volatile sig_atomic_t	 gsm_watch_fired;
static int			 gsm_watch_secs;

/* Set while GSM_SendSMS runs: its long pauses are skipped (usleep). */
static int			 gsm_skipping;
static unsigned long		 gsm_skipped_us;
static int			 gsm_skipped_n;

/*
 * libGammu 1.42's ATGEN_SendSMS sleeps 100 ms after the "> " prompt,
 * 500 ms between the PDU and Ctrl-Z and 100 ms after Ctrl-Z: 0.7 s of
 * every SMS part in which the modem waits for us and we read nothing.
 * They are older than the wait for the prompt (Gammu 0.x wrote the PDU
 * 500 ms after AT+CMGS without waiting for it); 27.005 lets the PDU
 * follow the prompt at once, and smstools writes the PDU and Ctrl-Z in
 * one write(2) after it. No libGammu option turns them off, and the AT
 * driver's functions are not public. libGammu calls usleep(3) through
 * the dynamic linker, which binds the call to this definition in the
 * program: while gsm_send_part is inside GSM_SendSMS, pauses of
 * GSM_PAUSE_SKIP_US or more are skipped; the short waits of libGammu's
 * reading loops (5 and 10 ms) are kept. Not prefixed: it must be usleep.
 */
int
usleep(useconds_t us)
{
	struct timespec	 ts;

	if (gsm_skipping && us >= GSM_PAUSE_SKIP_US) {
		gsm_skipped_us += us;
		gsm_skipped_n++;
		return (0);
	}
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (long)(us % 1000000) * 1000;
	return (nanosleep(&ts, NULL));
}

/*
 * Poison messages (docs/modem.md): libGammu 1.42's GSM_DecodePDUFrame
 * overflows its buffers on PDUs out of 23.040's bounds, and it decodes
 * what the SIM holds inside GSM_GetSMS, GSM_GetNextSMS, GSM_DeleteSMS
 * and +CDS, where the worker never sees the PDU. Like usleep, the
 * worker defines the function libGammu calls (through the dynamic
 * linker, which binds libGammu's own call to the program's definition):
 * a PDU pducheck refuses never reaches libGammu's decoder, nor does
 * one the decoder fails on come back as another error than
 * ERR_CORRUPTED (which ends no sweep). Either is kept here, with why,
 * to be handed up raw: a read's last one for the location read, one
 * kept outside a read (+CDS) as delivered directly.
 */
struct gsm_raw {
	uint8_t		 pdu[GSM_RAW_MAX];
	size_t		 len;
	int		 reading;	/* a read was under way */
	struct pducheck	 chk;
};
static struct gsm_raw	 gsm_raws[GSM_RAWS_MAX];
static int		 gsm_nraws;
static int		 gsm_reading;	/* inside a read of the SIM */

static void
gsm_raw_keep(const unsigned char *buf, size_t len, const struct pducheck *chk)
{
	struct gsm_raw	*r;

	if (gsm_nraws == GSM_RAWS_MAX)
		memmove(&gsm_raws[0], &gsm_raws[1], sizeof(gsm_raws[0]) *
		    (GSM_RAWS_MAX - 1));
	else
		gsm_nraws++;
	r = &gsm_raws[gsm_nraws - 1];
	r->len = len < sizeof(r->pdu) ? len : sizeof(r->pdu);
	memcpy(r->pdu, buf, r->len);
	r->reading = gsm_reading;
	r->chk = *chk;
}

typedef GSM_Error (*gsm_decode_fn)(GSM_Debug_Info *, GSM_SMSMessage *,
    const unsigned char *, size_t, size_t *, gboolean);

/* Not prefixed: it must be libGammu's name. */
GSM_Error
GSM_DecodePDUFrame(GSM_Debug_Info *di, GSM_SMSMessage *sms,
    const unsigned char *buf, size_t len, size_t *final_pos, gboolean smsc)
{
	static gsm_decode_fn	 real;
	struct pducheck		 chk;
	GSM_Error		 err;

	if (pducheck_pdu(buf, len, smsc, &chk) == -1) {
		gsm_raw_keep(buf, len, &chk);
		return (ERR_CORRUPTED);
	}
	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "GSM_DecodePDUFrame");
	if (real == NULL) {
		snprintf(chk.why, sizeof(chk.why), "libGammu's decoder not "
		    "found");
		gsm_raw_keep(buf, len, &chk);
		return (ERR_CORRUPTED);
	}
	if ((err = real(di, sms, buf, len, final_pos, smsc)) != ERR_NONE) {
		snprintf(chk.why, sizeof(chk.why), "libGammu cannot decode "
		    "it: %s", GSM_ErrorString(err));
		gsm_raw_keep(buf, len, &chk);
		return (ERR_CORRUPTED);
	}
	return (ERR_NONE);
}

/*
 * A +CMT: libGammu's AT driver copies the PDU's fields into a frame at
 * the offsets of a layout (PHONE_SMSDeliver) and decodes that with its
 * older GSM_DecodeSMSFrame, which copies a header longer than the user
 * data over the sender as GSM_DecodePDUFrame does. The frame, made a
 * PDU again (SMSC address first), goes through the same guard; the
 * refused message is left empty and marked, and the callback that
 * follows it is not recorded (gsm_cb_sms).
 */
#define GSM_REFUSED_LOCATION	(-1)

typedef GSM_Error (*gsm_frame_fn)(GSM_Debug_Info *, GSM_SMSMessage *,
    unsigned char *, GSM_SMSMessageLayout);

static size_t
gsm_frame_pdu(const unsigned char *f, const GSM_SMSMessageLayout *l,
    uint8_t *pdu, size_t size)
{
	size_t	 n = 0, k;
	int	 ud;

	if (size < 2 + 255 + 2 + 128 + 2 + 7 + 1 + 255)
		return (0);
	k = 1 + (size_t)f[l->SMSCNumber];
	memcpy(pdu + n, f + l->SMSCNumber, k);
	n += k;
	pdu[n++] = f[l->firstbyte];
	k = 2 + ((size_t)f[l->Number] + 1) / 2;
	memcpy(pdu + n, f + l->Number, k);
	n += k;
	pdu[n++] = l->TPPID != 255 ? f[l->TPPID] : 0;
	pdu[n++] = f[l->TPDCS];
	memcpy(pdu + n, f + l->DateTime, 7);
	n += 7;
	pdu[n++] = f[l->TPUDL];
	if ((ud = pducheck_ud_octets(f[l->TPDCS], f[l->TPUDL])) > 0) {
		memcpy(pdu + n, f + l->Text, (size_t)ud);
		n += (size_t)ud;
	}
	return (n);
}

/* Not prefixed: it must be libGammu's name. */
GSM_Error
GSM_DecodeSMSFrame(GSM_Debug_Info *di, GSM_SMSMessage *sms,
    unsigned char *buf, GSM_SMSMessageLayout l)
{
	static gsm_frame_fn	 real;
	struct pducheck		 chk;
	uint8_t			 pdu[1024], first;
	size_t			 n;
	int			 ok;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "GSM_DecodeSMSFrame");
	/* Only a DELIVER's layout, the one the AT driver's +CMT uses. */
	if (l.SMSCNumber == 255 || l.firstbyte == 255 || l.Number == 255 ||
	    l.TPDCS == 255 || l.DateTime == 255 || l.TPUDL == 255 ||
	    l.Text == 255 || l.TPStatus != 255)
		return (real != NULL ? real(di, sms, buf, l) : ERR_CORRUPTED);
	n = gsm_frame_pdu(buf, &l, pdu, sizeof(pdu));
	/* Checked as what the layout makes it, whatever its TP-MTI says. */
	first = pdu[1 + pdu[0]];
	pdu[1 + pdu[0]] &= ~0x03;
	ok = pducheck_pdu(pdu, n, 1, &chk) == 0;
	pdu[1 + pdu[0]] = first;
	if (!ok || real == NULL) {
		if (real == NULL)
			snprintf(chk.why, sizeof(chk.why), "libGammu's "
			    "decoder not found");
		gsm_raw_keep(pdu, n, &chk);
		memset(sms, 0, sizeof(*sms));
		sms->State = SMS_UnRead;
		sms->PDU = SMS_Submit;
		sms->Location = GSM_REFUSED_LOCATION;
		return (ERR_CORRUPTED);
	}
	return (real(di, sms, buf, l));
}

/* A kept PDU as the SMS frame the main process stores as rejected. */
static void
gsm_raw_wire(const struct gsm_raw *r, int location, struct wire_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->type = WIRE_SMS;
	m->location = location;
	m->flags = WIRE_F_RAW | (location > 0 ? WIRE_F_STORED : 0);
	m->part = m->total = 1;
	if (r->chk.type == PDUCHECK_DELIVER)
		snprintf(m->number, sizeof(m->number), "%s", r->chk.sender);
	pducheck_hex(r->pdu, r->len, m->text, sizeof(m->text));
	snprintf(m->info, sizeof(m->info), "%s", r->chk.why);
}

/* Forget what earlier reads kept: a read's own come after it starts. */
static void
gsm_raw_forget(void)
{
	int	 i;

	for (i = 0; i < gsm_nraws; )
		if (gsm_raws[i].reading) {
			memmove(&gsm_raws[i], &gsm_raws[i + 1],
			    sizeof(gsm_raws[0]) * (gsm_nraws - i - 1));
			gsm_nraws--;
		} else
			i++;
}

/*
 * After a read that ended in ERR_CORRUPTED: the PDU it refused, as a
 * raw frame for location. 0 if there is one; the read's others go.
 */
static int
gsm_raw_take(int location, struct wire_msg *m)
{
	int	 i, found = -1;

	for (i = 0; i < gsm_nraws; i++)
		if (gsm_raws[i].reading)
			found = i;
	if (found != -1)
		gsm_raw_wire(&gsm_raws[found], location, m);
	gsm_raw_forget();
	return (found != -1 ? 0 : -1);
}

static void
gsm_alarm(int sig)
{
	(void)sig;
	gsm_watch_fired = 1;
	if (gsm_watch_sm != NULL)
		GSM_AbortOperation(gsm_watch_sm);
}

static void
gsm_arm(struct gsm *g, int secs)
{
	gsm_watch_fired = 0;
	gsm_watch_secs = secs;
	gsm_watch_sm = g->sm;
	alarm(secs);
}

static void
gsm_disarm(void)
{
	alarm(0);
	gsm_watch_sm = NULL;
}

/* From a signal handler: make the libGammu call under way return. */
void
gsm_interrupt(void)
{
	if (gsm_watch_sm != NULL)
		GSM_AbortOperation(gsm_watch_sm);
}

/* Once per process: locales (libGammu calls setlocale) and SIGALRM. */
void
gsm_setup(void)
{
	struct sigaction	 sa;

	GSM_InitLocales(NULL);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = gsm_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: interrupt the waits */
	sigaction(SIGALRM, &sa, NULL);
}

static long long
gsm_now_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* How worker.c must take a libGammu error. */
static enum gsm_rc
gsm_rc_of(GSM_Error err)
{
	switch (err) {
	case ERR_NONE:
		return (GSM_OK);
	case ERR_TIMEOUT:
	case ERR_ABORTED:
	case ERR_NOTCONNECTED:
	case ERR_DEVICEOPENERROR:
	case ERR_DEVICELOCKED:
	case ERR_DEVICENOTEXIST:
	case ERR_DEVICEBUSY:
	case ERR_DEVICENOPERMISSION:
	case ERR_DEVICENODRIVER:
	case ERR_DEVICENOTWORK:
	case ERR_DEVICEDTRRTSERROR:
	case ERR_DEVICECHANGESPEEDERROR:
	case ERR_DEVICEWRITEERROR:
	case ERR_DEVICEREADERROR:
	case ERR_DEVICEPARITYERROR:
		return (GSM_DEAD);
	default:
		return (GSM_ERROR);
	}
}

/* The last failure, logged: worker.c puts it in its STATE text. */
static char	 gsm_reason_buf[WIRE_TEXT_MAX];

static void
gsm_why(const char *fmt, ...)
    __attribute__((__format__ (printf, 1, 2)));

static void
gsm_why(const char *fmt, ...)
{
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(gsm_reason_buf, sizeof(gsm_reason_buf), fmt, ap);
	va_end(ap);
	log_warnx("%s", gsm_reason_buf);
}

const char *
gsm_reason(void)
{
	return (gsm_reason_buf[0] != '\0' ? gsm_reason_buf : "failed");
}

/* Log a libGammu failure, name the watchdog when it was the cause. */
static enum gsm_rc
gsm_fail(const char *what, GSM_Error err, struct gsm_result *res)
{
	const char	*es = GSM_ErrorString(err);

	if (err == ERR_ABORTED && gsm_watch_fired)
		gsm_why("%s: no answer within %d s (watchdog)", what,
		    gsm_watch_secs);
	else
		gsm_why("%s: %s (libGammu error %d)", what,
		    es != NULL ? es : "?", (int)err);
	if (res != NULL) {
		res->code = (int)err;
		snprintf(res->text, sizeof(res->text), "%s", gsm_reason_buf);
	}
	return (gsm_rc_of(err));
}

/* Append one code point as UTF-8 if it fits whole. */
static size_t
gsm_put_utf8(char *out, size_t off, size_t outsz, uint32_t c)
{
	unsigned char	 b[4];
	size_t		 n, i;

	if (c < 0x80) {
		b[0] = c;
		n = 1;
	} else if (c < 0x800) {
		b[0] = 0xc0 | c >> 6;
		b[1] = 0x80 | (c & 0x3f);
		n = 2;
	} else if (c < 0x10000) {
		b[0] = 0xe0 | c >> 12;
		b[1] = 0x80 | (c >> 6 & 0x3f);
		b[2] = 0x80 | (c & 0x3f);
		n = 3;
	} else {
		b[0] = 0xf0 | c >> 18;
		b[1] = 0x80 | (c >> 12 & 0x3f);
		b[2] = 0x80 | (c >> 6 & 0x3f);
		b[3] = 0x80 | (c & 0x3f);
		n = 4;
	}
	if (off + n >= outsz)
		return (off);
	for (i = 0; i < n; i++)
		out[off + i] = b[i];
	return (off + n);
}

/*
 * libGammu keeps text as big-endian UTF-16, NUL-terminated: to UTF-8,
 * surrogate pairs joined, lone surrogates as U+FFFD, cut at a whole
 * character when out is full. With GSM_SMS_TEXT, units holds an SMS
 * text (gsm_sms_units): a U+0000 in it is a space, a separator like any
 * other to the decoder, and each pair of '~' libGammu wrote is one '~'.
 */
#define GSM_SMS_TEXT	0x01
#define GSM_UNIT(u, i)	((uint32_t)(u)[2 * (i)] << 8 | (u)[2 * (i) + 1])
static void
gsm_ucs2_to_utf8(const unsigned char *u, size_t units, int flags, char *out,
    size_t outsz)
{
	size_t		 i, off = 0;
	uint32_t	 c, c2;

	if (outsz == 0)
		return;
	for (i = 0; i < units; i++) {
		c = GSM_UNIT(u, i);
		if (c == 0 && !(flags & GSM_SMS_TEXT))
			break;
		if (c == 0)
			c = ' ';
		else if (c == '~' && (flags & GSM_SMS_TEXT) && i + 1 < units &&
		    GSM_UNIT(u, i + 1) == '~')
			i++;
		else if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			c2 = GSM_UNIT(u, i + 1);
			if (c2 >= 0xdc00 && c2 < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) +
				    (c2 - 0xdc00);
				i++;
			} else
				c = 0xfffd;
		} else if (c >= 0xd800 && c < 0xe000)
			c = 0xfffd;
		off = gsm_put_utf8(out, off, outsz, c);
	}
	out[off] = '\0';
}

/*
 * How many units of a UCS-2 message's Text are its text. libGammu
 * (GSM_DecodePDUFrame, DecodeUnicodeSpecialNOKIAChars; 1.42 and later)
 * sets Length to the UCS-2 units of the user data and copies every one
 * into Text, U+0000 included, except that it writes '~' twice and
 * U+0001 as '~'; then one NUL, and stale bytes after it (a previous
 * message, the stack). So the text ends at the first NUL where the
 * units read so far can make Length (a run of k '~' is ceil(k/2) to k
 * units of the message): a NUL before it is part of the text, and
 * nothing after the end is ever taken. Where '~' leaves it ambiguous (a
 * NUL followed by no more units than the '~' before it), the text is
 * cut at that NUL rather than risk reading past its end.
 */
static size_t
gsm_sms_units(const unsigned char *u, size_t units, int length)
{
	size_t	 i = 0, k, lo = 0, hi = 0, want;

	want = length > 0 ? (size_t)length : 0;
	while (i < units && lo <= want) {
		if (GSM_UNIT(u, i) == 0 && want <= hi)
			return (i);
		for (k = 0; i + k < units && GSM_UNIT(u, i + k) == '~'; k++)
			;
		if (k == 0)
			k = 1;
		lo += GSM_UNIT(u, i) == '~' ? (k + 1) / 2 : 1;
		hi += k;
		i += k;
	}
	return (i < units ? i : units);
}

/*
 * UTF-8 to big-endian UTF-16 for libGammu, NUL-terminated; invalid
 * bytes become U+FFFD. Returns the number of 16-bit units, or -1 when
 * the buffer is too small.
 */
static int
gsm_utf8_to_ucs2(const char *s, unsigned char *u, size_t usz)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n = 0, need, i;
	uint32_t		 c, min;

	while (*p != '\0') {
		if (*p < 0x80) {
			c = *p++;
			need = 0;
			min = 0;
		} else if ((*p & 0xe0) == 0xc0) {
			c = *p++ & 0x1f;
			need = 1;
			min = 0x80;
		} else if ((*p & 0xf0) == 0xe0) {
			c = *p++ & 0x0f;
			need = 2;
			min = 0x800;
		} else if ((*p & 0xf8) == 0xf0) {
			c = *p++ & 0x07;
			need = 3;
			min = 0x10000;
		} else {
			p++;
			c = 0xfffd;
			need = 0;
			min = 0;
		}
		for (i = 0; i < need; i++) {
			if ((*p & 0xc0) != 0x80) {
				c = 0xfffd;
				break;
			}
			c = c << 6 | (*p++ & 0x3f);
		}
		if (i == need && (c < min || c > 0x10ffff ||
		    (c >= 0xd800 && c < 0xe000)))
			c = 0xfffd;
		if (c >= 0x10000) {
			if ((n + 3) * 2 > usz)
				return (-1);
			c -= 0x10000;
			u[2 * n] = (0xd800 | c >> 10) >> 8;
			u[2 * n + 1] = (0xd800 | c >> 10) & 0xff;
			u[2 * n + 2] = (0xdc00 | (c & 0x3ff)) >> 8;
			u[2 * n + 3] = (0xdc00 | (c & 0x3ff)) & 0xff;
			n += 2;
		} else {
			if ((n + 2) * 2 > usz)
				return (-1);
			u[2 * n] = c >> 8;
			u[2 * n + 1] = c & 0xff;
			n++;
		}
	}
	if ((n + 1) * 2 > usz)
		return (-1);
	u[2 * n] = u[2 * n + 1] = 0;
	return ((int)n);
}

/* An SMSC time stamp (local time + zone) as UTC ISO 8601, or "". */
static void
gsm_time_iso(const GSM_DateTime *dt, char *out, size_t outsz)
{
	struct tm	 tm;
	time_t		 t;

	out[0] = '\0';
	if (dt->Year < 1970 || dt->Year > 2199 || dt->Month < 1 ||
	    dt->Month > 12 || dt->Day < 1 || dt->Day > 31 || dt->Hour < 0 ||
	    dt->Hour > 23 || dt->Minute < 0 || dt->Minute > 59 ||
	    dt->Second < 0 || dt->Second > 60)
		return;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = dt->Year - 1900;
	tm.tm_mon = dt->Month - 1;
	tm.tm_mday = dt->Day;
	tm.tm_hour = dt->Hour;
	tm.tm_min = dt->Minute;
	tm.tm_sec = dt->Second;
	t = timegm(&tm) - dt->Timezone;
	if (gmtime_r(&t, &tm) == NULL)
		return;
	strftime(out, outsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * The concatenation element of a UDH, parsed from the raw header:
 * libGammu recognises only whole headers it knows, and a header may
 * carry other elements beside the concatenation one.
 */
static void
gsm_udh_concat(const GSM_UDHHeader *udh, struct wire_msg *m)
{
	const unsigned char	*t = udh->Text;
	int			 end, i, iei, iel, ref, total, part;

	m->ref = 0;
	m->part = m->total = 1;
	if (udh->Type == UDH_NoUDH || udh->Length < 2)
		return;
	end = 1 + t[0];
	if (end > udh->Length)
		end = udh->Length;
	if (end > (int)sizeof(udh->Text))
		end = sizeof(udh->Text);
	for (i = 1; i + 1 < end; i += 2 + iel) {
		iei = t[i];
		iel = t[i + 1];
		if (i + 2 + iel > end)
			break;
		if (iei == 0x00 && iel == 3) {
			ref = t[i + 2];
			total = t[i + 3];
			part = t[i + 4];
		} else if (iei == 0x08 && iel == 4) {
			ref = t[i + 2] << 8 | t[i + 3];
			total = t[i + 4];
			part = t[i + 5];
		} else
			continue;
		if (total < 1 || part < 1 || part > total)
			continue;
		m->ref = ref;
		m->total = total;
		m->part = part;
		return;
	}
}

/*
 * One message as libGammu decoded it -> WIRE_SMS or WIRE_STATUS_REPORT.
 * location 0 when it was delivered directly. -1: not an incoming
 * message (a SUBMIT kept on the SIM).
 */
static int
gsm_to_wire(const GSM_SMSMessage *sms, int location, struct wire_msg *m)
{
	size_t	 len, i;
	char	*p;

	memset(m, 0, sizeof(*m));
	m->location = location;
	if (sms->PDU == SMS_Status_Report) {
		m->type = WIRE_STATUS_REPORT;
		m->msgref = sms->MessageReference;
		m->status = sms->DeliveryStatus;
		gsm_ucs2_to_utf8(sms->Number, sizeof(sms->Number) / 2, 0,
		    m->number, sizeof(m->number));
		gsm_time_iso(&sms->SMSCTime, m->time, sizeof(m->time));
		if (m->time[0] == '\0')
			gsm_time_iso(&sms->DateTime, m->time, sizeof(m->time));
		return (0);
	}
	if (sms->PDU != SMS_Deliver)
		return (-1);
	m->type = WIRE_SMS;
	if (location > 0)
		m->flags |= WIRE_F_STORED;
	gsm_ucs2_to_utf8(sms->Number, sizeof(sms->Number) / 2, 0,
	    m->number, sizeof(m->number));
	gsm_time_iso(&sms->DateTime, m->time, sizeof(m->time));
	gsm_udh_concat(&sms->UDH, m);
	switch (sms->Coding) {
	case SMS_Coding_8bit:
		len = sms->Length < 0 ? 0 : (size_t)sms->Length;
		if (len > sizeof(sms->Text))
			len = sizeof(sms->Text);
		if (len * 2 >= sizeof(m->text))
			len = (sizeof(m->text) - 1) / 2;
		for (i = 0, p = m->text; i < len; i++, p += 2)
			snprintf(p, 3, "%02X", sms->Text[i]);
		*p = '\0';
		break;
	case SMS_Coding_Unicode_No_Compression:
		/* By its length: a NUL in it does not end it. */
		m->flags |= WIRE_F_UNICODE;
		gsm_ucs2_to_utf8(sms->Text, gsm_sms_units(sms->Text,
		    sizeof(sms->Text) / 2, sms->Length), GSM_SMS_TEXT, m->text,
		    sizeof(m->text));
		break;
	case SMS_Coding_Unicode_Compression:
		m->flags |= WIRE_F_UNICODE;
		/* FALLTHROUGH */
	default:
		gsm_ucs2_to_utf8(sms->Text, sizeof(sms->Text) / 2, 0, m->text,
		    sizeof(m->text));
		break;
	}
	return (0);
}

/* libGammu -> us: only record; never call libGammu from here. */
static void
gsm_cb_sms(GSM_StateMachine *sm, GSM_SMSMessage *sms, void *arg)
{
	struct gsm		*g = arg;
	struct gsm_event	*ev;

	(void)sm;
	if (sms->Location == GSM_REFUSED_LOCATION)
		return;		/* the guard kept it: gsm_flush_direct */
	if (g->nevents >= GSM_EVENTS_MAX) {
		g->dropped++;
		return;
	}
	if ((ev = calloc(1, sizeof(*ev))) == NULL) {
		g->dropped++;
		return;
	}
	/* +CMTI/+CDSI give only where; +CMT/+CDS the whole message. */
	if (sms->State == 0 && sms->Number[0] == 0 && sms->Number[1] == 0) {
		ev->kind = GSM_EV_LOCATION;
		ev->location = sms->Location;
		ev->folder = sms->Folder;
		ev->memory = sms->Memory;
	} else {
		ev->kind = GSM_EV_MESSAGE;
		if ((ev->sms = malloc(sizeof(*ev->sms))) == NULL) {
			free(ev);
			g->dropped++;
			return;
		}
		memcpy(ev->sms, sms, sizeof(*ev->sms));
	}
	TAILQ_INSERT_TAIL(&g->events, ev, entry);
	g->nevents++;
}

static void
gsm_cb_send(GSM_StateMachine *sm, int status, int ref, void *arg)
{
	struct gsm	*g = arg;

	(void)sm;
	g->send_fired = 1;
	g->send_status = status;
	g->send_ref = ref;
}

static void
gsm_cb_ussd(GSM_StateMachine *sm, GSM_USSDMessage *ussd, void *arg)
{
	struct gsm	*g = arg;

	(void)sm;
	g->ussd_fired = 1;
	g->ussd_status = ussd->Status;
	gsm_ucs2_to_utf8(ussd->Text, sizeof(ussd->Text) / 2, 0, g->ussd_text,
	    sizeof(g->ussd_text));
}

static char *
gsm_strdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		log_warnx("gsm: out of memory");
	return (p);
}

static void
gsm_free_event(struct gsm_event *ev)
{
	free(ev->sms);
	free(ev);
}

/* Hand up the messages a +CMT/+CDS delivered: they exist nowhere else. */
static void
gsm_flush_direct(struct gsm *g)
{
	struct gsm_event	*ev, *next;
	struct wire_msg		 m;
	int			 i;

	for (i = 0; i < gsm_nraws; ) {
		if (gsm_raws[i].reading) {
			i++;
			continue;
		}
		gsm_raw_wire(&gsm_raws[i], 0, &m);
		log_warnx("a message delivered directly cannot be decoded "
		    "(%s): handed up raw", m.info);
		g->hooks.emit(g->hooks.arg, &m);
		memmove(&gsm_raws[i], &gsm_raws[i + 1], sizeof(gsm_raws[0]) *
		    (gsm_nraws - i - 1));
		gsm_nraws--;
	}

	for (ev = TAILQ_FIRST(&g->events); ev != NULL; ev = next) {
		next = TAILQ_NEXT(ev, entry);
		if (ev->kind != GSM_EV_MESSAGE)
			continue;
		TAILQ_REMOVE(&g->events, ev, entry);
		g->nevents--;
		if (gsm_to_wire(ev->sms, 0, &m) == 0)
			g->hooks.emit(g->hooks.arg, &m);
		else
			log_info("delivered message that is no DELIVER "
			    "(PDU type %d) ignored", (int)ev->sms->PDU);
		gsm_free_event(ev);
	}
}

void
gsm_close(struct gsm *g)
{
	struct gsm_event	*ev;
	GSM_Error		 err;

	if (g == NULL)
		return;
	gsm_flush_direct(g);
	while ((ev = TAILQ_FIRST(&g->events)) != NULL) {
		TAILQ_REMOVE(&g->events, ev, entry);
		gsm_free_event(ev);
	}
	if (g->sm != NULL) {
		gsm_arm(g, GSM_WD_QUICK);
		err = GSM_TerminateConnection(g->sm);
		gsm_disarm();
		if (err != ERR_NONE)
			gsm_fail("closing the connection", err, NULL);
		GSM_FreeStateMachine(g->sm);
	}
	if (g->multi != NULL)
		munmap(g->multi, g->multi_len);
	free(g);
}

/*
 * libGammu's GSM_MultiSMSMessage is about 260 KB, most of it used only
 * by a sweep or a long message. It has pages of its own (mmap), given
 * back after each use (MADV_DONTNEED, which also leaves them zero, so
 * no memset of the whole needs to touch them): held by each of 64
 * workers it was 16 MiB of the bank's memory.
 */
static GSM_MultiSMSMessage *
gsm_multi_map(size_t *len)
{
	long	 pg = sysconf(_SC_PAGESIZE);
	void	*p;

	if (pg <= 0)
		pg = 4096;
	*len = (sizeof(GSM_MultiSMSMessage) + pg - 1) / pg * pg;
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
	    MAP_ANONYMOUS, -1, 0);
	return (p == MAP_FAILED ? NULL : p);
}

/* Zero the buffer by giving its pages back. */
static void
gsm_multi_clear(struct gsm *g)
{
	if (madvise(g->multi, g->multi_len, MADV_DONTNEED) == -1)
		memset(g->multi, 0, sizeof(*g->multi));
}

/*
 * libGammu hides the modem's descriptor, yet the worker must wait on
 * the modem and the main process at once, with no fixed sleep: it is
 * the one descriptor open on the device's character node. -1 when
 * there is none (a Bluetooth address) or more than one.
 */
static int
gsm_find_fd(const char *device)
{
	struct stat	 dev, st;
	struct dirent	*de;
	DIR		*dir;
	int		 fd, found = -1, n = 0;
	char		*end;
	long		 l;

	if (stat(device, &dev) == -1 || !S_ISCHR(dev.st_mode))
		return (-1);
	if ((dir = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((de = readdir(dir)) != NULL) {
		l = strtol(de->d_name, &end, 10);
		if (*end != '\0' || end == de->d_name || l < 0 || l > INT_MAX)
			continue;
		fd = (int)l;
		if (fd == dirfd(dir) || fstat(fd, &st) == -1 ||
		    !S_ISCHR(st.st_mode) || st.st_rdev != dev.st_rdev)
			continue;
		found = fd;
		n++;
	}
	closedir(dir);
	return (n == 1 ? found : -1);
}

/* What worker.c waits on: the modem's descriptor, -1 if unknown. */
int
gsm_fd(const struct gsm *g)
{
	return (g->fd);
}

/* Notifications recorded inside a call and not acted on yet. */
int
gsm_pending(const struct gsm *g)
{
	return (g->nevents > 0);
}

/* One identity query under the watchdog; only a dead modem matters. */
static enum gsm_rc
gsm_ask(struct gsm *g, GSM_Error (*fn)(GSM_StateMachine *, char *),
    const char *what, char *buf)
{
	GSM_Error	 err;

	buf[0] = '\0';
	gsm_arm(g, GSM_WD_QUICK);
	err = fn(g->sm, buf);
	gsm_disarm();
	if (err == ERR_NONE)
		return (GSM_OK);
	buf[0] = '\0';
	if (gsm_rc_of(err) == GSM_DEAD)
		return (gsm_fail(what, err, NULL));
	log_debug("%s: %s", what, GSM_ErrorString(err));
	return (GSM_OK);
}

/* An identity string from what the modem tells: best effort. */
static enum gsm_rc
gsm_identify(struct gsm *g, char *ident, size_t identsz)
{
	char	 manuf[GSM_MAX_MANUFACTURER_LENGTH + 1];
	char	 model[GSM_MAX_MODEL_LENGTH + 1];
	char	 imei[GSM_MAX_IMEI_LENGTH + 1];
	char	 imsi[GSM_MAX_INFO_LENGTH + 1];

	if (gsm_ask(g, GSM_GetManufacturer, "manufacturer", manuf) ==
	    GSM_DEAD || gsm_ask(g, GSM_GetModel, "model", model) ==
	    GSM_DEAD || gsm_ask(g, GSM_GetIMEI, "IMEI", imei) == GSM_DEAD ||
	    gsm_ask(g, GSM_GetSIMIMSI, "IMSI", imsi) == GSM_DEAD)
		return (GSM_DEAD);
	snprintf(ident, identsz, "%s %s IMEI %s IMSI %s",
	    manuf[0] != '\0' ? manuf : "?", model[0] != '\0' ? model : "?",
	    imei[0] != '\0' ? imei : "?", imsi[0] != '\0' ? imsi : "?");
	return (GSM_OK);
}

/*
 * Open the device and bring the modem up: config without a gammurc
 * (defaults first, else CNMI is never sent), init, callbacks (init
 * resets them), +CMTI on, the SMSC once, who the modem is.
 */
struct gsm *
gsm_open(const struct gsm_conf *conf, const struct gsm_hooks *hooks,
    char *why, size_t whysz, char *ident, size_t identsz)
{
	struct gsm	*g;
	GSM_Config	*cfg;
	GSM_Error	 err;
	char		 num[(GSM_MAX_NUMBER_LENGTH + 1) * 4];

	why[0] = ident[0] = '\0';
	if ((g = calloc(1, sizeof(*g))) == NULL ||
	    (g->multi = gsm_multi_map(&g->multi_len)) == NULL) {
		snprintf(why, whysz, "out of memory");
		if (g != NULL)
			free(g);
		return (NULL);
	}
	TAILQ_INIT(&g->events);
	g->hooks = *hooks;
	g->fd = -1;
	g->pauses = conf->pauses;
	g->ref = (getpid() ^ time(NULL)) & 0xff;
	if ((g->sm = GSM_AllocStateMachine()) == NULL) {
		snprintf(why, whysz, "cannot allocate a state machine");
		gsm_close(g);
		return (NULL);
	}
	cfg = GSM_GetConfig(g->sm, 0);
	err = GSM_ReadConfig(NULL, cfg, 0);
	if (err != ERR_USING_DEFAULTS && err != ERR_NONE)
		log_debug("GSM_ReadConfig: %s", GSM_ErrorString(err));
	/* libGammu frees these three: heap strings only. */
	free(cfg->Device);
	free(cfg->Connection);
	free(cfg->DebugFile);
	cfg->Device = gsm_strdup(conf->device);
	cfg->Connection = gsm_strdup(conf->connection);
	cfg->DebugFile = gsm_strdup(conf->debuglog != NULL ?
	    conf->debuglog : "");
	if (cfg->Device == NULL || cfg->Connection == NULL ||
	    cfg->DebugFile == NULL) {
		snprintf(why, whysz, "out of memory");
		gsm_close(g);
		return (NULL);
	}
	snprintf(cfg->DebugLevel, sizeof(cfg->DebugLevel), "%s",
	    conf->debuglog != NULL ? "textalldate" : "");
	cfg->UseGlobalDebugFile = FALSE;
	cfg->StartInfo = FALSE;
	cfg->SyncTime = FALSE;
	snprintf(cfg->Model, sizeof(cfg->Model), "at");
	GSM_SetConfigNum(g->sm, 1);

	gsm_arm(g, GSM_WD_INIT);
	err = GSM_InitConnection(g->sm, 1);
	gsm_disarm();
	if (err != ERR_NONE) {
		gsm_fail("connecting", err, NULL);
		snprintf(why, whysz, "connect %s: %s", conf->device,
		    err == ERR_ABORTED && gsm_watch_fired ?
		    "no answer (watchdog)" : GSM_ErrorString(err));
		gsm_close(g);
		return (NULL);
	}
	g->hooks.tick(g->hooks.arg);
	if ((g->fd = gsm_find_fd(conf->device)) == -1)
		log_warnx("the descriptor of %s is not known: the worker "
		    "looks at the modem every %d ms", conf->device,
		    GSM_LOOK_MS);
	GSM_SetIncomingSMSCallback(g->sm, gsm_cb_sms, g);
	GSM_SetSendSMSStatusCallback(g->sm, gsm_cb_send, g);
	GSM_SetIncomingUSSDCallback(g->sm, gsm_cb_ussd, g);

	gsm_arm(g, GSM_WD_INIT);
	err = GSM_SetIncomingSMS(g->sm, TRUE);
	gsm_disarm();
	if (err != ERR_NONE) {
		if (gsm_fail("enabling +CMTI", err, NULL) == GSM_DEAD) {
			snprintf(why, whysz, "enabling +CMTI: %s",
			    GSM_ErrorString(err));
			gsm_close(g);
			return (NULL);
		}
		log_warnx("no +CMTI notifications: messages are found "
		    "by sweeps only");
	}

	g->hooks.tick(g->hooks.arg);
	memset(&g->smsc, 0, sizeof(g->smsc));
	g->smsc.Location = 1;
	gsm_arm(g, GSM_WD_QUICK);
	err = GSM_GetSMSC(g->sm, &g->smsc);
	gsm_disarm();
	if (err == ERR_NONE && UnicodeLength(g->smsc.Number) > 0) {
		g->have_smsc = 1;
		gsm_ucs2_to_utf8(g->smsc.Number, sizeof(g->smsc.Number) / 2, 0,
		    num, sizeof(num));
		log_info("SMSC %s", num);
	} else if (err != ERR_NONE &&
	    gsm_fail("reading the SMSC", err, NULL) == GSM_DEAD) {
		snprintf(why, whysz, "reading the SMSC: %s",
		    GSM_ErrorString(err));
		gsm_close(g);
		return (NULL);
	} else
		log_warnx("no SMSC known: each send asks the modem");

	g->hooks.tick(g->hooks.arg);
	if (gsm_identify(g, ident, identsz) == GSM_DEAD) {
		snprintf(why, whysz, "identify: no answer");
		gsm_close(g);
		return (NULL);
	}
	return (g);
}

/* Emit one message libGammu read at a location. */
static void
gsm_emit_read(struct gsm *g, const GSM_SMSMessage *sms)
{
	struct wire_msg	 m;

	if (gsm_to_wire(sms, sms->Location, &m) == 0)
		g->hooks.emit(g->hooks.arg, &m);
	else
		log_debug("location %d holds a message that is not "
		    "incoming (PDU type %d): left alone", sms->Location,
		    (int)sms->PDU);
}

/* A location whose message cannot be decoded goes up raw, or stays. */
static void
gsm_emit_raw(struct gsm *g, int location)
{
	struct wire_msg	 m;

	if (gsm_raw_take(location, &m) == -1) {
		log_warnx("location %d holds a message libGammu cannot "
		    "decode; left on the SIM", location);
		return;
	}
	log_warnx("location %d holds a message that cannot be decoded "
	    "(%s): handed up raw", location, m.info);
	g->hooks.emit(g->hooks.arg, &m);
}

/* Read one location (AT+CMGR) into g->multi; ERR_EMPTY passes through. */
static GSM_Error
gsm_get(struct gsm *g, int location, int folder, GSM_MemoryType memory)
{
	GSM_Error	 err;

	memset(&g->multi->SMS[0], 0, sizeof(g->multi->SMS[0]));
	g->multi->Number = 0;
	g->multi->SMS[0].Location = location;
	g->multi->SMS[0].Folder = folder;
	g->multi->SMS[0].Memory = memory;
	gsm_arm(g, GSM_WD_READ);
	gsm_raw_forget();
	gsm_reading = 1;
	err = GSM_GetSMS(g->sm, g->multi);
	gsm_reading = 0;
	gsm_disarm();
	return (err);
}

/* Act on what the callbacks recorded: read each notified location. */
static enum gsm_rc
gsm_events(struct gsm *g)
{
	struct gsm_event	*ev;
	GSM_Error		 err;
	enum gsm_rc		 rc = GSM_OK;
	int			 i, used = 0;
	char			 what[64];

	if (g->dropped > 0) {
		log_warnx("%d notifications dropped (queue full or out "
		    "of memory); the next sweep finds stored messages",
		    g->dropped);
		g->dropped = 0;
	}
	gsm_flush_direct(g);
	while (rc == GSM_OK && (ev = TAILQ_FIRST(&g->events)) != NULL) {
		TAILQ_REMOVE(&g->events, ev, entry);
		g->nevents--;
		log_debug("notified: location %d (folder %d)",
		    ev->location, ev->folder);
		err = gsm_get(g, ev->location, ev->folder, ev->memory);
		used = 1;
		if (err == ERR_EMPTY)
			log_info("notified location %d is empty",
			    ev->location);
		else if (err == ERR_CORRUPTED)
			gsm_emit_raw(g, ev->location);
		else if (err != ERR_NONE) {
			snprintf(what, sizeof(what), "reading location %d",
			    ev->location);
			rc = gsm_fail(what, err, NULL);
		} else
			for (i = 0; i < g->multi->Number; i++)
				gsm_emit_read(g, &g->multi->SMS[i]);
		gsm_free_event(ev);
		g->hooks.tick(g->hooks.arg);
	}
	if (used)
		gsm_multi_clear(g);
	return (rc);
}

/*
 * Pump unsolicited lines (+CMTI, +CDSI, ...) and act on them; the
 * device is read only when worker.c saw it readable (or cannot know),
 * as GSM_ReadDevice waits 50 ms in select when nothing came.
 * GSM_ReadDevice returns 0 both when nothing came and at end of file
 * (a hung-up tty is readable at once and reads 0): a 0 that comes back
 * at once is EOF.
 */
enum gsm_rc
gsm_poll(struct gsm *g, int readable)
{
	long long	 t0;
	int		 n;

	if (!readable && g->fd != -1)
		return (gsm_events(g));
	t0 = gsm_now_ms();
	n = GSM_ReadDevice(g->sm, FALSE);
	if (n < 0) {
		if (!GSM_IsConnected(g->sm) ||
		    ++g->readerr >= GSM_READ_ERRORS_MAX) {
			gsm_why("reading the device failed %d times",
			    g->readerr);
			return (GSM_DEAD);
		}
	} else if (n == 0 && gsm_now_ms() - t0 < GSM_EOF_MS) {
		if (++g->eofs >= GSM_READ_ERRORS_MAX) {
			gsm_why("the device hung up (end of file)");
			return (GSM_DEAD);
		}
	} else
		g->readerr = g->eofs = 0;
	return (gsm_events(g));
}

/* Drop notifications of locations a sweep has just read. */
static void
gsm_prune(struct gsm *g, const int *locs, int nlocs)
{
	struct gsm_event	*ev, *next;
	int			 i;

	for (ev = TAILQ_FIRST(&g->events); ev != NULL; ev = next) {
		next = TAILQ_NEXT(ev, entry);
		if (ev->kind != GSM_EV_LOCATION)
			continue;
		for (i = 0; i < nlocs; i++)
			if (locs[i] == ev->location)
				break;
		if (i == nlocs)
			continue;
		TAILQ_REMOVE(&g->events, ev, entry);
		g->nevents--;
		gsm_free_event(ev);
	}
}

/* A sweep's messages, held to be handed up oldest first. */
struct gsm_sweepbuf {
	struct wire_msg	*v;
	size_t		 n;
	size_t		 cap;
};

/* Room for one more message in the sweep's buffer, or NULL. */
static struct wire_msg *
gsm_sweep_slot(struct gsm_sweepbuf *sw, int location)
{
	struct wire_msg	*nv;

	if (sw->n == sw->cap) {
		sw->cap = sw->cap ? sw->cap * 2 : 32;
		if ((nv = reallocarray(sw->v, sw->cap, sizeof(*nv))) == NULL) {
			sw->cap = sw->n;
			log_warnx("out of memory in a sweep; location %d "
			    "waits for the next one", location);
			return (NULL);
		}
		sw->v = nv;
	}
	return (&sw->v[sw->n]);
}

static void
gsm_sweep_keep(struct gsm_sweepbuf *sw, const GSM_SMSMessage *sms)
{
	struct wire_msg	*m;

	if ((m = gsm_sweep_slot(sw, sms->Location)) == NULL)
		return;
	if (gsm_to_wire(sms, sms->Location, m) == 0)
		sw->n++;
	else
		log_debug("location %d holds a message that is not "
		    "incoming (PDU type %d): left alone", sms->Location,
		    (int)sms->PDU);
}

static void
gsm_sweep_add(struct gsm_sweepbuf *sw, const struct wire_msg *raw)
{
	struct wire_msg	*m;

	if ((m = gsm_sweep_slot(sw, raw->location)) == NULL)
		return;
	*m = *raw;
	sw->n++;
}

/* The locations a sweep read, for gsm_prune. */
static void
gsm_locs_add(int **locs, int *nlocs, int *cap, int location)
{
	int	*nl;

	if (*nlocs == *cap) {
		if ((nl = reallocarray(*locs, *cap == 0 ? 64 : *cap * 2,
		    sizeof(**locs))) == NULL)
			return;
		*locs = nl;
		*cap = *cap == 0 ? 64 : *cap * 2;
	}
	(*locs)[(*nlocs)++] = location;
}

/* SMSC time first: slot order is not arrival order once slots are reused. */
static int
gsm_sweep_cmp(const void *a, const void *b)
{
	const struct wire_msg	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->time, y->time)) != 0)
		return (c);
	return (x->location < y->location ? -1 : x->location > y->location);
}

static void
gsm_sweep_emit(struct gsm *g, struct gsm_sweepbuf *sw)
{
	size_t	 i;

	if (sw->n > 1)
		qsort(sw->v, sw->n, sizeof(*sw->v), gsm_sweep_cmp);
	for (i = 0; i < sw->n; i++)
		g->hooks.emit(g->hooks.arg, &sw->v[i]);
	free(sw->v);
}

/*
 * Read every message in the storage (AT+CMGL through GetNextSMS) and
 * emit each; *count says how many. The tick between messages keeps
 * the heartbeat going through a long sweep.
 */
enum gsm_rc
gsm_sweep(struct gsm *g, int *count)
{
	GSM_Error	 err;
	int		 start = 1, i, *locs = NULL, nlocs = 0, cap = 0;
	int		 last_bad = -1;
	enum gsm_rc	 rc = GSM_OK;
	struct gsm_sweepbuf sw = { NULL, 0, 0 };
	struct wire_msg	 raw;

	*count = 0;
	gsm_multi_clear(g);
	for (;;) {
		g->multi->SMS[0].Folder = 0;
		gsm_arm(g, GSM_WD_READ);
		gsm_raw_forget();
		gsm_reading = 1;
		err = GSM_GetNextSMS(g->sm, g->multi, start ? TRUE : FALSE);
		gsm_reading = 0;
		gsm_disarm();
		start = 0;
		if (err == ERR_EMPTY)
			break;
		if (err == ERR_CORRUPTED) {
			/* GetNextSMS moves past it; if not, stop here. */
			if (g->multi->SMS[0].Location == last_bad)
				break;
			last_bad = g->multi->SMS[0].Location;
			if (gsm_raw_take(last_bad, &raw) == -1) {
				log_warnx("location %d holds a message "
				    "libGammu cannot decode; left on the SIM",
				    last_bad);
				continue;
			}
			log_warnx("location %d holds a message that cannot "
			    "be decoded (%s): handed up raw", last_bad,
			    raw.info);
			gsm_sweep_add(&sw, &raw);
			(*count)++;
			gsm_locs_add(&locs, &nlocs, &cap, last_bad);
			continue;
		}
		if (err != ERR_NONE) {
			rc = gsm_fail("sweeping the SIM", err, NULL);
			break;
		}
		for (i = 0; i < g->multi->Number; i++) {
			gsm_sweep_keep(&sw, &g->multi->SMS[i]);
			(*count)++;
			gsm_locs_add(&locs, &nlocs, &cap,
			    g->multi->SMS[i].Location);
		}
		g->hooks.tick(g->hooks.arg);
	}
	gsm_multi_clear(g);
	gsm_sweep_emit(g, &sw);
	gsm_prune(g, locs, nlocs);
	free(locs);
	return (rc);
}

/* What is at one location: m->type WIRE_NONE when empty or outgoing. */
enum gsm_rc
gsm_read(struct gsm *g, int location, struct wire_msg *m,
    struct gsm_result *res)
{
	GSM_Error	 err;
	char		 what[64];

	memset(m, 0, sizeof(*m));
	memset(res, 0, sizeof(*res));
	err = gsm_get(g, location, 0, 0);
	if (err == ERR_EMPTY)
		return (GSM_OK);
	if (err == ERR_CORRUPTED && gsm_raw_take(location, m) == 0) {
		gsm_multi_clear(g);
		return (GSM_OK);
	}
	if (err != ERR_NONE) {
		snprintf(what, sizeof(what), "reading location %d", location);
		return (gsm_fail(what, err, res));
	}
	if (g->multi->Number < 1 ||
	    gsm_to_wire(&g->multi->SMS[0], g->multi->SMS[0].Location, m) == -1)
		memset(m, 0, sizeof(*m));
	gsm_multi_clear(g);
	return (GSM_OK);
}

/* AT+CMGD; an empty location counts as deleted. */
enum gsm_rc
gsm_delete(struct gsm *g, int location, struct gsm_result *res)
{
	GSM_SMSMessage	*sms;
	GSM_Error	 err;
	struct wire_msg	 gone;
	char		 what[64];

	memset(res, 0, sizeof(*res));
	if ((sms = calloc(1, sizeof(*sms))) == NULL) {
		res->code = ERR_MOREMEMORY;
		gsm_why("deleting location %d: out of memory", location);
		snprintf(res->text, sizeof(res->text), "%s", gsm_reason());
		return (GSM_ERROR);
	}
	sms->Location = location;
	sms->Folder = 0;
	gsm_arm(g, GSM_WD_READ);
	gsm_reading = 1;		/* it reads the location first */
	err = GSM_DeleteSMS(g->sm, sms);
	gsm_reading = 0;
	gsm_disarm();
	free(sms);
	(void)gsm_raw_take(location, &gone);
	if (err == ERR_EMPTY) {
		log_info("location %d already empty", location);
		return (GSM_OK);
	}
	if (err != ERR_NONE) {
		snprintf(what, sizeof(what), "deleting location %d", location);
		return (gsm_fail(what, err, res));
	}
	return (GSM_OK);
}

/* Split a text into SUBMIT parts: 7-bit when it fits, else UCS-2. */
static int
gsm_encode(struct gsm *g, const char *text)
{
	GSM_MultiPartSMSInfo	 info;
	unsigned char		*ucs;
	size_t			 usz = (strlen(text) + 2) * 4;
	GSM_Error		 err;
	int			 i;

	if ((ucs = calloc(1, usz)) == NULL)
		return (-1);
	if (gsm_utf8_to_ucs2(text, ucs, usz) == -1) {
		free(ucs);
		return (-1);
	}
	GSM_ClearMultiPartSMSInfo(&info);
	info.EntriesNum = 1;
	info.Entries[0].ID = SMS_ConcatenatedAutoTextLong;
	info.Entries[0].Buffer = ucs;
	info.Class = -1;
	gsm_multi_clear(g);
	err = GSM_EncodeMultiPartSMS(GSM_GetDebug(g->sm), &info, g->multi);
	free(ucs);
	if (err != ERR_NONE || g->multi->Number < 1)
		return (-1);
	/* libGammu's reference comes from the clock: use our own. */
	if (g->multi->Number > 1) {
		g->ref = (g->ref + 1) & 0xff;
		for (i = 0; i < g->multi->Number; i++) {
			if (g->multi->SMS[i].UDH.Type !=
			    UDH_ConcatenatedMessages)
				continue;
			g->multi->SMS[i].UDH.ID8bit = g->ref;
			GSM_EncodeUDHHeader(GSM_GetDebug(g->sm),
			    &g->multi->SMS[i].UDH);
		}
	}
	return (g->multi->Number);
}

/*
 * Read the modem until a callback sets *fired, the deadline (ms) passes,
 * the device is gone or the watchdog fires; the worker's tick between
 * reads keeps its heartbeat going.
 */
static void
gsm_wait_fired(struct gsm *g, const int *fired, long long deadline)
{
	while (!*fired && gsm_now_ms() < deadline) {
		if (GSM_ReadDevice(g->sm, TRUE) < 0 &&
		    !GSM_IsConnected(g->sm))
			break;
		if (gsm_watch_fired)
			break;
		g->hooks.tick(g->hooks.arg);
	}
}

/*
 * Send one part and wait for the network's answer through the
 * send-status callback: GSM_SendSMS returns before it comes.
 */
static enum gsm_rc
gsm_send_part(struct gsm *g, GSM_SMSMessage *sms, const char *what,
    struct gsm_result *res)
{
	GSM_Error	 err;

	g->send_fired = 0;
	g->send_status = -1;
	g->send_ref = -1;
	gsm_skipped_us = 0;
	gsm_skipped_n = 0;
	gsm_skipping = !g->pauses;
	gsm_arm(g, GSM_WD_SEND);
	err = GSM_SendSMS(g->sm, sms);
	gsm_disarm();
	gsm_skipping = 0;
	if (gsm_skipped_n > 0)
		log_debug("%s: %d of libGammu's pauses skipped (%lu ms)", what,
		    gsm_skipped_n, gsm_skipped_us / 1000);
	if (err != ERR_NONE) {
		/* A callback that came with the error carries the CMS code. */
		if (g->send_fired && g->send_status > 0) {
			res->code = g->send_status;
			snprintf(res->text, sizeof(res->text),
			    "%s: +CMS ERROR: %d", what, g->send_status);
			gsm_why("%s", res->text);
			return (GSM_REFUSED);
		}
		return (gsm_fail(what, err, res));
	}
	gsm_arm(g, GSM_SEND_WAIT + 5);
	gsm_wait_fired(g, &g->send_fired, gsm_now_ms() +
	    GSM_SEND_WAIT * 1000LL);
	gsm_disarm();
	if (!g->send_fired) {
		res->code = ERR_TIMEOUT;
		snprintf(res->text, sizeof(res->text),
		    "%s: no answer from the network within %d s", what,
		    GSM_SEND_WAIT);
		gsm_why("%s", res->text);
		return (GSM_DEAD);
	}
	if (g->send_status != 0) {
		if (g->send_status > 0) {
			res->code = g->send_status;
			snprintf(res->text, sizeof(res->text),
			    "%s: +CMS ERROR: %d", what, g->send_status);
			gsm_why("%s", res->text);
			return (GSM_REFUSED);
		}
		res->code = ERR_UNKNOWN;
		snprintf(res->text, sizeof(res->text), "%s: the modem "
		    "answered ERROR", what);
		gsm_why("%s", res->text);
		return (GSM_ERROR);
	}
	if (g->send_ref < 0) {
		/* The prompt never came and the abort was answered OK. */
		res->code = ERR_UNKNOWN;
		snprintf(res->text, sizeof(res->text), "%s: no message "
		    "reference (the modem did not take the PDU)", what);
		gsm_why("%s", res->text);
		return (GSM_ERROR);
	}
	res->msgref = g->send_ref;
	return (GSM_OK);
}

/*
 * Send a text, in as many parts as it needs; msgref is that of the
 * last part. A failed part stops the message.
 */
enum gsm_rc
gsm_send(struct gsm *g, const char *number, const char *text, int report,
    struct gsm_result *res)
{
	GSM_SMSMessage	*sms;
	unsigned char	 num[(GSM_MAX_NUMBER_LENGTH + 1) * 2];
	int		 n, i;
	enum gsm_rc	 rc;
	char		 what[64];

	memset(res, 0, sizeof(*res));
	res->msgref = -1;
	if (number[0] == '\0' || strlen(number) > GSM_MAX_NUMBER_LENGTH ||
	    gsm_utf8_to_ucs2(number, num, sizeof(num)) == -1) {
		res->code = WIRE_CODE_BADREQ;
		snprintf(res->text, sizeof(res->text), "bad number");
		return (GSM_REFUSED);
	}
	if ((n = gsm_encode(g, text)) == -1) {
		gsm_multi_clear(g);
		res->code = WIRE_CODE_BADREQ;
		snprintf(res->text, sizeof(res->text), "cannot encode the "
		    "text");
		return (GSM_REFUSED);
	}
	rc = GSM_OK;
	for (i = 0; i < n && rc == GSM_OK; i++) {
		sms = &g->multi->SMS[i];
		memcpy(sms->Number, num, sizeof(sms->Number));
		if (g->have_smsc) {
			sms->SMSC = g->smsc;
			sms->SMSC.Location = 0;
		} else {
			memset(&sms->SMSC, 0, sizeof(sms->SMSC));
			sms->SMSC.Location = 1;
		}
		/* libGammu: a SUBMIT asking for a report is typed so. */
		sms->PDU = report ? SMS_Status_Report : SMS_Submit;
		if (n > 1)
			snprintf(what, sizeof(what), "sending part %d/%d",
			    i + 1, n);
		else
			snprintf(what, sizeof(what), "sending");
		if ((rc = gsm_send_part(g, sms, what, res)) == GSM_OK)
			log_debug("%s: message reference %d", what,
			    res->msgref);
	}
	gsm_multi_clear(g);
	return (rc);
}

/* The USSD answers that are the network's refusal; any other is text. */
static const struct {
	GSM_USSDStatus	 status;
	GSM_Error	 code;
	const char	*text;
} gsm_ussd_refusals[] = {
	{ USSD_NotSupported, ERR_NETWORK_ERROR, "USSD code not supported" },
	{ USSD_Timeout, ERR_TIMEOUT, "USSD session timed out" },
	{ USSD_AnotherClient, ERR_BUSY, "USSD answered to another client" },
};

/* Dial a USSD code and wait for the network's answer. */
enum gsm_rc
gsm_ussd(struct gsm *g, const char *code, struct gsm_result *res)
{
	GSM_Error	 err;
	char		 dial[GSM_MAX_USSD_LENGTH + 1];
	long long	 deadline;
	enum gsm_rc	 rc;
	size_t		 i;

	memset(res, 0, sizeof(*res));
	if (code[0] == '\0' || strlen(code) >= sizeof(dial) ||
	    strspn(code, "0123456789*#+") != strlen(code)) {
		res->code = WIRE_CODE_BADREQ;
		snprintf(res->text, sizeof(res->text), "bad USSD code");
		return (GSM_REFUSED);
	}
	snprintf(dial, sizeof(dial), "%s", code);
	gsm_arm(g, GSM_WD_QUICK);
	err = GSM_SetIncomingUSSD(g->sm, TRUE);
	gsm_disarm();
	if (err != ERR_NONE)
		return (gsm_fail("enabling USSD", err, res));
	g->ussd_fired = 0;
	g->ussd_text[0] = '\0';
	deadline = gsm_now_ms() + GSM_USSD_WAIT * 1000LL;
	gsm_arm(g, GSM_USSD_WAIT + 5);
	err = GSM_DialService(g->sm, dial);
	if (err != ERR_NONE && !g->ussd_fired) {
		gsm_disarm();
		return (gsm_fail("dialling USSD", err, res));
	}
	gsm_wait_fired(g, &g->ussd_fired, deadline);
	gsm_disarm();
	if (gsm_watch_fired)
		return (gsm_fail("USSD", ERR_ABORTED, res));
	if (!g->ussd_fired) {
		res->code = ERR_TIMEOUT;
		snprintf(res->text, sizeof(res->text), "no USSD answer "
		    "within %d s", GSM_USSD_WAIT);
		gsm_why("%s", res->text);
		return (GSM_ERROR);
	}
	rc = GSM_OK;
	snprintf(res->text, sizeof(res->text), "%s", g->ussd_text);
	for (i = 0; i < sizeof(gsm_ussd_refusals) /
	    sizeof(gsm_ussd_refusals[0]); i++)
		if (gsm_ussd_refusals[i].status == g->ussd_status) {
			res->code = gsm_ussd_refusals[i].code;
			snprintf(res->text, sizeof(res->text), "network: %s",
			    gsm_ussd_refusals[i].text);
			rc = GSM_REFUSED;
			break;
		}
	/* A menu waiting for input would hold the session: close it. */
	if (g->ussd_status == USSD_ActionNeeded) {
		gsm_arm(g, GSM_WD_QUICK);
		err = GSM_SetIncomingUSSD(g->sm, FALSE);
		gsm_disarm();
		if (err != ERR_NONE && gsm_fail("closing the USSD session",
		    err, NULL) == GSM_DEAD)
			return (GSM_DEAD);
	}
	return (rc);
}

/* libGammu's network state as a 27.007 CREG stat. */
static int
gsm_creg(GSM_NetworkInfo_State st)
{
	switch (st) {
	case GSM_HomeNetwork:
		return (1);
	case GSM_NoNetwork:
		return (0);
	case GSM_RequestingNetwork:
		return (2);
	case GSM_RegistrationDenied:
		return (3);
	case GSM_RoamingNetwork:
		return (5);
	case GSM_NetworkStatusUnknown:
	default:
		return (4);
	}
}

/*
 * Signal, registration, operator, SIM use. Fields that could not be
 * read stay unknown (0, reg 4); the worst outcome is returned.
 */
enum gsm_rc
gsm_health(struct gsm *g, struct wire_msg *m)
{
	GSM_SignalQuality	 sq;
	GSM_NetworkInfo		 ni;
	GSM_SMSMemoryStatus	 ms;
	GSM_Error		 err;
	enum gsm_rc		 rc = GSM_OK, r;
	char			 name[64], code[sizeof(ni.NetworkCode) + 1];
	const unsigned char	*known;

	memset(m, 0, sizeof(*m));
	m->type = WIRE_HEALTH;
	m->reg = 4;

	memset(&sq, 0, sizeof(sq));
	gsm_arm(g, GSM_WD_QUICK);
	err = GSM_GetSignalQuality(g->sm, &sq);
	gsm_disarm();
	if (err != ERR_NONE) {
		if ((r = gsm_fail("signal quality", err, NULL)) == GSM_DEAD)
			return (r);
		rc = r;
	} else if (sq.SignalStrength != -1 && sq.SignalStrength < 0)
		m->signal = sq.SignalStrength;

	memset(&ni, 0, sizeof(ni));
	gsm_arm(g, GSM_WD_QUICK);
	err = GSM_GetNetworkInfo(g->sm, &ni);
	gsm_disarm();
	if (err != ERR_NONE) {
		if ((r = gsm_fail("network info", err, NULL)) == GSM_DEAD)
			return (r);
		rc = r;
	} else {
		m->reg = gsm_creg(ni.State);
		gsm_ucs2_to_utf8(ni.NetworkName, sizeof(ni.NetworkName) / 2, 0,
		    name, sizeof(name));
		memcpy(code, ni.NetworkCode, sizeof(ni.NetworkCode));
		code[sizeof(ni.NetworkCode)] = '\0';
		if (name[0] == '\0' && code[0] != '\0' &&
		    (known = GSM_GetNetworkName(code)) != NULL)
			gsm_ucs2_to_utf8(known, 64, 0, name, sizeof(name));
		if (name[0] != '\0' && code[0] != '\0')
			snprintf(m->info, sizeof(m->info), "%s (%s)", name,
			    code);
		else
			snprintf(m->info, sizeof(m->info), "%s",
			    name[0] != '\0' ? name : code);
	}

	memset(&ms, 0, sizeof(ms));
	gsm_arm(g, GSM_WD_QUICK);
	err = GSM_GetSMSStatus(g->sm, &ms);
	gsm_disarm();
	if (err != ERR_NONE) {
		if ((r = gsm_fail("SIM storage status", err, NULL)) ==
		    GSM_DEAD)
			return (r);
		rc = r;
	} else {
		m->sim_used = ms.SIMUsed;
		m->sim_total = ms.SIMSize;
	}
	return (rc);
}
