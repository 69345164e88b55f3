#!/bin/bash
# Flows that came to the VM move with it, on the two hosts of
# tests/migrate-lib.sh: VM "mv" serves on port 7000 and srv (on host a)
# holds a stream to it, which the VM did not begin.  Asserted: the stream's
# flow goes to b with its verdict (its record names mv's port as its peer;
# its own port there is unknown), its rules are on b before the VM moves,
# the stream goes on without a reset and none of its packets visit b's
# inspector, and a lets go of it.  Before, such a flow was judged again at
# b, mid-stream.
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

bg_start vmsrv vm_exec mv "$py" "$traffic" server 10.0.0.1 7000
wait_until 10 vm_exec srv "$py" -c "
import socket; socket.create_connection(('10.0.0.1', 7000), 1).close()" ||
    fail "mv's server did not start"
bg_start inbound vm_exec srv "$py" "$traffic" stream 10.0.0.1 7000 "$tmp/in"
inlines() { cat "$tmp/in" 2>/dev/null || echo 0; }
check "srv's stream to the VM flows" wait_until 10 eval '[ "$(inlines)" -gt 20 ]'
check "a decided it, the VM's port its peer" wait_until 10 eval \
    'flows "$FSD_A" | grep -qE "10.0.0.100:[0-9]+ -> 10.0.0.1:7000 .*\[to port $PORT_A .*verdict allow"'

# (Two flows, with the probe that waited for mv's server.)
in_ids=$(flows "$FSD_A" | awk '/ -> 10.0.0.1:7000 / { print $1 }' |
         tr '\n' ' ')
check "flowsteer/migrate starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" "ssl:$(host_ip b):6650"
check "host b is copying the VM's flows" wait_until 10 copying
# in_rules_b: b has both rules of srv's stream: to the VM (from a port not
# known there) and back from the VM's port.
in_rules_b() {
    on b ofctl -O OpenFlow13 --no-stats dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" > "$tmp/all-b" &&
        grep -q "nw_src=10.0.0.100,nw_dst=10.0.0.1,tp_src=[0-9]*,tp_dst=7000" \
            "$tmp/all-b" &&
        grep -q "nw_src=10.0.0.1,nw_dst=10.0.0.100,tp_src=7000," "$tmp/all-b"
}
check "b has the stream's rules before the VM moves" wait_until 10 in_rules_b
rx_before=$(inspector_rx "$FSD_B")
n=$(inlines)
vm_migrate mv b
done_both() {
    mig "$FSD_A" > "$tmp/mig-a" && mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: source, to .* done" "$tmp/mig-a" &&
        grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"
}
check "both hosts are done" wait_until 10 done_both
check "srv's stream goes on" \
    wait_until 15 eval '[ "$(inlines)" -gt $((n + 40)) ]'
check "srv's stream had no reset" eval '[ ! -e "$tmp/in.err" ]'
rx_after=$(inspector_rx "$FSD_B")
echo "  b's inspector: $rx_before packets before the move, $rx_after after"
check "next to none of its packets visited b's inspector" \
    eval '[ $((rx_after - rx_before)) -le 10 ]'
flows "$FSD_B" > "$tmp/flows-b"
check "b holds it, migrated, with its verdict" grep -qE \
    "10.0.0.100:[0-9]+ -> 10.0.0.1:7000 .*\[to port $PORT_B .*verdict allow.*migrated" \
    "$tmp/flows-b"
# (a's port for the VM is still in its switch, as a QEMU source's tap is
# until QEMU quits: what srv still sends there is a new flow of a's.)
a_has_them() {
    flows "$FSD_A" > "$tmp/flows-a" || return 0
    for id in $in_ids; do
        grep -q "^$id " "$tmp/flows-a" && return 0
    done
    return 1
}
check "a let go of them (flows $in_ids)" wait_until 10 eval '! a_has_them'
n=$(lines)
check "the VM's own stream goes on" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 20)) ]'
check_still_dropped
bg_stop inbound
bg_stop vmsrv
bg_stop retry
bg_stop stream
bg_stop later
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
