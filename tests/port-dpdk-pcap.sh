#!/bin/bash
# The dpdk port backend with net_pcap devices: fs-portfwd forwards real
# captures from the nDPI data set between two net_pcap ports, and what
# each port writes (tx_pcap) must be, packet for packet and byte for byte,
# what the other read (rx_pcap):
#
#   one way:    443-curl.pcap -> A -> fs-portfwd -> B -> b-out.pcap
#   both ways:  443-curl.pcap -> A ... B -> b-out.pcap, and
#               ssh.pcap      -> B ... A -> a-out.pcap, at once
#   small mbufs (--frame-size=512, 384 bytes of data): longer frames
#               arrive chained, are returned truncated and are dropped on
#               transmit, counted; the shorter ones still go through.
#
# No hugepages (--no-huge), no PCI, no hardware, no root needed.  Each run
# of fs-portfwd has its own EAL file prefix (fsdpdk-PID-N); its run
# directory must hold nothing when it exits, and is removed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

FWD=$top_builddir/dpdk-pmd/fs-portfwd
PCAPS=$NDPI_DATA/pcap
[ -x "$FWD" ] || skip "dpdk-pmd/fs-portfwd not built"
"$FWD" --help | grep -q 'known:.* dpdk' || skip "built without DPDK"
[ -r "$PCAPS/443-curl.pcap" ] && [ -r "$PCAPS/ssh.pcap" ] ||
    skip "no nDPI captures in $PCAPS"
PY=$(find_python) || skip "no python3"

run_dirs=()
cleanup() {
    local d
    for d in "${run_dirs[@]}"; do
        rm -rf "$d"
    done
    rmdir /var/run/dpdk 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

# pcap_cmp IN OUT [MAXLEN]: OUT holds exactly the frames of IN (those of
# at most MAXLEN bytes, if given), in order, byte for byte.
cat > "$tmp/pcap-cmp.py" <<'EOF'
import struct, sys

def frames(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    order = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    off, out = 24, []
    while off + 16 <= len(data):
        caplen, wirelen = struct.unpack(order + 'II', data[off + 8:off + 16])
        if caplen != wirelen:
            sys.exit('%s: a truncated frame' % path)
        out.append(data[off + 16:off + 16 + caplen])
        off += 16 + caplen
    return out

want, got = frames(sys.argv[1]), frames(sys.argv[2])
if len(sys.argv) > 3:
    want = [f for f in want if len(f) <= int(sys.argv[3])]
for i, (w, g) in enumerate(zip(want, got)):
    if w != g:
        sys.exit('frame %d differs (%d bytes in, %d out)' % (i, len(w), len(g)))
if len(want) != len(got):
    sys.exit('%d frames in, %d out' % (len(want), len(got)))
print('%d frames, identical' % len(got))
EOF
pcap_cmp() { "$PY" "$tmp/pcap-cmp.py" "$@"; }

# fwd NAME DEVARGS_A DEVARGS_B [OPTIONS...]: runs fs-portfwd for 2 s
# between two net_pcap ports; its output in $tmp/NAME.out.
n_runs=0
fwd() {
    local name=$1 a=$2 b=$3 prefix
    shift 3
    n_runs=$((n_runs + 1))
    prefix=fsdpdk-$$-$n_runs
    run_dirs+=("/var/run/dpdk/$prefix" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix")
    "$FWD" --backend=dpdk --seconds=2 --dpdk-mem=128 \
        --dpdk-eal-args="--no-huge --no-shconf --no-pci --no-telemetry
                         --file-prefix=$prefix" \
        --dpdk-devargs="$a" --dpdk-devargs="$b" "$@" pa pb \
        > "$tmp/$name.out" 2> "$tmp/$name.err"
    local status=$?
    cat "$tmp/$name.out"
    grep -v '^fs-portfwd: dpdk: EAL: \|^fs-portfwd: p[ab]: ' \
        "$tmp/$name.err" >&2
    return $status
}

# field NAME LINE KEY: the value of KEY= on the line of $tmp/NAME.out
# that starts with LINE.
field() {
    sed -n "s/^$2: .*\\b$3=\\([0-9]*\\).*/\\1/p" "$tmp/$1.out"
}
is() { [ "$(field "$1" "$2" "$3")" = "$4" ]; }

# The run directory of the last run has nothing left in it.
run_dir_empty() {
    local d
    for d in "${run_dirs[@]: -2}"; do
        if [ -d "$d" ] && [ -n "$(ls -A "$d")" ]; then
            ls -la "$d"
            return 1
        fi
    done
}

in1=$PCAPS/443-curl.pcap        # 109 frames, 60 to 1506 bytes.
in2=$PCAPS/ssh.pcap             # 258 frames, 60 to 1346 bytes.

check "one way: fs-portfwd runs" \
    fwd one "net_pcap0,rx_pcap=$in1,tx_pcap=$tmp/one-a.pcap" \
        "net_pcap1,tx_pcap=$tmp/one-b.pcap"
check "one way: B sent what A read" pcap_cmp "$in1" "$tmp/one-b.pcap"
check "one way: A sent nothing (a pcap header only)" \
    test "$(stat -c %s "$tmp/one-a.pcap")" = 24
check "one way: 109 received, forwarded, sent" \
    eval 'is one pa rx_packets 109 && is one pa-\>pb forwarded 109 &&
          is one pb tx_packets 109 && is one pa-\>pb dropped 0 &&
          is one pb tx_dropped 0 && is one pa rx_errors 0'
check "one way: the run directory is empty" run_dir_empty

check "both ways: fs-portfwd runs" \
    fwd both "net_pcap0,rx_pcap=$in1,tx_pcap=$tmp/both-a.pcap" \
        "net_pcap1,rx_pcap=$in2,tx_pcap=$tmp/both-b.pcap"
check "both ways: B sent what A read" pcap_cmp "$in1" "$tmp/both-b.pcap"
check "both ways: A sent what B read" pcap_cmp "$in2" "$tmp/both-a.pcap"
check "both ways: counters add up" \
    eval 'is both pa rx_packets 109 && is both pb tx_packets 109 &&
          is both pb rx_packets 258 && is both pa tx_packets 258 &&
          is both total forwarded 367'

small=$("$PY" - "$in1" <<'EOF'
import struct, sys
d = open(sys.argv[1], 'rb').read()
off, n = 24, 0
while off + 16 <= len(d):
    cl = struct.unpack('<I', d[off + 8:off + 12])[0]
    n += cl <= 384
    off += 16 + cl
print(n)
EOF
)
check "small mbufs: fs-portfwd runs" \
    fwd small "net_pcap0,rx_pcap=$in1,tx_pcap=$tmp/small-a.pcap" \
        "net_pcap1,tx_pcap=$tmp/small-b.pcap" --frame-size=512
check "small mbufs: B sent the $small frames of at most 384 bytes" \
    pcap_cmp "$in1" "$tmp/small-b.pcap" 384
check "small mbufs: the others were truncated and dropped, counted" \
    eval 'is small pa rx_packets 109 &&
          is small pa rx_errors $((109 - small)) &&
          is small pb tx_dropped $((109 - small)) &&
          is small pb tx_packets $small'

check "bad devargs: a clear error" \
    eval '! fwd bad "net_nosuchdriver0" "net_pcap1,tx_pcap=/dev/null" &&
          grep -q "cannot probe DPDK device \"net_nosuchdriver0\"" \
              "$tmp/bad.err"'
check "no EAL arguments: a clear error" \
    eval '! "$FWD" --backend=dpdk --dpdk-devargs=net_ring0 pa pb \
              > /dev/null 2> "$tmp/noeal.err" &&
          grep -q "no EAL arguments were given" "$tmp/noeal.err"'
finish
