#!/usr/bin/env bash
# run-inspect-bench.sh: flowsteer's inspector against nDPI's ndpiReader,
# side by side, on the same captures in the same run.
#
# For each capture, runs bench/inspect-bench (libflowsteer-inspector) and
# Debian's ndpiReader (its own "nDPI throughput" figure), alternately,
# --runs times each, and keeps each one's best.  The target (>= 2.0) is
# judged as a user meets the two tools: on inspect-bench --stream, which
# reads the file packet by packet inside the timed loop as ndpiReader
# does, and on whole-process time, flowsteer-inspect against ndpiReader on
# the capture, start to exit.  Beside them, the figure of a data path:
# packets held in memory, in bursts of 32.  Then flowsteer's memory per
# flow, measured (bench/inspect-memory: resident memory) beside what the
# library declares.  Slow figures are reported, not failed: the exit
# status is non-zero only on errors.

set -euo pipefail

here=$(cd "$(dirname -- "$0")" && pwd)
top_srcdir=${top_srcdir:-$(cd "$here/.." && pwd)}
shared=${FLOWSTEER_SHARED:-$top_srcdir/../shared}
ref_dir=$shared/data/ndpi-4.2
bench=${INSPECT_BENCH:-}
inspect=${FLOWSTEER_INSPECT:-}
memory=${INSPECT_MEMORY:-}
ndpireader=${NDPIREADER:-ndpiReader}
cache=$top_srcdir/bench/data
ndpi_config=
runs=3
seconds=2
generate=true
target=2.0

usage() {
    cat <<EOF
Usage: $0 [OPTION]... [CAPTURE]...

Runs flowsteer's inspect-bench (--stream from the file, and from memory),
flowsteer-inspect and ndpiReader on each CAPTURE (default: the nDPI
reference captures with an Ethernet link type merged into one, and the
generated HTTP/TLS/DNS/SSH mix), --runs times each, alternately, and
prints the best of each side by side.  The target is flowsteer >= $target
x ndpiReader, read from the file and in whole-process time; slower
figures are reported, not failed (exit status 2 only on errors).

Options:
  --bench PATH         inspect-bench program (default: bench/inspect-bench
                       in the current directory, then in the source tree)
  --inspect PATH       flowsteer-inspect (default: inspector/flowsteer-inspect
                       beside it)
  --memory PATH        inspect-memory (default: bench/inspect-memory beside
                       inspect-bench)
  --ndpireader PATH    ndpiReader program (default: $ndpireader)
  --ndpi-config DIR    pass DIR's protos.txt, categories.txt,
                       risky_domains.txt, ja3_fingerprints.csv and
                       sha1_fingerprints.csv to both tools (default: none;
                       the reference set is $ref_dir/config)
  --runs N             measurements per tool and capture (default $runs)
  --seconds S          length of each measurement (default $seconds)
  --cache DIR          where the default captures are kept
                       (default: $cache)
  --no-generate        do not run gen-mix.sh (needs root) when the mix is
                       missing; skip it instead
  -h, --help           show this help

Environment: FLOWSTEER_SHARED (shared data, default
$top_srcdir/../shared), INSPECT_BENCH, FLOWSTEER_INSPECT, INSPECT_MEMORY,
NDPIREADER.
EOF
}

# shellcheck source=bench/bench-lib.sh
. "$here/bench-lib.sh"

captures=()
while [ $# -gt 0 ]; do
    case $1 in
        --bench) need_arg "$@"; bench=$2; shift ;;
        --inspect) need_arg "$@"; inspect=$2; shift ;;
        --memory) need_arg "$@"; memory=$2; shift ;;
        --ndpireader) need_arg "$@"; ndpireader=$2; shift ;;
        --ndpi-config) need_arg "$@"; ndpi_config=$2; shift ;;
        --runs) need_arg "$@"; runs=$2; shift ;;
        --seconds) need_arg "$@"; seconds=$2; shift ;;
        --cache) need_arg "$@"; cache=$2; shift ;;
        --no-generate) generate=false ;;
        -h|--help) usage; exit 0 ;;
        -*) die "unknown option '$1' (try --help)" ;;
        *) captures+=("$1") ;;
    esac
    shift
done
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "--runs: '$runs' is not a count"
[[ $seconds =~ ^[0-9]*\.?[0-9]+$ ]] || die "--seconds: '$seconds' is not \
a duration"

if [ -z "$bench" ]; then
    for b in bench/inspect-bench "$top_srcdir/bench/inspect-bench"; do
        if [ -x "$b" ]; then
            bench=$b
            break
        fi
    done
    [ -n "$bench" ] || die "bench/inspect-bench not found: build it with \
'make bench/inspect-bench' (or give --bench)"
fi
[ -x "$bench" ] || die "$bench: not an executable"
builddir=$(cd "$(dirname -- "$bench")/.." && pwd)
inspect=${inspect:-$builddir/inspector/flowsteer-inspect}
memory=${memory:-$builddir/bench/inspect-memory}
[ -x "$inspect" ] || die "$inspect: not an executable (give --inspect)"
[ -x "$memory" ] || die "$memory: not an executable (give --memory)"
command -v "$ndpireader" >/dev/null \
    || die "$ndpireader not found (apt-get install libndpi-bin)"

# The same nDPI configuration files for both tools.
fs_conf=()
ndpi_conf=()
if [ -n "$ndpi_config" ]; then
    [ -d "$ndpi_config" ] \
        || die "--ndpi-config: $ndpi_config: no such directory"
    for f in protos.txt:--protos:-p categories.txt:--categories:-c \
             risky_domains.txt:--risky-domains:-r \
             ja3_fingerprints.csv:--ja3:-j sha1_fingerprints.csv:--sha1:-S; do
        IFS=: read -r name fs_opt ndpi_opt <<<"$f"
        if [ -f "$ndpi_config/$name" ]; then
            fs_conf+=("$fs_opt=$ndpi_config/$name")
            ndpi_conf+=("$ndpi_opt" "$ndpi_config/$name")
        fi
    done
    [ ${#fs_conf[@]} -gt 0 ] \
        || die "--ndpi-config: no nDPI file in $ndpi_config"
fi

tmp=$(mktemp -d /tmp/fsbench-run.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# --------------------------------------------------------------------------
# Default captures.

# Merges the reference captures whose link type is Ethernet (mergecap
# refuses to mix link types; the others are SLL, raw IP, null, PPP, C-HDLC)
# into one pcap, ordered by time.
merged_reference() {
    local out=$cache/ndpi-ref-ether.pcap list=$cache/ndpi-ref-ether.list
    local files skipped total
    [ -d "$ref_dir/pcap" ] || die "no reference captures in $ref_dir/pcap \
(set FLOWSTEER_SHARED)"
    if ! command -v mergecap >/dev/null || ! command -v capinfos >/dev/null
    then
        die "mergecap/capinfos not found (apt-get install wireshark-common)"
    fi
    if [ -s "$out" ] && [ -s "$list" ] \
           && [ -z "$(find "$ref_dir/pcap" -newer "$out" -print -quit)" ]; then
        echo "$out"
        return
    fi
    mkdir -p "$cache"
    (cd "$ref_dir/pcap" && capinfos -T -r -E -- *) >"$tmp/linktypes" \
        || die "capinfos failed on $ref_dir/pcap"
    files=$(awk -F'\t' '$2 == "ether" { print $1 }' "$tmp/linktypes")
    total=$(wc -l <"$tmp/linktypes")
    skipped=$(awk -F'\t' '$2 != "ether" { print $2 }' "$tmp/linktypes" \
                  | sort | uniq -c | awk '{ printf "%s%s %s", s, $1, $2;
                                            s = ", " }')
    # shellcheck disable=SC2086
    (cd "$ref_dir/pcap" && mergecap -F pcap -w "$out.part" $files) \
        || die "mergecap failed"
    mv -f "$out.part" "$out"
    echo "$files" >"$list"
    echo "Merged $(echo "$files" | wc -l) of $total reference captures" \
        "(Ethernet only; left out: $skipped) into $out" >&2
    echo "$out"
}

generated_mix() {
    local out=$cache/mix.pcap
    if [ -s "$out" ]; then
        echo "$out"
        return
    fi
    if ! $generate; then
        echo "Skipping the generated mix: $out missing (--no-generate)" >&2
        return
    fi
    if [ "$(id -u)" != 0 ]; then
        echo "Skipping the generated mix: $out missing and generating it" \
            "needs root ($here/gen-mix.sh $out)" >&2
        return
    fi
    echo "Generating $out with gen-mix.sh" >&2
    bash "$here/gen-mix.sh" "$out" >&2 || die "gen-mix.sh failed"
    echo "$out"
}

if [ ${#captures[@]} -eq 0 ]; then
    ref=$(merged_reference) || exit 2
    captures+=("$ref")
    mix=$(generated_mix) || exit 2
    [ -z "$mix" ] || captures+=("$mix")
fi
for c in "${captures[@]}"; do
    [ -r "$c" ] || die "$c: cannot read"
done

# --------------------------------------------------------------------------
# Measurements.

# json_field NAME FILE: a numeric field of inspect-bench's --json output.
json_field() {
    sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$2"
}

# gt A B: whether number A is greater than number B (or B is empty).
gt() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(b == "" || a + 0 > b + 0) }'
}

# ndpi_kpps FILE: the Kpps of one ndpiReader run with one or more loops,
# from its "nDPI throughput: X [K|M] pps" lines: all packets over all the
# loops' time (the harmonic mean of the per-loop rates).
ndpi_kpps() {
    awk '/nDPI throughput:/ {
             v = $3; u = $4
             if (u == "M") v *= 1e6; else if (u == "K") v *= 1e3
             n++; inv += 1 / v
         }
         END { if (n && inv > 0) printf "%.1f\n", n / inv / 1e3 }' "$1"
}

# proc_ms COMMAND...: the wall-clock time of COMMAND, start to exit, in
# milliseconds (its output discarded); fails if it fails.
proc_ms() {
    local t0 t1
    t0=$EPOCHREALTIME
    "$@" >/dev/null 2>"$tmp/proc.err" || return 1
    t1=$EPOCHREALTIME
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) * 1000 }'
}

# lt A B: whether number A is less than number B (or B is empty).
lt() {
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(b == "" || a + 0 < b + 0) }'
}

# ndpi_loops CAPTURE: enough ndpiReader loops (-l) to run --seconds.
ndpi_loops() {
    local ms
    "$ndpireader" "${ndpi_conf[@]}" -i "$1" -v 0 >"$tmp/ndpi.cal" 2>&1 \
        || die "ndpiReader failed on $1: $(tail -3 "$tmp/ndpi.cal")"
    ms=$(awk '/Packet Processing Time:/ { print $4; exit }' "$tmp/ndpi.cal")
    awk -v ms="${ms:-0}" -v s="$seconds" 'BEGIN {
        if (ms < 1) ms = 1
        l = int(s * 1000 / ms + 0.999)
        print (l < 1 ? 1 : l > 10000 ? 10000 : l) }'
}

# fs_run MODE CAPTURE OUT: one inspect-bench measurement (MODE: memory or
# stream); prints its Kpps and leaves its JSON in OUT.
fs_run() {
    local mode_opt=()
    [ "$1" = memory ] || mode_opt=(--stream)
    "$bench" --json -t "$seconds" "${mode_opt[@]}" "${fs_conf[@]}" "$2" \
        >"$3" 2>"$tmp/fs.err" \
        || die "inspect-bench failed on $2: $(cat "$tmp/fs.err")"
    awk -v p="$(json_field pps "$3")" 'BEGIN { printf "%.1f\n", p / 1e3 }'
}

rows=()
for c in "${captures[@]}"; do
    name=$(basename -- "$c")
    echo "== $name: $runs runs of each, ~${seconds} s each" >&2
    loops=$(ndpi_loops "$c") || exit 2
    mem_best='' str_best='' nd_best='' nd_flows='' fsp_best='' ndp_best=''
    for i in $(seq 1 "$runs"); do
        mem=$(fs_run memory "$c" "$tmp/mem.json") || exit 2
        str=$(fs_run stream "$c" "$tmp/str.json") || exit 2
        "$ndpireader" "${ndpi_conf[@]}" -i "$c" -v 0 -l "$loops" \
            >"$tmp/ndpi.out" 2>&1 \
            || die "ndpiReader failed on $c: $(tail -3 "$tmp/ndpi.out")"
        nd=$(ndpi_kpps "$tmp/ndpi.out")
        [ -n "$nd" ] || die "no 'nDPI throughput' line from ndpiReader on $c"
        nd_flows=$(awk '/Unique flows:/ { print $3; exit }' "$tmp/ndpi.out")
        # Whole processes, once through the capture, as a user runs them.
        fsp=$(proc_ms "$inspect" -q "${fs_conf[@]}" "$c") \
            || die "flowsteer-inspect failed on $c: $(cat "$tmp/proc.err")"
        ndp=$(proc_ms "$ndpireader" "${ndpi_conf[@]}" -i "$c" -v 0) \
            || die "ndpiReader failed on $c: $(cat "$tmp/proc.err")"
        echo "   run $i: flowsteer from file $str Kpps (in memory: $mem)," \
            "ndpiReader $nd Kpps ($loops loops); processes:" \
            "flowsteer-inspect $fsp ms, ndpiReader $ndp ms" >&2
        if lt "$fsp" "$fsp_best"; then
            fsp_best=$fsp
        fi
        if lt "$ndp" "$ndp_best"; then
            ndp_best=$ndp
        fi
        if gt "$mem" "$mem_best"; then
            mem_best=$mem
            cp "$tmp/mem.json" "$tmp/best.json"
        fi
        if gt "$str" "$str_best"; then
            str_best=$str
        fi
        if gt "$nd" "$nd_best"; then
            nd_best=$nd
        fi
    done
    j=$tmp/best.json
    rows+=("$name $(json_field packets "$j") $(json_field flows_created "$j") \
${nd_flows:-0} $mem_best $str_best $nd_best $fsp_best $ndp_best")
done

# --------------------------------------------------------------------------
# Table.

echo
echo "flowsteer: $("$bench" --version)"
nd_version=$("$ndpireader" -h 2>&1 \
                 | sed -n 's/.*Welcome to \(nDPI [^ ]*\).*/\1/p' | head -1)
echo "ndpiReader: $(command -v "$ndpireader") (${nd_version:-version unknown})"
echo "nDPI config: ${ndpi_config:-none}; best of $runs runs of" \
    "~${seconds} s; target ratio >= $target"
printf '%s\n' "${rows[@]}" | awk -v target="$target" '
    BEGIN {
        printf "%-20s %7s %5s %6s | %8s %8s %5s | %8s %8s %5s | %8s %5s\n",
               "capture", "packets", "flows", "(ndpi)", "fs file", "ndpi",
               "ratio", "fs proc", "ndpi", "ratio", "fs burst", "ratio"
    }
    {
        fratio = $7 > 0 ? $6 / $7 : 0
        pratio = $8 > 0 ? $9 / $8 : 0
        bratio = $7 > 0 ? $5 / $7 : 0
        printf "%-20s %7d %5d %6d | %8.1f %8.1f %5.2f | %6.0fms %6.0fms %5.2f | %8.1f %5.2f%s\n",
               $1, $2, $3, $4, $6, $7, fratio, $8, $9, pratio, $5, bratio,
               (fratio >= target && pratio >= target ? "" : "  (below target)")
    }'
cat <<'EOF'
  flows: flows flowsteer created; (ndpi): ndpiReader's unique flows.
  fs file: inspect-bench --stream, each packet read from the file with
    libpcap inside the timed loop and processed at once, as ndpiReader
    does, in Kpps; ndpi: ndpiReader's own "nDPI throughput" in Kpps.  Each
    Kpps figure is all packets over all repetitions' time, the best of the
    runs; ratio: fs file / ndpi.  Judged against the target.
  fs proc / ndpi: whole processes, start to exit, once through the
    capture: flowsteer-inspect -q against ndpiReader -v 0, best of the
    runs; ratio: ndpi time / fs time.  Judged against the target.
  fs burst: inspect-bench with the packets held in memory, fed in bursts
    of 32 as a data path does (not judged); ratio: fs burst / ndpi.
EOF

echo
echo "Memory per flow ($(basename -- "$memory"), resident memory measured" \
    "beside what the library declares):"
"$memory" --flows 1000000 | sed 's/^/  /' || die "inspect-memory failed"
