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
		    tests/bench/bench_registry.c gateway/registry.c \
		    gateway/log.c $libs
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

echo "== registry"
bench_registry || status=1

exit $status
