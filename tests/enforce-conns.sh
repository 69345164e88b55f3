#!/bin/bash
# Verdicts that cannot be walked around: a verdict belongs to a TCP
# connection, not to its 5-tuple; a flow is judged under the inspected VM
# whichever side opened it; and a policy or profile change reaches flows
# however long ago the inspector last saw them.
. "${top_srcdir:-$(dirname "$0")/..}/tests/ovs-lib.sh"

fsd_require
for tool in openssl curl; do
    command -v "$tool" > /dev/null || skip "$tool is not installed"
done
py=$(command -v /usr/bin/python3 || command -v python3)
ovs_lib_init
ovs_start
ovs_add_bridge br-int
vm_add vm1 br-int 10.0.0.1/24       # inspected, profile web
vm_add vm2 br-int 10.0.0.2/24       # inspected, profile servers
vm_add vm3 br-int 10.0.0.3/24       # not inspected
ofctl -O OpenFlow13 add-flow br-int "priority=0,actions=NORMAL"

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=www.good.test \
    -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2> /dev/null ||
    fail "openssl could not make a certificate"
bg_start tls vm_exec vm2 sh -c "cd '$tmp' && exec '$py' \
    '$top_srcdir/tests/tls-server.py' 10.0.0.2 8443 cert.pem key.pem"
bg_start http vm_exec vm2 "$py" -m http.server 8080 --bind 10.0.0.2 --directory "$tmp"
bg_start http3 vm_exec vm3 "$py" -m http.server 8080 --bind 10.0.0.3 --directory "$tmp"

cat > "$tmp/policy.conf" <<'EOF'
priority=210, profile=web, app=TLS, sni=*.blocked.test, actions=drop
priority=200, profile=web, app=TLS, actions=allow
priority=150, profile=web, direction=out, tcp, tp_dst=8080, actions=allow
priority=100, profile=web, icmp, actions=allow
priority=0, profile=web, actions=drop
# servers: no inbound HTTP, from anyone
priority=200, profile=servers, direction=in, tcp, tp_dst=8080, actions=drop
priority=0, profile=servers, actions=allow
priority=0, profile=locked, actions=drop
priority=100, profile=labelled, app=HTTP, actions=label
EOF
vsctl set Open_vSwitch . external_ids:flowsteer-bridge=br-int \
    external_ids:flowsteer-policy="$tmp/policy.conf" \
    external_ids:flowsteer-idle-timeout-other=3
for vm in vm1:web vm2:servers; do
    vsctl set Interface "$(vm_port "${vm%:*}")" \
        external_ids:flowsteer-inspect=true \
        external_ids:flowsteer-profile="${vm#*:}" \
        external_ids:attached-mac="\"$(vm_mac "${vm%:*}")\""
done
fsd_start
shows() { fsctl flowsteer/show > "$tmp/show" 2>&1 && grep -q -- "$1" "$tmp/show"; }
verdicts() {
    ofctl -O OpenFlow13 dump-flows br-int \
        "cookie=0xf5e1000000000000/0xffff000000000000" | grep cookie=
}
check "steering installed, the liveness tap up" wait_until 15 fsd_steering 13
wait_until 10 vm_exec vm3 curl -s -o /dev/null --max-time 1 \
    http://10.0.0.3:8080/ || fail "no HTTP server on vm3"

tls() {                             # tls SNI LOCAL_PORT CLOSE
    vm_exec vm1 "$py" "$top_srcdir/tests/tls-client.py" 10.0.0.2 8443 \
        "$1" "$2" "$3" > "$tmp/tls.out" 2>&1
}
# blocked_fails LOCAL_PORT CLOSE: a connection to the blocked name from
# LOCAL_PORT fails; if it does not, says what flowsteerd made of it.
blocked_fails() {
    if tls ads.blocked.test "$1" "$2"; then
        echo "  the connection to ads.blocked.test from port $1 got through:"
        sed 's/^/    /' "$tmp/tls.out"
        fsctl flowsteer/flows | grep -- ":$1 " | sed 's/^/    /'
        verdicts | grep "tp_src=$1\|tp_dst=$1" | sed 's/^/    /'
        return 1
    fi
}
cookies_of() {                      # cookies_of LOCAL_PORT: their cookies
    verdicts | grep "tp_src=$1\|tp_dst=$1" | grep -o "cookie=0x[0-9a-f]*" |
        sort -u
}

for close in rst fin; do
    port=$([ $close = rst ] && echo 45001 || echo 45002)
    echo "== connection reuse after a ${close^^}"
    check "an allowed connection to www.good.test (local port $port)" \
        tls www.good.test $port $close
    check "its allow rules are in br-int" wait_until 5 eval \
        'verdicts | grep "tp_src=$port" | grep -q "actions=NORMAL"'
    first=$(cookies_of $port)
    check "the same 5-tuple, SNI ads.blocked.test: the connection fails" \
        blocked_fails $port $close
    check "it has a drop rule of its own" wait_until 5 eval \
        'verdicts | grep "tp_src=$port" | grep -q "actions=drop"'
    second=$(cookies_of $port)
    check "under a new flow id (cookie $first, then $second)" eval \
        '[ -n "$second" ] && [ "$first" != "$second" ] &&
         ! grep -qxF -- "$first" <<<"$second"'
    check "and the allow rules of the first are gone" eval \
        '! verdicts | grep "tp_src=$port" | grep -q "actions=NORMAL"'
done
check "flowsteerd counted the reopened connections" \
    shows "connections reopened on a 5-tuple with rules: [1-9]"
check "their first packets waited for the old rules to go, then went" \
    shows "packets now (cap [0-9]*), [1-9][0-9]* held, [1-9][0-9]* released, 0 dropped at the cap, 0 expired"

echo "== inbound flows are judged under the inspected VM"
check "vm3 (not inspected) cannot reach vm2's HTTP: servers drops inbound" \
    eval '! vm_exec vm3 curl -s -o /dev/null --max-time 3 http://10.0.0.2:8080/'
check "its drop rule came from servers' inbound rule" wait_until 5 eval \
    'fsctl flowsteer/flows | grep "10.0.0.3:[0-9]* -> 10.0.0.2:8080" |
     grep -q "verdict drop rule [^]]*policy.conf:7"'
check "vm1 (web allows outbound 8080) cannot either: the stricter side wins" \
    eval '! vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.2:8080/'
check "vm1 reaches vm3's HTTP (outbound, vm3 not inspected)" \
    vm_exec vm1 curl -s -o /dev/null --max-time 3 http://10.0.0.3:8080/
check "vm2 reaches vm3 (servers allows outbound)" \
    vm_exec vm2 curl -s -o /dev/null --max-time 3 http://10.0.0.3:8080/

echo "== policy and profile changes reach flows older than the idle timeout"
# ICMP's idle timeout is 3 s here.  A ping every 0.2 s keeps its rules
# alive in OVS; the inspector saw it last long before the change.
bg_start ping vm_exec vm1 ping -i 0.2 -W 1 10.0.0.2
ping_flow() {
    fsctl flowsteer/flows | grep "ICMP 10.0.0.1:0 -> 10.0.0.2:0"
}
check "the ping flow is decided and allowed" wait_until 5 eval \
    'ping_flow | grep -q "verdict allow"'
id=$(ping_flow | cut -d' ' -f1)
sleep 8
replies() { grep -c "bytes from" "$(bg_log ping)"; }
check "8 s later (past the 3 s timeout) it is the same flow ($id)" eval \
    '[ "$(ping_flow | cut -d" " -f1)" = "$id" ]'
check "and OVS carried its packets, not the inspector" eval \
    'ping_flow | grep -q "\[inspector [0-9] pkts"'
n=$(replies)
sed -i 's/^priority=100, profile=web, icmp, actions=allow$/priority=100, profile=web, icmp, actions=drop/' "$tmp/policy.conf"
check "a policy change cuts it" wait_until 10 eval \
    'ping_flow | grep -q "verdict drop"'
sleep 1.5
n=$(replies)
sleep 2
check "no reply since ($n, then $(replies))" eval '[ "$(replies)" = "$n" ]'
sed -i 's/^priority=100, profile=web, icmp, actions=drop$/priority=100, profile=web, icmp, actions=allow/' "$tmp/policy.conf"
check "and back" wait_until 10 eval '[ "$(replies)" -gt "$n" ]'
sleep 8
n=$(replies)
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=locked
check "a profile change cuts it too, 8 s after it was last judged" \
    wait_until 10 eval 'ping_flow | grep -q "verdict drop"'
sleep 1.5
n=$(replies)
sleep 2
check "no reply since" eval '[ "$(replies)" = "$n" ]'
check "it was one flow all along" eval \
    '[ "$(ping_flow | cut -d" " -f1)" = "$id" ]'
bg_stop ping

echo "== label: the flow's real category in its register"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=labelled
check "the profile is in force" wait_until 5 shows "profile labelled"
# Table 50 is the controller's; with nothing there the request goes
# nowhere, but the rule is what matters.
vm_exec vm1 curl -s -o /dev/null --max-time 2 --local-port 45100 \
    http://10.0.0.3:8080/ || :
check "an HTTP flow's rule loads category Web (5) into reg6" wait_until 5 eval \
    'verdicts | grep "tp_src=45100" |
     grep -q "set_field:0x5->reg6,.*resubmit(,50)"'

echo "== a state file older than the switch's rules: the drop wins"
vsctl set Interface "$(vm_port vm1)" external_ids:flowsteer-profile=web
check "web is vm1's profile again" wait_until 5 shows "profile web"
STATE=$OVS_DIR/flowsteerd.flows
saved_flows() { fsctl flowsteer/show | sed -n 's/.* saves (\([0-9]*\) flows last).*/\1/p'; }
check "an allowed TLS connection from port 45200" tls www.good.test 45200 fin
check "saved" wait_until 5 eval \
    'cookies_of 45200 | grep -q . && [ "$(saved_flows)" -ge 1 ] &&
     sleep 1.5 && cp "$STATE" "$tmp/state.old"'
allowed=$(cookies_of 45200)
check "the same 5-tuple to a blocked name: dropped, under a new id" \
    blocked_fails 45200 fin
check "its drop rule is in" wait_until 5 eval \
    'verdicts | grep "tp_src=45200" | grep -q "actions=drop"'
dropped=$(cookies_of 45200)
sleep 1.5                           # Saved, with the drop.
kill -9 "$(fsd_pid)"
cp "$tmp/state.old" "$STATE"        # As if the last save had not happened.
fsd_start
check "after a restart with the old file, steering is back" \
    wait_until 15 fsd_steering 13
check "the rule the file did not know conflicts with one it did" \
    wait_until 5 shows "rules adopted ([1-9][0-9]* conflicts)"
check "the drop stays ($dropped)" eval \
    '[ "$(cookies_of 45200)" = "$dropped" ] &&
     verdicts | grep "tp_src=45200" | grep -q "actions=drop"'
check "the older allow ($allowed) is not put back" wait_until 5 eval \
    '! verdicts | grep "tp_src=45200" | grep -q "actions=NORMAL"'

log_allow 'rconn\|WARN\|br-(int|sec)<->unix#[0-9]+: connection dropped'
fsctl exit > /dev/null 2>&1 || :
finish
