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
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
command -v ovs-pki > /dev/null || skip "no ovs-pki (apt-get install openvswitch-common)"
ovs_lib_init
py=$(command -v /usr/bin/python3 || command -v python3)
traffic=$top_srcdir/tests/migrate-traffic.py
IFACE_ID=3f0c5e2a-mv-0001

# The PKI: one CA signs both hosts' certificates.
ovs-pki -d "$tmp/pki" -l "$tmp/pki.log" init > /dev/null 2>&1 ||
    fail "ovs-pki init failed"
for h in a b; do
    (cd "$tmp" && ovs-pki -d "$tmp/pki" -l "$tmp/pki.log" -b -u \
         req+sign "host$h" switch > /dev/null 2>&1) ||
        fail "ovs-pki req+sign host$h failed"
done

cat > "$tmp/policy.conf" <<'EOF'
priority=300, tcp, tp_dst=2222, actions=drop
priority=0, actions=allow
EOF

# start_host NAME: OVS, br-int (NORMAL), SSL, the policy.
start_host() {
    ovs_host "$1"
    ovs_start
    ovs_add_bridge br-int
    ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
    vsctl set-ssl "$tmp/host$1-privkey.pem" "$tmp/host$1-cert.pem" \
        "$tmp/pki/switchca/cacert.pem" || fail "set-ssl on $1 failed"
    vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
        external_ids:flowsteer-policy="$tmp/policy.conf"
}
start_host a
start_host b
ovs_host b
vsctl set Open_vSwitch . \
    external_ids:flowsteer-migration-remote="pssl:6650:$(host_ip b)"
hosts_link a b
# The server is on a: b sees nothing of the VM's traffic before it moves.
ovs_host a
vm_add srv br-int 10.0.0.100/24
bg_start echo vm_exec srv "$py" "$traffic" server 10.0.0.100 8080
bg_start closed vm_exec srv "$py" -m http.server 2222 --bind 10.0.0.100
vm_add_migratable mv 10.0.0.1/24

# The VM's port on each host: inspected, known by its MAC and iface-id.
for h in a b; do
    ovs_host "$h"
    vsctl set Interface "$(vm_port_on mv "$h")" \
        external_ids:flowsteer-inspect=true \
        external_ids:attached-mac="\"$(vm_mac mv)\"" \
        external_ids:iface-id="$IFACE_ID" || fail "cannot inspect mv on $h"
done
fsd_up() {
    fsd_start
    wait_until 15 fsd_steering '[0-9]*' || fail "no steering on $1"
}
ovs_host a; fsd_up a; FSD_A=$FSD_CTL
ovs_host b; fsd_up b; FSD_B=$FSD_CTL
PORT_A=$(vm_ofport_on mv a)
PORT_B=$(vm_ofport_on mv b)

# on HOST CMD...: CMD with host HOST current.
on() { ovs_host "$1"; shift; "$@"; }
mig() { ovs-appctl --timeout=5 -t "$1" flowsteer/migrations; }
flows() { ovs-appctl --timeout=5 -t "$1" flowsteer/flows; }
# rules_on HOST PORT: the verdict rules of host HOST with in_port PORT.
rules_on() {
    on "$1" ofctl -O OpenFlow13 --no-stats dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" |
        grep -E "in_port=$2," || :
}
inspector_rx() {
    ovs-appctl --timeout=5 -t "$1" flowsteer/show |
        sed -n 's/^inspector port [^:]*: rx \([0-9]*\) packets.*/\1/p'
}

check "mv reaches srv through host a" vm_exec mv ping -c1 -W2 10.0.0.100
bg_start stream vm_exec mv "$py" "$traffic" stream 10.0.0.100 8080 \
    "$tmp/stream"
bg_start retry vm_exec mv "$py" "$traffic" retry 10.0.0.100 2222 45000 \
    "$tmp/retry"
lines() { cat "$tmp/stream" 2>/dev/null || echo 0; }
decided_a() {
    flows "$FSD_A" > "$tmp/flows-a" &&
        grep -q ":8080 .*verdict allow" "$tmp/flows-a" &&
        grep -q ":2222 .*verdict drop" "$tmp/flows-a"
}
check "host a decided both flows" wait_until 15 decided_a
check "the stream flows" wait_until 10 eval '[ "$(lines)" -gt 20 ]'
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
copying() {
    mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: destination, from .* copying" "$tmp/mig-b" &&
        grep -q "imported [1-9]" "$tmp/mig-b"
}
check "host b is copying the VM's flows" wait_until 10 copying
has_rules_b() {
    rules_on b "$PORT_B" > "$tmp/rules-b" &&
        grep -q "tp_dst=8080" "$tmp/rules-b" &&
        grep -q "tp_dst=2222.*actions=drop" "$tmp/rules-b"
}
check "host b has the flows' rules on the VM's port before it moves" \
    wait_until 10 has_rules_b
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
tries_after=$(cut -d' ' -f1 "$tmp/retry")
check "the dropped connection was tried again after the move" \
    wait_until 10 eval '[ "$(cut -d" " -f1 "$tmp/retry")" -gt $((tries_after + 3)) ]'
check "the dropped connection never connected" \
    eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'
# (A few may: the VM's RARP and ARP, which are not IP.)
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
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
