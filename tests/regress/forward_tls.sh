#!/bin/sh
# The forwarder's TLS: a central's ca_file (docs/forward.md, "Pinning the
# central"). A test CA and certificates are made with openssl; tallysim's
# central receiver speaks plain HTTP, so a small python3 TLS front
# (ssl, one listener per certificate) passes each connection through to
# it. One gateway forwards one officer's report to five centrals, all
# that receiver behind the front:
#   good       the server's CA in ca_file                 -> acked
#   pinned     the server's own certificate in ca_file    -> acked
#   wrongca    another CA in ca_file                      -> not forwarded
#   wrongname  the right CA, a certificate for another
#              name                                       -> not forwarded
#   system     no ca_file: the system's CAs, which do not
#              know the test CA                           -> not forwarded
# What is not forwarded stays queued (retry_wait) with the reason in the
# store and the log, and no byte of it reaches the receiver. `tallygw -n'
# refuses a ca_file that is missing, not PEM, or for an http:// url.
# TAP.

. tests/regress/lib.sh

t_tmp fwdtls

if [ ! -x "$SIM" ] || [ ! -x "$GW" ]; then
	t_fail "$B/tallysim and $B/tallygw are built"
	finish
	exit 1
fi

# --- certificates ---------------------------------------------------

# ca NAME: a self-signed CA, NAME.key and NAME.pem.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/$1.key" -out "$D/$1.pem" -days 2 \
	    -subj "/CN=tallygw test $1" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>>"$D/openssl.err"
}
# cert NAME SAN: NAME.pem for SAN, issued by the CA "ca".
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	    -keyout "$D/$1.key" -out "$D/$1.csr" -subj "/CN=$1" \
	    2>>"$D/openssl.err" &&
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
	    "$2" >"$D/$1.ext" &&
	openssl x509 -req -in "$D/$1.csr" -CA "$D/ca.pem" -CAkey "$D/ca.key" \
	    -set_serial "$3" -days 2 -extfile "$D/$1.ext" -out "$D/$1.pem" \
	    2>>"$D/openssl.err"
}
ca ca && ca otherca && cert srv IP:127.0.0.1,DNS:localhost 2 &&
    cert elsewhere DNS:central.example 3
expect "openssl makes the CAs and certificates" "$?" 0
expect_match "the server certificate chains to the CA" \
    "$(openssl verify -CAfile "$D/ca.pem" "$D/srv.pem" 2>&1)" ': OK$'

# --- the world ------------------------------------------------------

"$SIM" run --dir "$D/sim" --modems 1 --seed 11 >"$D/sim.out" \
    2>"$D/sim.err" &
t_track $!
"$CTL" keygen -o "$D/root.key"
t_sign_pair "$D"
"$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err" &
t_track $!
wait_for 30 grep -q '^ready$' "$D/sim.out"
wait_for 30 grep -q '^ready$' "$D/c.out"
CPORT=$(cat "$D/c/central.port")

cat >"$D/tlsfront.py" <<'EOF'
# TLS in front of a plain HTTP server: argv[1] its port, then CERT:KEY
# per listener. Prints each listener's port, then "ready"; logs
# "PORT handshake failed: ..." or "PORT through" per connection.
import socket, ssl, sys, threading

backend = int(sys.argv[1])
out = sys.stdout

def say(*a):
    print(*a, file=out, flush=True)

def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

def conn(c, ctx, port):
    try:
        t = ctx.wrap_socket(c, server_side=True)
    except (ssl.SSLError, OSError) as e:
        say(port, "handshake failed:", e)
        c.close()
        return
    say(port, "through")
    b = socket.create_connection(("127.0.0.1", backend))
    threading.Thread(target=pump, args=(b, t), daemon=True).start()
    pump(t, b)

def serve(ls, ctx, port):
    while True:
        c, _ = ls.accept()
        threading.Thread(target=conn, args=(c, ctx, port),
                         daemon=True).start()

for arg in sys.argv[2:]:
    cert, key = arg.split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    port = ls.getsockname()[1]
    say(port)
    threading.Thread(target=serve, args=(ls, ctx, port), daemon=True).start()
say("ready")
threading.Event().wait()
EOF
S=$D/srv.pem:$D/srv.key
python3 "$D/tlsfront.py" "$CPORT" "$S" "$S" "$S" \
    "$D/elsewhere.pem:$D/elsewhere.key" "$S" >"$D/front.out" \
    2>"$D/front.err" &
t_track $!
wait_for 30 grep -q '^ready$' "$D/front.out"
expect "the TLS front listens" "$(grep -c '^[0-9]*$' "$D/front.out")" 5
port() { sed -n "${1}p" "$D/front.out"; }

{
	echo "[gateway]"
	echo "name = tls-gw"
	echo "state = $D/gw"
	echo "key = $D/root.key"
	echo "sign_key = $D/gateway.sec"
	num=$(timeout 10 "$SIM" ctl --dir "$D/sim" modems --json |
	    sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p')
	printf '[modem m0]\ndevice = %s\nnumber = %s\n' "$D/sim/modem0" "$num"
	n=1
	for c in good:ca.pem pinned:srv.pem wrongca:otherca.pem \
	    wrongname:ca.pem system:; do
		printf '[central %s]\nurl = https://127.0.0.1:%s/v1/reports\n' \
		    "${c%%:*}" "$(port $n)"
		[ -n "${c#*:}" ] && echo "ca_file = ${c#*:}"
		n=$((n + 1))
	done
} >"$D/tallygw.conf"

# --- what -n refuses ------------------------------------------------

"$GW" -n -f "$D/tallygw.conf" 2>"$D/n.err"
expect "tallygw -n: the configuration with ca_file is good" "$?" 0
sed "s,^ca_file = otherca.pem,ca_file = nothere.pem," "$D/tallygw.conf" \
    >"$D/missing.conf"
out=$("$GW" -n -f "$D/missing.conf" 2>&1)
expect "a missing ca_file is refused (exit 1)" "$?" 1
expect_match "naming the central and the file" "$out" \
    "central wrongca: ca_file $D/nothere.pem: No such file"
sed "s,^ca_file = otherca.pem,ca_file = srv.csr," "$D/tallygw.conf" \
    >"$D/junk.conf"
expect_match "a ca_file without a certificate is refused" \
    "$("$GW" -n -f "$D/junk.conf" 2>&1)" 'srv.csr: no PEM certificate'
printf '[central plain]\nurl = http://127.0.0.1:1/\nca_file = ca.pem\n' |
    cat "$D/tallygw.conf" - >"$D/plain.conf"
expect_match "ca_file for an http:// url is refused" \
    "$("$GW" -n -f "$D/plain.conf" 2>&1)" \
    'plain.conf:[0-9]+: ca_file: only for an https:// url'

# --- one report, five centrals ---------------------------------------

t_bg "$GW" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
if wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_ok "the gateway is ready"
else
	t_fail "the gateway is ready"
	tail -20 "$D/gw.err" | sed 's/^/#   /'
fi
expect_match "started as root without user: a warning in the log" \
    "$(cat "$D/gw.err")" 'running as root: set user = '

X=3201012001001
code=$("$CTL" card --key "$D/root.key" --tps $X --rows 1 |
    sed -n 's/^1 //p')
timeout 10 "$SIM" ctl --dir "$D/sim" inject --from 081299990088 --to 0 \
    "PPWP $X 1 255 120 95 36 251 4 $code" >/dev/null
db() { sqlite3 "$D/gw/tallygw.db" "$@"; }
state() { db "SELECT state FROM forwards WHERE central = '$1'"; }
wait_for 30 sh -c "[ \"\$(sqlite3 '$D/gw/tallygw.db' \"SELECT count(*)
    FROM forwards WHERE state = 'acked'\")\" = 2 ]"
expect "forwarded to the central whose CA is in ca_file" "$(state good)" \
    acked
expect "forwarded to the central pinned by its own certificate" \
    "$(state pinned)" acked
expect_match "the receiver holds the report (once, the second a \
duplicate)" "$(timeout 10 "$SIM" central --dir "$D/c" --ctl stats)" \
    '^stored 1 duplicates 1 rejected 0 '
# The refused ones: tried, and waiting to be tried again.
wait_for 30 sh -c "[ \"\$(sqlite3 '$D/gw/tallygw.db' \"SELECT count(*)
    FROM forwards WHERE state = 'retry_wait' AND attempts > 0\")\" = 3 ]"
# A retry (1 s later, then 2 s...) may be in flight by now: sending,
# with the reason of the attempt before it still in the row.
for c in wrongca wrongname system; do
	expect_match "not forwarded to $c: it stays queued" "$(state $c)" \
	    '^(retry_wait|sending)$'
done
err() { db "SELECT error FROM forwards WHERE central = '$1'"; }
expect_match "wrongca: the issuer is unknown" "$(err wrongca)" \
    '^TLS: .*certificate verify failed \(unable to get local issuer certificate\)$'
expect_match "wrongname: the name does not match" "$(err wrongname)" \
    '^TLS: .*certificate verify failed \(IP address mismatch\)$'
expect_match "system: the system's CAs do not know the test CA" \
    "$(err system)" '\(unable to get local issuer certificate\)$'
expect_match "the log says why, per central" \
    "$(grep -c 'forward to \(wrongca\|wrongname\|system\): sending -> retry_wait (outage: TLS:' "$D/gw.err")" \
    '^([3-9]|[1-9][0-9]+)$'
# (the front may log a refused handshake a moment after the gateway)
seen() {
	for n in 3 4 5; do
		grep -q "^$(port $n) handshake failed" "$D/front.out" || return 1
	done
}
wait_for 10 seen
expect "the TLS front saw each refused handshake" "$?" 0
expect "no byte of a refused connection reaches the receiver" \
    "$(for n in 3 4 5; do grep "^$(port $n) through" "$D/front.out"; done)" ""

finish
