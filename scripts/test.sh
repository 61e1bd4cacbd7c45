#!/usr/bin/env bash
# Runs every test: the quality gates, then unit, integration and browser tests against real
# PostgreSQL, Redis, OpenSSH and headless Chromium, all started here on loopback ports and
# removed afterwards. Installs what is missing first; a second run reuses it.
# Arguments go to `cargo nextest run`, e.g. `scripts/test.sh -E 'package(e2e)'` for one suite.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"

ensure_apt postgresql redis-server chromium chromium-driver bubblewrap openssh-server openssh-client
ensure_commands python3:python3 npm:npm curl:curl
ensure_frontend_tools

say "quality gates: rustfmt"
cargo fmt --all --check
say "quality gates: clippy (server build: ssr)"
cargo clippy --workspace --exclude frontend --all-targets --quiet -- -D warnings
say "quality gates: clippy (browser build: csr, wasm32)"
cargo clippy -p app -p frontend --features app/csr --target wasm32-unknown-unknown --all-targets --quiet -- -D warnings
say "quality gates: the app builds for wasm32"
cargo check -p app --features csr --target wasm32-unknown-unknown --quiet
say "quality gates: the browser build links no database, Redis, tokio or metrics code"
forbidden="$(cargo tree -p frontend --target wasm32-unknown-unknown -e normal --prefix none \
  | awk '{print $1}' | grep -xE 'diesel|diesel-async|diesel_migrations|fred|tokio|russh|reqwest|backend|metrics|metrics-exporter-prometheus' | sort -u || true)"
[ -z "$forbidden" ] || die "the browser build depends on: $forbidden"

build_spa

WORK="$(mktemp -d /tmp/infrahaus-test.XXXXXX)"
chmod 755 "$WORK"
cleanup() {
  [ -n "${DRIVER_PID:-}" ] && kill "$DRIVER_PID" 2>/dev/null || true
  stop_redis "$WORK/redis"
  stop_postgres "$WORK/postgres"
  rm -rf "$WORK"
}
trap cleanup EXIT

PG_PORT="$(free_port)"
say "starting PostgreSQL on 127.0.0.1:$PG_PORT"
start_postgres "$WORK/postgres" "$PG_PORT" throwaway
REDIS_PORT="$(free_port)"
say "starting Redis on 127.0.0.1:$REDIS_PORT"
start_redis "$WORK/redis" "$REDIS_PORT"
DRIVER_PORT="$(free_port)"
say "starting ChromeDriver on 127.0.0.1:$DRIVER_PORT"
chromedriver --port="$DRIVER_PORT" --allowed-ips=127.0.0.1 >"$WORK/chromedriver.log" 2>&1 &
DRIVER_PID=$!

export TEST_DATABASE_ADMIN_URL="postgres://infrahaus:infrahaus@127.0.0.1:$PG_PORT/postgres"
export TEST_DATABASE_TEMPLATE=infrahaus_template
export TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
export TEST_WEBDRIVER_URL="http://127.0.0.1:$DRIVER_PORT"
export TEST_OUTPUT_DIR="$ROOT/test-output"
export TEST_SITE_ROOT="$ROOT/dist"
mkdir -p "$TEST_OUTPUT_DIR"

create_database "$PG_PORT" "$TEST_DATABASE_TEMPLATE"
say "migrating the template database"
DATABASE_URL="postgres://infrahaus:infrahaus@127.0.0.1:$PG_PORT/$TEST_DATABASE_TEMPLATE" \
  REDIS_URL="$TEST_REDIS_URL" cargo run --quiet -p server -- migrate

for _ in $(seq 50); do curl -fsS "$TEST_WEBDRIVER_URL/status" >/dev/null 2>&1 && break; sleep 0.1; done

say "running the tests"
cargo nextest run --workspace --exclude frontend --no-fail-fast --test-threads 4 "$@"
