#!/bin/sh
# The alerts (gateway/alert.c, docs/operators.md) on a gateway running
# against tallysim (2 modems) and its central receiver: each alert that
# can be simulated is made to fire and then to clear, and each time
# `tallyctl alerts' lists it, the log says it once, the hook runs with
# its fields in the environment (and only those), and the operator's
# phone gets it by SMS, rate-limited: changes that come within
# sms_interval of the last SMS wait and go out together.
#
# - disk_low: a threshold above the free space, then a reload below it;
# - lockout_storm: bad codes from four phones; cleared when they leave
#   lockout_window;
# - modem_down: modem 1 unplugged in the simulator, then replugged;
# - sim_full: the simulator's SIM says it is full (fault simfull);
# - balance_low: the SIM's airtime set low, asked by USSD, then topped up;
# - cap_near: a send_cap reached, then raised by a reload;
# - forward_failed: a central that refuses our key, then holds it;
# - central_down: the central refusing connections, then back;
# - modem_silent: modem 1 gets nothing while modem 0 receives.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp alerts

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$CTL" ] ||
    ! command -v python3 >/dev/null; then
	t_fail "$B/tallysim, tallygw, tallyctl are built; python3"
	finish
	exit 1
fi

sctl() { timeout 30 "$SIM" ctl --dir "$D/sim" "$@"; }
gwctl() { timeout 60 "$CTL" "$@" --state "$D/gw"; }
py() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }
dump_logs() { tail -30 "$D/gw.err" | sed 's/^/#   /'; }

# open NAME [SUBJECT]: is that alert raised now? (tallyctl alerts)
open_alert() {
	gwctl alerts | awk -v a="$1" -v s="${2:--}" \
	    '$2 == a && $3 == s && $4 == "raised" { f = 1 } END { exit !f }'
}
# cleared NAME [SUBJECT]: is it no longer raised, and listed as cleared?
cleared_alert() {
	! open_alert "$@" && gwctl alerts | awk -v a="$1" -v s="${2:--}" \
	    '$2 == a && $3 == s && $4 == "cleared" { f = 1 } END { exit !f }'
}
# logged WHAT NAME [SUBJECT]: how many "alert: WHAT: NAME SUBJECT" lines.
logged() {
	grep -c "alert: $1: $2${3:+ $3}\\( (\\|:\\|\$\\)" "$D/gw.err"
}
# hooked WHAT NAME [SUBJECT]: how many times the hook was told.
hooked() {
	awk -v w="$1" -v a="$2" -v s="${3:--}" \
	    '$1 == w && $2 == a && $3 == s { n++ } END { print n + 0 }' \
	    "$D/hook.out" 2>/dev/null
}
# both NAME [SUBJECT]: raised, then cleared; each logged and hooked once.
once_each() {
	expect "$1${2:+ $2}: logged once raised, once cleared" \
	    "$(logged raised "$1" "$2") $(logged cleared "$1" "$2")" "1 1"
	expect "$1${2:+ $2}: the hook was run once raised, once cleared" \
	    "$(hooked raised "$1" "$2") $(hooked cleared "$1" "$2")" "1 1"
}
# raise_then NAME SUBJECT: wait until raised (the check is a TAP line).
wait_raised() {
	wait_for 30 open_alert "$1" "$2"
	expect "$1${2:+ $2} is raised (tallyctl alerts)" "$?" 0
}
wait_cleared() {
	wait_for 30 cleared_alert "$1" "$2"
	expect "$1${2:+ $2} is cleared (tallyctl alerts)" "$?" 0
}

# --- the world ------------------------------------------------------

t_sign_pair "$D"
# RFC 8032 test key 2: a central that holds it refuses our signatures.
printf 'ed25519-public %s\n' \
    3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c \
    >"$D/other.pub"
"$CTL" keygen -o "$D/root.key"
t_bg "$SIM" run --dir "$D/sim" --modems 2 --seed 7 >"$D/sim.out" \
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
N0=$(sctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
N1=$(sctl modems --json | sed -n '2s/.*"msisdn":"\([^"]*\)".*/\1/p')
OP=081299990001

# The hook: what it was told, one line per change, and its environment.
cat >"$D/hook" <<EOF
#!/bin/sh
printf '%s %s %s %s\n' "\$TALLYGW_ALERT_STATE" "\$TALLYGW_ALERT" \
    "\${TALLYGW_ALERT_SUBJECT:--}" "\$TALLYGW_ALERT_ID" >>"$D/hook.out"
env >"$D/hook.env.\$TALLYGW_ALERT_ID"
EOF
chmod 755 "$D/hook"

# conf: the whole configuration, with DISK, SMSI, SILENT and CAP1.
DISK=100000000 SMSI=3600 SILENT=0 CAP1=0
conf() {
	cat <<EOF
[gateway]
name = al-gw
state = $D/gw
key = $D/root.key
sign_key = $D/gateway.sec

[tunables]
reply_merge_wait = 0
health_interval = 1
restart_min = 1
restart_max = 2
forward_min = 1
forward_max = 2
sweep_interval = 600
balance_interval = 0
lockout_window = 20

[modem m0]
device = $D/sim/modem0
number = $N0

[modem m1]
device = $D/sim/modem1
number = $N1
send_cap = $CAP1

[central sim]
url = http://127.0.0.1:$CPORT/v1/reports

[alerts]
modem_down = 20
sim_full = 50
balance_low = 5000
cap_near = 100
modem_silent = $SILENT
central_down = 2
forward_failed = 1
lockout_storm = 4
disk_low = $DISK
sms_interval = $SMSI
hook = $D/hook
sms = $OP
EOF
}
reload() {
	conf >"$D/tallygw.conf"
	n_rl=$(grep -c 'alert: thresholds, hook and numbers reloaded' \
	    "$D/gw.err")
	gwctl reload >/dev/null
	wait_for 20 sh -c "[ \$(grep -c 'alert: thresholds, hook and numbers reloaded' '$D/gw.err') -gt $n_rl ]"
}

# A hook that is not a program stops the start, naming it.
conf | sed "s,^hook = .*,hook = $D/nohook," >"$D/bad.conf"
out=$("$GW" -n -f "$D/bad.conf" 2>&1)
expect "tallygw -n refuses a hook that is not there" "$?" 1
expect_match "and names it" "$out" "\\[alerts\\] hook $D/nohook: No such file"

conf >"$D/tallygw.conf"
t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
if ! wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_fail "tallygw starts"
	dump_logs
	finish
	exit 1
fi
t_ok "tallygw starts with [alerts]"

# Both workers up before anything is counted. modem_down (20 s) is
# above a loaded machine's start-up: a worker slower than that to start
# raises it at start, and every count below would be off by one.
up() {
	[ "$(gwctl modems --json | py 'sum(1 for m in d["modems"] if m["state"] == "running" and m["worker"] in ("ready", "sending", "sweeping"))')" = 2 ]
}
wait_for 60 up
expect "both modems' workers start" "$?" 0
expect "no modem_down at start-up (a start slower than 20 s?)" \
    "$(grep -c "alert: raised: modem_down" "$D/gw.err")" 0

# --- disk_low: raised at start, by a threshold above the free space -

wait_raised disk_low
expect_match "its text says the free space and the threshold" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "disk_low"][0]')" \
    "^[0-9]+ MB free for $D/gw, below 100000000 MB\$"
wait_for 20 sh -c "sctl() { timeout 30 '$SIM' ctl --dir '$D/sim' \"\$@\"; }; sctl inbox --phone $OP | grep -q 'ALERT disk_low'"
expect "the operator's phone gets the first alert at once" "$?" 0
sms1=$(sctl inbox --phone $OP | sed -n '1s/.*"text":"\([^"]*\)".*/\1/p')
expect_match "one SMS: the gateway, the alert and its text" "$sms1" \
    "^tallygw al-gw: ALERT disk_low: [0-9]+ MB free for $D/gw, below"
expect "the SMS comes from a modem of the gateway" \
    "$(sctl inbox --phone $OP | sed -n '1s/.*"from":"\([^"]*\)".*/\1/p' |
    grep -cx -e "$N0" -e "$N1")" 1
wait_for 10 test -s "$D/hook.out"
expect "the hook is told: raised disk_low, with the alert's id" \
    "$(head -1 "$D/hook.out")" \
    "raised disk_low - $(gwctl alerts --json | py '[a["id"] for a in d["alerts"] if a["name"] == "disk_low"][0]')"
ENV1=$D/hook.env.$(head -1 "$D/hook.out" | cut -d' ' -f4)
expect "the hook's environment: the alert's fields" \
    "$(grep -E '^TALLYGW_(GATEWAY|ALERT|ALERT_SUBJECT|ALERT_STATE)=' "$ENV1" | sort | tr '\n' ' ')" \
    "TALLYGW_ALERT=disk_low TALLYGW_ALERT_STATE=raised TALLYGW_ALERT_SUBJECT= TALLYGW_GATEWAY=al-gw "
expect_match "with the text and the time" "$(cat "$ENV1")" \
    "TALLYGW_ALERT_RAISED_AT=20[0-9-]+T[0-9:]+Z"
expect "and nothing of the gateway's own environment (LC_ALL)" \
    "$(grep -c '^LC_ALL=' "$ENV1")" 0

# --- disk_low cleared by a reload; the SMS waits for sms_interval ---

DISK=1
reload
expect "the reload takes the new threshold" "$?" 0
wait_cleared disk_low
expect "SMS within sms_interval (3600 s) wait: still one SMS" \
    "$(sctl inbox --phone $OP | wc -l)" 1

# --- modem_down ------------------------------------------------------

sctl fault --modem 1 unplug >/dev/null
wait_for 60 open_alert modem_down m1
expect "modem_down m1 is raised (tallyctl alerts)" "$?" 0
expect_match "modem_down says what the worker is doing" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "modem_down"][0]')" \
    "^worker (restart-wait|running)/(broken|backoff|init)"
sctl fault --modem 1 replug >/dev/null
wait_cleared modem_down m1
once_each modem_down m1

# --- sim_full --------------------------------------------------------

sctl fault --modem 0 simfull on >/dev/null
wait_raised sim_full m0
expect_match "sim_full says the use and the threshold" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "sim_full"][0]')" \
    "^SIM storage 30/30 \\(100%\\), threshold 50%\$"
sctl fault --modem 0 simfull off >/dev/null
wait_cleared sim_full m0
once_each sim_full m0

# --- lockout_storm: four bad codes from four phones ------------------

T=6501011001001
for i in 1 2 3 4; do
	sctl inject --from 08120000040$i --to 0 \
	    "PPWP $T $i 100 30 40 20 90 10 1234567$i" >/dev/null
done
wait_raised lockout_storm
expect_match "lockout_storm says how many, from how many numbers" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "lockout_storm"][0]')" \
    "^4 bad codes from 4 numbers within 20 s; most for TPS $T \\(4\\)"
t_storm=$(date +%s)

# --- the held SMS go out together once sms_interval allows ----------

SMSI=2
reload
wait_for 20 sh -c "[ \$(timeout 30 '$SIM' ctl --dir '$D/sim' inbox --phone $OP | wc -l) -ge 2 ]"
expect "after the reload, the second SMS" "$?" 0
sms2=$(sctl inbox --phone $OP | sed -n '2s/.*"text":"\([^"]*\)".*/\1/p')
expect "it lists what changed meanwhile, in order" "$sms2" \
    "tallygw al-gw: CLEARED disk_low; ALERT modem_down m1; CLEARED modem_down m1; ALERT sim_full m0; CLEARED sim_full m0; ALERT lockout_storm"
expect "in one SMS (160 characters at most)" \
    "$([ "$(printf '%s' "$sms2" | wc -c)" -le 160 ] && echo yes)" yes

# --- balance_low -----------------------------------------------------

sctl fault --modem 0 balance 1000 >/dev/null
gwctl modem balance m0 >/dev/null
wait_raised balance_low m0
expect "balance_low says the balance and the threshold" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "balance_low"][0]')" \
    "airtime balance Rp1000, below Rp5000"
sctl fault --modem 0 balance 90000 >/dev/null
gwctl modem balance m0 >/dev/null
wait_cleared balance_low m0
once_each balance_low m0

# --- cap_near: m1's cap set one above what it sent today, then one more

sent1=$(gwctl modems --json | py '[m["sent_today"] for m in d["modems"] if m["name"] == "m1"][0]')
CAP1=$((sent1 + 1))
reload
sctl inject --from 081200000411 --to 1 BANTU >/dev/null
wait_raised cap_near m1
expect "cap_near says the sent and the cap" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "cap_near"][0]')" \
    "sent $CAP1 of its daily cap of $CAP1 SMS (100%), threshold 100%"
CAP1=0
reload
wait_cleared cap_near m1
once_each cap_near m1

# --- forward_failed, then central_down -------------------------------

sctl inject --from 081200000421 --to 0 \
    "$("$CTL" mac --key "$D/root.key" "PPWP $T 1 100 30 40 20 90 10")" \
    >/dev/null
wait_raised forward_failed sim
expect_match "forward_failed says how many and the central's answer" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "forward_failed"][0]')" \
    "^1 forward refused for good \\(last answer HTTP 401\\)"
t_stop "$C"
t_bg "$SIM" central --dir "$D/c" --listen "127.0.0.1:$CPORT" \
    --pubkey "$D/gateway.pub" >"$D/c2.out" 2>"$D/c2.err"
C=$!
wait_for 30 grep -q '^ready$' "$D/c2.out"
expect "the central is back with our key" "$?" 0
gwctl forward retry --failed >/dev/null
wait_cleared forward_failed sim
once_each forward_failed sim

timeout 10 "$SIM" central --dir "$D/c" --ctl down >/dev/null
sctl inject --from 081200000422 --to 0 \
    "$("$CTL" mac --key "$D/root.key" "PPWP 6501011001002 1 100 30 40 20 90 10")" \
    >/dev/null
wait_raised central_down sim
timeout 10 "$SIM" central --dir "$D/c" --ctl up >/dev/null
gwctl forward retry >/dev/null
wait_cleared central_down sim
once_each central_down sim

# --- lockout_storm clears as its bad codes leave the window ---------

wait_cleared lockout_storm
expect "it took lockout_window (20 s) from the bad codes" \
    "$([ $(($(date +%s) - t_storm)) -le 40 ] && echo yes)" yes
once_each lockout_storm
once_each disk_low

# --- modem_silent: m1 gets nothing while m0 receives ----------------

SILENT=4
reload
i=0
while [ $i -lt 20 ] && ! open_alert modem_silent m1; do
	sctl inject --from 081200000431 --to 0 BANTU >/dev/null
	sleep 1
	i=$((i + 1))
done
wait_raised modem_silent m1
expect_match "modem_silent says for how long" \
    "$(gwctl alerts --json | py '[a["text"] for a in d["alerts"] if a["name"] == "modem_silent"][0]')" \
    "^no SMS received for [0-9]+ s while other modems receive\$"
expect "m0, which receives, is not silent" \
    "$(open_alert modem_silent m0 && echo raised || echo no)" no
sctl inject --from 081200000432 --to 0 BANTU >/dev/null
sctl inject --from 081200000432 --to 1 BANTU >/dev/null
wait_cleared modem_silent m1
SILENT=0
reload
once_each modem_silent m1

# --- what the operator got -------------------------------------------

wait_for 30 sh -c "timeout 30 '$SIM' ctl --dir '$D/sim' inbox --phone $OP | grep -q 'CLEARED modem_silent m1'"
expect "the last change reaches the operator's phone" "$?" 0
sctl inbox --phone $OP | sed 's/.*"text":"\([^"]*\)".*/\1/' >"$D/sms.txt"
for a in "lockout_storm" "sim_full m0" "balance_low m0" "cap_near m1" \
    "forward_failed sim" "central_down sim" "modem_silent m1"; do
	expect "the operator was sent: ALERT $a, CLEARED $a" \
	    "$(grep -c "ALERT $a\\b" "$D/sms.txt" | sed 's/^[1-9][0-9]*$/1/') $(grep -c "CLEARED $a\\b" "$D/sms.txt" | sed 's/^[1-9][0-9]*$/1/')" \
	    "1 1"
done
expect "every SMS is one SMS (160 characters at most)" \
    "$(awk 'length($0) > 160' "$D/sms.txt" | wc -l)" 0
expect "the SMS are told in the log, one line each" \
    "$(grep -c "alert: SMS to +62${OP#0}: " "$D/gw.err")" \
    "$(wc -l <"$D/sms.txt" | tr -d ' ')"
expect "tallyctl alerts: nothing raised at the end" \
    "$(gwctl alerts | awk '$4 == "raised"' | wc -l)" 0
expect "the cleared ones are listed, newest first" \
    "$(gwctl alerts | awk 'NR == 2 { print $2, $3, $4 }')" \
    "modem_silent m1 cleared"
expect "tallyctl alerts --json: the same" \
    "$(gwctl alerts --json | py 'd["alerts"][0]["name"], d["alerts"][0]["state"], d["alerts"][0]["cleared_at"] is not None')" \
    "modem_silent cleared True"
expect_match "the table's header" "$(gwctl alerts | head -1)" \
    "^ *ID +ALERT +SUBJECT +STATE +RAISED +CLEARED +TEXT\$"

if [ "$T_FAILED" -gt 0 ]; then
	grep 'alert: ' "$D/gw.err" | sed 's/^/#   /'
fi
finish
