#!/bin/sh
# Classification agrees with nDPI's own ndpiReader on the reference
# captures of shared/data/ndpi-4.2: at least 99% of TCP and UDP flows, and
# no reference flow missing (except the malformed ones listed, with the
# reason, in tests/reference-exceptions.txt).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -d "$NDPI_DATA/pcap" ] || skip "no reference data in $NDPI_DATA"
python=$(find_python) || skip "no python3"

# The reference ran ndpiReader with -t (decode GTP/TZSP/CAPWAP tunnels).
# shellcheck disable=SC2046
"$INSPECT" --json --tunnels $(ndpi_config_args) "$NDPI_DATA"/pcap/* \
    > "$tmp/flows.json" 2> "$tmp/stderr"
status=$?
[ $status -eq 0 ] || { cat "$tmp/stderr"; fail "flowsteer-inspect exited $status"; }

"$python" "$top_srcdir/tests/compare-reference.py" "$NDPI_DATA/result" \
    "$tmp/flows.json" "$top_srcdir/tests/reference-exceptions.txt" 99
