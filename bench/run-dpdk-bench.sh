#!/bin/bash
# run-dpdk-bench.sh: packets/s through the inspector appliance on OVS-DPDK
# (flowsteer-datapath=dpdk), against dpdk-testpmd --forward-mode=io on the
# same OVS-DPDK port, with the same generator, in the same run.
#
# A private OVS-DPDK (tests/ovs-lib.sh, OVS_DPDK=1) with flowsteerd's
# topology: br-int, br-sec and its inspector port fs-insp0, a
# dpdkvhostuserclient port.  The traffic comes from dpdk-testpmd
# --forward-mode=txonly (64-byte UDP packets) on a vhost-user port "gen" of
# br-int that flowsteerd inspects.  A rule of this script, above
# flowsteerd's, sends every packet of gen to the security bridge with
# flowsteerd's tag, so that the appliance sees every packet, as it does
# before Open vSwitch takes a flow over; a second one drops what comes
# back (counted).  The reference run replaces the appliance by dpdk-testpmd
# --forward-mode=io serving the same socket: the practical limit of this
# pipe.
#
#   judged    one UDP flow (testpmd's txonly): after its first packets the
#             appliance has judged it, and each packet is a table lookup
#             and a transmit (target >= 0.8x testpmd).
#   multiflow --txonly-multi-flow: the source address changes with every
#             packet, over 256 flows, each new to the inspector at first
#             and then judged like the one above.
#   classify  --forward-mode=flowgen over 1,048,576 flows (destination
#             addresses), more than the appliance's table holds, under a
#             policy that needs DPI (app=DNS is dropped): each packet is
#             the first of a flow the appliance does not know, so it is a
#             new flow, nDPI's first look, and the eviction of the least
#             recently seen flow: the most a packet can cost.  With one
#             worker, then two (flowsteer-workers=2).
#
# Figures: packets/s that came back to Open vSwitch from fs-insp0 (counted
# by the bench's drop rule where they come back to br-int), for each of BENCH_RUNS runs of BENCH_SECONDS,
# the median, the ratio against testpmd, and the appliance's CPU cycles
# per packet (its user and system time over the run, at the TSC rate of
# /proc/cpuinfo) next to testpmd's.  CPUs: OVS's PMD thread and the
# generator share CPU 0, the forwarder under test has CPU 1 (these
# machines have 2): read the ratios, not the absolute figures.
#
# Needs root, openvswitch-switch-dpdk, dpdk-dev (dpdk-testpmd) and 512 free
# hugepages.  Environment: BENCH_RUNS (3), BENCH_SECONDS (5), BENCH_MODES
# (the modes to run, default all four).
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

: "${BENCH_RUNS:=3}" "${BENCH_SECONDS:=5}"
FSD=${top_builddir:-.}/ovs-ext/flowsteerd
TESTPMD=$(command -v dpdk-testpmd) || skip "no dpdk-testpmd (apt-get install dpdk-dev)"
export OVS_DPDK=1 FS_DATAPATH=dpdk

fsd_require
ovs_lib_init
ovs_dpdk_usable || skip "$ovs_dpdk_why"
_ol_hugepages_release
_ol_hugepages_reserve 512 || skip "$ovs_dpdk_why"
ovs_start
ovs_add_bridge br-int
sockdir=$tmp/sock
mkdir -p "$sockdir"
vsctl add-port br-int gen -- set interface gen type=dpdkvhostuserclient \
    options:vhost-server-path="$sockdir/gen.sock" ofport_request=10 \
    external_ids:flowsteer-inspect=true external_ids:flowsteer-profile=bench ||
    fail "cannot add the generator's port"
cat > "$tmp/policy-dpi.conf" <<'EOF'
priority=100, profile=bench, app=DNS, actions=drop
priority=0, profile=bench, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-max-flows-per-port=0
fsd_start
wait_until 20 fsd_steering '[0-9]*' || fail "no steering"
wait_until 20 eval 'fsctl flowsteer/show | grep -q "inspector appliance: ready"' ||
    fail "the appliance is not ready"
patch=$(vsctl get Interface fs-patch-int ofport)
ofctl -O OpenFlow13 add-flow br-int "priority=65000,cookie=0xbe,in_port=10,actions=push_vlan:0x8100,set_field:$((4096 + 10))->vlan_vid,set_field:0->vlan_pcp,output:$patch" ||
    fail "cannot add the bench's rules"
ofctl -O OpenFlow13 add-flow br-int "priority=65000,cookie=0xbe,in_port=$patch,actions=drop"

tsc_hz=$(awk -F: '/^cpu MHz/ { printf "%d\n", $2 * 1e6; exit }' /proc/cpuinfo)
hz=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
# Packets back from the forwarder: the bench's drop rule on the patch port
# counts them (an interface's statistics start again with each vhost-user
# connection).
insp_rx() {
    ofctl -O OpenFlow13 dump-flows br-int "cookie=0xbe/-1,in_port=$patch" |
        sed -n 's/.*n_packets=\([0-9]*\).*/\1/p' | head -n 1
}

gen_pid=
# gen_start [TESTPMD OPTIONS...]: the generator, forwarding on CPU 0.
gen_start() {
    "$TESTPMD" -l 0,1 --main-lcore 1 --no-pci --in-memory --single-file-segments \
        -m 256 --no-telemetry --file-prefix="$OVS_LIB_PREFIX-gen" \
        --vdev="net_virtio_user0,path=$sockdir/gen.sock,server=1,queue_size=1024" -- \
        --forward-mode=txonly --auto-start --txpkts=64 --burst=32 \
        --total-num-mbufs=8192 --stats-period=3600 "$@" \
        < /dev/null > "$tmp/gen.log" 2>&1 &
    gen_pid=$!
    _ol_bg_all+=("$gen_pid")
}
gen_stop() {
    [ -z "$gen_pid" ] || { kill "$gen_pid" 2>/dev/null; wait "$gen_pid" 2>/dev/null; }
    gen_pid=
}

# measure NAME PID: packets/s back from fs-insp0 over BENCH_SECONDS, and
# PID's cycles per packet; prints "pps cycles".
measure() {
    local pid=$2 p0 p1 c0 c1 t0 t1
    sleep 2
    p0=$(insp_rx); c0=$(cpu_ticks "$pid"); t0=$EPOCHREALTIME
    sleep "$BENCH_SECONDS"
    p1=$(insp_rx); c1=$(cpu_ticks "$pid"); t1=$EPOCHREALTIME
    awk -v p=$((p1 - p0)) -v c=$((c1 - c0)) -v t0="$t0" -v t1="$t1" \
        -v hz="$hz" -v tsc="$tsc_hz" 'BEGIN {
            pps = p / (t1 - t0);
            printf "%d %d\n", pps, p ? c / hz * tsc / p : 0 }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

app_pid() { fsctl flowsteer/show | sed -n 's/^inspector appliance: ready, pid \([0-9]*\),.*/\1/p'; }

# configure MODE: the workers and policy of MODE, and its generator's
# options in ${opts[@]}.
configure() {
    local workers=1 policy=
    opts=()
    case $1 in
    multiflow) opts=(--txonly-multi-flow) ;;
    classify*)
        opts=(--forward-mode=flowgen --flowgen-flows=1048576)
        policy=$tmp/policy-dpi.conf
        [ "$1" = classify ] || workers=2
        ;;
    esac
    vsctl set Open_vSwitch . external_ids:flowsteer-workers=$workers
    if [ -n "$policy" ]; then
        vsctl set Open_vSwitch . external_ids:flowsteer-policy="$policy"
    else
        vsctl remove Open_vSwitch . external_ids flowsteer-policy
    fi
    wait_until 20 eval 'fsctl flowsteer/show | grep -q "^  workers: $workers,"' ||
        fail "the appliance does not run $workers workers"
}

modes=${BENCH_MODES:-judged multiflow classify classify-2w}
declare -A pps cyc
for mode in $modes; do
    configure "$mode"
    for run in $(seq 1 "$BENCH_RUNS"); do
        # The appliance.
        wait_until 20 eval '[ -n "$(app_pid)" ]' || fail "no appliance"
        gen_start "${opts[@]}"
        pid=$(app_pid)
        read -r p c < <(measure appliance "$pid")
        gen_stop
        # An appliance restarted meanwhile is a bug to look at (three were
        # found so), and its figures are another process's: no figures.
        [ "$(app_pid)" = "$pid" ] || {
            fsctl flowsteer/show | grep "^inspector appliance" >&2
            fail "$mode run $run: the appliance was restarted during the run" \
                 "(pid $pid, now $(app_pid))"
        }
        pps[$mode,app]+="$p "; cyc[$mode,app]+="$c "
        echo "  $mode run $run: appliance $p packets/s, $c cycles/packet"
        # Where packets were lost: OVS's transmit to the appliance (its
        # ring full), the appliance's own counters.
        echo "    fs-insp0 in OVS: $(vsctl get Interface fs-insp0 statistics |
            tr -d '{}' | tr ',' '\n' | grep -E 'tx_(packets|dropped|retries)|rx_packets' |
            tr -d ' ' | tr '\n' ' ')"
        fsctl flowsteer/show | grep -E "^inspector (port fs-insp0|appliance)|^  workers" |
            sed 's/^/    /'

        # testpmd in its place, on the same socket: flowsteerd stopped
        # (its rules stay in Open vSwitch), the appliance with it.
        kill -9 "$(fsd_pid)"
        wait_until 10 eval '! fsctl version >/dev/null 2>&1'
        sleep 0.5
        rm -f "$OVS_DIR/flowsteer-vhost/fs-insp0.sock"
        "$TESTPMD" -l 0,1 --main-lcore 0 --no-pci --in-memory --single-file-segments \
            -m 256 --no-telemetry --file-prefix="$OVS_LIB_PREFIX-io" \
            --vdev="net_virtio_user1,path=$OVS_DIR/flowsteer-vhost/fs-insp0.sock,server=1,queue_size=1024" -- \
            --forward-mode=io --auto-start --burst=32 --total-num-mbufs=8192 \
            --stats-period=3600 < /dev/null > "$tmp/io.log" 2>&1 &
        io_pid=$!
        _ol_bg_all+=("$io_pid")
        wait_until 10 eval '[ "$(vsctl get Interface fs-insp0 link_state)" = up ]' ||
            fail "testpmd io did not connect"
        gen_start "${opts[@]}"
        read -r p c < <(measure testpmd "$io_pid")
        gen_stop
        kill "$io_pid"; wait "$io_pid" 2>/dev/null
        pps[$mode,io]+="$p "; cyc[$mode,io]+="$c "
        echo "  $mode run $run: testpmd io $p packets/s, $c cycles/packet"
        rm -f "$OVS_DIR/flowsteer-vhost/fs-insp0.sock"
        fsd_start
        wait_until 20 eval 'fsctl flowsteer/show 2>/dev/null | grep -q "inspector appliance: ready"' ||
            fail "the appliance is not ready again"
        configure "$mode"
    done
done

echo
echo "== Forwarding through fs-insp0 (vhost-user), 64-byte UDP, medians of $BENCH_RUNS runs of ${BENCH_SECONDS}s"
printf '%-11s %16s %16s %8s %18s %18s\n' traffic "appliance pkt/s" "testpmd pkt/s" ratio "appliance cyc/pkt" "testpmd cyc/pkt"
for mode in $modes; do
    a=$(echo ${pps[$mode,app]} | tr ' ' '\n' | median)
    b=$(echo ${pps[$mode,io]} | tr ' ' '\n' | median)
    ca=$(echo ${cyc[$mode,app]} | tr ' ' '\n' | median)
    cb=$(echo ${cyc[$mode,io]} | tr ' ' '\n' | median)
    printf '%-11s %16s %16s %8s %18s %18s\n' "$mode" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2fx", b ? a / b : 0 }')" "$ca" "$cb"
done
echo "(target for judged: >= 0.80x; OVS's PMD thread and the generator share CPU 0;"
echo " classify-2w: two workers, the appliance's main thread and its second"
echo " worker share CPU 1 with nothing else, and $(nproc) cores in all)"
fsctl flowsteer/show | grep -E "inspector port|appliance flows|unsent" | sed 's/^/  /'
appctl dpif-netdev/pmd-stats-show | sed 's/^/  /' | head -20
