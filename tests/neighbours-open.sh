#!/bin/bash
# tests/neighbours.sh with fail=open: while flowsteerd recovers, new flows
# pass uninspected instead of being dropped.
NEIGHBOURS_FAIL=open exec bash "${top_srcdir:-$(dirname "$0")/..}/tests/neighbours.sh"
