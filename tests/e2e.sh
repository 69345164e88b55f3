#!/bin/bash
# End to end, inline mode: flowsteerd inspects an inspected VM's traffic
# through the security bridge, the verdict becomes rules in br-int, and
# the rest of each decided flow stays in OVS.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add vm1 br-int 10.0.0.1/24       # inspected, profile web
vm_add vm2 br-int 10.0.0.2/24       # inspected, profile servers
vm_add vm3 br-int 10.0.0.3/24       # not inspected
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=100, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
priority=0, profile=locked, actions=drop
priority=0, profile=servers, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=web \
    external_ids:attached-mac='"02:00:00:00:00:01"'
vsctl set Interface "$(vm_port vm2)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=servers \
    external_ids:attached-mac="\"$(vm_mac vm2)\""

# flowsteerd runs where ovs-vswitchd runs: the inspector port is a device
# in that namespace.
fsd_start
trap_stop() { kill "$(fsd_pid)" 2>/dev/null; }
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }

check "the inspector port is open" wait_until 15 shows "inspector port fs-insp0: rx"
check "steering installed in both bridges, the liveness tap up" \
    wait_until 10 fsd_steering 13
check "through fast-failover groups watching flowsteerd's liveness tap" \
    wait_until 10 eval 'ofctl -O OpenFlow13 dump-groups br-int | grep -q "type=ff,bucket=watch_port:$(vsctl get Interface fs-live ofport),actions=push_vlan:0x8100,set_field:$((4096 + $(vm_ofport vm1)))->vlan_vid,set_field:0->vlan_pcp,output:"'

bg_start http vm_exec vm2 python3 -m http.server 8080 --bind 10.0.0.2
bg_start ssh vm_exec vm2 python3 -m http.server 2222 --bind 10.0.0.2
wait_until 5 vm_exec vm3 curl -s -o /dev/null --max-time 1 http://10.0.0.2:8080/ ||
    fail "no HTTP server"
verdicts() {
    ofctl -O OpenFlow13 dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep cookie=
}

check "an allowed application (HTTP) works through the inspector" \
    vm_exec vm1 curl -s -o /dev/null --max-time 5 http://10.0.0.2:8080/
check "its verdict rules are in br-int (allow: NORMAL)" wait_until 5 eval \
    'verdicts | grep "tcp,in_port=$(vm_ofport vm1)," | grep "tp_dst=8080" | grep -q "actions=NORMAL"'
check "an L4 rule blocks on the first packet" eval \
    '! vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:2222/'
check "its drop rule is in br-int" wait_until 5 eval \
    'verdicts | grep "tp_dst=2222" | grep -q "actions=drop"'

# A long flow: ICMP echo.  After the verdict its packets stay in OVS.
check "ping through the inspector" vm_exec vm1 ping -c 20 -i 0.2 -W 2 10.0.0.2
fsctl flowsteer/flows > "$tmp/flows"
sed 's/^/  /' "$tmp/flows"
icmp=$(grep "ICMP 10.0.0.1:0 -> 10.0.0.2:0" "$tmp/flows" | tail -n 1)
inspected=$(echo "$icmp" | sed -n 's/.*\[inspector [0-9]* pkts, \([0-9]*\) inspected\].*/\1/p')
in_ovs=$(ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
         grep "icmp,in_port=$(vm_ofport vm1)," | grep "nw_dst=10.0.0.2 " | grep -o "n_packets=[0-9]*" | cut -d= -f2)
echo "  ICMP flow: ${inspected:-?} packets inspected, ${in_ovs:-?} handled by its rule in OVS"
check "after the verdict, the inspector saw few packets" test "${inspected:-99}" -le 4
check "and OVS's rule counted the rest" test "${in_ovs:-0}" -ge 15
# Both directions: 20 requests and 20 replies.
check "flowsteer/flows has OVS's count for the flow (both directions)" eval \
    'echo "$icmp" | grep -q "\[ovs \(3[0-9]\|40\) pkts\]"'
check "and the VM port it came from" eval \
    'echo "$icmp" | grep -qF "[vm $(vm_port vm1) port $(vm_ofport vm1) profile web]"'
fsctl flowsteer/flows --json > "$tmp/flows.json"
check "flowsteer/flows --json: one valid object per flow, with the same facts" \
    python3 - "$tmp/flows.json" "$(wc -l < "$tmp/flows")" "$(vm_port vm1)" <<'EOF'
import json, sys
flows = [json.loads(line) for line in open(sys.argv[1])]
assert len(flows) == int(sys.argv[2]), (len(flows), sys.argv[2])
icmp = [f for f in flows if f["l4"] == "ICMP"][-1]
assert icmp["vm"] == sys.argv[3] and icmp["profile"] == "web", icmp
assert icmp["verdict"] == "allow" and icmp["state"] == "decided", icmp
assert icmp["packets_inspected"] <= 4 and icmp["packets_ovs"] >= 30, icmp
http = [f for f in flows if f["app"] == "HTTP"][0]
assert http["dst_port"] == 8080 and http["category"] == "Web", http
assert http["rule"].endswith("policy.conf:2"), http
assert "http_numeric_ip_host" in http["risks"], http
EOF

# Pages: walking with --limit=1 lists every flow once, in id order, each
# page ending with the way to the next; bad bounds are refused.
page_walk() {   # page_walk [--json]: prints the flow ids, page by page
    after=0
    for _ in $(seq 100); do
        fsctl flowsteer/flows "$@" --limit=1 --after="$after" > "$tmp/page" ||
            return 1
        grep -v '^more flows\|"more":true' "$tmp/page" > "$tmp/page.flows"
        [ "$(wc -l < "$tmp/page.flows")" -le 1 ] || return 1
        grep -o '^[0-9]*\|"id":[0-9]*' "$tmp/page.flows" | sed 's/"id"://'
        next=$(sed -n 's/^more flows: flowsteer\/flows --after=\([0-9]*\)$/\1/p
                       s/^{"after":\([0-9]*\),"more":true}$/\1/p' "$tmp/page")
        [ -n "$next" ] || return 0
        after=$next
    done
    return 1
}
cut -d' ' -f1 "$tmp/flows" | sort -n > "$tmp/ids.all"
check "flowsteer/flows --limit=1: pages cover every flow once, in order" \
    eval 'page_walk > "$tmp/ids.pages" && sort -nc "$tmp/ids.pages" &&
          [ "$(sort -nu "$tmp/ids.pages" | wc -l)" -eq "$(wc -l < "$tmp/ids.pages")" ] &&
          [ "$(wc -l < "$tmp/ids.pages")" -ge "$(wc -l < "$tmp/ids.all")" ] &&
          [ "$(wc -l < "$tmp/ids.all")" -ge 3 ]'
check "the same with --json" \
    eval 'page_walk --json > "$tmp/ids.jpages" && sort -nc "$tmp/ids.jpages" &&
          [ "$(wc -l < "$tmp/ids.jpages")" -ge 3 ]'
check "--after beyond the last flow: an empty page" \
    eval 'fsctl flowsteer/flows --after=999999999 > "$tmp/page" &&
          [ ! -s "$tmp/page" ]'
for bad in --limit=0 --limit=10001 --after=-1 --after=x --limit=; do
    check "flowsteer/flows $bad refused with its usage" \
        eval '! fsctl flowsteer/flows $bad 2> "$tmp/err" &&
              grep -q "usage: flowsteer/flows .*--limit=N" "$tmp/err"'
done
check "flowsteer/show gives the command's bounds" \
    eval 'fsctl flowsteer/show | grep -q "flowsteer/flows: pages of 1000 flows (at most 10000), 0 requests waiting for counters (at most 16)"'

# Two inspected VMs and an uninspected one talk to each other: traffic
# that comes back from the inspector must still be learned on its own VM's
# port.
for pair in "vm1 10.0.0.2" "vm1 10.0.0.3" "vm2 10.0.0.3" "vm3 10.0.0.1" "vm3 10.0.0.2"; do
    set -- $pair
    check "$1 pings $2" vm_exec "$1" ping -c 2 -i 0.2 -W 2 "$2"
done
appctl fdb/show br-int > "$tmp/fdb"
sed 's/^/  /' "$tmp/fdb"
learned_on() {                      # learned_on VM: its MAC on its port
    awk -v p="$(vm_ofport "$1")" -v m="$(vm_mac "$1")" '$1 == p && $3 == m' \
        "$tmp/fdb" | grep -q .
}
check "MAC learning stays right: vm1's MAC on vm1's port" learned_on vm1
check "vm2's (inspected) on vm2's" learned_on vm2
check "vm3's (not inspected) on vm3's" learned_on vm3
check "each MAC once" eval '[ "$(awk "NR > 1 {print \$3}" "$tmp/fdb" | sort | uniq -d)" = "" ]'
check "no MAC learned on the patch port" eval \
    '! awk -v p="$(vsctl get Interface fs-patch-int ofport)" "\$1 == p" "$tmp/fdb" | grep -q .'
check "an uninspected VM reaches an inspected server" \
    vm_exec vm3 curl -s -o /dev/null --max-time 5 http://10.0.0.2:8080/
check "flowsteer/flows lists the HTTP flow with its verdict" \
    grep -q "\[app HTTP\] .*\[verdict allow rule [^]]*policy.conf:2\]" "$tmp/flows"
# A connection that sends nothing yet is still classifying: it is the
# appliance's alone, and listed all the same.
bg_start idle vm_exec vm1 "$(find_python)" -c "
import socket, time
s = socket.create_connection(('10.0.0.2', 8080), timeout=5)
print('connected', flush=True)
time.sleep(30)"
check "an idle connection is listed, classifying" wait_until 5 eval \
    'fsctl flowsteer/flows | grep "10.0.0.1:[0-9]* -> 10.0.0.2:8080" |
     grep -q "\[classifying\]"'
bg_stop idle
echo "== re-judging live flows"
ping_ok() { vm_exec vm1 ping -c 3 -i 0.2 -W 1 10.0.0.2 > /dev/null 2>&1; }
check "the ICMP flow is allowed" ping_ok
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=locked
check "a profile change cuts a live flow that becomes forbidden" \
    wait_until 10 eval '! ping_ok'
check "its rules now drop" eval \
    'verdicts | grep "icmp,in_port=$(vm_ofport vm1)" | grep -q "actions=drop"'
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=web
check "and back" wait_until 10 ping_ok
sed -i 's/^priority=100, profile=web, icmp, actions=allow$/priority=100, profile=web, icmp, actions=drop/' "$tmp/policy.conf"
check "a policy file change cuts it too" wait_until 10 eval '! ping_ok'
sed -i 's/^priority=100, profile=web, icmp, actions=drop$/priority=100, profile=web, icmp, actions=allow/' "$tmp/policy.conf"
check "and back" wait_until 10 ping_ok

echo "== the liveness tap taken down"
# Open vSwitch then sends steered packets to the fallback bucket (NORMAL,
# fail=open): uninspected.  flowsteerd makes the tap again.
ovs_exec ip link set fs-live down
check "Open vSwitch sees it down" wait_until 5 \
    shows "fs-live on br-int: ofport [0-9]*, link down"
check "flowsteerd makes it again" wait_until 10 fsd_steering 13
check "and says so" shows "fs-live made again 1 times"
check "new flows are judged again (an L4 drop)" eval \
    '! vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:2222/'

start_fsd() {
    fsd_start
    wait_until 15 shows "inspector port fs-insp0: rx" || fail "no inspector port"
}
live_gone() { ! ovs_exec ip link show fs-live > /dev/null 2>&1; }
icmp_rule_packets() {
    ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
        grep "icmp,in_port=$(vm_ofport vm1)," | grep "nw_dst=10.0.0.2 " | grep -o "n_packets=[0-9]*" | cut -d= -f2
}

echo "== fail=closed: flowsteerd killed in the middle of traffic"
vsctl set Open_vSwitch . external_ids:flowsteer-fail=closed
check "the steering groups fall back to drop" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-groups br-int > "$tmp/groups" &&
     grep -q "bucket=watch_port:[0-9]*,actions=drop$" "$tmp/groups" &&
     ! grep -q "bucket=watch_port:[0-9]*,actions=NORMAL$" "$tmp/groups"'
vm_exec vm1 ping -c 3 -i 0.1 -W 2 10.0.0.2 > /dev/null    # refresh the ICMP flow
before=$(icmp_rule_packets)
kill -9 "$(fsd_pid)"
check "its liveness tap is gone with it" wait_until 5 live_gone
check "a decided flow loses no packet" eval \
    'vm_exec vm1 ping -c 10 -i 0.1 -W 2 10.0.0.2 | grep -q " 0% packet loss"'
check "a new flow is dropped (fail=closed)" eval \
    '! vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:8080/'
start_fsd
check "after restart, new flows are inspected and pass again" wait_until 10 \
    vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:8080/
after=$(icmp_rule_packets)
check "no verdict rule was flushed (ICMP rule: $before -> $after packets)" \
    test "${after:-0}" -gt "${before:-0}"

echo "== fail=open"
vsctl set Open_vSwitch . external_ids:flowsteer-fail=open
# Every group, not just one: flowsteerd changes them one by one.
check "the steering groups fall back to NORMAL" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-groups br-int > "$tmp/groups" &&
     grep -q "bucket=watch_port:[0-9]*,actions=NORMAL$" "$tmp/groups" &&
     ! grep -q "bucket=watch_port:[0-9]*,actions=drop$" "$tmp/groups"'
kill -9 "$(fsd_pid)"
wait_until 5 live_gone
check "new flows bypass the dead inspector (fail=open)" \
    vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:8080/
check "even one the policy would drop: nothing inspects it" \
    vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:2222/
check "decided drop rules still enforce" eval \
    'verdicts | grep "tp_dst=2222" | grep -q "actions=drop"'
start_fsd
trap_stop
# The liveness tap taken down by hand, and flowsteerd killed.
log_allow 'fs_live\|WARN\|fs-live: Open vSwitch has seen the liveness tap down' \
    'fatal_signal\|WARN\|terminating with signal 15' \
    'rconn\|WARN\|br-int<->unix#[0-9]+: connection dropped'
finish
