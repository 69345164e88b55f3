#!/bin/bash
# Failing neighbours: flowsteerd's inspector port flapped or made again,
# ovs-vswitchd restarted, ovsdb-server gone for a while.  After each,
# flowsteerd finds its way back without help, bounded in time, without
# spinning a core, and nothing passes uninspected meanwhile (fail=closed):
# a policy's closed port stays closed throughout.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=250, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
priority=0, profile=locked, actions=drop
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-fail=closed
fsd_inspect vm1 web
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
check "steering installed" wait_until 15 fsd_steering 7
check "the inspector port is open" wait_until 10 shows "inspector port fs-insp0: rx"
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"

http() { vm_exec vm1 curl -s -o /dev/null --max-time "${2:-3}" "http://10.0.0.2:$1/"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# CPU time (ms) flowsteerd has used, user and system.
cpu_ms() {
    local stat
    stat=$(cat "/proc/$(fsd_pid)/stat") || return 1
    stat=${stat##*) }
    set -- $stat
    echo $(( (${12} + ${13}) * 1000 / $(getconf CLK_TCK) ))
}
# not_spinning [SECONDS]: flowsteerd, with no traffic, uses under 20% of
# a core over SECONDS (default 3).  A socket left in error polls ready for
# ever, or a timer left in the past fires for ever: either makes it spin.
not_spinning() {
    local c0 c1 t=${1:-3}
    c0=$(cpu_ms)
    sleep "$t"
    c1=$(cpu_ms)
    echo "  flowsteerd used $((c1 - c0)) ms of CPU in $t s"
    [ $((c1 - c0)) -lt $((t * 200)) ]
}
# judged: new connections are inspected again: HTTP passes, the closed
# port does not.
judged() { http 8080 && ! http 2222 2; }

check "inline: HTTP passes" http 8080
check "the closed port does not" eval '! http 2222 2'
check "idle, flowsteerd does not spin" not_spinning

echo "== the inspector port's link flapped"
ovs_exec ip link set fs-insp0 down
sleep 0.5
ovs_exec ip link set fs-insp0 up
t0=$(now_ms)
check "flowsteerd notices and opens it again" wait_until 10 \
    shows "reopened 1 times, last because: Network is down"
check "new connections are judged again" wait_until 10 judged
echo "  judged again after $(( $(now_ms) - t0 )) ms"
check "and flowsteerd does not spin" not_spinning

echo "== the inspector port deleted"
# Open vSwitch deletes its device with it; flowsteerd puts the port back,
# a new device of the same name, and opens that.
vsctl del-port br-sec fs-insp0
check "the closed port stays closed while the port is gone (fail=closed)" \
    eval '! http 2222 2'
check "flowsteerd puts its port back" wait_until 15 eval \
    'vsctl get Interface fs-insp0 ofport | grep -qv "^-1$"'
check "new connections are judged again" wait_until 10 judged
check "flowsteerd does not spin" not_spinning

verdict_rules() {
    ofctl -O OpenFlow13 dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep -c "priority=40000"
}
echo "== ovs-vswitchd restarted as ovs-ctl restarts it (flows saved and restored)"
n=$(verdict_rules)
check "verdict rules before: $n" test "$n" -gt 0
ovs_restart_vswitchd_keeping_flows
check "the closed port is closed as soon as it forwards" eval '! http 2222 2'
check "steering is in place" wait_until 20 fsd_steering 7
check "new connections are judged" wait_until 15 judged
check "the verdict rules survived ($(verdict_rules) now, >= $n)" eval \
    '[ "$(verdict_rules)" -ge "$n" ]'
check "flowsteerd does not spin" not_spinning

echo "== ovs-vswitchd crashed and started again (flows lost)"
# Until flowsteerd has put its rules back, the controller's decide (here
# NORMAL, which the test puts back at once, as a controller would).
kill -9 "$(ovs_pids | cut -d' ' -f2)"
ovs_restart_vswitchd
t0=$(now_ms)
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
check "steering is installed again" wait_until 20 fsd_steering 7
echo "  steering back $(( $(now_ms) - t0 )) ms after ovs-vswitchd answered"
check "the drop verdicts are back in OVS" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
     grep "tp_dst=2222" | grep -q "actions=drop"'
check "new connections are judged again" wait_until 15 judged
check "flowsteerd does not spin" not_spinning

echo "== ovsdb-server gone for a while"
# Open vSwitch 3.1's ovs-vswitchd itself stops while it lacks its database
# (bridge_run() returns early without the database lock): no packet
# crosses its userspace datapath's non-PMD ports and it serves no
# OpenFlow.  flowsteerd rides it out: it keeps its state, does not spin on
# a switch that does not answer, and carries on when both are back.
ovs_stop_ovsdb
check "the closed port stays closed" eval '! http 2222 2'
check "flowsteerd does not spin while it cannot reach either (10 s)" \
    not_spinning 10
check "it still answers ovs-appctl, and says so" \
    shows "database unix:.*db.sock (not connected)"
ovs_start_ovsdb
t0=$(now_ms)
check "new connections are judged again" wait_until 20 judged
echo "  judged again $(( $(now_ms) - t0 )) ms after ovsdb-server started"
check "configuration reaches it again: a profile change cuts ping" \
    wait_until 20 eval \
    'vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=locked &&
     ! vm_exec vm1 ping -c 2 -i 0.2 -W 1 10.0.0.2'
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=web
check "and back" wait_until 10 vm_exec vm1 ping -c 2 -i 0.2 -W 1 10.0.0.2
check "flowsteerd does not spin" not_spinning

# The link flap, and the daemons this test stops.
log_allow 'fs_dp\|WARN\|fs-insp0: inspector port failed \(Network is down\)' \
    'fatal_signal(\([a-z0-9]+\))?\|WARN\|terminating with signal 15'
fsctl exit > /dev/null 2>&1 || :
finish
