#!/usr/bin/env bash
# Payments benchmark (not a test): starts the local Kafka and FerretDB if needed, builds, runs the load from
# services/payments/src/bench/payments-bench.ts. Settings by env: BENCH_CONCURRENCIES (16,64), BENCH_AUTHORIZATIONS
# (2000 per level), BENCH_CAPTURES (300), BENCH_RAW_OPS (1000), BENCH_OUT (a file to write the markdown table to).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/payments/dist/bench/payments-bench.js
