#!/bin/sh
# Point-in-time recovery with pgBackRest, as the database's owner: a NEW, EMPTY data directory
# from the newest backup before TARGET_TIME, set to replay the repository's WAL up to that
# moment, then promote. Start PostgreSQL on it afterwards on another port (pg_ctl start).
#   sudo -u postgres deploy/pitr/pgbackrest-restore-to-time.sh elysium '2026-12-01 18:30:00+00' /var/lib/postgresql/15/drill
# Archiving stays off on the restored copy (it must not push WAL into the primary's
# repository); never point it at the running primary: restore next to it, check, switch over.
set -eu
[ "$#" -eq 3 ] || { echo "usage: $0 STANZA TARGET_TIME NEW_DATA_DIR" >&2; exit 2; }
stanza="$1"; target="$2"; data="$3"
if [ -e "$data" ] && { [ ! -d "$data" ] || [ -n "$(ls -A "$data")" ]; }; then
  echo "$(basename "$0"): $data is not an empty directory: restore into a new one" >&2
  exit 1
fi
. "$(dirname "$0")/pgbackrest-lib.sh"

mkdir -p -m 700 "$data"

pgbr --stanza="$stanza" --log-level-console=warn --type=time --target="$target" \
  --target-action=promote --archive-mode=off --pg1-path="$data" restore
echo "restored $stanza into $data: start PostgreSQL on it to replay the WAL up to $target and promote"
