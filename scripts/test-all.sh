#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs dependencies, checks types and lint, runs the
# unit tier, then starts (or reuses) Postgres and a real Kafka broker and runs the integration tier.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TZ=UTC

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then npm ci --no-audit --no-fund; fi

echo "== typecheck"; npx tsc -p tsconfig.json --noEmit
echo "== lint"; npx eslint . --max-warnings=0

mkdir -p tmp
status=0
echo "== unit"
npx jest -c jest.unit.config.js --json --outputFile=tmp/unit.json || status=1
echo "== infrastructure"
bash scripts/postgres.sh
bash scripts/kafka/kafka.sh start
echo "== integration"
npx jest -c jest.integration.config.js --json --outputFile=tmp/integration.json || status=1

node -e '
  const tiers = ["unit", "integration"].map((t) => { try { return require("./tmp/" + t + ".json"); } catch { return { numPassedTests: 0, numFailedTests: 1 }; } });
  const passed = tiers.reduce((n, t) => n + t.numPassedTests, 0);
  const failed = tiers.reduce((n, t) => n + t.numFailedTests, 0);
  const skipped = tiers.reduce((n, t) => n + (t.numPendingTests || 0), 0);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
