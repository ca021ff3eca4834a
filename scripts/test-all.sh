#!/usr/bin/env bash
# Every test of the project, on a fresh machine: installs dependencies, checks types and lint, runs the
# unit tier, then starts (or reuses) Postgres and a real Kafka broker and runs the integration tier.
# Each phase prints how long it took (CI's budget is 90 minutes on 2 cores); the last line counts the tests.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export TZ=UTC

timings=()
# timed <phase> <command...>: runs the command under a header, then prints and records its duration.
timed() {
  local phase=$1 started=$SECONDS rc=0
  shift
  echo "== $phase"
  "$@" || rc=$?
  timings+=("$phase $((SECONDS - started)) s")
  echo "== $phase: $((SECONDS - started)) s$([ $rc -eq 0 ] || echo ", failed (exit $rc)")"
  return $rc
}

# npm writes node_modules/.package-lock.json at the end of an install: absent or older than the lock file
# means no complete install of the current dependencies.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  timed "npm ci" npm ci --no-audit --no-fund
fi

timed typecheck npx tsc -p tsconfig.json --noEmit
# `npm run lint` first computes Nx's project graph: in a fresh clone there is no cached one, and the
# module-boundaries rule would then be skipped with nothing but a warning on stderr.
timed lint npm run --silent lint
# What the image compiles (only what the entry points reach, so a declaration the whole-tree typecheck sees
# but the build does not breaks only here).
timed build bash scripts/build.sh

mkdir -p tmp
# A tier that dies before writing its report counts as failed, never with the previous run's report.
rm -f tmp/unit.json tmp/integration.json
status=0
timed unit npx jest -c jest.unit.config.js --json --outputFile=tmp/unit.json || status=1
# Alert rules and scrape config, by promtool; their metric names are checked against the services by
# tools/monitoring.integration-spec.ts in the integration tier.
timed monitoring bash scripts/check-monitoring.sh || status=1
timed infrastructure bash -c 'bash scripts/postgres.sh && bash scripts/kafka/kafka.sh start'
timed integration npx jest -c jest.integration.config.js --json --outputFile=tmp/integration.json || status=1

printf -v phases '%s, ' "${timings[@]}"
echo "phases: ${phases%, }"
node -e '
  const tiers = ["unit", "integration"].map((t) => { try { return require("./tmp/" + t + ".json"); } catch { return { numPassedTests: 0, numFailedTests: 1 }; } });
  const passed = tiers.reduce((n, t) => n + t.numPassedTests, 0);
  // A test file that cannot run (an import or syntax error) fails no test, yet must not pass unnoticed.
  const failed = tiers.reduce((n, t) => n + t.numFailedTests + (t.numRuntimeErrorTestSuites || 0), 0);
  const skipped = tiers.reduce((n, t) => n + (t.numPendingTests || 0), 0);
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
