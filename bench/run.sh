#!/usr/bin/env bash
# Benchmarks print their figures; they are never timed tests. Usage: bench/run.sh [kafka|workflow|retrieval|expression|pipeline|…|all]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
bash scripts/postgres.sh
bash scripts/kafka/kafka.sh start
# Services run as the image runs them (compiled, no dev loader: it alone holds ~80 MB of each process);
# BENCH_DEV_LOADER=1 runs their TypeScript through tools/register.js instead.
if [ "${BENCH_DEV_LOADER:-0}" != 1 ]; then
  bash scripts/build.sh
  export KEEL_SERVICES_FROM_DIST=1
fi
which="${1:-all}"
for bench in bench/*.bench.ts; do
  name="$(basename "$bench" .bench.ts)"
  case "$which" in all | "${name%%-*}") echo "== $name"; node -r ./tools/register.js "$bench" ;; esac
done
