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
# unjudged.  And one that is healthy, then hangs: silent, or sending
# messages but no answer.
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
        "steering on br-int: 8 rules, installed"
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

hostile garbage "last bad: message of version 7 (this side speaks 2)"
hostile hello "last bad: HELLO of another role or version"
hostile echo "last bad: an answer to an echo never sent"
hostile daemon "last bad: a message of flowsteerd's kind"
hostile long "last bad: .* message says 4096 bytes, has 20"
hostile silent "[1-9][0-9]* hung"

# An appliance that is ready (its port open) and then stops answering is
# hung after 1 s, however long it has been healthy; one that keeps sending
# messages but no answer (as if the answer were queued behind them) gets
# the longer bound of 10 s, and then is stopped all the same.
export FAKE_N_DP FAKE_PORT_OPEN
FAKE_N_DP=$(sed -n '/^#define FS_CHAN_DP_FIGURES/,/^enum/p' \
                "$top_srcdir/dpdk-pmd/fs-chan.h" | grep -c '^ *D(')
FAKE_PORT_OPEN=$(sed -n '/^#define FS_CHAN_DP_FIGURES/,/^enum/p' \
                     "$top_srcdir/dpdk-pmd/fs-chan.h" | grep '^ *D(' |
                     grep -n 'PORT_OPEN' | cut -d: -f1)
FAKE_PORT_OPEN=$((FAKE_PORT_OPEN - 1))
# hung_after MODE MIN_MS MAX_MS: the fake in MODE becomes ready, goes
# quiet after 3 s, and is stopped as hung after MIN_MS to MAX_MS.
hung_after() {
    local mode=$1 min=$2 max=$3 ms pid
    echo "== an appliance ready, then $mode"
    FAKE_MODE=$mode fsd_start --inspectord="$FAKE"
    check "$mode: ready (its port open)" wait_until 25 shows \
        "inspector appliance: ready"
    pid=$(sed -n 's/.*inspector appliance (pid \([0-9]*\)) ready.*/\1/p' \
              "$tmp/flowsteerd.log" | head -n 1)
    check "$mode: then stopped as hung" wait_until 20 \
        grep -q "inspector appliance (pid ${pid:-none}): no answer for" \
        "$tmp/flowsteerd.log"
    ms=$(sed -n "s/.*inspector appliance (pid ${pid:-none}): no answer for \([0-9]*\) ms.*/\1/p" \
             "$tmp/flowsteerd.log" | head -n 1)
    check "$mode: after ${ms:-?} ms without an answer (${min} to ${max})" \
        eval '[ -n "$ms" ] && [ "$ms" -ge "$min" ] && [ "$ms" -le "$max" ]'
    kill "$(fsd_pid)"
    wait_until 10 eval '! fsctl version >/dev/null 2>&1' ||
        fail "flowsteerd did not stop"
    mv "$tmp/flowsteerd.log" "$tmp/flowsteerd-$mode.log"
}
hung_after quiet 1000 2500
hung_after chatty 9500 12000

# A compromised appliance can lie about what it saw, but not about what the
# policy says: flowsteerd judges every record again by its own policy
# before its rules go to the switch.  The liar says vm1's flow to the
# closed port was allowed as HTTP.
echo "== a lying appliance: it says the closed port's flow was allowed"
printf '%s\n' 'priority=100, profile=web, tcp, tp_dst=2222, actions=drop' \
    'priority=0, profile=web, actions=allow' > "$tmp/policy.conf"
vsctl set Open_vSwitch . external_ids:flowsteer-policy="$tmp/policy.conf"
FAKE_MODE=liar fsd_start --inspectord="$FAKE"
check "liar: ready (its port open)" wait_until 25 shows \
    "inspector appliance: ready"
lie_rules() {
    ofctl -O OpenFlow13 dump-flows br-int | grep "tp_src=40999,tp_dst=2222"
}
check "liar: the flow it lied about has rules" wait_until 10 eval \
    'lie_rules > "$tmp/lie"'
check "liar: flowsteerd's policy decided them: drop, not the allow it said" \
    eval 'grep -q "actions=drop" "$tmp/lie" && ! grep -qv "actions=drop" "$tmp/lie"'
kill "$(fsd_pid)"
wait_until 10 eval '! fsctl version >/dev/null 2>&1' ||
    fail "flowsteerd did not stop"
mv "$tmp/flowsteerd.log" "$tmp/flowsteerd-liar.log"

for f in "$tmp"/flowsteerd-*.log; do
    cat "$f" >> "$tmp/flowsteerd.log"
done

# What flowsteerd logs about them is expected here.
log_allow 'fs_appliance\|WARN\|inspector appliance .*(ended|no answer|killed)' \
    'fs_appliance\|WARN\|inspector appliance .*: (bad message|refused)' \
    'fs_appliance\|(WARN|ERR)\|.*(HELLO of another role|an answer to an echo never sent|a message of flowsteerd.s kind|does not decode|truncated|bad version|length)' \
    'fatal_signal\|WARN\|terminating with signal 15' \
    'rconn\|WARN\|br-int<->unix#[0-9]+: connection dropped' \
    '(netdev_linux|jsonrpc)\|WARN\|Dropped [0-9]+ log messages'
finish
