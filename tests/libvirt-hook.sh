#!/bin/bash
# utilities/flowsteer-libvirt-hook against a real ovsdb-server and
# ovs-vswitchd: run as libvirt would at "started", with a domain's XML, it
# turns the PortData a migration brought (the source's address) into the
# pull key flowsteer-migrate-from, and leaves this host's address in
# PortData for the next migration; it leaves alone interfaces without an
# iface-id, other operations, and hosts without a migration listener.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

hook=$top_srcdir/utilities/flowsteer-libvirt-hook
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add vm1 br-int 10.0.0.1/24
vm_add vm2 br-int 10.0.0.2/24
P1=$(vm_port vm1) P2=$(vm_port vm2)
xml="<domain><devices>
  <interface type='bridge'><target dev='$P1'/></interface>
  <interface type='bridge'><target dev='$P2'/></interface>
</devices></domain>"
hook_run() { echo "$xml" | OVS_VSCTL="ovs-vsctl --db=unix:$OVS_DIR/db.sock" "$hook" guest1 "$@"; }
key() { vsctl --if-exists get Interface "$1" "external_ids:$2" | tr -d '"'; }

vsctl set Interface "$P1" external_ids:iface-id=vm1-id \
    external_ids:PortData="flowsteer:ssl:10.99.0.1:6650"
# (vm2 has no iface-id.)

hook_run started begin -
check "no listener here: nothing set" eval '[ -z "$(key "$P1" flowsteer-migrate-from)" ]'

vsctl set Open_vSwitch . external_ids:flowsteer-migration-remote="pssl:6650:10.99.0.2"
hook_run migrate begin -
check "another operation: nothing set" eval '[ -z "$(key "$P1" flowsteer-migrate-from)" ]'

hook_run started begin -
check "the source's address becomes the pull key" \
    eval '[ "$(key "$P1" flowsteer-migrate-from)" = ssl:10.99.0.1:6650 ]'
check "PortData now says where this host listens" \
    eval '[ "$(key "$P1" PortData)" = flowsteer:ssl:10.99.0.2:6650 ]'
check "an interface without iface-id is left alone" \
    eval '[ -z "$(key "$P2" PortData)$(key "$P2" flowsteer-migrate-from)" ]'

vsctl remove Interface "$P1" external_ids flowsteer-migrate-from
hook_run reconnect begin -
check "its own address is no pull key" \
    eval '[ -z "$(key "$P1" flowsteer-migrate-from)" ]'
finish
