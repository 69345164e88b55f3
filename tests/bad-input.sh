#!/bin/sh
# Bad input: crafted captures (tests/gen-bad-captures.py) through
# flowsteer-inspect --json, checking the parse-error counters.
#
# Each capture holds one good control packet (TCP SYN 10.0.0.1:1234 ->
# 10.0.0.2:80) and the bad packet(s) of its case.  For each case the test
# checks that flowsteer-inspect exits 0 (bad packets never make it fail)
# without crashing or a sanitizer report, that the summary carries every
# counter of FS_COUNTERS, that the expected counters have exactly the
# expected values, that every other err_* counter (and snaplen_cut,
# fragments, non_ip unless expected) stays 0, and that the control packet
# made its flow.
#
# Run by 'make check' with top_srcdir, top_builddir and PYTHON3 in the
# environment; by hand: tests/bad-input.sh from a built tree.
# Exit status: 0 pass, 1 fail, 77 skip (python3 or scapy missing).

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
inspect=$top_builddir/inspector/flowsteer-inspect
header=$top_srcdir/include/flowsteer/inspector.h
gen=$top_srcdir/tests/gen-bad-captures.py

# Expected counters per case, exact values.  Names not listed are checked
# too: every err_* counter, snaplen_cut, fragments and non_ip must be 0
# unless listed here, and flows_created must be at least 1 (the control).
#
# One bad packet moves exactly one err_* counter, so no case lists two.
# Cases that legitimately move more than one counter:
#   snaplen_cut   snaplen_cut (informational, not an error) and a second
#                 flow: the cut frame is parsed as far as it goes, and its
#                 IPv4 total length exceeds the captured bytes but not the
#                 wire length, so it is not err_ipv4_total_len.
#   frag_*        'fragments' counts every fragment, good or bad, beside
#                 the err_frag_* counter of the bad one.
#   frag_overlap  the two good fragments (the first carries the whole UDP
#                 header) make the UDP flow: flows_created 2.
#   tcp_doff_*    the bad data offset is counted, but the ports are there,
#                 so the packet stays with its flow and is judged (skipping
#                 it would let it past the policy): flows_created 2.
#   vlan2_ok      no error; the double-tagged packet is a second flow whose
#                 vlan is the inner VID, 200 (checked in the flow lines).
cases='
zero_length        packets=2 err_zero_length=1    flows_created=1
snaplen_cut        packets=2 snaplen_cut=1        flows_created=2
truncated_eth      packets=2 err_truncated_l2=1   flows_created=1
vlan3              packets=2 err_vlan_depth=1     flows_created=1
vlan2_ok           packets=2                      flows_created=2 vlan=200
truncated_ipv4     packets=2 err_truncated_ipv4=1 flows_created=1
ipv4_ihl_small     packets=2 err_ipv4_ihl=1       flows_created=1
ipv4_ihl_big       packets=2 err_ipv4_ihl=1       flows_created=1
ipv4_total_len     packets=2 err_ipv4_total_len=1 flows_created=1
bad_ip_version     packets=2 err_ip_version=1     flows_created=1
truncated_ipv6     packets=2 err_truncated_ipv6=1 flows_created=1
ipv6_payload_len   packets=2 err_ipv6_payload_len=1 flows_created=1
ipv6_ext_overrun   packets=2 err_ipv6_ext_overrun=1 flows_created=1
ipv6_ext_loop      packets=2 err_ipv6_ext_chain=1 flows_created=1
truncated_tcp      packets=2 err_truncated_tcp=1  flows_created=1
tcp_doff_small     packets=2 err_tcp_doff=1       flows_created=2
tcp_doff_big       packets=2 err_tcp_doff=1       flows_created=2
truncated_udp      packets=2 err_truncated_udp=1  flows_created=1
truncated_icmp     packets=2 err_truncated_icmp=1 flows_created=1
frag_tiny          packets=2 fragments=1 err_frag_tiny=1    flows_created=1
frag_overlap       packets=4 fragments=3 err_frag_overlap=1 flows_created=2
frag_orphan        packets=2 fragments=1 err_frag_orphan=1  flows_created=1
non_ip             packets=2 non_ip=1             flows_created=1
'
# Refused outright: exit status 1 and a message naming the file.
refused='garbage_link_type'

# A python3 with scapy: $PYTHON3 (configure's choice) first, then the
# system's, which is where Debian's python3-scapy lives when PATH leads to
# another python3.
py=
tried=
for cand in "$PYTHON3" python3 /usr/bin/python3; do
    [ -n "$cand" ] || continue
    command -v "$cand" >/dev/null 2>&1 || continue
    tried="$tried $cand"
    if "$cand" -c 'import scapy.layers.inet' >/dev/null 2>&1; then
        py=$cand
        break
    fi
done
if [ -z "$py" ]; then
    if [ -z "$tried" ]; then
        echo "SKIP: python3 not found"
    else
        echo "SKIP: scapy not importable by python3 (tried:$tried);" \
             "on Debian: apt-get install python3-scapy"
    fi
    exit 77
fi

if [ ! -x "$inspect" ]; then
    echo "FAIL: $inspect not built"
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bad-input.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

if ! "$py" "$gen" "$tmp/pcap" >"$tmp/gen.log" 2>&1; then
    echo "FAIL: $gen failed:"
    cat "$tmp/gen.log"
    exit 1
fi

# Checks one case's output.  Arguments: header, case, rc, stdout, stderr,
# then the expectations NAME=VALUE.  Prints "ok CASE" or "FAIL CASE: ...".
cat >"$tmp/check.py" <<'EOF'
import json
import re
import sys

header, case, rc, out_path, err_path = sys.argv[1:6]
expect = dict(kv.split("=", 1) for kv in sys.argv[6:])
rc = int(rc)
problems = []


def fail(msg):
    problems.append(msg)


def finish():
    if problems:
        print("FAIL %s: %s" % (case, "; ".join(problems)))
        sys.exit(1)
    print("ok %s" % case)
    sys.exit(0)


with open(header) as f:
    names = re.findall(r'C\(\w+,\s*"(\w+)"\)', f.read())
if not names:
    fail("no counter names found in %s" % header)
with open(err_path, errors="replace") as f:
    stderr = f.read()

if rc >= 128:
    fail("crashed (exit status %d, signal %d)" % (rc, rc - 128))
elif rc == 124:
    fail("timed out")
elif rc != 0:
    fail("exit status %d, expected 0" % rc)
for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
    if marker in stderr:
        fail("sanitizer report on stderr (%s)" % marker)
if problems:
    sys.stdout.write(stderr[-2000:])
    finish()

flows, summary = [], None
with open(out_path, errors="replace") as f:
    for n, line in enumerate(f, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as e:
            fail("stdout line %d is not JSON (%s): %.80s" % (n, e, line))
            continue
        if summary is not None:
            fail("stdout line %d follows the summary line" % n)
        if isinstance(obj, dict) and obj.get("summary") is True:
            summary = obj
        else:
            flows.append((line, obj))
if summary is None or not isinstance(summary.get("counters"), dict):
    fail("no summary line with counters")
    finish()
ctr = summary["counters"]

missing = [n for n in names if n not in ctr]
if missing:
    fail("counters missing from the summary: %s" % " ".join(missing))
bad = [n for n in ctr if not isinstance(ctr[n], int) or ctr[n] < 0]
if bad:
    fail("counters that are not non-negative integers: %s" % " ".join(bad))


def got(name):
    return ctr.get(name, "missing")


# Exact values asked for.
vlan = expect.pop("vlan", None)
for name, value in expect.items():
    if got(name) != int(value):
        fail("expected %s=%s got %s" % (name, value, got(name)))

# Counters that must not move.
quiet = [n for n in names if n.startswith("err_")]
quiet += ["snaplen_cut", "fragments", "non_ip"]
moved = ["%s=%s" % (n, got(n)) for n in quiet
         if n not in expect and got(n) != 0]
if moved:
    fail("unexpected counters moved: %s" % " ".join(moved))

def scalars(obj):
    """Every scalar value anywhere in 'obj', as strings."""
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, list):
        return {s for v in obj for s in scalars(v)}
    return {str(obj)}


def is_control(flow):
    """Whether 'flow' is the control 10.0.0.1:1234 -> 10.0.0.2:80, judged by
    its values alone (addresses may be IPv4-mapped IPv6)."""
    v = scalars(flow)
    return ({"1234", "80"} <= v
            and any(s.endswith("10.0.0.1") for s in v)
            and any(s.endswith("10.0.0.2") for s in v))


# The control packet made its flow.
if not isinstance(got("flows_created"), int) or got("flows_created") < 1:
    fail("expected flows_created>=1 got %s" % got("flows_created"))
if not any(is_control(obj) for _, obj in flows):
    fail("no flow line for the control packet 10.0.0.1:1234 -> 10.0.0.2:80")


def values_of(obj, key):
    """Every value of key 'key' anywhere in 'obj'."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == key:
                yield v
            yield from values_of(v, key)
    elif isinstance(obj, list):
        for v in obj:
            yield from values_of(v, key)


if vlan is not None:
    vlans = [v for _, obj in flows for v in values_of(obj, "vlan")]
    if int(vlan) not in vlans:
        fail("expected a flow with vlan=%s, flows have vlan %s"
             % (vlan, vlans or "(no 'vlan' key)"))

finish()
EOF

if command -v timeout >/dev/null 2>&1; then
    run="timeout 120"
else
    run=
fi

: >"$tmp/results"
n_pass=0
n_fail=0
failed=
result() {
    if [ "$1" = 0 ]; then
        n_pass=$((n_pass + 1))
    else
        n_fail=$((n_fail + 1))
        failed="$failed $2"
    fi
}

echo "$cases" | while read -r case expect; do
    [ -n "$case" ] || continue
    pcap=$tmp/pcap/$case.pcap
    $run "$inspect" --json "$pcap" >"$tmp/$case.out" 2>"$tmp/$case.err"
    rc=$?
    # shellcheck disable=SC2086 # 'expect' is a list of NAME=VALUE words.
    "$py" "$tmp/check.py" "$header" "$case" "$rc" \
          "$tmp/$case.out" "$tmp/$case.err" $expect
    echo "$case $?" >>"$tmp/results"
done

for case in $refused; do
    pcap=$tmp/pcap/$case.pcap
    $run "$inspect" --json "$pcap" >"$tmp/$case.out" 2>"$tmp/$case.err"
    rc=$?
    why=
    if [ "$rc" -ge 128 ]; then
        why="crashed (exit status $rc)"
    elif [ "$rc" != 1 ]; then
        why="exit status $rc, expected 1"
    elif ! grep -q "$case.pcap" "$tmp/$case.err"; then
        why="stderr does not name the file: $(head -c 300 "$tmp/$case.err")"
    elif grep -q -e AddressSanitizer -e LeakSanitizer -e 'runtime error:' \
              "$tmp/$case.err"; then
        why="sanitizer report on stderr"
    fi
    if [ -z "$why" ]; then
        echo "ok $case"
        echo "$case 0" >>"$tmp/results"
    else
        echo "FAIL $case: $why"
        echo "$case 1" >>"$tmp/results"
    fi
done

# The loop above ran in a subshell (the pipe); count from the results file.
while read -r case status; do
    result "$status" "$case"
done <"$tmp/results"

# Every capture the generator wrote must have been checked.
for pcap in "$tmp"/pcap/*.pcap; do
    case=$(basename "$pcap" .pcap)
    if ! grep -q "^$case " "$tmp/results"; then
        echo "FAIL $case: generated but not checked by $0"
        result 1 "$case"
    fi
done

echo "bad-input: $n_pass passed, $n_fail failed"
if [ "$n_fail" -ne 0 ]; then
    echo "failed:$failed"
    exit 1
fi
exit 0
