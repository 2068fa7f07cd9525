#!/bin/sh
# Faults under load (issue 11; docs/reliability.md, "Faults under
# load"): a tallysim scenario's officers keep sending into a bank of
# five modems (realistic timing at x60) while tallysim's faults are
# switched on and off, some modems at a time, m4 always healthy:
#   m0  unplugged, then replugged; then `cms 330' on its sends
#   m1  `cms 38' on its sends; then its SIM full (`simfull')
#   m2  mute (answers nothing: a hung modem)
#   m3  answering garbage; then lost registration (`noreg')
#   all the operator's daily cap reached (`ctl timing --daily-cap N',
#       N the median of what the SIMs have sent: the busier ones are
#       refused at once, the others once they catch up), then lifted
#   the central receiver down for most of the night, then back.
# Each fault stays on for its time and until the test has seen it take
# effect (the gateway's alert or log, the simulator's log), so the suite
# cannot pass with a fault that did nothing. Once every fault is off:
# the backlog must drain within a time box (every reply sent, every
# forward acked, every SIM empty), then tallysim's oracle (sim/truth.c,
# not the gateway's verify) must find no report lost, none held twice at
# the central receiver, every accepted report confirmed; no reply may
# end `failed', and a reply whose send failed on a faulty modem must
# have gone out by another modem (or by the same one only after its
# fault was over).
#
# FAULTS_LONG=1 (make soak): more TPS, a five-minute night at x5, and
# once the faults above are over, until the night is played, tallysim's
# random faults (`fault --net random on': every 10 simulated seconds a
# modem unplugged, mute, refusing, unregistered, weak or garbled) and a
# network that loses, duplicates and reorders messages; then a lost or
# doubled message is the network's, and the oracle's checks are held to
# what the network did (below). FAULTS_SEED (default
# from the clock) seeds the simulator and the scenario; FAULTS_KEEP=1
# keeps the run's files. TAP; every wait is time-boxed.

. tests/regress/lib.sh

SEED=${FAULTS_SEED:-$(($(date +%s) % 100000))}
LONG=${FAULTS_LONG:-}
NM=5
# TPS, the seconds the phones send, the time scale, the seconds the
# backlog has to drain once the faults are over. The random faults come
# every 10 simulated seconds and last 2-20: at x5, one every 2 s.
if [ -n "$LONG" ]; then
	TPS=${FAULTS_TPS:-60}
	NIGHT_S=${FAULTS_NIGHT:-300}
	SCALE=${FAULTS_SCALE:-5}
	DRAIN=${FAULTS_DRAIN:-600}
else
	TPS=${FAULTS_TPS:-16}
	NIGHT_S=${FAULTS_NIGHT:-40}
	SCALE=${FAULTS_SCALE:-60}
	DRAIN=${FAULTS_DRAIN:-120}
fi
echo "# faults: seed $SEED, $TPS TPS over $NIGHT_S s at x$SCALE, $NM modems" \
    "${LONG:+(long) }(replay: FAULTS_SEED=$SEED${LONG:+ FAULTS_LONG=1})"

KEEP=${FAULTS_KEEP:-}
t_pieces faults

# The gateway's log so far, in bytes: where a fault went on or off.
at() { wc -c <"$D/gw.err"; }
# seen PATTERN FILE FROM: a line of FILE after its first FROM bytes
# matches (grep -E): evidence of a fault, logged after it went on.
seen() { tail -c "+$(($3 + 1))" "$2" | grep -Eq -- "$1"; }

# --- the pieces ---------------------------------------------------------

# No cap but the one the test sets.
t_sim "$NM" "$SEED" "$SCALE" -v
expect "tallysim runs $NM modems" "$(sctl modems --json | grep -c .)" "$NM"
t_keys
t_central

# Quick to notice and quick to come back: a hung worker in 20 s, a send
# without a result in 15 s, a refusing modem rested 2-4 s, replies and
# forwards retried within 4 s, health every 2 s; a modem down for 3 s
# and the central for 5 s raise their alerts.
t_gwconf faults-gw <<EOF
[tunables]
sweep_interval = 2
heartbeat_timeout = 20
send_timeout = 15
restart_max = 4
send_hold_min = 2
send_hold_max = 4
reply_retry_max = 4
forward_max = 4
health_interval = 2
[alerts]
modem_down = 3
central_down = 5
EOF

t_gw_first

# --- the faults ---------------------------------------------------------

# Each track runs its faults one after the other, in the background.
# A fault stays on at least MIN seconds and until its evidence is in
# the gateway's log (at most BOX seconds more), then goes off. Each on
# and off is a line of windows, `on|off MODEM KIND OFFSET' (OFFSET: the
# size of the gateway's log then); each evidence a line of evidence,
# `yes|no SECONDS NAME' (SECONDS since the fault went on).
GWL=$D/gw.err
: >"$D/windows"
: >"$D/evidence"
window() { echo "$1 $2 $3 $(at)" >>"$D/windows"; }

# proof BOX T0 FROM PATTERN NAME: wait up to BOX seconds for PATTERN in
# the gateway's log past FROM; the line of evidence either way.
proof() {
	if wait_for "$1" seen "$4" "$GWL" "$3"; then
		echo "yes $(($(now) - $2)) $5" >>"$D/evidence"
	else
		echo "no $(($(now) - $2)) $5" >>"$D/evidence"
	fi
}

# fault MODEM KIND ARG MIN BOX NAME PATTERN: on, held, off.
fault() {
	f_t0=$(now)
	f_from=$(at)
	window on "$1" "$2"
	sctl fault --modem "$1" "$2" $3 >/dev/null
	sleep "$4"
	proof "$5" "$f_t0" "$f_from" "$7" "$6"
	case $2 in
	unplug)	sctl fault --modem "$1" replug >/dev/null ;;
	cms)	sctl fault --modem "$1" cms off >/dev/null ;;
	*)	sctl fault --modem "$1" "$2" off >/dev/null ;;
	esac
	window off "$1" "$2"
}

track_m0() {
	sleep 2
	fault 0 unplug "" 8 40 "m0 unplugged: alert modem_down m0" \
	    'alert: raised: modem_down m0'
	sleep 3
	fault 0 cms 330 5 40 "m0 cms 330: a send refused with 330" \
	    'send refused \(m0: error 330'
}
track_m1() {
	sleep 2
	fault 1 cms 38 5 40 "m1 cms 38: a send refused with 38" \
	    'send refused \(m1: error 38'
	sleep 2
	fault 1 simfull "" 8 40 "m1 SIM full: alert sim_full m1" \
	    'alert: raised: sim_full m1'
}
track_m2() {
	sleep 6
	fault 2 mute "" 10 60 "m2 mute: alert modem_down m2" \
	    'alert: raised: modem_down m2'
}
track_m3() {
	sleep 4
	fault 3 noreg "" 8 40 "m3 noreg: a send refused with 331" \
	    'send refused \(m3: error 331'
	sleep 3
	fault 3 garbage "" 3 40 "m3 garbage: its worker broke or hung" \
	    'modem m3: ([a-z]+ -> broken|no frame for)'
}
# The operator's cap, for the whole bank: N the median of what the SIMs
# sent so far, at least 1 (0 is no cap).
track_cap() {
	sleep 24
	c_t0=$(now)
	c_from=$(at)
	n=$(sctl modems --json | sed -n 's/.*"sent":\([0-9]*\).*/\1/p' |
	    sort -n | sed -n "$((NM / 2 + 1))p")
	[ "${n:-0}" -ge 1 ] || n=1
	window on all cap
	sctl timing --profile realistic --scale "$SCALE" \
	    --daily-cap "$n" >/dev/null
	sleep 6
	proof 40 "$c_t0" "$c_from" 'send refused \(m[0-9]: error 42' \
	    "the daily cap at $n: a send refused with 42"
	sctl timing --profile realistic --scale "$SCALE" --daily-cap 0 \
	    >/dev/null
	window off all cap
}
# The central receiver down until every other fault is over (started
# again by the suite itself, which then ends it at its exit).
track_central() {
	sleep 3
	c_t0=$(now)
	c_from=$(at)
	window on central down
	kill "$CPID"
	sleep 30
	proof 40 "$c_t0" "$c_from" 'alert: raised: central_down sim' \
	    "central down: alert central_down sim"
}

NIGHT=$((NIGHT_S * SCALE))
t_scenario "the scenario starts" "$TPS" "$SEED" "$NIGHT"
T0=$(now)
TRACKS=
for t in m0 m1 m2 m3 cap central; do
	"track_$t" &
	t_track $!
	TRACKS="$TRACKS $!"
done
# shellcheck disable=SC2086
wait $TRACKS
t_central
rc=$?
expect "the central receiver is back (at $(($(now) - T0)) s)" "$rc" 0
window off central down
if [ -n "$LONG" ]; then
	echo "# random faults and a lossy network from $(($(now) - T0)) s"
	sctl fault --net lose 5 >/dev/null
	sctl fault --net dup 10 >/dev/null
	sctl fault --net reorder 50 >/dev/null
	sctl fault --net random on >/dev/null
	wait_for $((NIGHT_S + 300)) sh -c "timeout 30 '$SIM' ctl --dir '$S' \
	    scenario status --json | grep -q '\"state\":\"done\"'"
	sctl fault --net random off >/dev/null
	sctl fault --net clear >/dev/null
	sctl fault --modem all clear >/dev/null
fi
TF=$(now)
echo "# faults over at $((TF - T0)) s"
while read -r ok secs name; do
	expect "fault took effect: $name ($secs s)" "$ok" yes
done <"$D/evidence"
expect "every fault was tried" "$(grep -c . "$D/evidence")" 9

# --- the backlog drains ------------------------------------------------

played() {
	sctl scenario status --json | grep -q '"state":"done"'
}
# Nothing owed: no reply waiting or on its way, every forward acked,
# every SIM empty, nothing held by the network.
drained() {
	played &&
	[ "$(db "SELECT (SELECT count(*) FROM outbox WHERE state IN
	    ('queued', 'sending')) + (SELECT count(*) FROM replies WHERE
	    out_id IS NULL) + (SELECT count(*) FROM forwards WHERE state
	    <> 'acked')")" = 0 ] &&
	! sctl modems --json | grep -v '"sim_used":0,' | grep -q . &&
	sctl stats --json | grep -q '"queued":0[,}]'
}
# Twice, 3 s apart: a message the network held back may still come.
drained_twice() { drained && sleep 3 && drained; }
wait_for "$DRAIN" drained_twice
expect "the backlog drains within $DRAIN s of the last fault" "$?" 0
TD=$(now)
echo "# drained $((TD - TF)) s after the faults ended ($((TD - T0)) s in all)"
echo "# left: $(db "SELECT state || ' ' || count(*) FROM outbox GROUP BY
    state" | tr '\n' ' ')/ forwards $(db "SELECT state || ' ' || count(*)
    FROM forwards GROUP BY state" | tr '\n' ' ')/ SIMs $(sctl modems --json |
    sed -n 's/.*"sim_used":\([0-9]*\).*/\1/p' | tr '\n' ' ')"

t_oracle
sctl stats --json >"$D/stats.json"
LOST=$(sed -n 's/.*"lost":\([0-9]*\).*/\1/p' "$D/stats.json")
checks=$(grep '"check"' "$D/oracle.json" |
    sed -n 's/.*"check":"\([A-Z_]*\)".*/\1/p')
# A second copy of a reply (CONFIRM_EXTRA, REPLY_EXTRA) is judged below,
# SMS by SMS.
if [ -z "$LONG" ]; then
	expect "the oracle finds nothing lost, nothing twice, every report confirmed" \
	    "$(printf '%s\n' "$checks" | grep -v '_EXTRA$' | grep -c .)" 0
else
	# A message the network lost is missing a reply, its forward and
	# so on: a few discrepancies each; one it doubled is a second
	# report, answered again. Nothing is ever counted twice at the
	# central.
	echo "# network: $LOST messages lost"
	expect "every missing reply or forward is the network's ($LOST lost)" \
	    "$(printf '%s\n' "$checks" | grep -Ec \
	    'MISSING|UNANSWERED|LATEST_WRONG' | awk -v l="$LOST" \
	    '{ print ($1 <= 3 * l) }')" 1
	expect "the oracle finds nothing else" "$(printf '%s\n' "$checks" |
	    grep -Ev 'MISSING|UNANSWERED|LATEST_WRONG|_EXTRA$' |
	    grep -c .)" 0
fi
grep '"check"' "$D/oracle.json" | head -10 | cut -c1-300 | sed 's/^/#   /'
t_records
expect "no reply failed for good" \
    "$(db "SELECT count(*) FROM outbox WHERE state = 'failed'")" 0

# --- replies: moved off faulty modems, sent twice only when unknown -----

# tests/regress/replies.py judges the replies from the gateway's log,
# its store, the phones' inboxes and the windows of the faults: a reply
# whose send failed on a faulty modem must have gone out by another (or
# by the same one after its fault), and a phone may hold a reply twice
# only for an attempt whose fate nobody knew.
t_inboxes >"$D/inbox.jsonl"
python3 tests/regress/replies.py "$GWL" "$G/tallygw.db" "$D/inbox.jsonl" \
    "$D/windows" >"$D/replies"
expect "python3 judged the replies" "$?" 0
tail -1 "$D/replies" | sed 's/^/# /'
# shellcheck disable=SC2046
set -- $(tail -1 "$D/replies")
expect_match "replies that failed on a faulty modem went out by another ($2)" \
    "$2" '^[1-9]'
expect "no reply failed on a faulty modem and stayed with it" "$6" 0
expect "no reply reached a phone twice unless its fate was unknown" \
    "${14}" 0
expect "no reply went back to a modem in its fault while others worked" \
    "${16}" 0
grep -v '^moved' "$D/replies" | head -5 | cut -c1-200 | sed 's/^/#   /'
echo "# $(grep -c 'alert: raised' "$GWL") alerts raised," \
    "$(grep -c 'alert: cleared' "$GWL") cleared;" \
    "$(grep -c 'send refused (' "$GWL") sends refused;" \
    "$(db "SELECT count(*) FROM outbox") SMS sent"
echo "# total $(($(now) - T0)) s"
[ "$T_FAILED" -gt 0 ] && KEEP=1
finish
