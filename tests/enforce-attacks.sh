#!/bin/bash
# A hostile VM's crafted packets against inline inspection: every packet
# the inspector cannot judge falls into its exception class and is dropped
# (the default inline).  Each attack is a SYN to a port the policy closes,
# shaped so that a filter that looks only at what it can parse would let
# it through (tests/attack.py; tests/attack-baseline.sh shows that a plain
# switch delivers each one and what Linux answers).  The checks are on the
# server's side: nothing of the attack reached it, and its kernel never
# answered; and the class's counter moved.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ATTACK=$top_srcdir/tests/attack.py
py=
for p in /usr/bin/python3 "${PYTHON3:-}" python3; do
    if [ -n "$p" ] && "$p" -c 'import scapy' 2>/dev/null; then
        py=$p
        break
    fi
done
[ -n "$py" ] || skip "no python3 with scapy (apt-get install python3-scapy)"
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add vm1 br-int 10.0.0.1/24 - fd00::1/64     # the attacker, inspected
vm_add vm2 br-int 10.0.0.2/24 - fd00::2/64     # the server
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"

BLOCKED=80 ALLOWED=8080
cat > "$tmp/policy.conf" <<EOF
priority=300, profile=web, tcp, tp_dst=$BLOCKED, actions=drop
priority=300, profile=web, tcp6, tp_dst=$BLOCKED, actions=drop
priority=0, profile=web, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf"
fsd_inspect vm1 web
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
check "steering installed, the liveness tap up" wait_until 15 fsd_steering 8
check "inline, every exception class drops by default" \
    shows "exception policy: non_ip=drop zero_length=drop .* frag_table_full=drop"

# Listeners on both ports, so that a SYN that gets through is answered.
for port in $BLOCKED $ALLOWED; do
    bg_start "srv$port" vm_exec vm2 "$py" -c "
import socket, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('::', $port)); s.listen(64)
while True:
    c, _ = s.accept(); c.close()"
done
wait_until 5 vm_exec vm1 "$py" -c "
import socket; socket.create_connection(('10.0.0.2', $ALLOWED), 1)" ||
    fail "no listener on vm2:$ALLOWED"

counter() {                         # counter NAME: flowsteerd's counter
    fsctl flowsteer/show | tr ' ' '\n' | sed -n "s/^$1=//p"
}

# attack CLASS DPORT N: sends CLASS from vm1 to vm2:DPORT (source port and
# IP id made unique by N) with attack.py observing on vm2's interface;
# leaves the observer's JSON in $tmp/CLASS-DPORT.json.
attack() {
    local cls=$1 dport=$2 n=$3 out=$tmp/$1-$2.json ready=$tmp/$1-$2.ready
    vm_exec vm2 "$py" "$ATTACK" observe --iface "$(vm_if vm2)" \
        --port "$dport" --seconds 4 --linger 1.5 --ip-id $((0x5000 + n)) \
        --out "$out" --ready-file "$ready" > /dev/null 2>&1 &
    local obs=$!
    wait_until 5 test -f "$ready" || fail "the observer did not start"
    vm_exec vm1 "$py" "$ATTACK" send "$cls" --iface "$(vm_if vm1)" \
        --src-mac "$(vm_mac vm1)" --dst-mac "$(vm_mac vm2)" \
        --src 10.0.0.1 --dst 10.0.0.2 --src6 fd00::1 --dst6 fd00::2 \
        --sport $((41000 + n)) --dport "$dport" --benign-dport $ALLOWED \
        --ip-id $((0x5000 + n)) > /dev/null ||
        fail "attack.py send $cls failed"
    wait "$obs"
}
# nothing_arrived CLASS DPORT: no frame to DPORT reached vm2, and vm2's
# kernel answered nothing from it.
nothing_arrived() {
    "$py" - "$tmp/$1-$2.json" "$2" <<'EOF'
import json, sys
obs = json.load(open(sys.argv[1]))
port = int(sys.argv[2])
to_port = [f for f in obs["attack"] if f.get("dport") == port]
if to_port or obs["answered"]:
    print("  arrived: %s; answered: %s" % (json.dumps(to_port), obs["answer"]))
    sys.exit(1)
EOF
}
# answered CLASS DPORT: vm2's kernel answered the SYN with a SYN-ACK.
answered() {
    "$py" -c 'import json, sys
sys.exit(json.load(open(sys.argv[1]))["answer"] != "syn-ack")' "$tmp/$1-$2.json"
}
moved() {                           # moved COUNTER BEFORE: it grew
    local now
    now=$(counter "$1")
    [ "${now:-0}" -gt "$2" ] || { echo "  $1: $2 -> ${now:-?}"; false; }
}

n=0
echo "== the control: a plain SYN is judged by the policy"
attack plain $BLOCKED $((n += 1))
check "plain SYN to the closed port: nothing reaches the server" \
    nothing_arrived plain $BLOCKED
attack plain $ALLOWED $((n += 1))
check "plain SYN to the open port: the server answers" answered plain $ALLOWED

echo "== each exception class"
# class attack.py-class counter
while read -r cls acls ctr; do
    before=$(counter "$ctr")
    attack "$acls" $BLOCKED $((n += 1))
    check "$cls ($acls): nothing reaches the server" \
        nothing_arrived "$acls" $BLOCKED
    check "$cls: $ctr moved" moved "$ctr" "${before:-0}"
done <<'EOF'
frag_tiny tiny-frag err_frag_tiny
frag_overlap overlap-frag-hdr err_frag_overlap
frag_orphan out-of-order-frag err_frag_orphan
vlan_depth vlan3 err_vlan_depth
truncated_tcp short-tcp err_truncated_tcp
ipv4_ihl ihl4 err_ipv4_ihl
tcp_doff tcp-doff4 err_tcp_doff
EOF
check "and every one of them was dropped, not forwarded" eval \
    '[ "$(counter exceptions_passed)" = 0 ]'

echo "== IPv6 extension headers: followed to the TCP header and judged"
before=$(counter exceptions_dropped)
for cls in ipv6-dstopts2 ipv6-dstopts9; do
    attack "$cls" $BLOCKED $((n += 1))
    check "$cls to the closed port: dropped by the policy" \
        nothing_arrived "$cls" $BLOCKED
    attack "$cls" $ALLOWED $((n += 1))
    check "$cls to the open port: judged, allowed, answered" \
        answered "$cls" $ALLOWED
done
check "none of them was an exception" eval \
    '[ "$(counter exceptions_dropped)" = "$before" ]'
check "the closed port's IPv6 flows have drop rules" eval \
    'ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
     grep "tcp6" | grep "tp_dst=$BLOCKED" | grep -q "actions=drop"'

echo "== alert: logged and forwarded, where the admin says so"
vsctl set Open_vSwitch . external_ids:flowsteer-exception-policy=drop,ipv4_ihl=alert
check "the key is in force" wait_until 5 shows "ipv4_ihl=alert"
attack ihl4 $BLOCKED $((n += 1))
check "an ihl4 SYN is forwarded (Linux drops it itself)" eval \
    '! nothing_arrived ihl4 $BLOCKED > /dev/null'
check "and counted as passed" eval '[ "$(counter exceptions_passed)" -ge 1 ]'
check "and logged" grep -q "exception ipv4_ihl: 10.0.0.1 -> 10.0.0.2" \
    "$tmp/flowsteerd.log"
attack tiny-frag $BLOCKED $((n += 1))
check "the other classes still drop" nothing_arrived tiny-frag $BLOCKED
vsctl set Open_vSwitch . external_ids:flowsteer-exception-policy=drop,nonsense=allow
check "a bad value is reported and changes nothing" wait_until 5 \
    shows "flowsteer-exception-policy: item 2: unknown exception class; keeping the actions in use"
check "the actions in use stay" shows "ipv4_ihl=alert"
echo "exception=ipv4_ihl, actions=drop" >> "$tmp/policy.conf"
check "a policy file's exception line..." \
    eval 'fsctl flowsteer/policy-reload > /dev/null'
check "...wins over the key" shows "ipv4_ihl=drop"
passed=$(counter exceptions_passed)
attack ihl4 $BLOCKED $((n += 1))
check "an ihl4 SYN is dropped again" eval \
    '[ "$(counter exceptions_passed)" = "$passed" ]'

log_allow 'flowsteerd\|WARN\|configuration: flowsteer-exception-policy: item 2'
fsctl exit > /dev/null 2>&1 || :
finish
