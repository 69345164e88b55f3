#!/bin/bash
# The test sandbox itself (tests/ovs-lib.sh) against the real daemons: a
# private OVS with a secure netdev bridge and three VMs as namespaces.
# ping between every pair and TCP (iperf3) through an actions=NORMAL flow,
# MAC learning on the right ports, a restart of ovs-vswitchd that keeps
# the configuration, and a cleanup that leaves no namespace, interface,
# tap device or process behind.  Needs root; skips otherwise.
# shellcheck source=tests/ovs-lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

ovs_lib_init
command -v iperf3 >/dev/null || skip "no iperf3 (apt-get install iperf3)"
started=$EPOCHSECONDS

# ping_ok FROM TO: VM FROM gets an answer from VM TO's IPv4 address.
ping_ok() {
    vm_exec "$1" ping -q -c 2 -i 0.2 -W 2 "$(vm_ip "$2")" >/dev/null
}

# ping_none FROM TO: VM FROM gets no answer from VM TO within a second.
ping_none() {
    ! vm_exec "$1" ping -q -c 1 -W 1 "$(vm_ip "$2")" >/dev/null
}

# ping_all: every VM reaches every other one (and vm1 reaches vm3 by IPv6).
ping_all() {
    local a b ok=0
    for a in vm1 vm2 vm3; do
        for b in vm1 vm2 vm3; do
            [ "$a" != "$b" ] || continue
            ping_ok "$a" "$b" || { echo "  $a cannot ping $b"; ok=1; }
        done
    done
    vm_exec vm1 ping -q -c 2 -i 0.2 -W 2 "$(vm_ip6 vm3)" >/dev/null ||
        { echo "  vm1 cannot ping vm3 over IPv6"; ok=1; }
    return "$ok"
}

# tcp_ok FROM TO: a one-second iperf3 run from VM FROM to the iperf3 server
# of VM TO (job iperf-TO) moves data; prints the receiver's rate.
tcp_ok() {
    local out
    out=$(vm_exec "$1" iperf3 -c "$(vm_ip "$2")" -t 1 --connect-timeout 2000 \
              2>&1) || { echo "$out" | tail -n 5; return 1; }
    echo "$out" | grep receiver | sed 's/^/  /'
}

# fdb_has VM: the bridge learned VM's MAC on VM's ofport.
fdb_has() {
    appctl fdb/show br0 |
        awk -v p="$(vm_ofport "$1")" -v m="$(vm_mac "$1")" \
            '$1 == p && $3 == m { found = 1 } END { exit !found }'
}

# gone PID: no such process, or only a zombie waiting for init to reap it.
gone() {
    local stat
    stat=$(ps -o stat= -p "$1") || return 0
    case $stat in Z*) return 0 ;; esac
    echo "  pid $1 still runs"
    return 1
}

# listening VM: VM's iperf3 server accepts connections.
listening() {
    vm_exec "$1" ss -Hltn 'sport = :5201' | grep -q .
}

ovs_start "$tmp/ovs"
ovs_add_bridge br0
check "bridge uses the userspace datapath" \
    [ "$(vsctl get bridge br0 datapath_type)" = netdev ]
check "bridge fails secure" \
    [ "$(vsctl get bridge br0 fail_mode)" = secure ]
check "plain ovs-vsctl reaches the private instance" \
    ovs-vsctl --timeout=5 br-exists br0

vm_add vm1 br0 10.0.0.1/24 - fd00::1/64
vm_add --ofport 7 vm2 br0 10.0.0.2/24 0a:00:00:00:00:22
vm_add vm3 br0 10.0.0.3/24 - fd00::3/64
check "ofports as requested" \
    [ "$(vm_ofport vm1) $(vm_ofport vm2) $(vm_ofport vm3)" = "1 7 3" ]
has_mac() { vm_exec "$1" ip link show "$(vm_if "$1")" | grep -q "$2"; }
check "vm2 has the MAC it asked for" has_mac vm2 0a:00:00:00:00:22
ofctl_lists() { ofctl show br0 | grep -q " $(vm_ofport "$1")($(vm_port "$1")):"; }
check "ofctl show lists the VM ports" ofctl_lists vm2

check "secure bridge without flows forwards nothing" ping_none vm1 vm2
check "add-flow actions=NORMAL (OpenFlow 1.3)" \
    ofctl -O OpenFlow13 add-flow br0 actions=NORMAL
check "ping between all pairs" ping_all

bg_start iperf-vm2 vm_exec vm2 iperf3 -s -B "$(vm_ip vm2)"
check "iperf3 server listens in vm2" wait_until 5 listening vm2
check "TCP vm1 -> vm2" tcp_ok vm1 vm2
check "TCP vm3 -> vm2" tcp_ok vm3 vm2
for vm in vm1 vm2 vm3; do
    check "fdb/show: $vm's MAC on ofport $(vm_ofport "$vm")" fdb_has "$vm"
done

pid_before=$(ovs_pids)
ovs_restart_vswitchd
check "ovs-vswitchd has a new pid" [ "$(ovs_pids)" != "$pid_before" ]
check "bridge survives the restart" vsctl br-exists br0
check "ofports survive the restart" \
    [ "$(vsctl get interface "$(vm_port vm2)" ofport)" = 7 ]
check "no flows after the restart: secure bridge drops" ping_none vm1 vm3
check "NORMAL flow added again" \
    ofctl -O OpenFlow13 add-flow br0 actions=NORMAL
check "ping between all pairs after the restart" ping_all
check "TCP vm1 -> vm2 after the restart" tcp_ok vm1 vm2

# Cleanup, checked here rather than trusted: daemons and server dead,
# nothing named with the run's prefix in any namespace list or in the root
# namespace, the datapath's tap devices gone before the namespace is.
pids="$(ovs_pids) $(bg_pid iperf-vm2)"
prefix=$OVS_LIB_PREFIX
all_gone() {
    local p
    for p in $pids; do
        gone "$p" || return 1
    done
}
no_taps() { ! ovs_exec ip -o link show type tun | grep .; }
no_netns() { ! ip netns list | grep "^$prefix"; }
no_links() { ! ip -o link show | grep ": $prefix"; }

ovs_stop
check "ovs_stop removes the tap devices" no_taps
check "ovs_stop is idempotent" ovs_stop
cleanup_all
check "no daemon or server process left" all_gone
check "no namespace left" no_netns
check "no interface left" no_links
check "library sees nothing left" ovs_lib_leftovers
check "cleanup_all is idempotent" cleanup_all
echo "runtime $((EPOCHSECONDS - started)) s"
finish
