#!/bin/sh
# make-seeds.sh TARGET DIR [PATH]: writes a small seed corpus for TARGET
# into DIR (PATH: the target's program, for targets that write their own).
set -u
target=$1 dir=$2 TARGET_PATH=${3:-}
shared=${FLOWSTEER_SHARED:-$(dirname "$0")/../../../shared}
case $target in
fuzz-packet)
    # The first 20 frames of a few reference captures, one file each,
    # behind a link-type byte of 0 (Ethernet).
    py=$(command -v /usr/bin/python3 || command -v python3)
    for cap in 443-curl.pcap dns_doh.pcap ftp.pcap quic.pcap 6in4tunnel.pcap; do
        f=$shared/data/ndpi-4.2/pcap/$cap
        [ -f "$f" ] || continue
        "$py" - "$f" "$dir" "$cap" <<'PY'
import struct, sys
path, out, name = sys.argv[1:4]
with open(path, 'rb') as f:
    data = f.read()
swap = '<' if data[:4] == b'\xd4\xc3\xb2\xa1' else '>'
link = struct.unpack(swap + 'I', data[20:24])[0]
kind = {1: 0, 101: 1, 12: 1, 113: 2, 0: 3}.get(link, 0)
off, n, frames = 24, 0, []
while off + 16 <= len(data) and n < 64:
    caplen = struct.unpack(swap + 'I', data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + caplen]
    if n < 20:
        with open('%s/%s-%d' % (out, name, n), 'wb') as g:
            g.write(bytes([kind]) + frame)
    frames.append(frame)
    off += 16 + caplen
    n += 1
# And the first 64 frames (MAX_FRAMES) in one input, as a flow (inputs
# are self-contained: each starts from an empty flow table and nDPI).
with open('%s/%s-flow' % (out, name), 'wb') as g:
    g.write(bytes([kind]) + b'\xff\xfe'.join(frames[:64]))
PY
    done
    # (run-fuzz.sh adds the inputs of regress/fuzz-packet/, each also a
    # case of tests/test-ndpi-regress.c.)
    ;;
fuzz-openflow)
    # The target writes its own: a switch's answers to a session.
    FUZZ_OPENFLOW_SEEDS=$dir "$TARGET_PATH" > /dev/null 2>&1
    ;;
fuzz-record)
    # The target writes its own: records of flows decided and classifying.
    FUZZ_RECORD_SEEDS=$dir "$TARGET_PATH" > /dev/null 2>&1
    ;;
fuzz-chan)
    # The target writes its own: a good message of each kind.
    FUZZ_CHAN_SEEDS=$dir "$TARGET_PATH" > /dev/null 2>&1
    ;;
fuzz-mig)
    # The target writes its own: a good message of each kind.
    FUZZ_MIG_SEEDS=$dir "$TARGET_PATH" > /dev/null 2>&1
    ;;
fuzz-config)
    printf 'o flowsteer-bridge=br-int\no flowsteer-mode=inline\no flowsteer-fail=closed\no flowsteer-policy=/etc/flowsteer/policy.conf\nb br-int netdev\ni vm1 tap 1\ne flowsteer-inspect=true\ne flowsteer-profile=web\ne attached-mac=52:54:00:00:00:01\ni vm2 \"\" 2\ne flowsteer-inspect=true\nb br-sec netdev\n' > "$dir/c1"
    printf 'o flowsteer-bridge=br-int\no flowsteer-exception-policy=drop,frag_tiny=alert,non_ip=allow\no flowsteer-idle-timeout-tcp=3600\no flowsteer-idle-timeout-udp=0\no flowsteer-watchdog-ms=50\no flowsteer-max-flows-per-port=100\no flowsteer-port-full=evict\no flowsteer-sec-bridge=br/x\nb br-int system\ni vm1 internal 70000\ne flowsteer-inspect=yes\ni vm2 patch 3\ne flowsteer-inspect=true\ne flowsteer-profile=a b\n' > "$dir/c2"
    printf 'o flowsteer-bridge=br-sec\no flowsteer-mode=tap\no flowsteer-policy=relative.conf\no flowsteer-policy-permissive=maybe\no flowsteer-datapath=dpdk\nb br-sec netdev\nn\n' > "$dir/c3"
    ;;
fuzz-rules)
    printf 'set 1 tcp 10.0.0.1:1000 10.0.0.2:80 allow\nset 2 udp [2001:db8::1]:53 [2001:db8::2]:5353 drop vlan=7 in_port=3\nsync\nstats\n' > "$dir/r1"
    printf 'set 3 tcp 10.0.0.1:1 10.0.0.2:2 meter:100,log label=7.8,5,1024\ncommit\ndel 3\nwait-gone 3\ntimeouts 300 60 30\n' > "$dir/r2"
    printf 'set 4 icmp 10.0.0.1 10.0.0.2 mirror:p1\nset 4 tcp 1.2.3.4:5 6.7.8.9:10 label\n# comment\n\ndel 9\n' > "$dir/r3"
    ;;
fuzz-policy)
    printf 'priority=300, profile=web, app=BitTorrent, actions=drop\n' > "$dir/p1"
    printf 'priority=200, profile=web, tcp, tp_dst=443, sni=*.example.com, actions=allow\n' > "$dir/p2"
    printf 'priority=100, nw_src=10.0.0.0/8, risk=clear_text_credentials, actions=drop,log\n' > "$dir/p3"
    printf 'priority=1, udp, tp_dst=53-60, actions=mirror:p9,meter:1000\n# c\n' > "$dir/p4"
    printf 'ipv6_src=2001:db8::/32, dl_src=00:11:22:33:44:55, actions=label\n' > "$dir/p5"
    ;;
fuzz-record)
    # Version 1 records (inspector/insp-record.h): an allowed HTTP flow
    # with a host, a dropped one with a mirror-less verdict, an IPv6 one.
    py=$(command -v /usr/bin/python3 || command -v python3)
    "$py" - "$dir" <<'PY'
import struct, sys
out = sys.argv[1]
def v4(a):
    return bytes(10) + b'\xff\xff' + bytes(a)
def record(name, flags, classified, rid, src, dst, sport, dport, proto,
           ipver, actions, meter, prio, host, rule, mirror=b''):
    fixed = struct.pack('>HBBHBBQ16s16sHHHBBII6s6sHHHHQ16sIIi4Q2IQQBBBB',
        0x4672, 1, flags, 0, classified, 1, rid, src, dst, sport, dport, 0,
        proto, ipver, 1, 0, b'\x02\0\0\0\0\x01', b'\x02\0\0\0\0\x02',
        7, 0, 5, 0, 1 << 36, bytes(16), actions, meter, prio, 3, 2, 300,
        200, 1000, 2000, 10**9, 10**8, len(mirror), len(host), len(rule), 0)
    body = fixed + mirror + host + rule
    body = body[:4] + struct.pack('>H', len(body)) + body[6:]
    with open('%s/%s' % (out, name), 'wb') as f:
        f.write(body)
record('http', 1, 1, 5, v4([10, 0, 0, 1]), v4([10, 0, 0, 2]), 40000, 80, 6,
       4, 1 | 32, 0, 100, b'www.example.com', b'p.conf:3')
record('drop', 3, 0, 77, v4([10, 0, 0, 1]), v4([10, 0, 0, 9]), 53, 53, 17,
       4, 2, 0, 5, b'', b'default')
record('v6', 0, 2, 2**40, bytes([0xfd] + [0] * 14 + [1]),
       bytes([0xfd] + [0] * 14 + [2]), 1, 2, 6, 6, 1 | 4 | 8, 1000, -1,
       b'', b'imported', b'p2')
PY
    ;;
esac
