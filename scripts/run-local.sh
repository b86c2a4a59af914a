#!/usr/bin/env bash
# Runs the whole system locally: Kafka and FerretDB on 127.0.0.1 (scripts/infra.sh), then every service as its
# own process, logs in .o2o/logs/<service>.log. Ctrl-C stops the services (the infrastructure keeps running;
# `scripts/infra.sh down` stops it).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
bash scripts/infra.sh up >/dev/null
LOGS="$ROOT/.o2o/logs"
mkdir -p "$LOGS"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}" MONGO_URL="${MONGO_URL:-mongodb://127.0.0.1:27017}"
export OTEL_NODE_RESOURCE_DETECTORS=env,host,os,process

# service  gRPC port
SERVICES=(
  "catalogue 50051"
  "inventory 50052"
  "payments 50054"
  "orders 50053"
  "delivery 50055"
)
# Every service's address as <NAME>_ADDRESS=127.0.0.1:<port>: orders reaches catalogue, inventory and payments
# through CATALOGUE_ADDRESS, INVENTORY_ADDRESS and PAYMENTS_ADDRESS, delivery reaches inventory through
# INVENTORY_ADDRESS (services ignore the variables they do not read).
for entry in "${SERVICES[@]}"; do
  read -r name port <<<"$entry"
  export "${name^^}_ADDRESS=127.0.0.1:$port"
done
pids=()
stop() {
  echo "[run-local] stopping services" >&2
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait || true
}
trap stop INT TERM EXIT
for entry in "${SERVICES[@]}"; do
  read -r name port <<<"$entry"
  GRPC_PORT="$port" node "services/$name/dist/bin.js" >>"$LOGS/$name.log" 2>&1 &
  pids+=("$!")
  echo "[run-local] $name: gRPC 127.0.0.1:$port (pid $!, log $LOGS/$name.log)" >&2
done
for entry in "${SERVICES[@]}"; do
  read -r name port <<<"$entry"
  for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.2; done
done
# The REST gateway in front of them, with a local admin key (never valid in production) and local JWTs (HS256).
export GATEWAY_ADMIN_KEY="${GATEWAY_ADMIN_KEY:-o2o_localadmin_local-admin-key-not-for-production}"
BOOTSTRAP_ADMIN_KEY="$GATEWAY_ADMIN_KEY" CORS_ALLOWED_ORIGINS="${CORS_ALLOWED_ORIGINS:-*}" JWT_HS256_SECRET="${JWT_HS256_SECRET:-local-gateway-jwt-secret-not-for-production}" \
  HTTP_PORT=8080 node services/gateway/dist/bin.js >>"$LOGS/gateway.log" 2>&1 &
pids+=("$!")
echo "[run-local] gateway: REST http://127.0.0.1:8080 (pid $!, log $LOGS/gateway.log)" >&2
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:8080/readyz >/dev/null 2>&1 && break; sleep 0.2; done
echo "[run-local] up: Kafka 127.0.0.1:9092, MongoDB protocol (FerretDB) 127.0.0.1:27017; Ctrl-C to stop" >&2
echo "[run-local] REST: curl -H 'X-API-Key: $GATEWAY_ADMIN_KEY' http://127.0.0.1:8080/v1/locations (OpenAPI: /openapi.json)" >&2
wait
