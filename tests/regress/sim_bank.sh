#!/bin/sh
# A bank of 64 simulated modems in one tallysim: every link exists,
# `tallysim ctl modems' lists 64, numbers are distinct, Indonesian and
# match their operator, the same seed gives the same bank, and gammu
# talks to the first and the last modem.  TAP; time-boxed waits.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
K=64
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }

if [ ! -x "$SIM" ]; then
	echo "not ok 1 - $B/tallysim not built"
	exit 1
fi

T=$(mktemp -d /tmp/sim_bank.XXXXXX)
PID=
PID2=
cleanup() {
	t_stop "$PID" "$PID2"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ctl() { timeout 20 "$SIM" ctl --dir "$1" "$2" "$3"; }

"$SIM" run --dir "$T/run" --modems $K --seed 2024 >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
check "tallysim with $K modems prints ready" wait_for 20 grep -q '^ready$' "$T/sim.out"

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
wait_for 20 grep -q '^ready$' "$T/sim2.out"
ctl "$T/run2" modems --json | sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p' | sort -u >"$T/msisdns2"
check "the same seed gives the same numbers" cmp -s "$T/msisdns" "$T/msisdns2"
kill "$PID2"
wait "$PID2" 2>/dev/null
PID2=

if command -v gammu >/dev/null 2>&1; then
	for i in 0 $((K - 1)); do
		printf '[gammu]\ndevice = %s\nconnection = at\n' \
		    "$T/run/modem$i" >"$T/gammurc$i"
		timeout 60 gammu -c "$T/gammurc$i" identify >"$T/id$i" 2>&1
		check "gammu identify on modem$i" grep -q 'Manufacturer *: Tallysim' "$T/id$i"
	done
fi

kill "$PID"
wait "$PID" 2>/dev/null
PID=
check "every link removed on exit" sh -c "! ls '$T/run' | grep -q ."

echo "1..$n"
exit $failed
