#!/bin/bash
# The fleet: two flowsteerd hosts follow one Flowsteer database, a
# 3-member Raft cluster of ovsdb-server (utilities/flowsteer-cluster) with
# TLS between its members and to its clients, and RBAC for the chassis.
# On the two hosts of tests/migrate-lib.sh (mv's stream to srv on a) and a
# VM w on b with its own stream to srv.  Asserted:
#   - both hosts take the database's policy and say so in their Chassis
#     rows (each row written with the host's own certificate);
#   - a rule added in the database cuts the live streams on both hosts;
#   - the leader killed (kill -9) in the middle of a run of policy
#     updates: every acknowledged update is there, both hosts end on the
#     last version, the dropped connection stays dropped throughout, and
#     the cluster checks out (ovsdb-tool check-cluster);
#   - the killed member, started again, rejoins;
#   - RBAC: a chassis's credentials cannot change the policy, nor another
#     chassis's row, but can change its own.
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate-lib.sh"

command -v ovsdb-tool > /dev/null || skip "no ovsdb-tool"
cluster=$top_srcdir/utilities/flowsteer-cluster
schema=$top_srcdir/ovs-ext/flowsteer.ovsschema
(cd "$tmp" && ovs-pki -d "$tmp/pki" -l "$tmp/pki.log" -b -u \
     req+sign fsdb switch > /dev/null 2>&1) || fail "ovs-pki req+sign fsdb failed"
ca=$tmp/pki/switchca/cacert.pem
fc() {
    on a ovs_exec "$cluster" --schema="$schema" \
        --private-key="$tmp/fsdb-privkey.pem" \
        --certificate="$tmp/fsdb-cert.pem" --ca-cert="$ca" "$@"
}

# w on b: its own stream to srv (on a, through the link).
on b
vm_add --ofport 20 w br-int 10.0.0.2/24
vsctl set Interface "$(vm_port w)" external_ids:flowsteer-inspect=true
bg_start wstream vm_exec w "$py" "$traffic" stream 10.0.0.100 8080 \
    "$tmp/wstream"
wlines() { cat "$tmp/wstream" 2>/dev/null || echo 0; }
check "w's stream flows, on b" wait_until 10 eval '[ "$(wlines)" -gt 20 ]'

# The cluster, on a's management address (members' Raft ports 6643-6645;
# the chassis' remote is the Connection row pssl:0, a port of its own for
# each member here, since they share one address).
ip_a=$(host_ip a)
fc create "$tmp/c1" "$ip_a:6643" || fail "create-cluster failed"
fc start "$tmp/c1" || fail "member 1 did not start"
for m in 2 3; do
    fc join "$tmp/c$m" "$ip_a:$((6642 + m))" "$ip_a:6643" ||
        fail "member $m did not join"
    fc start "$tmp/c$m" || fail "member $m did not start"
done
status() { ovs-appctl -t "$tmp/c$1/ovsdb-server.ctl" cluster/status Flowsteer; }
members_in() {
    for m in 1 2 3; do
        status "$m" | grep -q "^Status: cluster member" || return 1
    done
}
check "a 3-member cluster" wait_until 15 members_in
fc init "$tmp/c1" "pssl:0:$ip_a" || fail "init failed"
# port_of M: the client port member M bound.
port_of() {
    on a ovs_exec ss -ltnpH "src $ip_a" |
        awk -v p="pid=$(cat "$tmp/c$1/ovsdb-server.pid")," \
            'index($0, p) { n = split($4, a, ":"); print a[n] }' |
        grep -v '^664[345]$' | head -n 1
}
ports_bound() { [ -n "$(port_of 1)" ] && [ -n "$(port_of 2)" ] && [ -n "$(port_of 3)" ]; }
check "each member serves the chassis' remote" wait_until 10 ports_bound
remote="ssl:$ip_a:$(port_of 1),ssl:$ip_a:$(port_of 2),ssl:$ip_a:$(port_of 3)"
echo "  chassis remote: $remote"

# admin JSON...: a transaction through member 1's unix socket (any
# member's: a follower sends it on to the leader).
admin_db=unix:$tmp/c1/db.sock
admin() { ovsdb-client --timeout=10 transact "$admin_db" "[\"Flowsteer\", $1]"; }
# set_policy VERSION [RULE]: the global policy, RULE before the file's.
set_policy() {
    local rules
    rules=$( { [ -z "${2:-}" ] || echo "$2"; cat "$tmp/policy.conf"; } |
             "$py" -c 'import json, sys; print(json.dumps(sys.stdin.read()))')
    admin '{"op": "update", "table": "Policy",
            "where": [["name", "==", "fleet"]],
            "row": {"version": '"$1"', "rules": '"$rules"'}}' > /dev/null
}
admin '{"op": "insert", "table": "Policy", "uuid-name": "p",
        "row": {"name": "fleet", "version": 1, "rules": ""}},
       {"op": "update", "table": "Flowsteer_Global", "where": [],
        "row": {"policy": ["named-uuid", "p"]}}' > /dev/null ||
    fail "cannot write the policy"
check "the policy, version 1, is in the database" set_policy 1

for h in a b; do
    on "$h" vsctl set Open_vSwitch . external_ids:flowsteer-remote="$remote" \
        external_ids:flowsteer-chassis="host$h"
done
# in_force HOST-CTL VERSION: the host says it has that version in force.
in_force() {
    ovs-appctl -t "$1" flowsteer/show |
        grep -q "flowsteer database: .*(connected), chassis .*; policy db:fleet version $2 (in force)"
}
check "a follows the database: policy version 1 in force" \
    wait_until 15 in_force "$FSD_A" 1
check "b too" wait_until 15 in_force "$FSD_B" 1
chassis_says() {
    ovsdb-client --timeout=5 dump "$admin_db" Flowsteer Chassis \
        name policy_name policy_version migration_remote > "$tmp/chassis"
    grep -qE "host$1 +\"?db:fleet\"? +$2( |$)" "$tmp/chassis"
}
check "a's Chassis row says so" wait_until 20 chassis_says a 1
check "b's too" wait_until 20 chassis_says b 1
check "b's row gives its migration endpoint" \
    grep -qE "ssl:$(host_ip b):6650\"? +hostb " "$tmp/chassis"

# A rule in the database cuts the live streams on both hosts.
n=$(lines) nw=$(wlines)
check "the streams flow, on a and b" \
    wait_until 10 eval '[ "$(lines)" -gt $((n + 10)) ] && [ "$(wlines)" -gt $((nw + 10)) ]'
check "version 2 drops tcp:8080" \
    set_policy 2 "priority=500, tcp, tp_dst=8080, actions=drop"
check "a has version 2 in force" wait_until 15 in_force "$FSD_A" 2
check "b too" wait_until 15 in_force "$FSD_B" 2
check "mv's stream, on a, is cut" wait_until 15 eval '[ -e "$tmp/stream.err" ]'
check "w's stream, on b, is cut" wait_until 15 eval '[ -e "$tmp/wstream.err" ]'

# The leader killed in the middle of a run of updates.
leader() {
    for m in 1 2 3; do
        status "$m" 2>/dev/null | grep -q "^Role: leader" && { echo "$m"; return; }
    done
}
L=$(leader)
check "there is a leader (member $L)" [ -n "$L" ]
F=$(( L % 3 + 1 ))                      # A follower, for the writes.
admin_db=unix:$tmp/c$F/db.sock
acked=2
# writes HOST-CTL: the Chassis row writes the host has made.
writes() {
    ovs-appctl -t "$1" flowsteer/show |
        sed -n 's/.* \([0-9]*\) chassis row writes.*/\1/p'
}
w0=$(writes "$FSD_A") t0=$(date +%s)
for v in $(seq 3 12); do
    if [ "$v" = 7 ]; then
        kill -9 "$(cat "$tmp/c$L/ovsdb-server.pid")"
    fi
    # An update is acknowledged when ovsdb-client says it committed.
    if set_policy "$v" "priority=500, tcp, tp_dst=8080, actions=drop
# update $v"; then
        acked=$v
    fi
done
echo "  updates acknowledged: up to version $acked (member $L killed before 7)"
check "the last updates were acknowledged, after the kill" [ "$acked" = 12 ]
check "a new leader" wait_until 15 eval '[ -n "$(leader)" ] && [ "$(leader)" != "$L" ]'
got=$(ovsdb-client --timeout=5 dump "$admin_db" Flowsteer Policy version |
      awk '$1 ~ /^[0-9]+$/ { print $1 }')
check "the database has the last acknowledged version ($got)" [ "$got" = "$acked" ]
check "a ends on it" wait_until 20 in_force "$FSD_A" "$acked"
check "b too" wait_until 20 in_force "$FSD_B" "$acked"
sleep 1
w1=$(writes "$FSD_A") t1=$(date +%s)
echo "  a's Chassis row writes: $w0 before the updates, $w1 $((t1 - t0)) s later"
check "a wrote its row at most once per 5 s through the updates" \
    eval '[ -n "$w0" ] && [ -n "$w1" ] &&
          [ $((w1 - w0)) -le $(( (t1 - t0) / 5 + 1 )) ]'
check "and its row says the last version, once the 5 s are over" \
    wait_until 20 chassis_says a "$acked"
check "the dropped connection stayed dropped" \
    eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'
check "the killed member's log checks out with the others (check-cluster)" \
    ovsdb-tool check-cluster "$tmp/c1/flowsteer.db" "$tmp/c2/flowsteer.db" \
    "$tmp/c3/flowsteer.db"
fc start "$tmp/c$L" || fail "member $L did not start again"
check "member $L rejoins" wait_until 15 eval \
    'status "$L" | grep -q "^Status: cluster member" && members_in'

# RBAC, with a's certificate, from a.
as_a() {
    on a ovs_exec ovsdb-client --timeout=5 --private-key="$tmp/hosta-privkey.pem" \
        --certificate="$tmp/hosta-cert.pem" --ca-cert="$ca" \
        transact "ssl:$ip_a:$(port_of "$F")" "[\"Flowsteer\", $1]" 2>&1
}
check "a's credentials cannot change the policy" eval \
    'as_a "{\"op\": \"update\", \"table\": \"Policy\", \"where\": [],
            \"row\": {\"rules\": \"priority=0, actions=allow\"}}" |
         grep -q "permission error"'
check "nor b's Chassis row" eval \
    'as_a "{\"op\": \"update\", \"table\": \"Chassis\",
            \"where\": [[\"name\", \"==\", \"hostb\"]],
            \"row\": {\"version\": \"0\"}}" | grep -q "permission error"'
check "but can change its own" eval \
    'as_a "{\"op\": \"update\", \"table\": \"Chassis\",
            \"where\": [[\"name\", \"==\", \"hosta\"]],
            \"row\": {\"external_ids\": [\"map\", [[\"k\", \"v\"]]]}}" |
         grep -q "\"count\":1"'
check "the policy is the admin's still" in_force "$FSD_B" "$acked"

bg_stop wstream
bg_stop retry
bg_stop stream
bg_stop later
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}' \
    'reconnect\|WARN\|ssl:.*: connection (dropped|attempt failed)' \
    'stream_ssl\|WARN\|SSL_read: ' \
    'ovsdb_cs\|INFO\|' \
    'jsonrpc\|WARN\|ssl:.*: receive error'
finish
