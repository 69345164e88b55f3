#!/bin/bash
# The appliance's side of a migration, against the real
# flowsteer-inspectord with two workers, driven over its channel as
# flowsteerd drives it (tests/appliance-migrate.py): a batch of records
# imported (local ids, the exporter's kept as origin, ports mapped, a
# verdict event each), exported back, nothing since a mark, a batch with a
# bad record refused whole, a flow released (it ends as migrated), the
# batch again (updates, no conflict), and a batch whose records are not
# framed ending the appliance as a protocol error.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (the appliance drops to nobody)"
py=$(find_python) || skip "no python3"
"$py" "$top_srcdir/tests/appliance-migrate.py" \
    "$top_builddir/ovs-ext/flowsteer-inspectord" --workers=2 \
    --log-file="$tmp/inspectord.log" > "$tmp/out" 2>&1
status=$?
cat "$tmp/out"
[ $status -eq 0 ] || fail "the appliance's migration messages"
grep -q "^ok a batch that does not frame" "$tmp/out" ||
    fail "the driver did not get to its end"
echo "PASS: the appliance's migration messages"
