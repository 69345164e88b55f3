#!/bin/bash
# A flood of new flows from one inspected VM (200,000 distinct UDP flows,
# as fast as it can send) is bounded: the port's flows stop at its limit
# (flowsteer-max-flows-per-port), and so do the verdict rules in
# ovs-vswitchd; flowsteerd's memory stays put; the limit's counter moves;
# and another inspected VM's new flows are still judged and offloaded
# during the flood.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers
vm_add vm3 br-int 10.0.0.3/24       # inspected, the other VM

LIMIT=3000 FLOWS=200000
cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=0, profile=web, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-max-flows-per-port=$LIMIT
for vm in vm1 vm3; do
    vsctl set Interface "$(vm_port $vm)" external_ids:flowsteer-inspect=true \
        external_ids:flowsteer-profile=web
done
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
check "steering installed" wait_until 15 fsd_steering 9
check "the limit is in force" shows "flows per port: $LIMIT at most (drop)"
counter() { fsctl flowsteer/show | tr ' ' '\n' | sed -n "s/^$1=//p"; }
rules() {
    ofctl -O OpenFlow13 dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep -c cookie=
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$(fsd_pid)/status"; }
rss0=$(rss_kb)

# The flood: one UDP packet per flow, to each of 65,000 ports of vm2, from
# a new source port every 65,000.
bg_start flood vm_exec vm1 "$py" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
t0 = time.time()
for i in range($FLOWS):
    try:
        s.sendto(b'x', ('10.0.0.2', 1 + i % 65000))
    except OSError:
        pass
    if i % 65000 == 64999:
        s.close()
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print('sent %d in %.1f s' % ($FLOWS, time.time() - t0), flush=True)"
check "the flood is under way" wait_until 20 eval \
    '[ "$(counter port_full)" -gt 0 ]'

echo "== during the flood"
check "the other VM's new flow is judged and passes" \
    vm_exec vm3 curl -s -o /dev/null --max-time 5 http://10.0.0.2:8080/
check "and gets its rules" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
     grep "in_port=$(vm_ofport vm3)," | grep -q "tp_dst=8080"'
check "a flow it must not have is still dropped" eval \
    '! vm_exec vm3 curl -s -o /dev/null --max-time 3 http://10.0.0.2:2222/'
check "the flood ends" wait_until 120 grep -q "^sent" "$(bg_log flood)"
cat "$(bg_log flood)"
sleep 2
n_rules=$(rules)
flows1=$(fsctl flowsteer/show | sed -n "s/.* $(vm_port vm1)=\([0-9]*\).*/\1/p")
rss1=$(rss_kb)
echo "  vm1's flows: $flows1 (limit $LIMIT); verdict rules in OVS: $n_rules;" \
    "port_full: $(counter port_full); flowsteerd RSS ${rss0} kB -> ${rss1} kB"
check "vm1's flows stop at the limit" test "${flows1:-99999}" -le $LIMIT
check "and so do the rules in ovs-vswitchd (2 per flow, and vm3's)" \
    test "$n_rules" -le $((2 * LIMIT + 20))
# How much of the flood reaches the inspector depends on the machine (the
# kernel and OVS drop what they cannot queue): at least the limit twice.
check "the limit's counter moved: the flood went past the limit" eval \
    '[ "$(counter port_full)" -ge $((2 * LIMIT)) ]'
check "flowsteerd's memory stayed put (+$(( (rss1 - rss0) / 1024 )) MB)" \
    test $((rss1 - rss0)) -le $((64 * 1024))
check "ovs-vswitchd is still there and answers" \
    ofctl -O OpenFlow13 dump-flows br-int --no-stats "cookie=0/-1"

fsctl exit > /dev/null 2>&1 || :
finish
