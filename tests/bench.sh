#!/bin/sh
# Benchmarks (docs/bench.md): tests/bench.sh [SECTION...], by default
# the sections of issue 12, bank pipeline memory forward; registry and
# verify are there too. Each section prints its figures, one per line,
# prefixed by its name, and writes its objects into BENCH_OUT/SECTION.jsonl;
# at the end BENCH_OUT/results.json holds every section's (the last run
# of each), with plots (gnuplot) beside it. Run by 'make bench' with B
# (build directory) and SHARED (../shared/data) in the environment.
# BENCH_QUICK=1: a short run, for development. POSIX sh.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
CC=${CC:-cc}
BENCH_OUT=${BENCH_OUT:-$B/bench}
mkdir -p "$BENCH_OUT" || exit 1
BENCH_OUT=$(cd "$BENCH_OUT" && pwd)
export B SHARED CC BENCH_OUT

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tallybench.XXXXXX") || exit 1
BENCH_WORK=$WORK
export BENCH_WORK
trap 'rm -rf "$WORK"' EXIT
trap 'exit 1' HUP INT PIPE TERM
status=0

# GNU time gives the wall time and peak RSS of a whole process.
TIMEV=
if [ -x /usr/bin/time ] && /usr/bin/time -v true >/dev/null 2>&1; then
	TIMEV=/usr/bin/time
fi

# Run a command under GNU time when present and print its wall time
# and peak RSS as "SECTION: ..." lines.  $1 is the section name.
timed() {
	section=$1
	shift
	if [ -z "$TIMEV" ]; then
		echo "$section: peak RSS not measured (no GNU time)"
		"$@"
		return $?
	fi
	"$TIMEV" -v -o "$WORK/time.out" "$@"
	rc=$?
	awk -v s="$section" '
	    /Elapsed \(wall clock\)/ { print s ": process wall time " $NF }
	    /Maximum resident set size/ {
		printf "%s: process peak RSS %.1f MiB\n", s, $NF / 1024 }
	' "$WORK/time.out"
	return $rc
}

# --- registry: import the national TPS registry ---------------------
#
# Imports ../shared/data/desa_tps_2024.csv (820,161 domestic TPS) and
# the DPT file into a new registry, re-imports the village list, then
# times lookups.  Target: the national import in under 5 s.
# Word splitting of the pkg-config flags is wanted here.
# shellcheck disable=SC2086,SC2046
bench_registry() {
	desa=$SHARED/desa_tps_2024.csv
	dpt=$SHARED/pilpres2024_tps.csv
	bin=$WORK/bench_registry
	if [ ! -r "$desa" ] || [ ! -r "$dpt" ]; then
		echo "registry: skipped: $desa or $dpt not readable"
		return 0
	fi
	libs=$(pkg-config --libs sqlite3) || return 1
	if [ -f "$B/libtally.a" ]; then
		$CC -std=gnu11 -O2 -Iinclude -D_GNU_SOURCE -o "$bin" \
		    tests/bench/bench_registry.c "$B/libtally.a" $libs \
		    $(pkg-config --libs libsodium libevent) -lm
	else
		$CC -std=gnu11 -O2 -Iinclude -D_GNU_SOURCE -o "$bin" \
		    tests/bench/bench_registry.c gateway/tally/registry.c \
		    gateway/tally/csv.c gateway/tally/log.c $libs
	fi || { echo "registry: FAILED to build the benchmark"; return 1; }

	echo "registry: $(nproc 2>/dev/null || echo '?') CPUs," \
	    "sqlite $(pkg-config --modversion sqlite3)"
	timed registry "$bin" "$WORK/registry.db" "$desa" "$dpt" \
	    >"$WORK/registry.out" || {
		cat "$WORK/registry.out"
		echo "registry: FAILED"
		return 1
	}
	cat "$WORK/registry.out"
	echo "registry: database size $(($(wc -c <"$WORK/registry.db") \
	    / 1024)) KiB"
	awk '/import desa:/ {
		for (i = 1; i <= NF; i++) if ($i == "s") t = $(i - 1)
		printf "registry: target: national import under 5 s: %s\n",
		    (t < 5 ? "met" : "NOT MET")
	}' "$WORK/registry.out"
}

# --- verify: the protocol stages on every real PPWP row -----------
#
# Signs every complete row of the 2024 results with its content MAC and
# verifies them all against the national registry, in one process each
# (tallyctl mac/verify --batch). Prints reports per second.
bench_verify() {
	pil=$SHARED/pilpres2024_tps.csv
	desa=$SHARED/desa_tps_2024.csv
	[ -r "$pil" ] && [ -r "$desa" ] || {
		echo "verify: skipped: shared data not readable"
		return 0
	}
	ctl=$B/tallyctl
	printf 'root 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' \
	    >"$WORK/root.key"
	chmod 600 "$WORK/root.key"
	"$ctl" import --registry "$WORK/verify.db" --desa "$desa" --dpt "$pil" \
	    >/dev/null || return 1
	awk -F, 'NR > 1 && $11 != "" && $12 != "" && $13 != "" &&
	    $20 != "" && $21 != "" && $22 != "" {
		printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12,
		    $13, $21, $22 }' "$pil" >"$WORK/all.txt"
	# Ten copies with distinct SEQ make about 230,000 reports.
	for i in 1 2 3 4 5 6 7 8 9 10; do
		sed "s/^\(PPWP\*[0-9]*\*\)1\*/\1$i*/" "$WORK/all.txt"
	done >"$WORK/many.txt"
	n=$(wc -l <"$WORK/many.txt")
	t0=$(date +%s.%N)
	"$ctl" mac --key "$WORK/root.key" --batch "$WORK/many.txt" \
	    >"$WORK/many.signed" 2>/dev/null
	t1=$(date +%s.%N)
	timed verify "$ctl" verify --key "$WORK/root.key" \
	    --registry "$WORK/verify.db" --batch "$WORK/many.signed" \
	    >"$WORK/many.out" 2>"$WORK/many.err"
	t2=$(date +%s.%N)
	awk -v n="$n" -v t0="$t0" -v t1="$t1" -v t2="$t2" 'BEGIN {
		printf "verify: %d reports\n", n
		printf "verify: mac (decode, form, key derivation, MAC): %.0f reports/s\n", n / (t1 - t0)
		printf "verify: verify (decode, registry, form, code, SEQ history, flags): %.0f reports/s\n", n / (t2 - t1)
	}'
	sed 's/^tallyctl verify: /verify: verdicts: /' "$WORK/many.err"
}

# --- bank: tallygw and its peers on a realistic bank ----------------
#
# tests/bench/bank.sh: K = 1, 4, 16, 64 modems at scale 1, a burst and a
# steady feed; tallygw (a mixed bank and a split one), gammu-smsd, smsd
# and Kannel. About 30 minutes.
bench_bank() {
	sh tests/bench/bank.sh bank
}

# --- pipeline: the receive stage without modems -----------------------
bench_pipeline() {
	sh tests/bench/pipeline.sh
}

# --- memory: PSS of each gateway with 1, 16 and 64 modems ------------
#
# The bank's runs measure it: after a bank run in this invocation its
# figures are used, else tests/bench/bank.sh runs short ones.
bench_memory() {
	ks="${BENCH_MEMORY_K:-1 16 64}"
	[ "${BENCH_QUICK:-0}" = 1 ] && ks="${BENCH_MEMORY_K:-1 4}"
	if [ ! -s "$WORK/pss.txt" ]; then
		BENCH_K=$ks sh tests/bench/bank.sh memory || return 1
	fi
	for k in $ks; do
		awk -v k="$k" '$2 == k' "$WORK/pss.txt"
	done | while read -r g k idle load; do
		echo "memory: $g k=$k: total PSS $idle MiB idle, $load MiB" \
		    "under load"
		printf '{"section":"memory","gateway":"%s","k":%s,%s}\n' \
		    "$g" "$k" "\"pss_mib_idle\":$idle,\"pss_mib_load\":$load" \
		    >>"$BENCH_OUT/memory.jsonl"
	done
	awk '$2 == 64' "$WORK/pss.txt" | awk '
	{ v[$1] = $4 }
	END {
		if (!("tallygw" in v)) exit
		b = ""
		for (g in v) if (g != "tallygw" && (b == "" || v[g] < v[b])) b = g
		printf "memory: target: tallygw with 64 modems under 48 MiB " \
		    "under load: %s (%.1f MiB)\n", (v["tallygw"] < 48) ? \
		    "met" : "NOT MET", v["tallygw"]
		if (b != "")
			printf "memory: target: at most half of the best " \
			    "peer (%s, %.1f MiB): %s\n", b, v[b],
			    (v["tallygw"] <= v[b] / 2) ? "met" : "NOT MET"
	}'
}

# --- forward: the drain after an outage -------------------------------
bench_forward() {
	sh tests/bench/forward.sh
}

# cpu_idle SECONDS: the share of CPU time idle (0..100) over SECONDS.
cpu_idle() {
	c_a=$(head -1 /proc/stat)
	sleep "$1"
	c_b=$(head -1 /proc/stat)
	printf '%s\n%s\n' "$c_a" "$c_b" | awk '
	    { t = 0; for (i = 2; i <= NF; i++) t += $i
	      tot[NR] = t; idle[NR] = $5 + $6 }
	    END { d = tot[2] - tot[1]
	      printf "%d", (d > 0 ? 100 * (idle[2] - idle[1]) / d : 100) }'
}

# quiet_wait: before a section, what the last left (its processes
# ending, the disk's writeback) settles: sync, then wait until the CPUs
# are 90% idle over 5 s, at most 180 s. Prints how long and how idle;
# the figures are taken whatever it found.
quiet_wait() {
	q_t0=$(date +%s)
	sync
	while :; do
		q_idle=$(cpu_idle 5)
		[ "$q_idle" -ge 90 ] && break
		[ $(($(date +%s) - q_t0)) -ge 180 ] && break
	done
	echo "bench: $(($(date +%s) - q_t0)) s to settle, then CPUs" \
	    "$q_idle% idle over 5 s; load $(cut -d' ' -f1-3 /proc/loadavg)"
}

for s in ${*:-bank pipeline memory forward}; do
	case $s in
	bank|pipeline|memory|forward|registry|verify) ;;
	*)	echo "bench: no section $s (bank pipeline memory forward" \
		    "registry verify)"
		status=1
		continue ;;
	esac
	rm -f "$BENCH_OUT/$s.jsonl"
	echo "== $s"
	quiet_wait
	t0=$(date +%s)
	"bench_$s" || status=1
	echo "$s: section time $(($(date +%s) - t0)) s"
done
echo "== results"
python3 tests/bench/results.py "$BENCH_OUT" || status=1
exit $status
