/*
 * Unit tests of the admin API's questions: coverage.c (the registry's
 * expected TPS against the store's reports, by region and contest) and
 * the store's listing, export cursor, forward selection and last reply.
 * The expectations are counted by hand from the rows each test writes;
 * which contests DKI Jakarta holds is docs/election.md's (no DPRDK).
 */

#include <sys/types.h>

#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "gw.h"
#include "log.h"

struct fixture {
	char		 dir[64];
	char		 db[128], reg[128], csv[128];
	struct store	*s;
	struct registry	*r;
	struct election	*el;
};

static const char desa[] =
    "kode_desa,kode_prov,prov,kode_kab,kab,kode_kec,kec,desa,"
    "n_tps_reguler,ext_first,ext_last,n_tps_total\n"
    "3201012001,32,JAWA BARAT,3201,BOGOR,320101,CIBINONG,PONDOK RAJEG,"
    "3,,,3\n"
    "3201012002,32,JAWA BARAT,3201,BOGOR,320101,CIBINONG,KARADENAN,2,,,2\n"
    "3202012001,32,JAWA BARAT,3202,SUKABUMI,320201,PALABUHANRATU,CITARIK,"
    "4,,,4\n"
    "3171011001,31,DKI JAKARTA,3171,JAKARTA SELATAN,317101,TEBET,"
    "TEBET TIMUR,5,,,5\n";

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));
	char		 err[512];
	FILE		*fp;
	size_t		 n;

	if (f == NULL)
		return (-1);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_coverage.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return (-1);
	snprintf(f->db, sizeof(f->db), "%s/tallygw.db", f->dir);
	snprintf(f->reg, sizeof(f->reg), "%s/registry.db", f->dir);
	snprintf(f->csv, sizeof(f->csv), "%s/desa.csv", f->dir);
	if ((fp = fopen(f->csv, "w")) == NULL)
		return (-1);
	fputs(desa, fp);
	fclose(fp);
	if ((f->r = registry_open(f->reg, REGISTRY_CREATE, err,
	    sizeof(err))) == NULL ||
	    registry_import_desa(f->r, f->csv, &n, err, sizeof(err)) == -1 ||
	    (f->s = store_open(f->db, err, sizeof(err))) == NULL ||
	    (f->el = election_default()) == NULL) {
		fprintf(stderr, "setup: %s\n", err);
		return (-1);
	}
	*state = f;
	return (0);
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;
	const char	*sfx[] = { "", "-wal", "-shm" };
	char		 p[160];
	size_t		 i;

	coverage_forget();
	store_close(f->s);
	registry_close(f->r);
	election_free(f->el);
	for (i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", f->db, sfx[i]);
		unlink(p);
		snprintf(p, sizeof(p), "%s%s", f->reg, sfx[i]);
		unlink(p);
	}
	unlink(f->csv);
	rmdir(f->dir);
	free(f);
	return (0);
}

/* A report as receive.c stores it; at: its received_at second. */
static int64_t
report(struct fixture *f, uint64_t tps, enum contest c, int page,
    unsigned seq, enum verdict v, int at)
{
	struct store_msg	 m;

	memset(&m, 0, sizeof(m));
	snprintf(m.modem, sizeof(m.modem), "%s", at % 2 ? "ussd" : "m0");
	snprintf(m.sender, sizeof(m.sender), "+62812000%05llu",
	    (unsigned long long)(tps % 100000));
	snprintf(m.smsc_time, sizeof(m.smsc_time), "2026-02-14T10:00:00Z");
	snprintf(m.received_at, sizeof(m.received_at),
	    "2026-02-14T10:00:%02d.000Z", at);
	m.parts = 1;
	m.kind = MSG_REPORT;
	m.verdict = v;
	m.flags = v == VERDICT_FLAGGED ? FLAG_SUM : 0;
	m.decoded = v != VERDICT_REJECTED;
	m.report.tps = tps;
	m.report.contest = c;
	m.report.page = page;
	m.report.seq = seq;
	m.report.nvalues = 2;
	m.report.values[0] = (uint16_t)seq;
	m.report.values[1] = (uint16_t)at;
	snprintf(m.raw, sizeof(m.raw), "report %d", at);
	snprintf(m.report.canon, sizeof(m.report.canon), "x");
	if (v == VERDICT_OK || v == VERDICT_FLAGGED)
		snprintf(m.receipt, sizeof(m.receipt), "100000%02d", at);
	assert_int_equal(store_msg_add(f->s, &m), 0);
	return (m.id);
}

/* The night so far (the ids are 1.. in this order). */
static void
night(struct fixture *f)
{
	report(f, 3201012001001ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 1);
	report(f, 3201012001001ULL, CONTEST_DPR, 0, 2, VERDICT_FLAGGED, 2);
	report(f, 3201012001001ULL, CONTEST_DPR, 1, 3, VERDICT_OK, 3);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 1, VERDICT_FLAGGED, 4);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 2, VERDICT_OK, 5);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 3, VERDICT_REJECTED, 6);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 2, VERDICT_DUPLICATE, 7);
	report(f, 3202012001004ULL, CONTEST_PPWP, -1, 1, VERDICT_FLAGGED, 8);
	report(f, 3171011001005ULL, CONTEST_DPD, -1, 1, VERDICT_OK, 9);
	report(f, 3301012001001ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 10);
}

static const struct coverage_row *
row(const struct coverage *cv, uint64_t code)
{
	size_t	 i;

	for (i = 0; i < cv->nrows; i++)
		if (cv->rows[i].code == code)
			return (&cv->rows[i]);
	fail_msg("no row %llu", (unsigned long long)code);
	return (NULL);
}

/* expected reported flagged missing of one contest, as a string. */
static const char *
cell(const struct coverage_row *r, enum contest c)
{
	static char	 buf[64];

	snprintf(buf, sizeof(buf), "%ld %ld %ld %ld", r->expected[c],
	    r->reported[c], r->flagged[c], coverage_missing(r, c));
	return (buf);
}

static void
build(struct fixture *f, struct coverage *cv, const char *qs, int reg)
{
	struct query_coverage	 q;
	char			 err[256];

	assert_int_equal(query_coverage(qs, &q, err, sizeof(err)), 0);
	assert_int_equal(coverage_build(cv, f->s, reg ? f->r : NULL, f->el,
	    &q, err, sizeof(err)), 0);
}

static void
test_coverage(void **state)
{
	struct fixture		*f = *state;
	struct coverage		 cv;
	const struct coverage_row *r;

	night(f);
	build(f, &cv, "", 1);
	assert_int_equal(cv.registry, 1);
	assert_int_equal(cv.nrows, 3);		/* 31, 32, and 33 (no TPS) */
	assert_int_equal(cv.rows[0].code, 31);
	assert_int_equal(cv.rows[1].code, 32);
	assert_int_equal(cv.rows[2].code, 33);
	r = row(&cv, 32);
	assert_string_equal(r->name, "JAWA BARAT");
	assert_int_equal(r->tps, 9);
	/* 001 OK, 002 corrected to OK, 004 FLAGGED. */
	assert_string_equal(cell(r, CONTEST_PPWP), "9 3 1 6");
	/* 001: page 0 FLAGGED, page 1 OK: the TPS is flagged. */
	assert_string_equal(cell(r, CONTEST_DPR), "9 1 1 8");
	assert_string_equal(cell(r, CONTEST_DPRDK), "9 0 0 9");
	r = row(&cv, 31);
	assert_string_equal(r->name, "DKI JAKARTA");
	assert_int_equal(r->tps, 5);
	assert_string_equal(cell(r, CONTEST_DPD), "5 1 0 4");
	assert_string_equal(cell(r, CONTEST_DPRDP), "5 0 0 5");
	assert_string_equal(cell(r, CONTEST_DPRDK), "0 0 0 0");
	r = row(&cv, 33);
	assert_string_equal(r->name, "");
	assert_string_equal(cell(r, CONTEST_PPWP), "0 1 0 0");
	assert_int_equal(cv.total.tps, 14);
	assert_string_equal(cell(&cv.total, CONTEST_PPWP), "14 4 1 10");
	assert_string_equal(cell(&cv.total, CONTEST_DPRDK), "9 0 0 9");
	coverage_free(&cv);

	build(f, &cv, "level=regency&in=32", 1);
	assert_int_equal(cv.nrows, 2);
	r = row(&cv, 3201);
	assert_string_equal(r->name, "BOGOR");
	assert_int_equal(r->tps, 5);
	assert_string_equal(cell(r, CONTEST_PPWP), "5 2 0 3");
	assert_string_equal(cell(r, CONTEST_DPR), "5 1 1 4");
	r = row(&cv, 3202);
	assert_string_equal(r->name, "SUKABUMI");
	assert_string_equal(cell(r, CONTEST_PPWP), "4 1 1 3");
	assert_string_equal(cell(&cv.total, CONTEST_PPWP), "9 3 1 6");
	coverage_free(&cv);

	build(f, &cv, "level=village&in=320101&contest=PPWP", 1);
	assert_int_equal(cv.nrows, 2);
	r = row(&cv, 3201012001);
	assert_string_equal(r->name, "PONDOK RAJEG");
	assert_string_equal(cell(r, CONTEST_PPWP), "3 2 0 1");
	assert_string_equal(cell(r, CONTEST_DPR), "0 0 0 0");
	r = row(&cv, 3201012002);
	assert_string_equal(r->name, "KARADENAN");
	assert_string_equal(cell(r, CONTEST_PPWP), "2 0 0 2");
	coverage_free(&cv);

	/* Without a registry: only what came in. */
	build(f, &cv, "level=district", 0);
	assert_int_equal(cv.registry, 0);
	assert_int_equal(cv.nrows, 4);
	assert_int_equal(cv.rows[0].code, 317101);
	assert_int_equal(cv.rows[3].code, 330101);
	assert_string_equal(cell(row(&cv, 320101), CONTEST_PPWP), "0 2 0 0");
	coverage_free(&cv);
}

/*
 * The registry's side of a view is kept (coverage.c): asked again, the
 * view still follows the store; it follows the registry too when the
 * registry changes, by another connection or by the same one.
 */
static void
test_coverage_kept(void **state)
{
	struct fixture		*f = *state;
	struct coverage		 cv;
	sqlite3			*db;
	char			 err[256], csv[160];
	FILE			*fp;
	size_t			 n;
	int			 i;

	coverage_forget();
	night(f);
	for (i = 0; i < 2; i++) {
		build(f, &cv, "level=regency&in=32", 1);
		assert_int_equal(cv.nrows, 2);
		assert_string_equal(row(&cv, 3201)->name, "BOGOR");
		assert_string_equal(cell(row(&cv, 3201), CONTEST_PPWP),
		    i == 0 ? "5 2 0 3" : "5 3 0 2");
		assert_string_equal(cell(&cv.total, CONTEST_PPWP),
		    i == 0 ? "9 3 1 6" : "9 4 1 5");
		coverage_free(&cv);
		/* A report of Pondok Rajeg's third TPS: the store moves. */
		if (i == 0)
			report(f, 3201012001003ULL, CONTEST_PPWP, -1, 1,
			    VERDICT_OK, 11);
	}

	/* Another connection adds a TPS to Karadenan. */
	assert_int_equal(sqlite3_open(f->reg, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO tps (code) VALUES"
	    " (3201012002003)", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	build(f, &cv, "level=regency&in=32", 1);
	assert_int_equal(row(&cv, 3201)->tps, 6);
	assert_string_equal(cell(row(&cv, 3201), CONTEST_PPWP), "6 3 0 3");
	coverage_free(&cv);

	/* The gateway's own connection imports a new regency. */
	snprintf(csv, sizeof(csv), "%s/more.csv", f->dir);
	assert_non_null(fp = fopen(csv, "w"));
	fputs("kode_desa,kode_prov,prov,kode_kab,kab,kode_kec,kec,desa,"
	    "n_tps_reguler,ext_first,ext_last,n_tps_total\n"
	    "3203012001,32,JAWA BARAT,3203,CIANJUR,320301,AGRABINTA,"
	    "BOJONGKASIH,7,,,7\n", fp);
	fclose(fp);
	assert_int_equal(registry_import_desa(f->r, csv, &n, err,
	    sizeof(err)), 0);
	unlink(csv);
	build(f, &cv, "level=regency&in=32", 1);
	assert_int_equal(cv.nrows, 3);
	assert_string_equal(row(&cv, 3203)->name, "CIANJUR");
	assert_string_equal(cell(row(&cv, 3203), CONTEST_PPWP), "7 0 0 7");
	coverage_free(&cv);
	coverage_forget();
}

/*
 * Two accepted reports of one page with the same SEQ (the SEQ rule
 * lets none through; a store written by hand may hold them): the one
 * stored last is the page's latest.
 */
static void
test_coverage_same_seq(void **state)
{
	struct fixture		*f = *state;
	struct coverage		 cv;

	report(f, 3201012001001ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 1);
	report(f, 3201012001001ULL, CONTEST_PPWP, -1, 1, VERDICT_FLAGGED, 2);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 3);
	report(f, 3201012001002ULL, CONTEST_PPWP, -1, 1, VERDICT_FLAGGED, 4);
	report(f, 3201012002001ULL, CONTEST_PPWP, -1, 1, VERDICT_FLAGGED, 5);
	report(f, 3201012002001ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 6);
	build(f, &cv, "level=village&in=320101&contest=PPWP", 1);
	assert_string_equal(cell(row(&cv, 3201012001), CONTEST_PPWP),
	    "3 2 2 1");
	assert_string_equal(cell(row(&cv, 3201012002), CONTEST_PPWP),
	    "2 1 0 1");
	coverage_free(&cv);
}

struct listed {
	int64_t		 ids[64];
	int		 n;
	int		 reply[64];
};

static int
listed_row(const struct store_msg_row *m, void *arg)
{
	struct listed	*l = arg;

	l->reply[l->n] = m->reply;
	l->ids[l->n++] = m->id;
	return (0);
}

/* The ids a query lists, as "5 4 1". */
static const char *
list(struct fixture *f, const char *qs)
{
	static char		 buf[256];
	struct store_msg_query	 q;
	struct listed		 l;
	char			 err[256];
	size_t			 off = 0;
	int			 i;

	if (query_messages(qs, &q, err, sizeof(err)) == -1)
		fail_msg("%s: %s", qs, err);
	memset(&l, 0, sizeof(l));
	assert_int_equal(store_msg_list(f->s, &q, listed_row, &l), 0);
	buf[0] = '\0';
	for (i = 0; i < l.n; i++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%lld",
		    i ? " " : "", (long long)l.ids[i]);
	return (buf);
}

static void
test_list(void **state)
{
	struct fixture		*f = *state;
	struct store_reply	 rep;
	struct store_out	 o;
	int64_t			 rid;

	night(f);
	assert_string_equal(list(f, ""), "10 9 8 7 6 5 4 3 2 1");
	assert_string_equal(list(f, "limit=3"), "10 9 8");
	assert_string_equal(list(f, "limit=3&before=8"), "7 6 5");
	assert_string_equal(list(f, "tps=3201012001002"), "7 5 4");
	assert_string_equal(list(f, "verdict=FLAGGED"), "8 4 2");
	assert_string_equal(list(f, "contest=DPR"), "3 2");
	assert_string_equal(list(f, "sender=%2B6281200001001"), "10 3 2 1");
	assert_string_equal(list(f, "channel=ussd"), "9 7 5 3 1");
	assert_string_equal(list(f, "channel=sms"), "10 8 6 4 2");
	assert_string_equal(list(f, "since=2026-02-14T10:00:04&"
	    "until=2026-02-14T10:00:06"), "5 4");
	assert_string_equal(list(f, "kind=cek"), "");
	/* Replies: message 2 owed, message 3 delivered, the rest none. */
	memset(&rep, 0, sizeof(rep));
	rep.msg_id = 2;
	snprintf(rep.dest, sizeof(rep.dest), "+628120001");
	snprintf(rep.text, sizeof(rep.text), "DITERIMA 2");
	assert_int_equal(store_reply_add(f->s, &rep), 0);
	rep.msg_id = 3;
	assert_int_equal(store_reply_add(f->s, &rep), 0);
	rid = rep.id;
	memset(&o, 0, sizeof(o));
	snprintf(o.dest, sizeof(o.dest), "+628120001");
	snprintf(o.text, sizeof(o.text), "DITERIMA 3");
	o.state = OUT_QUEUED;
	assert_int_equal(store_out_add(f->s, &o, &rid, 1), 0);
	assert_int_equal(store_out_set(f->s, o.id, OUT_DELIVERED, "m1", 7, -1,
	    NULL), 0);
	assert_string_equal(list(f, "state=owed"), "2");
	assert_string_equal(list(f, "state=delivered"), "3");
	assert_string_equal(list(f, "state=none&limit=2"), "10 9");
	assert_string_equal(list(f, "state=queued"), "");
	/* Forwards. */
	assert_int_equal(store_fwd_add(f->s, 1, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, 5, "kpu"), 0);
	assert_string_equal(list(f, "forward=pending"), "5 1");
	assert_string_equal(list(f, "forward=none&limit=1"), "10");
}

static void
test_export(void **state)
{
	struct fixture		*f = *state;
	struct query_export	 q;
	struct store_cursor	*c;
	struct store_export_row	 e;
	char			 err[256], got[1024];
	size_t			 off = 0;
	int			 rc;

	night(f);
	assert_int_equal(query_export("", &q, err, sizeof(err)), 0);
	assert_non_null(c = store_export_open(f->s, &q, err, sizeof(err)));
	/* A report stored while the export reads is not in its snapshot. */
	assert_int_equal(store_export_next(c, &e), 1);
	report(f, 3101012001001ULL, CONTEST_PPWP, -1, 1, VERDICT_OK, 11);
	got[0] = '\0';
	do {
		off += (size_t)snprintf(got + off, sizeof(got) - off,
		    "%013llu %s %d %u %s %s %lld|",
		    (unsigned long long)e.tps, decode_contest_name(e.contest),
		    e.page, e.seq, verify_verdict_name(e.verdict), e.values,
		    (long long)e.msg_id);
	} while ((rc = store_export_next(c, &e)) == 1);
	assert_int_equal(rc, 0);
	store_cursor_close(c);
	assert_string_equal(got,
	    "3171011001005 DPD -1 1 OK 1 9 9|"
	    "3201012001001 DPR 0 2 FLAGGED 2 2 2|"
	    "3201012001001 DPR 1 3 OK 3 3 3|"
	    "3201012001001 PPWP -1 1 OK 1 1 1|"
	    "3201012001002 PPWP -1 2 OK 2 5 5|"
	    "3202012001004 PPWP -1 1 FLAGGED 1 8 8|"
	    "3301012001001 PPWP -1 1 OK 1 10 10|");

	assert_int_equal(query_export("region=3201&contest=PPWP", &q, err,
	    sizeof(err)), 0);
	assert_non_null(c = store_export_open(f->s, &q, err, sizeof(err)));
	assert_int_equal(store_export_next(c, &e), 1);
	assert_int_equal(e.msg_id, 1);
	assert_string_equal(e.receipt, "10000001");
	assert_string_equal(e.received_at, "2026-02-14T10:00:01.000Z");
	assert_int_equal(store_export_next(c, &e), 1);
	assert_int_equal(e.msg_id, 5);
	assert_int_equal(store_export_next(c, &e), 0);
	store_cursor_close(c);
}

static void
test_fwd_reply(void **state)
{
	struct fixture		*f = *state;
	struct store_fwd	 rows[8];
	struct store_msg_reply	 last;
	struct store_reply	 rep;
	size_t			 n;

	night(f);
	assert_int_equal(store_fwd_add(f->s, 1, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, 1, "backup"), 0);
	assert_int_equal(store_fwd_add(f->s, 5, "kpu"), 0);
	assert_int_equal(store_fwd_add(f->s, 8, "kpu"), 0);
	assert_int_equal(store_fwd_set(f->s, 1, FWD_FAILED, 1, 0, 401, "no"),
	    0);
	assert_int_equal(store_fwd_set(f->s, 2, FWD_RETRY_WAIT, 1, 99, 0,
	    "down"), 0);
	assert_int_equal(store_fwd_set(f->s, 4, FWD_FAILED, 1, 0, 409, "x"),
	    0);
	assert_int_equal(store_fwd_select(f->s, 0, 1U << FWD_FAILED, 0, rows,
	    8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(rows[0].id, 1);
	assert_int_equal(rows[1].id, 4);
	assert_int_equal(rows[1].http_status, 409);
	assert_int_equal(store_fwd_select(f->s, 0, 1U << FWD_FAILED, 1, rows,
	    8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_fwd_select(f->s, 1, 1U << FWD_FAILED |
	    1U << FWD_RETRY_WAIT | 1U << FWD_PENDING, 0, rows, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[1].central, "backup");
	assert_int_equal(store_fwd_select(f->s, 0, 1U << FWD_PENDING, 0, rows,
	    1, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(rows[0].msg_id, 5);

	assert_int_equal(store_reply_last(f->s, 1, &last), 0);
	memset(&rep, 0, sizeof(rep));
	rep.msg_id = 1;
	snprintf(rep.dest, sizeof(rep.dest), "+628120001");
	snprintf(rep.text, sizeof(rep.text), "first");
	assert_int_equal(store_reply_add(f->s, &rep), 0);
	snprintf(rep.text, sizeof(rep.text), "second");
	assert_int_equal(store_reply_add(f->s, &rep), 0);
	assert_int_equal(store_reply_last(f->s, 1, &last), 1);
	assert_string_equal(last.reply.text, "second");
	assert_int_equal(last.out.id, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_coverage, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_coverage_kept, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_coverage_same_seq, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fwd_reply, setup,
		    teardown),
	};

	log_init("test_coverage", LOG_TO_STDERR, 0);
	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, NULL, NULL));
}
