#!/bin/bash
# tests/e2e.sh on OVS-DPDK (flowsteer-datapath=dpdk): ovs-vswitchd from
# openvswitch-switch-dpdk with the userspace datapath, VMs as veth
# namespaces on br-int, and the inspector appliance reading its port, a
# dpdkvhostuserclient port on br-sec, as a virtio_user device with DPDK.
# Hugepages are reserved for the run and released after it (ovs-lib.sh).
# The same scenarios, the same checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
[ -x "${top_builddir:-.}/dpdk-pmd/fs-portfwd" ] &&
    "${top_builddir:-.}/dpdk-pmd/fs-portfwd" --help | grep -q dpdk ||
    skip "no dpdk port backend in this build"
FS_DATAPATH=dpdk exec bash "$top_srcdir/tests/e2e.sh"
