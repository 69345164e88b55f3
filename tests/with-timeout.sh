#!/bin/sh
# with-timeout.sh TEST [ARGS...]: runs TEST (the test harness's
# LOG_COMPILER) and fails it if it runs longer than $TEST_TIMEOUT seconds
# (default 900): a test that hangs must fail, not hold CI until its own
# limit.  TEST gets SIGTERM first, so that it cleans up (its namespaces and
# daemons), then SIGKILL 30 s later.  Other exit statuses pass through (77:
# skipped).
limit=${TEST_TIMEOUT:-900}
timeout --kill-after=30 "$limit" "$@"
status=$?
case $status in
124|137)
    echo "FAIL: $1 timed out after $limit s (TEST_TIMEOUT)"
    exit 1
    ;;
esac
exit $status
