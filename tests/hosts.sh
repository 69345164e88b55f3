#!/bin/bash
# Two hosts in one test, as live migration needs (tests/ovs-lib.sh's
# ovs_host, hosts_link, vm_add_migratable, vm_migrate): hosts a and b,
# each its own ovsdb-server and ovs-vswitchd in a namespace of its own,
# their br-int (NORMAL) joined by a veth pair.  VM "mv", with a leg into
# each host's br-int, talks TCP to "srv" on b through host a, moves to b
# (its leg to a down, the one to b up, a RARP) and the connection goes on
# without a reset, now through b's port; the hosts' management network
# carries TCP; nothing of the run is left afterwards.  No flowsteerd.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

ovs_lib_init
py=$(find_python) || skip "no python3"
prefix=$OVS_LIB_PREFIX

# The traffic: an echo server, and a client with one long-lived
# connection that sends a numbered line every 50 ms and checks each echo,
# writing how many came back to FILE; at the first reset, timeout or wrong
# echo it writes the reason to FILE.err and exits 1.  "once" connects from
# a given source address, checks one echo and exits.
cat > "$tmp/traffic.py" <<'EOF'
import os
import socket
import sys
import threading
import time


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def connect(host, port, src=None):
    deadline = time.time() + 5
    while True:
        try:
            return socket.create_connection(
                (host, port), timeout=5,
                source_address=(src, 0) if src else None)
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.1)


def serve(host, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)

    def echo(c):
        with c:
            for line in c.makefile("rb"):
                c.sendall(line)

    while True:
        c, _ = s.accept()
        threading.Thread(target=echo, args=(c,), daemon=True).start()


def stream(host, port, path):
    n = 0
    try:
        s = connect(host, port)
        f = s.makefile("rb")
        while True:
            want = b"line %d\n" % (n + 1)
            s.sendall(want)
            got = f.readline()
            if got != want:
                raise RuntimeError("echo %r, wanted %r" % (got, want))
            n += 1
            write(path, "%d\n" % n)
            time.sleep(0.05)
    except Exception as e:
        write(path + ".err", "after %d lines: %s\n" % (n, e))
        sys.exit(1)


def once(host, port, src):
    s = connect(host, port, src)
    s.sendall(b"hello\n")
    got = s.makefile("rb").readline()
    if got != b"hello\n":
        sys.exit("echo %r" % got)
    print("%s:%d -> %s:%d" % (s.getsockname() + s.getpeername()))


cmd = sys.argv[1]
if cmd == "server":
    serve(sys.argv[2], int(sys.argv[3]))
elif cmd == "stream":
    stream(sys.argv[2], int(sys.argv[3]), sys.argv[4])
else:
    once(sys.argv[2], int(sys.argv[3]), sys.argv[4])
EOF

for h in a b; do
    ovs_host "$h"
    ovs_start
    ovs_add_bridge br-int
    ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
done

# Each host its own OVS, and the variables follow the current host.
uuid() { vsctl get Open_vSwitch . _uuid; }
check "each host has its own database" \
    [ "$(on_host a uuid)" != "$(on_host b uuid)" ]
check "each host has its own daemons" \
    [ "$(on_host a ovs_pids)" != "$(on_host b ovs_pids)" ]
ovs_host a
check "host a is the usual one (P-host, \$tmp/ovs, flowsteerd in \$tmp)" \
    [ "$OVS_HOST_NS $OVS_DIR $FSD_DIR $OVS_RUNDIR" = \
      "$prefix-host $tmp/ovs $tmp $tmp/ovs" ]
ovs_host b
check "host b has its namespace, directory and flowsteerd's place" \
    [ "$OVS_HOST_NS $OVS_DIR $FSD_DIR $OVS_RUNDIR" = \
      "$prefix-hb $tmp/ovs-b $tmp/fsd-b $tmp/ovs-b" ]
check "plain ovs-vsctl reaches the current host's OVS" \
    [ "$(ovs-vsctl --timeout=5 get Open_vSwitch . _uuid)" = "$(uuid)" ]
check "ovs_host prints the current host" [ "$(ovs_host)" = b ]
check "on_host keeps the current host" \
    eval 'on_host a true && [ "$(ovs_host) $OVS_DIR" = "b $tmp/ovs-b" ]'

hosts_link a b
link_ofport() {
    on_host "$1" vsctl get interface "$(hosts_link_port "$1" "$2")" ofport
}
check "a's port towards b has ofport 1002" [ "$(link_ofport a b)" = 1002 ]
check "b's port towards a has ofport 1001" [ "$(link_ofport b a)" = 1001 ]

ovs_host b
vm_add srv br-int 10.0.0.100/24
bg_start echo vm_exec srv "$py" "$tmp/traffic.py" server 10.0.0.100 8080
vm_add_migratable mv 10.0.0.1/24
ovs_host a

check "mv is on host a" [ "$(vm_host mv)" = a ]
check "mv has the same ofport on both hosts" \
    [ "$(vm_ofport_on mv a) $(vm_ofport_on mv b)" = "2 2" ]
check "mv's port on b is in b's bridge" \
    eval '[ "$(on_host b vsctl port-to-br "$(vm_port_on mv b)")" = br-int ]'
is_up() {
    vm_exec mv ip -o link show "$(vm_if_on mv "$1")" | grep -q '[<,]UP[,>]'
}
check "mv's leg to b is down, the one to a up" eval '! is_up b && is_up a'
check "both legs have the VM's MAC" \
    eval '[ "$(vm_exec mv cat /sys/class/net/"$(vm_if_on mv a)"/address \
                /sys/class/net/"$(vm_if_on mv b)"/address | sort -u)" = \
           "$(vm_mac mv)" ]'

# rx_on HOST: packets HOST's switch received from mv's port there.
rx_on() {
    on_host "$1" ofctl -O OpenFlow13 dump-ports br-int \
        "$(vm_ofport_on mv "$1")" |
        sed -n 's/.*rx pkts=\([0-9]*\).*/\1/p'
}
rx_a=$(rx_on a)
check "mv pings srv (through host a)" vm_exec mv ping -q -c1 -W2 10.0.0.100
check "...whose port on a got it" [ "$(rx_on a)" -gt "$rx_a" ]

bg_start stream vm_exec mv "$py" "$tmp/traffic.py" stream 10.0.0.100 8080 \
    "$tmp/stream"
lines() { cat "$tmp/stream" 2>/dev/null || echo 0; }
check "the stream flows" wait_until 10 eval '[ "$(lines)" -gt 20 ]'
rx_b=$(rx_on b)

vm_migrate mv b
rx_a=$(rx_on a)
n=$(lines)
fdb_port() {
    on_host "$1" appctl fdb/show br-int |
        awk -v mac="$(vm_mac mv)" '$3 == mac { print $1 }'
}
check "the announce moved mv's MAC, on a to the link to b" \
    wait_until 2 eval '[ "$(fdb_port a)" = 1002 ]'
check "...and on b to mv's port" \
    wait_until 2 eval '[ "$(fdb_port b)" = "$(vm_ofport_on mv b)" ]'
check "mv is on host b" \
    [ "$(vm_host mv) $(vm_port mv) $(vm_if mv)" = \
      "b $(vm_port_on mv b) $(vm_if_on mv b)" ]
addrs() { vm_exec mv ip -o -4 addr show dev "$(vm_if_on mv "$1")"; }
check "mv's address moved to its leg to b" \
    eval 'addrs b | grep -q " 10.0.0.1/24 " && [ -z "$(addrs a)" ]'
check "the stream goes on after the migration" \
    wait_until 15 eval '[ "$(lines)" -gt $((n + 40)) ]'
check "the stream had no reset nor wrong echo" \
    eval '[ ! -e "$tmp/stream.err" ] && _ol_alive "$(bg_pid stream)"'
[ ! -e "$tmp/stream.err" ] || cat "$tmp/stream.err"
check "it went through mv's port on b" [ "$(rx_on b)" -gt $((rx_b + 40)) ]
check "and no longer through a" [ "$(rx_on a)" = "$rx_a" ]
check "mv pings srv after the migration" vm_exec mv ping -q -c1 -W2 10.0.0.100
bg_stop stream

# The management network: host b to host a, TCP between the addresses.
check "b pings a's management address" \
    on_host b ovs_exec ping -q -c1 -W2 "$(host_ip a)"
bg_start mgmt on_host a ovs_exec "$py" "$tmp/traffic.py" server \
    "$(host_ip a)" 6650
mgmt_tcp() {
    on_host b ovs_exec "$py" "$tmp/traffic.py" once "$(host_ip a)" 6650 \
        "$(host_ip b)" > "$tmp/mgmt" &&
        grep -qx "$(host_ip b):[0-9]* -> $(host_ip a):6650" "$tmp/mgmt"
}
check "TCP from b's management address to a's" mgmt_tcp
bg_stop mgmt
bg_stop echo

# Then nothing is left: both hosts' daemons, every namespace.
check "the daemons logged no unexpected warning or error" _ol_check_logs
pids="$(on_host a ovs_pids) $(on_host b ovs_pids)"
cleanup_all
all_dead() {
    local p
    for p in $pids; do
        _ol_dead "$p" || return 1
    done
}
check "no daemon left on either host" all_dead
check "no namespace left" eval '! ip netns list | grep "^$prefix"'
check "library sees nothing left" ovs_lib_leftovers
OVS_LIB_LOG_CHECK=0 finish
