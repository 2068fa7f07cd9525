#!/bin/sh
# The forward section of `make bench' (tests/bench.sh forward): how fast
# tallygw drains its forwards to the central receiver after an outage.
# The store is filled with BENCH_FWD_N (100,000) committed reports whose
# forwards wait (pending, as after a central that was down), then
# `tallysim world' (1 modem, instant profile) starts tallygw and
# tallysim's central receiver on it. Once on disk, once on a tmpfs
# (what the fsync of each record costs). Figures: docs/bench.md.
#
#   BENCH_FWD_N		reports waiting to be forwarded (100000)
#   BENCH_FWD_SECS	longest each drain is measured, s (60)

. tests/regress/lib.sh
. tests/bench/lib.sh
N=${BENCH_FWD_N:-100000}
SECS=${BENCH_FWD_SECS:-60}
if [ "${BENCH_QUICK:-0}" = 1 ]; then
	N=${BENCH_FWD_N:-10000}
	SECS=${BENCH_FWD_SECS:-20}
fi
W=$BENCH_WORK/forward
mkdir -p "$W/keys"
say() { echo "forward: $*"; }
WPID=
SHM=
fwd_cleanup() {
	stop_pids $WPID
	t_cleanup
	[ -n "$SHM" ] && rm -rf "$SHM"
}
t_trap fwd_cleanup

cdb() { sqlite3 -cmd '.timeout 5000' "$1/central.db" "$2" 2>/dev/null; }
stored() { n=$(cdb "$1" 'SELECT count(*) FROM reports'); echo "${n:-0}"; }

# fwd_conf DIR RUN: the configuration bench_pipeline fills the store by.
fwd_conf() {
	printf '[gateway]\nname = sim-gw\nstate = %s/gw\nkey = %s/root.key\n' \
	    "$2" "$2"
	printf 'sign_key = %s/keys/gateway.sec\nregistry = %s/registry.db\n' \
	    "$W" "$2"
	printf '\n[central sim]\nurl = http://127.0.0.1:9/v1/reports\n'
}

# fwd_run DIR LABEL: fill a store in DIR/run with N waiting forwards,
# start the world there, measure; sets RATE, HAVE, GOT, SPAN, REJ.
fwd_run() {
	R=$1/run
	mkdir -p "$R/gw"
	registry "$R/registry.db" || { say "FAILED: tallyctl import"; return 1; }
	printf '%s\n' "$BENCH_ROOT_KEY" >"$R/root.key"
	chmod 600 "$R/root.key"
	fwd_conf "$1" "$R" >"$1/fill.conf"
	# One report through the pipeline, then N - 1 copies of it in SQL.
	"$W/bench_pipeline" -f "$1/fill.conf" "$W/one.feed" >/dev/null \
	    2>"$1/fill.err" || { say "FAILED: bench_pipeline"; return 1; }
	t0=$(now)
	fill_store "$R/gw/tallygw.db" "$R/registry.db" $((N - 1)) pending \
	    "$W/none.csv" || { say "FAILED: filling the store"; return 1; }
	HAVE=$(sqlite3 "$R/gw/tallygw.db" \
	    "SELECT count(*) FROM forwards WHERE state = 'pending'")
	say "$2: $HAVE forwards pending in the store (filled in" \
	    "$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s)"
	"$SIM" world --dir "$R" --modems 1 --seed 1 --profile instant \
	    --data "$DATA" >"$1/world.out" 2>"$1/world.err" &
	WPID=$!
	t_track "$WPID"
	if ! wait_for 120 grep -q '^ready$' "$1/world.out"; then
		say "$2: FAILED: tallysim world not ready in 120 s:" \
		    "$(tail -3 "$1/world.err" | tr '\n' ' ')"
		return 1
	fi
	end=$(($(date +%s) + SECS))
	while [ "$(stored "$R")" -lt "$HAVE" ] &&
	    [ "$(date +%s)" -lt "$end" ]; do
		sleep 1
	done
	GOT=$(stored "$R")
	# First and last stored_at (ms) at the central: the drain's span.
	SPAN=$(cdb "$R" "SELECT round((julianday(max(stored_at)) -
	    julianday(min(stored_at))) * 86400.0, 3) FROM reports")
	REJ=$(cdb "$R" 'SELECT count(*) FROM rejects')
	RATE=$(awk -v n="$GOT" -v s="$SPAN" 'BEGIN {
		if (n > 1 && s > 0) printf "%.1f", (n - 1) / s
		else print "null" }')
	if [ "$GOT" -ge "$HAVE" ]; then
		say "$2: drained all $GOT in $SPAN s (first to last stored" \
		    "at the central): $RATE records/s; ${REJ:-?} refused"
	else
		say "$2: drained $GOT of $HAVE in the $SECS s measured:" \
		    "$RATE records/s; ${REJ:-?} refused by the central"
	fi
	stop_pids $WPID
	WPID=
	return 0
}

say "$(machine)"
say "$N reports wait to be forwarded; each drain is measured for at most" \
    "$SECS s"
bench_pipeline_build "$W/bench_pipeline" ||
    { say "FAILED: cannot build bench_pipeline"; exit 1; }
t_sign_pair "$W/keys"
signed_reports 1 "$W/one.txt"
awk '{ printf "+628127%07d %s\n", NR, $0 }' "$W/one.txt" >"$W/one.feed"
: >"$W/none.csv"
fwd_run "$W/disk" "on disk" || exit 1
disk_rate=$RATE
set -- "backlog=$HAVE" "drained=$GOT" "refused=${REJ:-null}" "span_s=$SPAN"
# The same on a tmpfs: what is left without the fsync of each record
# (the central receiver commits each one with synchronous=FULL).
tmpfs_rate=null
if [ -d /dev/shm ] && SHM=$(mktemp -d /dev/shm/tallybench.XXXXXX); then
	fwd_run "$SHM" "on tmpfs (no fsync cost)" && tmpfs_rate=$RATE
	rm -rf "$SHM"
	SHM=
fi
emit forward tallygw 1 "drain_per_s=$disk_rate" \
    "drain_per_s_tmpfs=$tmpfs_rate" "$@"
awk -v r="$disk_rate" 'BEGIN { printf "forward: target: drain >= 2,000 " \
    "records/s (on disk): %s\n", (r != "null" && r >= 2000) ? "met" : \
    "NOT MET" }'
