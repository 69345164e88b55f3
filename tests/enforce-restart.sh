#!/bin/bash
# Restarts keep every verdict: a flowsteerd killed with SIGKILL comes back
# with its flows (the flow state file) and the rules it left in the
# switch, judges new flows under ids that reuse no live cookie, and, when
# the state file is lost, adopts the rules it finds: a drop stays a drop,
# and adopted rules idle out like the others.  Also the golden flow table
# of a fixed scenario (tests/golden/enforce-flows.json; regenerate it with
# FLOWSTEER_REGEN=1 make check TESTS=tests/enforce-restart.sh).
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
command -v curl > /dev/null || skip "curl is not installed"
GOLDEN=$top_srcdir/tests/golden/enforce-flows.json
ovs_lib_init
two_vms_with_servers                # vm1 inspected, profile web

cat > "$tmp/policy.conf" <<'EOF'
priority=300, profile=web, tcp, tp_dst=2222, actions=drop
priority=200, profile=web, app=HTTP, actions=allow
priority=100, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf"
fsd_inspect vm1 web
STATE=$OVS_DIR/flowsteerd.flows
start_fsd() {
    fsd_start
    wait_until 15 shows "inspector port fs-insp0: rx" ||
        fail "flowsteerd's inspector port did not open"
    wait_until 10 fsd_steering 8 || fail "no steering"
    # (tests/enforce-restart-workers.sh: with the workers it asked for.)
    [ -z "${FS_WORKERS:-}" ] || shows "  workers: $FS_WORKERS," ||
        fail "not $FS_WORKERS workers: $(grep workers: "$tmp/show")"
}
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
verdicts() {
    ofctl -O OpenFlow13 --no-stats dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep cookie= | sort
}
cookies() { verdicts | grep -o "cookie=0x[0-9a-f]*" | sort -u; }
http() {                            # http PORT LOCAL_PORT
    vm_exec vm1 curl -s -o /dev/null --max-time 3 --local-port "$2" \
        "http://10.0.0.2:$1/"
}
start_fsd
wait_until 10 vm_exec vm2 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.2:8080/ || fail "no HTTP server"

echo "== the golden flow table of a fixed scenario"
check "HTTP from a fixed port passes" http 8080 46001
check "the closed port does not" eval '! http 2222 46002'
check "ping passes" vm_exec vm1 ping -c 3 -i 0.2 -W 2 10.0.0.2
check "their rules are in" wait_until 5 eval '[ "$(cookies | wc -l)" -ge 3 ]'
fsctl flowsteer/flows --json > "$tmp/flows.json"
# Volatile, and left out: ids and packet counts (timing); the run's names
# (its port prefix and temporary directory) are made fixed.
"$py" - "$tmp/flows.json" "$(vm_port vm1)" > "$tmp/golden.json" <<'EOF'
import json, re, sys
flows = [json.loads(line) for line in open(sys.argv[1])]
for f in flows:
    for k in ("id", "packets_inspector", "packets_inspected", "packets_ovs"):
        f.pop(k, None)
    if f.get("vm") == sys.argv[2]:
        f["vm"] = "vm1"
    f["rule"] = re.sub(r"^.*/", "", f["rule"])
flows.sort(key=lambda f: (f["l4"], f["src_ip"], f["src_port"],
                          f["dst_ip"], f["dst_port"]))
for f in flows:
    print(json.dumps(f, sort_keys=True))
EOF
if [ "${FLOWSTEER_REGEN:-}" = 1 ]; then
    mkdir -p "$(dirname "$GOLDEN")"
    cp "$tmp/golden.json" "$GOLDEN"
    echo "regenerated $GOLDEN"
fi
check "flowsteer/flows --json matches tests/golden/enforce-flows.json" \
    diff -u "$GOLDEN" "$tmp/golden.json"

echo "== kill -9 and restart: every verdict kept, no cookie reused"
# A dropped connection from a fixed port, whose client keeps trying: its
# SYNs reach the inspector (rules match no SYN), the rest hits the rule.
bg_start blocked vm_exec vm1 "$py" -c "
import socket, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('10.0.0.1', 46010))
s.settimeout(1)
while True:
    try:
        s.connect(('10.0.0.2', 2222))
        print('connected', flush=True)
        break
    except OSError:
        time.sleep(0.2)
"
check "its drop rule is in" wait_until 5 eval \
    'verdicts | grep "tp_src=46010" | grep -q "actions=drop"'
check "the flow state file is written, with its 4 flows" wait_until 5 \
    shows "saves (4 flows last)"
verdicts > "$tmp/before"
cookies > "$tmp/cookies.before"
kill -9 "$(fsd_pid)"
check "rules stay while flowsteerd is dead" eval \
    'verdicts | diff -q - "$tmp/before" > /dev/null'
start_fsd
check "it restores its flows" shows "flow state [^:]*: [1-9][0-9]* restored, 0 bad"
check "and adopts none (the file knew them all)" shows "; 0 rules adopted"
check "every rule kept as it was" eval 'verdicts | diff -u "$tmp/before" -'
check "the dropped connection still cannot connect" eval \
    '! grep -q connected "$(bg_log blocked)"'
check "new flows are judged: HTTP passes" http 8080 46020
check "and the closed port does not" eval '! http 2222 46021'
check "new flows' rules are in" wait_until 5 eval \
    'verdicts | grep -q "tp_src=46020"'
cookies > "$tmp/cookies.after"
check "no cookie of a rule from before is reused by a new flow" eval \
    '[ "$(comm -13 "$tmp/cookies.before" "$tmp/cookies.after" |
          grep -cxFf "$tmp/cookies.before")" = 0 ] &&
     [ "$(verdicts | grep "tp_src=4602[01]" | grep -o "cookie=0x[0-9a-f]*" |
          grep -cxFf "$tmp/cookies.before")" = 0 ]'
check "the restored flows show in flowsteer/flows, pinned" eval \
    'fsctl flowsteer/flows | grep -q "10.0.0.1:46010 -> 10.0.0.2:2222 .*verdict drop"'

echo "== the state file lost: the rules are adopted, a drop stays a drop"
verdicts > "$tmp/before"
kill -9 "$(fsd_pid)"
rm -f "$STATE"
start_fsd
check "the rules it found are adopted" shows "; [1-9][0-9]* rules adopted"
check "every rule kept as it was" eval 'verdicts | diff -u "$tmp/before" -'
cat > "$tmp/allow-all.conf" <<'EOF'
priority=0, actions=allow
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-policy="$tmp/allow-all.conf"
check "a policy that allows everything..." wait_until 5 \
    shows "policy: $tmp/allow-all.conf"
check "...does not undo the adopted drop (its inputs are gone)" eval \
    'verdicts | grep "tp_src=46010" | grep -q "actions=drop"'
check "the dropped connection still cannot connect" eval \
    '! grep -q connected "$(bg_log blocked)"'
bg_stop blocked
vsctl set Open_vSwitch . external_ids:flowsteer-idle-timeout-tcp=2
check "adopted rules idle out like the others" wait_until 15 eval \
    '! verdicts | grep -q "tp_src=46010"'

echo "== a damaged state file is refused, never half read"
kill -9 "$(fsd_pid)"
printf 'FSFLOWS1\0\377garbage' > "$STATE"
start_fsd
check "it says so" shows "flow state [^:]*: 0 restored, 1 bad"
check "and inspection works" http 8080 46030

echo "== a slow disk: saves wait for it, steering does not"
# Each save's fsync() takes 1.5 s (the test hook of ovs-ext/fs-saver.h),
# while new connections change the flows every 0.3 s: in the main loop,
# that would stall it past the watchdog and put steered flows into the
# fail mode.
fsctl exit > /dev/null 2>&1 || :
wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' || fail "flowsteerd did not exit"
vsctl remove Open_vSwitch . external_ids flowsteer-idle-timeout-tcp
FLOWSTEER_TEST_SAVE_DELAY_MS=1500 start_fsd
downs() { fsctl flowsteer/show | sed -n 's/.*fs-live held down \([0-9]*\) times.*/\1/p'; }
d0=$(downs)
ok=0
for i in $(seq 0 19); do
    http 8080 $((46100 + i)) && ok=$((ok + 1))
    sleep 0.3
done
check "20 new connections judged and passed while the disk is slow ($ok)" [ "$ok" = 20 ]
check "the main loop never stalled" shows "watchdog: .*; 0 stalls"
check "the liveness tap was never held down for it" eval '[ "$(downs)" = "${d0:-0}" ]'
saved_flows() { fsctl flowsteer/show | sed -n 's/.* saves (\([0-9]*\) flows last).*/\1/p'; }
check "the saves caught up: the last one holds the 20" \
    wait_until 10 eval '[ "$(saved_flows)" -ge 20 ]'
check "they took the disk's time, off the main loop" \
    shows "written off the main loop in [0-9]* ms last, 1[5-9][0-9][0-9] ms at most"
check "contents waiting behind a slow save were replaced by newer ones" \
    eval '! shows " 0 superseded unwritten"'
n=$(saved_flows)
kill -9 "$(fsd_pid)"
start_fsd
check "after a kill -9, the file on disk is whole: $n flows restored" \
    shows "flow state [^:]*: $n restored, 0 bad"

echo "== a disk that hangs: the exit does not wait for it"
# Every fsync() takes 60 s: the save in flight at the exit never ends.  The
# exit gives up on it after 5 s (FS_SAVER_EXIT_WAIT_MS) instead of waiting
# for the disk (and a service manager's stop with it), and the file keeps
# the last save that ended.
fsctl exit > /dev/null 2>&1 || :
wait_until 10 eval '! kill -0 "$(fsd_pid)" 2>/dev/null' || fail "flowsteerd did not exit"
FLOWSTEER_TEST_SAVE_DELAY_MS=60000 start_fsd
n=$(fsctl flowsteer/show | sed -n 's/^flow state [^:]*: \([0-9]*\) restored.*/\1/p')
check "a new connection while the disk hangs" http 8080 46200
sleep 2                                 # Its save is in the fsync().
pid=$(fsd_pid)
t0=$(date +%s)
fsctl exit > /dev/null 2>&1 || :
wait_until 20 eval '! kill -0 "$pid" 2>/dev/null'
t1=$(date +%s)
check "flowsteerd exited within the bound, not the disk's 60 s ($((t1 - t0)) s)" \
    eval '! kill -0 "$pid" 2>/dev/null && [ $((t1 - t0)) -le 12 ]'
check "and said why" grep -q "fs_saver|WARN|.*the last save did not end within 5000 ms" \
    "$FSD_DIR/flowsteerd.log"
start_fsd
check "the file on disk is whole: the ${n:-?} flows of the last save that ended" \
    shows "flow state [^:]*: $n restored, 0 bad"
check "without the connection made while the disk hung (its rule adopted)" \
    shows "flow state [^:]*: $n restored, 0 bad, 0 duplicate; 1 rules adopted"

# SIGKILLs, and the damaged state file it gives flowsteerd.
log_allow 'rconn\|WARN\|br-(int|sec)<->unix#[0-9]+: connection dropped' \
    'fs_verdict\|WARN\|flow state .*: (cut short at byte 8|1 bad records skipped)' \
    'fs_saver\|WARN\|.*: the last save did not end within 5000 ms'
fsctl exit > /dev/null 2>&1 || :
finish
