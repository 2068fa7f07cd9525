#!/bin/sh
# A fuzz run of one libFuzzer target over its seed corpus: 30 s as part
# of 'make check' (FUZZ_SECONDS, FUZZ_RUNS change it; 'make fuzz' runs
# every target longer). A crashing input is kept in FUZZ_ARTIFACTS, if
# set, and printed in base64 in any case.
t=$1
name=${t##*/}
seeds=tests/fuzz/corpus/$name
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$seeds"/* "$work"/ 2>/dev/null
if "$t" -runs=${FUZZ_RUNS:-200000} -max_total_time=${FUZZ_SECONDS:-30} \
    -max_len=1024 -print_final_stats=1 \
    -artifact_prefix="${FUZZ_ARTIFACTS:-$work}/$name-" "$work" \
    >"$work/log" 2>&1; then
	echo "ok 1 - $name: $(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$') runs, no crash"
else
	tail -40 "$work/log"
	echo "not ok 1 - $name crashed"
	exit 1
fi
