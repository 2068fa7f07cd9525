#!/bin/sh
# tallysim's busy counters (docs/sim.md, "Busy time"): each modem counts
# the time a command holds it (busy_ms) and, of that, the time it waits
# at the "> " prompt for the client's PDU (prompt_ms); `ctl stats` gives
# the profile's delays and scale. The real gammu command line sends one
# SMS on modem0 under the realistic profile at scale 10 (0.3 s of
# network time): libGammu's own pauses keep the prompt waiting at least
# 0.6 s. The worker tallygw-modem sends one on modem1: it skips them.
# TAP; every wait is time-boxed; about 15 s.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
WORKER=$B/tallygw-modem
DRIVE=$B/tests/tools/wiredrive

for p in "$SIM" "$WORKER" "$DRIVE"; do
	if [ ! -x "$p" ]; then
		echo "not ok 1 - $p not built"
		exit 1
	fi
done
if ! command -v gammu >/dev/null 2>&1; then
	echo "not ok 1 - gammu is not installed (apt-get install gammu)"
	exit 1
fi

T=$(mktemp -d /tmp/sim_busy.XXXXXX)
cleanup() {
	exec 4>&- 2>/dev/null
	t_cleanup
	rm -rf "$T"
}
t_trap cleanup

ctl() { timeout 20 "$SIM" ctl --dir "$T/run" "$@"; }
# jnum KEY JSON: a number of a one-line JSON object.
jnum() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p"; }
# modem N's line of `ctl modems --json'.
mjson() { ctl modems --json | sed -n "$(($1 + 1))p"; }
# ms N KEY: modem N's KEY, whole milliseconds.
ms() { jnum "$2" "$(mjson "$1")" | cut -d. -f1; }

"$SIM" run --dir "$T/run" --modems 2 --seed 5 --profile realistic \
    --scale 10 >"$T/sim.out" 2>"$T/sim.err" &
t_track $!
if ! wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	t_fail "tallysim prints ready"
	finish
	exit 1
fi

S=$(ctl stats --json)
expect_match "stats: the realistic profile and its scale" "$S" \
    '"profile":"realistic","scale":10,'
expect_match "stats: the profile's delays, unscaled" "$S" \
    '"send_ms":3000,"read_ms":40,"delete_ms":30,"deliver_ms":2000,'
expect "stats: nobody opened a modem: busy 0 ms" "$(jnum busy_ms "$S")" \
    0.000
expect_match "stats, plain: the delays and the scale" "$(ctl stats)" \
    'delays send 3000 ms, read 40 ms, delete 30 ms, deliver 2000 ms, each divided by 10'

# gammu on modem0: libGammu sleeps 0.6 s with the prompt open.
printf '[gammu]\ndevice = %s\nconnection = at\n' "$T/run/modem0" \
    >"$T/gammurc"
timeout 60 gammu -c "$T/gammurc" sendsms TEXT 081298765432 \
    -text "Tes busy" >"$T/gammu.out" 2>&1
expect "gammu sendsms on modem0 exits 0" "$?" 0
b0=$(ms 0 busy_ms)
p0=$(ms 0 prompt_ms)
if [ "${b0:-0}" -ge 300 ]; then
	t_ok "modem0 was busy at least the send's 300 ms ($b0 ms)"
else
	t_fail "modem0 was busy at least the send's 300 ms ($b0 ms)"
fi
if [ "${p0:-0}" -ge 600 ] && [ "$p0" -lt "$b0" ]; then
	t_ok "libGammu kept modem0's prompt waiting 600 ms or more ($p0 ms)"
else
	t_fail "libGammu kept modem0's prompt waiting 600 ms or more ($p0 ms)"
fi
expect "modem1, never opened, was not busy" "$(ms 1 busy_ms)" 0

# The worker on modem1 skips libGammu's pauses.
mkfifo "$T/cmd"
"$DRIVE" "$WORKER" -n m1 -d "$T/run/modem1" >"$T/out" 2>"$T/err" \
    <"$T/cmd" &
t_track $!
exec 4>"$T/cmd"
if wait_for 30 grep -q 'text=sweep done' "$T/out"; then
	t_ok "the worker on modem1 is ready"
else
	t_fail "the worker on modem1 is ready"
fi
pb=$(ms 1 prompt_ms)
echo "sendq 1 081298765432 Tes busy" >&4
if wait_for 15 grep -q '^SEND_RESULT id=1 code=0' "$T/out"; then
	t_ok "the worker's send on modem1 succeeds"
else
	t_fail "the worker's send on modem1 succeeds"
fi
p1=$(($(ms 1 prompt_ms) - pb))
if [ "$p1" -lt 300 ]; then
	t_ok "the worker kept the prompt waiting under 300 ms ($p1 ms)"
else
	t_fail "the worker kept the prompt waiting under 300 ms ($p1 ms)"
fi
expect_match "ctl modems, plain, shows the busy time" "$(ctl modems)" \
    '^1 .* busy [0-9]+\.[0-9] s$'
echo shutdown >&4
exec 4>&-
finish
