#!/bin/sh
# The layout .editorconfig states, checked: C sources and headers indent
# with spaces and keep lines within 79 columns; no text file has trailing
# whitespace or lacks its final newline; every shell test is executable.  (No .clang-format is shipped:
# like Open vSwitch's, the style is STYLE.md's, not a formatter's.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

cd "$top_srcdir" || fail "no source tree"

# The tracked sources; in a tarball without git, what the tree holds.
sources() {
    find . -path './_build*' -prune -o -path './.git' -prune \
         -o -path './autom4te.cache' -prune -o -type f \( "$@" \) -print |
        grep -v '/Makefile\.in$\|/configure$\|/aclocal\.m4$\|/build-aux/'
}
sources -name '*.c' -o -name '*.h' > "$tmp/c"
sources -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.py' \
        -o -name '*.am' -o -name '*.mk' -o -name '*.ac' -o -name '*.in' \
        -o -name '*.[18]' -o -name README -o -name '*.conf' > "$tmp/text"
check "C sources are found" test "$(wc -l < "$tmp/c")" -gt 20

# awk prints FILE:LINE: WHAT for each offence; an empty report passes.
report() {
    if [ -s "$tmp/report" ]; then
        head -n 20 "$tmp/report"
        return 1
    fi
}
xargs awk 'length > 79 { print FILENAME ":" FNR ": " length " columns" }
           /\t/ { print FILENAME ":" FNR ": tab" }' < "$tmp/c" > "$tmp/report"
check "C lines within 79 columns, no tabs" report
xargs awk '/[ \t]$/ { print FILENAME ":" FNR ": trailing whitespace" }' \
    < "$tmp/text" > "$tmp/report"
check "no trailing whitespace" report
while read -r f; do
    [ ! -s "$f" ] || [ "$(tail -c 1 "$f" | od -An -tx1 | tr -d ' ')" = 0a ] ||
        echo "$f: no final newline"
done < "$tmp/text" > "$tmp/report"
check "every text file ends with a newline" report
# The harness runs each test (tests/automake.mk's SHELL_TESTS) as a
# program: one that is not executable fails with "Permission denied".
sed -n '/^SHELL_TESTS = /,/^$/s/^\t\(tests\/[^ ]*\.sh\).*/\1/p' \
    tests/automake.mk > "$tmp/tests"
while read -r t; do
    [ -x "$t" ] || echo "$t: not executable"
done < "$tmp/tests" > "$tmp/report"
check "the shell tests are found" test "$(wc -l < "$tmp/tests")" -gt 20
check "every shell test is executable" report
finish
