#!/usr/bin/env python3
# Checks /status's counts against the store (admin.sh, gateway.sh,
# kills.sh): the gateway keeps them in memory, counted at start-up and
# then at each commit and change of state (docs/admin.md); this counts
# the rows again in SQL.
#
#   tallyctl status --json | counts.py STORE
#
# Prints `agree N' (N: the counts compared), or one line per count that
# differs, `differ GROUP.NAME status N store M', and exits 1.
import json
import sqlite3
import sys

st = json.load(sys.stdin)
db = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True, timeout=10)
want = {}
names = {"OK": "ok", "FLAGGED": "flagged", "DUPLICATE": "duplicate",
         "REJECTED": "rejected"}
m = dict.fromkeys(["received", "reports", "ok", "flagged", "duplicate",
                   "rejected", "other"], 0)
for kind, verdict, n in db.execute("SELECT kind, verdict, count(*) FROM"
                                   " messages GROUP BY 1, 2"):
    m["received"] += n
    if kind == "report":
        m["reports"] += n
        m[names[verdict]] += n
    else:
        m["other"] += n
want["messages"] = m
for group, table in (("replies", "outbox"), ("forwards", "forwards")):
    want[group] = dict.fromkeys(st[group], 0)
    for state, n in db.execute("SELECT state, count(*) FROM %s GROUP BY 1"
                               % table):
        want[group][state] = n
bad = 0
n = 0
for group in want:
    for name, v in want[group].items():
        n += 1
        got = st[group].get(name)
        if got != v:
            bad += 1
            print("differ %s.%s status %s store %d" % (group, name, got, v))
if bad:
    sys.exit(1)
print("agree %d" % n)
