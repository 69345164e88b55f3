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
#   - the schema upgraded online (flowsteer-cluster upgrade): data kept,
#     the hosts follow on;
#   - RBAC: a chassis's credentials cannot change the policy, nor another
#     chassis's row, but can change its own;
#   - a migration of mv from a to "chassis:hostb", whose endpoint a finds
#     in b's Chassis row, recorded in a Migration row (copying, then done,
#     with its flows and times); one to a chassis the database does not
#     have fails, and its row says why.
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

# The admin's flowsteer-ctl, on the members' unix sockets (it finds the
# leader among them).
CTL=$top_builddir/ovs-ext/flowsteer-ctl
admin_db=unix:$tmp/c1/db.sock,unix:$tmp/c2/db.sock,unix:$tmp/c3/db.sock
fctl() { "$CTL" --timeout=10 --db="$admin_db" "$@"; }
# set_policy MARK [RULE]: the fleet policy's rules: RULE, then the file's,
# then a comment "# update MARK".
set_policy() {
    { [ -z "${2:-}" ] || echo "$2"; cat "$tmp/policy.conf"; echo "# update $1"; } |
        fctl policy-set fleet -
}
check "flowsteer-ctl writes the policy and puts it in force" \
    fctl policy-add fleet "$tmp/policy.conf" -- policy-use fleet
check "the policy, version 1, is in the database" \
    eval '[ "$(fctl get Policy fleet version)" = 1 ]'

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
    fctl chassis-list > "$tmp/chassis"
    grep -qE "^host$1 +[^ ]+ +[^ ]* +db:fleet +$2 " "$tmp/chassis"
}
check "a's Chassis row says so" wait_until 20 chassis_says a 1
check "b's too" wait_until 20 chassis_says b 1
check "b's row gives its migration endpoint" \
    grep -qE "^hostb +[^ ]+ +ssl:$(host_ip b):6650 " "$tmp/chassis"
check "and its summary counters: w's flow, and its verdict rules" eval \
    '[ "$(fctl get Chassis hostb counters:flows)" -ge 1 ] &&
     [ "$(fctl get Chassis hostb counters:verdict_rules)" -ge 1 ]'

# A rule in the database cuts the live streams on both hosts.
n=$(lines) nw=$(wlines)
check "the streams flow, on a and b" \
    wait_until 10 eval '[ "$(lines)" -gt $((n + 10)) ] && [ "$(wlines)" -gt $((nw + 10)) ]'
check "flowsteer-ctl adds a rule that drops tcp:8080 (version 2)" \
    fctl policy-rule-add fleet "priority=500, tcp, tp_dst=8080, actions=drop"
check "a has version 2 in force" wait_until 15 in_force "$FSD_A" 2
check "b too" wait_until 15 in_force "$FSD_B" 2
check "mv's stream, on a, is cut" wait_until 15 eval '[ -e "$tmp/stream.err" ]'
check "w's stream, on b, is cut" wait_until 15 eval '[ -e "$tmp/wstream.err" ]'

# The leader killed in the middle of a run of updates (each through
# flowsteer-ctl, which waits for the new leader).
leader() {
    for m in 1 2 3; do
        status "$m" 2>/dev/null | grep -q "^Role: leader" && { echo "$m"; return; }
    done
}
L=$(leader)
check "there is a leader (member $L)" [ -n "$L" ]
# sessions_of HOST HOST-CTL: the member ports the host's flowsteerd has
# TCP connections to.  to_leader HOST HOST-CTL: it has two sessions, one
# to the leader (its own rows are written through a leader-only one,
# fs-fleet.h).
sessions_of() {
    on "$1" ovs_exec ss -tnpH state established "dst $ip_a" |
        awk -v p="pid=$(cat "$(dirname "$2")/flowsteerd.pid")," \
            'index($0, p) { n = split($4, a, ":"); print a[n] }' | sort
}
to_leader() {
    local l s
    l=$(leader)
    s=$(sessions_of "$1" "$2")
    [ -n "$l" ] && [ "$(echo "$s" | grep -c .)" = 2 ] &&
        echo "$s" | grep -qx "$(port_of "$l")"
}
check "a has two sessions with the database, one to the leader" \
    wait_until 10 to_leader a "$FSD_A"
check "b too" wait_until 10 to_leader b "$FSD_B"
F=$(( L % 3 + 1 ))                      # A follower, for the writes.
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
echo "  updates acknowledged: up to update $acked (member $L killed before 7)"
check "the last updates were acknowledged, after the kill" [ "$acked" = 12 ]
check "a new leader" wait_until 15 eval '[ -n "$(leader)" ] && [ "$(leader)" != "$L" ]'
check "a's own rows' session moved to the new leader" \
    wait_until 20 to_leader a "$FSD_A"
check "b's too" wait_until 20 to_leader b "$FSD_B"
# Each update adds one to the version (flowsteer-ctl); one that timed out
# may still have committed, so the content tells which update is last.
check "the database has the last acknowledged update" \
    eval 'fctl policy-get fleet | tail -n 1 | grep -qx "# update $acked"'
got=$(fctl get Policy fleet version)
echo "  the policy's version after the updates: $got"
check "a ends on it" wait_until 20 in_force "$FSD_A" "$got"
check "b too" wait_until 20 in_force "$FSD_B" "$got"
sleep 1
w1=$(writes "$FSD_A") t1=$(date +%s)
echo "  a's Chassis row writes: $w0 before the updates, $w1 $((t1 - t0)) s later"
check "a wrote its row at most once per 5 s through the updates" \
    eval '[ -n "$w0" ] && [ -n "$w1" ] &&
          [ $((w1 - w0)) -le $(( (t1 - t0) / 5 + 1 )) ]'
check "and its row says the last version, once the 5 s are over" \
    wait_until 20 chassis_says a "$got"
check "the dropped connection stayed dropped" \
    eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'
check "the killed member's log checks out with the others (check-cluster)" \
    ovsdb-tool check-cluster "$tmp/c1/flowsteer.db" "$tmp/c2/flowsteer.db" \
    "$tmp/c3/flowsteer.db"
fc start "$tmp/c$L" || fail "member $L did not start again"
check "member $L rejoins" wait_until 15 eval \
    'status "$L" | grep -q "^Status: cluster member" && members_in'
# It serves the chassis on another port (the Connection row is pssl:0):
# the hosts are given the members' remotes again, or a later leader could
# be one they cannot reach, and their own rows would wait for it.
check "member $L serves the chassis' remote again" wait_until 10 ports_bound
remote="ssl:$ip_a:$(port_of 1),ssl:$ip_a:$(port_of 2),ssl:$ip_a:$(port_of 3)"
for h in a b; do
    on "$h" vsctl set Open_vSwitch . external_ids:flowsteer-remote="$remote"
done
check "a follows the new remotes" wait_until 20 in_force "$FSD_A" "$got"
check "b too" wait_until 20 in_force "$FSD_B" "$got"

# The schema upgraded online (a new package's schema: here the same with a
# new version and a new column): the data stays, the hosts follow on.
"$py" - "$schema" "$tmp/next.ovsschema" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["version"] = "1.1.0"
s["tables"]["Chassis"]["columns"]["description"] = {"type": "string"}
json.dump(s, open(sys.argv[2], "w"), indent=1)
PYEOF
check "flowsteer-cluster upgrade converts the clustered database online" \
    eval 'fc --schema="$tmp/next.ovsschema" upgrade "$tmp/c1" | grep -q "converted from 1.0.0 to 1.1.0"'
check "every member has the new schema" eval \
    'for m in 1 2 3; do
         [ "$(ovsdb-client get-schema-version "unix:$tmp/c$m/db.sock" Flowsteer)" = 1.1.0 ] || exit 1
     done'
check "and the data: the policy's version and rules" \
    eval '[ "$(fctl get Policy fleet version)" = "$got" ] &&
          fctl policy-get fleet | tail -n 1 | grep -qx "# update $acked"'
check "a second upgrade does nothing" \
    eval 'fc --schema="$tmp/next.ovsschema" upgrade "$tmp/c1" | grep -q "at 1.1.0 already"'
check "both hosts follow on, the policy in force" \
    eval 'wait_until 20 in_force "$FSD_A" "$got" && wait_until 20 in_force "$FSD_B" "$got"'
check "their rows are in the new schema" wait_until 20 chassis_says b "$got"

# RBAC, with a's certificate, from a, through flowsteer-ctl.
as_a() {
    on a ovs_exec "$CTL" --timeout=10 --private-key="$tmp/hosta-privkey.pem" \
        --certificate="$tmp/hosta-cert.pem" --ca-cert="$ca" \
        --db="$remote" "$@" 2>&1
}
check "a's credentials cannot change the policy" eval \
    'as_a policy-rule-add fleet "priority=1000, actions=allow" |
         grep -q "permission error"'
check "nor b's Chassis row" eval \
    'as_a set Chassis hostb version=0 | grep -q "permission error"'
check "but can change its own" eval \
    'as_a set Chassis hosta external_ids:k=v && [ -z "$(as_a set Chassis hosta external_ids:k=w)" ] &&
     [ "$(fctl get Chassis hosta external_ids:k)" = w ]'
check "the policy is the admin's still" in_force "$FSD_B" "$got"
check "and its version" eval '[ "$(fctl get Policy fleet version)" = "$got" ]'

# A profile's policy: rules for the VMs of that profile only.  w (on b)
# becomes a "web" VM; the web profile's policy allows tcp:8080 above the
# global drop; mv (on a, no profile) stays dropped.
connects() {
    vm_exec "$1" "$py" -c 'import socket
socket.create_connection(("10.0.0.100", 8080), timeout=2).close()' 2> /dev/null
}
check "w cannot connect to srv:8080 (the global drop)" eval '! connects w'
on b vsctl set Interface "$(vm_port w)" external_ids:flowsteer-profile=web
printf 'priority=600, tcp, tp_dst=8080, actions=allow\n# a comment\n' \
    > "$tmp/web.conf"
check "flowsteer-ctl: a profile with a policy of its own" \
    fctl policy-add webpol "$tmp/web.conf" -- profile-add web webpol
profile_in() {
    ovs-appctl -t "$1" flowsteer/show |
        grep -q "version $got (in force), with $2 profiles' policies"
}
check "a has the profile's policy in force" wait_until 15 profile_in "$FSD_A" 1
check "b too" wait_until 15 profile_in "$FSD_B" 1
check "w, a web VM, now connects to srv:8080" wait_until 15 connects w
check "mv, no web VM, still cannot" eval '! connects mv'
check "the profile's policy changed: it drops again" \
    fctl policy-set webpol /dev/null
check "b has it in force" wait_until 15 profile_in "$FSD_B" 1
check "and w cannot connect" wait_until 15 eval '! connects w'
check "a Profile row whose name is no profile name, written around flowsteer-ctl" \
    fctl -- --id=@p get Policy webpol _uuid -- create Profile name='"bad name"' policy=@p
check "is left out: the policy stays in force on b, with the one good profile" \
    wait_until 15 profile_in "$FSD_B" 1
check "and said why" wait_until 10 eval \
    'grep -q "profile \\\"bad name\\\": not a profile name" "$(on b eval echo \$FSD_DIR)/flowsteerd.log"'
check "flowsteer-ctl destroys it by its name" fctl destroy Profile "bad name"
check "the profile without a policy" fctl profile-set-policy web
check "b: no profile's policy" wait_until 15 profile_in "$FSD_B" 0

# A migration found through the Chassis table: a pushes mv to
# "chassis:NAME", and finds the endpoint in that chassis's row.
check "a migration to a chassis the database does not have fails" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" chassis:hostz
mig_row() {
    fctl migration-list > "$tmp/migrations"
    grep -qE "^$IFACE_ID +$1 +$2 +$3 " "$tmp/migrations"
}
check "after the timeout, its Migration row says failed" \
    wait_until 20 mig_row hosta hostz failed
check "and why" grep -q "chassis hostz: no such chassis" "$tmp/migrations"
check "flowsteer/migrate to chassis:hostb starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" chassis:hostb
check "host b is copying the VM's flows" wait_until 10 copying
check "a's Migration row says copying, from hosta to hostb" \
    wait_until 10 mig_row hosta hostb copying
check "a read the rows of the two chassis it looked for, not the fleet's" eval \
    'ovs-appctl -t "$FSD_A" flowsteer/show | grep -q "migration row writes, 2 peers read"'
on a vsctl del-port br-int "$(vm_port_on mv a)"
done_on() {
    mig "$1" > "$tmp/mig-$2" &&
        grep -q "$IFACE_ID: $3 .* done" "$tmp/mig-$2"
}
check "host a: the migration is done" wait_until 10 done_on "$FSD_A" a "source, to chassis:hostb"
check "host b: too" wait_until 10 done_on "$FSD_B" b "destination, from"
vm_migrate mv b
check "the Migration row says done, with the flows moved and when it ended" \
    wait_until 10 eval 'mig_row hosta hostb done &&
        grep -E "^$IFACE_ID +hosta +hostb +done " "$tmp/migrations" |
        grep -qE "Z +20[0-9-]+T[0-9:.]+Z +[1-9][0-9]* *$"'
# No leader for a while: two members frozen (SIGSTOP; killed, they would
# come back on other ports, the Connection row being pssl:0).  Each host's
# writing session (leader-only), once it finds no leader, stops hunting
# the members for one after 3 s and waits (fs-fleet.c,
# fleet_pace_writes()); once the members go on, it is up again, at the
# leader, and the rows are written.
pauses() {
    ovs-appctl -t "$1" flowsteer/show |
        sed -n 's/.*through the leader or a relay ([a-z ]*, paused \([0-9]*\) times).*/\1/p'
}
pa0=$(pauses "$FSD_A") pb0=$(pauses "$FSD_B")
K1=$(leader)
K2=$(( ${K1:-1} % 3 + 1 ))
for m in $K1 $K2; do kill -STOP "$(cat "$tmp/c$m/ovsdb-server.pid")"; done
check "with no leader, a's writing session pauses" \
    wait_until 40 eval '[ "$(pauses "$FSD_A")" -gt "$pa0" ]'
check "b's too" wait_until 10 eval '[ "$(pauses "$FSD_B")" -gt "$pb0" ]'
for m in $K1 $K2; do kill -CONT "$(cat "$tmp/c$m/ovsdb-server.pid")"; done
check "the dropped connection stayed dropped while there was no leader" \
    eval '[ "$(cut -d" " -f2 "$tmp/retry")" = 0 ]'
check "the members go on" wait_until 30 members_in
check "a's writing session is up again, at the leader" \
    wait_until 30 to_leader a "$FSD_A"
check "b's too" wait_until 30 to_leader b "$FSD_B"
check "a policy update after it" \
    set_policy after-pause "priority=500, tcp, tp_dst=8080, actions=drop"
got=$(fctl get Policy fleet version)
check "reaches a's row" wait_until 30 chassis_says a "$got"
check "and b's" wait_until 30 chassis_says b "$got"

# Backpressure: a leader that commits slowly (both followers frozen for
# 2.5 s, under the election timer, raised to 4 s, so it stays leader)
# stretches the interval a chassis writes at; quick commits bring it back
# (fs-fleet.c, fleet_commit_done()).
every() {
    ovs-appctl -t "$1" flowsteer/show |
        sed -n 's/.*through the leader or a relay (.*), every \([0-9]*\) ms (\([0-9]*\) slow commits).*/\1 \2/p'
}
L=$(leader)
check "the election timer raised to 4 s" fc election-timer "$tmp/c$L" 4000
check "a report interval of 1 s" \
    fctl set Flowsteer_Global . options:chassis_report_interval=1000
check "a writes every 1 s" wait_until 15 eval '[ "$(every "$FSD_A")" = "1000 0" ]'
# Its row deleted, a chassis writes it again within the interval: here
# while the followers are frozen, so that the commit waits for them.
ovs-appctl -t "$FSD_A" vlog/set fs_fleet:file:dbg
# a's next write may wait for the old interval (5 s) to have passed.
sleep 5
check "a's row deleted by the admin" fctl chassis-del hosta
for m in 1 2 3; do
    [ "$m" = "$L" ] || kill -STOP "$(cat "$tmp/c$m/ovsdb-server.pid")"
done
sleep 2.5
for m in 1 2 3; do
    [ "$m" = "$L" ] || kill -CONT "$(cat "$tmp/c$m/ovsdb-server.pid")"
done
check "a wrote its row again, once the followers went on" \
    wait_until 10 chassis_says a "$got"
check "that commit was slow: a writes every 2 s" \
    eval '[ "$(every "$FSD_A")" = "2000 1" ]'
check "and says so in its log" grep -q \
    "chassis hosta: a write took [0-9]* ms to commit; writing every 2000 ms" \
    "$(on a eval echo \$FSD_DIR)/flowsteerd.log"
check "the leader stayed leader" eval '[ "$(leader)" = "$L" ]'
check "a's row deleted again" fctl chassis-del hosta
check "a quick commit brings a back to every 1 s" \
    wait_until 15 eval '[ "$(every "$FSD_A")" = "1000 1" ]'
check "and its row is back" wait_until 10 chassis_says a "$got"
check "b's commits were never slow" eval '[ "$(every "$FSD_B" | cut -d" " -f2)" = 0 ]'

# A hostile VM's flood of new flows (w, on b: 3,000 UDP flows in about
# 4 s, slow enough for the userspace datapath to hand each up) does not
# make its host write its row more often: the row says what is in force,
# not the traffic, whose counters go with the next write due anyway.
row_writes() {
    ovs-appctl -t "$1" flowsteer/show |
        sed -n 's/.*, \([0-9]*\) chassis row writes, .*/\1/p'
}
created() {
    ovs-appctl -t "$FSD_B" flowsteer/show | tr ' ' '\n' |
        sed -n 's/^flows_created=//p'
}
wb0=$(row_writes "$FSD_B") c0=$(created)
on b vm_exec w "$py" -c "
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3000):
    try:
        s.sendto(b'x', ('10.0.0.100', 20000 + i))
    except OSError:
        pass
    time.sleep(0.001)"
check "the flood made new flows on b" \
    wait_until 10 eval '[ "$(created)" -ge $((c0 + 1000)) ]'
sleep 3
check "b wrote its row at most once meanwhile (a heartbeat), not per flow" \
    eval '[ "$(row_writes "$FSD_B")" -le $((wb0 + 1)) ]'

# Following the database, flowsteerd has no policy file to look at, and its
# timer must not wake it at once on every turn (it used to: a core spun).
for h in a b; do
    check "$h's flowsteerd does not spin on the policy file's timer" eval \
        '! grep -q "0-ms timeout at .*fs-policy.c" "$(on $h eval echo \$FSD_DIR)/flowsteerd.log"'
done
# ovs-vswitchd restarted on b, which follows the database: its OpenFlow
# flows are gone, flowsteerd installs steering and every verdict again,
# and the database's policy stays in force (there is no file to fall back
# on).
got=$(fctl get Policy fleet version)
on b ovs_restart_vswitchd
check "b's steering is back after ovs-vswitchd's restart" wait_until 20 eval \
    'ovs-appctl -t "$FSD_B" flowsteer/show | grep -q "steering on br-int: [0-9]* rules, installed"'
check "mv's dropped flow has its drop rule on b again" wait_until 20 eval \
    'rules_on b "$PORT_B" | grep "tp_dst=2222" | grep -q "actions=drop"'
check "b still has the database's policy in force" in_force "$FSD_B" "$got"
# Behind an ovsdb-server relay (flowsteer-remote-relay=true): b reads the
# policy and writes its row through it; a leader-only session would never
# take a relay.  The members get a Connection without a role on their
# loopback, for the relay; the relay serves the Connection rows too, so
# the chassis' port on it has the flowsteer-chassis role and RBAC is
# checked there (as OVN's relays do for ovn-controller).
check "a remote for relays, without a role, on the members' loopback" \
    fctl -- --id=@c create Connection target='"pssl:0:127.0.0.1"' \
        -- add Flowsteer_Global . connections @c
relay_ports() {
    on a ovs_exec ss -ltnpH "src 127.0.0.1" |
        awk -v p="pid=$(cat "$tmp/c$1/ovsdb-server.pid")," \
            'index($0, p) { n = split($4, a, ":"); print a[n] }' | head -n 1
}
check "each member serves it" wait_until 10 eval \
    '[ -n "$(relay_ports 1)" ] && [ -n "$(relay_ports 2)" ] && [ -n "$(relay_ports 3)" ]'
upstream="ssl:127.0.0.1:$(relay_ports 1),ssl:127.0.0.1:$(relay_ports 2),ssl:127.0.0.1:$(relay_ports 3)"
mkdir -p "$tmp/relay"
check "a relay starts, on a" on a ovs_exec ovsdb-server --detach --no-chdir \
    --pidfile="$tmp/relay/ovsdb-server.pid" --unixctl="$tmp/relay/ovsdb-server.ctl" \
    --log-file="$tmp/relay/ovsdb-server.log" -vconsole:off \
    --remote=db:Flowsteer,Flowsteer_Global,connections \
    --private-key="$tmp/fsdb-privkey.pem" --certificate="$tmp/fsdb-cert.pem" \
    --ca-cert="$ca" "relay:Flowsteer:$upstream"
rport() {
    on a ovs_exec ss -ltnpH "src $ip_a" |
        awk -v p="pid=$(cat "$tmp/relay/ovsdb-server.pid")," \
            'index($0, p) { n = split($4, a, ":"); print a[n] }' | head -n 1
}
check "the relay serves the chassis' remote" wait_until 10 eval '[ -n "$(rport)" ]'
rremote=ssl:$ip_a:$(rport)
wb0=$(row_writes "$FSD_B")
on b vsctl set Open_vSwitch . external_ids:flowsteer-remote="$rremote" \
    external_ids:flowsteer-remote-relay=true
check "b follows the database through the relay" \
    wait_until 15 in_force "$FSD_B" "$(fctl get Policy fleet version)"
check "b's writing session is up at the relay" wait_until 15 eval \
    'ovs-appctl -t "$FSD_B" flowsteer/show | grep -q "through the leader or a relay (connected,"'
check "a policy update" \
    set_policy relay "priority=500, tcp, tp_dst=8080, actions=drop"
got=$(fctl get Policy fleet version)
check "reaches b through the relay" wait_until 15 in_force "$FSD_B" "$got"
check "and b's row, written through it" wait_until 30 chassis_says b "$got"
check "b's sessions are both with the relay" eval \
    '[ "$(sessions_of b "$FSD_B" | grep -cx "$(rport)")" = 2 ]'
# RBAC at the relay, with a's certificate.
relay_as_a() {
    on a ovs_exec ovsdb-client --timeout=10 --private-key="$tmp/hosta-privkey.pem" \
        --certificate="$tmp/hosta-cert.pem" --ca-cert="$ca" \
        transact "$rremote" "[\"Flowsteer\", $1]" 2>&1
}
check "through the relay, a's credentials cannot change the policy" eval \
    'relay_as_a "{\"op\": \"update\", \"table\": \"Policy\", \"where\": [],
                  \"row\": {\"rules\": \"priority=0, actions=allow\"}}" |
         grep -q "permission error"'
check "but can change its own row" eval \
    'relay_as_a "{\"op\": \"update\", \"table\": \"Chassis\",
                  \"where\": [[\"name\", \"==\", \"hosta\"]],
                  \"row\": {\"external_ids\": [\"map\", [[\"k\", \"relayed\"]]]}}" |
         grep -q "\"count\":1" &&
     [ "$(fctl get Chassis hosta external_ids:k)" = relayed ]'
check "the policy is the admin's still" in_force "$FSD_B" "$got"
# Without the key, b's writing session (leader-only) never takes the
# relay: it pauses, and its row falls behind.
pb0=$(pauses "$FSD_B")
on b vsctl set Open_vSwitch . external_ids:flowsteer-remote-relay=false
check "without flowsteer-remote-relay, b's writing session pauses at the relay" \
    wait_until 30 eval '[ "$(pauses "$FSD_B")" -gt "$pb0" ]'
check "and the relay said why" grep -q "relay database server cannot be a leader" \
    "$(on b eval echo \$FSD_DIR)/flowsteerd.log"
on b vsctl set Open_vSwitch . external_ids:flowsteer-remote-relay=true
check "with it again, b's row is written" wait_until 30 eval \
    'ovs-appctl -t "$FSD_B" flowsteer/show | grep -q "through the leader or a relay (connected,"'

check "b holds mv's dropped flows, migrated" eval \
    'flows "$FSD_B" | grep -qE ":2222 .*verdict drop.*migrated"'
check_still_dropped

kill "$(cat "$tmp/relay/ovsdb-server.pid")" 2>/dev/null || :
bg_stop wstream
bg_stop retry
bg_stop stream
bg_stop later
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}' \
    'reconnect\|WARN\|ssl:.*: connection (dropped|attempt failed)' \
    'reconnect\|ERR\|ssl:.*: no response to inactivity probe after 5 seconds, disconnecting' \
    'stream_ssl\|WARN\|SSL_read: ' \
    'ovsdb_cs\|INFO\|' \
    'jsonrpc\|WARN\|ssl:.*: receive error' \
    'fs_migrate\|WARN\|migration of [^ ]* to chassis:hostz: failed: chassis hostz: no such chassis' \
    'fs_fleet\|WARN\|profile "bad name": not a profile name'
finish
