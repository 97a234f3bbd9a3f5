#!/bin/sh
# A pgBackRest backup for point-in-time recovery, as the database's owner (elysium-pgbackrest.timer
# runs `auto` every 6 hours):
#   sudo -u postgres deploy/pitr/pgbackrest-backup.sh elysium [auto|full|diff|incr]
# auto (the default): full when the newest full backup is older than FULL_EVERY_DAYS (7) or
# there is none, else differential (the changes since that full). pgBackRest expires what the
# retention settings (repo1-retention-full/-diff) no longer keep. Configuration as for
# pgbackrest-setup.sh ($PGBACKREST_CONFIG, else /etc/pgbackrest/pgbackrest.conf).
set -eu
[ "$#" -ge 1 ] && [ "$#" -le 2 ] || { echo "usage: $0 STANZA [auto|full|diff|incr]" >&2; exit 2; }
stanza="$1"
kind="${2:-auto}"
. "$(dirname "$0")/pgbackrest-lib.sh"

if [ "$kind" = auto ]; then
  # The info JSON lists backups oldest first, each {... "timestamp":{"start":S,"stop":E},"type":T}.
  newest_full="$(pgbr --stanza="$stanza" --output=json info |
    grep -o '"timestamp":{"start":[0-9]*,"stop":[0-9]*},"type":"full"' |
    sed 's/.*"stop":\([0-9]*\).*/\1/' | tail -n 1)"
  age_limit=$((${FULL_EVERY_DAYS:-7} * 86400))
  if [ -z "$newest_full" ] || [ $(($(date +%s) - newest_full)) -ge "$age_limit" ]; then
    kind=full
  else
    kind=diff
  fi
fi
case "$kind" in full | diff | incr) ;; *) die "unknown backup type $kind (auto, full, diff or incr)" ;; esac

pgbr --stanza="$stanza" --type="$kind" --log-level-console=warn backup
echo "$kind backup of $stanza done:"
pgbr --stanza="$stanza" info | grep -E 'backup:|timestamp start/stop' | tail -n 2
