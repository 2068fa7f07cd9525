#!/bin/sh
# `tallysim ctl ussd': tallysim as the USSD aggregator (docs/sim.md).
# Against `tallysim world' (whose tallygw.conf has a [ussd] section and
# whose RUNDIR has ussd.url and ussd.secret): a PPWP report, a DPR
# party page one value per screen, a session dropped after 3 inputs
# and taken up again (9 Lanjut).  Against small fake endpoints: a
# screen over 182 characters, an endpoint that never answers (screen
# and session timeouts).  TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp sim_ussd
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/run

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    [ ! -d "$DATA" ] || ! command -v python3 >/dev/null; then
	t_fail "$B/tallysim, tallygw, tallyctl are built; $SHARED; python3"
	finish
	exit 1
fi

TPS=3201011001001
# ussd OUT ARGS...: one session into $D/OUT.json; its exit status.
ussd() {
	u_out=$1
	shift
	timeout 60 "$SIM" ctl --dir "$R" ussd "$@" >"$D/$u_out.json" \
	    2>"$D/$u_out.err"
}
# ns OUT: the screens' n, space-separated; types OUT: their types.
ns() { sed 's/^{"n":\([0-9]*\)[,}].*/\1/' "$D/$1.json" | tr '\n' ' '; }
types() { sed -n 's/.*"type":"\([A-Z]*\)".*/\1/p' "$D/$1.json" | tr '\n' ' '; }
# mac TEXT-WITHOUT-CODE: the content MAC of a report (as ussd.sh).
mac() { "$CTL" mac --key "$R/root.key" "$1*00000000" | awk '{print $NF}'; }
receipt() { "$CTL" receipt --key "$R/root.key" "$1" | awk '{print $NF}'; }
conf() {
	awk -v sec="$1" -v key="$2" '
		/^\[/ { s = substr($0, 2, length($0) - 2); next }
		s == sec && $1 == key { sub(/^[^=]*= */, ""); print; exit }
	' "$R/tallygw.conf"
}

"$SIM" world --dir "$R" --modems 1 --seed 11 --data "$DATA" \
    >"$D/world.out" 2>"$D/world.err" &
WPID=$!
t_track "$WPID"
if ! wait_for 120 grep -q '^ready$' "$D/world.out"; then
	t_fail "tallysim world starts"
	tail -20 "$D/world.err" "$R/tallygw.log" 2>/dev/null | sed 's/^/#   /'
	finish
	exit 1
fi
t_ok "tallysim world starts"

# --- what world writes ----------------------------------------------
URL=$(cat "$R/ussd.url" 2>/dev/null)
expect_match "RUNDIR/ussd.url names the callback" "$URL" \
    '^http://127\.0\.0\.1:[0-9]+/ussd$'
expect "[ussd] listen is its port" "$(conf ussd listen)" \
    "$(echo "$URL" | sed 's|^http://||; s|/ussd$||')"
expect "[ussd] path" "$(conf ussd path)" /ussd
expect "[ussd] secret" "$(conf ussd secret)" "$R/ussd.secret"
expect "[ussd] service" "$(conf ussd service)" '*123*45#'
expect "ussd.secret is mode 0600" "$(stat -c %a "$R/ussd.secret")" 600
expect_match "ussd.secret holds 16 or more letters and digits" \
    "$(cat "$R/ussd.secret")" '^[A-Za-z0-9]{16,}$'

# --- a PPWP report ------------------------------------------------------
V1="255*120*95*36*251*4"
C1=$(mac "1*$TPS*3*$V1")
ussd ppwp --from 081234560001 1 "$TPS" "$V1" 3 "$C1" 1
expect "a PPWP session ends at END: exit 0" "$?" 0
expect "its screens are numbered 1 to 7" "$(ns ppwp)" "1 2 3 4 5 6 7 "
expect "CON until the END" "$(types ppwp)" "CON CON CON CON CON CON END "
expect_match "the first screen lists the contests" \
    "$(sed -n 1p "$D/ppwp.json")" '"text":"Lapor hasil TPS.*\\n1 PPWP'
R1=$(receipt "1*$TPS*3*$V1*$C1")
expect_match "the END screen carries the receipt $R1" \
    "$(sed -n 7p "$D/ppwp.json")" "\"type\":\"END\",\"text\":\"DITERIMA.*$R1"

# --- a DPR party page, one value per screen ------------------------------
C2=$(mac "2*$TPS*21*5*40*1*2*3*4*5*6*7*8*9*10")
ussd dpr --from 081234560002 2 "$TPS" 5 40 1 2 3 4 5 6 7 8 9 10 21 "$C2" 1 1
expect "a DPR page one value per screen: exit 0" "$?" 0
expect "its screens are numbered 1 to 19" "$(ns dpr)" \
    "$(seq 1 19 | tr '\n' ' ')"
expect "one value screen per value (11)" \
    "$(grep -c '"text":"[^"]*Ketik [^"]*(angka [0-9]* dari 11)' \
    "$D/dpr.json")" 11
expect_match "and the page is accepted" "$(tail -1 "$D/dpr.json")" \
    "\"type\":\"END\",\"text\":\"DITERIMA.*$(receipt \
    "2*$TPS*21*5*40*1*2*3*4*5*6*7*8*9*10*$C2")"

# --- a dropped session, taken up again ----------------------------------
ussd drop --from 081234560003 --drop-after 3 1 "$TPS" 255 120 95
expect "--drop-after 3: exit 0" "$?" 0
expect "it printed the 4 screens that came" "$(ns drop)" "1 2 3 4 "
expect "the last one still CON" "$(types drop)" "CON CON CON CON "
expect_match "and it says so on stderr" "$(cat "$D/drop.err")" \
    'dropped after 3 inputs'
C3=$(mac "1*$TPS*5*$V1")
ussd resume --from 081234560003 9 120 95 36 251 4 5 "$C3" 1
expect "the next session from that number: exit 0" "$?" 0
expect_match "its first screen offers 9 Lanjut" \
    "$(sed -n 1p "$D/resume.json")" "9 Lanjut PPWP TPS $TPS"
expect_match "9 takes it up at Paslon 1" "$(sed -n 2p "$D/resume.json")" \
    'Ketik Paslon 1 \(angka 2 dari 6\)'
expect_match "and the report is accepted" "$(tail -1 "$D/resume.json")" \
    "\"type\":\"END\",\"text\":\"DITERIMA.*$(receipt "1*$TPS*5*$V1*$C3")"
expect "the gateway logged the drop" "$(grep 'from +6281234560003 dropped' \
    "$R/tallygw.log" | grep -c 'at values: nothing stored; kept to resume')" 1

# --- refusals -------------------------------------------------------------
ussd noinput --from 081234560004 1
expect "inputs used up at a CON screen: exit 1" "$?" 1
expect_match "with an error line" "$(tail -1 "$D/noinput.json")" \
    '^\{"n":2,"error":"no input left'
expect_rc "no --from: exit 1" 1 "$SIM" ctl --dir "$R" ussd 1
expect_rc "no world in the directory: exit 1" 1 \
    "$SIM" ctl --dir "$D" ussd --from 081234560005 1

# --- fake endpoints ---------------------------------------------------------
# long: 182 characters on the first screen, 200 on the next; hang:
# reads the request and never answers.
cat >"$D/fake.py" <<'EOF'
import sys, time, http.server, urllib.parse
mode = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        f = urllib.parse.parse_qs(self.rfile.read(n).decode(),
                                  keep_blank_values=True)
        if mode == "hang":
            time.sleep(120)
            return
        b = ("CON " + "x" * (182 if f["text"][0] == "" else 200)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
printf 'fake-secret-0123456789\n' >"$D/fake.secret"
chmod 600 "$D/fake.secret"
for m in long hang; do
	python3 "$D/fake.py" $m >"$D/$m.port" 2>"$D/$m.log" &
	t_track "$!"
done
if wait_for 20 test -s "$D/long.port" && wait_for 20 test -s "$D/hang.port"
then
	LONG=http://127.0.0.1:$(cat "$D/long.port")/ussd
	HANG=http://127.0.0.1:$(cat "$D/hang.port")/ussd
	ussd long --from 081234560006 --url "$LONG" --secret "$D/fake.secret" 1
	expect "a screen of 200 characters: exit 1" "$?" 1
	expect_match "one of 182 passes" "$(sed -n 1p "$D/long.json")" \
	    '^\{"n":1,"type":"CON","text":"x{182}"\}$'
	expect_match "the next is an error line" \
	    "$(sed -n 2p "$D/long.json")" \
	    '^\{"n":2,.*"error":"screen of 200 characters, over 182"\}$'
	t0=$(date +%s)
	ussd hang --from 081234560007 --url "$HANG" \
	    --secret "$D/fake.secret" --screen-timeout 2 1
	expect "no answer: exit 1" "$?" 1
	expect "an error line" "$(cat "$D/hang.json")" \
	    '{"n":1,"error":"no answer within 2 s"}'
	expect_match "after the screen timeout, not later" \
	    "$(($(date +%s) - t0))" '^[2-5]$'
	ussd sess --from 081234560007 --url "$HANG" \
	    --secret "$D/fake.secret" --session-timeout 1 1
	expect "a session over its timeout: exit 1" "$?" 1
	expect "an error line" "$(cat "$D/sess.json")" \
	    '{"n":1,"error":"session over 1 s"}'
else
	t_fail "the fake endpoints start"
fi

# --- the end -----------------------------------------------------------------
# gone PID: not running (a zombie counts as gone).
gone() {
	g_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$g_st" ] || [ "${g_st#Z}" != "$g_st" ]
}
kill -TERM "$WPID"
wait_for 30 gone "$WPID"
expect "world stops on SIGTERM" "$?" 0
wait "$WPID" 2>/dev/null
expect "nothing of the world is left" \
    "$(ps -eo args= | grep -F "$R" | grep -v grep)" ""

finish
