#!/bin/bash
# run-e2e-bench.sh: flowsteer end to end, inline mode, against the same
# traffic from a VM that is not inspected, in the same sandbox and the same
# run (the machine is small and shared: read the ratios, not the absolute
# figures).
#
# A private Open vSwitch (userspace datapath, started by tests/ovs-lib.sh
# as the tests start it) with br-int, VMs as network namespaces, and
# flowsteerd steering the inspected VMs' ports through br-sec to its
# inspector.  Server VM srv is not inspected; client VM plain is not
# inspected (the reference: its packets go straight through br-int's
# NORMAL, next to flowsteer's rules); every other client VM is, with
# profile bench:
#
#     priority=200, profile=bench, app=BitTorrent, actions=drop
#     priority=100, profile=bench, app=HTTP, actions=allow
#     priority=0,   profile=bench, actions=allow
#
# Everything the benchmark sends is allowed, but because rules above the
# default match on the application, no flow is decided on its first packet
# by L3/L4 alone: each waits for nDPI to name its application (or give up),
# as in a real policy.  (nDPI 4.2 names iperf3's port 5201 TargusDataspeed
# from the first packet, ICMP from the first packet, HTTP from the request.)
#
# What it measures:
#  1. iperf3 TCP, srv <- plain (a) and srv <- insp (b), alternately (a b,
#     b a, a b...), BENCH_RUNS times each, BENCH_SECONDS each after one omitted second
#     (so (b) is after the verdict): Mbit/s, median and best, ratio b/a
#     (target >= 0.9).  And how many packets of (b) reached the inspector.
#  2. The share of packets that never reached the inspector, for a mix run
#     at once from four inspected VMs, one kind of flow each: iperf3 at
#     100 Mbit/s, ping every 20 ms, an HTTP download at 2 MB/s (long flows,
#     BENCH_MIX_SECONDS; target >= 99% each) and BENCH_SHORT_FLOWS short
#     HTTP requests, one after the other (reported only).  These figures
#     do not take flowsteerd's word: packets of a VM are counted on its
#     interface (static ARP, no IPv6: nothing else crosses it), packets
#     that reached the inspector are captured on the inspector's port
#     (tcpdump -Q in on fs-insp0, checked against flowsteer/show's count).
#     Next to them, what flowsteer/flows --json says: packets handed to
#     nDPI, packets through the inspector, packets its verdict rules matched
#     in OVS.
#  3. New TCP connections per second (bench/conn-bench.py: connect, HTTP
#     GET, read the answer, close; BENCH_CONN_PARALLEL at a time, each on a
#     fresh client port) from plain and from inspected VM conn to srv,
#     alternately (a b, b a...), BENCH_RUNS times BENCH_CONN_SECONDS each,
#     the verdict rules flushed before every run; then, one connection at a
#     time for BENCH_LAT_SECONDS, the connect() time (SYN out, SYN-ACK
#     back: for conn both go through the inspector): p50 and p99, and what
#     inline inspection adds.  One Python client and server: the
#     uninspected rate is theirs as much as OVS's.
#
# Settings (environment): BENCH_RUNS (3), BENCH_SECONDS (3),
# BENCH_MIX_SECONDS (8), BENCH_SHORT_FLOWS (200), BENCH_CONN_SECONDS (3),
# BENCH_CONN_PARALLEL (8), BENCH_LAT_SECONDS (3); top_srcdir and
# top_builddir (for ovs-ext/flowsteerd).  With the defaults it takes about
# 70 seconds.  Needs root, Open vSwitch, iperf3, curl, tcpdump, python3.
#
# Missed targets are printed, not failed: the exit status is non-zero only
# if something did not run.  'make bench-e2e' runs it.

# SC2317: functions run through wait_until.  SC2015: 'a && b || fail' fails
# if either fails, as meant.
# shellcheck disable=SC2317,SC2015,SC2119
# shellcheck source=tests/ovs-lib.sh
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

case ${1:-} in
    '') ;;
    -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) fail "no arguments: the settings are environment variables (--help)" ;;
esac

: "${BENCH_RUNS:=3}" "${BENCH_SECONDS:=3}" "${BENCH_MIX_SECONDS:=8}"
: "${BENCH_SHORT_FLOWS:=200}" "${BENCH_CONN_SECONDS:=3}"
: "${BENCH_CONN_PARALLEL:=8}" "${BENCH_LAT_SECONDS:=3}"
for v in BENCH_RUNS BENCH_SECONDS BENCH_MIX_SECONDS BENCH_SHORT_FLOWS \
         BENCH_CONN_SECONDS BENCH_CONN_PARALLEL BENCH_LAT_SECONDS; do
    [[ ${!v} =~ ^[1-9][0-9]*$ ]] || fail "$v='${!v}': not a whole number > 0"
done

[ -x "$top_builddir/ovs-ext/flowsteerd" ] ||
    fail "no $top_builddir/ovs-ext/flowsteerd (make; or set top_builddir)"
CONN_BENCH=$top_srcdir/bench/conn-bench.py
PY=$(find_python) || fail "no python3"
for c in iperf3 curl tcpdump; do
    command -v "$c" >/dev/null || fail "$c not found (apt-get install $c)"
done

ovs_lib_init
ovs_start
ovs_add_bridge br-int
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL" ||
    fail "cannot add the NORMAL rule"
# VM N is 10.0.0.N; all but srv and plain are inspected.
vms=(insp srv plain conn liperf lping lhttp short)
inspected=(insp conn liperf lping lhttp short)
for i in "${!vms[@]}"; do
    vm_add "${vms[i]}" br-int "10.0.0.$((i + 1))/24" >/dev/null
done
SRV=$(vm_ip srv)

# Static ARP, so that a VM's interface carries nothing but its flows; then
# one UDP datagram from each VM, before inspection starts, so that br-int
# has learned every MAC and never floods a flow's packets to other VMs.
for vm in "${vms[@]}"; do
    [ "$vm" = srv ] && continue
    vm_exec "$vm" ip neigh replace "$SRV" lladdr "$(vm_mac srv)" \
        dev "$(vm_if "$vm")" nud permanent &&
        vm_exec srv ip neigh replace "$(vm_ip "$vm")" \
            lladdr "$(vm_mac "$vm")" dev "$(vm_if srv)" nud permanent ||
        fail "cannot set static ARP entries for $vm"
    vm_exec "$vm" bash -c "echo > /dev/udp/$SRV/9" ||
        fail "$vm cannot send to srv"
done
learned() {
    local vm fdb
    fdb=$(appctl fdb/show br-int) || return 1
    for vm in "${vms[@]}"; do
        grep -q " $(vm_mac "$vm") " <<<"$fdb" || return 1
    done
}
wait_until 5 learned || fail "br-int did not learn every VM's MAC"

cat > "$tmp/policy.conf" <<'EOF'
priority=200, profile=bench, app=BitTorrent, actions=drop
priority=100, profile=bench, app=HTTP, actions=allow
priority=0, profile=bench, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-mode=inline \
    external_ids:flowsteer-policy="$tmp/policy.conf" ||
    fail "cannot configure flowsteer"
for vm in "${inspected[@]}"; do
    vsctl set Interface "$(vm_port "$vm")" \
        external_ids:flowsteer-inspect=true \
        external_ids:flowsteer-profile=bench \
        external_ids:attached-mac="\"$(vm_mac "$vm")\"" ||
        fail "cannot configure $vm's port"
done

fsd_start
ready() {
    fsctl flowsteer/show > "$tmp/show" 2>&1 &&
        grep -q "inspector port fs-insp0: rx" "$tmp/show" &&
        fsd_steering $((3 + 4 * ${#inspected[@]}))
}
wait_until 20 ready || { cat "$tmp/show"; fail "flowsteerd is not ready"; }
# The capture device: fs-insp0.  With DPDK (FS_DATAPATH=dpdk) it is a
# vhost-user port with no kernel device, and OVS does not mirror what it
# sends into a patch port: the "inspector" column is then flowsteer/flows'
# count, not an independent one.
cap_if=fs-insp0
[ "${FS_DATAPATH:-}" != dpdk ] || cap_if=
wait_until 5 learned || fail "br-int forgot MACs when flowsteer started"

mkdir -p "$tmp/www" &&
    head -c $((2 * 1048576 * BENCH_MIX_SECONDS)) /dev/zero > "$tmp/www/big" ||
    fail "cannot write $tmp/www/big"
bg_start iperf vm_exec srv iperf3 -s -B "$SRV"
bg_start http vm_exec srv "$PY" -m http.server 8080 --bind "$SRV" \
    --directory "$tmp/www"
bg_start conn vm_exec srv "$PY" "$CONN_BENCH" server "$SRV" 8081
listening() {
    [ "$(vm_exec srv ss -Hltn "( sport = :5201 or sport = :8080 or sport = :8081 )" |
         wc -l)" -eq 3 ]
}
wait_until 10 listening || fail "the servers in srv did not start"

# ---------------------------------------------------------------------------
# Helpers.

# kv KEY LINE: the value of KEY=VALUE in LINE.
kv() { awk -v k="$1" '{ for (i = 1; i <= NF; i++) if (index($i, k "=") == 1)
                           print substr($i, length(k) + 2) }' <<<"$2"; }

# median N..., best N...: of numbers.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
best() { printf '%s\n' "$@" | sort -g | tail -n 1; }

# vm_packets VM: packets sent and received on VM's interface.
vm_packets() {
    vm_exec "$1" cat "/sys/class/net/$(vm_if "$1")/statistics/rx_packets" \
        "/sys/class/net/$(vm_if "$1")/statistics/tx_packets" |
        awk '{ n += $1 } END { print n + 0 }'
}

# number VALUE WHAT: fails unless VALUE is a whole number.
number() { [[ $1 =~ ^[0-9]+$ ]] || fail "$2: '$1' is not a number"; }

# show_counter NAME: counter NAME of flowsteer/show, or the inspector port's
# received packets for NAME=insp_rx.
show_counter() {
    fsctl flowsteer/show | awk -v k="$1" '
        k == "insp_rx" && /inspector port fs-insp0: rx/ {
            for (i = 1; i < NF; i++) if ($i == "rx") print $(i + 1)
        }
        /^counters:/ { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1)
                           print substr($i, length(k) + 2) }'
}

# capture_start NAME, capture_stop NAME: packets that OVS hands to the
# inspector, into $tmp/cap-NAME (one line each, tcpdump -q).
capture_start() {
    [ -n "$cap_if" ] || return 0
    cap_rx0=$(show_counter insp_rx)
    number "$cap_rx0" "the inspector's received packets"
    bg_start "cap-$1" ovs_exec tcpdump -i "$cap_if" -Q in -nn -s 128 -U \
        -w "$tmp/cap-$1.pcap"
    wait_until 5 grep -q "listening on" "$(bg_log "cap-$1")" ||
        fail "tcpdump did not start: $(cat "$(bg_log "cap-$1")")"
}
capture_stop() {
    local rx n
    [ -n "$cap_if" ] || return 0
    sleep 0.2
    rx=$(show_counter insp_rx)
    number "$rx" "the inspector's received packets"
    bg_stop "cap-$1"
    tcpdump -r "$tmp/cap-$1.pcap" -nn -q > "$tmp/cap-$1" 2>/dev/null ||
        fail "cannot read $tmp/cap-$1.pcap"
    n=$(wc -l < "$tmp/cap-$1")
    [ "$n" -eq $((rx - cap_rx0)) ] ||
        echo "   warning: tcpdump caught $n packets on $cap_if, the" \
            "inspector $((rx - cap_rx0)); $(grep dropped "$(bg_log "cap-$1")")"
}

# captured NAME IP [PORT]: packets from or to IP (IP.PORT) in capture NAME.
captured() {
    if [ -z "$cap_if" ]; then
        read -r _ _ fv _ < <(flows_of "$@")
        echo "$fv"
        return
    fi
    awk -v want="$2${3:+.$3}" -v n="$([ -n "${3:-}" ] && echo 5 || echo 4)" '
        function ep(x,    a, i, r) {
            if (split(x, a, ".") < n) return ""
            r = a[1]
            for (i = 2; i <= n; i++) r = r "." a[i]
            return r
        }
        $2 == "IP" { d = $5; sub(/:$/, "", d)
                     if (ep($3) == want || ep(d) == want) c++ }
        END { print c + 0 }' "$tmp/cap-$1"
}

# flows_save NAME: flowsteer/flows --json into $tmp/flows-NAME, after 2 s
# for OVS to have pushed the datapath's counters to the rules (its
# revalidators do every 0.5 s or so).
flows_save() {
    sleep 2
    fsctl flowsteer/flows --json > "$tmp/flows-$1" ||
        fail "flowsteer/flows --json failed"
}

# flows_of NAME IP [PORT]: "FLOWS NDPI INSPECTOR OVS" for the flows in
# $tmp/flows-NAME with an end at IP (IP:PORT): how many, and the sums of
# the packets that flowsteerd says it handed to nDPI, that went through
# the inspector, and that their verdict rules matched in OVS.
flows_of() {
    "$PY" - "$tmp/flows-$1" "$2" "${3:-}" <<'EOF'
import json, sys
path, ip, port = sys.argv[1:4]
n, dpi, via, ovs = 0, 0, 0, 0
for line in open(path):
    f = json.loads(line)
    if any(a == ip and port in ("", str(p))
           for a, p in ((f["src_ip"], f["src_port"]),
                        (f["dst_ip"], f["dst_port"]))):
        n += 1
        dpi += f["packets_inspected"]
        via += f["packets_inspector"]
        ovs += f["packets_ovs"] or 0
print(n, dpi, via, ovs)
EOF
}

# verdict_rules: how many verdict rules br-int holds.
verdict_rules() {
    ofctl -O OpenFlow13 dump-aggregate br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" |
        sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'
}

no_verdict_rules() { [ "$(verdict_rules)" = 0 ]; }

# flush: makes flowsteerd forget every flow and waits until their rules
# are gone from br-int.
flush() {
    fsctl flowsteer/flush-flows >/dev/null || fail "flowsteer/flush-flows failed"
    wait_until 60 no_verdict_rules ||
        fail "verdict rules left after flowsteer/flush-flows: $(verdict_rules)"
    sleep 0.5
}

# ---------------------------------------------------------------------------
# 1. iperf3 without and with inspection.

# iperf VM CPORT: one iperf3 run from VM to srv; its Mbit/s in $mbps.
iperf() {
    vm_exec "$1" iperf3 -c "$SRV" -t "$BENCH_SECONDS" -O 1 --cport "$2" -J \
        > "$tmp/iperf.json" 2>&1 ||
        fail "iperf3 from $1 failed: $(tail -n 5 "$tmp/iperf.json")"
    mbps=$("$PY" -c 'import json, sys
e = json.load(open(sys.argv[1]))["end"]
print("%.1f" % (e["sum_received"]["bits_per_second"] / 1e6))' \
               "$tmp/iperf.json") || fail "no iperf3 result in $tmp/iperf.json"
}

echo "== iperf3 TCP to srv from plain (a) and insp (b), alternately (ab ba" \
    "ab...), $BENCH_RUNS x ${BENCH_SECONDS}s + 1s omitted"
capture_start iperf
insp0=$(vm_packets insp)
a=() b=() cports=()
for i in $(seq "$BENCH_RUNS"); do
    # a b, b a, a b...: neither always goes first.
    for vm in $( ((i % 2)) && echo plain insp || echo insp plain); do
        if [ "$vm" = plain ]; then
            iperf plain $((40100 + i))
            a+=("$mbps")
        else
            cports+=($((40000 + i)))
            iperf insp $((40000 + i))
            b+=("$mbps")
        fi
    done
    echo "   run $i: (a) ${a[-1]} Mbit/s, (b) ${b[-1]} Mbit/s"
done
capture_stop iperf
insp_total=$(( $(vm_packets insp) - insp0 ))
flows_save iperf
insp_via=$(captured iperf "$(vm_ip insp)")
data_via=0 data_dpi=0
for p in "${cports[@]}"; do
    data_via=$((data_via + $(captured iperf "$(vm_ip insp)" "$p")))
    read -r _ d _ < <(flows_of iperf "$(vm_ip insp)" "$p")
    number "$d" "flowsteer/flows: packets_inspected"
    data_dpi=$((data_dpi + d))
done

# ---------------------------------------------------------------------------
# 2. Packets that never reach the inspector: long and short flows at once.

S=$BENCH_MIX_SECONDS
echo "== a mix for ${S}s: iperf3 100 Mbit/s from liperf, ping every 20 ms" \
    "from lping, HTTP download 2 MB/s from lhttp, $BENCH_SHORT_FLOWS short" \
    "HTTP requests from short"
mix=(liperf lping lhttp short)
declare -A pk0 pk1
for vm in "${mix[@]}"; do pk0[$vm]=$(vm_packets "$vm"); done
capture_start mix
bg_start m-iperf vm_exec liperf iperf3 -c "$SRV" -t "$S" -b 100M
bg_start m-ping vm_exec lping ping -q -i 0.02 -c $((S * 50)) "$SRV"
bg_start m-http vm_exec lhttp curl -sS -o /dev/null --limit-rate 2M \
    --max-time $((S * 4)) "http://$SRV:8080/big"
sleep 1
short=$(vm_exec short "$PY" "$CONN_BENCH" client "$SRV" 8081 \
            --count "$BENCH_SHORT_FLOWS" --port-base 20000) ||
    fail "short flows failed: $short"
[ "$(kv conns "$short")" = "$BENCH_SHORT_FLOWS" ] ||
    fail "short flows: $short"
for job in m-iperf m-ping m-http; do
    wait "$(bg_pid "$job")" ||
        fail "$job failed: $(tail -n 5 "$(bg_log "$job")")"
    bg_stop "$job"
done
capture_stop mix
echo "   ping: $(grep -o "[0-9]* packets transmitted.* loss" "$(bg_log m-ping)")"
echo "   short flows: $short"
for vm in "${mix[@]}"; do pk1[$vm]=$(vm_packets "$vm"); done
flows_save mix
fsctl flowsteer/show | grep "^inspector appliance:" > "$tmp/appliance-status"

# ---------------------------------------------------------------------------
# 3. New connections per second, and connect() latency.

# conns VM PARALLEL SECONDS: one conn-bench client run from VM, its result
# line in $out.  Client ports go on from the VM's last run.
declare -A next_port=([plain]=10000 [conn]=10000)
conns() {
    out=$(vm_exec "$1" "$PY" "$CONN_BENCH" client "$SRV" 8081 \
              --parallel "$2" --seconds "$3" --port-base "${next_port[$1]}") ||
        fail "conn-bench from $1 failed: $out"
    next_port[$1]=$(kv next_port "$out")
    [ "$(kv ports_exhausted "$out")" = 0 ] ||
        echo "   ($1 used every client port: a shorter run)"
}

# What ovs-vswitchd itself did for the connection runs, from its coverage
# counters, summed per VM: translations, datapath flows installed,
# revalidations because the flow table changed, OpenFlow messages it
# received.  (Read before and after each run; the counters are global, so
# a run's share includes the inspector's own traffic and flowsteerd's.)
OVS_COUNTERS="xlate_actions dpif_flow_put rev_flow_table ofproto_recv_openflow"
declare -A ovs_sum=()
ovs_counters() {                    # ovs_counters: values, in that order
    local c
    for c in $OVS_COUNTERS; do
        appctl coverage/read-counter "$c" 2>/dev/null || echo 0
    done | tr '\n' ' '
}
ovs_add() {                         # ovs_add VM BEFORE...: after - before
    local vm=$1 c v i=0 after
    shift
    read -ra after <<<"$(ovs_counters)"
    for c in $OVS_COUNTERS; do
        v=$(( ${after[$i]:-0} - ${1:-0} ))
        ovs_sum[$vm.$c]=$(( ${ovs_sum[$vm.$c]:-0} + v ))
        i=$((i + 1))
        shift
    done
}
declare -A conns_sum=([plain]=0 [conn]=0)

echo "== new connections to srv from plain and conn, alternately (ab ba" \
    "ab...), $BENCH_RUNS x ${BENCH_CONN_SECONDS}s, $BENCH_CONN_PARALLEL at a" \
    "time"
ca=() cb=() missed=0
for i in $(seq "$BENCH_RUNS"); do
    for vm in $( ((i % 2)) && echo plain conn || echo conn plain); do
        flush
        read -ra before <<<"$(ovs_counters)"
        if [ "$vm" = plain ]; then
            conns plain "$BENCH_CONN_PARALLEL" "$BENCH_CONN_SECONDS"
            ca+=("$(kv conn_per_s "$out")")
            ovs_add plain "${before[@]}"
            conns_sum[plain]=$(( conns_sum[plain] + $(kv conns "$out") ))
            continue
        fi
        created=$(show_counter flows_created)
        number "$created" flows_created
        conns conn "$BENCH_CONN_PARALLEL" "$BENCH_CONN_SECONDS"
        cb+=("$(kv conn_per_s "$out")")
        ovs_add conn "${before[@]}"
        conns_sum[conn]=$(( conns_sum[conn] + $(kv conns "$out") ))
        created=$(( $(show_counter flows_created) - created ))
        started=$(( $(kv conns "$out") + $(kv errors "$out") ))
        [ "$created" -ge "$started" ] || missed=$((missed + started - created))
        cinfo="$(kv conns "$out") connections, $(kv errors "$out") failed,"
        cinfo+=" $created flows created by the inspector"
    done
    echo "   run $i: plain ${ca[-1]}/s, conn ${cb[-1]}/s ($cinfo)"
done

echo "== connect() latency, one connection at a time, ${BENCH_LAT_SECONDS}s each"
flush
conns plain 1 "$BENCH_LAT_SECONDS"
la=$out
flush
conns conn 1 "$BENCH_LAT_SECONDS"
lb=$out
echo "   plain: $la"
echo "   conn:  $lb"
table_full=$(show_counter table_full)

pid=$(fsd_pid)
fsctl exit || fail "flowsteerd did not exit"
wait_until 10 _ol_dead "$pid" || fail "flowsteerd did not exit"

# ---------------------------------------------------------------------------
# Results.

echo
echo "flowsteer end to end: ovs-vswitchd $(ovs-vswitchd --version |
    sed -n '1s/.* //p') userspace datapath, flowsteerd inline," \
    "$(nproc) CPUs; uninspected and inspected VMs in the same sandbox," \
    "alternately"
awk -v am="$(median "${a[@]}")" -v bm="$(median "${b[@]}")" \
    -v ab="$(best "${a[@]}")" -v bb="$(best "${b[@]}")" \
    -v cam="$(median "${ca[@]}")" -v cbm="$(median "${cb[@]}")" \
    -v l50a="$(kv connect_p50_ms "$la")" -v l50b="$(kv connect_p50_ms "$lb")" \
    -v l99a="$(kv connect_p99_ms "$la")" -v l99b="$(kv connect_p99_ms "$lb")" \
    -v runs="$BENCH_RUNS" -v par="$BENCH_CONN_PARALLEL" 'BEGIN {
    printf "%-40s %12s %12s %9s\n", "", "uninspected", "inspected", "ratio"
    r = am ? bm / am : 0
    printf "%-40s %12.1f %12.1f %9.2f  (target >= 0.9%s)\n",
           "iperf3 TCP Mbit/s, median of " runs, am, bm, r,
           (r < 0.9 ? ": below" : "")
    printf "%-40s %12.1f %12.1f %9.2f\n",
           "iperf3 TCP Mbit/s, best of " runs, ab, bb, ab ? bb / ab : 0
    printf "%-40s %12.0f %12.0f %9.2f\n",
           "new connections/s, " par " at a time, median", cam, cbm,
           cam ? cbm / cam : 0
    printf "%-40s %12s %12s %9s\n", "", "", "", "added"
    printf "%-40s %12.3f %12.3f %+9.3f\n", "connect() ms, p50", l50a, l50b,
           l50b - l50a
    printf "%-40s %12.3f %12.3f %+9.3f\n", "connect() ms, p99", l99a, l99b,
           l99b - l99a
}'
echo "ovs-vswitchd's work per new connection (coverage counters, the" \
     "connection runs)"
for c in $OVS_COUNTERS; do
    awk -v c="$c" -v pa="${ovs_sum[plain.$c]:-0}" -v na="${conns_sum[plain]}" \
        -v pb="${ovs_sum[conn.$c]:-0}" -v nb="${conns_sum[conn]}" 'BEGIN {
        a = na ? pa / na : 0; b = nb ? pb / nb : 0
        if (a >= 0.01)
            printf "  %-38s %12.2f %12.2f %9.2f\n", c, a, b, b / a
        else
            printf "  %-38s %12.2f %12.2f %9s\n", c, a, b, "-"
    }'
done
echo
echo "packets that never reached the inspector (bypassed in OVS)"
# CLASS FLOWS PACKETS INSPECTOR NDPI FSD_INSPECTOR FSD_OVS TARGET LABEL...
read -r n dpi fv fo < <(flows_of iperf "$(vm_ip insp)")
rows=("- $n $insp_total $insp_via $dpi $fv $fo 99 iperf3 (b), $BENCH_RUNS runs")
for vm in "${mix[@]}"; do
    read -r n dpi fv fo < <(flows_of mix "$(vm_ip "$vm")")
    r="$n $((pk1[$vm] - pk0[$vm])) $(captured mix "$(vm_ip "$vm")") $dpi $fv $fo"
    case $vm in
        liperf) rows+=("long $r 99 long: iperf3 100 Mbit/s, ${S}s") ;;
        lping) rows+=("long $r 99 long: ping 50/s, ${S}s") ;;
        lhttp) rows+=("long $r 99 long: HTTP download 2 MB/s, ${S}s") ;;
        short) rows+=("short $r 0 short: $BENCH_SHORT_FLOWS HTTP requests") ;;
    esac
done
printf '%s\n' "${rows[@]}" | awk '
    function row(label, n, t, v, d, fv, fo, target,    s, differs) {
        s = t ? 100 * (t - v) / t : 0
        differs = fv - v > t / 100 || v - fv > t / 100 ||
                  fo - (t - v) > t / 100
        printf "%-30s %5d %9d %9d %6d %9d %7.3f%% %9s %9s%s%s\n", label, n,
               t, v, d, t - v, s, fv, fo, (differs ? " *" : ""),
               (target && s < target ? "  (below target)" : "")
    }
    BEGIN {
        printf "%-30s %5s %9s %9s %6s %9s %8s %19s\n", "", "flows",
               "packets", "inspector", "nDPI", "bypassed", "share",
               "flowsteer/flows:"
        printf "%-30s %5s %9s %9s %6s %9s %8s %9s %9s\n", "", "", "", "",
               "", "", "", "inspector", "OVS"
    }
    {
        label = $9
        for (i = 10; i <= NF; i++) label = label " " $i
        row(label, $2, $3, $4, $5, $6, $7, $8)
        if ($1 == "-") next
        for (i = 2; i <= 7; i++) {
            if ($1 == "long") long[i] += $i
            all[i] += $i
        }
    }
    END {
        row("long flows", long[2], long[3], long[4], long[5], long[6],
            long[7], 99)
        row("the whole mix", all[2], all[3], all[4], all[5], all[6], all[7], 0)
    }'
cat <<EOF
  Target: >= 99% bypassed for long flows; short flows are reported only.
  packets: sent and received by the VM on its interface (static ARP, no
    IPv6: nothing but its flows), with any that OVS then dropped under load.
    inspector: packets OVS handed to the inspector (tcpdump on fs-insp0;
    with DPDK, flowsteer/flows' count: the port has no kernel device).
    nDPI: packets the inspector handed to nDPI.  flowsteer/flows: what
    flowsteerd says (--json: packets_inspector, packets_ovs); * where its
    inspector count is off by over 1% of the packets, or its OVS count is
    over 1% more than bypassed.  (Less can be right: packets OVS dropped
    matched no rule.)
  iperf3 (b): all packets of insp during the (b) runs (data and control
    connections, the omitted second too); its data connections alone took
    $data_via packets to the inspector and $data_dpi to nDPI.
EOF
[ "$missed" -eq 0 ] || echo "  warning: $missed inspected connections" \
    "created no flow in the inspector"
[ "${table_full:-0}" -eq 0 ] || echo "  warning: the inspector's flow" \
    "table was full $table_full times"
echo "  the appliance after the mix (one started again during the run," \
    "killed as hung under the load, say, counts its flows from its start):"
sed 's/^/    /' "$tmp/appliance-status"
exit 0
