#!/bin/bash
# The AF_XDP port backend as a bump in the wire, on the topology of
# tests/port-lib.sh (fs-portfwd in a middle namespace between two veth
# peers; a direct veth pair beside it).
#
# Checks, in the default (auto) mode, which on veth is native XDP with a
# copy, and in forced generic (XDP_SKB) mode: the mode the port logs; ping,
# a VLAN-tagged frame keeping its tag, that what the middle namespace sends
# out of its ports is not forwarded, HTTP (4 MB, intact) and iperf3 TCP
# through it; that the counters add up; that no XDP program is left on
# the interfaces after a clean stop.  Then kills fs-portfwd with -9, which
# leaves the program attached, and checks that the next fs-portfwd adopts
# it, forwards, and removes it when it stops.  Bad input: a missing
# interface, an unknown mode, a bad frame size, an afpacket-only option,
# zero copy forced where the driver has none, and a second port on an
# interface already in use.
#
# Figures (not checked): ping round trip, iperf3 TCP and 64-byte UDP
# packets/s through fs-portfwd with afxdp and with afpacket, on the same
# veths in the same run.
PORT_NS_PREFIX=fx
. "${top_srcdir:-$(dirname "$0")/..}/tests/port-lib.sh"

"$FWD" --help | grep -q ' afxdp' ||
    skip "fs-portfwd built without afxdp (needs libxdp-dev and libbpf-dev)"

# xdp_prog NS IF: prints the XDP program attached to IF, if any.
xdp_prog() { ip -n "$1" -d link show dev "$2" | grep -o 'prog/xdp.*'; }
no_xdp_left() {
    local dev ok=0
    for dev in "${P}Ap" "${P}Bp"; do
        if xdp_prog "$NSM" "$dev"; then
            echo "  $dev still has an XDP program"
            ok=1
        fi
    done
    return $ok
}

# bad TAG EXPECTED_EXIT PATTERN ARGS...: runs fs-portfwd with ARGS in the
# middle, expecting that exit status and PATTERN on standard error.
bad() {
    local tag=$1 want=$2 pattern=$3 rc
    shift 3
    inm "$FWD" "$@" > "$tmp/$tag.out" 2> "$tmp/$tag.err"
    rc=$?
    sed 's/^/  /' "$tmp/$tag.err"
    [ "$rc" = "$want" ] || { echo "  exit $rc, want $want"; return 1; }
    grep -q -- "$pattern" "$tmp/$tag.err"
}

echo "== bad input"
check "missing interface: exit 1, ENODEV, named" \
    bad bad1 1 "${P}nosuch.*No such device" \
    --backend=afxdp "${P}nosuch" "${P}Bp"
check "unknown XDP mode: exit 2, explained" \
    bad bad2 2 "xdp-mode=bogus: want auto, generic, native or zerocopy" \
    --backend=afxdp --xdp-mode=bogus "${P}Ap" "${P}Bp"
check "frame size not a power of 2: explained" \
    bad bad3 1 "frame_size=3000: want a power of 2" \
    --backend=afxdp --frame-size=3000 "${P}Ap" "${P}Bp"
check "afpacket-only option: explained" \
    bad bad4 1 "are for afpacket only" \
    --backend=afxdp --tpacket-version=3 "${P}Ap" "${P}Bp"
# veth has native XDP but no zero copy: forcing it must fail, saying so.
check "zero copy on veth: refused, explained" \
    bad bad5 1 "cannot bind an AF_XDP socket to queue 0 in zero-copy mode" \
    --backend=afxdp --xdp-mode=zerocopy "${P}Ap" "${P}Bp"
check "no program left by failed opens" no_xdp_left
check "nothing passes without fs-portfwd" no_ping
ip -n "$NSA" neigh flush dev "${P}A"  # Forget the failed ARP.

# auto: whatever the driver has (veth: native, copy); generic: XDP_SKB.
for mode in auto generic; do
    echo "== through fs-portfwd, XDP mode $mode"
    start_fwd $mode -v --backend=afxdp --xdp-mode=$mode
    cat "$tmp/$mode.err"
    case $mode in
    auto) check "$mode: veth runs native XDP, copy mode" grep -q \
            "${P}Ap: afxdp port: XDP mode native (XDP_DRV), socket in copy" \
            "$tmp/$mode.err" ;;
    generic) check "$mode: generic XDP, copy mode" grep -q \
            "${P}Ap: afxdp port: XDP mode generic (XDP_SKB), socket in copy" \
            "$tmp/$mode.err" ;;
    esac
    check "$mode: XDP program attached while it runs" \
        xdp_prog "$NSM" "${P}Ap"
    if [ $mode = auto ]; then
        check "a second port on a busy interface: EBUSY, explained" \
            bad busy 1 "XDP program.*not libxdp's default\\|already has an AF_XDP socket" \
            --backend=afxdp --xdp-mode=generic "${P}Ap" "${P}Bp"
    fi
    forwarding_checks $mode
    check "$mode: no XDP program left after it stops" no_xdp_left
done

echo "== after kill -9"
start_fwd killed -v --backend=afxdp
check "killed: ping" ina ping -c 2 -i 0.2 -W 2 10.77.0.2
kill -KILL "$fwd_pid"
wait "$fwd_pid" 2>/dev/null
echo "  left behind: $(xdp_prog "$NSM" "${P}Ap")"
start_fwd reopened -v --backend=afxdp
cat "$tmp/reopened.err"
check "reopened: adopted the program left behind" \
    grep -q "${P}Ap: adopted a default AF_XDP program" "$tmp/reopened.err"
forwarding_checks reopened
check "reopened: no XDP program left after it stops" no_xdp_left

echo "== figures (not checked): afxdp against afpacket, same veths"
# figures NAME OPTIONS...: ping round trip, iperf3 TCP, and 64-byte UDP
# (what fs-portfwd forwarded while busy, what the receiver got) through
# fs-portfwd started with OPTIONS, on one line.
figures() {
    local name=$1 ms mbps=- fwd=- pps=- loss=-
    shift
    start_fwd "fig-$name" -v "$@"
    ms=$(rtt "$NSA" 10.77.0.2)
    if [ -n "$have_iperf" ]; then
        mbps=$(iperf_tcp 10.77.0.2)
        read -r pps loss < <(iperf_udp 10.77.0.2)
    fi
    stop_fwd
    fwd=$(sed -n 's/^total: .*active_pps=\([0-9]*\).*/\1/p' \
              "$tmp/fig-$name.out")
    echo "info: $name: ping ${ms:-?} ms, TCP ${mbps:-?} Mbit/s," \
         "64-byte UDP forwarded ${fwd:-?}/s, received ${pps:-?}/s" \
         "(${loss:-?}% lost)"
    sed -n "s/.*${P}Ap: afxdp port: \(XDP mode [^,]*, socket in [^ ]* mode\).*/info:   afxdp ran in \1/p" \
        "$tmp/fig-$name.err"
}
figures afxdp --backend=afxdp
figures afxdp-generic --backend=afxdp --xdp-mode=generic
figures afpacket --backend=afpacket
echo "info: direct veth pair: ping $(rtt "$NSA" 10.77.1.2) ms," \
     "TCP $( [ -n "$have_iperf" ] && iperf_tcp 10.77.1.2 5202) Mbit/s"

finish
