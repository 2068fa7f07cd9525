#!/bin/sh
# Run every test suite and add their results into one line:
# "N passed, N failed". Each suite speaks TAP ("ok N", "not ok N");
# a suite that exits non-zero without a failing line counts one failure.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
LC_ALL=C.UTF-8		# a bare Debian sets no locale; the texts are UTF-8
export B SHARED LC_ALL
# A suite that runs make (central.sh, install.sh, deps.sh) runs it on
# its own, not as a part of the make that runs the tests.
unset MAKEFLAGS MFLAGS MAKELEVEL
LOG=$B/test-logs
mkdir -p "$LOG"

# Suites run side by side, TEST_JOBS at a time (default 3): most of a
# regress suite's time is waiting for simulated modems and timers, not
# CPU, and on two cores one-at-a-time left the machine idle two thirds
# of the run.  Each suite runs in a session of its own (setsid does not
# fork: a background job of a non-interactive shell leads no group), so
# that what it leaves behind, even when it is killed, can be ended with
# its group: a backstop to the suites' own cleanup (tests/regress/lib.sh).
JOBS=${TEST_JOBS:-3}
RUN=$LOG/.run
rm -rf "$RUN"
mkdir -p "$RUN"

# end_all: end every running suite's group (on INT, TERM, HUP).
end_all() {
	for f in "$RUN"/*.pgid; do
		[ -f "$f" ] || continue
		g=$(cat "$f")
		env kill -s TERM -- "-$g" 2>/dev/null
	done
	sleep 1
	for f in "$RUN"/*.pgid; do
		[ -f "$f" ] || continue
		env kill -s KILL -- "-$(cat "$f")" 2>/dev/null
	done
	return 0
}
trap 'end_all; exit 130' INT
trap 'end_all; exit 143' TERM HUP

# run_suite NAME CMD...: run one suite, then write its line and counts
# to $RUN/NAME.res ("PASSED FAILED" on the first line, then the text).
run_suite() {
	name=$1
	shift
	key=$(echo "$name" | tr '/ ' '__')
	out="$LOG/$key.log"
	t0=$(date +%s)
	setsid "$@" >"$out" 2>&1 </dev/null &
	spid=$!
	echo "$spid" >"$RUN/$key.pgid"
	wait "$spid"
	rc=$?
	# Whatever is still in its group after a grace was left behind.
	g=0
	while env kill -s 0 -- "-$spid" 2>/dev/null && [ "$g" -lt 10 ]; do
		sleep 0.5
		g=$((g + 1))
	done
	if env kill -s 0 -- "-$spid" 2>/dev/null; then
		echo "not ok - $name left processes running:" >>"$out"
		ps -eo pid,pgid,args | awk -v g="$spid" '$2 == g' \
		    >>"$out" 2>&1
		env kill -s TERM -- "-$spid" 2>/dev/null && sleep 1 &&
		    env kill -s KILL -- "-$spid" 2>/dev/null
	fi
	rm -f "$RUN/$key.pgid"
	secs=$(($(date +%s) - t0))
	p=$(grep -c '^ok ' "$out")
	f=$(grep -c '^not ok ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited $rc" >>"$out"
	fi
	{
		echo "$p $f"
		if [ "$f" -gt 0 ]; then
			echo "FAIL $name: $p passed, $f failed, ${secs} s (see $out)"
			# each failure with the diagnostics under it ("#   got:")
			awk '/^not ok/ { n = 6; print; next }
			    n > 0 && /^#/ { n--; print; next } { n = 0 }' \
			    "$out" | head -60 | sed 's/^/    /'
			grep -B2 -A8 -i 'error\|failure' "$out" | head -40 |
			    sed 's/^/    /'
		else
			echo "ok   $name: $p passed, ${secs} s"
		fi
	} >"$RUN/$key.tmp"
	mv "$RUN/$key.tmp" "$RUN/$key.res"
}

# The queue, one suite a line: NAME<TAB>COMMAND.  Regress suites come
# first, the longest first (TEST_ORDER), so that the last to end is a
# short one; then fuzz runs and unit suites fill the gaps.
QUEUE=$RUN/queue
TEST_ORDER="gateway world kills faults sim_gammu hostile flood modem
    security sim_kannel diskfull gateway_ops sim_csms deps sim_bank ussd
    machelper"
{
	for n in $TEST_ORDER; do
		[ -f "tests/regress/$n.sh" ] &&
		    printf 'regress/%s.sh\tsh tests/regress/%s.sh\n' "$n" "$n"
	done
	for t in tests/regress/*.sh; do
		n=${t##*/}
		case "$n" in lib.sh|fake_*) continue ;; esac
		case " $(echo $TEST_ORDER) " in *" ${n%.sh} "*) continue ;; esac
		printf 'regress/%s\tsh %s\n' "$n" "$t"
	done
	for t in "$B"/fuzz/fuzz_*; do
		[ -x "$t" ] &&
		    printf 'fuzz/%s\tsh tests/fuzz/smoke.sh %s\n' "${t##*/}" "$t"
	done
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] && printf 'unit/%s\t%s\n' "${t##*/}" "$t"
	done
	for t in "$B"/asan/tests/test_*; do
		[ -x "$t" ] && printf 'asan/%s\tenv ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 %s\n' "${t##*/}" "$t"
	done
} >"$QUEUE"

# running: how many suites have started and not yet written a result.
running() {
	ls "$RUN" | grep -c '\.started$' || true
}

pass=0
fail=0
# collect: print and count the results that came in since last time.
collect() {
	for r in "$RUN"/*.res; do
		[ -f "$r" ] || continue
		set -- $(head -1 "$r")
		pass=$((pass + $1))
		fail=$((fail + $2))
		tail -n +2 "$r"
		k=${r%.res}
		rm -f "$r" "$k.started"
	done
}

tab=$(printf '\t')
while IFS="$tab" read -r name cmd; do
	while [ "$(running)" -ge "$JOBS" ]; do
		sleep 0.2
		collect
	done
	: >"$RUN/$(echo "$name" | tr '/ ' '__').started"
	# shellcheck disable=SC2086
	run_suite "$name" $cmd &
done <"$QUEUE"
while [ "$(running)" -gt 0 ]; do
	sleep 0.2
	collect
done
wait
collect

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
