import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// Purity of `type:domain` libs is a lint error, not a habit. Like the module-boundaries test: the real ESLint CLI
// with the workspace config lints probe files placed inside projects (one run for all of them: type-aware lint
// is slow to start), in a child process because ESLint loads its ESM config in a way jest's VM cannot.
const root = join(__dirname, '..');

interface LintResult {
  filePath: string;
  messages: Array<{ ruleId: string | null; message: string; line: number }>;
}

const probes = {
  // One violation per line, so each finding can be matched to its construct.
  impure: {
    path: 'libs/workflow-engine/src/purity-probe.generated.ts',
    code: [
      "import { readFileSync } from 'node:fs';",
      "import { createHash } from 'crypto';",
      'export const now = Date.now();',
      'export const today = new Date();',
      'export const stamp = Date();',
      'export const roll = Math.random();',
      'export const id = crypto.randomUUID();',
      'export const tick = performance.now();',
      "export const loaded = import('node:os');",
      'export const used = [readFileSync, createHash];',
    ].join('\n'),
  },
  // The same constructs are fine where time and randomness belong: the input, or an adapter.
  pure: {
    path: 'libs/workflow-engine/src/purity-probe-pure.generated.ts',
    code: [
      'export const at = (nowMs: number): string => new Date(nowMs).toISOString();',
      "export const parsed = Date.parse('2025-01-01T00:00:00Z');",
      'export const biggest = Math.max(1, 2);',
    ].join('\n'),
  },
  // Found by its tag, though it sits one level deeper than libs/<name>.
  nestedDomain: {
    path: 'libs/decisioning/domain/src/purity-probe.generated.ts',
    code: 'export const now = Date.now();',
  },
  adapter: {
    path: 'libs/workflow-runtime/src/purity-probe.generated.ts',
    code: "import { hostname } from 'node:os';\nexport const now = [Date.now(), new Date(), Math.random(), hostname()];",
  },
  domainTest: {
    path: 'libs/workflow-engine/src/purity-probe.generated.spec.ts',
    code: "import { readFileSync } from 'node:fs';\nexport const started = [Date.now(), readFileSync];",
  },
} as const;

type Probe = keyof typeof probes;

describe('domain purity', () => {
  let findings: Record<Probe, Array<{ rule: string | null; line: number; message: string }>>;

  beforeAll(() => {
    const files = Object.values(probes).map((probe) => join(root, probe.path));
    Object.values(probes).forEach((probe, index) => writeFileSync(files[index], `${probe.code}\n`));
    let stdout: string;
    try {
      stdout = spawnSync('npx', ['eslint', '--format', 'json', '--no-warn-ignored', ...files], {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      }).stdout;
    } finally {
      for (const file of files) rmSync(file, { force: true });
    }
    const results = JSON.parse(stdout) as LintResult[];
    findings = Object.fromEntries(
      (Object.keys(probes) as Probe[]).map((name) => {
        const result = results.find((candidate) => candidate.filePath === join(root, probes[name].path));
        const purityRules = ['no-restricted-imports', 'no-restricted-syntax'];
        return [
          name,
          (result?.messages ?? [])
            .filter((message) => purityRules.includes(message.ruleId ?? ''))
            .map((message) => ({ rule: message.ruleId, line: message.line, message: message.message })),
        ];
      }),
    ) as typeof findings;
  }, 120_000);

  it('refuses Node built-ins, the clock and randomness in a domain lib, each with the reason', () => {
    const byLine = findings.impure.map(({ line, message }) => [line, message.split(': ')[0]]);

    expect(byLine).toEqual([
      [1, "'node:fs' import is restricted from being used by a pattern. Node built-ins"],
      [2, "'crypto' import is restricted from being used. Node built-in 'crypto'"],
      [3, 'Date.now() reads the clock'],
      [4, 'new Date() reads the clock'],
      [5, 'Date() reads the clock'],
      [6, 'Math.random() is random'],
      [7, 'crypto.randomUUID() and crypto.getRandomValues() are random'],
      [8, 'performance reads the clock'],
      [9, 'import() loads modules the import rules cannot see'],
    ]);
    expect(findings.impure.every(({ message }) => message.includes('domain libs are pure'))).toBe(true);
  });

  it('allows time given as input, and applies to every lib tagged type:domain', () => {
    expect(findings.pure).toEqual([]);
    expect(findings.nestedDomain.map(({ message }) => message)).toEqual([
      expect.stringContaining('Date.now() reads the clock'),
    ]);
  });

  it('leaves adapters and the domain libs’ own tests alone', () => {
    expect(findings.adapter).toEqual([]);
    expect(findings.domainTest).toEqual([]);
  });
});
