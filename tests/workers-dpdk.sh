#!/bin/bash
# tests/workers.sh on OVS-DPDK: two workers behind one virtio_user port.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk workers
