#!/usr/bin/env bash
# The one generation command for the contract: lints proto/, generates TypeScript (ts-proto, local plugin) into
# services/contracts/src/gen and a descriptor set (for gRPC reflection and partners) into services/contracts/descriptors.
# --check regenerates into a temporary folder and fails when the committed output differs (stale generated code).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
BUF="$ROOT/node_modules/.bin/buf"
[[ -x "$BUF" ]] || { echo "[gen] run 'npm ci' first (node_modules/.bin/buf missing)" >&2; exit 1; }
OUT="$ROOT/services/contracts"
# One generation at a time: concurrent runs would replace each other's output folder.
mkdir -p "$ROOT/.o2o" && exec 9>"$ROOT/.o2o/gen.lock" && flock 9

generate() { # target folder
  local target="$1" tmp
  tmp="$(mktemp -d)"
  (cd proto && "$BUF" lint && "$BUF" generate --template buf.gen.yaml -o "$tmp" >/dev/null)
  # buf writes the plugin output relative to -o; buf.gen.yaml points at ../services/contracts/src/gen
  rm -rf "$target/src/gen" && mkdir -p "$target/src" "$target/descriptors"
  mv "$tmp/../services/contracts/src/gen" "$target/src/gen" 2>/dev/null || mv "$tmp/services/contracts/src/gen" "$target/src/gen"
  (cd proto && "$BUF" build -o "$target/descriptors/o2o.binpb")
  # grpc.health.v1 as its package ships it, so reflection can describe the health service too.
  "$BUF" build "$ROOT/node_modules/grpc-health-check/proto" -o "$target/descriptors/grpc-health.binpb"
  rm -rf "$tmp"
}

if [[ "${1:-}" == "--check" ]]; then
  work="$(mktemp -d)"
  generate "$work"
  if ! diff -r "$OUT/src/gen" "$work/src/gen" >/dev/null || ! diff -r "$OUT/descriptors" "$work/descriptors" >/dev/null; then
    diff -r "$OUT/src/gen" "$work/src/gen" | head -40 >&2 || true
    echo "[gen] generated code is stale: run 'npm run gen' and commit the result" >&2
    rm -rf "$work"; exit 1
  fi
  rm -rf "$work"
  echo "[gen] generated code is up to date"
else
  generate "$OUT"
  echo "[gen] wrote services/contracts/src/gen and services/contracts/descriptors/"
fi
