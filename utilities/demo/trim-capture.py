#!/usr/bin/env python3
"""trim-capture.py IN.pcap OUT.pcap [PER_FLOW] [MAX_FLOWS_PER_SERVICE]

Makes a small demo capture from a large one (bench/gen-mix.sh output): keeps
the first PER_FLOW packets (default 12) of at most MAX_FLOWS_PER_SERVICE
flows (default 6) per server port.  Classic pcap, Ethernet, IPv4/IPv6 with
TCP or UDP; other frames are dropped.  Needs nothing but python3.
"""
import collections
import struct
import sys


def flow_of(frame):
    """Returns (proto, sorted endpoints, server port) or None."""
    eth_type = struct.unpack('>H', frame[12:14])[0]
    ip = frame[14:]
    if eth_type == 0x0800 and len(ip) >= 20:
        ihl, proto = (ip[0] & 15) * 4, ip[9]
        src, dst, l4 = ip[12:16], ip[16:20], ip[ihl:]
    elif eth_type == 0x86dd and len(ip) >= 40:
        proto, src, dst, l4 = ip[6], ip[8:24], ip[24:40], ip[40:]
    else:
        return None
    if proto not in (6, 17) or len(l4) < 4:
        return None
    sport, dport = struct.unpack('>HH', l4[:4])
    ends = tuple(sorted(((src, sport), (dst, dport))))
    return proto, ends, min(sport, dport)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    per_flow = int(sys.argv[3]) if len(sys.argv) > 3 else 12
    per_service = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    data = open(src, 'rb').read()
    order = '<' if data[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') \
        else '>'
    out = [data[:24]]
    counts = collections.Counter()
    services = collections.defaultdict(set)
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack(order + 'I', data[off + 8:off + 12])[0]
        rec = data[off:off + 16 + caplen]
        off += 16 + caplen
        flow = flow_of(rec[16:])
        if not flow:
            continue
        key, service = flow[:2], (flow[0], flow[2])
        if key not in services[service]:
            if len(services[service]) >= per_service:
                continue
            services[service].add(key)
        if counts[key] < per_flow:
            counts[key] += 1
            out.append(rec)
    with open(dst, 'wb') as f:
        f.write(b''.join(out))
    print('%s: %d packets of %d flows' % (dst, len(out) - 1, len(counts)))


if __name__ == '__main__':
    main()
