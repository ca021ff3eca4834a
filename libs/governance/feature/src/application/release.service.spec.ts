import { type Principal } from '@keel/access';
import { type CloudEvent, type ReleaseEvent, topics } from '@keel/contracts';
import {
  type ArtifactKind,
  type ArtifactVersion,
  GovernanceError,
  type Release,
  type ReleaseScope,
  emptyReleaseScope,
} from '@keel/governance-domain';
import { type OutboxWriter } from '@keel/messaging';
import type { EntityManager } from 'typeorm';
import { type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Releases } from '../persistence/releases.repository';
import { type Transactions } from '../persistence/transactions';
import { ReleaseService } from './release.service';

const manager = {} as EntityManager;
const hash = (digit: string) => digit.repeat(64);

class InMemoryVersions implements Pick<ArtifactVersions, 'get'> {
  constructor(
    private readonly versions: readonly Pick<ArtifactVersion, 'kind' | 'name' | 'version' | 'contentHash'>[],
  ) {}

  get(_manager: EntityManager, _tenant: string, kind: ArtifactKind, name: string, version: number) {
    const found = this.versions.find((v) => v.kind === kind && v.name === name && v.version === version);
    return Promise.resolve(found as ArtifactVersion | undefined);
  }
}

class InMemoryReleases implements Releases {
  scopes = new Map<string, ReleaseScope>();

  lockScope(_manager: EntityManager, tenant: string) {
    return Promise.resolve(this.scopes.get(tenant) ?? emptyReleaseScope(tenant));
  }

  save(_manager: EntityManager, scope: ReleaseScope) {
    this.scopes.set(scope.tenant, scope);
    return Promise.resolve();
  }

  list(_manager: EntityManager, tenant: string): Promise<Release[]> {
    return Promise.resolve(Object.values(this.scopes.get(tenant)?.releases ?? {}));
  }
}

function service() {
  const enqueued: CloudEvent<ReleaseEvent>[] = [];
  const outbox = {
    enqueue: (_manager: EntityManager, _topic: unknown, events: readonly CloudEvent<ReleaseEvent>[]) => {
      enqueued.push(...events);
      return Promise.resolve();
    },
  } as unknown as OutboxWriter;
  const transactions: Transactions = { run: (work) => work(manager) };
  const releases = new InMemoryReleases();
  const versions = new InMemoryVersions([
    { kind: 'agent-policy', name: 'agent', version: 1, contentHash: hash('a') },
    { kind: 'prompt', name: 'decide', version: 1, contentHash: hash('b') },
    { kind: 'guardrail-policy', name: 'guardrails', version: 1, contentHash: hash('c') },
    { kind: 'workflow-template', name: 'order-routing', version: 2, contentHash: hash('d') },
  ]) as unknown as ArtifactVersions;
  const releaseService = new ReleaseService({
    releases,
    versions,
    transactions,
    outbox,
    topics,
    source: 'urn:keel:governance',
    now: () => new Date('2026-12-01T10:00:00.000Z'),
  });
  return { releaseService, enqueued };
}

const alice: Principal = { subject: 'alice', tenant: 'acme', roles: ['operator'] };
const bob: Principal = { subject: 'bob', tenant: 'acme', roles: ['approver', 'operator'] };
const proposal = (id: string, templateVersion = 2) => ({
  id,
  agentPolicy: { name: 'agent', version: 1 },
  prompt: { name: 'decide', version: 1 },
  model: 'offline-planner@1',
  guardrailPolicy: { name: 'guardrails', version: 1 },
  workflowTemplates: [{ name: 'order-routing', version: templateVersion }],
});

async function toProduction(releaseService: ReleaseService, id: string): Promise<void> {
  await releaseService.propose(alice, proposal(id));
  await releaseService.step(alice, { type: 'submit', releaseId: id });
  await releaseService.step(bob, { type: 'approve', releaseId: id });
  await releaseService.step(bob, { type: 'promote', releaseId: id, stage: 'shadow' });
  await releaseService.step(bob, { type: 'promote', releaseId: id, stage: 'production' });
}

describe('ReleaseService', () => {
  it("names each chosen version with the registry's content hash", async () => {
    const { releaseService } = service();
    const release = await releaseService.propose(alice, proposal('r1'));
    expect(release).toMatchObject({ state: 'draft', author: 'alice', tenant: 'acme' });
    expect(release.contents.workflowTemplates).toEqual([
      { name: 'order-routing', version: 2, contentHash: hash('d') },
    ]);
  });

  it('refuses a version the registry does not hold, and records nothing', async () => {
    const { releaseService } = service();
    const refusal = await releaseService.propose(alice, proposal('r1', 9)).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GovernanceError);
    expect(refusal).toMatchObject({ code: 'unknown-version' });
    expect(await releaseService.list('acme')).toEqual([]);
  });

  it('enqueues promotion and rollback events on the releases topic, answering with the release in production', async () => {
    const { releaseService, enqueued } = service();
    await toProduction(releaseService, 'r1');
    await toProduction(releaseService, 'r2');
    enqueued.length = 0;
    const answered = await releaseService.step(bob, { type: 'rollback', reason: 'drift' });
    expect(answered).toMatchObject({ id: 'r1', state: 'production' });
    expect(enqueued.map((event) => `${event.type} ${event.subject} ${event.data.artifactKind}`)).toEqual([
      'keel.governance.release.rolled_back r2 agent-policy',
      'keel.governance.release.rolled_back r2 prompt',
      'keel.governance.release.rolled_back r2 guardrail-policy',
      'keel.governance.release.rolled_back r2 workflow-template',
      'keel.governance.release.promoted r1 agent-policy',
      'keel.governance.release.promoted r1 prompt',
      'keel.governance.release.promoted r1 guardrail-policy',
      'keel.governance.release.promoted r1 workflow-template',
    ]);
    expect(new Set(enqueued.map((event) => event.id)).size).toBe(enqueued.length);
    expect(enqueued[0]).toMatchObject({
      tenant: 'acme',
      source: 'urn:keel:governance',
      dataschema: topics.releases.dataschema,
    });
  });
});

describe('ReleaseService event order', () => {
  it("numbers each published step after the tenant's last, the same for every event of one step", async () => {
    const { releaseService, enqueued } = service();
    await toProduction(releaseService, 'r1');
    const shadowAndPromotion = enqueued.map((event) => event.data.release?.sequence);
    enqueued.length = 0;
    await toProduction(releaseService, 'r2');
    const second = enqueued.map((event) => event.data.release?.sequence);
    enqueued.length = 0;
    await releaseService.step(bob, { type: 'rollback', reason: 'drift' });
    const rollback = enqueued.map((event) => event.data.release?.sequence);
    // r1: draft, in-review, approved, shadow (4 steps) → 4; production → 5. r2 adds 5 more and retires r1.
    expect(shadowAndPromotion).toEqual([4, 4, 4, 4, 5, 5, 5, 5]);
    expect(second).toEqual([9, 9, 9, 9, 11, 11, 11, 11]);
    expect(rollback).toEqual(Array.from({ length: 8 }, () => 13));
  });
});
