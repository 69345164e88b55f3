#!/bin/sh
# build-ovs.sh: builds libopenvswitch from Debian's openvswitch-source
# tarball, once, into a cache that later builds reuse, the way OVN builds
# against an OVS tree.  Prints the two configure options to use:
#
#   --with-ovs-source=DIR --with-ovs-build=DIR
#
# usage: utilities/build-ovs.sh [--print-dir]
# Environment: FLOWSTEER_OVS_CACHE (default ~/.cache/flowsteer), JOBS.
# The tarball must match the installed ovs-vswitchd: both come from the
# same Debian source package, and the version is checked.
set -eu

tarball=/usr/src/openvswitch/openvswitch.tar.gz
cache=${FLOWSTEER_OVS_CACHE:-${HOME:-/root}/.cache/flowsteer}
jobs=${JOBS:-$(nproc)}

die() { echo "build-ovs.sh: $*" >&2; exit 1; }

[ -f "$tarball" ] ||
    die "$tarball not found (apt-get install openvswitch-source)"
version=$(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null) ||
    die "cannot read the version of openvswitch-source"
if command -v ovs-vswitchd >/dev/null 2>&1; then
    switch=$(dpkg-query -W -f='${Version}' openvswitch-switch 2>/dev/null || true)
    [ -z "$switch" ] || [ "$switch" = "$version" ] ||
        die "openvswitch-source $version does not match openvswitch-switch $switch"
fi

# The layout version (-2) changes when the way of building does.
dir=$cache/ovs-$version-2
src=$dir/openvswitch
stamp=$dir/.built

if [ ! -f "$stamp" ]; then
    mkdir -p "$dir"
    # One build at a time per cache directory.
    exec 9> "$dir/.lock"
    flock 9
    if [ ! -f "$stamp" ]; then
        echo "build-ovs.sh: building libopenvswitch $version in $dir" >&2
        rm -rf "$src"
        tar -C "$dir" -xzf "$tarball"
        [ -f "$src/lib/vconn.c" ] || die "unexpected tarball layout"
        (
            cd "$src"
            # Debian's paths, so that programs built on this library find
            # the system's OVS sockets (/var/run/openvswitch) by default.
            ./configure --enable-ssl --disable-dependency-tracking \
                --prefix=/usr --localstatedir=/var --sysconfdir=/etc \
                > "$dir/configure.log" 2>&1 ||
                { tail -20 "$dir/configure.log" >&2; exit 1; }
            # Generated headers first (e.g. odp-netlink.h), then the library.
            built=$(make -s --eval='fs-print-built: ; @echo $(BUILT_SOURCES)' \
                    fs-print-built)
            # shellcheck disable=SC2086
            { make -j"$jobs" $built &&
              make -j"$jobs" lib/libopenvswitch.la; } > "$dir/make.log" 2>&1 ||
                { tail -20 "$dir/make.log" >&2; exit 1; }
        ) || die "build failed; logs in $dir"
        touch "$stamp"
    fi
fi
if [ "${1:-}" = --print-dir ]; then
    echo "$src"
else
    echo "--with-ovs-source=$src --with-ovs-build=$src"
fi
