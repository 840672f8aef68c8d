#!/usr/bin/env bash
# Starts a throw-away Redis on 127.0.0.1 for the tests that need one (Debian's redis-server
# package; installs it if missing). Prints the URL to export as TEST_REDIS_URL.
#   export TEST_REDIS_URL=$(bash scripts/start-test-redis.sh)
set -euo pipefail

PORT=${REDIS_PORT_TEST:-63790}
if ! command -v redis-server >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq redis-server >/dev/null
fi
if ! redis-cli -p "$PORT" ping >/dev/null 2>&1; then
  redis-server --port "$PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --logfile "/tmp/chat-gateway-redis-$PORT.log" >/dev/null
  for _ in $(seq 1 50); do redis-cli -p "$PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
echo "redis://127.0.0.1:$PORT"
