#!/bin/sh
# An appliance vendor's view: 'make install' puts the library, header and
# pkg-config file in place; example-embed.c builds against them with
# nothing but pkg-config and runs; only fs_* symbols are exported; the
# header is self-contained and C++-safe.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

command -v pkg-config >/dev/null || skip "no pkg-config"
dest=$tmp/dest
make -C "$top_builddir" -s install DESTDIR="$dest" >"$tmp/install.log" 2>&1 ||
    { cat "$tmp/install.log"; fail "make install failed"; }

pc=$(find "$dest" -name flowsteer-inspector.pc | head -n 1)
[ -n "$pc" ] || fail "no flowsteer-inspector.pc installed"
libdir=$(dirname "$(find "$dest" -name 'libflowsteer-inspector.so' | head -n 1)")
export PKG_CONFIG_PATH="$(dirname "$pc")" PKG_CONFIG_SYSROOT_DIR="$dest"

check "pkg-config knows the library" \
    pkg-config --exists flowsteer-inspector
check "header installed" \
    test -f "$(find "$dest" -path '*/include/flowsteer/inspector.h' | head -n 1)"
check "man page installed" \
    test -n "$(find "$dest" -name flowsteer-inspect.1)"

# BUILD_CFLAGS/BUILD_LDFLAGS carry the build's sanitizer flags, if any.
# shellcheck disable=SC2046,SC2086
check "example builds with pkg-config only" \
    ${CC:-cc} ${BUILD_CFLAGS:-} ${BUILD_LDFLAGS:-} -Wall -Werror -o "$tmp/example" \
        "$top_srcdir/inspector/example-embed.c" \
        $(pkg-config --cflags --libs flowsteer-inspector)

capture=$NDPI_DATA/pcap/443-curl.pcap
[ -f "$capture" ] || capture=$top_srcdir/utilities/demo/demo.pcap
# No policy: every flow is allowed by the default on its first packet,
# with no deep inspection.
check "example runs; no policy: default verdicts without DPI" eval '
    LD_LIBRARY_PATH="$libdir" "$tmp/example" "$capture" > "$tmp/out" &&
    grep -q "app Unknown host -: allow (rule default)" "$tmp/out" &&
    grep -q "packets, [1-9][0-9]* verdicts" "$tmp/out"'
check "example applies a policy from its own arguments" eval '
    LD_LIBRARY_PATH="$libdir" "$tmp/example" "$capture" "app=TLS, actions=drop" > "$tmp/out2" &&
    grep -q "app TLS.* drop (rule argv:1)" "$tmp/out2" &&
    grep -q "[1-9][0-9]* packets dropped" "$tmp/out2"'

check "only fs_* symbols are exported" eval '
    nm -D --defined-only "$libdir/libflowsteer-inspector.so" |
        awk "{print \$3}" | grep -v "^FLOWSTEER_INSPECTOR_" |
        grep -v "^fs_" > "$tmp/extra"; ! test -s "$tmp/extra" ||
        { echo "  exported:"; cat "$tmp/extra"; false; }'
check "symbols carry a version" eval '
    objdump -T "$libdir/libflowsteer-inspector.so" |
        grep -q "FLOWSTEER_INSPECTOR_0.1 *fs_inspector_create"'

if command -v c++ >/dev/null 2>&1; then
    printf '#include <flowsteer/inspector.h>\nint main() { return fs_inspector_version() == 0; }\n' > "$tmp/cxx.cc"
    # shellcheck disable=SC2046,SC2086
    check "header compiles as C++" \
        c++ ${BUILD_CFLAGS:-} ${BUILD_LDFLAGS:-} -Wall -Werror -o "$tmp/cxx" "$tmp/cxx.cc" \
            $(pkg-config --cflags --libs flowsteer-inspector)
fi
finish
