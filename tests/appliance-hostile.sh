#!/bin/bash
# A compromised inspector appliance against the real flowsteerd: in place
# of flowsteer-inspectord, flowsteerd runs tests/fake-appliance.py, which
# sends what a hostile appliance might (bytes that are no message, a HELLO
# claiming to be flowsteerd, an answer to an echo never asked, a message
# only flowsteerd sends, a header longer than its message) or nothing at
# all.  Each time flowsteerd must refuse it with a reason, count it, kill
# the appliance and start another (with a growing delay), keep running
# itself, and keep the liveness tap down, so that an inspected VM's new
# flows follow the fail mode (closed here: dropped) and never pass
# unjudged.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-fail=closed
fsd_inspect vm1 web
FAKE=$top_srcdir/tests/fake-appliance.py
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"

# hostile MODE REASON: flowsteerd with the fake appliance in MODE; REASON
# is what flowsteer/show must give as the last bad message (or, for a
# silent one, the hang).
hostile() {
    local mode=$1 reason=$2
    echo "== a hostile appliance: $mode"
    FAKE_MODE=$mode fsd_start --inspectord="$FAKE"
    check "$mode: steering installed" wait_until 15 shows \
        "steering on br-int: 7 rules, installed"
    check "$mode: refused, and flowsteer/show says why" \
        wait_until 15 shows "$reason"
    check "$mode: started again after it" wait_until 5 eval \
        'shows "inspector appliance: .* [2-9][0-9]* starts"'
    check "$mode: flowsteerd itself still runs" fsctl version
    check "$mode: the appliance is not ready, the liveness tap held down" \
        eval '! shows "inspector appliance: ready"'
    check "$mode: an inspected VM's new flow is dropped (fail=closed)" eval \
        '! vm_exec vm1 curl -s -o /dev/null --max-time 2 http://10.0.0.2:8080/'
    check "$mode: an uninspected one's passes" \
        vm_exec vm2 curl -s -o /dev/null --max-time 2 http://10.0.0.2:8080/
    kill "$(fsd_pid)"
    wait_until 10 eval '! fsctl version >/dev/null 2>&1' ||
        fail "flowsteerd did not stop"
}

hostile garbage "last bad: message of version 7 (this side speaks 1)"
hostile hello "last bad: HELLO of another role or version"
hostile echo "last bad: an answer to an echo never sent"
hostile daemon "last bad: a message of flowsteerd's kind"
hostile long "last bad: .* message says 4096 bytes, has 20"
hostile silent "[1-9][0-9]* hung"

# What flowsteerd logs about them is expected here.
log_allow 'fs_appliance\|WARN\|inspector appliance .*(ended|no answer|killed)' \
    'fs_appliance\|WARN\|inspector appliance .*: (bad message|refused)' \
    'fs_appliance\|(WARN|ERR)\|.*(HELLO of another role|an answer to an echo never sent|a message of flowsteerd.s kind|does not decode|truncated|bad version|length)' \
    'fatal_signal\|WARN\|terminating with signal 15' \
    'rconn\|WARN\|br-int<->unix#[0-9]+: connection dropped'
finish
