#!/bin/bash
# Faults: a flowsteerd that hangs (SIGSTOP) must not hold the traffic of
# undecided flows hostage.  Within its watchdog's bound the liveness tap
# goes down and new flows follow the fail mode (open: they bypass the
# inspector; closed: they are dropped), decided flows keep their verdicts
# in OVS, and after SIGCONT inspection resumes.  Under systemd's watchdog
# the main loop sends WATCHDOG=1, and stops when it is stuck.
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
    external_ids:flowsteer-fail=open
fsd_inspect vm1 web

# A fake systemd: a datagram socket that records what flowsteerd notifies.
NOTIFY=$tmp/notify.sock
bg_start notify "$py" -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    msg = s.recv(256).decode()
    print('%.3f %s' % (time.time(), msg), flush=True)" "$NOTIFY"
wait_until 5 test -S "$NOTIFY" || fail "no notify socket"
NOTIFY_SOCKET=$NOTIFY WATCHDOG_USEC=400000 fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
check "steering installed, the liveness tap up" wait_until 15 fsd_steering 8
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"
check "the watchdog is on, at 500 ms" \
    shows "watchdog: fs-live down after 500 ms without a turn of the main loop; 0 stalls"
check "systemd's watchdog is fed (WATCHDOG=1 every 200 ms)" wait_until 5 eval \
    '[ "$(grep -c WATCHDOG=1 "$(bg_log notify)")" -ge 5 ]'

http() { vm_exec vm1 curl -s -o /dev/null --max-time "${2:-3}" "http://10.0.0.2:$1/"; }
check "inline: HTTP passes" http 8080
check "the closed port does not" eval '! http 2222'
check "ping passes (a decided flow, in OVS)" vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2
live_down() { ovs_exec ip -o link show fs-live | grep -qv '[<,]UP[,>]'; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "== flowsteerd stopped: fail=open"
check "the tap is up" eval '! live_down'
kill -STOP "$(fsd_pid)"
t0=$(now_ms)
check "the liveness tap goes down" wait_until 5 live_down
down_ms=$(( $(now_ms) - t0 ))
check "within 1.5 s of the stop ($down_ms ms; the bound is 500 ms)" \
    test "$down_ms" -le 1500
n=$(grep -c WATCHDOG=1 "$(bg_log notify)")
check "a new flow follows the fail mode: it passes, uninspected" wait_until 5 \
    http 2222 1
check "a decided drop still holds (its rules are in OVS)" eval \
    'ofctl -O OpenFlow13 dump-flows br-int "cookie=0xf5e1000000000000/0xffff000000000000" |
     grep "tp_dst=2222" | grep -q "actions=drop"'
check "a decided flow is not cut" vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2
sleep 1
check "systemd is no longer fed" eval \
    '[ "$(grep -c WATCHDOG=1 "$(bg_log notify)")" -le $((n + 1)) ]'
kill -CONT "$(fsd_pid)"
check "after SIGCONT the tap is back up" wait_until 5 fsd_steering 8
check "and says how long the loop stalled" wait_until 5 \
    shows "watchdog: .* 1 stalls (longest [0-9]* ms)"
check "the stall is in the log" grep -q "the main loop stalled for [0-9]* ms" \
    "$tmp/flowsteerd.log"
check "inspection resumes: the closed port is closed again" wait_until 10 \
    eval '! http 2222 2'
check "and HTTP is judged and passes" http 8080

echo "== flowsteerd stopped: fail=closed"
vsctl set Open_vSwitch . external_ids:flowsteer-fail=closed
check "the groups fall back to drop" wait_until 10 eval \
    'ofctl -O OpenFlow13 dump-groups br-int | grep -q "bucket=watch_port:[0-9]*,actions=drop$"'
kill -STOP "$(fsd_pid)"
sleep 1.5
check "a new flow is dropped (fail=closed)" eval '! http 8080 2'
check "a decided flow is not cut" vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2
kill -CONT "$(fsd_pid)"
check "after SIGCONT new flows are judged again" wait_until 10 http 8080
vsctl set Open_vSwitch . external_ids:flowsteer-watchdog-ms=nonsense
check "a bad watchdog value is reported and changes nothing" wait_until 5 \
    shows "flowsteer-watchdog-ms: want 0 (off) or milliseconds from 100 to 60000; keeping 500"

# The stalls it causes, and its bad value.
# A flowsteerd stopped while it was running (not waiting in poll()) says
# so when it runs again (OVS's timeval): seen on a loaded machine.
log_allow 'fs_watchdog\|WARN\|the main loop stalled for' \
    'flowsteerd\|WARN\|configuration: flowsteer-watchdog-ms' \
    'timeval\|WARN\|(Unreasonably long [0-9]+ms poll interval|faults: |disk: |context switches: )'
fsctl exit > /dev/null 2>&1 || :
finish
