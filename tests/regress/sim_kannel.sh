#!/bin/sh
# tallysim against Kannel's `at` driver (Debian package kannel),
# unmodified: a bearerbox with one `at` SMSC per simulated modem and an
# smsbox, run in the foreground with their own config and logs in a temp
# dir, on ports chosen free at run time (never the system service, which
# may hold 13000/13001/13013).  Received SMS go to a small local HTTP
# listener (the sms-service's get-url); sending is Kannel's sendsms
# interface.  Then Kannel runs again with `no-pin = true', which makes
# it use phase 2+ (AT+CSMS=1, AT+CNMA).  If Kannel disagrees, tallysim
# is wrong.  TAP; every wait is time-boxed.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
BEARERBOX=$(command -v bearerbox || echo /usr/sbin/bearerbox)
SMSBOX=$(command -v smsbox || echo /usr/sbin/smsbox)

check() { d=$1; shift; if "$@" >/dev/null 2>&1; then t_ok "$d"; else t_fail "$d"; fi; }

if [ ! -x "$BEARERBOX" ] || [ ! -x "$SMSBOX" ]; then
	echo "not ok 1 - Kannel is not installed (apt-get install kannel)"
	exit 1
fi
for p in python3 curl; do
	if ! command -v $p >/dev/null 2>&1; then
		echo "not ok 1 - $p is not installed"
		exit 1
	fi
done
if [ ! -x "$SIM" ]; then
	echo "not ok 1 - $B/tallysim not built"
	exit 1
fi

T=$(mktemp -d /tmp/sim_kannel.XXXXXX)
PID=
BPID=
SPID=
LPID=
# stop PID: SIGTERM, then SIGKILL if it is still there after 10 s.
stop() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || return 0
	s_end=$(($(date +%s) + 10))
	while kill -0 "$1" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$s_end" ]; then
			kill -9 "$1" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$1" 2>/dev/null
	return 0
}
cleanup() {
	stop "$SPID"
	stop "$BPID"
	stop "$LPID"
	stop "$PID"
	t_cleanup
	if [ "$T_FAILED" -ne 0 ]; then
		for f in got.jsonl inbox.jsonl send.out bearerbox.log smsbox.log \
		    bearerbox2.log smsbox2.log sim.err; do
			[ -f "$T/$f" ] || continue
			echo "# $f (tail):"
			tail -40 "$T/$f" | sed 's/^/# /'
		done
	fi
	rm -rf "$T"
}
t_trap cleanup
trap 'exit 1' PIPE

ctl() { timeout 20 "$SIM" ctl --dir "$T/run" "$@"; }
# got FIELD VALUE...: the listener received a request with these fields.
got() {
	python3 - "$T/got.jsonl" "$@" <<'EOF'
import json, sys
path, want = sys.argv[1], sys.argv[2:]
try:
    recs = [json.loads(l) for l in open(path, encoding='utf-8')]
except FileNotFoundError:
    sys.exit(1)
for r in recs:
    if all(r.get(want[i]) == want[i + 1] for i in range(0, len(want), 2)):
        sys.exit(0)
sys.exit(1)
EOF
}
# inbox_has PHONE FIELD VALUE...: the phone's inbox has such a message.
inbox_has() {
	ph=$1
	shift
	ctl inbox --phone "$ph" >"$T/inbox.jsonl" || return 1
	python3 - "$T/inbox.jsonl" "$@" <<'EOF'
import json, sys
path, want = sys.argv[1], sys.argv[2:]
for l in open(path, encoding='utf-8'):
    r = json.loads(l)
    if all(str(r.get(want[i])) == want[i + 1] for i in range(0, len(want), 2)):
        sys.exit(0)
sys.exit(1)
EOF
}
# urlenc TEXT: TEXT percent-encoded (UTF-8).
urlenc() {
	python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"
}

"$SIM" run --dir "$T/run" --modems 2 --profile instant >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
t_track "$PID"
if ! wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	t_fail "tallysim run prints ready"
	finish
	exit 1
fi
ctl modems --json >"$T/modems.json"
N0=$(sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p' "$T/modems.json")
N1=$(sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p' "$T/modems.json")

# The listener of the sms-service and of delivery reports: one JSON
# object per request in got.jsonl, with the query's fields; "text" is
# decoded from Kannel's charset (UTF-16BE for UCS-2, else UTF-8).
cat >"$T/listener.py" <<'EOF'
import sys, json, http.server, urllib.parse
out = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query, keep_blank_values=True,
                                  encoding='latin-1')
        rec = {k: v[0] for k, v in q.items()}
        rec['path'] = u.path
        if 'text' in rec:
            raw = rec['text'].encode('latin-1')
            cs = rec.get('charset', '').upper()
            try:
                rec['text'] = raw.decode('utf-16-be' if cs == 'UTF-16BE'
                                         else 'utf-8')
            except UnicodeDecodeError:
                rec['text'] = 'hex:' + raw.hex()
        with open(out, 'a', encoding='utf-8') as f:
            f.write(json.dumps(rec, ensure_ascii=False) + '\n')
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', '0')
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
python3 "$T/listener.py" "$T/got.jsonl" >"$T/listener.port" 2>"$T/listener.err" &
LPID=$!
t_track "$LPID"
if ! wait_for 10 grep -q '^[0-9]' "$T/listener.port"; then
	t_fail "the HTTP listener starts"
	finish
	exit 1
fi
PL=$(cat "$T/listener.port")

# Messages that reach the modems before Kannel opens them wait on the
# SIM (CNMI 2,1 at power-on, no client for +CMTI): Kannel's
# sim-buffering must read and delete them.
WAIT1="CEK 3201012001001 menunggu di SIM"
WAIT2="Menunggu di SIM: $(i=0; while [ $i -lt 30 ]; do printf 'data%d ' $i; i=$((i + 1)); done)akhir"
ctl inject --from 081211112222 --to 0 "$WAIT1" >/dev/null
ctl inject --from 081211112222 --to 1 "$WAIT2" >"$T/inj.wait"
check "before Kannel: a message waits on modem0's SIM" wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q 'menunggu di SIM'"
check "before Kannel: a 2-part message waits on modem1's SIM" wait_for 10 sh -c "'$SIM' ctl --dir '$T/run' modems --json | sed -n 2p | grep -q '\"sim_used\":2,'"

# free_ports N: N TCP ports of 127.0.0.1 that are free now.  Another
# program may take one before Kannel binds it: the starts below retry.
free_ports() {
	python3 -c '
import socket, sys
ss = [socket.socket() for i in range(int(sys.argv[1]))]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
# wait_up SECONDS PID COMMAND...: until COMMAND succeeds (0), or PID
# exits or the time is up (1).
wait_up() {
	u_end=$(($(date +%s) + $1))
	u_pid=$2
	shift 2
	until "$@" >/dev/null 2>&1; do
		kill -0 "$u_pid" 2>/dev/null || return 1
		[ "$(date +%s)" -ge "$u_end" ] && return 1
		sleep 0.2
	done
	return 0
}
status() { curl -sf -m 5 "http://127.0.0.1:$PA/status.txt?password=tally"; }
# online ID: the status page shows the SMSC ID online.
online() { status | grep -q "^ *$1\[$1\] .*(online"; }
sendsms_up() { curl -s -m 5 -o /dev/null "http://127.0.0.1:$PH/"; }

# The configuration: modem0 with an explicit modem type, modem1
# autodetected from ATI (the 'generic' group is Kannel's fallback).
# sim-buffering: read and delete what waits on the SIM (at start, then
# every keepalive seconds); the default init string AT+CNMI=1,2,0,1,0
# delivers new messages and status reports directly (+CMT, +CDS).
# RUN names the logs (bearerbox$RUN.log); NOPIN, when set, adds
# `no-pin = true' to the modems group (then Kannel uses phase 2+).
RUN=
NOPIN=
write_conf() {
	if [ -n "$NOPIN" ]; then
		nopin=$(printf '\nno-pin = true')
	else
		nopin=
	fi
	cat >"$T/kannel.conf" <<EOF
group = core
admin-port = $PA
admin-password = tally
admin-allow-ip = "127.0.0.1"
smsbox-port = $PS
box-allow-ip = "127.0.0.1"
log-file = "$T/bearerbox$RUN.log"
log-level = 0
access-log = "$T/access$RUN.log"
dlr-storage = internal

group = smsc
smsc = at
smsc-id = m0
allowed-smsc-id = m0
device = $T/run/modem0
modemtype = tallysim
speed = 115200
my-number = "$N0"
sim-buffering = true
keepalive = 30

group = smsc
smsc = at
smsc-id = m1
allowed-smsc-id = m1
device = $T/run/modem1
modemtype = auto
speed = 115200
my-number = "$N1"
sim-buffering = true
keepalive = 30

group = modems
id = tallysim
name = "tallysim"
detect-string = "Tallysim"
message-storage = "SM"$nopin

group = modems
id = generic
name = "Generic Modem"

group = smsbox
bearerbox-host = 127.0.0.1
bearerbox-port = $PS
sendsms-port = $PH
log-file = "$T/smsbox$RUN.log"
log-level = 0

group = sendsms-user
username = tally
password = sim
max-messages = 10
concatenation = true
default-sender = tallygw

group = sms-service
keyword = default
get-url = "http://127.0.0.1:$PL/mo?from=%p&to=%P&smsc=%i&coding=%c&charset=%C&text=%b"
max-messages = 0
EOF
}

# start_kannel: bearerbox and smsbox with the configuration, on free
# ports; 1 if either cannot be started.
start_kannel() {
	# bearerbox: admin port and smsbox port, three tries.  A port
	# taken makes it exit at once, before it opens any modem.
	tries=0
	while :; do
		set -- $(free_ports 3)
		PA=$1
		PS=$2
		PH=$3
		write_conf
		"$BEARERBOX" "$T/kannel.conf" >"$T/bearerbox$RUN.out" 2>&1 &
		BPID=$!
		t_track "$BPID"
		wait_up 30 "$BPID" status && break
		stop "$BPID"
		BPID=
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			t_fail "bearerbox answers on its admin port"
			return 1
		fi
	done
	# smsbox: the sendsms port, three tries; it binds the port before
	# it connects to bearerbox, so a failed try loses nothing.
	tries=0
	while :; do
		"$SMSBOX" "$T/kannel.conf" >"$T/smsbox$RUN.out" 2>&1 &
		SPID=$!
		t_track "$SPID"
		wait_up 30 "$SPID" sendsms_up && break
		stop "$SPID"
		SPID=
		tries=$((tries + 1))
		if [ "$tries" -ge 3 ]; then
			t_fail "smsbox answers on its sendsms port"
			return 1
		fi
		PH=$(free_ports 1)
		write_conf
	done
	return 0
}

if ! start_kannel; then
	finish
	exit 1
fi

check "Kannel brings modem0 online (smsc m0)" wait_for 60 online m0
check "Kannel brings modem1 online (smsc m1)" wait_for 60 online m1
check "Kannel autodetects modem1 from ATI" grep -q 'AT2\[m1\]: found string <Tallysim>' "$T/bearerbox.log"
check "smsbox is connected to bearerbox" wait_for 30 sh -c "curl -sf -m 5 'http://127.0.0.1:$PA/status.txt?password=tally' | grep -q '^ *smsbox:'"

# receiving: first what waited on the SIMs, then direct delivery
check "the message waiting on modem0's SIM reaches Kannel" wait_for 30 got path /mo smsc m0 from +6281211112222 text "$WAIT1"
check "the 2-part message waiting on modem1's SIM reaches Kannel whole" wait_for 30 got path /mo smsc m1 from +6281211112222 text "$WAIT2"
ctl inject --from 081255551234 --to 0 "PPWP 3201012001001 S1 01 120 02 85 03 97" >/dev/null
check "SMS to modem0 reaches Kannel with its sender and text" wait_for 30 got path /mo smsc m0 from +6281255551234 text "PPWP 3201012001001 S1 01 120 02 85 03 97"
ctl inject --from 081377778888 --to 1 "DPD 3201012001001 S1 01 55" >/dev/null
check "SMS to modem1 arrives tagged smsc m1" wait_for 30 got path /mo smsc m1 from +6281377778888 text "DPD 3201012001001 S1 01 55"

LONG="Laporan panjang: $(i=0; while [ $i -lt 50 ]; do printf 'angka%d ' $i; i=$((i + 1)); done)akhir"
ctl inject --from 081255551234 --to 0 "$LONG" >"$T/inj.long"
check "long inject is split into parts" grep -q 'injected [2-9] parts' "$T/inj.long"
check "long SMS arrives whole in Kannel" wait_for 30 got path /mo smsc m0 from +6281255551234 text "$LONG"

GSM="Rp5.000 é ü Ä ñ @ £ _ § ß Ω € [ok] {tps} ~ ^ |"
ctl inject --from 081255551234 --to 0 "$GSM" >/dev/null
check "GSM 7-bit text with accents and the extension table arrives intact" wait_for 30 got path /mo smsc m0 from +6281255551234 coding 0 text "$GSM"

UCS="Terima kasih é — data diterima ✓ شكرا"
ctl inject --from 081255551234 --to 1 "$UCS" >/dev/null
check "UCS-2 SMS arrives intact in Kannel" wait_for 30 got path /mo smsc m1 from +6281255551234 coding 2 text "$UCS"
LUCS="$UCS; $UCS; $UCS"
ctl inject --from 081255551234 --to 1 "$LUCS" >"$T/inj.lucs"
check "long UCS-2 inject is split into parts" grep -q 'injected [2-9] parts' "$T/inj.lucs"
check "long UCS-2 SMS arrives whole in Kannel" wait_for 30 got path /mo smsc m1 from +6281255551234 coding 2 text "$LUCS"

# sending
send() {
	curl -s -m 10 "http://127.0.0.1:$PH/cgi-bin/sendsms?username=tally&password=sim&$1" >"$T/send.out" 2>&1
}
TXT="OK TPS 3201012001001 diterima, kode R7K2"
send "smsc=m0&to=081298765432&text=$(urlenc "$TXT")"
check "sendsms via m0 reaches the phone's inbox, from modem0" wait_for 30 inbox_has 081298765432 text "$TXT" from "$N0"
send "smsc=m1&to=081298765432&text=$(urlenc "lewat modem satu")"
check "sendsms via m1 reaches the phone's inbox, from modem1" wait_for 30 inbox_has 081298765432 text "lewat modem satu" from "$N1"
LONG2="Balasan panjang: $(i=0; while [ $i -lt 40 ]; do printf 'nilai%d ' $i; i=$((i + 1)); done)selesai"
send "smsc=m0&to=081298765432&text=$(urlenc "$LONG2")"
check "long sendsms arrives whole in the inbox" wait_for 30 inbox_has 081298765432 text "$LONG2" from "$N0"
send "smsc=m0&to=081298765432&text=$(urlenc "$GSM")"
check "GSM 7-bit sendsms with the extension table arrives intact" wait_for 30 inbox_has 081298765432 text "$GSM" from "$N0"
send "smsc=m1&to=081298765432&coding=2&charset=UTF-8&text=$(urlenc "$UCS")"
check "UCS-2 sendsms arrives intact in the inbox" wait_for 30 inbox_has 081298765432 text "$UCS" from "$N1"
send "smsc=m1&to=081298765432&coding=2&charset=UTF-8&text=$(urlenc "$LUCS")"
check "long UCS-2 sendsms arrives whole in the inbox" wait_for 30 inbox_has 081298765432 text "$LUCS" from "$N1"

# delivery report
DURL="http://127.0.0.1:$PL/dlr?tag=k1&type=%d&smsc=%i&to=%p"
send "smsc=m0&to=081298765432&text=$(urlenc "dengan laporan")&dlr-mask=3&dlr-url=$(urlenc "$DURL")"
check "delivery report: Kannel calls the dlr-url with type 1 (delivered)" wait_for 30 got path /dlr tag k1 type 1 smsc m0

check "Kannel counts no failed send on m0" sh -c "curl -sf -m 5 'http://127.0.0.1:$PA/status.txt?password=tally' | grep -q '^ *m0\\[m0\\] .*(online.* failed 0,'"
check "Kannel counts no failed send on m1" sh -c "curl -sf -m 5 'http://127.0.0.1:$PA/status.txt?password=tally' | grep -q '^ *m1\\[m1\\] .*(online.* failed 0,'"
check "modem0's SIM is left empty" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q ."
check "modem1's SIM is left empty" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 1 | grep -q ."

# Direct delivery to a port nobody reads: lost, as on a real modem,
# and counted so (the reason tallygw stores on the SIM, +CMTI).  This
# holds for service 0: without no-pin Kannel never sent AT+CSMS=1
# (its autodetection of modem1 logs "Phase 2+ is supported", but the
# init after it misses the range).
check "without no-pin, Kannel never sends AT+CSMS=1" sh -c "! grep -q -- '--> AT+CSMS=1' '$T/bearerbox.log'"
lost0=$(ctl stats | sed -n 's/^lost //p')
stop "$SPID"
SPID=
stop "$BPID"
BPID=
check "modem0's port is closed once Kannel is gone" wait_for 15 sh -c "! '$SIM' ctl --dir '$T/run' modems | grep -q '^0 .* open'"
ctl inject --from 081255551234 --to 0 "tidak ada yang membaca" >/dev/null
check "a +CMT to a closed port is counted as lost" wait_for 15 sh -c "[ \$('$SIM' ctl --dir '$T/run' stats | sed -n 's/^lost //p') -gt $lost0 ]"
check "and is not on the SIM" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q ."

# Phase 2+: with `no-pin = true' Kannel reads the AT+CSMS=? range, sends
# AT+CSMS=1 and acknowledges every +CMT and +CDS with AT+CNMA; tallysim
# holds the next one until then.  A burst to both modems must arrive
# once each: none lost, none doubled, no acknowledgement timed out.
RUN=2
NOPIN=1
lost1=$(ctl stats | sed -n 's/^lost //p')
if ! start_kannel; then
	finish
	exit 1
fi
check "no-pin: Kannel brings modem0 online again" wait_for 60 online m0
check "no-pin: Kannel brings modem1 online again" wait_for 60 online m1
check "no-pin: Kannel sends AT+CSMS=1 to modem0" grep -q 'AT2\[m0\]: --> AT+CSMS=1' "$T/bearerbox2.log"
check "no-pin: Kannel sends AT+CSMS=1 to modem1" grep -q 'AT2\[m1\]: --> AT+CSMS=1' "$T/bearerbox2.log"
check "no-pin: smsbox is connected to bearerbox" wait_for 30 sh -c "curl -sf -m 5 'http://127.0.0.1:$PA/status.txt?password=tally' | grep -q '^ *smsbox:'"
# parts N: the part count `ctl inject' printed into inj.p2
parts() { sed -n 's/^injected \([0-9]*\) part.*/\1/p' "$T/inj.p2"; }
parts0=0
parts1=0
for i in 1 2 3 4; do
	ctl inject --from 081244440000 --to 0 "CSMS m0 pesan $i" >"$T/inj.p2"
	parts0=$((parts0 + $(parts)))
	ctl inject --from 081244440000 --to 1 "CSMS m1 pesan $i" >"$T/inj.p2"
	parts1=$((parts1 + $(parts)))
done
LONG3="CSMS panjang: $(i=0; while [ $i -lt 45 ]; do printf 'bagian%d ' $i; i=$((i + 1)); done)akhir"
ctl inject --from 081244440000 --to 0 "$LONG3" >"$T/inj.p2"
parts0=$((parts0 + $(parts)))
burst_in() {
	for i in 1 2 3 4; do
		got path /mo smsc m0 text "CSMS m0 pesan $i" || return 1
		got path /mo smsc m1 text "CSMS m1 pesan $i" || return 1
	done
	got path /mo smsc m0 text "$LONG3"
}
check "no-pin: the burst of $parts0 + $parts1 parts reaches Kannel" wait_for 40 burst_in
DURL2="http://127.0.0.1:$PL/dlr?tag=k2&type=%d&smsc=%i"
send "smsc=m0&to=081298765432&text=$(urlenc "fase dua")&dlr-mask=3&dlr-url=$(urlenc "$DURL2")"
check "no-pin: sendsms via m0 reaches the phone" wait_for 30 inbox_has 081298765432 text "fase dua" from "$N0"
check "no-pin: the delivery report (+CDS) reaches the dlr-url" wait_for 30 got path /dlr tag k2 type 1 smsc m0
# Give a doubled message or report time to show.
sleep 2
python3 - "$T/got.jsonl" "$LONG3" >"$T/dups" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]
texts = [r.get('text') for r in recs if r.get('path') == '/mo']
want = ['CSMS m%d pesan %d' % (m, i) for m in (0, 1) for i in (1, 2, 3, 4)]
want.append(sys.argv[2])
for w in want:
    if texts.count(w) != 1:
        print('%dx %s' % (texts.count(w), w[:40]))
if sum(1 for r in recs if r.get('tag') == 'k2') != 1:
    print('delivery reports k2: %d' % sum(1 for r in recs if r.get('tag') == 'k2'))
EOF
check "no-pin: every message of the burst and the report arrived exactly once" test ! -s "$T/dups"
# Kannel acknowledges each +CMT part and the +CDS: one AT+CNMA each.
cnma0=$(grep -c 'AT2\[m0\]: --> AT+CNMA' "$T/bearerbox2.log")
cnma1=$(grep -c 'AT2\[m1\]: --> AT+CNMA' "$T/bearerbox2.log")
expect "no-pin: Kannel sends AT+CNMA for each of m0's $parts0 parts and its report" "$cnma0" $((parts0 + 1))
expect "no-pin: Kannel sends AT+CNMA for each of m1's $parts1 parts" "$cnma1" "$parts1"
check "no-pin: no AT+CNMA is refused (+CMS ERROR)" sh -c "! grep -q 'CMS ERROR' '$T/bearerbox2.log'"
check "no-pin: no acknowledgement timed out in tallysim" sh -c "! grep -q 'no +CNMA within' '$T/sim.err'"
check "no-pin: the network lost nothing" test "$(ctl stats | sed -n 's/^lost //p')" = "$lost1"
check "no-pin: modem0's SIM is left empty" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 0 | grep -q ."
check "no-pin: modem1's SIM is left empty" sh -c "! '$SIM' ctl --dir '$T/run' sim --modem 1 | grep -q ."
check "no-pin: Kannel counts no failed send on m0" sh -c "curl -sf -m 5 'http://127.0.0.1:$PA/status.txt?password=tally' | grep -q '^ *m0\\[m0\\] .*(online.* failed 0,'"
finish
