#!/bin/sh
# The disk fills under the store while reports arrive (docs/reliability.md,
# "The disk fills"): tallygw's state directory is a 16 MiB tmpfs in a
# world of 4 modems (instant profile). 20 officers report and are
# confirmed; then, with real modem timing, 8 more report and while
# their confirmations are with the modems a file takes every free
# block, and 22 more report; then the file goes. Asserted:
# - the failure is reported: the disk_low alert is raised (threshold 2
#   MB here) and the log names the store's file and says the disk is
#   full;
# - nothing confirmed is lost: the first 20 stay stored and forwarded;
# - while the disk is full, a report not stored is not answered and
#   not deleted: each of the 30 is stored, or still on a SIM or in the
#   network, and only stored ones are answered;
# - a send's result that cannot be committed is kept: its modem is
#   given nothing else, and once it is committed the SMS is sent, not
#   sent again;
# - once space is free the alert clears and all 50 are stored once,
#   confirmed (once on each phone) and forwarded once to the central
#   receiver.
# Mounting a tmpfs needs root: skipped otherwise. TAP; every wait is
# time-boxed.

. tests/regress/lib.sh

t_tmp diskfull
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/run
MNT=
cleanup() {
	t_cleanup
	[ -n "$DISKFULL_LOG" ] && cp "$R/tallygw.log" "$DISKFULL_LOG"
	[ -n "$MNT" ] && umount "$MNT" 2>/dev/null
	t_tmp_end
}
t_trap cleanup

if [ "$(id -u)" -ne 0 ]; then
	echo "ok 1 # SKIP not root: the store's tmpfs needs mount(8) as root"
	echo "1..1"
	exit 0
fi
if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED has the data"
	finish
	exit 1
fi
mkdir -p "$R/gw"
if ! mount -t tmpfs -o size=16m,mode=0755 tmpfs "$R/gw"; then
	echo "ok 1 # SKIP cannot mount a tmpfs here (a container without" \
	    "CAP_SYS_ADMIN?)"
	echo "1..1"
	exit 0
fi
MNT=$R/gw

# disk_low at 2 MB: raised only when the tmpfs is (nearly) full.
printf '%s\n' '#!/bin/sh' \
    "{ cat \"\$3\"; printf '\\n[alerts]\\ndisk_low = 2\\n'; } >'$D/gw.conf' \
|| exit 1" "exec '$GW' \"\$1\" \"\$2\" '$D/gw.conf'" >"$D/gw.sh"
chmod 755 "$D/gw.sh"
if ! t_world "$R" --modems 4 --seed 41 --profile instant --data "$DATA" \
    --daily-cap 0 --tallygw "$D/gw.sh"; then
	finish
	exit 1
fi
db() { sqlite3 -cmd '.timeout 10000' "$R/gw/tallygw.db" "$1"; }
sctl() { timeout 30 "$SIM" ctl --dir "$R" "$@"; }
gwctl() { timeout 30 "$CTL" "$@" --state "$R/gw"; }
LOG=$R/tallygw.log

# 50 officers' reports, signed; officer i reports from +628129000i.
t_rows "$DATA" 50 >"$D/rows.txt"
"$CTL" mac --key "$R/root.key" --batch "$D/rows.txt" |
    awk '{ printf "+62812900%04d %d %s\n", NR, NR % 4, $0 }' \
    >"$D/all.feed"
expect "50 reports signed" "$(grep -vc REJECTED "$D/all.feed")" 50
# send FROM TO: inject officers FROM..TO, officer i into modem i % 4.
send() {
	sed -n "$1,$2p" "$D/all.feed" | while read -r from to text; do
		sctl inject --from "$from" --to "$to" "$text" >/dev/null ||
		    echo "# inject $from failed"
	done
}
# answered FROM TO: how many of officers FROM..TO have a reply on
# their phone.
answered() {
	sed -n "$1,$2p" "$D/all.feed" | while read -r from to text; do
		[ -n "$(sctl inbox --phone "$from" 2>/dev/null)" ] &&
		    echo "$from"
	done | grep -c .
}
count() { db "SELECT count(*) FROM messages WHERE sender LIKE '+62812900%'"; }
confirmed() {
	db "SELECT count(DISTINCT r.msg_id) FROM replies r JOIN outbox o ON
	    o.id = r.out_id WHERE o.state IN ('sent', 'delivered')"
}
central() { sctl central --json 2>/dev/null | grep -c .; }
is() { [ "$(eval "$1")" -ge "$2" ]; }

# --- 1: 20 reports, stored, confirmed, forwarded -------------------
send 1 20
wait_for 60 is count 20
wait_for 60 is confirmed 20
wait_for 60 is central 20
expect "the first 20 reports are stored" "$(count)" 20
expect "the first 20 are confirmed" "$(confirmed)" 20
expect "the first 20 are at the central receiver" "$(central)" 20

# --- 2: the disk fills; 30 more reports --------------------------
# 8 reports with real modem timing (a send takes 3 s): the disk fills
# while their confirmations are with the modems, so the results of
# those sends cannot be committed; then 22 more.
sctl timing --profile realistic --scale 1 --daily-cap 0 >/dev/null
send 21 28
sending() { [ "$(db "SELECT count(*) FROM outbox WHERE state = 'sending'")" \
    -ge 1 ]; }
wait_for 30 sending
expect "confirmations are being sent when the disk fills" "$?" 0
# An emptied WAL: the next commit must grow it. (A WAL that was reset
# by a checkpoint is written over in place, without new blocks, and
# commits could go on for a while on a full disk.)
truncated() { [ "$(db 'PRAGMA wal_checkpoint(TRUNCATE)')" = "0|0|0" ]; }
wait_for 10 truncated
expect "the store's WAL is checkpointed and emptied" "$?" 0
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null
FREE=$(df -k "$MNT" | awk 'NR == 2 { print $4 }')
expect "the store's file system is full" "$FREE" 0
send 29 50
unsaved() { grep -q "the result of its send on .* cannot be recorded" "$LOG"; }
wait_for 30 unsaved
expect "a send's result that cannot be committed is kept, its modem waits" \
    "$?" 0
full_logged() { grep -q "tallygw.db: .*full" "$LOG"; }
wait_for 60 full_logged
expect "the log names the store and says the disk is full" "$?" 0
grep "tallygw.db: .*full" "$LOG" | head -1 | sed 's/^/#   /'
raised() { gwctl alerts | awk '$2 == "disk_low" && $4 == "raised" { f = 1 }
    END { exit !f }'; }
wait_for 30 raised
expect "the disk_low alert is raised" "$?" 0
# Let the sweeps (10 s) try again while the disk is full.
sleep 12
STORED=$(count)
ANSWERED=$(confirmed)
SIMS=$(sctl modems --json | sed -n 's/.*"sim_used":\([0-9]*\).*/\1/p' |
    awk '{ s += $1 } END { print s + 0 }')
QUEUED=$(sctl stats --json | sed -n 's/.*"queued":\([0-9]*\).*/\1/p')
echo "# disk full: $STORED of 50 stored, $ANSWERED answered, $SIMS on" \
    "the SIMs, ${QUEUED:-?} held by the network"
expect "while full, the reports not stored are on the SIMs or in the network" \
    "$((STORED + SIMS + ${QUEUED:-0} >= 50))" 1
PHONES=$(answered 21 50)
echo "# of the 30 sent while full, $PHONES have a reply on their phone"
expect "while full, only stored reports are answered (store and phones)" \
    "$((ANSWERED <= STORED && PHONES <= STORED - 20))" 1
expect "while full, the first 20 are still stored" "$(db "SELECT count(*)
    FROM messages WHERE sender BETWEEN '+628129000001' AND '+628129000020'")" 20

# --- 3: space again ---------------------------------------------------
rm -f "$MNT/filler"
sctl timing --profile instant --daily-cap 0 >/dev/null
wait_for 90 is count 50
expect "once space is free all 50 are stored" "$(count)" 50
expect "none twice" "$(db "SELECT count(DISTINCT sender) FROM messages
    WHERE sender LIKE '+62812900%'")" 50
wait_for 90 is confirmed 50
expect "all 50 are confirmed" "$(confirmed)" 50
phones_all() { [ "$(answered 1 50)" -eq 50 ]; }
wait_for 60 phones_all
expect "every officer's phone has its confirmation" "$(answered 1 50)" 50
TWICE=$(sed -n 1,50p "$D/all.feed" | while read -r from to text; do
	[ "$(sctl inbox --phone "$from" | grep -c .)" -gt 1 ] && echo "$from"
done | grep -c .)
expect "no phone has its confirmation twice" "$TWICE" 0
expect "no reply is left sending or queued" "$(db "SELECT count(*) FROM
    outbox WHERE state NOT IN ('sent', 'delivered')")" 0
wait_for 90 is central 50
expect "all 50 are at the central receiver, once" "$(central)" 50
cleared() { ! raised; }
wait_for 30 cleared
expect "the disk_low alert clears" "$?" 0
expect "every report is accepted" "$(db "SELECT count(*) FROM messages
    WHERE sender LIKE '+62812900%' AND verdict IN ('OK', 'FLAGGED')")" 50
kill -TERM "$T_WORLD"
wait "$T_WORLD"
expect "the world stops on SIGTERM" "$?" 0
finish
