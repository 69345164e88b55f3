#!/bin/bash
# tests/e2e.sh with the inspector appliance reading its port through
# AF_XDP (flowsteer-datapath=afxdp) instead of AF_PACKET: the same
# scenarios, the same checks.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend afxdp e2e
