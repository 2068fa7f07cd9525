#!/bin/sh
# The outbox's order (docs/design.md, "The outbox's order"): with both
# modems busy sending and confirmations queued, a rejection that comes
# later from an officer (a number that sent an accepted report) goes
# out before them; replies of messages that all came in on
# one modem also leave through the other one while it is busy; and an
# officer's two reports that come together share one SMS although the
# modems are idle (the wait ends early for an idle modem, not at once).
# tallysim world, 2 modems, realistic profile at scale 1 (a send takes
# 3 s, the network 2 s). Which report is bad is this suite's own
# knowledge: it signs eight reports and spoils one code. TAP; about
# 40 s.

. tests/regress/lib.sh

SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim
CTL=$B/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/outbox.XXXXXX)
R=$D/run
cleanup() {
	t_cleanup
	if [ "$T_FAILED" -gt 0 ] 2>/dev/null; then
		echo "# the gateway's outbox lines:"
		grep 'outbox: sms' "$R/tallygw.log" 2>/dev/null | tail -30 |
		    sed 's/^/#   /'
	fi
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$B/tallygw" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED holds the data"
	finish
	exit 1
fi
ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }

# Eight officers' reports (real 2024 rows), signed; the eighth's code is
# spoilt (its last digit moved by one): that officer must act. The
# ninth is the first officer's correction (SEQ 2 of the same TPS).
mkdir -p "$R"
printf 'root %s\n' \
    000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
    >"$R/root.key"
chmod 600 "$R/root.key"
awk -F, '{ sub(/\r$/, "") }
NR > 1 && $25 == 1 && $11 != "" && $12 != "" && $13 != "" &&
    $20 != "" && $21 != "" && $22 != "" {
	printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12, $13,
	    $21, $22
	if (++c == 8) exit
}' "$DATA/pilpres2024_tps.csv" >"$D/rows"
sed -n '1s/^\(PPWP\*[0-9]*\)\*1\*/\1*2*/p' "$D/rows" >>"$D/rows"
"$CTL" mac --key "$R/root.key" --batch "$D/rows" >"$D/signed"
expect "nine reports signed" "$(grep -c '^PPWP ' "$D/signed")" 9
awk 'NR == 8 { d = substr($NF, length($NF)); $NF = substr($NF, 1,
    length($NF) - 1) ((d + 1) % 10) } { print }' "$D/signed" >"$D/feed"
BAD=+6281280000001	# the first officer: known once a report is accepted

"$SIM" world --dir "$R" --modems 2 --seed 1 --profile realistic \
    --scale 1 --daily-cap 0 --data "$DATA" >"$D/world.out" \
    2>"$D/world.err" &
t_track $!
if ! wait_for 120 grep -q '^ready$' "$D/world.out"; then
	t_fail "tallysim world is ready"
	tail -5 "$D/world.err" | sed 's/^/#   /'
	finish
	exit 1
fi
LOG=$R/tallygw.log

# Eight good reports, all to modem 0, at once: the first officer's two
# first.
ctl inject --from +6281280000001 --to 0 "$(sed -n 1p "$D/feed")" >/dev/null
ctl inject --from +6281280000001 --to 0 "$(sed -n 9p "$D/feed")" >/dev/null
i=2
while [ $i -le 7 ]; do
	ctl inject --from "+628128000000$i" --to 0 \
	    "$(sed -n "${i}p" "$D/feed")" >/dev/null
	i=$((i + 1))
done
# The bad one from the first officer once their confirmation is on its
# way: it comes in while the modems send, and its reply is owed after
# the others'.
if ! wait_for 30 grep -q "to $BAD: queued -> sending" "$LOG"; then
	t_fail "the first officer's confirmation goes out within 30 s"
	finish
	exit 1
fi
ctl inject --from "$BAD" --to 0 "$(sed -n 8p "$D/feed")" >/dev/null
if wait_for 60 sh -c "[ \$(grep -c 'to $BAD: queued -> sending' '$LOG') -ge 2 ]"
then
	t_ok "the rejection goes out"
else
	t_fail "the rejection goes out within 60 s"
fi

# In the log's order: when the rejection was queued, how many other SMS
# waited in the queue, and which SMS went out next.
grep 'outbox: sms' "$LOG" | awk -v bad="$BAD" '
	{ id = $5; dest = $7; sub(/:$/, "", dest) }
	$0 ~ /: queued \(/ {
		if (dest == bad && /DITOLAK/ && waiting == "") {
			waiting = 0
			for (k in q) waiting++
			armed = 1
		}
		q[id] = dest
		next
	}
	$0 ~ /: queued -> sending/ {
		if (armed && next_out == "") next_out = dest
		delete q[id]
	}
	END { print waiting + 0, next_out }
' >"$D/order"
read -r WAITING NEXT <"$D/order"
if [ "${WAITING:-0}" -ge 1 ]; then
	t_ok "$WAITING confirmations waited in the queue when the rejection came"
else
	t_fail "confirmations waited in the queue when the rejection came"
	echo "#   none waited: the order was not put to the test"
fi
expect "the next SMS to go out is the rejection" "$NEXT" "$BAD"
expect_match "it tells the officer it was refused" \
    "$(grep "to $BAD: queued (" "$LOG" | sed -n 2p)" ': DITOLAK'

# Every report came in on m0; m0 busy, m1 sends too.
if wait_for 40 sh -c "[ \$(grep -c 'sending -> sent' '$LOG') -ge 8 ]"; then
	t_ok "all eight SMS were sent"
else
	t_fail "all eight SMS were sent within 40 s"
fi
expect "the first officer's two confirmations went in one SMS" \
    "$(grep -c 'to +6281280000001: queued (2 replies)' "$LOG")" 1
n1=$(grep -c 'queued -> sending on m1' "$LOG")
if [ "$n1" -ge 2 ]; then
	t_ok "m1 sent $n1 of the replies owed through the busy m0"
else
	t_fail "m1 sent replies owed through the busy m0 (it sent $n1)"
fi

finish
