#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster (Debian's packages):
#   tools/with_postgres.sh .venv/bin/pytest
# The cluster lives in a temp dir on a free loopback port and is removed afterwards;
# the command sees TEST_DATABASE_URL. fsync is off for test speed; PG_FSYNC=on keeps it
# (the benchmark suite measures a durable database).
set -euo pipefail
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PGBIN" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  else
    echo "PostgreSQL is missing: sudo apt-get install postgresql" >&2; exit 1
  fi
fi
DATA=$(mktemp -d /tmp/moderation-pg.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
RUN_AS=()
if [ "$(id -u)" = 0 ]; then chown postgres "$DATA"; RUN_AS=(runuser -u postgres --); fi
cleanup() { "${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$DATA"; }
trap cleanup EXIT
"${RUN_AS[@]}" "$PGBIN/initdb" -D "$DATA" -A trust -U postgres >/dev/null
"${RUN_AS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -w -l "$DATA/log" \
  -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off}" start >/dev/null
"$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres moderation_test
TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/moderation_test" "$@"
