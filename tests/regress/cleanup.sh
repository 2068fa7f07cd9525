#!/bin/sh
# A suite that is killed, or fails, leaves nothing running: a small
# suite on lib.sh starts a `tallysim run', a sleeper (t_track) and a
# shell with a child of its own (t_bg), writes their PIDs, then waits to
# be killed (SIGTERM, SIGHUP) or fails at once; afterwards none of the
# processes it started may run. Checked by PID and start time, never by
# name, so that other suites running beside it do not matter. TAP.
B=${B:-build}
. tests/regress/lib.sh
SIM=$B/tallysim
D=$(mktemp -d "${TMPDIR:-/tmp}/tally-cleanup.XXXXXX") || exit 1
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$SIM" ]; then
	t_fail "$B/tallysim is built"
	finish
	exit 1
fi

cat >"$D/suite.sh" <<'EOF'
# suite.sh DIR MODE: start, write DIR/pids, then MODE: wait or fail.
. tests/regress/lib.sh
"$B/tallysim" run --dir "$1/run" --modems 1 --seed 7 >"$1/sim.out" \
    2>"$1/sim.err" &
t_track "$!"
echo "$!" >"$1/pids.tmp"
sleep 300 &
t_track "$!"
echo "$!" >>"$1/pids.tmp"
t_bg sh -c 'sleep 301 & echo $! >"$0"; wait' "$1/grandchild"
echo "$!" >>"$1/pids.tmp"
wait_for 15 grep -q '^ready$' "$1/sim.out" && wait_for 5 test -s "$1/grandchild"
cat "$1/grandchild" >>"$1/pids.tmp"
mv "$1/pids.tmp" "$1/pids"
if [ "$2" = fail ]; then
	wait_for 30 test -e "$1/go"
	t_fail "a failing check"
	finish
	exit 1
fi
while :; do sleep 0.2; done
EOF

# run MODE [SIGNAL]: the suite in DIR/MODE; its PID:START list in
# $V once it has started everything; then the signal, or `go' (fail).
run() {
	mkdir "$D/$1"
	sh "$D/suite.sh" "$D/$1" "$1" >"$D/$1/out" 2>&1 &
	S=$!
	if ! wait_for 30 test -s "$D/$1/pids"; then
		t_fail "$1: the suite starts its processes"
		kill -KILL "$S" 2>/dev/null
		return 1
	fi
	V=
	for p in $(cat "$D/$1/pids"); do
		V="$V $p:$(t_start "$p")"
	done
	expect "$1: four processes are running" \
	    "$(for v in $V; do t_alive "$v" && echo y; done | wc -l)" 4
	if [ -n "$2" ]; then
		kill "-$2" "$S"
	else
		: >"$D/$1/go"
	fi
	# the suite ends by itself (fail) or by the signal, in 40 s (its
	# cleanup alone may give what it started 10 s to end)
	if wait_for 40 sh -c "! kill -0 $S"; then
		wait "$S"
		expect "$1: the suite ends with status 1" "$?" 1
	else
		t_fail "$1: the suite ends"
		ps -o pid,stat,wchan:20,args -p "$S" | sed 's/^/#   /'
		sed 's/^/#   out: /' "$D/$1/out"
		kill -KILL "$S" 2>/dev/null
	fi
	# shellcheck disable=SC2086
	if t_alive $V; then
		t_fail "$1: nothing it started is left"
		ps -o pid,pgid,args -p "$(echo $V | sed 's/:[0-9]*//g; s/ /,/g')" |
		    sed 's/^/#   /'
		t_signal KILL $V
	else
		t_ok "$1: nothing it started is left"
	fi
}

run term TERM
# A signal ignored when a shell starts cannot be trapped (POSIX): under
# nohup the suite could not end on SIGHUP, whatever lib.sh does.
if [ $((0x$(awk '/^SigIgn:/ { print $2 }' /proc/$$/status) & 1)) -eq 1 ]
then
	t_ok "hup: # SKIP SIGHUP is ignored by what started this suite (nohup)"
else
	run hup HUP
fi
run fail

finish
