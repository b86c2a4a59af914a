#!/usr/bin/env bash
# Installs the load tools the benchmark suite (scripts/bench.sh) drives into the project cache, pinned, with
# `go install` from the Go module proxy: ghz (gRPC load) and k6 (HTTP load). Idempotent: a tool already built at its
# pinned version is kept. Usage: scripts/tools.sh [ghz|k6 ...] (default: both). Binaries land in
# ${O2O_CACHE_DIR:-$HOME/.cache/o2o}/bin as ghz-<version> and k6-<version>, with ghz and k6 links to them.
# Exit status: 0 when every requested tool is installed, 1 otherwise (the bench then measures that part with its
# Node load generator and says so in its report).
set -uo pipefail

CACHE="${O2O_CACHE_DIR:-$HOME/.cache/o2o}"
BIN="$CACHE/bin"
GHZ_VERSION="v0.121.0"
# k6 v1.8.1 builds with the Go 1.26 toolchain installed here; run it with --no-usage-report.
K6_VERSION="v1.8.1"

say() { printf '[tools] %s\n' "$*" >&2; }

install_tool() { # name module version
  local name="$1" module="$2" version="$3" target="$BIN/$1-$3" work
  if [[ -x "$target" ]]; then
    say "$name $version already installed: $target"
    ln -sfn "$name-$version" "$BIN/$name"
    return 0
  fi
  if ! command -v go >/dev/null 2>&1; then
    say "$name: 'go' is not installed, cannot build $module@$version"
    return 1
  fi
  work="$(mktemp -d)"
  say "$name: go install $module@$version (first build takes minutes)"
  if ! GOBIN="$work" CGO_ENABLED=0 go install "$module@$version" >&2; then
    say "$name: go install $module@$version failed"
    rm -rf "$work"
    return 1
  fi
  mkdir -p "$BIN"
  mv "$work/$name" "$target"
  rm -rf "$work"
  ln -sfn "$name-$version" "$BIN/$name"
  say "$name $version installed: $target"
}

tools=("$@")
[[ ${#tools[@]} -eq 0 ]] && tools=(ghz k6)
status=0
for tool in "${tools[@]}"; do
  case "$tool" in
    ghz) install_tool ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION" || status=1 ;;
    k6) install_tool k6 go.k6.io/k6 "$K6_VERSION" || status=1 ;;
    *)
      say "unknown tool '$tool' (ghz, k6)"
      status=1
      ;;
  esac
done
exit "$status"
