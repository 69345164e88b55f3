#!/usr/bin/env python3
"""Compares flowsteer-inspect's classification with nDPI's own ndpiReader.

usage: compare-reference.py RESULT_DIR FLOWS.json EXCEPTIONS [MIN_PERCENT]

RESULT_DIR holds ndpiReader's output per capture (<capture>.out, as in
shared/data/ndpi-4.2/result); FLOWS.json is `flowsteer-inspect --json`
output for the same captures.  For every TCP and UDP flow of the reference,
keyed by capture, protocol and endpoints (either direction), the
application name must be the same.  Prints the agreement figure and every
disagreement; exits 1 if agreement is below MIN_PERCENT (default 99) or if
any reference flow is missing, unless EXCEPTIONS lists it with the reason
(each exception must still be missing: a stale one fails too).
"""
import collections
import ipaddress
import json
import os
import re
import sys

FLOW_RE = re.compile(
    r'^\t\d+\t(TCP|UDP) (\S+) (?:<->|->) (\S+) (?:\[VLAN: (\d+)\])?'
    r'\[proto: (?:[A-Za-z]+:)?[0-9.]+/([^\]]+)\]')


def patch_ipv6(text):
    """Applies ndpiReader's rewrite of ':0:' as '::' to an IPv6 address."""
    out, i = [], 0
    while i < len(text):
        if text[i:i + 3] == ':0:':
            out.append('::')
            i += 3
        else:
            out.append(text[i])
            i += 1
    return ''.join(out)


def endpoint(text):
    """Splits 'a.b.c.d:port' or '[v6]:port' into (address, port)."""
    if text.startswith('['):
        addr, _, port = text[1:].rpartition(']:')
    else:
        addr, _, port = text.rpartition(':')
    return addr, int(port)


def norm_addr(addr, from_reference):
    """Returns a comparable form of an address from either side."""
    if ':' not in addr:
        return addr
    if not from_reference:
        addr = patch_ipv6(str(ipaddress.ip_address(addr)))
    return addr


def flow_key(capture, l4, a, b, from_reference, vlan=0):
    ea = (norm_addr(a[0], from_reference), a[1])
    eb = (norm_addr(b[0], from_reference), b[1])
    return (capture, l4 if not vlan else '%s vlan %d' % (l4, vlan),
            frozenset((ea, eb)))


def read_reference(result_dir):
    ref = collections.defaultdict(list)
    for name in sorted(os.listdir(result_dir)):
        if not name.endswith('.out'):
            continue
        capture = name[:-4]
        with open(os.path.join(result_dir, name), 'rb') as f:
            for raw in f:
                line = raw.decode('latin-1')
                m = FLOW_RE.match(line)
                if m:
                    l4, a, b, vlan, app = m.groups()
                    key = flow_key(capture, l4, endpoint(a), endpoint(b),
                                   True, int(vlan or 0))
                    ref[key].append(app)
    return ref


def read_exceptions(path):
    excused = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith('#'):
                continue
            capture, l4, a, b, reason = line.split(None, 4)
            key = flow_key(capture, l4, endpoint(a), endpoint(b), True)
            excused[key] = reason
    return excused


def read_ours(path):
    ours = collections.defaultdict(list)
    with open(path) as f:
        for line in f:
            obj = json.loads(line)
            if obj.get('summary') or obj['l4'] not in ('TCP', 'UDP'):
                continue
            capture = os.path.basename(obj['capture'])
            key = flow_key(capture, obj['l4'],
                           (obj['src_ip'], obj['src_port']),
                           (obj['dst_ip'], obj['dst_port']), False,
                           obj.get('vlan', 0))
            ours[key].append(obj['app'])
    return ours


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    min_percent = float(sys.argv[4]) if len(sys.argv) > 4 else 99.0
    ref = read_reference(sys.argv[1])
    ours = read_ours(sys.argv[2])
    excused = read_exceptions(sys.argv[3])
    stale = [k for k in excused if k not in ref or k in ours]

    total = agree = missing = n_excused = 0
    bad = []
    for key in sorted(ref, key=lambda k: (k[0], k[1], sorted(k[2]))):
        want = sorted(ref[key])
        got = sorted(ours.get(key, []))
        for i, app in enumerate(want):
            total += 1
            if i >= len(got) and key in excused:
                n_excused += 1
                print('EXCUSED %s %s reference=%s: %s'
                      % (key[0], key[1], app, excused[key]))
            elif i >= len(got):
                missing += 1
                bad.append((key, app, '(missing)'))
            elif got[i] == app:
                agree += 1
            else:
                bad.append((key, app, got[i]))

    for (capture, l4, eps), want, got in bad:
        a, b = (sorted(eps) * 2)[:2]
        print('DIFF %s %s %s:%d <-> %s:%d reference=%s flowsteer=%s'
              % (capture, l4, a[0], a[1], b[0], b[1], want, got))
    for key in stale:
        print('STALE exception (flow present or not in the reference): '
              '%s %s %s' % (key[0], key[1], sorted(key[2])))
    percent = 100.0 * agree / total if total else 0.0
    print('agreement: %d of %d TCP/UDP reference flows (%.2f%%), '
          '%d different, %d missing, %d excused (malformed, see %s)'
          % (agree, total, percent, len(bad) - missing, missing, n_excused,
             os.path.basename(sys.argv[3])))
    if not total or missing or stale or percent < min_percent:
        print('FAIL: need >= %.1f%%, no missing flow and no stale exception'
              % min_percent)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
