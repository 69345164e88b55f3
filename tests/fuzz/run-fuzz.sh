#!/bin/sh
# Runs each libFuzzer target given for $FUZZ_SECONDS seconds from a seed
# corpus (frames cut from the reference captures for the packet target,
# tests/*.conf-like policies for the policy target).  Prints one
# "ok TARGET: N execs" or "FAIL TARGET" line each and exits 1 on any crash.
set -u
seconds=${FUZZ_SECONDS:-30}
dir=$(mktemp -d "${TMPDIR:-/tmp}/flowsteer-fuzz.XXXXXX")
trap 'rm -rf "$dir"' EXIT
failed=0
for target in "$@"; do
    name=$(basename "$target")
    corpus=$dir/$name
    mkdir -p "$corpus"
    "$(dirname "$0")/make-seeds.sh" "$name" "$corpus" "$target"
    # Every crash found so far, replayed alone first, then a seed.
    regress=$(dirname "$0")/regress/$name
    if [ -d "$regress" ]; then
        if ! "$target" "$regress"/* > "$dir/$name-regress.log" 2>&1; then
            echo "FAIL $name: a regression input crashes again:"
            tail -40 "$dir/$name-regress.log"
            failed=$((failed + 1))
            continue
        fi
        echo "ok $name: $(ls "$regress" | wc -l) regression inputs"
        cp "$regress"/* "$corpus"/
    fi
    # -timeout: an input that takes a second is a bug too (a hostile VM's
    # packets must not stall the data path).
    # -close_fd_mask=1: what a target prints on stdout is not kept.
    if "$target" -max_total_time="$seconds" -timeout=1 -print_final_stats=1 \
         -close_fd_mask=1 \
         -artifact_prefix="$dir/$name-" "$corpus" > "$dir/$name.log" 2>&1; then
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/$name.log")
        echo "ok $name: $execs execs in ${seconds}s, no crash"
    else
        echo "FAIL $name:"
        tail -40 "$dir/$name.log"
        for a in "$dir/$name"-*; do
            [ -f "$a" ] && echo "crashing input (base64): $(base64 -w0 "$a")"
        done
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
