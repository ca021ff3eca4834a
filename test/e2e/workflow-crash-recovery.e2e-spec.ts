import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

const steps = ['one', 'two', 'three', 'four', 'five'];

/** A workflow service on its own namespace and database with the five-step template, for the test file. */
function fiveStepService(ledgerDelayMs: number): WorkflowE2eContext {
  const context = new WorkflowE2eContext(ledgerDelayMs);
  beforeAll(async () => {
    context.publishDefinitions((file) => file.startsWith('five-step'));
    await context.setUp();
  });
  afterAll(() => context.tearDown());
  return context;
}

/** Starts `instances` five-step instances `<prefix>-<n>` in one burst of commands. */
function startBurst(context: WorkflowE2eContext, prefix: string, instances: number): Promise<void> {
  return context.sendCommands(
    Array.from({ length: instances }, (_, n) => ({
      command: 'start' as const,
      instanceId: `${prefix}-${n}`,
      template: 'five-step',
      input: { n },
    })),
  );
}

/**
 * Every instance completed; every task of every instance reached the ledger under its one key and no other
 * key exists; nothing is left waiting (no queued or running task, no armed timer); the transition log applied
 * each step's result once; each key was called at most `maxCallsPerKey` times (an attempt in flight at a
 * crash is re-issued once).
 */
async function expectEachEffectOnce(
  context: WorkflowE2eContext,
  prefix: string,
  instances: number,
  maxCallsPerKey: number,
) {
  expect(await context.countByStatus()).toEqual({ completed: instances });
  const report = await context.exactlyOnceReport(prefix, instances, steps);
  expect(report).toMatchObject({
    appliedKeys: report.expectedKeys,
    unexpectedKeys: [],
    leftovers: { tasks: 0, timers: 0 },
    results: { results: report.expectedKeys, repeated: 0 },
  });
  expect(report.maxCallsPerKey).toBeLessThanOrEqual(maxCallsPerKey);
  return report;
}

/**
 * 1,000 five-step instances while the workflow service is SIGKILLed twice: every instance ends, no task's
 * side effect is lost or applied twice (the ledger applies once per idempotency key), each key is called at
 * most once more per crash, each step's result is applied once (transition log), nothing is stuck.
 */
describe('workflow service under SIGKILL', () => {
  const context = fiveStepService(5);
  const instances = 1_000;
  const completed = async () => (await context.countByStatus()).completed ?? 0;

  it('finishes 1,000 instances with every task effect applied exactly once across two crashes', async () => {
    await context.service.start();
    await startBurst(context, 'order', instances);
    const thresholds = [150, 500];
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
    const report = await expectEachEffectOnce(context, 'order', instances, 1 + thresholds.length);
    console.log(
      `crash test: ${report.appliedKeys} effects applied once, each step's result applied once in the transition log; ` +
        `${report.reissued} re-issued calls deduplicated by key; calls per key: ${JSON.stringify(report.callsPerKey)}`,
    );
  });
});

/**
 * The workflow service SIGKILLed in the middle of a burst at the rate the throughput bench measures (the
 * same five-step template, a far side that answers at once, the default task concurrency, starts applied
 * as runs and results by group commit): after the restart every instance completes, every step's side
 * effect reached the ledger exactly once under its key, each key was called at most once more (an attempt
 * in flight when the process died), and each step's result is in the transition log once.
 */
describe('workflow service SIGKILLed mid-burst at the bench rate', () => {
  const context = fiveStepService(0);
  const instances = 2_000;
  const completed = async () => (await context.countByStatus()).completed ?? 0;

  it('completes every instance with every effect applied exactly once after a crash mid-burst', async () => {
    await context.service.start();
    await startBurst(context, 'burst', instances);
    await waitFor(async () => (await completed()) >= instances / 4, {
      timeoutMs: 120_000,
      intervalMs: 50,
      what: `${instances / 4} completed`,
    });
    // The rate since the first start was applied (the consumer group's join before it is not the service's).
    const [progress] = await context.query<{ completed: number; rate: number }>(
      `SELECT count(*) FILTER (WHERE status = 'completed')::int AS completed,
              count(*) FILTER (WHERE status = 'completed') / extract(epoch FROM now() - min(created_at))::float AS rate
       FROM workflow.instances`,
    );
    await context.service.kill();
    const atCrash = await context.countByStatus();
    expect(atCrash.completed ?? 0).toBeLessThan(instances);
    // Attempts in flight at the kill stay running until their lease (start-to-close + grace) runs out.
    const [inFlight] = await context.query<{ running: number }>(
      `SELECT count(*)::int AS running FROM workflow.tasks WHERE status = 'running'`,
    );
    await context.service.start();
    await waitFor(async () => (await completed()) === instances, {
      timeoutMs: 180_000,
      intervalMs: 250,
      what: 'all completed',
    });

    const report = await expectEachEffectOnce(context, 'burst', instances, 2);
    console.log(
      `crash at rate: killed at ${progress?.completed} of ${instances} completed (${progress?.rate.toFixed(0)} instances/s until ` +
        `then; ${JSON.stringify(atCrash)}, ${inFlight?.running ?? 0} attempts running); after the restart ` +
        `${report.appliedKeys} effects applied once, ${report.reissued} re-issued calls deduplicated by key, ` +
        `calls per key ${JSON.stringify(report.callsPerKey)}`,
    );
  });
});
