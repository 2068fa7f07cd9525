#!/bin/sh
# The USSD channel over real HTTP (curl as the aggregator): whole
# sessions of a PPWP, a DPR party page and a DPD report; wrong inputs,
# back and start; a retried final request; a session that times out and
# is resumed; a missing or wrong secret; tallygw restarted (killed, and
# stopped) between a final request and its retry and between a dropped
# session and its resume. Every screen must fit 182
# characters, a PPWP report at most 10 screens; what is sent is stored
# and judged like an SMS, and its confirmation also reaches the phone by
# SMS; the KPPS number list applies to the network's number. TAP; every
# wait is time-boxed.

. tests/regress/lib.sh

t_tmp ussd
DATA=$(cd "$SHARED" 2>/dev/null && pwd)

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v curl >/dev/null || ! command -v sqlite3 >/dev/null; then
	t_fail "$B/tallysim, tallygw, tallyctl are built; curl, sqlite3 are"
	finish
	exit 1
fi

TPS=3201011001001
TPS2=3201011001002	# has a registered KPPS number (kpps.csv)
SERVICE='*123*45#'
SECRET=s3cr3t-aggregator-token-0123456789
DB=$D/gw/tallygw.db
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }

t_sign_pair "$D"
printf 'tps,number\n%s,+628111111111\n' "$TPS2" >"$D/kpps.csv"
printf '%s\n' "$SECRET" >"$D/ussd.secret"
chmod 600 "$D/ussd.secret"
"$CTL" keygen -o "$D/root.key"
"$CTL" import --registry "$D/registry.db" --desa "$DATA/desa_tps_2024.csv" \
    >/dev/null 2>&1
expect "the registry is imported" "$?" 0

"$SIM" run --dir "$D/sim" --modems 1 --seed 23 >"$D/sim.out" \
    2>"$D/sim.err" &
t_track "$!"
"$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err" &
t_track "$!"
if ! wait_for 30 grep -q '^ready$' "$D/sim.out" ||
    ! wait_for 30 grep -q '^ready$' "$D/c.out"; then
	t_fail "the simulator and the central receiver start"
	finish
	exit 1
fi
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$D/tallygw.conf" <<EOF
[gateway]
name = ussd-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec
registry = $D/registry.db
kpps = $D/kpps.csv

[tunables]
reply_merge_wait = 0
ussd_timeout = 4

[modem m0]
device = $D/sim/modem0
number = $N0

[central sim]
url = http://127.0.0.1:$(cat "$D/c/central.port")/v1/reports

[ussd]
listen = 127.0.0.1:$PORT
path = /ussd
secret = $D/ussd.secret
service = $SERVICE
EOF
"$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err" &
G=$!
t_track "$G"
if ! wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_fail "tallygw starts with [ussd]"
	tail -10 "$D/gw.err" | sed 's/^/#   /'
	finish
	exit 1
fi
t_ok "tallygw starts with [ussd]"
URL=http://127.0.0.1:$PORT/ussd

# post SESSION PHONE TEXT [CURL-ARGS...]: one callback; the answer.
post() {
	s=$1 p=$2 x=$3
	shift 3
	curl -s --max-time 10 -H "X-Tally-Secret: $SECRET" "$@" \
	    --data-urlencode "sessionId=$s" \
	    --data-urlencode "serviceCode=$SERVICE" \
	    --data-urlencode "phoneNumber=$p" \
	    --data-urlencode "networkCode=51010" \
	    --data-urlencode "text=$x" "$URL"
}
# code HEADER-ARGS...: only the HTTP status of a callback.
code() {
	curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@" \
	    --data-urlencode "sessionId=x1" \
	    --data-urlencode "phoneNumber=081200000001" \
	    --data-urlencode "text=" "$URL"
}
# session ID PHONE INPUT...: a whole session as an aggregator plays it
# (text = every input so far joined by *); screens in $D/ID.screens,
# one per line, newlines as |; the last answer in $D/ID.last.
session() {
	id=$1 ph=$2
	shift 2
	txt=
	first=1
	: >"$D/$id.screens"
	post "$id" "$ph" "" >"$D/$id.last"
	tr '\n' '|' <"$D/$id.last" >>"$D/$id.screens"
	echo >>"$D/$id.screens"
	for in in "$@"; do
		if [ $first = 1 ]; then txt=$in; first=0; else txt=$txt*$in; fi
		post "$id" "$ph" "$txt" >"$D/$id.last"
		tr '\n' '|' <"$D/$id.last" >>"$D/$id.screens"
		echo >>"$D/$id.screens"
	done
	LASTTEXT=$txt
}
# longest ID: the longest screen of a session, without CON/END.
longest() {
	sed 's/^CON //; s/^END //' "$D/$1.screens" |
	    awk '{ n = length($0); if (n > m) m = n } END { print m + 0 }'
}
# mac TEXT-WITHOUT-CODE: the content MAC of a report.
mac() { "$CTL" mac --key "$D/root.key" "$1*00000000" | awk '{print $NF}'; }

# --- the secret -----------------------------------------------------
expect "no secret: 403" "$(code)" 403
expect "a wrong secret: 403" "$(code -H 'X-Tally-Secret: nope')" 403
expect "the secret in the path: 200" "$(curl -s --max-time 10 -o /dev/null \
    -w '%{http_code}' --data 'sessionId=p1&phoneNumber=081200000002&text=' \
    "$URL/$SECRET")" 200
expect "a wrong path token: 403" "$(curl -s --max-time 10 -o /dev/null \
    -w '%{http_code}' --data 'sessionId=p2&phoneNumber=081200000002&text=' \
    "$URL/wrong")" 403
expect_match "refusals are logged" "$(grep -c 'refused: no or wrong secret' \
    "$D/gw.err")" '^[3-9]$'
expect "a missing sessionId: 400" "$(curl -s --max-time 10 -o /dev/null \
    -w '%{http_code}' -H "X-Tally-Secret: $SECRET" \
    --data 'phoneNumber=081200000002&text=' "$URL")" 400

# --- a PPWP report, values in one input -----------------------------
P1=081234560001
V1="255*120*95*36*251*4"
C1=$(mac "1*$TPS*3*$V1")
session s-ppwp $P1 1 $TPS "$V1" 3 "$C1" 1
n=$(wc -l <"$D/s-ppwp.screens")
expect_match "a PPWP report takes at most 10 screens ($n)" "$n" '^([1-9]|10)$'
expect_match "every PPWP screen fits 182 characters" "$(longest s-ppwp)" \
    '^([0-9]|[0-9][0-9]|1[0-7][0-9]|18[0-2])$'
expect_match "the first screen lists the contests" \
    "$(sed -n 1p "$D/s-ppwp.screens")" '^CON Lapor hasil TPS.*1 PPWP.*5 DPRD'
expect_match "the review names every number" \
    "$(sed -n 6p "$D/s-ppwp.screens")" \
    'PEMILIH=255, 1=120, 2=95, 3=36, SAH=251, TDK SAH=4.*1 KIRIM'
R1=$("$CTL" receipt --key "$D/root.key" "1*$TPS*3*$V1*$C1" | awk '{print $NF}')
expect_match "the last screen is END with the receipt" \
    "$(cat "$D/s-ppwp.last")" "^END .*$R1"
expect "it is stored once, OK, as a USSD message" \
    "$(q "SELECT count(*), verdict, modem, smsc_time FROM messages WHERE sender = '+6281234560001'")" \
    "1|OK|ussd|s-ppwp"
again=$(post s-ppwp $P1 "$LASTTEXT")
expect "a retried final request gets the same screen" "$again" \
    "$(cat "$D/s-ppwp.last")"
expect "and is not stored twice" \
    "$(q "SELECT count(*) FROM messages WHERE sender = '+6281234560001'")" 1
wait_for 30 sh -c "timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $P1 | grep -q '$R1'"
expect "the confirmation also reaches the phone by SMS" "$?" 0

# --- a DPR party page, one value per screen --------------------------
P2=081234560002
C2=$(mac "2*$TPS*21*5*40*1*2*3*4*5*6*7*8*9*10")
session s-dpr $P2 2 $TPS 5 40 1 2 3 4 5 6 7 8 9 10 21 "$C2" 1 1
expect_match "a value screen names its field" \
    "$(sed -n 5p "$D/s-dpr.screens")" 'Ketik Caleg 1 \(angka 2 dari 11\)'
expect_match "every DPR screen fits 182 characters" "$(longest s-dpr)" \
    '^([0-9]|[0-9][0-9]|1[0-7][0-9]|18[0-2])$'
expect "the DPR page is stored OK with its page" \
    "$(q "SELECT verdict, contest, page FROM messages WHERE sender = '+6281234560002'")" \
    "OK|DPR|5"

# --- a DPD report of 57 values --------------------------------------
P3=081234560003
V3=$(awk 'BEGIN { s = "250"; for (i = 1; i <= 54; i++) s = s "*" (i <= 24 ? 10 : 0); print s "*240*10" }')
C3=$(mac "3*$TPS*4*$V3")
session s-dpd $P3 3 $TPS "$V3" 4 "$C3" 1 1 1 1 1 1 1 1 1 1
expect_match "every DPD screen fits 182 characters" "$(longest s-dpd)" \
    '^([0-9]|[0-9][0-9]|1[0-7][0-9]|18[0-2])$'
expect_match "the DPD review takes several screens" \
    "$(grep -c '^CON Periksa' "$D/s-dpd.screens")" '^([3-9]|1[0-9])$'
expect "the DPD report is stored OK" \
    "$(q "SELECT verdict, contest FROM messages WHERE sender = '+6281234560003'")" \
    "OK|DPD"

# --- wrong inputs, back, start; a bad code ---------------------------
P4=081234560004
session s-wrong $P4 7 1 0 1 12345 $TPS "##" 1 $TPS "$V1" 0 3 9 77777777 1
expect_match "a wrong contest repeats the screen with a reason" \
    "$(sed -n 2p "$D/s-wrong.screens")" '^CON Salah: pilih 1 sampai 5\.'
expect_match "0 goes back from the TPS screen" \
    "$(sed -n 4p "$D/s-wrong.screens")" '^CON Lapor hasil TPS'
expect_match "a short TPS code is refused" \
    "$(sed -n 6p "$D/s-wrong.screens")" '^CON Salah: kode TPS harus 13 angka'
expect_match "## on a value screen starts again" \
    "$(sed -n 8p "$D/s-wrong.screens")" '^CON Lapor hasil TPS'
expect_match "0 on the SEQ screen goes back to the last value" \
    "$(sed -n 12p "$D/s-wrong.screens")" 'Ketik TIDAK SAH'
expect_match "a bad code is answered with the rejection" \
    "$(cat "$D/s-wrong.last")" '^END DITOLAK'
expect "and stored as REJECTED CODE_BAD" \
    "$(q "SELECT verdict, reason FROM messages WHERE sender = '+6281234560004'")" \
    "REJECTED|CODE_BAD"

# --- a session that times out, then resumed --------------------------
P5=081234560005
session s-drop $P5 1 $TPS 255 120
sleep 10
expect "a retried final request after its session went idle: the same \
screen (from the store)" "$(post s-ppwp $P1 "1*$TPS*$V1*3*$C1*1")" \
    "$(cat "$D/s-ppwp.last")"
late=$(post s-drop $P5 "1*$TPS*255*120*95")
expect_match "a timed-out session is over" "$late" '^END Sesi sudah berakhir'
expect_match "the timeout is logged, nothing stored" \
    "$(grep 'session s-drop' "$D/gw.err" | grep -c 'timed out at values: nothing stored; kept to resume')" '^1$'
expect "nothing was stored for it" \
    "$(q "SELECT count(*) FROM messages WHERE sender = '+6281234560005'")" 0
C5=$(mac "1*$TPS*5*$V1")
session s-resume $P5 9 95 36 251 4 5 "$C5" 1
expect_match "the new session offers the kept report" \
    "$(sed -n 1p "$D/s-resume.screens")" "9 Lanjut PPWP TPS $TPS"
expect_match "9 takes it up at the next value" \
    "$(sed -n 2p "$D/s-resume.screens")" 'Ketik Paslon 2 \(angka 3 dari 6\)'
expect "the resumed report is stored OK" \
    "$(q "SELECT verdict, seq FROM messages WHERE sender = '+6281234560005'")" \
    "OK|5"

# --- the KPPS list applies to the network's number ------------------
P6=081234560006
C6=$(mac "1*$TPS2*1*$V1")
session s-kpps $P6 1 $TPS2 "$V1" 1 "$C6" 1
expect "a number not registered for its TPS is FLAGGED SENDER" \
    "$(q "SELECT verdict, flags FROM messages WHERE sender = '+6281234560006'")" \
    "FLAGGED|16"
C7=$(mac "1*$TPS2*2*$V1")
session s-kpps2 08111111111 1 $TPS2 "$V1" 2 "$C7" 1
expect "the registered number's report is OK" \
    "$(q "SELECT verdict, flags FROM messages WHERE sender = '+628111111111'")" \
    "OK|0"

# --- restarts: the retried final request, the kept reports -----------
# restart SIGNAL: stop tallygw with SIGNAL (KILL: a crash), wait until it
# and its modem worker are gone, start it again; its log in $D/gwN.err.
NSTART=0
restart() {
	kids=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$G" \
	    '{ sub(/ \(.*\) /, " "); if ($3 == p) print $1 }')
	kill -"$1" "$G"
	wait "$G" 2>/dev/null
	for k in $kids; do
		wait_for 30 sh -c "! kill -0 $k 2>/dev/null"
	done
	NSTART=$((NSTART + 1))
	"$GW" -d -f "$D/tallygw.conf" >"$D/gw$NSTART.out" \
	    2>"$D/gw$NSTART.err" &
	G=$!
	t_track "$G"
	wait_for 60 grep -q '^ready$' "$D/gw$NSTART.out"
}
P8=081234560008
C8=$(mac "1*$TPS*7*$V1")
R8=$("$CTL" receipt --key "$D/root.key" "1*$TPS*7*$V1*$C8" | awk '{print $NF}')
session s-final $P8 1 $TPS "$V1" 7 "$C8" 1
FINAL8=$LASTTEXT
expect_match "a report's last screen has its receipt" \
    "$(cat "$D/s-final.last")" "^END .*$R8"
P9=081234560009
session s-kept $P9 2 $TPS 5 40 1 2
post s-kept2 $P9 "" >"$D/s-kept2.first"
expect_match "the same number dials again: its report is offered" \
    "$(cat "$D/s-kept2.first")" "9 Lanjut DPR TPS $TPS hal 5"
restart KILL
expect "tallygw is killed and starts again" "$?" 0
expect "after the crash, the retried final request gets the same screen" \
    "$(post s-final $P8 "$FINAL8")" "$(cat "$D/s-final.last")"
expect "and the report is stored once" \
    "$(q "SELECT count(*) FROM messages WHERE sender = '+6281234560008'")" 1
expect_match "another number's retry of that session is refused" \
    "$(post s-final $P9 "$FINAL8")" '^END Sesi tidak sah'
expect_match "a session never seen is over" \
    "$(post s-never $P9 "1*$TPS")" '^END Sesi sudah berakhir'
C9=$(mac "2*$TPS*22*5*40*1*2*3*4*5*6*7*8*9*10")
session s-kept3 $P9 9 3 4 5 6 7 8 9 10 22 "$C9" 1 1
expect_match "after the crash, the dropped session's report is offered" \
    "$(sed -n 1p "$D/s-kept3.screens")" "9 Lanjut DPR TPS $TPS hal 5"
expect_match "9 takes it up at the next value" \
    "$(sed -n 2p "$D/s-kept3.screens")" 'Ketik Caleg 3 \(angka 4 dari 11\)'
expect "the resumed report is stored OK, once" \
    "$(q "SELECT count(*), verdict, page, seq FROM messages WHERE sender = '+6281234560009'")" \
    "1|OK|5|22"
expect "a resumed report is offered no more" \
    "$(post s-kept4 $P9 "" | grep -c '9 Lanjut')" 0
P10=081234560010
session s-open $P10 1 $TPS 255
restart TERM
expect "tallygw is stopped and starts again" "$?" 0
expect "the stop keeps an open session's report" \
    "$(grep -c 'session s-open from +6281234560010 ended by the gateway.s stop at values: nothing stored; kept to resume' "$D/gw1.err")" 1
C10=$(mac "1*$TPS*8*$V1")
session s-open2 $P10 9 120*95*36*251*4 8 "$C10" 1
expect_match "after the stop, the open session's report is offered" \
    "$(sed -n 1p "$D/s-open2.screens")" "9 Lanjut PPWP TPS $TPS"
expect "and, taken up, it is stored OK" \
    "$(q "SELECT verdict, seq, values_text FROM messages WHERE sender = '+6281234560010'")" \
    "OK|8|255 120 95 36 251 4"
expect "the store holds the last screens, and no kept report now" \
    "$(q "SELECT (SELECT count(*) FROM ussd_ends), (SELECT count(*) FROM ussd_kept)")" \
    "$(q "SELECT count(*) FROM messages WHERE modem = 'ussd'")|0"

# --- the service code -------------------------------------------------
expect_match "another service code is refused" \
    "$(curl -s --max-time 10 -H "X-Tally-Secret: $SECRET" \
    --data 'sessionId=x9&serviceCode=*999%23&phoneNumber=081200000009&text=' \
    "$URL")" '^END Kode layanan salah'

# /status counts in memory (docs/admin.md): the USSD channel's messages
# too, as the store holds them.
expect "/status counts what the store holds, USSD messages too" \
    "$(t_counts "$D/gw")" "agree 17"

finish
