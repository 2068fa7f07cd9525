#!/bin/sh
# The bank section of `make bench' (tests/bench.sh bank), and the runs of
# the memory section (tests/bench/bank.sh memory): tallygw and its peers
# from Debian (gammu-smsd, smstools' smsd, Kannel) on the same simulated
# bank of K modems, realistic profile at scale 1 (real modem timing),
# with the same messages and replies of the same length. For each
# gateway and K: a burst of signed PPWP reports (some officers send two),
# then a steady feed at 90% of the bank's capacity. What each figure
# means: docs/bench.md. POSIX sh.
#
#   BENCH_K		the bank sizes ("1 4 16 64"; memory: "1 16 64")
#   BENCH_GATEWAYS	("tallygw tallygw-split gammu-smsd smsd kannel";
#			memory: no tallygw-split)
#   BENCH_SCALE		the profile's time scale (1)
#   BENCH_BURST		reports per modem in the burst (6; memory: 2)
#   BENCH_STEADY_S	seconds of the steady feed (40; memory: 0), at
#			least BENCH_STEADY_MIN messages (20)
#   BENCH_LOAD		the steady feed's share of the capacity (0.9)
#   BENCH_REJECT	1: the burst's last report on each modem has a
#			wrong code, a rejection (1; 0: every report valid)
#   BENCH_SPLIT		tallygw-split's receive-only modems at K, as an
#			awk expression of k (max(1, int(k / 8)): docs/bench.md
#			says why)
#
# tallygw-split is tallygw on a split bank: the first R of the K modems
# receive only (role = receive; tallysim world --receive R), and every
# report (burst and steady feed) goes to their numbers, as the officers'
# cards would print only those; the steady feed is LOAD of the capacity
# of the K - R modems that send. Not run at K = 1 (no modem to send).

. tests/regress/lib.sh
. tests/bench/lib.sh
MODE=${1:-bank}
if [ "$MODE" = memory ]; then
	KS="${BENCH_K:-1 16 64}"
	BURST=${BENCH_BURST:-2}
	STEADY=${BENCH_STEADY_S:-0}
elif [ "${BENCH_QUICK:-0}" = 1 ]; then
	KS="${BENCH_K:-1 4}"
	BURST=${BENCH_BURST:-3}
	STEADY=${BENCH_STEADY_S:-15}
else
	KS="${BENCH_K:-1 4 16 64}"
	BURST=${BENCH_BURST:-6}
	STEADY=${BENCH_STEADY_S:-40}
fi
STEADY_MIN=${BENCH_STEADY_MIN:-20}
[ "${BENCH_QUICK:-0}" = 1 ] && STEADY_MIN=${BENCH_STEADY_MIN:-8}
if [ "$MODE" = memory ]; then
	GWS="${BENCH_GATEWAYS:-tallygw gammu-smsd smsd kannel}"
else
	GWS="${BENCH_GATEWAYS:-tallygw tallygw-split gammu-smsd smsd kannel}"
fi
SPLIT=${BENCH_SPLIT:-'int(k / 8) > 1 ? int(k / 8) : 1'}
SCALE=${BENCH_SCALE:-1}
LOAD=${BENCH_LOAD:-0.9}
REJECT=${BENCH_REJECT:-1}
W=$BENCH_WORK/$MODE
mkdir -p "$W"
say() { echo "$MODE: $*"; }
ctl() { timeout 30 "$SIM" ctl --dir "$SIMDIR" "$@"; }

RUNPIDS=
SAMPLER=
bank_cleanup() {
	stop_pids $SAMPLER $RUNPIDS
	t_cleanup
}
t_trap bank_cleanup
trap 'exit 1' PIPE

# The realistic profile's modem time per report at least: one reply
# (AT+CMGS), one read, one delete (fault.c), in seconds at scale 1.
MODEM_S=3.07
# A confirmation of the usual length, for the peers (tallygw's own text
# of its first run replaces it).
REPLY="DITERIMA PPWP 3201011001001 #1: PEMILIH=255 1=120 2=95 3=36 SAH=251 TDK SAH=4. Tanda terima 78670488, tulis di C.Hasil."

INJ=$W/bench_inject
${CC:-cc} -std=gnu11 -O2 -Wall -o "$INJ" tests/bench/bench_inject.c ||
    { say "FAILED: cannot build bench_inject"; exit 1; }

# --- the messages ------------------------------------------------------

# feeds K: $W/k$K/burst.feed and steady.feed, "SENDER TEXT" a line,
# line i for modem i % K (bench_inject). The burst: BURST reports per
# modem; on each modem the first 2 * (BURST / 3) come from officers who
# send two (SEQ 1, then SEQ 2 of the same TPS, a correction), the rest
# from one each. The steady feed: one report per officer, at LOAD of the
# capacity (K / MODEM_S reports/s at scale 1) for STEADY s, 20 at least.
feeds() {
	F=$W/k$1
	mkdir -p "$F"
	RATE=$(awk -v k="$1" -v s="$SCALE" -v l="$LOAD" -v m="$MODEM_S" \
	    'BEGIN { printf "%.4f", l * k * s / m }')
	NSTEADY=$(awk -v r="$RATE" -v t="$STEADY" -v m="$STEADY_MIN" 'BEGIN {
		n = int(r * t + 0.5); if (t > 0 && n < m) n = m; print n }')
	awk -v k="$1" -v b="$BURST" -v ns="$NSTEADY" '
	NR == FNR { row[NR] = $0; next }
	END {
		pairs = int(b / 3) * 2; t = 0
		for (p = 0; p < b; p++)
			for (q = 0; q < k; q++) {
				if (p < pairs && p % 2 == 1) {
					o = off[q, p - 1]; seq = 2
				} else {
					o = ++t; seq = 1
				}
				off[q, p] = o
				split(row[o], f, " ")
				printf "+628128%07d PPWP*%s*%d*%s*%s*%s*%s*%s*%s\n",
				    o, f[1], seq, f[2], f[3], f[4], f[5], f[6],
				    f[7] > "/dev/stderr"
			}
		for (i = 1; i <= ns; i++) {
			split(row[t + i], f, " ")
			printf "+628129%07d PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", i,
			    f[1], f[2], f[3], f[4], f[5], f[6], f[7]
		}
	}' "$W/rows.txt" "$W/rows.txt" >"$F/steady.raw" 2>"$F/burst.raw"
	for f in burst steady; do
		cut -d' ' -f2 "$F/$f.raw" >"$F/$f.txt"
		"$CTL" mac --key "$BENCH_WORK/root.key" --batch "$F/$f.txt" \
		    >"$F/$f.signed" || return 1
		cut -d' ' -f1 "$F/$f.raw" | paste -d' ' - "$F/$f.signed" \
		    >"$F/$f.feed"
	done
	i=0
	: >"$F/warm.feed"
	while [ $i -lt "$1" ]; do
		printf '+628126%07d TES %d\n' $((i + 1)) $((i + 1)) \
		    >>"$F/warm.feed"
		i=$((i + 1))
	done
	if grep -q REJECTED "$F/burst.feed" "$F/steady.feed"; then
		say "FAILED: tallyctl mac refused a report"
		return 1
	fi
	# The burst's last report on each modem gets a wrong code (its last
	# digit moved by one) and comes from the officer of the report
	# before it on that modem (an officer the gateway knows once that
	# report is accepted): a rejection the officer must act on. A
	# rejection to a number never seen goes after the confirmations
	# (docs/design.md, "The outbox's order"). Their senders: burst.bad.
	: >"$F/burst.bad"
	[ "$REJECT" = 1 ] && [ "$BURST" -gt $((BURST / 3 * 2 + 1)) ] ||
	    return 0
	awk -v from=$(((BURST - 1) * $1 + 1)) -v k="$1" \
	    -v bad="$F/burst.bad" '
	{ who[NR] = $1 }
	NR >= from {
		d = substr($NF, length($NF))
		$NF = substr($NF, 1, length($NF) - 1) ((d + 1) % 10)
		$1 = who[NR - k]
		print $1 >bad
	}
	{ print }' "$F/burst.feed" >"$F/burst.tmp" &&
	    mv "$F/burst.tmp" "$F/burst.feed"
}

# --- the simulator and the samples -----------------------------------

# stats_now: one sample, "EPOCH submitted busy_ms prompt_ms now_ms".
stats_now() { "$INJ" -d "$SIMDIR" -s 1 | head -n 1; }

# sim_run DIR K: tallysim run for a peer, the bank every gateway gets
# (same seed: the same numbers and SIMs).
sim_run() {
	SIMDIR=$1
	mkdir -p "$1"
	"$SIM" run --dir "$1" --modems "$2" --seed 1 --profile realistic \
	    --scale "$SCALE" >"$1.out" 2>"$1.err" &
	RUNPIDS="$RUNPIDS $!"
	t_track "$!"
	wait_for 30 grep -q '^ready$' "$1.out" ||
	    { echo "tallysim run: not ready in 30 s"; return 1; }
}

# submitted: SMS parts the modems have handed to the network so far.
submitted() { stats_now | cut -d' ' -f2; }

# --- the gateways ------------------------------------------------------
#
# For each gateway G: start_G DIR K (start it on K modems; set PSS_ROOTS;
# 1 if it cannot be), stored_G DIR (the messages it has made durable:
# "KEY EPOCH" a line, KEY = TPS/SEQ of a report, the sender for others),
# idle_G DIR (0 when it has nothing queued to send).

# A report's key in a stored text: "PPWP TPS SEQ ..." -> TPS/SEQ.
key_awk='{ t = $0; sub(/^[^ ]* [^ ]* /, "", t)
	if (split(t, w, " ") >= 3 && w[1] == "PPWP") k = w[2] "/" w[3]
	else { split($0, a, " "); k = a[1] }
	split($0, a, " "); print k, a[2] }'

start_tallygw() {
	mkdir -p "$1"
	printf '%s\n' "$BENCH_ROOT_KEY" >"$1/root.key"
	chmod 600 "$1/root.key"
	registry "$1/registry.db" || return 1
	SIMDIR=$1
	"$SIM" world --dir "$1" --modems "$2" --seed 1 --profile realistic \
	    --scale "$SCALE" --daily-cap 0 --data "$DATA" \
	    --receive "${RECEIVE:-0}" >"$1.out" \
	    2>"$1.err" &
	RUNPIDS="$RUNPIDS $!"
	t_track "$!"
	wait_for 300 grep -q '^ready$' "$1.out" ||
	    { echo "tallysim world: not ready in 300 s"; return 1; }
	PSS_ROOTS=$(pgrep -f "tallygw -d -f $1/tallygw.conf" | head -1)
	[ -n "$PSS_ROOTS" ]
}
# The split bank: R receive-only modems (m0 ..), tallygw's own figures.
start_tallygw_split() { RECEIVE=$R start_tallygw "$@"; }
stored_tallygw_split() { stored_tallygw "$@"; }
idle_tallygw_split() { idle_tallygw "$@"; }
tdb() { sqlite3 -cmd '.timeout 5000' "$1/gw/tallygw.db" "$2"; }
stored_tallygw() {
	sqlite3 -cmd '.timeout 5000' -separator ' ' "$1/gw/tallygw.db" \
	    "SELECT sender, printf('%.3f', strftime('%s', verified_at) +
	    substr(verified_at, 21, 3) / 1000.0), raw FROM messages" |
	    awk "$key_awk"
}
idle_tallygw() {
	[ "$(tdb "$1" "SELECT (SELECT count(*) FROM outbox WHERE state IN
	    ('queued', 'sending')) + (SELECT count(*) FROM replies WHERE
	    out_id IS NULL)")" -eq 0 ]
}

# gammu-smsd: one daemon per modem (as Gammu runs several modems), SQL
# backend on SQLite (libdbi), one database each; tuned as its manual
# says for throughput: status checks off (StatusFrequency 0, battery,
# signal), the outbox scanned every second (CommTimeout 1), received
# messages looked for every second while sending (ReceiveFrequency 1).
# The reply: a trigger on the inbox queues it in the outbox, and keeps
# the time of the insert to the millisecond (ReceivingDateTime has
# seconds only).
start_gammu_smsd() {
	sim_run "$1/sim" "$2" || return 1
	i=0
	PSS_ROOTS=
	while [ $i -lt "$2" ]; do
		db=$1/smsd$i.db
		sqlite3 "$db" </usr/share/doc/gammu-smsd/examples/sqlite.sql ||
		    return 1
		sqlite3 "$db" "CREATE TABLE bench_in (id INTEGER, sender TEXT,
		    t REAL, text TEXT);
		CREATE TRIGGER bench_reply AFTER INSERT ON inbox BEGIN
		INSERT INTO bench_in VALUES (NEW.ID, NEW.SenderNumber,
		    (julianday('now') - 2440587.5) * 86400.0, NEW.TextDecoded);
		INSERT INTO outbox (DestinationNumber, TextDecoded, CreatorID,
		    Coding) VALUES (NEW.SenderNumber, '$REPLY', 'bench',
		    'Default_No_Compression');
		END;" || return 1
		cat >"$1/smsd$i.rc" <<EOF
[gammu]
device = $1/sim/modem$i
connection = at

[smsd]
service = sql
driver = sqlite3
dbdir = $1/
database = smsd$i.db
logfile = $1/smsd$i.log
debuglevel = 0
phoneid = m$i
receivefrequency = 1
commtimeout = 1
statusfrequency = 0
checkbattery = 0
checksignal = 0
checksecurity = 0
EOF
		gammu-smsd -c "$1/smsd$i.rc" >"$1/smsd$i.out" 2>&1 &
		RUNPIDS="$RUNPIDS $!"
		PSS_ROOTS="$PSS_ROOTS $!"
		t_track "$!"
		i=$((i + 1))
	done
}
stored_gammu_smsd() {
	for db in "$1"/smsd*.db; do
		sqlite3 -cmd '.timeout 5000' -separator ' ' "$db" \
		    "SELECT sender, printf('%.3f', t), text FROM bench_in"
	done | awk "$key_awk"
}
idle_gammu_smsd() {
	for db in "$1"/smsd*.db; do
		[ "$(sqlite3 -cmd '.timeout 5000' "$db" \
		    'SELECT count(*) FROM outbox')" -eq 0 ] || return 1
	done
}

# smstools: one smsd, one modem process each (smsd -t, foreground),
# polling every second (delaytime 1, delaytime_mainprocess 1); an
# eventhandler queues the reply in outgoing/ for each received file.
start_smsd() {
	sim_run "$1/sim" "$2" || return 1
	mkdir -p "$1/incoming" "$1/outgoing" "$1/checked" "$1/failed" \
	    "$1/sent" "$1/tmp"
	cat >"$1/handler.sh" <<EOF
#!/bin/sh
# smsd eventhandler: a reply for each received message.
[ "\$1" = RECEIVED ] || exit 0
from=\$(sed -n 's/^From: //p' "\$2" | head -1)
f=\$(mktemp "$1/tmp/reply.XXXXXX") || exit 1
printf 'To: %s\n\n%s\n' "\$from" '$REPLY' >"\$f"
mv "\$f" "$1/outgoing/"
EOF
	chmod 755 "$1/handler.sh"
	{
		printf 'devices = '
		i=0
		while [ $i -lt "$2" ]; do
			printf '%sGSM%d' "$([ $i -gt 0 ] && echo ,)" $i
			i=$((i + 1))
		done
		echo
		for d in outgoing checked failed incoming sent; do
			echo "$d = $1/$d"
		done
		echo "logfile = $1/smsd.log"
		echo "loglevel = 5"
		echo "infofile = $1/smsd.working"
		echo "pidfile = $1/smsd.pid"
		echo "delaytime = 1"
		echo "delaytime_mainprocess = 1"
		echo "eventhandler = $1/handler.sh"
		i=0
		while [ $i -lt "$2" ]; do
			printf '\n[GSM%d]\ndevice = %s/sim/modem%d\n' $i "$1" $i
			printf 'incoming = yes\nrtscts = no\nbaudrate = 115200\n'
			i=$((i + 1))
		done
	} >"$1/smsd.conf"
	smsd -t -c "$1/smsd.conf" >"$1/smsd.out" 2>&1 &
	RUNPIDS="$RUNPIDS $!"
	PSS_ROOTS=$!
	t_track "$!"
}
stored_smsd() {
	for f in "$1"/incoming/*; do
		[ -f "$f" ] || continue
		printf '%s %s %s\n' "$(sed -n 's/^From: //p' "$f" | head -1)" \
		    "$(stat -c '%.3Y' "$f")" "$(tail -n 1 "$f")"
	done | awk "$key_awk"
}
idle_smsd() {
	! find "$1/outgoing" "$1/checked" "$1/tmp" -type f | grep -q .
}

# Kannel: one bearerbox with an `at' SMSC per modem (direct delivery,
# +CMT, the default), an smsbox whose sms-service asks a small local
# HTTP listener for the reply (as an application would); the listener
# keeps the time of each request. bearerbox keeps its queue in a store
# file. Ports are free ones.
start_kannel() {
	sim_run "$1/sim" "$2" || return 1
	cat >"$1/listener.py" <<'EOF'
import sys, time, http.server, urllib.parse
out, reply = sys.argv[1], sys.argv[2].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        with open(out, 'a') as f:
            f.write('%s %.3f %s\n' % (q.get('from', [''])[0], time.time(),
                                      q.get('text', [''])[0]))
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)
    def log_message(self, *a):
        pass
s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
print(s.server_address[1], flush=True)
s.serve_forever()
EOF
	python3 "$1/listener.py" "$1/got.txt" "$REPLY" >"$1/listener.port" \
	    2>"$1/listener.err" &
	RUNPIDS="$RUNPIDS $!"
	t_track "$!"
	wait_for 10 grep -q '^[0-9]' "$1/listener.port" ||
	    { echo "the HTTP listener did not start"; return 1; }
	set -- "$1" "$2" $(python3 -c '
import socket
ss = [socket.socket() for i in range(3)]
for s in ss:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))')
	KA=$3
	{
		printf 'group = core\nadmin-port = %s\nadmin-password = b\n' "$3"
		printf 'admin-allow-ip = "127.0.0.1"\nsmsbox-port = %s\n' "$4"
		printf 'box-allow-ip = "127.0.0.1"\nlog-file = "%s/bb.log"\n' "$1"
		printf 'log-level = 1\nstore-type = file\n'
		printf 'store-location = "%s/kannel.store"\n' "$1"
		printf 'dlr-storage = internal\n'
		ctl modems --json >"$1/modems.json"
		i=0
		while [ $i -lt "$2" ]; do
			printf '\ngroup = smsc\nsmsc = at\nsmsc-id = m%d\n' $i
			printf 'allowed-smsc-id = m%d\ndevice = %s/sim/modem%d\n' \
			    $i "$1" $i
			printf 'modemtype = tallysim\nspeed = 115200\n'
			printf 'my-number = "%s"\nsim-buffering = true\n' \
			    "$(sed -n "$((i + 1))s/.*\"msisdn\":\"\([^\"]*\)\".*/\1/p" \
			    "$1/modems.json")"
			printf 'keepalive = 30\n'
			i=$((i + 1))
		done
		printf '\ngroup = modems\nid = tallysim\nname = "tallysim"\n'
		printf 'detect-string = "Tallysim"\nmessage-storage = "SM"\n'
		printf '\ngroup = smsbox\nbearerbox-host = 127.0.0.1\n'
		printf 'bearerbox-port = %s\nsendsms-port = %s\n' "$4" "$5"
		printf 'log-file = "%s/sb.log"\nlog-level = 1\n' "$1"
		printf '\ngroup = sms-service\nkeyword = default\n'
		printf 'get-url = "http://127.0.0.1:%s/mo?from=%%p&text=%%a"\n' \
		    "$(cat "$1/listener.port")"
		printf 'max-messages = 1\nconcatenation = true\n'
		printf 'omit-empty = true\n'
	} >"$1/kannel.conf"
	bearerbox "$1/kannel.conf" >"$1/bearerbox.out" 2>&1 &
	RUNPIDS="$RUNPIDS $!"
	PSS_ROOTS=$!
	t_track "$!"
	# smsbox gives up at once if bearerbox does not listen yet.
	wait_for 120 kannel_status ||
	    { echo "bearerbox: no status page within 120 s"; return 1; }
	smsbox "$1/kannel.conf" >"$1/smsbox.out" 2>&1 &
	RUNPIDS="$RUNPIDS $!"
	PSS_ROOTS="$PSS_ROOTS $!"
	t_track "$!"
	# Kannel opens its modems one after the other.
	wait_for $((120 + 3 * $2)) kannel_online "$2" || {
		echo "bearerbox: $(kannel_status | grep -c '(online') of $2" \
		    "modems online after $((120 + 3 * $2)) s"
		return 1
	}
}
kannel_status() {
	curl -sf -m 5 "http://127.0.0.1:$KA/status.txt?password=b"
}
kannel_online() {
	[ "$(kannel_status | grep -c '(online')" -ge "$1" ]
}
stored_kannel() {
	[ -f "$1/got.txt" ] && awk "$key_awk" "$1/got.txt"
}
idle_kannel() {
	# "SMS: received N (M queued), sent N (M queued), ..."
	kannel_status | grep -q 'sent [0-9]* (0 queued)'
}

# --- one run -----------------------------------------------------------

# split_r K: tallygw-split's receive-only modems in a bank of K.
split_r() { awk -v k="$1" "BEGIN { r = $SPLIT; print (r < 1 ? 1 : int(r)) }"; }

# match_times KEYS STORED INJ OUT: for each message of INJ (bench_inject's
# "INDEX MODEM SENDER EPOCH", INDEX a line of the feed KEYS), its store
# time from STORED ("KEY EPOCH"): "INJECT STORE" lines into OUT.
match_times() {
	awk 'FILENAME == ARGV[1] { key[FNR - 1] = $1; next }
	    FILENAME == ARGV[2] { if (!($1 in st) || $2 < st[$1]) st[$1] = $2
		next }
	    { k = key[$1]; if (k in st) print $4, st[k] }' \
	    "$1" "$2" "$3" >"$4"
}

# keys FEED: a report's key per line of a feed (TPS/SEQ).
keys() { awk '{ print $3 "/" $4 }' "$1"; }

# run_one GATEWAY K: the whole run of one gateway on K modems.
run_one() {
	G=$1
	K=$2
	D=$W/k$K/$G
	F=$W/k$K
	# The modems the reports go to (tallygw-split: its R receive-only
	# ones) and the steady feed's rate (LOAD of the sending modems).
	R=0
	INJK=$K
	RATE_G=$RATE
	if [ "$G" = tallygw-split ]; then
		R=$(split_r "$K")
		INJK=$R
		RATE_G=$(awk -v k="$K" -v r="$R" -v s="$SCALE" -v l="$LOAD" \
		    -v m="$MODEM_S" 'BEGIN { printf "%.4f", l * (k - r) * s / m }')
	fi
	rm -rf "$D"
	mkdir -p "$D"
	RUNPIDS=
	SAMPLER=
	t_start=$(now)
	fn=$(echo "$G" | tr - _)
	if ! "start_$fn" "$D/gw" "$K" >"$D/start.log" 2>&1; then
		say "$G k=$K: not measured: it did not start" \
		    "($(tail -2 "$D/start.log" | tr '\n' ' '))"
		stop_pids $RUNPIDS
		return 1
	fi
	# Warm-up: one message per modem, stored and answered, then the
	# counters start (a gateway is judged ready by doing the work).
	base=$(submitted)
	"$INJ" -d "$SIMDIR" -k "$K" -w 24 "$F/warm.feed" >"$D/warm.inj" \
	    2>"$D/warm.err"
	if ! wait_for 180 warm_done "$D/gw" "$K" "$base"; then
		say "$G k=$K: not measured: the warm-up messages were not" \
		    "stored and answered within 180 s"
		stop_pids $RUNPIDS
		return 1
	fi
	sleep 2
	idle_pss=$(pss_kib $(for r in $PSS_ROOTS; do tree "$r"; done))
	# The profile's delays, from the simulator.
	prof=$(ctl stats --json)
	SEND_S=$(jfield send_ms "$prof" | awk -v s="$SCALE" '{ print $1 / 1000 / s }')
	DELIVER_S=$(jfield deliver_ms "$prof" | awk -v s="$SCALE" '{ print $1 / 1000 / s }')
	# shellcheck disable=SC2086
	"$INJ" -d "$SIMDIR" -s 100 $PSS_ROOTS >"$D/samples" &
	SAMPLER=$!
	# The burst.
	nb=$(wc -l <"$F/burst.feed")
	b0=$(submitted)
	"$INJ" -d "$SIMDIR" -k "$INJK" -w 24 "$F/burst.feed" >"$D/burst.inj" \
	    2>"$D/burst.err"
	keys "$F/burst.feed" >"$D/burst.keys"
	limit=$(awk -v b="$BURST" -v m="$MODEM_S" -v s="$SCALE" \
	    'BEGIN { printf "%d", 6 * b * m / s + 120 }')
	burst_ok=1
	if ! wait_for "$limit" burst_done "$D" "$nb" "$b0"; then
		burst_ok=0
		say "$G k=$K: the burst was not all stored and answered within" \
		    "$limit s"
	fi
	b1=$(submitted)
	"stored_$fn" "$D/gw" >"$D/burst.stored"
	match_times "$D/burst.keys" "$D/burst.stored" "$D/burst.inj" "$D/burst.t"
	REJECT_RANK=null
	case $G in
	tallygw*) REJECT_RANK=$(reject_rank "$D/gw" "$F/burst.bad") ;;
	esac
	# The steady feed at LOAD of the capacity.
	lat="null null 0"
	if [ "$NSTEADY" -gt 0 ] && [ "$burst_ok" = 1 ]; then
		"$INJ" -d "$SIMDIR" -k "$INJK" -w 24 -r "$RATE_G" \
		    "$F/steady.feed" \
		    >"$D/steady.inj" 2>"$D/steady.err"
		keys "$F/steady.feed" >"$D/steady.keys"
		wait_for 60 all_stored "$D" "$D/steady.keys"
		"stored_$fn" "$D/gw" >"$D/steady.stored"
		match_times "$D/steady.keys" "$D/steady.stored" "$D/steady.inj" \
		    "$D/steady.t"
		awk -v d="$DELIVER_S" '{ print $2 - $1 - d }' "$D/steady.t" \
		    >"$D/steady.lat"
		lat=$(pcts "$D/steady.lat")
	fi
	stop_pids $SAMPLER
	SAMPLER=
	stop_pids $RUNPIDS
	RUNPIDS=
	figures "$G" "$K" "$D" "$nb" "$b0" "$b1" "$burst_ok" "$idle_pss" $lat
	say "$G k=$K: run took $(awk -v a="$t_start" -v b="$(now)" \
	    'BEGIN { printf "%.0f", b - a }') s"
}

# reject_rank DIR BAD: where the rejections' SMS came among the burst's
# SMS in the order the network took them (tallygw's log: each "sending
# -> sent" line), the mean position, 1 the first; null if none.
reject_rank() {
	grep -F 'outbox: sms' "$1/tallygw.log" | awk -v bad="$2" '
	BEGIN { while ((getline l <bad) > 0) b[l] = 1 }
	{ id = $5; d = $7; sub(/:$/, "", d) }
	/: queued \(/ && (d in b) && /DITOLAK/ { rej[id] = 1 }
	/sending -> sent/ && d ~ /^\+628128/ {
		n++; if (id in rej) { sum += n; nb++ }
	}
	END { if (nb) printf "%.1f/%d\n", sum / nb, n; else print "null" }'
}

# answered DIR N BASE: the replies to N messages are out since BASE (SMS
# parts handed to the network): a peer sends one SMS per message; tallygw
# merges replies, so it is done when its outbox is.
answered() {
	if [ "$fn" = tallygw ] || [ "$fn" = tallygw_split ]; then
		[ "$(submitted)" -gt "$3" ] && idle_tallygw "$1"
	else
		[ "$(($(submitted) - $3))" -ge "$2" ] && "idle_$fn" "$1"
	fi
}
# warm_done DIR K BASE: K messages stored and answered.
warm_done() {
	[ "$("stored_$fn" "$1" | wc -l)" -ge "$2" ] && answered "$@"
}
# burst_done D N BASE: the N burst messages stored and answered.
burst_done() {
	"stored_$fn" "$1/gw" >"$1/now.stored"
	match_times "$1/burst.keys" "$1/now.stored" "$1/burst.inj" "$1/now.t"
	[ "$(wc -l <"$1/now.t")" -ge "$2" ] && answered "$1/gw" "$2" "$3"
}
all_stored() {
	"stored_$fn" "$1/gw" >"$1/now.stored"
	match_times "$2" "$1/now.stored" "$1/steady.inj" "$1/now.t"
	[ "$(wc -l <"$1/now.t")" -ge "$(wc -l <"$1/steady.inj")" ]
}

# figures G K D NB B0 B1 OK IDLE_PSS P50 P99 NLAT: the run's figures
# from its files (B0, B1: SMS sent before and after the burst): printed,
# emitted into bank.jsonl, PSS kept for the memory section.
figures() {
	grep -v '^pss ' "$3/samples" >"$3/stats"
	awk '$1 == "pss" { print $2, $3 }' "$3/samples" >"$3/pss"
	awk -v g="$1" -v k="$2" -v nb="$4" -v b0="$5" -v final="$6" \
	    -v ok="$7" -v deliver="$DELIVER_S" -v send="$SEND_S" '
	FILENAME == ARGV[1] {		# burst.t: inject store
		if (!n++ || $1 < t0) t0 = $1
		if ($2 > ls) ls = $2
		next
	}
	FILENAME == ARGV[2] {		# burst.inj: the first inject
		if (!fi++ || $4 < f0) f0 = $4
		next
	}
	FILENAME == ARGV[3] {		# stats: t submitted busy prompt now
		st[++ns] = $0
		next
	}
	END {
		# The backlog starts when the first message reaches its
		# modem: the network delivers deliver s after the inject.
		if (fi) t0 = f0 + deliver
		# The last reply was handed to the network between the
		# last sample with fewer and the first with the burst
		# count; the network answered it send s later.
		for (i = 1; i <= ns; i++) {
			split(st[i], s, " ")
			if (s[1] <= t0 || !a) { a = i; split(st[i], sa, " ") }
			if (!e && s[2] >= final) {
				e = i
				split(st[i > 1 ? i - 1 : i], sp, " ")
				tc = (sp[1] + s[1]) / 2 + send
			}
			if (e && s[1] >= tc) { e2 = i; break }
		}
		if (!e2) e2 = ns
		split(st[e2], se, " ")
		sent = final - b0
		span = tc - t0
		work = (se[3] - sa[3]) - (se[4] - sa[4])
		now = se[5] - sa[5]
		printf "%s %d %s %s %s %s %s %s\n", g, n,
		    (n > 1 && ls > t0) ? sprintf("%.1f", n / (ls - t0) * 60) : "null",
		    (sent > 0 && span > 0) ? sprintf("%.1f", sent / span * 60) : "null",
		    (ok && sent > 0) ? sprintf("%.1f", span) : "null",
		    (now > 0) ? sprintf("%.3f", work / (k * now)) : "null",
		    sent,
		    (n > 0) ? sprintf("%.2f", work / 1000 / n) : "null"
	}' "$3/burst.t" "$3/burst.inj" "$3/stats" >"$3/figures"
	read -r _ nstored spm rpm last cap sent mspr <"$3/figures"
	load_pss=$(awk '$2 > m { m = $2 } END { printf "%d", m }' "$3/pss")
	shift 7
	idle_mib=$(awk -v p="$1" 'BEGIN { printf "%.1f", p / 1024 }')
	load_mib=$(awk -v p="$load_pss" 'BEGIN { printf "%.1f", p / 1024 }')
	rr=${REJECT_RANK%/*}
	say "$G k=$K: burst of $nb: $nstored stored, $spm stored/min," \
	    "$sent SMS sent, $rpm replies/min, last confirmed after $last s," \
	    "rejections sent at mean rank $REJECT_RANK," \
	    "modem work ${mspr} s/report, capacity used $cap; steady at" \
	    "$RATE_G/s$([ "$R" -gt 0 ] && echo " to $R receive-only modems"):" \
	    "latency p50 $2 s, p99 $3 s ($4 messages);" \
	    "PSS $idle_mib MiB idle, $load_mib MiB under load"
	if [ "$MODE" = bank ]; then
		emit bank "$G" "$K" "capacity_used=$cap" \
		    "stored_per_min=$spm" "replies_per_min=$rpm" \
		    "last_confirmed_s=$last" "latency_p50_s=$2" \
		    "latency_p99_s=$3" "latency_n=$4" "burst=$nb" \
		    "stored=$nstored" "sms_sent=$sent" \
		    "modem_s_per_report=$mspr" "steady_per_s=$RATE_G" \
		    "scale=$SCALE" "reject_rank=$rr" \
		    "rejected=$(wc -l <"$F/burst.bad")" \
		    $([ "$R" -gt 0 ] && echo "receive_only=$R")
	fi
	# The memory section's gateways: tallygw-split is no peer of tallygw.
	[ "$G" = tallygw-split ] ||
	    printf '%s %s %s %s\n' "$G" "$K" "$idle_mib" "$load_mib" \
	    >>"$BENCH_WORK/pss.txt"
}

# --- main --------------------------------------------------------------

say "$(machine)"
say "K = $KS; gateways: $GWS; realistic profile at scale $SCALE; a burst" \
    "of $BURST reports per modem$([ "$REJECT" = 1 ] &&
    echo " (the last one a rejection)"), then ${STEADY} s at $LOAD of" \
    "K / $MODEM_S reports/s"
# Enough rows of the 2024 results for the largest bank.
kmax=$(echo "$KS" | tr ' ' '\n' | sort -n | tail -1)
need=$(awk -v k="$kmax" -v b="$BURST" -v t="$STEADY" -v l="$LOAD" \
    -v m="$MODEM_S" -v s="$SCALE" 'BEGIN { printf "%d",
    k * b + l * k * s / m * t + 40 }')
printf '%s\n' "$BENCH_ROOT_KEY" >"$BENCH_WORK/root.key"
chmod 600 "$BENCH_WORK/root.key"
awk -F, -v n="$need" '{ sub(/\r$/, "") }
NR > 1 && $25 == 1 && $11 != "" && $12 != "" &&
    $13 != "" && $20 != "" && $21 != "" && $22 != "" {
	print $1, $20, $11, $12, $13, $21, $22
	if (++c == n) exit
}' "$DATA/pilpres2024_tps.csv" >"$W/rows.txt"
status=0
for K in $KS; do
	feeds "$K" || exit 1
	for G in $GWS; do
		case $G in
		tallygw) ;;
		tallygw-split) [ "$K" -gt "$(split_r "$K")" ] || {
			say "$G k=$K: not measured: no modem left to send"
			continue; } ;;
		gammu-smsd) command -v gammu-smsd >/dev/null || {
			say "$G: not measured: not installed"; continue; } ;;
		smsd) command -v smsd >/dev/null || {
			say "$G: not measured: not installed"; continue; } ;;
		kannel) command -v bearerbox >/dev/null || {
			say "$G: not measured: not installed"; continue; } ;;
		*) say "$G: unknown gateway"; continue ;;
		esac
		run_one "$G" "$K" || status=1
		# tallygw's own confirmation is the peers' reply text.
		if [ "$G" = tallygw ] && [ -s "$W/k$K/tallygw/gw/gw/tallygw.db" ]; then
			r=$(sqlite3 "$W/k$K/tallygw/gw/gw/tallygw.db" \
			    "SELECT text FROM replies r JOIN messages m ON
			    m.id = r.msg_id WHERE m.kind = 'report' ORDER BY
			    r.id LIMIT 1")
			[ -n "$r" ] && REPLY=$r
		fi
	done
done
exit $status
