#!/usr/bin/env bash
# Inventory benchmark (not a test): starts the local Kafka and FerretDB if needed, builds, runs the load from
# services/inventory/src/bench/inventory-bench.ts. Settings by env: BENCH_CONCURRENCIES (16,64), BENCH_HOLDS (1500),
# BENCH_SKUS (500), BENCH_RAW_OPS (2000), BENCH_OUT (a file to write the markdown table to).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/inventory/dist/bench/inventory-bench.js
