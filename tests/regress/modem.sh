#!/bin/sh
# The modem worker (tallygw-modem) against tallysim, driven through
# wiredrive as the main process would: start-up and the initial sweep,
# +CMTI delivery, a 3-part message, delete, send with a status report,
# UCS-2 both ways (a NUL inside), USSD balance, and the faults unplug, cms and mute.
# TAP output; every wait is time-boxed; about 50 s.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
WORKER=$B/tallygw-modem
DRIVE=$B/tests/tools/wiredrive

for p in "$SIM" "$WORKER" "$DRIVE"; do
	if [ ! -x "$p" ]; then
		echo "not ok 1 - $p not built"
		exit 1
	fi
done

T=$(mktemp -d /tmp/modem.XXXXXX)
SPID=
DPID=
D1PID=
cleanup() {
	exec 4>&- 5>&- 2>/dev/null
	t_cleanup
	if [ "$T_FAILED" -gt 0 ] 2>/dev/null; then
		echo "# worker log (modem0):"
		tail -40 "$T/err" 2>/dev/null | sed 's/^/#   /'
	fi
	rm -rf "$T"
}
t_trap cleanup

ctl() { timeout 20 "$SIM" ctl --dir "$T/run" "$@"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }

# The output of wiredrive, from the line after the last mark.
OUT=$T/out
MARK=0
mark() { MARK=$(wc -l <"$OUT"); }
since() { tail -n +$((MARK + 1)) "$OUT"; }
seen() { since | grep -Eq -- "$1"; }
seen_n() { test "$(since | grep -Ec -- "$1")" -ge "$2"; }
line() { since | grep -E -- "$1" | head -1; }
# await DESCRIPTION SECONDS REGEX: a TAP line; 0 if it came.
await() {
	if wait_for "$2" seen "$3"; then
		t_ok "$1"
		return 0
	fi
	t_fail "$1"
	echo "#   no line /$3/ within $2 s; got:"
	since | grep -v '^HEARTBEAT' | tail -8 | sed 's/^/#     /'
	return 1
}
cmd() { printf '%s\n' "$*" >&4; }
# The identity a DELETE names (docs/design.md, "Deleting what was meant")
# of a printed SMS line, computed here: "TIME REF/PART #FNV-1a(text)",
# "TIME #FNV-1a(text)" for a single SMS. Texts here have no escapes.
ident() {
	python3 -c '
import re, sys
l = sys.argv[1]
f = dict(re.findall(r" (\w+)=(\S*)", l.split(" text=")[0]))
h = 0x811c9dc5
for b in l.split(" text=", 1)[1].encode():
	h = ((h ^ b) * 0x01000193) & 0xffffffff
if int(f["total"]) > 1:
	print("%s %s/%s #%08x" % (f["time"], f["ref"], f["part"], h))
else:
	print("%s #%08x" % (f["time"], h))' "$1"
}
# AT+CMGR (read one message) the worker has sent so far (libGammu's log).
cmgr() { grep -c '"AT+CMGR=' "$T/gammu.log" 2>/dev/null || echo 0; }

"$SIM" run --dir "$T/run" --modems 2 --seed 7 >"$T/sim.out" 2>"$T/sim.err" &
SPID=$!
t_track "$SPID"
if ! wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	t_fail "tallysim prints ready"
	cat "$T/sim.err"
	finish
	exit 1
fi
ctl modems --json >"$T/modems.json"
IMEI0=$(sed -n '1s/.*"imei":"\([^"]*\)".*/\1/p' "$T/modems.json")
MSISDN0=$(sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p' "$T/modems.json")

# A message waiting on the SIM before the worker starts.
ctl inject --from 081234500001 --to 0 "PPWP SEBELUM MULAI" >/dev/null
wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q SEBELUM"

mkfifo "$T/cmd"
"$DRIVE" "$WORKER" -n m0 -d "$T/run/modem0" -H 2 -v -g "$T/gammu.log" \
    >"$OUT" 2>"$T/err" \
    <"$T/cmd" &
DPID=$!
t_track "$DPID"
exec 4>"$T/cmd"

# --- start-up -------------------------------------------------------
await "worker reaches READY" 20 '^STATE status=1\(ready\) text=connected'
expect "the first frame is HELLO with the device" "$(head -1 "$OUT")" \
    "HELLO text=$T/run/modem0 info="
expect_match "a second HELLO names the modem (IMEI $IMEI0)" \
    "$(grep '^HELLO' "$OUT" | sed -n 2p)" "IMEI $IMEI0 IMSI 510"
await "READY is followed by the initial sweep" 5 \
    '^STATE status=3\(sweeping\) text=initial sweep'
await "the initial sweep finds the message stored before start" 10 \
    '^SMS id=0 location=1 ref=0 part=1 total=1 flags=4 number=\+6281234500001 time=[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z text=PPWP SEBELUM MULAI$'
await "a HEALTH frame after the sweep: home network, SIM 1/30" 10 \
    '^HEALTH signal=-[0-9]+ reg=1 sim_used=1 sim_total=30 errors=0 info=.+'

# The SMSC time (WIB) comes up as UTC: within a minute of now.
t=$(grep '^SMS .*SEBELUM' "$OUT" | head -1 | field time)
now=$(date -u +%s)
ts=$(date -u -d "$(echo "$t" | sed 's/T/ /; s/Z$//')" +%s 2>/dev/null || echo 0)
d=$((now - ts))
[ $d -lt 0 ] && d=$((-d))
if [ "$d" -le 60 ]; then
	t_ok "SMSC time $t is UTC (WIB converted)"
else
	t_fail "SMSC time $t is UTC (WIB converted)"
	echo "#   off by $d s from now"
fi

# --- +CMTI ----------------------------------------------------------
mark
ctl inject --from 081234500002 --to 0 "PPWP LANGSUNG" >/dev/null
await "an SMS injected while connected arrives within 3 s" 3 \
    '^SMS .*flags=4 number=\+6281234500002 .*text=PPWP LANGSUNG$'
if seen '^STATE status=3'; then
	t_fail "it came through +CMTI, not a sweep"
else
	t_ok "it came through +CMTI, not a sweep"
fi

# --- a long message -------------------------------------------------
LONG="$(i=0; while [ $i -lt 60 ]; do printf 'kata%d ' $i; i=$((i + 1)); done)selesai"
mark
ctl inject --from +6285712345678 --to 0 "$LONG" >"$T/inj"
expect_match "the long text is injected as 3 parts" "$(cat "$T/inj")" \
    '^injected 3 parts'
if wait_for 10 seen_n '^SMS .*number=\+6285712345678 ' 3; then
	t_ok "3 WIRE_SMS for the 3 parts"
else
	t_fail "3 WIRE_SMS for the 3 parts"
fi
since | grep '^SMS .*number=+6285712345678 ' >"$T/parts"
expect "all parts: total=3" "$(field total <"$T/parts" | sort -u)" 3
expect "all parts: the same reference" \
    "$(field ref <"$T/parts" | sort -u | wc -l)" 1
expect "parts 1, 2 and 3" "$(field part <"$T/parts" | sort | tr '\n' ' ')" \
    "1 2 3 "
expect "the parts joined in order give the text" \
    "$(sort -t= -k5,5n "$T/parts" | sed 's/.* text=//' | tr -d '\n')" "$LONG"
expect_match "the reference is not 0" "$(field ref <"$T/parts" | head -1)" \
    '^[1-9][0-9]*$'

# --- delete ---------------------------------------------------------
locs=$(field location <"$T/parts" | tr '\n' ' ')
reads0=$(cmgr)
# A DELETE names the message meant: one naming another part is refused
# and the part stays, without reading the slot again.
set -- $locs
other=$(ident "$(grep " location=$2 " "$T/parts")")
mark
cmd delete 99 "$1" "$other"
await "DELETE of location $1 naming the part at $2 is refused (-2)" 5 \
    "^DELETE_RESULT id=99 location=$1 code=-2 info=$other\$"
mark
i=100
while read -r l; do
	cmd delete $i "$(echo "$l" | field location)" "$(ident "$l")"
	i=$((i + 1))
done <"$T/parts"
if wait_for 10 seen_n '^DELETE_RESULT id=10[0-2] location=[0-9]+ code=0 info=[^ ]+ [0-9]+/[1-3] #[0-9a-f]{8}$' 3; then
	t_ok "DELETE of the 3 parts (locations $locs), each named, answers code 0"
else
	t_fail "DELETE of the 3 parts (locations $locs), each named, answers code 0"
	since | grep DELETE | sed 's/^/#   /'
fi
ctl sim --modem 0 >"$T/sim0"
if grep -q 'kata' "$T/sim0"; then
	t_fail "the parts are gone from the SIM"
	sed 's/^/#   /' "$T/sim0"
else
	t_ok "the parts are gone from the SIM"
fi
expect "the other messages stay on the SIM" "$(grep -c PPWP "$T/sim0")" 2
# Each was read when it came and not deleted since: libGammu's own read
# inside GSM_DeleteSMS is the only one (docs/modem.md, "Deleting
# safely"); the worker used to read each again first.
expect "4 deletes of messages handed up (1 refused) cost 3 reads, not 7" \
    "$(($(cmgr) - reads0))" 3
set -- $locs
mark
cmd delete 103 "$1"
await "DELETE of a location already empty answers code 0" 5 \
    "^DELETE_RESULT id=103 location=$1 code=0\$"
# The defect of 7 December 2026: a second DELETE of a slot's committed
# message (sent again after a sweep read it again) reached the worker
# after the slot was freed and refilled, and took the new message.
mark
ctl inject --from 081234500003 --to 0 "PPWP BARU" >/dev/null
await "a new SMS arrives in a freed slot" 5 \
    '^SMS .*number=\+6281234500003 .*text=PPWP BARU$'
new=$(line '^SMS .*text=PPWP BARU$')
nl=$(echo "$new" | field location)
was=$(ident "$(grep " location=$nl " "$T/parts" | head -1)")
if [ -n "$(grep " location=$nl " "$T/parts")" ]; then
	t_ok "it took slot $nl, where part of the long SMS was"
else
	t_fail "it took slot $nl, where part of the long SMS was (slots $locs)"
	was="2024-01-01T00:00:00Z 1/1 #00000000"
fi
mark
cmd delete 106 "$nl" "$was"
await "a late DELETE of the slot's old part is refused (-2)" 5 \
    "^DELETE_RESULT id=106 location=$nl code=-2 "
ctl sim --modem 0 >"$T/sim0"
expect "the new SMS stays on the SIM" "$(grep -c 'PPWP BARU' "$T/sim0")" 1
mark
cmd deletefrom 108 "$nl" +6281234500009 "$(ident "$new")"
await "a DELETE naming its identity but another sender is refused (-2)" 5 \
    "^DELETE_RESULT id=108 location=$nl code=-2 "
mark
cmd deletefrom 107 "$nl" +6281234500003 "$(ident "$new")"
await "the DELETE naming it (sender and identity) deletes it" 5 \
    "^DELETE_RESULT id=107 location=$nl code=0 "
ctl sim --modem 0 >"$T/sim0"
expect "it is gone from the SIM" "$(grep -c 'PPWP BARU' "$T/sim0")" 0
cmd delete 104 0
await "DELETE of location 0 is refused" 5 \
    '^DELETE_RESULT id=104 location=0 code=-[0-9]+$'

# --- send -----------------------------------------------------------
PHONE=081298765432
mark
cmd send 7 $PHONE "OK TPS 001 diterima, kode R7K2"
await "SEND goes through SENDING" 5 '^STATE status=2\(sending\)'
await "SEND_RESULT code 0 with a message reference" 10 \
    '^SEND_RESULT id=7 code=0 msgref=[0-9]+ text=$'
MR=$(line '^SEND_RESULT id=7 ' | field msgref)
await "back to READY after the send" 5 '^STATE status=1\(ready\) text=send done'
# libGammu's 0.7 s of fixed pauses per part are skipped (the worker's
# own usleep is the one libGammu calls), and the worker waits on the
# modem's descriptor itself (docs/modem.md).
if grep -q "sending: 3 of libGammu's pauses skipped (700 ms)" "$T/err"; then
	t_ok "the send skipped libGammu's three pauses (700 ms)"
else
	t_fail "the send skipped libGammu's three pauses (700 ms)"
fi
if grep -q "is not known" "$T/err"; then
	t_fail "the worker found the modem's descriptor"
else
	t_ok "the worker found the modem's descriptor"
fi
if wait_for 5 sh -c "'$SIM' ctl --dir '$T/run' inbox --phone $PHONE | grep -q 'OK TPS 001 diterima, kode R7K2'"; then
	t_ok "the phone received the text"
else
	t_fail "the phone received the text"
fi
ctl inbox --phone $PHONE >"$T/inbox"
expect_match "it came from modem0's number" "$(cat "$T/inbox")" \
    "\"from\":\"\\$MSISDN0\""
await "a STATUS_REPORT for reference $MR comes back, delivered" 10 \
    "^STATUS_REPORT msgref=$MR status=0 location=[0-9]+ number=\\+6281298765432 time=[0-9T:-]+Z\$"

# A long UCS-2 text: 2 parts with our own reference, reassembled.
UTEXT="Terima kasih 🙏 laporan TPS 001 sudah diterima ✓ simpan kode ini baik-baik: R7K2 (jangan dibagikan)"
mark
cmd sendq 8 $PHONE "$UTEXT"
await "a 2-part UCS-2 SEND succeeds" 15 '^SEND_RESULT id=8 code=0 msgref=[0-9]+'
if wait_for 5 sh -c "'$SIM' ctl --dir '$T/run' inbox --phone $PHONE | grep -qF '$UTEXT'"; then
	t_ok "the phone received the UCS-2 text whole"
else
	t_fail "the phone received the UCS-2 text whole"
	ctl inbox --phone $PHONE | sed 's/^/#   /'
fi
if seen '^STATUS_REPORT'; then
	t_fail "no status report when none was asked for"
else
	t_ok "no status report when none was asked for"
fi
# libGammu's 260 KB multi-SMS buffer is given back after each use (a
# sweep and the sends above used it): no big anonymous mapping of the
# worker stays resident (docs/modem.md, 64 workers held 16 MiB).
WPID=
for p in $(pgrep -P "$DPID"); do
	[ "$(cat /proc/"$p"/comm 2>/dev/null)" = tallygw-modem ] && WPID=$p
done
big=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { big = 0; anon = (NF == 5) }
    /^Size:/ { big = anon && $2 >= 200 }
    /^Rss:/ && big && $2 > 64 { n++ } END { print n + 0 }' \
    "/proc/${WPID:-0}/smaps" 2>/dev/null)
expect "the worker keeps no big buffer resident between operations" \
    "${WPID:+$big}" 0
# Nor its deepest stack: libGammu's GSM_ReadDevice clears a 64 KB
# buffer on the stack at each read, so a worker that kept what it
# touched would hold 64 KB or more of stack for good (docs/bench.md).
stack_kib() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { s = ($6 == "[stack]") }
	    /^Rss:/ && s { print $2 }' "/proc/${WPID:-0}/smaps" 2>/dev/null
}
stack_small() { [ -n "$WPID" ] && [ "$(stack_kib)" -lt 64 ] 2>/dev/null; }
if wait_for 5 stack_small; then
	t_ok "the idle worker gives its stack back (Rss $(stack_kib) KB)"
else
	t_fail "the idle worker gives its stack back (Rss $(stack_kib) KB)"
fi

# UCS-2 received.
mark
ctl inject --from 081234500003 --to 0 "Data diterima — terima kasih ✓ 😀" >/dev/null
await "a UCS-2 SMS (with a surrogate pair) comes up as UTF-8, flags stored|unicode" 5 \
    '^SMS .*flags=6 number=\+6281234500003 .*text=Data diterima — terima kasih ✓ 😀$'
# A NUL (U+0000; tallysim reads modified UTF-8's C0 80 as one) in a
# UCS-2 SMS does not end the text: it comes up as a space, a separator;
# a '~' (libGammu doubles it in the text) comes up once.
NUL=$(printf '\300\200')
mark
ctl inject --from 081234500004 --to 0 \
    "PPWP${NUL}3201011001001~3${NUL}${NUL}255 120~95${NUL}36 77" >/dev/null
await "a NUL in a UCS-2 SMS is a separator, not its end; ~ stays as sent" 5 \
    '^SMS .*flags=6 number=\+6281234500004 .*text=PPWP 3201011001001~3  255 120~95 36 77$'

# --- USSD -----------------------------------------------------------
mark
cmd balance 5 '*888#'
await "BALANCE *888# answers tallysim's balance" 15 \
    '^USSD_ANSWER id=5 code=0 text=Sisa pulsa Anda Rp[0-9.]+\. Aktif s\.d\. [0-9-]+$'
cmd balance 6 '*147#'
await "an unknown USSD code (+CUSD: 4) answers 'not supported'" 15 \
    '^USSD_ANSWER id=6 code=[1-9][0-9]* text=network: USSD code not supported$'

# --- fault: cms -----------------------------------------------------
ctl fault --modem 0 cms 38 >/dev/null
mark
cmd send 9 $PHONE "gagal"
await "with fault cms 38 the SEND_RESULT has code 38" 10 \
    '^SEND_RESULT id=9 code=38 msgref=-1 text=.*CMS ERROR: 38'
await "and the worker stays READY" 5 '^STATE status=1\(ready\) text=send done'
ctl fault --modem 0 cms off >/dev/null

# --- heartbeats -----------------------------------------------------
mark
await "a HEARTBEAT within 6 s" 6 '^HEARTBEAT$'

# --- fault: unplug --------------------------------------------------
NSIM=$(ctl sim --modem 0 | grep -c .)
mark
# Unplugged long enough that a worker slowed by a loaded machine still
# touches the modem while it is away (3 s was sometimes missed whole).
ctl fault --modem 0 unplug 8 >/dev/null
await "unplug: the worker goes BROKEN" 8 '^STATE status=4\(broken\)'
await "then BACKOFF" 3 '^STATE status=5\(backoff\) text=reconnecting in 1 s'
cmd send 10 $PHONE "tidak siap"
cmd delete 105 1
cmd balance 11 '*888#'
await "SEND while not READY is answered at once with an error" 2 \
    '^SEND_RESULT id=10 code=-1 msgref=-1 text=modem not ready \(backoff\)$'
await "DELETE while not READY is answered at once with an error" 2 \
    '^DELETE_RESULT id=105 location=1 code=-1$'
await "BALANCE while not READY is answered at once with an error" 2 \
    '^USSD_ANSWER id=11 code=-1 text=modem not ready \(backoff\)$'
await "after the replug the worker is READY again" 25 \
    '^STATE status=1\(ready\) text=connected'
await "and sweeps again, finding the $NSIM messages of the SIM" 10 \
    "^STATE status=1\\(ready\\) text=sweep done: $NSIM messages\$"

# --- reconnect ------------------------------------------------------
mark
cmd reconnect
await "RECONNECT: BROKEN at once" 5 \
    '^STATE status=4\(broken\) text=reconnect requested'
await "then INIT without backoff" 2 '^STATE status=0\(init\)'
await "then READY" 20 '^STATE status=1\(ready\) text=connected'

# --- fault: mute ----------------------------------------------------
mark
ctl fault --modem 0 mute on >/dev/null
await "mute: the worker notices (no answer) and goes BROKEN" 25 \
    '^STATE status=4\(broken\) text=.*no answer within'
ctl fault --modem 0 mute off >/dev/null
await "after unmute it is READY again" 30 \
    '^STATE status=1\(ready\) text=connected'

# --- a second worker: EOF ends it -----------------------------------
mkfifo "$T/cmd1"
"$DRIVE" "$WORKER" -n m1 -d "$T/run/modem1" >"$T/out1" 2>"$T/err1" \
    <"$T/cmd1" &
D1PID=$!
t_track "$D1PID"
exec 5>"$T/cmd1"
if wait_for 20 grep -q '^STATE status=1(ready) text=sweep done' "$T/out1"; then
	t_ok "a second worker on modem1 is READY"
else
	t_fail "a second worker on modem1 is READY"
fi
exec 5>&-
if wait_for 10 grep -q '^EXIT status=0$' "$T/out1"; then
	t_ok "EOF on fd 3: the worker exits 0"
else
	t_fail "EOF on fd 3: the worker exits 0"
	tail -3 "$T/out1" | sed 's/^/#   /'
fi
wait "$D1PID" 2>/dev/null
D1PID=

# --- shutdown -------------------------------------------------------
mark
cmd shutdown
if wait_for 10 seen '^EOF$'; then
	t_ok "SHUTDOWN: the worker closes the connection"
else
	t_fail "SHUTDOWN: the worker closes the connection"
fi
exec 4>&-
wait "$DPID"
expect "SHUTDOWN: exit status 0" "$?" 0
DPID=
if grep -q 'tallygw-modem: warn: modem m0: .*watchdog' "$T/err"; then
	t_ok "the mute fault was caught by the watchdog (logged)"
else
	t_fail "the mute fault was caught by the watchdog (logged)"
fi
if grep -qi 'AddressSanitizer\|LeakSanitizer\|runtime error\|Segmentation' "$T/err" "$T/err1"; then
	t_fail "no crash or sanitizer report in the worker logs"
else
	t_ok "no crash or sanitizer report in the worker logs"
fi

finish
