#!/bin/sh
# tallysim against smstools' smsd (Debian package smstools), unmodified,
# run in the foreground with its own config, spool and log in a temp
# dir (never the system service): receiving into incoming/, sending
# from outgoing/, short and long messages.  TAP; time-boxed waits.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
SMSD=$(command -v smsd || echo /usr/sbin/smsd)
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }

if [ ! -x "$SMSD" ]; then
	echo "not ok 1 - smsd is not installed (apt-get install smstools)"
	exit 1
fi
if [ ! -x "$SIM" ]; then
	echo "not ok 1 - $B/tallysim not built"
	exit 1
fi

T=$(mktemp -d /tmp/sim_smsd.XXXXXX)
PID=
SPID=
cleanup() {
	t_cleanup
	rm -rf "$T"
}
t_trap cleanup

ctl() { timeout 20 "$SIM" ctl --dir "$T/run" "$@"; }

"$SIM" run --dir "$T/run" --modems 1 --seed 7 >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
t_track "$PID"
if wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	ok "tallysim run prints ready"
else
	notok "tallysim run prints ready"
	exit 1
fi
MSISDN=$(ctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')

mkdir -p "$T/incoming" "$T/outgoing" "$T/checked" "$T/failed" "$T/sent"
cat >"$T/smsd.conf" <<EOF
devices = GSM1
outgoing = $T/outgoing
checked = $T/checked
failed = $T/failed
incoming = $T/incoming
sent = $T/sent
logfile = $T/smsd.log
loglevel = 7
infofile = $T/smsd.working
pidfile = $T/smsd.pid
delaytime = 1
delaytime_mainprocess = 1
autosplit = 3

[GSM1]
device = $T/run/modem0
incoming = yes
rtscts = no
baudrate = 115200
EOF

# -t: foreground, in this terminal; no fork into the background.
"$SMSD" -t -c "$T/smsd.conf" >"$T/smsd.out" 2>&1 &
SPID=$!
t_track "$SPID"
check "smsd initialises the modem" wait_for 30 grep -q 'Used memory is' "$T/smsd.log"

# receiving
ctl inject --from 0812-5555-1234 --to 0 "PPWP 3201012001001 S1 01 120 02 85 03 97" >/dev/null
if wait_for 30 sh -c "ls '$T/incoming' | grep -q ."; then
	ok "injected SMS appears in incoming/"
else
	notok "injected SMS appears in incoming/"
fi
F=$(ls "$T/incoming"/* 2>/dev/null | head -1)
check "incoming file: From: 6281255551234" grep -q '^From: 6281255551234$' "$F"
check "incoming file: text" grep -q '^PPWP 3201012001001 S1 01 120 02 85 03 97$' "$F"
check "smsd deleted it from the SIM" wait_for 15 sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q ."

# sending
printf 'To: 6281298765432\n\nOK TPS 3201012001001 diterima, kode R7K2\n' >"$T/outgoing/reply1"
check "outgoing file is sent" wait_for 30 test -f "$T/sent/reply1"
check "phone inbox has smsd's text" wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' inbox --phone 6281298765432 | grep -q '\"text\":\"OK TPS 3201012001001 diterima, kode R7K2\"'"
check "phone inbox: from $MSISDN" sh -c "'$SIM' ctl --dir '$T/run' inbox --phone 6281298765432 | grep -q '\"from\":\"$MSISDN\"'"

# a long message: smsd splits it (autosplit 3, UDH), the phone gets one
LONG="Laporan: $(i=0; while [ $i -lt 40 ]; do printf 'nilai%d ' $i; i=$((i + 1)); done)akhir"
printf 'To: 6281298765432\n\n%s\n' "$LONG" >"$T/outgoing/reply2"
check "long outgoing file is sent" wait_for 40 test -f "$T/sent/reply2"
check "phone inbox has the long text in one piece" wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' inbox --phone 6281298765432 | grep -qF '\"text\":\"$LONG\"'"

# a long message received: smsd gets every part
LONG2="$(i=0; while [ $i -lt 50 ]; do printf 'kata%d ' $i; i=$((i + 1)); done)selesai"
ctl inject --from +6285712345678 --to "$MSISDN" "$LONG2" >"$T/inj2"
check "long inject is split into parts" grep -q 'injected [2-9] parts' "$T/inj2"
# smsd's internal_combine (default yes) joins the parts into one file.
check "smsd receives the long text joined" wait_for 40 sh -c "grep -lF '$LONG2' '$T/incoming'/* | xargs grep -l '^From: 6285712345678'"

# a SIM that is full: the network keeps the message and retries
ctl fault --modem 0 simfull on >/dev/null
ctl inject --from 081311112222 --to 0 "ditahan jaringan" >/dev/null
sleep 3
check "nothing arrives while the SIM is full" sh -c "! grep -l 'ditahan jaringan' '$T/incoming'/*"
ctl fault --modem 0 simfull off >/dev/null
check "the held message arrives after room is made" wait_for 40 sh -c "grep -l 'ditahan jaringan' '$T/incoming'/*"

kill "$SPID" 2>/dev/null
wait "$SPID" 2>/dev/null
SPID=
check "no message failed" sh -c "! ls '$T/failed' | grep -q ."

echo "1..$n"
if [ "$failed" -ne 0 ]; then
	echo "# smsd log tail:"
	tail -30 "$T/smsd.log" | sed 's/^/# /'
fi
exit $failed
