/*
 * The TPS registry: which polling stations exist, where they are and
 * how many voters each has, kept in an SQLite database that the
 * operator fills from the KPU village list (desa_tps_2024.csv) and a
 * per-TPS DPT file (pilpres2024_tps.csv).  docs/registry.md describes
 * the schema and the import rules.
 *
 * The gateway only reads the registry (one prepared lookup per report);
 * imports are rare, run by tallyctl, and are all or nothing: the first
 * bad line of a file names its file and line and rolls everything back.
 */

#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

#include "csv.h"
#include "fmt.h"
#include "log.h"
#include "tally.h"

#define REGISTRY_SCHEMA_VERSION	1
#define REGISTRY_APPLICATION	"tallygw-registry"
#define REGISTRY_APPLICATION_ID	0x54414c59	/* "TALY", for file(1) */
#define REGISTRY_DPT_MAX	VERIFY_DEFAULT_DPT /* legal maximum per TPS */
#define REGISTRY_DPT_READ_MAX	9999999ULL	/* larger is not a number */
#define REGISTRY_ABROAD		99	/* province of voters abroad */
#define REGISTRY_PROV_MIN	11	/* Aceh, the first province code */
#define REGISTRY_TPS_MAX	999	/* three digits of TPS number */
#define REGISTRY_BUSY_MS	5000	/* wait for a concurrent writer */
#define REGISTRY_IMPORT_CACHE	65536	/* KiB of page cache in an import */


struct registry {
	sqlite3		*db;
	sqlite3_stmt	*lookup;
	sqlite3_stmt	*count;
	sqlite3_stmt	*begin;		/* registry_batch_begin */
	sqlite3_stmt	*end;
	int		 inbatch;
	char		*path;
	int		 rdonly;
	int		 saved_sync;	/* PRAGMA synchronous outside imports */
	int		 saved_cache;	/* PRAGMA cache_size outside imports */
};



/* A code met in this import, to find the same code on two lines. */
struct seen {
	uint64_t	 code;
	unsigned long	 line;
};
struct seenset {
	struct seen	*v;
	size_t		 n;
	size_t		 cap;
};

enum desa_col {
	DC_KODE_DESA,
	DC_KODE_PROV,
	DC_KODE_KAB,
	DC_KODE_KEC,
	DC_PROV,
	DC_KAB,
	DC_KEC,
	DC_DESA,
	DC_NREG,
	DC_EXT_FIRST,
	DC_EXT_LAST,
	DC_NTOTAL,
	DC_MAX
};
static const struct csv_column desa_columns[DC_MAX] = {
	[DC_KODE_DESA] =	{ "kode_desa", 1 },
	[DC_KODE_PROV] =	{ "kode_prov", 0 },
	[DC_KODE_KAB] =		{ "kode_kab", 0 },
	[DC_KODE_KEC] =		{ "kode_kec", 0 },
	[DC_PROV] =		{ "prov", 1 },
	[DC_KAB] =		{ "kab", 1 },
	[DC_KEC] =		{ "kec", 1 },
	[DC_DESA] =		{ "desa", 1 },
	[DC_NREG] =		{ "n_tps_reguler", 1 },
	[DC_EXT_FIRST] =	{ "ext_first", 0 },
	[DC_EXT_LAST] =		{ "ext_last", 0 },
	[DC_NTOTAL] =		{ "n_tps_total", 1 },
};

enum dpt_col {
	PC_KODE_TPS,
	PC_DPT,
	PC_KODE_DESA,
	PC_NO_TPS,
	PC_PROV,
	PC_KAB,
	PC_KEC,
	PC_DESA,
	PC_MAX
};
static const struct csv_column dpt_columns[PC_MAX] = {
	[PC_KODE_TPS] =		{ "kode_tps", 1 },
	[PC_DPT] =		{ "dpt", 1 },
	[PC_KODE_DESA] =	{ "kode_desa", 0 },
	[PC_NO_TPS] =		{ "no_tps", 0 },
	[PC_PROV] =		{ "prov", 0 },
	[PC_KAB] =		{ "kab", 0 },
	[PC_KEC] =		{ "kec", 0 },
	[PC_DESA] =		{ "desa", 0 },
};

static const char registry_schema_sql[] =
	"CREATE TABLE meta ("
	" key TEXT PRIMARY KEY,"
	" value TEXT NOT NULL"
	") WITHOUT ROWID;"
	"CREATE TABLE village ("
	" code INTEGER PRIMARY KEY"
	"  CHECK (code BETWEEN 1000000000 AND 9999999999),"
	" prov TEXT NOT NULL,"
	" kab TEXT NOT NULL,"
	" kec TEXT NOT NULL,"
	" desa TEXT NOT NULL"
	");"
	"CREATE TABLE tps ("
	" code INTEGER PRIMARY KEY"
	"  CHECK (code BETWEEN 1000000000001 AND 9999999999999),"
	" dpt INTEGER NOT NULL DEFAULT 0,"
	" dpt_raw INTEGER"
	");";

static const char registry_lookup_sql[] =
	"SELECT t.dpt, v.prov, v.kab, v.kec, v.desa"
	" FROM tps AS t LEFT JOIN village AS v ON v.code = t.code / 1000"
	" WHERE t.code = ?1";

static void	 registry_fail(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static void	 registry_note(char *, size_t, const char *, ...)
		    __attribute__((__format__ (printf, 3, 4)));
static int	 registry_import_end(struct registry *, int, char *, size_t);

/* Log a failure with the module name and hand it to the caller. */
static void
registry_fail(char *errbuf, size_t errlen, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_warnx("registry: %s", msg);
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
}

/* Log the summary of a successful import and hand it to the caller. */
static void
registry_note(char *errbuf, size_t errlen, const char *fmt, ...)
{
	char	 msg[512];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("registry: %s", msg);
	if (errbuf != NULL && errlen > 0)
		snprintf(errbuf, errlen, "%s", msg);
}

/* --- small parsers --------------------------------------------------- */

/* Decimal digits only, no sign or space, at most max. */
static int
registry_num(const char *s, unsigned long long max, unsigned long long *v)
{
	unsigned long long	 n = 0;

	if (*s == '\0')
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		n = n * 10 + (unsigned long long)(*s - '0');
		if (n > max)
			return (-1);
	}
	*v = n;
	return (0);
}

/* Exactly ndigits decimal digits. */
static int
registry_code(const char *s, size_t ndigits, uint64_t *v)
{
	unsigned long long	 n;

	if (strlen(s) != ndigits || registry_num(s, ULLONG_MAX / 10, &n) == -1)
		return (-1);
	*v = n;
	return (0);
}

/* A code column must agree with the first digits of the village code. */
static int
registry_check_prefix(struct csv *c, const char *name, const char *val,
    const char *code, size_t len)
{
	if (*val == '\0')
		return (0);
	if (strlen(val) != len || strncmp(val, code, len) != 0)
		return (csv_fail(c, "%s \"%.20s\" does not match the code %s",
		    name, val, code));
	return (0);
}

/* A database error while storing a row: name the row as well. */
static int
registry_row_dberr(struct csv *c, char *msg)
{
	csv_fail(c, "storing the row: %s", msg);
	msg[0] = '\0';
	return (-1);
}

/* --- codes seen in one import ---------------------------------------- */

static int
registry_seen_add(struct seenset *s, uint64_t code, unsigned long line)
{
	struct seen	*p;
	size_t		 ncap;

	if (s->n == s->cap) {
		ncap = s->cap == 0 ? 4096 : s->cap * 2;
		if ((p = reallocarray(s->v, ncap, sizeof(*p))) == NULL)
			return (-1);
		s->v = p;
		s->cap = ncap;
	}
	s->v[s->n].code = code;
	s->v[s->n].line = line;
	s->n++;
	return (0);
}

static int
registry_seen_cmp(const void *a, const void *b)
{
	const struct seen	*x = a, *y = b;

	if (x->code != y->code)
		return (x->code < y->code ? -1 : 1);
	if (x->line != y->line)
		return (x->line < y->line ? -1 : 1);
	return (0);
}

/* The earliest line whose code already appeared; NULL if none. */
static const struct seen *
registry_seen_dup(struct seenset *s, unsigned long *firstline)
{
	const struct seen	*dup = NULL;
	size_t			 i;

	qsort(s->v, s->n, sizeof(*s->v), registry_seen_cmp);
	for (i = 1; i < s->n; i++) {
		if (s->v[i].code != s->v[i - 1].code)
			continue;
		if (dup == NULL || s->v[i].line < dup->line) {
			dup = &s->v[i];
			*firstline = s->v[i - 1].line;
		}
		/* the rest of this run comes later still */
		while (i + 1 < s->n && s->v[i + 1].code == s->v[i].code)
			i++;
	}
	return (dup);
}

/* --- SQLite helpers -------------------------------------------------- */

static int
registry_exec(struct registry *reg, const char *sql, char *msg, size_t len)
{
	char	*err = NULL;

	if (sqlite3_exec(reg->db, sql, NULL, NULL, &err) == SQLITE_OK)
		return (0);
	snprintf(msg, len, "%s: %s", reg->path,
	    err != NULL ? err : sqlite3_errmsg(reg->db));
	sqlite3_free(err);
	return (-1);
}

static int
registry_prepare(struct registry *reg, const char *sql, sqlite3_stmt **st,
    char *msg, size_t len)
{
	if (sqlite3_prepare_v2(reg->db, sql, -1, st, NULL) == SQLITE_OK)
		return (0);
	snprintf(msg, len, "%s: %s", reg->path, sqlite3_errmsg(reg->db));
	*st = NULL;
	return (-1);
}

/* Run a statement that returns no rows and make it ready again. */
static int
registry_step(struct registry *reg, sqlite3_stmt *st, char *msg, size_t len)
{
	int	 rc;

	rc = sqlite3_step(st);
	if (rc != SQLITE_DONE)
		snprintf(msg, len, "%s: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

static int
registry_pragma_int(struct registry *reg, const char *sql, int *v, char *msg,
    size_t len)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (registry_prepare(reg, sql, &st, msg, len) == -1)
		return (-1);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int(st, 0);
	else
		snprintf(msg, len, "%s: %s: %s", reg->path, sql,
		    rc == SQLITE_DONE ? "no value" : sqlite3_errmsg(reg->db));
	sqlite3_finalize(st);
	return (rc == SQLITE_ROW ? 0 : -1);
}

static int
registry_meta_set(struct registry *reg, const char *key, const char *value,
    char *msg, size_t len)
{
	sqlite3_stmt	*st;
	int		 rc;

	if (registry_prepare(reg, "INSERT OR REPLACE INTO meta (key, value) "
	    "VALUES (?1, ?2)", &st, msg, len) == -1)
		return (-1);
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	rc = registry_step(reg, st, msg, len);
	sqlite3_finalize(st);
	return (rc);
}

static int
registry_meta_set_num(struct registry *reg, const char *key, size_t value,
    char *msg, size_t len)
{
	char	 buf[32];

	snprintf(buf, sizeof(buf), "%zu", value);
	return (registry_meta_set(reg, key, buf, msg, len));
}

static void
registry_now_utc(char *buf, size_t len)
{
	(void)fmt_iso(buf, len, time(NULL));
}

/* Record where an import came from and when. */
static int
registry_meta_source(struct registry *reg, const char *prefix, const char *path,
    char *msg, size_t len)
{
	char		 key[64], now[32], *abs;
	int		 rc;

	registry_now_utc(now, sizeof(now));
	abs = realpath(path, NULL);
	snprintf(key, sizeof(key), "%s_source", prefix);
	rc = registry_meta_set(reg, key, abs != NULL ? abs : path, msg, len);
	free(abs);
	if (rc == -1)
		return (-1);
	snprintf(key, sizeof(key), "%s_imported", prefix);
	return (registry_meta_set(reg, key, now, msg, len));
}

/*
 * An import is one transaction.  Durability is traded for speed while
 * it runs (synchronous=OFF, a large page cache): an import is repeated
 * from its file if the machine loses power, and the old settings come
 * back when it ends.
 */
static int
registry_import_begin(struct registry *reg, char *msg, size_t len)
{
	char	 sql[64];

	if (reg->rdonly) {
		snprintf(msg, len, "%s: registry opened read-only", reg->path);
		return (-1);
	}
	if (registry_pragma_int(reg, "PRAGMA synchronous", &reg->saved_sync,
	    msg, len) == -1 ||
	    registry_pragma_int(reg, "PRAGMA cache_size", &reg->saved_cache,
	    msg, len) == -1)
		return (-1);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = -%d",
	    REGISTRY_IMPORT_CACHE);
	if (registry_exec(reg, "PRAGMA synchronous = OFF", msg, len) == -1 ||
	    registry_exec(reg, sql, msg, len) == -1 ||
	    registry_exec(reg, "BEGIN IMMEDIATE", msg, len) == -1) {
		registry_import_end(reg, 0, msg,
		    len);	/* restores the settings */
		return (-1);
	}
	return (0);
}

/* Commit (ok) or roll back, then restore the settings of the reader. */
static int
registry_import_end(struct registry *reg, int ok, char *msg, size_t len)
{
	char	 sql[64], ign[256];
	int	 rc = 0;

	if (ok && (rc = registry_exec(reg, "COMMIT", msg, len)) == 0 &&
	    registry_exec(reg, "PRAGMA wal_checkpoint(TRUNCATE)", ign,
	    sizeof(ign)) == -1)
		log_warnx("registry: checkpoint: %s", ign);
	if (!ok || rc == -1) {
		if (sqlite3_get_autocommit(reg->db) == 0 &&
		    registry_exec(reg, "ROLLBACK", ign, sizeof(ign)) == -1)
			log_warnx("registry: rollback: %s", ign);
		rc = -1;
	}
	snprintf(sql, sizeof(sql), "PRAGMA synchronous = %d",
	    reg->saved_sync);
	if (registry_exec(reg, sql, ign, sizeof(ign)) == -1)
		log_warnx("registry: %s", ign);
	snprintf(sql, sizeof(sql), "PRAGMA cache_size = %d",
	    reg->saved_cache);
	if (registry_exec(reg, sql, ign, sizeof(ign)) == -1)
		log_warnx("registry: %s", ign);
	return (rc);
}

/*
 * After the last row of an import of n rows: a file with no rows, or
 * with a code (a kode_desa, a kode_tps: NAME of DIGITS digits) on two
 * lines, fails on the line to blame.
 */
static int
registry_import_check(struct csv *c, size_t n, struct seenset *seen,
    const char *name, int digits)
{
	const struct seen	*dup;
	unsigned long		 firstline = 0;

	if (n == 0)
		return (csv_fail(c, "no data lines after the header"));
	if ((dup = registry_seen_dup(seen, &firstline)) != NULL) {
		c->lineno = dup->line;
		return (csv_fail(c, "%s %0*llu already on line %lu", name,
		    digits, (unsigned long long)dup->code, firstline));
	}
	return (0);
}

/*
 * End an import (began: its transaction; ok: commit it), close its file
 * and say why it failed in errbuf: 0 if it was committed, else -1.
 */
static int
registry_import_close(struct registry *reg, const char *path, int began,
    int ok, struct csv *c, struct seenset *seen, char *msg, size_t len,
    char *errbuf, size_t errlen)
{
	if (began && registry_import_end(reg, ok, msg, len) == -1)
		ok = 0;
	if (!ok && msg[0] == '\0')
		snprintf(msg, len, "%s:%lu: %s", path, c->lineno,
		    c->err[0] != '\0' ? c->err : "import failed");
	csv_close(c);
	free(seen->v);
	if (!ok) {
		registry_fail(errbuf, errlen, "%s", msg);
		return (-1);
	}
	return (0);
}

/* --- open, close ----------------------------------------------------- */

/* Create the tables in an empty database. */
static int
registry_create(struct registry *reg, char *msg, size_t len)
{
	char	 sql[64], now[32];

	/* WAL: the gateway reads on while tallyctl imports. */
	if (registry_exec(reg, "PRAGMA journal_mode = WAL", msg, len) == -1 ||
	    registry_exec(reg, "BEGIN IMMEDIATE", msg, len) == -1)
		return (-1);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
	    REGISTRY_APPLICATION_ID);
	registry_now_utc(now, sizeof(now));
	if (registry_exec(reg, registry_schema_sql, msg, len) == -1 ||
	    registry_exec(reg, sql, msg, len) == -1 ||
	    registry_meta_set(reg, "application", REGISTRY_APPLICATION, msg,
	    len) == -1 ||
	    registry_meta_set_num(reg, "schema_version",
	        REGISTRY_SCHEMA_VERSION, msg,
	    len) == -1 ||
	    registry_meta_set(reg, "created", now, msg, len) == -1 ||
	    registry_exec(reg, "COMMIT", msg, len) == -1) {
		if (sqlite3_get_autocommit(reg->db) == 0)
			sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
		return (-1);
	}
	return (0);
}

/* Make sure the file is a registry of a schema this code reads. */
static int
registry_check(struct registry *reg, int mode, char *msg, size_t len)
{
	sqlite3_stmt	*st;
	const char	*key, *val;
	int		 rc, ntables, version = -1, app = 0;

	if (sqlite3_prepare_v2(reg->db, "SELECT count(*) FROM sqlite_master",
	    -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, len, "%s: not an SQLite database (%s)",
		    reg->path, sqlite3_errmsg(reg->db));
		return (-1);
	}
	rc = sqlite3_step(st);
	ntables = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		snprintf(msg, len, "%s: not an SQLite database (%s)",
		    reg->path, sqlite3_errmsg(reg->db));
		return (-1);
	}
	if (ntables == 0) {
		if (mode == REGISTRY_CREATE)
			return (registry_create(reg, msg, len));
		snprintf(msg, len, "%s: empty database, not a tallygw "
		    "registry (create it with tallyctl import)", reg->path);
		return (-1);
	}

	if (sqlite3_prepare_v2(reg->db, "SELECT key, value FROM meta",
	    -1, &st, NULL) != SQLITE_OK) {
		snprintf(msg, len, "%s: not a tallygw registry (%s)",
		    reg->path, sqlite3_errmsg(reg->db));
		return (-1);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		key = (const char *)sqlite3_column_text(st, 0);
		val = (const char *)sqlite3_column_text(st, 1);
		if (key == NULL || val == NULL)
			continue;
		if (strcmp(key, "application") == 0)
			app = strcmp(val, REGISTRY_APPLICATION) == 0;
		else if (strcmp(key, "schema_version") == 0)
			version = atoi(val);
	}
	if (rc != SQLITE_DONE)
		snprintf(msg, len, "%s: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return (-1);
	if (!app) {
		snprintf(msg, len, "%s: not a tallygw registry (no "
		    "application %s in its meta table)", reg->path,
		    REGISTRY_APPLICATION);
		return (-1);
	}
	if (version != REGISTRY_SCHEMA_VERSION) {
		snprintf(msg, len, "%s: registry schema version %d, this "
		    "tallygw reads version %d", reg->path, version,
		    REGISTRY_SCHEMA_VERSION);
		return (-1);
	}
	return (0);
}

struct registry *
registry_open(const char *path, int mode, char *errbuf, size_t errlen)
{
	struct registry	*reg;
	struct stat	 sb;
	char		 msg[512];
	int		 flags, rc, serr;

	if (path == NULL || *path == '\0') {
		registry_fail(errbuf, errlen, "no registry file given");
		return (NULL);
	}
	if (mode != REGISTRY_RDONLY && mode != REGISTRY_CREATE) {
		registry_fail(errbuf, errlen, "%s: unknown open mode %d", path,
		    mode);
		return (NULL);
	}
	if (mode == REGISTRY_RDONLY) {
		if (stat(path, &sb) == -1) {
			registry_fail(errbuf, errlen, "%s: %s", path,
			    strerror(errno));
			return (NULL);
		}
		if (!S_ISREG(sb.st_mode)) {
			registry_fail(errbuf, errlen, "%s: not a regular file",
			    path);
			return (NULL);
		}
	}
	if ((reg = calloc(1, sizeof(*reg))) == NULL ||
	    (reg->path = strdup(path)) == NULL) {
		registry_fail(errbuf, errlen, "%s: %s", path, strerror(errno));
		free(reg);
		return (NULL);
	}
	reg->rdonly = mode == REGISTRY_RDONLY;
	flags = reg->rdonly ? SQLITE_OPEN_READONLY :
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	rc = sqlite3_open_v2(path, &reg->db, flags, NULL);
	if (rc != SQLITE_OK) {
		serr = reg->db != NULL ? sqlite3_system_errno(reg->db) : 0;
		snprintf(msg, sizeof(msg), "%s: %s%s%s%s", path,
		    reg->db != NULL ? sqlite3_errmsg(reg->db) :
		    sqlite3_errstr(rc), serr ? " (" : "",
		    serr ? strerror(serr) : "", serr ? ")" : "");
		goto fail;
	}
	sqlite3_extended_result_codes(reg->db, 1);
	sqlite3_busy_timeout(reg->db, REGISTRY_BUSY_MS);
	if (registry_check(reg, mode, msg, sizeof(msg)) == -1 ||
	    registry_prepare(reg, registry_lookup_sql, &reg->lookup, msg,
	    sizeof(msg)) == -1 ||
	    registry_prepare(reg, "SELECT count(*) FROM tps", &reg->count, msg,
	    sizeof(msg)) == -1 ||
	    registry_prepare(reg, "BEGIN", &reg->begin, msg, sizeof(msg)) ==
	    -1 || registry_prepare(reg, "COMMIT", &reg->end, msg,
	    sizeof(msg)) == -1)
		goto fail;
	return (reg);

 fail:
	registry_fail(errbuf, errlen, "%s", msg);
	registry_close(reg);
	return (NULL);
}

void
registry_close(struct registry *reg)
{
	if (reg == NULL)
		return;
	registry_batch_end(reg);
	sqlite3_finalize(reg->lookup);
	sqlite3_finalize(reg->count);
	sqlite3_finalize(reg->begin);
	sqlite3_finalize(reg->end);
	if (reg->db != NULL && sqlite3_close(reg->db) != SQLITE_OK)
		log_warnx("registry: %s: close: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	free(reg->path);
	free(reg);
}

/* --- queries --------------------------------------------------------- */

static void
registry_copy_text(sqlite3_stmt *st, int col, char *dst, size_t len)
{
	const unsigned char	*s = sqlite3_column_text(st, col);

	fmt_copy(dst, len, s != NULL ? (const char *)s : "");
}

int
registry_lookup(struct registry *reg, uint64_t tps, struct tps_info *info)
{
	int	 rc;

	memset(info, 0, sizeof(*info));
	info->tps = tps;
	if (tps > 9999999999999ULL)
		return (0);
	sqlite3_bind_int64(reg->lookup, 1, (sqlite3_int64)tps);
	rc = sqlite3_step(reg->lookup);
	if (rc == SQLITE_ROW) {
		info->dpt = sqlite3_column_int(reg->lookup, 0);
		registry_copy_text(reg->lookup, 1, info->prov,
		    sizeof(info->prov));
		registry_copy_text(reg->lookup, 2, info->kab,
		    sizeof(info->kab));
		registry_copy_text(reg->lookup, 3, info->kec,
		    sizeof(info->kec));
		registry_copy_text(reg->lookup, 4, info->desa,
		    sizeof(info->desa));
	} else if (rc != SQLITE_DONE)
		log_warnx("registry: %s: lookup %013llu: %s", reg->path,
		    (unsigned long long)tps, sqlite3_errmsg(reg->db));
	sqlite3_reset(reg->lookup);
	if (rc == SQLITE_ROW)
		return (1);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/*
 * The lookups of one batch of reports in one read transaction: each
 * lookup alone began and ended its own, with its locks on the WAL index
 * and a look at the file (4 system calls a report). The batch sees one
 * state of the registry; an import waits for it (milliseconds).
 */
void
registry_batch_begin(struct registry *reg)
{
	if (reg == NULL || reg->inbatch)
		return;
	if (sqlite3_step(reg->begin) == SQLITE_DONE)
		reg->inbatch = 1;
	else
		log_warnx("registry: %s: begin: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	sqlite3_reset(reg->begin);
}

void
registry_batch_end(struct registry *reg)
{
	if (reg == NULL || !reg->inbatch)
		return;
	reg->inbatch = 0;
	if (sqlite3_step(reg->end) != SQLITE_DONE) {
		log_warnx("registry: %s: end: %s", reg->path,
		    sqlite3_errmsg(reg->db));
		sqlite3_reset(reg->end);
		sqlite3_exec(reg->db, "ROLLBACK", NULL, NULL, NULL);
		return;
	}
	sqlite3_reset(reg->end);
}

int
registry_count(struct registry *reg, size_t *n)
{
	int	 rc;

	rc = sqlite3_step(reg->count);
	if (rc == SQLITE_ROW)
		*n = (size_t)sqlite3_column_int64(reg->count, 0);
	else
		log_warnx("registry: %s: count: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	sqlite3_reset(reg->count);
	return (rc == SQLITE_ROW ? 0 : -1);
}

/*
 * Each village whose code is in lo..hi, in code order, with its TPS
 * count: what coverage expects. cb returning -1 stops the walk (and
 * the call returns -1); a database error is logged.
 */
int
registry_villages(struct registry *reg, uint64_t lo, uint64_t hi,
    int (*cb)(const struct registry_village *, void *), void *arg)
{
	static const char	 sql[] = "SELECT v.code, v.prov, v.kab, v.kec,"
	    " v.desa, (SELECT count(*) FROM tps AS t WHERE t.code BETWEEN"
	    " v.code * 1000 AND v.code * 1000 + 999) FROM village AS v"
	    " WHERE v.code BETWEEN ?1 AND ?2 ORDER BY v.code";
	struct registry_village	 v;
	sqlite3_stmt		*st;
	int			 rc;

	if (sqlite3_prepare_v2(reg->db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_warnx("registry: %s: villages: %s", reg->path,
		    sqlite3_errmsg(reg->db));
		return (-1);
	}
	sqlite3_bind_int64(st, 1, (sqlite3_int64)lo);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)hi);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&v, 0, sizeof(v));
		v.code = (uint64_t)sqlite3_column_int64(st, 0);
		registry_copy_text(st, 1, v.prov, sizeof(v.prov));
		registry_copy_text(st, 2, v.kab, sizeof(v.kab));
		registry_copy_text(st, 3, v.kec, sizeof(v.kec));
		registry_copy_text(st, 4, v.desa, sizeof(v.desa));
		v.ntps = (long)sqlite3_column_int64(st, 5);
		if (cb(&v, arg) == -1)
			break;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		log_warnx("registry: %s: villages: %s", reg->path,
		    sqlite3_errmsg(reg->db));
	sqlite3_finalize(st);
	return (rc == SQLITE_DONE ? 0 : -1);
}

/*
 * A number that changes when the registry does, by this connection or
 * another (PRAGMA data_version counts the others' commits): what was
 * read from it may be kept while the number stands. -1 if unknown.
 */
int64_t
registry_version(struct registry *reg)
{
	char	 msg[256];
	int	 v;

	if (registry_pragma_int(reg, "PRAGMA data_version", &v, msg,
	    sizeof(msg)) == -1) {
		log_warnx("registry: %s", msg);
		return (-1);
	}
	return ((int64_t)(uint32_t)v << 32 |
	    (uint32_t)sqlite3_total_changes64(reg->db));
}

/* --- import of the village list -------------------------------------- */

struct desa_import {
	sqlite3_stmt	*village;
	sqlite3_stmt	*tps;
	size_t		 villages;
	size_t		 ntps;
	size_t		 abroad;
};

/*
 * Check one row of the village list and store the village and its TPS:
 * 1..n_tps_reguler, then ext_first..ext_last.  0 stored, 1 skipped
 * (abroad), -1 bad line or database error (c->err).
 */
static int
registry_desa_row(struct registry *reg, struct csv *c, const int *idx,
    size_t nheader, struct desa_import *di, struct seenset *seen,
    char *msg, size_t len)
{
	const char		*code, *ef, *el, *name;
	unsigned long long	 nreg, first = 0, last = 0, total, t;
	uint64_t		 village;
	size_t			 next = 0;
	int			 i;

	if (c->nf != nheader)
		return (csv_fail(c, "%zu fields, the header has %zu", c->nf,
		    nheader));
	code = csv_col(c, idx, DC_KODE_DESA);
	if (registry_code(code, 10, &village) == -1)
		return (csv_fail(c, "kode_desa \"%.20s\" is not 10 digits",
		    code));
	if (village / 100000000 < REGISTRY_PROV_MIN)
		return (csv_fail(c, "kode_desa %s: no province %.2s", code,
		    code));
	if (registry_check_prefix(c, "kode_prov", csv_col(c, idx, DC_KODE_PROV),
	    code, 2) == -1 ||
	    registry_check_prefix(c, "kode_kab", csv_col(c, idx, DC_KODE_KAB),
	    code, 4) == -1 ||
	    registry_check_prefix(c, "kode_kec", csv_col(c, idx, DC_KODE_KEC),
	    code, 6) == -1)
		return (-1);
	if (village / 100000000 == REGISTRY_ABROAD) {
		/* Voters abroad: another numbering, not served here. */
		di->abroad++;
		return (1);
	}

	name = csv_col(c, idx, DC_NREG);
	if (registry_num(name, REGISTRY_TPS_MAX, &nreg) == -1)
		return (csv_fail(c, "n_tps_reguler \"%.20s\" is not a number "
		    "0..%d", name, REGISTRY_TPS_MAX));
	ef = csv_col(c, idx, DC_EXT_FIRST);
	el = csv_col(c, idx, DC_EXT_LAST);
	if (*ef != '\0' || *el != '\0') {
		if (registry_num(ef, REGISTRY_TPS_MAX, &first) == -1 ||
		    first == 0)
			return (csv_fail(c, "ext_first \"%.20s\" is not a "
			    "number 1..%d", ef, REGISTRY_TPS_MAX));
		if (registry_num(el, REGISTRY_TPS_MAX, &last) == -1 ||
		    last == 0)
			return (csv_fail(c, "ext_last \"%.20s\" is not a "
			    "number 1..%d", el, REGISTRY_TPS_MAX));
		if (first > last)
			return (csv_fail(c, "extra block %llu..%llu runs "
			    "backwards", first, last));
		if (first <= nreg)
			return (csv_fail(c, "extra block %llu..%llu overlaps "
			    "the regular TPS 1..%llu", first, last, nreg));
		next = (size_t)(last - first + 1);
	}
	name = csv_col(c, idx, DC_NTOTAL);
	if (registry_num(name, 2 * REGISTRY_TPS_MAX, &total) == -1)
		return (csv_fail(c, "n_tps_total \"%.20s\" is not a number",
		    name));
	if (total != nreg + next)
		return (csv_fail(c, "n_tps_total %llu, but n_tps_reguler "
		    "%llu and the extra block %zu make %llu", total, nreg,
		    next, nreg + next));

	if (registry_seen_add(seen, village, c->lineno) == -1)
		return (csv_fail(c, "%s", strerror(errno)));
	sqlite3_bind_int64(di->village, 1, (sqlite3_int64)village);
	for (i = 0; i < 4; i++)
		sqlite3_bind_text(di->village, i + 2,
		    csv_col(c, idx, DC_PROV + i), -1, SQLITE_STATIC);
	if (registry_step(reg, di->village, msg, len) == -1)
		return (registry_row_dberr(c, msg));
	di->villages++;
	for (t = 1; t <= nreg + next; t++) {
		sqlite3_bind_int64(di->tps, 1, (sqlite3_int64)(village * 1000 +
		    (t <= nreg ? t : first + (t - nreg - 1))));
		if (registry_step(reg, di->tps, msg, len) == -1)
			return (registry_row_dberr(c, msg));
		di->ntps++;
	}
	return (0);
}

int
registry_import_desa(struct registry *reg, const char *path, size_t *count,
    char *errbuf, size_t errlen)
{
	struct desa_import	 di;
	struct seenset		 seen;
	struct csv		 c;
	char			 msg[512];
	int			 idx[DC_MAX], rc, ok = 0, began = 0;
	size_t			 nheader;

	memset(&di, 0, sizeof(di));
	memset(&seen, 0, sizeof(seen));
	msg[0] = '\0';
	if (csv_open(&c, path) == -1) {
		snprintf(msg, sizeof(msg), "%s: %s", path, c.err);
		goto done;
	}
	if (csv_header(&c, desa_columns, DC_MAX, idx) == -1)
		goto done;
	if ((idx[DC_EXT_FIRST] < 0) != (idx[DC_EXT_LAST] < 0)) {
		csv_fail(&c, "column \"%s\" without \"%s\"",
		    idx[DC_EXT_FIRST] < 0 ? "ext_last" : "ext_first",
		    idx[DC_EXT_FIRST] < 0 ? "ext_first" : "ext_last");
		goto done;
	}
	nheader = c.nf;
	if (registry_import_begin(reg, msg, sizeof(msg)) == -1)
		goto done;
	began = 1;
	if (registry_prepare(reg, "INSERT INTO village (code, prov, kab, kec, "
	    "desa) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (code) DO UPDATE "
	    "SET prov = excluded.prov, kab = excluded.kab, "
	    "kec = excluded.kec, desa = excluded.desa", &di.village, msg,
	    sizeof(msg)) == -1 ||
	    registry_prepare(reg,
	        "INSERT OR IGNORE INTO tps (code) VALUES (?1)",
	    &di.tps, msg, sizeof(msg)) == -1)
		goto done;

	while ((rc = csv_read(&c)) == 1)
		if (registry_desa_row(reg, &c, idx, nheader, &di, &seen, msg,
		    sizeof(msg)) == -1)
			goto done;
	if (rc == -1)
		goto done;
	if (registry_import_check(&c, di.villages + di.abroad, &seen,
	    "kode_desa", 10) == -1)
		goto done;
	if (registry_meta_source(reg, "desa", path, msg, sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "desa_villages", di.villages, msg,
	    sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "desa_tps", di.ntps, msg,
	        sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "desa_skipped_abroad", di.abroad, msg,
	    sizeof(msg)) == -1)
		goto done;
	ok = 1;

 done:
	sqlite3_finalize(di.village);
	sqlite3_finalize(di.tps);
	if (registry_import_close(reg, path, began, ok, &c, &seen, msg,
	    sizeof(msg), errbuf, errlen) == -1)
		return (-1);
	if (count != NULL)
		*count = di.ntps;
	registry_note(errbuf, errlen, "%s: %zu TPS in %zu villages imported, "
	    "%zu rows of province %d (abroad) skipped", path, di.ntps,
	    di.villages, di.abroad, REGISTRY_ABROAD);
	return (0);
}

/* --- import of DPT per TPS ------------------------------------------- */

struct dpt_import {
	sqlite3_stmt	*update;
	sqlite3_stmt	*tps;
	sqlite3_stmt	*village;
	size_t		 rows;
	size_t		 withdpt;
	size_t		 implausible;
	size_t		 added;
	size_t		 abroad;
};

/*
 * One row of a DPT file: set the TPS's DPT, adding the TPS (and its
 * village, named from this file) if the registry lacks it.  A DPT over
 * the legal maximum is a misreading: it is kept as dpt_raw and the
 * checks treat the DPT as unknown.  0 stored, 1 skipped, -1 bad.
 */
static int
registry_dpt_row(struct registry *reg, struct csv *c, const int *idx,
    size_t nheader, struct dpt_import *pi, struct seenset *seen,
    char *msg, size_t len)
{
	const char		*code, *f;
	unsigned long long	 no, raw = 0;
	uint64_t		 tps, village;
	int			 hasdpt, dpt = 0, i;

	if (c->nf != nheader)
		return (csv_fail(c, "%zu fields, the header has %zu", c->nf,
		    nheader));
	code = csv_col(c, idx, PC_KODE_TPS);
	if (registry_code(code, TALLY_TPS_DIGITS, &tps) == -1)
		return (csv_fail(c, "kode_tps \"%.20s\" is not %d digits",
		    code, TALLY_TPS_DIGITS));
	if (tps % 1000 == 0)
		return (csv_fail(c, "kode_tps %s has TPS number 000", code));
	village = tps / 1000;
	if (village / 100000000 < REGISTRY_PROV_MIN)
		return (csv_fail(c, "kode_tps %s: no province %.2s", code,
		    code));
	if (registry_check_prefix(c, "kode_desa", csv_col(c, idx, PC_KODE_DESA),
	    code, 10) == -1)
		return (-1);
	f = csv_col(c, idx, PC_NO_TPS);
	if (*f != '\0' && (registry_num(f, REGISTRY_TPS_MAX, &no) == -1 ||
	    no != tps % 1000))
		return (csv_fail(c, "no_tps \"%.20s\" does not match kode_tps "
		    "%s", f, code));
	if (village / 100000000 == REGISTRY_ABROAD) {
		pi->abroad++;
		return (1);
	}
	f = csv_col(c, idx, PC_DPT);
	hasdpt = *f != '\0';
	if (hasdpt && registry_num(f, REGISTRY_DPT_READ_MAX, &raw) == -1)
		return (csv_fail(c, "dpt \"%.20s\" is not a number", f));
	if (hasdpt) {
		pi->withdpt++;
		if (raw > REGISTRY_DPT_MAX)
			pi->implausible++;
		else
			dpt = (int)raw;
	}
	if (registry_seen_add(seen, tps, c->lineno) == -1)
		return (csv_fail(c, "%s", strerror(errno)));
	pi->rows++;

	if (hasdpt) {
		sqlite3_bind_int64(pi->update, 1, (sqlite3_int64)tps);
		sqlite3_bind_int(pi->update, 2, dpt);
		sqlite3_bind_int64(pi->update, 3, (sqlite3_int64)raw);
		if (registry_step(reg, pi->update, msg, len) == -1)
			return (registry_row_dberr(c, msg));
		if (sqlite3_changes(reg->db) > 0)
			return (0);
	}
	/* Not in the registry yet, or no DPT to set: add if missing. */
	sqlite3_bind_int64(pi->tps, 1, (sqlite3_int64)tps);
	sqlite3_bind_int(pi->tps, 2, dpt);
	if (hasdpt)
		sqlite3_bind_int64(pi->tps, 3, (sqlite3_int64)raw);
	if (registry_step(reg, pi->tps, msg, len) == -1)
		return (registry_row_dberr(c, msg));
	if (sqlite3_changes(reg->db) == 0)
		return (0);
	pi->added++;
	sqlite3_bind_int64(pi->village, 1, (sqlite3_int64)village);
	for (i = 0; i < 4; i++)
		sqlite3_bind_text(pi->village, i + 2,
		    csv_col(c, idx, PC_PROV + i), -1, SQLITE_STATIC);
	if (registry_step(reg, pi->village, msg, len) == -1)
		return (registry_row_dberr(c, msg));
	return (0);
}

int
registry_import_dpt(struct registry *reg, const char *path, size_t *count,
    char *errbuf, size_t errlen)
{
	struct dpt_import	 pi;
	struct seenset		 seen;
	struct csv		 c;
	char			 msg[512];
	int			 idx[PC_MAX], rc, ok = 0, began = 0;
	size_t			 nheader;

	memset(&pi, 0, sizeof(pi));
	memset(&seen, 0, sizeof(seen));
	msg[0] = '\0';
	if (csv_open(&c, path) == -1) {
		snprintf(msg, sizeof(msg), "%s: %s", path, c.err);
		goto done;
	}
	if (csv_header(&c, dpt_columns, PC_MAX, idx) == -1)
		goto done;
	nheader = c.nf;
	if (registry_import_begin(reg, msg, sizeof(msg)) == -1)
		goto done;
	began = 1;
	if (registry_prepare(reg, "UPDATE tps SET dpt = ?2, dpt_raw = ?3 "
	    "WHERE code = ?1", &pi.update, msg, sizeof(msg)) == -1 ||
	    registry_prepare(reg,
	        "INSERT OR IGNORE INTO tps (code, dpt, dpt_raw) "
	    "VALUES (?1, ?2, ?3)", &pi.tps, msg, sizeof(msg)) == -1 ||
	    registry_prepare(reg,
	        "INSERT OR IGNORE INTO village (code, prov, kab, "
	    "kec, desa) VALUES (?1, ?2, ?3, ?4, ?5)", &pi.village, msg,
	    sizeof(msg)) == -1)
		goto done;

	while ((rc = csv_read(&c)) == 1)
		if (registry_dpt_row(reg, &c, idx, nheader, &pi, &seen, msg,
		    sizeof(msg)) == -1)
			goto done;
	if (rc == -1)
		goto done;
	if (registry_import_check(&c, pi.rows + pi.abroad, &seen,
	    "kode_tps", 13) == -1)
		goto done;
	if (registry_meta_source(reg, "dpt", path, msg, sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "dpt_rows", pi.rows, msg,
	        sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "dpt_with_dpt", pi.withdpt, msg,
	    sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "dpt_implausible", pi.implausible, msg,
	    sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "dpt_added_tps", pi.added, msg,
	    sizeof(msg)) == -1 ||
	    registry_meta_set_num(reg, "dpt_skipped_abroad", pi.abroad, msg,
	    sizeof(msg)) == -1)
		goto done;
	ok = 1;

 done:
	sqlite3_finalize(pi.update);
	sqlite3_finalize(pi.tps);
	sqlite3_finalize(pi.village);
	if (registry_import_close(reg, path, began, ok, &c, &seen, msg,
	    sizeof(msg), errbuf, errlen) == -1)
		return (-1);
	if (count != NULL)
		*count = pi.rows;
	registry_note(errbuf, errlen,
	    "%s: %zu TPS rows, %zu with a DPT (%zu over "
	    "%d kept as unknown), %zu TPS added to the registry, %zu rows "
	    "of province %d (abroad) skipped", path, pi.rows, pi.withdpt,
	    pi.implausible, REGISTRY_DPT_MAX, pi.added, pi.abroad,
	    REGISTRY_ABROAD);
	return (0);
}
