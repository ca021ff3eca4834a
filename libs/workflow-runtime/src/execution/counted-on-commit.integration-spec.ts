import { scratchDatabase, waitFor } from '@keel/testing';
import { workflow } from '@keel/workflow-engine';
import { Registry } from 'prom-client';
import type { EntitySubscriberInterface } from 'typeorm';
import { endCheckpoints } from '../persistence/postgres-workflow-repositories';
import { RuntimeFixture, ScriptedConnector } from './workflow-runtime.fixture';

/**
 * The workflow counters count what committed: a start whose transaction rolls back (a consumer's run that
 * failed further on, and is redone) counts nothing, and counts once when it is redone and commits.
 */
describe('workflow counters counted on commit', () => {
  const oneStep = workflow('one-step', 1)
    .task('work', {
      connector: { type: 'http', service: 'svc', method: 'POST', path: '/work' },
      next: 'done',
    })
    .end('done')
    .build();
  // The service's own commit subscriber (WorkflowRuntimeModule) ends each transaction's checkpoints so.
  const commits: EntitySubscriberInterface = {
    afterTransactionCommit: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) endCheckpoints(queryRunner, true);
    },
    afterTransactionRollback: ({ queryRunner }) => {
      if (!queryRunner.isTransactionActive) endCheckpoints(queryRunner, false);
    },
  };
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
          workflow: 'one-step',
          input: {},
          owner: { caseId: instanceId, tenant: 'acme', correlationId: instanceId },
        },
      ]);
      if (thenFail) throw new Error('a later record of the run failed');
    });

  beforeAll(async () => {
    const connector = new ScriptedConnector(() => Promise.resolve({ outcome: 'succeeded', output: {} }));
    fixture = await RuntimeFixture.create(await scratchDatabase('keel_wf_counted'), [oneStep], [connector], {
      metricsRegistry: registry,
    });
    fixture.dataSource.subscribers.push(commits);
  });
  afterAll(() => fixture.close());

  it('counts a start once its transaction commits, and not a start that rolled back', async () => {
    await expect(startIn('c-1', true)).rejects.toThrow('a later record of the run failed');
    expect(await counted('keel_workflow_instances_started_total', { template: 'one-step' })).toBe(0);

    await startIn('c-1', false);
    expect(await counted('keel_workflow_instances_started_total', { template: 'one-step' })).toBe(1);

    // A redelivered start changes nothing and counts as ignored, once committed.
    await expect(startIn('c-1', true)).rejects.toThrow('a later record of the run failed');
    await startIn('c-1', false);
    expect(await counted('keel_workflow_instances_started_total', { template: 'one-step' })).toBe(1);
    expect(
      await counted('keel_workflow_starts_ignored_total', {
        template: 'one-step',
        reason: 'already-started',
      }),
    ).toBe(1);
  });

  it('counts an instance finished by the worker once', async () => {
    await startIn('c-2', false);
    fixture.run();
    await waitFor(
      async () => (await counted('keel_workflow_instances_finished_total', { template: 'one-step' })) === 2,
      { what: 'both instances finished' },
    );
    expect(
      await counted('keel_workflow_instances_finished_total', { template: 'one-step', status: 'completed' }),
    ).toBe(2);
  });
});
