#!/bin/bash
# What Linux and a plain Open vSwitch do with each of tests/attack.py's
# crafted SYNs, without flowsteer: VM a attacks VM b (a TCP listener) across
# br0 with NORMAL forwarding, while attack.py's observer captures on b's
# interface.  Prints a table: class, frames sent and arrived, fragments,
# and what b's kernel answered.
#
# The checks are about the tool: every frame of every class reaches b
# through a plain switch with the shape the class claims (so the tool sends
# what it says), and the control cases (plain, ipv6-plain, ipv6-dstopts2)
# are answered with a SYN-ACK.  Linux's answers to the other classes are
# printed, not checked.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

ovs_lib_init

# A python3 with scapy: configure's, else the system's (Debian's
# python3-scapy), when PATH leads to another python3.
py=
for cand in "${PYTHON3:-}" python3 /usr/bin/python3; do
    if [ -n "$cand" ] && "$cand" -c 'import scapy.layers.inet6' 2>/dev/null
    then
        py=$cand
        break
    fi
done
[ -n "$py" ] || skip "no python3 with scapy (apt-get install python3-scapy)"
ATTACK=$top_srcdir/tests/attack.py
PORT=8080

ovs_start
ovs_add_bridge br0
vm_add a br0 10.0.0.1/24 - fd00::1/64
vm_add b br0 10.0.0.2/24 - fd00::2/64
ofctl -O OpenFlow13 add-flow br0 actions=NORMAL

# b listens on PORT, IPv4 and IPv6; the kernel answers SYNs without accept().
bg_start listen vm_exec b "$py" -c '
import signal, socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(64)
signal.pause()' "$PORT"
listening() { vm_exec b ss -Hltn "sport = :$PORT" | grep -q .; }
wait_until 5 listening || fail "no listener on port $PORT in b"

# attack CLASS N: runs attack CLASS from a (source port 40000+N, IP id
# 0xa700+N: a fragment queue Linux keeps from one class must not catch the
# next) with the observer on b.  Leaves the sender's JSON line in
# $tmp/CLASS.sent and the observer's object in $tmp/CLASS.json.
attack() {
    local c=$1 n=$2 id=$((0xa700 + $2)) ready=$tmp/$1.ready
    rm -f "$tmp/$c.json" "$tmp/$c.sent"
    bg_start "obs-$c" vm_exec b "$py" "$ATTACK" observe --iface "$(vm_if b)" \
        --port "$PORT" --ip-id "$id" --seconds 8 --linger 0.5 \
        --out "$tmp/$c.json" --ready-file "$ready"
    if wait_until 5 test -e "$ready"; then
        vm_exec a "$py" "$ATTACK" send "$c" --iface "$(vm_if a)" \
            --src-mac "$(vm_mac a)" --dst-mac "$(vm_mac b)" \
            --src "$(vm_ip a)" --dst "$(vm_ip b)" \
            --src6 "$(vm_ip6 a)" --dst6 "$(vm_ip6 b)" \
            --sport $((40000 + n)) --dport "$PORT" --ip-id "$id" \
            > "$tmp/$c.sent" || echo "attack.py send $c failed"
        # The observer ends by itself, --linger after the last frame.
        wait_until 10 test -e "$tmp/$c.json" ||
            echo "observer of $c gave no result"
    else
        echo "observer of $c not ready:"
        cat "$(bg_log "obs-$c")"
    fi
    bg_stop "obs-$c"
}

mapfile -t classes < <("$py" "$ATTACK" list | awk '{ print $1 }')
check "attack.py lists its classes" test "${#classes[@]}" -ge 12
n=0
for c in "${classes[@]}"; do
    n=$((n + 1))
    attack "$c" "$n"
done

# shape CLASS: checks, from the observer's reading of what reached b, that
# every frame attack.py sent for CLASS arrived, shaped as CLASS says.
shape() {
    "$py" - "$1" "$tmp/$1.sent" "$tmp/$1.json" "$PORT" <<'EOF'
import json, sys
cls, port = sys.argv[1], int(sys.argv[4])
sent = json.load(open(sys.argv[2]))["frames"]
obs = json.load(open(sys.argv[3]))
f = obs["attack"]
def field(name):
    return [x.get(name) for x in f]
def tcp_syn_to_port(x):
    return x.get("dport") == port and x.get("tcp_flags") == "S"
expect = {
    "plain": lambda: len(f) == 1 and tcp_syn_to_port(f[0]),
    "tiny-frag": lambda: field("frag_offset") == [0, 8]
        and field("mf") == [True, False] and field("l4_len")[0] == 8
        and f[0]["dport"] == port and "tcp_flags" not in f[0],
    "overlap-frag": lambda: field("frag_offset") == [0, 0, 16]
        and field("mf") == [True, True, False]
        and field("dport") == [80, port, None]
        and field("tcp_flags") == ["S", "S", None],
    "overlap-frag-hdr": lambda: field("frag_offset") == [0, 0, 24]
        and field("mf") == [True, True, False]
        and field("dport") == [80, port, None]
        and field("doff") == [6, 6, None],
    "out-of-order-frag": lambda: field("frag_offset") == [32, 16, 0]
        and field("mf") == [False, True, True] and tcp_syn_to_port(f[2])
        and f[2]["doff"] == 10,
    "ipv6-plain": lambda: len(f) == 1 and f[0]["ext"] == []
        and tcp_syn_to_port(f[0]),
    "ipv6-dstopts9": lambda: len(f) == 1 and f[0]["ext"] == ["dstopts"] * 9
        and tcp_syn_to_port(f[0]),
    "ipv6-dstopts2": lambda: len(f) == 1 and f[0]["ext"] == ["dstopts"] * 2
        and tcp_syn_to_port(f[0]),
    "vlan3": lambda: len(f) == 1 and f[0]["vlans"] == [1, 2, 3]
        and tcp_syn_to_port(f[0]),
    "short-tcp": lambda: len(f) == 1 and f[0]["ip_len"] == 20 + 12
        and f[0]["l4_len"] == 12 and f[0]["dport"] == port
        and "tcp_flags" not in f[0],
    "ihl4": lambda: len(f) == 1 and f[0]["ihl"] == 4
        and tcp_syn_to_port(f[0]),
    "tcp-doff4": lambda: len(f) == 1 and f[0]["doff"] == 4
        and tcp_syn_to_port(f[0]),
}
if cls not in expect:
    sys.exit("no expected shape for class %s: add it to this test" % cls)
ok = (obs["frames"] == sent == len(f) and expect[cls]()
      and all(x["dir"] == "in" for x in f))
if not ok:
    print("sent %d frames; arrived: %s" % (sent, json.dumps(f)))
sys.exit(0 if ok else 1)
EOF
}

# answered CLASS: b's kernel answered CLASS's SYN with a SYN-ACK.
answered() {
    "$py" -c 'import json, sys
sys.exit(json.load(open(sys.argv[1]))["answer"] != "syn-ack")' "$tmp/$1.json"
}

echo "== what reached b, and what b's kernel answered"
printf '%-18s %4s %7s %5s  %s\n' class sent arrived frags \
    "b's kernel answered"
for c in "${classes[@]}"; do
    "$py" - "$c" "$tmp/$c.sent" "$tmp/$c.json" <<'EOF'
import json, sys
cls = sys.argv[1]
try:
    sent = json.load(open(sys.argv[2]))["frames"]
    o = json.load(open(sys.argv[3]))
except (OSError, ValueError, KeyError) as e:
    print("%-18s (no result: %s)" % (cls, e))
    sys.exit(0)
names = {"SA": "SYN-ACK", "RA": "RST-ACK", "R": "RST"}
said = ["%s from port %d" % (names.get(a["tcp_flags"], a["tcp_flags"]),
                             a["sport"]) for a in o["answers"]]
said += ["ICMP%s type %d code %d" % ("v6" if e["l3"] == "ipv6" else "",
                                     e["type"], e["code"])
         for e in o["icmp_errors"]]
print("%-18s %4d %7d %5d  %s" % (cls, sent, o["frames"], o["fragments"],
                                 ", ".join(said) or "nothing"))
EOF
done

for c in "${classes[@]}"; do
    check "$c: every frame reached b as sent" shape "$c"
done
for c in plain ipv6-plain ipv6-dstopts2; do
    check "$c: b's kernel answered with a SYN-ACK" answered "$c"
done
finish
