#!/bin/bash
# run-ports-bench.sh: AF_XDP against AF_PACKET as the inspector's port
# backend, on the same veth traffic in the same run: fs-portfwd forwards
# between two veth pairs (the topology of tests/port-lib.sh: nsA -- nsM --
# nsB), and iperf3 sends 64-byte UDP payloads as fast as it can for 2 s,
# then TCP for 2 s.  Backends alternate, BENCH_RUNS times (default 5);
# the table has the medians and the ratio afxdp / afpacket, with a direct
# veth pair beside them as the reference (no forwarder at all).
#
# Figures: "forwarded" is fs-portfwd's own packets/s while busy (its
# active_pps), "received" what the iperf3 server got per second, TCP the
# Mbit/s received.  All of it shares the machine's cores: the iperf3
# client and server, the kernel's veth work and fs-portfwd; read the
# ratios.  fs-portfwd runs one thread, as each appliance worker does.
#
# Needs root, iperf3, and fs-portfwd built with afxdp (libxdp-dev).
PORT_NS_PREFIX=fb
. "${top_srcdir:-$(dirname "$0")/..}/tests/port-lib.sh"

: "${BENCH_RUNS:=5}"
"$FWD" --help | grep 'known:' | grep -qw afxdp ||
    skip "fs-portfwd built without afxdp (needs libxdp-dev and libbpf-dev)"
[ -n "$have_iperf" ] || skip "no iperf3"

backends="afpacket afxdp"
declare -A fwd rx tcp mode
for run in $(seq 1 "$BENCH_RUNS"); do
    for b in $backends; do
        start_fwd "$b-$run" -v --backend="$b"
        read -r pps loss < <(iperf_udp 10.77.0.2)
        mbps=$(iperf_tcp 10.77.0.2)
        stop_fwd
        f=$(sed -n 's/^total: .*active_pps=\([0-9]*\).*/\1/p' \
                "$tmp/$b-$run.out")
        fwd[$b]+="${f:-0} "; rx[$b]+="${pps:-0} "; tcp[$b]+="${mbps:-0} "
        m=$(sed -n "s/.*${P}Ap: afxdp port: \(XDP mode [^,]*, socket in [^ ]* mode\).*/\1/p" \
                "$tmp/$b-$run.err" | head -n 1)
        [ -z "$m" ] || mode[$b]=$m
        echo "  run $run $b: forwarded ${f:-?}/s, received ${pps:-?}/s" \
             "(${loss:-?}% lost), TCP ${mbps:-?} Mbit/s"
    done
    read -r pps loss < <(iperf_udp 10.77.1.2 5202)
    rx[direct]+="${pps:-0} "
    tcp[direct]+="$(iperf_tcp 10.77.1.2 5202) "
done

median() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", b ? a / b : 0 }'; }

echo
echo "== fs-portfwd between two veth pairs, medians of $BENCH_RUNS runs, $(nproc) cores"
printf '%-12s %16s %16s %12s\n' backend "forwarded pkt/s" "received pkt/s" "TCP Mbit/s"
for b in $backends; do
    printf '%-12s %16s %16s %12s\n' "$b" "$(echo ${fwd[$b]} | median)" \
        "$(echo ${rx[$b]} | median)" "$(echo ${tcp[$b]} | median)"
done
printf '%-12s %16s %16s %12s\n' "direct veth" - "$(echo ${rx[direct]} | median)" \
    "$(echo ${tcp[direct]} | median)"
printf '%-12s %16s %16s %12s\n' "afxdp/afpkt" \
    "$(ratio "$(echo ${fwd[afxdp]} | median)" "$(echo ${fwd[afpacket]} | median)")" \
    "$(ratio "$(echo ${rx[afxdp]} | median)" "$(echo ${rx[afpacket]} | median)")" \
    "$(ratio "$(echo ${tcp[afxdp]} | median)" "$(echo ${tcp[afpacket]} | median)")"
echo "afxdp ran in ${mode[afxdp]:-an unreported mode}"
finish
