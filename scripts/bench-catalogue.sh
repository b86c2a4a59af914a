#!/usr/bin/env bash
# Catalogue benchmark (not a test): starts the local Kafka and FerretDB if needed, builds, runs the load from
# services/catalogue/src/bench/catalogue-bench.ts. Settings by env: BENCH_CONCURRENCY (16), BENCH_CREATES (2000),
# BENCH_GETS (5000), BENCH_RAW_OPS (2000), BENCH_OUT (a file to write the markdown table to).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/catalogue/dist/bench/catalogue-bench.js
