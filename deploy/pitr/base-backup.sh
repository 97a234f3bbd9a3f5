#!/bin/sh
# A base backup for point-in-time recovery: run it every 6 hours (systemd timer or cron).
#   base-backup.sh 'host=db1 user=replicator' /var/backups/elysium/base/$(date -u +%Y%m%dT%H%M%SZ)
# Restoring needs this directory plus the WAL archive from its start to the target time.
set -eu
conninfo="$1"; target="$2"
bindir="${PG_BIN_DIR:-}"
[ -n "$bindir" ] && bindir="$bindir/"
mkdir -p "$target"
"${bindir}pg_basebackup" --dbname="$conninfo" --pgdata="$target" --format=plain \
  --wal-method=stream --checkpoint=fast --label="elysium $(date -u +%FT%TZ)" --no-password
echo "base backup in $target"
