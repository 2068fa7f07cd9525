#!/bin/sh
# make demo: a simulated election night, end to end.
#
# `tallysim world' runs 10 simulated GSM modems, the SMS network, a USSD
# aggregator and tallysim's central receiver, and starts tallygw on
# them.  300 polling stations' KPPS officers report over a 12-hour
# night, compressed into about three minutes: most send coded tally SMS,
# a fifth go through the USSD menu instead.  The demo shows the progress
# live, then the oracle's verdict on every reply, every USSD screen and
# every forwarded record; its exit status is the oracle's.
#
# DEMO_DIR=DIR keeps the run there; DEMO_TPS, DEMO_SCALE, DEMO_MODEMS,
# DEMO_DAILY_CAP, DEMO_SETTLE and DEMO_USSD (the share of officers who
# report by USSD, 0.2) change the size, the mix and the speed.
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
USSD=${DEMO_USSD:-0.2}		# share of the officers who report by USSD
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
   mode, SIM storage), the Indonesian SMS network behind them, a USSD
   aggregator, and the KPPS officers of $TPS real polling stations (2024
   data) on basic phones, with their usual mistakes.  Most type coded
   tally SMS (typos, wrong or missing codes, values left out, resends,
   corrections); a share of $USSD dial the USSD menu instead (a wrong
   key, 0 back, 00 to start again, a screen timeout, a dropped call
   redialled and resumed with 9, a session abandoned and begun afresh).
   Real: tallygw drives the modems through libGammu and answers the
   aggregator's USSD callback, verifies every report, stores it in
   SQLite, answers the officer (SMS, and the USSD END screen) and
   forwards each accepted report, signed, to the central receiver.  An
   oracle then checks every reply, every USSD session's screens and
   every central record against what the protocol demands.
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
out=$(ctl scenario start --tps "$TPS" --night "$NIGHT" --data "$DATA" \
    --ussd "$USSD") || exit 1
echo "$out" | sed 's/^/   /'

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
	line="phones sent $sent/$total (USSD $(jnum ussd_sent "$st")/$(jnum \
ussd_total "$st") in $(jnum sessions "$st") sessions)"
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

# One USSD officer's report, screen by screen: a dropped call, redialled
# and taken up again with 9.
if [ -s "$RUN/ussd.jsonl" ]; then
	echo
	echo "== a USSD report: the line drops, the officer redials, 9 resumes"
	python3 - "$RUN/scenario.jsonl" "$RUN/ussd.jsonl" <<'PY'
import json, sys
msgs = {}
for line in open(sys.argv[1]):
    m = json.loads(line)
    u = m.get("ussd")
    if u and len(u["sessions"]) == 2 and u["sessions"][0]["end"] == "drop":
        msgs[m["id"]] = m
screens = {}
for line in open(sys.argv[2]):
    o = json.loads(line)
    if o["msg"] in msgs:
        screens.setdefault(o["msg"], []).append(o)
for mid in sorted(screens):
    m = msgs[mid]
    print("   %s, TPS %s, %s:" % (m["phone"], m["tps"], m["contest"]))
    for o in screens[mid]:
        s = m["ussd"]["sessions"][o["k"]]
        if "end" in o:
            print("     -- session %d: %s" % (o["k"] + 1, o["end"]))
            continue
        i = o["i"]
        typed = "dial *123*45#" if i < 0 else "types " + (
            s["inputs"][i] if i < len(s["inputs"]) else "1")
        if len(typed) > 24:
            typed = typed[:21] + "..."
        text = o.get("text", "").replace("\n", " / ")
        print("     %-24s %s %s" % (typed, o.get("type", "?"),
            text[:150] + ("..." if len(text) > 150 else "")))
    break
PY
fi

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
	echo "   every officer, by SMS or by USSD, got the right answer;" \
	    "every accepted report reached the central system once, signed"
else
	echo "   the oracle found discrepancies (exit $RC)"
fi
exit $RC
