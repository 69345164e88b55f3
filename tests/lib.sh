# Shared helpers for the shell tests.  Source it; it sets -u, makes a
# private temp dir ($tmp) removed on exit, and defines:
#   skip REASON   - exit 77 (the harness counts it as skipped)
#   fail MSG      - print and exit 1
#   check DESC CMD...   - run CMD, print ok/FAIL, count failures; on the
#                         first failure, calls on_first_failure if a test
#                         or library defines it (a snapshot of the state
#                         while it is still the state that failed)
#   finish        - exit 1 if any check failed, else 0
set -u
: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${FLOWSTEER_SHARED:=$top_srcdir/../shared}"
NDPI_DATA=$FLOWSTEER_SHARED/data/ndpi-4.2
INSPECT=$top_builddir/inspector/flowsteer-inspect

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowsteer-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

n_failed=0
n_checks=0

skip() { echo "SKIP: $*"; exit 77; }

# on_backend BACKEND TEST [VAR=VALUE...]: runs tests/TEST.sh with the
# appliance's port read by BACKEND (flowsteer-datapath: dpdk, afxdp,
# afpacket) and the variables given, in place of this script; skips if
# this build has no such backend.  For the scripts that run a scenario on
# another backend (tests/e2e-dpdk.sh ...).
on_backend() {
    local backend=$1 test=$2
    shift 2
    [ -x "$top_builddir/dpdk-pmd/fs-portfwd" ] &&
        "$top_builddir/dpdk-pmd/fs-portfwd" --help | grep 'known:' |
        grep -qw "$backend" ||
        skip "no $backend port backend in this build"
    rm -rf "$tmp"
    trap - EXIT
    exec env FS_DATAPATH="$backend" "$@" bash "$top_srcdir/tests/$test.sh"
}
fail() { echo "FAIL: $*"; exit 1; }

check() {
    desc=$1; shift
    n_checks=$((n_checks + 1))
    if "$@"; then
        echo "ok $desc"
    else
        echo "FAIL $desc"
        n_failed=$((n_failed + 1))
        # POSIX sh: command -v also finds functions (dash has no declare).
        if [ "$n_failed" -eq 1 ] &&
               command -v on_first_failure > /dev/null 2>&1; then
            echo "--- state at the first failure"
            on_first_failure 2>&1 | sed 's/^/| /'
            echo "--- end of state"
        fi
    fi
}

finish() {
    echo "$n_checks checks, $n_failed failed"
    [ "$n_checks" -gt 0 ] || fail "no check ran"
    [ "$n_failed" -eq 0 ]
}

# The nDPI configuration files the reference results were made with.
ndpi_config_args() {
    c=$NDPI_DATA/config
    echo "--protos=$c/protos.txt --categories=$c/categories.txt" \
         "--risky-domains=$c/risky_domains.txt" \
         "--ja3=$c/ja3_fingerprints.csv --sha1=$c/sha1_fingerprints.csv"
}

# A python3 that has the json module is enough for the tests that parse
# JSON; prefer the system one.
find_python() {
    for p in "${PYTHON3:-}" /usr/bin/python3 python3; do
        if [ -n "$p" ] && command -v "$p" >/dev/null 2>&1; then
            echo "$p"; return 0
        fi
    done
    return 1
}
