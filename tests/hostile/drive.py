#!/usr/bin/env python3
"""
drive.py: play the hostile corpus through a running world and judge it.

    python3 drive.py --dir RUNDIR --gw 0,1 --spares 2,3,4,5 CORPUS...

RUNDIR is a `tallysim world` (docs/sim.md): its ctl.sock, its modems,
the gateway's store RUNDIR/gw/tallygw.db and the central receiver's
socket. --gw: the modems the gateway reads; --spares: modems it does
not, which send the corpus's raw PDUs (AT+CMGS, by hand) and receive
the answers to them.

Phase by phase: every message of the phase goes in (SMS through `ctl
inject`, PDUs through the spare modems), then the driver waits until
the store holds as many new messages as the phase has and every phone
(and spare SIM) has as many answers; then the next phase. At the end
it compares, for each entry, the stored message, its reply, what the
phone received and what the central receiver holds with the class the
corpus gives, and prints one line per check:

    check NAME PASSED FAILED

and '# ...' lines naming what failed. Exit status 0 if nothing failed.
"""

import json
import os
import socket
import sqlite3
import sys
import termios
import time
import tty
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proto  # noqa: E402

WAIT = int(os.environ.get("HOSTILE_WAIT", "300"))	# seconds a phase


# --- the simulator's control socket ------------------------------------


class Ctl:
    def __init__(self, rundir):
        self.path = os.path.join(rundir, "ctl.sock")

    @staticmethod
    def word(s):
        b = s.encode("utf-8", "surrogatepass").replace(b"\0", b"\xc0\x80")
        b = (b.replace(b"\\", b"\\\\").replace(b'"', b'\\"')
             .replace(b"\n", b"\\n").replace(b"\t", b"\\t"))
        return b'"' + b + b'"'

    def __call__(self, *words):
        lines = ask(self.path, b" ".join(self.word(w) for w in words))
        if not lines or not (lines[-1] == "OK" or
                             lines[-1].startswith("ERR")):
            raise RuntimeError("ctl %s: no answer" % words[0])
        if lines[-1] != "OK":
            raise RuntimeError("ctl %s: %s" % (words[0], lines[-1]))
        return lines[:-1]

    def json(self, *words):
        return [json.loads(x) for x in self(*words, "--json")]

# --- a spare modem, spoken to as a phone with a modem would -----------


def norm(number):
    """+62... as the network and the gateway write a number."""
    d = "".join(c for c in number if c.isdigit())
    if number.startswith("+"):
        return "+" + d
    if d.startswith("0"):
        return "+62" + d[1:]
    return "+" + d


def submit(da, dcs, udh, ud):
    """An SMS-SUBMIT TPDU (23.040 9.2.2.2), no validity period."""
    digits = da.lstrip("+")
    bcd = digits + ("F" if len(digits) % 2 else "")
    addr = "%02X91" % len(digits) + "".join(bcd[i + 1] + bcd[i]
                                          for i in range(0, len(bcd), 2))
    body = bytes.fromhex(udh) + ud
    first = 0x01 | (0x40 if udh else 0)
    return ("%02X00" % first + addr + "00%02X%02X" % (dcs, len(body)) +
            body.hex().upper())


class Modem:
    def __init__(self, path):
        self.fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        tty.setraw(self.fd)
        termios.tcflush(self.fd, termios.TCIOFLUSH)
        self.buf = b""
        self.cmd("ATE0")
        self.cmd("AT+CMGF=0")

    def read_until(self, pred, secs=20):
        end = time.time() + secs
        while not pred(self.buf):
            if time.time() > end:
                raise RuntimeError("modem: no answer: %r" % self.buf[-80:])
            try:
                d = os.read(self.fd, 4096)
            except BlockingIOError:
                d = b""
            if d:
                self.buf += d
            else:
                time.sleep(0.01)

    def cmd(self, line):
        self.buf = b""
        os.write(self.fd, line.encode() + b"\r")
        self.read_until(lambda b: b"\r\nOK\r\n" in b or b"ERROR" in b)
        if b"ERROR" in self.buf:
            raise RuntimeError("modem: %s: %r" % (line, self.buf))
        return self.buf

    def send(self, tpdu):
        self.buf = b""
        os.write(self.fd, b"AT+CMGS=%d\r" % (len(tpdu) // 2))
        self.read_until(lambda b: b"> " in b or b"ERROR" in b)
        if b"ERROR" in self.buf:
            raise RuntimeError("modem: AT+CMGS: %r" % self.buf)
        self.buf = b""
        os.write(self.fd, b"00" + tpdu.encode() + b"\x1a")
        self.read_until(lambda b: b"\r\nOK\r\n" in b or b"ERROR" in b)
        if b"ERROR" in self.buf:
            raise RuntimeError("modem: PDU refused: %r" % self.buf)

    def close(self):
        os.close(self.fd)

# --- the run --------------------------------------------------------------


class Run:
    def __init__(self, rundir, gw, spares, entries):
        self.dir, self.ctl, self.entries = rundir, Ctl(rundir), entries
        mods = {m["index"]: m for m in self.ctl.json("modems")}
        self.gw = [mods[i] for i in gw]
        self.spares = {"spare%d" % k: mods[i] for k, i in enumerate(spares)}
        self.db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            rundir, "gw", "tallygw.db"), uri=True, timeout=30)
        self.bounds = [self.max_id()]	# phase p: ids in (b[p-1], b[p]]
        self.inbox_marks = [{x["msisdn"]: x["received"]	# before, after
                             for x in self.ctl.json("phones")}]	# phase p
        self.central0 = {(c["tps"], c["seq"]) for c in
                         map(json.loads, central_lines(rundir))}
        self.spare_msgs = {}		# (spare, phase) -> texts received
        self.errors = []

    def sender(self, e):
        if e["from"] in self.spares:
            return self.spares[e["from"]]["msisdn"]
        return norm(e["from"])

    def to(self, e):
        return self.gw[zlib.crc32(self.sender(e).encode()) % len(self.gw)]

    def max_id(self):
        return self.db.execute("SELECT coalesce(max(id), 0) FROM messages"
                               ).fetchone()[0]

    def phase(self, p):
        es = [e for e in self.entries if e["phase"] == p]
        for e in es:
            if e["via"] != "sms":
                continue
            try:
                self.ctl("inject", "--from", e["from"], "--to",
                         str(self.to(e)["index"]), e["text"])
            except RuntimeError as x:
                self.errors.append("%s: inject: %s" % (e["id"], x))
        by_spare = {}
        for e in es:
            if e["via"] == "pdu":
                by_spare.setdefault(e["from"], []).append(e)
        for name, group in by_spare.items():
            m = Modem(self.spares[name]["device"])
            try:
                for e in group:
                    da = self.to(e)["msisdn"]
                    for spec in e["text"].split(" "):
                        dcs, udh, ud = spec.split(".")
                        m.send(submit(da, int(dcs, 16), udh,
                                      bytes.fromhex(ud)))
            except RuntimeError as x:
                self.errors.append("%s: %s" % (name, x))
            finally:
                m.close()
        want_msgs = len(es)
        end = time.time() + WAIT
        while True:
            got = self.max_id() - self.bounds[-1]
            sms = self.db.execute(
                "SELECT m.sender, count(DISTINCT r.out_id), "
                "sum(r.out_id IS NULL OR o.state IN ('queued', 'sending')) "
                "FROM messages m JOIN replies r ON r.msg_id = m.id "
                "LEFT JOIN outbox o ON o.id = r.out_id WHERE m.id > ? "
                "GROUP BY m.sender", (self.bounds[-1],)).fetchall()
            pending = sum(x[2] for x in sms)
            phones = {x["msisdn"]: x["received"]
                      for x in self.ctl.json("phones")}
            mods = {m["index"]: m for m in self.ctl.json("modems")}
            prior = self.inbox_marks[-1]
            spare_of = {m["msisdn"]: m["index"]
                        for m in self.spares.values()}
            short = []
            for snd, n, _ in sms:
                if snd in spare_of:
                    have = mods[spare_of[snd]]["sim_used"]
                else:
                    have = phones.get(snd, 0) - prior.get(snd, 0)
                if have < n:
                    short.append(snd)
            if got >= want_msgs and not pending and not short:
                break
            if time.time() > end:
                self.errors.append(
                    "phase %d: after %d s: %d of %d messages stored, %d "
                    "replies not sent, %d senders short of them (e.g. %s)"
                    % (p, WAIT, got, want_msgs, pending, len(short),
                       short[:3]))
                break
            time.sleep(0.5)
        self.bounds.append(self.max_id())
        self.inbox_marks.append(phones)
        for s in {e["from"] for e in es if e["via"] == "pdu"}:
            slots = self.ctl.json("sim", "--modem",
                                  str(self.spares[s]["index"]))
            self.spare_msgs[(s, p)] = [x["text"] for x in slots
                                       if x["type"] == "deliver"]
            m = Modem(self.spares[s]["device"])
            try:
                m.cmd("AT+CMGD=1,4")
            finally:
                m.close()
        print("# phase %d: %d messages in %.0f s" %
              (p, self.bounds[-1] - self.bounds[-2], time.time() - end +
               WAIT), flush=True)

# --- judging ----------------------------------------------------------------


def row_class(r, central):
    """The class of a stored message, as the corpus writes classes."""
    kind, verdict, reason, tps, seq = r
    if kind != "report":
        return kind
    if verdict == "REJECTED":
        return "REJECTED:" + (reason or "?")
    if verdict == "DUPLICATE":
        return "DUPLICATE"
    c = central.get(("%013d" % tps, seq)) if tps is not None else None
    if c is None:
        return verdict + "(not at the central)"
    flags = [f for f in c["flags"] if f not in ("STALE", "SENDER")]
    cls = c["verdict"] + (":" + "+".join(flags) if flags else "")
    if "STALE" in c["flags"]:
        cls += "/stale"
    elif c["supersedes"] is not None:
        cls += "/koreksi"
    return cls


def reply_class(text):
    """What an answer says, by its distinctive words (gateway/tally/
    reply.c's texts, docs/protocol.md section 18)."""
    if text is None:
        return "none"
    if text.startswith("SUDAH DITERIMA"):
        return "DUPLICATE"
    if text.startswith("DITERIMA"):
        cls = "FLAGGED" if "PERIKSA" in text else "OK"
        if "lebih baru" in text:
            cls += "/stale"
        elif "(koreksi #" in text:
            cls += "/koreksi"
        return cls
    if text.startswith("DITOLAK"):
        return "REJECTED"
    if text.startswith("CEK"):
        return "cek"
    if text.startswith("Format:"):
        return "bantu"
    if text.startswith("Pesan tidak dikenali"):
        return "other"
    return "?" + text[:20]


def received_classes(text):
    """The classes one received SMS stands for: a merged confirmation
    ('DITERIMA: brief; brief. Tulis ...', section 18, Merging) for each
    of its briefs ('ulang' a duplicate, 'cek' flagged, 'lama' stale)."""
    if not text.startswith("DITERIMA: "):
        return [reply_class(text)]
    out = []
    for b in text[len("DITERIMA: "):].split(". Tulis")[0].split("; "):
        cls = ("DUPLICATE" if " ulang" in b else
               "FLAGGED" if " cek " in b else "OK")
        if " lama" in b:
            cls += "/stale"
        elif "(koreksi #" in b:
            cls += "/koreksi"
        out.append(cls)
    return out


def want_reply(cls):
    """The answer's class a message's class calls for."""
    if cls.startswith("REJECTED"):
        return "REJECTED"
    base, _, note = cls.partition("/")
    base = base.split(":")[0]
    return base + ("/" + note if note else "")


def gw_text(e):
    if e["raw"] is not None:
        return e["raw"]
    return e["text"].replace("\0", " ").replace("\1", "~")


def judge(run):
    checks = {k: [0, 0] for k in ("sent", "stored", "class", "raw",
                                  "reply", "phone", "central")}
    notes = []

    def check(name, ok, what=None):
        checks[name][0 if ok else 1] += 1
        if not ok and len([n for n in notes if n[0] == name]) < 15:
            notes.append((name, what))
    for x in run.errors:
        check("sent", False, x)
    if not run.errors:
        check("sent", True)
    central = {}
    dups = []
    for line in central_lines(run.dir):
        c = json.loads(line)
        k = (c["tps"], c["seq"])
        if k in run.central0:
            continue
        if k in central:
            dups.append(k)
        central[k] = c
    db = run.db
    accepted = 0
    for p in range(1, len(run.bounds)):
        lo, hi = run.bounds[p - 1], run.bounds[p]
        es = [e for e in run.entries if e["phase"] == p]
        groups = {}
        for e in es:
            groups.setdefault(run.sender(e), []).append(e)
        for snd, group in groups.items():
            rows = db.execute(
                "SELECT m.id, m.kind, m.verdict, m.reason, m.tps, m.seq, "
                "m.raw, r.text, o.state FROM messages m LEFT JOIN replies r "
                "ON r.msg_id = m.id LEFT JOIN outbox o ON o.id = r.out_id "
                "WHERE m.sender = ? AND m.id > ? AND m.id <= ? ORDER BY m.id",
                (snd, lo, hi)).fetchall()
            check("stored", len(rows) == len(group),
                  "%s (phase %d): %d messages stored for %d sent" %
                  (group[0]["id"], p, len(rows), len(group)))
            pairs = match(group, rows)
            for e, r in pairs:
                if r is None:
                    continue
                got = row_class(r[1:6], central)
                check("class", got == e["expect"], "%s: stored %s, want "
                      "%s (%s; %s)" % (e["id"], got, e["expect"],
                                       e["why"], e["where"]))
                check("raw", r[6] == gw_text(e), "%s: stored text %r, "
                      "sent %r" % (e["id"], r[6][:60], gw_text(e)[:60]))
                rc = reply_class(r[7])
                check("reply", rc == want_reply(e["expect"]) and
                      r[8] in ("sent", "delivered"),
                      "%s: reply %s (%s), want %s: %r" %
                      (e["id"], rc, r[8], want_reply(e["expect"]),
                       (r[7] or "")[:70]))
                if e["expect"].startswith(("OK", "FLAGGED")):
                    accepted += 1
            got = sorted(c for t in phone_texts(run, group, p)
                         for c in received_classes(t))
            want = sorted(want_reply(e["expect"]) for e in group)
            check("phone", got == want, "%s (phase %d): %s received %s, "
                  "want %s" % (group[0]["id"], p, group[0]["from"], got,
                               want))
    check("central", not dups, "reports at the central twice: %s" %
          dups[:5])
    check("central", len(central) == accepted, "the central holds %d "
          "reports, the corpus accepted %d" % (len(central), accepted))
    return checks, notes


def match(group, rows):
    """Entries and stored rows of one sender in one phase: by the raw
    text where that tells them apart, else by class, as a multiset."""
    pairs, left = [], list(rows)
    for e in group:
        hit = [r for r in left if r[6] == gw_text(e)]
        if len(hit) >= 1:
            left.remove(hit[0])
            pairs.append((e, hit[0]))
        else:
            pairs.append((e, None))
    rest = [e for e, r in pairs if r is None]
    pairs = [(e, r) for e, r in pairs if r is not None]
    for e in rest:
        pairs.append((e, left.pop(0) if left else None))
    return pairs


def phone_texts(run, group, p):
    """What the sender of group received while phase p ran."""
    e = group[0]
    if e["via"] == "pdu":
        return run.spare_msgs.get((e["from"], p), [])
    n = norm(e["from"])
    before = run.inbox_marks[p - 1].get(n, 0)
    after = run.inbox_marks[p].get(n, 0)
    inbox = [json.loads(x)["text"] for x in run.ctl("inbox", "--phone", n)]
    return inbox[before:after]


def ask(path, line):
    """One request line to a UNIX socket; the answer's lines."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(30)
    s.connect(path)
    s.sendall(line + b"\n")
    buf = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    lines = buf.decode("utf-8", "replace").split("\n")
    while lines and lines[-1] == "":
        lines.pop()
    return lines


def central_lines(rundir):
    """The central receiver's records (docs/forward.md), as JSON lines."""
    return [x for x in ask(os.path.join(rundir, "central.sock"),
                           b"dump --json") if x.startswith("{")]


def main(argv):
    args = {"--dir": None, "--gw": "0,1", "--spares": ""}
    files = []
    i = 0
    while i < len(argv):
        if argv[i] in args:
            args[argv[i]] = argv[i + 1]
            i += 2
        else:
            files.append(argv[i])
            i += 1
    entries = proto.load(files)
    run = Run(args["--dir"], [int(x) for x in args["--gw"].split(",")],
              [int(x) for x in args["--spares"].split(",") if x], entries)
    print("# %d entries, %d phases" % (len(entries),
                                      max(e["phase"] for e in entries)))
    for p in sorted({e["phase"] for e in entries}):
        run.phase(p)
    checks, notes = judge(run)
    for name, (ok, bad) in checks.items():
        print("check %s %d %d" % (name, ok, bad))
    for name, what in notes:
        print("# %s: %s" % (name, what))
    return 1 if any(bad for ok, bad in checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
