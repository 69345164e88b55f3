#!/bin/bash
# Live migration between two hosts: each its own ovsdb-server,
# ovs-vswitchd (userspace datapath) and flowsteerd, their br-int joined by
# a veth pair, their flowsteerd by mutual TLS (ovs-pki).  VM "mv" (a
# namespace with a leg into each host's br-int, same MAC, one leg up at a
# time) holds an allowed long-lived TCP stream and a connection the policy
# drops that keeps retrying on the same 5-tuple; it migrates from host a
# to host b (push: flowsteer/migrate on a; switch-over when its port goes
# from a's switch).  Asserted: b installs the flows' rules before the VM
# moves; the stream goes on without a reset and none of its packets
# visit b's inspector; the dropped connection stays dropped; b's
# flowsteer/flows shows the migrated flows; a holds nothing of the VM
# afterwards; both sides' flowsteer/migrations say done.
#
# MIGRATE_PULL=1: the same, started by the destination
# (external_ids:flowsteer-migrate-from on its Interface).
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

tries_before=$(cut -d' ' -f1 "$tmp/retry")

# Phase 1: the copy, while the VM runs on a.
if [ "${MIGRATE_PULL:-0}" = 1 ]; then
    on b vsctl set Interface "$(vm_port_on mv b)" \
        external_ids:flowsteer-migrate-from="ssl:$(host_ip a):6650"
    on a vsctl set Open_vSwitch . \
        external_ids:flowsteer-migration-remote="pssl:6650:$(host_ip a)"
else
    check "flowsteer/migrate starts" \
        ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" \
        "ssl:$(host_ip b):6650"
fi
check "host b is copying the VM's flows" wait_until 10 copying
check "host b has the flows' rules on the VM's port before it moves" \
    wait_until 10 vm_rules_b
rx_b=$(inspector_rx "$FSD_B")

# Phase 2: the VM stops on a (its port goes), resumes on b.
on a vsctl del-port br-int "$(vm_port_on mv a)"
done_a() {
    mig "$FSD_A" > "$tmp/mig-a" &&
        grep -q "$IFACE_ID: source, to .* done" "$tmp/mig-a"
}
check "host a: the migration is done" wait_until 10 done_a
done_b() {
    mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"
}
check "host b: the migration is done" wait_until 10 done_b
vm_migrate mv b
n=$(lines)
check "the stream goes on after the migration" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 40)) ]'
check "the stream had no reset nor wrong echo" \
    eval '[ ! -e "$tmp/stream.err" ] && _ol_alive "$(bg_pid stream)"'
[ ! -e "$tmp/stream.err" ] || cat "$tmp/stream.err"
check_still_dropped
# (A few may: packets of flows whose rules are not in yet.)
rx_now=$(inspector_rx "$FSD_B")
echo "  b's inspector received $((rx_now - rx_b)) packets while the stream" \
    "sent $(( $(lines) - n )) lines"
check "no packet of the migrated flows visited b's inspector" \
    eval '[ "$rx_now" -le $((rx_b + 10)) ]'
flows "$FSD_B" > "$tmp/flows-b"
check "b's flowsteer/flows shows the migrated stream, with its history" \
    grep -qE ":8080 .*verdict allow.*migrated, flow [0-9]+ there" \
    "$tmp/flows-b"
check "b's flowsteer/flows shows the migrated dropped flow" \
    grep -qE ":2222 .*verdict drop.*migrated" "$tmp/flows-b"

# The flow that was still in classification: b classifies it on from the
# packets a gave nDPI, and judges it as a would have.
touch "$tmp/later.go"
later_done() { [ "$(cat "$tmp/later")" = done ]; }
check "the connection that was classifying gets its answer" \
    wait_until 10 later_done
[ ! -e "$tmp/later.err" ] || cat "$tmp/later.err"
flows "$FSD_B" > "$tmp/flows-b"
check "b decided it as HTTP, allowed, with its history from a" \
    grep -qE ":8081 .*HTTP.*verdict allow.*migrated" "$tmp/flows-b"
flows "$FSD_A" > "$tmp/flows-a"
check "a holds no flow of the VM" \
    eval '! grep -qE "10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.100" "$tmp/flows-a"'
check "a holds no rule of the VM" \
    eval '[ -z "$(rules_on a "$PORT_A")" ]'
mig "$FSD_A" > "$tmp/mig-a"
check "a released the flows it sent" \
    grep -qE "released [1-9]" "$tmp/mig-a"
sed 's/^/  a: /' "$tmp/mig-a"
sed 's/^/  b: /' "$tmp/mig-b"
bg_stop retry
bg_stop stream
bg_stop later
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
