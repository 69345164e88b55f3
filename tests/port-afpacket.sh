#!/bin/bash
# The AF_PACKET port backend as a bump in the wire: fs-portfwd forwards
# between two veth peers in a middle namespace, and two "hosts" talk
# through it:
#
#   nsA: PA 10.77.0.1/24 --- PAp  [nsM: fs-portfwd PAp PBp]  PBp --- PB nsB
#        PC 10.77.1.1/24 ------------ direct veth ------------ PD 10.77.1.2
#
# Checks ping, a VLAN-tagged frame, TCP (HTTP and, if present, iperf3)
# through it, with the transmit ring and with the sendmmsg() fallback; that
# it does not forward what the middle namespace itself sends out of its
# ports; that its counters add up (every packet received in one direction
# was sent in the other, nothing dropped by fs-portfwd, nothing in error);
# and clear errors for a missing interface and an unknown backend.  Prints
# throughput through fs-portfwd against the direct veth pair, round trip
# times, and packets per second.
#
# The topology and the helpers are tests/port-lib.sh's, shared with
# tests/port-afxdp.sh: everything lives in namespaces named after a
# per-run prefix, removed by the EXIT trap even when the test fails.
PORT_NS_PREFIX=fp
. "${top_srcdir:-$(dirname "$0")/..}/tests/port-lib.sh"

echo "== bad input"
inm "$FWD" "${P}nosuch" "${P}Bp" > "$tmp/bad.out" 2> "$tmp/bad.err"
check "missing interface: exit 1" test $? = 1
check "missing interface: ENODEV, named" \
    grep -q "${P}nosuch.*No such device" "$tmp/bad.err"
inm "$FWD" --backend=bogus "${P}Ap" "${P}Bp" > "$tmp/bad2.out" \
    2> "$tmp/bad2.err"
check "unknown backend: exit 1" test $? = 1
check "unknown backend: named, with the known ones" \
    grep -q 'unknown port backend "bogus" (known: afpacket' "$tmp/bad2.err"
inm "$FWD" --frame-size=100 "${P}Ap" "${P}Bp" > "$tmp/bad3.out" \
    2> "$tmp/bad3.err"
check "bad frame size: explained" \
    grep -q "frame_size=100: want" "$tmp/bad3.err"
inm "$FWD" --block-size=8192 "${P}Ap" "${P}Bp" > "$tmp/bad4.out" \
    2> "$tmp/bad4.err"
check "block size without TPACKET_V3: explained" \
    grep -q "block_size and block_timeout_ms are for tpacket_version=3" \
    "$tmp/bad4.err"
inm "$FWD" --tpacket-version=1 "${P}Ap" "${P}Bp" > "$tmp/bad5.out" \
    2> "$tmp/bad5.err"
check "TPACKET version 1: explained" \
    grep -q "tpacket_version=1: want 2 or 3" "$tmp/bad5.err"
cat "$tmp/bad.err" "$tmp/bad2.err" "$tmp/bad3.err" "$tmp/bad4.err" \
    "$tmp/bad5.err"
check "nothing passes without fs-portfwd" no_ping
ip -n "$NSA" neigh flush dev "${P}A"  # Forget the failed ARP.

# ring: TPACKET_V2 rings (the default); sendmmsg: V2 receive ring, no
# transmit ring; v3: TPACKET_V3 rings.
for mode in ring sendmmsg v3; do
    echo "== through fs-portfwd, transmitting with $mode"
    opts=(-v)
    case $mode in
    sendmmsg) opts+=(--no-tx-ring) ;;
    v3) opts+=(--tpacket-version=3) ;;
    esac
    start_fwd $mode "${opts[@]}"
    cat "$tmp/$mode.err"
    case $mode in
    v3) check "$mode: TPACKET_V3 rings" grep -q 'TPACKET_V3 receive ring' \
            "$tmp/$mode.err" ;;
    *) check "$mode: TPACKET_V2 rings" grep -q 'TPACKET_V2 receive ring' \
            "$tmp/$mode.err" ;;
    esac
    forwarding_checks $mode
done

echo "== figures (not checked)"
start_fwd rtt
echo "info: ping round trip through fs-portfwd: $(rtt "$NSA" 10.77.0.2) ms," \
     "direct: $(rtt "$NSA" 10.77.1.2) ms"
stop_fwd
start_fwd rtt3 --tpacket-version=3
echo "info: ping round trip through fs-portfwd with TPACKET_V3" \
     "(1 ms block timeout): $(rtt "$NSA" 10.77.0.2) ms"
stop_fwd
if [ -n "$have_iperf" ]; then
    direct=$(iperf_tcp 10.77.1.2 5202)
    echo "info: iperf3 TCP over the direct veth pair: ${direct:-?} Mbit/s"
    start_fwd pps
    read -r pps loss < <(iperf_udp 10.77.0.2)
    stop_fwd
    echo "info: 64-byte UDP through fs-portfwd: the receiver got" \
         "${pps:-?} packets/s (${loss:-?}% lost on the way)"
    sed 's/^/info:   /' "$tmp/pps.out"
fi

finish
