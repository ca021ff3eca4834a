import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

// The two expressions of issue 7: before the guard, each blocked the service's event loop for about 5 s in one
// built-in call (JSONata checks its timeout only between nodes), and with it heartbeats, HTTP and the workers.
const hostileRegex = '$exists($match(input.text, /^(a+)+$/))';
const hostilePad = '$length($pad("", 1e8)) > 0';

function choiceDefinition(name: string, when: string): string {
  return JSON.stringify({
    name,
    version: 1,
    description: `A choice on ${when}`,
    start: 'route',
    steps: {
      route: { kind: 'choice', choices: [{ when, next: 'matched' }], otherwise: 'unmatched' },
      matched: { kind: 'end', status: 'completed' },
      unmatched: { kind: 'end', status: 'completed' },
    },
  });
}

interface Probe {
  readonly status: number;
  readonly ms: number;
}

/** Asks `/health/live` back to back until stopped; each answer's status and how long it took. */
function pollLiveness(url: string): { stop: () => Promise<Probe[]> } {
  const probes: Probe[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const started = performance.now();
      const status = await fetch(`${url}/health/live`).then(
        (response) => response.status,
        () => 0,
      );
      probes.push({ status, ms: performance.now() - started });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return probes;
    },
  };
}

describe('workflow expression guard', () => {
  const context = new WorkflowE2eContext();

  beforeAll(async () => {
    writeFileSync(
      join(context.definitionsDir, 'hostile-regex.workflow.json'),
      choiceDefinition('hostile-regex', hostileRegex),
    );
    writeFileSync(
      join(context.definitionsDir, 'hostile-pad.workflow.json'),
      choiceDefinition('hostile-pad', hostilePad),
    );
    await context.setUp();
    await context.service.start();
  });

  afterAll(() => context.tearDown());

  it('decides the hostile choices at once, fails the $pad one with a clear error, and keeps answering /health', async () => {
    const liveness = pollLiveness(context.service.url);
    const started = performance.now();
    const instances = Array.from({ length: 5 }, (_, n) => n);
    await context.sendCommands([
      ...instances.map((n) => ({
        command: 'start' as const,
        instanceId: `regex-${n}`,
        template: 'hostile-regex',
        input: { text: `${'a'.repeat(27 + n)}!` },
      })),
      {
        command: 'start',
        instanceId: 'regex-match',
        template: 'hostile-regex',
        input: { text: 'a'.repeat(27) },
      },
      ...instances.map((n) => ({
        command: 'start' as const,
        instanceId: `pad-${n}`,
        template: 'hostile-pad',
        input: {},
      })),
    ]);
    const finished = ['regex-match', ...instances.flatMap((n) => [`regex-${n}`, `pad-${n}`])];
    await waitFor(
      async () => {
        for (const id of finished) {
          const status = (await context.instance(id))?.status;
          if (status !== 'completed' && status !== 'failed') return false;
        }
        return true;
      },
      { what: 'every hostile instance finished', timeoutMs: 60_000 },
    );
    const elapsedMs = performance.now() - started;
    const probes = await liveness.stop();

    for (const n of instances) {
      expect((await context.instance(`regex-${n}`))?.status).toBe('completed');
      expect((await context.instance(`pad-${n}`))?.status).toBe('failed');
    }
    expect((await context.instance('regex-match'))?.status).toBe('completed');
    const history = await context.service.get<unknown[]>('/instances/pad-0/history');
    expect(JSON.stringify(history)).toContain('exceeds the expression limits: $pad to width 100000000');
    // Eleven instances through Kafka and Postgres; the 5 s per expression of before would be a minute.
    expect(elapsedMs).toBeLessThan(30_000);
    // However short the run (it takes well under a second since results are group-committed), the probes
    // taken during it all answered, and quickly.
    expect(probes.length).toBeGreaterThan(0);
    expect(probes.filter((probe) => probe.status !== 200)).toEqual([]);
    expect(Math.max(...probes.map((probe) => probe.ms))).toBeLessThan(1_000);
  });
});
