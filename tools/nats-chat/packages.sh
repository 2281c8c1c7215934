# shellcheck shell=bash
# nats-chat part: the Debian packages the build, the tests and the stack need, installed when
# missing (as root, or through sudo).

# Debian 12 packages the build, the tests and the stack need.
PACKAGES=(build-essential g++ cmake ninja-build ccache pkg-config libgtest-dev libgmock-dev
  libbenchmark-dev libnats-dev nats-server postgresql libpq-dev prometheus libcpp-httplib-dev
  nlohmann-json3-dev libgumbo-dev libcurl4-openssl-dev libssl-dev zlib1g-dev protobuf-compiler curl jq
  nginx chromium fonts-noto-color-emoji nodejs clang-14 libclang-rt-14-dev clang-format-14
  clang-tidy-14
  apertium apertium-eng-spa apertium-eng-cat)  # translation-service's default backend

as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root to run: $* (install the packages or run as root)"
  fi
}

ensure_packages() {
  local missing=() p
  for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    log "packages: all ${#PACKAGES[@]} present"
    return 0
  fi
  log "packages: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update </dev/null
  as_root apt-get install -y --no-install-recommends "${missing[@]}" </dev/null
}
