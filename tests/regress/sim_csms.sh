#!/bin/sh
# AT+CSMS=1 and AT+CNMA in tallysim, as 3GPP 27.005 3.2.1 and 3.4.4 say,
# spoken as raw AT on the simulated modems' ptys (a small python3
# client): CSMS test, set and read; a +CMT held until AT+CNMA, the next
# one released by it (AT+CNMA, =0, =1), a +CDS held the same way;
# AT+CNMA with service 0 or nothing to acknowledge gives +CMS ERROR: 340;
# AT+CNMA=2 makes the network send the message again; with no
# acknowledgement the network keeps the message and sends it again
# later, and CNMI <mt> and <ds> fall back to 0; ATZ and unplugging reset
# the service to 0; service 0 needs no acknowledgement, as before. And
# a message the network kept for a full SIM comes as soon as AT+CMGD
# frees a slot.
# TAP; every wait is time-boxed.

B=${B:-build}
. tests/regress/lib.sh
SIM=$(cd "$B" 2>/dev/null && pwd)/tallysim

if ! command -v python3 >/dev/null 2>&1; then
	echo "not ok 1 - python3 is not installed"
	exit 1
fi
if [ ! -x "$SIM" ]; then
	echo "not ok 1 - $B/tallysim not built"
	exit 1
fi

T=$(mktemp -d /tmp/sim_csms.XXXXXX)
PID=
cleanup() {
	t_cleanup
	if [ "$T_FAILED" -ne 0 ] && [ -f "$T/at.log" ]; then
		echo "# at.log (tail):"
		tail -60 "$T/at.log" | sed 's/^/# /'
		echo "# sim.err (tail):"
		tail -30 "$T/sim.err" | sed 's/^/# /'
	fi
	rm -rf "$T"
}
t_trap cleanup

"$SIM" run --dir "$T/run" --modems 2 --profile instant --seed 7 -v \
    >"$T/sim.out" 2>"$T/sim.err" &
PID=$!
t_track "$PID"
if ! wait_for 15 grep -q '^ready$' "$T/sim.out"; then
	t_fail "tallysim run prints ready"
	finish
	exit 1
fi

# The client: prints "PASS what" or "FAIL what: why" per check; the
# dialogue goes to at.log.
cat >"$T/csms.py" <<'EOF'
import os, re, select, subprocess, sys, time, tty

SIM, RUN, LOG = sys.argv[1], sys.argv[2], sys.argv[3]
log = open(LOG, 'w')
GSM = ('@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !"#¤%&\'()*+,-./0123456789'
       ':;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyz'
       'äöñüà')


def check(what, cond, why=''):
    print(('PASS %s' if cond else 'FAIL %s: ' + why) % what, flush=True)
    return cond


def ctl(*args):
    r = subprocess.run([SIM, 'ctl', '--dir', RUN] + list(args),
                       capture_output=True, text=True, timeout=20)
    return r.stdout


def inject(modem, text):
    ctl('inject', '--from', '081211112222', '--to', str(modem), text)


def septets(ud, n, skip_bits=0):
    bits = int.from_bytes(ud[::-1], 'big')
    return ''.join(GSM[(bits >> (skip_bits + 7 * i)) & 0x7f]
                   for i in range(n))


def deliver_head(hexpdu):
    """An SMS-DELIVER's octets (with its SMSC part) and the index of its
    PID, past the first octet and the originating address."""
    b = bytes.fromhex(hexpdu)
    i = 1 + b[0] + 1
    return b, i + 2 + (b[i] + 1) // 2


def deliver_scts(hexpdu):
    """The SMSC time stamp of an SMS-DELIVER, YYMMDDhhmmssTZ: its
    semi-octets in reading order, so that the text sorts as the time."""
    b, i = deliver_head(hexpdu)
    return ''.join('%x%x' % (o & 0xf, o >> 4) for o in b[i + 2:i + 9])


def deliver_text(hexpdu):
    """The text of a 7-bit SMS-DELIVER (with its SMSC part)."""
    b, i = deliver_head(hexpdu)
    fo = b[1 + b[0]]
    dcs = b[i + 1]
    i += 2 + 7                      # PID, DCS, time stamp
    udl, ud = b[i], b[i + 1:]
    if dcs != 0:
        return 'hex:' + ud.hex()
    skip = 0
    if fo & 0x40:                   # a header: skip it, and its fill bits
        hl = (ud[0] + 1) * 8
        skip = hl + (7 - hl % 7) % 7
        udl -= (skip) // 7
    return septets(ud, udl, skip)


def submit_srr(to, text):
    """A 7-bit SMS-SUBMIT asking for a status report; (hex, length)."""
    digits = to.lstrip('+')
    sem = digits + ('F' if len(digits) % 2 else '')
    addr = ''.join(sem[k + 1] + sem[k] for k in range(0, len(sem), 2))
    bits = 0
    for k, c in enumerate(text):
        bits |= GSM.index(c) << (7 * k)
    ud = bits.to_bytes((7 * len(text) + 7) // 8, 'little')
    tpdu = ('3100%02X91%s0000AA%02X' % (len(digits), addr, len(text)) +
            ud.hex().upper())
    return '00' + tpdu, len(tpdu) // 2


class Port:
    FINAL = re.compile(r'^(OK|ERROR|\+CM[ES] ERROR: .*)$')

    def __init__(self, name):
        self.name = name
        self.open()

    def open(self):
        self.fd = os.open(os.path.join(RUN, self.name), os.O_RDWR | os.O_NOCTTY)
        tty.setraw(self.fd)
        self.buf = b''
        self.urcs = []              # (kind, argument, pdu or None)

    def close(self):
        os.close(self.fd)

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], max(timeout, 0))
        if not r:
            return False
        data = os.read(self.fd, 4096)
        log.write('%s < %r\n' % (self.name, data))
        log.flush()
        self.buf += data
        return True

    def _line(self, deadline):
        """The next non-empty line, or None at the deadline."""
        while True:
            while b'\r\n' in self.buf or b'\n' in self.buf:
                line, _, self.buf = self.buf.partition(b'\n')
                line = line.strip(b'\r\n ').decode('latin-1')
                if line:
                    return line
            if not self._read(deadline - time.monotonic()):
                if time.monotonic() >= deadline:
                    return None

    def _urc(self, line, deadline):
        """If line is an unsolicited result, keep it; True if it was."""
        m = re.match(r'^\+(CMT|CDS): ?(.*)$', line)
        if m:
            self.urcs.append((m.group(1), m.group(2),
                              self._line(deadline + 5)))
            return True
        m = re.match(r'^\+(CMTI|CDSI): ?(.*)$', line)
        if m:
            self.urcs.append((m.group(1), m.group(2), None))
            return True
        return False

    def cmd(self, line, timeout=10):
        """Send a command line; its information lines and final result."""
        log.write('%s > %s\n' % (self.name, line))
        os.write(self.fd, line.encode() + b'\r')
        deadline = time.monotonic() + timeout
        info = []
        while True:
            l = self._line(deadline)
            if l is None:
                return info, 'TIMEOUT'
            if self._urc(l, deadline):
                continue
            if self.FINAL.match(l):
                return info, l
            info.append(l)

    def send_pdu(self, hexpdu, length):
        log.write('%s > AT+CMGS=%d / %s\n' % (self.name, length, hexpdu))
        os.write(self.fd, b'AT+CMGS=%d\r' % length)
        deadline = time.monotonic() + 10
        while b'>' not in self.buf:
            if not self._read(deadline - time.monotonic()):
                return [], 'TIMEOUT'
        self.buf = self.buf[self.buf.index(b'>') + 1:]
        os.write(self.fd, hexpdu.encode() + b'\x1a')
        info = []
        while True:
            l = self._line(deadline)
            if l is None:
                return info, 'TIMEOUT'
            if self._urc(l, deadline):
                continue
            if self.FINAL.match(l):
                return info, l
            info.append(l)

    def urc(self, kinds, timeout):
        """The next unsolicited result of these kinds within timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for k, u in enumerate(self.urcs):
                if u[0] in kinds:
                    return self.urcs.pop(k)
            l = self._line(deadline)
            if l is None:
                return None
            if not self._urc(l, deadline):
                log.write('%s: stray line %r\n' % (self.name, l))

    def cmt(self, timeout):
        """The text of the next +CMT, or None."""
        u = self.urc(('CMT',), timeout)
        if u is None or u[2] is None:
            return None
        return deliver_text(u[2])

    def quiet(self, seconds):
        """No +CMT/+CDS for this long: True."""
        return self.urc(('CMT', 'CDS'), seconds) is None


def expect(what, got, want):
    return check(what, got == want, 'got %r, want %r' % (got, want))


def wait_link(name, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if os.path.exists(os.path.join(RUN, name)):
            return True
        time.sleep(0.1)
    return False


m0 = Port('modem0')
expect('ATE0', m0.cmd('ATE0')[1], 'OK')
expect('AT+CMEE=1', m0.cmd('AT+CMEE=1')[1], 'OK')

# --- CSMS: test, read, set ------------------------------------------------
expect('AT+CSMS=? lists services (0,1)', m0.cmd('AT+CSMS=?'),
       (['+CSMS: (0,1)'], 'OK'))
expect('AT+CSMS? at power-on: service 0', m0.cmd('AT+CSMS?'),
       (['+CSMS: 0,1,1,1'], 'OK'))
expect('AT+CNMA with service 0: +CMS ERROR: 340', m0.cmd('AT+CNMA')[1],
       '+CMS ERROR: 340')

# --- service 0: +CMT needs no acknowledgement, as before ---------------------
expect('AT+CNMI=1,2,0,1,0', m0.cmd('AT+CNMI=1,2,0,1,0')[1], 'OK')
inject(0, 'nol satu')
inject(0, 'nol dua')
expect('service 0: the first +CMT comes', m0.cmt(10), 'nol satu')
expect('service 0: the second comes without AT+CNMA', m0.cmt(10), 'nol dua')
expect('service 0: AT+CNMA after a +CMT is still 340', m0.cmd('AT+CNMA')[1],
       '+CMS ERROR: 340')

# --- service 1 ------------------------------------------------------------------
expect('AT+CSMS=1 answers +CSMS: 1,1,1', m0.cmd('AT+CSMS=1'),
       (['+CSMS: 1,1,1'], 'OK'))
expect('AT+CSMS? then reports service 1', m0.cmd('AT+CSMS?'),
       (['+CSMS: 1,1,1,1'], 'OK'))
expect('AT+CSMS=2: +CMS ERROR: 303', m0.cmd('AT+CSMS=2')[1], '+CMS ERROR: 303')
expect('AT+CNMA=? lists (0-2)', m0.cmd('AT+CNMA=?'), (['+CNMA: (0-2)'], 'OK'))
expect('AT+CNMA with nothing to acknowledge: 340', m0.cmd('AT+CNMA')[1],
       '+CMS ERROR: 340')

inject(0, 'pesan satu')
inject(0, 'pesan dua')
inject(0, 'pesan tiga')
expect('service 1: the first +CMT comes', m0.cmt(10), 'pesan satu')
check('the second is held until AT+CNMA (3 s)', m0.quiet(3),
      'a +CMT/+CDS came before the acknowledgement')
expect('AT+CNMA acknowledges it', m0.cmd('AT+CNMA')[1], 'OK')
expect('AT+CNMA releases the second +CMT', m0.cmt(10), 'pesan dua')
check('the third is held until AT+CNMA=0 (1.5 s)', m0.quiet(1.5),
      'a +CMT/+CDS came before the acknowledgement')
expect('AT+CNMA=0 acknowledges it', m0.cmd('AT+CNMA=0')[1], 'OK')
expect('AT+CNMA=0 releases the third +CMT', m0.cmt(10), 'pesan tiga')
expect('AT+CNMA=1 acknowledges it', m0.cmd('AT+CNMA=1')[1], 'OK')
expect('a second AT+CNMA: nothing to acknowledge, 340', m0.cmd('AT+CNMA')[1],
       '+CMS ERROR: 340')
check('no +CMT is repeated (1 s)', m0.quiet(1), 'an extra +CMT/+CDS came')

# A status report (+CDS, CNMI ds 1) is held and acknowledged the same way.
pdu, n = submit_srr('+6281298765432', 'laporan')
info, res = m0.send_pdu(pdu, n)
check('AT+CMGS with a status report request', res == 'OK' and
      any(l.startswith('+CMGS: ') for l in info), '%r %r' % (info, res))
u = m0.urc(('CDS',), 10)
check('the status report comes as +CDS', u is not None and u[2] is not None,
      'no +CDS')
inject(0, 'setelah laporan')
check('a +CMT is held behind the unacknowledged +CDS (2 s)', m0.quiet(2),
      'a +CMT came before the +CDS was acknowledged')
expect('AT+CNMA acknowledges the +CDS', m0.cmd('AT+CNMA')[1], 'OK')
expect('and releases the +CMT', m0.cmt(10), 'setelah laporan')
expect('AT+CNMA acknowledges that', m0.cmd('AT+CNMA')[1], 'OK')

# AT+CNMA=2 (RP-ERROR): the network keeps the message, sends it again.
inject(0, 'ditolak sekali')
expect('+CMT of a message to refuse', m0.cmt(10), 'ditolak sekali')
t_refused = time.monotonic()
expect('AT+CNMA=2 refuses it', m0.cmd('AT+CNMA=2')[1], 'OK')

# --- modem1: ATZ and unplugging reset the service ---------------------------
m1 = Port('modem1')
m1.cmd('ATE0')
m1.cmd('AT+CMEE=1')
expect('modem1: AT+CSMS=1', m1.cmd('AT+CSMS=1')[1], 'OK')
expect('modem1: AT+CNMI=1,2,0,1,0', m1.cmd('AT+CNMI=1,2,0,1,0')[1], 'OK')
inject(1, 'sebelum reset')
expect('modem1: +CMT before the reset', m1.cmt(10), 'sebelum reset')
m1.cmd('ATZ')
m1.cmd('ATE0')
m1.cmd('AT+CMEE=1')
expect('after ATZ: service 0', m1.cmd('AT+CSMS?'), (['+CSMS: 0,1,1,1'], 'OK'))
expect('after ATZ: AT+CNMA is 340', m1.cmd('AT+CNMA')[1], '+CMS ERROR: 340')
# Never acknowledged: the network sends it again; CNMI is 2,1 after ATZ,
# so it is stored on the SIM with +CMTI.
u = m1.urc(('CMTI',), 15)
check('the message unacknowledged at ATZ comes again (+CMTI)', u is not None,
      'no +CMTI within 15 s')
if u is not None:
    info, res = m1.cmd('AT+CMGR=%s' % u[1].split(',')[-1])
    expect('it is the same message', deliver_text(info[-1]) if len(info) > 1
           else None, 'sebelum reset')
    m1.cmd('AT+CMGD=%s' % u[1].split(',')[-1])

expect('modem1: AT+CSMS=1 again', m1.cmd('AT+CSMS=1')[1], 'OK')
m1.close()
ctl('fault', '--modem', '1', 'unplug')
ctl('fault', '--modem', '1', 'replug')
check('modem1 is plugged in again', wait_link('modem1', 10), 'no link')
m1.open()
m1.cmd('ATE0')
expect('after unplugging: service 0', m1.cmd('AT+CSMS?'),
       (['+CSMS: 0,1,1,1'], 'OK'))
m1.close()

# --- back on modem0: the refused message came again ------------------------
expect('the message refused with AT+CNMA=2 comes again', m0.cmt(15),
       'ditolak sekali')
check('after the network retry delay (>= 4 s)',
      time.monotonic() - t_refused >= 4, 'after %.1f s' %
      (time.monotonic() - t_refused))
expect('AT+CNMA acknowledges it this time', m0.cmd('AT+CNMA')[1], 'OK')

# --- no acknowledgement at all ------------------------------------------------
inject(0, 'tanpa ack')
expect('+CMT of a message left unacknowledged', m0.cmt(10), 'tanpa ack')
t0 = time.monotonic()
inject(0, 'antre di belakang')
check('the next one is held meanwhile (2 s)', m0.quiet(2), 'it came')
cnmi = None
while time.monotonic() - t0 < 30:
    info, res = m0.cmd('AT+CNMI?')
    if info and info[0] == '+CNMI: 1,0,0,0,0':
        cnmi = time.monotonic() - t0
        break
    time.sleep(0.5)
check('without AT+CNMA, CNMI <mt> and <ds> fall back to 0 (27.005 3.4.4)',
      cnmi is not None, 'CNMI still %r after 30 s' % (info,))
check('after the acknowledgement timeout (13-20 s)',
      cnmi is not None and 13 <= cnmi <= 20, 'after %r s' % (cnmi,))
print('# CNMI fell back after %.1f s' % (cnmi or 0), flush=True)
# Routing to the TE again: the network sends the message again.
expect('AT+CNMI=1,2,0,1,0 again', m0.cmd('AT+CNMI=1,2,0,1,0')[1], 'OK')
expect('the unacknowledged message comes again (not lost)', m0.cmt(15),
       'tanpa ack')
expect('AT+CNMA acknowledges it', m0.cmd('AT+CNMA')[1], 'OK')
# The one held behind it met CNMI mt 0: stored on the SIM, not lost.
info, res = m0.cmd('AT+CMGL=4')
texts = [deliver_text(l) for l in info if not l.startswith('+CMGL')]
expect('the message held behind it is on the SIM', texts,
       ['antre di belakang'])
m0.cmd('AT+CMGD=1,4')
check('nothing more comes (1 s)', m0.quiet(1), 'an extra +CMT/+CDS came')
stats = ctl('stats')
check('the network lost nothing', re.search(r'^lost 0$', stats, re.M)
      is not None, stats.replace('\n', ' '))

# A freed slot: the network delivers what it kept for want of room at
# once (as after the phone's "memory available"), not at its next retry.
def stat(name):
    m = re.search(r'^%s (\d+)$' % name, ctl('stats'), re.M)
    return int(m.group(1)) if m else -1


def used():
    info, _ = m0.cmd('AT+CPMS?')
    m = re.search(r'"SM",(\d+),(\d+)', ' '.join(info))
    return (int(m.group(1)), int(m.group(2))) if m else (-1, -1)


m0.cmd('AT+CNMI=0,0,0,0,0')
m0.cmd('AT+CMGD=1,4')
cap = used()[1]
for i in range(cap + 1):
    inject(0, 'isi %d' % i)
deadline = time.monotonic() + 20
while time.monotonic() < deadline and not (used()[0] == cap and
                                           stat('queued') >= 1):
    time.sleep(0.2)
r0 = stat('retries')
deadline = time.monotonic() + 10
while time.monotonic() < deadline and stat('retries') == r0:
    time.sleep(0.05)
m0.cmd('AT+CMGD=1')
t0 = time.monotonic()
while time.monotonic() < t0 + 4 and used()[0] != cap:
    time.sleep(0.05)
took = time.monotonic() - t0
check('a message kept for a full SIM comes as soon as a slot is freed',
      used()[0] == cap and took < 2, 'SIM %r after %.1f s' % (used(), took))
print('# it came %.2f s after AT+CMGD' % took, flush=True)
info, res = m0.cmd('AT+CMGR=1')
check('it is the one the network kept',
      any(deliver_text(l) == 'isi %d' % cap for l in info
          if not l.startswith('+CMGR')), repr(info))
m0.cmd('AT+CMGD=1,4')

# One phone's SMS sent at once (a time-scaled night, a player catching
# up) still carry SMSC times a second apart at least, as a real phone's
# do: the gateway orders what it reads by that time.
for i in range(3):
    inject(0, 'sedetik %d' % i)
deadline = time.monotonic() + 10
while time.monotonic() < deadline and used()[0] < 3:
    time.sleep(0.1)
info, res = m0.cmd('AT+CMGL=4')
pdus = sorted((l for l in info if not l.startswith('+CMGL')),
              key=deliver_text)
stamps = [deliver_scts(l) for l in pdus]
expect('three SMS sent at once are on the SIM',
       [deliver_text(l) for l in pdus],
       ['sedetik 0', 'sedetik 1', 'sedetik 2'])
check('each carries its own SMSC second, in the order sent',
      len(set(stamps)) == 3 and [deliver_text(l) for l in
      sorted(pdus, key=deliver_scts)] == [deliver_text(l) for l in pdus],
      repr(stamps))
m0.cmd('AT+CMGD=1,4')
m0.close()
EOF

python3 "$T/csms.py" "$SIM" "$T/run" "$T/at.log" >"$T/result" 2>"$T/py.err"
rc=$?
while IFS= read -r line; do
	case "$line" in
	PASS\ *) t_ok "${line#PASS }" ;;
	FAIL\ *) t_fail "${line#FAIL }" ;;
	\#*) echo "$line" ;;
	esac
done <"$T/result"
if [ $rc -ne 0 ]; then
	t_fail "the AT client ran to its end (exit $rc)"
	sed 's/^/# /' "$T/py.err"
fi
expect "the AT client ran every check" "$(grep -c '^PASS\|^FAIL' "$T/result")" 59
finish
