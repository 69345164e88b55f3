#!/bin/bash
# bench-fleet: the Flowsteer database at fleet scale, on one machine.  A
# 3-member Raft cluster of ovsdb-server (utilities/flowsteer-cluster, TLS
# between members and to clients) and N simulated chassis
# (bench/fleet-sim: N copies of flowsteerd's own fleet module in one
# process, each with its own IDL, monitor condition and Chassis row, no
# switch; one TLS identity for all, so their remote has no RBAC role).
# Reference, in the same run: the same with 1 chassis.
#
# Measured:
#   - cold start: all N chassis have the policy in force (target 60 s);
#   - a policy change reaching every chassis: p50, p99, max over 10
#     changes (target p99 <= 2 s, max <= 5 s);
#   - a burst of 100 changes in 10 s: every chassis ends on the last;
#   - the leader killed (kill -9) under a write every 100 ms: no
#     acknowledged write lost (content, and ovsdb-tool check-cluster), and
#     how long until every chassis has the last (target: election timer
#     + 2 s);
#   - memory: each member's, and the simulation's per chassis; the
#     members' CPU time.
#
#   - the same through BENCH_FLEET_RELAYS ovsdb-server relays (default 3;
#     0: none): cold start, a change reaching every chassis, a relay
#     killed (kill -9) in the steady state (then started again), and
#     another killed with a policy change 0.5 s later: its chassis reconnected to the others
#     (and on the new version; target 10 s), and how many downloaded the
#     whole database again instead of resuming with monitor_cond_since.
#
# Environment: BENCH_FLEET_CHASSIS (default 1000), BENCH_FLEET_ELECTION_MS
# (default 10000), BENCH_FLEET_RELAYS (default 3), BENCH_FLEET_REPORT_MS
# (default N * 20, at least 5000), BENCH_FLEET_KEEP_LOG (a file to keep
# the simulation's reconnection log of the steady relay kill in), FLEET_SIM
# (the fleet-sim binary).  Needs no root; it uses ports 16643-16645 on
# 127.0.0.1 and ephemeral ones on 127.0.0.2 and 127.0.0.3.
set -eu
N=${BENCH_FLEET_CHASSIS:-1000}
ELECTION_MS=${BENCH_FLEET_ELECTION_MS:-10000}
# The chassis' report interval (Flowsteer_Global
# options:chassis_report_interval): a policy change makes the N chassis
# write their rows spread over it.  Default: N / 50 s (at least 5 s), for
# 50 row writes a second whatever N.
REPORT_MS=${BENCH_FLEET_REPORT_MS:-$(( N * 20 > 5000 ? N * 20 : 5000 ))}
top=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
sim=${FLEET_SIM:-$top/_build/bench/fleet-sim}
[ -x "$sim" ] || { echo "bench-fleet: no $sim (make bench/fleet-sim)" >&2; exit 1; }
py=$(command -v python3)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-fleet.XXXXXX")
pids=()
cleanup() {
    for m in 1 2 3; do
        [ -f "$tmp/c$m/ovsdb-server.pid" ] &&
            kill -9 "$(cat "$tmp/c$m/ovsdb-server.pid")" 2>/dev/null || :
    done
    for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || :; done
    rm -rf "$tmp"
}
trap cleanup EXIT

(cd "$tmp" && ovs-pki -d pki -l pki.log init > /dev/null 2>&1 &&
     for n in fsdb sim; do
         ovs-pki -d pki -l pki.log -b -u req+sign "$n" switch > /dev/null 2>&1
     done)
ca=$tmp/pki/switchca/cacert.pem
fc() {
    "$top/utilities/flowsteer-cluster" --schema="$top/ovs-ext/flowsteer.ovsschema" \
        --private-key="$tmp/fsdb-privkey.pem" --certificate="$tmp/fsdb-cert.pem" \
        --ca-cert="$ca" "$@"
}
status() { ovs-appctl -t "$tmp/c$1/ovsdb-server.ctl" cluster/status Flowsteer 2>/dev/null; }
leader() {
    for m in 1 2 3; do
        status "$m" | grep -q "^Role: leader" && { echo "$m"; return; }
    done
}
wait_for() {    # wait_for SECONDS CMD...: true once CMD is
    local end=$(( $(date +%s) + $1 ))
    shift
    until "$@"; do
        [ "$(date +%s)" -lt "$end" ] || return 1
        sleep 0.1
    done
}
now_ms() { date +%s%3N; }

fc create "$tmp/c1" 127.0.0.1:16643 && fc start "$tmp/c1"
for m in 2 3; do
    fc join "$tmp/c$m" "127.0.0.1:$((16642 + m))" 127.0.0.1:16643
    fc start "$tmp/c$m"
done
members() { for m in 1 2 3; do status "$m" | grep -q "^Status: cluster member" || return 1; done; }
wait_for 30 members || { echo "bench-fleet: no cluster" >&2; exit 1; }
L=$(leader)
fc election-timer "$tmp/c$L" "$ELECTION_MS"
fc init "$tmp/c1" pssl:0:127.0.0.1
# The simulation's remote: no RBAC role (one identity for all).  The
# admin writes at the leader, as flowsteer-ctl does (leader-only, like
# ovn-nbctl): a follower would forward each write with a prerequisite
# that the leader, busy with the chassis' writes, keeps refusing.
admin() {
    local l
    l=$(leader)
    [ -n "$l" ] &&
        ovsdb-client --timeout=20 transact "unix:$tmp/c$l/db.sock" \
            "[\"Flowsteer\", $1]" > /dev/null
}
admin '{"op": "insert", "table": "Connection", "uuid-name": "c",
        "row": {"target": "pssl:0:127.0.0.2", "inactivity_probe": 30000}},
       {"op": "mutate", "table": "Flowsteer_Global", "where": [],
        "mutations": [["connections", "insert", ["set", [["named-uuid", "c"]]]]]},
       {"op": "insert", "table": "Policy", "uuid-name": "p",
        "row": {"name": "fleet", "version": 1,
                "rules": "priority=0, actions=allow\n"}},
       {"op": "update", "table": "Flowsteer_Global", "where": [],
        "row": {"policy": ["named-uuid", "p"],
                "options": ["map", [["chassis_report_interval",
                                     "'"$REPORT_MS"'"]]]}}'
# listen_port PIDFILE ADDR: the TCP port the process listens on at ADDR.
listen_port() {
    ss -ltnpH "src $2" |
        awk -v p="pid=$(cat "$1")," \
            'index($0, p) { n = split($4, a, ":"); print a[n] }' | head -n 1
}
port_of() { listen_port "$tmp/c$1/ovsdb-server.pid" 127.0.0.2; }
wait_for 10 eval '[ -n "$(port_of 1)" ] && [ -n "$(port_of 2)" ] && [ -n "$(port_of 3)" ]'
remote="ssl:127.0.0.2:$(port_of 1),ssl:127.0.0.2:$(port_of 2),ssl:127.0.0.2:$(port_of 3)"

version=1
# set_version V: writes policy version V; appends "V WALL_MS" to changes
# when acknowledged.
set_version() {
    local t0
    t0=$(now_ms)
    if admin '{"op": "update", "table": "Policy", "where": [["name", "==", "fleet"]],
               "row": {"version": '"$1"', "rules": "priority=0, actions=allow\n# v'"$1"'\n"}}'; then
        echo "$1 $t0" >> "$tmp/changes"
        version=$1
        return 0
    fi
    return 1
}
# all_on OUT V: every chassis of the simulation OUT has version V.
all_on() { grep -q "^$2 $3\$" "$1.status" 2>/dev/null; }
# status_of OUT KEY: a "KEY VALUE" line of the simulation's status.
status_of() { awk -v k="$2" '$1 == k { print $2 }' "$1.status" 2>/dev/null; }
rss_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

# run_sim NAME COUNT [REMOTE]: starts a simulation; sets sim_pid.  With
# SIM_RELAY=--relay, REMOTE names relays (flowsteer-remote-relay).
run_sim() {
    rm -f "$tmp/$1" "$tmp/$1.status" "$tmp/$1.stop"
    "$sim" --private-key="$tmp/sim-privkey.pem" --certificate="$tmp/sim-cert.pem" \
        --ca-cert="$ca" --log-file="$tmp/$1.log" ${SIM_RELAY:-} \
        "${3:-$remote}" "$2" "$tmp/$1" 2> "$tmp/$1.err" &
    sim_pid=$!
    pids+=("$sim_pid")
}
stop_sim() {
    touch "$tmp/$1.stop"
    wait "$2" || :
}
# stats NAME FIRST LAST: latency of versions FIRST..LAST, from the change
# to each chassis seeing it: "p50 p99 max count".
stats() {
    "$py" - "$tmp/$1" "$tmp/changes" "$2" "$3" <<'EOF'
import sys
seen, changes, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t0 = {}
for line in open(changes):
    v, t = line.split()
    t0[int(v)] = int(t)
lat = []
for line in open(seen):
    v, i, t = map(int, line.split())
    if first <= v <= last and v in t0:
        lat.append(t - t0[v])
lat.sort()
if not lat:
    print("- - - 0")
else:
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))]
    print(q(0.50), q(0.99), lat[-1], len(lat))
EOF
}

echo "bench-fleet: 3 members (election timer $ELECTION_MS ms), $N simulated chassis" \
    "(report interval $REPORT_MS ms); reference: 1 chassis"
declare -A cpu0
for m in 1 2 3; do cpu0[$m]=$(cpu_of "$(cat "$tmp/c$m/ovsdb-server.pid")"); done

# Reference: one chassis, ten changes.
run_sim ref 1
wait_for 30 all_on "$tmp/ref" "$version" 1
first=$((version + 1))
for i in $(seq 10); do
    set_version $((version + 1))
    wait_for 10 all_on "$tmp/ref" "$version" 1 || :
    sleep 0.2
done
stop_sim ref "$sim_pid"
read -r ref50 ref99 refmax refn < <(stats ref "$first" "$version")

# cold_and_ten NAME [REMOTE]: starts N chassis (sets sim_pid) and times
# their cold start (sets cold), then ten changes a second apart (sets
# first and last, the versions to measure).
cold_and_ten() {
    local t
    t=$(now_ms)
    fleet_t0=$t
    run_sim "$1" "$N" "${2:-}"
    if wait_for 120 all_on "$tmp/$1" "$version" "$N"; then
        cold=$(( $(now_ms) - t ))
    else
        cold=">120000"
    fi
    first=$((version + 1))
    for i in $(seq 10); do
        set_version $((version + 1))
        wait_for 20 all_on "$tmp/$1" "$version" "$N" || :
        sleep 1
    done
    last=$version
}

# N chassis: cold start, ten changes.
cold_and_ten fleet
last10=$last
# A burst: 100 changes in 10 s.
burst_first=$((version + 1))
for i in $(seq 100); do
    set_version $((version + 1)) || :
    sleep 0.1
done
t=$(now_ms)
if wait_for 30 all_on "$tmp/fleet" "$version" "$N"; then
    burst_ok="yes, $(( $(now_ms) - t )) ms after the last"
else
    burst_ok="NO"
fi
# The leader killed under a write every 100 ms.
L=$(leader)
acked_before=$version
pauses0=$(status_of "$tmp/fleet" pauses)
killed_at=0 after_kill=
# Writes go on (each fails at once while there is no leader) until 30
# after the kill, the first acknowledged after it among them, or 60 s.
i=0
while [ "$i" -lt 40 ] || { [ -z "$after_kill" ] &&
                           [ $(( $(now_ms) - killed_at )) -lt 60000 ]; }; do
    i=$((i + 1))
    if [ "$i" = 10 ]; then
        kill -9 "$(cat "$tmp/c$L/ovsdb-server.pid")"
        killed_at=$(now_ms)
    fi
    if set_version $((version + 1)) && [ "$killed_at" != 0 ] &&
       [ -z "$after_kill" ]; then
        after_kill=$version after_kill_ms=$(( $(now_ms) - killed_at ))
    fi
    sleep 0.1
done
wait_for 30 eval '[ -n "$(leader)" ]' || :
in_db=$(ovsdb-client --timeout=20 dump "unix:$tmp/c$(leader)/db.sock" \
            Flowsteer Policy version |
        awk '$1 ~ /^[0-9]+$/ { print $1 }')
if wait_for 60 all_on "$tmp/fleet" "$version" "$N"; then
    all_last=yes
else
    all_last=NO
fi
kill_last=$version
pauses1=$(status_of "$tmp/fleet" pauses)
check=$(ovsdb-tool check-cluster "$tmp/c1/flowsteer.db" "$tmp/c2/flowsteer.db" \
            "$tmp/c3/flowsteer.db" 2>&1 && echo ok || echo FAILED)
sim_rss=$(rss_of "$sim_pid")
fleet_writes=$(status_of "$tmp/fleet" writes)
fleet_slow=$(status_of "$tmp/fleet" slow) fleet_interval=$(status_of "$tmp/fleet" interval)
fleet_secs=$(( ($(now_ms) - fleet_t0) / 1000 ))
m_rss=""
cpu1=0
for m in 1 2 3; do
    [ "$m" = "$L" ] && continue
    p=$(cat "$tmp/c$m/ovsdb-server.pid")
    m_rss="$m_rss $(( $(rss_of "$p") / 1024 )) MB"
    cpu1=$((cpu1 + $(cpu_of "$p") - ${cpu0[$m]}))
done
stop_sim fleet "$sim_pid"
read -r p50 p99 pmax pn < <(stats fleet "$first" "$last10")
# From the kill until every chassis has a version written after it.
restored=$("$py" - "$tmp/fleet" "${after_kill:-0}" "$killed_at" "$N" <<'EOF'
import sys
seen, v0, killed, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
first = {}
for line in open(seen):
    v, i, t = map(int, line.split())
    if v0 and v >= v0 and (i not in first or t < first[i]):
        first[i] = t
print(max(first.values()) - killed if v0 and len(first) == n else "-")
EOF
)
hz=$(getconf CLK_TCK)
# Writes forwarded by a follower that the leader refused for a stale
# prerequisite, as the members logged them (rate-limited: at most 5 in 5 s
# each, so a count of the seconds with such refusals more than of them).
refusals() { cat "$tmp"/c[123]/ovsdb-server.log 2>/dev/null | grep -c "does not match prerequisite" || :; }
refused=$(refusals)

# The same through relays: RELAYS ovsdb-server relays between the cluster
# and the chassis, as OVN runs them for its southbound; then one killed.
R=${BENCH_FLEET_RELAYS:-3}
if [ "$R" -gt 0 ]; then
    fc start "$tmp/c$L"
    wait_for 30 members || { echo "bench-fleet: member $L did not rejoin" >&2; exit 1; }
    wait_for 10 eval '[ -n "$(port_of 1)" ] && [ -n "$(port_of 2)" ] && [ -n "$(port_of 3)" ]'
    upstream="ssl:127.0.0.2:$(port_of 1),ssl:127.0.0.2:$(port_of 2),ssl:127.0.0.2:$(port_of 3)"
    relays=
    for r in $(seq "$R"); do
        d=$tmp/r$r
        mkdir -p "$d"
        ovsdb-server --detach --no-chdir --pidfile="$d/ovsdb-server.pid" \
            --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
            -vconsole:off --remote=pssl:0:127.0.0.3 \
            --private-key="$tmp/sim-privkey.pem" --certificate="$tmp/sim-cert.pem" \
            --ca-cert="$ca" "relay:Flowsteer:$upstream"
        pids+=("$(cat "$d/ovsdb-server.pid")")
    done
    relay_port() { listen_port "$tmp/r$1/ovsdb-server.pid" 127.0.0.3; }
    for r in $(seq "$R"); do
        wait_for 10 eval '[ -n "$(relay_port "$r")" ]' ||
            { echo "bench-fleet: relay $r does not listen" >&2; exit 1; }
        relays="${relays:+$relays,}ssl:127.0.0.3:$(relay_port "$r")"
    done
    fleet_cold=$cold fleet_first=$first
    SIM_RELAY=--relay cold_and_ten relayed "$relays"
    rsim_pid=$sim_pid rcold=$cold rfirst=$first rlast=$last
    cold=$fleet_cold first=$fleet_first
    # Relay 2 killed in the steady state (the chassis' reports of the last
    # change written, no change in flight): its chassis resume where they
    # were, unless more than ovsdb-server's 100 transactions of history
    # went by meanwhile.
    if [ "$R" -ge 2 ]; then
        sleep $(( REPORT_MS / 1000 + 2 ))
        sdl0=$(status_of "$tmp/relayed" downloads)
        # The reconnections' log lines (fleet-sim --log-file) from here on.
        slog0=$(wc -l < "$tmp/relayed.log")
        kill -9 "$(cat "$tmp/r2/ovsdb-server.pid")"
        skilled_at=$(now_ms)
        sleep 1
        # How the reconnections went: the fewest connected seen from 1 s
        # after the kill, and when 90% and 99% of the chassis were.
        slow=$N sp90= sp99= sresync=">60000"
        while [ $(( $(now_ms) - skilled_at )) -lt 61000 ]; do
            c=$(status_of "$tmp/relayed" connected)
            c=${c:-0} t=$(( $(now_ms) - skilled_at ))
            [ "$c" -ge "$slow" ] || slow=$c
            [ -n "$sp90" ] || [ $((c * 10)) -lt $((N * 9)) ] || sp90=$t
            [ -n "$sp99" ] || [ $((c * 100)) -lt $((N * 99)) ] || sp99=$t
            [ "$c" != "$N" ] || { sresync=$t; break; }
            sleep 0.1
        done
        sleep 1
        sdl1=$(status_of "$tmp/relayed" downloads)
        tail -n +"$((slog0 + 1))" "$tmp/relayed.log" > "$tmp/relayed.kill.log"
        [ -z "${BENCH_FLEET_KEEP_LOG:-}" ] || cp "$tmp/relayed.kill.log" "$BENCH_FLEET_KEEP_LOG"
        s_timedout=$(grep -c "connection attempt timed out" "$tmp/relayed.kill.log" || :)
        s_other=$(grep -c "trying another server" "$tmp/relayed.kill.log" || :)
        s_refused=$(grep -c "connection attempt failed" "$tmp/relayed.kill.log" || :)
        s_backoff=$(grep -cE "waiting [0-9.]+ seconds before reconnect" "$tmp/relayed.kill.log" || :)
        s_backoff4=$(grep -cE "waiting ([4-9]|[1-9][0-9]+)(\.[0-9]+)? seconds before reconnect" "$tmp/relayed.kill.log" || :)
        # Relay 2 again, on its port, so the next kill leaves two relays
        # as the first did.
        p2=${relays#*,ssl:127.0.0.3:}
        p2=${p2%%,*}
        d=$tmp/r2
        ovsdb-server --detach --no-chdir --pidfile="$d/ovsdb-server.pid" \
            --unixctl="$d/ovsdb-server.ctl" --log-file="$d/ovsdb-server.log" \
            -vconsole:off --remote="pssl:$p2:127.0.0.3" \
            --private-key="$tmp/sim-privkey.pem" --certificate="$tmp/sim-cert.pem" \
            --ca-cert="$ca" "relay:Flowsteer:$upstream"
        pids+=("$(cat "$d/ovsdb-server.pid")")
        sleep $(( REPORT_MS / 1000 + 2 ))
    fi
    # Relay 1 killed: its chassis reconnect to the others and resume from
    # where they were (monitor_cond_since), then take a new version.
    dl0=$(status_of "$tmp/relayed" downloads)
    kill -9 "$(cat "$tmp/r1/ovsdb-server.pid")"
    killed_at=$(now_ms)
    sleep 0.5
    set_version $((version + 1))
    if wait_for 60 eval 'all_on "$tmp/relayed" "$version" "$N" &&
                         [ "$(status_of "$tmp/relayed" connected)" = "$N" ]'; then
        rresync=$(( $(now_ms) - killed_at ))
    else
        rresync=">60000"
    fi
    sleep 1
    dl1=$(status_of "$tmp/relayed" downloads)
    rsim_rss=$(rss_of "$rsim_pid")
    r_writes=$(status_of "$tmp/relayed" writes) r_slow=$(status_of "$tmp/relayed" slow)
    r_pauses=$(status_of "$tmp/relayed" pauses)
    r_secs=$(( ($(now_ms) - fleet_t0) / 1000 ))
    r_rss=""
    for r in $(seq 2 "$R"); do
        r_rss="$r_rss $(( $(rss_of "$(cat "$tmp/r$r/ovsdb-server.pid")") / 1024 )) MB"
    done
    stop_sim relayed "$rsim_pid"
    read -r r50 r99 rmax rn < <(stats relayed "$rfirst" "$rlast")
fi

echo
printf '%-44s %14s %14s\n' "" "$N chassis" "1 (reference)"
printf '%-44s %14s %14s\n' "policy change to every chassis, p50 (ms)" "$p50" "$ref50"
printf '%-44s %14s %14s\n' "  p99 (ms; target 2000)" "$p99" "$ref99"
printf '%-44s %14s %14s\n' "  max (ms; target 5000)" "$pmax" "$refmax"
printf '%-44s %14s %14s\n' "  (chassis x changes measured)" "$pn" "$refn"
echo "ratio p99, $N chassis / 1: $("$py" -c "print('%.1f' % ($p99 / max($ref99, 1)))")"
echo "cold start of $N chassis, all in sync: $cold ms (target 60000)"
echo "burst of 100 changes in 10 s (versions $burst_first-$acked_before): every chassis ends on the last: $burst_ok"
echo "leader (member $L) killed under a write every 100 ms: first write acknowledged after it version ${after_kill:--}, ${after_kill_ms:--} ms after the kill;" \
     "every chassis had it (or later) $restored ms after the kill (target $ELECTION_MS + 2000);" \
     "last acknowledged $kill_last, in the database $in_db, every chassis on it: $all_last; check-cluster: $check;" \
     "writing sessions closed for want of a leader meanwhile: $(( ${pauses1:-0} - ${pauses0:-0} ))"
echo "Chassis row writes: $fleet_writes in $fleet_secs s ($(( fleet_writes / (fleet_secs > 0 ? fleet_secs : 1) )) a second);" \
     "commits over 1 s that stretched a chassis's interval: $fleet_slow; the longest interval at the end: $fleet_interval ms"
echo "memory: surviving members$m_rss; simulation $(( sim_rss / 1024 )) MB, $(( sim_rss / N )) kB per chassis"
echo "CPU of the two surviving members during the run: $(( cpu1 / hz )) s"
echo "forwarded writes refused for a stale prerequisite, lines logged by the members: $refused"
if [ "$R" -gt 0 ]; then
    echo
    echo "through $R relays (relay:Flowsteer:..., the chassis connected to the relays only):"
    printf '%-44s %14s\n' "policy change to every chassis, p50 (ms)" "$r50"
    printf '%-44s %14s\n' "  p99 (ms; target 2000)" "$r99"
    printf '%-44s %14s\n' "  max (ms; target 5000)" "$rmax"
    printf '%-44s %14s\n' "  (chassis x changes measured)" "$rn"
    echo "cold start of $N chassis through the relays, all in sync: $rcold ms"
    [ "$R" -lt 2 ] ||
        echo "relay 2 killed (kill -9) in the steady state: every chassis connected again $sresync ms after the kill (target 10000);" \
             "the fewest connected from 1 s after it: $slow; 90% by ${sp90:--} ms, 99% by ${sp99:--} ms;" \
             "whole-database downloads by the chassis meanwhile: $((sdl1 - sdl0));" \
             "connection attempts ended as timed out: $s_timedout (of them, ovsdb-cs trying another server: $s_other; the rest took over 1 s, or the backoff);" \
             "refused: $s_refused; backoffs: $s_backoff, of them 4 s or more: $s_backoff4"
    echo "relay 1 killed (kill -9), a new version 0.5 s later: every chassis connected again and on it $rresync ms after the kill (target 10000);" \
         "whole-database downloads by the chassis meanwhile: $((dl1 - dl0)) (0: every reconnection resumed by monitor_cond_since)"
    echo "Chassis row writes through the relays (flowsteer-remote-relay): $r_writes in $r_secs s;" \
         "slow commits: $r_slow; writing sessions paused: $r_pauses"
    echo "memory: surviving relays$r_rss; simulation $(( rsim_rss / 1024 )) MB"
    echo "forwarded writes refused for a stale prerequisite, lines logged by the members: $(( $(refusals) - refused ))" \
         "(the relays forward the chassis' writes to any member)"
fi
[ "$in_db" = "$kill_last" ] && [ "$check" = ok ] && [ "$all_last" = yes ] &&
    { [ "$R" = 0 ] || [ "${rresync#>}" = "$rresync" ]; } &&
    { [ "$R" -lt 2 ] || [ "${sresync#>}" = "$sresync" ]; }
