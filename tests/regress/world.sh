#!/bin/sh
# `tallysim world': the simulator, tallysim's central receiver and
# tallygw wired together (docs/sim.md, "World").
#
# Part 1 runs it with tests/regress/fake_tallygw.sh in place of the
# daemon: the files it prepares (keys, registry, tallygw.conf), the
# central receiver it starts (`ctl central', an unsigned POST refused),
# its [ussd] section, a clean SIGTERM with nothing left behind, reuse
# on a second start, and a gateway that dies or fails to start ending
# the world.
# Part 2, only when $B/tallygw is built, runs the real gateway through
# a 20-TPS scenario, a quarter of its officers on USSD, and asks the
# oracle, which also fails once an END screen in the USSD log is made
# to say another verdict.  TAP; every wait is time-boxed.

. tests/regress/lib.sh

SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/world.XXXXXX)
D=$(cd "$D" && pwd -P)
R=$D/run
PID=
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

# The stand-in is exec'd: a copy of it, executable whatever git kept.
cp tests/regress/fake_tallygw.sh "$D/fake_tallygw.sh" &&
    chmod 755 "$D/fake_tallygw.sh"
FAKE=$D/fake_tallygw.sh

if [ ! -x "$SIM" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim is built and $SHARED holds the 2024 data"
	finish
	exit 1
fi

ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }

# A JSON field of one line: jstr NAME TEXT (strings), jnum NAME TEXT.
jstr() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p"; }
jnum() { printf '%s\n' "$2" | sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }

# conf SECTION KEY: a value of RUNDIR/tallygw.conf.
conf() {
	awk -v sec="$1" -v key="$2" '
		/^\[/ { s = substr($0, 2, length($0) - 2); next }
		s == sec && $1 == key { sub(/^[^=]*= */, ""); print; exit }
	' "$R/tallygw.conf"
}

# Processes whose command line names the test directory.
leftovers() { ps -eo pid=,args= | grep -F "$D" | grep -v grep; }

# start_world [ARGS...]: tallysim world in the background, into $PID.
# The old output goes first: the background shell truncates it only
# later, and a stale `ready' must not be taken for the new one.
start_world() {
	rm -f "$D/world.out" "$D/world.err" "$R/gw/fake.pid"
	"$SIM" world --dir "$R" --modems 2 --seed 7 "$@" \
	    >"$D/world.out" 2>"$D/world.err" &
	PID=$!
	t_track "$PID"
}

# alive PID: the process runs (a zombie does not count).
alive() {
	a_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -n "$a_st" ] && [ "${a_st#Z}" = "$a_st" ]
}

# stop_world: SIGTERM, then its exit status (124 if it hangs).
stop_world() {
	kill -TERM "$PID" 2>/dev/null
	s_end=$(($(date +%s) + 20))
	while alive "$PID"; do
		if [ "$(date +%s)" -ge "$s_end" ]; then
			kill -KILL "$PID" 2>/dev/null
			wait "$PID" 2>/dev/null
			PID=
			return 124
		fi
		sleep 0.2
	done
	wait "$PID"
	s_rc=$?
	PID=
	return $s_rc
}

# ----- part 1: the wiring, with a stand-in gateway -------------------

out=$("$SIM" world --dir "$R" --modems 2 --tallygw "$D/none" 2>&1)
expect "a missing --tallygw: exit 1" "$?" 1
expect_match "and the error names it" "$out" "$D/none"
expect "and nothing was started (no modem link)" \
    "$(ls "$R"/modem0 2>/dev/null)" ""
expect_rc "--modems 0 is refused" 2 "$SIM" world --dir "$R" --modems 0 \
    --tallygw "$FAKE"
expect_rc "--data without the 2024 data fails" 1 timeout 60 \
    "$SIM" world --dir "$D/nodata" --modems 1 --tallygw "$FAKE" --data "$D"

FAKE_TALLYGW_FAIL=3 timeout 60 "$SIM" world --dir "$R" --modems 2 \
    --tallygw "$FAKE" --data "$DATA" >"$D/fail.out" 2>"$D/fail.err"
expect "a gateway that dies before ready: world exits 1" "$?" 1
expect "and never says ready" "$(cat "$D/fail.out")" ""
expect_match "it says how the gateway ended" "$(cat "$D/fail.err")" \
    'tallygw exited with status 3 before it was ready'
expect_match "and shows the last lines of tallygw.log" \
    "$(cat "$D/fail.err")" 'failing on purpose'
expect "no modem link is left" "$(ls "$R" | grep -c '^modem')" 0
expect "no control socket is left" "$(ls "$R" | grep -c 'sock$')" 0
expect "no process is left" "$(leftovers)" ""

start_world --tallygw "$FAKE" --data "$DATA"
if wait_for 60 grep -q '^ready$' "$D/world.out"; then
	t_ok "world with the stand-in gateway prints ready"
else
	t_fail "world with the stand-in gateway prints ready"
	sed 's/^/#   /' "$D/world.err" | tail -20
	finish
	exit 1
fi
expect "ready is the only line on stdout" "$(cat "$D/world.out")" ready

expect "root.key is mode 0600" "$(stat -c %a "$R/root.key")" 600
expect_match "root.key holds a root key" "$(cat "$R/root.key")" \
    '^root [0-9a-f]{64}$'
expect "gateway.sec is mode 0600" "$(stat -c %a "$R/gateway.sec")" 600
expect_match "gateway.sec is ed25519-secret HEX128" \
    "$(cat "$R/gateway.sec")" '^ed25519-secret [0-9a-f]{128}$'
expect_match "gateway.pub is ed25519-public HEX64" \
    "$(cat "$R/gateway.pub")" '^ed25519-public [0-9a-f]{64}$'
if command -v sqlite3 >/dev/null 2>&1; then
	n=$(sqlite3 "file:$R/registry.db?mode=ro" 'SELECT count(*) FROM tps' \
	    2>&1)
	expect_match "registry.db holds the national TPS list (>= 820,000)" \
	    "$n" '^(8[2-9][0-9]|9[0-9][0-9])[0-9]{3}$'
else
	t_fail "sqlite3 is installed (make deps)"
fi
expect "no half-built registry is left" "$(ls "$R" | grep -c '\.tmp')" 0

expect "[gateway] name" "$(conf gateway name)" sim-gw
expect "[gateway] state" "$(conf gateway state)" "$R/gw"
expect "[gateway] key" "$(conf gateway key)" "$R/root.key"
expect "[gateway] sign_key" "$(conf gateway sign_key)" "$R/gateway.sec"
expect "[gateway] registry" "$(conf gateway registry)" "$R/registry.db"
expect "[tunables] sweep_interval" "$(conf tunables sweep_interval)" 10
expect "[tunables] multipart_timeout" "$(conf tunables multipart_timeout)" 30
expect "one [modem] section per modem" \
    "$(grep -c '^\[modem ' "$R/tallygw.conf")" 2
ctl modems --json >"$D/modems.json"
expect "ctl modems --json lists 2" "$(grep -c . "$D/modems.json")" 2
for i in 0 1; do
	line=$(sed -n "$((i + 1))p" "$D/modems.json")
	expect "[modem m$i] device" "$(conf "modem m$i" device)" "$R/modem$i"
	expect "[modem m$i] number is modem $i's MSISDN" \
	    "$(conf "modem m$i" number)" "$(jstr msisdn "$line")"
	expect "[modem m$i] operator is modem $i's" \
	    "$(conf "modem m$i" operator)" "$(jstr operator "$line")"
done
PORT=$(cat "$R/central.port" 2>/dev/null)
expect_match "the central receiver wrote its port" "$PORT" '^[0-9]+$'
expect "[central sim] url points at it" "$(conf 'central sim' url)" \
    "http://127.0.0.1:$PORT/v1/reports"
UPORT=$(sed -n 's|^http://127\.0\.0\.1:\([0-9]*\)/ussd$|\1|p' "$R/ussd.url")
expect_match "ussd.url names the USSD callback" "$UPORT" '^[0-9]+$'
expect "[ussd] listen is its port" "$(conf ussd listen)" "127.0.0.1:$UPORT"
expect "[ussd] secret is ussd.secret" "$(conf ussd secret)" "$R/ussd.secret"
expect "ussd.secret is mode 0600" "$(stat -c %a "$R/ussd.secret")" 600

FPID=$(cat "$R/gw/fake.pid" 2>/dev/null)
expect_match "the gateway runs (fake.pid)" "$FPID" '^[0-9]+$'
expect_rc "and is alive" 0 kill -0 "$FPID"

out=$(ctl central)
expect "ctl central exits 0" "$?" 0
expect "ctl central: an empty receiver holds nothing" "$out" ""
expect_rc "ctl central --table exits 0" 0 ctl central --table
expect_rc "ctl central --bogus exits 1" 1 ctl central --bogus
expect_rc "ctl central without a receiver exits 1" 1 \
    timeout 10 "$SIM" ctl --dir "$D" central
if command -v curl >/dev/null 2>&1; then
	code=$(curl -s -o "$D/post.json" -w '%{http_code}' -X POST \
	    -H 'Content-Type: application/json' -H 'Idempotency-Key: x' \
	    --data '{"tps":"3201012001001"}' \
	    "http://127.0.0.1:$PORT/v1/reports")
	expect "an unsigned POST to the central is refused: 401" "$code" 401
	expect_match "because a public key is configured" \
	    "$(cat "$D/post.json")" 'X-Tally-Signature'
else
	t_fail "curl is installed (make deps)"
fi
expect "the central kept nothing" "$(ctl central)" ""

stop_world
expect "SIGTERM: world exits 0" "$?" 0
expect_rc "the gateway is gone" 1 kill -0 "$FPID"
expect "no process is left" "$(leftovers)" ""
expect "no modem link is left" "$(ls "$R" | grep -c '^modem')" 0
expect "no socket is left" "$(ls "$R" | grep -c 'sock$')" 0
expect_match "the stand-in gateway got SIGTERM" \
    "$(cat "$R/tallygw.log")" 'fake_tallygw: SIGTERM'

# A second start in the same RUNDIR keeps the keys and the registry.
k1=$(cksum <"$R/root.key")
p1=$(cksum <"$R/gateway.pub")
u1=$(cksum <"$R/ussd.secret")
r1=$(stat -c %Y:%s "$R/registry.db")
start_world --tallygw "$FAKE" --data "$DATA"
if wait_for 60 grep -q '^ready$' "$D/world.out"; then
	t_ok "a second world in the same RUNDIR is ready"
else
	t_fail "a second world in the same RUNDIR is ready"
	sed 's/^/#   /' "$D/world.err" | tail -20
fi
expect "it keeps root.key" "$(cksum <"$R/root.key")" "$k1"
expect "it keeps the signing key pair" "$(cksum <"$R/gateway.pub")" "$p1"
expect "it keeps registry.db" "$(stat -c %Y:%s "$R/registry.db")" "$r1"
expect "it keeps ussd.secret" "$(cksum <"$R/ussd.secret")" "$u1"
expect "[ussd] comes back on the same port" "$(conf ussd listen)" \
    "127.0.0.1:$UPORT"
expect "the central comes back on the same port" \
    "$(cat "$R/central.port")" "$PORT"

# The gateway dies while the world runs: the world ends, with status 1.
FPID=$(cat "$R/gw/fake.pid" 2>/dev/null)
kill -KILL "$FPID" 2>/dev/null
gone() { ! alive "$PID"; }
if wait_for 20 gone; then
	t_ok "a gateway killed under it ends the world"
	wait "$PID"
	expect "with exit status 1" "$?" 1
else
	t_fail "a gateway killed under it ends the world"
	stop_world
fi
PID=
expect_match "it says the gateway was killed" "$(cat "$D/world.err")" \
    'tallygw was killed by signal 9'
expect "no process is left" "$(leftovers)" ""
expect "no modem link is left" "$(ls "$R" | grep -c '^modem')" 0

# ----- part 2: the real gateway --------------------------------------

if [ ! -x "$B/tallygw" ]; then
	echo "# $B/tallygw is not built: the real gateway is not tried"
	finish
	exit $?
fi

R2=$D/real
mkdir -p "$R2"
cp "$R/registry.db" "$R2/registry.db"	# saves building it again
R=$R2
start_world --profile instant --data "$DATA"
if wait_for 120 grep -q '^ready$' "$D/world.out"; then
	t_ok "world with the real tallygw prints ready"
else
	t_fail "world with the real tallygw prints ready"
	sed 's/^/#   /' "$D/world.err" | tail -20
	tail -20 "$R/tallygw.log" | sed 's/^/#   tallygw.log: /'
	finish
	exit 1
fi

out=$(ctl scenario start --tps 20 --data "$DATA" --ussd 0.25 2>&1)
expect "scenario start --tps 20 --ussd 0.25 exits 0" "$?" 0
expect_match "it plays 20 phones" "$out" '^scenario seed 1: 20 phones'
expect_match "some of them by USSD" "$out" \
    '^ussd: [1-9][0-9]* of the phones report by USSD'
done_playing() { ctl scenario status --json | grep -q '"state":"done"'; }
if wait_for 60 done_playing; then
	t_ok "the scenario is played"
else
	t_fail "the scenario is played"
fi
expect_rc "the gateway is still up" 0 kill -0 "$PID"
# Replies and forwards settle: the oracle passes, or 240 s are up (a
# card-coded report's confirmation echoes every number: about 250 SMS
# parts here, at about 0.7 s a part on each of the 2 modems).
wait_for 240 ctl oracle
ctl oracle >"$D/oracle.txt" 2>"$D/oracle.err"
rc=$?
expect "the oracle finds no discrepancy" "$rc" 0
if [ "$rc" -ne 0 ]; then
	head -30 "$D/oracle.txt" | sed 's/^/#   /'
	tail -20 "$R/tallygw.log" | sed 's/^/#   tallygw.log: /'
fi
ctl central >"$D/central.jsonl"
expect "ctl central exits 0" "$?" 0
n=$(grep -c . "$D/central.jsonl")
expect_match "the central holds records" "$n" '^[1-9][0-9]*$'
full=$(grep '"tps":"[0-9]\{13\}"' "$D/central.jsonl" |
    grep '"contest":"[A-Z]*"' | grep '"page":\(null\|[0-9]*\)' |
    grep '"seq":[0-9]' | grep '"values":\[[0-9]' |
    grep '"flags":\[' | grep -c '"receipt":"[0-9]\{8\}"')
expect "every record has tps, contest, page, seq, values, flags, receipt" \
    "$full" "$n"
fwd=$(sed -n 's/.*forwarded \([0-9]*\)\/\([0-9]*\).*/\1 \2/p' \
    "$D/oracle.txt")
expect_match "the oracle counted forwards" "$fwd" '^[0-9]+ [0-9]+$'
expect_match "it judged every USSD session and END screen" \
    "$(grep '^oracle: ussd:' "$D/oracle.txt")" \
    'played ([1-9][0-9]*)/\1, END screens right ([1-9][0-9]*)/\2,'
expect_match "sessions were cut and resumed" \
    "$(grep '^oracle: ussd:' "$D/oracle.txt")" \
    'verdict ([1-9][0-9]*)/\1, redials resumed ([1-9][0-9]*)/\2$'
# The oracle reads the screens from RUNDIR/ussd.jsonl: one END screen
# that says DITOLAK where the gateway said DITERIMA fails it.
sed '0,/"type":"END","text":"DITERIMA/s//"type":"END","text":"DITOLAK/' \
    "$R/ussd.jsonl" >"$D/ussd.jsonl"
mv "$R/ussd.jsonl" "$D/ussd.jsonl.good"
mv "$D/ussd.jsonl" "$R/ussd.jsonl"
ctl oracle >"$D/oracle.bad" 2>&1
expect "a wrong END screen in the log fails the oracle" "$?" 1
expect_match "as USSD_VERDICT" "$(grep -c '^USSD_VERDICT ' "$D/oracle.bad")" \
    '^[1-9]'
mv "$D/ussd.jsonl.good" "$R/ussd.jsonl"

stop_world
expect "SIGTERM: world with the real gateway exits 0" "$?" 0
expect "no process is left (workers included)" "$(leftovers)" ""
expect "no modem link is left" "$(ls "$R" | grep -c '^modem')" 0
finish
