#!/bin/sh
# The workers' fork server (docs/design.md, "Processes"): tallygw starts
# `tallygw-modem -Z' once and has it fork each modem worker, so that the
# 64 workers of a bank share one copy of libGammu's relocated pages.
#
# On a 3-modem `tallysim world': one zygote, a child of tallygw; each
# worker a child of tallygw (the subreaper of the zygote's orphans),
# its own arguments in `ps', one socket (its own), its modem ready, and
# libGammu's pages shared: under 64 KB of them written by the worker
# (a worker started by exec writes about 150 KB of relocated data).
# A worker killed comes back forked again. The zygote killed: a worker
# killed then comes back by exec (its libGammu pages its own: the check
# above can fail), and after the zygote's 30 s backoff the next worker
# is forked by a new zygote. tallygw-modem replaced on disk (an
# upgrade): the next worker is forked by a new zygote. tallygw killed
# with SIGKILL: the zygote and the workers exit by themselves. The
# suite runs copies of tallygw and tallygw-modem (it touches the
# latter). TAP; every wait is time-boxed.

. tests/regress/lib.sh

t_tmp zygote
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
R=$D/w
if [ ! -x "$SIM" ] || [ ! -x "$GW" ] || [ ! -d "$DATA" ]; then
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED has the data"
	finish
	exit 1
fi

# cmdline PID: its arguments, one line, spaces between.
cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }
ppid() { awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
# zygotes: the PIDs of this tallygw's children whose arguments are
# "... -Z" (other suites' gateways have theirs).
zygotes() {
	for z_p in $(pgrep -P "$MAIN" -f 'tallygw-modem -Z'); do
		case "$(cmdline "$z_p")" in
		*/tallygw-modem\ -Z\ *) echo "$z_p" ;;
		esac
	done
}
# worker NAME: the PID of modem NAME's worker in this world.
worker() { pgrep -f "tallygw-modem -n $1 -d $R/modem" | head -1; }
# gammu_dirty PID: KiB of libGammu's mappings the process has written.
gammu_dirty() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { g = ($6 ~ /libGammu/) }
	    g && /^Private_Dirty:/ { s += $2 } END { print s + 0 }' \
	    "/proc/$1/smaps" 2>/dev/null
}
sockets() {
	for s_f in /proc/"$1"/fd/*; do readlink "$s_f"; done 2>/dev/null |
	    grep -c '^socket:'
}
ready() {
	[ "$(timeout 10 "$CTL" modems --state "$R/gw" |
	    t_col "$1" STATE)" = running/ready ]
}
# respawned NAME OLDPID: wait (30 s) for NAME's new worker, ready; its PID.
other() { r_p=$(worker "$1") && [ -n "$r_p" ] && [ "$r_p" != "$2" ]; }
respawned() {
	wait_for 30 other "$1" "$2" && wait_for 30 ready "$1" && worker "$1"
}

# Copies: the upgrade below touches tallygw-modem.
mkdir "$D/bin"
cp "$GW" "$B/tallygw-modem" "$D/bin/" || { t_fail "copy the programs"; finish; exit 1; }
GW=$D/bin/tallygw
t_world "$R" --modems 3 --seed 7 --profile instant --data "$DATA" \
    --tallygw "$GW" || { finish; exit 1; }
MAIN=$(pgrep -f "tallygw -d -f $R/tallygw.conf" | head -1)
expect_match "tallygw runs" "$MAIN" '^[0-9]+$'

Z=$(zygotes)
expect "one zygote, a child of tallygw" "$(echo "$Z" | grep -c .)" 1
expect "no other zygote of this run" \
    "$(pgrep -f "$D/bin/tallygw-modem -Z" | grep -c .)" 1
for m in m0 m1 m2; do
	expect "$m: its modem is ready" \
	    "$(wait_for 30 ready "$m" && echo yes)" yes
	W=$(worker "$m")
	expect_match "$m: its worker shows its own arguments" "$(cmdline "$W")" \
	    "tallygw-modem -n $m -d $R/modem[0-9] -c at "
	expect "$m: the worker is tallygw's child" "$(ppid "$W")" "$MAIN"
	expect "$m: the worker holds one socket, its own" "$(sockets "$W")" 1
	d=$(gammu_dirty "$W")
	expect_match "$m: libGammu's pages shared (written: $d KB)" \
	    "$([ "$d" -lt 64 ] && echo shared)" '^shared$'
done

# A worker killed comes back, forked by the zygote again.
W=$(worker m1)
kill -KILL "$W"
W2=$(respawned m1 "$W")
expect_match "m1: a new worker after SIGKILL, ready" "$W2" '^[0-9]+$'
expect "m1: it is tallygw's child" "$(ppid "$W2")" "$MAIN"
d=$(gammu_dirty "$W2")
expect_match "m1: forked by the zygote ($d KB written)" \
    "$([ "$d" -lt 64 ] && echo shared)" '^shared$'

# The zygote killed: the next worker by exec, then a new zygote.
kill -KILL "$Z"
expect "tallygw logs the zygote's end" \
    "$(wait_for 10 grep -q 'zygote killed by signal 9' "$R/tallygw.log" &&
    echo yes)" yes
W=$(worker m2)
T0=$(date +%s)
kill -KILL "$W"
W2=$(respawned m2 "$W")
expect_match "m2: a new worker without a zygote, ready" "$W2" '^[0-9]+$'
d=$(gammu_dirty "$W2")
expect_match "m2: started by exec ($d KB of libGammu written)" \
    "$([ "$d" -ge 64 ] && echo own)" '^own$'
expect "m2: it is tallygw's child" "$(ppid "$W2")" "$MAIN"
sleep $((T0 + 31 - $(date +%s)))
W=$(worker m0)
kill -KILL "$W"
W2=$(respawned m0 "$W")
expect_match "m0: after the backoff, a new worker, ready" "$W2" '^[0-9]+$'
Z2=$(zygotes)
expect_match "a new zygote, a child of tallygw" "$Z2" '^[0-9]+$'
d=$(gammu_dirty "$W2")
expect_match "m0: forked by it ($d KB written)" \
    "$([ "$d" -lt 64 ] && echo shared)" '^shared$'

# An upgrade: the program changes on disk; the next worker is forked by
# a new zygote.
touch "$D/bin/tallygw-modem"
W=$(worker m1)
kill -KILL "$W"
W2=$(respawned m1 "$W")
expect_match "m1: after the upgrade, a new worker, ready" "$W2" '^[0-9]+$'
Z3=$(zygotes)
expect_match "a new zygote for the new program" \
    "$([ -n "$Z3" ] && [ "$Z3" != "$Z2" ] && echo new)" '^new$'
expect "tallygw says why" "$(grep -c 'zygote ready -> none (the program changed)' \
    "$R/tallygw.log")" 1
d=$(gammu_dirty "$W2")
expect_match "m1: forked by it ($d KB written)" \
    "$([ "$d" -lt 64 ] && echo shared)" '^shared$'
Z2=$Z3

# tallygw killed: nothing of it stays.
LEFT="$Z2 $(worker m0) $(worker m1) $(worker m2)"
kill -KILL "$MAIN"
gone() {
	for g_p in $LEFT; do
		[ -d "/proc/$g_p" ] && ! grep -q '^State:.*Z' \
		    "/proc/$g_p/status" && return 1
	done
	return 0
}
expect "tallygw killed: the zygote and workers exit by themselves" \
    "$(wait_for 15 gone && echo yes)" yes
finish
