import { workflow } from '@keel/workflow-engine';
import { orchestration, pickThenSend } from './orchestration.fixture';

const book = workflow('book', 1)
  .task('reserve', {
    connector: { type: 'http', service: 'carrier', method: 'POST', path: '/reserve' },
    retry: { maxAttempts: 2, initialDelayMs: 1_000 },
    startToCloseMs: 5_000,
    next: 'done',
  })
  .end('done')
  .build();

/** The parts of one checkpoint statement over the in-memory fakes, in the order they take effect. */
const checkpointOf = (ids: string) => [
  `instances.update(${ids})`,
  `tasks.finish(${ids})`,
  `transitions.append(${ids})`,
  `timers.cancelAll(${ids})`,
  `tasks.abandonQueued(${ids})`,
];

/** Ticks until nothing is left in flight: a group a tick starts may commit during a later one. */
async function tickUntilIdle(worker: { tick(): Promise<boolean> }): Promise<void> {
  while (await worker.tick());
}

describe('TaskWorker over in-memory repositories', () => {
  it("claims a queued attempt, calls its connector with the attempt's key and budget, and applies the result in the transaction that finishes it", async () => {
    const { repositories, worker, calls, start, transactions } = orchestration([book]);
    await start('b-1', 'book');
    repositories.calls.length = 0;
    const opened = transactions.opened;

    // True while the group runs, or its applied result may have queued the next attempt.
    expect(await worker.tick()).toBe(true);
    await tickUntilIdle(worker);

    expect(calls).toEqual([
      expect.objectContaining({
        idempotencyKey: repositories.taskRows[0]?.idempotencyKey,
        workflow: 'book',
        caseId: 'case-1',
        tenant: 'acme',
        correlationId: 'corr-1',
      }),
    ]);
    expect(calls[0]?.timeoutMs).toBeLessThanOrEqual(5_000);
    expect(calls[0]?.timeoutMs).toBeGreaterThan(4_000);
    // Its state not kept, one transaction for the result: the instance locked first, then one checkpoint that
    // also marks the attempt done and claims attempts for the free slots.
    expect(transactions.opened).toBe(opened + 1);
    expect(repositories.calls).toEqual([
      'tasks.claim()',
      'instances.kept(b-1)',
      'instances.lock(b-1)',
      ...checkpointOf('b-1'),
      'tasks.claim()',
    ]);
    expect(repositories.instanceRows.get('b-1')?.state.status).toBe('completed');
    expect(repositories.taskRows.map((task) => task.status)).toEqual(['done']);
    expect(await worker.tick()).toBe(false);
  });

  it('applies the results that came together in one transaction: every instance locked at once, in id order, each table written once', async () => {
    const { repositories, worker, start, transactions } = orchestration([book]);
    for (const id of ['b-2', 'b-1', 'b-3']) await start(id, 'book');
    repositories.calls.length = 0;
    const opened = transactions.opened;

    await tickUntilIdle(worker);

    expect(transactions.opened).toBe(opened + 1);
    expect(repositories.calls).toEqual([
      'tasks.claim()',
      'instances.kept(b-2,b-1,b-3)',
      'instances.lock(b-1,b-2,b-3)',
      ...checkpointOf('b-2,b-1,b-3'),
      'tasks.claim()',
    ]);
    expect([...repositories.instanceRows.values()].map((row) => row.state.status)).toEqual([
      'completed',
      'completed',
      'completed',
    ]);
  });

  it('applies each result of a group alone when the group cannot be applied, keeping the error of the one that failed', async () => {
    const { repositories, worker, start, transactions } = orchestration([book]);
    for (const id of ['b-1', 'b-2']) await start(id, 'book');
    // Gone before its result comes (as if deleted underneath): the group fails on it, b-1 still completes.
    const claim = repositories.tasks.claim.bind(repositories.tasks);
    repositories.tasks.claim = async (...args) => {
      const claimed = await claim(...args);
      repositories.instanceRows.delete('b-2');
      return claimed;
    };
    const opened = transactions.opened;

    await expect(tickUntilIdle(worker)).rejects.toMatchObject({ code: 'unknown-instance' });

    expect(transactions.opened).toBe(opened + 3);
    expect(repositories.instanceRows.get('b-1')?.state.status).toBe('completed');
    expect(repositories.taskRows.map(({ instanceId, status }) => ({ instanceId, status }))).toEqual([
      { instanceId: 'b-1', status: 'done' },
      // Still running: its lease runs out and the poller times it out, as for a crashed worker.
      { instanceId: 'b-2', status: 'running' },
    ]);
  });

  it('queues the retry of a failed attempt and marks the failed one done', async () => {
    const { repositories, worker, start } = orchestration([book], () =>
      Promise.resolve({
        outcome: 'failed',
        error: 'carrier answered 503',
        retryable: true,
      }),
    );
    await start('b-1', 'book');

    await tickUntilIdle(worker);

    expect(repositories.taskRows.map(({ attempt, status }) => ({ attempt, status }))).toEqual([
      { attempt: 1, status: 'done' },
    ]);
    // The back-off is a timer: the next attempt is queued when it fires.
    expect([...repositories.timerRows.values()]).toMatchObject([{ instanceId: 'b-1', status: 'scheduled' }]);
  });

  it("claims an instance's next step in the checkpoint that queues it, so the instances under way finish before queued ones start", async () => {
    const { repositories, worker, start, calls, transactions } = orchestration([pickThenSend], undefined, 1);
    for (const id of ['s-1', 's-2']) await start(id, 'pick-then-send');
    repositories.calls.length = 0;
    const opened = transactions.opened;

    await tickUntilIdle(worker);

    // One slot: s-1's second step runs before s-2's first, though s-2's was queued earlier.
    expect(calls.map(({ idempotencyKey }) => idempotencyKey.split(':').slice(0, 2).join(':'))).toEqual([
      's-1:pick',
      's-1:send',
      's-2:pick',
      's-2:send',
    ]);
    // A transaction per result, and no claim of older attempts between the steps of an instance (the
    // checkpoint that queued the next step claimed it): only the worker's first, and those of the checkpoints
    // that finished s-1 (it took s-2's first step) and s-2.
    expect(transactions.opened).toBe(opened + 4);
    expect(repositories.calls.filter((call) => call === 'tasks.claim()')).toHaveLength(3);
    expect(repositories.taskRows.every(({ status }) => status === 'done')).toBe(true);
  });

  it('applies a result on the state this process committed without a transaction: one checkpoint expecting its seq', async () => {
    const { repositories, worker, start, transactions } = orchestration([book]);
    await start('b-1', 'book');
    repositories.keepCommitted('b-1');
    repositories.calls.length = 0;
    const opened = transactions.opened;

    await tickUntilIdle(worker);

    expect(transactions.opened).toBe(opened);
    expect(repositories.calls).toEqual([
      'tasks.claim()',
      'instances.kept(b-1)',
      'checkpoints.expect(b-1)',
      ...checkpointOf('b-1'),
      'tasks.claim()',
    ]);
    expect(repositories.instanceRows.get('b-1')?.state.status).toBe('completed');
  });
});
