#!/bin/bash
# flowrules against a real ovs-vswitchd (userspace datapath): rules for
# each action installed, replaced and removed exactly; enforcement with
# real packets between VMs (drop, allow, mirror, meter, label with a
# controller's own rules, SYN excluded); restarts of ovs-vswitchd and of
# the client; flow-removed counters and rules; idle timeouts changed while
# running; adoption of an earlier run's rules; a tcp: target; waiting for
# a removal; bad input and OVS errors; many verdicts changed in one
# committed bundle; a connection killed in the middle of bundles.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

RULES=$top_builddir/flowrules/flowsteer-rules
[ -x "$RULES" ] || skip "flowrules not built (configure --with-ovs-source)"
ovs_lib_init
ovs_start
ovs_add_bridge br0
vm_add vm1 br0 10.0.0.1/24
vm_add vm2 br0 10.0.0.2/24
vm_add vm3 br0 10.0.0.3/24
T=unix:$OVS_DIR/br0.mgmt
NS=0xf5e1000000000000/0xffff000000000000
CTRL=0xc0ffee

# The switch's own pipeline: NORMAL by default; the controller's policy in
# table 50 drops flows labelled app 91.126 (reg5), passes the rest.
baseline() {
    ofctl -O OpenFlow13 add-flow br0 "table=0,priority=0,actions=NORMAL"
    ofctl -O OpenFlow13 add-flow br0 \
        "table=50,cookie=$CTRL,priority=100,reg5=0x5b007e,actions=drop"
    ofctl -O OpenFlow13 add-flow br0 \
        "table=50,cookie=$CTRL,priority=1,actions=NORMAL"
}
baseline

# rules ARGS... < COMMANDS: runs flowsteer-rules; output in $tmp/rules.out.
rules() {
    "$RULES" --sync-timeout=20 "$@" "$T" > "$tmp/rules.out" 2> "$tmp/rules.err" ||
        { echo "  flowsteer-rules failed:"; sed 's/^/  /' "$tmp/rules.err";
          grep -v '^{' "$tmp/rules.out" | head -n 5 | sed 's/^/  /';
          tail -n 1 "$tmp/rules.out" | sed 's/^/  /'; false; }
}
stat_of() {   # stat_of KEY: a number from the last stats line
    tail -n 1 "$tmp/rules.out" | grep -o "\"$1\":[0-9]*" | cut -d: -f2
}
ours() {      # our rules, without statistics
    ofctl -O OpenFlow13 --no-stats dump-flows br0 "cookie=$NS" | grep cookie=
}
n_ours() { ours | wc -l; }
ctrl_rules() {
    ofctl -O OpenFlow13 dump-flows br0 "cookie=$CTRL/-1" | grep -c cookie=
}
ping_ok() { vm_exec "$1" ping -c 2 -i 0.2 -W 1 "$2" > /dev/null 2>&1; }

echo "== install, replace, remove for each action"
p3=$(vm_port vm3)
cat > "$tmp/all.cmds" <<EOF
set 1 tcp 10.0.0.1:40000 10.0.0.2:8080 allow in_port=1
set 2 udp 10.0.0.1:5353 10.0.0.2:53 drop
set 3 icmp 10.0.0.1 10.0.0.4 mirror:$p3
set 4 udp 10.0.0.1:50000 10.0.0.2:5201 meter:5000
set 5 tcp 10.0.0.1:40001 10.0.0.2:8080 label label=91.126,5,3
set 6 tcp [fd00::1]:443 [fd00::2]:5555 drop,log vlan=7
EOF
check "install: the tool succeeds" rules < "$tmp/all.cmds"
check "install: 12 rules under the namespace" test "$(n_ours)" -eq 12
ours > "$tmp/dump1"
has() { grep -q -- "$1" "$tmp/dump1" || { echo "  missing: $1"; false; }; }
check "allow: exact 5-tuple + in_port, NORMAL, flow_rem" \
    has "cookie=0xf5e1000000000001, send_flow_rem priority=40000,tcp,in_port=1,vlan_tci=0x0000/0x1fff,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=40000,tp_dst=8080 actions=NORMAL"
check "allow: reverse direction without in_port" \
    has "priority=40000,tcp,vlan_tci=0x0000/0x1fff,nw_src=10.0.0.2,nw_dst=10.0.0.1,tp_src=8080,tp_dst=40000 actions=NORMAL"
check "drop: no actions" \
    has "cookie=0xf5e1000000000002, send_flow_rem priority=40000,udp,vlan_tci=0x0000/0x1fff,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=5353,tp_dst=53 actions=drop"
check "mirror: output to the mirror port, then NORMAL" \
    has "priority=40000,icmp,vlan_tci=0x0000/0x1fff,nw_src=10.0.0.1,nw_dst=10.0.0.4 actions=output:3,NORMAL"
check "meter: meter then NORMAL" \
    has "tp_src=50000,tp_dst=5201 actions=meter:1,NORMAL"
check "meter: the meter exists at 5000 kbps" eval \
    'ofctl -O OpenFlow13 dump-meters br0 | grep -A1 "meter=1 kbps" | grep -q "rate=5000"'
check "label: registers, then the controller's table" \
    has "tp_src=40001,tp_dst=8080 actions=set_field:0x5b007e->reg5,set_field:0x5->reg6,set_field:0x3->reg7,resubmit(,50)"
check "log: rate-limited copy to the controller, VLAN, IPv6" \
    has "priority=40000,tcp6,dl_vlan=7,ipv6_src=fd00::1,ipv6_dst=fd00::2,tp_src=443,tp_dst=5555 actions=controller(max_len=256,meter_id=62945)"

# Replace: verdict changes keep the rules (modify in place: counters and
# durations survive) and change only the actions.
sed -e 's/^set 1 \(.*\) allow in_port=1$/set 1 \1 drop in_port=1/' \
    -e 's/meter:5000/meter:2000/' "$tmp/all.cmds" > "$tmp/replace.cmds"
check "replace: the tool succeeds" rules < "$tmp/replace.cmds"
# Flow 1's two rules are modified in place; flow 4 keeps "meter:1", whose
# rate changes (this client numbers its meters anew).
check "replace: only flow 1's 2 rules sent" test "$(stat_of flow_mods_sent)" -eq 2
ours > "$tmp/dump2"
check "replace: allow became drop" \
    grep -q "in_port=1,.*tp_src=40000,tp_dst=8080 actions=drop" "$tmp/dump2"
# (A restarted client numbers its meters anew: meter 1 is now 2000 kbps.)
check "replace: meter rate changed" eval \
    'ofctl -O OpenFlow13 dump-meters br0 | grep -A1 "meter=1 kbps" | grep -q "rate=2000"'
check "replace: the other rules unchanged" eval \
    'diff <(grep -v "cookie=0xf5e100000000000[14]" "$tmp/dump1") <(grep -v "cookie=0xf5e100000000000[14]" "$tmp/dump2")'

# Remove: flows not in the desired table are deleted by their cookie.
grep -v "^set [26] " "$tmp/replace.cmds" > "$tmp/remove.cmds"
check "remove: the tool succeeds" rules < "$tmp/remove.cmds"
check "remove: 8 rules left" test "$(n_ours)" -eq 8
check "remove: flows 2 and 6 gone" eval '! ours | grep -q "cookie=0xf5e100000000000[26]"'
check "controller's rules untouched so far" test "$(ctrl_rules)" -eq 2

echo "== enforcement with real packets"
bg_start http vm_exec vm2 python3 -m http.server 8080 --bind 10.0.0.2
wait_until 5 vm_exec vm1 curl -s -o /dev/null --max-time 1 http://10.0.0.2:8080/ ||
    fail "no HTTP server"
# curl_from LOCAL_PORT: an HTTP request vm1 -> vm2:8080 from that port.
# Not curl: it closes with a reset, so that the port is not left in
# TIME_WAIT for a minute (curl sometimes closes first, and then its next
# bind to the port fails without sending anything).
curl_from() {
    vm_exec vm1 python3 - "$1" <<'EOF'
import socket, struct, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.settimeout(2)
try:
    s.bind(("10.0.0.1", int(sys.argv[1])))
    s.connect(("10.0.0.2", 8080))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    ok = s.recv(16).startswith(b"HTTP/1.0 200")
except OSError as e:
    print("  %s: %s" % (sys.argv[1], e), file=sys.stderr)
    ok = False
s.close()
sys.exit(0 if ok else 1)
EOF
}
printf 'set 10 tcp 10.0.0.1:41000 10.0.0.2:8080 allow\nset 11 tcp 10.0.0.1:41001 10.0.0.2:8080 drop\n' > "$tmp/enf.cmds"
check "enforce: install allow and drop" rules < "$tmp/enf.cmds"
check "allowed flow passes" curl_from 41000
check "dropped flow is cut" eval '! curl_from 41001'
check "a flow with no rule still passes (NORMAL)" curl_from 41002
pkts=$(ofctl -O OpenFlow13 dump-flows br0 "cookie=0xf5e100000000000a/-1" |
       grep -o "n_packets=[0-9]*" | cut -d= -f2 | paste -sd+ | bc)
check "the allow rules counted the packets ($pkts)" test "${pkts:-0}" -ge 6

# --exclude-syn: an allowed TCP flow's rules do not match packets with SYN
# set, so a new connection on its 5-tuple goes on to the rules below; a
# dropped flow's rules match every packet.  The switch's own rule below
# drops these ports' SYNs: with the option, the allow rule leaves them to
# it; without, the allow rule takes them.
cat > "$tmp/syn.cmds" <<'EOF'
set 16 tcp 10.0.0.1:41100 10.0.0.2:8080 allow
set 17 udp 10.0.0.1:41100 10.0.0.2:8080 drop
set 18 tcp 10.0.0.1:41102 10.0.0.2:8080 drop
EOF
check "exclude-syn: install" rules --exclude-syn < "$tmp/syn.cmds"
check "exclude-syn: both rules of the allowed TCP flow match tcp_flags=-syn" \
    test "$(ours | grep 'cookie=0xf5e1000000000010,' | grep -c 'tcp,.*tcp_flags=-syn actions=NORMAL')" -eq 2
check "exclude-syn: the dropped TCP flow's do not" \
    test "$(ours | grep 'cookie=0xf5e1000000000012,' | grep -v tcp_flags | grep -c 'actions=drop')" -eq 2
check "exclude-syn: nor the UDP rules" \
    test "$(ours | grep 'cookie=0xf5e1000000000011,' | grep -vc tcp_flags)" -eq 2
check "exclude-syn: a restart with the same commands" rules --exclude-syn < "$tmp/syn.cmds"
check "exclude-syn: a restart sends nothing" test "$(stat_of flow_mods_sent)" -eq 0
check "exclude-syn: a restart keeps all 6 rules" test "$(stat_of reconcile_kept)" -eq 6
for p in 41100 41101; do
    ofctl -O OpenFlow13 add-flow br0 \
        "cookie=$CTRL,priority=100,tcp,tp_src=$p,tcp_flags=+syn,actions=drop"
done
bg_start syn vm_exec vm2 tcpdump -lni "$(vm_if vm2)" \
    'tcp dst port 8080 and tcp[tcpflags] & tcp-syn != 0'
wait_until 5 grep -q "listening on" "$(bg_log syn)" || fail "no tcpdump"
check "exclude-syn: the SYN skips the allow rule, the rule below drops it" \
    eval '! curl_from 41100'
sed 's/41100/41101/; /drop/d' "$tmp/syn.cmds" > "$tmp/nosyn.cmds"
check "no exclude-syn: install" rules < "$tmp/nosyn.cmds"
check "no exclude-syn: no tcp_flags in the rules" eval '! ours | grep -q tcp_flags'
check "no exclude-syn: the allow rule takes the SYN: the request passes" \
    curl_from 41101
check "no exclude-syn: the server saw that SYN" wait_until 3 \
    grep -q "10.0.0.1.41101 > 10.0.0.2.8080: Flags \[S\]" "$(bg_log syn)"
check "exclude-syn: ...and never saw the first one" \
    eval '! grep -q "10.0.0.1.41100 >" "$(bg_log syn)"'
bg_stop syn
ofctl -O OpenFlow13 del-flows br0 "cookie=$CTRL/-1,tcp,tp_src=41100"
ofctl -O OpenFlow13 del-flows br0 "cookie=$CTRL/-1,tcp,tp_src=41101"

# Label: the controller's table decides.  91.126 is dropped by its rule;
# another label passes.
printf 'set 12 tcp 10.0.0.1:41010 10.0.0.2:8080 label label=91.126,5,3\nset 13 tcp 10.0.0.1:41011 10.0.0.2:8080 label label=7.7,5,0\n' > "$tmp/label.cmds"
check "label: install" rules < "$tmp/label.cmds"
check "label: the controller's drop rule applies to 91.126" eval '! curl_from 41010'
check "label: another application passes the controller's table" curl_from 41011

# Mirror: vm1 -> vm2 ICMP is copied to vm3's port.
bg_start tcpd vm_exec vm3 tcpdump -lni "$(vm_if vm3)" -c 2 icmp and host 10.0.0.2
sleep 1
printf "set 14 icmp 10.0.0.1 10.0.0.2 mirror:%s\n" "$p3" > "$tmp/mirror.cmds"
check "mirror: install" rules < "$tmp/mirror.cmds"
check "mirror: vm1 still reaches vm2" ping_ok vm1 10.0.0.2
check "mirror: vm3 sees vm1<->vm2 ICMP" wait_until 5 grep -q "10.0.0.1 > 10.0.0.2: ICMP" "$(bg_log tcpd)"
bg_stop tcpd

# Meter: 20 Mbit/s of UDP from a fixed port, metered to 5 Mbit/s.
bg_start iperf vm_exec vm2 iperf3 -s -1 -B 10.0.0.2
sleep 0.5
printf 'set 15 udp 10.0.0.1:50001 10.0.0.2:5201 meter:5000\n' > "$tmp/meter.cmds"
check "meter: install" rules < "$tmp/meter.cmds"
vm_exec vm1 iperf3 -c 10.0.0.2 -u -b 20M -t 2 --cport 50001 -J > "$tmp/iperf.json" 2>&1
rate=$(python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["end"]["sum"]["bits_per_second"] * (1 - json.load(open(sys.argv[1]))["end"]["sum"]["lost_percent"] / 100)))' "$tmp/iperf.json" 2>/dev/null)
echo "  metered UDP received: ${rate:-?} bit/s (sent 20 Mbit/s, meter 5000 kbps)"
check "meter: received at most ~6 Mbit/s" test "${rate:-999999999}" -le 6500000
check "meter: but something got through" test "${rate:-0}" -ge 1000000

echo "== restarts"
check "controller's rules untouched by every operation" test "$(ctrl_rules)" -eq 2
# The client restarts with the same desired table: nothing is removed and
# re-added (no flow_mod sent; durations keep growing).
cat "$tmp/remove.cmds" "$tmp/enf.cmds" "$tmp/label.cmds" "$tmp/mirror.cmds" \
    "$tmp/meter.cmds" > "$tmp/state.cmds"
check "client: state install" rules < "$tmp/state.cmds"
d1=$(ofctl -O OpenFlow13 dump-flows br0 "cookie=0xf5e1000000000001/-1" | grep -o "duration=[0-9.]*" | head -1 | cut -d= -f2)
sleep 1.2
check "client restart: reconciles" rules < "$tmp/state.cmds"
check "client restart: no flow_mod sent" test "$(stat_of flow_mods_sent)" -eq 0
check "client restart: every rule kept" test "$(stat_of reconcile_kept)" -eq "$(n_ours)"
d2=$(ofctl -O OpenFlow13 dump-flows br0 "cookie=0xf5e1000000000001/-1" | grep -o "duration=[0-9.]*" | head -1 | cut -d= -f2)
check "client restart: durations grew ($d1 -> $d2 s)" \
    python3 -c "import sys; sys.exit(not float('$d2') >= float('$d1') + 1)"

# ovs-vswitchd restarts: OVS forgets flows; a running client puts its
# rules back on reconnection (the controller must re-add its own).
before=$(n_ours)
bg_start client eval '"$RULES" --stay "$T" < "$tmp/state.cmds"'
wait_until 10 grep -q '"synced":true' "$(bg_log client)" || fail "client did not sync"
ovs_restart_vswitchd
rules_back() { test "$(n_ours)" -eq "$before"; }
check "vswitchd restart: the rules come back" wait_until 15 rules_back
baseline
check "vswitchd restart: traffic follows them" wait_until 15 curl_from 41000
check "vswitchd restart: dropped flow still cut" eval '! curl_from 41001'
bg_stop client

echo "== flow removed by the switch, final counters"
printf 'set 30 udp 10.0.0.1:40500 10.0.0.2:9 allow\n' > "$tmp/idle.cmds"
bg_start idle eval '"$RULES" --stay -vflowrules:dbg --idle-timeout=300,2,30 "$T" < "$tmp/idle.cmds"'
wait_until 10 grep -q '"synced":true' "$(bg_log idle)" || fail "idle client did not sync"
vm_exec vm1 python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.0.0.1", 40500))
for _ in range(3):
    s.sendto(b"x", ("10.0.0.2", 9))'
check "idle timeout: both rules removed, counters reported" \
    wait_until 25 grep -q "removed flow 30: [3-9] packets" "$(bg_log idle)"
check "idle timeout: the removed flow's rule is reported" grep -q \
    "removed flow 30: .* reason 0: udp 10.0.0.1:40500 10.0.0.2:9 allow$" "$(bg_log idle)"
grep "removed flow 30" "$(bg_log idle)" || {
    echo "  the client's log:"; sed 's/^/    /' "$(bg_log idle)"
    ofctl -O OpenFlow13 dump-flows br0 "cookie=0xf5e100000000001e/-1"
}
bg_stop idle

# The same with OpenFlow idle timeouts in the rules (--switch-idle).
printf 'set 32 udp 10.0.0.1:40501 10.0.0.2:9 allow\n' > "$tmp/idle2.cmds"
bg_start idle2 eval '"$RULES" --stay --switch-idle --idle-timeout=300,2,30 "$T" < "$tmp/idle2.cmds"'
wait_until 10 grep -q '"synced":true' "$(bg_log idle2)" || fail "idle client did not sync"
check "switch idle timeout: in the rule" eval \
    'ofctl -O OpenFlow13 --no-stats dump-flows br0 "cookie=0xf5e1000000000020/-1" | grep -q "idle_timeout=2"'
check "switch idle timeout: counters reported" \
    wait_until 8 grep -q "removed flow 32: 0 packets" "$(bg_log idle2)"
check "switch idle timeout: the rule reported" grep -q \
    "removed flow 32: .* reason 0: udp 10.0.0.1:40501 10.0.0.2:9 allow$" "$(bg_log idle2)"
bg_stop idle2

# Timeouts changed while running: a shorter UDP timeout expires an idle
# flow within seconds, not after the 60 s it was set up with (and the next
# poll comes within the new interval, not the old 15 s).
printf 'set 33 udp 10.0.0.1:40502 10.0.0.2:9 allow\nsync\ntimeouts 300 2 60\n' > "$tmp/tmo.cmds"
bg_start tmo eval '"$RULES" --stay --idle-timeout=300,60,60 "$T" < "$tmp/tmo.cmds"'
wait_until 10 grep -q '"synced":true' "$(bg_log tmo)" || fail "timeouts client did not sync"
check "timeouts: a shorter UDP timeout expires an idle flow within seconds" \
    wait_until 7 grep -q "removed flow 33: 0 packets" "$(bg_log tmo)"
bg_stop tmo
# With OpenFlow timeouts, the new ones go into the rules sent after.
printf 'set 34 udp 10.0.0.1:40503 10.0.0.2:9 allow\nsync\ntimeouts 300 7 60\nset 35 udp 10.0.0.1:40504 10.0.0.2:9 allow\n' > "$tmp/tmo2.cmds"
check "timeouts, switch idle: install" \
    rules --switch-idle --idle-timeout=300,60,60 < "$tmp/tmo2.cmds"
check "timeouts, switch idle: rules sent before keep theirs" \
    test "$(ours | grep 'cookie=0xf5e1000000000022,' | grep -c 'idle_timeout=60,')" -eq 2
check "timeouts, switch idle: rules sent after have the new one" \
    test "$(ours | grep 'cookie=0xf5e1000000000023,' | grep -c 'idle_timeout=7,')" -eq 2

echo "== adoption: rules of an earlier run decoded back into flows"
cat > "$tmp/adopt.cmds" <<EOF
set 60 tcp 10.0.0.1:42000 10.0.0.2:8080 allow in_port=1
set 61 udp 10.0.0.1:5353 10.0.0.2:53 drop
set 62 icmp 10.0.0.1 10.0.0.4 mirror:$p3
set 63 udp 10.0.0.1:50000 10.0.0.2:5201 meter:5000 in_port=1
set 64 tcp 10.0.0.1:42001 10.0.0.2:8080 label label=91.126,5,3
set 65 tcp [fd00::1]:443 [fd00::2]:5555 drop,log vlan=7
set 66 udp 10.0.0.3:40000 10.0.0.1:53 allow,log in_port=3
EOF
check "adopt: the first run installs" rules --exclude-syn < "$tmp/adopt.cmds"
# adopted: the 'set' commands that a second run prints for what it
# adopted.  A flow without in_port may come back from either end, so both
# sides are compared with the endpoints of such flows in order.
adopted() { grep '^adopted: ' "$tmp/rules.out" | sed 's/^adopted: //'; }
canon() { awk '!/in_port=/ && $4 > $5 { t = $4; $4 = $5; $5 = t } { print }' | sort; }
check "adopt: a second run with no commands" rules --adopt --exclude-syn < /dev/null
check "adopt: 7 flows adopted" test "$(stat_of reconcile_adopted)" -eq 7
check "adopt: nothing sent" test "$(stat_of flow_mods_sent)" -eq 0
check "adopt: one line per flow" test "$(adopted | wc -l)" -eq 7
# The meter's rate is unknown to a run that did not create it.
check "adopt: the rules decode to the first run's commands" eval \
    'diff <(sed "s/meter:5000/meter:0/" "$tmp/adopt.cmds" | canon) <(adopted | canon)'
check "adopt: the rules are still there" test "$(n_ours)" -eq 14
# A run that has meter 1 at 5000 kbps knows the adopted rule's rate; a
# set of an adopted flow modifies its rules in place.
printf 'set 67 udp 10.0.0.1:50002 10.0.0.2:5201 meter:5000\nsync\nset 61 udp 10.0.0.1:5353 10.0.0.2:53 allow\n' > "$tmp/adopt2.cmds"
check "adopt: a run with a meter, then a set" rules --adopt --exclude-syn < "$tmp/adopt2.cmds"
check "adopt: a known meter's rate is decoded" \
    grep -q "^adopted: set 63 udp 10.0.0.1:50000 10.0.0.2:5201 meter:5000 in_port=1$" "$tmp/rules.out"
check "adopt: flow 67 added, adopted 61 modified (4 flow mods)" \
    test "$(stat_of flow_mods_sent)" -eq 4
check "adopt: flow 61 allowed now" \
    test "$(ours | grep 'cookie=0xf5e100000000003d,' | grep -c 'actions=NORMAL$')" -eq 2
# Without --exclude-syn, the allowed TCP flows' rules (tcp_flags=-syn) do
# not decode: they are kept by their cookie, and a set replaces both rules.
# A drop's rules match SYNs either way, and decode.
printf 'sync\nset 64 tcp 10.0.0.1:42001 10.0.0.2:8080 drop\n' > "$tmp/adopt3.cmds"
check "adopt: a run without --exclude-syn" rules --adopt < "$tmp/adopt3.cmds"
check "adopt: the 2 allowed TCP flows are not decoded" \
    test "$(grep -c '^adopted: 6[04] (not decoded) tcp allow$' "$tmp/rules.out")" -eq 2
check "adopt: the 6 others are" test "$(grep -c '^adopted: set 6[123567] ' "$tmp/rules.out")" -eq 6
check "adopt: a set of one not decoded replaces it (3 flow mods)" \
    test "$(stat_of flow_mods_sent)" -eq 3
check "adopt: flow 64 replaced" \
    test "$(ours | grep 'cookie=0xf5e1000000000040,' | grep -v tcp_flags | grep -c 'actions=drop$')" -eq 2
# Adopted flows expire when idle, and are reported with their rules; so
# does one whose reverse rule someone deleted, which does not decode alone
# (its delete waits for one flow-removed message only).
ofctl -O OpenFlow13 del-flows --strict br0 \
    "cookie=0xf5e100000000003e/-1,priority=40000,icmp,vlan_tci=0x0000/0x1fff,nw_src=10.0.0.4,nw_dst=10.0.0.1"
check "adopt: one rule of flow 62 deleted" test "$(n_ours)" -eq 15
bg_start adopt eval '"$RULES" --stay --adopt --exclude-syn --idle-timeout=2,2,2 "$T" < /dev/null'
check "adopt: a rule alone is not decoded" wait_until 5 \
    grep -q "^adopted: 62 (not decoded) icmp allow$" "$(bg_log adopt)"
check "adopt: idle adopted flows expire" wait_until 20 eval 'test "$(n_ours)" -eq 0'
check "adopt: all 8 reported removed" \
    wait_until 2 eval 'test "$(grep -c "^removed flow 6[0-7]: " "$(bg_log adopt)")" -eq 8'
check "adopt: removed with the decoded rule" grep -q \
    "^removed flow 60: 0 packets 0 bytes reason 0: tcp 10.0.0.1:42000 10.0.0.2:8080 allow in_port=1$" "$(bg_log adopt)"
check "adopt: a drop decodes with --exclude-syn (no tcp_flags either way)" \
    grep -q "^removed flow 64: 0 packets 0 bytes reason 0: tcp 10.0.0.1:42001 10.0.0.2:8080 drop$" "$(bg_log adopt)"
grep -q "^removed flow 6" "$(bg_log adopt)" || sed 's/^/    /' "$(bg_log adopt)"
bg_stop adopt

echo "== a tcp: target"
vsctl set-controller br0 ptcp:6653:127.0.0.1
printf 'set 31 tcp 10.0.0.1:1 10.0.0.9:2 drop\n' > "$tmp/tcp.cmds"
check "tcp: target: installs" eval 'ovs_exec "$RULES" tcp:127.0.0.1:6653 < "$tmp/tcp.cmds" > /dev/null 2>&1'
check "tcp: target: the rule is there" eval 'ours | grep -q "cookie=0xf5e100000000001f"'
vsctl del-controller br0

echo "== wait-gone: a removed flow holds nothing once its rules are gone"
# The input stays open after wait-gone, so the tool then waits in read()
# without running flowrules: the switch has what it had when wait-gone
# returned.
printf 'set 50 udp 10.0.0.1:40600 10.0.0.2:9 allow\nset 51 udp 10.0.0.1:40601 10.0.0.2:9 allow\nsync\ndel 50\nwait-gone 50\n' > "$tmp/gone.cmds"
bg_start gone eval '{ cat "$tmp/gone.cmds"; sleep 10; } | "$RULES" "$T"'
check "wait-gone: returns" wait_until 10 grep -q "^gone 50 in [0-9]* ms" "$(bg_log gone)"
check "wait-gone: flow 50's rules are gone from the switch" \
    eval '! ours | grep -q "cookie=0xf5e1000000000032,"'
check "wait-gone: flow 51's rules are still there" \
    test "$(ours | grep -c 'cookie=0xf5e1000000000033,')" -eq 2
bg_stop gone

echo "== bad input and errors"
check "bad table is refused" eval '! "$RULES" --table=255 "$T" < /dev/null > /dev/null 2>&1'
printf 'set 20 tcp 10.0.0.1:1 10.0.0.2:2 mirror:nosuchport\nset 21 tcp 10.0.0.1:1 10.0.0.2:3 allow\n' > "$tmp/bad.cmds"
rules < "$tmp/bad.cmds"
check "unknown mirror port: reported with the flow" grep -q "error flow 20: No such file" "$tmp/rules.out"
check "unknown mirror port: the other flow installed" eval 'ours | grep -q "cookie=0xf5e1000000000015"'
printf 'set 22 tcp 10.0.0.1 10.0.0.2:2 frobnicate\nset 23 tcp 10.0.0.1:1 300.0.0.2:2 allow\nbogus\n' > "$tmp/bad2.cmds"
rules < "$tmp/bad2.cmds"
check "bad actions, addresses, commands: one clear error each" test "$(grep -c 'stdin:[0-9]*:' "$tmp/rules.err")" -eq 3

# The switch refuses: a table limited to a few rules says 'table full'.
# The refused flows are reported once each, with the policy, and not
# retried (no storm of flow_mods).
vsctl -- --id=@ft create Flow_Table flow_limit=24 overflow_policy=refuse \
      -- set Bridge br0 flow_tables:0=@ft > /dev/null
seq 100 139 | awk '{printf "set %d udp 10.1.0.1:%d 10.1.0.2:9 allow\n", $1, $1}' > "$tmp/full.cmds"
cat "$tmp/state.cmds" "$tmp/full.cmds" > "$tmp/full-all.cmds"
rules --full-policy=drop < "$tmp/full-all.cmds"
nfull=$(grep -c "table full: drop new flows" "$tmp/rules.out")
check "table full: flows refused and reported ($nfull)" test "$nfull" -ge 20
check "table full: counted" test "$(stat_of table_full)" -ge 1
check "table full: no retry storm" test "$(stat_of flow_mods_sent)" -le 100
vsctl clear Bridge br0 flow_tables > /dev/null

echo "== commit: a change to many verdicts goes in one bundle"
# 5000 flows, bundles of 3000 flow mods: changing every verdict takes 4
# bundles, unless committed.
seq 3000 7999 | awk '{printf "set %d tcp 10.4.%d.%d:%d 10.5.0.1:80 allow\n", $1, int($1/250)%250, $1%250, 1024+$1}' > "$tmp/c-allow.cmds"
sed 's/ allow$/ drop/' "$tmp/c-allow.cmds" > "$tmp/c-drop.cmds"
stat_at() {   # stat_at N KEY: a number from the Nth stats line
    grep '^{' "$tmp/rules.out" | sed -n "$1p" | grep -o "\"$2\":[0-9]*" | cut -d: -f2
}
moved() {     # moved KEY: how much KEY moved from the first stats line to the last
    echo $(( $(stat_at 2 "$1") - $(stat_at 1 "$1") ))
}
n_actions() { ours | grep -c "actions=$1$"; }
{ cat "$tmp/c-allow.cmds"; echo sync; echo stats; cat "$tmp/c-drop.cmds"; echo commit; } > "$tmp/commit.cmds"
check "commit: the tool succeeds" rules --bundle-max=3000 < "$tmp/commit.cmds"
check "commit: 10000 flow mods ($(moved flow_mods_sent))" test "$(moved flow_mods_sent)" -eq 10000
check "commit: in exactly one bundle ($(moved bundles_sent))" test "$(moved bundles_sent)" -eq 1
check "commit: counted" test "$(stat_of commits)" -eq 1
check "commit: all 10000 rules changed to drop" test "$(n_actions drop)" -eq 10000
check "commit: and nothing else is there" test "$(n_ours)" -eq 10000
{ cat "$tmp/c-drop.cmds"; echo sync; echo stats; cat "$tmp/c-allow.cmds"; } > "$tmp/nocommit.cmds"
check "no commit: the tool succeeds" rules --bundle-max=3000 < "$tmp/nocommit.cmds"
check "no commit: the same change takes several bundles ($(moved bundles_sent))" \
    test "$(moved bundles_sent)" -ge 2
check "no commit: all 10000 rules changed back" test "$(n_actions NORMAL)" -eq 10000
# A change made after the commit waits for the next bundle.
{ cat "$tmp/commit.cmds"; echo "set 8000 tcp 10.4.0.1:1 10.5.0.1:80 drop"; } > "$tmp/commit2.cmds"
check "commit, then a change: the tool succeeds" rules --bundle-max=3000 < "$tmp/commit2.cmds"
check "commit, then a change: 10002 flow mods" test "$(moved flow_mods_sent)" -eq 10002
check "commit, then a change: in two bundles ($(moved bundles_sent))" test "$(moved bundles_sent)" -eq 2

# A connection killed in the middle of bundles: the switch discards the
# uncommitted bundle, so it holds whole flows only (2 rules per cookie);
# the next run completes the set.  The tool gets all but the last 1000
# flows through a FIFO held open, and is killed as soon as the switch
# holds any: so the kill lands with 0 < rules < 40000, asserted.
seq 1000 20999 | awk '{printf "set %d tcp 10.2.%d.%d:%d 10.3.0.1:80 allow\n", $1, int($1/250)%250, $1%250, 1024+$1}' > "$tmp/big.cmds"
our_rules() {
    ofctl -O OpenFlow13 dump-aggregate br0 "cookie=0xf5e1000000000000/0xffff000000000000" |
        grep -o 'flow_count=[0-9]*' | cut -d= -f2
}
mkfifo "$tmp/big.fifo"
"$RULES" --bundle-max=1000 "$T" < "$tmp/big.fifo" > /dev/null 2>&1 &
pid=$!
bg_start writer sh -c 'exec > "$2"; head -n 19000 "$1"; sleep 30' _ \
    "$tmp/big.cmds" "$tmp/big.fifo"
wait_until 20 eval '[ "$(our_rules)" -gt 0 ]'
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
bg_stop writer
at_kill=$(our_rules)
check "killed mid-way: the switch held some rules, not all ($at_kill of 40000)" \
    test "$at_kill" -gt 0 -a "$at_kill" -lt 40000
half=$(ofctl -O OpenFlow13 --no-stats dump-flows br0 "cookie=0xf5e1000000000000/0xffff000000000000" | grep -o "cookie=0x[0-9a-f]*" | sort | uniq -c | awk '$1 != 2' | wc -l)
check "killed mid-bundle: only whole flows installed" test "$half" -eq 0
check "killed mid-bundle: the next run completes the set" rules < "$tmp/big.cmds"
check "killed mid-bundle: 20000 flows, 40000 rules" \
    test "$(ofctl -O OpenFlow13 dump-aggregate br0 "cookie=0xf5e1000000000000/0xffff000000000000" | grep -o 'flow_count=[0-9]*' | cut -d= -f2)" -eq 40000
check "controller's rules survived everything" test "$(ctrl_rules)" -eq 2
# flowsteer-rules runs that end, or are killed, without a goodbye, and
# ovs-vswitchd restarted with SIGTERM.
log_allow 'rconn(\(urcu[0-9]+\))?\|WARN\|br0<->unix#[0-9]+: connection dropped' \
    'vconn_stream\|ERR\|send: Broken pipe' \
    'fatal_signal(\([^)]*\))?\|WARN\|terminating with signal 15'
finish
