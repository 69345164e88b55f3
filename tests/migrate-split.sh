#!/bin/sh
# Flows migrated in the middle of their classification end as if they had
# never moved: every capture of shared/data/ndpi-4.2, split after each
# flow's 1st, 2nd, 3rd, 5th and 8th packet and half-way through it, and
# every flow at once half-way through the capture (a VM's live migration),
# in both inspector modes (tests/test-migrate-split.c): 100% of flows but for
# those listed, with the reason, in tests/migrate-split-exceptions.txt.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ -d "$NDPI_DATA/pcap" ] || skip "no reference data in $NDPI_DATA"
"$top_builddir/tests/test-migrate-split" "$NDPI_DATA" \
    "$top_srcdir/tests/migrate-split-exceptions.txt" > "$tmp/out"
status=$?
cat "$tmp/out"
[ $status -eq 0 ] || fail "flows ended otherwise after a migration"
echo "PASS: every flow of every capture agrees at every split point, but for the"
echo "      flows of tests/migrate-split-exceptions.txt (nDPI state shared by flows)"
