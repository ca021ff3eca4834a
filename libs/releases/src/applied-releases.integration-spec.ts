import { type CloudEvent, type ReleaseContents, type ReleaseEvent } from '@keel/contracts';
import { dropSchema, schemaDataSource, uniqueName } from '@keel/testing';
import { Registry } from 'prom-client';
import type { DataSource } from 'typeorm';
import { PostgresAppliedReleases } from './applied-releases.repository';
import { contentHashOf } from './content-hash';
import { CurrentRelease } from './current-release';
import { type ArtifactSource } from './governance-artifacts';
import { ReleaseApplication } from './release-application';
import { releasesTablesMigration } from './releases-tables.migration';
import { createReleasesMetrics } from './releases.metrics';

const template = (version: number) => ({ name: 'demo', version });
const content: Record<string, unknown> = {
  'agent-policy/agent/1': { mode: 'production' },
  'prompt/decide/1': { system: 'decide' },
  'guardrail-policy/guardrails/1': { rules: [] },
  'workflow-template/demo/1': template(1),
  'workflow-template/demo/2': template(2),
};
const source: ArtifactSource = {
  content: (kind, name, version) => Promise.resolve(content[`${kind}/${name}/${version}`]),
};
const member = (key: string, name: string, version: number) => ({
  name,
  version,
  contentHash: contentHashOf(content[key]),
});
const contents = (templateVersion: number): ReleaseContents => ({
  agentPolicy: member('agent-policy/agent/1', 'agent', 1),
  prompt: member('prompt/decide/1', 'decide', 1),
  model: 'offline-planner@1',
  guardrailPolicy: member('guardrail-policy/guardrails/1', 'guardrails', 1),
  workflowTemplates: [member(`workflow-template/demo/${templateVersion}`, 'demo', templateVersion)],
});

let ids = 0;
const event = (
  id: string,
  templateVersion: number,
  sequence: number,
  stage: ReleaseEvent['stage'] = 'production',
  action: ReleaseEvent['action'] = 'promoted',
) =>
  ({
    id: `e${(ids += 1)}`,
    tenant: 'acme',
    data: {
      artifactKind: 'agent-policy',
      artifactName: 'agent',
      version: 1,
      contentHash: contents(templateVersion).agentPolicy.contentHash,
      action,
      stage,
      actor: 'bob',
      release: { id, tenant: 'acme', contents: contents(templateVersion), sequence },
    },
  }) as CloudEvent<ReleaseEvent>;

/**
 * The releases tables on real Postgres, shared by two replicas: one applies (in its transaction), the other
 * follows by refreshing; a new process resumes what is in force from the tables alone.
 */
describe('applied releases in Postgres', () => {
  const schema = uniqueName('releases');
  let dataSource: DataSource;
  const repository = new PostgresAppliedReleases(schema);
  const replica = () =>
    new CurrentRelease({
      tenant: 'acme',
      repository,
      manager: dataSource.manager,
      metrics: createReleasesMetrics(new Registry()),
    });
  const application = new ReleaseApplication({
    tenant: 'acme',
    repository,
    artifacts: source,
    appliers: () => [],
    now: () => new Date('2026-12-01T12:00:00.000Z'),
  });
  const apply = (events: CloudEvent<ReleaseEvent>[]) =>
    dataSource.transaction(async (manager) => {
      const outcomes = [];
      for (const delivered of events) {
        const plan = await application.handle(manager, delivered);
        outcomes.push(plan.type === 'apply' ? `apply ${plan.release.id}@${plan.stage}` : plan.reason);
      }
      return outcomes;
    });

  beforeAll(async () => {
    dataSource = await schemaDataSource(schema, [releasesTablesMigration(schema)]);
  });

  afterAll(async () => {
    await dropSchema(dataSource, schema);
    await dataSource.destroy();
  });

  it('keeps each stage in force, follows on another replica, and resumes after a restart', async () => {
    const follower = replica();
    expect(await follower.refresh()).toEqual({});

    expect(await apply([event('r1', 1, 4, 'shadow'), event('r1', 1, 5), event('r1', 1, 5)])).toEqual([
      'apply r1@shadow',
      'apply r1@production',
      'already-applied',
    ]);
    expect(await apply([event('r2', 2, 9, 'shadow')])).toEqual(['apply r2@shadow']);
    const followed = await follower.refresh();
    expect([followed.production?.id, followed.shadow?.id]).toEqual(['r1', 'r2']);
    expect(followed.production?.artifacts.find((a) => a.kind === 'workflow-template')?.content).toEqual(
      template(1),
    );

    // r2 reaches production (and leaves shadow); the rollback re-activates r1 in one step.
    expect(await apply([event('r2', 2, 11)])).toEqual(['apply r2@production']);
    expect(await apply([event('r2', 2, 13, 'production', 'rolled_back'), event('r1', 1, 13)])).toEqual([
      'rolled-back-notice',
      'apply r1@production',
    ]);
    // A replay of an old step changes nothing.
    expect(await apply([event('r2', 2, 11)])).toEqual(['already-applied']);

    const restarted = replica();
    const resumed = await restarted.refresh();
    expect(resumed.production).toMatchObject({ id: 'r1', sequence: 13, stage: 'production' });
    expect(resumed.shadow).toBeUndefined();
    expect(restarted.health()).toMatchObject({ production: { id: 'r1', sequence: 13 }, shadow: null });
    const steps = await dataSource.query<Array<{ step: string }>>(
      `SELECT release_id || '@' || stage || '#' || sequence AS step FROM "${schema}".release_applications ORDER BY sequence`,
    );
    expect(steps.map((row) => row.step)).toEqual([
      'r1@shadow#4',
      'r1@production#5',
      'r2@shadow#9',
      'r2@production#11',
      'r1@production#13',
    ]);
  });
});
