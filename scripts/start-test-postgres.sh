#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1 for the test suite (Debian's postgresql
# package; installs it if missing). Prints the URL to export as TEST_POSTGRES_URL.
#   export TEST_POSTGRES_URL=$(bash scripts/start-test-postgres.sh)
set -euo pipefail

PORT=${PGPORT_TEST:-54329}
DIR=${PGDATA_TEST:-/tmp/chat-gateway-pg-$PORT}

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >/dev/null
fi
BIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)")

as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_postgres "$BIN/pg_ctl" -D "$DIR" status >/dev/null 2>&1; then
  rm -rf "$DIR"
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DIR"
  as_postgres "$BIN/initdb" -D "$DIR" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  # Durability is not under test against this cluster; speed is welcome.
  as_postgres "$BIN/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w start \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
fi
echo "postgresql://postgres@127.0.0.1:$PORT/postgres"
