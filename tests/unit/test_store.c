/*
 * Unit tests of the gateway's store (gateway/store.c): every table
 * round-trips, the SQLite history answers exactly like memhist, the
 * reply and forward queues move as the state machines expect, and a
 * committed message survives a process that dies without closing.
 * Each test works in its own directory under /tmp, removed at the end.
 */

#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "gw.h"
#include "log.h"
#include "memhist.h"
#include "tally.h"

#define TPS_A	"3201012001001"
#define TPS_B	"3201012001002"
#define TPS_AN	3201012001001ULL
#define TPS_BN	3201012001002ULL

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct store	*s;
};

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[512];

	if (f == NULL)
		return (-1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return (-1);
	}
	snprintf(f->path, sizeof(f->path), "%s/tallygw.db", f->dir);
	if ((f->s = store_open(f->path, err, sizeof(err))) == NULL) {
		fprintf(stderr, "store_open: %s\n", err);
		rmdir(f->dir);
		free(f);
		return (-1);
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	const char	*sfx[] = { "", "-wal", "-shm", "-journal" };
	char		 p[160];
	size_t		 i;
	int		 rc = 0;

	store_close(f->s);
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", f->path, sfx[i]);
		unlink(p);
	}
	if (rmdir(f->dir) == -1) {
		fprintf(stderr, "rmdir %s failed\n", f->dir);
		rc = -1;
	}
	free(f);
	return (rc);
}

/* Close and open the store again, as a restart does. */
static void
reopen(struct fixture *f)
{
	char	 err[512];

	store_close(f->s);
	f->s = store_open(f->path, err, sizeof(err));
	if (f->s == NULL)
		fail_msg("reopen: %s", err);
}

/* Run one SQL statement on a second connection; return column 0. */
static long long raw_int(struct fixture *, const char *, ...)
    __attribute__((__format__ (printf, 2, 3)));
static const char *raw_text(struct fixture *, const char *, ...)
    __attribute__((__format__ (printf, 2, 3)));

static long long
raw_run(struct fixture *f, const char *sql, char *text, size_t len)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	long long	 v = -999;
	int		 rc;

	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		fail_msg("raw open %s", f->path);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("raw prepare %s: %s", sql, sqlite3_errmsg(db));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		v = sqlite3_column_int64(st, 0);
		if (text != NULL)
			snprintf(text, len, "%s", sqlite3_column_type(st, 0) ==
			    SQLITE_NULL ? "(null)" :
			    (const char *)sqlite3_column_text(st, 0));
	} else if (rc != SQLITE_DONE)
		fail_msg("raw step %s: %s", sql, sqlite3_errmsg(db));
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (v);
}

static long long
raw_int(struct fixture *f, const char *fmt, ...)
{
	char	 sql[1024];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	return (raw_run(f, sql, NULL, 0));
}

/* SQLite's plan of a query, its steps joined by "; ". */
static void
raw_plan(struct fixture *f, const char *sql, char *out, size_t len)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 q[1024];
	size_t		 o = 0;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	out[0] = '\0';
	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("plan %s: %s", q, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW && o < len)
		o += snprintf(out + o, len - o, "%s; ",
		    (const char *)sqlite3_column_text(st, 3));
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static const char *
raw_text(struct fixture *f, const char *fmt, ...)
{
	static char	 text[1024];
	char		 sql[1024];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	text[0] = '\0';
	raw_run(f, sql, text, sizeof(text));
	return (text);
}

/* Run SQL statements on a second connection; SQLite's result code. */
static int
raw_exec(struct fixture *f, const char *sql)
{
	sqlite3	*db;
	int	 rc;

	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK)
		fail_msg("raw open %s", f->path);
	sqlite3_busy_timeout(db, 5000);
	if ((rc = sqlite3_exec(db, sql, NULL, NULL, NULL)) != SQLITE_OK)
		fprintf(stderr, "# raw exec: %s\n", sqlite3_errmsg(db));
	sqlite3_close(db);
	return (rc);
}

/* How many times SQLite's program for sql uses the opcode op. */
static int
raw_ops(struct fixture *f, const char *sql, const char *op)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 q[1024];
	int		 n = 0;

	snprintf(q, sizeof(q), "EXPLAIN %s", sql);
	if (sqlite3_open_v2(f->path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK || sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("explain %s: %s", q, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW)
		n += strcmp((const char *)sqlite3_column_text(st, 1), op) == 0;
	sqlite3_finalize(st);
	sqlite3_close(db);
	return (n);
}

static void
iso_at(time_t t, char *buf, size_t len)
{
	struct tm	 tm;
	char		 d[24];

	gmtime_r(&t, &tm);
	strftime(d, sizeof(d), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.000Z", d);
}

static time_t
utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm	 tm;

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return (timegm(&tm));
}

/* A plain non-report message from sender. */
static void
mkmsg(struct store_msg *m, enum msg_kind kind, const char *sender,
    const char *raw)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->modem, sizeof(m->modem), "m1");
	snprintf(m->modem_number, sizeof(m->modem_number), "+6281100000001");
	snprintf(m->sender, sizeof(m->sender), "%s", sender);
	snprintf(m->smsc_time, sizeof(m->smsc_time), "2024-02-14T03:00:00Z");
	store_iso_now(m->received_at, sizeof(m->received_at));
	m->parts = 1;
	snprintf(m->raw, sizeof(m->raw), "%s", raw);
	m->kind = kind;
	m->report.page = -1;
}

static int64_t
addmsg(struct fixture *f, enum msg_kind kind, enum verdict v,
    const char *raw)
{
	struct store_msg	 m;

	mkmsg(&m, kind, "+6281234567890", raw);
	m.verdict = v;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_true(m.id > 0);
	return (m.id);
}

/*
 * A SIM slot keeps its own part's identity: a slot reused after a crash
 * by another part of the same sender is told apart. A slot written by
 * schema version 1 (upgraded in place) answers with the message's time
 * and says multipart, as it did.
 */
static void
test_slots(void **state)
{
	struct fixture	*f = *state;
	struct store_msg m;
	char		 sender[48], id[64];
	int64_t		 got;
	int		 multi;

	mkmsg(&m, MSG_REPORT, "+6281234567890", "1*x");
	m.parts = 3;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_int_equal(store_slot_add(f->s, "m1", 4, m.id,
	    "2024-02-14T03:00:05Z 7/2"), 0);
	assert_int_equal(store_slot_get(f->s, "m1", 4, &got, sender,
	    sizeof(sender), id, sizeof(id), &multi), 1);
	assert_int_equal(got, m.id);
	assert_string_equal(sender, "+6281234567890");
	assert_string_equal(id, "2024-02-14T03:00:05Z 7/2");
	assert_int_equal(multi, 0);
	assert_int_equal(store_slot_get(f->s, "m1", 5, &got, sender,
	    sizeof(sender), id, sizeof(id), &multi), 0);
	/* A row of version 1 has no part identity. */
	raw_int(f, "UPDATE sim_slots SET part_time = '' WHERE location = 4");
	assert_int_equal(store_slot_get(f->s, "m1", 4, &got, sender,
	    sizeof(sender), id, sizeof(id), &multi), 1);
	assert_string_equal(id, "2024-02-14T03:00:00Z");
	assert_int_equal(multi, 1);
}

/*
 * Make the fixture's store what schema version 5 wrote: messages_kind
 * and replies_out over every row.
 */
static void
make_v5(struct fixture *f)
{
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(raw_exec(f, "DROP INDEX messages_kind;"
	    "CREATE INDEX messages_kind ON messages (kind, verdict);"
	    "DROP INDEX replies_out;"
	    "CREATE INDEX replies_out ON replies (out_id);"
	    "PRAGMA user_version = 5;"), SQLITE_OK);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE name IN ('messages_kind', 'replies_out')"
	    " AND sql NOT LIKE '%%WHERE%%'"), 2);
}

/*
 * Make the fixture's store what schema version 4 wrote: CHECK
 * constraints with IN lists (as tallygw wrote them up to version 4),
 * messages_seq and forwards_due, no forwards_failed.
 */
static void
make_v4(struct fixture *f)
{
	make_v5(f);
	assert_int_equal(raw_exec(f, "PRAGMA writable_schema = ON;"
	    "UPDATE sqlite_master SET sql = replace(replace(sql,"
	    " 'CHECK (kind = ''report'' OR kind = ''cek'' OR kind = ''bantu''"
	    " OR kind = ''other'' OR kind = ''rate'')',"
	    " ' CHECK (kind IN (''report'', ''cek'', ''bantu'', ''other'',"
	    " ''rate''))'),"
	    " 'CHECK (verdict = ''OK'' OR verdict = ''FLAGGED'' OR"
	    " verdict = ''DUPLICATE'' OR verdict = ''REJECTED'')',"
	    " ' CHECK (verdict IN (''OK'', ''FLAGGED'', ''DUPLICATE'',"
	    " ''REJECTED''))') WHERE name = 'messages';"
	    "UPDATE sqlite_master SET sql = replace(sql,"
	    " 'CHECK (state = ''queued'' OR state = ''sending'' OR"
	    " state = ''sent'' OR state = ''delivered'' OR"
	    " state = ''failed'')', 'CHECK (state IN  (''queued'',"
	    " ''sending'', ''sent'', ''delivered'', ''failed''))')"
	    " WHERE name = 'outbox';"
	    "UPDATE sqlite_master SET sql = replace(sql,"
	    " 'CHECK (state = ''pending'' OR state = ''sending'' OR"
	    " state = ''acked'' OR state = ''retry_wait'' OR"
	    " state = ''failed'')', 'CHECK (state IN  (''pending'',"
	    " ''sending'', ''acked'', ''retry_wait'', ''failed''))')"
	    " WHERE name = 'forwards';"
	    "PRAGMA writable_schema = RESET;"
	    "DROP INDEX forwards_failed;"
	    "CREATE INDEX messages_seq ON messages (tps, seq)"
	    " WHERE verdict IN ('OK', 'FLAGGED');"
	    "CREATE INDEX forwards_due ON forwards (central, state, next_at);"
	    "PRAGMA user_version = 4;"), SQLITE_OK);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE sql LIKE '%%kind IN (''report''%%'"
	    " OR sql LIKE '%%verdict IN (''OK'', ''FLAGGED'', ''DUP%%'"
	    " OR sql LIKE '%%state IN  (''queued''%%'"
	    " OR sql LIKE '%%state IN  (''pending''%%'"), 3);
}

/* Make the fixture's store what schema version 3 wrote: no priorities. */
static void
make_v3(struct fixture *f)
{
	make_v4(f);
	raw_int(f, "ALTER TABLE replies DROP COLUMN priority");
	raw_int(f, "ALTER TABLE outbox DROP COLUMN priority");
	raw_int(f, "PRAGMA user_version = 3");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM pragma_table_info("
	    "'outbox') WHERE name = 'priority'"), 0);
}

/* Make the fixture's store what schema version 2 wrote: no USSD rows. */
static void
make_v2(struct fixture *f)
{
	make_v3(f);
	raw_int(f, "DROP TABLE ussd_ends");
	raw_int(f, "DROP TABLE ussd_kept");
	raw_int(f, "PRAGMA user_version = 2");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master WHERE"
	    " name LIKE 'ussd%%'"), 0);
}

/* 1 if both USSD tables and their indexes are in the store. */
static int
has_ussd_tables(struct fixture *f)
{
	return (raw_int(f, "SELECT count(*) FROM sqlite_master WHERE name IN"
	    " ('ussd_ends', 'ussd_kept', 'ussd_ends_expires',"
	    " 'ussd_kept_expires')") == 4);
}

/* A version 1 store is upgraded in place, through 2, when it is opened. */
static void
test_upgrade(void **state)
{
	struct fixture	*f = *state;
	struct store	*s2;
	char		 err[512];

	make_v2(f);
	raw_int(f, "ALTER TABLE sim_slots DROP COLUMN part_time");
	raw_int(f, "PRAGMA user_version = 1");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM pragma_table_info("
	    "'sim_slots') WHERE name = 'part_time'"), 0);
	s2 = store_open(f->path, err, sizeof(err));
	assert_non_null(s2);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM pragma_table_info("
	    "'sim_slots') WHERE name = 'part_time'"), 1);
	assert_true(has_ussd_tables(f));
	f->s = s2;
}

/*
 * A version 4 store (a night's rows in it) is upgraded to 5 in place:
 * its CHECK constraints become chains of `=' that still refuse what
 * they refused, the indexes no query needs are gone, forwards_failed
 * counts the failed forwards already there, and every row stays.
 */
static void
test_upgrade_v4(void **state)
{
	struct fixture	*f = *state;
	int64_t		 a, b, fa;
	long		 failed;
	char		 err[512];

	a = addmsg(f, MSG_REPORT, VERDICT_OK, "1*x");
	b = addmsg(f, MSG_OTHER, VERDICT_REJECTED, "halo");
	assert_int_equal(store_fwd_add(f->s, a, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, b, "kpu"), 0);
	fa = raw_int(f, "SELECT id FROM forwards WHERE msg_id = %lld",
	    (long long)a);
	assert_int_equal(store_fwd_set(f->s, fa, FWD_FAILED, 1, 0, 400,
	    "refused"), 0);
	make_v4(f);
	assert_non_null(f->s = store_open(f->path, err, sizeof(err)));
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE sql LIKE '%%kind = ''report'' OR kind = ''cek''%%'"
	    " AND sql LIKE '%%verdict = ''OK'' OR verdict%%'"), 1);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE (name = 'outbox' AND sql LIKE '%%state = ''queued'' OR%%')"
	    " OR (name = 'forwards' AND"
	    " sql LIKE '%%state = ''pending'' OR%%')"), 2);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE sql LIKE '%%IN (''report''%%'"
	    " OR sql LIKE '%%IN  (''%%'"), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master WHERE"
	    " name IN ('messages_seq', 'forwards_due')"), 0);
	assert_string_equal(raw_text(f, "PRAGMA integrity_check"), "ok");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(store_fwd_failed(f->s, "kpu", &failed), 0);
	assert_int_equal(failed, 1);
	/* The constraints still hold. */
	assert_int_equal(raw_exec(f, "UPDATE messages SET kind = 'junk'"
	    " WHERE id = 1"), SQLITE_CONSTRAINT);
	assert_int_equal(raw_exec(f, "UPDATE messages SET verdict = 'MAYBE'"
	    " WHERE id = 1"), SQLITE_CONSTRAINT);
	assert_int_equal(raw_exec(f, "UPDATE messages SET verdict = NULL"
	    " WHERE id = 2"), SQLITE_OK);
	assert_int_equal(raw_exec(f, "UPDATE forwards SET state = 'lost'"),
	    SQLITE_CONSTRAINT);
	assert_int_equal(raw_exec(f, "INSERT INTO outbox (dest, text, state,"
	    " created) VALUES ('+62811', 'x', 'gone', 1)"), SQLITE_CONSTRAINT);
	assert_int_equal(raw_exec(f, "INSERT INTO outbox (dest, text, state,"
	    " created) VALUES ('+62811', 'x', 'delivered', 1)"), SQLITE_OK);
	/* Opened again: nothing more to do. */
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(addmsg(f, MSG_CEK, 0, "CEK 1") > b, 1);
}

/*
 * A version 5 store (a night's rows in it) is upgraded to 6 in place:
 * messages_kind keeps only the messages that are not OK reports and
 * replies_out only the replies in an SMS; /status counts every message
 * as before, a reply still sees who shares its SMS, the questions that
 * read those indexes still read them, and every row stays.
 */
static int64_t	addreply(struct fixture *, int64_t, const char *, time_t,
		    const char *);
static int64_t	addout(struct fixture *, const char *, time_t,
		    const int64_t *, size_t);

static void
test_upgrade_v5(void **state)
{
	struct fixture		*f = *state;
	struct store_counts	 c;
	struct store_msg_reply	 mr[2];
	struct store_msg	 m;
	char			 err[512], plan[1024], shared[32];
	int64_t			 a, b, d, ra, rb, rd, ids[2], o1;
	size_t			 n;

	a = addmsg(f, MSG_REPORT, VERDICT_OK, "a");
	b = addmsg(f, MSG_REPORT, VERDICT_REJECTED, "b");
	addmsg(f, MSG_CEK, 0, "CEK 1");
	d = addmsg(f, MSG_REPORT, VERDICT_FLAGGED, "d");
	addmsg(f, MSG_REPORT, VERDICT_OK, "e");
	ra = addreply(f, a, "+62811", 100, "one");
	rb = addreply(f, b, "+62811", 101, "two");
	rd = addreply(f, d, "+62812", 102, "three");
	ids[0] = ra;
	ids[1] = rb;
	o1 = addout(f, "+62811", 0, ids, 2);
	make_v5(f);
	assert_non_null(f->s = store_open(f->path, err, sizeof(err)));
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE name IN ('messages_kind', 'replies_out')"
	    " AND sql LIKE '%%WHERE%%'"), 2);
	assert_string_equal(raw_text(f, "PRAGMA integrity_check"), "ok");
	/* What the indexes hold: b, the CEK and d; ra and rb. */
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages"
	    " INDEXED BY messages_kind WHERE"
	    " (kind != 'report' OR verdict IS NOT 'OK')"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM replies"
	    " INDEXED BY replies_out WHERE out_id IS NOT NULL"), 2);
	/* The counts of /status, as written before the upgrade. */
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.msgs, 5);
	assert_int_equal(c.reports, 4);
	assert_int_equal(c.ok, 2);
	assert_int_equal(c.flagged, 1);
	assert_int_equal(c.rejected, 1);
	assert_int_equal(c.duplicate, 0);
	assert_int_equal(c.other, 1);
	assert_int_equal(c.out_queued, 1);
	/* Who shares an SMS, and a reply still owed. */
	assert_int_equal(store_msg_replies(f->s, a, mr, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mr[0].out.id, o1);
	snprintf(shared, sizeof(shared), "%lld", (long long)b);
	assert_string_equal(mr[0].shared, shared);
	assert_int_equal(store_msg_replies(f->s, d, mr, 2, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mr[0].reply.id, rd);
	assert_int_equal(mr[0].out.id, 0);
	assert_int_equal(store_msg_get(f->s, d, &m), 1);
	assert_int_equal(m.verdict, VERDICT_FLAGGED);
	/* The questions that read them still read them. */
	raw_plan(f, "SELECT kind, verdict, count(*) FROM messages WHERE"
	    " (kind != 'report' OR verdict IS NOT 'OK') GROUP BY kind,"
	    " verdict", plan, sizeof(plan));
	assert_non_null(strstr(plan, "messages_kind"));
	raw_plan(f, "SELECT m.id FROM messages m WHERE m.kind = 'cek' AND"
	    " (m.kind != 'report' OR m.verdict IS NOT 'OK')"
	    " ORDER BY m.id DESC LIMIT 5", plan, sizeof(plan));
	assert_non_null(strstr(plan, "messages_kind"));
	raw_plan(f, "SELECT msg_id FROM replies x WHERE x.out_id = 7",
	    plan, sizeof(plan));
	assert_non_null(strstr(plan, "replies_out"));
	/* New rows: an OK report and a new reply stay out of them. */
	addmsg(f, MSG_REPORT, VERDICT_OK, "f");
	addreply(f, a, "+62811", 103, "four");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages"
	    " INDEXED BY messages_kind WHERE"
	    " (kind != 'report' OR verdict IS NOT 'OK')"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM replies"
	    " INDEXED BY replies_out WHERE out_id IS NOT NULL"), 2);
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.msgs, 6);
	assert_int_equal(c.ok, 3);
	/* Opened again: nothing more to do. */
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_string_equal(raw_text(f, "PRAGMA integrity_check"), "ok");
}

/*
 * Writing a message or a forward builds no ephemeral table in SQLite
 * (a CHECK of `x IN (a, b, c)' built one for every row: a fifth of the
 * receive stage's instructions).
 */
static void
test_no_ephemeral(void **state)
{
	struct fixture	*f = *state;

	assert_int_equal(raw_ops(f, "INSERT INTO messages (modem,"
	    " modem_number, sender, smsc_time, received_at, parts, raw, kind,"
	    " verdict) VALUES ('m', '', 's', 't', 'r', 1, 'x', 'report',"
	    " 'OK')", "OpenEphemeral"), 0);
	assert_int_equal(raw_ops(f, "INSERT INTO forwards (msg_id, central,"
	    " state, updated) VALUES (1, 'kpu', 'pending', 1)",
	    "OpenEphemeral"), 0);
	assert_int_equal(raw_ops(f, "UPDATE outbox SET state = 'sent'"
	    " WHERE id = 1", "OpenEphemeral"), 0);
	/* What the test looks for: the IN form of version 4 builds one. */
	make_v4(f);
	assert_true(raw_ops(f, "INSERT INTO forwards (msg_id, central,"
	    " state, updated) VALUES (1, 'kpu', 'pending', 1)",
	    "OpenEphemeral") > 0);
}

/*
 * A version 2 store (a night's messages in it) is upgraded to 3 in
 * place: the USSD tables appear, every message stays, and the new rows
 * can be written at once.
 */
static void
test_upgrade_v2(void **state)
{
	struct fixture		*f = *state;
	struct store_ussd_end	 e;
	int64_t			 id;
	char			 err[512];

	id = addmsg(f, MSG_REPORT, VERDICT_OK, "1*x");
	addmsg(f, MSG_OTHER, VERDICT_REJECTED, "halo");
	make_v2(f);
	assert_non_null(f->s = store_open(f->path, err, sizeof(err)));
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_true(has_ussd_tables(f));
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages"), 2);
	memset(&e, 0, sizeof(e));
	snprintf(e.session, sizeof(e.session), "S1");
	snprintf(e.phone, sizeof(e.phone), "+6281234567890");
	e.msg_id = id;
	e.expires = 2000000000;
	assert_int_equal(store_ussd_end_add(f->s, &e), 0);
	/* Opened again: nothing more to do, the row is there. */
	reopen(f);
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(store_ussd_end_get(f->s, "S1", 1000000000, &e), 1);
	assert_int_equal(e.msg_id, id);
}

/* A session's last screen, fetched by its id until it expires. */
static void
test_ussd_ends(void **state)
{
	struct fixture		*f = *state;
	struct store_ussd_end	 e, got;
	int			 ends, kept;

	memset(&e, 0, sizeof(e));
	snprintf(e.session, sizeof(e.session), "ATUid_0f3a");
	snprintf(e.phone, sizeof(e.phone), "+6281234567890");
	snprintf(e.request, sizeof(e.request), "1*%s*255*120*95*36*251*4*3*"
	    "43058167*1", TPS_A);
	snprintf(e.answer, sizeof(e.answer), "END OK PPWP TPS %s SEQ 3. "
	    "Tanda terima 12345678.", TPS_A);
	e.ended = 1707879600;
	e.expires = 1707880200;
	/* A message that is not in the store: refused (foreign key). */
	e.msg_id = 99;
	assert_int_equal(store_ussd_end_add(f->s, &e), -1);
	e.msg_id = addmsg(f, MSG_REPORT, VERDICT_OK, "1*x");
	assert_int_equal(store_ussd_end_add(f->s, &e), 0);
	assert_int_equal(store_ussd_end_get(f->s, "ATUid_0f3a", 1707880199,
	    &got), 1);
	assert_string_equal(got.session, "ATUid_0f3a");
	assert_string_equal(got.phone, "+6281234567890");
	assert_string_equal(got.request, "1*" TPS_A "*255*120*95*36*251*4*3*"
	    "43058167*1");
	assert_string_equal(got.answer, "END OK PPWP TPS " TPS_A " SEQ 3. "
	    "Tanda terima 12345678.");
	assert_int_equal(got.msg_id, e.msg_id);
	assert_int_equal(got.ended, 1707879600);
	assert_int_equal(got.expires, 1707880200);
	/* Another session, and this one once it expired: none. */
	assert_int_equal(store_ussd_end_get(f->s, "ATUid_0f3b", 1707880000,
	    &got), 0);
	assert_int_equal(store_ussd_end_get(f->s, "ATUid_0f3a", 1707880200,
	    &got), 0);
	/* It survives a restart. */
	reopen(f);
	assert_int_equal(store_ussd_end_get(f->s, "ATUid_0f3a", 1707880000,
	    &got), 1);
	assert_int_equal(got.msg_id, e.msg_id);
	/* Expiry removes it, and only what expired. */
	snprintf(e.session, sizeof(e.session), "ATUid_0f3c");
	e.expires = 1707880300;
	assert_int_equal(store_ussd_end_add(f->s, &e), 0);
	assert_int_equal(store_ussd_expire(f->s, 1707880200, &ends, &kept), 0);
	assert_int_equal(ends, 1);
	assert_int_equal(kept, 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM ussd_ends"), 1);
	assert_string_equal(raw_text(f, "SELECT session FROM ussd_ends"),
	    "ATUid_0f3c");
}

/*
 * A number's half-filled report: every field round-trips (none, and
 * a page, SEQ and code), one per number, readable by sqlite3, gone once
 * taken or expired.
 */
static void
test_ussd_kept(void **state)
{
	struct fixture		*f = *state;
	struct store_ussd_kept	 k, got;
	int			 ends, kept;

	memset(&k, 0, sizeof(k));
	snprintf(k.phone, sizeof(k.phone), "+6281234567890");
	snprintf(k.session, sizeof(k.session), "s-drop");
	snprintf(k.menu.step, sizeof(k.menu.step), "values");
	k.menu.contest = CONTEST_PPWP;
	k.menu.tps = TPS_AN;
	k.menu.page = -1;
	k.menu.nvalues = 2;
	k.menu.values[0] = 255;
	k.menu.values[1] = 0;
	k.kept_at = 1707879600;
	k.expires = 1707881400;
	assert_int_equal(store_ussd_keep(f->s, &k), 0);
	assert_string_equal(raw_text(f, "SELECT step || ' ' || contest || ' '"
	    " || tps || ' ' || coalesce(page, '-') || ' ' || values_text ||"
	    " ' ' || coalesce(seq, '-') || ' ' || coalesce(code, '-')"
	    " FROM ussd_kept"), "values PPWP " TPS_A " - 255 0 - -");
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567890",
	    1707881399, &got), 1);
	assert_string_equal(got.phone, "+6281234567890");
	assert_string_equal(got.session, "s-drop");
	assert_string_equal(got.menu.step, "values");
	assert_int_equal(got.menu.contest, CONTEST_PPWP);
	assert_true(got.menu.tps == TPS_AN);
	assert_int_equal(got.menu.page, -1);
	assert_int_equal(got.menu.nvalues, 2);
	assert_int_equal(got.menu.values[0], 255);
	assert_int_equal(got.menu.values[1], 0);
	assert_int_equal(got.menu.seq, 0);
	assert_string_equal(got.menu.code, "");
	assert_int_equal(got.kept_at, 1707879600);
	assert_int_equal(got.expires, 1707881400);
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567890",
	    1707881400, &got), 0);
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567891",
	    1707880000, &got), 0);

	/* The same number again: the later report replaces it. */
	snprintf(k.session, sizeof(k.session), "s-drop2");
	snprintf(k.menu.step, sizeof(k.menu.step), "review");
	k.menu.contest = CONTEST_DPR;
	k.menu.page = 0;
	k.menu.nvalues = 3;
	k.menu.values[2] = 999;
	k.menu.seq = 12;
	snprintf(k.menu.code, sizeof(k.menu.code), "01234567");
	k.menu.review = 1;
	assert_int_equal(store_ussd_keep(f->s, &k), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM ussd_kept"), 1);
	reopen(f);
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567890",
	    1707880000, &got), 1);
	assert_string_equal(got.session, "s-drop2");
	assert_string_equal(got.menu.step, "review");
	assert_int_equal(got.menu.contest, CONTEST_DPR);
	assert_int_equal(got.menu.page, 0);
	assert_int_equal(got.menu.nvalues, 3);
	assert_int_equal(got.menu.values[2], 999);
	assert_int_equal(got.menu.seq, 12);
	assert_string_equal(got.menu.code, "01234567");
	assert_int_equal(got.menu.review, 1);

	/* Values that do not match their count: an error, not a report. */
	raw_int(f, "UPDATE ussd_kept SET values_text = '255 0'");
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567890",
	    1707880000, &got), -1);

	/* Taken up: gone. Another number's expires with time. */
	assert_int_equal(store_ussd_kept_del(f->s, "+6281234567890"), 0);
	assert_int_equal(store_ussd_kept_get(f->s, "+6281234567890",
	    1707880000, &got), 0);
	snprintf(k.phone, sizeof(k.phone), "+6281234567892");
	assert_int_equal(store_ussd_keep(f->s, &k), 0);
	assert_int_equal(store_ussd_expire(f->s, 1707881399, &ends, &kept), 0);
	assert_int_equal(kept, 0);
	assert_int_equal(store_ussd_expire(f->s, 1707881400, &ends, &kept), 0);
	assert_int_equal(kept, 1);
	assert_int_equal(ends, 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM ussd_kept"), 0);
}

static void
test_open(void **state)
{
	struct fixture	*f = *state;
	struct store	*s2;
	char		 err[512];

	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_string_equal(raw_text(f, "PRAGMA journal_mode"), "wal");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'table' AND name IN ('messages', 'replies', 'outbox',"
	    " 'forwards')"), 4);
	assert_true(has_ussd_tables(f));
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master WHERE"
	    " type = 'index' AND name IN ('messages_page', 'messages_seen',"
	    " 'forwards_failed')"), 3);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master WHERE"
	    " name IN ('messages_seq', 'forwards_due')"), 0);
	/* A second opener finds the schema and does not create it again. */
	s2 = store_open(f->path, err, sizeof(err));
	assert_non_null(s2);
	store_close(s2);
	/* Nowhere to create it: NULL and a message naming the path. */
	err[0] = '\0';
	assert_null(store_open("/nonexistent/dir/tallygw.db", err,
	    sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/tallygw.db"));
	/* A store written by a newer tallygw is refused. */
	store_close(f->s);
	f->s = NULL;
	raw_int(f, "PRAGMA user_version = 7");
	err[0] = '\0';
	assert_null(store_open(f->path, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
	raw_int(f, "PRAGMA user_version = 6");
	reopen(f);
}

static void
fill_report(struct store_msg *m)
{
	mkmsg(m, MSG_REPORT, "+6281234567890",
	    "2*" TPS_A "*12*3*10*20*999*12345678");
	snprintf(m->smsc_time, sizeof(m->smsc_time), "2024-02-14T03:00:00Z");
	snprintf(m->received_at, sizeof(m->received_at),
	    "2024-02-14T03:00:01.250Z");
	snprintf(m->verified_at, sizeof(m->verified_at),
	    "2024-02-14T03:00:01.300Z");
	snprintf(m->modem, sizeof(m->modem), "telkomsel-2");
	m->parts = 2;
	m->verdict = VERDICT_FLAGGED;
	m->reason = REASON_NONE;
	m->flags = FLAG_PARTY | FLAG_SENDER;
	m->auth = AUTH_CARD;
	m->decoded = 1;
	m->report.contest = CONTEST_DPR;
	m->report.tps = TPS_AN;
	m->report.seq = 12;
	m->report.page = 3;
	m->report.nvalues = 3;
	m->report.values[0] = 10;
	m->report.values[1] = 20;
	m->report.values[2] = 999;
	snprintf(m->report.code, sizeof(m->report.code), "12345678");
	snprintf(m->report.canon, sizeof(m->report.canon),
	    "DPR " TPS_A " 12 3 10 20 999");
	snprintf(m->receipt, sizeof(m->receipt), "87654321");
	m->supersedes = 11;
	snprintf(m->detail, sizeof(m->detail), "PARTY: 1029, page 0 says 30");
}

static void
test_msg_roundtrip(void **state)
{
	struct fixture		*f = *state;
	struct store_msg	 m, g;
	int64_t			 first;
	int			 r, k;

	fill_report(&m);
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_true(m.id > 0);
	first = m.id;
	assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
	assert_int_equal(g.id, m.id);
	assert_string_equal(g.modem, "telkomsel-2");
	assert_string_equal(g.modem_number, m.modem_number);
	assert_string_equal(g.sender, m.sender);
	assert_string_equal(g.smsc_time, m.smsc_time);
	assert_string_equal(g.received_at, m.received_at);
	assert_string_equal(g.verified_at, m.verified_at);
	assert_int_equal(g.parts, 2);
	assert_string_equal(g.raw, m.raw);
	assert_int_equal(g.kind, MSG_REPORT);
	assert_int_equal(g.verdict, VERDICT_FLAGGED);
	assert_int_equal(g.reason, REASON_NONE);
	assert_int_equal(g.flags, FLAG_PARTY | FLAG_SENDER);
	assert_int_equal(g.auth, AUTH_CARD);
	assert_int_equal(g.decoded, 1);
	assert_int_equal(g.report.contest, CONTEST_DPR);
	assert_true(g.report.tps == TPS_AN);
	assert_int_equal(g.report.seq, 12);
	assert_int_equal(g.report.page, 3);
	assert_int_equal(g.report.nvalues, 3);
	assert_int_equal(g.report.values[2], 999);
	assert_string_equal(g.report.code, "12345678");
	assert_string_equal(g.report.canon, m.report.canon);
	assert_string_equal(g.receipt, "87654321");
	assert_int_equal(g.supersedes, 11);
	assert_string_equal(g.detail, m.detail);
	/* Nothing else either: the whole struct comes back. */
	assert_memory_equal(&g, &m, sizeof(m));
	/* As an operator reads it. */
	assert_string_equal(raw_text(f, "SELECT kind || ' ' || verdict || ' '"
	    " || auth || ' ' || contest || ' ' || values_text FROM messages"
	    " WHERE id = %lld", (long long)m.id),
	    "report FLAGGED card DPR 10 20 999");
	assert_int_equal(raw_int(f, "SELECT reason IS NULL FROM messages"
	    " WHERE id = %lld", (long long)m.id), 1);

	/* Not decoded: no report columns at all. */
	mkmsg(&m, MSG_REPORT, "+6281234567890", "PPWP 1 2");
	m.verdict = VERDICT_REJECTED;
	m.reason = REASON_CODE_FORMAT;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_true(m.id > first);
	assert_int_equal(raw_int(f, "SELECT tps IS NULL AND contest IS NULL"
	    " AND page IS NULL AND seq IS NULL AND values_text IS NULL AND"
	    " canonical IS NULL AND receipt IS NULL AND supersedes IS NULL"
	    " AND auth IS NULL AND verified_at IS NULL AND decoded = 0"
	    " FROM messages WHERE id = %lld", (long long)m.id), 1);
	assert_string_equal(raw_text(f, "SELECT reason FROM messages WHERE"
	    " id = %lld", (long long)m.id), "CODE_FORMAT");
	assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
	assert_int_equal(g.verdict, VERDICT_REJECTED);
	assert_int_equal(g.reason, REASON_CODE_FORMAT);
	assert_int_equal(g.decoded, 0);
	assert_int_equal(g.report.page, -1);
	assert_int_equal(g.report.nvalues, 0);
	assert_string_equal(g.verified_at, "");

	/* A PPWP report has no page: NULL, read back as -1. */
	fill_report(&m);
	m.report.contest = CONTEST_PPWP;
	m.report.page = -1;
	m.supersedes = 0;
	m.verdict = VERDICT_OK;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_int_equal(raw_int(f, "SELECT page IS NULL AND supersedes IS"
	    " NULL FROM messages WHERE id = %lld", (long long)m.id), 1);
	assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
	assert_int_equal(g.report.page, -1);
	assert_int_equal(g.report.contest, CONTEST_PPWP);
	assert_int_equal(g.supersedes, 0);

	/* Not a report: no verdict, whatever the caller left in it. */
	mkmsg(&m, MSG_CEK, "+6281234567890", "CEK " TPS_A);
	m.verdict = VERDICT_OK;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_int_equal(raw_int(f, "SELECT verdict IS NULL AND kind = 'cek'"
	    " FROM messages WHERE id = %lld", (long long)m.id), 1);
	assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
	assert_int_equal(g.kind, MSG_CEK);
	assert_int_equal(g.verdict, 0);

	/* Every reason and every kind has a name that reads back. */
	for (r = REASON_NONE + 1; r < REASON_MAX; r++) {
		mkmsg(&m, MSG_REPORT, "+62811", "x");
		m.verdict = VERDICT_REJECTED;
		m.reason = (enum reason)r;
		assert_int_equal(store_msg_add(f->s, &m), 0);
		assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
		assert_int_equal(g.reason, r);
	}
	assert_string_equal(raw_text(f, "SELECT reason FROM messages WHERE"
	    " id = %lld", (long long)m.id), "CODE_PLACE");
	for (k = MSG_REPORT; k <= MSG_RATE; k++) {
		mkmsg(&m, (enum msg_kind)k, "+62811", "y");
		assert_int_equal(store_msg_add(f->s, &m), 0);
		assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
		assert_int_equal(g.kind, k);
	}
	/* An unknown id. */
	assert_int_equal(store_msg_get(f->s, m.id + 1000, &g), 0);
	/* A kind with no name is refused, not stored as garbage. */
	mkmsg(&m, (enum msg_kind)99, "+62811", "z");
	assert_int_equal(store_msg_add(f->s, &m), -1);
}

static const char election_text[] =
    "election \"Test\"\n"
    "pairs 3\n"
    "party 1 AAA\n"
    "party 2 BBB\n"
    "party 3 CCC\n"
    "party 4 LOC only 11\n"
    "dpd 32 4\n"
    "dpd 11 3\n"
    "district DPR JABAR seats 3 area 32\n"
    "candidates 2=1 3=0\n"
    "district DPR ACEH seats 3 area 11\n"
    "district DPRDP JABAR-P seats 2 area 32\n"
    "district DPRDK BDG seats 2 area 3201\n";

/* Append a code: card 0 = the content MAC, else that card row. */
static const char *
signed_text(const struct key *root, const char *text, int card)
{
	static char		 buf[1024];
	struct report		 r;
	struct decode_error	 e;
	uint8_t			 kt[TALLY_KEY_LEN];
	char			 code[TALLY_CODE_LEN + 1];

	snprintf(buf, sizeof(buf), "%s 00000000", text);
	if (decode_report(buf, strlen(buf), &r, &e) == -1)
		fail_msg("cannot decode '%s'", text);
	if (key_derive_tps(root, r.tps, kt) == -1)
		fail_msg("no key");
	if (card)
		key_card(kt, (unsigned)card, code);
	else
		key_mac(kt, r.canon, code);
	snprintf(buf, sizeof(buf), "%s %s", text, code);
	return (buf);
}

static void
prior_equal(int rc, int rc2, const struct prior *a, const struct prior *b)
{
	assert_int_equal(rc, rc2);
	if (rc != 1)
		return;
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->contest, b->contest);
	assert_int_equal(a->page, b->page);
	assert_int_equal(a->nvalues, b->nvalues);
	assert_memory_equal(a->values, b->values,
	    a->nvalues * sizeof(a->values[0]));
	assert_string_equal(a->canon, b->canon);
	assert_string_equal(a->receipt, b->receipt);
}

/*
 * The same stream of reports verified twice, once against memhist and
 * once against the store: every answer must be the same, and so must
 * every lookup afterwards.
 */
static void
test_history_vs_memhist(void **state)
{
	static const struct {
		const char	*text;
		int		 sign;		/* -1 bad code, 0 MAC, n card */
		enum verdict	 verdict;
	} stream[] = {
		{ "1 " TPS_A " 1 255 120 95 36 251 4", 0, VERDICT_OK },
		{ "1 " TPS_A " 1 255 120 95 36 251 4", 0, VERDICT_DUPLICATE },
		{ "1 " TPS_A " 1 255 121 94 36 251 4", 0, VERDICT_REJECTED },
		{ "1 " TPS_A " 3 255 121 94 36 251 4", 0, VERDICT_OK },
		{ "1 " TPS_A " 2 255 122 93 36 251 4", 0, VERDICT_OK },
		{ "2 " TPS_A " 10 0 100 40 30 20 90 10", 0, VERDICT_OK },
		{ "2 " TPS_A " 11 1 10 10 15 5", 0, VERDICT_OK },
		{ "2 " TPS_A " 12 2 20 5", 0, VERDICT_FLAGGED },
		{ "2 " TPS_A " 13 2 25 5", 0, VERDICT_OK },
		{ "2 " TPS_A " 14 0 100 40 35 15 90 10", 0, VERDICT_OK },
		{ "2 " TPS_A " 15 2 30 5", 0, VERDICT_OK },
		{ "3 " TPS_A " 4 10 1 2 3 4 10 0", 0, VERDICT_OK },
		{ "3 " TPS_A " 5 10 1 2 3 4 10 0", 5, VERDICT_OK },
		{ "1 " TPS_B " 1 255 120 95 36 251 4", 0, VERDICT_OK },
		{ "1 " TPS_B " 1 255 120 95 36 250 5", 0, VERDICT_REJECTED },
		{ "1 " TPS_B " 2 255 120 94 36 251 4", 0, VERDICT_FLAGGED },
		{ "1 " TPS_A " 20 255 120 95 36 251 4 11111111", -1,
		    VERDICT_REJECTED },
		{ "4 " TPS_A " 23 1 99 1 1", 0, VERDICT_OK },
		{ "4 " TPS_A " 24 0 100 50 30 10 90 10", 0, VERDICT_OK },
		{ "4 " TPS_A " 25 1 50 0 0", 0, VERDICT_OK },
		{ "2 " TPS_A " 12 2 20 5", 0, VERDICT_DUPLICATE },
		{ "2 " TPS_A " 9 2 20 5", 0, VERDICT_FLAGGED },
	};
	static const uint64_t	 tpss[] = { TPS_AN, TPS_BN, 3201012001003ULL };
	struct fixture		*f = *state;
	struct election		*el;
	struct memhist		*mh;
	struct key		 root;
	struct verify_ctx	 cm, cs;
	struct verify_result	 rm, rs;
	struct report		 r, r2;
	struct store_msg	 m;
	struct reply_latest	 lat[64];
	struct prior		 pm, ps;
	const char		*text;
	char			 err[256];
	size_t			 i, j, n, nlat;
	unsigned		 seq;
	int			 c, page, a, b, found;

	assert_int_equal(key_init(), 0);
	el = election_parse(election_text, sizeof(election_text) - 1, "test",
	    err, sizeof(err));
	assert_non_null(el);
	root.kind = KEY_ROOT;
	for (i = 0; i < TALLY_KEY_LEN; i++)
		root.k[i] = (uint8_t)i;
	assert_non_null(mh = memhist_new());
	memset(&cm, 0, sizeof(cm));
	cm.election = el;
	cm.key = &root;
	cm.default_dpt = VERIFY_DEFAULT_DPT;
	cs = cm;
	cm.history = memhist_history(mh);
	cs.history = store_history(f->s);
	assert_non_null(cs.history);

	for (i = 0; i < sizeof(stream) / sizeof(stream[0]); i++) {
		text = stream[i].sign < 0 ? stream[i].text :
		    signed_text(&root, stream[i].text, stream[i].sign);
		assert_int_equal(verify_report(&cm, text, strlen(text),
		    "+62811", 1000000, &r, &rm), 0);
		assert_int_equal(verify_report(&cs, text, strlen(text),
		    "+62811", 1000000, &r2, &rs), 0);
		if (rm.verdict != stream[i].verdict)
			fail_msg("report %zu '%s': %s, expected %s", i, text,
			    verify_verdict_name(rm.verdict),
			    verify_verdict_name(stream[i].verdict));
		assert_int_equal(rs.verdict, rm.verdict);
		assert_int_equal(rs.reason, rm.reason);
		assert_int_equal(rs.flags, rm.flags);
		assert_int_equal(rs.auth, rm.auth);
		assert_int_equal(rs.supersedes, rm.supersedes);
		assert_int_equal(rs.superseded_by, rm.superseded_by);
		assert_int_equal(rs.party_total, rm.party_total);
		assert_string_equal(rs.receipt, rm.receipt);

		/* Every message is stored; only accepted ones are history. */
		mkmsg(&m, MSG_REPORT, "+62811", text);
		m.verdict = rs.verdict;
		m.reason = rs.reason;
		m.flags = rs.flags;
		m.auth = rs.auth;
		m.report = r2;
		m.decoded = 1;
		memcpy(m.receipt, rs.receipt, sizeof(m.receipt));
		m.supersedes = rs.supersedes;
		assert_int_equal(store_msg_add(f->s, &m), 0);
		if (rm.verdict == VERDICT_OK || rm.verdict == VERDICT_FLAGGED)
			assert_int_equal(memhist_add(mh, &r, rm.receipt), 0);
	}
	/* The answers that make the stream above what it is. */
	assert_int_equal(cs.history->by_seq(cs.history->arg, TPS_AN, 12, &ps),
	    1);
	assert_int_equal(ps.page, 2);
	assert_int_equal(ps.contest, CONTEST_DPR);
	assert_int_equal(cs.history->latest(cs.history->arg, TPS_AN,
	    CONTEST_DPR, 2, &ps), 1);
	assert_int_equal(ps.seq, 15);
	assert_int_equal(cs.history->latest(cs.history->arg, TPS_AN,
	    CONTEST_PPWP, -1, &ps), 1);
	assert_int_equal(ps.seq, 3);
	assert_int_equal(ps.page, -1);
	assert_int_equal(ps.nvalues, 6);
	assert_int_equal(cs.history->by_seq(cs.history->arg, TPS_AN, 20, &ps),
	    0);

	/* Every lookup, found or not, gives the same answer. */
	for (i = 0; i < sizeof(tpss) / sizeof(tpss[0]); i++) {
		for (seq = 0; seq <= 30; seq++) {
			memset(&pm, 0, sizeof(pm));
			memset(&ps, 0, sizeof(ps));
			a = cm.history->by_seq(cm.history->arg, tpss[i], seq,
			    &pm);
			b = cs.history->by_seq(cs.history->arg, tpss[i], seq,
			    &ps);
			prior_equal(a, b, &pm, &ps);
		}
		for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++) {
			for (page = -1; page <= 4; page++) {
				memset(&pm, 0, sizeof(pm));
				memset(&ps, 0, sizeof(ps));
				a = cm.history->latest(cm.history->arg,
				    tpss[i], (enum contest)c, page, &pm);
				b = cs.history->latest(cs.history->arg,
				    tpss[i], (enum contest)c, page, &ps);
				prior_equal(a, b, &pm, &ps);
			}
		}

		/* CEK: one line per (contest, page) memhist knows of. */
		assert_int_equal(store_tps_latest(f->s, tpss[i], lat, 64,
		    &nlat), 0);
		n = 0;
		for (c = CONTEST_PPWP; c <= CONTEST_MAX; c++) {
			for (page = -1; page <= 4; page++) {
				if (cm.history->latest(cm.history->arg,
				    tpss[i], (enum contest)c, page, &pm) != 1)
					continue;
				found = 0;
				for (j = 0; j < nlat; j++) {
					if (lat[j].contest != (enum contest)c ||
					    lat[j].page != page)
						continue;
					found = 1;
					assert_int_equal(lat[j].seq, pm.seq);
					assert_string_equal(lat[j].receipt,
					    pm.receipt);
					/* In order: contest, then page. */
					assert_int_equal(j, n);
				}
				assert_true(found);
				n++;
			}
		}
		assert_int_equal(nlat, n);
	}
	/* TPS A: PPWP, DPR 0 1 2, DPD, DPRDP 0 1; the verdicts too. */
	assert_int_equal(store_tps_latest(f->s, TPS_AN, lat, 64, &nlat), 0);
	assert_int_equal(nlat, 7);
	assert_int_equal(lat[0].contest, CONTEST_PPWP);
	assert_int_equal(lat[0].seq, 3);
	assert_int_equal(lat[3].contest, CONTEST_DPR);
	assert_int_equal(lat[3].page, 2);
	assert_int_equal(lat[3].seq, 15);
	assert_int_equal(lat[3].verdict, VERDICT_OK);
	assert_int_equal(lat[4].contest, CONTEST_DPD);
	assert_int_equal(lat[4].seq, 5);
	assert_int_equal(lat[6].contest, CONTEST_DPRDP);
	assert_int_equal(lat[6].page, 1);
	assert_int_equal(lat[6].seq, 25);
	assert_int_equal(store_tps_latest(f->s, TPS_BN, lat, 64, &nlat), 0);
	assert_int_equal(nlat, 1);
	assert_int_equal(lat[0].verdict, VERDICT_FLAGGED);
	assert_int_equal(lat[0].seq, 2);
	/* A short buffer gets the first lines. */
	assert_int_equal(store_tps_latest(f->s, TPS_AN, lat, 2, &nlat), 0);
	assert_int_equal(nlat, 2);
	assert_int_equal(lat[0].contest, CONTEST_PPWP);
	assert_int_equal(lat[1].page, 0);

	memhist_free(mh);
	election_free(el);
}

/* A rejected report with a bad code, received at t. */
static void
add_bad_code(struct fixture *f, const char *sender, uint64_t tps,
    enum reason reason, time_t t)
{
	struct store_msg	 m;

	mkmsg(&m, MSG_REPORT, sender, "bad code");
	iso_at(t, m.received_at, sizeof(m.received_at));
	m.verdict = VERDICT_REJECTED;
	m.reason = reason;
	m.decoded = 1;
	m.report.contest = CONTEST_PPWP;
	m.report.tps = tps;
	m.report.seq = 50;
	m.report.page = -1;
	assert_int_equal(store_msg_add(f->s, &m), 0);
}

static void
test_lockout_rebuild(void **state)
{
	struct fixture	*f = *state;
	struct lockout	*lk;
	time_t		 now = utc(2024, 2, 14, 10, 0, 0), last;
	int		 i;

	/* Five bad codes in the last hour, stored newest first. */
	last = now - 600;
	for (i = 0; i < 5; i++)
		add_bad_code(f, "+62811", TPS_AN, REASON_CODE_BAD,
		    last - i * 300);
	/* Older than a day: not replayed. */
	for (i = 0; i < 5; i++)
		add_bad_code(f, "+62822", TPS_AN, REASON_CODE_BAD,
		    now - 86401 - i);
	/* Not a bad code. */
	for (i = 0; i < 5; i++)
		add_bad_code(f, "+62833", TPS_AN, REASON_CODE_FORMAT,
		    now - 100 - i);
	/* Two for another sender: counted, not locked. */
	add_bad_code(f, "+62844", TPS_AN, REASON_CODE_BAD, now - 50);
	add_bad_code(f, "+62844", TPS_AN, REASON_CODE_BAD, now - 40);
	reopen(f);

	assert_non_null(lk = lockout_new(NULL));
	assert_int_equal(store_lockout_rebuild(f->s, lk, now), 7);
	assert_true(lockout_locked(lk, "+62811", TPS_AN, now));
	assert_false(lockout_locked(lk, "+62811", TPS_BN, now));
	assert_false(lockout_locked(lk, "+62822", TPS_AN, now));
	assert_false(lockout_locked(lk, "+62833", TPS_AN, now));
	assert_false(lockout_locked(lk, "+62844", TPS_AN, now));
	/* Replayed in time order at their own times: the 5th locked it. */
	assert_true(lockout_locked(lk, "+62811", TPS_AN,
	    last + LOCKOUT_DURATION - 1));
	assert_false(lockout_locked(lk, "+62811", TPS_AN,
	    last + LOCKOUT_DURATION));
	/* Three more for +62844 lock it: the two replayed ones count. */
	for (i = 0; i < 2; i++)
		assert_int_equal(lockout_fail(lk, "+62844", TPS_AN, now + i) &
		    LOCKOUT_FAIL_LOCKED, 0);
	assert_true(lockout_fail(lk, "+62844", TPS_AN, now + 2) &
	    LOCKOUT_FAIL_LOCKED);
	lockout_free(lk);

	/* A day later nothing is left to replay. */
	assert_non_null(lk = lockout_new(NULL));
	assert_int_equal(store_lockout_rebuild(f->s, lk, now + 2 * 86400), 0);
	lockout_free(lk);
}

static int64_t
addreply(struct fixture *f, int64_t msg, const char *dest, time_t created,
    const char *text)
{
	struct store_reply	 r;

	memset(&r, 0, sizeof(r));
	r.msg_id = msg;
	snprintf(r.dest, sizeof(r.dest), "%s", dest);
	snprintf(r.modem, sizeof(r.modem), "m0");
	snprintf(r.text, sizeof(r.text), "%s", text);
	snprintf(r.brief, sizeof(r.brief), "b:%s", text);
	r.created = created;
	assert_int_equal(store_reply_add(f->s, &r), 0);
	assert_true(r.id > 0);
	return (r.id);
}

static int64_t
addout_prio(struct fixture *f, const char *dest, time_t next_at,
    enum out_priority prio, const int64_t *ids, size_t nids)
{
	struct store_out	 o;

	memset(&o, 0, sizeof(o));
	o.priority = prio;
	snprintf(o.dest, sizeof(o.dest), "%s", dest);
	snprintf(o.text, sizeof(o.text), "OK diterima");
	snprintf(o.prefer, sizeof(o.prefer), "m0");
	o.state = OUT_QUEUED;
	o.next_at = next_at;
	o.attempts = 9;
	o.msgref = 9;
	assert_int_equal(store_out_add(f->s, &o, ids, nids), 0);
	assert_true(o.id > 0);
	assert_int_equal(o.attempts, 0);
	assert_int_equal(o.msgref, -1);
	return (o.id);
}

static int64_t
addout(struct fixture *f, const char *dest, time_t next_at,
    const int64_t *ids, size_t nids)
{
	return (addout_prio(f, dest, next_at, OUT_PRIO_ACT, ids, nids));
}

/*
 * The due SMS come most urgent first, then oldest: a rejection queued
 * after two confirmations goes before them, a FLAGGED one between.
 * Each reply's priority is kept as written.
 */
static void
test_out_priority(void **state)
{
	struct fixture		*f = *state;
	struct store_reply	 r, rp[4];
	struct store_out	 due[8];
	int64_t			 msg, ids[4], o[4];
	size_t			 n, i;
	static const enum out_priority prio[4] = { OUT_PRIO_CONFIRM,
	    OUT_PRIO_CONFIRM, OUT_PRIO_ACT, OUT_PRIO_CHECK };

	msg = addmsg(f, MSG_REPORT, VERDICT_OK, "r");
	for (i = 0; i < 4; i++) {
		memset(&r, 0, sizeof(r));
		r.msg_id = msg;
		snprintf(r.dest, sizeof(r.dest), "+6281%zu", i);
		snprintf(r.text, sizeof(r.text), "reply %zu", i);
		r.priority = prio[i];
		assert_int_equal(store_reply_add(f->s, &r), 0);
		ids[i] = r.id;
	}
	for (i = 0; i < 4; i++) {
		snprintf(r.dest, sizeof(r.dest), "+6281%zu", i);
		assert_int_equal(store_reply_pending(f->s, r.dest, rp, 4, &n),
		    0);
		assert_int_equal(n, 1);
		assert_int_equal(rp[0].priority, prio[i]);
		o[i] = addout_prio(f, r.dest, 0, prio[i], &ids[i], 1);
	}
	assert_int_equal(store_out_due(f->s, 100, due, 8, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(due[0].id, o[2]);
	assert_int_equal(due[0].priority, OUT_PRIO_ACT);
	assert_int_equal(due[1].id, o[3]);
	assert_int_equal(due[1].priority, OUT_PRIO_CHECK);
	assert_int_equal(due[2].id, o[0]);
	assert_int_equal(due[3].id, o[1]);
	assert_int_equal(due[3].priority, OUT_PRIO_CONFIRM);
	/* Not yet due, however urgent: after its time only. */
	assert_int_equal(store_out_set(f->s, o[2], OUT_QUEUED, NULL, -2, 200,
	    NULL), 0);
	assert_int_equal(store_out_due(f->s, 100, due, 8, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(due[0].id, o[3]);
}

/*
 * A version 3 store with replies and SMS waiting is upgraded to 4 in
 * place: they stay, as confirmations, and a rejection queued after
 * them goes first.
 */
static void
test_upgrade_v3(void **state)
{
	struct fixture		*f = *state;
	struct store_out	 due[4];
	int64_t			 msg, r1, r2, o1, o2;
	size_t			 n;
	char			 err[512];

	msg = addmsg(f, MSG_REPORT, VERDICT_OK, "r");
	r1 = addreply(f, msg, "+62811", 100, "one");
	o1 = addout(f, "+62811", 0, &r1, 1);
	addreply(f, msg, "+62822", 100, "two");
	make_v3(f);
	assert_non_null(f->s = store_open(f->path, err, sizeof(err)));
	assert_int_equal(raw_int(f, "PRAGMA user_version"), 6);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM replies WHERE"
	    " priority = 2"), 2);
	assert_int_equal(raw_int(f, "SELECT priority FROM outbox WHERE"
	    " id = %lld", (long long)o1), 2);
	r2 = addreply(f, msg, "+62833", 100, "three");
	o2 = addout_prio(f, "+62833", 0, OUT_PRIO_ACT, &r2, 1);
	assert_int_equal(store_out_due(f->s, 100, due, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(due[0].id, o2);
	assert_int_equal(due[1].id, o1);
	assert_int_equal(due[1].priority, OUT_PRIO_CONFIRM);
}

static void
test_replies_outbox(void **state)
{
	struct fixture		*f = *state;
	struct store_reply	 rp[8];
	struct store_out	 o, due[8];
	struct store_counts	 c;
	char			 dests[8][WIRE_NUMBER_MAX];
	time_t			 newest[8], t0;
	int64_t			 msg, r1, r2, r3, ids[3], o1, o2, id;
	size_t			 n;
	int			 count;

	msg = addmsg(f, MSG_REPORT, VERDICT_OK, "r");
	r1 = addreply(f, msg, "+62811", 100, "one");
	r2 = addreply(f, msg, "+62822", 105, "two");
	r3 = addreply(f, msg, "+62811", 110, "three");

	/* Who is owed what, oldest first. */
	assert_int_equal(store_reply_dests(f->s, dests, newest, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(dests[0], "+62811");
	assert_int_equal(newest[0], 110);
	assert_string_equal(dests[1], "+62822");
	assert_int_equal(newest[1], 105);
	assert_int_equal(store_reply_dests(f->s, dests, NULL, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rp[0].id, r1);
	assert_int_equal(rp[1].id, r3);
	assert_int_equal(rp[0].msg_id, msg);
	assert_string_equal(rp[0].text, "one");
	assert_string_equal(rp[0].brief, "b:one");
	assert_string_equal(rp[0].modem, "m0");
	assert_int_equal(rp[0].out_id, 0);
	assert_int_equal(rp[0].created, 100);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rp[0].id, r1);

	/* Merged into one SMS: no longer pending. */
	ids[0] = r1;
	ids[1] = r3;
	o1 = addout(f, "+62811", 0, ids, 2);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM replies WHERE"
	    " out_id = %lld", (long long)o1), 2);
	assert_int_equal(store_reply_dests(f->s, dests, newest, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(dests[0], "+62822");
	/* A reply already sent, or unknown, fails the whole SMS. */
	memset(&o, 0, sizeof(o));
	snprintf(o.dest, sizeof(o.dest), "+62822");
	o.state = OUT_QUEUED;
	ids[0] = r2;
	ids[1] = r1;
	assert_int_equal(store_out_add(f->s, &o, ids, 2), -1);
	ids[1] = 9999;
	assert_int_equal(store_out_add(f->s, &o, ids, 2), -1);
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.out_queued, 1);
	assert_int_equal(store_reply_pending(f->s, "+62822", rp, 8, &n), 0);
	assert_int_equal(n, 1);

	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_string_equal(o.dest, "+62811");
	assert_string_equal(o.text, "OK diterima");
	assert_string_equal(o.prefer, "m0");
	assert_string_equal(o.modem, "");
	assert_int_equal(o.state, OUT_QUEUED);
	assert_int_equal(o.attempts, 0);
	assert_int_equal(o.msgref, -1);
	assert_int_equal(store_out_get(f->s, o1 + 100, &o), 0);

	/* Due: queued and its time has come, oldest first. */
	ids[0] = r2;
	o2 = addout(f, "+62822", 500, ids, 1);
	assert_int_equal(store_out_due(f->s, 100, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, o1);
	assert_int_equal(store_out_due(f->s, 500, due, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(due[0].id, o1);
	assert_int_equal(due[1].id, o2);
	assert_int_equal(due[1].next_at, 500);
	assert_int_equal(store_out_due(f->s, 500, due, 1, &n), 0);
	assert_int_equal(n, 1);

	/* queued -> sending: one attempt more, on that modem. */
	assert_int_equal(store_out_set(f->s, o1, OUT_SENDING, "m1", -2, -1,
	    NULL), 0);
	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_int_equal(o.state, OUT_SENDING);
	assert_int_equal(o.attempts, 1);
	assert_string_equal(o.modem, "m1");
	assert_int_equal(o.msgref, -1);
	assert_int_equal(store_out_due(f->s, 1000, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, o2);
	/* A restart puts it back in the queue. */
	assert_int_equal(store_out_requeue(f->s), 1);
	assert_int_equal(store_out_requeue(f->s), 0);
	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_int_equal(o.state, OUT_QUEUED);
	assert_int_equal(o.attempts, 1);
	/* A failed send waits; the error is kept until replaced. */
	assert_int_equal(store_out_set(f->s, o1, OUT_QUEUED, NULL, -2, 300,
	    "CMS ERROR 38"), 0);
	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_int_equal(o.next_at, 300);
	assert_string_equal(o.error, "CMS ERROR 38");
	assert_string_equal(o.modem, "m1");
	assert_int_equal(store_out_set(f->s, o1, OUT_SENDING, "m2", -2, -1,
	    NULL), 0);
	t0 = time(NULL);
	assert_int_equal(store_out_set(f->s, o1, OUT_SENT, NULL, 42, -1, ""),
	    0);
	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_int_equal(o.state, OUT_SENT);
	assert_int_equal(o.attempts, 2);
	assert_int_equal(o.msgref, 42);
	assert_string_equal(o.modem, "m2");
	assert_string_equal(o.error, "");
	assert_true(raw_int(f, "SELECT sent_at FROM outbox WHERE id = %lld",
	    (long long)o1) >= t0);
	assert_int_equal(raw_int(f, "SELECT delivered_at IS NULL FROM outbox"
	    " WHERE id = %lld", (long long)o1), 1);

	/* The status report finds it by modem and reference. */
	assert_int_equal(store_out_by_msgref(f->s, "m2", 42, &id), 1);
	assert_int_equal(id, o1);
	assert_int_equal(store_out_by_msgref(f->s, "m1", 42, &id), 0);
	assert_int_equal(store_out_by_msgref(f->s, "m2", 43, &id), 0);
	assert_int_equal(store_out_sent_today(f->s, "m2", time(NULL), &count),
	    0);
	assert_int_equal(count, 1);
	assert_int_equal(store_out_sent_today(f->s, "m1", time(NULL), &count),
	    0);
	assert_int_equal(count, 0);
	assert_int_equal(store_out_set(f->s, o1, OUT_DELIVERED, NULL, -2, -1,
	    NULL), 0);
	assert_true(raw_int(f, "SELECT delivered_at FROM outbox WHERE"
	    " id = %lld", (long long)o1) >= t0);
	assert_int_equal(store_out_by_msgref(f->s, "m2", 42, &id), 0);
	assert_int_equal(store_out_sent_today(f->s, "m2", time(NULL), &count),
	    0);
	assert_int_equal(count, 1);
	assert_string_equal(raw_text(f, "SELECT state FROM outbox WHERE"
	    " id = %lld", (long long)o1), "delivered");
	/* An unknown row is an error, not a silent no-op. */
	assert_int_equal(store_out_set(f->s, o1 + 100, OUT_FAILED, NULL, -2,
	    -1, NULL), -1);
}

/*
 * tallyctl msg: a message's replies with the SMS that carries each (and
 * who shares it), and its forward rows, with their times.
 */
static void
test_msg_trace(void **state)
{
	struct fixture		*f = *state;
	struct store_msg_reply	 mr[4];
	struct store_fwd	 fw[4];
	struct store_out	 o;
	char			 shared[64];
	int64_t			 a, b, c, d, ra, rb, ids[2], o1;
	time_t			 t0 = time(NULL);
	size_t			 n;

	a = addmsg(f, MSG_REPORT, VERDICT_OK, "a");
	b = addmsg(f, MSG_REPORT, VERDICT_OK, "b");
	c = addmsg(f, MSG_OTHER, 0, "c");
	d = addmsg(f, MSG_RATE, 0, "d");
	ra = addreply(f, a, "+62811", 100, "one");
	rb = addreply(f, b, "+62811", 101, "two");
	addreply(f, c, "+62822", 102, "three");

	/* Owed, not yet in an SMS. */
	assert_int_equal(store_msg_replies(f->s, a, mr, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mr[0].reply.id, ra);
	assert_int_equal(mr[0].reply.msg_id, a);
	assert_string_equal(mr[0].reply.dest, "+62811");
	assert_string_equal(mr[0].reply.text, "one");
	assert_int_equal(mr[0].reply.created, 100);
	assert_int_equal(mr[0].reply.out_id, 0);
	assert_int_equal(mr[0].out.id, 0);
	assert_int_equal(mr[0].out.state, 0);
	assert_string_equal(mr[0].shared, "");
	/* A message without a reply (rate-limited), and no message. */
	assert_int_equal(store_msg_replies(f->s, d, mr, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_msg_replies(f->s, d + 100, mr, 4, &n), 0);
	assert_int_equal(n, 0);

	/* Merged into one SMS: each sees the SMS and the other message. */
	ids[0] = ra;
	ids[1] = rb;
	o1 = addout(f, "+62811", 0, ids, 2);
	assert_int_equal(store_msg_replies(f->s, a, mr, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mr[0].reply.out_id, o1);
	assert_int_equal(mr[0].out.id, o1);
	assert_string_equal(mr[0].out.text, "OK diterima");
	assert_string_equal(mr[0].out.prefer, "m0");
	assert_string_equal(mr[0].out.modem, "");
	assert_int_equal(mr[0].out.state, OUT_QUEUED);
	assert_int_equal(mr[0].out.attempts, 0);
	assert_in_range(mr[0].out.created, t0, time(NULL));
	assert_int_equal(mr[0].out.sent_at, 0);
	assert_int_equal(mr[0].out.delivered_at, 0);
	snprintf(shared, sizeof(shared), "%lld", (long long)b);
	assert_string_equal(mr[0].shared, shared);
	assert_int_equal(store_msg_replies(f->s, b, mr, 4, &n), 0);
	assert_int_equal(n, 1);
	snprintf(shared, sizeof(shared), "%lld", (long long)a);
	assert_string_equal(mr[0].shared, shared);
	assert_int_equal(mr[0].out.id, o1);
	/* Three in one SMS: the others in id order. */
	assert_int_equal(raw_int(f, "UPDATE replies SET out_id = %lld WHERE"
	    " msg_id = %lld", (long long)o1, (long long)c), -999);
	assert_int_equal(store_msg_replies(f->s, b, mr, 4, &n), 0);
	snprintf(shared, sizeof(shared), "%lld, %lld", (long long)a,
	    (long long)c);
	assert_string_equal(mr[0].shared, shared);

	/* Sent on another modem after a failure, then delivered. */
	assert_int_equal(store_out_set(f->s, o1, OUT_SENDING, "m1", -2, -1,
	    NULL), 0);
	assert_int_equal(store_out_set(f->s, o1, OUT_QUEUED, NULL, -2, 0,
	    "m1: error 38"), 0);
	assert_int_equal(store_out_set(f->s, o1, OUT_SENDING, "m2", -2, -1,
	    NULL), 0);
	assert_int_equal(store_out_set(f->s, o1, OUT_SENT, NULL, 42, -1,
	    NULL), 0);
	assert_int_equal(store_msg_replies(f->s, a, mr, 4, &n), 0);
	assert_int_equal(mr[0].out.state, OUT_SENT);
	assert_int_equal(mr[0].out.attempts, 2);
	assert_int_equal(mr[0].out.msgref, 42);
	assert_string_equal(mr[0].out.modem, "m2");
	assert_string_equal(mr[0].out.error, "m1: error 38");
	assert_in_range(mr[0].out.sent_at, t0, time(NULL));
	assert_int_equal(mr[0].out.delivered_at, 0);
	assert_int_equal(store_out_set(f->s, o1, OUT_DELIVERED, NULL, -2, -1,
	    NULL), 0);
	assert_int_equal(store_msg_replies(f->s, a, mr, 4, &n), 0);
	assert_int_equal(mr[0].out.state, OUT_DELIVERED);
	assert_in_range(mr[0].out.delivered_at, t0, time(NULL));
	/* store_out_get reads the same times. */
	assert_int_equal(store_out_get(f->s, o1, &o), 1);
	assert_int_equal(o.created, mr[0].out.created);
	assert_int_equal(o.sent_at, mr[0].out.sent_at);
	assert_int_equal(o.delivered_at, mr[0].out.delivered_at);
	/* Two replies for one message, and the row limit. */
	addreply(f, a, "+62811", 200, "again");
	assert_int_equal(store_msg_replies(f->s, a, mr, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(mr[0].reply.id, ra);
	assert_string_equal(mr[1].reply.text, "again");
	assert_int_equal(mr[1].out.id, 0);
	assert_int_equal(store_msg_replies(f->s, a, mr, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(mr[0].reply.id, ra);

	/* Forwards: one row per central, by name, with the last change. */
	assert_int_equal(store_msg_forwards(f->s, a, fw, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_fwd_add(f->s, a, "mirror"), 0);
	assert_int_equal(store_fwd_add(f->s, a, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, b, "kpu"), 0);
	assert_int_equal(store_msg_forwards(f->s, a, fw, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(fw[0].central, "kpu");
	assert_string_equal(fw[1].central, "mirror");
	assert_int_equal(fw[0].msg_id, a);
	assert_int_equal(fw[0].state, FWD_PENDING);
	assert_int_equal(fw[0].attempts, 0);
	assert_in_range(fw[0].updated, t0, time(NULL));
	assert_int_equal(store_fwd_set(f->s, fw[0].id, FWD_ACKED, 3, 0, 201,
	    NULL), 0);
	assert_int_equal(store_fwd_set(f->s, fw[1].id, FWD_RETRY_WAIT, 2,
	    t0 + 60, 503, "Service Unavailable"), 0);
	assert_int_equal(raw_int(f, "UPDATE forwards SET updated = 1234"
	    " WHERE id = %lld", (long long)fw[0].id), -999);
	assert_int_equal(store_msg_forwards(f->s, a, fw, 4, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(fw[0].state, FWD_ACKED);
	assert_int_equal(fw[0].attempts, 3);
	assert_int_equal(fw[0].http_status, 201);
	assert_string_equal(fw[0].error, "");
	assert_int_equal(fw[0].updated, 1234);
	assert_int_equal(fw[1].state, FWD_RETRY_WAIT);
	assert_int_equal(fw[1].next_at, t0 + 60);
	assert_int_equal(fw[1].http_status, 503);
	assert_string_equal(fw[1].error, "Service Unavailable");
	assert_int_equal(store_msg_forwards(f->s, a, fw, 1, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(fw[0].central, "kpu");
	assert_int_equal(store_msg_forwards(f->s, c, fw, 4, &n), 0);
	assert_int_equal(n, 0);
}

/* The daily cap counts from midnight WIB (UTC+7), not UTC. */
static void
test_sent_today_wib(void **state)
{
	struct fixture	*f = *state;
	time_t		 now = utc(2024, 2, 14, 3, 0, 0);	/* 10:00 WIB */
	time_t		 midnight = utc(2024, 2, 13, 17, 0, 0);	/* 00:00 WIB */
	int64_t		 a, b, c, d, e;
	int		 count;

	a = addout(f, "+6281", 0, NULL, 0);
	b = addout(f, "+6281", 0, NULL, 0);
	c = addout(f, "+6281", 0, NULL, 0);
	d = addout(f, "+6281", 0, NULL, 0);
	e = addout(f, "+6281", 0, NULL, 0);
	addout(f, "+6281", 0, NULL, 0);		/* queued: never counted */
	assert_int_equal(store_out_set(f->s, a, OUT_SENT, "m1", 1, -1, NULL),
	    0);
	assert_int_equal(store_out_set(f->s, b, OUT_DELIVERED, "m1", 2, -1,
	    NULL), 0);
	assert_int_equal(store_out_set(f->s, c, OUT_FAILED, "m1", 3, -1,
	    NULL), 0);
	assert_int_equal(store_out_set(f->s, d, OUT_FAILED, "m1", -2, -1,
	    "no network"), 0);
	assert_int_equal(store_out_set(f->s, e, OUT_SENT, "m9", 5, -1, NULL),
	    0);
	raw_int(f, "UPDATE outbox SET sent_at = %lld WHERE id = %lld",
	    (long long)midnight - 1, (long long)a);
	raw_int(f, "UPDATE outbox SET sent_at = %lld WHERE id = %lld",
	    (long long)midnight, (long long)b);
	/* 01:00 WIB on the 14th, still the 13th in UTC. */
	raw_int(f, "UPDATE outbox SET sent_at = %lld WHERE id = %lld",
	    (long long)midnight + 3600, (long long)c);
	raw_int(f, "UPDATE outbox SET sent_at = %lld WHERE id = %lld",
	    (long long)now, (long long)e);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM outbox WHERE"
	    " sent_at IS NULL"), 2);

	assert_int_equal(store_out_sent_today(f->s, "m1", now, &count), 0);
	assert_int_equal(count, 2);
	assert_int_equal(store_out_sent_today(f->s, "m9", now, &count), 0);
	assert_int_equal(count, 1);
	/* 23:59:59 WIB on the 13th: the day began at 00:00 WIB the 13th. */
	assert_int_equal(store_out_sent_today(f->s, "m1", midnight - 1,
	    &count), 0);
	assert_int_equal(count, 3);
	/* The next WIB day. */
	assert_int_equal(store_out_sent_today(f->s, "m1", midnight + 86400,
	    &count), 0);
	assert_int_equal(count, 0);
}

static void
test_forwards(void **state)
{
	struct fixture		*f = *state;
	struct store_fwd	 due[8];
	struct store_counts	 c;
	int64_t			 m1, m2, f1, f2;
	size_t			 n;

	m1 = addmsg(f, MSG_REPORT, VERDICT_OK, "a");
	m2 = addmsg(f, MSG_REPORT, VERDICT_OK, "b");
	assert_int_equal(store_fwd_add(f->s, m2, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, m1, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, m1, "mirror"), 0);
	/* One row per message and central; only stored messages. */
	assert_int_equal(store_fwd_add(f->s, m1, "kpu"), -1);
	assert_int_equal(store_fwd_add(f->s, m2 + 100, "kpu"), -1);

	assert_int_equal(store_fwd_due(f->s, "kpu", 0, due, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(due[0].msg_id, m1);	/* oldest message first */
	assert_int_equal(due[1].msg_id, m2);
	assert_int_equal(due[0].state, FWD_PENDING);
	assert_int_equal(due[0].attempts, 0);
	assert_int_equal(due[0].http_status, 0);
	assert_string_equal(due[0].central, "kpu");
	f1 = due[0].id;
	f2 = due[1].id;
	assert_int_equal(store_fwd_due(f->s, "mirror", 0, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_fwd_due(f->s, "kpu", 0, due, 1, &n), 0);
	assert_int_equal(n, 1);

	/* In flight: not due. A restart retries it at once. */
	assert_int_equal(store_fwd_set(f->s, f1, FWD_SENDING, 1, 0, 0, NULL),
	    0);
	assert_int_equal(store_fwd_due(f->s, "kpu", 0, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, f2);
	assert_int_equal(store_fwd_requeue(f->s), 1);
	assert_int_equal(store_fwd_requeue(f->s), 0);
	assert_int_equal(store_fwd_due(f->s, "kpu", 0, due, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(due[0].id, f1);
	assert_int_equal(due[0].state, FWD_RETRY_WAIT);
	assert_int_equal(due[0].attempts, 1);

	/* An outage: wait until next_at. */
	assert_int_equal(store_fwd_set(f->s, f1, FWD_RETRY_WAIT, 2, 1000, 503,
	    "Service Unavailable"), 0);
	assert_int_equal(store_fwd_due(f->s, "kpu", 999, due, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(due[0].id, f2);
	assert_int_equal(store_fwd_due(f->s, "kpu", 1000, due, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(due[0].http_status, 503);
	assert_int_equal(due[0].attempts, 2);
	assert_int_equal(due[0].next_at, 1000);
	assert_string_equal(due[0].error, "Service Unavailable");
	/* The retry in flight still shows why the last attempt failed. */
	assert_int_equal(store_fwd_set(f->s, f1, FWD_SENDING, 3, 1000, 0, ""),
	    0);
	assert_string_equal(raw_text(f, "SELECT http_status || ' ' || error"
	    " FROM forwards WHERE id = %lld", (long long)f1),
	    "503 Service Unavailable");
	/* Acked and failed are done. */
	assert_int_equal(store_fwd_set(f->s, f1, FWD_ACKED, 3, 0, 201, NULL),
	    0);
	assert_int_equal(store_fwd_set(f->s, f2, FWD_FAILED, 1, 0, 409,
	    "conflict"), 0);
	assert_int_equal(store_fwd_due(f->s, "kpu", 1 << 30, due, 8, &n), 0);
	assert_int_equal(n, 0);
	assert_string_equal(raw_text(f, "SELECT state || ' ' || http_status ||"
	    " ' ' || ifnull(error, '-') FROM forwards WHERE id = %lld",
	    (long long)f1), "acked 201 -");
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.fwd_acked, 1);
	assert_int_equal(c.fwd_failed, 1);
	assert_int_equal(c.fwd_pending, 1);
	assert_int_equal(store_fwd_set(f->s, f2 + 100, FWD_ACKED, 1, 0, 201,
	    NULL), -1);
}

/*
 * The forwarder's query of due rows (docs/forward.md: oldest message
 * first) is served by an index in its order: no temporary B-tree that
 * sorts the whole backlog at each read (100 ms with 100,000 waiting).
 */
static void
test_forwards_plan(void **state)
{
	struct fixture	*f = *state;
	char		 plan[1024];

	raw_plan(f, "SELECT id FROM forwards WHERE central = 'kpu'"
	    " AND state IN ('pending', 'retry_wait') AND next_at <= 5"
	    " ORDER BY msg_id, id LIMIT 128", plan, sizeof(plan));
	assert_non_null(strstr(plan, "forwards_queue"));
	assert_null(strstr(plan, "TEMP B-TREE"));
}

static void
test_transactions(void **state)
{
	struct fixture		*f = *state;
	struct store_msg	 m;
	struct store_reply	 rp[4];
	struct store_out	 o;
	struct store_counts	 c;
	int64_t			 msg, r1, ids[2], gone;
	size_t			 n;

	/* Rolled back: nothing of it is left. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_begin(f->s), -1);	/* no nesting */
	gone = addmsg(f, MSG_REPORT, VERDICT_OK, "rolled back");
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_msg_get(f->s, gone, &m), 0);
	assert_int_equal(store_rollback(f->s), 0);	/* none open: no-op */

	/* Message, reply and forward together. */
	assert_int_equal(store_begin(f->s), 0);
	msg = addmsg(f, MSG_REPORT, VERDICT_OK, "kept");
	r1 = addreply(f, msg, "+62811", 0, "ok");
	assert_int_equal(store_fwd_add(f->s, msg, "kpu"), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_msg_get(f->s, msg, &m), 1);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_true(rp[0].created >= time(NULL) - 5);	/* 0 means now */

	/* store_out_add nests in a caller's transaction... */
	assert_int_equal(store_begin(f->s), 0);
	ids[0] = r1;
	addout(f, "+62811", 0, ids, 1);
	assert_int_equal(store_rollback(f->s), 0);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.out_queued, 0);
	/* ...and its failure undoes only its own part. */
	assert_int_equal(store_begin(f->s), 0);
	msg = addmsg(f, MSG_CEK, 0, "CEK");
	memset(&o, 0, sizeof(o));
	snprintf(o.dest, sizeof(o.dest), "+62811");
	o.state = OUT_QUEUED;
	ids[1] = 12345;
	assert_int_equal(store_out_add(f->s, &o, ids, 2), -1);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_msg_get(f->s, msg, &m), 1);
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.out_queued, 0);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 4, &n), 0);
	assert_int_equal(n, 1);

	/* Group commit: an item undone alone, the others kept. */
	assert_int_equal(store_begin(f->s), 0);
	assert_int_equal(store_item_begin(f->s), 0);
	r1 = addmsg(f, MSG_REPORT, VERDICT_OK, "first of the turn");
	assert_int_equal(store_item_end(f->s, 1), 0);
	assert_int_equal(store_item_begin(f->s), 0);
	gone = addmsg(f, MSG_REPORT, VERDICT_OK, "undone");
	assert_int_equal(store_item_end(f->s, 0), 0);
	assert_int_equal(store_item_begin(f->s), 0);
	msg = addmsg(f, MSG_REPORT, VERDICT_OK, "last of the turn");
	assert_int_equal(store_item_end(f->s, 1), 0);
	assert_true(store_in_tx(f->s));
	assert_int_equal(store_commit(f->s), 0);
	assert_false(store_in_tx(f->s));
	assert_int_equal(store_msg_get(f->s, r1, &m), 1);
	assert_string_equal(m.raw, "first of the turn");
	assert_int_equal(store_msg_get(f->s, msg, &m), 1);
	assert_string_equal(m.raw, "last of the turn");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages WHERE"
	    " raw = 'undone'"), 0);
}

/* How many of this process's descriptors are SQLite's temporary files. */
static int
temp_files_open(void)
{
	DIR		*d;
	struct dirent	*e;
	char		 path[PATH_MAX], link[PATH_MAX];
	ssize_t		 n;
	int		 count = 0;

	assert_non_null(d = opendir("/proc/self/fd"));
	while ((e = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		if ((n = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[n] = '\0';
		if (strstr(link, "etilqs_") != NULL)
			count++;
	}
	closedir(d);
	return (count);
}

/*
 * An item of a group commit that changes many pages the batch changed
 * before it keeps its savepoint's sub-journal in memory (store_init):
 * past SQLite's 64 KiB it was a file in /var/tmp, written at each
 * report of a batch (docs/bench.md, "the sub-journal").
 */
static void
test_item_subjournal(void **state)
{
	struct fixture		*f = *state;
	struct store_msg	 m;
	char			 raw[64];
	int			 i;

	/* Indexes of many pages, each item below touching many of them. */
	assert_int_equal(store_begin(f->s), 0);
	for (i = 0; i < 10000; i++) {
		mkmsg(&m, MSG_OTHER, "+6281234567890", "x");
		snprintf(m.sender, sizeof(m.sender), "+628%09d",
		    (int)((i * 7919LL) % 1000000007));
		assert_int_equal(store_msg_add(f->s, &m), 0);
	}
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(store_begin(f->s), 0);
	for (i = 0; i < 20 * 40; i++) {
		if (i % 40 == 0)
			assert_int_equal(store_item_begin(f->s), 0);
		mkmsg(&m, MSG_OTHER, "+6281234567890", "x");
		snprintf(raw, sizeof(raw), "item %d", i);
		snprintf(m.raw, sizeof(m.raw), "%s", raw);
		snprintf(m.sender, sizeof(m.sender), "+628%09d",
		    (int)((i * 104729LL) % 1000000007));
		assert_int_equal(store_msg_add(f->s, &m), 0);
		if (i % 40 == 39)
			assert_int_equal(store_item_end(f->s, 1), 0);
	}
	assert_int_equal(temp_files_open(), 0);
	assert_int_equal(store_commit(f->s), 0);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages WHERE"
	    " raw LIKE 'item %%'"), 800);
}

static void
test_persistence(void **state)
{
	struct fixture		*f = *state;
	struct store_msg	 m, g;
	struct store_reply	 rp[4];
	struct store_out	 o;
	struct store_fwd	 fw[4];
	struct verify_history	*h;
	struct prior		 p;
	int64_t			 r, out;
	size_t			 n;

	fill_report(&m);
	m.verdict = VERDICT_OK;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	r = addreply(f, m.id, "+62811", 100, "ok");
	addreply(f, m.id, "+62822", 100, "ok too");
	out = addout(f, "+62811", 7, &r, 1);
	assert_int_equal(store_out_set(f->s, out, OUT_SENT, "m1", 77, -1,
	    NULL), 0);
	assert_int_equal(store_fwd_add(f->s, m.id, "kpu"), 0);
	reopen(f);

	assert_int_equal(store_msg_get(f->s, m.id, &g), 1);
	assert_memory_equal(&g, &m, sizeof(m));
	h = store_history(f->s);
	assert_int_equal(h->by_seq(h->arg, TPS_AN, 12, &p), 1);
	assert_string_equal(p.canon, m.report.canon);
	assert_string_equal(p.receipt, "87654321");
	assert_int_equal(p.page, 3);
	assert_int_equal(h->latest(h->arg, TPS_AN, CONTEST_DPR, 3, &p), 1);
	assert_int_equal(p.seq, 12);
	assert_int_equal(store_reply_pending(f->s, "+62822", rp, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_reply_pending(f->s, "+62811", rp, 4, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_out_get(f->s, out, &o), 1);
	assert_int_equal(o.state, OUT_SENT);
	assert_int_equal(o.msgref, 77);
	assert_int_equal(o.next_at, 7);
	assert_int_equal(store_out_by_msgref(f->s, "m1", 77, &r), 1);
	assert_int_equal(r, out);
	assert_int_equal(store_fwd_due(f->s, "kpu", 0, fw, 4, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fw[0].msg_id, m.id);
}

/*
 * A TPS with more accepted reports than the store's memo of one TPS
 * holds (32): both history questions are still answered, by SQL, and
 * a TPS with few is answered from the memo after a write in between.
 */
static void
test_history_many(void **state)
{
	struct fixture		*f = *state;
	struct verify_history	*h = store_history(f->s);
	struct store_msg	 m;
	struct prior		 p;
	int			 i;

	for (i = 1; i <= 40; i++) {
		fill_report(&m);
		m.verdict = i == 7 ? VERDICT_REJECTED : VERDICT_OK;
		m.report.seq = (unsigned)i;
		m.report.page = i % 2;
		snprintf(m.receipt, sizeof(m.receipt), "%08u",
		    (unsigned)i % 100000000u);
		assert_int_equal(store_msg_add(f->s, &m), 0);
	}
	assert_int_equal(h->by_seq(h->arg, TPS_AN, 5, &p), 1);
	assert_int_equal(p.seq, 5);
	assert_string_equal(p.receipt, "00000005");
	assert_int_equal(h->by_seq(h->arg, TPS_AN, 7, &p), 0);
	assert_int_equal(h->by_seq(h->arg, TPS_AN, 41, &p), 0);
	assert_int_equal(h->latest(h->arg, TPS_AN, CONTEST_DPR, 0, &p), 1);
	assert_int_equal(p.seq, 40);
	assert_int_equal(h->latest(h->arg, TPS_AN, CONTEST_DPR, 1, &p), 1);
	assert_int_equal(p.seq, 39);
	assert_int_equal(h->latest(h->arg, TPS_AN, CONTEST_DPR, 2, &p), 0);

	/* Few: SEQ 1 read, then SEQ 2 written; latest sees it. */
	fill_report(&m);
	m.report.tps = TPS_AN + 1;
	m.report.seq = 1;
	m.verdict = VERDICT_OK;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_int_equal(h->by_seq(h->arg, TPS_AN + 1, 1, &p), 1);
	m.report.seq = 2;
	assert_int_equal(store_msg_add(f->s, &m), 0);
	assert_int_equal(h->latest(h->arg, TPS_AN + 1, CONTEST_DPR, 3, &p),
	    1);
	assert_int_equal(p.seq, 2);
	assert_int_equal(h->latest(h->arg, TPS_AN + 1, CONTEST_PPWP, -1, &p),
	    0);
}

/*
 * The dashboard's time line: per minute of the last hour, messages by
 * received_at, SMS by sent_at, forwards acked by their last change;
 * the minute boundaries on both sides, and the indexes that serve it.
 */
static void
test_throughput(void **state)
{
	struct fixture		*f = *state;
	struct store_rate	 r;
	time_t			 now = utc(2024, 2, 14, 3, 0, 30);
	static const char *const at[] = { "2024-02-14T03:00:10.000Z",
	    "2024-02-14T02:30:59.999Z", "2024-02-14T02:01:00.000Z",
	    "2024-02-14T02:00:59.999Z", "2024-02-14T01:00:00.000Z" };
	size_t			 i;
	long			 sum;

	for (i = 0; i < 5; i++)
		raw_int(f, "INSERT INTO messages (modem, modem_number, sender,"
		    " smsc_time, received_at, parts, raw, kind) VALUES ('m0',"
		    " '', '+6281', '', '%s', 1, 'x', 'other')", at[i]);
	for (i = 0; i < 5; i++)
		raw_int(f, "INSERT INTO outbox (dest, text, state, created,"
		    " sent_at) VALUES ('+6281', 'x', 'sent', 0, %s)",
		    i < 2 ? "1707879605" /* 03:00:05 */ : i == 2 ?
		    "1707876060" /* 02:01:00 */ : i == 3 ?
		    "1707876059" : "NULL");
	raw_int(f, "INSERT INTO forwards (msg_id, central, state, updated)"
	    " VALUES (1, 'kpu', 'acked', 1707879599), (2, 'kpu',"
	    " 'retry_wait', 1707879599), (3, 'kpu', 'acked', 1707876059)");
	assert_int_equal(store_throughput(f->s, now, 60, &r), 0);
	assert_int_equal(r.minutes, 60);
	assert_int_equal(r.start, utc(2024, 2, 14, 2, 1, 0));
	assert_int_equal(r.received[59], 1);
	assert_int_equal(r.received[29], 1);
	assert_int_equal(r.received[0], 1);
	assert_int_equal(r.replied[59], 2);
	assert_int_equal(r.replied[0], 1);
	assert_int_equal(r.forwarded[58], 1);
	for (i = 0, sum = 0; i < 60; i++)
		sum += r.received[i] + r.replied[i] + r.forwarded[i];
	assert_int_equal(sum, 3 + 3 + 1);
	/* fewer minutes, or too many: the last 60 at most */
	assert_int_equal(store_throughput(f->s, now, 1, &r), 0);
	assert_int_equal(r.received[0], 1);
	assert_int_equal(r.replied[0], 2);
	assert_int_equal(store_throughput(f->s, now, 1000, &r), 0);
	assert_int_equal(r.minutes, 60);
	assert_int_equal(raw_int(f, "SELECT count(*) FROM sqlite_master"
	    " WHERE type = 'index' AND name IN ('messages_received',"
	    " 'outbox_sent_at', 'forwards_acked')"), 3);
}

static void
test_counts(void **state)
{
	struct fixture		*f = *state;
	struct store_counts	 c;
	int64_t			 o[3], msg[5];
	int			 i;

	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.msgs, 0);
	for (i = 0; i < 5; i++)
		msg[i] = addmsg(f, MSG_REPORT, i < 2 ? VERDICT_OK :
		    VERDICT_REJECTED, "r");
	addmsg(f, MSG_REPORT, VERDICT_FLAGGED, "f");
	addmsg(f, MSG_REPORT, VERDICT_DUPLICATE, "d");
	addmsg(f, MSG_CEK, 0, "c");
	addmsg(f, MSG_BANTU, 0, "b");
	addmsg(f, MSG_OTHER, 0, "o");
	addmsg(f, MSG_RATE, 0, "x");
	for (i = 0; i < 3; i++)
		o[i] = addout(f, "+62811", 0, NULL, 0);
	assert_int_equal(store_out_set(f->s, o[1], OUT_SENDING, "m1", -2, -1,
	    NULL), 0);
	assert_int_equal(store_out_set(f->s, o[2], OUT_FAILED, "m1", -2, -1,
	    "gave up"), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(store_fwd_add(f->s, msg[i], "kpu"), 0);
	assert_int_equal(raw_int(f, "UPDATE forwards SET state = CASE msg_id"
	    " WHEN %lld THEN 'sending' WHEN %lld THEN 'acked' WHEN %lld THEN"
	    " 'retry_wait' WHEN %lld THEN 'failed' ELSE state END",
	    (long long)msg[1], (long long)msg[2], (long long)msg[3],
	    (long long)msg[4]), -999);

	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.msgs, 11);
	assert_int_equal(c.reports, 7);
	assert_int_equal(c.ok, 2);
	assert_int_equal(c.flagged, 1);
	assert_int_equal(c.duplicate, 1);
	assert_int_equal(c.rejected, 3);
	assert_int_equal(c.other, 4);
	assert_int_equal(c.out_queued, 1);
	assert_int_equal(c.out_sending, 1);
	assert_int_equal(c.out_sent, 0);
	assert_int_equal(c.out_delivered, 0);
	assert_int_equal(c.out_failed, 1);
	assert_int_equal(c.fwd_pending, 1);
	assert_int_equal(c.fwd_sending, 1);
	assert_int_equal(c.fwd_acked, 1);
	assert_int_equal(c.forward_retry, 1);
	assert_int_equal(c.fwd_failed, 1);
}

/*
 * A process that commits and dies without closing (no checkpoint, no
 * finalize) loses nothing it committed and keeps nothing it did not.
 */
static void
test_crash_after_commit(void **state)
{
	struct fixture		*f = *state;
	struct store_msg	 m;
	struct store_counts	 c;
	char			 wal[160], err[256];
	int64_t			 id;
	pid_t			 pid;
	int			 status;

	store_close(f->s);
	f->s = NULL;
	if ((pid = fork()) == -1)
		fail_msg("fork");
	if (pid == 0) {
		struct store	*s = store_open(f->path, err, sizeof(err));

		if (s == NULL)
			_exit(2);
		mkmsg(&m, MSG_OTHER, "+62811", "committed");
		if (store_begin(s) == -1 || store_msg_add(s, &m) == -1 ||
		    store_commit(s) == -1)
			_exit(3);
		mkmsg(&m, MSG_OTHER, "+62811", "in flight");
		if (store_begin(s) == -1 || store_msg_add(s, &m) == -1)
			_exit(4);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The commit is only in the WAL: nobody checkpointed it. */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), 0);

	reopen(f);
	id = raw_int(f, "SELECT id FROM messages WHERE raw = 'committed'");
	assert_true(id > 0);
	assert_int_equal(store_msg_get(f->s, id, &m), 1);
	assert_string_equal(m.raw, "committed");
	assert_int_equal(raw_int(f, "SELECT count(*) FROM messages"
	    " WHERE raw = 'in flight'"), 0);
	assert_int_equal(store_counts(f->s, &c), 0);
	assert_int_equal(c.msgs, 1);
	/* And the store is writable again: the dead writer's lock is gone. */
	addmsg(f, MSG_OTHER, 0, "after");
}

static void
test_names(void **state)
{
	char		 iso[GW_ISO_MAX], small[8];
	struct tm	 tm;
	time_t		 t;
	int		 ms;

	(void)state;
	assert_string_equal(store_kind_name(MSG_REPORT), "report");
	assert_string_equal(store_kind_name(MSG_CEK), "cek");
	assert_string_equal(store_kind_name(MSG_BANTU), "bantu");
	assert_string_equal(store_kind_name(MSG_OTHER), "other");
	assert_string_equal(store_kind_name(MSG_RATE), "rate");
	assert_string_equal(store_kind_name((enum msg_kind)0), "?");
	assert_string_equal(store_out_state_name(OUT_QUEUED), "queued");
	assert_string_equal(store_out_state_name(OUT_SENDING), "sending");
	assert_string_equal(store_out_state_name(OUT_SENT), "sent");
	assert_string_equal(store_out_state_name(OUT_DELIVERED), "delivered");
	assert_string_equal(store_out_state_name(OUT_FAILED), "failed");
	assert_string_equal(store_out_state_name((enum out_state)9), "?");
	assert_string_equal(store_fwd_state_name(FWD_PENDING), "pending");
	assert_string_equal(store_fwd_state_name(FWD_SENDING), "sending");
	assert_string_equal(store_fwd_state_name(FWD_ACKED), "acked");
	assert_string_equal(store_fwd_state_name(FWD_RETRY_WAIT),
	    "retry_wait");
	assert_string_equal(store_fwd_state_name(FWD_FAILED), "failed");
	assert_string_equal(store_fwd_state_name((enum fwd_state)0), "?");

	store_iso_now(iso, sizeof(iso));
	assert_int_equal(strlen(iso), 24);
	assert_int_equal(iso[23], 'Z');
	assert_int_equal(iso[19], '.');
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm));
	assert_int_equal(sscanf(iso + 20, "%3dZ", &ms), 1);
	assert_in_range(ms, 0, 999);
	t = timegm(&tm);
	/* time(2) reads a coarse clock that may lag the one ISO times use
	 * by a tick: at a second's edge it still says the last second. */
	assert_in_range(t, time(NULL) - 2, time(NULL) + 1);
	/* A short buffer gets the beginning, as snprintf would give. */
	store_iso_now(small, sizeof(small));
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, iso, sizeof(small) - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upgrade, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_many, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v5, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v4, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_ephemeral, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v3, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_out_priority, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_upgrade_v2, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ussd_ends, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_ussd_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_msg_roundtrip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_history_vs_memhist, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lockout_rebuild, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_replies_outbox, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_msg_trace, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sent_today_wib, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forwards, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_transactions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forwards_plan, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throughput, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_crash_after_commit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_item_subjournal, setup,
		    teardown),
		cmocka_unit_test(test_names),
	};

	log_init("test_store", LOG_TO_STDERR, 0);
	store_init();		/* as tallygw, before SQLite opens anything */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
