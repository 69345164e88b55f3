#!/bin/bash
# The switch-over at the destination's first packet, on the two hosts of
# tests/migrate-lib.sh: VM "mv" moves to host b while its port stays in
# host a's switch (as a QEMU source's tap stays until QEMU quits), and
# announces itself with RARP there.  Asserted: b sees the VM's first
# packet and asks a for the switch-over; a sends the final changes and
# lets go of the VM's flows; the stream goes on, the dropped connection
# stays dropped, b holds the flows.  Without the trigger, a would keep
# the flows and b wait for its port to go.
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

check "flowsteer/migrate starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" "ssl:$(host_ip b):6650"
check "host b is copying the VM's flows" wait_until 10 copying
check "host b has the flows' rules before the VM moves" \
    wait_until 10 vm_rules_b
# Nothing came in on the VM's port at b yet: no switch-over.
sleep 0.5
check "no switch-over while the VM runs on a" copying

# The VM moves; its port stays in a's switch.
vm_migrate mv b
done_both() {
    mig "$FSD_A" > "$tmp/mig-a" && mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: source, to .* done" "$tmp/mig-a" &&
        grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"
}
check "both hosts are done, a's port still there" wait_until 10 done_both
check "b saw the VM's first packet and asked for the switch-over" \
    grep -q "$IFACE_ID from .*: the VM's first packet here: switching over" \
    "$tmp/fsd-b/flowsteerd.log"
check "a switched over because b asked" \
    grep -q "$IFACE_ID to .*: switching over (the destination asked)" \
    "$tmp/flowsteerd.log"
check "a's port is still in its switch" \
    on a vsctl --bare get Interface "$(on a vm_port_on mv a)" ofport
n=$(lines)
check "the stream goes on" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 40)) ]'
check "the stream had no reset" eval '[ ! -e "$tmp/stream.err" ]'
check_still_dropped
flows "$FSD_B" > "$tmp/flows-b"
check "b holds the migrated stream" \
    grep -qE ":8080 .*verdict allow.*migrated" "$tmp/flows-b"
check "a holds no rule of the VM" \
    wait_until 10 eval '[ -z "$(rules_on a "$PORT_A")" ]'
bg_stop retry
bg_stop stream
bg_stop later
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
