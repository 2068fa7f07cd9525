#!/bin/sh
# A split bank (docs/tallygw.md, "Receive-only modems"): tallysim world
# with 3 modems, m0 `role = receive' (--receive 1), instant profile.
# An officer's report that comes in on m0 is confirmed from m1 or m2,
# never from m0; an officer who answers the number the confirmation came
# from is handled like any other; tallyctl shows the roles; and with m1
# and m2 unplugged, m0 sends the next confirmation itself (nothing waits
# for ever). Which modem sent what is read from the store's outbox and
# the simulator's phones, not from the gateway's choice. TAP; about 30 s.

. tests/regress/lib.sh

t_tmp split
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/run
cleanup() {
	t_cleanup
	if [ "$T_FAILED" -gt 0 ] 2>/dev/null; then
		echo "# the gateway's outbox and bank lines:"
		grep -E 'outbox: sms|bank: modem' "$R/tallygw.log" 2>/dev/null |
		    tail -30 | sed 's/^/#   /'
	fi
	t_tmp_end
}
t_trap cleanup

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED holds the data"
	finish
	exit 1
fi
ctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }
gwctl() { timeout 30 "$CTL" "$@" --state "$R/gw"; }
q() { sqlite3 -cmd '.timeout 5000' "$R/gw/tallygw.db" "$1" 2>/dev/null; }
# sent_by DEST: the modems that sent DEST's SMS, in order, as the store
# has them once the network took them.
sent_by() {
	q "SELECT group_concat(modem, ' ') FROM (SELECT modem FROM outbox
	    WHERE dest = '$1' AND state IN ('sent', 'delivered') ORDER BY id)"
}
# confirmed DEST N: N of DEST's SMS were taken by the network.
confirmed() {
	[ "$(q "SELECT count(*) FROM outbox WHERE dest = '$1' AND
	    state IN ('sent', 'delivered')")" -ge "$2" ]
}

# Three officers' reports (real 2024 rows), signed with the run's key.
mkdir -p "$R"
printf 'root %s\n' \
    000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f \
    >"$R/root.key"
chmod 600 "$R/root.key"
t_rows "$DATA" 3 >"$D/rows"
"$CTL" mac --key "$R/root.key" --batch "$D/rows" >"$D/signed"
expect "three reports signed" "$(grep -c '^PPWP ' "$D/signed")" 3
A=+6281280000001
C=+6281280000003

t_world "$R" --modems 3 --seed 1 --profile instant --daily-cap 0 \
    --data "$DATA" --receive 1 || { finish; exit 1; }
expect "the world's config marks m0 receive-only, only it" \
    "$(grep -c '^role = receive$' "$R/tallygw.conf")" 1
N0=$(ctl modems --json | sed -n '1s/.*"msisdn":"\([^"]*\)".*/\1/p')
expect "tallyctl modems: the roles" \
    "$(gwctl modems | t_col m0 ROLE) $(gwctl modems | t_col m1 ROLE)" \
    "receive both"
expect "tallyctl status: one receive-only modem" \
    "$(gwctl status | t_kv modems_receive)" 1

# A report to the officers' number (m0): confirmed from another modem.
ctl inject --from "$A" --to 0 "$(sed -n 1p "$D/signed")" >/dev/null
if wait_for 30 confirmed "$A" 1; then
	expect_match "the report that came in on m0 is confirmed from m1 or m2" \
	    "$(sent_by "$A")" '^m[12]$'
else
	t_fail "the report that came in on m0 is confirmed within 30 s"
fi
expect "the message is m0's" \
    "$(q "SELECT modem FROM messages WHERE sender = '$A'")" m0
ctl inbox --phone "$A" >"$D/inbox"
expect "the officer's phone got it, not from m0's number" \
    "$(grep -c . "$D/inbox") $(grep -c "\"from\":\"$N0\"" "$D/inbox")" "1 0"

# The officer answers the number the confirmation came from: handled.
ctl inject --from "$A" --to 1 "CEK" >/dev/null
if wait_for 30 confirmed "$A" 2; then
	t_ok "CEK sent to m1's number is answered"
else
	t_fail "CEK sent to m1's number is answered within 30 s"
fi
expect "and stored as m1's" \
    "$(q "SELECT modem FROM messages WHERE sender = '$A' AND kind = 'cek'")" \
    m1

# Every modem that may send unplugged: m0 sends.
ctl fault --modem 1 unplug >/dev/null
ctl fault --modem 2 unplug >/dev/null
if wait_for 30 sh -c "! timeout 10 '$CTL' modems --state '$R/gw' |
    grep -Eq '^m[12] .*running/(ready|sending|sweeping)'"; then
	t_ok "the gateway sees m1 and m2 down"
else
	t_fail "the gateway sees m1 and m2 down within 30 s"
fi
ctl inject --from "$C" --to 0 "$(sed -n 3p "$D/signed")" >/dev/null
if wait_for 30 confirmed "$C" 1; then
	expect "with m1 and m2 unplugged, m0 sends the confirmation" \
	    "$(sent_by "$C")" m0
else
	t_fail "with m1 and m2 unplugged, the confirmation goes out within 30 s"
fi
finish
