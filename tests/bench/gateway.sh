#!/bin/sh
# The gateway benchmark of 'make bench' (a section of tests/bench.sh):
# tallygw receives N valid tally reports on K simulated modems (tallysim
# world, instant profile), stores, confirms and forwards them; then
# smstools' smsd and gammu-smsd receive the same N messages on the same
# bank.  Every figure is one line "gateway: ...".  What each figure
# means and how it is measured: docs/bench.md.  POSIX sh.
#
# Environment: B (build directory), SHARED (../shared/data), CC, and
#   BENCH_GW_MODEMS	modems in the bank (4)
#   BENCH_GW_N		reports of the full-load run (2000)
#   BENCH_GW_LIGHT	reports of the light-load run, before it (30)
#   BENCH_GW_LIGHT_RATE	their rate, messages per second in all (3)
#   BENCH_GW_WINDOW	messages per modem in the network or on the SIM
#			at most (24; the SIM has 30 slots)
#   BENCH_GW_REPLY_WAIT	seconds of replies measured after intake (20)
#   BENCH_GW_PEER_WAIT	seconds a peer has for the N messages (240)
#   BENCH_GW_PEERS	peers to run ("smsd gammu-smsd"; "" for none)
#   BENCH_GW_KEEP	a directory to keep the run in (default: removed)

B=${B:-build}
SHARED=${SHARED:-../shared/data}
. tests/regress/lib.sh
CC=${CC:-cc}
K=${BENCH_GW_MODEMS:-4}
N=${BENCH_GW_N:-2000}
L=${BENCH_GW_LIGHT:-30}
LRATE=${BENCH_GW_LIGHT_RATE:-3}
WIN=${BENCH_GW_WINDOW:-24}
RWAIT=${BENCH_GW_REPLY_WAIT:-20}
PWAIT=${BENCH_GW_PEER_WAIT:-240}
PEERS=${BENCH_GW_PEERS-smsd gammu-smsd}

BB=$(cd "$B" 2>/dev/null && pwd)
SIM=$BB/tallysim
CTL=$BB/tallyctl
DATA=$(cd "$SHARED" 2>/dev/null && pwd)
PIL=$DATA/pilpres2024_tps.csv

if [ -n "${BENCH_GW_KEEP:-}" ]; then
	W=$BENCH_GW_KEEP
	mkdir -p "$W" || exit 1
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/benchgw.XXXXXX") || exit 1
fi
W=$(cd "$W" && pwd -P)
PIDS=
status=0

# Stop what this script started, by process id, children first.
gw_cleanup() {
	t_cleanup
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null
	done
	PIDS=
	[ -z "${BENCH_GW_KEEP:-}" ] && rm -rf "$W"
}
t_trap gw_cleanup
trap 'exit 1' PIPE

say() { echo "gateway: $*"; }
ctl() { timeout 30 "$SIM" ctl --dir "$@"; }
now() { date +%s.%N; }

# wait_until SECONDS COMMAND...: poll COMMAND every 0.2 s, time-boxed.
wait_until() {
	wu_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$wu_end" ] && return 1
		sleep 0.2
	done
	return 0
}

# The children of a process, one pid a line.
children() {
	{ cat /proc/"$1"/task/*/children 2>/dev/null ||
	    ps -o pid= --ppid "$1" 2>/dev/null; } | tr -s ' ' '\n' | grep .
}

# Peak resident set size of a process, in MiB ("?" if unknown).
hwm() {
	awk '/^VmHWM:/ { printf "%.1f", $2 / 1024; f = 1 }
	    END { if (!f) printf "?" }' /proc/"$1"/status 2>/dev/null ||
	    printf '?'
}

# A process's command name.
comm() { cat /proc/"$1"/comm 2>/dev/null; }

# match_times PICKUPS INJECTS LATFILE: PICKUPS has "SENDER EPOCH" lines (the
# message was stored, or written), INJECTS "INDEX MODEM SENDER EPOCH"
# (bench_inject's output).  Writes the latency of every message of
# INJECTS found in PICKUPS to LATFILE and prints, per modem and for
# "all", "MODEM COUNT FIRST_INJECT LAST_PICKUP".
match_times() {
	awk -v lat="$3" '
	NR == FNR { s = $1; sub(/^\+/, "", s); p[s] = $2; next }
	{
		s = $3; sub(/^\+/, "", s); m = $2
		if (!(m in f) || $4 < f[m]) f[m] = $4
		if (!seen++ || $4 < af) af = $4
		if (!(s in p))
			next
		n[m]++; an++
		if (p[s] > l[m]) l[m] = p[s]
		if (p[s] > al) al = p[s]
		printf "%.6f\n", p[s] - $4 > lat
	}
	END {
		for (m in f)
			printf "%s %d %.6f %.6f\n", m, n[m] + 0, f[m], l[m]
		printf "all %d %.6f %.6f\n", an + 0, af, al
	}' "$1" "$2"
	[ -f "$3" ] || : >"$3"
}

# pct FILE: "median X ms, p95 Y ms" of the seconds in FILE (nearest
# rank).
pct() {
	sort -n "$1" | awk '{ v[NR] = $1 }
	function rank(p,   r) { r = int(p * NR); if (r < p * NR) r++
		return r < 1 ? 1 : r }
	END {
		if (NR == 0) { print "no message"; exit }
		printf "median %.0f ms, p95 %.0f ms, max %.0f ms (%d messages)\n",
		    v[rank(0.5)] * 1000, v[rank(0.95)] * 1000, v[NR] * 1000, NR
	}'
}

# rate SUMMARY: "X msg/s (COUNT in T s from the first inject)" and the
# per-modem rates, from match_times' output; the unit is $2.
rate() {
	awk -v u="$2" -v k="$K" '
	$1 == "all" { n = $2; t = $4 - $3; next }
	{ pm[$1] = ($4 > $3 && $2 > 0) ? $2 / ($4 - $3) : 0 }
	END {
		if (t <= 0) { printf "no figure (nothing arrived)\n"; exit }
		printf "%.1f %s (%d in %.1f s from the first inject), " \
		    "per modem %.1f %s (", n / t, u, n, t, n / t / k, u
		for (i = 0; i < k; i++)
			printf "%s%d: %.1f", i ? ", " : "", i, pm[i]
		printf ")\n"
	}' "$1"
}

# retries DIR NAME: says how many deliveries the network of the simulator
# in DIR had to retry (a full SIM: they wait 5 s); the window is meant
# to keep this at 0, or the latencies include those waits.
retries() {
	r=$(ctl "$1" stats | awk '$1 == "retries" { print $2 }')
	if [ "${r:-?}" = 0 ]; then
		say "$2 network retries (SIM full): 0"
	else
		say "$2 network retries (SIM full): ${r:-?} (latencies" \
		    "include waits of 5 s)"
	fi
}

# --- preparation -----------------------------------------------------

if [ ! -x "$SIM" ] || [ ! -x "$BB/tallygw" ] || [ ! -x "$CTL" ]; then
	say "skipped: $B/tallysim, tallygw and tallyctl are not built"
	exit 0
fi
if [ ! -r "$PIL" ] || [ ! -r "$DATA/desa_tps_2024.csv" ]; then
	say "skipped: $SHARED data not readable"
	exit 0
fi
if ! command -v sqlite3 >/dev/null 2>&1; then
	say "skipped: the sqlite3 command is not installed"
	exit 0
fi
INJ=$W/bench_inject
$CC -std=gnu11 -O2 -Wall -o "$INJ" tests/bench/bench_inject.c || {
	say "FAILED to build tests/bench/bench_inject.c"
	exit 1
}

# Valid reports (consistent rows of the 2024 results, one TPS each),
# signed with a fixed root key; one sender each, so that every report
# gets its own confirmation.  The first L are the light-load run.
R=$W/gw
mkdir -p "$R"
printf 'root 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n' \
    >"$R/root.key"
chmod 600 "$R/root.key"
awk -F, -v n=$((L + N)) '{ sub(/\r$/, "") }
NR > 1 && $25 == 1 && $11 != "" && $12 != "" &&
    $13 != "" && $20 != "" && $21 != "" && $22 != "" {
	printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12, $13,
	    $21, $22
	if (++c == n) exit
}' "$PIL" >"$W/reports.txt"
"$CTL" mac --key "$R/root.key" --batch "$W/reports.txt" >"$W/signed.txt" ||
    { say "FAILED: tallyctl mac --batch"; exit 1; }
if [ "$(wc -l <"$W/signed.txt")" -ne $((L + N)) ]; then
	say "FAILED: $((L + N)) reports wanted, $(wc -l <"$W/signed.txt") made"
	exit 1
fi
awk '{ printf "+628127%07d %s\n", NR, $0 }' "$W/signed.txt" >"$W/all.feed"
head -n "$L" "$W/all.feed" >"$W/light.feed"
tail -n +"$((L + 1))" "$W/all.feed" >"$W/full.feed"
i=0
: >"$W/warm.feed"
while [ $i -lt "$K" ]; do
	printf '+628129%07d TES %d\n' $((i + 1)) $((i + 1)) >>"$W/warm.feed"
	i=$((i + 1))
done

say "$K modems, $N reports at full load (at most $WIN per modem" \
    "in the network or on the SIM), $L at light load ($LRATE msg/s)," \
    "instant profile, $(nproc 2>/dev/null || echo '?') CPUs"

# inject DIR FEED OUT [RATE]: bench_inject into the simulator in DIR.
inject() {
	if [ -n "${4:-}" ]; then
		"$INJ" -d "$1" -k "$K" -w "$WIN" -r "$4" "$2" >"$3" \
		    2>"$3.err"
	else
		"$INJ" -d "$1" -k "$K" -w "$WIN" "$2" >"$3" 2>"$3.err"
	fi
}

# --- tallygw ----------------------------------------------------------

db() { sqlite3 -cmd '.timeout 5000' "$R/gw/tallygw.db" "$1"; }
cdb() { sqlite3 -cmd '.timeout 5000' "$R/central.db" "$1"; }
stored_ge() { [ "$(db 'SELECT count(*) FROM messages' 2>/dev/null)" -ge "$1" ]; }
central_ge() { [ "$(cdb 'SELECT count(*) FROM reports' 2>/dev/null)" -ge "$1" ]; }
# Confirmations handed to the network, per modem and in all: the
# simulator's "sent" counters.
sent_now() {
	ctl "$R" modems --json | awk -v t="$(now)" '
	{ match($0, /"sent":[0-9]+/)
	  s = substr($0, RSTART + 7, RLENGTH - 7); v = v " " s; a += s }
	END { print t, a v }'
}
# Nothing queued or being sent in the outbox.
outbox_idle() {
	[ "$(db "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')")" -eq 0 ]
}
# "SENDER EPOCH" of a time column (ISO 8601 with milliseconds).
gw_times() {
	db "SELECT sender, printf('%.3f', strftime('%s', $1) +
	    substr($1, 21, 3) / 1000.0) FROM messages" | tr '|' ' '
}
central_times() {
	cdb "SELECT sender, printf('%.3f', strftime('%s', stored_at) +
	    substr(stored_at, 21, 3) / 1000.0) FROM reports" | tr '|' ' '
}

bench_tallygw() {
	"$SIM" world --dir "$R" --modems "$K" --seed 1 --profile instant \
	    --data "$DATA" >"$W/world.out" 2>"$W/world.err" &
	WPID=$!
	t_track "$WPID"
	PIDS="$WPID $PIDS"
	if ! wait_until 120 grep -q '^ready$' "$W/world.out"; then
		say "tallygw: FAILED: tallysim world not ready in 120 s:" \
		    "$(tail -3 "$W/world.err" | tr '\n' ' ')"
		return 1
	fi
	GPID=
	for p in $(children "$WPID"); do
		[ "$(comm "$p")" = tallygw ] && GPID=$p
	done
	MPID=
	for p in $(children "$GPID"); do
		case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
		*" -n m0 "*) MPID=$p ;;
		esac
	done

	# Light load: a few messages, paced, on an idle gateway.
	inject "$R" "$W/light.feed" "$W/light.inj" "$LRATE" || {
		say "tallygw: FAILED: inject: $(cat "$W/light.inj.err")"
		return 1
	}
	if ! wait_until 60 stored_ge "$L"; then
		say "tallygw: FAILED: $(db 'SELECT count(*) FROM messages')" \
		    "of $L light-load messages stored in 60 s"
		return 1
	fi
	gw_times verified_at >"$W/light.commit"
	match_times "$W/light.commit" "$W/light.inj" "$W/light.lat" >/dev/null
	say "tallygw latency SIM to commit, light load ($LRATE msg/s," \
	    "replies going out):" "$(pct "$W/light.lat")"
	wait_until 60 outbox_idle || say "tallygw: light-load replies" \
	    "still queued after 60 s"
	wait_until 30 central_ge "$L"

	# Full load: N messages as fast as the SIMs are emptied.
	s0=$(sent_now)
	inject "$R" "$W/full.feed" "$W/full.inj" || {
		say "tallygw: FAILED: inject: $(cat "$W/full.inj.err")"
		return 1
	}
	if ! wait_until "$PWAIT" stored_ge $((L + N)); then
		say "tallygw intake: FAILED: $(($(db \
		    'SELECT count(*) FROM messages') - L)) of $N stored" \
		    "in $PWAIT s"
		return 1
	fi
	s1=$(sent_now)
	gw_times verified_at >"$W/full.commit"
	match_times "$W/full.commit" "$W/full.inj" "$W/full.lat" >"$W/full.sum"
	say "tallygw intake:" "$(rate "$W/full.sum" msg/s)"
	say "tallygw latency SIM to commit, full load:" \
	    "$(pct "$W/full.lat")"
	say "tallygw feed: $(sed 's/^bench_inject: //' "$W/full.inj.err")"
	retries "$R" tallygw

	if wait_until 120 central_ge $((L + N)); then
		central_times >"$W/central.times"
		match_times "$W/central.times" "$W/full.inj" "$W/fwd.lat" \
		    >"$W/fwd.sum"
		say "tallygw forwarding:" "$(rate "$W/fwd.sum" reports/s |
		    sed 's/, per modem.*//')"
		# The commits of the full-load messages, as if injected.
		awk 'NR == FNR { want[$3] = 1; next }
		    ($1 in want) { print 0, 0, $1, $2 }' "$W/full.inj" \
		    "$W/full.commit" >"$W/commit.inj"
		match_times "$W/central.times" "$W/commit.inj" "$W/lag.lat" >/dev/null
		say "tallygw forward lag, commit to the central's store:" \
		    "$(pct "$W/lag.lat")"
	else
		say "tallygw forwarding: FAILED: only" \
		    "$(($(cdb 'SELECT count(*) FROM reports') - L)) of $N" \
		    "reports reached the central receiver"
		status=1
	fi

	# Replies: while receiving, then sending only.
	total=$((L + N))
	rend=$(($(date +%s) + RWAIT))
	while [ "$(date +%s)" -lt "$rend" ]; do
		outbox_idle && break
		sleep 1
	done
	s2=$(sent_now)
	printf '%s\n%s\n%s\n' "$s0" "$s1" "$s2" | awk -v k="$K" '
	{ t[NR] = $1; a[NR] = $2; for (i = 0; i < k; i++) m[NR, i] = $(i + 3) }
	END {
		d = t[2] - t[1]
		printf "gateway: tallygw replies while receiving: %.1f SMS/s" \
		    " (%d in %.1f s)\n", (d > 0 ? (a[2] - a[1]) / d : 0),
		    a[2] - a[1], d
		d = t[3] - t[2]
		if (d <= 0 || a[3] == a[2]) {
			print "gateway: tallygw replies, sending only: no figure"
			exit
		}
		printf "gateway: tallygw replies, sending only: %.1f SMS/s," \
		    " per modem %.2f SMS/s (", (a[3] - a[2]) / d,
		    (a[3] - a[2]) / d / k
		for (i = 0; i < k; i++)
			printf "%s%d: %.2f", i ? ", " : "", i,
			    (m[3, i] - m[2, i]) / d
		printf "; %d in %.1f s)\n", a[3] - a[2], d
	}'
	left=$(db "SELECT count(*) FROM outbox WHERE state IN ('queued', 'sending')")
	say "tallygw confirmations: $(db 'SELECT count(*) FROM outbox')" \
	    "queued for $total reports, $left still to send when measuring" \
	    "stopped"
	say "tallygw verdicts: $(db "SELECT group_concat(n || ' ' || v, ', ')
	    FROM (SELECT verdict AS v, count(*) AS n FROM messages
	    GROUP BY verdict)")"
	say "tallygw peak RSS: tallygw $(hwm "$GPID") MiB," \
	    "one tallygw-modem worker (m0) $(hwm "$MPID") MiB"
	bad=$(db "SELECT count(*) FROM messages WHERE verdict NOT IN ('OK', 'FLAGGED') OR verdict IS NULL")
	if [ "$bad" -ne 0 ]; then
		say "tallygw: FAILED: $bad reports were not accepted"
		return 1
	fi
	return 0
}

# --- the peers --------------------------------------------------------

# files_ge DIR N: DIR holds at least N files.
files_ge() { [ "$(ls "$1" | wc -l)" -ge "$2" ]; }

# peer_run NAME DIR INBOX: with the peer started on the simulator in
# DIR and writing into INBOX, the warm-up, light and full runs.
# $PICKUP is the function that lists "SENDER EPOCH" of INBOX.
peer_run() {
	name=$1
	dir=$2
	inbox=$3
	inject "$dir" "$W/warm.feed" "$W/$name.warm.inj"
	if ! wait_until 90 files_ge "$inbox" "$K"; then
		say "$name: not measured: it did not pick up one message" \
		    "per modem within 90 s of its start"
		return 1
	fi
	inject "$dir" "$W/light.feed" "$W/$name.light.inj" "$LRATE"
	if wait_until 90 files_ge "$inbox" $((K + L)); then
		$PICKUP "$inbox" >"$W/$name.light.times"
		match_times "$W/$name.light.times" "$W/$name.light.inj" \
		    "$W/$name.light.lat" >/dev/null
		say "$name latency SIM to file, light load ($LRATE msg/s):" \
		    "$(pct "$W/$name.light.lat")"
	else
		say "$name latency, light load: not measured: only" \
		    "$(($(ls "$inbox" | wc -l) - K)) of $L in 90 s"
		return 1
	fi
	inject "$dir" "$W/full.feed" "$W/$name.full.inj" &
	ipid=$!
	t_track "$ipid"
	if wait_until "$PWAIT" files_ge "$inbox" $((K + L + N)); then
		wait "$ipid"
		$PICKUP "$inbox" >"$W/$name.full.times"
		match_times "$W/$name.full.times" "$W/$name.full.inj" \
		    "$W/$name.full.lat" >"$W/$name.full.sum"
		say "$name intake:" "$(rate "$W/$name.full.sum" msg/s)"
		say "$name latency SIM to file, full load:" \
		    "$(pct "$W/$name.full.lat")"
		retries "$dir" "$name"
	else
		kill "$ipid" 2>/dev/null
		wait "$ipid" 2>/dev/null
		$PICKUP "$inbox" >"$W/$name.full.times"
		match_times "$W/$name.full.times" "$W/$name.full.inj" \
		    "$W/$name.full.lat" >"$W/$name.full.sum"
		say "$name intake: not all picked up: $(awk '$1 == "all" {
		    printf "%d of '"$N"' in '"$PWAIT"' s, %.1f msg/s until" \
		    " then", $2, $2 / '"$PWAIT"' }' "$W/$name.full.sum")"
	fi
	return 0
}

# smsd writes one file per message; the sender is its From: line.
smsd_pickup() {
	{ stat -c '%n %.6Y' "$1"/*; grep -H '^From: ' "$1"/*; } |
	    awk '/:From: / { split($0, a, ":From: "); s[a[1]] = a[2]; next }
		{ t[$1] = $2 }
		END { for (f in t) if (f in s) print s[f], t[f] }'
}

# gammu-smsd's files are IN<date>_<time>_<serial>_<sender>_<part>.txt.
gammu_pickup() {
	stat -c '%n %.6Y' "$1"/IN* | awk '{
		n = split($1, a, "/"); split(a[n], p, "_"); print p[4], $2 }'
}

# Start the simulator for a peer: the same bank (same seed).
peer_sim() {
	"$SIM" run --dir "$1" --modems "$K" --seed 1 --profile instant \
	    >"$1.out" 2>"$1.err" &
	SPID=$!
	t_track "$SPID"
	PIDS="$SPID $PIDS"
	wait_until 30 grep -q '^ready$' "$1.out"
}

bench_smsd() {
	SMSD=$(command -v smsd || echo /usr/sbin/smsd)
	if [ ! -x "$SMSD" ]; then
		say "smsd: not measured: smsd is not installed (Debian" \
		    "package smstools)"
		return 0
	fi
	P=$W/smsd
	mkdir -p "$P/incoming" "$P/outgoing" "$P/checked" "$P/failed" \
	    "$P/sent"
	peer_sim "$P/run" || { say "smsd: not measured: tallysim run" \
	    "did not start"; return 1; }
	{
		printf 'devices = '
		i=1
		while [ $i -le "$K" ]; do
			printf '%sGSM%d' "$([ $i -gt 1 ] && echo ,)" $i
			i=$((i + 1))
		done
		echo
		for d in outgoing checked failed incoming sent; do
			echo "$d = $P/$d"
		done
		echo "logfile = $P/smsd.log"
		echo "loglevel = 5"
		echo "infofile = $P/smsd.working"
		echo "pidfile = $P/smsd.pid"
		echo "delaytime = 1"
		echo "delaytime_mainprocess = 1"
		i=1
		while [ $i -le "$K" ]; do
			echo
			echo "[GSM$i]"
			echo "device = $P/run/modem$((i - 1))"
			echo "incoming = yes"
			echo "rtscts = no"
			echo "baudrate = 115200"
			i=$((i + 1))
		done
	} >"$P/smsd.conf"
	say "smsd configuration: one smsd, $K modem processes," \
	    "delaytime 1, delaytime_mainprocess 1, files in incoming/"
	"$SMSD" -t -c "$P/smsd.conf" >"$P/smsd.out" 2>&1 &
	SMSDPID=$!
	t_track "$SMSDPID"
	PIDS="$SMSDPID $PIDS"
	PICKUP=smsd_pickup
	peer_run smsd "$P/run" "$P/incoming"
	rc=$?
	c=$(children "$SMSDPID" | head -1)
	say "smsd peak RSS: main process $(hwm "$SMSDPID") MiB, one modem" \
	    "process $(hwm "$c") MiB"
	kill -TERM "$SMSDPID" "$SPID" 2>/dev/null
	wait "$SMSDPID" "$SPID" 2>/dev/null
	PIDS=$(echo " $PIDS " | sed "s/ $SMSDPID / /; s/ $SPID / /")
	return $rc
}

bench_gammu_smsd() {
	if ! command -v gammu-smsd >/dev/null 2>&1; then
		say "gammu-smsd: not measured: gammu-smsd is not installed" \
		    "(Debian package gammu-smsd)"
		return 0
	fi
	P=$W/gammu
	mkdir -p "$P/inbox" "$P/outbox" "$P/sent" "$P/error"
	peer_sim "$P/run" || { say "gammu-smsd: not measured: tallysim" \
	    "run did not start"; return 1; }
	# One daemon per modem, as gammu-smsd is made to run.
	say "gammu-smsd configuration: $K daemons, files backend," \
	    "ReceiveFrequency 1, CommTimeout 1, StatusFrequency 0"
	GPIDS=
	i=0
	while [ $i -lt "$K" ]; do
		cat >"$P/smsd$i.rc" <<EOF
[gammu]
device = $P/run/modem$i
connection = at

[smsd]
service = files
logfile = $P/smsd$i.log
debuglevel = 0
phoneid = m$i
inboxpath = $P/inbox/
outboxpath = $P/outbox/
sentsmspath = $P/sent/
errorsmspath = $P/error/
receivefrequency = 1
commtimeout = 1
statusfrequency = 0
checkbattery = 0
checksignal = 0
EOF
		gammu-smsd -c "$P/smsd$i.rc" >"$P/smsd$i.out" 2>&1 &
		GPIDS="$GPIDS $!"
		t_track "$!"
		i=$((i + 1))
	done
	PIDS="$GPIDS $PIDS"
	PICKUP=gammu_pickup
	peer_run gammu-smsd "$P/run" "$P/inbox"
	rc=$?
	# shellcheck disable=SC2086
	set -- $GPIDS
	say "gammu-smsd peak RSS: one daemon (one modem) $(hwm "$1") MiB"
	# shellcheck disable=SC2086
	kill -TERM $GPIDS "$SPID" 2>/dev/null
	# shellcheck disable=SC2086
	wait $GPIDS "$SPID" 2>/dev/null
	for p in $GPIDS $SPID; do
		PIDS=$(echo " $PIDS " | sed "s/ $p / /")
	done
	return $rc
}

t0=$(date +%s)
bench_tallygw || status=1
kill -TERM "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null
PIDS=$(echo " $PIDS " | sed "s/ $WPID / /")
# A peer that cannot be driven says why; it does not fail the section.
for p in $PEERS; do
	case $p in
	smsd)		bench_smsd ;;
	gammu-smsd)	bench_gammu_smsd ;;
	*)		say "$p: not measured: unknown peer" ;;
	esac
done
say "section time $(($(date +%s) - t0)) s"
exit $status
