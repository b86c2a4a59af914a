#!/usr/bin/env bash
# Live-tracking benchmark (not a test): starts the local Kafka and FerretDB if needed, builds, and runs
# services/delivery/src/bench/tracking-bench.ts, which starts inventory and delivery as processes and measures
# positions ingested per second and the fan-out latency to 10, 100 and 1,000 watchers (see docs/benchmarks.md).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/delivery/dist/bench/tracking-bench.js "$@"
