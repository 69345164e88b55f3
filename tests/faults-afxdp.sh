#!/bin/bash
# tests/faults.sh with the appliance reading its port through AF_XDP
# (flowsteer-datapath=afxdp) on the plain userspace datapath.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend afxdp faults
