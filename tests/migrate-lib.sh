# migrate-lib.sh: the two hosts of the migration tests (tests/migrate.sh,
# tests/migrate-faults.sh): hosts a and b, each with OVS, br-int and
# flowsteerd, joined by a link, with a CA (ovs-pki) that signs both; the
# server srv on a; VM mv (iface-id $IFACE_ID) on a, with a leg into b,
# holding an allowed stream to srv:8080 and a connection to srv:2222 that
# the policy drops, retried on one 5-tuple.  Source it after nothing else.

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

# A test adds rules of its own in MIGRATE_POLICY (lines, before these).
cat > "$tmp/policy.conf" <<EOF
${MIGRATE_POLICY:-}
priority=300, tcp, tp_dst=2222, actions=drop
priority=200, tcp, tp_dst=8081, app=HTTP, actions=allow
priority=100, tcp, tp_dst=8081, actions=drop
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
bg_start echo2 vm_exec srv "$py" "$traffic" server 10.0.0.100 8081
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
# copying: true once b copies the VM's flows, some imported.
copying() {
    mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: destination, from .* copying" "$tmp/mig-b" &&
        grep -q "imported [1-9]" "$tmp/mig-b"
}
# vm_rules_b: true once b has the rules of the VM's stream and of its
# dropped connection on the VM's port there.
vm_rules_b() {
    rules_on b "$PORT_B" > "$tmp/rules-b" &&
        grep -q "tp_dst=8080" "$tmp/rules-b" &&
        grep -q "tp_dst=2222.*actions=drop" "$tmp/rules-b"
}
# check_still_dropped: the VM's dropped connection is tried again (three
# more tries) and has never connected.
check_still_dropped() {
    local tries
    tries=$(cut -d' ' -f1 "$tmp/retry")
    check "the dropped connection is tried again" \
        wait_until 10 eval '[ "$(cut -d" " -f1 "$tmp/retry")" -gt $((tries + 3)) ]'
    check "the dropped connection never connected" \
        eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'
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
bg_start later vm_exec mv "$py" "$traffic" later 10.0.0.100 8081 \
    "$tmp/later"
lines() { cat "$tmp/stream" 2>/dev/null || echo 0; }
decided_a() {
    flows "$FSD_A" > "$tmp/flows-a" &&
        grep -q ":8080 .*verdict allow" "$tmp/flows-a" &&
        grep -q ":2222 .*verdict drop" "$tmp/flows-a" &&
        grep -q ":8081 .*classifying" "$tmp/flows-a"
}
check "host a decided two flows, the third is classifying" \
    wait_until 15 decided_a
check "the stream flows" wait_until 10 eval '[ "$(lines)" -gt 20 ]'
