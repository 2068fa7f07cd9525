#!/bin/sh
# Security of the gateway (docs/security.md), through a world of 8
# simulated modems and the real tallygw:
# - 1,000 forged reports from 100 phones over 50 TPS: none accepted;
#   the 5th bad code of a phone for a TPS locks it out of that TPS
#   (later reports LOCKED, even with a good code), other TPS and other
#   phones not; one operator alert per TPS with 20 bad codes;
# - every accepted report replayed three times: DUPLICATE, held once by
#   the central receiver;
# - no key (root, province, TPS, signing; hex or base64), USSD secret,
#   card code of an unused row or code a forged report should have had
#   in the gateway's log, its replies or the central's JSON
#   (tests/hostile/security.py);
# - the admin API's bearer token: the right one 200, a wrong one or none
#   401, and never in the log, the replies or the central's JSON either;
# - key files (root key, signing key, USSD secret, admin token) that
#   group or others may read are refused at start-up, naming the file
#   and its mode.
# TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp security
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/run

if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED has the data"
	finish
	exit 1
fi

# The world's configuration gets the admin API on TCP too, with its
# bearer token (a wrapper adds [admin] to what world writes): the token
# is one more secret that must not leak.
mkdir -p "$R"
head -c 24 /dev/urandom | base64 >"$R/admin.token"
chmod 600 "$R/admin.token"
APORT=$(python3 -c 'import socket; s = socket.socket()
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
printf '%s\n' '#!/bin/sh' \
    "{ cat \"\$3\"; printf '[admin]\\nlisten = %s\\ntoken = %s\\n' \\" \
    "    127.0.0.1:$APORT '$R/admin.token'; } >'$D/gw.conf' || exit 1" \
    "exec '$GW' \"\$1\" \"\$2\" '$D/gw.conf'" >"$D/gw.sh"
chmod 755 "$D/gw.sh"
if ! t_world "$R" --modems 8 --seed 21 --profile instant --data "$DATA" \
    --tallygw "$D/gw.sh"; then
	finish
	exit 1
fi
W=$T_WORLD
admin() {
	curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$@" \
	    "http://127.0.0.1:$APORT/status"
}
TOKEN=$(cat "$R/admin.token")
expect "the admin API answers its bearer token" \
    "$(admin -H "Authorization: Bearer $TOKEN")" 200
expect "the admin API refuses a wrong token" \
    "$(admin -H "Authorization: Bearer x$TOKEN")" 401
expect "the admin API refuses no token" "$(admin)" 401

python3 tests/hostile/security.py --dir "$R" --data "$DATA" \
    >"$D/sec.out" 2>"$D/sec.err"
rc=$?
grep '^# [0-9]* messages' "$D/sec.out"
for c in stored forged lockout phase2 phase3 alert replay secrets codes; do
	set -- $(grep "^check $c " "$D/sec.out")
	expect "$c: ${4:-?} failed of $((${3:-0} + ${4:-0}))" "${4:-missing}" 0
	grep "^# $c: " "$D/sec.out" | sed 's/^/#   /'
done
expect "security.py ends without error" "$rc" 0
[ "$rc" -ne 0 ] && tail -5 "$D/sec.err" | sed 's/^/#   /'
kill -TERM "$W"
wait "$W"
expect "the world stops on SIGTERM" "$?" 0

# Key files: the world's configuration without its modems, in a state
# directory of its own, with one secret at a time made readable by
# group or others. tallygw must refuse to start and say which file and
# what to do; with mode 0600 it starts (-n: checks and exits).
mkdir -p "$D/k" "$D/state"
sed -e '/^\[modem /,/^$/d' -e "s|^state = .*|state = $D/state|" \
    "$D/gw.conf" >"$D/k.conf"
for f in root.key gateway.sec ussd.secret admin.token; do
	cp "$R/$f" "$D/k/$f"
	chmod 600 "$D/k/$f"
	sed -i "s|= $R/$f\$|= $D/k/$f|" "$D/k.conf"
done
expect "the copied configuration names the copied secrets" \
    "$(grep -c "= $D/k/" "$D/k.conf")" 4
"$GW" -n -f "$D/k.conf" 2>"$D/n.err"
expect "with every secret 0600 the configuration checks" "$?" 0
for f in root.key gateway.sec ussd.secret admin.token; do
	for mode in 640 604 644 660 666; do
		chmod "$mode" "$D/k/$f"
		timeout 30 "$GW" -d -f "$D/k.conf" >/dev/null 2>"$D/e.err"
		rc=$?
		expect "$f mode $mode: tallygw refuses to start" "$rc" 1
		expect_match "$f mode $mode: the error names file and mode" \
		    "$(cat "$D/e.err")" "$D/k/$f: .*accessible by group or \
others \\(mode $mode\\); run: chmod 600 $D/k/$f"
	done
	chmod 600 "$D/k/$f"
done
for f in root.key gateway.sec; do
	chmod 644 "$D/k/$f"
	"$GW" -n -f "$D/k.conf" 2>"$D/n.err"
	expect "tallygw -n refuses $f of mode 644" "$?" 1
	chmod 600 "$D/k/$f"
done

finish
