#!/usr/bin/env python3
"""
security.py: forged reports, lockouts, replays and leaked secrets,
against a running `tallysim world` (tests/regress/security.sh).

    python3 security.py --dir RUNDIR --data SHARED [--tps N]

Phase 1, 1,000 forged reports: 40 phones send 7 each for a TPS of
their own (the 5th bad code locks the phone out of that TPS, docs/
protocol.md section 15: 5 CODE_BAD, then LOCKED), 60 phones 12 each,
every one for another TPS (no lockout; over 20 bad codes for most TPS
from all phones together: one operator alert each). No forged code is
the MAC of its content or the card code of its row.
Phase 2, good codes: each locked phone for its TPS (LOCKED, the code
is not even checked) and for another TPS (OK); other phones for the
locked TPS (OK).
Phase 3, replays: every accepted report again, from its phone, from
another phone, typed otherwise: DUPLICATE, and the central receiver
still holds each report once.

Then no secret leaves the gateway: neither the root, province or TPS
keys nor the gateway's signing key (hex or base64), the USSD secret,
the admin API's bearer token (RUNDIR/admin.token, if there is one),
a card code of a row no report used, nor the code a forged report
should have carried appears in the gateway's log, the store's replies
or the JSON the central receiver got.

Prints 'check NAME PASSED FAILED' lines and '# ...' notes; exit 1 if
a check failed.
"""

import base64
import os
import random
import json
import re
import sqlite3
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import drive  # noqa: E402
import proto  # noqa: E402

WAIT = int(os.environ.get("SECURITY_WAIT", "300"))
rng = random.Random(15)


class Test:
    def __init__(self, rundir, data, ntps):
        self.dir, self.ctl = rundir, drive.Ctl(rundir)
        line = open(os.path.join(rundir, "root.key")).read().split()
        self.root = bytes.fromhex(line[1])
        reg = proto.Registry(os.path.join(data, "desa_tps_2024.csv"),
                             os.path.join(data, "pilpres2024_tps.csv"))
        self.tps = sorted(t for t, d in reg.dpts.items()
                          if t[:2] == "65" and 150 <= d <= 300)[:ntps]
        self.gw = [m["index"] for m in self.ctl.json("modems")]
        self.db = sqlite3.connect("file:%s?mode=ro" % os.path.join(
            rundir, "gw", "tallygw.db"), uri=True, timeout=30)
        self.sent = []		# (phase, phone, text, want, tps, seq)
        self.used_rows = {}	# tps -> card rows used by good reports
        self.seq = {t: 100 for t in self.tps}	# good SEQs from 101
        self.forbidden = set()	# codes no output may carry
        self.bounds = [0]	# message ids: phase p in (b[p-1], b[p]]
        self.checks = {}
        self.notes = []

    def check(self, name, ok, what=""):
        c = self.checks.setdefault(name, [0, 0])
        c[0 if ok else 1] += 1
        if not ok and sum(1 for n in self.notes if n[0] == name) < 10:
            self.notes.append((name, what))

    def send(self, phase, phone, text, want, tps, seq):
        to = self.gw[zlib.crc32(phone.encode()) % len(self.gw)]
        self.ctl("inject", "--from", phone, "--to", str(to), text)
        self.sent.append((phase, drive.norm(phone), text, want, tps, seq))

    def report(self, tps, seq):
        v = [0, 0, 0]
        for _ in range(rng.randint(30, 120)):
            v[rng.randrange(3)] += 1
        bad = rng.randint(0, 5)
        return proto.canonical("PPWP", tps, seq, None,
                               [sum(v) + bad] + v + [sum(v), bad])

    def forged(self, canon):
        """A code that authenticates nothing: not the MAC of canon nor
        the card code of its row (nor any card code of rows 1..100)."""
        tps, seq = canon.split()[1], int(canon.split()[2])
        good = {proto.mac(self.root, canon), proto.card(self.root, tps, seq)}
        self.forbidden |= good
        cards = {proto.card(self.root, tps, r) for r in range(1, 101)}
        choices = [
            lambda: "%08d" % rng.randrange(10 ** 8),
            lambda: proto.mac(os.urandom(32), canon),
            lambda: proto.card(self.root, tps, seq + 7),
            lambda: proto.receipt(self.root, canon),
            lambda: proto.mac(self.root, canon.replace(" 0", " 1", 1)),
        ]
        while True:
            c = rng.choice(choices)()
            if c not in good and c not in cards:
                return c

    def good(self, phase, phone, tps, want, how="card"):
        self.seq[tps] += 1
        seq = self.seq[tps]
        canon = self.report(tps, seq)
        code = proto.card(self.root, tps, seq) if how == "card" else \
            proto.mac(self.root, canon)
        self.used_rows.setdefault(tps, set()).add(seq)
        f = canon.split()
        self.send(phase, phone, "*".join(["1"] + f[1:] + [code]), want,
                  tps, seq)
        return canon, code

    def wait(self):
        """Until the phase's messages are stored; the phase's ids."""
        n = len(self.sent)
        end = time.time() + WAIT
        while self.db.execute("SELECT count(*) FROM messages"
                              ).fetchone()[0] < n:
            if time.time() > end:
                self.check("stored", False, "after %d s: fewer than %d "
                           "messages stored" % (WAIT, n))
                break
            time.sleep(0.5)
        else:
            self.check("stored", True)
        self.bounds.append(self.db.execute(
            "SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])

    # --- the phases ------------------------------------------------------

    def play(self):
        locked = self.tps[:40]
        t0 = time.time()
        for s in range(40):		# lockout: 7 bad codes, one TPS
            phone = "08139100%04d" % s
            for k in range(7):
                canon = self.report(locked[s], 1 + k)
                f = canon.split()
                self.send(1, phone, "*".join(["1"] + f[1:] +
                                              [self.forged(canon)]),
                          "BAD", locked[s], 1 + k)
        for s in range(60):		# spread: 12 bad codes, 12 TPS
            phone = "08139200%04d" % s
            for k in range(12):
                t = self.tps[(s * 12 + k) % len(self.tps)]
                canon = self.report(t, 1 + rng.randrange(50))
                f = canon.split()
                self.send(1, phone, " ".join(["PPWP"] + f[1:] +
                                             [self.forged(canon)]),
                          "CODE_BAD", t, int(f[2]))
        self.wait()
        t1 = time.time()
        spare = self.tps[40:]
        for s in range(40):
            phone = "08139100%04d" % s
            self.good(2, phone, locked[s], "LOCKED")
            self.good(2, phone, spare[s % len(spare)], "OK", "mac")
            self.good(2, "08139300%04d" % s, locked[s], "OK")
        self.wait()
        accepted = [x for x in self.sent if x[3] == "OK"]
        for i, (ph, phone, text, want, tps, seq) in enumerate(accepted):
            self.send(3, phone, text, "DUPLICATE", tps, seq)
            self.send(3, "08139400%04d" % i, text.replace("*", " "),
                      "DUPLICATE", tps, seq)
            self.send(3, phone, "ppwp#" + text[2:].replace("*", "#"),
                      "DUPLICATE", tps, seq)
        self.wait()
        print("# %d messages in %.0f s (forged %.0f s)" %
              (len(self.sent), time.time() - t0, t1 - t0), flush=True)

    # --- the checks ------------------------------------------------------

    def judge(self):
        got = {}
        for p in range(1, len(self.bounds)):
            for snd, raw, verdict, reason in self.db.execute(
                    "SELECT sender, raw, verdict, reason FROM messages "
                    "WHERE id > ? AND id <= ?", self.bounds[p - 1:p + 1]):
                got.setdefault((p, snd, raw), []).append(
                    verdict if verdict != "REJECTED" else reason)
        forged = [x for x in self.sent if x[0] == 1]
        verdicts = [v for x in forged
                    for v in got.get((1, x[1], x[2]), [])]
        self.check("forged", len(verdicts) == 1000 and not [
            v for v in verdicts if v not in ("CODE_BAD", "LOCKED")],
            "forged reports stored as %s" % sorted(set(verdicts)))
        self.check("forged", "OK" not in verdicts and
                   "FLAGGED" not in verdicts, "a forged report accepted")
        for s in range(40):
            phone = drive.norm("08139100%04d" % s)
            v = sorted(got.get((1, phone, x[2]), ["?"])[0]
                       for x in forged if x[1] == phone)
            self.check("lockout", v == ["CODE_BAD"] * 5 + ["LOCKED"] * 2,
                       "%s: 7 bad codes gave %s" % (phone, v))
        spread = [got.get((1, x[1], x[2]), ["?"])[0] for x in forged
                  if x[3] == "CODE_BAD"]
        self.check("lockout", spread == ["CODE_BAD"] * 720,
                   "one bad code per phone and TPS locked: %s" %
                   sorted(set(spread)))
        for ph, phone, text, want, tps, seq in self.sent:
            if ph == 1:
                continue
            v = got.get((ph, phone, text), ["none"])
            self.check("phase%d" % ph, v == [want], "%s %r: %s, want %s" %
                       (phone, text[:40], v, want))
        # Bad codes counted per TPS: a LOCKED attempt does not count.
        fails = {}
        for x in forged:
            if got.get((1, x[1], x[2]), ["?"])[0] == "CODE_BAD":
                fails[x[4]] = fails.get(x[4], 0) + 1
        log = open(os.path.join(self.dir, "tallygw.log"),
                   encoding="utf-8", errors="replace").read()
        for t, n in fails.items():
            k = len(re.findall(r"lockout: alert: \d+ bad codes for TPS %s "
                               % t, log))
            self.check("alert", k == (1 if n >= 20 else 0),
                       "TPS %s: %d bad codes, %d alerts" % (t, n, k))
        want = sorted((x[4], x[5]) for x in self.sent if x[3] == "OK")
        # Stored is not yet forwarded: wait for the central's copies.
        end = time.time() + WAIT
        while True:
            central = [json.loads(x) for x in drive.central_lines(self.dir)]
            if len(central) >= len(want) or time.time() > end:
                break
            time.sleep(0.5)
        keys = [(c["tps"], c["seq"]) for c in central]
        self.check("replay", sorted(keys) == want, "the central holds %d "
                   "reports, %d accepted" % (len(keys), len(want)))
        self.check("replay", all(c.get("duplicates", 0) == 0
                                 for c in central),
                   "a report came to the central twice")
        self.leaks(log, central)

    def secrets(self):
        """Every secret the gateway holds, as it could leak: hex (either
        case) and base64 (standard and URL-safe, with and without
        padding)."""
        keys = [self.root]
        for t in self.tps:
            keys.append(proto.province_key(self.root, int(t[:2])))
            keys.append(proto.tps_key(self.root, t))
        sec = open(os.path.join(self.dir, "gateway.sec")).read().split()[1]
        keys += [bytes.fromhex(sec), bytes.fromhex(sec)[:32]]
        out = set()
        for k in keys:
            out |= {k.hex(), k.hex().upper()}
            for enc in (base64.b64encode, base64.urlsafe_b64encode):
                b = enc(k).decode()
                out |= {b, b.rstrip("=")}
        for f in ("ussd.secret", "admin.token"):
            if os.path.exists(os.path.join(self.dir, f)):
                out.add(open(os.path.join(self.dir, f)).read().strip())
        return out

    def leaks(self, log, central):
        texts = {"log": log}
        texts["replies"] = "\n".join(
            r[0] for r in self.db.execute("SELECT text FROM replies"))
        texts["central"] = "\n".join(json.dumps(c) for c in central)
        secrets = self.secrets()
        unused = set()
        for t in self.tps:
            for r in range(1, 101):
                if r not in self.used_rows.get(t, ()):
                    unused.add(proto.card(self.root, t, r))
        sent = {x[2].replace("#", "*").replace(" ", "*").split("*")[-1]
                for x in self.sent}
        receipts = {r[0] for r in self.db.execute(
            "SELECT receipt FROM messages WHERE receipt IS NOT NULL")}
        for where, text in texts.items():
            hit = [s for s in secrets if s in text]
            self.check("secrets", not hit, "%s holds a key or secret "
                       "(%s...)" % (where, hit[0][:12] if hit else ""))
            codes = set(re.findall(r"(?<![0-9A-Za-z])[0-9]{8}"
                                   r"(?![0-9A-Za-z])", text))
            bad = (codes & (unused | self.forbidden)) - sent - receipts
            self.check("codes", not bad, "%s holds %d code(s) no report "
                       "sent: %s" % (where, len(bad), sorted(bad)[:3]))


def main(argv):
    args = {"--dir": None, "--data": None, "--tps": "50"}
    for i in range(0, len(argv) - 1, 2):
        args[argv[i]] = argv[i + 1]
    t = Test(args["--dir"], args["--data"], int(args["--tps"]))
    t.play()
    t.judge()
    for name, (ok, bad) in t.checks.items():
        print("check %s %d %d" % (name, ok, bad))
    for name, what in t.notes:
        print("# %s: %s" % (name, what))
    return 1 if any(bad for ok, bad in t.checks.values()) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
