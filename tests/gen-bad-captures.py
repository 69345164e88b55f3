#!/usr/bin/env python3
"""Writes the crafted bad-input captures that tests/bad-input.sh feeds to
flowsteer-inspect: one small pcap per case, named CASE.pcap, in the output
directory given as the only argument.

    tests/gen-bad-captures.py DIR

Each capture holds one good control packet first (an Ethernet/IPv4/TCP SYN
10.0.0.1:1234 -> 10.0.0.2:80, so the test can see that good packets still
make flows) and then the bad packet(s) of its case.  The output is
deterministic: fixed addresses, fixed timestamps, no randomness, so the
files are byte-identical from run to run.

Packets are built with scapy and cut or bent by hand where scapy would fix
them up; the pcap files are written by write_pcap() below, because some
cases need a caplen below the wire length or a link type scapy would not
choose.
"""

import logging
import os
import struct
import sys

# scapy warns on import about missing routes or interfaces; the packets here
# never use either (every address is explicit).
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

from scapy.layers.inet import ICMP, IP, TCP, UDP  # noqa: E402
from scapy.layers.inet6 import (  # noqa: E402
    IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, PadN)
from scapy.layers.l2 import ARP, Dot1Q, Ether  # noqa: E402
from scapy.packet import Raw  # noqa: E402

LINKTYPE_ETHERNET = 1
LINKTYPE_USER0 = 147            # Not a link type the inspector knows.

MAC_A = "02:00:00:00:00:01"
MAC_B = "02:00:00:00:00:02"
IP_A = "10.0.0.1"
IP_B = "10.0.0.2"
IP6_A = "fd00::1"
IP6_B = "fd00::2"

TS_START = 1700000000           # Fixed capture time: 2023-11-14 22:13:20 UTC.


def eth(payload_type=None):
    """Returns an Ethernet header between the two test hosts."""
    if payload_type is None:
        return Ether(src=MAC_A, dst=MAC_B)
    return Ether(src=MAC_A, dst=MAC_B, type=payload_type)


def ip4(**kw):
    kw.setdefault("id", 1)
    return IP(src=IP_A, dst=IP_B, **kw)


def ip6(**kw):
    return IPv6(src=IP6_A, dst=IP6_B, **kw)


def control():
    """The good control packet: a TCP SYN 10.0.0.1:1234 -> 10.0.0.2:80."""
    return bytes(eth() / ip4() / TCP(sport=1234, dport=80, flags="S", seq=1000))


def frame(data, wirelen=None):
    """A captured frame: its bytes and its length on the wire."""
    return (bytes(data), len(data) if wirelen is None else wirelen)


def write_pcap(path, frames, linktype=LINKTYPE_ETHERNET, snaplen=65535):
    """Writes 'frames' (a list of (bytes, wirelen)) as a classic
    little-endian microsecond pcap file, one millisecond apart."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, snaplen,
                            linktype))
        for i, (data, wirelen) in enumerate(frames):
            usec = i * 1000
            f.write(struct.pack("<IIII", TS_START + usec // 1000000,
                                usec % 1000000, len(data), wirelen))
            f.write(data)


def tcp_bytes(sport, dport, payload=b"", **kw):
    """Returns an IPv4 TCP segment (header + payload) with a correct
    checksum, without the IP header."""
    pkt = ip4() / TCP(sport=sport, dport=dport, **kw)
    if payload:
        pkt = pkt / Raw(payload)
    return bytes(pkt)[20:]


def udp_bytes(sport, dport, payload):
    """Returns an IPv4 UDP datagram (header + payload), without the IP
    header."""
    return bytes(ip4() / UDP(sport=sport, dport=dport) / Raw(payload))[20:]


# ---------------------------------------------------------------------------
# Cases.  Each returns the bad frames; the control packet is added in front.
# Each function's docstring says what the inspector must count.


def case_zero_length():
    """A frame with caplen 0 (and wire length 0, so that it is not also a
    snaplen cut): err_zero_length."""
    return [frame(b"", 0)]


def case_snaplen_cut():
    """A good TCP segment with an HTTP request, 200 bytes on the wire, cut
    by the snaplen at 60 bytes (Ethernet + IPv4 + TCP headers complete, 6
    bytes of payload): snaplen_cut, and a second flow 10.0.0.1:1235 ->
    10.0.0.2:80.  Its IPv4 total length (186) exceeds the captured bytes
    but not the wire length: no error."""
    req = b"GET / HTTP/1.1\r\nHost: www.example.com\r\n"
    req += b"User-Agent: flowsteer-test\r\nAccept: */*\r\n"
    hdr_len = 14 + 20 + 20
    req += b"X-Pad: " + b"a" * (200 - hdr_len - len(req) - 7 - 4) + b"\r\n\r\n"
    pkt = bytes(eth() / ip4() /
                TCP(sport=1235, dport=80, flags="PA", seq=2000, ack=1)
                / Raw(req))
    assert len(pkt) == 200, len(pkt)
    return [frame(pkt[:60], 200)]


def case_truncated_eth():
    """A 10-byte frame, shorter than an Ethernet header: err_truncated_l2."""
    return [frame(bytes(eth())[:10])]


def case_vlan3():
    """Three stacked 802.1Q tags, then IPv4/TCP: err_vlan_depth."""
    return [frame(eth() / Dot1Q(vlan=10) / Dot1Q(vlan=20) / Dot1Q(vlan=30) /
                  ip4() / TCP(sport=1240, dport=80, flags="S"))]


def case_vlan2_ok():
    """Two 802.1Q tags (outer VID 100, inner VID 200) then IPv4/TCP
    10.0.0.3:5555 -> 10.0.0.4:80: no error, a second flow whose vlan is
    200, the inner VID."""
    return [frame(eth() / Dot1Q(vlan=100) / Dot1Q(vlan=200) /
                  IP(src="10.0.0.3", dst="10.0.0.4", id=1) /
                  TCP(sport=5555, dport=80, flags="S"))]


def case_truncated_ipv4():
    """Ethernet (type IPv4) followed by 12 bytes of an IPv4 header:
    err_truncated_ipv4."""
    pkt = bytes(eth() / ip4() / TCP(sport=1241, dport=80, flags="S"))
    return [frame(pkt[:14 + 12])]


def case_ipv4_ihl_small():
    """An IPv4 header whose IHL is 4 (16 bytes, below the minimum 20):
    err_ipv4_ihl."""
    return [frame(eth() / ip4(ihl=4) / TCP(sport=1242, dport=80, flags="S"))]


def case_ipv4_ihl_big():
    """An IPv4 header whose IHL is 15 (60 bytes) in a packet that holds only
    the 20 bytes of the fixed header: err_ipv4_ihl."""
    return [frame(eth() / ip4(ihl=15, len=20, proto=6))]


def case_ipv4_total_len():
    """An IPv4 total length of 1500 in a 60-byte frame (TCP SYN plus 6 bytes
    of Ethernet padding): err_ipv4_total_len."""
    pkt = bytes(eth() / ip4(len=1500) / TCP(sport=1243, dport=80, flags="S"))
    pkt += b"\0" * (60 - len(pkt))
    return [frame(pkt)]


def case_bad_ip_version():
    """Ethertype IPv4, but the IP version field says 5: err_ip_version."""
    return [frame(eth() / ip4(version=5) / TCP(sport=1244, dport=80,
                                                 flags="S"))]


def case_truncated_ipv6():
    """Ethernet (type IPv6) followed by 30 of the 40 bytes of an IPv6
    header: err_truncated_ipv6."""
    pkt = bytes(eth() / ip6() / TCP(sport=1245, dport=80, flags="S"))
    return [frame(pkt[:14 + 30])]


def case_ipv6_payload_len():
    """An IPv6 payload length of 1000 with 20 bytes of payload in the frame:
    err_ipv6_payload_len."""
    return [frame(eth() / ip6(plen=1000) / TCP(sport=1246, dport=80,
                                                flags="S"))]


def case_ipv6_ext_overrun():
    """A hop-by-hop options header whose length field (10: 88 bytes) runs
    past the end of the packet (8 bytes of it, then a 20-byte TCP header;
    the IPv6 payload length of 28 matches the frame): err_ipv6_ext_overrun."""
    hbh = bytes(IPv6ExtHdrHopByHop(nh=6, len=10,
                                   options=[PadN(optdata=b"\0" * 4)]))
    assert len(hbh) == 8 and hbh[1] == 10, hbh
    tcp = bytes(ip6() / TCP(sport=1247, dport=80, flags="S"))[40:]
    return [frame(eth() / ip6(nh=0, plen=len(hbh) + len(tcp)) /
                  Raw(hbh + tcp))]


def case_ipv6_ext_loop():
    """A chain of 70 destination options headers (8 bytes each) before a
    TCP header, more than the 64 extension headers the inspector follows:
    err_ipv6_ext_chain."""
    pkt = ip6()
    for _ in range(70):
        pkt = pkt / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0" * 4)])
    pkt = pkt / TCP(sport=1248, dport=80, flags="S")
    data = bytes(eth() / pkt)
    assert len(data) == 14 + 40 + 70 * 8 + 20, len(data)
    return [frame(data)]


def case_truncated_tcp():
    """IPv4 with protocol 6 carrying only 10 bytes of L4 (total length
    30): err_truncated_tcp."""
    tcp = tcp_bytes(1249, 80, flags="S")[:10]
    return [frame(eth() / ip4(proto=6) / Raw(tcp))]


def case_tcp_doff_small():
    """A TCP header whose data offset is 2 (8 bytes, below the minimum
    20): err_tcp_doff."""
    return [frame(eth() / ip4() / TCP(sport=1250, dport=80, flags="S",
                                      dataofs=2))]


def case_tcp_doff_big():
    """A TCP header whose data offset is 15 (60 bytes) in a segment of 20
    bytes: err_tcp_doff."""
    return [frame(eth() / ip4() / TCP(sport=1251, dport=80, flags="S",
                                      dataofs=15))]


def case_truncated_udp():
    """IPv4 with protocol 17 carrying only 4 bytes of L4 (total length 24):
    err_truncated_udp."""
    udp = udp_bytes(4000, 53, b"xxxx")[:4]
    return [frame(eth() / ip4(proto=17) / Raw(udp))]


def case_truncated_icmp():
    """IPv4 with protocol 1 carrying only 2 bytes of L4 (total length 22):
    err_truncated_icmp."""
    icmp = bytes(ICMP(type=8, code=0, id=1, seq=1))[:2]
    return [frame(eth() / ip4(proto=1) / Raw(icmp))]


def case_frag_tiny():
    """The first fragment of an IPv4 datagram (offset 0, MF set) carrying
    only 8 bytes of its TCP header: fragments, err_frag_tiny."""
    tcp = tcp_bytes(1252, 80, payload=b"z" * 32, flags="PA")
    return [frame(eth() / ip4(id=0x1111, proto=6, flags="MF", frag=0) /
                  Raw(tcp[:8]))]


def case_frag_overlap():
    """Three fragments of one UDP datagram 10.0.0.1:4001 -> 10.0.0.2:9999
    (48 bytes: UDP header and 40 bytes of data): bytes 0-23 (MF), bytes
    24-39 (MF), then bytes 32-47 (last), which overlaps the second:
    fragments 3, err_frag_overlap 1.  The first two fragments are good and
    the first carries the whole UDP header, so the UDP flow is created."""
    udp = udp_bytes(4001, 9999, bytes(range(0x41, 0x41 + 40)))
    assert len(udp) == 48
    hdr = dict(id=0x2222, proto=17)
    return [
        frame(eth() / ip4(flags="MF", frag=0, **hdr) / Raw(udp[0:24])),
        frame(eth() / ip4(flags="MF", frag=3, **hdr) / Raw(udp[24:40])),
        frame(eth() / ip4(flags=0, frag=4, **hdr) / Raw(udp[32:48])),
    ]


def case_frag_orphan():
    """The last fragment (offset 24, MF clear) of a UDP datagram whose first
    fragment never appears: fragments, err_frag_orphan."""
    udp = udp_bytes(4002, 9999, bytes(range(0x61, 0x61 + 32)))
    return [frame(eth() / ip4(id=0x3333, proto=17, flags=0, frag=3) /
                  Raw(udp[24:]))]


def case_garbage_link_type():
    """A capture whose link type is 147 (USER0), which the inspector does
    not decode: flowsteer-inspect must refuse the file.  Its frame is a
    copy of the control packet."""
    return [frame(control())]


def case_non_ip():
    """An ARP request, padded to 60 bytes: non_ip, not an error."""
    pkt = bytes(Ether(src=MAC_A, dst="ff:ff:ff:ff:ff:ff") /
                ARP(op=1, hwsrc=MAC_A, psrc=IP_A,
                    hwdst="00:00:00:00:00:00", pdst=IP_B))
    return [frame(pkt + b"\0" * (60 - len(pkt)))]


CASES = [
    "zero_length", "snaplen_cut", "truncated_eth", "vlan3", "vlan2_ok",
    "truncated_ipv4", "ipv4_ihl_small", "ipv4_ihl_big", "ipv4_total_len",
    "bad_ip_version", "truncated_ipv6", "ipv6_payload_len",
    "ipv6_ext_overrun", "ipv6_ext_loop", "truncated_tcp", "tcp_doff_small",
    "tcp_doff_big", "truncated_udp", "truncated_icmp", "frag_tiny",
    "frag_overlap", "frag_orphan", "garbage_link_type", "non_ip",
]

# Per-file pcap header settings that differ from the defaults.
PCAP_OPTS = {
    "snaplen_cut": dict(snaplen=60),
    "garbage_link_type": dict(linktype=LINKTYPE_USER0),
}


def main(argv):
    if len(argv) != 2 or argv[1].startswith("-"):
        sys.stderr.write("usage: %s OUTPUT-DIR\n" % argv[0])
        return 2
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    for name in CASES:
        frames = [frame(control())] + globals()["case_" + name]()
        write_pcap(os.path.join(out, name + ".pcap"), frames,
                   **PCAP_OPTS.get(name, {}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
