import { scratchDatabase, waitFor } from '@keel/testing';
import { Registry } from 'prom-client';
import { checkpointCommits } from '../persistence/postgres-workflow-repositories';
import { pickThenSend } from './orchestration.fixture';
import { RuntimeFixture, ScriptedConnector } from './workflow-runtime.fixture';

/**
 * The workflow counters count what committed. A start whose transaction rolls back — as a consumer's run does
 * when a later record fails, before it is redone, and as a failed group commit does before its results are
 * applied one by one — counts nothing, and counts once when it commits.
 */
describe('workflow counters counted on commit', () => {
  // Two steps: the first result of an instance is applied in a transaction, the second on the state the worker
  // kept, in a statement outside one.
  const template = pickThenSend.name;
  const registry = new Registry();
  let fixture: RuntimeFixture;

  const counted = async (name: string, labels: Record<string, string>) => {
    const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
    const values = (metric?.values ?? []) as Array<{
      value: number;
      labels: Record<string, string | number>;
    }>;
    return values
      .filter((value) => Object.entries(labels).every(([key, label]) => value.labels[key] === label))
      .reduce((sum, value) => sum + value.value, 0);
  };
  const startIn = (instanceId: string, thenFail: boolean) =>
    fixture.dataSource.transaction(async (manager) => {
      await fixture.executor.startAll(manager, [
        {
          instanceId,
          workflow: template,
          input: {},
          owner: { caseId: instanceId, tenant: 'acme', correlationId: instanceId },
        },
      ]);
      if (thenFail) throw new Error('a later record of the run failed');
    });
  const completed = async () => {
    const [row] = await fixture.dataSource.query<Array<{ n: number }>>(
      `SELECT count(*)::int AS n FROM workflow.instances WHERE status = 'completed'`,
    );
    return row?.n ?? 0;
  };

  beforeAll(async () => {
    const connector = new ScriptedConnector(() => Promise.resolve({ outcome: 'succeeded', output: {} }));
    fixture = await RuntimeFixture.create(
      await scratchDatabase('keel_wf_counted'),
      [pickThenSend],
      [connector],
      {
        metricsRegistry: registry,
      },
    );
    // The subscriber the service installs (WorkflowRuntimeModule), here without waking a worker.
    fixture.dataSource.subscribers.push(checkpointCommits(() => undefined));
  });
  afterAll(() => fixture.close());

  it('counts a start once its transaction commits, and not a start that rolled back', async () => {
    await expect(startIn('c-1', true)).rejects.toThrow('a later record of the run failed');
    expect(await counted('keel_workflow_instances_started_total', { template })).toBe(0);

    await startIn('c-1', false);
    expect(await counted('keel_workflow_instances_started_total', { template })).toBe(1);

    // A redelivered start changes nothing and counts as ignored, once committed.
    await expect(startIn('c-1', true)).rejects.toThrow('a later record of the run failed');
    await startIn('c-1', false);
    expect(await counted('keel_workflow_instances_started_total', { template })).toBe(1);
    expect(
      await counted('keel_workflow_starts_ignored_total', {
        template,
        reason: 'already-started',
      }),
    ).toBe(1);
  });

  it('counts each instance the worker finishes once, in a transaction or on a kept state', async () => {
    for (const id of ['c-2', 'c-3']) await startIn(id, false);
    const started = await counted('keel_workflow_instances_started_total', { template });
    fixture.run();
    await waitFor(async () => (await completed()) === started, { what: 'every instance completed' });

    expect(await counted('keel_workflow_instances_finished_total', { template, status: 'completed' })).toBe(
      started,
    );
  });
});
