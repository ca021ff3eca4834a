#!/usr/bin/env bash
# Compiles what the services' and the migration tool's entry points reach (no specs, tests or benches) to plain
# CommonJS in dist/, as the image runs it: `node dist/apps/<service>/src/main.js`. tsc keeps the `@keel/<lib>`
# imports as written, so dist/node_modules/@keel/<lib> links (relative, so they survive a copy of dist/) resolve
# them the way tsconfig's paths do; third-party packages resolve from the node_modules beside dist/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rm -rf dist
npx tsc -p tsconfig.build.json
node -e '
  const fs = require("node:fs"), path = require("node:path");
  const { paths } = require("./tsconfig.base.json").compilerOptions;
  for (const [alias, [target]] of Object.entries(paths)) {
    const link = path.join("dist", "node_modules", alias);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.relative(path.dirname(link), path.join("dist", path.dirname(target))), link);
  }'
echo "build: dist/ holds the five services and tools/migrate"
