#!/bin/sh
# A stand-in for tallygw, to test `tallysim world''s wiring without the
# real daemon (tests/regress/world.sh).  Called as `tallygw -d -f CONF':
# checks that CONF has what world promises (docs/sim.md, "World"),
# writes its pid to STATE/fake.pid, prints `ready' and sleeps until
# SIGTERM.  A problem goes to stderr and the exit status is 1.
# FAKE_TALLYGW_FAIL=N makes it fail on purpose with status N.
#
# tests/run.sh runs every tests/regress/*.sh as a suite; run without
# arguments this is not one, and it says so and exits 0.

if [ $# -eq 0 ]; then
	echo "# fake_tallygw.sh: a helper of world.sh, not a suite"
	exit 0
fi

fail() {
	echo "fake_tallygw: $*" >&2
	exit 1
}

detach=0
conf=
while [ $# -gt 0 ]; do
	case $1 in
	-d) detach=1 ;;
	-f) [ $# -ge 2 ] || fail "-f needs a file"; conf=$2; shift ;;
	*) fail "unknown argument $1" ;;
	esac
	shift
done
[ "$detach" = 1 ] || fail "not started with -d (foreground)"
[ -n "$conf" ] || fail "no -f CONF"
[ -r "$conf" ] || fail "$conf: cannot read"
echo "fake_tallygw: reading $conf" >&2

if [ -n "${FAKE_TALLYGW_FAIL:-}" ]; then
	echo "fake_tallygw: failing on purpose (status $FAKE_TALLYGW_FAIL)" >&2
	exit "$FAKE_TALLYGW_FAIL"
fi

# get SECTION KEY: the value of KEY in the first [SECTION].
get() {
	awk -v sec="$1" -v key="$2" '
		/^[ \t]*\[/ { s = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", s); next }
		s == sec {
			k = $0; sub(/[ \t]*=.*/, "", k); gsub(/^[ \t]+/, "", k)
			if (k == key) {
				v = $0; sub(/^[^=]*=[ \t]*/, "", v)
				sub(/[ \t]+$/, "", v); print v; exit
			}
		}' "$conf"
}

for s in gateway tunables "central sim"; do
	grep -q "^\[$s\]" "$conf" || fail "$conf: no [$s] section"
done
[ "$(get gateway name)" = sim-gw ] || fail "[gateway] name is not sim-gw"
state=$(get gateway state)
case $state in
/*) ;;
*) fail "[gateway] state is not an absolute path: '$state'" ;;
esac
mkdir -p "$state" || fail "cannot create the state directory $state"
for k in key sign_key registry; do
	v=$(get gateway "$k")
	case $v in
	/*) [ -s "$v" ] || fail "[gateway] $k: $v is missing or empty" ;;
	*) fail "[gateway] $k is not an absolute path: '$v'" ;;
	esac
done
grep -q '^ed25519-secret [0-9a-f]\{128\}$' "$(get gateway sign_key)" ||
    fail "[gateway] sign_key is not an ed25519-secret file"
for k in sweep_interval multipart_timeout; do
	get tunables "$k" | grep -Eq '^[1-9][0-9]*$' ||
	    fail "[tunables] $k is not a positive number"
done
get "central sim" url | grep -Eq '^http://127\.0\.0\.1:[0-9]+/v1/reports$' ||
    fail "[central sim] url is not http://127.0.0.1:PORT/v1/reports"

n=0
for m in $(sed -n 's/^\[modem \([^]]*\)\]$/\1/p' "$conf"); do
	dev=$(get "modem $m" device)
	[ -e "$dev" ] || fail "[modem $m] device $dev does not exist"
	get "modem $m" number | grep -Eq '^\+628[0-9]{7,11}$' ||
	    fail "[modem $m] number is not an Indonesian MSISDN"
	[ -n "$(get "modem $m" operator)" ] || fail "[modem $m] no operator"
	n=$((n + 1))
done
[ "$n" -gt 0 ] || fail "$conf: no [modem NAME] section"

echo $$ >"$state/fake.pid"
echo "fake_tallygw: $n modems, ready" >&2
SLEEPER=
trap 'kill $SLEEPER 2>/dev/null; echo "fake_tallygw: SIGTERM" >&2; exit 0' TERM
echo ready
while :; do
	sleep 1 &
	SLEEPER=$!
	wait $SLEEPER
done
