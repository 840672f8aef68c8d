#!/bin/sh
# The container's entry point. Node ends up as the process the container runtime signals (exec),
# so SIGTERM starts the gateway's graceful shutdown rather than killing a shell.
set -eu
cd /app
case "${1:-migrate-and-serve}" in
  migrate) exec node scripts/migrate.mjs ;;
  serve) exec node dist/src/index.js ;;
  migrate-and-serve)
    # This shell is PID 1 while the migrations run, and PID 1 ignores a signal it has no handler
    # for: pass SIGTERM on to them, so a stop during a migration is not a SIGKILL after the grace.
    node scripts/migrate.mjs &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM INT
    wait "$child"
    trap - TERM INT
    exec node dist/src/index.js
    ;;
  *) exec "$@" ;;
esac
