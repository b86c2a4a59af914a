#!/usr/bin/env bash
# Local infrastructure for o2o: Apache Kafka (KRaft, single node) and FerretDB (MongoDB wire protocol on SQLite),
# both bound to 127.0.0.1. Usage: scripts/infra.sh up|down|status|logs [kafka|ferretdb]
# Idempotent: `up` starts only what is not running; builds and downloads are cached in $O2O_CACHE_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HERE="$ROOT/scripts/infra"
CACHE="${O2O_CACHE_DIR:-$HOME/.cache/o2o}"
STATE="${O2O_STATE_DIR:-$ROOT/.o2o}"
KAFKA_VERSION="3.9.1"
KAFKA_PORT="${O2O_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${O2O_KAFKA_CONTROLLER_PORT:-29093}"
MONGO_PORT="${O2O_MONGO_PORT:-27017}"
KAFKA_LIBS="$CACHE/kafka-$KAFKA_VERSION/libs"
LOGS="$STATE/logs"
RUN="$STATE/run"
DATA="$STATE/data"

say() { printf '[infra] %s\n' "$*" >&2; }
die() { printf '[infra] error: %s\n' "$*" >&2; exit 1; }

need() {
  command -v "$1" >/dev/null 2>&1 || die "'$1' is not installed; $2"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pid_alive() {
  local f="$RUN/$1.pid"
  [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null
}

wait_port() { # name port seconds log
  local name="$1" port="$2" secs="$3" log="$4" i
  for ((i = 0; i < secs * 5; i++)); do
    if port_open "$port"; then return 0; fi
    if ! pid_alive "$name"; then
      say "$name exited during start-up; last lines of $log:"
      tail -n 30 "$log" >&2 || true
      exit 1
    fi
    sleep 0.2
  done
  say "$name did not open 127.0.0.1:$port within ${secs}s; last lines of $log:"
  tail -n 30 "$log" >&2 || true
  exit 1
}

# ---------- FerretDB ----------
# The binary is built from scripts/infra/ferretdb (our Go module) against FerretDB with the patches in
# scripts/infra/ferretdb/patches applied; its name hashes all of these, so changing any of them rebuilds it.
FERRETDB_MODULE="github.com/FerretDB/FerretDB"

ferretdb_patches() { # sets the array PATCHES to the patch files, in the order they apply (0001-..., 0002-...)
  local p
  PATCHES=()
  for p in "$HERE"/ferretdb/patches/*.patch; do [[ -f "$p" ]] && PATCHES+=("$p"); done
  return 0
}

ferretdb_bin() {
  local hash
  ferretdb_patches
  hash="$(cat "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$HERE"/ferretdb/*.go "${PATCHES[@]}" | sha256sum | cut -c1-12)"
  echo "$CACHE/bin/ferretdb-$hash"
}

apply_patch() { # dir patch-file: apply a -p1 unified diff in dir, all or nothing
  local dir="$1" file="$2"
  if command -v git >/dev/null 2>&1; then
    # git apply outside a repository works like patch -p1; the ceiling keeps git from taking dir as part of a
    # repository above it (a cache directory inside a checkout), where it would resolve the paths differently.
    (cd "$dir" && GIT_CEILING_DIRECTORIES="$(dirname "$dir")" git apply -p1 "$file")
  elif command -v patch >/dev/null 2>&1; then
    patch -d "$dir" -p1 --batch --forward --no-backup-if-mismatch --quiet -i "$file"
  else
    die "applying FerretDB's patches needs git or patch (e.g. apt-get install git)"
  fi
}

# ferretdb_src prints the directory of a writable copy of the FerretDB module our go.mod requires, with the patches
# applied; it is prepared once per FerretDB version and patch content ($CACHE/ferretdb-src-<hash>), in a temporary
# directory renamed into place when complete.
ferretdb_src() {
  local version hash dir upstream tmp p
  version="$(awk -v m="$FERRETDB_MODULE" '$1 == m { print $2; exit }' "$HERE/ferretdb/go.mod")"
  [[ -n "$version" ]] || die "scripts/infra/ferretdb/go.mod does not require $FERRETDB_MODULE"
  ferretdb_patches
  hash="$({ echo "$FERRETDB_MODULE@$version"; ((${#PATCHES[@]} == 0)) || cat "${PATCHES[@]}"; } | sha256sum | cut -c1-12)"
  dir="$CACHE/ferretdb-src-$hash"
  if [[ -f "$dir/.o2o-patched" ]]; then echo "$dir"; return 0; fi
  # The module cache holds the pristine module (read-only); go mod download fetches it if needed and prints its Dir.
  upstream="$(cd "$HERE/ferretdb" && GOFLAGS=-mod=mod go mod download -json "$FERRETDB_MODULE@$version" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || true
  [[ -n "$upstream" && -f "$upstream/go.mod" ]] || die "could not download $FERRETDB_MODULE@$version from the Go module proxy"
  mkdir -p "$CACHE"
  rm -rf "$dir"
  tmp="$(mktemp -d "$dir.tmp.XXXXXX")"
  cp -R "$upstream/." "$tmp/"
  chmod -R u+w "$tmp"
  for p in "${PATCHES[@]}"; do
    say "applying $(basename "$p") to FerretDB $version"
    apply_patch "$tmp" "$p" || { rm -rf "$tmp"; die "$(basename "$p") does not apply to $FERRETDB_MODULE@$version"; }
  done
  touch "$tmp/.o2o-patched"
  # Another build may have finished the same directory meanwhile; theirs is as good as ours.
  mv -T "$tmp" "$dir" 2>/dev/null || rm -rf "$tmp"
  echo "$dir"
}

build_ferretdb() {
  local bin src work rc=0
  bin="$(ferretdb_bin)"
  [[ -x "$bin" ]] && return 0
  need go "FerretDB is built from the Go module proxy; install Go 1.22+ (https://go.dev/dl) or point MONGO_URL at a running MongoDB"
  say "building FerretDB 1.24 (embedded, SQLite, patched) from the Go module proxy; the first build takes a few minutes"
  mkdir -p "$CACHE/bin"
  src="$(ferretdb_src)" || exit 1
  # The replace directive points at a path on this machine, so it goes into a temporary copy of go.mod (go build
  # -modfile), never into the committed one. go.sum is copied beside it (the go command reads <modfile>.sum); the
  # patched module requires exactly what upstream does, so the committed go.sum covers it.
  work="$(mktemp -d "$CACHE/ferretdb-build.XXXXXX")"
  cp "$HERE/ferretdb/go.mod" "$HERE/ferretdb/go.sum" "$work/"
  (cd "$HERE/ferretdb" &&
    go mod edit -replace="$FERRETDB_MODULE=$src" "$work/go.mod" &&
    CGO_ENABLED=0 GOFLAGS=-mod=mod go build -modfile="$work/go.mod" -trimpath -o "$bin.tmp" .) || rc=$?
  rm -rf "$work"
  ((rc == 0)) || die "FerretDB build failed (see the Go output above)"
  mv "$bin.tmp" "$bin"
}

start_ferretdb() {
  if pid_alive ferretdb; then say "ferretdb already running (pid $(cat "$RUN/ferretdb.pid"))"; return 0; fi
  if port_open "$MONGO_PORT"; then say "127.0.0.1:$MONGO_PORT already answers (not started by this script); using it"; return 0; fi
  build_ferretdb
  mkdir -p "$DATA/ferretdb" "$LOGS" "$RUN"
  setsid nohup "$(ferretdb_bin)" -listen "127.0.0.1:$MONGO_PORT" -data "$DATA/ferretdb" -log-level error \
    >>"$LOGS/ferretdb.log" 2>&1 </dev/null &
  echo $! >"$RUN/ferretdb.pid"
  wait_port ferretdb "$MONGO_PORT" 60 "$LOGS/ferretdb.log"
  say "ferretdb ready on 127.0.0.1:$MONGO_PORT (data $DATA/ferretdb, log $LOGS/ferretdb.log)"
}

# ---------- Kafka ----------
fetch_kafka() {
  [[ -f "$KAFKA_LIBS/.complete" ]] && return 0
  need java "Kafka needs a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)"
  need mvn "Kafka's jars are fetched from Maven Central with Maven (e.g. apt-get install maven)"
  say "fetching Apache Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$KAFKA_LIBS"
  mvn -B -q -f "$HERE/kafka/pom.xml" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$KAFKA_LIBS" || die "Maven could not fetch the Kafka jars"
  touch "$KAFKA_LIBS/.complete"
}

write_kafka_config() {
  local dir="$DATA/kafka"
  mkdir -p "$dir/log" "$STATE/conf"
  cat >"$STATE/conf/kafka.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/log
num.partitions=3
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=16777216
PROPS
  cat >"$STATE/conf/kafka-log4j.properties" <<PROPS
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$LOGS/kafka.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka=INFO
log4j.logger.org.apache.kafka=INFO
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.request.logger=WARN
PROPS
  if [[ ! -f "$dir/cluster-id" ]]; then
    # 16 random bytes as unpadded base64url: the 22-character cluster id KRaft expects.
    head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=' | cut -c1-22 >"$dir/cluster-id"
  fi
  if [[ ! -f "$dir/log/meta.properties" ]]; then
    java -cp "$KAFKA_LIBS/*" -Dlog4j.configuration="file:$STATE/conf/kafka-log4j.properties" \
      kafka.tools.StorageTool format --cluster-id="$(cat "$dir/cluster-id")" \
      -c "$STATE/conf/kafka.properties" --ignore-formatted >>"$LOGS/kafka-format.log" 2>&1 \
      || { tail -n 20 "$LOGS/kafka-format.log" >&2; die "formatting Kafka storage failed"; }
  fi
}

start_kafka() {
  if pid_alive kafka; then say "kafka already running (pid $(cat "$RUN/kafka.pid"))"; return 0; fi
  if port_open "$KAFKA_PORT"; then say "127.0.0.1:$KAFKA_PORT already answers (not started by this script); using it"; return 0; fi
  fetch_kafka
  mkdir -p "$LOGS" "$RUN"
  write_kafka_config
  : >"$LOGS/kafka.log"
  setsid nohup java -Xms256m -Xmx${O2O_KAFKA_HEAP:-768m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$STATE/conf/kafka-log4j.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$STATE/conf/kafka.properties" >>"$LOGS/kafka.out" 2>&1 </dev/null &
  echo $! >"$RUN/kafka.pid"
  wait_port kafka "$KAFKA_PORT" 90 "$LOGS/kafka.log"
  local i
  for ((i = 0; i < 300; i++)); do
    grep -q 'Kafka Server started' "$LOGS/kafka.log" 2>/dev/null && break
    sleep 0.2
  done
  say "kafka ready on 127.0.0.1:$KAFKA_PORT (data $DATA/kafka, log $LOGS/kafka.log)"
}

stop_one() {
  local name="$1" pid i
  if ! pid_alive "$name"; then rm -f "$RUN/$name.pid"; say "$name not running"; return 0; fi
  pid="$(cat "$RUN/$name.pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then say "$name did not stop in 30s; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
  rm -f "$RUN/$name.pid"
  say "$name stopped"
}

status() {
  local name port rc=0
  for pair in "kafka:$KAFKA_PORT" "ferretdb:$MONGO_PORT"; do
    name="${pair%%:*}"; port="${pair##*:}"
    if pid_alive "$name"; then
      printf '%-9s running  pid %-7s 127.0.0.1:%s  log %s\n' "$name" "$(cat "$RUN/$name.pid")" "$port" "$LOGS/$name.log"
    elif port_open "$port"; then
      printf '%-9s external 127.0.0.1:%s answers (not started by scripts/infra)\n' "$name" "$port"
    else
      printf '%-9s stopped  (would listen on 127.0.0.1:%s)\n' "$name" "$port"; rc=3
    fi
  done
  printf 'state %s, cache %s\n' "$STATE" "$CACHE"
  return $rc
}

targets() { if [[ $# -eq 0 ]]; then echo "ferretdb kafka"; else echo "$*"; fi; }

cmd="${1:-status}"; shift || true
case "$cmd" in
  up)
    for t in $(targets "$@"); do
      case "$t" in kafka) start_kafka ;; ferretdb) start_ferretdb ;; *) die "unknown service '$t' (kafka, ferretdb)" ;; esac
    done
    echo "KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
    echo "MONGO_URL=mongodb://127.0.0.1:$MONGO_PORT"
    ;;
  down) for t in $(targets "$@"); do stop_one "$t"; done ;;
  status) status ;;
  build) fetch_kafka; build_ferretdb; say "kafka jars in $KAFKA_LIBS; ferretdb at $(ferretdb_bin)" ;;
  logs) t="${1:-kafka}"; tail -n 100 -f "$LOGS/$t.log" ;;
  reset) stop_one kafka; stop_one ferretdb; rm -rf "$DATA"; say "data removed" ;;
  *) die "usage: scripts/infra.sh up|down|status|build|logs|reset [kafka|ferretdb]" ;;
esac
