import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

/**
 * 1,000 five-step instances while the workflow service is SIGKILLed twice: every instance ends, no task's
 * side effect is lost or applied twice (the ledger applies once per idempotency key), each key is called at
 * most once more per crash, each step's result is applied once (transition log), nothing is stuck.
 */
describe('workflow service under SIGKILL', () => {
  const context = new WorkflowE2eContext(5);
  const instances = 1_000;
  const steps = ['one', 'two', 'three', 'four', 'five'];

  beforeAll(async () => {
    context.publishDefinitions((file) => file.startsWith('five-step'));
    await context.setUp();
  });

  afterAll(() => context.tearDown());

  const completed = async () => (await context.countByStatus()).completed ?? 0;

  it('finishes 1,000 instances with every task effect applied exactly once across two crashes', async () => {
    await context.service.start();
    await context.sendCommands(
      Array.from({ length: instances }, (_, n) => ({
        command: 'start' as const,
        instanceId: `order-${n}`,
        template: 'five-step',
        input: { n },
      })),
    );

    const thresholds = [150, 500];
    const crashes = thresholds.length;
    for (const threshold of thresholds) {
      await waitFor(async () => (await completed()) >= threshold, {
        timeoutMs: 240_000,
        what: `${threshold} completed`,
      });
      await context.service.kill();
      expect(await completed()).toBeLessThan(instances);
      await context.service.start();
    }
    await waitFor(async () => (await completed()) === instances, {
      timeoutMs: 300_000,
      intervalMs: 500,
      what: 'all completed',
    });

    expect(await context.countByStatus()).toEqual({ completed: instances });
    // Every task of every instance reached the ledger under its one key; no other key exists.
    const expectedKeys = new Set(
      Array.from({ length: instances }, (_, n) => steps.map((step) => `order-${n}:${step}:run1`)).flat(),
    );
    const appliedKeys = [...context.ledger.entries.keys()];
    expect(appliedKeys.length).toBe(expectedKeys.size);
    expect(appliedKeys.filter((key) => !expectedKeys.has(key))).toEqual([]);
    // Nothing is left waiting: no queued or running task, no armed timer.
    const [leftovers] = await context.query<{ tasks: number; timers: number }>(
      `SELECT (SELECT count(*)::int FROM workflow.tasks WHERE status IN ('pending', 'running')) AS tasks,
              (SELECT count(*)::int FROM workflow.timers WHERE status = 'scheduled') AS timers`,
    );
    expect(leftovers).toEqual({ tasks: 0, timers: 0 });
    // Each key is called once, plus at most one re-issue per crash (an attempt in flight when it hit).
    const calls = [...context.ledger.entries.values()].map((entry) => entry.calls);
    const histogram = calls.reduce<Record<number, number>>(
      (counts, n) => ({ ...counts, [n]: (counts[n] ?? 0) + 1 }),
      {},
    );
    expect(Math.max(...calls)).toBeLessThanOrEqual(1 + crashes);
    // The transition log applied each step's result once: one `task.succeeded` per instance and step.
    const [applied] = await context.query<{ results: number; repeated: number }>(
      `SELECT count(*)::int AS results, count(*) FILTER (WHERE n <> 1)::int AS repeated FROM (
         SELECT t.instance_id, e->>'stepId' AS step, count(*) AS n
         FROM workflow.transitions t, jsonb_array_elements(t.events) e
         WHERE e->>'transition' = 'task.succeeded'
         GROUP BY 1, 2) per_step`,
    );
    expect(applied).toEqual({ results: expectedKeys.size, repeated: 0 });
    const reissued = context.ledger.totalCalls() - appliedKeys.length;
    console.log(
      `crash test: ${appliedKeys.length} effects applied once, each step's result applied once in the transition log; ` +
        `${reissued} re-issued calls deduplicated by key; calls per key: ${JSON.stringify(histogram)}`,
    );
  });
});
