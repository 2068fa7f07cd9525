#!/usr/bin/env python3
"""Plays the hostile USSD requests (ussd.tsv, README.md "USSD") against
the callback of a gateway started by `tallysim world --dir RUNDIR`
(RUNDIR/ussd.url, RUNDIR/ussd.secret), in order, and judges each answer
by its class; then how many messages each session stored. Prints one
`check ussd PASSED FAILED` line and what failed; exit 1 if anything
did.

    ussd.py --dir RUNDIR ussd.tsv
"""

import os
import re
import sqlite3
import sys
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import proto  # noqa: E402


def unescape(s):
    """{C*N}, then the corpus's backslash escapes (proto.unesc)."""
    return proto.unesc(re.sub(r'\{(.)\*(\d+)\}',
                              lambda m: m.group(1) * int(m.group(2)), s))


def request(url, secret, e):
    """POST (or GET) one request; (status, body)."""
    fields = [('sessionId', e['session']), ('serviceCode', e['service']),
              ('phoneNumber', e['phone']), ('networkCode', '51010'),
              ('text', e['text'])]
    body = '&'.join(k + '=' + urllib.parse.quote(v, safe='')
                    for k, v in fields).encode()
    headers = {'Content-Type': 'application/x-www-form-urlencoded'}
    auth = e['auth']
    if auth in ('header', 'get'):
        headers['X-Tally-Secret'] = secret
    elif auth == 'wrong':
        headers['X-Tally-Secret'] = 'x' * len(secret)
    elif auth == 'path':
        url = url + '/' + secret
    req = urllib.request.Request(url, data=None if auth == 'get' else body,
                                 headers=headers,
                                 method='GET' if auth == 'get' else 'POST')
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read().decode('utf-8', 'replace')
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode('utf-8', 'replace')


def judge(e, status, body, answers):
    """None if the answer is of the line's class, else what is wrong."""
    want = e['expect']
    if re.fullmatch(r'\d{3}', want):
        return None if status == int(want) else 'status %d' % status
    if status != 200:
        return 'status %d' % status
    if want.startswith('same:'):
        prev = answers.get(want[5:])
        return None if prev == body else 'not the answer of ' + want[5:]
    kind, _, pat = want.partition('~')
    if not body.startswith(kind + ' '):
        return 'not %s' % kind
    if pat and not re.search(pat, body):
        return 'no /%s/' % pat
    return None


def main(argv):
    if len(argv) != 4 or argv[1] != '--dir':
        sys.exit(__doc__)
    rundir = argv[2]
    url = open(rundir + '/ussd.url').read().strip()
    secret = open(rundir + '/ussd.secret').read().strip()
    entries = []
    for line in open(argv[3], encoding='utf-8'):
        line = line.rstrip('\n')
        if not line or line.startswith('#'):
            continue
        f = line.split('\t')
        entries.append(dict(id=f[0], session=unescape(f[1]),
                            phone=unescape(f[2]), service=f[3],
                            text=unescape(f[4]), auth=f[5], expect=f[6],
                            stored=f[7], why=f[8]))
    answers, failed, passed = {}, [], 0
    for e in entries:
        status, body = request(url, secret, e)
        answers[e['id']] = body
        what = judge(e, status, body, answers)
        if what is None:
            passed += 1
        else:
            failed.append('%s (%s): %s: %s' % (e['id'], e['why'], what,
                                               body[:80]))
    db = sqlite3.connect(rundir + '/gw/tallygw.db', timeout=30)
    for e in entries:
        if e['stored'] == '-':
            continue
        n = db.execute("SELECT count(*) FROM messages WHERE modem = 'ussd' "
                       "AND smsc_time = ?", (e['session'],)).fetchone()[0]
        if n == int(e['stored']):
            passed += 1
        else:
            failed.append('%s (%s): session %s stored %d, not %s' % (
                e['id'], e['why'], e['session'][:20], n, e['stored']))
    print('check ussd %d %d' % (passed, len(failed)))
    for f in failed:
        print('# ussd: ' + f.replace('\n', ' '))
    return 1 if failed else 0


sys.exit(main(sys.argv))
