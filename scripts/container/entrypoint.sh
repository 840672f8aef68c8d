#!/bin/sh
# The container's entry point. Node ends up as the process the container runtime signals (exec),
# so SIGTERM starts the gateway's graceful shutdown rather than killing a shell.
set -eu
cd /app
case "${1:-migrate-and-serve}" in
  migrate) exec node scripts/migrate.mjs ;;
  serve) exec node dist/src/index.js ;;
  migrate-and-serve)
    node scripts/migrate.mjs
    exec node dist/src/index.js
    ;;
  *) exec "$@" ;;
esac
