#!/bin/sh
# make-seeds.sh TARGET DIR: writes a small seed corpus for TARGET into DIR.
set -u
target=$1 dir=$2
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
off, n = 24, 0
while off + 16 <= len(data) and n < 20:
    caplen = struct.unpack(swap + 'I', data[off + 8:off + 12])[0]
    frame = data[off + 16:off + 16 + caplen]
    with open('%s/%s-%d' % (out, name, n), 'wb') as g:
        g.write(bytes([kind]) + frame)
    off += 16 + caplen
    n += 1
PY
    done
    ;;
fuzz-policy)
    printf 'priority=300, profile=web, app=BitTorrent, actions=drop\n' > "$dir/p1"
    printf 'priority=200, profile=web, tcp, tp_dst=443, sni=*.example.com, actions=allow\n' > "$dir/p2"
    printf 'priority=100, nw_src=10.0.0.0/8, risk=clear_text_credentials, actions=drop,log\n' > "$dir/p3"
    printf 'priority=1, udp, tp_dst=53-60, actions=mirror:p9,meter:1000\n# c\n' > "$dir/p4"
    printf 'ipv6_src=2001:db8::/32, dl_src=00:11:22:33:44:55, actions=label\n' > "$dir/p5"
    ;;
esac
