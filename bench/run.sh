#!/usr/bin/env bash
# Benchmarks print their figures; they are never timed tests. Usage: bench/run.sh [kafka|workflow|retrieval|expression|pipeline|…|all]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/postgres.sh
bash scripts/kafka/kafka.sh start
which="${1:-all}"
for bench in bench/*.bench.ts; do
  name="$(basename "$bench" .bench.ts)"
  case "$which" in all | "${name%%-*}") echo "== $name"; node -r ./tools/register.js "$bench" ;; esac
done
