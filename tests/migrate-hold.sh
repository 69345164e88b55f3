#!/bin/bash
# The destination holds the VM's packets until the last records are in,
# on the two hosts of tests/migrate-lib.sh.  A UDP flow of VM "mv" is
# still in classification (its payload names no protocol) when the VM
# moves to b, and b's copy of its record is stale: a's flowsteerd is
# stopped (SIGSTOP) while the VM sends three more datagrams on a and
# moves, so no delta carries them.  The VM's first packets at b are the
# flow's next datagrams; b asks for the switch-over, which waits until a
# is woken.  Asserted: b's appliance holds them, unjudged, and judges
# them, in order, after the last records: every datagram reaches srv, in
# order, and b's record of the flow counts every packet the VM sent, on a
# and on b.  Without the hold, b judges them with the stale record, and
# the last record then takes its place: the count falls short.
# The flow's verdict hangs on what nDPI makes of it: it stays in
# classification.
MIGRATE_POLICY="priority=250, udp, tp_dst=9999, app=DNS, actions=drop"
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

N=5     # datagrams on a, then 3 just before the move, then N at b
bg_start sink vm_exec srv "$py" "$traffic" udpsink 10.0.0.100 9999 \
    "$tmp/sink"
sleep 0.5
bg_start udp vm_exec mv "$py" "$traffic" udpseq 10.0.0.100 9999 46000 $N \
    "$tmp/udp"
seqs() { cat "$tmp/sink" 2>/dev/null || :; }
check "the first datagrams reach srv through a" \
    wait_until 10 eval '[ "$(seqs)" = "1 2 3 4 5" ]'
check "a has the datagrams' flow in classification" wait_until 10 eval \
    'flows "$FSD_A" | grep -qE ":9999 .*\[classifying\] \[inspector $N pkts"'

check "flowsteer/migrate starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" "ssl:$(host_ip b):6650"
check "host b is copying the VM's flows" wait_until 10 copying
check "host b has the flows' rules before the VM moves" \
    wait_until 10 vm_rules_b
check "b holds the packets of the VM's port" wait_until 10 eval \
    'ovs-appctl -t "$FSD_B" flowsteer/show |
         grep -q "held for a migration.s last records: 1 ports, 0 packets"'

# a's flowsteerd stops: no more deltas.  Three more datagrams on a, then
# the VM moves, announcing nothing (its port stays in a's switch), and
# sends N more at b.
on a
pid_a=$(fsd_pid)
kill -STOP "$pid_a"
touch "$tmp/udp.go"
wait_until 5 eval '[ "$(cat "$tmp/udp")" = $((N + 3)) ]' &&
    wait_until 5 eval '[ "$(seqs)" = "$(seq -s " " 1 $((N + 3)))" ]' ||
    { kill -CONT "$pid_a"; fail "the datagrams before the move did not go"; }
vm_migrate mv b 0
touch "$tmp/udp.go2"
held_now() {
    local n
    n=$(ovs-appctl -t "$FSD_B" flowsteer/show |
        sed -n 's/.*held for a migration.s last records: 1 ports, \([0-9]*\) packets now.*/\1/p')
    [ "${n:-0}" -ge $N ]
}
check "b holds the datagrams, unjudged, while a sleeps" wait_until 10 held_now
check "none reached srv yet" \
    eval '[ "$(seqs)" = "$(seq -s " " 1 $((N + 3)))" ]'
kill -CONT "$pid_a"
done_both() {
    mig "$FSD_A" > "$tmp/mig-a" && mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: source, to .* done" "$tmp/mig-a" &&
        grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"
}
check "both hosts are done" wait_until 10 done_both
check "b asked for the switch-over at the VM's first packet" \
    grep -q "$IFACE_ID from .*: the VM's first packet here: switching over" \
    "$tmp/fsd-b/flowsteerd.log"
check "every datagram reached srv, in order" \
    wait_until 10 eval '[ "$(seqs)" = "$(seq -s " " 1 $((2 * N + 3)))" ]'
flows "$FSD_B" > "$tmp/flows-b"
check "b's record of the flow counts every packet, a's and b's" \
    grep -qE ":9999 .*\[classifying\] \[inspector $((2 * N + 3)) pkts.*migrated" \
    "$tmp/flows-b"
# held_b: b's appliance's figures of the migration hold (its figures come
# every second or so): "HELD JUDGED FULL TIMEOUTS".
held_b() {
    ovs-appctl -t "$FSD_B" flowsteer/show > "$tmp/show-b" &&
        sed -n 's/.*held for a migration.s last records: .* packets now .*), \([0-9]*\) held, \([0-9]*\) judged, \([0-9]*\) dropped at the cap, \([0-9]*\) holds timed out/\1 \2 \3 \4/p' "$tmp/show-b"
}
held_all() {
    set -- $(held_b)
    [ "${1:-0}" -ge $N ] && [ "$1" = "$2" ]
}
check "b's appliance held the datagrams and judged all it held" \
    wait_until 10 held_all
held=$(held_b)
echo "  b's hold: $held (held, judged, dropped at the cap, timed out)"
check "none dropped at the cap or timed out" \
    eval 'set -- $held; [ "$3" = 0 ] && [ "$4" = 0 ]'
check "b holds nothing any more" \
    grep -q "held for a migration.s last records: 0 ports, 0 packets now" \
    "$tmp/show-b"
n=$(lines)
check "the stream goes on" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 20)) ]'
check "the stream had no reset" eval '[ ! -e "$tmp/stream.err" ]'
check_still_dropped
bg_stop udp
bg_stop sink
bg_stop retry
bg_stop stream
bg_stop later
# What a's stop makes it say.
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}' \
    'fs_watchdog\|WARN\|the main loop stalled for [0-9]+ ms' \
    'timeval\|WARN\|(Unreasonably long [0-9]+ms poll interval|faults: |context switches: )'
finish
