#!/bin/bash
# tests/e2e-apps.sh on OVS-DPDK (flowsteer-datapath=dpdk): the appliance reads
# its port, a vhost-user port of br-sec, as a virtio_user device with DPDK.
# Hugepages are reserved for the run and released after it (ovs-lib.sh).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk e2e-apps
