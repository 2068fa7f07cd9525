#!/bin/sh
# The hostile corpus (tests/hostile/) through the whole gateway: every
# malformed or hostile SMS of gen.tsv and hand.tsv goes from a simulated
# phone (or, for raw PDUs, from a simulator modem the gateway does not
# read) into tallygw and its workers built with ASan and UBSan, and
# each must be stored with the class the corpus gives, answered with a
# reply of that class that reaches the phone, and, if accepted, reach
# the central receiver once. Then the hostile USSD requests of ussd.tsv
# to its callback, each answered as its class says. Nothing may crash:
# no sanitizer report, no worker restarted, the gateway up until it is
# stopped.
# The generated part must be what tests/hostile/gen.py writes today.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

BB=$(cd "$B" 2>/dev/null && pwd)
SIM=$BB/tallysim
GW=$BB/asan/tallygw
CTL=$BB/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/hostile.XXXXXX)
D=$(cd "$D" && pwd -P)
R=$D/run
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -x "$BB/asan/tallygw-modem" ] ||
    [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim, $B/asan/tallygw and $B/asan/tallygw-modem are built"
	echo "#   make $B/asan/tallygw $B/asan/tallygw-modem; data in $SHARED"
	finish
	exit 1
fi

# The committed corpus is what the generator makes of the data today.
python3 tests/hostile/gen.py "$DATA" >"$D/gen.tsv" 2>"$D/gen.err"
expect "gen.py runs" "$?" 0
cmp -s "$D/gen.tsv" tests/hostile/gen.tsv
expect "tests/hostile/gen.tsv is what gen.py writes" "$?" 0
n=$(cat tests/hostile/gen.tsv tests/hostile/hand.tsv | grep -vc '^#\|^$')
expect_match "the corpus has at least 500 messages ($n)" "$n" \
    '^([5-9][0-9]{2}|[0-9]{4,})$'

# The world with 16 modems: the gateway reads m0..m11 (a reply takes a
# modem about a second: 12 modems answer the corpus in about a minute);
# m12..m15 are the spare modems that send raw PDUs. tallygw is the ASan
# build, started through a wrapper that edits the configuration world
# writes: spares disabled, incomplete long SMS passed on after 15 s (not
# 30). Not less: the corpus's 16-part SMS fills half of a 30-slot SIM,
# and its last part waits in the network for a slot that a commit and
# its DELETE free; with four of these suites at once on two cores that
# took more than 5 s, and the long SMS was stored in two pieces.
mkdir -p "$R" "$D/san"
# The check-vector root key (docs/protocol.md, section 9): the corpus's
# codes are computed with it.
printf 'root %s%s\n' 000102030405060708090a0b0c0d0e0f \
    101112131415161718191a1b1c1d1e1f >"$R/root.key"
chmod 600 "$R/root.key"
cat >"$D/gw.sh" <<EOF
#!/bin/sh
sed -e '/^\[modem m1[2-5]\]\$/a\\
enabled = no' -e 's/^multipart_timeout = .*/multipart_timeout = 15/' "\$3" \\
    >"$D/gw.conf" || exit 1
ASAN_OPTIONS=log_path=$D/san/asan:detect_leaks=1 \\
UBSAN_OPTIONS=log_path=$D/san/ubsan:print_stacktrace=1:halt_on_error=1 \\
    exec "$GW" "\$1" "\$2" "$D/gw.conf"
EOF
chmod 755 "$D/gw.sh"
if ! t_world "$R" --modems 16 --seed 11 --profile instant \
    --data "$DATA" --tallygw "$D/gw.sh"; then
	finish
	exit 1
fi
W=$T_WORLD
expect "the spare modems are disabled in the gateway" \
    "$(grep -c '^enabled = no$' "$D/gw.conf")" 4

t0=$(date +%s)
python3 tests/hostile/drive.py --dir "$R" --gw 0,1,2,3,4,5,6,7,8,9,10,11 \
    --spares 12,13,14,15 \
    tests/hostile/gen.tsv tests/hostile/hand.tsv >"$D/drive.out" \
    2>"$D/drive.err"
rc=$?
echo "# corpus played in $(($(date +%s) - t0)) s"
grep '^# phase' "$D/drive.out"
for c in sent stored class raw reply phone central; do
	line=$(grep "^check $c " "$D/drive.out")
	set -- $line
	expect "$c: ${4:-?} failed of $((${3:-0} + ${4:-0}))" "${4:-missing}" 0
	grep "^# $c: " "$D/drive.out" | sed 's/^/#   /'
done
expect "the driver ends without error" "$rc" 0
[ "$rc" -ne 0 ] && tail -5 "$D/drive.err" | sed 's/^/#   /'

# The hostile USSD requests (tests/hostile/ussd.tsv) to the same
# gateway's callback, as an aggregator would send them.
python3 tests/hostile/ussd.py --dir "$R" tests/hostile/ussd.tsv \
    >"$D/ussd.out" 2>"$D/ussd.err"
rc=$?
set -- $(grep '^check ussd ' "$D/ussd.out")
expect "ussd: ${4:-?} failed of $((${3:-0} + ${4:-0}))" "${4:-missing}" 0
grep '^# ussd: ' "$D/ussd.out" | sed 's/^/#   /'
expect "the USSD driver ends without error" "$rc" 0
[ "$rc" -ne 0 ] && tail -5 "$D/ussd.err" | sed 's/^/#   /'

# Nothing crashed: the gateway answers, no worker was started twice,
# and no sanitizer wrote a report.
expect "tallygw still answers, every message received" \
    "$(timeout 10 "$CTL" status --state "$R/gw" 2>&1 | t_kv received)" \
    "$(sqlite3 "$R/gw/tallygw.db" 'SELECT count(*) FROM messages')"
PIDS=$(grep '^tallygw: info: bank: modem m[0-9]*: worker pid' "$R/tallygw.log" |
    sed 's/.*modem \(m[0-9]*\):.*/\1/')
expect "no worker was started twice" "$(echo "$PIDS" | sort | uniq -d)" ""
expect "every worker was started" "$(echo "$PIDS" | wc -l)" 12
# What an SMS says reaches the operator's log as text, never as lines
# or terminal controls of its own (hand-018, hand-019).
expect "an SMS cannot forge a line of the log" \
    "$(grep -c '^tallygw: warn: bank: modem m0: worker pid 1 on x' \
    "$R/tallygw.log")" 0
expect "an SMS cannot put terminal controls into the log" \
    "$(tr -d '\n' <"$R/tallygw.log" | tr -dc '\000-\010\013-\037\177' |
    wc -c)" 0
kill -TERM "$W"
wait "$W"
expect "the world stops on SIGTERM" "$?" 0
expect "no sanitizer report (ASan, UBSan, LeakSanitizer)" \
    "$(ls "$D/san" | wc -l)" 0
for f in "$D"/san/*; do
	[ -f "$f" ] && head -30 "$f" | sed 's/^/#   /'
done
expect "no sanitizer line in the gateway's log" \
    "$(grep -c 'AddressSanitizer\|runtime error:\|LeakSanitizer' \
    "$R/tallygw.log")" 0

finish
