# Shared by scripts/run.sh and scripts/test.sh: installs what is missing, starts services.
# Every function skips work that is already done, so a second run is fast.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS="$ROOT/.tools"
export PATH="$TOOLS/node_modules/.bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# Where cargo builds; the web app gets a folder of its own in it (see build_spa).
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
# split_spa and compress_spa, the steps after `trunk build`.
source "$ROOT/scripts/lib/spa_post.sh"

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
BINARYEN_VERSION=132.0.0
# Splits the browser app per page (scripts/lib/spa_post.sh).
WASM_SPLIT_VERSION=0.2.4

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    die "need root to run: $*"; fi
}

# ensure_apt PACKAGE... : installs the Debian packages that are not installed yet.
ensure_apt() {
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_commands CMD:PACKAGE... : installs PACKAGE only when CMD is not on PATH (for tools such
# as node/npm that a machine may have from elsewhere than Debian).
ensure_commands() {
  local pkgs=()
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null 2>&1 || pkgs+=("${pair#*:}"); done
  [ ${#pkgs[@]} -eq 0 ] || ensure_apt "${pkgs[@]}"
}

# cheap_install ARGS... : `cargo install` with a build profile for tools whose own speed does not
# matter: no LTO, many codegen units, little optimisation. Trunk's own release profile (fat LTO,
# one codegen unit) took 27 minutes on 2 cores; this one takes a few.
cheap_install() {
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 \
    CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_DEBUG=false \
    CARGO_PROFILE_RELEASE_INCREMENTAL=false CARGO_PROFILE_RELEASE_STRIP=true \
    cargo install --quiet "$@"
}

# ensure_frontend_tools: the wasm32 target, trunk, wasm-bindgen-cli, wasm-split-cli, brotli and
# wasm-opt (binaryen from npm: Debian's binaryen is too old for this wasm-bindgen).
ensure_frontend_tools() {
  rustup target list --installed | grep -qx wasm32-unknown-unknown || {
    say "adding the wasm32 target"; rustup target add wasm32-unknown-unknown; }
  trunk --version 2>/dev/null | grep -q "$TRUNK_VERSION" || {
    say "installing trunk $TRUNK_VERSION (several minutes, once)"
    cheap_install trunk --version "$TRUNK_VERSION" --locked; }
  wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION" || {
    say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
    cheap_install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"; }
  wasm-split-cli --help >/dev/null 2>&1 || {
    say "installing wasm-split-cli $WASM_SPLIT_VERSION (about 2 minutes, once)"
    cheap_install wasm_split_cli_support --version "$WASM_SPLIT_VERSION" --features build-binary --locked; }
  ensure_commands brotli:brotli openssl:openssl
  [ -x "$TOOLS/node_modules/.bin/wasm-opt" ] || {
    say "installing wasm-opt (binaryen $BINARYEN_VERSION) into .tools"
    mkdir -p "$TOOLS"
    (cd "$TOOLS" && npm install --silent --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >/dev/null); }
}

# build_spa: the browser app into dist/. It builds in a target folder of its own, so it can run
# beside a `cargo build` of the binaries without waiting for that build's lock (the two share
# no compiled crate anyway: other target, other profile).
# Skipped when dist/ is newer than everything the browser build reads (wasm-opt alone takes
# half a minute, even when nothing changed).
build_spa() {
  if [ -f "$ROOT/dist/index.html" ] && [ -z "$(cd "$ROOT" && find app frontend domain style \
      Cargo.toml Cargo.lock Trunk.toml .cargo scripts/lib/spa_post.sh -newer dist/index.html -type f -print -quit)" ]; then
    say "the web app in dist/ is up to date"; return 0
  fi
  say "building the web app (trunk, then split per page and compressed)"
  # The page modules the current index.html loads stay for one more build: a tab opened before
  # a redeploy still loads its pages from them (Trunk empties dist/).
  local previous="$TARGET/web/previous-app" current
  rm -rf "$previous" && mkdir -p "$previous"
  current="$(grep -o 'app-[0-9a-f]*' "$ROOT/dist/index.html" 2>/dev/null | head -1 || true)"
  [ -n "$current" ] && [ -d "$ROOT/dist/$current" ] && mv "$ROOT/dist/$current" "$previous/"
  # Trunk builds from a copy of the page with its own wasm-opt pass off (`data-wasm-opt="0"`):
  # split_spa optimises every split module from the linker's output, so that pass on the whole
  # module (about 20 s) was thrown away. A plain `trunk build` still runs it.
  local page="$ROOT/frontend/.index-for-split.html"
  sed 's/data-wasm-opt="[^"]*"/data-wasm-opt="0"/' "$ROOT/frontend/index.html" >"$page"
  grep -q 'data-wasm-opt="0"' "$page" || die "frontend/index.html has no data-wasm-opt to turn off"
  if ! (cd "$ROOT" && RUSTFLAGS="$SPLIT_RUSTFLAGS" CARGO_TARGET_DIR="$TARGET/web" trunk build --quiet "$page"); then
    rm -f "$page"; die "trunk build failed"
  fi
  rm -f "$page"
  split_spa "$ROOT/dist" "$TARGET/web/wasm32-unknown-unknown/wasm-release/frontend.wasm"
  if [ -n "$current" ] && [ -d "$previous/$current" ] && [ ! -e "$ROOT/dist/$current" ]; then
    mv "$previous/$current" "$ROOT/dist/"
  fi
  compress_spa "$ROOT/dist"
}

# in_background NAME LOG COMMAND... : runs COMMAND with its output in LOG; records it for
# wait_builds.
BUILD_NAMES=() BUILD_PIDS=() BUILD_LOGS=() BUILD_STARTS=()
in_background() {
  local name="$1" log="$2"; shift 2
  "$@" >"$log" 2>&1 &
  BUILD_NAMES+=("$name") BUILD_PIDS+=($!) BUILD_LOGS+=("$log") BUILD_STARTS+=("$SECONDS")
}

# wait_builds : waits for every in_background job, saying every 30 s what is still running and
# when each one ends; dies with the end of the log of one that failed.
wait_builds() {
  local i running last_report=$SECONDS
  while :; do
    running=()
    for i in "${!BUILD_PIDS[@]}"; do
      [ -n "${BUILD_PIDS[$i]}" ] || continue
      if kill -0 "${BUILD_PIDS[$i]}" 2>/dev/null; then
        running+=("${BUILD_NAMES[$i]} ($(( (SECONDS - BUILD_STARTS[i]) / 60 ))m$(( (SECONDS - BUILD_STARTS[i]) % 60 ))s)")
        continue
      fi
      if ! wait "${BUILD_PIDS[$i]}"; then
        tail -n 30 "${BUILD_LOGS[$i]}" >&2
        die "${BUILD_NAMES[$i]} failed; the whole log is in ${BUILD_LOGS[$i]}"
      fi
      say "done: ${BUILD_NAMES[$i]} in $(( SECONDS - BUILD_STARTS[i] )) s"
      BUILD_PIDS[$i]=""
    done
    [ ${#running[@]} -eq 0 ] && break
    if (( SECONDS - last_report >= 30 )); then
      local list; list="$(printf '%s; ' "${running[@]}")"
      printf '    still building: %s\n' "${list%; }" >&2
      last_report=$SECONDS
    fi
    sleep 1
  done
  BUILD_NAMES=() BUILD_PIDS=() BUILD_LOGS=() BUILD_STARTS=()
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pg_bin() { echo "/usr/lib/postgresql/$(ls /usr/lib/postgresql | sort -V | tail -n1)/bin"; }

# Runs a PostgreSQL tool as the owner of the data directory (postgres when we are root).
pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# start_postgres DIR PORT [throwaway] : a private cluster in DIR on 127.0.0.1:PORT (created on first use),
# with a superuser "infrahaus" (password "infrahaus", loopback only).
start_postgres() {
  local dir="$1" port="$2" throwaway="${3:-}" bin; bin="$(pg_bin)"
  local durability="-c fsync=on"
  [ -n "$throwaway" ] && durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if [ ! -f "$dir/PG_VERSION" ]; then
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$dir"
    chmod 700 "$dir"
    local pwfile; pwfile="$(mktemp)"; echo infrahaus > "$pwfile"; chmod 644 "$pwfile"
    pg_as_owner "$bin/initdb" -D "$dir" -U infrahaus --pwfile="$pwfile" -A scram-sha-256 \
      --no-sync -E UTF8 >/dev/null || die "initdb failed"
    rm -f "$pwfile"
  fi
  if pg_as_owner "$bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then return 0; fi
  pg_as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir $durability -c max_connections=200" \
    start >/dev/null || die "PostgreSQL did not start; see $dir/server.log"
}

stop_postgres() {
  local dir="$1"
  if [ -f "$dir/postmaster.pid" ]; then
    pg_as_owner "$(pg_bin)/pg_ctl" -D "$dir" -m fast -w stop >/dev/null 2>&1 || true
  fi
}

# create_database PORT NAME : creates NAME unless it exists.
create_database() {
  local port="$1" name="$2"
  PGPASSWORD=infrahaus psql -h 127.0.0.1 -p "$port" -U infrahaus -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1 ||
    PGPASSWORD=infrahaus psql -q -h 127.0.0.1 -p "$port" -U infrahaus -d postgres -c "CREATE DATABASE \"$name\""
}

# start_redis DIR PORT [persist] : Redis on 127.0.0.1:PORT with its files in DIR.
start_redis() {
  local dir="$1" port="$2" persist="${3:-}"
  mkdir -p "$dir"
  redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
  local save=(--save '' --appendonly no)
  [ -n "$persist" ] && save=(--appendonly yes)
  redis-server --bind 127.0.0.1 --port "$port" --daemonize yes --dir "$dir" \
    --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" "${save[@]}" >/dev/null || die "Redis did not start"
  for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
  die "Redis did not answer; see $dir/redis.log"
}

stop_redis() {
  local dir="$1"
  if [ -f "$dir/redis.pid" ]; then kill "$(cat "$dir/redis.pid")" 2>/dev/null || true; fi
}
