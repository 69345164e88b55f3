#!/bin/bash
# The inspector appliance (flowsteer-inspectord): a process of its own,
# unprivileged and sandboxed, that flowsteerd supervises.  Checks that it
# runs as nobody with no capability and a seccomp filter; that it cannot
# open a file, a socket or exec a program once set up (each tried by a
# test hook and punished with SIGSYS); and that when it is killed (-9),
# stopped (-STOP) or crashes on a packet (a test hook standing for a bug in
# nDPI), decided flows lose nothing, new flows follow the fail mode while
# it is down, and flowsteerd starts it again and it judges new flows.
# Prints how long the fail mode lasted each time.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=100, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-fail=closed
fsd_inspect vm1 web
export FLOWSTEER_TEST_CRASH_HOST=crash.test
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
app_pid() {
    fsctl flowsteer/show 2>/dev/null |
        sed -n 's/^inspector appliance: ready, pid \([0-9]*\),.*/\1/p'
}
check "steering installed, the liveness tap up" wait_until 15 fsd_steering 8
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"
http() {
    vm_exec vm1 curl -s -o /dev/null --max-time "${2:-3}" \
        ${3:+-H "Host: $3"} "http://10.0.0.2:$1/"
}
live_down() { ovs_exec ip -o link show fs-live | grep -qv '[<,]UP[,>]'; }
live_up() { ! live_down; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "== the appliance and its sandbox"
pid=$(app_pid)
check "the appliance runs (pid ${pid:-none})" test -n "$pid"
status() { ovs_exec cat "/proc/$pid/status"; }
check "as nobody, not root" eval \
    'status | grep -q "^Uid:[[:space:]]*65534[[:space:]]65534[[:space:]]65534"'
check "with no capability" eval \
    'status | grep -q "^CapEff:[[:space:]]*0000000000000000" &&
     status | grep -q "^CapPrm:[[:space:]]*0000000000000000" &&
     status | grep -q "^CapBnd:[[:space:]]*0000000000000000"'
check "under a seccomp filter, with no_new_privs" eval \
    'status | grep -q "^Seccomp:[[:space:]]*2" &&
     status | grep -q "^NoNewPrivs:[[:space:]]*1"'
check "flowsteerd itself is the root daemon" eval \
    'ovs_exec grep -q "^Uid:[[:space:]]*0[[:space:]]" "/proc/$(fsd_pid)/status"'
check "it judges: HTTP passes" wait_until 5 http 8080
check "the closed port does not" eval '! http 2222'
check "ping passes (a decided flow, in OVS)" \
    vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2

# A ping of 60 packets, 50 ms apart, across each fault: a decided flow's
# packets are in OVS's hands, so none may be lost.
# ping_across TAG: starts it in the background, its PID in $ping_pid.
ping_across() {
    vm_exec vm1 ping -q -c 60 -i 0.05 -W 1 10.0.0.2 > "$tmp/ping.$1" 2>&1 &
    ping_pid=$!
}
no_loss() {
    grep -q " 0% packet loss" "$tmp/ping.$1" || { cat "$tmp/ping.$1"; false; }
}

# until_ms CMD...: runs CMD every 10 ms (at most 10 s); prints the ms it
# took.
until_ms() {
    local t0 i
    t0=$(now_ms)
    for (( i = 0; i < 1000; i++ )); do
        "$@" && { echo $(( $(now_ms) - t0 )); return 0; }
        sleep 0.01
    done
    return 1
}

echo "== kill -9 under traffic (fail=closed)"
ping_across kill
sleep 0.5
old=$pid
ovs_exec kill -9 "$pid"
down_ms=$(until_ms live_down)
check "the liveness tap goes down (${down_ms:-never} ms after the kill)" \
    test -n "$down_ms"
up_ms=$(until_ms live_up)
check "flowsteerd starts it again; the tap is back up (${up_ms:-never} ms later)" \
    test -n "$up_ms"
pid=$(app_pid)
check "a new process ($old -> ${pid:-none})" eval \
    '[ -n "$pid" ] && [ "$pid" != "$old" ]'
wait "$ping_pid"
check "the decided flow lost no packet" no_loss kill
check "flowsteerd says how it ended" \
    grep -q "inspector appliance (pid $old) ended: killed by signal 9" \
    "$tmp/flowsteerd.log"
check "new flows are judged again: the closed port is closed" \
    eval '! http 2222'
check "and HTTP passes" wait_until 5 http 8080
echo "info: kill -9: fail mode for about $(( ${down_ms:-0} + ${up_ms:-0} )) ms" \
     "(tap down ${down_ms:-?} ms after the kill, up ${up_ms:-?} ms later)"

echo "== kill -STOP under traffic: hung (fail=closed)"
ping_across stop
sleep 0.5
old=$pid
ovs_exec kill -STOP "$pid"
down_ms=$(until_ms live_down)
check "the liveness tap goes down (${down_ms:-never} ms after the stop; the bound is 1000 + 100 ms)" \
    eval '[ -n "$down_ms" ] && [ "$down_ms" -le 3000 ]'
up_ms=$(until_ms live_up)
check "the hung one is killed and a new one started (tap up ${up_ms:-never} ms later)" \
    test -n "$up_ms"
pid=$(app_pid)
check "a new process ($old -> ${pid:-none})" eval \
    '[ -n "$pid" ] && [ "$pid" != "$old" ]'
check "the stopped one is gone" eval '! ovs_exec kill -0 "$old" 2>/dev/null'
wait "$ping_pid"
check "the decided flow lost no packet" no_loss stop
check "flowsteerd says it hung" \
    grep -q "inspector appliance (pid $old): no answer for [0-9]* ms: killed" \
    "$tmp/flowsteerd.log"
check "new flows are judged again" eval '! http 2222 && http 8080'
echo "info: kill -STOP: fail mode for about $(( ${down_ms:-0} + ${up_ms:-0} )) ms" \
     "(tap down ${down_ms:-?} ms after the stop, up ${up_ms:-?} ms later)"

echo "== a crash on a packet (a bug in nDPI), again and again (fail=open)"
vsctl set Open_vSwitch . external_ids:flowsteer-fail=open
check "the steering groups fall back to NORMAL" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-groups br-int > "$tmp/groups" &&
     grep -q "bucket=watch_port:[0-9]*,actions=NORMAL$" "$tmp/groups" &&
     ! grep -q "bucket=watch_port:[0-9]*,actions=drop$" "$tmp/groups"'
ping_across crash
# Each crash doubles the delay before the next start (100 ms, 200 ms, ...,
# at most 5 s): after six, the appliance stays down 3.2 s or more, long
# enough to see the fail mode at work.
crashes=0
for i in 1 2 3 4 5 6; do
    wait_until 10 eval 'live_up && [ -n "$(app_pid)" ]' || break
    old=$(app_pid)
    http 8080 2 crash.test
    wait_until 5 eval '! ovs_exec kill -0 "$old" 2>/dev/null' &&
        crashes=$((crashes + 1))
done
check "the appliance crashed on each of 6 requests ($crashes)" test "$crashes" = 6
check "while it is down, the tap is down" live_down
check "and new flows follow the fail mode: even the closed port passes, uninspected" \
    http 2222 1
# (In a sanitizer build its runtime catches the signal, reports, and
# exits 1, or aborts with abort_on_error=1.)
check "flowsteerd says it was a crash" \
    grep -qE "ended: (killed by signal 11 \(Segmentation fault\)|exit status 1;|killed by signal 6 \(Aborted\))" \
    "$tmp/flowsteerd.log"
check "it is started again, and judges" wait_until 10 eval \
    'live_up && ! http 2222 1'
wait "$ping_pid"
check "the decided flow lost no packet through the crashes" no_loss crash

echo "== the sandbox holds: after set-up, the appliance cannot..."
fsctl exit
wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' ||
    fail "flowsteerd did not exit"
for what in open socket exec; do
    FLOWSTEER_TEST_SANDBOX_PROBE=$what fsd_start
    # A sanitizer build refuses open and exec with EPERM instead, so that
    # its runtime can still report (fs-sandbox.h).
    check "...$what: killed by the filter (SIGSYS)" wait_until 15 \
        grep -qE "ended: killed by signal 31 \(Bad system call\)|test hook: $what refused: Operation not permitted" \
        "$tmp/flowsteerd.log"
    check "...and not after trying it" eval \
        '! grep -q "test hook: $what was allowed" "$tmp/flowsteerd.log"'
    fsctl exit
    wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' ||
        fail "flowsteerd did not exit"
    mv "$tmp/flowsteerd.log" "$tmp/flowsteerd-$what.log"
done
# Busy (more than half a CPU), OVS's poll loop would describe what woke it
# up with calls the filter kills (getsockname(), readlink()): it must not.
FLOWSTEER_TEST_SANDBOX_PROBE=busy fsd_start
check "...busy: up and steering" wait_until 15 fsd_steering 8
# New connections, so that the port's socket wakes it up, for 6 s.
for i in $(seq 30); do http 8080; sleep 0.2; done
check "...busy for 6 s: still up, never ended" eval \
    'fsctl flowsteer/show | grep -q "inspector appliance: ready, pid [0-9]*, 1 starts, 0 ended"'
check "...and judges" wait_until 5 eval '! http 2222 && http 8080'
fsctl exit
wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' ||
    fail "flowsteerd did not exit"
mv "$tmp/flowsteerd.log" "$tmp/flowsteerd-busy.log"
# Without the hook, the same start runs.
fsd_start
check "without the hook it runs" wait_until 15 fsd_steering 8
check "and judges" wait_until 5 eval '! http 2222 && http 8080'

# The crashes' own reports, in a sanitizer build: lines the appliance
# wrote to its standard error not in its log's form.
log_allow 'fs_appliance\|WARN\|inspector appliance \(pid [0-9]+\)' \
    'fs_appliance\|WARN\|appliance: ([^a-z_]|[a-z_]*[^a-z_:])' \
    'flowsteerd\|WARN\|test hook: ' \
    'rconn\|WARN\|br-int<->unix#[0-9]+: connection dropped'
for f in "$tmp"/flowsteerd-*.log; do
    cat "$f" >> "$tmp/flowsteerd.log"
done
finish
