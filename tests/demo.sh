#!/bin/sh
# make demo: a simulated election night, end to end.
#
# `tallysim world' runs 10 simulated GSM modems, the SMS network and
# tallysim's central receiver, and starts tallygw on them.  300 polling
# stations' KPPS officers send their coded tally SMS over a 12-hour
# night, compressed into about three minutes.  The demo shows the
# progress live, then the oracle's verdict on every reply and every
# forwarded record; its exit status is the oracle's.
#
# DEMO_DIR=DIR keeps the run there; DEMO_TPS, DEMO_SCALE, DEMO_MODEMS,
# DEMO_DAILY_CAP and DEMO_SETTLE change the size and the speed.
set -u
B=${B:-build}
SHARED=${SHARED:-../shared/data}
. tests/regress/lib.sh
SIM=$B/tallysim
GWCTL=$B/tallyctl
TPS=${DEMO_TPS:-300}
MODEMS=${DEMO_MODEMS:-10}
NIGHT=43200			# seconds of election night: 12 hours
SCALE=${DEMO_SCALE:-240}	# 12 hours in 3 minutes
CAP=${DEMO_DAILY_CAP:-2000}	# SMS a SIM may send per day
POLL=3				# seconds between progress lines
SETTLE=${DEMO_SETTLE:-600}	# at most this long for replies after the night
KEEP=${DEMO_DIR:+1}
RUN=${DEMO_DIR:-$(mktemp -d /tmp/tallydemo.XXXXXX)}
PID=

fail() {
	echo "demo: $*" >&2
	exit 1
}

for f in "$SHARED/desa_tps_2024.csv" "$SHARED/pilpres2024_tps.csv"; do
	[ -r "$f" ] || fail "$f is missing: the demo reads the shared 2024" \
	    "data from ../shared/data (set SHARED=DIR to point elsewhere)"
done
for p in "$SIM" "$GWCTL" "$B/tallygw"; do
	[ -x "$p" ] || fail "$p is not built (run make)"
done
mkdir -p "$RUN" || fail "cannot create $RUN"
RUN=$(cd "$RUN" && pwd -P)
DATA=$(cd "$SHARED" && pwd -P)

# Stop the world whatever happens; keep the run only when asked or
# when something went wrong.
RC=1
cleanup() {
	t_cleanup
	if [ -n "$PID" ]; then
		kill -TERM "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	if [ -z "$KEEP" ] && [ "$RC" -eq 0 ]; then
		rm -rf "$RUN"
	else
		echo "   the run is kept in $RUN (tallygw.log, central.db," \
		    "scenario.jsonl, ...)"
	fi
}
t_trap cleanup

ctl() { timeout 30 "$SIM" ctl --dir "$RUN" "$@"; }
jnum() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
jstr() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }

cat <<EOF
== tallygw demo: a simulated election night

   Simulated: $MODEMS USB GSM modems on pseudo-terminals (AT commands, PDU
   mode, SIM storage), the Indonesian SMS network behind them, and the
   KPPS officers of $TPS real polling stations (2024 data) typing coded
   tally SMS on basic phones, with their usual mistakes: typos, wrong or
   missing codes, values left out, resends and corrections.
   Real: tallygw drives the modems through libGammu, verifies every SMS,
   stores it in SQLite, answers the officer and forwards each accepted
   report, signed, to the central receiver.  An oracle then checks every
   reply and every central record against what the protocol demands.
   The $((NIGHT / 3600))-hour night runs $SCALE times faster, with realistic
   network delays; each SIM may send $CAP SMS a day.
   Files: $RUN

EOF

rm -f "$RUN/world.out" "$RUN/world.err"
"$SIM" world --dir "$RUN" --modems "$MODEMS" --profile realistic \
    --scale "$SCALE" --daily-cap "$CAP" --data "$DATA" \
    >"$RUN/world.out" 2>"$RUN/world.err" &
PID=$!
t_track "$PID"
echo "== starting the world (registry of every TPS, keys, modems, gateway)"
end=$(($(date +%s) + 120))
until grep -q '^ready$' "$RUN/world.out" 2>/dev/null; do
	if ! kill -0 "$PID" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
		echo "demo: the world did not start:" >&2
		tail -20 "$RUN/world.err" >&2
		exit 1
	fi
	sleep 0.5
done
ctl modems | sed 's/^/   modem /'

echo
echo "== the night: $TPS polling stations"
out=$(ctl scenario start --tps "$TPS" --night "$NIGHT" --data "$DATA") ||
    exit 1
echo "   $out"

# gwv NAME: one count of the gateway's status table.
gwv() { printf '%s\n' "$gw" | t_kv "$1"; }

# One progress line: the phones' side, the gateway's, the central's.
progress() {
	st=$(ctl scenario status --json)
	state=$(jstr state "$st")
	sent=$(jnum sent "$st")
	total=$(jnum total "$st")
	replies=$(jnum delivered_to_phones "$(ctl stats --json)")
	gw=$("$GWCTL" status --sock "$RUN/gw/tallygw.sock" 2>/dev/null)
	central=$(ctl central 2>/dev/null | grep -c .)
	line="phones sent $sent/$total"
	[ -n "$gw" ] && line="$line | received $(gwv received): ok $(gwv ok) \
flagged $(gwv flagged) dup $(gwv duplicate) rejected $(gwv rejected) \
| replies sent $(gwv confirmed), waiting $(gwv replies_queued) \
| forwarded $(gwv forwarded), waiting $(gwv forward_pending)"
	printf '   [%4ds] %s | central %s\n' \
	    $(($(date +%s) - T0)) "$line" "$central"
}

T0=$(date +%s)
last=
same=0
done_at=
while :; do
	sleep $POLL
	kill -0 "$PID" 2>/dev/null || {
		echo "demo: the world stopped:" >&2
		tail -20 "$RUN/world.err" >&2
		exit 1
	}
	progress
	[ "$state" = done ] || continue
	[ -n "$done_at" ] || done_at=$(date +%s)
	# Settled: nothing moved for 5 lines, or the oracle is content.
	now="$replies $central $gw"
	if [ "$now" = "$last" ]; then
		same=$((same + 1))
	else
		same=0
	fi
	last=$now
	[ $same -ge 5 ] && break
	ctl oracle >/dev/null 2>&1 && break
	[ $(($(date +%s) - done_at)) -ge $SETTLE ] && break
done

echo
echo "== the oracle"
ctl oracle >"$RUN/oracle.txt" 2>"$RUN/oracle.err"
RC=$?
grep '^oracle:' "$RUN/oracle.txt" | sed 's/^/   /'
n=$(grep -vc '^oracle:' "$RUN/oracle.txt")
if [ "$n" -gt 0 ]; then
	printf '   by check:'
	grep -v '^oracle:' "$RUN/oracle.txt" | awk '{ print $1 }' | sort |
	    uniq -c | awk '{ printf " %s %s", $2, $1 } END { print "" }'
	grep -v '^oracle:' "$RUN/oracle.txt" | head -10 | cut -c1-160 |
	    sed 's/^/   /'
	[ "$n" -gt 10 ] && echo "   ... $((n - 10)) more in $RUN/oracle.txt"
fi
if [ $RC -eq 0 ]; then
	echo "   every officer got the right answer; every accepted report" \
	    "reached the central system"
else
	echo "   the oracle found discrepancies (exit $RC)"
fi
exit $RC
