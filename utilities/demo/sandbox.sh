#!/bin/bash
# The live flowsteer demo, in a private sandbox.
#
#   utilities/demo/sandbox.sh [--builddir DIR]
#
# Starts a private Open vSwitch (userspace datapath) with an integration
# bridge br-int and three VMs as network namespaces:
#   vm1     10.0.0.1  inspected, profile "web"
#   server  10.0.0.2  runs HTTP, TLS, DNS and a forbidden service
#   vm3     10.0.0.3  not inspected
# attaches flowsteerd in inline mode with utilities/demo/sandbox-policy.conf,
# drives real traffic (curl, dig, ping) and prints what happened to each
# action, the flows flowsteerd judged, and the OpenFlow rules that enforce
# its verdicts.  Everything it starts is stopped, and every namespace
# deleted, when it ends, fails or is interrupted.
#
# Needs root, Open vSwitch, python3, curl, openssl, dnsmasq and dig (the
# packages utilities/quickstart.sh installs), and a built flowsteerd: from
# DIR/ovs-ext/flowsteerd, where DIR is --builddir, else $top_builddir, else
# _build beside the sources.  Exits 0 when every action did what the policy
# says, 1 otherwise or when the sandbox could not run.
# Environment: OVS_LIB_TIMEOUT (seconds for daemons, default 20),
# OVS_LIB_KEEP=1 (keep the logs of the run).

# Many functions here run from traps and wait_until, which shellcheck
# takes for unreachable code.
# shellcheck disable=SC2317

usage() {
    sed -n '2,24s/^# \{0,1\}//p' "$0"
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
        --builddir) [ $# -ge 2 ] || usage; top_builddir=$2; shift 2 ;;
        --builddir=*) top_builddir=${1#*=}; shift ;;
        -h|--help) usage ;;
        *) usage ;;
    esac
done

top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
top_builddir=$(cd "${top_builddir:-$top_srcdir/_build}" 2>/dev/null && pwd) ||
    { echo "sandbox.sh: no build directory ${top_builddir:-$top_srcdir/_build}" >&2
      exit 1; }
export top_srcdir top_builddir
: "${OVS_LIB_TIMEOUT:=20}"      # a loaded 2-core machine is slow to start OVS
POLICY=$top_srcdir/utilities/demo/sandbox-policy.conf
FSD=$top_builddir/ovs-ext/flowsteerd
COOKIE=0xf5e1000000000000/0xffff000000000000

# Setup chatter goes to a log; the demo's own lines to the terminal (fd 3,
# and fd 4 for errors), whatever stdout is at the time.
exec 3>&1 4>&2

# shellcheck source=tests/ovs-lib.sh
. "$top_srcdir/tests/ovs-lib.sh"

# ovs-lib's skip (exit 77) and fail: for a demo, both mean it could not run.
die() {
    echo "sandbox.sh: the demo could not run: $*" >&4
    exit 1
}
skip() { die "$*"; }
fail() { die "$*"; }

for prog in python3:python3 curl:curl openssl:openssl dnsmasq:dnsmasq-base \
            dig:bind9-dnsutils ping:iputils-ping; do
    command -v "${prog%%:*}" >/dev/null ||
        die "${prog%%:*} not found (apt-get install ${prog#*:})"
done
[ -x "$FSD" ] ||
    die "no flowsteerd at $FSD (build it: utilities/quickstart.sh demo)"

fsd_pid=
fsd_comm=
setup_log=

# stop_flowsteerd: stops the flowsteerd this script started, by its PID.
stop_flowsteerd() {
    [ -n "$fsd_pid" ] || return 0
    _ol_kill "$fsd_pid" "$fsd_comm"
    fsd_pid=
}

on_exit() {
    local rc=$?
    exec >&3 2>&4
    trap '' INT TERM
    stop_flowsteerd
    if [ "$rc" -ne 0 ]; then
        if [ -n "$setup_log" ] && [ -s "$setup_log" ]; then
            echo "--- last lines of the setup log"
            tail -n 15 "$setup_log"
        fi
        if [ -f "$tmp/flowsteerd.log" ]; then
            echo "--- last lines of flowsteerd's log"
            tail -n 15 "$tmp/flowsteerd.log"
        fi
        [ "${OVS_LIB_KEEP:-0}" = 1 ] ||
            echo "(OVS_LIB_KEEP=1 keeps every log of the run)"
    fi
    # Status 0: the lines above say enough; ovs-lib would add its own dump.
    cleanup_all 0
    exit "$rc"
}

on_signal() {
    exec >&3 2>&4
    trap '' INT TERM
    echo >&2
    echo "sandbox.sh: interrupted (SIG$1), cleaning up" >&2
    stop_flowsteerd
    cleanup_all 0
    trap - EXIT INT TERM
    kill -s "$1" "$$"
    exit 1
}

# quiet CMD...: runs CMD (a function too, in this shell) into the setup log.
quiet() { "$@" >>"$setup_log" 2>&1; }

say() { printf '%s\n' "$*" >&3; }

ovs_lib_init >/dev/null
trap on_exit EXIT
trap 'on_signal INT' INT
trap 'on_signal TERM' TERM
setup_log=$tmp/setup.log

say "== Setting up the sandbox (private OVS, run prefix $OVS_LIB_PREFIX)"
# The best inspector backend that works here: DPDK on OVS-DPDK where
# hugepages can be reserved, else AF_PACKET.  FS_DATAPATH=afpacket (or
# afxdp) in the environment chooses.
if [ -z "${FS_DATAPATH:-}" ]; then
    if ovs_dpdk_usable; then
        FS_DATAPATH=dpdk
        dp_why="OVS-DPDK runs and hugepages could be reserved"
    else
        FS_DATAPATH=afpacket
        dp_why=$ovs_dpdk_why
    fi
else
    dp_why="FS_DATAPATH=$FS_DATAPATH"
fi
export FS_DATAPATH
quiet ovs_start
quiet ovs_add_bridge br-int
quiet vm_add vm1 br-int 10.0.0.1/24
quiet vm_add server br-int 10.0.0.2/24
quiet vm_add vm3 br-int 10.0.0.3/24
quiet ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL" ||
    die "cannot add the NORMAL rule to br-int"
if [ "$FS_DATAPATH" = dpdk ]; then
    say "   ovsdb-server + ovs-vswitchd-dpdk (OVS-DPDK, userspace datapath), bridge br-int (NORMAL switching)"
else
    say "   ovsdb-server + ovs-vswitchd (userspace datapath), bridge br-int (NORMAL switching)"
fi
say "   inspector backend: $FS_DATAPATH ($dp_why)"
say "   vm1     10.0.0.1  port $(vm_port vm1) ofport $(vm_ofport vm1)  inspected, profile web"
say "   server  10.0.0.2  port $(vm_port server) ofport $(vm_ofport server)  runs the services"
say "   vm3     10.0.0.3  port $(vm_port vm3) ofport $(vm_ofport vm3)  not inspected"

# --- The services in the server VM.
www=$tmp/www
mkdir -p "$www"
echo "hello from the flowsteer sandbox" > "$www/index.html"
head -c $((2 * 1024 * 1024)) /dev/zero > "$www/2MB.bin"
quiet openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -nodes -days 1 -subj /CN=www.web.test \
    -addext "subjectAltName=DNS:www.web.test,DNS:*.blocked.test" \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" ||
    die "openssl could not make a certificate"

bg_start http vm_exec server python3 -m http.server 8080 --bind 10.0.0.2 \
    --directory "$www"
bg_start forbidden vm_exec server python3 -m http.server 2222 \
    --bind 10.0.0.2 --directory "$www"
bg_start tls vm_exec server openssl s_server -quiet -www -accept 4433 \
    -cert "$tmp/tls.crt" -key "$tmp/tls.key"
bg_start dns vm_exec server dnsmasq --no-daemon --no-resolv --no-hosts \
    --conf-file=/dev/null --pid-file="$tmp/dnsmasq.pid" \
    --address=/web.test/10.0.0.2 --listen-address=10.0.0.2 --bind-interfaces

# Each service answers in the server VM itself (nothing crosses OVS yet).
http_up() { vm_exec server curl -s -o /dev/null --max-time 2 "http://10.0.0.2:$1/"; }
tls_up() {
    vm_exec server curl -sk -o /dev/null --max-time 2 \
        --resolve www.web.test:4433:10.0.0.2 https://www.web.test:4433/
}
dns_up() {
    vm_exec server dig +short +time=1 +tries=1 @10.0.0.2 www.web.test |
        grep -q '^10\.0\.0\.2$'
}
wait_service() {
    local name=$1 job=$2
    shift 2
    wait_until "$OVS_LIB_TIMEOUT" "$@" >/dev/null 2>&1 && return 0
    sed 's/^/   | /' "$(bg_log "$job")" >&4
    die "the $name server did not start in the server VM"
}
wait_service HTTP http http_up 8080
wait_service "TCP 2222" forbidden http_up 2222
wait_service TLS tls tls_up
wait_service DNS dns dns_up
say "   server: HTTP on tcp/8080 (python3 -m http.server), TLS on tcp/4433"
say "           (openssl s_server, certificate for www.web.test, *.blocked.test),"
say "           DNS on udp/53 (dnsmasq: *.web.test is 10.0.0.2), a service on tcp/2222"

# --- flowsteerd.
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-mode=inline external_ids:flowsteer-fail=open \
    external_ids:flowsteer-policy="$POLICY" ||
    die "cannot configure flowsteer in the database"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-inspect=true \
    external_ids:flowsteer-profile=web \
    external_ids:attached-mac="\"$(vm_mac vm1)\"" ||
    die "cannot mark vm1's port for inspection"

# flowsteerd runs where ovs-vswitchd runs: the inspector port is a device
# in that namespace.
quiet fsd_start
fsd_pid=$(fsd_pid) || die "flowsteerd wrote no pidfile"
fsd_comm=$(cat "/proc/$fsd_pid/comm" 2>/dev/null) ||
    die "flowsteerd (pid $fsd_pid) exited at once"

# ovs-lib's, with the longer timeout of a loaded machine.
fsctl() { ovs-appctl --timeout="$OVS_LIB_TIMEOUT" -t "$FSD_CTL" "$@"; }
fsd_ready() {
    local show
    show=$(fsctl flowsteer/show 2>/dev/null) || return 1
    grep -q "inspector port fs-insp0: rx" <<<"$show" &&
        fsd_steering '[0-9]*'
}
if ! wait_until $((OVS_LIB_TIMEOUT * 2)) fsd_ready; then
    fsctl flowsteer/show >&4 2>&1
    die "flowsteerd did not open its inspector port or steer vm1's port"
fi
# A policy that does not load shows up as an indented "  policy: ERROR".
if fsctl flowsteer/show | grep "^  policy: " >&4; then
    die "flowsteerd did not load $POLICY"
fi
say "   flowsteerd (pid $fsd_pid): inline mode, fail=open, policy ${POLICY#"$top_srcdir"/}"
say "   vm1's IP packets now go br-int -> patch port -> br-sec -> inspector and back,"
say "   until a verdict rule in br-int matches them first."
say ""
say "== The policy for profile web (${POLICY#"$top_srcdir"/})"
awk '/^[^#]/ { printf "   line %2d  %s\n", NR, $0 }' "$POLICY" >&3
say ""

# --- Traffic.
n_actions=0
n_surprises=0

# act SRC DST APP EXPECT SHOWN CMD...: runs CMD in VM SRC and prints one
# line: SRC -> DST, APP, SHOWN (the command as a reader would type it), and
# whether it completed (allowed) or timed out (blocked).  EXPECT is what the
# policy says ("allowed" or "blocked"); a different outcome is flagged.
act() {
    local src=$1 dst=$2 app=$3 expect=$4 shown=$5 rc out got detail
    shift 5
    out=$tmp/act.out
    vm_exec "$src" "$@" >"$out" 2>&1
    rc=$?
    case $1:$rc in
        *:0) got=allowed detail=completed ;;
        curl:28|dig:9|ping:1) got=blocked detail="timed out" ;;
        *) got=failed detail="exit $rc: $(grep -m1 . "$out")" ;;
    esac
    n_actions=$((n_actions + 1))
    printf '%-6s -> %-6s  %-9s %-50s ... %s (%s)' "$src" "$dst" "$app" \
        "$shown" "$got" "$detail" >&3
    if [ "$got" != "$expect" ]; then
        n_surprises=$((n_surprises + 1))
        printf '   <-- UNEXPECTED: should be %s' "$expect" >&3
    fi
    printf '\n' >&3
}

T=5                             # seconds before an action counts as blocked
say "== Traffic (an action that gets no answer within $T s counts as blocked)"
act vm1 server ICMP allowed "ping -c 10 10.0.0.2" \
    ping -c 10 -i 0.1 -W "$T" -w $((T + 3)) 10.0.0.2
act vm1 server DNS allowed "dig @10.0.0.2 www.web.test" \
    dig +time="$T" +tries=1 @10.0.0.2 www.web.test
act vm1 server HTTP allowed "curl http://10.0.0.2:8080/" \
    curl -sS -o /dev/null --max-time "$T" http://10.0.0.2:8080/
act vm1 server HTTP allowed "curl http://10.0.0.2:8080/2MB.bin" \
    curl -sS -o /dev/null --max-time "$((T * 2))" http://10.0.0.2:8080/2MB.bin
act vm1 server TLS allowed "curl -k https://www.web.test:4433/" \
    curl -sSk -o /dev/null --max-time "$T" \
    --resolve www.web.test:4433:10.0.0.2 https://www.web.test:4433/
act vm1 server TLS blocked "curl -k https://ads.blocked.test:4433/" \
    curl -sSk -o /dev/null --max-time "$T" \
    --resolve ads.blocked.test:4433:10.0.0.2 https://ads.blocked.test:4433/
act vm1 server tcp/2222 blocked "curl http://10.0.0.2:2222/" \
    curl -sS -o /dev/null --max-time "$T" http://10.0.0.2:2222/
act vm3 server tcp/2222 allowed "curl http://10.0.0.2:2222/  (vm3: not inspected)" \
    curl -sS -o /dev/null --max-time "$T" http://10.0.0.2:2222/
say ""

# --- What flowsteerd and OVS did.
# Verdict rules go to OVS in bundles batched by time: let the last land.
rules_for_flows() {
    local n
    n=$(fsctl flowsteer/flows 2>/dev/null | grep -vc classifying)
    [ "$(ofctl -O OpenFlow13 dump-flows br-int "cookie=$COOKIE" |
         grep -c cookie=)" -ge $((n * 2)) ]
}
wait_until 5 rules_for_flows || :
fsctl flowsteer/flows --json > "$tmp/flows" || die "flowsteer/flows failed"
ofctl -O OpenFlow13 dump-flows br-int "cookie=$COOKIE" > "$tmp/rules" ||
    die "cannot dump br-int's flows"

if ! python3 - "$tmp/flows" "$tmp/rules" "$POLICY" "$(vm_ofport vm1)" \
        >&3 <<'EOF'
"""Prints flowsteerd's flows and the OpenFlow rules of its verdicts."""
import json
import re
import sys

flows_file, rules_file, policy_file, vm1_ofport = sys.argv[1:5]
NAMES = {"10.0.0.1": "vm1", "10.0.0.2": "server", "10.0.0.3": "vm3"}


def read_flows(path):
    """flowsteer/flows --json: one object per line."""
    return [json.loads(line) for line in open(path) if line.strip()]


def read_rules(path):
    """ovs-ofctl dump-flows lines: list of (flow id, fields dict, match,
    actions)."""
    rules = []
    for line in open(path):
        line = line.strip()
        if not line.startswith("cookie="):
            continue
        head, _, actions = line.partition(" actions=")
        fields = {}
        match = []
        for part in re.split(r",\s*|\s+", head):
            if not part:
                continue
            k, eq, v = part.partition("=")
            if k in ("cookie", "duration", "table", "n_packets", "n_bytes",
                     "idle_timeout", "hard_timeout", "idle_age", "hard_age",
                     "priority"):
                fields[k] = v
            elif k not in ("reset_counts", "send_flow_rem", "no_packet_counts",
                           "no_byte_counts", "vlan_tci"):
                match.append(part)
        flow_id = int(fields.get("cookie", "0"), 16) & ((1 << 48) - 1)
        rules.append((flow_id, fields, ",".join(match), actions or "drop"))
    return rules


def name(ip):
    return NAMES.get(ip, ip)


def table(header, rows):
    widths = [max(len(str(r[i])) for r in [header] + rows)
              for i in range(len(header))]
    for r in [header] + rows:
        print("   " + "  ".join(str(c).ljust(w)
                                for c, w in zip(r, widths)).rstrip())


flows = sorted(read_flows(flows_file), key=lambda f: f["id"])
rules = read_rules(rules_file)
# flowsteerd's count is as of its last poll of the rules: the dump is newer.
in_ovs = {f["id"]: f["packets_ovs"] or 0 for f in flows}
for flow_id, fields, _, _ in rules:
    in_ovs[flow_id] = 0
for flow_id, fields, _, _ in rules:
    in_ovs[flow_id] += int(fields.get("n_packets", 0))

print("== Flows flowsteerd judged (ovs-appctl -t flowsteerd flowsteer/flows)")
rows = []
for f in flows:
    proto = f["l4"].lower()
    if f["l4"] in ("TCP", "UDP", "SCTP"):
        proto += "/%d" % f["dst_port"]
    rule = f["rule"]
    if rule.startswith(policy_file + ":"):
        rule = "line " + rule.rsplit(":", 1)[1]
    app = f["app"] if f["packets_inspected"] or f["app"] != "Unknown" else "-"
    verdict = f["verdict"] if f["state"] == "decided" else "classifying"
    rows.append([f["id"], "%s -> %s" % (name(f["src_ip"]), name(f["dst_ip"])),
                 proto, app, f["host"] or "-", verdict, rule,
                 f["packets_inspector"], f["packets_inspected"],
                 in_ovs.get(f["id"], 0)])
if rows:
    table(["flow", "src -> dst", "proto/port", "app", "host/SNI", "verdict",
           "rule", "via inspector", "inspected", "in OVS"], rows)
else:
    print("   (no flows: flowsteerd judged nothing)")
total_insp = sum(f["packets_inspector"] for f in flows)
total_ovs = sum(in_ovs.values())
if total_insp + total_ovs:
    print("   %d packets went through the inspector, %d were handled by OVS "
          "alone (%.1f%%)." % (total_insp, total_ovs,
                               100.0 * total_ovs / (total_insp + total_ovs)))
print()

print("== Verdict rules in br-int (ovs-ofctl -O OpenFlow13 dump-flows br-int "
      "cookie=0xf5e1000000000000/0xffff000000000000)")
rows = []
for flow_id, fields, match, actions in sorted(rules, key=lambda r: r[0]):
    direction = ("from vm1" if "in_port=%s," % vm1_ofport in match + ","
                 else "to vm1")
    rows.append([flow_id, direction, fields.get("priority", ""),
                 fields.get("n_packets", "0"), match, actions])
if rows:
    table(["flow", "direction", "prio", "n_packets", "match", "actions"],
          rows)
else:
    print("   (none)")
EOF
then
    die "cannot print the flows"
fi

cat >&3 <<EOF

== What happened
 - Only vm1's port is inspected.  Each new flow of vm1 started in the
   inspector: br-int sent its packets through the patch port to br-sec and
   flowsteerd ("via inspector"), which handed them to nDPI ("inspected")
   and, while the flow was undecided, sent them back unchanged (inline
   mode).  Once nDPI had named the application and host/SNI, the policy
   decided ("rule": the line of sandbox-policy.conf above; the highest
   priority that matches).  A few packets more can cross the inspector
   after the verdict, while its rules are on their way to OVS.
 - The verdict became two OpenFlow rules in br-int, one per direction
   (cookie 0xf5e1<<48 | flow id, priority 40000, above the steering
   rules): actions=NORMAL to allow, no actions to drop.  From then on OVS
   handled the flow alone ("in OVS" never reached the inspector): the
   2 MB download crossed the inspector with a handful of packets.  An
   allowed TCP flow's rules match no SYN (tcp_flags=-syn): a new
   connection on the same 5-tuple goes to the inspector and is judged
   afresh.
 - tcp/2222 needed no inspection: the L4 rule dropped its first packet,
   the SYN, and OVS dropped the retries.  TLS to ads.blocked.test was
   judged on the name nDPI read in the ClientHello (SNI), after the
   packets the table counts as inspected; the packet that brought the
   verdict was dropped, curl never completed its handshake, and OVS
   dropped the retransmissions.
 - vm3 is not inspected: its traffic, even to tcp/2222, bypassed the
   inspector and appears in neither table.
EOF

if [ "$n_surprises" -ne 0 ]; then
    echo "sandbox.sh: $n_surprises of $n_actions actions did not do what the" \
        "policy says (see UNEXPECTED above)" >&4
    exit 1
fi
say ""
say "All $n_actions actions did what the policy says.  Cleaning up the sandbox."
exit 0
