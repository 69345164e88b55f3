#!/bin/bash
# tests/enforce-restart.sh with two workers (flowsteer-workers=2): flows
# spread over two inspectors, whose ids interleave, must survive every
# restart as they do with one (records go back to the worker their flow
# hashes to; imports keep each worker's ids apart).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
on_backend afpacket enforce-restart FS_WORKERS=2
