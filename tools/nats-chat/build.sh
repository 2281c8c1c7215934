# shellcheck shell=bash
# nats-chat part: building. A CMake preset, and the web client (npm).

build_preset() {
  local preset=$1
  log "build: $preset"
  cmake --preset "$preset" >/dev/null
  # -k 0: keep building independent targets past a failure, so one broken target does not
  # stop the tools the stack needs from being built.
  cmake --build --preset "$preset" -j "$(jobs_count)" -- -k 0
}

# ---- web client: built with npm (web/); start_web (components.sh) serves it ------------------
# `npm ci` in a node project when its lock is newer than what node_modules was installed from.
# No browser download (there is no such network here): Playwright drives Debian's chromium.
npm_ci_if_needed() {
  local dir=$1 stamp="$1/node_modules/.package-lock.json"
  [[ -f $stamp && ! $dir/package-lock.json -nt $stamp ]] && return 0
  log "$(basename "$dir"): npm ci"
  (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

# `npm run SCRIPT` in web/ as an offline check (lint, format:check); `npm ci` first when the
# lock changed, as for the unit tests, so a clean clone works.
web_check() {
  npm_ci_if_needed "$WEB_DIR" && (cd "$WEB_DIR" && FORCE_COLOR=0 npm run --silent "$1")
}

# Builds web/dist when a source is newer than the last build; `npm ci` when the lock changed.
build_web() {
  [[ -f $WEB_DIR/package.json ]] || { warn "web/ has no package.json: web client not built"; return 1; }
  command -v npm >/dev/null || { warn "npm missing (package nodejs): web client not built"; return 1; }
  npm_ci_if_needed "$WEB_DIR" || return 1
  if [[ -f $WEB_DIR/dist/index.html && -f $WEB_DIR/dist/apps/poll/poll-app.js ]] &&
    [[ -z $(find "$WEB_DIR/src" "$WEB_DIR/index.html" "$WEB_DIR/package-lock.json" \
      "$WEB_DIR/vite.config.ts" "$WEB_DIR/vite.apps.config.ts" "$WEB_DIR/public" -newer "$WEB_DIR/dist/index.html" 2>/dev/null | head -n1) ]]; then
    log "web: dist is up to date"
    return 0
  fi
  log "web: npm run build"
  (cd "$WEB_DIR" && npm run build --silent) || return 1
}
