#!/bin/sh
# A bank of 64 simulated modems in one tallysim (issue 3: K = 1..64):
# --modems 0 and 65 are refused; every link exists, `tallysim ctl
# modems' lists 64, numbers are distinct, Indonesian and match their
# operator, the same seed gives the same bank; gammu talks to the first
# and the last modem and reads an SMS injected into modem 63; an
# unprivileged user opens a modem, closes it and opens it again (the
# simulator clears the TIOCEXCL gammu leaves on the pty); and the modems
# keep answering while `ctl oracle' waits for a stopped central
# receiver, which answers when continued or times out with a reason.
# TAP; every wait is time-boxed.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
CTL=$(cd "$B" 2>/dev/null && pwd)/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
K=64
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }

if [ ! -x "$SIM" ] || [ ! -x "$CTL" ]; then
	echo "not ok 1 - $B/tallysim and $B/tallyctl are built"
	exit 1
fi
if ! command -v gammu >/dev/null 2>&1; then
	echo "not ok 1 - gammu is not installed (apt-get install gammu)"
	exit 1
fi

T=$(mktemp -d /tmp/sim_bank.XXXXXX)
PID=
PID2=
C1=
C2=
cleanup() {
	# A stopped receiver must be continued before it can stop.
	for p in $C1 $C2; do kill -CONT "$p" 2>/dev/null; done
	t_cleanup
	rm -rf "$T"
}
t_trap cleanup

ctl() { d=$1; shift; timeout 30 "$SIM" ctl --dir "$d" "$@"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
gammurc() { printf '[gammu]\ndevice = %s\nconnection = at\n' "$2" >"$1"; }

# --- limits: 1..64 --------------------------------------------------
for bad in 0 65 x; do
	timeout 10 "$SIM" run --dir "$T/bad$bad" --modems $bad \
	    >"$T/bad$bad.out" 2>"$T/bad$bad.err"
	rc=$?
	check "--modems $bad exits 2 (got $rc)" test $rc -eq 2
	check "--modems $bad: the error says 1 to 64" \
	    grep -q 'modems must be a number from 1 to 64' "$T/bad$bad.err"
	check "--modems $bad: no run directory, no ready" \
	    sh -c "test ! -e '$T/bad$bad' && test ! -s '$T/bad$bad.out'"
done

# --- 64 modems --------------------------------------------------------
t0=$(now_ms)
"$SIM" run --dir "$T/run" --modems $K --profile instant --seed 2024 \
    >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
t_track "$PID"
ready=
while [ $(($(now_ms) - t0)) -lt 20000 ]; do
	if grep -q '^ready$' "$T/sim.out" 2>/dev/null; then
		ready=$(($(now_ms) - t0))
		break
	fi
	sleep 0.01
done
if [ -n "$ready" ]; then
	ok "tallysim with $K modems prints ready"
	echo "# $K modems ready after $ready ms"
else
	notok "tallysim with $K modems prints ready"
	cat "$T/sim.err"
	echo "1..$n"
	exit 1
fi

missing=0
i=0
while [ $i -lt $K ]; do
	[ -c "$T/run/modem$i" ] || missing=$((missing + 1))
	i=$((i + 1))
done
check "all $K links exist and are character devices" test $missing -eq 0
check "no modem$K link" test ! -e "$T/run/modem$K"

ctl "$T/run" modems >"$T/modems.txt"
check "ctl modems lists $K" test "$(grep -c . "$T/modems.txt")" -eq $K
ctl "$T/run" modems --json >"$T/modems.json"
check "ctl modems --json lists $K" test "$(grep -c '^{.*}$' "$T/modems.json")" -eq $K
sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p' "$T/modems.json" | sort -u >"$T/msisdns"
check "$K distinct MSISDNs" test "$(grep -c . "$T/msisdns")" -eq $K
check "every MSISDN is +628xxxxxxxxxx" sh -c "! grep -v '^+628[0-9]\{10\}$' '$T/msisdns'"

# Each number's prefix belongs to its operator.
bad=$(sed -n 's/.*"msisdn":"+62\(8[0-9][0-9]\)[^"]*","operator":"\([^"]*\)".*/0\1 \2/p' \
    "$T/modems.json" | while read -r pfx op; do
	case "$op:$pfx" in
	TELKOMSEL:0811|TELKOMSEL:0812|TELKOMSEL:0813|TELKOMSEL:0821|\
	TELKOMSEL:0822|TELKOMSEL:0852|TELKOMSEL:0853) ;;
	"INDOSAT OOREDOO":081[456]|"INDOSAT OOREDOO":085[5678]) ;;
	"XL Axiata":081[789]|"XL Axiata":0859|"XL Axiata":087[78]) ;;
	Smartfren:088[1-9]) ;;
	*) echo "$op:$pfx" ;;
	esac
done)
check "prefixes match operators" test -z "$bad"

# Same seed, same bank.
"$SIM" run --dir "$T/run2" --modems $K --seed 2024 >"$T/sim2.out" 2>&1 &
PID2=$!
t_track "$PID2"
wait_for 20 grep -q '^ready$' "$T/sim2.out"
ctl "$T/run2" modems --json | sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p' | sort -u >"$T/msisdns2"
check "the same seed gives the same numbers" cmp -s "$T/msisdns" "$T/msisdns2"
kill "$PID2"
wait "$PID2" 2>/dev/null
PID2=

# --- a scenario, and an oracle that waits for a stopped receiver -------
# Two central receivers: c1 is stopped while a query is in flight and
# then continued; c2 stays stopped until the oracle gives up on it.
"$CTL" keygen -o "$T/run/root.key" >/dev/null 2>&1
central() {
	mkdir "$T/$1"
	"$SIM" central --dir "$T/$1" --listen 127.0.0.1:0 >"$T/$1.out" \
	    2>"$T/$1.err" &
	t_track "$!"
}
central c1
C1=$!
central c2
C2=$!
check "two central receivers start" wait_for 20 sh -c \
    "grep -q '^ready$' '$T/c1.out' && grep -q '^ready$' '$T/c2.out'"
ctl "$T/run" scenario start --tps 5 --to 2 --data "$DATA" >"$T/scen.out" 2>&1
check "a 5-TPS scenario starts into modem 2" grep -q '^scenario seed 1: 5 phones' "$T/scen.out"
check "the scenario is played" wait_for 30 sh -c \
    "timeout 10 '$SIM' ctl --dir '$T/run' scenario status | grep -q '^done'"
check "the oracle reads an idle receiver (0 records)" sh -c \
    "timeout 30 '$SIM' ctl --dir '$T/run' oracle --central-dir '$T/c1' | grep -q ' 0 central records'"

# c2 stopped: its socket accepts, it never answers.  The oracle waits
# in the background (20 s) while the modems are used below.
kill -STOP "$C2"
tB=$(now_ms)
( timeout 40 "$SIM" ctl --dir "$T/run" oracle --central-dir "$T/c2" \
    >"$T/oB.out" 2>"$T/oB.err"; echo $? >"$T/oB.rc"
    echo $(($(now_ms) - tB)) >"$T/oB.ms" ) &
    t_track "$!"

# --- gammu on the first and the last modem ----------------------------
for i in 0 $((K - 1)); do
	gammurc "$T/gammurc$i" "$T/run/modem$i"
	timeout 60 gammu -c "$T/gammurc$i" identify >"$T/id$i" 2>&1
	check "gammu identify on modem$i" grep -q 'Manufacturer *: Tallysim' "$T/id$i"
done

# An SMS injected into the last modem, read back by gammu.
TEXT="PPWP 3201012001001 S1 01 120 02 85 03 97"
ctl "$T/run" inject --from 081234567890 --to $((K - 1)) "$TEXT" >"$T/inj63"
check "inject --to $((K - 1)) names modem$((K - 1))" grep -q "^injected 1 part for modem$((K - 1)) +628" "$T/inj63"
check "the SMS is on modem$((K - 1))'s SIM" wait_for 10 sh -c \
    "timeout 10 '$SIM' ctl --dir '$T/run' sim --modem $((K - 1)) | grep -qF '$TEXT'"
timeout 60 gammu -c "$T/gammurc$((K - 1))" getallsms >"$T/getall63" 2>&1
check "gammu getallsms on modem$((K - 1)) lists the text" grep -qxF "$TEXT" "$T/getall63"
check "gammu getallsms on modem$((K - 1)) names the sender" \
    grep -q 'Remote number *: "+6281234567890"' "$T/getall63"

# --- non-root: open, close, open again --------------------------------
# gammu leaves TIOCEXCL on the pty; unless the simulator clears it when
# the last client closes, a second open by a non-root user gets EBUSY.
PTS=$(readlink -f "$T/run/modem1")
if [ "$(id -u)" -eq 0 ]; then
	chmod 711 "$T"
	gammurc "$T/gammurc1" "$T/run/modem1"
	chmod 644 "$T/gammurc1"
	AS="setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups"
	check "as nobody, $PTS is refused before it is given" \
	    sh -c "! $AS sh -c 'exec 3<>$PTS' 2>/dev/null"
	chown nobody "$PTS"
else
	gammurc "$T/gammurc1" "$T/run/modem1"
	AS=
fi
for try in 1 2; do
	timeout 60 $AS gammu -c "$T/gammurc1" identify >"$T/nr$try" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'Manufacturer *: Tallysim' "$T/nr$try"; then
		ok "unprivileged gammu identify on modem1, open $try"
	else
		notok "unprivileged gammu identify on modem1, open $try (exit $rc)"
		sed 's/^/#   /' "$T/nr$try" | head -5
	fi
done
check "modem1 is closed again (not open)" wait_for 10 sh -c \
    "timeout 10 '$SIM' ctl --dir '$T/run' modems | grep '^1 ' | grep -qv ' open$'"

# --- the loop keeps serving the modems while the oracle waits -----------
kill -STOP "$C1"
( timeout 40 "$SIM" ctl --dir "$T/run" oracle --central-dir "$T/c1" \
    >"$T/oA.out" 2>"$T/oA.err"; echo $? >"$T/oA.rc" ) &
APID=$!
t_track "$APID"
sleep 0.5
check "the oracle's query to the stopped receiver is in flight" kill -0 $APID
gammurc "$T/gammurc62" "$T/run/modem62"
t1=$(now_ms)
timeout 15 gammu -c "$T/gammurc62" identify >"$T/id62" 2>&1
echo "# gammu identify on modem62 took $(($(now_ms) - t1)) ms during the oracle's query"
check "gammu identify on modem62 answers meanwhile (within 15 s)" \
    grep -q 'Manufacturer *: Tallysim' "$T/id62"
check "ctl modems answers meanwhile" sh -c \
    "timeout 3 '$SIM' ctl --dir '$T/run' modems | grep -c . | grep -qx $K"
check "the oracle is still waiting after that" kill -0 $APID
kill -CONT "$C1"
check "continued, the receiver answers the oracle" wait_for 20 test -s "$T/oA.rc"
check "the oracle judges (exit 1: no gateway answered)" \
    test "$(cat "$T/oA.rc" 2>/dev/null)" = 1
check "it read the receiver's records" grep -q ' 0 central records' "$T/oA.out"
check "it names the discrepancies" grep -q 'discrepanc' "$T/oA.err"

# c2 never answered: the oracle gave up with a reason, not a verdict.
check "the oracle gives up on a receiver that never answers" \
    wait_for 40 test -s "$T/oB.rc"
echo "# the oracle gave up after $(cat "$T/oB.ms" 2>/dev/null) ms"
check "it exits 1" test "$(cat "$T/oB.rc" 2>/dev/null)" = 1
check "it says the receiver did not answer within 20 s" \
    grep -q "central receiver in $T/c2: no answer within 20 s" "$T/oB.err"
check "and judges nothing" test ! -s "$T/oB.out"
kill -CONT "$C2"

kill "$PID"
wait "$PID" 2>/dev/null
PID=
check "every link and ctl.sock removed on exit" \
    sh -c "! ls '$T/run' | grep -q 'modem\|ctl.sock'"

echo "1..$n"
exit $failed
