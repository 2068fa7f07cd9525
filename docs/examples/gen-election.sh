#!/bin/sh
# Generate the synthetic 2024-like election definition from the
# village/TPS list (../shared/data/desa_tps_2024.csv):
#
#   sh docs/examples/gen-election.sh [desa_tps_2024.csv] > election-2024.conf
#
# Deterministic: the same CSV always gives the same file.  The
# structure follows Pemilu 2024 (3 pairs, 24 parties, 6 Aceh local
# parties, 84 DPR districts) but districts, seats and candidate counts
# are approximations computed from TPS counts, not KPU's decisions.
CSV=${1:-../shared/data/desa_tps_2024.csv}
exec python3 - "$CSV" <<'PY'
import csv
import math
import sys
import zlib

PEOPLE_PER_TPS = 340		# about 280M people / 820k TPS

PARTIES = [(1, "PKB"), (2, "GERINDRA"), (3, "PDIP"), (4, "GOLKAR"),
    (5, "NASDEM"), (6, "BURUH"), (7, "GELORA"), (8, "PKS"), (9, "PKN"),
    (10, "HANURA"), (11, "GARUDA"), (12, "PAN"), (13, "PBB"),
    (14, "DEMOKRAT"), (15, "PSI"), (16, "PERINDO"), (17, "PPP"),
    (18, "PNA"), (19, "GABTHAT"), (20, "PDA"), (21, "PA"), (22, "PAS"),
    (23, "SIRA"), (24, "UMMAT")]
LOCAL = {18: "11", 19: "11", 20: "11", 21: "11", 22: "11", 23: "11"}

# DPR: (districts, seats) per province, as apportioned for 2024.
DPR = {"11": (2, 13), "12": (3, 30), "13": (2, 14), "14": (2, 13),
    "15": (1, 8), "16": (2, 17), "17": (1, 4), "18": (2, 20),
    "19": (1, 3), "21": (1, 4), "31": (3, 21), "32": (11, 91),
    "33": (10, 77), "34": (1, 8), "35": (11, 87), "36": (3, 22),
    "51": (1, 9), "52": (2, 11), "53": (2, 13), "61": (2, 12),
    "62": (1, 6), "63": (2, 11), "64": (1, 8), "65": (1, 3),
    "71": (1, 6), "72": (1, 7), "73": (3, 24), "74": (1, 6),
    "75": (1, 3), "76": (1, 4), "81": (1, 4), "82": (1, 3),
    "91": (1, 3), "92": (1, 3), "93": (1, 3), "94": (1, 3),
    "95": (1, 3), "96": (1, 3)}

ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X",
    "XI", "XII", "XIII", "XIV", "XV"]


def h(*parts):
	"""A stable pseudo-random number from the given parts."""
	return zlib.crc32("|".join(str(p) for p in parts).encode())


def dprdp_seats(prov, pop):
	if prov == "31":
		return 106
	if prov == "11":
		return 81
	for limit, seats in ((1e6, 35), (3e6, 45), (5e6, 55), (7e6, 65),
	    (9e6, 75), (11e6, 85), (20e6, 100)):
		if pop <= limit:
			return seats
	return 120


def dprdk_seats(pop):
	for limit, seats in ((1e5, 20), (2e5, 25), (3e5, 30), (4e5, 35),
	    (5e5, 40), (1e6, 45), (3e6, 50)):
		if pop <= limit:
			return seats
	return 55


def partition(units, k):
	"""Split ordered (code, weight) units into k contiguous groups,
	minimising the heaviest group."""
	n = len(units)
	pre = [0]
	for _, w in units:
		pre.append(pre[-1] + w)
	INF = float("inf")
	best = [[INF] * (n + 1) for _ in range(k + 1)]
	cut = [[0] * (n + 1) for _ in range(k + 1)]
	best[0][0] = 0
	for g in range(1, k + 1):
		for i in range(g, n - (k - g) + 1):
			for j in range(g - 1, i):
				v = max(best[g - 1][j], pre[i] - pre[j])
				if v < best[g][i]:
					best[g][i] = v
					cut[g][i] = j
	groups = []
	i = n
	for g in range(k, 0, -1):
		j = cut[g][i]
		groups.append(units[j:i])
		i = j
	groups.reverse()
	return groups


def seats_for(groups, total, lo, hi):
	"""Share total seats among groups by weight (Sainte-Lague),
	each between lo and hi."""
	w = [sum(u[1] for u in g) for g in groups]
	s = [lo] * len(groups)
	for _ in range(total - lo * len(groups)):
		best = None
		for i in range(len(groups)):
			if s[i] >= hi:
				continue
			q = w[i] / (2 * s[i] + 1)
			if best is None or q > best[0]:
				best = (q, i)
		s[best[1]] += 1
	return s


def split(units, children, k, total, hi, allow):
	"""Replace the heaviest units by their children while there are
	fewer units than districts or a unit alone deserves more than hi
	seats."""
	while allow:
		wsum = sum(u[1] for u in units)
		heavy = max(range(len(units)), key=lambda i: units[i][1])
		need = len(units) < k or units[heavy][1] * total / wsum > hi
		if not need or units[heavy][0] not in children:
			break
		units = units[:heavy] + children[units[heavy][0]] + \
		    units[heavy + 1:]
	return units


def districts(units, children, total, k, hi, allow_split):
	units = split(units, children, k, total, hi, allow_split)
	k = min(k, len(units))
	groups = partition(units, k)
	return list(zip(groups, seats_for(groups, total, 3, hi)))


def main():
	provname = {}
	kabname = {}
	kabs = {}	# prov -> [kab]
	kecs = {}	# kab -> [kec]
	desas = {}	# kec -> [desa]
	weight = {}
	with open(sys.argv[1], newline="") as f:
		for r in csv.DictReader(f):
			pp, kk, cc, dd = (r["kode_prov"], r["kode_kab"],
			    r["kode_kec"], r["kode_desa"])
			if pp == "99":
				continue
			n = int(r["n_tps_total"])
			provname[pp] = r["prov"].replace('"', "")
			kabname[kk] = r["kab"].replace('"', "")
			for code, parent, tbl in ((kk, pp, kabs),
			    (cc, kk, kecs), (dd, cc, desas)):
				if code not in weight:
					weight[code] = 0
					tbl.setdefault(parent, []).append(code)
			for code in (pp, kk, cc, dd):
				weight[code] = weight.get(code, 0) + n
	for tbl in (kabs, kecs, desas):
		for v in tbl.values():
			v.sort()
	children = {}
	for tbl in (kabs, kecs, desas):
		for parent, codes in tbl.items():
			children[parent] = [(c, weight[c]) for c in codes]

	out = sys.stdout.write
	out("# A synthetic 2024-like election definition for tallygw.\n"
	    "#\n"
	    "# NOT the official KPU definition.  Generated by\n"
	    "# docs/examples/gen-election.sh from the public village/TPS list\n"
	    "# (desa_tps_2024.csv): the contest structure follows Pemilu 2024\n"
	    "# (3 candidate pairs, 18 national and 6 Aceh local parties, 84 DPR\n"
	    "# districts with the real seats per province), while DPRD seats,\n"
	    "# district boundaries, DPD ballots and candidate counts are\n"
	    "# approximations computed from the number of TPS in each area.\n"
	    "# Format: docs/election.md.  Do not edit by hand; regenerate.\n\n")
	out('election "Pemilu 2024"\n\n')
	out("# PPWP: candidate pairs on the presidential ballot.\n")
	out("pairs 3\n\n")
	out("# Parties in ballot order; 'only' marks Aceh's local parties.\n")
	for n, name in PARTIES:
		if n in LOCAL:
			out("party %d %s only %s\n" % (n, name, LOCAL[n]))
		else:
			out("party %d %s\n" % (n, name))
	out("\n# DPD: candidates on the ballot of each province.\n")
	top = max(weight[p] for p in provname)
	for pp in sorted(provname):
		n = 10 + round(44 * math.sqrt(weight[pp] / top))
		out("dpd %s %d\t# %s\n" % (pp, n, provname[pp]))

	def emit(contest, name, seats, group, ballot):
		out('district %s "%s" seats %d area %s\n' % (contest, name,
		    seats, " ".join(u[0] for u in group)))
		cand = []
		for p in ballot:
			r = h(contest, name, p)
			if r % 37 == 0:
				c = 0
			elif r % 4 == 0 or (p in LOCAL and r % 3 != 0):
				c = max(1, seats - 1 - (r >> 8) % seats)
			else:
				continue
			cand.append("%d=%d" % (p, c))
		if cand:
			out("candidates %s\n" % " ".join(cand))

	national = [n for n, _ in PARTIES if n not in LOCAL]
	counts = {}
	for contest in ("DPR", "DPRDP", "DPRDK"):
		out("\n# %s electoral districts.\n" % contest)
		for pp in sorted(provname):
			local = [n for n, _ in PARTIES if LOCAL.get(n) == pp]
			units = children[pp]
			if contest == "DPR":
				k, total = DPR[pp]
				ds = districts(units, children, total, k, 10,
				    False)
				out("# %s: %d seats\n" % (provname[pp], total))
				for i, (g, s) in enumerate(ds):
					emit(contest, "%s %s" % (provname[pp],
					    ROMAN[i]), s, g, national)
			elif contest == "DPRDP":
				total = dprdp_seats(pp,
				    weight[pp] * PEOPLE_PER_TPS)
				k = max(math.ceil(total / 12),
				    min(round(total / 7.6), len(units)))
				ds = districts(units, children, total, k, 12,
				    True)
				out("# %s: %d seats\n" % (provname[pp], total))
				for i, (g, s) in enumerate(ds):
					emit(contest, "%s %d" % (provname[pp],
					    i + 1), s, g, sorted(national +
					    local))
			else:
				if pp == "31":
					out("# %s: no DPRDK (the regencies of "
					    "Jakarta have no council)\n" %
					    provname[pp])
					continue
				ds = []
				for kk in kabs[pp]:
					total = dprdk_seats(weight[kk] *
					    PEOPLE_PER_TPS)
					ku = children[kk]
					k = max(math.ceil(total / 12),
					    min(round(total / 8), len(ku)))
					out("# %s: %d seats\n" % (kabname[kk],
					    total))
					for i, (g, s) in enumerate(districts(
					    ku, children, total, k, 12, True)):
						emit(contest, "%s %d" % (
						    kabname[kk], i + 1), s, g,
						    sorted(national + local))
						counts[contest] = \
						    counts.get(contest, 0) + 1
				continue
			counts[contest] = counts.get(contest, 0) + len(ds)
	out("\n# %s\n" % ", ".join("%s %d districts" % (c, counts[c])
	    for c in ("DPR", "DPRDP", "DPRDK")))


main()
PY
