#!/usr/bin/env python3
# Judges the replies of a run from the outside (faults.sh, gateway.sh):
#
#   replies.py [--allowed IDS] GWLOG STORE INBOX [WINDOWS]
#
# GWLOG: the gateway's log; STORE: its SQLite file; INBOX: every phone's
# inbox as tallysim's `inbox' prints it (JSON lines); WINDOWS (optional):
# lines `on|off MODEM KIND OFFSET' saying when a fault of a modem went on
# and off (OFFSET: the log's size in bytes then; MODEM `all' for the
# whole bank). IDS (kills.sh): outbox ids, one a line, each an SMS in
# flight when a process was killed, whose fate is unknown too.
#
# From the log, each attempt of each SMS: `queued -> sending on mX',
# then `sending -> queued: WHY' when it failed, `-> sent' when the modem
# took it.
# 1. An SMS whose send failed on mX during a fault of mX must have gone
#    out by another modem, or by mX only after that fault was off.
# 2. A phone may hold an SMS more often than the store does only once
#    more for each attempt whose fate nobody knew: one that failed with
#    no answer of the network (no `+CMS ERROR': the send timed out, the
#    modem was lost or answered noise), as the modem may have taken it
#    (docs/design.md, "What is still sent twice").
# Prints a line per finding, then the summary line
#   moved N same_after N stuck N failed N unknown N doubled N
#   not_allowed N again N
# whose fields the suites read by position.
import collections
import json
import re
import sqlite3
import sys

args = sys.argv[1:]
unknown = collections.Counter()
if args[0] == "--allowed":
    for line in open(args[1]):
        if line.strip():
            unknown[int(line)] += 1
    args = args[2:]
log = open(args[0], "rb").read()
win = {}
if len(args) > 3:
    for line in open(args[3]):
        on, modem, kind, off = line.split()
        m = "m" + modem if modem.isdigit() else modem
        if on == "on":
            win.setdefault(m, []).append([int(off), None, kind])
        else:
            for w in win.get(m, []):
                if w[2] == kind and w[1] is None:
                    w[1] = int(off)


def faulty(m, pos):
    for w in win.get(m, []) + win.get("all", []):
        if w[0] <= pos and (w[1] is None or pos < w[1]):
            return w
    return None


rx = re.compile(rb"outbox: sms (\d+) to \S+: ([a-z]+) -> "
                rb"(queued|sending|sent|delivered|failed)(?: on (m\d+))?(.*)")
cur, fails, sent = {}, {}, {}
pos = 0
for line in log.split(b"\n"):
    m = rx.search(line)
    if m:
        i, a, b, mod = int(m.group(1)), m.group(2), m.group(3), m.group(4)
        if b == b"sending":
            cur[i] = mod.decode()
        elif a == b"sending" and b == b"queued" and i in cur:
            fails.setdefault(i, []).append((cur[i], pos))
            if b"+CMS ERROR" not in m.group(5):
                unknown[i] += 1
        elif b == b"sent":
            sent[i] = (mod.decode() if mod else cur.get(i), pos)
    pos += len(line) + 1
# Two failures in a row on one modem in one fault of its own: the reply
# went back to it while another modem was healthy.
again = 0
for i, fl in sorted(fails.items()):
    for (m1, p1), (m2, p2) in zip(fl, fl[1:]):
        w = faulty(m1, p1)
        if (m1 == m2 and w is not None and w[2] != "cap" and
                w is faulty(m2, p2) and faulty("all", p2) is None):
            again += 1
            print("again: sms %d failed twice on %s (%s)" % (i, m1, w[2]))
moved = same_after = stuck = 0
for i, fl in sorted(fails.items()):
    for mod, p in fl:
        w = faulty(mod, p)
        if w is None:
            continue
        if i not in sent:
            stuck += 1
            print("not sent: sms %d failed on %s (%s)" % (i, mod, w[2]))
        elif sent[i][0] != mod:
            moved += 1
        elif w[1] is not None and sent[i][1] >= w[1]:
            same_after += 1
        else:
            stuck += 1
            print("stuck: sms %d failed on %s (%s), sent by it in the fault"
                  % (i, mod, w[2]))
        break
db = sqlite3.connect("file:%s?mode=ro" % args[1], uri=True)
rows = db.execute("SELECT id, dest, text FROM outbox").fetchall()
held = collections.Counter((d, t) for _, d, t in rows)
allowed = collections.Counter()
for i, d, t in rows:
    allowed[(d, t)] += unknown[i]
got = collections.Counter()
for line in open(args[2]):
    r = json.loads(line)
    got[(r["to"], r["text"])] += 1
ok = bad = 0
for k, n in sorted(got.items()):
    extra = n - held[k]
    if extra <= 0:
        continue
    ok += min(extra, allowed[k])
    if extra > allowed[k]:
        bad += extra - allowed[k]
        print("twice: %s got %d, stored %d, fate unknown %d: %r"
              % (k[0], n, held[k], allowed[k], k[1][:60]))
print("moved %d same_after %d stuck %d failed %d unknown %d "
      "doubled %d not_allowed %d again %d" % (moved, same_after, stuck,
      sum(len(f) for f in fails.values()), sum(unknown.values()), ok, bad,
      again))
