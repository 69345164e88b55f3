#!/usr/bin/env bash
# run-flowrules-bench.sh: the flowrules library against ovs-ofctl,
# installing the same per-flow rules into the same Open vSwitch bridge in
# the same run.
#
# Starts a private ovsdb-server and ovs-vswitchd (userspace datapath, in a
# network namespace of its own so that it never meets another netdev
# datapath) with one bridge, fail_mode=secure.  For each N, alternately and
# --runs times each, installs N flows (2N rules) with bench/flowrules-bench
# --install and with 'ovs-ofctl --bundle add-flows' of the same rules
# (written by flowrules-bench --ofctl-file, and checked to give the same
# flow table), deleting all flows between runs and waiting for
# ovs-vswitchd to be idle again, untimed.  Beside them, the whole
# flowsteer-rules process (start, read the commands, connect, reconcile,
# install, exit) on the same flows, like for like with the ovs-ofctl
# process.  Prints the best of each: flows/s, the ratios (target >= 1.5)
# and flowsteer's bytes per installed rule.  Then
# runs flowrules-bench --latency at a steady rate and prints the per-flow
# install latency (target p99 < 5 ms), overall and for each second.
#
# Slow figures are reported, not failed: the exit status is non-zero (2)
# only on errors.  Needs root (network namespaces).

set -euo pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
bench=${FLOWRULES_BENCH:-}
rules_tool=${FLOWSTEER_RULES:-}
sizes="1000 10000 100000"
runs=3
lat_rate=10000
lat_seconds=5
latency=true
keep=false
bench_opts=()
target_ratio=1.5
target_p99=5
schema=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

# ovs-vswitchd, ovsdb-server and ip live in sbin.
case :$PATH: in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

usage() {
    cat <<EOF
Usage: $0 [OPTION]...

Times the flowrules library (bench/flowrules-bench --install N) against
'ovs-ofctl -O OpenFlow13 --bundle add-flows' of the same rules, on a
private ovs-vswitchd with the netdev datapath, --runs times each,
alternately, and prints the best of each side by side (target: flowrules
>= $target_ratio x ovs-ofctl).  Then measures per-flow install latency at a
steady rate of new flows (target: p99 < $target_p99 ms).  Slow figures are
reported, not failed: the exit status is 2 only on errors.  Needs root.

Options:
  --bench PATH          flowrules-bench program (default: bench/flowrules-bench
                        in the current directory, then in the source tree)
  --sizes "N..."        numbers of flows (default: "$sizes")
  --runs N              measurements per tool and size (default $runs)
  --latency-rate R      new flows per second (default $lat_rate)
  --latency-seconds S   length of the latency run (default $lat_seconds)
  --no-latency          skip the latency run
  --bench-opts "OPTS"   more flowrules-bench options for every run, split
                        at spaces, e.g. "--bundle-max=20000" or
                        "--idle-timeout=0" (the ovs-ofctl rules follow)
  --keep                keep the OVS directory (logs, database) at the end
  -h, --help            show this help

Environment: FLOWRULES_BENCH, FLOWSTEER_RULES (flowsteer-rules; default
flowrules/flowsteer-rules beside the bench, or --rules PATH), OVS_SCHEMA
(default $schema).
EOF
}

# shellcheck source=bench/bench-lib.sh
. "$here/bench-lib.sh"

while [ $# -gt 0 ]; do
    case $1 in
        --bench) need_arg "$@"; bench=$2; shift ;;
        --rules) need_arg "$@"; rules_tool=$2; shift ;;
        --sizes) need_arg "$@"; sizes=$2; shift ;;
        --runs) need_arg "$@"; runs=$2; shift ;;
        --latency-rate) need_arg "$@"; lat_rate=$2; shift ;;
        --latency-seconds) need_arg "$@"; lat_seconds=$2; shift ;;
        --no-latency) latency=false ;;
        --bench-opts) need_arg "$@"; read -r -a bench_opts <<<"$2"; shift ;;
        --keep) keep=true ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown option '$1' (try --help)" ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs: '$runs' is not a count"
for n in $sizes; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "--sizes: '$n' is not a count"
done
[ -n "${sizes// /}" ] || die "--sizes: no size"
[[ $lat_rate =~ ^[1-9][0-9]*$ ]] || die "--latency-rate: '$lat_rate' is \
not a rate"
[[ $lat_seconds =~ ^[0-9]*\.?[0-9]+$ ]] || die "--latency-seconds: \
'$lat_seconds' is not a duration"

if [ -z "$bench" ]; then
    for b in bench/flowrules-bench "$top_srcdir/bench/flowrules-bench"; do
        if [ -x "$b" ]; then
            bench=$b
            break
        fi
    done
    [ -n "$bench" ] || die "bench/flowrules-bench not found: build it with \
'make bench/flowrules-bench' (or give --bench)"
fi
[ -x "$bench" ] || die "$bench: not an executable"
rules_tool=${rules_tool:-$(cd "$(dirname -- "$bench")/.." && pwd)/flowrules/flowsteer-rules}
[ -x "$rules_tool" ] || die "$rules_tool: not an executable (give --rules)"
[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
for c in ip ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-ofctl; do
    command -v "$c" >/dev/null \
        || die "$c not found (apt-get install openvswitch-switch iproute2)"
done
[ -r "$schema" ] || die "$schema: no OVS schema (set OVS_SCHEMA)"

# --------------------------------------------------------------------------
# A private Open vSwitch, undone on exit whatever happens.

dir=$(mktemp -d /tmp/fsfrb.XXXXXX)
ns=fsfrb$$
ns_made=false
pids=()
export OVS_RUNDIR=$dir OVS_LOGDIR=$dir OVS_DBDIR=$dir OVS_SYSCONFDIR=$dir

# stop_pid PID: TERM, then KILL after 5 s.
stop_pid() {
    local i
    kill -TERM "$1" 2>/dev/null || return 0
    for i in $(seq 50); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$1" 2>/dev/null || true
}

cleanup() {
    local rc=$? i
    trap - EXIT INT TERM
    # ovs-vswitchd first, then ovsdb-server.
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        stop_pid "${pids[i]}"
    done
    # Deleting the namespace also deletes the tap devices of the netdev
    # datapath (ovs-netdev, br0) that live in it.
    if $ns_made; then
        ip netns del "$ns" 2>/dev/null \
            || echo "$0: could not delete network namespace $ns" >&2
    fi
    if $keep || [ "$rc" -ne 0 ]; then
        if [ "$rc" -ne 0 ] && [ -f "$dir/ovs-vswitchd.log" ]; then
            echo "--- last lines of $dir/ovs-vswitchd.log:" >&2
            tail -5 "$dir/ovs-vswitchd.log" >&2
        fi
        echo "OVS files kept in $dir" >&2
    else
        rm -rf "$dir"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start_daemon NAME ARG...: starts NAME detached in the namespace and
# records its pid.
start_daemon() {
    local name=$1 pidfile=$dir/$1.pid
    shift
    ip netns exec "$ns" "$name" --detach --no-chdir -vconsole:off \
        --pidfile="$pidfile" --log-file="$dir/$name.log" "$@" \
        || die "$name did not start (see $dir/$name.log)"
    [ -s "$pidfile" ] || die "$name: no pidfile"
    pids+=("$(cat "$pidfile")")
}

ip netns add "$ns" || die "cannot create network namespace $ns"
ns_made=true
ip netns exec "$ns" ip link set lo up
ovsdb-tool create "$dir/conf.db" "$schema" >/dev/null \
    || die "ovsdb-tool create failed"
start_daemon ovsdb-server --remote="punix:$dir/db.sock" "$dir/conf.db"
vsctl() {
    ovs-vsctl --db="unix:$dir/db.sock" --timeout=30 "$@"
}
vsctl --no-wait init || die "ovs-vsctl init failed"
start_daemon ovs-vswitchd "unix:$dir/db.sock"
vswitchd_pid=${pids[-1]}
vsctl add-br br0 -- set bridge br0 datapath_type=netdev fail_mode=secure \
    protocols=OpenFlow13,OpenFlow14,OpenFlow15 \
    || die "cannot add bridge br0"
target=unix:$dir/br0.mgmt
ofctl() {
    ovs-ofctl -O OpenFlow13 --timeout=300 "$@"
}
ofctl show "$target" >/dev/null || die "bridge br0 does not answer at $target"

# --------------------------------------------------------------------------
# Measurements.

# kv KEY TEXT: the value of KEY=VALUE in flowrules-bench's output TEXT.
kv() {
    sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"
}

# gt A B: whether number A is greater than number B (or B is empty).
gt() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(b == "" || a + 0 > b + 0) }'
}

# ovs_cpu: ovs-vswitchd's CPU time so far (all threads), in seconds.
clk_tck=$(getconf CLK_TCK)
ovs_cpu() {
    awk -v hz="$clk_tck" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
        "/proc/$vswitchd_pid/stat"
}

# flow_count: the number of rules in the bridge.
flow_count() {
    ofctl dump-aggregate "$target" | sed -n 's/.*flow_count=\([0-9]*\).*/\1/p'
}

# check_count N WHO: the bridge holds 2N rules after WHO installed them.
check_count() {
    local c
    c=$(flow_count)
    [ "$c" = $((2 * $1)) ] \
        || die "$2 left ${c:-no} rules in the bridge, not $((2 * $1))"
}

# dump_rules OUT: the bridge's rules without counters and ages, sorted.
dump_rules() {
    ofctl dump-flows "$target" \
        | sed -E -e '/^OFPST_FLOW reply/d' \
            -e 's/ (duration|n_packets|n_bytes|idle_age|hard_age)=[^,]*,//g' \
        | sort >"$1"
}

# cpu_ticks PID: user + system clock ticks that PID has used.
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# settle: waits (up to 10 s) until ovs-vswitchd is idle: after a delete
# of many rules it keeps freeing them for a while, which would be counted
# against whoever runs next.
settle() {
    local vs=${pids[1]} hz a b i
    hz=$(getconf CLK_TCK)
    for i in $(seq 50); do
        a=$(cpu_ticks "$vs")
        sleep 0.2
        b=$(cpu_ticks "$vs")
        # At most 5% of a CPU over the 0.2 s: (b - a) / hz / 0.2 <= 0.05.
        if [ $(((b - a) * 100)) -le "$hz" ]; then
            return
        fi
    done
    echo "   (ovs-vswitchd still busy after 10 s; going on)" >&2
}

delete_all() {
    ofctl del-flows "$target" || die "ovs-ofctl del-flows failed"
    [ "$(flow_count)" = 0 ] || die "rules left after del-flows"
    settle
}

# run_flowrules N FIRST: one flowrules-bench --install N; prints its output
# line.  With FIRST=true, also writes the rule file and a dump of the table.
run_flowrules() {
    local extra=() out
    if $2; then
        extra=(--ofctl-file "$dir/flows-$1.txt")
    fi
    cpu0=$(ovs_cpu)
    out=$("$bench" "${bench_opts[@]}" "${extra[@]}" --install "$1" \
              "$target" 2>"$dir/bench.err") \
        || die "flowrules-bench --install $1 failed: $(cat "$dir/bench.err")"
    out="$out ovs_cpu=$(awk -v a="$cpu0" -v b="$(ovs_cpu)" 'BEGIN { printf "%.2f", b - a }')"
    check_count "$1" flowrules-bench
    if $2; then
        dump_rules "$dir/dump-flowrules"
    fi
    delete_all
    echo "$out"
}

# timed_process N FIRST NAME COMMAND...: runs COMMAND, a whole process
# that installs N flows, and prints its flows/s and ovs-vswitchd's CPU.
# With FIRST=true, checks that it gives the same table as flowrules-bench.
timed_process() {
    local n=$1 first=$2 name=$3 t0 t1 cpu0 cpu1
    shift 3
    cpu0=$(ovs_cpu)
    t0=$EPOCHREALTIME
    "$@" >"$dir/$name.out" 2>"$dir/$name.err" \
        || die "$name failed: $(tail -3 "$dir/$name.err")"
    t1=$EPOCHREALTIME
    cpu1=$(ovs_cpu)
    check_count "$n" "$name"
    if $first; then
        dump_rules "$dir/dump-$name"
        cmp -s "$dir/dump-flowrules" "$dir/dump-$name" \
            || die "flowrules-bench and $name installed different rules: \
diff $dir/dump-flowrules $dir/dump-$name (kept with --keep)"
    fi
    delete_all
    awk -v n="$n" -v a="$t0" -v b="$t1" -v c0="$cpu0" -v c1="$cpu1" \
        'BEGIN { printf "flows_per_s=%.0f ovs_cpu=%.2f\n", n / (b - a), c1 - c0 }'
}

# rules_from FILE COMMAND...: COMMAND with FILE on its standard input.
rules_from() {
    local file=$1
    shift
    "$@" <"$file"
}

# run_tool N FIRST: one whole flowsteer-rules process setting the same N
# flows (bench_rule() in flowrules-bench.c) from a command file.
run_tool() {
    local cmds=$dir/cmds-$1.txt
    if [ ! -s "$cmds" ]; then
        awk -v n="$1" 'BEGIN {
            for (id = 1; id <= n; id++) {
                a = 167772160 + id          # 10.0.0.0 + id
                printf "set %d tcp %d.%d.%d.%d:%d 172.16.0.1:443 allow\n",
                       id, int(a / 16777216), int(a / 65536) % 256,
                       int(a / 256) % 256, a % 256, 1024 + id % 64000
            }
        }' >"$cmds"
    fi
    timed_process "$1" "$2" flowsteer-rules \
        rules_from "$cmds" "$rules_tool" "${bench_opts[@]}" "$target"
}

# run_ofctl N FIRST: one 'ovs-ofctl --bundle add-flows' of N flows' rules.
run_ofctl() {
    timed_process "$1" "$2" ovs-ofctl \
        ofctl --bundle add-flows "$target" "$dir/flows-$1.txt"
}

echo "ovs-vswitchd $(ovs-vswitchd --version | sed -n '1s/.* //p'), netdev" \
    "datapath, in network namespace $ns; $(nproc) CPUs" >&2
rows=()
for n in $sizes; do
    echo "== $n flows ($((2 * n)) rules): $runs runs of each" >&2
    fr_best='' of_best='' tool_best='' fr_line='' of_line=''
    for i in $(seq 1 "$runs"); do
        first=false
        [ "$i" -ne 1 ] || first=true
        # Alternate who goes first; flowrules writes the rule file in run 1.
        if ((i % 2)); then
            out=$(run_flowrules "$n" $first)
            of_out=$(run_ofctl "$n" $first)
            tool_out=$(run_tool "$n" $first)
        else
            tool_out=$(run_tool "$n" false)
            of_out=$(run_ofctl "$n" false)
            out=$(run_flowrules "$n" false)
        fi
        fr=$(kv flows_per_s "$out")
        of=$(kv flows_per_s "$of_out")
        tool=$(kv flows_per_s "$tool_out")
        echo "   run $i: flowrules $fr flows/s ($(kv seconds "$out") s," \
            "$(kv bundles "$out") bundles, ovs-vswitchd CPU $(kv ovs_cpu "$out") s)," \
            "ovs-ofctl $of flows/s (ovs-vswitchd CPU $(kv ovs_cpu "$of_out") s)," \
            "flowsteer-rules process $tool flows/s" >&2
        if gt "$tool" "$tool_best"; then
            tool_best=$tool
        fi
        if gt "$fr" "$fr_best"; then
            fr_best=$fr
            fr_line=$out
        fi
        if gt "$of" "$of_best"; then
            of_best=$of
            of_line=$of_out
        fi
    done
    rows+=("$n $fr_best $of_best $(kv bytes_per_rule "$fr_line") \
$(kv rss_bytes_per_rule "$fr_line") $(kv ovs_cpu "$fr_line") $(kv ovs_cpu "$of_line") \
$tool_best")
done

if $latency; then
    echo "== latency: $lat_rate new flows/s for $lat_seconds s" >&2
    lat=$("$bench" "${bench_opts[@]}" --latency "$lat_rate" "$lat_seconds" \
              "$target" 2>"$dir/bench.err") \
        || die "flowrules-bench --latency failed: $(cat "$dir/bench.err")"
    delete_all
fi

# --------------------------------------------------------------------------
# Results.

echo
echo "flowrules vs ovs-ofctl --bundle add-flows, same rules, same bridge;" \
    "best of $runs runs; target ratio >= $target_ratio"
[ ${#bench_opts[@]} -eq 0 ] \
    || echo "flowrules-bench options: ${bench_opts[*]}"
printf '%s\n' "${rows[@]}" | awk -v target="$target_ratio" '
    BEGIN {
        printf "%8s %14s %14s %6s %14s %6s %7s %10s %15s %14s\n", "flows",
               "flowrules f/s", "ovs-ofctl f/s", "ratio", "process f/s",
               "ratio", "B/rule", "RSS B/rule", "OVS CPU fr/ofctl",
               "OVS-bound f/s"
    }
    {
        ratio = $3 > 0 ? $2 / $3 : 0
        pratio = $3 > 0 ? $8 / $3 : 0
        bound = $6 > 0 ? $1 / $6 : 0
        printf "%8d %14d %14d %6.2f %14d %6.2f %7.1f %10.1f %7.2f/%-7.2f %14d%s\n",
               $1, $2, $3, ratio, $8, pratio, $4, $5, $6, $7, bound,
               (ratio >= target && pratio >= target ? "" : "  (below target)")
    }'
cat <<'EOF'
  Each flow is 2 rules (both directions), TCP/IPv4 exact 5-tuple, NORMAL.
  flowrules f/s: from the first flowrules_set() to flowrules_synced() (every
    bundle confirmed), on a connection already up and reconciled.
  ovs-ofctl f/s: the whole 'ovs-ofctl -O OpenFlow13 --bundle add-flows'
    process (start, parse the file, connect, one bundle, commit).
  process f/s: the whole flowsteer-rules process on the same flows (start,
    read 'set' commands, connect, reconcile, bundles, every one confirmed,
    exit); ratio: process f/s / ovs-ofctl f/s, like for like.
  B/rule: flowrules' own memory per installed rule (flowrules_get_stats);
    RSS B/rule: growth of flowrules-bench's resident memory per rule.
  OVS CPU: seconds of CPU ovs-vswitchd spent (all threads) during the best
    run of each; OVS-bound f/s: flows / that time for flowrules, the rate no
    OpenFlow client can pass on this ovs-vswitchd.
EOF
if $latency; then
    echo
    awk -v p99="$(kv p99_ms "$lat")" -v t="$target_p99" \
        -v p50="$(kv p50_ms "$lat")" -v max="$(kv max_ms "$lat")" \
        -v rate="$lat_rate" -v s="$lat_seconds" \
        -v set="$(kv set_rate "$lat")" -v conf="$(kv confirmed_rate "$lat")" \
        -v n="$(kv confirmed "$lat")" -v b="$(kv bundles "$lat")" \
        -v by_s="$(kv p99_ms_by_s "$lat" | sed 's/,/ /g')" 'BEGIN {
        printf "install latency at %d new flows/s for %s s (%d flows, " \
               "%d bundles): p50 %.3f ms, p99 %.3f ms, max %.3f ms%s\n",
               rate, s, n, b, p50, p99, max,
               (p99 < t ? "" : "  (p99 above target " t " ms)")
        printf "  achieved: %d flows/s set, %d flows/s confirmed; latency " \
               "from flowrules_set() to the switch confirming it\n", set, conf
        printf "  p99 of the flows set in each second (the table grows by " \
               "%d rules/s): %s ms\n", 2 * rate, by_s
    }'
fi
