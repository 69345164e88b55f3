#!/bin/bash
# tests/appliance.sh on OVS-DPDK (flowsteer-datapath=dpdk): the appliance's
# sandbox, kill -9, kill -STOP and a crash inside classification under
# traffic, and the seccomp probes, with its port a virtio_user device on
# the vhost-user port of br-sec.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
[ -x "${top_builddir:-.}/dpdk-pmd/fs-portfwd" ] &&
    "${top_builddir:-.}/dpdk-pmd/fs-portfwd" --help | grep -q dpdk ||
    skip "no dpdk port backend in this build"
FS_DATAPATH=dpdk exec bash "$top_srcdir/tests/appliance.sh"
