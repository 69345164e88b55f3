# bench-lib.sh: what the benchmark scripts share.  Source it from bash:
#     . "$here/bench-lib.sh"

# die MESSAGE...: prints "$0: MESSAGE" and exits 2 (an error, not a slow
# figure).
die() {
    echo "$0: $*" >&2
    exit 2
}

# need_arg OPTION [VALUE]: dies unless OPTION was given a non-empty VALUE.
need_arg() {
    if [ $# -lt 2 ] || [ -z "$2" ]; then
        die "$1 needs an argument (try --help)"
    fi
}
