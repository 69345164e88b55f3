#!/bin/sh
# flowsteer quick start.
#
#   utilities/quickstart.sh demo    install what is missing, build, and run
#                                   the live demo: a private Open vSwitch
#                                   with three VMs (network namespaces),
#                                   flowsteerd inspecting one of them, real
#                                   HTTP, TLS, DNS and ping traffic, and the
#                                   verdicts OVS enforces
#                                   (utilities/demo/sandbox.sh)
#   utilities/quickstart.sh demo-offline
#                                   the same build, then the offline
#                                   inspector (flowsteer-inspect) on a
#                                   capture, with utilities/demo/policy.conf
#   utilities/quickstart.sh check   install what is missing, build, and run
#                                   every test: the unit and integration
#                                   tests, the same again under ASan+UBSan,
#                                   and a short run of each fuzz target
#
# Run as root on Debian 12 (it installs packages with apt-get).  Builds go
# to _build/, _build-asan/ and _build-fuzz/ beside this script's checkout;
# libopenvswitch is built once from Debian's openvswitch-source into
# ~/.cache/flowsteer (utilities/build-ovs.sh).
# Environment: FUZZ_SECONDS (default 30), JOBS (default: nproc).
set -eu

cd "$(dirname "$0")/.."
top=$(pwd)
mode=${1:-}
jobs=${JOBS:-$(nproc)}

usage() {
    sed -n '2,26s/^# \{0,1\}//p' "$0"
    exit 2
}
log() { printf '\n=== %s\n' "$*"; }

# Debian packages the build, the tests, the demo and the benchmarks need
# (tests/packages.sh checks that every program their scripts run is here).
PACKAGES="build-essential autoconf automake libtool pkg-config
  libndpi-dev libndpi-bin libpcap-dev python3 python3-scapy tcpdump
  clang libclang-rt-14-dev
  libdpdk-dev dpdk-dev openvswitch-switch-dpdk
  openvswitch-switch openvswitch-common openvswitch-source
  libssl-dev libcap-ng-dev libseccomp-dev libnuma-dev libunbound-dev libbpf-dev libxdp-dev
  iproute2 iputils-ping ethtool iperf3 curl bc openssl dnsmasq-base bind9-dnsutils
  nginx-light openssh-client openssh-server wireshark-common
  qemu-system-x86 busybox-static cpio"

install_packages() {
    missing=
    for p in $PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
            grep -q 'install ok installed' || missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    log "installing:$missing"
    if [ "$(id -u)" != 0 ]; then
        echo "quickstart: need root to install:$missing" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # Installed, not started: the tests start their own daemons in their
    # own namespaces, and a system ovs-vswitchd, nginx or sshd is not
    # wanted (policy-rc.d, as in Debian's containers).
    prc=/usr/sbin/policy-rc.d
    made_prc=
    if [ ! -e "$prc" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$prc" && chmod 755 "$prc" &&
            made_prc=1
    fi
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing || apt_status=$?
    [ -z "$made_prc" ] || rm -f "$prc"
    [ "${apt_status:-0}" -eq 0 ] || exit "$apt_status"
}

# build DIR [CONFIGURE-ARGS...]: configures (once) and builds in DIR.
build() {
    dir=$1; shift
    [ -x "$top/configure" ] || (log "boot.sh" && ./boot.sh)
    mkdir -p "$dir"
    # Configures again when the options changed (say libopenvswitch's
    # build moved, or an older checkout configured this tree without it).
    if [ ! -f "$dir/Makefile" ] ||
       [ "$(cat "$dir/.quickstart-options" 2>/dev/null)" != "$*" ]; then
        log "configure $* ($dir)"
        (cd "$dir" && "$top/configure" -q "$@")
        echo "$*" > "$dir/.quickstart-options"
    fi
    log "make ($dir)"
    make -C "$dir" -s -j"$jobs"
}

# Builds libopenvswitch once (cached) and prints the configure options.
ovs_options() {
    log "libopenvswitch (utilities/build-ovs.sh)" >&2
    utilities/build-ovs.sh
}

run_demo() {
    # shellcheck disable=SC2046
    build _build $(ovs_options)
    log "the live demo (utilities/demo/sandbox.sh)"
    utilities/demo/sandbox.sh --builddir "$top/_build"
}

run_demo_offline() {
    # shellcheck disable=SC2046
    build _build $(ovs_options)
    log "flowsteer-inspect with utilities/demo/policy.conf"
    set -- "$top"/utilities/demo/*.pcap
    _build/inspector/flowsteer-inspect --policy utilities/demo/policy.conf \
        --port 1 --profile web "$@"
}

# show_failures DIR: prints what each failed test of DIR said about its
# failure, so a CI log shows why and not only which: its FAIL lines, the
# state it recorded at its first failure (tests/lib.sh), its last lines.
show_failures() {
    find "$1" -name '*.trs' | while read -r trs; do
        grep -q '^:test-result: \(FAIL\|ERROR\|XPASS\)' "$trs" || continue
        tlog=${trs%.trs}.log
        log "failed: $tlog"
        grep -E '^(FAIL|not ok)' "$tlog" || true
        sed -n '/^--- state at the first failure/,/^--- end of state/p' \
            "$tlog" | head -n 400
        echo "--- last 30 lines of $tlog"
        tail -n 30 "$tlog"
    done
}

# clear_results DIR: removes the test results of an earlier run, so that a
# test that is gone or did not run is not counted.
clear_results() {
    [ ! -d "$1" ] || find "$1" \( -name '*.trs' -o -name 'test-suite.log' \) \
        -delete
}

run_check() {
    status=0
    ovs=$(ovs_options)
    clear_results _build
    clear_results _build-asan
    rm -f _build-fuzz/fuzz-smoke.log
    # shellcheck disable=SC2086
    build _build $ovs
    log "make check"
    make -C _build -s -j"$jobs" check || { status=1; show_failures _build; }

    # shellcheck disable=SC2086
    build _build-asan --enable-sanitizers $ovs
    log "make check (AddressSanitizer + UndefinedBehaviorSanitizer)"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        make -C _build-asan -s -j"$jobs" check ||
        { status=1; show_failures _build-asan; }

    # Its build output only when it fails: the CI log ends with what
    # matters.
    mkdir -p _build-fuzz
    # shellcheck disable=SC2086
    build _build-fuzz --enable-fuzzing CC=clang $ovs \
        > _build-fuzz/build.log 2>&1 ||
        { cat _build-fuzz/build.log; return 1; }
    log "fuzz targets, ${FUZZ_SECONDS:-30} s each"
    make -C _build-fuzz -s fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-30}" \
        > _build-fuzz/fuzz-smoke.log 2>&1 || status=1
    cat _build-fuzz/fuzz-smoke.log
    return $status
}

case $mode in
demo)  install_packages; run_demo ;;
demo-offline) install_packages; run_demo_offline ;;
check) install_packages; run_check ;;
-h|--help|help) usage ;;
*) usage ;;
esac
