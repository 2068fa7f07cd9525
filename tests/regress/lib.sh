# Helpers of the regress shell tests: each check prints a TAP line.
# Source it, call the checks, end with 'finish'.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
# Texts are UTF-8 (UCS-2 SMS, Indonesian screens): the tools the suites
# drive (gammu, smsd) print them only in a UTF-8 locale, and a bare
# Debian has none set. C.UTF-8 is built into glibc.
LC_ALL=C.UTF-8
export LC_ALL
T_N=0
T_FAILED=0

t_ok() {
	T_N=$((T_N + 1))
	echo "ok $T_N - $1"
}

t_fail() {
	T_N=$((T_N + 1))
	T_FAILED=$((T_FAILED + 1))
	echo "not ok $T_N - $1"
}

# expect DESCRIPTION GOT WANT
expect() {
	if [ "$2" = "$3" ]; then
		t_ok "$1"
	else
		t_fail "$1"
		echo "#   got:  $2"
		echo "#   want: $3"
	fi
}

# expect_match DESCRIPTION TEXT PATTERN (grep -E)
expect_match() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		t_ok "$1"
	else
		t_fail "$1"
		echo "#   got:  $2"
		echo "#   want: /$3/"
	fi
}

# expect_rc DESCRIPTION WANT command...
expect_rc() {
	d=$1
	w=$2
	shift 2
	"$@" >/dev/null 2>&1
	expect "$d (exit $w)" "$?" "$w"
}

# wait_for SECONDS COMMAND...: poll until COMMAND succeeds, or fail.
wait_for() {
	w_end=$(($(date +%s) + $1))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$w_end" ] && return 1
		sleep 0.2
	done
	return 0
}

# t_world RUNDIR ARGS...: `tallysim world --dir RUNDIR ARGS' (B, SHARED
# as the suite has them), its output in RUNDIR.out and RUNDIR.err;
# tracked, its PID in T_WORLD. A TAP line for its "ready" (180 s), with
# the last lines of the logs on failure; false if it is not ready.
t_world() {
	t_w=$1
	shift
	"$B/tallysim" world --dir "$t_w" "$@" >"$t_w.out" 2>"$t_w.err" &
	T_WORLD=$!
	t_track "$T_WORLD"
	if wait_for 180 grep -q '^ready$' "$t_w.out"; then
		t_ok "the world is ready"
		return 0
	fi
	t_fail "the world is ready"
	tail -20 "$t_w.err" "$t_w/tallygw.log" | sed 's/^/#   /'
	return 1
}

# t_kv NAME: the value of NAME in the `name value' lines on stdin (as
# `tallyctl status' prints them).
t_kv() {
	awk -v k="$1" '$1 == k { print $2 }'
}

# t_col ROW COLUMN: a cell of the table on stdin (a header line, then
# rows whose cells hold no spaces): the cell under COLUMN of the row
# whose first cell is ROW (`tallyctl modems | t_col m0 SENT').
t_col() {
	awk -v m="$1" -v c="$2" '
	    NR == 1 { for (i = 1; i <= NF; i++) if ($i == c) n = i }
	    NR > 1 && $1 == m { print $n }'
}

# t_sign_pair DIR: DIR/gateway.sec and DIR/gateway.pub, the RFC 8032
# test key 1 as the gateway's signing pair: a test needs a valid Ed25519
# pair, not a secret one.
t_sign_pair() {
	printf 'ed25519-secret %s%s\n' \
	    9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60 \
	    d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a \
	    >"$1/gateway.sec"
	printf 'ed25519-public %s\n' \
	    d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a \
	    >"$1/gateway.pub"
	chmod 600 "$1/gateway.sec"
}

# --- a gateway on simulated modems, piece by piece -------------------
# For a suite that stops and starts the pieces itself (kills.sh,
# faults.sh): tallysim run, tallysim's central receiver and tallygw
# (flood.sh, which runs a whole `tallysim world', takes t_pieces only).

# t_tmp NAME: the programs (SIM, GW, CTL: absolute paths) and a new
# directory D (/tmp/NAME.XXXXXX, its real path) for the suite's files;
# when the suite ends, t_cleanup, then D is removed unless KEEP is set.
t_tmp() {
	t_bb=$(cd "$B" 2>/dev/null && pwd)
	SIM=$t_bb/tallysim
	GW=$t_bb/tallygw
	CTL=$t_bb/tallyctl
	D=$(mktemp -d "/tmp/$1.XXXXXX")
	D=$(cd "$D" && pwd -P)
	t_trap t_tmp_end
}

t_tmp_end() {
	t_cleanup
	if [ -n "$KEEP" ]; then
		echo "# the run is kept in $D"
	else
		rm -rf "$D"
	fi
}

# freeport: a free TCP port on the loopback (the kernel's choice).
freeport() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# t_pieces NAME: t_tmp NAME, the data (DATA) and in D the run's
# directories (S the simulator's, C the central receiver's, G the
# gateway's state). If a program or the data is missing, a failed TAP
# line and the suite ends.
t_pieces() {
	t_tmp "$1"
	DATA=$(cd "$SHARED" 2>/dev/null && pwd)
	S=$D/sim
	C=$D/c
	G=$D/gw
	mkdir -p "$S" "$C"
	[ -x "$SIM" ] && [ -x "$GW" ] && [ -d "$DATA" ] && return 0
	t_fail "$B/tallysim and $B/tallygw are built, $SHARED has the data"
	finish
	exit 1
}

# sctl ARGS...: `tallysim ctl' of the simulator in S; db SQL...: the
# gateway's store in G (waiting for its lock); now: the epoch.
sctl() { timeout 30 "$SIM" ctl --dir "$S" "$@"; }
db() { sqlite3 -cmd '.timeout 10000' "$G/tallygw.db" "$@"; }
now() { date +%s; }

# t_sim MODEMS SEED SCALE ARGS...: `tallysim run' in S, realistic timing
# at x SCALE, its SIMs with airtime for the night and no operator's cap
# (replies must not wait for a top-up), ARGS added; its output in
# D/sim.out and D/sim.err. False if it is not ready within 30 s.
t_sim() {
	t_nm=$1 t_sd=$2 t_sc=$3
	shift 3
	t_bg "$SIM" run --dir "$S" --modems "$t_nm" --seed "$t_sd" \
	    --profile realistic --scale "$t_sc" --balance 5000000 \
	    --daily-cap 0 "$@" >"$D/sim.out" 2>"$D/sim.err"
	wait_for 30 grep -q '^ready$' "$D/sim.out"
}

# t_scenario DESCRIPTION TPS SEED NIGHT: the simulator's scenario of
# TPS polling stations over NIGHT simulated seconds, signed with
# D/root.key; a TAP line DESCRIPTION that it started.
t_scenario() {
	t_o=$(sctl scenario start --tps "$2" --seed "$3" --night "$4" \
	    --key "$D/root.key" --data "$DATA")
	expect_match "$1" "$t_o" "^scenario seed $3: "
}

# t_inboxes: every phone's inbox, one JSON line an SMS.
t_inboxes() {
	for t_ph in $(sctl phones --json |
	    sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p'); do
		sctl inbox --phone "$t_ph"
	done
}

# t_oracle: the simulator's oracle over the central receiver in C, in
# D/oracle.json; its summary as a comment.
t_oracle() {
	sctl oracle --json --central-dir "$C" >"$D/oracle.json" 2>/dev/null
	sed -n 's/.*"summary":/# oracle: /p' "$D/oracle.json" | cut -c1-300
}

# t_records: two TAP lines: the central receiver in C holds records,
# and no two of one report (their idempotency keys in D/keys).
t_records() {
	timeout 30 "$SIM" ctl --dir "$C" central |
	    sed -n 's/.*"idempotency_key":"\([^"]*\)".*/\1/p' >"$D/keys"
	expect_match "the central receiver holds the records" \
	    "$(grep -c . "$D/keys")" '^[1-9]'
	expect "no two records of one report at the central receiver" \
	    "$(sort "$D/keys" | uniq -d | grep -c .)" 0
}

# t_keys: the root key, the gateway's signing pair and the registry in
# D, and the registry in S too (the scenario's expected DPT flags).
t_keys() {
	"$CTL" keygen -o "$D/root.key" >/dev/null
	t_sign_pair "$D"
	"$CTL" import --registry "$D/registry.db" \
	    --desa "$DATA/desa_tps_2024.csv" --dpt "$DATA/pilpres2024_tps.csv" \
	    >/dev/null 2>&1
	cp "$D/registry.db" "$S/registry.db"
}

# t_central: the central receiver in C, its PID in CPID, its port in
# CPORT (after the first start, always that port); false if it is not
# ready within 30 s. The first start is a TAP line.
T_CN=0
t_central() {
	T_CN=$((T_CN + 1))
	t_bg "$SIM" central --dir "$C" --pubkey "$D/gateway.pub" \
	    ${CPORT:+--listen "127.0.0.1:$CPORT"} >"$D/c.$T_CN.out" \
	    2>>"$D/central.log"
	CPID=$!
	wait_for 30 grep -q '^ready$' "$D/c.$T_CN.out" || return 1
	[ -n "${CPORT:-}" ] && return 0
	CPORT=$(cat "$C/central.port")
	expect_match "the central receiver runs" "$CPORT" '^[0-9]+$'
}

# t_gwconf NAME: D/tallygw.conf, a gateway NAME on every modem of the
# simulator in S and the central receiver on CPORT; the lines on
# standard input ([tunables], [alerts]) go after [gateway].
t_gwconf() {
	{
		echo "[gateway]"
		echo "name = $1"
		echo "state = $G"
		echo "key = $D/root.key"
		echo "sign_key = $D/gateway.sec"
		echo "registry = $D/registry.db"
		cat
		t_i=0
		timeout 30 "$SIM" ctl --dir "$S" modems --json |
		    sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p' |
		    while read -r t_num; do
			echo "[modem m$t_i]"
			echo "device = $S/modem$t_i"
			echo "number = $t_num"
			t_i=$((t_i + 1))
		done
		echo "[central sim]"
		echo "url = http://127.0.0.1:$CPORT/v1/reports"
	} >"$D/tallygw.conf"
}

# t_gw: tallygw on D/tallygw.conf in a process group of its own, with
# its workers (PID in GPID); every run's log is appended to D/gw.err.
# False if it does not print ready within 120 s.
T_GN=0
t_gw() {
	T_GN=$((T_GN + 1))
	t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.$T_GN.out" \
	    2>>"$D/gw.err"
	GPID=$!
	wait_for 120 grep -q '^ready$' "$D/gw.$T_GN.out"
}

# t_gw_first: t_gw, a TAP line; if tallygw is not ready, the suite
# ends there and keeps its files.
t_gw_first() {
	if t_gw; then
		t_ok "tallygw prints ready"
		return 0
	fi
	t_fail "tallygw prints ready"
	tail -5 "$D/gw.err" | sed 's/^/#   /'
	KEEP=1
	finish
	exit 1
}

# t_stop PID...: end the background processes a test started.
t_stop() {
	for p in "$@"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}

# --- what a suite starts, and its end ------------------------------
# Every process a suite starts is tracked, so that one t_cleanup can end
# it (and its children) whether the suite passes, fails or is killed:
# left behind, a `tallysim run' holds its ports and eats the CPU of the
# next suites. Entries are PID:START:LEAD, START the kernel's start time
# of PID (so a PID the system has since given to another process is
# never touched) and LEAD 1 when PID leads a process group of its own.
T_PIDS=

# t_start PID: the start time of PID (field 22 of /proc/PID/stat), or
# nothing when there is no such process.
t_start() {
	t_s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	t_s=${t_s##*) }
	# shellcheck disable=SC2086
	set -- $t_s
	echo "${20}"
}

# t_track PID...: end PID, and what it started, at t_cleanup.
t_track() {
	for t_p in "$@"; do
		[ -n "$t_p" ] && T_PIDS="$T_PIDS $t_p:$(t_start "$t_p"):0"
	done
	return 0
}

# t_bg COMMAND...: COMMAND in the background, as `COMMAND &' does ($!
# is its PID), in a process group of its own (setsid does not fork: a
# background job does not lead a group), so that t_cleanup finds even
# the children it leaves when it is killed (tallygw's modem workers).
# Its standard input is /dev/null, as for any background job.
t_bg() {
	setsid "$@" &
	T_PIDS="$T_PIDS $!:$(t_start $!):1"
}

# t_victims: PID:START of every live process that t_cleanup must end:
# the tracked ones (if still the same process), the members of their
# groups and all their descendants.
t_victims() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v want="$T_PIDS" \
	    -v self="$$" '
	{
		sub(/ \(.*\) /, " ")
		if ($2 == "Z")
			next
		pp[$1] = $3; pg[$1] = $4; st[$1] = $21
	}
	END {
		n = split(want, w, " ")
		for (i = 1; i <= n; i++) {
			split(w[i], a, ":")
			if ((a[1] in st) && st[a[1]] != a[2])
				continue	# the PID is another process now
			if (a[1] in st)
				mark[a[1]] = 1
			if (a[3] == 1)
				for (q in pg)
					if (pg[q] == a[1])
						mark[q] = 1
		}
		do {
			more = 0
			for (q in pp)
				if (!(q in mark) && (pp[q] in mark)) {
					mark[q] = 1
					more = 1
				}
		} while (more)
		for (q in mark)
			if (q != self)
				print q ":" st[q]
	}'
}

# t_alive PID:START...: true while one of them runs (a zombie does not).
t_alive() {
	for t_v in "$@"; do
		t_s=$(t_start "${t_v%%:*}") && [ "$t_s" = "${t_v#*:}" ] &&
		    ! grep -q '^[0-9]* (.*) Z ' "/proc/${t_v%%:*}/stat" \
		    2>/dev/null && return 0
	done
	return 1
}

# t_signal SIGNAL PID:START...: send SIGNAL to those still running.
t_signal() {
	t_g=$1
	shift
	for t_v in "$@"; do
		t_alive "$t_v" && kill "-$t_g" "${t_v%%:*}" 2>/dev/null
	done
	return 0
}

# t_cleanup: end everything tracked: SIGTERM (and SIGCONT, for a
# stopped one), up to 10 s of grace, then SIGKILL; reap our children.
t_cleanup() {
	t_l=$(t_victims)
	if [ -n "$t_l" ]; then
		# shellcheck disable=SC2086
		t_signal TERM $t_l
		# shellcheck disable=SC2086
		t_signal CONT $t_l
		t_i=0
		# shellcheck disable=SC2086
		while [ $t_i -lt 50 ] && t_alive $t_l; do
			sleep 0.2
			t_i=$((t_i + 1))
		done
		# shellcheck disable=SC2086
		t_signal KILL $t_l
	fi
	for t_v in $T_PIDS; do
		wait "${t_v%%:*}" 2>/dev/null
	done
	T_PIDS=
	return 0
}

# t_trap FUNCTION: run FUNCTION (which calls t_cleanup) when the suite
# ends, also when it is ended by SIGHUP, SIGINT or SIGTERM.
t_trap() {
	trap "$1" EXIT
	trap 'exit 1' HUP INT TERM
}
t_trap t_cleanup

finish() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}

# t_counts STATE: waits (30 s) until /status of the gateway whose state
# directory is STATE counts what its store holds (tests/regress/counts.py,
# in SQL); prints the last answer, `agree N' or the counts that differ.
t_counts() {
	wait_for 30 sh -c "timeout 10 '$CTL' status --json --state '$1' |
	    python3 tests/regress/counts.py '$1/tallygw.db' >'$1.counts'"
	cat "$1.counts"
}

# t_rows DATA N: the first N consistent rows of the 2024 PPWP results in
# DATA/pilpres2024_tps.csv as unsigned reports, one a line, SEQ 1:
# PPWP*TPS*1*VOTERS*01*02*03*VALID*INVALID (sign with tallyctl mac).
t_rows() {
	awk -F, -v n="$2" '{ sub(/\r$/, "") }
	NR > 1 && $25 == 1 && $11 != "" && $12 != "" && $13 != "" &&
	    $20 != "" && $21 != "" && $22 != "" {
		printf "PPWP*%s*1*%s*%s*%s*%s*%s*%s\n", $1, $20, $11, $12,
		    $13, $21, $22
		if (++c == n) exit
	}' "$1/pilpres2024_tps.csv"
}
