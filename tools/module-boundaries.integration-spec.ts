import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// The layering is a lint error, not a convention: these are the imports it must refuse. The real ESLint CLI
// with the workspace config lints a probe file placed inside a project (Nx's project graph decides the tags;
// type-aware linting needs a file on disk). A child process, because ESLint loads its ESM config in a way
// jest's VM cannot.
const root = join(__dirname, '..');

interface LintResult {
  messages: Array<{ ruleId: string | null; message: string }>;
}

describe('module boundaries', () => {
  beforeAll(() => {
    // The boundary rule reads Nx's project graph; a fresh clone has none cached until Nx computes it.
    execFileSync('npx', ['nx', 'show', 'projects'], { cwd: root, stdio: 'ignore' });
  });

  function boundaryErrors(filePath: string, code: string): Promise<string[]> {
    const probe = join(root, filePath);
    writeFileSync(probe, code);
    let stdout: string;
    try {
      stdout = spawnSync('npx', ['eslint', '--format', 'json', probe], {
        cwd: root,
        encoding: 'utf8',
      }).stdout;
    } finally {
      rmSync(probe, { force: true });
    }
    const [result] = JSON.parse(stdout) as LintResult[];
    return Promise.resolve(
      (result?.messages ?? [])
        .filter((message) => message.ruleId === '@nx/enforce-module-boundaries')
        .map((message) => message.message),
    );
  }

  it('keeps infrastructure packages out of domain libs', async () => {
    const errors = await boundaryErrors(
      'libs/workflow-engine/src/boundary-probe.generated.ts',
      "import { DataSource } from 'typeorm';\nexport const probe = DataSource;\n",
    );
    expect(errors.join('\n')).toMatch(/typeorm/);
  });

  it('keeps one service from importing another', async () => {
    const errors = await boundaryErrors(
      'apps/ingestion/src/boundary-probe.generated.ts',
      "import { WorkflowExecutor } from '@keel/workflow-runtime';\nexport const probe = WorkflowExecutor;\n",
    );
    expect(errors.join('\n')).toMatch(/scope:ingestion/);
  });

  it('keeps shared libs from depending on a service feature', async () => {
    const errors = await boundaryErrors(
      'libs/messaging/src/boundary-probe.generated.ts',
      "import { WorkflowExecutor } from '@keel/workflow-runtime';\nexport const probe = WorkflowExecutor;\n",
    );
    expect(errors.length).toBeGreaterThan(0);
  });

  it('lets an app use its own feature lib and the shared platform', async () => {
    const errors = await boundaryErrors(
      'apps/workflow/src/boundary-probe.generated.ts',
      "import { WorkflowExecutor } from '@keel/workflow-runtime';\nimport { createKafka } from '@keel/messaging';\nexport const probe = [WorkflowExecutor, createKafka];\n",
    );
    expect(errors).toEqual([]);
  });
});
