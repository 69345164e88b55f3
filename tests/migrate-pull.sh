#!/bin/bash
# tests/migrate.sh, the migration started by the destination: a pull
# (external_ids:flowsteer-migrate-from on the VM's Interface there).
MIGRATE_PULL=1
. "${top_srcdir:-$(dirname "$0")/..}/tests/migrate.sh"
