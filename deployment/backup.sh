#!/usr/bin/env bash
# Backs up the BMMS database to a compressed custom-format dump:
#   DATABASE_URL=postgres://owner@db/bmms deployment/backup.sh /backups
# For the private cluster of `scripts/run`, DATABASE_URL is
#   "postgresql://bmms_owner@localhost/bmms?host=$PWD/data/postgres" (while BMMS runs).
set -euo pipefail
: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
dir=${1:-.}
file="$dir/bmms-$(date -u +%Y%m%dT%H%M%SZ).dump"
pg_dump --format=custom --no-owner --file="$file" "$DATABASE_URL"
echo "$file"
