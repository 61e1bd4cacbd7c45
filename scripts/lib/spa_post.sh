# Steps after `trunk build` (sourced by common.sh; build_spa runs them).
#
# split_spa DIST WASM : splits the app per page. WASM is the module cargo linked for Trunk with
# `--cfg infrahaus_split` and the linker's relocations (see SPLIT_RUSTFLAGS); Trunk 0.21 cannot
# split, so its own wasm-bindgen/wasm-opt output in DIST is replaced: `wasm-split-cli` cuts the
# module at each `#[lazy]` split point (app/src/routes.rs), wasm-bindgen binds the main module,
# wasm-opt shrinks every module, and all of it goes to DIST/app-HASH/ (HASH of WASM, so the
# folder's files can be cached for good). index.html then loads DIST/app-HASH/frontend.js.
#
# compress_spa DIST : writes FILE.br (brotli -q 11) and FILE.gz (gzip -9) next to each script,
# module and stylesheet, which the server sends to browsers that accept them.

# What build_spa adds to cargo's flags for the split build. RUSTFLAGS replaces the flags in
# .cargo/config.toml, so they are repeated here.
SPLIT_RUSTFLAGS="--cfg erase_components --cfg infrahaus_split -C link-arg=--emit-relocs"

split_spa() {
  local dist="$1" wasm="$2" work hash app
  [ -f "$wasm" ] || die "no $wasm to split"
  hash="$(sha256sum "$wasm" | cut -c1-16)"
  app="$dist/app-$hash"
  work="$(mktemp -d)"
  wasm-split-cli --target web --out-name frontend "$wasm" "$work/split" >/dev/null \
    || { rm -rf "$work"; die "wasm-split-cli failed"; }
  wasm-bindgen --target web --keep-lld-exports --no-demangle --out-name frontend \
    --out-dir "$work/bindgen" "$work/split/frontend.wasm" \
    || { rm -rf "$work"; die "wasm-bindgen failed on the split module"; }
  rm -rf "$dist"/app-*
  mkdir -p "$app"
  # wasm-opt warns about the split modules' name sections (which it drops): quiet unless it fails.
  mv "$work/bindgen/frontend_bg.wasm" "$work/split/frontend.wasm"
  (cd "$work/split" && ls -S -- *.wasm | xargs -P 2 -I{} wasm-opt -Oz {} -o "$app/{}") \
    2>"$work/wasm-opt.log" || { cat "$work/wasm-opt.log" >&2; rm -rf "$work"; die "wasm-opt failed"; }
  mv "$app/frontend.wasm" "$app/frontend_bg.wasm"
  cp "$work/bindgen/frontend.js" "$work/split/__wasm_split.js" "$app/"
  rm -rf "$work"
  # index.html: Trunk's module and script give way to the split ones, with their integrity.
  local old_js old_wasm
  old_js="$(cd "$dist" && ls frontend-*.js | head -1)"
  old_wasm="$(cd "$dist" && ls frontend-*_bg.wasm | head -1)"
  [ -n "$old_js" ] && [ -n "$old_wasm" ] || die "trunk wrote no frontend-*.js/_bg.wasm in $dist"
  sed -i \
    -e "s|/$old_js\"|/app-$hash/frontend.js\"|g; s|/$old_js'|/app-$hash/frontend.js'|g" \
    -e "s|/$old_wasm\"|/app-$hash/frontend_bg.wasm\"|g; s|/$old_wasm'|/app-$hash/frontend_bg.wasm'|g" \
    -e "s|integrity=\"$(sri "$dist/$old_js")\"|integrity=\"$(sri "$app/frontend.js")\"|" \
    -e "s|integrity=\"$(sri "$dist/$old_wasm")\"|integrity=\"$(sri "$app/frontend_bg.wasm")\"|" \
    "$dist/index.html"
  rm -f "$dist/$old_js" "$dist/$old_wasm"
  grep -q "/app-$hash/frontend.js" "$dist/index.html" || die "index.html does not load the split app"
}

# sri FILE : the file's subresource-integrity value as Trunk writes it.
sri() { printf 'sha384-%s' "$(openssl dgst -sha384 -binary "$1" | base64 -w0)"; }

compress_spa() {
  local dist="$1" file
  find "$dist" \( -name '*.br' -o -name '*.gz' \) -delete
  # Trunk's and wasm-split's file names have no spaces.
  for file in $(find "$dist" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \)); do
    brotli -q 11 -w 22 -f -o "$file.br" "$file" || die "brotli failed on $file"
    gzip -9 -n -k -f "$file" || die "gzip failed on $file"
  done
}
