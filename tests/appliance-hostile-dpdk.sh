#!/bin/bash
# tests/appliance-hostile.sh on OVS-DPDK: the hostile appliance against a
# flowsteerd whose appliance port is a vhost-user port.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend dpdk appliance-hostile
