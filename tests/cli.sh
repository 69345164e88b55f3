#!/bin/sh
# flowsteer-inspect as a user meets it: help, version, errors with clear
# messages and exit codes, JSON keys, policies, and the demo.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

python=$(find_python) || skip "no python3"
demo=$top_srcdir/utilities/demo/demo.pcap
policy=$top_srcdir/utilities/demo/policy.conf

# run EXPECTED-STATUS CMD...: runs CMD with output in $tmp/out, $tmp/err.
run() {
    want=$1; shift
    "$@" > "$tmp/out" 2> "$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || { echo "  '$*' exited $got, want $want"; cat "$tmp/err"; return 1; }
}
err_has() { grep -q -- "$1" "$tmp/err" || { echo "  stderr lacks '$1':"; cat "$tmp/err"; return 1; }; }
out_has() { grep -q -- "$1" "$tmp/out" || { echo "  stdout lacks '$1'"; return 1; }; }


check "--help exits 0 and documents --policy" \
    eval 'run 0 "$INSPECT" --help && out_has "--policy"'
check "--version names nDPI" \
    eval 'run 0 "$INSPECT" --version && out_has "nDPI"'
check "no capture: usage error 2" \
    eval 'run 2 "$INSPECT" && err_has "no capture given"'
check "bad option: usage error 2" \
    eval 'run 2 "$INSPECT" --bogus "$demo"'
check "bad --table-full value" \
    eval 'run 2 "$INSPECT" --table-full=maybe "$demo" && err_has "maybe"'
check "bad --max-flows value" \
    eval 'run 2 "$INSPECT" --max-flows=-3 "$demo" && err_has "max-flows"'
check "missing capture: exit 1 naming the file" \
    eval 'run 1 "$INSPECT" "$tmp/nonexistent.pcap" && err_has "nonexistent.pcap"'
printf 'not a capture at all\n' > "$tmp/garbage.pcap"
check "garbage capture: exit 1 naming the file" \
    eval 'run 1 "$INSPECT" "$tmp/garbage.pcap" && err_has "garbage.pcap"'
check "one bad capture among good ones: others still reported" \
    eval 'run 1 "$INSPECT" --json "$tmp/garbage.pcap" "$demo" && out_has "\"app\":\"TLS\""'

printf 'priority=10, app=HTTP, actions=drop\npriority=5, tp_dst=80, actions=alow\n' > "$tmp/bad.conf"
check "bad policy: file:line:column and exit 1" \
    eval 'run 1 "$INSPECT" --policy "$tmp/bad.conf" "$demo" && err_has "bad.conf:2:"'
check "unreadable policy: exit 1" \
    eval 'run 1 "$INSPECT" --policy "$tmp/none.conf" "$demo" && err_has "none.conf"'
check "missing nDPI file: exit 1" \
    eval 'run 1 "$INSPECT" --protos "$tmp/none.txt" "$demo" && err_has "none.txt"'

# JSON: every flow line has the documented keys; the summary is last.
check "json keys and summary" eval 'run 0 "$INSPECT" --json "$demo" &&
    "$python" - "$tmp/out" <<PY
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
need = {"l4", "src_ip", "src_port", "dst_ip", "dst_port", "app", "category",
        "risks", "host", "verdict", "rule", "src2dst_packets",
        "src2dst_bytes", "dst2src_packets", "dst2src_bytes",
        "packets_inspected"}
flows, summary = lines[:-1], lines[-1]
assert summary.get("summary") is True, summary
assert summary["flows"] == len(flows) == 29, (summary["flows"], len(flows))
assert summary["packets"] == 270, summary["packets"]
for f in flows:
    missing = need - set(f)
    assert not missing, missing
    assert isinstance(f["risks"], list)
apps = {f["app"] for f in flows}
assert {"HTTP", "TLS", "DNS", "SSH"} <= apps, apps
assert summary["memory"]["bytes_per_flow"] > 0, summary["memory"]
PY'

# The demo policy: SSH dropped and logged, the API host dropped, DNS
# decided on its first packet without DPI, the rest as the rules say.
check "demo policy verdicts" eval 'run 0 "$INSPECT" --json --policy "$policy" \
        --port 1 --profile web "$demo" && err_has "verdict drop,log" &&
    "$python" - "$tmp/out" <<PY
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1])][:-1]
def verdicts(pred):
    return {(f["verdict"], f["rule"].rsplit(":", 1)[1]) for f in flows if pred(f)}
assert verdicts(lambda f: f["app"] == "SSH") == {("drop", "12")}, verdicts(lambda f: f["app"] == "SSH")
assert verdicts(lambda f: f["host"] == "api.flowsteer.test" and f["app"] == "TLS") == {("drop", "15")}
assert verdicts(lambda f: f["app"] == "TLS" and f["host"] != "api.flowsteer.test") == {("allow", "16")}
assert verdicts(lambda f: f["l4"] == "UDP" and f["dst_port"] == 53) == {("allow", "9")}
assert verdicts(lambda f: f["l4"] == "TCP" and f["dst_port"] == 53) == {("drop", "20")}
assert all(f["profile"] == "web" and f["port"] == 1 for f in flows)
PY'

# Fail closed: with no profile, the demo's rules (all for profile web)
# match nothing, and every flow takes the default, drop.
check "without --profile, no rule matches: every flow dropped (rule default)" \
    eval 'run 0 "$INSPECT" --json --policy "$policy" "$demo" &&
    "$python" - "$tmp/out" <<PY
import json, sys
flows = [json.loads(l) for l in open(sys.argv[1])][:-1]
assert flows
assert {(f["verdict"], f["rule"]) for f in flows} == {("drop", "default")}, \\
    {(f["verdict"], f["rule"]) for f in flows}
PY'
check "a policy ending in priority=0, actions=allow allows by default" \
    eval 'printf "priority=0, actions=allow\n" > "$tmp/open.conf" &&
    run 0 "$INSPECT" --json --policy "$tmp/open.conf" "$demo" &&
    ! grep -q "\"verdict\":\"drop\"" "$tmp/out" &&
    grep -q "\"verdict\":\"allow\"" "$tmp/out"'

check "--table-full=drop with 4 flows of room" \
    eval 'run 0 "$INSPECT" --json --max-flows 4 --table-full drop "$demo" &&
    grep -q "\"table_full\":[1-9]" "$tmp/out" &&
    grep -q "\"packets_dropped\":[1-9]" "$tmp/out"'

finish
