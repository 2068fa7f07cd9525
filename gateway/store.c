/*
 * store: the gateway's durable state, one SQLite database (WAL,
 * synchronous=FULL) owned by the main process. It holds every received
 * message and what verification made of it, the replies owed to
 * senders, the outgoing SMS, the forwards to each central system, and
 * the USSD channel's last screens and half-filled reports.
 * A message, its reply and its forwards are written in one transaction
 * before the SIM copy is deleted (docs/design.md, rule 1).
 *
 * The schema is meant to be read by an operator with sqlite3(1):
 *  - enums are stored by name: kind ('report', 'cek', 'bantu', 'other',
 *    'rate'), verdict ('OK', 'FLAGGED', 'DUPLICATE', 'REJECTED'), auth
 *    ('mac', 'card'), contest ('PPWP', 'DPR', ...), the outbox and
 *    forward states, and reason: the enum name without REASON_
 *    ('CODE_BAD', 'SEQ_USED', ...; see store_reasons below);
 *  - messages carry ISO 8601 UTC text times (received_at, verified_at);
 *    replies, outbox and forwards carry unix seconds;
 *  - an optional text that is empty is stored as NULL, and so is every
 *    "none" value (no verdict, no reason, page -1, supersedes 0);
 *  - a reply's and an SMS's priority is a number, smaller first (enum
 *    out_priority: 0 someone must act, 1 check, 2 a confirmation, 3 an
 *    answer to a number not known to be an officer's).
 */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sqlite3.h>

#include "fmt.h"
#include "gw.h"
#include "log.h"
#include "tally.h"

#define STORE_SCHEMA_VERSION	6
#define STORE_BUSY_MS		5000	/* wait for another writer */
#define STORE_LOCKOUT_REPLAY	86400	/* s of bad codes replayed at start */
#define STORE_TZ_OFFSET		(7 * 3600) /* WIB: day counts reset here */
#define STORE_DAY		86400
#define STORE_VALUES_MAX	(TALLY_MAXVALUES * 4 + 1)
#define STORE_MEMO_MAX		32	/* a TPS's accepted reports kept */
#define STORE_SUBJOURNAL_MEM	(8 * 1024 * 1024) /* bytes in memory */
#define STORE_STR_(x)		#x
#define STORE_STR(x)		STORE_STR_(x)

/* Every statement the store runs, prepared once in store_open. */
enum store_st {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_SAVEPOINT,
	ST_RELEASE,
	ST_ROLLBACK_TO,
	ST_ITEM_SAVEPOINT,
	ST_ITEM_RELEASE,
	ST_ITEM_ROLLBACK_TO,
	ST_MSG_ADD,
	ST_MSG_GET,
	ST_SENDER_KNOWN,
	ST_HIST_SEQ,
	ST_HIST_LATEST,
	ST_HIST_TPS,
	ST_HIST_ROW,
	ST_LOCKOUT,
	ST_TPS_LATEST,
	ST_REPLY_ADD,
	ST_REPLY_PENDING,
	ST_REPLY_DESTS,
	ST_REPLY_ASSIGN,
	ST_OUT_ADD,
	ST_OUT_GET,
	ST_OUT_DUE,
	ST_OUT_SET,
	ST_OUT_MSGREF,
	ST_OUT_TODAY,
	ST_OUT_REQUEUE,
	ST_MSG_REPLIES,
	ST_MSG_FORWARDS,
	ST_FWD_ADD,
	ST_FWD_DUE,
	ST_FWD_SET,
	ST_FWD_REQUEUE,
	ST_COUNT_MSGS,
	ST_COUNT_ALL,
	ST_COUNT_OUT,
	ST_COUNT_FWD,
	ST_SLOT_ADD,
	ST_SLOT_DONE,
	ST_SLOT_GET,
	/* the USSD channel's rows (schema version 3) */
	ST_USSD_END_ADD,
	ST_USSD_END_GET,
	ST_USSD_END_EXPIRE,
	ST_USSD_KEEP,
	ST_USSD_KEPT_GET,
	ST_USSD_KEPT_DEL,
	ST_USSD_KEPT_EXPIRE,
	ST_MAX
};

/* An accepted report of the TPS whose history was read last. */
struct store_memo {
	int64_t			 id;
	unsigned		 seq;
	enum contest		 contest;	/* CONTEST_NONE: no name */
	int			 page;		/* -1: none */
};

struct store {
	sqlite3			*db;
	sqlite3_stmt		*st[ST_MAX];
	struct verify_history	 hist;
	/*
	 * The accepted reports of one TPS (id, SEQ, contest, page), read
	 * by store_hist_by_seq, so that the SEQ rule's other question
	 * (store_hist_latest, for the same report) needs no second seek
	 * in messages_page. Good while SQLite counts no change since
	 * (memo_changes) and nothing was rolled back (memo_live).
	 */
	int			 memo_live;
	sqlite3_int64		 memo_changes;
	uint64_t		 memo_tps;
	size_t			 memo_n;
	struct store_memo	 memo[STORE_MEMO_MAX];
};

/*
 * The CHECK constraints of the columns that hold an enum by name, as
 * chains of `=' (schema version 5). SQLite evaluates `x IN (a, b, c)'
 * of more than two values by building an ephemeral table of the list,
 * once for every row written: three a report (messages.kind and
 * verdict, forwards.state), a fifth of the instructions of the receive
 * stage. The chains accept the same values; NULL passes both forms.
 */
#define STORE_KIND_CHECK						\
	"kind = 'report' OR kind = 'cek' OR kind = 'bantu'"		\
	" OR kind = 'other' OR kind = 'rate'"
#define STORE_VERDICT_CHECK						\
	"verdict = 'OK' OR verdict = 'FLAGGED' OR verdict = 'DUPLICATE'"\
	" OR verdict = 'REJECTED'"
#define STORE_OUT_CHECK							\
	"state = 'queued' OR state = 'sending' OR state = 'sent'"	\
	" OR state = 'delivered' OR state = 'failed'"
#define STORE_FWD_CHECK							\
	"state = 'pending' OR state = 'sending' OR state = 'acked'"	\
	" OR state = 'retry_wait' OR state = 'failed'"

/*
 * The rows messages_kind holds (schema version 6): every message but
 * the OK reports, most of a night's rows, which /status counts as all
 * messages less these (ST_COUNT_MSGS, ST_COUNT_ALL).
 */
#define STORE_NOT_OK	"(kind != 'report' OR verdict IS NOT 'OK')"
#define STORE_NOT_OK_M	"(m.kind != 'report' OR m.verdict IS NOT 'OK')"
#define STORE_IDX_KIND							\
	"CREATE INDEX messages_kind ON messages (kind, verdict)"	\
	" WHERE " STORE_NOT_OK ";"
#define STORE_IDX_OUT							\
	"CREATE INDEX replies_out ON replies (out_id)"			\
	" WHERE out_id IS NOT NULL;"

static const char store_schema_sql[] =
	"CREATE TABLE messages ("
	" id INTEGER PRIMARY KEY,"
	" modem TEXT NOT NULL,"
	" modem_number TEXT NOT NULL,"
	" sender TEXT NOT NULL,"
	" smsc_time TEXT NOT NULL,"
	" received_at TEXT NOT NULL,"
	" verified_at TEXT,"
	" parts INTEGER NOT NULL,"
	" raw TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (" STORE_KIND_CHECK "),"
	" verdict TEXT CHECK (" STORE_VERDICT_CHECK "),"
	" reason TEXT,"
	" flags INTEGER NOT NULL DEFAULT 0,"
	" auth TEXT CHECK (auth IN ('mac', 'card')),"
	" decoded INTEGER NOT NULL DEFAULT 0,"
	" tps INTEGER,"
	" contest TEXT,"
	" page INTEGER,"
	" seq INTEGER,"
	" nvalues INTEGER,"
	" values_text TEXT,"
	" canonical TEXT,"
	" code TEXT,"
	" receipt TEXT,"
	" supersedes INTEGER,"
	" detail TEXT"
	");"
	"CREATE INDEX messages_page ON messages (tps, contest, page, seq)"
	" WHERE verdict IN ('OK', 'FLAGGED');"
	"CREATE INDEX messages_seen ON messages (sender, smsc_time);"
	"CREATE INDEX messages_code_bad ON messages (received_at)"
	" WHERE reason = 'CODE_BAD';"
	STORE_IDX_KIND
	"CREATE TABLE outbox ("
	" id INTEGER PRIMARY KEY,"
	" dest TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" modem TEXT,"
	" prefer TEXT,"
	" state TEXT NOT NULL CHECK (" STORE_OUT_CHECK "),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" msgref INTEGER NOT NULL DEFAULT -1,"
	" next_at INTEGER NOT NULL DEFAULT 0,"
	" error TEXT,"
	" created INTEGER NOT NULL,"
	" sent_at INTEGER,"
	" delivered_at INTEGER"
	");"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	"CREATE INDEX outbox_msgref ON outbox (modem, msgref);"
	"CREATE INDEX outbox_sent ON outbox (modem, sent_at);"
	"CREATE TABLE replies ("
	" id INTEGER PRIMARY KEY,"
	" msg_id INTEGER REFERENCES messages (id),"
	" dest TEXT NOT NULL,"
	" modem TEXT,"
	" text TEXT NOT NULL,"
	" brief TEXT NOT NULL DEFAULT '',"
	" out_id INTEGER REFERENCES outbox (id),"
	" created INTEGER NOT NULL"
	");"
	"CREATE INDEX replies_pending ON replies (dest, id)"
	" WHERE out_id IS NULL;"
	"CREATE INDEX replies_msg ON replies (msg_id);"
	STORE_IDX_OUT
	"CREATE TABLE forwards ("
	" id INTEGER PRIMARY KEY,"
	" msg_id INTEGER NOT NULL REFERENCES messages (id),"
	" central TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (" STORE_FWD_CHECK "),"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" next_at INTEGER NOT NULL DEFAULT 0,"
	" http_status INTEGER,"
	" error TEXT,"
	" updated INTEGER NOT NULL,"
	" UNIQUE (msg_id, central)"
	");"
	"CREATE INDEX forwards_failed ON forwards (central)"
	" WHERE state = 'failed';"
	"CREATE TABLE sim_slots ("
	" modem TEXT NOT NULL,"
	" location INTEGER NOT NULL,"
	" msg_id INTEGER NOT NULL REFERENCES messages (id),"
	" part_time TEXT NOT NULL DEFAULT '',"
	" PRIMARY KEY (modem, location)"
	");";

/* Version 1 to 2: each SIM slot keeps the SMSC time of its own part. */
static const char store_schema_v2_sql[] =
	"ALTER TABLE sim_slots ADD COLUMN part_time TEXT NOT NULL DEFAULT '';";

/*
 * Version 2 to 3 (and part of a new store): the USSD channel's rows,
 * so that a restart neither answers a retried final request "session
 * over" nor forgets a half-filled report. ussd_ends: the last screen of
 * a session whose report was committed (written in its transaction);
 * ussd_kept: a number's half-filled report (what was typed; the step by
 * menu.c's name, the contest by name). Both carry when they expire.
 */
static const char store_schema_v3_sql[] =
	"CREATE TABLE ussd_ends ("
	" session TEXT PRIMARY KEY,"
	" phone TEXT NOT NULL,"
	" request TEXT NOT NULL,"
	" msg_id INTEGER NOT NULL REFERENCES messages (id),"
	" answer TEXT NOT NULL,"
	" ended INTEGER NOT NULL,"
	" expires INTEGER NOT NULL"
	");"
	"CREATE INDEX ussd_ends_expires ON ussd_ends (expires);"
	"CREATE TABLE ussd_kept ("
	" phone TEXT PRIMARY KEY,"
	" session TEXT NOT NULL,"
	" step TEXT NOT NULL,"
	" contest TEXT NOT NULL,"
	" tps INTEGER NOT NULL,"
	" page INTEGER,"
	" nvalues INTEGER NOT NULL,"
	" values_text TEXT NOT NULL,"
	" seq INTEGER,"
	" code TEXT,"
	" review INTEGER NOT NULL DEFAULT 0,"
	" kept_at INTEGER NOT NULL,"
	" expires INTEGER NOT NULL"
	");"
	"CREATE INDEX ussd_kept_expires ON ussd_kept (expires);";

/*
 * Version 3 to 4 (and part of a new store): each reply, and each SMS
 * (the most urgent of its replies), carries its priority, so that a
 * rejection goes out before the confirmations queued ahead of it
 * (docs/design.md, "The outbox's order"). Rows written before are
 * confirmations.
 */
static const char store_schema_v4_sql[] =
	"ALTER TABLE replies ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;"
	"ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 2;";

/*
 * Version 4 to 5: the CHECK constraints as written before, each with
 * the chain that replaces it in the table's definition (the rows stay
 * as they are: they satisfied the old form, which accepts the same
 * values), and the indexes no query needs any more: messages_seq
 * (ST_HIST_SEQ finds a TPS's few accepted reports by messages_page)
 * and forwards_due (the forwarder reads forwards_queue; the alerts
 * count failed rows by forwards_failed).
 */
static const struct {
	const char	*table, *was, *now;
} store_v5_checks[] = {
	{ "messages", "CHECK (kind IN ('report', 'cek', 'bantu', 'other',"
	    " 'rate'))", "CHECK (" STORE_KIND_CHECK ")" },
	{ "messages", "CHECK (verdict IN ('OK', 'FLAGGED', 'DUPLICATE',"
	    " 'REJECTED'))", "CHECK (" STORE_VERDICT_CHECK ")" },
	{ "outbox", "CHECK (state IN  ('queued', 'sending', 'sent',"
	    " 'delivered', 'failed'))", "CHECK (" STORE_OUT_CHECK ")" },
	{ "forwards", "CHECK (state IN  ('pending', 'sending', 'acked',"
	    " 'retry_wait', 'failed'))", "CHECK (" STORE_FWD_CHECK ")" },
};
static const char store_schema_v5_sql[] =
	"DROP INDEX IF EXISTS messages_seq;"
	"DROP INDEX IF EXISTS forwards_due;"
	"CREATE INDEX forwards_failed ON forwards (central)"
	" WHERE state = 'failed';";

/*
 * Version 5 to 6: two indexes that each report wrote an entry to and
 * no query needs whole (with a million stored, about 9,000 instructions
 * a report each, docs/bench.md): messages_kind holds the messages that
 * are not OK reports (/status counts the OK ones as the rest; a list
 * of REJECTED or CEK messages finds them by it), replies_out the
 * replies that have their SMS (a new reply has none yet: its NULL went
 * into the index's first page, which splits again and again).
 */
static const char store_schema_v6_sql[] =
	"DROP INDEX IF EXISTS messages_kind;"
	STORE_IDX_KIND
	"DROP INDEX IF EXISTS replies_out;"
	STORE_IDX_OUT;

/*
 * Indexes for the questions of the admin API's time lines (messages by
 * when they came in, SMS by when they left, forwards by when they were
 * acked). They change no table, so they are made on open when missing,
 * outside the schema versions: an older tallygw reads the store as
 * before.
 */
static const char store_indexes_sql[] =
	"CREATE INDEX IF NOT EXISTS messages_received ON messages"
	" (received_at);"
	"CREATE INDEX IF NOT EXISTS outbox_sent_at ON outbox (sent_at);"
	"CREATE INDEX IF NOT EXISTS forwards_acked ON forwards (updated)"
	" WHERE state = 'acked';"
	/*
	 * The forwarder's due rows in the order it sends them (ST_FWD_DUE)
	 * without sorting the backlog: with (central, state, next_at)
	 * alone SQLite sorted every waiting row in a temporary B-tree at
	 * each read, 100 ms with 100,000 waiting.
	 */
	"CREATE INDEX IF NOT EXISTS forwards_queue ON forwards"
	" (central, msg_id) WHERE state IN ('pending', 'retry_wait');";

#define MSG_COLUMNS							\
	"modem, modem_number, sender, smsc_time, received_at, verified_at,"\
	" parts, raw, kind, verdict, reason, flags, auth, decoded, tps,"\
	" contest, page, seq, nvalues, values_text, canonical, code,"	\
	" receipt, supersedes, detail"
#define PRIOR_COLUMNS							\
	"seq, contest, page, nvalues, values_text, canonical, receipt"
#define ACCEPTED	"verdict IN ('OK', 'FLAGGED')"
#define REPLY_COLUMNS							\
	"id, msg_id, dest, modem, text, brief, out_id, created, priority"
#define REPLY_NCOLUMNS	9
#define OUT_COLUMNS							\
	"id, dest, text, modem, prefer, state, attempts, msgref, next_at,"\
	" error, created, sent_at, delivered_at, priority"
#define OUT_NCOLUMNS	14
#define FWD_COLUMNS							\
	"id, msg_id, central, state, attempts, next_at, http_status, error,"\
	" updated"

/* A reply with its SMS (store_msg_reply_row reads it). */
#define MSG_REPLY_SELECT						\
	"SELECT r.id, r.msg_id, r.dest, r.modem, r.text,"		\
	" r.brief, r.out_id, r.created, r.priority, o.id, o.dest,"	\
	" o.text, o.modem, o.prefer, o.state, o.attempts, o.msgref,"	\
	" o.next_at, o.error, o.created, o.sent_at, o.delivered_at,"	\
	" o.priority,"							\
	" (SELECT group_concat(msg_id, ', ') FROM (SELECT x.msg_id"	\
	" FROM replies x WHERE x.out_id = r.out_id AND x.id != r.id"	\
	" ORDER BY x.msg_id))"						\
	" FROM replies r LEFT JOIN outbox o ON o.id = r.out_id"

static const char *store_sql[ST_MAX] = {
	[ST_BEGIN] =		"BEGIN IMMEDIATE",
	[ST_COMMIT] =		"COMMIT",
	[ST_ROLLBACK] =		"ROLLBACK",
	[ST_SAVEPOINT] =	"SAVEPOINT store_out_add",
	[ST_RELEASE] =		"RELEASE store_out_add",
	[ST_ROLLBACK_TO] =	"ROLLBACK TO store_out_add",
	[ST_ITEM_SAVEPOINT] =	"SAVEPOINT store_item",
	[ST_ITEM_RELEASE] =	"RELEASE store_item",
	[ST_ITEM_ROLLBACK_TO] =	"ROLLBACK TO store_item",
	[ST_MSG_ADD] =		"INSERT INTO messages (" MSG_COLUMNS ")"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
	    " ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
	[ST_MSG_GET] =		"SELECT " MSG_COLUMNS
	    " FROM messages WHERE id = ?1",
	/*
	 * By the sender (messages_seen): `+kind' keeps SQLite from
	 * walking every accepted report by messages_kind instead (half a
	 * second with a million stored, for each answer to a number).
	 */
	[ST_SENDER_KNOWN] =	"SELECT 1 FROM messages WHERE sender = ?1"
	    " AND +kind = 'report' AND " ACCEPTED " LIMIT 1",
	/*
	 * The TPS's few accepted reports by messages_page; min(id), not
	 * ORDER BY id, which sorted them in an ephemeral table each time.
	 */
	[ST_HIST_SEQ] =		"SELECT " PRIOR_COLUMNS " FROM messages"
	    " WHERE id = (SELECT min(id) FROM messages"
	    " WHERE tps = ?1 AND seq = ?2 AND " ACCEPTED ")",
	[ST_HIST_LATEST] =	"SELECT " PRIOR_COLUMNS " FROM messages"
	    " WHERE tps = ?1 AND contest = ?2 AND page IS ?3 AND " ACCEPTED
	    " ORDER BY seq DESC, id DESC LIMIT 1",
	/* Covered by messages_page: no row of the table is read. */
	[ST_HIST_TPS] =		"SELECT id, seq, contest, page FROM messages"
	    " WHERE tps = ?1 AND " ACCEPTED
	    " LIMIT " STORE_STR(STORE_MEMO_MAX) " + 1",
	[ST_HIST_ROW] =		"SELECT " PRIOR_COLUMNS " FROM messages"
	    " WHERE id = ?1",
	[ST_LOCKOUT] =		"SELECT sender, tps, received_at FROM messages"
	    " WHERE reason = 'CODE_BAD' AND received_at >= ?1"
	    " AND tps IS NOT NULL ORDER BY received_at, id",
	[ST_TPS_LATEST] =	"SELECT contest, page, seq, receipt, verdict"
	    " FROM (SELECT contest, page, seq, receipt, verdict,"
	    " row_number() OVER (PARTITION BY contest, page"
	    " ORDER BY seq DESC, id DESC) AS rn"
	    " FROM messages WHERE tps = ?1 AND " ACCEPTED ") WHERE rn = 1",
	[ST_REPLY_ADD] =	"INSERT INTO replies (msg_id, dest, modem,"
	    " text, brief, out_id, created, priority)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_REPLY_PENDING] =	"SELECT " REPLY_COLUMNS " FROM replies"
	    " WHERE dest = ?1 AND out_id IS NULL ORDER BY id LIMIT ?2",
	[ST_REPLY_DESTS] =	"SELECT dest, max(created) FROM replies"
	    " WHERE out_id IS NULL GROUP BY dest"
	    " ORDER BY min(priority), min(created), min(id) LIMIT ?1",
	[ST_REPLY_ASSIGN] =	"UPDATE replies SET out_id = ?1"
	    " WHERE id = ?2 AND out_id IS NULL",
	[ST_OUT_ADD] =		"INSERT INTO outbox (dest, text, modem, prefer,"
	    " state, attempts, msgref, next_at, error, created, priority)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, 0, -1, ?6, ?7, ?8, ?9)",
	[ST_OUT_GET] =		"SELECT " OUT_COLUMNS " FROM outbox"
	    " WHERE id = ?1",
	[ST_OUT_DUE] =		"SELECT " OUT_COLUMNS " FROM outbox"
	    " WHERE state = 'queued' AND next_at <= ?1"
	    " ORDER BY priority, id LIMIT ?2",
	[ST_OUT_SET] =		"UPDATE outbox SET state = ?2,"
	    " attempts = attempts + ?3,"
	    " modem = CASE WHEN ?4 IS NULL THEN modem ELSE nullif(?4, '') END,"
	    " msgref = coalesce(?5, msgref),"
	    " next_at = coalesce(?6, next_at),"
	    " error = CASE WHEN ?7 IS NULL THEN error ELSE nullif(?7, '') END,"
	    " sent_at = CASE WHEN ?2 = 'sent' THEN ?8 ELSE sent_at END,"
	    " delivered_at = CASE WHEN ?2 = 'delivered' THEN ?8"
	    "  ELSE delivered_at END"
	    " WHERE id = ?1",
	[ST_OUT_MSGREF] =	"SELECT id FROM outbox WHERE modem = ?1"
	    " AND msgref = ?2 AND state = 'sent' ORDER BY id DESC LIMIT 1",
	[ST_OUT_TODAY] =	"SELECT count(*) FROM outbox WHERE modem = ?1"
	    " AND sent_at >= ?2"
	    " AND state IN ('sent', 'delivered', 'failed')",
	[ST_OUT_REQUEUE] =	"UPDATE outbox SET state = 'queued'"
	    " WHERE state = 'sending'",
	/* A message's replies, each with its SMS and who shares that SMS. */
	[ST_MSG_REPLIES] =	MSG_REPLY_SELECT
	    " WHERE r.msg_id = ?1 ORDER BY r.id LIMIT ?2",
	[ST_MSG_FORWARDS] =	"SELECT " FWD_COLUMNS " FROM forwards"
	    " WHERE msg_id = ?1 ORDER BY central, id LIMIT ?2",
	[ST_FWD_ADD] =		"INSERT INTO forwards (msg_id, central, state,"
	    " attempts, next_at, http_status, error, updated)"
	    " VALUES (?1, ?2, 'pending', 0, 0, NULL, NULL, ?3)",
	[ST_FWD_DUE] =		"SELECT " FWD_COLUMNS " FROM forwards"
	    " WHERE central = ?1 AND state IN ('pending', 'retry_wait')"
	    " AND next_at <= ?2 ORDER BY msg_id, id LIMIT ?3",
	/* A retry in flight keeps the last attempt's status and reason. */
	[ST_FWD_SET] =		"UPDATE forwards SET state = ?2, attempts = ?3,"
	    " next_at = ?4, http_status = CASE ?2 WHEN 'sending' THEN"
	    " http_status ELSE nullif(?5, 0) END, error = CASE ?2 WHEN"
	    " 'sending' THEN error ELSE nullif(?6, '') END, updated = ?7"
	    " WHERE id = ?1",
	[ST_FWD_REQUEUE] =	"UPDATE forwards SET state = 'retry_wait',"
	    " next_at = 0, updated = ?1 WHERE state = 'sending'",
	/* By messages_kind, which holds all but the OK reports. */
	[ST_COUNT_MSGS] =	"SELECT kind, verdict, count(*) FROM messages"
	    " WHERE " STORE_NOT_OK " GROUP BY kind, verdict",
	[ST_COUNT_ALL] =	"SELECT count(*) FROM messages",
	[ST_COUNT_OUT] =	"SELECT state, count(*) FROM outbox"
	    " GROUP BY state",
	[ST_COUNT_FWD] =	"SELECT state, count(*) FROM forwards"
	    " GROUP BY state",
	[ST_SLOT_ADD] =		"INSERT OR REPLACE INTO sim_slots (modem,"
	    " location, msg_id, part_time) VALUES (?1, ?2, ?3, ?4)",
	[ST_SLOT_DONE] =	"DELETE FROM sim_slots WHERE modem = ?1"
	    " AND location = ?2",
	[ST_SLOT_GET] =		"SELECT s.msg_id, m.sender, CASE WHEN"
	    " s.part_time != '' THEN s.part_time ELSE m.smsc_time END,"
	    " CASE WHEN s.part_time != '' THEN 1 ELSE m.parts END"
	    " FROM sim_slots s JOIN messages m ON m.id = s.msg_id"
	    " WHERE s.modem = ?1 AND s.location = ?2",
	[ST_USSD_END_ADD] =	"INSERT OR REPLACE INTO ussd_ends (session,"
	    " phone, request, msg_id, answer, ended, expires)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_USSD_END_GET] =	"SELECT session, phone, request, msg_id,"
	    " answer, ended, expires FROM ussd_ends WHERE session = ?1"
	    " AND expires > ?2",
	[ST_USSD_END_EXPIRE] =	"DELETE FROM ussd_ends WHERE expires <= ?1",
	[ST_USSD_KEEP] =	"INSERT OR REPLACE INTO ussd_kept (phone,"
	    " session, step, contest, tps, page, nvalues, values_text, seq,"
	    " code, review, kept_at, expires)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	[ST_USSD_KEPT_GET] =	"SELECT phone, session, step, contest, tps,"
	    " page, nvalues, values_text, seq, code, review, kept_at, expires"
	    " FROM ussd_kept WHERE phone = ?1 AND expires > ?2",
	[ST_USSD_KEPT_DEL] =	"DELETE FROM ussd_kept WHERE phone = ?1",
	[ST_USSD_KEPT_EXPIRE] =	"DELETE FROM ussd_kept WHERE expires <= ?1",
};

/* The stable name of each reason in messages.reason. */
static const char *store_reasons[REASON_MAX] = {
	[REASON_NONE] =		NULL,
	[REASON_EMPTY] =	"EMPTY",
	[REASON_CONTEST] =	"CONTEST",
	[REASON_TPS_FORMAT] =	"TPS_FORMAT",
	[REASON_SEQ] =		"SEQ",
	[REASON_PAGE] =		"PAGE",
	[REASON_VALUE_FORMAT] =	"VALUE_FORMAT",
	[REASON_VALUE_RANGE] =	"VALUE_RANGE",
	[REASON_CODE_FORMAT] =	"CODE_FORMAT",
	[REASON_TOO_LONG] =	"TOO_LONG",
	[REASON_COUNT] =	"COUNT",
	[REASON_TPS_UNKNOWN] =	"TPS_UNKNOWN",
	[REASON_NOT_HELD] =	"NOT_HELD",
	[REASON_PAGE_UNKNOWN] =	"PAGE_UNKNOWN",
	[REASON_NO_KEY] =	"NO_KEY",
	[REASON_CODE_BAD] =	"CODE_BAD",
	[REASON_LOCKED] =	"LOCKED",
	[REASON_SEQ_USED] =	"SEQ_USED",
	[REASON_DIGITS] =	"DIGITS",
	[REASON_LIKE_PPWP] =	"LIKE_PPWP",
	[REASON_SEQ_MISSING] =	"SEQ_MISSING",
	[REASON_CODE_PLACE] =	"CODE_PLACE",
};

static int	 store_fail(struct store *, const char *);
static sqlite3_stmt *store_stmt(struct store *, enum store_st);
static int	 store_run(struct store *, enum store_st, const char *);
static int	 store_hist_by_seq(void *, uint64_t, unsigned, struct prior *);
static int	 store_hist_latest(void *, uint64_t, enum contest, int,
		    struct prior *);

const char *
store_kind_name(enum msg_kind k)
{
	switch (k) {
	case MSG_REPORT:
		return ("report");
	case MSG_CEK:
		return ("cek");
	case MSG_BANTU:
		return ("bantu");
	case MSG_OTHER:
		return ("other");
	case MSG_RATE:
		return ("rate");
	}
	return ("?");
}

const char *
store_out_state_name(enum out_state st)
{
	switch (st) {
	case OUT_QUEUED:
		return ("queued");
	case OUT_SENDING:
		return ("sending");
	case OUT_SENT:
		return ("sent");
	case OUT_DELIVERED:
		return ("delivered");
	case OUT_FAILED:
		return ("failed");
	}
	return ("?");
}

const char *
store_fwd_state_name(enum fwd_state st)
{
	switch (st) {
	case FWD_PENDING:
		return ("pending");
	case FWD_SENDING:
		return ("sending");
	case FWD_ACKED:
		return ("acked");
	case FWD_RETRY_WAIT:
		return ("retry_wait");
	case FWD_FAILED:
		return ("failed");
	}
	return ("?");
}

static const char *
store_auth_name(enum auth a)
{
	switch (a) {
	case AUTH_MAC:
		return ("mac");
	case AUTH_CARD:
		return ("card");
	case AUTH_NONE:
		break;
	}
	return (NULL);
}

/* The names back to enums; 0 for NULL or a name this build does not know. */
static enum msg_kind
store_kind_parse(const char *s)
{
	int	 k;

	for (k = MSG_REPORT; s != NULL && k <= MSG_RATE; k++)
		if (strcmp(s, store_kind_name((enum msg_kind)k)) == 0)
			return ((enum msg_kind)k);
	return (0);
}

static enum verdict
store_verdict_parse(const char *s)
{
	int	 v;

	for (v = VERDICT_OK; s != NULL && v <= VERDICT_REJECTED; v++)
		if (strcmp(s, verify_verdict_name((enum verdict)v)) == 0)
			return ((enum verdict)v);
	return (0);
}

static enum reason
store_reason_parse(const char *s)
{
	int	 r;

	for (r = REASON_NONE + 1; s != NULL && r < REASON_MAX; r++)
		if (strcmp(s, store_reasons[r]) == 0)
			return ((enum reason)r);
	return (REASON_NONE);
}

static enum auth
store_auth_parse(const char *s)
{
	if (s == NULL)
		return (AUTH_NONE);
	if (strcmp(s, "mac") == 0)
		return (AUTH_MAC);
	if (strcmp(s, "card") == 0)
		return (AUTH_CARD);
	return (AUTH_NONE);
}

static enum out_state
store_out_state_parse(const char *s)
{
	int	 st;

	for (st = OUT_QUEUED; s != NULL && st <= OUT_FAILED; st++)
		if (strcmp(s, store_out_state_name((enum out_state)st)) == 0)
			return ((enum out_state)st);
	return (0);
}

static enum fwd_state
store_fwd_state_parse(const char *s)
{
	int	 st;

	for (st = FWD_PENDING; s != NULL && st <= FWD_FAILED; st++)
		if (strcmp(s, store_fwd_state_name((enum fwd_state)st)) == 0)
			return ((enum fwd_state)st);
	return (0);
}

/*
 * "YYYY-MM-DDTHH:MM:SS.mmmZ", the form every received_at takes. The
 * date and time of the last second are kept: two of these a report
 * cost 5,000 instructions with strftime each time.
 */
void
store_iso_now(char *buf, size_t len)
{
	static time_t	 last = -1;
	static char	 date[24];
	char		 iso[sizeof(date) + 6];
	struct timespec	 ts;
	struct tm	 tm;
	size_t		 n;
	long		 ms;

	if (len == 0)
		return;
	if (clock_gettime(CLOCK_REALTIME, &ts) == -1) {
		ts.tv_sec = time(NULL);
		ts.tv_nsec = 0;
	}
	if (ts.tv_sec != last) {
		gmtime_r(&ts.tv_sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		last = ts.tv_sec;
	}
	ms = ts.tv_nsec / 1000000L;
	n = strlen(date);
	memcpy(iso, date, n);
	iso[n++] = '.';
	iso[n++] = (char)('0' + ms / 100);
	iso[n++] = (char)('0' + ms / 10 % 10);
	iso[n++] = (char)('0' + ms % 10);
	iso[n++] = 'Z';
	iso[n] = '\0';
	if (n >= len)
		n = len - 1;
	memcpy(buf, iso, n);
	buf[n] = '\0';
}

/* An ISO 8601 UTC time ("...SS", optional fraction, optional Z). */
static int
store_iso_parse(const char *s, time_t *t)
{
	struct tm	 tm;
	const char	*p;

	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm)) == NULL)
		return (-1);
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++)
			;
	}
	if (*p == 'Z')
		p++;
	if (*p != '\0')
		return (-1);
	*t = timegm(&tm);
	return (0);
}

/* Log an SQLite failure with what was being done. */
static int
store_fail(struct store *s, const char *what)
{
	const char	*path = sqlite3_db_filename(s->db, "main");

	if (sqlite3_errcode(s->db) == SQLITE_FULL)
		log_warnx("store: %s: %s: %s: free space for it; until then "
		    "received messages stay on the SIMs, unanswered",
		    path != NULL ? path : "?", what, sqlite3_errmsg(s->db));
	else
		log_warnx("store: %s: %s", what, sqlite3_errmsg(s->db));
	return (-1);
}

/* A prepared statement, reset and unbound, ready for new values. */
static sqlite3_stmt *
store_stmt(struct store *s, enum store_st i)
{
	sqlite3_reset(s->st[i]);
	sqlite3_clear_bindings(s->st[i]);
	return (s->st[i]);
}

/* Run a statement that takes no values and returns no rows. */
static int
store_run(struct store *s, enum store_st i, const char *what)
{
	sqlite3_stmt	*st = store_stmt(s, i);
	int		 rc;

	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, what));
	return (0);
}

static int
store_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	/*
	 * Not copied (SQLITE_STATIC; a copy of each text cost a report
	 * 8,000 instructions): every statement is stepped in the function
	 * that binds it, while the text is there, and store_stmt clears
	 * the bindings before the next use.
	 */
	return (sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC));
}

/* NULL for "nothing": a NULL or empty string. */
static int
store_bind_opt(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL || *v == '\0')
		return (sqlite3_bind_null(st, i));
	return (sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT));
}

/* Copy a text column (NULL reads as "") into a buffer. */
static void
store_col(sqlite3_stmt *st, int i, char *buf, size_t len)
{
	const unsigned char	*t = sqlite3_column_text(st, i);

	snprintf(buf, len, "%s", t != NULL ? (const char *)t : "");
}

static const char *
store_col_str(sqlite3_stmt *st, int i)
{
	return ((const char *)sqlite3_column_text(st, i));
}

/* "v1 v2 ... vn" of nvalues values. */
static int
store_values_join(const uint16_t *values, size_t nvalues, char *buf,
    size_t len)
{
	size_t	 i, off = 0;

	buf[0] = '\0';
	if (nvalues > TALLY_MAXVALUES)
		return (-1);
	for (i = 0; i < nvalues; i++)
		if (fmt_add_uint(buf, len, &off, i > 0 ? " " : "", values[i],
		    0) == -1)
			return (-1);
	return (0);
}

/* Parse values_text back; it must hold exactly n numbers. */
static int
store_values_parse(const char *text, uint16_t *values, size_t n)
{
	const char	*p = text != NULL ? text : "";
	char		*end;
	unsigned long	 v;
	size_t		 i;

	if (n > TALLY_MAXVALUES)
		return (-1);
	for (i = 0; i < n; i++) {
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9')
			return (-1);
		errno = 0;
		v = strtoul(p, &end, 10);
		if (errno != 0 || v > UINT16_MAX)
			return (-1);
		values[i] = (uint16_t)v;
		p = end;
	}
	while (*p == ' ')
		p++;
	return (*p == '\0' ? 0 : -1);
}

/* Fill a struct prior from a row of PRIOR_COLUMNS. */
static int
store_prior_row(sqlite3_stmt *st, struct prior *p)
{
	memset(p, 0, sizeof(*p));
	p->seq = (unsigned)sqlite3_column_int64(st, 0);
	p->contest = decode_contest(store_col_str(st, 1) != NULL ?
	    store_col_str(st, 1) : "");
	p->page = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 2);
	p->nvalues = (size_t)sqlite3_column_int64(st, 3);
	if (store_values_parse(store_col_str(st, 4), p->values,
	    p->nvalues) == -1) {
		log_warnx("store: history: SEQ %u: values do not match "
		    "nvalues %zu", p->seq, p->nvalues);
		return (-1);
	}
	store_col(st, 5, p->canon, sizeof(p->canon));
	store_col(st, 6, p->receipt, sizeof(p->receipt));
	return (0);
}

/*
 * Once at start-up, before SQLite opens anything (the registry too):
 * no count of SQLite's memory, which took a mutex at every allocation
 * (6% of the receive stage's instructions); nothing reads it. And the
 * sub-journal of each report's savepoint (the pages the report changes
 * that the batch changed before it) stays in memory up to
 * STORE_SUBJOURNAL_MEM: past SQLite's 64 KiB it was a file in /var/tmp,
 * written at each report of a batch of 8 or more (docs/bench.md).
 */
void
store_init(void)
{
	if (sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) != SQLITE_OK ||
	    sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL,
	    STORE_SUBJOURNAL_MEM) != SQLITE_OK)
		log_warnx("store: SQLite was initialised before store_init");
}

/*
 * Schema version 5's CHECK constraints in the tables of an older store,
 * inside store_open's transaction. SQLite cannot alter a constraint;
 * rebuilding the tables would copy every row (minutes with a night's
 * messages). The definitions are edited in place instead (SQLite's
 * documented writable_schema procedure for changing a CHECK constraint:
 * the file's format does not change), then the schema is read again. A
 * definition that does not hold the old form keeps what it has.
 */
static int
store_upgrade_v5(struct store *s)
{
	sqlite3_stmt	*st;
	size_t		 i;
	int		 rc = 0;

	/* A SQLite built defensive by default refuses the edit. */
	if (sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 0, NULL) !=
	    SQLITE_OK || sqlite3_exec(s->db, "PRAGMA writable_schema = ON",
	    NULL, NULL, NULL) != SQLITE_OK)
		return (-1);
	if (sqlite3_prepare_v2(s->db, "UPDATE sqlite_master SET"
	    " sql = replace(sql, ?2, ?3) WHERE type = 'table' AND name = ?1"
	    " AND instr(sql, ?2) > 0", -1, &st, NULL) != SQLITE_OK)
		rc = -1;
	for (i = 0; rc == 0 && i < sizeof(store_v5_checks) /
	    sizeof(store_v5_checks[0]); i++) {
		sqlite3_reset(st);
		if (store_bind_text(st, 1, store_v5_checks[i].table) !=
		    SQLITE_OK || store_bind_text(st, 2,
		    store_v5_checks[i].was) != SQLITE_OK || store_bind_text(st,
		    3, store_v5_checks[i].now) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			rc = -1;
			break;
		}
		if (sqlite3_changes(s->db) != 1)
			log_warnx("store: %s: a CHECK constraint is not the "
			    "one this tallygw knows; left as it is",
			    store_v5_checks[i].table);
	}
	sqlite3_finalize(st);
	if (sqlite3_exec(s->db, "PRAGMA writable_schema = RESET", NULL, NULL,
	    NULL) != SQLITE_OK)
		rc = -1;
	return (rc);
}

struct store *
store_open(const char *path, char *err, size_t errlen)
{
	struct store	*s;
	sqlite3_stmt	*st = NULL;
	const char	*what;
	char		 mode[16];
	int		 i, version;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		log_warnx("store: %s", err);
		return (NULL);
	}
	what = "open";
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_extended_result_codes(s->db, 1);
	what = "busy timeout";
	if (sqlite3_busy_timeout(s->db, STORE_BUSY_MS) != SQLITE_OK)
		goto fail;
	what = "foreign keys";
	if (sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	what = "journal mode";
	if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	store_col(st, 0, mode, sizeof(mode));
	sqlite3_finalize(st);
	st = NULL;
	if (strcasecmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0) {
		snprintf(err, errlen, "%s: cannot use WAL (journal mode %s)",
		    path, mode);
		log_warnx("store: %s", err);
		store_close(s);
		return (NULL);
	}
	what = "synchronous";
	if (sqlite3_exec(s->db, "PRAGMA synchronous = FULL", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;

	/* Create the schema once; the write lock keeps two openers apart. */
	what = "begin";
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail;
	what = "schema version";
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail_tx;
	version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (version > STORE_SCHEMA_VERSION) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		snprintf(err, errlen, "%s: schema version %d is newer than "
		    "this tallygw's (%d)", path, version,
		    STORE_SCHEMA_VERSION);
		log_warnx("store: %s", err);
		store_close(s);
		return (NULL);
	}
	if (version == 0) {
		what = "create schema";
		if (sqlite3_exec(s->db, store_schema_sql, NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail_tx;
	} else if (version == 1) {
		what = "upgrade schema to version 2";
		if (sqlite3_exec(s->db, store_schema_v2_sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			goto fail_tx;
	}
	if (version < 3) {
		what = "upgrade schema to version 3";
		if (sqlite3_exec(s->db, store_schema_v3_sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			goto fail_tx;
	}
	if (version < 4) {
		what = "upgrade schema to version 4";
		if (sqlite3_exec(s->db, store_schema_v4_sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			goto fail_tx;
	}
	if (version != 0 && version < 5) {
		what = "upgrade schema to version 5";
		if (store_upgrade_v5(s) == -1 || sqlite3_exec(s->db,
		    store_schema_v5_sql, NULL, NULL, NULL) != SQLITE_OK)
			goto fail_tx;
	}
	if (version != 0 && version < 6) {
		what = "upgrade schema to version 6";
		if (sqlite3_exec(s->db, store_schema_v6_sql, NULL, NULL,
		    NULL) != SQLITE_OK)
			goto fail_tx;
	}
	if (version < STORE_SCHEMA_VERSION) {
		what = "set schema version";
		if (sqlite3_exec(s->db, "PRAGMA user_version = "
		    STORE_STR(STORE_SCHEMA_VERSION), NULL, NULL, NULL) !=
		    SQLITE_OK)
			goto fail_tx;
	}
	what = "indexes";
	if (sqlite3_exec(s->db, store_indexes_sql, NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto fail_tx;
	what = "commit schema";
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail_tx;

	for (i = 0; i < ST_MAX; i++) {
		what = store_sql[i];
		if (sqlite3_prepare_v3(s->db, store_sql[i], -1,
		    SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
			goto fail;
	}
	s->hist.by_seq = store_hist_by_seq;
	s->hist.latest = store_hist_latest;
	s->hist.arg = s;
	return (s);

fail_tx:
	snprintf(err, errlen, "%s: %s: %s", path, what,
	    sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	log_warnx("store: %s", err);
	store_close(s);
	return (NULL);
fail:
	snprintf(err, errlen, "%s: %s: %s", path, what, s->db != NULL ?
	    sqlite3_errmsg(s->db) : "out of memory");
	sqlite3_finalize(st);
	log_warnx("store: %s", err);
	store_close(s);
	return (NULL);
}

void
store_close(struct store *s)
{
	int	 i;

	if (s == NULL)
		return;
	for (i = 0; i < ST_MAX; i++)
		sqlite3_finalize(s->st[i]);
	if (s->db != NULL && sqlite3_close(s->db) != SQLITE_OK)
		log_warnx("store: close: %s", sqlite3_errmsg(s->db));
	free(s);
}

/*
 * The page cache, in KiB (tunable store_cache, by default SQLite's
 * own 2000): a store of a million reports outgrows any cache; a larger
 * one measured slower (docs/bench.md), so it is left to the operator.
 */
int
store_cache_size(struct store *s, int kib)
{
	char	 sql[64];

	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d", kib);
	if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return (store_fail(s, "cache size"));
	return (0);
}

int
store_begin(struct store *s)
{
	return (store_run(s, ST_BEGIN, "begin"));
}

int
store_commit(struct store *s)
{
	return (store_run(s, ST_COMMIT, "commit"));
}

/*
 * One item of a transaction that holds several (the receive stage's
 * group commit): store_item_end(s, 0) undoes the item's rows alone.
 */
int
store_item_begin(struct store *s)
{
	return (store_run(s, ST_ITEM_SAVEPOINT, "item: savepoint"));
}

/* 0 when SQLite rolled the transaction back by itself (an I/O error). */
int
store_in_tx(struct store *s)
{
	return (!sqlite3_get_autocommit(s->db));
}

int
store_item_end(struct store *s, int ok)
{
	s->memo_live = 0;
	if (!ok && store_run(s, ST_ITEM_ROLLBACK_TO, "item: rollback") == -1)
		return (-1);
	return (store_run(s, ST_ITEM_RELEASE, "item: release"));
}

/* Roll back; harmless when SQLite has already rolled back by itself. */
int
store_rollback(struct store *s)
{
	s->memo_live = 0;
	if (sqlite3_get_autocommit(s->db))
		return (0);
	return (store_run(s, ST_ROLLBACK, "rollback"));
}

int
store_msg_add(struct store *s, struct store_msg *m)
{
	sqlite3_stmt		*st = store_stmt(s, ST_MSG_ADD);
	const struct report	*r = &m->report;
	char			 values[STORE_VALUES_MAX];
	int			 b = SQLITE_OK;

	if (m->reason >= REASON_MAX) {
		log_warnx("store: msg add: reason %d out of range",
		    (int)m->reason);
		return (-1);
	}
	if (m->decoded && store_values_join(r->values, r->nvalues, values,
	    sizeof(values)) == -1) {
		log_warnx("store: msg add: %zu values", r->nvalues);
		return (-1);
	}
	b |= store_bind_text(st, 1, m->modem);
	b |= store_bind_text(st, 2, m->modem_number);
	b |= store_bind_text(st, 3, m->sender);
	b |= store_bind_text(st, 4, m->smsc_time);
	b |= store_bind_text(st, 5, m->received_at);
	b |= store_bind_opt(st, 6, m->verified_at);
	b |= sqlite3_bind_int(st, 7, m->parts);
	b |= store_bind_text(st, 8, m->raw);
	b |= store_bind_text(st, 9, store_kind_name(m->kind));
	if (m->kind == MSG_REPORT && m->verdict != 0)
		b |= store_bind_text(st, 10, verify_verdict_name(m->verdict));
	b |= store_bind_opt(st, 11, store_reasons[m->reason]);
	b |= sqlite3_bind_int64(st, 12, m->flags);
	b |= store_bind_opt(st, 13, store_auth_name(m->auth));
	b |= sqlite3_bind_int(st, 14, m->decoded ? 1 : 0);
	if (m->decoded) {
		b |= sqlite3_bind_int64(st, 15, (sqlite3_int64)r->tps);
		b |= store_bind_text(st, 16, decode_contest_name(r->contest));
		if (r->page >= 0)
			b |= sqlite3_bind_int(st, 17, r->page);
		b |= sqlite3_bind_int64(st, 18, r->seq);
		b |= sqlite3_bind_int64(st, 19, (sqlite3_int64)r->nvalues);
		b |= store_bind_text(st, 20, values);
		b |= store_bind_opt(st, 21, r->canon);
		b |= store_bind_opt(st, 22, r->code);
	}
	b |= store_bind_opt(st, 23, m->receipt);
	if (m->supersedes != 0)
		b |= sqlite3_bind_int64(st, 24, m->supersedes);
	b |= store_bind_opt(st, 25, m->detail);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "msg add");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	m->id = sqlite3_last_insert_rowid(s->db);
	return (0);
}

/* Read a message back as it was added; 1 found, 0 not, -1 error. */
int
store_msg_get(struct store *s, int64_t id, struct store_msg *m)
{
	sqlite3_stmt	*st = store_stmt(s, ST_MSG_GET);
	struct report	*r = &m->report;
	int		 rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return (store_fail(s, "msg get"));
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return (0);
		return (store_fail(s, "msg get"));
	}
	memset(m, 0, sizeof(*m));
	m->id = id;
	store_col(st, 0, m->modem, sizeof(m->modem));
	store_col(st, 1, m->modem_number, sizeof(m->modem_number));
	store_col(st, 2, m->sender, sizeof(m->sender));
	store_col(st, 3, m->smsc_time, sizeof(m->smsc_time));
	store_col(st, 4, m->received_at, sizeof(m->received_at));
	store_col(st, 5, m->verified_at, sizeof(m->verified_at));
	m->parts = sqlite3_column_int(st, 6);
	store_col(st, 7, m->raw, sizeof(m->raw));
	m->kind = store_kind_parse(store_col_str(st, 8));
	m->verdict = store_verdict_parse(store_col_str(st, 9));
	m->reason = store_reason_parse(store_col_str(st, 10));
	m->flags = (unsigned)sqlite3_column_int64(st, 11);
	m->auth = store_auth_parse(store_col_str(st, 12));
	m->decoded = sqlite3_column_int(st, 13);
	r->page = -1;
	if (m->decoded) {
		r->tps = (uint64_t)sqlite3_column_int64(st, 14);
		r->contest = decode_contest(store_col_str(st, 15) != NULL ?
		    store_col_str(st, 15) : "");
		if (sqlite3_column_type(st, 16) != SQLITE_NULL)
			r->page = sqlite3_column_int(st, 16);
		r->seq = (unsigned)sqlite3_column_int64(st, 17);
		r->nvalues = (size_t)sqlite3_column_int64(st, 18);
		if (store_values_parse(store_col_str(st, 19), r->values,
		    r->nvalues) == -1) {
			sqlite3_reset(st);
			log_warnx("store: msg %lld: values do not match "
			    "nvalues %zu", (long long)id, r->nvalues);
			return (-1);
		}
		store_col(st, 20, r->canon, sizeof(r->canon));
		store_col(st, 21, r->code, sizeof(r->code));
	}
	store_col(st, 22, m->receipt, sizeof(m->receipt));
	m->supersedes = (unsigned)sqlite3_column_int64(st, 23);
	store_col(st, 24, m->detail, sizeof(m->detail));
	sqlite3_reset(st);
	return (1);
}

/* 1 if this number has sent an accepted report: an officer's. */
int
store_sender_known(struct store *s, const char *sender)
{
	sqlite3_stmt	*st = store_stmt(s, ST_SENDER_KNOWN);
	int		 rc;

	if (store_bind_text(st, 1, sender) != SQLITE_OK)
		return (store_fail(s, "sender known"));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, "sender known"));
}

/* Run a history lookup that returns one PRIOR_COLUMNS row or none. */
static int
store_hist_one(struct store *s, sqlite3_stmt *st, const char *what,
    struct prior *out)
{
	int	 rc;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		rc = store_prior_row(st, out);
		sqlite3_reset(st);
		return (rc == -1 ? -1 : 1);
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, what));
}

/*
 * Read the accepted reports of a TPS into the memo: one seek in
 * messages_page for both questions of the SEQ rule. 0 and the memo
 * live, or -1 (an error, or more reports than the memo holds: then
 * each question asks SQLite by itself).
 */
static int
store_hist_memo(struct store *s, uint64_t tps)
{
	sqlite3_stmt		*st = store_stmt(s, ST_HIST_TPS);
	struct store_memo	*m;
	const char		*name;
	int			 rc;

	s->memo_live = 0;
	s->memo_n = 0;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)tps) != SQLITE_OK)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (s->memo_n == STORE_MEMO_MAX)
			break;
		m = &s->memo[s->memo_n++];
		m->id = sqlite3_column_int64(st, 0);
		m->seq = (unsigned)sqlite3_column_int64(st, 1);
		name = store_col_str(st, 2);
		m->contest = name != NULL ? decode_contest(name) :
		    CONTEST_NONE;
		/* Only the name the store writes, as the SQL compares. */
		if (m->contest != CONTEST_NONE && strcmp(name,
		    decode_contest_name(m->contest)) != 0)
			m->contest = CONTEST_NONE;
		m->page = sqlite3_column_type(st, 3) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (-1);
	s->memo_tps = tps;
	s->memo_changes = sqlite3_total_changes64(s->db);
	s->memo_live = 1;
	return (0);
}

/* The PRIOR_COLUMNS of a message the memo found. */
static int
store_hist_row(struct store *s, int64_t id, const char *what,
    struct prior *out)
{
	sqlite3_stmt	*st = store_stmt(s, ST_HIST_ROW);

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return (store_fail(s, what));
	return (store_hist_one(s, st, what, out));
}

/* The accepted report with this SEQ at the TPS; the first stored. */
static int
store_hist_by_seq(void *arg, uint64_t tps, unsigned seq, struct prior *out)
{
	struct store	*s = arg;
	sqlite3_stmt	*st;
	int64_t		 id = 0;
	size_t		 i;

	if (store_hist_memo(s, tps) == 0) {
		for (i = 0; i < s->memo_n; i++)
			if (s->memo[i].seq == seq && (id == 0 ||
			    s->memo[i].id < id))
				id = s->memo[i].id;
		if (id == 0)
			return (0);
		return (store_hist_row(s, id, "history by seq", out));
	}
	st = store_stmt(s, ST_HIST_SEQ);
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)tps) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, seq) != SQLITE_OK)
		return (store_fail(s, "history by seq"));
	return (store_hist_one(s, st, "history by seq", out));
}

/* The accepted report with the highest SEQ for (TPS, contest, page). */
static int
store_hist_latest(void *arg, uint64_t tps, enum contest c, int page,
    struct prior *out)
{
	struct store		*s = arg;
	sqlite3_stmt		*st;
	const struct store_memo	*m, *best = NULL;
	size_t			 i;
	int			 b = SQLITE_OK;

	if (page < 0)
		page = -1;
	if (s->memo_live && s->memo_tps == tps &&
	    s->memo_changes == sqlite3_total_changes64(s->db)) {
		for (i = 0; i < s->memo_n; i++) {
			m = &s->memo[i];
			if (m->contest != c || c == CONTEST_NONE ||
			    m->page != page)
				continue;
			if (best == NULL || m->seq > best->seq ||
			    (m->seq == best->seq && m->id > best->id))
				best = m;
		}
		if (best == NULL)
			return (0);
		return (store_hist_row(s, best->id, "history latest", out));
	}
	st = store_stmt(s, ST_HIST_LATEST);

	b |= sqlite3_bind_int64(st, 1, (sqlite3_int64)tps);
	b |= store_bind_text(st, 2, decode_contest_name(c));
	if (page >= 0)
		b |= sqlite3_bind_int(st, 3, page);
	if (b != SQLITE_OK)
		return (store_fail(s, "history latest"));
	return (store_hist_one(s, st, "history latest", out));
}

struct verify_history *
store_history(struct store *s)
{
	return (&s->hist);
}

/*
 * After a restart, count again the bad codes of the last 24 hours
 * (longer than any sane LOCKOUT_WINDOW, which the lockout keeps to
 * itself), in the order they arrived and at the time they arrived.
 */
int
store_lockout_rebuild(struct store *s, struct lockout *lk, time_t now)
{
	sqlite3_stmt	*st = store_stmt(s, ST_LOCKOUT);
	struct tm	 tm;
	time_t		 since = now - STORE_LOCKOUT_REPLAY, t;
	char		 iso[GW_ISO_MAX];
	const char	*sender, *at;
	int		 rc, n = 0;

	if (gmtime_r(&since, &tm) == NULL ||
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		log_warnx("store: lockout rebuild: bad time %lld",
		    (long long)now);
		return (-1);
	}
	if (store_bind_text(st, 1, iso) != SQLITE_OK)
		return (store_fail(s, "lockout rebuild"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sender = store_col_str(st, 0);
		at = store_col_str(st, 2);
		if (at == NULL || store_iso_parse(at, &t) == -1) {
			log_warnx("store: lockout rebuild: bad received_at "
			    "'%s', skipped", at != NULL ? at : "");
			continue;
		}
		if (t < since)
			continue;
		lockout_fail(lk, sender != NULL ? sender : "",
		    (uint64_t)sqlite3_column_int64(st, 1), t);
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, "lockout rebuild"));
	if (n > 0)
		log_info("store: lockout rebuilt from %d bad codes", n);
	return (n);
}

static int
store_latest_cmp(const void *a, const void *b)
{
	const struct reply_latest	*x = a, *y = b;

	if (x->contest != y->contest)
		return (x->contest < y->contest ? -1 : 1);
	if (x->page != y->page)
		return (x->page < y->page ? -1 : 1);
	return (0);
}

/* What CEK answers: the newest accepted report of each (contest, page). */
int
store_tps_latest(struct store *s, uint64_t tps, struct reply_latest *out,
    size_t max, size_t *np)
{
	sqlite3_stmt		*st = store_stmt(s, ST_TPS_LATEST);
	struct reply_latest	*all = NULL, *tmp, *l;
	size_t			 n = 0, cap = 0;
	int			 rc;

	*np = 0;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)tps) != SQLITE_OK)
		return (store_fail(s, "tps latest"));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((tmp = reallocarray(all, cap, sizeof(*all))) ==
			    NULL) {
				log_warnx("store: tps latest: out of memory");
				sqlite3_reset(st);
				free(all);
				return (-1);
			}
			all = tmp;
		}
		l = &all[n++];
		memset(l, 0, sizeof(*l));
		l->contest = decode_contest(store_col_str(st, 0) != NULL ?
		    store_col_str(st, 0) : "");
		l->page = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 1);
		l->seq = (unsigned)sqlite3_column_int64(st, 2);
		store_col(st, 3, l->receipt, sizeof(l->receipt));
		l->verdict = store_verdict_parse(store_col_str(st, 4));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		free(all);
		return (store_fail(s, "tps latest"));
	}
	/* By contest number, not by name: PPWP, DPR, DPD, DPRDP, DPRDK. */
	if (n > 0)
		qsort(all, n, sizeof(*all), store_latest_cmp);
	if (n > max)
		n = max;
	if (n > 0)
		memcpy(out, all, n * sizeof(*all));
	*np = n;
	free(all);
	return (0);
}

int
store_reply_add(struct store *s, struct store_reply *r)
{
	sqlite3_stmt	*st = store_stmt(s, ST_REPLY_ADD);
	int		 b = SQLITE_OK;

	if (r->created == 0)
		r->created = time(NULL);
	if (r->msg_id != 0)
		b |= sqlite3_bind_int64(st, 1, r->msg_id);
	b |= store_bind_text(st, 2, r->dest);
	b |= store_bind_opt(st, 3, r->modem);
	b |= store_bind_text(st, 4, r->text);
	b |= store_bind_text(st, 5, r->brief);
	if (r->out_id != 0)
		b |= sqlite3_bind_int64(st, 6, r->out_id);
	b |= sqlite3_bind_int64(st, 7, (sqlite3_int64)r->created);
	b |= sqlite3_bind_int(st, 8, r->priority);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "reply add");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	r->id = sqlite3_last_insert_rowid(s->db);
	return (0);
}

static sqlite3_int64
store_limit(size_t max)
{
	return (max > INT64_MAX ? INT64_MAX : (sqlite3_int64)max);
}

/*
 * The loop of every list query: bind max as the LIMIT (parameter
 * limit_at; its other parameters are bound by the caller), hand each
 * row to row(st, arg, i), and say what went wrong once.
 */
static int
store_rows(struct store *s, sqlite3_stmt *st, int limit_at, size_t max,
    const char *what, void (*row)(sqlite3_stmt *, void *, size_t),
    void *arg, size_t *np)
{
	size_t	 n = 0;
	int	 rc = SQLITE_DONE;

	*np = 0;
	if (sqlite3_bind_int64(st, limit_at, store_limit(max)) != SQLITE_OK) {
		sqlite3_reset(st);
		return (store_fail(s, what));
	}
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		row(st, arg, n++);
	if (n == max)
		rc = SQLITE_DONE;
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, what));
	*np = n;
	return (0);
}

/* Fill a struct store_reply from REPLY_COLUMNS starting at column c. */
static void
store_reply_row(sqlite3_stmt *st, int c, struct store_reply *r)
{
	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, c);
	r->msg_id = sqlite3_column_int64(st, c + 1);
	store_col(st, c + 2, r->dest, sizeof(r->dest));
	store_col(st, c + 3, r->modem, sizeof(r->modem));
	store_col(st, c + 4, r->text, sizeof(r->text));
	store_col(st, c + 5, r->brief, sizeof(r->brief));
	r->out_id = sqlite3_column_int64(st, c + 6);
	r->created = (time_t)sqlite3_column_int64(st, c + 7);
	r->priority = sqlite3_column_int(st, c + 8);
}

static void
store_reply_pending_row(sqlite3_stmt *st, void *arg, size_t i)
{
	store_reply_row(st, 0, (struct store_reply *)arg + i);
}

/* The replies to dest not yet put in an SMS, oldest first. */
int
store_reply_pending(struct store *s, const char *dest,
    struct store_reply *out, size_t max, size_t *np)
{
	sqlite3_stmt	*st = store_stmt(s, ST_REPLY_PENDING);

	*np = 0;
	if (store_bind_text(st, 1, dest) != SQLITE_OK)
		return (store_fail(s, "reply pending"));
	return (store_rows(s, st, 2, max, "reply pending",
	    store_reply_pending_row, out, np));
}

struct store_dests {
	char	(*dests)[WIRE_NUMBER_MAX];
	time_t	 *newest;
};

static void
store_reply_dests_row(sqlite3_stmt *st, void *arg, size_t i)
{
	struct store_dests	*d = arg;

	store_col(st, 0, d->dests[i], sizeof(d->dests[i]));
	if (d->newest != NULL)
		d->newest[i] = (time_t)sqlite3_column_int64(st, 1);
}

/*
 * Who is owed replies, with the newest reply of each: the most urgent
 * reply first (as store_out_due), then the oldest.
 */
int
store_reply_dests(struct store *s, char (*dests)[WIRE_NUMBER_MAX],
    time_t *newest, size_t max, size_t *np)
{
	struct store_dests	 d = { dests, newest };

	return (store_rows(s, store_stmt(s, ST_REPLY_DESTS), 1, max,
	    "reply dests", store_reply_dests_row, &d, np));
}

/*
 * One outgoing SMS carrying the given replies: the row and the links
 * are written together (a savepoint, so it nests in a caller's
 * transaction). A reply already in another SMS fails the whole call.
 */
int
store_out_add(struct store *s, struct store_out *o, const int64_t *ids,
    size_t nids)
{
	sqlite3_stmt	*st;
	int64_t		 id;
	time_t		 now = time(NULL);
	size_t		 i;
	int		 b = SQLITE_OK;

	if (store_run(s, ST_SAVEPOINT, "out add: savepoint") == -1)
		return (-1);
	st = store_stmt(s, ST_OUT_ADD);
	b |= store_bind_text(st, 1, o->dest);
	b |= store_bind_text(st, 2, o->text);
	b |= store_bind_opt(st, 3, o->modem);
	b |= store_bind_opt(st, 4, o->prefer);
	b |= store_bind_text(st, 5, store_out_state_name(o->state));
	b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)o->next_at);
	b |= store_bind_opt(st, 7, o->error);
	b |= sqlite3_bind_int64(st, 8, (sqlite3_int64)now);
	b |= sqlite3_bind_int(st, 9, o->priority);
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "out add");
		sqlite3_reset(st);
		goto fail;
	}
	sqlite3_reset(st);
	id = sqlite3_last_insert_rowid(s->db);
	for (i = 0; i < nids; i++) {
		st = store_stmt(s, ST_REPLY_ASSIGN);
		if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		    sqlite3_bind_int64(st, 2, ids[i]) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_DONE) {
			store_fail(s, "out add: reply");
			sqlite3_reset(st);
			goto fail;
		}
		sqlite3_reset(st);
		if (sqlite3_changes(s->db) != 1) {
			log_warnx("store: out add: reply %lld is not pending",
			    (long long)ids[i]);
			goto fail;
		}
	}
	if (store_run(s, ST_RELEASE, "out add: release") == -1)
		goto fail;
	o->id = id;
	o->attempts = 0;
	o->msgref = -1;
	o->created = now;
	o->sent_at = o->delivered_at = 0;
	return (0);
fail:
	store_run(s, ST_ROLLBACK_TO, "out add: rollback");
	store_run(s, ST_RELEASE, "out add: release");
	return (-1);
}

/* Fill a struct store_out from OUT_COLUMNS starting at column c. */
static void
store_out_row(sqlite3_stmt *st, int c, struct store_out *o)
{
	memset(o, 0, sizeof(*o));
	o->id = sqlite3_column_int64(st, c);
	store_col(st, c + 1, o->dest, sizeof(o->dest));
	store_col(st, c + 2, o->text, sizeof(o->text));
	store_col(st, c + 3, o->modem, sizeof(o->modem));
	store_col(st, c + 4, o->prefer, sizeof(o->prefer));
	o->state = store_out_state_parse(store_col_str(st, c + 5));
	o->attempts = sqlite3_column_int(st, c + 6);
	o->msgref = sqlite3_column_int(st, c + 7);
	o->next_at = (time_t)sqlite3_column_int64(st, c + 8);
	store_col(st, c + 9, o->error, sizeof(o->error));
	o->created = (time_t)sqlite3_column_int64(st, c + 10);
	o->sent_at = (time_t)sqlite3_column_int64(st, c + 11);
	o->delivered_at = (time_t)sqlite3_column_int64(st, c + 12);
	o->priority = sqlite3_column_int(st, c + 13);
}

int
store_out_get(struct store *s, int64_t id, struct store_out *o)
{
	sqlite3_stmt	*st = store_stmt(s, ST_OUT_GET);
	int		 rc;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return (store_fail(s, "out get"));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		store_out_row(st, 0, o);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, "out get"));
}

static void
store_out_due_row(sqlite3_stmt *st, void *arg, size_t i)
{
	store_out_row(st, 0, (struct store_out *)arg + i);
}

/* Queued SMS whose time has come: the most urgent, then the oldest. */
int
store_out_due(struct store *s, time_t now, struct store_out *out,
    size_t max, size_t *np)
{
	sqlite3_stmt	*st = store_stmt(s, ST_OUT_DUE);

	*np = 0;
	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)now) != SQLITE_OK)
		return (store_fail(s, "out due"));
	return (store_rows(s, st, 2, max, "out due", store_out_due_row, out,
	    np));
}

/*
 * Persist a transition of the outgoing SMS state machine (reply.c
 * decides and logs it). NULL modem/error, msgref -2 and next_at -1
 * keep the stored value; "" clears a text.
 */
int
store_out_set(struct store *s, int64_t id, enum out_state state,
    const char *modem, int msgref, time_t next_at, const char *error)
{
	sqlite3_stmt	*st = store_stmt(s, ST_OUT_SET);
	int		 b = SQLITE_OK;

	b |= sqlite3_bind_int64(st, 1, id);
	b |= store_bind_text(st, 2, store_out_state_name(state));
	b |= sqlite3_bind_int(st, 3, state == OUT_SENDING ? 1 : 0);
	if (modem != NULL)
		b |= store_bind_text(st, 4, modem);
	if (msgref != -2)
		b |= sqlite3_bind_int(st, 5, msgref);
	if (next_at != -1)
		b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)next_at);
	if (error != NULL)
		b |= store_bind_text(st, 7, error);
	b |= sqlite3_bind_int64(st, 8, (sqlite3_int64)time(NULL));
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "out set");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	if (sqlite3_changes(s->db) != 1) {
		log_warnx("store: out set: outbox %lld: no such row",
		    (long long)id);
		return (-1);
	}
	return (0);
}

/* The SMS a status report is about: newest 'sent' with that reference. */
int
store_out_by_msgref(struct store *s, const char *modem, int msgref,
    int64_t *id)
{
	sqlite3_stmt	*st = store_stmt(s, ST_OUT_MSGREF);
	int		 rc;

	if (store_bind_text(st, 1, modem) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, msgref) != SQLITE_OK)
		return (store_fail(s, "out by msgref"));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && id != NULL)
		*id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, "out by msgref"));
}

/*
 * SMS a modem has sent today, for its daily cap. Operators' daily
 * bundles reset at local midnight; the day is that of WIB (UTC+7),
 * whatever the gateway's TZ, so the count is the same everywhere.
 */
int
store_out_sent_today(struct store *s, const char *modem, time_t now,
    int *count)
{
	sqlite3_stmt	*st = store_stmt(s, ST_OUT_TODAY);
	long long	 local = (long long)now + STORE_TZ_OFFSET;
	long long	 midnight;
	int		 rc;

	midnight = (long long)now - (((local % STORE_DAY) + STORE_DAY) %
	    STORE_DAY);
	*count = 0;
	if (store_bind_text(st, 1, modem) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, midnight) != SQLITE_OK)
		return (store_fail(s, "out sent today"));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*count = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return (store_fail(s, "out sent today"));
	return (0);
}

/* At start-up: an SMS a dead worker was sending goes back to the queue. */
int
store_out_requeue(struct store *s)
{
	if (store_run(s, ST_OUT_REQUEUE, "out requeue") == -1)
		return (-1);
	return (sqlite3_changes(s->db));
}

int
store_fwd_add(struct store *s, int64_t msg_id, const char *central)
{
	sqlite3_stmt	*st = store_stmt(s, ST_FWD_ADD);
	int		 b = SQLITE_OK;

	b |= sqlite3_bind_int64(st, 1, msg_id);
	b |= store_bind_text(st, 2, central);
	b |= sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "fwd add");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	return (0);
}

/* Fill a struct store_fwd from a row of FWD_COLUMNS. */
static void
store_fwd_row(sqlite3_stmt *st, struct store_fwd *f)
{
	memset(f, 0, sizeof(*f));
	f->id = sqlite3_column_int64(st, 0);
	f->msg_id = sqlite3_column_int64(st, 1);
	store_col(st, 2, f->central, sizeof(f->central));
	f->state = store_fwd_state_parse(store_col_str(st, 3));
	f->attempts = sqlite3_column_int(st, 4);
	f->next_at = (time_t)sqlite3_column_int64(st, 5);
	f->http_status = sqlite3_column_int(st, 6);
	store_col(st, 7, f->error, sizeof(f->error));
	f->updated = (time_t)sqlite3_column_int64(st, 8);
}

static void
store_fwd_due_row(sqlite3_stmt *st, void *arg, size_t i)
{
	store_fwd_row(st, (struct store_fwd *)arg + i);
}

/* Forwards to try now for one central, oldest message first. */
int
store_fwd_due(struct store *s, const char *central, time_t now,
    struct store_fwd *out, size_t max, size_t *np)
{
	sqlite3_stmt	*st = store_stmt(s, ST_FWD_DUE);

	*np = 0;
	if (store_bind_text(st, 1, central) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK)
		return (store_fail(s, "fwd due"));
	return (store_rows(s, st, 3, max, "fwd due", store_fwd_due_row, out,
	    np));
}

/* Persist a transition of the forward state machine (forward decides). */
int
store_fwd_set(struct store *s, int64_t id, enum fwd_state state,
    int attempts, time_t next_at, int http_status, const char *error)
{
	sqlite3_stmt	*st = store_stmt(s, ST_FWD_SET);
	int		 b = SQLITE_OK;

	b |= sqlite3_bind_int64(st, 1, id);
	b |= store_bind_text(st, 2, store_fwd_state_name(state));
	b |= sqlite3_bind_int(st, 3, attempts);
	b |= sqlite3_bind_int64(st, 4, (sqlite3_int64)next_at);
	b |= sqlite3_bind_int(st, 5, http_status);
	b |= store_bind_opt(st, 6, error);
	b |= sqlite3_bind_int64(st, 7, (sqlite3_int64)time(NULL));
	if (b != SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "fwd set");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	if (sqlite3_changes(s->db) != 1) {
		log_warnx("store: fwd set: forward %lld: no such row",
		    (long long)id);
		return (-1);
	}
	return (0);
}

/* At start-up: a request cut by the crash is retried at once. */
int
store_fwd_requeue(struct store *s)
{
	sqlite3_stmt	*st = store_stmt(s, ST_FWD_REQUEUE);

	if (sqlite3_bind_int64(st, 1, (sqlite3_int64)time(NULL)) !=
	    SQLITE_OK || sqlite3_step(st) != SQLITE_DONE) {
		store_fail(s, "fwd requeue");
		sqlite3_reset(st);
		return (-1);
	}
	sqlite3_reset(st);
	return (sqlite3_changes(s->db));
}

static void
store_msg_reply_row(sqlite3_stmt *st, void *arg, size_t i)
{
	struct store_msg_reply	*r = (struct store_msg_reply *)arg + i;

	store_reply_row(st, 0, &r->reply);
	if (sqlite3_column_type(st, REPLY_NCOLUMNS) != SQLITE_NULL)
		store_out_row(st, REPLY_NCOLUMNS, &r->out);
	else
		memset(&r->out, 0, sizeof(r->out));
	store_col(st, REPLY_NCOLUMNS + OUT_NCOLUMNS, r->shared,
	    sizeof(r->shared));
}

/*
 * What became of one message's replies (tallyctl msg): each reply with
 * the SMS that carries it (out.id 0 while it waits to be merged) and
 * the other messages whose replies share that SMS.
 */
int
store_msg_replies(struct store *s, int64_t msg_id,
    struct store_msg_reply *out, size_t max, size_t *np)
{
	sqlite3_stmt	*st = store_stmt(s, ST_MSG_REPLIES);

	*np = 0;
	if (sqlite3_bind_int64(st, 1, msg_id) != SQLITE_OK)
		return (store_fail(s, "msg replies"));
	return (store_rows(s, st, 2, max, "msg replies", store_msg_reply_row,
	    out, np));
}

/* One message's forward rows, one per central, by central name. */
int
store_msg_forwards(struct store *s, int64_t msg_id, struct store_fwd *out,
    size_t max, size_t *np)
{
	sqlite3_stmt	*st = store_stmt(s, ST_MSG_FORWARDS);

	*np = 0;
	if (sqlite3_bind_int64(st, 1, msg_id) != SQLITE_OK)
		return (store_fail(s, "msg forwards"));
	return (store_rows(s, st, 2, max, "msg forwards", store_fwd_due_row,
	    out, np));
}

/* Add the rows of a (state, count) query into the counters it names. */
static int
store_count_states(struct store *s, enum store_st i, const char *what,
    struct store_counts *c)
{
	sqlite3_stmt	*st = store_stmt(s, i);
	const char	*name;
	long		 n;
	int		 rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		name = store_col_str(st, 0);
		n = (long)sqlite3_column_int64(st, 1);
		if (i == ST_COUNT_OUT) {
			switch (store_out_state_parse(name)) {
			case OUT_QUEUED:
				c->out_queued += n;
				break;
			case OUT_SENDING:
				c->out_sending += n;
				break;
			case OUT_SENT:
				c->out_sent += n;
				break;
			case OUT_DELIVERED:
				c->out_delivered += n;
				break;
			case OUT_FAILED:
				c->out_failed += n;
				break;
			}
			continue;
		}
		switch (store_fwd_state_parse(name)) {
		case FWD_PENDING:
			c->fwd_pending += n;
			break;
		case FWD_SENDING:
			c->fwd_sending += n;
			break;
		case FWD_ACKED:
			c->fwd_acked += n;
			break;
		case FWD_RETRY_WAIT:
			c->forward_retry += n;
			break;
		case FWD_FAILED:
			c->fwd_failed += n;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, what));
	return (0);
}

int
store_counts(struct store *s, struct store_counts *c)
{
	sqlite3_stmt	*st = store_stmt(s, ST_COUNT_MSGS);
	long		 n;
	int		 rc;

	memset(c, 0, sizeof(*c));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n = (long)sqlite3_column_int64(st, 2);
		c->msgs += n;
		if (store_kind_parse(store_col_str(st, 0)) != MSG_REPORT) {
			c->other += n;
			continue;
		}
		c->reports += n;
		switch (store_verdict_parse(store_col_str(st, 1))) {
		case VERDICT_OK:
			c->ok += n;
			break;
		case VERDICT_FLAGGED:
			c->flagged += n;
			break;
		case VERDICT_DUPLICATE:
			c->duplicate += n;
			break;
		case VERDICT_REJECTED:
			c->rejected += n;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, "counts"));
	/* The OK reports: every message less those counted above. */
	st = store_stmt(s, ST_COUNT_ALL);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite3_reset(st);
		return (store_fail(s, "counts: all"));
	}
	n = (long)sqlite3_column_int64(st, 0) - c->msgs;
	sqlite3_reset(st);
	c->msgs += n;
	c->reports += n;
	c->ok += n;
	if (store_count_states(s, ST_COUNT_OUT, "counts: outbox", c) == -1 ||
	    store_count_states(s, ST_COUNT_FWD, "counts: forwards", c) == -1)
		return (-1);
	return (0);
}

/*
 * SIM slots whose message is committed but whose delete is not yet
 * confirmed: after a crash, a sweep that reads one again must not
 * handle that message twice.
 */
int
store_slot_add(struct store *s, const char *modem, int location,
    int64_t msg_id, const char *part_time)
{
	sqlite3_stmt	*st = store_stmt(s, ST_SLOT_ADD);
	int		 rc;

	if (store_bind_text(st, 1, modem) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, location) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 3, msg_id) != SQLITE_OK ||
	    store_bind_text(st, 4, part_time) != SQLITE_OK)
		return (store_fail(s, "slot add"));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, "slot add"));
	return (0);
}

int
store_slot_done(struct store *s, const char *modem, int location)
{
	sqlite3_stmt	*st = store_stmt(s, ST_SLOT_DONE);
	int		 rc;

	if (store_bind_text(st, 1, modem) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, location) != SQLITE_OK)
		return (store_fail(s, "slot done"));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, "slot done"));
	return (0);
}

/*
 * 1 and the message held in that slot, 0 if none is, -1 on error. The
 * time is the SMSC time of the part in that slot; *multipart is 1 only
 * for a slot recorded before version 2, which knows the message's time.
 */
int
store_slot_get(struct store *s, const char *modem, int location,
    int64_t *msg_id, char *sender, size_t slen, char *smsc_time, size_t tlen,
    int *multipart)
{
	sqlite3_stmt	*st = store_stmt(s, ST_SLOT_GET);
	int		 rc;

	if (store_bind_text(st, 1, modem) != SQLITE_OK ||
	    sqlite3_bind_int(st, 2, location) != SQLITE_OK)
		return (store_fail(s, "slot get"));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*msg_id = sqlite3_column_int64(st, 0);
		store_col(st, 1, sender, slen);
		store_col(st, 2, smsc_time, tlen);
		*multipart = sqlite3_column_int(st, 3) > 1;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return (1);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, "slot get"));
}

/*
 * The USSD channel's rows (schema version 3). A finished session's
 * last screen is written in its report's transaction, so that a retry
 * of the final request, even after a restart, gets the same verdict and
 * stores nothing; a number's half-filled report outlives a restart.
 */

/* Run a statement of the USSD rows that returns no rows. */
static int
store_ussd_done(struct store *s, sqlite3_stmt *st, int b, const char *what)
{
	int	 rc;

	if (b != SQLITE_OK)
		return (store_fail(s, what));
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return (store_fail(s, what));
	return (0);
}

int
store_ussd_end_add(struct store *s, const struct store_ussd_end *e)
{
	sqlite3_stmt	*st = store_stmt(s, ST_USSD_END_ADD);
	int		 b = SQLITE_OK;

	b |= store_bind_text(st, 1, e->session);
	b |= store_bind_text(st, 2, e->phone);
	b |= store_bind_text(st, 3, e->request);
	b |= sqlite3_bind_int64(st, 4, e->msg_id);
	b |= store_bind_text(st, 5, e->answer);
	b |= sqlite3_bind_int64(st, 6, (sqlite3_int64)e->ended);
	b |= sqlite3_bind_int64(st, 7, (sqlite3_int64)e->expires);
	return (store_ussd_done(s, st, b, "ussd end add"));
}

/*
 * The row of key that is still kept at now: 1 with the statement on it
 * (read it, then reset it), 0 if there is none, -1 on error.
 */
static int
store_ussd_find(struct store *s, enum store_st i, const char *key,
    time_t now, const char *what)
{
	sqlite3_stmt	*st = store_stmt(s, i);
	int		 rc;

	if (store_bind_text(st, 1, key) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK)
		return (store_fail(s, what));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		return (1);
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return (0);
	return (store_fail(s, what));
}

/* 1 and the session's last screen if it is kept at now, 0 if not. */
int
store_ussd_end_get(struct store *s, const char *session, time_t now,
    struct store_ussd_end *e)
{
	sqlite3_stmt	*st = s->st[ST_USSD_END_GET];
	int		 rc;

	memset(e, 0, sizeof(*e));
	if ((rc = store_ussd_find(s, ST_USSD_END_GET, session, now,
	    "ussd end get")) != 1)
		return (rc);
	store_col(st, 0, e->session, sizeof(e->session));
	store_col(st, 1, e->phone, sizeof(e->phone));
	store_col(st, 2, e->request, sizeof(e->request));
	e->msg_id = sqlite3_column_int64(st, 3);
	store_col(st, 4, e->answer, sizeof(e->answer));
	e->ended = (time_t)sqlite3_column_int64(st, 5);
	e->expires = (time_t)sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	return (1);
}

/* A number's half-filled report; it replaces the one kept before. */
int
store_ussd_keep(struct store *s, const struct store_ussd_kept *k)
{
	sqlite3_stmt		*st = store_stmt(s, ST_USSD_KEEP);
	const struct menu_saved	*m = &k->menu;
	char			 values[STORE_VALUES_MAX];
	int			 b = SQLITE_OK;

	if (store_values_join(m->values, m->nvalues, values,
	    sizeof(values)) == -1) {
		log_warnx("store: ussd keep: %zu values", m->nvalues);
		return (-1);
	}
	b |= store_bind_text(st, 1, k->phone);
	b |= store_bind_text(st, 2, k->session);
	b |= store_bind_text(st, 3, m->step);
	b |= store_bind_text(st, 4, decode_contest_name(m->contest));
	b |= sqlite3_bind_int64(st, 5, (sqlite3_int64)m->tps);
	b |= m->page >= 0 ? sqlite3_bind_int(st, 6, m->page) :
	    sqlite3_bind_null(st, 6);
	b |= sqlite3_bind_int64(st, 7, (sqlite3_int64)m->nvalues);
	b |= store_bind_text(st, 8, values);
	b |= m->seq > 0 ? sqlite3_bind_int(st, 9, (int)m->seq) :
	    sqlite3_bind_null(st, 9);
	b |= store_bind_opt(st, 10, m->code);
	b |= sqlite3_bind_int(st, 11, m->review);
	b |= sqlite3_bind_int64(st, 12, (sqlite3_int64)k->kept_at);
	b |= sqlite3_bind_int64(st, 13, (sqlite3_int64)k->expires);
	return (store_ussd_done(s, st, b, "ussd keep"));
}

/* 1 and the number's half-filled report if one is kept at now, else 0. */
int
store_ussd_kept_get(struct store *s, const char *phone, time_t now,
    struct store_ussd_kept *k)
{
	sqlite3_stmt		*st = s->st[ST_USSD_KEPT_GET];
	struct menu_saved	*m = &k->menu;
	int			 rc, bad;

	memset(k, 0, sizeof(*k));
	if ((rc = store_ussd_find(s, ST_USSD_KEPT_GET, phone, now,
	    "ussd kept get")) != 1)
		return (rc);
	store_col(st, 0, k->phone, sizeof(k->phone));
	store_col(st, 1, k->session, sizeof(k->session));
	store_col(st, 2, m->step, sizeof(m->step));
	m->contest = decode_contest(store_col_str(st, 3) != NULL ?
	    store_col_str(st, 3) : "");
	m->tps = (uint64_t)sqlite3_column_int64(st, 4);
	m->page = sqlite3_column_type(st, 5) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(st, 5);
	m->nvalues = (size_t)sqlite3_column_int64(st, 6);
	bad = store_values_parse(store_col_str(st, 7), m->values,
	    m->nvalues) == -1;
	m->seq = (unsigned)sqlite3_column_int64(st, 8);
	store_col(st, 9, m->code, sizeof(m->code));
	m->review = sqlite3_column_int(st, 10);
	k->kept_at = (time_t)sqlite3_column_int64(st, 11);
	k->expires = (time_t)sqlite3_column_int64(st, 12);
	sqlite3_reset(st);
	if (bad) {
		log_warnx("store: ussd kept %s: values do not match nvalues "
		    "%zu", phone, m->nvalues);
		return (-1);
	}
	return (1);
}

int
store_ussd_kept_del(struct store *s, const char *phone)
{
	sqlite3_stmt	*st = store_stmt(s, ST_USSD_KEPT_DEL);

	return (store_ussd_done(s, st, store_bind_text(st, 1, phone),
	    "ussd kept del"));
}

/* Forget what expired by now: *ends last screens, *kept reports. */
int
store_ussd_expire(struct store *s, time_t now, int *ends, int *kept)
{
	sqlite3_stmt	*st;

	st = store_stmt(s, ST_USSD_END_EXPIRE);
	if (store_ussd_done(s, st, sqlite3_bind_int64(st, 1,
	    (sqlite3_int64)now), "ussd end expire") == -1)
		return (-1);
	*ends = sqlite3_changes(s->db);
	st = store_stmt(s, ST_USSD_KEPT_EXPIRE);
	if (store_ussd_done(s, st, sqlite3_bind_int64(st, 1,
	    (sqlite3_int64)now), "ussd kept expire") == -1)
		return (-1);
	*kept = sqlite3_changes(s->db);
	return (0);
}

/* ------------------------------------------------------------------ */
/* The admin API's questions (admin.c, coverage.c). An operator asks   */
/* them now and then: each prepares its own statement, and the        */
/* prepared statements of the intake stay as they are.                */
/* ------------------------------------------------------------------ */

#define STORE_TPS_LAST	9999999999999LL

/* A statement for one question; NULL (logged) if it does not prepare. */
static sqlite3_stmt *
store_prepare(struct store *s, const char *sql, const char *what)
{
	sqlite3_stmt	*st = NULL;

	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
		store_fail(s, what);
		sqlite3_finalize(st);
		return (NULL);
	}
	return (st);
}

/* Finalize a statement stepped until rc: 0, or -1 logged. */
static int
store_finish(struct store *s, sqlite3_stmt *st, int rc, const char *what)
{
	int	 r = 0;

	if (rc != SQLITE_DONE)
		r = store_fail(s, what);
	sqlite3_finalize(st);
	return (r);
}

/* The first and last TPS code of a region (digits of it; 0: all). */
static void
store_region_range(uint64_t code, int digits, sqlite3_int64 *lo,
    sqlite3_int64 *hi)
{
	sqlite3_int64	 scale = 1;
	int		 i;

	if (digits <= 0 || digits > TALLY_TPS_DIGITS) {
		*lo = 0;
		*hi = STORE_TPS_LAST;
		return;
	}
	for (i = digits; i < TALLY_TPS_DIGITS; i++)
		scale *= 10;
	*lo = (sqlite3_int64)code * scale;
	*hi = *lo + scale - 1;
}

/* The state of a message's last reply, as a row says it. */
#define STORE_LAST_REPLY						\
	"(SELECT CASE WHEN r.out_id IS NULL THEN 'owed' ELSE o.state END" \
	" FROM replies r LEFT JOIN outbox o ON o.id = r.out_id"		\
	" WHERE r.msg_id = m.id ORDER BY r.id DESC LIMIT 1)"

/* Append a fixed piece of SQL; -1 when it does not fit. */
static int
store_sql_add(char *sql, size_t size, size_t *off, const char *piece)
{
	size_t	 n = strlen(piece);

	if (*off + n >= size)
		return (-1);
	memcpy(sql + *off, piece, n + 1);
	*off += n;
	return (0);
}

/* The messages a query asks for, newest first, one call of cb each. */
int
store_msg_list(struct store *s, const struct store_msg_query *q,
    int (*cb)(const struct store_msg_row *, void *), void *arg)
{
	struct store_msg_row	*row;
	sqlite3_stmt		*st;
	char			 sql[2048];
	size_t			 off = 0;
	const char		*t;
	int			 rc, b = 0;

	b |= store_sql_add(sql, sizeof(sql), &off, "SELECT m.id,"
	    " m.received_at, m.sender, m.modem, m.kind, m.verdict, m.reason,"
	    " m.flags, m.tps, m.contest, m.page, m.seq, m.receipt, m.raw, "
	    STORE_LAST_REPLY ", (SELECT group_concat(f.central || ' ' ||"
	    " f.state, ', ') FROM (SELECT central, state FROM forwards"
	    " WHERE msg_id = m.id ORDER BY central) f)"
	    " FROM messages m WHERE 1");
	if (q->tps != 0)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND m.tps = ?1");
	if (q->sender[0] != '\0')
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.sender = ?2");
	if (q->kind != 0)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND m.kind = ?3");
	if (q->verdict != 0)
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.verdict = ?4");
	if (q->contest != CONTEST_NONE)
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.contest = ?5");
	/*
	 * Messages that are not OK reports: said in messages_kind's own
	 * words, so that SQLite may read them by it (it cannot tell that
	 * kind = ?3 implies them).
	 */
	if ((q->kind != 0 && q->kind != MSG_REPORT) ||
	    (q->verdict != 0 && q->verdict != VERDICT_OK))
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND " STORE_NOT_OK_M);
	if (q->reply == QUERY_NONE)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND NOT EXISTS"
		    " (SELECT 1 FROM replies r WHERE r.msg_id = m.id)");
	else if (q->reply != 0)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND "
		    STORE_LAST_REPLY " = ?6");
	if (q->forward == QUERY_NONE)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND NOT EXISTS"
		    " (SELECT 1 FROM forwards f WHERE f.msg_id = m.id)");
	else if (q->forward != 0)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND EXISTS"
		    " (SELECT 1 FROM forwards f WHERE f.msg_id = m.id"
		    " AND f.state = ?7)");
	/* A USSD session's report is stored as received by modem "ussd". */
	if (q->channel == QUERY_USSD)
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.modem = 'ussd'");
	else if (q->channel == QUERY_SMS)
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.modem != 'ussd'");
	if (q->since[0] != '\0')
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.received_at >= ?8");
	if (q->until[0] != '\0')
		b |= store_sql_add(sql, sizeof(sql), &off,
		    " AND m.received_at < ?9");
	if (q->before > 0)
		b |= store_sql_add(sql, sizeof(sql), &off, " AND m.id < ?10");
	b |= store_sql_add(sql, sizeof(sql), &off,
	    " ORDER BY m.id DESC LIMIT ?11");
	if (b != 0) {
		log_warnx("store: msg list: query too long");
		return (-1);
	}
	if ((st = store_prepare(s, sql, "msg list")) == NULL)
		return (-1);
	b = SQLITE_OK;
	if (q->tps != 0)
		b |= sqlite3_bind_int64(st, 1, (sqlite3_int64)q->tps);
	if (q->sender[0] != '\0')
		b |= store_bind_text(st, 2, q->sender);
	if (q->kind != 0)
		b |= store_bind_text(st, 3, store_kind_name(q->kind));
	if (q->verdict != 0)
		b |= store_bind_text(st, 4, verify_verdict_name(q->verdict));
	if (q->contest != CONTEST_NONE)
		b |= store_bind_text(st, 5, decode_contest_name(q->contest));
	if (q->reply > 0 || q->reply == QUERY_OWED)
		b |= store_bind_text(st, 6, q->reply == QUERY_OWED ? "owed" :
		    store_out_state_name((enum out_state)q->reply));
	if (q->forward > 0)
		b |= store_bind_text(st, 7,
		    store_fwd_state_name((enum fwd_state)q->forward));
	if (q->since[0] != '\0')
		b |= store_bind_text(st, 8, q->since);
	if (q->until[0] != '\0')
		b |= store_bind_text(st, 9, q->until);
	if (q->before > 0)
		b |= sqlite3_bind_int64(st, 10, q->before);
	b |= sqlite3_bind_int(st, 11, q->limit > 0 ? q->limit :
	    QUERY_LIMIT_DEFAULT);
	if (b != SQLITE_OK) {
		store_fail(s, "msg list");
		sqlite3_finalize(st);
		return (-1);
	}
	if ((row = malloc(sizeof(*row))) == NULL) {
		log_warn("store: msg list");
		sqlite3_finalize(st);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(row, 0, sizeof(*row));
		row->id = sqlite3_column_int64(st, 0);
		store_col(st, 1, row->received_at, sizeof(row->received_at));
		store_col(st, 2, row->sender, sizeof(row->sender));
		store_col(st, 3, row->modem, sizeof(row->modem));
		row->kind = store_kind_parse(store_col_str(st, 4));
		row->verdict = store_verdict_parse(store_col_str(st, 5));
		store_col(st, 6, row->reason, sizeof(row->reason));
		row->flags = (unsigned)sqlite3_column_int64(st, 7);
		row->tps = (uint64_t)sqlite3_column_int64(st, 8);
		row->contest = store_col_str(st, 9) != NULL ?
		    decode_contest(store_col_str(st, 9)) : CONTEST_NONE;
		row->page = sqlite3_column_type(st, 10) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 10);
		row->seq = (unsigned)sqlite3_column_int64(st, 11);
		store_col(st, 12, row->receipt, sizeof(row->receipt));
		store_col(st, 13, row->raw, sizeof(row->raw));
		if ((t = store_col_str(st, 14)) == NULL)
			row->reply = QUERY_NONE;
		else if (strcmp(t, "owed") == 0)
			row->reply = QUERY_OWED;
		else
			row->reply = (int)store_out_state_parse(t);
		store_col(st, 15, row->forwards, sizeof(row->forwards));
		if (cb(row, arg) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	}
	free(row);
	return (store_finish(s, st, rc, "msg list"));
}

/*
 * Messages stored since an ISO time, by modem, among those with an id
 * above after; *last is the highest id there is. The admin API keeps
 * each modem's count of the day and adds only what came since.
 */
int
store_msg_count_since(struct store *s, const char *since, int64_t after,
    int (*cb)(const char *, long, void *), void *arg, int64_t *last)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT modem, count(*) FROM messages"
	    " WHERE id > ?1 AND received_at >= ?2 GROUP BY modem",
	    "msg count since")) == NULL)
		return (-1);
	if (sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
	    store_bind_text(st, 2, since) != SQLITE_OK) {
		store_fail(s, "msg count since");
		sqlite3_finalize(st);
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (store_col_str(st, 0) != NULL &&
		    cb(store_col_str(st, 0), (long)sqlite3_column_int64(st, 1),
		    arg) == -1)
			break;
	if (store_finish(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc,
	    "msg count since") == -1)
		return (-1);
	if ((st = store_prepare(s, "SELECT coalesce(max(id), ?1) FROM"
	    " messages", "msg count since: last")) == NULL)
		return (-1);
	sqlite3_bind_int64(st, 1, after);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*last = sqlite3_column_int64(st, 0);
	return (store_finish(s, st, rc == SQLITE_ROW ? SQLITE_DONE : rc,
	    "msg count since: last"));
}

/* Queued SMS by the modem their message came in on. */
int
store_out_queued_by(struct store *s, int (*cb)(const char *, long, void *),
    void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT prefer, count(*) FROM outbox"
	    " WHERE state = 'queued' AND prefer IS NOT NULL GROUP BY prefer",
	    "out queued by")) == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(store_col_str(st, 0), (long)sqlite3_column_int64(st, 1),
		    arg) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	return (store_finish(s, st, rc, "out queued by"));
}

/*
 * Every stored message counted by channel (a USSD message is stored as
 * received by modem "ussd"), kind and verdict: the metrics' counters
 * start from the store, so a restart does not reset them. One scan, at
 * start-up.
 */
int
store_msg_tally(struct store *s, int (*cb)(int, enum msg_kind,
    enum verdict, long, void *), void *arg)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = store_prepare(s, "SELECT modem = 'ussd', kind, verdict,"
	    " count(*) FROM messages GROUP BY 1, 2, 3", "msg tally")) == NULL)
		return (-1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (cb(sqlite3_column_int(st, 0),
		    store_kind_parse(store_col_str(st, 1)),
		    store_verdict_parse(store_col_str(st, 2)),
		    (long)sqlite3_column_int64(st, 3), arg) == -1) {
			rc = SQLITE_DONE;
			break;
		}
	return (store_finish(s, st, rc, "msg tally"));
}

/*
 * The walk of store_coverage: the page, the (TPS, contest) and the
 * region being read, and the region's counts by contest.
 */
struct store_cov {
	int		 (*cb)(const struct store_region *, void *);
	void		*arg;
	int		 any;		/* a (TPS, contest) is open */
	uint64_t	 tps;
	enum contest	 contest;
	int		 page;		/* -1: a contest without pages */
	int		 page_flagged;	/* the page's latest report so far */
	int		 tps_flagged;	/* a page's latest was FLAGGED */
	int		 in_region;
	uint64_t	 region;
	long		 reported[CONTEST_MAX + 1];
	long		 flagged[CONTEST_MAX + 1];
};

/* The region read is complete: its counts to the callback. */
static int
store_cov_region(struct store_cov *w)
{
	struct store_region	 r;
	int			 c;

	if (!w->in_region)
		return (0);
	w->in_region = 0;
	for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++) {
		if (w->reported[c] == 0)
			continue;
		memset(&r, 0, sizeof(r));
		r.region = w->region;
		r.contest = (enum contest)c;
		r.reported = w->reported[c];
		r.flagged = w->flagged[c];
		if (w->cb(&r, w->arg) == -1)
			return (-1);
	}
	memset(w->reported, 0, sizeof(w->reported));
	memset(w->flagged, 0, sizeof(w->flagged));
	return (0);
}

/* The (TPS, contest) read is complete: count it in its region. */
static int
store_cov_tps(struct store_cov *w, uint64_t div)
{
	if (!w->any)
		return (0);
	w->any = 0;
	w->tps_flagged |= w->page_flagged;
	if (w->in_region && w->tps / div != w->region &&
	    store_cov_region(w) == -1)
		return (-1);
	w->in_region = 1;
	w->region = w->tps / div;
	w->reported[w->contest]++;
	w->flagged[w->contest] += w->tps_flagged;
	return (0);
}

/*
 * What has come in, by region of the query's level and by contest:
 * the TPS with an accepted report, and of them those whose latest
 * report of some page is FLAGGED (a later OK correction clears it).
 * In region order. One pass over messages_page in its order (TPS,
 * contest, page, SEQ, id): SQLite's GROUP BY of the same took three
 * times as long (docs/admin.md, "The dashboard").
 */
int
store_coverage(struct store *s, const struct query_coverage *q,
    int (*cb)(const struct store_region *, void *), void *arg)
{
	struct store_cov	 w;
	sqlite3_stmt		*st;
	sqlite3_int64		 lo, hi;
	uint64_t		 div = 1, tps;
	enum contest		 c;
	const char		*text;
	char			 sql[512];
	int			 i, page, rc, b = SQLITE_OK;

	snprintf(sql, sizeof(sql), "SELECT tps, contest, page, verdict FROM"
	    " messages WHERE " ACCEPTED " AND tps BETWEEN ?1 AND ?2%s"
	    " ORDER BY tps, contest, page, seq, id",
	    q->contest != CONTEST_NONE ? " AND contest = ?3" : "");
	for (i = q->digits; i < TALLY_TPS_DIGITS; i++)
		div *= 10;
	store_region_range(q->in, q->in_digits, &lo, &hi);
	if ((st = store_prepare(s, sql, "coverage")) == NULL)
		return (-1);
	b |= sqlite3_bind_int64(st, 1, lo);
	b |= sqlite3_bind_int64(st, 2, hi);
	if (q->contest != CONTEST_NONE)
		b |= store_bind_text(st, 3, decode_contest_name(q->contest));
	if (b != SQLITE_OK) {
		store_fail(s, "coverage");
		sqlite3_finalize(st);
		return (-1);
	}
	memset(&w, 0, sizeof(w));
	w.cb = cb;
	w.arg = arg;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		text = store_col_str(st, 1);
		if (text == NULL || (c = decode_contest(text)) == CONTEST_NONE)
			continue;
		tps = (uint64_t)sqlite3_column_int64(st, 0);
		page = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 :
		    sqlite3_column_int(st, 2);
		if (!w.any || tps != w.tps || c != w.contest) {
			if (store_cov_tps(&w, div) == -1)
				goto stop;
			w.any = 1;
			w.tps = tps;
			w.contest = c;
			w.tps_flagged = 0;
		} else if (page != w.page)
			w.tps_flagged |= w.page_flagged;
		w.page = page;
		/* The rows of a page come by SEQ: the last one is its latest. */
		text = store_col_str(st, 3);
		w.page_flagged = text != NULL && strcmp(text, "FLAGGED") == 0;
	}
	if (rc == SQLITE_DONE &&
	    (store_cov_tps(&w, div) == -1 || store_cov_region(&w) == -1))
		goto stop;
	return (store_finish(s, st, rc, "coverage"));
stop:
	sqlite3_finalize(st);
	return (-1);
}

/* An export: its own read-only connection, so its snapshot stands. */
struct store_cursor {
	sqlite3		*db;
	sqlite3_stmt	*st;
};

void
store_cursor_close(struct store_cursor *c)
{
	if (c == NULL)
		return;
	sqlite3_finalize(c->st);
	if (c->db != NULL)
		sqlite3_close(c->db);
	free(c);
}

/*
 * The latest accepted report of each (TPS, contest, page), in that
 * order, read row by row (store_export_next): the store's partial index
 * on those columns gives them sorted, so no row waits in memory. The
 * cursor reads one snapshot of the store through a connection of its
 * own while the gateway goes on writing.
 */
struct store_cursor *
store_export_open(struct store *s, const struct query_export *q, char *err,
    size_t errlen)
{
	struct store_cursor	*c;
	const char		*path = sqlite3_db_filename(s->db, "main");
	char			 sql[768];
	sqlite3_int64		 lo, hi;
	int			 b = SQLITE_OK;

	if (path == NULL || path[0] == '\0') {
		snprintf(err, errlen, "the store is not in a file");
		return (NULL);
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	snprintf(sql, sizeof(sql), "SELECT id, tps, contest, page, max(seq),"
	    " verdict, flags, values_text, receipt, received_at FROM messages"
	    " WHERE " ACCEPTED " AND tps BETWEEN ?1 AND ?2%s"
	    " GROUP BY tps, contest, page ORDER BY tps, contest, page",
	    q->contest != CONTEST_NONE ? " AND contest = ?3" : "");
	store_region_range(q->region, q->region_digits, &lo, &hi);
	if (sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READONLY |
	    SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
	    sqlite3_busy_timeout(c->db, STORE_BUSY_MS) != SQLITE_OK ||
	    sqlite3_prepare_v2(c->db, sql, -1, &c->st, NULL) != SQLITE_OK)
		goto fail;
	b |= sqlite3_bind_int64(c->st, 1, lo);
	b |= sqlite3_bind_int64(c->st, 2, hi);
	if (q->contest != CONTEST_NONE)
		b |= store_bind_text(c->st, 3, decode_contest_name(q->contest));
	if (b != SQLITE_OK)
		goto fail;
	return (c);
fail:
	snprintf(err, errlen, "%s: %s", path, c->db != NULL ?
	    sqlite3_errmsg(c->db) : "out of memory");
	log_warnx("store: export: %s", err);
	store_cursor_close(c);
	return (NULL);
}

/* The next row of an export: 1 a row, 0 the end, -1 an error (logged). */
int
store_export_next(struct store_cursor *c, struct store_export_row *r)
{
	int	 rc;

	if ((rc = sqlite3_step(c->st)) == SQLITE_DONE)
		return (0);
	if (rc != SQLITE_ROW) {
		log_warnx("store: export: %s", sqlite3_errmsg(c->db));
		return (-1);
	}
	memset(r, 0, sizeof(*r));
	r->msg_id = sqlite3_column_int64(c->st, 0);
	r->tps = (uint64_t)sqlite3_column_int64(c->st, 1);
	r->contest = store_col_str(c->st, 2) != NULL ?
	    decode_contest(store_col_str(c->st, 2)) : CONTEST_NONE;
	r->page = sqlite3_column_type(c->st, 3) == SQLITE_NULL ? -1 :
	    sqlite3_column_int(c->st, 3);
	r->seq = (unsigned)sqlite3_column_int64(c->st, 4);
	r->verdict = store_verdict_parse(store_col_str(c->st, 5));
	r->flags = (unsigned)sqlite3_column_int64(c->st, 6);
	store_col(c->st, 7, r->values, sizeof(r->values));
	store_col(c->st, 8, r->receipt, sizeof(r->receipt));
	store_col(c->st, 9, r->received_at, sizeof(r->received_at));
	return (1);
}

/*
 * Forward rows in one of the states of mask (1 << enum fwd_state),
 * of one message (msg_id) or of all (0), with an id above after, by
 * id: the operator's `forward retry' walks them a batch at a time.
 */
int
store_fwd_select(struct store *s, int64_t msg_id, unsigned mask,
    int64_t after, struct store_fwd *out, size_t max, size_t *np)
{
	sqlite3_stmt	*st;
	char		 sql[512];
	size_t		 off = 0;
	int		 i, b = 0, first = 1, rc;

	*np = 0;
	b |= store_sql_add(sql, sizeof(sql), &off, "SELECT " FWD_COLUMNS
	    " FROM forwards WHERE id > ?1 AND (?2 = 0 OR msg_id = ?2)"
	    " AND state IN (");
	for (i = FWD_PENDING; i <= FWD_FAILED; i++) {
		if ((mask & (1U << i)) == 0)
			continue;
		b |= store_sql_add(sql, sizeof(sql), &off, first ? "'" : ", '");
		b |= store_sql_add(sql, sizeof(sql), &off,
		    store_fwd_state_name((enum fwd_state)i));
		b |= store_sql_add(sql, sizeof(sql), &off, "'");
		first = 0;
	}
	b |= store_sql_add(sql, sizeof(sql), &off, ") ORDER BY id LIMIT ?3");
	if (b != 0 || first)
		return (-1);
	if ((st = store_prepare(s, sql, "fwd select")) == NULL)
		return (-1);
	if (sqlite3_bind_int64(st, 1, after) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, msg_id) != SQLITE_OK) {
		store_fail(s, "fwd select");
		sqlite3_finalize(st);
		return (-1);
	}
	rc = store_rows(s, st, 3, max, "fwd select", store_fwd_due_row, out,
	    np);
	sqlite3_finalize(st);
	return (rc);
}

/* A message's last reply and its SMS: 1, 0 if it has none, -1 error. */
int
store_reply_last(struct store *s, int64_t msg_id, struct store_msg_reply *r)
{
	sqlite3_stmt	*st;
	size_t		 n = 0;

	if ((st = store_prepare(s, MSG_REPLY_SELECT " WHERE r.msg_id = ?1"
	    " ORDER BY r.id DESC LIMIT ?2", "reply last")) == NULL)
		return (-1);
	if (sqlite3_bind_int64(st, 1, msg_id) != SQLITE_OK ||
	    store_rows(s, st, 2, 1, "reply last", store_msg_reply_row, r,
	    &n) == -1) {
		sqlite3_finalize(st);
		return (-1);
	}
	sqlite3_finalize(st);
	return (n == 1);
}

/* ------------------------------------------------------------------ */
/* The alerts' questions (alert.c)                                     */
/* ------------------------------------------------------------------ */

/* How many forwards to a central were refused for good (failed). */
int
store_fwd_failed(struct store *s, const char *central, long *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	*n = 0;
	if ((st = store_prepare(s, "SELECT count(*) FROM forwards"
	    " WHERE central = ?1 AND state = 'failed'", "fwd failed")) == NULL)
		return (-1);
	if (store_bind_text(st, 1, central) != SQLITE_OK) {
		sqlite3_finalize(st);
		return (store_fail(s, "fwd failed"));
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = (long)sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	return (store_finish(s, st, rc, "fwd failed"));
}

/*
 * The reports refused for a bad code since a time (ISO 8601 UTC), from
 * how many numbers, and the TPS that got the most of them.
 */
int
store_bad_codes(struct store *s, const char *since, struct store_bad *b)
{
	static const char *const sql[2] = {
		"SELECT count(*), count(DISTINCT sender) FROM messages"
		" WHERE reason = 'CODE_BAD' AND received_at >= ?1",
		"SELECT tps, count(*) AS n FROM messages"
		" WHERE reason = 'CODE_BAD' AND received_at >= ?1"
		" AND tps IS NOT NULL GROUP BY tps ORDER BY n DESC, tps"
		" LIMIT 1",
	};
	sqlite3_stmt	*st;
	int		 i, rc;

	memset(b, 0, sizeof(*b));
	for (i = 0; i < 2; i++) {
		if ((st = store_prepare(s, sql[i], "bad codes")) == NULL)
			return (-1);
		if (store_bind_text(st, 1, since) != SQLITE_OK) {
			sqlite3_finalize(st);
			return (store_fail(s, "bad codes"));
		}
		if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if (i == 0) {
				b->codes = (long)sqlite3_column_int64(st, 0);
				b->senders = (long)sqlite3_column_int64(st, 1);
			} else {
				b->tps = (uint64_t)sqlite3_column_int64(st, 0);
				b->tps_codes = (long)sqlite3_column_int64(st,
				    1);
			}
			rc = SQLITE_DONE;
		}
		if (store_finish(s, st, rc, "bad codes") == -1)
			return (-1);
	}
	return (0);
}

/* ------------------------------------------------------------------ */
/* The dashboard's time line                                           */
/* ------------------------------------------------------------------ */

/*
 * Per minute over the last r->minutes (the current one last): the
 * messages received, the SMS sent (the network took them) and the
 * forwards acked, counted from the store.
 */
int
store_throughput(struct store *s, time_t now, int minutes,
    struct store_rate *r)
{
	static const char *const sql[3] = {
		"SELECT CAST(strftime('%s', received_at) AS INTEGER) / 60,"
		" count(*) FROM messages WHERE received_at >= ?1 GROUP BY 1",
		"SELECT sent_at / 60, count(*) FROM outbox"
		" WHERE sent_at >= ?1 GROUP BY 1",
		"SELECT updated / 60, count(*) FROM forwards"
		" WHERE state = 'acked' AND updated >= ?1 GROUP BY 1",
	};
	long		*col[3] = { r->received, r->replied, r->forwarded };
	sqlite3_stmt	*st;
	struct tm	 tm;
	char		 iso[GW_ISO_MAX];
	int64_t		 m;
	int		 i, rc;

	memset(r, 0, sizeof(*r));
	if (minutes < 1 || minutes > STORE_RATE_MINUTES)
		minutes = STORE_RATE_MINUTES;
	r->minutes = minutes;
	r->start = (now / 60 - minutes + 1) * 60;
	if (gmtime_r(&r->start, &tm) == NULL ||
	    strftime(iso, sizeof(iso), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		return (-1);
	for (i = 0; i < 3; i++) {
		if ((st = store_prepare(s, sql[i], "throughput")) == NULL)
			return (-1);
		if ((i == 0 ? store_bind_text(st, 1, iso) :
		    sqlite3_bind_int64(st, 1, (sqlite3_int64)r->start)) !=
		    SQLITE_OK) {
			sqlite3_finalize(st);
			return (store_fail(s, "throughput"));
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			m = sqlite3_column_int64(st, 0) - r->start / 60;
			if (m >= 0 && m < minutes)
				col[i][m] += (long)sqlite3_column_int64(st, 1);
		}
		if (store_finish(s, st, rc, "throughput") == -1)
			return (-1);
	}
	return (0);
}
