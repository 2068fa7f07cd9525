#!/bin/sh
# A scenario played through tallysim: `scenario start' injects every
# message of the KPPS phones into the modems, `scenario status' counts
# them, every part is on a SIM or held by the network, and with no
# gateway the oracle must fail (every report unanswered, nothing
# forwarded).  TAP; every wait is time-boxed.

. tests/regress/lib.sh

SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
CTL=$(cd "$B" 2>/dev/null && pwd)/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/sim_scenario.XXXXXX)
R=$D/run
PID=
CPID=
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$CTL" ]; then
	t_fail "$B/tallysim and $B/tallyctl are built"
	finish
	exit 1
fi

ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }

# A JSON number field of one line: jnum NAME TEXT.
jnum() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

"$SIM" run --dir "$R" --modems 2 --profile instant --seed 1 \
    >"$D/sim.out" 2>"$D/sim.err" &
PID=$!
t_track "$PID"
if wait_for 20 grep -q '^ready$' "$D/sim.out"; then
	t_ok "tallysim prints ready"
else
	t_fail "tallysim prints ready"
	finish
	exit 1
fi

expect_rc "oracle before any scenario fails" 1 ctl oracle
expect_rc "scenario start without a key fails" 1 ctl scenario start --tps 20
expect_rc "scenario start --tps x fails" 1 ctl scenario start --tps x
expect_rc "scenario start --to 7 (no such modem) fails" 1 \
    ctl scenario start --to 7
"$CTL" keygen -o "$R/root.key"
expect "tallyctl keygen writes the root key" "$?" 0

out=$(ctl scenario start --tps 20 --data "$DATA" 2>&1)
expect "scenario start exits 0" "$?" 0
expect_match "it says what it plays" "$out" \
    '^scenario seed 1: 20 phones, [0-9]+ messages'
expect_rc "a second start while playing fails" 1 \
    ctl scenario start --tps 20 --data "$DATA"
check_sent() {
	ctl scenario status --json | grep -q '"state":"done"'
}
if wait_for 30 check_sent; then
	t_ok "scenario status reaches done"
else
	t_fail "scenario status reaches done"
fi
st=$(ctl scenario status --json)
sent=$(jnum sent "$st")
total=$(jnum total "$st")
parts=$(jnum parts "$st")
expect "all messages sent" "$sent" "$total"
expect_match "there are many messages" "$total" '^[0-9]{3,}$'
expect "none failed" "$(jnum failed "$st")" 0
expect_match "readable status says sent N/N" "$(ctl scenario status)" \
    "^done: sent $total/$total messages"
expect "scenario.jsonl has one line per message" \
    "$(grep -c . "$R/scenario.jsonl")" "$total"

# Let the network settle, then count: SIM slots + queued = parts sent.
sleep 1
s0=$(ctl sim --modem 0 | grep -c .)
s1=$(ctl sim --modem 1 | grep -c .)
queued=$(jnum queued "$(ctl stats --json)")
expect_match "modem 0's SIM holds messages" "$s0" '^[1-9][0-9]*$'
expect_match "modem 1's SIM holds messages" "$s1" '^[1-9][0-9]*$'
expect "SIM messages + parts held by the network = parts sent" \
    "$((s0 + s1 + queued))" "$parts"
expect_match "SIM messages come from the scenario's phones" \
    "$(ctl sim --modem 0 --json | head -1)" '"from":"\+628[0-9]+"'

# No gateway: nothing answered, nothing forwarded; the oracle must fail.
ctl oracle >"$D/oracle.txt" 2>"$D/oracle.err"
expect "oracle exits 1 with no gateway" "$?" 1
o=$(cat "$D/oracle.txt")
expect_match "oracle names CONFIRM_MISSING" "$o" '^CONFIRM_MISSING '
expect_match "oracle names FORWARD_MISSING" "$o" '^FORWARD_MISSING '
expect_match "oracle counts what was sent" "$o" "^oracle: sent $total:"
expect_match "no central: it holds nothing" "$o" 'no central receiver'
expect_match "the error names the discrepancies" "$(cat "$D/oracle.err")" \
    '[0-9]+ discrepanc'
ctl oracle --json >"$D/oracle.json" 2>/dev/null
expect "oracle --json exits 1 too" "$?" 1
expect_match "oracle --json lists CONFIRM_MISSING" "$(cat "$D/oracle.json")" \
    '"check": ?"CONFIRM_MISSING"'

# An empty central receiver in another directory: asked, still failing.
mkdir "$D/central"
"$SIM" central --dir "$D/central" --listen 127.0.0.1:0 >"$D/central.out" \
    2>"$D/central.err" &
CPID=$!
t_track "$CPID"
if wait_for 10 grep -q '^ready$' "$D/central.out"; then
	t_ok "the central receiver starts"
	ctl oracle --central-dir "$D/central" >"$D/oracle2.txt" 2>/dev/null
	expect "oracle with an empty central exits 1" "$?" 1
	o=$(cat "$D/oracle2.txt")
	expect_match "it read the central (0 records)" "$o" \
	    '0 central records'
	expect_match "and still names FORWARD_MISSING" "$o" '^FORWARD_MISSING '
else
	t_fail "the central receiver starts"
fi

kill "$PID"
wait "$PID" 2>/dev/null
expect "tallysim exits cleanly" "$?" 0
PID=
finish
