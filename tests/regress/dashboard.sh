#!/bin/sh
# The dashboard (gateway/web/, docs/admin.md "The dashboard") in a real
# browser: headless chromium, driven through the DevTools protocol by
# tests/regress/cdp.py, loads it from a gateway running on tallysim (2
# modems, a central, a registry of Kalimantan Utara) while reports flow
# in, and checks what an operator sees:
#
# - the files are served without the token, the data only with it: the
#   page asks for the token, keeps it in the tab (sessionStorage), sends
#   it as a bearer header and never in a URL; nothing but the gateway
#   is asked for anything;
# - a row per modem with its state; the counts grow as messages come;
#   the last hour's chart has them; the recent messages are the store's;
# - modem 1 unplugged in the simulator: its row turns red and a
#   modem_down alert appears; replugged: both clear;
# - coverage equal to `tallyctl coverage`, from the province down to
#   its villages by clicking;
# - no script error; at a phone's width nothing overflows sideways.
#
# Screenshots are kept in $B/test-logs/: dashboard.png (a laptop),
# dashboard-alert.png (the modem down), dashboard-phone.png. TAP.

. tests/regress/lib.sh

t_tmp dashboard
WEB=$(pwd)/gateway/web
SHOTS=$(dirname "$SIM")/test-logs
cleanup() {
	exec 7>&- 8<&-
	t_tmp_end
}
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v python3 >/dev/null || ! command -v chromium >/dev/null ||
    ! command -v curl >/dev/null || [ ! -r "$SHARED/desa_tps_2024.csv" ]
then
	t_fail "$B/tallysim, tallygw, tallyctl built; python3, chromium, curl; $SHARED"
	finish
	exit 1
fi
mkdir -p "$SHOTS"

sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }
gwctl() { timeout 60 "$CTL" "$@" --state "$D/gw"; }
py() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

# --- the world ------------------------------------------------------

t_sign_pair "$D"
"$CTL" keygen -o "$D/root.key"
awk -F, 'NR == 1 || $2 == 65' "$SHARED/desa_tps_2024.csv" >"$D/desa65.csv"
"$CTL" import --registry "$D/reg.db" --desa "$D/desa65.csv" >/dev/null
t_bg "$SIM" run --dir "$D/sim" --modems 2 --seed 11 >"$D/sim.out" \
    2>"$D/sim.err"
t_bg "$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err"
if ! wait_for 30 grep -q '^ready$' "$D/sim.out" ||
    ! wait_for 30 grep -q '^ready$' "$D/c.out"; then
	t_fail "the simulator and the central receiver start"
	finish
	exit 1
fi
CPORT=$(cat "$D/c/central.port")
APORT=$(freeport)
URL=http://127.0.0.1:$APORT
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
N1=$(sctl modems --json | sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p')
TOKEN=tok-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
printf '%s\n' "$TOKEN" >"$D/token"
chmod 600 "$D/token"

cat >"$D/tallygw.conf" <<EOF
[gateway]
name = dash-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec
registry = $D/reg.db

[tunables]
reply_merge_wait = 0
health_interval = 2
restart_min = 1
restart_max = 2
sweep_interval = 600

[modem m0]
device = $D/sim/modem0
number = $N0

[modem m1]
device = $D/sim/modem1
number = $N1
role = receive

[central sim]
url = http://127.0.0.1:$CPORT/v1/reports

[admin]
listen = 127.0.0.1:$APORT
token = $D/token
web = $WEB

[alerts]
modem_down = 3
EOF
t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
if ! wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_fail "tallygw starts"
	tail -20 "$D/gw.err" | sed 's/^/#   /'
	finish
	exit 1
fi

# --- the files, and the token rule ----------------------------------

code() { curl -s -o "$D/body" -D "$D/head" -w '%{http_code}' "$@"; }
expect "GET /ui/ without a token: 200" "$(code "$URL/ui/")" 200
expect "it is the dashboard's page, as installed" \
    "$(cmp -s "$D/body" "$WEB/index.html" && echo same)" same
expect_match "as HTML, with a policy that allows only the gateway" \
    "$(tr -d '\r' <"$D/head")" \
    "Content-Security-Policy: default-src 'none'; script-src 'self'; .*connect-src 'self'"
expect "GET /ui/dashboard.js: 200" "$(code "$URL/ui/dashboard.js")" 200
expect_match "as JavaScript" "$(tr -d '\r' <"$D/head")" \
    "Content-Type: text/javascript"
expect "GET / sends the browser to /ui/" \
    "$(code "$URL/"; grep -i '^Location:' "$D/head" | tr -d '\r')" \
    "302Location: /ui/"
expect "the data still needs the token: GET /status is 401" \
    "$(code "$URL/status")" 401
expect "and so does GET /throughput" "$(code "$URL/throughput")" 401
expect "a name outside the directory: 404" \
    "$(code --path-as-is "$URL/ui/../tallygw.conf")" 404
expect "a dot file: 404" "$(code "$URL/ui/.hidden")" 404
expect "an escaped slash: 404" "$(code "$URL/ui/..%2Ftallygw.conf")" 404
expect "a file of a type not served: 404" "$(code "$URL/ui/x.txt")" 404
expect "the control socket serves the page too" \
    "$(code --unix-socket "$D/gw/tallygw.sock" http://localhost/ui/)" 200
expect "GET /throughput with the token: the last 60 minutes" \
    "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/throughput" |
    py 'd["minutes"], len(d["received"]), len(d["replied"]), len(d["forwarded"])')" \
    "60 60 60 60"

# --- the browser ----------------------------------------------------

mkfifo "$D/cdp.in" "$D/cdp.out"
# (the FIFOs are opened by the child: opened here, they would block)
t_bg sh -c 'HOME=$1; export HOME; exec python3 tests/regress/cdp.py \
    chromium "$1/profile" <"$1/cdp.in" >"$1/cdp.out" 2>"$1/cdp.err"' \
    sh "$D"
exec 7>"$D/cdp.in" 8<"$D/cdp.out"
# cdp COMMAND: one command to the browser, its answer on stdout.
cdp() {
	printf '%s\n' "$*" >&7
	if ! read -r cdp_l <&8; then
		echo "error: the browser driver went away"
		return 1
	fi
	printf '%s\n' "$cdp_l"
}
read -r l <&8
expect "chromium runs, driven through the DevTools protocol" "$l" ready

expect "the page loads" "$(cdp open "$URL/ui/")" ok
expect "without a token it asks for one" \
    "$(cdp wait 20 "!document.getElementById('login').hidden")" true
expect "and shows no data" \
    "$(cdp eval "document.getElementById('board').hidden")" true
cdp type "#token" "$TOKEN" >/dev/null
cdp click "#login-form button" >/dev/null
expect "the token typed once: a row per modem" \
    "$(cdp wait 30 "document.querySelectorAll('#modems tbody tr').length == 2 && [...document.querySelectorAll('#modems tbody tr')].map(r => r.dataset.modem).join(' ')")" \
    '"m0 m1"'
expect "each with its state, working: not in colour" \
    "$(cdp eval "[...document.querySelectorAll('#modems tbody tr')].map(r => r.cells[1].textContent + ' ' + r.className).join(', ')")" \
    '"running/ready ok, running/ready ok"'
expect "the modem of role = receive is named so, the other not" \
    "$(cdp eval "[...document.querySelectorAll('#modems tbody tr')].map(r => r.cells[0].textContent).join(', ')")" \
    '"m0, m1 (receive only)"'
expect "the token is kept in the tab" \
    "$(cdp eval "sessionStorage.getItem('tallygw.token') === '$TOKEN'")" \
    true
expect "the gateway's name in the header" \
    "$(cdp eval "document.getElementById('gw-name').textContent")" \
    '"dash-gw"'

# --- messages flow ---------------------------------------------------

# Reports for two TPS of the first two villages of each regency of
# province 65; every third one does not add up (FLAGGED).
awk -F, 'NR > 1 && seen[$4]++ < 2 && $12 >= 2 { print $1 "001"; print $1 "002" }' \
    "$D/desa65.csv" >"$D/tps"
i=0
while read -r t; do
	i=$((i + 1))
	v="100 30 40 20 90 10"
	[ $((i % 3)) -eq 0 ] && v="100 30 40 25 90 10"
	printf '08120000%04d %s\n' "$i" \
	    "$("$CTL" mac --key "$D/root.key" "PPWP $t 1 $v")"
done <"$D/tps" >"$D/flow"
NFLOW=$(wc -l <"$D/flow" | tr -d ' ')
t_bg sh -c "while read -r p text; do
	timeout 30 '$SIM' ctl --dir '$D/sim' inject --from \$p --to 0 \"\$text\" >/dev/null
	sleep 0.7
done <'$D/flow'; echo done >'$D/flow.done'"

stat() { cdp eval "Number(document.getElementById('stat-received').textContent)"; }
r1=$(stat)
expect_match "the received count grows as messages come" \
    "$(cdp wait 40 "Number(document.getElementById('stat-received').textContent) > $r1 + 2")" \
    '^true$'
expect_match "the last hour's chart counts them" \
    "$(cdp wait 30 "Number(document.getElementById('chart').dataset.received) > 0 && document.getElementById('rate-received').textContent")" \
    '^"[1-9][0-9]*"$'
expect_match "the recent messages show reports with their verdict" \
    "$(cdp wait 20 "[...document.querySelectorAll('#messages tbody tr td.verdict')].map(c => c.textContent).filter(v => v.startsWith('OK')).length > 0")" \
    '^true$'

# --- a modem unplugged, and back ------------------------------------

sctl fault --modem 1 unplug >/dev/null
expect "modem 1 unplugged: a modem_down alert appears" \
    "$(cdp wait 40 "!!document.querySelector('#alerts tbody tr[data-alert=\"modem_down\"][data-subject=\"m1\"]')")" \
    true
expect "its row is red, the other's not" \
    "$(cdp wait 20 "[...document.querySelectorAll('#modems tbody tr')].map(r => r.dataset.modem + ':' + r.className).join(' ')")" \
    '"m0:ok m1:bad"'
expect "the alert count says 1" \
    "$(cdp eval "document.getElementById('alert-count').textContent")" '"1"'
expect "a screenshot of it" "$(cdp shot "$SHOTS/dashboard-alert.png")" ok
sctl fault --modem 1 replug >/dev/null
expect "replugged: the alert clears" \
    "$(cdp wait 40 "!document.querySelector('#alerts tbody tr[data-alert=\"modem_down\"]') && !!document.querySelector('#alerts-cleared tbody tr[data-alert=\"modem_down\"][data-subject=\"m1\"]')")" \
    true
expect "and its row is no longer red" \
    "$(cdp wait 20 "document.querySelector('#modems tbody tr[data-modem=\"m1\"]').className")" \
    '"ok"'

# --- when the flow is over: the page says what tallyctl says --------

wait_for 60 test -f "$D/flow.done"
expect "every report was injected" "$?" 0
wait_for 60 sh -c "[ \"\$(timeout 10 '$CTL' status --state '$D/gw' | awk '\$1 == \"received\" { print \$2 }')\" -ge $NFLOW ]"
expect "and stored" "$?" 0
wait_for 60 sh -c "timeout 10 '$CTL' status --state '$D/gw' | awk '\$1 == \"forward_pending\" && \$2 == 0 { f = 1 } END { exit !f }'"
expect "and forwarded" "$?" 0
n=$(cdp eval "Number(document.body.dataset.refreshed)")
cdp wait 30 "Number(document.body.dataset.refreshed) >= $n + 2" >/dev/null
expect "the received count is tallyctl status's" "$(stat)" \
    "$(gwctl status | t_kv received)"
expect "the last hour's chart: every message received, every forward acked" \
    "$(cdp eval "document.getElementById('rate-received').textContent + ' ' + document.getElementById('rate-forwarded').textContent")" \
    "\"$(gwctl status | t_kv received) $(gwctl status | t_kv forwarded)\""
expect "the newest message is tallyctl messages's" \
    "$(cdp eval "Number(document.querySelector('#messages tbody tr').dataset.id)")" \
    "$(gwctl messages --limit 1 2>/dev/null | awk 'NR == 2 { print $1 }')"

# cover LEVEL [IN]: tallyctl coverage's rows, as "code exp rep flag miss".
cover() {
	gwctl coverage --level "$1" ${2:+--in "$2"} --contest PPWP |
	    awk 'NR > 1 { print $1, $(NF-3), $(NF-2), $(NF-1), $NF }'
}
# shown: the page's coverage rows (and its total), in the same form.
shown() {
	cdp eval "[...document.querySelectorAll('#coverage tbody tr, #coverage tfoot tr')].map(r => [r.dataset.code, ...['expected', 'reported', 'flagged', 'missing'].map(c => r.querySelector('td.' + c).textContent)].join(' ')).join(';')" |
	    tr -d '"' | tr ';' '\n'
}
expect "coverage by province: as tallyctl coverage" "$(shown)" \
    "$(cover province)"
for lv in regency:65 district:6501 village:650101; do
	cdp click "#coverage tbody tr[data-code=\"${lv#*:}\"] button" >/dev/null
	cdp wait 30 "document.getElementById('coverage').dataset.level === '${lv%:*}'" >/dev/null
	expect "coverage of ${lv#*:} by ${lv%:*}, drilled down: as tallyctl coverage" \
	    "$(shown)" "$(cover "${lv%:*}" "${lv#*:}")"
done
expect "the way back up is shown" \
    "$(cdp eval "document.getElementById('crumbs').textContent")" \
    '"All provinces›65 KALIMANTAN UTARA›6501 BULUNGAN›650101 TANJUNG PALAS"'
expect "a laptop's screenshot" "$(cdp shot "$SHOTS/dashboard.png")" ok
expect "nothing overflows sideways on a laptop" \
    "$(cdp eval "document.documentElement.scrollWidth <= innerWidth")" true

# --- a phone ---------------------------------------------------------

cdp size 390 844 1 >/dev/null
cdp click "#crumbs button" >/dev/null
n=$(cdp eval "Number(document.body.dataset.refreshed)")
cdp wait 30 "Number(document.body.dataset.refreshed) >= $n + 1" >/dev/null
expect "at a phone's width (390 px) nothing overflows sideways" \
    "$(cdp eval "document.documentElement.scrollWidth + ' <= ' + innerWidth + ': ' + (document.documentElement.scrollWidth <= innerWidth)")" \
    '"390 <= 390: true"'
expect "the modem rows are there" \
    "$(cdp eval "document.querySelectorAll('#modems tbody tr').length")" 2
expect "a phone's screenshot" "$(cdp shot "$SHOTS/dashboard-phone.png")" ok

# --- what the page did ----------------------------------------------

expect "no script error (a refused request is only the token's probe)" \
    "$(cdp errors | python3 -c 'import json, sys; print([e for e in json.load(sys.stdin) if "401" not in e])')" \
    "[]"
cdp requests | python3 -c 'import json, sys; [print(u) for u in json.load(sys.stdin)]' \
    >"$D/requests"
expect "it asked the gateway for everything, nothing else" \
    "$(grep -cv "^$URL/" "$D/requests")" 0
expect "the token is in no URL" "$(grep -c "$TOKEN" "$D/requests")" 0
expect_match "it used the API: status, modems, alerts, throughput, coverage, messages" \
    "$(sed "s,^$URL/,," "$D/requests" | sed 's/?.*//' | sort -u | tr '\n' ' ')" \
    "alerts coverage messages modems status throughput ui/ ui/dashboard.css ui/dashboard.js"
cdp click "#signout" >/dev/null
expect "forget the token: asked again, nothing kept" \
    "$(cdp wait 10 "!document.getElementById('login').hidden && sessionStorage.getItem('tallygw.token') === null")" \
    true
expect "each refused request without the token was logged" \
    "$(grep -c "admin: 127\\.0\\.0\\.1:[0-9]*: GET /status: refused: no token" "$D/gw.err" |
    sed 's/^[1-9][0-9]*$/yes/')" yes
printf 'quit\n' >&7
echo "# screenshots: $SHOTS/dashboard.png, dashboard-alert.png, dashboard-phone.png"

finish
