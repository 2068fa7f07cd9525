#!/bin/sh
# Run every test suite and add their results into one line:
# "N passed, N failed". Each suite speaks TAP ("ok N", "not ok N");
# a suite that exits non-zero without a failing line counts one failure.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
LC_ALL=C.UTF-8		# a bare Debian sets no locale; the texts are UTF-8
export B SHARED LC_ALL
LOG=$B/test-logs
mkdir -p "$LOG"
pass=0
fail=0

# The suite that runs now, in a session of its own (setsid does not
# fork: a background job of a non-interactive shell leads no group), so
# that what it leaves behind, even when it is killed, can be ended with
# its group: a backstop to the suites' own cleanup (tests/regress/lib.sh).
SUITE_PID=
end_suite() {
	[ -n "$SUITE_PID" ] || return 0
	env kill -s TERM -- "-$SUITE_PID" 2>/dev/null && sleep 1 &&
	    env kill -s KILL -- "-$SUITE_PID" 2>/dev/null
	SUITE_PID=
	return 0
}
trap 'end_suite; exit 130' INT
trap 'end_suite; exit 143' TERM HUP

run_suite() {
	name=$1
	shift
	out="$LOG/$(echo "$name" | tr '/ ' '__').log"
	setsid "$@" >"$out" 2>&1 </dev/null &
	SUITE_PID=$!
	wait "$SUITE_PID"
	rc=$?
	# Whatever is still in its group after a grace was left behind.
	g=0
	while env kill -s 0 -- "-$SUITE_PID" 2>/dev/null && [ "$g" -lt 10 ]; do
		sleep 0.5
		g=$((g + 1))
	done
	if env kill -s 0 -- "-$SUITE_PID" 2>/dev/null; then
		echo "not ok - $name left processes running:" >>"$out"
		ps -eo pid,pgid,args | awk -v g="$SUITE_PID" '$2 == g' \
		    >>"$out" 2>&1
	fi
	end_suite
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited $rc" >>"$out"
	fi
	pass=$((pass + p))
	fail=$((fail + f))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name: $p passed, $f failed (see $out)"
		grep '^not ok' "$out" | head -20 | sed 's/^/    /'
		grep -B2 -A8 -i 'error\|failure' "$out" | head -40 | sed 's/^/    /'
	else
		echo "ok   $name: $p passed"
	fi
}

for t in "$B"/tests/test_*; do
	[ -x "$t" ] && run_suite "unit/${t##*/}" "$t"
done
for t in "$B"/asan/tests/test_*; do
	[ -x "$t" ] && run_suite "asan/${t##*/}" env \
	    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 "$t"
done
for t in tests/regress/*.sh; do
	case "${t##*/}" in lib.sh|fake_*) continue ;; esac
	[ -f "$t" ] && run_suite "regress/${t##*/}" sh "$t"
done
for t in "$B"/fuzz/fuzz_*; do
	[ -x "$t" ] && run_suite "fuzz/${t##*/}" sh tests/fuzz/smoke.sh "$t"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
