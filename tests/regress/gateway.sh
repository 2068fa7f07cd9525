#!/bin/sh
# System tests of tallygw through tallysim and the oracle.
#
# Part 1: `tallysim world' with 3 modems plays a 30-TPS scenario while
# one modem is unplugged and the central receiver is down for a while:
# the oracle must find nothing lost, nothing twice. Then the operator's
# side: CEK, BANTU, garbage, a report with NULs between its tokens
# (UCS-2), tallyctl status/modems/msg, a modem
# disabled and enabled while the gateway runs.
# Part 2: the pieces started by hand, and tallygw killed with SIGKILL in
# the middle of a scenario and started again: every report still reaches
# the central receiver once and every sender gets its confirmation
# (a reply in flight at the crash may come twice: that is allowed).
# Then a report from a number not on the KPPS list of its TPS is
# flagged SENDER.
# Part 3: `tallygw -n' names the file and line of a bad config.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp gateway
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/run
PID=
PIDS=

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED has the data"
	finish
	exit 1
fi

ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }
gwctl() { timeout 10 "$CTL" "$@" --state "$R/gw"; }
# A count of the gateway's status table: stat NAME.
stat() { gwctl status | t_kv "$1"; }
# Discrepancies of the oracle's JSON output, by check name.
checks() { ctl oracle --json 2>/dev/null | sed -n 's/.*"check":"\([A-Z_]*\)".*/\1/p' | sort | uniq -c; }

# --- part 1: a world with faults ------------------------------------

"$SIM" world --dir "$R" --modems 3 --seed 3 --profile instant \
    --data "$DATA" >"$D/world.out" 2>"$D/world.err" &
PID=$!
t_track "$PID"
if wait_for 120 grep -q '^ready$' "$D/world.out"; then
	t_ok "the world is ready"
else
	t_fail "the world is ready"
	tail -20 "$D/world.err" "$R/tallygw.log" | sed 's/^/#   /'
	finish
	exit 1
fi
expect "tallyctl status answers" "$(stat received) $(stat modems_ready)" \
    "0 3/3"

out=$(ctl scenario start --tps 30 --seed 3 --data "$DATA")
expect_match "the scenario starts" "$out" '^scenario seed 3: 30 phones'
sleep 1
ctl fault --modem 1 unplug 6 >/dev/null
expect "modem 1 unplugged mid-run" "$?" 0
timeout 10 "$SIM" central --dir "$R" --ctl down >/dev/null
expect "the central receiver goes down" "$?" 0
sleep 8
pend=$(stat forward_pending)
expect_match "forwards wait while the central is down" "$pend" '^[1-9]'
timeout 10 "$SIM" central --dir "$R" --ctl up >/dev/null
expect "the central receiver is back" "$?" 0

# A reply in flight on m1 at the unplug may reach its phone twice: the
# modem may have sent it before it went, nobody knows, and it is sent
# again (docs/design.md, "What is still sent twice"). So the oracle's
# second copies (CONFIRM_EXTRA, REPLY_EXTRA) are judged SMS by SMS by
# replies.py, which allows one more copy only for an attempt whose fate
# was unknown; every other check must be clean.
settled() {
	ctl oracle --json >"$D/oracle.json" 2>/dev/null
	grep -q '"summary"' "$D/oracle.json" &&
	    ! sed -n 's/.*"check":"\([A-Z_]*\)".*/\1/p' "$D/oracle.json" |
	    grep -vq '_EXTRA$'
}
wait_for 240 settled
settled
expect "the oracle finds nothing lost, nothing twice after unplug and outage" \
    "$?" 0
grep '"check"' "$D/oracle.json" | head -10 | cut -c1-300 | sed 's/^/#   /'
extra=$(grep -c '"check":"[A-Z_]*_EXTRA"' "$D/oracle.json")
S=$R t_inboxes >"$D/inbox.jsonl"
python3 tests/regress/replies.py "$R/tallygw.log" "$R/gw/tallygw.db" \
    "$D/inbox.jsonl" >"$D/replies"
expect "python3 judged the replies" "$?" 0
# shellcheck disable=SC2046
set -- $(tail -1 "$D/replies")
echo "# replies: $* (oracle: $extra second copies)"
grep -v '^moved' "$D/replies" | head -5 | cut -c1-200 | sed 's/^/#   /'
expect "no reply reached a phone twice unless its fate was unknown" \
    "${14}" 0
expect "each second copy the oracle saw is one of those" \
    "$([ "$extra" -le "${12}" ] && echo yes)" yes
ctl oracle >"$D/oracle.txt" 2>/dev/null
expect_match "every report was forwarded" \
    "$(grep -m1 'forwarded' "$D/oracle.txt")" \
    'forwarded ([0-9]+)/\1 '
expect "/status counts what the store holds, after the unplug and outage" \
    "$(t_counts "$R/gw")" "agree 17"
# (ready after start and after the restart, not after each send or sweep:
# of which there are over a hundred here)
expect_match "the gateway saw the modem go and come back" \
    "$(grep 'modem m1: worker .* -> ready' "$R/tallygw.log" |
    grep -vc 'sending -> ready\|sweeping -> ready')" '^([2-9]|[1-9][0-9])$'
expect_match "the gateway logged the central outage" \
    "$(grep -c 'retry_wait' "$R/tallygw.log")" '^[1-9]'
expect "no forward failed for good" "$(stat forward_failed)" 0

# The officer's other messages, about a TPS the scenario reported.
P=081299990001
X=$(ctl central | head -1 | sed -n 's/.*"tps":"\([0-9]*\)".*/\1/p')
expect_match "the central holds a TPS to ask about" "$X" '^[0-9]{13}$'
ctl inject --from $P --to 0 "BANTU" >/dev/null
ctl inject --from $P --to 0 "cek $X" >/dev/null
ctl inject --from $P --to 0 "selamat malam pak" >/dev/null
ctl inject --from $P --to 0 "PPWP $X 1 10 2 3 4 9 1 12345678" >/dev/null
wait_for 30 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$R' inbox --phone $P | wc -l) -ge 4 ]"
inbox=$(ctl inbox --phone $P)
expect_match "BANTU is answered with the format" "$inbox" 'PPWP'
expect_match "CEK answers with what is recorded" "$inbox" "$X.*[0-9]{8}"
expect_match "garbage is answered with a pointer to BANTU" "$inbox" \
    'BANTU'
expect_match "a bad code is rejected and said so" "$inbox" 'DITOLAK'
n=$(printf '%s\n' "$inbox" | wc -l)
expect "four messages, four replies" "$n" 4
other=$(stat other)
expect_match "CEK, BANTU and garbage are stored" "$other" '^[3-9]'
last=$(sqlite3 "$R/gw/tallygw.db" "SELECT max(id) FROM messages")
expect_match "tallyctl msg shows the stored verdict" \
    "$(gwctl msg "$last")" 'verdict: REJECTED'
expect_match "the rejected message keeps its reason" \
    "$(sqlite3 "$R/gw/tallygw.db" "SELECT reason FROM messages WHERE id=$last")" \
    'CODE_BAD'

# A NUL between the tokens of a UCS-2 SMS (tallysim reads modified
# UTF-8's C0 80 as U+0000) is a separator: the report is accepted with
# the numbers of the same report without it.
NUL=$(printf '\300\200')
PN=081299990003
code() { "$CTL" mac --key "$R/root.key" "$1" | awk '{ print $NF }'; }
ctl inject --from $PN --to 0 \
    "PPWP $X 91 30 10 10 5 25 5 $(code "PPWP $X 91 30 10 10 5 25 5")" \
    >/dev/null
ctl inject --from $PN --to 0 "PPWP${NUL}$X${NUL}92 30${NUL}${NUL}10~10 5 25${NUL}5 \
$(code "PPWP $X 92 30 10 10 5 25 5")" >/dev/null
wait_for 30 sh -c "[ \$(sqlite3 '$R/gw/tallygw.db' \"SELECT count(*) FROM messages WHERE sender = '+6281299990003'\") -ge 2 ]"
expect "a report with NULs between its tokens is accepted, same numbers" \
    "$(sqlite3 "$R/gw/tallygw.db" "SELECT seq, verdict IN ('OK', 'FLAGGED'), values_text FROM messages WHERE sender = '+6281299990003' ORDER BY seq")" \
    "91|1|30 10 10 5 25 5
92|1|30 10 10 5 25 5"

# tallyctl reply words a text as the gateway did: the rejection and
# BANTU above, and a confirmation the gateway stored (OK, correcting
# nothing, unflagged: what a report without history gets).
db() { sqlite3 "$R/gw/tallygw.db" "$@"; }
said() { db "SELECT text FROM replies WHERE msg_id = $1"; }
ok=$(db "SELECT id FROM messages WHERE verdict = 'OK' AND flags = 0 AND
    coalesce(supersedes, 0) = 0 ORDER BY id LIMIT 1")
bantu=$(db "SELECT max(id) FROM messages WHERE kind = 'bantu'")
expect_match "the gateway stored a plain confirmation" "$ok" '^[0-9]+$'
for id in "$last" "$bantu" "$ok"; do
	expect "tallyctl reply says what the gateway said (msg $id)" \
	    "$(timeout 10 "$CTL" reply --key "$R/root.key" \
	    --registry "$R/registry.db" \
	    "$(db "SELECT raw FROM messages WHERE id = $id")")" "$(said "$id")"
done

# Modems while the gateway runs.
expect "tallyctl modems lists three, under its header" \
    "$(gwctl modems | awk 'NR > 1 { print $1 }' | tr '\n' ' ')" "m0 m1 m2 "
gwctl modem disable m2 >/dev/null
expect "tallyctl modem disable" "$?" 0
wait_for 20 sh -c "timeout 5 '$CTL' modems --state '$R/gw' | grep -q '^m2 .* off/'"
rc=$?
expect "the disabled modem's worker is stopped" "$rc" 0
[ "$rc" -ne 0 ] && grep 'm2' "$R/tallygw.log" | tail -15 | sed 's/^/#   /'
gwctl modem enable m2 >/dev/null
expect "tallyctl modem enable" "$?" 0
wait_for 30 sh -c "timeout 5 '$CTL' modems --state '$R/gw' | grep -q '^m2 .* running/ready'"
rc=$?
expect "the enabled modem is ready again" "$rc" 0
[ "$rc" -ne 0 ] && grep 'm2' "$R/tallygw.log" | tail -15 | sed 's/^/#   /'
expect_rc "an unknown modem is refused" 1 gwctl modem disable m9
kill -TERM "$PID"
wait "$PID"
expect "the world stops on SIGTERM" "$?" 0
PID=

# --- part 2: tallygw killed in the middle ---------------------------

R2=$D/crash
mkdir -p "$R2"
"$SIM" run --dir "$R2/sim" --modems 2 --seed 5 >"$D/sim.out" 2>"$D/sim.err" &
PIDS="$PIDS $!"
t_track "$!"
wait_for 30 grep -q '^ready$' "$D/sim.out"
cp "$R/root.key" "$R/gateway.sec" "$R/gateway.pub" "$R2/"
# Registered KPPS numbers: one for the TPS asked about in part 1.
printf 'tps,number\n%s,+628111111111\n' "$X" >"$R2/kpps.csv"
chmod 600 "$R2/root.key" "$R2/gateway.sec"
"$SIM" central --dir "$R2/c" --pubkey "$R2/gateway.pub" >"$D/c.out" \
    2>"$D/c.err" &
PIDS="$PIDS $!"
t_track "$!"
wait_for 30 grep -q '^ready$' "$D/c.out"
{
	echo "[gateway]"
	echo "name = crash-gw"
	echo "state = $R2/gw"
	echo "key = $R2/root.key"
	echo "sign_key = $R2/gateway.sec"
	echo "registry = $R/registry.db"
	echo "kpps = $R2/kpps.csv"
	echo "[tunables]"
	echo "sweep_interval = 2"
	i=0
	timeout 10 "$SIM" ctl --dir "$R2/sim" modems --json |
	while read -r line; do
		num=$(printf '%s' "$line" | sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p')
		echo "[modem m$i]"
		echo "device = $R2/sim/modem$i"
		echo "number = $num"
		i=$((i + 1))
	done
	echo "[central sim]"
	echo "url = http://127.0.0.1:$(cat "$R2/c/central.port")/v1/reports"
} >"$R2/tallygw.conf"
"$GW" -n -f "$R2/tallygw.conf" 2>"$D/n.err"
expect "the hand-written config checks" "$?" 0

"$GW" -d -f "$R2/tallygw.conf" >"$D/gw1.out" 2>"$D/gw1.err" &
G=$!
t_track "$G"
wait_for 60 grep -q '^ready$' "$D/gw1.out"
expect "tallygw prints ready" "$?" 0
cp "$R/registry.db" "$R2/sim/registry.db" 2>/dev/null
timeout 30 "$SIM" ctl --dir "$R2/sim" scenario start --tps 15 --seed 9 \
    --key "$R2/root.key" --data "$DATA" >/dev/null
expect "the second scenario starts" "$?" 0
# Let part of it through, then kill the gateway without warning.
wait_for 60 sh -c "[ \$(sqlite3 '$R2/gw/tallygw.db' 'SELECT count(*) FROM messages' 2>/dev/null || echo 0) -ge 40 ]"
kill -KILL "$G"
wait "$G" 2>/dev/null
pkill -KILL -f "tallygw-modem -n m[01] -d $R2" 2>/dev/null
before=$(sqlite3 "$R2/gw/tallygw.db" "SELECT count(*) FROM messages")
expect_match "messages were stored before the crash" "$before" '^[1-9]'
"$GW" -d -f "$R2/tallygw.conf" >"$D/gw2.out" 2>"$D/gw2.err" &
G=$!
t_track "$G"
PIDS="$PIDS $G"
wait_for 60 grep -q '^ready$' "$D/gw2.out"
expect "tallygw starts again" "$?" 0
sctl() { timeout 30 "$SIM" ctl --dir "$R2/sim" "$@"; }
wait_for 180 sh -c "timeout 30 '$SIM' ctl --dir '$R2/sim' oracle --central-dir '$R2/c' >/dev/null"
sctl oracle --json --central-dir "$R2/c" >"$D/o2.json" 2>/dev/null
lost=$(grep -c '"check":"\(FORWARD_MISSING\|FORWARD_TWICE\|FORWARD_VALUES\|CONFIRM_MISSING\|REJECT_UNANSWERED\|LATEST_MISSING\|LATEST_WRONG\|RECEIPT_WRONG\)"' "$D/o2.json")
expect "after the crash nothing is lost or forwarded twice" "$lost" 0
[ "$lost" -ne 0 ] && grep '"check"' "$D/o2.json" | head -10 | sed 's/^/#   /'

# A valid report from a number not registered for its TPS is flagged.
rep() { "$CTL" mac --key "$R2/root.key" "PPWP $X $1 30 10 10 5 25 5"; }
sctl inject --from 081299990002 --to 0 "$(rep 51)" >/dev/null
sctl inject --from 08111111111 --to 0 "$(rep 52)" >/dev/null
wait_for 30 sh -c "[ \$(sqlite3 '$R2/gw/tallygw.db' \"SELECT count(*) FROM messages WHERE tps = $X\") -ge 2 ]"
expect "an unregistered number's report is FLAGGED SENDER" \
    "$(sqlite3 "$R2/gw/tallygw.db" "SELECT verdict, flags FROM messages WHERE tps = $X AND seq = 51")" \
    "FLAGGED|16"
expect "the registered number's report is OK" \
    "$(sqlite3 "$R2/gw/tallygw.db" "SELECT verdict, flags FROM messages WHERE tps = $X AND seq = 52")" \
    "OK|0"
t_stop "$G"

# --- part 3: a bad config -------------------------------------------

printf '[gateway]\nname = x\nstate = /tmp\n[modem m1]\ndevise = /dev/ttyUSB0\n' \
    >"$D/bad.conf"
out=$("$GW" -n -f "$D/bad.conf" 2>&1)
expect "tallygw -n refuses a bad config" "$?" 1
expect_match "it names the file and the line" "$out" 'bad.conf:5: '

finish
