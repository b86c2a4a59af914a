#!/usr/bin/env bash
# The system benchmark suite (not a test): `npm run bench`. Builds, starts the local Kafka and FerretDB if they are not
# running (and never stops them: they may be shared), then runs services/system/src/bench/main.ts, which starts
# catalogue, inventory, payments, orders, delivery and the REST gateway as their own processes on loopback (fresh
# databases, own topic prefix), runs the scenarios (ceilings, flash sale, order mix, tracking fan-out, partner
# webhooks), prints a markdown report and one JSON line, writes the report into docs/benchmarks.md (section "The
# whole system"), and stops every process it started. ghz and k6 are used when scripts/tools.sh installed them.
# Settings by env (docs/benchmarks.md lists them all): BENCH_SCENARIOS (ceilings,flash,mix,tracking,webhooks),
# BENCH_SCALE (1), BENCH_NO_WRITE=1 (print only), BENCH_TOOLS=0 (Node load generator only); MONGO_URL / KAFKA_BROKERS
# to measure other servers (then nothing is started here). Exit status non-zero when a check fails (e.g. the flash
# sale sells more or fewer units than it has).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
if [[ -z "${KAFKA_BROKERS:-}" || -z "${MONGO_URL:-}" ]]; then bash scripts/infra.sh up >/dev/null; fi
exec node services/system/dist/bench/main.js "$@"
