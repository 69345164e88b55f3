#!/bin/bash
# The appliance with two workers (flowsteer-workers=2): flows spread over
# two inspector threads by their addresses.  Checks that the worker thread
# is as unprivileged as the main one (no capability, the seccomp filter);
# that flows from several addresses reach both workers and are each one
# flow, not one per direction; that flow ids are unique; that the policy
# holds on both workers, for fragmented datagrams too; that the caps hold
# in all; and that a crash inside the second worker's inspector (the test
# hook) is a crash of the appliance, which flowsteerd starts again.  And
# that a burst on new flows, all of it inside the window before their
# verdict rules are in, is judged packet by packet.
# FS_DATAPATH picks the backend, as for the other tests.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=250, profile=web, udp, tp_dst=9999, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=100, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-workers="${FS_WORKERS:-2}"
fsd_inspect vm1 web
export FLOWSTEER_TEST_CRASH_HOST=crash.test
fsd_start
app_pid() {
    fsctl flowsteer/show 2>/dev/null |
        sed -n 's/^inspector appliance: ready, pid \([0-9]*\),.*/\1/p'
}
# figure NAME: the appliance's worker figure NAME ("least busy" ...).
workers_line() { fsctl flowsteer/show | grep '^  workers: '; }
check "steering installed, the liveness tap up" wait_until 15 fsd_steering 8
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"

echo "== two workers, both unprivileged"
check "flowsteer/show: workers: 2" eval \
    'fsctl flowsteer/show | grep -q "^workers: 2$"'
pid=$(app_pid)
check "the appliance runs (pid ${pid:-none})" test -n "$pid"
check "the appliance says it has 2 workers" eval \
    'workers_line | grep -q "^  workers: 2,"'
threads=$(ovs_exec ls "/proc/$pid/task" 2>/dev/null | wc -l)
check "it has a thread per worker at least (${threads} threads)" \
    test "$threads" -ge 2
thread_ok() {
    local t s bad=0
    for t in $(ovs_exec ls "/proc/$pid/task"); do
        s=$(ovs_exec cat "/proc/$pid/task/$t/status") || return 1
        if ! grep -q "^Uid:[[:space:]]*65534[[:space:]]" <<<"$s" ||
           ! grep -q "^CapEff:[[:space:]]*0000000000000000" <<<"$s" ||
           ! grep -q "^CapPrm:[[:space:]]*0000000000000000" <<<"$s" ||
           ! grep -q "^CapBnd:[[:space:]]*0000000000000000" <<<"$s" ||
           ! grep -q "^Seccomp:[[:space:]]*2" <<<"$s"; then
            echo "  thread $t:"; grep -E "^(Name|Uid|Cap|Seccomp)" <<<"$s"
            bad=1
        fi
    done
    [ "$bad" = 0 ]
}
check "every thread: nobody, no capability, the seccomp filter" thread_ok

echo "== flows from 8 addresses"
for i in $(seq 101 108); do
    vm_exec vm1 ip addr add "10.0.0.$i/24" dev "$(vm_if vm1)"
done
http_from() {
    vm_exec vm1 curl -s -o /dev/null --max-time "${3:-3}" \
        --interface "10.0.0.$1" ${4:+-H "Host: $4"} "http://10.0.0.2:$2/"
}
ok=0
for i in $(seq 101 108); do
    wait_until 5 http_from "$i" 8080 && ok=$((ok + 1))
done
check "HTTP passes from each ($ok of 8)" test "$ok" = 8
closed=0
for i in $(seq 101 108); do
    http_from "$i" 2222 1 || closed=$((closed + 1))
done
check "the closed port is closed from each ($closed of 8)" test "$closed" = 8

line=$(workers_line)
least=$(sed -n 's/.*least busy \([0-9]*\),.*/\1/p' <<<"$line")
most=$(sed -n 's/.*most busy \([0-9]*\),.*/\1/p' <<<"$line")
check "both workers judged packets (least busy ${least:-?}, most ${most:-?})" \
    eval '[ "${least:-0}" -gt 0 ]'

fsctl flowsteer/flows > "$tmp/flows"
head -n 4 "$tmp/flows" | sed "s/^/  /"
n_http=$(grep -c ' TCP .* -> 10.0.0.2:8080 ' "$tmp/flows" || true)
n_closed=$(grep -c ' TCP .* -> 10.0.0.2:2222 ' "$tmp/flows" || true)
check "one flow per connection, not one per direction ($n_http to 8080, $n_closed to 2222; at least 8 and 8, at most 10 and 16)" \
    eval '[ "$n_http" -ge 8 ] && [ "$n_http" -le 10 ] &&
          [ "$n_closed" -ge 8 ] && [ "$n_closed" -le 16 ]'
awk '{print $1}' "$tmp/flows" | grep -E '^[0-9]+$' > "$tmp/ids"
check "flow ids are unique ($(wc -l < "$tmp/ids") flows)" \
    eval '[ -s "$tmp/ids" ] && [ -z "$(sort "$tmp/ids" | uniq -d)" ]'
# The appliance's ids are even (flowsteerd's own are odd), worker i's
# 2i modulo 4 with two workers.
check "and come from both workers (ids 0 and 2 modulo 4, none odd)" \
    eval '[ "$(awk "{ print \$1 % 4 }" "$tmp/ids" | sort -u | tr "\n" " ")" = "0 2 " ]'

echo "== fragmented datagrams, on whichever worker"
# ICMP of 3000 bytes: fragments, allowed; UDP of 3000 bytes to 9999:
# fragments, dropped (the first fragment has the ports, the others not).
frag_ping=0
for i in 101 102 103 104; do
    vm_exec vm1 ping -q -c 2 -i 0.2 -W 2 -s 3000 -I "10.0.0.$i" 10.0.0.2 \
        > /dev/null 2>&1 && frag_ping=$((frag_ping + 1))
done
check "fragmented pings pass from each ($frag_ping of 4)" \
    test "$frag_ping" = 4
# udp_sink NAME SECONDS: a UDP server on vm2's port 9999 for SECONDS, as
# background job NAME, printing "got" for each datagram.
udp_sink() {
    bg_start "$1" vm_exec vm2 timeout "$2" "$py" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.2", 9999))
s.settimeout(float(sys.argv[1]) - 1)
try:
    while True:
        d, a = s.recvfrom(65535)
        print("got", len(d), "from", a[0], flush=True)
except socket.timeout:
    pass
' "$2"
    sleep 0.5
}
# udp_send ADDR SPORT COUNT BYTES: COUNT datagrams of BYTES back to back
# from vm1's ADDR:SPORT (0: any) to vm2's port 9999.
udp_send() {
    vm_exec vm1 "$py" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
for _ in range(int(sys.argv[3])):
    s.sendto(b"x" * int(sys.argv[4]), ("10.0.0.2", 9999))
' "$@"
}
udp_sink udp 6
for i in 101 102 103 104; do
    udp_send "10.0.0.$i" 0 3 3000
done
sleep 1
check "no fragmented UDP datagram to the dropped port got through" \
    eval '! grep -q "^got" "$(bg_log udp)"'

echo "== a burst inside the verdict window"
# 300 datagrams back to back on new flows to the dropped port, from four
# addresses: they all reach the appliance before any verdict rule is in
# the switch (flowsteerd batches them over 10 ms), and none may get out.
udp_sink udp2 5
for i in 105 106 107 108; do
    udp_send "10.0.0.$i" 40000 300 16
done
sleep 1
check "none of 1200 datagrams got through" \
    eval '! grep -q "^got" "$(bg_log udp2)"'

echo "== a crash in a worker's inspector"
# The hook crashes the thread that judges the host, so it names it; try
# addresses until the crash is worker 1's (the hash is fixed: the same
# address each run).
crashed=''
for i in $(seq 101 108); do
    # Up again and judging (fail=open bypasses it while it is down).
    wait_until 15 eval 'fsd_steering 8 && http_from "$i" 8080 1' || break
    old=$(app_pid)
    http_from "$i" 8080 1 crash.test || true
    wait_until 10 eval '[ -n "$(app_pid)" ] && [ "$(app_pid)" != "$old" ]' ||
        break
    if grep -q "test hook: crashing on host crash.test (worker 1)" \
           "$tmp/flowsteerd.log"; then
        crashed=$i
        break
    fi
done
check "the hook crashed worker 1 (from 10.0.0.${crashed:-?})" test -n "$crashed"
# (In a sanitizer build its runtime catches the signal, reports, and
# exits 1, or aborts with abort_on_error=1.)
check "flowsteerd says the appliance crashed" \
    grep -qE "ended: (killed by signal 11 \(Segmentation fault\)|exit status 1;|killed by signal 6 \(Aborted\))" \
    "$tmp/flowsteerd.log"
wait_until 15 fsd_steering 8
check "the new appliance judges: HTTP passes from 10.0.0.${crashed:-101}" \
    wait_until 5 http_from "${crashed:-101}" 8080
check "and 2222 is closed" eval '! http_from "${crashed:-101}" 2222 1'

echo "== the per-port cap holds in all"
vsctl set Open_vSwitch . external_ids:flowsteer-max-flows-per-port=8
sleep 1
wait_until 15 fsd_steering 8
fsctl flowsteer/flush-flows > /dev/null
for i in $(seq 101 108); do
    for p in 1 2 3; do
        http_from "$i" 8080 1 > /dev/null 2>&1 || true
    done
done
n=$(fsctl flowsteer/flows | grep -c ' TCP .* -> 10.0.0.2:8080 ' || true)
check "at most 8 flows of vm1's port ($n)" test "$n" -le 8

# The crashes' own reports, as in tests/appliance.sh.
log_allow 'fs_appliance\|WARN\|inspector appliance \(pid [0-9]+\)' \
    'fs_appliance\|WARN\|appliance: ([^a-z_]|[a-z_]*[^a-z_:])' \
    'flowsteerd\|WARN\|test hook: ' \
    'rconn\|WARN\|br-int<->unix#[0-9]+: connection dropped'
finish
