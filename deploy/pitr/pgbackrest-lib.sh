# Shared by the pgbackrest-*.sh scripts (sourced, never run on its own).
# The configuration is pgBackRest's own: $PGBACKREST_CONFIG when set (a drill, a test), else
# /etc/pgbackrest/pgbackrest.conf plus /etc/pgbackrest/conf.d/*.conf, as pgBackRest reads it.
me="$(basename "$0")"

die() {
  echo "$me: $*" >&2
  exit 1
}

if [ "$(id -u)" = 0 ]; then
  die "run as the database's owner (sudo -u postgres $0 ...), not root: the repository and the data directory must stay that user's"
fi
command -v pgbackrest >/dev/null 2>&1 || die "pgbackrest is not installed (Debian package pgbackrest)"

if [ -n "${PGBACKREST_CONFIG:-}" ]; then
  conf="$PGBACKREST_CONFIG"
  includes=""
else
  conf=/etc/pgbackrest/pgbackrest.conf
  includes="$(ls /etc/pgbackrest/conf.d/*.conf 2>/dev/null || true)"
fi
[ -r "$conf" ] || die "cannot read the pgBackRest configuration $conf (set PGBACKREST_CONFIG)"

# pgBackRest with this configuration; --config is passed only when it is not the default, so
# the default's conf.d (where the repository's cipher pass lives) is still read.
pgbr() {
  if [ -n "${PGBACKREST_CONFIG:-}" ]; then
    pgbackrest --config="$conf" "$@"
  else
    pgbackrest "$@"
  fi
}

# ini_get SECTION KEY: the value of KEY in [SECTION] of the configuration (last one wins).
ini_get() {
  # shellcheck disable=SC2086  # $includes is a list of paths without spaces
  awk -v s="$1" -v k="$2" '
    /^[ \t]*\[/ { t = $0; gsub(/[][ \t]/, "", t); in_s = (t == s); next }
    in_s && index($0, "=") {
      key = substr($0, 1, index($0, "=") - 1); val = substr($0, index($0, "=") + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", key); gsub(/^[ \t]+|[ \t]+$/, "", val)
      if (key == k) v = val
    }
    END { print v }' "$conf" $includes
}
