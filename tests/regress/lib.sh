# Helpers of the regress shell tests: each check prints a TAP line.
# Source it, call the checks, end with 'finish'.
B=${B:-build}
SHARED=${SHARED:-../shared/data}
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

# t_stop PID...: end the background processes a test started.
t_stop() {
	for p in "$@"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	return 0
}

finish() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
