#!/bin/bash
# flowsteerd as an admin meets it: an OVS-style daemon (--detach,
# --pidfile, --log-file, --monitor, ovs-appctl), configured with ovs-vsctl
# keys that it validates with clear messages, follows at run time, and
# shows in flowsteer/show.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add vm1 br-int 10.0.0.1/24
vm_add vm2 br-int 10.0.0.2/24

cat > "$tmp/policy.conf" <<'EOF'
priority=100, profile=web, app=SSH, actions=drop
priority=0, profile=web, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-mode=inline external_ids:flowsteer-fail=closed \
    external_ids:flowsteer-policy="$tmp/policy.conf"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=web

# Started by hand, outside OVS's namespace: there its liveness tap is not
# an OVS port, so the steering rules below act directly, without groups.
FSD_CTL=$tmp/flowsteerd.ctl
"$FSD" --detach --monitor --pidfile="$tmp/flowsteerd.pid" \
    --log-file="$tmp/flowsteerd.log" --unixctl="$FSD_CTL" \
    "unix:$OVS_DIR/db.sock" || fail "flowsteerd did not start"
# The monitor and the daemon, both to be stopped at the end.
_ol_bg_all+=("$(fsd_pid)")
show() { fsctl flowsteer/show > "$tmp/show" 2>&1; }
shows() { show && grep -q -- "$1" "$tmp/show" || { echo "  flowsteer/show lacks: $1"; cat "$tmp/show"; false; }; }

check "daemon answers ovs-appctl" wait_until 5 show
check "--version" eval '"$FSD" --version | grep -q "nDPI"'
check "connected to the database" shows "db.sock (connected)"
check "inspection on for br-int" shows "inspection: on"
check "mode and fail read" eval 'shows "mode: inline" && shows "fail: closed"'
check "the policy is used" shows "policy: $tmp/policy.conf"
check "vm1 inspected with profile web" \
    shows "$(vm_port vm1): ofport $(vm_ofport vm1), profile web"
check "no problems" shows "problems: 0"

echo "== the topology it maintains"
check "security bridge, patch ports and inspector port created" \
    wait_until 10 shows "topology: complete"
check "br-sec has the integration bridge's datapath and is secure" eval \
    '[ "$(vsctl get Bridge br-sec datapath_type)" = netdev ] && [ "$(vsctl get Bridge br-sec fail_mode)" = secure ]'
check "patch ports peer each other" eval \
    '[ "$(vsctl get Interface fs-patch-int options:peer)" = fs-patch-sec ] && [ "$(vsctl get Interface fs-patch-sec options:peer)" = fs-patch-int ]'
check "the inspector port is an internal port of br-sec" eval \
    '[ "$(vsctl get Interface fs-insp0 type)" = internal ] && vsctl list-ports br-sec | grep -qx fs-insp0'
vsctl del-port br-sec fs-insp0
check "a deleted piece is put back" wait_until 10 eval 'vsctl list-ports br-sec | grep -qx fs-insp0'

echo "== the steering pipeline"
steer() {   # steer BRIDGE: our steering rules, sorted, without statistics
    ofctl -O OpenFlow13 --no-stats dump-flows "$1" \
        "cookie=0xf5e2000000000000/0xffff000000000000" | grep cookie= | sort
}
has_rule() {   # has_rule BRIDGE TEXT
    steer "$1" | grep -qF -- "$2" || { echo "  $1 lacks: $2"; steer "$1"; false; }
}
pi=$(vsctl get Interface fs-patch-int ofport)
ps=$(vsctl get Interface fs-patch-sec ofport)
pin=$(vsctl get Interface fs-insp0 ofport)
p1=$(vm_ofport vm1)
check "steering rules installed" wait_until 10 eval \
    'shows "steering on br-int: 6 rules, installed" && shows "steering on br-sec: 2 rules, installed"'
# Steering, verdict rules and migration (the steering counters it polls)
# share one OpenFlow connection (fr-conn): one rconn connected to br-int's
# management socket, with three users.
mgmt_connects() { grep -c "br-int.mgmt: connecting" "$tmp/flowsteerd.log"; }
check "one OpenFlow connection to br-int, shared by steering, verdicts and migration" \
    eval 'shows "br-int.mgmt (3 users): connected" &&
          [ "$(mgmt_connects)" -eq 1 ]'
check "br-int: vm1's traffic tagged with its port, to the patch port" \
    has_rule br-int "priority=29000,in_port=$p1 actions=push_vlan:0x8100,set_field:$((4096 + p1))->vlan_vid,set_field:0->vlan_pcp,output:$pi"
check "br-int: all of it (any ethertype) but ARP" \
    has_rule br-int "priority=29010,arp,in_port=$p1 actions=NORMAL"
check "br-int: and RARP (QEMU's announce of a VM that moved here)" \
    has_rule br-int "priority=29010,rarp,in_port=$p1 actions=NORMAL"
check "br-int: returning packets get their original in_port back" \
    has_rule br-int "priority=30100,in_port=$pi,vlan_tci=0x1000/0x1000 actions=set_field:0->in_port,move:NXM_OF_VLAN_TCI[0..11]->NXM_OF_IN_PORT[0..11],move:NXM_OF_VLAN_TCI[13..15]->NXM_OF_IN_PORT[12..14],pop_vlan,NORMAL"
check "br-int: and LOCAL's" \
    has_rule br-int "priority=30110,in_port=$pi,dl_vlan=4094,dl_vlan_pcp=7 actions=set_field:LOCAL->in_port,pop_vlan,NORMAL"
check "br-int: nothing else comes back through the patch" \
    has_rule br-int "priority=30000,in_port=$pi actions=drop"
check "br-sec: tagged packets to the inspector" \
    has_rule br-sec "priority=100,in_port=$ps,vlan_tci=0x1000/0x1000 actions=output:$pin"
check "br-sec: the inspector's packets back to the patch" \
    has_rule br-sec "priority=100,in_port=$pin actions=output:$ps"
vsctl set Interface "$(vm_port vm1)" external_ids:attached-mac='"02:00:00:00:00:01"'
check "attached-mac: the reverse direction is steered too" wait_until 5 \
    has_rule br-int "priority=28900,dl_dst=02:00:00:00:00:01 actions=push_vlan:0x8100,move:NXM_OF_IN_PORT[0..11]->NXM_OF_VLAN_TCI[0..11]"

echo "== run-time changes"
vsctl set Interface "$(vm_port vm2)" external_ids:flowsteer-inspect=true
check "a port added to inspection" wait_until 5 shows "inspected ports: 2"
vsctl set Interface "$(vm_port vm2)" external_ids:flowsteer-profile=db
check "a port re-profiled" wait_until 5 shows "profile db"
vsctl remove Interface "$(vm_port vm2)" external_ids flowsteer-inspect
check "a port removed from inspection, its profile flagged" \
    wait_until 5 shows "flowsteer-profile=db without flowsteer-inspect=true"
vsctl set Open_vSwitch . external_ids:flowsteer-mode=tap
check "mode changed to tap" wait_until 5 shows "mode: tap"
check "tap mode: a copy to the inspector, then on at once" wait_until 5 \
    has_rule br-int "output:$pi,pop_vlan,NORMAL"

echo "== bad configuration is reported, never fatal, and changes nothing"
vsctl set Open_vSwitch . external_ids:flowsteer-mode=bogus
check "bad mode" wait_until 5 shows "flowsteer-mode=bogus: want inline or tap; keeping tap"
check "the mode in use stays" has_rule br-int "output:$pi,pop_vlan,NORMAL"
vsctl set Open_vSwitch . external_ids:flowsteer-fail=maybe
check "bad fail mode" wait_until 5 shows "flowsteer-fail=maybe: want open or closed; keeping"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=yes
check "bad inspect value" wait_until 5 shows "flowsteer-inspect=yes: want true or false"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile='a b'
check "bad profile" wait_until 5 shows 'flowsteer-profile="a b"'
vsctl add-port br-int ghost -- set Interface ghost \
    external_ids:flowsteer-inspect=true
check "a port that does not exist" wait_until 5 shows "interface ghost: no OpenFlow port yet"
vsctl set Open_vSwitch . external_ids:flowsteer-policy=/nonexistent/policy
check "unreadable policy: the one in use stays" wait_until 5 \
    shows "policy: /nonexistent/policy: No such file or directory; keeping $tmp/policy.conf"
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-nosuch
check "unknown bridge: inspection stays where it is" wait_until 5 \
    shows "flowsteer-bridge=br-nosuch: no such bridge; still inspecting on br-int"
check "and so do the steering rules" has_rule br-int "output:$pi,pop_vlan,NORMAL"
check "the daemon is still alive" eval 'kill -0 "$(cat "$tmp/flowsteerd.pid")"'
check "problems are in the log" grep -q "configuration: flowsteer-bridge=br-nosuch: no such bridge" "$tmp/flowsteerd.log"
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-sec
check "the security bridge as integration bridge: refused too" wait_until 5 \
    shows "flowsteer-bridge=br-sec: it is the security bridge; still inspecting on br-int"

check "flowsteer/flows refuses an unknown option" eval \
    '! fsctl flowsteer/flows --yaml 2> "$tmp/err" && grep -q "usage: flowsteer/flows \[--json\]" "$tmp/err"'

echo "== policy reload"
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf"
check "policy back" wait_until 5 shows "policy: $tmp/policy.conf"
check "reload a good policy" eval 'fsctl flowsteer/policy-reload | grep -q "policy reloaded"'
printf 'priority=5, app=HTTP, actions=explode\n' > "$tmp/policy.conf"
check "reload a bad policy: error with file:line:column" eval \
    '! fsctl flowsteer/policy-reload 2> "$tmp/err" && grep -q "policy.conf:1:" "$tmp/err"'
check "the bad policy is shown" shows "policy: $tmp/policy.conf:1:"

echo "== the monitor restarts a crashed daemon"
pid1=$(cat "$tmp/flowsteerd.pid")
# A crash (SIGKILL is taken as deliberate and not restarted).  SIGABRT,
# not SIGSEGV: a sanitizer build catches SEGV and may exit with a status.
kill -ABRT "$pid1"
check "restarted with a new pid" wait_until 15 eval \
    '[ -s "$tmp/flowsteerd.pid" ] && [ "$(cat "$tmp/flowsteerd.pid")" != "$pid1" ] && show'
_ol_bg_all+=("$(cat "$tmp/flowsteerd.pid")")
check "exit by ovs-appctl" eval 'fsctl exit && wait_until 5 eval "! kill -0 $(cat "$tmp/flowsteerd.pid") 2>/dev/null"'
# Its bad configuration on purpose; a port that does not exist.
log_allow 'flowsteerd(\(flowsteerd\))?\|WARN\|configuration: ' \
    'fs_policy(\(flowsteerd\))?\|WARN\|policy: ' \
    'backtrace\(monitor\)\|WARN\|Backtrace using libunwind not supported' \
    'bridge\|WARN\|could not open network device ghost' \
    'fatal_signal\|WARN\|terminating with signal' \
    'daemon_unix\(monitor\)\|(WARN|ERR)\|' \
    'rconn\|WARN\|br-(int|sec)<->unix#[0-9]+: connection dropped'
finish
