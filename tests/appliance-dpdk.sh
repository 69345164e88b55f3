#!/bin/bash
# tests/appliance.sh on OVS-DPDK (flowsteer-datapath=dpdk): the appliance's
# sandbox, kill -9, kill -STOP and a crash inside classification under
# traffic, and the seccomp probes, with its port a virtio_user device on
# the vhost-user port of br-sec.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk appliance
