#!/bin/sh
# tallysim against the real gammu command line (Debian's gammu, libGammu's
# AT driver), unmodified: identify, getallsms, geteachsms, sendsms,
# deletesms, getussd, monitor.  If gammu disagrees, tallysim is wrong.
# TAP output; exits non-zero on any failure.  Every wait is time-boxed.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
n=0
failed=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; failed=1; }
check() { d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d"; fi; }

if ! command -v gammu >/dev/null 2>&1; then
	echo "not ok 1 - gammu is not installed (apt-get install gammu)"
	exit 1
fi
if [ ! -x "$SIM" ]; then
	echo "not ok 1 - $B/tallysim not built"
	exit 1
fi

T=$(mktemp -d /tmp/sim_gammu.XXXXXX)
PID=
cleanup() {
	t_cleanup
	rm -rf "$T"
}
t_trap cleanup

G() { timeout 90 gammu -c "$T/gammurc" "$@"; }
ctl() { timeout 20 "$SIM" ctl --dir "$T/run" "$@"; }

"$SIM" run --dir "$T/run" --modems 2 --seed 42 >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
t_track "$PID"
if wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	ok "tallysim run prints ready"
else
	notok "tallysim run prints ready"
	cat "$T/sim.err"
	exit 1
fi
check "modem0 and modem1 links exist" test -e "$T/run/modem0" -a -e "$T/run/modem1"
check "ctl.sock exists" test -S "$T/run/ctl.sock"

printf '[gammu]\ndevice = %s\nconnection = at\n' "$T/run/modem0" >"$T/gammurc"
ctl modems --json >"$T/modems.json"
MSISDN=$(sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p' "$T/modems.json")
IMEI=$(sed -n '1s/.*"imei":"\([^"]*\)".*/\1/p' "$T/modems.json")
IMSI=$(sed -n '1s/.*"imsi":"\([^"]*\)".*/\1/p' "$T/modems.json")

# identify
G identify >"$T/identify" 2>&1
check "gammu identify: manufacturer" grep -q 'Manufacturer *: Tallysim' "$T/identify"
check "gammu identify: IMEI $IMEI" grep -q "IMEI *: $IMEI" "$T/identify"
check "gammu identify: IMSI $IMSI" grep -q "SIM IMSI *: $IMSI" "$T/identify"

# inject, then getallsms
ctl inject --from 081234567890 --to 0 "PPWP 3201012001001 S1 01 120 02 85 03 97" >/dev/null
check "inject reaches the SIM" wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q 'PPWP 3201012001001'"
G getallsms >"$T/getall" 2>&1
check "gammu getallsms: text" grep -q '^PPWP 3201012001001 S1 01 120 02 85 03 97$' "$T/getall"
check "gammu getallsms: sender" grep -q 'Remote number *: "+6281234567890"' "$T/getall"

# deletesms
G deletesms 1 1 >"$T/delete" 2>&1
check "gammu deletesms exits 0" test $? -eq 0
check "SIM empty after deletesms" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q ."
G getallsms >"$T/getall2" 2>&1
check "gammu getallsms after delete shows nothing" sh -c "! grep -q 'PPWP' '$T/getall2'"

# sendsms to a phone number, then the phone's inbox
G sendsms TEXT 081298765432 -text "OK TPS 001 diterima, kode R7K2" >"$T/send" 2>&1
check "gammu sendsms exits 0" test $? -eq 0
check "gammu sendsms got a message reference" grep -q 'message reference=' "$T/send"
ctl inbox --phone 6281298765432 >"$T/inbox"
check "phone inbox has the text" grep -q '"text":"OK TPS 001 diterima, kode R7K2"' "$T/inbox"
check "phone inbox has the sender $MSISDN" grep -q "\"from\":\"$MSISDN\"" "$T/inbox"
check "phone inbox has an ISO 8601 time" grep -q '"time":"[0-9-]*T[0-9:]*Z"' "$T/inbox"

# a long text from gammu arrives reassembled
LONG="Laporan panjang: $(i=0; while [ $i -lt 40 ]; do printf 'angka%d ' $i; i=$((i + 1)); done)akhir"
G sendsms TEXT +6281298765432 -len 400 -text "$LONG" >"$T/send2" 2>&1
check "gammu sendsms of a long text exits 0" test $? -eq 0
ctl inbox --phone +6281298765432 >"$T/inbox2"
check "phone inbox has the long text reassembled" grep -qF "\"text\":\"$LONG\"" "$T/inbox2"

# getussd
ctl modems --json >"$T/modems2.json"
BAL=$(sed -n '1s/.*"balance":\([0-9]*\).*/\1/p' "$T/modems2.json")
RP=$(echo "$BAL" | sed 's/\([0-9]\)\([0-9][0-9][0-9]\)$/\1.\2/')
G getussd '*888#' >"$T/ussd" 2>&1
check "gammu getussd *888#: balance Rp$RP" grep -q "Service reply *: \"Sisa pulsa Anda Rp$RP\. Aktif s\.d\. [0-9-]*\"" "$T/ussd"

# monitor
G monitor 1 >"$T/monitor" 2>&1
check "gammu monitor: home network" grep -q 'Network state *: home network' "$T/monitor"
check "gammu monitor: signal strength" grep -q 'Signal strength *: -[0-9]* dBm' "$T/monitor"
check "gammu monitor: SIM SMS status" grep -q 'SIM SMS status *: 0 used, 0 unread, 30 locations' "$T/monitor"

# a long inject read back as linked parts
LONG2="$(i=0; while [ $i -lt 60 ]; do printf 'kata%d ' $i; i=$((i + 1)); done)selesai"
ctl inject --from +6285712345678 --to "$MSISDN" "$LONG2" >"$T/inj3"
check "long inject is split into 3 parts" grep -q 'injected 3 parts' "$T/inj3"
wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' sim --modem 0 | grep -c . | grep -q 3"
G getallsms >"$T/getall3" 2>&1
check "gammu getallsms: part 1 of 3" grep -q 'Concatenated (linked) message, ID (8 bit) [0-9]*, part 1 of 3' "$T/getall3"
check "gammu getallsms: part 3 of 3" grep -q 'Concatenated (linked) message, ID (8 bit) [0-9]*, part 3 of 3' "$T/getall3"
G geteachsms >"$T/geteach" 2>&1
check "gammu geteachsms: linked into one text" grep -qF "$LONG2" "$T/geteach"
check "gammu geteachsms: 3 parts in 1 sequence" grep -q '3 SMS parts in 1 SMS sequences' "$T/geteach"
G deletesms 1 1 3 >/dev/null 2>&1

# UCS-2
ctl inject --from 081234567890 --to 0 "Terima kasih — data diterima ✓" >/dev/null
wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q 'Terima'"
G getallsms >"$T/getall4" 2>&1
check "gammu getallsms: UCS-2 coding" grep -q 'Coding *: Unicode (no compression)' "$T/getall4"
check "gammu getallsms: UCS-2 text" grep -q 'Terima kasih — data diterima ✓' "$T/getall4"

# faults: lost registration and weak signal, as gammu sees them
ctl fault --modem 0 noreg 3 >/dev/null
ctl fault --modem 0 signal 3 >/dev/null
G monitor 1 >"$T/monitor2" 2>&1
check "fault noreg 3: gammu monitor sees registration denied" grep -q 'Network state *: registration to network denied' "$T/monitor2"
check "fault signal 3: gammu monitor sees -107 dBm" grep -q 'Signal strength *: -107 dBm' "$T/monitor2"
ctl fault --modem 0 clear >/dev/null

# faults: the modem refuses to send, then sends again
ctl fault --modem 0 cms 38 >/dev/null
G sendsms TEXT 081298765432 -text "gagal" >"$T/send3" 2>&1
check "send fails while fault cms 38 is on" test $? -ne 0
ctl fault --modem 0 cms off >/dev/null
# unplug and replug: the link comes back and gammu works again
ctl fault --modem 0 unplug >/dev/null
check "unplug removes the link" test ! -e "$T/run/modem0"
ctl fault --modem 0 replug >/dev/null
check "replug restores the link" test -e "$T/run/modem0"
G identify >"$T/identify2" 2>&1
check "gammu identify after replug" grep -q "IMEI *: $IMEI" "$T/identify2"

kill "$PID"
wait_for 10 sh -c "! kill -0 $PID"
check "SIGTERM stops tallysim" sh -c "! kill -0 $PID"
PID=
check "links and ctl.sock removed on exit" sh -c "! ls '$T/run' | grep -q ."

echo "1..$n"
exit $failed
