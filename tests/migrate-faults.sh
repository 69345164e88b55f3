#!/bin/bash
# Migrations that go wrong, on the two hosts of tests/migrate-lib.sh.
# Whatever the peer does, nothing wrong is installed, the VM's traffic
# keeps its verdicts where it runs, and flowsteer/migrations and the
# counters say what happened:
#   - a peer whose certificate another CA signed: refused at the
#     handshake, counted;
#   - peers with a good certificate that send junk, offer a VM that has
#     no port here, send a bad record, a record of another port, half a
#     message: refused, nothing imported, counted;
#   - the source's flowsteerd killed mid-copy: the destination forgets
#     what it imported (rules too); the source, restarted, still has
#     everything and the VM's connections keep their verdicts;
#   - a migration cancelled on the source: the same;
#   - the destination's flowsteerd killed mid-copy: the source keeps
#     everything, and the destination, restarted, forgets what it had
#     imported (saved in its flow state, rules left in its switch);
#   - the destination's flowsteerd hung (SIGSTOP) at the switch-over: the
#     source gives up after 10 s and keeps everything, the destination,
#     woken, forgets what it had;
#   - the destination's ovs-vswitchd restarted mid-copy: the migrated
#     rules are installed again and the migration completes.
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

peer=$top_srcdir/tests/migrate-peer.py
B_IP=$(host_ip b)

# Another CA, and a certificate it signed.
ovs-pki -d "$tmp/evil" -l "$tmp/pki.log" init > /dev/null 2>&1 &&
    (cd "$tmp" && ovs-pki -d "$tmp/evil" -l "$tmp/pki.log" -b -u \
         req+sign evil switch > /dev/null 2>&1) ||
    fail "cannot make the other CA"

# peer_says MODE ARGS...: what migrate-peer.py MODE prints, run from host
# a with a's certificate.
peer_as() {
    local who=$1 ca=$2
    shift 2
    on a ovs_exec "$py" "$peer" "$1" "$B_IP" 6650 "$tmp/$who-cert.pem" \
        "$tmp/$who-privkey.pem" "$ca" "${@:2}"
}
peer_says() { peer_as hosta "$tmp/pki/switchca/cacert.pem" "$@"; }
counter() {
    mig "$FSD_B" | sed -n "s/.*$1 \([0-9]*\).*/\1/p" | head -n 1
}
imported_b() { mig "$FSD_B" | grep -c "destination, from .* done"; }

# 1. Another CA.
out=$(peer_as evil "$tmp/evil/switchca/cacert.pem" hello "$IFACE_ID")
check "a peer with another CA's certificate is refused ($out)" \
    [ "$out" = closed ]
check "and counted" \
    wait_until 5 eval '[ "$(counter "refused before any message (TLS)")" -ge 1 ]'

# 2. Good certificate, bad peer.
out=$(peer_says junk)
check "junk: the connection is closed ($out)" [ "$out" = closed ]
out=$(peer_says offer no-such-vm)
check "an offer of a VM with no port here is refused ($out)" \
    [ "$out" = "REFUSE no port for that VM here" ]
out=$(peer_says bad-record "$IFACE_ID" 9 | tr '\n' ' ')
check "a bad record: accepted, then cancelled ($out)" \
    [ "$out" = "ACCEPT CANCEL a record was refused " ]
out=$(peer_says other-port "$IFACE_ID" 9 | tr '\n' ' ')
check "a record of another port than the VM's: cancelled ($out)" \
    [ "$out" = "ACCEPT CANCEL a record was refused " ]
out=$(peer_says cut "$IFACE_ID" 9 | tr '\n' ' ')
check "half a message: accepted ($out)" [ "$out" = "ACCEPT " ]
check "the destination saw it fail" wait_until 5 eval \
    'mig "$FSD_B" | grep -qE "error: (the peer closed the connection|Protocol error)"'
check "bad messages are counted" \
    eval '[ "$(counter "bad messages")" -ge 3 ]'
check "nothing of them was installed on b" \
    eval '[ -z "$(rules_on b "$PORT_B")" ]'
check "nothing of them is in b's flows" \
    eval '! flows "$FSD_B" | grep -q migrated'

# 3. The source killed mid-copy.
has_rules_b() { [ -n "$(rules_on b "$PORT_B")" ]; }
migrate() {
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" "ssl:$B_IP:6650" \
        > /dev/null
}
check "a migration starts" migrate
check "b copies" wait_until 10 copying
check "b has the VM's rules" wait_until 10 has_rules_b
on a
pid_a=$(fsd_pid)
kill -9 "$pid_a"
check "b forgets the VM's rules when the source dies" \
    wait_until 15 eval '! has_rules_b'
check "b says the migration failed" \
    eval 'mig "$FSD_B" | grep -q "destination, from .* failed"'
check "nothing migrated stays in b's flows" \
    eval '! flows "$FSD_B" | grep -q migrated'
on a
fsd_start
FSD_A=$FSD_CTL
check "a's flowsteerd is back" wait_until 15 fsd_steering '[0-9]*'
check "a still has the VM's rules" eval '[ -n "$(rules_on a "$PORT_A")" ]'
n=$(lines)
check "the stream goes on, on a" \
    wait_until 10 eval '[ "$(lines)" -gt $((n + 20)) ]'
check "the dropped connection stays dropped" \
    eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'

# 4. Cancelled on the source.
check "another migration starts" migrate
check "b copies again" wait_until 10 copying
check "flowsteer/migrate-cancel" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate-cancel "$IFACE_ID"
check "b forgets the VM's rules when the source cancels" \
    wait_until 10 eval '! has_rules_b'
check "b says it was cancelled" \
    eval 'mig "$FSD_B" | grep -q "destination, from .* cancelled"'
check "a keeps the VM's rules" eval '[ -n "$(rules_on a "$PORT_A")" ]'

# 5. The destination killed mid-copy.
check "a third migration starts" migrate
check "b copies a third time" wait_until 10 copying
check "b has the VM's rules" wait_until 10 has_rules_b
on b
kill -9 "$(fsd_pid)"
check "a says the migration failed" wait_until 15 eval \
    'mig "$FSD_A" | grep -q "source, to .* failed"'
check "a keeps the VM's rules" eval '[ -n "$(rules_on a "$PORT_A")" ]'
check "a keeps the VM's flows" \
    eval 'flows "$FSD_A" | grep -q ":8080 .*verdict allow"'
n=$(lines)
check "the stream goes on" wait_until 10 eval '[ "$(lines)" -gt $((n + 20)) ]'
check "the stream had no reset" eval '[ ! -e "$tmp/stream.err" ]'

on b
fsd_start
FSD_B=$FSD_CTL
check "b's flowsteerd is back" wait_until 15 fsd_steering '[0-9]*'
# What it had imported was saved in its flow state, and its rules stayed
# in the switch: the restart must not take them as its own.
check "b, restarted, forgets what the unfinished migration imported" \
    wait_until 15 eval '! has_rules_b'
check "and says so" eval "grep -q 'port $PORT_B: a migration was coming in \
when flowsteerd stopped: forgot the [1-9][0-9]* flows' '$FSD_DIR/flowsteerd.log'"
check "nothing of it stays in b's flows" \
    eval '! flows "$FSD_B" | grep -q ":8080 "'

# 6. The destination hung (SIGSTOP) at the switch-over: the source hears
# no acknowledgement of its last changes, gives up after 10 s and keeps
# everything; the destination, woken, forgets what it had.
check "a fourth migration starts" migrate
check "b copies a fourth time" wait_until 10 copying
check "b has the VM's rules" wait_until 10 has_rules_b
on b
pid_b=$(fsd_pid)
kill -STOP "$pid_b"
check "a is asked to switch over" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate-switch "$IFACE_ID"
# last_state HOST-CTL: the state of the newest migration it shows.
last_state() {
    mig "$1" | sed -n "s/^  $IFACE_ID: .*, \([a-z]*\)\$/\1/p" | head -n 1
}
check "a gives up on the hung destination" \
    wait_until 20 eval '[ "$(last_state "$FSD_A")" = failed ]'
check "a says why" \
    eval 'mig "$FSD_A" | grep -q "error: the peer did not answer for 10000 ms"'
kill -CONT "$pid_b"
check "a keeps the VM's rules" eval '[ -n "$(rules_on a "$PORT_A")" ]'
check "a keeps the VM's flows" \
    eval 'flows "$FSD_A" | grep -q ":8080 .*verdict allow"'
check "b, woken, forgets the VM's rules" wait_until 15 eval '! has_rules_b'
check "b says the source gave up" \
    eval 'mig "$FSD_B" | grep -q "error: the peer cancelled: the source stopped waiting"'
n=$(lines)
check "the stream goes on, on a" \
    wait_until 10 eval '[ "$(lines)" -gt $((n + 20)) ]'

# 7. The destination's ovs-vswitchd restarted mid-copy: its flows are
# gone; flowsteerd installs the migrated rules again, and the migration
# completes.
check "a fifth migration starts" migrate
check "b copies a fifth time" wait_until 10 copying
check "b has the VM's rules" wait_until 10 has_rules_b
on b
ovs_restart_vswitchd
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
check "b installs the VM's rules again after its switch restarted" \
    wait_until 15 vm_rules_b
check "the migration is still copying" copying
on a vsctl del-port br-int "$(on a vm_port_on mv a)"
check "b: the migration is done" wait_until 15 eval \
    'mig "$FSD_B" | grep -q "$IFACE_ID: destination, from .* done"'
vm_migrate mv b
n=$(lines)
check "the stream goes on, on b" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 20)) ]'
check "the stream had no reset" eval '[ ! -e "$tmp/stream.err" ]'
check_still_dropped

bg_stop retry
bg_stop stream
# What the faults make the daemons say.
log_allow 'fs_migrate\|WARN\|migration (of|peer) ' \
    'fs_migrate\|WARN\|port [0-9]+: a migration was coming in when' \
    'timeval\|WARN\|(Unreasonably long [0-9]+ms poll interval|faults: |context switches: )' \
    'fs_watchdog\|WARN\|the main loop stalled for [0-9]+ ms' \
    'stream_ssl\|WARN\|SSL_(accept|read): ' \
    'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
