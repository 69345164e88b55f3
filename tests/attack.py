#!/usr/bin/env python3
"""attack.py: a hostile VM's crafted TCP SYNs, and an observer of what of
them reaches the server.  For the shell tests that run VMs as network
namespaces on a private Open vSwitch (tests/ovs-lib.sh); run each part in
its VM's namespace (vm_exec).

    attack.py list
    attack.py send CLASS --iface IF --src-mac MAC --dst-mac MAC \\
        --src IP --dst IP [--src6 IP6 --dst6 IP6] --sport N --dport N \\
        [--benign-dport N] [--ip-id N] [--seq N] [--count N]
    attack.py observe --iface IF --port N [--seconds S] [--linger S] \\
        [--out FILE] [--ready-file FILE] [--ip-id N] [--seq N]

send (in the attacker's namespace) builds the frames of attack CLASS with
scapy and sends them at L2 on IF (sendp), toward --dst:--dport, and prints
one JSON line: {"class": CLASS, "frames": frames sent}.  Every packet of
an attack carries a mark the observer looks for: the IPv4 identification,
IPv6 flow label and IPv6 fragment id are all --ip-id (default 0xa77a), and
the TCP sequence number is --seq (default 0x41544b21), so an answer to the
SYN acknowledges --seq + 1.  Linux keeps an incomplete fragment queue for
30 s (ipfrag_time), and a queue is found by source, destination, protocol
and id: give attacks sent in a row different --ip-id values.

The classes: plain, tiny-frag, overlap-frag, out-of-order-frag,
ipv6-plain, ipv6-dstopts9, ipv6-dstopts2, vlan3, short-tcp, ihl4,
tcp-doff4.  'attack.py list' prints them with a line each, 'attack.py
list --long' with the whole description (the docstrings of the attack_*
functions below).  overlap-frag is RFC 1858's overlapping-fragment
attack moved to offset 0, where the ports are: a fragment at offset 0
with a SYN to --benign-dport, another at offset 0 with the SYN to
--dport, then the rest.

To add a class, write a function that takes the parsed arguments and
returns the list of frames (scapy packets or bytes), with a docstring
whose first line says what it sends, under @attack_class("NAME").

observe (in the server's namespace) captures every frame on IF with a raw
AF_PACKET socket (VLAN tags the kernel took off are put back from the
packet's auxiliary data) until --seconds have passed (default 5), or
--linger seconds after the last frame of the attack or its answer, or
SIGTERM/SIGINT; then prints one JSON object on one line on stdout (and
writes it to --out FILE).  Once the capture runs it prints "ready" on
stderr and creates --ready-file.  The object's fields:

  iface, port, ip_id, seq  what it watched for
  seconds       how long it captured
  frames        frames of the attack that arrived (toward the server,
                carrying the mark: IPv4 id or IPv6 flow label or IPv6
                fragment id equal to --ip-id); each fragment counts
  fragments     how many of those were fragments
  attack        each of those frames, in arrival order (at most 64):
                  dir     "in" (received on IF) or "out" (sent from it;
                          on lo, every frame is seen both ways)
                  len     frame length
                  vlans   VLAN ids of its 802.1Q/802.1ad tags, outer first
                  l3      "ipv4" or "ipv6"
                  ipv4: ihl, ip_len (total length), id, frag_offset (bytes),
                        mf (more fragments)
                  ipv6: flow_label, ip_len (payload length), ext (the
                        extension headers: "hopopts", "routing", "dstopts",
                        "fragment", "ah"), and for a fragment frag_id,
                        frag_offset, mf
                  l4_len  bytes after the IP headers up to the IP length
                  proto   the upper-layer protocol number
                  sport, dport, seq, ack, tcp_flags ("S", "SA", "R"...),
                  doff    the TCP fields that are within the IP length (a
                          non-first fragment has none).  A header whose IHL
                          is below 5 is read as if it were 20 bytes long.
  answered      whether a SYN-ACK or RST from --port answered the SYN
                (TCP, acknowledgment number --seq + 1)
  answer        "syn-ack", "rst" or null: the first such answer
  answers       every answer to the SYN, from any port (e.g. an RST from
                --benign-dport): list of {"sport", "dport", "tcp_flags"}
  icmp_errors   ICMP and ICMPv6 errors that quote a packet of the attack:
                list of {"l3", "type", "code"}
  from_port     frames from --port (TCP source port --port)
  other_to_port frames to --port without the mark (e.g. the attacker
                kernel's RST to a SYN-ACK it did not expect)
  frames_seen   every frame the socket saw on IF, in either direction

The observer parses frames itself (no scapy): it has to read malformed
headers without giving up, and its reading is then independent of the
sender's.

Needs root (raw sockets), in the namespace of the interface.
tests/attack-baseline.sh shows what Linux and a plain Open vSwitch do
with each class.
"""

import argparse
import inspect
import json
import os
import signal
import socket
import struct
import sys
import textwrap
import time

DEFAULT_IP_ID = 0xa77a
DEFAULT_SEQ = 0x41544b21        # "ATK!"
DEFAULT_BENIGN_DPORT = 80
S = None                # the scapy layers, once 'send' has imported them

# ---------------------------------------------------------------------------
# The attack classes.

CLASSES = {}


def attack_class(name):
    """Registers the decorated function as attack class NAME; its
    docstring describes the class."""
    def register(fn):
        CLASSES[name] = fn
        return fn
    return register


def scapy():
    """Imports the scapy layers the classes use; returns them as a module-
    like namespace.  Imported late so that 'observe' and 'list' run without
    scapy."""
    import logging
    logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt
    from scapy.layers.l2 import Dot1Q, Ether
    from scapy.packet import Raw
    from scapy.sendrecv import sendp
    return argparse.Namespace(IP=IP, TCP=TCP, IPv6=IPv6,
                              IPv6ExtHdrDestOpt=IPv6ExtHdrDestOpt,
                              Dot1Q=Dot1Q, Ether=Ether, Raw=Raw, sendp=sendp)


def eth(args):
    return S.Ether(src=args.src_mac, dst=args.dst_mac)


def ip4(args, **kw):
    kw.setdefault("id", args.ip_id)
    return S.IP(src=args.src, dst=args.dst, **kw)


def ip6(args):
    if not args.src6 or not args.dst6:
        sys.exit("attack.py: class %s needs --src6 and --dst6" % args.cls)
    return S.IPv6(src=args.src6, dst=args.dst6, fl=args.ip_id)


def syn(args, dport=None, options=(("MSS", 1460),), **kw):
    if dport is None:
        dport = args.dport
    return S.TCP(sport=args.sport, dport=dport, flags="S", seq=args.seq,
                 window=64240, options=list(options), **kw)


def tcp_bytes(args, tcp):
    """The TCP segment TCP as bytes, with its checksum for the IPv4 pseudo-
    header of --src and --dst."""
    return bytes(ip4(args, proto=6) / tcp)[20:]


def fragments(args, pieces):
    """IPv4 fragments of protocol TCP: PIECES is a list of (offset in
    bytes, data, more fragments)."""
    frames = []
    for offset, data, more in pieces:
        assert offset % 8 == 0
        frames.append(eth(args) / ip4(args, proto=6, flags="MF" if more else 0,
                                      frag=offset // 8) / S.Raw(load=data))
    return frames


def ones_sum(data):
    """The 16-bit one's complement sum of DATA (of even length)."""
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total > 0xffff:
        total = (total & 0xffff) + (total >> 16)
    return total


@attack_class("plain")
def attack_plain(args):
    """A normal SYN (the control case): IPv4, TCP window 64240, an MSS
    option."""
    return [eth(args) / ip4(args) / syn(args)]


@attack_class("tiny-frag")
def attack_tiny_frag(args):
    """The SYN as two IPv4 fragments: 8 bytes of TCP header, the rest at 8.

    The first fragment holds only the ports and the sequence number; the
    flags are in the second."""
    seg = tcp_bytes(args, syn(args))
    return fragments(args, [(0, seg[:8], True), (8, seg[8:], False)])


@attack_class("overlap-frag")
def attack_overlap_frag(args):
    """Overlapping IPv4 fragments: a SYN to --benign-dport, then to --dport.

    Three fragments: offset 0 with the first 16 bytes of a SYN to
    --benign-dport (default 80), offset 0 again with the first 16 bytes of
    the SYN to --dport, then the rest (checksum, urgent pointer, MSS
    option) at offset 16.  This is RFC 1858's overlapping-fragment attack
    moved to offset 0, since the ports are the TCP header's first 4 bytes
    (an overwrite at offset 8, as in RFC 1858, can only change the flags).
    A reassembler that keeps the later data sees a SYN to --dport, one
    that keeps the earlier sees a SYN to --benign-dport; the benign
    header's acknowledgment number (unused in a SYN) is chosen so that
    both readings have a valid checksum.  A filter that judges the first
    fragment sees the benign port."""
    real = tcp_bytes(args, syn(args))
    benign = bytearray(tcp_bytes(args, syn(args, dport=args.benign_dport,
                                           ack=0)))
    # Make the benign first 16 bytes sum as the real ones do: the low word
    # of the acknowledgment number (bytes 10-11) makes up the difference,
    # so the checksum in the shared tail is right for both readings.
    diff = (ones_sum(real[:16]) - ones_sum(bytes(benign[:16]))) % 0xffff
    benign[10:12] = struct.pack("!H", diff)
    assert (ones_sum(bytes(benign[:16])) - ones_sum(real[:16])) % 0xffff == 0
    return fragments(args, [(0, bytes(benign[:16]), True),
                            (0, real[:16], True),
                            (16, real[16:], False)])


@attack_class("overlap-frag-hdr")
def attack_overlap_frag_hdr(args):
    """Overlapping IPv4 fragments, each with a whole TCP header.

    A SYN carrying 16 bytes of data, in three fragments: offset 0 with the
    whole 24-byte header (MSS option) of a SYN to --benign-dport, offset 0
    again with the header of the SYN to --dport, then the data at offset
    24.  Unlike overlap-frag, the first fragment is not tiny: a filter that
    judges first fragments sees a complete, benign header, and lets the
    datagram through unless it notices the overlap.  Each header has the
    checksum of its own reading."""
    data = b"overlapping-frag"
    real = tcp_bytes(args, syn(args) / S.Raw(data))
    benign = tcp_bytes(args, syn(args, dport=args.benign_dport) / S.Raw(data))
    assert len(real) == 40 and real[24:] == benign[24:] == data
    return fragments(args, [(0, benign[:24], True), (0, real[:24], True),
                            (24, real[24:], False)])


@attack_class("out-of-order-frag")
def attack_out_of_order_frag(args):
    """A SYN as three IPv4 fragments (16, 16, 8 bytes), sent last first.

    The SYN has 20 bytes of TCP options (MSS, SACK permitted, timestamps,
    window scale) so that it splits in three."""
    seg = tcp_bytes(args, syn(args, options=[
        ("MSS", 1460), ("SAckOK", b""), ("Timestamp", (1, 0)), ("NOP", None),
        ("WScale", 7)]))
    assert len(seg) == 40, len(seg)
    return list(reversed(fragments(args, [
        (0, seg[:16], True), (16, seg[16:32], True), (32, seg[32:], False)])))


def ipv6_dstopts(args, n):
    pkt = ip6(args)
    for _ in range(n):
        pkt = pkt / S.IPv6ExtHdrDestOpt()       # 8 bytes: one PadN option
    return [eth(args) / pkt / syn(args)]


@attack_class("ipv6-plain")
def attack_ipv6_plain(args):
    """A normal IPv6 SYN (the IPv6 control case)."""
    return ipv6_dstopts(args, 0)


@attack_class("ipv6-dstopts9")
def attack_ipv6_dstopts9(args):
    """An IPv6 SYN behind 9 Destination Options headers.

    Each is 8 bytes, with one PadN option."""
    return ipv6_dstopts(args, 9)


@attack_class("ipv6-dstopts2")
def attack_ipv6_dstopts2(args):
    """An IPv6 SYN behind 2 Destination Options headers (a legal chain)."""
    return ipv6_dstopts(args, 2)


@attack_class("vlan3")
def attack_vlan3(args):
    """The IPv4 SYN behind three 802.1Q tags (VLANs 1, 2, 3)."""
    return [eth(args) / S.Dot1Q(vlan=1) / S.Dot1Q(vlan=2) / S.Dot1Q(vlan=3) /
            ip4(args) / syn(args)]


@attack_class("short-tcp")
def attack_short_tcp(args):
    """The IPv4 total length ends 12 bytes into the TCP header.

    The 12 bytes are the ports and the sequence and acknowledgment
    numbers; the other 8 bytes of the header (data offset, SYN flag,
    window, checksum) follow in the frame as if they were Ethernet
    padding, so that a parser that trusts the frame length rather than
    the IP length sees a whole SYN.  The frame is padded to 60 bytes."""
    seg = tcp_bytes(args, syn(args, options=()))
    frame = bytes(eth(args) / ip4(args, proto=6, len=20 + 12) /
                  S.Raw(load=seg[:12])) + seg[12:20]
    return [frame.ljust(60, b"\0")]


@attack_class("ihl4")
def attack_ihl4(args):
    """An IPv4 header with IHL 4 (16 bytes), then the SYN.

    The header is the usual 20 bytes, with a checksum over them; a parser
    that trusts the IHL finds the TCP header 4 bytes early."""
    return [eth(args) / ip4(args, ihl=4) / syn(args)]


@attack_class("tcp-doff4")
def attack_tcp_doff4(args):
    """A SYN whose TCP data offset is 4 (16 bytes), no options."""
    return [eth(args) / ip4(args) / syn(args, options=(), dataofs=4)]


def cmd_list(args):
    for name, fn in CLASSES.items():
        summary, _, rest = inspect.getdoc(fn).partition("\n\n")
        print("%-18s %s" % (name, " ".join(summary.split())))
        if args.long and rest:
            print(textwrap.indent(textwrap.fill(" ".join(rest.split()), 60),
                                  " " * 19))


def cmd_send(args):
    global S
    S = scapy()
    fn = CLASSES[args.cls]
    frames = []
    for _ in range(args.count):
        frames += [f if isinstance(f, bytes) else bytes(f) for f in fn(args)]
    # Raw: the bytes as built, without scapy fixing anything up.
    S.sendp([S.Raw(load=f) for f in frames], iface=args.iface, verbose=False)
    print(json.dumps({"class": args.cls, "frames": len(frames)}))


# ---------------------------------------------------------------------------
# The observer.

ETH_P_ALL = 0x0003
SOL_PACKET = 263
PACKET_AUXDATA = 8
PACKET_OUTGOING = 4
TP_STATUS_VLAN_VALID = 0x10
TP_STATUS_VLAN_TPID_VALID = 0x40
VLAN_TPIDS = (0x8100, 0x88a8, 0x9100)
IPV6_EXT = {0: "hopopts", 43: "routing", 60: "dstopts", 44: "fragment",
            51: "ah"}
TCP_FLAGS = "FSRPAUEC"


def tcp_flag_string(bits):
    """'SA' for SYN+ACK: the letters scapy uses, in its order."""
    return "".join(c for i, c in enumerate(TCP_FLAGS) if bits & (1 << i))


def parse_l4(info, proto, data, first):
    """Adds the TCP fields within DATA (the upper-layer bytes up to the IP
    length) to INFO."""
    info["proto"] = proto
    info["l4_len"] = len(data)
    info["_l4"] = data
    if proto != 6 or not first:
        return
    if len(data) >= 4:
        info["sport"], info["dport"] = struct.unpack("!HH", data[:4])
    if len(data) >= 8:
        info["seq"] = struct.unpack("!I", data[4:8])[0]
    if len(data) >= 12:
        info["ack"] = struct.unpack("!I", data[8:12])[0]
    if len(data) >= 14:
        info["doff"] = data[12] >> 4
        info["tcp_flags"] = tcp_flag_string(data[13])


def parse_ipv4(b):
    """The facts of IPv4 header B (and what follows), or None."""
    if len(b) < 20 or b[0] >> 4 != 4:
        return None
    ihl = b[0] & 15
    ip_len, ip_id, frag = struct.unpack("!HHH", b[2:8])
    info = {"l3": "ipv4", "ihl": ihl, "ip_len": ip_len, "id": ip_id,
            "frag_offset": (frag & 0x1fff) * 8, "mf": bool(frag & 0x2000)}
    info["fragment"] = info["mf"] or info["frag_offset"] > 0
    start = max(ihl, 5) * 4
    parse_l4(info, b[9], b[start:max(start, min(ip_len, len(b)))],
             info["frag_offset"] == 0)
    return info


def parse_ipv6(b):
    """The facts of IPv6 header B (and its extension headers), or None."""
    if len(b) < 40 or b[0] >> 4 != 6:
        return None
    first, ip_len = struct.unpack("!IH", b[:6])
    info = {"l3": "ipv6", "flow_label": first & 0xfffff, "ip_len": ip_len,
            "ext": [], "fragment": False}
    end = min(40 + ip_len, len(b))
    nh, off, is_first = b[6], 40, True
    while nh in IPV6_EXT and off + 8 <= end and len(info["ext"]) < 64:
        info["ext"].append(IPV6_EXT[nh])
        if nh == 44:
            frag, frag_id = struct.unpack("!HI", b[off + 2:off + 8])
            info.update(fragment=True, frag_id=frag_id,
                        frag_offset=frag & 0xfff8, mf=bool(frag & 1))
            is_first = info["frag_offset"] == 0
            size = 8
        elif nh == 51:
            size = (b[off + 1] + 2) * 4
        else:
            size = (b[off + 1] + 1) * 8
        nh, off = b[off], off + size
    parse_l4(info, nh, b[off:max(off, end)], is_first)
    return info


def parse_frame(frame):
    """The facts of Ethernet frame FRAME: a dict, l3 None if neither IPv4
    nor IPv6."""
    info = {"len": len(frame), "vlans": [], "l3": None}
    if len(frame) < 14:
        return info
    eth_type, off = struct.unpack("!H", frame[12:14])[0], 14
    while eth_type in VLAN_TPIDS and len(frame) >= off + 4:
        tci, eth_type = struct.unpack("!HH", frame[off:off + 4])
        info["vlans"].append(tci & 0xfff)
        off += 4
    l3 = {0x0800: parse_ipv4, 0x86dd: parse_ipv6}.get(eth_type)
    if l3:
        info.update(l3(frame[off:]) or {})
    return info


def has_mark(info, ip_id):
    if info["l3"] == "ipv4":
        return info["id"] == ip_id
    if info["l3"] == "ipv6":
        return info["flow_label"] == ip_id or info.get("frag_id") == ip_id
    return False


def quoted_attack(info, ip_id):
    """For an ICMP or ICMPv6 error, whether the packet it quotes is one of
    the attack's."""
    icmp = info["_l4"]
    if len(icmp) < 8:
        return None
    # Destination unreachable, time exceeded, parameter problem (and for
    # ICMPv6, packet too big).
    if info["proto"] == 1 and icmp[0] in (3, 11, 12):
        inner = parse_ipv4(icmp[8:])
    elif info["proto"] == 58 and icmp[0] in (1, 2, 3, 4):
        inner = parse_ipv6(icmp[8:])
    else:
        return None
    if inner and has_mark(inner, ip_id):
        return {"l3": info["l3"], "type": icmp[0], "code": icmp[1]}
    return None


class Observation:
    """What of one attack arrived: fed frames, gives the JSON object."""

    MAX_LISTED = 64

    def __init__(self, args):
        self.args = args
        self.result = {
            "iface": args.iface, "port": args.port, "ip_id": args.ip_id,
            "seq": args.seq, "seconds": 0, "frames": 0, "fragments": 0,
            "attack": [], "answered": False, "answer": None, "answers": [],
            "icmp_errors": [], "from_port": 0, "other_to_port": 0,
            "frames_seen": 0}

    def add(self, frame, outgoing=False):
        """Counts FRAME (sent from the interface if OUTGOING, else
        received); returns True if it belongs to the attack (or answers
        it)."""
        r, port = self.result, self.args.port
        r["frames_seen"] += 1
        info = parse_frame(frame)
        info["dir"] = "out" if outgoing else "in"
        if not info["l3"] or "proto" not in info:
            return False
        r["from_port"] += info.get("sport") == port
        # Answers and ICMP errors come from the server, whose IP id may
        # happen to be the mark: they are looked for first.
        flags = info.get("tcp_flags", "")
        if (info.get("ack") == (self.args.seq + 1) & 0xffffffff
                and "A" in flags and ("R" in flags or "S" in flags)):
            r["answers"].append({"sport": info["sport"],
                                 "dport": info["dport"], "tcp_flags": flags})
            if info["sport"] == port and not r["answered"]:
                r["answered"] = True
                r["answer"] = "rst" if "R" in flags else "syn-ack"
            return True
        error = quoted_attack(info, self.args.ip_id)
        if error:
            r["icmp_errors"].append(error)
            return True
        if not has_mark(info, self.args.ip_id):
            r["other_to_port"] += info.get("dport") == port
            return False
        r["frames"] += 1
        r["fragments"] += info["fragment"]
        if len(r["attack"]) < self.MAX_LISTED:
            r["attack"].append({k: v for k, v in info.items()
                                if not k.startswith("_")})
        return True


def open_capture(iface):
    """A raw socket that sees every frame on IFACE, in both directions.
    Made with protocol 0 (it receives nothing) and bound with ETH_P_ALL, so
    that no frame of another interface gets in between."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
    sock.setsockopt(SOL_PACKET, PACKET_AUXDATA, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((iface, ETH_P_ALL))
    return sock


def receive(sock):
    """One frame from SOCK, with the VLAN tag the kernel took off put back,
    and whether it was outgoing.  Raises socket.timeout."""
    data, ancdata, _, addr = sock.recvmsg(65536, socket.CMSG_SPACE(20))
    for level, kind, aux in ancdata:
        if level != SOL_PACKET or kind != PACKET_AUXDATA or len(aux) < 20:
            continue
        status, _, _, _, _, tci, tpid = struct.unpack("=IIIHHHH", aux[:20])
        if status & TP_STATUS_VLAN_VALID and len(data) >= 12:
            if not status & TP_STATUS_VLAN_TPID_VALID:
                tpid = 0x8100
            data = data[:12] + struct.pack("!HH", tpid, tci) + data[12:]
    return data, addr[2] == PACKET_OUTGOING


def write_result(path, text):
    tmp_path = path + ".tmp"
    with open(tmp_path, "w") as f:
        f.write(text + "\n")
    os.replace(tmp_path, path)


def cmd_observe(args):
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.append(1))
    obs = Observation(args)
    sock = open_capture(args.iface)
    sock.settimeout(0.1)
    start = time.monotonic()
    deadline = start + args.seconds
    print("ready", file=sys.stderr, flush=True)
    if args.ready_file:
        open(args.ready_file, "w").close()
    last = None
    while not stop:
        now = time.monotonic()
        if now >= deadline or (last is not None and args.linger is not None
                               and now >= last + args.linger):
            break
        try:
            frame, outgoing = receive(sock)
        except (socket.timeout, InterruptedError):
            continue
        if obs.add(frame, outgoing):
            last = time.monotonic()
    sock.close()
    obs.result["seconds"] = round(time.monotonic() - start, 3)
    text = json.dumps(obs.result, sort_keys=True)
    print(text, flush=True)
    if args.out:
        write_result(args.out, text)


# ---------------------------------------------------------------------------

def number(text):
    """An integer in decimal or 0x hex."""
    return int(text, 0)


def main():
    p = argparse.ArgumentParser(
        description="A hostile VM's crafted TCP SYNs (send), and what of "
        "them reaches the server (observe).",
        epilog="The file's docstring (pydoc3 tests/attack.py) describes "
        "the marks, the classes and the observer's JSON.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    lp = sub.add_parser("list", help="list the attack classes")
    lp.set_defaults(fn=cmd_list)
    lp.add_argument("--long", action="store_true",
                    help="with the whole description of each")

    s = sub.add_parser("send", help="send one attack (in the attacker's "
                       "namespace)")
    s.set_defaults(fn=cmd_send)
    s.add_argument("cls", metavar="CLASS", choices=list(CLASSES),
                   help="the attack: " + ", ".join(CLASSES))
    for opt, metavar, kind, required, what in [
            ("--iface", "IF", str, True, "interface to send on"),
            ("--src-mac", "MAC", str, True, "Ethernet source"),
            ("--dst-mac", "MAC", str, True, "Ethernet destination"),
            ("--src", "IP", str, True, "IPv4 source"),
            ("--dst", "IP", str, True, "IPv4 destination"),
            ("--src6", "IP6", str, False, "IPv6 source (ipv6-* classes)"),
            ("--dst6", "IP6", str, False, "IPv6 destination (ipv6-* "
             "classes)"),
            ("--sport", "N", number, True, "TCP source port"),
            ("--dport", "N", number, True, "TCP destination port (the "
             "target)")]:
        s.add_argument(opt, metavar=metavar, type=kind, required=required,
                       help=what)
    s.add_argument("--benign-dport", metavar="N", type=number,
                   default=DEFAULT_BENIGN_DPORT,
                   help="overlap-frag: the allowed port its first fragment "
                   "shows (default %(default)s)")
    s.add_argument("--count", metavar="N", type=number, default=1,
                   help="send the attack this many times (default 1)")

    o = sub.add_parser("observe", help="report what of an attack arrives "
                       "(in the server's namespace)")
    o.set_defaults(fn=cmd_observe)
    o.add_argument("--iface", metavar="IF", required=True,
                   help="interface to capture on")
    o.add_argument("--port", metavar="N", required=True, type=number,
                   help="the server's TCP port (the attack's --dport)")
    o.add_argument("--seconds", metavar="S", type=float, default=5.0,
                   help="capture at most this long (default 5)")
    o.add_argument("--linger", metavar="S", type=float,
                   help="stop this many seconds after the last frame of the "
                   "attack or of its answer (default: run for --seconds)")
    o.add_argument("--out", metavar="FILE",
                   help="also write the JSON object to this file")
    o.add_argument("--ready-file", metavar="FILE",
                   help="create this file once the capture runs")

    for sp in (s, o):
        sp.add_argument("--ip-id", metavar="N", type=number,
                        default=DEFAULT_IP_ID,
                        help="the mark: IPv4 id, IPv6 flow label and "
                        "fragment id (default 0x%x)" % DEFAULT_IP_ID)
        sp.add_argument("--seq", metavar="N", type=number,
                        default=DEFAULT_SEQ,
                        help="the SYN's sequence number (default 0x%x)"
                        % DEFAULT_SEQ)

    args = p.parse_args()
    if args.command == "send":
        if not 0 <= args.ip_id <= 0xffff:
            p.error("--ip-id must fit 16 bits (it is the IPv4 id)")
        if args.count < 1:
            p.error("--count must be at least 1")
    args.fn(args)


if __name__ == "__main__":
    main()
