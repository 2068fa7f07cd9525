#!/bin/sh
# Poison SMS (docs/modem.md, "Poison messages"; issue 11): PDUs out of
# 23.040's bounds on which libGammu 1.42's decoder overflows
# (tests/regress/poison.py makes them and says where each overflows),
# put raw on a modem's SIM (tallysim ctl inject-pdu), then a valid
# report to the same modem. Without the worker's guard, A crashes the
# worker (stack smashing), which is restarted, reads the same slot and
# crashes again, and F makes libGammu write over the sender it decoded.
# With it: no worker restarted, no sanitizer report (tallygw and the
# worker built with ASan and UBSan when they are, as in hostile.sh),
# each poison SMS stored as an undecodable message, its PDU in hex and
# why, answered when its sender could be read, deleted from the SIM;
# the report after them stored and confirmed. TAP; every wait is
# time-boxed.

. tests/regress/lib.sh

BB=$(cd "$B" 2>/dev/null && pwd)
SIM=$BB/tallysim
GW=$BB/asan/tallygw
CTL=$BB/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/poison.XXXXXX)
D=$(cd "$D" && pwd -P)
R=$D/run
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$GW" ] || [ ! -x "$BB/asan/tallygw-modem" ]; then
	echo "# no ASan build of tallygw and its worker: the plain one"
	GW=$BB/tallygw
fi
if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] || [ ! -d "$DATA" ]
then
	t_fail "$B/tallysim, $B/tallygw, $B/tallyctl are built, $SHARED" \
	    "has the data"
	finish
	exit 1
fi

ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }
db() { sqlite3 "$R/gw/tallygw.db" "$1"; }
python3 tests/regress/poison.py >"$D/pdus"
expect "poison.py makes the five PDUs" "$(wc -l <"$D/pdus")" 5
pdu() { sed -n "s/^$1 //p" "$D/pdus"; }

mkdir -p "$R" "$D/san"
cat >"$D/gw.sh" <<EOF
#!/bin/sh
ASAN_OPTIONS=log_path=$D/san/asan:detect_leaks=1 \\
UBSAN_OPTIONS=log_path=$D/san/ubsan:print_stacktrace=1:halt_on_error=1 \\
    exec "$GW" "\$@"
EOF
chmod 755 "$D/gw.sh"
if ! t_world "$R" --modems 1 --seed 7 --profile instant --data "$DATA" \
    --tallygw "$D/gw.sh"; then
	finish
	exit 1
fi
W=$T_WORLD

# The poison first, each as the network would store it (C as a status
# report), then the report, all on modem 0's SIM.
for k in A B C D F; do
	case $k in C) r=--report ;; *) r= ;; esac
	ctl inject-pdu --to 0 $r "$(pdu $k)" >/dev/null
	expect "tallysim takes PDU $k" "$?" 0
done
X=6501011001001
REPORT=$("$CTL" mac --key "$R/root.key" "PPWP $X 1 269 63 181 16 260 9")
P=081299990001
ctl inject --from $P --to 0 "$REPORT" >/dev/null
wait_for 60 sh -c "[ \$(sqlite3 '$R/gw/tallygw.db' \
    'SELECT count(*) FROM messages') -ge 6 ]"
expect "six messages stored" "$(db 'SELECT count(*) FROM messages')" 6

# Each poison SMS: stored once, kind other, its PDU in hex as the modem
# showed it, and why in the detail.
for k in A B C D F; do
	expect "PDU $k is stored once with its PDU kept" \
	    "$(db "SELECT count(*) FROM messages WHERE raw = '$(pdu $k)' \
	    AND kind = 'other' AND detail LIKE 'undecodable SMS%'")" 1
done
why() { db "SELECT detail FROM messages WHERE raw = '$(pdu $1)'"; }
expect_match "A: why is the 7-bit length" "$(why A)" \
    '7-bit user data of 170 characters'
expect_match "B: why is the header" "$(why B)" 'user data header of 256'
expect_match "C: why is the status report's data" "$(why C)" \
    '7-bit user data of 170 characters'
expect_match "D: why is the SUBMIT's data" "$(why D)" \
    '7-bit user data of 170 characters'
expect_match "F: why is the header" "$(why F)" 'user data header of 170'
expect "F is stored from its real sender, not the one it forges" \
    "$(db "SELECT sender FROM messages WHERE raw = '$(pdu F)'")" \
    +6281234567895

# The report after them: stored and confirmed.
expect_match "the report after the poison is stored" \
    "$(db "SELECT kind, verdict FROM messages WHERE tps = $X AND seq = 1")" \
    '^report\|(OK|FLAGGED)$'
wait_for 60 sh -c "timeout 30 '$SIM' ctl --dir '$R' inbox --phone $P |
    grep -q '$X'"
expect "the report is confirmed on the officer's phone" "$?" 0

# Senders that could be read are told to send again; the status report
# and the SUBMIT have none and get nothing.
for n in 1 2 5; do
	wait_for 30 sh -c "timeout 30 '$SIM' ctl --dir '$R' inbox \
	    --phone +628123456789$n | grep -q 'Kirim lagi'"
	expect "+628123456789$n is told to send again" "$?" 0
done
expect "no reply to the status report's or the SUBMIT's number" \
    "$(db "SELECT count(*) FROM outbox WHERE dest IN \
    ('+6281234567893', '+6281234567894', '')")" 0

# Deleted from the SIM, and the worker never restarted.
wait_for 30 sh -c "[ -z \"\$(timeout 30 '$SIM' ctl --dir '$R' sim \
    --modem 0)\" ]"
expect "modem 0's SIM is empty" "$(ctl sim --modem 0)" ""
expect "the worker was started once" \
    "$(grep -c 'bank: modem m0: worker pid' "$R/tallygw.log")" 1
expect "the worker handed each PDU up raw" \
    "$(grep -c 'cannot be decoded (.*): handed up raw' "$R/tallygw.log")" 5
kill -TERM "$W"
wait "$W"
expect "the world stops on SIGTERM" "$?" 0
expect "no sanitizer report (ASan, UBSan, LeakSanitizer)" \
    "$(ls "$D/san" | wc -l)" 0
for f in "$D"/san/*; do
	[ -f "$f" ] && head -30 "$f" | sed 's/^/#   /'
done
finish
