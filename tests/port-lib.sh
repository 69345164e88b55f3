# Shared by the port backend tests (tests/port-afpacket.sh,
# tests/port-afxdp.sh): source it after setting PORT_NS_PREFIX, two
# letters that no other test's namespaces start with.  It sources lib.sh,
# skips without root or the tools, builds the topology
#
#   nsA: PA 10.77.0.1/24 --- PAp  [nsM: fs-portfwd PAp PBp]  PBp --- PB nsB
#        PC 10.77.1.1/24 ------------ direct veth ------------ PD 10.77.1.2
#
# in namespaces named after a per-run prefix, removed by the EXIT trap
# even when the test fails, starts an HTTP server and iperf3 servers in
# nsB, and defines the helpers below (start_fwd, stop_fwd, counter,
# counters_add_up, send_frame, vlan_frame, outgoing_not_forwarded,
# http_get, iperf_tcp, iperf_udp, rtt, forwarding_checks).
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
case :$PATH: in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

FWD=$top_builddir/dpdk-pmd/fs-portfwd
[ -x "$FWD" ] || skip "dpdk-pmd/fs-portfwd not built"
[ "$(id -u)" -eq 0 ] || skip "needs root (network namespaces, raw sockets)"
for prog in ip ping ethtool curl timeout sha256sum; do
    command -v "$prog" >/dev/null || skip "no $prog"
done
PY=$(find_python) || skip "no python3"
ip netns list >/dev/null 2>&1 || skip "'ip netns' does not work here"

pids=()                         # background processes, stopped at exit
nss=()                          # namespaces this run created

cleanup() {
    local pid ns
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null
    done
    # Anything else still in our namespaces was started by this test.
    for ns in "${nss[@]}"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do
            kill -KILL "$pid" 2>/dev/null
        done
        ip netns del "$ns" 2>/dev/null
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds.
wait_until() {
    local i n=$(( $1 * 10 ))
    shift
    for (( i = 0; i <= n; i++ )); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

# Claim a prefix by creating its first namespace ('ip netns add' fails if
# the name exists, so concurrent runs never share one).
P=
for i in $(seq 1 50); do
    p=$(printf '%s%04x' "$PORT_NS_PREFIX" \
               $(( (RANDOM ^ ($$ << 3) ^ i) & 0xffff )))
    ip netns list | grep -q "^$p-" && continue
    ip netns add "$p-m" 2>/dev/null && { P=$p; break; }
done
[ -n "$P" ] || skip "cannot create a network namespace"
NSM=$P-m NSA=$P-a NSB=$P-b
nss+=("$NSM")
for ns in "$NSA" "$NSB"; do
    ip netns add "$ns" || fail "ip netns add $ns"
    nss+=("$ns")
done
# For foreground commands only: in the background, $! would be a subshell.
ina() { ip netns exec "$NSA" "$@"; }
inb() { ip netns exec "$NSB" "$@"; }
inm() { ip netns exec "$NSM" "$@"; }

# Interfaces.  Offloads: the hosts compute their checksums and send
# wire-sized frames (no TSO); the middle does not aggregate (no GRO).
ip link add "${P}A" netns "$NSA" type veth peer name "${P}Ap" netns "$NSM" &&
ip link add "${P}B" netns "$NSB" type veth peer name "${P}Bp" netns "$NSM" &&
ip link add "${P}C" netns "$NSA" type veth peer name "${P}D" netns "$NSB" ||
    fail "cannot create veth pairs"
setup_host() {                  # NS IF ADDR DIRECT_IF DIRECT_ADDR
    ip -n "$1" link set lo up &&
    ip -n "$1" link set "$2" up &&
    ip -n "$1" addr add "$3" dev "$2" &&
    ip -n "$1" link set "$4" up &&
    ip -n "$1" addr add "$5" dev "$4" &&
    ip netns exec "$1" ethtool -K "$2" tx off >/dev/null &&
    ip netns exec "$1" ethtool -K "$4" tx off >/dev/null
}
setup_host "$NSA" "${P}A" 10.77.0.1/24 "${P}C" 10.77.1.1/24 &&
setup_host "$NSB" "${P}B" 10.77.0.2/24 "${P}D" 10.77.1.2/24 ||
    fail "cannot set up the host namespaces"
inm sysctl -qw net.ipv6.conf.all.disable_ipv6=1
for dev in "${P}Ap" "${P}Bp"; do
    ip -n "$NSM" link set "$dev" up &&
    inm ethtool -K "$dev" gro off tso off gso off >/dev/null ||
        fail "cannot set up $dev"
done

# Servers in nsB: a file over HTTP, and iperf3 on both paths.
mkdir -p "$tmp/www"
head -c 4000000 /dev/urandom > "$tmp/www/blob"
want_sum=$(sha256sum < "$tmp/www/blob")
ip netns exec "$NSB" "$PY" -m http.server --bind 10.77.0.2 \
    --directory "$tmp/www" 8000 > "$tmp/http.log" 2>&1 &
pids+=($!)
have_iperf=
if command -v iperf3 >/dev/null; then
    have_iperf=1
    ip netns exec "$NSB" iperf3 -s -B 10.77.0.2 > "$tmp/iperf-s.log" 2>&1 &
    pids+=($!)
    ip netns exec "$NSB" iperf3 -s -B 10.77.1.2 -p 5202 \
        > "$tmp/iperf-s2.log" 2>&1 &
    pids+=($!)
else
    echo "no iperf3: no throughput figures"
fi

fwd_pid=
# start_fwd TAG [OPTIONS]: runs fs-portfwd in the middle; its output goes
# to $tmp/TAG.out and TAG.err.
start_fwd() {
    local tag=$1
    shift
    ip netns exec "$NSM" "$FWD" "$@" "${P}Ap" "${P}Bp" \
        > "$tmp/$tag.out" 2> "$tmp/$tag.err" &
    fwd_pid=$!
    pids+=("$fwd_pid")
    wait_until 5 grep -qs '^fs-portfwd: forwarding' "$tmp/$tag.out" || {
        cat "$tmp/$tag.err"
        fail "fs-portfwd $* did not start"
    }
}
# stop_fwd: SIGTERM, then wait for it to print its counters and exit 0.
stop_fwd() {
    kill -TERM "$fwd_pid" && wait "$fwd_pid"
}

# counter TAG NAME KEY: a counter from fs-portfwd's output.
counter() {
    sed -n "s/^$2: .*\\b$3=\\([0-9]*\\).*/\\1/p" "$tmp/$1.out"
}

# counters_add_up TAG: every packet received in one direction was sent in
# the other, fs-portfwd dropped nothing and nothing failed.  Drops in the
# kernel (rx_dropped: the receive ring was full while iperf3 pushed faster
# than fs-portfwd forwards, on two shared cores) are capacity, not a fault:
# they are printed, not checked.
counters_add_up() {
    local ok=0 a=${P}Ap b=${P}Bp src dst key v rx tx fwd
    for src in "$a" "$b"; do
        [ "$src" = "$a" ] && dst=$b || dst=$a
        rx=$(counter "$1" "$src" rx_packets)
        tx=$(counter "$1" "$dst" tx_packets)
        fwd=$(counter "$1" "$src->$dst" forwarded)
        if [ -z "$rx" ] || [ "$rx" != "$tx" ] || [ "$rx" != "$fwd" ]; then
            echo "  $src->$dst: rx $rx, forwarded $fwd, tx $tx"
            ok=1
        fi
        for key in dropped csum_partial; do
            v=$(counter "$1" "$src->$dst" $key)
            [ "$v" = 0 ] || { echo "  $src->$dst: $key=$v"; ok=1; }
        done
        v=$(counter "$1" "$src" rx_dropped)
        [ "$v" = 0 ] || echo "  info: $src: rx_dropped=$v (ring full)"
        for key in rx_errors tx_dropped tx_errors; do
            v=$(counter "$1" "$src" $key)
            [ "$v" = 0 ] || { echo "  $src: $key=$v"; ok=1; }
        done
    done
    return $ok
}

at_least() {                    # TAG NAME KEY MIN
    local v
    v=$(counter "$1" "$2" "$3")
    [ -n "$v" ] && [ "$v" -ge "$4" ] || { echo "  $2 $3=$v < $4"; false; }
}

no_ping() { ! ina ping -c 1 -W 1 10.77.0.2 >/dev/null; }

http_get() {
    local got
    got=$(ina timeout 20 curl -sf --max-time 15 http://10.77.0.2:8000/blob |
          sha256sum)
    [ "$got" = "$want_sum" ]
}

# send_frame NS IF MARKER [VLAN [SECONDS]]: sends, from interface IF in
# namespace NS, broadcast frames of EtherType 0x88b5 carrying MARKER,
# tagged with VLAN if given (0: none), three every 0.2 s, and reports what
# nsB's PB receives within SECONDS (default 10): returns 0 if a frame
# arrived (with the VLAN tag, if any), 1 if it arrived without it, 2 if
# none arrived.  (A loaded machine may schedule fs-portfwd late, and a
# ring still full from the last test drops frames: one try is not enough.)
#
# The receiving kernel takes a VLAN tag out of the frame and reports it
# beside it, to nsB's socket here as to fs-portfwd's: fs-portfwd must have
# put it back.  (Raw sockets, so no 8021q module is needed.)
send_frame() {
    local rx rc
    ip netns exec "$NSB" "$PY" - "${P}B" "$3" "${4:-0}" "${5:-10}" \
        > "$tmp/frame.rx" 2>&1 <<'EOF' &
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((sys.argv[1], 0))
s.setsockopt(263, 8, 1)                 # SOL_PACKET, PACKET_AUXDATA
marker, vlan = sys.argv[2].encode(), int(sys.argv[3])
print("ready", flush=True)
deadline = time.time() + float(sys.argv[4])
while True:
    s.settimeout(max(deadline - time.time(), 0.01))
    try:
        data, anc, flags, addr = s.recvmsg(4096, socket.CMSG_SPACE(20))
    except socket.timeout:
        print("nothing received")
        sys.exit(2)
    if data[12:14] != b"\x88\xb5" or not data[14:].startswith(marker):
        continue
    tag = None
    for level, typ, aux in anc:
        status, = struct.unpack_from("I", aux, 0)
        tci, tpid = struct.unpack_from("HH", aux, 16)
        if level == 263 and typ == 8 and status & 0x10:
            tag = tci & 0xfff
    print("received, vlan %s" % tag)
    sys.exit(0 if tag == (vlan or None) else 1)
EOF
    rx=$!
    pids+=("$rx")
    wait_until 5 grep -qs ready "$tmp/frame.rx" || return 3
    ip netns exec "$1" "$PY" - "$2" "$3" "${4:-0}" "$tmp/frame.rx" <<'EOF'
import socket, struct, sys, time
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((sys.argv[1], 0))
vlan = int(sys.argv[3])
tag = struct.pack("!HH", 0x8100, vlan) if vlan else b""
frame = (b"\xff" * 6 + b"\x02\x00\x00\x00\x00\x01" + tag
         + b"\x88\xb5" + sys.argv[2].encode().ljust(46, b"."))
for i in range(300):                    # Until the receiver is done.
    for j in range(3):
        s.send(frame)
    time.sleep(0.2)
    if "received" in open(sys.argv[4]).read():
        break
EOF
    wait "$rx"
    rc=$?
    sed 's/^/  /' "$tmp/frame.rx"
    return $rc
}
vlan_frame() { send_frame "$NSA" "${P}A" fsvlan 100; }
# A frame that the middle namespace itself sends out of PAp is outgoing
# there: fs-portfwd must not read it and forward it to nsB.
outgoing_not_forwarded() {
    send_frame "$NSM" "${P}Ap" fsout 0 2
    [ $? = 2 ]
}

# iperf_tcp SERVER [PORT]: prints the Mbit/s received in 2 s, or fails.
iperf_tcp() {
    ina timeout 15 iperf3 -c "$1" -p "${2:-5201}" -t 2 -J \
        > "$tmp/iperf.json" 2>&1 || { cat "$tmp/iperf.json" >&2; return 1; }
    "$PY" -c '
import json, sys
e = json.load(open(sys.argv[1]))["end"]
print("%.0f" % (e["sum_received"]["bits_per_second"] / 1e6))' \
        "$tmp/iperf.json"
}

# iperf_udp SERVER [PORT]: 64-byte UDP payloads as fast as iperf3 goes
# for 2 s; prints the packets per second the server received and the loss
# in %.
iperf_udp() {
    ina timeout 15 iperf3 -c "$1" -p "${2:-5201}" -u -b 0 -l 64 -t 2 -J \
        > "$tmp/udp.json" 2>&1 || { cat "$tmp/udp.json" >&2; return 1; }
    "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))["end"]["sum"]
print("%.0f %.1f" % ((s["packets"] - s["lost_packets"]) / s["seconds"],
                     s["lost_percent"]))' "$tmp/udp.json"
}

check "HTTP server up" \
    wait_until 10 inb curl -sf -o /dev/null --max-time 1 http://10.77.0.2:8000/

# rtt NS ADDR: the average ping round trip in ms.
rtt() {
    ip netns exec "$1" ping -q -c 10 -i 0.05 -W 2 "$2" |
        sed -n 's|^rtt [^=]*= [^/]*/\([^/]*\)/.*|\1|p'
}

# forwarding_checks TAG: with fs-portfwd started as start_fwd TAG, checks
# ping, a VLAN-tagged frame, that what the middle sends is not forwarded,
# HTTP (and iperf3 TCP, printed) through it, then stops it and checks its
# counters.
forwarding_checks() {
    local mode=$1 mbps
    check "$mode: ping" ina ping -c 3 -i 0.2 -W 2 10.77.0.2
    check "$mode: a VLAN-tagged frame keeps its tag" vlan_frame
    check "$mode: what the middle sends out of PAp is not forwarded" \
        outgoing_not_forwarded
    check "$mode: HTTP GET of 4 MB, intact" http_get
    if [ -n "$have_iperf" ]; then
        mbps=$(iperf_tcp 10.77.0.2)
        check "$mode: iperf3 TCP" test -n "$mbps"
        echo "info: iperf3 TCP through fs-portfwd ($mode): ${mbps:-?} Mbit/s"
    fi
    check "$mode: fs-portfwd stops on SIGTERM" stop_fwd
    cat "$tmp/$mode.out"
    check "$mode: counters add up, no errors" \
        counters_add_up $mode
    # The 4 MB from nsB, in frames of at most 1514 bytes.
    check "$mode: counters saw the traffic" \
        at_least $mode "${P}Bp" rx_packets 2700
}
