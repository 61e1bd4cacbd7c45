#!/usr/bin/env bash
# The benchmark command: starts a private PostgreSQL and Redis on free loopback ports, builds the
# release binaries (and the web app if dist/ has none), runs target/release/bench, which prints
# one table, and stops everything. Arguments are passed to the bench binary
# (e.g. --only pickup,streams; --help lists them). Run it on a quiet machine: the figures are
# timings and memory of processes sharing its cores.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_apt postgresql redis-server bubblewrap openssh-client
ensure_commands python3:python3 curl:curl

if ! ls "$ROOT"/dist/*.wasm >/dev/null 2>&1; then
  ensure_commands npm:npm
  ensure_frontend_tools
  build_spa
fi

say "building the release binaries: server, worker, bench"
cargo build --release --quiet -p server -p worker -p bench
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"

WORK="$(mktemp -d /tmp/infrahaus-bench.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  local status=$?
  if [ "$status" != 0 ] && [ -d "$WORK/bench" ]; then
    mkdir -p "$ROOT/test-output/bench-logs"
    cp "$WORK"/bench/*.log "$ROOT/test-output/bench-logs/" 2>/dev/null || true
    say "the processes' logs are in test-output/bench-logs/"
  fi
  stop_redis "$WORK/redis"
  stop_postgres "$WORK/postgres"
  rm -rf "$WORK"
}
trap cleanup EXIT

PG_PORT="$(free_port)"
say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
# Durable settings, as a real installation runs (fsync on).
start_postgres "$WORK/postgres" "$PG_PORT"
create_database "$PG_PORT" infrahaus_bench
REDIS_PORT="$(free_port)"
say "starting Redis on 127.0.0.1:$REDIS_PORT"
start_redis "$WORK/redis" "$REDIS_PORT"

# 10,000 open progress streams need as many sockets in the server and in the bench process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

say "measuring (a few minutes)"
DATABASE_URL="postgres://infrahaus:infrahaus@127.0.0.1:$PG_PORT/infrahaus_bench" \
REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
BENCH_WORK_DIR="$WORK/bench" \
  "$BIN/bench" --bin-dir "$BIN" --site-root "$ROOT/dist" "$@"
