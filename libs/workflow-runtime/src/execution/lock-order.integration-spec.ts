import { scratchDatabase } from '@keel/testing';
import { workflow } from '@keel/workflow-engine';
import { RuntimeFixture, ScriptedConnector, sleep } from './workflow-runtime.fixture';

/**
 * Every path that changes an instance takes the instance row first, then its tasks and timers: the task
 * worker applying a result, the timer poller firing a timer (and timing out attempts), the inbox and the API
 * applying a cancel. Raced on one instance, they serialise instead of deadlocking.
 */
describe('one lock order: instance, then tasks and timers', () => {
  // `prepare` (compensable) runs first; then a task and a due timer are both outstanding when the cancel comes.
  const raced = workflow('raced', 1)
    .task('prepare', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/prepare' },
      compensate: { type: 'http', service: 'svc', method: 'DELETE', path: '/prepare' },
      retry: { maxAttempts: 1 },
      next: 'fan',
    })
    .parallel('fan', {
      branches: [
        (branch) =>
          branch
            .task('work', {
              connector: { type: 'http', service: 'svc', method: 'POST', path: '/work' },
              retry: { maxAttempts: 1 },
              next: 'worked',
            })
            .end('worked'),
        (branch) => branch.wait('pause', { durationMs: 1, next: 'paused' }).end('paused'),
      ],
      next: 'done',
    })
    .end('done')
    .build();
  const rounds = 1_000;
  const batch = 50;
  const connector = new ScriptedConnector(async () => {
    await sleep(Math.floor(Math.random() * 3));
    return { outcome: 'succeeded', output: {} };
  });
  let fixture: RuntimeFixture;

  beforeAll(async () => {
    fixture = await RuntimeFixture.create(await scratchDatabase('keel_wf_runtime'), [raced], [connector], {
      concurrency: batch,
      poolSize: 30,
    });
  });
  afterAll(() => fixture.close());

  const deadlocked = (error: unknown) => (error as { code?: string } | undefined)?.code === '40P01';

  async function drain(
    ids: readonly string[],
    until: (status: string | undefined) => boolean,
  ): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const statuses = await fixture.dataSource.query<Array<{ id: string; status: string; at_fan: boolean }>>(
        `SELECT id, status, state->'executions'->'work' IS NOT NULL AS at_fan FROM workflow.instances WHERE id = ANY($1)`,
        [ids],
      );
      if (statuses.every((row) => until(row.at_fan ? `fan:${row.status}` : row.status))) return;
      if (Date.now() > deadline) throw new Error('instances did not settle');
      await Promise.all([fixture.worker.tick(), fixture.poller.tick()]);
    }
  }

  it(`races cancel, task completion and timer firing on one instance ${rounds} times: no deadlock, no duplicate call`, async () => {
    const failures: unknown[] = [];
    const record = (error: unknown) => {
      failures.push(error);
    };
    for (let first = 0; first < rounds; first += batch) {
      const ids = Array.from({ length: batch }, (_, n) => `race-${first + n}`);
      await Promise.all(ids.map((id) => fixture.start(id, 'raced')));
      // Up to the parallel step: `work` queued, `pause`'s timer due.
      await drain(ids, (status) => status?.startsWith('fan:') === true);
      await sleep(2);
      await Promise.all([
        fixture.worker.tick().catch(record),
        fixture.poller.tick().catch(record),
        // Jittered over the time the poller takes for a batch, so each of the three is sometimes first.
        ...ids.map((id) =>
          sleep(Math.floor(Math.random() * 60))
            .then(() => fixture.apply(id, { type: 'cancel', reason: 'race' }))
            .catch(record),
        ),
      ]);
      await drain(ids, (status) => ['fan:completed', 'fan:cancelled', 'fan:failed'].includes(status ?? ''));
    }

    expect(failures.filter(deadlocked)).toEqual([]);
    expect(failures).toEqual([]);
    const perKey = new Map<string, number>();
    for (const call of connector.calls)
      perKey.set(call.idempotencyKey, (perKey.get(call.idempotencyKey) ?? 0) + 1);
    const duplicates = [...perKey].filter(([, count]) => count > 1);
    expect(duplicates).toEqual([]);
    const statuses = await fixture.dataSource.query<Array<{ status: string; n: number }>>(
      `SELECT status, count(*)::int AS n FROM workflow.instances GROUP BY status ORDER BY status`,
    );
    // Every instance ended; the cancel won unless the task and the timer both beat it.
    expect(statuses.reduce((sum, row) => sum + row.n, 0)).toBe(rounds);
    expect(statuses.every((row) => ['cancelled', 'completed'].includes(row.status))).toBe(true);
    // Each cancelled instance undid `prepare` once.
    const cancelled = statuses.find((row) => row.status === 'cancelled')?.n ?? 0;
    expect(connector.calls.filter((call) => call.method === 'DELETE')).toHaveLength(cancelled);
    console.log(`lock order: ${rounds} races, ${JSON.stringify(statuses)}, ${connector.calls.length} calls`);
  });
});
