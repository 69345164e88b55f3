#!/bin/bash
# Ingress ports beyond 12 bits, and LOCAL, keep their in_port through the
# inspector: the steering tag carries 15 bits (VID and PCP) and a value for
# LOCAL.  A VM on OpenFlow port 5000 is inspected and its MAC learned on
# port 5000; a VM on port 30000 talks to it; the bridge's own port (LOCAL)
# pings it, and its MAC is learned on LOCAL.  A port above 32765 is
# refused for inspection, with a reason.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
py=$(command -v /usr/bin/python3 || command -v python3)
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add --ofport 5000 vm1 br-int 10.0.0.1/24     # inspected
vm_add --ofport 30000 vm2 br-int 10.0.0.2/24
vm_add --ofport 40000 vm3 br-int 10.0.0.3/24    # too high to inspect
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
ovs_exec ip addr add 10.0.0.254/24 dev br-int
ovs_exec ip link set br-int up
bg_start closed vm_exec vm2 "$py" -m http.server 2222 --bind 10.0.0.2

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=0, profile=web, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=web \
    external_ids:attached-mac="\"$(vm_mac vm1)\""
vsctl set Interface "$(vm_port vm3)" external_ids:flowsteer-inspect=true
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -qF -- "$1" "$tmp/show"; }
check "steering installed" wait_until 15 fsd_steering 8
check "port 40000 is refused, with the reason" \
    shows "interface $(vm_port vm3): OpenFlow port 40000 is above 32765, which the steering tag cannot carry: not inspected"

check "vm1 (port 5000) pings vm2 (port 30000) through the inspector" \
    vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2
check "the policy holds for port 5000" eval \
    '! vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:2222/'
check "LOCAL pings vm1 (steered to it by its MAC)" \
    ovs_exec ping -c 3 -i 0.2 -W 2 10.0.0.1
check "the inspector saw flows from port 5000 and from LOCAL" eval \
    'fsctl flowsteer/flows > "$tmp/flows" &&
     grep -q "port 5000 profile web" "$tmp/flows" &&
     grep -q "ICMP 10.0.0.254:0 -> 10.0.0.1:0 \[vm - port 65534 " "$tmp/flows"'
appctl fdb/show br-int > "$tmp/fdb"
sed 's/^/  /' "$tmp/fdb"
learned() { awk -v p="$1" -v m="$2" '$1 == p && $3 == m' "$tmp/fdb" | grep -q .; }
check "vm1's MAC is learned on port 5000" learned 5000 "$(vm_mac vm1)"
check "vm2's on port 30000" learned 30000 "$(vm_mac vm2)"
check "br-int's own MAC on LOCAL" learned LOCAL \
    "$(ovs_exec cat /sys/class/net/br-int/address)"
check "no MAC on the patch port" eval \
    '! awk -v p="$(vsctl get Interface fs-patch-int ofport)" "\$1 == p" "$tmp/fdb" | grep -q .'

log_allow 'flowsteerd\|WARN\|configuration: interface .*: OpenFlow port 40000'
fsctl exit > /dev/null 2>&1 || :
finish
