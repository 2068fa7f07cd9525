#!/bin/sh
# Benchmarks: each section prints its figures, one per line, prefixed
# by the section name.  Run by 'make bench' with B (build directory)
# and SHARED (../shared/data) in the environment.  POSIX sh.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
CC=${CC:-cc}
export B SHARED

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tallybench.XXXXXX") || exit 1
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

# --- gateway: tallygw and its peers on the simulated modem bank -----
#
# tests/bench/gateway.sh: intake, latency, forwarding, replies and peak
# RSS of tallygw on K simulated modems, then smstools' smsd and
# gammu-smsd on the same bank with the same messages (docs/bench.md).
# About 6 minutes.
bench_gateway() {
	sh tests/bench/gateway.sh
}

echo "== registry"
bench_registry || status=1
echo "== verify"
bench_verify || status=1
echo "== gateway"
bench_gateway || status=1

exit $status
