#!/bin/bash
# A hostile VM on the destination host that reuses the migrating VM's
# 5-tuples, on the two hosts of tests/migrate-lib.sh.  VM "evil" on host
# b has a profile that allows everything, and sends SYNs that claim to be
# mv's (its address, its source port) on the connection to srv:2222 that
# the policy drops for mv: b judges them as evil's flow, allowed, before mv
# comes.  Asserted:
#   - the migrated record takes that 5-tuple: mv's connection stays
#     dropped on b (evil's flow does not lend it its verdict), and the
#     migration counts the conflict;
#   - evil's SYNs on mv's 5-tuples after the move, on the dropped
#     connection and on the allowed stream, reach nothing: they are
#     exception port_mismatch at b's inspector, and mv's stream goes on.
MIGRATE_POLICY='priority=400, profile=open, actions=allow'
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

"$py" -c 'import scapy' 2> /dev/null ||
    skip "no python3 with scapy (apt-get install python3-scapy)"
ATTACK=$top_srcdir/tests/attack.py

# evil: inspected on b, under a profile that allows it everything.
on b vm_add --ofport 10 evil br-int 10.0.0.66/24
on b vsctl set Interface "$(vm_port evil)" \
    external_ids:flowsteer-inspect=true external_ids:flowsteer-profile=open ||
    fail "cannot inspect evil"
shows_b() {
    ovs-appctl --timeout=5 -t "$FSD_B" flowsteer/show > "$tmp/show-b" &&
        grep -q -- "$1" "$tmp/show-b"
}
b_counter() {
    ovs-appctl --timeout=5 -t "$FSD_B" flowsteer/show | tr ' ' '\n' |
        sed -n "s/^$1=//p" | head -n 1
}

# spoof SPORT DPORT ID: evil sends a SYN as mv's (10.0.0.1:SPORT) to
# srv:DPORT with IP id ID, observed on srv; prints how many of them
# arrived.
spoof() {
    local out=$tmp/spoof-$3.json ready=$tmp/spoof-$3.ready obs
    on a vm_exec srv "$py" "$ATTACK" observe --iface "$(on a vm_if srv)" \
        --port "$2" --seconds 4 --linger 1.5 --ip-id "$3" \
        --out "$out" --ready-file "$ready" > /dev/null 2>&1 &
    obs=$!
    wait_until 5 test -f "$ready" || fail "the observer did not start"
    on b vm_exec evil "$py" "$ATTACK" send plain --iface "$(on b vm_if evil)" \
        --src-mac "$(vm_mac evil)" --dst-mac "$(vm_mac srv)" \
        --src 10.0.0.1 --dst 10.0.0.100 --sport "$1" --dport "$2" \
        --ip-id "$3" --count 3 > /dev/null || fail "attack.py send failed"
    wait "$obs"
    "$py" -c 'import json, sys; print(json.load(open(sys.argv[1]))["frames"])' \
        "$out"
}

# Before the move: evil's SYNs on mv's dropped 5-tuple are evil's flow,
# judged under its profile, and let through.
got=$(spoof 45000 2222 $((0x5101)))
check "before the move, evil's SYNs as mv's to :2222 reach srv ($got)" \
    [ "${got:-0}" -ge 1 ]
flows "$FSD_B" > "$tmp/flows-b0"
check "b holds them as an allowed flow of evil's" \
    grep -qE "10\.0\.0\.1:45000 .*:2222 .*verdict allow" "$tmp/flows-b0"

# The migration (push), as tests/migrate.sh does it.
check "flowsteer/migrate starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" "ssl:$(host_ip b):6650"
has_drop_b() {
    rules_on b "$PORT_B" | grep -q "tp_dst=2222.*actions=drop"
}
check "b has mv's drop rule for :2222 on mv's port before it moves" \
    wait_until 10 has_drop_b
mig "$FSD_B" > "$tmp/mig-b"
check "the migration counts the conflict with evil's flow" \
    grep -qE "in conflict [1-9]" "$tmp/mig-b"
on a vsctl del-port br-int "$(on a vm_port_on mv a)"
done_b() {
    mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"
}
check "host b: the migration is done" wait_until 10 done_b
vm_migrate mv b
check_still_dropped
flows "$FSD_B" > "$tmp/flows-b1"
check "b's flow of the 5-tuple is mv's migrated one, dropped" \
    grep -qE "10\.0\.0\.1:45000 .*:2222 .*verdict drop.*migrated" \
    "$tmp/flows-b1"

# After the move: evil's SYNs on mv's 5-tuples go nowhere.
mm=$(b_counter err_port_mismatch)
got=$(spoof 45000 2222 $((0x5102)))
check "after the move, evil's SYNs as mv's to :2222 reach nothing ($got)" \
    [ "${got:-1}" = 0 ]
sport=$(sed -nE 's/.*10\.0\.0\.1:([0-9]+) .*:8080 .*verdict allow.*/\1/p' \
            "$tmp/flows-b1" | head -n 1)
[ -n "$sport" ] || fail "no stream in b's flows"
n=$(lines)
got=$(spoof "$sport" 8080 $((0x5103)))
check "evil's SYNs on mv's allowed stream reach nothing ($got)" \
    [ "${got:-1}" = 0 ]
check "b counts them as port_mismatch" \
    eval '[ "$(b_counter err_port_mismatch)" -ge $((mm + 6)) ]'
check "mv's stream goes on, no reset" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 40)) ] && [ ! -e "$tmp/stream.err" ]'
flows "$FSD_B" > "$tmp/flows-b2"
check "the stream is still mv's migrated flow" \
    grep -qE "10\.0\.0\.1:$sport .*:8080 .*verdict allow.*migrated" \
    "$tmp/flows-b2"
finish
