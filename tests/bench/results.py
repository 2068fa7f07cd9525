#!/usr/bin/env python3
"""The benchmark's results (tests/bench.sh): merge the sections' objects
into results.json, print the tables, write gnuplot's data and script.

usage: results.py OUTDIR

OUTDIR holds SECTION.jsonl (one JSON object a line, written by the
sections); results.json is the list of every object, in the order bank,
pipeline, memory, forward, then any other section. With gnuplot, the
plots are OUTDIR/*.svg.
"""

import json
import os
import subprocess
import sys

ORDER = ["bank", "pipeline", "memory", "forward"]
GATEWAYS = ["tallygw", "tallygw-split", "gammu-smsd", "smsd", "kannel"]


def load(outdir):
    names = [s for s in ORDER if os.path.exists(f"{outdir}/{s}.jsonl")]
    names += sorted(f[:-6] for f in os.listdir(outdir)
                    if f.endswith(".jsonl") and f[:-6] not in ORDER)
    objs = []
    for s in names:
        with open(f"{outdir}/{s}.jsonl", encoding="utf-8") as f:
            objs += [json.loads(line) for line in f if line.strip()]
    return objs


def fmt(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def table(objs, section, cols):
    rows = [o for o in objs if o["section"] == section]
    if not rows:
        return
    print(f"{section}:")
    head = ["gateway", "k"] + [c for c, _ in cols]
    lines = [head] + [[o["gateway"], str(o["k"])] +
                      [fmt(o.get(c), nd) for c, nd in cols] for o in rows]
    w = [max(len(r[i]) for r in lines) for i in range(len(head))]
    for r in lines:
        print("  " + "  ".join(x.rjust(w[i]) for i, x in enumerate(r)))


def plot_data(objs, section, field, path):
    """One line per K: K and the field of each gateway ("?" if none)."""
    rows = [o for o in objs if o["section"] == section]
    ks = sorted({o["k"] for o in rows})
    if not ks:
        return False
    with open(path, "w", encoding="utf-8") as f:
        f.write("# k " + " ".join(GATEWAYS) + "\n")
        for k in ks:
            vals = []
            for g in GATEWAYS:
                v = [o.get(field) for o in rows
                     if o["k"] == k and o["gateway"] == g]
                vals.append("?" if not v or v[0] is None else str(v[0]))
            f.write(f"{k} " + " ".join(vals) + "\n")
    return True


PLOTS = [
    ("bank", "capacity_used", "bank_capacity",
     "modem work / bank capacity while a backlog exists", "[0:1.05]"),
    ("bank", "last_confirmed_s", "bank_last_confirmed",
     "seconds from the burst to its last confirmation", "[0:*]"),
    ("bank", "latency_p99_s", "bank_latency_p99",
     "arrival to durable store, p99 at 90% load (s)", "[0:*]"),
    ("memory", "pss_mib_load", "memory_pss",
     "total PSS under load (MiB)", "[0:*]"),
]


def plots(objs, outdir):
    script = ["set terminal svg size 640,400 dynamic font 'sans,11'",
              "set key top left", "set logscale x 2", "set grid",
              "set xlabel 'modems (K)'", "set datafile missing '?'"]
    made = []
    for section, field, name, label, yr in PLOTS:
        dat = f"{outdir}/{name}.dat"
        if not plot_data(objs, section, field, dat):
            continue
        # Only the gateways the section measured (the memory section
        # has no split bank): gnuplot warns of a column with no point.
        # Each keeps its line type, so its colour, from plot to plot.
        have = [i for i, g in enumerate(GATEWAYS)
                if any(o.get("section") == section and o.get("gateway") == g
                       and o.get(field) is not None for o in objs)]
        script += [f"set output '{outdir}/{name}.svg'",
                   f"set ylabel '{label}'", f"set yrange {yr}",
                   "plot " + ", ".join(
                       f"'{dat}' using 1:{i + 2} with linespoints "
                       f"lt {i + 1} title '{GATEWAYS[i]}'" for i in have)]
        made.append(f"{outdir}/{name}.svg")
    with open(f"{outdir}/plots.gp", "w", encoding="utf-8") as f:
        f.write("\n".join(script) + "\n")
    try:
        subprocess.run(["gnuplot", f"{outdir}/plots.gp"], check=True)
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"plots: not made: gnuplot: {e}")
        return
    for m in made:
        print(f"plot: {m}")


def main():
    outdir = sys.argv[1]
    objs = load(outdir)
    with open(f"{outdir}/results.json", "w", encoding="utf-8") as f:
        json.dump(objs, f, indent=1)
        f.write("\n")
    print(f"{len(objs)} objects in {outdir}/results.json")
    table(objs, "bank", [("capacity_used", 3), ("stored_per_min", 1),
                         ("replies_per_min", 1), ("last_confirmed_s", 1),
                         ("latency_p50_s", 2), ("latency_p99_s", 2),
                         ("modem_s_per_report", 2)])
    table(objs, "pipeline", [("rate_empty", 0), ("rate_1m", 0),
                             ("offered_p99_s", 4),
                             ("rate_empty_batch", 0), ("rate_1m_batch", 0),
                             ("rate_empty_tmpfs", 0), ("rate_1m_tmpfs", 0),
                             ("instr_per_report", 0),
                             ("instr_per_report_1m", 0)])
    table(objs, "memory", [("pss_mib_idle", 1), ("pss_mib_load", 1)])
    table(objs, "forward", [("drain_per_s", 1), ("drain_per_s_tmpfs", 1),
                            ("backlog", 0), ("drained", 0)])
    plots(objs, outdir)


if __name__ == "__main__":
    main()
