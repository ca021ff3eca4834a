import { type Principal } from '@keel/access';
import { type CloudEvent, type DecisionRecord, type ReleaseContents, topics } from '@keel/contracts';
import { currentArtifacts } from '@keel/decisioning-domain';
import {
  type ArtifactKind,
  type ArtifactVersion,
  GovernanceError,
  type Release,
  type ReleaseScope,
} from '@keel/governance-domain';
import { type OutboxWriter } from '@keel/messaging';
import { Registry } from 'prom-client';
import type { EntityManager } from 'typeorm';
import { type AuditService } from '../application/audit.service';
import { ReleaseService } from '../application/release.service';
import { type ArtifactVersions } from '../persistence/artifact-versions.repository';
import { type Releases } from '../persistence/releases.repository';
import { type Transactions } from '../persistence/transactions';
import { DriftMonitor } from './drift-monitor.service';
import { type DriftEvaluation, type DriftEvaluations } from './persistence/drift-evaluations.repository';
import {
  type DecisionQuery,
  type RecordedDecision,
  type RecordedDecisions,
} from './persistence/recorded-decisions.repository';
import { governanceQualityConfigSchema } from './quality.config';
import { createQualityMetrics } from './quality.metrics';
import { decide, orderCreated, orderWithoutAddress } from './testing/recorded-decisions';

const manager = {} as EntityManager;
const hash = (digit: string) => digit.repeat(64);
const promotedAt = '2026-12-01T10:00:00.000Z';

function contents(quality?: ReleaseContents['quality']): ReleaseContents {
  return {
    agentPolicy: { name: 'support-agent', version: 1, contentHash: hash('a') },
    prompt: { name: 'decide', version: 1, contentHash: hash('b') },
    model: 'offline-planner@1',
    guardrailPolicy: { name: 'guardrails', version: 1, contentHash: hash('c') },
    workflowTemplates: [],
    ...(quality === undefined ? {} : { quality }),
  };
}

function release(id: string, state: Release['state'], quality?: ReleaseContents['quality']): Release {
  return {
    id,
    tenant: 'acme',
    author: 'alice',
    contents: contents(quality),
    state,
    history: [{ state, actor: 'bob', at: id === 'r2' ? promotedAt : '2026-11-30T10:00:00.000Z' }],
  };
}

class InMemoryReleases implements Releases {
  scope: ReleaseScope;

  constructor(...releases: Release[]) {
    this.scope = {
      tenant: 'acme',
      releases: Object.fromEntries(releases.map((item) => [item.id, item])),
      productionLine: ['r1', 'r2'].filter((id) => releases.some((item) => item.id === id)),
    };
  }

  lockScope(): Promise<ReleaseScope> {
    return Promise.resolve(this.scope);
  }

  save(_manager: EntityManager, scope: ReleaseScope): Promise<void> {
    this.scope = scope;
    return Promise.resolve();
  }

  list(): Promise<Release[]> {
    return Promise.resolve(Object.values(this.scope.releases));
  }
}

/** The registry's content: decisioning's own v1 artifacts under every version number. */
const versions = {
  get(_manager: EntityManager, _tenant: string, kind: ArtifactKind) {
    const content = kind === 'agent-policy' ? currentArtifacts.agentPolicy : currentArtifacts.guardrailPolicy;
    return Promise.resolve({ kind, content } as unknown as ArtifactVersion);
  },
} as unknown as ArtifactVersions;

class InMemoryDecisions implements RecordedDecisions {
  constructor(private readonly decisions: RecordedDecision[]) {}

  newest(_manager: EntityManager, _tenant: string, query: DecisionQuery): Promise<RecordedDecision[]> {
    const time = (text: string) => Date.parse(text);
    return Promise.resolve(
      this.decisions
        .filter((item) => query.mode === undefined || item.record.mode === query.mode)
        .filter((item) => query.from === undefined || time(item.occurredAt) >= time(query.from))
        .filter((item) => query.before === undefined || time(item.occurredAt) < time(query.before))
        .sort((left, right) => right.position - left.position)
        .slice(0, query.limit),
    );
  }

  answersOn() {
    return Promise.resolve([]);
  }

  tenantsInProduction() {
    return Promise.resolve(['acme']);
  }
}

class InMemoryEvaluations implements DriftEvaluations {
  readonly added: DriftEvaluation[] = [];

  add(_manager: EntityManager, evaluation: DriftEvaluation): Promise<void> {
    this.added.push(evaluation);
    return Promise.resolve();
  }

  latest(_manager: EntityManager, _tenant: string, releaseId?: string): Promise<DriftEvaluation | undefined> {
    return Promise.resolve(
      this.added.filter((item) => releaseId === undefined || item.releaseId === releaseId).at(-1),
    );
  }
}

async function recorded(): Promise<RecordedDecision[]> {
  const before = await Promise.all(
    Array.from({ length: 12 }, (_, index) => decide(orderCreated(index, 300), currentArtifacts)),
  );
  const after = await Promise.all(
    Array.from({ length: 12 }, (_, index) => decide(orderWithoutAddress(index, 300), currentArtifacts)),
  );
  const at = (record: DecisionRecord, position: number, occurredAt: string) => ({
    position,
    occurredAt,
    record,
  });
  return [
    ...before.map((record, index) => at(record, index + 1, '2026-12-01T09:00:00.000Z')),
    ...after.map((record, index) => at(record, index + 100, '2026-12-01T11:00:00.000Z')),
  ];
}

async function monitor(releases: InMemoryReleases) {
  const transactions: Transactions = { run: (work) => work(manager) };
  const audited: CloudEvent[] = [];
  const audit = {
    record: (_manager: EntityManager, _topic: string, events: readonly CloudEvent[]) => {
      audited.push(...events);
      return Promise.resolve([]);
    },
  } as unknown as AuditService;
  const enqueued: CloudEvent[] = [];
  const outbox = {
    enqueue: (_manager: EntityManager, _topic: unknown, events: readonly CloudEvent[]) => {
      enqueued.push(...events);
      return Promise.resolve();
    },
  } as unknown as OutboxWriter;
  const now = () => new Date('2026-12-01T12:00:00.000Z');
  const releaseService = new ReleaseService({
    releases,
    versions,
    transactions,
    outbox,
    topics,
    source: 'urn:keel:governance',
    now,
  });
  const registry = new Registry();
  const evaluations = new InMemoryEvaluations();
  const drift = new DriftMonitor({
    transactions,
    releases,
    versions,
    decisions: new InMemoryDecisions(await recorded()),
    evaluations,
    releaseService,
    audit,
    metrics: createQualityMetrics(registry),
    config: governanceQualityConfigSchema.parse({ GOVERNANCE_DRIFT_MIN_DECISIONS: 10 }),
    source: 'urn:keel:governance',
    now,
  });
  return { drift, releaseService, audited, enqueued, registry };
}

describe('drift monitor', () => {
  it('rolls the release back on a breach where it says so, published and audited', async () => {
    const releases = new InMemoryReleases(
      release('r1', 'retired'),
      release('r2', 'production', { drift: { maxMixShift: 0.2, autoRollback: true } }),
    );
    const { drift, audited, enqueued, registry } = await monitor(releases);
    const evaluation = await drift.evaluate('acme');
    expect(evaluation).toMatchObject({ releaseId: 'r2', breached: true, rolledBack: true });
    expect(evaluation?.report.signals['decision-mix']).toBe(1);
    expect(
      Object.values(releases.scope.releases)
        .map((item) => `${item.id}:${item.state}`)
        .sort(),
    ).toEqual(['r1:production', 'r2:rolled-back']);
    expect(enqueued.map((event) => event.type)).toContain('keel.governance.release.rolled_back');
    expect(audited.map((event) => event.type)).toEqual([
      'keel.governance.drift.breached',
      'keel.governance.drift.rolled_back',
    ]);
    expect(await registry.getSingleMetricAsString('keel_governance_drift_breach')).toContain(
      'keel_governance_drift_breach{tenant="acme",version="agent-policy@1+guardrails@1",signal="decision-mix"} 1',
    );
  });

  it('only alerts where the release does not ask for a rollback, and audits a lasting breach once', async () => {
    const releases = new InMemoryReleases(release('r1', 'retired'), release('r2', 'production'));
    const { drift, audited } = await monitor(releases);
    expect(await drift.evaluate('acme')).toMatchObject({ breached: true, rolledBack: false });
    expect(await drift.evaluate('acme')).toMatchObject({ breached: true, rolledBack: false });
    expect(audited.map((event) => event.type)).toEqual(['keel.governance.drift.breached']);
    expect(releases.scope.releases['r2']?.state).toBe('production');
  });

  it('keeps the release, and says why, when there is nothing to roll back to', async () => {
    const releases = new InMemoryReleases(release('r2', 'production', { drift: { autoRollback: true } }));
    const { drift, audited } = await monitor(releases);
    expect(await drift.evaluate('acme')).toMatchObject({ breached: true, rolledBack: false });
    expect(audited[0]?.data).toMatchObject({
      rollbackRefused: expect.stringContaining('first in production'),
    });
  });

  it('never rolls back a release promoted since the look', async () => {
    const releases = new InMemoryReleases(release('r1', 'retired'), release('r2', 'production'));
    const { releaseService } = await monitor(releases);
    const monitorActor: Principal = { subject: 'governance-drift-monitor', tenant: 'acme', roles: ['admin'] };
    const refusal = await releaseService
      .rollBack(monitorActor, 'r1', 'drift')
      .catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(GovernanceError);
    expect((refusal as GovernanceError).code).toBe('invalid-transition');
    expect(releases.scope.releases['r2']?.state).toBe('production');
  });
});
