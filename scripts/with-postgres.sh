#!/usr/bin/env bash
# Runs CMD with a throw-away PostgreSQL server: initdb into a temporary directory, start it on
# 127.0.0.1 (a free port in 18300-18399, unix socket in the temporary directory, password
# authentication), create a database, export TRELLIS_PG_URL, run CMD, then stop the server and
# remove the directory, whatever CMD's outcome. Exits with CMD's exit code.
#
# As root (CI), the server runs as the `postgres` OS user (initdb refuses root) in a directory
# that user owns. Usage: scripts/with-postgres.sh CMD [ARGS...]
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 CMD [ARGS...]" >&2; exit 2; }

PG_BIN="${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}"
[ -x "$PG_BIN/initdb" ] || { echo "with-postgres: no PostgreSQL server binaries (apt-get install postgresql)" >&2; exit 1; }

TMP="$(mktemp -d /tmp/trellis-pg.XXXXXX)"
chmod 700 "$TMP"
AS=()
if [ "$(id -u)" -eq 0 ]; then
  chown postgres: "$TMP"
  AS=(runuser -u postgres --)
fi

PASSWORD="$(head -c 18 /dev/urandom | base64 | tr -d '/+=')"
printf '%s\n' "$PASSWORD" > "$TMP/pwfile"
[ ${#AS[@]} -eq 0 ] || chown postgres: "$TMP/pwfile"

cleanup() {
  "${AS[@]}" "$PG_BIN/pg_ctl" -D "$TMP/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

"${AS[@]}" "$PG_BIN/initdb" -D "$TMP/data" -U trellis --pwfile="$TMP/pwfile" --auth=scram-sha-256 \
  -E UTF8 --locale=C --no-sync >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; exit 1; }
rm -f "$TMP/pwfile"

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
started=""
for port in $(shuf -i 18300-18399); do
  port_free "$port" || continue
  if "${AS[@]}" "$PG_BIN/pg_ctl" -D "$TMP/data" -l "$TMP/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $TMP -c max_connections=300 -c synchronous_commit=on -c fsync=on" \
      >/dev/null 2>&1; then
    started="$port"
    break
  fi
done
[ -n "$started" ] || { echo "with-postgres: the server did not start" >&2; cat "$TMP/server.log" >&2 || true; exit 1; }

export PGPASSWORD="$PASSWORD"
"$PG_BIN/psql" -q -h 127.0.0.1 -p "$started" -U trellis -d postgres -c "CREATE DATABASE trellis" >/dev/null
unset PGPASSWORD
export TRELLIS_PG_URL="postgresql://trellis:${PASSWORD}@127.0.0.1:${started}/trellis"
export TRELLIS_PG_BIN="$PG_BIN"

set +e
"$@"
rc=$?
set -e
exit $rc
