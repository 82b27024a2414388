#!/usr/bin/env bash
# Restores a dump made by backup.sh into an empty database, then checks the audit chains:
#   DATABASE_URL=postgres://owner@db/bmms_restored deployment/restore.sh bmms-20261121T120000Z.dump
# Devices that synced after the backup resend what the server no longer has.
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
# The dump grants to bmms_app, a cluster-wide role a new server may not have yet.
psql --quiet "$DATABASE_URL" -c "do \$\$ begin create role bmms_app login; exception when duplicate_object then null; end \$\$;"
pg_restore --no-owner --exit-on-error --dbname="$DATABASE_URL" "${1:?name the dump file}"
"${BMMS_BIN:-bmms}" audit verify
