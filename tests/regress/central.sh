#!/bin/sh
# tallysim's central receiver against docs/forward.md, end to end over
# HTTP with curl: statuses, signatures, validation, read-back, outage,
# restart. Every wait is bounded.
. tests/regress/lib.sh
CENTRAL="$B/tallysim central"
SIGN=$B/central-sign
D=$(mktemp -d)
PID=
cleanup() {
	t_cleanup
	rm -rf "$D"
}
t_trap cleanup

# The receiver is `tallysim central'; build the signer a gateway would be.
PC=$(pkg-config --cflags --libs libevent sqlite3 libsodium jansson)
if ! make --no-print-directory "B=$B" "$B/libtally.a" "$B/tallysim" \
    >"$D/build.log" 2>&1 ||
    ! cc -std=gnu11 -Iinclude -Isim -D_GNU_SOURCE -o "$SIGN" \
    tests/regress/central_sign.c sim/central.c "$B/libtally.a" $PC \
    >>"$D/build.log" 2>&1; then
	t_fail "build the central receiver driver"
	sed 's/^/#   /' "$D/build.log"
	finish
	exit 1
fi
if ! command -v curl >/dev/null 2>&1; then
	t_fail "curl is installed (apt-get install curl)"
	finish
	exit 1
fi

# start DIR [ARGS...]: run the receiver, wait (5 s at most) for `ready'.
start() {
	sd=$1
	shift
	$CENTRAL --dir "$sd" "$@" >"$D/out" 2>>"$D/err" &
	PID=$!
	t_track "$PID"
	i=0
	while [ $i -lt 50 ]; do
		grep -q '^ready$' "$D/out" 2>/dev/null && break
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
		i=$((i + 1))
	done
	grep -q '^ready$' "$D/out" 2>/dev/null
}

# stop: SIGTERM, wait (5 s at most) for the exit; fails if it lingers.
stop() {
	kill "$PID" 2>/dev/null
	i=0
	while kill -0 "$PID" 2>/dev/null && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$PID" 2>/dev/null; then
		kill -9 "$PID" 2>/dev/null
		PID=
		return 1
	fi
	wait "$PID" 2>/dev/null
	PID=
	return 0
}

# post FILE [KEY [SIGNATURE-HEADER]]: print the HTTP status (000 when
# no connection); the answer is in $D/resp. KEY and SIGNATURE default
# to the body's key and its signature; "-" leaves the header out.
post() {
	pf=$1
	pk=${2:-$(sed -n 's/.*"idempotency_key":"\([^"]*\)".*/\1/p' "$pf")}
	ps=${3:-ed25519=$($SIGN sign "$D/gw.sec" "$pf")}
	set -- -s --max-time 5 -o "$D/resp" -w '%{http_code}' \
	    -H 'Content-Type: application/json' -H 'X-Tally-Gateway: gw-test'
	[ "$pk" != - ] && set -- "$@" -H "Idempotency-Key: $pk"
	[ "$ps" != - ] && set -- "$@" -H "X-Tally-Signature: $ps"
	curl "$@" --data-binary "@$pf" "http://127.0.0.1:$PORT/v1/reports"
}

# body FILE KEY CONTEST PAGE SEQ VALUES CANONICAL RECEIPT [SUPERSEDES]
body() {
	printf '{"idempotency_key":"%s","gateway":"gw-jabar-1",'\
'"tps":"3201012001001","contest":"%s","page":%s,"seq":%s,"values":[%s],'\
'"canonical":"%s","raw":"%s","sender":"+6281234567890",'\
'"modem":"+6281100000001","received_at":"2024-02-14T10:00:00Z",'\
'"verified_at":"2024-02-14T10:00:01Z","verdict":"OK","flags":[],'\
'"auth":"mac","receipt":"%s","supersedes":%s}' "$2" "$3" "$4" "$5" "$6" \
	    "$7" "$7 11111111" "$8" "${9:-null}" >"$1"
}

ctl() {
	$CENTRAL --dir "$R" --ctl "$1"
}

# --- keys -----------------------------------------------------------
$SIGN keygen "$D/gw.sec" "$D/gw.pub"
expect "keygen: secret key mode 0600" "$(stat -c %a "$D/gw.sec")" 600
expect_match "keygen: secret key line" "$(cat "$D/gw.sec")" \
    '^ed25519-secret [0-9a-f]{128}$'
expect_match "keygen: public key line" "$(cat "$D/gw.pub")" \
    '^ed25519-public [0-9a-f]{64}$'
expect_rc "keygen never overwrites" 1 $SIGN keygen "$D/gw.sec" "$D/x.pub"
$SIGN keygen "$D/other.sec" "$D/other.pub"

# --- start ----------------------------------------------------------
R=$D/run
mkdir "$R"
expect_rc "usage: --dir is required" 2 $CENTRAL
expect_rc "usage: a bad --listen" 2 $CENTRAL --dir "$R" --listen nowhere
printf 'ed25519-public 1234\n' >"$D/bad.pub"
$CENTRAL --dir "$R" --pubkey "$D/bad.pub" >/dev/null 2>"$D/err0"
expect "a bad public key file stops start-up (exit 1)" "$?" 1
expect_match "it names the file and line" "$(cat "$D/err0")" \
    'bad\.pub:1: expected'
if start "$R" --pubkey "$D/gw.pub"; then
	t_ok "starts and prints ready"
else
	t_fail "starts and prints ready"
	sed 's/^/#   /' "$D/err"
	finish
	exit 1
fi
PORT=$(cat "$R/central.port")
expect_match "central.port holds the port" "$PORT" '^[0-9]+$'
expect "central.sock is there" "$(test -S "$R/central.sock" && echo yes)" yes
expect_rc "a second receiver on the same RUNDIR is refused" 1 \
    $CENTRAL --dir "$R" --pubkey "$D/gw.pub"

# --- store, duplicate, conflict --------------------------------------
K1=3201012001001-1-58331817
C1='PPWP 3201012001001 1 255 120 95 36 251 4'
body "$D/b1" $K1 PPWP null 1 '255,120,95,36,251,4' "$C1" 58331817
expect "new report: 201" "$(post "$D/b1")" 201
expect_match "answer: stored" "$(cat "$D/resp")" \
    '^\{"status":"stored","idempotency_key":"'$K1'","stored_at":"[0-9T:.-]+Z"\}$'
expect "the same body again: 200" "$(post "$D/b1")" 200
expect_match "answer: duplicate" "$(cat "$D/resp")" '"status":"duplicate"'
# The same report from another gateway, later: other metadata, same content.
sed 's/gw-jabar-1/gw-jabar-2/; s/10:00:01Z/11:30:00Z/' "$D/b1" >"$D/b1b"
expect "same report, other gateway and times: 200" "$(post "$D/b1b")" 200
body "$D/b1c" $K1 PPWP null 1 '255,120,95,36,250,5' \
    'PPWP 3201012001001 1 255 120 95 36 250 5' 58331817
expect "same key, other numbers: 409" "$(post "$D/b1c")" 409
expect_match "answer: conflict with a reason" "$(cat "$D/resp")" \
    '^\{"status":"conflict",.*"error":"idempotency key held with other'

K2=3201012001001-2-12345678
C2='DPR 3201012001001 2 3 40 10 12 18'
body "$D/b2" $K2 DPR 3 2 '40,10,12,18' "$C2" 12345678
sed 's/"verdict":"OK","flags":\[\]/"verdict":"FLAGGED","flags":["PARTY","SENDER"]/; s/"auth":"mac"/"auth":"card"/' \
    "$D/b2" >"$D/b2f"
expect "a flagged, paged report: 201" "$(post "$D/b2f")" 201

# --- signatures -----------------------------------------------------
body "$D/b3" 3201012001001-3-87654321 PPWP null 3 '255,121,94,36,251,4' \
    'PPWP 3201012001001 3 255 121 94 36 251 4' 87654321 1
expect "no signature: 401" "$(post "$D/b3" '' -)" 401
expect "signature of other bytes: 401" \
    "$(post "$D/b3" '' "ed25519=$($SIGN sign "$D/gw.sec" "$D/b1")")" 401
expect "signature by another key: 401" \
    "$(post "$D/b3" '' "ed25519=$($SIGN sign "$D/other.sec" "$D/b3")")" 401
expect "signature not base64: 401" "$(post "$D/b3" '' 'ed25519=!!!!')" 401
expect "signature without the ed25519= tag: 401" \
    "$(post "$D/b3" '' "$($SIGN sign "$D/gw.sec" "$D/b3")")" 401
printf ' ' >>"$D/b3x"
cat "$D/b3" >>"$D/b3x"
expect "one byte more than was signed: 401" \
    "$(post "$D/b3x" 3201012001001-3-87654321 \
    "ed25519=$($SIGN sign "$D/gw.sec" "$D/b3")")" 401
expect_match "answer: error with a reason" "$(cat "$D/resp")" \
    '^\{"status":"error",.*"error":"signature does not verify"\}$'

# --- malformed bodies: 400 ------------------------------------------
n=0
bad400() {
	n=$((n + 1))
	printf '%s' "$2" >"$D/m$n"
	expect "malformed ($1): 400" "$(post "$D/m$n" $K2)" 400
}
B3=$(cat "$D/b3")
bad400 "not JSON" 'PPWP 3201012001001 1 2 3'
bad400 "empty body" ''
bad400 "truncated JSON" "${B3%?}"
bad400 "an array" '[1,2,3]'
bad400 "duplicate member" "${B3%?},\"tps\":\"3201012001001\"}"
bad400 "tps of 12 digits" "$(echo "$B3" | sed 's/"tps":"3201012001001"/"tps":"320101200100"/')"
bad400 "tps as a number" "$(echo "$B3" | sed 's/"tps":"3201012001001"/"tps":3201012001001/')"
bad400 "unknown contest" "$(echo "$B3" | sed 's/"contest":"PPWP"/"contest":"PRES"/')"
bad400 "contest in digits" "$(echo "$B3" | sed 's/"contest":"PPWP"/"contest":"1"/')"
bad400 "value over 999" "$(echo "$B3" | sed 's/\[255,/[1000,/')"
bad400 "negative value" "$(echo "$B3" | sed 's/\[255,/[-1,/')"
bad400 "value as a string" "$(echo "$B3" | sed 's/\[255,/["255",/')"
bad400 "value as a real" "$(echo "$B3" | sed 's/\[255,/[255.0,/')"
bad400 "no values" "$(echo "$B3" | sed 's/"values":\[[0-9,]*\]/"values":[]/')"
bad400 "values missing" "$(echo "$B3" | sed 's/"values":\[[0-9,]*\],//')"
bad400 "seq 0" "$(echo "$B3" | sed 's/"seq":3/"seq":0/')"
bad400 "seq 10000" "$(echo "$B3" | sed 's/"seq":3/"seq":10000/')"
bad400 "page for PPWP" "$(echo "$B3" | sed 's/"page":null/"page":1/')"
bad400 "page null for DPR" "$(sed 's/"page":3/"page":null/' "$D/b2")"
bad400 "page missing" "$(echo "$B3" | sed 's/"page":null,//')"
bad400 "unknown flag" "$(echo "$B3" | sed 's/"flags":\[\]/"flags":["LATE"]/')"
bad400 "repeated flag" "$(echo "$B3" | sed 's/"flags":\[\]/"flags":["SUM","SUM"]/')"
bad400 "verdict DUPLICATE" "$(echo "$B3" | sed 's/"verdict":"OK"/"verdict":"DUPLICATE"/')"
bad400 "auth none" "$(echo "$B3" | sed 's/"auth":"mac"/"auth":"none"/')"
bad400 "receipt of 7 digits" "$(echo "$B3" | sed 's/"receipt":"87654321"/"receipt":"8765432"/')"
bad400 "time without Z" "$(echo "$B3" | sed 's/10:00:00Z/10:00:00+07:00/')"
bad400 "month 13" "$(echo "$B3" | sed 's/2024-02-14T10:00:00Z/2024-13-14T10:00:00Z/')"
bad400 "supersedes 0" "$(echo "$B3" | sed 's/"supersedes":1/"supersedes":0/')"
bad400 "sender empty" "$(echo "$B3" | sed 's/"sender":"+6281234567890"/"sender":""/')"
bad400 "gateway with a newline" "$(echo "$B3" | sed 's/gw-jabar-1/gw\\njabar/')"
bad400 "a NUL in raw" "$(echo "$B3" | sed 's/"raw":"/"raw":"\\u0000/')"
expect "no Idempotency-Key header: 400" "$(post "$D/b3" -)" 400

# --- inconsistent: 422 ----------------------------------------------
expect "header key differs from the body's: 422" \
    "$(post "$D/b3" 3201012001001-3-11111111)" 422
echo "$B3" | sed 's/"idempotency_key":"3201012001001-3-87654321"/"idempotency_key":"3201012001001-4-87654321"/' >"$D/k1"
expect "key is not TPS-SEQ-RECEIPT: 422" "$(post "$D/k1")" 422
echo "$B3" | sed 's/"canonical":"PPWP 3201012001001 3 255 121 94/"canonical":"PPWP 3201012001001 3 255 121 95/' >"$D/k2"
expect "canonical text disagrees with the values: 422" "$(post "$D/k2")" 422
expect_match "answer names the expected text" "$(cat "$D/resp")" \
    "expected 'PPWP 3201012001001 3 255 121 94 36 251 4'"

# --- size, paths, methods, garbage -----------------------------------
{ printf '{"raw":"'; head -c 70000 /dev/zero | tr '\0' 'x'; printf '"}'; } \
    >"$D/big"
expect "body over 64 KiB: 413" "$(post "$D/big" $K2)" 413
expect "another path: 404" "$(curl -s --max-time 5 -o /dev/null \
    -w '%{http_code}' "http://127.0.0.1:$PORT/v1/other")" 404
expect "PUT: 405" "$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
    -X PUT --data x "http://127.0.0.1:$PORT/v1/reports")" 405
i=0
while [ $i -lt 20 ]; do
	head -c $((i * 97 + 1)) /dev/urandom >"$D/rnd"
	post "$D/rnd" $K2 >/dev/null
	i=$((i + 1))
done
expect "still alive after random bodies" \
    "$(kill -0 "$PID" 2>/dev/null && echo yes)" yes
expect "the signed correction is stored: 201" "$(post "$D/b3")" 201

# --- reading back ---------------------------------------------------
curl -s --max-time 5 "http://127.0.0.1:$PORT/v1/reports" >"$D/get"
expect "GET lists exactly the stored records" "$(wc -l <"$D/get")" 3
expect "... in the order stored" \
    "$(sed 's/^{"idempotency_key":"\([^"]*\)".*/\1/' "$D/get" | tr '\n' ' ')" \
    "$K1 $K2 3201012001001-3-87654321 "
L1=$(sed -n 1p "$D/get")
expect_match "record 1: the first body's fields" "$L1" \
    '"tps":"3201012001001","contest":"PPWP","page":null,"seq":1,"values":\[255,120,95,36,251,4\],"canonical":"'"$C1"'"'
expect_match "record 1: first copy kept (gateway, times)" "$L1" \
    '"gateway":"gw-jabar-1",.*"verified_at":"2024-02-14T10:00:01Z"'
expect_match "record 1: flags, receipt, supersedes" "$L1" \
    '"flags":\[\],"auth":"mac","receipt":"58331817","supersedes":null'
expect_match "record 1: stored_at, signature_ok, duplicates" "$L1" \
    '"stored_at":"[0-9-]+T[0-9:.]+Z","signature_ok":true,"duplicates":2\}$'
expect_match "record 2: page and flags" "$(sed -n 2p "$D/get")" \
    '"contest":"DPR","page":3,"seq":2,"values":\[40,10,12,18\].*"verdict":"FLAGGED","flags":\["PARTY","SENDER"\],"auth":"card"'
expect_match "record 3: supersedes" "$(sed -n 3p "$D/get")" \
    '"seq":3,.*"supersedes":1,'
expect "ctl dump --json is the same as GET" "$(ctl 'dump --json')" \
    "$(cat "$D/get")"
expect "ctl dump is a table with a header" "$(ctl dump | wc -l)" 4
expect_match "ctl dump shows a record" "$(ctl dump | sed -n 3p)" \
    '3201012001001 DPR +3 +2 12345678 FLAGGED yes +0 PARTY,SENDER +40 10 12 18$'
expect "ctl stats" "$(ctl stats)" \
    "stored 3 duplicates 2 rejected $((n + 32)) port $PORT up"
expect_rc "ctl: an unknown command fails" 1 ctl frobnicate

# --- outage ---------------------------------------------------------
expect "ctl down" "$(ctl down)" "ok down port $PORT"
post "$D/b1" >/dev/null
expect "down: a POST cannot connect (curl exit 7)" "$?" 7
expect "down: stats says so" "$(ctl stats | awk '{print $NF}')" down
expect "ctl up, on the same port" "$(ctl up)" "ok up port $PORT"
expect "up: a POST is answered again" "$(post "$D/b1")" 200

# --- restart: durable, same port --------------------------------------
if stop; then t_ok "SIGTERM stops it"; else t_fail "SIGTERM stops it"; fi
expect "the control socket is removed" \
    "$(test -e "$R/central.sock" && echo left || echo gone)" gone
start "$R" --pubkey "$D/gw.pub"
expect "restarts on the same port" "$(cat "$R/central.port")" "$PORT"
expect "records persist across a restart" \
    "$(curl -s --max-time 5 "http://127.0.0.1:$PORT/v1/reports" | wc -l)" 3
expect "deduplication persists across a restart" "$(post "$D/b1")" 200
expect_match "stats persist across a restart" "$(ctl stats)" \
    '^stored 3 duplicates 4 rejected'
stop

# --- no public key: unsigned accepted, recorded as such ---------------
R=$D/run2
mkdir "$R"
start "$R" --listen 127.0.0.1:0
PORT=$(cat "$R/central.port")
expect "unsigned accepted without a public key: 201" \
    "$(post "$D/b1" '' -)" 201
expect_match "... and recorded as signature_ok false" \
    "$(ctl 'dump --json')" '"signature_ok":false'
stop

finish
