#!/usr/bin/env bash
# Runs infrahaus on this machine: installs what is missing, starts PostgreSQL and Redis on
# loopback (unless DATABASE_URL / REDIS_URL point elsewhere), builds the web app, starts the
# server and the worker, starts a simulated Proxmox node and registers it as "demo" (skip with
# INFRAHAUS_DEMO=0), creates a first user if there is none, and prints how to log in.
# Ctrl-C stops everything it started. State lives in .run/ and is reused by the next run.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$ROOT"
RUN="$ROOT/.run"
mkdir -p "$RUN"

ensure_apt postgresql redis-server bubblewrap openssh-client
ensure_commands python3:python3 npm:npm curl:curl

# The binaries build while the web tools install and the web app builds: on 2 cores one build
# alone leaves a core idle much of the time (linking, crates waiting on others).
DEMO="${INFRAHAUS_DEMO:-1}"
packages=(-p server -p worker)
if [ "$DEMO" = 1 ]; then packages+=(-p pvesim); fi
if [ -x "$TARGET/release/server" ] && [ -d "$TARGET/web" ]; then
  say "building (a rebuild: seconds to a minute)"
else
  say "building for the first time: about 16 minutes on an idle 2-core machine, longer while other builds run (about 37 CPU-minutes: tools, web app and binaries side by side)"
fi
trap 'for p in "${BUILD_PIDS[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done' EXIT INT TERM
say "building server, worker and simulator in the background (cargo build --release; log in .run/build-binaries.log)"
in_background "server, worker and simulator (cargo build --release)" "$RUN/build-binaries.log" \
  cargo build --release "${packages[@]}"
ensure_frontend_tools
in_background "web app (trunk build)" "$RUN/build-web.log" build_spa
wait_builds
BIN="$TARGET/release"

pids=()
own_pg="" own_redis=""
cleanup() {
  trap - EXIT INT TERM
  set +e
  say "stopping"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$own_redis" ]; then stop_redis "$RUN/redis"; fi
  if [ -n "$own_pg" ]; then stop_postgres "$PG_DIR"; fi
  exit 0
}
trap cleanup EXIT INT TERM

# PostgreSQL refuses to run as root, so its files must be reachable by the postgres user; a
# checkout inside a private home directory is not, and then the cluster lives under its home.
PG_DIR="$RUN/postgres"
if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$RUN" 2>/dev/null; then
  PG_DIR="/var/lib/postgresql/infrahaus-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
fi
if [ -z "${DATABASE_URL:-}" ]; then
  say "starting PostgreSQL on 127.0.0.1:54329 (data in $PG_DIR)"
  start_postgres "$PG_DIR" 54329; own_pg=1
  create_database 54329 infrahaus
  export DATABASE_URL=postgres://infrahaus:infrahaus@127.0.0.1:54329/infrahaus
fi
if [ -z "${REDIS_URL:-}" ]; then
  say "starting Redis on 127.0.0.1:63790 (data in .run/redis)"
  start_redis "$RUN/redis" 63790 persist; own_redis=1
  export REDIS_URL=redis://127.0.0.1:63790
fi
export INFRAHAUS_SECRET_KEY_FILE="${INFRAHAUS_SECRET_KEY_FILE:-$RUN/secret.key}"
export INFRAHAUS_LISTEN="${INFRAHAUS_LISTEN:-127.0.0.1:8080}"
export INFRAHAUS_SITE_ROOT="${INFRAHAUS_SITE_ROOT:-$ROOT/dist}"
export INFRAHAUS_TEMPLATES_DIR="${INFRAHAUS_TEMPLATES_DIR:-$ROOT/templates}"
export INFRAHAUS_WORKER_DEPLOY_KEY_FILE="${INFRAHAUS_WORKER_DEPLOY_KEY_FILE:-$RUN/deploy-key}"
export INFRAHAUS_WORKER_METRICS_LISTEN="${INFRAHAUS_WORKER_METRICS_LISTEN:-127.0.0.1:9465}"
DEMO_API_PORT="${INFRAHAUS_DEMO_API_PORT:-8006}"
DEMO_SSH_PORT="${INFRAHAUS_DEMO_NODE_SSH_PORT:-8022}"
# Simulated containers run their sshd on this port (a real container's is 22).
DEMO_CT_SSH_PORT="${INFRAHAUS_DEMO_CONTAINER_SSH_PORT:-2222}"
if [ "$DEMO" = 1 ]; then export INFRAHAUS_CONTAINER_SSH_PORT="${INFRAHAUS_CONTAINER_SSH_PORT:-$DEMO_CT_SSH_PORT}"; fi

"$BIN/server" migrate
"$BIN/server" templates discover ||
  say "some template folders have problems (listed above); the others were loaded"
if [ "$DEMO" = 1 ]; then
  # The worker's deploy key: the demo node lets it in over SSH for the pct fallback. The worker
  # would create the key itself; creating it here lets the simulator trust it from the start.
  if [ ! -f "$INFRAHAUS_WORKER_DEPLOY_KEY_FILE" ]; then
    (umask 077; ssh-keygen -q -t ed25519 -N '' -C infrahaus-worker -f "$INFRAHAUS_WORKER_DEPLOY_KEY_FILE")
  fi
  ssh-keygen -y -f "$INFRAHAUS_WORKER_DEPLOY_KEY_FILE" > "$RUN/deploy-key.pub"
  if [ ! -f "$RUN/demo-token-secret" ]; then
    (umask 077; python3 -c 'import uuid; print(uuid.uuid4())' > "$RUN/demo-token-secret")
  fi
  say "starting the demo Proxmox node (simulator) on https://127.0.0.1:$DEMO_API_PORT"
  # Created before the simulator starts: the loop below may read it before the background
  # job has opened it.
  : > "$RUN/pvesim.out"
  "$BIN/pvesim" --state-dir "$RUN/pvesim" --listen "127.0.0.1:$DEMO_API_PORT" \
    --token "root@pam!infrahaus=$(cat "$RUN/demo-token-secret")" \
    --ssh-port "$DEMO_CT_SSH_PORT" --node-ssh "127.0.0.1:$DEMO_SSH_PORT" --node-ssh-key "$RUN/deploy-key.pub" \
    > "$RUN/pvesim.out" 2> "$RUN/pvesim.log" & pids+=($!)
  fingerprint=""
  for _ in $(seq 100); do
    fingerprint="$(sed -n 's/^fingerprint: //p' "$RUN/pvesim.out")"
    [ -n "$fingerprint" ] && break
    kill -0 "${pids[-1]}" 2>/dev/null || die "the simulator stopped; see $RUN/pvesim.log"
    sleep 0.1
  done
  [ -n "$fingerprint" ] || die "the simulator did not start; see $RUN/pvesim.log"
  "$BIN/server" node add --name demo --host 127.0.0.1 --port "$DEMO_API_PORT" \
    --ssh-port "$DEMO_SSH_PORT" --token-id 'root@pam!infrahaus' --fingerprint "$fingerprint" \
    < "$RUN/demo-token-secret" >/dev/null
fi
if [ ! -f "$RUN/admin-password" ]; then
  password="$(python3 -c 'import secrets; print(secrets.token_urlsafe(15))')"
  if echo "$password" | "$BIN/server" user create-first --username admin | grep -q "^created"; then
    (umask 077; echo "$password" > "$RUN/admin-password")
  fi
fi

"$BIN/server" serve & pids+=($!)
"$BIN/worker" & pids+=($!)

for _ in $(seq 100); do
  curl -fsS "http://$INFRAHAUS_LISTEN/ready" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || die "the server stopped; see the messages above"
  sleep 0.2
done

echo
say "infrahaus is running: http://$INFRAHAUS_LISTEN"
if [ -f "$RUN/admin-password" ]; then
  echo "    log in as: admin"
  echo "    password:  $(cat "$RUN/admin-password")   (kept in .run/admin-password)"
else
  echo "    log in with your existing account (reset a password: target/release/server user reset-password --username NAME)"
fi
if [ "$DEMO" = 1 ]; then
  echo "    demo node: \"demo\", a simulated Proxmox VE at https://127.0.0.1:$DEMO_API_PORT (certificate pinned)"
  echo "    next:      open Create container (http://$INFRAHAUS_LISTEN/containers/new) and pick a template"
fi
echo "    metrics:   http://$INFRAHAUS_LISTEN/metrics and http://$INFRAHAUS_WORKER_METRICS_LISTEN/metrics (Prometheus; /ready on both)"
echo "    Ctrl-C stops it."
wait -n "${pids[@]}" || true
say "a process stopped"
