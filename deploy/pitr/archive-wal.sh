#!/bin/sh
# PostgreSQL archive_command for point-in-time recovery without an extra tool:
#   archive_command = '/opt/elysium/deploy/pitr/archive-wal.sh %p %f /var/backups/elysium/wal'
# Copies one finished WAL segment into the archive, atomically and never over an existing one
# (PostgreSQL retries a segment whose command failed). In production prefer pgBackRest
# (`archive_command = 'pgbackrest --stanza=elysium archive-push %p'`, docs/operations.md): it
# compresses, checksums, encrypts and ships the archive off the machine.
set -eu
path="$1"; name="$2"; archive="$3"
if [ -f "$archive/$name" ]; then
  # Already archived: fine when identical (a retry), an error otherwise.
  cmp -s "$path" "$archive/$name" && exit 0
  echo "archive-wal: $archive/$name exists and differs" >&2
  exit 1
fi
cp "$path" "$archive/$name.tmp"
sync "$archive/$name.tmp" 2>/dev/null || true
mv "$archive/$name.tmp" "$archive/$name"
