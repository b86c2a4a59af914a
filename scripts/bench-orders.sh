#!/usr/bin/env bash
# Orders benchmark (not a test): starts the local Kafka and FerretDB if needed, builds, and runs
# services/orders/src/bench/orders-bench.ts, which starts catalogue, inventory, payments and orders as processes,
# measures the single-service ceilings and then PlaceOrder through the whole saga (see docs/benchmarks.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/orders/dist/bench/orders-bench.js "$@"
