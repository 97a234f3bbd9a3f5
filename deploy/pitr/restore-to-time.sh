#!/bin/sh
# Point-in-time recovery: a new data directory from a base backup, replaying the WAL archive up
# to TARGET_TIME, then promoted to a primary. Start PostgreSQL on it afterwards (pg_ctl start).
#   restore-to-time.sh BASE_BACKUP_DIR WAL_ARCHIVE_DIR NEW_DATA_DIR '2026-12-01 18:30:00+00'
# The base backup must have been taken before TARGET_TIME. Never point NEW_DATA_DIR at the
# running primary's directory: restore next to it, check, then switch the application over.
set -eu
base="$1"; archive="$2"; data="$3"; target="$4"
if [ -e "$data" ] && [ -n "$(ls -A "$data" 2>/dev/null)" ]; then
  echo "restore-to-time: $data is not empty" >&2
  exit 1
fi
mkdir -p "$data"
cp -a "$base/." "$data/"
rm -f "$data/postmaster.pid" "$data/standby.signal"
chmod 700 "$data"
cat >> "$data/postgresql.auto.conf" <<CONF
# point-in-time recovery (deploy/pitr/restore-to-time.sh)
restore_command = 'cp "$archive/%f" "%p"'
recovery_target_time = '$target'
recovery_target_inclusive = false
recovery_target_action = 'promote'
archive_mode = off
CONF
touch "$data/recovery.signal"
echo "recovery configured in $data: start PostgreSQL to replay up to $target"
