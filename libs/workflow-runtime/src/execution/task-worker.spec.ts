import { workflow } from '@keel/workflow-engine';
import { orchestration } from './orchestration.fixture';

const book = workflow('book', 1)
  .task('reserve', {
    connector: { type: 'http', service: 'carrier', method: 'POST', path: '/reserve' },
    retry: { maxAttempts: 2, initialDelayMs: 1_000 },
    startToCloseMs: 5_000,
    next: 'done',
  })
  .end('done')
  .build();

describe('TaskWorker over in-memory repositories', () => {
  it("claims a queued attempt, calls its connector with the attempt's key and budget, and applies the result in the transaction that finishes it", async () => {
    const { repositories, worker, calls, start, transactions } = orchestration([book]);
    await start('b-1', 'book');
    repositories.calls.length = 0;
    const opened = transactions.opened;

    expect(await worker.tick()).toBe(false);

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
    // One transaction for the result: the instance locked first, the attempt marked done last.
    expect(transactions.opened).toBe(opened + 1);
    expect(repositories.calls).toEqual([
      'tasks.claim()',
      'instances.lock(b-1)',
      'instances.update(b-1)',
      'transitions.append(b-1)',
      'timers.cancelAll(b-1)',
      'tasks.abandonQueued(b-1)',
      'tasks.finish(b-1)',
    ]);
    expect(repositories.instanceRows.get('b-1')?.state.status).toBe('completed');
    expect(repositories.taskRows.map((task) => task.status)).toEqual(['done']);
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

    await worker.tick();

    expect(repositories.taskRows.map(({ attempt, status }) => ({ attempt, status }))).toEqual([
      { attempt: 1, status: 'done' },
    ]);
    // The back-off is a timer: the next attempt is queued when it fires.
    expect([...repositories.timerRows.values()]).toMatchObject([{ instanceId: 'b-1', status: 'scheduled' }]);
  });
});
