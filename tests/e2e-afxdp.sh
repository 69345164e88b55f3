#!/bin/bash
# tests/e2e.sh with the inspector appliance reading its port through
# AF_XDP (flowsteer-datapath=afxdp) instead of AF_PACKET: the same
# scenarios, the same checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
[ -x "${top_builddir:-.}/dpdk-pmd/fs-portfwd" ] &&
    "${top_builddir:-.}/dpdk-pmd/fs-portfwd" --help | grep -q afxdp ||
    skip "no afxdp port backend in this build"
FS_DATAPATH=afxdp exec bash "$top_srcdir/tests/e2e.sh"
