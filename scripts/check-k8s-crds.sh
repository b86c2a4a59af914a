#!/usr/bin/env bash
# Fetches the CustomResourceDefinitions of the operators deploy/ targets, for `kubectl-validate --local-crds`,
# from the package registries only, and caches them per version. Used by scripts/check-k8s.sh; runs alone too:
#
#   bash scripts/check-k8s-crds.sh [cache-dir]      # prints one CRD directory per line on stdout
#
# Cache: ${1:-${O2O_CACHE_DIR:-$HOME/.cache/o2o}/crds}/<operator>-<version>/ (a directory is only ever
# moved into place complete, so an interrupted fetch leaves nothing behind). Exits non-zero, saying what is
# missing, when a set cannot be had; the sets it did get are still printed.
#
# MongoDB Community Operator: the operator is a Go module. `go mod download` (Go module proxy) of
#   github.com/mongodb/mongodb-kubernetes-operator@$MONGODB_OPERATOR_VERSION gives its source tree, which holds
#   the CRD as released: config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml.
# Strimzi: no registry ships the released CRD YAMLs (Strimzi is not a Go module, and the io.strimzi:api jars
#   on Maven Central carry only classes). Strimzi itself generates its CRDs from the io.strimzi:api classes
#   with its crd-generator, the arguments being in the api POM (exec-maven-plugin, executions
#   generate-crd-*). So: Maven fetches io.strimzi:api:$STRIMZI_VERSION (jar + POM) and
#   io.strimzi:crd-generator:$STRIMZI_CRD_GENERATOR_VERSION, and the generator is run with the arguments read
#   from that POM, which yields the release's 04x-Crd-*.yaml files. crd-generator is not published for every
#   release: 0.45.0 is the newest on Maven Central that runs on Java 17 (1.2.0 needs Java 21). The one thing
#   0.45.0 does not know is the @CelValidation annotation (new in 0.46), which in 0.47 only puts CEL rules on
#   `metricsConfig` (type jmxPrometheusExporter needs valueFrom; the Connect-based resources and Cruise Control
#   reject strimziMetricsReporter): those rules are missing from the generated schemas.
set -euo pipefail

STRIMZI_VERSION=0.47.0                 # deploy/README.md: Strimzi 0.47 (kafka.strimzi.io/v1beta2, KRaft node pools)
STRIMZI_CRD_GENERATOR_VERSION=0.45.0
MONGODB_OPERATOR_VERSION=v0.13.0       # deploy/README.md: community-operator chart 0.13.0 = operator v0.13.0
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

CRDS="${1:-${O2O_CACHE_DIR:-$HOME/.cache/o2o}/crds}"
STRIMZI_DIR="$CRDS/strimzi-$STRIMZI_VERSION-crdgen-$STRIMZI_CRD_GENERATOR_VERSION"
MONGODB_DIR="$CRDS/mongodb-community-operator-$MONGODB_OPERATOR_VERSION"

log() { printf '[check-k8s-crds] %s\n' "$*" >&2; }
WORK="$(mktemp -d "${TMPDIR:-/tmp}/o2o-crds.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$CRDS"

# Checks that every file in dir $1 is a CRD of a group listed in $2 (comma-separated) and that the kinds in $3
# (kind=version ...) have a served schema for that version.
verify() {
  python3 - "$@" <<'PY'
import glob, sys, yaml
d, groups, want = sys.argv[1], sys.argv[2].split(","), sys.argv[3].split()
served = {}
for f in sorted(glob.glob(d + "/*.yaml")):
    for c in yaml.safe_load_all(open(f)):
        if not c: continue
        if c.get("kind") != "CustomResourceDefinition" or c["spec"]["group"] not in groups:
            sys.exit(f"{f}: not a CRD of {' or '.join(groups)}")
        for v in c["spec"]["versions"]:
            if v.get("served") and (v.get("schema") or {}).get("openAPIV3Schema"):
                served.setdefault(c["spec"]["names"]["kind"], set()).add(v["name"])
missing = [w for w in want if w.split("=")[1] not in served.get(w.split("=")[0], set())]
if missing: sys.exit(f"{d}: no served schema for {', '.join(missing)}")
print(" ".join(f"{k}" for k in sorted(served)))
PY
}

fetch_mongodb() {
  local mod=github.com/mongodb/mongodb-kubernetes-operator dir src
  command -v go >/dev/null || { log "MongoDB CRD: go is needed (go mod download $mod@$MONGODB_OPERATOR_VERSION)"; return 1; }
  log "MongoDB CRD: go mod download $mod@$MONGODB_OPERATOR_VERSION (first run only) ..."
  if ! dir="$(env GOFLAGS= GOTOOLCHAIN=local go mod download -json "$mod@$MONGODB_OPERATOR_VERSION" 2>"$WORK/go.err" \
             | python3 -c 'import json,sys; m=json.load(sys.stdin); print(m.get("Dir") or sys.exit(m.get("Error","no Dir")))' 2>>"$WORK/go.err")"; then
    cat "$WORK/go.err" >&2; log "MongoDB CRD: the Go module proxy did not give $mod@$MONGODB_OPERATOR_VERSION"; return 1
  fi
  src="$dir/config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml"
  [[ -f "$src" ]] || { log "MongoDB CRD: $src is not in the module"; return 1; }
  mkdir -p "$WORK/mongodb" && cp "$src" "$WORK/mongodb/" && chmod u+w "$WORK/mongodb"/*
  verify "$WORK/mongodb" mongodbcommunity.mongodb.com "MongoDBCommunity=v1" >/dev/null || return 1
  printf 'go module %s@%s\nfile config/crd/bases/mongodbcommunity.mongodb.com_mongodbcommunity.yaml\n' \
    "$mod" "$MONGODB_OPERATOR_VERSION" >"$WORK/mongodb/SOURCE"
  rm -rf "$MONGODB_DIR" && mv "$WORK/mongodb" "$MONGODB_DIR"
}

fetch_strimzi() {
  local m="$WORK/strimzi-mvn" out="$WORK/strimzi" api_pom cp
  command -v mvn >/dev/null && command -v java >/dev/null \
    || { log "Strimzi CRDs: mvn and java (17+) are needed (e.g. apt-get install maven openjdk-17-jdk-headless)"; return 1; }
  log "Strimzi CRDs: generating $STRIMZI_VERSION with Maven Central's io.strimzi:api + crd-generator $STRIMZI_CRD_GENERATOR_VERSION (first run only) ..."
  mkdir -p "$m" "$out"
  cat >"$m/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.o2o.check</groupId><artifactId>strimzi-crds</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId><version>$STRIMZI_VERSION</version></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId><version>$STRIMZI_CRD_GENERATOR_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  # The api classes and their own dependency versions (fabric8 kubernetes-model etc.) come first on the class
  # path, so the generator (a shaded jar carrying older copies of those) describes the 0.47 model.
  if ! (cd "$m" && mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:build-classpath" -Dmdep.outputFile=cp.txt \
        && mvn -B -q "$MAVEN_DEPENDENCY_PLUGIN:copy" -Dartifact="io.strimzi:api:$STRIMZI_VERSION:pom" \
             -DoutputDirectory="$m" -Dmdep.overWriteReleases=true) >"$WORK/mvn.log" 2>&1; then
    grep -E 'ERROR|Could not' "$WORK/mvn.log" | head -n 5 >&2
    log "Strimzi CRDs: Maven could not fetch io.strimzi:api:$STRIMZI_VERSION / io.strimzi:crd-generator:$STRIMZI_CRD_GENERATOR_VERSION"
    return 1
  fi
  api_pom="$m/api-$STRIMZI_VERSION.pom"; cp="$(cat "$m/cp.txt")"
  # One generator invocation per exec-maven-plugin execution generate-crd-* of the api POM; arguments as there,
  # less its -classpath, with the target files put in $out.
  python3 - "$api_pom" "$out" >"$WORK/runs" <<'PY' || { log "Strimzi CRDs: cannot read the generator arguments from the api POM"; return 1; }
import json, re, sys, xml.etree.ElementTree as ET
pom, out = sys.argv[1:3]
ns = {"m": "http://maven.apache.org/POM/4.0.0"}
runs = []
for ex in ET.parse(pom).getroot().iterfind(".//m:plugin/m:executions/m:execution", ns):
    if not (ex.findtext("m:id", "", ns) or "").startswith("generate-crd-"): continue
    args = [a.text or "" for a in ex.iterfind("m:configuration/m:arguments/m:argument", ns)]
    if "io.strimzi.crdgenerator.CrdGenerator" not in args: continue
    args = args[args.index("io.strimzi.crdgenerator.CrdGenerator"):]
    fixed = []
    for a in args:
        m = re.fullmatch(r"([\w.]+)=.*?([\w.-]+\.yaml)", a)
        fixed.append(f"{m.group(1)}={out}/{m.group(2).split('}')[-1]}" if m else a)
    runs.append(fixed)
if not runs: sys.exit("no generate-crd-* execution with CrdGenerator in " + pom)
for r in runs: print(json.dumps(r))
PY
  while IFS= read -r run; do
    mapfile -t args < <(python3 -c 'import json,sys; print("\n".join(json.loads(sys.argv[1])))' "$run")
    if ! java -cp "$cp" "${args[@]}" >>"$WORK/gen.log" 2>&1; then
      grep -v SLF4J "$WORK/gen.log" | tail -n 20 >&2; log "Strimzi CRDs: crd-generator failed"; return 1
    fi
  done <"$WORK/runs"
  verify "$out" kafka.strimzi.io,core.strimzi.io "Kafka=v1beta2 KafkaNodePool=v1beta2 KafkaTopic=v1beta2 KafkaUser=v1beta2" >/dev/null || return 1
  printf 'maven io.strimzi:api:%s (classes + POM: generator arguments)\nmaven io.strimzi:crd-generator:%s\nmissing: @CelValidation rules (metricsConfig)\n' \
    "$STRIMZI_VERSION" "$STRIMZI_CRD_GENERATOR_VERSION" >"$out/SOURCE"
  rm -rf "$STRIMZI_DIR" && mv "$out" "$STRIMZI_DIR"
}

rc=0
for s in strimzi mongodb; do
  var="${s^^}_DIR"; dir="${!var}"
  if [[ ! -f "$dir/SOURCE" ]] && ! "fetch_$s"; then rc=1; continue; fi
  echo "$dir"
done
exit $rc
