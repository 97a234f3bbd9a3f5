#!/bin/sh
# pgBackRest for point-in-time recovery, once per database primary, as the database's owner:
#   sudo -u postgres PGDATA=/var/lib/postgresql/15/main deploy/pitr/pgbackrest-setup.sh elysium
# Reads the configuration ($PGBACKREST_CONFIG, else /etc/pgbackrest/pgbackrest.conf: start from
# deploy/pitr/pgbackrest.conf). When it has no [STANZA] section, writes one from PGDATA (and
# PGPORT, PGHOST, PGUSER when not the default port, socket folder and user). Then checks the
# repository, the data directory and PostgreSQL's archive settings, and runs stanza-create
# (harmless when the stanza exists) and check (a WAL segment archived and found in the
# repository). Safe to run again.
set -eu
[ "$#" -eq 1 ] || { echo "usage: $0 STANZA" >&2; exit 2; }
stanza="$1"
. "$(dirname "$0")/pgbackrest-lib.sh"

[ -n "${PGBACKREST_REPO1_PATH:-}$(ini_get global repo1-path)$(ini_get global repo1-type)" ] ||
  die "no repository in [global] of $conf (repo1-path, or repo1-type with its settings)"

pgdata="$(ini_get "$stanza" pg1-path)"
if [ -z "$pgdata" ]; then
  [ -n "${PGDATA:-}" ] || die "$conf has no [$stanza] section with pg1-path: set PGDATA to write one"
  [ -w "$conf" ] || die "$conf has no [$stanza] section and is not writable: add it (pg1-path=$PGDATA)"
  {
    printf '\n[%s]\npg1-path=%s\n' "$stanza" "$PGDATA"
    if [ -n "${PGPORT:-}" ]; then printf 'pg1-port=%s\n' "$PGPORT"; fi
    case "${PGHOST:-}" in /*) printf 'pg1-socket-path=%s\n' "$PGHOST" ;; esac
    if [ -n "${PGUSER:-}" ]; then printf 'pg1-user=%s\n' "$PGUSER"; fi
  } >>"$conf"
  echo "wrote [$stanza] (pg1-path=$PGDATA) into $conf"
  pgdata="$PGDATA"
elif [ -n "${PGDATA:-}" ] && [ "$PGDATA" != "$pgdata" ]; then
  die "[$stanza] in $conf has pg1-path=$pgdata, not PGDATA=$PGDATA"
fi
[ -f "$pgdata/PG_VERSION" ] || die "$pgdata (pg1-path of [$stanza]) is not a PostgreSQL data directory"

# PostgreSQL must hand every finished WAL segment to pgBackRest, for this stanza and config.
config_option=""
[ -z "${PGBACKREST_CONFIG:-}" ] || config_option="--config=$conf "
wanted="archive_command = 'pgbackrest ${config_option}--stanza=$stanza archive-push %p'"
port="$(ini_get "$stanza" pg1-port)"
socket="$(ini_get "$stanza" pg1-socket-path)"
user="$(ini_get "$stanza" pg1-user)"
if command -v psql >/dev/null 2>&1 &&
  settings="$(psql -X -A -t -h "${socket:-/var/run/postgresql}" -p "${port:-5432}" \
    -U "${user:-$(id -un)}" -d postgres -c 'SHOW archive_mode' -c 'SHOW archive_command' 2>/dev/null)"; then
  mode="$(echo "$settings" | sed -n 1p)"
  command="$(echo "$settings" | sed -n 2p)"
  case "$mode" in on | always) ;; *) die "archive_mode is $mode: set archive_mode = on and $wanted in postgresql.conf, then restart PostgreSQL" ;; esac
  case "$command" in
    *pgbackrest*"--stanza=$stanza "*archive-push*) ;;
    *) die "archive_command is '$command': set $wanted in postgresql.conf, then reload PostgreSQL" ;;
  esac
  case "$command" in
    *"$config_option"*) ;;
    *) die "archive_command does not name --config=$conf: set $wanted" ;;
  esac
fi

pgbr --stanza="$stanza" --log-level-console=warn stanza-create
pgbr --stanza="$stanza" --log-level-console=warn check ||
  die "check failed: is PostgreSQL running with archive_mode = on and $wanted?"
echo "stanza $stanza ready: WAL reaches the repository; take a full backup next (pgbackrest-backup.sh $stanza full)"
