#!/bin/sh
# flowsteer-ctl against a real ovsdb-server holding the Flowsteer schema:
# its commands, the version it adds to each change of a policy, rules
# refused by the inspector's parser with nothing written, concurrent
# changes that all land, formats (table, --json), --dry-run, --timeout,
# and clear errors for what does not exist.  (tests/fleet.sh uses it on a
# cluster with hosts that follow it; RBAC is tested there.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"

python=$(find_python) || skip "no python3"
command -v ovsdb-server > /dev/null || skip "no ovsdb-server"
CTL=$top_builddir/ovs-ext/flowsteer-ctl
[ -x "$CTL" ] || skip "no flowsteer-ctl in this build"
schema=$top_srcdir/ovs-ext/flowsteer.ovsschema

ovsdb-tool create "$tmp/db" "$schema" || fail "ovsdb-tool create failed"
ovsdb-server --detach --no-chdir --pidfile="$tmp/pid" \
    --remote="punix:$tmp/sock" --unixctl="$tmp/ctl" \
    --log-file="$tmp/ovsdb.log" "$tmp/db" || fail "ovsdb-server did not start"
trap 'kill "$(cat "$tmp/pid" 2>/dev/null)" 2>/dev/null; rm -rf "$tmp"' EXIT
export FLOWSTEER_DB="unix:$tmp/sock"

# run EXPECTED-STATUS ARG...: flowsteer-ctl with output in $tmp/out, $tmp/err.
run() {
    want=$1; shift
    "$CTL" --timeout=20 "$@" > "$tmp/out" 2> "$tmp/err"
    got=$?
    [ "$got" -eq "$want" ] || {
        echo "  'flowsteer-ctl $*' exited $got, want $want"; cat "$tmp/err"
        return 1
    }
}
err_has() { grep -q -- "$1" "$tmp/err" || { echo "  stderr lacks '$1':"; cat "$tmp/err"; return 1; }; }
out_has() { grep -q -- "$1" "$tmp/out" || { echo "  stdout lacks '$1':"; cat "$tmp/out"; return 1; }; }
# version NAME: the policy's version, as the database has it.
version() {
    ovsdb-client dump "unix:$tmp/sock" Flowsteer Policy name version |
        awk -v n="$1" '$1 == n || $1 == "\"" n "\"" { print $2 }'
}

check "--help lists the policy and chassis commands" \
    eval 'run 0 --help && out_has "policy-rule-add" && out_has "chassis-list" &&
          out_has "migration-list" && out_has "--db="'
check "--version gives the schema's version" \
    eval 'run 0 --version && out_has "DB Schema 1.0.0"'
check "an unknown command is an error" \
    eval 'run 1 policy-frob && err_has "unknown command"'

check "init" run 0 init
printf 'priority=100, tcp, tp_dst=80, actions=allow\npriority=0, actions=drop\n' \
    > "$tmp/p.conf"
check "policy-add from a file, and policy-use, in one transaction" \
    run 0 policy-add fleet "$tmp/p.conf" -- policy-use fleet
check "the new policy is version 1" eval '[ "$(version fleet)" = 1 ]'
check "policy-list: a table that says it is in force" \
    eval 'run 0 policy-list && out_has "^fleet  *1  *2  *yes"'
check "--json policy-list is JSON with the same row" \
    eval 'run 0 --json policy-list && "$python" -c "
import json, sys
t = json.load(open(sys.argv[1]))
assert t[\"headings\"] == [\"NAME\", \"VERSION\", \"RULES\", \"IN FORCE\"], t
assert t[\"data\"] == [[\"fleet\", \"1\", \"2\", \"yes\"]], t
" "$tmp/out"'
check "a second policy of the same name is refused" \
    eval 'run 1 policy-add fleet && err_has "exists"'
check "unless --may-exist" run 0 --may-exist policy-add fleet
check "a name with a space is refused" \
    eval 'run 1 policy-add "two words" && err_has "policy name"'

# Rules: checked by the inspector's parser; nothing written when refused.
check "policy-rule-add adds a rule and one to the version" \
    eval 'run 0 policy-rule-add fleet "priority=500, tcp, tp_dst=8080, actions=drop" &&
          [ "$(version fleet)" = 2 ]'
check "policy-get prints it with the others" \
    eval 'run 0 policy-get fleet && out_has "^priority=500, tcp, tp_dst=8080, actions=drop$" &&
          out_has "^priority=0, actions=drop$"'
cp "$tmp/out" "$tmp/rules.2"
check "a bad rule is refused with the parser's line and column" \
    eval 'run 1 policy-rule-add fleet "priority=400, tcp, tp_dst=80x, actions=drop" &&
          err_has "fleet:4:[0-9]*: .tp_dst. must be a port"'
check "and nothing was written" \
    eval '[ "$(version fleet)" = 2 ] && run 0 policy-get fleet &&
          cmp -s "$tmp/out" "$tmp/rules.2"'
check "a rule of two lines is refused" \
    eval 'run 1 policy-rule-add fleet "priority=1, actions=allow
priority=2, actions=drop" && err_has "one line"'
printf 'priority=1, actions=allow\n\0junk\n' > "$tmp/nul.conf"
check "a file with a NUL byte is refused" \
    eval 'run 1 policy-set fleet "$tmp/nul.conf" && err_has "NUL" &&
          [ "$(version fleet)" = 2 ]'
check "an unreadable file is refused" \
    eval 'run 1 policy-set fleet "$tmp/none.conf" && err_has "none.conf" &&
          [ "$(version fleet)" = 2 ]'
check "policy-set from standard input" \
    eval 'printf "priority=7, udp, actions=drop\npriority=0, actions=allow\n" |
          run 0 policy-set fleet - && [ "$(version fleet)" = 3 ] &&
          run 0 policy-get fleet && out_has "^priority=7, udp, actions=drop$" &&
          ! grep -q "tp_dst=8080" "$tmp/out"'
check "policy-rule-del removes the rules of a priority" \
    eval 'run 0 policy-rule-del fleet 7 && [ "$(version fleet)" = 4 ] &&
          run 0 policy-get fleet && ! grep -q "priority=7" "$tmp/out"'
check "policy-rule-del of a priority it does not have is an error" \
    eval 'run 1 policy-rule-del fleet 7 && err_has "no rule of priority 7" &&
          [ "$(version fleet)" = 4 ]'
check "--dry-run commits nothing" \
    eval 'run 0 --dry-run policy-rule-add fleet "priority=9, actions=drop" &&
          [ "$(version fleet)" = 4 ]'

# Concurrent changes of one policy: each lands, each adds one.
for i in 1 2 3 4 5 6 7 8; do
    "$CTL" --timeout=30 policy-rule-add fleet \
        "priority=$((600 + i)), tcp, tp_dst=$((9000 + i)), actions=drop" \
        > "$tmp/conc.$i" 2>&1 &
done
wait
check "8 concurrent rule-adds: version 4 + 8" eval '[ "$(version fleet)" = 12 ]'
check "and all 8 rules are there" \
    eval 'run 0 policy-get fleet &&
          [ "$(grep -c "^priority=60[1-8], tcp, tp_dst=900[1-8], actions=drop$" "$tmp/out")" = 8 ]'

check "the policy in force cannot be deleted without --force" \
    eval 'run 1 policy-del fleet && err_has "in force" && [ "$(version fleet)" = 12 ]'

# Profiles.
check "a profile of a policy that does not exist is refused" \
    eval 'run 1 profile-add web nosuch && err_has "nosuch: no policy"'
check "profile-add with a policy" \
    eval 'run 0 policy-add webpol -- profile-add web webpol'
check "profile-list says so" \
    eval 'run 0 profile-list && out_has "^web  *webpol$"'
check "a policy whose rules name a profile cannot be a profile's" \
    eval 'printf "priority=5, profile=db, actions=drop\n" > "$tmp/prof.conf" &&
          run 0 policy-add withprof "$tmp/prof.conf" &&
          run 1 profile-set-policy web withprof &&
          err_has "policy withprof cannot be profile web.s" &&
          err_has "duplicate field" && run 0 profile-list &&
          out_has "^web  *webpol$"'
check "profile-set-policy with none clears it" \
    eval 'run 0 profile-set-policy web && run 0 profile-list &&
          ! grep -q webpol "$tmp/out"'

# Chassis and migrations, as chassis write them (the generic "create").
now=$(($(date +%s) * 1000))
check "the generic create command writes a Chassis row" \
    run 0 create Chassis name=hosta hostname=a.example \
        migration_remote='"ssl:192.0.2.1:6650"' policy_name='"db:fleet"' \
        policy_version=12 heartbeat="$now"
check "chassis-list shows it" \
    eval 'run 0 chassis-list &&
          out_has "^hosta  *a.example  *ssl:192.0.2.1:6650  *db:fleet  *12  *[0-9]s ago$"'
check "a migration row, and migration-list" \
    eval 'run 0 create Migration iface_id=vm1 source=hosta destination=hostb \
              state=done started="$now" ended="$((now + 1500))" flows=42 &&
          run 0 migration-list && out_has "^vm1  *hosta  *hostb  *done  *20[0-9-]*T[0-9:.]*Z .* 42 *$"'
check "show tells it all" \
    eval 'run 0 show && out_has "policy in force: fleet (version 12)" &&
          out_has "^chassis hosta (a.example): policy db:fleet version 12" &&
          out_has "^profile web: policy (the global one)" &&
          out_has "^migration vm1: hosta -> hostb, done"'
check "chassis-del of a chassis that does not exist is an error" \
    eval 'run 1 chassis-del hostz && err_has "hostz: no chassis"'
check "but not with --if-exists" run 0 --if-exists chassis-del hostz
check "chassis-del" eval 'run 0 chassis-del hosta && run 0 chassis-list &&
                          ! grep -q hosta "$tmp/out"'

# A database that is not there: an error within the timeout, not a hang.
t0=$(date +%s)
"$CTL" --db="unix:$tmp/nosuch.sock" --timeout=2 show > /dev/null 2>&1
rc=$?
t1=$(date +%s)
check "an unreachable database: non-zero exit ($rc) within the timeout" \
    eval '[ "$rc" -ne 0 ] && [ $((t1 - t0)) -le 5 ]'

finish
