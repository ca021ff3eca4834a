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
    // Every task of every instance reached the ledger under its one key and no other key exists; nothing is
    // left waiting (no queued or running task, no armed timer); the transition log applied each step's
    // result once (one `task.succeeded` per instance and step).
    const report = await context.exactlyOnceReport('order', instances, steps);
    expect(report).toMatchObject({
      appliedKeys: report.expectedKeys,
      unexpectedKeys: [],
      leftovers: { tasks: 0, timers: 0 },
      results: { results: report.expectedKeys, repeated: 0 },
    });
    // Each key is called once, plus at most one re-issue per crash (an attempt in flight when it hit).
    expect(report.maxCallsPerKey).toBeLessThanOrEqual(1 + crashes);
    console.log(
      `crash test: ${report.appliedKeys} effects applied once, each step's result applied once in the transition log; ` +
        `${report.reissued} re-issued calls deduplicated by key; calls per key: ${JSON.stringify(report.callsPerKey)}`,
    );
  });
});
