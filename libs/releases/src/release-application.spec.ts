import { type CloudEvent, type ReleaseContents, type ReleaseEvent } from '@keel/contracts';
import type { EntityManager } from 'typeorm';
import { type AppliedReleases, type ReleaseState } from './applied-releases.repository';
import { contentHashOf } from './content-hash';
import { type ArtifactSource } from './governance-artifacts';
import { type AppliedRelease, type ArtifactKind, type ReleaseApplier } from './release';
import { ReleaseApplication } from './release-application';
import { ReleasesError } from './releases.error';

const manager = {} as EntityManager;

class InMemoryAppliedReleases implements AppliedReleases {
  readonly log: AppliedRelease[] = [];
  locks = 0;

  lock(): Promise<void> {
    this.locks += 1;
    return Promise.resolve();
  }

  state(_manager: EntityManager, tenant: string): Promise<ReleaseState> {
    const of = (stage: string) => this.log.filter((r) => r.tenant === tenant && r.stage === stage).at(-1);
    const production = of('production');
    const shadow = of('shadow');
    return Promise.resolve({
      appliedThrough: this.through(tenant),
      ...(production ? { production } : {}),
      ...(shadow && shadow.id !== production?.id ? { shadow } : {}),
    });
  }

  record(_manager: EntityManager, release: AppliedRelease): Promise<void> {
    this.log.push(release);
    return Promise.resolve();
  }

  appliedThrough(_manager: EntityManager, tenant: string): Promise<number> {
    return Promise.resolve(this.through(tenant));
  }

  private through(tenant: string): number {
    return Math.max(0, ...this.log.filter((r) => r.tenant === tenant).map((r) => r.sequence));
  }
}

const registry = new Map<string, unknown>([
  ['agent-policy/agent/1', { mode: 'production', limits: { maxSteps: 4 } }],
  ['prompt/decide/1', { system: 'decide' }],
  ['guardrail-policy/guardrails/1', { rules: [] }],
  ['workflow-template/order-routing/1', { name: 'order-routing', version: 1 }],
  ['workflow-template/order-routing/2', { name: 'order-routing', version: 2 }],
]);

class RegistrySource implements ArtifactSource {
  readonly calls: string[] = [];
  override: Record<string, unknown> = {};

  content(kind: ArtifactKind, name: string, version: number): Promise<unknown> {
    const key = `${kind}/${name}/${version}`;
    this.calls.push(key);
    if (key in this.override) return Promise.resolve(this.override[key]);
    if (!registry.has(key)) return Promise.reject(new ReleasesError('artifact-missing', key));
    return Promise.resolve(registry.get(key));
  }
}

const member = (kind: string, name: string, version: number) => ({
  name,
  version,
  contentHash: contentHashOf(registry.get(`${kind}/${name}/${version}`)),
});

const contentsWith = (templateVersion: number): ReleaseContents => ({
  agentPolicy: member('agent-policy', 'agent', 1),
  prompt: member('prompt', 'decide', 1),
  model: 'offline-planner@1',
  guardrailPolicy: member('guardrail-policy', 'guardrails', 1),
  workflowTemplates: [member('workflow-template', 'order-routing', templateVersion)],
});

let ids = 0;
function releaseEvents(
  id: string,
  contents: ReleaseContents,
  sequence: number,
  action: ReleaseEvent['action'] = 'promoted',
  stage: ReleaseEvent['stage'] = 'production',
  tenant = 'acme',
): CloudEvent<ReleaseEvent>[] {
  const members: Array<[ReleaseEvent['artifactKind'], { name: string; version: number; contentHash: string }]> = [
    ['agent-policy', contents.agentPolicy],
    ['prompt', contents.prompt],
    ['guardrail-policy', contents.guardrailPolicy],
    ...contents.workflowTemplates.map((t): [ReleaseEvent['artifactKind'], typeof t] => ['workflow-template', t]),
  ];
  return members.map(([artifactKind, version]) => ({
    specversion: '1.0',
    id: `event-${(ids += 1)}`,
    source: 'urn:keel:governance',
    type: `keel.governance.release.${action}`,
    time: '2026-12-01T12:00:00.000Z',
    subject: id,
    tenant,
    correlationid: id,
    idempotencykey: `event-${ids}`,
    datacontenttype: 'application/json',
    dataschema: 'keel.governance.release@1',
    data: {
      artifactKind,
      artifactName: version.name,
      version: version.version,
      contentHash: version.contentHash,
      action,
      stage,
      actor: 'bob',
      release: { id, tenant, contents, sequence },
    },
  }));
}

function setUp() {
  const repository = new InMemoryAppliedReleases();
  const source = new RegistrySource();
  const applied: Array<{ id: string; stage: string }> = [];
  const applier: ReleaseApplier = {
    apply: (_manager, release) => {
      applied.push({ id: release.id, stage: release.stage });
      return Promise.resolve();
    },
  };
  const application = new ReleaseApplication({
    tenant: 'acme',
    repository,
    artifacts: source,
    appliers: () => [applier],
    now: () => new Date('2026-12-01T12:00:01.000Z'),
  });
  const deliver = async (events: CloudEvent<ReleaseEvent>[]) => {
    const plans = [];
    for (const event of events) plans.push(await application.handle(manager, event));
    return plans.map((plan) => (plan.type === 'apply' ? `apply ${plan.release.id}` : plan.reason));
  };
  return { repository, source, applied, deliver };
}

describe('ReleaseApplication', () => {
  it("applies a promoted step once, from its first member's event, with every member's verified content", async () => {
    const { repository, source, applied, deliver } = setUp();
    expect(await deliver(releaseEvents('r1', contentsWith(1), 5))).toEqual([
      'apply r1',
      'already-applied',
      'already-applied',
      'already-applied',
    ]);
    expect(applied).toEqual([{ id: 'r1', stage: 'production' }]);
    expect(source.calls).toHaveLength(4);
    const [release] = repository.log;
    expect(release?.artifacts.map((a) => `${a.kind}/${a.name}@${a.version}`)).toEqual([
      'agent-policy/agent@1',
      'prompt/decide@1',
      'guardrail-policy/guardrails@1',
      'workflow-template/order-routing@1',
    ]);
    expect(release?.artifacts[3]?.content).toEqual({ name: 'order-routing', version: 1 });
  });

  it('applies a rollback as the re-activation of the previous release, and never goes back in sequence', async () => {
    const { repository, applied, deliver } = setUp();
    await deliver(releaseEvents('r1', contentsWith(1), 5));
    await deliver(releaseEvents('r2', contentsWith(2), 11));
    const rollback = [
      ...releaseEvents('r2', contentsWith(2), 13, 'rolled_back'),
      ...releaseEvents('r1', contentsWith(1), 13),
    ];
    expect(await deliver(rollback)).toEqual([
      ...Array.from({ length: 4 }, () => 'rolled-back-notice'),
      'apply r1',
      ...Array.from({ length: 3 }, () => 'already-applied'),
    ]);
    // A late redelivery of r2's promotion changes nothing.
    expect(await deliver(releaseEvents('r2', contentsWith(2), 11).slice(0, 1))).toEqual(['already-applied']);
    expect(applied.map((step) => step.id)).toEqual(['r1', 'r2', 'r1']);
    expect((await repository.state(manager, 'acme')).production).toMatchObject({ id: 'r1', sequence: 13 });
  });

  it('keeps shadow apart from production', async () => {
    const { repository, deliver } = setUp();
    await deliver(releaseEvents('r1', contentsWith(1), 5));
    await deliver(releaseEvents('r2', contentsWith(2), 9, 'promoted', 'shadow'));
    const state = await repository.state(manager, 'acme');
    expect([state.production?.id, state.shadow?.id]).toEqual(['r1', 'r2']);
  });

  it('refuses a release whose content does not match the approved hash, recording nothing', async () => {
    const { repository, source, applied, deliver } = setUp();
    source.override['workflow-template/order-routing/2'] = { name: 'order-routing', version: 2, tampered: true };
    const failure = await deliver(releaseEvents('r2', contentsWith(2), 5)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReleasesError);
    expect(failure).toMatchObject({ code: 'hash-mismatch', consumerHandling: 'dead-letter' });
    expect(applied).toEqual([]);
    expect(repository.log).toEqual([]);
  });

  it("ignores another tenant's releases without reading its own state", async () => {
    const { repository, source, deliver } = setUp();
    expect(await deliver(releaseEvents('g1', contentsWith(1), 3, 'promoted', 'production', 'globex'))).toEqual(
      Array.from({ length: 4 }, () => 'other-tenant'),
    );
    expect([repository.locks, source.calls.length]).toEqual([0, 0]);
  });
});
