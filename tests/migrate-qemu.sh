#!/bin/bash
# Live migration of a real QEMU guest (TCG) between two hosts, as
# tests/migrate.sh does with a namespace VM: hosts a and b, each its own
# ovsdb-server, ovs-vswitchd (userspace datapath) and flowsteerd, their
# br-int joined by a veth pair, their flowsteerd by mutual TLS (ovs-pki).
# The guest (tests/qemu-guest.sh: Debian's cloud kernel, a busybox
# initramfs) runs in QEMU in host a's namespace on a tap in a's br-int;
# the incoming QEMU runs in b's namespace on a tap in b's br-int (both
# taps with the same iface-id, inspected, known by the guest's MAC).  The
# guest holds an allowed long-lived TCP stream (busybox nc, a line every
# 100 ms, each echo read back) to srv:8080 and tries a connection to
# srv:2222, which the policy drops, again and again from one source port
# (one 5-tuple).  srv is a namespace VM on a.
#
# Order, as an orchestrator would do it: flowsteer/migrate on a
# (pre-copy), wait until b copies and has the rules on its tap's port,
# then QMP migrate; QEMU pauses the guest before its switch-over
# (pause-before-switchover: status pre-switchover), then the source tap's
# port goes from a's br-int (flowsteer's switch-over) and once b's
# flowsteerd says done (it owns the flows; a lets go of them after),
# migrate-continue: b has the final state before the guest resumes
# there.  MQ_PAUSE=0: no pause, the port goes once QEMU
# says completed (the guest runs on b before flowsteer's switch-over).
#
# Asserted: the stream goes on without a reset (the server saw one
# accept, the sequence continues with nothing missing, the guest's
# console on b shows echoes and no reset); the dropped connection stays
# dropped; b's flowsteer/flows shows both flows as migrated; a holds no
# flow nor rule of the guest afterwards; a's switch has the guest's MAC
# on the link to b.  Printed: QEMU's total time and downtime
# (query-migrate; with the pause, it includes flowsteer's switch-over),
# flowsteer's switch-over time, how long QEMU was held in pre-switchover,
# the largest gap the server saw in the stream, b's exception counters
# and what of the guest's self-announce left b (neither QEMU's RARPs nor
# the guest's gratuitous ARPs are steered: both leave b, and the first
# RARP is asserted when tcpdump is there to see it).
#
# Skips (77) without qemu-system-x86_64, busybox-static, cpio or the
# kernel package (tests/qemu-guest.sh; cached in
# /root/.cache/flowsteer/qemu).  Knobs: MQ_PAUSE (1), MQ_MEM (128, MiB),
# MQ_US (100000, microseconds between two lines of the stream).
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
command -v ovs-pki > /dev/null || skip "no ovs-pki (apt-get install openvswitch-common)"
QEMU=$(command -v qemu-system-x86_64) ||
    skip "no qemu-system-x86_64 (apt-get install qemu-system-x86)"
py=$(command -v /usr/bin/python3 || command -v python3) || skip "no python3"
MQ_PAUSE=${MQ_PAUSE:-1}
MQ_MEM=${MQ_MEM:-128}
MQ_US=${MQ_US:-100000}

# The guest's kernel and initramfs.
t_start=$EPOCHREALTIME
bash "$top_srcdir/tests/qemu-guest.sh" "$tmp/guest" > "$tmp/guest.log" 2>&1
rc=$?
if [ "$rc" -eq 77 ]; then
    skip "$(sed -n 's/^SKIP: //p' "$tmp/guest.log")"
elif [ "$rc" -ne 0 ]; then
    cat "$tmp/guest.log"
    fail "tests/qemu-guest.sh failed"
fi
cat "$tmp/guest.log"

ovs_lib_init
IFACE_ID=3f0c5e2a-qm-0001
GUEST_MAC=52:54:00:fa:00:01
GUEST_IP=10.0.0.1
SRV_IP=10.0.0.100
TAP_OFPORT=5

# QEMU's processes: stopped (by PID) before ovs-lib's cleanup, which then
# kills whatever is left in the namespaces.
_mq_qemu_pids=()
eval "$(declare -f cleanup_all | sed '1s/^cleanup_all/_mq_cleanup_all/')"
cleanup_all() {
    local pid
    for pid in "${_mq_qemu_pids[@]}"; do
        _ol_kill "$pid" qemu-system-x86
    done
    _mq_qemu_pids=()
    _mq_cleanup_all "$@"
}

# At the first failed check: the guest's consoles and the server's log
# too.
on_first_failure() {
    local h
    _ol_dump_state
    for h in a b; do
        [ -f "$tmp/serial-$h.log" ] || continue
        echo "--- guest console on $h (tail)"
        tail -n 20 "$tmp/serial-$h.log"
    done
    [ ! -f "$tmp/server.log" ] || { echo "--- server log (tail)"
                                    tail -n 10 "$tmp/server.log"; }
    [ -z "$(bg_pid qmp)" ] || { echo "--- QMP orchestrator"
                                cat "$(bg_log qmp)"; }
}

# --- helpers: the QMP orchestrator and the server (python, stdlib only).
cat > "$tmp/qmp.py" <<'EOF'
"""QMP client and migration orchestrator.

  qmp.py SOCK CMD...       send each command (JSON or a bare name), print
                           each reply as one JSON line
  qmp.py migrate SRC_SOCK DST_SOCK URI DIR PAUSE
      destination: events on, migrate-incoming URI; source: events (and
      pause-before-switchover if PAUSE=1) on, migrate URI.  Every event of
      either side is logged ("TIME src|dst EVENT DATA").  At the source's
      pre-switchover it creates DIR/paused and waits for DIR/continue
      before migrate-continue.  At completed it writes the source's
      query-migrate to DIR/query-migrate.json and creates DIR/completed;
      it then waits (5 s at most) for the destination's RESUME, writes
      DIR/resumed and exits 0 (1 if the migration failed, 2 on timeout).
"""
import json, os, queue, socket, sys, threading, time


class QMP:
    def __init__(self, path, name, events):
        for _ in range(200):
            try:
                self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.s.connect(path)
                break
            except OSError:
                time.sleep(0.05)
        else:
            sys.exit("qmp: cannot connect to " + path)
        self.name, self.events, self.replies = name, events, queue.Queue()
        self.r = self.s.makefile("r")
        json.loads(self.r.readline())
        threading.Thread(target=self.reader, daemon=True).start()
        self.cmd({"execute": "qmp_capabilities"})

    def reader(self):
        for line in self.r:
            m = json.loads(line)
            if "event" in m:
                self.events.put((time.time(), self.name, m))
            else:
                self.replies.put(m)
        self.events.put((time.time(), self.name, {"event": "QMP-EOF"}))

    def cmd(self, obj, timeout=30):
        if isinstance(obj, str):
            obj = json.loads(obj) if obj.lstrip().startswith("{") else {"execute": obj}
        self.s.sendall((json.dumps(obj) + "\n").encode())
        r = self.replies.get(timeout=timeout)
        if "error" in r:
            log("%s: %s -> %s" % (self.name, obj["execute"], r["error"]))
        return r


def log(msg):
    print("%.6f %s" % (time.time(), msg), flush=True)


def touch(path, text=""):
    with open(path, "w") as f:
        f.write(text)


def migrate(src_path, dst_path, uri, d, pause):
    ev = queue.Queue()
    dst = QMP(dst_path, "dst", ev)
    src = QMP(src_path, "src", ev)
    dst.cmd({"execute": "migrate-set-capabilities", "arguments": {
        "capabilities": [{"capability": "events", "state": True}]}})
    dst.cmd({"execute": "migrate-incoming", "arguments": {"uri": uri}})
    caps = [{"capability": "events", "state": True}]
    if pause:
        caps.append({"capability": "pause-before-switchover", "state": True})
    src.cmd({"execute": "migrate-set-capabilities", "arguments": {"capabilities": caps}})
    log("src: migrate %s" % uri)
    r = src.cmd({"execute": "migrate", "arguments": {"uri": uri}})
    if "error" in r:
        return 1
    deadline = time.time() + 120
    completed = resumed = False
    while time.time() < deadline and not (completed and resumed):
        try:
            t, who, m = ev.get(timeout=1)
        except queue.Empty:
            continue
        print("%.6f %s %s %s" % (t, who, m["event"], json.dumps(m.get("data", {}))), flush=True)
        status = m.get("data", {}).get("status")
        if who == "src" and m["event"] == "MIGRATION":
            if status == "pre-switchover":
                touch(d + "/paused", "%.6f\n" % time.time())
                while not os.path.exists(d + "/continue"):
                    if time.time() > deadline:
                        return 2
                    time.sleep(0.001)
                log("src: migrate-continue")
                touch(d + "/continued", "%.6f\n" % time.time())
                src.cmd({"execute": "migrate-continue", "arguments": {"state": "pre-switchover"}})
            elif status == "completed":
                # QEMU fills in total-time and downtime a moment after
                # it says completed.
                for _ in range(200):
                    q = src.cmd("query-migrate")
                    if q.get("return", {}).get("total-time"):
                        break
                    time.sleep(0.005)
                touch(d + "/query-migrate.json", json.dumps(q.get("return", q)) + "\n")
                touch(d + "/completed", "%.6f\n" % t)
                completed = True
                deadline = min(deadline, time.time() + 5)
            elif status in ("failed", "cancelled"):
                log("migration %s" % status)
                return 1
        elif who == "dst" and m["event"] == "RESUME":
            touch(d + "/resumed", "%.6f\n" % t)
            resumed = True
    log("dst: %s" % json.dumps(dst.cmd("query-status").get("return")))
    return 0 if completed and resumed else 2


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] == "migrate":
        sys.exit(migrate(a[1], a[2], a[3], a[4], a[5] == "1"))
    q = QMP(a[0], "cli", queue.Queue())
    for c in a[1:]:
        print(json.dumps(q.cmd(c)), flush=True)
EOF
cat > "$tmp/server.py" <<'EOF'
"""server.py HOST LOG PORT...: a line-echo server on each PORT; logs
"TIME CONN PORT ID open|EOF|ERROR ..." and "TIME RX ID LINE"."""
import socket, sys, threading, time

host, logname, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
log = open(logname, "a", buffering=1)
lock = threading.Lock()
ids = [0]


def L(msg):
    with lock:
        log.write("%.6f %s\n" % (time.time(), msg))


def handle(c, port, cid):
    f = c.makefile("rb")
    try:
        for line in f:
            L("RX %d %s" % (cid, line.decode(errors="replace").strip()))
            c.sendall(line)
        L("CONN %d %d EOF" % (port, cid))
    except OSError as e:
        L("CONN %d %d ERROR %r" % (port, cid, e))
    finally:
        c.close()


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(8)
    while True:
        c, addr = s.accept()
        with lock:
            ids[0] += 1
            cid = ids[0]
        L("CONN %d %d open %s:%d" % (port, cid, addr[0], addr[1]))
        threading.Thread(target=handle, args=(c, port, cid), daemon=True).start()


for p in ports:
    threading.Thread(target=listen, args=(p,), daemon=True).start()
L("LISTEN %s" % ports)
while True:
    time.sleep(3600)
EOF
qmp() { "$py" "$tmp/qmp.py" "$@"; }

# --- the hosts, as tests/migrate-lib.sh makes them.
ovs-pki -d "$tmp/pki" -l "$tmp/pki.log" init > /dev/null 2>&1 ||
    fail "ovs-pki init failed"
for h in a b; do
    (cd "$tmp" && ovs-pki -d "$tmp/pki" -l "$tmp/pki.log" -b -u \
         req+sign "host$h" switch > /dev/null 2>&1) ||
        fail "ovs-pki req+sign host$h failed"
done
cat > "$tmp/policy.conf" <<'EOF'
priority=300, tcp, tp_dst=2222, actions=drop
priority=0, actions=allow
EOF
start_host() {
    ovs_host "$1"
    ovs_start
    ovs_add_bridge br-int
    ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"
    vsctl set-ssl "$tmp/host$1-privkey.pem" "$tmp/host$1-cert.pem" \
        "$tmp/pki/switchca/cacert.pem" || fail "set-ssl on $1 failed"
    vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
        external_ids:flowsteer-policy="$tmp/policy.conf"
}
start_host a
start_host b
ovs_host b
vsctl set Open_vSwitch . \
    external_ids:flowsteer-migration-remote="pssl:6650:$(host_ip b)"
hosts_link a b
ovs_host a
vm_add srv br-int "$SRV_IP/24"
bg_start server vm_exec srv "$py" "$tmp/server.py" "$SRV_IP" \
    "$tmp/server.log" 8080 2222

# The guest's tap on each host: made before QEMU (as libvirt would), a
# port of br-int with the same ofport, iface-id and MAC on both.
for h in a b; do
    ovs_host "$h"
    tap=${OVS_LIB_PREFIX}tq$h
    ip -n "$OVS_HOST_NS" tuntap add "$tap" mode tap &&
        ip -n "$OVS_HOST_NS" link set "$tap" up ||
        fail "cannot create tap $tap on $h"
    _ol_add_port migrate-qemu br-int "$tap" "$TAP_OFPORT"
    vsctl set Interface "$tap" external_ids:flowsteer-inspect=true \
        external_ids:attached-mac="\"$GUEST_MAC\"" \
        external_ids:iface-id="$IFACE_ID" || fail "cannot inspect $tap on $h"
done
TAP_A=${OVS_LIB_PREFIX}tqa
TAP_B=${OVS_LIB_PREFIX}tqb
fsd_up() {
    fsd_start
    wait_until 15 fsd_steering '[0-9]*' || fail "no steering on $1"
}
ovs_host a; fsd_up a; FSD_A=$FSD_CTL
ovs_host b; fsd_up b; FSD_B=$FSD_CTL
on() { ovs_host "$1"; shift; "$@"; }
mig() { ovs-appctl --timeout=5 -t "$1" flowsteer/migrations; }
flows() { ovs-appctl --timeout=5 -t "$1" flowsteer/flows; }
rules_on() {
    on "$1" ofctl -O OpenFlow13 --no-stats dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" |
        grep -E "in_port=$2," || :
}
inspector_rx() {
    ovs-appctl --timeout=5 -t "$1" flowsteer/show |
        sed -n 's/^inspector port [^:]*: rx \([0-9]*\) packets.*/\1/p'
}
fsctl_b_counters() {
    ovs-appctl --timeout=5 -t "$FSD_B" flowsteer/show |
        grep -oE "(non_ip|exceptions_dropped|packets_dropped)=[0-9]+" |
        tr '\n' ' '
}
now() { echo "$EPOCHREALTIME"; }
# need DESC CMD...: check, and stop the test at its first failure (what
# follows would only fail too, slowly).
need() { check "$@"; [ "$n_failed" -eq 0 ] || fail "stopping: $1"; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# --- QEMU.  vnet_hdr=off: the guest computes its checksums (the userspace
# datapath would forward CHECKSUM_PARTIAL packets with bad ones).
qemu_start() { # HOST TAP [ARG...]
    local h=$1 tap=$2
    shift 2
    on "$h" ovs_exec "$QEMU" -name "fsguest-$h" -accel tcg -m "$MQ_MEM" \
        -smp 1 -display none -nodefaults -no-reboot \
        -kernel "$tmp/guest/vmlinuz" -initrd "$tmp/guest/initrd.gz" \
        -append "console=ttyS0 quiet ipv6.disable=1 qx_ip=$GUEST_IP/24 qx_srv=$SRV_IP qx_port=8080 qx_us=$MQ_US qx_drop=2222 qx_dsport=45000" \
        -serial "file:$tmp/serial-$h.log" \
        -netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,vnet_hdr=off" \
        -device "virtio-net-pci,netdev=n0,mac=$GUEST_MAC" \
        -qmp "unix:$tmp/qmp-$h.sock,server=on,wait=off" \
        -qmp "unix:$tmp/qmpc-$h.sock,server=on,wait=off" \
        -pidfile "$tmp/qemu-$h.pid" -daemonize "$@" ||
        fail "QEMU did not start on host $h"
    _mq_qemu_pids+=("$(cat "$tmp/qemu-$h.pid")")
    _ol_bg_all+=("$(cat "$tmp/qemu-$h.pid")")
}
t_boot=$(now)
qemu_start a "$TAP_A"
need "the guest boots on host a" \
    wait_until 60 grep -q "qxguest: READY" "$tmp/serial-a.log"
echo "  guest READY $(ms "$t_boot" "$(now)") ms after QEMU started"
conn_open() { grep -q " CONN 8080 [0-9]* open" "$tmp/server.log" 2>/dev/null; }
need "the guest's stream connects to srv:8080" wait_until 20 conn_open
rx() { local n; n=$(grep -c " RX " "$tmp/server.log" 2>/dev/null); echo "${n:-0}"; }
decided_a() {
    flows "$FSD_A" > "$tmp/flows-a" &&
        grep -q ":8080 .*verdict allow" "$tmp/flows-a" &&
        grep -q ":2222 .*verdict drop" "$tmp/flows-a"
}
need "host a decided the stream (allow) and the dropped flow" \
    wait_until 15 decided_a
need "the stream flows" wait_until 15 eval '[ "$(rx)" -gt 20 ]'
PORT_A=$(on a vsctl get Interface "$TAP_A" ofport)
PORT_B=$(on b vsctl get Interface "$TAP_B" ofport)

# The incoming QEMU, on b.
qemu_start b "$TAP_B" -incoming defer

# Phase 1: flowsteer's copy, while the guest runs on a.
need "flowsteer/migrate starts" \
    ovs-appctl -t "$FSD_A" flowsteer/migrate "$IFACE_ID" \
    "ssl:$(host_ip b):6650"
copying() {
    mig "$FSD_B" > "$tmp/mig-b" &&
        grep -q "$IFACE_ID: destination, from .* copying" "$tmp/mig-b" &&
        grep -q "imported [1-9]" "$tmp/mig-b"
}
need "host b is copying the guest's flows" wait_until 10 copying
has_rules_b() {
    rules_on b "$PORT_B" > "$tmp/rules-b" &&
        grep -q "tp_dst=8080" "$tmp/rules-b" &&
        grep -q "tp_dst=2222.*actions=drop" "$tmp/rules-b"
}
check "host b has the flows' rules on the guest's port before it moves" \
    wait_until 10 has_rules_b
rx_b=$(inspector_rx "$FSD_B")

# Phase 2: QEMU's migration; flowsteer's switch-over while the guest is
# paused (MQ_PAUSE=1) or once it runs on b (MQ_PAUSE=0).
# What of the guest's self-announce leaves b (a capture on b's end of
# the link to a, if tcpdump is here): printed, and the RARPs asserted.
if command -v tcpdump > /dev/null; then
    on b bg_start announce ovs_exec tcpdump -U -n -e -l \
        -i "$(hosts_link_port b a)" "ether proto 0x8035 or arp"
fi
mkdir -p "$tmp/q"
n_before=$(rx)
t_mig=$(now)
bg_start qmp qmp migrate "$tmp/qmp-a.sock" "$tmp/qmp-b.sock" \
    "unix:$tmp/migration.sock" "$tmp/q" "$MQ_PAUSE"
# wait_file FILE SECONDS: every 5 ms.
wait_file() {
    local end=$(( ${EPOCHREALTIME/./} + $2 * 1000000 ))
    until [ -e "$1" ]; do
        [ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
        _ol_alive "$(bg_pid qmp)" || [ -e "$1" ] || return 1
        sleep 0.005
    done
}
done_a() { mig "$FSD_A" > "$tmp/mig-a" &&
               grep -q "$IFACE_ID: source, to .* done" "$tmp/mig-a"; }
done_b() { mig "$FSD_B" > "$tmp/mig-b" &&
               grep -q "$IFACE_ID: destination, from .* done" "$tmp/mig-b"; }
done_both() { done_a && done_b; }
# Polled every 10 ms (wait_until's 100 ms would add to the pause).
switch_over() {
    local end=$(( ${EPOCHREALTIME/./} + 10000000 ))
    t_sw0=$(now)
    on a vsctl del-port br-int "$TAP_A" || return 1
    t_sw1=$(now)
    # The guest may go on once b owns its flows; a lets go of them after.
    until done_b; do
        [ "${EPOCHREALTIME/./}" -lt "$end" ] || return 1
        sleep 0.01
    done
    t_sw2=$(now)
}
if [ "$MQ_PAUSE" = 1 ]; then
    need "QEMU pauses the guest before its switch-over" \
        wait_file "$tmp/q/paused" 60
    check "flowsteer's switch-over is done: b owns the flows" switch_over
    touch "$tmp/q/continue"
    need "QEMU completes the migration" wait_file "$tmp/q/completed" 30
else
    need "QEMU completes the migration" wait_file "$tmp/q/completed" 60
    check "flowsteer's switch-over is done: b owns the flows" switch_over
fi
check "the guest resumes on host b" wait_file "$tmp/q/resumed" 10
check "host a is done too" wait_until 10 done_both
t_done=$(now)
wait "$(bg_pid qmp)"
qmp_rc=$?
check "the QMP orchestrator saw the migration through" eval '[ "$qmp_rc" = 0 ]'
sed 's/^/  qmp: /' "$(bg_log qmp)"
qm=$(cat "$tmp/q/query-migrate.json" 2>/dev/null)
field() { "$py" -c 'import json,sys; print(json.loads(sys.argv[1]).get(sys.argv[2], "?"))' "$qm" "$1" 2>/dev/null; }
ram_mb=$("$py" -c 'import json,sys; print("%.1f" % (json.loads(sys.argv[1])["ram"]["transferred"] / 1e6))' "$qm" 2>/dev/null)
echo "  QEMU: status $(field status), total-time $(field total-time) ms," \
    "downtime $(field downtime) ms, setup-time $(field setup-time) ms," \
    "RAM sent ${ram_mb:-?} MB"
if [ -n "${t_sw2:-}" ]; then
    echo "  flowsteer switch-over: del-port $(ms "$t_sw0" "$t_sw1") ms," \
        "then b done after $(ms "$t_sw1" "$t_sw2") ms" \
        "(total $(ms "$t_sw0" "$t_sw2") ms)"
fi
[ ! -e "$tmp/q/continued" ] ||
    echo "  QEMU held in pre-switchover (flowsteer's switch-over, in QEMU's" \
        "downtime): $(ms "$(cat "$tmp/q/paused")" "$(cat "$tmp/q/continued")") ms"
echo "  migration: QMP migrate to guest resumed on b $(ms "$t_mig" "$t_done") ms"
on a qmp "$tmp/qmpc-a.sock" query-status quit > "$tmp/quit-a.json" 2>&1

# After: the stream, the dropped connection, the flows.
check "the stream goes on after the migration" \
    wait_until 20 eval '[ "$(rx)" -gt $((n_before + 60)) ]'
analyze() {
    awk '
        $2 == "CONN" && $3 == 8080 && $5 == "open" { accepts++ }
        $2 == "CONN" && $3 == 8080 && ($5 == "EOF" || $5 == "ERROR") { ends++ }
        $2 == "CONN" && $3 == 2222 && $5 == "open" { dropped_open++ }
        $2 == "RX" && $4 == "seq" {
            if (prev != "" && $5 != prev + 1) missing += $5 - prev - 1
            prev = $5
            if (t != "" && $1 - t > gap) { gap = $1 - t; at = $5 }
            t = $1
            n++
        }
        END {
            printf "accepts=%d ends=%d dropped_open=%d lines=%d missing=%d " \
                "maxgap_ms=%.0f at_seq=%s\n", accepts, ends, dropped_open, n,
                missing, gap * 1000, at
        }' "$tmp/server.log"
}
stats=$(analyze)
echo "  server: $stats"
check "the server saw one connection of the stream, never closed" \
    eval '[[ $stats == *"accepts=1 ends=0 "* ]]'
check "the stream's sequence goes on with nothing missing" \
    eval '[[ $stats == *" missing=0 "* ]]'
check "the guest's console on b shows echoes and no reset" \
    eval 'grep -q "qxguest: echo-rx" "$tmp/serial-b.log" &&
          ! grep -qE "EOF/RESET|WRITE FAILED|CLIENT EXITED" \
              "$tmp/serial-a.log" "$tmp/serial-b.log"'
tries_b() { grep -c "qxguest: drop-try" "$tmp/serial-b.log" || :; }
check "the dropped connection was tried again on b" \
    wait_until 15 eval '[ "$(tries_b)" -ge 2 ]'
check "the dropped connection never connected" \
    eval '[[ $stats == *" dropped_open=0 "* ]] &&
          ! grep -q "CONNECTED" "$tmp/serial-a.log" "$tmp/serial-b.log"'
rx_now=$(inspector_rx "$FSD_B")
echo "  b's inspector received $((rx_now - rx_b)) packets since the copy"
# QEMU's self-announce (RARP, ethertype 0x8035) and the guest's
# gratuitous ARPs are not steered (fs-steer.h): with its own packets they
# tell a's switch where it went.
echo "  b's counters: $(fsctl_b_counters)"
fdb_moved() {
    on a appctl fdb/show br-int | awk -v m="$GUEST_MAC" '$3 == m { print $1 }' |
        grep -qx "$((1000 + $(_ol_host_num b)))"
}
check "a's switch learnt that the guest went to b (its MAC on the link)" \
    wait_until 5 fdb_moved
if [ -n "$(bg_pid announce)" ]; then
    bg_stop announce
    rarps=$(grep -ci "$GUEST_MAC > .*(0x8035)" "$(bg_log announce)" || :)
    echo "  left b towards a since the migration began: $rarps RARPs," \
        "$(grep -c "Request who-has $GUEST_IP tell $GUEST_IP" "$(bg_log announce)")" \
        "gratuitous ARPs of the guest"
    check "QEMU's announce (RARP) left b" eval '[ "${rarps:-0}" -ge 1 ]'
fi
flows "$FSD_B" > "$tmp/flows-b"
check "no packet of the migrated stream visited b's inspector" \
    grep -qE ":8080 .*\[inspector 0 pkts" "$tmp/flows-b"
check "b's flowsteer/flows shows the migrated stream" \
    grep -qE "$GUEST_IP:[0-9]+ .*:8080 .*verdict allow.*migrated, flow [0-9]+ there" \
    "$tmp/flows-b"
check "b's flowsteer/flows shows the migrated dropped flow" \
    grep -qE ":2222 .*verdict drop.*migrated" "$tmp/flows-b"
check "the dropped connection's tries on b are one 5-tuple, the migrated one" \
    eval '[ "$(grep -c ":2222 " "$tmp/flows-b")" = 1 ]'
flows "$FSD_A" > "$tmp/flows-a"
check "a holds no flow of the guest" \
    eval '! grep -qE "10\.0\.0\.1:[0-9]+ -> 10\.0\.0\.100" "$tmp/flows-a"'
check "a holds no rule of the guest" \
    eval '[ -z "$(rules_on a "$PORT_A")" ]'
mig "$FSD_A" > "$tmp/mig-a"
mig "$FSD_B" > "$tmp/mig-b"
sed 's/^/  a: /' "$tmp/mig-a"
sed 's/^/  b: /' "$tmp/mig-b"
grep -E "$GUEST_IP" "$tmp/flows-b" | sed 's/^/  b flows: /'
for pid in "${_mq_qemu_pids[@]}"; do _ol_kill "$pid" qemu-system-x86; done
_mq_qemu_pids=()
bg_stop server
echo "  whole test: $(ms "$t_start" "$(now)") ms"
log_allow 'netdev_linux\|WARN\|.*fs[0-9a-f]{4}'
finish
