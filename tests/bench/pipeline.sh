#!/bin/sh
# The pipeline section of `make bench' (tests/bench.sh pipeline): the
# receive stage without modems (tests/bench/bench_pipeline.c: decode,
# verify, commit with reply and forward rows, queue), reports per second
# into an empty store and into one holding a million reports, and
# instructions per report (valgrind --tool=callgrind, counted inside
# receive_item only). Figures: docs/bench.md. POSIX sh.
#
#   BENCH_PIPE_N	reports timed per run (5000)
#   BENCH_PIPE_FILL	reports in the full store (1000000)
#   BENCH_PIPE_CG	reports under callgrind (500)

. tests/regress/lib.sh
. tests/bench/lib.sh
N=${BENCH_PIPE_N:-5000}
FILL=${BENCH_PIPE_FILL:-1000000}
CG=${BENCH_PIPE_CG:-500}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N=${BENCH_PIPE_N:-1000}
	FILL=${BENCH_PIPE_FILL:-100000}
	CG=${BENCH_PIPE_CG:-100}
fi
W=$BENCH_WORK/pipeline
mkdir -p "$W/keys"
say() { echo "pipeline: $*"; }
SHM=
pipe_cleanup() {
	t_cleanup
	[ -n "$SHM" ] && rm -rf "$SHM"
}
t_trap pipe_cleanup

# pipe_conf STATE: a gateway with one central (so that each report
# gets a forward row), the registry, the bench's root key.
pipe_conf() {
	printf '[gateway]\nname = bench\nstate = %s\nkey = %s/root.key\n' \
	    "$1" "$W"
	printf 'sign_key = %s/keys/gateway.sec\nregistry = %s/registry.db\n' \
	    "$W" "$W"
	printf '\n[central c]\nurl = http://127.0.0.1:9/v1/reports\n'
}

# pipe_run STATE FEED: bench_pipeline over FEED into the store in STATE;
# prints its rate (reports/s) and keeps its output in STATE.out.
pipe_run() {
	pipe_conf "$1" >"$1.conf"
	"$W/bench_pipeline" -f "$1.conf" "$2" >"$1.out" 2>"$1.err" ||
	    { say "FAILED: bench_pipeline: $(tail -1 "$1.err")"; return 1; }
	sed -n 's/.*: \([0-9]*\) reports\/s$/\1/p' "$1.out"
}

# pipe_instr STATE FEED: instructions per report inside receive_item
# (callgrind), FEED into the store in STATE.
pipe_instr() {
	pipe_conf "$1" >"$1.conf"
	valgrind --tool=callgrind --toggle-collect=receive_item \
	    --callgrind-out-file="$1.cg" "$W/bench_pipeline" -f "$1.conf" \
	    "$2" >"$1.out" 2>"$1.err" ||
	    { say "FAILED: callgrind: $(tail -1 "$1.err")"; return 1; }
	awk -v n="$(wc -l <"$2")" '/^totals:/ { printf "%.0f\n", $2 / n }' \
	    "$1.cg"
}

say "$(machine)"
command -v valgrind >/dev/null 2>&1 ||
    say "valgrind is not installed (make bench-deps): no instruction counts"
bench_pipeline_build "$W/bench_pipeline" ||
    { say "FAILED: cannot build bench_pipeline"; exit 1; }
t_sign_pair "$W/keys"
printf '%s\n' "$BENCH_ROOT_KEY" >"$W/root.key"
chmod 600 "$W/root.key"
registry "$W/registry.db" || { say "FAILED: tallyctl import"; exit 1; }

# The reports: N timed, CG under callgrind, 1 the template of the fill;
# real 2024 rows, one TPS and one sender each.
signed_reports $((N + 2 * CG + 1)) "$W/all.txt"
awk '{ printf "+628127%07d %s\n", NR, $0 }' "$W/all.txt" >"$W/all.feed"
head -n "$N" "$W/all.feed" >"$W/timed.feed"
sed -n "$((N + 1)),$((N + CG))p" "$W/all.feed" >"$W/cg1.feed"
sed -n "$((N + CG + 1)),$((N + 2 * CG))p" "$W/all.feed" >"$W/cg2.feed"
tail -n 1 "$W/all.feed" >"$W/template.feed"
awk '{ print $3 }' "$W/all.feed" >"$W/exclude.csv"

# 1. An empty store, on disk (each report one fsync'd transaction).
rate_empty=$(pipe_run "$W/empty" "$W/timed.feed") || exit 1
say "empty store, on disk: $rate_empty reports/s ($N reports;" \
    "$(sed -n 's/^verdicts: //p' "$W/empty.out"))"
# 2. The same on a tmpfs: the pipeline without the cost of fsync.
rate_tmpfs=null
if [ -d /dev/shm ] && SHM=$(mktemp -d /dev/shm/tallybench.XXXXXX); then
	rate_tmpfs=$(pipe_run "$SHM/empty" "$W/timed.feed") || exit 1
	say "empty store, on tmpfs (no fsync cost): $rate_tmpfs reports/s"
	rm -rf "$SHM"
	SHM=
fi
# 3. A million reports in the store: the template through the
# pipeline, FILL - 1 copies of it in SQL, then the same N reports.
pipe_run "$W/full" "$W/template.feed" >/dev/null || exit 1
t0=$(now)
fill_store "$W/full/tallygw.db" "$W/registry.db" $((FILL - 1)) acked \
    "$W/exclude.csv" || { say "FAILED: filling the store"; exit 1; }
stored=$(sqlite3 "$W/full/tallygw.db" 'SELECT count(*) FROM messages')
say "full store: $stored reports (filled in SQL in" \
    "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s," \
    "$(($(du -k "$W/full/tallygw.db" | cut -f1) / 1024)) MiB)"
rate_1m=$(pipe_run "$W/full" "$W/timed.feed") || exit 1
say "full store, on disk: $rate_1m reports/s ($N reports;" \
    "$(sed -n 's/^verdicts: //p' "$W/full.out"))"
# 4. Instructions per report, inside receive_item.
instr=null
instr_1m=null
if command -v valgrind >/dev/null 2>&1; then
	instr=$(pipe_instr "$W/cgempty" "$W/cg1.feed") || exit 1
	instr_1m=$(pipe_instr "$W/full" "$W/cg2.feed") || exit 1
	say "instructions per report (callgrind, inside receive_item):" \
	    "$instr with the store empty, $instr_1m with $stored reports" \
	    "($CG reports each)"
fi
emit pipeline tallygw 0 "rate_empty=$rate_empty" "rate_1m=$rate_1m" \
    "instr_per_report=$instr" "instr_per_report_1m=$instr_1m" \
    "rate_empty_tmpfs=$rate_tmpfs" "reports=$N" "stored=$stored"
awk -v e="$rate_empty" -v f="$rate_1m" 'BEGIN {
	printf "pipeline: target: >= 20,000 reports/s on 2 cores: %s\n",
	    (e >= 20000) ? "met" : "NOT MET"
	printf "pipeline: target: with a million stored, >= 90%% of the " \
	    "rate with none: %s (%.0f%%)\n", (f >= 0.9 * e) ? "met" : \
	    "NOT MET", (e > 0) ? 100 * f / e : 0 }'
