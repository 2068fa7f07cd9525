/*
 * Power cuts of the store (docs/reliability.md). A SQLite VFS shim
 * keeps, for the database and its WAL, what a disk holds after a power
 * loss in the worst case the OS allows: the file as it was at its last
 * fsync (xSync), every later write lost. A "cut" writes those images
 * out as new files, which are then opened (SQLite recovers the WAL),
 * checked and counted.
 *
 * The model is sharp enough to see what synchronous=NORMAL does in WAL
 * mode (commits are not synced: the last ones are lost at a cut), and
 * the store, which commits with synchronous=FULL, must lose nothing it
 * committed, at any cut, across checkpoints and WAL restarts.
 */

#include <sys/stat.h>

#include <fcntl.h>
#include <unistd.h>

#include <sqlite3.h>

#include "unit.h"
#include "gw.h"

/* One pending write (or truncate, data NULL) since the file's last sync. */
struct pc_op {
	sqlite3_int64	 off;		/* truncate: the new size */
	int		 len;
	unsigned char	*data;
};

/* What the disk holds of one file, and what is not on it yet. */
struct pc_shadow {
	char		 path[512];
	unsigned char	*disk;
	size_t		 len, cap;
	struct pc_op	*ops;
	size_t		 nops, capops;
};

#define PC_SHADOWS	4
static struct pc_shadow	 pc_shadows[PC_SHADOWS];
static sqlite3_vfs	*pc_real;

struct pc_file {
	sqlite3_file		 base;
	struct pc_shadow	*sh;	/* NULL: not a file a power cut keeps */
	sqlite3_file		*real;	/* follows this struct */
};

static struct pc_shadow *
pc_shadow(const char *path, int create)
{
	size_t	 i;

	for (i = 0; i < PC_SHADOWS; i++)
		if (strcmp(pc_shadows[i].path, path) == 0)
			return (&pc_shadows[i]);
	if (!create)
		return (NULL);
	for (i = 0; i < PC_SHADOWS; i++)
		if (pc_shadows[i].path[0] == '\0') {
			snprintf(pc_shadows[i].path,
			    sizeof(pc_shadows[i].path), "%s", path);
			return (&pc_shadows[i]);
		}
	fail_msg("more than %d shadowed files", PC_SHADOWS);
	return (NULL);
}

static void
pc_pending(struct pc_shadow *sh, sqlite3_int64 off, const void *data,
    int len)
{
	struct pc_op	*op;

	if (sh->nops == sh->capops) {
		sh->capops = sh->capops ? sh->capops * 2 : 64;
		sh->ops = realloc(sh->ops, sh->capops * sizeof(*sh->ops));
		assert_non_null(sh->ops);
	}
	op = &sh->ops[sh->nops++];
	op->off = off;
	op->len = len;
	op->data = NULL;
	if (data != NULL) {
		op->data = malloc(len);
		assert_non_null(op->data);
		memcpy(op->data, data, len);
	}
}

static void
pc_resize(struct pc_shadow *sh, size_t len)
{
	if (len > sh->cap) {
		sh->cap = len * 2;
		sh->disk = realloc(sh->disk, sh->cap);
		assert_non_null(sh->disk);
	}
	if (len > sh->len)
		memset(sh->disk + sh->len, 0, len - sh->len);
	sh->len = len;
}

/* fsync: what was written reaches the disk, in order. */
static void
pc_synced(struct pc_shadow *sh)
{
	struct pc_op	*op;
	size_t		 i;

	for (i = 0; i < sh->nops; i++) {
		op = &sh->ops[i];
		if (op->data == NULL) {
			pc_resize(sh, (size_t)op->off);
			continue;
		}
		if ((size_t)op->off + op->len > sh->len)
			pc_resize(sh, (size_t)op->off + op->len);
		memcpy(sh->disk + op->off, op->data, op->len);
		free(op->data);
	}
	sh->nops = 0;
}

static void
pc_forget(struct pc_shadow *sh)
{
	size_t	 i;

	for (i = 0; i < sh->nops; i++)
		free(sh->ops[i].data);
	free(sh->ops);
	free(sh->disk);
	memset(sh, 0, sizeof(*sh));
}

static int
pc_close(sqlite3_file *f)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xClose(p->real));
}

static int
pc_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xRead(p->real, buf, n, off));
}

static int
pc_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct pc_file	*p = (struct pc_file *)f;
	int		 rc;

	rc = p->real->pMethods->xWrite(p->real, buf, n, off);
	if (rc == SQLITE_OK && p->sh != NULL)
		pc_pending(p->sh, off, buf, n);
	return (rc);
}

static int
pc_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct pc_file	*p = (struct pc_file *)f;
	int		 rc;

	rc = p->real->pMethods->xTruncate(p->real, size);
	if (rc == SQLITE_OK && p->sh != NULL)
		pc_pending(p->sh, size, NULL, 0);
	return (rc);
}

/* The model decides what is durable: the real fsync is not needed. */
static int
pc_sync(sqlite3_file *f, int flags)
{
	struct pc_file	*p = (struct pc_file *)f;

	if (p->sh != NULL)
		pc_synced(p->sh);
	return (SQLITE_OK);
}

static int
pc_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xFileSize(p->real, size));
}

static int
pc_lock(sqlite3_file *f, int l)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xLock(p->real, l));
}

static int
pc_unlock(sqlite3_file *f, int l)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xUnlock(p->real, l));
}

static int
pc_reserved(sqlite3_file *f, int *out)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xCheckReservedLock(p->real, out));
}

static int
pc_control(sqlite3_file *f, int op, void *arg)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xFileControl(p->real, op, arg));
}

static int
pc_sector(sqlite3_file *f)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xSectorSize(p->real));
}

static int
pc_device(sqlite3_file *f)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xDeviceCharacteristics(p->real));
}

static int
pc_shm_map(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xShmMap(p->real, pg, sz, ext, pp));
}

static int
pc_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xShmLock(p->real, off, n, flags));
}

static void
pc_shm_barrier(sqlite3_file *f)
{
	struct pc_file	*p = (struct pc_file *)f;

	p->real->pMethods->xShmBarrier(p->real);
}

static int
pc_shm_unmap(sqlite3_file *f, int del)
{
	struct pc_file	*p = (struct pc_file *)f;

	return (p->real->pMethods->xShmUnmap(p->real, del));
}

static const sqlite3_io_methods pc_methods = {
	2, pc_close, pc_read, pc_write, pc_truncate, pc_sync, pc_size,
	pc_lock, pc_unlock, pc_reserved, pc_control, pc_sector, pc_device,
	pc_shm_map, pc_shm_lock, pc_shm_barrier, pc_shm_unmap, NULL, NULL,
};

/* The database and its WAL are kept; the -shm is rebuilt on open. */
static int
pc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out)
{
	struct pc_file	*p = (struct pc_file *)f;
	int		 rc;

	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(p + 1);
	rc = pc_real->xOpen(pc_real, name, p->real, flags, out);
	if (rc != SQLITE_OK)
		return (rc);
	if (name != NULL && (flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL)))
		p->sh = pc_shadow(name, 1);
	p->base.pMethods = &pc_methods;
	return (SQLITE_OK);
}

static int
pc_delete(sqlite3_vfs *vfs, const char *name, int dirsync)
{
	struct pc_shadow	*sh;

	if ((sh = pc_shadow(name, 0)) != NULL)
		pc_forget(sh);
	return (pc_real->xDelete(pc_real, name, dirsync));
}

static int
pc_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return (pc_real->xAccess(pc_real, name, flags, out));
}

static int
pc_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return (pc_real->xFullPathname(pc_real, name, n, out));
}

static int
pc_random(sqlite3_vfs *vfs, int n, char *out)
{
	return (pc_real->xRandomness(pc_real, n, out));
}

static int
pc_sleep(sqlite3_vfs *vfs, int us)
{
	return (pc_real->xSleep(pc_real, us));
}

static int
pc_time(sqlite3_vfs *vfs, double *out)
{
	return (pc_real->xCurrentTime(pc_real, out));
}

static int
pc_error(sqlite3_vfs *vfs, int n, char *out)
{
	return (pc_real->xGetLastError(pc_real, n, out));
}

static sqlite3_vfs	 pc_vfs = {
	1, 0, 512, NULL, "powercut", NULL, pc_open, pc_delete, pc_access,
	pc_fullpath, NULL, NULL, NULL, NULL, pc_random, pc_sleep, pc_time,
	pc_error, NULL, NULL, NULL, NULL,
};

static char	 pc_dir[] = "/tmp/test_powercut.XXXXXX";

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(pc_dir) == NULL)
		return (-1);
	pc_real = sqlite3_vfs_find("unix");
	if (pc_real == NULL)
		return (-1);
	pc_vfs.szOsFile = (int)sizeof(struct pc_file) + pc_real->szOsFile;
	pc_vfs.mxPathname = pc_real->mxPathname;
	return (sqlite3_vfs_register(&pc_vfs, 1) == SQLITE_OK ? 0 : -1);
}

static int
teardown(void **state)
{
	char	 cmd[600];

	(void)state;
	sqlite3_vfs_unregister(&pc_vfs);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", pc_dir);
	return (system(cmd) == 0 ? 0 : -1);
}

/* Write what the disk holds of each shadowed file under the name NAME. */
static void
pc_cut(const char *db, const char *name)
{
	const char	*suffix[] = { "", "-wal", "-shm" };
	char		 from[600], to[600];
	struct pc_shadow *sh;
	size_t		 i;
	int		 fd;

	for (i = 0; i < 3; i++) {
		snprintf(to, sizeof(to), "%s/%s%s", pc_dir, name, suffix[i]);
		unlink(to);
		snprintf(from, sizeof(from), "%s%s", db, suffix[i]);
		if (i == 2 || (sh = pc_shadow(from, 0)) == NULL)
			continue;
		fd = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		assert_true(fd != -1);
		assert_int_equal(write(fd, sh->disk, sh->len),
		    (ssize_t)sh->len);
		close(fd);
	}
}

/* Open a cut as after the reboot: it must recover; count its rows. */
static long long
pc_count(const char *name, const char *sql)
{
	sqlite3		*db;
	sqlite3_stmt	*st;
	char		 path[600];
	long long	 n;

	snprintf(path, sizeof(path), "%s/%s", pc_dir, name);
	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE,
	    "unix"), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		n = -1;		/* the table itself was lost */
	} else {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		n = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
	return (n);
}

static void
pc_reset(const char *db)
{
	const char	*suffix[] = { "", "-wal", "-shm" };
	char		 path[600];
	size_t		 i;

	for (i = 0; i < PC_SHADOWS; i++)
		pc_forget(&pc_shadows[i]);
	for (i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s%s", db, suffix[i]);
		unlink(path);
	}
}

#define PC_COMMITS	600	/* enough for several checkpoints */
#define PC_EVERY	37	/* commits between cuts */

/*
 * Plain SQLite in WAL mode under the model: synchronous=NORMAL loses
 * the commits since the last checkpoint, FULL none. This shows that
 * the model sees what a power cut does, so that the store's test below
 * means something.
 */
static void
pc_plain(const char *sync, long long *lost_max)
{
	sqlite3		*db;
	char		 path[600], sql[128];
	long long	 n, i;

	snprintf(path, sizeof(path), "%s/plain.db", pc_dir);
	pc_reset(path);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA journal_mode = WAL; PRAGMA "
	    "synchronous = %s; CREATE TABLE t (a, b)", sync);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	*lost_max = 0;
	for (i = 1; i <= PC_COMMITS; i++) {
		assert_int_equal(sqlite3_exec(db, "INSERT INTO t VALUES (1, "
		    "randomblob(3000))", NULL, NULL, NULL), SQLITE_OK);
		if (i % PC_EVERY != 0)
			continue;
		pc_cut(path, "cut.db");
		n = pc_count("cut.db", "SELECT count(*) FROM t");
		if (i - n > *lost_max)
			*lost_max = i - n;
	}
	sqlite3_close(db);
}

static void
test_model(void **state)
{
	long long	 lost;

	(void)state;
	pc_plain("NORMAL", &lost);
	assert_true(lost > 0);
	pc_plain("FULL", &lost);
	assert_int_equal(lost, 0);
}

/*
 * The store: every message it committed is in every cut, and each
 * cut opens and passes integrity_check, across checkpoints (a message
 * row and its indexes fill the 1000-page WAL within a few hundred).
 */
static void
test_store(void **state)
{
	struct store	*s;
	struct store_msg m;
	char		 path[600], err[256];
	long long	 i, n;
	int		 cuts = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/tallygw.db", pc_dir);
	pc_reset(path);
	assert_non_null(s = store_open(path, err, sizeof(err)));
	for (i = 1; i <= PC_COMMITS; i++) {
		memset(&m, 0, sizeof(m));
		snprintf(m.modem, sizeof(m.modem), "m1");
		snprintf(m.sender, sizeof(m.sender), "+62812%07lld", i);
		snprintf(m.smsc_time, sizeof(m.smsc_time),
		    "2024-02-14T03:%02lld:%02lldZ", i / 60 % 60, i % 60);
		store_iso_now(m.received_at, sizeof(m.received_at));
		m.parts = 1;
		memset(m.raw, 'a' + i % 26, sizeof(m.raw) - 1);
		m.kind = MSG_OTHER;
		m.report.page = -1;
		assert_int_equal(store_msg_add(s, &m), 0);
		if (i % PC_EVERY != 0 && i != PC_COMMITS)
			continue;
		pc_cut(path, "cut.db");
		n = pc_count("cut.db", "SELECT count(*) FROM messages");
		assert_int_equal(n, i);
		cuts++;
	}
	store_close(s);
	assert_true(cuts > 10);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_store),
	};

	cmocka_set_message_output(CM_OUTPUT_TAP);
	return (cmocka_run_group_tests(tests, setup, teardown));
}
