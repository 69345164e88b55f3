#!/bin/bash
# Failing neighbours: flowsteerd's inspector port flapped or made again,
# its security bridge unusable, ovs-vswitchd restarted (the ovs-ctl way,
# and after a crash), ovsdb-server gone for a while.  After each,
# flowsteerd finds its way back without help, bounded in time, without
# spinning a core.  Meanwhile new flows follow the fail mode: with
# fail=closed (the default here) nothing passes uninspected, a policy's
# closed port stays closed throughout; tests/neighbours-open.sh runs it
# with fail=open (NEIGHBOURS_FAIL=open), where they pass.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

FAIL=${NEIGHBOURS_FAIL:-closed}
case $FAIL in closed|open) ;; *) fail "NEIGHBOURS_FAIL: closed or open" ;; esac
closed() { [ "$FAIL" = closed ]; }

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected
vm_add vm3 br-int 10.0.0.3/24       # not inspected

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=250, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
priority=0, profile=locked, actions=drop
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-fail="$FAIL"
fsd_inspect vm1 web
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
check "steering installed" wait_until 15 fsd_steering 8
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
if [ "${FS_DATAPATH:-}" = dpdk ]; then
    # (Its vhost-user connection drops when ovs-vswitchd restarts, below.)
    echo "  not on dpdk: the vhost-user port has no kernel link to flap"
else
    ovs_exec ip link set fs-insp0 down
    sleep 0.5
    ovs_exec ip link set fs-insp0 up
    t0=$(now_ms)
    # The appliance cannot open a port once sandboxed: it exits, and
    # flowsteerd starts a new one, which opens it.
    check "flowsteerd notices and opens it again" wait_until 10 eval \
        'shows "inspector appliance: ready, .* 1 ended, .*last: exit status 3 (its inspector port failed)" &&
         grep -q "fs-insp0: the inspector port failed (Network is down)" "$tmp/flowsteerd.log"'
    check "new connections are judged again" wait_until 10 judged
    echo "  judged again after $(( $(now_ms) - t0 )) ms"
    check "and flowsteerd does not spin" not_spinning
fi

echo "== no inspector to reach: a security bridge flowsteerd will not use"
vsctl add-br br-nope -- set bridge br-nope datapath_type=netdev \
    fail_mode=standalone
vm_exec vm1 ping -c 1 -W 2 10.0.0.2 > /dev/null    # refresh the ICMP flow
vsctl set Open_vSwitch . external_ids:flowsteer-sec-bridge=br-nope
check "it is refused" wait_until 10 \
    shows "security bridge br-nope has fail_mode standalone"
if closed; then
    check "the steering is closed" wait_until 10 \
        shows "(closed: no inspector to reach, the inspected ports' traffic is dropped)"
    check "an inspected VM's new connections are dropped, not passed uninspected" \
        eval '! http 8080 2'
else
    check "there is no steering" wait_until 10 \
        shows "steering on br-int: 0 rules, installed$"
    check "new connections pass uninspected, even to the closed port (fail=open)" \
        wait_until 5 http 2222
fi
check "a decided flow keeps its verdict (its rules are in OVS)" \
    vm_exec vm1 ping -c 2 -i 0.2 -W 2 10.0.0.2
vsctl set Open_vSwitch . external_ids:flowsteer-sec-bridge=br-sec \
    -- del-br br-nope
check "back to br-sec: new connections are judged again" wait_until 15 judged

echo "== the inspector port deleted"
# Open vSwitch deletes its device with it; flowsteerd puts the port back,
# a new device of the same name, and opens that.
vsctl del-port br-sec fs-insp0
if closed; then
    check "the closed port stays closed while the port is gone" \
        eval '! http 2222 2'
fi
check "flowsteerd puts its port back" wait_until 15 eval \
    'vsctl get Interface fs-insp0 ofport | grep -qv "^-1$"'
check "new connections are judged again" wait_until 10 judged
check "flowsteerd does not spin" not_spinning

verdict_rules() {
    ofctl -O OpenFlow13 dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep -c "priority=40000"
}
# probe_start / probe_stop: in the background, vm1 tries the closed port
# ten times a second; probe_stop sets 'opened' to how many got through.
probe_start() {
    bg_start probe vm_exec vm1 sh -c 'while :; do
        curl -s -o /dev/null --max-time 0.5 http://10.0.0.2:2222/ && echo open
        sleep 0.1
    done'
}
probe_stop() {
    bg_stop probe
    opened=$(grep -c '^open$' "$(bg_log probe)")
}
guard_armed() {
    shows "restart guard: armed (flow-restore-wait=true)" &&
        [ "$(vsctl get Open_vSwitch . other_config:flow-restore-wait)" = '"true"' ]
}
guard_off() {
    shows "restart guard: off" &&
        ! vsctl get Open_vSwitch . other_config:flow-restore-wait > /dev/null 2>&1
}
guard_ok() { if closed; then guard_armed; else guard_off; fi; }

echo "== ovs-vswitchd restarted as ovs-ctl restarts it (flows saved and restored)"
n=$(verdict_rules)
check "verdict rules before: $n" test "$n" -gt 0
check "the restart guard is $(closed && echo armed || echo off)" \
    wait_until 5 guard_ok
probe_start
ovs_restart_vswitchd_keeping_flows
if closed; then
    check "the closed port is closed as soon as it forwards" eval '! http 2222 2'
fi
probe_stop
if closed; then
    check "and was never open meanwhile ($opened tries got through)" \
        test "$opened" -eq 0
    check "the guard is armed again after ovs-ctl's restore cleared it" \
        wait_until 10 guard_armed
else
    echo "  $opened tries to the closed port got through meanwhile (fail=open)"
    check "the guard stays off" guard_off
fi
check "steering is in place" wait_until 20 fsd_steering 8
check "new connections are judged" wait_until 15 judged
check "the verdict rules survived ($(verdict_rules) now, >= $n)" eval \
    '[ "$(verdict_rules)" -ge "$n" ]'
check "flowsteerd does not spin" not_spinning

echo "== ovs-vswitchd crashed and started again (flows lost)"
# Until flowsteerd has put its rules back, the controller's decide (here
# NORMAL, which the test puts back at once, as a controller would).
released() { fsctl flowsteer/show | sed -n 's/^restart guard: .*; \([0-9]*\) releases.*/\1/p'; }
r0=$(released)
probe_start
kill -9 "$(ovs_pids | cut -d' ' -f2)"
ovs_restart_vswitchd
t0=$(now_ms)
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
check "steering is installed again" wait_until 20 fsd_steering 8
echo "  steering back $(( $(now_ms) - t0 )) ms after ovs-vswitchd answered"
if closed; then
    check "the guard let ovs-vswitchd forward once the steering was in" \
        wait_until 10 eval '[ "$(released)" -gt "$r0" ]'
fi
sleep 1
probe_stop
fsctl flowsteer/show | grep "^restart guard" | sed 's/^/  /'
if closed; then
    check "the closed port was never open meanwhile ($opened tries got through)" \
        test "$opened" -eq 0
    check "and the guard is armed again" wait_until 10 guard_armed
else
    echo "  $opened tries to the closed port got through meanwhile (fail=open)"
    check "the guard stays off" guard_off
fi
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
check "the closed port stays closed (nothing crosses)" eval '! http 2222 2'
check "flowsteerd does not spin while it cannot reach either (10 s)" \
    not_spinning 10
check "it still answers ovs-appctl, and says so" \
    shows "database unix:.*db.sock (not connected)"
# flowsteer/flows waits (a second) for counters the switch does not send
# now: no more than 16 requests wait, the others are refused and counted.
for i in $(seq 24); do
    fsctl flowsteer/flows > "$tmp/flows.$i" 2>&1 &
    flows_pids+=($!)
done
n_busy=0 n_other=0
for i in $(seq 24); do
    if wait "${flows_pids[$((i - 1))]}"; then
        :
    elif grep -q "^busy: 16 flowsteer/flows requests" "$tmp/flows.$i"; then
        n_busy=$((n_busy + 1))
    else
        n_other=$((n_other + 1))
        cat "$tmp/flows.$i"
    fi
done
echo "  $n_busy of 24 flowsteer/flows requests refused busy"
check "at most 16 flowsteer/flows requests wait; the rest are refused" \
    eval '[ "$n_busy" -ge 1 ] && [ "$n_other" -eq 0 ] &&
          shows "requests waiting for counters (at most 16), [0-9]* replies, $n_busy refused busy"'
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

if closed; then
    echo "== flowsteerd killed, then ovs-vswitchd restarted"
    # The guard stays armed when flowsteerd dies: the restarted switch waits
    # for it, every port of it, inspected or not.
    kill -9 "$(fsd_pid)"
    wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' ||
        fail "flowsteerd did not die"
    ovs_restart_vswitchd
    ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
    check "the restarted switch forwards nothing, not even between VMs that are not inspected" \
        eval '! vm_exec vm2 ping -c 2 -i 0.2 -W 1 10.0.0.3'
    check "nor to the closed port" eval '! http 2222 2'
    fsd_start
    check "flowsteerd back: steering installed" wait_until 20 fsd_steering 8
    check "the switch forwards again" wait_until 10 \
        vm_exec vm2 ping -c 2 -i 0.2 -W 1 10.0.0.3
    check "and judges new connections" wait_until 10 judged
    check "the guard is armed again" wait_until 10 guard_armed

    echo "== flowsteerd stopped on purpose"
    fsctl exit > /dev/null 2>&1
    check "it exits" wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null'
    check "and takes its flow-restore-wait with it" eval \
        '! vsctl get Open_vSwitch . other_config:flow-restore-wait 2> /dev/null'
fi

# The link flap, the daemons this test stops, and what they then say.
# flowsteerd reconnecting while ovs-vswitchd restarts finds its old
# management socket still there, with nobody behind it.
log_allow 'fs_appliance\|WARN\|appliance: fs_dp: fs-insp0: inspector port failed \(Network is down\)' \
    'flowsteerd\|WARN\|fs-insp0: the inspector port failed \(Network is down\): exiting' \
    'fs_appliance\|WARN\|inspector appliance \(pid [0-9]+\) ended: exit status 3 ' \
    'fs_topo\|WARN\|security bridge br-nope has fail_mode standalone' \
    'fatal_signal(\([^)]*\))?\|WARN\|terminating with signal 15' \
    'rconn\|WARN\|br-(int|sec)<->unix#[0-9]+: connection dropped' \
    'rconn\|WARN\|unix:.*/br-(int|sec)\.mgmt: connection failed \((Connection refused|No such file or directory)\)'
fsctl exit > /dev/null 2>&1 || :
finish
