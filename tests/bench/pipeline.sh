#!/bin/sh
# The pipeline section of `make bench' (tests/bench.sh pipeline): the
# receive stage without modems (tests/bench/bench_pipeline.c: decode,
# verify, commit with reply and forward rows, queue), reports per second
# into an empty store and into one holding a million reports, and
# instructions per report (valgrind --tool=callgrind, counted inside
# receive_batch only). Figures: docs/bench.md. POSIX sh.
#
# The reports go in as the SMS channel hands them over: the whole
# messages of one turn of the daemon's loop at once, committed together
# (receive_batch). BENCH_PIPE_BATCH is that turn's size: 8 by default,
# what a bank of 64 modems at real timing (a message read in 40 ms, 25
# a second per modem) delivers while the main process is busy with one
# commit (about 5 ms); the empty store on disk is also measured with
# batches of 1 (each report alone, as a lone message is) and 64 (one
# message from each of 64 workers in a turn).
#
#   BENCH_PIPE_N	reports timed per run (5000)
#   BENCH_PIPE_FILL	reports in the full store (1000000)
#   BENCH_PIPE_CG	reports under callgrind (500)
#   BENCH_PIPE_BATCH	reports committed together (8)
#   BENCH_PIPE_WARM	reports through the pipeline before each timed
#			run, not timed (500): an empty and a full store
#			start alike (the process, the page cache, the WAL)
#   BENCH_PIPE_OFFER	the rate offered (20000 reports/s, the target)
#
# "Sustains" is measured as tallygw takes reports: offered at a rate
# (bench_pipeline -r), each turn committing every report that has
# arrived, so a batch grows while a commit (its fsync) is slower than
# the arrivals. Offered faster than it can take them (2 x OFFER) the
# pipeline runs at its limit: rate_empty and rate_1m, on disk. Offered
# OFFER (a run of 2 N reports): how late the last report was
# committed, and the latency. The fixed batches (8, 1, 64) are measured too.

. tests/regress/lib.sh
. tests/bench/lib.sh
N=${BENCH_PIPE_N:-5000}
FILL=${BENCH_PIPE_FILL:-1000000}
CG=${BENCH_PIPE_CG:-500}
BATCH=${BENCH_PIPE_BATCH:-8}
WARM=${BENCH_PIPE_WARM:-500}
OFFER=${BENCH_PIPE_OFFER:-20000}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N=${BENCH_PIPE_N:-1000}
	FILL=${BENCH_PIPE_FILL:-100000}
	CG=${BENCH_PIPE_CG:-100}
	WARM=${BENCH_PIPE_WARM:-100}
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

# pipe_run STATE FEED [BATCH [WARM]]: bench_pipeline over FEED into the
# store in STATE, BATCH (BENCH_PIPE_BATCH) reports a transaction, the
# first WARM (0) of them not timed; prints its rate (reports/s) and
# keeps its output in STATE.out.
pipe_run() {
	pipe_conf "$1" >"$1.conf"
	"$W/bench_pipeline" -b "${3:-$BATCH}" -w "${4:-0}" -f "$1.conf" "$2" \
	    >"$1.out" 2>"$1.err" ||
	    { say "FAILED: bench_pipeline: $(tail -1 "$1.err")"; return 1; }
	sed -n 's/.*: \([0-9]*\) reports\/s$/\1/p' "$1.out"
}

# pipe_offer STATE FEED RATE: bench_pipeline offered RATE reports/s
# (after WARM in batches of 8); prints "RATE LAG P50 P99 PERTURN", the
# rate reached, how late the last report was committed (s), the arrival
# to commit latency (s) and the mean reports a turn.
pipe_offer() {
	pipe_conf "$1" >"$1.conf"
	"$W/bench_pipeline" -r "$3" -w "$WARM" -f "$1.conf" "$2" \
	    >"$1.out" 2>"$1.err" ||
	    { say "FAILED: bench_pipeline -r: $(tail -1 "$1.err")"; return 1; }
	sed -n 's/^offered [0-9]* reports\/s: [0-9]* reports in [0-9.]* s: \([0-9]*\) reports\/s; the last committed \([0-9.]*\) s after it arrived; [0-9]* turns, \([0-9.]*\) reports a turn.* p50 \([0-9.]*\) s, p99 \([0-9.]*\) s$/\1 \2 \4 \5 \3/p' \
	    "$1.out"
}

# pipe_instr STATE FEED: instructions per report inside receive_batch
# (callgrind), FEED into the store in STATE.
pipe_instr() {
	pipe_conf "$1" >"$1.conf"
	valgrind --tool=callgrind --toggle-collect=receive_batch \
	    --callgrind-out-file="$1.cg" "$W/bench_pipeline" -b "$BATCH" \
	    -f "$1.conf" "$2" >"$1.out" 2>"$1.err" ||
	    { say "FAILED: callgrind: $(tail -1 "$1.err")"; return 1; }
	awk -v n="$(wc -l <"$2")" '/^totals:/ { printf "%.0f\n", $2 / n }' \
	    "$1.cg"
}

say "$(machine)"
say "$BATCH reports committed together (one transaction, one fsync)"
command -v valgrind >/dev/null 2>&1 ||
    say "valgrind is not installed (make bench-deps): no instruction counts"
bench_pipeline_build "$W/bench_pipeline" ||
    { say "FAILED: cannot build bench_pipeline"; exit 1; }
t_sign_pair "$W/keys"
printf '%s\n' "$BENCH_ROOT_KEY" >"$W/root.key"
chmod 600 "$W/root.key"
registry "$W/registry.db" || { say "FAILED: tallyctl import"; exit 1; }

# The reports: two sets of N timed, CG twice under callgrind, WARM for
# the warm-up before each timed run, 1 the template of the fill; real
# 2024 rows, one TPS and one sender each.
signed_reports $((2 * N + 2 * CG + WARM + 1 + N)) "$W/all.txt"
awk '{ printf "+628127%07d %s\n", NR, $0 }' "$W/all.txt" >"$W/all.feed"
sed -n "1,${N}p" "$W/all.feed" >"$W/timed1.feed"
sed -n "$((N + 1)),$((2 * N))p" "$W/all.feed" >"$W/timed2.feed"
sed -n "$((2 * N + 1)),$((2 * N + CG))p" "$W/all.feed" >"$W/cg1.feed"
sed -n "$((2 * N + CG + 1)),$((2 * N + 2 * CG))p" "$W/all.feed" \
    >"$W/cg2.feed"
sed -n "$((2 * N + 2 * CG + 1)),$((2 * N + 2 * CG + WARM))p" \
    "$W/all.feed" >"$W/warm.feed"
# Each timed run: the warm-up, then its N reports (timed).
cat "$W/warm.feed" "$W/timed1.feed" >"$W/run1.feed"
cat "$W/warm.feed" "$W/timed2.feed" >"$W/run2.feed"
# The offered runs: into new empty stores the timed reports again (N at
# the limit, 2 N at OFFER), into the full store N reports of its own
# (the data has about 20,900 rows a bench report can be made of).
o=$((2 * N + 2 * CG + WARM))
cat "$W/warm.feed" "$W/timed1.feed" >"$W/off1.feed"
sed -n "$((o + 1)),$((o + N))p" "$W/all.feed" | cat "$W/warm.feed" - \
    >"$W/off2.feed"
cat "$W/warm.feed" "$W/timed1.feed" "$W/timed2.feed" >"$W/off3.feed"
tail -n 1 "$W/all.feed" >"$W/template.feed"
awk '{ print $3 }' "$W/all.feed" >"$W/exclude.csv"

# full DIR: a store of FILL reports in DIR: the template through the
# pipeline, FILL - 1 copies of it in SQL (the timed reports left out).
full() {
	pipe_run "$1" "$W/template.feed" >/dev/null || return 1
	t0=$(now)
	fill_store "$1/tallygw.db" "$W/registry.db" $((FILL - 1)) acked \
	    "$W/exclude.csv" || { say "FAILED: filling the store"; return 1; }
	stored=$(sqlite3 "$1/tallygw.db" 'SELECT count(*) FROM messages')
	say "a store of $stored reports in $1 (filled in SQL in" \
	    "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }')" \
	    "s, $(($(du -k "$1/tallygw.db" | cut -f1) / 1024)) MiB)"
	# The fill's 940 MiB on their way to the disk would slow the timed
	# runs' fsyncs: written out first.
	sync
}
verdicts() { sed -n 's/^verdicts: //p' "$1.out"; }

# mean A B: the mean of two rates.
mean() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (a + b) / 2 }'; }

# 1. On a tmpfs, no fsync cost: the pipeline's own speed, an empty store
# and a full one in turn, twice (the machine's load moves a short run).
# The ratio of the two is the cost of a million rows.
tmpfs_empty=null
tmpfs_1m=null
if [ -d /dev/shm ] && SHM=$(mktemp -d /dev/shm/tallybench.XXXXXX); then
	full "$SHM/full" || exit 1
	te1=$(pipe_run "$SHM/empty1" "$W/run1.feed" "$BATCH" "$WARM") ||
	    exit 1
	tf1=$(pipe_run "$SHM/full" "$W/run1.feed" "$BATCH" "$WARM") || exit 1
	te2=$(pipe_run "$SHM/empty2" "$W/run2.feed" "$BATCH" "$WARM") ||
	    exit 1
	tf2=$(pipe_run "$SHM/full" "$W/run2.feed" "$BATCH" "$WARM") || exit 1
	tmpfs_empty=$(mean "$te1" "$te2")
	tmpfs_1m=$(mean "$tf1" "$tf2")
	say "empty store, on tmpfs: $tmpfs_empty reports/s ($te1 and $te2;" \
	    "$N reports each; $(verdicts "$SHM/empty1"))"
	say "full store, on tmpfs: $tmpfs_1m reports/s ($tf1 and $tf2;" \
	    "$N reports each; $(verdicts "$SHM/full"))"
	rm -rf "$SHM"
	SHM=
fi
# 2. On disk, as tallygw runs (each batch one transaction, fsync'd):
# empty and full in turn, twice, for the disk's ups and downs.
full "$W/full" || exit 1
# 3. Instructions per report, inside receive_batch, counted before the
# timed runs so that both stores are in the same state: the template's
# report through the pipeline in a new file, then (full store only) the
# fill in SQL; a new process, its WAL empty, no warm-up on either.
instr=null
instr_1m=null
if command -v valgrind >/dev/null 2>&1; then
	pipe_run "$W/cgempty" "$W/template.feed" >/dev/null || exit 1
	instr=$(pipe_instr "$W/cgempty" "$W/cg1.feed") || exit 1
	instr_1m=$(pipe_instr "$W/full" "$W/cg2.feed") || exit 1
	say "instructions per report (callgrind, inside receive_batch):" \
	    "$instr with the store empty, $instr_1m with $stored reports" \
	    "($CG reports each; both stores fresh, as filled)"
fi
e1=$(pipe_run "$W/empty1" "$W/run1.feed" "$BATCH" "$WARM") || exit 1
f1=$(pipe_run "$W/full" "$W/run1.feed" "$BATCH" "$WARM") || exit 1
e2=$(pipe_run "$W/empty2" "$W/run2.feed" "$BATCH" "$WARM") || exit 1
f2=$(pipe_run "$W/full" "$W/run2.feed" "$BATCH" "$WARM") || exit 1
rate_empty=$(mean "$e1" "$e2")
rate_1m=$(mean "$f1" "$f2")
say "empty store, on disk: $rate_empty reports/s ($e1 and $e2; $N" \
    "reports each; $(verdicts "$W/empty1"))"
# The batch's weight: each report alone, and 64 at once.
b1=$(pipe_run "$W/empty_b1" "$W/run1.feed" 1 "$WARM") || exit 1
b64=$(pipe_run "$W/empty_b64" "$W/run2.feed" 64 "$WARM") || exit 1
say "empty store, on disk, in batches of 1: $b1 reports/s; of 64: $b64"
say "full store, on disk: $rate_1m reports/s ($f1 and $f2; $N reports" \
    "each; $(verdicts "$W/full"))"
# 4. Offered: at the limit (2 x OFFER) into a new empty store and into
# the full one, then OFFER into another new empty store. Offered more
# than it takes, its queue grows and its batches with it: its limit.
# limit STATE FEED WHICH: the rate at the limit into STATE (in lim),
# said.
limit() {
	r=$(pipe_offer "$1" "$2" $((2 * OFFER))) || return 1
	# shellcheck disable=SC2086
	set -- $r "$1" "$3"
	lim=${1:-0}
	# Kept up: it took them as they came (the limit is higher).
	kept=$(awk -v r="$1" -v o=$((2 * OFFER)) 'BEGIN {
	    print (r >= 0.97 * o) ? "kept up" : "its limit" }')
	k=$kept
	[ "$k" = "kept up" ] && k="kept up: its limit is higher"
	say "$7 store, on disk, offered $((2 * OFFER)) reports/s: $1" \
	    "reports/s ($k), $5 reports a turn ($N reports;" \
	    "$(verdicts "$6"))"
}
limit "$W/sat_empty" "$W/off1.feed" empty || exit 1
sat_e=$lim kept_e=$kept
limit "$W/full" "$W/off2.feed" full || exit 1
sat_f=$lim
r=$(pipe_offer "$W/off_empty" "$W/off3.feed" "$OFFER") || exit 1
# shellcheck disable=SC2086
set -- $r
off_rate=${1:-0} off_lag=${2:-0} off_p50=${3:-0} off_p99=${4:-0}
say "empty store, on disk, offered $OFFER reports/s: $off_rate reports/s," \
    "the last committed $off_lag s after it arrived, arrival to commit" \
    "p50 $off_p50 s, p99 $off_p99 s, $5 reports a turn ($((2 * N))" \
    "reports; $(verdicts "$W/off_empty"))"
emit pipeline tallygw 0 "rate_empty=$sat_e" "rate_1m=$sat_f" \
    "instr_per_report=$instr" "instr_per_report_1m=$instr_1m" \
    "rate_empty_tmpfs=$tmpfs_empty" "rate_1m_tmpfs=$tmpfs_1m" \
    "reports=$N" "stored=$stored" "batch=$BATCH" \
    "rate_empty_batch=$rate_empty" "rate_1m_batch=$rate_1m" \
    "rate_empty_batch1=$b1" "rate_empty_batch64=$b64" \
    "offered=$OFFER" "offered_rate=$off_rate" "offered_lag_s=$off_lag" \
    "offered_p50_s=$off_p50" "offered_p99_s=$off_p99"
awk -v e="$sat_e" -v f="$sat_f" -v te="$tmpfs_empty" \
    -v tf="$tmpfs_1m" -v ie="$instr" -v if1="$instr_1m" -v o="$OFFER" \
    -v orate="$off_rate" -v ol="$off_lag" -v op="$off_p99" -v be="$rate_empty" \
    -v bf="$rate_1m" -v b="$BATCH" -v ke="$kept_e" 'BEGIN {
	# Sustained: its limit is above the target (the queue of reports
	# offered at 20,000/s drains faster than it fills); the run offered
	# that rate says how late its reports were committed.
	printf "pipeline: target: >= 20,000 reports/s on 2 cores: on disk " \
	    "%s (offered %d/s: %.0f/s, %s; offered %d/s: %.0f/s, the " \
	    "last committed %s s after it arrived, p99 %s s)", \
	    (e >= 20000) ? "met" : "NOT MET", 2 * o, e, ke, o, orate, ol, op
	printf "; in fixed batches of %d on disk %.0f", b, be
	if (te != "null" && te > 0)
		printf ", on tmpfs %.0f", te
	printf "\n"
	printf "pipeline: target: with a million stored, >= 90%% of the " \
	    "rate with none: on disk offered %d/s %s (%.0f%%)", 2 * o, \
	    (f >= 0.9 * e) ? "met" : "NOT MET", (e > 0) ? 100 * f / e : 0
	printf "; in batches of %d on disk %.0f%%", b, (be > 0) ? \
	    100 * bf / be : 0
	if (te != "null" && te > 0)
		printf ", on tmpfs %.0f%%", 100 * tf / te
	# Instructions per report: the full store runs at ie / if1 of the
	# rate of the empty store where instructions are the limit.
	if (ie != "null" && if1 != "null" && if1 > 0)
		printf ", by instructions %.0f%%", 100 * ie / if1
	printf "\n" }'
