# Sourced by the entry scripts: Node 24 on PATH, dependencies installed (npm ci when the lockfile changed), built.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
source scripts/node-env.sh
_o2o_lock_hash="$(sha256sum package-lock.json | cut -c1-16)"
if [[ ! -f node_modules/.o2o-lock-hash || "$(cat node_modules/.o2o-lock-hash)" != "$_o2o_lock_hash" ]]; then
  echo "[setup] installing dependencies (npm install from the lockfile)" >&2
  # npm install, not npm ci: this registry mirror serves no other-platform optional packages (e.g.
  # @bufbuild/buf-darwin-arm64), so the lockfile lacks them and npm ci refuses it; npm install keeps the pinned versions.
  npm install --no-audit --no-fund --loglevel=error >&2
  echo "$_o2o_lock_hash" >node_modules/.o2o-lock-hash
fi
echo "[setup] building (tsc -b)" >&2
npm run --silent build >&2
