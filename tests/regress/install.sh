#!/bin/sh
# `make install DESTDIR=...' and what it installs, run as an
# administrator would run it.
#
# The tree: every binary, man page, web asset, the example config, the
# systemd unit and the sysusers file, where PREFIX, SBINDIR and
# SYSCONFDIR say. The man pages pass mandoc's lint and say what the
# programs do (tallygw's synopsis is its usage, every key tallygw
# prints is in tallygw.conf(5), every tallyctl command in tallyctl(8)).
# The unit passes `systemd-analyze verify' (its commands and man pages
# taken from the tree) and carries the hardening; systemd-sysusers,
# on a copy of /etc, makes the user tallygw in dialout.
# Then the installed tallygw, with the installed example config adapted
# to a temporary state directory, started by root with `user =' a
# throwaway user in dialout, against tallysim: after start-up it and
# its modem workers run as that user with no capability left, its
# state is that user's, and it still answers an officer's SMS and
# forwards the report. TAP.

. tests/regress/lib.sh

BB=$(cd "$B" 2>/dev/null && pwd)
D=$(mktemp -d /tmp/install.XXXXXX)
D=$(cd "$D" && pwd -P)
R=$D/root
TU=
cleanup() {
	t_cleanup
	if [ -n "$TU" ]; then
		userdel "$TU" 2>/dev/null
		groupdel "$TU" 2>/dev/null
	fi
	rm -rf "$D"
}
t_trap cleanup

if [ ! -x "$BB/tallygw" ] || [ ! -x "$BB/tallysim" ]; then
	t_fail "$B/tallygw and $B/tallysim are built"
	finish
	exit 1
fi

# --- the tree -------------------------------------------------------

make --no-print-directory -s B="$BB" DESTDIR="$R" install \
    >"$D/make.out" 2>&1
rc=$?
expect "make install DESTDIR=... succeeds" "$rc" 0
[ "$rc" -ne 0 ] && sed 's/^/#   /' "$D/make.out" | tail -20

P=$R/usr/local
missing=
for f in sbin/tallygw sbin/tallygw-modem sbin/tallyctl bin/tallysim \
    share/man/man8/tallygw.8 share/man/man5/tallygw.conf.5 \
    share/man/man8/tallyctl.8 share/man/man1/tallysim.1 \
    share/tallygw/mac-helper.html share/tallygw/election-2024.conf \
    share/doc/tallygw/examples/tallygw.conf share/doc/tallygw/tallygw.md \
    lib/systemd/system/tallygw.service lib/sysusers.d/tallygw.conf; do
	[ -s "$P/$f" ] || missing="$missing $f"
done
expect "every file is installed under PREFIX" "${missing:-none}" none
expect "the programs are executable" \
    "$(for f in sbin/tallygw sbin/tallygw-modem sbin/tallyctl bin/tallysim; do
	[ -x "$P/$f" ] || echo "$f"; done)" ""
expect "the configuration directory is made" \
    "$(test -d "$R/etc/tallygw" && echo yes)" yes
if [ -d gateway/web ]; then
	expect "the web assets are installed" \
	    "$(cd gateway/web && find . -type f | while read -r f; do
		cmp -s "$f" "$P/share/tallygw/web/$f" || echo "$f"; done)" ""
fi
expect "the installed binaries are the built ones" \
    "$(cmp "$BB/tallygw" "$P/sbin/tallygw" && echo same)" same

# The directories a Debian administrator sets.
make --no-print-directory -s B="$BB" DESTDIR="$D/usr" PREFIX=/usr \
    SYSCONFDIR=/opt/etc install >"$D/make2.out" 2>&1
expect "make install PREFIX=/usr succeeds" "$?" 0
expect "PREFIX=/usr: the daemon in /usr/sbin, the unit in /usr/lib" \
    "$(test -x "$D/usr/usr/sbin/tallygw" &&
    test -f "$D/usr/usr/lib/systemd/system/tallygw.service" && echo yes)" yes
expect_match "the unit names SBINDIR and SYSCONFDIR" \
    "$(grep '^ExecStart=' "$D/usr/usr/lib/systemd/system/tallygw.service")" \
    '^ExecStart=/usr/sbin/tallygw -d -f /opt/etc/tallygw/tallygw.conf$'

# --- the man pages --------------------------------------------------

for m in man8/tallygw.8 man5/tallygw.conf.5 man8/tallyctl.8 man1/tallysim.1; do
	out=$(mandoc -Tlint -W warning "$P/share/man/$m" 2>&1)
	expect "mandoc -Tlint: $m is clean" "$?:$out" "0:"
	[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
done
# A page as text (mandoc's overstrikes removed).
man8() { mandoc -Tascii "$P/share/man/$1" | sed 's/.\x08//g'; }

# tallygw(8)'s synopsis is tallygw's own usage.
usage=$("$P/sbin/tallygw" -h 2>&1 | sed -n 's/^usage: //p')
expect_match "tallygw has a usage line" "$usage" '^tallygw '
expect "tallygw(8)'s synopsis is the usage" \
    "$(man8 man8/tallygw.8 | sed -n '/^SYNOPSIS/{n;p;}' | sed 's/^ *//')" \
    "$usage"

# Every key tallygw prints (every section, defaults included) is in
# tallygw.conf(5).
printf 'secret-of-at-least-16\n' >"$D/ussd.secret"
chmod 600 "$D/ussd.secret"
"$P/sbin/tallyctl" keygen -o "$D/root.key"
t_sign_pair "$D"
cat >"$D/keys.conf" <<EOF
[gateway]
name = keys
state = $D/unused
key = $D/root.key
sign_key = $D/gateway.sec
[modem m]
device = /dev/null
number = +6281200000000
[central c]
url = http://127.0.0.1:1/
[ussd]
listen = 127.0.0.1:1
secret = $D/ussd.secret
EOF
keys=$("$P/sbin/tallygw" -n -v -f "$D/keys.conf" 2>/dev/null |
    sed -n 's/^\([a-z_]*\) = .*/\1/p; s/^# \([a-z_]*\): .*/\1/p' | sort -u)
expect_match "tallygw -n -v prints the keys" "$(echo "$keys" | wc -l)" \
    '^[4-9][0-9]$'
expect "every key is in tallygw.conf(5)" \
    "$(for k in $keys; do
	grep -Eq "^\.It Cm $k( |\$)|, Cm $k( |\$)" \
	    "$P/share/man/man5/tallygw.conf.5" || echo "$k"; done)" ""

# Every tallyctl command is in tallyctl(8).
cmds=$("$P/sbin/tallyctl" -h | sed -n 's/^  \([a-z]*\).*/\1/p' | sort -u)
expect_match "tallyctl -h lists its commands" "$cmds" 'keygen'
expect "every tallyctl command is in tallyctl(8)" \
    "$(for c in $cmds; do
	grep -q "^\.It Ic $c\( \|\$\)" "$P/share/man/man8/tallyctl.8" ||
	    echo "$c"; done)" ""
expect "tallysim(1) shows run, world, ctl and central" \
    "$(man8 man1/tallysim.1 | sed -n '/^SYNOPSIS/,/^DESCRIPTION/p' |
    sed -n 's/^ *tallysim \([a-z]*\) .*/\1/p' | sort -u | tr '\n' ' ')" \
    "central ctl run world "

# --- the unit and the user ------------------------------------------

U=$P/lib/systemd/system/tallygw.service
for kv in 'User=tallygw' 'SupplementaryGroups=dialout' \
    'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
    'NoNewPrivileges=yes' 'StateDirectory=tallygw' \
    'RuntimeDirectory=tallygw' 'CapabilityBoundingSet=' \
    'ExecStart=/usr/local/sbin/tallygw -d -f /etc/tallygw/tallygw.conf' \
    'ExecReload=/bin/kill -HUP $MAINPID'; do
	expect "the unit says $kv" "$(grep -cxF "$kv" "$U")" 1
done
# verify: its commands and Documentation= taken from the tree.
sed "s,/usr/local/sbin/,$P/sbin/,g" "$U" >"$D/tallygw.service"
out=$(MANPATH=$P/share/man systemd-analyze verify "$D/tallygw.service" 2>&1)
rc=$?
expect "systemd-analyze verify: the unit is clean" "$rc:$out" "0:"
[ -n "$out" ] && printf '%s\n' "$out" | sed 's/^/#   /'
# ... and it does see a mistake.
{ cat "$D/tallygw.service"; echo "ProtectSytem=strict"; } >"$D/bad.service"
expect_match "systemd-analyze verify names an unknown key" \
    "$(systemd-analyze verify "$D/bad.service" 2>&1)" 'ProtectSytem'

mkdir -p "$D/sysroot/etc"
cp -p /etc/passwd /etc/group /etc/shadow /etc/gshadow "$D/sysroot/etc/" \
    2>/dev/null
grep -q '^dialout:' "$D/sysroot/etc/group" ||
    echo 'dialout:x:20:' >>"$D/sysroot/etc/group"
# (as if this machine had no user tallygw yet)
sed -i -e '/^tallygw:/d' -e '/^dialout:/s/\([:,]\)tallygw\(,\|$\)/\1/' \
    -e '/^dialout:/s/,$//' "$D/sysroot/etc/passwd" "$D/sysroot/etc/group"
systemd-sysusers --root="$D/sysroot" "$P/lib/sysusers.d/tallygw.conf" \
    >/dev/null 2>&1
expect "systemd-sysusers accepts the file" "$?" 0
expect_match "it makes the user tallygw" \
    "$(grep '^tallygw:' "$D/sysroot/etc/passwd")" \
    '^tallygw:x:[0-9]+:[0-9]+:[^:]*:/var/lib/tallygw:'
expect_match "in the group dialout" \
    "$(grep '^dialout:' "$D/sysroot/etc/group")" '[:,]tallygw(,|$)'

# --- the installed gateway, started by root -------------------------

if [ "$(id -u)" -ne 0 ] || ! command -v useradd >/dev/null 2>&1; then
	echo "# not root, or no useradd: the privilege drop is not tested"
	finish
	exit $?
fi
TU=tgwt$$
useradd --system --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --user-group --groups dialout "$TU"
expect "a throwaway user in dialout" "$?" 0
TUID=$(id -u "$TU")
TGID=$(id -g "$TU")
DGID=$(getent group dialout | cut -d: -f3)
chmod 711 "$D"

SIM=$P/bin/tallysim
"$SIM" run --dir "$D/sim" --modems 2 --seed 7 >"$D/sim.out" \
    2>"$D/sim.err" &
t_track $!
wait_for 30 grep -q '^ready$' "$D/sim.out"
"$SIM" central --dir "$D/c" --pubkey "$D/gateway.pub" >"$D/c.out" \
    2>"$D/c.err" &
t_track $!
wait_for 30 grep -q '^ready$' "$D/c.out"
expect "tallysim and its central receiver run" \
    "$(grep -c '^ready$' "$D/sim.out" "$D/c.out" | grep -c ':1$')" 2

# The modems' ports, as a udev rule gives them: to the group dialout.
AS="setpriv --reuid=$TUID --regid=$TGID --init-groups"
PTS=$(readlink "$D/sim/modem0")
expect "the user cannot open a modem's port before it is given" \
    "$($AS sh -c "exec 3<>$PTS" 2>/dev/null && echo opened)" ""
for i in 0 1; do
	chgrp dialout "$(readlink "$D/sim/modem$i")"
	chmod 660 "$(readlink "$D/sim/modem$i")"
done
expect "through dialout the user can" \
    "$($AS sh -c "exec 3<>$PTS" 2>/dev/null && echo opened)" opened

# The example config, adapted: our state, keys, user, modems, central.
{
	sed -e "s,^state = .*,state = $D/state," \
	    -e "s,^key = .*,key = $D/root.key," \
	    -e "s,^sign_key = .*,sign_key = $D/gateway.sec," \
	    -e "s,^user = .*,user = $TU," \
	    -e '/^registry = /d' -e '/^kpps = /d' -e '/^\[modem /,$d' \
	    "$P/share/doc/tallygw/examples/tallygw.conf"
	i=0
	timeout 10 "$SIM" ctl --dir "$D/sim" modems --json |
	while read -r line; do
		num=$(printf '%s' "$line" |
		    sed -n 's/.*"msisdn":"\([^"]*\)".*/\1/p')
		printf '[modem m%s]\ndevice = %s\nnumber = %s\n' "$i" \
		    "$D/sim/modem$i" "$num"
		i=$((i + 1))
	done
	printf '[central sim]\nurl = http://127.0.0.1:%s/v1/reports\n' \
	    "$(cat "$D/c/central.port")"
} >"$D/tallygw.conf"
chmod 644 "$D/tallygw.conf"
"$P/sbin/tallygw" -n -f "$D/tallygw.conf" >"$D/n.out" 2>&1
expect "tallygw -n: the adapted example config is good" "$?" 0
[ -s "$D/n.out" ] && sed 's/^/#   /' "$D/n.out" | grep -v 'configuration OK'
expect "tallygw -n with a user: no warning about root" \
    "$(grep -c 'running as root' "$D/n.out")" 0
sed '/^user = /d' "$D/tallygw.conf" >"$D/root.conf"
expect_match "tallygw -n as root without user: a warning" \
    "$("$P/sbin/tallygw" -n -f "$D/root.conf" 2>&1)" \
    'running as root: set user = '
sed "s/^user = .*/user = nosuchuser$$/" "$D/tallygw.conf" >"$D/nouser.conf"
out=$("$P/sbin/tallygw" -n -f "$D/nouser.conf" 2>&1)
expect "an unknown user is refused (exit 1)" "$?" 1
expect_match "naming it" "$out" "user nosuchuser$$: no such user"

t_bg "$P/sbin/tallygw" -d -f "$D/tallygw.conf" >"$D/gw.out" 2>"$D/gw.err"
G=$!
if wait_for 60 grep -q '^ready$' "$D/gw.out"; then
	t_ok "the installed tallygw starts as root and is ready"
else
	t_fail "the installed tallygw starts as root and is ready"
	tail -20 "$D/gw.err" | sed 's/^/#   /'
fi
# field NAME: a line of the daemon's /proc status, blanks squeezed.
field() {
	sed -n "s/^$1:[[:space:]]*//p" "/proc/$G/status" | tr -s '\t ' '  '
}
expect "it runs as the user (real, effective, saved, fs uid)" \
    "$(field Uid)" "$TUID $TUID $TUID $TUID"
expect "with the user's group" "$(field Gid)" "$TGID $TGID $TGID $TGID"
expect_match "and its groups, dialout among them" "$(field Groups)" \
    "(^| )$DGID( |\$)"
expect "no capability left: no way back to root" \
    "$( (field CapPrm; field CapEff) | sort -u)" 0000000000000000
expect_match "it logged the drop" "$(cat "$D/gw.err")" \
    "running as user $TU \\(uid $TUID, gid $TGID\\)"
workers=$(ps -o uid= --ppid "$G" | tr -d ' ' | sort | uniq -c | tr -s ' ')
# its children: the two workers and the zygote they were forked from
expect "both modem workers and their zygote run as the user" "$workers" \
    " 3 $TUID"
expect "the state directory, store and socket are the user's" \
    "$(stat -c %U "$D/state" "$D/state/tallygw.db" "$D/state/tallygw.sock" |
    sort -u)" "$TU"
expect "the state directory is not open to others" \
    "$(stat -c %a "$D/state")" 750

# It still serves: an officer's report, answered and forwarded.
X=3201012001001
code=$("$P/sbin/tallyctl" card --key "$D/root.key" --tps $X --rows 1 |
    sed -n 's/^1 //p')
REP="PPWP $X 1 255 120 95 36 251 4 $code"
expect_match "the report verifies" \
    "$("$P/sbin/tallyctl" verify --key "$D/root.key" "$REP")" '^OK '
PH=081299990077
timeout 10 "$SIM" ctl --dir "$D/sim" inject --from $PH --to 0 "$REP" \
    >/dev/null
wait_for 30 sh -c "timeout 5 '$SIM' ctl --dir '$D/sim' inbox --phone $PH |
    grep -q DITERIMA"
expect "the officer gets the receipt" "$?" 0
wait_for 30 sh -c "timeout 5 '$SIM' ctl --dir '$D/c' central |
    grep -q '\"tps\":\"$X\"'"
expect "the report reaches the central system" "$?" 0
st=$(timeout 10 "$P/sbin/tallyctl" status --state "$D/state")
expect "tallyctl status through the user's socket" \
    "$(echo "$st" | t_kv received) $(echo "$st" | t_kv forwarded)" "1 1"

kill -TERM "$G"
wait_for 20 sh -c "! kill -0 $G 2>/dev/null"
expect "it stops on SIGTERM" "$?" 0
expect "the user removes its socket at the stop" \
    "$(test -e "$D/state/tallygw.sock" && echo left)" ""

finish
