#!/bin/sh
# System tests of the gateway's operator side: tallysim (3 modems), its
# central receiver and tallygw started by hand, with a config this test
# writes (tunables and send caps that `tallysim world' does not set).
#
# Part 1, daily send caps: m0 (Telkomsel, cap 2), m1 (Indosat, cap 2),
# m2 (Telkomsel, cap 3). Nine messages (reports and garbage, each from
# its own phone, one at a time) come in on m0: the replies go out on
# m0 until its cap, then on m2 (same operator), then on m1, and the last
# two wait as queued (not failed) while `tallyctl status' and `modems'
# say so. `tallyctl msg' shows the reply and forward rows. A reload that
# raises m1's cap lets the waiting replies go.
# Part 2, a hung worker: m1's worker is frozen with SIGSTOP; an SMS sent
# to m1 meanwhile waits on its SIM. The gateway must log the worker as
# hung after heartbeat_timeout, kill and restart it, show m1 running/ready
# again, and then store and answer that SMS.
# Part 3: tallygw restarted without caps still counts the day's sends.
# Part 4: the network refuses m0's sends: m0 rests, the replies go out
# through the other modems, and none is failed.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp gateway_ops
G=
PIDS=
cleanup() {
	# A frozen worker must not outlive the test.
	[ -n "$FROZEN" ] && kill -CONT "$FROZEN" 2>/dev/null
	t_tmp_end
}
FROZEN=
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v sqlite3 >/dev/null; then
	t_fail "$B/tallysim, tallygw, tallyctl are built; sqlite3 is installed"
	finish
	exit 1
fi

HB=12		# heartbeat_timeout: the workers beat every 5 s
DB=$D/gw/tallygw.db
sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }
gwctl() { timeout 10 "$CTL" "$@" --state "$D/gw"; }
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
# A count of the gateway's status table: stat NAME.
stat() { gwctl status | t_kv "$1"; }
# One column of one modem in the table of `tallyctl modems': mcol m0 SENT.
mcol() { gwctl modems | t_col "$1" "$2"; }
# The phone's received SMS, one JSON line each.
inbox() { sctl inbox --phone "$1"; }
dump_logs() {
	tail -25 "$D/gw.err" | sed 's/^/#   /'
}

t_sign_pair "$D"
"$CTL" keygen -o "$D/root.key"

"$SIM" run --dir "$D/sim" --modems 3 --seed 17 >"$D/sim.out" \
    2>"$D/sim.err" &
PIDS="$PIDS $!"
t_track "$!"
"$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err" &
PIDS="$PIDS $!"
t_track "$!"
if ! wait_for 30 grep -q '^ready$' "$D/sim.out" ||
    ! wait_for 30 grep -q '^ready$' "$D/c.out"; then
	t_fail "the simulator and the central receiver start"
	tail -5 "$D/sim.err" "$D/c.err" | sed 's/^/#   /'
	finish
	exit 1
fi
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
N1=$(sctl modems --json | sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p')
N2=$(sctl modems --json | sed -n '3s/.*"msisdn":"\([^"]*\)".*/\1/p')

# conf CAP0 CAP1 CAP2: the whole configuration, with those send caps.
conf() {
	cat <<EOF
[gateway]
name = ops-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec

[tunables]
heartbeat_timeout = $HB
restart_min = 1
reply_merge_wait = 0
sweep_interval = 600

[modem m0]
device = $D/sim/modem0
number = $N0
operator = Telkomsel
send_cap = $1

[modem m1]
device = $D/sim/modem1
number = $N1
operator = Indosat
send_cap = $2

[modem m2]
device = $D/sim/modem2
number = $N2
operator = Telkomsel
send_cap = $3

[central sim]
url = http://127.0.0.1:$(cat "$D/c/central.port")/v1/reports
EOF
}
conf 2 2 3 >"$D/tallygw.conf"
"$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err" &
G=$!
t_track "$G"
if wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_ok "tallygw is ready with three capped modems"
else
	t_fail "tallygw is ready with three capped modems"
	dump_logs
	finish
	exit 1
fi

# --- part 1: send caps ----------------------------------------------

# Message I (1..9) from phone 08120000010I: a report when I is odd,
# garbage when even. Each is injected once the one before is answered,
# so that which modem is free does not decide the route: the caps do.
phone() { echo "0812000001$(printf %02d "$1")"; }
text() {
	if [ $(($1 % 2)) -eq 1 ]; then
		"$CTL" mac --key "$D/root.key" \
		    "PPWP 32010120010$(printf %02d "$1") 1 100 30 40 20 90 10"
	else
		echo "selamat malam pak nomor $1"
	fi
}
sent() { q "SELECT count(*) FROM outbox WHERE state IN ('sent', 'delivered')"; }
i=1
while [ $i -le 9 ]; do
	sctl inject --from "$(phone $i)" --to 0 "$(text $i)" >/dev/null
	if [ $i -le 7 ]; then
		wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM outbox WHERE state IN ('sent', 'delivered')\")\" -ge $i ]"
	else
		wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM outbox')\" -ge $i ]"
	fi || { echo "# message $i: no reply row in time"; break; }
	i=$((i + 1))
done
expect "nine messages are stored" "$(q 'SELECT count(*) FROM messages')" 9
expect "seven replies went out, one at a time" "$(sent)" 7
expect "m0 sends up to its cap, then m2 (same operator), then m1" \
    "$(q "SELECT group_concat(modem, ' ') FROM (SELECT modem FROM outbox WHERE state IN ('sent', 'delivered') ORDER BY id)")" \
    "m0 m0 m2 m2 m2 m1 m1"
# Outbox rows 8 and 9 are messages 8 and 9: stay queued over several runs.
sleep 3
expect "with every modem at its cap the last two replies wait, queued" \
    "$(q "SELECT group_concat(state || '/' || attempts, ' ') FROM (SELECT state, attempts FROM outbox WHERE id > 7 ORDER BY id)")" \
    "queued/0 queued/0"
expect "tallyctl status counts them as queued, none failed" \
    "$(stat confirmed) $(stat replies_queued) $(stat reply_failed)" "7 2 0"
expect "tallyctl status: every modem is at its cap" "$(stat modems_capped)" 3
expect "tallyctl modems: m0 is at its cap (sent today, cap)" \
    "$(mcol m0 SENT) $(mcol m0 CAP)" "2 2"
expect "tallyctl modems: m1 is at its cap (sent today, cap)" \
    "$(mcol m1 SENT) $(mcol m1 CAP)" "2 2"
expect "tallyctl modems: m2 is at its cap (sent today, cap)" \
    "$(mcol m2 SENT) $(mcol m2 CAP)" "3 3"
expect "phones 8 and 9 have no reply yet" \
    "$(inbox "$(phone 8)" | wc -l) $(inbox "$(phone 9)" | wc -l)" "0 0"

# tallyctl msg: a report whose reply went out on m2 (message 3).
f0=$T_FAILED
id3=$(q "SELECT id FROM messages WHERE sender = '+62$(phone 3 | cut -c2-)'")
wait_for 20 sh -c "timeout 10 '$CTL' msg $id3 --state '$D/gw' | grep -q '^forward sim: acked'"
m3=$(gwctl msg "$id3")
expect_match "msg: the report was accepted" "$m3" '^verdict: OK$'
expect_match "msg: its reply SMS and phone" "$m3" \
    "^reply: sms [0-9]+ to \+62$(phone 3 | cut -c2-)\$"
expect_match "msg: the reply's text echoes the numbers" "$m3" \
    '^reply text: .*100.*'
expect_match "msg: sent on m2, came in on m0" "$m3" \
    '^reply modem: m2 \(came in on m0\)$'
expect_match "msg: one attempt" "$m3" '^reply attempts: 1$'
expect_match "msg: its state" "$m3" '^reply state: (sent|delivered)$'
expect_match "msg: when it was queued" "$m3" \
    '^reply queued at: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
expect_match "msg: when it was sent, with the message reference" "$m3" \
    '^reply sent at: [0-9-]+T[0-9:]+Z \(msgref [0-9]+\)$'
expect_match "msg: the status report" "$m3" \
    '^reply status report: (delivered at [0-9-]+T[0-9:]+Z|none yet)$'
expect_match "msg: forwarded to the central" "$m3" '^forward sim: acked$'
expect_match "msg: the central's answer" "$m3" \
    '^forward sim http status: 20[01]$'
expect_match "msg: when it was forwarded" "$m3" \
    '^forward sim acked at: [0-9-]+T[0-9:]+Z$'
# Garbage: answered, not forwarded.
id8=$(q "SELECT id FROM messages WHERE sender = '+62$(phone 8 | cut -c2-)'")
m8=$(gwctl msg "$id8")
expect_match "msg: a queued reply says so" "$m8" '^reply state: queued$'
expect_match "msg: no modem yet for a queued reply" "$m8" \
    '^reply modem: none yet \(came in on m0\)$'
expect_match "msg: garbage is not forwarded" "$m8" \
    '^forward: none \(only accepted reports are forwarded\)$'
# When one of these fails, the whole answers help.
[ "$T_FAILED" -gt "$f0" ] && printf '%s\n' "$m3" "$m8" | sed 's/^/#   /'

# The operator raises m1's cap: the waiting replies go out on it.
conf 2 5 3 >"$D/tallygw.conf"
gwctl reload >/dev/null
expect "tallyctl reload" "$?" 0
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM outbox WHERE state IN ('sent', 'delivered')\")\" -ge 9 ]"
expect "after the reload the waiting replies are sent" "$?" 0
wait_for 30 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $(phone 8) | wc -l) -ge 1 ] && [ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $(phone 9) | wc -l) -ge 1 ]"
expect "phones 8 and 9 get their replies" "$?" 0
expect_match "phone 9's reply came from m1" "$(inbox "$(phone 9)")" \
    "\"from\":\"\\$N1\""
expect "m1 counts them against its new cap" \
    "$(mcol m1 SENT) $(mcol m1 CAP)" "4 5"
expect "two modems are still at their cap" "$(stat modems_capped)" 2
all=0
for i in 1 2 3 4 5 6 7 8 9; do
	[ "$(inbox "$(phone $i)" | wc -l)" -eq 1 ] && all=$((all + 1))
done
expect "every one of the nine phones has exactly one reply" "$all" 9
expect "no reply failed" "$(stat reply_failed)" 0

# --- part 2: a hung worker ------------------------------------------

W=$(pgrep -f "tallygw-modem -n m1 -d $D/sim/modem1" | head -1)
expect_match "m1's worker is found" "$W" '^[0-9]+$'
PF=081200000200
kill -STOP "$W"
FROZEN=$W
t0=$(date +%s)
# Two lines, as a phone may send them: tallyctl msg keeps them on one.
sctl inject --from $PF --to 1 "halo,
ini pesan saat modem macet" >/dev/null
sleep 2
expect "the SMS waits on m1's SIM while the worker is frozen" \
    "$(q "SELECT count(*) FROM messages WHERE sender = '+62${PF#0}'")" 0
wait_for $((HB + 30)) grep -q 'modem m1: no frame for .* s: hung' "$D/gw.err"
rc=$?
expect "the gateway logs m1's worker as hung" "$rc" 0
[ "$rc" -ne 0 ] && dump_logs
t1=$(date +%s)
# Its last frame came at most 5 s (a heartbeat) before the freeze.
[ $((t1 - t0)) -ge $((HB - 6)) ]
expect "the hang is not noticed before heartbeat_timeout" "$?" 0
silent=$(sed -n 's/.*modem m1: no frame for \([0-9]*\) s: hung.*/\1/p' \
    "$D/gw.err" | head -1)
[ -n "$silent" ] && [ "$silent" -gt "$HB" ] && [ "$silent" -lt $((HB + 10)) ]
expect "the gateway waited heartbeat_timeout, and not much longer (${silent:-?} s)" "$?" 0
wait_for 10 sh -c "! kill -0 $W"
expect "the frozen worker is killed" "$?" 0
FROZEN=
wait_for 30 sh -c "timeout 5 '$CTL' modems --state '$D/gw' | grep -q '^m1 .* running/ready'"
rc=$?
expect "m1 is running/ready again" "$rc" 0
[ "$rc" -ne 0 ] && grep 'm1' "$D/gw.err" | tail -15 | sed 's/^/#   /'
W2=$(pgrep -f "tallygw-modem -n m1 -d $D/sim/modem1" | head -1)
expect_match "by a new worker process" "$W2" '^[0-9]+$'
[ -n "$W2" ] && [ "$W2" != "$W" ]
expect "the new worker is not the frozen one" "$?" 0
expect "tallyctl modems counts the restart" "$(mcol m1 RESTARTS)" 1
expect_match "the gateway logged the restart" \
    "$(grep 'modem m1:' "$D/gw.err")" 'worker hung; restart in [0-9]+ s'
expect "no other worker was taken as hung" \
    "$(grep -c 'no frame for .* s: hung' "$D/gw.err")" 1
wait_for 40 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $PF | wc -l) -ge 1 ]"
rc=$?
expect "the SMS sent during the freeze is answered" "$rc" 0
[ "$rc" -ne 0 ] && dump_logs
expect "and stored once, as received on m1" \
    "$(q "SELECT count(*), min(modem), min(kind) FROM messages WHERE sender = '+62${PF#0}'")" \
    "1|m1|other"
idf=$(q "SELECT id FROM messages WHERE sender = '+62${PF#0}'")
# The phone can have the reply before the gateway has the send's result.
wait_for 20 sh -c "timeout 10 '$CTL' msg '$idf' --state '$D/gw' | grep -q '^reply state: delivered'"
mf=$(gwctl msg "$idf")
expect_match "tallyctl msg: its reply was delivered" "$mf" \
    '^reply state: delivered$'
expect_match "tallyctl msg: on m1, where it came in" "$mf" \
    '^reply modem: m1 \(came in on m1\)$'
expect_match "tallyctl msg: a line break in the SMS is shown escaped" "$mf" \
    '^text: halo,\\nini pesan saat modem macet$'
wait_for 20 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' sim --modem 1 | grep -c .) -eq 0 ]"
expect "nothing is left on m1's SIM" \
    "$(sctl sim --modem 1 | grep -c .)" 0
expect "no reply failed or waits" "$(stat reply_failed) $(stat replies_queued)" \
    "0 0"

# --- part 3: the day's counts survive a restart ----------------------

t_stop "$G"
conf 0 0 0 >"$D/tallygw.conf"
"$GW" -d -f "$D/tallygw.conf" >"$D/gw2.out" 2>"$D/gw2.err" &
G=$!
t_track "$G"
wait_for 60 grep -q '^ready$' "$D/gw2.out"
expect "tallygw starts again, without caps" "$?" 0
ml=$(for m in m0 m1 m2; do printf '%s %s %s ' $m "$(mcol $m SENT)" \
    "$(mcol $m CAP)"; done)
expect "tallyctl modems: today's sends are counted from the store" \
    "$ml" "m0 2 0 m1 5 0 m2 3 0 "
expect "no modem is capped" "$(stat modems_capped)" 0

# --- part 4: the network refuses a modem's sends ---------------------
# m0's sends fail (+CMS ERROR: 42, congestion, as an operator's own cap
# answers): m0 rests, the replies go out through the others, and no
# reply is failed for it.
sctl fault --modem 0 cms 42 >/dev/null
expect "m0's sends are refused from now on" "$?" 0
PR=081200000201
sctl inject --from $PR --to 0 "apa kabar" >/dev/null
wait_for 45 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $PR | wc -l) -ge 1 ]"
expect "the phone still gets its reply" "$?" 0
expect_match "from another modem than m0" "$(inbox $PR)" \
    "\"from\":\"(\\$N1|\\$N2)\""
expect_match "m0 rests after the refusal" "$(mcol m0 HOLD)" '^[1-9][0-9]*$'
expect_match "the gateway logged the refusal" \
    "$(grep -c 'modem m0: send refused' "$D/gw2.err")" '^[1-9]'
PS2=081200000202
sctl inject --from $PS2 --to 0 "selamat malam" >/dev/null
wait_for 30 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $PS2 | wc -l) -ge 1 ]"
expect "a second message to m0 is answered too" "$?" 0
expect "and m0 was not tried again while it rests" \
    "$(grep -c 'modem m0: send refused' "$D/gw2.err")" 1
# The phone can have its reply before the gateway has the send's result:
# give the last result up to 20 s to come in.
i=0
while [ "$(stat reply_failed) $(stat replies_queued)" != "0 0" ] &&
    [ "$i" -lt 40 ]; do
	sleep 0.5
	i=$((i + 1))
done
expect "no reply failed or waits" "$(stat reply_failed) $(stat replies_queued)" \
    "0 0"
sctl fault --modem 0 cms off >/dev/null

t_stop "$G"
G=
finish
