#!/bin/bash
# Bad configuration is reported and changes nothing: every bad key value,
# a policy path that names a FIFO, a symbolic link, a world-writable file,
# /etc/shadow or a directory, bridge names that are not names, and a
# security bridge that is not flowsteerd's own.  Forwarding stays as it
# was, flowsteer/show lists the problem, and no output of flowsteerd (its
# log, flowsteer/show, the reload reply) holds any of a file's text that is
# not policy.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
ovs_lib_init
two_vms_with_servers                # vm1 inspected

mkdir -m 700 "$tmp/etc"
POLICY=$tmp/etc/policy.conf
cat > "$POLICY" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=0, profile=web, actions=allow
EOF
chmod 644 "$POLICY"
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$POLICY"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=web
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -qF -- "$1" "$tmp/show"; }
check "steering installed" wait_until 15 fsd_steering 6
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"
http() { vm_exec vm1 curl -s -o /dev/null --max-time 3 "http://10.0.0.2:$1/"; }
enforced() { http 8080 && ! http 2222; }
check "the policy is enforced" enforced
steering() {
    ofctl -O OpenFlow13 --no-stats dump-flows br-int \
        "cookie=0xf5e2000000000000/0xffff000000000000" | sort
}
steering > "$tmp/steering"

# A secret that must never show.
SECRET=s3cr3t-$RANDOM-do-not-print
no_secret() {                       # no_secret: in no output
    fsctl flowsteer/show > "$tmp/show.all" 2>&1
    ! grep -rqF -- "$SECRET" "$tmp/show.all" "$tmp/flowsteerd.log" \
        "$tmp/reload" 2>/dev/null
}

# bad_policy DESC EXPECTED: with flowsteer-policy pointing at $PATH_BAD,
# flowsteer/show says EXPECTED, the policy in use stays, nothing of the
# secret shows, and the reload command fails with the same reason.
bad_policy() {
    local desc=$1 expected=$2
    vsctl set Open_vSwitch . external_ids:flowsteer-policy="$PATH_BAD"
    check "$desc: reported" wait_until 5 shows "$expected; keeping $POLICY"
    check "$desc: the policy in use stays" enforced
    fsctl flowsteer/policy-reload > "$tmp/reload" 2>&1
    check "$desc: policy-reload fails, and says why" grep -qF "$expected" \
        "$tmp/reload"
    check "$desc: no text of the file in any output" no_secret
}

echo "== policy paths"
printf 'root:%s:19000:0:99999:7:::\n' "$SECRET" > "$tmp/etc/shadow"
chmod 600 "$tmp/etc/shadow"
PATH_BAD=$tmp/etc/shadow
bad_policy "a shadow file" "$PATH_BAD:1:1: unknown field (not shown: not a policy token)"
PATH_BAD=/etc/shadow
bad_policy "/etc/shadow" "/etc/shadow:1:1: unknown field (not shown: not a policy token)"
mkfifo -m 600 "$tmp/etc/fifo"
PATH_BAD=$tmp/etc/fifo
bad_policy "a FIFO (the daemon does not hang)" "$PATH_BAD: not a regular file"
check "a FIFO: flowsteerd still answers" fsctl flowsteer/show
ln -s "$POLICY" "$tmp/etc/link"
PATH_BAD=$tmp/etc/link
bad_policy "a symbolic link" "$PATH_BAD: a symbolic link (not followed: name the file itself)"
PATH_BAD=$tmp/etc
bad_policy "a directory" "$PATH_BAD: not a regular file"
printf 'priority=1, actions=allow\n# %s\n' "$SECRET" > "$tmp/etc/open.conf"
chmod 666 "$tmp/etc/open.conf"
PATH_BAD=$tmp/etc/open.conf
bad_policy "a world-writable file" "$PATH_BAD: writable by its group or by others (mode 0666; flowsteer-policy-permissive=true allows it)"
chown 65534 "$tmp/etc/open.conf"
chmod 644 "$tmp/etc/open.conf"
bad_policy "a file of another user" "$PATH_BAD: owned by uid 65534, not by root or by flowsteerd's user (flowsteer-policy-permissive=true allows it)"
vsctl set Open_vSwitch . external_ids:flowsteer-policy-permissive=true
check "flowsteer-policy-permissive=true lets it in" wait_until 5 \
    shows "policy: $PATH_BAD"
check "and it is in force (it allows all)" wait_until 5 http 2222
vsctl remove Open_vSwitch . external_ids flowsteer-policy-permissive -- \
    set Open_vSwitch . external_ids:flowsteer-policy=relative.conf
check "a relative path is refused" wait_until 5 \
    shows "flowsteer-policy: want an absolute path; no policy loaded from it"
vsctl set Open_vSwitch . external_ids:flowsteer-policy="$POLICY"
check "back to the real policy" wait_until 5 enforced

echo "== bad values of every key"
# bad_key KEY=VALUE EXPECTED
bad_key() {
    vsctl set Open_vSwitch . "external_ids:$1"
    check "${1%%=*}=bad: reported" wait_until 5 shows "$2"
    check "${1%%=*}=bad: forwarding as it was" enforced
    vsctl remove Open_vSwitch . external_ids "${1%%=*}"
}
bad_key flowsteer-mode=ips "flowsteer-mode=ips: want inline or tap; keeping inline"
bad_key flowsteer-fail=maybe "flowsteer-fail=maybe: want open or closed; keeping open"
bad_key flowsteer-datapath=magic "flowsteer-datapath=magic: want auto, afpacket, afxdp or dpdk; keeping auto"
bad_key flowsteer-dpdk-lcores="0;reboot" "flowsteer-dpdk-lcores=0;reboot: want a core list such as 1 or 0-1,3; keeping the default"
bad_key flowsteer-dpdk-mem=8 "flowsteer-dpdk-mem=8: want MB from 16 to 65536; keeping 128"
bad_key flowsteer-workers=17 "flowsteer-workers=17: want 1 to 16 workers; keeping 1"
bad_key flowsteer-workers=-1 "flowsteer-workers=-1: want 1 to 16 workers; keeping 1"
bad_key flowsteer-dpdk-extra="$(printf -- '--vdev=x\ty')" "flowsteer-dpdk-extra: want printable arguments, at most 512 characters; keeping none"
vsctl set Open_vSwitch . external_ids:flowsteer-datapath=dpdk
check "flowsteer-datapath=dpdk without OVS-DPDK: says why it reads with afpacket" \
    wait_until 5 shows "datapath: dpdk (afpacket: dpdk configured, but Open vSwitch has not initialized DPDK"
check "and forwarding is as it was" enforced
vsctl remove Open_vSwitch . external_ids flowsteer-datapath
bad_key flowsteer-exception-policy=drop,x=y "flowsteer-exception-policy: item 2: unknown exception class; keeping the actions in use"
bad_key flowsteer-idle-timeout-tcp=0 "flowsteer-idle-timeout-tcp: want seconds from 1 to 65535; keeping 300"
bad_key flowsteer-idle-timeout-udp=1e9 "flowsteer-idle-timeout-udp: want seconds from 1 to 65535; keeping 60"
bad_key flowsteer-watchdog-ms=5 "flowsteer-watchdog-ms: want 0 (off) or milliseconds from 100 to 60000; keeping 500"
bad_key flowsteer-policy-permissive=yes "flowsteer-policy-permissive: want true or false; keeping false"
bad_key flowsteer-sec-bridge=../../etc "flowsteer-sec-bridge: not a bridge name (1 to 15 letters, digits, '.', '-' or '_'); using br-sec"
bad_key flowsteer-sec-bridge=br-sec-far-too-long "flowsteer-sec-bridge: not a bridge name"
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=../br-int
check "flowsteer-bridge=../br-int: reported, not used" wait_until 5 \
    shows "flowsteer-bridge=(not shown): not a bridge name; still inspecting on br-int"
check "forwarding as it was" enforced
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=perhaps
check "flowsteer-inspect=perhaps: reported" wait_until 5 \
    shows "flowsteer-inspect=perhaps: want true or false; not inspected"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile='"a b"'
check "a profile with a space: reported" wait_until 5 \
    shows "a profile is 1 to 64 characters, no spaces"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=web
bad_key flowsteer-migration-remote=ptcp:6650 "flowsteer-migration-remote: want pssl:PORT[:IP] (migrations use TLS only); not listening"
bad_key flowsteer-migration-remote=pssl:6650 "flowsteer-migration-remote: no SSL configuration (ovs-vsctl set-ssl): not listening"
vsctl set Interface "$(vm_port vm1)" external_ids:iface-id='"a b"'
check "an iface-id with a space: reported" wait_until 5 \
    shows "iface-id: want 1 to 255 printable characters, no spaces; it cannot migrate"
vsctl set Interface "$(vm_port vm1)" external_ids:iface-id=vm1-id \
    external_ids:flowsteer-migrate-from=tcp:10.0.0.9:6650
check "a pull from a plain TCP peer: reported" wait_until 5 \
    shows "flowsteer-migrate-from=tcp:10.0.0.9:6650: want ssl:HOST:PORT or chassis:NAME, and an iface-id; not pulled"
check "forwarding as it was" enforced
vsctl remove Interface "$(vm_port vm1)" external_ids flowsteer-migrate-from
vsctl set Open_vSwitch . external_ids:flowsteer-remote=tcp:127.0.0.1:1 \
    external_ids:flowsteer-chassis=c1 external_ids:flowsteer-remote-relay=maybe
check "flowsteer-remote-relay=maybe: reported" wait_until 5 \
    shows "flowsteer-remote-relay: want true or false; taking false (the remotes are the cluster's members)"
check "forwarding as it was" enforced
vsctl remove Open_vSwitch . external_ids flowsteer-remote \
    -- remove Open_vSwitch . external_ids flowsteer-chassis \
    -- remove Open_vSwitch . external_ids flowsteer-remote-relay
check "all fixed: no problems" wait_until 5 shows "problems: 0"
check "the steering rules are the same as at the start" eval \
    'steering | diff "$tmp/steering" -'
check "no secret anywhere" no_secret

echo "== a security bridge that is not flowsteerd's"
fsctl exit > /dev/null 2>&1
wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' || fail "flowsteerd did not exit"
# A new name: a netdev bridge's tap outlives the bridge.
vsctl del-br br-sec -- set Open_vSwitch . external_ids:flowsteer-sec-bridge=br-sec2
vsctl add-br br-sec2 -- set bridge br-sec2 datapath_type=netdev \
    fail_mode=standalone
fsd_start
check "a bridge with fail_mode standalone is refused" wait_until 10 \
    shows "security bridge br-sec2 has fail_mode standalone, not secure: not used"
vsctl set bridge br-sec2 fail_mode=secure -- add-port br-sec2 intruder \
    -- set interface intruder type=internal
check "one with a port of someone else's is refused" wait_until 10 \
    shows "security bridge br-sec2 has a port of its own (intruder): not used"
check "meanwhile nothing of flowsteerd's is put in it" eval \
    '! vsctl list-ports br-sec2 | grep -q fs- &&
     ! ofctl -O OpenFlow13 dump-flows br-sec2 | grep -q cookie=0xf5e2'
vsctl del-port br-sec2 intruder
check "once it is flowsteerd's alone, it is used" wait_until 15 eval \
    'fsctl flowsteer/show | grep -q "steering on br-sec2: 2 rules, installed"'
check "and the policy is enforced through it" wait_until 10 enforced

# Everything it gets wrong on purpose.
log_allow 'flowsteerd\|WARN\|configuration: ' 'fs_policy\|WARN\|policy: ' \
    'fs_topo\|WARN\|security bridge br-sec2 has' \
    'rconn\|WARN\|br-(int|sec)<->unix#[0-9]+: connection dropped'
fsctl exit > /dev/null 2>&1 || :
finish
