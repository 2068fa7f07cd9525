#!/bin/sh
# System tests of the admin API (docs/admin.md) and tallyctl's commands
# of a running gateway (docs/tallyctl.md): tallysim (2 modems), its
# central receiver and tallygw started by hand, with a registry of
# Kalimantan Utara (province 65) cut from the KPU village list.
#
# - who may ask: the control socket (curl --unix-socket) for root, and
#   not for `nobody' (403, logged); TCP with the bearer token only (no
#   token, a wrong one: 401, logged); no TCP listener without a token;
# - the commands, in tables and in --json, with what this test sent:
#   status, modems, messages and its filters, msg, coverage (against
#   counts taken from the CSV with awk), export (line by line), resend,
#   forward retry --failed (after a central that refused every forward)
#   and forward retry (after an outage, before the backoff ends), modem
#   enable/disable/reconnect/balance (counters kept), sweep, reload;
# - an export of 200,000 rows streams: tallygw's peak memory hardly moves.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp admin
G=
C=

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v sqlite3 >/dev/null || ! command -v curl >/dev/null ||
    ! command -v python3 >/dev/null || [ ! -r "$SHARED/desa_tps_2024.csv" ]
then
	t_fail "$B/tallysim, tallygw, tallyctl are built; sqlite3, curl, python3; $SHARED"
	finish
	exit 1
fi

DB=$D/gw/tallygw.db
SOCK=$D/gw/tallygw.sock
sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }
gwctl() { timeout 60 "$CTL" "$@" --state "$D/gw"; }
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
# stat NAME: a count of `tallyctl status'.
stat() { gwctl status | t_kv "$1"; }
# mcol MODEM COLUMN: one cell of `tallyctl modems'.
mcol() { gwctl modems | t_col "$1" "$2"; }
# py EXPR < JSON: a value of a JSON document (d), printed by python3.
py() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
dump_logs() { tail -25 "$D/gw.err" | sed 's/^/#   /'; }

# --- the world ------------------------------------------------------

t_sign_pair "$D"
# RFC 8032 test key 2: a central that holds it refuses our signatures.
printf 'ed25519-public %s\n' \
    3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c \
    >"$D/other.pub"
"$CTL" keygen -o "$D/root.key"
awk -F, 'NR == 1 || $2 == 65' "$SHARED/desa_tps_2024.csv" >"$D/desa65.csv"
"$CTL" import --registry "$D/reg.db" --desa "$D/desa65.csv" >/dev/null
expect "the registry of province 65 is imported" "$?" 0

t_bg "$SIM" run --dir "$D/sim" --modems 2 --seed 5 >"$D/sim.out" \
    2>"$D/sim.err"
t_bg "$SIM" central --dir "$D/c" --pubkey "$D/other.pub" >"$D/c.out" \
    2>"$D/c.err"
C=$!
if ! wait_for 30 grep -q '^ready$' "$D/sim.out" ||
    ! wait_for 30 grep -q '^ready$' "$D/c.out"; then
	t_fail "the simulator and the central receiver start"
	finish
	exit 1
fi
CPORT=$(cat "$D/c/central.port")
APORT=$(freeport)
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
N1=$(sctl modems --json | sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p')
printf 'tok-%s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" \
    >"$D/token"
chmod 600 "$D/token"
printf 'tok-wrong-wrong-wrong-wrong\n' >"$D/wrong.token"
chmod 600 "$D/wrong.token"

# conf [ADMIN]: the whole configuration; ADMIN is its [admin] section.
conf() {
	cat <<EOF
[gateway]
name = adm-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec
registry = $D/reg.db

[tunables]
reply_merge_wait = 0
forward_min = 60
forward_max = 120
sweep_interval = 600

[modem m0]
device = $D/sim/modem0
number = $N0
operator = Telkomsel

[modem m1]
device = $D/sim/modem1
number = $N1
operator = Indosat

[central sim]
url = http://127.0.0.1:$CPORT/v1/reports
EOF
	[ -n "$1" ] && printf '\n%s\n' "$1"
}

# Never open on TCP without a token: the file and the line say why.
conf "[admin]
listen = 127.0.0.1:$APORT" >"$D/notoken.conf"
line=$(grep -n '^listen' "$D/notoken.conf" | cut -d: -f1)
out=$("$GW" -n -f "$D/notoken.conf" 2>&1)
expect "tallygw refuses [admin] listen without a token" "$?" 1
expect_match "and names the file and the line" "$out" \
    "^tallygw: $D/notoken.conf:$line: \\[admin\\] listen needs a token"
conf "[admin]
listen = 127.0.0.1:$APORT
token = $D/open.token" >"$D/open.conf"
cp "$D/token" "$D/open.token"
chmod 644 "$D/open.token"
out=$(timeout 20 "$GW" -d -f "$D/open.conf" 2>&1)
expect "a token file others can read stops the start" "$?" 1
expect_match "and says so" "$out" "open.token: admin token file is accessible by group or others"

conf "[admin]
listen = 127.0.0.1:$APORT
token = $D/token" >"$D/tallygw.conf"
t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
G=$!
if wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_ok "tallygw is ready with the admin API on the socket and TCP"
else
	t_fail "tallygw is ready with the admin API on the socket and TCP"
	dump_logs
	finish
	exit 1
fi

# --- who may ask ----------------------------------------------------

URL=http://127.0.0.1:$APORT
code() { curl -s -o "$D/body" -w '%{http_code}' "$@"; }
expect "the control socket answers root (curl --unix-socket)" \
    "$(code --unix-socket "$SOCK" http://localhost/status)" 200
expect "with the gateway's JSON" "$(py 'd["gateway"]' <"$D/body")" adm-gw
expect "TCP without a token: 401" "$(code "$URL/status")" 401
expect_match "and the log names the address" "$(cat "$D/gw.err")" \
    "admin: 127\\.0\\.0\\.1:[0-9]+: GET /status: refused: no token"
expect "TCP with a wrong token: 401" \
    "$(code -H 'Authorization: Bearer tok-wrong-wrong-wrong-wrong' \
    "$URL/modems")" 401
expect_match "logged too" "$(cat "$D/gw.err")" \
    "admin: 127\\.0\\.0\\.1:[0-9]+: GET /modems: refused: wrong token"
expect "TCP with a Basic header: 401" \
    "$(code -u admin:x "$URL/status")" 401
expect "TCP with the token: 200" \
    "$(code -H "Authorization: Bearer $(cat "$D/token")" "$URL/status")" 200
expect "tallyctl --url --token-file" \
    "$("$CTL" status --url "$URL" --token-file "$D/token" |
    awk '$1 == "gateway" { print $2 }')" adm-gw
out=$("$CTL" status --url "$URL" --token-file "$D/wrong.token" 2>&1)
expect "tallyctl with a wrong token fails" "$?" 1
expect_match "and says the token was refused" "$out" \
    "tallyctl status: a valid bearer token is required"
expect_rc "--token-file without --url is a usage error" 2 \
    "$CTL" status --token-file "$D/token"
# Another user: the directory and the socket opened up for the test,
# so that only the gateway's check of the peer stands in the way.
cp "$CTL" "$D/tallyctl"
chmod 711 "$D" "$D/gw"
chmod 666 "$SOCK"
if command -v setpriv >/dev/null; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$D/tallyctl" status --sock "$SOCK" 2>&1)
	expect "user nobody is refused on the control socket" "$?" 1
	expect_match "tallyctl says forbidden" "$out" "tallyctl status: forbidden"
	expect_match "the log names the socket and the user" \
	    "$(cat "$D/gw.err")" \
	    "admin: $SOCK: uid 65534 pid [0-9]+: GET /status: refused"
else
	t_fail "setpriv (util-linux) is installed"
fi
chmod 700 "$D" "$D/gw"
expect "an unknown path: 404" \
    "$(code --unix-socket "$SOCK" http://localhost/nope)" 404
expect "a GET path POSTed: 405" \
    "$(code -X POST --unix-socket "$SOCK" http://localhost/status)" 405
expect "a bad filter: 400" \
    "$(code --unix-socket "$SOCK" 'http://localhost/messages?limit=0')" 400
expect "saying why" "$(py 'd["error"]' <"$D/body")" \
    "limit: not a number 1..1000: '0'"
expect_rc "tallyctl: a bad filter value is a usage error" 2 \
    gwctl messages --limit 0

# --- messages -------------------------------------------------------

# TPS of the test: three of the first village of Bulungan (6501) and
# two of the first village of Malinau (6502), from the CSV.
V2=$(awk -F, '$4 == 6502 { print $1; exit }' "$D/desa65.csv")
T1=6501011001001
T2=6501011001002
T3=6501011001003
T4=${V2}001
T5=${V2}002
ok() { "$CTL" mac --key "$D/root.key" "PPWP $1 $2 100 30 40 20 90 10"; }
flag() { "$CTL" mac --key "$D/root.key" "PPWP $1 $2 100 30 40 25 90 10"; }
n=0
# send PHONE TEXT: inject it on modem 0 and wait until it is stored.
send() {
	sctl inject --from "$1" --to 0 "$2" >/dev/null
	n=$((n + 1))
	wait_for 20 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' 'SELECT count(*) FROM messages')\" -ge $n ]" ||
	    echo "# message $n ($2) not stored in time"
}
P1=081200000301 P2=081200000302 P3=081200000303 P4=081200000304
P5=081200000305 P6=081200000306 P7=081200000307
t0=$(date -u +%Y-%m-%dT%H:%M:%SZ)
send $P1 "$(ok $T1 1)"
send $P2 "$(flag $T2 1)"
send $P3 "$(flag $T3 1)"
send $P3 "$(ok $T3 2)"
send $P4 "$(flag $T4 1)"
send $P5 "PPWP $T1 5 100 30 40 20 90 10 12345678"
send $P6 "halo, ini operator"
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM outbox WHERE state = 'delivered'\")\" -ge 7 ]"
expect "seven messages in, seven replies delivered" "$?" 0
wait_for 20 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM forwards WHERE state = 'failed'\")\" -ge 5 ]"
expect "the central refuses the five forwards (a key it does not hold)" "$?" 0

expect "status: received reports ok flagged duplicate rejected other" \
    "$(for k in received reports ok flagged duplicate rejected other; do
    stat $k; done | tr '\n' ' ')" "7 6 2 3 0 1 1 "
expect "status: confirmed delivered replies_queued reply_failed" \
    "$(for k in confirmed delivered replies_queued reply_failed; do
    stat $k; done | tr '\n' ' ')" "7 7 0 0 "
expect "status: forwarded forward_pending forward_failed" \
    "$(for k in forwarded forward_pending forward_failed; do stat $k
    done | tr '\n' ' ')" "0 0 5 "
expect "status: modems_ready" "$(stat modems_ready)" 2/2
expect_match "status: the central, up (it answers), 5 refused" \
    "$(gwctl status | awk '$1 == "sim"')" '^sim +up +0 +0 +5 +0 '
gwctl status --json >"$D/st.json"
expect "status --json: one document with the same counts" \
    "$(py 'd["messages"]["received"], d["messages"]["flagged"], d["forwards"]["failed"], d["modems"]["ready"], d["centrals"][0]["name"]' <"$D/st.json")" \
    "7 3 5 2 sim"
expect "status: its counts are the store's, counted again in SQL" \
    "$(t_counts "$D/gw")" "agree 17"

expect "modems: a header and a row per modem" \
    "$(gwctl modems | awk '{ print $1 }' | tr '\n' ' ')" "MODEM m0 m1 "
expect "modems: m0 state, number, operator, received today" \
    "$(mcol m0 STATE) $(mcol m0 NUMBER) $(mcol m0 OPERATOR) $(mcol m0 RECV)" \
    "running/ready $N0 Telkomsel 7"
expect "modems: the replies sent today, on either modem" \
    "$(($(mcol m0 SENT) + $(mcol m1 SENT)))" 7
expect "modems: registration and SIM" "$(mcol m1 REG) $(mcol m1 SIM)" \
    "home 0/30"
gwctl modems --json >"$D/m.json"
expect "modems --json" \
    "$(py '[(m["name"], m["number"], m["received_today"], m["state"], m["worker"]) for m in d["modems"]]' <"$D/m.json")" \
    "[('m0', '$N0', 7, 'running', 'ready'), ('m1', '$N1', 0, 'running', 'ready')]"

# messages: newest first; the filters.
ids() {
	gwctl messages "$@" 2>/dev/null | awk 'NR > 1 { print $1 }' |
	    tr '\n' ' '
}
id() { q "SELECT id FROM messages WHERE raw = '$1'"; }
I1=$(id "$(ok $T1 1)")
I2=$(id "$(flag $T2 1)")
I3=$(id "$(flag $T3 1)")
I4=$(id "$(ok $T3 2)")
I5=$(id "$(flag $T4 1)")
I6=$(id "PPWP $T1 5 100 30 40 20 90 10 12345678")
I7=$(id "halo, ini operator")
expect "messages: all seven, newest first" "$(ids)" \
    "$I7 $I6 $I5 $I4 $I3 $I2 $I1 "
expect "messages --verdict FLAGGED" "$(ids --verdict FLAGGED)" \
    "$I5 $I3 $I2 "
expect "messages --tps" "$(ids --tps $T3)" "$I4 $I3 "
expect "messages --sender (as the officer writes it)" \
    "$(ids --sender $P3)" "$I4 $I3 "
expect "messages --kind other" "$(ids --kind other)" "$I7 "
expect "messages --forward failed" "$(ids --forward failed)" \
    "$I5 $I4 $I3 $I2 $I1 "
expect "messages --forward none" "$(ids --forward none)" "$I7 $I6 "
expect "messages --reply delivered --channel sms" \
    "$(ids --reply delivered --channel sms --limit 3)" "$I7 $I6 $I5 "
expect "messages --channel ussd: none came that way" "$(ids --channel ussd)" ""
expect "messages --since (the test's start)" "$(ids --since "$t0" --limit 2)" \
    "$I7 $I6 "
expect "messages --until an hour ago: none" "$(ids --until 1h)" ""
expect "messages --limit 2 --before" "$(ids --limit 2 --before "$I5")" \
    "$I4 $I3 "
expect_match "messages: there are older ones, says stderr" \
    "$(gwctl messages --limit 2 2>&1 >/dev/null)" "--before $I6"
row=$(gwctl messages --tps $T2 | sed -n 2p)
expect_match "messages: a row says verdict, TPS, contest, SEQ, reply, forward" \
    "$row" "FLAGGED +$T2 +PPWP +- +1 +[0-9]{8} +delivered +sim:failed "
gwctl messages --verdict FLAGGED --json >"$D/l.json"
expect "messages --json" \
    "$(py '[(m["id"], m["tps"], m["flags"], m["reply"], m["forwards"][0]["state"]) for m in d["messages"]]' <"$D/l.json")" \
    "[($I5, '$T4', ['SUM'], 'delivered', 'failed'), ($I3, '$T3', ['SUM'], 'delivered', 'failed'), ($I2, '$T2', ['SUM'], 'delivered', 'failed')]"

# msg: the whole life of the correction.
m4=$(gwctl msg "$I4")
expect_match "msg: the correction's line" "$m4" \
    "^msg $I4 from \\+62${P3#0} on m0 at [0-9T:.-]+Z \\(1 part\\)\$"
expect_match "msg: OK, correcting SEQ 1" "$m4" "^detail: OK PPWP $T3 2 .*\\(corrects SEQ 1\\)"
expect_match "msg: its reply was delivered" "$m4" '^reply state: delivered$'
expect_match "msg: its forward was refused" "$m4" '^forward sim: failed$'
expect_match "msg: with the central's answer" "$m4" \
    '^forward sim http status: 401$'
gwctl msg "$I4" --json >"$D/msg.json"
expect "msg --json" \
    "$(py 'd["report"]["tps"], d["report"]["seq"], d["report"]["supersedes"], d["report"]["values"], d["replies"][0]["sms"]["state"]' <"$D/msg.json")" \
    "$T3 2 1 [100, 30, 40, 20, 90, 10] delivered"
expect_rc "msg of no message" 1 gwctl msg 999999

# --- forward retry --------------------------------------------------

# The central now holds our key, on the same port: retry what it refused.
t_stop "$C"
t_bg "$SIM" central --dir "$D/c" --listen "127.0.0.1:$CPORT" \
    --pubkey "$D/gateway.pub" >"$D/c2.out" 2>"$D/c2.err"
C=$!
wait_for 30 grep -q '^ready$' "$D/c2.out"
expect "the central is back with our key" "$?" 0
expect "forward retry --failed" "$(gwctl forward retry --failed)" \
    "5 forwards due now"
wait_for 20 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM forwards WHERE state = 'acked'\")\" -ge 5 ]"
expect "the five are acked" "$?" 0
expect "status: forwarded 5, none failed" \
    "$(stat forwarded) $(stat forward_failed)" "5 0"
expect "the central holds five reports" \
    "$(timeout 10 "$SIM" ctl --dir "$D/c" central | wc -l)" 5
expect_match "the retry is logged" "$(cat "$D/gw.err")" \
    "forward retry --failed: 5 forwards due now"
expect "forward retry --failed again: nothing" \
    "$(gwctl forward retry --failed)" "0 forwards due now"

# An outage: the row waits for forward_min (60 s) unless retried.
timeout 10 "$SIM" central --dir "$D/c" --ctl down >/dev/null
send $P7 "$(ok $T5 1)"
I8=$(id "$(ok $T5 1)")
wait_for 20 sh -c "timeout 10 '$CTL' messages --forward retry_wait --state '$D/gw' | grep -q '^ *$I8 '"
expect "the central is down: the forward waits (retry_wait)" "$?" 0
timeout 10 "$SIM" central --dir "$D/c" --ctl up >/dev/null
expect "forward retry ID of the waiting one" \
    "$(gwctl forward retry "$I8" --json | py 'd["retried"]')" 1
wait_for 15 sh -c "timeout 10 '$CTL' msg $I8 --state '$D/gw' | grep -q '^forward sim: acked'"
expect "it is acked well before its backoff ends" "$?" 0
expect_rc "forward retry of no message" 1 gwctl forward retry 999999
expect_rc "forward retry ID --failed is a usage error" 2 \
    gwctl forward retry 3 --failed
expect_rc "forward frob is a usage error" 2 gwctl forward frob

# --- resend ---------------------------------------------------------

r=$(gwctl resend "$I1")
expect_match "resend: the reply is queued again" "$r" \
    "^msg $I1: reply [0-9]+ to \\+62${P1#0} queued again\$"
wait_for 20 sh -c "[ \$(timeout 10 '$SIM' ctl --dir '$D/sim' inbox --phone $P1 | wc -l) -ge 2 ]"
expect "the officer has the reply twice" "$?" 0
expect "the same text both times" \
    "$(sctl inbox --phone $P1 | sed 's/.*"text":"\([^"]*\)".*/\1/' | sort -u | wc -l)" 1
wait_for 20 sh -c "[ \$(timeout 10 '$CTL' msg $I1 --state '$D/gw' | grep -c '^reply state: delivered') -eq 2 ]"
expect "msg shows both replies delivered" "$?" 0
expect_rc "resend of no message" 1 gwctl resend 999999

# --- coverage -------------------------------------------------------

# What the registry expects, from the CSV: TPS per regency of 65.
awk -F, 'NR > 1 { t[$4] += $12; n[$4] = $5 } END { for (k in t) print k, t[k] }' \
    "$D/desa65.csv" | sort >"$D/expected"
# Reported and flagged PPWP: 6501: T1, T2 (flagged), T3 (corrected: not
# flagged); 6502: T4 (flagged), T5.
want=$(while read -r kab tps; do
	case $kab in
	6501) printf '%s %s 3 1 %s\n' "$kab" "$tps" $((tps - 3)) ;;
	6502) printf '%s %s 2 1 %s\n' "$kab" "$tps" $((tps - 2)) ;;
	*) printf '%s %s 0 0 %s\n' "$kab" "$tps" "$tps" ;;
	esac
done <"$D/expected")
expect "coverage by regency of 65 (PPWP): expected reported flagged missing" \
    "$(gwctl coverage --level regency --in 65 --contest PPWP |
    awk 'NR > 1 && $1 != "total" { print $1, $(NF-3), $(NF-2), $(NF-1), $NF }')" \
    "$want"
total=$(awk '{ s += $2 } END { print s }' "$D/expected")
expect "coverage: the province's total row" \
    "$(gwctl coverage --level regency --in 65 --contest PPWP |
    awk '$1 == "total" { print $3, $4, $5, $6 }')" "$total 5 2 $((total - 5))"
expect "coverage: the regency's name" \
    "$(gwctl coverage --level regency --in 65 --contest PPWP | awk '$1 == "6501" { print $2 }')" \
    BULUNGAN
expect "coverage --json: DPRDK is expected everywhere, reported nowhere" \
    "$(gwctl coverage --json | py '[(g["code"], g["tps"], g["contests"]["DPRDK"]["expected"], g["contests"]["DPRDK"]["reported"]) for g in d["regions"]]')" \
    "[('65', $total, $total, 0)]"
nv=$(awk -F, 'substr($1, 1, 6) == "650101"' "$D/desa65.csv" | wc -l)
expect "coverage by village of a district: a row per village of the CSV" \
    "$(gwctl coverage --level village --in 650101 --contest PPWP | awk 'NR > 1 && $1 != "total"' | wc -l)" \
    "$nv"
expect "coverage of the village of T1..T3" \
    "$(gwctl coverage --level village --in 650101 --contest PPWP |
    awk '$1 == "6501011001" { print $(NF-3), $(NF-2), $(NF-1), $NF }')" \
    "4 3 1 1"

# --- export ---------------------------------------------------------

# line TPS SEQ VERDICT FLAGS TEXT: the export's line for that report.
line() {
	printf '%s,PPWP,,%s,%s,%s,100 30 40 %s 90 10,%s,%s,%s\n' "$1" "$2" \
	    "$3" "$4" "$([ "$3" = OK ] && echo 20 || echo 25)" \
	    "$("$CTL" receipt --key "$D/root.key" "$5")" "$(id "$5")" \
	    "$(q "SELECT received_at FROM messages WHERE raw = '$5'")"
}
{
	echo "tps,contest,page,seq,verdict,flags,values,receipt,msg_id,received_at"
	line $T1 1 OK "" "$(ok $T1 1)"
	line $T2 1 FLAGGED SUM "$(flag $T2 1)"
	line $T3 2 OK "" "$(ok $T3 2)"
	line $T4 1 FLAGGED SUM "$(flag $T4 1)"
	line $T5 1 OK "" "$(ok $T5 1)"
} >"$D/want.csv"
gwctl export | tr -d '\r' >"$D/got.csv"
expect "export: the latest accepted report of each TPS, line by line" \
    "$(diff "$D/want.csv" "$D/got.csv" && echo same)" same
expect "export --region 6502: its two TPS" \
    "$(gwctl export --region "$V2" | tr -d '\r' | cut -d, -f1 | tr '\n' ' ')" \
    "tps $T4 $T5 "
expect "export --contest DPD: the header alone" \
    "$(gwctl export --contest DPD | wc -l)" 1
gwctl export --json >"$D/x.json"
expect "export --json: the same rows" \
    "$(py '[(r["tps"], r["seq"], r["verdict"], r["flags"], r["msg_id"]) for r in d]' <"$D/x.json")" \
    "[('$T1', 1, 'OK', [], $I1), ('$T2', 1, 'FLAGGED', ['SUM'], $I2), ('$T3', 2, 'OK', [], $I4), ('$T4', 1, 'FLAGGED', ['SUM'], $I5), ('$T5', 1, 'OK', [], $I8)]"
expect "export over TCP (curl, chunked)" \
    "$(curl -s -H "Authorization: Bearer $(cat "$D/token")" "$URL/export" | tr -d '\r' | diff "$D/want.csv" - && echo same)" \
    same

# --- modems ---------------------------------------------------------

s0=$(mcol m0 SENT)
r0=$(mcol m0 RECV)
out=$(gwctl modem disable m1)
expect "modem disable m1: its row after" "$(echo "$out" | awk 'NR == 2 { print $1 }')" m1
wait_for 20 sh -c "timeout 5 '$CTL' modems --state '$D/gw' | grep -q '^m1 .* off/'"
expect "m1 is off" "$?" 0
gwctl modem enable m1 >/dev/null
wait_for 30 sh -c "timeout 5 '$CTL' modems --state '$D/gw' | grep -q '^m1 .* running/ready'"
expect "modem enable m1: running/ready again" "$?" 0
gwctl modem reconnect m0 >/dev/null
expect "modem reconnect m0" "$?" 0
wait_for 20 grep -q 'modem m0: worker .*reconnect requested' "$D/gw.err"
expect "the worker reconnects" "$?" 0
wait_for 30 sh -c "timeout 5 '$CTL' modems --state '$D/gw' | grep -q '^m0 .* running/ready'"
expect "m0 is ready after it" "$?" 0
expect "m0's counters of the day survive the worker's restart" \
    "$(mcol m0 SENT) $(mcol m0 RECV)" "$s0 $r0"
expect_match "its last error says why it went down" \
    "$(gwctl modems --json | py '[m["last_error"] for m in d["modems"]][0]')" \
    "reconnect requested"
bal=$(gwctl modem balance m0 --json | py 'd["balance"]')
sim=$(sctl modems --json | head -1 | sed 's/.*"balance":\([0-9]*\).*/\1/')
expect "modem balance m0: the SIM's balance, asked now" "$bal" "$sim"
expect "and in the table" "$(mcol m0 BALANCE)" "$sim"
expect_rc "modem disable of no modem" 1 gwctl modem disable m9
expect_rc "modem frob is a usage error" 2 gwctl modem frob m0

expect "sweep" "$(gwctl sweep)" "sweep asked"
expect "reload --json" "$(gwctl reload --json)" '{"reload":"asked"}'
wait_for 10 grep -q 'tallygw: reloading' "$D/gw.err"
expect "the gateway reloads" "$?" 0

# A stored text that is not UTF-8 (written behind the gateway's back):
# the answer is still JSON, the bad byte a U+FFFD.
q "INSERT INTO messages (modem, modem_number, sender, smsc_time,
    received_at, parts, raw, kind) VALUES ('m0', '', '+62811', '',
    '2026-01-01T00:00:00.000Z', 1, CAST(X'68616c6fff0a' AS TEXT), 'other')"
expect "a text that is not UTF-8 is still JSON, with U+FFFD" \
    "$(gwctl messages --limit 1 --json | py 'ascii(d["messages"][0]["text"])')" \
    "'halo\ufffd\n'"

# --- an export of 200,000 rows streams ------------------------------

q "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n
    WHERE i < 200000) INSERT INTO messages (modem, modem_number, sender,
    smsc_time, received_at, parts, raw, kind, verdict, flags, decoded,
    tps, contest, seq, nvalues, values_text, canonical, receipt)
    SELECT 'm0', '', '+62811', '2026-01-01T00:00:00Z',
    '2026-01-01T00:00:00.000Z', 1, 'bulk', 'report', 'OK', 0, 1,
    1101010001000 + i, 'PPWP', 1, 6, '100 30 40 20 90 10', 'x', '00000000'
    FROM n"
hwm() { awk '$1 == "VmHWM:" { print $2 }' "/proc/$G/status"; }
h0=$(hwm)
t1=$(date +%s)
rows=$(gwctl export | wc -l)
t2=$(date +%s)
h1=$(hwm)
expect "the export has every row (and its header)" "$rows" 200006
echo "# export of 200,006 lines in $((t2 - t1)) s; tallygw's peak RSS $h0 -> $h1 kB"
# (AddressSanitizer's quarantine keeps freed memory: no figure there.)
if nm "$GW" 2>/dev/null | grep -q __asan_init; then
	t_ok "tallygw's peak memory: not measured under AddressSanitizer"
else
	[ -n "$h0" ] && [ -n "$h1" ] && [ $((h1 - h0)) -lt 8192 ]
	expect "tallygw's peak memory grew by less than 8 MB (it streams)" \
	    "$?" 0
fi
# /status counts what the gateway stored, from its count at start-up
# (docs/admin.md): the 200,000 rows written behind its back here are
# not among them until it starts again, nor is the one of the UTF-8
# check above: 8 of the 200,009 messages.
expect "the gateway still answers, with its own count" "$(stat received)" 8

t_stop "$G"
G=
finish
