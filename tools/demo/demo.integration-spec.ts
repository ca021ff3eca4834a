import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = join(__dirname, '..', '..');

interface Expected {
  readonly ingested: Record<string, number>;
  readonly cases: number;
  readonly decisionsByAction: Record<string, number>;
  readonly decisionsHeldForApproval: number;
  readonly workflowsByOutcome: Record<string, Record<string, number>>;
  readonly approvalsPending: number;
  readonly deadLetters: Record<string, number>;
  readonly kpis: Record<string, number>;
}

// The command a newcomer runs, as CI runs it: one process, no servers, the bundled data, exit after the summary.
describe('npm run demo -- --exit', () => {
  const work = mkdtempSync(join(tmpdir(), 'keel-demo-spec-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('replays the bundled data to the outcomes it is built to reach, and reports the KPIs', async () => {
    const summaryFile = join(work, 'summary.json');
    const { stdout } = await run(
      'node',
      [
        '-r',
        './tools/register.js',
        'tools/demo/main.ts',
        '--exit',
        '--port-base',
        '0',
        '--no-progress',
        '--json',
        summaryFile,
      ],
      { cwd: root, timeout: 240_000, maxBuffer: 16 * 1024 * 1024 },
    );
    expect(stdout).toContain('keel demo summary');
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Expected & {
      settled: boolean;
      wallSeconds: number;
      governanceInboxPending: number | null;
      kpis: Record<string, number | null>;
    };
    const expected = JSON.parse(
      readFileSync(join(root, 'data/samples/expected-demo-summary.json'), 'utf8'),
    ) as Expected;
    expect(summary.settled).toBe(true);
    expect(summary.ingested).toEqual(expected.ingested);
    expect(summary.cases).toBe(expected.cases);
    expect(summary.decisionsByAction).toEqual(expected.decisionsByAction);
    expect(summary.decisionsHeldForApproval).toBe(expected.decisionsHeldForApproval);
    expect(summary.workflowsByOutcome).toEqual(expected.workflowsByOutcome);
    expect(summary.approvalsPending).toBe(expected.approvalsPending);
    // Governance's approvals inbox holds exactly what the event log says waits for a person.
    expect(summary.governanceInboxPending).toBe(expected.approvalsPending);
    expect(summary.deadLetters).toEqual(expected.deadLetters);
    expect(summary.kpis).toMatchObject(expected.kpis);
    // Durations depend on the machine; that they were measured at all is what is deterministic.
    for (const kpi of ['orderCycleSecondsMean', 'escalationLatencySecondsMean', 'firstContactSecondsMean']) {
      expect(summary.kpis[kpi]).toBeGreaterThan(0);
    }
    expect(summary.wallSeconds).toBeGreaterThan(0);
  });
});
