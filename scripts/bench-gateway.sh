#!/usr/bin/env bash
# Gateway benchmark (not a test): the same order placement through the REST gateway and over gRPC straight to orders.
# Builds, starts the local Kafka and FerretDB if they are not running (and never stops them: they may be shared), then
# runs services/gateway/src/bench/gateway-bench.ts, which starts catalogue, inventory, payments, orders and the gateway
# as their own processes on loopback (fresh databases, own topic prefix), seeds stock, measures, prints markdown tables
# and one JSON line, and stops every process it started (docs/benchmarks.md, "Gateway: REST vs gRPC").
# Settings by env: BENCH_CONCURRENCIES (1,8,32; 1 = one caller alternating the two ways call by call),
# BENCH_SECONDS (40 per way and concurrency), BENCH_ROUNDS (4 alternating slices), BENCH_WARMUP_SECONDS (10 each
# way), BENCH_READ_CONCURRENCIES (1,8) and BENCH_READ_SECONDS (10; 0 skips GetOrder), BENCH_SKUS (50), BENCH_UNITS
# (1000000), BENCH_SHOPPERS (8), BENCH_OUT (also write the report to this file), BENCH_GATEWAY_NODE_OPTIONS (the
# gateway's NODE_OPTIONS only, e.g. "--cpu-prof --cpu-prof-dir=/tmp/gw-prof"); MONGO_URL / KAFKA_BROKERS to measure
# other servers (then nothing is started here).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/gateway/dist/bench/gateway-bench.js "$@"
