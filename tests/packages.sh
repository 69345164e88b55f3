#!/bin/bash
# Every command that the tests, the demo, the benchmarks and the CI script
# run comes from a Debian package that utilities/quickstart.sh installs
# (or one those depend on, or Debian's essential and required set): a
# fresh machine must not fail for want of a tool a developer's machine
# happened to have (the quick start once did, for want of ping).
#
# The scripts are read for words in command position (a line's first word,
# after | ; && || $( and the wrappers the tests use: vm_exec VM, ovs_exec,
# ip netns exec NS, timeout N, bg_start NAME, check "...", wait_until N,
# eval); each that names a program on PATH is looked up with dpkg -S.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

cd "$top_srcdir" || fail "no source tree"
command -v dpkg-query > /dev/null || skip "not a Debian system (no dpkg)"
command -v apt-cache > /dev/null || skip "no apt-cache"

packages=$(sed -n '/^PACKAGES="/,/"$/p' utilities/quickstart.sh |
           sed 's/^PACKAGES="//; s/"$//' | tr -s ' \n' '\n' | grep .)
check "the quickstart's package list is found" test -n "$packages"

# What a fresh machine has: the listed packages and what they depend on,
# and the essential and required packages of any Debian system.
# shellcheck disable=SC2086
apt-cache depends --recurse --installed --no-recommends --no-suggests \
    --no-conflicts --no-breaks --no-replaces --no-enhances $packages \
    2>/dev/null | grep -v '^ ' | grep -v '^<' | sort -u > "$tmp/have"
dpkg-query -W -f='${Package} ${Essential} ${Priority}\n' |
    awk '$2 == "yes" || $3 == "required" { print $1 }' >> "$tmp/have"
sort -u -o "$tmp/have" "$tmp/have"
check "the dependency closure is computed" test "$(wc -l < "$tmp/have")" -gt 50

scripts=(tests/*.sh utilities/*.sh utilities/demo/*.sh bench/*.sh .ci/run
         boot.sh)
# Words in command position.  Strings and comments are stripped first, so
# that prose does not count.
"$(find_python)" - "${scripts[@]}" > "$tmp/words" <<'EOF'
import re, sys
wrap = re.compile(r"""^(?:sudo\s+|env\s+(?:\w+=\S*\s+)*|nice\s+(?:-n\s*\d+\s+)?
    |exec\s+|command\s+-v\s+|timeout\s+(?:--?\S+\s+)*\S+\s+|vm_exec\s+\S+\s+
    |ovs_exec\s+|ip\s+(?:-n\s+\S+\s+)?netns\s+exec\s+\S+\s+
    |bg_start\s+\S+\s+|wait_until\s+\S+\s+|eval\s+['"]?|check\s+"[^"]*"\s+
    |!\s*|\w+=\S*\s+)+""", re.X)
runs = re.compile(r"(?:sudo|env|nice|exec|timeout|vm_exec|ovs_exec|bg_start"
                  r"|wait_until|ip\s+(?:-n\s+\S+\s+)?netns|command\s+-v)\s")
def strip_strings(line):
    """Empties the double-quoted strings of 'line' that run no command."""
    out, i = [], 0
    while i < len(line):
        if line[i] != '"':
            out.append(line[i])
            i += 1
            continue
        j = i + 1
        while j < len(line) and line[j] != '"':
            j += 2 if line[j] == "\\" else 1
        body = line[i + 1:j]
        out.append('"%s"' % (body if "$(" in body or "`" in body else ""))
        i = j + 1
    return "".join(out)
seps = re.compile(r"\|\||&&|[|;(`]|\$\(|\b(?:then|do|else|elif|while|if)\b")
words = {}
for path in sys.argv[1:]:
    heredoc = None
    for line in open(path, errors="replace"):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*['\"]?(\w+)['\"]?", line)
        if m:
            heredoc = m.group(1)
        line = re.sub(r"(^|\s)#.*", "", line)
        line = strip_strings(line)
        for part in seps.split(line):
            part = part.strip()
            rest = wrap.sub("", part)
            m = re.match(r"(/?[A-Za-z][\w./+-]*)(=?)", rest)
            if m and not m.group(2):        # Not an assignment.
                # After a wrapper that runs a program, it surely is one.
                sure = bool(runs.match(part))
                words[m.group(1)] = words.get(m.group(1)) or sure
for w in sorted(words):
    print(w, "sure" if words[w] else "maybe")
EOF
check "command words found in the scripts" test "$(wc -l < "$tmp/words")" -gt 30

missing=0 found=0
while read -r w sure; do
    case $w in
    /usr/*|/bin/*|/sbin/*)
        # A program named by its path: it must be there.  A directory
        # (from a PATH assignment) is no program.
        [ -d "$w" ] && continue
        if [ ! -e "$w" ]; then
            echo "  $w does not exist: which package installs it?"
            missing=$((missing + 1))
            continue
        fi
        path=$(readlink -f "$w")
        ;;
    */*) continue ;;                # Relative: a file of this tree.
    *)
        case $(type -t "$w") in
        file) ;;
        '')
            # Not a function or builtin, and not on PATH: prose, or a
            # program after a wrapper (vm_exec...) that is not installed.
            if [ "$sure" = sure ] && ! grep -qE "^ *$w\(\)|^function $w" \
                   "${scripts[@]}" tests/ovs-lib.sh tests/lib.sh; then
                echo "  $w is run but not installed: which package has it?"
                missing=$((missing + 1))
            fi
            continue
            ;;
        *) continue ;;
        esac
        path=$(readlink -f "$(type -P "$w")")
        ;;
    esac
    pkg=$(dpkg -S "$path" 2>/dev/null | head -n 1 | cut -d: -f1)
    if [ -z "$pkg" ]; then
        # A program of this tree, or one not from a package (pyenv): it
        # is not the quickstart's to install.
        continue
    fi
    found=$((found + 1))
    pkg=${pkg%%,*}
    if ! grep -qxF "$pkg" "$tmp/have"; then
        echo "  $w ($path) is in package $pkg, which the quickstart does not install"
        missing=$((missing + 1))
    fi
done < "$tmp/words"
echo "  $found commands from Debian packages"
check "some commands were looked up" test "$found" -gt 20
check "every one of them is installed by the quickstart" test "$missing" -eq 0
finish
