#!/bin/bash
# tests/neighbours.sh on OVS-DPDK (flowsteer-datapath=dpdk): ovsdb-server
# gone, the security bridge unusable, ovs-vswitchd restarted (its
# vhost-user client port then reconnects to a new appliance).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk neighbours
