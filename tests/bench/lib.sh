# Helpers of the benchmark's sections (tests/bench/*.sh), sourced after
# tests/regress/lib.sh (t_track, t_cleanup, wait_for). POSIX sh.
#
# Environment: B (build directory), SHARED (../shared/data), BENCH_OUT
# (where each section writes SECTION.jsonl, one JSON object a line:
# build/bench), BENCH_WORK (a scratch directory the caller removes),
# BENCH_QUICK (1: a short run for development).

BB=$(cd "${B:-build}" 2>/dev/null && pwd)
DATA=$(cd "${SHARED:-../shared/data}" 2>/dev/null && pwd)
SIM=$BB/tallysim
CTL=$BB/tallyctl
BENCH_OUT=${BENCH_OUT:-$BB/bench}
mkdir -p "$BENCH_OUT"
# A fixed root key: the reports are signed with it, the gateway checks.
BENCH_ROOT_KEY='root 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'

now() { date +%s.%N; }

# The children of a process, one pid a line.
children() {
	{ cat /proc/"$1"/task/*/children 2>/dev/null ||
	    ps -o pid= --ppid "$1" 2>/dev/null; } | tr -s ' ' '\n' | grep .
}

# A process and all its descendants, one pid a line.
tree() {
	echo "$1"
	for c in $(children "$1"); do
		tree "$c"
	done
}

# A process's command name.
comm() { cat /proc/"$1"/comm 2>/dev/null; }

# pss_kib PID...: the proportional set size of the processes together,
# KiB, from /proc/PID/smaps_rollup (a process gone counts 0).
pss_kib() {
	for p in "$@"; do
		cat /proc/"$p"/smaps_rollup 2>/dev/null
	done | awk '$1 == "Pss:" { s += $2 } END { printf "%d\n", s }'
}

# stop_pids PID...: SIGTERM, then SIGKILL after 10 s; waits for them.
stop_pids() {
	[ $# -gt 0 ] || return 0
	kill -TERM "$@" 2>/dev/null
	sp_end=$(($(date +%s) + 10))
	for sp in "$@"; do
		while kill -0 "$sp" 2>/dev/null; do
			if [ "$(date +%s)" -ge "$sp_end" ]; then
				kill -KILL "$sp" 2>/dev/null
				break
			fi
			sleep 0.1
		done
		wait "$sp" 2>/dev/null
	done
	return 0
}

# pcts FILE: "P50 P99 N" of the numbers in FILE (nearest rank), or
# "null null 0" when it is empty.
pcts() {
	sort -g "$1" | awk '{ v[NR] = $1 }
	function rank(p,   r) { r = int(p * NR); if (r < p * NR) r++
		return r < 1 ? 1 : r }
	END {
		if (NR == 0) { print "null null 0"; exit }
		printf "%.3f %.3f %d\n", v[rank(0.5)], v[rank(0.99)], NR
	}'
}

# emit SECTION GATEWAY K KEY=VALUE...: one object of results.json, into
# $BENCH_OUT/SECTION.jsonl. A VALUE that is a number or null is written
# as it is, anything else as a string.
emit() {
	em_s=$1
	em_g=$2
	em_k=$3
	shift 3
	{
		printf '{"section":"%s","gateway":"%s","k":%s' "$em_s" "$em_g" \
		    "$em_k"
		for kv in "$@"; do
			em_v=${kv#*=}
			case $em_v in
			null|-[0-9]*|[0-9]*)
				if printf '%s' "$em_v" |
				    grep -Eq '^(null|-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?)$'; then
					printf ',"%s":%s' "${kv%%=*}" "$em_v"
					continue
				fi
				;;
			esac
			printf ',"%s":"%s"' "${kv%%=*}" \
			    "$(printf '%s' "$em_v" | sed 's/\\/\\\\/g; s/"/\\"/g')"
		done
		printf '}\n'
	} >>"$BENCH_OUT/$em_s.jsonl"
}

# signed_reports N FILE: the first N consistent rows of the 2024 PPWP
# results as reports, one TPS each, signed with BENCH_ROOT_KEY
# (tallyctl mac --batch): "PPWP TPS SEQ ... CODE", one a line.
signed_reports() {
	printf '%s\n' "$BENCH_ROOT_KEY" >"$BENCH_WORK/root.key"
	chmod 600 "$BENCH_WORK/root.key"
	awk -F, -v n="$1" '{ sub(/\r$/, "") }
	NR > 1 && $25 == 1 && $11 != "" && $12 != "" &&
	    $13 != "" && $20 != "" && $21 != "" && $22 != "" {
		printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12,
		    $13, $21, $22
		if (++c == n) exit
	}' "$DATA/pilpres2024_tps.csv" >"$BENCH_WORK/reports.txt"
	"$CTL" mac --key "$BENCH_WORK/root.key" --batch \
	    "$BENCH_WORK/reports.txt" >"$2"
}

# registry DB: the national TPS registry (tallyctl import), built once
# per run of the benchmark and linked where a section needs it.
registry() {
	if [ ! -s "$BENCH_WORK/registry.db" ]; then
		"$CTL" import --registry "$BENCH_WORK/registry.db" \
		    --desa "$DATA/desa_tps_2024.csv" \
		    --dpt "$DATA/pilpres2024_tps.csv" >/dev/null || return 1
	fi
	ln -f "$BENCH_WORK/registry.db" "$1" 2>/dev/null ||
	    cp "$BENCH_WORK/registry.db" "$1"
}

# The machine, for every section's first line.
machine() {
	printf '%s CPUs (%s), %s MiB RAM, load %s' "$(nproc)" \
	    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1)" \
	    "$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 }' /proc/meminfo)" \
	    "$(cut -d' ' -f1-3 /proc/loadavg)"
}

# fill_store DB REGISTRY N FWD_STATE EXCLUDE: adds N reports to the store
# DB by copying its report of lowest id N times in SQL (one transaction,
# synchronous off: the pipeline would take minutes), each for another
# TPS of the registry (SEQ 1, then SEQ 2 past the registry's size), from
# its own sender, with its reply (sent and delivered, as after a night)
# and one forward per central of the template in state FWD_STATE (the
# template's own reply is left waiting: the store should hold only it). EXCLUDE names a file of TPS codes to leave out (the
# reports measured afterwards). A copy is a row as the pipeline writes
# it, not a verified report: its code and receipt are random.
fill_store() {
	fs_n=$3
	sqlite3 "$1" >/dev/null <<EOF2
PRAGMA synchronous = OFF;
ATTACH '$2' AS r;
CREATE TEMP TABLE ex (code INTEGER PRIMARY KEY);
.mode csv
.import $5 ex
INSERT OR IGNORE INTO ex SELECT tps FROM main.messages WHERE tps IS NOT NULL;
CREATE TEMP TABLE t AS SELECT * FROM main.messages ORDER BY id LIMIT 1;
CREATE TEMP TABLE tr AS SELECT * FROM main.replies
    WHERE msg_id = (SELECT id FROM t);
CREATE TEMP TABLE tc AS SELECT DISTINCT central FROM main.forwards
    WHERE msg_id = (SELECT id FROM t);
CREATE TEMP TABLE codes AS SELECT code FROM r.tps
    WHERE code NOT IN (SELECT code FROM ex) ORDER BY code;
CREATE TEMP TABLE src (n INTEGER PRIMARY KEY, code INTEGER, seq INTEGER);
INSERT INTO src (code, seq) SELECT code, 1 FROM codes LIMIT $fs_n;
INSERT INTO src (code, seq) SELECT code, 2 FROM codes
    LIMIT max(0, $fs_n - (SELECT count(*) FROM src));
BEGIN;
INSERT INTO main.messages (id, modem, modem_number, sender, smsc_time,
    received_at, verified_at, parts, raw, kind, verdict, reason, flags,
    auth, decoded, tps, contest, page, seq, nvalues, values_text,
    canonical, code, receipt, supersedes, detail)
SELECT (SELECT max(id) FROM main.messages) + s.n, t.modem,
    t.modem_number, printf('+62815%08d', s.n), t.smsc_time,
    t.received_at, t.verified_at, t.parts,
    t.contest || ' ' || s.code || ' ' || s.seq ||
    substr(t.raw, length(t.contest || t.tps || t.seq) + 3),
    t.kind, t.verdict, t.reason, t.flags, t.auth, t.decoded, s.code,
    t.contest, t.page, s.seq, t.nvalues, t.values_text,
    t.contest || ' ' || s.code || ' ' || s.seq ||
    substr(t.canonical, length(t.contest || t.tps || t.seq) + 3),
    printf('%08d', abs(random()) % 100000000),
    printf('%08d', abs(random()) % 100000000), NULL,
    replace(t.detail, t.tps, s.code)
FROM src s, t;
INSERT INTO main.outbox (id, dest, text, modem, prefer, state, attempts,
    msgref, next_at, error, created, sent_at, delivered_at)
SELECT m.id, m.sender, replace(tr.text, t.tps, m.tps), tr.modem, NULL,
    'delivered', 1, m.id % 256, 0, NULL, tr.created, tr.created,
    tr.created
FROM main.messages m, t, tr WHERE m.id > t.id;
INSERT INTO main.replies (msg_id, dest, modem, text, brief, out_id,
    created)
SELECT m.id, m.sender, tr.modem, replace(tr.text, t.tps, m.tps),
    tr.brief, m.id, tr.created
FROM main.messages m, t, tr WHERE m.id > t.id;
INSERT INTO main.forwards (msg_id, central, state, attempts, next_at,
    http_status, error, updated)
SELECT m.id, tc.central, '$4', CASE WHEN '$4' = 'acked' THEN 1 ELSE 0 END,
    0, CASE WHEN '$4' = 'acked' THEN 200 END, NULL, strftime('%s', 'now')
FROM main.messages m, t, tc WHERE m.id > t.id;
COMMIT;
EOF2
}

# bench_pipeline_build OUT: tests/bench/bench_pipeline.c, linked with the
# daemon's stages as the unit suites are (build/libgw.a, libtally.a).
# Word splitting of the pkg-config flags is wanted here.
# shellcheck disable=SC2046
bench_pipeline_build() {
	[ -x "$1" ] && [ "$1" -nt "$BB/libgw.a" ] && return 0
	${CC:-cc} -std=gnu11 -O2 -g -Iinclude -Igateway -D_GNU_SOURCE \
	    $(pkg-config --cflags libevent sqlite3 libsodium jansson) \
	    -o "$1" tests/bench/bench_pipeline.c "$BB/libgw.a" \
	    "$BB/libtally.a" $(pkg-config --libs libevent libevent_openssl \
	    openssl sqlite3 libsodium jansson) -lm
}

# jfield KEY JSON: a number of a one-line JSON object ("" if none).
jfield() {
	printf '%s\n' "$2" | sed -n "s/.*\"$1\":\(-\{0,1\}[0-9.]*\).*/\1/p"
}
