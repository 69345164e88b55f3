#!/bin/bash
# tests/neighbours.sh with the appliance's port read by AF_XDP
# (flowsteer-datapath=afxdp): ovsdb-server gone, the security bridge
# unusable, ovs-vswitchd restarted, the inspector port's link flapped.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend afxdp neighbours
