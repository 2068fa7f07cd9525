#!/bin/sh
# /metrics (docs/metrics.md): the Prometheus text format of a gateway
# running against tallysim (2 modems, its central receiver, the USSD
# channel with tallysim as the aggregator).
#
# - who may scrape: the control socket (curl --unix-socket); TCP with
#   the bearer token only (none, a wrong one: 401);
# - the whole text is checked twice: by `promtool check metrics'
#   (Debian's prometheus: the format and Prometheus' naming rules) and
#   by a strict checker below (every family once and whole, HELP and
#   TYPE before its samples, escapes, no series twice, histograms'
#   buckets ascending and cumulative, +Inf = _count), which is first
#   shown to refuse broken texts;
# - the values against what the test sent: messages by channel and
#   verdict, the receive stage's states, commit and forward latency
#   histograms' counts, replies and forwards by state, per-modem
#   counters and gauges; an operator name with a quote and a backslash,
#   escaped;
# - a modem unplugged in the simulator: down, counted restarted;
# - a restart: tallygw_messages_total still counts the store, the
#   counters since the start begin again at 0.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp metrics

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v curl >/dev/null || ! command -v python3 >/dev/null ||
    ! command -v sqlite3 >/dev/null || ! command -v promtool >/dev/null
then
	t_fail "$B/tallysim, tallygw, tallyctl are built; curl, python3, sqlite3, promtool (prometheus)"
	finish
	exit 1
fi

DB=$D/gw/tallygw.db
SOCK=$D/gw/tallygw.sock
sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }
q() { sqlite3 -cmd '.timeout 5000' "$DB" "$1" 2>/dev/null; }
dump_logs() { tail -25 "$D/gw.err" | sed 's/^/#   /'; }

# The strict checker of the text format 0.0.4: prints what is wrong,
# exits 1 if anything is.
cat >"$D/check.py" <<'EOF'
import math, re, sys

NAME = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
LABEL = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
FLOAT = re.compile(r'([+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|[+-]Inf|NaN)$')
SUFFIXES = {'counter': [''], 'gauge': [''], 'untyped': [''],
    'histogram': ['_bucket', '_sum', '_count']}
bad = []

def number(s):
    if not FLOAT.match(s):
        raise ValueError('not a number: %r' % s)
    return float(s)

def labels(s, i):
    out = []
    i += 1
    while s[i] != '}':
        m = LABEL.match(s, i)
        if not m or s[m.end():m.end() + 2] != '="':
            raise ValueError('bad label at %d' % i)
        name, i, v = m.group(0), m.end() + 2, ''
        if name.startswith('__') or name in [n for n, _ in out]:
            raise ValueError('label name %s' % name)
        while s[i] != '"':
            if s[i] == '\\':
                if s[i + 1] not in '\\"n':
                    raise ValueError('bad escape \\%s' % s[i + 1])
                v += {'\\': '\\', '"': '"', 'n': '\n'}[s[i + 1]]
                i += 2
            else:
                v += s[i]
                i += 1
        i += 1
        out.append((name, v))
        if s[i] == ',':
            i += 1
            if s[i] == '}':
                raise ValueError('a comma before }')
        elif s[i] != '}':
            raise ValueError('expected , or } at %d' % i)
    return out, i + 1

def check(data):
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError as e:
        return ['not UTF-8: %s' % e]
    if not text.endswith('\n'):
        bad.append('the last line does not end with a newline')
    fam, ftype, seen, series, hists = None, None, set(), set(), {}
    lines = text.split('\n')[:-1]
    for n, line in enumerate(lines, 1):
        try:
            if line.startswith('# HELP '):
                name, _, help = line[7:].partition(' ')
                if not NAME.fullmatch(name) or name in seen:
                    raise ValueError('family %s again or bad' % name)
                if re.search(r'\\[^\\n]|\\$', help):
                    raise ValueError('bad escape in HELP')
                t = lines[n].split(' ') if n < len(lines) else []
                if t[:3] != ['#', 'TYPE', name] or len(t) != 4 or \
                    t[3] not in SUFFIXES:
                    raise ValueError('HELP %s not followed by its TYPE' % name)
                fam, ftype = name, t[3]
                seen.add(name)
                continue
            if line.startswith('# TYPE '):
                if not lines[n - 2].startswith('# HELP %s ' % fam) or \
                    line.split(' ')[2] != fam:
                    raise ValueError('TYPE without its HELP')
                continue
            if line == '' or line.startswith('#'):
                raise ValueError('empty line or comment')
            m = NAME.match(line)
            name, i = m.group(0), m.end()
            lab = []
            if line[i] == '{':
                lab, i = labels(line, i)
            if line[i] != ' ' or ' ' in line[i + 1:]:
                raise ValueError('one space, then the value (no timestamp)')
            v = number(line[i + 1:])
            if fam is None or name not in [fam + s for s in SUFFIXES[ftype]]:
                raise ValueError('%s outside its family (%s)' % (name, fam))
            key = (name, frozenset(lab))
            if key in series:
                raise ValueError('series twice')
            series.add(key)
            if ftype == 'counter' and (not name.endswith('_total') or
                math.isnan(v) or v < 0):
                raise ValueError('a counter: _total, >= 0')
            if ftype == 'histogram':
                rest = frozenset(l for l in lab if l[0] != 'le')
                h = hists.setdefault((fam, rest), {'b': [], 'n': n})
                if name.endswith('_bucket'):
                    le = [x for k, x in lab if k == 'le']
                    if len(le) != 1:
                        raise ValueError('a bucket without le')
                    h['b'].append((number(le[0]), v))
                else:
                    h[name[len(fam) + 1:]] = v
        except (ValueError, IndexError, AttributeError) as e:
            bad.append('line %d: %s: %s' % (n, e, line))
    for (name, rest), h in hists.items():
        les = [le for le, _ in h['b']]
        counts = [c for _, c in h['b']]
        where = 'histogram %s %s (line %d)' % (name, sorted(rest), h['n'])
        if not les or les[-1] != math.inf or les != sorted(set(les)):
            bad.append(where + ': le not ascending up to +Inf')
        if counts != sorted(counts):
            bad.append(where + ': buckets not cumulative')
        if 'sum' not in h or 'count' not in h or \
            (counts and counts[-1] != h['count']):
            bad.append(where + ': no _sum, no _count or +Inf != _count')
    return bad

for msg in check(open(sys.argv[1], 'rb').read()):
    print(msg)
sys.exit(1 if bad else 0)
EOF
# ck FILE: the strict checker's verdict on FILE.
ck() { python3 "$D/check.py" "$1"; }
# val FILE SERIES: the value of the sample written exactly as SERIES.
val() { awk -v k="$2" 'substr($0, 1, length(k) + 1) == k " " { print $2 }' "$1"; }
# vals FILE PREFIX V...: the values of PREFIX"V"} for each V, on a line
# (vals m.txt 'tallygw_replies{state=' queued sent: "0 7").
vals() {
	v_f=$1 v_p=$2
	shift 2
	for v_v in "$@"; do val "$v_f" "$v_p\"$v_v\"}"; done | xargs
}
SMS='tallygw_messages_total{channel="sms",verdict='

# --- the checker refuses what it must --------------------------------

H='# HELP h_seconds H.
# TYPE h_seconds histogram'
G='# HELP g G.
# TYPE g gauge'
printf '%s\nh_seconds_bucket{le="1"} 2\nh_seconds_bucket{le="+Inf"} 3\nh_seconds_sum 1.5\nh_seconds_count 3\n%s\ng{a="x\\"y\\\\z\\n"} -1.5e-3\n' \
    "$H" "$G" >"$D/good.txt"
expect "the checker takes a good text" "$(ck "$D/good.txt")" ""
printf '%s\nh_seconds_bucket{le="1"} 3\nh_seconds_bucket{le="+Inf"} 2\nh_seconds_sum 1\nh_seconds_count 2\n' \
    "$H" >"$D/bad1.txt"
expect_match "the checker refuses buckets that are not cumulative" \
    "$(ck "$D/bad1.txt")" "not cumulative"
printf '%s\nh_seconds_bucket{le="1"} 1\nh_seconds_sum 1\nh_seconds_count 1\n' \
    "$H" >"$D/bad2.txt"
expect_match "and a histogram without +Inf" "$(ck "$D/bad2.txt")" \
    "up to \\+Inf"
printf '%s\ng{a="1"} 1\n# HELP f F.\n# TYPE f gauge\nf 1\ng{a="2"} 1\n' \
    "$G" >"$D/bad3.txt"
expect_match "and a family split in two" "$(ck "$D/bad3.txt")" \
    "outside its family"
printf '%s\ng{a="\\t"} 1\ng 1\ng 2\n' "$G" >"$D/bad4.txt"
expect_match "and a bad escape, a series twice" \
    "$(ck "$D/bad4.txt" | tr '\n' ' ')" "bad escape.*series twice"

# --- the world ------------------------------------------------------

t_sign_pair "$D"
"$CTL" keygen -o "$D/root.key"
printf 'tok-%s\n' "$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" \
    >"$D/token"
printf 'ussd-secret-%s\n' "$(od -An -tx1 -N8 /dev/urandom | tr -d ' \n')" \
    >"$D/ussd.secret"
chmod 600 "$D/token" "$D/ussd.secret"
t_bg "$SIM" run --dir "$D/sim" --modems 2 --seed 7 >"$D/sim.out" \
    2>"$D/sim.err"
t_bg "$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err"
if ! wait_for 30 grep -q '^ready$' "$D/sim.out" ||
    ! wait_for 30 grep -q '^ready$' "$D/c.out"; then
	t_fail "the simulator and the central receiver start"
	finish
	exit 1
fi
APORT=$(freeport)
UPORT=$(freeport)
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
N1=$(sctl modems --json | sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p')
cat >"$D/tallygw.conf" <<EOF
[gateway]
name = metrics-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec

[tunables]
reply_merge_wait = 0
sweep_interval = 600
restart_min = 1

[modem m0]
device = $D/sim/modem0
number = $N0
operator = Telkomsel

[modem m1]
device = $D/sim/modem1
number = $N1
operator = Indo"sat\\Ooredoo
send_cap = 450

[central sim]
url = http://127.0.0.1:$(cat "$D/c/central.port")/v1/reports

[ussd]
listen = 127.0.0.1:$UPORT
secret = $D/ussd.secret

[admin]
listen = 127.0.0.1:$APORT
token = $D/token
EOF
start_gw() {
	t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
	G=$!
	wait_for 60 grep -q '^ready$' "$D/gw.out"
}
if start_gw; then
	t_ok "tallygw is ready with [admin] and [ussd]"
else
	t_fail "tallygw is ready with [admin] and [ussd]"
	dump_logs
	finish
	exit 1
fi

# scrape FILE [CURL-ARGS]: the control socket's /metrics into FILE;
# prints the status and the content type.
scrape() {
	f=$1
	shift
	curl -s --max-time 10 -o "$f" -w '%{http_code} %{content_type}' \
	    --unix-socket "$SOCK" "$@" http://localhost/metrics
}
# check FILE WHAT: promtool and the strict checker take FILE.
check() {
	out=$(promtool check metrics <"$1" 2>&1)
	expect "$2: promtool check metrics finds nothing" "$?:$out" "0:"
	out=$(ck "$1")
	expect "$2: the strict checker finds nothing" "$?:$out" "0:"
}

# --- who may scrape; before any message ------------------------------

expect "the control socket: 200, text/plain version 0.0.4" \
    "$(scrape "$D/m0.txt")" "200 text/plain; version=0.0.4; charset=utf-8"
check "$D/m0.txt" "before any message"
URL=http://127.0.0.1:$APORT/metrics
tcp() { curl -s --max-time 10 -o "$D/tcp.txt" -w '%{http_code}' "$@" "$URL"; }
expect "TCP without a token: 401" "$(tcp)" 401
expect "TCP with a wrong token: 401" \
    "$(tcp -H 'Authorization: Bearer tok-wrong-wrong-wrong-wrong')" 401
expect_match "refused and logged" "$(cat "$D/gw.err")" \
    "admin: 127\\.0\\.0\\.1:[0-9]+: GET /metrics: refused: wrong token"
expect "TCP with the token: 200" \
    "$(tcp -H "Authorization: Bearer $(cat "$D/token")")" 200
expect "with the same families" \
    "$(grep '^# TYPE' "$D/tcp.txt" | md5sum)" \
    "$(grep '^# TYPE' "$D/m0.txt" | md5sum)"
expect "a POST: 405" "$(curl -s -o /dev/null -w '%{http_code}' -X POST \
    --unix-socket "$SOCK" http://localhost/metrics)" 405
M=$D/m0.txt
expect "no message yet: sms ok 0, ussd ok 0" \
    "$(val "$M" 'tallygw_messages_total{channel="sms",verdict="ok"}') $(val "$M" 'tallygw_messages_total{channel="ussd",verdict="ok"}')" \
    "0 0"
expect "the forward histograms are there at 0" \
    "$(val "$M" 'tallygw_forward_request_seconds_count{central="sim",outcome="acked"}') $(val "$M" 'tallygw_forward_latency_seconds_bucket{central="sim",le="+Inf"}')" \
    "0 0"
expect "both modems are up and ready" \
    "$(val "$M" 'tallygw_modem_up{modem="m0"}') $(val "$M" 'tallygw_modem_up{modem="m1"}') $(val "$M" 'tallygw_modem_state{modem="m1",state="ready"}') $(val "$M" 'tallygw_modem_state{modem="m1",state="broken"}')" \
    "1 1 1 0"
expect "an operator with a quote and a backslash, escaped" \
    "$(grep -c '^tallygw_modem_info{modem="m1",operator="Indo\\"sat\\\\Ooredoo",number="'"$N1"'"} 1$' "$M")" 1
expect "a send cap only where one is set" \
    "$(grep -c '^tallygw_modem_send_cap' "$M") $(val "$M" 'tallygw_modem_send_cap{modem="m1"}')" \
    "1 450"

# --- messages -------------------------------------------------------

T1=3201011001001
ok() { "$CTL" mac --key "$D/root.key" "PPWP $1 $2 100 30 40 20 90 10"; }
flag() { "$CTL" mac --key "$D/root.key" "PPWP $1 $2 100 30 40 25 90 10"; }
sctl inject --from 081200000401 --to 0 "$(ok 3201011001001 1)" >/dev/null
sctl inject --from 081200000402 --to 0 "$(ok 3201011001002 1)" >/dev/null
sctl inject --from 081200000403 --to 0 "$(ok 3201011001003 1)" >/dev/null
sctl inject --from 081200000404 --to 0 "$(flag 3201011001004 1)" >/dev/null
sctl inject --from 081200000405 --to 0 \
    "PPWP 3201011001005 1 100 30 40 20 90 10 12345678" >/dev/null
sctl inject --from 081200000406 --to 0 "halo, apa kabar" >/dev/null
# A PPWP report by USSD, tallysim as the aggregator.
V="255*120*95*36*251*4"
C=$("$CTL" mac --key "$D/root.key" "1*3201011001006*3*$V*00000000" |
    awk '{ print $NF }')
sctl ussd --from 081200000407 --url "http://127.0.0.1:$UPORT/ussd" \
    --secret "$D/ussd.secret" 1 3201011001006 "$V" 3 "$C" 1 >"$D/ussd.out"
expect "the USSD session ends with a receipt" "$?" 0
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM outbox WHERE state = 'delivered'\")\" -ge 7 ] && [ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"SELECT count(*) FROM forwards WHERE state = 'acked'\")\" -ge 5 ]"
expect "seven messages in, seven replies delivered, five forwards acked" \
    "$?" 0

expect "a scrape: 200" "$(scrape "$D/m1.txt" | cut -d' ' -f1)" 200
check "$D/m1.txt" "after the messages"
M=$D/m1.txt
expect "messages: sms ok flagged rejected duplicate other cek, ussd ok" \
    "$(vals "$M" "$SMS" ok flagged rejected duplicate other cek) $(val "$M" 'tallygw_messages_total{channel="ussd",verdict="ok"}')" \
    "3 1 1 0 1 0 1"
expect "the receive stage: sms received classified committed deferred" \
    "$(vals "$M" 'tallygw_receive_stage_total{channel="sms",stage=' \
    received classified committed deferred)" "6 6 6 0"
expect "commit latency observed: 6 by SMS, 1 by USSD" \
    "$(val "$M" 'tallygw_commit_latency_seconds_count{channel="sms"}') $(val "$M" 'tallygw_commit_latency_seconds_count{channel="ussd"}')" \
    "6 1"
expect "every commit took under 10 s (the last bucket below +Inf)" \
    "$(val "$M" 'tallygw_commit_latency_seconds_bucket{channel="sms",le="10"}')" 6
expect_match "and some time (a sum above 0)" \
    "$(val "$M" 'tallygw_commit_latency_seconds_sum{channel="sms"}')" \
    '^([0-9]*\.[0-9]*[1-9][0-9]*|[0-9]*[1-9][0-9]*(\.[0-9]+)?)(e-[0-9]+)?$'
expect "forward requests: 5 acked, 0 refused, 0 outages" \
    "$(vals "$M" \
    'tallygw_forward_request_seconds_count{central="sim",outcome=' \
    acked refused outage)" "5 0 0"
expect "forward latency: 5 reports acked" \
    "$(val "$M" 'tallygw_forward_latency_seconds_count{central="sim"}')" 5
expect "replies by state: queued sending sent delivered failed" \
    "$(vals "$M" 'tallygw_replies{state=' queued sending sent delivered \
    failed)" "0 0 0 7 0"
expect "forwards by state: pending retry_wait acked failed" \
    "$(vals "$M" 'tallygw_forwards{state=' pending retry_wait acked \
    failed)" "0 0 5 0"
expect "queues: replies forwards parts" \
    "$(vals "$M" 'tallygw_queue_depth{queue=' replies forwards parts)" \
    "0 0 0"
expect "the central is up, nothing in flight" \
    "$(val "$M" 'tallygw_central_up{central="sim"}') $(val "$M" 'tallygw_central_inflight{central="sim"}')" \
    "1 0"
expect "modem m0 received the 6 SMS, m1 none" \
    "$(val "$M" 'tallygw_modem_received_total{modem="m0"}') $(val "$M" 'tallygw_modem_received_total{modem="m1"}')" \
    "6 0"
s0=$(val "$M" 'tallygw_modem_sent_total{modem="m0"}')
s1=$(val "$M" 'tallygw_modem_sent_total{modem="m1"}')
expect "the modems sent the 7 replies" "$((s0 + s1))" 7
expect "sent today as sent, no refusals" \
    "$(($(val "$M" 'tallygw_modem_sent_today{modem="m0"}') + $(val "$M" 'tallygw_modem_sent_today{modem="m1"}'))) $(val "$M" 'tallygw_modem_send_failed_total{modem="m0"}')" \
    "7 0"
expect "the SIMs: 30 slots, emptied" \
    "$(val "$M" 'tallygw_modem_sim_capacity{modem="m0"}') $(val "$M" 'tallygw_modem_sim_used{modem="m0"}')" \
    "30 0"
expect_match "signal in dBm, registered" \
    "$(val "$M" 'tallygw_modem_signal_dbm{modem="m0"}') $(val "$M" 'tallygw_modem_registered{modem="m0"}')" \
    '^-[0-9]+ 1$'

# --- the central down, and up again ---------------------------------

# same FILE: the gauges of the rows by state in FILE are the store's
# counts (the outbox and the forwarder keep them from the start-up's).
same() {
	for s in queued sending sent delivered failed; do
		[ "$(val "$1" "tallygw_replies{state=\"$s\"}")" = \
		    "$(q "SELECT count(*) FROM outbox WHERE state = '$s'")" ] ||
		    echo "replies $s"
	done
	for s in pending sending retry_wait acked failed; do
		[ "$(val "$1" "tallygw_forwards{state=\"$s\"}")" = \
		    "$(q "SELECT count(*) FROM forwards WHERE state = '$s'")" ] ||
		    echo "forwards $s"
	done
}
expect "replies and forwards by state: as the store counts them" \
    "$(same "$D/m1.txt")" ""
timeout 10 "$SIM" central --dir "$D/c" --ctl down >/dev/null
sctl inject --from 081200000408 --to 0 "$(ok 3201011001008 1)" >/dev/null
waiting() {
	scrape "$D/m2.txt" >/dev/null &&
	    [ "$(val "$D/m2.txt" 'tallygw_forwards{state="retry_wait"}')" = 1 ]
}
wait_for 30 waiting
expect "the central down: the report's forward waits to be retried" "$?" 0
M=$D/m2.txt
expect "the central is down, an outage counted, one forward queued" \
    "$(val "$M" 'tallygw_central_up{central="sim"}') $(val "$M" 'tallygw_forward_request_seconds_count{central="sim",outcome="outage"}' | sed 's/^[1-9][0-9]*$/N/') $(val "$M" 'tallygw_queue_depth{queue="forwards"}')" \
    "0 N 1"
check "$M" "with the central down"
timeout 10 "$SIM" central --dir "$D/c" --ctl up >/dev/null
curl -s -o /dev/null -X POST --unix-socket "$SOCK" \
    http://localhost/forwards/retry
acked6() {
	scrape "$D/m2.txt" >/dev/null &&
	    [ "$(val "$D/m2.txt" 'tallygw_forwards{state="acked"}')" = 6 ] &&
	    [ "$(val "$D/m2.txt" 'tallygw_replies{state="delivered"}')" = 8 ]
}
wait_for 30 acked6
expect "up again: six forwards acked, eight replies delivered" "$?" 0
M=$D/m2.txt
expect "the central is up, 6 reports acked" \
    "$(val "$M" 'tallygw_central_up{central="sim"}') $(val "$M" 'tallygw_forward_latency_seconds_count{central="sim"}') $(val "$M" 'tallygw_queue_depth{queue="forwards"}')" \
    "1 6 0"
expect "as the store counts them" "$(same "$M")" ""

# --- a modem unplugged ------------------------------------------------

sctl fault --modem 1 unplug >/dev/null
downm1() {
	scrape "$D/m6.txt" >/dev/null &&
	    [ "$(val "$D/m6.txt" 'tallygw_modem_up{modem="m1"}')" = 0 ]
}
wait_for 20 downm1
expect "m1 unplugged: down" "$?" 0
st=$(grep '^tallygw_modem_state{modem="m1"' "$D/m6.txt" | awk '$2 == 1')
expect_match "in one state, broken or waiting for its restart" "$st" \
    '^tallygw_modem_state\{modem="m1",state="(broken|backoff|init|restart-wait)"\} 1$'
check "$D/m6.txt" "with a modem down"
sctl fault --modem 1 replug >/dev/null
upm1() {
	scrape "$D/m3.txt" >/dev/null &&
	    [ "$(val "$D/m3.txt" 'tallygw_modem_up{modem="m1"}')" = 1 ]
}
wait_for 30 upm1
expect "replugged: up again" "$?" 0
W=$(pgrep -f "tallygw-modem -n m1 -d $D/sim/modem1" | head -1)
expect_match "m1's worker is found" "$W" '^[0-9]+$'
[ -n "$W" ] && kill -KILL "$W"
restarted() {
	scrape "$D/m3.txt" >/dev/null &&
	    [ "$(val "$D/m3.txt" 'tallygw_modem_restarts_total{modem="m1"}')" = 1 ] &&
	    [ "$(val "$D/m3.txt" 'tallygw_modem_up{modem="m1"}')" = 1 ]
}
wait_for 30 restarted
expect "its worker killed: counted restarted once, up again" "$?" 0

# --- a restart --------------------------------------------------------

st0=$(val "$D/m3.txt" tallygw_start_time_seconds)
kill "$G"
wait_for 20 sh -c "! kill -0 $G"
sleep 1		# the start time is in seconds: let it move on
if start_gw; then
	t_ok "tallygw starts again on the same store"
else
	t_fail "tallygw starts again on the same store"
	dump_logs
fi
scrape "$D/m4.txt" >/dev/null
M=$D/m4.txt
check "$M" "after a restart"
expect "messages_total still counts the store" \
    "$(vals "$M" "$SMS" ok flagged rejected other) $(val "$M" 'tallygw_messages_total{channel="ussd",verdict="ok"}')" \
    "4 1 1 1 1"
expect "the counters since the start begin again" \
    "$(val "$M" 'tallygw_receive_stage_total{channel="sms",stage="received"}') $(val "$M" 'tallygw_commit_latency_seconds_count{channel="sms"}') $(val "$M" 'tallygw_modem_received_total{modem="m0"}')" \
    "0 0 0"
expect "the store's rows by state do not" \
    "$(val "$M" 'tallygw_replies{state="delivered"}') $(val "$M" 'tallygw_forwards{state="acked"}')" \
    "8 6"
st1=$(val "$M" tallygw_start_time_seconds)
expect "the start time moved on" "$([ "$st1" -gt "$st0" ] && echo yes)" yes
sctl inject --from 081200000409 --to 0 "$(ok 3201011001009 1)" >/dev/null
one_more() {
	scrape "$D/m5.txt" >/dev/null &&
	    [ "$(val "$D/m5.txt" "${SMS}\"ok\"}")" = 5 ] &&
	    [ "$(val "$D/m5.txt" 'tallygw_forwards{state="acked"}')" = 7 ] &&
	    [ "$(val "$D/m5.txt" 'tallygw_replies{state="delivered"}')" = 9 ]
}
wait_for 20 one_more
expect "a new OK report counts on from the store's 4, acked, answered" \
    "$?" 0
expect "and the rows by state are the store's" "$(same "$D/m5.txt")" ""

finish
