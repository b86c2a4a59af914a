#!/usr/bin/env bash
# The test command: installs what is missing (Node 24, npm packages, Kafka jars, FerretDB), builds, starts the local
# Kafka and FerretDB unless KAFKA_BROKERS/MONGO_URL point at running servers, and runs every jest test.
# Extra arguments go to jest, e.g. `scripts/test.sh services/catalogue`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
# Integration tests share one broker and some stop and restart it, so they run one file at a time.
exec npx jest --runInBand "$@"
