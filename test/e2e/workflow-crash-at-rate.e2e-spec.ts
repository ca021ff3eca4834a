import { waitFor } from '@keel/testing';
import { WorkflowE2eContext } from './fixtures/workflow-e2e.context';

/**
 * The workflow service SIGKILLed in the middle of a burst at the rate the throughput bench measures (the
 * same five-step template, a far side that answers at once, the default task concurrency, starts applied
 * as runs and results by group commit): after the restart every instance completes, every step's side
 * effect reached the ledger exactly once under its key, each key was called at most once more (an attempt
 * in flight when the process died), and each step's result is in the transition log once.
 */
describe('workflow service SIGKILLed mid-burst at the bench rate', () => {
  const context = new WorkflowE2eContext(0);
  const instances = 2_000;
  const steps = ['one', 'two', 'three', 'four', 'five'];

  beforeAll(async () => {
    context.publishDefinitions((file) => file.startsWith('five-step'));
    await context.setUp();
  });

  afterAll(() => context.tearDown());

  const completed = async () => (await context.countByStatus()).completed ?? 0;

  it('completes every instance with every effect applied exactly once after a crash mid-burst', async () => {
    await context.service.start();
    await context.sendCommands(
      Array.from({ length: instances }, (_, n) => ({
        command: 'start' as const,
        instanceId: `burst-${n}`,
        template: 'five-step',
        input: { n },
      })),
    );
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

    expect(await context.countByStatus()).toEqual({ completed: instances });
    const report = await context.exactlyOnceReport('burst', instances, steps);
    expect(report).toMatchObject({
      appliedKeys: report.expectedKeys,
      unexpectedKeys: [],
      leftovers: { tasks: 0, timers: 0 },
      results: { results: report.expectedKeys, repeated: 0 },
    });
    expect(report.maxCallsPerKey).toBeLessThanOrEqual(2);
    console.log(
      `crash at rate: killed at ${progress?.completed} of ${instances} completed (${progress?.rate.toFixed(0)} instances/s until ` +
        `then; ${JSON.stringify(atCrash)}, ${inFlight?.running ?? 0} attempts running); after the restart ` +
        `${report.appliedKeys} effects applied once, ${report.reissued} re-issued calls deduplicated by key, ` +
        `calls per key ${JSON.stringify(report.callsPerKey)}`,
    );
  });
});
