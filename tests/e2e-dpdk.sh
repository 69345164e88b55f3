#!/bin/bash
# tests/e2e.sh on OVS-DPDK (flowsteer-datapath=dpdk): ovs-vswitchd from
# openvswitch-switch-dpdk with the userspace datapath, VMs as veth
# namespaces on br-int, and the inspector appliance reading its port, a
# dpdkvhostuserclient port on br-sec, as a virtio_user device with DPDK.
# Hugepages are reserved for the run and released after it (ovs-lib.sh).
# The same scenarios, the same checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk e2e
