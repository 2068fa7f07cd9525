"""
The coded tally protocol as docs/protocol.md writes it, for the hostile
corpus (gen.py) and the security suite: keys and codes (section 6, 7),
tokens (2), how the gateway classifies a text (12, "What the gateway
treats as a report"), the decode order (3), and form shapes from an
election definition file (4, docs/election.md).

Written from the documents, not from gateway/: where this model and
the gateway disagree, one of them is wrong, and the test says so.
Python 3 standard library only.
"""

import hashlib
import struct
import unicodedata

# --- keys and codes (sections 6 and 7) -------------------------------

CHECK_ROOT = bytes(range(32))		# section 9: the check-vector root key


def kdf(master, subkey_id, ctx):
    return hashlib.blake2b(b"", digest_size=32, key=master,
                           salt=struct.pack("<Q", subkey_id) + bytes(8),
                           person=ctx.encode() + bytes(8)).digest()


def province_key(root, pp):
    return kdf(root, pp, "TALLYPRV")


def tps_key(root, tps):
    return kdf(province_key(root, int(tps[:2])), int(tps), "TALLYTPS")


def trunc8(message, k_t):
    tag = hashlib.blake2b(message.encode(), digest_size=16, key=k_t).digest()
    return "%08d" % (int.from_bytes(tag[:8], "little") % 10 ** 8)


def mac(root, canon):
    return trunc8(canon, tps_key(root, canon.split()[1]))


def card(root, tps, row):
    return trunc8("CARD %d" % row, tps_key(root, tps))


def receipt(root, canon):
    return trunc8("RCPT " + canon, tps_key(root, canon.split()[1]))


def canonical(contest, tps, seq, page, values):
    f = [contest, tps, str(seq)]
    if page is not None:
        f.append(str(page))
    return " ".join(f + [str(v) for v in values])


def _selftest():
    """The check vectors of section 9: the model is the protocol's."""
    assert province_key(CHECK_ROOT, 32).hex() == \
        "86038f28db974f499465bf052002dad36748e48598157d596ca80f28cdbda311"
    c = "PPWP 3201012001001 1 255 120 95 36 251 4"
    assert mac(CHECK_ROOT, c) == "43058167"
    assert receipt(CHECK_ROOT, c) == "58331817"
    assert card(CHECK_ROOT, "3201012001001", 1) == "99305909"
    assert card(CHECK_ROOT, "3201012001001", 100) == "04984340"
    assert mac(CHECK_ROOT, "PPWP 6501011001001 1 269 63 181 16 260 9") == \
        "64343090"


_selftest()

# --- tokens (section 2) ----------------------------------------------

CONTESTS = ("PPWP", "DPR", "DPD", "DPRDP", "DPRDK")
PAGED = ("DPR", "DPRDP", "DPRDK")


def foreign_digit(text):
    """A decimal digit of another script (category Nd outside ASCII)."""
    return any(ord(ch) > 127 and unicodedata.category(ch) == "Nd"
               for ch in text)


def tokens(text):
    """Runs of [0-9A-Za-z], uppercased; every other byte separates."""
    out, cur = [], []
    for b in text.encode("utf-8", "surrogatepass"):
        if b < 128 and chr(b).isalnum():
            cur.append(chr(b).upper())
        elif cur:
            out.append("".join(cur))
            cur = []
    if cur:
        out.append("".join(cur))
    return out


def number(tok):
    """A number position: digits, O read as 0, I and L as 1; else None."""
    if tok == "" or any(c not in "0123456789OIL" for c in tok):
        return None
    return int(tok.replace("O", "0").replace("I", "1").replace("L", "1"))


def contest_of(tok):
    """The contest of the first token (section 3), or None."""
    if tok in CONTESTS:
        return tok
    digits = {"1": "PPWP", "2": "DPR", "3": "DPD", "4": "DPRDP",
              "5": "DPRDK"}
    if len(tok) == 2 and tok[0] == "0":
        tok = tok[1:]
    return digits.get(tok)


def tps_ok(tok):
    """13 characters of digits or O/I/L, province (first two) 11..99."""
    n = number(tok)
    return len(tok) == 13 and n is not None and n // 10 ** 11 >= 11

# --- what the gateway takes a text for (section 12) -------------------


def classify(text):
    """
    'cek', 'bantu', 'report' or 'other', as section 12 says: CEK (or
    CEK and the TPS code in one token), BANTU (BANTUAN, TOLONG, HELP,
    INFO, a lone ?). A report: the first token is a contest, or the
    text has at least one digit and at least as many digits (0-9 or
    another script's) as ASCII letters, or one word stands before a
    contest and a TPS code.
    """
    t = tokens(text)
    if t and (t[0] == "CEK" or t[0][:3] == "CEK" and t[0][3].isdigit()):
        return "cek"
    if t and t[0] in ("BANTU", "BANTUAN", "TOLONG", "HELP", "INFO"):
        return "bantu"
    if not t and "?" in text and text.strip(" ?") == "":
        return "bantu"
    if t and contest_of(t[0]):
        return "report"
    digits = sum(1 for ch in text if ch.isascii() and ch.isdigit() or
                 (not ch.isascii() and unicodedata.category(ch) == "Nd"))
    letters = sum(1 for ch in text if ch.isascii() and ch.isalpha())
    if digits > 0 and digits >= letters:
        return "report"
    if len(t) >= 3 and contest_of(t[1]) and tps_ok(t[2]):
        return "report"
    return "other"

# --- decode (section 3): the first problem found ----------------------


class Decoded:
    def __init__(self, contest, tps, seq, page, values, code):
        self.contest, self.tps, self.seq = contest, tps, seq
        self.page, self.values, self.code = page, values, code

    def canon(self):
        return canonical(self.contest, self.tps, self.seq, self.page,
                         self.values)


def decode(text):
    """
    A Decoded report, or the REASON name of the first problem, in the
    order of section 3: DIGITS, EMPTY, CONTEST, TOO_LONG, TPS, SEQ (with
    CODE_PLACE and SEQ_MISSING first), PAGE, COUNT (too few tokens),
    CODE, then the values left to right. A missing TPS, SEQ or PAGE
    token is that field's reason (section 12: "not 13 digits", "the
    third token is missing", "without a numeric page"). Cases the
    document leaves vague (token text near "about 1,000 characters",
    more than 128 values) raise ValueError: the corpus avoids them.
    """
    if foreign_digit(text):
        return "DIGITS"
    t = tokens(text)
    if not t:
        return "EMPTY"
    contest = contest_of(t[0])
    if contest is None:
        return "CONTEST"
    if len(t) > 134:
        return "TOO_LONG"
    chars = sum(len(x) + 1 for x in t)
    if chars > 1100:
        return "TOO_LONG"
    if chars > 900:
        raise ValueError("near the ~1,000 characters limit: " + text[:40])
    if len(t) < 2 or not tps_ok(t[1]):
        return "TPS_FORMAT"		# a missing TPS is not 13 digits
    tps = "%013d" % number(t[1])
    if len(t) < 3:
        return "SEQ"			# "the third token is missing"
    seqn = number(t[2])
    if len(t[2]) == 8 and seqn is not None and seqn > 9999:
        return "CODE_PLACE"
    if contest in PAGED and seqn == 0 and len(t[2]) <= 9:
        return "SEQ_MISSING"
    if seqn is None or len(t[2]) > 9 or not 1 <= seqn <= 9999:
        return "SEQ"
    rest = t[3:]
    page = None
    if contest in PAGED:
        if not rest:
            return "PAGE"		# "without a numeric page"
        pg = number(rest[0])
        if len(rest[0]) == 8 and pg is not None and pg > 9999:
            return "CODE_PLACE"
        if pg is None or len(rest[0]) > 9:
            return "PAGE"
        page, rest = pg, rest[1:]
    if len(rest) < 2:
        return "COUNT"
    if len(rest) - 1 > 128:
        raise ValueError("over 128 values")
    code = rest[-1]
    if len(code) != 8 or number(code) is None:
        return "CODE_FORMAT"
    values = []
    for v in rest[:-1]:
        n = number(v)
        if n is None or len(v) > 18:
            return "VALUE_FORMAT"
        if n > 999:
            return "VALUE_RANGE"
        values.append(n)
    return Decoded(contest, tps, seqn, page, values,
                   code.replace("O", "0").replace("I", "1").replace("L", "1"))

# --- forms (section 4, docs/election.md) ------------------------------


class Election:
    """The parts of an election definition file the forms need."""

    def __init__(self, path):
        self.pairs = 0
        self.parties = {}		# number -> list of provinces, or None
        self.dpd = {}			# province -> candidates
        self.districts = {c: [] for c in PAGED}
        cur = None
        with open(path, encoding="utf-8") as f:
            for line in f:
                words = self._split(line)
                if not words:
                    continue
                d = words[0]
                if d == "pairs":
                    self.pairs = int(words[1])
                elif d == "party":
                    only = None
                    if len(words) > 3 and words[3] == "only":
                        only = [int(p) for p in words[4].split(",")]
                    self.parties[int(words[1])] = only
                elif d == "dpd":
                    self.dpd[int(words[1])] = int(words[2])
                elif d == "district":
                    seats = int(words[words.index("seats") + 1])
                    area = words[words.index("area") + 1:]
                    cur = {"name": words[2], "seats": seats, "area": area,
                           "cand": {}}
                    self.districts[words[1]].append(cur)
                elif d == "candidates":
                    for kv in words[1:]:
                        p, n = kv.split("=")
                        cur["cand"][int(p)] = int(n)

    @staticmethod
    def _split(line):
        out, i, n = [], 0, len(line)
        while i < n:
            c = line[i]
            if c in " \t\r\n":
                i += 1
            elif c == "#":
                break
            elif c == '"':
                j = line.index('"', i + 1)
                out.append(line[i + 1:j])
                i = j + 1
            else:
                j = i
                while j < n and line[j] not in " \t\r\n":
                    j += 1
                out.append(line[i:j])
                i = j
        return out

    def district(self, contest, tps):
        for plen in (10, 6, 4, 2):
            for d in self.districts[contest]:
                if tps[:plen] in d["area"]:
                    return d
        return None

    def ballot(self, contest, tps):
        """Ballot numbers of the parties of a paged contest at tps."""
        prov = int(tps[:2])
        return sorted(p for p, only in self.parties.items()
                      if only is None or
                      (contest != "DPR" and prov in only))

    def form(self, contest, tps, page=None):
        """
        The number of values, or 'NOT_HELD' / 'PAGE_UNKNOWN'. page None
        for PPWP and DPD; 0 or a party for the paged contests.
        """
        if contest == "PPWP":
            return self.pairs + 3 if self.pairs > 0 else "NOT_HELD"
        if contest == "DPD":
            n = self.dpd.get(int(tps[:2]))
            return n + 3 if n else "NOT_HELD"
        d = self.district(contest, tps)
        if d is None:
            return "NOT_HELD"
        ballot = self.ballot(contest, tps)
        if page == 0:
            return len(ballot) + 3
        if page not in ballot:
            return "PAGE_UNKNOWN"
        return d["cand"].get(page, d["seats"]) + 1


def dpt_limit(dpt):
    """The most voters a TPS may have before the DPT flag (section 14)."""
    if not dpt or dpt > 300:
        dpt = 300
    return (102 * dpt + 99) // 100

# --- the registry (docs/registry.md) ----------------------------------


class Registry:
    """Which TPS exist (the village list) and their DPT (the PPWP file)."""

    def __init__(self, desa_csv, dpt_csv):
        import csv
        self.villages = {}
        with open(desa_csv, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                if r["kode_desa"][:2] == "99":
                    continue
                ext = None
                if r.get("ext_first"):
                    ext = (int(r["ext_first"]), int(r["ext_last"]))
                self.villages[r["kode_desa"]] = (int(r["n_tps_reguler"]),
                                                 ext)
        self.dpts = {}
        with open(dpt_csv, encoding="utf-8-sig", newline="") as f:
            for r in csv.DictReader(f):
                if r["dpt"] != "":
                    self.dpts[r["kode_tps"]] = int(r["dpt"])

    def exists(self, tps):
        v = self.villages.get(tps[:10])
        if v is None:
            return False
        n = int(tps[10:])
        return 1 <= n <= v[0] or (v[1] is not None and
                                  v[1][0] <= n <= v[1][1])

    def dpt(self, tps):
        """The DPT the checks use: 0 (unknown) when none or over 300."""
        d = self.dpts.get(tps, 0)
        return 0 if d > 300 else d

# --- verification with history (sections 11, 13, 14, 15) --------------


class Model:
    """
    What the gateway must answer, message by message: classify, decode,
    then the checks of section 11 in their order, against the reports
    accepted so far (SEQ rules, PARTY) and the senders' bad codes
    (lockout). judge() decides without changing anything; commit()
    records what a judged message changes.

    A class is 'cek', 'bantu', 'other', 'REJECTED:REASON', 'DUPLICATE',
    or 'OK' / 'FLAGGED:F+F' with '/koreksi' (a correction) or '/stale'
    (a late report) after it.
    """

    def __init__(self, root, election, registry):
        self.root, self.el, self.reg = root, election, registry
        self.accepted = {}	# (tps, seq) -> canonical text
        self.history = {}	# (tps, contest, page) -> {seq: values}
        self.fails = {}		# (sender, tps) -> bad codes
        self.max_failures = 5

    def judge(self, sender, text):
        """(class, effect): effect is what commit() needs, or None."""
        kind = classify(text)
        if kind != "report":
            return kind, None
        d = decode(text)
        if isinstance(d, str):
            return "REJECTED:" + d, None
        if not self.reg.exists(d.tps):
            return "REJECTED:TPS_UNKNOWN", None
        n = self.el.form(d.contest, d.tps, d.page)
        if n == "PAGE_UNKNOWN" and self._like_ppwp(d):
            return "REJECTED:LIKE_PPWP", None
        if isinstance(n, str):
            return "REJECTED:" + n, None
        if len(d.values) != n:
            if (d.contest in ("PPWP", "DPD") and len(d.values) == n - 1
                    and d.values[-2] + d.values[-1] == d.seq):
                return "REJECTED:SEQ_MISSING", None
            return "REJECTED:COUNT", None
        lk = (sender, d.tps)
        if self.fails.get(lk, 0) >= self.max_failures:
            return "REJECTED:LOCKED", ("lock", lk)
        canon = d.canon()
        if d.code not in (mac(self.root, canon),
                          card(self.root, d.tps, d.seq)):
            return "REJECTED:CODE_BAD", ("fail", lk)
        old = self.accepted.get((d.tps, d.seq))
        if old is not None:
            return ("DUPLICATE" if old == canon else
                    "REJECTED:SEQ_USED"), ("seen", d)
        hist = self.history.get((d.tps, d.contest, d.page), {})
        flags = self._flags(d)
        cls = "FLAGGED:" + "+".join(flags) if flags else "OK"
        if hist and max(hist) > d.seq:
            cls += "/stale"
        elif hist:
            cls += "/koreksi"
        return cls, ("accept", d)

    def commit(self, effect):
        if effect is None:
            return
        what, arg = effect
        if what == "fail":
            self.fails[arg] = self.fails.get(arg, 0) + 1
        elif what == "accept":
            d = arg
            self.accepted[(d.tps, d.seq)] = d.canon()
            self.history.setdefault((d.tps, d.contest, d.page),
                                    {})[d.seq] = d.values

    def _like_ppwp(self, d):
        pairs = self.el.pairs
        if pairs == 0 or d.page is None or d.page > 999 or \
                1 + len(d.values) != pairs + 3:
            return False
        v = d.values
        return d.page > 99 or (sum(v[:pairs]) == v[pairs] and
                               v[pairs] + v[pairs + 1] == d.page)

    def _flags(self, d):
        v, flags = d.values, []
        if d.page is None or d.page == 0:
            if sum(v[1:-2]) != v[-2]:
                flags.append("SUM")
            if v[-2] + v[-1] != v[0]:
                flags.append("TOTAL")
            if v[0] > dpt_limit(self.reg.dpt(d.tps)):
                flags.append("DPT")
        else:
            zero = self.history.get((d.tps, d.contest, 0))
            if zero:
                latest = zero[max(zero)]
                col = self.el.ballot(d.contest, d.tps).index(d.page)
                if sum(v) != latest[1 + col]:
                    flags.append("PARTY")
        return flags

# --- the corpus files (README.md) ---------------------------------------


def esc(s):
    """Backslashes, and every control or non-ASCII character, as escapes
    (\\\\, \\xHH, \\uHHHH, \\UHHHHHHHH): a corpus file is plain ASCII."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif 0x20 <= o < 0x7f:
            out.append(ch)
        elif o < 0x100:
            out.append("\\x%02x" % o)
        elif o < 0x10000:
            out.append("\\u%04x" % o)
        else:
            out.append("\\U%08x" % o)
    return "".join(out)


def unesc(s):
    out, i = [], 0
    while i < len(s):
        if s[i] != "\\":
            out.append(s[i])
            i += 1
            continue
        n = {"\\": 0, "x": 2, "u": 4, "U": 8}[s[i + 1]]
        out.append("\\" if n == 0 else chr(int(s[i + 2:i + 2 + n], 16)))
        i += 2 + n
    return "".join(out)


FIELDS = ("id", "phase", "from", "via", "text", "expect", "raw", "why")


def load(paths):
    """Entries of corpus files: dicts of FIELDS (raw None for '-'),
    'where' the file and line."""
    entries, seen = [], set()
    for path in paths:
        with open(path, encoding="ascii") as f:
            for ln, line in enumerate(f, 1):
                line = line.rstrip("\n")
                if not line or line.startswith("#"):
                    continue
                c = line.split("\t")
                if len(c) != len(FIELDS):
                    raise SystemExit("%s:%d: %d fields, not %d" %
                                     (path, ln, len(c), len(FIELDS)))
                e = dict(zip(FIELDS, c))
                e["phase"] = int(e["phase"])
                e["text"], e["why"] = unesc(e["text"]), unesc(e["why"])
                e["raw"] = None if e["raw"] == "-" else unesc(e["raw"])
                e["where"] = "%s:%d" % (path.split("/")[-1], ln)
                if e["id"] in seen:
                    raise SystemExit("%s: id %s twice" % (e["where"],
                                                          e["id"]))
                seen.add(e["id"])
                entries.append(e)
    return entries


def line(e):
    return "\t".join([e["id"], str(e["phase"]), e["from"], e["via"],
                      esc(e["text"]), e["expect"],
                      "-" if e["raw"] is None else esc(e["raw"]),
                      esc(e["why"])])
